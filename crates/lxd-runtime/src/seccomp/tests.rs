//! Unit tests: policy text generation, LXD's config checks, and filter compilation
//! (libseccomp builds filters in memory; nothing is loaded into the kernel here).

use std::collections::BTreeMap;

use super::*;

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn err_text(config: &BTreeMap<String, String>) -> String {
    validate_config(config).unwrap_err().to_string()
}

#[test]
fn policy_text_empty_config_is_lxd_default_deny_list() {
    let text = policy_text(&config(&[])).unwrap();
    assert_eq!(text, format!("2\ndenylist\n[all]\n{DEFAULT_DENY}"));
    assert!(text.contains("reject_force_umount"));
    assert!(text.contains("kexec_load errno 38\n"));
}

const DEFAULT_DENY: &str = config::DEFAULT_DENY_POLICY;

#[test]
fn policy_text_deny_default_false_has_no_policy() {
    let c = config(&[("security.syscalls.deny_default", "false")]);
    assert!(!needs_policy(&c));
    assert_eq!(policy_text(&c), None);
    assert_eq!(SeccompPolicy::from_config(&c).unwrap(), None);
}

#[test]
fn policy_text_deny_list_is_appended_after_default() {
    let c = config(&[("security.syscalls.deny", "uname\nmkdirat errno 1")]);
    let text = policy_text(&c).unwrap();
    assert!(text.ends_with("delete_module errno 38\nuname\nmkdirat errno 1"));
    let policy = SeccompPolicy::from_config(&c).unwrap().unwrap();
    let rules = &policy.parsed().rules;
    let uname = rules.iter().find(|r| r.syscall == "uname").unwrap();
    assert_eq!(uname.action, Action::Kill);
    let mkdirat = rules.iter().find(|r| r.syscall == "mkdirat").unwrap();
    assert_eq!(mkdirat.action, Action::Errno(1));
}

#[test]
fn policy_text_deny_without_default_keeps_only_user_rules() {
    let c = config(&[
        ("security.syscalls.deny_default", "false"),
        ("security.syscalls.deny", "uname"),
    ]);
    assert_eq!(policy_text(&c).unwrap(), "2\ndenylist\n[all]\nuname");
}

#[test]
fn policy_text_allow_list_has_kill_default_and_no_deny_rules() {
    let c = config(&[("security.syscalls.allow", "read\nwrite")]);
    assert_eq!(policy_text(&c).unwrap(), "2\nallowlist\n[all]\nread\nwrite");
    let policy = SeccompPolicy::from_config(&c).unwrap().unwrap();
    assert!(policy.parsed().allowlist);
    assert_eq!(policy.parsed().default_action, Action::Kill);
    assert!(policy
        .parsed()
        .rules
        .iter()
        .all(|r| r.action == Action::Allow));
}

#[test]
fn policy_text_raw_seccomp_replaces_everything() {
    let raw = "2\nallowlist errno 1\nwrite\n";
    let c = config(&[("raw.seccomp", raw)]);
    assert_eq!(policy_text(&c).unwrap(), raw);
}

#[test]
fn policy_text_deny_compat_adds_x86_64_block() {
    let c = config(&[("security.syscalls.deny_compat", "true")]);
    let text = policy_text(&c).unwrap();
    if std::env::consts::ARCH == "x86_64" {
        assert!(text.contains("[x86_64]\ncompat_sys_rt_sigaction errno 38\n"));
        assert!(text.contains("stub_x32_execveat errno 38\n"));
    } else {
        assert!(!text.contains("compat_sys"));
    }
}

#[test]
fn validate_config_raw_with_deny_is_refused() {
    let c = config(&[
        ("raw.seccomp", "2\ndenylist\n"),
        ("security.syscalls.deny", "x"),
    ]);
    assert_eq!(
        err_text(&c),
        "raw.seccomp is mutually exclusive with security.syscalls*"
    );
    let c = config(&[
        ("raw.seccomp", "2\ndenylist\n"),
        ("security.syscalls.deny_default", "true"),
    ]);
    assert_eq!(
        err_text(&c),
        "raw.seccomp is mutually exclusive with security.syscalls*"
    );
}

#[test]
fn validate_config_raw_with_false_flags_is_accepted() {
    let c = config(&[
        ("raw.seccomp", "2\ndenylist\nuname\n"),
        ("security.syscalls.deny_default", "false"),
        ("security.syscalls.deny_compat", "false"),
    ]);
    validate_config(&c).unwrap();
}

#[test]
fn validate_config_allow_with_deny_is_refused() {
    let expected = "security.syscalls.allow is mutually exclusive with security.syscalls.deny*";
    let c = config(&[
        ("security.syscalls.allow", "read"),
        ("security.syscalls.deny", "x"),
    ]);
    assert_eq!(err_text(&c), expected);
    let c = config(&[
        ("security.syscalls.allow", "read"),
        ("security.syscalls.deny_compat", "on"),
    ]);
    assert_eq!(err_text(&c), expected);
}

