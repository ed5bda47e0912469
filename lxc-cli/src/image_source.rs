//! The image source of an instance created from an image on another remote
//! (`lxc launch|init REMOTE:IMAGE`), as lxc 5.0.2's `CreateInstanceFromImage` builds it: a
//! `pull` source naming the image server's URL, protocol and pinned certificate, with the
//! alias (public images) or fingerprint (plus a secret for private ones). Simplestreams
//! remotes are not contacted here: the daemon resolves the alias, as with lxc. The creation is
//! tried on each address of the image server in turn.

use anyhow::{bail, Result};
use lxd_client::{Client, Connector};
use serde_json::{json, Value};

use crate::global::Ctx;

/// Where the daemon pulls an image from.
#[derive(Debug, Clone, PartialEq)]
pub struct PullSource {
    /// The `source` object without its `server`.
    pub source: Value,
    /// Server URLs to try, in order.
    pub urls: Vec<String>,
    /// The image's type (`container`, `virtual-machine`) when the server told it.
    pub image_type: Option<String>,
}

/// The certificate a connection pins: the `servercerts/NAME.crt` text for HTTPS remotes,
/// the server's own certificate for a socket.
pub fn connection_certificate(ctx: &Ctx, remote: &str, server: &Value, client: &Client) -> String {
    match client.connector() {
        Connector::Https(_) => {
            std::fs::read_to_string(ctx.conf.server_cert_path(remote)).unwrap_or_default()
        }
        Connector::Unix(_) => server["environment"]["certificate"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The URLs an LXD server is reachable at (Go's `GetConnectionInfo().Addresses`).
pub fn connection_urls(client: &Client, server: &Value) -> Vec<String> {
    let mut urls = Vec::new();
    if let Connector::Https(e) = client.connector() {
        urls.push(e.base_url().to_string());
    }
    for addr in server["environment"]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if addr.starts_with(':') {
            continue;
        }
        let url = format!("https://{addr}");
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// A one-time secret for a private image (`GetImageSecret`): `POST /1.0/images/<fp>/secret`.
pub async fn image_secret(client: &Client, fingerprint: &str) -> Result<String> {
    let path = format!(
        "/1.0/images/{}/secret",
        lxd_client::websocket::escape_path(fingerprint)
    );
    let (resp, _) = client.query("POST", &path, Some(&json!({})), None).await?;
    Ok(resp.metadata["metadata"]["secret"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Resolves `image` on remote `iremote` into a pull source; `vm` refuses container images.
pub async fn pull_source(ctx: &Ctx, iremote: &str, image: &str, vm: bool) -> Result<PullSource> {
    let remote = ctx
        .conf
        .remotes
        .get(iremote)
        .ok_or_else(|| anyhow::anyhow!("The remote \"{iremote}\" doesn't exist"))?
        .clone();
    if remote.protocol == "simplestreams" {
        let certificate =
            std::fs::read_to_string(ctx.conf.server_cert_path(iremote)).unwrap_or_default();
        return Ok(PullSource {
            source: json!({"type": "image", "mode": "pull", "protocol": "simplestreams",
                "alias": image, "certificate": certificate, "allow_inconsistent": false}),
            urls: vec![remote.addr.trim_end_matches('/').to_string()],
            image_type: None,
        });
    }
    let client = ctx.connect_image_server(iremote).await?;
    let (server, _) = client.get_server_raw().await?;
    let mut alias = String::new();
    let mut fingerprint = image.to_string();
    if let Ok((entry, _)) = client.get_image_alias(image).await {
        alias = image.to_string();
        fingerprint = entry.target;
    }
    let (info, _) = client.get_image(&fingerprint).await?;
    if info.kind != "virtual-machine" && vm {
        bail!("Asked for a VM but image is of type container");
    }
    let mut source = json!({"type": "image", "mode": "pull", "protocol": "lxd",
        "certificate": connection_certificate(ctx, iremote, &server, &client),
        "allow_inconsistent": false});
    if !alias.is_empty() && info.public {
        source["alias"] = json!(alias);
    } else {
        source["fingerprint"] = json!(info.fingerprint);
    }
    if !info.public {
        source["secret"] = json!(image_secret(&client, &info.fingerprint).await?);
    }
    let urls = connection_urls(&client, &server);
    if urls.is_empty() {
        bail!("The source server isn't listening on the network");
    }
    Ok(PullSource {
        source,
        urls,
        image_type: Some(info.kind),
    })
}

/// Creates the instance `req` on `client` from `pull`, trying each URL until one works
/// (connection failures move on), and waits with `progress`. Errors read as lxc's
/// `Failed instance creation: ...`.
pub async fn create_from_pull<F: FnMut(&str)>(
    client: &Client,
    mut req: Value,
    pull: &PullSource,
    mut progress: F,
) -> Result<lxd_api::Operation> {
    let mut errors: Vec<(String, String)> = Vec::new();
    for url in &pull.urls {
        let mut source = pull.source.clone();
        source["server"] = json!(url);
        req["source"] = source;
        let op = match client.create_instance(&req).await {
            Ok(op) => op,
            Err(e) => {
                errors.push((url.clone(), e.to_string()));
                continue;
            }
        };
        match client
            .wait_operation_with_progress(&op.id, &mut progress)
            .await
        {
            Ok(done) => return Ok(done),
            Err(e) => {
                let text = e.to_string();
                let connection = text.contains("Unable to connect to");
                errors.push((url.clone(), text));
                if !connection {
                    break;
                }
            }
        }
    }
    bail!(
        "{}",
        remote_operation_error("Failed instance creation", &errors)
    )
}

/// lxc's `remoteOperationError`: one message when every URL failed alike, else a list.
pub fn remote_operation_error(msg: &str, errors: &[(String, String)]) -> String {
    let all_same = errors.windows(2).all(|w| w[0].1 == w[1].1);
    match errors.first() {
        Some((_, e)) if all_same => format!("{msg}: {e}"),
        _ => {
            let lines: Vec<String> = errors.iter().map(|(u, e)| format!("{u}: {e}")).collect();
            format!("{msg}:\n - {}", lines.join("\n - "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_operation_error_same_errors_read_once() {
        let errors = vec![("a".to_string(), "x".to_string()), ("b".into(), "x".into())];
        assert_eq!(remote_operation_error("Failed", &errors), "Failed: x");
        let errors = vec![("a".to_string(), "x".to_string()), ("b".into(), "y".into())];
        assert_eq!(
            remote_operation_error("Failed", &errors),
            "Failed:\n - a: x\n - b: y"
        );
    }
}
