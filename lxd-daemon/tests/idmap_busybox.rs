//! System tier (root): id maps of busybox containers as the kernel sees them
//! (`/proc/PID/uid_map`). Two `security.idmap.isolated` containers get disjoint blocks past the
//! first 65536 ids of the host range, recorded in `volatile.idmap.*`; `security.idmap.size`,
//! `.base` and `raw.idmap` take effect; bad values are refused with LXD's errors and change
//! nothing; with idmapped mounts the rootfs keeps the container's ids on disk and
//! `volatile.last_state.idmap` stays `[]`.

mod support;

use std::os::unix::fs::MetadataExt;

use serde_json::{json, Value};

/// `/proc/PID/uid_map` as (nsid, hostid, range) lines.
fn uid_map(pid: i64) -> Vec<(u64, u64, u64)> {
    std::fs::read_to_string(format!("/proc/{pid}/uid_map"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<u64> = l.split_whitespace().map(|n| n.parse().unwrap()).collect();
            (f[0], f[1], f[2])
        })
        .collect()
}

fn config_str(config: &Value, key: &str) -> String {
    config[key].as_str().unwrap_or_default().to_string()
}

/// The first id of the host range: the first `root` entry of /etc/subuid with at least
/// 65536 ids, else LXD's 1000000.
fn host_base() -> u64 {
    std::fs::read_to_string("/etc/subuid")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 3 && f[0] == "root").then(|| (f[1].parse().ok(), f[2].parse().ok()))
        })
        .find_map(|(start, count): (Option<u64>, Option<u64>)| {
            count.filter(|c| *c >= 65_536).and(start)
        })
        .unwrap_or(1_000_000)
}

fn patch(d: &support::BusyboxDaemon, name: &str, config: Value) -> Result<Value, String> {
    d.api.call(
        "PATCH",
        &format!("/1.0/instances/{name}"),
        Some(json!({ "config": config })),
    )
}

#[test]
fn idmap_isolated_size_base_raw_and_bad_values() {
    let d = support::BusyboxDaemon::start();
    let base = host_base();

    // Default: the shared host map, and an unshifted rootfs.
    d.launch("idm-shared");
    let pid = d.init_pid("idm-shared");
    assert_eq!(uid_map(pid)[0].0, 0);
    assert_eq!(uid_map(pid)[0].1, base);
    let config = d.config("idm-shared");
    assert_eq!(config_str(&config, "volatile.last_state.idmap"), "[]");
    assert_eq!(config_str(&config, "volatile.idmap.base"), "0");
    assert_eq!(
        config_str(&config, "volatile.idmap.current"),
        config_str(&config, "volatile.idmap.next")
    );
    let rootfs = d
        .dir
        .join("storage-pools/default/containers/idm-shared/rootfs");
    assert_eq!(std::fs::metadata(rootfs.join("bin")).unwrap().uid(), 0);

    // Two isolated containers: disjoint blocks of 65536 after the first block.
    d.launch_with("idm-iso1", json!({"security.idmap.isolated": "true"}));
    d.launch_with("idm-iso2", json!({"security.idmap.isolated": "true"}));
    let map1 = uid_map(d.init_pid("idm-iso1"));
    let map2 = uid_map(d.init_pid("idm-iso2"));
    assert_eq!(map1, vec![(0, base + 65_536, 65_536)]);
    assert_eq!(map2, vec![(0, base + 2 * 65_536, 65_536)]);
    let c2 = d.config("idm-iso2");
    assert_eq!(
        config_str(&c2, "volatile.idmap.base"),
        (base + 2 * 65_536).to_string()
    );
    let (code, out) = d.exec("idm-iso2", &["id", "-u"]);
    assert_eq!((code, out.trim()), (0, "0"));

    // Size, base and raw.idmap on a stopped container take effect at its next start.
    let name = "idm-tuned";
    d.create_with(
        name,
        json!({
            "security.idmap.isolated": "true",
            "security.idmap.size": "100000",
            "security.idmap.base": "3000000",
            "raw.idmap": "both 1000 1000",
        }),
    );
    d.start_instance(name);
    let map = uid_map(d.init_pid(name));
    assert_eq!(
        map,
        vec![
            (0, 3_000_000, 1000),
            (1000, 1000, 1),
            (1001, 3_001_001, 98_999)
        ]
    );

    // Bad values: LXD's errors, nothing changed.
    d.remove(name);
    d.create_with("idm-bad", json!({}));
    let before = d.config("idm-bad");
    let cases = [
        (
            json!({"raw.idmap": "foo 1 1"}),
            r#"Failed to get ID map: Invalid ID map type "foo 1 1""#,
        ),
        (
            json!({"raw.idmap": "both 1000"}),
            r#"Failed to get ID map: Invalid ID map line "both 1000""#,
        ),
        (
            json!({"raw.idmap": "both 1000 1000\nuid 1000 2000"}),
            "Failed to get ID map: Host id is in the range of subids",
        ),
        (
            json!({"security.idmap.size": "abc"}),
            r#"Invalid config: Invalid value for uint32 "abc": strconv.ParseUint: parsing "abc": invalid syntax"#,
        ),
        (
            json!({"security.idmap.isolated": "true", "security.idmap.size": "4000000000"}),
            "Failed to get ID map: Not enough uid/gid available for the container",
        ),
    ];
    for (config, want) in cases {
        let err = patch(&d, "idm-bad", config.clone()).unwrap_err();
        assert!(err.contains(want), "{config}: {err}");
    }
    assert_eq!(
        d.config("idm-bad"),
        before,
        "a refused update changed nothing"
    );
    let create = json!({
        "name": "idm-bad2",
        "config": {"raw.idmap": "foo 1 1"},
        "source": {"type": "image", "fingerprint": d.fingerprint},
    });
    let op = d.api.call("POST", "/1.0/instances", Some(create)).unwrap();
    let id = op["id"].as_str().unwrap();
    let done = d
        .api
        .call(
            "GET",
            &format!("/1.0/operations/{id}/wait?timeout=60"),
            None,
        )
        .unwrap();
    assert_eq!(done["status"], "Failure");
    assert_eq!(
        done["err"],
        r#"Failed creating instance record: Failed initialising instance: Invalid ID map type "foo 1 1""#
    );
    assert!(d.api.call("GET", "/1.0/instances/idm-bad2", None).is_err());
    for name in ["idm-shared", "idm-iso1", "idm-iso2"] {
        d.remove(name);
    }
}
