//! Exact writes per key on a hybrid (v1) and a pure v2 host, refusals, live updates.

use std::path::Path;

use super::*;
use crate::cgroup::fake::FakeCgroupFs;
use crate::cgroup::fixtures::{fake_hybrid_host, fake_unified_host};

fn hybrid() -> (CgroupHost, HostFacts) {
    let (fs, paths) = fake_hybrid_host(Path::new("/h"));
    let host = CgroupHost::discover(&fs, &paths).unwrap();
    let facts = HostFacts::read(&fs, &host, &paths).unwrap();
    (host, facts)
}

fn unified() -> (CgroupHost, HostFacts) {
    let (fs, paths) = fake_unified_host(Path::new("/u"));
    let host = CgroupHost::discover(&fs, &paths).unwrap();
    let facts = HostFacts::read(&fs, &host, &paths).unwrap();
    (host, facts)
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The writes as (file, value) for compact comparison.
fn plan(host: &CgroupHost, facts: &HostFacts, pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    plan_limits(&config(pairs), host, facts)
        .unwrap()
        .into_iter()
        .map(|w| (w.file, w.value))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect()
}

#[test]
fn plan_limits_v1_memory_mib_hard_with_swap() {
    let (host, facts) = hybrid();
    assert_eq!(
        plan(&host, &facts, &[("limits.memory", "128MiB")]),
        pairs(&[
            ("memory.limit_in_bytes", "134217728"),
            ("memory.memsw.limit_in_bytes", "268435456"),
            ("memory.soft_limit_in_bytes", "120795955"),
        ])
    );
}

#[test]
fn plan_limits_v1_memory_units_decimal_and_percent() {
    let (host, facts) = hybrid();
    let mb = plan(&host, &facts, &[("limits.memory", "256MB")]);
    assert_eq!(mb[0], ("memory.limit_in_bytes".into(), "256000000".into()));
    // MemTotal 8000000 kB = 8192000000 bytes; LXD: (total / 100) * 50.
    let pct = plan(&host, &facts, &[("limits.memory", "50%")]);
    assert_eq!(
        pct[0],
        ("memory.limit_in_bytes".into(), "4096000000".into())
    );
}

#[test]
fn plan_limits_v1_memory_soft_enforce_only_soft_limit() {
    let (host, facts) = hybrid();
    assert_eq!(
        plan(
            &host,
            &facts,
            &[("limits.memory", "1GiB"), ("limits.memory.enforce", "soft")]
        ),
        pairs(&[("memory.soft_limit_in_bytes", "1073741824")])
    );
}

#[test]
fn plan_limits_v1_swap_false_memsw_equals_limit_swappiness_zero() {
    let (host, facts) = hybrid();
    assert_eq!(
        plan(
            &host,
            &facts,
            &[("limits.memory", "1MiB"), ("limits.memory.swap", "false")]
        ),
        pairs(&[
            ("memory.limit_in_bytes", "1048576"),
            ("memory.memsw.limit_in_bytes", "1048576"),
            ("memory.soft_limit_in_bytes", "943718"),
            ("memory.swappiness", "0"),
        ])
    );
    assert_eq!(
        plan(&host, &facts, &[("limits.memory.swap.priority", "5")]),
        pairs(&[("memory.swappiness", "65")])
    );
}

#[test]
fn plan_limits_v2_memory_max_swap_and_high() {
    let (host, facts) = unified();
    assert_eq!(
        plan(&host, &facts, &[("limits.memory", "128MiB")]),
        pairs(&[
            ("memory.max", "134217728"),
            ("memory.swap.max", "134217728")
        ])
    );
    assert_eq!(
        plan(
            &host,
            &facts,
            &[("limits.memory", "128MiB"), ("limits.memory.swap", "no")]
        ),
        pairs(&[("memory.max", "134217728"), ("memory.swap.max", "0")])
    );
    assert_eq!(
        plan(
            &host,
            &facts,
            &[("limits.memory", "2GB"), ("limits.memory.enforce", "soft")]
        ),
        pairs(&[("memory.high", "2000000000")])
    );
    // No swappiness file on v2.
    assert!(plan(&host, &facts, &[("limits.memory.swap", "false")]).is_empty());
}

#[test]
fn plan_limits_cpu_allowance_shares_and_quota() {
    let (v1, f1) = hybrid();
    assert_eq!(
        plan(
            &v1,
            &f1,
            &[
                ("limits.cpu.allowance", "50%"),
                ("limits.cpu.priority", "5")
            ]
        ),
        pairs(&[("cpu.shares", "507")])
    );
    assert_eq!(
        plan(&v1, &f1, &[("limits.cpu.allowance", "25ms/100ms")]),
        pairs(&[
            ("cpu.cfs_quota_us", "25000"),
            ("cpu.cfs_period_us", "100000")
        ])
    );
    assert!(plan(&v1, &f1, &[("limits.cpu.priority", "10")]).is_empty());
    let (v2, f2) = unified();
    assert_eq!(
        plan(&v2, &f2, &[("limits.cpu.allowance", "25ms/100ms")]),
        pairs(&[("cpu.weight", "100"), ("cpu.max", "25000 100000")])
    );
    assert_eq!(
        plan(&v2, &f2, &[("limits.cpu.priority", "0")]),
        pairs(&[("cpu.weight", "90")])
    );
}

#[test]
fn plan_limits_cpu_count_and_set_pin_cpuset() {
    let (v1, f1) = hybrid();
    let writes = plan_limits(&config(&[("limits.cpu", "2")]), &v1, &f1).unwrap();
    assert_eq!(
        writes,
        [CgroupWrite::new(Controller::Cpuset, "cpuset.cpus", "0,1")]
    );
    assert_eq!(
        plan(&v1, &f1, &[("limits.cpu", "1,3-5")]),
        pairs(&[("cpuset.cpus", "1,3")])
    );
    let (v2, f2) = unified();
    assert_eq!(
        plan(&v2, &f2, &[("limits.cpu", "0-2")]),
        pairs(&[("cpuset.cpus", "0,1,2")])
    );
}

#[test]
fn plan_limits_processes_pids_max() {
    let (v1, f1) = hybrid();
    let writes = plan_limits(&config(&[("limits.processes", "100")]), &v1, &f1).unwrap();
    assert_eq!(
        writes,
        [CgroupWrite::new(Controller::Pids, "pids.max", "100")]
    );
    let (v2, f2) = unified();
    assert_eq!(
        plan(&v2, &f2, &[("limits.processes", "5")]),
        pairs(&[("pids.max", "5")])
    );
}

#[test]
fn plan_limits_disk_priority_weight_or_missing_error() {
    let (v1, f1) = hybrid();
    let err = plan_limits(&config(&[("limits.disk.priority", "3")]), &v1, &f1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot apply limits.disk.priority as blkio.weight cgroup controller is missing"
    );
    let (v2, f2) = unified();
    assert_eq!(
        plan(&v2, &f2, &[("limits.disk.priority", "3")]),
        pairs(&[("io.weight", "300")])
    );
    assert_eq!(
        plan(&v2, &f2, &[("limits.disk.priority", "0")]),
        pairs(&[("io.weight", "10")])
    );
}

#[test]
fn plan_limits_network_priority_every_interface() {
    let fs = FakeCgroupFs::new();
    let mountinfo =
        "36 31 0:33 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n\
                     37 31 0:34 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio\n";
    fs.add_file("/sys/fs/cgroup/blkio/blkio.weight", "500");
    let host = CgroupHost::from_proc(
        &fs,
        Path::new("/"),
        mountinfo,
        "3:net_cls,net_prio:/\n4:blkio:/\n",
    );
    let facts = HostFacts {
        interfaces: vec!["eth0".into(), "lo".into()],
        ..HostFacts::default()
    };
    assert_eq!(
        plan(
            &host,
            &facts,
            &[
                ("limits.network.priority", "7"),
                ("limits.disk.priority", "10")
            ]
        ),
        pairs(&[
            ("blkio.weight", "1000"),
            ("net_prio.ifpriomap", "eth0 7"),
            ("net_prio.ifpriomap", "lo 7"),
        ])
    );
    // The hybrid fixture has no net_prio: LXD silently skips.
    let (v1, f1) = hybrid();
    assert!(plan(&v1, &f1, &[("limits.network.priority", "7")]).is_empty());
}

#[test]
fn plan_limits_bad_values_refused_with_lxd_text_and_no_writes() {
    let (host, facts) = hybrid();
    let cases = [
        ("limits.memory", "abc", "Invalid config: Invalid value: abc"),
        (
            "limits.memory",
            "0",
            "Invalid config: Memory limit can't be 0",
        ),
        (
            "limits.memory",
            "0%",
            "Invalid config: Memory limit can't be 0%",
        ),
        (
            "limits.cpu",
            "1-3,3",
            "Invalid config: Cannot define CPU multiple times",
        ),
        (
            "limits.cpu",
            "x",
            "Invalid config: Invalid CPU limit syntax",
        ),
        (
            "limits.processes",
            "-1",
            "Invalid config: Invalid value for an integer \"-1\"",
        ),
        (
            "limits.processes",
            "many",
            "Invalid config: Invalid value for an integer \"many\"",
        ),
        (
            "limits.memory.swap",
            "maybe",
            "Invalid config: Invalid value for a boolean \"maybe\"",
        ),
    ];
    for (key, value, text) in cases {
        // A valid key next to the bad one must not be written either.
        let cfg = config(&[("limits.processes", "10"), (key, value)]);
        let cfg = if key == "limits.processes" {
            config(&[(key, value)])
        } else {
            cfg
        };
        let err = plan_limits(&cfg, &host, &facts).unwrap_err();
        assert_eq!(err.to_string(), text, "{key}={value}");
        assert!(matches!(err, CgroupError::Limit(LimitError { ref key, .. }) if !key.is_empty()));
    }
    for (key, value) in [
        ("limits.cpu.priority", "11"),
        ("limits.cpu.allowance", "fast"),
        ("limits.memory.enforce", "medium"),
        ("limits.disk.priority", "-1"),
    ] {
        let err = plan_limits(&config(&[(key, value)]), &host, &facts).unwrap_err();
        assert!(err.to_string().starts_with("Invalid config: "), "{err}");
    }
}

#[test]
fn plan_limits_unrelated_keys_ignored() {
    let (host, facts) = hybrid();
    assert!(plan(
        &host,
        &facts,
        &[("security.nesting", "true"), ("user.x", "y")]
    )
    .is_empty());
}

fn update(
    host: &CgroupHost,
    facts: &HostFacts,
    old: &[(&str, &str)],
    new: &[(&str, &str)],
) -> Vec<(String, String)> {
    plan_limits_update(&config(old), &config(new), host, facts)
        .unwrap()
        .into_iter()
        .map(|w| (w.file, w.value))
        .collect()
}

#[test]
fn plan_limits_update_unchanged_nothing_written() {
    let (host, facts) = hybrid();
    let same = [("limits.memory", "128MiB"), ("limits.processes", "10")];
    assert!(update(&host, &facts, &same, &same).is_empty());
}

#[test]
fn plan_limits_update_v1_memory_reset_then_new_values() {
    let (host, facts) = hybrid();
    assert_eq!(
        update(
            &host,
            &facts,
            &[("limits.memory", "128MiB"), ("limits.processes", "10")],
            &[("limits.memory", "256MiB"), ("limits.processes", "10")],
        ),
        pairs(&[
            ("memory.memsw.limit_in_bytes", "-1"),
            ("memory.limit_in_bytes", "-1"),
            ("memory.soft_limit_in_bytes", "-1"),
            ("memory.limit_in_bytes", "268435456"),
            ("memory.memsw.limit_in_bytes", "536870912"),
            ("memory.soft_limit_in_bytes", "241591910"),
        ])
    );
}

#[test]
fn plan_limits_update_removed_keys_back_to_defaults() {
    let (host, facts) = hybrid();
    assert_eq!(
        update(
            &host,
            &facts,
            &[
                ("limits.processes", "10"),
                ("limits.cpu.allowance", "25ms/100ms"),
                ("limits.cpu", "1")
            ],
            &[],
        ),
        pairs(&[
            ("cpu.shares", "1024"),
            ("cpu.cfs_quota_us", "-1"),
            ("cpu.cfs_period_us", "100000"),
            ("pids.max", "max"),
            ("cpuset.cpus", "0,1,2,3"),
        ])
    );
    let (v2, f2) = unified();
    assert_eq!(
        update(
            &v2,
            &f2,
            &[("limits.memory", "1GiB"), ("limits.cpu.allowance", "10%")],
            &[]
        ),
        pairs(&[
            ("memory.swap.max", "max"),
            ("memory.max", "max"),
            ("memory.high", "max"),
            ("cpu.weight", "100"),
            ("cpu.max", "max"),
        ])
    );
}

#[test]
fn plan_limits_update_swap_keys_rewrite_swappiness() {
    let (host, facts) = hybrid();
    let out = update(&host, &facts, &[("limits.memory.swap", "false")], &[]);
    assert_eq!(
        out.last().unwrap(),
        &("memory.swappiness".into(), "60".into())
    );
}

#[test]
fn plan_limits_update_bad_new_value_refused() {
    let (host, facts) = hybrid();
    let err = plan_limits_update(
        &config(&[]),
        &config(&[("limits.memory", "lots")]),
        &host,
        &facts,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "Invalid config: Invalid value: lots");
}
