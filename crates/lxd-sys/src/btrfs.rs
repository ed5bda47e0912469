//! btrfs ioctls that `btrfs-progs` has no command for: setting a subvolume's "received UUID"
//! (`BTRFS_IOC_SET_RECEIVED_SUBVOL`), which `btrfs receive` uses to find the parent of an
//! incremental stream and which making a received subvolume writable clears.

use std::os::fd::AsRawFd;
use std::path::Path;

/// `struct btrfs_ioctl_received_subvol_args`: the UUID, then transids, times, flags and
/// reserved words, 192 bytes in all. Only the UUID is set; the rest stays zero.
#[repr(C)]
struct ReceivedSubvolArgs {
    uuid: [u8; 16],
    rest: [u64; 22],
}

/// `_IOWR(BTRFS_IOCTL_MAGIC, 37, struct btrfs_ioctl_received_subvol_args)`.
const BTRFS_IOC_SET_RECEIVED_SUBVOL: u64 = 0xC0C0_9425;

/// Parse `8-4-4-4-12` hex UUID text into its 16 bytes.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Set the received UUID of the (writable) subvolume at `path`.
pub fn set_received_uuid(path: &Path, uuid: &str) -> std::io::Result<()> {
    let uuid = parse_uuid(uuid).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "invalid subvolume UUID")
    })?;
    let dir = std::fs::File::open(path)?;
    let mut args = ReceivedSubvolArgs {
        uuid,
        rest: [0; 22],
    };
    // SAFETY: `dir` is an open descriptor for the duration of the call, and `args` is a live,
    // writable value with the kernel's layout and size (192 bytes, encoded in the request
    // number), which the kernel reads and then writes back.
    let ret = unsafe {
        libc::ioctl(
            dir.as_raw_fd(),
            BTRFS_IOC_SET_RECEIVED_SUBVOL as _,
            &mut args as *mut ReceivedSubvolArgs,
        )
    };
    if ret < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_have_the_kernel_size() {
        assert_eq!(std::mem::size_of::<ReceivedSubvolArgs>(), 192);
        assert_eq!((BTRFS_IOC_SET_RECEIVED_SUBVOL >> 16) & 0x3fff, 192);
    }

    #[test]
    fn parse_uuid_reads_dashed_hex() {
        let u = parse_uuid("4d651b2c-0e34-6a45-a3bb-51e0d0c7c1f2").unwrap();
        assert_eq!(u[0], 0x4d);
        assert_eq!(u[15], 0xf2);
        assert!(parse_uuid("-").is_none());
        assert!(parse_uuid("zz651b2c-0e34-6a45-a3bb-51e0d0c7c1f2").is_none());
    }

    #[test]
    fn set_received_uuid_on_a_plain_directory_fails() {
        let dir = tempfile::tempdir().unwrap();
        assert!(set_received_uuid(dir.path(), "4d651b2c-0e34-6a45-a3bb-51e0d0c7c1f2").is_err());
        assert_eq!(
            set_received_uuid(dir.path(), "bad").unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
    }
}
