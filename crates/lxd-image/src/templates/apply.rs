//! Writing rendered templates into an instance's rootfs without following any symlink in it:
//! parents are walked with `O_NOFOLLOW`, the output is opened with `O_NOFOLLOW`, created
//! files and directories belong to the container's root, existing files keep their owner.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;

use super::{render, should_write, templates_for, InstanceInfo, TemplateError, Trigger};
use crate::metadata::{ImageMetadata, ImageMetadataTemplate};
use crate::unpack::confined::{Confined, WalkError};

/// Where templates are applied.
#[derive(Debug, Clone, Copy)]
pub struct TemplateTarget<'a> {
    pub rootfs: &'a Path,
    /// The instance's `templates/` directory.
    pub templates: &'a Path,
    /// Host uid/gid of the container's root, owner of created files and directories.
    pub root_owner: (u32, u32),
}

/// Apply the templates of `metadata` that fire on `trigger`; returns the paths written.
pub fn apply_templates(
    target: &TemplateTarget<'_>,
    metadata: &ImageMetadata,
    trigger: Trigger,
    instance: &InstanceInfo,
) -> Result<Vec<String>, TemplateError> {
    let mut written = Vec::new();
    let mut rootfs = Confined::open(target.rootfs).map_err(|source| TemplateError::Write {
        path: target.rootfs.display().to_string(),
        source,
    })?;
    for (path, template) in templates_for(metadata, trigger) {
        let applied = apply_one(&mut rootfs, target, path, template, trigger, instance);
        match applied {
            Ok(true) => written.push(path.clone()),
            Ok(false) => {}
            Err(e) => {
                return Err(TemplateError::Apply {
                    template: template.template.clone(),
                    path: path.clone(),
                    source: Box::new(e),
                })
            }
        }
    }
    Ok(written)
}

fn apply_one(
    rootfs: &mut Confined,
    target: &TemplateTarget<'_>,
    path: &str,
    template: &ImageMetadataTemplate,
    trigger: Trigger,
    instance: &InstanceInfo,
) -> Result<bool, TemplateError> {
    let name = Path::new(&template.template);
    if !matches!(
        name.components().collect::<Vec<_>>().as_slice(),
        [Component::Normal(_)]
    ) {
        return Err(TemplateError::BadTemplateName(template.template.clone()));
    }
    let source_path = target.templates.join(name);
    let source = std::fs::read_to_string(&source_path).map_err(|source| TemplateError::Read {
        path: source_path.display().to_string(),
        source,
    })?;
    let write_error = |source: io::Error| TemplateError::Write {
        path: path.to_string(),
        source,
    };
    let components: Vec<&OsStr> = Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect();
    let Some((file_name, parents)) = components.split_last() else {
        return Err(write_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "empty path",
        )));
    };
    if Path::new(path)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(write_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "\"..\" in path",
        )));
    }
    let mut created = Vec::new();
    let parent = rootfs
        .open_dir(parents, true, &mut created)
        .map_err(|e| match e {
            WalkError::NotADirectory(component) => TemplateError::ThroughSymlink {
                path: path.to_string(),
                component,
            },
            WalkError::Io(source) => write_error(source),
        })?;
    let (uid, gid) = target.root_owner;
    for dir in &created {
        std::os::unix::fs::lchown(target.rootfs.join(dir), Some(uid), Some(gid))
            .map_err(write_error)?;
    }
    let exists = match nix::sys::stat::fstatat(
        &parent,
        *file_name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(_) => true,
        Err(Errno::ENOENT) => false,
        Err(e) => return Err(write_error(e.into())),
    };
    if !should_write(template, exists) {
        return Ok(false);
    }
    let rendered = render(&source, instance, trigger, path, &template.properties)?;
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd =
        openat(&parent, *file_name, flags, Mode::from_bits_truncate(0o644)).map_err(
            |e| match e {
                Errno::ELOOP => TemplateError::ThroughSymlink {
                    path: path.to_string(),
                    component: path.to_string(),
                },
                other => write_error(other.into()),
            },
        )?;
    let mut file = File::from(fd);
    if !exists {
        nix::unistd::fchown(&file, Some(uid.into()), Some(gid.into()))
            .map_err(|e| write_error(e.into()))?;
        nix::sys::stat::fchmod(&file, Mode::from_bits_truncate(0o644))
            .map_err(|e| write_error(e.into()))?;
    }
    file.write_all(rendered.as_bytes()).map_err(write_error)?;
    Ok(true)
}
