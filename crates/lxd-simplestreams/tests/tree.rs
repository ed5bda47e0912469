//! Editing a static tree's products: add split and unified images, refuse duplicates and
//! conflicts, remove by fingerprint, and the index that lists the products.

use lxd_simplestreams::tree::{
    add_image, empty_products, index_for, remove_image, TreeFile, TreeImage, TreeRoot,
};
use lxd_simplestreams::{parse_products, Catalog, TreeError};

fn file(path: &str, c: char, size: i64) -> TreeFile {
    TreeFile {
        path: path.into(),
        sha256: c.to_string().repeat(64),
        size,
    }
}

fn split(version: &str, root_type: &str, combined: char) -> TreeImage {
    TreeImage {
        product_id: "busybox:1.36:amd64:default".into(),
        os: "BusyBox".into(),
        release: "1.36".into(),
        variant: "default".into(),
        architecture: "amd64".into(),
        version: version.into(),
        aliases: vec!["busybox/1.36".into(), "xenial".into()],
        meta: file("images/m.tar.xz", 'a', 100),
        root: Some(TreeRoot {
            file_type: root_type.into(),
            file: file(&format!("images/{root_type}"), 'b', 1000),
            combined_sha256: combined.to_string().repeat(64),
        }),
    }
}

fn unified(version: &str) -> TreeImage {
    TreeImage {
        product_id: "busybox:1.36:amd64:unified".into(),
        variant: "unified".into(),
        aliases: vec!["bb-unified".into()],
        meta: file("images/u.tar.gz", 'd', 500),
        root: None,
        ..split(version, "squashfs", 'c')
    }
}

fn round_trip(products: &lxd_simplestreams::Products) -> lxd_simplestreams::Products {
    let json = serde_json::to_vec(products).unwrap();
    parse_products("images.json", &json).unwrap()
}

#[test]
fn added_split_and_unified_images_resolve_as_lxd_reads_them() {
    let mut products = empty_products();
    let fp = add_image(&mut products, &split("202401021504", "squashfs", 'c')).unwrap();
    assert_eq!(fp, "c".repeat(64));
    let fp2 = add_image(&mut products, &unified("202401021504")).unwrap();
    assert_eq!(fp2, "d".repeat(64));
    let products = round_trip(&products);
    let catalog = Catalog::build(
        "https://127.0.0.1:1",
        "x86_64",
        std::slice::from_ref(&products),
    );
    assert_eq!(catalog.alias("container", "xenial").unwrap().target, fp);
    assert_eq!(
        catalog
            .alias("container", "busybox/1.36/amd64")
            .unwrap()
            .target,
        fp
    );
    assert_eq!(
        catalog.alias("container", "bb-unified").unwrap().target,
        fp2
    );
    let image = catalog.image(&fp).unwrap();
    assert_eq!(image.created_at, "2024-01-02T00:00:00Z");
    assert_eq!(image.size, 1100);
    assert_eq!(image.properties["variant"], "default");
    let files = catalog.files(&fp).unwrap();
    assert_eq!(files[0].path, "images/m.tar.xz");
    assert_eq!(files[1].path, "images/squashfs");

    let index = index_for(&products);
    let json = serde_json::to_value(&index).unwrap();
    assert_eq!(json["format"], "index:1.0");
    assert_eq!(json["index"]["images"]["path"], "streams/v1/images.json");
    assert_eq!(json["index"]["images"]["datatype"], "image-downloads");
    assert_eq!(
        json["index"]["images"]["products"],
        serde_json::json!(["busybox:1.36:amd64:default", "busybox:1.36:amd64:unified"])
    );
}

#[test]
fn root_tar_xz_sets_both_combined_hashes() {
    let mut products = empty_products();
    add_image(&mut products, &split("20240102", "root.tar.xz", 'e')).unwrap();
    let meta =
        &products.products["busybox:1.36:amd64:default"].versions["20240102"].items["lxd.tar.xz"];
    assert_eq!(meta.combined_sha256_root_xz, "e".repeat(64));
    assert_eq!(meta.combined_sha256, "e".repeat(64));
    assert!(meta.combined_sha256_squashfs.is_empty());
}

#[test]
fn same_image_twice_is_already_present_and_other_image_in_version_conflicts() {
    let mut products = empty_products();
    add_image(&mut products, &split("20240102", "squashfs", 'c')).unwrap();
    let again = add_image(&mut products, &split("20240102", "squashfs", 'c'));
    assert_eq!(again, Err(TreeError::AlreadyPresent("c".repeat(64))));
    let other = add_image(&mut products, &split("20240102", "squashfs", 'f'));
    assert!(matches!(other, Err(TreeError::Conflict(_))), "{other:?}");
    let mut different_meta = split("20240102", "root.tar.xz", '9');
    different_meta.meta.sha256 = "8".repeat(64);
    assert!(matches!(
        add_image(&mut products, &different_meta),
        Err(TreeError::Conflict(_))
    ));
    // A second root type for the same metadata is a second image of that version.
    add_image(&mut products, &split("20240102", "root.tar.xz", '9')).unwrap();
    let catalog = Catalog::build("", "x86_64", &[products]);
    assert_eq!(catalog.images().len(), 2);
}

#[test]
fn aliases_of_a_later_add_join_the_product() {
    let mut products = empty_products();
    add_image(&mut products, &split("20240102", "squashfs", 'c')).unwrap();
    let mut newer = split("20240203", "squashfs", 'f');
    newer.aliases = vec!["xenial".into(), "latest".into()];
    add_image(&mut products, &newer).unwrap();
    let product = &products.products["busybox:1.36:amd64:default"];
    assert_eq!(product.aliases, "busybox/1.36,xenial,latest");
    // The newest version owns the aliases.
    let catalog = Catalog::build("", "x86_64", &[products]);
    assert_eq!(
        catalog.alias("container", "xenial").unwrap().target,
        "f".repeat(64)
    );
}

#[test]
fn remove_drops_the_image_and_reports_unreferenced_files() {
    let mut products = empty_products();
    add_image(&mut products, &split("20240102", "squashfs", 'c')).unwrap();
    add_image(&mut products, &split("20240102", "root.tar.xz", '9')).unwrap();
    add_image(&mut products, &unified("20240102")).unwrap();

    let (fp, gone) = remove_image(&mut products, "ccc").unwrap();
    assert_eq!(fp, "c".repeat(64));
    assert_eq!(gone, ["images/squashfs"]);
    let (_, gone) = remove_image(&mut products, "999").unwrap();
    // The metadata tarball goes with the last rootfs that used it.
    assert_eq!(gone, ["images/m.tar.xz", "images/root.tar.xz"]);
    assert_eq!(
        products.products.keys().collect::<Vec<_>>(),
        ["busybox:1.36:amd64:unified"]
    );
    let (_, gone) = remove_image(&mut products, "ddd").unwrap();
    assert_eq!(gone, ["images/u.tar.gz"]);
    assert!(products.products.is_empty());
    assert!(matches!(
        remove_image(&mut products, "ddd"),
        Err(TreeError::Lookup(_))
    ));
}
