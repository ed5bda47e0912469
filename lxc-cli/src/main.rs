//! The `lxc` command-line client.

fn main() {}
