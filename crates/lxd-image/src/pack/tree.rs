//! Walking a directory tree into tar entries: numeric owners (optionally shifted back),
//! hard links, devices, pax `SCHILY.xattr` records, files opened with `O_NOFOLLOW` and read
//! to exactly their recorded size.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::{IdShift, PackError, PackProgress};

/// Appends trees to a tar builder.
pub(super) struct Packer<'p, W: Write> {
    pub(super) builder: tar::Builder<W>,
    pub(super) id_shift: Option<IdShift>,
    /// (device, inode) of files with several links → the first archive name.
    pub(super) links: HashMap<(u64, u64), PathBuf>,
    pub(super) processed: u64,
    pub(super) reported: u64,
    pub(super) total: u64,
    pub(super) progress: &'p mut dyn FnMut(PackProgress),
}

impl<W: Write> Packer<'_, W> {
    pub(super) fn metadata_yaml(&mut self, yaml: &[u8]) -> Result<(), PackError> {
        self.regular_file("metadata.yaml", yaml)
    }

    /// Append a regular file `name` holding `data` (mode 0644, owned by root, now).
    pub(super) fn regular_file(&mut self, name: &str, data: &[u8]) -> Result<(), PackError> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        header.set_mtime(now);
        self.builder
            .append_data(&mut header, name, data)
            .map_err(|source| write_error(name, source))
    }

    /// Append the regular file at `path` as `name`, with its mode, owner and time, streamed
    /// from disk.
    pub(super) fn file_from_disk(&mut self, name: &str, path: &Path) -> Result<(), PackError> {
        let read_error = |source| PackError::Read {
            path: path.display().to_string(),
            source,
        };
        let mut file = File::open(path).map_err(read_error)?;
        let meta = file.metadata().map_err(read_error)?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata(&meta);
        header.set_entry_type(tar::EntryType::Regular);
        self.builder
            .append_data(&mut header, name, &mut file)
            .map_err(|source| write_error(name, source))
    }

    /// Append `source` and everything below it under the archive name `name`, sorted.
    pub(super) fn tree(&mut self, source: &Path, name: &Path) -> Result<(), PackError> {
        let mut stack = vec![(source.to_path_buf(), name.to_path_buf())];
        while let Some((path, name)) = stack.pop() {
            let read_error = |source| PackError::Read {
                path: path.display().to_string(),
                source,
            };
            let meta = std::fs::symlink_metadata(&path).map_err(read_error)?;
            self.entry(&path, &name, &meta)?;
            if meta.is_dir() {
                let mut children: Vec<_> = std::fs::read_dir(&path)
                    .map_err(read_error)?
                    .map(|e| e.map(|e| e.file_name()))
                    .collect::<Result<_, _>>()
                    .map_err(read_error)?;
                children.sort();
                for child in children.into_iter().rev() {
                    stack.push((path.join(&child), name.join(&child)));
                }
            }
        }
        Ok(())
    }

    fn entry(&mut self, path: &Path, name: &Path, meta: &Metadata) -> Result<(), PackError> {
        let kind = meta.file_type();
        let mut header = tar::Header::new_gnu();
        header.set_mode(meta.mode() & 0o7777);
        let (uid, gid) = match self.id_shift {
            Some(shift) => (
                shift.unshift(meta.uid(), shift.uid_base),
                shift.unshift(meta.gid(), shift.gid_base),
            ),
            None => (meta.uid(), meta.gid()),
        };
        header.set_uid(u64::from(uid));
        header.set_gid(u64::from(gid));
        header.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
        header.set_size(0);
        let display = name.display().to_string();
        let result = if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            self.xattrs(path, &display)?;
            self.builder.append_data(&mut header, name, io::empty())
        } else if kind.is_file() {
            let key = (meta.dev(), meta.ino());
            if meta.nlink() > 1 {
                if let Some(first) = self.links.get(&key) {
                    header.set_entry_type(tar::EntryType::Link);
                    let first = first.clone();
                    return self
                        .builder
                        .append_link(&mut header, name, first)
                        .map_err(|e| write_error(&display, e));
                }
                self.links.insert(key, name.to_path_buf());
            }
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
                .open(path)
                .map_err(|source| PackError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(meta.len());
            self.xattrs(path, &display)?;
            let data = ExactReader {
                inner: file,
                remaining: meta.len(),
            };
            self.processed += meta.len();
            self.builder.append_data(&mut header, name, data)
        } else if kind.is_symlink() {
            let target = std::fs::read_link(path).map_err(|source| PackError::Read {
                path: path.display().to_string(),
                source,
            })?;
            header.set_entry_type(tar::EntryType::Symlink);
            self.builder.append_link(&mut header, name, target)
        } else if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() {
            let entry_type = if kind.is_char_device() {
                tar::EntryType::Char
            } else if kind.is_block_device() {
                tar::EntryType::Block
            } else {
                tar::EntryType::Fifo
            };
            header.set_entry_type(entry_type);
            let rdev = meta.rdev();
            let major = u32::try_from(nix::sys::stat::major(rdev)).unwrap_or(0);
            let minor = u32::try_from(nix::sys::stat::minor(rdev)).unwrap_or(0);
            header
                .set_device_major(major)
                .map_err(|e| write_error(&display, e))?;
            header
                .set_device_minor(minor)
                .map_err(|e| write_error(&display, e))?;
            self.builder.append_data(&mut header, name, io::empty())
        } else {
            // Sockets are not archived (tar does the same).
            return Ok(());
        };
        result.map_err(|e| write_error(&display, e))?;
        self.report();
        Ok(())
    }

    /// Write a pax header carrying the extended attributes of `path`, if it has any.
    fn xattrs(&mut self, path: &Path, name: &str) -> Result<(), PackError> {
        let Ok(names) = xattr::list(path) else {
            return Ok(());
        };
        let mut records = Vec::new();
        for key in names {
            let Ok(Some(value)) = xattr::get(path, &key) else {
                continue;
            };
            let key = format!("SCHILY.xattr.{}", key.to_string_lossy());
            records.extend(pax_record(&key, &value));
        }
        if records.is_empty() {
            return Ok(());
        }
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::XHeader);
        header.set_mode(0o644);
        header.set_size(records.len() as u64);
        let pax_name: String = format!("PaxHeaders/{name}").chars().take(99).collect();
        header
            .set_path(&pax_name)
            .map_err(|e| write_error(name, e))?;
        header.set_cksum();
        self.builder
            .append(&header, records.as_slice())
            .map_err(|e| write_error(name, e))
    }

    fn report(&mut self) {
        if self.processed >= self.reported + (self.total / 200).max(1 << 20) {
            self.reported = self.processed;
            (self.progress)(PackProgress {
                processed: self.processed.min(self.total),
                total: self.total,
            });
        }
    }
}

/// One pax record: `"<len> <key>=<value>\n"`, where `<len>` counts the whole record.
pub(super) fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut record = format!("{len} {key}=").into_bytes();
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

/// Yields exactly `remaining` bytes: the file's, then zeros if it shrank while packing.
struct ExactReader {
    inner: File,
    remaining: u64,
}

impl Read for ExactReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let mut n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            buf[..want].fill(0);
            n = want;
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Sum of regular file sizes below `root` (LXD's estimate for publish progress).
pub(super) fn tree_size(root: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => stack.push(entry.path()),
                Ok(meta) if meta.is_file() => total += meta.len(),
                _ => {}
            }
        }
    }
    total
}

fn write_error(entry: &str, source: io::Error) -> PackError {
    PackError::Entry {
        entry: entry.to_string(),
        source,
    }
}
