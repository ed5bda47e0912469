//! `lxc operation list|show|delete`.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::Value;

use crate::cli::check_args;
use crate::cmd_profile::remote_of;
use crate::global::Ctx;
use crate::output::render_table;
use crate::yaml::{sort_maps_at, to_yaml_with_times};

/// List, show and delete background operations
#[derive(Debug, Args)]
pub struct OperationCmd {
    #[command(subcommand)]
    cmd: Option<OperationSub>,
}

/// Sub-commands of `lxc operation`.
#[derive(Debug, Subcommand)]
enum OperationSub {
    /// Delete a background operation (will attempt to cancel)
    #[command(visible_aliases = ["cancel", "rm"])]
    Delete { args: Vec<String> },
    /// List background operations
    #[command(visible_alias = "ls")]
    List {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Show details on a background operation
    Show { args: Vec<String> },
}

const TIME_KEYS: &[&str] = &["created_at", "updated_at"];

fn op_value(v: &mut Value) {
    sort_maps_at(v, &["resources", "metadata"]);
}

/// `2006/01/02 15:04 MST` in local time, as lxc prints timestamps. chrono cannot name a
/// zone, so a zero offset prints as `UTC` (what Go prints on these machines) and any other
/// offset numerically, as Go does for zones without an abbreviation.
pub fn lxc_time(rfc3339: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return String::new();
    };
    let local = t.with_timezone(&chrono::Local);
    let zone = match local.offset().local_minus_utc() {
        0 => "UTC".to_string(),
        _ => local.format("%:::z").to_string(),
    };
    format!("{} {zone}", local.format("%Y/%m/%d %H:%M"))
}

fn yes_no(b: bool) -> String {
    if b { "YES" } else { "NO" }.to_string()
}

impl OperationCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["operation"]);
            return Ok(());
        };
        match cmd {
            OperationSub::List { args, format } => {
                if check_args(&["operation", "list"], &args, 0, Some(1))? {
                    return Ok(());
                }
                let remote = remote_of(&ctx, args.first().map(String::as_str).unwrap_or(""))?;
                let client = ctx.connect(&remote).await?;
                let (by_status, _) = client
                    .get_struct::<serde_json::Map<String, Value>>("/1.0/operations?recursion=1")
                    .await?;
                let mut ops: Vec<Value> = by_status
                    .values()
                    .filter_map(Value::as_array)
                    .flatten()
                    .cloned()
                    .collect();
                let rows: Vec<Vec<String>> = ops
                    .iter()
                    .map(|o| {
                        let s = |k: &str| o[k].as_str().unwrap_or_default().to_string();
                        vec![
                            s("id"),
                            s("class").to_uppercase(),
                            s("description"),
                            s("status").to_uppercase(),
                            yes_no(o["may_cancel"].as_bool().unwrap_or_default()),
                            lxc_time(&s("created_at")),
                        ]
                    })
                    .collect();
                ops.iter_mut().for_each(op_value);
                let header = [
                    "ID",
                    "TYPE",
                    "DESCRIPTION",
                    "STATUS",
                    "CANCELABLE",
                    "CREATED",
                ];
                render_table(&format, &header, &rows, &Value::Array(ops))
            }
            OperationSub::Show { args } => {
                if check_args(&["operation", "show"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, id) = ctx.resource(&args[0]).await?;
                let (mut op, _) = client
                    .get_struct::<Value>(&format!("/1.0/operations/{id}"))
                    .await?;
                op_value(&mut op);
                print!("{}", to_yaml_with_times(&op, TIME_KEYS));
                Ok(())
            }
            OperationSub::Delete { args } => {
                if check_args(&["operation", "delete"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, id) = ctx.resource(&args[0]).await?;
                client.delete_operation(&id).await?;
                if !ctx.flags.quiet {
                    println!("Operation {id} deleted");
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn lxc_time_utc_host_prints_utc_abbreviation() {
        if chrono::Local::now().offset().local_minus_utc() == 0 {
            assert_eq!(
                super::lxc_time("2026-11-28T00:15:22.838502463Z"),
                "2026/11/28 00:15 UTC"
            );
        }
        assert_eq!(super::lxc_time("garbage"), "");
    }
}
