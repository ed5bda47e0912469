//! Moving the volume and its snapshots over the data channel once the method is agreed: the
//! index header, then rsync runs (one per snapshot, oldest first, then the volume, and for a
//! running source a final sync) or the driver's own streams. The receiving side builds the
//! volume from them, snapshots included, and shifts a rootfs the source stored with host ids
//! back to container ids (this daemon keeps them unshifted on disk).
//!
//! Blocking code, run on the blocking pool; nothing here touches the database.

use std::io::Write;
use std::path::PathBuf;

use lxd_shared::idmap::IdmapSet;
use lxd_storage::{
    ContentType, MigrationArgs, Pool, StorageDriver, StorageError, StreamChannel, Volume,
    VolumeType,
};
use serde_json::Value;

use super::conn::Conn;
use super::progress::Progress;
use super::proto::FS_RSYNC;
use super::types::TransferType;

/// A [`Conn`] as the storage drivers' stream channel, counting bytes for the progress.
struct Channel<'a> {
    conn: &'a mut Conn,
    progress: &'a Progress,
}

impl StreamChannel for Channel<'_> {
    fn send_stream(
        &mut self,
        fill: &mut dyn FnMut(&mut dyn Write) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let (_, mut writer) = self.conn.split_io();
        let mut counted = Counting {
            inner: &mut writer,
            total: 0,
            progress: self.progress,
        };
        let result = fill(&mut counted);
        let ended = writer
            .end_stream()
            .map_err(|e| StorageError::Transfer(e.to_string()));
        result.and(ended)
    }

    fn recv_stream(
        &mut self,
        consume: &mut dyn FnMut(&mut (dyn std::io::Read + Send)) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let (mut reader, _) = self.conn.split_io();
        let result = consume(&mut reader);
        let drained = reader
            .drain_stream()
            .map_err(|e| StorageError::Transfer(e.to_string()));
        result.and(drained)
    }
}

struct Counting<'a, W: Write> {
    inner: &'a mut W,
    total: u64,
    progress: &'a Progress,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.total += n as u64;
        self.progress.update(self.total);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `err` with its sources, as one line.
fn chain(err: &StorageError) -> String {
    crate::handlers::instances::backup_optimized::chain(err)
}

/// What a source sends.
pub struct SendPlan {
    pub driver: Box<dyn StorageDriver>,
    pub pool: Pool,
    /// Storage name of the volume sent (`c1`, or `c1/snap0` for a snapshot source).
    pub volume: String,
    /// Name shown in progress (`c1`).
    pub label: String,
    pub snapshots: Vec<String>,
    pub all_snapshots: Vec<String>,
    pub method: TransferType,
    pub rsync_features: Vec<String>,
    pub bwlimit: String,
    /// The index header to send first, when the target speaks it.
    pub index: Option<Value>,
    pub refresh: bool,
    pub volume_only: bool,
    pub allow_inconsistent: bool,
    /// The `lxd` binary (for `lxd netcat`).
    pub exec: PathBuf,
}

impl SendPlan {
    fn rsync_tree(
        &self,
        label: &str,
        path: &std::path::Path,
        fs: &mut Conn,
        progress: &Progress,
    ) -> Result<(), String> {
        progress.start(label);
        let result = super::rsync::send(
            label,
            path,
            fs,
            &self.rsync_features,
            &self.bwlimit,
            &self.exec,
            &[],
            &|n| progress.update(n),
        );
        match result {
            Ok(()) => Ok(()),
            Err(f) if self.allow_inconsistent && f.code == Some(24) => Ok(()),
            Err(f) => Err(f.message),
        }
    }

    /// The whole transfer: index header (which may turn refresh off), snapshots, volume.
    pub fn send(&mut self, fs: &mut Conn, progress: &Progress) -> Result<(), String> {
        if let Some(index) = self.index.take() {
            let (mut reader, mut writer) = fs.split_io();
            let data = serde_json::to_vec(&index).map_err(|e| e.to_string())?;
            writer
                .write_stream(&data)
                .map_err(|e| format!("Failed sending migration index header: {e}"))?;
            let answer = reader
                .read_stream()
                .map_err(|e| format!("Failed reading migration index header: {e}"))?;
            if let Some(refresh) = super::index::parse_response(&answer)? {
                self.refresh = refresh;
            }
        }
        if self.method.fs != FS_RSYNC {
            progress.start(&self.label);
            let args = MigrationArgs {
                snapshots: self.snapshots.clone(),
                all_snapshots: self.all_snapshots.clone(),
                features: self.method.features.clone(),
                refresh: self.refresh,
                volume_only: self.volume_only,
            };
            let mut channel = Channel { conn: fs, progress };
            return self
                .driver
                .send_volume_migration(
                    &self.pool,
                    VolumeType::Container,
                    &self.volume,
                    &args,
                    &mut channel,
                )
                .map_err(|e| chain(&e));
        }
        if !self.volume_only {
            for snap in &self.snapshots {
                let path = self.driver.mount_path(
                    &self.pool,
                    VolumeType::Container,
                    &format!("{}/{snap}", self.volume),
                );
                self.rsync_tree(&format!("{}/{snap}", self.label), &path, fs, progress)?;
            }
        }
        self.final_sync(fs, progress)
    }

