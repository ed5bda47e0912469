//! What the host offers for AppArmor, probed once by the daemon as LXD does at start-up: whether
//! AppArmor can be used at all (and if not, the warning LXD records), namespace stacking, the
//! right to load policy (`CAP_MAC_ADMIN`, not in an unstacked user namespace), whether the
//! daemon itself is confined, and what the parser supports. Paths and the parser are injected.

use std::path::{Path, PathBuf};

use lxd_sys::command::CommandRunner;
use lxd_sys::paths::HostPaths;

/// `CAP_MAC_ADMIN`'s bit in `/proc/PID/status` capability masks.
const CAP_MAC_ADMIN: u32 = 33;

/// The first parser version that knows `unix` rules (LXD's threshold).
const UNIX_RULES_VERSION: (u32, u32, u32) = (2, 10, 95);

/// The AppArmor facts of the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppArmorHost {
    /// AppArmor is enabled in the kernel, `apparmor_parser` exists and it is not turned off.
    pub available: bool,
    /// Why not, in LXD's words (the message of its "AppArmor support has been disabled"
    /// warning).
    pub unavailable_reason: Option<&'static str>,
    /// The kernel can stack profiles and namespaces (domain version 1.2 or later).
    pub stacking: bool,
    /// We run inside a stacked namespace already.
    pub stacked: bool,
    /// We may load policy.
    pub admin: bool,
    /// Our own label when we are confined (then containers run under it, as in LXD).
    pub own_label: Option<String>,
    /// We run in a user namespace (the unprivileged profile variant is always used).
    pub in_user_ns: bool,
    /// `apparmor_parser --version`, when available.
    pub parser_version: Option<(u32, u32, u32)>,
    /// The securityfs directory of AppArmor (`/sys/kernel/security/apparmor`).
    pub securityfs: PathBuf,
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// `1.2` style version: LXD accepts major ≥ 1 and minor ≥ 2.
fn stacking_version_ok(text: &str) -> bool {
    let mut parts = text.trim().split('.');
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = match parts.next() {
        Some(p) => p.parse::<u32>().ok(),
        None => Some(0),
    };
    matches!((major, minor), (Some(major), Some(minor)) if major >= 1 && minor >= 2)
}

/// `AppArmor parser version 3.0.8` → `(3, 0, 8)`.
pub fn parse_parser_version(output: &str) -> Option<(u32, u32, u32)> {
    let last = output.lines().next()?.split_whitespace().last()?;
    let mut nums = last.split('.').map(|p| p.parse::<u32>().ok());
    let major = nums.next()??;
    let minor = nums.next().flatten().unwrap_or(0);
    let patch = nums.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// A label as `/proc/PID/attr/current` shows it, without the mode: `None` when unconfined.
pub fn label_from_attr(text: &str) -> Option<String> {
    let text = text.trim_end_matches(['\n', '\0']).trim();
    let label = match text.rfind(" (") {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => text,
    };
    (!label.is_empty() && label != "unconfined").then(|| label.to_string())
}

/// Whether `status` (a `/proc/PID/status`) has `CAP_MAC_ADMIN` effective.
fn has_mac_admin(status: &str) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << CAP_MAC_ADMIN) != 0)
}

impl AppArmorHost {
    /// Probe the host below `paths`; `disabled` is LXD's `LXD_SECURITY_APPARMOR=false`.
    pub fn probe(paths: &HostPaths, runner: &dyn CommandRunner, disabled: bool) -> Self {
        let securityfs = paths.sys_path("kernel/security/apparmor");
        let mut host = Self {
            securityfs: securityfs.clone(),
            ..Self::default()
        };
        let parser = if disabled || !securityfs.is_dir() {
            None
        } else {
            runner.run("apparmor_parser", &["--version"]).ok()
        };
        host.unavailable_reason = if disabled {
            Some("Manually disabled")
        } else if !securityfs.is_dir() {
            Some("Disabled because of lack of kernel support")
        } else if parser.is_none() {
            Some("Disabled because 'apparmor_parser' couldn't be found")
        } else {
            None
        };
        host.available = host.unavailable_reason.is_none();
        host.parser_version = parser.as_deref().and_then(parse_parser_version);
        host.stacking = read(&securityfs.join("features/domain/stack")).as_deref() == Some("yes\n")
            && read(&securityfs.join("features/domain/version"))
                .is_some_and(|v| stacking_version_ok(&v));
        host.stacked = read(&securityfs.join(".ns_stacked")).as_deref() == Some("yes\n");
        host.in_user_ns = read(&paths.proc_path("self/uid_map")).is_some_and(|map| {
            map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"]
        });
        let mac_admin = read(&paths.proc_path("self/status")).is_some_and(|s| has_mac_admin(&s));
        // In a user namespace, only a stacked namespace of our own lets us load policy.
        host.admin = mac_admin && (!host.in_user_ns || host.stacked);
        host.own_label = ["self/attr/apparmor/current", "self/attr/current"]
            .iter()
            .find_map(|p| read(&paths.proc_path(p)))
            .and_then(|text| label_from_attr(&text));
        host
    }

