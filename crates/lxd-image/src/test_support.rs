//! Builders of test archives, hostile ones included (test-only).

use std::io::Write;

use crate::compression::{compressor, CompressorOptions};

/// One entry of a test archive.
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    Char(&'a str, u32, u32),
    Block(&'a str, u32, u32),
}

/// A tarball of `entries`, compressed with `algorithm`. Names are written raw, so `..` and
/// absolute paths end up in the archive as given.
pub fn tarball(entries: &[Entry<'_>], algorithm: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        let (name, data): (&str, &[u8]) = match entry {
            Entry::File(name, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                (name, data)
            }
            Entry::Dir(name) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                (name, b"")
            }
            Entry::Symlink(name, target) | Entry::HardLink(name, target) => {
                let kind = match entry {
                    Entry::Symlink(..) => tar::EntryType::Symlink,
                    _ => tar::EntryType::Link,
                };
                header.set_entry_type(kind);
                header.set_mode(0o777);
                header.set_link_name_literal(target.as_bytes()).unwrap();
                (name, b"")
            }
            Entry::Char(name, major, minor) | Entry::Block(name, major, minor) => {
                let kind = match entry {
                    Entry::Char(..) => tar::EntryType::Char,
                    _ => tar::EntryType::Block,
                };
                header.set_entry_type(kind);
                header.set_mode(0o666);
                header.set_device_major(*major).unwrap();
                header.set_device_minor(*minor).unwrap();
                (name, b"")
            }
        };
        header.set_size(data.len() as u64);
        set_raw_name(&mut header, name);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut out = compressor(algorithm, Vec::new(), &CompressorOptions::default()).unwrap();
    out.write_all(&tar).unwrap();
    out.finish().unwrap()
}

/// Write `name` into the header's name field without the tar crate's `..` checks.
fn set_raw_name(header: &mut tar::Header, name: &str) {
    let field = &mut header.as_old_mut().name;
    field.fill(0);
    field[..name.len()].copy_from_slice(name.as_bytes());
}

/// A busybox-like unified image: metadata.yaml, a rootfs and a template.
pub fn unified_image(algorithm: &str) -> Vec<u8> {
    tarball(
        &[
            Entry::File("metadata.yaml", METADATA.as_bytes()),
            Entry::Dir("rootfs/"),
            Entry::Dir("rootfs/bin/"),
            Entry::File("rootfs/bin/busybox", b"\x7fELF fake"),
            Entry::Symlink("rootfs/bin/sh", "busybox"),
            Entry::HardLink("rootfs/bin/ash", "rootfs/bin/busybox"),
            Entry::Dir("rootfs/etc/"),
            Entry::Symlink("rootfs/etc/mtab", "/proc/self/mounts"),
            Entry::File("rootfs/etc/hostname", b"image\n"),
            Entry::Dir("templates/"),
            Entry::File("templates/hostname.tpl", b"{{ instance.name }}\n"),
        ],
        algorithm,
    )
}

pub const METADATA: &str = "architecture: x86_64
creation_date: 1700000000
properties:
  description: BusyBox test image
  os: BusyBox
templates:
  /etc/hostname:
    when:
    - create
    - copy
    template: hostname.tpl
";
