//! Optimized backups of the btrfs driver in LXD 5.0.2's layout: `backup/optimized_header.yaml`,
//! then one `btrfs send` stream per snapshot (`backup/snapshots/<snap>.bin`, each incremental
//! against the one before) and last the volume (`backup/container.bin`, incremental against the
//! newest snapshot); nested subvolumes add `<prefix>_<encoded path>.bin` files.
//!
//! Restoring receives every stream into a temporary directory first (a received subvolume must
//! stay read-only, with its received UUID, until the next incremental stream found it as its
//! parent), then makes each writable, moves it into place and sets read-only again what the
//! header says was read-only, as LXD does. The tarball itself is the daemon's business.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::send::{encode_path_name, relative, OptimizedHeader, SubvolumeInfo};
use super::BtrfsDriver;
use crate::driver::{BackupSink, BackupSource, Filler, StorageDriver};
use crate::error::StorageError;
use crate::volume::{check_name, Pool, Volume, VolumeType};
use crate::{fsutil, generic};

/// File name prefixes of a volume type in a backup: (volume, snapshots directory).
fn prefixes(vol_type: VolumeType) -> Result<(&'static str, &'static str), StorageError> {
    match vol_type {
        VolumeType::Container => Ok(("container", "snapshots")),
        VolumeType::VirtualMachine => Ok(("virtual-machine", "virtual-machine-snapshots")),
        VolumeType::Custom => Ok(("volume", "volume-snapshots")),
        VolumeType::Image => Err(StorageError::NotSupported("Backing up an image volume")),
    }
}

/// Tarball name of subvolume `sub` of the volume whose files start with `prefix`.
fn file_name(prefix: &str, sub: &SubvolumeInfo) -> String {
    if sub.path == "/" {
        return format!("backup/{prefix}.bin");
    }
    let encoded = encode_path_name(sub.path.trim_start_matches('/'));
    format!("backup/{prefix}_{encoded}.bin")
}

/// Whether a header's subvolume path stays inside its volume: `/` or `/a/b` without `.`, `..`
/// or empty components.
fn safe_subvolume_path(path: &str) -> bool {
    path == "/"
        || path.strip_prefix('/').is_some_and(|rest| {
            rest.split('/')
                .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'))
        })
}

/// The header LXD assumes for backups without one: root subvolumes only.
fn implied_header(snapshots: &[String]) -> OptimizedHeader {
    let mut subvolumes: Vec<SubvolumeInfo> = snapshots
        .iter()
        .map(|s| SubvolumeInfo {
            path: "/".into(),
            snapshot: s.clone(),
            readonly: true,
            uuid: String::new(),
        })
        .collect();
    subvolumes.push(SubvolumeInfo {
        path: "/".into(),
        ..Default::default()
    });
    OptimizedHeader { subvolumes }
}

impl BtrfsDriver {
    /// Write `write`'s output to a temporary file in `work` and hand it to `sink` as `name`.
    fn emit(
        work: &Path,
        name: &str,
        sink: BackupSink<'_>,
        write: impl FnOnce(&mut std::fs::File) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let tmp = work.join(format!("lxd_backup_btrfs{}_{stamp}", std::process::id()));
        let result = (|| {
            // 0600, as LXD writes the stream files it puts into an optimized backup.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(StorageError::io("create", &tmp))?;
            write(&mut file)?;
            file.sync_all().map_err(StorageError::io("write", &tmp))?;
            drop(file);
            sink(name, &tmp).map_err(|source| StorageError::BackupSink {
                name: name.to_string(),
                source,
            })
        })();
        let _ = std::fs::remove_file(&tmp);
        result
    }

