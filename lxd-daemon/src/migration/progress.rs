//! Transfer progress in the operation's metadata, as LXD shows it: `fs_progress` set to
//! `<volume>: <bytes> (<speed>/s)`, which `lxc copy` prints after "Transferring instance: ".

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lxd_shared::units::byte_size_string;
use serde_json::Value;

use crate::operations::Op;

/// How often the metadata changes at most.
const INTERVAL: Duration = Duration::from_millis(500);

/// Reports the bytes moved for one operation.
pub struct Progress {
    op: Option<Arc<Op>>,
    state: Mutex<State>,
}

struct State {
    label: String,
    started: Instant,
    last: Option<Instant>,
}

/// LXD's progress text.
pub fn text(label: &str, bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let speed = (bytes as f64 / secs) as u64;
    let amount = format!(
        "{} ({}/s)",
        byte_size_string(bytes, 2),
        byte_size_string(speed, 2)
    );
    if label.is_empty() {
        amount
    } else {
        format!("{label}: {amount}")
    }
}

impl Progress {
    /// Progress of `op` (`None` reports nothing).
    pub fn new(op: Option<Arc<Op>>) -> Self {
        Self {
            op,
            state: Mutex::new(State {
                label: String::new(),
                started: Instant::now(),
                last: None,
            }),
        }
    }

    /// A new volume starts: its bytes count from zero under `label`.
    pub fn start(&self, label: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.label = label.to_string();
            s.started = Instant::now();
            s.last = None;
        }
    }

    /// `bytes` of the current volume have moved.
    pub fn update(&self, bytes: u64) {
        let Some(op) = &self.op else {
            return;
        };
        let now = Instant::now();
        let line = {
            let Ok(mut s) = self.state.lock() else {
                return;
            };
            if s.last.is_some_and(|l| now.duration_since(l) < INTERVAL) {
                return;
            }
            s.last = Some(now);
            text(&s.label, bytes, now.duration_since(s.started))
        };
        let mut meta = op.to_api().metadata.unwrap_or_default();
        meta.insert("fs_progress".into(), Value::String(line));
        op.set_metadata(meta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_matches_lxd_format() {
        assert_eq!(
            text("c1/snap0", 2_500_000, Duration::from_secs(2)),
            "c1/snap0: 2.50MB (1.25MB/s)"
        );
        assert_eq!(text("", 999, Duration::from_secs(1)), "999B (999B/s)");
    }
}
