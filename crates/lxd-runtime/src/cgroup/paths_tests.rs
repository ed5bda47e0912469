//! CgroupPaths against the fake hybrid and pure v2 hosts.

use std::path::Path;

use super::*;
use crate::cgroup::fake::FsOp;
use crate::cgroup::fixtures::{fake_hybrid_host, fake_unified_host};

fn hybrid() -> (crate::cgroup::FakeCgroupFs, CgroupHost) {
    let (fs, paths) = fake_hybrid_host(Path::new("/h"));
    let host = CgroupHost::discover(&fs, &paths).unwrap();
    (fs, host)
}

#[test]
fn cgroup_paths_payload_named_like_lxc_in_every_hierarchy() {
    let (_, host) = hybrid();
    let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
    assert_eq!(cg.dirs().count(), 10);
    assert_eq!(
        cg.dir(Controller::Memory).unwrap(),
        Path::new("/h/sys/fs/cgroup/memory/process_api/abc/lxc.payload.c1")
    );
    assert_eq!(
        cg.unified_dir().unwrap(),
        Path::new("/h/sys/fs/cgroup/unified/lxc.payload.c1")
    );
    let parent = CgroupPaths::monitor(&host, CgroupBase::OwnParent, "c1").unwrap();
    assert_eq!(
        parent.dir(Controller::Memory).unwrap(),
        Path::new("/h/sys/fs/cgroup/memory/process_api/lxc.monitor.c1")
    );
    let root = CgroupPaths::payload(&host, CgroupBase::Root, "p_c1").unwrap();
    assert_eq!(
        root.dir(Controller::Memory).unwrap(),
        Path::new("/h/sys/fs/cgroup/memory/lxc.payload.p_c1")
    );
    // The v2 cgroup by its name in the hierarchy, not by where hybrid mounts it.
    assert_eq!(root.v2_name().unwrap(), Path::new("/lxc.payload.p_c1"));
    assert_eq!(cg.v2_name().unwrap(), Path::new("/lxc.payload.c1"));
}

#[test]
fn cgroup_paths_escaping_name_refused() {
    let (_, host) = hybrid();
    for bad in ["", "..", "a/b", "x\ny"] {
        assert!(matches!(
            CgroupPaths::new(&host, CgroupBase::Own, bad),
            Err(CgroupError::BadName(_))
        ));
    }
    assert!(matches!(
        CgroupPaths::payload(&host, CgroupBase::Own, "../x"),
        Err(CgroupError::BadName(_))
    ));
}

#[test]
fn cgroup_paths_create_v1_cpuset_inherits_parent() {
    let (fs, host) = hybrid();
    let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
    cg.create(&fs).unwrap();
    let cpuset = Path::new("/h/sys/fs/cgroup/cpuset/lxc.payload.c1");
    let writes = fs.writes();
    assert_eq!(
        writes,
        [
            // The v2 parent passes its controllers on (here only hugetlb).
            (
                Path::new("/h/sys/fs/cgroup/unified/cgroup.subtree_control").to_path_buf(),
                "+hugetlb".to_string()
            ),
            (cpuset.join("cpuset.cpus"), "0-3".to_string()),
            (cpuset.join("cpuset.mems"), "0".to_string()),
        ]
    );
    assert!(cg.dirs().all(|d| fs.has_dir(d)));
    // Creating again reuses the directories.
    cg.create(&fs).unwrap();
}

#[test]
fn cgroup_paths_create_failure_removes_what_it_made() {
    let (fs, host) = hybrid();
    let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
    let memory = cg.dir(Controller::Memory).unwrap().to_path_buf();
    fs.fail_at(&memory, nix::errno::Errno::ENOSPC as i32);
    let err = cg.create(&fs).unwrap_err();
    assert!(err.to_string().starts_with("Failed to create"), "{err}");
    assert!(!cg.exists(&fs));
}

#[test]
fn cgroup_paths_attach_procs_remove_round_trip() {
    let (fs, host) = hybrid();
    let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
    cg.create(&fs).unwrap();
    cg.attach(&fs, 4242).unwrap();
    let procs_writes = fs
        .writes()
        .into_iter()
        .filter(|(p, _)| p.ends_with("cgroup.procs"))
        .count();
    assert_eq!(procs_writes, 10);
    assert_eq!(cg.procs(&fs).unwrap(), [4242]);
    let err = cg.remove(&fs).unwrap_err();
    assert!(matches!(err, CgroupError::Busy(_)), "{err}");
    assert!(err.to_string().contains("still has processes"));
    // The caller kills the process; the kernel empties cgroup.procs.
    for dir in cg.dirs() {
        fs.add_file(dir.join("cgroup.procs"), "");
    }
    cg.remove(&fs).unwrap();
    assert!(!cg.exists(&fs));
    cg.remove(&fs).unwrap();
}

