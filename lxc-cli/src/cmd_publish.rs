//! `lxc publish`: `POST /1.0/images` with an `instance` or `snapshot` source, stopping a
//! running instance first with `--force` (and starting it again afterwards), then the aliases
//! and `Instance published with fingerprint: <fp>`. Publishing to another remote is refused
//! until image copies between remotes exist.

use anyhow::{anyhow, bail, Result};
use clap::Args;
use serde_json::{json, Value};

use crate::cli::check_args;
use crate::global::Ctx;
use crate::progress::ProgressRenderer;

/// Publish instances as images
#[derive(Debug, Args)]
pub struct PublishCmd {
    args: Vec<String>,
    /// New alias to define at target
    #[arg(long = "alias", value_name = "")]
    aliases: Vec<String>,
    /// Compression algorithm to use (none for uncompressed)
    #[arg(long, value_name = "none")]
    compression: Option<String>,
    /// Image expiration date (format: rfc3339)
    #[arg(long, value_name = "")]
    expire: Option<String>,
    /// Stop the instance if currently running
    #[arg(short, long)]
    force: bool,
    /// Make the image public
    #[arg(long)]
    public: bool,
}

/// The `api.ImagesPost` lxc sends.
fn images_post(
    name: &str,
    kind: &str,
    public: bool,
    compression: &str,
    expires_at: &str,
    properties: Option<&serde_json::Map<String, Value>>,
) -> Value {
    json!({
        "auto_update": false, "properties": properties, "public": public,
        "expires_at": expires_at, "profiles": null, "filename": "",
        "source": {"alias": "", "certificate": "", "protocol": "", "server": "", "image_type": "",
            "mode": "", "type": kind, "url": "", "name": name, "fingerprint": "", "secret": "",
            "project": ""},
        "compression_algorithm": compression, "aliases": null,
    })
}

async fn change_state(client: &lxd_client::Client, name: &str, action: &str) -> Result<()> {
    let put = lxd_client::instances::state_put(action, -1, true, false);
    let op = client.update_instance_state(name, &put).await?;
    client.wait_operation(&op.id).await?;
    Ok(())
}

async fn set_ephemeral(client: &lxd_client::Client, name: &str, on: bool) -> Result<()> {
    let (mut inst, etag) = client.get_instance(name).await?;
    inst["ephemeral"] = json!(on);
    let put = json!({"architecture": inst["architecture"], "config": inst["config"],
        "devices": inst["devices"], "ephemeral": on, "profiles": inst["profiles"],
        "stateful": inst["stateful"], "description": inst["description"]});
    client.update_instance(name, &put, &etag).await?;
    Ok(())
}

impl PublishCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["publish"], &self.args, 1, None)? {
            return Ok(());
        }
        let (c_remote, c_name) = ctx.conf.parse_remote(&self.args[0])?;
        let mut first_prop = 1;
        let (i_remote, i_name) = match self.args.get(1).filter(|a| !a.contains('=')) {
            Some(a) => {
                first_prop = 2;
                ctx.conf.parse_remote(a)?
            }
            None => ctx.conf.parse_remote("")?,
        };
        if c_name.is_empty() {
            bail!("Instance name is mandatory");
        }
        if !i_name.is_empty() {
            bail!("There is no \"image name\".  Did you want an alias?");
        }
        let dest = ctx.connect(&i_remote).await?;
        if c_remote != i_remote {
            ctx.connect(&c_remote).await?;
            bail!("Publishing to another remote is not supported by this client yet");
        }
        let client = dest;
        let mut restart = false;
        if !c_name.contains('/') {
            let (inst, _) = client.get_instance(&c_name).await?;
            let code = inst["status_code"].as_u64().unwrap_or(0);
            if code != 0 && code != 102 {
                if !self.force {
                    bail!("The instance is currently running. Use --force to have it stopped and restarted");
                }
                let ephemeral = inst["ephemeral"] == json!(true);
                if ephemeral {
                    set_ephemeral(&client, &c_name, false).await?;
                }
                if change_state(&client, &c_name, "stop").await.is_err() {
                    bail!("Stopping instance failed!");
                }
                restart = true;
                if ephemeral {
                    set_ephemeral(&client, &c_name, true).await?;
                }
            }
        }
        let res = self.publish(&ctx, &client, &c_name, first_prop).await;
        if restart {
            let _ = change_state(&client, &c_name, "start").await;
        }
        res
    }

    async fn publish(
        &self,
        ctx: &Ctx,
        client: &lxd_client::Client,
        name: &str,
        first_prop: usize,
    ) -> Result<()> {
        let mut props = serde_json::Map::new();
        for entry in self.args.iter().skip(first_prop) {
            let Some((k, v)) = entry.split_once('=') else {
                bail!("Bad key=value pair: [{entry}]");
            };
            props.insert(k.into(), json!(v));
        }
        let kind = if name.contains('/') {
            "snapshot"
        } else {
            "instance"
        };
        let expires_at = match &self.expire {
            Some(e) => {
                chrono::DateTime::parse_from_rfc3339(e)
                    .map_err(|err| anyhow!("Invalid expiration date: {err}"))?;
                e.clone()
            }
            None => crate::cmd_snapshot::ZERO_TIME.to_string(),
        };
        let req = images_post(
            name,
            kind,
            self.public,
            self.compression.as_deref().unwrap_or_default(),
            &expires_at,
            (!props.is_empty()).then_some(&props),
        );
        let op = client
            .query_operation("POST", "/1.0/images", Some(&req), None)
            .await?;
        let mut progress = ProgressRenderer::new("Publishing instance: ", ctx.flags.quiet);
        let res = client
            .wait_operation_with_progress(&op.id, |t| progress.update(t))
            .await;
        progress.done("");
        let op = res?;
        let fingerprint = op
            .metadata
            .as_ref()
            .and_then(|m| m.get("fingerprint"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        crate::cmd_image_transfer::ensure_image_aliases(client, &self.aliases, &fingerprint)
            .await?;
        println!("Instance published with fingerprint: {fingerprint}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_post_without_properties_sends_null() {
        let req = images_post(
            "c1/s0",
            "snapshot",
            false,
            "",
            crate::cmd_snapshot::ZERO_TIME,
            None,
        );
        assert_eq!(req["properties"], Value::Null);
        assert_eq!(req["source"]["type"], "snapshot");
        assert_eq!(req["source"]["name"], "c1/s0");
    }
}
