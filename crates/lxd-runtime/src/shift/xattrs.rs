//! The two extended attributes that carry ids and must follow a shift, as LXD's shift does:
//! POSIX ACLs (`system.posix_acl_access` / `_default`: the qualifiers of named-user and
//! named-group entries) and file capabilities (`security.capability`: the root id a version 3
//! entry applies to). Pure byte transforms of the kernel's little-endian formats.

/// `POSIX_ACL_XATTR_VERSION`.
const ACL_VERSION: u32 = 2;
/// Header: the version (u32); each entry: tag (u16), perm (u16), id (u32).
const ACL_HEADER: usize = 4;
const ACL_ENTRY: usize = 8;
const ACL_USER: u16 = 0x02;
const ACL_GROUP: u16 = 0x08;

/// `VFS_CAP_REVISION_MASK` and the revisions of `security.capability`.
const CAP_REVISION_MASK: u32 = 0xFF00_0000;
const CAP_REVISION_1: u32 = 0x0100_0000;
const CAP_REVISION_2: u32 = 0x0200_0000;
const CAP_REVISION_3: u32 = 0x0300_0000;
/// `VFS_CAP_FLAGS_EFFECTIVE`.
const CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;
/// Sizes of revision 1 (one permitted/inheritable pair), 2 (two pairs) and 3 (plus rootid).
const CAP_V1_SIZE: usize = 12;
const CAP_V2_SIZE: usize = 20;
const CAP_V3_SIZE: usize = 24;

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// An ACL xattr with its named-user ids passed through `user` and named-group ids through
/// `group` (each returns `None` to keep an id). `None` when nothing changed or the value is
/// not a version 2 ACL.
pub fn shift_acl(
    value: &[u8],
    user: impl Fn(u32) -> Option<u32>,
    group: impl Fn(u32) -> Option<u32>,
) -> Option<Vec<u8>> {
    if value.len() < ACL_HEADER
        || !(value.len() - ACL_HEADER).is_multiple_of(ACL_ENTRY)
        || le32(value, 0) != ACL_VERSION
    {
        return None;
    }
    let mut out = value.to_vec();
    let mut changed = false;
    for at in (ACL_HEADER..value.len()).step_by(ACL_ENTRY) {
        let tag = u16::from_le_bytes([value[at], value[at + 1]]);
        let id = le32(value, at + 4);
        let new = match tag {
            ACL_USER => user(id),
            ACL_GROUP => group(id),
            _ => None,
        };
        if let Some(new) = new.filter(|n| *n != id) {
            out[at + 4..at + 8].copy_from_slice(&new.to_le_bytes());
            changed = true;
        }
    }
    changed.then_some(out)
}

/// The permitted/inheritable words of a capability xattr and whether it is effective, or
/// `None` for a value of unknown revision or size.
fn cap_parts(value: &[u8]) -> Option<(bool, Vec<u8>)> {
    if value.len() < 4 {
        return None;
    }
    let magic = le32(value, 0);
    let data_len = match (magic & CAP_REVISION_MASK, value.len()) {
        (CAP_REVISION_1, CAP_V1_SIZE) => 8,
        (CAP_REVISION_2, CAP_V2_SIZE) | (CAP_REVISION_3, CAP_V3_SIZE) => 16,
        _ => return None,
    };
    let mut data = value[4..4 + data_len].to_vec();
    data.resize(16, 0);
    Some((magic & CAP_FLAGS_EFFECTIVE != 0, data))
}

/// The root id a version 3 capability xattr applies to (`None` for revisions 1 and 2, which
/// apply to the filesystem's root).
pub fn cap_rootid(value: &[u8]) -> Option<u32> {
    let v3 = value.len() == CAP_V3_SIZE && le32(value, 0) & CAP_REVISION_MASK == CAP_REVISION_3;
    v3.then(|| le32(value, 20))
}

/// The same capabilities as a version 3 xattr for the user namespace whose root is host uid
/// `rootid` (what a shifted file needs to keep its capabilities inside the container).
pub fn caps_for_root(value: &[u8], rootid: u32) -> Option<Vec<u8>> {
    let (effective, data) = cap_parts(value)?;
    let mut out = Vec::with_capacity(CAP_V3_SIZE);
    let magic = CAP_REVISION_3 | if effective { CAP_FLAGS_EFFECTIVE } else { 0 };
    out.extend_from_slice(&magic.to_le_bytes());
    out.extend_from_slice(&data);
    out.extend_from_slice(&rootid.to_le_bytes());
    Some(out)
}

