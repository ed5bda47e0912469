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
    #[arg(long = "type", value_name = "", action = clap::ArgAction::Append)]
    types: Vec<String>,
}

/// logrus level names by rank (`panic` is the most severe).
const LOGRUS_LEVELS: [&str; 7] = [
    "panic", "fatal", "error", "warning", "info", "debug", "trace",
];

/// logrus' `ParseLevel`: the rank of a level name, or its error text.
fn logrus_level(level: &str) -> Result<usize> {
    let rank = match level.to_lowercase().as_str() {
        "panic" => 0,
        "fatal" => 1,
        "error" => 2,
        "warn" | "warning" => 3,
        "info" => 4,
        "debug" => 5,
        "trace" => 6,
        _ => bail!("not a valid logrus Level: {level:?}"),
    };
    Ok(rank)
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

/// Go's `%v` of a time: `2006-01-02 15:04:05.999999999 -0700 MST` (UTC on these hosts).
fn go_time_v(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => {
            let t = t.with_timezone(&chrono::Utc);
            let nanos = format!("{:09}", t.timestamp_subsec_nanos());
            let nanos = nanos.trim_end_matches('0');
            let frac = if nanos.is_empty() {
                String::new()
            } else {
                format!(".{nanos}")
            };
            format!("{}{frac} +0000 UTC", t.format("%Y-%m-%d %H:%M:%S"))
        }
        Err(_) => "0001-01-01 00:00:00 +0000 UTC".into(),
    }
}

/// Go's `%v` of a decoded JSON value (maps as `map[k:v]` with sorted keys).
fn go_value_v(v: &Value) -> String {
    match v {
        Value::Null => "map[]".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_value_v).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_value_v(&m[k])))
                .collect();
            format!("map[{}]", items.join(" "))
        }
        other => other.to_string(),
    }
}

/// The context lxc attaches to an operation event in the pretty format.
fn operation_ctx(md: &Value) -> serde_json::Map<String, Value> {
    let s = |k: &str| md[k].as_str().unwrap_or_default().to_string();
    let mut ctx = serde_json::Map::new();
    let mut put = |k: &str, v: String| {
        ctx.insert(k.into(), Value::String(v));
    };
    put("CreatedAt", go_time_v(&s("created_at")));
    put("UpdatedAt", go_time_v(&s("updated_at")));
    put("Status", s("status"));
    // api.StatusCode prints as its name, which is the `status` text.
    put("StatusCode", s("status"));
    put("Resources", go_value_v(&md["resources"]));
    put("Metadata", go_value_v(&md["metadata"]));
    put(
        "MayCancel",
        md["may_cancel"].as_bool().unwrap_or_default().to_string(),
    );
    put("Err", s("err"));
    put("Location", s("location"));
    ctx
}

/// One event in the pretty format, or `None` when it is filtered out (below `max_rank` or not
/// a logging or lifecycle event).
fn pretty_line(ev: &Value, max_rank: usize) -> Result<Option<String>> {
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
            let ctx = md["context"].as_object().cloned().unwrap_or_default();
            ("info".to_string(), msg, ctx)
        }
        Some("operation") => {
            let msg = format!(
                "ID: {}, Class: {}, Description: {}",
                md["id"].as_str().unwrap_or_default(),
                md["class"].as_str().unwrap_or_default(),
                md["description"].as_str().unwrap_or_default()
            );
            ("info".to_string(), msg, operation_ctx(md))
        }
        other => bail!("Not supported event type: {}", other.unwrap_or_default()),
    };
    let level = if level == "dbug" { "debug" } else { &level };
    let rank = logrus_level(level)?;
    if rank > max_rank {
        return Ok(None);
    }
    let level = LOGRUS_LEVELS[rank];
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
    Ok(Some(line))
}

impl MonitorCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["monitor"], &self.args, 0, Some(1))? {
            return Ok(());
        }
        if !["json", "pretty", "yaml"].contains(&self.format.as_str()) {
            bail!("Invalid format: {}", self.format);
        }
        let format = if self.pretty {
            "pretty".to_string()
        } else {
            self.format.clone()
        };
        let loglevel = self.loglevel.as_deref().filter(|l| !l.is_empty());
        if loglevel.is_some() && format != "pretty" {
            bail!("Log level filtering can only be used with pretty formatting");
        }
        let raw = self.args.first().cloned().unwrap_or_default();
        let raw = if raw.is_empty() || raw.ends_with(':') {
            raw
        } else {
            format!("{raw}:")
        };
        let (client, _) = ctx.resource(&raw).await?;
        // Like the Go client: every event comes, `--type` values filter them here, as given.
        let mut listener = client.get_events(&[], self.all_projects).await?;
        let max_rank = loglevel.map_or(Ok(5), logrus_level)?;
        while let Some(text) = listener.next_raw().await? {
            let mut ev: Value = serde_json::from_str(&text)?;
            let kind = ev["type"].as_str().unwrap_or_default();
            if !self.types.is_empty() && !self.types.iter().any(|t| t == kind) {
                continue;
            }
            sort_all_maps(&mut ev);
            match format.as_str() {
                "json" => print!("{}\n\n", go_json(&ev)),
                "pretty" => {
                    if let Some(line) = pretty_line(&ev, max_rank)? {
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
