//! Pure helpers shared by the daemon and the CLI; no I/O.
