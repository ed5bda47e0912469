//! `lxc remote add [<remote>] <IP|FQDN|URL|token>` as lxc 5.0.2 runs it: the address
//! normalised (`remote_address.rs`), simplestreams remotes saved without
//! contact, the client certificate generated when missing, the server certificate fetched and
//! confirmed by fingerprint (or `--accept-certificate`) and pinned in `servercerts/`, then
//! trust asked with a password or token (`POST /1.0/certificates`), and the remote's project
//! chosen. A join token as the address tries the token's addresses and checks the server's
//! fingerprint against the token's.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use lxd_api::certificate::{CertificateAddToken, CertificatePut, CertificatesPost};
use lxd_client::client_cert::{certificate_fingerprint, generate_client_certificate, pem_encode};
use lxd_client::trust::{decode_certificate_token, fetch_server_certificate};
use lxd_client::Client;
use serde_json::Value;

use crate::config_file::Remote;
use crate::global::Ctx;
use crate::prompt::{ask_choice, ask_password, print_flush, read_stdin_line};
use crate::remote_address::{normalise_address, parse_address};

/// Flags of `lxc remote add`.
#[derive(Debug, Default, clap::Args)]
pub struct RemoteAddFlags {
    /// Accept certificate
    #[arg(long)]
    pub accept_certificate: bool,
    /// Remote admin password
    #[arg(long, value_name = "")]
    pub password: Option<String>,
    /// Server protocol (lxd or simplestreams)
    #[arg(long, value_name = "")]
    pub protocol: Option<String>,
    /// Server authentication type (tls or candid)
    #[arg(long, value_name = "")]
    pub auth_type: Option<String>,
    /// Public image server
    #[arg(long)]
    pub public: bool,
    /// Candid domain to use
    #[arg(long, value_name = "")]
    pub domain: Option<String>,
    /// `--project`: lxc's own flag here, parsed as the global one (taken out of the global
    /// flags so it does not also scope the requests of `remote add`).
    #[arg(skip)]
    pub project: Option<String>,
}

/// `lxc remote add NAME ADDR` with `flags`.
pub async fn add_remote(
    ctx: &mut Ctx,
    server: &str,
    addr: &str,
    flags: RemoteAddFlags,
) -> Result<()> {
    if server.contains(':') {
        bail!("Remote names may not contain colons");
    }
    if let Some(existing) = ctx.conf.remotes.get(server) {
        bail!("Remote {server} exists as <{}>", existing.addr);
    }
    let protocol = flags
        .protocol
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "lxd".into());
    let auth_type = flags.auth_type.clone().unwrap_or_default();
    if auth_type == "candid" {
        bail!("Candid authentication is not supported by this client");
    }
    if let Ok(token) = decode_certificate_token(addr) {
        return add_from_token(ctx, server, addr, &token, &protocol, &flags).await;
    }
    let parsed = parse_address(addr);
    if protocol == "simplestreams" {
        if parsed.scheme.as_deref() != Some("https") {
            bail!("Only https URLs are supported for simplestreams");
        }
        let remote = Remote {
            addr: addr.to_string(),
            public: true,
            protocol,
            ..Remote::default()
        };
        ctx.conf.remotes.insert(server.to_string(), remote);
        return ctx.save_conf();
    } else if protocol != "lxd" {
        bail!("Invalid protocol: {protocol}");
    }
    let addr = normalise_address(addr, &parsed)?;
    let unix = addr.starts_with("unix:");
    if !unix && !flags.public && (auth_type == "tls" || auth_type.is_empty()) {
        ensure_client_certificate(ctx)?;
    }
    let remote = Remote {
        addr: addr.clone(),
        protocol: protocol.clone(),
        auth_type: auth_type.clone(),
        domain: flags.domain.clone().unwrap_or_default(),
        ..Remote::default()
    };
    ctx.conf.remotes.insert(server.to_string(), remote);
    let mut connected = connect_as_added(ctx, server, flags.public).await;
    if unix {
        let client = connected?;
        let project = find_project(&client, flags.project.as_deref()).await?;
        let remote = ctx.conf.remotes.get_mut(server).expect("remote just added");
        remote.auth_type = "tls".into();
        remote.project = project;
        return ctx.save_conf();
    }
    if connected.is_err() {
        let cert = fetch_server_certificate(&addr).await?;
        let digest = certificate_fingerprint(cert.as_ref());
        if !flags.accept_certificate {
            println!("Certificate fingerprint: {digest}");
            print_flush("ok (y/n/[fingerprint])? ");
            let line = read_stdin_line()?;
            if line != digest {
                let first = line.chars().next().map(|c| c.to_ascii_lowercase());
                match first {
                    None | Some('n') => bail!("Server certificate NACKed by user"),
                    Some('y') => {}
                    Some(_) => bail!("Please type 'y', 'n' or the fingerprint:"),
                }
            }
        }
        save_server_certificate(ctx, server, cert.as_ref(), false)?;
        connected = connect_as_added(ctx, server, flags.public).await;
    }
    let client = connected?;
    if flags.public {
        return save_public(ctx, server, &addr);
    }
    let server_info = client.get_server().await?;
    let srv = server_info.0;
    let auth_type = if auth_type.is_empty() {
        if !srv.untrusted.public && srv.untrusted.auth_methods.iter().any(|m| m == "candid") {
            bail!("Candid authentication is not supported by this client");
        }
        ctx.conf
            .remotes
            .get_mut(server)
            .expect("remote just added")
            .auth_type = "tls".into();
        "tls".to_string()
    } else {
        auth_type
    };
    if !srv.untrusted.public && !srv.untrusted.auth_methods.contains(&auth_type) {
        bail!("Authentication type '{auth_type}' not supported by server");
    }
    if srv.untrusted.public {
        return save_public(ctx, server, &addr);
    }
    if srv.untrusted.auth != "trusted" {
        let password = match flags.password.clone() {
            Some(p) => p,
            None => ask_password(&format!("Admin password (or token) for {server}: "))?,
        };
        let post = CertificatesPost {
            put: CertificatePut {
                kind: "client".into(),
                ..CertificatePut::default()
            },
            password,
            token: false,
        };
        client.request_trust(&post).await?;
        let (srv, _) = client.get_server().await?;
        if srv.untrusted.auth != "trusted" {
            bail!("Server doesn't trust us after authentication");
        }
        println!("Client certificate now trusted by server: {server}");
    }
    let project = find_project(&client, flags.project.as_deref()).await?;
    ctx.conf
        .remotes
        .get_mut(server)
        .expect("remote just added")
        .project = project;
    ctx.save_conf()
}

