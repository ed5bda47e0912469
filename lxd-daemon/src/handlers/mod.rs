//! Endpoint handlers, one file per resource; named `<verb>_<resource>`.

pub mod certificates;
pub mod events;
pub mod images;
pub mod instances;
pub mod internal;
pub mod operations;
pub mod profiles;
pub mod projects;
pub mod resources;
pub mod root;
pub mod server;
pub mod storage_pools;
pub mod storage_volumes;
pub mod warnings;

use crate::api::ApiError;

/// Check the `?project=` parameter names an existing project (LXD's text when it does not).
pub fn require_project(state: &crate::state::Daemon, project: &str) -> Result<(), ApiError> {
    state
        .db
        .read(|c| lxd_db::projects::id(c, project))
        .map(|_| ())
        .map_err(|e| match e {
            lxd_db::DbError::NotFound(_) => ApiError::not_found(format!(
                "Failed loading project {project:?}: Project not found"
            )),
            other => other.into(),
        })
}
