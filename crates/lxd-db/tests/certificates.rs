//! The trust store table: create, prefix lookup, update with projects, delete.

use lxd_db::certificates::{self, CertificateRow};
use lxd_db::{Database, DbError};

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("local.db")).unwrap();
    (dir, db)
}

fn row(fingerprint: &str, name: &str) -> CertificateRow {
    CertificateRow {
        fingerprint: fingerprint.into(),
        kind: "client".into(),
        name: name.into(),
        certificate: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n".into(),
        restricted: false,
        projects: Vec::new(),
    }
}

#[test]
fn certificates_create_then_prefix_lookup_finds_one_or_reports_ambiguity() {
    let (_dir, db) = open();
    db.write_blocking(|c| certificates::create(c, &row("abc1", "one")))
        .unwrap();
    db.write_blocking(|c| certificates::create(c, &row("abd2", "two")))
        .unwrap();
    let one = db.read(|c| certificates::get_by_prefix(c, "abc")).unwrap();
    assert_eq!(one.name, "one");
    assert!(matches!(
        db.read(|c| certificates::get_by_prefix(c, "ab")),
        Err(DbError::Ambiguous(_))
    ));
    assert!(matches!(
        db.read(|c| certificates::get_by_prefix(c, "zz")),
        Err(DbError::NotFound(_))
    ));
    // LIKE wildcards in a prefix are literal characters.
    assert!(db.read(|c| certificates::get_by_prefix(c, "%")).is_err());
    let names: Vec<String> = db
        .read(certificates::list)
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["one", "two"]);
}

#[test]
fn certificates_duplicate_fingerprint_is_already_exists() {
    let (_dir, db) = open();
    db.write_blocking(|c| certificates::create(c, &row("ff", "a")))
        .unwrap();
    let err = db
        .write_blocking(|c| certificates::create(c, &row("ff", "b")))
        .unwrap_err();
    assert!(matches!(err, DbError::AlreadyExists(_)), "{err:?}");
    assert_eq!(db.read(certificates::list).unwrap().len(), 1);
}

#[test]
fn certificates_update_changes_fields_and_projects_unknown_project_fails_whole() {
    let (_dir, db) = open();
    db.write_blocking(|c| certificates::create(c, &row("aa", "a")))
        .unwrap();
    let mut next = row("bb", "renamed");
    next.restricted = true;
    next.projects = vec!["default".into()];
    db.write_blocking(move |c| certificates::update(c, "aa", &next))
        .unwrap();
    assert!(db.read(|c| certificates::get(c, "aa")).unwrap().is_none());
    let got = db.read(|c| certificates::get(c, "bb")).unwrap().unwrap();
    assert_eq!(got.name, "renamed");
    assert!(got.restricted);
    assert_eq!(got.projects, ["default"]);

    let mut bad = row("cc", "c");
    bad.projects = vec!["nope".into()];
    let err = db
        .write_blocking(move |c| certificates::create(c, &bad))
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(db.read(|c| certificates::get(c, "cc")).unwrap().is_none());
}

#[test]
fn certificates_delete_removes_row_and_unknown_is_not_found() {
    let (_dir, db) = open();
    let mut r = row("aa", "a");
    r.projects = vec!["default".into()];
    db.write_blocking(move |c| certificates::create(c, &r))
        .unwrap();
    db.write_blocking(|c| certificates::delete(c, "aa"))
        .unwrap();
    assert!(db.read(certificates::list).unwrap().is_empty());
    assert!(db
        .write_blocking(|c| certificates::delete(c, "aa"))
        .unwrap_err()
        .is_not_found());
}