/// Public remotes are saved with their address and `public: true` only.
fn save_public(ctx: &mut Ctx, server: &str, addr: &str) -> Result<()> {
    let remote = Remote {
        addr: addr.to_string(),
        public: true,
        ..Remote::default()
    };
    ctx.conf.remotes.insert(server.to_string(), remote);
    ctx.save_conf()
}

/// Connects to the remote being added: as an image server for `--public`, else as an
/// instance server (both check `GET /1.0`).
async fn connect_as_added(ctx: &Ctx, server: &str, public: bool) -> Result<Client> {
    if public {
        // Until saved, the remote is not marked public: connect as the Go client does for a
        // public LXD (no project, any trust).
        let remote = ctx.conf.remotes[server].clone();
        let client = crate::remote_connect::client_for(&ctx.conf, server, &remote)?;
        client.get_server_raw().await?;
        Ok(client)
    } else {
        ctx.connect(server).await
    }
}

/// `lxc remote add NAME TOKEN`: each address of the token in turn.
async fn add_from_token(
    ctx: &mut Ctx,
    server: &str,
    token_text: &str,
    token: &CertificateAddToken,
    protocol: &str,
    flags: &RemoteAddFlags,
) -> Result<()> {
    ensure_client_certificate(ctx)?;
    for address in &token.addresses {
        let addr = format!("https://{address}");
        match add_from_token_at(
            ctx,
            &addr,
            server,
            token_text,
            &token.fingerprint,
            protocol,
            flags,
        )
        .await
        {
            Err(TokenAttempt::Unavailable(_)) => continue,
            Err(TokenAttempt::Failed(e)) => return Err(e),
            Ok(()) => return Ok(()),
        }
    }
    println!("All server addresses are unavailable");
    print_flush("Please provide an alternate server address (empty to abort): ");
    let line = read_stdin_line()?;
    if line.is_empty() {
        bail!("Failed to add remote");
    }
    add_from_token_at(
        ctx,
        &line,
        server,
        token_text,
        &token.fingerprint,
        protocol,
        flags,
    )
    .await
    .map_err(|e| match e {
        TokenAttempt::Unavailable(e) | TokenAttempt::Failed(e) => e,
    })
}

/// Why one token address did not work: unreachable (try the next) or refused (stop).
enum TokenAttempt {
    Unavailable(anyhow::Error),
    Failed(anyhow::Error),
}

