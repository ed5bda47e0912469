//! One migration websocket (`control`, `fs` or `criu`) behind channels, whichever side opened
//! it: a socket a peer connected to one of our operations (axum) or one we dialled (tungstenite).
//! Two small tasks pump frames in and out, so the protocol code sees one type.
//!
//! The data channel follows LXD's `WebsocketIO`: a stream is a run of binary frames ended by
//! an empty text frame (the "barrier"); several streams follow each other on one socket.
//! [`StreamIo`] gives blocking code (rsync pipes, `btrfs send`/`receive`) `Read`/`Write` over
//! that framing, with EOF at each barrier.

use std::io::{Read, Write};

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;

/// Frames kept in flight per direction.
const QUEUE: usize = 64;
/// Largest binary frame written by [`StreamIo`].
const MAX_FRAME: usize = 128 * 1024;

/// A websocket message as the migration code sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Binary(Vec<u8>),
    Text(String),
}

/// Why a socket gave no frame.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConnError {
    #[error("websocket: close 1006 (abnormal closure): unexpected EOF")]
    Closed,
    #[error("{0}")]
    Io(String),
}

impl From<ConnError> for std::io::Error {
    fn from(e: ConnError) -> Self {
        std::io::Error::new(std::io::ErrorKind::ConnectionAborted, e.to_string())
    }
}

/// A connected migration websocket.
pub struct Conn {
    tx: Option<mpsc::Sender<Frame>>,
    rx: mpsc::Receiver<Result<Frame, ConnError>>,
    pumps: Vec<tokio::task::AbortHandle>,
}

/// Cuts a [`Conn`] off from another task: whoever reads or writes it gets an error.
#[derive(Clone)]
pub struct Aborter(Vec<tokio::task::AbortHandle>);

impl Aborter {
    /// Drop the socket now.
    pub fn abort(&self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

fn pump<S, M, E>(
    socket: S,
    to_frame: fn(M) -> Option<Result<Frame, ConnError>>,
    from_frame: fn(Frame) -> M,
    close: M,
) -> Conn
where
    S: Stream<Item = Result<M, E>> + Sink<M> + Send + 'static,
    M: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Frame>(QUEUE);
    let (in_tx, in_rx) = mpsc::channel(QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            if sink.send(from_frame(frame)).await.is_err() {
                return;
            }
        }
        let _ = sink.send(close).await;
        let _ = sink.close().await;
    });
    let reader = tokio::spawn(async move {
        while let Some(msg) = stream.next().await {
            let item = match msg {
                Ok(m) => match to_frame(m) {
                    Some(item) => item,
                    None => continue,
                },
                Err(e) => Err(ConnError::Io(e.to_string())),
            };
            let end = item.is_err();
            if in_tx.send(item).await.is_err() || end {
                return;
            }
        }
        let _ = in_tx.send(Err(ConnError::Closed)).await;
    });
    Conn {
        tx: Some(out_tx),
        rx: in_rx,
        pumps: vec![writer.abort_handle(), reader.abort_handle()],
    }
}

impl Conn {
    /// A socket a peer connected to one of our operations.
    pub fn from_server(socket: axum::extract::ws::WebSocket) -> Self {
        use axum::extract::ws::Message;
        pump(
            socket,
            |m| match m {
                Message::Binary(b) => Some(Ok(Frame::Binary(b.to_vec()))),
                Message::Text(t) => Some(Ok(Frame::Text(t.to_string()))),
                Message::Close(_) => Some(Err(ConnError::Closed)),
                _ => None,
            },
            |f| match f {
                Frame::Binary(b) => Message::Binary(b.into()),
                Frame::Text(t) => Message::Text(t.into()),
            },
            Message::Close(None),
        )
    }

