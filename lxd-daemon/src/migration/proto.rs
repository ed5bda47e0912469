//! The protobuf messages of LXD's migration control channel (`MigrationHeader`,
//! `MigrationControl`, `MigrationSync` and what they hold), encoded and decoded by hand from
//! their proto2 field numbers: varints, length-delimited strings and nested messages, unpacked
//! repeated fields. Required fields are always written, since LXD's decoder refuses a message
//! without them; unknown fields are skipped when reading.

use thiserror::Error;

/// A control message that cannot be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProtoError {
    #[error("Truncated protobuf message")]
    Truncated,
    #[error("Unsupported protobuf wire type {0}")]
    WireType(u8),
    #[error("Invalid UTF-8 in protobuf string")]
    Utf8,
    #[error("Missing required protobuf field {0}")]
    Missing(&'static str),
}

/// `MigrationFSType`.
pub const FS_RSYNC: i32 = 0;
pub const FS_BTRFS: i32 = 1;
pub const FS_ZFS: i32 = 2;
pub const FS_RBD: i32 = 3;
pub const FS_BLOCK_AND_RSYNC: i32 = 4;

/// `CRIUType`.
pub const CRIU_RSYNC: i32 = 0;
pub const CRIU_NONE: i32 = 2;

/// LXD's name of a `MigrationFSType` value.
pub fn fs_type_name(fs: i32) -> &'static str {
    match fs {
        FS_RSYNC => "RSYNC",
        FS_BTRFS => "BTRFS",
        FS_ZFS => "ZFS",
        FS_RBD => "RBD",
        FS_BLOCK_AND_RSYNC => "BLOCK_AND_RSYNC",
        _ => "UNKNOWN",
    }
}

/// `IDMapType`: one entry of the map the source's data is stored with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMapEntry {
    pub isuid: bool,
    pub isgid: bool,
    pub hostid: i32,
    pub nsid: i32,
    pub maprange: i32,
}

/// `Snapshot`: a snapshot's record as the source describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub name: String,
    pub local_config: Vec<(String, String)>,
    pub profiles: Vec<String>,
    pub ephemeral: bool,
    /// Device name and its keys.
    pub local_devices: Vec<(String, Vec<(String, String)>)>,
    /// LXD's architecture number (`osarch`).
    pub architecture: i32,
    pub stateful: bool,
    /// Unix seconds.
    pub creation_date: Option<i64>,
    pub last_used_date: Option<i64>,
    pub expiry_date: Option<i64>,
}

/// `rsyncFeatures`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RsyncFeatures {
    pub xattrs: Option<bool>,
    pub delete: Option<bool>,
    pub compress: Option<bool>,
    pub bidirectional: Option<bool>,
}

/// `zfsFeatures` (kept so a header read from LXD round-trips; never offered here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZfsFeatures {
    pub compress: Option<bool>,
    pub migration_header: Option<bool>,
}

/// `btrfsFeatures`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BtrfsFeatures {
    pub migration_header: Option<bool>,
    pub header_subvolumes: Option<bool>,
    pub header_subvolume_uuids: Option<bool>,
}

/// `MigrationHeader`: the offer of a source and the answer of a target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationHeader {
    pub fs: i32,
    pub criu: Option<i32>,
    pub idmap: Vec<IdMapEntry>,
    pub snapshot_names: Vec<String>,
    pub snapshots: Vec<SnapshotInfo>,
    pub predump: Option<bool>,
    pub rsync_features: Option<RsyncFeatures>,
    pub refresh: Option<bool>,
    pub zfs_features: Option<ZfsFeatures>,
    pub volume_size: Option<i64>,
    pub btrfs_features: Option<BtrfsFeatures>,
    pub index_header_version: Option<u32>,
}

/// `MigrationControl`: the final word of either side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationControl {
    pub success: bool,
    pub message: Option<String>,
}

/// `MigrationSync` (CRIU pre-dumps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationSync {
    pub final_pre_dump: bool,
}

// ---- encoding ----

