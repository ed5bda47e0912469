//! `POST /1.0/images` with a JSON `source` of type `instance`/`container`/`snapshot`: pack the
//! instance's (or snapshot's) volume into a unified image, compressed on every core with
//! `compression_algorithm` or `images.compression_algorithm`, and record it with its aliases.

use lxd_api::image::{Image, ZERO_TIME};
use lxd_storage::VolumeType;
use serde::Deserialize;

use super::image_url;
use crate::api::ApiError;
use crate::events::Requestor;
use crate::handlers::instances::store::{load, runtime_name};
use crate::state::AppState;

/// One alias requested with the image.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AliasRequest {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Where the image comes from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PublishSource {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

/// The JSON body of `POST /1.0/images`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImagesPost {
    #[serde(default)]
    pub source: PublishSource,
    #[serde(default)]
    pub public: bool,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub aliases: Vec<AliasRequest>,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub properties: lxd_api::ConfigMap,
    #[serde(default)]
    pub compression_algorithm: String,
    #[serde(default)]
    pub filename: String,
}

/// Check a publish request before its operation starts.
pub fn validate(state: &AppState, project: &str, req: &ImagesPost) -> Result<(), ApiError> {
    match req.source.kind.as_str() {
        "instance" | "container" | "snapshot" | "virtual-machine" => {}
        "image" | "url" => {
            return Err(ApiError::NotImplemented(
                "Images from remote servers are not implemented yet".into(),
            ))
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid images JSON: unknown source type {other:?}"
            )))
        }
    }
    let (parent, snap) = split(&req.source.name);
    let inst = load(state, project, parent)?;
    if snap.is_none() && inst.running() {
        return Err(ApiError::bad_request(
            "The instance is currently running. Use --force to have it stopped and restarted",
        ));
    }
    for alias in &req.aliases {
        if state
            .db
            .read(|c| lxd_db::images::alias(c, project, &alias.name))
            .is_ok()
        {
            return Err(ApiError::Conflict(format!(
                "Alias {:?} already exists",
                alias.name
            )));
        }
    }
    Ok(())
}

fn split(name: &str) -> (&str, Option<&str>) {
    match name.split_once('/') {
        Some((p, s)) => (p, Some(s)),
        None => (name, None),
    }
}

/// Pack and record the image; returns its fingerprint and size.
pub async fn publish(
    state: &AppState,
    project: &str,
    req: ImagesPost,
    requestor: &Requestor,
) -> Result<(String, u64), String> {
    let (parent, snap) = split(&req.source.name);
    let inst = load(state, project, parent).map_err(|e| e.to_string())?;
    let pool_name = inst
        .root_pool()
        .ok_or("Failed getting root disk: No root device could be found")?;
    let pool_row = state
        .db
        .read(|c| lxd_db::pools::get(c, &pool_name))
        .map_err(|e| e.to_string())?;
    let (pool, driver) =
        crate::instances::rootfs::pool(&state.paths, &pool_row).map_err(|e| e.to_string())?;
    let vol = match snap {
        Some(s) => format!("{}/{s}", runtime_name(project, parent)),
        None => runtime_name(project, parent),
    };
    let dir = driver.mount_path(&pool, VolumeType::Container, &vol);
    // A snapshot's own config says how its rootfs is stored.
    let source_config = match snap {
        Some(s) => state
            .db
            .read(|c| lxd_db::instances::snapshots::get(c, project, parent, s))
            .map(|row| row.config)
            .unwrap_or_else(|_| inst.row.config.clone()),
        None => inst.row.config.clone(),
    };
    let server = state
        .db
        .read(lxd_db::server_config::get_all)
        .map_err(|e| e.to_string())?;
    let compression = if !req.compression_algorithm.is_empty() {
        req.compression_algorithm.clone()
    } else {
        server
            .get("images.compression_algorithm")
            .cloned()
            .unwrap_or_else(|| "gzip".into())
    };
    // The image's metadata: the volume's own, else LXD's generated one.
    let mut metadata = std::fs::read(dir.join("metadata.yaml"))
        .ok()
        .and_then(|y| lxd_image::metadata::parse_metadata(&y).ok())
        .unwrap_or_default();
    metadata.architecture = if inst.row.architecture.is_empty() {
        "x86_64".into()
    } else {
        inst.row.architecture.clone()
    };
    metadata.creation_date = chrono::Utc::now().timestamp();
    metadata.properties.extend(req.properties.clone());
    let yaml = metadata.to_yaml().map_err(|e| e.to_string())?;
    let tmp = state
        .paths
        .var
        .join("images")
        .join(format!("lxd_build_{}", uuid::Uuid::new_v4().simple()));
    let options = lxd_image::PackOptions {
        compression,
        threads: 0,
        metadata: Some(yaml.into_bytes()),
        id_shift: stored_shift(&dir, &source_config),
    };
    let (out, d) = (tmp.clone(), dir.clone());
    let packed =
        tokio::task::spawn_blocking(move || lxd_image::pack::pack_image(&d, &out, &options, None))
            .await
            .map_err(|e| e.to_string())?;
    let packed = match packed {
        Ok(p) => p,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.to_string());
        }
    };
    let fp = packed.fingerprint.clone();
    if state
        .db
        .read(|c| lxd_db::images::get(c, project, &fp))
        .is_ok_and(|i| i.fingerprint == fp)
    {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("The image already exists: {fp}"));
    }
    std::fs::rename(&tmp, crate::image_store::image_file(&state.paths, &fp))
        .map_err(|e| e.to_string())?;
    let now = crate::time::now_rfc3339();
    let image = Image {
        auto_update: false,
        properties: metadata.properties.clone(),
        public: req.public,
        expires_at: lxd_api::image::unix_epoch(),
        profiles: Some(vec!["default".into()]),
        aliases: Vec::new(),
        architecture: metadata.architecture.clone(),
        cached: false,
        filename: req.filename.clone(),
        fingerprint: fp.clone(),
        size: packed.size as i64,
        update_source: None,
        kind: "container".into(),
        created_at: now.clone(),
        last_used_at: ZERO_TIME.into(),
        uploaded_at: now,
    };
    let (p, aliases, f) = (project.to_string(), req.aliases.clone(), fp.clone());
    state
        .db
        .write(move |c| {
            lxd_db::images::create(c, &p, &image)?;
            for a in &aliases {
                lxd_db::images::create_alias(c, &p, &a.name, &f, &a.description)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| {
            crate::image_store::remove_files(&state.paths, &fp);
            e.to_string()
        })?;
    state
        .events
        .lifecycle(project, "image-created", image_url(&fp, project), requestor);
    Ok((fp, packed.size))
}

/// How a rootfs stored shifted (the shifting fallback) is shifted back while packing: the
/// container root's host ids and the size of that range. `None` for a rootfs holding the
/// container's own ids.
fn stored_shift(
    volume: &std::path::Path,
    config: &lxd_api::ConfigMap,
) -> Option<lxd_image::pack::IdShift> {
    use lxd_shared::idmap::IdKind;
    let map = crate::instances::shift::stored_map(&volume.join("rootfs"), config)?;
    let entry = |kind| {
        map.entries
            .iter()
            .find(|e| e.covers(kind) && e.nsid == 0)
            .copied()
    };
    let (uid, gid) = (entry(IdKind::Uid)?, entry(IdKind::Gid)?);
    Some(lxd_image::pack::IdShift {
        uid_base: u32::try_from(uid.hostid).ok()?,
        gid_base: u32::try_from(gid.hostid).ok()?,
        range: u32::try_from(uid.maprange.min(gid.maprange)).ok()?,
    })
}
