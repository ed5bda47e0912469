//! Numbered schema migrations. A migration is never edited once released; add a new one.

use rusqlite::{Connection, Transaction};

/// Migrations in order; index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    // 1: the foundation: server config, projects, profiles, storage pools, warnings.
    r#"
    CREATE TABLE config (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE projects_config (
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (project_id, key)
    );
    CREATE TABLE profiles (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        UNIQUE (project_id, name)
    );
    CREATE TABLE profiles_config (
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (profile_id, key)
    );
    CREATE TABLE profiles_devices (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        UNIQUE (profile_id, name)
    );
    CREATE TABLE profiles_devices_config (
        device_id INTEGER NOT NULL REFERENCES profiles_devices(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (device_id, key)
    );
    CREATE TABLE storage_pools (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        driver TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'Created'
    );
    CREATE TABLE storage_pools_config (
        pool_id INTEGER NOT NULL REFERENCES storage_pools(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (pool_id, key)
    );
    CREATE TABLE warnings (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        project TEXT NOT NULL DEFAULT '',
        type TEXT NOT NULL,
        entity_url TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'new',
        severity TEXT NOT NULL DEFAULT 'low',
        count INTEGER NOT NULL DEFAULT 1,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        last_message TEXT NOT NULL DEFAULT '',
        UNIQUE (project, type, entity_url)
    );
    INSERT INTO projects (name, description) VALUES ('default', 'Default LXD project');
    INSERT INTO projects_config (project_id, key, value)
        SELECT id, k, 'true' FROM projects,
        (SELECT 'features.images' AS k UNION ALL SELECT 'features.networks'
         UNION ALL SELECT 'features.profiles' UNION ALL SELECT 'features.storage.volumes')
        WHERE name = 'default';
    INSERT INTO profiles (project_id, name, description)
        SELECT id, 'default', 'Default LXD profile' FROM projects WHERE name = 'default';
    "#,
    // 2: images, their properties and aliases (per project).
    r#"
    CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        fingerprint TEXT NOT NULL,
        filename TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL,
        public INTEGER NOT NULL DEFAULT 0,
        architecture TEXT NOT NULL,
        type TEXT NOT NULL DEFAULT 'container',
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        uploaded_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL,
        cached INTEGER NOT NULL DEFAULT 0,
        auto_update INTEGER NOT NULL DEFAULT 0,
        profiles TEXT,
        update_source TEXT,
        UNIQUE (project_id, fingerprint)
    );
    CREATE TABLE images_properties (
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (image_id, key)
    );
    CREATE TABLE images_aliases (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        description TEXT NOT NULL DEFAULT '',
        UNIQUE (project_id, name)
    );
    "#,
    // 3: instances with config, devices, ordered profiles, and snapshots.
    r#"
    CREATE TABLE instances (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        type TEXT NOT NULL DEFAULT 'container',
        architecture TEXT NOT NULL,
        ephemeral INTEGER NOT NULL DEFAULT 0,
        stateful INTEGER NOT NULL DEFAULT 0,
        description TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL,
        UNIQUE (project_id, name)
    );
    CREATE TABLE instances_config (
        instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (instance_id, key)
    );
    CREATE TABLE instances_devices (
        id INTEGER PRIMARY KEY,
        instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        UNIQUE (instance_id, name)
    );
    CREATE TABLE instances_devices_config (
        device_id INTEGER NOT NULL REFERENCES instances_devices(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (device_id, key)
    );
    -- A profile in use cannot be deleted (LXD refuses before the database is asked).
    CREATE TABLE instances_profiles (
        instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        profile_id INTEGER NOT NULL REFERENCES profiles(id),
        apply_order INTEGER NOT NULL,
        UNIQUE (instance_id, profile_id)
    );
    CREATE INDEX instances_profiles_profile ON instances_profiles (profile_id);
    CREATE TABLE instances_snapshots (
        id INTEGER PRIMARY KEY,
        instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        stateful INTEGER NOT NULL DEFAULT 0,
        description TEXT NOT NULL DEFAULT '',
        architecture TEXT NOT NULL,
        ephemeral INTEGER NOT NULL DEFAULT 0,
        profiles TEXT NOT NULL DEFAULT '[]',
        UNIQUE (instance_id, name)
    );
    CREATE TABLE instances_snapshots_config (
        snapshot_id INTEGER NOT NULL REFERENCES instances_snapshots(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (snapshot_id, key)
    );
    CREATE TABLE instances_snapshots_devices (
        id INTEGER PRIMARY KEY,
        snapshot_id INTEGER NOT NULL REFERENCES instances_snapshots(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        UNIQUE (snapshot_id, name)
    );
    CREATE TABLE instances_snapshots_devices_config (
        device_id INTEGER NOT NULL REFERENCES instances_snapshots_devices(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (device_id, key)
    );
    "#,
    // 4: storage volumes (custom ones; instance and image volumes are derived) and their
    // snapshots, each with config.
    r#"
    CREATE TABLE storage_volumes (
        id INTEGER PRIMARY KEY,
        pool_id INTEGER NOT NULL REFERENCES storage_pools(id) ON DELETE CASCADE,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        type TEXT NOT NULL DEFAULT 'custom',
        description TEXT NOT NULL DEFAULT '',
        content_type TEXT NOT NULL DEFAULT 'filesystem',
        created_at TEXT NOT NULL,
        UNIQUE (pool_id, project_id, type, name)
    );
    CREATE TABLE storage_volumes_config (
        volume_id INTEGER NOT NULL REFERENCES storage_volumes(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (volume_id, key)
    );
    CREATE TABLE storage_volumes_snapshots (
        id INTEGER PRIMARY KEY,
        volume_id INTEGER NOT NULL REFERENCES storage_volumes(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        UNIQUE (volume_id, name)
    );
    CREATE TABLE storage_volumes_snapshots_config (
        snapshot_id INTEGER NOT NULL REFERENCES storage_volumes_snapshots(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (snapshot_id, key)
    );
    "#,
    // 5: the trust store: client (and metrics/server) certificates by SHA-256 fingerprint,
    // with the projects a restricted certificate may use.
    r#"
    CREATE TABLE certificates (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        name TEXT NOT NULL,
        certificate TEXT NOT NULL,
        restricted INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE certificates_projects (
        certificate_id INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        UNIQUE (certificate_id, project_id)
    );
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Bring the schema up to date inside one transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema (version INTEGER PRIMARY KEY, updated_at INTEGER NOT NULL)",
    )?;
    let current: usize = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema", [], |r| {
        r.get::<_, i64>(0).map(|v| v as usize)
    })?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        apply(&tx, i + 1, sql)?;
    }
    tx.commit()
}

fn apply(tx: &Transaction<'_>, version: usize, sql: &str) -> rusqlite::Result<()> {
    tracing::info!(version, "Applying database migration");
    tx.execute_batch(sql)?;
    tx.execute(
        "INSERT INTO schema (version, updated_at) VALUES (?1, strftime('%s','now'))",
        [version as i64],
    )?;
    Ok(())
}
