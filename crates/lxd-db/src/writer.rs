//! The single writer thread: it owns the read-write connection and commits queued writes
//! together, answering each caller only once its write is durable.

use std::sync::mpsc::{Receiver, RecvError};

use rusqlite::Connection;

use crate::error::DbError;

/// Called after the commit with its outcome; it forwards the caller's result.
pub(crate) type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A queued write: runs inside its own savepoint, says whether it succeeded, and gives the
/// reply to send once the enclosing transaction is committed.
pub(crate) type Job = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

/// Most writes folded into one transaction.
const MAX_BATCH: usize = 256;

/// Run until every sender is dropped.
pub(crate) fn run(mut conn: Connection, jobs: Receiver<Job>) {
    loop {
        let first = match jobs.recv() {
            Ok(job) => job,
            Err(RecvError) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<Job>) {
    let mut replies = Vec::with_capacity(batch.len());
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = e.to_string();
        for job in batch {
            // Run nothing: the job's reply reports the failure.
            let (_, reply) = job(conn);
            replies.push(reply);
        }
        replies.into_iter().for_each(|r| r(Err(msg.clone())));
        return;
    }
    for job in batch {
        let _ = conn.execute_batch("SAVEPOINT job");
        let (ok, reply) = job(conn);
        if !ok {
            let _ = conn.execute_batch("ROLLBACK TO job");
        }
        let _ = conn.execute_batch("RELEASE job");
        replies.push(reply);
    }
    let outcome = conn.execute_batch("COMMIT").map_err(|e| {
        tracing::error!(error = %e, "Database commit failed");
        let _ = conn.execute_batch("ROLLBACK");
        e.to_string()
    });
    for reply in replies {
        reply(outcome.clone());
    }
}

/// Wrap a caller's closure into a [`Job`] whose result arrives on `send`.
pub(crate) fn job<R, F, S>(f: F, send: S) -> Job
where
    R: Send + 'static,
    F: FnOnce(&Connection) -> Result<R, DbError> + Send + 'static,
    S: FnOnce(Result<R, DbError>) + Send + 'static,
{
    Box::new(move |conn: &Connection| {
        let result = f(conn);
        let ok = result.is_ok();
        let reply: Reply = Box::new(move |commit: Result<(), String>| {
            let outcome = match commit {
                Ok(()) => result,
                Err(_) if result.is_err() => result,
                Err(_) => Err(DbError::Sqlite(rusqlite::Error::ExecuteReturnedResults)),
            };
            send(outcome);
        });
        (ok, reply)
    })
}
