//! `lxc alias add|list|rename|remove`: user aliases stored in config.yml.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use crate::cli::check_args;
use crate::global::Ctx;
use crate::output::{render_table, sort_by_name};
use crate::yaml::go_key_cmp;

/// Manage command aliases
#[derive(Debug, Args)]
pub struct AliasCmd {
    #[command(subcommand)]
    cmd: Option<AliasSub>,
}

/// Sub-commands of `lxc alias`.
#[derive(Debug, Subcommand)]
enum AliasSub {
    /// Add new aliases
    Add { args: Vec<String> },
    /// List aliases
    #[command(visible_alias = "ls")]
    List {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Rename aliases
    #[command(visible_alias = "mv")]
    Rename { args: Vec<String> },
    /// Remove aliases
    #[command(visible_alias = "rm")]
    Remove { args: Vec<String> },
}

impl AliasCmd {
    pub async fn run(self, mut ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["alias"]);
            return Ok(());
        };
        match cmd {
            AliasSub::Add { args } => {
                if check_args(&["alias", "add"], &args, 2, Some(2))? {
                    return Ok(());
                }
                if ctx.conf.aliases.contains_key(&args[0]) {
                    bail!("Alias {} already exists", args[0]);
                }
                ctx.conf.aliases.insert(args[0].clone(), args[1].clone());
                ctx.save_conf()
            }
            AliasSub::List { args, format } => {
                if check_args(&["alias", "list"], &args, 0, Some(0))? && !args.is_empty() {
                    return Ok(());
                }
                let mut rows: Vec<Vec<String>> = ctx
                    .conf
                    .aliases
                    .iter()
                    .map(|(k, v)| vec![k.clone(), v.clone()])
                    .collect();
                sort_by_name(&mut rows);
                let mut keys: Vec<&String> = ctx.conf.aliases.keys().collect();
                keys.sort_by(|a, b| go_key_cmp(a, b));
                let raw: Map<String, Value> = keys
                    .into_iter()
                    .map(|k| (k.clone(), Value::String(ctx.conf.aliases[k].clone())))
                    .collect();
                render_table(&format, &["ALIAS", "TARGET"], &rows, &Value::Object(raw))
            }
            AliasSub::Rename { args } => {
                if check_args(&["alias", "rename"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let Some(target) = ctx.conf.aliases.get(&args[0]).cloned() else {
                    bail!("Alias {} doesn't exist", args[0]);
                };
                if ctx.conf.aliases.contains_key(&args[1]) {
                    bail!("Alias {} already exists", args[1]);
                }
                ctx.conf.aliases.remove(&args[0]);
                ctx.conf.aliases.insert(args[1].clone(), target);
                ctx.save_conf()
            }
            AliasSub::Remove { args } => {
                if check_args(&["alias", "remove"], &args, 1, Some(1))? {
                    return Ok(());
                }
                if ctx.conf.aliases.remove(&args[0]).is_none() {
                    bail!("Alias {} doesn't exist", args[0]);
                }
                ctx.save_conf()
            }
        }
    }
}
