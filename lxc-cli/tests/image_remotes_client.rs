//! System tier (root): the client side of image remotes. A simplestreams tree written by
//! `lxd-simplestreams` is served over HTTPS on 127.0.0.1 with a self-signed certificate
//! trusted through `SSL_CERT_FILE`; our `lxc` and the real `lxc` 5.0.2 (when installed) list
//! it, show image info, YAML and aliases, and the outputs must be identical. Our `lxc` then
//! copies from it into our daemon (pull with `--alias`, `--copy-aliases`, `--auto-update`, and
//! relay), exports from it (the same files as the real lxc writes), and copies between two of our daemons over the LXD protocol: a public image pulled
//! by the destination, a private one relayed by the client (both directions). Needs `lxd` and `lxd-simplestreams` built next to `lxc`
//! (`cargo build --release --workspace --bins`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const OURS: &str = env!("CARGO_BIN_EXE_lxc");
const REAL_LXC: &str = "/usr/bin/lxc";
const RANGE_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../lxd-daemon/tests/fixtures/https_range_server.py"
);

/// A sibling binary of our `lxc` (same target directory).
fn sibling(name: &str) -> PathBuf {
    let path = Path::new(OURS).with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release --workspace --bins` first",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command) -> String {
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
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A unified busybox image tarball `dir/name.tar.gz`.
fn busybox_image(dir: &Path, name: &str, created: i64) -> PathBuf {
    let d = dir.join(name);
    let root = d.join("rootfs");
    for sub in ["bin", "sbin", "etc", "dev", "proc", "sys", "tmp"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    std::os::unix::fs::symlink("../bin/busybox", root.join("sbin/init")).unwrap();
    std::fs::write(
        d.join("metadata.yaml"),
        format!(
            "architecture: x86_64\ncreation_date: {created}\nproperties:\n  description: BusyBox {name}\n  os: BusyBox\n  release: \"{name}\"\n"
        ),
    )
    .unwrap();
    let out = dir.join(format!("{name}.tar.gz"));
    run(Command::new("tar")
        .arg("-C")
        .arg(&d)
        .arg("-czf")
        .arg(&out)
        .args(["metadata.yaml", "rootfs"]));
    out
}

/// The tree, its HTTPS server and the CA bundle trusting it.
struct Tree {
    url: String,
    ca: PathBuf,
    fingerprints: Vec<String>,
    _server: Killed,
}

fn serve_tree(work: &Path) -> Tree {
    let (key, cert) = (work.join("ss.key"), work.join("ss.crt"));
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
    let ca = work.join("ca.pem");
    std::fs::write(&ca, bundle).unwrap();
    let tree = work.join("tree");
    let tool = sibling("lxd-simplestreams");
    let mut fingerprints = Vec::new();
    for (name, created, aliases) in [
        (
            "one",
            1_700_000_000,
            ["--alias", "bb-one", "--alias", "bb/one"],
        ),
        (
            "two",
            1_700_000_500,
            ["--alias", "bb-two", "--alias", "bb/two"],
        ),
    ] {
        let image = busybox_image(work, name, created);
        let out = run(Command::new(&tool)
            .arg("--dir")
            .arg(&tree)
            .arg("add")
            .arg(&image)
            .args(aliases)
            .args(["--product-name", &format!("busybox:{name}")]));
        fingerprints.push(out.trim().rsplit(' ').next().unwrap().to_string());
    }
    let port = free_port();
    let server = Command::new("python3")
        .arg(RANGE_SERVER)
        .arg(&tree)
        .arg(port.to_string())
        .arg(&cert)
        .arg(&key)
        .arg(work.join("requests.log"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Killed(server);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Tree {
        url: format!("https://127.0.0.1:{port}"),
        ca,
        fingerprints,
        _server: server,
    }
}

/// One `lxc` binary with its own config directory, `LXD_DIR` and CA bundle.
struct Lxc {
    bin: PathBuf,
    conf: PathBuf,
    lxd_dir: PathBuf,
    ca: PathBuf,
}

impl Lxc {
    fn output(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env("LXD_CONF", &self.conf)
            .env("LXD_DIR", &self.lxd_dir)
            .env("SSL_CERT_FILE", &self.ca)
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "{} {args:?}: {}{}",
            self.bin.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }
}

/// Our daemon on its own directory.
struct Daemon {
    dir: PathBuf,
    _child: Killed,
}

impl Daemon {
    fn start(dir: &Path, ca: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let lxd = sibling("lxd");
        let child = Command::new(&lxd)
            .args(["--group", "root", "--logfile"])
            .arg(dir.join("lxd.log"))
            .env("LXD_DIR", dir)
            .env("SSL_CERT_FILE", ca)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = Killed(child);
        let ready = Command::new(&lxd)
            .args(["waitready", "--timeout", "60"])
            .env("LXD_DIR", dir)
            .status()
            .unwrap();
        assert!(ready.success(), "our lxd did not start");
        Self {
            dir: dir.to_path_buf(),
            _child: child,
        }
    }
}

fn sorted_lines(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.join("\n")
}

fn real_lxc_available() -> bool {
    Path::new(REAL_LXC).exists()
}

#[test]
fn simplestreams_remote_listing_matches_real_lxc_and_copies_into_our_daemon() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let tree = serve_tree(work);
    let daemon = Daemon::start(&work.join("lxd"), &tree.ca);
    let ours = Lxc {
        bin: PathBuf::from(OURS),
        conf: work.join("conf-ours"),
        lxd_dir: daemon.dir.clone(),
        ca: tree.ca.clone(),
    };
    let real = Lxc {
        bin: PathBuf::from(REAL_LXC),
        conf: work.join("conf-real"),
        lxd_dir: daemon.dir.clone(),
        ca: tree.ca.clone(),
    };
    let add = [
        "remote",
        "add",
        "ss",
        &tree.url,
        "--protocol",
        "simplestreams",
    ];
    ours.ok(&add);

    let queries: &[&[&str]] = &[
        &["image", "list", "ss:", "--format", "csv"],
        &[
            "image",
            "list",
            "ss:",
            "--format",
            "csv",
            "-c",
            "lLfFpdastu",
        ],
        &["image", "list", "ss:"],
        &["image", "list", "ss:bb-two", "--format", "csv"],
        &["image", "list", "ss:", "release=one", "--format", "csv"],
        &["image", "list", "ss:", "--format", "json"],
        &["image", "list", "ss:", "--format", "yaml"],
        &["image", "info", "ss:bb-one"],
        &["image", "show", "ss:bb/two"],
        &["image", "alias", "list", "ss:", "--format", "csv"],
        &["image", "alias", "list", "ss:"],
    ];
    let listing = ours.ok(queries[0]);
    assert!(listing.contains("bb-one"), "{listing}");
    assert!(listing.contains(&tree.fingerprints[1][..12]), "{listing}");
    let info = ours.ok(&[
        "image",
        "info",
        &format!("ss:{}", &tree.fingerprints[0][..8]),
    ]);
    assert!(info.contains(&tree.fingerprints[0]), "{info}");
    let missing = ours.output(&["image", "info", "ss:nope"]);
    assert!(!missing.status.success());
    if real_lxc_available() {
        real.ok(&add);
        for query in queries {
            let (mut a, mut b) = (ours.ok(query), real.ok(query));
            if query[1] == "info" {
                // The real lxc prints the properties in Go's random map order.
                (a, b) = (sorted_lines(&a), sorted_lines(&b));
            }
            assert_eq!(a, b, "lxc {query:?}");
        }
        let (a, b) = (
            ours.output(&["image", "info", "ss:nope"]),
            real.output(&["image", "info", "ss:nope"]),
        );
        assert_eq!(
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&b.stderr)
        );
    } else {
        eprintln!("SKIP comparison: the real lxc 5.0.2 is not installed");
    }

    // Export from the simplestreams remote: the client downloads the files itself, named as
    // the real lxc names them, with the same bytes.
    let exported = |lxc: &Lxc, name: &str| {
        let dir = work.join(name);
        std::fs::create_dir(&dir).unwrap();
        let out = lxc.ok(&["image", "export", "ss:bb-one", dir.to_str().unwrap()]);
        assert!(out.contains("Image exported successfully!"), "{out}");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().to_string(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let ours_files = exported(&ours, "export-ours");
    assert!(!ours_files.is_empty() && ours_files.iter().all(|(_, b)| !b.is_empty()));
    if real_lxc_available() {
        assert!(
            ours_files == exported(&real, "export-real"),
            "exports differ"
        );
    }

    // Pull by alias with a new alias and auto-update: the daemon downloads.
    let out = ours.ok(&[
        "image",
        "copy",
        "ss:bb-one",
        "local:",
        "--alias",
        "mine",
        "--auto-update",
    ]);
    assert!(out.contains("Image copied successfully!"), "{out}");
    let images = ours.json(&["image", "list", "--format", "json"]);
    let one = images
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["fingerprint"] == tree.fingerprints[0].as_str())
        .unwrap_or_else(|| panic!("bb-one not copied: {images}"));
    assert_eq!(one["auto_update"], true, "{one}");
    assert_eq!(one["aliases"][0]["name"], "mine", "{one}");
    // --copy-aliases adds the source's aliases.
    ours.ok(&["image", "copy", "ss:bb-one", "local:", "--copy-aliases"]);
    let aliases = ours.json(&["image", "alias", "list", "--format", "json"]);
    let names: Vec<&str> = aliases
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"bb-one") && names.contains(&"mine"),
        "{names:?}"
    );
    // Relay: the client downloads and uploads; the fingerprint is kept.
    let out = ours.ok(&[
        "image",
        "copy",
        "ss:bb-two",
        "local:",
        "--mode",
        "relay",
        "--public",
    ]);
    assert!(out.contains("Image copied successfully!"), "{out}");
    let two = ours.json(&["image", "list", &tree.fingerprints[1], "--format", "json"]);
    assert_eq!(
        two[0]["fingerprint"],
        tree.fingerprints[1].as_str(),
        "{two}"
    );
    assert_eq!(two[0]["public"], true, "{two}");
    // Relay refuses auto-update, as lxc does.
    let refused = ours.output(&[
        "image",
        "copy",
        "ss:bb-two",
        "local:",
        "--mode",
        "relay",
        "--auto-update",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "Error: Auto update is only available in pull mode\n"
    );
}

#[test]
fn image_copy_between_two_of_our_daemons_public_and_private() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let ca = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
    let a = Daemon::start(&work.join("a"), &ca);
    let b = Daemon::start(&work.join("b"), &ca);
    let on = |d: &Daemon, conf: &str| Lxc {
        bin: PathBuf::from(OURS),
        conf: work.join(conf),
        lxd_dir: d.dir.clone(),
        ca: ca.clone(),
    };
    let (lxc_a, lxc_b) = (on(&a, "conf-a"), on(&b, "conf-b"));
    let port = free_port();
    lxc_b.ok(&[
        "config",
        "set",
        "core.https_address",
        &format!("127.0.0.1:{port}"),
    ]);
    lxc_b.ok(&["config", "set", "core.trust_password", "ssclient-pw"]);
    let public = busybox_image(work, "pub", 1_700_000_000);
    let private = busybox_image(work, "priv", 1_700_000_100);
    let public_out = lxc_b.ok(&[
        "image",
        "import",
        public.to_str().unwrap(),
        "--alias",
        "bb-pub",
        "--public",
    ]);
    lxc_b.ok(&[
        "image",
        "import",
        private.to_str().unwrap(),
        "--alias",
        "bb-priv",
    ]);
    assert!(public_out.contains("Image imported"), "{public_out}");
    let fingerprint_of = |alias: &str| {
        let list = lxc_b.json(&["image", "list", alias, "--format", "json"]);
        list[0]["fingerprint"].as_str().unwrap().to_string()
    };
    let (pub_fp, priv_fp) = (fingerprint_of("bb-pub"), fingerprint_of("bb-priv"));
    lxc_a.ok(&[
        "remote",
        "add",
        "b",
        &format!("https://127.0.0.1:{port}"),
        "--accept-certificate",
        "--password",
        "ssclient-pw",
    ]);
    // Public, by alias, pulled by daemon A, aliases copied.
    let out = lxc_a.ok(&["image", "copy", "b:bb-pub", "local:", "--copy-aliases"]);
    assert!(out.contains("Image copied successfully!"), "{out}");
    // Private, relayed by the client (pull would need the source's image secret, which our
    // daemon does not hand out yet), under a new alias.
    let out = lxc_a.ok(&[
        "image",
        "copy",
        "b:bb-priv",
        "local:",
        "--mode",
        "relay",
        "--alias",
        "got-priv",
    ]);
    assert!(out.contains("Image copied successfully!"), "{out}");
    let images = lxc_a.json(&["image", "list", "--format", "json"]);
    let find = |fp: &str| {
        images
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["fingerprint"] == fp)
            .cloned()
            .unwrap_or_else(|| panic!("{fp} not on A: {images}"))
    };
    assert_eq!(find(&pub_fp)["aliases"][0]["name"], "bb-pub");
    assert_eq!(find(&priv_fp)["aliases"][0]["name"], "got-priv");
    assert_eq!(find(&priv_fp)["public"], false);
    // The same server refuses.
    let same = lxc_a.output(&["image", "copy", "bb-pub", "local:"]);
    assert_eq!(
        String::from_utf8_lossy(&same.stderr),
        "Error: The source and target servers must be different\n"
    );

    // Relay the other way, from the local daemon to the HTTPS remote.
    lxc_b.ok(&["image", "delete", "bb-priv"]);
    let out = lxc_a.ok(&[
        "image", "copy", "got-priv", "b:", "--mode", "relay", "--alias", "back",
    ]);
    assert!(out.contains("Image copied successfully!"), "{out}");
    let back = lxc_b.json(&["image", "list", "back", "--format", "json"]);
    assert_eq!(back[0]["fingerprint"], priv_fp.as_str(), "{back}");
}
