//! `lxc file delete|pull|edit|mount` (push lives in `cmd_file_push.rs`) as lxc 5.0.2 does
//! them over the files API: pull writes files with the instance's mode, recreates symlinks (or
//! follows them for `-` and `-r`), pulls directories with `-r`; edit pulls into a temp file,
//! runs the editor and pushes back without changing mode or owner (stdin, when not a terminal,
//! is pushed directly). Paths are handled with Go's `path.Clean` rules.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use lxd_client::Client;

use crate::cli::check_args;
use crate::cmd_file_push::PushArgs;
use crate::global::Ctx;

/// Manage files in instances
#[derive(Debug, Args)]
pub struct FileCmd {
    #[command(subcommand)]
    cmd: Option<FileSub>,
}

/// Sub-commands of `lxc file`.
#[derive(Debug, Subcommand)]
enum FileSub {
    /// Delete files in instances
    #[command(visible_alias = "rm")]
    Delete { args: Vec<String> },
    /// Edit files in instances
    Edit { args: Vec<String> },
    /// Mount files from instances
    Mount {
        args: Vec<String>,
        /// Set authentication user when using SSH SFTP listener
        #[arg(long, value_name = "string")]
        auth_user: Option<String>,
        /// Setup SSH SFTP listener on address:port instead of mounting
        #[arg(long, value_name = "string")]
        listen: Option<String>,
        /// Disable authentication when using SSH SFTP listener
        #[arg(long)]
        no_auth: bool,
    },
    /// Pull files from instances
    Pull {
        args: Vec<String>,
        /// Create any directories necessary
        #[arg(short = 'p', long)]
        create_dirs: bool,
        /// Recursively transfer files
        #[arg(short, long)]
        recursive: bool,
    },
    /// Push files into instances
    Push(PushArgs),
}

