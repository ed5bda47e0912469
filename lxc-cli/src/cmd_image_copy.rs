//! `lxc image copy [<remote>:]<image> <remote>:` as lxc 5.0.2 runs it (`cmdImageCopy` and
//! the Go client's `CopyImage`): the source is an LXD or simplestreams image server, the
//! destination an LXD server. Modes: `pull` (the destination downloads from the source's
//! addresses in turn), `relay` (this client downloads the files and uploads them) and
//! `push` (the destination hands out a token the source exports to). Aliases given with
//! `--alias` or copied with `--copy-aliases` are set afterwards, as lxc does.

use anyhow::{bail, Result};
use lxd_api::image::Image;
use lxd_client::image_upload::{ImageUpload, UploadFile};
use lxd_client::{Client, Connector};
use serde_json::{json, Value};

use crate::cli::check_args;
use crate::global::Ctx;
use crate::image_server::ImageServer;
use crate::image_source::remote_operation_error;
use crate::image_source::{connection_certificate, connection_urls, image_secret};
use crate::progress::{done_shared, update_shared, ProgressRenderer, SharedProgress};

/// The flags of `lxc image copy`.
#[derive(Debug, Clone, Default)]
pub struct CopyFlags {
    pub aliases: Vec<String>,
    pub auto_update: bool,
    pub copy_aliases: bool,
    pub mode: String,
    pub public: bool,
    pub target_project: String,
    pub vm: bool,
}

/// Where the destination pulls from (`GetConnectionInfo` of the source).
struct SourceInfo {
    protocol: &'static str,
    certificate: String,
    urls: Vec<String>,
    project: String,
}

/// Runs `lxc image copy`.
pub async fn run(ctx: &Ctx, args: &[String], flags: &CopyFlags) -> Result<()> {
    if check_args(&["image", "copy"], args, 2, Some(2))? {
        return Ok(());
    }
    if flags.mode != "pull" && flags.auto_update {
        bail!("Auto update is only available in pull mode");
    }
    let (source_remote, name) = ctx.conf.parse_remote(&args[0])?;
    let mut source = ctx.image_server(&source_remote).await?;
    // lxc copies from the remote's own project, whatever --project says.
    if let (ImageServer::Lxd(client), Some(remote)) =
        (&mut source, ctx.conf.remotes.get(&source_remote))
    {
        if !remote.public {
            *client = client.clone().with_project(&remote.project);
        }
    }
    let (dest_remote, dest_name) = ctx.conf.parse_remote(&args[1])?;
    let mut dest = ctx.connect(&dest_remote).await?;
    if !dest_name.is_empty() {
        bail!("Can't provide a name for the target image");
    }
    let kind = if flags.vm { "virtual-machine" } else { "" };
    if !flags.target_project.is_empty() {
        dest = dest.with_project(&flags.target_project);
    }

    let simplestreams = matches!(source, ImageServer::Simplestreams(_));
    let (mut info, fingerprint) =
        if simplestreams && !flags.copy_aliases && flags.aliases.is_empty() && flags.mode == "pull"
        {
            // Simplestreams images are public: the destination resolves the alias itself.
            let info = Image {
                fingerprint: name.clone(),
                public: true,
                ..Default::default()
            };
            (info, String::new())
        } else {
            let target = source.dereference_alias(kind, &name).await;
            let info = source.image(&target).await?;
            let fingerprint = info.fingerprint.clone();
            (info, fingerprint)
        };
    let real_fingerprint = info.fingerprint.clone();
    if info.public && info.fingerprint != name && !info.fingerprint.starts_with(&name) {
        // An alias: the destination follows it (needed for auto-update).
        info.fingerprint = name.clone();
    }

    if same_server(&source, &dest) {
        bail!("The source and target servers must be different");
    }
    let progress = ProgressRenderer::shared("Copying the image: ", ctx.flags.quiet);
    let copied = match flags.mode.as_str() {
        "push" => push(&source, &dest, &info, flags, &progress).await,
        "relay" => relay(&source, &dest, &info, &real_fingerprint, flags, &progress).await,
        _ => {
            pull(
                ctx,
                &source_remote,
                &source,
                &dest,
                &info,
                kind,
                flags,
                &progress,
            )
            .await
        }
    };
    if let Err(e) = copied {
        done_shared(&progress, "");
        return Err(e);
    }
    done_shared(&progress, "Image copied successfully!");

    let mut aliases = flags.aliases.clone();
    if flags.copy_aliases {
        aliases.extend(info.aliases.iter().map(|a| a.name.clone()));
    }
    crate::cmd_image_transfer::ensure_image_aliases(&dest, &aliases, &fingerprint).await
}

