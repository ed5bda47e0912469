//! Images, their properties and aliases. Image rows belong to a project; lookups accept a
//! unique fingerprint prefix, as LXD does.

use lxd_api::image::{Image, ImageAlias, ImageAliasesEntry, ImagePut, ImageSource};
use lxd_api::ConfigMap;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{unique_as_exists, DbError};
use crate::projects;

const COLUMNS: &str = "id, fingerprint, filename, size, public, architecture, type, created_at, \
     expires_at, uploaded_at, last_used_at, cached, auto_update, profiles, update_source";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Image)> {
    let profiles: Option<String> = r.get(13)?;
    let source: Option<String> = r.get(14)?;
    Ok((
        r.get(0)?,
        Image {
            fingerprint: r.get(1)?,
            filename: r.get(2)?,
            size: r.get(3)?,
            public: r.get(4)?,
            architecture: r.get(5)?,
            kind: r.get(6)?,
            created_at: r.get(7)?,
            expires_at: r.get(8)?,
            uploaded_at: r.get(9)?,
            last_used_at: r.get(10)?,
            cached: r.get(11)?,
            auto_update: r.get(12)?,
            profiles: profiles.and_then(|p| serde_json::from_str(&p).ok()),
            update_source: source.and_then(|s| serde_json::from_str::<ImageSource>(&s).ok()),
            ..Default::default()
        },
    ))
}

fn fill(conn: &Connection, project: &str, id: i64, mut image: Image) -> Result<Image, DbError> {
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM images_properties WHERE image_id = ?1")?;
    image.properties = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<ConfigMap, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT a.name, a.description FROM images_aliases a JOIN projects p ON p.id = a.project_id
         WHERE a.image_id = ?1 AND p.name = ?2 ORDER BY a.name",
    )?;
    image.aliases = stmt
        .query_map(params![id, project], |r| {
            Ok(ImageAlias {
                name: r.get(0)?,
                description: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(image)
}

/// Full fingerprints of a project's images, oldest first.
pub fn fingerprints(conn: &Connection, project: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.fingerprint FROM images i JOIN projects p ON p.id = i.project_id
         WHERE p.name = ?1 ORDER BY i.id",
    )?;
    let rows = stmt.query_map([project], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every cached image (downloaded from a remote) with its project:
/// `(project, fingerprint, uploaded_at, last_used_at)`, the inputs of cache expiry.
pub fn cached(conn: &Connection) -> Result<Vec<(String, String, String, String)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.name, i.fingerprint, i.uploaded_at, i.last_used_at FROM images i
         JOIN projects p ON p.id = i.project_id WHERE i.cached = 1 ORDER BY i.id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every fingerprint recorded in any project (what the files in `images/` may belong to).
pub fn all_fingerprints(conn: &Connection) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT fingerprint FROM images ORDER BY 1")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One image by full fingerprint or a unique prefix of it.
pub fn get(conn: &Connection, project: &str, fingerprint: &str) -> Result<Image, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM images WHERE project_id = (SELECT id FROM projects WHERE name = ?1)
         AND substr(fingerprint, 1, length(?2)) = ?2 LIMIT 2"
    ))?;
    let found: Vec<(i64, Image)> = stmt
        .query_map(params![project, fingerprint], from_row)?
        .collect::<Result<_, _>>()?;
    match found.len() {
        1 if !fingerprint.is_empty() => {
            let (id, image) = found.into_iter().next().ok_or(DbError::NotFound("Image"))?;
            fill(conn, project, id, image)
        }
        0 | 1 => Err(DbError::NotFound("Image")),
        _ => Err(DbError::Ambiguous("image")),
    }
}

/// Record a new image with its properties.
pub fn create(conn: &Connection, project: &str, image: &Image) -> Result<(), DbError> {
    let pid = projects::id(conn, project)?;
    let profiles = image
        .profiles
        .as_ref()
        .map(|p| serde_json::to_string(p).unwrap_or_default());
    let source = image
        .update_source
        .as_ref()
        .map(|s| serde_json::to_string(s).unwrap_or_default());
    conn.execute(
        "INSERT INTO images (project_id, fingerprint, filename, size, public, architecture, type,
         created_at, expires_at, uploaded_at, last_used_at, cached, auto_update, profiles, update_source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            pid, image.fingerprint, image.filename, image.size, image.public, image.architecture,
            image.kind, image.created_at, image.expires_at, image.uploaded_at, image.last_used_at,
            image.cached, image.auto_update, profiles, source
        ],
    )
    .map_err(unique_as_exists("image"))?;
    write_properties(conn, conn.last_insert_rowid(), &image.properties)
}

