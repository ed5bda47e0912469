//! Lowering the calling thread's CPU and I/O priority, for background work that must not slow
//! what users wait for (the daemon preparing the next instance volume of an image).

use std::io;

/// The lowest CPU priority (`nice` 19) and the idle I/O class for the calling thread only:
/// on Linux both apply per thread.
pub fn background_thread() -> io::Result<()> {
    // SAFETY: setpriority takes plain integers; `who == 0` names the calling thread.
    let ret = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    const IOPRIO_CLASS_IDLE: libc::c_int = 3;
    const IOPRIO_CLASS_SHIFT: libc::c_int = 13;
    // SAFETY: ioprio_set takes plain integers; `who == 0` names the calling thread.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0,
            IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT,
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowers_only_the_calling_thread() {
        let lowered = std::thread::spawn(|| {
            super::background_thread().unwrap();
            std::fs::read_to_string("/proc/thread-self/stat").unwrap()
        })
        .join()
        .unwrap();
        let nice = |stat: &str| -> i64 {
            // Field 19 (nice), counted after the closing parenthesis of the command name.
            let rest = &stat[stat.rfind(')').unwrap() + 2..];
            rest.split_whitespace().nth(16).unwrap().parse().unwrap()
        };
        assert_eq!(nice(&lowered), 19);
        let ours = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        assert_ne!(nice(&ours), 19);
    }
}
