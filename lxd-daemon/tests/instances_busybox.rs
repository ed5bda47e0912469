//! System tier (root): the real `lxd` binary runs a busybox system container through the API:
//! image upload, create, start, exec (detached with recorded output), state, limits, a daemon
//! killed and restarted while the container runs, stop and delete leaving nothing behind.

use std::time::Duration;

use serde_json::{json, Value};

mod support;

use support::{busybox_image, start_daemon, Api};

/// `pid`'s cgroup path in the v1 hierarchy holding `controller`, or with `""` its v2 path,
/// from `/proc/PID/cgroup`.
fn cgroup_path(pid: i64, controller: &str) -> Option<String> {
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    cgroups.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, ctls, path) = (parts.next()?, parts.next()?, parts.next()?);
        let found = if controller.is_empty() {
            ctls.is_empty()
        } else {
            ctls.split(',').any(|c| c == controller)
        };
        found.then(|| path.to_string())
    })
}

/// The cgroup path of `pid` in the v1 hierarchy holding `controller`, else its v2 path.
fn cgroup_of(pid: i64, controller: &str) -> String {
    cgroup_path(pid, controller)
        .or_else(|| cgroup_path(pid, ""))
        .unwrap()
}

/// The memory limit of `pid`'s cgroup: v1 `memory.limit_in_bytes`, else v2 `memory.max`.
fn memory_limit(pid: i64) -> String {
    let file = match cgroup_path(pid, "memory") {
        Some(p) => format!("/sys/fs/cgroup/memory{p}/memory.limit_in_bytes"),
        None => format!(
            "/sys/fs/cgroup{}/memory.max",
            cgroup_path(pid, "").expect("no cgroup v2 line")
        ),
    };
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn busybox_container_lifecycle_through_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lxd");
    std::fs::create_dir_all(&dir).unwrap();
    let mut daemon = start_daemon(&dir);
    let api = Api {
        rt: tokio::runtime::Runtime::new().unwrap(),
        socket: dir.join("unix.socket"),
    };
    api.call(
        "POST",
        "/1.0/storage-pools",
        Some(json!({"name": "default", "driver": "dir"})),
    )
    .unwrap();
    api.call(
        "PATCH",
        "/1.0/profiles/default",
        Some(json!({"devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}})),
    )
    .unwrap();
    let op_id = api.upload(busybox_image(tmp.path()));
    let done = api
        .call(
            "GET",
            &format!("/1.0/operations/{op_id}/wait?timeout=30"),
            None,
        )
        .unwrap();
    let fp = done["metadata"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();

    let create = json!({"name": "c1", "source": {"type": "image", "fingerprint": fp}, "config": {"limits.memory": "128MiB"}});
    api.op("POST", "/1.0/instances", Some(create));
    let inst = api.call("GET", "/1.0/instances/c1", None).unwrap();
    assert_eq!(inst["status"], "Stopped");
    assert_eq!(inst["config"]["volatile.base_image"], fp.as_str());
    assert_eq!(inst["config"]["image.os"], "BusyBox");
    assert_eq!(inst["expanded_devices"]["root"]["pool"], "default");

    api.op(
        "PUT",
        "/1.0/instances/c1/state",
        Some(json!({"action": "start", "timeout": -1})),
    );
    let state = api.call("GET", "/1.0/instances/c1/state", None).unwrap();
    assert_eq!(state["status"], "Running");
    let pid = state["pid"].as_i64().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Seccomp:") && l.ends_with('2')),
        "no seccomp filter"
    );
    let uid_map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
    assert!(
        !uid_map.trim().starts_with("0 0 "),
        "container is not unprivileged: {uid_map}"
    );

    // The command runs under the container's seccomp filter too.
    let exec = json!({"command": ["sh", "-c", "id -u; hostname; grep Seccomp: /proc/self/status; exit 3"], "record-output": true, "wait-for-websocket": false});
    let done = api.op("POST", "/1.0/instances/c1/exec", Some(exec));
    assert_eq!(done["metadata"]["return"], 3);
    let log = dir
        .join("logs/c1")
        .join(format!("exec_{}.stdout", done["id"].as_str().unwrap()));
    assert_eq!(
        std::fs::read_to_string(log).unwrap(),
        "0\nc1\nSeccomp:\t2\n"
    );
    assert_eq!(memory_limit(pid), "134217728");
    api.op(
        "PATCH",
        "/1.0/instances/c1",
        Some(json!({"config": {"limits.memory": "256MiB"}})),
    );
    assert_eq!(memory_limit(pid), "268435456", "live limit update");
    // The limit moves to a profile; editing that profile reaches the running container.
    api.call(
        "POST",
        "/1.0/profiles",
        Some(json!({"name": "lim", "config": {"limits.memory": "192MiB"}, "devices": {}})),
    )
    .unwrap();
    let mut put = api.call("GET", "/1.0/instances/c1", None).unwrap();
    put["config"]
        .as_object_mut()
        .unwrap()
        .remove("limits.memory");
    put["profiles"] = json!(["default", "lim"]);
    api.op("PUT", "/1.0/instances/c1", Some(put));
    assert_eq!(memory_limit(pid), "201326592", "limit from a new profile");
    api.call(
        "PATCH",
        "/1.0/profiles/lim",
        Some(json!({"config": {"limits.memory": "64MiB"}})),
    )
    .unwrap();
    assert_eq!(memory_limit(pid), "67108864", "profile edit applied live");
    api.op(
        "PUT",
        "/1.0/instances/c1/state",
        Some(json!({"action": "freeze"})),
    );
    assert_eq!(
        api.call("GET", "/1.0/instances/c1", None).unwrap()["status"],
        "Frozen"
    );
    api.op(
        "PUT",
        "/1.0/instances/c1/state",
        Some(json!({"action": "unfreeze"})),
    );
    assert_eq!(
        api.call("GET", "/1.0/instances/c1", None).unwrap()["status"],
        "Running"
    );
    // Snapshot, change, restore: the content comes back (a running instance is stopped and
    // started around the restore).
    let write = |text: &str| {
        let cmd = json!({"command": ["sh", "-c", format!("echo {text} > /root/f")], "wait-for-websocket": false});
        api.op("POST", "/1.0/instances/c1/exec", Some(cmd));
    };
    write("one");
    api.op(
        "POST",
        "/1.0/instances/c1/snapshots",
        Some(json!({"name": "s1"})),
    );
    write("two");
    api.op("PUT", "/1.0/instances/c1", Some(json!({"restore": "s1"})));
    let read =
        json!({"command": ["cat", "/root/f"], "record-output": true, "wait-for-websocket": false});
    let done = api.op("POST", "/1.0/instances/c1/exec", Some(read));
    let out = dir
        .join("logs/c1")
        .join(format!("exec_{}.stdout", done["id"].as_str().unwrap()));
    assert_eq!(
        std::fs::read_to_string(out).unwrap(),
        "one\n",
        "restore did not bring the snapshot back"
    );
    assert_eq!(
        api.call("GET", "/1.0/instances/c1/snapshots", None)
            .unwrap(),
        json!(["/1.0/instances/c1/snapshots/s1"])
    );
    let pid = api.call("GET", "/1.0/instances/c1/state", None).unwrap()["pid"]
        .as_i64()
        .unwrap();
    // Files: write with owner and mode, read back with LXD's headers, refuse escapes.
    let (status, headers, body) = api.raw(
        "POST",
        "/1.0/instances/c1/files?path=/root/note",
        b"hi\n".to_vec(),
        &[("X-LXD-uid", "1000"), ("X-LXD-mode", "0600")],
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let _ = headers;
    let (status, headers, body) = api.raw(
        "GET",
        "/1.0/instances/c1/files?path=/root/note",
        Vec::new(),
        &[],
    );
    assert_eq!((status, body.as_slice()), (200, b"hi\n".as_slice()));
    assert_eq!(
        (
            headers["x-lxd-uid"].to_str().unwrap(),
            headers["x-lxd-mode"].to_str().unwrap()
        ),
        ("1000", "0600")
    );
    let (status, _, _) = api.raw("GET", "/1.0/instances/c1/files?path=/nope", Vec::new(), &[]);
    assert_eq!(status, 404);
    let (status, _, _) = api.raw(
        "GET",
        "/1.0/instances/c1/files?path=/../../etc/shadow",
        Vec::new(),
        &[],
    );
    assert_eq!(status, 400);
    // Publish the snapshot; the image's fingerprint is the sha256 of its exported file.
    let done = api.op(
        "POST",
        "/1.0/images",
        Some(
            json!({"source": {"type": "snapshot", "name": "c1/s1"}, "aliases": [{"name": "pub1"}]}),
        ),
    );
    let pub_fp = done["metadata"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, exported) = api.raw(
        "GET",
        &format!("/1.0/images/{pub_fp}/export"),
        Vec::new(),
        &[],
    );
    assert_eq!(status, 200);
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&exported)), pub_fp);
    assert_eq!(
        api.call("GET", "/1.0/images/aliases/pub1", None).unwrap()["target"],
        pub_fp.as_str()
    );
    // A backup exported and imported again under another name keeps content and snapshots.
    let done = api.op(
        "POST",
        "/1.0/instances/c1/backups",
        Some(json!({"name": "b1"})),
    );
    assert_eq!(done["resources"]["backups"], json!(["/1.0/backups/c1/b1"]));
    let (status, _, tarball) = api.raw(
        "GET",
        "/1.0/instances/c1/backups/b1/export",
        Vec::new(),
        &[],
    );
    assert_eq!(status, 200);
    // Import a backup tarball as `name` and wait until the import succeeded.
    let import = |name: &str, tarball: Vec<u8>| {
        let headers = [
            ("Content-Type", "application/octet-stream"),
            ("X-LXD-name", name),
        ];
        let (status, _, body) = api.raw("POST", "/1.0/instances", tarball, &headers);
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
        let op: Value = serde_json::from_slice(&body).unwrap();
        let wait = format!("{}/wait?timeout=60", op["operation"].as_str().unwrap());
        let done = api.call("GET", &wait, None).unwrap();
        assert_eq!(done["status"], "Success", "{done}");
    };
    import("c1copy", tarball.clone());
    assert_eq!(
        api.call("GET", "/1.0/instances/c1copy/snapshots", None)
            .unwrap(),
        json!(["/1.0/instances/c1copy/snapshots/s1"])
    );
    let (status, _, body) = api.raw(
        "GET",
        "/1.0/instances/c1copy/files?path=/root/f",
        Vec::new(),
        &[],
    );
    assert_eq!((status, body.as_slice()), (200, b"one\n".as_slice()));
    api.op("DELETE", "/1.0/instances/c1copy", None);
    // LXD 5.0.2 writes the instance directory owned by the container's host root with mode
    // 0100: such a backup imports and starts too.
    import("c1lxd", lxd_style_backup(tmp.path(), &tarball));
    api.op(
        "PUT",
        "/1.0/instances/c1lxd/state",
        Some(json!({"action": "start", "timeout": -1})),
    );
    api.op(
        "PUT",
        "/1.0/instances/c1lxd/state",
        Some(json!({"action": "stop", "force": true})),
    );
    // As LXD: stopping a stopped instance starts an operation, which fails.
    let again = api
        .call(
            "PUT",
            "/1.0/instances/c1lxd/state",
            Some(json!({"action": "stop", "force": true})),
        )
        .unwrap();
    let id = again["id"].as_str().unwrap();
    let failed = api
        .call(
            "GET",
            &format!("/1.0/operations/{id}/wait?timeout=60"),
            None,
        )
        .unwrap();
    assert_eq!(
        (failed["status"].as_str(), failed["err"].as_str()),
        (Some("Failure"), Some("The instance is already stopped")),
        "{failed}"
    );
    api.op("DELETE", "/1.0/instances/c1lxd", None);
    let logs = api.call("GET", "/1.0/instances/c1/logs", None).unwrap();
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .any(|l| l == "/1.0/instances/c1/logs/lxc.conf"),
        "{logs}"
    );
    let conf = std::fs::read_to_string(dir.join("logs/c1/lxc.conf")).unwrap();
    assert!(
        conf.contains("lxc.uts.name = c1") && conf.contains("lxc.idmap = u 0 "),
        "{conf}"
    );
    let err = api.call("DELETE", "/1.0/instances/c1", None).unwrap_err();
    assert_eq!(err, "Instance is running");

    // The container outlives a killed daemon; the next daemon finds it running.
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok(),
        "init died with the daemon"
    );
    let mut daemon = start_daemon(&dir);
    assert_eq!(
        api.call("GET", "/1.0/instances/c1", None).unwrap()["status"],
        "Running"
    );

    api.op(
        "PUT",
        "/1.0/instances/c1/state",
        Some(json!({"action": "stop", "force": true})),
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_err(),
        "init still alive"
    );
    assert_eq!(
        api.call("GET", "/1.0/instances/c1", None).unwrap()["status"],
        "Stopped"
    );
    api.op("DELETE", "/1.0/instances/c1", None);
    assert_eq!(api.call("GET", "/1.0/instances", None).unwrap(), json!([]));
    assert!(
        !dir.join("storage-pools/default/containers/c1").exists(),
        "volume left behind"
    );
    assert!(!dir.join("containers/c1").exists(), "link left behind");
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

