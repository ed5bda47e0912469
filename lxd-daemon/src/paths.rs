//! The layout of `LXD_DIR` and the log and cache directories, as LXD arranges them.

use std::path::{Path, PathBuf};

/// Directories created under `LXD_DIR` at start, with their modes.
const VAR_DIRS: &[(&str, u32)] = &[
    ("backups", 0o700),
    ("containers", 0o711),
    ("containers-snapshots", 0o700),
    ("database", 0o700),
    ("devices", 0o711),
    ("devlxd", 0o755),
    ("disks", 0o700),
    ("images", 0o700),
    ("networks", 0o711),
    ("security", 0o700),
    ("shmounts", 0o711),
    ("snapshots", 0o700),
    ("storage-pools", 0o711),
    ("virtual-machines", 0o711),
    ("virtual-machines-snapshots", 0o700),
];

/// Where the daemon keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `LXD_DIR`.
    pub var: PathBuf,
    /// Logs: `/var/log/lxd`, or `$LXD_DIR/logs` when `LXD_DIR` is set.
    pub log: PathBuf,
    /// Cache: `/var/cache/lxd`, or `$LXD_DIR/cache` when `LXD_DIR` is set.
    pub cache: PathBuf,
}

impl Paths {
    /// Paths from the environment (`LXD_DIR`).
    pub fn from_env() -> Self {
        match std::env::var_os("LXD_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => Self::under(Path::new(&dir)),
            None => Self {
                var: PathBuf::from("/var/lib/lxd"),
                log: PathBuf::from("/var/log/lxd"),
                cache: PathBuf::from("/var/cache/lxd"),
            },
        }
    }

    /// Everything under one directory (tests, and `LXD_DIR`).
    pub fn under(dir: &Path) -> Self {
        Self {
            var: dir.to_path_buf(),
            log: dir.join("logs"),
            cache: dir.join("cache"),
        }
    }

    /// The API socket.
    pub fn socket(&self) -> PathBuf {
        self.var.join("unix.socket")
    }

    /// The SQLite database file.
    pub fn database(&self) -> PathBuf {
        self.var.join("database").join("local.db")
    }

    /// Default mount point of a storage pool.
    pub fn storage_pool(&self, name: &str) -> PathBuf {
        self.var.join("storage-pools").join(name)
    }

    /// Create the tree with LXD's modes.
    pub fn create(&self) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&self.var)?;
        for (dir, mode) in VAR_DIRS {
            let p = self.var.join(dir);
            std::fs::create_dir_all(&p)?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode))?;
        }
        std::fs::create_dir_all(&self.log)?;
        std::fs::create_dir_all(&self.cache)?;
        Ok(())
    }
}
