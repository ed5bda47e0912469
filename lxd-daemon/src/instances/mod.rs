//! The instance backend: turning instance records into root filesystems on a pool and into
//! runtime specs, with the id maps LXD would give them. Handlers call into it; it never
//! speaks HTTP.

pub mod devices;
pub mod disks;
pub mod idmap;
pub mod rootfs;
pub mod spec;
pub mod templates;
