//! `lxc version`: client and server versions.

use anyhow::Result;
use clap::Args;

use crate::cli::check_args;
use crate::global::Ctx;

/// Version of this client, as lxc 5.0.2 reports it.
pub const CLIENT_VERSION: &str = "5.0.2";

/// Show local and remote versions
#[derive(Debug, Args)]
pub struct VersionCmd {
    args: Vec<String>,
}

impl VersionCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["version"], &self.args, 0, Some(1))? {
            return Ok(());
        }
        println!("Client version: {CLIENT_VERSION}");
        let raw = self.args.first().cloned().unwrap_or_default();
        let raw = if raw.is_empty() || raw.ends_with(':') {
            raw
        } else {
            format!("{raw}:")
        };
        let mut version = "unreachable".to_string();
        if let Ok((client, _)) = ctx.resource(&raw).await {
            if let Ok((server, _)) = client.get_server().await {
                version = server.environment.server_version;
            }
        }
        println!("Server version: {version}");
        Ok(())
    }
}
