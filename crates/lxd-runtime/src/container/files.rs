//! Files inside a container (LXD's `forkfile`): read, write (create, truncate or append),
//! mkdir, symlink, list, stat and delete one path, from a single-threaded helper process.
//!
//! [`run`] forks; the child enters the container and works there, so every path (`..` and
//! absolute symlinks included) resolves inside the container's tree:
//! - running container: the child joins init's user and mount namespaces (the container's
//!   root is then `/`) and takes the container's root identity (uid/gid 0 inside);
//! - stopped container: the child, still host root, chroots into the rootfs directory.
//!
//! Ids are the container's in both cases and are never shifted: the runtime hands an
//! unprivileged container its rootfs through an idmapped mount (or a plain bind mount where
//! the kernel can't), so the ids stored on disk *are* the container's ids, and uid 0 on disk
//! is the container's root seen from inside or from the host. `IdmapSet` is not needed here.
//!
//! Content travels through file descriptors (the helper's stdin and stdout): `input` holds
//! the bytes to write or a symlink's target; `output` receives a file's bytes or a symlink's
//! target. Lexically climbing above `/` is refused; delete and symlink creation never follow
//! a symlink in the last component. Must not: touch daemon state or shift ids.

use std::fs::File;
use std::io::Read;
use std::os::fd::BorrowedFd;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use nix::unistd::{setgroups, setresgid, setresuid, ForkResult, Gid, Uid};
use serde::{Deserialize, Serialize};

mod ops;

use ops::{execute, io};

/// What a path is, as LXD's `X-LXD-type` names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    #[default]
    File,
    Directory,
    Symlink,
}

/// How to write a path. Owner and mode apply only when the entry is created; `None` leaves
/// the creator's (the container's root) and mode 0644 for files, 0750 for directories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PutSpec {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub mode: Option<u32>,
    pub kind: FileKind,
    /// Append to an existing file (as LXD, appending never creates) instead of truncating.
    pub append: bool,
}

/// One operation on one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum FileOp {
    /// A file's bytes, a directory's entries or a symlink's target (the link is not followed).
    Get,
    /// Type, owner and mode only (HEAD).
    Stat,
    Put(PutSpec),
    /// A file, symlink or empty directory.
    Delete,
}

/// A request: an absolute path inside the container and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRequest {
    pub path: String,
    pub op: FileOp,
}

/// Where the container's tree is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileTarget {
    Running { init_pid: i32 },
    Stopped { rootfs: PathBuf },
}

/// Everything the helper (`lxd forkfile SPEC`) needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileJob {
    pub target: FileTarget,
    pub request: FileRequest,
}

/// The path as it was found (before deletion, after a write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileResponse {
    pub kind: FileKind,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits only, as LXD reports them.
    pub mode: u32,
    pub size: u64,
    /// Last modification, seconds since the epoch.
    pub modified: i64,
    /// Names in a directory (for `Get`), in directory order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<String>,
    /// A symlink's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Why a file operation failed; serialisable so the helper can report it to the daemon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum FileError {
    #[error("Path isn't absolute")]
    NotAbsolute,
    #[error("Path {0:?} leads outside the container")]
    Escapes(String),
    #[error("Path {0:?} contains a NUL byte")]
    Nul(String),
    /// LXD's 404 text; the field is the path.
    #[error("Not Found")]
    NotFound(String),
    #[error("Failed to {action} {path}: {}", Errno::from_raw(*errno).desc())]
    Io {
        action: String,
        path: String,
        errno: i32,
    },
    #[error("Failed to enter the container: {0}")]
    Enter(String),
    #[error("File helper failed: {0}")]
    Helper(String),
}

/// Check that `path` is absolute, has no NUL and never climbs above `/` lexically.
pub fn check_path(path: &str) -> Result<PathBuf, FileError> {
    if !path.starts_with('/') {
        return Err(FileError::NotAbsolute);
    }
    if path.contains('\0') {
        return Err(FileError::Nul(path.into()));
    }
    let mut depth = 0usize;
    for part in Path::new(path).components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| FileError::Escapes(path.into()))?;
            }
            Component::RootDir | Component::CurDir => {}
            Component::Prefix(_) => return Err(FileError::Escapes(path.into())),
        }
    }
    Ok(PathBuf::from(path))
}

