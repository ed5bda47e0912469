//! The route table: every endpoint the daemon serves, and LXD's answers for the rest.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, put};
use axum::Router;

use super::error::ApiError;
use super::extract::MAX_JSON_BODY;
use crate::handlers::images::{aliases, export, push, records, refresh, secret, upload};
use crate::handlers::instances::{
    backups, console, create, delete, exec, files, list, logs, metadata, rename, snapshot_edit,
    snapshots, state, update,
};
use crate::handlers::{
    certificates, events, internal, operations, profiles, projects, resources, root, server,
    storage_pools, warnings,
};
use crate::state::AppState;

/// Every `(method, path)` the router serves, in OpenAPI path syntax; the spec test checks
/// `api-spec/rest-api.yaml` against this list in both directions.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/1.0"),
    ("put", "/1.0"),
    ("patch", "/1.0"),
    ("get", "/1.0/certificates"),
    ("post", "/1.0/certificates"),
    ("get", "/1.0/certificates/{fingerprint}"),
    ("put", "/1.0/certificates/{fingerprint}"),
    ("patch", "/1.0/certificates/{fingerprint}"),
    ("delete", "/1.0/certificates/{fingerprint}"),
    ("get", "/1.0/events"),
    ("get", "/1.0/images"),
    ("post", "/1.0/images"),
    ("get", "/1.0/images/aliases"),
    ("post", "/1.0/images/aliases"),
    ("get", "/1.0/images/aliases/{name}"),
    ("put", "/1.0/images/aliases/{name}"),
    ("patch", "/1.0/images/aliases/{name}"),
    ("post", "/1.0/images/aliases/{name}"),
    ("delete", "/1.0/images/aliases/{name}"),
    ("get", "/1.0/images/{fingerprint}"),
    ("put", "/1.0/images/{fingerprint}"),
    ("patch", "/1.0/images/{fingerprint}"),
    ("delete", "/1.0/images/{fingerprint}"),
    ("get", "/1.0/images/{fingerprint}/export"),
    ("post", "/1.0/images/{fingerprint}/export"),
    ("post", "/1.0/images/{fingerprint}/refresh"),
    ("post", "/1.0/images/{fingerprint}/secret"),
    ("get", "/1.0/instances"),
    ("post", "/1.0/instances"),
    ("put", "/1.0/instances"),
    ("get", "/1.0/instances/{name}"),
    ("post", "/1.0/instances/{name}"),
    ("put", "/1.0/instances/{name}"),
    ("patch", "/1.0/instances/{name}"),
    ("delete", "/1.0/instances/{name}"),
    ("post", "/1.0/instances/{name}/exec"),
    ("get", "/1.0/instances/{name}/backups"),
    ("post", "/1.0/instances/{name}/backups"),
    ("get", "/1.0/instances/{name}/backups/{backup}"),
    ("delete", "/1.0/instances/{name}/backups/{backup}"),
    ("get", "/1.0/instances/{name}/backups/{backup}/export"),
    ("get", "/1.0/instances/{name}/console"),
    ("post", "/1.0/instances/{name}/console"),
    ("delete", "/1.0/instances/{name}/console"),
    ("get", "/1.0/instances/{name}/files"),
    ("head", "/1.0/instances/{name}/files"),
    ("post", "/1.0/instances/{name}/files"),
    ("delete", "/1.0/instances/{name}/files"),
    ("get", "/1.0/instances/{name}/snapshots"),
    ("post", "/1.0/instances/{name}/snapshots"),
    ("get", "/1.0/instances/{name}/snapshots/{snap}"),
    ("post", "/1.0/instances/{name}/snapshots/{snap}"),
    ("put", "/1.0/instances/{name}/snapshots/{snap}"),
    ("patch", "/1.0/instances/{name}/snapshots/{snap}"),
    ("delete", "/1.0/instances/{name}/snapshots/{snap}"),
    ("get", "/1.0/instances/{name}/metadata"),
    ("put", "/1.0/instances/{name}/metadata"),
    ("patch", "/1.0/instances/{name}/metadata"),
    ("get", "/1.0/instances/{name}/metadata/templates"),
    ("post", "/1.0/instances/{name}/metadata/templates"),
    ("delete", "/1.0/instances/{name}/metadata/templates"),
    ("get", "/1.0/instances/{name}/logs"),
    ("get", "/1.0/instances/{name}/logs/{file}"),
    ("delete", "/1.0/instances/{name}/logs/{file}"),
    ("get", "/1.0/instances/{name}/state"),
    ("put", "/1.0/instances/{name}/state"),
    ("get", "/1.0/containers"),
    ("post", "/1.0/containers"),
    ("put", "/1.0/containers"),
    ("get", "/1.0/containers/{name}"),
    ("post", "/1.0/containers/{name}"),
    ("put", "/1.0/containers/{name}"),
    ("patch", "/1.0/containers/{name}"),
    ("delete", "/1.0/containers/{name}"),
    ("post", "/1.0/containers/{name}/exec"),
    ("get", "/1.0/containers/{name}/backups"),
    ("post", "/1.0/containers/{name}/backups"),
    ("get", "/1.0/containers/{name}/backups/{backup}"),
    ("delete", "/1.0/containers/{name}/backups/{backup}"),
    ("get", "/1.0/containers/{name}/backups/{backup}/export"),
    ("get", "/1.0/containers/{name}/console"),
    ("post", "/1.0/containers/{name}/console"),
    ("delete", "/1.0/containers/{name}/console"),
    ("get", "/1.0/containers/{name}/files"),
    ("head", "/1.0/containers/{name}/files"),
    ("post", "/1.0/containers/{name}/files"),
    ("delete", "/1.0/containers/{name}/files"),
    ("get", "/1.0/containers/{name}/snapshots"),
    ("post", "/1.0/containers/{name}/snapshots"),
    ("get", "/1.0/containers/{name}/snapshots/{snap}"),
    ("post", "/1.0/containers/{name}/snapshots/{snap}"),
    ("put", "/1.0/containers/{name}/snapshots/{snap}"),
    ("patch", "/1.0/containers/{name}/snapshots/{snap}"),
    ("delete", "/1.0/containers/{name}/snapshots/{snap}"),
    ("get", "/1.0/containers/{name}/metadata"),
    ("put", "/1.0/containers/{name}/metadata"),
    ("patch", "/1.0/containers/{name}/metadata"),
    ("get", "/1.0/containers/{name}/metadata/templates"),
    ("post", "/1.0/containers/{name}/metadata/templates"),
    ("delete", "/1.0/containers/{name}/metadata/templates"),
    ("get", "/1.0/containers/{name}/logs"),
    ("get", "/1.0/containers/{name}/logs/{file}"),
    ("delete", "/1.0/containers/{name}/logs/{file}"),
    ("get", "/1.0/containers/{name}/state"),
    ("put", "/1.0/containers/{name}/state"),
    ("get", "/1.0/operations"),
    ("get", "/1.0/operations/{id}"),
    ("delete", "/1.0/operations/{id}"),
    ("get", "/1.0/operations/{id}/wait"),
    ("get", "/1.0/operations/{id}/websocket"),
    ("get", "/1.0/profiles"),
    ("post", "/1.0/profiles"),
    ("get", "/1.0/profiles/{name}"),
    ("put", "/1.0/profiles/{name}"),
    ("patch", "/1.0/profiles/{name}"),
    ("post", "/1.0/profiles/{name}"),
    ("delete", "/1.0/profiles/{name}"),
    ("get", "/1.0/projects"),
    ("post", "/1.0/projects"),
    ("get", "/1.0/projects/{name}"),
    ("put", "/1.0/projects/{name}"),
    ("patch", "/1.0/projects/{name}"),
    ("post", "/1.0/projects/{name}"),
    ("delete", "/1.0/projects/{name}"),
    ("get", "/1.0/resources"),
    ("get", "/1.0/storage-pools"),
    ("post", "/1.0/storage-pools"),
    ("get", "/1.0/storage-pools/{name}"),
    ("put", "/1.0/storage-pools/{name}"),
    ("patch", "/1.0/storage-pools/{name}"),
    ("delete", "/1.0/storage-pools/{name}"),
    ("get", "/1.0/storage-pools/{name}/resources"),
    ("get", "/1.0/storage-pools/{name}/volumes"),
    ("post", "/1.0/storage-pools/{name}/volumes"),
    ("get", "/1.0/storage-pools/{name}/volumes/{type}"),
    ("post", "/1.0/storage-pools/{name}/volumes/{type}"),
    ("get", "/1.0/storage-pools/{name}/volumes/{type}/{volume}"),
    ("put", "/1.0/storage-pools/{name}/volumes/{type}/{volume}"),
    ("patch", "/1.0/storage-pools/{name}/volumes/{type}/{volume}"),
    ("post", "/1.0/storage-pools/{name}/volumes/{type}/{volume}"),
    (
        "delete",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}",
    ),
    (
        "get",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}/snapshots",
    ),
    (
        "post",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}/snapshots",
    ),
    (
        "get",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}/snapshots/{snapshot}",
    ),
    (
        "put",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}/snapshots/{snapshot}",
    ),
    (
        "patch",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}/snapshots/{snapshot}",
    ),
    (
        "post",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}/snapshots/{snapshot}",
    ),
    (
        "delete",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}/snapshots/{snapshot}",
    ),
    (
        "get",
        "/1.0/storage-pools/{name}/volumes/{type}/{volume}/state",
    ),
    ("get", "/1.0/warnings"),
    ("get", "/1.0/warnings/{uuid}"),
    ("put", "/1.0/warnings/{uuid}"),
    ("patch", "/1.0/warnings/{uuid}"),
    ("delete", "/1.0/warnings/{uuid}"),
    ("get", "/internal/ready"),
    ("put", "/internal/shutdown"),
    ("post", "/internal/containers/{name}/onstop"),
];

