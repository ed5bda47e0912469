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

/// LXD's answer for a private image asked for by a caller who may not see it.
pub fn hidden_image(fingerprint: &str) -> ApiError {
    ApiError::not_found(format!("Image {fingerprint:?} not found"))
}
