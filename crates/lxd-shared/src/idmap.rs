//! Id-map arithmetic for unprivileged containers, as LXD 5.0.2 does it (`shared/idmap`).
//!
//! An [`IdmapSet`] is the list of [`IdmapEntry`] ranges that LXD stores as JSON in
//! `volatile.idmap.{next,current}` and `volatile.last_state.idmap`. This module owns the
//! set itself: JSON, `uid_map`/`gid_map` rendering, kernel-acceptability checks, LXD's
//! `AddSafe` splicing and id conversion between host and container. Its sub-modules parse
//! `raw.idmap` ([`raw`]), pick the host's range from `/etc/subuid` ([`host`]) and compute a
//! container's map from its config ([`alloc`]).
//!
//! Pure: every input arrives as a string; nothing here reads a file or calls the kernel.

use serde::{Deserialize, Serialize};

pub mod alloc;
pub mod host;
pub mod raw;
#[cfg(test)]
mod tests;

pub use alloc::{find_idmap, idmap_size, IdmapConfig, IsolatedBlock};
pub use host::{default_idmap, kernel_default_map, parse_kernel_map, parse_subid, HostIdSources};
pub use raw::{allowed_unprivileged_only_map, parse_raw_idmap};

/// The most lines a `uid_map`/`gid_map` write may carry (Linux 4.15 and later).
pub const MAX_MAP_LINES: usize = 340;

/// One past the largest id the kernel maps (`(uid_t)-1` is never a valid id).
const ID_LIMIT: i64 = u32::MAX as i64;

/// What can go wrong computing or checking a map. Texts are LXD's where LXD has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdmapError {
    #[error("Host id is in the range of subids")]
    HostIdIsSubId,
    #[error("Invalid ID Map range {0:?}")]
    InvalidRange(String),
    #[error("Invalid ID map line {0:?}")]
    InvalidLine(String),
    #[error("The ID map ranges are of different sizes {0:?}")]
    SizeMismatch(String),
    #[error("Invalid ID map type {0:?}")]
    InvalidType(String),
    /// Go's `strconv.ParseInt` error text, which LXD passes through unchanged.
    #[error("strconv.ParseInt: parsing {text:?}: {}", if *.out_of_range { "value out of range" } else { "invalid syntax" })]
    Number { text: String, out_of_range: bool },
    #[error("bad initial idmap")]
    BadInitialIdmap,
    #[error("Not enough uid/gid available for the container")]
    NotEnoughIds,
    #[error("Cannot map root user into container as LXD was configured to only allow unprivileged containers")]
    RootMapForbidden,
    #[error("No map found for user")]
    NoUserMap,
    #[error("Unexpected values in {path:?}: {line}")]
    ShadowLine { path: String, line: String },
    #[error("Namespace doesn't have any map set")]
    EmptyKernelMap,
    #[error("Invalid idmap JSON: {0}")]
    Json(String),
    #[error("The '{0}' map can't work in the current user namespace")]
    Unusable(String),
    #[error("Invalid idmap entry '{0}': ids must be within 0-4294967294 and the range non-empty")]
    OutOfBounds(String),
    #[error("Overlapping {kind} map entries '{first}' and '{second}'")]
    Overlap {
        kind: &'static str,
        first: String,
        second: String,
    },
    #[error("Too many {kind} map entries ({count}, the kernel takes at most 340)")]
    TooManyLines { kind: &'static str, count: usize },
}

/// Parse a decimal `i64` the way Go's `strconv.ParseInt(s, 10, 64)` does, with its error text.
pub(crate) fn parse_go_int(text: &str) -> Result<i64, IdmapError> {
    text.parse::<i64>().map_err(|e| IdmapError::Number {
        text: text.to_string(),
        out_of_range: matches!(
            e.kind(),
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
        ),
    })
}

/// LXD's `shared.IsTrue`: `true`, `1`, `yes` or `on`, any case.
pub(crate) fn is_true(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// Which id space an operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uid,
    Gid,
}

