//! Storage volume endpoints: `/1.0/storage-pools/<pool>/volumes[/<type>/<name>[/state|
//! /snapshots[/<snapshot>]]]`, as lxc 5.0.2's client calls them. Requests the server answers
//! with an operation are waited for here unless the caller wants the operation itself.

use lxd_api::storage_volume::{
    StorageVolume, StorageVolumePost, StorageVolumePut, StorageVolumeSnapshot,
    StorageVolumeSnapshotPost, StorageVolumeSnapshotPut, StorageVolumeSnapshotsPost,
    StorageVolumeState, StorageVolumesPost,
};
use lxd_api::{Operation, ResponseType};
use serde::Serialize;

use crate::instances::{filter_expression, query_escape};
use crate::websocket::escape_path;
use crate::{Client, ClientError, Result};

fn volumes_path(pool: &str) -> String {
    format!("/1.0/storage-pools/{}/volumes", escape_path(pool))
}

fn volume_path(pool: &str, kind: &str, name: &str) -> String {
    format!(
        "{}/{}/{}",
        volumes_path(pool),
        escape_path(kind),
        escape_path(name)
    )
}

fn snapshot_path(pool: &str, kind: &str, name: &str, snapshot: &str) -> String {
    format!(
        "{}/snapshots/{}",
        volume_path(pool, kind, name),
        escape_path(snapshot)
    )
}

impl Client {
    /// `GET .../volumes?filter=&recursion=1` (with `all-projects=true` when asked), the
    /// query written in the order Go's `url.Values.Encode` sorts it.
    pub async fn get_storage_pool_volumes(
        &self,
        pool: &str,
        filters: &[String],
        all_projects: bool,
    ) -> Result<Vec<StorageVolume>> {
        self.require("The server", "storage").await?;
        if all_projects {
            self.require("The server", "storage_volumes_all_projects")
                .await?;
        }
        let filter = query_escape(&filter_expression(filters));
        let query = if all_projects {
            format!("all-projects=true&filter={filter}&recursion=1")
        } else {
            format!("filter={filter}&recursion=1")
        };
        let path = format!("{}?{query}", volumes_path(pool));
        Ok(self.get_struct(&path).await?.0)
    }

    /// `GET .../volumes/<type>/<name>` with its ETag.
    pub async fn get_storage_pool_volume(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
    ) -> Result<(StorageVolume, String)> {
        self.require("The server", "storage").await?;
        self.get_struct(&volume_path(pool, kind, name)).await
    }

    /// `GET .../volumes/<type>/<name>/state`.
    pub async fn get_storage_pool_volume_state(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
    ) -> Result<StorageVolumeState> {
        self.require("The server", "storage_volume_state").await?;
        let path = format!("{}/state", volume_path(pool, kind, name));
        Ok(self.get_struct(&path).await?.0)
    }

    /// `POST .../volumes/<type>`: a new empty volume (answered synchronously).
    pub async fn create_storage_pool_volume(
        &self,
        pool: &str,
        vol: &StorageVolumesPost,
    ) -> Result<()> {
        self.require("The server", "storage").await?;
        let path = format!("{}/{}", volumes_path(pool), escape_path(&vol.kind));
        self.query_async_ok("POST", &path, vol).await?;
        Ok(())
    }

    /// `POST .../volumes/<type>` with a `copy` source: returns the copy's operation.
    pub async fn copy_storage_pool_volume(
        &self,
        pool: &str,
        vol: &StorageVolumesPost,
    ) -> Result<Option<Operation>> {
        self.require("The server", "storage_api_local_volume_handling")
            .await?;
        if vol.source.volume_only {
            self.require("The target server", "storage_api_volume_snapshots")
                .await?;
        }
        if vol.source.refresh {
            self.require("The target server", "custom_volume_refresh")
                .await?;
        }
        if !vol.source.project.is_empty() {
            self.require("The server", "storage_api_project").await?;
        }
        let path = format!("{}/{}", volumes_path(pool), escape_path(&vol.kind));
        self.query_async_ok("POST", &path, vol).await
    }

    /// `PUT .../volumes/<type>/<name>`.
    pub async fn update_storage_pool_volume(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
        put: &StorageVolumePut,
        etag: &str,
    ) -> Result<()> {
        self.require("The server", "storage").await?;
        if !put.restore.is_empty() {
            self.require("The server", "storage_api_volume_snapshots")
                .await?;
        }
        self.query_with("PUT", &volume_path(pool, kind, name), put, Some(etag))
            .await?;
        Ok(())
    }

    /// `PUT .../volumes/<type>/<name>` with a body built by the caller (e.g. a restore).
    pub async fn update_storage_pool_volume_raw(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
        body: &serde_json::Value,
        etag: &str,
    ) -> Result<()> {
        self.require("The server", "storage").await?;
        if body
            .get("restore")
            .and_then(|r| r.as_str())
            .is_some_and(|r| !r.is_empty())
        {
            self.require("The server", "storage_api_volume_snapshots")
                .await?;
        }
        self.query(
            "PUT",
            &volume_path(pool, kind, name),
            Some(body),
            Some(etag),
        )
        .await?;
        Ok(())
    }

