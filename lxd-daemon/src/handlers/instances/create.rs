//! `POST /1.0/instances`: create an instance from a local image, an image downloaded from a
//! remote server (simplestreams or LXD), or empty, as an operation.

use axum::extract::State;
use lxd_api::instance::InstancesPost;
use lxd_api::OperationClass;
use lxd_db::instances::InstanceRow;
use lxd_shared::config::devices::check_device;
use lxd_shared::config::instance::check_instance_value;
use lxd_shared::names::validate_instance_name;

use super::store::{project_of, root_pool, runtime_name};
use super::{instance_url, op_resources};
use crate::api::caller::Caller;
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

const ADJECTIVES: &[&str] = &[
    "able", "brave", "calm", "eager", "fair", "gentle", "happy", "keen", "lively", "proud",
    "quick", "sacred", "tidy", "vast", "witty",
];
const NOUNS: &[&str] = &[
    "ant", "bee", "cat", "doe", "eel", "fox", "gnu", "hen", "ibis", "jay", "koi", "lark", "mole",
    "pug", "yak",
];

/// A random two-word name as LXD gives unnamed instances (`sacred-pug`).
fn random_name() -> String {
    use rand::seq::IndexedRandom;
    let mut rng = rand::rng();
    format!(
        "{}-{}",
        ADJECTIVES.choose(&mut rng).unwrap_or(&"able"),
        NOUNS.choose(&mut rng).unwrap_or(&"ant")
    )
}

fn validate(req: &InstancesPost) -> Result<(), ApiError> {
    for (k, v) in &req.config {
        check_instance_value(k, v)
            .map_err(|e| ApiError::bad_request(format!("Invalid config: {e}")))?;
    }
    for (name, dev) in &req.devices {
        check_device(name, dev)
            .map_err(|e| crate::instances::devices::refusal(e, "Invalid devices: "))?;
    }
    Ok(())
}

/// Where an instance's rootfs comes from.
enum RootSource {
    Empty,
    /// An image already in the store.
    Local(lxd_api::image::Image),
    /// An image to download (or find cached) from a remote server first.
    Remote(crate::remote_images::DownloadArgs),
}

/// Resolve the image source: a local image's record, or what to download.
fn source_image(
    state: &AppState,
    project: &str,
    req: &InstancesPost,
    caller: &Caller,
) -> Result<RootSource, ApiError> {
    let src = &req.source;
    match src.kind.as_str() {
        "none" => Ok(RootSource::Empty),
        "image" if !src.server.is_empty() => {
            let alias = if !src.fingerprint.is_empty() {
                src.fingerprint.clone()
            } else if !src.alias.is_empty() {
                src.alias.clone()
            } else {
                return Err(ApiError::bad_request("No image fingerprint or alias given"));
            };
            let image_project = crate::handlers::images::image_project_named(state, project)?;
            Ok(RootSource::Remote(crate::remote_images::DownloadArgs {
                project: image_project,
                server: src.server.clone(),
                protocol: src.protocol.clone(),
                certificate: src.certificate.clone(),
                secret: src.secret.clone(),
                alias,
                image_type: if req.kind.is_empty() {
                    "container".into()
                } else {
                    req.kind.clone()
                },
                set_cached: true,
                prefer_cached: true,
                auto_update: auto_update_cached(state, project),
                public: false,
                source_project: src.project.clone(),
                requestor: caller.requestor(),
                fresh_index: false,
            }))
        }
        "image" => {
            let image_project = crate::handlers::images::image_project_named(state, project)?;
            let fp = if !src.fingerprint.is_empty() {
                src.fingerprint.clone()
            } else if !src.alias.is_empty() {
                state
                    .db
                    .read(|c| lxd_db::images::alias(c, &image_project, &src.alias))
                    .map_err(|_| {
                        ApiError::not_found(format!("Image alias {:?} not found", src.alias))
                    })?
                    .target
            } else {
                return Err(ApiError::bad_request("No image fingerprint or alias given"));
            };
            let image = state
                .db
                .read(|c| lxd_db::images::get(c, &image_project, &fp))
                .map_err(|_| ApiError::not_found("Image not found"))?;
            Ok(RootSource::Local(image))
        }
        other => Err(ApiError::bad_request(format!(
            "Unknown source type {other}"
        ))),
    }
}

