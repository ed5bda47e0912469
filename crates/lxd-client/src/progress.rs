//! Transfer progress as LXD's `shared/ioprogress` tracker computes it: in relative mode (known
//! length) a report each time the percentage grows by about a point, `"<pct>% (<speed>/s)"`; in
//! absolute mode (unknown length) at most one report a second, `"<bytes> (<speed>/s)"`. The texts
//! go to a caller-supplied callback; this module never prints.

use std::time::Instant;

use lxd_shared::units::byte_size_string;

/// Receives progress texts such as `45% (12.34MB/s)`.
pub type ProgressFn = Box<dyn FnMut(&str) + Send>;

/// How the text of a report is built from the progress value and the speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyle {
    /// `"<value>% (<speed>/s)"`: downloads (`GetImageFile`).
    Percent,
    /// `"<value as byte size> (<speed>/s)"`: uploads (`CreateImage`).
    Bytes,
}

/// Counts transferred bytes and reports progress (Go's `ioprogress.ProgressTracker`).
pub struct ProgressTracker {
    length: i64,
    style: ProgressStyle,
    handler: ProgressFn,
    total: i64,
    percentage: f64,
    start: Option<Instant>,
    last: Option<Instant>,
}

impl ProgressTracker {
    /// A tracker for a transfer of `length` bytes (≤ 0: unknown).
    pub fn new(length: i64, style: ProgressStyle, handler: ProgressFn) -> Self {
        Self {
            length,
            style,
            handler,
            total: 0,
            percentage: 0.0,
            start: None,
            last: None,
        }
    }

    /// Records `n` more bytes and reports when due.
    pub fn update(&mut self, n: usize) {
        let now = Instant::now();
        let start = *self.start.get_or_insert(now);
        if self.last.is_none() {
            self.last = Some(now);
        }
        if n == 0 {
            return;
        }
        self.total += n as i64;
        let percentage = if self.length > 0 {
            let p = self.total as f64 / self.length as f64 * 100.0;
            if p - self.percentage < 0.9 {
                return;
            }
            p
        } else {
            if self
                .last
                .is_some_and(|l| now.duration_since(l).as_secs_f64() < 1.0)
            {
                return;
            }
            0.0
        };
        let elapsed = now.duration_since(start).as_secs_f64();
        let speed = if elapsed > 0.0 {
            (self.total as f64 / elapsed) as i64
        } else {
            0
        };
        let value = if self.length > 0 {
            self.percentage = percentage;
            (percentage as i64 + 1).min(100)
        } else {
            self.last = Some(now);
            self.total
        };
        let text = progress_text(self.style, value, speed);
        (self.handler)(&text);
    }
}

/// The text of one report.
pub fn progress_text(style: ProgressStyle, value: i64, speed: i64) -> String {
    let speed = byte_size_string(speed.max(0) as u64, 2);
    match style {
        ProgressStyle::Percent => format!("{value}% ({speed}/s)"),
        ProgressStyle::Bytes => format!("{} ({speed}/s)", byte_size_string(value.max(0) as u64, 2)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn progress_text_percent_has_speed_in_decimal_units() {
        assert_eq!(
            progress_text(ProgressStyle::Percent, 4, 806_920_000),
            "4% (806.92MB/s)"
        );
        assert_eq!(
            progress_text(ProgressStyle::Bytes, 12_340_000, 999),
            "12.34MB (999B/s)"
        );
    }

    #[test]
    fn tracker_known_length_reports_each_point() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let mut t = ProgressTracker::new(
            1000,
            ProgressStyle::Percent,
            Box::new(move |s| sink.lock().unwrap().push(s.to_string())),
        );
        for _ in 0..10 {
            t.update(31);
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 10);
        assert!(seen[0].starts_with("4% ("), "{}", seen[0]);
    }
}
