//! What a simplestreams server offers once read: its images in LXD's preference order, the
//! aliases LXD derives from the products (`applyAliases`), and lookups by alias or
//! fingerprint prefix with LXD's error texts.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use lxd_api::image::{Image, ImageAlias, ImageAliasesEntry};

use crate::arch;
use crate::model::Products;
use crate::to_lxd::{DownloadFile, ImageEntry};
use crate::LookupError;

/// Servers whose alias names drop a leading `<os>/` (LXD's `urlDefaultOS`).
const URL_DEFAULT_OS: &[(&str, &str)] = &[("https://cloud-images.ubuntu.com", "ubuntu")];

/// One alias with the image type and architecture it was derived for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogAlias {
    pub name: String,
    pub kind: String,
    pub architecture: String,
    pub target: String,
}

impl CatalogAlias {
    /// The API object (`GET /1.0/images/aliases/<name>` as LXD's client builds it).
    pub fn to_api(&self) -> ImageAliasesEntry {
        ImageAliasesEntry {
            description: String::new(),
            target: self.target.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// A server's images, aliases and files.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    images: Vec<Image>,
    aliases: Vec<CatalogAlias>,
    files: BTreeMap<String, Vec<DownloadFile>>,
    host_architecture: String,
}

impl Catalog {
    /// Build the catalog of the server at `server_url` from its products files, for a host
    /// whose architecture is `host_architecture` (canonical name, e.g. `x86_64`).
    pub fn build(server_url: &str, host_architecture: &str, products: &[Products]) -> Self {
        let mut entries: Vec<ImageEntry> = products.iter().flat_map(Products::to_lxd).collect();
        let mut files = BTreeMap::new();
        for entry in &entries {
            files
                .entry(entry.image.fingerprint.clone())
                .or_insert_with(|| entry.files.clone());
        }
        entries.sort_by(|a, b| image_order(&a.image, &b.image));
        let default_os = URL_DEFAULT_OS
            .iter()
            .find(|(prefix, _)| server_url.starts_with(prefix))
            .map(|(_, os)| format!("{os}/"));
        let mut catalog = Self {
            images: Vec::new(),
            aliases: Vec::new(),
            files,
            host_architecture: host_architecture.to_string(),
        };
        for entry in entries {
            let mut image = entry.image;
            let requested = std::mem::take(&mut image.aliases);
            for alias in requested {
                let short = catalog.add_alias(&image, &alias.name, default_os.as_deref());
                if let Some(name) = short {
                    if image.architecture == host_architecture {
                        image.aliases.push(ImageAlias {
                            name,
                            description: String::new(),
                        });
                    }
                }
                let product_arch = image
                    .properties
                    .get("architecture")
                    .cloned()
                    .unwrap_or_default();
                let medium = format!("{}/{product_arch}", alias.name);
                if let Some(name) = catalog.add_alias(&image, &medium, default_os.as_deref()) {
                    image.aliases.push(ImageAlias {
                        name,
                        description: String::new(),
                    });
                }
            }
            catalog.images.push(image);
        }
        catalog
    }

    /// Record an alias unless one with the same name, type and architecture exists; returns
    /// the name used.
    fn add_alias(&mut self, image: &Image, name: &str, strip: Option<&str>) -> Option<String> {
        let name = match strip {
            Some(prefix) => name.strip_prefix(prefix).unwrap_or(name),
            None => name,
        };
        let taken = self.aliases.iter().any(|a| {
            a.name == name && a.kind == image.kind && a.architecture == image.architecture
        });
        if taken {
            return None;
        }
        self.aliases.push(CatalogAlias {
            name: name.to_string(),
            kind: image.kind.clone(),
            architecture: image.architecture.clone(),
            target: image.fingerprint.clone(),
        });
        Some(name.to_string())
    }

    /// Every image, preferred first.
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    /// Aliases with the host's architecture first (`sortedAliases`), then personalities.
    fn sorted_aliases(&self) -> Vec<&CatalogAlias> {
        let host = self.host_architecture.as_str();
        let rank = |a: &CatalogAlias| {
            if a.architecture == host {
                0
            } else if arch::is_personality(host, &a.architecture) {
                1
            } else {
                2
            }
        };
        let mut sorted: Vec<&CatalogAlias> = self.aliases.iter().collect();
        sorted.sort_by_key(|a| rank(a));
        sorted
    }

    /// The alias list `GET /1.0/images/aliases` would give: one per name and type.
    pub fn list_aliases(&self) -> Vec<ImageAliasesEntry> {
        let mut out: Vec<ImageAliasesEntry> = Vec::new();
        for alias in self.sorted_aliases() {
            if !out
                .iter()
                .any(|a| a.name == alias.name && a.kind == alias.kind)
            {
                out.push(alias.to_api());
            }
        }
        out
    }

    /// Resolve an alias of image type `kind` (any type when empty), preferring the host's
    /// architecture (`GetAlias`).
    pub fn alias(&self, kind: &str, name: &str) -> Result<ImageAliasesEntry, LookupError> {
        let mut found: Option<&CatalogAlias> = None;
        for alias in self.sorted_aliases() {
            if alias.name != name || (!kind.is_empty() && alias.kind != kind) {
                continue;
            }
            match found {
                Some(m) if m.kind != alias.kind => {
                    return Err(LookupError::AmbiguousAlias(name.to_string()))
                }
                Some(_) => {}
                None => found = Some(alias),
            }
        }
        found
            .map(CatalogAlias::to_api)
            .ok_or_else(|| LookupError::UnknownAlias(name.to_string()))
    }

    /// The image whose fingerprint starts with `prefix` (`GetImage`).
    pub fn image(&self, prefix: &str) -> Result<&Image, LookupError> {
        let mut matches = self
            .images
            .iter()
            .filter(|i| i.fingerprint.starts_with(prefix));
        let first = matches.next().ok_or(LookupError::UnknownImage)?;
        if matches.next().is_some() {
            return Err(LookupError::AmbiguousFingerprint);
        }
        Ok(first)
    }

    /// The files of the image whose fingerprint starts with `prefix` (`GetFiles`).
    pub fn files(&self, prefix: &str) -> Result<&[DownloadFile], LookupError> {
        let image = self.image(prefix)?;
        self.files
            .get(&image.fingerprint)
            .map(Vec::as_slice)
            .ok_or(LookupError::UnknownImage)
    }

    /// Resolve what a client asked for: an alias (of type `kind`) or else a fingerprint
    /// prefix, as the daemon's image download does.
    pub fn resolve(&self, kind: &str, alias_or_fingerprint: &str) -> Result<&Image, LookupError> {
        match self.alias(kind, alias_or_fingerprint) {
            Ok(alias) => self.image(&alias.target),
            Err(_) => self.image(alias_or_fingerprint),
        }
    }
}

/// LXD's image preference (`sortedImages`): by os, release, variant, newest serial first,
/// architecture, then root type (squashfs before root.tar.xz). Empty values sort last.
fn image_order(a: &Image, b: &Image) -> Ordering {
    for prop in ["os", "release", "variant", "serial", "architecture"] {
        let (x, y) = (
            a.properties.get(prop).map_or("", String::as_str),
            b.properties.get(prop).map_or("", String::as_str),
        );
        if x == y {
            continue;
        }
        return match (x.is_empty(), y.is_empty()) {
            (true, _) => Ordering::Greater,
            (_, true) => Ordering::Less,
            _ if prop == "serial" => y.cmp(x),
            _ => x.cmp(y),
        };
    }
    let score = |i: &Image| {
        let t = i.properties.get("type").map_or("", String::as_str);
        [
            "squashfs",
            "root.tar.xz",
            "disk-kvm.img",
            "uefi1.img",
            "disk1.img",
        ]
        .iter()
        .position(|p| *p == t)
        .unwrap_or(0)
    };
    score(a).cmp(&score(b))
}
