//! System tier (root): a busybox system container started by the runtime, unprivileged through
//! an idmapped root, entered with exec, and stopped. Runs without the test harness because the
//! runtime forks and needs a single-threaded process.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lxd_runtime::container::exec::{self, ExecSpec};
use lxd_runtime::container::files::{self, FileJob, FileKind, FileOp, FileRequest, FileTarget};
use lxd_runtime::container::monitor;
use lxd_runtime::container::{ContainerSpec, IdMaps, IdRange, MonitorState};
use nix::unistd::{ForkResult, Pid};

const BASE: u32 = 1_000_000;

fn busybox_rootfs(dir: &Path) -> PathBuf {
    let rootfs = dir.join("rootfs");
    for d in [
        "bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "root", "run",
    ] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    for applet in [
        "sh", "id", "hostname", "cat", "sleep", "stat", "ls", "mount", "echo", "touch", "tty",
    ] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    std::os::unix::fs::symlink("../bin/busybox", rootfs.join("sbin/init")).unwrap();
    std::fs::write(rootfs.join("etc/inittab"), "::respawn:/bin/sleep 1000000\n").unwrap();
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    rootfs
}

fn spec(dir: &Path, name: &str) -> ContainerSpec {
    let range = vec![IdRange {
        nsid: 0,
        hostid: BASE,
        range: 65536,
    }];
    ContainerSpec {
        name: name.to_string(),
        rootfs: busybox_rootfs(dir),
        idmap: Some(IdMaps {
            uid: range.clone(),
            gid: range,
        }),
        init: vec!["/sbin/init".into()],
        env: vec!["PATH=/bin:/sbin".into(), "container=lxc".into()],
        state_dir: dir.join("state"),
        config: BTreeMap::new(),
        binds: Vec::new(),
        mount_cgroup2: false,
        volume_binds: Vec::new(),
        apparmor: None,
        shifted_rootfs: false,
        nics: Vec::new(),
        restore_from: None,
    }
}

