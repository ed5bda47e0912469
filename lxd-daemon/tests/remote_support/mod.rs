//! Helpers of the image-remotes system test: busybox images, a simplestreams tree written by
//! `lxd-simplestreams`, the HTTPS range server fixture with its own certificate, and daemons
//! (ours or the real LXD) on temporary directories driven over their sockets.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lxd_daemon::cmd::local::request;
use serde_json::{json, Value};

pub const LXD: &str = env!("CARGO_BIN_EXE_lxd");
pub const TREE_TOOL: &str = env!("CARGO_BIN_EXE_lxd-simplestreams");
pub const SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/https_range_server.py"
);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A child process killed when the test ends, pass or fail.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A busybox rootfs and metadata under `dir/name/`; `filler` bytes of incompressible data
/// make the image larger.
pub fn image_dir(dir: &Path, name: &str, created: i64, filler: usize) -> PathBuf {
    let d = dir.join(name);
    let root = d.join("rootfs");
    for sub in ["bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "root"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep", "mount", "cat"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::os::unix::fs::symlink("../bin/busybox", root.join("sbin/init")).unwrap();
    std::fs::write(root.join("etc/inittab"), "::respawn:/bin/sleep 1000000\n").unwrap();
    if filler > 0 {
        let mut data = vec![0u8; filler];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d ^ created as u64;
        for b in data.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        std::fs::write(root.join("root/filler"), data).unwrap();
    }
    std::fs::write(
        d.join("metadata.yaml"),
        format!(
            "architecture: x86_64\ncreation_date: {created}\nproperties:\n  description: {name}\n  os: BusyBox\n  release: \"1.36\"\n"
        ),
    )
    .unwrap();
    d
}

/// A unified gzip tarball of an image directory.
pub fn unified(dir: &Path, name: &str, created: i64, filler: usize) -> PathBuf {
    let d = image_dir(dir, name, created, filler);
    let out = dir.join(format!("{name}.tar.gz"));
    run(Command::new("tar")
        .arg("-C")
        .arg(&d)
        .arg("-czf")
        .arg(&out)
        .args(["metadata.yaml", "rootfs"]));
    out
}

pub fn add_to_tree(tree: &Path, files: &[&Path], args: &[&str]) -> String {
    let out = run(Command::new(TREE_TOOL)
        .arg("--dir")
        .arg(tree)
        .arg("add")
        .args(files)
        .args(args));
    out.trim().rsplit(' ').next().unwrap().to_string()
}

/// The served path of an image's main (or only) file.
pub fn served_file(tree: &Path, fingerprint: &str, role: lxd_simplestreams::FileRole) -> String {
    let catalog = lxd_image::sstree::Tree::new(tree)
        .catalog("x86_64")
        .unwrap();
    catalog
        .files(fingerprint)
        .unwrap()
        .iter()
        .find(|f| f.role == role)
        .unwrap()
        .path
        .clone()
}

/// The HTTPS side: a certificate, a CA bundle trusting it, a tree and its server.
pub struct ImageServer {
    pub tree: PathBuf,
    pub ca: PathBuf,
    pub log: PathBuf,
    pub url: String,
    _server: Option<Killed>,
}

impl ImageServer {
    pub fn new(dir: &Path) -> Self {
        let key = dir.join("ss.key");
        let cert = dir.join("ss.crt");
        run(Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ]));
        let mut bundle = std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
        bundle.extend(std::fs::read(&cert).unwrap());
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, bundle).unwrap();
        Self {
            tree: dir.join("tree"),
            ca,
            log: dir.join("requests.log"),
            url: String::new(),
            _server: None,
        }
    }

    pub fn start(&mut self, drop_once: &[&str]) {
        let port = free_port();
        let dir = self.ca.parent().unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(SERVER)
            .arg(&self.tree)
            .arg(port.to_string())
            .arg(dir.join("ss.crt"))
            .arg(dir.join("ss.key"))
            .arg(&self.log);
        for suffix in drop_once {
            cmd.args(["--drop-once", suffix]);
        }
        let child = cmd.stdout(Stdio::null()).spawn().unwrap();
        self._server = Some(Killed(child));
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.url = format!("https://127.0.0.1:{port}");
    }

    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A daemon (ours or the real one) on its own directory, driven over its socket.
pub struct Daemon {
    rt: tokio::runtime::Runtime,
    pub dir: PathBuf,
    child: Option<Killed>,
}

impl Drop for Daemon {
    /// SIGTERM first (the real LXD unmounts its `shmounts` and `devlxd` then), SIGKILL after
    /// 10 s, then detach whatever is still mounted under the directory.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.0.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            for _ in 0..100 {
                if child.0.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            drop(child);
        }
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut under: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(1))
            .filter(|m| Path::new(m).starts_with(&self.dir))
            .collect();
        under.sort_by(|a, b| b.cmp(a));
        for mount in under {
            let _ = nix::mount::umount2(mount, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

impl Daemon {
    pub fn start(bin: &str, dir: &Path, ca: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let mut perms = std::fs::metadata(dir).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(dir, perms).unwrap();
        let child = Command::new(bin)
            .args(["--group", "root", "--logfile"])
            .arg(dir.join("lxd.log"))
            .env("LXD_DIR", dir)
            .env("SSL_CERT_FILE", ca)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = Killed(child);
        let ok = Command::new(bin)
            .args(["waitready", "--timeout", "60"])
            .env("LXD_DIR", dir)
            .status()
            .unwrap();
        assert!(ok.success(), "{bin} did not start");
        let daemon = Self {
            rt: tokio::runtime::Runtime::new().unwrap(),
            dir: dir.to_path_buf(),
            child: Some(child),
        };
        daemon
            .call(
                "POST",
                "/1.0/storage-pools",
                Some(json!({"name": "default", "driver": "dir"})),
            )
            .unwrap();
        daemon
            .call(
                "PATCH",
                "/1.0/profiles/default",
                Some(
                    json!({"devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}}),
                ),
            )
            .unwrap();
        daemon
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.rt
            .block_on(request(
                &self.dir.join("unix.socket"),
                method,
                path,
                body.as_ref(),
            ))
            .map_err(|e| e.to_string())
    }

    /// Start an operation and wait for it; returns the finished operation.
    pub fn op(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let op = self
            .call(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let id = op["id"].as_str().unwrap().to_string();
        self.call(
            "GET",
            &format!("/1.0/operations/{id}/wait?timeout=120"),
            None,
        )
        .unwrap()
    }

    pub fn copy_image(&self, source: Value, extra: Value) -> Value {
        let mut body = json!({"source": source});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.op("POST", "/1.0/images", Some(body))
    }

    pub fn delete_instance(&self, name: &str) {
        let _ = self.call(
            "PUT",
            &format!("/1.0/instances/{name}/state"),
            Some(json!({"action": "stop", "force": true})),
        );
        for _ in 0..50 {
            let state = self.call("GET", &format!("/1.0/instances/{name}"), None);
            if state.is_ok_and(|s| s["status"] != "Running") {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let done = self.op("DELETE", &format!("/1.0/instances/{name}"), None);
        assert_eq!(done["status"], "Success", "{done}");
    }
}
