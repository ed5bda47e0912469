//! `POST /1.0/images/<fingerprint>/refresh` (`lxc image refresh`): refresh one image from its
//! source now, whatever the auto-update settings; the operation's metadata says whether a
//! new image replaced it (`refreshed`).

use axum::extract::{Path, State};
use lxd_api::OperationClass;

use super::{image_project, image_url};
use crate::api::caller::Caller;
use crate::api::extract::Params;
use crate::api::{ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

/// `POST /1.0/images/{fingerprint}/refresh`
pub async fn post_image_refresh(
    State(state): State<AppState>,
    Path(fp): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let image = super::load_image(&state, &project, &fp)?;
    let mut spec = OpSpec::task("Refreshing image", &project);
    spec.class = OperationClass::Task;
    spec.resources = Some(
        [(
            "images".to_string(),
            vec![image_url(&image.fingerprint, &project)],
        )]
        .into(),
    );
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |op| async move {
        crate::remote_images::refresh::refresh_image(
            &task_state,
            Some(op),
            &project,
            &image.fingerprint,
            &requestor,
        )
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "Failed to update image {:?} in project {project:?}: {e}",
                image.fingerprint
            )
        })
    });
    Ok(ApiResponse::operation(&op))
}
