//! `metadata.yaml`: the image's architecture, dates, properties and templates
//! (`api.ImageMetadata`), read straight out of a compressed tarball without unpacking it.
//!
//! Validation and error texts follow LXD's `getImageMetadata`: the file must exist, parse,
//! name a known architecture and carry a creation date. This module reads; it never writes.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::compression::{self, CompressionError};

/// Why an image's metadata could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("Metadata tarball is missing metadata.yaml")]
    Missing,
    #[error("Could not parse metadata.yaml")]
    Yaml(#[source] yaml_serde::Error),
    #[error("Missing architecture in metadata.yaml")]
    MissingArchitecture,
    #[error("Architecture isn't supported: {0}")]
    UnknownArchitecture(String),
    #[error("Missing creation date")]
    MissingCreationDate,
    #[error("Failed to read the image tarball {path}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Compression(#[from] CompressionError),
}

/// `metadata.yaml` as LXD reads it (`api.ImageMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageMetadata {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub creation_date: i64,
    #[serde(default)]
    pub expiry_date: i64,
    #[serde(default, deserialize_with = "string_map")]
    pub properties: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub templates: BTreeMap<String, ImageMetadataTemplate>,
}

/// One entry of `templates`: which file it renders, from which template, on which triggers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageMetadataTemplate {
    #[serde(default, deserialize_with = "null_as_default")]
    pub when: Vec<String>,
    #[serde(default)]
    pub create_only: bool,
    #[serde(default)]
    pub template: String,
    #[serde(default, deserialize_with = "string_map")]
    pub properties: BTreeMap<String, String>,
}

/// What a tarball's rootfs part says about the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Container,
    VirtualMachine,
}

impl ImageType {
    /// The API's `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Container => "container",
            Self::VirtualMachine => "virtual-machine",
        }
    }
}

/// The metadata of a tarball and whether it also holds the rootfs.
#[derive(Debug, Clone, PartialEq)]
pub struct TarballMetadata {
    pub metadata: ImageMetadata,
    /// `Some` for a unified image (`rootfs/` or `rootfs.img` inside), `None` for the metadata
    /// part of a split image.
    pub rootfs: Option<ImageType>,
}

impl ImageMetadata {
    /// `metadata.yaml` text for this metadata (publish writes it into the image).
    pub fn to_yaml(&self) -> Result<String, MetadataError> {
        yaml_serde::to_string(self).map_err(MetadataError::Yaml)
    }
}

/// Parse and validate `metadata.yaml`.
pub fn parse_metadata(yaml: &[u8]) -> Result<ImageMetadata, MetadataError> {
    let mut metadata: ImageMetadata = if yaml.iter().all(u8::is_ascii_whitespace) {
        ImageMetadata::default()
    } else {
        yaml_serde::from_slice(yaml).map_err(MetadataError::Yaml)?
    };
    if metadata.architecture.is_empty() {
        return Err(MetadataError::MissingArchitecture);
    }
    metadata.architecture = architecture_name(&metadata.architecture)
        .ok_or_else(|| MetadataError::UnknownArchitecture(metadata.architecture.clone()))?
        .to_string();
    if metadata.creation_date == 0 {
        return Err(MetadataError::MissingCreationDate);
    }
    Ok(metadata)
}

/// LXD's name for an architecture or one of its aliases (`amd64` → `x86_64`).
pub fn architecture_name(name: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &[&str])] = &[
        ("i686", &["i386", "i586", "386", "x86", "generic_32"]),
        ("x86_64", &["amd64", "generic_64"]),
        (
            "armv7l",
            &[
                "armel", "armhf", "arm", "armhfp", "armv7a", "armv7hl", "armv7b",
            ],
        ),
        ("aarch64", &["arm64", "arm64/v8", "armv8b"]),
        ("ppc", &["powerpc"]),
        ("ppc64", &["powerpc64", "ppc64"]),
        ("ppc64le", &["ppc64el"]),
        ("mips", &["mipsel", "mipsle"]),
        ("mips64", &["mips64el", "mips64le"]),
    ];
    let known = lxd_shared::config::values::ARCHITECTURES;
    if let Some(found) = known.iter().find(|a| **a == name) {
        return Some(found);
    }
    ALIASES
        .iter()
        .find(|(_, aliases)| aliases.contains(&name))
        .map(|(canonical, _)| *canonical)
}

/// Read `metadata.yaml` out of a (compressed) image tarball, stopping as soon as it and the
/// rootfs marker were seen, like LXD.
pub fn read_tarball_metadata(path: &Path) -> Result<TarballMetadata, MetadataError> {
    let (_, reader) = compression::open_tarball(path)?;
    read_metadata_from(reader).map_err(|e| match e {
        MetadataError::Read { source, .. } => MetadataError::Read {
            path: path.display().to_string(),
            source,
        },
        other => other,
    })
}

/// [`read_tarball_metadata`] over an already decompressed tar stream.
pub fn read_metadata_from(reader: impl Read) -> Result<TarballMetadata, MetadataError> {
    let read_error = |source| MetadataError::Read {
        path: String::from("stream"),
        source,
    };
    let mut archive = tar::Archive::new(reader);
    let mut yaml: Option<Vec<u8>> = None;
    let mut rootfs = None;
    for entry in archive.entries().map_err(read_error)? {
        let mut entry = entry.map_err(read_error)?;
        let name = entry.path_bytes().into_owned();
        let name = name.strip_prefix(b"./").unwrap_or(&name);
        if name == b"metadata.yaml" {
            let mut content = Vec::new();
            entry.read_to_end(&mut content).map_err(read_error)?;
            yaml = Some(content);
        } else if name.starts_with(b"rootfs/") {
            rootfs = Some(ImageType::Container);
        } else if name == b"rootfs.img" {
            rootfs = Some(ImageType::VirtualMachine);
        }
        if yaml.is_some() && rootfs.is_some() {
            break;
        }
    }
    let yaml = yaml.ok_or(MetadataError::Missing)?;
    Ok(TarballMetadata {
        metadata: parse_metadata(&yaml)?,
        rootfs,
    })
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A map of strings that, like Go's yaml.v2, also takes numbers and booleans as their text.
fn string_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw: Option<BTreeMap<String, yaml_serde::Value>> = Option::deserialize(deserializer)?;
    let mut map = BTreeMap::new();
    for (key, value) in raw.unwrap_or_default() {
        let text = match value {
            yaml_serde::Value::String(s) => s,
            yaml_serde::Value::Number(n) => n.to_string(),
            yaml_serde::Value::Bool(b) => b.to_string(),
            yaml_serde::Value::Null => String::new(),
            _ => {
                return Err(serde::de::Error::custom(format!(
                    "property {key:?} is not a string"
                )))
            }
        };
        map.insert(key, text);
    }
    Ok(map)
}

#[cfg(test)]
mod tests;
