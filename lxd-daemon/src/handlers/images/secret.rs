//! Image tokens, two kinds of `token` operation ("Image download token") holding a random
//! secret and naming one image:
//! - `POST /1.0/images/<fingerprint>/secret`: an untrusted caller that passes `?secret=` to
//!   `GET /1.0/images/<fp>` or its `/export` may read that private image;
//! - `POST /1.0/images` with `source.mode: push` (the target of a push mode copy): the source
//!   server uploads the image with `X-LXD-fingerprint` and `X-LXD-secret`, and the token's
//!   `aliases`, `expires_at`, `properties` and `public` apply to the new record.
//!
//! As in LXD, the first use cancels the token, and it keeps working while the finished
//! operation is still listed (a few seconds), long enough for the record and the download.

use std::sync::Arc;

use axum::extract::{Path, State};
use lxd_api::OperationClass;
use serde_json::{Map, Value};

use super::{image_project, image_url};
use crate::api::caller::Caller;
use crate::api::extract::Params;
use crate::api::{ApiResponse, ApiResult};
use crate::events::Requestor;
use crate::operations::{Op, OpSpec};
use crate::state::AppState;

/// Start a token operation for the image at `url` with `metadata` and a new secret.
pub fn start_token(
    state: &AppState,
    project: &str,
    url: String,
    mut metadata: Map<String, Value>,
    requestor: &Requestor,
) -> Arc<Op> {
    metadata.insert(
        "secret".into(),
        Value::String(crate::handlers::certificates::tokens::random_secret()),
    );
    let spec = OpSpec {
        class: OperationClass::Token,
        description: "Image download token".to_string(),
        project: project.to_string(),
        resources: Some([("images".to_string(), vec![url.clone()])].into()),
        metadata: Some(metadata),
        may_cancel: true,
        secrets: Default::default(),
    };
    let op = state
        .operations
        .start(spec, |_op| std::future::pending::<Result<(), String>>());
    state
        .events
        .lifecycle(project, "image-secret-created", url, requestor);
    op
}

/// `POST /1.0/images/{fingerprint}/secret`
pub async fn post_image_secret(
    State(state): State<AppState>,
    Path(fp): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let image = super::load_image(&state, &project, &fp)?;
    let url = image_url(&image.fingerprint, &project);
    let op = start_token(&state, &project, url, Map::new(), &caller.requestor());
    Ok(ApiResponse::operation(&op))
}

/// The metadata of the token with `secret` for the image `fingerprint` in `project`, if there
/// is one. A running token is cancelled by its first use (LXD's `imageValidSecret`).
pub fn take(
    state: &AppState,
    project: &str,
    fingerprint: &str,
    secret: &str,
) -> Option<Map<String, Value>> {
    if secret.is_empty() || fingerprint.is_empty() {
        return None;
    }
    let url = image_url(fingerprint, project);
    let names_image = |_: &Op, api: &lxd_api::Operation| {
        api.resources
            .as_ref()
            .and_then(|r| r.get("images"))
            .is_some_and(|images| images.contains(&url))
    };
    let (op, metadata) = state.operations.find_token(project, secret, names_image)?;
    let _ = op.cancel();
    Some(metadata)
}

/// Whether `secret` is a token for the image `fingerprint` in `project` (used up if so).
pub fn valid(state: &AppState, project: &str, fingerprint: &str, secret: &str) -> bool {
    take(state, project, fingerprint, secret).is_some()
}
