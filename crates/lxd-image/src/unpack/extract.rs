//! The entry loop of an unpack: each tar entry checked, then created through [`Confined`].
//!
//! Directory modes and mtimes are applied last (children would change the mtime and a
//! read-only directory would block them); everything created is recorded so a failed unpack
//! can remove it. Archive parsing is the `tar` crate's; no path here is ever joined to the
//! target and opened by name.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{makedev, mkdirat, mknodat, Mode, SFlag};

use super::confined::{set_attributes_at, set_attributes_fd, Confined, WalkError};
use super::names::{parse_name, select, EntryName, NameProblem};
use super::{DevicePolicy, UnpackError, UnpackOptions, UnpackProgress, UnpackSummary};

/// The char devices every container has: null, zero, full, random, urandom, tty, console,
/// ptmx.
const STANDARD_DEVICES: [(u32, u32); 8] = [
    (1, 3),
    (1, 5),
    (1, 7),
    (1, 8),
    (1, 9),
    (5, 0),
    (5, 1),
    (5, 2),
];

type Owner = Option<(u32, u32)>;

/// One unpack in progress.
pub struct Extraction<'a> {
    fs: Confined,
    options: UnpackOptions,
    counter: &'a AtomicU64,
    total: u64,
    progress: &'a mut dyn FnMut(UnpackProgress),
    reported: u64,
    created: Vec<PathBuf>,
    dirs: Vec<(Vec<OsString>, u32, u64)>,
    root_attributes: Option<(Owner, u32, u64)>,
    summary: UnpackSummary,
}

impl<'a> Extraction<'a> {
    pub fn new(
        target: &Path,
        options: &UnpackOptions,
        counter: &'a AtomicU64,
        total: u64,
        progress: &'a mut dyn FnMut(UnpackProgress),
    ) -> Result<Self, UnpackError> {
        let fs = Confined::open(target).map_err(|source| UnpackError::Target {
            path: target.display().to_string(),
            source,
        })?;
        Ok(Self {
            fs,
            options: *options,
            counter,
            total,
            progress,
            reported: 0,
            created: Vec::new(),
            dirs: Vec::new(),
            root_attributes: None,
            summary: UnpackSummary::default(),
        })
    }

    /// Extract every entry of the tar stream `reader`.
    pub fn run(&mut self, reader: impl Read) -> Result<UnpackSummary, UnpackError> {
        let mut archive = tar::Archive::new(reader);
        let mut last = String::from("(start of archive)");
        let read_error = |after: &str, source| UnpackError::Read {
            after: after.to_string(),
            source,
        };
        for entry in archive.entries().map_err(|e| read_error(&last, e))? {
            let mut entry = entry.map_err(|e| read_error(&last, e))?;
            let raw = entry.path_bytes().into_owned();
            last = String::from_utf8_lossy(&raw).into_owned();
            self.entry(&mut entry, &raw, &last)?;
            self.report(false);
        }
        // Read to the end so that a truncated or corrupt compressed trailer is noticed.
        let mut rest = archive.into_inner();
        io::copy(&mut rest, &mut io::sink()).map_err(|e| read_error(&last, e))?;
        self.finish_directories()?;
        self.report(true);
        Ok(self.summary)
    }

    /// Remove everything this unpack created.
    pub fn roll_back(&mut self) {
        let created = std::mem::take(&mut self.created);
        self.fs.remove_created(&created);
    }

