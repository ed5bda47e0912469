//! AppArmor globs that match "everything except": AppArmor rules cannot subtract paths, so a
//! rule that must hold for every path but a few is written once per glob of a set that covers
//! the rest. The sets are built from a trie of the excluded paths: at each branching point one
//! glob takes every other next character (`[^...]`, or `?` when the only way on is `/`), and an
//! excluded name gets one glob for longer names beside it. Pure string work, no I/O.

use std::collections::BTreeMap;

/// How an excluded entry is kept out of the generated set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// The path and everything below it (`net`).
    Subtree,
    /// Every name starting with the prefix, but not what is below those names (`msg*`).
    Names,
    /// Everything starting with the prefix (`k**`): other rules deal with it.
    Prefix,
}

#[derive(Debug, Default)]
struct Node {
    children: BTreeMap<char, Node>,
    keep: Option<Keep>,
}

impl Node {
    fn insert(&mut self, rest: &str, keep: Keep) {
        let mut node = self;
        for c in rest.chars() {
            node = node.children.entry(c).or_default();
        }
        node.keep = Some(keep);
    }

    /// Globs below `prefix` (as `(glob, covers_subtree)`), depth first.
    fn globs(&self, prefix: &str, out: &mut Vec<(String, bool)>) {
        match self.keep {
            Some(Keep::Subtree) => out.push((format!("{prefix}?*"), true)),
            Some(Keep::Names) => out.push((format!("{prefix}*/**"), false)),
            Some(Keep::Prefix) => {}
            None if self.children.is_empty() => {}
            None => {
                let others: String = self.children.keys().collect();
                let class = if others == "/" {
                    "?".to_string()
                } else {
                    format!("[^{others}]")
                };
                out.push((format!("{prefix}{class}*"), true));
                for (c, child) in &self.children {
                    child.globs(&format!("{prefix}{c}"), out);
                }
            }
        }
    }
}

fn generate(root: &str, entries: &[(&str, Keep)]) -> Vec<String> {
    let mut trie = Node::default();
    for (rest, keep) in entries {
        trie.insert(rest, *keep);
    }
    let mut globs = Vec::new();
    trie.globs(root, &mut globs);
    let mut out: Vec<String> = globs
        .into_iter()
        .map(|(glob, subtree)| match subtree {
            true => format!("{glob}{{,/**}}"),
            false => glob,
        })
        .collect();
    out.sort();
    out
}

/// Globs that together match every absolute path (and everything below it) except `/`, the
/// paths in `excluded` and everything below those.
pub fn paths_except(excluded: &[&str]) -> Vec<String> {
    let entries: Vec<(&str, Keep)> = excluded
        .iter()
        .map(|p| (p.trim_start_matches('/'), Keep::Subtree))
        .collect();
    generate("/", &entries)
}

/// Why a `deny-writes-under` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Entry {entry:?} is not below {root:?}")]
pub struct NotBelowRoot {
    pub root: String,
    pub entry: String,
}

/// Globs that match everything starting with `root` except the `kept` entries: a plain path
/// keeps itself and its subtree, `path*` keeps every name with that prefix but not what is
/// below them, `path**` keeps everything with that prefix.
pub fn everything_under_except(root: &str, kept: &[&str]) -> Result<Vec<String>, NotBelowRoot> {
    let mut entries = Vec::with_capacity(kept.len());
    for entry in kept {
        let rest = entry.strip_prefix(root).ok_or_else(|| NotBelowRoot {
            root: root.to_string(),
            entry: entry.to_string(),
        })?;
        let parsed = if let Some(p) = rest.strip_suffix("**") {
            (p, Keep::Prefix)
        } else if let Some(p) = rest.strip_suffix('*') {
            (p, Keep::Names)
        } else {
            (rest, Keep::Subtree)
        };
        entries.push(parsed);
    }
    Ok(generate(root, &entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_except_proc_sys_lxc_covers_the_rest() {
        let globs = paths_except(&["/proc", "/sys", "/dev/.lxc"]);
        assert_eq!(
            globs,
            [
                "/[^dps]*{,/**}",
                "/d[^e]*{,/**}",
                "/de[^v]*{,/**}",
                "/dev/.[^l]*{,/**}",
                "/dev/.l[^x]*{,/**}",
                "/dev/.lx[^c]*{,/**}",
                "/dev/.lxc?*{,/**}",
                "/dev/[^.]*{,/**}",
                "/dev?*{,/**}",
                "/p[^r]*{,/**}",
                "/pr[^o]*{,/**}",
                "/pro[^c]*{,/**}",
                "/proc?*{,/**}",
                "/s[^y]*{,/**}",
                "/sy[^s]*{,/**}",
                "/sys?*{,/**}",
            ]
        );
    }

    #[test]
    fn paths_except_whole_dev_stops_at_dev() {
        let globs = paths_except(&["/dev", "/proc", "/sys"]);
        assert_eq!(globs.len(), 11);
        assert!(globs.contains(&"/dev?*{,/**}".to_string()));
        assert!(!globs.iter().any(|g| g.starts_with("/dev/")));
    }

    #[test]
    fn everything_under_except_names_subtrees_and_prefixes() {
        let globs = everything_under_except(
            "/proc/sys/",
            &[
                "/proc/sys/kernel/hostname",
                "/proc/sys/kernel/shm*",
                "/proc/sys/net",
                "/proc/sys/vm**",
            ],
        )
        .unwrap();
        assert_eq!(
            globs,
            [
                "/proc/sys/[^knv]*{,/**}",
                "/proc/sys/k[^e]*{,/**}",
                "/proc/sys/ke[^r]*{,/**}",
                "/proc/sys/ker[^n]*{,/**}",
                "/proc/sys/kern[^e]*{,/**}",
                "/proc/sys/kerne[^l]*{,/**}",
                "/proc/sys/kernel/[^hs]*{,/**}",
                "/proc/sys/kernel/h[^o]*{,/**}",
                "/proc/sys/kernel/ho[^s]*{,/**}",
                "/proc/sys/kernel/hos[^t]*{,/**}",
                "/proc/sys/kernel/host[^n]*{,/**}",
                "/proc/sys/kernel/hostn[^a]*{,/**}",
                "/proc/sys/kernel/hostna[^m]*{,/**}",
                "/proc/sys/kernel/hostnam[^e]*{,/**}",
                "/proc/sys/kernel/hostname?*{,/**}",
                "/proc/sys/kernel/s[^h]*{,/**}",
                "/proc/sys/kernel/sh[^m]*{,/**}",
                "/proc/sys/kernel/shm*/**",
                "/proc/sys/kernel?*{,/**}",
                "/proc/sys/n[^e]*{,/**}",
                "/proc/sys/ne[^t]*{,/**}",
                "/proc/sys/net?*{,/**}",
                "/proc/sys/v[^m]*{,/**}",
            ]
        );
    }

    #[test]
    fn everything_under_except_entry_outside_root_refused() {
        let err = everything_under_except("/sys/", &["/proc/x"]).unwrap_err();
        assert_eq!(err.to_string(), "Entry \"/proc/x\" is not below \"/sys/\"");
    }
}
