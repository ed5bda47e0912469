//! `lxc start|stop|restart|pause`: change instance state one by one (in parallel, errors
//! reported per instance as lxc's `runBatch` does) or with `--all` through the bulk
//! `PUT /1.0/instances` when the server has `instance_bulk_state_change`.

use anyhow::{anyhow, bail, Result};
use clap::Args;
use serde_json::Value;

use crate::global::Ctx;
use crate::progress::ProgressRenderer;

/// Flags of the state-changing verbs (each registers the subset lxc 5.0.2 registers).
#[derive(Debug, Args)]
pub struct ActionArgs {
    args: Vec<String>,
    /// Run against all instances
    #[arg(long)]
    all: bool,
    /// Immediately attach to the console
    #[arg(long, value_name = "", num_args = 0..=1, default_missing_value = "console")]
    console: Option<String>,
}

/// `--force` and `--timeout` (stop and restart only).
#[derive(Debug, Args)]
pub struct ForceArgs {
    /// Force the instance to shutdown
    #[arg(short, long)]
    force: bool,
    /// Time to wait for the instance before killing it
    #[arg(long, value_name = "", default_value_t = -1, allow_negative_numbers = true)]
    timeout: i64,
}

/// `lxc start`.
#[derive(Debug, Args)]
pub struct StartCmd {
    #[command(flatten)]
    common: ActionArgs,
    /// Ignore the instance state
    #[arg(long)]
    stateless: bool,
}

/// `lxc stop`.
#[derive(Debug, Args)]
pub struct StopCmd {
    #[command(flatten)]
    common: ActionArgs,
    #[command(flatten)]
    force: ForceArgs,
    /// Store the instance state
    #[arg(long)]
    stateful: bool,
}

/// `lxc restart`.
#[derive(Debug, Args)]
pub struct RestartCmd {
    #[command(flatten)]
    common: ActionArgs,
    #[command(flatten)]
    force: ForceArgs,
}

/// `lxc pause`.
#[derive(Debug, Args)]
pub struct PauseCmd {
    args: Vec<String>,
    /// Run against all instances
    #[arg(long)]
    all: bool,
}

/// One resolved action request.
struct Action {
    verb: &'static str,
    args: Vec<String>,
    all: bool,
    console: Option<String>,
    force: bool,
    timeout: i64,
    stateful: bool,
    stateless: bool,
}

impl StartCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let a = Action {
            verb: "start",
            args: self.common.args,
            all: self.common.all,
            console: self.common.console.clone(),
            force: false,
            timeout: 0,
            stateful: false,
            stateless: self.stateless,
        };
        a.run(&ctx).await
    }
}

impl StopCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let a = Action {
            verb: "stop",
            args: self.common.args,
            all: self.common.all,
            console: self.common.console.clone(),
            force: self.force.force,
            timeout: self.force.timeout,
            stateful: self.stateful,
            stateless: false,
        };
        a.run(&ctx).await
    }
}

impl RestartCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let a = Action {
            verb: "restart",
            args: self.common.args,
            all: self.common.all,
            console: self.common.console.clone(),
            force: self.force.force,
            timeout: self.force.timeout,
            stateful: false,
            stateless: false,
        };
        a.run(&ctx).await
    }
}

impl PauseCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let a = Action {
            verb: "pause",
            args: self.args,
            all: self.all,
            console: None,
            force: false,
            timeout: 0,
            stateful: false,
            stateless: false,
        };
        a.run(&ctx).await
    }
}

async fn wait_with_progress(ctx: &Ctx, client: &lxd_client::Client, id: &str) -> Result<()> {
    let mut progress = ProgressRenderer::new("", ctx.flags.quiet);
    let res = client
        .wait_operation_with_progress(id, |t| progress.update(t))
        .await;
    progress.done("");
    res.map(|_| ()).map_err(Into::into)
}

