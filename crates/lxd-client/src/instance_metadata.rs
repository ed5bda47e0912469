//! An instance's `metadata.yaml` (`/1.0/instances/<name>/metadata`) and the files of its
//! `templates/` directory (`.../metadata/templates?path=`), as LXD's Go client reaches them:
//! templates travel as raw `application/octet-stream` bodies, never as JSON.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use lxd_api::instance::InstanceMetadata;

use crate::instances::{instance_path, query_escape};
use crate::{Client, ClientError, Result};

fn templates_url(client: &Client, instance: &str, template: &str) -> String {
    client.url_with_project(&format!(
        "{}/metadata/templates?path={}",
        instance_path(instance),
        query_escape(template)
    ))
}

impl Client {
    /// `GET /1.0/instances/<name>/metadata`, with its ETag.
    pub async fn get_instance_metadata(
        &self,
        instance: &str,
    ) -> Result<(InstanceMetadata, String)> {
        self.get_struct(&format!("{}/metadata", instance_path(instance)))
            .await
    }

    /// `PUT /1.0/instances/<name>/metadata`.
    pub async fn update_instance_metadata(
        &self,
        instance: &str,
        metadata: &InstanceMetadata,
        etag: &str,
    ) -> Result<()> {
        let path = format!("{}/metadata", instance_path(instance));
        self.query_with("PUT", &path, metadata, Some(etag)).await?;
        Ok(())
    }

    /// `GET /1.0/instances/<name>/metadata/templates`: the template file names.
    pub async fn get_instance_template_names(&self, instance: &str) -> Result<Vec<String>> {
        let path = format!("{}/metadata/templates", instance_path(instance));
        let (names, _) = self.get_struct::<Option<Vec<String>>>(&path).await?;
        Ok(names.unwrap_or_default())
    }

    /// `GET .../metadata/templates?path=<template>`: the template's content.
    pub async fn get_instance_template_file(
        &self,
        instance: &str,
        template: &str,
    ) -> Result<Bytes> {
        let url = templates_url(self, instance, template);
        let raw = self.raw_request("GET", &url, None, None).await?;
        if raw.status != 200 {
            crate::client::parse_envelope(&raw, &url)?;
        }
        Ok(raw.body)
    }

    /// `POST .../metadata/templates?path=<template>`: create or replace a template.
    pub async fn create_instance_template_file(
        &self,
        instance: &str,
        template: &str,
        content: Vec<u8>,
    ) -> Result<()> {
        let url = templates_url(self, instance, template);
        let req = self
            .request_builder("POST", &url)?
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .body(Full::new(Bytes::from(content)))
            .map_err(|e| ClientError::Request(e.to_string()))?;
        let resp = self.send(req).await?;
        let raw = crate::RawResponse {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.into_body().collect().await?.to_bytes(),
        };
        crate::client::parse_envelope(&raw, &url)?;
        Ok(())
    }

    /// `DELETE .../metadata/templates?path=<template>`.
    pub async fn delete_instance_template_file(
        &self,
        instance: &str,
        template: &str,
    ) -> Result<()> {
        let path = format!(
            "{}/metadata/templates?path={}",
            instance_path(instance),
            query_escape(template)
        );
        self.query("DELETE", &path, None, None).await?;
        Ok(())
    }
}
