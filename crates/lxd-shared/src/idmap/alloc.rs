//! A container's map from its config (LXD's `findIdmap` and `idmapSize`): the host range
//! shared by every container, or with `security.idmap.isolated` a block of its own
//! (`security.idmap.size` ids, at `security.idmap.base` or in the first gap after the other
//! isolated containers' blocks), with the `raw.idmap` entries spliced in.
//!
//! The caller collects the other containers' blocks ([`IsolatedBlock::of_container`]) under
//! one lock, as LXD does, and stores the result in `volatile.idmap.next` and `.base`.

use super::{is_true, parse_go_int, parse_raw_idmap, IdmapEntry, IdmapError, IdmapSet};

/// The size of an isolated block when `security.idmap.size` is unset.
pub const ISOLATED_DEFAULT_SIZE: i64 = 65_536;

/// The idmap keys of an instance's expanded config, as raw strings (`""` when unset).
#[derive(Debug, Clone, Copy, Default)]
pub struct IdmapConfig<'a> {
    /// `security.idmap.isolated`.
    pub isolated: &'a str,
    /// `security.idmap.base`.
    pub base: &'a str,
    /// `security.idmap.size`.
    pub size: &'a str,
    /// `raw.idmap`.
    pub raw: &'a str,
}

impl<'a> IdmapConfig<'a> {
    /// Read the four keys through `get` (e.g. `|k| config.get(k).map(String::as_str)`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<&'a str>) -> Self {
        IdmapConfig {
            isolated: get("security.idmap.isolated").unwrap_or(""),
            base: get("security.idmap.base").unwrap_or(""),
            size: get("security.idmap.size").unwrap_or(""),
            raw: get("raw.idmap").unwrap_or(""),
        }
    }

    /// Whether `security.idmap.isolated` is true.
    pub fn isolated(&self) -> bool {
        is_true(self.isolated)
    }
}

/// The host ids another isolated container holds: `volatile.idmap.base` and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsolatedBlock {
    pub base: i64,
    pub size: i64,
}

impl IsolatedBlock {
    /// The block of another unprivileged container with expanded `config` and
    /// `volatile.idmap.base` (`""` counts as 0); `None` when it is not isolated.
    /// Privileged containers and the container being mapped must be left out by the caller.
    pub fn of_container(
        host: &IdmapSet,
        config: &IdmapConfig,
        volatile_base: &str,
    ) -> Result<Option<Self>, IdmapError> {
        if !config.isolated() {
            return Ok(None);
        }
        let base = if volatile_base.is_empty() {
            0
        } else {
            parse_go_int(volatile_base)?
        };
        let size = idmap_size(host, config.isolated, config.size)?;
        Ok(Some(IsolatedBlock { base, size }))
    }

    fn end(&self) -> i64 {
        self.base + self.size
    }
}

/// LXD's `idmapSize`: `security.idmap.size` when set (other than `auto`), else 65536 for an
/// isolated container, else the size of the host's range (which must hold two entries).
pub fn idmap_size(host: &IdmapSet, isolated: &str, size: &str) -> Result<i64, IdmapError> {
    if !size.is_empty() && size != "auto" {
        return parse_go_int(size);
    }
    if is_true(isolated) {
        return Ok(ISOLATED_DEFAULT_SIZE);
    }
    match host.entries.as_slice() {
        [first, _] => Ok(first.maprange),
        _ => Err(IdmapError::BadInitialIdmap),
    }
}

fn make_block(offset: i64, size: i64, raw: &[IdmapEntry]) -> Result<IdmapSet, IdmapError> {
    let mut set = IdmapSet::new(vec![
        IdmapEntry::uid(offset, 0, size),
        IdmapEntry::gid(offset, 0, size),
    ]);
    for entry in raw {
        set.add_safe(*entry)?;
    }
    Ok(set)
}

