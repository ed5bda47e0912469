//! `lxc info --resources`: the host resources text (CPU and memory sections) as lxc 5.0.2
//! renders `GET /1.0/resources`.

use serde_json::Value;

fn size(n: &Value) -> String {
    lxd_shared::units::byte_size_string(n.as_u64().unwrap_or_default(), 2)
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn cpu_section(out: &mut String, socket: &Value, arch: &str, title_socket: bool) {
    if title_socket {
        out.push_str(&format!("  Socket {}:\n", s(&socket["socket"])));
    }
    let ind = if title_socket { "    " } else { "  " };
    if let Some(v) = socket["vendor"].as_str().filter(|v| !v.is_empty()) {
        out.push_str(&format!("{ind}Vendor: {v}\n"));
    }
    if let Some(v) = socket["name"].as_str().filter(|v| !v.is_empty()) {
        out.push_str(&format!("{ind}Name: {v}\n"));
    }
    if let Some(caches) = socket["cache"].as_array().filter(|c| !c.is_empty()) {
        out.push_str(&format!("{ind}Caches:\n"));
        for c in caches {
            out.push_str(&format!(
                "{ind}  - Level {} (type: {}): {}\n",
                s(&c["level"]),
                s(&c["type"]),
                size(&c["size"])
            ));
        }
    }
    out.push_str(&format!("{ind}Cores:\n"));
    for core in socket["cores"].as_array().into_iter().flatten() {
        out.push_str(&format!("{ind}  - Core {}\n", s(&core["core"])));
        out.push_str(&format!(
            "{ind}    Frequency: {}Mhz\n",
            core["frequency"].as_u64().unwrap_or_default()
        ));
        out.push_str(&format!("{ind}    Threads:\n"));
        for t in core["threads"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "{ind}      - {} (id: {}, online: {}, NUMA node: {})\n",
                s(&t["thread"]),
                s(&t["id"]),
                s(&t["online"]),
                s(&t["numa_node"])
            ));
        }
    }
    let _ = arch;
}

/// Renders the resources tree.
pub fn render(res: &Value) -> String {
    let mut out = String::new();
    let cpu = &res["cpu"];
    let arch = s(&cpu["architecture"]);
    let sockets = cpu["sockets"].as_array().cloned().unwrap_or_default();
    if sockets.len() == 1 {
        out.push_str(&format!("CPU ({arch}):\n"));
        cpu_section(&mut out, &sockets[0], &arch, false);
    } else {
        out.push_str(&format!("CPUs ({arch}):\n"));
        for sock in &sockets {
            cpu_section(&mut out, sock, &arch, true);
        }
    }
    let mem = &res["memory"];
    out.push_str("\nMemory:\n");
    let used = mem["used"].as_u64().unwrap_or_default();
    let total = mem["total"].as_u64().unwrap_or_default();
    out.push_str(&format!(
        "  Free: {}\n",
        size(&Value::from(total.saturating_sub(used)))
    ));
    out.push_str(&format!("  Used: {}\n", size(&mem["used"])));
    out.push_str(&format!("  Total: {}\n", size(&mem["total"])));
    out
}
