use std::io::{Read, Write};

use super::*;

const ALGORITHMS: [&str; 6] = ["none", "gzip", "xz", "bzip2", "lzma", "zstd"];

/// A small tarball so that `none` is detectable by its ustar magic.
fn tarball() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let payload: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let mut header = tar::Header::new_gnu();
    header.set_size(payload.len() as u64);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, "payload", payload.as_slice())
        .unwrap();
    builder.into_inner().unwrap()
}

fn compress(algorithm: &str, data: &[u8], threads: usize) -> Vec<u8> {
    let options = CompressorOptions {
        threads,
        level: None,
    };
    let mut writer = compressor(algorithm, Vec::new(), &options).unwrap();
    writer.write_all(data).unwrap();
    writer.finish().unwrap()
}

#[test]
fn compressor_every_algorithm_round_trips_and_is_detected() {
    let data = tarball();
    for algorithm in ALGORITHMS {
        let compressed = compress(algorithm, &data, 2);
        let kind = detect(&compressed).unwrap();
        assert_eq!(kind.algorithm(), Some(algorithm), "{algorithm}");
        let mut out = Vec::new();
        decoder(kind, compressed.as_slice())
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data, "{algorithm}");
    }
}

#[test]
fn detect_magic_bytes_match_lxd() {
    assert_eq!(detect(b"BZh91AY").unwrap(), Compression::Bzip2);
    assert_eq!(detect(&[0x1f, 0x8b, 8, 0]).unwrap(), Compression::Gzip);
    assert_eq!(detect(b"\xfd7zXZ\x00").unwrap(), Compression::Xz);
    assert_eq!(detect(&[0x5d, 0, 0, 0x80, 0]).unwrap(), Compression::Lzma);
    assert_eq!(detect(b"hsqs\x00\x00").unwrap(), Compression::Squashfs);
    assert_eq!(detect(b"QFI\xfb\x00").unwrap(), Compression::Qcow2);
    assert_eq!(
        detect(&[0x28, 0xb5, 0x2f, 0xfd]).unwrap(),
        Compression::Zstd
    );
    assert!(matches!(
        detect(b"hello world"),
        Err(CompressionError::Unsupported)
    ));
    assert_eq!(
        CompressionError::Unsupported.to_string(),
        "Unsupported compression"
    );
}

#[test]
fn detect_reader_stream_is_replayed_whole() {
    let data = compress("zstd", &tarball(), 1);
    let (kind, mut reader) = detect_reader(data.as_slice()).unwrap();
    assert_eq!(kind, Compression::Zstd);
    let mut replay = Vec::new();
    reader.read_to_end(&mut replay).unwrap();
    assert_eq!(replay, data);
}

#[test]
fn parallel_gzip_small_chunks_many_members_decode_in_order() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut writer = ParallelGzipWriter::with_chunk_size(Vec::new(), 6, 3, 4096);
    for piece in data.chunks(1000) {
        writer.write_all(piece).unwrap();
    }
    let gz = writer.finish().unwrap();
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(gz.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, data);
}

#[test]
fn parallel_gzip_output_accepted_by_gzip_tool() {
    let data = tarball();
    let gz = compress("gzip", &data, 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gz");
    std::fs::write(&path, &gz).unwrap();
    let Ok(out) = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
    else {
        eprintln!("skipped: gzip is not installed");
        return;
    };
    assert!(out.status.success());
    assert_eq!(out.stdout, data);
}

#[test]
fn parallel_gzip_empty_input_valid_stream() {
    let gz = ParallelGzipWriter::new(Vec::new(), 6, 2).finish().unwrap();
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(gz.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    assert!(out.is_empty());
}

#[test]
fn parallel_gzip_same_input_same_bytes() {
    let data = tarball();
    assert_eq!(compress("gzip", &data, 2), compress("gzip", &data, 2));
}

#[test]
fn compressor_unknown_algorithm_rejected() {
    let err = compressor("rar", Vec::new(), &CompressorOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "Unsupported compression algorithm \"rar\"");
}

#[test]
fn compressor_level_argument_accepted() {
    let data = tarball();
    let fast = compress("xz -1", &data, 1);
    assert_eq!(detect(&fast).unwrap(), Compression::Xz);
}

#[test]
fn decoder_squashfs_not_a_tarball_error() {
    let err = decoder(Compression::Squashfs, &b""[..]).err().unwrap();
    assert_eq!(err.to_string(), "squashfs is not a compressed tarball");
}

#[test]
fn extension_matches_lxd_export_names() {
    assert_eq!(Compression::Gzip.extension(), ".tar.gz");
    assert_eq!(Compression::Zstd.extension(), ".tar.zst");
    assert_eq!(Compression::Squashfs.extension(), ".squashfs");
}
