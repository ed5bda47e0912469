//! `lxc console`: attach the terminal to an instance's console (raw mode, `<ctrl>+a q`
//! detaches, window sizes follow SIGWINCH), or print its log with `--show-log`.

use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::cli::check_args;
use crate::cmd_exec::{is_tty, stty, term_size, RawGuard};
use crate::global::Ctx;

/// Attach to instance consoles
#[derive(Debug, Args)]
pub struct ConsoleCmd {
    args: Vec<String>,
    /// Retrieve the instance's console log
    #[arg(long)]
    show_log: bool,
    /// Type of connection to establish: 'console' for serial console, 'vga' for SPICE graphical output
    #[arg(short = 't', long = "type", value_name = "", default_value = "console")]
    kind: String,
}

/// `<ctrl>+a`, the first key of the detach sequence.
const ESCAPE: u8 = 0x01;

/// Reads stdin on a plain thread and forwards it, until `<ctrl>+a q` closes the channel. A
/// `<ctrl>+a` that starts the sequence is not forwarded; the sequence may arrive in one read
/// or in two.
fn console_input() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin();
        let mut buf = vec![0u8; 4096];
        let mut escaped = false;
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let (chunk, detach) = filter_escape(&buf[..n], &mut escaped);
            if !chunk.is_empty() && tx.blocking_send(chunk).is_err() {
                break;
            }
            if detach {
                break;
            }
        }
    });
    rx
}

/// The bytes of `input` to forward, and whether the detach sequence was completed.
fn filter_escape(input: &[u8], escaped: &mut bool) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    for &b in input {
        match b {
            ESCAPE if !*escaped => *escaped = true,
            b'q' if *escaped => return (out, true),
            _ => {
                *escaped = false;
                out.push(b);
            }
        }
    }
    (out, false)
}

/// Sends a window-resize message on every SIGWINCH.
fn spawn_resize_forwarder(tx: mpsc::Sender<Value>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut winch) = signal(SignalKind::window_change()) else {
        return;
    };
    tokio::spawn(async move {
        while winch.recv().await.is_some() {
            let Some((w, h)) = term_size() else { continue };
            let msg = json!({"command": "window-resize", "args": {"width": w.to_string(), "height": h.to_string()}});
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    });
}

impl ConsoleCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["console"], &self.args, 1, Some(1))? {
            return Ok(());
        }
        if self.kind != "console" && self.kind != "vga" {
            bail!("Unknown output type {:?}", self.kind);
        }
        let (client, name) = ctx.resource(&self.args[0]).await?;
        if self.show_log {
            if self.kind != "console" {
                bail!("The --show-log flag is only supported for by 'console' output type");
            }
            let log = client.get_instance_console_log(&name).await?;
            print!("\nConsole log:\n\n{}\n", String::from_utf8_lossy(&log));
            return Ok(());
        }
        attach_kind(&client, &name, &self.kind).await
    }
}

/// Attach to the console of `kind` (`console`; `vga` is for virtual machines only).
pub async fn attach_kind(client: &lxd_client::Client, name: &str, kind: &str) -> Result<()> {
    match kind {
        "console" => attach(client, name).await,
        "vga" => bail!("VGA console is only supported by virtual machines"),
        other => bail!("Unknown console type {other:?}"),
    }
}

/// Attach the terminal to the console of `name` until the user detaches or it ends.
pub async fn attach(client: &lxd_client::Client, name: &str) -> Result<()> {
    if !is_tty(0) {
        bail!("inappropriate ioctl for device");
    }
    let saved = stty(&["-g"]);
    let _ = stty(&["raw", "-echo"]);
    let _guard = RawGuard(saved);
    let (width, height) = term_size().unwrap_or((0, 0));
    let req = json!({"width": width, "height": height, "type": "console"});
    print!("To detach from the console, press: <ctrl>+a q\n\r");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let (ctl_tx, ctl_rx) = mpsc::channel(4);
    spawn_resize_forwarder(ctl_tx);
    let io = lxd_client::console::ConsoleIo {
        input: console_input(),
        output: tokio::io::stdout(),
        control: ctl_rx,
    };
    let op = client.console_instance(name, &req, io).await?;
    if op.status_code != lxd_api::StatusCode::Success.code() {
        bail!("{}", op.err);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::filter_escape;

    #[test]
    fn filter_escape_detaches_on_ctrl_a_q_in_one_read_or_two() {
        let mut escaped = false;
        assert_eq!(
            filter_escape(b"ab\x01q", &mut escaped),
            (b"ab".to_vec(), true)
        );
        let mut escaped = false;
        assert_eq!(filter_escape(b"\x01", &mut escaped), (vec![], false));
        assert_eq!(filter_escape(b"q", &mut escaped), (vec![], true));
    }

    #[test]
    fn filter_escape_passes_other_keys_after_ctrl_a() {
        let mut escaped = false;
        assert_eq!(
            filter_escape(b"\x01x", &mut escaped),
            (b"x".to_vec(), false)
        );
        assert_eq!(filter_escape(b"q", &mut escaped), (b"q".to_vec(), false));
    }
}
