//! From an instance's expanded config to LXD's policy text (`seccompGetPolicyContent` in
//! `lxd/seccomp/seccomp.go`), and LXD's config-time checks of the `security.syscalls.*` and
//! `raw.seccomp` keys (`ValidConfig` in `lxd/instance/instance_utils.go`).
//!
//! Pure string work: no libseccomp, no files. The generated text is what LXD writes to
//! `$LXD_DIR/security/seccomp/<instance>`, so writing it there keeps the on-disk layout.

use std::collections::BTreeMap;

use lxd_shared::config::values::parse_bool;
use thiserror::Error;

use super::text::{parse_policy, PolicyParseError};

/// The default deny list: refuse forced unmounts, and hide the kernel-image and module calls.
pub const DEFAULT_DENY_POLICY: &str = "\
reject_force_umount  # comment this to allow umount -f;  not recommended
[all]
kexec_load errno 38
open_by_handle_at errno 38
init_module errno 38
finit_module errno 38
delete_module errno 38
";

/// The 32-bit entry points LXD blocks with `security.syscalls.deny_compat`, by kernel symbol
/// name. liblxc cannot resolve these names and skips them; our compiler maps `compat_sys_X` to
/// `X` on the i386 and x32 ABIs and `stub_x32_X` to `X` on x32 (see `compile.rs`).
const COMPAT_SYSCALLS: &[&str] = &[
    "compat_sys_rt_sigaction",
    "stub_x32_rt_sigreturn",
    "compat_sys_ioctl",
    "compat_sys_readv",
    "compat_sys_writev",
    "compat_sys_recvfrom",
    "compat_sys_sendmsg",
    "compat_sys_recvmsg",
    "stub_x32_execve",
    "compat_sys_ptrace",
    "compat_sys_rt_sigpending",
    "compat_sys_rt_sigtimedwait",
    "compat_sys_rt_sigqueueinfo",
    "compat_sys_sigaltstack",
    "compat_sys_timer_create",
    "compat_sys_mq_notify",
    "compat_sys_kexec_load",
    "compat_sys_waitid",
    "compat_sys_set_robust_list",
    "compat_sys_get_robust_list",
    "compat_sys_vmsplice",
    "compat_sys_move_pages",
    "compat_sys_preadv64",
    "compat_sys_pwritev64",
    "compat_sys_rt_tgsigqueueinfo",
    "compat_sys_recvmmsg",
    "compat_sys_sendmmsg",
    "compat_sys_process_vm_readv",
    "compat_sys_process_vm_writev",
    "compat_sys_setsockopt",
    "compat_sys_getsockopt",
    "compat_sys_io_setup",
    "compat_sys_io_submit",
    "stub_x32_execveat",
];

/// Architectures whose LXD accepts `security.syscalls.deny_compat` (osarch names).
const COMPAT_ARCHITECTURES: &[&str] = &["x86_64", "aarch64", "ppc64"];

/// A refused `security.syscalls.*` / `raw.seccomp` setting, with LXD's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeccompConfigError {
    #[error("raw.seccomp is mutually exclusive with security.syscalls*")]
    RawExclusive,
    #[error("security.syscalls.allow is mutually exclusive with security.syscalls.deny*")]
    AllowExclusive,
    #[error("{0} isn't supported on this architecture")]
    CompatArchitecture(String),
    #[error("Invalid value for {key}")]
    Policy {
        key: String,
        #[source]
        source: PolicyParseError,
    },
}

