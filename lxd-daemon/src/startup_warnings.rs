//! Warnings recorded at start-up for kernel features the host lacks, as LXD records them.

use std::path::Path;

use crate::state::AppState;

/// One missing feature: warning type and message.
struct Missing {
    kind: &'static str,
    message: &'static str,
}

/// `apparmor_unavailable` is why AppArmor cannot be used (the host probe's LXD reason).
fn probe(sys: &Path, apparmor_unavailable: Option<&'static str>) -> Vec<Missing> {
    let mut out = Vec::new();
    if let Some(message) = apparmor_unavailable {
        out.push(Missing {
            kind: "AppArmor support has been disabled",
            message,
        });
    }
    let controllers = cgroup_controllers(sys);
    let checks: [(&str, &str, &str); 4] = [
        (
            "memory",
            "Couldn't find the CGroup memory controller",
            "memory limits will be ignored",
        ),
        (
            "pids",
            "Couldn't find the CGroup pids controller",
            "process limits will be ignored",
        ),
        (
            "io",
            "Couldn't find the CGroup blkio.weight",
            "disk priority will be ignored",
        ),
        (
            "net_prio",
            "Couldn't find the CGroup network priority controller",
            "network priority will be ignored",
        ),
    ];
    for (controller, kind, message) in checks {
        if !controllers
            .iter()
            .any(|c| c == controller || (controller == "io" && c == "blkio"))
        {
            out.push(Missing { kind, message });
        }
    }
    out
}

/// Controllers available on v2 (`cgroup.controllers`) or mounted as v1 hierarchies.
fn cgroup_controllers(sys: &Path) -> Vec<String> {
    let root = sys.join("fs/cgroup");
    let mut found: Vec<String> = std::fs::read_to_string(root.join("cgroup.controllers"))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                found.extend(
                    e.file_name()
                        .to_string_lossy()
                        .split(',')
                        .map(str::to_string),
                );
            }
        }
    }
    found
}

/// Probe the host and record a warning for each missing feature.
pub async fn record(state: &AppState) {
    for m in probe(Path::new("/sys"), state.facts.apparmor.unavailable_reason) {
        let uuid = uuid::Uuid::new_v4().to_string();
        let now = crate::time::now_rfc3339();
        let result = state
            .db
            .write(move |c| lxd_db::warnings::upsert(c, &uuid, m.kind, m.message, &now))
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "Failed to record a warning");
        }
        tracing::warn!(warning = m.kind, "{}", m.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_empty_sys_reports_every_missing_feature() {
        let tmp = tempfile::tempdir().unwrap();
        let reason = Some("Disabled because of lack of kernel support");
        let missing = probe(tmp.path(), reason);
        let kinds: Vec<_> = missing.iter().map(|m| m.kind).collect();
        assert!(kinds.contains(&"AppArmor support has been disabled"));
        assert_eq!(
            missing[0].message,
            "Disabled because of lack of kernel support"
        );
        assert!(kinds.contains(&"Couldn't find the CGroup blkio.weight"));
    }

    #[test]
    fn probe_full_cgroup_v2_reports_only_missing_controllers() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("fs/cgroup")).unwrap();
        std::fs::write(
            tmp.path().join("fs/cgroup/cgroup.controllers"),
            "cpu io memory pids\n",
        )
        .unwrap();
        let kinds: Vec<_> = probe(tmp.path(), None)
            .into_iter()
            .map(|m| m.kind)
            .collect();
        assert_eq!(
            kinds,
            vec!["Couldn't find the CGroup network priority controller"]
        );
    }
}
