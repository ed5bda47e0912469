//! `GET /`: the supported API versions.

use crate::api::{ApiResponse, ApiResult};

/// `GET /`
pub async fn get_root() -> ApiResult {
    Ok(ApiResponse::sync(["/1.0"]))
}