#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    fn raw_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.raw_varint((u64::from(field) << 3) | u64::from(wire));
    }

    fn varint(&mut self, field: u32, v: u64) {
        self.key(field, 0);
        self.raw_varint(v);
    }

    /// int32/int64/enum: negative values sign-extend to ten bytes, as protobuf requires.
    fn int(&mut self, field: u32, v: i64) {
        self.varint(field, v as u64);
    }

    fn boolean(&mut self, field: u32, v: bool) {
        self.varint(field, u64::from(v));
    }

    fn bytes(&mut self, field: u32, v: &[u8]) {
        self.key(field, 2);
        self.raw_varint(v.len() as u64);
        self.0.extend_from_slice(v);
    }

    fn message(&mut self, field: u32, inner: Out) {
        self.bytes(field, &inner.0);
    }

    fn opt_bool(&mut self, field: u32, v: Option<bool>) {
        if let Some(v) = v {
            self.boolean(field, v);
        }
    }
}

fn config_entry(key: &str, value: &str) -> Out {
    let mut o = Out::default();
    o.bytes(1, key.as_bytes());
    o.bytes(2, value.as_bytes());
    o
}

impl IdMapEntry {
    fn encode(&self) -> Out {
        let mut o = Out::default();
        o.boolean(1, self.isuid);
        o.boolean(2, self.isgid);
        o.int(3, i64::from(self.hostid));
        o.int(4, i64::from(self.nsid));
        o.int(5, i64::from(self.maprange));
        o
    }
}

impl SnapshotInfo {
    fn encode(&self) -> Out {
        let mut o = Out::default();
        o.bytes(1, self.name.as_bytes());
        for (k, v) in &self.local_config {
            o.message(2, config_entry(k, v));
        }
        for p in &self.profiles {
            o.bytes(3, p.as_bytes());
        }
        o.boolean(4, self.ephemeral);
        for (name, keys) in &self.local_devices {
            let mut d = Out::default();
            d.bytes(1, name.as_bytes());
            for (k, v) in keys {
                d.message(2, config_entry(k, v));
            }
            o.message(5, d);
        }
        o.int(6, i64::from(self.architecture));
        o.boolean(7, self.stateful);
        for (field, v) in [
            (8, self.creation_date),
            (9, self.last_used_date),
            (10, self.expiry_date),
        ] {
            if let Some(v) = v {
                o.int(field, v);
            }
        }
        o
    }
}

