//! Image templates at start: the pending trigger recorded at create, copy or rename
//! (`volatile.apply_template`) first, then the `start` templates, rendered into the rootfs
//! from the volume's `templates/` directory as LXD does on every start.

use std::path::Path;

use lxd_image::templates::{apply_templates, InstanceInfo, TemplateTarget, Trigger};

/// Render the templates due at this start; returns whether the pending trigger was applied.
pub fn apply_at_start(
    volume: &Path,
    name: &str,
    architecture: &str,
    ephemeral: bool,
    config: &lxd_api::ConfigMap,
    devices: &lxd_api::DevicesMap,
    root_owner: (u32, u32),
) -> Result<bool, String> {
    let metadata_path = volume.join("metadata.yaml");
    let Ok(yaml) = std::fs::read(&metadata_path) else {
        return Ok(false);
    };
    let metadata = lxd_image::metadata::parse_metadata(&yaml).map_err(|e| e.to_string())?;
    let info = InstanceInfo {
        name: name.to_string(),
        architecture: architecture.to_string(),
        privileged: super::spec::privileged(config),
        ephemeral,
        config: config.clone(),
        devices: devices.clone(),
    };
    let rootfs = volume.join("rootfs");
    let templates = volume.join("templates");
    // Files belong to the container's root: uid/gid 0 on disk when the root is an idmapped
    // mount, its host ids when the rootfs is stored shifted.
    let target = TemplateTarget {
        rootfs: &rootfs,
        templates: &templates,
        root_owner,
    };
    let pending = match config.get("volatile.apply_template").map(String::as_str) {
        Some("create") => Some(Trigger::Create),
        Some("copy") => Some(Trigger::Copy),
        Some("rename") => Some(Trigger::Rename),
        _ => None,
    };
    if let Some(trigger) = pending {
        apply_templates(&target, &metadata, trigger, &info).map_err(|e| e.to_string())?;
    }
    apply_templates(&target, &metadata, Trigger::Start, &info).map_err(|e| e.to_string())?;
    Ok(pending.is_some())
}
