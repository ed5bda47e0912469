//! Server configuration rows (`config` table): plain key/value pairs.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use crate::error::DbError;

/// All stored server keys.
pub fn get_all(conn: &Connection) -> Result<BTreeMap<String, String>, DbError> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM config")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replace the whole server config with `config`.
pub fn replace_all(conn: &Connection, config: &BTreeMap<String, String>) -> Result<(), DbError> {
    conn.execute("DELETE FROM config", [])?;
    let mut stmt = conn.prepare_cached("INSERT INTO config (key, value) VALUES (?1, ?2)")?;
    for (k, v) in config {
        stmt.execute(params![k, v])?;
    }
    Ok(())
}
