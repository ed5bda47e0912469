//! What drivers need to move a volume to another server in their own stream format (btrfs
//! send/receive between two btrfs pools): a channel of consecutive streams, and the arguments
//! both ends agreed on. The websocket behind the channel, the negotiation and the rsync
//! fallback are the daemon's business.

use std::io::{Read, Write};

use crate::error::StorageError;

/// A channel carrying streams one after the other (LXD's migration data channel).
pub trait StreamChannel {
    /// Write one stream: `fill` writes its bytes, then the stream is ended.
    fn send_stream(
        &mut self,
        fill: &mut dyn FnMut(&mut dyn Write) -> Result<(), StorageError>,
    ) -> Result<(), StorageError>;

    /// Read one stream: `consume` reads it; whatever it leaves unread is skipped.
    fn recv_stream(
        &mut self,
        consume: &mut dyn FnMut(&mut (dyn Read + Send)) -> Result<(), StorageError>,
    ) -> Result<(), StorageError>;

    /// Send `data` as one stream.
    fn send_bytes(&mut self, data: &[u8]) -> Result<(), StorageError> {
        self.send_stream(&mut |w| {
            w.write_all(data)
                .map_err(|e| StorageError::Transfer(e.to_string()))
        })
    }

    /// Receive one whole stream.
    fn recv_bytes(&mut self) -> Result<Vec<u8>, StorageError> {
        let mut out = Vec::new();
        self.recv_stream(&mut |r| {
            r.read_to_end(&mut out)
                .map(|_| ())
                .map_err(|e| StorageError::Transfer(e.to_string()))
        })?;
        Ok(out)
    }
}

/// What both ends of a migration agreed on, as a driver needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationArgs {
    /// Snapshot names to transfer, oldest first.
    pub snapshots: Vec<String>,
    /// Every snapshot of the source volume, oldest first (the sender's subvolume header lists
    /// them all).
    pub all_snapshots: Vec<String>,
    /// The negotiated features of the driver's method (`migration_header`, ...).
    pub features: Vec<String>,
    /// The target volume exists and is brought up to date.
    pub refresh: bool,
    /// Transfer the volume without its snapshots.
    pub volume_only: bool,
}

impl MigrationArgs {
    /// Whether feature `name` was agreed.
    pub fn has(&self, name: &str) -> bool {
        self.features.iter().any(|f| f == name)
    }
}
