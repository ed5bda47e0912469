//! `lxd shutdown`: ask the daemon to stop and wait until it has.

use std::time::{Duration, Instant};

use anyhow::bail;

/// Flags of `lxd shutdown`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of seconds to wait before giving up
    #[arg(short, long, default_value_t = 0)]
    timeout: u64,
    /// Force shutdown instead of waiting for running operations to finish (the daemon
    /// cancels running operations on shutdown either way)
    #[arg(short, long)]
    #[allow(dead_code)]
    force: bool,
}

/// Request the shutdown, then wait for the socket to stop answering.
pub fn run(args: Args) -> anyhow::Result<()> {
    let socket = super::local::socket_path();
    let start = Instant::now();
    super::local::block_on(async move {
        super::local::request(&socket, "PUT", "/internal/shutdown", None).await?;
        loop {
            if tokio::net::UnixStream::connect(&socket).await.is_err() {
                return Ok(());
            }
            if args.timeout > 0 && start.elapsed() >= Duration::from_secs(args.timeout) {
                bail!("LXD still running after {}s timeout", args.timeout);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })?
}
