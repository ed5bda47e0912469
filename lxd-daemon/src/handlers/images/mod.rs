//! `/1.0/images`: the image store's records, files and aliases.

pub mod aliases;
pub mod copy_remote;
pub mod export;
pub mod publish;
pub mod push;
pub mod records;
pub mod refresh;
pub mod secret;
pub mod upload;

use crate::api::caller::Caller;
use crate::api::extract::Params;
use crate::api::ApiError;
use crate::state::AppState;

/// The project whose images `?project=` uses (itself when it has `features.images`).
pub fn image_project(state: &AppState, params: &Params) -> Result<String, ApiError> {
    let project = params.project();
    super::require_project(state, project)?;
    let row = state.db.read(|c| lxd_db::projects::get(c, project))?;
    let own = row
        .config
        .get("features.images")
        .is_some_and(|v| v == "true");
    Ok(if own {
        project.to_string()
    } else {
        "default".to_string()
    })
}

/// The project whose images `project` uses.
pub fn image_project_named(state: &AppState, project: &str) -> Result<String, ApiError> {
    let row = state.db.read(|c| lxd_db::projects::get(c, project))?;
    let own = row
        .config
        .get("features.images")
        .is_some_and(|v| v == "true");
    Ok(if own {
        project.to_string()
    } else {
        "default".to_string()
    })
}

/// `/1.0/images/<fp>` with the project suffix LXD adds outside `default`.
pub fn image_url(fingerprint: &str, project: &str) -> String {
    if project == "default" {
        format!("/1.0/images/{fingerprint}")
    } else {
        format!("/1.0/images/{fingerprint}?project={project}")
    }
}

/// Whether `caller` may see `image` (in `project`): callers with access to the request's
/// project see every image, others (untrusted HTTPS callers) public ones and those they hold
/// a download token for (`?secret=`), as LXD's image endpoints do.
pub fn visible_to(
    state: &AppState,
    caller: &Caller,
    params: &Params,
    project: &str,
    image: &lxd_api::image::Image,
) -> bool {
    let token = params.get("secret").unwrap_or_default();
    // A token is used up by any request that carries it, as in LXD.
    let by_token = secret::valid(state, project, &image.fingerprint, token);
    image.public || caller.can_view(params.project()) || by_token
}

/// The image `fingerprint` (or unique prefix) of `project`, or LXD's "Image not found".
pub fn load_image(
    state: &AppState,
    project: &str,
    fingerprint: &str,
) -> Result<lxd_api::image::Image, ApiError> {
    state
        .db
        .read(|c| lxd_db::images::get(c, project, fingerprint))
        .map_err(|e| match e {
            lxd_db::DbError::NotFound(_) => ApiError::not_found("Image not found"),
            other => other.into(),
        })
}

/// Add `aliases` for the image `fingerprint` in `project`; stops at the first name already
/// taken and returns it (the caller words the error).
pub fn create_aliases(
    conn: &rusqlite::Connection,
    project: &str,
    fingerprint: &str,
    aliases: &[publish::AliasRequest],
) -> Result<Option<String>, lxd_db::DbError> {
    for alias in aliases {
        if lxd_db::images::alias(conn, project, &alias.name).is_ok() {
            return Ok(Some(alias.name.clone()));
        }
        lxd_db::images::create_alias(conn, project, &alias.name, fingerprint, &alias.description)?;
    }
    Ok(None)
}

/// LXD's answer for a private image asked for by a caller who may not see it.
pub fn hidden_image(fingerprint: &str) -> ApiError {
    ApiError::not_found(format!("Image {fingerprint:?} not found"))
}