#[test]
fn validate_config_allow_with_unset_deny_default_is_accepted() {
    validate_config(&config(&[("security.syscalls.allow", "read")])).unwrap();
}

#[test]
fn validate_config_bad_deny_entry_names_key_and_line() {
    let c = config(&[("security.syscalls.deny", "uname\nmkdir,rmdir")]);
    let err = validate_config(&c).unwrap_err();
    assert_eq!(err.to_string(), "Invalid value for security.syscalls.deny");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert_eq!(
        source,
        "Invalid seccomp policy on line 12: invalid syscall name \"mkdir,rmdir\" (one syscall per line)"
    );
}

#[test]
fn validate_deny_compat_without_64bit_host_is_refused() {
    validate_deny_compat(&["x86_64", "i686"]).unwrap();
    validate_deny_compat(&["aarch64"]).unwrap();
    assert_eq!(
        validate_deny_compat(&["riscv64"]).unwrap_err().to_string(),
        "security.syscalls.deny_compat isn't supported on this architecture"
    );
}

#[test]
fn compile_default_policy_exports_bpf() {
    let policy = SeccompPolicy::from_config(&config(&[])).unwrap().unwrap();
    let bpf = policy.export_bpf().unwrap();
    // Whole `struct sock_filter` entries (8 bytes each), more than a trivial program.
    assert_eq!(bpf.len() % 8, 0);
    assert!(bpf.len() > 8 * 10, "{} bytes", bpf.len());
}

#[test]
fn compile_unknown_and_compat_syscalls_are_skipped_not_fatal() {
    let c = config(&[
        ("security.syscalls.deny_compat", "true"),
        (
            "security.syscalls.deny",
            "no_such_syscall_xyz\nsocketcall errno 1",
        ),
    ]);
    let policy = SeccompPolicy::from_config(&c).unwrap().unwrap();
    policy.compile().unwrap();
}

#[test]
fn compile_allow_list_repeating_default_is_accepted() {
    let policy = SeccompPolicy::from_text("2\nallowlist errno 1\nread\nwrite errno 1\n").unwrap();
    policy.compile().unwrap();
}

/// The rules libseccomp generated for one ABI (`x86_64`, `x86`, `x32`), from its PFC dump.
fn pfc_for_arch(policy: &SeccompPolicy, arch: &str) -> String {
    let pfc = policy.compile().unwrap().export_pfc().unwrap();
    let marker = format!("# filter for arch {arch} (");
    let start = pfc
        .find(&marker)
        .unwrap_or_else(|| panic!("no {arch} filter in:\n{pfc}"));
    let rest = &pfc[start + marker.len()..];
    rest[..rest.find("# filter for arch").unwrap_or(rest.len())].to_string()
}

#[test]
fn compile_default_policy_covers_every_abi() {
    if std::env::consts::ARCH != "x86_64" {
        return;
    }
    let policy = SeccompPolicy::from_config(&config(&[])).unwrap().unwrap();
    let native = pfc_for_arch(&policy, "x86_64");
    for (name, nr) in [
        ("kexec_load", 246),
        ("open_by_handle_at", 304),
        ("init_module", 175),
    ] {
        let rule = format!("\"{name}\" ({nr})");
        assert!(native.contains(&rule), "{rule} missing:\n{native}");
    }
    assert!(native.contains("action ERRNO(38);"), "{native}");
    assert!(native.contains("\"umount2\" (166)") && native.contains("action ERRNO(13);"));
    // The i386 and x32 ABIs get the same rules, with their own numbers.
    assert!(pfc_for_arch(&policy, "x86").contains("\"kexec_load\" (283)"));
    assert!(pfc_for_arch(&policy, "x32").contains("\"finit_module\""));
}

#[test]
fn compile_deny_compat_blocks_only_compat_abis() {
    if std::env::consts::ARCH != "x86_64" {
        return;
    }
    let c = config(&[("security.syscalls.deny_compat", "true")]);
    let policy = SeccompPolicy::from_config(&c).unwrap().unwrap();
    let native = pfc_for_arch(&policy, "x86_64");
    assert!(
        !native.contains("\"ioctl\"") && !native.contains("\"ptrace\""),
        "{native}"
    );
    let i386 = pfc_for_arch(&policy, "x86");
    assert!(i386.contains("\"ioctl\" (54)"), "{i386}");
    // i386 socket calls are blocked both directly and through socketcall.
    assert!(i386.contains("\"sendmsg\" (370)") && i386.contains("\"socketcall\" (102)"));
    let x32 = pfc_for_arch(&policy, "x32");
    assert!(
        x32.contains("\"execve\"") && x32.contains("\"rt_sigreturn\""),
        "{x32}"
    );
    assert!(
        !i386.contains("\"execve\""),
        "stub_x32_* is x32 only:\n{i386}"
    );
}
