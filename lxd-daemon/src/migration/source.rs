//! The source side of a migration (LXD's `migrationSourceWs.Do`): offer the pool's methods
//! with the snapshot list, read the target's answer, send the index header and the data, then
//! wait for the target's verdict. Any failure is reported to the target on the control
//! channel before the sockets close.

use std::sync::Arc;

use lxd_api::instance::InstanceSnapshot;
use lxd_db::instances::snapshots::SnapshotRow;

use super::progress::Progress;
use super::proto::{MigrationControl, MigrationHeader, CRIU_NONE, CRIU_RSYNC, FS_RSYNC};
use super::transfer::SendPlan;
use super::types::{effective_rsync_features, match_types, pool_types, types_to_header};
use super::{records, Sockets};
use crate::handlers::instances::store::Loaded;
use crate::operations::Op;
use crate::state::AppState;

/// What is migrated.
pub struct Source {
    pub state: AppState,
    pub inst: Loaded,
    /// Set when a snapshot is the source (it arrives as a plain instance).
    pub snapshot: Option<SnapshotRow>,
    pub instance_only: bool,
    pub allow_inconsistent: bool,
    /// Move the running instance with its processes (CRIU).
    pub live: bool,
}

impl Source {
    /// Run the conversation on connected `sockets`.
    pub async fn run(self, mut sockets: Sockets, op: Arc<Op>) -> Result<(), String> {
        let instance = self.inst.row.name.clone();
        tracing::info!(instance = %instance, "Migration channels connected on source");
        let mut checkpoint = None;
        let result = self.exchange(&mut sockets, &op, &mut checkpoint).await;
        if let Some(dir) = &checkpoint {
            if result.is_err() {
                self.restore_here(dir).await;
            }
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Err(e) = &result {
            tracing::error!(instance = %instance, error = %e, "Migration failed on source");
            let msg = MigrationControl::from_result(Some(e)).encode();
            let _ = sockets.control.send_message(msg).await;
        }
        sockets.close();
        result
    }

    /// After a dump, a failed migration brings the instance back here from its checkpoint
    /// rather than leaving it stopped.
    async fn restore_here(&self, dir: &std::path::Path) {
        let name = &self.inst.row.name;
        match super::restore_instance(&self.state, &self.inst.project, name, dir).await {
            Ok(()) => {
                tracing::info!(instance = %name, "Restored the instance after a failed live migration")
            }
            Err(e) => {
                tracing::error!(instance = %name, error = %e, "Failed to restore the instance after a failed live migration")
            }
        }
    }

    async fn exchange(
        &self,
        sockets: &mut Sockets,
        op: &Arc<Op>,
        checkpoint: &mut Option<std::path::PathBuf>,
    ) -> Result<(), String> {
        let state = &self.state;
        let pool_name = self
            .inst
            .root_pool()
            .ok_or("Failed loading instance: No root device could be found")?;
        let pool_row = state
            .db
            .read(|c| lxd_db::pools::get(c, &pool_name))
            .map_err(|e| format!("Failed loading instance: {e}"))?;
        let (pool, driver) =
            crate::instances::rootfs::pool(&state.paths, &pool_row).map_err(|e| e.to_string())?;
        let ours = pool_types(&pool_row.driver, &pool_row.config);
        let running = self.snapshot.is_none() && self.inst.running();

        let mut offer = types_to_header(&ours);
        offer.index_header_version = Some(super::types::INDEX_HEADER_VERSION);
        let live = running && self.live;
        offer.criu = running.then_some(if live { CRIU_RSYNC } else { CRIU_NONE });
        offer.predump = Some(false);
        let (project, name) = (self.inst.project.clone(), self.inst.row.name.clone());
        let snapshot_rows = if self.instance_only || self.snapshot.is_some() {
            Vec::new()
        } else {
            state
                .db
                .read(|c| lxd_db::instances::snapshots::list(c, &project, &name))
                .map_err(|e| format!("Failed generating instance migration config: {e}"))?
        };
        offer.snapshot_names = snapshot_rows.iter().map(|s| s.name.clone()).collect();
        offer.snapshots = snapshot_rows
            .iter()
            .map(records::snapshot_to_proto)
            .collect();

        sockets
            .control
            .send_message(offer.encode())
            .await
            .map_err(|e| format!("Failed sending migration offer header: {e}"))?;
        let answer = sockets
            .control
            .recv_message()
            .await
            .map_err(|e| e.to_string())?;
        let answer = MigrationHeader::decode(&answer).map_err(|e| e.to_string())?;

        let rsync_features = effective_rsync_features(&answer);
        let matched = match_types(&answer, FS_RSYNC, &ours)
            .map_err(|e| format!("Failed to negotiate migration type: {e}"))?;
        let refresh = answer.refresh == Some(true);
        let to_send = if refresh {
            answer.snapshot_names.clone()
        } else {
            offer.snapshot_names.clone()
        };
        let index = (answer.index_header_version.unwrap_or(0) >= 1)
            .then(|| self.index_header(&snapshot_rows, &to_send, &pool_name));
        let live = live && answer.criu == Some(CRIU_RSYNC);
        let stateless_sync = running && answer.criu == Some(CRIU_NONE);
        let multi_sync = (stateless_sync || live) && matched[0].fs == FS_RSYNC;
        let (volume, label) = match &self.snapshot {
            Some(s) => {
                let v = format!("{}/{}", self.inst.runtime_name(), s.name);
                (v, format!("{name}/{}", s.name))
            }
            None => (self.inst.runtime_name(), name.clone()),
        };
        let mut plan = SendPlan {
            driver,
            pool,
            volume,
            label,
            snapshots: to_send,
            all_snapshots: offer.snapshot_names.clone(),
            method: matched[0].clone(),
            rsync_features,
            bwlimit: pool_row
                .config
                .get("rsync.bwlimit")
                .cloned()
                .unwrap_or_default(),
            index,
            refresh,
            volume_only: self.instance_only || self.snapshot.is_some(),
            allow_inconsistent: self.allow_inconsistent,
            exec: std::path::PathBuf::from(format!("/proc/{}/exe", std::process::id())),
        };
        let runtime_name = self.inst.runtime_name();
        // Live: with rsync the volume goes while the instance runs, then its checkpoint, then
        // the final sync; other methods send the volume once, after the dump.
        if live && !multi_sync {
            *checkpoint = Some(self.dump(&runtime_name).await?);
        }
        let mut fs = std::mem::replace(&mut sockets.fs, super::conn::Conn::closed());
        let progress = Progress::new(Some(op.clone()));
        let (returned, sent) = tokio::task::spawn_blocking(move || {
            let r = plan.send(&mut fs, &progress);
            (fs, r.map(|()| plan))
        })
        .await
        .map_err(|e| e.to_string())?;
        fs = returned;
        let plan = sent?;
        if live && multi_sync {
            *checkpoint = Some(self.dump(&runtime_name).await?);
        }
        if let (Some(dir), Some(criu)) = (checkpoint.clone(), sockets.criu.take()) {
            let (features, exec) = (plan.rsync_features.clone(), plan.exec.clone());
            let progress = Progress::new(Some(op.clone()));
            let (criu, sent) = tokio::task::spawn_blocking(move || {
                let mut criu = criu;
                progress.start("checkpoint");
                let r = super::rsync::send(
                    "checkpoint",
                    &dir,
                    &mut criu,
                    &features,
                    "",
                    &exec,
                    &[],
                    &|n| progress.update(n),
                )
                .map_err(|e| e.message);
                (criu, r)
            })
            .await
            .map_err(|e| e.to_string())?;
            sockets.criu = Some(criu);
            sent?;
        } else if live {
            return Err("The target did not connect the criu channel".into());
        }
        if multi_sync {
            let progress = Progress::new(Some(op.clone()));
            let (returned, synced) = tokio::task::spawn_blocking(move || {
                let r = plan.final_sync(&mut fs, &progress);
                (fs, r)
            })
            .await
            .map_err(|e| e.to_string())?;
            fs = returned;
            synced?;
        }
        sockets.fs = fs;

        let verdict = sockets
            .control
            .recv_message()
            .await
            .map_err(|e| e.to_string())?;
        let verdict = MigrationControl::decode(&verdict).map_err(|e| e.to_string())?;
        if !verdict.success {
            return Err(verdict.message.unwrap_or_default());
        }
        Ok(())
    }

    /// Checkpoint the running instance (its processes end with the dump).
    async fn dump(&self, runtime_name: &str) -> Result<std::path::PathBuf, String> {
        let dir = super::checkpoint_dir(&self.state.paths, "lxd_checkpoint_");
        crate::runtime::lifecycle::checkpoint(&self.state.paths, runtime_name, &dir)
            .await
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                format!("Failed to checkpoint the instance: {e}")
            })?;
        // Its processes ended with the dump: record it stopped and release its host ends.
        crate::handlers::instances::state::stop(&self.state, &self.inst, true, 0).await?;
        Ok(dir)
    }

    /// The index header: the instance and the snapshots being sent.
    fn index_header(
        &self,
        rows: &[SnapshotRow],
        to_send: &[String],
        pool: &str,
    ) -> serde_json::Value {
        let mut instance = self.inst.to_api();
        if let Some(s) = &self.snapshot {
            instance.name = format!("{}/{}", instance.name, s.name);
        }
        let snaps: Vec<InstanceSnapshot> = rows
            .iter()
            .filter(|r| to_send.contains(&r.name))
            .map(|r| {
                crate::handlers::instances::snapshots::to_api(
                    &self.state,
                    &self.inst.project,
                    r.clone(),
                )
            })
            .collect();
        super::index::info(&instance, &snaps, pool)
    }
}
