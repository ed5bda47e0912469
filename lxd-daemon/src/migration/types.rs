//! Transfer methods and their negotiation, as LXD 5.0.2 does it: each pool driver lists the
//! methods it can use (btrfs: `btrfs send` streams, then rsync; dir: rsync), the source offers
//! its preferred one with the rsync features as a fallback, and the target answers with what
//! both sides share (`TypesToHeader`, `MatchTypes`).

use super::proto::{
    fs_type_name, BtrfsFeatures, MigrationHeader, RsyncFeatures, ZfsFeatures, FS_BLOCK_AND_RSYNC,
    FS_BTRFS, FS_RSYNC, FS_ZFS,
};

/// The btrfs features this side speaks: a JSON subvolume header on the data channel, nested
/// subvolumes, and subvolume UUIDs for incremental refreshes.
pub const BTRFS_MIGRATION_HEADER: &str = "migration_header";
pub const BTRFS_HEADER_SUBVOLUMES: &str = "header_subvolumes";
pub const BTRFS_HEADER_SUBVOLUME_UUIDS: &str = "header_subvolume_uuids";

/// Version of the JSON index header sent on the data channel before the volumes.
pub const INDEX_HEADER_VERSION: u32 = 1;

/// One transfer method with its optional features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferType {
    pub fs: i32,
    pub features: Vec<String>,
}