#[test]
fn cgroup_paths_remove_nested_children_first() {
    let (fs, paths) = fake_unified_host(Path::new("/u"));
    let host = CgroupHost::discover(&fs, &paths).unwrap();
    let cg = CgroupPaths::payload(&host, CgroupBase::OwnParent, "c1").unwrap();
    cg.create(&fs).unwrap();
    let dir = cg.unified_dir().unwrap().to_path_buf();
    assert_eq!(
        dir,
        Path::new("/u/sys/fs/cgroup/system.slice/lxc.payload.c1")
    );
    fs.add_dir(dir.join("init.scope"));
    fs.add_dir(dir.join("system.slice/a.service"));
    fs.clear_ops();
    cg.remove(&fs).unwrap();
    assert_eq!(
        fs.ops(),
        [
            FsOp::RemoveDir(dir.join("system.slice/a.service")),
            FsOp::RemoveDir(dir.join("system.slice")),
            FsOp::RemoveDir(dir.join("init.scope")),
            FsOp::RemoveDir(dir.clone()),
        ]
    );
}

#[test]
fn cgroup_paths_delegate_chowns_only_the_v2_dir_and_its_delegation_files() {
    let (fs, host) = hybrid();
    let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
    cg.create(&fs).unwrap();
    let v2 = cg.unified_dir().unwrap().to_path_buf();
    fs.add_file(v2.join("cgroup.procs"), "");
    fs.add_file(v2.join("cgroup.subtree_control"), "");
    fs.clear_ops();
    cg.delegate(&fs, 1_000_000, 1_000_000).unwrap();
    let chowns: Vec<FsOp> = fs
        .ops()
        .into_iter()
        .filter(|o| matches!(o, FsOp::Chown(..)))
        .collect();
    assert_eq!(
        chowns,
        vec![
            FsOp::Chown(v2.clone(), 1_000_000, 1_000_000),
            FsOp::Chown(v2.join("cgroup.procs"), 1_000_000, 1_000_000),
            FsOp::Chown(v2.join("cgroup.subtree_control"), 1_000_000, 1_000_000),
        ]
    );
}

#[test]
fn cgroup_paths_delegate_missing_dir_is_an_error() {
    let (fs, host) = hybrid();
    let cg = CgroupPaths::payload(&host, CgroupBase::Own, "never-created").unwrap();
    assert!(cg.delegate(&fs, 1, 1).is_err());
}

#[test]
fn cgroup_paths_root_base_on_systemd_host_sees_and_enables_top_controllers() {
    let (fs, paths) = fake_unified_host(Path::new("/u"));
    let top = Path::new("/u/sys/fs/cgroup");
    // The service's slice passes on memory and pids only; the top has every controller, of
    // which systemd enabled the same two.
    fs.add_file(
        top.join("system.slice/lxd.service/cgroup.controllers"),
        "memory pids\n",
    );
    fs.add_file(
        top.join("cgroup.controllers"),
        "cpuset cpu io memory hugetlb pids\n",
    );
    fs.add_file(top.join("cgroup.subtree_control"), "memory pids\n");
    let own = CgroupHost::discover(&fs, &paths).unwrap();
    assert_eq!(own.backend(Controller::Cpu), None);
    let host = own.with_base(&fs, CgroupBase::Root);
    for c in [
        Controller::Cpu,
        Controller::Cpuset,
        Controller::Blkio,
        Controller::Memory,
    ] {
        assert!(host.backend(c).is_some(), "{c:?}");
    }
    assert!(host.features.memory_swap);
    let cg = CgroupPaths::payload(&host, CgroupBase::Root, "c1").unwrap();
    assert_eq!(cg.unified_dir().unwrap(), top.join("lxc.payload.c1"));
    fs.clear_ops();
    cg.create(&fs).unwrap();
    let control = top.join("cgroup.subtree_control");
    let enabled: Vec<String> = fs
        .writes()
        .into_iter()
        .filter(|(p, _)| *p == control)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(enabled, ["+cpuset", "+cpu", "+io", "+hugetlb"]);
}
