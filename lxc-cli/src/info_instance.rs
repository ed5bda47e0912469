//! `lxc info <instance>`: lxc 5.0.2's layout of `GET /1.0/instances/<name>?recursion=1`
//! (status, PID, dates in local time, resources, per-NIC network usage, snapshot and backup
//! tables) and `--show-log` (the instance's `lxc.log` or `qemu.log`).

use anyhow::{bail, Result};
use serde_json::Value;

use crate::cmd_storage_info::byte_size_iec;
use crate::output::table;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn n(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_i64().map(|i| i.max(0) as u64))
        .unwrap_or(0)
}

/// Go's `t.Local().Format("2006/01/02 15:04 MST")`, or `None` for unset times.
pub fn local_time(t: &str) -> Option<String> {
    let d = chrono::DateTime::parse_from_rfc3339(t).ok()?;
    if d.timestamp() <= 0 {
        return None;
    }
    let local = d.with_timezone(&chrono::Local);
    let zone = if local.offset().local_minus_utc() == 0 {
        "UTC".to_string()
    } else {
        local.format("%z").to_string()
    };
    Some(format!("{} {zone}", local.format("%Y/%m/%d %H:%M")))
}

fn network(out: &mut String, nets: &serde_json::Map<String, Value>) {
    let mut names: Vec<&String> = nets.keys().collect();
    names.sort();
    for name in names {
        let net = &nets[name];
        out.push_str(&format!("    {name}:\n"));
        out.push_str(&format!("      Type: {}\n", s(&net["type"])));
        out.push_str(&format!(
            "      State: {}\n",
            s(&net["state"]).to_uppercase()
        ));
        if !s(&net["host_name"]).is_empty() {
            out.push_str(&format!("      Host interface: {}\n", s(&net["host_name"])));
        }
        if !s(&net["hwaddr"]).is_empty() {
            out.push_str(&format!("      MAC address: {}\n", s(&net["hwaddr"])));
        }
        if n(&net["mtu"]) != 0 {
            out.push_str(&format!("      MTU: {}\n", n(&net["mtu"])));
        }
        let c = &net["counters"];
        let si = lxd_shared::units::byte_size_string;
        out.push_str(&format!(
            "      Bytes received: {}\n",
            si(n(&c["bytes_received"]), 2)
        ));
        out.push_str(&format!(
            "      Bytes sent: {}\n",
            si(n(&c["bytes_sent"]), 2)
        ));
        out.push_str(&format!(
            "      Packets received: {}\n",
            n(&c["packets_received"])
        ));
        out.push_str(&format!("      Packets sent: {}\n", n(&c["packets_sent"])));
        out.push_str("      IP addresses:\n");
        for a in net["addresses"].as_array().into_iter().flatten() {
            let fam = s(&a["family"]);
            let sep = if fam == "inet" { ":  " } else { ": " };
            out.push_str(&format!(
                "        {fam}{sep}{}/{} ({})\n",
                s(&a["address"]),
                s(&a["netmask"]),
                s(&a["scope"])
            ));
        }
    }
}

fn resources(out: &mut String, st: &Value) {
    out.push_str("\nResources:\n");
    out.push_str(&format!(
        "  Processes: {}\n",
        st["processes"].as_i64().unwrap_or(0)
    ));
    let mut disk = String::new();
    if let Some(d) = st["disk"].as_object() {
        let mut keys: Vec<&String> = d.keys().collect();
        keys.sort();
        for k in keys {
            let usage = n(&d[k]["usage"]);
            if usage != 0 {
                disk.push_str(&format!("    {k}: {}\n", byte_size_iec(usage, 2)));
            }
        }
    }
    if !disk.is_empty() {
        out.push_str("  Disk usage:\n");
        out.push_str(&disk);
    }
    let cpu = n(&st["cpu"]["usage"]);
    if cpu != 0 {
        out.push_str("  CPU usage:\n");
        out.push_str(&format!(
            "    CPU usage (in seconds): {}\n",
            cpu / 1_000_000_000
        ));
    }
    let m = &st["memory"];
    let mut mem = String::new();
    for (key, label) in [
        ("usage", "Memory (current)"),
        ("usage_peak", "Memory (peak)"),
        ("swap_usage", "Swap (current)"),
        ("swap_usage_peak", "Swap (peak)"),
    ] {
        if n(&m[key]) != 0 {
            mem.push_str(&format!("    {label}: {}\n", byte_size_iec(n(&m[key]), 2)));
        }
    }
    if !mem.is_empty() {
        out.push_str("  Memory usage:\n");
        out.push_str(&mem);
    }
    let mut net = String::new();
    if let Some(nets) = st["network"].as_object() {
        network(&mut net, nets);
    }
    if !net.is_empty() {
        out.push_str("  Network usage:\n");
        out.push_str(&net);
    }
}

