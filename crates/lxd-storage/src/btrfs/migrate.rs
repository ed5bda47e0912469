//! btrfs-to-btrfs migration as LXD 5.0.2 speaks it: the subvolume header as JSON (feature
//! `migration_header`), on refresh the target's answer naming what it lacks (feature
//! `header_subvolume_uuids`), then one `btrfs send` stream per subvolume — snapshots oldest
//! first, each incremental against the one before, the volume last from a read-only snapshot.
//!
//! The target receives every stream into a temporary directory, makes the subvolumes
//! writable, moves them into place, gives each back the received UUID that flipping cleared
//! (so a later incremental stream finds its parent), lets the caller prepare each volume, and
//! sets read-only again what the header says was read-only.

use std::path::{Path, PathBuf};

use super::send::{relative, OptimizedHeader, SubvolumeInfo};
use super::{arg, BtrfsDriver};
use crate::driver::{Filler, StorageDriver};
use crate::error::StorageError;
use crate::migration::{MigrationArgs, StreamChannel};
use crate::volume::{check_name, Pool, Volume, VolumeType};
use crate::{fsutil, generic};

/// Feature names (`migration.BTRFSFeature*`).
const HEADER: &str = "migration_header";
const SUBVOLUMES: &str = "header_subvolumes";
const UUIDS: &str = "header_subvolume_uuids";

fn to_json(header: &OptimizedHeader) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(header).map_err(|e| StorageError::Transfer(e.to_string()))
}

fn from_json(data: &[u8]) -> Result<OptimizedHeader, StorageError> {
    serde_json::from_slice(data)
        .map_err(|e| StorageError::Transfer(format!("Failed decoding BTRFS migration header: {e}")))
}

/// The header a source without `migration_header` implies: root subvolumes only.
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

/// Whether a header path stays inside its volume.
fn safe_path(path: &str) -> bool {
    path == "/"
        || path.strip_prefix('/').is_some_and(|rest| {
            rest.split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
        })
}

