//! Download progress in the operation's metadata as LXD words it: `download_progress:
//! "rootfs: 45% (12.34MB/s)"` (simplestreams names the file, LXD-protocol exports do not),
//! updated only when the percentage moves so events stay few.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use lxd_shared::units::byte_size_string;

use crate::operations::Op;

/// The metadata key LXD uses.
const KEY: &str = "download_progress";

/// Where progress goes: an operation's metadata, or nowhere.
pub struct Progress {
    op: Option<Arc<Op>>,
    last: Mutex<Option<(Option<String>, u64)>>,
}

impl Progress {
    pub fn new(op: Option<Arc<Op>>) -> Self {
        Self {
            op,
            last: Mutex::new(None),
        }
    }

    /// `done` of `total` bytes of the file `label`; `session` bytes arrived since `started`.
    pub fn bytes(
        &self,
        label: Option<&str>,
        done: u64,
        total: Option<u64>,
        session: u64,
        started: Instant,
    ) {
        let Some(op) = &self.op else {
            return;
        };
        let elapsed = started.elapsed().as_secs_f64();
        let speed = if elapsed > 0.0 {
            (session as f64 / elapsed) as u64
        } else {
            0
        };
        // Percent as LXD's tracker rounds it (1 + floor), or whole seconds without a length.
        let (step, shown) = match total {
            Some(t) if t > 0 => {
                let pct = (1 + done.saturating_mul(100) / t).min(100);
                (pct, format!("{pct}%"))
            }
            _ => (started.elapsed().as_secs(), byte_size_string(done, 2)),
        };
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            let key = (label.map(str::to_string), step);
            if last.as_ref() == Some(&key) {
                return;
            }
            *last = Some(key);
        }
        let text = match label {
            Some(l) => format!("{l}: {shown} ({}/s)", byte_size_string(speed, 2)),
            None => format!("{shown} ({}/s)", byte_size_string(speed, 2)),
        };
        set_metadata_key(op, KEY, text.into());
    }
}

/// Set one key of an operation's metadata, keeping the others.
pub fn set_metadata_key(op: &Op, key: &str, value: serde_json::Value) {
    let mut meta = op.to_api().metadata.unwrap_or_default();
    meta.insert(key.to_string(), value);
    op.set_metadata(meta);
}
