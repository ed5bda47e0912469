//! The host's id range for containers (LXD's `DefaultIdmapSet` for user `root`): the first
//! `/etc/subuid` and `/etc/subgid` entry of the user with at least 65536 ids, or a range
//! derived from the kernel map LXD runs under, which on a plain host (the full
//! `0 0 4294967295` map) is the hard-coded `1000000:1000000000`.
//!
//! File contents come in as strings; the caller reads the files (and passes `None` for a
//! file that does not exist).

use super::{IdRange, IdmapEntry, IdmapError, IdmapSet};

/// LXD's hard-coded host base when it cannot or need not derive one.
pub const FALLBACK_HOSTID: i64 = 1_000_000;
/// LXD's hard-coded range size that goes with [`FALLBACK_HOSTID`].
pub const FALLBACK_MAPRANGE: i64 = 1_000_000_000;
/// Ranges smaller than this are ignored.
pub const MIN_RANGE: i64 = 65_536;
/// Derived ranges stay above the system's own POSIX ids.
const FIRST_DERIVED_ID: i64 = 100_000;

/// What [`default_idmap`] reads: contents of the shadow files and of LXD's own
/// `/proc/self/{uid,gid}_map`, each `None` when the file does not exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostIdSources<'a> {
    pub subuid: Option<&'a str>,
    pub subgid: Option<&'a str>,
    pub proc_uid_map: Option<&'a str>,
    pub proc_gid_map: Option<&'a str>,
}

/// Go's `strconv.ParseUint(s, 10, 32)`: digits only, within `u32`.
fn parse_u32(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u32>().ok().map(i64::from)
}

fn go_quoted_fields(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("{f:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

/// The (start, count) entries of `username` in `/etc/subuid`-style text (`name:start:count`,
/// `#` comments). Unparsable numbers skip the line; a line with fewer than three fields is an
/// error, as in LXD; no entry at all is [`IdmapError::NoUserMap`]. `path` labels errors.
pub fn parse_subid(text: &str, path: &str, username: &str) -> Result<Vec<(i64, i64)>, IdmapError> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let content = line.split('#').next().unwrap_or("");
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = content.split(':').collect();
        if fields.len() < 3 {
            let line = go_quoted_fields(&fields);
            return Err(IdmapError::ShadowLine {
                path: path.to_string(),
                line,
            });
        }
        if fields[0].to_lowercase() != username.to_lowercase() {
            continue;
        }
        if let (Some(start), Some(count)) = (parse_u32(fields[1]), parse_u32(fields[2])) {
            entries.push((start, count));
        }
    }
    if entries.is_empty() {
        return Err(IdmapError::NoUserMap);
    }
    Ok(entries)
}

/// One `/proc/<pid>/{uid,gid}_map` text as (nsid, hostid, count) triples (LXD's `getFromProc`).
fn parse_proc_map(text: &str, path: &str) -> Result<Vec<[i64; 3]>, IdmapError> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let content = line.split('#').next().unwrap_or("");
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.len() < 3 {
            let line = go_quoted_fields(&fields);
            return Err(IdmapError::ShadowLine {
                path: path.to_string(),
                line,
            });
        }
        if let (Some(ns), Some(host), Some(count)) = (
            parse_u32(fields[0]),
            parse_u32(fields[1]),
            parse_u32(fields[2]),
        ) {
            entries.push([ns, host, count]);
        }
    }
    if entries.is_empty() {
        return Err(IdmapError::EmptyKernelMap);
    }
    Ok(entries)
}

/// The map of the namespace LXD runs in (LXD's `CurrentIdmapSet`) from the texts of
/// `/proc/self/uid_map` and `gid_map`; a missing file stands for an empty `0 0 0` entry.
pub fn parse_kernel_map(
    uid_map: Option<&str>,
    gid_map: Option<&str>,
) -> Result<IdmapSet, IdmapError> {
    let mut set = IdmapSet::default();
    let sources = [
        (uid_map, "/proc/self/uid_map", true),
        (gid_map, "/proc/self/gid_map", false),
    ];
    for (text, path, isuid) in sources {
        let triples = match text {
            Some(text) => parse_proc_map(text, path)?,
            None => vec![[0, 0, 0]],
        };
        for [nsid, hostid, maprange] in triples {
            let isgid = !isuid;
            set.entries.push(IdmapEntry {
                isuid,
                isgid,
                hostid,
                nsid,
                maprange,
            });
        }
    }
    Ok(set)
}

