//! `btrfs send` / `btrfs receive` for the btrfs driver, and the subvolume metadata LXD writes
//! beside the streams (`BTRFSMetaDataHeader`, the `optimized_header.yaml` of a backup).
//!
//! Streams are piped through the runner's streaming call: nothing is buffered in memory. This
//! module knows nothing about tarballs (see `backup`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{arg, BtrfsDriver};
use crate::driver::StorageDriver;
use crate::error::StorageError;
use crate::volume::{split_snapshot, Pool, VolumeType};

/// One subvolume of a volume as LXD describes it (`BTRFSSubVolume`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubvolumeInfo {
    /// Where it sits inside the volume; `/` is the volume's own subvolume.
    #[serde(default)]
    pub path: String,
    /// The snapshot it belongs to; empty for the volume itself.
    #[serde(default)]
    pub snapshot: String,
    #[serde(default)]
    pub readonly: bool,
    #[serde(default)]
    pub uuid: String,
}

/// LXD's `BTRFSMetaDataHeader`: every subvolume of the snapshots and then of the volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptimizedHeader {
    #[serde(default)]
    pub subvolumes: Vec<SubvolumeInfo>,
}

/// `path` inside a volume (`/`, `/var/lib/machines`) as a relative path to join.
pub(super) fn relative(path: &str) -> &Path {
    Path::new(path.trim_start_matches('/'))
}

/// LXD's `PathNameEncode`: `-` becomes `--`, then `/` becomes `-`.
pub(super) fn encode_path_name(path: &str) -> String {
    path.replace('-', "--").replace('/', "-")
}

impl BtrfsDriver {
    /// `btrfs send [-p parent] path` into `out`.
    pub(super) fn send_subvolume(
        &self,
        path: &Path,
        parent: Option<&Path>,
        out: &mut dyn Write,
    ) -> Result<(), StorageError> {
        let (p, parent) = (arg(path), parent.map(arg));
        let mut args = vec!["send"];
        if let Some(parent) = parent.as_deref() {
            args.extend(["-p", parent]);
        }
        args.push(&p);
        tracing::debug!(path = %path.display(), ?parent, "btrfs send");
        self.runner
            .run_streaming("btrfs", &args, None, Some(out))
            .map_err(StorageError::cmd("send", path))
    }

    /// `btrfs receive -e dir` from `input`; returns the path of the subvolume it created.
    pub(super) fn receive_subvolume(
        &self,
        input: &mut (dyn Read + Send),
        dir: &Path,
    ) -> Result<PathBuf, StorageError> {
        let before = crate::fsutil::list_dir(dir)?;
        let d = arg(dir);
        tracing::debug!(dir = %dir.display(), "btrfs receive");
        self.runner
            .run_streaming("btrfs", &["receive", "-e", &d], Some(input), None)
            .map_err(StorageError::cmd("receive into", dir))?;
        crate::fsutil::list_dir(dir)?
            .into_iter()
            .find(|n| !before.contains(n))
            .map(|n| dir.join(n))
            .ok_or(StorageError::UnexpectedOutput("btrfs receive"))
    }

