//! Image records: list, show, edit and delete (uploads and exports live beside them).

use axum::extract::{Path, State};
use lxd_api::image::ImagePut;
use lxd_api::OperationClass;

use super::{image_project, image_url};
use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

/// `GET /1.0/images`
pub async fn get_images(
    State(state): State<AppState>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let mut fps = state
        .db
        .read(|c| lxd_db::images::fingerprints(c, &project))?;
    if !caller.can_view(params.project()) {
        // Untrusted callers list public images only.
        let mut public = Vec::new();
        for f in fps {
            if super::load_image(&state, &project, &f)?.public {
                public.push(f);
            }
        }
        fps = public;
    }
    if params.recursion() == 0 {
        return Ok(ApiResponse::sync(
            fps.iter()
                .map(|f| image_url(f, &project))
                .collect::<Vec<_>>(),
        ));
    }
    let images = fps
        .iter()
        .map(|f| super::load_image(&state, &project, f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiResponse::sync(images))
}

/// `GET /1.0/images/{fingerprint}`
pub async fn get_image(
    State(state): State<AppState>,
    Path(fp): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let image = super::load_image(&state, &project, &fp)?;
    if !super::visible_to(&state, &caller, &params, &project, &image) {
        return Err(super::hidden_image(&image.fingerprint));
    }
    let etag = image.writable();
    Ok(ApiResponse::sync_etag(image, etag))
}

/// `PUT /1.0/images/{fingerprint}`
pub async fn put_image(
    state: State<AppState>,
    fp: Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<ImagePut>,
) -> ApiResult {
    update(state, fp, params, if_match, caller, move |_| req).await
}

/// `PATCH /1.0/images/{fingerprint}`: only the fields present change.
pub async fn patch_image(
    state: State<AppState>,
    fp: Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<serde_json::Value>,
) -> ApiResult {
    let patch: ImagePut = crate::api::extract::parse_json(req.to_string().as_bytes())?;
    update(state, fp, params, if_match, caller, move |old| {
        let mut next = old.clone();
        if req.get("auto_update").is_some() {
            next.auto_update = patch.auto_update;
        }
        if req.get("public").is_some() {
            next.public = patch.public;
        }
        if req.get("expires_at").is_some() {
            next.expires_at = patch.expires_at;
        }
        if req.get("profiles").is_some() {
            next.profiles = patch.profiles;
        }
        next.properties.extend(patch.properties);
        next
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    Path(fp): Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    compute: impl FnOnce(&ImagePut) -> ImagePut,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let image = super::load_image(&state, &project, &fp)?;
    let old = image.writable();
    if_match.check(&old)?;
    let mut next = compute(&old);
    next.properties.retain(|_, v| !v.is_empty());
    if let Some(profiles) = &next.profiles {
        for name in profiles {
            let exists = state
                .db
                .read(|c| lxd_db::profiles::get(c, &project, name))
                .is_ok();
            if !exists {
                return Err(ApiError::bad_request(format!(
                    "Profile {name:?} doesn't exist"
                )));
            }
        }
    }
    let (p, f) = (project.clone(), image.fingerprint.clone());
    state
        .db
        .write(move |c| lxd_db::images::update(c, &p, &f, &next))
        .await?;
    state.events.lifecycle(
        &project,
        "image-updated",
        image_url(&image.fingerprint, &project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

/// `DELETE /1.0/images/{fingerprint}`: an operation that removes the record, its aliases and,
/// when no project uses the fingerprint any more, its files.
pub async fn delete_image(
    State(state): State<AppState>,
    Path(fp): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let image = super::load_image(&state, &project, &fp)?;
    let fingerprint = image.fingerprint.clone();
    let mut spec = OpSpec::task("Deleting image", &project);
    spec.class = OperationClass::Task;
    spec.resources = Some(
        [(
            "images".to_string(),
            vec![image_url(&fingerprint, &project)],
        )]
        .into(),
    );
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_op| async move {
        crate::image_store::delete_image(&task_state, &project, &fingerprint)
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &project,
            "image-deleted",
            image_url(&fingerprint, &project),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