/// Go's `isSameServer`: the same endpoint and project.
fn same_server(source: &ImageServer, dest: &Client) -> bool {
    let ImageServer::Lxd(source) = source else {
        return false;
    };
    let endpoint = |c: &Client| match c.connector() {
        Connector::Unix(p) => p.display().to_string(),
        Connector::Https(e) => e.base_url().to_string(),
    };
    let project = |c: &Client| c.project().unwrap_or("default").to_string();
    endpoint(source) == endpoint(dest) && project(source) == project(dest)
}

/// The source's connection info as the destination needs it.
async fn source_info(ctx: &Ctx, remote: &str, source: &ImageServer) -> Result<SourceInfo> {
    match source {
        ImageServer::Simplestreams(s) => Ok(SourceInfo {
            protocol: "simplestreams",
            certificate: s.certificate().to_string(),
            urls: vec![s.url().to_string()],
            project: String::new(),
        }),
        ImageServer::Lxd(client) => {
            let (server, _) = client.get_server_raw().await?;
            Ok(SourceInfo {
                protocol: "lxd",
                certificate: connection_certificate(ctx, remote, &server, client),
                urls: connection_urls(client, &server),
                project: client.project().unwrap_or("default").to_string(),
            })
        }
    }
}

/// Pull mode: `POST /1.0/images` on the destination with an `image` source, tried on each
/// of the source's addresses (`tryCopyImage`).
#[allow(clippy::too_many_arguments)]
async fn pull(
    ctx: &Ctx,
    remote: &str,
    source: &ImageServer,
    dest: &Client,
    info: &Image,
    kind: &str,
    flags: &CopyFlags,
    progress: &SharedProgress,
) -> Result<()> {
    let conn = source_info(ctx, remote, source).await?;
    let mut src = json!({
        "type": "image",
        "mode": "pull",
        "protocol": conn.protocol,
        "certificate": conn.certificate,
        "fingerprint": info.fingerprint,
        "image_type": kind,
        "project": conn.project,
    });
    if !info.public {
        if let ImageServer::Lxd(client) = source {
            src["secret"] = json!(image_secret(client, &info.fingerprint).await?);
        }
    }
    let mut req = json!({
        "source": src,
        "aliases": Value::Null,
        "auto_update": flags.auto_update,
        "public": flags.public,
        "profiles": Value::Null,
    });
    if conn.urls.is_empty() {
        bail!("The source server isn't listening on the network");
    }
    let mut errors: Vec<(String, String)> = Vec::new();
    for url in &conn.urls {
        req["source"]["server"] = json!(url);
        let op = match dest
            .start_operation("POST", "/1.0/images", Some(&req))
            .await
        {
            Ok(op) => op,
            Err(e) => {
                errors.push((url.clone(), e.to_string()));
                continue;
            }
        };
        let p = progress.clone();
        match dest
            .wait_operation_with_progress(&op.id, move |t| update_shared(&p, t))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => {
                let text = e.to_string();
                let connection = text.contains("Unable to connect to");
                errors.push((url.clone(), text));
                if !connection {
                    break;
                }
            }
        }
    }
    bail!(
        "{}",
        remote_operation_error("Failed remote image download", &errors)
    )
}

