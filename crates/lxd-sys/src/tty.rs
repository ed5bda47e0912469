//! Terminals: window sizes (`TIOCSWINSZ`) for exec and console resize messages, ptys opened
//! in a container's own devpts instance (so `tty` inside names a device the container can
//! see), and taking a terminal as the controlling one.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

/// `DEVPTS_SUPER_MAGIC` from `linux/magic.h`.
const DEVPTS_MAGIC: i64 = 0x1cd1;

/// A pty pair: the multiplexer side the daemon relays, and the terminal the command gets.
#[derive(Debug)]
pub struct Pty {
    pub master: OwnedFd,
    pub terminal: OwnedFd,
}

/// Open a new pty in the devpts instance mounted at `dev/pts` under `root` (a container's root,
/// such as `/proc/PID/root`), resolving the path as if `root` were `/` so that symlinks in the
/// container cannot lead elsewhere. The terminal side is owned by `uid`:`gid` (the
/// container's root as the host sees it) and sized `cols` x `rows`.
pub fn open_pty_in(root: &Path, uid: u32, gid: u32, cols: u16, rows: u16) -> io::Result<Pty> {
    let dir = nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let how = OpenHow::new()
        .flags(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let master = nix::fcntl::openat2(dir.as_fd(), "dev/pts/ptmx", how)?;
    let fs = nix::sys::statfs::fstatfs(master.as_fd())?;
    if fs.filesystem_type().0 as i64 != DEVPTS_MAGIC {
        return Err(io::Error::other(
            "dev/pts/ptmx is not on a devpts filesystem",
        ));
    }
    let unlock: libc::c_int = 0;
    // SAFETY: `master` is a live descriptor and TIOCSPTLCK only reads the int we pass.
    if unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCSPTLCK,
            &unlock as *const libc::c_int,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes open flags by value and returns a new descriptor or -1.
    let raw = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just installed `raw` for us; nothing else owns it.
    let terminal = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut termios = nix::sys::termios::tcgetattr(terminal.as_fd())?;
    termios.input_flags |= nix::sys::termios::InputFlags::IUTF8;
    nix::sys::termios::tcsetattr(
        terminal.as_fd(),
        nix::sys::termios::SetArg::TCSANOW,
        &termios,
    )?;
    set_window_size(master.as_fd(), cols, rows)?;
    nix::unistd::fchown(terminal.as_fd(), Some(uid.into()), Some(gid.into()))?;
    Ok(Pty { master, terminal })
}

/// Make the terminal behind `fd` the controlling terminal of the calling process, which must
/// lead a session without one (call after `setsid`).
pub fn set_controlling_terminal(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument by value (0: do not steal from another session).
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Set the window size of the terminal behind `fd`.
pub fn set_window_size(fd: BorrowedFd<'_>, cols: u16, rows: u16) -> io::Result<()> {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: `fd` is a live descriptor for the duration of the call and `size` is a valid,
    // initialised winsize that the kernel only reads.
    let ret = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::TIOCSWINSZ,
            &size as *const libc::winsize,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    #[test]
    fn set_window_size_on_pty_is_seen_by_stty() {
        let pty = nix::pty::openpty(None, None).unwrap();
        super::set_window_size(pty.master.as_fd(), 100, 40).unwrap();
        let out = std::process::Command::new("stty")
            .arg("size")
            .stdin(std::process::Stdio::from(pty.slave))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "40 100");
    }

    #[test]
    fn open_pty_in_host_root_gives_a_working_pair() {
        use std::io::{Read, Write};
        let pty = super::open_pty_in(std::path::Path::new("/"), 0, 0, 90, 30).unwrap();
        let mut terminal = std::fs::File::from(pty.terminal);
        terminal.write_all(b"ping\n").unwrap();
        let mut master = std::fs::File::from(pty.master);
        let mut buf = [0u8; 16];
        let n = master.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"ping"), "{:?}", &buf[..n]);
        let out = std::process::Command::new("stty")
            .arg("size")
            .stdin(std::process::Stdio::from(terminal))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "30 90");
    }

    #[test]
    fn open_pty_in_refuses_a_ptmx_outside_devpts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dev/pts")).unwrap();
        std::fs::write(dir.path().join("dev/pts/ptmx"), b"").unwrap();
        assert!(super::open_pty_in(dir.path(), 0, 0, 80, 24).is_err());
    }

    #[test]
    fn set_window_size_on_regular_file_fails() {
        let file = tempfile::tempfile().unwrap();
        assert!(super::set_window_size(file.as_fd(), 80, 24).is_err());
    }
}
