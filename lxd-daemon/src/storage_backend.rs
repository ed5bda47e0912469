//! The daemon's side of storage: pairs pool records from the database with their drivers
//! (drivers never touch the database), and brings pools up at start-up.

use lxd_storage::{Pool, StorageDriver};

use crate::api::ApiError;
use crate::state::AppState;

/// The driver of a pool record.
pub fn driver_of(name: &str) -> Result<Box<dyn StorageDriver>, ApiError> {
    lxd_storage::driver(name).ok_or_else(|| ApiError::internal("Unknown driver"))
}

/// The driver-side view of a pool record.
pub fn pool_of(state: &AppState, row: &lxd_db::pools::PoolRow) -> Pool {
    Pool::new(
        &row.name,
        &state.paths.storage_pool(&row.name),
        row.config.clone(),
    )
}

/// Every pool record, sorted by name.
pub fn all_pools(state: &AppState) -> Result<Vec<lxd_db::pools::PoolRow>, lxd_db::DbError> {
    state.db.read(|c| {
        lxd_db::pools::names(c)?
            .iter()
            .map(|n| lxd_db::pools::get(c, n))
            .collect()
    })
}

/// Mount every pool (after a host reboot, loop-backed pools are not mounted). A pool that
/// fails stays in the database and gets a warning; the daemon starts regardless.
pub async fn mount_all(state: &AppState) {
    let rows = match all_pools(state) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "Failed to list storage pools");
            return;
        }
    };
    for row in rows {
        let Some(driver) = lxd_storage::driver(&row.driver) else {
            tracing::error!(pool = %row.name, driver = %row.driver, "Storage driver not available");
            continue;
        };
        let pool = pool_of(state, &row);
        let mounted = tokio::task::spawn_blocking(move || driver.mount_pool(&pool)).await;
        match mounted {
            Ok(Ok(true)) => tracing::info!(pool = %row.name, "Mounted storage pool"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => record_failure(state, &row.name, &e.to_string()).await,
            Err(e) => record_failure(state, &row.name, &e.to_string()).await,
        }
    }
}

async fn record_failure(state: &AppState, pool: &str, message: &str) {
    tracing::error!(pool, error = message, "Failed to mount storage pool");
    let uuid = uuid::Uuid::new_v4().to_string();
    let now = crate::time::now_rfc3339();
    let kind = format!("Failed to mount storage pool {pool:?}");
    let message = message.to_string();
    let _ = state
        .db
        .write(move |c| lxd_db::warnings::upsert(c, &uuid, &kind, &message, &now))
        .await;
}
