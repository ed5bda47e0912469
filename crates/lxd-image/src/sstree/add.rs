//! `lxd-simplestreams add`: put a unified image, or a metadata tarball with its rootfs
//! (squashfs or tarball, as `lxc image export` writes them), into the tree.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use lxd_simplestreams::tree::{TreeFile, TreeImage, TreeRoot};

use super::{io_error, Tree, TreeError};
use crate::fingerprint::Fingerprinter;
use crate::Compression;

/// What the caller may say about the image beyond its `metadata.yaml`.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Extra aliases for the product.
    pub aliases: Vec<String>,
    /// Do not add the `{os}/{release}/{variant}` alias.
    pub no_default_alias: bool,
    /// Product id; default `{os}:{release}:{variant}:{architecture}`.
    pub product_name: Option<String>,
    /// Override `properties.os` / `release` / `variant` of `metadata.yaml`.
    pub os: Option<String>,
    pub release: Option<String>,
    pub variant: Option<String>,
    /// Version name; default the creation date as `YYYYMMDDhhmm` (UTC).
    pub version: Option<String>,
}

/// Add the image made of `meta` (and `rootfs` for a split image) to `tree`; returns its LXD
/// fingerprint.
pub fn add_image(
    tree: &Tree,
    meta: &Path,
    rootfs: Option<&Path>,
    options: &AddOptions,
) -> Result<String, TreeError> {
    let found = crate::metadata::read_tarball_metadata(meta)?;
    let metadata = found.metadata;
    match (rootfs, found.rootfs) {
        (Some(_), Some(_)) => {
            return Err(TreeError::Invalid(
                "The first file is a unified image: it takes no rootfs file".into(),
            ))
        }
        (None, None) => {
            return Err(TreeError::Invalid(
                "The metadata tarball holds no rootfs: give the rootfs file too".into(),
            ))
        }
        _ => {}
    }
    let property = |flag: &Option<String>, key: &str| {
        flag.clone()
            .or_else(|| metadata.properties.get(key).cloned())
            .filter(|v| !v.is_empty())
    };
    let missing = |key: &str| {
        TreeError::Invalid(format!(
            "Missing property {key:?} in metadata.yaml (or pass --{key})"
        ))
    };
    let os = property(&options.os, "os").ok_or_else(|| missing("os"))?;
    let release = property(&options.release, "release").ok_or_else(|| missing("release"))?;
    let variant = property(&options.variant, "variant").unwrap_or_else(|| "default".into());
    let architecture = product_architecture(&metadata.architecture, &metadata.properties);

    let images = tree.root().join("images");
    std::fs::create_dir_all(&images).map_err(io_error(&images))?;
    let meta_kind = crate::compression::detect_file(meta)?;
    let mut combined = Fingerprinter::new();
    let meta_file = place_file(tree, meta, meta_kind.extension(), &mut [&mut combined])?;
    let root = match rootfs {
        None => None,
        Some(path) => {
            let kind = crate::compression::detect_file(path)?;
            let file_type = match kind {
                Compression::Squashfs => "squashfs",
                Compression::Qcow2 => "disk-kvm.img",
                k if k.is_tarball() => "root.tar.xz",
                other => {
                    return Err(TreeError::Invalid(format!(
                        "Unsupported rootfs format {other}"
                    )))
                }
            };
            let file = place_file(tree, path, kind.extension(), &mut [&mut combined])?;
            Some(TreeRoot {
                file_type: file_type.into(),
                file,
                combined_sha256: combined.clone().finish(),
            })
        }
    };
    let mut aliases = Vec::new();
    if !options.no_default_alias {
        aliases.push(format!("{os}/{release}/{variant}"));
    }
    aliases.extend(options.aliases.iter().cloned());
    let image = TreeImage {
        product_id: options
            .product_name
            .clone()
            .unwrap_or_else(|| format!("{os}:{release}:{variant}:{architecture}")),
        os,
        release,
        variant,
        architecture,
        version: options
            .version
            .clone()
            .unwrap_or_else(|| version_name(metadata.creation_date)),
        aliases,
        meta: meta_file,
        root,
    };
    let mut products = tree.load()?;
    let fingerprint = lxd_simplestreams::tree::add_image(&mut products, &image)?;
    tree.save(&products)?;
    Ok(fingerprint)
}

/// The distribution architecture name of the product: `properties.architecture` when it
/// names the same architecture, else the usual name of `metadata.yaml`'s (`x86_64` → `amd64`).
fn product_architecture(
    canonical: &str,
    properties: &std::collections::BTreeMap<String, String>,
) -> String {
    let arch = lxd_simplestreams::arch::canonical_name(canonical).unwrap_or(canonical);
    match properties.get("architecture") {
        Some(p) if lxd_simplestreams::arch::canonical_name(p) == Some(arch) => p.clone(),
        _ => lxd_simplestreams::arch::distribution_name(arch).to_string(),
    }
}

/// Hash `source` (also into `extra` hashers) and copy it to `images/<sha256><extension>`
/// unless that file is already there.
fn place_file(
    tree: &Tree,
    source: &Path,
    extension: &str,
    extra: &mut [&mut Fingerprinter],
) -> Result<TreeFile, TreeError> {
    let mut own = Fingerprinter::new();
    let mut file = File::open(source).map_err(io_error(source))?;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(source)(e)),
        };
        own.update(&buffer[..n]);
        for hasher in extra.iter_mut() {
            hasher.update(&buffer[..n]);
        }
    }
    let size = own.size();
    let sha256 = own.finish();
    let rel = format!("images/{sha256}{extension}");
    let target = tree.root().join(&rel);
    let present = std::fs::metadata(&target).is_ok_and(|m| m.len() == size);
    if !present {
        let tmp = target.with_extension("partial");
        std::fs::copy(source, &tmp).map_err(io_error(&tmp))?;
        std::fs::rename(&tmp, &target).map_err(io_error(&target))?;
    }
    Ok(TreeFile {
        path: rel,
        sha256,
        size: size as i64,
    })
}

/// `YYYYMMDDhhmm` (UTC) of a unix time, the version name Incus's tool uses.
pub fn version_name(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}",
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
