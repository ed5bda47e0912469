//! The `lxd` daemon as a library: the binary in `main.rs` parses flags and calls into it, and
//! the API-tier tests and benchmarks drive the router and a real socket through it.

pub mod api;
pub mod apparmor;
pub mod cgroups;
pub mod cmd;
pub mod daemon;
pub mod events;
pub mod facts;
pub mod handlers;
pub mod image_store;
pub mod instances;
pub mod logging;
pub mod migration;
pub mod operations;
pub mod paths;
pub mod remote_images;
pub mod runtime;
pub mod secrets;
pub mod server;
pub mod startup_warnings;
pub mod state;
pub mod storage_backend;
pub mod tasks;
pub mod time;
pub mod tls;
pub mod trust;