impl MigrationHeader {
    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        o.int(1, i64::from(self.fs));
        if let Some(c) = self.criu {
            o.int(2, i64::from(c));
        }
        for e in &self.idmap {
            o.message(3, e.encode());
        }
        for n in &self.snapshot_names {
            o.bytes(4, n.as_bytes());
        }
        for s in &self.snapshots {
            o.message(5, s.encode());
        }
        o.opt_bool(7, self.predump);
        if let Some(f) = &self.rsync_features {
            let mut i = Out::default();
            i.opt_bool(1, f.xattrs);
            i.opt_bool(2, f.delete);
            i.opt_bool(3, f.compress);
            i.opt_bool(4, f.bidirectional);
            o.message(8, i);
        }
        o.opt_bool(9, self.refresh);
        if let Some(f) = &self.zfs_features {
            let mut i = Out::default();
            i.opt_bool(1, f.compress);
            i.opt_bool(2, f.migration_header);
            o.message(10, i);
        }
        if let Some(v) = self.volume_size {
            o.int(11, v);
        }
        if let Some(f) = &self.btrfs_features {
            let mut i = Out::default();
            i.opt_bool(1, f.migration_header);
            i.opt_bool(2, f.header_subvolumes);
            i.opt_bool(3, f.header_subvolume_uuids);
            o.message(12, i);
        }
        if let Some(v) = self.index_header_version {
            o.varint(13, u64::from(v));
        }
        o.0
    }

    /// Read a header; `fs` is required.
    pub fn decode(buf: &[u8]) -> Result<Self, ProtoError> {
        let mut h = Self::default();
        let mut have_fs = false;
        for field in Fields::new(buf) {
            let (num, value) = field?;
            match (num, value) {
                (1, Value::Varint(v)) => {
                    h.fs = v as i32;
                    have_fs = true;
                }
                (2, Value::Varint(v)) => h.criu = Some(v as i32),
                (3, Value::Bytes(b)) => h.idmap.push(decode_idmap(b)?),
                (4, Value::Bytes(b)) => h.snapshot_names.push(string(b)?),
                (5, Value::Bytes(b)) => h.snapshots.push(decode_snapshot(b)?),
                (7, Value::Varint(v)) => h.predump = Some(v != 0),
                (8, Value::Bytes(b)) => {
                    let mut f = RsyncFeatures::default();
                    for field in Fields::new(b) {
                        match field? {
                            (1, Value::Varint(v)) => f.xattrs = Some(v != 0),
                            (2, Value::Varint(v)) => f.delete = Some(v != 0),
                            (3, Value::Varint(v)) => f.compress = Some(v != 0),
                            (4, Value::Varint(v)) => f.bidirectional = Some(v != 0),
                            _ => {}
                        }
                    }
                    h.rsync_features = Some(f);
                }
                (9, Value::Varint(v)) => h.refresh = Some(v != 0),
                (10, Value::Bytes(b)) => {
                    let mut f = ZfsFeatures::default();
                    for field in Fields::new(b) {
                        match field? {
                            (1, Value::Varint(v)) => f.compress = Some(v != 0),
                            (2, Value::Varint(v)) => f.migration_header = Some(v != 0),
                            _ => {}
                        }
                    }
                    h.zfs_features = Some(f);
                }
                (11, Value::Varint(v)) => h.volume_size = Some(v as i64),
                (12, Value::Bytes(b)) => {
                    let mut f = BtrfsFeatures::default();
                    for field in Fields::new(b) {
                        match field? {
                            (1, Value::Varint(v)) => f.migration_header = Some(v != 0),
                            (2, Value::Varint(v)) => f.header_subvolumes = Some(v != 0),
                            (3, Value::Varint(v)) => f.header_subvolume_uuids = Some(v != 0),
                            _ => {}
                        }
                    }
                    h.btrfs_features = Some(f);
                }
                (13, Value::Varint(v)) => h.index_header_version = Some(v as u32),
                _ => {}
            }
        }
        if !have_fs {
            return Err(ProtoError::Missing("fs"));
        }
        Ok(h)
    }

    /// LXD's `GetRsyncFeaturesSlice`.
    pub fn rsync_feature_names(&self) -> Vec<String> {
        let Some(f) = &self.rsync_features else {
            return Vec::new();
        };
        [
            ("xattrs", f.xattrs),
            ("delete", f.delete),
            ("compress", f.compress),
            ("bidirectional", f.bidirectional),
        ]
        .into_iter()
        .filter(|(_, v)| *v == Some(true))
        .map(|(n, _)| n.to_string())
        .collect()
    }

    /// LXD's `GetBtrfsFeaturesSlice`.
    pub fn btrfs_feature_names(&self) -> Vec<String> {
        let Some(f) = &self.btrfs_features else {
            return Vec::new();
        };
        [
            ("migration_header", f.migration_header),
            ("header_subvolumes", f.header_subvolumes),
            ("header_subvolume_uuids", f.header_subvolume_uuids),
        ]
        .into_iter()
        .filter(|(_, v)| *v == Some(true))
        .map(|(n, _)| n.to_string())
        .collect()
    }

    /// LXD's `GetZfsFeaturesSlice`.
    pub fn zfs_feature_names(&self) -> Vec<String> {
        let Some(f) = &self.zfs_features else {
            return Vec::new();
        };
        [
            ("compress", f.compress),
            ("migration_header", f.migration_header),
        ]
        .into_iter()
        .filter(|(_, v)| *v == Some(true))
        .map(|(n, _)| n.to_string())
        .collect()
    }
}

