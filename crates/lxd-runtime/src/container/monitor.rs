//! The per-container monitor: a small process that starts init (or restores it from a
//! checkpoint), keeps the console log, records init's pid and, when init ends, how it ended.
//! It outlives the daemon.

use std::os::fd::AsFd;
use std::sync::Arc;

use lxd_sys::command::RealCommandRunner;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use super::console::{Console, Ended};
use super::spec::{ContainerSpec, MonitorState};
use super::start::{start, StartError};

/// Write the state file atomically.
pub fn write_state(spec: &ContainerSpec, state: &MonitorState) -> std::io::Result<()> {
    let tmp = spec.state_file().with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(state).unwrap_or_default())?;
    std::fs::rename(tmp, spec.state_file())
}

/// Read the state file, if any.
pub fn read_state(spec: &ContainerSpec) -> Option<MonitorState> {
    serde_json::from_slice(&std::fs::read(spec.state_file()).ok()?).ok()
}

/// Exit status of a waited process: its code, or 128 + the signal that killed it.
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Load the container's AppArmor policy (namespace and profile) before init starts.
fn load_apparmor(spec: &ContainerSpec) -> Result<(), StartError> {
    match &spec.apparmor {
        Some(policy) => Ok(crate::apparmor::prepare(&RealCommandRunner, policy)?),
        None => Ok(()),
    }
}

/// Unload the container's AppArmor policy; a failure is logged (the monitor's output is the
/// container's `lxc.log`).
fn release_apparmor(spec: &ContainerSpec) {
    if let Some(policy) = &spec.apparmor {
        if let Err(e) = crate::apparmor::release(&RealCommandRunner, policy) {
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            eprintln!("{e}{cause}");
        }
    }
}

/// How long init's first output may keep the console thread busy before the monitor trims.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// From here on the monitor only waits for init and copies console output: the code that
/// started the container is not needed again (and is mapped back from the page cache if it
/// is). It trims once init has run for [`SETTLE`] (or at once if init ends sooner), so the
/// pages its first console output used go too, leaving what an idle monitor touches.
fn give_back_startup_pages(init: Pid) {
    if let Ok(pidfd) = lxd_sys::proc::pidfd_open(init) {
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(SETTLE).unwrap_or(PollTimeout::MAX);
        while let Err(nix::errno::Errno::EINTR) = poll(&mut fds, timeout) {}
    }
    let _ = lxd_sys::memory::drop_clean_file_pages();
}

/// Start the container and watch it until init ends. Returns init's exit status. `started`
/// is called once init runs (the daemon's helper reports success to its parent there).
/// `ended` is called once init has ended or failed to start, before either is reported, so
/// what it tears down (cgroups, host-side devices) is gone before the daemon may start the
/// container again.
pub fn run(
    spec: &ContainerSpec,
    prepare_cgroups: super::start::PrepareCgroups<'_>,
    attach: &mut dyn FnMut(Pid) -> Result<(), String>,
    started: &mut dyn FnMut(Result<Pid, &StartError>),
    ended: &mut dyn FnMut(),
) -> Result<i32, StartError> {
    std::fs::create_dir_all(&spec.state_dir).map_err(|e| StartError::Setup {
        what: "the state directory",
        source: e,
    })?;
    let launch = |()| match &spec.restore_from {
        Some(dir) => super::checkpoint::restore(spec, prepare_cgroups, attach, dir),
        None => start(spec, prepare_cgroups, attach),
    };
    let running = match load_apparmor(spec).and_then(launch) {
        Ok(r) => r,
        Err(e) => {
            release_apparmor(spec);
            ended();
            started(Err(&e));
            return Err(e);
        }
    };
    let me = nix::unistd::getpid().as_raw();
    let mut state = MonitorState {
        monitor_pid: me,
        init_pid: running.init.as_raw(),
        exit_status: None,
    };
    write_state(spec, &state).map_err(|e| StartError::Setup {
        what: "the state file",
        source: e,
    })?;
    started(Ok(running.init));
    let log = spec.console_log();
    let done = Arc::new(Ended::default());
    let copier_done = done.clone();
    let console = Console::new(running.console);
    let socket = super::console::socket_path(&spec.state_dir);
    if let Err(e) = console.serve(&socket) {
        eprintln!("Failed to serve the console on {}: {e}", socket.display());
    }
    let copier = console.clone();
    let console = std::thread::spawn(move || copier.copy_to_log(&log, &copier_done));
    give_back_startup_pages(running.init);
    let status = loop {
        match waitpid(running.init, None) {
            Ok(s) => {
                if let Some(code) = exit_code(s) {
                    break code;
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break -1,
        }
    };
    // Before the end is recorded: a restart waits for that record, then loads the profile again.
    release_apparmor(spec);
    done.set();
    let _ = console.join();
    let _ = std::fs::remove_file(&socket);
    ended();
    state.exit_status = Some(status);
    let _ = write_state(spec, &state);
    Ok(status)
}
