//! The migration source: `POST /1.0/instances/{name}` with `migration: true` (and the same on
//! a snapshot). Without `target` it answers a websocket operation whose metadata holds the
//! `control` and `fs` secrets for the target (pull) or a relaying client to connect; with
//! `target` it dials the target's websockets itself (push) and runs as a plain task.
//! A running container moves live (its processes checkpointed with CRIU) unless the request
//! says `live: false`.

use lxd_api::instance::InstancePost;
use lxd_api::OperationClass;
use lxd_db::instances::snapshots::SnapshotRow;
use serde_json::Value;

use super::op_resources;
use super::store::Loaded;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::migration::source::Source;
use crate::operations::OpSpec;
use crate::state::AppState;

/// Why `inst` cannot move live from here, if it cannot: CRIU must be installed (LXD's
/// error), and the container may hold no host resources the checkpoint cannot carry (disks
/// besides its root, device nodes, proxies; its NICs' veth pairs CRIU recreates).
fn live_refusal(inst: &Loaded) -> Option<ApiError> {
    if !crate::migration::criu_installed() {
        return Some(ApiError::internal(
            "Unable to perform container live migration. CRIU isn't installed on the source server",
        ));
    }
    let held: Vec<&str> = inst
        .expanded_devices
        .iter()
        .filter(|(_, d)| {
            let kind = d.get("type").map(String::as_str).unwrap_or_default();
            kind != "none" && kind != "nic" && !lxd_api::is_root_disk(d)
        })
        .map(|(name, _)| name.as_str())
        .collect();
    (!held.is_empty()).then(|| {
        ApiError::internal(format!(
            "Unable to perform container live migration. Live migration of containers with \
             devices other than NICs and the root disk is not supported by this server \
             (devices: {})",
            held.join(", ")
        ))
    })
}

/// Start the source side for `inst` (or its snapshot `snapshot`).
pub async fn start(
    state: AppState,
    inst: Loaded,
    snapshot: Option<SnapshotRow>,
    req: InstancePost,
    live: bool,
) -> ApiResult {
    let project = inst.project.clone();
    if snapshot.is_none() {
        if !req.pool.is_empty() {
            return Err(ApiError::NotImplemented(
                "Moving instances between storage pools is not implemented".into(),
            ));
        }
        if !req.project.is_empty() {
            return Err(ApiError::NotImplemented(
                "Moving instances between projects is not implemented".into(),
            ));
        }
    }
    let live = live && snapshot.is_none() && inst.running();
    if live {
        if let Some(refusal) = live_refusal(&inst) {
            return Err(refusal);
        }
    }
    let source = Source {
        state: state.clone(),
        instance_only: req.instance_only || req.container_only || snapshot.is_some(),
        allow_inconsistent: req.allow_inconsistent,
        live,
        inst,
        snapshot: snapshot.clone(),
    };
    let description = if snapshot.is_some() {
        "Transferring snapshot"
    } else {
        "Migrating instance"
    };
    let mut spec = OpSpec::task(description, &project);
    spec.resources = Some(op_resources(&source.inst.row.name, &project));
    if let Some(target) = req.target {
        // Push: connect to the target's operation before answering, as LXD does.
        let secrets = target.websockets.clone().into_iter().collect();
        let sockets = crate::migration::connect(&target.operation, &secrets, &target.certificate)
            .await
            .map_err(ApiError::internal)?;
        let op = state
            .operations
            .start(spec, move |op| async move { source.run(sockets, op).await });
        return Ok(ApiResponse::operation(&op));
    }
    let secrets = crate::migration::new_secrets(live);
    spec.class = OperationClass::Websocket;
    spec.metadata = Some(crate::migration::secrets_metadata(&secrets));
    spec.secrets = secrets;
    spec.may_cancel = true;
    let op = state.operations.start(spec, move |op| async move {
        tracing::info!(instance = %source.inst.row.name, "Waiting for migration channel connections on source");
        let sockets = crate::migration::accept(&op, live).await?;
        source.run(sockets, op).await
    });
    Ok(ApiResponse::operation(&op))
}

/// `live` as LXD reads it: true when the request does not say (older clients).
pub fn requested_live(raw: &Value) -> bool {
    raw.get("live").and_then(Value::as_bool).unwrap_or(true)
}

/// `POST /1.0/instances/{name}/snapshots/{snap}` with `migration: true`.
pub async fn start_snapshot(
    state: AppState,
    inst: Loaded,
    snapshot: SnapshotRow,
    raw: &Value,
) -> ApiResult {
    let req: InstancePost =
        serde_json::from_value(raw.clone()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let new_name = raw.get("name").and_then(Value::as_str).unwrap_or_default();
    if new_name.is_empty() {
        return Err(ApiError::bad_request(
            "A new name for the container must be provided",
        ));
    }
    let live = raw.get("live").and_then(Value::as_bool).unwrap_or(false);
    if live && inst.row.name != new_name {
        return Err(ApiError::bad_request(format!(
            "Copying stateful containers requires that source \"{}\" and target \"{new_name}\" name be identical",
            inst.row.name
        )));
    }
    start(state, inst, Some(snapshot), req, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_defaults_to_true_when_absent() {
        assert!(requested_live(&serde_json::json!({"migration": true})));
        assert!(!requested_live(
            &serde_json::json!({"migration": true, "live": false})
        ));
    }
}
