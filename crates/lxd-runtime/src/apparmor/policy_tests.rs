//! Loading, unloading and deleting policy against a recording fake parser and a fake
//! securityfs in a temporary directory.

use lxd_sys::command::RecordingCommandRunner;

use super::*;

fn policy(root: &Path, load: bool, namespace: Option<&str>) -> ContainerPolicy {
    ContainerPolicy {
        dir: root.join("lxd/security/apparmor"),
        file: "lxd-c1".into(),
        profile: "lxd-c1_</var/lib/lxd>".into(),
        load,
        namespace: namespace.map(String::from),
        exec_label: Some("lxd-c1_</var/lib/lxd>".into()),
        securityfs: root.join("securityfs"),
    }
}

fn mark_loaded(securityfs: &Path, entry: &str) {
    std::fs::create_dir_all(securityfs.join("policy/profiles").join(entry)).unwrap();
}

#[test]
fn write_profile_rewrites_only_changed_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("apparmor");
    assert!(write_profile(&dir, "lxd-c1", "profile a {}\n").unwrap());
    let path = profile_path(&dir, "lxd-c1");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(dir.join("cache").is_dir());
    assert!(!write_profile(&dir, "lxd-c1", "profile a {}\n").unwrap());
    assert!(write_profile(&dir, "lxd-c1", "profile b {}\n").unwrap());
    assert_eq!(std::fs::read_to_string(path).unwrap(), "profile b {}\n");
}

#[test]
fn prepare_creates_namespace_and_loads_with_lxd_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), true, Some("lxd-c1_<var-lib-lxd>"));
    std::fs::create_dir_all(p.securityfs.join("policy/namespaces")).unwrap();
    let runner = RecordingCommandRunner::new(vec![Ok(String::new())]);
    prepare(&runner, &p).unwrap();
    assert!(p
        .securityfs
        .join("policy/namespaces/lxd-c1_<var-lib-lxd>")
        .is_dir());
    let dir = p.dir.display();
    assert_eq!(
        runner.calls(),
        [[
            "apparmor_parser".to_string(),
            "-rWL".into(),
            format!("{dir}/cache"),
            format!("{dir}/profiles/lxd-c1"),
        ]]
    );
}

#[test]
fn prepare_parser_failure_reported_with_profile_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), true, None);
    let runner = RecordingCommandRunner::new(vec![Err((1, "syntax error".into()))]);
    let err = prepare(&runner, &p).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to load AppArmor profile \"lxd-c1\""
    );
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("syntax error"), "{source}");
}

#[test]
fn prepare_without_load_runs_no_parser() {
    let tmp = tempfile::tempdir().unwrap();
    let runner = RecordingCommandRunner::new(vec![]);
    prepare(&runner, &policy(tmp.path(), false, None)).unwrap();
    release(&runner, &policy(tmp.path(), false, None)).unwrap();
    assert!(runner.calls().is_empty());
}

#[test]
fn release_unloads_only_a_loaded_profile_and_removes_namespace() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), true, Some("ns1"));
    let ns = p.securityfs.join("policy/namespaces/ns1");
    std::fs::create_dir_all(&ns).unwrap();
    let runner = RecordingCommandRunner::new(vec![Ok(String::new())]);
    // Not loaded (another profile is): no parser call.
    mark_loaded(&p.securityfs, "lxd-c2_.var.lib.lxd.3");
    release(&runner, &p).unwrap();
    assert!(runner.calls().is_empty());
    assert!(!ns.exists());
    // Loaded: securityfs shows the name with '/' as '.' and no angle brackets.
    mark_loaded(&p.securityfs, "lxd-c1_.var.lib.lxd.12");
    assert!(is_loaded(&p.securityfs, &p.profile));
    release(&runner, &p).unwrap();
    assert_eq!(runner.calls()[0][1], "-RWL");
}

#[test]
fn delete_removes_file_and_cache_entry_from_parser_cache_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), true, None);
    write_profile(&p.dir, &p.file, "x").unwrap();
    let feature_cache = p.dir.join("cache/abc123.0");
    std::fs::create_dir_all(&feature_cache).unwrap();
    std::fs::write(feature_cache.join("lxd-c1"), "compiled").unwrap();
    let host = AppArmorHost {
        available: true,
        parser_version: Some((3, 0, 8)),
        securityfs: p.securityfs.clone(),
        ..AppArmorHost::default()
    };
    let runner = RecordingCommandRunner::new(vec![Ok(format!("{}\n", feature_cache.display()))]);
    delete(&runner, &host, &p.dir, &p.file, &p.profile).unwrap();
    assert!(!feature_cache.join("lxd-c1").exists());
    assert!(!profile_path(&p.dir, &p.file).exists());
    assert_eq!(runner.calls()[0][3], "--print-cache-dir");
}

#[test]
fn delete_without_apparmor_removes_files_without_parser() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), false, None);
    write_profile(&p.dir, &p.file, "x").unwrap();
    std::fs::write(p.dir.join("cache/lxd-c1"), "compiled").unwrap();
    let runner = RecordingCommandRunner::new(vec![]);
    delete(
        &runner,
        &AppArmorHost::default(),
        &p.dir,
        &p.file,
        &p.profile,
    )
    .unwrap();
    assert!(!p.dir.join("cache/lxd-c1").exists());
    assert!(!profile_path(&p.dir, &p.file).exists());
    // Deleting again is fine.
    delete(
        &runner,
        &AppArmorHost::default(),
        &p.dir,
        &p.file,
        &p.profile,
    )
    .unwrap();
    assert!(runner.calls().is_empty());
}

#[test]
fn validate_uses_query_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let runner = RecordingCommandRunner::new(vec![Ok(String::new())]);
    validate(&runner, tmp.path(), "lxd-c1").unwrap();
    assert_eq!(runner.calls()[0][1], "-QWL");
}
