//! Image and image alias endpoints: `/1.0/images[/<fp>[/refresh]]` and
//! `/1.0/images/aliases[/<name>]`. Upload and export live in `image_upload.rs` and
//! `image_export.rs`.

use lxd_api::image::{Image, ImageAliasesEntry, ImageAliasesEntryPost, ImageAliasesPost, ImagePut};
use lxd_api::Operation;
use serde_json::Value;

use crate::{Client, ClientError, Result};

/// `/1.0/images/<fingerprint>`.
pub fn image_path(fingerprint: &str) -> String {
    format!("/1.0/images/{}", crate::websocket::escape_path(fingerprint))
}

fn alias_path(name: &str) -> String {
    format!(
        "/1.0/images/aliases/{}",
        crate::websocket::escape_path(name)
    )
}

impl Client {
    /// `GET /1.0/images?filter=&recursion=1`, as lxc's `GetImagesWithFilter` sends it.
    pub async fn get_images(&self) -> Result<Vec<Image>> {
        Ok(self.get_struct("/1.0/images?filter=&recursion=1").await?.0)
    }

    /// `GET /1.0/images/<fingerprint>` (a unique prefix is enough) with its ETag.
    pub async fn get_image(&self, fingerprint: &str) -> Result<(Image, String)> {
        self.get_struct(&image_path(fingerprint)).await
    }

    /// `PUT /1.0/images/<fingerprint>` with a body already shaped like `api.ImagePut`.
    pub async fn update_image_value(
        &self,
        fingerprint: &str,
        put: &Value,
        etag: &str,
    ) -> Result<()> {
        self.query("PUT", &image_path(fingerprint), Some(put), Some(etag))
            .await?;
        Ok(())
    }

    /// `PUT /1.0/images/<fingerprint>`.
    pub async fn update_image(&self, fingerprint: &str, put: &ImagePut, etag: &str) -> Result<()> {
        let value = serde_json::to_value(put)?;
        self.update_image_value(fingerprint, &value, etag).await
    }

    /// `DELETE /1.0/images/<fingerprint>` and waits for the operation.
    pub async fn delete_image(&self, fingerprint: &str) -> Result<Operation> {
        self.query_operation_wait("DELETE", &image_path(fingerprint), None)
            .await
    }

    /// `POST /1.0/images/<fingerprint>/refresh`: starts the operation (not waited for). Like
    /// the Go client, refuses a server without the `image_force_refresh` extension.
    pub async fn refresh_image(&self, fingerprint: &str) -> Result<Operation> {
        let (server, _) = self.get_server().await?;
        if !server
            .untrusted
            .api_extensions
            .iter()
            .any(|e| e == "image_force_refresh")
        {
            return Err(ClientError::Unexpected(
                "The server is missing the required \"image_force_refresh\" API extension".into(),
            ));
        }
        let path = format!("{}/refresh", image_path(fingerprint));
        self.start_operation("POST", &path, None).await
    }

    /// `GET /1.0/images/aliases?recursion=1`.
    pub async fn get_image_aliases(&self) -> Result<Vec<ImageAliasesEntry>> {
        Ok(self.get_struct("/1.0/images/aliases?recursion=1").await?.0)
    }

    /// `GET /1.0/images/aliases/<name>` with its ETag.
    pub async fn get_image_alias(&self, name: &str) -> Result<(ImageAliasesEntry, String)> {
        self.get_struct(&alias_path(name)).await
    }

    /// `POST /1.0/images/aliases`.
    pub async fn create_image_alias(&self, alias: &ImageAliasesPost) -> Result<()> {
        self.query_with("POST", "/1.0/images/aliases", alias, None)
            .await?;
        Ok(())
    }

    /// `DELETE /1.0/images/aliases/<name>`.
    pub async fn delete_image_alias(&self, name: &str) -> Result<()> {
        self.query("DELETE", &alias_path(name), None, None).await?;
        Ok(())
    }

    /// `POST /1.0/images/aliases/<name>`: rename.
    pub async fn rename_image_alias(&self, name: &str, new_name: &str) -> Result<()> {
        let body = ImageAliasesEntryPost {
            name: new_name.to_string(),
        };
        self.query_with("POST", &alias_path(name), &body, None)
            .await?;
        Ok(())
    }

    /// Sends a request answered with an operation and returns it without waiting.
    pub async fn start_operation(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Operation> {
        let (resp, _) = self.query(method, path, body, None).await?;
        serde_json::from_value(resp.metadata)
            .map_err(|e| ClientError::Unexpected(format!("Not an operation: {e}")))
    }
}
