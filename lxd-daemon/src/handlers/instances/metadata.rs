//! `/1.0/instances/{name}/metadata`: the instance volume's `metadata.yaml` as JSON (GET, PUT
//! replacing it, PATCH merging into it as Go's decoder does), and
//! `/1.0/instances/{name}/metadata/templates?path=`: the files of the volume's `templates/`
//! directory (list, read, write from a raw body, delete), confined to that directory.
//! LXD 5.0.2 serves no `PUT` on templates (the router answers "not implemented").

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use lxd_api::instance::InstanceMetadata;
use serde_json::Value;

use super::store::{load, project_of, Loaded};
use crate::api::extract::{parse_json, IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// The instance's volume directory (holding `metadata.yaml`, `rootfs/`, `templates/`).
fn volume_dir(state: &AppState, inst: &Loaded) -> Result<PathBuf, ApiError> {
    let pool_name = inst.root_pool().ok_or_else(|| {
        ApiError::internal("Failed getting root disk: No root device could be found")
    })?;
    let row = state.db.read(|c| lxd_db::pools::get(c, &pool_name))?;
    crate::instances::rootfs::volume_path(&state.paths, &row, &inst.runtime_name())
        .map_err(ApiError::internal)
}

async fn instance_dir(state: &AppState, params: &Params, name: &str) -> Result<PathBuf, ApiError> {
    let project = project_of(state, params)?;
    let inst = load(state, &project, name)?;
    volume_dir(state, &inst)
}

/// Read `metadata.yaml`; a missing file is empty metadata, as in LXD.
fn read_metadata(dir: &std::path::Path) -> Result<InstanceMetadata, ApiError> {
    let path = dir.join("metadata.yaml");
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(InstanceMetadata::default())
        }
        Err(e) => return Err(ApiError::internal(format!("open {}: {e}", path.display()))),
    };
    if data.iter().all(u8::is_ascii_whitespace) {
        return Ok(InstanceMetadata::default());
    }
    yaml_serde::from_slice(&data).map_err(|e| ApiError::internal(format!("yaml: {e}")))
}

/// Write `metadata.yaml` as Go's yaml.v2 lays it out (nil maps and lists as `{}` / `[]`).
fn write_metadata(dir: &std::path::Path, m: &InstanceMetadata) -> Result<(), ApiError> {
    let on_disk = lxd_image::metadata::ImageMetadata {
        architecture: m.architecture.clone(),
        creation_date: m.creation_date,
        expiry_date: m.expiry_date,
        properties: m.properties.clone().unwrap_or_default(),
        templates: m
            .templates
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, t)| {
                let t = lxd_image::metadata::ImageMetadataTemplate {
                    when: t.when.unwrap_or_default(),
                    create_only: t.create_only,
                    template: t.template,
                    properties: t.properties.unwrap_or_default(),
                };
                (k, t)
            })
            .collect(),
    };
    let yaml = on_disk.to_yaml().map_err(ApiError::bad_request)?;
    let path = dir.join("metadata.yaml");
    std::fs::write(&path, yaml)
        .map_err(|e| ApiError::internal(format!("open {}: {e}", path.display())))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
    Ok(())
}

/// `GET /1.0/instances/{name}/metadata`
pub async fn get_metadata(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let dir = instance_dir(&state, &params, &name).await?;
    let m = read_metadata(&dir)?;
    Ok(ApiResponse::sync_etag(&m, &m))
}

/// `PUT /1.0/instances/{name}/metadata`: replace `metadata.yaml` (LXD checks no ETag here).
pub async fn put_metadata(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    LxdJson(req): LxdJson<InstanceMetadata>,
) -> ApiResult {
    let dir = instance_dir(&state, &params, &name).await?;
    write_metadata(&dir, &req)?;
    Ok(ApiResponse::empty())
}

