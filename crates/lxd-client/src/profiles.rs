//! Profile endpoints: `/1.0/profiles` and `/1.0/profiles/<name>`.

use lxd_api::{Profile, ProfilePost, ProfilePut, ProfilesPost};

use crate::{Client, Result};

fn profile_path(name: &str) -> String {
    format!("/1.0/profiles/{}", crate::websocket::escape_path(name))
}

impl Client {
    /// `GET /1.0/profiles?recursion=1`.
    pub async fn get_profiles(&self) -> Result<Vec<Profile>> {
        Ok(self.get_struct("/1.0/profiles?recursion=1").await?.0)
    }

    /// `GET /1.0/profiles`: the profile names.
    pub async fn get_profile_names(&self) -> Result<Vec<String>> {
        let (urls, _): (Vec<String>, _) = self.get_struct("/1.0/profiles").await?;
        Ok(urls
            .iter()
            .map(|u| u.rsplit('/').next().unwrap_or_default().to_string())
            .collect())
    }

    /// `GET /1.0/profiles/<name>` with its ETag.
    pub async fn get_profile(&self, name: &str) -> Result<(Profile, String)> {
        self.get_struct(&profile_path(name)).await
    }

    /// `POST /1.0/profiles`.
    pub async fn create_profile(&self, profile: &ProfilesPost) -> Result<()> {
        self.query_with("POST", "/1.0/profiles", profile, None)
            .await?;
        Ok(())
    }

    /// `PUT /1.0/profiles/<name>`.
    pub async fn update_profile(&self, name: &str, put: &ProfilePut, etag: &str) -> Result<()> {
        self.query_with("PUT", &profile_path(name), put, Some(etag))
            .await?;
        Ok(())
    }

    /// `POST /1.0/profiles/<name>`: rename.
    pub async fn rename_profile(&self, name: &str, new_name: &str) -> Result<()> {
        let body = ProfilePost {
            name: new_name.to_string(),
        };
        self.query_with("POST", &profile_path(name), &body, None)
            .await?;
        Ok(())
    }

    /// `DELETE /1.0/profiles/<name>`.
    pub async fn delete_profile(&self, name: &str) -> Result<()> {
        self.query("DELETE", &profile_path(name), None, None)
            .await?;
        Ok(())
    }
}
