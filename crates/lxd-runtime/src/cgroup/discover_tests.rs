//! Discovery against the hybrid and pure v2 fixtures.

use std::path::Path;

use super::*;
use crate::cgroup::fixtures::{fake_hybrid_host, fake_unified_host};

#[test]
fn discover_hybrid_host_controllers_on_v1() {
    let (fs, paths) = fake_hybrid_host(Path::new("/h"));
    let host = CgroupHost::discover(&fs, &paths).unwrap();
    assert_eq!(host.mode, CgroupMode::Hybrid);
    assert_eq!(host.mode.as_str(), "hybrid");
    let mem = host.hierarchy(Controller::Memory).unwrap();
    assert_eq!(mem.backend, Backend::V1);
    assert_eq!(mem.mount, Path::new("/h/sys/fs/cgroup/memory"));
    assert_eq!(
        mem.own_dir(),
        Path::new("/h/sys/fs/cgroup/memory/process_api/abc")
    );
    assert_eq!(host.backend(Controller::Hugetlb), Some(Backend::V2));
    assert_eq!(host.backend(Controller::Freezer), Some(Backend::V1));
    assert_eq!(host.missing(), [Controller::NetPrio]);
    assert!(host.features.memory_swap && host.features.memory_swappiness);
    assert_eq!(host.features.blkio_weight_file, None);
    // systemd's named hierarchy is kept so containers are created there too.
    assert_eq!(host.hierarchies.len(), 10);
}

#[test]
fn discover_hybrid_host_warnings_like_lxd() {
    let (fs, paths) = fake_hybrid_host(Path::new("/h"));
    let host = CgroupHost::discover(&fs, &paths).unwrap();
    let kinds: Vec<&str> = host.warnings().iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds,
        [
            "Couldn't find the CGroup blkio.weight",
            "Couldn't find the CGroup network priority controller"
        ]
    );
    assert_eq!(
        host.warnings()[1].message,
        "network priority will be ignored"
    );
}

#[test]
fn discover_unified_host_builtin_freezer_and_devices() {
    let (fs, paths) = fake_unified_host(Path::new("/u"));
    let host = CgroupHost::discover(&fs, &paths).unwrap();
    assert_eq!(host.mode, CgroupMode::Unified);
    assert_eq!(host.hierarchies.len(), 1);
    let h = &host.hierarchies[0];
    assert_eq!(
        h.own_dir(),
        Path::new("/u/sys/fs/cgroup/system.slice/lxd.service")
    );
    for c in [
        Controller::Memory,
        Controller::Freezer,
        Controller::Devices,
        Controller::Cpuacct,
    ] {
        assert_eq!(host.backend(c), Some(Backend::V2), "{c:?}");
    }
    assert_eq!(host.features.blkio_weight_file, Some("io.weight"));
    assert!(host.features.memory_swap);
    assert!(!host.features.memory_swappiness);
    assert_eq!(host.missing(), [Controller::NetPrio]);
}

#[test]
fn discover_legacy_host_mode_legacy() {
    let fs = fake::FakeCgroupFs::new();
    let mountinfo = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
                     35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    let host = CgroupHost::from_proc(
        &fs,
        Path::new("/"),
        mountinfo,
        "2:cpu,cpuacct:/a\n1:memory:/a\n",
    );
    assert_eq!(host.mode, CgroupMode::Legacy);
    let cpu = host.hierarchy(Controller::Cpuacct).unwrap();
    assert_eq!(cpu.own_dir(), Path::new("/sys/fs/cgroup/cpu,cpuacct/a"));
    assert_eq!(
        host.hierarchy_index(Controller::Cpu),
        host.hierarchy_index(Controller::Cpuacct)
    );
    assert!(host
        .warnings()
        .iter()
        .any(|w| w.kind == "Couldn't find the CGroup memory swap accounting"));
}

#[test]
fn discover_no_cgroups_mode_disabled() {
    let fs = fake::FakeCgroupFs::new();
    let host = CgroupHost::from_proc(&fs, Path::new("/"), "", "");
    assert_eq!(host.mode, CgroupMode::Disabled);
    assert_eq!(host.missing().len(), Controller::ALL.len());
    assert!(host
        .warnings()
        .iter()
        .any(|w| w.kind == "Couldn't find the CGroup memory controller"));
}

#[test]
fn discover_namespaced_mount_root_stripped() {
    let fs = fake::FakeCgroupFs::new();
    let mountinfo =
        "35 31 0:32 /lxc.payload.c1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                     36 31 0:33 /with\\040space /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
    let host = CgroupHost::from_proc(
        &fs,
        Path::new("/"),
        mountinfo,
        "1:memory:/lxc.payload.c1/init\n2:pids:/with space/x\n",
    );
    assert_eq!(
        host.hierarchy(Controller::Memory).unwrap().own_dir(),
        Path::new("/sys/fs/cgroup/memory/init")
    );
    assert_eq!(
        host.hierarchy(Controller::Pids).unwrap().own_dir(),
        Path::new("/sys/fs/cgroup/pids/x")
    );
}

#[test]
fn discover_daemon_in_v2_root_swap_seen_in_any_top_cgroup() {
    let fs = crate::cgroup::FakeCgroupFs::new();
    let top = Path::new("/r/sys/fs/cgroup");
    fs.add_file(top.join("cgroup.controllers"), "cpu memory pids\n");
    let mountinfo = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    let host = CgroupHost::from_proc(&fs, Path::new("/r"), mountinfo, "0::/\n");
    assert!(!host.features.memory_swap);
    fs.add_file(top.join("other.slice/memory.swap.max"), "max\n");
    let host = CgroupHost::from_proc(&fs, Path::new("/r"), mountinfo, "0::/\n");
    assert!(host.features.memory_swap);
}
