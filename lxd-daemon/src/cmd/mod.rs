//! Sub-commands of `lxd` that talk to a running daemon over its socket.

pub mod activate;
pub mod exec_server;
pub mod fork;
pub mod idmap_probe;
pub mod init;
pub mod local;
pub mod shutdown;
pub mod waitready;
