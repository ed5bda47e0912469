//! `lxc file push` as lxc 5.0.2 does it: single files with the source's mode and owner unless
//! `--mode/--uid/--gid` say otherwise (`-` reads stdin), `-p` creating missing parents
//! (`recursiveMkdir`), `-r` walking a tree in lexical order and pushing directories, files
//! and symlinks with their own mode and owner.

use std::os::unix::fs::MetadataExt;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use lxd_client::files::InstanceFileArgs;
use lxd_client::Client;

use crate::cli::check_args;
use crate::cmd_file::{base, clean, io_text, join};
use crate::global::Ctx;

/// `lxc file push` arguments and flags.
#[derive(Debug, Args)]
pub struct PushArgs {
    args: Vec<String>,
    /// Create any directories necessary
    #[arg(short = 'p', long)]
    create_dirs: bool,
    /// Set the file's gid on push
    #[arg(long, value_name = "", default_value_t = -1, allow_negative_numbers = true)]
    gid: i64,
    /// Set the file's perms on push
    #[arg(long, value_name = "")]
    mode: Option<String>,
    /// Recursively transfer files
    #[arg(short, long)]
    recursive: bool,
    /// Set the file's uid on push
    #[arg(long, value_name = "", default_value_t = -1, allow_negative_numbers = true)]
    uid: i64,
    #[arg(skip)]
    no_mode_change: bool,
}

fn perm(m: &std::fs::Metadata) -> i64 {
    i64::from(m.mode() & 0o777)
}

/// lxc's `recursiveMkdir`: creates the missing directories of `p`, top down.
async fn recursive_mkdir(
    client: &Client,
    inst: &str,
    p: &str,
    mode: i64,
    uid: i64,
    gid: i64,
) -> Result<()> {
    if p == "/" {
        return Ok(());
    }
    let pclean = clean(p);
    let parts: Vec<&str> = pclean.split('/').collect();
    let mut i = parts.len();
    while i >= 1 {
        let cur = join(&parts[..i]);
        if let Ok(resp) = client.get_instance_file(inst, &cur).await {
            if resp.kind != "directory" {
                bail!("{cur} is not a directory");
            }
            i += 1;
            break;
        }
        i -= 1;
    }
    while i <= parts.len() {
        let cur = join(&parts[..i]);
        i += 1;
        if cur.is_empty() {
            continue;
        }
        let args = InstanceFileArgs {
            uid,
            gid,
            mode,
            kind: "directory".into(),
            ..Default::default()
        };
        client
            .create_instance_file(inst, &format!("/{cur}"), args)
            .await?;
    }
    Ok(())
}

/// lxc's `recursivePushFile`: walks `source` (symlinks not followed) in lexical order.
async fn recursive_push(client: &Client, inst: &str, source: &str, target: &str) -> Result<()> {
    let source = clean(source);
    let source_dir_len = source.rfind('/').map_or(0, |i| i + 1);
    let mut stack = vec![source.clone()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p)
            .map_err(|e| anyhow!("Failed to walk path for {p}: lstat {p}: {}", io_text(&e)))?;
        let ft = meta.file_type();
        if !ft.is_file() && !ft.is_dir() && !ft.is_symlink() {
            bail!("'{p}' isn't a supported file type");
        }
        let target_path = join(&[target, &p[source_dir_len..]]);
        let mut args = InstanceFileArgs {
            uid: i64::from(meta.uid()),
            gid: i64::from(meta.gid()),
            mode: perm(&meta),
            ..Default::default()
        };
        if ft.is_dir() {
            args.kind = "directory".into();
            let mut names: Vec<String> = std::fs::read_dir(&p)?
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect();
            names.sort();
            for n in names.iter().rev() {
                stack.push(format!("{p}/{n}"));
            }
        } else if ft.is_symlink() {
            args.kind = "symlink".into();
            args.content = std::fs::read_link(&p)?
                .to_string_lossy()
                .into_owned()
                .into_bytes()
                .into();
        } else {
            args.kind = "file".into();
            args.content = std::fs::read(&p)
                .map_err(|e| anyhow!("open {p}: {}", io_text(&e)))?
                .into();
        }
        client
            .create_instance_file(inst, &target_path, args)
            .await?;
    }
    Ok(())
}