/// `images.auto_update_cached` of the project, else the server's (default true).
fn auto_update_cached(state: &AppState, project: &str) -> bool {
    let read = state.db.read(|c| {
        let server = lxd_db::server_config::get_all(c)?;
        let project = lxd_db::projects::get(c, project)?.config;
        Ok((project, server))
    });
    let Ok((project, server)) = read else {
        return true;
    };
    project
        .get("images.auto_update_cached")
        .or_else(|| server.get("images.auto_update_cached"))
        .and_then(|v| lxd_shared::config::values::parse_bool(v))
        .unwrap_or(true)
}

/// `POST /1.0/instances` with a `copy` source.
async fn copy_instance(
    state: AppState,
    project: String,
    req: InstancesPost,
    caller: Caller,
) -> ApiResult {
    let src = super::copy::resolve(&state, &project, &req)?;
    let mut spec = OpSpec::task("Creating instance", &project);
    spec.resources = Some(op_resources(&req.name, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_| async move {
        super::copy::run(&task_state, &project, &req, src, &requestor).await?;
        task_state.events.lifecycle(
            &project,
            "instance-created",
            instance_url(&req.name, &project, false),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// `POST /1.0/instances`
pub async fn post_instances(
    State(state): State<AppState>,
    params: Params,
    caller: Caller,
    request: axum::extract::Request,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let is_backup = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    if is_backup {
        let (parts, body) = request.into_parts();
        return super::import::import(state, project, &parts.headers, body, caller.requestor())
            .await;
    }
    let bytes = axum::body::to_bytes(request.into_body(), crate::api::extract::MAX_JSON_BODY)
        .await
        .map_err(|_| ApiError::bad_request("Request body too large"))?;
    let mut req: InstancesPost = crate::api::extract::parse_json(&bytes)?;
    if !req.kind.is_empty() && req.kind != "container" {
        return Err(ApiError::bad_request(
            "Virtual machines are not supported by this server",
        ));
    }
    if req.name.is_empty() {
        req.name = random_name();
    }
    validate_instance_name(&req.name)
        .map_err(|e| ApiError::bad_request(format!("Invalid instance name: {e}")))?;
    validate(&req)?;
    crate::instances::disks::validate(&state, &project, &req.devices)
        .map_err(ApiError::bad_request)?;
    if req.source.kind == "migration" {
        return super::migrate_target::create(state, project, req, caller).await;
    }
    if state
        .db
        .read(|c| lxd_db::instances::get(c, &project, &req.name))
        .is_ok()
    {
        return Err(ApiError::Conflict(
            "Failed creating instance record: Add instance info to the database: This \"instances\" entry already exists".into(),
        ));
    }
    if req.source.kind == "copy" {
        return copy_instance(state, project, req, caller).await;
    }
    let profiles = req
        .profiles
        .clone()
        .unwrap_or_else(|| vec!["default".to_string()]);
    let profile_project = state
        .db
        .read(|c| lxd_db::profiles::effective_project(c, &project))?;
    let profile_rows = state
        .db
        .read(|c| {
            profiles
                .iter()
                .map(|p| lxd_db::profiles::get(c, &profile_project, p))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|_| ApiError::bad_request("Requested profile doesn't exist"))?;
    let (expanded_config, expanded_devices) =
        lxd_db::instances::expand(&profile_rows, &req.config, &req.devices);
    lxd_shared::config::devices::nic::check_names_unique(&expanded_devices)
        .map_err(|e| crate::instances::devices::refusal(e, "Invalid devices: "))?;
    let pool_name = root_pool(&expanded_devices).ok_or_else(|| {
        ApiError::bad_request("Failed getting root disk: No root device could be found")
    })?;
    let pool = state
        .db
        .read(|c| lxd_db::pools::get(c, &pool_name))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "Failed getting root disk: Storage pool {pool_name:?} not found"
            ))
        })?;
    let root_source = source_image(&state, &project, &req, &caller)?;

    let mut spec = OpSpec::task("Creating instance", &project);
    spec.class = OperationClass::Task;
    spec.resources = Some(op_resources(&req.name, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |op| async move {
        let image = match root_source {
            RootSource::Empty => None,
            RootSource::Local(image) => Some(image),
            RootSource::Remote(args) => Some(
                crate::remote_images::download_image(&task_state, Some(op), &args)
                    .await
                    .map_err(|e| e.to_string())?,
            ),
        };
        let name = req.name.clone();
        // The map is chosen (and checked) before anything is made, and its block stays
        // reserved until the record is written.
        let allocating = crate::instances::idmap::allocation_lock().await;
        let idmap_keys =
            crate::instances::idmap::create_keys(&task_state, &project, &name, &expanded_config)
                .map_err(|e| {
                    format!("Failed creating instance record: Failed initialising instance: {e}")
                })?;
        let storage_name = runtime_name(&project, &name);
        let paths = task_state.paths.clone();
        let fp = image.as_ref().map(|i| i.fingerprint.clone());
        let pool_row = pool.clone();
        let sname = storage_name.clone();
        tokio::task::spawn_blocking(move || match fp {
            Some(fp) => crate::instances::rootfs::create_from_image(&paths, &pool_row, &sname, &fp)
                .map(|_| ()),
            None => crate::instances::rootfs::create_empty(&paths, &pool_row, &sname).map(|_| ()),
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;

        let mut config = req.config.clone();
        if let Some(image) = &image {
            for (k, v) in &image.properties {
                config.insert(format!("image.{k}"), v.clone());
            }
            config.insert("volatile.base_image".into(), image.fingerprint.clone());
            config.insert("volatile.apply_template".into(), "create".into());
        }
        config.insert("volatile.uuid".into(), uuid::Uuid::new_v4().to_string());
        config
            .entry("volatile.cloud-init.instance-id".into())
            .or_insert_with(|| uuid::Uuid::new_v4().to_string());
        config.extend(idmap_keys);
        let nic_keys =
            crate::instances::devices::volatile::fill_nic_keys(&expanded_devices, &config);
        config.extend(nic_keys);
        let architecture = image
            .as_ref()
            .map(|i| i.architecture.clone())
            .unwrap_or_else(|| "x86_64".to_string());
        let row = InstanceRow {
            name: name.clone(),
            kind: "container".into(),
            architecture,
            ephemeral: req.ephemeral,
            stateful: false,
            description: req.description.clone(),
            created_at: crate::time::now_rfc3339(),
            last_used_at: lxd_api::image::ZERO_TIME.to_string(),
            config,
            devices: req.devices.clone(),
            profiles,
        };
        let p = project.clone();
        let written = task_state
            .db
            .write(move |c| lxd_db::instances::create(c, &p, &row))
            .await;
        drop(allocating);
        if let Err(e) = written {
            let _ = crate::instances::rootfs::delete(&task_state.paths, &pool, &storage_name);
            return Err(e.to_string());
        }
        if let Some(image) = &image {
            let image_project = crate::handlers::images::image_project_named(&task_state, &project)
                .map_err(|e| e.to_string())?;
            let (p, f, now) = (
                image_project,
                image.fingerprint.clone(),
                crate::time::now_rfc3339(),
            );
            let _ = task_state
                .db
                .write(move |c| lxd_db::images::mark_used(c, &p, &f, &now))
                .await;
        }
        task_state.events.lifecycle(
            &project,
            "instance-created",
            instance_url(&name, &project, false),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
