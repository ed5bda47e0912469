use std::os::unix::fs::{FileTypeExt, MetadataExt};

use lxd_sys::RecordingCommandRunner;

use super::*;
use crate::test_support::{tarball, unified_image, Entry, METADATA};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn options(layout: Layout) -> UnpackOptions {
    UnpackOptions {
        layout,
        preserve_owner: is_root(),
        ..UnpackOptions::default()
    }
}

/// Write `bytes` as an archive file and unpack it into a fresh (existing, empty) target.
fn unpack_bytes(
    bytes: &[u8],
    layout: Layout,
) -> (tempfile::TempDir, Result<UnpackSummary, UnpackError>) {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image");
    std::fs::write(&archive, bytes).unwrap();
    std::fs::create_dir(dir.path().join("target")).unwrap();
    let result = unpack_file(&archive, &dir.path().join("target"), &options(layout), None);
    (dir, result)
}

fn target_is_empty(dir: &tempfile::TempDir) -> bool {
    std::fs::read_dir(dir.path().join("target"))
        .unwrap()
        .next()
        .is_none()
}

#[test]
fn unpack_file_unified_image_whole_layout_extracted() {
    let (dir, result) = unpack_bytes(&unified_image("gzip"), Layout::Whole);
    let summary = result.unwrap();
    let target = dir.path().join("target");
    assert_eq!(
        std::fs::read_to_string(target.join("metadata.yaml")).unwrap(),
        METADATA
    );
    assert_eq!(
        std::fs::read(target.join("rootfs/bin/busybox")).unwrap(),
        b"\x7fELF fake"
    );
    assert_eq!(
        std::fs::read_link(target.join("rootfs/bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert_eq!(
        std::fs::read_link(target.join("rootfs/etc/mtab")).unwrap(),
        Path::new("/proc/self/mounts")
    );
    let busybox = std::fs::metadata(target.join("rootfs/bin/busybox")).unwrap();
    let ash = std::fs::metadata(target.join("rootfs/bin/ash")).unwrap();
    assert_eq!(busybox.ino(), ash.ino());
    assert_eq!(busybox.mode() & 0o7777, 0o644);
    assert_eq!(busybox.mtime(), 1_700_000_000);
    let bin = std::fs::metadata(target.join("rootfs/bin")).unwrap();
    assert_eq!((bin.mode() & 0o7777, bin.mtime()), (0o755, 1_700_000_000));
    assert!(target.join("templates/hostname.tpl").is_file());
    assert_eq!(summary.entries, 11);
}

#[test]
fn unpack_file_rootfs_layout_strips_prefix_skips_metadata() {
    let (dir, result) = unpack_bytes(&unified_image("zstd"), Layout::Rootfs);
    result.unwrap();
    let target = dir.path().join("target");
    assert!(target.join("bin/busybox").is_file());
    assert!(target.join("bin/ash").is_file());
    assert!(!target.join("metadata.yaml").exists());
    assert!(!target.join("templates").exists());
}

#[test]
fn unpack_file_every_compression_extracted() {
    for algorithm in ["none", "gzip", "xz", "bzip2", "lzma", "zstd"] {
        let (dir, result) = unpack_bytes(&unified_image(algorithm), Layout::Whole);
        result.unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        assert!(
            dir.path().join("target/rootfs/etc/hostname").is_file(),
            "{algorithm}"
        );
    }
}

#[test]
fn unpack_file_parent_dir_entry_refused_target_empty() {
    let bytes = tarball(
        &[
            Entry::File("rootfs/ok", b"x"),
            Entry::File("../escape", b"x"),
        ],
        "gzip",
    );
    let (dir, result) = unpack_bytes(&bytes, Layout::Whole);
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Refusing archive entry \"../escape\": \"..\" in its path"
    );
    assert!(target_is_empty(&dir));
    assert!(!dir.path().join("escape").exists());
}

#[test]
fn unpack_file_absolute_entry_refused_target_empty() {
    let bytes = tarball(&[Entry::Dir("rootfs/"), Entry::File("/abs", b"x")], "none");
    let (dir, result) = unpack_bytes(&bytes, Layout::Whole);
    assert_eq!(
        result.unwrap_err().to_string(),
        "Refusing archive entry \"/abs\": absolute path"
    );
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_write_through_symlink_refused_target_empty() {
    let outside = tempfile::tempdir().unwrap();
    let link_target = outside.path().to_str().unwrap().to_string();
    let bytes = tarball(
        &[
            Entry::Dir("rootfs/"),
            Entry::Symlink("rootfs/x", &link_target),
            Entry::File("rootfs/x/passwd", b"owned"),
        ],
        "xz",
    );
    let (dir, result) = unpack_bytes(&bytes, Layout::Whole);
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Refusing archive entry \"rootfs/x/passwd\": \"rootfs/x\" is a symlink or not a directory"
    );
    assert!(!outside.path().join("passwd").exists());
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_symlink_to_etc_then_write_refused() {
    let bytes = tarball(
        &[
            Entry::Symlink("rootfs/x", "/etc"),
            Entry::File("rootfs/x/passwd", b"root::0:0::/:/bin/sh\n"),
        ],
        "gzip",
    );
    let (dir, result) = unpack_bytes(&bytes, Layout::Rootfs);
    assert!(matches!(result, Err(UnpackError::ThroughSymlink { .. })));
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_hard_link_outside_refused_target_empty() {
    let bytes = tarball(
        &[
            Entry::Dir("rootfs/"),
            Entry::HardLink("rootfs/pw", "/etc/passwd"),
        ],
        "gzip",
    );
    let (dir, result) = unpack_bytes(&bytes, Layout::Whole);
    assert_eq!(
        result.unwrap_err().to_string(),
        "Refusing archive entry \"rootfs/pw\": hard link to \"/etc/passwd\" outside the archive"
    );
    assert!(target_is_empty(&dir));

    let bytes = tarball(&[Entry::HardLink("rootfs/pw", "../../etc/passwd")], "gzip");
    let (dir, result) = unpack_bytes(&bytes, Layout::Whole);
    assert!(matches!(result, Err(UnpackError::HardLinkOutside { .. })));
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_hard_link_out_of_rootfs_layout_refused() {
    let bytes = tarball(
        &[
            Entry::File("metadata.yaml", b"x"),
            Entry::HardLink("rootfs/m", "metadata.yaml"),
        ],
        "gzip",
    );
    let (dir, result) = unpack_bytes(&bytes, Layout::Rootfs);
    assert!(matches!(result, Err(UnpackError::HardLinkOutside { .. })));
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_hard_link_through_symlink_refused() {
    let bytes = tarball(
        &[
            Entry::Symlink("rootfs/etc", "/etc"),
            Entry::HardLink("rootfs/pw", "rootfs/etc/passwd"),
        ],
        "gzip",
    );
    let (dir, result) = unpack_bytes(&bytes, Layout::Whole);
    assert!(matches!(result, Err(UnpackError::ThroughSymlink { .. })));
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_device_node_refused_by_default_target_empty() {
    let bytes = tarball(
        &[
            Entry::Dir("rootfs/dev/"),
            Entry::Block("rootfs/dev/sda", 8, 0),
        ],
        "gzip",
    );
    let (dir, result) = unpack_bytes(&bytes, Layout::Whole);
    assert_eq!(
        result.unwrap_err().to_string(),
        "Refusing archive entry \"rootfs/dev/sda\": block device 8:0 is not allowed"
    );
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_standard_devices_policy_creates_null_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image");
    let target = dir.path().join("target");
    let standard = UnpackOptions {
        devices: DevicePolicy::Standard,
        ..options(Layout::Rootfs)
    };
    std::fs::write(
        &archive,
        tarball(&[Entry::Char("rootfs/dev/mem", 1, 1)], "none"),
    )
    .unwrap();
    let err = unpack_file(&archive, &target, &standard, None).unwrap_err();
    assert!(matches!(
        err,
        UnpackError::DeviceNode {
            major: 1,
            minor: 1,
            ..
        }
    ));
    assert!(
        !target.exists(),
        "a target created by the unpack is removed"
    );

    std::fs::write(
        &archive,
        tarball(&[Entry::Char("rootfs/dev/null", 1, 3)], "none"),
    )
    .unwrap();
    if is_root() {
        unpack_file(&archive, &target, &standard, None).unwrap();
        let null = std::fs::symlink_metadata(target.join("dev/null")).unwrap();
        assert!(null.file_type().is_char_device());
        assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    }

    let skip = UnpackOptions {
        devices: DevicePolicy::Skip,
        ..options(Layout::Rootfs)
    };
    let skipped = dir.path().join("skipped");
    std::fs::write(
        &archive,
        tarball(&[Entry::Block("rootfs/dev/sda", 8, 0)], "none"),
    )
    .unwrap();
    unpack_file(&archive, &skipped, &skip, None).unwrap();
    assert!(!skipped.join("dev/sda").exists());
}

#[test]
fn unpack_file_truncated_gzip_read_error_target_empty() {
    let bytes = unified_image("gzip");
    let (dir, result) = unpack_bytes(&bytes[..bytes.len() - 20], Layout::Whole);
    let err = result.unwrap_err();
    assert!(matches!(err, UnpackError::Read { .. }), "{err}");
    assert!(err
        .to_string()
        .starts_with("Failed to read the archive after entry"));
    assert!(target_is_empty(&dir));

    let (dir, result) = unpack_bytes(&bytes[..bytes.len() / 2], Layout::Whole);
    assert!(matches!(result, Err(UnpackError::Read { .. })));
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_not_an_archive_unsupported_compression() {
    let (dir, result) = unpack_bytes(b"definitely not an image", Layout::Whole);
    assert_eq!(result.unwrap_err().to_string(), "Unsupported compression");
    assert!(target_is_empty(&dir));
}

#[test]
fn unpack_file_existing_content_kept_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    std::fs::create_dir_all(target.join("keep")).unwrap();
    std::fs::write(target.join("keep/file"), b"mine").unwrap();
    let archive = dir.path().join("image");
    let bytes = tarball(
        &[
            Entry::File("keep/new", b"x"),
            Entry::File("other", b"y"),
            Entry::File("/abs", b"z"),
        ],
        "none",
    );
    std::fs::write(&archive, bytes).unwrap();
    unpack_file(&archive, &target, &options(Layout::Whole), None).unwrap_err();
    assert_eq!(std::fs::read(target.join("keep/file")).unwrap(), b"mine");
    assert!(!target.join("keep/new").exists());
    assert!(!target.join("other").exists());
}

#[test]
fn unpack_file_symlink_replaced_by_file_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, b"original").unwrap();
    let victim_name = victim.to_str().unwrap().to_string();
    let bytes = tarball(
        &[
            Entry::Symlink("f", &victim_name),
            Entry::File("f", b"replaced"),
        ],
        "none",
    );
    let (dir, result) = unpack_bytes(&bytes, Layout::Whole);
    result.unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"original");
    assert_eq!(
        std::fs::read(dir.path().join("target/f")).unwrap(),
        b"replaced"
    );
}

#[test]
fn unpack_file_progress_reported_to_total() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let big: Vec<u8> = (0..3_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    std::fs::write(
        &archive,
        tarball(&[Entry::File("rootfs/big", &big)], "gzip"),
    )
    .unwrap();
    let size = std::fs::metadata(&archive).unwrap().len();
    let mut seen = Vec::new();
    let mut record = |p: UnpackProgress| seen.push(p);
    unpack_file(
        &archive,
        &dir.path().join("t"),
        &options(Layout::Rootfs),
        Some(&mut record),
    )
    .unwrap();
    assert!(seen.len() > 2, "{seen:?}");
    let last = seen.last().unwrap();
    assert_eq!(
        (last.processed, last.total, last.percent()),
        (size, size, 100)
    );
    assert!(seen.windows(2).all(|w| w[0].processed <= w[1].processed));
}

#[test]
fn unpack_file_owner_preserved_as_root() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(1);
    header.set_mode(0o4755);
    header.set_uid(1000);
    header.set_gid(1001);
    builder
        .append_data(&mut header, "rootfs/suid", &b"x"[..])
        .unwrap();
    let (dir, result) = unpack_bytes(&builder.into_inner().unwrap(), Layout::Rootfs);
    result.unwrap();
    let meta = std::fs::metadata(dir.path().join("target/suid")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (1000, 1001, 0o4755)
    );
}

#[test]
fn unpack_squashfs_runs_unsquashfs_like_lxd() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("rootfs");
    let runner = RecordingCommandRunner::new(vec![Ok(String::new())]);
    unpack_squashfs(&runner, Path::new("/images/fp.rootfs"), &target).unwrap();
    let expected = [
        "unsquashfs",
        "-f",
        "-d",
        target.to_str().unwrap(),
        "-n",
        "/images/fp.rootfs",
    ];
    assert_eq!(runner.calls(), vec![expected.map(String::from).to_vec()]);
}

#[test]
fn unpack_squashfs_failure_removes_created_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("rootfs");
    let runner = RecordingCommandRunner::new(vec![Err((1, "FATAL ERROR".into()))]);
    let err = unpack_squashfs(&runner, Path::new("/x.squashfs"), &target).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to unpack the squashfs image /x.squashfs"
    );
    assert!(!target.exists());
}

