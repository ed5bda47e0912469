//! System tier (root): containers whose init ends without the daemon asking. A reboot from
//! inside starts the container again; a poweroff from inside records it stopped (and deletes
//! an ephemeral one); a restart asked through the API is not mistaken for either; ends that
//! happen while no daemon runs are found by the next daemon.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn state(d: &support::BusyboxDaemon, name: &str) -> Value {
    d.api
        .call("GET", &format!("/1.0/instances/{name}/state"), None)
        .unwrap()
}

/// Poll until `cond` holds for the instance's state, or panic after 20 s.
fn wait_for(d: &support::BusyboxDaemon, name: &str, what: &str, cond: impl Fn(&Value) -> bool) {
    let start = Instant::now();
    loop {
        let s = state(d, name);
        if cond(&s) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{name}: {what}: {s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn power(d: &support::BusyboxDaemon, name: &str) -> String {
    let inst = d
        .api
        .call("GET", &format!("/1.0/instances/{name}"), None)
        .unwrap();
    inst["config"]["volatile.last_state.power"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Run `argv` in the container without the daemon (its namespaces entered with nsenter).
fn nsenter(pid: i64, argv: &[&str]) {
    let ok = std::process::Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-a"])
        .args(argv)
        .status()
        .unwrap();
    assert!(ok.success(), "nsenter {argv:?}");
}

#[test]
fn container_ending_by_itself_is_restarted_or_recorded_stopped() {
    let mut d = support::BusyboxDaemon::start();
    let name = "own-c1";
    d.launch(name);
    let first = state(&d, name)["pid"].as_i64().unwrap();

    // reboot from inside: a new init runs.
    let exec = json!({"command": ["reboot", "-f"], "wait-for-websocket": false});
    d.api
        .call("POST", &format!("/1.0/instances/{name}/exec"), Some(exec))
        .unwrap();
    wait_for(&d, name, "running again after reboot", |s| {
        s["status"] == "Running" && s["pid"].as_i64().is_some_and(|p| p != first)
    });
    assert_eq!(power(&d, name), "RUNNING");

    // A restart through the API stays running (the monitor does not report it).
    d.api.op(
        "PUT",
        &format!("/1.0/instances/{name}/state"),
        Some(json!({"action": "restart", "force": true})),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(state(&d, name)["status"], "Running");

    // poweroff from inside: stopped, and recorded so.
    let exec = json!({"command": ["poweroff", "-f"], "wait-for-websocket": false});
    d.api
        .call("POST", &format!("/1.0/instances/{name}/exec"), Some(exec))
        .unwrap();
    wait_for(&d, name, "stopped after poweroff", |s| {
        s["status"] == "Stopped"
    });
    let start = Instant::now();
    while power(&d, name) != "STOPPED" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "power not recorded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // An ephemeral container that powers off is deleted.
    let create = json!({"name": "own-e1", "ephemeral": true, "source": {"type": "image", "fingerprint": d.fingerprint}});
    d.api.op("POST", "/1.0/instances", Some(create));
    d.api.op(
        "PUT",
        "/1.0/instances/own-e1/state",
        Some(json!({"action": "start", "timeout": -1})),
    );
    let exec = json!({"command": ["poweroff", "-f"], "wait-for-websocket": false});
    d.api
        .call("POST", "/1.0/instances/own-e1/exec", Some(exec))
        .unwrap();
    let start = Instant::now();
    while d.api.call("GET", "/1.0/instances/own-e1", None).is_ok() {
        assert!(start.elapsed() < Duration::from_secs(20), "ephemeral kept");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Ends while no daemon runs: a rebooted container runs again, a powered-off one is
    // recorded stopped and not autostarted.
    d.launch("own-c2");
    d.api.op(
        "PUT",
        &format!("/1.0/instances/{name}/state"),
        Some(json!({"action": "start", "timeout": -1})),
    );
    let pid1 = state(&d, name)["pid"].as_i64().unwrap();
    let pid2 = state(&d, "own-c2")["pid"].as_i64().unwrap();
    d.kill_daemon();
    nsenter(pid1, &["/bin/busybox", "poweroff", "-f"]);
    nsenter(pid2, &["/bin/busybox", "reboot", "-f"]);
    std::thread::sleep(Duration::from_millis(500));
    d.restart_daemon();
    assert_eq!(state(&d, name)["status"], "Stopped");
    assert_eq!(power(&d, name), "STOPPED");
    assert_eq!(state(&d, "own-c2")["status"], "Running");
    d.remove("own-c2");
    d.api.op("DELETE", &format!("/1.0/instances/{name}"), None);
}
