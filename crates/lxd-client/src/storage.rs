//! Storage pool endpoints: `/1.0/storage-pools[/<name>[/resources]]`.

use lxd_api::{StoragePool, StoragePoolPut, StoragePoolsPost};
use serde_json::Value;

use crate::{Client, Result};

fn pool_path(name: &str) -> String {
    format!("/1.0/storage-pools/{}", crate::websocket::escape_path(name))
}

impl Client {
    /// `GET /1.0/storage-pools?recursion=1`.
    pub async fn get_storage_pools(&self) -> Result<Vec<StoragePool>> {
        Ok(self.get_struct("/1.0/storage-pools?recursion=1").await?.0)
    }

    /// `GET /1.0/storage-pools/<name>` with its ETag; `target` selects a cluster member.
    pub async fn get_storage_pool(&self, name: &str) -> Result<(StoragePool, String)> {
        self.get_struct(&pool_path(name)).await
    }

    /// `POST /1.0/storage-pools`.
    pub async fn create_storage_pool(&self, pool: &StoragePoolsPost) -> Result<()> {
        self.query_with("POST", "/1.0/storage-pools", pool, None)
            .await?;
        Ok(())
    }

    /// `PUT /1.0/storage-pools/<name>`.
    pub async fn update_storage_pool(
        &self,
        name: &str,
        put: &StoragePoolPut,
        etag: &str,
    ) -> Result<()> {
        self.query_with("PUT", &pool_path(name), put, Some(etag))
            .await?;
        Ok(())
    }

    /// `DELETE /1.0/storage-pools/<name>`.
    pub async fn delete_storage_pool(&self, name: &str) -> Result<()> {
        self.query("DELETE", &pool_path(name), None, None).await?;
        Ok(())
    }

    /// `GET /1.0/storage-pools/<name>/resources`: space and inode usage.
    pub async fn get_storage_pool_resources(&self, name: &str) -> Result<Value> {
        let path = format!("{}/resources", pool_path(name));
        let (resp, _) = self.query("GET", &path, None, None).await?;
        Ok(resp.metadata)
    }
}
