//! `raw.idmap` parsing (LXD's `ParseRawIdmap`): lines `both 1000 1000`, `uid 50-60 500-510`
//! or `gid ...`, host ids first, single ids or inclusive ranges of equal size.

use super::{parse_go_int, IdmapEntry, IdmapError, IdmapSet};

/// A `raw.idmap` range: `1000` or `50-60` (inclusive), as (first id, count).
fn parse_range(text: &str) -> Result<(i64, i64), IdmapError> {
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() > 2 {
        return Err(IdmapError::InvalidRange(text.to_string()));
    }
    let base = parse_go_int(parts[0])?;
    let size = match parts.get(1) {
        Some(end) => parse_go_int(end)? - base + 1,
        None => 1,
    };
    // LXD lets `60-50` through as a negative range the kernel later rejects; refuse it here.
    if size <= 0 {
        return Err(IdmapError::InvalidRange(text.to_string()));
    }
    Ok((base, size))
}

/// Parse `raw.idmap` into entries, each added with [`IdmapSet::add_safe`] like LXD does, so
/// that two lines mapping the same host id are refused. Empty lines are skipped; fields are
/// separated by exactly one space.
pub fn parse_raw_idmap(value: &str) -> Result<Vec<IdmapEntry>, IdmapError> {
    let mut set = IdmapSet::default();
    for line in value.split('\n').filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() != 3 {
            return Err(IdmapError::InvalidLine(line.to_string()));
        }
        let (hostid, outside_size) = parse_range(fields[1])?;
        let (nsid, inside_size) = parse_range(fields[2])?;
        if inside_size != outside_size {
            return Err(IdmapError::SizeMismatch(line.to_string()));
        }
        let entry = match fields[0] {
            "both" => IdmapEntry::both(hostid, nsid, inside_size),
            "uid" => IdmapEntry::uid(hostid, nsid, inside_size),
            "gid" => IdmapEntry::gid(hostid, nsid, inside_size),
            _ => return Err(IdmapError::InvalidType(line.to_string())),
        };
        set.add_safe(entry)?;
    }
    Ok(set.entries)
}

/// LXD's `AllowedUnprivilegedOnlyMap`: with unprivileged-only containers, `raw.idmap` must
/// not map host root.
pub fn allowed_unprivileged_only_map(raw_idmap: &str) -> Result<(), IdmapError> {
    if parse_raw_idmap(raw_idmap)?.iter().any(|e| e.hostid == 0) {
        return Err(IdmapError::RootMapForbidden);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_raw_idmap_single_ids_one_entry_each() {
        let got = parse_raw_idmap("both 1000 1000\nuid 50 0\ngid 60 1").unwrap();
        assert_eq!(
            got,
            vec![
                IdmapEntry::both(1000, 1000, 1),
                IdmapEntry::uid(50, 0, 1),
                IdmapEntry::gid(60, 1, 1),
            ]
        );
    }

    #[test]
    fn parse_raw_idmap_ranges_inclusive_sizes() {
        let got = parse_raw_idmap("uid 50-60 500-510\n\n").unwrap();
        assert_eq!(got, vec![IdmapEntry::uid(50, 500, 11)]);
    }

    #[test]
    fn parse_raw_idmap_empty_value_no_entries() {
        assert_eq!(parse_raw_idmap("").unwrap(), vec![]);
    }

    #[test]
    fn parse_raw_idmap_bad_inputs_lxd_errors() {
        let cases = [
            ("both 1000", r#"Invalid ID map line "both 1000""#),
            (
                "both  1000 1000",
                r#"Invalid ID map line "both  1000 1000""#,
            ),
            ("user 1 1", r#"Invalid ID map type "user 1 1""#),
            ("uid 1-2-3 1", r#"Invalid ID Map range "1-2-3""#),
            (
                "uid 50-60 500-505",
                r#"The ID map ranges are of different sizes "uid 50-60 500-505""#,
            ),
            (
                "uid x 1",
                r#"strconv.ParseInt: parsing "x": invalid syntax"#,
            ),
            (
                "uid -5 1",
                r#"strconv.ParseInt: parsing "": invalid syntax"#,
            ),
            (
                "uid 99999999999999999999 1",
                r#"strconv.ParseInt: parsing "99999999999999999999": value out of range"#,
            ),
            ("uid 60-50 60-50", r#"Invalid ID Map range "60-50""#),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_raw_idmap(input).unwrap_err().to_string(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn parse_raw_idmap_same_host_id_twice_refused() {
        let err = parse_raw_idmap("both 1000 1000\nuid 1000 2000").unwrap_err();
        assert_eq!(err, IdmapError::HostIdIsSubId);
    }

    #[test]
    fn allowed_unprivileged_only_map_host_root_refused() {
        assert_eq!(
            allowed_unprivileged_only_map("uid 0 0")
                .unwrap_err()
                .to_string(),
            "Cannot map root user into container as LXD was configured to only allow \
             unprivileged containers"
        );
        assert!(allowed_unprivileged_only_map("both 1000 0").is_ok());
    }
}
