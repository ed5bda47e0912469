//! `lxc list`: fetch instances as lxc 5.0.2 does (`recursion=2` with server-side `filter=`
//! when a column needs state or snapshots, otherwise `recursion=1` plus per-instance state and
//! snapshot requests), filter, sort naturally by the row cells and render in any format.

use std::cmp::Ordering;

use anyhow::{bail, Result};
use clap::Args;
use serde_json::Value;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::list_columns::{self, Column, DEFAULT_COLUMNS};

/// List instances
#[derive(Debug, Args)]
pub struct ListCmd {
    args: Vec<String>,
    /// Display instances from all projects
    #[arg(long)]
    all_projects: bool,
    /// Columns
    #[arg(short, long, default_value = DEFAULT_COLUMNS, value_name = "")]
    columns: String,
    /// Fast mode (same as --columns=nsacPt)
    #[arg(long)]
    fast: bool,
    /// Format (csv|json|table|yaml|compact)
    #[arg(short, long, default_value = "table", value_name = "")]
    format: String,
}

/// Keys of `api.Instance`, whose yaml tags decide which filters the server gets.
const INSTANCE_FIELDS: &[&str] = &[
    "created_at",
    "expanded_config",
    "expanded_devices",
    "name",
    "status",
    "status_code",
    "last_used_at",
    "location",
    "type",
    "project",
    "architecture",
    "config",
    "devices",
    "ephemeral",
    "profiles",
    "stateful",
    "description",
];

/// lxc's `getServerSupportedFilters`: (server filters, client filters).
fn split_filters(filters: &[String]) -> (Vec<String>, Vec<String>) {
    filters
        .iter()
        .cloned()
        .partition(|f| match f.split_once('=') {
            Some((k, v)) => INSTANCE_FIELDS.contains(&k) && !v.contains(',') && !k.contains('.'),
            None => false,
        })
}

/// `sortorder.NaturalLess`: digit runs compare by value.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let na = std::str::from_utf8(&a[si..i])
                .unwrap_or("")
                .trim_start_matches('0');
            let nb = std::str::from_utf8(&b[sj..j])
                .unwrap_or("")
                .trim_start_matches('0');
            let ord = na
                .len()
                .cmp(&nb.len())
                .then(na.cmp(nb))
                .then((i - si).cmp(&(j - sj)));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// lxc's `utils.ByName` row order.
pub fn row_cmp(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x == y {
            continue;
        }
        if x.is_empty() {
            return Ordering::Greater;
        }
        if y.is_empty() {
            return Ordering::Less;
        }
        return natural_cmp(x, y);
    }
    Ordering::Equal
}

/// An `api.Instance` as `api.InstanceFull`: the instance's fields then backups, state, snapshots.
fn full(mut inst: Value, state: Value, snapshots: Value) -> Value {
    if let Value::Object(m) = &mut inst {
        let backups = m.remove("backups").unwrap_or(Value::Null);
        m.remove("state");
        m.remove("snapshots");
        m.insert("backups".into(), backups);
        m.insert("state".into(), state);
        m.insert("snapshots".into(), snapshots);
    }
    inst
}

const SORTED: &[&str] = &[
    "config",
    "devices",
    "devices.*",
    "expanded_config",
    "expanded_devices",
    "expanded_devices.*",
    "state.disk",
    "state.network",
    "snapshots.*.config",
    "snapshots.*.devices",
    "snapshots.*.devices.*",
    "snapshots.*.expanded_config",
    "snapshots.*.expanded_devices",
    "snapshots.*.expanded_devices.*",
];

/// yaml.v2 writes a nil Go map as `{}`: the map fields of an `InstanceFull` that JSON has as
/// `null` become empty objects.
fn nil_maps_as_empty(inst: &mut Value) {
    let empty = |v: &mut Value| {
        if v.is_null() {
            *v = Value::Object(serde_json::Map::new());
        }
    };
    for k in ["config", "devices"] {
        if let Some(v) = inst.get_mut(k) {
            empty(v);
        }
    }
    if let Some(state) = inst.get_mut("state").filter(|s| s.is_object()) {
        for k in ["disk", "network"] {
            if let Some(v) = state.get_mut(k) {
                empty(v);
            }
        }
    }
    for snap in inst["snapshots"].as_array_mut().into_iter().flatten() {
        for k in ["config", "devices"] {
            if let Some(v) = snap.get_mut(k) {
                empty(v);
            }
        }
    }
}

/// Time fields written plain by yaml.v2.
pub const TIME_KEYS: &[&str] = &["created_at", "last_used_at", "expires_at"];

