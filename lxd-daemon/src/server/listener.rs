//! The API socket: bind `$LXD_DIR/unix.socket` with LXD's mode and group, or take the one
//! systemd hands over.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{bail, Context};
use tokio::net::UnixListener;

/// Where the listener came from (systemd-owned sockets are not removed on exit).
pub struct ApiListener {
    pub listener: UnixListener,
    pub activated: bool,
}

/// Use a socket-activated listener if there is one, else bind `path`.
pub fn open(path: &Path, group: Option<&str>) -> anyhow::Result<ApiListener> {
    if let Some(fd) = lxd_sys::activation::take_listen_fds().into_iter().next() {
        let std_listener = std::os::unix::net::UnixListener::from(fd);
        std_listener.set_nonblocking(true)?;
        let listener = UnixListener::from_std(std_listener).context("Bad socket from systemd")?;
        tracing::info!("Using the socket passed by systemd");
        return Ok(ApiListener {
            listener,
            activated: true,
        });
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            bail!("LXD is already running");
        }
        std::fs::remove_file(path)
            .with_context(|| format!("Failed to remove stale socket {}", path.display()))?;
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("Failed to bind {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    if let Some(name) = group.filter(|g| !g.is_empty()) {
        let gid = nix::unistd::Group::from_name(name)
            .ok()
            .flatten()
            .with_context(|| format!("Cannot find group {name:?}"))?
            .gid;
        nix::unistd::chown(path, None, Some(gid)).context("Failed to set the socket's group")?;
    }
    Ok(ApiListener {
        listener,
        activated: false,
    })
}
