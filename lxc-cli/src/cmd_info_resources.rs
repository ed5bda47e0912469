//! `lxc info --resources`: the host resources text (CPU, memory, NIC and disk sections) as
//! lxc 5.0.2 renders `GET /1.0/resources`. GPU, USB and PCI sections and hugepages/NUMA
//! memory nodes are not rendered yet.

use serde_json::Value;

fn size(n: &Value) -> String {
    crate::cmd_storage_info::byte_size_iec(n.as_u64().unwrap_or_default(), 2)
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
                crate::cmd_storage_info::byte_size_iec(c["size"].as_u64().unwrap_or_default(), 0)
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
    section(
        &mut out,
        &res["network"]["cards"],
        ("NIC", "NICs", "Card"),
        nic,
    );
    section(
        &mut out,
        &res["storage"]["disks"],
        ("Disk", "Disks", "Disk"),
        disk,
    );
    out
}

/// One device list: `Title:` for one device, `Titles:` with numbered entries for several.
fn section(
    out: &mut String,
    list: &Value,
    (one, many, item): (&str, &str, &str),
    render: fn(&mut String, &Value, &str),
) {
    let list = list.as_array().cloned().unwrap_or_default();
    match list.len() {
        0 => {}
        1 => {
            out.push_str(&format!("\n{one}:\n"));
            render(out, &list[0], "  ");
        }
        _ => {
            out.push_str(&format!("\n{many}:\n"));
            for (i, d) in list.iter().enumerate() {
                out.push_str(&format!("  {item} {i}:\n"));
                render(out, d, "    ");
            }
        }
    }
}

fn nic(out: &mut String, n: &Value, p: &str) {
    out.push_str(&format!("{p}NUMA node: {}\n", s(&n["numa_node"])));
    let pair = |out: &mut String, label: &str, a: &str, b: &str| {
        if !s(&n[a]).is_empty() {
            out.push_str(&format!("{p}{label}: {} ({})\n", s(&n[a]), s(&n[b])));
        }
    };
    pair(out, "Vendor", "vendor", "vendor_id");
    pair(out, "Product", "product", "product_id");
    if !s(&n["pci_address"]).is_empty() {
        out.push_str(&format!("{p}PCI address: {}\n", s(&n["pci_address"])));
    }
    pair(out, "Driver", "driver", "driver_version");
    let ports = n["ports"].as_array().cloned().unwrap_or_default();
    if !ports.is_empty() {
        out.push_str(&format!("{p}Ports:\n"));
    }
    for port in &ports {
        let q = format!("{p}    ");
        out.push_str(&format!(
            "{p}  - Port {} ({})\n",
            s(&port["port"]),
            s(&port["protocol"])
        ));
        out.push_str(&format!("{q}ID: {}\n", s(&port["id"])));
        if !s(&port["address"]).is_empty() {
            out.push_str(&format!("{q}Address: {}\n", s(&port["address"])));
        }
        for (key, label) in [
            ("supported_modes", "Supported modes"),
            ("supported_ports", "Supported ports"),
        ] {
            if let Some(list) = port[key].as_array() {
                let items: Vec<String> = list.iter().map(s).collect();
                out.push_str(&format!("{q}{label}: {}\n", items.join(", ")));
            }
        }
        for (key, label) in [
            ("port_type", "Port type"),
            ("transceiver_type", "Transceiver type"),
        ] {
            if !s(&port[key]).is_empty() {
                out.push_str(&format!("{q}{label}: {}\n", s(&port[key])));
            }
        }
        let flag = |k: &str| port[k].as_bool().unwrap_or_default();
        out.push_str(&format!(
            "{q}Auto negotiation: {}\n",
            flag("auto_negotiation")
        ));
        out.push_str(&format!("{q}Link detected: {}\n", flag("link_detected")));
        if port["link_speed"].as_u64().unwrap_or_default() > 0 {
            out.push_str(&format!(
                "{q}Link speed: {}Mbit/s ({} duplex)\n",
                s(&port["link_speed"]),
                s(&port["link_duplex"])
            ));
        }
    }
}

fn disk(out: &mut String, d: &Value, p: &str) {
    out.push_str(&format!("{p}NUMA node: {}\n", s(&d["numa_node"])));
    out.push_str(&format!(
        "{p}ID: {}\n{p}Device: {}\n",
        s(&d["id"]),
        s(&d["device"])
    ));
    for (key, label) in [("model", "Model"), ("type", "Type")] {
        if !s(&d[key]).is_empty() {
            out.push_str(&format!("{p}{label}: {}\n", s(&d[key])));
        }
    }
    out.push_str(&format!("{p}Size: {}\n", size(&d["size"])));
    if !s(&d["wwn"]).is_empty() {
        out.push_str(&format!("{p}WWN: {}\n", s(&d["wwn"])));
    }
    let flag = |v: &Value, k: &str| v[k].as_bool().unwrap_or_default();
    out.push_str(&format!("{p}Read-Only: {}\n", flag(d, "read_only")));
    out.push_str(&format!("{p}Removable: {}\n", flag(d, "removable")));
    let parts = d["partitions"].as_array().cloned().unwrap_or_default();
    if !parts.is_empty() {
        out.push_str(&format!("{p}Partitions:\n"));
    }
    for part in &parts {
        let q = format!("{p}    ");
        out.push_str(&format!("{p}  - Partition {}\n", s(&part["partition"])));
        out.push_str(&format!(
            "{q}ID: {}\n{q}Device: {}\n",
            s(&part["id"]),
            s(&part["device"])
        ));
        out.push_str(&format!("{q}Read-Only: {}\n", flag(part, "read_only")));
        out.push_str(&format!("{q}Size: {}\n", size(&part["size"])));
    }
}
