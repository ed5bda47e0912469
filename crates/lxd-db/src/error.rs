//! Errors of the database layer.

use thiserror::Error;

/// What went wrong with a query.
#[derive(Debug, Error)]
pub enum DbError {
    /// The requested row does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique name is already taken.
    #[error("The {0} already exists")]
    AlreadyExists(&'static str),
    /// A prefix matched more than one row.
    #[error("More than one {0} matches")]
    Ambiguous(&'static str),
    /// SQLite failed.
    #[error("Database query failed")]
    Sqlite(#[from] rusqlite::Error),
    /// The writer thread is gone (daemon shutting down).
    #[error("Database writer stopped")]
    WriterGone,
    /// Opening or migrating the database failed.
    #[error("Failed to open the database at {path}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
}

impl DbError {
    /// Whether the error means "no such row".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

/// Turn a UNIQUE constraint failure into [`DbError::AlreadyExists`].
pub(crate) fn unique_as_exists(what: &'static str) -> impl Fn(rusqlite::Error) -> DbError {
    move |e| match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            DbError::AlreadyExists(what)
        }
        _ => DbError::Sqlite(e),
    }
}
