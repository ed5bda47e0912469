//! `lxc config template create|delete|edit|list|show`: the files of an instance's
//! `templates/` directory through `/1.0/instances/<name>/metadata/templates?path=`. `create`
//! always makes an empty file and `edit` writes stdin (or the editor's text) with the same
//! `POST`, as lxc 5.0.2 does against a 5.0.2 server.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::output::{render_table, sort_by_name};

/// Manage instance file templates
#[derive(Debug, Args)]
pub struct TemplateCmd {
    #[command(subcommand)]
    cmd: Option<TemplateSub>,
}

/// Sub-commands of `lxc config template`.
#[derive(Debug, Subcommand)]
enum TemplateSub {
    /// Create new instance file templates
    Create { args: Vec<String> },
    /// Delete instance file templates
    #[command(visible_alias = "rm")]
    Delete { args: Vec<String> },
    /// Edit instance file templates
    Edit { args: Vec<String> },
    /// List instance file templates
    List {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Show content of instance file templates
    Show { args: Vec<String> },
}

fn path(verb: &'static str) -> [&'static str; 3] {
    ["config", "template", verb]
}

async fn instance(ctx: &Ctx, raw: &str) -> Result<(lxd_client::Client, String)> {
    let (client, name) = ctx.resource(raw).await?;
    if name.is_empty() {
        bail!("Missing instance name");
    }
    Ok((client, name))
}

/// The interactive edit of a template: plain text, no help header; re-open on error.
async fn edit_interactive(client: &lxd_client::Client, name: &str, template: &str) -> Result<()> {
    let current = client.get_instance_template_file(name, template).await?;
    let mut content = crate::editor::text_editor(&String::from_utf8_lossy(&current))?;
    loop {
        let body = content.clone().into_bytes();
        match client
            .create_instance_template_file(name, template, body)
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) => {
                eprintln!("Error updating template file: {e}");
                println!("Press enter to start the editor again");
                let mut buf = [0u8; 1];
                std::io::Read::read_exact(&mut std::io::stdin(), &mut buf)?;
                content = crate::editor::text_editor(&content)?;
            }
        }
    }
}

impl TemplateCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["config", "template"]);
            return Ok(());
        };
        match cmd {
            TemplateSub::Create { args } => {
                if check_args(&path("create"), &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = instance(&ctx, &args[0]).await?;
                client
                    .create_instance_template_file(&name, &args[1], Vec::new())
                    .await?;
                Ok(())
            }
            TemplateSub::Delete { args } => {
                if check_args(&path("delete"), &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = instance(&ctx, &args[0]).await?;
                client
                    .delete_instance_template_file(&name, &args[1])
                    .await?;
                Ok(())
            }
            TemplateSub::Edit { args } => {
                if check_args(&path("edit"), &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = instance(&ctx, &args[0]).await?;
                if !crate::editor::stdin_is_terminal() {
                    let mut data = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin(), &mut data)?;
                    client
                        .create_instance_template_file(&name, &args[1], data)
                        .await?;
                    return Ok(());
                }
                edit_interactive(&client, &name, &args[1]).await
            }
            TemplateSub::List { args, format } => {
                if check_args(&path("list"), &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = instance(&ctx, &args[0]).await?;
                let names = client.get_instance_template_names(&name).await?;
                let mut rows: Vec<Vec<String>> = names.iter().map(|n| vec![n.clone()]).collect();
                sort_by_name(&mut rows);
                render_table(&format, &["FILENAME"], &rows, &json!(names))
            }
            TemplateSub::Show { args } => {
                if check_args(&path("show"), &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = instance(&ctx, &args[0]).await?;
                let content = client.get_instance_template_file(&name, &args[1]).await?;
                use std::io::Write;
                std::io::stdout().write_all(&content)?;
                Ok(())
            }
        }
    }
}
