//! Serving the API: the UNIX socket (bound, or handed over by systemd) and the accept loop.

pub mod listener;
pub mod unix;
