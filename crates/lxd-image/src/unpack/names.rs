//! Archive entry names: normalisation and the checks that keep them inside the target.
//!
//! A name becomes a list of plain components: leading `./` and empty or `.` components are
//! dropped; an absolute name or a `..` component is refused. The image layout then selects
//! and strips the part of the tree being extracted (`rootfs/`). Pure functions, no I/O.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Which part of an image tarball is extracted, and where it lands in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Every entry, at its own path (LXD's unpack of a unified image into the instance
    /// volume, or of a split image's rootfs tarball into `rootfs/`).
    #[default]
    Whole,
    /// Only entries under `rootfs/`, with that prefix stripped.
    Rootfs,
    /// Everything but the rootfs (`metadata.yaml`, `templates/` ...).
    Metadata,
}

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Absolute,
    ParentDir,
}

/// An entry name split into checked components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryName<'a> {
    pub components: Vec<&'a OsStr>,
}

impl EntryName<'_> {
    /// The name as a relative path.
    #[cfg(test)]
    pub fn display(&self) -> String {
        let parts: Vec<_> = self
            .components
            .iter()
            .map(|c| c.to_string_lossy())
            .collect();
        parts.join("/")
    }
}

/// Split and check a raw entry name.
pub fn parse_name(raw: &[u8]) -> Result<EntryName<'_>, NameProblem> {
    if raw.first() == Some(&b'/') {
        return Err(NameProblem::Absolute);
    }
    let mut components = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => continue,
            b".." => return Err(NameProblem::ParentDir),
            other => components.push(OsStr::from_bytes(other)),
        }
    }
    Ok(EntryName { components })
}

/// Map a checked name through `layout`; `None` when the entry is not part of the selection.
pub fn select<'a>(name: EntryName<'a>, layout: Layout) -> Option<EntryName<'a>> {
    let is_rootfs = |c: &&OsStr| c.as_bytes() == b"rootfs" || c.as_bytes() == b"rootfs.img";
    match layout {
        Layout::Whole => Some(name),
        Layout::Rootfs => {
            if name.components.first().map(|c| c.as_bytes()) != Some(b"rootfs") {
                return None;
            }
            Some(EntryName {
                components: name.components[1..].to_vec(),
            })
        }
        Layout::Metadata => match name.components.first() {
            Some(first) if is_rootfs(first) => None,
            _ => Some(name),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(raw: &str) -> Vec<String> {
        parse_name(raw.as_bytes())
            .unwrap()
            .components
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn parse_name_dot_prefixes_and_empty_parts_dropped() {
        assert_eq!(parts("./rootfs//bin/./sh"), ["rootfs", "bin", "sh"]);
        assert!(parts("./").is_empty());
    }

    #[test]
    fn parse_name_absolute_refused() {
        assert_eq!(parse_name(b"/etc/passwd"), Err(NameProblem::Absolute));
    }

    #[test]
    fn parse_name_parent_dir_anywhere_refused() {
        assert_eq!(parse_name(b"../x"), Err(NameProblem::ParentDir));
        assert_eq!(parse_name(b"rootfs/a/../../x"), Err(NameProblem::ParentDir));
    }

    #[test]
    fn parse_name_dots_inside_names_allowed() {
        assert_eq!(
            parts("rootfs/..hidden/a..b"),
            ["rootfs", "..hidden", "a..b"]
        );
    }

    #[test]
    fn select_rootfs_layout_strips_prefix_and_skips_rest() {
        let name = parse_name(b"rootfs/etc/hosts").unwrap();
        assert_eq!(select(name, Layout::Rootfs).unwrap().display(), "etc/hosts");
        let name = parse_name(b"templates/x.tpl").unwrap();
        assert!(select(name, Layout::Rootfs).is_none());
    }

    #[test]
    fn select_metadata_layout_skips_rootfs() {
        let name = parse_name(b"rootfs/etc/hosts").unwrap();
        assert!(select(name, Layout::Metadata).is_none());
        let name = parse_name(b"templates/x.tpl").unwrap();
        assert!(select(name, Layout::Metadata).is_some());
    }
}
