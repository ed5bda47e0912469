//! The `lxd` daemon binary.

fn main() {}
