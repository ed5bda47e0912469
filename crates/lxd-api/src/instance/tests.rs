//! Instance types against JSON captured from LXD 5.0.2 and bodies sent by its clients.

use super::*;

fn round_trip<T: serde::de::DeserializeOwned + Serialize>(json: &str) -> T {
    let json = json.trim_end();
    let value: T = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string(&value).unwrap(), json);
    value
}

#[test]
fn instance_round_trips_lxd_capture_byte_for_byte() {
    let inst: Instance = round_trip(include_str!("testdata/instance-get.json"));
    assert_eq!(inst.name, "c1");
    assert_eq!(inst.kind, TYPE_CONTAINER);
    assert_eq!(inst.status_code, 102);
    assert!(!inst.is_active());
    assert_eq!(inst.expanded_devices["root"]["pool"], "default");
    assert_eq!(inst.writable().profiles, vec!["default".to_string()]);
}

#[test]
fn instance_full_round_trips_lxd_capture_with_null_backups_and_snapshots() {
    let full: InstanceFull = round_trip(include_str!("testdata/instance-full.json"));
    assert!(full.backups.is_empty() && full.snapshots.is_empty());
    assert!(full.instance.is_active());
    let state = full.state.unwrap();
    assert_eq!(state.pid, 21808);
    assert_eq!(state.network.unwrap()["lo"].mtu, 65536);
}

#[test]
fn instance_state_round_trips_lxd_capture_byte_for_byte() {
    let state: InstanceState = round_trip(include_str!("testdata/instance-state.json"));
    assert_eq!(state.disk, Some(Default::default()));
    assert_eq!(state.cpu.usage, 11611126);
}

#[test]
fn instance_state_stopped_has_null_network() {
    let state = InstanceState {
        status: "Stopped".into(),
        status_code: 102,
        disk: Some(Default::default()),
        ..Default::default()
    };
    let json = r#"{"status":"Stopped","status_code":102,"disk":{},"memory":{"usage":0,"usage_peak":0,"swap_usage":0,"swap_usage_peak":0},"network":null,"pid":0,"processes":0,"cpu":{"usage":0}}"#;
    assert_eq!(serde_json::to_string(&state).unwrap(), json);
    assert_eq!(round_trip::<InstanceState>(json), state);
}

#[test]
fn snapshot_round_trips_lxd_capture_byte_for_byte() {
    let snap: InstanceSnapshot = round_trip(include_str!("testdata/snapshot.json"));
    assert_eq!(snap.name, "s0");
    assert_eq!(snap.size, -1);
    assert_eq!(snap.writable().expires_at, crate::image::ZERO_TIME);
}