#[test]
fn unpack_image_split_squashfs_with_real_tool() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    std::fs::create_dir_all(source.join("etc")).unwrap();
    std::fs::write(source.join("etc/hostname"), b"sq\n").unwrap();
    let squashfs = dir.path().join("rootfs.squashfs");
    let made = std::process::Command::new("mksquashfs")
        .arg(&source)
        .arg(&squashfs)
        .args(["-noappend", "-quiet"])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mksquashfs is not available");
        return;
    }
    let meta = dir.path().join("meta.tar.xz");
    std::fs::write(
        &meta,
        tarball(
            &[
                Entry::File("metadata.yaml", METADATA.as_bytes()),
                Entry::File("templates/hostname.tpl", b"x"),
            ],
            "xz",
        ),
    )
    .unwrap();
    let volume = dir.path().join("volume");
    let image = ImageFiles {
        metadata: meta,
        rootfs: Some(squashfs),
    };
    unpack_image(
        &lxd_sys::RealCommandRunner,
        &image,
        &volume,
        &options(Layout::Whole),
        None,
    )
    .unwrap();
    assert_eq!(
        std::fs::read(volume.join("rootfs/etc/hostname")).unwrap(),
        b"sq\n"
    );
    assert!(volume.join("metadata.yaml").is_file());
    assert!(volume.join("templates/hostname.tpl").is_file());
}

