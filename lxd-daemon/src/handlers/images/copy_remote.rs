//! `POST /1.0/images` with an `image` source: copy an image from a remote server (pull mode,
//! what `lxc image copy remote:img local:` asks the target daemon), then apply the requested
//! visibility, auto-update, properties, file name and aliases (`imgPostRemoteInfo`).

use lxd_api::OperationClass;
use serde::Deserialize;

use super::publish::AliasRequest;
use crate::api::caller::Caller;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::remote_images::{download_image, DownloadArgs};
use crate::state::AppState;

/// The `source` of an image copy.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RemoteImageSource {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub server: String,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub alias: String,
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub secret: String,
    #[serde(default)]
    pub certificate: String,
    #[serde(default)]
    pub image_type: String,
    #[serde(default)]
    pub project: String,
}

/// The JSON body of an image copy.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageCopyPost {
    #[serde(default)]
    pub source: RemoteImageSource,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub auto_update: bool,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub aliases: Vec<AliasRequest>,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub properties: lxd_api::ConfigMap,
    #[serde(default)]
    pub filename: String,
}

/// Start the copy as a "Downloading image" operation.
pub fn post_image_copy(
    state: &AppState,
    project: String,
    req: ImageCopyPost,
    caller: &Caller,
) -> ApiResult {
    match req.source.mode.as_str() {
        // Push mode never gets here: `post_images` hands it to `push::post_push_token`.
        "" | "pull" => {}
        other => return Err(ApiError::bad_request(format!("Unknown mode {other:?}"))),
    }
    if req.source.server.is_empty() {
        return Err(ApiError::bad_request("Missing source server"));
    }
    let alias = if !req.source.fingerprint.is_empty() {
        req.source.fingerprint.clone()
    } else if !req.source.alias.is_empty() {
        req.source.alias.clone()
    } else {
        return Err(ApiError::bad_request(
            "must specify one of alias or fingerprint for init from image",
        ));
    };
    let args = DownloadArgs {
        project: project.clone(),
        server: req.source.server.clone(),
        protocol: req.source.protocol.clone(),
        certificate: req.source.certificate.clone(),
        secret: req.source.secret.clone(),
        alias,
        image_type: req.source.image_type.clone(),
        auto_update: req.auto_update,
        public: req.public,
        source_project: req.source.project.clone(),
        requestor: caller.requestor(),
        ..Default::default()
    };
    let mut spec = OpSpec::task("Downloading image", &project);
    spec.class = OperationClass::Task;
    let task_state = state.clone();
    let op = state.operations.start(spec, move |op| async move {
        let image = download_image(&task_state, Some(op.clone()), &args)
            .await
            .map_err(|e| e.to_string())?;
        let fingerprint = image.fingerprint.clone();
        let mut meta = serde_json::Map::new();
        meta.insert("fingerprint".into(), fingerprint.clone().into());
        meta.insert("size".into(), image.size.to_string().into());
        op.set_metadata(meta);
        let (p, f) = (project.clone(), fingerprint.clone());
        let written = task_state
            .db
            .write(move |c| {
                if req.public
                    || req.auto_update
                    || !req.filename.is_empty()
                    || !req.properties.is_empty()
                {
                    let current = lxd_db::images::get(c, &p, &f)?;
                    let mut put = current.writable();
                    put.public = req.public;
                    put.auto_update = req.auto_update;
                    put.properties.extend(req.properties.clone());
                    lxd_db::images::update(c, &p, &f, &put)?;
                    lxd_db::images::set_filename(c, &p, &f, &req.filename)?;
                }
                super::create_aliases(c, &p, &f, &req.aliases)
            })
            .await
            .map_err(|e| e.to_string())?;
        if let Some(taken) = written {
            return Err(format!("Alias already exists: {taken}"));
        }
        task_state.events.lifecycle(
            &project,
            "image-created",
            super::image_url(&fingerprint, &project),
            &args.requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
