//! Operation endpoints and waiting: list, get, cancel, `/wait?timeout=N`, progress reporting.

use std::collections::BTreeMap;

use lxd_api::{Operation, StatusCode};
use serde_json::Value;

use crate::{Client, ClientError, Result};

/// The id at the end of an operation URL such as `/1.0/operations/<id>`.
pub fn operation_id(url: &str) -> &str {
    let path = url.split('?').next().unwrap_or_default();
    path.rsplit('/').next().unwrap_or_default()
}

/// Progress strings of an operation's metadata: the values of keys ending in `_progress`.
pub fn progress_texts(op: &Operation) -> Vec<String> {
    let Some(meta) = &op.metadata else {
        return Vec::new();
    };
    meta.iter()
        .filter(|(k, _)| k.ends_with("_progress"))
        .filter_map(|(_, v)| v.as_str().map(str::to_string))
        .collect()
}

fn is_final(op: &Operation) -> bool {
    op.status_code >= StatusCode::Success.code()
}

impl Client {
    /// `GET /1.0/operations?recursion=1`: operations keyed by lower-cased status.
    pub async fn get_operations(&self) -> Result<BTreeMap<String, Vec<Operation>>> {
        Ok(self.get_struct("/1.0/operations?recursion=1").await?.0)
    }

    /// `GET /1.0/operations/<id>`.
    pub async fn get_operation(&self, id: &str) -> Result<Operation> {
        Ok(self.get_struct(&format!("/1.0/operations/{id}")).await?.0)
    }

    /// `DELETE /1.0/operations/<id>`: cancels it.
    pub async fn delete_operation(&self, id: &str) -> Result<()> {
        self.query("DELETE", &format!("/1.0/operations/{id}"), None, None)
            .await?;
        Ok(())
    }

    /// `GET /1.0/operations/<id>/wait?timeout=N` (−1 waits forever).
    pub async fn wait_operation_once(&self, id: &str, timeout: i64) -> Result<Operation> {
        let path = format!("/1.0/operations/{id}/wait?timeout={timeout}");
        Ok(self.get_struct(&path).await?.0)
    }

    /// Waits for the operation to finish; a failed operation becomes
    /// [`ClientError::OperationFailed`] with its `err` text.
    pub async fn wait_operation(&self, id: &str) -> Result<Operation> {
        self.wait_operation_with_progress(id, |_| {}).await
    }

    /// Waits, calling `progress` with each new `*_progress` text while the operation runs.
    pub async fn wait_operation_with_progress<F: FnMut(&str)>(
        &self,
        id: &str,
        mut progress: F,
    ) -> Result<Operation> {
        let mut last = String::new();
        loop {
            let op = self.wait_operation_once(id, 1).await?;
            for text in progress_texts(&op) {
                if text != last {
                    progress(&text);
                    last = text;
                }
            }
            if is_final(&op) {
                return finish(op);
            }
        }
    }

    /// Sends a request expected to answer with an operation and waits for it.
    pub async fn query_operation_wait(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Operation> {
        let (resp, _) = self.query(method, path, body, None).await?;
        let op: Operation = serde_json::from_value(resp.metadata)
            .map_err(|e| ClientError::Unexpected(format!("Not an operation: {e}")))?;
        self.wait_operation(&op.id).await
    }
}

fn finish(op: Operation) -> Result<Operation> {
    if op.status_code == StatusCode::Success.code() {
        Ok(op)
    } else {
        Err(ClientError::OperationFailed(op.err.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_id_of_url_is_last_segment() {
        assert_eq!(operation_id("/1.0/operations/abc-1?project=x"), "abc-1");
    }
}
