//! Unit tests of the id-map set: JSON, splicing, rendering, checks, conversion.

use super::*;

/// `volatile.idmap.next` of a default container on a plain host, as LXD 5.0.2 writes it.
pub(super) const DEFAULT_JSON: &str = r#"[{"Isuid":true,"Isgid":false,"Hostid":1000000,"Nsid":0,"Maprange":1000000000},{"Isuid":false,"Isgid":true,"Hostid":1000000,"Nsid":0,"Maprange":1000000000}]"#;

fn default_set() -> IdmapSet {
    IdmapSet::new(vec![
        IdmapEntry::uid(1_000_000, 0, 1_000_000_000),
        IdmapEntry::gid(1_000_000, 0, 1_000_000_000),
    ])
}

#[test]
fn to_json_default_map_lxd_text() {
    assert_eq!(default_set().to_json(), DEFAULT_JSON);
    assert_eq!(IdmapSet::default().to_json(), "[]");
}

#[test]
fn from_json_lxd_text_round_trips() {
    assert_eq!(
        IdmapSet::from_json(DEFAULT_JSON).unwrap(),
        Some(default_set())
    );
}

#[test]
fn from_json_empty_or_null_none() {
    assert_eq!(IdmapSet::from_json("[]").unwrap(), None);
    assert_eq!(IdmapSet::from_json("null").unwrap(), None);
}

