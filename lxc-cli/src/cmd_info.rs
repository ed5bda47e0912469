//! `lxc info`: the server as YAML (`GET /1.0`), or with `--resources` the host resources; with an
//! instance argument, the instance's status and resources (`info_instance.rs`).

use anyhow::{bail, Result};
use clap::Args;
use serde_json::Value;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::yaml::{sort_maps_at, to_yaml};

/// Show instance or server information
#[derive(Debug, Args)]
pub struct InfoCmd {
    args: Vec<String>,
    /// Show the resources available to the server
    #[arg(long)]
    resources: bool,
    /// Show the instance's last 100 log lines?
    #[arg(long)]
    show_log: bool,
    /// Cluster member name
    #[arg(long, value_name = "")]
    target: Option<String>,
}

/// The server object as lxc prints it.
pub fn server_value(mut v: Value) -> Value {
    sort_maps_at(
        &mut v,
        &[
            "config",
            "environment.kernel_features",
            "environment.lxc_features",
        ],
    );
    // ServerStorageDriverInfo has no yaml tags: yaml.v2 lower-cases its Go field names.
    if let Some(drivers) = v["environment"]["storage_supported_drivers"].as_array_mut() {
        for d in drivers {
            if let Value::Object(m) = d {
                *m = std::mem::take(m)
                    .into_iter()
                    .map(|(k, v)| (k.to_lowercase(), v))
                    .collect();
            }
        }
    }
    v
}

impl InfoCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["info"], &self.args, 0, Some(1))? {
            return Ok(());
        }
        let raw = self.args.first().map(String::as_str).unwrap_or("");
        let (client, name) = ctx.resource(raw).await?;
        if name.is_empty() {
            if self.resources {
                let res = client.get_server_resources().await?;
                print!("{}", crate::cmd_info_resources::render(&res));
                return Ok(());
            }
            let (server, _) = client.get_server_raw().await?;
            print!("{}", to_yaml(&server_value(server)));
            return Ok(());
        }
        if self.target.is_some() {
            bail!("--target cannot be used with instances");
        }
        let inst = client.get_instance_full(&name).await?;
        let (server, _) = client.get_server_raw().await?;
        let clustered = server["environment"]["server_clustered"] == Value::Bool(true);
        print!("{}", crate::info_instance::render(&inst, clustered));
        if self.show_log {
            let file = crate::info_instance::log_name(inst["type"].as_str().unwrap_or(""))?;
            let log = client.get_instance_logfile(&name, file).await?;
            print!("\nLog:\n\n{}\n", String::from_utf8_lossy(&log));
        }
        Ok(())
    }
}