    /// Whether the parser knows `unix` rules.
    pub fn parser_supports_unix(&self) -> bool {
        self.available && self.parser_version.is_some_and(|v| v >= UNIX_RULES_VERSION)
    }

    /// Whether containers get their own profiles loaded (else they run under our own label,
    /// or unconfined).
    pub fn per_container_profiles(&self) -> bool {
        self.available && self.admin && self.own_label.is_none()
    }

    /// Whether each container gets an AppArmor namespace stacked on its profile.
    pub fn uses_namespaces(&self) -> bool {
        self.available && self.stacking && !self.stacked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lxd_sys::command::RecordingCommandRunner;

    fn fake_host(with_apparmor: bool) -> (tempfile::TempDir, HostPaths) {
        let tmp = tempfile::tempdir().unwrap();
        let paths = HostPaths::under(tmp.path());
        std::fs::create_dir_all(paths.proc_path("self/attr")).unwrap();
        std::fs::write(
            paths.proc_path("self/uid_map"),
            "         0          0 4294967295\n",
        )
        .unwrap();
        std::fs::write(
            paths.proc_path("self/status"),
            "Name:\tlxd\nCapEff:\t000001ffffffffff\n",
        )
        .unwrap();
        if with_apparmor {
            let aa = paths.sys_path("kernel/security/apparmor");
            std::fs::create_dir_all(aa.join("features/domain")).unwrap();
            std::fs::write(aa.join("features/domain/stack"), "yes\n").unwrap();
            std::fs::write(aa.join("features/domain/version"), "1.2\n").unwrap();
            std::fs::write(paths.proc_path("self/attr/current"), "unconfined\n").unwrap();
        }
        (tmp, paths)
    }

    #[test]
    fn probe_no_kernel_support_lxd_reason_and_no_parser_call() {
        let (_tmp, paths) = fake_host(false);
        let runner = RecordingCommandRunner::new(vec![]);
        let host = AppArmorHost::probe(&paths, &runner, false);
        assert!(!host.available);
        assert_eq!(
            host.unavailable_reason,
            Some("Disabled because of lack of kernel support")
        );
        assert!(runner.calls().is_empty());
        assert!(!host.per_container_profiles());
    }

    #[test]
    fn probe_full_apparmor_host_stacking_admin_unix() {
        let (_tmp, paths) = fake_host(true);
        let runner = RecordingCommandRunner::new(vec![Ok(
            "AppArmor parser version 3.0.8\nCopyright (C) 1999-2008 Novell Inc.\n".into(),
        )]);
        let host = AppArmorHost::probe(&paths, &runner, false);
        assert!(host.available, "{host:?}");
        assert!(host.stacking && !host.stacked && host.admin && !host.in_user_ns);
        assert_eq!(host.parser_version, Some((3, 0, 8)));
        assert!(host.parser_supports_unix());
        assert!(host.per_container_profiles());
        assert!(host.uses_namespaces());
        assert_eq!(runner.calls(), [["apparmor_parser", "--version"]]);
    }

    #[test]
    fn probe_missing_parser_or_disabled_reasons() {
        let (_tmp, paths) = fake_host(true);
        let host = AppArmorHost::probe(&paths, &RecordingCommandRunner::new(vec![]), false);
        assert_eq!(
            host.unavailable_reason,
            Some("Disabled because 'apparmor_parser' couldn't be found")
        );
        let host = AppArmorHost::probe(&paths, &RecordingCommandRunner::new(vec![]), true);
        assert_eq!(host.unavailable_reason, Some("Manually disabled"));
    }

    #[test]
    fn probe_confined_or_unprivileged_daemon_no_own_profiles() {
        let (_tmp, paths) = fake_host(true);
        std::fs::write(paths.proc_path("self/attr/current"), "lxd-host (enforce)\n").unwrap();
        let answer = || vec![Ok("AppArmor parser version 2.10\n".to_string())];
        let host = AppArmorHost::probe(&paths, &RecordingCommandRunner::new(answer()), false);
        assert_eq!(host.own_label.as_deref(), Some("lxd-host"));
        assert!(!host.per_container_profiles());
        assert!(!host.parser_supports_unix());
        std::fs::write(paths.proc_path("self/attr/current"), "unconfined\n").unwrap();
        std::fs::write(paths.proc_path("self/uid_map"), "0 1000000 65536\n").unwrap();
        let host = AppArmorHost::probe(&paths, &RecordingCommandRunner::new(answer()), false);
        assert!(host.in_user_ns && !host.admin);
    }

    #[test]
    fn label_from_attr_strips_mode_and_unconfined() {
        assert_eq!(
            label_from_attr("lxd-c1_</var/lib/lxd> (enforce)\n").as_deref(),
            Some("lxd-c1_</var/lib/lxd>")
        );
        assert_eq!(label_from_attr("unconfined\n"), None);
        assert_eq!(label_from_attr(""), None);
        assert!(stacking_version_ok("1.2\n"));
        assert!(!stacking_version_ok("1.1"));
    }
}
