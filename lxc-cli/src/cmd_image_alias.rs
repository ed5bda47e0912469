//! `lxc image alias`: create, delete, list and rename image aliases. `list` filters rows by
//! name or target substring (any filter matches) but, like lxc, prints every alias in JSON and
//! YAML.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use lxd_api::image::ImageAliasesPost;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::output::{render_table, sort_string_list};

/// Manage image aliases
#[derive(Debug, Args)]
pub struct ImageAliasCmd {
    #[command(subcommand)]
    cmd: Option<AliasSub>,
}

/// Sub-commands of `lxc image alias`.
#[derive(Debug, Subcommand)]
enum AliasSub {
    /// Create aliases for existing images
    Create { args: Vec<String> },
    /// Delete image aliases
    #[command(visible_alias = "rm")]
    Delete { args: Vec<String> },
    /// List image aliases
    #[command(visible_alias = "ls")]
    List {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Rename aliases
    #[command(visible_alias = "mv")]
    Rename { args: Vec<String> },
}

async fn named(ctx: &Ctx, raw: &str) -> Result<(lxd_client::Client, String)> {
    let (client, name) = ctx.resource(raw).await?;
    if name.is_empty() {
        bail!("Alias name missing");
    }
    Ok((client, name))
}

impl ImageAliasCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["image", "alias"]);
            return Ok(());
        };
        match cmd {
            AliasSub::Create { args } => {
                if check_args(&["image", "alias", "create"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let post = ImageAliasesPost {
                    name,
                    target: args[1].clone(),
                    ..Default::default()
                };
                client.create_image_alias(&post).await?;
                Ok(())
            }
            AliasSub::Delete { args } => {
                if check_args(&["image", "alias", "delete"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                client.delete_image_alias(&name).await?;
                Ok(())
            }
            AliasSub::Rename { args } => {
                if check_args(&["image", "alias", "rename"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                client.rename_image_alias(&name, &args[1]).await?;
                Ok(())
            }
            AliasSub::List { args, format } => {
                if check_args(&["image", "alias", "list"], &args, 0, None)? {
                    return Ok(());
                }
                let first = args.first().map(String::as_str).unwrap_or("");
                let (remote, name) = ctx.conf.parse_remote(first)?;
                let server = ctx.image_server(&remote).await?;
                let mut filters = Vec::new();
                if !name.is_empty() {
                    filters.push(name);
                }
                filters.extend(args.iter().skip(1).cloned());
                let aliases = server.aliases().await?;
                let mut rows: Vec<Vec<String>> = aliases
                    .iter()
                    .filter(|a| {
                        filters.is_empty()
                            || filters.iter().any(|f| {
                                a.name.contains(f.as_str()) || a.target.contains(f.as_str())
                            })
                    })
                    .map(|a| {
                        let kind = if a.kind.is_empty() {
                            "container"
                        } else {
                            &a.kind
                        };
                        vec![
                            a.name.clone(),
                            a.target.chars().take(12).collect(),
                            kind.to_uppercase(),
                            a.description.clone(),
                        ]
                    })
                    .collect();
                sort_string_list(&mut rows);
                render_table(
                    &format,
                    &["ALIAS", "FINGERPRINT", "TYPE", "DESCRIPTION"],
                    &rows,
                    &serde_json::to_value(&aliases)?,
                )
            }
        }
    }
}