#[test]
fn unpack_image_split_bad_rootfs_removes_metadata_part() {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("meta.tar");
    std::fs::write(
        &meta,
        tarball(&[Entry::File("metadata.yaml", METADATA.as_bytes())], "none"),
    )
    .unwrap();
    let rootfs = dir.path().join("rootfs.tar.gz");
    std::fs::write(&rootfs, tarball(&[Entry::File("../x", b"x")], "gzip")).unwrap();
    let volume = dir.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    let image = ImageFiles {
        metadata: meta,
        rootfs: Some(rootfs),
    };
    let runner = RecordingCommandRunner::default();
    let err = unpack_image(&runner, &image, &volume, &options(Layout::Whole), None).unwrap_err();
    assert!(matches!(err, UnpackError::ParentDir { .. }));
    assert!(std::fs::read_dir(&volume).unwrap().next().is_none());
}

#[test]
fn unpack_image_missing_metadata_yaml_refused_target_empty() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar.gz");
    std::fs::write(
        &archive,
        tarball(
            &[Entry::Dir("rootfs/"), Entry::File("rootfs/a", b"a")],
            "gzip",
        ),
    )
    .unwrap();
    let volume = dir.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    let image = ImageFiles {
        metadata: archive,
        rootfs: None,
    };
    let runner = RecordingCommandRunner::default();
    let err = unpack_image(&runner, &image, &volume, &options(Layout::Whole), None).unwrap_err();
    assert_eq!(err.to_string(), "Metadata tarball is missing metadata.yaml");
    assert!(std::fs::read_dir(&volume).unwrap().next().is_none());
}

#[test]
fn unpack_reader_mutated_archives_never_escape_or_leave_partial_state() {
    let outside = tempfile::tempdir().unwrap();
    let original = unified_image("none");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..300 {
        let mut bytes = original.clone();
        for _ in 0..1 + round % 8 {
            let at = usize::try_from(next() % bytes.len() as u64).unwrap();
            bytes[at] = (next() & 0xff) as u8;
        }
        let target = outside.path().join(format!("t{round}"));
        let options = UnpackOptions {
            preserve_owner: false,
            ..UnpackOptions::default()
        };
        let result = unpack_reader(
            Compression::None,
            bytes.as_slice(),
            bytes.len() as u64,
            &target,
            &options,
            None,
        );
        if result.is_err() {
            assert!(!target.exists(), "round {round}: {result:?}");
        }
    }
    let names: Vec<_> = std::fs::read_dir(outside.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        names.iter().all(|n| n.to_string_lossy().starts_with('t')),
        "{names:?}"
    );
}
