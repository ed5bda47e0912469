//! `lxc image import` and `lxc image export`: argument sorting (files, `<remote>:`,
//! `key=value` properties), directory packing, rootfs type detection, the upload and download
//! with lxc's progress lines, output file naming, and `--alias` creation (`ensureImageAliases`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use lxd_api::image::ImageAliasesPost;
use lxd_client::image_export::ImageFileResponse;
use lxd_client::image_upload::{ImageUpload, UploadFile};
use lxd_client::Client;
use serde_json::{json, Value};

use crate::cli::check_args;
use crate::global::Ctx;
use crate::image_server::ImageServer;
use crate::progress::{done_shared, update_shared, ProgressRenderer, SharedProgress};
use crate::simplestreams_remote::SimplestreamsRemote;

/// An I/O error as Go prints it: `open nope.tar.gz: no such file or directory`.
pub fn go_io_error(op: &str, path: &str, e: &std::io::Error) -> anyhow::Error {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(f) => f.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    };
    anyhow!("{op} {path}: {text}")
}

/// The extension Go's `DetectCompressionFile` gives a file from its magic bytes.
fn detect_compression(path: &str) -> Result<&'static str> {
    use std::io::Read;
    let mut head = vec![0u8; 262];
    let mut f = std::fs::File::open(path).map_err(|e| go_io_error("open", path, &e))?;
    let n = f
        .read(&mut head)
        .map_err(|e| go_io_error("read", path, &e))?;
    head.truncate(n);
    let ext = match head.as_slice() {
        [b'B', b'Z', b'h', ..] => ".tar.bz2",
        [0x1f, 0x8b, ..] => ".tar.gz",
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => ".tar.xz",
        [0x5d, 0x00, 0x00, ..] => ".tar.lzma",
        [b'h', b's', b'q', b's', ..] => ".squashfs",
        [b'Q', b'F', b'I', 0xfb, ..] => ".qcow2",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => ".tar.zst",
        h if h.len() >= 262 && &h[257..262] == b"ustar" => ".tar",
        _ => bail!("Unsupported compression"),
    };
    Ok(ext)
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// lxc's `packImageDir`: an xz tarball of `rootfs`, `templates` and `metadata.yaml`.
fn pack_image_dir(dir: &str) -> Result<tempfile_path::TempPath> {
    if !is_root() {
        bail!("Must run as root to import from directory");
    }
    let out = tempfile_path::TempPath::new("lxd_image_")?;
    let _ = std::process::Command::new("tar")
        .args(["-C", dir, "--numeric-owner", "--xattrs", "-cJf"])
        .arg(out.path())
        .args(["rootfs", "templates", "metadata.yaml"])
        .stderr(std::process::Stdio::null())
        .status();
    Ok(out)
}

mod tempfile_path {
    //! A temporary file path removed on drop.
    use std::path::{Path, PathBuf};

    pub struct TempPath(PathBuf);

