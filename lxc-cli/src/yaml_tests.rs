//! Tests of the yaml.v2-compatible emitter, with expectations taken from lxc 5.0.2 captures.

use serde_json::json;

use super::*;

#[test]
fn to_yaml_profile_show_matches_capture() {
    let v = json!({"config": {}, "description": "Default LXD profile",
        "devices": {"root": {"path": "/", "pool": "default", "type": "disk"}},
        "name": "default", "used_by": ["/1.0/instances/c1"]});
    let want = "config: {}\ndescription: Default LXD profile\ndevices:\n  root:\n    path: /\n    pool: default\n    type: disk\nname: default\nused_by:\n- /1.0/instances/c1\n";
    assert_eq!(to_yaml(&v), want);
}

#[test]
fn to_yaml_list_of_objects_indents_like_yaml_v2() {
    let v = json!([{"config": {"user.a": "1"}, "description": "", "profiles": ["default"], "used_by": []}]);
    let want = "- config:\n    user.a: \"1\"\n  description: \"\"\n  profiles:\n  - default\n  used_by: []\n";
    assert_eq!(to_yaml(&v), want);
}

#[test]
fn to_yaml_json_looking_string_is_single_quoted() {
    let v = json!({"k": "[{\"Isuid\":true}]", "remote": "@"});
    assert_eq!(to_yaml(&v), "k: '[{\"Isuid\":true}]'\nremote: '@'\n");
}

#[test]
fn to_yaml_multiline_string_is_literal_block() {
    let v = json!({"a": {"cert": "line1\nline2\n", "x": "p\nq"}});
    assert_eq!(
        to_yaml(&v),
        "a:\n  cert: |\n    line1\n    line2\n  x: |-\n    p\n    q\n"
    );
}

#[test]
fn to_yaml_time_key_is_plain_otherwise_quoted() {
    let v = json!({"created_at": "2026-11-28T00:15:17.250167493Z", "timestamp": "2026-11-28T00:15:17Z"});
    assert_eq!(
        to_yaml_with_times(&v, &["created_at"]),
        "created_at: 2026-11-28T00:15:17.250167493Z\ntimestamp: \"2026-11-28T00:15:17Z\"\n"
    );
}

#[test]
fn to_yaml_long_plain_text_folds_after_column_80() {
    let words = vec!["word"; 30].join(" ");
    let out = to_yaml(&json!({ "description": words }));
    let first = out.lines().next().unwrap();
    assert!(first.len() > 80 && first.len() < 90, "{out}");
    assert!(out.lines().nth(1).unwrap().starts_with("  word"));
}

#[test]
fn go_key_cmp_digits_compare_numerically() {
    assert_eq!(go_key_cmp("eth2", "eth10"), Ordering::Less);
    assert_eq!(go_key_cmp("a_b", "aB"), Ordering::Less);
    assert_eq!(go_key_cmp("limits.cpu", "limits.memory"), Ordering::Less);
}

#[test]
fn sort_maps_at_sorts_only_marked_objects() {
    let mut v = json!({"b": 1, "config": {"z": "1", "a": "2"}});
    sort_maps_at(&mut v, &["config"]);
    assert_eq!(to_yaml(&v), "b: 1\nconfig:\n  a: \"2\"\n  z: \"1\"\n");
}
