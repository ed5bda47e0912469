//! Configuration schemas: which keys exist, what values they take, and LXD's error texts.

pub mod devices;
pub mod instance;
pub mod server;
pub mod values;