async fn not_found() -> ApiError {
    ApiError::not_found("not found")
}

async fn not_implemented() -> ApiError {
    ApiError::not_implemented()
}

/// Instance endpoints, served under `/1.0/instances` and the legacy `/1.0/containers`.
fn instance_routes(base: &str) -> Router<AppState> {
    Router::new()
        .route(
            base,
            get(list::get_instances)
                .post(create::post_instances)
                .put(rename::put_instances),
        )
        .route(
            &format!("{base}/{{name}}"),
            get(list::get_instance)
                .post(rename::post_instance)
                .put(update::put_instance)
                .patch(update::patch_instance)
                .delete(delete::delete_instance),
        )
        .route(
            &format!("{base}/{{name}}/exec"),
            axum::routing::post(exec::post_instance_exec),
        )
        .route(
            &format!("{base}/{{name}}/console"),
            get(logs::get_instance_console)
                .post(console::post_instance_console)
                .delete(console::delete_instance_console),
        )
        .route(
            &format!("{base}/{{name}}/files"),
            get(files::get_instance_file)
                .head(files::get_instance_file)
                .post(files::post_instance_file)
                .delete(files::delete_instance_file)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            &format!("{base}/{{name}}/backups"),
            get(backups::get_backups).post(backups::post_backups),
        )
        .route(
            &format!("{base}/{{name}}/backups/{{backup}}"),
            get(backups::get_backup).delete(backups::delete_backup),
        )
        .route(
            &format!("{base}/{{name}}/backups/{{backup}}/export"),
            get(backups::get_backup_export),
        )
        .route(
            &format!("{base}/{{name}}/snapshots"),
            get(snapshots::get_snapshots).post(snapshots::post_snapshots),
        )
        .route(
            &format!("{base}/{{name}}/snapshots/{{snap}}"),
            get(snapshots::get_snapshot)
                .post(snapshot_edit::post_snapshot)
                .put(snapshot_edit::put_snapshot)
                .patch(snapshot_edit::patch_snapshot)
                .delete(snapshots::delete_snapshot),
        )
        .route(
            &format!("{base}/{{name}}/metadata"),
            get(metadata::get_metadata)
                .put(metadata::put_metadata)
                .patch(metadata::patch_metadata),
        )
        .route(
            &format!("{base}/{{name}}/metadata/templates"),
            get(metadata::get_templates)
                .post(metadata::post_templates)
                .delete(metadata::delete_templates),
        )
        .route(
            &format!("{base}/{{name}}/logs"),
            get(logs::get_instance_logs),
        )
        .route(
            &format!("{base}/{{name}}/logs/{{file}}"),
            get(logs::get_instance_log).delete(logs::delete_instance_log),
        )
        .route(
            &format!("{base}/{{name}}/state"),
            get(list::get_instance_state).put(state::put_instance_state),
        )
}