impl PushArgs {
    /// The push `lxc file edit` runs: mode and owner left as they are.
    pub fn for_edit(args: Vec<String>) -> Self {
        Self {
            args,
            create_dirs: false,
            gid: -1,
            mode: None,
            recursive: false,
            uid: -1,
            no_mode_change: true,
        }
    }

    pub async fn run(mut self, ctx: &Ctx) -> Result<()> {
        if check_args(&["file", "push"], &self.args, 2, None)? {
            return Ok(());
        }
        let target = self.args[self.args.len() - 1].clone();
        let Some((inst_part, rest)) = target.split_once('/') else {
            bail!("Invalid target {target}");
        };
        let mut target_is_dir = target.ends_with('/');
        let target_path = clean(&format!("/{rest}"));
        if target_path.ends_with('/') {
            target_is_dir = true;
        }
        let (client, inst) = ctx.resource(inst_part).await?;
        let sources: Vec<String> = self.args[..self.args.len() - 1]
            .iter()
            .map(|s| clean(s))
            .collect();
        let mut mode: i64 = 0o755;
        if let Some(m) = self.mode.as_mut() {
            if m.len() == 3 {
                *m = format!("0{m}");
            }
            mode = lxd_client::files::parse_int_base0(m)
                .ok_or_else(|| anyhow!("strconv.ParseInt: parsing {m:?}: invalid syntax"))?;
        }
        if self.recursive {
            if self.uid != -1 || self.gid != -1 || self.mode.is_some() {
                bail!("Can't supply uid/gid/mode in recursive mode");
            }
            if self.create_dirs {
                let m = std::fs::metadata(&sources[0])
                    .map_err(|e| anyhow!("open {}: {}", sources[0], io_text(&e)))?;
                recursive_mkdir(
                    &client,
                    &inst,
                    &target_path,
                    perm(&m),
                    i64::from(m.uid()),
                    i64::from(m.gid()),
                )
                .await?;
            }
            for s in &sources {
                recursive_push(&client, &inst, s, &target_path).await?;
            }
            return Ok(());
        }
        let mut uid = self.uid.max(0);
        let mut gid = self.gid.max(0);
        if sources.len() > 1 && !target_is_dir {
            bail!("Missing target directory");
        }
        let mut files = Vec::new();
        for s in &sources {
            let name = if s == "-" {
                "/dev/stdin".to_string()
            } else {
                s.clone()
            };
            let f =
                std::fs::File::open(&name).map_err(|e| anyhow!("open {name}: {}", io_text(&e)))?;
            files.push((name, f));
        }
        for (name, f) in files {
            let fpath = if target_is_dir {
                join(&[&target_path, &base(&name)])
            } else {
                target_path.clone()
            };
            let meta = f.metadata()?;
            if self.create_dirs {
                if self.uid == -1 {
                    uid = i64::from(meta.uid());
                }
                if self.gid == -1 {
                    gid = i64::from(meta.gid());
                }
                let parent = std::path::Path::new(&fpath)
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "/".into());
                recursive_mkdir(&client, &inst, &parent, -1, uid, gid).await?;
            }
            let mut args = InstanceFileArgs {
                kind: "file".into(),
                ..Default::default()
            };
            if !self.no_mode_change {
                if self.mode.is_none() {
                    mode = perm(&meta);
                }
                if self.uid == -1 {
                    uid = i64::from(meta.uid());
                }
                if self.gid == -1 {
                    gid = i64::from(meta.gid());
                }
                args.uid = uid;
                args.gid = gid;
                args.mode = mode & 0o777;
            }
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut &f, &mut content)?;
            args.content = content.into();
            client.create_instance_file(&inst, &fpath, args).await?;
        }
        Ok(())
    }
}