    impl TempPath {
        pub fn new(prefix: &str) -> std::io::Result<Self> {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default();
            let p = std::env::temp_dir().join(format!("{prefix}{}{nanos}", std::process::id()));
            std::fs::File::create(&p)?;
            Ok(Self(p))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn base_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| path.to_string())
}

/// `lxc image import <tarball>|<directory>|<URL> [<rootfs>] [<remote>:] [key=value...]`.
pub async fn import(ctx: &Ctx, args: &[String], aliases: &[String], public: bool) -> Result<()> {
    if check_args(&["image", "import"], args, 1, None)? {
        return Ok(());
    }
    let (mut image_file, mut rootfs_file, mut remote) =
        (String::new(), String::new(), String::new());
    let mut props = Vec::new();
    for arg in args {
        if !arg.contains('=') || Path::new(arg).exists() {
            if arg.ends_with(':') {
                remote = ctx.conf.parse_remote(arg)?.0;
            } else if image_file.is_empty() {
                image_file = args[0].clone();
            } else {
                rootfs_file = arg.clone();
            }
        } else {
            props.push(arg.clone());
        }
    }
    if remote.is_empty() {
        remote = ctx.conf.default_remote.clone();
    }
    if image_file.is_empty() {
        image_file = args[0].clone();
    }
    let client = ctx.connect(&remote).await?;
    if image_file.starts_with("http://") {
        bail!("Only https:// is supported for remote image import");
    }
    let mut properties = BTreeMap::new();
    for entry in &props {
        let Some((k, v)) = entry.split_once('=') else {
            bail!("Bad property: {entry}");
        };
        properties.insert(k.trim().to_string(), v.trim().to_string());
    }
    let progress = ProgressRenderer::shared("Transferring image: ", ctx.flags.quiet);
    let started = if image_file.starts_with("https://") {
        let body = json!({
            "auto_update": false, "properties": properties, "public": public,
            "expires_at": "0001-01-01T00:00:00Z", "profiles": null, "filename": "",
            "source": {"alias": "", "certificate": "", "protocol": "direct", "server": "",
                "image_type": "", "type": "url", "mode": "pull", "url": image_file,
                "name": "", "fingerprint": "", "secret": "", "project": ""},
            "compression_algorithm": "", "aliases": null,
        });
        client
            .start_operation("POST", "/1.0/images", Some(&body))
            .await
    } else {
        let packed = if Path::new(&image_file).is_dir() {
            Some(pack_image_dir(&image_file)?)
        } else {
            None
        };
        let meta_path = match &packed {
            Some(p) => p.path().to_string_lossy().to_string(),
            None => image_file.clone(),
        };
        let meta =
            std::fs::File::open(&meta_path).map_err(|e| go_io_error("open", &meta_path, &e))?;
        let mut kind = "container";
        let rootfs = if rootfs_file.is_empty() {
            None
        } else {
            let file = std::fs::File::open(&rootfs_file)
                .map_err(|e| go_io_error("open", &rootfs_file, &e))?;
            if detect_compression(&rootfs_file)? == ".qcow2" {
                kind = "virtual-machine";
            }
            Some(UploadFile {
                file,
                name: base_name(&rootfs_file),
            })
        };
        let upload = ImageUpload {
            meta: UploadFile {
                file: meta,
                name: base_name(&meta_path),
            },
            rootfs,
            kind: kind.to_string(),
            public,
            filename: base_name(&meta_path),
            properties,
            profiles: Vec::new(),
        };
        let p = progress.clone();
        let handler = Box::new(move |t: &str| update_shared(&p, t));
        client.create_image_upload(upload, Some(handler)).await
    };
    let op = match started {
        Ok(op) => op,
        Err(e) => {
            done_shared(&progress, "");
            return Err(e.into());
        }
    };
    let op = wait_with_progress(&client, &op.id, &progress).await?;
    let fingerprint = op
        .metadata
        .as_ref()
        .and_then(|m| m.get("fingerprint"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    done_shared(
        &progress,
        &format!("Image imported with fingerprint: {fingerprint}"),
    );
    ensure_image_aliases(&client, aliases, &fingerprint).await
}

/// lxc's `CancelableWait` with `UpdateOp`: waits, showing `*_progress` metadata.
async fn wait_with_progress(
    client: &Client,
    id: &str,
    progress: &SharedProgress,
) -> Result<lxd_api::Operation> {
    let p = progress.clone();
    match client
        .wait_operation_with_progress(id, move |t| update_shared(&p, t))
        .await
    {
        Ok(op) => Ok(op),
        Err(e) => {
            done_shared(progress, "");
            Err(e.into())
        }
    }
}

/// lxc's `ensureImageAliases`: replaces existing aliases of those names, then creates them
/// pointing at `fingerprint`; failures are reported on stdout, not as errors.
pub async fn ensure_image_aliases(
    client: &Client,
    names: &[String],
    fingerprint: &str,
) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let mut sorted = names.to_vec();
    sorted.sort();
    let existing = client.get_image_aliases().await?;
    for alias in existing
        .iter()
        .filter(|a| sorted.binary_search(&a.name).is_ok())
    {
        if client.delete_image_alias(&alias.name).await.is_err() {
            println!("Failed to remove alias {}", alias.name);
        }
    }
    for name in names {
        let post = ImageAliasesPost {
            name: name.clone(),
            target: fingerprint.to_string(),
            ..Default::default()
        };
        if client.create_image_alias(&post).await.is_err() {
            println!("Failed to create alias {name}");
        }
    }
    Ok(())
}

fn join(dir: &str, name: &str) -> String {
    if dir == "." {
        return name.to_string();
    }
    Path::new(dir).join(name).to_string_lossy().to_string()
}

/// A simplestreams image's files (checked against their hashes) copied into `meta` and
/// `rootfs`, named as the Go client's `GetImageFile` names them (the files' base names).
async fn simplestreams_file(
    ss: &SimplestreamsRemote,
    fingerprint: &str,
    meta: &mut std::fs::File,
    rootfs: &mut std::fs::File,
    mut progress: Box<dyn FnMut(&str) + Send>,
) -> Result<ImageFileResponse> {
    let mut image = ss.download(fingerprint, |t| progress(t)).await?;
    let meta_size = std::io::copy(&mut image.meta, meta)? as i64;
    let (rootfs_size, rootfs_name) = match image.rootfs.as_mut() {
        Some((file, name)) => (std::io::copy(file, rootfs)? as i64, name.clone()),
        None => (0, String::new()),
    };
    Ok(ImageFileResponse {
        meta_size,
        meta_name: image.meta_name,
        rootfs_size,
        rootfs_name,
    })
}

/// `lxc image export [<remote>:]<image> [<target>]`.
pub async fn export(ctx: &Ctx, args: &[String], kind: &str) -> Result<()> {
    if check_args(&["image", "export"], args, 1, Some(2))? {
        return Ok(());
    }
    let (remote, name) = ctx.conf.parse_remote(&args[0])?;
    let server = ctx.image_server(&remote).await?;
    let fingerprint = server.dereference_alias(kind, &name).await;
    let mut target = ".".to_string();
    let mut target_meta = fingerprint.clone();
    if let Some(t) = args.get(1) {
        target = t.clone();
        target_meta = if Path::new(t).is_dir() {
            join(t, &target_meta)
        } else {
            t.clone()
        };
    }
    let target_rootfs = format!("{target_meta}.root");
    let mut dest =
        std::fs::File::create(&target_meta).map_err(|e| go_io_error("open", &target_meta, &e))?;
    let mut dest_rootfs = std::fs::File::create(&target_rootfs)
        .map_err(|e| go_io_error("open", &target_rootfs, &e))?;
    let progress = ProgressRenderer::shared("Exporting the image: ", ctx.flags.quiet);
    let p = progress.clone();
    let handler = Box::new(move |t: &str| update_shared(&p, t));
    let cleanup = |progress: &SharedProgress| {
        let _ = std::fs::remove_file(&target_meta);
        let _ = std::fs::remove_file(&target_rootfs);
        done_shared(progress, "");
    };
    let fetched = match &server {
        ImageServer::Lxd(client) => client
            .get_image_file(
                &fingerprint,
                "",
                &mut dest,
                Some(&mut dest_rootfs),
                Some(handler),
            )
            .await
            .map_err(anyhow::Error::from),
        ImageServer::Simplestreams(ss) => {
            simplestreams_file(ss, &fingerprint, &mut dest, &mut dest_rootfs, handler).await
        }
    };
    let resp = match fetched {
        Ok(r) => r,
        Err(e) => {
            cleanup(&progress);
            return Err(e);
        }
    };
    drop((dest, dest_rootfs));
    if resp.rootfs_size == 0 {
        if let Err(e) = std::fs::remove_file(&target_rootfs) {
            cleanup(&progress);
            return Err(go_io_error("remove", &target_rootfs, &e));
        }
    }
    let renamed = if Path::new(&target).is_dir() {
        let mut r = Ok(());
        if !resp.meta_name.is_empty() {
            r = std::fs::rename(&target_meta, join(&target, &resp.meta_name));
        }
        if r.is_ok() && resp.rootfs_size > 0 && !resp.rootfs_name.is_empty() {
            r = std::fs::rename(&target_rootfs, join(&target, &resp.rootfs_name));
        }
        r
    } else if resp.rootfs_size == 0 && args.len() > 1 && !resp.meta_name.is_empty() {
        let ext = resp
            .meta_name
            .split_once('.')
            .map(|x| x.1)
            .unwrap_or_default();
        std::fs::rename(&target_meta, format!("{target_meta}.{ext}"))
    } else {
        Ok(())
    };
    if let Err(e) = renamed {
        cleanup(&progress);
        return Err(anyhow!("{e}"));
    }
    done_shared(&progress, "Image exported successfully!");
    Ok(())
}
