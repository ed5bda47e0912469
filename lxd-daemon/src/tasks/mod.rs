//! Background tasks the daemon runs on a schedule while it serves (LXD's `task.Every`).

pub mod snapshot_expiry;

use crate::state::AppState;

/// Start every scheduled task; each stops when the daemon shuts down.
pub fn spawn_all(state: &AppState) {
    snapshot_expiry::spawn(state.clone());
}
