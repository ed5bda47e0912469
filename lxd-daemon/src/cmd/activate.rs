//! `lxd activateifneeded`: start the daemon through its socket only when something needs it
//! (a network address to serve; instances to autostart come with the instances work).

use anyhow::Context;

/// Check the database and poke the socket when the daemon has work to do.
pub fn run() -> anyhow::Result<()> {
    let paths = crate::paths::Paths::from_env();
    let db_path = paths.database();
    if !db_path.exists() {
        tracing::debug!("No database, no need to start the daemon now");
        return Ok(());
    }
    let db = lxd_db::Database::open(&db_path).context("Failed to open the database")?;
    let config = db.read(lxd_db::server_config::get_all)?;
    db.close();
    let has_address = config
        .get("core.https_address")
        .is_some_and(|a| !a.is_empty());
    if !has_address {
        tracing::debug!("No need to start the daemon now");
        return Ok(());
    }
    let socket = paths.socket();
    super::local::block_on(async move { super::local::request(&socket, "GET", "/", None).await })??;
    Ok(())
}
