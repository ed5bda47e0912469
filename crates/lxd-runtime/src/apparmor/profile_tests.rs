//! Rendering checks of the container profile, including rule-for-rule comparisons with what
//! the real LXD 5.0.2 wrote on a host like this one (no AppArmor in the kernel: no `unix`
//! rules, no stacking; cgroup namespaces and a v2 hierarchy). The fixtures hold LXD's rules
//! normalized: comments and blank lines dropped, `[^...]` classes sorted, lines sorted.

use std::path::Path;

use super::*;
use crate::apparmor::names::instance_names;

const LXD_UNPRIVILEGED: &str = include_str!("fixtures/lxd-5.0.2-unprivileged.rules");
const LXD_PRIVILEGED_NESTING_RAW: &str =
    include_str!("fixtures/lxd-5.0.2-privileged-nesting-raw.rules");

/// Rules of a rendered profile in the fixtures' normal form.
fn normalized(profile: &str) -> Vec<String> {
    let mut out: Vec<String> = profile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && (!l.starts_with('#') || l.starts_with("#include")))
        .map(|l| {
            let mut line = String::new();
            let mut rest = l;
            while let Some(start) = rest.find("[^") {
                let Some(len) = rest[start..].find(']') else {
                    break;
                };
                let mut class: Vec<char> = rest[start + 2..start + len].chars().collect();
                class.sort_unstable();
                line.push_str(&rest[..start + 2]);
                line.extend(class);
                line.push(']');
                rest = &rest[start + len + 1..];
            }
            line.push_str(rest);
            line
        })
        .collect();
    out.sort();
    out
}

fn this_host() -> ProfileFeatures {
    ProfileFeatures {
        unix: false,
        cgroup_namespace: true,
        cgroup2: true,
        stacking: false,
        in_user_ns: false,
    }
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn fixture(text: &str) -> Vec<String> {
    text.lines().map(String::from).collect()
}

#[test]
fn container_profile_unprivileged_same_rules_as_lxd() {
    let names = instance_names("default", "c1", Path::new("/tmp/apparmor-real/d"));
    let profile = container_profile(&names, &BTreeMap::new(), &this_host()).unwrap();
    assert!(profile.starts_with(
        "#include <tunables/global>\nprofile \"lxd-c1_</tmp/apparmor-real/d>\" flags=(attach_disconnected,mediate_deleted) {\n"
    ));
    assert!(profile.ends_with("\n}\n"));
    assert_eq!(normalized(&profile), fixture(LXD_UNPRIVILEGED));
}

#[test]
fn container_profile_privileged_nesting_raw_same_rules_as_lxd() {
    let names = instance_names("default", "c2", Path::new("/tmp/apparmor-real/d"));
    let config = config(&[
        ("security.privileged", "true"),
        ("security.nesting", "true"),
        ("raw.apparmor", "  mount fstype=nfs,\n# comment\nptrace,\n"),
    ]);
    let profile = container_profile(&names, &config, &this_host()).unwrap();
    assert_eq!(normalized(&profile), fixture(LXD_PRIVILEGED_NESTING_RAW));
    // raw.apparmor comes last, each line indented by two spaces.
    assert!(profile.ends_with("    mount fstype=nfs,\n  # comment\n  ptrace,\n}\n"));
}

#[test]
fn container_profile_stacking_namespace_rules_instead_of_sys_kernel_deny() {
    let names = instance_names("p1", "c1", Path::new("/var/lib/lxd"));
    let features = ProfileFeatures {
        unix: true,
        stacking: true,
        ..this_host()
    };
    let profile = container_profile(&names, &BTreeMap::new(), &features).unwrap();
    assert!(profile.contains("  change_profile -> \":lxd-p1_c1_<var-lib-lxd>:*\",\n"));
    assert!(profile.contains("  change_profile -> \":lxd-p1_c1_<var-lib-lxd>://*\",\n"));
    assert!(profile.contains("  deny /sys/kernel/security/apparmor?*{,/**} wklx,\n"));
    assert!(profile.contains("  deny /sys/k[^e]*{,/**} wklx,\n"));
    assert!(!profile.contains("deny /sys/k*{,/**}"));
    assert!(profile.contains("  unix peer=(label=@{profile_name}),\n"));
    // No nesting: the container may not change to its own profile by name.
    assert!(!profile.contains("change_profile -> \"lxd-"));
}

#[test]
fn container_profile_privileged_without_nesting_no_pivot_root() {
    let names = instance_names("default", "c1", Path::new("/var/lib/lxd"));
    let privileged = config(&[("security.privileged", "true")]);
    let profile = container_profile(&names, &privileged, &this_host()).unwrap();
    assert!(!profile.contains("pivot_root"));
    assert!(!profile.contains("raw.apparmor"));
    // In a user namespace every container gets the unprivileged rules.
    let in_userns = ProfileFeatures {
        in_user_ns: true,
        ..this_host()
    };
    let profile = container_profile(&names, &privileged, &in_userns).unwrap();
    assert!(profile.contains("### Configuration: unprivileged containers"));
}

#[test]
fn container_profile_denies_sysrq_and_host_proc_sys() {
    let names = instance_names("default", "c1", Path::new("/var/lib/lxd"));
    let profile = container_profile(&names, &BTreeMap::new(), &this_host()).unwrap();
    for rule in [
        "  deny /proc/sysrq-trigger rwklx,\n",
        "  deny /proc/kcore rwklx,\n",
        "  deny /proc/sys/[^kn]*{,/**} wklx,\n",
        "  deny /proc/sys/kernel/shm*/** wklx,\n",
        "  deny /sys/[^cdfk]*{,/**} wklx,\n",
        "  deny mount options=(ro,remount) -> /,\n",
    ] {
        assert!(profile.contains(rule), "missing {rule:?}");
    }
}
