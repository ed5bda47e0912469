//! Subvolume primitives of the btrfs driver: create, snapshot (with nested subvolumes, as LXD
//! recurses), delete, read-only flag.
//!
//! The common case costs one `btrfs subvolume list -o` to learn that a subvolume has no nested
//! subvolumes; only then is the tree walked to find where they are.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{arg, BtrfsDriver};
use crate::error::StorageError;

/// Inode number of every subvolume's root directory (`BTRFS_FIRST_FREE_OBJECTID`).
const SUBVOLUME_INODE: u64 = 256;

impl BtrfsDriver {
    /// Whether `path` is the root of a subvolume.
    pub(super) fn is_subvolume(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir() && m.ino() == SUBVOLUME_INODE)
    }

    /// Subvolumes nested anywhere below subvolume `path`, as paths relative to it, sorted
    /// (parents before children).
    pub(super) fn nested_subvolumes(&self, path: &Path) -> Result<Vec<PathBuf>, StorageError> {
        let out = self.run(
            "list subvolumes of",
            path,
            &["btrfs", "subvolume", "list", "-o", &arg(path)],
        )?;
        if out.trim().is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(StorageError::io("read", &dir))?;
            for entry in entries {
                let entry = entry.map_err(StorageError::io("read", &dir))?;
                let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                    continue;
                };
                if !meta.is_dir() {
                    continue;
                }
                if meta.ino() == SUBVOLUME_INODE {
                    if let Ok(rel) = entry.path().strip_prefix(path) {
                        found.push(rel.to_path_buf());
                    }
                }
                stack.push(entry.path());
            }
        }
        found.sort();
        Ok(found)
    }

    pub(super) fn create_subvolume(&self, path: &Path) -> Result<(), StorageError> {
        self.run(
            "create subvolume",
            path,
            &["btrfs", "subvolume", "create", &arg(path)],
        )?;
        Ok(())
    }

    /// Snapshot `src` (and its nested subvolumes) to `dst`; read-only when `readonly`.
    pub(super) fn snapshot_subvolume(
        &self,
        src: &Path,
        dst: &Path,
        readonly: bool,
    ) -> Result<(), StorageError> {
        let nested = self.nested_subvolumes(src)?;
        let (s, d) = (arg(src), arg(dst));
        if nested.is_empty() {
            let mut args = vec!["btrfs", "subvolume", "snapshot"];
            if readonly {
                args.push("-r");
            }
            args.extend([s.as_str(), d.as_str()]);
            self.run("snapshot", src, &args)?;
            return Ok(());
        }
        self.run("snapshot", src, &["btrfs", "subvolume", "snapshot", &s, &d])?;
        let result = (|| {
            for rel in &nested {
                let target = dst.join(rel);
                // The snapshot holds an empty directory where the nested subvolume was.
                let _ = std::fs::remove_dir(&target);
                let from = src.join(rel);
                let mut args = vec!["btrfs", "subvolume", "snapshot"];
                let (f, t) = (arg(&from), arg(&target));
                if readonly || self.is_readonly(&from)? {
                    args.push("-r");
                }
                args.extend([f.as_str(), t.as_str()]);
                self.run("snapshot", &from, &args)?;
            }
            if readonly {
                self.set_readonly(dst, true)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = self.delete_subvolume(dst);
            return Err(e);
        }
        Ok(())
    }

    pub(super) fn is_readonly(&self, path: &Path) -> Result<bool, StorageError> {
        let out = self.run(
            "read properties of",
            path,
            &["btrfs", "property", "get", "-ts", &arg(path), "ro"],
        )?;
        Ok(out.trim() == "ro=true")
    }

    pub(super) fn set_readonly(&self, path: &Path, readonly: bool) -> Result<(), StorageError> {
        let value = if readonly { "true" } else { "false" };
        let p = arg(path);
        let mut args = vec!["btrfs", "property", "set"];
        if !readonly {
            args.push("-f");
        }
        args.extend(["-ts", p.as_str(), "ro", value]);
        self.run("set read-only flag of", path, &args)?;
        Ok(())
    }

    /// Delete subvolume `path` with every subvolume nested in it.
    pub(super) fn delete_subvolume(&self, path: &Path) -> Result<(), StorageError> {
        let p = arg(path);
        if self
            .run(
                "delete subvolume",
                path,
                &["btrfs", "subvolume", "delete", &p],
            )
            .is_ok()
        {
            return Ok(());
        }
        // Nested subvolumes (possibly read-only) keep it busy: remove the deepest first.
        self.set_readonly(path, false)?;
        let nested = self.nested_subvolumes(path)?;
        for rel in &nested {
            self.set_readonly(&path.join(rel), false)?;
        }
        for rel in nested.iter().rev() {
            let n = path.join(rel);
            self.run(
                "delete subvolume",
                &n,
                &["btrfs", "subvolume", "delete", &arg(&n)],
            )?;
        }
        self.run(
            "delete subvolume",
            path,
            &["btrfs", "subvolume", "delete", &p],
        )?;
        Ok(())
    }

    /// Remove `path` whatever it is: a subvolume, a directory of subvolumes (a snapshots
    /// directory) or plain files.
    pub(super) fn delete_subvolume_tree(&self, path: &Path) -> Result<(), StorageError> {
        if self.is_subvolume(path) {
            return self.delete_subvolume(path);
        }
        let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
        if is_dir {
            for entry in crate::fsutil::list_dir(path)? {
                self.delete_subvolume_tree(&path.join(entry))?;
            }
        }
        crate::fsutil::remove_tree(path)
    }
}
