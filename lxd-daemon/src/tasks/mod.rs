//! Background tasks the daemon runs on a schedule, as LXD's `task` package does: each run is a
//! task operation (visible in `/1.0/operations`), and none holds up the API.

pub mod image_auto_update;
pub mod image_expiry;
pub mod snapshot_expiry;

use std::time::Duration;

use crate::state::AppState;

/// Start every scheduled task; they stop when the daemon shuts down.
pub fn start(state: &AppState) {
    snapshot_expiry::spawn(state.clone());
    image_auto_update::spawn(state.clone());
    let s = state.clone();
    spawn_daily(state, move || {
        let s = s.clone();
        async move { image_expiry::run(&s).await }
    });
}

/// Run `f` every 24 hours (LXD's interval for image expiry), first one day after start; the
/// start-up run is the caller's.
fn spawn_daily<F, Fut>(state: &AppState, f: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut stop = state.shutdown.subscribe();
    tokio::spawn(async move {
        let day = Duration::from_secs(24 * 3600);
        loop {
            let stopped = tokio::select! {
                _ = tokio::time::sleep(day) => false,
                _ = stop.wait_for(|s| *s) => true,
            };
            if stopped {
                return;
            }
            f().await;
        }
    });
}