    fn entry<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        raw: &[u8],
        display: &str,
    ) -> Result<(), UnpackError> {
        let entry_name = display.to_string();
        let name = parse_name(raw).map_err(|problem| refused(problem, &entry_name))?;
        let Some(name) = select(name, self.options.layout) else {
            return Ok(());
        };
        let header = entry.header();
        let kind = header.entry_type();
        let mode = header.mode().unwrap_or(0o644);
        let mtime = header.mtime().unwrap_or(0);
        let owner = match (header.uid(), header.gid()) {
            (Ok(uid), Ok(gid)) if self.options.preserve_owner => Some((
                u32::try_from(uid).unwrap_or(0),
                u32::try_from(gid).unwrap_or(0),
            )),
            _ => None,
        };
        let write_error = |source: io::Error| UnpackError::Write {
            entry: entry_name.clone(),
            source,
        };
        let errno_error = |errno: Errno| write_error(errno.into());

        let Some((file_name, parents)) = name.components.split_last() else {
            if kind.is_dir() {
                self.root_attributes = Some((owner, mode, mtime));
            }
            return Ok(());
        };
        let relative: PathBuf = name.components.iter().collect();

        // Decide before creating anything whether the entry is acceptable at all.
        let device = if kind.is_character_special() || kind.is_block_special() {
            let major = header.device_major().ok().flatten().unwrap_or(0);
            let minor = header.device_minor().ok().flatten().unwrap_or(0);
            let kind_name = if kind.is_character_special() {
                "char"
            } else {
                "block"
            };
            let standard =
                kind.is_character_special() && STANDARD_DEVICES.contains(&(major, minor));
            match self.options.devices {
                DevicePolicy::Skip => return Ok(()),
                DevicePolicy::Standard if standard => Some((kind_name, major, minor)),
                _ => {
                    return Err(UnpackError::DeviceNode {
                        entry: entry_name,
                        kind: kind_name,
                        major,
                        minor,
                    })
                }
            }
        } else {
            None
        };
        let link_target = if kind.is_hard_link() {
            Some(self.hard_link_source(entry, &entry_name)?)
        } else {
            None
        };

        let parent = self
            .fs
            .open_dir(parents, true, &mut self.created)
            .map_err(|e| walk_error(e, &entry_name))?;

        if kind.is_dir() {
            let kept = self
                .fs
                .clear_slot(&parent, file_name, true)
                .map_err(write_error)?;
            if !kept {
                mkdirat(&parent, *file_name, Mode::from_bits_truncate(0o700))
                    .map_err(errno_error)?;
                self.created.push(relative);
            }
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let dir =
                File::from(openat(&parent, *file_name, flags, Mode::empty()).map_err(errno_error)?);
            if let Some((uid, gid)) = owner {
                nix::unistd::fchown(&dir, Some(uid.into()), Some(gid.into()))
                    .map_err(errno_error)?;
            }
            self.set_xattrs(entry, &dir, &entry_name);
            let components = name.components.iter().map(|c| c.to_os_string()).collect();
            self.dirs.push((components, mode, mtime));
        } else if kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse() {
            self.fs
                .clear_slot(&parent, file_name, false)
                .map_err(write_error)?;
            let flags = OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            let fd = openat(&parent, *file_name, flags, Mode::from_bits_truncate(0o600))
                .map_err(errno_error)?;
            self.created.push(relative);
            let mut file = File::from(fd);
            self.copy_data(entry, &mut file, &entry_name)?;
            set_attributes_fd(&file, owner, mode, None).map_err(write_error)?;
            self.set_xattrs(entry, &file, &entry_name);
            set_attributes_fd(&file, None, mode, Some(mtime)).map_err(write_error)?;
        } else if kind.is_symlink() {
            let target = entry.link_name_bytes().unwrap_or_default().into_owned();
            if target.is_empty() {
                return Err(write_error(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "empty symlink target",
                )));
            }
            self.fs
                .clear_slot(&parent, file_name, false)
                .map_err(write_error)?;
            nix::unistd::symlinkat(OsStr::from_bytes(&target), &parent, *file_name)
                .map_err(errno_error)?;
            self.created.push(relative);
            set_attributes_at(&parent, file_name, owner, None, mtime).map_err(write_error)?;
        } else if let Some((source_parent, source_name)) = link_target {
            self.fs
                .clear_slot(&parent, file_name, false)
                .map_err(write_error)?;
            nix::unistd::linkat(
                &source_parent,
                source_name.as_os_str(),
                &parent,
                *file_name,
                AtFlags::empty(),
            )
            .map_err(errno_error)?;
            self.created.push(relative);
        } else if let Some((kind_name, major, minor)) = device {
            let sflag = if kind_name == "char" {
                SFlag::S_IFCHR
            } else {
                SFlag::S_IFBLK
            };
            self.fs
                .clear_slot(&parent, file_name, false)
                .map_err(write_error)?;
            let dev = makedev(u64::from(major), u64::from(minor));
            mknodat(
                &parent,
                *file_name,
                sflag,
                Mode::from_bits_truncate(0o600),
                dev,
            )
            .map_err(errno_error)?;
            self.created.push(relative);
            set_attributes_at(&parent, file_name, owner, Some(mode), mtime).map_err(write_error)?;
        } else if kind.is_fifo() {
            self.fs
                .clear_slot(&parent, file_name, false)
                .map_err(write_error)?;
            nix::unistd::mkfifoat(&parent, *file_name, Mode::from_bits_truncate(0o600))
                .map_err(errno_error)?;
            self.created.push(relative);
            set_attributes_at(&parent, file_name, owner, Some(mode), mtime).map_err(write_error)?;
        } else {
            if !kind.is_pax_global_extensions() {
                tracing::warn!(entry = %entry_name, "Skipping an archive entry of unknown type");
            }
            return Ok(());
        }
        self.summary.entries += 1;
        Ok(())
    }

    /// The parent directory and name of a hard link's source, which must be inside the tree.
    fn hard_link_source<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        entry_name: &str,
    ) -> Result<(std::os::fd::OwnedFd, OsString), UnpackError> {
        let raw = entry.link_name_bytes().unwrap_or_default().into_owned();
        let target = String::from_utf8_lossy(&raw).into_owned();
        let outside = || UnpackError::HardLinkOutside {
            entry: entry_name.to_string(),
            target: target.clone(),
        };
        let name: EntryName<'_> = parse_name(&raw).map_err(|_| outside())?;
        let name = select(name, self.options.layout).ok_or_else(outside)?;
        let (last, parents) = name.components.split_last().ok_or_else(outside)?;
        let parent = self
            .fs
            .open_dir(parents, false, &mut Vec::new())
            .map_err(|e| walk_error(e, entry_name))?;
        Ok((parent, last.to_os_string()))
    }

    fn copy_data(
        &mut self,
        reader: &mut impl Read,
        file: &mut File,
        entry: &str,
    ) -> Result<(), UnpackError> {
        let mut buffer = vec![0u8; 128 * 1024];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(UnpackError::Read {
                        after: entry.to_string(),
                        source,
                    })
                }
            };
            file.write_all(&buffer[..n])
                .map_err(|source| UnpackError::Write {
                    entry: entry.to_string(),
                    source,
                })?;
            self.summary.bytes += n as u64;
            self.report(false);
        }
    }

    fn set_xattrs<R: Read>(&self, entry: &mut tar::Entry<'_, R>, file: &File, entry_name: &str) {
        if !self.options.preserve_xattrs {
            return;
        }
        let Ok(Some(extensions)) = entry.pax_extensions() else {
            return;
        };
        for extension in extensions.flatten() {
            let Some(name) = extension
                .key()
                .ok()
                .and_then(|k| k.strip_prefix("SCHILY.xattr."))
            else {
                continue;
            };
            if let Err(error) = xattr::FileExt::set_xattr(file, name, extension.value_bytes()) {
                tracing::warn!(entry = %entry_name, xattr = name, %error, "Failed to set an extended attribute");
            }
        }
    }

    fn finish_directories(&mut self) -> Result<(), UnpackError> {
        let dirs = std::mem::take(&mut self.dirs);
        for (components, mode, mtime) in dirs.iter().rev() {
            let components: Vec<&OsStr> = components.iter().map(|c| c.as_os_str()).collect();
            let entry: PathBuf = components.iter().collect();
            let write_error = |source| UnpackError::Write {
                entry: entry.display().to_string(),
                source,
            };
            let dir = self
                .fs
                .open_dir(&components, false, &mut Vec::new())
                .map_err(|e| walk_error(e, &entry.display().to_string()))?;
            set_attributes_fd(&dir, None, *mode, Some(*mtime)).map_err(write_error)?;
        }
        if let Some((owner, mode, mtime)) = self.root_attributes {
            let root = self.fs.root().map_err(|source| UnpackError::Write {
                entry: ".".into(),
                source,
            })?;
            set_attributes_fd(&root, owner, mode, Some(mtime)).map_err(|source| {
                UnpackError::Write {
                    entry: ".".into(),
                    source,
                }
            })?;
        }
        Ok(())
    }

    fn report(&mut self, force: bool) {
        let processed = self.counter.load(Ordering::Relaxed);
        let step = (self.total / 200).max(256 * 1024);
        if force || processed >= self.reported + step {
            self.reported = processed;
            let processed = if self.total > 0 {
                processed.min(self.total)
            } else {
                processed
            };
            (self.progress)(UnpackProgress {
                processed,
                total: self.total,
            });
        }
    }
}

fn refused(problem: NameProblem, entry: &str) -> UnpackError {
    let entry = entry.to_string();
    match problem {
        NameProblem::Absolute => UnpackError::AbsolutePath { entry },
        NameProblem::ParentDir => UnpackError::ParentDir { entry },
    }
}

fn walk_error(error: WalkError, entry: &str) -> UnpackError {
    match error {
        WalkError::NotADirectory(component) => UnpackError::ThroughSymlink {
            entry: entry.to_string(),
            component,
        },
        WalkError::Io(source) => UnpackError::Write {
            entry: entry.to_string(),
            source,
        },
    }
}
