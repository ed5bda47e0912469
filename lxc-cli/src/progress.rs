//! lxc's `ProgressRenderer`: rewrites one line with `\r` (`Transferring image: 45% (12.34MB/s)`),
//! pads over a longer previous line, and ends with `Done(msg)`. Like lxc 5.0.2 it writes even
//! when stdout is not a terminal (its terminal check is a no-op), and on a terminal narrower
//! than the message it writes nothing. `--quiet` silences it.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

/// One progress line.
#[derive(Debug)]
pub struct ProgressRenderer {
    prefix: String,
    quiet: bool,
    max_length: usize,
    done: bool,
    width: Option<Option<usize>>,
}

/// A renderer shared with transfer callbacks.
pub type SharedProgress = Arc<Mutex<ProgressRenderer>>;

/// The width of the terminal on stdout, or `None` when stdout is not a terminal.
fn stdout_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let tty = std::fs::File::open("/proc/self/fd/1").ok()?;
    let out = std::process::Command::new("stty")
        .arg("size")
        .stdin(tty)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1)?.parse().ok()
}

impl ProgressRenderer {
    /// A renderer whose updates read `<prefix><status>` (lxc's `Format` without the `%s`).
    pub fn new(prefix: &str, quiet: bool) -> Self {
        Self {
            prefix: prefix.to_string(),
            quiet,
            max_length: 0,
            done: false,
            width: None,
        }
    }

    /// The same, shareable with callbacks.
    pub fn shared(prefix: &str, quiet: bool) -> SharedProgress {
        Arc::new(Mutex::new(Self::new(prefix, quiet)))
    }

    fn truncate(&mut self, msg: &str) -> String {
        let width = *self.width.get_or_insert_with(stdout_width);
        match width {
            Some(w) if w < msg.len() => String::new(),
            _ => msg.to_string(),
        }
    }

    /// Writes `msg`, first blanking the line when `measured` is not longer than the longest
    /// line so far (lxc measures the update with its `\r`, the final message without).
    fn emit(&mut self, measured: usize, msg: &str) {
        let mut out = String::new();
        if measured > self.max_length {
            self.max_length = measured;
        } else {
            out.push('\r');
            out.push_str(&" ".repeat(self.max_length));
        }
        out.push_str(msg);
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }

    /// Shows `status` (lxc's `Update`).
    pub fn update(&mut self, status: &str) {
        if self.done || self.quiet {
            return;
        }
        let text = format!("{}{status}", self.prefix);
        let msg = format!("\r{}", self.truncate(&text));
        if msg.len() == 1 && self.max_length == 0 {
            return;
        }
        self.emit(msg.len(), &msg);
    }

    /// Ends the line with `msg` (empty: just clears it). Only the first call counts.
    pub fn done(&mut self, msg: &str) {
        if self.done {
            return;
        }
        self.done = true;
        let msg = if self.quiet { "" } else { msg };
        let mut msg = self.truncate(msg);
        if msg.is_empty() && self.max_length == 0 {
            return;
        }
        if !msg.is_empty() {
            msg.push('\n');
        }
        self.emit(msg.len(), &format!("\r{msg}"));
    }
}

/// Calls `update` on a shared renderer.
pub fn update_shared(p: &SharedProgress, status: &str) {
    if let Ok(mut r) = p.lock() {
        r.update(status);
    }
}

/// Calls `done` on a shared renderer.
pub fn done_shared(p: &SharedProgress, msg: &str) {
    if let Ok(mut r) = p.lock() {
        r.done(msg);
    }
}