    /// `DELETE .../volumes/<type>/<name>`.
    pub async fn delete_storage_pool_volume(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
    ) -> Result<()> {
        self.require("The server", "storage").await?;
        self.query("DELETE", &volume_path(pool, kind, name), None, None)
            .await?;
        Ok(())
    }

    /// `POST .../volumes/<type>/<name>`: rename, or move to another pool or project. The
    /// operation (if the server answers with one) is returned unwaited.
    pub async fn post_storage_pool_volume(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
        post: &StorageVolumePost,
    ) -> Result<Option<Operation>> {
        self.require("The server", "storage_api_volume_rename")
            .await?;
        self.query_async_ok("POST", &volume_path(pool, kind, name), post)
            .await
    }

    /// `POST .../snapshots`: the snapshot operation, waited for.
    pub async fn create_storage_pool_volume_snapshot(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
        req: &StorageVolumeSnapshotsPost,
    ) -> Result<()> {
        self.require("The server", "storage_api_volume_snapshots")
            .await?;
        let path = format!("{}/snapshots", volume_path(pool, kind, name));
        self.query_wait("POST", &path, Some(serde_json::to_value(req)?))
            .await
    }

    /// `GET .../snapshots?recursion=1`.
    pub async fn get_storage_pool_volume_snapshots(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
    ) -> Result<Vec<StorageVolumeSnapshot>> {
        self.require("The server", "storage_api_volume_snapshots")
            .await?;
        let path = format!("{}/snapshots?recursion=1", volume_path(pool, kind, name));
        Ok(self.get_struct(&path).await?.0)
    }

    /// `GET .../snapshots/<snapshot>` with its ETag.
    pub async fn get_storage_pool_volume_snapshot(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
        snapshot: &str,
    ) -> Result<(StorageVolumeSnapshot, String)> {
        self.require("The server", "storage_api_volume_snapshots")
            .await?;
        self.get_struct(&snapshot_path(pool, kind, name, snapshot))
            .await
    }

    /// `PUT .../snapshots/<snapshot>`.
    pub async fn update_storage_pool_volume_snapshot(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
        snapshot: &str,
        put: &StorageVolumeSnapshotPut,
        etag: &str,
    ) -> Result<()> {
        self.require("The server", "storage_api_volume_snapshots")
            .await?;
        let path = snapshot_path(pool, kind, name, snapshot);
        if let Some(op) = self.query_async_ok_etag("PUT", &path, put, etag).await? {
            self.wait_operation(&op.id).await?;
        }
        Ok(())
    }

    /// `POST .../snapshots/<snapshot>` (rename), waited for.
    pub async fn rename_storage_pool_volume_snapshot(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
        snapshot: &str,
        new_name: &str,
    ) -> Result<()> {
        self.require("The server", "storage_api_volume_snapshots")
            .await?;
        let body = serde_json::to_value(StorageVolumeSnapshotPost {
            name: new_name.to_string(),
            ..Default::default()
        })?;
        let path = snapshot_path(pool, kind, name, snapshot);
        self.query_wait("POST", &path, Some(body)).await
    }

    /// `DELETE .../snapshots/<snapshot>`, waited for.
    pub async fn delete_storage_pool_volume_snapshot(
        &self,
        pool: &str,
        kind: &str,
        name: &str,
        snapshot: &str,
    ) -> Result<()> {
        self.require("The server", "storage_api_volume_snapshots")
            .await?;
        let path = snapshot_path(pool, kind, name, snapshot);
        self.query_wait("DELETE", &path, None).await
    }

    /// Refuses a server without API extension `name`, as the Go client does before a call
    /// (`prefix` is "The server" or "The target server").
    async fn require(&self, prefix: &str, name: &str) -> Result<()> {
        let (server, _) = self.get_server().await?;
        if server.untrusted.api_extensions.iter().any(|e| e == name) {
            return Ok(());
        }
        Err(ClientError::Unexpected(format!(
            "{prefix} is missing the required \"{name}\" API extension"
        )))
    }

    /// Sends `body`; an async answer gives its operation, a sync answer `None`.
    async fn query_async_ok<B: Serialize>(
        &self,
        method: &str,
        path: &str,
        body: &B,
    ) -> Result<Option<Operation>> {
        self.query_async_ok_etag(method, path, body, "").await
    }

    async fn query_async_ok_etag<B: Serialize>(
        &self,
        method: &str,
        path: &str,
        body: &B,
        etag: &str,
    ) -> Result<Option<Operation>> {
        let (resp, _) = self.query_with(method, path, body, Some(etag)).await?;
        if resp.kind != ResponseType::Async {
            return Ok(None);
        }
        let op: Operation = serde_json::from_value(resp.metadata)
            .map_err(|e| ClientError::Unexpected(format!("Not an operation: {e}")))?;
        Ok(Some(op))
    }

    /// Sends a request answered with an operation and waits for it to finish.
    async fn query_wait(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<()> {
        self.query_operation_wait(method, path, body.as_ref())
            .await?;
        Ok(())
    }
}
