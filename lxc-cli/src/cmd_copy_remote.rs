//! `lxc copy` and `lxc move` between two servers, as lxc 5.0.2's `CopyInstance` and
//! `CopyInstanceSnapshot` drive a migration: the extension checks, then by `--mode`
//! - pull: the source answers a websocket operation, the target dials it (the source must
//!   listen on the network);
//! - push: the target answers a websocket operation, the source dials it (the target must);
//! - relay: both answer websocket operations and this client joins them.
//!
//! The caller prepared the create request (`-c`, `-d`, `-p`, `-s` applied); this module fills
//! in its `migration` source and waits on the operation lxc waits on.

use anyhow::{anyhow, bail, Result};
use lxd_api::Operation;
use lxd_client::migration::{operation_secrets, relay};
use lxd_client::Client;
use serde_json::{json, Value};

/// One migration to run.
pub(crate) struct Migration<'a> {
    pub(crate) source: &'a Client,
    pub(crate) dest: &'a Client,
    pub(crate) mode: &'a str,
    /// The `POST /1.0/instances` body for the target, `source` still to fill.
    pub(crate) req: Value,
    /// `/1.0/instances/<name>` or `/1.0/instances/<name>/snapshots/<snap>`.
    pub(crate) source_path: String,
    /// The source's request (`api.InstancePost` or `api.InstanceSnapshotPost`), `target` to fill.
    pub(crate) source_req: Value,
    pub(crate) base_image: String,
    pub(crate) live: bool,
    pub(crate) instance_only: bool,
    pub(crate) refresh: bool,
    pub(crate) allow_inconsistent: bool,
}

/// A server's extensions and how peers reach it.
struct Peer {
    extensions: Vec<String>,
    addresses: Vec<String>,
    certificate: String,
}

async fn peer(client: &Client) -> Result<Peer> {
    let (server, _) = client.get_server_raw().await?;
    let info = client.connection_info().await?;
    Ok(Peer {
        extensions: server["api_extensions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        addresses: info.addresses,
        certificate: info.certificate,
    })
}

impl Peer {
    fn require(&self, side: &str, ext: &str) -> Result<()> {
        if !self.extensions.iter().any(|e| e == ext) {
            bail!("The {side} server is missing the required \"{ext}\" API extension");
        }
        Ok(())
    }
}

/// Where a pull-mode target finds the source: its certificate, operation URL and secrets.
struct PullFrom<'a> {
    certificate: &'a str,
    operation: String,
    secrets: &'a std::collections::BTreeMap<String, String>,
}

/// A `migration` source as Go serializes `api.InstanceSource` (empty fields left out).
fn migration_source(m: &Migration<'_>, mode: &str, pull: Option<PullFrom<'_>>) -> Value {
    let certificate = pull.as_ref().map(|p| p.certificate).unwrap_or_default();
    let mut s = json!({"type": "migration", "certificate": certificate});
    if !m.base_image.is_empty() {
        s["base-image"] = json!(m.base_image);
    }
    s["mode"] = json!(mode);
    if let Some(p) = &pull {
        s["operation"] = json!(p.operation);
        s["secrets"] = json!(p.secrets);
    }
    if m.live {
        s["live"] = json!(true);
    }
    if m.instance_only {
        s["instance_only"] = json!(true);
        s["container_only"] = json!(true);
    }
    if m.refresh {
        s["refresh"] = json!(true);
    }
    s["allow_inconsistent"] = json!(m.allow_inconsistent);
    s
}

/// Go's `remoteOperationError`: one error as is, several with their URLs.
fn remote_error(msg: &str, errors: &[(String, String)]) -> anyhow::Error {
    let first = &errors[0].1;
    if errors.iter().all(|(_, e)| e == first) {
        return anyhow!("{msg}: {first}");
    }
    let lines: Vec<String> = errors.iter().map(|(u, e)| format!("{u}: {e}")).collect();
    anyhow!("{msg}:\n - {}", lines.join("\n - "))
}

async fn wait(
    client: &Client,
    op: &Operation,
    progress: &mut dyn FnMut(&str),
) -> lxd_client::Result<Operation> {
    client.wait_operation_with_progress(&op.id, progress).await
}

