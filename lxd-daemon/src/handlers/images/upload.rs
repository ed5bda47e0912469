//! `POST /1.0/images`: receive an image file (raw unified tarball, or multipart `metadata` +
//! `rootfs`), fingerprinting it while it streams to disk, then record it in an operation.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::HeaderMap;
use futures_util::StreamExt;
use lxd_api::image::{Image, ImageSource, ZERO_TIME};
use lxd_image::fingerprint::Fingerprinter;
use tokio::io::AsyncWriteExt;

use super::{image_project, image_url};
use crate::api::caller::Caller;
use crate::api::extract::{percent_decode, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::image_store;
use crate::operations::OpSpec;
use crate::state::AppState;

/// An upload on disk: its temporary files, fingerprint and size.
struct Received {
    main: PathBuf,
    rootfs: Option<PathBuf>,
    fingerprint: String,
    size: u64,
    /// The rootfs part's file name for split images, else `X-LXD-filename`.
    part_filename: Option<String>,
}

impl Received {
    fn discard(&self) {
        let _ = std::fs::remove_file(&self.main);
        if let Some(r) = &self.rootfs {
            let _ = std::fs::remove_file(r);
        }
    }
}

fn temp_file(state: &AppState) -> PathBuf {
    state
        .paths
        .var
        .join("images")
        .join(format!("lxd_post_{}", uuid::Uuid::new_v4().simple()))
}

async fn write_stream<S, E>(
    path: &Path,
    mut stream: S,
    hash: &mut Fingerprinter,
) -> Result<(), ApiError>
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(format!("Failed to receive the image: {e}")))?;
        hash.update(&chunk);
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.sync_all().await.map_err(ApiError::internal)
}

async fn receive_raw(state: &AppState, body: Body) -> Result<Received, ApiError> {
    let main = temp_file(state);
    let mut hash = Fingerprinter::new();
    if let Err(e) = write_stream(&main, body.into_data_stream(), &mut hash).await {
        let _ = std::fs::remove_file(&main);
        return Err(e);
    }
    let size = hash.size();
    Ok(Received {
        main,
        rootfs: None,
        fingerprint: hash.finish(),
        size,
        part_filename: None,
    })
}

async fn receive_multipart(state: &AppState, mut form: Multipart) -> Result<Received, ApiError> {
    let main = temp_file(state);
    let rootfs = temp_file(state);
    let cleanup = |e: ApiError| {
        let _ = std::fs::remove_file(&main);
        let _ = std::fs::remove_file(&rootfs);
        e
    };
    let mut hash = Fingerprinter::new();
    let mut seen = Vec::new();
    let mut part_filename = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| cleanup(ApiError::bad_request(e)))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let target = match (name.as_str(), seen.len()) {
            ("metadata", 0) => &main,
            ("rootfs" | "rootfs.img", 1) => {
                part_filename = field.file_name().map(str::to_string);
                &rootfs
            }
            _ => {
                return Err(cleanup(ApiError::bad_request(format!(
                    "Invalid multipart image: unexpected part {name:?}"
                ))))
            }
        };
        write_stream(target, field, &mut hash)
            .await
            .map_err(cleanup)?;
        seen.push(name);
    }
    if seen.len() != 2 {
        return Err(cleanup(ApiError::bad_request(
            "Invalid multipart image: expected metadata and rootfs parts",
        )));
    }
    let size = hash.size();
    Ok(Received {
        main,
        rootfs: Some(rootfs),
        fingerprint: hash.finish(),
        size,
        part_filename,
    })
}

/// What the `X-LXD-*` headers ask for.
struct UploadHeaders {
    public: bool,
    filename: String,
    properties: lxd_api::ConfigMap,
    profiles: Option<Vec<String>>,
    fingerprint: Option<String>,
    /// A push mode token (`X-LXD-secret`), with `fingerprint` naming the image.
    secret: Option<String>,
}

