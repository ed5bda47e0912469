//! Small filesystem helpers shared by the drivers: directory listing, disk usage walk, sparse
//! files, volume root modes. Nothing here runs external tools.

use std::collections::HashSet;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::StorageError;

/// Sorted entry names of `dir`; a missing directory has none.
pub fn list_dir(dir: &Path) -> Result<Vec<String>, StorageError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io("read", dir)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StorageError::io("read", dir))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Bytes allocated below `root` (as `du -s`): blocks of every inode counted once, symlinks not
/// followed, other filesystems not entered.
pub fn disk_usage(root: &Path) -> Result<u64, StorageError> {
    let meta = fs::symlink_metadata(root).map_err(StorageError::io("stat", root))?;
    let dev = meta.dev();
    let mut seen = HashSet::new();
    let mut total = meta.blocks() * 512;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(StorageError::io("read", &dir))?;
        for entry in entries {
            let entry = entry.map_err(StorageError::io("read", &dir))?;
            let path = entry.path();
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(StorageError::io("stat", &path)(e)),
            };
            if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            total += meta.blocks() * 512;
            if meta.is_dir() && meta.dev() == dev {
                stack.push(path);
            }
        }
    }
    Ok(total)
}

/// Create directory `path` (not its parents) with `mode`; an existing one just gets the mode.
pub fn ensure_dir(path: &Path, mode: u32) -> Result<(), StorageError> {
    match fs::create_dir(path) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(StorageError::io("create", path)(e)),
    }
    set_mode(path, mode)
}

/// Set the permission bits of `path`.
pub fn set_mode(path: &Path, mode: u32) -> Result<(), StorageError> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(StorageError::io("chmod", path))
}

/// Create (or grow/shrink) a sparse file of `size` bytes, mode 0600.
pub fn sparse_file(path: &Path, size: u64) -> Result<(), StorageError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(StorageError::io("create", path))?;
    file.set_len(size).map_err(StorageError::io("resize", path))
}

/// Remove a tree (symlinks are removed, never followed); a missing path is fine.
pub fn remove_tree(path: &Path) -> Result<(), StorageError> {
    let removed = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match removed {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::io("remove", path)(e)),
    }
}

/// Remove `dir` if it exists and is empty.
pub fn remove_dir_if_empty(dir: &Path) -> Result<(), StorageError> {
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::DirectoryNotEmpty) => Ok(()),
        Err(e) => Err(StorageError::io("remove", dir)(e)),
    }
}

/// Rename `from` to `to`, refusing to replace an existing `to`.
pub fn rename_new(from: &Path, to: &Path) -> Result<(), StorageError> {
    if fs::symlink_metadata(to).is_ok() {
        return Err(StorageError::VolumeExists(to.to_path_buf()));
    }
    fs::rename(from, to).map_err(StorageError::io("rename", from))
}

/// Fail with `VolumeExists` when `path` exists.
pub fn require_absent(path: &Path) -> Result<(), StorageError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Err(StorageError::VolumeExists(path.to_path_buf())),
        Err(_) => Ok(()),
    }
}

/// Fail with `VolumeNotFound` unless `path` exists.
pub fn require_present(path: &Path) -> Result<PathBuf, StorageError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(path.to_path_buf()),
        Err(_) => Err(StorageError::VolumeNotFound(path.to_path_buf())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_usage_hardlinks_counted_once() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("v");
        fs::create_dir(&d).unwrap();
        fs::write(d.join("a"), vec![1u8; 64 * 1024]).unwrap();
        let one = disk_usage(&d).unwrap();
        fs::hard_link(d.join("a"), d.join("b")).unwrap();
        std::os::unix::fs::symlink("/etc", d.join("l")).unwrap();
        let two = disk_usage(&d).unwrap();
        assert!(one >= 64 * 1024, "{one}");
        assert!(two < one + 8192, "{one} {two}");
    }

    #[test]
    fn list_dir_missing_empty_and_sorted() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(list_dir(&tmp.path().join("nope")).unwrap().is_empty());
        fs::create_dir(tmp.path().join("b")).unwrap();
        fs::create_dir(tmp.path().join("a")).unwrap();
        assert_eq!(list_dir(tmp.path()).unwrap(), ["a", "b"]);
    }

    #[test]
    fn rename_new_existing_target_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join("a")).unwrap();
        fs::create_dir(tmp.path().join("b")).unwrap();
        let err = rename_new(&tmp.path().join("a"), &tmp.path().join("b")).unwrap_err();
        assert!(matches!(err, StorageError::VolumeExists(_)));
        rename_new(&tmp.path().join("a"), &tmp.path().join("c")).unwrap();
        assert!(tmp.path().join("c").is_dir());
    }

    #[test]
    fn sparse_file_size_set_without_blocks() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("x.img");
        sparse_file(&f, 1 << 30).unwrap();
        let m = fs::metadata(&f).unwrap();
        assert_eq!(m.len(), 1 << 30);
        assert!(m.blocks() < 1024);
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }
}