/// The same capabilities as a version 2 xattr (for the host's root: an unshifted file).
pub fn caps_for_host_root(value: &[u8]) -> Option<Vec<u8>> {
    let (effective, data) = cap_parts(value)?;
    let mut out = Vec::with_capacity(CAP_V2_SIZE);
    let magic = CAP_REVISION_2 | if effective { CAP_FLAGS_EFFECTIVE } else { 0 };
    out.extend_from_slice(&magic.to_le_bytes());
    out.extend_from_slice(&data);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(entries: &[(u16, u16, u32)]) -> Vec<u8> {
        let mut out = ACL_VERSION.to_le_bytes().to_vec();
        for (tag, perm, id) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&perm.to_le_bytes());
            out.extend_from_slice(&id.to_le_bytes());
        }
        out
    }

    const UNDEFINED: u32 = u32::MAX;

    #[test]
    fn shift_acl_named_entries_shifted_others_kept() {
        let value = acl(&[
            (0x01, 7, UNDEFINED),
            (ACL_USER, 6, 1000),
            (0x04, 5, UNDEFINED),
            (ACL_GROUP, 4, 50),
            (0x10, 7, UNDEFINED),
            (0x20, 0, UNDEFINED),
        ]);
        let shifted = shift_acl(&value, |u| Some(u + 100_000), |g| Some(g + 200_000)).unwrap();
        let want = acl(&[
            (0x01, 7, UNDEFINED),
            (ACL_USER, 6, 101_000),
            (0x04, 5, UNDEFINED),
            (ACL_GROUP, 4, 200_050),
            (0x10, 7, UNDEFINED),
            (0x20, 0, UNDEFINED),
        ]);
        assert_eq!(shifted, want);
    }

    #[test]
    fn shift_acl_unmapped_or_malformed_untouched() {
        let value = acl(&[(ACL_USER, 6, 1000)]);
        assert_eq!(shift_acl(&value, |_| None, |_| None), None);
        assert_eq!(shift_acl(&value[..7], |u| Some(u + 1), Some), None);
        let mut v1 = value.clone();
        v1[0] = 1;
        assert_eq!(shift_acl(&v1, |u| Some(u + 1), Some), None);
    }

    /// A version 2 xattr granting cap_net_raw (bit 13) permitted and effective.
    fn net_raw_v2() -> Vec<u8> {
        let mut v = (CAP_REVISION_2 | CAP_FLAGS_EFFECTIVE)
            .to_le_bytes()
            .to_vec();
        v.extend_from_slice(&(1u32 << 13).to_le_bytes());
        v.extend_from_slice(&[0; 12]);
        v
    }

    #[test]
    fn caps_for_root_v2_to_v3_keeps_bits_sets_rootid() {
        let v3 = caps_for_root(&net_raw_v2(), 1_000_000).unwrap();
        assert_eq!(v3.len(), CAP_V3_SIZE);
        assert_eq!(le32(&v3, 0), CAP_REVISION_3 | CAP_FLAGS_EFFECTIVE);
        assert_eq!(le32(&v3, 4), 1 << 13);
        assert_eq!(cap_rootid(&v3), Some(1_000_000));
        assert_eq!(cap_rootid(&net_raw_v2()), None);
    }

    #[test]
    fn caps_for_host_root_v3_back_to_v2() {
        let v3 = caps_for_root(&net_raw_v2(), 1_000_000).unwrap();
        assert_eq!(caps_for_host_root(&v3).unwrap(), net_raw_v2());
    }

    #[test]
    fn caps_v1_and_garbage() {
        let mut v1 = CAP_REVISION_1.to_le_bytes().to_vec();
        v1.extend_from_slice(&5u32.to_le_bytes());
        v1.extend_from_slice(&0u32.to_le_bytes());
        let v3 = caps_for_root(&v1, 7).unwrap();
        assert_eq!(
            (le32(&v3, 0), le32(&v3, 4), le32(&v3, 20)),
            (CAP_REVISION_3, 5, 7)
        );
        assert_eq!(caps_for_root(&[1, 2, 3], 7), None);
        assert_eq!(caps_for_root(&net_raw_v2()[..16], 7), None);
    }
}
