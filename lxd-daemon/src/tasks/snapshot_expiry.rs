//! Expired instance snapshots are deleted once a minute (LXD's
//! `pruneExpiredInstanceSnapshotsTask`), first right after the daemon starts; each deletion
//! goes through the storage driver and sends `instance-snapshot-deleted`.

use std::time::Duration;

use chrono::Utc;

use crate::events::Requestor;
use crate::handlers::instances::snapshots::remove_snapshot;
use crate::handlers::instances::store::load;
use crate::state::AppState;

/// How often LXD looks for expired snapshots.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// Run [`prune_expired`] now and then every [`INTERVAL`] until shutdown.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut stop = state.shutdown.subscribe();
        loop {
            let removed = prune_expired(&state).await;
            if removed > 0 {
                tracing::info!(count = removed, "Deleted expired instance snapshots");
            }
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
}

/// Delete every snapshot whose `expires_at` lies in the past; returns how many went.
pub async fn prune_expired(state: &AppState) -> usize {
    let now = Utc::now();
    let Ok(candidates) = state.db.read(lxd_db::instances::snapshots::expiring) else {
        return 0;
    };
    let mut removed = 0;
    for (project, instance, snap, expires_at) in candidates {
        let due = crate::time::parse_go_time(&expires_at).is_ok_and(|t| t <= now);
        if !due {
            continue;
        }
        let Ok(inst) = load(state, &project, &instance) else {
            continue;
        };
        match remove_snapshot(state, &inst, &snap).await {
            Ok(()) => {
                removed += 1;
                state.events.lifecycle(
                    &project,
                    "instance-snapshot-deleted",
                    format!("/1.0/instances/{instance}/snapshots/{snap}"),
                    &Requestor::default(),
                );
            }
            Err(e) => tracing::error!(
                instance = %instance, snapshot = %snap, error = %e,
                "Failed to delete expired snapshot"
            ),
        }
    }
    removed
}
