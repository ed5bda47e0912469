//! `lxc config metadata show|edit`: an instance's `metadata.yaml` through
//! `/1.0/instances/<name>/metadata`, printed and edited as lxc 5.0.2 marshals
//! `api.ImageMetadata` with yaml.v2 (nil maps as `{}`, nil lists as `[]`).

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use lxd_api::instance::InstanceMetadata;
use serde_json::{json, Map, Value};

use crate::cli::check_args;
use crate::global::Ctx;

/// Manage instance metadata files
#[derive(Debug, Args)]
pub struct MetadataCmd {
    #[command(subcommand)]
    cmd: Option<MetadataSub>,
}

/// Sub-commands of `lxc config metadata`.
#[derive(Debug, Subcommand)]
enum MetadataSub {
    /// Edit instance metadata files
    Edit { args: Vec<String> },
    /// Show instance metadata files
    Show { args: Vec<String> },
}

const EDIT_HELP: &str = "### This is a YAML representation of the instance metadata.
### Any line starting with a '# will be ignored.
###
### A sample configuration looks like:
###
### architecture: x86_64
### creation_date: 1477146654
### expiry_date: 0
### properties:
###   architecture: x86_64
###   description: BusyBox x86_64
###   name: busybox-x86_64
###   os: BusyBox
### templates:
###   /template:
###     when:
###     - \"\"
###     create_only: false
###     template: template.tpl
###     properties: {}";

use crate::go_yaml::Schema;

/// `api.ImageMetadataTemplate` for the Go-like decoder (`when` and `create_only` pass through
/// to the typed decode).
const TEMPLATE: Schema = Schema::Struct(
    "api.ImageMetadataTemplate",
    &[
        ("when", Schema::Any),
        ("create_only", Schema::Any),
        ("template", Schema::Str),
        ("properties", Schema::Map(&Schema::Str)),
    ],
);

/// `api.ImageMetadata` decoded by yaml.v2: strings and maps checked by the Go-like decoder,
/// the numbers passed through to the typed decode.
const IMAGE_METADATA: Schema = Schema::Struct(
    "api.ImageMetadata",
    &[
        ("architecture", Schema::Str),
        ("creation_date", Schema::Any),
        ("expiry_date", Schema::Any),
        ("properties", Schema::Map(&Schema::Str)),
        ("templates", Schema::Map(&TEMPLATE)),
    ],
);

/// The metadata as yaml.v2 would marshal the Go struct, field order kept.
pub fn metadata_yaml_value(m: &InstanceMetadata) -> Value {
    let map_or_empty = |m: &Option<std::collections::BTreeMap<String, String>>| {
        json!(m.clone().unwrap_or_default())
    };
    let templates: Map<String, Value> = m
        .templates
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, t)| {
            let v = json!({
                "when": t.when.clone().unwrap_or_default(),
                "create_only": t.create_only,
                "template": t.template,
                "properties": map_or_empty(&t.properties),
            });
            (k, v)
        })
        .collect();
    json!({
        "architecture": m.architecture,
        "creation_date": m.creation_date,
        "expiry_date": m.expiry_date,
        "properties": map_or_empty(&m.properties),
        "templates": templates,
    })
}

fn decode(text: &str) -> Result<InstanceMetadata> {
    if text.trim().is_empty() {
        return Ok(InstanceMetadata::default());
    }
    crate::editor::decode_yaml(text, IMAGE_METADATA)
}

async fn instance(ctx: &Ctx, raw: &str) -> Result<(lxd_client::Client, String)> {
    let (client, name) = ctx.resource(raw).await?;
    if name.is_empty() {
        bail!("Missing instance name");
    }
    Ok((client, name))
}

impl MetadataCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["config", "metadata"]);
            return Ok(());
        };
        match cmd {
            MetadataSub::Show { args } => {
                if check_args(&["config", "metadata", "show"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = instance(&ctx, &args[0]).await?;
                let (m, _) = client.get_instance_metadata(&name).await?;
                print!("{}", crate::yaml::to_yaml(&metadata_yaml_value(&m)));
                Ok(())
            }
            MetadataSub::Edit { args } => {
                if check_args(&["config", "metadata", "edit"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = instance(&ctx, &args[0]).await?;
                if !crate::editor::stdin_is_terminal() {
                    let m = decode(&crate::editor::read_stdin()?)?;
                    client.update_instance_metadata(&name, &m, "").await?;
                    return Ok(());
                }
                let (m, etag) = client.get_instance_metadata(&name).await?;
                let yaml = crate::yaml::to_yaml(&metadata_yaml_value(&m));
                crate::editor::edit_loop(EDIT_HELP, &yaml, |text| {
                    let (client, name, etag) = (client.clone(), name.clone(), etag.clone());
                    async move {
                        let m = decode(&text)?;
                        client
                            .update_instance_metadata(&name, &m, &etag)
                            .await
                            .map_err(|e| anyhow!(e))
                    }
                })
                .await
            }
        }
    }
}
