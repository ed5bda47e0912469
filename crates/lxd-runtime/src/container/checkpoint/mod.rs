//! Checkpoint and restore of a running container with CRIU, for live migration (what liblxc's
//! `migrate` does for LXD): [`dump`] writes the state of init's process tree into a directory
//! and ends it; the target's monitor rebuilds the tree from that directory with [`restore`]
//! instead of starting init.
//!
//! The console is the one thing of the host the container holds open: its pty slave is
//! recorded as an external tty (keyed by device numbers) and `/dev/console` as an external
//! bind mount, and the restore hands in a new pty for both. The root is given to CRIU as a
//! mount prepared here: the rootfs bound as it is, or for an unprivileged container mapped
//! through a throwaway user namespace with the container's id maps (an idmapped mount only
//! takes the map of the namespace it is given, so the one CRIU creates later need not exist
//! yet).

mod restore;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::process::{Command, Stdio};

use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

pub use restore::restore;

/// The program (looked up on `PATH`, as LXD does).
pub const CRIU: &str = "criu";

/// Our notes beside CRIU's image files.
const NOTES: &str = "lxd-checkpoint.json";

/// CRIU's logs, inside the images directory.
pub const DUMP_LOG: &str = "dump.log";
pub const RESTORE_LOG: &str = "restore.log";

/// What a restore needs to know about the dump besides CRIU's images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointNotes {
    /// The key CRIU recorded init's console under (`tty[RDEV:DEV]`, hexadecimal).
    pub console_key: String,
    /// Init's AppArmor label at the dump (without its mode), if it was confined.
    pub label: Option<String>,
}

/// Why a checkpoint or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("Failed to {action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// CRIU failed; `log` is the end of its log (its own error lines, where there are any).
    #[error("{action} failed: {log}")]
    Criu { action: &'static str, log: String },
}

fn io(action: &'static str) -> impl FnOnce(std::io::Error) -> CheckpointError {
    move |source| CheckpointError::Io { action, source }
}

/// CRIU's key for an external tty: `tty[RDEV:DEV]` in hexadecimal.
pub fn tty_key(rdev: u64, dev: u64) -> String {
    format!("tty[{rdev:x}:{dev:x}]")
}

/// The key of the console init holds as its standard input.
pub fn console_key(init: Pid) -> std::io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(format!("/proc/{init}/fd/0"))?;
    Ok(tty_key(meta.rdev(), meta.dev()))
}

/// A label as `/proc/PID/attr/current` shows it, without the mode; `None` when unconfined.
pub fn label_of(current: &str) -> Option<String> {
    let label = current.trim();
    let label = match label.rsplit_once(" (") {
        Some((name, mode)) if mode.ends_with(')') => name,
        _ => label,
    };
    (!label.is_empty() && label != "unconfined").then(|| label.to_string())
}

/// The options both directions share: external mounts found by path, file locks, unlinked
/// files, established TCP connections, and the cgroups handled softly (created where missing,
/// existing ones left as they are).
fn common_args() -> Vec<String> {
    [
        "--ext-mount-map",
        "auto",
        "--enable-external-sharing",
        "--enable-external-masters",
        "--file-locks",
        "--link-remap",
        "--tcp-established",
        "--manage-cgroups=soft",
        "-v4",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `criu dump` of init's tree into `dir`. The network is locked with nftables (through
/// libnftables, so no iptables programs are needed).
pub fn dump_args(init: Pid, dir: &Path, console_key: &str) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "dump".into(),
        "--tree".into(),
        init.to_string(),
        "--images-dir".into(),
        dir.display().to_string(),
        "--log-file".into(),
        DUMP_LOG.into(),
        "--external".into(),
        console_key.into(),
        "--external".into(),
        "mnt[/dev/console]:console".into(),
        "--network-lock".into(),
        "nftables".into(),
    ];
    args.extend(common_args());
    args
}

/// What a restore is given besides the images.
pub struct RestoreInputs<'a> {
    pub dir: &'a Path,
    pub root: &'a Path,
    pub console_key: &'a str,
    /// The new console's pty slave (CRIU's standard input, so `fd[0]`).
    pub console_path: &'a Path,
    /// The container's v2 cgroup, as a path below the hierarchy's root.
    pub cgroup: Option<&'a str>,
    /// `--lsm-profile` when init's label is to differ from the dumped one.
    pub lsm_profile: Option<&'a str>,
    /// The container's NICs: CRIU recreates each veth pair, the host end named as given.
    pub nics: &'a [super::spec::NicSpec],
    pub pidfile: &'a Path,
}

