//! Which firewall driver LXD would pick (`environment.firewall`): `nftables` or `xtables`.
//!
//! The choice follows LXD 5.0.2's `firewall.New()`:
//! - nftables is *compatible* when the kernel is at least 5.2, `nft --version` is at least
//!   0.9.1 and a throw-away test table can be created and deleted;
//! - it is *in use* when `nft --json -nn list ruleset` already holds a rule;
//! - xtables is *in use* when `iptables -S` or `ip6tables -S` (not the nftables shims) list an
//!   appended rule.
//!
//! nftables wins when compatible and in use, or compatible and xtables is not in use;
//! everything else gives xtables. LXD also inspects `ebtables` and every iptables table; this
//! probe looks at the default table only.

use super::kernel_at_least;
use crate::command::CommandRunner;

/// A firewall driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firewall {
    Nftables,
    Xtables,
}

impl Firewall {
    /// The name LXD shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Firewall::Nftables => "nftables",
            Firewall::Xtables => "xtables",
        }
    }
}

impl std::fmt::Display for Firewall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Pick the firewall driver for a host running kernel `kernel_release`.
pub fn detect_firewall(runner: &dyn CommandRunner, kernel_release: &str) -> Firewall {
    match nftables_compat(runner, kernel_release) {
        Some(true) => Firewall::Nftables,
        Some(false) if !xtables_in_use(runner) => Firewall::Nftables,
        _ => Firewall::Xtables,
    }
}

/// `None` when nftables is unusable, else whether it already holds rules.
fn nftables_compat(runner: &dyn CommandRunner, kernel_release: &str) -> Option<bool> {
    if !kernel_at_least(kernel_release, 5, 2) {
        return None;
    }
    let version = runner.run("nft", &["--version"]).ok()?;
    // "nftables v1.0.6 (Lester Gooch #5)"
    let number = version.split_whitespace().nth(1)?.trim_start_matches('v');
    if !dotted_at_least(number, &[0, 9, 1]) {
        return None;
    }
    let table = test_table_name();
    runner.run("nft", &["create", "table", &table]).ok()?;
    runner.run("nft", &["delete", "table", &table]).ok()?;
    let ruleset = runner
        .run("nft", &["--json", "-nn", "list", "ruleset"])
        .ok()?;
    Some(ruleset_has_rule(&ruleset))
}

fn xtables_in_use(runner: &dyn CommandRunner) -> bool {
    ["iptables", "ip6tables"].iter().any(|tool| {
        let is_shim = runner
            .run(tool, &["--version"])
            .map(|v| v.contains("nf_tables"))
            .unwrap_or(true);
        !is_shim
            && runner
                .run(tool, &["-S"])
                .map(|rules| rules.lines().any(|l| l.starts_with("-A ")))
                .unwrap_or(false)
    })
}

fn ruleset_has_rule(json: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return false;
    };
    value["nftables"]
        .as_array()
        .is_some_and(|items| items.iter().any(|item| item.get("rule").is_some()))
}

fn dotted_at_least(version: &str, minimum: &[u64]) -> bool {
    let found: Vec<u64> = version
        .split('.')
        .map(|p| p.parse::<u64>().unwrap_or(0))
        .collect();
    for (index, want) in minimum.iter().enumerate() {
        let have = found.get(index).copied().unwrap_or(0);
        if have != *want {
            return have > *want;
        }
    }
    true
}

fn test_table_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("lxd_test_{:x}_{:x}", std::process::id(), nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::RecordingCommandRunner;

    const NFT_VERSION: &str = "nftables v1.0.6 (Lester Gooch #5)\n";

    #[test]
    fn detect_firewall_nft_missing_xtables() {
        let fake = RecordingCommandRunner::new(vec![]);
        assert_eq!(detect_firewall(&fake, "6.1.0"), Firewall::Xtables);
        assert_eq!(fake.calls()[0], vec!["nft", "--version"]);
    }

    #[test]
    fn detect_firewall_old_kernel_xtables_without_running_nft() {
        let fake = RecordingCommandRunner::new(vec![Ok(NFT_VERSION.into())]);
        assert_eq!(detect_firewall(&fake, "5.1.0"), Firewall::Xtables);
        assert!(fake.calls().is_empty());
    }

    #[test]
    fn detect_firewall_nft_with_rules_nftables() {
        let ruleset = r#"{"nftables":[{"metainfo":{}},{"table":{}},{"rule":{"family":"inet"}}]}"#;
        let fake = RecordingCommandRunner::new(vec![
            Ok(NFT_VERSION.into()),
            Ok(String::new()),
            Ok(String::new()),
            Ok(ruleset.into()),
        ]);
        assert_eq!(detect_firewall(&fake, "6.1.0"), Firewall::Nftables);
        assert_eq!(fake.calls()[1][1], "create");
    }

    #[test]
    fn detect_firewall_nft_unused_iptables_rules_xtables() {
        let fake = RecordingCommandRunner::new(vec![
            Ok(NFT_VERSION.into()),
            Ok(String::new()),
            Ok(String::new()),
            Ok(r#"{"nftables":[{"metainfo":{}}]}"#.into()),
            Ok("iptables v1.8.9 (legacy)\n".into()),
            Ok("-P INPUT ACCEPT\n-A INPUT -j DROP\n".into()),
        ]);
        assert_eq!(detect_firewall(&fake, "6.1.0"), Firewall::Xtables);
    }

    #[test]
    fn detect_firewall_nft_unused_no_iptables_nftables() {
        let fake = RecordingCommandRunner::new(vec![
            Ok(NFT_VERSION.into()),
            Ok(String::new()),
            Ok(String::new()),
            Ok(r#"{"nftables":[]}"#.into()),
        ]);
        assert_eq!(detect_firewall(&fake, "6.1.0"), Firewall::Nftables);
    }

    #[test]
    fn detect_firewall_nft_too_old_xtables() {
        let fake = RecordingCommandRunner::new(vec![Ok("nftables v0.9.0 (x)\n".into())]);
        assert_eq!(detect_firewall(&fake, "6.1.0"), Firewall::Xtables);
    }
}
