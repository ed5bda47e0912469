//! Local tree copies with `rsync`, as LXD's `rsync.LocalCopy` runs it.
//!
//! `-aHAX --numeric-ids --devices --sparse` keeps owners (numerically, so shifted ids survive),
//! modes, hard links, symlinks, device nodes, ACLs and xattrs. The pool keys `rsync.bwlimit` and
//! `rsync.compression` apply (compression only matters for remote transfers, so it is ignored).

use std::path::Path;

use lxd_sys::command::CommandRunner;

use crate::driver::PoolConfig;
use crate::error::StorageError;

/// How a copy treats an existing destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyMode {
    /// The destination is new and empty: no checksums needed.
    Fresh,
    /// Make an existing destination identical: delete extra files, compare by checksum.
    Sync,
}

/// The arguments of a copy of the content of `src` into `dst`.
pub fn args(src: &Path, dst: &Path, config: &PoolConfig, mode: CopyMode) -> Vec<String> {
    let mut args: Vec<String> = [
        "-a",
        "-HAX",
        "--sparse",
        "--devices",
        "--numeric-ids",
        "--filter=-x security.selinux",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if mode == CopyMode::Sync {
        args.push("--delete".into());
        args.push("--checksum".into());
    }
    if let Some(limit) = config.get("rsync.bwlimit").filter(|v| !v.is_empty()) {
        args.push("--bwlimit".into());
        args.push(limit.clone());
    }
    args.push("-q".into());
    let mut source = src.display().to_string();
    if !source.ends_with('/') {
        source.push('/');
    }
    args.push(source);
    args.push(dst.display().to_string());
    args
}

/// Copy the content of `src` into the existing directory `dst`.
pub fn local_copy(
    runner: &dyn CommandRunner,
    src: &Path,
    dst: &Path,
    config: &PoolConfig,
    mode: CopyMode,
) -> Result<(), StorageError> {
    let args = args(src, dst, config, mode);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    runner
        .run("rsync", &refs)
        .map(|_| ())
        .map_err(StorageError::cmd("copy", src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsync_args_sync_with_bwlimit_trailing_slash() {
        let cfg = PoolConfig::from([("rsync.bwlimit".to_string(), "10MB".to_string())]);
        let a = args(Path::new("/p/a"), Path::new("/p/b"), &cfg, CopyMode::Sync);
        assert_eq!(
            a.join(" "),
            "-a -HAX --sparse --devices --numeric-ids --filter=-x security.selinux \
             --delete --checksum --bwlimit 10MB -q /p/a/ /p/b"
        );
        let a = args(
            Path::new("/p/a"),
            Path::new("/p/b"),
            &PoolConfig::new(),
            CopyMode::Fresh,
        );
        assert!(!a.contains(&"--checksum".to_string()));
    }
}