impl BtrfsDriver {
    /// The "Received UUID" of a subvolume, if it has one.
    fn received_uuid(&self, path: &Path) -> Result<Option<String>, StorageError> {
        let out = self.run(
            "show subvolume",
            path,
            &["btrfs", "subvolume", "show", &arg(path)],
        )?;
        Ok(out
            .lines()
            .find_map(|l| l.trim().strip_prefix("Received UUID:"))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty() && v != "-"))
    }

    /// Send the subvolumes of `subvolumes` that belong to `snap` ("" = the volume), found below
    /// `source`, each incremental against the same subvolume below `parent` when it exists.
    fn send_migration_volume(
        &self,
        subvolumes: &[SubvolumeInfo],
        snap: &str,
        source: &Path,
        parent: Option<&Path>,
        args: &MigrationArgs,
        channel: &mut dyn StreamChannel,
    ) -> Result<(), StorageError> {
        let mut sent = 0;
        for sub in subvolumes.iter().filter(|s| s.snapshot == snap) {
            if sub.path != "/" && !args.has(SUBVOLUMES) {
                continue;
            }
            let from = source.join(relative(&sub.path));
            let base = parent
                .map(|p| p.join(relative(&sub.path)))
                .filter(|p| self.is_subvolume(p));
            let mut flipped = Vec::new();
            for path in base.iter().chain(std::iter::once(&from)) {
                if !self.is_readonly(path)? {
                    self.set_readonly(path, true)?;
                    flipped.push(path.clone());
                }
            }
            let result =
                channel.send_stream(&mut |out| self.send_subvolume(&from, base.as_deref(), out));
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

    pub(super) fn send_migration(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        args: &MigrationArgs,
        channel: &mut dyn StreamChannel,
    ) -> Result<(), StorageError> {
        check_name(name)?;
        let described: &[String] = if args.volume_only {
            &[]
        } else {
            &args.all_snapshots
        };
        let mut header = self.restoration_header(pool, vol_type, name, described)?;
        if (!args.has(HEADER) || !args.has(SUBVOLUMES))
            && header.subvolumes.iter().any(|s| s.path != "/")
        {
            return Err(StorageError::Transfer(
                "Subvolumes detected in source but target does not support receiving subvolumes"
                    .into(),
            ));
        }
        if args.has(HEADER) {
            channel.send_bytes(&to_json(&header)?)?;
        }
        let mut to_send = args.snapshots.clone();
        if args.refresh && args.has(UUIDS) {
            header = from_json(&channel.recv_bytes()?)?;
            to_send = header
                .subvolumes
                .iter()
                .filter(|s| s.path == "/" && !s.snapshot.is_empty())
                .map(|s| s.snapshot.clone())
                .collect();
        }
        let snap_path = |s: &str| self.mount_path(pool, vol_type, &format!("{name}/{s}"));
        let mut last: Option<PathBuf> = None;
        if args.refresh && !args.volume_only {
            if let Some(first) = to_send.first() {
                if let Some(i) = args.all_snapshots.iter().position(|s| s == first) {
                    last = i.checked_sub(1).map(|p| snap_path(&args.all_snapshots[p]));
                }
            }
        }
        if !args.volume_only {
            for snap in &to_send {
                let path = snap_path(snap);
                self.send_migration_volume(
                    &header.subvolumes,
                    snap,
                    &path,
                    last.as_deref(),
                    args,
                    channel,
                )?;
                last = Some(path);
            }
        }
        // The volume goes out as a read-only snapshot so it is consistent and sendable.
        let source = self.mount_path(pool, vol_type, name);
        let tmp = self.temp_dir(pool, vol_type)?;
        let snapshot = tmp.join(".migration-send");
        let result = self
            .snapshot_subvolume(&source, &snapshot, true)
            .and_then(|()| {
                self.send_migration_volume(
                    &header.subvolumes,
                    "",
                    &snapshot,
                    last.as_deref(),
                    args,
                    channel,
                )
            });
        self.remove_temp_dir(&tmp);
        result
    }

    pub(super) fn receive_migration(
        &self,
        pool: &Pool,
        vol: &Volume,
        args: &MigrationArgs,
        channel: &mut dyn StreamChannel,
        prepare: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        check_name(&vol.name)?;
        for snap in &args.snapshots {
            check_name(&format!("{}/{snap}", vol.name))?;
        }
        let target = self.mount_path(pool, vol.vol_type, &vol.name);
        if args.refresh != self.is_subvolume(&target) {
            return Err(StorageError::Transfer(if args.refresh {
                "Cannot refresh volume, doesn't exist on migration target storage".into()
            } else {
                "Cannot create volume, already exists on migration target storage".into()
            }));
        }
        let header = if args.has(HEADER) {
            from_json(&channel.recv_bytes()?)?
        } else {
            implied_header(&args.snapshots)
        };
        if let Some(bad) = header.subvolumes.iter().find(|s| !safe_path(&s.path)) {
            return Err(StorageError::Transfer(format!(
                "Invalid subvolume path {:?}",
                bad.path
            )));
        }
        let mut snapshots = args.snapshots.clone();
        let subvolumes = if args.refresh && args.has(UUIDS) {
            let mut local = std::collections::BTreeMap::new();
            for snap in self.list_snapshots(pool, vol.vol_type, &vol.name)? {
                let path = self.mount_path(pool, vol.vol_type, &format!("{}/{snap}", vol.name));
                if let Some(uuid) = self.received_uuid(&path)? {
                    local.insert(snap, uuid);
                }
            }
            snapshots.clear();
            let mut sync = Vec::new();
            for sub in &header.subvolumes {
                if local.get(&sub.snapshot) == Some(&sub.uuid) {
                    continue;
                }
                if sub.path == "/" && !sub.snapshot.is_empty() {
                    snapshots.push(sub.snapshot.clone());
                }
                sync.push(sub.clone());
            }
            let answer = OptimizedHeader { subvolumes: sync };
            channel.send_bytes(&to_json(&answer)?)?;
            answer.subvolumes
        } else {
            header.subvolumes
        };
        let tmp = self.temp_dir(pool, vol.vol_type)?;
        let mut created: Vec<PathBuf> = Vec::new();
        let result = self.receive_into(
            pool,
            vol,
            args,
            &snapshots,
            &subvolumes,
            &tmp,
            channel,
            prepare,
            &mut created,
        );
        self.remove_temp_dir(&tmp);
        if result.is_err() {
            for path in created.iter().rev() {
                let _ = self.delete_subvolume(path);
            }
            if !args.refresh {
                let _ = fsutil::remove_dir_if_empty(&crate::volume::snapshots_path(
                    &pool.mount,
                    vol.vol_type,
                    &vol.name,
                ));
            }
        }
        result.map(|()| target)
    }

    #[allow(clippy::too_many_arguments)]
    fn receive_into(
        &self,
        pool: &Pool,
        vol: &Volume,
        args: &MigrationArgs,
        snapshots: &[String],
        subvolumes: &[SubvolumeInfo],
        tmp: &Path,
        channel: &mut dyn StreamChannel,
        prepare: Filler<'_>,
        created: &mut Vec<PathBuf>,
    ) -> Result<(), StorageError> {
        let mount_of = |snap: &str| match snap {
            "" => self.mount_path(pool, vol.vol_type, &vol.name),
            s => self.mount_path(pool, vol.vol_type, &format!("{}/{s}", vol.name)),
        };
        let receive_snapshots = !args.volume_only && !snapshots.is_empty();
        if receive_snapshots {
            generic::ensure_snapshots_dir(pool, vol.vol_type, &vol.name)?;
        }
        let mut moves: Vec<(PathBuf, PathBuf, Option<String>)> = Vec::new();
        let volumes = snapshots
            .iter()
            .filter(|_| receive_snapshots)
            .map(String::as_str)
            .chain(std::iter::once(""));
        for snap in volumes {
            for sub in subvolumes.iter().filter(|s| s.snapshot == snap) {
                let dir = tmp.join(snap);
                fsutil::ensure_dir(&dir, 0o100)?;
                let mut received = None;
                channel.recv_stream(&mut |input| {
                    received = Some(self.receive_subvolume(input, &dir)?);
                    Ok(())
                })?;
                let received = received.ok_or(StorageError::UnexpectedOutput("btrfs receive"))?;
                let uuid = self.received_uuid(&received)?;
                moves.push((received, mount_of(snap).join(relative(&sub.path)), uuid));
            }
        }
        if args.refresh {
            let main = mount_of("");
            self.delete_subvolume(&main)?;
        }
        for (from, to, uuid) in &moves {
            self.set_readonly(from, false)?;
            // A nested subvolume replaces the empty directory its parent's stream left.
            let _ = std::fs::remove_dir(to);
            std::fs::rename(from, to).map_err(StorageError::io("move", from))?;
            created.push(to.clone());
            if let Some(uuid) = uuid {
                lxd_sys::btrfs::set_received_uuid(to, uuid)
                    .map_err(StorageError::io("set the received UUID of", to))?;
            }
        }
        let prepared = snapshots
            .iter()
            .filter(|_| receive_snapshots)
            .map(String::as_str)
            .chain(std::iter::once(""));
        for snap in prepared {
            let path = mount_of(snap);
            prepare(&path).map_err(|source| StorageError::Fill { path, source })?;
        }
        for sub in subvolumes.iter().filter(|s| s.readonly) {
            if sub.snapshot.is_empty() || (receive_snapshots && snapshots.contains(&sub.snapshot)) {
                self.set_readonly(&mount_of(&sub.snapshot).join(relative(&sub.path)), true)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_json_uses_lxd_field_names() {
        let h = implied_header(&["snap0".into()]);
        let json = String::from_utf8(to_json(&h).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"subvolumes":[{"path":"/","snapshot":"snap0","readonly":true,"uuid":""},{"path":"/","snapshot":"","readonly":false,"uuid":""}]}"#
        );
        assert_eq!(from_json(json.as_bytes()).unwrap(), h);
    }

    #[test]
    fn safe_path_refuses_escapes() {
        assert!(safe_path("/"));
        assert!(safe_path("/rootfs/var/lib/machines"));
        assert!(!safe_path("/../x"));
        assert!(!safe_path("x"));
    }
}
