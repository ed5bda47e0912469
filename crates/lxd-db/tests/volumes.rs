//! Storage volume and volume snapshot queries: round trips, uniqueness, relocation, cascades.

use lxd_api::ConfigMap;
use lxd_db::pools::{self, PoolRow};
use lxd_db::volumes::{self, VolumeKey, VolumeRow, VolumeSnapshotRow};
use lxd_db::{Database, DbError};

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("local.db")).unwrap();
    for name in ["p1", "p2"] {
        let row = PoolRow {
            name: name.into(),
            driver: "dir".into(),
            status: "Created".into(),
            ..Default::default()
        };
        db.write_blocking(move |c| pools::create(c, &row)).unwrap();
    }
    (dir, db)
}

fn map(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn vol(name: &str) -> VolumeRow {
    VolumeRow {
        name: name.into(),
        vol_type: "custom".into(),
        description: "d".into(),
        content_type: "filesystem".into(),
        created_at: "2026-12-02T00:00:00Z".into(),
        config: map(&[("size", "1GiB")]),
    }
}

fn key<'a>(pool: &'a str, name: &'a str) -> VolumeKey<'a> {
    VolumeKey {
        pool,
        project: "default",
        vol_type: "custom",
        name,
    }
}

#[test]
fn volume_create_get_list_round_trip() {
    let (_d, db) = open();
    db.write_blocking(|c| volumes::create(c, "p1", "default", &vol("b")))
        .unwrap();
    db.write_blocking(|c| volumes::create(c, "p1", "default", &vol("a")))
        .unwrap();
    let got = db.read(|c| volumes::get(c, key("p1", "a"))).unwrap();
    assert_eq!(got, vol("a"));
    let list = db.read(|c| volumes::list(c, "p1", None)).unwrap();
    let names: Vec<_> = list.iter().map(|(_, r)| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(db
        .read(|c| volumes::list(c, "p2", None))
        .unwrap()
        .is_empty());
    assert!(db
        .read(|c| volumes::list(c, "p1", Some("nope")))
        .unwrap()
        .is_empty());
}

#[test]
fn volume_create_duplicate_already_exists() {
    let (_d, db) = open();
    db.write_blocking(|c| volumes::create(c, "p1", "default", &vol("a")))
        .unwrap();
    let err = db
        .write_blocking(|c| volumes::create(c, "p1", "default", &vol("a")))
        .unwrap_err();
    assert!(matches!(err, DbError::AlreadyExists(_)), "{err:?}");
    // The same name on another pool is fine.
    db.write_blocking(|c| volumes::create(c, "p2", "default", &vol("a")))
        .unwrap();
}

#[test]
fn volume_update_relocate_delete() {
    let (_d, db) = open();
    db.write_blocking(|c| volumes::create(c, "p1", "default", &vol("a")))
        .unwrap();
    db.write_blocking(|c| volumes::update(c, key("p1", "a"), "new", &map(&[("k", "v")])))
        .unwrap();
    let got = db.read(|c| volumes::get(c, key("p1", "a"))).unwrap();
    assert_eq!(
        (got.description.as_str(), got.config),
        ("new", map(&[("k", "v")]))
    );
    let snap = VolumeSnapshotRow {
        name: "s0".into(),
        created_at: "t".into(),
        expires_at: "0001-01-01T00:00:00Z".into(),
        config: map(&[("k", "v")]),
        ..Default::default()
    };
    db.write_blocking(move |c| volumes::create_snapshot(c, key("p1", "a"), &snap))
        .unwrap();
    db.write_blocking(|c| volumes::relocate(c, key("p1", "a"), "p2", "default", "b"))
        .unwrap();
    assert!(db
        .read(|c| volumes::get(c, key("p1", "a")))
        .unwrap_err()
        .is_not_found());
    let snaps = db.read(|c| volumes::snapshots(c, key("p2", "b"))).unwrap();
    assert_eq!(snaps.len(), 1);
    db.write_blocking(|c| volumes::delete(c, key("p2", "b")))
        .unwrap();
    assert!(db
        .read(|c| volumes::snapshots(c, key("p2", "b")))
        .unwrap_err()
        .is_not_found());
}

#[test]
fn snapshot_create_rename_update_delete() {
    let (_d, db) = open();
    db.write_blocking(|c| volumes::create(c, "p1", "default", &vol("a")))
        .unwrap();
    for name in ["s0", "s1"] {
        let snap = VolumeSnapshotRow {
            name: name.into(),
            description: String::new(),
            created_at: "t".into(),
            expires_at: "0001-01-01T00:00:00Z".into(),
            config: map(&[("size", "1GiB")]),
        };
        db.write_blocking(move |c| volumes::create_snapshot(c, key("p1", "a"), &snap))
            .unwrap();
    }
    let err = db
        .write_blocking(|c| volumes::rename_snapshot(c, key("p1", "a"), "s0", "s1"))
        .unwrap_err();
    assert!(matches!(err, DbError::AlreadyExists(_)), "{err:?}");
    db.write_blocking(|c| volumes::rename_snapshot(c, key("p1", "a"), "s0", "x"))
        .unwrap();
    db.write_blocking(|c| volumes::update_snapshot(c, key("p1", "a"), "x", "desc", "e"))
        .unwrap();
    let got = db
        .read(|c| volumes::snapshot(c, key("p1", "a"), "x"))
        .unwrap();
    assert_eq!(
        (got.description.as_str(), got.expires_at.as_str()),
        ("desc", "e")
    );
    assert_eq!(got.config, map(&[("size", "1GiB")]));
    db.write_blocking(|c| volumes::delete_snapshot(c, key("p1", "a"), "x"))
        .unwrap();
    let names: Vec<_> = db
        .read(|c| volumes::snapshots(c, key("p1", "a")))
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["s1"]);
}