    /// Send the subvolumes of `header` that belong to `snap` ("" = the volume), found below
    /// `source`, each incremental against the same subvolume below `parent` when it exists.
    #[allow(clippy::too_many_arguments)]
    fn send_subvolumes(
        &self,
        header: &OptimizedHeader,
        snap: &str,
        source: &Path,
        parent: Option<&Path>,
        prefix: &str,
        work: &Path,
        sink: BackupSink<'_>,
    ) -> Result<(), StorageError> {
        let mut sent = 0;
        for sub in header.subvolumes.iter().filter(|s| s.snapshot == snap) {
            let from = source.join(relative(&sub.path));
            let base = parent
                .map(|p| p.join(relative(&sub.path)))
                .filter(|p| self.is_subvolume(p));
            // `btrfs send` needs read-only subvolumes; flip any writable one for the send only.
            let mut flipped = Vec::new();
            for path in base.iter().chain(std::iter::once(&from)) {
                if !self.is_readonly(path)? {
                    self.set_readonly(path, true)?;
                    flipped.push(path.clone());
                }
            }
            let result = Self::emit(work, &file_name(prefix, sub), sink, |file| {
                self.send_subvolume(&from, base.as_deref(), file)
            });
            for path in &flipped {
                let _ = self.set_readonly(path, false);
            }
            result?;
            sent += 1;
        }
        if sent == 0 {
            return Err(StorageError::NoSubvolumes(source.to_path_buf()));
        }
        Ok(())
    }

    pub(super) fn backup_optimized(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snapshots: &[String],
        work: &Path,
        sink: BackupSink<'_>,
    ) -> Result<(), StorageError> {
        check_name(name)?;
        for snap in snapshots {
            check_name(&format!("{name}/{snap}"))?;
        }
        let (prefix, snap_dir) = prefixes(vol_type)?;
        let header = self.restoration_header(pool, vol_type, name, snapshots)?;
        let yaml = yaml_serde::to_string(&header)
            .map_err(|e| StorageError::BadBackupHeader(e.to_string()))?;
        Self::emit(work, "backup/optimized_header.yaml", sink, |file| {
            std::io::Write::write_all(file, yaml.as_bytes())
                .map_err(StorageError::io("write", work))
        })?;
        let mut last: Option<PathBuf> = None;
        for snap in snapshots {
            let path = self.mount_path(pool, vol_type, &format!("{name}/{snap}"));
            let file_prefix = format!("{snap_dir}/{snap}");
            self.send_subvolumes(
                &header,
                snap,
                &path,
                last.as_deref(),
                &file_prefix,
                work,
                sink,
            )?;
            last = Some(path);
        }
        // The volume goes in as a read-only snapshot so it is consistent and sendable.
        let source = self.mount_path(pool, vol_type, name);
        let tmp = self.temp_dir(pool, vol_type)?;
        let snap = tmp.join(".backup");
        let result = self
            .snapshot_subvolume(&source, &snap, true)
            .and_then(|()| {
                self.send_subvolumes(&header, "", &snap, last.as_deref(), prefix, work, sink)
            });
        self.remove_temp_dir(&tmp);
        result
    }

