//! Instance migration between servers, wire-compatible with LXD 5.0.2 so either end may be
//! the real LXD.
//!
//! A source (`POST /1.0/instances/<name>` with `migration: true`) and a target (`POST
//! /1.0/instances` with a `migration` source) meet on two websockets: `control` carries
//! protobuf messages ([`proto`]: the offer, the answer, and each side's final
//! `MigrationControl`), `fs` carries the data ([`conn`]: streams ended by empty text frames).
//! In pull mode the target dials the source's operation, in push mode the source dials the
//! target's ([`dial`]), in relay mode a client joins two websocket operations.
//!
//! [`types`] negotiates the method (btrfs send streams between two btrfs pools, else rsync
//! through `lxd netcat`, [`rsync`]); [`transfer`] moves the volume and its snapshots;
//! [`source`] and [`sink`] run each side's conversation. A live migration adds a third
//! websocket, `criu`, which carries the running container's CRIU checkpoint (rsync, as LXD
//! sends it) between the volume's transfer and its final sync; the target restores from it.

pub mod conn;
pub mod dial;
pub mod index;
pub mod progress;
pub mod proto;
pub mod records;
pub mod rsync;
pub mod sink;
pub mod source;
pub mod transfer;
pub mod types;

use std::collections::BTreeMap;
use std::time::Duration;

use conn::Conn;

use crate::operations::Op;

/// How long either side waits for its peer to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The sockets of one migration.
pub struct Sockets {
    pub control: Conn,
    pub fs: Conn,
    /// Only in a live migration.
    pub criu: Option<Conn>,
}

impl Sockets {
    /// Close every socket.
    pub fn close(&mut self) {
        self.control.close();
        self.fs.close();
        if let Some(criu) = self.criu.as_mut() {
            criu.close();
        }
    }
}

/// A random secret as LXD makes them (64 hex digits).
pub fn secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The secrets of a websocket migration operation, by channel (`control`, `fs`, and `criu`
/// for a live one).
pub fn new_secrets(live: bool) -> BTreeMap<String, String> {
    let channels: &[&str] = if live {
        &["control", "fs", "criu"]
    } else {
        &["control", "fs"]
    };
    channels.iter().map(|n| (n.to_string(), secret())).collect()
}

/// The secrets as the operation's metadata (LXD puts them at its top level).
pub fn secrets_metadata(
    secrets: &BTreeMap<String, String>,
) -> serde_json::Map<String, serde_json::Value> {
    secrets
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect()
}

/// Wait until the peer has connected the websockets of `op` (`criu` too when `live`).
pub async fn accept(op: &Op, live: bool) -> Result<Sockets, String> {
    let mut incoming = op.take_sockets().ok_or("Migration sockets already taken")?;
    let (mut control, mut fs, mut criu) = (None, None, None);
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    while control.is_none() || fs.is_none() || (live && criu.is_none()) {
        let next = tokio::time::timeout_at(deadline, incoming.recv())
            .await
            .map_err(|_| "Timed out waiting for migration connections".to_string())?;
        let Some(socket) = next else {
            return Err("Timed out waiting for migration connections".into());
        };
        let conn = Conn::from_server(socket.socket);
        match socket.fd.as_str() {
            "control" => control = Some(conn),
            "fs" => fs = Some(conn),
            "criu" => criu = Some(conn),
            _ => {}
        }
    }
    match (control, fs) {
        (Some(control), Some(fs)) => Ok(Sockets { control, fs, criu }),
        _ => Err("Timed out waiting for migration connections".into()),
    }
}

/// Dial the peer operation's websockets (`control` first, then `fs`, then `criu` when the
/// peer offers it).
pub async fn connect(
    operation: &str,
    secrets: &BTreeMap<String, String>,
    certificate: &str,
) -> Result<Sockets, String> {
    let secret_of = |name: &str| {
        secrets
            .get(name)
            .cloned()
            .ok_or_else(|| format!("Missing {name} secret"))
    };
    let control = dial::dial(operation, &secret_of("control")?, certificate).await?;
    let fs = dial::dial(operation, &secret_of("fs")?, certificate).await?;
    let criu = match secrets.get("criu") {
        Some(secret) => Some(dial::dial(operation, secret, certificate).await?),
        None => None,
    };
    Ok(Sockets { control, fs, criu })
}

/// A new directory for a CRIU checkpoint, below `LXD_DIR/migration` (`lxd_checkpoint_...`
/// on the source, `lxd_restore_...` on the target, as LXD names its temporary ones).
pub fn checkpoint_dir(paths: &crate::paths::Paths, prefix: &str) -> std::path::PathBuf {
    paths
        .var
        .join("migration")
        .join(format!("{prefix}{}", uuid::Uuid::new_v4().simple()))
}

/// Start `name` from the CRIU checkpoint in `dir`: on the target after a live migration, or
/// back on the source after one that failed past the dump.
pub async fn restore_instance(
    state: &crate::state::AppState,
    project: &str,
    name: &str,
    dir: &std::path::Path,
) -> Result<(), String> {
    let inst =
        crate::handlers::instances::store::load(state, project, name).map_err(|e| e.to_string())?;
    crate::handlers::instances::state::start_from(state, &inst, Some(dir.to_path_buf())).await
}

/// Whether CRIU is installed (LXD looks it up on `PATH`).
pub fn criu_installed() -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("criu").is_file()))
        .unwrap_or(false)
}
