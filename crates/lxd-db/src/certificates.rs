//! The trust store: certificates by SHA-256 fingerprint, their type, name, restriction and
//! the projects a restricted certificate may use. Certificates are stored PEM-encoded; this
//! module neither parses nor checks them (the daemon does).

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{unique_as_exists, DbError};

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificateRow {
    /// SHA-256 of the DER encoding, lower-case hex.
    pub fingerprint: String,
    /// `client`, `server` or `metrics`.
    pub kind: String,
    pub name: String,
    /// PEM.
    pub certificate: String,
    pub restricted: bool,
    /// Project names, sorted.
    pub projects: Vec<String>,
}

const COLUMNS: &str = "id, fingerprint, type, name, certificate, restricted";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(i64, CertificateRow)> {
    Ok((
        r.get(0)?,
        CertificateRow {
            fingerprint: r.get(1)?,
            kind: r.get(2)?,
            name: r.get(3)?,
            certificate: r.get(4)?,
            restricted: r.get::<_, i64>(5)? != 0,
            projects: Vec::new(),
        },
    ))
}

fn projects_of(conn: &Connection, id: i64) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT projects.name FROM certificates_projects
         JOIN projects ON projects.id = certificates_projects.project_id
         WHERE certificates_projects.certificate_id = ?1 ORDER BY projects.name",
    )?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn with_projects(
    conn: &Connection,
    (id, mut row): (i64, CertificateRow),
) -> Result<CertificateRow, DbError> {
    row.projects = projects_of(conn, id)?;
    Ok(row)
}

/// Every certificate, ordered by fingerprint.
pub fn list(conn: &Connection) -> Result<Vec<CertificateRow>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM certificates ORDER BY fingerprint"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(|r| with_projects(conn, r)).collect()
}

/// The one certificate whose fingerprint starts with `prefix`: `NotFound` when none does,
/// `Ambiguous` when several do.
pub fn get_by_prefix(conn: &Connection, prefix: &str) -> Result<CertificateRow, DbError> {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM certificates WHERE fingerprint LIKE ?1 ESCAPE '\\' ORDER BY fingerprint LIMIT 2"
    ))?;
    let mut rows = stmt
        .query_map([format!("{escaped}%")], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    match rows.len() {
        0 => Err(DbError::NotFound("Certificate")),
        1 => with_projects(conn, rows.remove(0)),
        _ => Err(DbError::Ambiguous("certificate")),
    }
}

/// The certificate with exactly this fingerprint, if stored.
pub fn get(conn: &Connection, fingerprint: &str) -> Result<Option<CertificateRow>, DbError> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM certificates WHERE fingerprint = ?1"
        ))?
        .query_row([fingerprint], from_row)
        .optional()?;
    row.map(|r| with_projects(conn, r)).transpose()
}

fn write_projects(conn: &Connection, id: i64, projects: &[String]) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM certificates_projects WHERE certificate_id = ?1",
        [id],
    )?;
    for name in projects {
        let project_id = crate::projects::id(conn, name)?;
        conn.execute(
            "INSERT OR IGNORE INTO certificates_projects (certificate_id, project_id) VALUES (?1, ?2)",
            params![id, project_id],
        )?;
    }
    Ok(())
}

/// Add a certificate; `AlreadyExists` when its fingerprint is stored already, `NotFound`
/// when one of its projects does not exist.
pub fn create(conn: &Connection, row: &CertificateRow) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO certificates (fingerprint, type, name, certificate, restricted)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            row.fingerprint,
            row.kind,
            row.name,
            row.certificate,
            row.restricted as i64
        ],
    )
    .map_err(unique_as_exists("certificate"))?;
    write_projects(conn, conn.last_insert_rowid(), &row.projects)
}

/// Replace the certificate stored under `fingerprint` (its fingerprint may change with it).
pub fn update(conn: &Connection, fingerprint: &str, row: &CertificateRow) -> Result<(), DbError> {
    let id: i64 = conn
        .prepare_cached("SELECT id FROM certificates WHERE fingerprint = ?1")?
        .query_row([fingerprint], |r| r.get(0))
        .optional()?
        .ok_or(DbError::NotFound("Certificate"))?;
    conn.execute(
        "UPDATE certificates SET fingerprint = ?1, type = ?2, name = ?3, certificate = ?4,
         restricted = ?5 WHERE id = ?6",
        params![
            row.fingerprint,
            row.kind,
            row.name,
            row.certificate,
            row.restricted as i64,
            id
        ],
    )
    .map_err(unique_as_exists("certificate"))?;
    write_projects(conn, id, &row.projects)
}

/// Remove the certificate with exactly this fingerprint.
pub fn delete(conn: &Connection, fingerprint: &str) -> Result<(), DbError> {
    if conn.execute(
        "DELETE FROM certificates WHERE fingerprint = ?1",
        [fingerprint],
    )? == 0
    {
        return Err(DbError::NotFound("Certificate"));
    }
    Ok(())
}