    /// A socket we dialled.
    pub fn from_client<S>(socket: tokio_tungstenite::WebSocketStream<S>) -> Self
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        use tokio_tungstenite::tungstenite::Message;
        pump(
            socket,
            |m| match m {
                Message::Binary(b) => Some(Ok(Frame::Binary(b.to_vec()))),
                Message::Text(t) => Some(Ok(Frame::Text(t.to_string()))),
                Message::Close(_) => Some(Err(ConnError::Closed)),
                _ => None,
            },
            |f| match f {
                Frame::Binary(b) => Message::Binary(b.into()),
                Frame::Text(t) => Message::Text(t.into()),
            },
            Message::Close(None),
        )
    }

    fn sender(&self) -> Result<&mpsc::Sender<Frame>, ConnError> {
        self.tx.as_ref().ok_or(ConnError::Closed)
    }

    /// Send one binary message (a protobuf message on the control channel).
    pub async fn send_message(&self, data: Vec<u8>) -> Result<(), ConnError> {
        self.sender()?
            .send(Frame::Binary(data))
            .await
            .map_err(|_| ConnError::Closed)
    }

    /// Receive the next binary message; LXD accepts nothing else on the control channel.
    pub async fn recv_message(&mut self) -> Result<Vec<u8>, ConnError> {
        match self.rx.recv().await {
            Some(Ok(Frame::Binary(b))) => Ok(b),
            Some(Ok(Frame::Text(_))) => Err(ConnError::Io("Only binary messages allowed".into())),
            Some(Err(e)) => Err(e),
            None => Err(ConnError::Closed),
        }
    }

    /// A socket that is already closed (a placeholder while the real one is lent out).
    pub fn closed() -> Self {
        let (_, rx) = mpsc::channel(1);
        Conn {
            tx: None,
            rx,
            pumps: Vec::new(),
        }
    }

    /// A handle that drops the socket from elsewhere.
    pub fn aborter(&self) -> Aborter {
        Aborter(self.pumps.clone())
    }

    /// Close the socket (a close frame is sent once queued frames are out).
    pub fn close(&mut self) {
        self.tx = None;
        self.rx.close();
    }

    /// Blocking `Read`/`Write` over the stream framing, for use off the async workers.
    pub fn stream_io(&mut self) -> StreamIo<'_> {
        let (reader, writer) = self.split_io();
        StreamIo { reader, writer }
    }

    /// The reading and writing halves of [`Conn::stream_io`], usable from two threads.
    pub fn split_io(&mut self) -> (StreamReader<'_>, StreamWriter<'_>) {
        (
            StreamReader {
                rx: &mut self.rx,
                pending: Vec::new(),
                pos: 0,
                at_barrier: false,
            },
            StreamWriter {
                tx: self.tx.as_ref(),
            },
        )
    }
}

/// Reads the peer's streams: EOF at each barrier; [`StreamReader::next_stream`] moves on.
pub struct StreamReader<'a> {
    rx: &'a mut mpsc::Receiver<Result<Frame, ConnError>>,
    pending: Vec<u8>,
    pos: usize,
    at_barrier: bool,
}

impl StreamReader<'_> {
    /// Read the whole current stream (to its barrier) and start the next one.
    pub fn read_stream(&mut self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.read_to_end(&mut out)?;
        self.next_stream();
        Ok(out)
    }

    /// Discard what is left of the current stream, up to its barrier.
    pub fn drain_stream(&mut self) -> std::io::Result<()> {
        let mut sink = vec![0u8; 64 * 1024];
        while self.read(&mut sink)? > 0 {}
        Ok(())
    }

    /// After EOF, read the next stream.
    pub fn next_stream(&mut self) {
        self.at_barrier = false;
    }
}

impl Read for StreamReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.pos < self.pending.len() {
                let n = buf.len().min(self.pending.len() - self.pos);
                buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.at_barrier || buf.is_empty() {
                return Ok(0);
            }
            let frame = match self.rx.blocking_recv() {
                Some(r) => r?,
                None => return Err(ConnError::Closed.into()),
            };
            match frame {
                Frame::Binary(b) => {
                    self.pending = b;
                    self.pos = 0;
                }
                Frame::Text(_) => {
                    self.at_barrier = true;
                    return Ok(0);
                }
            }
        }
    }
}

