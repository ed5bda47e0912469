//! Print what lxd-sys reads on this host, as JSON, to compare with a real LXD:
//! `cargo run -p lxd-sys --example host-facts -- resources|host|pool PATH`.

use std::path::Path;

use lxd_sys::{HostPaths, RealCommandRunner};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let paths = HostPaths::real();
    let json = match args.get(1).map(String::as_str) {
        Some("host") => {
            let info = lxd_sys::host_info(&paths).expect("host facts");
            let features =
                lxd_sys::probe_kernel_features(&paths, &info.kernel_version, &std::env::temp_dir());
            let firewall = lxd_sys::detect_firewall(&RealCommandRunner, &info.kernel_version);
            serde_json::json!({
                "architectures": info.architectures,
                "firewall": firewall.as_str(),
                "kernel": info.kernel,
                "kernel_architecture": info.kernel_architecture,
                "kernel_features": features.to_map(),
                "kernel_version": info.kernel_version,
                "os_name": info.os_name,
                "os_version": info.os_version,
                "server_name": info.hostname,
            })
        }
        Some("pool") => {
            let path = args.get(2).map(String::as_str).unwrap_or("/");
            serde_json::to_value(lxd_sys::pool_resources(Path::new(path)).expect("pool usage"))
                .expect("serialisable")
        }
        _ => {
            let started = std::time::Instant::now();
            let resources = lxd_sys::collect(&paths).expect("resources");
            eprintln!("collected in {:?}", started.elapsed());
            serde_json::to_value(resources).expect("serialisable")
        }
    };
    println!("{json}");
}