/// One contiguous range: container ids `nsid..nsid+maprange` are host ids `hostid..`.
/// Serialised with LXD's Go field names: `{"Isuid":true,"Isgid":false,"Hostid":..,..}`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "PascalCase", default)]
pub struct IdmapEntry {
    pub isuid: bool,
    pub isgid: bool,
    /// First id as seen on the host, e.g. 1000000.
    pub hostid: i64,
    /// First id as seen in the container, e.g. 0.
    pub nsid: i64,
    pub maprange: i64,
}

fn overlap(a: i64, b: i64, len_a: i64, len_b: i64) -> bool {
    a < b + len_b && b < a + len_a
}

impl IdmapEntry {
    /// A uid-and-gid entry (`both` in `raw.idmap`, `b` in LXC).
    pub fn both(hostid: i64, nsid: i64, maprange: i64) -> Self {
        let (isuid, isgid) = (true, true);
        IdmapEntry {
            isuid,
            isgid,
            hostid,
            nsid,
            maprange,
        }
    }

    /// A uid-only entry.
    pub fn uid(hostid: i64, nsid: i64, maprange: i64) -> Self {
        IdmapEntry {
            isuid: true,
            isgid: false,
            hostid,
            nsid,
            maprange,
        }
    }

    /// A gid-only entry.
    pub fn gid(hostid: i64, nsid: i64, maprange: i64) -> Self {
        IdmapEntry {
            isuid: false,
            isgid: true,
            hostid,
            nsid,
            maprange,
        }
    }

    /// Whether this entry maps ids of `kind`.
    pub fn covers(&self, kind: IdKind) -> bool {
        match kind {
            IdKind::Uid => self.isuid,
            IdKind::Gid => self.isgid,
        }
    }

    fn shares_kind(&self, other: &IdmapEntry) -> bool {
        (self.isuid && other.isuid) || (self.isgid && other.isgid)
    }

    /// Whether the two entries share a kind and overlap on the host or in the container
    /// (LXD's `Intersects`, with exact range ends: LXD's own test skips each range's last id).
    pub fn intersects(&self, other: &IdmapEntry) -> bool {
        self.shares_kind(other)
            && (overlap(self.hostid, other.hostid, self.maprange, other.maprange)
                || overlap(self.nsid, other.nsid, self.maprange, other.maprange))
    }

    /// Whether the two entries share a kind and overlap on the host (`HostidsIntersect`).
    pub fn hostids_intersect(&self, other: &IdmapEntry) -> bool {
        self.shares_kind(other) && overlap(self.hostid, other.hostid, self.maprange, other.maprange)
    }

    /// The container id `nsid` as a host id, when this entry maps it.
    pub fn ns_to_host(&self, nsid: i64) -> Option<i64> {
        (nsid >= self.nsid && nsid < self.nsid + self.maprange)
            .then(|| nsid - self.nsid + self.hostid)
    }

    /// The host id `hostid` as a container id, when this entry maps it.
    pub fn host_to_ns(&self, hostid: i64) -> Option<i64> {
        (hostid >= self.hostid && hostid < self.hostid + self.maprange)
            .then(|| hostid - self.hostid + self.nsid)
    }

    /// LXC's `lxc.idmap` values: `u 0 1000000 65536` and/or `g ...`.
    pub fn to_lxc_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (on, letter) in [(self.isuid, 'u'), (self.isgid || !self.isuid, 'g')] {
            if on {
                lines.push(format!(
                    "{letter} {} {} {}",
                    self.nsid, self.hostid, self.maprange
                ));
            }
        }
        lines
    }

    fn map_line(&self) -> String {
        format!("{} {} {}", self.nsid, self.hostid, self.maprange)
    }
}

/// A container's (or the host's) id map, in LXD's entry order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdmapSet {
    pub entries: Vec<IdmapEntry>,
}

impl IdmapSet {
    pub fn new(entries: Vec<IdmapEntry>) -> Self {
        IdmapSet { entries }
    }

