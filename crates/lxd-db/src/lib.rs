//! SQLite state of the daemon.
