//! Reading simplestreams servers: the layout the acceptance tree serves and a cloud-images
//! style products file (root.tar.xz, squashfs, VM disk, deltas, several architectures).

use lxd_simplestreams::{
    catalog_from_bytes, parse_index, parse_products, Catalog, FileRole, LookupError,
};

const ACCEPTANCE_INDEX: &str = include_str!("fixtures/acceptance-index.json");
const ACCEPTANCE_IMAGES: &str = include_str!("fixtures/acceptance-images.json");
const CLOUD_INDEX: &str = include_str!("fixtures/cloud-index.json");
const CLOUD_PRODUCTS: &str = include_str!("fixtures/cloud-products.json");
const CLOUD_URL: &str = "https://cloud-images.ubuntu.com/releases";

fn fp(c: char) -> String {
    c.to_string().repeat(64)
}

fn arm_fp() -> String {
    format!("{}3", "2".repeat(63))
}

fn cloud(url: &str) -> Catalog {
    let products = parse_products("cloud", CLOUD_PRODUCTS.as_bytes()).unwrap();
    Catalog::build(url, "x86_64", &[products])
}

#[test]
fn index_image_paths_only_image_downloads_with_products() {
    let index = parse_index("i", CLOUD_INDEX.as_bytes()).unwrap();
    assert_eq!(
        index.image_paths(),
        vec!["streams/v1/com.ubuntu.cloud:released:download.json"]
    );
    let index = parse_index("i", ACCEPTANCE_INDEX.as_bytes()).unwrap();
    assert_eq!(index.image_paths(), vec!["streams/v1/images.json"]);
}

#[test]
fn acceptance_tree_resolves_alias_to_combined_squashfs_fingerprint() {
    let catalog = catalog_from_bytes(
        "https://127.0.0.1:1",
        "x86_64",
        ACCEPTANCE_IMAGES.as_bytes(),
    )
    .unwrap();
    for alias in [
        "xenial",
        "16.04",
        "busybox",
        "xenial/amd64",
        "busybox/amd64",
    ] {
        let entry = catalog.alias("container", alias).unwrap();
        assert_eq!(entry.target, fp('c'), "{alias}");
        assert_eq!(entry.kind, "container");
    }
    let image = catalog.resolve("container", "busybox").unwrap();
    assert_eq!(image.created_at, "2024-01-05T00:00:00Z");
    assert_eq!(image.uploaded_at, "2024-01-05T00:00:00Z");
    assert_eq!(image.expires_at, "1970-01-01T00:00:00Z");
    assert_eq!(image.size, 1300);
    assert_eq!(image.filename, "lxd.tar.xz");
    assert!(image.public);
    assert_eq!(image.properties["type"], "squashfs");
    assert_eq!(
        image.properties["description"],
        "BusyBox xenial amd64 (20240105_12:00)"
    );
    let names: Vec<&str> = image.aliases.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "xenial",
            "xenial/amd64",
            "16.04",
            "16.04/amd64",
            "busybox",
            "busybox/amd64"
        ]
    );
    let files = catalog.files("ccc").unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].role, FileRole::Meta);
    assert_eq!(files[0].path, "images/20240105_12:00/lxd.tar.xz");
    assert_eq!(files[0].sha256, fp('1'));
    assert_eq!(files[1].role, FileRole::Root);
    assert_eq!(files[1].size, 1000);
}

#[test]
fn cloud_images_order_prefers_newest_squashfs_and_skips_bad_entries() {
    let catalog = cloud(CLOUD_URL);
    let fps: Vec<String> = catalog
        .images()
        .iter()
        .map(|i| i.fingerprint.clone())
        .collect();
    // BusyBox sorts before ubuntu; newest serial first; amd64 before arm64; squashfs, then
    // root.tar.xz, then the VM disk. The sparc product and the "2021" version are skipped.
    assert_eq!(fps, [fp('0'), fp('5'), fp('4'), fp('6'), arm_fp(), fp('b')]);
}

#[test]
fn cloud_images_aliases_drop_ubuntu_prefix_and_prefer_host_arch() {
    let catalog = cloud(CLOUD_URL);
    assert_eq!(
        catalog.alias("container", "xenial").unwrap().target,
        fp('5')
    );
    assert_eq!(catalog.alias("container", "x").unwrap().target, fp('5'));
    assert_eq!(
        catalog.alias("container", "16.04/amd64").unwrap().target,
        fp('5')
    );
    assert_eq!(
        catalog.alias("container", "xenial/arm64").unwrap().target,
        arm_fp()
    );
    assert_eq!(
        catalog.alias("virtual-machine", "xenial").unwrap().target,
        fp('6')
    );
    assert_eq!(
        catalog.alias("", "xenial").unwrap_err(),
        LookupError::AmbiguousAlias("xenial".into())
    );
    assert_eq!(
        catalog
            .alias("container", "ubuntu/xenial")
            .unwrap_err()
            .to_string(),
        "Alias 'ubuntu/xenial' doesn't exist"
    );
    // The root.tar.xz pairing of the same version gets no aliases: the squashfs one won.
    let rootxz = catalog.image(&fp('4')).unwrap();
    assert!(rootxz.aliases.is_empty());
    // The arm64 image only carries its medium aliases on an x86_64 host.
    let arm = catalog.image(&arm_fp()).unwrap();
    let names: Vec<&str> = arm.aliases.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["xenial/arm64", "16.04/arm64", "x/arm64"]);
}

