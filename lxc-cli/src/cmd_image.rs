//! `lxc image`: the clap tree and the small verbs (info, show, edit, delete, refresh,
//! get/set/unset-property). Listing is in `cmd_image_list.rs`, import/export in
//! `cmd_image_transfer.rs`, aliases in `cmd_image_alias.rs`, copies between servers in
//! `cmd_image_copy.rs`.

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use lxd_api::image::Image;
use lxd_client::Client;
use serde_json::Value;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::image_server::ImageServer;
use crate::yaml::{sort_maps_at, to_yaml_with_times};

/// Manage images
#[derive(Debug, Args)]
pub struct ImageCmd {
    #[command(subcommand)]
    cmd: Option<ImageSub>,
}

/// Sub-commands of `lxc image`.
#[derive(Debug, Subcommand)]
enum ImageSub {
    /// Manage image aliases
    Alias(crate::cmd_image_alias::ImageAliasCmd),
    /// Copy images between servers
    #[command(visible_alias = "cp")]
    Copy {
        args: Vec<String>,
        /// New aliases to add to the image
        #[arg(long = "alias", value_name = "")]
        aliases: Vec<String>,
        /// Keep the image up to date after initial copy
        #[arg(long)]
        auto_update: bool,
        /// Copy aliases from source
        #[arg(long)]
        copy_aliases: bool,
        /// Transfer mode. One of pull (default), push or relay
        #[arg(long, default_value = "pull", value_name = "")]
        mode: String,
        /// Make image public
        #[arg(long)]
        public: bool,
        /// Copy to a project different from the source
        #[arg(long, default_value = "", value_name = "")]
        target_project: String,
        /// Copy virtual machine images
        #[arg(long)]
        vm: bool,
    },
    /// Delete images
    #[command(visible_alias = "rm")]
    Delete { args: Vec<String> },
    /// Edit image properties
    Edit { args: Vec<String> },
    /// Export and download images
    Export {
        args: Vec<String>,
        /// Query virtual machine images
        #[arg(long)]
        vm: bool,
    },
    /// Get image properties
    GetProperty { args: Vec<String> },
    /// Import images into the image store
    Import {
        args: Vec<String>,
        /// New aliases to add to the image
        #[arg(long = "alias", value_name = "")]
        aliases: Vec<String>,
        /// Make image public
        #[arg(long)]
        public: bool,
    },
    /// Show useful information about images
    Info {
        args: Vec<String>,
        /// Query virtual machine images
        #[arg(long)]
        vm: bool,
    },
    /// List images
    #[command(visible_alias = "ls")]
    List {
        args: Vec<String>,
        /// Columns
        #[arg(short, long, default_value = "lfpdatsu", value_name = "")]
        columns: String,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Refresh images
    Refresh { args: Vec<String> },
    /// Set image properties
    SetProperty { args: Vec<String> },
    /// Show image properties
    Show {
        args: Vec<String>,
        /// Query virtual machine images
        #[arg(long)]
        vm: bool,
    },
    /// Unset image properties
    UnsetProperty { args: Vec<String> },
}

const EDIT_HELP: &str = "### This is a YAML representation of the image properties.
### Any line starting with a '# will be ignored.
###
### Each property is represented by a single line:
### An example would be:
###  description: My custom image";

/// Keys of `api.Image` that are Go `time.Time` (written plain by yaml.v2).
pub const TIME_KEYS: &[&str] = &["expires_at", "created_at", "last_used_at", "uploaded_at"];

/// lxc's `dereferenceAlias`: the alias target, or the name itself when it is no alias (of
/// `kind`, when given). An empty name means `default`.
pub async fn dereference_alias(client: &Client, kind: &str, name: &str) -> String {
    let name = if name.is_empty() { "default" } else { name };
    match client.get_image_alias(name).await {
        Ok((alias, _)) if kind.is_empty() || alias.kind == kind => alias.target,
        _ => name.to_string(),
    }
}

fn vm_kind(vm: bool) -> &'static str {
    if vm {
        "virtual-machine"
    } else {
        ""
    }
}

/// Connects to the image server of `[<remote>:]<image>` (public and simplestreams remotes
/// included) and resolves the image name.
async fn resolve(ctx: &Ctx, raw: &str, kind: &str) -> Result<(ImageServer, String)> {
    let (remote, name) = ctx.conf.parse_remote(raw)?;
    let server = ctx.image_server(&remote).await?;
    let fp = server.dereference_alias(kind, &name).await;
    Ok((server, fp))
}

/// Like [`resolve`] for commands that refuse an empty name with `message`.
async fn resolve_named(ctx: &Ctx, raw: &str, message: &str) -> Result<(Client, String)> {
    let (client, name) = ctx.resource(raw).await?;
    if name.is_empty() {
        bail!("{message}");
    }
    let fp = dereference_alias(&client, "", &name).await;
    Ok((client, fp))
}

/// The `api.ImagePut` of an image as the JSON value `show` and `edit` print.
fn writable_value(image: &Image) -> Value {
    let mut v = serde_json::to_value(image.writable()).unwrap_or_default();
    sort_maps_at(&mut v, &["properties"]);
    v
}

