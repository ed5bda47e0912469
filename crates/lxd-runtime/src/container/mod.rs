//! One container: its spec, the monitor that starts and watches init, the init-side setup
//! between clone and exec, and entering it to run commands.

pub mod checkpoint;
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

/// The seccomp program a process execs under: `None` when LXD would write no policy, an error
/// (reported by the process itself, just before its exec) when the policy cannot be built.
pub type SeccompProgram = Result<Option<lxd_sys::seccomp::FilterProgram>, String>;

/// The seccomp program `config` asks for, built with libseccomp (the same for every config
/// with the same [`crate::seccomp::policy_inputs`], so callers may keep it). Container init
/// and exec'd commands load it with [`load_seccomp_program`].
pub fn seccomp_program(config: &std::collections::BTreeMap<String, String>) -> SeccompProgram {
    let failed =
        |e: crate::seccomp::SeccompError| format!("Failed to load the seccomp filter: {e}");
    let policy = crate::seccomp::SeccompPolicy::from_config(config).map_err(|e| e.to_string())?;
    policy.map(|p| p.program().map_err(failed)).transpose()
}

/// Load `program` (from [`seccomp_program`]) into this process, just before exec; it
/// allocates nothing.
pub(crate) fn load_seccomp_program(program: &SeccompProgram) -> Result<(), String> {
    match program {
        Ok(Some(program)) => program
            .load()
            .map_err(|e| format!("Failed to load the seccomp filter: {e}")),
        Ok(None) => Ok(()),
        Err(e) => Err(e.clone()),
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
