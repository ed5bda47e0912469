//! Putting a process under a container's AppArmor label at its next `execve`: the label is
//! written as `exec <label>` to the calling task's own `attr/apparmor/exec` (or the older
//! `attr/exec`), which the kernel applies when the task, or a child forked from it, execs. The
//! write goes through the procfs passed in, which must be the host's: a container's own /proc
//! could fake the file and so escape confinement.

use std::io::Write;
use std::path::Path;

use super::host::label_from_attr;
use super::AppArmorError;

/// The per-LSM file first (Linux 5.8+), then the shared one.
const EXEC_FILES: &[&str] = &["self/attr/apparmor/exec", "self/attr/exec"];
const CURRENT_FILES: &[&str] = &["attr/apparmor/current", "attr/current"];

/// Exec under `label` from the next `execve` of this task or of children it forks afterwards.
pub fn set_exec_label(proc: &Path, label: &str) -> Result<(), AppArmorError> {
    let command = format!("exec {label}");
    let mut result = Err(std::io::Error::from(std::io::ErrorKind::NotFound));
    for rel in EXEC_FILES {
        result = std::fs::OpenOptions::new()
            .write(true)
            .open(proc.join(rel))
            .and_then(|mut f| f.write_all(command.as_bytes()));
        match &result {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            _ => break,
        }
    }
    result.map_err(|source| AppArmorError::Label {
        label: label.to_string(),
        source,
    })
}

/// The confining label of process `pid` (as `proc` shows it), `None` when unconfined or when
/// the kernel has no AppArmor.
pub fn process_label(proc: &Path, pid: i32) -> Option<String> {
    CURRENT_FILES
        .iter()
        .find_map(|rel| std::fs::read_to_string(proc.join(pid.to_string()).join(rel)).ok())
        .and_then(|text| label_from_attr(&text))
}

/// Make the next `execve` of this task (or of its children forked afterwards) run under the
/// label container init `init_pid` runs under, as liblxc attaches; nothing when init is
/// unconfined or already shares our label.
pub fn follow_init_label(proc: &Path, init_pid: i32) -> Result<(), AppArmorError> {
    let Some(label) = process_label(proc, init_pid) else {
        return Ok(());
    };
    let own = std::fs::read_to_string(proc.join("self/attr/current"))
        .ok()
        .and_then(|text| label_from_attr(&text));
    if own.as_deref() == Some(label.as_str()) {
        return Ok(());
    }
    set_exec_label(proc, &label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_exec_label_writes_exec_command_to_per_lsm_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("self/attr/apparmor")).unwrap();
        std::fs::write(tmp.path().join("self/attr/apparmor/exec"), "").unwrap();
        std::fs::write(tmp.path().join("self/attr/exec"), "").unwrap();
        set_exec_label(tmp.path(), "lxd-c1_</var/lib/lxd>").unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("self/attr/apparmor/exec")).unwrap(),
            "exec lxd-c1_</var/lib/lxd>"
        );
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("self/attr/exec")).unwrap(),
            ""
        );
    }

    #[test]
    fn set_exec_label_old_kernel_shared_file_missing_both_error() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("self/attr")).unwrap();
        std::fs::write(tmp.path().join("self/attr/exec"), "").unwrap();
        set_exec_label(tmp.path(), "p").unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("self/attr/exec")).unwrap(),
            "exec p"
        );
        let empty = tempfile::tempdir().unwrap();
        let err = set_exec_label(empty.path(), "p").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to set AppArmor label \"p\" for exec"
        );
    }

    #[test]
    fn follow_init_label_copies_confined_init_only() {
        let tmp = tempfile::tempdir().unwrap();
        let attr = |rel: &str, text: &str| {
            let path = tmp.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        attr("self/attr/apparmor/exec", "");
        attr("self/attr/current", "unconfined\n");
        attr("42/attr/current", "unconfined\n");
        follow_init_label(tmp.path(), 42).unwrap();
        let exec = tmp.path().join("self/attr/apparmor/exec");
        assert_eq!(std::fs::read_to_string(&exec).unwrap(), "");
        attr(
            "42/attr/apparmor/current",
            "lxd-c1_</x>//&:lxd-c1_<x>:unconfined (enforce)\n",
        );
        follow_init_label(tmp.path(), 42).unwrap();
        assert_eq!(
            std::fs::read_to_string(&exec).unwrap(),
            "exec lxd-c1_</x>//&:lxd-c1_<x>:unconfined"
        );
        // No AppArmor at all: nothing to follow.
        assert_eq!(process_label(tmp.path(), 7), None);
    }
}