/// lxc's `op.AddHandler` refreshes the operation after connecting to the events websocket:
/// one that already failed by then returns its error there, before the caller's "Try `lxc
/// info --show-log`" wrapping. A few short polls stand in for that delay.
pub async fn failed_already(client: &lxd_client::Client, id: &str) -> Result<()> {
    for _ in 0..3 {
        match client.get_operation(id).await {
            Ok(op) if op.status_code == 400 || op.status_code == 401 => bail!("{}", op.err),
            Ok(op) if op.status_code == 103 || op.status_code == 105 => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}

impl Action {
    fn api_action(&self) -> &'static str {
        if self.verb == "pause" {
            "freeze"
        } else {
            self.verb
        }
    }

    async fn run(&self, ctx: &Ctx) -> Result<()> {
        let mut names = Vec::new();
        if self.all {
            let args = if self.args.is_empty() {
                vec![format!("{}:", ctx.conf.default_remote)]
            } else {
                self.args.clone()
            };
            for arg in &args {
                let (remote, name) = ctx.conf.parse_remote(arg)?;
                let client = ctx.connect(&remote).await?;
                if !name.is_empty() {
                    bail!("Both --all and instance name given");
                }
                let (server, _) = client.get_server_raw().await?;
                let bulk = server["api_extensions"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x == "instance_bulk_state_change"));
                if bulk {
                    let put = lxd_client::instances::state_put(
                        self.api_action(),
                        self.timeout,
                        self.force,
                        self.verb == "stop" && self.stateful,
                    );
                    let res = async {
                        let op = client.update_instances_state(&put).await?;
                        wait_with_progress(ctx, &client, &op.id).await
                    }
                    .await;
                    res.map_err(|e| anyhow!("{remote}: {e}"))?;
                    continue;
                }
                for inst in client.get_instances().await? {
                    let code = inst["status_code"].as_u64().unwrap_or(0);
                    if (self.verb == "start" && code == 103) || (self.verb == "stop" && code == 102)
                    {
                        continue;
                    }
                    names.push(format!("{remote}:{}", inst["name"].as_str().unwrap_or("")));
                }
            }
        } else {
            if self.args.is_empty() {
                crate::cli::print_usage(&[self.verb]);
                return Ok(());
            }
            names = self.args.clone();
        }
        if self.console.is_some() {
            if self.all {
                bail!("--console can't be used with --all");
            }
            if names.len() != 1 {
                bail!("--console only works with a single instance");
            }
        }
        let results =
            futures_join(names.iter().map(|n| self.one(ctx, n)).collect::<Vec<_>>()).await;
        if results.len() == 1 {
            return results.into_iter().next().unwrap_or(Ok(()));
        }
        let mut success = true;
        for (name, res) in names.iter().zip(results) {
            if let Err(e) = res {
                success = false;
                for line in format!("error: {e}").split('\n') {
                    eprintln!("{name}: {line}");
                }
            }
        }
        if !success {
            eprintln!();
            bail!("Some instances failed to {}", self.verb);
        }
        Ok(())
    }

    async fn one(&self, ctx: &Ctx, raw: &str) -> Result<()> {
        let mut action = self.api_action();
        let mut state = action == "stop" && self.stateful;
        if action == "stop" && self.force && self.console.is_some() {
            bail!("--console can't be used while forcing instance shutdown");
        }
        let (remote, name) = ctx.conf.parse_remote(raw)?;
        let client = ctx.connect(&remote).await?;
        if name.is_empty() {
            bail!("Must supply instance name for: \"{raw}\"");
        }
        if action == "start" {
            let (current, _) = client.get_instance(&name).await?;
            if current["status_code"].as_u64() == Some(110) {
                action = "unfreeze";
            }
            if action == "start" && current["stateful"] == Value::Bool(true) && !self.stateless {
                state = true;
            }
        }
        let put = lxd_client::instances::state_put(action, self.timeout, self.force, state);
        let op = client.update_instance_state(&name, &put).await?;
        if let (Some(kind), "stop") = (&self.console, action) {
            // Watch the shutdown on the console instead of waiting for the operation.
            return crate::cmd_console::attach_kind(&client, &name, kind).await;
        }
        failed_already(&client, &op.id).await?;
        if let Err(e) = wait_with_progress(ctx, &client, &op.id).await {
            bail!("{e}\nTry `lxc info --show-log {raw}` for more info");
        }
        if let Some(kind) = &self.console {
            return crate::cmd_console::attach_kind(&client, &name, kind).await;
        }
        Ok(())
    }
}

/// Runs the futures concurrently on the current task and collects their results in order.
async fn futures_join<F: std::future::Future<Output = Result<()>>>(
    futs: Vec<F>,
) -> Vec<Result<()>> {
    futures_util::future::join_all(futs).await
}
