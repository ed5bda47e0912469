//! `lxc query`: a raw API call printing the metadata as indented JSON.

use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use serde_json::Value;

use crate::cli::check_args;
use crate::global::Ctx;

/// Send a raw query to LXD
#[derive(Debug, Args)]
pub struct QueryCmd {
    args: Vec<String>,
    /// Input data
    #[arg(short, long, default_value = "", value_name = "")]
    data: String,
    /// Print the raw response
    #[arg(long)]
    raw: bool,
    /// Action (defaults to GET)
    #[arg(short = 'X', long = "request", default_value = "GET", value_name = "")]
    request: String,
    /// Wait for the operation to complete
    #[arg(long)]
    wait: bool,
}

/// JSON indented with tabs, followed by a newline, and HTML-escaped, as Go's `json.MarshalIndent`.
pub fn pretty(v: &impl Serialize) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let _ = v.serialize(&mut ser);
    let s = String::from_utf8_lossy(&buf).into_owned();
    let s = s
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!("{s}\n")
}

impl QueryCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["query"], &self.args, 1, Some(1))? {
            return Ok(());
        }
        if ctx.flags.project.as_deref().is_some_and(|p| !p.is_empty()) {
            bail!("--project cannot be used with the query command");
        }
        let (remote, path) = ctx.conf.parse_remote(&self.args[0])?;
        if !path.starts_with('/') {
            bail!("Query path must start with /");
        }
        let client = ctx.connect(&remote).await?;
        // As lxc: the data as JSON, else as a JSON string (so no data sends `""`).
        let body: Option<Value> =
            Some(serde_json::from_str(&self.data).unwrap_or(Value::String(self.data.clone())));
        let (mut resp, _) = client
            .query(&self.request, &path, body.as_ref(), None)
            .await?;
        if self.wait && !resp.operation.is_empty() {
            let op_path = resp.operation.clone();
            let (base, query) = op_path.split_once('?').unwrap_or((&op_path, ""));
            let (waited, _) = client
                .query("GET", &format!("{base}/wait?{query}"), None, None)
                .await?;
            if let Some(err) = waited.metadata.get("err").and_then(Value::as_str) {
                if !err.is_empty() {
                    bail!("{err}");
                }
            }
            resp = waited;
        }
        if self.raw {
            println!("{}", pretty(&resp));
        } else if !resp.metadata.is_null() && resp.metadata != Value::Object(Default::default()) {
            println!("{}", pretty(&resp.metadata));
        }
        Ok(())
    }
}