/// `criu restore` of the images in `dir`; the restored init becomes the caller's child
/// (`--restore-sibling`) and CRIU exits once it runs.
pub fn restore_args(inputs: &RestoreInputs<'_>) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "restore".into(),
        "--images-dir".into(),
        inputs.dir.display().to_string(),
        "--log-file".into(),
        RESTORE_LOG.into(),
        "--root".into(),
        inputs.root.display().to_string(),
        "--restore-detached".into(),
        "--restore-sibling".into(),
        "--pidfile".into(),
        inputs.pidfile.display().to_string(),
        "--inherit-fd".into(),
        format!("fd[0]:{}", inputs.console_key),
        "--external".into(),
        format!("mnt[console]:{}", inputs.console_path.display()),
    ];
    if let Some(cgroup) = inputs.cgroup {
        args.extend(["--cgroup-root".into(), cgroup.to_string()]);
    }
    if let Some(profile) = inputs.lsm_profile {
        args.extend(["--lsm-profile".into(), profile.to_string()]);
    }
    for nic in inputs.nics {
        let bridge = nic
            .bridge
            .as_ref()
            .map(|b| format!("@{b}"))
            .unwrap_or_default();
        args.extend([
            "--external".into(),
            format!("veth[{}]:{}{bridge}", nic.name, nic.host_name),
        ]);
    }
    args.extend(common_args());
    args
}

/// The error lines of a CRIU log, or its last lines when it has none.
pub fn log_summary(log: &str) -> String {
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Error (") || l.starts_with("Error"))
        // Its probes of optional helper programs fail harmlessly with this.
        .filter(|l| !l.contains("exited, status="))
        .map(|l| match l.split_once("): ") {
            Some((_, msg)) => msg,
            None => l,
        })
        .collect();
    let chosen: Vec<&str> = if errors.is_empty() {
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(3)..].to_vec()
    } else {
        errors[errors.len().saturating_sub(4)..].to_vec()
    };
    chosen.join("; ")
}

pub(crate) fn criu_failure(
    action: &'static str,
    dir: &Path,
    log: &str,
    stderr: &str,
) -> CheckpointError {
    let text = std::fs::read_to_string(dir.join(log)).unwrap_or_default();
    let mut summary = log_summary(&text);
    if summary.is_empty() {
        summary = stderr.trim().to_string();
    }
    CheckpointError::Criu {
        action,
        log: summary,
    }
}

/// Dump init's tree into `dir` (created) and end it. The notes a restore needs are written
/// beside the images.
pub fn dump(init: Pid, dir: &Path) -> Result<CheckpointNotes, CheckpointError> {
    std::fs::create_dir_all(dir).map_err(io("create the checkpoint directory"))?;
    let notes = CheckpointNotes {
        console_key: console_key(init).map_err(io("find the container's console"))?,
        label: std::fs::read_to_string(format!("/proc/{init}/attr/current"))
            .ok()
            .and_then(|l| label_of(&l)),
    };
    let output = Command::new(CRIU)
        .args(dump_args(init, dir, &notes.console_key))
        .stdin(Stdio::null())
        .output()
        .map_err(io("run criu"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(criu_failure(
            "Dumping the container",
            dir,
            DUMP_LOG,
            &stderr,
        ));
    }
    let text = serde_json::to_vec(&notes).unwrap_or_default();
    std::fs::write(dir.join(NOTES), text).map_err(io("write the checkpoint notes"))?;
    Ok(notes)
}

/// Read the notes [`dump`] left in `dir`.
pub fn read_notes(dir: &Path) -> Result<CheckpointNotes, CheckpointError> {
    let bytes = std::fs::read(dir.join(NOTES)).map_err(io("read the checkpoint notes"))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| io("read the checkpoint notes")(std::io::Error::other(e)))
}

/// Whether a running process's label is the one an exec label gives: a stack ending in a
/// namespace (`profile//&:ns:`) shows the namespace's `unconfined` after it.
pub fn same_label(current: &str, exec: &str) -> bool {
    current == exec || (exec.ends_with(':') && current.strip_prefix(exec) == Some("unconfined"))
}

/// The AppArmor namespace of a label (`profile//&:NAMESPACE:unconfined`).
pub fn label_namespace(label: &str) -> Option<&str> {
    let (_, rest) = label.split_once(":")?;
    let (namespace, _) = rest.split_once(':')?;
    (!namespace.is_empty()).then_some(namespace)
}