fn fallback_map() -> IdmapSet {
    IdmapSet::new(vec![
        IdmapEntry::uid(FALLBACK_HOSTID, 0, FALLBACK_MAPRANGE),
        IdmapEntry::gid(FALLBACK_HOSTID, 0, FALLBACK_MAPRANGE),
    ])
}

/// LXD's `kernelDefaultMap`: `1000000:1000000000` when LXD owns the full id space (or its
/// map cannot be read), else the first range per kind that reaches past id 100000, clipped to
/// start there and holding more than 65536 ids. May return fewer than two entries.
pub fn kernel_default_map(uid_map: Option<&str>, gid_map: Option<&str>) -> IdmapSet {
    let Ok(kernel) = parse_kernel_map(uid_map, gid_map) else {
        return fallback_map();
    };
    let ranges = kernel.valid_ranges();
    let full = |isuid: bool| IdRange {
        isuid,
        isgid: !isuid,
        start: 0,
        end: 4_294_967_294,
    };
    if ranges == [full(true), full(false)] {
        return fallback_map();
    }
    let mut set = IdmapSet::default();
    for isuid in [true, false] {
        let suitable = ranges
            .iter()
            .filter(|r| if isuid { r.isuid } else { r.isgid })
            .find_map(|r| {
                let start = r.start.max(FIRST_DERIVED_ID);
                (r.end >= FIRST_DERIVED_ID && r.end - start >= MIN_RANGE).then_some((start, r.end))
            });
        if let Some((start, end)) = suitable {
            let isgid = !isuid;
            let (hostid, nsid, maprange) = (start, 0, end - start + 1);
            set.entries.push(IdmapEntry {
                isuid,
                isgid,
                hostid,
                nsid,
                maprange,
            });
        }
    }
    set
}

