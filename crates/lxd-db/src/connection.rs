//! Opening the database and handing out connections: one writer thread, pooled readers.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use crate::error::DbError;
use crate::migrations;
use crate::writer::{self, Job};

/// Readers kept open for reuse.
const MAX_IDLE_READERS: usize = 8;

/// Handle to the daemon's database; cheap to clone.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Option<SyncSender<Job>>>,
    readers: Mutex<Vec<Connection>>,
}

fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute_batch("PRAGMA foreign_keys = ON")
}

impl Database {
    /// Open (creating and migrating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let open_err = |source| DbError::Open {
            path: path.display().to_string(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(open_err)?;
        tune(&conn).map_err(open_err)?;
        migrations::migrate(&mut conn).map_err(open_err)?;
        let (tx, rx) = sync_channel::<Job>(4096);
        std::thread::Builder::new()
            .name("lxd-db-writer".into())
            .spawn(move || writer::run(conn, rx))
            .map_err(|_| DbError::WriterGone)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(Some(tx)),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Run a write on the writer thread and wait for it to be committed.
    pub async fn write<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, DbError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = writer::job(f, move |r| {
            let _ = tx.send(r);
        });
        self.submit(job)?;
        rx.await.map_err(|_| DbError::WriterGone)?
    }

    /// Like [`Database::write`], for callers outside an async runtime.
    pub fn write_blocking<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, DbError> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job = writer::job(f, move |r| {
            let _ = tx.send(r);
        });
        self.submit(job)?;
        rx.recv().map_err(|_| DbError::WriterGone)?
    }

    fn submit(&self, job: Job) -> Result<(), DbError> {
        let sender = self
            .inner
            .writer
            .lock()
            .map_err(|_| DbError::WriterGone)?
            .clone();
        sender
            .ok_or(DbError::WriterGone)?
            .send(job)
            .map_err(|_| DbError::WriterGone)
    }

    /// Run a read on a pooled read-only connection (fast; called inline).
    pub fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R, DbError>) -> Result<R, DbError> {
        let pooled = self.inner.readers.lock().ok().and_then(|mut v| v.pop());
        let conn = match pooled {
            Some(c) => c,
            None => self.open_reader()?,
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.inner.readers.lock() {
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        result
    }

    fn open_reader(&self) -> Result<Connection, DbError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.inner.path, flags)?;
        tune(&conn)?;
        Ok(conn)
    }

    /// Stop accepting writes; the writer thread ends once queued writes are committed.
    pub fn close(&self) {
        if let Ok(mut w) = self.inner.writer.lock() {
            w.take();
        }
    }

    /// `PRAGMA integrity_check` result (`ok` when healthy).
    pub fn integrity_check(&self) -> Result<String, DbError> {
        self.read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
    }
}
