//! `ImageDownload`: resolve a remote source (alias or fingerprint) to one image, reuse it when
//! this or another project already has it, else download its files (resumable, every hash
//! checked), move them into `images/` and record the image with its source.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lxd_api::image::{Image, ImageSource, ZERO_TIME};

use super::download::{fetch_resumable, partial_path, FileDownload};
use super::lxd_protocol::LxdServer;
use super::progress::Progress;
use super::simplestreams::SimplestreamsServer;
use super::RemoteError;
use crate::handlers::images::image_url;
use crate::operations::Op;
use crate::state::AppState;

/// What to download and how to record it (`ImageDownloadArgs`).
#[derive(Debug, Clone, Default)]
pub struct DownloadArgs {
    pub project: String,
    pub server: String,
    /// `lxd` (default) or `simplestreams`.
    pub protocol: String,
    /// The server's certificate (PEM) to trust, if any.
    pub certificate: String,
    /// A secret for a private image of an LXD server.
    pub secret: String,
    /// The alias or fingerprint (prefix) asked for.
    pub alias: String,
    /// `container`, `virtual-machine` or empty for any.
    pub image_type: String,
    /// Downloaded for an instance: `cached`, with `last_used_at` now.
    pub set_cached: bool,
    /// Use a cached image of the same source and alias instead of a newer upstream one.
    pub prefer_cached: bool,
    pub auto_update: bool,
    pub public: bool,
    /// The source LXD's project.
    pub source_project: String,
    /// Who asked, for the lifecycle event.
    pub requestor: crate::events::Requestor,
    /// Read the server's index afresh rather than from the hour-long cache (refresh).
    pub fresh_index: bool,
}

enum Source {
    Simplestreams(SimplestreamsServer, lxd_simplestreams::Catalog),
    Lxd(LxdServer),
}

/// Download (or find) the image `args` names; returns its record in `args.project`.
pub async fn download_image(
    state: &AppState,
    op: Option<Arc<Op>>,
    args: &DownloadArgs,
) -> Result<Image, RemoteError> {
    let protocol = if args.protocol.is_empty() {
        "lxd"
    } else {
        args.protocol.as_str()
    };
    let source = match protocol {
        "simplestreams" => {
            let server = SimplestreamsServer::new(&state.paths, &args.server, &args.certificate)
                .map_err(|e| connect_error("simple streams", &args.server, e))?;
            let catalog = server
                .catalog(args.fresh_index)
                .await
                .map_err(|e| connect_error("simple streams", &args.server, e))?;
            Source::Simplestreams(server, catalog)
        }
        "lxd" => Source::Lxd(
            LxdServer::new(
                &state.paths,
                &args.server,
                &args.certificate,
                &args.source_project,
            )
            .map_err(|e| connect_error("LXD", &args.server, e))?,
        ),
        other => return Err(RemoteError::Protocol(other.to_string())),
    };
    let mut alias = args.alias.clone();
    let mut fingerprint = alias.clone();
    let mut info: Option<Image> = None;
    if args.secret.is_empty() {
        let found = match &source {
            Source::Simplestreams(_, catalog) => {
                if let Ok(entry) = catalog.alias(&args.image_type, &fingerprint) {
                    fingerprint = entry.target;
                }
                catalog
                    .image(&fingerprint)
                    .cloned()
                    .map_err(|e| RemoteError::Remote(format!("Failed getting image: {e}")))
            }
            Source::Lxd(server) => {
                if let Ok(entry) = server.alias(&args.image_type, &fingerprint).await {
                    fingerprint = entry.target;
                }
                server.image(&fingerprint, "").await
            }
        };
        let image = found
            .map_err(|e| RemoteError::Remote(format!("Failed getting remote image info: {e}")))?;
        fingerprint = image.fingerprint.clone();
        info = Some(image);
    }

    let _guard = state.image_downloads.lock(&fingerprint).await;

    if args.prefer_cached && auto_update_interval(state, &args.project) > 0 && alias != fingerprint
    {
        let host = lxd_simplestreams::arch::canonical_name(std::env::consts::ARCH)
            .unwrap_or(std::env::consts::ARCH);
        let (server, alias, kind) = (args.server.clone(), alias.clone(), args.image_type.clone());
        let protocol = protocol.to_string();
        let cached = state.db.read(|c| {
            lxd_db::images::cached_source_fingerprint(c, &server, &protocol, &alias, &kind, host)
        })?;
        if let Some(cached) = cached {
            fingerprint = cached;
        }
    }

    if let Some(existing) = existing_image(state, args, protocol, &fingerprint, &alias).await? {
        return Ok(existing);
    }

    tracing::info!(fingerprint = %fingerprint, alias = %alias, server = %args.server, "Downloading image");
    let images_dir = state.paths.var.join("images");
    let progress = Progress::new(op);
    let (main, rootfs, info) = match &source {
        Source::Simplestreams(server, catalog) => {
            let info = match info {
                Some(i) => i,
                None => catalog
                    .image(&fingerprint)
                    .cloned()
                    .map_err(|e| RemoteError::Remote(e.to_string()))?,
            };
            let (main, rootfs) =
                download_simplestreams(server, catalog, &images_dir, &info, &progress).await?;
            (main, rootfs, info)
        }
        Source::Lxd(server) => {
            let info = match info {
                Some(i) => i,
                None => {
                    // A private image: its record tells the full fingerprint, which is then
                    // also what the source is recorded under.
                    let i = server.image(&fingerprint, &args.secret).await?;
                    alias = i.fingerprint.clone();
                    i
                }
            };
            let exported = server
                .export(&images_dir, &info.fingerprint, &args.secret, &progress)
                .await?;
            (exported.meta, exported.rootfs, info)
        }
    };
    install(
        state,
        args,
        protocol,
        &alias,
        info,
        &main,
        rootfs.as_deref(),
    )
    .await
}

