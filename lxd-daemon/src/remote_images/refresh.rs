//! Refreshing an image from the source it was downloaded from (`autoUpdateImage`): download
//! what the source's alias points at now; when that is a new image, it takes over the old
//! one's aliases, profiles, cache flag and last use, and the old image goes.

use std::sync::Arc;

use lxd_api::image::Image;

use super::progress::set_metadata_key;
use super::{download_image, DownloadArgs, RemoteError};
use crate::events::Requestor;
use crate::handlers::images::image_url;
use crate::operations::Op;
use crate::state::AppState;

/// Refresh image `fingerprint` of `project`; returns the new image when it was replaced.
pub async fn refresh_image(
    state: &AppState,
    op: Option<Arc<Op>>,
    project: &str,
    fingerprint: &str,
    requestor: &Requestor,
) -> Result<Option<Image>, RemoteError> {
    let old = state
        .db
        .read(|c| lxd_db::images::get(c, project, fingerprint))?;
    let source = old
        .update_source
        .clone()
        .ok_or_else(|| RemoteError::Remote("Image source not found".into()))?;
    let args = DownloadArgs {
        project: project.to_string(),
        server: source.server,
        protocol: source.protocol,
        certificate: source.certificate,
        alias: source.alias,
        image_type: old.kind.clone(),
        auto_update: true,
        public: old.public,
        requestor: requestor.clone(),
        fresh_index: true,
        ..Default::default()
    };
    let new = download_image(state, op.clone(), &args).await?;
    let refreshed = new.fingerprint != old.fingerprint;
    if let Some(op) = &op {
        set_metadata_key(op, "refreshed", refreshed.into());
    }
    if !refreshed {
        tracing::debug!(fingerprint = %old.fingerprint, "Image already up to date");
        return Ok(None);
    }
    let (p, old_fp, new_fp) = (
        project.to_string(),
        old.fingerprint.clone(),
        new.fingerprint.clone(),
    );
    let (cached, last_used, profiles) =
        (old.cached, old.last_used_at.clone(), old.profiles.clone());
    state
        .db
        .write(move |c| {
            let current = lxd_db::images::get(c, &p, &new_fp)?;
            lxd_db::images::set_cached(c, &p, &new_fp, cached || current.cached, &last_used)?;
            lxd_db::images::move_aliases(c, &p, &old_fp, &new_fp)?;
            let mut put = current.writable();
            put.profiles = profiles;
            lxd_db::images::update(c, &p, &new_fp, &put)
        })
        .await?;
    crate::image_store::delete_image(state, project, &old.fingerprint).await?;
    tracing::info!(old = %old.fingerprint, new = %new.fingerprint, "Image refreshed");
    state.events.lifecycle(
        project,
        "image-refreshed",
        image_url(&old.fingerprint, project),
        requestor,
    );
    let p = project.to_string();
    Ok(Some(
        state
            .db
            .read(|c| lxd_db::images::get(c, &p, &new.fingerprint))?,
    ))
}