impl MigrationControl {
    /// A success, or a failure carrying `error`'s text (LXD always sends the message field).
    pub fn from_result(error: Option<&str>) -> Self {
        Self {
            success: error.is_none(),
            message: Some(error.unwrap_or_default().to_string()),
        }
    }

    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        o.boolean(1, self.success);
        if let Some(m) = &self.message {
            o.bytes(2, m.as_bytes());
        }
        o.0
    }

    /// Read a control message; `success` is required.
    pub fn decode(buf: &[u8]) -> Result<Self, ProtoError> {
        let mut c = Self::default();
        let mut have_success = false;
        for field in Fields::new(buf) {
            match field? {
                (1, Value::Varint(v)) => {
                    c.success = v != 0;
                    have_success = true;
                }
                (2, Value::Bytes(b)) => c.message = Some(string(b)?),
                _ => {}
            }
        }
        if !have_success {
            return Err(ProtoError::Missing("success"));
        }
        Ok(c)
    }
}

impl MigrationSync {
    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        o.boolean(1, self.final_pre_dump);
        o.0
    }
}

// ---- decoding ----

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Iterates over `(field number, value)` pairs of one message.
struct Fields<'a> {
    buf: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, failed: false }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(ProtoError::Truncated)?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ProtoError::Truncated)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        if self.buf.len() < n {
            return Err(ProtoError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn field(&mut self) -> Result<(u32, Value<'a>), ProtoError> {
        let key = self.varint()?;
        let num = (key >> 3) as u32;
        let value = match (key & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| ProtoError::Truncated)?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            other => return Err(ProtoError::WireType(other)),
        };
        Ok((num, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() || self.failed {
            return None;
        }
        let r = self.field();
        self.failed = r.is_err();
        Some(r)
    }
}

fn string(b: &[u8]) -> Result<String, ProtoError> {
    String::from_utf8(b.to_vec()).map_err(|_| ProtoError::Utf8)
}

fn decode_config(b: &[u8]) -> Result<(String, String), ProtoError> {
    let (mut k, mut v) = (String::new(), String::new());
    for field in Fields::new(b) {
        match field? {
            (1, Value::Bytes(x)) => k = string(x)?,
            (2, Value::Bytes(x)) => v = string(x)?,
            _ => {}
        }
    }
    Ok((k, v))
}

fn decode_idmap(b: &[u8]) -> Result<IdMapEntry, ProtoError> {
    let mut e = IdMapEntry::default();
    for field in Fields::new(b) {
        match field? {
            (1, Value::Varint(v)) => e.isuid = v != 0,
            (2, Value::Varint(v)) => e.isgid = v != 0,
            (3, Value::Varint(v)) => e.hostid = v as i32,
            (4, Value::Varint(v)) => e.nsid = v as i32,
            (5, Value::Varint(v)) => e.maprange = v as i32,
            _ => {}
        }
    }
    Ok(e)
}

fn decode_snapshot(b: &[u8]) -> Result<SnapshotInfo, ProtoError> {
    let mut s = SnapshotInfo::default();
    for field in Fields::new(b) {
        match field? {
            (1, Value::Bytes(x)) => s.name = string(x)?,
            (2, Value::Bytes(x)) => s.local_config.push(decode_config(x)?),
            (3, Value::Bytes(x)) => s.profiles.push(string(x)?),
            (4, Value::Varint(v)) => s.ephemeral = v != 0,
            (5, Value::Bytes(x)) => {
                let (mut name, mut keys) = (String::new(), Vec::new());
                for field in Fields::new(x) {
                    match field? {
                        (1, Value::Bytes(n)) => name = string(n)?,
                        (2, Value::Bytes(c)) => keys.push(decode_config(c)?),
                        _ => {}
                    }
                }
                s.local_devices.push((name, keys));
            }
            (6, Value::Varint(v)) => s.architecture = v as i32,
            (7, Value::Varint(v)) => s.stateful = v != 0,
            (8, Value::Varint(v)) => s.creation_date = Some(v as i64),
            (9, Value::Varint(v)) => s.last_used_date = Some(v as i64),
            (10, Value::Varint(v)) => s.expiry_date = Some(v as i64),
            _ => {}
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_encodes_as_go_protobuf_does() {
        // Go: proto.Marshal(&MigrationControl{Success: true, Message: ""}) = 08 01 12 00.
        let ok = MigrationControl::from_result(None).encode();
        assert_eq!(ok, vec![0x08, 0x01, 0x12, 0x00]);
        let failed = MigrationControl::from_result(Some("boom")).encode();
        assert_eq!(failed, b"\x08\x00\x12\x04boom".to_vec());
        let back = MigrationControl::decode(&failed).unwrap();
        assert!(!back.success);
        assert_eq!(back.message.as_deref(), Some("boom"));
        assert_eq!(
            MigrationControl::decode(b"\x12\x00"),
            Err(ProtoError::Missing("success"))
        );
    }

    #[test]
    fn header_round_trips_every_field() {
        let h = MigrationHeader {
            fs: FS_BTRFS,
            criu: Some(CRIU_NONE),
            idmap: vec![IdMapEntry {
                isuid: true,
                isgid: false,
                hostid: 1_000_000,
                nsid: 0,
                maprange: 65536,
            }],
            snapshot_names: vec!["snap0".into(), "snap1".into()],
            snapshots: vec![SnapshotInfo {
                name: "snap0".into(),
                local_config: vec![("user.a".into(), "b".into())],
                profiles: vec!["default".into()],
                ephemeral: false,
                local_devices: vec![(
                    "root".into(),
                    vec![("path".into(), "/".into()), ("type".into(), "disk".into())],
                )],
                architecture: 2,
                stateful: false,
                creation_date: Some(1_700_000_000),
                last_used_date: Some(0),
                expiry_date: Some(-62_135_596_800),
            }],
            predump: Some(false),
            rsync_features: Some(RsyncFeatures {
                xattrs: Some(true),
                delete: Some(true),
                compress: Some(false),
                bidirectional: Some(true),
            }),
            refresh: Some(true),
            zfs_features: None,
            volume_size: Some(-1),
            btrfs_features: Some(BtrfsFeatures {
                migration_header: Some(true),
                header_subvolumes: Some(false),
                header_subvolume_uuids: Some(true),
            }),
            index_header_version: Some(1),
        };
        let back = MigrationHeader::decode(&h.encode()).unwrap();
        assert_eq!(back, h);
        assert_eq!(
            back.rsync_feature_names(),
            vec!["xattrs", "delete", "bidirectional"]
        );
        assert_eq!(
            back.btrfs_feature_names(),
            vec!["migration_header", "header_subvolume_uuids"]
        );
    }

    #[test]
    fn header_negative_int_uses_ten_byte_varint() {
        let h = MigrationHeader {
            volume_size: Some(-1),
            ..Default::default()
        };
        let bytes = h.encode();
        // fs=0 (08 00), then field 11 varint: 58 and ten bytes.
        assert_eq!(&bytes[..2], &[0x08, 0x00]);
        assert_eq!(bytes[2], 0x58);
        assert_eq!(bytes.len(), 2 + 1 + 10);
    }

    #[test]
    fn header_decode_skips_unknown_fields_and_rejects_garbage() {
        // fs=1, unknown field 20 (varint), unknown field 21 (fixed32).
        let buf = [0x08, 0x01, 0xa0, 0x01, 0x05, 0xad, 0x01, 1, 2, 3, 4];
        let h = MigrationHeader::decode(&buf).unwrap();
        assert_eq!(h.fs, FS_BTRFS);
        assert_eq!(MigrationHeader::decode(&[0x08]), Err(ProtoError::Truncated));
        assert_eq!(
            MigrationHeader::decode(&[0x22, 0x05, b'a']),
            Err(ProtoError::Truncated)
        );
        assert_eq!(
            MigrationHeader::decode(&[0x10, 0x01]),
            Err(ProtoError::Missing("fs"))
        );
    }
}