impl ListCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["list"], &self.args, 0, None)? {
            return Ok(());
        }
        if ctx.flags.project.is_some() && self.all_projects {
            bail!("Can't specify --project with --all-projects");
        }
        let mut remote = String::new();
        let mut name = String::new();
        let mut filters = self.args.clone();
        if let Some(first) = self.args.first() {
            if first.contains(':') && !first.contains('=') {
                (remote, name) = ctx.conf.parse_remote(first)?;
                filters = self.args[1..].to_vec();
            } else if !first.contains('=') {
                name = first.clone();
            }
        }
        if !name.is_empty() {
            filters.push(name);
        }
        if remote.is_empty() {
            remote = ctx.conf.default_remote.clone();
        }
        let client = ctx.connect(&remote).await?;
        let (server, _) = client.get_server_raw().await?;
        let clustered = server["environment"]["server_clustered"] == Value::Bool(true);
        let has_ext = |e: &str| {
            server["api_extensions"]
                .as_array()
                .is_some_and(|l| l.iter().any(|x| x == e))
        };
        let (columns, needs_data) =
            list_columns::parse(&self.columns, self.fast, self.all_projects, clustered)?;
        let all = if self.all_projects {
            "&all-projects=true"
        } else {
            ""
        };
        let get = |recursion: u8, server_filters: Vec<String>| {
            let client = client.clone();
            async move {
                let path = format!(
                    "/1.0/instances?{}filter={}&recursion={recursion}",
                    if all.is_empty() {
                        ""
                    } else {
                        "all-projects=true&"
                    },
                    lxd_client::instances::query_escape(&lxd_client::instances::filter_expression(
                        &server_filters
                    ))
                );
                let (resp, _) = client.query("GET", &path, None, None).await?;
                Ok::<_, anyhow::Error>(resp.metadata.as_array().cloned().unwrap_or_default())
            }
        };
        let (server_filters, client_filters) = split_filters(&filters);
        let instances: Vec<Value> = if needs_data && has_ext("container_full") {
            get(2, server_filters).await?
        } else {
            let mut out = Vec::new();
            let needs_state = columns.iter().any(|c| c.needs_state);
            let needs_snaps = columns.iter().any(|c| c.needs_snapshots);
            for inst in get(1, server_filters).await? {
                if !crate::list_filters::should_show(&client_filters, &inst, true) {
                    continue;
                }
                let n = inst["name"].as_str().unwrap_or_default().to_string();
                if needs_state && needs_snaps {
                    if let Ok(v) = client.get_instance_full(&n).await {
                        out.push(v);
                    }
                    continue;
                }
                let active = !matches!(inst["status_code"].as_u64(), Some(102 | 112));
                let state = if needs_state && active {
                    client.get_instance_state(&n).await.unwrap_or(Value::Null)
                } else {
                    Value::Null
                };
                let snaps = if needs_snaps {
                    client
                        .get_instance_snapshots(&n)
                        .await
                        .map(Value::Array)
                        .unwrap_or(Value::Null)
                } else {
                    Value::Null
                };
                out.push(full(inst, state, snaps));
            }
            out
        };
        self.show(instances, &client_filters, &columns)
    }

    fn show(&self, instances: Vec<Value>, filters: &[String], columns: &[Column]) -> Result<()> {
        let mut rows = Vec::new();
        let mut shown = Vec::new();
        for inst in instances {
            if !crate::list_filters::should_show(filters, &inst, false) {
                continue;
            }
            rows.push(
                columns
                    .iter()
                    .map(|c| list_columns::cell(c, &inst))
                    .collect::<Vec<_>>(),
            );
            shown.push(inst);
        }
        rows.sort_by(|a, b| row_cmp(a, b));
        let header: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let mut raw = Value::Array(shown);
        match self.format.as_str() {
            "yaml" => {
                crate::yaml::sort_maps_at(&mut raw, SORTED);
                for inst in raw.as_array_mut().into_iter().flatten() {
                    nil_maps_as_empty(inst);
                }
                if raw.as_array().is_some_and(Vec::is_empty) {
                    println!("[]");
                } else {
                    print!("{}", crate::yaml::to_yaml_with_times(&raw, TIME_KEYS));
                }
                Ok(())
            }
            format => crate::output::render_table(format, &header, &rows, &raw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_cmp_numbers_compare_by_value() {
        assert_eq!(natural_cmp("c2", "c10"), Ordering::Less);
        assert_eq!(natural_cmp("a", "b"), Ordering::Less);
    }

    #[test]
    fn split_filters_struct_fields_go_to_server() {
        let (s, c) = split_filters(&[
            "status=Running".into(),
            "user.a=1".into(),
            "web".into(),
            "type=a,b".into(),
        ]);
        assert_eq!(s, ["status=Running"]);
        assert_eq!(c, ["user.a=1", "web", "type=a,b"]);
    }
}
