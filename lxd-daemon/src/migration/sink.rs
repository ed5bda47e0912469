//! The target side of a migration (LXD's `migrationSink.Do`): read the offer, answer with the
//! methods both pools share (and, on refresh, only the snapshots that differ), write the
//! snapshot records, receive the data while watching the source's control messages, and tell
//! the source how it went. A failure removes the snapshot records and volumes this run made.

use std::sync::Arc;

use lxd_db::instances::snapshots::SnapshotRow;
use lxd_db::pools::PoolRow;

use super::progress::Progress;
use super::proto::{
    MigrationControl, MigrationHeader, SnapshotInfo, CRIU_NONE, CRIU_RSYNC, FS_RSYNC,
};
use super::transfer::RecvPlan;
use super::types::{match_types, pool_types, types_to_header, INDEX_HEADER_VERSION};
use super::{records, Sockets};
use crate::handlers::instances::store::runtime_name;
use crate::operations::Op;
use crate::state::AppState;

/// Where a migration lands.
pub struct Sink {
    pub state: AppState,
    pub project: String,
    /// The target instance (its record exists already).
    pub name: String,
    pub pool_row: PoolRow,
    /// Bring an existing instance up to date instead of creating one.
    pub refresh: bool,
    pub live: bool,
    pub instance_only: bool,
}

impl Sink {
    /// Run the conversation on connected `sockets`.
    pub async fn run(self, mut sockets: Sockets, op: Arc<Op>) -> Result<(), String> {
        tracing::info!(instance = %self.name, "Migration channels connected on target");
        let mut created = Vec::new();
        let result = self.exchange(&mut sockets, &op, &mut created).await;
        let verdict = MigrationControl::from_result(result.as_ref().err().map(String::as_str));
        let _ = sockets.control.send_message(verdict.encode()).await;
        sockets.close();
        if let Err(e) = &result {
            tracing::error!(instance = %self.name, error = %e, "Migration failed on target");
            self.undo(&created).await;
        }
        result
    }

    /// Remove the snapshots this run recorded.
    async fn undo(&self, created: &[String]) {
        let storage = crate::instances::rootfs::pool(&self.state.paths, &self.pool_row).ok();
        for snap in created.iter().rev() {
            if let Some((pool, driver)) = &storage {
                let vol = runtime_name(&self.project, &self.name);
                let _ =
                    driver.delete_snapshot(pool, lxd_storage::VolumeType::Container, &vol, snap);
            }
            let (p, n, s) = (self.project.clone(), self.name.clone(), snap.clone());
            let _ = self
                .state
                .db
                .write(move |c| lxd_db::instances::snapshots::delete(c, &p, &n, &s))
                .await;
        }
    }

    /// A snapshot description made from the instance itself, for a source that sends names
    /// only (LXD before snapshot records travelled).
    fn legacy_snapshot(&self, name: &str) -> SnapshotInfo {
        let row = self
            .state
            .db
            .read(|c| lxd_db::instances::get(c, &self.project, &self.name))
            .unwrap_or_default();
        records::snapshot_to_proto(&SnapshotRow {
            name: name.to_string(),
            created_at: row.created_at,
            expires_at: crate::time::ZERO.to_string(),
            architecture: row.architecture,
            ephemeral: row.ephemeral,
            config: row.config,
            devices: row.devices,
            profiles: row.profiles,
            ..Default::default()
        })
    }

    /// On refresh: delete the target's snapshots the source lacks or took at another time,
    /// and return the source's snapshots the target lacks.
    async fn refresh_snapshots(
        &self,
        offered: &[SnapshotInfo],
    ) -> Result<Vec<SnapshotInfo>, String> {
        let (p, n) = (self.project.clone(), self.name.clone());
        let ours = self
            .state
            .db
            .read(|c| lxd_db::instances::snapshots::list(c, &p, &n))
            .map_err(|e| e.to_string())?;
        let date_of = |s: &SnapshotInfo| s.creation_date.unwrap_or(0);
        let inst = crate::handlers::instances::store::load(&self.state, &self.project, &self.name)
            .map_err(|e| e.to_string())?;
        for row in &ours {
            let keep = offered.iter().any(|s| {
                s.name == row.name && date_of(s) == records::unix_seconds(&row.created_at)
            });
            if !keep {
                crate::handlers::instances::snapshots::remove_snapshot(
                    &self.state,
                    &inst,
                    &row.name,
                )
                .await?;
            }
        }
        Ok(offered
            .iter()
            .filter(|s| {
                !ours
                    .iter()
                    .any(|r| r.name == s.name && records::unix_seconds(&r.created_at) == date_of(s))
            })
            .cloned()
            .collect())
    }

