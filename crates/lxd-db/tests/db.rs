//! Database tier tests: migrations, typed queries, and the single-writer guarantees.

use std::collections::BTreeMap;
use std::sync::Arc;

use lxd_db::profiles::{self, ProfileRow};
use lxd_db::{pools, server_config, Database, DbError};

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("local.db")).unwrap();
    (dir, db)
}

#[test]
fn open_fresh_database_has_default_project_and_profile() {
    let (_dir, db) = open();
    let names = db.read(|c| profiles::names(c, "default")).unwrap();
    assert_eq!(names, vec!["default".to_string()]);
    let p = db.read(|c| profiles::get(c, "default", "default")).unwrap();
    assert_eq!(p.description, "Default LXD profile");
    assert_eq!(db.integrity_check().unwrap(), "ok");
}

#[test]
fn reopen_existing_database_keeps_rows_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    {
        let db = Database::open(&path).unwrap();
        let mut cfg = BTreeMap::new();
        cfg.insert("user.a".to_string(), "1".to_string());
        db.write_blocking(move |c| server_config::replace_all(c, &cfg))
            .unwrap();
        db.close();
    }
    let db = Database::open(&path).unwrap();
    let cfg = db.read(server_config::get_all).unwrap();
    assert_eq!(cfg.get("user.a").map(String::as_str), Some("1"));
    let versions: i64 = db
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM schema", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(versions as usize, lxd_db::SCHEMA_VERSION);
}

#[test]
fn profile_create_duplicate_is_already_exists_and_rolls_back_only_itself() {
    let (_dir, db) = open();
    let row = ProfileRow {
        name: "p1".into(),
        ..Default::default()
    };
    let r2 = row.clone();
    db.write_blocking(move |c| profiles::create(c, "default", &r2))
        .unwrap();
    let r3 = row.clone();
    let err = db
        .write_blocking(move |c| profiles::create(c, "default", &r3))
        .unwrap_err();
    assert!(matches!(err, DbError::AlreadyExists("profile")), "{err:?}");
    assert_eq!(db.read(|c| profiles::names(c, "default")).unwrap().len(), 2);
}

#[test]
fn profile_devices_round_trip() {
    let (_dir, db) = open();
    let mut row = ProfileRow {
        name: "p1".into(),
        description: "d".into(),
        ..Default::default()
    };
    row.config.insert("limits.memory".into(), "256MB".into());
    let mut root = BTreeMap::new();
    root.insert("type".to_string(), "disk".to_string());
    root.insert("path".to_string(), "/".to_string());
    row.devices.insert("root".into(), root);
    row.devices.insert(
        "mask".into(),
        [("type".to_string(), "none".to_string())].into(),
    );
    let w = row.clone();
    db.write_blocking(move |c| profiles::create(c, "default", &w))
        .unwrap();
    assert_eq!(db.read(|c| profiles::get(c, "default", "p1")).unwrap(), row);
    db.write_blocking(|c| profiles::rename(c, "default", "p1", "p2"))
        .unwrap();
    assert!(db
        .read(|c| profiles::get(c, "default", "p1"))
        .unwrap_err()
        .is_not_found());
}

#[test]
fn pools_crud_round_trip() {
    let (_dir, db) = open();
    let mut row = pools::PoolRow {
        name: "default".into(),
        driver: "dir".into(),
        status: "Created".into(),
        ..Default::default()
    };
    row.config.insert("source".into(), "/x".into());
    let w = row.clone();
    db.write_blocking(move |c| pools::create(c, &w)).unwrap();
    assert_eq!(db.read(|c| pools::get(c, "default")).unwrap(), row);
    db.write_blocking(|c| pools::delete(c, "default")).unwrap();
    assert!(db.read(pools::names).unwrap().is_empty());
}

#[test]
fn fifty_concurrent_writers_never_see_locked() {
    let (_dir, db) = open();
    let db = Arc::new(db);
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let db = db.clone();
            std::thread::spawn(move || {
                for j in 0..20 {
                    let row = ProfileRow {
                        name: format!("p{i}-{j}"),
                        ..Default::default()
                    };
                    db.write_blocking(move |c| profiles::create(c, "default", &row))
                        .expect("write failed");
                    // Reads interleave with the writer.
                    db.read(|c| profiles::names(c, "default"))
                        .expect("read failed");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        db.read(|c| profiles::names(c, "default")).unwrap().len(),
        1 + 50 * 20
    );
    assert_eq!(db.integrity_check().unwrap(), "ok");
}
