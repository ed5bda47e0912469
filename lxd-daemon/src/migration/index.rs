//! The index header (version 1) that opens the data channel: the source sends LXD's
//! `migration.Info` as JSON (its backup config: instance, snapshots, volume and volume
//! snapshots, under Go's field names since that struct has YAML tags only), the target answers
//! `InfoResponse` (status, error, and whether it really refreshes).

use lxd_api::instance::{Instance, InstanceSnapshot};
use serde_json::{json, Value};

/// The source's index header for `instance` and the `snapshots` being sent.
pub fn info(instance: &Instance, snapshots: &[InstanceSnapshot], pool: &str) -> Value {
    let volume_snapshots: Vec<Value> = snapshots
        .iter()
        .map(|s| {
            let mut v = json!({
                "name": s.name,
                "config": {},
                "description": "",
                "content_type": "filesystem",
                "created_at": s.created_at,
            });
            if s.expires_at != crate::time::ZERO && !s.expires_at.is_empty() {
                v["expires_at"] = json!(s.expires_at);
            }
            v
        })
        .collect();
    json!({
        "config": {
            "Container": instance,
            "Snapshots": snapshots,
            "Volume": {
                "config": {},
                "description": "",
                "name": instance.name,
                "type": "container",
                "used_by": [],
                "location": "none",
                "content_type": "filesystem",
                "project": instance.project,
                "created_at": instance.created_at,
                "pool": pool,
            },
            "VolumeSnapshots": volume_snapshots,
        }
    })
}

/// The target's answer: received, and whether the volume is refreshed.
pub fn response(refresh: bool) -> Value {
    json!({"StatusCode": 200, "Error": "", "Refresh": refresh})
}

/// Read a target's answer: `Ok(Some(refresh))` when it says, an error for a refusal.
pub fn parse_response(data: &[u8]) -> Result<Option<bool>, String> {
    let v: Value = serde_json::from_slice(data)
        .map_err(|e| format!("Failed decoding migration index header response: {e}"))?;
    let code = v["StatusCode"].as_i64().unwrap_or(0);
    if code != 200 {
        let err = v["Error"].as_str().unwrap_or_default();
        return Err(format!("Failed negotiating migration options: {err}"));
    }
    Ok(v["Refresh"].as_bool())
}

/// Check a source's index header is JSON.
pub fn parse_info(data: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(data).map_err(|e| format!("Failed decoding migration index header: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_lists_volume_snapshots_with_expiry_only_when_set() {
        let inst = Instance {
            name: "c1".into(),
            project: "default".into(),
            ..Default::default()
        };
        let snaps = vec![
            InstanceSnapshot {
                name: "snap0".into(),
                expires_at: crate::time::ZERO.into(),
                ..Default::default()
            },
            InstanceSnapshot {
                name: "snap1".into(),
                expires_at: "2030-01-01T00:00:00Z".into(),
                ..Default::default()
            },
        ];
        let v = info(&inst, &snaps, "default");
        let vs = v["config"]["VolumeSnapshots"].as_array().unwrap();
        assert_eq!(vs.len(), 2);
        assert!(vs[0].get("expires_at").is_none());
        assert_eq!(vs[1]["expires_at"], "2030-01-01T00:00:00Z");
        assert_eq!(v["config"]["Volume"]["config"], json!({}));
        assert_eq!(v["config"]["Container"]["name"], "c1");
    }

    #[test]
    fn response_round_trips_and_refusal_is_an_error() {
        let r = serde_json::to_vec(&response(true)).unwrap();
        assert_eq!(parse_response(&r).unwrap(), Some(true));
        let refused = br#"{"StatusCode":400,"Error":"nope","Refresh":null}"#;
        assert_eq!(
            parse_response(refused).unwrap_err(),
            "Failed negotiating migration options: nope"
        );
    }
}
