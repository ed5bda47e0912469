//! Storage drivers behind one trait. Drivers act on the filesystem only; the daemon's storage
//! backend records their results in the database.

pub mod dir;
pub mod driver;

pub use driver::{DriverInfo, PoolConfig, StorageDriver, StorageError};

/// Drivers this build supports, as listed in `storage_supported_drivers`.
pub fn supported_drivers() -> Vec<DriverInfo> {
    vec![dir::DirDriver.info()]
}

/// The driver called `name`.
pub fn driver(name: &str) -> Option<Box<dyn StorageDriver>> {
    match name {
        "dir" => Some(Box::new(dir::DirDriver)),
        _ => None,
    }
}