/// Writes our streams: binary frames, and a barrier at [`StreamWriter::end_stream`].
pub struct StreamWriter<'a> {
    tx: Option<&'a mpsc::Sender<Frame>>,
}

impl StreamWriter<'_> {
    fn send(&self, frame: Frame) -> Result<(), ConnError> {
        self.tx
            .ok_or(ConnError::Closed)?
            .blocking_send(frame)
            .map_err(|_| ConnError::Closed)
    }

    /// End the stream being written (LXD's `WebsocketIO.Close`).
    pub fn end_stream(&mut self) -> std::io::Result<()> {
        Ok(self.send(Frame::Text(String::new()))?)
    }

    /// Write all of `data` followed by a barrier.
    pub fn write_stream(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.write_all(data)?;
        self.end_stream()
    }
}

impl Write for StreamWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(MAX_FRAME);
        self.send(Frame::Binary(buf[..n].to_vec()))?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Both halves together, for code that reads and writes in turn.
pub struct StreamIo<'a> {
    pub reader: StreamReader<'a>,
    pub writer: StreamWriter<'a>,
}

impl StreamIo<'_> {
    /// See [`StreamWriter::end_stream`].
    pub fn end_stream(&mut self) -> std::io::Result<()> {
        self.writer.end_stream()
    }

    /// See [`StreamWriter::write_stream`].
    pub fn write_stream(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.writer.write_stream(data)
    }

    /// See [`StreamReader::read_stream`].
    pub fn read_stream(&mut self) -> std::io::Result<Vec<u8>> {
        self.reader.read_stream()
    }

    /// See [`StreamReader::drain_stream`].
    pub fn drain_stream(&mut self) -> std::io::Result<()> {
        self.reader.drain_stream()
    }

    /// See [`StreamReader::next_stream`].
    pub fn next_stream(&mut self) {
        self.reader.next_stream()
    }
}

impl Read for StreamIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Write for StreamIo<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Two connected in-memory [`Conn`]s (tests of the protocol code).
#[cfg(test)]
pub fn pair() -> (Conn, Conn) {
    let (a_tx, a_rx) = mpsc::channel::<Frame>(QUEUE);
    let (b_tx, b_rx) = mpsc::channel::<Frame>(QUEUE);
    let bridge = |mut from: mpsc::Receiver<Frame>| {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            while let Some(f) = from.recv().await {
                if tx.send(Ok(f)).await.is_err() {
                    return;
                }
            }
            let _ = tx.send(Err(ConnError::Closed)).await;
        });
        rx
    };
    let a = Conn {
        tx: Some(a_tx),
        rx: bridge(b_rx),
        pumps: Vec::new(),
    };
    let b = Conn {
        tx: Some(b_tx),
        rx: bridge(a_rx),
        pumps: Vec::new(),
    };
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stream_io_streams_end_at_barriers_and_follow_each_other() {
        let (mut a, mut b) = pair();
        let writer = tokio::task::spawn_blocking(move || {
            let mut io = a.stream_io();
            io.write_stream(b"first").unwrap();
            io.write_all(&vec![7u8; 300 * 1024]).unwrap();
            io.end_stream().unwrap();
            a
        });
        let reader = tokio::task::spawn_blocking(move || {
            let mut io = b.stream_io();
            let first = io.read_stream().unwrap();
            let second = io.read_stream().unwrap();
            (first, second.len())
        });
        let (first, second) = reader.await.unwrap();
        assert_eq!(first, b"first");
        assert_eq!(second, 300 * 1024);
        drop(writer.await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closed_peer_is_an_error_not_an_eof() {
        let (a, mut b) = pair();
        drop(a);
        let r = tokio::task::spawn_blocking(move || {
            let mut buf = [0u8; 4];
            b.stream_io().read(&mut buf).map_err(|e| e.kind())
        })
        .await
        .unwrap();
        assert_eq!(r, Err(std::io::ErrorKind::ConnectionAborted));
    }
}