/// Storage volume endpoints under `/1.0/storage-pools/{name}/volumes`.
fn volume_routes() -> Router<AppState> {
    use crate::handlers::storage_volumes::{create, delete, list, rename, snapshots, update};
    let base = "/1.0/storage-pools/{name}/volumes";
    Router::new()
        .route(base, get(list::get_volumes).post(create::post_volumes))
        .route(
            &format!("{base}/{{type}}"),
            get(list::get_volumes_of_type).post(create::post_volumes_of_type),
        )
        .route(
            &format!("{base}/{{type}}/{{volume}}"),
            get(list::get_volume)
                .put(update::put_volume)
                .patch(update::patch_volume)
                .post(rename::post_volume)
                .delete(delete::delete_volume),
        )
        .route(
            &format!("{base}/{{type}}/{{volume}}/snapshots"),
            get(snapshots::get_snapshots).post(snapshots::post_snapshots),
        )
        .route(
            &format!("{base}/{{type}}/{{volume}}/snapshots/{{snapshot}}"),
            get(snapshots::get_snapshot)
                .put(snapshots::put_snapshot)
                .patch(snapshots::patch_snapshot)
                .post(snapshots::post_snapshot)
                .delete(snapshots::delete_snapshot),
        )
        .route(
            &format!("{base}/{{type}}/{{volume}}/state"),
            get(list::get_volume_state),
        )
}

