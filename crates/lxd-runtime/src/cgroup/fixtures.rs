//! Fake host trees for tests: a hybrid host like the build machines (v1 controllers, a v2
//! mount with only hugetlb, our memory cgroup nested) and a pure v2 Debian host.

use std::path::Path;

use lxd_sys::paths::HostPaths;

use super::fake::FakeCgroupFs;

const HYBRID_MOUNTINFO: &str = "\
25 1 0:23 / / rw,relatime - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

const HYBRID_SELF_CGROUP: &str = "\
9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/abc
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
";

const UNIFIED_MOUNTINFO: &str = "\
25 1 0:23 / / rw,relatime - ext4 /dev/sda1 rw
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

fn common(fs: &FakeCgroupFs, root: &Path) {
    fs.add_file(
        root.join("proc/meminfo"),
        "MemTotal:        8000000 kB\nMemFree:         100 kB\n",
    );
    fs.add_dir(root.join("sys/class/net/eth0"));
    fs.add_dir(root.join("sys/class/net/lo"));
}

/// A hybrid host below `root`.
pub fn fake_hybrid_host(root: &Path) -> (FakeCgroupFs, HostPaths) {
    let fs = FakeCgroupFs::new();
    let paths = HostPaths::under(root);
    fs.add_file(paths.proc_path("self/mountinfo"), HYBRID_MOUNTINFO);
    fs.add_file(paths.proc_path("self/cgroup"), HYBRID_SELF_CGROUP);
    let cg = root.join("sys/fs/cgroup");
    for name in ["cpu", "cpuacct", "devices", "freezer", "pids", "systemd"] {
        fs.add_file(cg.join(name).join("cgroup.procs"), "1\n");
    }
    fs.add_file(cg.join("cpu/cpu.shares"), "1024");
    fs.add_file(cg.join("cpuset/cgroup.procs"), "1\n");
    fs.add_file(cg.join("cpuset/cpuset.cpus"), "0-3\n");
    fs.add_file(cg.join("cpuset/cpuset.mems"), "0\n");
    fs.add_file(cg.join("cpuset/cpuset.effective_cpus"), "0-3\n");
    fs.add_file(cg.join("blkio/blkio.throttle.read_bps_device"), "");
    let mem = cg.join("memory/process_api/abc");
    for file in [
        "memory.limit_in_bytes",
        "memory.memsw.limit_in_bytes",
        "memory.memsw.usage_in_bytes",
        "memory.swappiness",
    ] {
        fs.add_file(mem.join(file), "0");
    }
    fs.add_file(cg.join("unified/cgroup.controllers"), "hugetlb\n");
    common(&fs, root);
    (fs, paths)
}

/// A pure cgroup2 host below `root`, the daemon in `/system.slice/lxd.service`.
pub fn fake_unified_host(root: &Path) -> (FakeCgroupFs, HostPaths) {
    let fs = FakeCgroupFs::new();
    let paths = HostPaths::under(root);
    fs.add_file(paths.proc_path("self/mountinfo"), UNIFIED_MOUNTINFO);
    fs.add_file(
        paths.proc_path("self/cgroup"),
        "0::/system.slice/lxd.service\n",
    );
    let own = root.join("sys/fs/cgroup/system.slice/lxd.service");
    fs.add_file(
        own.join("cgroup.controllers"),
        "cpuset cpu io memory hugetlb pids rdma misc\n",
    );
    fs.add_file(own.join("cgroup.procs"), "100\n");
    fs.add_file(own.join("cpuset.cpus.effective"), "0-7\n");
    fs.add_file(own.join("memory.swap.max"), "max\n");
    fs.add_file(own.join("memory.swap.current"), "0\n");
    common(&fs, root);
    (fs, paths)
}