/// Run the migration; returns the operation lxc waited on.
pub(crate) async fn run(m: Migration<'_>, progress: &mut dyn FnMut(&str)) -> Result<Operation> {
    let src = peer(m.source).await?;
    let dst = peer(m.dest).await?;
    if m.instance_only {
        dst.require("target", "container_only_migration")?;
        src.require("source", "container_only_migration")?;
    }
    if m.mode == "push" || m.mode == "relay" {
        dst.require("target", "container_push")?;
        src.require("source", "container_push")?;
    }
    if m.mode == "push" {
        src.require("source", "container_push_target")?;
    }
    if m.refresh {
        dst.require("target", "container_incremental_copy")?;
        src.require("source", "container_incremental_copy")?;
    }
    if m.allow_inconsistent {
        dst.require("source", "instance_allow_inconsistent_copy")?;
    }
    let mut req = m.req.clone();
    let mut source_req = m.source_req.clone();

    if m.mode == "push" {
        req["source"] = migration_source(&m, "push", None);
        let target_op = m.dest.create_instance(&req).await?;
        let secrets = operation_secrets(&target_op);
        if dst.addresses.is_empty() {
            bail!("The target server isn't listening on the network");
        }
        let mut errors = Vec::new();
        for url in &dst.addresses {
            source_req["target"] = json!({
                "certificate": dst.certificate,
                "operation": format!("{url}/1.0/operations/{}", target_op.id),
                "secrets": secrets,
            });
            let op = match m.source.migrate_source(&m.source_path, &source_req).await {
                Ok(op) => op,
                Err(e) => {
                    errors.push((url.clone(), e.to_string()));
                    continue;
                }
            };
            match wait(m.source, &op, progress).await {
                Ok(done) => return Ok(done),
                Err(e) => {
                    errors.push((url.clone(), e.to_string()));
                    break;
                }
            }
        }
        return Err(remote_error("Failed instance migration", &errors));
    }

    let source_op = m.source.migrate_source(&m.source_path, &source_req).await?;
    let source_secrets = operation_secrets(&source_op);

    if m.mode == "relay" {
        req["source"] = migration_source(&m, "push", None);
        let target_op = m.dest.create_instance(&req).await?;
        let target_secrets = operation_secrets(&target_op);
        let relaying = relay(
            m.source,
            &source_op.id,
            &source_secrets,
            m.dest,
            &target_op.id,
            &target_secrets,
        )
        .await?;
        let result = wait(m.dest, &target_op, progress).await;
        relaying.abort();
        return Ok(result?);
    }

    if src.addresses.is_empty() {
        bail!("The source server isn't listening on the network");
    }
    let mut errors = Vec::new();
    for url in &src.addresses {
        let from = PullFrom {
            certificate: &src.certificate,
            operation: format!("{url}/1.0/operations/{}", source_op.id),
            secrets: &source_secrets,
        };
        req["source"] = migration_source(&m, "pull", Some(from));
        let op = match m.dest.create_instance(&req).await {
            Ok(op) => op,
            Err(e) => {
                errors.push((url.clone(), e.to_string()));
                continue;
            }
        };
        match wait(m.dest, &op, progress).await {
            Ok(done) => return Ok(done),
            Err(e) => {
                errors.push((url.clone(), e.to_string()));
                break;
            }
        }
    }
    let _ = m.source.delete_operation(&source_op.id).await;
    Err(remote_error("Failed instance creation", &errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_error_lists_urls_only_when_errors_differ() {
        let same = vec![("https://a".to_string(), "boom".to_string())];
        assert_eq!(
            remote_error("Failed instance creation", &same).to_string(),
            "Failed instance creation: boom"
        );
        let differ = vec![
            ("https://a".to_string(), "x".to_string()),
            ("https://b".to_string(), "y".to_string()),
        ];
        assert_eq!(
            remote_error("Failed instance migration", &differ).to_string(),
            "Failed instance migration:\n - https://a: x\n - https://b: y"
        );
    }
}
