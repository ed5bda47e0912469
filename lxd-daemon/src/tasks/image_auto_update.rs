//! Image auto-update (`images.auto_update_interval`, hours, per project or server-wide; 0
//! turns it off): at start-up and every hour whose count since start is a multiple of the
//! interval, every image with `auto_update` is refreshed from its source, in a task operation
//! "Updating images" as LXD does.

use std::time::{Duration, Instant};

use crate::events::Requestor;
use crate::operations::OpSpec;
use crate::remote_images::fetch::auto_update_interval;
use crate::state::AppState;

/// Run at start-up, then hourly until shutdown.
pub fn spawn(state: AppState) {
    let mut stop = state.shutdown.subscribe();
    tokio::spawn(async move {
        let started = Instant::now();
        loop {
            let hours = (started.elapsed().as_secs_f64() / 3600.0).round() as i64;
            run(&state, hours).await;
            let stopped = tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(3600)) => false,
                _ = stop.wait_for(|s| *s) => true,
            };
            if stopped {
                return;
            }
        }
    });
}

/// The `(project, fingerprint)` pairs due at `hours` after start-up.
fn due(state: &AppState, hours: i64) -> Vec<(String, String)> {
    let images = match state.db.read(lxd_db::images::auto_updating) {
        Ok(images) => images,
        Err(e) => {
            tracing::error!(error = %e, "Unable to retrieve image fingerprints");
            return Vec::new();
        }
    };
    images
        .into_iter()
        .filter(|(project, _)| {
            let interval = auto_update_interval(state, project);
            interval > 0 && hours % interval == 0
        })
        .collect()
}

/// One pass: refresh every due image (errors are logged; one failure does not stop the rest).
pub async fn run(state: &AppState, hours: i64) {
    let images = due(state, hours);
    if images.is_empty() {
        return;
    }
    let s = state.clone();
    tracing::info!("Updating images");
    let op = state
        .operations
        .start(OpSpec::task("Updating images", ""), move |_op| async move {
            for (project, fingerprint) in images {
                let refreshed = crate::remote_images::refresh::refresh_image(
                    &s,
                    None,
                    &project,
                    &fingerprint,
                    &Requestor::default(),
                )
                .await;
                if let Err(e) = refreshed {
                    tracing::error!(project = %project, fingerprint = %fingerprint, error = %e, "Failed to update image");
                }
            }
            Ok(())
        });
    op.wait(None).await;
    tracing::info!("Done updating images");
}
