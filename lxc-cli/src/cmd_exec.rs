//! `lxc exec`: run a command in an instance over the exec websockets. Interactive mode (a PTY,
//! stdin in raw mode through `stty`, window-size updates on SIGWINCH) or non-interactive mode
//! (separate stdin/stdout/stderr); signals are forwarded through the control socket. The exit
//! status is the operation's `metadata.return`.

use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::cli::check_args;
use crate::global::Ctx;

/// Execute commands in instances
#[derive(Debug, Args)]
pub struct ExecCmd {
    args: Vec<String>,
    /// Directory to run the command in (default /root)
    #[arg(long, value_name = "")]
    cwd: Option<String>,
    /// Disable stdin (reads from /dev/null)
    #[arg(short = 'n', long)]
    disable_stdin: bool,
    /// Environment variable to set (e.g. HOME=/home/foo)
    #[arg(long = "env", value_name = "")]
    env: Vec<String>,
    /// Force pseudo-terminal allocation
    #[arg(short = 't', long)]
    force_interactive: bool,
    /// Disable pseudo-terminal allocation
    #[arg(short = 'T', long)]
    force_noninteractive: bool,
    /// Group ID to run the command as (default 0)
    #[arg(long, value_name = "", default_value_t = 0)]
    group: u32,
    /// Override the terminal mode (auto, interactive or non-interactive)
    #[arg(long, value_name = "", default_value = "auto")]
    mode: String,
    /// User ID to run the command as (default 0)
    #[arg(long, value_name = "", default_value_t = 0)]
    user: u32,
}

impl ExecCmd {
    /// `lxc exec NAME -- COMMAND...` without flags: `words` is the name, then the command.
    pub(crate) fn plain(words: Vec<String>) -> Self {
        Self {
            args: words,
            cwd: None,
            disable_stdin: false,
            env: Vec::new(),
            force_interactive: false,
            force_noninteractive: false,
            group: 0,
            mode: "auto".into(),
            user: 0,
        }
    }
}

pub(crate) fn is_tty(fd: i32) -> bool {
    use std::io::IsTerminal;
    match fd {
        0 => std::io::stdin().is_terminal(),
        _ => std::io::stdout().is_terminal(),
    }
}

/// Runs `stty` on the terminal of stdin; returns its output.
pub(crate) fn stty(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("stty")
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The terminal size on stdout as (width, height).
pub(crate) fn term_size() -> Option<(u32, u32)> {
    let tty = std::fs::File::open("/proc/self/fd/1").ok()?;
    let out = std::process::Command::new("stty")
        .arg("size")
        .stdin(tty)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let h = it.next()?.parse().ok()?;
    let w = it.next()?.parse().ok()?;
    Some((w, h))
}

/// Restores the saved terminal settings when dropped.
pub(crate) struct RawGuard(pub(crate) Option<String>);

impl Drop for RawGuard {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = stty(&[saved]);
        }
    }
}

/// Whether stdin is `/dev/null` (character device 1:3), as under cron, `ssh -n` or `< /dev/null`.
fn stdin_is_dev_null() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    const DEV_NULL: u64 = (1 << 8) | 3;
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| m.file_type().is_char_device() && m.rdev() == DEV_NULL)
}

/// Reads stdin on a plain thread (it may block forever; the process exits without it).
fn stdin_channel() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin();
        // 32 KiB per frame: a larger buffer costs every exec its zeroing and page faults
        // (the thread's malloc arena zeroes it) and moved stdin no faster.
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Forwards SIGWINCH (interactive only) and the signals lxc forwards as control messages.
fn spawn_signal_forwarder(tx: mpsc::Sender<Value>, interactive: bool) {
    use tokio::signal::unix::{signal, SignalKind};
    let sigs: &[i32] = &[28, 15, 1, 2, 3, 6, 20, 21, 22, 10, 12, 11, 18];
    for &n in sigs {
        let Ok(mut stream) = signal(SignalKind::from_raw(n)) else {
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                let msg = if n == 28 {
                    if !interactive {
                        continue;
                    }
                    let Some((w, h)) = term_size() else { continue };
                    json!({"command": "window-resize", "args": {"width": w.to_string(), "height": h.to_string()}})
                } else {
                    let sig = if n == 1 && std::fs::File::open("/dev/tty").is_err() {
                        15
                    } else {
                        n
                    };
                    json!({"command": "signal", "signal": sig})
                };
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
        });
    }
}

impl ExecCmd {
    /// Runs the command; returns the process exit code.
    pub async fn run(self, ctx: Ctx) -> Result<u8> {
        if check_args(&["exec"], &self.args, 2, None)? {
            return Ok(0);
        }
        if self.force_interactive && self.force_noninteractive {
            bail!("You can't pass -t and -T at the same time");
        }
        if self.mode != "auto" && (self.force_interactive || self.force_noninteractive) {
            bail!("You can't pass -t or -T at the same time as --mode");
        }
        let (client, name) = ctx.resource_unchecked(&self.args[0]).await?;
        let mut env = Map::new();
        if let Ok(term) = std::env::var("TERM") {
            env.insert("TERM".into(), json!(term));
        }
        for arg in &self.env {
            let (k, v) = arg.split_once('=').unwrap_or((arg, ""));
            env.insert(k.into(), json!(v));
        }
        let (stdin_tty, stdout_tty) = (is_tty(0), is_tty(1));
        let interactive = if self.disable_stdin {
            false
        } else if self.mode == "interactive" || self.force_interactive {
            true
        } else if self.mode == "non-interactive" || self.force_noninteractive {
            false
        } else {
            stdin_tty && stdout_tty
        };
        let _guard = if interactive && stdin_tty {
            let saved = stty(&["-g"]);
            let _ = stty(&["raw", "-echo"]);
            RawGuard(saved)
        } else {
            RawGuard(None)
        };
        let (width, height) = if stdout_tty {
            term_size().unwrap_or((0, 0))
        } else {
            (0, 0)
        };
        let mut sorted_env: Vec<(String, Value)> = env.into_iter().collect();
        sorted_env.sort_by(|a, b| a.0.cmp(&b.0));
        let req = json!({
            "command": self.args[1..], "wait-for-websocket": true, "interactive": interactive,
            "environment": sorted_env.into_iter().collect::<Map<_, _>>(),
            "width": width, "height": height, "record-output": false,
            "user": self.user, "group": self.group, "cwd": self.cwd.clone().unwrap_or_default(),
        });
        // Nothing to read from /dev/null: end the input at once instead of starting a thread
        // to find that out.
        let stdin = if self.disable_stdin || stdin_is_dev_null() {
            None
        } else {
            Some(stdin_channel())
        };
        let (ctl_tx, ctl_rx) = mpsc::channel(16);
        spawn_signal_forwarder(ctl_tx, interactive);
        let io = lxd_client::exec::ExecIo {
            stdin,
            stdout: tokio::io::stdout(),
            stderr: tokio::io::stderr(),
            control: ctl_rx,
        };
        let op = match client.exec_instance(&name, &req, io).await {
            Ok(op) => op,
            Err(e) => return Err(Ctx::connect_failure(&client, e).await),
        };
        drop(_guard);
        let ret = op
            .metadata
            .as_ref()
            .and_then(|m| m.get("return"))
            .and_then(Value::as_f64)
            .map(|r| r as i64)
            .unwrap_or(0);
        if op.status_code != lxd_api::StatusCode::Success.code() {
            eprintln!("Error: {}", op.err);
            return Ok(if ret != 0 { ret as u8 } else { 1 });
        }
        Ok(ret as u8)
    }
}
