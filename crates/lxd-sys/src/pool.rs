//! Space and inode usage of a storage pool's mount point (`GET /1.0/storage-pools/<name>/resources`
//! for filesystem-backed drivers such as `dir` and `btrfs`).
//!
//! Computed as LXD's `genericVFSGetResources` does, from `statfs(2)`: space is
//! `blocks * f_bsize` (used: `(blocks - bfree) * f_bsize`), inodes are reported only when the
//! filesystem has a fixed inode table (`f_files > 0`; btrfs allocates them dynamically).

use std::path::{Path, PathBuf};

use lxd_api::resources::{
    StoragePoolResources, StoragePoolResourcesInodes, StoragePoolResourcesSpace,
};

/// Why a pool's usage could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("Failed to get filesystem usage of {path:?}")]
    Statfs {
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
}

/// Usage of the filesystem holding `path`.
pub fn pool_resources(path: &Path) -> Result<StoragePoolResources, PoolError> {
    let st = nix::sys::statfs::statfs(path).map_err(|source| PoolError::Statfs {
        path: path.to_path_buf(),
        source,
    })?;
    #[allow(clippy::unnecessary_cast)] // field widths differ between targets
    let (block_size, blocks, free, files, files_free) = (
        st.block_size() as u64,
        st.blocks() as u64,
        st.blocks_free() as u64,
        st.files() as u64,
        st.files_free() as u64,
    );
    Ok(usage_from(block_size, blocks, free, files, files_free))
}

fn usage_from(
    block_size: u64,
    blocks: u64,
    free: u64,
    files: u64,
    files_free: u64,
) -> StoragePoolResources {
    let mut usage = StoragePoolResources {
        space: StoragePoolResourcesSpace {
            total: blocks.wrapping_mul(block_size),
            used: blocks.wrapping_sub(free).wrapping_mul(block_size),
        },
        inodes: StoragePoolResourcesInodes::default(),
    };
    if files > 0 {
        usage.inodes.total = files;
        usage.inodes.used = files.wrapping_sub(files_free);
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_from_btrfs_no_inode_table_zero_inodes() {
        let usage = usage_from(4096, 1000, 250, 0, 0);
        assert_eq!(usage.space.total, 4_096_000);
        assert_eq!(usage.space.used, 750 * 4096);
        assert_eq!(usage.inodes, StoragePoolResourcesInodes::default());
    }

    #[test]
    fn usage_from_ext4_inodes_counted() {
        let usage = usage_from(4096, 10, 10, 100, 40);
        assert_eq!(usage.space.used, 0);
        assert_eq!((usage.inodes.used, usage.inodes.total), (60, 100));
    }

    #[test]
    fn pool_resources_tempdir_nonzero_total() {
        let dir = tempfile::tempdir().unwrap();
        let usage = pool_resources(dir.path()).unwrap();
        assert!(usage.space.total > 0);
        assert!(usage.space.used <= usage.space.total);
    }

    #[test]
    fn pool_resources_missing_path_error_names_path() {
        let err = pool_resources(Path::new("/nonexistent/lxd-sys-pool")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/lxd-sys-pool"));
    }
}
