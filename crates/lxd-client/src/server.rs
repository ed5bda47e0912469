//! Server endpoints: `GET|PUT|PATCH /1.0` and `GET /1.0/resources`.

use lxd_api::{Server, ServerPut};
use serde_json::Value;

use crate::{Client, Result};

impl Client {
    /// `GET /1.0`: the server object and its ETag.
    pub async fn get_server(&self) -> Result<(Server, String)> {
        self.get_struct("/1.0").await
    }

    /// `GET /1.0` undecoded, keeping every field the daemon sent.
    pub async fn get_server_raw(&self) -> Result<(Value, String)> {
        let (resp, etag) = self.query("GET", "/1.0", None, None).await?;
        Ok((resp.metadata, etag))
    }

    /// `PUT /1.0`: replaces the server configuration.
    pub async fn update_server(&self, put: &ServerPut, etag: &str) -> Result<()> {
        self.query_with("PUT", "/1.0", put, Some(etag)).await?;
        Ok(())
    }

    /// `PATCH /1.0`: merges keys into the server configuration.
    pub async fn patch_server(&self, put: &ServerPut, etag: &str) -> Result<()> {
        self.query_with("PATCH", "/1.0", put, Some(etag)).await?;
        Ok(())
    }

    /// `GET /1.0/resources`, undecoded (the resources tree is large and printed as is).
    pub async fn get_server_resources(&self) -> Result<Value> {
        let (resp, _) = self.query("GET", "/1.0/resources", None, None).await?;
        Ok(resp.metadata)
    }
}