/// Relay mode: this client downloads the image files and uploads them to the destination.
async fn relay(
    source: &ImageServer,
    dest: &Client,
    info: &Image,
    fingerprint: &str,
    flags: &CopyFlags,
    progress: &SharedProgress,
) -> Result<()> {
    let (meta, rootfs) = match source {
        ImageServer::Simplestreams(s) => {
            let files = s.download(fingerprint, |_| {}).await?;
            let meta = UploadFile {
                file: files.meta,
                name: files.meta_name,
            };
            let rootfs = files.rootfs.map(|(file, name)| UploadFile { file, name });
            (meta, rootfs)
        }
        ImageServer::Lxd(client) => {
            // As lxc: a trusted client reads private images without a secret.
            let mut meta = tempfile::tempfile()?;
            let mut rootfs = tempfile::tempfile()?;
            let resp = client
                .get_image_file(fingerprint, "", &mut meta, Some(&mut rootfs), None)
                .await?;
            use std::io::Seek;
            meta.rewind()?;
            rootfs.rewind()?;
            let meta = UploadFile {
                file: meta,
                name: info.filename.clone(),
            };
            let rootfs = (!resp.rootfs_name.is_empty()).then(|| UploadFile {
                file: rootfs,
                name: info.filename.clone(),
            });
            (meta, rootfs)
        }
    };
    let upload = ImageUpload {
        filename: meta.name.clone(),
        meta,
        rootfs,
        kind: info.kind.clone(),
        public: flags.public,
        properties: Default::default(),
        profiles: Vec::new(),
    };
    let p = progress.clone();
    let handler = Box::new(move |t: &str| update_shared(&p, t));
    let op = dest
        .create_image_upload(upload, Some(handler))
        .await
        .map_err(|_| anyhow::anyhow!("Failed to copy image"))?;
    let p = progress.clone();
    dest.wait_operation_with_progress(&op.id, move |t| update_shared(&p, t))
        .await
        .map_err(|_| anyhow::anyhow!("Failed to copy image"))?;
    Ok(())
}

/// Push mode: the destination answers `POST /1.0/images` (mode `push`) with a token
/// operation, and the source exports the image to it (`POST /1.0/images/<fp>/export`).
async fn push(
    source: &ImageServer,
    dest: &Client,
    info: &Image,
    flags: &CopyFlags,
    progress: &SharedProgress,
) -> Result<()> {
    let (dest_server, _) = dest.get_server_raw().await?;
    let token = dest
        .start_operation(
            "POST",
            "/1.0/images",
            Some(&json!({
                "source": {"fingerprint": info.fingerprint, "mode": "push"},
                "aliases": Value::Null,
                "expires_at": info.expires_at,
                "properties": info.properties,
                "public": flags.public,
            })),
        )
        .await?;
    let Some(secret) = token
        .metadata
        .as_ref()
        .and_then(|m| m.get("secret"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        bail!("No token provided");
    };
    let ImageServer::Lxd(source) = source else {
        let _ = dest
            .query(
                "DELETE",
                &format!("/1.0/operations/{}", token.id),
                None,
                None,
            )
            .await;
        bail!("Exporting images is not supported with simplestreams");
    };
    let target = match dest.connector() {
        Connector::Https(e) => e.base_url().to_string(),
        Connector::Unix(_) => connection_urls(dest, &dest_server)
            .into_iter()
            .next()
            .unwrap_or_default(),
    };
    let certificate = dest_server["environment"]["certificate"]
        .as_str()
        .unwrap_or_default();
    let body = json!({
        "target": target,
        "certificate": certificate,
        "secret": secret,
        "aliases": info.aliases,
        "project": dest.project().unwrap_or("default"),
        "profiles": Value::Null,
    });
    let path = format!(
        "/1.0/images/{}/export",
        lxd_client::websocket::escape_path(&info.fingerprint)
    );
    let result = async {
        let op = source.start_operation("POST", &path, Some(&body)).await?;
        let p = progress.clone();
        source
            .wait_operation_with_progress(&op.id, move |t| update_shared(&p, t))
            .await?;
        Ok::<(), anyhow::Error>(())
    }
    .await;
    let _ = dest
        .query(
            "DELETE",
            &format!("/1.0/operations/{}", token.id),
            None,
            None,
        )
        .await;
    result
}
