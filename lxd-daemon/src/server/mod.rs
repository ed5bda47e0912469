//! Serving the API: the UNIX socket (bound, or handed over by systemd), the HTTPS listener of
//! `core.https_address`, and the per-connection HTTP loop they share.

pub mod addresses;
pub mod conn;
pub mod https;
pub mod listener;
pub mod unix;
