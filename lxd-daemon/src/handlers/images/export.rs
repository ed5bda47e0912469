//! `GET /1.0/images/{fingerprint}/export`: the image file, or a multipart body with the
//! `metadata` and `rootfs` parts of a split image, named as LXD names them.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_util::io::ReaderStream;

use super::image_project;
use crate::api::caller::Caller;
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::image_store;
use crate::state::AppState;

fn extension(path: &std::path::Path) -> &'static str {
    lxd_image::compression::detect_file(path)
        .map(|c| c.extension())
        .unwrap_or("")
}

async fn open(path: &PathBuf) -> Result<(tokio::fs::File, u64), ApiError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ApiError::internal(format!("Failed to open image file: {e}")))?;
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    Ok((file, len))
}

/// `GET /1.0/images/{fingerprint}/export`
pub async fn get_image_export(
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
    let fp = image.fingerprint;
    let main = image_store::image_file(&state.paths, &fp);
    let rootfs = image_store::rootfs_file(&state.paths, &fp);
    if !rootfs.exists() {
        let (file, len) = open(&main).await?;
        let name = format!("{fp}{}", extension(&main));
        let mut resp = Response::new(Body::from_stream(ReaderStream::new(file)));
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        if let Ok(v) = HeaderValue::from_str(&format!("inline;filename={name}")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(ApiResponse::Raw(resp));
    }
    let boundary = uuid::Uuid::new_v4().simple().to_string();
    let parts = [
        ("metadata", format!("meta-{fp}{}", extension(&main)), main),
        ("rootfs", format!("{fp}{}", extension(&rootfs)), rootfs),
    ];
    let stream = image_store::multipart_stream(&boundary, parts)
        .await
        .map_err(|e| ApiError::internal(format!("Failed to open image file: {e}")))?;
    let body = Body::from_stream(stream);
    let content_type = format!("multipart/form-data; boundary={boundary}");
    Ok(ApiResponse::Raw(
        (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response(),
    ))
}
