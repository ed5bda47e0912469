//! `lxc profile add|assign|remove`: change the profile list of an instance (a `PUT` of its
//! writable fields, operation waited for).

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::cli::check_args;
use crate::cmd_config::instance_writable;
use crate::global::Ctx;

/// Which profile-list change to make.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    Add,
    Assign,
    Remove,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::Add => "add",
            Change::Assign => "assign",
            Change::Remove => "remove",
        }
    }
}

/// Runs `lxc profile <add|assign|remove> [<remote>:]<instance> <profile(s)>`.
pub async fn run(ctx: &Ctx, change: Change, args: &[String]) -> Result<()> {
    if check_args(&["profile", change.verb()], args, 2, Some(2))? {
        return Ok(());
    }
    let (client, name) = ctx.resource(&args[0]).await?;
    if name.is_empty() {
        bail!("Missing instance name");
    }
    let (inst, etag) = client.get_instance(&name).await?;
    let mut put = instance_writable(&inst);
    let current: Vec<String> = inst["profiles"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let arg = &args[1];
    put["profiles"] = match change {
        Change::Add => {
            let mut p = current;
            p.push(arg.clone());
            json!(p)
        }
        Change::Assign if arg.is_empty() => Value::Null,
        Change::Assign => json!(arg.split(',').collect::<Vec<_>>()),
        Change::Remove => {
            if !current.contains(arg) {
                bail!("Profile {arg} isn't currently applied to {name}");
            }
            json!(current.iter().filter(|p| *p != arg).collect::<Vec<_>>())
        }
    };
    client.update_instance(&name, &put, &etag).await?;
    if !ctx.flags.quiet {
        match change {
            Change::Add => println!("Profile {arg} added to {name}"),
            Change::Assign => {
                let shown = if arg.is_empty() { "(none)" } else { arg };
                println!("Profiles {shown} applied to {name}");
            }
            Change::Remove => println!("Profile {arg} removed from {name}"),
        }
    }
    Ok(())
}
