//! System tier (root): the files API's executor on a stopped container's rootfs (a temp
//! directory): write/read/append, owner and mode only on creation, mkdir, symlinks, listing,
//! deletion, and symlinks or `..` that would reach the host landing inside the rootfs or
//! being refused. Runs without the test harness because the executor forks.

use std::io::{Read, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use lxd_runtime::container::files::{
    self, FileError, FileJob, FileKind, FileOp, FileRequest, FileResponse, FileTarget, PutSpec,
};

type Outcome = (Result<FileResponse, FileError>, Vec<u8>);

/// Run one request against `rootfs` with `input` as the content; return the result and what
/// was written to the output.
fn call(rootfs: &Path, path: &str, op: FileOp, input: &[u8]) -> Outcome {
    let mut input_file = tempfile::tempfile().unwrap();
    input_file.write_all(input).unwrap();
    input_file.rewind().unwrap();
    let mut output = tempfile::tempfile().unwrap();
    let job = FileJob {
        target: FileTarget::Stopped {
            rootfs: rootfs.to_path_buf(),
        },
        request: FileRequest {
            path: path.into(),
            op,
        },
    };
    let result = files::run(&job, input_file.as_fd(), output.as_fd());
    output.rewind().unwrap();
    let mut bytes = Vec::new();
    output.read_to_end(&mut bytes).unwrap();
    (result, bytes)
}

fn put(kind: FileKind, uid: Option<u32>, mode: Option<u32>, append: bool) -> FileOp {
    FileOp::Put(PutSpec {
        uid,
        gid: uid.map(|u| u + 1),
        mode,
        kind,
        append,
    })
}

fn check(cond: bool, what: &str) {
    if !cond {
        panic!("FAILED: {what}");
    }
    println!("ok: {what}");
}

fn on_disk(path: &Path) -> (u32, u32, u32) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    (meta.uid(), meta.gid(), meta.mode() & 0o777)
}

fn files_roundtrip(root: &Path) {
    let file = FileKind::File;
    let (r, _) = call(
        root,
        "/root/hello",
        put(file, Some(1000), Some(0o600), false),
        b"hi",
    );
    let r = r.unwrap();
    check(r.kind == file && r.size == 2, "write creates the file");
    check(
        on_disk(&root.join("root/hello")) == (1000, 1001, 0o600),
        "owner and mode applied on creation, ids unshifted on disk",
    );
    let (r, out) = call(root, "/root/hello", FileOp::Get, b"");
    let r = r.unwrap();
    check(
        out == b"hi" && (r.uid, r.gid, r.mode) == (1000, 1001, 0o600),
        "read back",
    );
    let (r, _) = call(
        root,
        "/root/hello",
        put(file, Some(5), Some(0o644), false),
        b"bye",
    );
    check(r.is_ok(), "overwrite");
    check(
        std::fs::read(root.join("root/hello")).unwrap() == b"bye"
            && on_disk(&root.join("root/hello")) == (1000, 1001, 0o600),
        "overwrite truncates and keeps owner and mode",
    );
    let (r, _) = call(root, "/root/hello", put(file, None, None, true), b"!");
    check(r.unwrap().size == 4, "append");
    check(
        std::fs::read(root.join("root/hello")).unwrap() == b"bye!",
        "append keeps content",
    );
    let (r, _) = call(root, "/root/new", put(file, None, None, true), b"x");
    check(
        matches!(r, Err(FileError::NotFound(_))),
        "append never creates (LXD)",
    );
    let (r, _) = call(root, "/root/plain", put(file, None, None, false), b"");
    check(
        r.unwrap().mode == 0o644,
        "files default to 0644 whatever the umask",
    );
    let (r, _) = call(root, "/nope/x", put(file, None, None, false), b"");
    check(
        matches!(r, Err(FileError::NotFound(_))),
        "missing parent is not found",
    );
    let (r, _) = call(root, "/root", put(file, None, None, false), b"");
    check(
        matches!(r, Err(FileError::Io { .. })),
        "writing a directory fails",
    );
}

