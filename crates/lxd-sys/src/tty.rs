//! Terminal sizes: `TIOCSWINSZ` on a pty, for exec and console window-resize messages.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

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
    fn set_window_size_on_regular_file_fails() {
        let file = tempfile::tempfile().unwrap();
        assert!(super::set_window_size(file.as_fd(), 80, 24).is_err());
    }
}
