//! Process tier: the real `lxd` binary serving HTTPS on `core.https_address` (127.0.0.1 and a
//! free port). An untrusted caller (curl without a client certificate) gets the untrusted
//! `GET /1.0` and 403 elsewhere; the real `lxc` 5.0.2 is refused with a wrong trust password,
//! admitted with the right one and with a join token made by `lxc config trust add`; unsetting
//! the address closes the port. A private image is hidden from an untrusted caller until it
//! passes a download token (`POST /1.0/images/<fp>/secret`). A push mode image copy between
//! two daemons: the target's token, the source's upload, the token's settings applied, and
//! a forged token refused. Parts needing curl or the real lxc are skipped with a printed
//! reason when those programs are missing.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use lxd_daemon::cmd::local::request;

mod support;

const LXD: &str = env!("CARGO_BIN_EXE_lxd");
const REAL_LXC: &str = "/usr/bin/lxc";

struct Daemon {
    child: Child,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

fn start(dir: &Path) -> Daemon {
    let child = Command::new(LXD)
        .args(["--group", "root", "--logfile"])
        .arg(dir.join("lxd.log"))
        .env("LXD_DIR", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lxd");
    let daemon = Daemon { child };
    let status = Command::new(LXD)
        .args(["waitready", "--timeout", "20"])
        .env("LXD_DIR", dir)
        .status()
        .unwrap();
    assert!(status.success(), "lxd waitready failed");
    daemon
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn patch_config(dir: &Path, config: serde_json::Value) {
    let body = serde_json::json!({ "config": config });
    rt().block_on(request(
        &dir.join("unix.socket"),
        "PATCH",
        "/1.0",
        Some(&body),
    ))
    .unwrap();
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn curl(args: &[&str]) -> Output {
    Command::new("curl").args(args).output().unwrap()
}

/// The real lxc with its own config dir, talking to our daemon's socket as `local`.
fn lxc(conf: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(REAL_LXC)
        .args(args)
        .env("LXD_CONF", conf)
        .env("LXD_DIR", dir)
        .env("HOME", conf)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn https_untrusted_password_token_and_live_unset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lxd");
    std::fs::create_dir(&dir).unwrap();
    let _daemon = start(&dir);

    // The server certificate exists from the first start, as LXD lays it out.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode("server.crt"), mode("server.key")), (0o644, 0o600));
    let key = std::fs::read_to_string(dir.join("server.key")).unwrap();
    assert!(key.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));

    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    patch_config(
        &dir,
        serde_json::json!({"core.https_address": address, "core.trust_password": "foo"}),
    );
    let base = format!("https://{address}");

    if have("curl") {
        let out = curl(&["-sk", &format!("{base}/1.0")]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON from /1.0");
        assert_eq!(v["metadata"]["auth"], "untrusted");
        assert!(v["metadata"].get("environment").is_none());
        assert!(v["metadata"].get("config").is_none());
        let out = curl(&[
            "-sk",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{base}/1.0/instances"),
        ]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
    } else {
        println!("skipping the curl checks: curl is not installed");
    }

    if have(REAL_LXC) {
        let conf = tmp.path().join("conf-password");
        let o = lxc(
            &conf,
            &dir,
            &[
                "remote",
                "add",
                "x",
                &base,
                "--accept-certificate",
                "--password",
                "wrong",
            ],
        );
        assert!(!o.status.success(), "wrong password accepted: {}", text(&o));
        let _ = lxc(&conf, &dir, &["remote", "remove", "x"]);
        let o = lxc(
            &conf,
            &dir,
            &[
                "remote",
                "add",
                "x",
                &base,
                "--accept-certificate",
                "--password",
                "foo",
            ],
        );
        assert!(o.status.success(), "remote add: {}", text(&o));
        let o = lxc(&conf, &dir, &["list", "x:", "--format", "csv"]);
        assert!(o.status.success(), "list x: {}", text(&o));
        let o = lxc(&conf, &dir, &["config", "trust", "list", "--format", "csv"]);
        assert!(o.status.success(), "trust list: {}", text(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);

        // A join token made by `lxc config trust add` admits a second client.
        let o = lxc(
            &conf,
            &dir,
            &["config", "trust", "add", "--name", "joiner", "-q"],
        );
        assert!(o.status.success(), "trust add: {}", text(&o));
        let token = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let conf2 = tmp.path().join("conf-token");
        let o = lxc(&conf2, &dir, &["remote", "add", "y", &token]);
        assert!(o.status.success(), "remote add with token: {}", text(&o));
        let o = lxc(&conf2, &dir, &["list", "y:", "--format", "csv"]);
        assert!(o.status.success(), "list y: {}", text(&o));
        let o = lxc(&conf, &dir, &["config", "trust", "list", "--format", "csv"]);
        assert!(String::from_utf8_lossy(&o.stdout).contains(",joiner,"));
        // The token was used up.
        let conf3 = tmp.path().join("conf-reuse");
        let o = lxc(&conf3, &dir, &["remote", "add", "z", &token]);
        assert!(!o.status.success(), "a used token was accepted again");
    } else {
        println!("skipping the lxc 5.0.2 checks: {REAL_LXC} is not installed");
    }

    // Unsetting the address closes the port at once.
    assert!(std::net::TcpStream::connect(&address).is_ok());
    patch_config(&dir, serde_json::json!({"core.https_address": ""}));
    assert!(
        std::net::TcpStream::connect(&address).is_err(),
        "port still open after unsetting core.https_address"
    );
}

fn socket_json(
    dir: &Path,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    rt().block_on(request(
        &dir.join("unix.socket"),
        method,
        path,
        body.as_ref(),
    ))
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// The support module's busybox image, written to `dir`; its path.
fn image_file(dir: &Path) -> std::path::PathBuf {
    support::busybox_image(dir);
    dir.join("bb.tar.gz")
}

#[test]
fn private_image_by_download_token() {
    if !have("curl") {
        println!("skipping: curl is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lxd");
    std::fs::create_dir(&dir).unwrap();
    let _daemon = start(&dir);
    let address = format!("127.0.0.1:{}", free_port());
    patch_config(&dir, serde_json::json!({"core.https_address": address}));
    let base = format!("https://{address}");

    // A private image, uploaded over the socket.
    let fp = upload(&dir, &image_file(tmp.path()));

    let status = |url: &str| {
        let out = curl(&["-sk", "-o", "/dev/null", "-w", "%{http_code}", url]);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let record = format!("{base}/1.0/images/{fp}");
    let export = format!("{base}/1.0/images/{fp}/export");
    assert_eq!(
        status(&record),
        "404",
        "a private image shown to an untrusted caller"
    );
    assert_eq!(status(&format!("{record}?secret=guess")), "404");

    // A token: a `token` operation with a secret, naming the image.
    let token = socket_json(&dir, "POST", &format!("/1.0/images/{fp}/secret"), None);
    assert_eq!(token["class"], "token", "{token}");
    assert_eq!(token["description"], "Image download token");
    assert_eq!(token["resources"]["images"][0], format!("/1.0/images/{fp}"));
    let secret = token["metadata"]["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64);

    // With it, the record and then the file (as LXD's client fetches them, one after the other).
    let out = curl(&["-sk", &format!("{record}?secret={secret}")]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["metadata"]["fingerprint"], fp.as_str(), "{v}");
    assert_eq!(v["metadata"]["public"], false);
    let file = tmp.path().join("export");
    let out = curl(&[
        "-sk",
        "-o",
        file.to_str().unwrap(),
        "-w",
        "%{http_code}",
        &format!("{export}?secret={secret}"),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()));
    assert_eq!(digest, fp, "the exported file is not the image");

    // The first use cancelled the token.
    let id = token["id"].as_str().unwrap();
    let op = socket_json(&dir, "GET", &format!("/1.0/operations/{id}"), None);
    assert_eq!(op["status"], "Cancelled", "{op}");
    // A forged secret does not open it.
    assert_eq!(status(&format!("{export}?secret={secret}0")), "404");
}

/// Upload `image` over `dir`'s socket and return its fingerprint.
fn upload(dir: &Path, image: &Path) -> String {
    let out = curl(&[
        "-s",
        "--unix-socket",
        dir.join("unix.socket").to_str().unwrap(),
        "-X",
        "POST",
        "--data-binary",
        &format!("@{}", image.display()),
        "http://lxd/1.0/images",
    ]);
    let op: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = op["metadata"]["id"].as_str().unwrap();
    let done = socket_json(
        dir,
        "GET",
        &format!("/1.0/operations/{id}/wait?timeout=30"),
        None,
    );
    assert_eq!(done["status"], "Success", "{done}");
    done["metadata"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn push_mode_image_copy_between_daemons() {
    if !have("curl") {
        println!("skipping: curl is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&dst).unwrap();
    let _a = start(&src);
    let _b = start(&dst);
    let target = format!("127.0.0.1:{}", free_port());
    patch_config(&dst, serde_json::json!({"core.https_address": target}));
    let certificate = std::fs::read_to_string(dst.join("server.crt")).unwrap();
    let fp = upload(&src, &image_file(tmp.path()));

    // A token on the target, as `lxc image copy --mode push` asks for it.
    let token = socket_json(
        &dst,
        "POST",
        "/1.0/images",
        Some(serde_json::json!({
            "source": {"fingerprint": fp, "mode": "push"},
            "aliases": [{"name": "pushed", "description": "by push"}],
            "properties": {"os": "Pushed"},
            "public": true,
        })),
    );
    assert_eq!(token["class"], "token", "{token}");
    let secret = token["metadata"]["secret"].as_str().unwrap().to_string();
    assert_eq!(token["metadata"]["properties"]["os"], "Pushed");

    let export = |secret: &str| {
        let op = socket_json(
            &src,
            "POST",
            &format!("/1.0/images/{fp}/export"),
            Some(serde_json::json!({
                "target": format!("https://{target}"),
                "certificate": certificate,
                "secret": secret,
                "project": "default",
            })),
        );
        let id = op["id"].as_str().unwrap().to_string();
        socket_json(
            &src,
            "GET",
            &format!("/1.0/operations/{id}/wait?timeout=60"),
            None,
        )
    };
    // A forged token is refused by the target and nothing is recorded there.
    let done = export("forged");
    assert_eq!(done["status"], "Failure", "{done}");
    assert!(
        done["err"].as_str().unwrap().contains("not authorized"),
        "{done}"
    );
    let images = socket_json(&dst, "GET", "/1.0/images", None);
    assert_eq!(images.as_array().unwrap().len(), 0, "{images}");

    let done = export(&secret);
    assert_eq!(done["status"], "Success", "{done}");
    let image = socket_json(&dst, "GET", &format!("/1.0/images/{fp}"), None);
    assert_eq!(image["fingerprint"], fp.as_str());
    assert_eq!(image["public"], true, "{image}");
    assert_eq!(image["properties"]["os"], "Pushed", "{image}");
    assert_eq!(image["aliases"][0]["name"], "pushed", "{image}");
    // The token was used up.
    let id = token["id"].as_str().unwrap();
    let op = socket_json(&dst, "GET", &format!("/1.0/operations/{id}"), None);
    assert_eq!(op["status"], "Cancelled", "{op}");
}
