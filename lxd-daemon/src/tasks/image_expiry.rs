//! Cached image expiry (`images.remote_cache_expiry`, per project or server-wide, in days):
//! images downloaded from a remote (`cached`) and not used for that long are deleted with
//! their files and their image volumes, at start-up and daily. Zero or less keeps them, as in
//! LXD 5.0.2. Also the start-up sweep of files in `images/` that no image record owns (partial
//! downloads are kept for a day so they can resume).

use chrono::{DateTime, Duration, Utc};
use lxd_api::image::ZERO_TIME;

use crate::events::Requestor;
use crate::handlers::images::image_url;
use crate::operations::OpSpec;
use crate::state::AppState;

/// LXD's default expiry in days.
const DEFAULT_EXPIRY_DAYS: i64 = 10;

/// Whether a cached image last used at `last_used_at` (Go's zero time when never used, then
/// `uploaded_at` counts) has expired at `now` under an expiry of `days` days.
pub fn is_expired(uploaded_at: &str, last_used_at: &str, days: i64, now: DateTime<Utc>) -> bool {
    if days <= 0 {
        return false;
    }
    let stamp = if last_used_at.is_empty() || last_used_at == ZERO_TIME {
        uploaded_at
    } else {
        last_used_at
    };
    match DateTime::parse_from_rfc3339(stamp) {
        Ok(t) => t.with_timezone(&Utc) + Duration::days(days) <= now,
        // An unreadable stamp is never a reason to delete someone's image.
        Err(_) => false,
    }
}

/// The expiry in days for `project`: its own `images.remote_cache_expiry`, else the server's.
fn expiry_days(project: &lxd_api::ConfigMap, server: &lxd_api::ConfigMap) -> i64 {
    project
        .get("images.remote_cache_expiry")
        .or_else(|| server.get("images.remote_cache_expiry"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_EXPIRY_DAYS)
}

/// The `(project, fingerprint)` of every cached image expired at `now`.
fn expired(state: &AppState, now: DateTime<Utc>) -> Result<Vec<(String, String)>, String> {
    state
        .db
        .read(|c| {
            let server = lxd_db::server_config::get_all(c)?;
            let mut out = Vec::new();
            for (project, fp, uploaded, used) in lxd_db::images::cached(c)? {
                let config = lxd_db::projects::get(c, &project)?.config;
                if is_expired(&uploaded, &used, expiry_days(&config, &server), now) {
                    out.push((project, fp));
                }
            }
            Ok(out)
        })
        .map_err(|e| e.to_string())
}

/// Delete the expired cached images now; returns how many went.
pub async fn prune(state: &AppState) -> Result<usize, String> {
    let victims = expired(state, Utc::now())?;
    for (project, fingerprint) in &victims {
        crate::image_store::delete_image(state, project, fingerprint)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(project = %project, fingerprint = %fingerprint, "Deleted expired cached image");
        state.events.lifecycle(
            project,
            "image-deleted",
            image_url(fingerprint, project),
            &Requestor::default(),
        );
    }
    Ok(victims.len())
}

/// One scheduled run, as a task operation ("Cleaning up expired images").
pub async fn run(state: &AppState) {
    let s = state.clone();
    let op = state.operations.start(
        OpSpec::task("Cleaning up expired images", ""),
        move |_op| async move { prune(&s).await.map(|_| ()) },
    );
    op.wait(None).await;
}

/// Remove files in `images/` whose fingerprint no image record has (left by a crash during an
/// upload or a delete), as LXD's start-up sweep does.
pub async fn prune_leftover_files(state: &AppState) {
    let known = match state.db.read(lxd_db::images::all_fingerprints) {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "Unable to retrieve the list of images");
            return;
        }
    };
    let dir = state.paths.var.join("images");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == crate::remote_images::download::PARTIAL_DIR {
            prune_stale_partials(&entry.path());
            continue;
        }
        let fp = name.split('.').next().unwrap_or_default();
        if known.iter().any(|k| k == fp) {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Ok(()) => tracing::debug!(file = %name, "Removed leftover image file"),
            Err(e) => tracing::warn!(file = %name, error = %e, "Unable to remove leftover image"),
        }
    }
}

/// Partial downloads are kept so an interrupted download resumes, even after a restart; one
/// untouched for a day is abandoned.
fn prune_stale_partials(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > day);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn is_expired_counts_from_last_use_else_upload() {
        let now = at("2026-12-10T00:00:00Z");
        // Used 9 days ago: kept under 10 days, gone under 9.
        assert!(!is_expired(
            "2026-11-01T00:00:00Z",
            "2026-12-01T00:00:00Z",
            10,
            now
        ));
        assert!(is_expired(
            "2026-11-01T00:00:00Z",
            "2026-12-01T00:00:00Z",
            9,
            now
        ));
        // Never used: the upload date counts.
        assert!(is_expired("2026-11-01T00:00:00Z", ZERO_TIME, 10, now));
        assert!(!is_expired("2026-12-05T00:00:00Z", ZERO_TIME, 10, now));
    }

    #[test]
    fn is_expired_zero_or_negative_days_keeps_everything() {
        let now = at("2030-01-01T00:00:00Z");
        assert!(!is_expired("2000-01-01T00:00:00Z", ZERO_TIME, 0, now));
        assert!(!is_expired("2000-01-01T00:00:00Z", ZERO_TIME, -1, now));
    }

    #[test]
    fn is_expired_unreadable_stamp_keeps_the_image() {
        assert!(!is_expired(
            "garbage",
            ZERO_TIME,
            1,
            at("2030-01-01T00:00:00Z")
        ));
    }

    #[test]
    fn expiry_days_project_overrides_server_then_default() {
        let mut server = lxd_api::ConfigMap::new();
        let mut project = lxd_api::ConfigMap::new();
        assert_eq!(expiry_days(&project, &server), 10);
        server.insert("images.remote_cache_expiry".into(), "3".into());
        assert_eq!(expiry_days(&project, &server), 3);
        project.insert("images.remote_cache_expiry".into(), "0".into());
        assert_eq!(expiry_days(&project, &server), 0);
    }
}