#[test]
fn other_servers_keep_the_os_prefix() {
    let catalog = cloud("https://127.0.0.1:8443");
    assert_eq!(
        catalog.alias("container", "ubuntu/xenial").unwrap().target,
        fp('5')
    );
    assert!(catalog.alias("container", "xenial").is_err());
}

#[test]
fn cloud_images_image_properties_as_lxd_gives_them() {
    let catalog = cloud(CLOUD_URL);
    let image = catalog.image("5555").unwrap();
    assert_eq!(image.architecture, "x86_64");
    assert_eq!(image.kind, "container");
    assert_eq!(image.size, 80_800);
    assert_eq!(image.created_at, "2021-04-20T00:00:00Z");
    assert_eq!(image.expires_at, "2021-04-30T00:00:00Z");
    assert_eq!(
        image.filename,
        "ubuntu-16.04-server-cloudimg-amd64-lxd.tar.xz"
    );
    let p = &image.properties;
    assert_eq!(p["os"], "ubuntu");
    assert_eq!(p["release"], "xenial");
    assert_eq!(p["version"], "16.04");
    assert_eq!(p["architecture"], "amd64");
    assert_eq!(p["label"], "release");
    assert_eq!(p["serial"], "20210420");
    assert_eq!(p["type"], "squashfs");
    assert_eq!(
        p["description"],
        "ubuntu 16.04 LTS amd64 (release) (20210420)"
    );
    assert!(!p.contains_key("variant"));
    let vm = catalog.image(&fp('6')).unwrap();
    assert_eq!(vm.kind, "virtual-machine");
    let rootxz = catalog.image(&fp('4')).unwrap();
    assert_eq!(rootxz.properties["type"], "root.tar.xz");
    let combined = catalog.image(&fp('0')).unwrap();
    assert_eq!(combined.properties["type"], "tar.gz");
    assert_eq!(combined.properties["variant"], "default");
    assert_eq!(combined.created_at, "2024-02-01T00:00:00Z");
}

#[test]
fn files_include_meta_root_and_deltas_with_their_base() {
    let catalog = cloud(CLOUD_URL);
    let files = catalog.files(&fp('5')).unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[0].role, FileRole::Meta);
    assert_eq!(files[0].sha256, fp('3'));
    assert_eq!(files[1].role, FileRole::Root);
    assert_eq!(files[1].sha256, fp('8'));
    assert_eq!(files[2].role, FileRole::Delta(fp('b')));
    let files = catalog.files(&fp('0')).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path, "images/busybox.tar.gz");
}

#[test]
fn fingerprint_prefix_lookup_errors_as_lxd() {
    let catalog = cloud(CLOUD_URL);
    assert_eq!(
        catalog.image("").unwrap_err(),
        LookupError::AmbiguousFingerprint
    );
    assert_eq!(
        catalog.image("ffff").unwrap_err().to_string(),
        "The requested image couldn't be found"
    );
    assert_eq!(
        catalog.resolve("container", "44").unwrap().fingerprint,
        fp('4')
    );
}

#[test]
fn list_aliases_one_per_name_and_type() {
    let catalog = cloud(CLOUD_URL);
    let aliases = catalog.list_aliases();
    let xenial: Vec<&str> = aliases
        .iter()
        .filter(|a| a.name == "xenial")
        .map(|a| a.kind.as_str())
        .collect();
    assert_eq!(xenial, ["container", "virtual-machine"]);
}

#[test]
fn products_round_trip_keeps_every_field() {
    let original: serde_json::Value = serde_json::from_str(CLOUD_PRODUCTS).unwrap();
    let parsed = parse_products("p", CLOUD_PRODUCTS.as_bytes()).unwrap();
    let again = serde_json::to_value(&parsed).unwrap();
    assert_eq!(again, original);
}

#[test]
fn malformed_documents_are_errors_with_their_path() {
    let err = parse_products("streams/v1/x.json", b"{\"products\": 3}").unwrap_err();
    assert!(err
        .to_string()
        .starts_with("Failed decoding products JSON from \"streams/v1/x.json\""));
    assert!(parse_index("i", b"[").is_err());
    // JSON null where Go would leave a field empty is fine.
    let p = parse_products("p", br#"{"products": null}"#).unwrap();
    assert!(p.products.is_empty());
}

#[test]
fn mutated_inputs_never_panic() {
    // A cheap deterministic fuzz pass over the read path: byte flips and truncations.
    let base = CLOUD_PRODUCTS.as_bytes();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..2000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bytes = base.to_vec();
        let at = (state as usize) % bytes.len();
        if round % 3 == 0 {
            bytes.truncate(at);
        } else {
            bytes[at] = (state >> 32) as u8;
        }
        let _ = catalog_from_bytes(CLOUD_URL, "x86_64", &bytes);
    }
}