fn parse_headers(headers: &HeaderMap) -> UploadHeaders {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let public = get("X-LXD-public")
        .is_some_and(|v| lxd_shared::config::values::parse_bool(&v) == Some(true));
    let properties = get("X-LXD-properties")
        .map(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (percent_decode(k), percent_decode(v)))
                .collect()
        })
        .unwrap_or_default();
    let profiles = get("X-LXD-profiles").map(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(_, v)| percent_decode(v))
            .collect()
    });
    UploadHeaders {
        public,
        filename: get("X-LXD-filename").unwrap_or_default(),
        properties,
        profiles,
        fingerprint: get("X-LXD-fingerprint").filter(|f| !f.is_empty()),
        secret: get("X-LXD-secret").filter(|s| !s.is_empty()),
    }
}

/// Refuse an upload once what the client sends first is read and dropped, up to a bound: a
/// client still writing its body when the answer comes would otherwise see a broken
/// connection instead of the refusal (a pushing daemon reported "error writing a body to
/// connection" instead of "not authorized"). Go's server drains a refused body likewise.
async fn refuse_upload(body: Body) -> ApiError {
    const DRAIN_LIMIT: usize = 16 << 20;
    let drain = async {
        let mut stream = body.into_data_stream();
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            seen += chunk.len();
            if seen > DRAIN_LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
    ApiError::Forbidden("not authorized".into())
}

/// `POST /1.0/images`
pub async fn post_images(
    State(state): State<AppState>,
    params: Params,
    caller: Caller,
    req: Request,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let headers = parse_headers(req.headers());
    // A token is used up whoever brings it; without one only trusted callers may upload.
    let token = match (&headers.fingerprint, &headers.secret) {
        (Some(fp), Some(secret)) => super::secret::take(&state, &project, fp, secret),
        _ => None,
    };
    let trusted = caller.can_view(params.project());
    if !trusted && token.is_none() {
        return Err(refuse_upload(req.into_body()).await);
    }
    let content_type = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if content_type.starts_with("application/json") {
        let bytes = axum::body::to_bytes(req.into_body(), crate::api::extract::MAX_JSON_BODY)
            .await
            .map_err(|_| ApiError::bad_request("Request body too large"))?;
        let kind: serde_json::Value = crate::api::extract::parse_json(&bytes)?;
        if !trusted {
            return Err(ApiError::Forbidden("not authorized".into()));
        }
        if kind["source"]["mode"] == "push" {
            let body: super::push::PushRequest = crate::api::extract::parse_json(&bytes)?;
            return super::push::post_push_token(&state, &project, body, &caller);
        }
        if kind["source"]["type"] == "image" {
            let body: super::copy_remote::ImageCopyPost = crate::api::extract::parse_json(&bytes)?;
            return super::copy_remote::post_image_copy(&state, project, body, &caller);
        }
        let body: super::publish::ImagesPost = crate::api::extract::parse_json(&bytes)?;
        super::publish::validate(&state, &project, &body)?;
        let spec = OpSpec::task("Downloading image", &project);
        let task_state = state.clone();
        let requestor = caller.requestor();
        let op = state.operations.start(spec, move |op| async move {
            let (fp, size) =
                super::publish::publish(&task_state, &project, body, &requestor).await?;
            let mut meta = serde_json::Map::new();
            meta.insert("fingerprint".into(), fp.into());
            meta.insert("size".into(), size.to_string().into());
            op.set_metadata(meta);
            Ok(())
        });
        return Ok(ApiResponse::operation(&op));
    }
    let received = if content_type.starts_with("multipart/form-data") {
        let form = Multipart::from_request(req, &())
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        receive_multipart(&state, form).await?
    } else {
        receive_raw(&state, req.into_body()).await?
    };
    let mut spec = OpSpec::task("Downloading image", &project);
    // The pusher is not trusted: it waits for this operation with a secret of its own.
    let wait_secret = token
        .is_some()
        .then(crate::handlers::certificates::tokens::random_secret);
    if let Some(secret) = &wait_secret {
        spec.metadata = Some(
            [("secret".to_string(), secret.clone().into())]
                .into_iter()
                .collect(),
        );
    }
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |op| async move {
        if let Some(expected) = &headers.fingerprint {
            if *expected != received.fingerprint {
                received.discard();
                return Err(format!(
                    "fingerprints don't match, got {} expected {expected}",
                    received.fingerprint
                ));
            }
        }
        let mut meta = serde_json::Map::new();
        meta.insert("fingerprint".into(), received.fingerprint.clone().into());
        meta.insert("size".into(), received.size.to_string().into());
        if let Some(secret) = wait_secret {
            meta.insert("secret".into(), secret.into());
        }
        op.set_metadata(meta);
        let result = record(&task_state, &project, &received, headers, token).await;
        if result.is_err() {
            received.discard();
        } else {
            let url = image_url(&received.fingerprint, &project);
            task_state
                .events
                .lifecycle(&project, "image-created", url, &requestor);
        }
        result
    });
    Ok(ApiResponse::operation(&op))
}

