//! Instance endpoints: `/1.0/instances` (list with `recursion` and `filter`, create, bulk
//! state), `/1.0/instances/<name>` (get, full get, update, rename, delete), its `state`,
//! `snapshots` and `logs`. Instances travel as `serde_json::Value` so every field the daemon
//! sends survives a round trip in the order it was sent.

use lxd_api::Operation;
use serde_json::{json, Value};

use crate::{Client, ClientError, Result};

/// `/1.0/instances/<name>`.
pub fn instance_path(name: &str) -> String {
    format!("/1.0/instances/{}", crate::websocket::escape_path(name))
}

/// Percent-encodes a query value as Go's `url.Values.Encode` does (`QueryEscape`).
pub fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// lxc's `parseFilters`: `key=value` filters joined as `key eq value and ...`.
pub fn filter_expression(filters: &[String]) -> String {
    filters
        .iter()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| format!("{k} eq {v}"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The body of `PUT .../state` (`api.InstanceStatePut`).
pub fn state_put(action: &str, timeout: i64, force: bool, stateful: bool) -> Value {
    json!({ "action": action, "timeout": timeout, "force": force, "stateful": stateful })
}

fn as_list(v: Value) -> Result<Vec<Value>> {
    match v {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => Err(ClientError::Unexpected(format!(
            "Expected a list, got {other}"
        ))),
    }
}

impl Client {
    /// `GET /1.0/instances?filter=<expr>&recursion=<n>` (lxc's `Get*WithFilter`; n is 1 or 2).
    pub async fn get_instances_filtered(
        &self,
        recursion: u8,
        filters: &[String],
    ) -> Result<Vec<Value>> {
        let path = format!(
            "/1.0/instances?filter={}&recursion={recursion}",
            query_escape(&filter_expression(filters))
        );
        as_list(self.query("GET", &path, None, None).await?.0.metadata)
    }

    /// `GET /1.0/instances?recursion=1` without a filter.
    pub async fn get_instances(&self) -> Result<Vec<Value>> {
        as_list(
            self.query("GET", "/1.0/instances?recursion=1", None, None)
                .await?
                .0
                .metadata,
        )
    }

    /// `GET /1.0/instances/<name>` with its ETag.
    pub async fn get_instance(&self, name: &str) -> Result<(Value, String)> {
        let (resp, etag) = self.query("GET", &instance_path(name), None, None).await?;
        Ok((resp.metadata, etag))
    }

    /// `GET /1.0/instances/<name>?recursion=1`: the instance with state, snapshots and backups.
    pub async fn get_instance_full(&self, name: &str) -> Result<Value> {
        let path = format!("{}?recursion=1", instance_path(name));
        Ok(self.query("GET", &path, None, None).await?.0.metadata)
    }

    /// `GET /1.0/instances/<name>/state`.
    pub async fn get_instance_state(&self, name: &str) -> Result<Value> {
        let path = format!("{}/state", instance_path(name));
        Ok(self.query("GET", &path, None, None).await?.0.metadata)
    }

    /// `GET /1.0/instances/<name>/snapshots?recursion=1`.
    pub async fn get_instance_snapshots(&self, name: &str) -> Result<Vec<Value>> {
        let path = format!("{}/snapshots?recursion=1", instance_path(name));
        as_list(self.query("GET", &path, None, None).await?.0.metadata)
    }

    /// `POST /1.0/instances`; returns the creation operation (not waited for).
    pub async fn create_instance(&self, req: &Value) -> Result<Operation> {
        self.query_operation("POST", "/1.0/instances", Some(req), None)
            .await
    }

    /// `PUT /1.0/instances/<name>/state`; returns the operation (not waited for).
    pub async fn update_instance_state(&self, name: &str, put: &Value) -> Result<Operation> {
        let path = format!("{}/state", instance_path(name));
        self.query_operation("PUT", &path, Some(put), None).await
    }

    /// `PUT /1.0/instances` with `{"state": ...}`: changes the state of every instance.
    pub async fn update_instances_state(&self, put: &Value) -> Result<Operation> {
        let body = json!({ "state": put });
        self.query_operation("PUT", "/1.0/instances", Some(&body), None)
            .await
    }

    /// `PUT /1.0/instances/<name>` and waits for the operation.
    pub async fn update_instance(&self, name: &str, put: &Value, etag: &str) -> Result<()> {
        let op = self
            .query_operation("PUT", &instance_path(name), Some(put), Some(etag))
            .await?;
        self.wait_operation(&op.id).await?;
        Ok(())
    }

    /// `POST /1.0/instances/<name>` `{"name": new}` and waits for the rename.
    pub async fn rename_instance(&self, name: &str, new_name: &str) -> Result<()> {
        let body = json!({ "name": new_name, "migration": false, "live": false,
            "instance_only": false, "container_only": false, "target": null, "pool": "",
            "project": "", "allow_inconsistent": false });
        let op = self
            .query_operation("POST", &instance_path(name), Some(&body), None)
            .await?;
        self.wait_operation(&op.id).await?;
        Ok(())
    }

    /// `DELETE /1.0/instances/<name>` and waits for the operation.
    pub async fn delete_instance(&self, name: &str) -> Result<()> {
        let op = self
            .query_operation("DELETE", &instance_path(name), None, None)
            .await?;
        self.wait_operation(&op.id).await?;
        Ok(())
    }

    /// `GET /1.0/instances/<name>/logs/<file>`: the raw log text.
    pub async fn get_instance_logfile(&self, name: &str, file: &str) -> Result<Vec<u8>> {
        let path = self.url_with_project(&format!(
            "{}/logs/{}",
            instance_path(name),
            crate::websocket::escape_path(file)
        ));
        let raw = self.raw_request("GET", &path, None, None).await?;
        if raw.status != 200 {
            crate::client::parse_envelope(&raw, &path)?;
            return Err(ClientError::Unexpected(format!(
                "Failed to fetch {path}: {}",
                raw.status
            )));
        }
        Ok(raw.body.to_vec())
    }

    /// Sends a request that answers with an operation; returns the operation as created.
    pub async fn query_operation(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<Operation> {
        let (resp, _) = self.query(method, path, body, etag).await?;
        serde_json::from_value(resp.metadata)
            .map_err(|e| ClientError::Unexpected(format!("Not an operation: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_expression_key_values_are_joined_with_and() {
        let f = vec![
            "status=Running".to_string(),
            "web".into(),
            "type=container".into(),
        ];
        assert_eq!(
            filter_expression(&f),
            "status eq Running and type eq container"
        );
    }

    #[test]
    fn query_escape_space_and_equals_are_encoded() {
        assert_eq!(query_escape("a eq b=c"), "a+eq+b%3Dc");
    }
}
