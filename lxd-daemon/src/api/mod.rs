//! The HTTP layer: responses, errors, request extraction and the router.
//!
//! Handlers return [`ApiResult`]; every error becomes LXD's error envelope in exactly one place
//! ([`error::ApiError`]'s `IntoResponse`).

pub mod auth;
pub mod caller;
pub mod error;
pub mod extract;
pub mod response;
pub mod router;

pub use error::ApiError;
pub use response::{ApiResponse, ApiResult};