/// Run `job` from a single-threaded process: fork, enter the container in the child, do the
/// work there (reading `input`, writing `output`) and report back.
pub fn run(
    job: &FileJob,
    input: BorrowedFd<'_>,
    output: BorrowedFd<'_>,
) -> Result<FileResponse, FileError> {
    let path = check_path(&job.request.path)?;
    let helper = |e: &dyn std::fmt::Display| FileError::Helper(e.to_string());
    let single = lxd_sys::spawn::SingleThreaded::check().map_err(|e| helper(&e))?;
    let (reader, writer) = nix::unistd::pipe().map_err(|e| helper(&e))?;
    match lxd_sys::spawn::fork_checked(&single).map_err(|e| helper(&e))? {
        ForkResult::Child => {
            drop(reader);
            let result = enter(&job.target).and_then(|()| {
                let input = File::from(input.try_clone_to_owned().map_err(io("use", &path))?);
                let output = File::from(output.try_clone_to_owned().map_err(io("use", &path))?);
                execute(&job.request.op, &path, input, output)
            });
            let sent = serde_json::to_writer(File::from(writer), &result).is_ok();
            std::process::exit(if sent { 0 } else { 1 });
        }
        ForkResult::Parent { child } => {
            drop(writer);
            let mut report = String::new();
            let read = File::from(reader).read_to_string(&mut report);
            let status = loop {
                match nix::sys::wait::waitpid(child, None) {
                    Err(Errno::EINTR) => continue,
                    other => break other,
                }
            };
            match serde_json::from_str::<Result<FileResponse, FileError>>(&report) {
                Ok(result) if read.is_ok() => result,
                _ => Err(FileError::Helper(format!("no report ({status:?})"))),
            }
        }
    }
}

fn enter(target: &FileTarget) -> Result<(), FileError> {
    let fail = |what: String| move |e: nix::Error| FileError::Enter(format!("{what}: {e}"));
    match target {
        FileTarget::Stopped { rootfs } => {
            nix::unistd::chroot(rootfs).map_err(fail(format!("chroot {}", rootfs.display())))?;
            nix::unistd::chdir("/").map_err(fail("chdir /".into()))
        }
        FileTarget::Running { init_pid } => {
            let mut joins = Vec::new();
            for (name, flag) in [
                ("user", CloneFlags::CLONE_NEWUSER),
                ("mnt", CloneFlags::CLONE_NEWNS),
            ] {
                let ns = format!("/proc/{init_pid}/ns/{name}");
                let theirs = std::fs::read_link(&ns)
                    .map_err(|e| FileError::Enter(format!("read {ns}: {e}")))?;
                if std::fs::read_link(format!("/proc/self/ns/{name}")).ok() != Some(theirs) {
                    let file =
                        File::open(&ns).map_err(|e| FileError::Enter(format!("open {ns}: {e}")))?;
                    joins.push((ns, file, flag));
                }
            }
            // Container processes cannot see this one (its pid namespace is the host's),
            // and it must not be ptraced or dumped once it belongs to the container's root.
            nix::sys::prctl::set_dumpable(false).map_err(fail("set not dumpable".into()))?;
            for (ns, file, flag) in &joins {
                setns(file, *flag).map_err(fail(format!("join {ns}")))?;
            }
            let (root_uid, root_gid) = (Uid::from_raw(0), Gid::from_raw(0));
            setgroups(&[]).map_err(fail("clear groups".into()))?;
            setresgid(root_gid, root_gid, root_gid).map_err(fail("become gid 0".into()))?;
            setresuid(root_uid, root_uid, root_uid).map_err(fail("become uid 0".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_path_relative_or_climbing_refused() {
        assert_eq!(check_path("etc/x"), Err(FileError::NotAbsolute));
        assert_eq!(check_path(""), Err(FileError::NotAbsolute));
        assert!(matches!(check_path("/.."), Err(FileError::Escapes(_))));
        assert!(matches!(
            check_path("/a/../../etc"),
            Err(FileError::Escapes(_))
        ));
        assert!(matches!(check_path("/a\0b"), Err(FileError::Nul(_))));
        assert_eq!(
            check_path("/a/b/../c/./d"),
            Ok(PathBuf::from("/a/b/../c/./d"))
        );
    }

    #[test]
    fn file_job_json_round_trips() {
        let text = r#"{"target":{"stopped":{"rootfs":"/r"}},
            "request":{"path":"/x","op":{"op":"put","uid":5,"kind":"directory"}}}"#;
        let job: FileJob = serde_json::from_str(text).unwrap();
        let put = PutSpec {
            uid: Some(5),
            kind: FileKind::Directory,
            ..PutSpec::default()
        };
        assert_eq!(job.request.op, FileOp::Put(put));
        let again = serde_json::to_string(&job).unwrap();
        assert_eq!(serde_json::from_str::<FileJob>(&again).unwrap(), job);
        let err = FileError::Io {
            action: "delete".into(),
            path: "/d".into(),
            errno: 39,
        };
        assert_eq!(err.to_string(), "Failed to delete /d: Directory not empty");
    }
}