fn dirs_links_and_delete(root: &Path) {
    let dir = FileKind::Directory;
    let (r, _) = call(root, "/root/d", put(dir, None, None, false), b"");
    check(r.unwrap().mode == 0o750, "mkdir defaults to 0750");
    let (r, _) = call(root, "/root/d", put(dir, Some(7), Some(0o700), false), b"");
    check(
        r.unwrap().mode == 0o750,
        "mkdir on an existing directory is a no-op",
    );
    check(
        on_disk(&root.join("root/d")) == (0, 0, 0o750),
        "directory untouched",
    );
    let (r, _) = call(root, "/root/o", put(dir, Some(7), Some(0o711), false), b"");
    check(
        r.is_ok() && on_disk(&root.join("root/o")) == (7, 8, 0o711),
        "mkdir owner",
    );
    let link = FileKind::Symlink;
    let (r, _) = call(root, "/root/l", put(link, None, None, false), b"hello");
    check(
        r.unwrap().target.as_deref() == Some("hello"),
        "symlink created",
    );
    let (r, _) = call(root, "/root/l", put(link, None, None, false), b"hello");
    check(r.is_ok(), "same symlink again is a no-op");
    let (r, _) = call(root, "/root/l", put(link, None, None, false), b"other");
    check(
        matches!(r, Err(FileError::Io { .. })),
        "a different target is refused",
    );
    let (r, out) = call(root, "/root/l", FileOp::Get, b"");
    check(
        r.unwrap().kind == link && out == b"hello",
        "get returns a link's target",
    );
    let (r, _) = call(
        root,
        "/root/l",
        put(FileKind::File, None, None, false),
        b"via",
    );
    check(
        r.is_ok() && std::fs::read(root.join("root/hello")).unwrap() == b"via",
        "writing a file follows a final link inside the root, as LXD",
    );
    nix::unistd::mkfifo(
        &root.join("root/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let (r, _) = call(root, "/root/fifo", FileOp::Get, b"");
    check(
        matches!(r, Err(FileError::Io { .. })),
        "a FIFO is not read (no hang)",
    );
    let (r, _) = call(
        root,
        "/root/fifo",
        put(FileKind::File, None, None, false),
        b"x",
    );
    check(
        matches!(r, Err(FileError::Io { .. })),
        "a FIFO is not written (no hang)",
    );
    std::fs::remove_file(root.join("root/fifo")).unwrap();
    let (r, _) = call(root, "/root", FileOp::Get, b"");
    let mut names = r.unwrap().entries;
    names.sort();
    check(
        names == ["d", "hello", "l", "o", "plain"],
        "directory listing",
    );
    let (r, _) = call(root, "/root", FileOp::Stat, b"");
    let r = r.unwrap();
    check(r.kind == dir && r.entries.is_empty(), "stat a directory");
    let (r, _) = call(root, "/root/nope", FileOp::Get, b"");
    check(
        matches!(r, Err(FileError::NotFound(_))),
        "missing path is not found",
    );
    let (r, _) = call(root, "etc/passwd", FileOp::Get, b"");
    check(r == Err(FileError::NotAbsolute), "relative path refused");
    check(
        r.unwrap_err().to_string() == "Path isn't absolute",
        "LXD's text",
    );
    for path in ["/root/l", "/root/hello", "/root/d"] {
        let (r, _) = call(root, path, FileOp::Delete, b"");
        check(
            r.is_ok() && !root.join(&path[1..]).exists(),
            &format!("delete {path}"),
        );
    }
    let (r, _) = call(root, "/root", FileOp::Delete, b"");
    check(
        matches!(r, Err(FileError::Io { .. })),
        "non-empty directory not deleted",
    );
    let (r, _) = call(root, "/root/d", FileOp::Delete, b"");
    check(
        matches!(r, Err(FileError::NotFound(_))),
        "deleting a missing path",
    );
}

fn host_stays_out_of_reach(tmp: &Path, root: &Path) {
    let unique = format!("lxd-files-escape-{}", std::process::id());
    std::os::unix::fs::symlink("/", root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../..", root.join("a/b/up")).unwrap();
    let file = FileKind::File;
    let (r, _) = call(
        root,
        &format!("/etc/{unique}"),
        put(file, None, None, false),
        b"1",
    );
    check(
        r.is_ok() && root.join(&unique).exists() && !Path::new("/").join(&unique).exists(),
        "writing through a symlink to / lands in the rootfs",
    );
    let (r, _) = call(
        root,
        &format!("/etc/{unique}.d"),
        put(FileKind::Directory, None, None, false),
        b"",
    );
    check(
        r.is_ok() && root.join(format!("{unique}.d")).is_dir(),
        "mkdir through a symlink to / lands in the rootfs",
    );
    let (r, _) = call(
        root,
        &format!("/a/b/up/{unique}.2"),
        put(file, None, None, false),
        b"2",
    );
    check(
        r.is_ok() && root.join(format!("{unique}.2")).exists(),
        "a relative symlink climbing out stops at the rootfs",
    );
    for path in ["/../../tmp/x", "/a/../../x", "/a/b/../../../etc/passwd"] {
        let (r, _) = call(root, path, FileOp::Get, b"");
        check(
            matches!(r, Err(FileError::Escapes(_))),
            &format!("{path} refused"),
        );
    }
    // A host file outside the rootfs, reachable from the host through absolute links.
    std::fs::write(tmp.join("secret"), "host").unwrap();
    std::os::unix::fs::symlink(tmp, root.join("tmplink")).unwrap();
    std::os::unix::fs::symlink(tmp.join("secret"), root.join("victim")).unwrap();
    let (r, _) = call(root, "/tmplink/secret", FileOp::Get, b"");
    check(
        matches!(r, Err(FileError::NotFound(_))),
        "no host file read through a link",
    );
    let (r, _) = call(root, "/tmplink/secret", put(file, None, None, false), b"x");
    check(
        matches!(r, Err(FileError::NotFound(_)))
            && std::fs::read(tmp.join("secret")).unwrap() == b"host",
        "no host file written through a link",
    );
    let (r, _) = call(root, "/victim", FileOp::Delete, b"");
    check(
        r.is_ok() && !root.join("victim").exists() && tmp.join("secret").exists(),
        "delete removes the link, not its target",
    );
    let (r, out) = call(root, "/etc", FileOp::Get, b"");
    check(
        r.unwrap().kind == FileKind::Symlink && out == b"/",
        "get does not follow a final link",
    );
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: chroot needs root");
        return;
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(root.join("root")).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    files_roundtrip(&root);
    dirs_links_and_delete(&root);
    host_stays_out_of_reach(tmp.path(), &root);
    println!("1 passed, 0 failed");
}
