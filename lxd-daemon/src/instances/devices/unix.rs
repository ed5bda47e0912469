//! `unix-char` and `unix-block` devices: the node is made on the host in the instance's
//! devices directory (`$LXD_DIR/devices/<instance>/unix.<device>.<encoded path>`), owned by
//! the configured ids mapped through the instance's id map (an unprivileged container cannot
//! `mknod`), and bind-mounted at `path` inside, as LXD does.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use lxd_api::ConfigMap;
use lxd_runtime::container::{IdMaps, IdRange, VolumeBind};
use lxd_shared::config::devices::unix::{dest_path, is_required, source_path};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

/// LXD's default mode of a device node.
const DEFAULT_MODE: u32 = 0o660;

fn get<'a>(map: &'a ConfigMap, key: &str) -> &'a str {
    map.get(key).map(String::as_str).unwrap_or("")
}

/// LXD's `PathNameEncode`: `-` doubled, `/` turned into `-`.
pub fn encode(path: &str) -> String {
    path.replace('-', "--").replace('/', "-")
}

fn prefix(device: &str) -> String {
    encode(&format!("unix.{device}."))
}

/// The host file of `device`'s node.
pub fn node_path(dir: &Path, device: &str, dev: &ConfigMap) -> PathBuf {
    let inside = dest_path(dev).trim_start_matches('/');
    dir.join(encode(&format!("unix.{device}.{inside}")))
}

fn host_id(ranges: &[IdRange], id: u32) -> u32 {
    ranges
        .iter()
        .find(|r| id >= r.nsid && id - r.nsid < r.range)
        .map(|r| r.hostid + (id - r.nsid))
        .unwrap_or(id)
}

fn is_block(dev: &ConfigMap) -> bool {
    get(dev, "type") == "unix-block"
}

/// Make the node for `device` in `dir` and return its mount (`None` when it is optional and
/// its source is missing). Errors are LXD's, without the device prefix.
pub fn create(
    dir: &Path,
    device: &str,
    dev: &ConfigMap,
    idmap: Option<&IdMaps>,
) -> Result<Option<VolumeBind>, String> {
    let source = source_path(dev);
    let type_name = get(dev, "type");
    let (major, minor) = match std::fs::metadata(source) {
        Ok(meta) => {
            let ft = meta.file_type();
            let ours = if is_block(dev) {
                ft.is_block_device()
            } else {
                ft.is_char_device()
            };
            if !ours {
                return Err(format!("Path specified is not a {type_name} device"));
            }
            let rdev = meta.rdev();
            (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev))
        }
        Err(_) if !get(dev, "major").is_empty() && !get(dev, "minor").is_empty() => (0, 0),
        Err(_) if is_required(dev) => {
            return Err("The required device path doesn't exist and the major and minor settings are not specified".into())
        }
        Err(_) => return Ok(None),
    };
    let (major, minor) = match (get(dev, "major"), get(dev, "minor")) {
        ("", "") => (major, minor),
        ("", _) | (_, "") => {
            return Err(format!(
                "Both major and minor must be supplied for device: {source}"
            ))
        }
        (a, b) => (
            a.parse()
                .map_err(|_| format!("Bad major {a} in device {source}"))?,
            b.parse()
                .map_err(|_| format!("Bad minor {b} in device {source}"))?,
        ),
    };
    let mode = match get(dev, "mode") {
        "" => DEFAULT_MODE,
        m => u32::from_str_radix(m, 8).map_err(|_| format!("Bad mode {m} in device {source}"))?,
    };
    let uid: u32 = get(dev, "uid").parse().unwrap_or(0);
    let gid: u32 = get(dev, "gid").parse().unwrap_or(0);
    std::fs::create_dir_all(dir).map_err(|e| format!("Failed to create devices path: {e}"))?;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711));
    let path = node_path(dir, device, dev);
    let _ = std::fs::remove_file(&path);
    let kind = if is_block(dev) {
        SFlag::S_IFBLK
    } else {
        SFlag::S_IFCHR
    };
    mknod(
        &path,
        kind,
        Mode::from_bits_truncate(mode),
        makedev(major, minor),
    )
    .map_err(|e| {
        format!(
            "Failed to create device {} for {source}: {e}",
            path.display()
        )
    })?;
    let (host_uid, host_gid) = match idmap {
        Some(maps) => (host_id(&maps.uid, uid), host_id(&maps.gid, gid)),
        None => (uid, gid),
    };
    std::os::unix::fs::chown(&path, Some(host_uid), Some(host_gid))
        .map_err(|e| format!("Failed to chown device {}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("Failed to chmod device {}: {e}", path.display()))?;
    Ok(Some(VolumeBind {
        source: path,
        target: PathBuf::from(format!("/{}", dest_path(dev).trim_start_matches('/'))),
        readonly: false,
        idmap: false,
        recursive: false,
    }))
}

/// Remove `device`'s node files from `dir`.
pub fn remove(dir: &Path, device: &str) {
    let prefix = prefix(device);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_path_encodes_like_lxd() {
        let dev: ConfigMap = [
            ("type".to_string(), "unix-char".to_string()),
            ("path".to_string(), "/dev/my-null".to_string()),
        ]
        .into();
        assert_eq!(
            node_path(Path::new("/d"), "mynull", &dev),
            Path::new("/d/unix.mynull.dev-my--null")
        );
        let ranges = [IdRange {
            nsid: 0,
            hostid: 100000,
            range: 65536,
        }];
        assert_eq!(host_id(&ranges, 1000), 101000);
    }
}
