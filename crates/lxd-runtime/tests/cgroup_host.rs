//! Privileged tier: cgroups on the real host. Each test creates its own cgroup below the test
//! process's cgroups, puts a `sleep` child in it, and removes everything in a Drop guard.
//! Skipped (with a printed reason) when not root or when the host has no memory controller.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lxd_runtime::cgroup::{
    apply_limits, freeze, freezer_state, read_usage, thaw, update_limits, Backend, CgroupBase,
    CgroupError, CgroupFs, CgroupHost, CgroupPaths, Controller, FreezerState, HostFacts,
    RealCgroupFs,
};
use lxd_sys::paths::HostPaths;

fn host_or_skip() -> Option<CgroupHost> {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: needs root");
        return None;
    }
    let host = CgroupHost::discover(&RealCgroupFs, &HostPaths::real()).ok()?;
    if host.hierarchy(Controller::Memory).is_none() || host.hierarchy(Controller::Pids).is_none() {
        eprintln!("skipped: no memory or pids controller on this host");
        return None;
    }
    Some(host)
}

fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("lxd-test-{tag}-{}-{nanos}", std::process::id())
}

/// Kills the child and removes the cgroup, whatever happened in the test.
struct Guard {
    cg: CgroupPaths,
    child: Option<Child>,
}

impl Guard {
    fn kill_child(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // A frozen child cannot die; thawing a cgroup that is not frozen is harmless.
        if let Some(dir) = self.cg.dir(Controller::Freezer) {
            let _ = RealCgroupFs.write(&dir.join("freezer.state"), "THAWED");
        }
        if let Some(dir) = self.cg.unified_dir() {
            let _ = RealCgroupFs.write(&dir.join("cgroup.freeze"), "0");
        }
        self.kill_child();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.cg.remove(&RealCgroupFs).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn read_trimmed(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_string()
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn cgroup_host_limits_attach_freeze_remove_leaves_nothing() {
    let Some(host) = host_or_skip() else { return };
    let fs = RealCgroupFs;
    let facts = HostFacts::read(&fs, &host, &HostPaths::real()).unwrap();
    let cg = CgroupPaths::new(&host, CgroupBase::Own, &unique("limits")).unwrap();
    let dirs: Vec<PathBuf> = cg.dirs().map(Path::to_path_buf).collect();
    let mut guard = Guard {
        cg: cg.clone(),
        child: None,
    };
    cg.create(&fs).unwrap();
    assert!(dirs.iter().all(|d| d.is_dir()));

    let limits = config(&[("limits.memory", "128MiB"), ("limits.processes", "20")]);
    apply_limits(&fs, &host, &facts, &cg, &limits).unwrap();
    let mem = cg.dir(Controller::Memory).unwrap();
    match host.backend(Controller::Memory) {
        Some(Backend::V1) => assert_eq!(
            read_trimmed(&mem.join("memory.limit_in_bytes")),
            "134217728"
        ),
        _ => assert_eq!(read_trimmed(&mem.join("memory.max")), "134217728"),
    }
    let pids_max = cg.dir(Controller::Pids).unwrap().join("pids.max");
    assert_eq!(read_trimmed(&pids_max), "20");

    // A live update rewrites only what changed; a bad value changes nothing.
    let updated = config(&[("limits.memory", "128MiB"), ("limits.processes", "30")]);
    update_limits(&fs, &host, &facts, &cg, &limits, &updated).unwrap();
    assert_eq!(read_trimmed(&pids_max), "30");
    let bad = config(&[("limits.memory", "0"), ("limits.processes", "40")]);
    let err = update_limits(&fs, &host, &facts, &cg, &updated, &bad).unwrap_err();
    assert_eq!(err.to_string(), "Invalid config: Memory limit can't be 0");
    assert_eq!(read_trimmed(&pids_max), "30");

    let child = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = child.id();
    guard.child = Some(child);
    cg.attach(&fs, pid).unwrap();
    assert_eq!(cg.procs(&fs).unwrap(), [pid]);
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let leaf = dirs[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(own.contains(&leaf), "{own}");

    let usage = read_usage(&fs, &host, &cg);
    assert_eq!(usage.processes, Some(1));
    assert!(usage.memory.is_some());
    assert!(usage.cpu_ns.is_some());

    // Busy while the child lives.
    assert!(matches!(cg.remove(&fs), Err(CgroupError::Busy(_))));

    if host.hierarchy(Controller::Freezer).is_some() {
        freeze(&fs, &host, &cg, Duration::from_secs(5)).unwrap();
        assert_eq!(
            freezer_state(&fs, &host, &cg).unwrap(),
            FreezerState::Frozen
        );
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let state = status
            .lines()
            .find(|l| l.starts_with("State:"))
            .unwrap_or("");
        eprintln!("frozen child: {state}");
        if host.backend(Controller::Freezer) == Some(Backend::V1) {
            // v1 freezer tasks sit in the refrigerator, shown as uninterruptible sleep.
            assert!(state.contains("D"), "{state}");
        }
        thaw(&fs, &host, &cg).unwrap();
        assert_eq!(
            freezer_state(&fs, &host, &cg).unwrap(),
            FreezerState::Thawed
        );
    }

    guard.kill_child();
    assert!(cg.procs(&fs).unwrap().is_empty());
    cg.remove(&fs).unwrap();
    for dir in &dirs {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

#[test]
fn cgroup_host_hundred_failed_starts_leave_no_cgroup() {
    let Some(host) = host_or_skip() else { return };
    let fs = RealCgroupFs;
    let facts = HostFacts::read(&fs, &host, &HostPaths::real()).unwrap();
    let bad = config(&[("limits.processes", "10"), ("limits.memory", "lots")]);
    let mut all_dirs = Vec::new();
    for i in 0..100 {
        let cg = CgroupPaths::new(&host, CgroupBase::Own, &unique(&format!("fail{i}"))).unwrap();
        let guard = Guard {
            cg: cg.clone(),
            child: None,
        };
        cg.create(&fs).unwrap();
        let err = apply_limits(&fs, &host, &facts, &cg, &bad).unwrap_err();
        assert_eq!(err.to_string(), "Invalid config: Invalid value: lots");
        cg.remove(&fs).unwrap();
        all_dirs.extend(cg.dirs().map(Path::to_path_buf));
        drop(guard);
    }
    assert_eq!(all_dirs.iter().filter(|d| d.exists()).count(), 0);
}

#[test]
fn cgroup_host_discovery_reports_mode_and_warnings() {
    let Some(host) = host_or_skip() else { return };
    eprintln!("mode {}; missing {:?}", host.mode.as_str(), host.missing());
    for w in host.warnings() {
        eprintln!("warning: {} ({})", w.kind, w.message);
    }
    let v2_mount = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    assert_eq!(v2_mount, host.mode.as_str() == "cgroup2");
    for h in &host.hierarchies {
        assert!(h.own_dir().is_dir(), "{}", h.own_dir().display());
    }
}