/// Check the files, move them into the store and write the record.
async fn record(
    state: &AppState,
    project: &str,
    r: &Received,
    headers: UploadHeaders,
    token: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<(), String> {
    let (p, fp) = (project.to_string(), r.fingerprint.clone());
    if state
        .db
        .read(|c| lxd_db::images::get(c, &p, &fp))
        .is_ok_and(|i| i.fingerprint == fp)
    {
        return Err("Image with same fingerprint already exists".into());
    }
    let (main, rootfs) = (r.main.clone(), r.rootfs.clone());
    let metadata = tokio::task::spawn_blocking(move || inspect(&main, rootfs.as_deref()))
        .await
        .map_err(|e| e.to_string())??;
    let mut properties = metadata.properties.clone();
    properties.extend(headers.properties);
    let filename = match (&r.part_filename, headers.filename.is_empty()) {
        (Some(name), _) => name.clone(),
        (None, _) => headers.filename,
    };
    let mut image = Image {
        auto_update: false,
        properties,
        public: headers.public,
        expires_at: unix_time(metadata.expiry_date).unwrap_or_else(lxd_api::image::unix_epoch),
        profiles: Some(
            headers
                .profiles
                .unwrap_or_else(|| vec!["default".to_string()]),
        ),
        aliases: Vec::new(),
        architecture: metadata.architecture,
        cached: false,
        filename,
        fingerprint: r.fingerprint.clone(),
        size: r.size as i64,
        update_source: None::<ImageSource>,
        kind: "container".into(),
        created_at: unix_time(metadata.creation_date).unwrap_or_else(|| ZERO_TIME.to_string()),
        last_used_at: ZERO_TIME.into(),
        uploaded_at: crate::time::now_rfc3339(),
    };
    let aliases = match &token {
        Some(token) => super::push::apply_token(token, &mut image),
        None => Vec::new(),
    };
    std::fs::rename(
        &r.main,
        image_store::image_file(&state.paths, &r.fingerprint),
    )
    .map_err(|e| e.to_string())?;
    if let Some(rootfs) = &r.rootfs {
        std::fs::rename(
            rootfs,
            image_store::rootfs_file(&state.paths, &r.fingerprint),
        )
        .map_err(|e| e.to_string())?;
    }
    let p = project.to_string();
    let written = state
        .db
        .write(move |c| lxd_db::images::create(c, &p, &image))
        .await;
    if let Err(e) = written {
        image_store::remove_files(&state.paths, &r.fingerprint);
        return Err(e.to_string());
    }
    let (p, f) = (project.to_string(), r.fingerprint.clone());
    let taken = state
        .db
        .write(move |c| super::create_aliases(c, &p, &f, &aliases))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(name) = taken {
        return Err(format!("Alias already exists: {name}"));
    }
    Ok(())
}

/// Read and check the image's metadata: a unified tarball must hold a rootfs; a split image's
/// first part must not, and its rootfs must be a tarball or squashfs.
fn inspect(main: &Path, rootfs: Option<&Path>) -> Result<lxd_image::ImageMetadata, String> {
    let found = lxd_image::metadata::read_tarball_metadata(main).map_err(|e| e.to_string())?;
    match rootfs {
        None if found.rootfs.is_none() => Err("Missing rootfs in the image tarball".into()),
        None => Ok(found.metadata),
        Some(path) => {
            let kind = lxd_image::compression::detect_file(path).map_err(|e| e.to_string())?;
            if !(kind.is_tarball() || kind == lxd_image::Compression::Squashfs) {
                return Err(format!("Unsupported rootfs format {kind}"));
            }
            Ok(found.metadata)
        }
    }
}

fn unix_time(secs: i64) -> Option<String> {
    (secs > 0).then(|| {
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    })
}
