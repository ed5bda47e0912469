//! Test helper: builds fake `/proc`, `/sys` and `/dev` trees (files and symlinks) below a root.

use std::path::{Path, PathBuf};

pub(crate) struct FakeHost {
    root: PathBuf,
}

impl FakeHost {
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Write `text` at `relative`, creating parent directories.
    pub(crate) fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Create the directory `relative` and its parents.
    pub(crate) fn dir(&self, relative: &str) {
        std::fs::create_dir_all(self.path(relative)).unwrap();
    }

    /// Create a symlink at `relative` pointing at `target` (taken literally, may be relative).
    pub(crate) fn link(&self, relative: &str, target: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }
}
