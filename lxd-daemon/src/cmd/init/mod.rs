//! `lxd init`: configure a daemon with `--auto`, a `--preseed` YAML on stdin, interactive
//! questions, or print the current state with `--dump`. It works through the API.

mod apply;
mod auto;
mod dump;
mod interactive;
mod preseed;

use std::io::Read;

use anyhow::bail;

/// Flags of `lxd init`.
#[derive(clap::Args, Default)]
pub struct Args {
    /// Automatic (non-interactive) mode
    #[arg(long)]
    auto: bool,
    /// Minimal configuration (non-interactive)
    #[arg(long)]
    minimal: bool,
    /// Pre-seed mode, expects YAML config from stdin
    #[arg(long)]
    preseed: bool,
    /// Dump YAML config to stdout
    #[arg(long)]
    dump: bool,
    /// Address to bind LXD to (default: none)
    #[arg(long)]
    network_address: Option<String>,
    /// Port to bind LXD to
    #[arg(long, default_value_t = 8443)]
    network_port: u16,
    /// Storage backend to use (btrfs, dir, lvm or zfs, default: dir)
    #[arg(long)]
    storage_backend: Option<String>,
    /// Setup device based storage using DEVICE
    #[arg(long)]
    storage_create_device: Option<String>,
    /// Setup loop based storage with SIZE in GB
    #[arg(long)]
    storage_create_loop: Option<u64>,
    /// Storage pool to use or create
    #[arg(long)]
    storage_pool: Option<String>,
    /// Password required to add new clients
    #[arg(long)]
    trust_password: Option<String>,
}

/// Run `lxd init`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let modes = [args.auto, args.minimal, args.preseed, args.dump]
        .iter()
        .filter(|m| **m)
        .count();
    if modes > 1 {
        bail!("Can't use --auto, --minimal, --preseed or --dump together");
    }
    let auto_only = args.network_address.is_some()
        || args.storage_backend.is_some()
        || args.storage_create_device.is_some()
        || args.storage_create_loop.is_some()
        || args.storage_pool.is_some()
        || args.trust_password.is_some();
    if auto_only && !args.auto {
        bail!("Configuration flags require --auto");
    }
    let socket = super::local::socket_path();
    super::local::block_on(async move {
        if args.dump {
            return dump::run(&socket).await;
        }
        let preseed = if args.preseed {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            preseed::parse(&text)?
        } else if args.auto || args.minimal {
            auto::preseed(&socket, &args).await?
        } else {
            match interactive::ask_all(&socket).await? {
                Some(p) => p,
                None => return Ok(()),
            }
        };
        apply::apply(&socket, &preseed).await
    })?
}