    /// One rsync of the volume alone (also the final sync of a running source).
    pub fn final_sync(&self, fs: &mut Conn, progress: &Progress) -> Result<(), String> {
        let path = self
            .driver
            .mount_path(&self.pool, VolumeType::Container, &self.volume);
        self.rsync_tree(&self.label, &path, fs, progress)
    }
}

/// What a target receives.
pub struct RecvPlan {
    pub driver: Box<dyn StorageDriver>,
    pub pool: Pool,
    /// Storage name of the new (or refreshed) volume.
    pub volume: String,
    pub label: String,
    pub snapshots: Vec<String>,
    pub method: TransferType,
    pub rsync_features: Vec<String>,
    pub index_version: u32,
    pub refresh: bool,
    pub volume_only: bool,
    /// The source sends the volume a second time at the end (running source).
    pub final_sync: bool,
    /// The map the source stores its data with, when it stores it shifted.
    pub idmap: Option<IdmapSet>,
}

impl RecvPlan {
    fn unshift(&self, path: &std::path::Path) -> Result<(), String> {
        match &self.idmap {
            Some(map) => crate::handlers::instances::backup_optimized::unshift_volume(path, map)
                .map_err(|e| format!("Failed to shift {}: {e}", path.display())),
            None => Ok(()),
        }
    }

    fn rsync_into(
        &self,
        label: &str,
        path: &std::path::Path,
        fs: &mut Conn,
        progress: &Progress,
    ) -> Result<(), String> {
        progress.start(label);
        super::rsync::recv(path, fs, &self.rsync_features, &|n| progress.update(n))
            .map_err(|f| f.message)
    }

    /// The whole transfer; on failure what this call created is removed again.
    pub fn receive(&self, fs: &mut Conn, progress: &Progress) -> Result<PathBuf, String> {
        if self.index_version >= 1 {
            let (mut reader, mut writer) = fs.split_io();
            let data = reader
                .read_stream()
                .map_err(|e| format!("Failed reading migration index header: {e}"))?;
            super::index::parse_info(&data)?;
            let answer = serde_json::to_vec(&super::index::response(self.refresh))
                .map_err(|e| e.to_string())?;
            writer
                .write_stream(&answer)
                .map_err(|e| format!("Failed sending migration index header response: {e}"))?;
        }
        let vol = Volume {
            vol_type: VolumeType::Container,
            content_type: ContentType::Filesystem,
            name: self.volume.clone(),
            size: None,
        };
        if self.method.fs != FS_RSYNC {
            progress.start(&self.label);
            let args = MigrationArgs {
                snapshots: self.snapshots.clone(),
                all_snapshots: self.snapshots.clone(),
                features: self.method.features.clone(),
                refresh: self.refresh,
                volume_only: self.volume_only,
            };
            let mut channel = Channel { conn: fs, progress };
            let mut prepare =
                |path: &std::path::Path| self.unshift(path).map_err(lxd_storage::FillError::from);
            return self
                .driver
                .create_volume_from_migration(&self.pool, &vol, &args, &mut channel, &mut prepare)
                .map_err(|e| format!("Failed creating instance on target: {}", chain(&e)));
        }
        let mut created_snapshots = Vec::new();
        let result = self.receive_rsync(&vol, fs, progress, &mut created_snapshots);
        if result.is_err() {
            for snap in created_snapshots.iter().rev() {
                let _ = self.driver.delete_snapshot(
                    &self.pool,
                    VolumeType::Container,
                    &self.volume,
                    snap,
                );
            }
            if !self.refresh {
                let _ = self
                    .driver
                    .delete_volume(&self.pool, VolumeType::Container, &self.volume);
            }
        }
        result
    }

    fn receive_rsync(
        &self,
        vol: &Volume,
        fs: &mut Conn,
        progress: &Progress,
        created: &mut Vec<String>,
    ) -> Result<PathBuf, String> {
        let path = if self.refresh {
            self.driver
                .mount_path(&self.pool, VolumeType::Container, &self.volume)
        } else {
            self.driver
                .create_volume(&self.pool, vol)
                .map_err(|e| format!("Failed creating instance on target: {}", chain(&e)))?
        };
        if !self.volume_only {
            for snap in &self.snapshots {
                self.rsync_into(&format!("{}/{snap}", self.label), &path, fs, progress)?;
                self.unshift(&path)?;
                self.driver
                    .create_snapshot(&self.pool, VolumeType::Container, &self.volume, snap)
                    .map_err(|e| chain(&e))?;
                created.push(snap.clone());
            }
        }
        self.rsync_into(&self.label, &path, fs, progress)?;
        if self.final_sync {
            self.rsync_into(&self.label, &path, fs, progress)?;
        }
        self.unshift(&path)?;
        Ok(path)
    }
}