/// Fork the monitor; return its pid and, once init runs, the state it wrote.
fn start_monitor(spec: &ContainerSpec) -> (Pid, MonitorState) {
    match lxd_sys::spawn::fork_process().unwrap() {
        ForkResult::Child => {
            let code = match monitor::run(
                spec,
                &mut || Ok(Default::default()),
                &mut |_| Ok(()),
                &mut |_| {},
                &mut || {},
            ) {
                Ok(_) => 0,
                Err(e) => {
                    eprintln!("monitor: {e}");
                    1
                }
            };
            std::process::exit(code);
        }
        ForkResult::Parent { child } => {
            let start = Instant::now();
            loop {
                if let Some(state) = monitor::read_state(spec) {
                    return (child, state);
                }
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "init did not start"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Run a command in the container from a forked helper, capturing its stdout.
fn exec_in(init: i32, argv: &[&str]) -> (i32, String) {
    let out = tempfile::tempfile().unwrap();
    match lxd_sys::spawn::fork_process().unwrap() {
        ForkResult::Child => {
            nix::unistd::dup2_stdout(out.as_fd()).unwrap();
            let spec = ExecSpec {
                name: "c1".into(),
                init_pid: init,
                argv: argv.iter().map(|s| s.to_string()).collect(),
                env: vec!["PATH=/bin:/sbin".into(), "HOME=/root".into()],
                cwd: "/root".into(),
                uid: 0,
                gid: 0,
                config: BTreeMap::new(),
                pty: false,
            };
            let code = exec::run(&spec, &mut || Ok(None), &mut |_| {}).unwrap_or_else(|e| {
                eprintln!("exec: {e} ({:?})", std::error::Error::source(&e));
                255
            });
            std::process::exit(code);
        }
        ForkResult::Parent { child } => {
            let status = nix::sys::wait::waitpid(child, None).unwrap();
            let code = monitor::exit_code(status).unwrap();
            let mut f = out;
            use std::io::{Read, Seek};
            f.rewind().unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            (code, s)
        }
    }
}

/// Run `tty` in the container on a pty from its own devpts; returns what the pty carried.
fn tty_in(init: i32) -> String {
    let root = PathBuf::from(format!("/proc/{init}/root"));
    let pty = lxd_sys::tty::open_pty_in(&root, BASE, BASE, 80, 24).unwrap();
    match lxd_sys::spawn::fork_process().unwrap() {
        ForkResult::Child => {
            nix::unistd::dup2_stdin(pty.terminal.as_fd()).unwrap();
            nix::unistd::dup2_stdout(pty.terminal.as_fd()).unwrap();
            nix::unistd::dup2_stderr(pty.terminal.as_fd()).unwrap();
            let spec = ExecSpec {
                name: "c1".into(),
                init_pid: init,
                argv: vec!["sh".into(), "-c".into(), "tty; stat -c %u $(tty)".into()],
                env: vec!["PATH=/bin:/sbin".into()],
                cwd: "/".into(),
                uid: 0,
                gid: 0,
                config: BTreeMap::new(),
                pty: true,
            };
            std::process::exit(exec::run(&spec, &mut || Ok(None), &mut |_| {}).unwrap_or(255));
        }
        ForkResult::Parent { child } => {
            drop(pty.terminal);
            let _ = nix::sys::wait::waitpid(child, None);
            let mut out = Vec::new();
            let mut master = std::fs::File::from(pty.master);
            let _ = std::io::Read::read_to_end(&mut master, &mut out);
            String::from_utf8_lossy(&out).replace('\r', "")
        }
    }
}

fn check(cond: bool, what: &str) {
    if !cond {
        panic!("FAILED: {what}");
    }
    println!("ok: {what}");
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(tmp.path(), "c1");
    let (monitor_pid, state) = start_monitor(&spec);
    let init = state.init_pid;
    let guard = scopeguard(init, monitor_pid);

    let uid_map = std::fs::read_to_string(format!("/proc/{init}/uid_map")).unwrap();
    check(
        uid_map.split_whitespace().take(2).collect::<Vec<_>>() == ["0", &BASE.to_string()],
        "uid_map maps 0 to the base",
    );
    check(
        std::fs::read_link(format!("/proc/{init}/ns/pid")).unwrap()
            != std::fs::read_link("/proc/self/ns/pid").unwrap(),
        "own pid namespace",
    );
    let (code, out) = exec_in(
        init,
        &["sh", "-c", "id -u; hostname; stat -c %u /bin/busybox"],
    );
    check(
        code == 0 && out.split_whitespace().collect::<Vec<_>>() == ["0", "c1", "0"],
        &format!("exec id/hostname/owner: {code} {out:?}"),
    );
    let (code, _) = exec_in(init, &["sh", "-c", "exit 7"]);
    check(code == 7, "exit status passed through");
    let (code, _) = exec_in(init, &["/nonexistent"]);
    check(code == 127, "missing command is 127");
    let tty = tty_in(init);
    check(
        tty.lines().collect::<Vec<_>>() == ["/dev/pts/0", "0"],
        &format!("exec on a pty of the container's devpts, owned by its root: {tty:?}"),
    );
    let status = std::fs::read_to_string(format!("/proc/{init}/status")).unwrap();
    check(
        status
            .lines()
            .any(|l| l.starts_with("Seccomp:") && l.ends_with('2')),
        "init runs under a seccomp filter",
    );
    let on_disk = std::fs::metadata(spec.rootfs.join("bin/busybox")).unwrap();
    check(
        std::os::unix::fs::MetadataExt::uid(&on_disk) == 0,
        "no file was chowned on disk",
    );

    files_in_running(&spec, init);
    console_attach(&spec, init);

    nix::sys::signal::kill(Pid::from_raw(init), nix::sys::signal::Signal::SIGKILL).unwrap();
    let status = nix::sys::wait::waitpid(monitor_pid, None).unwrap();
    check(
        monitor::exit_code(status) == Some(0),
        "monitor exits when init ends",
    );
    let state = monitor::read_state(&spec).unwrap();
    check(
        state.exit_status == Some(137),
        "exit status recorded as 128 + SIGKILL",
    );
    drop(guard);

    // A monitor killed with -9 takes its container along instead of leaving init untracked.
    let (monitor_pid, state) = start_monitor(&spec);
    let init = state.init_pid;
    let guard = scopeguard(init, monitor_pid);
    nix::sys::signal::kill(monitor_pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    let _ = nix::sys::wait::waitpid(monitor_pid, None);
    let mut gone = false;
    for _ in 0..200 {
        let status = std::fs::read_to_string(format!("/proc/{init}/status")).unwrap_or_default();
        // Dead, or a zombie waiting for the reaper.
        if status.is_empty() || status.lines().any(|l| l.starts_with("State:\tZ")) {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    check(gone, "init dies with a killed monitor");
    drop(guard);
    println!("1 passed, 0 failed");
}

/// Attach to the console the monitor serves: output reaches the client, typed bytes reach
/// the console, a second client is refused while one is attached.
fn console_attach(spec: &ContainerSpec, init: i32) {
    use lxd_runtime::container::console::{self, AttachError};
    use std::io::{Read, Write};
    let path = console::socket_path(&spec.state_dir);
    let mut client = console::attach(&path).expect("attach to the console");
    check(
        matches!(console::attach(&path), Err(AttachError::Busy)),
        "a second console client is refused",
    );
    let (code, _) = exec_in(init, &["sh", "-c", "echo hello-console > /dev/console"]);
    check(code == 0, "write to /dev/console");
    client
        .stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("hello-console") {
        let n = client.stream.read(&mut buf).expect("console output");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    check(true, "console output reaches the attached client");
    client.stream.write_all(b"typed\n").unwrap();
    let (code, out) = exec_in(init, &["sh", "-c", "read x < /dev/console; echo got:$x"]);
    check(
        code == 0 && out.trim() == "got:typed",
        &format!("typed bytes reach the console: {out:?}"),
    );
    drop(client);
    std::thread::sleep(Duration::from_millis(100));
    check(
        console::attach(&path).is_ok(),
        "the console can be attached again after the client left",
    );
    let log = std::fs::read_to_string(spec.console_log()).unwrap_or_default();
    check(
        log.contains("hello-console"),
        "console output is logged too",
    );
}

/// One files request in the running container; returns the result and the output bytes.
fn file_op(init: i32, path: &str, op: FileOp, input: &[u8]) -> (files::FileResponse, String) {
    use std::io::{Read, Seek, Write};
    let (mut input_file, mut output) =
        (tempfile::tempfile().unwrap(), tempfile::tempfile().unwrap());
    input_file.write_all(input).unwrap();
    input_file.rewind().unwrap();
    let job = FileJob {
        target: FileTarget::Running { init_pid: init },
        request: FileRequest {
            path: path.into(),
            op,
        },
    };
    let result = files::run(&job, input_file.as_fd(), output.as_fd());
    let result = result.unwrap_or_else(|e| panic!("FAILED: files {path}: {e}"));
    output.rewind().unwrap();
    let mut text = String::new();
    output.read_to_string(&mut text).unwrap();
    (result, text)
}

/// The files executor joins the running container: owner, mode and content as the container
/// sees them, container ids on disk (idmapped root), and `/` is the container's root.
fn files_in_running(spec: &ContainerSpec, init: i32) {
    let put = |kind, uid| {
        FileOp::Put(files::PutSpec {
            uid,
            gid: uid,
            mode: Some(0o600),
            kind,
            append: false,
        })
    };
    file_op(init, "/root/hello", put(FileKind::File, Some(1000)), b"hi");
    let (code, out) = exec_in(
        init,
        &[
            "sh",
            "-c",
            "stat -c '%u %g %a' /root/hello; cat /root/hello",
        ],
    );
    check(
        code == 0 && out == "1000 1000 600\nhi",
        &format!("file written into the running container: {out:?}"),
    );
    let on_disk = std::fs::metadata(spec.rootfs.join("root/hello")).unwrap();
    check(
        std::os::unix::fs::MetadataExt::uid(&on_disk) == 1000,
        "container ids on disk",
    );
    let (found, out) = file_op(init, "/etc/passwd", FileOp::Get, b"");
    check(
        found.kind == FileKind::File && found.uid == 0 && out.starts_with("root:x:0:0"),
        "file read from the running container as the container sees it",
    );
    file_op(init, "/tmp/up", put(FileKind::Symlink, None), b"/");
    let unique = format!("lxd-files-running-{}", std::process::id());
    file_op(
        init,
        &format!("/tmp/up/{unique}"),
        put(FileKind::File, None),
        b"x",
    );
    check(
        spec.rootfs.join(&unique).exists() && !Path::new("/").join(&unique).exists(),
        "a symlink to / resolves to the container's root",
    );
}

/// Kills init and the monitor if the test panics midway.
struct Cleanup(i32, Pid);

fn scopeguard(init: i32, monitor: Pid) -> Cleanup {
    Cleanup(init, monitor)
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(Pid::from_raw(self.0), nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::signal::kill(self.1, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(self.1, None);
    }
}
