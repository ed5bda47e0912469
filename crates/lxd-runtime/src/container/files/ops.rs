//! The operations themselves, run inside the container's root by the forked child of
//! [`super::run`]: stat, read, write, mkdir, symlink, list and delete one path. Must not:
//! enter or leave namespaces, or follow a symlink in the last component except where LXD
//! does (writing a file's content).

use std::ffi::OsString;
use std::fs::{File, OpenOptions, Permissions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::errno::Errno;

use super::{FileError, FileKind, FileOp, FileResponse, PutSpec};

/// Opening flags for content: a FIFO or device met by mistake must not hang the helper or
/// become its controlling terminal (regular files are unaffected). Writes follow a final
/// symlink as LXD's do (inside the container's root); reads are of regular files only.
const NOT_BLOCKING: i32 = nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY;

pub(super) fn io<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> FileError + 'a {
    move |e| match e.raw_os_error() {
        Some(errno) if errno == Errno::ENOENT as i32 => {
            FileError::NotFound(path.display().to_string())
        }
        errno => FileError::Io {
            action: action.into(),
            path: path.display().to_string(),
            errno: errno.unwrap_or(Errno::EIO as i32),
        },
    }
}

pub(super) fn invalid(action: &'static str, path: &Path) -> FileError {
    io(action, path)(std::io::Error::from_raw_os_error(Errno::EINVAL as i32))
}

pub(super) fn execute(
    op: &FileOp,
    path: &Path,
    input: File,
    mut output: File,
) -> Result<FileResponse, FileError> {
    match op {
        FileOp::Stat => describe(path),
        FileOp::Get => {
            let mut found = describe(path)?;
            match (found.kind, &found.target) {
                (FileKind::Directory, _) => {
                    for entry in std::fs::read_dir(path).map_err(io("list", path))? {
                        let entry = entry.map_err(io("list", path))?;
                        found
                            .entries
                            .push(entry.file_name().to_string_lossy().into_owned());
                    }
                }
                (FileKind::Symlink, Some(target)) => {
                    output
                        .write_all(target.as_bytes())
                        .map_err(io("send", path))?;
                }
                _ => {
                    let mut file = OpenOptions::new()
                        .read(true)
                        .custom_flags(NOT_BLOCKING | nix::libc::O_NOFOLLOW)
                        .open(path)
                        .map_err(io("open", path))?;
                    if !file.metadata().map_err(io("read", path))?.is_file() {
                        return Err(invalid("read the non-regular file", path));
                    }
                    std::io::copy(&mut file, &mut output).map_err(io("read", path))?;
                }
            }
            Ok(found)
        }
        FileOp::Put(put) => {
            match put.kind {
                FileKind::File => put_file(path, put, input)?,
                FileKind::Directory => put_directory(path, put)?,
                FileKind::Symlink => put_symlink(path, put, input)?,
            }
            describe(path)
        }
        FileOp::Delete => {
            let found = describe(path)?;
            match found.kind {
                FileKind::Directory => std::fs::remove_dir(path),
                _ => std::fs::remove_file(path),
            }
            .map_err(io("delete", path))?;
            Ok(found)
        }
    }
}

/// Owner, then mode (a chown clears set-id bits), on a path just created.
fn set_owner_mode(path: &Path, put: &PutSpec, mode: u32) -> Result<(), FileError> {
    std::os::unix::fs::lchown(path, put.uid, put.gid).map_err(io("change the owner of", path))?;
    std::fs::set_permissions(path, Permissions::from_mode(mode & 0o777))
        .map_err(io("change the mode of", path))
}

fn put_file(path: &Path, put: &PutSpec, mut input: File) -> Result<(), FileError> {
    let existed = std::fs::symlink_metadata(path).is_ok();
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600).custom_flags(NOT_BLOCKING);
    if put.append {
        options.append(true);
    } else {
        options.create(true).truncate(true);
    }
    let mut file = options.open(path).map_err(io("open", path))?;
    // Never write into a device or FIFO, even one the container's root may have put there.
    if !file.metadata().map_err(io("write", path))?.is_file() {
        return Err(invalid("write the non-regular file", path));
    }
    if !existed {
        set_owner_mode(path, put, put.mode.unwrap_or(0o644))?;
    }
    std::io::copy(&mut input, &mut file).map_err(io("write", path))?;
    Ok(())
}

fn put_directory(path: &Path, put: &PutSpec) -> Result<(), FileError> {
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(io("create the directory", path))?;
    set_owner_mode(path, put, put.mode.unwrap_or(0o750))
}

fn put_symlink(path: &Path, put: &PutSpec, input: File) -> Result<(), FileError> {
    let mut target = Vec::new();
    input
        .take(4097)
        .read_to_end(&mut target)
        .map_err(io("read the target of", path))?;
    if target.is_empty() || target.len() > 4096 {
        return Err(invalid("create the symlink", path));
    }
    let target = OsString::from_vec(target);
    if std::fs::read_link(path).is_ok_and(|t| t.as_os_str() == target) {
        return Ok(());
    }
    std::os::unix::fs::symlink(&target, path).map_err(io("create the symlink", path))?;
    std::os::unix::fs::lchown(path, put.uid, put.gid).map_err(io("change the owner of", path))
}

fn describe(path: &Path) -> Result<FileResponse, FileError> {
    let meta = std::fs::symlink_metadata(path).map_err(io("look up", path))?;
    let (kind, target) = if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).map_err(io("read the link", path))?;
        (
            FileKind::Symlink,
            Some(target.to_string_lossy().into_owned()),
        )
    } else if meta.is_dir() {
        (FileKind::Directory, None)
    } else {
        (FileKind::File, None)
    };
    Ok(FileResponse {
        kind,
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode() & 0o777,
        size: meta.size(),
        modified: meta.mtime(),
        entries: Vec::new(),
        target,
    })
}