#[test]
fn from_json_missing_fields_zero() {
    let set = IdmapSet::from_json(r#"[{"Isuid":true,"Maprange":5}]"#)
        .unwrap()
        .unwrap();
    assert_eq!(set.entries, vec![IdmapEntry::uid(0, 0, 5)]);
}

#[test]
fn from_json_garbage_error() {
    assert!(matches!(IdmapSet::from_json("{"), Err(IdmapError::Json(_))));
}

#[test]
fn add_safe_middle_splits_in_three() {
    let mut set = IdmapSet::new(vec![IdmapEntry::uid(1000, 0, 1000)]);
    set.add_safe(IdmapEntry::uid(500, 500, 10)).unwrap();
    let want = [
        IdmapEntry::uid(1000, 0, 500),
        IdmapEntry::uid(500, 500, 10),
        IdmapEntry::uid(1510, 510, 490),
    ];
    assert_eq!(set.entries, want);
}

#[test]
fn add_safe_at_start_no_lower_part() {
    let mut set = IdmapSet::new(vec![IdmapEntry::uid(1000, 0, 1000)]);
    set.add_safe(IdmapEntry::uid(500, 0, 10)).unwrap();
    assert_eq!(
        set.entries,
        [IdmapEntry::uid(500, 0, 10), IdmapEntry::uid(1010, 10, 990)]
    );
}

#[test]
fn add_safe_at_end_no_upper_part() {
    let mut set = IdmapSet::new(vec![IdmapEntry::uid(1000, 0, 1000)]);
    set.add_safe(IdmapEntry::uid(500, 995, 10)).unwrap();
    assert_eq!(
        set.entries,
        [IdmapEntry::uid(1000, 0, 995), IdmapEntry::uid(500, 995, 10)]
    );
}

#[test]
fn add_safe_last_single_id_still_splits() {
    let mut set = IdmapSet::new(vec![IdmapEntry::uid(1000, 0, 1000)]);
    set.add_safe(IdmapEntry::uid(5, 999, 1)).unwrap();
    assert_eq!(
        set.entries,
        [IdmapEntry::uid(1000, 0, 999), IdmapEntry::uid(5, 999, 1)]
    );
    set.validate().unwrap();
}

#[test]
fn add_safe_disjoint_appended() {
    let mut set = IdmapSet::new(vec![IdmapEntry::uid(1000, 0, 1000)]);
    set.add_safe(IdmapEntry::gid(5, 5, 1)).unwrap();
    assert_eq!(
        set.entries,
        [IdmapEntry::uid(1000, 0, 1000), IdmapEntry::gid(5, 5, 1)]
    );
}

#[test]
fn add_safe_host_ids_overlap_refused() {
    let mut set = IdmapSet::new(vec![IdmapEntry::uid(1000, 0, 1000)]);
    let err = set.add_safe(IdmapEntry::uid(1500, 10, 1)).unwrap_err();
    assert_eq!(err.to_string(), "Host id is in the range of subids");
}

#[test]
fn add_safe_both_over_split_kinds_duplicated_like_lxd() {
    let mut set = default_set();
    set.add_safe(IdmapEntry::both(1000, 1000, 1)).unwrap();
    let hole = IdmapEntry::both(1000, 1000, 1);
    let upper = 1_000_000_000 - 1001;
    let want = [
        IdmapEntry::uid(1_000_000, 0, 1000),
        hole,
        IdmapEntry::uid(1_001_001, 1001, upper),
        IdmapEntry::gid(1_000_000, 0, 1000),
        hole,
        IdmapEntry::gid(1_001_001, 1001, upper),
    ];
    assert_eq!(set.entries, want);
    let map = format!("0 1000000 1000\n1000 1000 1\n1001 1001001 {upper}\n");
    assert_eq!(set.uid_map(), map);
    let gid_map = format!("1000 1000 1\n0 1000000 1000\n1001 1001001 {upper}\n");
    assert_eq!(set.gid_map(), gid_map);
    set.validate().unwrap();
}

#[test]
fn intersects_lxd_cases_match() {
    let set = IdmapEntry::uid(165_536, 0, 65_536);
    assert!(set.intersects(&IdmapEntry::uid(231_071, 0, 65_536)));
    assert!(set.intersects(&IdmapEntry::uid(231_072, 0, 65_536)));
    assert!(set.intersects(&IdmapEntry::uid(231_072, 65_535, 65_536)));
    assert!(!set.intersects(&IdmapEntry::uid(231_072, 65_536, 65_536)));
    assert!(!set.intersects(&IdmapEntry::gid(165_536, 0, 65_536)));
}

#[test]
fn conversion_default_map_offsets_both_ways() {
    let set = default_set();
    assert_eq!(set.to_host(0, 0), (Some(1_000_000), Some(1_000_000)));
    assert_eq!(set.to_host(1000, 5), (Some(1_001_000), Some(1_000_005)));
    assert_eq!(
        set.to_container(1_001_000, 1_000_005),
        (Some(1000), Some(5))
    );
    assert_eq!(set.to_container(0, 999_999), (None, None));
    assert_eq!(set.to_host(1_000_000_000, -1), (None, None));
}

#[test]
fn conversion_raw_hole_maps_through() {
    let mut set = default_set();
    set.add_safe(IdmapEntry::uid(1000, 1000, 1)).unwrap();
    assert_eq!(set.ns_to_host(IdKind::Uid, 1000), Some(1000));
    assert_eq!(set.ns_to_host(IdKind::Gid, 1000), Some(1_001_000));
    assert_eq!(set.host_to_ns(IdKind::Uid, 1000), Some(1000));
    assert_eq!(set.host_to_ns(IdKind::Uid, 1_001_000), None);
    assert_eq!(set.ns_to_host(IdKind::Uid, 1001), Some(1_001_001));
}

#[test]
fn render_default_map_one_line_each() {
    let set = default_set();
    assert_eq!(set.uid_map(), "0 1000000 1000000000\n");
    assert_eq!(set.gid_map(), "0 1000000 1000000000\n");
    assert_eq!(
        set.to_lxc_lines(),
        ["u 0 1000000 1000000000", "g 0 1000000 1000000000"]
    );
}

#[test]
fn to_lxc_lines_both_entry_two_lines() {
    assert_eq!(
        IdmapEntry::both(5, 6, 7).to_lxc_lines(),
        ["u 6 5 7", "g 6 5 7"]
    );
}

#[test]
fn validate_kernel_limits_errors() {
    let over = IdmapSet::new(vec![
        IdmapEntry::uid(100, 0, 10),
        IdmapEntry::uid(200, 5, 10),
    ]);
    assert_eq!(
        over.validate().unwrap_err().to_string(),
        "Overlapping uid map entries '0 100 10' and '5 200 10'"
    );
    let host_over = IdmapSet::new(vec![
        IdmapEntry::gid(100, 0, 10),
        IdmapEntry::gid(105, 50, 10),
    ]);
    assert!(matches!(
        host_over.validate(),
        Err(IdmapError::Overlap { kind: "gid", .. })
    ));
    let empty = IdmapSet::new(vec![IdmapEntry::uid(100, 0, 0)]);
    assert!(matches!(empty.validate(), Err(IdmapError::OutOfBounds(_))));
    let too_big = IdmapSet::new(vec![IdmapEntry::uid(1, 0, 4_294_967_295)]);
    assert!(matches!(
        too_big.validate(),
        Err(IdmapError::OutOfBounds(_))
    ));
    let full = IdmapSet::new(vec![IdmapEntry::uid(0, 0, 4_294_967_295)]);
    full.validate().unwrap();
    let many = IdmapSet::new(
        (0..341)
            .map(|i| IdmapEntry::uid(i * 10, i * 10, 1))
            .collect(),
    );
    assert!(matches!(
        many.validate(),
        Err(IdmapError::TooManyLines { count: 341, .. })
    ));
}

#[test]
fn equivalent_split_and_reordered_true() {
    let both = IdmapSet::new(vec![IdmapEntry::both(1_000_000, 0, 65_536)]);
    let split = IdmapSet::new(vec![
        IdmapEntry::gid(1_000_000, 0, 65_536),
        IdmapEntry::uid(1_000_000, 0, 65_536),
    ]);
    assert!(both.equivalent(&split));
    assert!(!both.equivalent(&default_set()));
    assert!(IdmapSet::default().equivalent(&IdmapSet::default()));
}

#[test]
fn usable_in_full_kernel_map_ok_nested_refused() {
    let full = parse_kernel_map(Some("0 0 4294967295\n"), Some("0 0 4294967295\n")).unwrap();
    default_set().usable_in(&full).unwrap();
    let nested = parse_kernel_map(Some("0 1000000 65536\n"), Some("0 1000000 65536\n")).unwrap();
    assert_eq!(
        default_set().usable_in(&nested).unwrap_err().to_string(),
        "The '[u 0 1000000 1000000000]' map can't work in the current user namespace"
    );
}

#[test]
fn valid_ranges_contiguous_entries_merged() {
    let kernel = parse_kernel_map(Some("0 1000 10\n10 5000 10\n100 0 1"), Some("0 0 5")).unwrap();
    let ranges = kernel.valid_ranges();
    let want = [
        IdRange {
            isuid: true,
            isgid: false,
            start: 0,
            end: 19,
        },
        IdRange {
            isuid: true,
            isgid: false,
            start: 100,
            end: 100,
        },
        IdRange {
            isuid: false,
            isgid: true,
            start: 0,
            end: 4,
        },
    ];
    assert_eq!(ranges, want);
}
