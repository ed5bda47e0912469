//! The `api_extensions` this implementation really provides.
//!
//! Only extensions whose behaviour works end to end are listed, in LXD 5.0.2's order, so a
//! client that checks for one never reaches a half-done feature. Later work appends here as
//! features land.

/// Extensions we implement, in upstream order.
pub const IMPLEMENTED: &[&str] = &[
    "etag",
    "patch",
    "directory_manipulation",
    "profile_usedby",
    "container_push",
    "container_exec_recording",
    "certificate_update",
    "container_exec_signal_handling",
    "migration_progress",
    "storage",
    "file_delete",
    "file_append",
    "image_create_aliases",
    "container_stateless_copy",
    "container_only_migration",
    "unix_device_rename",
    "storage_rsync_bwlimit",
    "entity_description",
    "image_force_refresh",
    "file_symlinks",
    "container_push_target",
    "container_edit_metadata",
    "resources",
    "storage_api_volume_rename",
    "console",
    "proxy",
    "file_get_symlink",
    "storage_api_local_volume_handling",
    "operation_description",
    "event_lifecycle",
    "container_backup",
    "proxy_unix",
    "proxy_udp",
    "proxy_tcp_udp_multi_port_handling",
    "proxy_unix_dac_properties",
    "unix_priv_drop",
    "proxy_haproxy_protocol",
    "container_full",
    "backup_compression",
    "storage_api_volume_snapshots",
    "projects",
    "container_incremental_copy",
    "snapshot_expiry",
    "container_backup_override_pool",
    "snapshot_expiry_creation",
    "kernel_features",
    "event_location",
    "resources_v2",
    "container_exec_user_group_cwd",
    "instances",
    "backup_compression_algorithm",
    "api_filtering",
    "custom_volume_snapshot_expiry",
    "api_os",
    "images_push_relay",
    "usedby_consistency",
    "custom_block_volumes",
    "storage_rsync_compression",
    "storage_volume_state",
    "certificate_project",
    "warnings",
    "storage_api_project",
    "server_supported_storage_drivers",
    "image_source_project",
    "certificate_self_renewal",
    "storage_volume_project_move",
    "instance_get_full",
    "event_project",
    "certificate_token",
    "instance_file_head",
    "remote_token_expiry",
    "init_preseed",
];

/// The extension names of LXD 5.0.2, in its order (one per line).
pub const UPSTREAM_5_0_2: &str = include_str!("upstream-extensions.txt");

/// The implemented extensions as owned strings, for the server object.
pub fn implemented() -> Vec<String> {
    IMPLEMENTED.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_upstream_names_in_upstream_order() {
        let upstream: Vec<&str> = UPSTREAM_5_0_2.lines().collect();
        assert_eq!(upstream.len(), 318);
        let positions: Vec<usize> = IMPLEMENTED
            .iter()
            .map(|e| {
                upstream
                    .iter()
                    .position(|u| u == e)
                    .unwrap_or_else(|| panic!("{e} is not an LXD 5.0.2 extension"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "out of upstream order"
        );
    }
}
