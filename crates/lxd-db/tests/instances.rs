//! Instance and snapshot queries: round trips, profile order, renames, cascades and expansion.

use std::collections::BTreeMap;

use lxd_api::{ConfigMap, DevicesMap};
use lxd_db::instances::snapshots::{self, SnapshotRow};
use lxd_db::instances::{self, InstanceRow};
use lxd_db::profiles::{self, ProfileRow};
use lxd_db::projects::{self, ProjectRow};
use lxd_db::{Database, DbError};

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("local.db")).unwrap();
    (dir, db)
}

fn map(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn row(name: &str, profiles: &[&str]) -> InstanceRow {
    let mut devices = DevicesMap::new();
    devices.insert(
        "root".into(),
        map(&[("type", "disk"), ("path", "/"), ("pool", "default")]),
    );
    devices.insert("eth0".into(), map(&[("type", "none")]));
    InstanceRow {
        name: name.into(),
        kind: "container".into(),
        architecture: "x86_64".into(),
        description: "d".into(),
        created_at: "2026-11-28T00:15:17.250167493Z".into(),
        last_used_at: "1970-01-01T00:00:00Z".into(),
        config: map(&[("image.os", "BusyBox"), ("volatile.idmap.base", "0")]),
        devices,
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    }
}

fn add_profile(db: &Database, project: &str, name: &str) {
    let (project, row) = (
        project.to_string(),
        ProfileRow {
            name: name.into(),
            ..Default::default()
        },
    );
    db.write_blocking(move |c| profiles::create(c, &project, &row))
        .unwrap();
}

fn create(db: &Database, project: &str, r: &InstanceRow) -> Result<(), DbError> {
    let (project, r) = (project.to_string(), r.clone());
    db.write_blocking(move |c| instances::create(c, &project, &r))
}

fn snap(name: &str) -> SnapshotRow {
    SnapshotRow {
        name: name.into(),
        created_at: "2026-11-28T00:15:22.848755259Z".into(),
        expires_at: "0001-01-01T00:00:00Z".into(),
        architecture: "x86_64".into(),
        config: map(&[("volatile.uuid", "u")]),
        devices: [("root".to_string(), map(&[("type", "disk"), ("path", "/")]))].into(),
        profiles: vec!["default".into()],
        ..Default::default()
    }
}

fn add_snapshot(db: &Database, instance: &str, s: SnapshotRow) -> Result<(), DbError> {
    let instance = instance.to_string();
    db.write_blocking(move |c| snapshots::create(c, "default", &instance, &s))
}

fn count(db: &Database, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    db.read(|c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .unwrap()
}

#[test]
fn instance_create_get_round_trips_and_keeps_profile_order() {
    let (_dir, db) = open();
    add_profile(&db, "default", "p1");
    add_profile(&db, "default", "p2");
    let r = row("c1", &["p2", "default", "p1"]);
    create(&db, "default", &r).unwrap();
    assert_eq!(db.read(|c| instances::get(c, "default", "c1")).unwrap(), r);
    assert_eq!(
        db.read(|c| instances::names(c, "default")).unwrap(),
        vec!["c1"]
    );
    assert_eq!(db.read(|c| instances::list(c, "default")).unwrap(), vec![r]);
}

#[test]
fn instance_list_returns_every_body_sorted_by_name() {
    let (_dir, db) = open();
    let mut expected = Vec::new();
    for name in ["c3", "c1", "c2"] {
        let mut r = row(name, &["default"]);
        r.config.insert("user.name".into(), name.into());
        create(&db, "default", &r).unwrap();
        expected.push(r);
    }
    let bare = row("bare", &[]);
    create(&db, "default", &bare).unwrap();
    expected.push(bare);
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        db.read(|c| instances::list(c, "default")).unwrap(),
        expected
    );
}

#[test]
fn instance_duplicate_name_is_already_exists_but_other_project_is_fine() {
    let (_dir, db) = open();
    create(&db, "default", &row("c1", &["default"])).unwrap();
    let err = create(&db, "default", &row("c1", &[])).unwrap_err();
    assert!(matches!(err, DbError::AlreadyExists("instance")), "{err:?}");
    db.write_blocking(|c| {
        projects::create(
            c,
            &ProjectRow {
                name: "foo".into(),
                description: String::new(),
                config: BTreeMap::new(),
            },
        )
    })
    .unwrap();
    create(&db, "foo", &row("c1", &["default"])).unwrap();
    assert_eq!(
        db.read(instances::all_names).unwrap(),
        vec![
            ("default".to_string(), "c1".to_string()),
            ("foo".to_string(), "c1".to_string())
        ]
    );
}

#[test]
fn instance_create_with_missing_profile_is_not_found_and_leaves_nothing() {
    let (_dir, db) = open();
    let err = create(&db, "default", &row("c1", &["default", "nope"])).unwrap_err();
    assert!(matches!(err, DbError::NotFound("Profile")), "{err:?}");
    assert!(db
        .read(|c| instances::names(c, "default"))
        .unwrap()
        .is_empty());
    assert_eq!(count(&db, "instances_config"), 0);
}

#[test]
fn instance_update_replaces_body_and_keeps_kind_and_times() {
    let (_dir, db) = open();
    add_profile(&db, "default", "p1");
    let r = row("c1", &["default", "p1"]);
    create(&db, "default", &r).unwrap();
    let mut new = r.clone();
    new.architecture = "aarch64".into();
    new.ephemeral = true;
    new.description = "new".into();
    new.config = map(&[("limits.cpu", "2")]);
    new.devices.remove("eth0");
    new.profiles = vec!["p1".into(), "default".into()];
    new.kind = "virtual-machine".into();
    new.created_at = "later".into();
    let w = new.clone();
    db.write_blocking(move |c| instances::update(c, "default", &w))
        .unwrap();
    let got = db.read(|c| instances::get(c, "default", "c1")).unwrap();
    assert_eq!(
        got,
        InstanceRow {
            kind: r.kind.clone(),
            created_at: r.created_at.clone(),
            ..new
        }
    );
}

#[test]
fn set_config_keys_changes_only_the_given_keys() {
    let (_dir, db) = open();
    create(&db, "default", &row("c1", &["default"])).unwrap();
    let changes = map(&[
        ("volatile.idmap.base", ""),
        ("image.os", "Debian"),
        ("volatile.eth0.hwaddr", "00:16:3e:00:00:01"),
    ]);
    db.write_blocking(move |c| instances::set_config_keys(c, "default", "c1", &changes))
        .unwrap();
    let got = db.read(|c| instances::get(c, "default", "c1")).unwrap();
    assert_eq!(
        got.config,
        map(&[
            ("image.os", "Debian"),
            ("volatile.eth0.hwaddr", "00:16:3e:00:00:01")
        ])
    );
    assert_eq!(got.devices, row("c1", &[]).devices);
}

#[test]
fn mark_used_and_set_stateful_update_only_their_field() {
    let (_dir, db) = open();
    create(&db, "default", &row("c1", &["default"])).unwrap();
    db.write_blocking(|c| {
        instances::mark_used(c, "default", "c1", "2026-11-28T00:15:20Z")?;
        instances::set_stateful(c, "default", "c1", true)
    })
    .unwrap();
    let got = db.read(|c| instances::get(c, "default", "c1")).unwrap();
    assert_eq!(got.last_used_at, "2026-11-28T00:15:20Z");
    assert!(got.stateful);
    assert_eq!(got.config, row("c1", &[]).config);
}

#[test]
fn rename_keeps_config_devices_profiles_and_snapshots() {
    let (_dir, db) = open();
    let r = row("c1", &["default"]);
    create(&db, "default", &r).unwrap();
    create(&db, "default", &row("c3", &[])).unwrap();
    add_snapshot(&db, "c1", snap("s0")).unwrap();
    db.write_blocking(|c| instances::rename(c, "default", "c1", "c2"))
        .unwrap();
    assert!(db
        .read(|c| instances::get(c, "default", "c1"))
        .unwrap_err()
        .is_not_found());
    let got = db.read(|c| instances::get(c, "default", "c2")).unwrap();
    assert_eq!(
        got,
        InstanceRow {
            name: "c2".into(),
            ..r
        }
    );
    assert_eq!(
        db.read(|c| snapshots::get(c, "default", "c2", "s0"))
            .unwrap(),
        snap("s0")
    );
    let err = db
        .write_blocking(|c| instances::rename(c, "default", "c2", "c3"))
        .unwrap_err();
    assert!(matches!(err, DbError::AlreadyExists("instance")), "{err:?}");
}

#[test]
fn delete_cascades_to_config_devices_profiles_and_snapshots() {
    let (_dir, db) = open();
    create(&db, "default", &row("c1", &["default"])).unwrap();
    add_snapshot(&db, "c1", snap("s0")).unwrap();
    add_snapshot(&db, "c1", snap("s1")).unwrap();
    db.write_blocking(|c| instances::delete(c, "default", "c1"))
        .unwrap();
    for table in [
        "instances",
        "instances_config",
        "instances_devices",
        "instances_devices_config",
        "instances_profiles",
        "instances_snapshots",
        "instances_snapshots_config",
        "instances_snapshots_devices",
        "instances_snapshots_devices_config",
    ] {
        assert_eq!(count(&db, table), 0, "{table}");
    }
    assert!(db
        .write_blocking(|c| instances::delete(c, "default", "c1"))
        .unwrap_err()
        .is_not_found());
}

#[test]
fn profile_users_span_projects_and_block_profile_delete() {
    let (_dir, db) = open();
    add_profile(&db, "default", "p1");
    db.write_blocking(|c| {
        projects::create(
            c,
            &ProjectRow {
                name: "foo".into(),
                description: String::new(),
                config: BTreeMap::new(),
            },
        )
    })
    .unwrap();
    create(&db, "default", &row("c1", &["default", "p1"])).unwrap();
    create(&db, "default", &row("c2", &["default"])).unwrap();
    create(&db, "foo", &row("f1", &["p1"])).unwrap();
    let users = db
        .read(|c| instances::instances_using_profile(c, "default", "p1"))
        .unwrap();
    assert_eq!(
        users,
        vec![
            ("default".to_string(), "c1".to_string()),
            ("foo".to_string(), "f1".to_string())
        ]
    );
    assert!(db
        .write_blocking(|c| profiles::delete(c, "default", "p1"))
        .is_err());
    db.write_blocking(|c| profiles::rename(c, "default", "p1", "p9"))
        .unwrap();
    let f1 = db.read(|c| instances::get(c, "foo", "f1")).unwrap();
    assert_eq!(f1.profiles, vec!["p9"]);
}

#[test]
fn snapshots_crud_round_trip_in_creation_order() {
    let (_dir, db) = open();
    create(&db, "default", &row("c1", &["default"])).unwrap();
    create(&db, "default", &row("c2", &["default"])).unwrap();
    let mut s1 = snap("s1");
    s1.stateful = true;
    s1.description = "first".into();
    add_snapshot(&db, "c1", snap("s0")).unwrap();
    add_snapshot(&db, "c1", s1.clone()).unwrap();
    add_snapshot(&db, "c2", snap("s0")).unwrap();
    let err = add_snapshot(&db, "c1", snap("s0")).unwrap_err();
    assert!(matches!(err, DbError::AlreadyExists("snapshot")), "{err:?}");
    assert_eq!(
        db.read(|c| snapshots::names(c, "default", "c1")).unwrap(),
        vec!["s0", "s1"]
    );
    assert_eq!(
        db.read(|c| snapshots::list(c, "default", "c1")).unwrap(),
        vec![snap("s0"), s1.clone()]
    );
    db.write_blocking(|c| {
        snapshots::rename(c, "default", "c1", "s1", "s2")?;
        snapshots::set_expiry(c, "default", "c1", "s2", "2030-01-01T00:00:00Z")?;
        snapshots::delete(c, "default", "c1", "s0")
    })
    .unwrap();
    let got = db.read(|c| snapshots::list(c, "default", "c1")).unwrap();
    assert_eq!(
        got,
        vec![SnapshotRow {
            name: "s2".into(),
            expires_at: "2030-01-01T00:00:00Z".into(),
            ..s1
        }]
    );
    assert_eq!(
        db.read(|c| snapshots::names(c, "default", "c2")).unwrap(),
        vec!["s0"]
    );
}

#[test]
fn snapshot_lookups_say_which_row_is_missing() {
    let (_dir, db) = open();
    create(&db, "default", &row("c1", &[])).unwrap();
    let err = add_snapshot(&db, "nope", snap("s0")).unwrap_err();
    assert!(matches!(err, DbError::NotFound("Instance")), "{err:?}");
    let err = db
        .read(|c| snapshots::get(c, "default", "c1", "s0"))
        .unwrap_err();
    assert!(
        matches!(err, DbError::NotFound("Instance snapshot")),
        "{err:?}"
    );
    assert!(db
        .read(|c| snapshots::list(c, "default", "c1"))
        .unwrap()
        .is_empty());
}

#[test]
fn expand_applies_profiles_in_order_then_local_with_whole_device_replacement() {
    let p1 = ProfileRow {
        name: "default".into(),
        config: map(&[("limits.cpu", "1"), ("user.a", "1")]),
        devices: [
            (
                "root".to_string(),
                map(&[("type", "disk"), ("path", "/"), ("pool", "p1")]),
            ),
            (
                "eth0".to_string(),
                map(&[("type", "nic"), ("network", "lxdbr0")]),
            ),
        ]
        .into(),
        ..Default::default()
    };
    let p2 = ProfileRow {
        name: "big".into(),
        config: map(&[("limits.cpu", "4")]),
        devices: [("root".to_string(), map(&[("type", "disk"), ("path", "/")]))].into(),
        ..Default::default()
    };
    let local_config = map(&[("user.a", "local")]);
    let local_devices: DevicesMap = [("eth0".to_string(), map(&[("type", "none")]))].into();
    let (config, devices) =
        instances::expand(&[p1.clone(), p2.clone()], &local_config, &local_devices);
    assert_eq!(config, map(&[("limits.cpu", "4"), ("user.a", "local")]));
    assert_eq!(devices["root"], map(&[("type", "disk"), ("path", "/")]));
    assert_eq!(devices["eth0"], map(&[("type", "none")]));
    let (config, devices) = instances::expand(&[p2, p1], &ConfigMap::new(), &DevicesMap::new());
    assert_eq!(config["limits.cpu"], "1");
    assert_eq!(devices["root"]["pool"], "p1");
}

#[test]
fn project_delete_takes_its_instances_and_profile_links() {
    let (_dir, db) = open();
    db.write_blocking(|c| {
        projects::create(
            c,
            &ProjectRow {
                name: "bar".into(),
                description: String::new(),
                config: map(&[("features.profiles", "true")]),
            },
        )
    })
    .unwrap();
    create(&db, "bar", &row("b1", &["default"])).unwrap();
    add_profile(&db, "default", "p1");
    create(&db, "default", &row("c1", &["p1"])).unwrap();
    db.write_blocking(|c| projects::delete(c, "bar")).unwrap();
    assert_eq!(
        db.read(instances::all_names).unwrap(),
        vec![("default".to_string(), "c1".to_string())]
    );
    assert_eq!(count(&db, "instances_profiles"), 1);
}
