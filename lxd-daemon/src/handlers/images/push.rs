//! Push mode image copies (`lxc image copy --mode push`), both sides:
//! - the target answers `POST /1.0/images` with `source.mode: push` by a token operation
//!   holding the requested `aliases`, `expires_at`, `properties` and `public`, and applies them
//!   when the source uploads with that token;
//! - the source answers `POST /1.0/images/<fp>/export` (`ImageExportPost`: target URL and
//!   certificate, secret, project) with a "Downloading image" operation that uploads the image
//!   there and waits for the target's operation.

use axum::extract::{Path, State};
use lxd_api::image::Image;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::publish::AliasRequest;
use super::{image_project, image_url};
use crate::api::caller::Caller;
use crate::api::extract::{LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::remote_images::push::{push_image, PushTarget};
use crate::state::AppState;

/// What the target's token keeps from `POST /1.0/images` in push mode.
#[derive(Debug, Default, Deserialize)]
pub struct PushRequest {
    #[serde(default)]
    source: PushSource,
    #[serde(default)]
    aliases: Value,
    #[serde(default)]
    expires_at: Value,
    #[serde(default)]
    properties: Value,
    #[serde(default)]
    public: bool,
}

#[derive(Debug, Default, Deserialize)]
struct PushSource {
    #[serde(default)]
    fingerprint: String,
}

/// The target's side: a token for the image the source will upload.
pub fn post_push_token(
    state: &AppState,
    project: &str,
    req: PushRequest,
    caller: &Caller,
) -> ApiResult {
    if req.source.fingerprint.is_empty() {
        return Err(ApiError::bad_request("Missing source fingerprint"));
    }
    let mut metadata = Map::new();
    metadata.insert("aliases".into(), req.aliases);
    metadata.insert("expires_at".into(), req.expires_at);
    metadata.insert("properties".into(), req.properties);
    metadata.insert("public".into(), Value::Bool(req.public));
    let url = image_url(&req.source.fingerprint, project);
    let op = super::secret::start_token(state, project, url, metadata, &caller.requestor());
    Ok(ApiResponse::operation(&op))
}

/// Apply a push token's settings to an uploaded image's record; returns the aliases to add.
pub fn apply_token(token: &Map<String, Value>, image: &mut Image) -> Vec<AliasRequest> {
    if let Some(properties) = token.get("properties").and_then(Value::as_object) {
        image.properties = properties
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
    }
    if let Some(public) = token.get("public").and_then(Value::as_bool) {
        image.public = public;
    }
    if let Some(expires) = token.get("expires_at").and_then(Value::as_str) {
        image.expires_at = expires.to_string();
    }
    token
        .get("aliases")
        .cloned()
        .and_then(|a| serde_json::from_value(a).ok())
        .unwrap_or_default()
}

/// `ImageExportPost`: where the source pushes the image.
#[derive(Debug, Default, Deserialize)]
pub struct ImageExportPost {
    #[serde(default)]
    target: String,
    #[serde(default)]
    certificate: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    project: String,
}

/// `POST /1.0/images/{fingerprint}/export`: the source's side.
pub async fn post_image_export(
    State(state): State<AppState>,
    Path(fp): Path<String>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<ImageExportPost>,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let image = super::load_image(&state, &project, &fp)?;
    if req.target.is_empty() {
        return Err(ApiError::bad_request("Missing target URL"));
    }
    let target = PushTarget {
        url: req.target,
        certificate: req.certificate,
        secret: req.secret,
        project: req.project,
    };
    let spec = OpSpec::task("Downloading image", &project);
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_op| async move {
        push_image(&task_state.paths, &image.fingerprint, &target)
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &project,
            "image-retrieved",
            image_url(&image.fingerprint, &project),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