    /// UUIDs of every subvolume of the pool's filesystem by absolute path
    /// (`btrfs subvolume list -u -R`, paths taken relative to the pool mount as LXD does).
    fn subvolume_uuids(&self, pool: &Pool) -> Result<BTreeMap<PathBuf, String>, StorageError> {
        let out = self.run(
            "list subvolumes of",
            &pool.mount,
            &["btrfs", "subvolume", "list", "-u", "-R", &arg(&pool.mount)],
        )?;
        Ok(out
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                (fields.len() == 13).then(|| (pool.mount.join(fields[12]), fields[10].to_string()))
            })
            .collect())
    }

    /// LXD's `getSubvolumesMetaData`: the volume's own subvolume first, then nested ones sorted.
    fn subvolumes_metadata(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        uuids: &BTreeMap<PathBuf, String>,
    ) -> Result<Vec<SubvolumeInfo>, StorageError> {
        let root = self.mount_path(pool, vol_type, name);
        if !self.is_subvolume(&root) {
            return Err(StorageError::VolumeNotFound(root));
        }
        let snapshot = split_snapshot(name)
            .map(|(_, s)| s.to_string())
            .unwrap_or_default();
        let mut paths = vec!["/".to_string()];
        for rel in self.nested_subvolumes(&root)? {
            paths.push(format!("/{}", rel.display()));
        }
        paths
            .into_iter()
            .map(|path| {
                let full = root.join(relative(&path));
                Ok(SubvolumeInfo {
                    readonly: self.is_readonly(&full)?,
                    uuid: uuids.get(&full).cloned().unwrap_or_default(),
                    snapshot: snapshot.clone(),
                    path,
                })
            })
            .collect()
    }

    /// LXD's `restorationHeader`: the subvolumes of `snapshots` (oldest first) then of `name`.
    pub(super) fn restoration_header(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snapshots: &[String],
    ) -> Result<OptimizedHeader, StorageError> {
        let uuids = self.subvolume_uuids(pool)?;
        let mut header = OptimizedHeader::default();
        for snap in snapshots {
            let snap_name = format!("{name}/{snap}");
            let subs = self.subvolumes_metadata(pool, vol_type, &snap_name, &uuids)?;
            header.subvolumes.extend(subs);
        }
        let mut own = self.subvolumes_metadata(pool, vol_type, name, &uuids)?;
        if split_snapshot(name).is_some() {
            // A snapshot sent as a volume is restored as a normal writable volume.
            if let Some(first) = own.first_mut() {
                first.readonly = false;
            }
            own.iter_mut().for_each(|s| s.snapshot.clear());
        }
        header.subvolumes.extend(own);
        Ok(header)
    }

    pub(super) fn send_volume_stream(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        parent: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<(), StorageError> {
        crate::volume::check_name(name)?;
        let path = self.mount_path(pool, vol_type, name);
        if !self.is_subvolume(&path) {
            return Err(StorageError::VolumeNotFound(path));
        }
        let parent = match parent {
            Some(p) => {
                crate::volume::check_name(p)?;
                let pp = self.mount_path(pool, vol_type, p);
                if !self.is_subvolume(&pp) {
                    return Err(StorageError::SnapshotNotFound);
                }
                Some(pp)
            }
            None => None,
        };
        if self.is_readonly(&path)? {
            return self.send_subvolume(&path, parent.as_deref(), out);
        }
        // `btrfs send` needs a read-only source: send a read-only snapshot of the volume.
        let tmp = self.temp_dir(pool, vol_type)?;
        let snap = tmp.join(".backup");
        let result = self
            .snapshot_subvolume(&path, &snap, true)
            .and_then(|()| self.send_subvolume(&snap, parent.as_deref(), out));
        self.remove_temp_dir(&tmp);
        result
    }

    /// A fresh `backup.<n>` directory (mode 0100) in the pool's directory for `vol_type`, on
    /// the same filesystem as the volumes so received subvolumes can be moved into place.
    pub(super) fn temp_dir(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
    ) -> Result<PathBuf, StorageError> {
        use std::os::unix::fs::PermissionsExt;
        let parent = pool.mount.join(vol_type.dir());
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for attempt in 0..100u32 {
            let dir = parent.join(format!("backup.{}{stamp}{attempt}", std::process::id()));
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o100))
                        .map_err(StorageError::io("chmod", &dir))?;
                    return Ok(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(StorageError::io("create", &dir)(e)),
            }
        }
        Err(StorageError::VolumeExists(parent.join("backup.")))
    }

    /// Remove a temporary directory with whatever subvolumes are left in it.
    pub(super) fn remove_temp_dir(&self, dir: &Path) {
        if let Err(e) = self.delete_subvolume_tree(dir) {
            tracing::warn!(path = %dir.display(), error = %e, "Failed to remove temporary directory");
        }
    }
}
