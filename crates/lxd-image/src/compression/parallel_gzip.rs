//! Gzip on every core: the input is cut into fixed-size chunks, each compressed on a worker
//! thread into an independent gzip member, and the members are written in order.
//!
//! A multi-member gzip stream is standard (RFC 1952 §2.2): `gzip -d`, GNU tar, Go's
//! `compress/gzip` (LXD) and Python all read it as one stream. Members carry no file name and
//! mtime 0, so the output is reproducible like LXD's `gzip -n`.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Uncompressed bytes per gzip member.
pub const DEFAULT_CHUNK: usize = 1024 * 1024;

type Job = (Vec<u8>, SyncSender<io::Result<Vec<u8>>>);

/// A `Write` that gzips on `threads` worker threads. Call [`ParallelGzipWriter::finish`].
pub struct ParallelGzipWriter<W: Write> {
    inner: Option<W>,
    level: flate2::Compression,
    chunk_size: usize,
    buffer: Vec<u8>,
    jobs: Option<SyncSender<Job>>,
    pending: VecDeque<Receiver<io::Result<Vec<u8>>>>,
    max_pending: usize,
    dispatched: u64,
    workers: Vec<JoinHandle<()>>,
}

impl<W: Write> ParallelGzipWriter<W> {
    /// A writer with `threads` workers (at least one) at gzip `level` (0–9).
    pub fn new(inner: W, level: u32, threads: usize) -> Self {
        Self::with_chunk_size(inner, level, threads, DEFAULT_CHUNK)
    }

    /// As [`ParallelGzipWriter::new`] with an explicit chunk size (tests use small ones).
    pub fn with_chunk_size(inner: W, level: u32, threads: usize, chunk_size: usize) -> Self {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::sync_channel::<Job>(threads * 2);
        let queue = Arc::new(Mutex::new(queue));
        let level = flate2::Compression::new(level.min(9));
        let workers = (0..threads)
            .map(|_| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok((data, reply)) = job else { return };
                    let _ = reply.send(compress_member(&data, level));
                })
            })
            .collect();
        Self {
            inner: Some(inner),
            level,
            chunk_size: chunk_size.max(1),
            buffer: Vec::with_capacity(chunk_size),
            jobs: Some(jobs),
            pending: VecDeque::new(),
            max_pending: threads * 2,
            dispatched: 0,
            workers,
        }
    }

    /// Compress what is buffered, write every member in order and return the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.buffer.is_empty() {
            self.dispatch()?;
        }
        // An empty input still yields one (empty) member, like `gzip < /dev/null`.
        if self.dispatched == 0 {
            let member = compress_member(&[], self.level)?;
            self.inner_mut()?.write_all(&member)?;
        }
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        self.shutdown();
        let mut inner = self.inner.take().ok_or_else(finished)?;
        inner.flush()?;
        Ok(inner)
    }

    fn inner_mut(&mut self) -> io::Result<&mut W> {
        self.inner.as_mut().ok_or_else(finished)
    }

    fn dispatch(&mut self) -> io::Result<()> {
        let data = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.chunk_size));
        let (reply, result) = mpsc::sync_channel(1);
        let jobs = self.jobs.as_ref().ok_or_else(finished)?;
        jobs.send((data, reply))
            .map_err(|_| io::Error::other("gzip worker threads stopped"))?;
        self.pending.push_back(result);
        self.dispatched += 1;
        while self.pending.len() >= self.max_pending {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(result) = self.pending.pop_front() else {
            return Ok(());
        };
        let member = result
            .recv()
            .map_err(|_| io::Error::other("gzip worker thread died"))??;
        self.inner_mut()?.write_all(&member)
    }

    fn shutdown(&mut self) {
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

impl<W: Write> Write for ParallelGzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.chunk_size - self.buffer.len();
        let taken = room.min(buf.len());
        self.buffer.extend_from_slice(&buf[..taken]);
        if self.buffer.len() == self.chunk_size {
            self.dispatch()?;
        }
        Ok(taken)
    }

    /// A no-op: data is compressed in whole chunks, the last partial one by `finish`.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for ParallelGzipWriter<W> {
    fn drop(&mut self) {
        self.pending.clear();
        self.shutdown();
    }
}

fn compress_member(data: &[u8], level: flate2::Compression) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::with_capacity(data.len() / 3 + 64), level);
    encoder.write_all(data)?;
    encoder.finish()
}

fn finished() -> io::Error {
    io::Error::other("gzip writer already finished")
}