/// A Go error text for an I/O error (`no such file or directory`).
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or_default();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`.
pub fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go's `path.Join`.
pub fn join(parts: &[&str]) -> String {
    let kept: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if kept.is_empty() {
        return String::new();
    }
    clean(&kept.join("/"))
}

fn set_mode(path: &str, mode: i64) -> Result<()> {
    let mode = u32::try_from(mode & 0o7777).unwrap_or(0);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| anyhow!("chmod {path}: {}", io_text(&e)))
}

fn create_file(path: &str, mode: i64, content: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|e| anyhow!("open {path}: {}", io_text(&e)))?;
    set_mode(path, mode)?;
    f.write_all(content)?;
    Ok(())
}

fn symlink(target: &[u8], path: &str) -> Result<()> {
    let target = String::from_utf8_lossy(target).trim().to_string();
    std::os::unix::fs::symlink(&target, path)
        .map_err(|e| anyhow!("symlink {target} {path}: {}", io_text(&e)))
}

fn mkdir_all(path: &str) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(path)
        .map_err(|e| anyhow!("mkdir {path}: {}", io_text(&e)))
}

use std::os::unix::fs::DirBuilderExt;

/// lxc's `recursivePullFile`.
async fn recursive_pull(client: &Client, inst: &str, p: &str, target_dir: &str) -> Result<()> {
    let resp = client.get_instance_file(inst, p).await?;
    let target = join(&[target_dir, &base(p)]);
    match resp.kind.as_str() {
        "directory" => {
            std::fs::DirBuilder::new()
                .mode(u32::try_from(resp.mode & 0o777).unwrap_or(0o755))
                .create(&target)
                .map_err(|e| anyhow!("mkdir {target}: {}", io_text(&e)))?;
            for ent in &resp.entries {
                Box::pin(recursive_pull(client, inst, &join(&[p, ent]), &target)).await?;
            }
        }
        "file" => create_file(&target, resp.mode, &resp.content)?,
        "symlink" => symlink(&resp.content, &target)?,
        other => bail!("Unknown file type '{other}'"),
    }
    Ok(())
}

/// `lxc file pull`.
pub async fn pull(
    ctx: &Ctx,
    args: &[String],
    mkdir: bool,
    recursive: bool,
    edit: bool,
) -> Result<()> {
    if !edit && check_args(&["file", "pull"], args, 2, None)? {
        return Ok(());
    }
    let last = &args[args.len() - 1];
    let target = clean(last);
    let sources = &args[..args.len() - 1];
    let mut target_is_dir = false;
    match std::fs::metadata(&target) {
        Ok(m) => {
            target_is_dir = m.is_dir();
            if !target_is_dir && sources.len() > 1 {
                bail!("More than one file to download, but target is not a directory");
            }
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            bail!("stat {target}: {}", io_text(&e))
        }
        Err(_) if last.ends_with('/') || sources.len() > 1 => {
            mkdir_all(&target)?;
            target_is_dir = true;
        }
        Err(_) if mkdir => {
            let parent = std::path::Path::new(&target)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            if !parent.is_empty() {
                mkdir_all(&parent)?;
            }
        }
        Err(_) => {}
    }
    let mut resources = Vec::new();
    for s in sources {
        resources.push(ctx.resource(s).await?);
    }
    for (client, name) in resources {
        let Some((inst, path)) = name.split_once('/') else {
            bail!("Invalid source {name}");
        };
        let mut resp = client.get_instance_file(inst, path).await?;
        if resp.kind == "directory" {
            if !recursive {
                bail!("Can't pull a directory without --recursive");
            }
            if std::fs::symlink_metadata(&target).is_err() {
                mkdir_all(&target)?;
                target_is_dir = true;
            }
            recursive_pull(&client, inst, path, &target).await?;
            continue;
        }
        let target_path = if target_is_dir {
            join(&[&target, &base(path)])
        } else {
            target.clone()
        };
        if resp.kind == "symlink" {
            if target_path == "-" || recursive {
                let mut link = resp.content.clone();
                let mut hops = 0;
                loop {
                    let text = String::from_utf8_lossy(&link)
                        .trim_end_matches('\n')
                        .to_string();
                    let next = if text.starts_with('/') {
                        text
                    } else {
                        clean(&format!(
                            "{}/{text}",
                            std::path::Path::new(path)
                                .parent()
                                .map(|p| p.display().to_string())
                                .unwrap_or_default()
                        ))
                    };
                    resp = client.get_instance_file(inst, &next).await?;
                    if resp.kind != "symlink" {
                        break;
                    }
                    hops += 1;
                    if hops > 255 {
                        bail!("Too many links");
                    }
                    link = resp.content.clone();
                }
            } else {
                symlink(&resp.content, &target_path)?;
                continue;
            }
        }
        if target_path == "-" {
            let mut out = std::io::stdout().lock();
            out.write_all(&resp.content)?;
            out.flush()?;
        } else {
            create_file(&target_path, resp.mode, &resp.content)?;
        }
    }
    Ok(())
}

impl FileCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["file"]);
            return Ok(());
        };
        match cmd {
            FileSub::Delete { args } => {
                if check_args(&["file", "delete"], &args, 1, None)? {
                    return Ok(());
                }
                let mut resources = Vec::new();
                for a in &args {
                    resources.push(ctx.resource(a).await?);
                }
                for (client, name) in resources {
                    let Some((inst, path)) = name.split_once('/') else {
                        bail!("Invalid path {name}");
                    };
                    client.delete_instance_file(inst, path).await?;
                }
                Ok(())
            }
            FileSub::Pull {
                args,
                create_dirs,
                recursive,
            } => pull(&ctx, &args, create_dirs, recursive, false).await,
            FileSub::Push(p) => p.run(&ctx).await,
            FileSub::Edit { args } => edit(&ctx, &args).await,
            FileSub::Mount { args, .. } => {
                if check_args(&["file", "mount"], &args, 1, Some(2))? {
                    return Ok(());
                }
                bail!("Mounting instance files is not supported by this client yet")
            }
        }
    }
}

/// `lxc file edit`.
async fn edit(ctx: &Ctx, args: &[String]) -> Result<()> {
    if check_args(&["file", "edit"], args, 1, Some(1))? {
        return Ok(());
    }
    if !crate::editor::stdin_is_terminal() {
        return PushArgs::for_edit(vec!["/dev/stdin".into(), args[0].clone()])
            .run(ctx)
            .await;
    }
    let fname = std::env::temp_dir().join(format!("lxd_file_edit_{}", std::process::id()));
    let fname = fname.display().to_string();
    let res = async {
        pull(ctx, &[args[0].clone(), fname.clone()], false, false, true).await?;
        crate::editor::edit_file(&fname)?;
        PushArgs::for_edit(vec![fname.clone(), args[0].clone()])
            .run(ctx)
            .await
    }
    .await;
    let _ = std::fs::remove_file(&fname);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_dots_and_slashes_are_removed() {
        assert_eq!(clean("/a/./b/../c//"), "/a/c");
        assert_eq!(clean("a/.."), ".");
        assert_eq!(clean("/.."), "/");
    }

    #[test]
    fn base_and_join_follow_go_path() {
        assert_eq!(base("/etc/hosts/"), "hosts");
        assert_eq!(join(&["/root", "x"]), "/root/x");
        assert_eq!(join(&["", "a", "b"]), "a/b");
    }
}