    /// The JSON stored in `volatile.idmap.*`: `[{"Isuid":true,...}]` (`[]` when empty).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.entries).unwrap_or_else(|_| "[]".to_string())
    }

    /// Parse a `volatile.idmap.*` value; `[]` (or `null`) is `None`, as in LXD's
    /// `JSONUnmarshal` (no map: unshifted on disk, or a privileged container).
    pub fn from_json(text: &str) -> Result<Option<IdmapSet>, IdmapError> {
        let entries: Option<Vec<IdmapEntry>> =
            serde_json::from_str(text).map_err(|e| IdmapError::Json(e.to_string()))?;
        Ok(entries.filter(|e| !e.is_empty()).map(IdmapSet::new))
    }

    /// LXD's `AddSafe`: add `entry`, splitting every existing range whose container ids it
    /// overlaps so that `entry` punches a hole through it. Overlapping host ids are refused.
    /// Like LXD, `entry` is appended once per range it splits (twice for a `both` entry over
    /// separate uid and gid ranges); the rendered maps drop the duplicates.
    pub fn add_safe(&mut self, entry: IdmapEntry) -> Result<(), IdmapError> {
        let mut result = Vec::with_capacity(self.entries.len() + 2);
        let mut added = false;
        for e in &self.entries {
            if !e.intersects(&entry) {
                result.push(*e);
                continue;
            }
            if e.hostids_intersect(&entry) {
                return Err(IdmapError::HostIdIsSubId);
            }
            added = true;
            let lower = IdmapEntry {
                maprange: entry.nsid - e.nsid,
                ..*e
            };
            let upper = IdmapEntry {
                hostid: e.hostid + lower.maprange + entry.maprange,
                nsid: entry.nsid + entry.maprange,
                maprange: e.maprange - entry.maprange - lower.maprange,
                ..*e
            };
            if lower.maprange > 0 {
                result.push(lower);
            }
            result.push(entry);
            if upper.maprange > 0 {
                result.push(upper);
            }
        }
        if !added {
            result.push(entry);
        }
        self.entries = result;
        Ok(())
    }

    /// The container id `nsid` of `kind` as a host id: the first entry that maps it wins.
    pub fn ns_to_host(&self, kind: IdKind, nsid: i64) -> Option<i64> {
        self.entries
            .iter()
            .filter(|e| e.covers(kind))
            .find_map(|e| e.ns_to_host(nsid))
    }

    /// The host id `hostid` of `kind` as a container id, if the map reaches it.
    pub fn host_to_ns(&self, kind: IdKind, hostid: i64) -> Option<i64> {
        self.entries
            .iter()
            .filter(|e| e.covers(kind))
            .find_map(|e| e.host_to_ns(hostid))
    }

    /// LXD's `ShiftIntoNs`: a file owner as the container sees it to the owner to write on
    /// disk (the shifting fallback). `None` where unmapped (LXD's `-1`: leave it).
    pub fn to_host(&self, uid: i64, gid: i64) -> (Option<i64>, Option<i64>) {
        (
            self.ns_to_host(IdKind::Uid, uid),
            self.ns_to_host(IdKind::Gid, gid),
        )
    }

    /// LXD's `ShiftFromNs`: an owner on disk back to the container's view (unshifting).
    pub fn to_container(&self, uid: i64, gid: i64) -> (Option<i64>, Option<i64>) {
        (
            self.host_to_ns(IdKind::Uid, uid),
            self.host_to_ns(IdKind::Gid, gid),
        )
    }

    /// `lxc.idmap` lines without duplicates (LXD's `ToLxcString`).
    pub fn to_lxc_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for line in self.entries.iter().flat_map(IdmapEntry::to_lxc_lines) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        lines
    }

    fn unique_entries(&self, kind: IdKind) -> Vec<IdmapEntry> {
        let mut out: Vec<IdmapEntry> = Vec::new();
        for e in self.entries.iter().filter(|e| e.covers(kind)) {
            if !out.iter().any(|o| o.map_line() == e.map_line()) {
                out.push(*e);
            }
        }
        out
    }

    fn render(&self, kind: IdKind) -> String {
        self.unique_entries(kind)
            .iter()
            .map(|e| e.map_line() + "\n")
            .collect()
    }

    /// The text to write to `/proc/<pid>/uid_map`: `nsid hostid range` lines.
    pub fn uid_map(&self) -> String {
        self.render(IdKind::Uid)
    }

    /// The text to write to `/proc/<pid>/gid_map`.
    pub fn gid_map(&self) -> String {
        self.render(IdKind::Gid)
    }

    /// Check what the kernel would refuse in a `uid_map`/`gid_map` write: ids out of range,
    /// empty ranges, overlapping container or host ranges, more than 340 lines.
    pub fn validate(&self) -> Result<(), IdmapError> {
        for (kind, name) in [(IdKind::Uid, "uid"), (IdKind::Gid, "gid")] {
            let entries = self.unique_entries(kind);
            if entries.len() > MAX_MAP_LINES {
                return Err(IdmapError::TooManyLines {
                    kind: name,
                    count: entries.len(),
                });
            }
            for (i, e) in entries.iter().enumerate() {
                let in_bounds = |start: i64| start >= 0 && start + e.maprange <= ID_LIMIT;
                if e.maprange <= 0 || !in_bounds(e.nsid) || !in_bounds(e.hostid) {
                    return Err(IdmapError::OutOfBounds(e.map_line()));
                }
                for o in &entries[..i] {
                    if overlap(o.nsid, e.nsid, o.maprange, e.maprange)
                        || overlap(o.hostid, e.hostid, o.maprange, e.maprange)
                    {
                        let (first, second) = (o.map_line(), e.map_line());
                        return Err(IdmapError::Overlap {
                            kind: name,
                            first,
                            second,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// LXD's `Usable`: every entry's host ids lie inside one contiguous range of `kernel`,
    /// the map of the namespace LXD runs in (from [`parse_kernel_map`]).
    pub fn usable_in(&self, kernel: &IdmapSet) -> Result<(), IdmapError> {
        let ranges = kernel.valid_ranges();
        for e in &self.entries {
            for kind in [IdKind::Uid, IdKind::Gid]
                .into_iter()
                .filter(|k| e.covers(*k))
            {
                let last = e.hostid + e.maprange - 1;
                let fits = ranges
                    .iter()
                    .any(|r| r.covers(kind) && r.contains(e.hostid) && r.contains(last));
                if !fits {
                    return Err(IdmapError::Unusable(format!(
                        "[{}]",
                        e.to_lxc_lines().join(" ")
                    )));
                }
            }
        }
        Ok(())
    }

    /// LXD's `Equals`: same ranges once `both` entries are split and the lists are sorted.
    pub fn equivalent(&self, other: &IdmapSet) -> bool {
        fn expanded(set: &IdmapSet) -> Vec<IdmapEntry> {
            let mut out = Vec::new();
            for e in &set.entries {
                if e.isuid && e.isgid {
                    out.push(IdmapEntry { isgid: false, ..*e });
                    out.push(IdmapEntry { isuid: false, ..*e });
                } else {
                    out.push(*e);
                }
            }
            out.sort_by_key(|e| (!e.isuid, !e.isgid, e.nsid, e.hostid, e.maprange));
            out
        }
        expanded(self) == expanded(other)
    }

    /// Contiguous container-id ranges per kind (LXD's `ValidRanges`), ends inclusive.
    pub fn valid_ranges(&self) -> Vec<IdRange> {
        let mut sorted = self.entries.clone();
        sorted.sort_by_key(|e| (!e.isuid, !e.isgid, e.nsid));
        let mut ranges: Vec<IdRange> = Vec::new();
        for e in &sorted {
            let same = |r: &&mut IdRange| r.isuid == e.isuid && r.isgid == e.isgid;
            match ranges.iter_mut().find(|r| same(r) && r.end + 1 == e.nsid) {
                Some(r) => r.end += e.maprange,
                None => ranges.push(IdRange {
                    isuid: e.isuid,
                    isgid: e.isgid,
                    start: e.nsid,
                    end: e.nsid + e.maprange - 1,
                }),
            }
        }
        ranges
    }
}

/// A contiguous range of ids, both ends included (LXD's `IdRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub isuid: bool,
    pub isgid: bool,
    pub start: i64,
    pub end: i64,
}

impl IdRange {
    /// Whether the range holds ids of `kind`.
    pub fn covers(&self, kind: IdKind) -> bool {
        match kind {
            IdKind::Uid => self.isuid,
            IdKind::Gid => self.isgid,
        }
    }

    /// Whether `id` lies in the range.
    pub fn contains(&self, id: i64) -> bool {
        id >= self.start && id <= self.end
    }
}
