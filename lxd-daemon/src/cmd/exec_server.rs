//! `lxd forkexecd`: the daemon's exec server. Starting `lxd forkexec` for every command costs
//! the exec of this large binary, its dynamic linking and the discovery of the host's cgroup
//! hierarchies, several milliseconds each time. The server pays that once: it is started
//! with a `SOCK_SEQPACKET` socket as its stdin, stays single-threaded, and forks a child per
//! request that does what `lxd forkexec` does.
//!
//! A request is one message (`exec`) with five fds: the exec spec (JSON in a memfd), the
//! command's stdin, stdout and stderr, and a stream socket. The child joins the container,
//! then waits for one byte on that socket before it runs the command (so the daemon can
//! prepare a command while its client connects; a socket closed instead calls the command
//! off). It reports there the command's pid once it runs and its exit status once it ends,
//! each as a tag byte and an `i32`, little-endian (`runtime::exec::StatusRecord`), before it
//! exits. A socket closed without a status means the command could not be run. The server
//! reads each spec itself and keeps the seccomp programs it built, so its children share
//! both instead of each parsing and building them again. It ends when the daemon's end of
//! its socket closes.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};

use lxd_runtime::container::exec::ExecSpec;
use lxd_runtime::container::SeccompProgram;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout, ForkResult, Pid};