#[test]
fn instances_post_minimal_body_reads_null_profiles_as_none() {
    let post: InstancesPost =
        serde_json::from_str(r#"{"name":"c1","source":{"type":"image","alias":"bb"}}"#).unwrap();
    assert_eq!(post.profiles, None);
    assert_eq!(post.source.kind, "image");
    let go = r#"{"architecture":"","config":{},"devices":{},"ephemeral":false,"profiles":null,"stateful":false,"description":"","name":"c1","source":{"type":"image","certificate":"","alias":"bb","allow_inconsistent":false},"instance_type":"","type":""}"#;
    assert_eq!(serde_json::to_string(&post).unwrap(), go);
}

#[test]
fn instances_post_from_lxc_launch_round_trips() {
    let json = r#"{"architecture":"","config":{"limits.cpu":"1"},"devices":{},"ephemeral":true,"profiles":[],"stateful":false,"description":"","name":"c2","source":{"type":"image","certificate":"","alias":"debian/12","server":"https://images.example","protocol":"simplestreams","mode":"pull","allow_inconsistent":false},"instance_type":"","type":"container"}"#;
    let post: InstancesPost = round_trip(json);
    assert_eq!(post.profiles, Some(vec![]));
}

#[test]
fn instances_post_copy_and_migration_sources_round_trip() {
    let copy: InstancesPost = round_trip(
        r#"{"architecture":"","config":{},"devices":{},"ephemeral":false,"profiles":null,"stateful":false,"description":"","name":"c3","source":{"type":"copy","certificate":"","base-image":"abc","source":"c1/snap0","instance_only":true,"refresh":true,"allow_inconsistent":false},"instance_type":"","type":""}"#,
    );
    assert_eq!(copy.source.source, "c1/snap0");
    let nulls: InstancesPost = serde_json::from_str(
        r#"{"config":null,"devices":null,"name":"c4","source":{"type":"none"}}"#,
    )
    .unwrap();
    assert!(nulls.config.is_empty() && nulls.devices.is_empty());
    round_trip::<InstanceSource>(
        r#"{"type":"migration","certificate":"PEM","mode":"pull","operation":"https://h:8443/1.0/operations/x","secrets":{"control":"a","fs":"b"},"live":true,"allow_inconsistent":false}"#,
    );
}

#[test]
fn instance_post_rename_and_migration_round_trip() {
    let rename: InstancePost = serde_json::from_str(r#"{"name":"c2"}"#).unwrap();
    assert_eq!(rename.name, "c2");
    round_trip::<InstancePost>(
        r#"{"name":"","migration":true,"live":false,"instance_only":false,"container_only":false,"target":null,"pool":"","project":"","allow_inconsistent":false}"#,
    );
    round_trip::<InstancePost>(
        r#"{"name":"","migration":true,"live":false,"instance_only":false,"container_only":false,"target":{"certificate":"PEM","operation":"https://x/1.0/operations/y","secrets":{"fs":"s"}},"pool":"","project":"","allow_inconsistent":false}"#,
    );
}

#[test]
fn state_put_from_capture_and_bulk_put() {
    let put: InstanceStatePut = serde_json::from_str(r#"{"action":"start","timeout":30}"#).unwrap();
    assert_eq!((put.action.as_str(), put.timeout), ("start", 30));
    round_trip::<InstancesPut>(
        r#"{"state":{"action":"stop","timeout":-1,"force":false,"stateful":false}}"#,
    );
}

#[test]
fn exec_post_reads_capture_bodies_and_writes_hyphenated_names() {
    let ws: InstanceExecPost = serde_json::from_str(
        r#"{"command":["echo","hi"],"wait-for-websocket":true,"interactive":false,"environment":{},"width":80,"height":25}"#,
    )
    .unwrap();
    assert!(ws.wait_for_websocket && !ws.record_output);
    assert_eq!((ws.width, ws.height), (80, 25));
    let rec: InstanceExecPost = serde_json::from_str(
        r#"{"command":["sh","-c","echo out; echo err >&2; exit 3"],"wait-for-websocket":false,"record-output":true,"interactive":false}"#,
    )
    .unwrap();
    assert!(rec.record_output);
    round_trip::<InstanceExecPost>(
        r#"{"command":["bash"],"wait-for-websocket":true,"interactive":true,"environment":{"TERM":"xterm"},"width":80,"height":24,"record-output":false,"user":1000,"group":1000,"cwd":"/tmp"}"#,
    );
}

#[test]
fn exec_control_messages_round_trip() {
    let resize: InstanceExecControl =
        round_trip(r#"{"command":"window-resize","args":{"height":"24","width":"80"},"signal":0}"#);
    assert_eq!(resize.args["width"], "80");
    let signal: InstanceExecControl =
        serde_json::from_str(r#"{"command":"signal","signal":15}"#).unwrap();
    assert_eq!(signal.signal, 15);
    round_trip::<InstanceConsolePost>(r#"{"width":80,"height":24,"type":"console"}"#);
    round_trip::<InstanceConsoleControl>(r#"{"command":"window-resize","args":{}}"#);
}

#[test]
fn snapshot_bodies_round_trip() {
    let post: InstanceSnapshotsPost = serde_json::from_str(r#"{"name":"s0"}"#).unwrap();
    assert_eq!(post.expires_at, None);
    round_trip::<InstanceSnapshotsPost>(r#"{"name":"s1","stateful":false,"expires_at":null}"#);
    round_trip::<InstanceSnapshotPost>(r#"{"name":"s2","migration":false,"target":null}"#);
    round_trip::<InstanceSnapshotPut>(r#"{"expires_at":"2030-01-01T00:00:00Z"}"#);
}

#[test]
fn backup_round_trips() {
    round_trip::<InstanceBackup>(
        r#"{"name":"backup0","created_at":"2026-11-28T00:15:22Z","expires_at":"0001-01-01T00:00:00Z","instance_only":false,"container_only":false,"optimized_storage":false}"#,
    );
    round_trip::<InstanceBackupsPost>(
        r#"{"name":"","expires_at":"0001-01-01T00:00:00Z","instance_only":true,"container_only":false,"optimized_storage":false,"compression_algorithm":""}"#,
    );
}

#[test]
fn parent_and_snapshot_name_splits_on_first_slash() {
    assert_eq!(parent_and_snapshot_name("c1"), ("c1", "", false));
    assert_eq!(parent_and_snapshot_name("c1/s0"), ("c1", "s0", true));
    assert_eq!(parent_and_snapshot_name("c1/s0/x"), ("c1", "s0/x", true));
}
