//! `lxc monitor`: prints events from `/1.0/events` as YAML (default), JSON or a logrus-style
//! pretty log, as lxc 5.0.2 does (generic maps, so keys are sorted).

use anyhow::{bail, Result};
use clap::Args;
use serde_json::Value;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::output::go_json;
use crate::yaml::{sort_all_maps, to_yaml};

/// Monitor a local or remote LXD server
#[derive(Debug, Args)]
pub struct MonitorCmd {
    args: Vec<String>,
    /// Show events from all projects
    #[arg(long)]
    all_projects: bool,
    /// Format (json|pretty|yaml)
    #[arg(short, long, default_value = "yaml", value_name = "")]
    format: String,
    /// Minimum level for log messages (only available when using pretty format)
    #[arg(long, value_name = "")]
    loglevel: Option<String>,
    /// Pretty rendering (short for --format=pretty)
    #[arg(long)]
    pretty: bool,
    /// Event type to listen for
    #[arg(long = "type", value_name = "")]
    types: Vec<String>,
}

fn level_rank(level: &str) -> u8 {
    match level {
        "crit" | "critical" => 0,
        "error" | "eror" => 1,
        "warn" | "warning" => 2,
        "info" => 3,
        _ => 4,
    }
}

fn logfmt_value(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/@^+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("{s:?}")
    }
}

/// One event in the pretty format, or `None` when it is filtered out.
fn pretty_line(ev: &Value, min_level: Option<&str>) -> Option<String> {
    let time = chrono::DateTime::parse_from_rfc3339(ev["timestamp"].as_str().unwrap_or_default())
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
        .replace("+00:00", "Z");
    let md = &ev["metadata"];
    let (level, msg, ctx) = match ev["type"].as_str() {
        Some("logging") => (
            md["level"].as_str().unwrap_or("info").to_string(),
            md["message"].as_str().unwrap_or_default().to_string(),
            md["context"].as_object().cloned().unwrap_or_default(),
        ),
        Some("lifecycle") => {
            let r = &md["requestor"];
            let mut msg = format!(
                "Action: {}, Source: {}",
                md["action"].as_str().unwrap_or_default(),
                md["source"].as_str().unwrap_or_default()
            );
            if r.is_object() {
                msg.push_str(&format!(
                    ", Requestor: {}/{} ({})",
                    r["protocol"].as_str().unwrap_or_default(),
                    r["username"].as_str().unwrap_or_default(),
                    r["address"].as_str().unwrap_or_default()
                ));
            }
            ("info".to_string(), msg, Default::default())
        }
        _ => return None,
    };
    if let Some(min) = min_level {
        if level_rank(&level) > level_rank(min) {
            return None;
        }
    }
    let mut line = format!("time=\"{time}\" level={level} msg={}", logfmt_value(&msg));
    let mut keys: Vec<&String> = ctx.keys().collect();
    keys.sort();
    for k in keys {
        let v = match &ctx[k] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        line.push_str(&format!(" {k}={}", logfmt_value(&v)));
    }
    Some(line)
}

impl MonitorCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["monitor"], &self.args, 0, Some(1))? {
            return Ok(());
        }
        let format = if self.pretty {
            "pretty".to_string()
        } else {
            self.format.clone()
        };
        if !["json", "pretty", "yaml"].contains(&format.as_str()) {
            bail!("Invalid format: {format}");
        }
        if self.loglevel.is_some() && format != "pretty" {
            bail!("Log level filtering can only be used with pretty formatting");
        }
        let raw = self.args.first().cloned().unwrap_or_default();
        let raw = if raw.is_empty() || raw.ends_with(':') {
            raw
        } else {
            format!("{raw}:")
        };
        let (client, _) = ctx.resource(&raw).await?;
        let types: Vec<String> = self
            .types
            .iter()
            .flat_map(|t| t.split(','))
            .map(String::from)
            .collect();
        let mut listener = client.get_events(&types, self.all_projects).await?;
        while let Some(text) = listener.next_raw().await? {
            let mut ev: Value = serde_json::from_str(&text)?;
            sort_all_maps(&mut ev);
            match format.as_str() {
                "json" => print!("{}\n\n", go_json(&ev)),
                "pretty" => {
                    if let Some(line) = pretty_line(&ev, self.loglevel.as_deref()) {
                        println!("{line}");
                    }
                }
                _ => print!("{}\n\n", to_yaml(&ev)),
            }
            use std::io::Write;
            let _ = std::io::stdout().flush();
        }
        Ok(())
    }
}