/// Serve requests on stdin until it closes.
pub fn serve() -> anyhow::Result<()> {
    if let Err(e) = crate::cgroups::discover_now() {
        tracing::warn!(error = %e, "Exec server: no cgroup hierarchies found");
    }
    // SIGCHLD arrives on a signalfd, so children are collected as soon as they end.
    let sigchld = child_signal();
    sigchld.thread_block()?;
    let ended = SignalFd::with_flags(&sigchld, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    let control = std::io::stdin();
    let mut buf = vec![0u8; 4096];
    let mut filters = FilterCache::default();
    // Whether code pages touched since the last request may still be given back.
    let mut pages_held = true;
    loop {
        let mut ready = [
            PollFd::new(control.as_fd(), PollFlags::POLLIN),
            PollFd::new(ended.as_fd(), PollFlags::POLLIN),
        ];
        let timeout = if pages_held {
            PollTimeout::from(IDLE_BEFORE_GIVING_BACK_MS)
        } else {
            PollTimeout::NONE
        };
        match poll(&mut ready, timeout) {
            Ok(0) => {
                // Idle: the clean file pages used to start and serve go back (the page cache
                // keeps them; the next command maps them again with minor faults).
                let _ = lxd_sys::memory::drop_clean_file_pages();
                pages_held = false;
                continue;
            }
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let has = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        let (request, child_ended) = (has(&ready[0]), has(&ready[1]));
        if child_ended {
            while let Ok(Some(_)) = ended.read_signal() {}
            reap_finished();
        }
        if !request {
            continue;
        }
        pages_held = true;
        let (len, fds) = match lxd_sys::fdpass::recv_fds(control.as_fd(), &mut buf) {
            Ok((0, _)) => return Ok(()),
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        let request_ok = &buf[..len] == crate::runtime::exec::REQUEST;
        let Ok::<[OwnedFd; 5], _>(fds) = fds.try_into() else {
            tracing::warn!("Exec server: a request without its five fds was ignored");
            continue;
        };
        if !request_ok {
            tracing::warn!("Exec server: an unknown request was ignored");
            continue;
        }
        // Read here, not in each child: the children share what the server parsed and the
        // filters it built for earlier commands.
        let [spec, stdin, stdout, stderr, status] = fds;
        let spec = read_spec(spec);
        let request = Request {
            command: match &spec {
                Ok(spec) => Ok((spec, filters.get(&spec.config))),
                Err(e) => Err(e),
            },
            fds: [stdin, stdout, stderr, status],
        };
        match lxd_sys::spawn::fork_process() {
            Ok(ForkResult::Child) => {
                // The command must not start with SIGCHLD blocked.
                let _ = sigchld.thread_unblock();
                std::process::exit(run_request(request))
            }
            // The child holds its own copies; the status socket tells the daemon if it failed.
            Ok(ForkResult::Parent { .. }) => drop(request),
            Err(e) => tracing::warn!(error = %e, "Exec server: fork failed"),
        }
    }
}

/// How long (ms) the server waits idle before it gives back its clean file pages.
const IDLE_BEFORE_GIVING_BACK_MS: u16 = 10_000;

fn child_signal() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    set
}

/// One command to run: its spec as the server read it with the seccomp program for it (or why
/// the spec could not be read), and its stdin, stdout, stderr and status socket.
struct Request<'a> {
    command: Result<(&'a ExecSpec, &'a SeccompProgram), &'a anyhow::Error>,
    fds: [OwnedFd; 4],
}

/// The seccomp programs built for earlier commands, by the config entries they come from
/// (most hosts have one or two policies; building one costs more than the rest of a fork).
#[derive(Default)]
struct FilterCache(HashMap<Vec<(String, String)>, SeccompProgram>);

impl FilterCache {
    /// At most this many programs are kept; the cache starts over beyond it.
    const LIMIT: usize = 64;

    fn get(&mut self, config: &BTreeMap<String, String>) -> &SeccompProgram {
        let key = lxd_runtime::seccomp::policy_inputs(config);
        if self.0.len() >= Self::LIMIT && !self.0.contains_key(&key) {
            self.0.clear();
        }
        self.0
            .entry(key)
            .or_insert_with(|| lxd_runtime::container::seccomp_program(config))
    }
}

/// In the forked child: take the command's stdio as 0, 1 and 2 (which closes the server's
/// socket), run the command as `lxd forkexec` does, and report on the status socket.
fn run_request(request: Request<'_>) -> i32 {
    use crate::runtime::exec::{encode_status_record, StatusRecord};
    let [stdin, stdout, stderr, status] = request.fds;
    let taken = dup2_stdin(&stdin)
        .and_then(|()| dup2_stdout(&stdout))
        .and_then(|()| dup2_stderr(&stderr));
    if taken.is_err() {
        return 1;
    }
    drop((stdin, stdout, stderr));
    let (spec, filter) = match request.command {
        Ok(command) => command,
        Err(e) => {
            eprintln!("Error: {e:#}");
            return 1;
        }
    };
    let status = std::fs::File::from(status);
    // The daemon sends one byte once its client is connected, or closes the socket to call
    // the command off.
    let mut go = || {
        let mut byte = [0u8; 1];
        matches!((&status).read(&mut byte), Ok(1))
    };
    let mut started = |pid: Pid| {
        let _ = (&status).write_all(&encode_status_record(StatusRecord::Pid(pid.as_raw())));
    };
    let code = match super::fork::exec_gated(spec, filter, &mut go, &mut started) {
        Ok(code) => code,
        Err(e) => {
            let called_off = matches!(
                e.downcast_ref::<lxd_runtime::container::exec::ExecError>(),
                Some(lxd_runtime::container::exec::ExecError::CalledOff)
            );
            if called_off {
                return 0;
            }
            eprintln!("Error: {e:#}");
            1
        }
    };
    let _ = (&status).write_all(&encode_status_record(StatusRecord::Exit(code)));
    0
}

/// The exec spec the daemon wrote to `fd`.
fn read_spec(fd: OwnedFd) -> anyhow::Result<ExecSpec> {
    let mut json = Vec::new();
    std::fs::File::from(fd).read_to_end(&mut json)?;
    Ok(serde_json::from_slice(&json)?)
}

/// Collect the children that have exited (the daemon learns their commands' statuses from
/// their status sockets, not from here).
fn reap_finished() {
    while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_are_built_once_per_seccomp_policy() {
        let mut cache = FilterCache::default();
        let plain = config(&[("limits.memory", "1GiB")]);
        let first = cache.get(&plain).as_ref().map(|p| p.is_some()).unwrap();
        assert!(first, "the default policy has a filter");
        // Keys other than the seccomp ones share the program.
        cache.get(&config(&[("limits.memory", "2GiB"), ("user.x", "y")]));
        assert_eq!(cache.0.len(), 1);
        // A seccomp key makes another one, and turning the filter off is kept too.
        let deny = config(&[("security.syscalls.deny", "uname errno 1")]);
        assert!(matches!(cache.get(&deny), Ok(Some(_))));
        let off = config(&[("security.syscalls.deny_default", "false")]);
        assert!(matches!(cache.get(&off), Ok(None)));
        assert_eq!(cache.0.len(), 3);
    }

    #[test]
    fn a_bad_policy_is_kept_as_its_error() {
        let mut cache = FilterCache::default();
        let both = config(&[
            ("raw.seccomp", "2\ndenylist\nuname\n"),
            ("security.syscalls.deny", "uname"),
        ]);
        assert!(cache.get(&both).is_err());
    }

    #[test]
    fn the_cache_starts_over_beyond_its_limit() {
        let mut cache = FilterCache::default();
        for i in 0..FilterCache::LIMIT + 1 {
            let deny = format!("uname errno {}", i + 1);
            cache.get(&config(&[("security.syscalls.deny", &deny)]));
        }
        assert_eq!(cache.0.len(), 1);
    }
}
