//! Pure helpers shared by the daemon and the CLI: names, units, config-key schemas, ETags
//! and the websocket read size.
//!
//! Nothing here does I/O or touches the kernel; every function is a plain computation that
//! unit tests can check without a machine.

pub mod config;
pub mod etag;
pub mod expand;
pub mod idmap;
pub mod names;
pub mod units;

/// How much one read from an operation websocket asks for, on both ends. tungstenite's
/// default (128 KiB) is zeroed before every read and, at glibc's mmap threshold, mapped afresh
/// for every socket: an `lxc exec` paid about 130 page faults and 0.5 MB of `memset` for four
/// sockets that carry a few bytes. Larger frames are still read whole, in several reads.
pub const WEBSOCKET_READ_BUFFER_SIZE: usize = 16 * 1024;