fn image_id(conn: &Connection, project: &str, fingerprint: &str) -> Result<i64, DbError> {
    conn.prepare_cached(
        "SELECT i.id FROM images i JOIN projects p ON p.id = i.project_id
         WHERE p.name = ?1 AND i.fingerprint = ?2",
    )?
    .query_row(params![project, fingerprint], |r| r.get(0))
    .optional()?
    .ok_or(DbError::NotFound("Image"))
}

/// Replace the writable fields of an image.
pub fn update(
    conn: &Connection,
    project: &str,
    fingerprint: &str,
    put: &ImagePut,
) -> Result<(), DbError> {
    let id = image_id(conn, project, fingerprint)?;
    let profiles = put
        .profiles
        .as_ref()
        .map(|p| serde_json::to_string(p).unwrap_or_default());
    conn.execute(
        "UPDATE images SET auto_update = ?1, public = ?2, expires_at = ?3, profiles = ?4 WHERE id = ?5",
        params![put.auto_update, put.public, put.expires_at, profiles, id],
    )?;
    conn.execute("DELETE FROM images_properties WHERE image_id = ?1", [id])?;
    write_properties(conn, id, &put.properties)
}

/// Set `last_used_at`.
pub fn mark_used(
    conn: &Connection,
    project: &str,
    fingerprint: &str,
    when: &str,
) -> Result<(), DbError> {
    let id = image_id(conn, project, fingerprint)?;
    conn.execute(
        "UPDATE images SET last_used_at = ?1 WHERE id = ?2",
        params![when, id],
    )?;
    Ok(())
}

/// Delete an image (its aliases go with it).
pub fn delete(conn: &Connection, project: &str, fingerprint: &str) -> Result<(), DbError> {
    let id = image_id(conn, project, fingerprint)?;
    conn.execute("DELETE FROM images WHERE id = ?1", [id])?;
    Ok(())
}

/// Whether any project still references the fingerprint (files are shared on disk).
pub fn fingerprint_in_use(conn: &Connection, fingerprint: &str) -> Result<bool, DbError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM images WHERE fingerprint = ?1",
        [fingerprint],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

fn write_properties(conn: &Connection, id: i64, properties: &ConfigMap) -> Result<(), DbError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO images_properties (image_id, key, value) VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in properties {
        stmt.execute(params![id, k, v])?;
    }
    Ok(())
}

fn alias_from_row(r: &Row<'_>) -> rusqlite::Result<ImageAliasesEntry> {
    Ok(ImageAliasesEntry {
        name: r.get(0)?,
        description: r.get(1)?,
        target: r.get(2)?,
        kind: r.get(3)?,
    })
}

const ALIAS_SELECT: &str =
    "SELECT a.name, a.description, i.fingerprint, i.type FROM images_aliases a
     JOIN images i ON i.id = a.image_id JOIN projects p ON p.id = a.project_id WHERE p.name = ?1";