/// LXD's `DefaultIdmapSet("", username)`: with both shadow files present, the first entry of
/// `username` with at least 65536 ids in each (a kind without one is left out); when the user
/// has no entry and is `root`, or a file is missing, [`kernel_default_map`].
pub fn default_idmap(sources: &HostIdSources, username: &str) -> Result<IdmapSet, IdmapError> {
    let (Some(subuid), Some(subgid)) = (sources.subuid, sources.subgid) else {
        return Ok(kernel_default_map(
            sources.proc_uid_map,
            sources.proc_gid_map,
        ));
    };
    let mut set = IdmapSet::default();
    for (text, path, isuid) in [
        (subuid, "/etc/subuid", true),
        (subgid, "/etc/subgid", false),
    ] {
        let entries = match parse_subid(text, path, username) {
            Ok(entries) => entries,
            Err(IdmapError::NoUserMap) if username == "root" => {
                return Ok(kernel_default_map(
                    sources.proc_uid_map,
                    sources.proc_gid_map,
                ));
            }
            Err(e) => return Err(e),
        };
        if let Some(&(hostid, maprange)) = entries.iter().find(|(_, count)| *count >= MIN_RANGE) {
            let isgid = !isuid;
            set.entries.push(IdmapEntry {
                isuid,
                isgid,
                hostid,
                nsid: 0,
                maprange,
            });
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idmap::tests::DEFAULT_JSON;

    const FULL: Option<&str> = Some("         0          0 4294967295\n");

    fn sources<'a>(subuid: &'a str, subgid: &'a str) -> HostIdSources<'a> {
        let (subuid, subgid) = (Some(subuid), Some(subgid));
        HostIdSources {
            subuid,
            subgid,
            proc_uid_map: FULL,
            proc_gid_map: FULL,
        }
    }

    #[test]
    fn parse_subid_comments_case_and_bad_numbers_handled() {
        // As in LXD, `65536 # old` is not a number (trailing space): that line is skipped.
        let text = "# c\nuser:1:2\nROOT:100000:65536# old\nroot:5:65536 # x\nroot:x:5\nroot:1000000:1000000000\n";
        let got = parse_subid(text, "/etc/subuid", "root").unwrap();
        assert_eq!(got, vec![(100_000, 65_536), (1_000_000, 1_000_000_000)]);
    }

    #[test]
    fn parse_subid_short_line_lxd_error() {
        let err = parse_subid("root:5\n", "/etc/subuid", "root").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"Unexpected values in "/etc/subuid": ["root" "5"]"#
        );
    }

    #[test]
    fn parse_subid_no_entry_no_user_map() {
        let err = parse_subid("lxd:100000:65536\n", "/etc/subuid", "root").unwrap_err();
        assert_eq!(err, IdmapError::NoUserMap);
    }

    #[test]
    fn default_idmap_first_large_root_entry_chosen() {
        let subuid = "root:1000:1000\nroot:100000:65536\nroot:1000000:1000000000\n";
        let subgid = "root:200000:70000\n";
        let set = default_idmap(&sources(subuid, subgid), "root").unwrap();
        let want = [
            IdmapEntry::uid(100_000, 0, 65_536),
            IdmapEntry::gid(200_000, 0, 70_000),
        ];
        assert_eq!(set.entries, want);
    }

    #[test]
    fn default_idmap_only_small_root_entries_kind_left_out() {
        let set = default_idmap(&sources("root:1000:1000\n", "root:100000:65536\n"), "root");
        assert_eq!(set.unwrap().entries, [IdmapEntry::gid(100_000, 0, 65_536)]);
    }

    #[test]
    fn default_idmap_no_root_entry_lxd_fallback() {
        let set = default_idmap(
            &sources("lxd:100000:65536\n", "root:100000:65536\n"),
            "root",
        );
        assert_eq!(set.unwrap().to_json(), DEFAULT_JSON);
    }

    #[test]
    fn default_idmap_files_missing_lxd_fallback() {
        let src = HostIdSources {
            proc_uid_map: FULL,
            proc_gid_map: FULL,
            ..Default::default()
        };
        let set = default_idmap(&src, "root").unwrap();
        assert_eq!(set.to_json(), DEFAULT_JSON);
        let unreadable = HostIdSources {
            proc_uid_map: Some(""),
            ..Default::default()
        };
        let set = default_idmap(&unreadable, "root").unwrap();
        assert_eq!(set.to_json(), DEFAULT_JSON);
    }

    #[test]
    fn default_idmap_other_user_without_entry_error() {
        let err = default_idmap(&sources("root:1:65536\n", "root:1:65536\n"), "lxd").unwrap_err();
        assert_eq!(err.to_string(), "No map found for user");
    }

    #[test]
    fn kernel_default_map_nested_range_clipped_at_100000() {
        let map = Some("0 1000000 1000000000\n");
        let set = kernel_default_map(map, map);
        let want = [
            IdmapEntry::uid(100_000, 0, 999_900_000),
            IdmapEntry::gid(100_000, 0, 999_900_000),
        ];
        assert_eq!(set.entries, want);
    }

    #[test]
    fn kernel_default_map_small_nested_range_empty() {
        let map = Some("0 100000 65536\n");
        assert_eq!(kernel_default_map(map, map).entries, []);
    }

    #[test]
    fn parse_kernel_map_missing_file_zero_entry() {
        let set = parse_kernel_map(None, Some("0 0 10")).unwrap();
        assert_eq!(
            set.entries,
            [IdmapEntry::uid(0, 0, 0), IdmapEntry::gid(0, 0, 10)]
        );
        assert_eq!(
            parse_kernel_map(Some("\n"), None).unwrap_err(),
            IdmapError::EmptyKernelMap
        );
    }
}
