//! Async client of the LXD REST API.