    pub(super) fn restore_optimized(
        &self,
        pool: &Pool,
        vol: &Volume,
        snapshots: &[String],
        header: Option<&[u8]>,
        open: BackupSource<'_>,
        prepare: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        check_name(&vol.name)?;
        for snap in snapshots {
            check_name(&format!("{}/{snap}", vol.name))?;
        }
        let target = self.mount_path(pool, vol.vol_type, &vol.name);
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(StorageError::RestoreTargetExists);
        }
        let header = match header {
            Some(text) => yaml_serde::from_slice::<OptimizedHeader>(text)
                .map_err(|e| StorageError::BadBackupHeader(e.to_string()))?,
            None => implied_header(snapshots),
        };
        if let Some(bad) = header
            .subvolumes
            .iter()
            .find(|s| !safe_subvolume_path(&s.path))
        {
            return Err(StorageError::BadBackupHeader(format!(
                "invalid subvolume path {:?}",
                bad.path
            )));
        }
        let tmp = self.temp_dir(pool, vol.vol_type)?;
        let result = self.restore_into(pool, vol, snapshots, &header, &tmp, open, prepare);
        self.remove_temp_dir(&tmp);
        if result.is_err() {
            for snap in snapshots {
                let _ = self.delete_snapshot(pool, vol.vol_type, &vol.name, snap);
            }
            let _ = self.delete_volume(pool, vol.vol_type, &vol.name);
        }
        result.map(|()| target)
    }

    #[allow(clippy::too_many_arguments)]
    fn restore_into(
        &self,
        pool: &Pool,
        vol: &Volume,
        snapshots: &[String],
        header: &OptimizedHeader,
        tmp: &Path,
        open: BackupSource<'_>,
        prepare: Filler<'_>,
    ) -> Result<(), StorageError> {
        let (prefix, snap_dir) = prefixes(vol.vol_type)?;
        let mount_of = |snap: &str| {
            let name = match snap {
                "" => vol.name.clone(),
                s => format!("{}/{s}", vol.name),
            };
            self.mount_path(pool, vol.vol_type, &name)
        };
        if !snapshots.is_empty() {
            generic::ensure_snapshots_dir(pool, vol.vol_type, &vol.name)?;
        }
        let mut moves: Vec<(PathBuf, PathBuf)> = Vec::new();
        let volumes = snapshots
            .iter()
            .map(|s| (s.as_str(), format!("{snap_dir}/{s}")))
            .chain(std::iter::once(("", prefix.to_string())));
        for (snap, file_prefix) in volumes {
            for sub in header.subvolumes.iter().filter(|s| s.snapshot == snap) {
                let file = file_name(&file_prefix, sub);
                let dir = tmp.join(snap);
                fsutil::ensure_dir(&dir, 0o100)?;
                let mut stream = open(&file).map_err(|_| StorageError::BackupFileMissing(file))?;
                let received = self.receive_subvolume(&mut *stream, &dir)?;
                moves.push((received, mount_of(snap).join(relative(&sub.path))));
            }
        }
        for (from, to) in &moves {
            self.set_readonly(from, false)?;
            // A nested subvolume replaces the empty directory its parent's stream left.
            let _ = std::fs::remove_dir(to);
            std::fs::rename(from, to).map_err(StorageError::io("move", from))?;
        }
        for snap in snapshots
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(""))
        {
            let path = mount_of(snap);
            prepare(&path).map_err(|source| StorageError::Fill { path, source })?;
        }
        for sub in header.subvolumes.iter().filter(|s| s.readonly) {
            if sub.snapshot.is_empty() || snapshots.contains(&sub.snapshot) {
                let path = mount_of(&sub.snapshot).join(relative(&sub.path));
                self.set_readonly(&path, true)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_root_and_nested_subvolumes_as_lxd() {
        let root = SubvolumeInfo {
            path: "/".into(),
            ..Default::default()
        };
        assert_eq!(file_name("container", &root), "backup/container.bin");
        let nested = SubvolumeInfo {
            path: "/var/lib/my-machines".into(),
            ..Default::default()
        };
        assert_eq!(
            file_name("snapshots/snap0", &nested),
            "backup/snapshots/snap0_var-lib-my--machines.bin"
        );
    }

    #[test]
    fn safe_subvolume_path_refuses_escapes() {
        assert!(safe_subvolume_path("/"));
        assert!(safe_subvolume_path("/rootfs/var/lib/machines"));
        for bad in ["", "rootfs", "/../x", "/a/../../b", "//a", "/a/", "/."] {
            assert!(!safe_subvolume_path(bad), "{bad}");
        }
    }

    #[test]
    fn implied_header_snapshots_readonly_then_volume() {
        let h = implied_header(&["s0".into(), "s1".into()]);
        let got: Vec<(&str, bool)> = h
            .subvolumes
            .iter()
            .map(|s| (s.snapshot.as_str(), s.readonly))
            .collect();
        assert_eq!(got, vec![("s0", true), ("s1", true), ("", false)]);
    }

    #[test]
    fn header_yaml_round_trips_lxd_fields() {
        let text = "subvolumes:\n- path: /\n  snapshot: snap0\n  readonly: true\n  uuid: 4d65-12\n- path: /\n  snapshot: \"\"\n  readonly: false\n  uuid: \"\"\n";
        let h: OptimizedHeader = yaml_serde::from_slice(text.as_bytes()).unwrap();
        assert_eq!(h.subvolumes.len(), 2);
        assert_eq!(h.subvolumes[0].uuid, "4d65-12");
        assert!(h.subvolumes[0].readonly && !h.subvolumes[1].readonly);
        let back: OptimizedHeader =
            yaml_serde::from_str(&yaml_serde::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
    }
}