fn when(t: &Value) -> String {
    local_time(s(t)).unwrap_or_else(|| " ".into())
}

fn yes_no(v: &Value) -> String {
    if v == &Value::Bool(true) { "YES" } else { "NO" }.into()
}

/// The whole `lxc info <instance>` text (without the log).
pub fn render(inst: &Value, clustered: bool) -> String {
    let mut out = String::new();
    out.push_str(&format!("Name: {}\n", s(&inst["name"])));
    out.push_str(&format!("Status: {}\n", s(&inst["status"]).to_uppercase()));
    let kind = match s(&inst["type"]) {
        "" => "container",
        t => t,
    };
    if inst["ephemeral"] == Value::Bool(true) {
        out.push_str(&format!("Type: {kind} (ephemeral)\n"));
    } else {
        out.push_str(&format!("Type: {kind}\n"));
    }
    out.push_str(&format!("Architecture: {}\n", s(&inst["architecture"])));
    if !s(&inst["location"]).is_empty() && clustered {
        out.push_str(&format!("Location: {}\n", s(&inst["location"])));
    }
    let st = &inst["state"];
    let pid = st["pid"].as_i64().unwrap_or(0);
    if pid != 0 {
        out.push_str(&format!("PID: {pid}\n"));
    }
    if let Some(t) = local_time(s(&inst["created_at"])) {
        out.push_str(&format!("Created: {t}\n"));
    }
    if let Some(t) = local_time(s(&inst["last_used_at"])) {
        out.push_str(&format!("Last Used: {t}\n"));
    }
    if pid != 0 {
        resources(&mut out, st);
    }
    let snaps = inst["snapshots"].as_array().cloned().unwrap_or_default();
    if !snaps.is_empty() {
        out.push_str("\nSnapshots:\n");
        let rows: Vec<Vec<String>> = snaps
            .iter()
            .map(|snap| {
                let name = s(&snap["name"]);
                vec![
                    name.rsplit('/').next().unwrap_or(name).to_string(),
                    when(&snap["created_at"]),
                    when(&snap["expires_at"]),
                    yes_no(&snap["stateful"]),
                ]
            })
            .collect();
        out.push_str(&table(
            &["NAME", "TAKEN AT", "EXPIRES AT", "STATEFUL"],
            &rows,
            true,
        ));
    }
    let backups = inst["backups"].as_array().cloned().unwrap_or_default();
    if !backups.is_empty() {
        out.push_str("\nBackups:\n");
        let rows: Vec<Vec<String>> = backups
            .iter()
            .map(|b| {
                vec![
                    s(&b["name"]).to_string(),
                    when(&b["created_at"]),
                    when(&b["expires_at"]),
                    yes_no(&b["instance_only"]),
                    yes_no(&b["optimized_storage"]),
                ]
            })
            .collect();
        let header = [
            "NAME",
            "TAKEN AT",
            "EXPIRES AT",
            "INSTANCE ONLY",
            "OPTIMIZED STORAGE",
        ];
        out.push_str(&table(&header, &rows, true));
    }
    out
}

/// The log file `--show-log` prints for an instance type.
pub fn log_name(kind: &str) -> Result<&'static str> {
    match kind {
        "container" | "" => Ok("lxc.log"),
        "virtual-machine" => Ok("qemu.log"),
        other => bail!("Unsupported instance type: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_stopped_instance_has_no_resources() {
        let inst = serde_json::json!({"name": "c1", "status": "Stopped", "type": "container",
            "ephemeral": false, "architecture": "x86_64", "location": "none",
            "created_at": "1970-01-01T00:00:00Z", "last_used_at": "1970-01-01T00:00:00Z",
            "state": {"pid": 0}, "snapshots": null, "backups": null});
        assert_eq!(
            render(&inst, false),
            "Name: c1\nStatus: STOPPED\nType: container\nArchitecture: x86_64\n"
        );
    }
}
