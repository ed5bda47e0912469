//! `/1.0/instances` (and the legacy `/1.0/containers`): records, lifecycle, exec.

pub mod backup_optimized;
pub mod backups;
pub mod console;
pub mod copy;
pub mod create;
pub mod delete;
pub mod exec;
pub mod files;
pub mod filter;
pub mod import;
pub mod list;
pub mod logs;
pub mod metadata;
pub mod migrate_source;
pub mod migrate_target;
pub mod own_stop;
pub mod rename;
pub mod snapshot_edit;
pub mod snapshots;
pub mod state;
pub mod store;
pub mod update;

/// `/1.0/instances/<name>` (or `/1.0/containers/<name>` on the legacy path) with the project
/// suffix LXD adds outside `default`.
pub fn instance_url(name: &str, project: &str, legacy: bool) -> String {
    let base = if legacy { "containers" } else { "instances" };
    if project == "default" {
        format!("/1.0/{base}/{name}")
    } else {
        format!("/1.0/{base}/{name}?project={project}")
    }
}

/// Operation resources for an instance: LXD lists both the instance and container URLs.
pub fn op_resources(name: &str, project: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    [
        (
            "containers".to_string(),
            vec![instance_url(name, project, true)],
        ),
        (
            "instances".to_string(),
            vec![instance_url(name, project, false)],
        ),
    ]
    .into()
}
