//! Every variant of the container profile goes through the real `apparmor_parser` (Debian's
//! `apparmor` package) in parse-only mode (`-QK`: no kernel, no cache), so a rule the parser
//! refuses fails here rather than at container start on an AppArmor host. Skipped with a
//! printed reason where the parser is not installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use lxd_runtime::apparmor::{container_profile, instance_names, ProfileFeatures};

fn parser_present() -> bool {
    Command::new("apparmor_parser")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `Ok` when the parser accepts `text`, else its error output.
fn parse(text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("profile");
    std::fs::write(&file, text).unwrap();
    let out = Command::new("apparmor_parser")
        .arg("-QK")
        .arg(&file)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    match out.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn container_profile_every_variant_accepted_by_apparmor_parser() {
    if !parser_present() {
        println!("skipped: apparmor_parser is not installed");
        return;
    }
    let names = instance_names("p1", "c1", Path::new("/var/lib/lxd"));
    let configs = [
        config(&[]),
        config(&[("security.privileged", "true")]),
        config(&[("security.nesting", "true")]),
        config(&[
            ("security.privileged", "true"),
            ("security.nesting", "true"),
        ]),
        config(&[("raw.apparmor", "deny /etc/issue r,\nptrace,\n")]),
    ];
    for unix in [false, true] {
        for stacking in [false, true] {
            for cgroup_namespace in [false, true] {
                let features = ProfileFeatures {
                    unix,
                    cgroup_namespace,
                    cgroup2: true,
                    stacking,
                    in_user_ns: false,
                };
                for config in &configs {
                    let text = container_profile(&names, config, &features).unwrap();
                    if let Err(e) = parse(&text) {
                        panic!("parser refused {features:?} {config:?}: {e}");
                    }
                }
            }
        }
    }
}

#[test]
fn container_profile_bad_raw_apparmor_refused_by_parser() {
    if !parser_present() {
        println!("skipped: apparmor_parser is not installed");
        return;
    }
    let names = instance_names("default", "c1", Path::new("/var/lib/lxd"));
    let bad = config(&[("raw.apparmor", "this is no rule")]);
    let text = container_profile(&names, &bad, &ProfileFeatures::default()).unwrap();
    let err = parse(&text).unwrap_err();
    assert!(err.contains("syntax error"), "{err}");
}
