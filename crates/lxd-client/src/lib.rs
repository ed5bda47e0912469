//! Async client of the LXD REST API.
//!
//! [`Client`] speaks HTTP/1.1 to an LXD daemon through a [`Connector`]: the local UNIX socket
//! or HTTPS with a client certificate ([`tls`], [`client_cert`]). It returns the raw response envelope
//! ([`lxd_api::Response`]) or typed objects from `lxd-api`, follows ETags, waits on operations,
//! and opens the events and operation websockets. It never prints and never reads user config:
//! that is the CLI's job.

pub mod backups;
pub mod certificates;
pub mod client;
pub mod client_cert;
pub mod console;
pub mod error;
pub mod events;
pub mod exec;
pub mod files;
pub mod image_export;
pub mod image_upload;
pub mod images;
pub mod instance_metadata;
pub mod instances;
pub mod migration;
pub mod multipart;
pub mod operations;
pub mod profiles;
pub mod progress;
pub mod server;
pub mod storage;
pub mod storage_volume_backups;
pub mod storage_volumes;
pub mod tls;
pub mod transport;
pub mod trust;
pub mod warnings;
pub mod websocket;

pub use client::{Client, RawResponse};
pub use error::ClientError;
pub use events::EventListener;
pub use transport::{Connector, HttpsEndpoint, Stream};

/// Result type of every client call.
pub type Result<T> = std::result::Result<T, ClientError>;