async fn add_from_token_at(
    ctx: &mut Ctx,
    addr: &str,
    server: &str,
    token_text: &str,
    fingerprint: &str,
    protocol: &str,
    flags: &RemoteAddFlags,
) -> std::result::Result<(), TokenAttempt> {
    let remote = Remote {
        addr: addr.to_string(),
        protocol: protocol.to_string(),
        auth_type: flags.auth_type.clone().unwrap_or_default(),
        domain: flags.domain.clone().unwrap_or_default(),
        ..Remote::default()
    };
    ctx.conf.remotes.insert(server.to_string(), remote);
    if ctx.connect(server).await.is_err() {
        let cert = fetch_server_certificate(addr)
            .await
            .map_err(|e| TokenAttempt::Unavailable(anyhow!("Unavailable remote server: {e}")))?;
        if certificate_fingerprint(cert.as_ref()) != fingerprint {
            return Err(TokenAttempt::Failed(anyhow!(
                "Certificate fingerprint mismatch between certificate token and server {addr:?}"
            )));
        }
        save_server_certificate(ctx, server, cert.as_ref(), true).map_err(TokenAttempt::Failed)?;
    }
    let client = ctx
        .connect(server)
        .await
        .map_err(|e| TokenAttempt::Unavailable(anyhow!("Unavailable remote server: {e}")))?;
    let post = CertificatesPost {
        password: token_text.to_string(),
        ..CertificatesPost::default()
    };
    client
        .request_trust(&post)
        .await
        .map_err(|e| TokenAttempt::Failed(anyhow!("Failed to create certificate: {e}")))?;
    let project = find_project(&client, flags.project.as_deref())
        .await
        .map_err(|e| TokenAttempt::Failed(anyhow!("Failed to find project: {e}")))?;
    ctx.conf
        .remotes
        .get_mut(server)
        .expect("remote just added")
        .project = project;
    ctx.save_conf().map_err(TokenAttempt::Failed)
}

/// Writes `servercerts/NAME.crt` (the directory made 0750 when missing).
fn save_server_certificate(ctx: &Ctx, server: &str, der: &[u8], token: bool) -> Result<()> {
    let dir = ctx.conf.config_path("servercerts");
    std::fs::create_dir_all(&dir).map_err(|_| anyhow!("Could not create server cert dir"))?;
    set_mode(&dir, 0o750);
    let path = ctx.conf.server_cert_path(server);
    std::fs::write(&path, pem_encode("CERTIFICATE", der)).map_err(|e| {
        let path = path.display();
        if token {
            anyhow!("Failed to create {path:?}: {e}")
        } else {
            anyhow!("Could not write server cert file {path:?}: {e}")
        }
    })
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

/// Generates `client.crt`/`client.key` when either is missing, saying so on stderr.
pub fn ensure_client_certificate(ctx: &Ctx) -> Result<()> {
    if ctx.conf.has_client_certificate() {
        return Ok(());
    }
    eprintln!("Generating a client certificate. This may take a minute...");
    let generated = generate_client_certificate(&format!("{}@{}", user_name(), host_name()))?;
    let cert_path = ctx.conf.config_path("client.crt");
    let key_path = ctx.conf.config_path("client.key");
    for dir in [cert_path.parent(), key_path.parent()]
        .into_iter()
        .flatten()
    {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir)?;
            set_mode(dir, 0o750);
        }
    }
    std::fs::write(&cert_path, generated.cert_pem)
        .map_err(|e| anyhow!("Failed to open {} for writing: {e}", cert_path.display()))?;
    let mut key = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&key_path)
        .map_err(|e| anyhow!("Failed to open {} for writing: {e}", key_path.display()))?;
    std::io::Write::write_all(&mut key, generated.key_pem.as_bytes())
        .map_err(|e| anyhow!("Failed to write key file: {e}"))
}

/// The user name of the current uid from /etc/passwd (Go's `user.Current`), `UNKNOWN` else.
fn user_name() -> String {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(String::from))
        });
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    uid.and_then(|uid| {
        passwd.lines().find_map(|l| {
            let fields: Vec<&str> = l.split(':').collect();
            (fields.len() > 2 && fields[2] == uid).then(|| fields[0].to_string())
        })
    })
    .filter(|n| !n.is_empty())
    .unwrap_or_else(|| "UNKNOWN".into())
}

/// The kernel's host name (Go's `os.Hostname`), `UNKNOWN` else.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "UNKNOWN".into())
}

/// The project a new remote uses (lxc's `findProject`): the one asked for (it must exist),
/// else the only one visible, else `default` (stored as empty) when visible, else a choice.
async fn find_project(client: &Client, wanted: Option<&str>) -> Result<String> {
    if let Some(project) = wanted.filter(|p| !p.is_empty()) {
        let path = format!(
            "/1.0/projects/{}",
            lxd_client::websocket::escape_path(project)
        );
        client.get_struct::<Value>(&path).await?;
        return Ok(project.to_string());
    }
    let (server, _) = client.get_server().await?;
    if !server
        .untrusted
        .api_extensions
        .iter()
        .any(|e| e == "projects")
    {
        return Ok(String::new());
    }
    let (urls, _) = client.get_struct::<Vec<String>>("/1.0/projects").await?;
    let names: Vec<String> = urls
        .iter()
        .filter_map(|u| u.rsplit('/').next())
        .map(|n| n.split('?').next().unwrap_or(n).to_string())
        .collect();
    match names.len() {
        0 => Ok(String::new()),
        1 => Ok(names[0].clone()),
        _ if names.iter().any(|n| n == "default") => Ok(String::new()),
        _ => {
            println!("Available projects:");
            for name in &names {
                println!(" - {name}");
            }
            ask_choice("Name of the project to use for this remote: ", &names, "")
        }
    }
}
