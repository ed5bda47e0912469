//! Pausing and resuming a container: v1 `freezer.state` (`FROZEN`/`THAWED`, polled until the
//! kernel reports `FROZEN`), v2 `cgroup.freeze` (polled through `cgroup.events`). A freeze that
//! does not complete in time is undone so the container is never left half-frozen.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::discover::{Backend, CgroupHost, Controller};
use super::fs::CgroupFs;
use super::paths::CgroupPaths;
use super::CgroupError;

/// What the freezer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezerState {
    Thawed,
    Freezing,
    Frozen,
}

const POLL: Duration = Duration::from_millis(10);

fn freezer_dir<'a>(
    host: &CgroupHost,
    cg: &'a CgroupPaths,
) -> Result<(Backend, &'a Path), CgroupError> {
    let backend = host
        .backend(Controller::Freezer)
        .ok_or(CgroupError::NoFreezer)?;
    let dir = cg.dir(Controller::Freezer).ok_or(CgroupError::NoFreezer)?;
    Ok((backend, dir))
}

fn write(fs: &dyn CgroupFs, path: PathBuf, value: &str) -> Result<(), CgroupError> {
    fs.write(&path, value)
        .map_err(|e| CgroupError::io("write", path, e))
}

fn read(fs: &dyn CgroupFs, path: PathBuf) -> Result<String, CgroupError> {
    fs.read(&path).map_err(|e| CgroupError::io("read", path, e))
}

/// The freezer state of `cg`.
pub fn freezer_state(
    fs: &dyn CgroupFs,
    host: &CgroupHost,
    cg: &CgroupPaths,
) -> Result<FreezerState, CgroupError> {
    let (backend, dir) = freezer_dir(host, cg)?;
    match backend {
        Backend::V1 => {
            let path = dir.join("freezer.state");
            match read(fs, path.clone())?.trim() {
                "FROZEN" => Ok(FreezerState::Frozen),
                "FREEZING" => Ok(FreezerState::Freezing),
                "THAWED" => Ok(FreezerState::Thawed),
                _ => Err(CgroupError::Parse(path)),
            }
        }
        Backend::V2 => {
            let events = read(fs, dir.join("cgroup.events"))?;
            if events.lines().any(|l| l.trim() == "frozen 1") {
                return Ok(FreezerState::Frozen);
            }
            let wanted = fs.read(&dir.join("cgroup.freeze")).unwrap_or_default();
            Ok(match wanted.trim() {
                "1" => FreezerState::Freezing,
                _ => FreezerState::Thawed,
            })
        }
    }
}

/// Freeze every process in `cg`, waiting up to `timeout` for the kernel to confirm.
pub fn freeze(
    fs: &dyn CgroupFs,
    host: &CgroupHost,
    cg: &CgroupPaths,
    timeout: Duration,
) -> Result<(), CgroupError> {
    let (backend, dir) = freezer_dir(host, cg)?;
    let start = Instant::now();
    if backend == Backend::V2 {
        write(fs, dir.join("cgroup.freeze"), "1")?;
    }
    loop {
        if backend == Backend::V1 {
            // Written again while a task is still FREEZING, as liblxc does.
            write(fs, dir.join("freezer.state"), "FROZEN")?;
        }
        if freezer_state(fs, host, cg)? == FreezerState::Frozen {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            thaw(fs, host, cg)?;
            return Err(CgroupError::FreezeTimeout(dir.to_path_buf()));
        }
        std::thread::sleep(POLL);
    }
}

/// Thaw `cg`.
pub fn thaw(fs: &dyn CgroupFs, host: &CgroupHost, cg: &CgroupPaths) -> Result<(), CgroupError> {
    let (backend, dir) = freezer_dir(host, cg)?;
    match backend {
        Backend::V1 => write(fs, dir.join("freezer.state"), "THAWED"),
        Backend::V2 => write(fs, dir.join("cgroup.freeze"), "0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::fake::FakeCgroupFs;
    use crate::cgroup::fixtures::{fake_hybrid_host, fake_unified_host};
    use crate::cgroup::CgroupBase;

    fn setup(fs: &FakeCgroupFs, host: &CgroupHost) -> CgroupPaths {
        let cg = CgroupPaths::payload(host, CgroupBase::Own, "c1").unwrap();
        cg.create(fs).unwrap();
        fs.clear_ops();
        cg
    }

    #[test]
    fn freeze_v1_writes_frozen_then_thawed() {
        let (fs, paths) = fake_hybrid_host(Path::new("/h"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let cg = setup(&fs, &host);
        freeze(&fs, &host, &cg, Duration::from_secs(1)).unwrap();
        assert_eq!(
            freezer_state(&fs, &host, &cg).unwrap(),
            FreezerState::Frozen
        );
        thaw(&fs, &host, &cg).unwrap();
        let state = cg.dir(Controller::Freezer).unwrap().join("freezer.state");
        assert_eq!(
            fs.writes(),
            [(state.clone(), "FROZEN".into()), (state, "THAWED".into())]
        );
        assert_eq!(
            freezer_state(&fs, &host, &cg).unwrap(),
            FreezerState::Thawed
        );
    }

    #[test]
    fn freeze_v1_stuck_freezing_times_out_and_thaws() {
        let (fs, paths) = fake_hybrid_host(Path::new("/h"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let cg = setup(&fs, &host);
        let state = cg.dir(Controller::Freezer).unwrap().join("freezer.state");
        fs.pin_file(&state, "FREEZING\n");
        let err = freeze(&fs, &host, &cg, Duration::from_millis(30)).unwrap_err();
        assert!(matches!(err, CgroupError::FreezeTimeout(_)), "{err}");
        assert!(err.to_string().starts_with("Timed out waiting for"));
        let writes = fs.writes();
        assert!(writes.len() >= 2);
        assert_eq!(writes.last().unwrap(), &(state, "THAWED".to_string()));
    }

    #[test]
    fn freeze_v1_refused_write_clear_error() {
        let (fs, paths) = fake_hybrid_host(Path::new("/h"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let cg = setup(&fs, &host);
        let state = cg.dir(Controller::Freezer).unwrap().join("freezer.state");
        fs.fail_at(&state, nix::errno::Errno::EINVAL as i32);
        let err = freeze(&fs, &host, &cg, Duration::ZERO).unwrap_err();
        assert!(err.to_string().contains("freezer.state"), "{err}");
    }

    #[test]
    fn freeze_v2_cgroup_freeze_and_events() {
        let (fs, paths) = fake_unified_host(Path::new("/u"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let cg = setup(&fs, &host);
        freeze(&fs, &host, &cg, Duration::from_secs(1)).unwrap();
        assert_eq!(
            freezer_state(&fs, &host, &cg).unwrap(),
            FreezerState::Frozen
        );
        thaw(&fs, &host, &cg).unwrap();
        let file = cg.unified_dir().unwrap().join("cgroup.freeze");
        assert_eq!(
            fs.writes(),
            [(file.clone(), "1".into()), (file, "0".into())]
        );
        assert_eq!(
            freezer_state(&fs, &host, &cg).unwrap(),
            FreezerState::Thawed
        );
    }

    #[test]
    fn freeze_without_freezer_refused() {
        let fs = FakeCgroupFs::new();
        let host = CgroupHost::from_proc(&fs, Path::new("/"), "", "");
        let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
        assert!(matches!(
            freeze(&fs, &host, &cg, Duration::ZERO),
            Err(CgroupError::NoFreezer)
        ));
    }
}
