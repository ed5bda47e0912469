//! Warning endpoints: `/1.0/warnings[/<uuid>]`.

use lxd_api::{Warning, WarningPut};

use crate::{Client, Result};

impl Client {
    /// `GET /1.0/warnings?recursion=1`.
    pub async fn get_warnings(&self) -> Result<Vec<Warning>> {
        Ok(self.get_struct("/1.0/warnings?recursion=1").await?.0)
    }

    /// `GET /1.0/warnings/<uuid>` with its ETag.
    pub async fn get_warning(&self, uuid: &str) -> Result<(Warning, String)> {
        self.get_struct(&format!("/1.0/warnings/{uuid}")).await
    }

    /// `PUT /1.0/warnings/<uuid>`: sets the status (e.g. `acknowledged`).
    pub async fn update_warning(&self, uuid: &str, put: &WarningPut, etag: &str) -> Result<()> {
        self.query_with("PUT", &format!("/1.0/warnings/{uuid}"), put, Some(etag))
            .await?;
        Ok(())
    }

    /// `DELETE /1.0/warnings/<uuid>`.
    pub async fn delete_warning(&self, uuid: &str) -> Result<()> {
        self.query("DELETE", &format!("/1.0/warnings/{uuid}"), None, None)
            .await?;
        Ok(())
    }
}