/// The full API router over `state`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(root::get_root))
        .route(
            "/1.0",
            get(server::get_server)
                .put(server::put_server)
                .patch(server::patch_server),
        )
        .route(
            "/1.0/certificates",
            get(certificates::get_certificates).post(certificates::add::post_certificates),
        )
        .route(
            "/1.0/certificates/{fingerprint}",
            get(certificates::get_certificate)
                .put(certificates::put_certificate)
                .patch(certificates::patch_certificate)
                .delete(certificates::delete_certificate),
        )
        .route("/1.0/events", get(events::get_events))
        .route(
            "/1.0/images",
            get(records::get_images)
                .post(upload::post_images)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/1.0/images/{fingerprint}/export",
            get(export::get_image_export).post(push::post_image_export),
        )
        .route(
            "/1.0/images/{fingerprint}/refresh",
            axum::routing::post(refresh::post_image_refresh),
        )
        .route(
            "/1.0/images/{fingerprint}/secret",
            axum::routing::post(secret::post_image_secret),
        )
        .route(
            "/1.0/images/aliases",
            get(aliases::get_aliases).post(aliases::post_aliases),
        )
        .route(
            "/1.0/images/aliases/{name}",
            get(aliases::get_alias)
                .put(aliases::put_alias)
                .patch(aliases::patch_alias)
                .post(aliases::post_alias)
                .delete(aliases::delete_alias),
        )
        .route(
            "/1.0/images/{fingerprint}",
            get(records::get_image)
                .put(records::put_image)
                .patch(records::patch_image)
                .delete(records::delete_image),
        )
        .merge(instance_routes("/1.0/instances"))
        .merge(instance_routes("/1.0/containers"))
        .route("/1.0/operations", get(operations::get_operations))
        .route(
            "/1.0/operations/{id}",
            get(operations::get_operation).delete(operations::delete_operation),
        )
        .route(
            "/1.0/operations/{id}/wait",
            get(operations::get_operation_wait),
        )
        .route(
            "/1.0/operations/{id}/websocket",
            get(operations::get_operation_websocket),
        )
        .route(
            "/1.0/profiles",
            get(profiles::get_profiles).post(profiles::post_profiles),
        )
        .route(
            "/1.0/profiles/{name}",
            get(profiles::get_profile)
                .put(profiles::put_profile)
                .patch(profiles::patch_profile)
                .post(profiles::post_profile)
                .delete(profiles::delete_profile),
        )
        .route(
            "/1.0/projects",
            get(projects::get_projects).post(projects::post_projects),
        )
        .route(
            "/1.0/projects/{name}",
            get(projects::get_project)
                .put(projects::put_project)
                .patch(projects::patch_project)
                .post(projects::post_project)
                .delete(projects::delete_project),
        )
        .route("/1.0/resources", get(resources::get_resources))
        .route(
            "/1.0/storage-pools",
            get(storage_pools::get_storage_pools).post(storage_pools::post_storage_pools),
        )
        .route(
            "/1.0/storage-pools/{name}",
            get(storage_pools::get_storage_pool)
                .put(storage_pools::put_storage_pool)
                .patch(storage_pools::patch_storage_pool)
                .delete(storage_pools::delete_storage_pool),
        )
        .route(
            "/1.0/storage-pools/{name}/resources",
            get(storage_pools::get_storage_pool_resources),
        )
        .merge(volume_routes())
        .route("/1.0/warnings", get(warnings::get_warnings))
        .route(
            "/1.0/warnings/{uuid}",
            get(warnings::get_warning)
                .put(warnings::put_warning)
                .patch(warnings::put_warning)
                .delete(warnings::delete_warning),
        )
        .route("/internal/ready", get(internal::get_ready))
        .route("/internal/shutdown", put(internal::put_shutdown))
        .route(
            "/internal/containers/{name}/onstop",
            axum::routing::post(internal::post_container_onstop),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::auth::authorize,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(not_implemented)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .with_state(state)
}
