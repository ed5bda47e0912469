//! `/1.0/instances/{name}/files?path=`: read (GET/HEAD), write (POST) and delete files in a
//! container, running or stopped, with LXD's `X-LXD-*` headers. Owners are the container's:
//! on a stopped container whose rootfs is stored shifted they are translated through its map.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::Response;
use lxd_runtime::container::files::{
    FileError, FileJob, FileKind, FileOp, FileRequest, FileResponse, FileTarget, PutSpec,
};

use lxd_shared::idmap::{IdKind, IdmapSet};

use super::store::{load, project_of, Loaded};
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

fn target(state: &AppState, inst: &Loaded) -> Result<FileTarget, ApiError> {
    if let Some(init_pid) = inst.init_pid {
        return Ok(FileTarget::Running { init_pid });
    }
    let pool_name = inst.root_pool().ok_or_else(|| {
        ApiError::bad_request("Failed getting root disk: No root device could be found")
    })?;
    let pool = state.db.read(|c| lxd_db::pools::get(c, &pool_name))?;
    let volume = crate::instances::rootfs::volume_path(&state.paths, &pool, &inst.runtime_name())
        .map_err(ApiError::internal)?;
    Ok(FileTarget::Stopped {
        rootfs: volume.join("rootfs"),
    })
}

fn api_error(e: FileError) -> ApiError {
    match e {
        FileError::NotFound(_) => ApiError::not_found("Not Found"),
        FileError::NotAbsolute | FileError::Escapes(_) | FileError::Nul(_) => {
            ApiError::bad_request(e)
        }
        other => ApiError::internal(other),
    }
}

async fn run(
    state: &AppState,
    inst: &Loaded,
    path: &str,
    op: FileOp,
    input: Vec<u8>,
) -> Result<(FileResponse, Vec<u8>), ApiError> {
    let target = target(state, inst)?;
    // A stopped container whose rootfs is stored shifted: the helper works on host ids.
    let disk_map = match &target {
        FileTarget::Stopped { rootfs } => {
            crate::instances::shift::stored_map(rootfs, &inst.row.config)
        }
        FileTarget::Running { .. } => None,
    };
    let op = match (op, &disk_map) {
        (FileOp::Put(put), Some(map)) => FileOp::Put(PutSpec {
            uid: host_id(map, IdKind::Uid, put.uid),
            gid: host_id(map, IdKind::Gid, put.gid),
            ..put
        }),
        (op, _) => op,
    };
    let job = FileJob {
        target,
        request: FileRequest {
            path: path.to_string(),
            op,
        },
    };
    let (result, output) = crate::runtime::files::run(&state.paths, &job, input)
        .await
        .map_err(ApiError::internal)?;
    let mut found = result.map_err(api_error)?;
    if let Some(map) = &disk_map {
        found.uid = container_id(map, IdKind::Uid, found.uid);
        found.gid = container_id(map, IdKind::Gid, found.gid);
    }
    Ok((found, output))
}

/// A container id (the container's root when unset) as the host id stored on disk.
fn host_id(map: &IdmapSet, kind: IdKind, id: Option<u32>) -> Option<u32> {
    map.ns_to_host(kind, i64::from(id.unwrap_or(0)))
        .and_then(|v| u32::try_from(v).ok())
}

/// A host id stored on disk as the container sees it (the overflow id where unmapped).
fn container_id(map: &IdmapSet, kind: IdKind, id: u32) -> u32 {
    map.host_to_ns(kind, i64::from(id))
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(65534)
}

fn kind_name(kind: &FileKind) -> &'static str {
    match kind {
        FileKind::File => "file",
        FileKind::Directory => "directory",
        FileKind::Symlink => "symlink",
    }
}

fn set_headers(headers: &mut HeaderMap, r: &FileResponse) {
    let modified = chrono::DateTime::from_timestamp(r.modified, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default();
    for (k, v) in [
        ("X-LXD-uid", r.uid.to_string()),
        ("X-LXD-gid", r.gid.to_string()),
        ("X-LXD-mode", format!("{:04o}", r.mode)),
        ("X-LXD-modified", modified),
        ("X-LXD-type", kind_name(&r.kind).to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    }
}

/// The `path` parameter. The real client sends `etc/passwd` for `c1/etc/passwd`, which LXD
/// resolves from the container's root, so relative paths are taken from `/`.
fn path_param(params: &Params) -> Result<String, ApiError> {
    let path = params
        .get("path")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::bad_request("Missing path argument"))?;
    Ok(if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    })
}

/// `GET` and `HEAD /1.0/instances/{name}/files?path=`
pub async fn get_instance_file(
    State(state): State<AppState>,
    method: Method,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let path = path_param(&params)?;
    let op = if method == Method::HEAD {
        FileOp::Stat
    } else {
        FileOp::Get
    };
    let (info, bytes) = run(&state, &inst, &path, op, Vec::new()).await?;
    if info.kind == FileKind::Directory && method != Method::HEAD {
        let mut resp =
            axum::response::IntoResponse::into_response(ApiResponse::sync(&info.entries));
        set_headers(resp.headers_mut(), &info);
        return Ok(ApiResponse::Raw(resp));
    }
    let mut resp = Response::new(if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(bytes)
    });
    let headers = resp.headers_mut();
    set_headers(headers, &info);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let file_name = std::path::Path::new(&path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&format!("inline;filename={file_name}")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(ApiResponse::Raw(resp))
}

/// Read `X-LXD-*` write headers: uid/gid (-1 = leave), mode (decimal or octal with a leading
/// 0, masked by 0777), type, and overwrite/append.
fn put_spec(headers: &HeaderMap) -> Result<PutSpec, ApiError> {
    let get = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let id = |k: &str| -> Result<Option<u32>, ApiError> {
        match get(k) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(-1) => Ok(None),
                Ok(n) if n >= 0 => Ok(Some(n as u32)),
                _ => Err(ApiError::bad_request(format!("Invalid {k} header"))),
            },
        }
    };
    let mode = match get("X-LXD-mode") {
        None => None,
        Some(v) => {
            let parsed = if let Some(oct) = v
                .strip_prefix("0o")
                .or_else(|| v.strip_prefix('0').filter(|r| !r.is_empty()))
            {
                u32::from_str_radix(oct, 8)
            } else {
                v.parse::<u32>()
            };
            Some(parsed.map_err(|_| ApiError::bad_request("Invalid X-LXD-mode header"))? & 0o777)
        }
    };
    let kind = match get("X-LXD-type").unwrap_or("file") {
        "file" => FileKind::File,
        "directory" => FileKind::Directory,
        "symlink" => FileKind::Symlink,
        other => return Err(ApiError::bad_request(format!("Bad file type: {other}"))),
    };
    let append = match get("X-LXD-write").unwrap_or("overwrite") {
        "overwrite" => false,
        "append" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "Bad file write mode: {other}"
            )))
        }
    };
    Ok(PutSpec {
        uid: id("X-LXD-uid")?,
        gid: id("X-LXD-gid")?,
        mode,
        kind,
        append,
    })
}

/// `POST /1.0/instances/{name}/files?path=`
pub async fn post_instance_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let path = path_param(&params)?;
    let spec = put_spec(&headers)?;
    run(&state, &inst, &path, FileOp::Put(spec), body.to_vec()).await?;
    Ok(ApiResponse::empty())
}

/// `DELETE /1.0/instances/{name}/files?path=`
pub async fn delete_instance_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let path = path_param(&params)?;
    run(&state, &inst, &path, FileOp::Delete, Vec::new()).await?;
    Ok(ApiResponse::empty())
}
