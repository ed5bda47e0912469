//! `lxc remote list|switch|get-default|rename|remove|set-url` on config.yml, and the dispatch
//! of `add` (`cmd_remote_add.rs`).

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use crate::cli::check_args;
use crate::cmd_remote_add::{add_remote, RemoteAddFlags};
use crate::config_file::Remote;
use crate::global::Ctx;
use crate::output::{render_table, sort_by_name};
use crate::yaml::go_key_cmp;

/// Manage the list of remote servers
#[derive(Debug, Args)]
pub struct RemoteCmd {
    #[command(subcommand)]
    cmd: Option<RemoteSub>,
}

/// Sub-commands of `lxc remote`.
#[derive(Debug, Subcommand)]
enum RemoteSub {
    /// Add new remote servers
    Add {
        args: Vec<String>,
        #[command(flatten)]
        flags: RemoteAddFlags,
    },
    /// Show the default remote
    GetDefault { args: Vec<String> },
    /// List the available remotes
    #[command(visible_alias = "ls")]
    List {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Remove remotes
    #[command(visible_alias = "rm")]
    Remove { args: Vec<String> },
    /// Rename remotes
    #[command(visible_alias = "mv")]
    Rename { args: Vec<String> },
    /// Set the URL for the remote
    SetUrl { args: Vec<String> },
    /// Switch the default remote
    #[command(visible_alias = "set-default")]
    Switch { args: Vec<String> },
}

fn yes_no(b: bool) -> String {
    if b { "YES" } else { "NO" }.to_string()
}

fn remote_row(name: &str, r: &Remote, default: &str) -> Vec<String> {
    let protocol = if r.protocol.is_empty() {
        "lxd"
    } else {
        &r.protocol
    };
    let mut auth = if !r.auth_type.is_empty() {
        r.auth_type.clone()
    } else if r.addr.starts_with("unix:") {
        "file access".into()
    } else if protocol == "simplestreams" {
        "none".into()
    } else {
        "tls".into()
    };
    if auth == "candid" && !r.domain.is_empty() {
        auth = format!("{auth} ({})", r.domain);
    }
    let shown = if name == default {
        format!("{name} (current)")
    } else {
        name.to_string()
    };
    vec![
        shown,
        r.addr.clone(),
        protocol.to_string(),
        auth,
        yes_no(r.public),
        yes_no(r.is_static),
        yes_no(r.global),
    ]
}

fn remote_json(r: &Remote) -> Value {
    json!({"Addr": r.addr, "AuthType": r.auth_type, "Domain": r.domain, "Project": r.project,
        "Protocol": r.protocol, "Public": r.public, "Global": r.global, "Static": r.is_static})
}

impl RemoteCmd {
    pub async fn run(self, mut ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["remote"]);
            return Ok(());
        };
        match cmd {
            RemoteSub::List { args, format } => {
                if check_args(&["remote", "list"], &args, 0, Some(0))? && !args.is_empty() {
                    return Ok(());
                }
                let conf = &ctx.conf;
                let mut rows: Vec<Vec<String>> = conf
                    .remotes
                    .iter()
                    .map(|(n, r)| remote_row(n, r, &conf.default_remote))
                    .collect();
                sort_by_name(&mut rows);
                let mut names: Vec<&String> = conf.remotes.keys().collect();
                names.sort_by(|a, b| go_key_cmp(a, b));
                // JSON has Go's field names (no json tags), YAML the yaml tags.
                let raw: Map<String, Value> = names
                    .into_iter()
                    .map(|n| {
                        let r = &conf.remotes[n];
                        let v = if format == "yaml" {
                            r.yaml_value()
                        } else {
                            remote_json(r)
                        };
                        (n.clone(), v)
                    })
                    .collect();
                let header = [
                    "NAME",
                    "URL",
                    "PROTOCOL",
                    "AUTH TYPE",
                    "PUBLIC",
                    "STATIC",
                    "GLOBAL",
                ];
                render_table(&format, &header, &rows, &Value::Object(raw))
            }
            RemoteSub::GetDefault { args } => {
                if check_args(&["remote", "get-default"], &args, 0, Some(0))? && !args.is_empty() {
                    return Ok(());
                }
                println!("{}", ctx.conf.default_remote);
                Ok(())
            }
            RemoteSub::Switch { args } => {
                if check_args(&["remote", "switch"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let name = &args[0];
                if !ctx.conf.remotes.contains_key(name) {
                    bail!("Remote {name} doesn't exist");
                }
                ctx.conf.default_remote = name.clone();
                ctx.save_conf()
            }
            RemoteSub::Rename { args } => {
                if check_args(&["remote", "rename"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (old, new) = (&args[0], &args[1]);
                let mut r = ctx
                    .conf
                    .remotes
                    .get(old)
                    .cloned()
                    .ok_or_else(|| anyhow!("Remote {old} doesn't exist"))?;
                if r.is_static {
                    bail!("Remote {old} is static and cannot be modified");
                }
                if ctx.conf.remotes.contains_key(new) {
                    bail!("Remote {new} already exists");
                }
                let old_cert = ctx.conf.server_cert_path(old);
                if old_cert.exists() {
                    if r.global {
                        copy_global_cert(&ctx.conf, old, new)?;
                        r.global = false;
                    } else {
                        let new_cert = ctx.conf.dir.join("servercerts").join(format!("{new}.crt"));
                        std::fs::rename(&old_cert, &new_cert).map_err(|e| {
                            anyhow!("rename {} {}: {e}", old_cert.display(), new_cert.display())
                        })?;
                    }
                }
                ctx.conf.remotes.remove(old);
                ctx.conf.remotes.insert(new.clone(), r);
                if &ctx.conf.default_remote == old {
                    ctx.conf.default_remote = new.clone();
                }
                ctx.save_conf()
            }
            RemoteSub::Remove { args } => {
                if check_args(&["remote", "remove"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let name = &args[0];
                let r = ctx
                    .conf
                    .remotes
                    .get(name)
                    .ok_or_else(|| anyhow!("Remote {name} doesn't exist"))?;
                if r.is_static {
                    bail!("Remote {name} is static and cannot be modified");
                }
                if r.global {
                    bail!("Remote {name} is global and cannot be removed");
                }
                if &ctx.conf.default_remote == name {
                    bail!("Can't remove the default remote");
                }
                ctx.conf.remotes.remove(name);
                let _ = std::fs::remove_file(
                    ctx.conf.dir.join("servercerts").join(format!("{name}.crt")),
                );
                ctx.save_conf()
            }
            RemoteSub::Add { args, mut flags } => {
                if check_args(&["remote", "add"], &args, 1, Some(2))? {
                    return Ok(());
                }
                flags.project = ctx.flags.project.take();
                let addr = args.get(1).unwrap_or(&args[0]).clone();
                add_remote(&mut ctx, &args[0], &addr, flags).await
            }
            RemoteSub::SetUrl { args } => {
                if check_args(&["remote", "set-url"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let name = &args[0];
                let remote = ctx
                    .conf
                    .remotes
                    .get_mut(name)
                    .ok_or_else(|| anyhow!("Remote {name} doesn't exist"))?;
                if remote.is_static {
                    bail!("Remote {name} is static and cannot be modified");
                }
                if remote.global {
                    remote.global = false;
                    copy_global_cert(&ctx.conf, name, name)?;
                }
                let remote = ctx.conf.remotes.get_mut(name).expect("checked above");
                remote.addr = args[1].clone();
                ctx.save_conf()
            }
        }
    }
}

/// Copies a global remote's pinned certificate into the user's servercerts/ (lxc's
/// `CopyGlobalCert`).
fn copy_global_cert(conf: &crate::config_file::Config, from: &str, to: &str) -> Result<()> {
    let source = crate::config_file::global_config_dir()
        .join("servercerts")
        .join(format!("{from}.crt"));
    let target = conf.dir.join("servercerts").join(format!("{to}.crt"));
    std::fs::copy(&source, &target)
        .map(|_| ())
        .map_err(|e| anyhow!("{}: {e}", source.display()))
}
