//! Global state of one `lxc` run: the parsed global flags, the client configuration, the
//! first-run greeting and connecting to a remote (`remote_connect.rs`).

use std::path::PathBuf;

use anyhow::Result;
use lxd_client::transport::lxd_dir;
use lxd_client::Client;

use crate::config_file::{config_dir, Config};

/// Flags every command accepts.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalFlags {
    /// Override the source project
    #[arg(long, global = true, value_name = "")]
    pub project: Option<String>,
    /// Force using the local unix socket
    #[arg(long, global = true)]
    pub force_local: bool,
    /// Show all debug messages
    #[arg(long, global = true)]
    pub debug: bool,
    /// Show all information messages
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Don't show progress information
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Use with help or --help to view sub-commands
    #[arg(long, global = true)]
    pub sub_commands: bool,
}

/// Everything a command needs.
pub struct Ctx {
    pub flags: GlobalFlags,
    pub conf: Config,
    pub conf_path: PathBuf,
}

impl Ctx {
    /// Loads the configuration as lxc's `PreRun` does, greeting first-time users.
    pub async fn load(flags: GlobalFlags, leaf: &str) -> Result<Self> {
        let dir = config_dir();
        let conf_path = dir.join("config.yml");
        let conf = if flags.force_local {
            Config::with_defaults(PathBuf::new())
        } else if conf_path.exists() {
            Config::load(&dir)?
        } else {
            Config::with_defaults(dir.clone())
        };
        let ctx = Self {
            flags,
            conf,
            conf_path,
        };
        if !ctx.flags.force_local && lxd_dir().exists() && !ctx.conf_path.exists() {
            ctx.first_run(&dir, leaf).await?;
        }
        Ok(ctx)
    }

    async fn first_run(&self, dir: &std::path::Path, leaf: &str) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        set_mode(dir, 0o750);
        self.conf.save()?;
        let client = Client::local();
        let initialised = match client.get_server().await {
            Ok((server, _)) => !server.environment.storage.is_empty(),
            Err(_) => false,
        };
        let mut flush = false;
        if !initialised {
            eprintln!("If this is your first time running LXD on this machine, you should also run: lxd init");
            flush = true;
        }
        if leaf != "init" && leaf != "launch" {
            eprintln!("To start your first container, try: lxc launch ubuntu:22.04");
            eprintln!("Or for a virtual machine: lxc launch ubuntu:22.04 --vm");
            flush = true;
        }
        if flush {
            eprintln!();
        }
        Ok(())
    }

    /// Parses `[<remote>:]<name>` and connects to the remote.
    pub async fn resource(&self, raw: &str) -> Result<(Client, String)> {
        let (remote, name) = self.conf.parse_remote(raw)?;
        Ok((self.connect(&remote).await?, name))
    }

    /// [`Ctx::resource`] without the `GET /1.0` check on a local (UNIX socket) remote: for a
    /// command whose first request fails the same way when the daemon is not there. Such a
    /// failure is worded as the check words it by [`Ctx::connect_failure`].
    pub async fn resource_unchecked(&self, raw: &str) -> Result<(Client, String)> {
        let (remote, name) = self.conf.parse_remote(raw)?;
        let local = self.conf.remotes.get(&remote).is_some_and(|r| r.is_unix());
        if local {
            return Ok((self.instance_client(&remote)?, name));
        }
        Ok((self.connect(&remote).await?, name))
    }

    /// The error of a request made without the connection check: a daemon that cannot be
    /// reached is reported as the check (`GET /1.0`) reports it.
    pub async fn connect_failure(client: &Client, e: lxd_client::ClientError) -> anyhow::Error {
        if matches!(e, lxd_client::ClientError::Connect { .. }) {
            if let Err(check) = client.get_server_raw().await {
                return check.into();
            }
        }
        e.into()
    }

    /// Saves the configuration back to config.yml.
    pub fn save_conf(&self) -> Result<()> {
        self.conf.save()
    }
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}
