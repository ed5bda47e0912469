//! Instance backups as `lxc export` / `lxc import` use them: create (`POST .../backups`),
//! download (`GET .../backups/<b>/export`, streamed into a writer with progress), delete, and
//! create an instance from a backup tarball (`POST /1.0/instances` with an
//! `application/octet-stream` body and the `X-LXD-pool` / `X-LXD-name` headers).

use std::io::Write;

use http_body_util::BodyExt;
use lxd_api::Operation;
use serde_json::Value;

use crate::image_upload::{streamed_body, Segment};
use crate::instances::instance_path;
use crate::progress::{ProgressFn, ProgressStyle, ProgressTracker};
use crate::{Client, ClientError, Result};

fn backup_path(instance: &str, backup: &str) -> String {
    format!(
        "{}/backups/{}",
        instance_path(instance),
        crate::websocket::escape_path(backup)
    )
}

impl Client {
    /// `POST /1.0/instances/<name>/backups` (`api.InstanceBackupsPost`); not waited for.
    pub async fn create_instance_backup(&self, instance: &str, req: &Value) -> Result<Operation> {
        let path = format!("{}/backups", instance_path(instance));
        self.query_operation("POST", &path, Some(req), None).await
    }

    /// `DELETE /1.0/instances/<name>/backups/<backup>`; not waited for.
    pub async fn delete_instance_backup(&self, instance: &str, backup: &str) -> Result<Operation> {
        self.query_operation("DELETE", &backup_path(instance, backup), None, None)
            .await
    }

    /// `GET .../backups/<backup>/export` into `out`; returns the byte count. `progress`
    /// receives `"<pct>% (<speed>/s)"` texts.
    pub async fn get_instance_backup_file(
        &self,
        instance: &str,
        backup: &str,
        out: &mut dyn Write,
        progress: Option<ProgressFn>,
    ) -> Result<u64> {
        let path = format!("{}/export", backup_path(instance, backup));
        self.download_backup(&path, out, progress).await
    }

    /// `GET <path>` (a backup's `/export`) streamed into `out`; returns the byte count.
    pub(crate) async fn download_backup(
        &self,
        path: &str,
        out: &mut dyn Write,
        progress: Option<ProgressFn>,
    ) -> Result<u64> {
        let url = self.url_with_project(path);
        let req = self
            .request_builder("GET", &url)?
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .map_err(|e| ClientError::Request(e.to_string()))?;
        let resp = self.send(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut body = resp.into_body();
        if status != 200 {
            let raw = crate::RawResponse {
                status,
                headers,
                body: body.collect().await?.to_bytes(),
            };
            crate::client::parse_envelope(&raw, &url)?;
            return Err(ClientError::Unexpected(format!(
                "Unexpected status {status} from {url}"
            )));
        }
        let length: i64 = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1);
        let mut tracker =
            progress.map(|handler| ProgressTracker::new(length, ProgressStyle::Percent, handler));
        let mut size = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else {
                continue;
            };
            if let Some(t) = tracker.as_mut() {
                t.update(data.len());
            }
            out.write_all(&data)
                .map_err(|e| ClientError::Transfer(e.to_string()))?;
            size += data.len() as u64;
        }
        Ok(size)
    }

    /// `POST /1.0/instances` with a backup tarball as the body (Go's
    /// `CreateInstanceFromBackup`); `pool` and `name` go in `X-LXD-pool` / `X-LXD-name` when
    /// not empty. `progress` receives `"<pct>% (<speed>/s)"` texts as the file is sent.
    pub async fn create_instance_from_backup(
        &self,
        file: std::fs::File,
        pool: &str,
        name: &str,
        progress: Option<ProgressFn>,
    ) -> Result<Operation> {
        let mut headers = vec![];
        if !pool.is_empty() {
            headers.push(("X-LXD-pool", pool));
        }
        if !name.is_empty() {
            headers.push(("X-LXD-name", name));
        }
        self.upload_backup("/1.0/instances", file, &headers, progress)
            .await
    }

    /// `POST <path>` with a backup tarball as an `application/octet-stream` body and extra
    /// `headers`; returns the operation the server starts.
    pub(crate) async fn upload_backup(
        &self,
        path: &str,
        file: std::fs::File,
        headers: &[(&str, &str)],
        progress: Option<ProgressFn>,
    ) -> Result<Operation> {
        let length = file
            .metadata()
            .map(|m| i64::try_from(m.len()).unwrap_or(-1))
            .unwrap_or(-1);
        let tracker =
            progress.map(|handler| ProgressTracker::new(length, ProgressStyle::Percent, handler));
        let url = self.url_with_project(path);
        let mut builder = self
            .request_builder("POST", &url)?
            .header(http::header::CONTENT_TYPE, "application/octet-stream");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let segments = vec![Segment::File(tokio::fs::File::from_std(file))];
        let req = builder
            .body(streamed_body(segments, tracker))
            .map_err(|e| ClientError::Request(e.to_string()))?;
        let resp = self.send(req).await?;
        let raw = crate::RawResponse {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.into_body().collect().await?.to_bytes(),
        };
        let (envelope, _) = crate::client::parse_envelope(&raw, &url)?;
        serde_json::from_value(envelope.metadata)
            .map_err(|e| ClientError::Unexpected(format!("Not an operation: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_path_escapes_both_names() {
        assert_eq!(backup_path("c1", "b 0"), "/1.0/instances/c1/backups/b%200");
    }
}
