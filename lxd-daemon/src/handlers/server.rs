//! `/1.0`: the server object and its configuration.

use std::collections::BTreeMap;

use axum::extract::State;
use lxd_api::{Server, ServerEnvironment, ServerStorageDriverInfo, ServerUntrusted};
use lxd_shared::config::server::{check_server_value, server_key, ServerConfigError};
use serde_json::{Map, Value};

use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// The server version we speak for.
pub const SERVER_VERSION: &str = "5.0.2";

/// Stored config as the API shows it: hidden keys as `true`.
fn shown_config(stored: &BTreeMap<String, String>) -> Map<String, Value> {
    stored
        .iter()
        .map(|(k, v)| {
            let hidden = server_key(k).is_some_and(|key| key.hidden);
            let value = if hidden {
                Value::Bool(true)
            } else {
                Value::String(v.clone())
            };
            (k.clone(), value)
        })
        .collect()
}

fn untrusted(auth: &str) -> ServerUntrusted {
    ServerUntrusted {
        api_extensions: lxd_api::extensions::implemented(),
        api_status: "stable".into(),
        api_version: "1.0".into(),
        auth: auth.into(),
        public: false,
        auth_methods: vec!["tls".into()],
    }
}

fn environment(
    state: &AppState,
    project: &str,
    pool_drivers: &[String],
    https_address: &str,
) -> ServerEnvironment {
    let f = &state.facts;
    let (certificate, certificate_fingerprint) = match state.server_cert() {
        Ok(cert) => (cert.pem.clone(), cert.fingerprint.clone()),
        Err(e) => {
            tracing::warn!(error = %e, "No server certificate");
            (String::new(), String::new())
        }
    };
    let addresses = crate::server::addresses::listen_addresses(
        https_address,
        &crate::server::addresses::interface_addresses(),
    );
    let drivers = lxd_storage::supported_drivers();
    let in_use: Vec<_> = drivers
        .iter()
        .filter(|d| pool_drivers.iter().any(|p| p == d.name))
        .collect();
    ServerEnvironment {
        addresses,
        architectures: f.host.architectures.clone(),
        certificate,
        certificate_fingerprint,
        driver: "lxc".into(),
        driver_version: SERVER_VERSION.into(),
        firewall: f.firewall.clone(),
        kernel: f.host.kernel.clone(),
        kernel_architecture: f.host.kernel_architecture.clone(),
        kernel_features: f.kernel_features.clone(),
        kernel_version: f.host.kernel_version.clone(),
        lxc_features: BTreeMap::new(),
        os_name: f.host.os_name.clone(),
        os_version: f.host.os_version.clone(),
        project: project.to_string(),
        server: "lxd".into(),
        server_clustered: false,
        server_event_mode: "full-mesh".into(),
        server_name: f.host.hostname.clone(),
        server_pid: f.pid,
        server_version: SERVER_VERSION.into(),
        storage: in_use
            .iter()
            .map(|d| d.name)
            .collect::<Vec<_>>()
            .join(" | "),
        storage_version: in_use
            .iter()
            .map(|d| d.version.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        storage_supported_drivers: drivers
            .iter()
            .map(|d| ServerStorageDriverInfo {
                name: d.name.to_string(),
                version: d.version.clone(),
                remote: false,
            })
            .collect(),
    }
}

/// `GET /1.0`
pub async fn get_server(
    State(state): State<AppState>,
    params: crate::api::extract::Params,
    caller: Caller,
) -> ApiResult {
    if !caller.is_trusted() {
        // LXD answers untrusted callers the untrusted fields alone, without an ETag.
        return Ok(ApiResponse::sync(untrusted("untrusted")));
    }
    super::require_project(&state, params.project())?;
    let stored = state.db.read(lxd_db::server_config::get_all)?;
    let config = shown_config(&stored);
    let pool_drivers = state.db.read(lxd_db::pools::drivers)?;
    let https_address = stored
        .get("core.https_address")
        .map(String::as_str)
        .unwrap_or("");
    let server = Server {
        config: config.clone(),
        untrusted: untrusted("trusted"),
        environment: environment(&state, params.project(), &pool_drivers, https_address),
    };
    Ok(ApiResponse::sync_etag(server, config))
}

/// `PUT /1.0`: replace the configuration.
pub async fn put_server(
    state: State<AppState>,
    if_match: IfMatch,
    caller: Caller,
    body: LxdJson<lxd_api::ServerPut>,
) -> ApiResult {
    update(state, if_match, caller, body.0.config, false).await
}

/// `PATCH /1.0`: merge into the configuration.
pub async fn patch_server(
    state: State<AppState>,
    if_match: IfMatch,
    caller: Caller,
    body: LxdJson<lxd_api::ServerPut>,
) -> ApiResult {
    update(state, if_match, caller, body.0.config, true).await
}

async fn update(
    State(state): State<AppState>,
    if_match: IfMatch,
    caller: Caller,
    changes: Map<String, Value>,
    patch: bool,
) -> ApiResult {
    let _guard = state.config_lock.lock().await;
    let current = state.db.read(lxd_db::server_config::get_all)?;
    if_match.check(&shown_config(&current))?;
    let next = merge_config(&current, &changes, patch).map_err(ApiError::bad_request)?;
    let write = next.clone();
    state
        .db
        .write(move |c| lxd_db::server_config::replace_all(c, &write))
        .await?;
    let https_key = "core.https_address";
    let https_error = if current.get(https_key) != next.get(https_key) {
        let address = next.get(https_key).map(String::as_str).unwrap_or("");
        state.https.update(&state, address).await.err()
    } else {
        None
    };
    let expiry_key = "images.remote_cache_expiry";
    if current.get(expiry_key) != next.get(expiry_key) {
        // As LXD resets its expiry task: a new expiry applies at once.
        let s = state.clone();
        tokio::spawn(async move { crate::tasks::image_expiry::run(&s).await });
    }
    if let Some(e) = https_error {
        // As LXD: the configuration is stored, the failure to listen is reported.
        return Err(ApiError::internal(e));
    }
    state.events.lifecycle(
        "default",
        "config-updated",
        "/1.0".into(),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

/// Compute the new stored config. PUT resets every schema key it does not name (free-form
/// `user.*` keys survive, as in LXD); PATCH only touches the keys it names. Empty values and
/// values equal to a key's default are removed; a hidden key sent back as `true` keeps its
/// stored value.
pub fn merge_config(
    current: &BTreeMap<String, String>,
    changes: &Map<String, Value>,
    patch: bool,
) -> Result<BTreeMap<String, String>, ServerConfigError> {
    let mut next: BTreeMap<String, String> = if patch {
        current.clone()
    } else {
        current
            .iter()
            .filter(|(k, _)| k.starts_with("user."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    for (key, value) in changes {
        let key_info = server_key(key);
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(true) if key_info.is_some_and(|k| k.hidden) => {
                if let Some(old) = current.get(key) {
                    next.insert(key.clone(), old.clone());
                }
                continue;
            }
            other => return Err(ServerConfigError::invalid_type(key, go_type_name(other))),
        };
        let normalised = check_server_value(key, &text)?;
        let default = key_info.map(|k| k.default).unwrap_or("");
        if normalised.is_empty() || normalised == default {
            next.remove(key);
        } else if key_info.is_some_and(|k| k.hidden) {
            next.insert(key.clone(), crate::secrets::hash_password(&normalised));
        } else {
            next.insert(key.clone(), normalised);
        }
    }
    Ok(next)
}

fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}
