//! A small command-line front end for comparing this crate with a real LXD:
//!
//! ```text
//! image_tool fingerprint <unified> | <metadata> <rootfs>
//! image_tool metadata <tarball>
//! image_tool pack <dir> <output> [algorithm]
//! image_tool unpack <image> [<rootfs>] <volume-dir>
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use lxd_image::unpack::{unpack_image, DevicePolicy, ImageFiles, UnpackOptions};
use lxd_image::{fingerprint_file, fingerprint_split, metadata, pack};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let paths: Vec<&Path> = args.iter().skip(1).map(Path::new).collect();
    match (args.first().map(String::as_str), paths.as_slice()) {
        (Some("fingerprint"), [unified]) => println!("{}", fingerprint_file(unified)?),
        (Some("fingerprint"), [meta, rootfs]) => println!("{}", fingerprint_split(meta, rootfs)?),
        (Some("metadata"), [tarball]) => {
            let found = metadata::read_tarball_metadata(tarball)?;
            println!("{:?} {:?}", found.rootfs, found.metadata);
        }
        (Some("pack"), [dir, output, rest @ ..]) => {
            let algorithm = rest
                .first()
                .map_or("gzip".into(), |a| a.display().to_string());
            let options = pack::PackOptions {
                compression: algorithm,
                ..pack::PackOptions::default()
            };
            let start = Instant::now();
            let result = pack::pack_image(dir, output, &options, None)?;
            eprintln!("packed in {:.2?}", start.elapsed());
            println!("{} {}", result.fingerprint, result.size);
        }
        (Some("unpack"), [image @ .., volume]) if !image.is_empty() && image.len() <= 2 => {
            let files = ImageFiles {
                metadata: image[0].to_path_buf(),
                rootfs: image.get(1).map(PathBuf::from),
            };
            let options = UnpackOptions {
                devices: DevicePolicy::Standard,
                ..UnpackOptions::default()
            };
            let start = Instant::now();
            let summary =
                unpack_image(&lxd_sys::RealCommandRunner, &files, volume, &options, None)?;
            eprintln!(
                "unpacked {} entries in {:.2?}",
                summary.entries,
                start.elapsed()
            );
        }
        _ => return Err("usage: image_tool fingerprint|metadata|pack|unpack ...".into()),
    }
    Ok(())
}
