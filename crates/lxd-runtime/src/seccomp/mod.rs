//! seccomp: LXD's default deny list and the `security.syscalls.*` / `raw.seccomp` keys.
