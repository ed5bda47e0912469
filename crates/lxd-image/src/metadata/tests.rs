use super::*;
use crate::test_support::{tarball, unified_image, Entry, METADATA};

#[test]
fn parse_metadata_busybox_fields_read() {
    let metadata = parse_metadata(METADATA.as_bytes()).unwrap();
    assert_eq!(metadata.architecture, "x86_64");
    assert_eq!(metadata.creation_date, 1_700_000_000);
    assert_eq!(metadata.properties["os"], "BusyBox");
    let template = &metadata.templates["/etc/hostname"];
    assert_eq!(template.when, ["create", "copy"]);
    assert_eq!(template.template, "hostname.tpl");
    assert!(!template.create_only);
}

#[test]
fn parse_metadata_alias_architecture_normalised() {
    let metadata = parse_metadata(b"architecture: amd64\ncreation_date: 1\n").unwrap();
    assert_eq!(metadata.architecture, "x86_64");
}

#[test]
fn parse_metadata_numbers_in_properties_kept_as_text() {
    let yaml = b"architecture: x86_64\ncreation_date: 1\nproperties:\n  release: 12\n  serial: 2024.1\n  ok: true\n  empty:\n";
    let metadata = parse_metadata(yaml).unwrap();
    assert_eq!(metadata.properties["release"], "12");
    assert_eq!(metadata.properties["serial"], "2024.1");
    assert_eq!(metadata.properties["ok"], "true");
    assert_eq!(metadata.properties["empty"], "");
}

#[test]
fn parse_metadata_missing_architecture_clear_error() {
    let err = parse_metadata(b"creation_date: 1\n").unwrap_err();
    assert_eq!(err.to_string(), "Missing architecture in metadata.yaml");
    let err = parse_metadata(b"").unwrap_err();
    assert!(matches!(err, MetadataError::MissingArchitecture));
}

#[test]
fn parse_metadata_unknown_architecture_lxd_error() {
    let err = parse_metadata(b"architecture: vax\ncreation_date: 1\n").unwrap_err();
    assert_eq!(err.to_string(), "Architecture isn't supported: vax");
}

#[test]
fn parse_metadata_missing_creation_date_lxd_error() {
    let err = parse_metadata(b"architecture: x86_64\n").unwrap_err();
    assert_eq!(err.to_string(), "Missing creation date");
}

#[test]
fn parse_metadata_bad_yaml_clear_error() {
    let err = parse_metadata(b"architecture: [x86_64\n").unwrap_err();
    assert_eq!(err.to_string(), "Could not parse metadata.yaml");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn read_tarball_metadata_unified_every_compression_container() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ["gzip", "xz", "bzip2", "lzma", "zstd", "none"] {
        let path = dir.path().join(algorithm);
        std::fs::write(&path, unified_image(algorithm)).unwrap();
        let found = read_tarball_metadata(&path).unwrap();
        assert_eq!(found.rootfs, Some(ImageType::Container), "{algorithm}");
        assert_eq!(found.metadata.properties["os"], "BusyBox");
    }
}

#[test]
fn read_tarball_metadata_split_metadata_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.tar.xz");
    let tar = tarball(
        &[
            Entry::File("./metadata.yaml", METADATA.as_bytes()),
            Entry::File("./templates/hostname.tpl", b"x"),
        ],
        "xz",
    );
    std::fs::write(&path, tar).unwrap();
    let found = read_tarball_metadata(&path).unwrap();
    assert_eq!(found.rootfs, None);
}

#[test]
fn read_tarball_metadata_vm_rootfs_img_detected() {
    let tar = tarball(
        &[
            Entry::File("metadata.yaml", METADATA.as_bytes()),
            Entry::File("rootfs.img", b"QFI\xfb"),
        ],
        "none",
    );
    let found = read_metadata_from(tar.as_slice()).unwrap();
    assert_eq!(found.rootfs, Some(ImageType::VirtualMachine));
}

#[test]
fn read_tarball_metadata_missing_yaml_lxd_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.tar.gz");
    std::fs::write(&path, tarball(&[Entry::Dir("rootfs/")], "gzip")).unwrap();
    let err = read_tarball_metadata(&path).unwrap_err();
    assert_eq!(err.to_string(), "Metadata tarball is missing metadata.yaml");
}

#[test]
fn read_tarball_metadata_not_an_archive_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk");
    std::fs::write(&path, b"this is not an image").unwrap();
    let err = read_tarball_metadata(&path).unwrap_err();
    assert_eq!(err.to_string(), "Unsupported compression");
}

#[test]
fn to_yaml_round_trips_through_parse() {
    let metadata = parse_metadata(METADATA.as_bytes()).unwrap();
    let yaml = metadata.to_yaml().unwrap();
    assert!(
        yaml.starts_with("architecture: x86_64\ncreation_date: 1700000000\n"),
        "{yaml}"
    );
    assert_eq!(parse_metadata(yaml.as_bytes()).unwrap(), metadata);
}

#[test]
fn parse_metadata_null_maps_accepted() {
    let yaml = b"architecture: x86_64\ncreation_date: 1\nproperties:\ntemplates:\n";
    let metadata = parse_metadata(yaml).unwrap();
    assert!(metadata.properties.is_empty() && metadata.templates.is_empty());
}