/// Count this machine's cgroup directories named after a container.
fn cgroup_dirs_named(name: &str) -> usize {
    let mut count = 0;
    let mut stack = vec![std::path::PathBuf::from("/sys/fs/cgroup")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if entry.file_name().to_string_lossy().ends_with(name) {
                    count += 1;
                }
                stack.push(entry.path());
            }
        }
    }
    count
}

/// A host uid standing for an unprivileged container's root (LXD's is the first id of the
/// `root` range in `/etc/subuid`); not mapped by the test container's own id map necessarily.
const CONTAINER_ROOT: u32 = 1_000_000;

/// `tarball` (a backup of ours) repacked with `backup/container` as LXD 5.0.2 writes it for an
/// unprivileged container: owned by the container's host root and mode 0100.
fn lxd_style_backup(scratch: &std::path::Path, tarball: &[u8]) -> Vec<u8> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = scratch.join("lxd-style");
    std::fs::create_dir_all(&dir).unwrap();
    let file = scratch.join("ours.tar.gz");
    std::fs::write(&file, tarball).unwrap();
    let tar = |args: &[&str]| {
        let out = std::process::Command::new("tar")
            .arg("-C")
            .arg(&dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    tar(&["--numeric-owner", "-xzf", file.to_str().unwrap()]);
    let container = dir.join("backup/container");
    assert_eq!(std::fs::metadata(&container).unwrap().uid(), 0);
    std::os::unix::fs::chown(&container, Some(CONTAINER_ROOT), Some(0)).unwrap();
    std::fs::set_permissions(&container, std::fs::Permissions::from_mode(0o100)).unwrap();
    let repacked = scratch.join("lxd-style.tar.gz");
    tar(&[
        "--numeric-owner",
        "-czf",
        repacked.to_str().unwrap(),
        "backup",
    ]);
    std::fs::read(repacked).unwrap()
}

#[test]
fn failed_starts_leave_no_cgroup_mount_or_process() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lxd");
    std::fs::create_dir_all(&dir).unwrap();
    let mut daemon = start_daemon(&dir);
    let api = Api {
        rt: tokio::runtime::Runtime::new().unwrap(),
        socket: dir.join("unix.socket"),
    };
    api.call(
        "POST",
        "/1.0/storage-pools",
        Some(json!({"name": "default", "driver": "dir"})),
    )
    .unwrap();
    api.call(
        "PATCH",
        "/1.0/profiles/default",
        Some(json!({"devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}})),
    )
    .unwrap();
    // An empty rootfs: init cannot be found, so every start fails after namespaces, mounts and
    // the cgroup were made.
    let name = "failstart-7f3a";
    api.op(
        "POST",
        "/1.0/instances",
        Some(
            json!({"name": name, "source": {"type": "none"}, "config": {"limits.processes": "50"}}),
        ),
    );
    let mounts_before = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    for _ in 0..100 {
        let op = api
            .call(
                "PUT",
                &format!("/1.0/instances/{name}/state"),
                Some(json!({"action": "start"})),
            )
            .unwrap();
        let id = op["id"].as_str().unwrap().to_string();
        let done = api
            .call(
                "GET",
                &format!("/1.0/operations/{id}/wait?timeout=30"),
                None,
            )
            .unwrap();
        assert_eq!(done["status"], "Failure", "{done}");
        assert!(done["err"].as_str().unwrap().contains("init"), "{done}");
    }
    assert_eq!(
        api.call("GET", &format!("/1.0/instances/{name}"), None)
            .unwrap()["status"],
        "Stopped"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(cgroup_dirs_named(name), 0, "cgroups left behind");
    let mounts_after = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    assert_eq!(mounts_before, mounts_after, "mounts left behind");
    let leftovers: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("cmdline")).ok())
        .filter(|c| c.contains("forkmonitor") && c.contains(name))
        .collect();
    assert!(
        leftovers.is_empty(),
        "monitor processes left behind: {leftovers:?}"
    );
    api.op("DELETE", &format!("/1.0/instances/{name}"), None);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

/// Templates written through `/metadata` and `/metadata/templates` (while stopped and while
/// running) are rendered into the rootfs at the next start.
#[test]
fn api_templates_render_at_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lxd");
    std::fs::create_dir_all(&dir).unwrap();
    let mut daemon = start_daemon(&dir);
    let api = Api {
        rt: tokio::runtime::Runtime::new().unwrap(),
        socket: dir.join("unix.socket"),
    };
    api.call(
        "POST",
        "/1.0/storage-pools",
        Some(json!({"name": "default", "driver": "dir"})),
    )
    .unwrap();
    api.call(
        "PATCH",
        "/1.0/profiles/default",
        Some(json!({"devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}})),
    )
    .unwrap();
    let op_id = api.upload(busybox_image(tmp.path()));
    let done = api
        .call(
            "GET",
            &format!("/1.0/operations/{op_id}/wait?timeout=30"),
            None,
        )
        .unwrap();
    let fp = done["metadata"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let name = "hst-tpl1";
    let create = json!({"name": name, "source": {"type": "image", "fingerprint": fp}});
    api.op("POST", "/1.0/instances", Some(create));

    let base = format!("/1.0/instances/{name}");
    let octets = [("Content-Type", "application/octet-stream")];
    let put_template = |file: &str, text: &str| {
        let url = format!("{base}/metadata/templates?path={file}");
        let (status, _, body) = api.raw("POST", &url, text.as_bytes().to_vec(), &octets);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    };
    put_template("greet.tpl", "hello {{ container.name }}\n");
    let mut meta = api.call("GET", &format!("{base}/metadata"), None).unwrap();
    meta["templates"] = json!({"/etc/greeting": {"when": ["start"], "template": "greet.tpl"}});
    api.call("PUT", &format!("{base}/metadata"), Some(meta.clone()))
        .unwrap();
    let rootfs = dir
        .join("storage-pools/default/containers")
        .join(name)
        .join("rootfs");
    assert!(
        !rootfs.join("etc/greeting").exists(),
        "rendered before start"
    );

    let state = json!({"action": "start", "timeout": -1});
    api.op("PUT", &format!("{base}/state"), Some(state.clone()));
    let cat = |path: &str| {
        let exec =
            json!({"command": ["cat", path], "record-output": true, "wait-for-websocket": false});
        let done = api.op("POST", &format!("{base}/exec"), Some(exec));
        let log = dir
            .join("logs")
            .join(name)
            .join(format!("exec_{}.stdout", done["id"].as_str().unwrap()));
        std::fs::read_to_string(log).unwrap()
    };
    assert_eq!(cat("/etc/greeting"), format!("hello {name}\n"));
    let inst = api.call("GET", &base, None).unwrap();
    assert!(
        inst["config"].get("volatile.apply_template").is_none(),
        "pending create trigger not cleared: {}",
        inst["config"]
    );

    // Added while running: rendered at the next start, not before.
    put_template("second.tpl", "arch={{ container.architecture }}\n");
    meta["templates"]["/etc/second"] = json!({"when": ["start"], "template": "second.tpl"});
    api.call("PUT", &format!("{base}/metadata"), Some(meta))
        .unwrap();
    assert!(!rootfs.join("etc/second").exists());
    api.op(
        "PUT",
        &format!("{base}/state"),
        Some(json!({"action": "stop", "force": true})),
    );
    api.op("PUT", &format!("{base}/state"), Some(state));
    assert_eq!(cat("/etc/second"), "arch=x86_64\n");
    api.op(
        "PUT",
        &format!("{base}/state"),
        Some(json!({"action": "stop", "force": true})),
    );
    api.op("DELETE", &base, None);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

/// Two projects may each run an instance of the same name: each gets its own cgroup
/// (`lxc.payload.<project>_<name>` outside the default project, as liblxc names LXD's), so
/// state, freezing and stopping one leave the other alone.
#[test]
fn same_name_in_two_projects_runs_in_separate_cgroups() {
    let bb = support::BusyboxDaemon::start();
    let api = &bb.api;
    let name = "prj-7c2e";
    api.call(
        "POST",
        "/1.0/projects",
        Some(json!({"name": "p2", "config": {"features.images": "false", "features.profiles": "false"}})),
    )
    .unwrap();
    bb.launch(name);
    let create = json!({"name": name, "source": {"type": "image", "fingerprint": bb.fingerprint}});
    api.op("POST", "/1.0/instances?project=p2", Some(create));
    let p2 = format!("/1.0/instances/{name}/state?project=p2");
    api.op("PUT", &p2, Some(json!({"action": "start", "timeout": -1})));
    let pid_default = bb.init_pid(name);
    let pid_p2 = api.call("GET", &p2, None).unwrap()["pid"].as_i64().unwrap();
    assert_eq!(
        cgroup_of(pid_default, "memory"),
        format!("/lxc.payload.{name}")
    );
    assert_eq!(
        cgroup_of(pid_p2, "memory"),
        format!("/lxc.payload.p2_{name}")
    );

    // Exec with recorded output in p2: the output is served under the instance's own name.
    let exec = json!({"command": ["hostname"], "record-output": true, "wait-for-websocket": false});
    let done = api.op(
        "POST",
        &format!("/1.0/instances/{name}/exec?project=p2"),
        Some(exec),
    );
    let stdout = done["metadata"]["output"]["1"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        stdout.starts_with(&format!("/1.0/instances/{name}/logs/exec_")),
        "{stdout}"
    );
    let (status, _, body) = api.raw("GET", &format!("{stdout}?project=p2"), Vec::new(), &[]);
    assert_eq!((status, body), (200, format!("{name}\n").into_bytes()));

    api.op("PUT", &p2, Some(json!({"action": "freeze"})));
    let status = |path: &str| api.call("GET", path, None).unwrap()["status"].clone();
    assert_eq!(status(&p2), "Frozen");
    let default = format!("/1.0/instances/{name}/state");
    assert_eq!(status(&default), "Running");
    api.op("PUT", &p2, Some(json!({"action": "unfreeze"})));
    api.op("PUT", &p2, Some(json!({"action": "stop", "force": true})));
    assert_eq!(status(&p2), "Stopped");
    let state = api.call("GET", &default, None).unwrap();
    assert_eq!(state["status"], "Running");
    assert!(state["memory"]["usage"].as_i64().unwrap() > 0, "{state}");
    assert!(state["processes"].as_i64().unwrap() > 0, "{state}");
    api.op("DELETE", &format!("/1.0/instances/{name}?project=p2"), None);
    bb.remove(name);
}

/// A cgroup of the container's name that holds processes of something else (another daemon's
/// instance of that name) is not shared: the start fails saying so, and works once it is gone.
#[test]
fn start_refuses_a_cgroup_held_by_other_processes() {
    let bb = support::BusyboxDaemon::start();
    let name = "squat-4b1d";
    bb.create_with(name, json!({}));
    let top = if std::path::Path::new("/sys/fs/cgroup/pids/cgroup.procs").exists() {
        "/sys/fs/cgroup/pids"
    } else {
        "/sys/fs/cgroup"
    };
    let dir = std::path::Path::new(top).join(format!("lxc.payload.{name}"));
    std::fs::create_dir(&dir).unwrap();
    let mut other = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    std::fs::write(dir.join("cgroup.procs"), other.id().to_string()).unwrap();

    let op = bb
        .api
        .call(
            "PUT",
            &format!("/1.0/instances/{name}/state"),
            Some(json!({"action": "start", "timeout": -1})),
        )
        .unwrap();
    let wait = format!(
        "/1.0/operations/{}/wait?timeout=30",
        op["id"].as_str().unwrap()
    );
    let done = bb.api.call("GET", &wait, None).unwrap();
    let refused = (
        done["status"].clone(),
        done["err"].as_str().unwrap_or("").to_string(),
    );

    other.kill().unwrap();
    other.wait().unwrap();
    for _ in 0..100 {
        if std::fs::remove_dir(&dir).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(refused.0, "Failure");
    assert!(
        refused
            .1
            .contains(&format!("lxc.payload.{name} is in use by other processes")),
        "{}",
        refused.1
    );
    bb.start_instance(name);
    assert!(bb.init_pid(name) > 0);
    bb.remove(name);
}
