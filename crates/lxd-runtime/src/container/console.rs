//! The console, as the monitor serves it: init's console pty is copied into the console log,
//! and one client at a time may attach through a UNIX socket in the state directory. An
//! attached client receives everything the console prints and its bytes are typed into the
//! console; on connecting it gets one status byte (`O` attached, with a copy of the pty's
//! multiplexer fd for window sizes; `B` another client is attached).
//!
//! It must not stop the log: a slow or vanished client is dropped, never waited for long.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Status byte: the client is attached.
pub const ATTACHED: u8 = b'O';
/// Status byte: another client holds the console.
pub const BUSY: u8 = b'B';

/// How long the copier waits for an attached client to take output before dropping it.
const CLIENT_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the copier looks again while nothing has the console open.
const CONSOLE_IDLE_POLL: Duration = Duration::from_millis(100);

/// Tells the console copier that init has ended; it wakes the copier at once if it is idle.
#[derive(Default)]
pub struct Ended {
    ended: Mutex<bool>,
    wake: Condvar,
}

impl Ended {
    /// Record the end and wake a waiting copier.
    pub fn set(&self) {
        if let Ok(mut ended) = self.ended.lock() {
            *ended = true;
        }
        self.wake.notify_all();
    }

    /// Wait up to `timeout` for the end; whether it has come.
    fn wait(&self, timeout: Duration) -> bool {
        let Ok(ended) = self.ended.lock() else {
            return true;
        };
        match self.wake.wait_timeout_while(ended, timeout, |e| !*e) {
            Ok((ended, _)) => *ended,
            Err(_) => true,
        }
    }
}

/// The console socket of a container whose monitor keeps its state in `state_dir`.
pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join("console.socket")
}

#[derive(Default)]
struct Attached {
    /// Bumped per client, so a client's reader clears only its own slot.
    generation: u64,
    stream: Option<UnixStream>,
}

/// The console of one running container.
pub struct Console {
    master: std::fs::File,
    client: Mutex<Attached>,
    generations: AtomicU64,
}

impl Console {
    pub fn new(master: OwnedFd) -> Arc<Self> {
        Arc::new(Self {
            master: std::fs::File::from(master),
            client: Mutex::new(Attached::default()),
            generations: AtomicU64::new(0),
        })
    }

    /// Serve attach requests on `path` from a background thread.
    pub fn serve(self: &Arc<Self>, path: &Path) -> std::io::Result<()> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        let console = self.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                console.attach(conn);
            }
        });
        Ok(())
    }

    fn attach(self: &Arc<Self>, mut conn: UnixStream) {
        let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if slot.stream.is_some() {
            let _ = conn.write_all(&[BUSY]);
            return;
        }
        let sent = lxd_sys::fdpass::send_fds(conn.as_fd(), &[ATTACHED], &[self.master.as_fd()]);
        let (Ok(_), Ok(reader)) = (sent, conn.try_clone()) else {
            return;
        };
        let _ = conn.set_write_timeout(Some(CLIENT_WRITE_TIMEOUT));
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        *slot = Attached {
            generation,
            stream: Some(conn),
        };
        drop(slot);
        let console = self.clone();
        std::thread::spawn(move || console.type_from(reader, generation));
    }

    /// Copy what the client types into the console until it goes away.
    fn type_from(&self, mut reader: UnixStream, generation: u64) {
        let mut buf = [0u8; 4096];
        let mut master = &self.master;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if master.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if slot.generation == generation {
            if let Some(s) = slot.stream.take() {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }

    /// Hand console output to the attached client, if any; drop it when it fails.
    fn forward(&self, data: &[u8]) {
        let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stream) = slot.stream.as_mut() {
            if stream.write_all(data).is_err() {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                slot.stream = None;
            }
        }
    }

    /// Copy the console into `log` (and to the attached client) until init has ended
    /// (`done`). While no process has the console open (an init that closes it, or a
    /// `vhangup` by getty: systemd does both while it boots) the multiplexer reads `EIO`; it
    /// must stay open through that, or the console is gone for good and every later open of
    /// `/dev/console` in the container fails.
    pub fn copy_to_log(&self, log: &Path, done: &Ended) {
        let Ok(mut out) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        else {
            return;
        };
        let mut buf = [0u8; 4096];
        let mut master = &self.master;
        // Once init has ended, one more read takes what it wrote after the last `EIO` (a
        // console reopened for systemd's last lines); the `EIO` after that is the end.
        let mut draining = false;
        loop {
            match master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    self.forward(&buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => {
                    if draining {
                        break;
                    }
                    draining = done.wait(CONSOLE_IDLE_POLL);
                }
                Err(_) => break,
            }
        }
    }
}

/// A client's end of an attached console.
pub struct ConsoleClient {
    pub stream: UnixStream,
    /// The console pty's multiplexer, for window sizes.
    pub master: OwnedFd,
}

/// Why attaching failed.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("Failed to connect to the console")]
    Connect(#[source] std::io::Error),
    #[error("The console is already attached")]
    Busy,
    #[error("The console did not answer")]
    NoAnswer,
}

/// Attach to the console served at `path` (blocking, briefly).
pub fn attach(path: &Path) -> Result<ConsoleClient, AttachError> {
    let stream = UnixStream::connect(path).map_err(AttachError::Connect)?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut status = [0u8; 1];
    let (n, mut fds) =
        lxd_sys::fdpass::recv_fds(stream.as_fd(), &mut status).map_err(AttachError::Connect)?;
    let _ = stream.set_read_timeout(None);
    match (n, status[0], fds.pop()) {
        (1, ATTACHED, Some(master)) => Ok(ConsoleClient { stream, master }),
        (1, BUSY, _) => Err(AttachError::Busy),
        _ => Err(AttachError::NoAnswer),
    }
}