/// LXD's `findIdmap` for an unprivileged container: its map and `volatile.idmap.base`.
///
/// Not isolated: the host map with `raw.idmap` spliced in, base 0 (`.base` and `.size` are
/// ignored, as in LXD). Isolated: a block of `idmap_size` ids at `security.idmap.base`, or
/// LXD's first-fit search that starts 65536 ids into the host range and steps over `others`
/// (sorted by base); [`IdmapError::NotEnoughIds`] when the host range is exhausted.
pub fn find_idmap(
    host: &IdmapSet,
    config: &IdmapConfig,
    others: &[IsolatedBlock],
) -> Result<(IdmapSet, i64), IdmapError> {
    let raw = parse_raw_idmap(config.raw)?;
    if !config.isolated() {
        let mut set = host.clone();
        for entry in &raw {
            set.add_safe(*entry)?;
        }
        return Ok((set, 0));
    }

    let size = idmap_size(host, config.isolated, config.size)?;
    if !config.base.is_empty() {
        let offset = parse_go_int(config.base)?;
        return Ok((make_block(offset, size, &raw)?, offset));
    }

    let host_range = host.entries.first().ok_or(IdmapError::BadInitialIdmap)?;
    let mut blocks = others.to_vec();
    blocks.sort_by_key(|b| b.base);

    // LXD's walk, kept step for step: a gap must be strictly larger than `size`.
    let mut offset = host_range.hostid + ISOLATED_DEFAULT_SIZE;
    for (i, block) in blocks.iter().enumerate() {
        if i == 0 {
            if block.base < offset + size {
                offset = block.end();
                continue;
            }
            return Ok((make_block(offset, size, &raw)?, offset));
        }
        let prev = blocks[i - 1];
        if prev.end() > offset {
            offset = prev.end();
            continue;
        }
        offset = prev.end();
        if offset + size < block.base {
            return Ok((make_block(offset, size, &raw)?, offset));
        }
        offset = block.end();
    }
    if offset + size < host_range.hostid + host_range.maprange {
        return Ok((make_block(offset, size, &raw)?, offset));
    }
    Err(IdmapError::NotEnoughIds)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::idmap::tests::DEFAULT_JSON;

    fn host() -> IdmapSet {
        IdmapSet::new(vec![
            IdmapEntry::uid(1_000_000, 0, 1_000_000_000),
            IdmapEntry::gid(1_000_000, 0, 1_000_000_000),
        ])
    }

    fn isolated() -> IdmapConfig<'static> {
        IdmapConfig {
            isolated: "true",
            ..Default::default()
        }
    }

    fn block(base: i64) -> IsolatedBlock {
        IsolatedBlock { base, size: 65_536 }
    }

    fn base_of(others: &[IsolatedBlock]) -> i64 {
        find_idmap(&host(), &isolated(), others).unwrap().1
    }

    #[test]
    fn find_idmap_default_config_host_map_base_zero() {
        let (set, base) = find_idmap(&host(), &IdmapConfig::default(), &[]).unwrap();
        assert_eq!((set.to_json().as_str(), base), (DEFAULT_JSON, 0));
    }

    #[test]
    fn find_idmap_not_isolated_base_and_size_ignored() {
        let config = IdmapConfig {
            base: "5000000",
            size: "10",
            ..Default::default()
        };
        assert_eq!(find_idmap(&host(), &config, &[]).unwrap(), (host(), 0));
    }

    #[test]
    fn find_idmap_raw_idmap_punches_hole_lxd_json() {
        let config = IdmapConfig {
            raw: "both 1000 1000",
            ..Default::default()
        };
        let (set, _) = find_idmap(&host(), &config, &[]).unwrap();
        let hole = r#"{"Isuid":true,"Isgid":true,"Hostid":1000,"Nsid":1000,"Maprange":1}"#;
        let want = format!(
            "[{},{hole},{},{},{hole},{}]",
            r#"{"Isuid":true,"Isgid":false,"Hostid":1000000,"Nsid":0,"Maprange":1000}"#,
            r#"{"Isuid":true,"Isgid":false,"Hostid":1001001,"Nsid":1001,"Maprange":999998999}"#,
            r#"{"Isuid":false,"Isgid":true,"Hostid":1000000,"Nsid":0,"Maprange":1000}"#,
            r#"{"Isuid":false,"Isgid":true,"Hostid":1001001,"Nsid":1001,"Maprange":999998999}"#,
        );
        assert_eq!(set.to_json(), want);
    }

    #[test]
    fn find_idmap_isolated_first_container_after_first_block() {
        let (set, base) = find_idmap(&host(), &isolated(), &[]).unwrap();
        assert_eq!(base, 1_065_536);
        let want = [
            IdmapEntry::uid(1_065_536, 0, 65_536),
            IdmapEntry::gid(1_065_536, 0, 65_536),
        ];
        assert_eq!(set.entries, want);
    }

    #[test]
    fn find_idmap_isolated_others_taken_next_free() {
        assert_eq!(base_of(&[block(1_065_536)]), 1_131_072);
        assert_eq!(base_of(&[block(1_131_072), block(1_065_536)]), 1_196_608);
    }

    #[test]
    fn find_idmap_isolated_gap_larger_than_size_used() {
        assert_eq!(base_of(&[block(1_065_536), block(1_262_144)]), 1_131_072);
        assert_eq!(base_of(&[block(2_000_000)]), 1_065_536);
    }

    #[test]
    fn find_idmap_isolated_exact_fit_gap_skipped_like_lxd() {
        assert_eq!(base_of(&[block(1_065_536), block(1_196_608)]), 1_262_144);
    }

    #[test]
    fn find_idmap_isolated_base_and_size_honoured() {
        let config = IdmapConfig {
            base: "1500000",
            size: "200000",
            ..isolated()
        };
        let (set, base) = find_idmap(&host(), &config, &[block(1_500_000)]).unwrap();
        assert_eq!(base, 1_500_000);
        assert_eq!(set.entries[0], IdmapEntry::uid(1_500_000, 0, 200_000));
    }

    #[test]
    fn find_idmap_isolated_host_range_exhausted_error() {
        let small = IdmapSet::new(vec![
            IdmapEntry::uid(100_000, 0, 196_608),
            IdmapEntry::gid(100_000, 0, 196_608),
        ]);
        assert_eq!(find_idmap(&small, &isolated(), &[]).unwrap().1, 165_536);
        let err = find_idmap(&small, &isolated(), &[block(165_536)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Not enough uid/gid available for the container"
        );
    }

    #[test]
    fn find_idmap_bad_values_go_errors() {
        let config = IdmapConfig {
            base: "x",
            ..isolated()
        };
        let err = find_idmap(&host(), &config, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"strconv.ParseInt: parsing "x": invalid syntax"#
        );
        let config = IdmapConfig {
            raw: "uid 1",
            ..Default::default()
        };
        assert!(matches!(
            find_idmap(&host(), &config, &[]),
            Err(IdmapError::InvalidLine(_))
        ));
        let config = IdmapConfig {
            raw: "both 1000000 5",
            ..Default::default()
        };
        assert_eq!(
            find_idmap(&host(), &config, &[]).unwrap_err(),
            IdmapError::HostIdIsSubId
        );
    }

    #[test]
    fn idmap_size_rules_match_lxd() {
        assert_eq!(idmap_size(&host(), "false", ""), Ok(1_000_000_000));
        assert_eq!(idmap_size(&host(), "true", "auto"), Ok(65_536));
        assert_eq!(idmap_size(&host(), "", "1000"), Ok(1000));
        let one = IdmapSet::new(vec![IdmapEntry::uid(1, 0, 65_536)]);
        assert_eq!(
            idmap_size(&one, "", "").unwrap_err().to_string(),
            "bad initial idmap"
        );
    }

    #[test]
    fn isolated_block_of_container_from_config_map() {
        let config: BTreeMap<String, String> = [
            ("security.idmap.isolated", "yes"),
            ("security.idmap.size", "100000"),
            ("raw.idmap", "uid 5 5"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let config = IdmapConfig::from_lookup(|k| config.get(k).map(String::as_str));
        assert_eq!((config.raw, config.base), ("uid 5 5", ""));
        let got = IsolatedBlock::of_container(&host(), &config, "1065536").unwrap();
        assert_eq!(
            got,
            Some(IsolatedBlock {
                base: 1_065_536,
                size: 100_000
            })
        );
        let got = IsolatedBlock::of_container(&host(), &config, "").unwrap();
        assert_eq!(
            got,
            Some(IsolatedBlock {
                base: 0,
                size: 100_000
            })
        );
        let shared = IdmapConfig::default();
        assert_eq!(IsolatedBlock::of_container(&host(), &shared, "0"), Ok(None));
    }
}
