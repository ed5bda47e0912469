//! Performing planned cgroup writes, with a best-effort rollback when the kernel refuses one
//! (e.g. a memory limit below current usage): the files already written get their old values
//! back in reverse order, so a refused update leaves the limits as they were.

use std::path::PathBuf;

use tracing::warn;

use std::collections::BTreeMap;

use super::discover::{CgroupHost, Controller};
use super::fs::CgroupFs;
use super::limits::{plan_limits, plan_limits_update};
use super::paths::CgroupPaths;
use super::usage::HostFacts;
use super::CgroupError;

/// One file write: `value` into `file` in the directory of `controller`'s hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupWrite {
    pub controller: Controller,
    pub file: String,
    pub value: String,
}

impl CgroupWrite {
    pub fn new(controller: Controller, file: &str, value: impl ToString) -> Self {
        Self {
            controller,
            file: file.to_string(),
            value: value.to_string(),
        }
    }
}

/// Where a write lands for `paths`, or an error if the container has no such hierarchy.
fn target(paths: &CgroupPaths, write: &CgroupWrite) -> Result<PathBuf, CgroupError> {
    paths
        .dir(write.controller)
        .map(|dir| dir.join(&write.file))
        .ok_or(CgroupError::ControllerMissing {
            key: "limits",
            what: write.controller.v1_name(),
        })
}

/// Write every entry in order; on the first failure restore what was written and return it.
pub fn apply_writes(
    fs: &dyn CgroupFs,
    paths: &CgroupPaths,
    writes: &[CgroupWrite],
) -> Result<(), CgroupError> {
    let mut done: Vec<(PathBuf, Option<String>)> = Vec::new();
    for write in writes {
        let result = target(paths, write).and_then(|path| {
            let old = fs.read(&path).ok().map(|v| v.trim().to_string());
            fs.write(&path, &write.value)
                .map_err(|e| CgroupError::io("write", path.clone(), e))?;
            done.push((path, old));
            Ok(())
        });
        if let Err(err) = result {
            rollback(fs, &done);
            return Err(err);
        }
    }
    Ok(())
}

/// Apply `config`'s limits to a freshly created cgroup; a refused value writes nothing.
pub fn apply_limits(
    fs: &dyn CgroupFs,
    host: &CgroupHost,
    facts: &HostFacts,
    cg: &CgroupPaths,
    config: &BTreeMap<String, String>,
) -> Result<(), CgroupError> {
    apply_writes(fs, cg, &plan_limits(config, host, facts)?)
}

/// Live update of a running container: only the changed limits are written.
pub fn update_limits(
    fs: &dyn CgroupFs,
    host: &CgroupHost,
    facts: &HostFacts,
    cg: &CgroupPaths,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), CgroupError> {
    apply_writes(fs, cg, &plan_limits_update(old, new, host, facts)?)
}

fn rollback(fs: &dyn CgroupFs, done: &[(PathBuf, Option<String>)]) {
    for (path, old) in done.iter().rev() {
        let Some(old) = old else { continue };
        // Multi-line files (net_prio.ifpriomap) take one entry per write.
        for line in old.lines().filter(|l| !l.trim().is_empty()) {
            if let Err(err) = fs.write(path, line) {
                warn!(path = %path.display(), %err, "Failed to restore cgroup value");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::cgroup::fake::{FakeCgroupFs, FsOp};
    use crate::cgroup::fixtures::fake_hybrid_host;
    use crate::cgroup::CgroupBase;

    #[test]
    fn apply_writes_kernel_refusal_restores_earlier_files() {
        let (fs, paths) = fake_hybrid_host(Path::new("/h"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
        cg.create(&fs).unwrap();
        let mem = cg.dir(Controller::Memory).unwrap().to_path_buf();
        fs.add_file(mem.join("memory.limit_in_bytes"), "9223372036854771712\n");
        fs.fail_at(mem.join("memory.memsw.limit_in_bytes"), 16);
        fs.clear_ops();
        let writes = [
            CgroupWrite::new(Controller::Memory, "memory.limit_in_bytes", 1000),
            CgroupWrite::new(Controller::Memory, "memory.memsw.limit_in_bytes", 1000),
        ];
        let err = apply_writes(&fs, &cg, &writes).unwrap_err();
        assert!(err.to_string().starts_with("Failed to write"), "{err}");
        assert_eq!(
            fs.ops(),
            [
                FsOp::Write(mem.join("memory.limit_in_bytes"), "1000".into()),
                FsOp::Write(
                    mem.join("memory.limit_in_bytes"),
                    "9223372036854771712".into()
                ),
            ]
        );
    }

    #[test]
    fn update_limits_refused_value_nothing_written() {
        let (fs, paths) = fake_hybrid_host(Path::new("/h"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let facts = HostFacts::read(&fs, &host, &paths).unwrap();
        let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
        cg.create(&fs).unwrap();
        let old = BTreeMap::from([("limits.processes".to_string(), "5".to_string())]);
        apply_limits(&fs, &host, &facts, &cg, &old).unwrap();
        let pids = cg.dir(Controller::Pids).unwrap().join("pids.max");
        assert_eq!(fs.read(&pids).unwrap(), "5");
        fs.clear_ops();
        let mut new = old.clone();
        new.insert("limits.processes".into(), "7".into());
        new.insert("limits.memory".into(), "0".into());
        let err = update_limits(&fs, &host, &facts, &cg, &old, &new).unwrap_err();
        assert_eq!(err.to_string(), "Invalid config: Memory limit can't be 0");
        assert!(fs.ops().is_empty());
        new.remove("limits.memory");
        update_limits(&fs, &host, &facts, &cg, &old, &new).unwrap();
        assert_eq!(fs.writes(), [(pids, "7".to_string())]);
    }

    #[test]
    fn apply_writes_missing_hierarchy_nothing_written() {
        let fs = FakeCgroupFs::new();
        let host = CgroupHost::from_proc(&fs, Path::new("/"), "", "");
        let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
        let writes = [CgroupWrite::new(Controller::Pids, "pids.max", 5)];
        assert!(apply_writes(&fs, &cg, &writes).is_err());
        assert!(fs.ops().is_empty());
    }
}
