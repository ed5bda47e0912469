//! Custom volume backups as `lxc storage volume export|import` use them: create
//! (`POST .../volumes/custom/<name>/backups`), download (`.../backups/<b>/export`), delete, and
//! a new volume from a tarball (`POST .../volumes/custom` with an octet-stream body and
//! `X-LXD-name`). Each call first checks `custom_volume_backup`, as the Go client does.

use std::io::Write;

use lxd_api::Operation;
use serde_json::Value;

use crate::progress::ProgressFn;
use crate::websocket::escape_path;
use crate::{Client, ClientError, Result};

fn backups_path(pool: &str, volume: &str) -> String {
    format!(
        "/1.0/storage-pools/{}/volumes/custom/{}/backups",
        escape_path(pool),
        escape_path(volume)
    )
}

impl Client {
    async fn require_backup_extension(&self, name: &str) -> Result<()> {
        let (server, _) = self.get_server().await?;
        if server.untrusted.api_extensions.iter().any(|e| e == name) {
            return Ok(());
        }
        Err(ClientError::Unexpected(format!(
            "The server is missing the required \"{name}\" API extension"
        )))
    }

    /// `POST .../backups` (`api.StoragePoolVolumeBackupsPost`); not waited for.
    pub async fn create_storage_pool_volume_backup(
        &self,
        pool: &str,
        volume: &str,
        req: &Value,
    ) -> Result<Operation> {
        self.require_backup_extension("custom_volume_backup")
            .await?;
        self.query_operation("POST", &backups_path(pool, volume), Some(req), None)
            .await
    }

    /// `DELETE .../backups/<backup>`; not waited for.
    pub async fn delete_storage_pool_volume_backup(
        &self,
        pool: &str,
        volume: &str,
        backup: &str,
    ) -> Result<Operation> {
        self.require_backup_extension("custom_volume_backup")
            .await?;
        let path = format!("{}/{}", backups_path(pool, volume), escape_path(backup));
        self.query_operation("DELETE", &path, None, None).await
    }

    /// `GET .../backups/<backup>/export` into `out`; returns the byte count.
    pub async fn get_storage_pool_volume_backup_file(
        &self,
        pool: &str,
        volume: &str,
        backup: &str,
        out: &mut dyn Write,
        progress: Option<ProgressFn>,
    ) -> Result<u64> {
        self.require_backup_extension("custom_volume_backup")
            .await?;
        let path = format!(
            "{}/{}/export",
            backups_path(pool, volume),
            escape_path(backup)
        );
        self.download_backup(&path, out, progress).await
    }

    /// `POST .../volumes/custom` with a backup tarball (Go's
    /// `CreateStoragePoolVolumeFromBackup`); `name` goes in `X-LXD-name` when not empty.
    pub async fn create_storage_pool_volume_from_backup(
        &self,
        pool: &str,
        file: std::fs::File,
        name: &str,
        progress: Option<ProgressFn>,
    ) -> Result<Operation> {
        self.require_backup_extension("custom_volume_backup")
            .await?;
        if !name.is_empty() {
            self.require_backup_extension("backup_override_name")
                .await?;
        }
        let path = format!("/1.0/storage-pools/{}/volumes/custom", escape_path(pool));
        let headers: Vec<(&str, &str)> = if name.is_empty() {
            vec![]
        } else {
            vec![("X-LXD-name", name)]
        };
        self.upload_backup(&path, file, &headers, progress).await
    }
}