impl ImageCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["image"]);
            return Ok(());
        };
        match cmd {
            ImageSub::Alias(c) => c.run(ctx).await,
            ImageSub::List {
                args,
                columns,
                format,
            } => crate::cmd_image_list::run(&ctx, &args, &columns, &format).await,
            ImageSub::Copy {
                args,
                aliases,
                auto_update,
                copy_aliases,
                mode,
                public,
                target_project,
                vm,
            } => {
                let flags = crate::cmd_image_copy::CopyFlags {
                    aliases,
                    auto_update,
                    copy_aliases,
                    mode,
                    public,
                    target_project,
                    vm,
                };
                crate::cmd_image_copy::run(&ctx, &args, &flags).await
            }
            ImageSub::Import {
                args,
                aliases,
                public,
            } => crate::cmd_image_transfer::import(&ctx, &args, &aliases, public).await,
            ImageSub::Export { args, vm } => {
                crate::cmd_image_transfer::export(&ctx, &args, vm_kind(vm)).await
            }
            ImageSub::Info { args, vm } => {
                if check_args(&["image", "info"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (server, fp) = resolve(&ctx, &args[0], vm_kind(vm)).await?;
                let image = server.image(&fp).await?;
                print!("{}", crate::image_view::info_text(&image));
                Ok(())
            }
            ImageSub::Show { args, vm } => {
                if check_args(&["image", "show"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (server, fp) = resolve(&ctx, &args[0], vm_kind(vm)).await?;
                let image = server.image(&fp).await?;
                print!("{}", to_yaml_with_times(&writable_value(&image), TIME_KEYS));
                Ok(())
            }
            ImageSub::GetProperty { args } => {
                if check_args(&["image", "get-property"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (server, fp) = resolve(&ctx, &args[0], "").await?;
                let image = server.image(&fp).await?;
                let value = image
                    .properties
                    .get(&args[1])
                    .ok_or_else(|| anyhow!("Property not found"))?;
                println!("{value}");
                Ok(())
            }
            ImageSub::SetProperty { args } => {
                if check_args(&["image", "set-property"], &args, 3, Some(3))? {
                    return Ok(());
                }
                set_property(&ctx, &args[0], &args[1], Some(&args[2])).await
            }
            ImageSub::UnsetProperty { args } => {
                if check_args(&["image", "unset-property"], &args, 2, Some(2))? {
                    return Ok(());
                }
                set_property(&ctx, &args[0], &args[1], None).await
            }
            ImageSub::Delete { args } => {
                if check_args(&["image", "delete"], &args, 1, None)? {
                    return Ok(());
                }
                for raw in &args {
                    let (client, fp) = resolve_named(&ctx, raw, "Image identifier missing").await?;
                    client.delete_image(&fp).await?;
                }
                Ok(())
            }
            ImageSub::Refresh { args } => {
                if check_args(&["image", "refresh"], &args, 1, None)? {
                    return Ok(());
                }
                for raw in &args {
                    refresh(&ctx, raw).await?;
                }
                Ok(())
            }
            ImageSub::Edit { args } => {
                if check_args(&["image", "edit"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let missing = format!("Image identifier missing: {}", args[0]);
                let (client, fp) = resolve_named(&ctx, &args[0], &missing).await?;
                edit(&client, &fp).await
            }
        }
    }
}

async fn set_property(ctx: &Ctx, raw: &str, key: &str, value: Option<&str>) -> Result<()> {
    let missing = format!("Image identifier missing: {raw}");
    let (client, fp) = resolve_named(ctx, raw, &missing).await?;
    let (image, etag) = client.get_image(&fp).await?;
    let mut put = image.writable();
    match value {
        Some(v) => {
            put.properties.insert(key.to_string(), v.to_string());
        }
        None => {
            put.properties.remove(key);
        }
    }
    client.update_image(&fp, &put, &etag).await?;
    Ok(())
}

async fn refresh(ctx: &Ctx, raw: &str) -> Result<()> {
    let (client, fp) = resolve_named(ctx, raw, "Image identifier missing").await?;
    let progress =
        crate::progress::ProgressRenderer::shared("Refreshing the image: ", ctx.flags.quiet);
    let op = client.refresh_image(&fp).await?;
    let p = progress.clone();
    let op = client
        .wait_operation_with_progress(&op.id, move |t| crate::progress::update_shared(&p, t))
        .await?;
    let refreshed = op
        .metadata
        .as_ref()
        .and_then(|m| m.get("refreshed"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let msg = if refreshed {
        "Image refreshed successfully!"
    } else {
        "Image already up to date."
    };
    crate::progress::done_shared(&progress, msg);
    Ok(())
}

async fn edit(client: &Client, fp: &str) -> Result<()> {
    if !crate::editor::stdin_is_terminal() {
        let put = crate::image_view::decode_image_put(&crate::editor::read_stdin()?)?;
        client.update_image_value(fp, &put, "").await?;
        return Ok(());
    }
    let (image, etag) = client.get_image(fp).await?;
    let yaml = to_yaml_with_times(&writable_value(&image), TIME_KEYS);
    crate::editor::edit_loop(EDIT_HELP, &yaml, |text| {
        let (client, fp, etag) = (client.clone(), fp.to_string(), etag.clone());
        async move {
            let put = crate::image_view::decode_image_put(&text)?;
            client.update_image_value(&fp, &put, &etag).await?;
            Ok(())
        }
    })
    .await
}
