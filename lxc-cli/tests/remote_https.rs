//! Compatibility tier (root): our `lxc` against the REAL LXD 5.0.2 daemon (Debian's `lxd`)
//! over HTTPS on 127.0.0.1: `remote add` with a wrong and a right trust password, the
//! fingerprint prompt answered on stdin, `--accept-certificate`, a join token made by the real
//! `lxc config trust add`, `--public`, a changed server certificate refused (pinning), and
//! `list`, `info`, `exec` (websockets over TLS), `file` and `config` on the remote; config.yml,
//! servercerts/ and `remote list` compared with what the real `lxc` 5.0.2 writes and prints.
//! Skipped with a printed reason when the real LXD is not installed or not running as root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const OURS: &str = env!("CARGO_BIN_EXE_lxc");
const REAL_LXD: &str = "/usr/bin/lxd";
const REAL_LXC: &str = "/usr/bin/lxc";
const PASSWORD: &str = "remote-test-pw";

fn skip_reason() -> Option<&'static str> {
    if !Path::new(REAL_LXD).exists() || !Path::new(REAL_LXC).exists() {
        return Some("the real LXD 5.0.2 (/usr/bin/lxd, /usr/bin/lxc) is not installed");
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        == Some("0");
    (!root).then_some("needs root to run the real LXD")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real LXD 5.0.2 on its own directory, listening on 127.0.0.1:port.
struct RealLxd {
    dir: PathBuf,
    child: Option<Child>,
    port: u16,
}

impl RealLxd {
    fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let mut lxd = Self {
            dir: dir.to_path_buf(),
            child: None,
            port: free_port(),
        };
        lxd.spawn();
        lxd.admin(&[
            "config",
            "set",
            "core.https_address",
            &format!("127.0.0.1:{}", lxd.port),
        ]);
        lxd.admin(&["config", "set", "core.trust_password", PASSWORD]);
        lxd
    }

    fn spawn(&mut self) {
        let child = Command::new(REAL_LXD)
            .args(["--group", "root", "--logfile"])
            .arg(self.dir.join("lxd.log"))
            .env("LXD_DIR", &self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let ok = Command::new(REAL_LXD)
            .args(["waitready", "--timeout", "60"])
            .env("LXD_DIR", &self.dir)
            .status()
            .unwrap();
        assert!(ok.success(), "the real lxd did not start");
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The real lxc on the daemon's UNIX socket; panics on failure.
    fn admin(&self, args: &[&str]) -> String {
        let out = Command::new(REAL_LXC)
            .args(args)
            .env("LXD_DIR", &self.dir)
            .env("LXD_CONF", self.dir.join("admin-conf"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "real lxc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Stops the daemon (by its pid) and starts it again with a new server certificate.
    fn restart_with_new_certificate(&mut self) {
        self.stop();
        std::fs::remove_file(self.dir.join("server.crt")).unwrap();
        std::fs::remove_file(self.dir.join("server.key")).unwrap();
        self.spawn();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

impl Drop for RealLxd {
    fn drop(&mut self) {
        // Containers outlive their daemon: remove any a failed test left behind.
        if self.child.is_some() {
            let names = Command::new(REAL_LXC)
                .args(["list", "--format", "csv", "-c", "n"])
                .env("LXD_DIR", &self.dir)
                .env("LXD_CONF", self.dir.join("admin-conf"))
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for name in names.lines().filter(|n| !n.is_empty()) {
                let _ = Command::new(REAL_LXC)
                    .args(["delete", "--force", name])
                    .env("LXD_DIR", &self.dir)
                    .env("LXD_CONF", self.dir.join("admin-conf"))
                    .output();
            }
        }
        self.stop();
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let prefix = self.dir.to_string_lossy().to_string();
        let mut targets: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
        for t in targets {
            let _ = Command::new("umount").args(["-l", t]).status();
        }
    }
}

/// A client configuration directory, used by both our lxc and the real one.
struct Conf {
    dir: PathBuf,
    /// A LXD_DIR that does not exist, so no client greets a first-time user.
    no_lxd: PathBuf,
}

impl Conf {
    fn new(root: &Path, name: &str) -> Self {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            dir,
            no_lxd: root.join("no-lxd-here"),
        }
    }

    fn run_with(&self, binary: &str, args: &[&str], stdin: &str) -> Output {
        self.run_on(binary, &self.no_lxd, args, stdin)
    }

    /// Runs `binary` with `LXD_DIR=lxd_dir` (its `local:` remote).
    fn run_on(&self, binary: &str, lxd_dir: &Path, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(binary)
            .args(args)
            .env("LXD_CONF", &self.dir)
            .env("LXD_DIR", lxd_dir)
            .env_remove("LXC_REMOTE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            let _ = input.write_all(stdin.as_bytes());
        }
        child.wait_with_output().unwrap()
    }

    fn ours(&self, args: &[&str], stdin: &str) -> Output {
        self.run_with(OURS, args, stdin)
    }

    fn real(&self, args: &[&str], stdin: &str) -> Output {
        self.run_with(REAL_LXC, args, stdin)
    }

    fn ours_ok(&self, args: &[&str]) -> String {
        let out = self.ours(args, "");
        assert!(
            out.status.success(),
            "our lxc {args:?} failed: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fingerprint_of(pem_path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let pem = std::fs::read_to_string(pem_path).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64_decode(&b64);
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn remote_add_password_prompt_and_pinning_against_real_lxd() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut lxd = RealLxd::start(&tmp.path().join("lxd"));
    let url = lxd.url();
    let server_fp = fingerprint_of(&lxd.dir.join("server.crt"));
    let ours = Conf::new(tmp.path(), "ours");

    // A wrong password is refused with the daemon's text and nothing is saved.
    let out = ours.ours(
        &[
            "remote",
            "add",
            "r1",
            &url,
            "--accept-certificate",
            "--password",
            "wrong",
        ],
        "",
    );
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr).lines().last(),
        Some("Error: not authorized")
    );
    assert!(!ours.file("config.yml").contains("r1:"));
    assert!(ours.dir.join("client.crt").exists() && ours.dir.join("client.key").exists());
    std::fs::remove_file(ours.dir.join("servercerts/r1.crt")).unwrap();

    // The prompt refused with "n": the certificate is neither pinned nor the remote saved.
    let port_addr = format!("127.0.0.1:{}", lxd.port);
    let out = ours.ours(&["remote", "add", "r1", &port_addr], "n\n");
    assert_eq!(
        text(&out.stdout),
        format!("Certificate fingerprint: {server_fp}\nok (y/n/[fingerprint])? ")
    );
    assert_eq!(
        text(&out.stderr),
        "Error: Server certificate NACKed by user\n"
    );
    assert!(!ours.dir.join("servercerts/r1.crt").exists());

    // The prompt answered with the fingerprint, then the password asked on stdin.
    let out = ours.ours(
        &["remote", "add", "r1", &port_addr],
        &format!("{server_fp}\n{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "Certificate fingerprint: {server_fp}\nok (y/n/[fingerprint])? Admin password (or token) for r1: \nClient certificate now trusted by server: r1\n"
        )
    );
    let info = ours.ours_ok(&["info", "r1:"]);
    assert!(info.contains("\nauth: trusted\n"), "{info}");
    assert!(ours.ours_ok(&["list", "r1:"]).contains("| NAME |"));

    // The same remote added by the real lxc writes the same config.yml and servercert.
    let real = Conf::new(tmp.path(), "real");
    let out = real.real(
        &[
            "remote",
            "add",
            "r1",
            &url,
            "--accept-certificate",
            "--password",
            PASSWORD,
        ],
        "",
    );
    assert!(out.status.success(), "real lxc: {}", text(&out.stderr));
    assert_eq!(ours.file("config.yml"), real.file("config.yml"));
    assert_eq!(
        ours.file("servercerts/r1.crt"),
        real.file("servercerts/r1.crt")
    );
    assert!(ours.file("config.yml").contains(&format!(
        "  r1:\n    addr: {url}\n    auth_type: tls\n    project: default\n    protocol: lxd\n    public: false\n"
    )));

    // --accept-certificate --password for a second remote, then more kinds of remotes; the
    // real lxc prints the same `remote list` for the same configuration in every format.
    ours.ours_ok(&[
        "remote",
        "add",
        "r2",
        &url,
        "--accept-certificate",
        "--password",
        PASSWORD,
    ]);
    ours.ours_ok(&[
        "remote",
        "add",
        "pub",
        &port_addr,
        "--public",
        "--accept-certificate",
    ]);
    ours.ours_ok(&[
        "remote",
        "add",
        "ss",
        "https://127.0.0.1:1/streams",
        "--protocol",
        "simplestreams",
    ]);
    ours.ours_ok(&["remote", "rename", "r2", "r3"]);
    assert!(ours.dir.join("servercerts/r3.crt").exists());
    ours.ours_ok(&["remote", "switch", "r3"]);
    for format in ["table", "csv", "json", "yaml", "compact"] {
        let mine = ours.ours(&["remote", "list", "-f", format], "");
        let theirs = ours.real(&["remote", "list", "-f", format], "");
        assert_eq!(
            text(&mine.stdout),
            text(&theirs.stdout),
            "remote list -f {format}"
        );
    }
    assert_eq!(ours.ours_ok(&["remote", "get-default"]), "r3\n");
    let out = ours.ours(&["remote", "remove", "r3"], "");
    assert_eq!(
        text(&out.stderr),
        "Error: Can't remove the default remote\n"
    );
    ours.ours_ok(&["remote", "switch", "local"]);
    ours.ours_ok(&["remote", "remove", "r3"]);
    assert!(!ours.dir.join("servercerts/r3.crt").exists());

    // A changed server certificate is refused, by our lxc as by the real one.
    lxd.restart_with_new_certificate();
    let mine = ours.ours(&["list", "r1:"], "");
    let theirs = real.real(&["list", "r1:"], "");
    assert!(!mine.status.success() && !theirs.status.success());
    let expected =
        format!("Error: Get \"{url}/1.0\": x509: certificate signed by unknown authority");
    assert!(
        text(&mine.stderr).starts_with(&expected),
        "{}",
        text(&mine.stderr)
    );
    assert!(
        text(&theirs.stderr).starts_with(&expected),
        "{}",
        text(&theirs.stderr)
    );
    // The public remote is pinned as well.
    let out = ours.ours(&["image", "list", "pub:"], "");
    assert!(text(&out.stderr).contains("x509: certificate signed by unknown authority"));
}

#[test]
fn remote_token_and_instances_over_https_against_real_lxd() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let lxd = RealLxd::start(&tmp.path().join("lxd"));
    lxd.admin(&["storage", "create", "default", "dir"]);
    lxd.admin(&[
        "profile",
        "device",
        "add",
        "default",
        "root",
        "disk",
        "path=/",
        "pool=default",
    ]);
    let image = busybox_image(tmp.path());
    lxd.admin(&[
        "image",
        "import",
        image.to_str().unwrap(),
        "--alias",
        "bb",
        "--public",
    ]);
    lxd.admin(&["launch", "bb", "c1"]);

    // A token made by the real `lxc config trust add`, with its fingerprint altered: refused.
    let token = lxd.admin(&["config", "trust", "add", "--name", "tok"]);
    let token = token.lines().last().unwrap().trim().to_string();
    let ours = Conf::new(tmp.path(), "ours");
    let json = String::from_utf8(base64_decode(&token)).unwrap();
    let server_fp = fingerprint_of(&lxd.dir.join("server.crt"));
    assert!(json.contains(&server_fp));
    let forged = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(json.replace(&server_fp, "00"))
    };
    let out = ours.ours(&["remote", "add", "rt", &forged], "");
    assert_eq!(
        text(&out.stderr).lines().last().unwrap_or_default(),
        format!(
            "Error: Certificate fingerprint mismatch between certificate token and server \"{}\"",
            lxd.url()
        )
    );

    // The real token works and trusts our client certificate.
    std::fs::remove_dir_all(ours.dir.join("servercerts")).ok();
    let out = ours.ours(&["remote", "add", "rt", &token], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(ours.file("config.yml").contains(&format!(
        "  rt:\n    addr: {}\n    project: default\n    protocol: lxd\n    public: false\n",
        lxd.url()
    )));
    let trusted = lxd.admin(&["config", "trust", "list", "--format", "csv"]);
    assert!(trusted.contains("tok"), "{trusted}");

    // Instances over HTTPS: list, info, exec (websockets over TLS), files, config.
    let list = ours.ours_ok(&["list", "rt:", "--format", "csv", "-c", "ns"]);
    assert_eq!(list, "c1,RUNNING\n");
    let out = ours.ours(
        &[
            "exec",
            "rt:c1",
            "--",
            "sh",
            "-c",
            "cat; echo out; echo err >&2; exit 7",
        ],
        "from-stdin\n",
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(text(&out.stdout), "from-stdin\nout\n");
    assert_eq!(text(&out.stderr), "err\n");
    let info = ours.ours_ok(&["info", "rt:c1"]);
    assert!(info.starts_with("Name: c1\nStatus: RUNNING\n"), "{info}");
    let local = tmp.path().join("payload");
    std::fs::write(&local, "over tls\n").unwrap();
    ours.ours_ok(&["file", "push", local.to_str().unwrap(), "rt:c1/tmp/payload"]);
    assert_eq!(
        ours.ours_ok(&["file", "pull", "rt:c1/tmp/payload", "-"]),
        "over tls\n"
    );
    ours.ours_ok(&["config", "set", "rt:c1", "user.remote", "yes"]);
    assert_eq!(
        ours.ours_ok(&["config", "get", "rt:c1", "user.remote"]),
        "yes\n"
    );
    assert_eq!(lxd.admin(&["config", "get", "c1", "user.remote"]), "yes\n");

    // A public remote works without trust: only public images are listed.
    let public = Conf::new(tmp.path(), "public");
    let out = public.ours(
        &[
            "remote",
            "add",
            "pub",
            &lxd.url(),
            "--public",
            "--accept-certificate",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!public.dir.join("client.crt").exists());
    let images = public.ours_ok(&["image", "list", "pub:", "--format", "csv", "-c", "l"]);
    assert_eq!(images, "bb\n");
    let out = public.ours(&["list", "pub:"], "");
    assert_eq!(
        text(&out.stderr),
        "Error: The remote isn't a private LXD server\n"
    );

    lxd.admin(&["delete", "--force", "c1"]);
}

/// A unified busybox image whose init sleeps.
fn busybox_image(dir: &Path) -> PathBuf {
    let root = dir.join("img/rootfs");
    for d in [
        "bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "root", "run",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep", "cat", "echo", "mount"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::os::unix::fs::symlink("../bin/busybox", root.join("sbin/init")).unwrap();
    std::fs::write(root.join("etc/inittab"), "::respawn:/bin/sleep 1000000\n").unwrap();
    std::fs::write(
        dir.join("img/metadata.yaml"),
        "architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: BusyBox\n",
    )
    .unwrap();
    let out = dir.join("bb.tar.gz");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(dir.join("img"))
        .arg("-czf")
        .arg(&out)
        .args(["metadata.yaml", "rootfs"])
        .status()
        .unwrap();
    assert!(ok.success());
    out
}
