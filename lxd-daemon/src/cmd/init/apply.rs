//! Applying a preseed through the API: existing entities are replaced (PUT), missing ones
//! created (POST); on failure every change made so far is undone.

use std::path::Path;

use anyhow::Context;
use serde_json::{json, Value};

use super::preseed::{Entry, Preseed};
use crate::cmd::local::request;

/// An undo step.
enum Undo {
    Delete(String),
    Put(String, Value),
}

/// Apply `preseed` to the daemon behind `socket`.
pub async fn apply(socket: &Path, preseed: &Preseed) -> anyhow::Result<()> {
    let mut undo = Vec::new();
    let result = apply_all(socket, preseed, &mut undo).await;
    if result.is_err() {
        for step in undo.into_iter().rev() {
            let _ = match step {
                Undo::Delete(url) => request(socket, "DELETE", &url, None).await,
                Undo::Put(url, body) => request(socket, "PUT", &url, Some(&body)).await,
            };
        }
    }
    result
}

async fn apply_all(socket: &Path, preseed: &Preseed, undo: &mut Vec<Undo>) -> anyhow::Result<()> {
    if !preseed.config.is_empty() {
        let old = request(socket, "GET", "/1.0", None).await?;
        request(
            socket,
            "PATCH",
            "/1.0",
            Some(&json!({ "config": preseed.config })),
        )
        .await
        .context("Failed to update server configuration")?;
        undo.push(Undo::Put("/1.0".into(), json!({ "config": old["config"] })));
    }
    for pool in &preseed.storage_pools {
        let body = json!({ "config": pool.config, "description": pool.description });
        let create = json!({ "name": pool.name, "driver": pool.driver.clone().unwrap_or_else(|| "dir".into()), "config": pool.config, "description": pool.description });
        upsert(socket, "/1.0/storage-pools", pool, body, create, undo)
            .await
            .with_context(|| format!("Failed to create storage pool {:?}", pool.name))?;
    }
    for project in &preseed.projects {
        let body = json!({ "config": project.config, "description": project.description });
        let create = json!({ "name": project.name, "config": project.config, "description": project.description });
        upsert(socket, "/1.0/projects", project, body, create, undo)
            .await
            .with_context(|| format!("Failed to create project {:?}", project.name))?;
    }
    for profile in &preseed.profiles {
        let devices = profile.devices.clone().unwrap_or_default();
        let body = json!({ "config": profile.config, "description": profile.description, "devices": devices });
        let create = json!({ "name": profile.name, "config": profile.config, "description": profile.description, "devices": devices });
        upsert(socket, "/1.0/profiles", profile, body, create, undo)
            .await
            .with_context(|| format!("Failed to create profile {:?}", profile.name))?;
    }
    Ok(())
}

async fn upsert(
    socket: &Path,
    collection: &str,
    entry: &Entry,
    put: Value,
    create: Value,
    undo: &mut Vec<Undo>,
) -> anyhow::Result<()> {
    let url = format!("{collection}/{}", entry.name);
    match request(socket, "GET", &url, None).await {
        Ok(old) => {
            let mut put = put;
            // Keep a pool's source: it cannot change after creation.
            if let (Some(src), Some(cfg)) =
                (old["config"].get("source"), put["config"].as_object_mut())
            {
                cfg.entry("source").or_insert(src.clone());
            }
            request(socket, "PUT", &url, Some(&put)).await?;
            let restore = json!({ "config": old["config"], "description": old["description"], "devices": old.get("devices").cloned().unwrap_or(Value::Null) });
            undo.push(Undo::Put(url, restore));
        }
        Err(_) => {
            request(socket, "POST", collection, Some(&create)).await?;
            undo.push(Undo::Delete(url));
        }
    }
    Ok(())
}