/// The entries of `config` a policy is made from (`raw.seccomp` and `security.syscalls.*`):
/// two configs with the same inputs get the same policy, so a built filter can be reused.
pub fn policy_inputs(config: &BTreeMap<String, String>) -> Vec<(String, String)> {
    config
        .iter()
        .filter(|(k, _)| *k == "raw.seccomp" || k.starts_with("security.syscalls."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn is_true(config: &BTreeMap<String, String>, key: &str) -> bool {
    config.get(key).and_then(|v| parse_bool(v)) == Some(true)
}

/// LXD's exclusivity rules: `raw.seccomp` excludes every other seccomp key that is set (the
/// booleans only when true), and `security.syscalls.allow` excludes the deny keys. Then the
/// generated (or raw) policy is parsed, so a malformed rule is refused when it is set; LXD
/// itself only finds out when liblxc fails to start the container.
pub fn validate_config(config: &BTreeMap<String, String>) -> Result<(), SeccompConfigError> {
    let raw = config.contains_key("raw.seccomp");
    let allow = config.contains_key("security.syscalls.allow");
    let deny = config.contains_key("security.syscalls.deny");
    let deny_default = is_true(config, "security.syscalls.deny_default");
    let deny_compat = is_true(config, "security.syscalls.deny_compat");
    if raw && (allow || deny || deny_default || deny_compat) {
        return Err(SeccompConfigError::RawExclusive);
    }
    if allow && (deny || deny_default || deny_compat) {
        return Err(SeccompConfigError::AllowExclusive);
    }
    if let Some(text) = policy_text(config) {
        parse_policy(&text).map_err(|source| SeccompConfigError::Policy {
            key: policy_key(config).to_string(),
            source,
        })?;
    }
    Ok(())
}

/// LXD refuses `security.syscalls.deny_compat` (any value) unless the host runs one of the
/// 64-bit architectures that have a compat ABI. `host_architectures` are osarch names
/// (`x86_64`, `i686`, `aarch64` ...), as in `GET /1.0` `environment.architectures`.
pub fn validate_deny_compat(host_architectures: &[&str]) -> Result<(), SeccompConfigError> {
    if host_architectures
        .iter()
        .any(|a| COMPAT_ARCHITECTURES.contains(a))
    {
        return Ok(());
    }
    Err(SeccompConfigError::CompatArchitecture(
        "security.syscalls.deny_compat".to_string(),
    ))
}

/// Which key the user wrote the policy in (for error messages).
fn policy_key(config: &BTreeMap<String, String>) -> &'static str {
    if config.get("raw.seccomp").is_some_and(|v| !v.is_empty()) {
        "raw.seccomp"
    } else if config
        .get("security.syscalls.allow")
        .is_some_and(|v| !v.is_empty())
    {
        "security.syscalls.allow"
    } else {
        "security.syscalls.deny"
    }
}

/// Whether LXD writes a policy at all (`InstanceNeedsPolicy`): any text key present, a
/// default-false boolean set true, or `deny_default` unset or true.
pub fn needs_policy(config: &BTreeMap<String, String>) -> bool {
    let text_keys = [
        "raw.seccomp",
        "security.syscalls.allow",
        "security.syscalls.deny",
    ];
    let flag_keys = [
        "security.syscalls.deny_compat",
        "security.syscalls.intercept.mknod",
        "security.syscalls.intercept.sched_setscheduler",
        "security.syscalls.intercept.setxattr",
        "security.syscalls.intercept.mount",
        "security.syscalls.intercept.bpf",
    ];
    text_keys.iter().any(|k| config.contains_key(*k))
        || flag_keys.iter().any(|k| is_true(config, k))
        || config
            .get("security.syscalls.deny_default")
            .is_none_or(|v| parse_bool(v) == Some(true))
}

/// The policy text LXD would write, or `None` when the instance gets no filter at all.
///
/// Syscall interception (`security.syscalls.intercept.*`) adds notify rules in LXD; those are
/// not generated here (there is no seccomp supervisor yet).
pub fn policy_text(config: &BTreeMap<String, String>) -> Option<String> {
    if !needs_policy(config) {
        return None;
    }
    if let Some(raw) = config.get("raw.seccomp").filter(|v| !v.is_empty()) {
        return Some(raw.clone());
    }
    let mut policy = String::from("2\n");
    if let Some(allow) = config
        .get("security.syscalls.allow")
        .filter(|v| !v.is_empty())
    {
        policy.push_str("allowlist\n[all]\n");
        policy.push_str(allow);
        return Some(policy);
    }
    policy.push_str("denylist\n[all]\n");
    if config
        .get("security.syscalls.deny_default")
        .is_none_or(|v| parse_bool(v) == Some(true))
    {
        policy.push_str(DEFAULT_DENY_POLICY);
    }
    if is_true(config, "security.syscalls.deny_compat") && std::env::consts::ARCH == "x86_64" {
        policy.push_str("[x86_64]\n");
        for name in COMPAT_SYSCALLS {
            policy.push_str(name);
            policy.push_str(" errno 38\n");
        }
    }
    if let Some(deny) = config.get("security.syscalls.deny") {
        policy.push_str(deny);
    }
    Some(policy)
}