    async fn exchange(
        &self,
        sockets: &mut Sockets,
        op: &Arc<Op>,
        created: &mut Vec<String>,
    ) -> Result<(), String> {
        let offer = sockets
            .control
            .recv_message()
            .await
            .map_err(|e| format!("Failed receiving migration offer header: {e}"))?;
        let mut offer = MigrationHeader::decode(&offer)
            .map_err(|e| format!("Failed receiving migration offer header: {e}"))?;
        let criu = if offer.criu == Some(CRIU_NONE) {
            Some(CRIU_NONE)
        } else if self.live {
            Some(CRIU_RSYNC)
        } else {
            None
        };
        offer.refresh = Some(self.refresh);
        let ours = pool_types(&self.pool_row.driver, &self.pool_row.config);
        let agreed = match_types(&offer, FS_RSYNC, &ours)?;
        let mut answer = types_to_header(&agreed);
        answer.index_header_version = Some(
            offer
                .index_header_version
                .unwrap_or(0)
                .min(INDEX_HEADER_VERSION),
        );
        answer.refresh = Some(self.refresh);
        let mut snapshots = if offer.snapshot_names.len() != offer.snapshots.len() {
            offer
                .snapshot_names
                .iter()
                .map(|n| self.legacy_snapshot(n))
                .collect()
        } else {
            offer.snapshots.clone()
        };
        if self.refresh {
            snapshots = self.refresh_snapshots(&snapshots).await?;
        }
        answer.snapshot_names = snapshots.iter().map(|s| s.name.clone()).collect();
        answer.snapshots = snapshots.clone();
        answer.predump = Some(offer.predump == Some(true));
        answer.criu = criu;
        let rsync_features = answer.rsync_feature_names();
        let live = criu == Some(CRIU_RSYNC);
        let checkpoint = match (live, sockets.criu.take()) {
            (true, Some(conn)) => Some((
                super::checkpoint_dir(&self.state.paths, "lxd_restore_"),
                conn,
            )),
            (true, None) => return Err("The source did not connect the criu channel".into()),
            _ => None,
        };
        sockets
            .control
            .send_message(answer.encode())
            .await
            .map_err(|e| e.to_string())?;

        if self.instance_only {
            snapshots.clear();
        }
        for snap in &snapshots {
            let mut row = records::snapshot_from_proto(snap);
            for dev in row.devices.values_mut() {
                if lxd_api::is_root_disk(dev) {
                    dev.insert("pool".into(), self.pool_row.name.clone());
                }
            }
            let (p, n, name) = (self.project.clone(), self.name.clone(), row.name.clone());
            self.state
                .db
                .write(move |c| lxd_db::instances::snapshots::create(c, &p, &n, &row))
                .await
                .map_err(|e| format!("Failed creating instance snapshot record {name:?}: {e}"))?;
            created.push(snap.name.clone());
        }

        let (pool, driver) = crate::instances::rootfs::pool(&self.state.paths, &self.pool_row)
            .map_err(|e| e.to_string())?;
        let storage_name = runtime_name(&self.project, &self.name);
        let plan = RecvPlan {
            driver,
            pool,
            volume: storage_name.clone(),
            label: self.name.clone(),
            snapshots: snapshots.iter().map(|s| s.name.clone()).collect(),
            method: agreed[0].clone(),
            rsync_features: rsync_features.clone(),
            index_version: answer.index_header_version.unwrap_or(0),
            refresh: self.refresh,
            volume_only: self.instance_only,
            final_sync: (criu == Some(CRIU_NONE) || live) && agreed[0].fs == FS_RSYNC,
            idmap: records::idmap_from_proto(&offer.idmap),
        };
        let mut fs = std::mem::replace(&mut sockets.fs, super::conn::Conn::closed());
        let aborter = fs.aborter();
        let progress = Progress::new(Some(op.clone()));
        let features = rsync_features.clone();
        let mut transfer = tokio::task::spawn_blocking(move || {
            // The checkpoint arrives on its own channel between the volume and its final sync.
            let images = checkpoint.map(|(dir, mut conn)| {
                std::thread::spawn(move || {
                    let r = std::fs::create_dir_all(&dir)
                        .map_err(|e| e.to_string())
                        .and_then(|()| {
                            super::rsync::recv(&dir, &mut conn, &features, &|_| {})
                                .map_err(|e| e.message)
                        });
                    (dir, r)
                })
            });
            let r = plan.receive(&mut fs, &progress);
            let images = images.map(|t| {
                t.join()
                    .unwrap_or_else(|_| (Default::default(), Err("panicked".into())))
            });
            (fs, r, images)
        });
        let received = loop {
            tokio::select! {
                done = &mut transfer => break done.map_err(|e| e.to_string())?,
                msg = sockets.control.recv_message() => {
                    let failure = match msg {
                        Ok(bytes) => match MigrationControl::decode(&bytes) {
                            Ok(c) if c.success => {
                                tracing::warn!(instance = %self.name, "Unknown message from migration source");
                                continue;
                            }
                            Ok(c) => c.message.unwrap_or_default(),
                            Err(e) => e.to_string(),
                        },
                        Err(e) => format!("Got error reading migration source: {e}"),
                    };
                    aborter.abort();
                    let _ = transfer.await;
                    return Err(failure);
                }
            }
        };
        let (fs, path, images) = received;
        sockets.fs = fs;
        let path = path?;
        crate::instances::rootfs::link_volume(&self.state.paths, &storage_name, &path);
        if let Some((dir, got)) = images {
            let restored = match got {
                Ok(()) => super::restore_instance(&self.state, &self.project, &self.name, &dir)
                    .await
                    .map_err(|e| format!("Failed to restore the instance: {e}")),
                Err(e) => Err(format!("Failed to receive the checkpoint: {e}")),
            };
            let _ = std::fs::remove_dir_all(&dir);
            restored?;
        }
        Ok(())
    }
}