fn connect_error(kind: &str, server: &str, e: RemoteError) -> RemoteError {
    RemoteError::Remote(format!(
        "Failed to connect to {kind} server {server:?}: {e}"
    ))
}

/// `images.auto_update_interval` of the project, else the server's (hours; default 6).
pub fn auto_update_interval(state: &AppState, project: &str) -> i64 {
    let read = state.db.read(|c| {
        let server = lxd_db::server_config::get_all(c)?;
        let project = lxd_db::projects::get(c, project)
            .map(|p| p.config)
            .unwrap_or_default();
        Ok((project, server))
    });
    let Ok((project, server)) = read else {
        return 6;
    };
    project
        .get("images.auto_update_interval")
        .or_else(|| server.get("images.auto_update_interval"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(6)
}

/// The image when this project has it already, or a record made for this project when another
/// project has it (the files are shared).
async fn existing_image(
    state: &AppState,
    args: &DownloadArgs,
    protocol: &str,
    fingerprint: &str,
    alias: &str,
) -> Result<Option<Image>, RemoteError> {
    let project = args.project.clone();
    if let Ok(image) = state
        .db
        .read(|c| lxd_db::images::get(c, &project, fingerprint))
    {
        tracing::debug!(fingerprint = %image.fingerprint, "Image already exists in the DB");
        return Ok(Some(image));
    }
    let Ok((_, other)) = state
        .db
        .read(|c| lxd_db::images::find_in_any_project(c, fingerprint))
    else {
        return Ok(None);
    };
    let mut image = other;
    image.aliases.clear();
    image.public = args.public;
    image.cached = args.set_cached;
    image.last_used_at = if args.set_cached {
        crate::time::now_rfc3339()
    } else {
        ZERO_TIME.into()
    };
    image.update_source = Some(source_of(args, protocol, alias));
    image.profiles = Some(vec!["default".into()]);
    let record = image.clone();
    state
        .db
        .write(move |c| lxd_db::images::create(c, &project, &record))
        .await?;
    Ok(Some(image))
}

fn source_of(args: &DownloadArgs, protocol: &str, alias: &str) -> ImageSource {
    ImageSource {
        alias: alias.to_string(),
        certificate: args.certificate.clone(),
        protocol: protocol.to_string(),
        server: args.server.clone(),
        image_type: String::new(),
    }
}

/// Fetch the metadata and rootfs files of a simplestreams image into partial files; the
/// combined hash must be the fingerprint.
async fn download_simplestreams(
    server: &SimplestreamsServer,
    catalog: &lxd_simplestreams::Catalog,
    images_dir: &Path,
    info: &Image,
    progress: &Progress,
) -> Result<(PathBuf, Option<PathBuf>), RemoteError> {
    let files = catalog
        .files(&info.fingerprint)
        .map_err(|e| RemoteError::Remote(e.to_string()))?;
    let mut meta = None;
    let mut root = None;
    for file in files {
        let (slot, label) = match file.role {
            lxd_simplestreams::FileRole::Meta => (&mut meta, "metadata"),
            lxd_simplestreams::FileRole::Root => (&mut root, "rootfs"),
            // Deltas need xdelta3 and a local base: the full file is always fetched.
            lxd_simplestreams::FileRole::Delta(_) => continue,
        };
        let download = FileDownload {
            url: server.file_url(file),
            sha256: file.sha256.clone(),
            target: partial_path(images_dir, &file.sha256, ""),
            label: Some(label),
        };
        fetch_resumable(server.client(), &download, progress).await?;
        *slot = Some(download.target);
    }
    let meta = meta.ok_or_else(|| RemoteError::Remote("Image has no metadata file".into()))?;
    if let Some(root) = &root {
        let (m, r) = (meta.clone(), root.clone());
        let got = tokio::task::spawn_blocking(move || lxd_image::fingerprint_split(&m, &r))
            .await
            .map_err(|e| RemoteError::Io(e.to_string()))?
            .map_err(|e| RemoteError::Io(e.to_string()))?;
        if got != info.fingerprint {
            let _ = std::fs::remove_file(&meta);
            let _ = std::fs::remove_file(root);
            return Err(RemoteError::FingerprintMismatch {
                got,
                expected: info.fingerprint.clone(),
            });
        }
    }
    Ok((meta, root))
}

/// Check the files hold an image, move them to `images/<fp>[.rootfs]` and write the record.
async fn install(
    state: &AppState,
    args: &DownloadArgs,
    protocol: &str,
    alias: &str,
    info: Image,
    main: &Path,
    rootfs: Option<&Path>,
) -> Result<Image, RemoteError> {
    let fingerprint = info.fingerprint.clone();
    let discard = || {
        let _ = std::fs::remove_file(main);
        if let Some(r) = rootfs {
            let _ = std::fs::remove_file(r);
        }
    };
    let check = main.to_path_buf();
    let inspected =
        tokio::task::spawn_blocking(move || lxd_image::metadata::read_tarball_metadata(&check))
            .await
            .map_err(|e| RemoteError::Io(e.to_string()))?;
    if let Err(e) = inspected {
        discard();
        return Err(RemoteError::Invalid(format!("Invalid image: {e}")));
    }
    let target = crate::image_store::image_file(&state.paths, &fingerprint);
    std::fs::rename(main, &target).map_err(RemoteError::io)?;
    if let Some(r) = rootfs {
        let root_target = crate::image_store::rootfs_file(&state.paths, &fingerprint);
        if let Err(e) = std::fs::rename(r, root_target) {
            crate::image_store::remove_files(&state.paths, &fingerprint);
            return Err(RemoteError::io(e));
        }
    }
    let now = crate::time::now_rfc3339();
    let with_source = alias != fingerprint;
    let image = Image {
        auto_update: with_source && args.auto_update,
        public: args.public,
        aliases: Vec::new(),
        cached: args.set_cached,
        last_used_at: if args.set_cached {
            now.clone()
        } else {
            ZERO_TIME.into()
        },
        uploaded_at: now,
        profiles: Some(vec!["default".into()]),
        update_source: with_source.then(|| source_of(args, protocol, alias)),
        kind: if info.kind.is_empty() {
            "container".into()
        } else {
            info.kind.clone()
        },
        ..info
    };
    let (project, record) = (args.project.clone(), image.clone());
    let written = state
        .db
        .write(move |c| lxd_db::images::create(c, &project, &record))
        .await;
    if let Err(e) = written {
        crate::image_store::remove_files(&state.paths, &fingerprint);
        return Err(e.into());
    }
    tracing::info!(fingerprint = %fingerprint, "Image downloaded");
    state.events.lifecycle(
        &args.project,
        "image-created",
        image_url(&fingerprint, &args.project),
        &args.requestor,
    );
    Ok(image)
}
