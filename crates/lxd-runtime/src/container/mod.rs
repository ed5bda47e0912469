//! One container: its spec, the monitor that starts and watches init, the init-side setup
//! between clone and exec, and entering it to run commands.

mod child;
pub mod console;
pub mod exec;
pub mod files;
pub mod monitor;
pub mod mounts;
pub mod nesting;
pub mod spec;
pub mod start;

pub use spec::{ContainerSpec, IdMaps, IdRange, MonitorState, NicSpec, VolumeBind};

/// Load the seccomp filter `config` asks for (none when LXD would write no policy), just
/// before exec.
pub(crate) fn seccomp_load(
    config: &std::collections::BTreeMap<String, String>,
) -> Result<(), String> {
    seccomp_filter(config).and_then(load_filter)
}

/// The seccomp filter `config` asks for, compiled but not loaded (none when LXD would write
/// no policy).
pub(crate) fn seccomp_filter(
    config: &std::collections::BTreeMap<String, String>,
) -> Result<Option<crate::seccomp::CompiledFilter>, String> {
    let policy = crate::seccomp::SeccompPolicy::from_config(config).map_err(|e| e.to_string())?;
    policy
        .map(|p| p.compile())
        .transpose()
        .map_err(|e| format!("Failed to load the seccomp filter: {e}"))
}

/// Load a filter from [`seccomp_filter`], just before exec.
pub(crate) fn load_filter(filter: Option<crate::seccomp::CompiledFilter>) -> Result<(), String> {
    match filter {
        Some(f) => f
            .load()
            .map_err(|e| format!("Failed to load the seccomp filter: {e}")),
        None => Ok(()),
    }
}

/// Have init exec under the container's AppArmor label, if it has one. Called in the child
/// before it builds the container's filesystem, while `/proc` is still the host's.
pub(crate) fn apparmor_exec_label(spec: &ContainerSpec) -> Result<(), String> {
    match spec.apparmor.as_ref().and_then(|p| p.exec_label.as_deref()) {
        Some(label) => crate::apparmor::set_exec_label(std::path::Path::new("/proc"), label)
            .map_err(|e| e.to_string()),
        None => Ok(()),
    }
}
