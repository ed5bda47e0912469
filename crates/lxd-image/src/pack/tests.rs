use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::*;
use crate::compression::Compression;
use crate::fingerprint::fingerprint_file;
use crate::metadata::read_tarball_metadata;
use crate::test_support::METADATA;
use crate::unpack::{unpack_file, Layout, UnpackOptions};

fn image_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("metadata.yaml"), METADATA).unwrap();
    std::fs::create_dir_all(root.join("rootfs/bin")).unwrap();
    std::fs::create_dir_all(root.join("rootfs/etc")).unwrap();
    std::fs::write(root.join("rootfs/bin/busybox"), vec![7u8; 300_000]).unwrap();
    std::fs::set_permissions(
        root.join("rootfs/bin/busybox"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::hard_link(root.join("rootfs/bin/busybox"), root.join("rootfs/bin/ash")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("rootfs/bin/sh")).unwrap();
    let long = "a".repeat(120);
    std::fs::write(root.join("rootfs/etc").join(&long), b"long name").unwrap();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(
        root.join("templates/hostname.tpl"),
        b"{{ instance.name }}\n",
    )
    .unwrap();
    dir
}

#[test]
fn pack_image_every_algorithm_round_trips_through_unpack() {
    let source = image_dir();
    let out = tempfile::tempdir().unwrap();
    for algorithm in ["gzip", "xz", "zstd", "bzip2", "lzma", "none"] {
        let file = out.path().join(algorithm);
        let options = PackOptions {
            compression: algorithm.into(),
            ..PackOptions::default()
        };
        let result = pack_image(source.path(), &file, &options, None).unwrap();
        assert_eq!(
            result.fingerprint,
            fingerprint_file(&file).unwrap(),
            "{algorithm}"
        );
        assert_eq!(result.size, std::fs::metadata(&file).unwrap().len());
        assert_eq!(
            crate::compression::detect_file(&file).unwrap(),
            Compression::from_algorithm(algorithm).unwrap()
        );
        let found = read_tarball_metadata(&file).unwrap();
        assert!(found.rootfs.is_some());

        let target = out.path().join(format!("{algorithm}-x"));
        let unpack = UnpackOptions {
            layout: Layout::Whole,
            preserve_owner: false,
            ..UnpackOptions::default()
        };
        unpack_file(&file, &target, &unpack, None).unwrap();
        let busybox = std::fs::metadata(target.join("rootfs/bin/busybox")).unwrap();
        assert_eq!(busybox.len(), 300_000);
        assert_eq!(busybox.mode() & 0o7777, 0o755);
        assert_eq!(
            busybox.ino(),
            std::fs::metadata(target.join("rootfs/bin/ash"))
                .unwrap()
                .ino()
        );
        assert_eq!(
            std::fs::read_link(target.join("rootfs/bin/sh")).unwrap(),
            Path::new("busybox")
        );
        assert!(target.join("rootfs/etc").join("a".repeat(120)).is_file());
        assert!(target.join("templates/hostname.tpl").is_file());
    }
}

#[test]
fn pack_image_metadata_override_written_first() {
    let source = image_dir();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("img");
    let options = PackOptions {
        compression: "none".into(),
        metadata: Some(b"architecture: aarch64\ncreation_date: 5\n".to_vec()),
        ..PackOptions::default()
    };
    pack_image(source.path(), &file, &options, None).unwrap();
    let mut archive = tar::Archive::new(std::fs::File::open(&file).unwrap());
    let first = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(first.path().unwrap(), Path::new("metadata.yaml"));
    assert_eq!(
        read_tarball_metadata(&file).unwrap().metadata.architecture,
        "aarch64"
    );
}

#[test]
fn pack_image_numeric_owners_shifted_back() {
    let source = image_dir();
    let mut out = Vec::new();
    let options = PackOptions {
        compression: "none".into(),
        id_shift: Some(IdShift {
            uid_base: 0,
            gid_base: 0,
            range: 1,
        }),
        ..PackOptions::default()
    };
    let me = std::fs::metadata(source.path()).unwrap().uid();
    pack_to_writer(source.path(), &mut out, &options, None).unwrap();
    let mut archive = tar::Archive::new(out.as_slice());
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        let expected = if me == 0 { 0 } else { 65534 };
        if entry.path().unwrap() != Path::new("metadata.yaml") {
            assert_eq!(header.uid().unwrap(), expected);
        }
        assert!(header.username().ok().flatten().unwrap_or("").is_empty());
    }
}

#[test]
fn pack_image_xattrs_carried_as_pax() {
    let source = image_dir();
    let file = source.path().join("rootfs/bin/busybox");
    if xattr::set(&file, "user.lxd-test", b"v1").is_err() {
        eprintln!("skipped: no user xattrs on this file system");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let image = out.path().join("img.tar.zst");
    let options = PackOptions {
        compression: "zstd".into(),
        ..PackOptions::default()
    };
    pack_image(source.path(), &image, &options, None).unwrap();
    let target = out.path().join("x");
    unpack_file(
        &image,
        &target,
        &UnpackOptions {
            preserve_owner: false,
            ..UnpackOptions::default()
        },
        None,
    )
    .unwrap();
    let value = xattr::get(target.join("rootfs/bin/busybox"), "user.lxd-test").unwrap();
    assert_eq!(value.as_deref(), Some(&b"v1"[..]));
}

#[test]
fn pack_image_missing_rootfs_clear_error_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    let err = pack_image(dir.path(), &file, &PackOptions::default(), None).unwrap_err();
    assert!(err.to_string().starts_with("Missing "), "{err}");
    assert!(!file.exists());
}

#[test]
fn pack_image_progress_reaches_total() {
    let source = image_dir();
    let mut seen = Vec::new();
    let mut record = |p: PackProgress| seen.push(p);
    pack_to_writer(
        source.path(),
        Vec::new(),
        &PackOptions::default(),
        Some(&mut record),
    )
    .unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.processed, last.total);
    assert!(last.total >= 300_000);
}

#[test]
fn pax_record_length_counts_itself() {
    assert_eq!(pax_record("a", b"b"), b"6 a=b\n");
    let record = pax_record("SCHILY.xattr.user.x", &[b'v'; 90]);
    let len: usize = String::from_utf8_lossy(&record)
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, record.len());
}

#[test]
fn pack_optimized_backup_index_then_files_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::write(&a, "header: 1\n").unwrap();
    std::fs::write(&b, vec![9u8; 70_000]).unwrap();
    let out = tmp.path().join("backup.tar.gz");
    backup::pack_optimized_backup(b"name: c1\n", &out, "gzip", |add| {
        add("backup/optimized_header.yaml", &a)?;
        add("backup/container.bin", &b)
    })
    .unwrap();
    let file = std::fs::File::open(&out).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut got = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        got.push((name, data.len()));
    }
    assert_eq!(
        got,
        [
            ("backup/index.yaml".to_string(), 9),
            ("backup/optimized_header.yaml".to_string(), 10),
            ("backup/container.bin".to_string(), 70_000),
        ]
    );
}

#[test]
fn pack_optimized_backup_producer_error_removes_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("backup.tar");
    let err = backup::pack_optimized_backup(b"x", &out, "none", |_| {
        Err(PackError::Content("Btrfs send failed".into()))
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "Btrfs send failed");
    assert!(!out.exists());
}