/// Go's `json.Decode` into an existing value: fields given replace, maps keep entries the
/// body does not name (each named entry is decoded afresh), `null` clears a map.
fn merge(current: &InstanceMetadata, body: &Value) -> Result<InstanceMetadata, ApiError> {
    let Value::Object(patch) = body else {
        return parse_json(body.to_string().as_bytes());
    };
    let mut merged = serde_json::to_value(current).map_err(ApiError::internal)?;
    for (k, v) in patch {
        let slot = &mut merged[k.as_str()];
        match (k.as_str(), v, &mut *slot) {
            ("properties" | "templates", Value::Object(add), Value::Object(have)) => {
                for (ek, ev) in add {
                    have.insert(ek.clone(), ev.clone());
                }
            }
            _ => *slot = v.clone(),
        }
    }
    parse_json(merged.to_string().as_bytes())
}

/// `PATCH /1.0/instances/{name}/metadata`
pub async fn patch_metadata(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    if_match: IfMatch,
    body: Bytes,
) -> ApiResult {
    let dir = instance_dir(&state, &params, &name).await?;
    let current = read_metadata(&dir)?;
    let etag = lxd_shared::etag::etag_hash(&current);
    if let Some(tag) = if_match.0.as_ref().filter(|t| **t != etag) {
        return Err(ApiError::PreconditionFailed(format!(
            "ETag doesn't match: {etag} vs {tag}"
        )));
    }
    let patch: Value = parse_json(&body)?;
    let merged = merge(&current, &patch)?;
    write_metadata(&dir, &merged)?;
    Ok(ApiResponse::empty())
}

/// `templates/<file>` of the volume; LXD refuses any `/` (we also refuse `.` and `..`).
fn template_path(dir: &std::path::Path, file: &str) -> Result<PathBuf, ApiError> {
    if file.contains('/') || file == "." || file == ".." || file.contains('\0') {
        return Err(ApiError::internal("Invalid template filename"));
    }
    Ok(dir.join("templates").join(file))
}

fn path_param(params: &Params) -> Result<&str, ApiError> {
    match params.get("path") {
        Some(p) if !p.is_empty() => Ok(p),
        _ => Err(ApiError::bad_request("missing path argument")),
    }
}

fn not_found(file: &str) -> ApiError {
    ApiError::not_found(format!("Template {file:?} not found"))
}

/// `GET /1.0/instances/{name}/metadata/templates[?path=]`
pub async fn get_templates(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let dir = instance_dir(&state, &params, &name).await?;
    let Some(file) = params.get("path").filter(|p| !p.is_empty()) else {
        let mut names = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir.join("templates")) {
            for e in entries.flatten() {
                if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    names.push(e.file_name().to_string_lossy().into_owned());
                }
            }
        }
        names.sort();
        return Ok(ApiResponse::sync(names));
    };
    let path = template_path(&dir, file)?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(not_found(file));
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| ApiError::internal(format!("read {}: {e}", path.display())))?;
    let mut resp = Response::new(Body::from(bytes));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline;filename={file}")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(ApiResponse::Raw(resp))
}

/// `POST /1.0/instances/{name}/metadata/templates?path=`: create or overwrite a template from
/// the raw request body.
pub async fn post_templates(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    body: Bytes,
) -> ApiResult {
    let dir = instance_dir(&state, &params, &name).await?;
    let file = path_param(&params)?;
    let templates = dir.join("templates");
    if !templates.exists() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(&templates)
            .map_err(|e| ApiError::internal(format!("mkdir {}: {e}", templates.display())))?;
    }
    let path = template_path(&dir, file)?;
    write_new_file(&path, &body)?;
    Ok(ApiResponse::empty())
}

/// Write `data` to `path` (mode 0644), refusing to follow a symlink placed there.
fn write_new_file(path: &std::path::Path, data: &[u8]) -> Result<(), ApiError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| ApiError::internal(format!("open {}: {e}", path.display())))?;
    f.write_all(data)
        .map_err(|e| ApiError::internal(format!("write {}: {e}", path.display())))
}

/// `DELETE /1.0/instances/{name}/metadata/templates?path=`
pub async fn delete_templates(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let dir = instance_dir(&state, &params, &name).await?;
    let file = path_param(&params)?;
    let path = template_path(&dir, file)?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(not_found(file));
    }
    std::fs::remove_file(&path)
        .map_err(|e| ApiError::internal(format!("remove {}: {e}", path.display())))?;
    Ok(ApiResponse::empty())
}
