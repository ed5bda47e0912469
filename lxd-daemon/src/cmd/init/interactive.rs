//! `lxd init` without flags: LXD 5.0.2's questions, in its order, with its defaults.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::bail;
use serde_json::Value;

use super::preseed::{Entry, Preseed};

fn ask(question: &str, default: &str) -> anyhow::Result<String> {
    print!("{question} ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        bail!("Unexpected end of input");
    }
    let answer = line.trim();
    Ok(if answer.is_empty() {
        default.to_string()
    } else {
        answer.to_string()
    })
}

fn ask_bool(question: &str, default: bool) -> anyhow::Result<bool> {
    let def = if default { "yes" } else { "no" };
    loop {
        match ask(&format!("{question} (yes/no) [default={def}]:"), def)?
            .to_lowercase()
            .as_str()
        {
            "yes" | "y" => return Ok(true),
            "no" | "n" => return Ok(false),
            _ => println!("Invalid input, try again.\n"),
        }
    }
}

/// Ask the questions; `None` when there is nothing to apply.
pub async fn ask_all(socket: &Path) -> anyhow::Result<Option<Preseed>> {
    let _ = socket;
    let mut preseed = Preseed::default();
    if ask_bool("Would you like to use LXD clustering?", false)? {
        bail!("Clustering is not implemented");
    }
    if ask_bool("Do you want to configure a new storage pool?", true)? {
        let name = ask("Name of the new storage pool [default=default]:", "default")?;
        let drivers: Vec<&str> = lxd_storage::supported_drivers()
            .iter()
            .map(|d| d.name)
            .collect();
        // LXD's default: btrfs when available, else dir (zfs is not built).
        let default = if drivers.contains(&"btrfs") {
            "btrfs"
        } else {
            "dir"
        };
        let driver = loop {
            let question = format!(
                "Name of the storage backend to use ({}) [default={default}]:",
                drivers.join(", ")
            );
            let d = ask(&question, default)?;
            if drivers.contains(&d.as_str()) {
                break d;
            }
            println!("Invalid input, try again.\n");
        };
        let mut config = lxd_api::ConfigMap::new();
        if driver == "btrfs" {
            let device =
                "Would you like to use an existing empty block device (e.g. a disk or partition)?";
            if ask_bool(device, false)? {
                config.insert(
                    "source".into(),
                    ask("Path to the existing block device:", "")?,
                );
            } else {
                let lxd_dir = crate::paths::Paths::from_env().var;
                let total = lxd_sys::pool_resources(&lxd_dir)
                    .map(|r| r.space.total)
                    .unwrap_or(0);
                let size = lxd_storage::btrfs::default_loop_size_gib(total);
                let question = format!(
                    "Size in GiB of the new loop device (1GiB minimum) [default={size}GiB]:"
                );
                let answer = ask(&question, &format!("{size}GiB"))?;
                let answer = if answer.chars().all(|c| c.is_ascii_digit()) {
                    format!("{answer}GiB")
                } else {
                    answer
                };
                config.insert("size".into(), answer);
            }
        }
        preseed.storage_pools.push(Entry {
            name: name.clone(),
            driver: Some(driver),
            config,
            ..Default::default()
        });
        let root = [("type", "disk"), ("path", "/"), ("pool", name.as_str())]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        preseed.profiles.push(Entry {
            name: "default".into(),
            description: "Default LXD profile".into(),
            devices: Some([("root".to_string(), root)].into()),
            ..Default::default()
        });
    }
    if ask_bool("Would you like to connect to a MAAS server?", false)? {
        bail!("MAAS integration is not implemented");
    }
    // Managed bridges come with the networking work; until then the default is "no".
    if ask_bool(
        "Would you like to create a new local network bridge?",
        false,
    )? {
        bail!("Managed networks are not implemented yet");
    }
    if ask_bool(
        "Would you like the LXD server to be available over the network?",
        false,
    )? {
        let addr = ask(
            "Address to bind LXD to (not including port) [default=all]:",
            "all",
        )?;
        let port = ask("Port to bind LXD to [default=8443]:", "8443")?;
        let host = if addr == "all" {
            "[::]".to_string()
        } else {
            addr
        };
        preseed.config.insert(
            "core.https_address".into(),
            Value::String(format!("{host}:{port}")),
        );
        let pw = ask("Trust password for new clients:", "")?;
        let again = ask("Again:", "")?;
        if pw != again {
            bail!("Passwords don't match");
        }
        if !pw.is_empty() {
            preseed
                .config
                .insert("core.trust_password".into(), Value::String(pw));
        }
    }
    if !ask_bool(
        "Would you like stale cached images to be updated automatically?",
        true,
    )? {
        preseed.config.insert(
            "images.auto_update_interval".into(),
            Value::String("0".into()),
        );
    }
    if ask_bool(
        "Would you like a YAML \"lxd init\" preseed to be printed?",
        false,
    )? {
        print!("{}", yaml_serde::to_string(&preseed)?);
    }
    Ok(Some(preseed))
}
