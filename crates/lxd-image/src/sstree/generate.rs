//! `lxd-simplestreams generate-metadata`: write a metadata tarball (`metadata.yaml` only,
//! xz-compressed) to pair with an existing squashfs or rootfs tarball.

use std::collections::BTreeMap;
use std::path::Path;

use super::{io_error, TreeError};
use crate::ImageMetadata;

/// The fields of the generated `metadata.yaml`.
#[derive(Debug, Clone, Default)]
pub struct MetadataOptions {
    pub os: String,
    pub release: String,
    pub variant: String,
    /// Any name LXD knows (`amd64`, `x86_64`).
    pub architecture: String,
    /// Default: `{os} {release} ({variant}) ({architecture}) ({YYYYMMDDhhmm})`.
    pub description: Option<String>,
    /// Unix time of `creation_date`.
    pub creation_date: i64,
}

/// Write the metadata tarball to `out`; returns the `metadata.yaml` text.
pub fn generate_metadata(out: &Path, options: &MetadataOptions) -> Result<String, TreeError> {
    let canonical = crate::metadata::architecture_name(&options.architecture).ok_or_else(|| {
        TreeError::Invalid(format!(
            "Architecture isn't supported: {}",
            options.architecture
        ))
    })?;
    for (name, value) in [("os", &options.os), ("release", &options.release)] {
        if value.is_empty() {
            return Err(TreeError::Invalid(format!("Missing {name}")));
        }
    }
    let variant = if options.variant.is_empty() {
        "default"
    } else {
        &options.variant
    };
    let description = options.description.clone().unwrap_or_else(|| {
        format!(
            "{} {} ({variant}) ({}) ({})",
            options.os,
            options.release,
            options.architecture,
            super::add::version_name(options.creation_date)
        )
    });
    let properties: BTreeMap<String, String> = [
        ("architecture", options.architecture.as_str()),
        ("description", description.as_str()),
        ("os", options.os.as_str()),
        ("release", options.release.as_str()),
        ("variant", variant),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let metadata = ImageMetadata {
        architecture: canonical.to_string(),
        creation_date: options.creation_date,
        properties,
        ..Default::default()
    };
    let yaml = metadata.to_yaml()?;
    let file = std::fs::File::create(out).map_err(io_error(out))?;
    let mut builder = tar::Builder::new(liblzma::write::XzEncoder::new(file, 6));
    let mut header = tar::Header::new_ustar();
    header.set_size(yaml.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(options.creation_date.max(0) as u64);
    header.set_entry_type(tar::EntryType::Regular);
    builder
        .append_data(&mut header, "metadata.yaml", yaml.as_bytes())
        .map_err(io_error(out))?;
    let encoder = builder.into_inner().map_err(io_error(out))?;
    encoder.finish().map_err(io_error(out))?;
    Ok(yaml)
}
