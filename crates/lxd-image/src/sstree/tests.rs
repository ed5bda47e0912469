use std::path::Path;

use super::*;
use crate::test_support::{tarball, unified_image, Entry, METADATA};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn options(release: &str, aliases: &[&str]) -> AddOptions {
    AddOptions {
        release: Some(release.into()),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn add_split_image_fingerprint_is_sha256_of_meta_then_rootfs() {
    let src = tempfile::tempdir().unwrap();
    let tree = Tree::new(src.path().join("tree"));
    let meta_bytes = tarball(&[Entry::File("metadata.yaml", METADATA.as_bytes())], "xz");
    let meta = write(src.path(), "meta.tar.xz", &meta_bytes);
    let mut squash = b"hsqs".to_vec();
    squash.extend_from_slice(&[7u8; 4000]);
    let root = write(src.path(), "root.squashfs", &squash);

    let fp = add_image(&tree, &meta, Some(&root), &options("1.36", &["xenial"])).unwrap();
    assert_eq!(fp, crate::fingerprint_split(&meta, &root).unwrap());

    let catalog = tree.catalog("x86_64").unwrap();
    let image = catalog.image(&fp).unwrap();
    assert_eq!(image.properties["os"], "BusyBox");
    assert_eq!(image.properties["release"], "1.36");
    assert_eq!(image.properties["variant"], "default");
    assert_eq!(image.properties["architecture"], "amd64");
    assert_eq!(image.created_at, "2023-11-14T00:00:00Z");
    assert_eq!(catalog.alias("container", "xenial").unwrap().target, fp);
    assert_eq!(
        catalog
            .alias("container", "BusyBox/1.36/default")
            .unwrap()
            .target,
        fp
    );
    // The files are where the products say, named by their own hash.
    for file in catalog.files(&fp).unwrap() {
        let path = tree.root().join(&file.path);
        assert_eq!(crate::fingerprint_file(&path).unwrap(), file.sha256);
        assert!(file.path.starts_with("images/"));
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tree.root().join(INDEX_PATH)).unwrap()).unwrap();
    assert_eq!(
        index["index"]["images"]["products"],
        serde_json::json!(["BusyBox:1.36:default:amd64"])
    );
    let version = index_version(&tree);
    assert_eq!(version, "202311142213");
}

fn index_version(tree: &Tree) -> String {
    let products = tree.load().unwrap();
    products
        .products
        .values()
        .next()
        .unwrap()
        .versions
        .keys()
        .next()
        .unwrap()
        .clone()
}

#[test]
fn add_unified_image_uses_its_own_hash_and_refuses_a_second_time() {
    let src = tempfile::tempdir().unwrap();
    let tree = Tree::new(src.path().join("tree"));
    let image = write(src.path(), "bb.tar.gz", &unified_image("gzip"));
    let fp = add_image(&tree, &image, None, &options("1.36", &[])).unwrap();
    assert_eq!(fp, crate::fingerprint_file(&image).unwrap());
    let again = add_image(&tree, &image, None, &options("1.36", &[]));
    assert!(
        matches!(
            again,
            Err(TreeError::Edit(
                lxd_simplestreams::TreeError::AlreadyPresent(_)
            ))
        ),
        "{again:?}"
    );
    let files = tree.catalog("x86_64").unwrap().files(&fp).unwrap().to_vec();
    assert_eq!(files.len(), 1);
    assert!(files[0].path.ends_with(".tar.gz"));
}

#[test]
fn add_refuses_mismatched_parts_and_missing_release() {
    let src = tempfile::tempdir().unwrap();
    let tree = Tree::new(src.path().join("tree"));
    let unified = write(src.path(), "bb.tar.gz", &unified_image("gzip"));
    let meta_bytes = tarball(&[Entry::File("metadata.yaml", METADATA.as_bytes())], "gzip");
    let meta = write(src.path(), "meta.tar.gz", &meta_bytes);
    let err = add_image(&tree, &unified, Some(&unified), &options("1", &[])).unwrap_err();
    assert!(err.to_string().contains("unified image"), "{err}");
    let err = add_image(&tree, &meta, None, &options("1", &[])).unwrap_err();
    assert!(err.to_string().contains("holds no rootfs"), "{err}");
    let err = add_image(&tree, &unified, None, &AddOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Missing property \"release\" in metadata.yaml (or pass --release)"
    );
    let text = write(src.path(), "root.txt", &[b'x'; 600]);
    let err = add_image(&tree, &meta, Some(&text), &options("1", &[])).unwrap_err();
    assert!(matches!(err, TreeError::Compression(_)), "{err:?}");
    assert!(!tree.root().join(INDEX_PATH).exists());
}

#[test]
fn remove_deletes_the_files_nothing_else_uses() {
    let src = tempfile::tempdir().unwrap();
    let tree = Tree::new(src.path().join("tree"));
    let unified = write(src.path(), "bb.tar.gz", &unified_image("gzip"));
    let fp = add_image(&tree, &unified, None, &options("1.36", &[])).unwrap();
    let (removed_fp, removed) = tree.remove(&fp[..12]).unwrap();
    assert_eq!(removed_fp, fp);
    assert_eq!(removed.len(), 1);
    assert!(!removed[0].exists());
    assert!(tree.catalog("x86_64").unwrap().images().is_empty());
    assert!(tree.remove(&fp).is_err());
}

#[test]
fn generated_metadata_pairs_with_a_rootfs() {
    let src = tempfile::tempdir().unwrap();
    let out = src.path().join("meta.tar.xz");
    let yaml = generate_metadata(
        &out,
        &MetadataOptions {
            os: "Alpine".into(),
            release: "3.19".into(),
            variant: String::new(),
            architecture: "amd64".into(),
            description: None,
            creation_date: 1_700_000_000,
        },
    )
    .unwrap();
    assert!(yaml.contains("architecture: x86_64"), "{yaml}");
    let read = crate::metadata::read_tarball_metadata(&out).unwrap();
    assert_eq!(read.rootfs, None);
    assert_eq!(read.metadata.properties["variant"], "default");
    assert_eq!(
        read.metadata.properties["description"],
        "Alpine 3.19 (default) (amd64) (202311142213)"
    );
    let bad = generate_metadata(
        &src.path().join("x"),
        &MetadataOptions {
            architecture: "sparc".into(),
            ..Default::default()
        },
    );
    assert!(bad.is_err());
}

#[test]
fn version_names_are_utc_minutes() {
    assert_eq!(add::version_name(0), "197001010000");
    assert_eq!(add::version_name(1_700_000_000), "202311142213");
    assert_eq!(add::version_name(951_782_400), "200002290000");
}