/// A project's aliases, sorted by name.
pub fn aliases(conn: &Connection, project: &str) -> Result<Vec<ImageAliasesEntry>, DbError> {
    let mut stmt = conn.prepare_cached(&format!("{ALIAS_SELECT} ORDER BY a.name"))?;
    let rows = stmt.query_map([project], alias_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One alias.
pub fn alias(conn: &Connection, project: &str, name: &str) -> Result<ImageAliasesEntry, DbError> {
    conn.prepare_cached(&format!("{ALIAS_SELECT} AND a.name = ?2"))?
        .query_row(params![project, name], alias_from_row)
        .optional()?
        .ok_or(DbError::NotFound("Image alias"))
}

/// Create an alias pointing at a full fingerprint.
pub fn create_alias(
    conn: &Connection,
    project: &str,
    name: &str,
    target: &str,
    description: &str,
) -> Result<(), DbError> {
    let pid = projects::id(conn, project)?;
    let id = image_id(conn, project, target)?;
    conn.execute(
        "INSERT INTO images_aliases (project_id, name, image_id, description) VALUES (?1, ?2, ?3, ?4)",
        params![pid, name, id, description],
    )
    .map_err(unique_as_exists("alias"))?;
    Ok(())
}

/// Point an alias at another image and set its description.
pub fn update_alias(
    conn: &Connection,
    project: &str,
    name: &str,
    target: &str,
    description: &str,
) -> Result<(), DbError> {
    let id = image_id(conn, project, target)?;
    let n = conn.execute(
        "UPDATE images_aliases SET image_id = ?1, description = ?2
         WHERE name = ?3 AND project_id = (SELECT id FROM projects WHERE name = ?4)",
        params![id, description, name, project],
    )?;
    if n == 0 {
        return Err(DbError::NotFound("Image alias"));
    }
    Ok(())
}

/// Rename an alias.
pub fn rename_alias(conn: &Connection, project: &str, old: &str, new: &str) -> Result<(), DbError> {
    let n = conn
        .execute(
            "UPDATE images_aliases SET name = ?1 WHERE name = ?2 AND project_id = (SELECT id FROM projects WHERE name = ?3)",
            params![new, old, project],
        )
        .map_err(unique_as_exists("alias"))?;
    if n == 0 {
        return Err(DbError::NotFound("Image alias"));
    }
    Ok(())
}

/// Delete an alias.
pub fn delete_alias(conn: &Connection, project: &str, name: &str) -> Result<(), DbError> {
    let n = conn.execute(
        "DELETE FROM images_aliases WHERE name = ?1 AND project_id = (SELECT id FROM projects WHERE name = ?2)",
        params![name, project],
    )?;
    if n == 0 {
        return Err(DbError::NotFound("Image alias"));
    }
    Ok(())
}

/// The project and record of an image with this fingerprint (or unique prefix) in any
/// project, for reusing a download another project already made.
pub fn find_in_any_project(
    conn: &Connection,
    fingerprint: &str,
) -> Result<(String, Image), DbError> {
    let project: Option<String> = conn
        .prepare_cached(
            "SELECT p.name FROM images i JOIN projects p ON p.id = i.project_id
             WHERE substr(i.fingerprint, 1, length(?1)) = ?1 AND ?1 != '' ORDER BY i.id LIMIT 1",
        )?
        .query_row([fingerprint], |r| r.get(0))
        .optional()?;
    let project = project.ok_or(DbError::NotFound("Image"))?;
    let image = get(conn, &project, fingerprint)?;
    Ok((project, image))
}

/// The newest auto-updating image downloaded from `server`/`protocol` under `alias` for
/// `architecture` (and `kind` when set): what an instance creation may use instead of
/// downloading (`GetCachedImageSourceFingerprint`).
pub fn cached_source_fingerprint(
    conn: &Connection,
    server: &str,
    protocol: &str,
    alias: &str,
    kind: &str,
    architecture: &str,
) -> Result<Option<String>, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT fingerprint FROM images WHERE auto_update = 1 AND update_source IS NOT NULL
             AND json_extract(update_source, '$.server') = ?1
             AND json_extract(update_source, '$.protocol') = ?2
             AND json_extract(update_source, '$.alias') = ?3
             AND architecture = ?4 AND (?5 = '' OR type = ?5)
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![server, protocol, alias, architecture, kind], |r| {
            r.get(0)
        })
        .optional()?)
}

/// `(project, fingerprint)` of every image with `auto_update` on, oldest first.
pub fn auto_updating(conn: &Connection) -> Result<Vec<(String, String)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.name, i.fingerprint FROM images i JOIN projects p ON p.id = i.project_id
         WHERE i.auto_update = 1 ORDER BY i.id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Mark an image cached (downloaded for an instance) and set when it was last used.
pub fn set_cached(
    conn: &Connection,
    project: &str,
    fingerprint: &str,
    cached: bool,
    last_used_at: &str,
) -> Result<(), DbError> {
    let id = image_id(conn, project, fingerprint)?;
    conn.execute(
        "UPDATE images SET cached = ?1, last_used_at = ?2 WHERE id = ?3",
        params![cached, last_used_at, id],
    )?;
    Ok(())
}

/// Set an image's file name.
pub fn set_filename(
    conn: &Connection,
    project: &str,
    fingerprint: &str,
    filename: &str,
) -> Result<(), DbError> {
    let id = image_id(conn, project, fingerprint)?;
    conn.execute(
        "UPDATE images SET filename = ?1 WHERE id = ?2",
        params![filename, id],
    )?;
    Ok(())
}

/// Point every alias of image `from` at image `to` (same project), as a refresh does.
pub fn move_aliases(conn: &Connection, project: &str, from: &str, to: &str) -> Result<(), DbError> {
    let (from, to) = (image_id(conn, project, from)?, image_id(conn, project, to)?);
    conn.execute(
        "UPDATE images_aliases SET image_id = ?1 WHERE image_id = ?2",
        params![to, from],
    )?;
    Ok(())
}
