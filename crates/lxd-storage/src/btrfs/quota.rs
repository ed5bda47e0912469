//! Quotas and usage of the btrfs driver, through qgroups as LXD manages them: quotas are
//! enabled on the pool on first use, a volume's `0/<id>` qgroup gets a limit on referenced
//! data, usage is the qgroup's exclusive bytes (a tree walk when quotas are off).

use std::path::Path;

use super::{arg, BtrfsDriver};
use crate::error::StorageError;
use crate::fsutil;
use crate::volume::Pool;

/// A volume's qgroup as `btrfs qgroup show -e -f --raw` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QGroup {
    pub id: String,
    pub referenced: u64,
    pub exclusive: u64,
}

/// Why a volume's qgroup could not be read.
enum QGroupState {
    QuotaDisabled,
    Missing,
    Found(QGroup),
}

/// Parse the output of `btrfs qgroup show -e -f --raw <path>` (with or without the `Path`
/// column of btrfs-progs 6).
pub fn parse_qgroup_show(out: &str) -> Option<QGroup> {
    out.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let id = *fields.first()?;
        if fields.len() < 4 || !id.contains('/') || !id.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        Some(QGroup {
            id: id.to_string(),
            referenced: fields[1].parse().ok()?,
            exclusive: fields[2].parse().ok()?,
        })
    })
}

/// The `Subvolume ID:` line of `btrfs subvolume show`.
fn parse_subvolume_id(out: &str) -> Option<String> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("Subvolume ID:"))
        .map(|id| id.trim().to_string())
        .find(|id| !id.is_empty())
}

impl BtrfsDriver {
    fn qgroup(&self, path: &Path) -> QGroupState {
        let p = arg(path);
        match self
            .runner
            .run("btrfs", &["qgroup", "show", "-e", "-f", "--raw", &p])
        {
            Err(_) => QGroupState::QuotaDisabled,
            Ok(out) => parse_qgroup_show(&out).map_or(QGroupState::Missing, QGroupState::Found),
        }
    }

    /// Limit the subvolume at `path` to `size` referenced bytes; `None` lifts every limit.
    pub(super) fn quota_set(
        &self,
        pool: &Pool,
        path: &Path,
        size: Option<u64>,
    ) -> Result<(), StorageError> {
        let size = size.filter(|s| *s > 0);
        let mut state = self.qgroup(path);
        if let QGroupState::QuotaDisabled = state {
            if size.is_none() {
                return Ok(());
            }
            let m = arg(&pool.mount);
            self.run(
                "enable quotas on",
                &pool.mount,
                &["btrfs", "quota", "enable", &m],
            )?;
            state = self.qgroup(path);
        }
        if let QGroupState::Missing = state {
            let p = arg(path);
            let out = self.run("inspect", path, &["btrfs", "subvolume", "show", &p])?;
            let id = parse_subvolume_id(&out)
                .ok_or(StorageError::UnexpectedOutput("btrfs subvolume show"))?;
            let qgroup = format!("0/{id}");
            self.run(
                "create qgroup of",
                path,
                &["btrfs", "qgroup", "create", &qgroup, &p],
            )?;
            state = self.qgroup(path);
        }
        let QGroupState::Found(qgroup) = state else {
            return Err(StorageError::UnexpectedOutput("btrfs qgroup show"));
        };
        let (p, id) = (arg(path), qgroup.id.as_str());
        match size {
            Some(bytes) => {
                let limit = bytes.to_string();
                self.run("limit", path, &["btrfs", "qgroup", "limit", &limit, id, &p])?;
                self.run(
                    "limit",
                    path,
                    &["btrfs", "qgroup", "limit", "-e", "none", id, &p],
                )?;
            }
            None => {
                self.run("limit", path, &["btrfs", "qgroup", "limit", "none", id, &p])?;
                self.run(
                    "limit",
                    path,
                    &["btrfs", "qgroup", "limit", "none", "-e", id, &p],
                )?;
            }
        }
        Ok(())
    }

    /// Bytes used by the subvolume at `path`: its qgroup's exclusive data, or a tree walk.
    pub(super) fn quota_usage(&self, path: &Path) -> Result<u64, StorageError> {
        match self.qgroup(path) {
            QGroupState::Found(q) => Ok(q.exclusive),
            QGroupState::QuotaDisabled | QGroupState::Missing => fsutil::disk_usage(path),
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn parse_qgroup_show_progs6_path_column() {
        let out = "Qgroupid    Referenced    Exclusive  Max exclusive   Path \n\
                   --------    ----------    ---------  -------------   ---- \n\
                   0/257            16384        12288           none   images/x\n";
        assert_eq!(
            parse_qgroup_show(out),
            Some(QGroup {
                id: "0/257".into(),
                referenced: 16384,
                exclusive: 12288
            })
        );
    }

    #[test]
    fn parse_qgroup_show_header_only_none() {
        assert_eq!(
            parse_qgroup_show("qgroupid rfer excl max_excl\n-------- ---- ---- --------\n"),
            None
        );
    }

    #[test]
    fn parse_subvolume_id_found() {
        let out = "images/x\n\tName: \t\t\tx\n\tSubvolume ID: \t\t257\n";
        assert_eq!(parse_subvolume_id(out).as_deref(), Some("257"));
    }
}
