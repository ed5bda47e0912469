//! `lxd waitready`: wait until the daemon answers `/internal/ready`.

use std::time::{Duration, Instant};

use anyhow::bail;

/// Flags of `lxd waitready`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of seconds to wait before giving up
    #[arg(short, long, default_value_t = 0)]
    timeout: u64,
}

/// Poll until ready or the timeout (0 = forever) passes.
pub fn run(args: Args) -> anyhow::Result<()> {
    let socket = super::local::socket_path();
    let start = Instant::now();
    super::local::block_on(async move {
        loop {
            if super::local::request(&socket, "GET", "/internal/ready", None)
                .await
                .is_ok()
            {
                return Ok(());
            }
            if args.timeout > 0 && start.elapsed() >= Duration::from_secs(args.timeout) {
                bail!("LXD still not running after {}s timeout", args.timeout);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })?
}