impl TransferType {
    /// Whether feature `name` was agreed.
    pub fn has(&self, name: &str) -> bool {
        self.features.iter().any(|f| f == name)
    }
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The methods a pool of `driver` offers for container volumes (LXD's `MigrationTypes`);
/// `rsync.compression: false` drops rsync's `compress`.
pub fn pool_types(driver: &str, pool_config: &lxd_api::ConfigMap) -> Vec<TransferType> {
    let no_compress = pool_config
        .get("rsync.compression")
        .is_some_and(|v| matches!(v.to_lowercase().as_str(), "false" | "0" | "off" | "no"));
    let rsync = TransferType {
        fs: FS_RSYNC,
        features: if no_compress {
            owned(&["xattrs", "delete", "bidirectional"])
        } else {
            owned(&["xattrs", "delete", "compress", "bidirectional"])
        },
    };
    match driver {
        "btrfs" => vec![
            TransferType {
                fs: FS_BTRFS,
                features: owned(&[
                    BTRFS_MIGRATION_HEADER,
                    BTRFS_HEADER_SUBVOLUMES,
                    BTRFS_HEADER_SUBVOLUME_UUIDS,
                ]),
            },
            rsync,
        ],
        _ => vec![rsync],
    }
}

/// LXD's `TypesToHeader`: the first type is the preferred one; its btrfs (or zfs) features
/// are listed, every feature missing set to false, and the first rsync type gives the rsync
/// features.
pub fn types_to_header(types: &[TransferType]) -> MigrationHeader {
    let preferred = types.first().cloned().unwrap_or(TransferType {
        fs: FS_RSYNC,
        features: Vec::new(),
    });
    let mut header = MigrationHeader {
        fs: preferred.fs,
        ..Default::default()
    };
    let flag = |name: &str| Some(preferred.has(name));
    if preferred.fs == FS_ZFS {
        header.zfs_features = Some(ZfsFeatures {
            compress: flag("compress"),
            migration_header: preferred.has("migration_header").then_some(true),
        });
    }
    if preferred.fs == FS_BTRFS {
        header.btrfs_features = Some(BtrfsFeatures {
            migration_header: flag(BTRFS_MIGRATION_HEADER),
            header_subvolumes: flag(BTRFS_HEADER_SUBVOLUMES),
            header_subvolume_uuids: preferred.has(BTRFS_HEADER_SUBVOLUME_UUIDS).then_some(true),
        });
    }
    if let Some(rsync) = types
        .iter()
        .find(|t| t.fs == FS_RSYNC || t.fs == FS_BLOCK_AND_RSYNC)
    {
        header.rsync_features = Some(RsyncFeatures {
            xattrs: Some(rsync.has("xattrs")),
            delete: Some(rsync.has("delete")),
            compress: Some(rsync.has("compress")),
            bidirectional: Some(rsync.has("bidirectional")),
        });
    }
    header
}

/// The rsync features of a header; a peer that does not say `bidirectional` is an old LXD
/// whose features are assumed to be `xattrs delete compress`.
pub fn effective_rsync_features(header: &MigrationHeader) -> Vec<String> {
    let features = header.rsync_feature_names();
    if features.iter().any(|f| f == "bidirectional") {
        features
    } else {
        owned(&["xattrs", "delete", "compress"])
    }
}

/// LXD's `MatchTypes`: our types, in our order, that the offer's preferred type or the
/// `fallback` match, each with the features both sides have.
pub fn match_types(
    offer: &MigrationHeader,
    fallback: i32,
    ours: &[TransferType],
) -> Result<Vec<TransferType>, String> {
    let offered = [offer.fs, fallback];
    let mut matched = Vec::new();
    for our in ours {
        for &fs in &offered {
            if fs != our.fs {
                continue;
            }
            let offered_features = match fs {
                FS_ZFS => offer.zfs_feature_names(),
                FS_BTRFS => offer.btrfs_feature_names(),
                FS_RSYNC => effective_rsync_features(offer),
                _ => Vec::new(),
            };
            let common: Vec<String> = our
                .features
                .iter()
                .filter(|f| offered_features.contains(f))
                .cloned()
                .collect();
            if offer.refresh == Some(true) {
                let needs = match our.fs {
                    FS_ZFS => Some("migration_header"),
                    FS_BTRFS => Some(BTRFS_HEADER_SUBVOLUME_UUIDS),
                    _ => None,
                };
                if needs.is_some_and(|n| !common.iter().any(|c| c == n)) {
                    continue;
                }
            }
            matched.push(TransferType {
                fs: our.fs,
                features: common,
            });
        }
    }
    if matched.is_empty() {
        let offered: Vec<&str> = offered.iter().map(|f| fs_type_name(*f)).collect();
        let ours: Vec<&str> = ours.iter().map(|t| fs_type_name(t.fs)).collect();
        return Err(format!(
            "No matching migration types found. Offered types: [{}], our types: [{}]",
            offered.join(" "),
            ours.join(" ")
        ));
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btrfs_offer_to_dir_target_falls_back_to_rsync_with_common_features() {
        let offer = types_to_header(&pool_types("btrfs", &Default::default()));
        assert_eq!(offer.fs, FS_BTRFS);
        let dir_cfg = [("rsync.compression".to_string(), "false".to_string())].into();
        let matched = match_types(&offer, FS_RSYNC, &pool_types("dir", &dir_cfg)).unwrap();
        assert_eq!(matched.len(), 1);
        assert_eq!(matched[0].fs, FS_RSYNC);
        assert_eq!(matched[0].features, ["xattrs", "delete", "bidirectional"]);
    }

    #[test]
    fn btrfs_to_btrfs_prefers_send_streams_and_keeps_rsync_features() {
        let ours = pool_types("btrfs", &Default::default());
        let offer = types_to_header(&ours);
        let matched = match_types(&offer, FS_RSYNC, &ours).unwrap();
        assert_eq!(matched[0].fs, FS_BTRFS);
        assert!(matched[0].has(BTRFS_HEADER_SUBVOLUME_UUIDS));
        let answer = types_to_header(&matched);
        assert_eq!(answer.fs, FS_BTRFS);
        assert_eq!(answer.rsync_features.unwrap().compress, Some(true));
    }

    #[test]
    fn old_peer_without_bidirectional_gets_lxd_3_7_features() {
        let mut offer = types_to_header(&pool_types("dir", &Default::default()));
        offer.rsync_features = Some(RsyncFeatures {
            xattrs: Some(true),
            ..Default::default()
        });
        let matched = match_types(&offer, FS_RSYNC, &pool_types("dir", &Default::default()));
        assert_eq!(
            matched.unwrap()[0].features,
            ["xattrs", "delete", "compress"]
        );
    }

    #[test]
    fn refresh_skips_btrfs_without_uuid_feature_and_no_match_names_types() {
        let mut offer = types_to_header(&[TransferType {
            fs: FS_BTRFS,
            features: owned(&[BTRFS_MIGRATION_HEADER]),
        }]);
        offer.refresh = Some(true);
        let matched = match_types(&offer, FS_RSYNC, &pool_types("btrfs", &Default::default()));
        assert_eq!(matched.unwrap()[0].fs, FS_RSYNC);
        let zfs = MigrationHeader {
            fs: FS_ZFS,
            ..Default::default()
        };
        let err = match_types(
            &zfs,
            FS_ZFS,
            &[TransferType {
                fs: FS_BTRFS,
                features: Vec::new(),
            }],
        )
        .unwrap_err();
        assert_eq!(
            err,
            "No matching migration types found. Offered types: [ZFS ZFS], our types: [BTRFS]"
        );
    }
}
