//! Starting processes the way the runtime needs: `clone(2)` straight into new namespaces, and
//! `fork(2)` (also straight into a cgroup v2 directory). Both are only sound in a
//! single-threaded process (the runtime's helper processes are), which these functions check
//! before doing anything.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::sched::CloneFlags;
use nix::unistd::{ForkResult, Pid};

/// Why a process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("Refusing to fork a process with {0} threads")]
    Threaded(usize),
    #[error("Failed to start the child process")]
    Sys(#[source] nix::Error),
}

/// Stack given to a cloned child; it is the child's own copy (no `CLONE_VM`).
const CHILD_STACK: usize = 1024 * 1024;

/// Number of threads of this process, from `/proc/self/status`. Read into a buffer on the
/// stack in one or two reads: a growing `String` took seven, and this runs before every fork
/// of the exec server and its helpers.
pub fn thread_count() -> usize {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    let Ok(mut file) = std::fs::File::open("/proc/self/status") else {
        return usize::MAX;
    };
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(_) => return usize::MAX,
        }
    }
    threads_in_status(&buf[..len]).unwrap_or(usize::MAX)
}

/// The `Threads:` value of a `/proc/PID/status` text.
fn threads_in_status(status: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(status).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

fn require_single_thread() -> Result<(), SpawnError> {
    match thread_count() {
        1 => Ok(()),
        n => Err(SpawnError::Threaded(n)),
    }
}

/// Run `child` in a new process created with `flags` (namespace flags; `SIGCHLD` is sent to
/// the caller when it exits). The child's return value is its exit status.
pub fn clone_child(
    flags: CloneFlags,
    child: Box<dyn FnMut() -> isize + '_>,
) -> Result<Pid, SpawnError> {
    require_single_thread()?;
    let mut stack = vec![0u8; CHILD_STACK];
    // SAFETY: the process is single-threaded (checked above), so the child starts from a
    // consistent copy of the address space without locks held by other threads; no CLONE_VM
    // is passed (callers give namespace flags only), so the child runs on its own copy of
    // `stack`, which the parent may free once clone returns.
    unsafe { nix::sched::clone(child, &mut stack, flags, Some(nix::libc::SIGCHLD)) }
        .map_err(SpawnError::Sys)
}

/// Proof that the process was single-threaded when it was checked, for callers that fork
/// after `/proc/self` stops describing them (inside another mount namespace). The holder
/// promises not to start threads in between.
#[derive(Debug)]
pub struct SingleThreaded(());

impl SingleThreaded {
    /// Check the thread count now.
    pub fn check() -> Result<Self, SpawnError> {
        require_single_thread()?;
        Ok(Self(()))
    }
}

/// `fork(2)` for a single-threaded caller.
pub fn fork_process() -> Result<ForkResult, SpawnError> {
    fork_checked(&SingleThreaded::check()?)
}

/// `fork(2)` after an earlier [`SingleThreaded::check`].
pub fn fork_checked(_proof: &SingleThreaded) -> Result<ForkResult, SpawnError> {
    // SAFETY: the caller holds proof that the process was single-threaded and has started no
    // thread since, so the child may run any code, not only async-signal-safe functions.
    unsafe { nix::unistd::fork() }.map_err(SpawnError::Sys)
}

/// [`fork_checked`], with the child started in the cgroup v2 directory `cgroup` (`clone3`
/// with `CLONE_INTO_CGROUP`). Writing a pid to `cgroup.procs` takes the kernel's cgroup
/// thread-group lock for writing, which waits for an RCU grace period (10 ms and more on an
/// idle host); starting the child there takes it only for reading.
pub fn fork_into_cgroup(
    proof: &SingleThreaded,
    cgroup: BorrowedFd<'_>,
) -> Result<ForkResult, SpawnError> {
    clone3_fork(proof, CloneFlags::empty(), cgroup)
}

/// [`clone_child`] into the cgroup v2 directory `cgroup` (see [`fork_into_cgroup`]).
pub fn clone_child_into(
    flags: CloneFlags,
    cgroup: BorrowedFd<'_>,
    mut child: Box<dyn FnMut() -> isize + '_>,
) -> Result<Pid, SpawnError> {
    let proof = SingleThreaded::check()?;
    match clone3_fork(&proof, flags, cgroup)? {
        ForkResult::Child => {
            let code = child() as libc::c_int;
            // SAFETY: _exit ends this (child) process at once, as the trampoline of
            // `clone_child` does, without running exit handlers or flushing buffers that are
            // copies of the parent's.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => Ok(child),
    }
}

/// `clone3(2)` as a fork (no `CLONE_VM`, no stack) with namespace `flags`, into `cgroup`.
fn clone3_fork(
    _proof: &SingleThreaded,
    flags: CloneFlags,
    cgroup: BorrowedFd<'_>,
) -> Result<ForkResult, SpawnError> {
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let mut args = libc::clone_args {
        flags: flags.bits() as u64 | CLONE_INTO_CGROUP,
        pidfd: 0,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: libc::SIGCHLD as u64,
        stack: 0,
        stack_size: 0,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: cgroup.as_raw_fd() as u64,
    };
    // SAFETY: `args` is a valid `clone_args` of the size passed and outlives the call. Without
    // CLONE_VM (and with no stack given) the child runs on its own copy of the address space
    // from this point, as after fork(2). The caller holds proof that the process is
    // single-threaded, so no other thread holds a lock the child could need; glibc's fork
    // handlers do not run, which matters only for locks other threads could hold.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut libc::clone_args,
            std::mem::size_of::<libc::clone_args>(),
        )
    };
    match ret {
        -1 => Err(SpawnError::Sys(nix::errno::Errno::last())),
        0 => Ok(ForkResult::Child),
        pid => Ok(ForkResult::Parent {
            child: Pid::from_raw(pid as i32),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_read_from_a_status_text() {
        let status = b"Name:\tlxd\nState:\tS (sleeping)\nThreads:\t7\nSigQ:\t0/1\n";
        assert_eq!(threads_in_status(status), Some(7));
        assert_eq!(threads_in_status(b"Name:\tlxd\n"), None);
    }
}
