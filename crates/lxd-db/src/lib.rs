//! The daemon's state in SQLite: schema, numbered migrations, typed queries and one writer.
//!
//! All writes go through a single writer thread that owns the only read-write connection, so
//! concurrent API requests never meet "database is locked". Queued writes are committed
//! together (group commit) with `synchronous=FULL`, and a caller is answered only after its
//! write is durable. Reads use a small pool of read-only connections, which WAL lets run
//! alongside the writer. This crate knows nothing of HTTP or of the kernel.

pub mod certificates;
mod connection;
pub mod error;
pub mod images;
pub mod instances;
mod migrations;
pub mod pools;
pub mod profiles;
pub mod projects;
pub mod server_config;
pub mod volumes;
pub mod warnings;
mod writer;

pub use connection::Database;
pub use error::DbError;
pub use migrations::SCHEMA_VERSION;
