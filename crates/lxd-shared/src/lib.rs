//! Pure helpers shared by the daemon and the CLI: names, units, config-key schemas and ETags.
//!
//! Nothing here does I/O or touches the kernel; every function is a plain computation that
//! unit tests can check without a machine.

pub mod config;
pub mod etag;
pub mod expand;
pub mod idmap;
pub mod names;
pub mod units;
