//! The image server a remote is (lxc's `ImageServer` interface): an LXD server spoken to over
//! its REST API, or a simplestreams server read by the client itself. Commands that only
//! read images (list, info, show, alias list, copy sources) go through this.

use anyhow::Result;
use lxd_api::image::{Image, ImageAliasesEntry};
use lxd_client::Client;

use crate::simplestreams_remote::SimplestreamsRemote;

/// An image server of either protocol.
#[derive(Debug)]
pub enum ImageServer {
    Lxd(Client),
    Simplestreams(Box<SimplestreamsRemote>),
}

impl ImageServer {
    /// Every image the server shows this client.
    pub async fn images(&self) -> Result<Vec<Image>> {
        match self {
            Self::Lxd(c) => Ok(c.get_images().await?),
            Self::Simplestreams(s) => s.images().await,
        }
    }

    /// One image by fingerprint or unique prefix.
    pub async fn image(&self, fingerprint: &str) -> Result<Image> {
        match self {
            Self::Lxd(c) => Ok(c.get_image(fingerprint).await?.0),
            Self::Simplestreams(s) => s.image(fingerprint).await,
        }
    }

    /// Every alias.
    pub async fn aliases(&self) -> Result<Vec<ImageAliasesEntry>> {
        match self {
            Self::Lxd(c) => Ok(c.get_image_aliases().await?),
            Self::Simplestreams(s) => s.aliases().await,
        }
    }

    /// An alias by name; `kind` limits simplestreams aliases to one image type (LXD servers
    /// answer with the alias and the caller checks its type).
    pub async fn alias(&self, kind: &str, name: &str) -> Result<ImageAliasesEntry> {
        match self {
            Self::Lxd(c) => Ok(c.get_image_alias(name).await?.0),
            Self::Simplestreams(s) => s.alias(kind, name).await,
        }
    }

    /// lxc's `dereferenceAlias`: the alias target, or the name itself when it is no alias (of
    /// `kind`, when given). An empty name means `default`.
    pub async fn dereference_alias(&self, kind: &str, name: &str) -> String {
        let name = if name.is_empty() { "default" } else { name };
        match self.alias(kind, name).await {
            Ok(alias) if kind.is_empty() || alias.kind == kind => alias.target,
            _ => name.to_string(),
        }
    }
}
