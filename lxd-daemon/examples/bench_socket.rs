//! Latency and throughput of an LXD daemon's UNIX socket, for `scripts/bench`.
//!
//! A measurement tool, not a test: it prints one JSON object and asserts nothing.
//! It speaks plain HTTP/1.1 over the socket, so it measures any LXD-compatible daemon
//! (ours or the real LXD) the same way.
//!
//! ```text
//! bench_socket SOCKET latency  [REQUESTS]              GET /1.0; fresh connection per request and keep-alive
//! bench_socket SOCKET profiles [PROFILES] [CLIENTS]    concurrent POST /1.0/profiles, then DELETE
//! bench_socket SOCKET start INSTANCE [ROUNDS]          stop -f (untimed), then time a start to init running
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::UnixStream;

type Sender = SendRequest<Full<Bytes>>;

async fn connect(socket: &Path) -> Result<Sender> {
    let stream = UnixStream::connect(socket)
        .await
        .with_context(|| format!("connect {}", socket.display()))?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sends one request and reads the whole body; returns the status code.
async fn send(
    sender: &mut Sender,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<u16> {
    Ok(request(sender, method, path, body).await?.0)
}

/// Sends one request; returns the status code and the body as JSON (`null` if it is not).
async fn request(
    sender: &mut Sender,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value)> {
    sender.ready().await?;
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "lxd")
        .header("user-agent", "bench_socket");
    let payload = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Bytes::from(serde_json::to_vec(v)?)
        }
        None => Bytes::new(),
    };
    let resp = sender.send_request(req.body(Full::new(payload))?).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

fn stats(mut samples: Vec<Duration>) -> Value {
    samples.sort();
    let n = samples.len();
    let us = |d: Duration| (d.as_secs_f64() * 1e6 * 10.0).round() / 10.0;
    let pct = |p: f64| us(samples[((n as f64 * p).ceil() as usize).clamp(1, n) - 1]);
    let total: Duration = samples.iter().sum();
    json!({
        "n": n,
        "mean_us": us(total / n as u32),
        "p50_us": pct(0.50),
        "p90_us": pct(0.90),
        "p99_us": pct(0.99),
        "min_us": us(samples[0]),
        "max_us": us(samples[n - 1]),
    })
}

async fn latency(socket: &Path, requests: usize) -> Result<Value> {
    // Warm-up: both connection styles, so neither side pays first-request costs in the samples.
    let mut warm = connect(socket).await?;
    for _ in 0..100 {
        let status = send(&mut warm, Method::GET, "/1.0", None).await?;
        if status != 200 {
            bail!("GET /1.0 returned {status}");
        }
    }
    drop(warm);

    let mut fresh = Vec::with_capacity(requests);
    for _ in 0..requests {
        let t = Instant::now();
        let mut s = connect(socket).await?;
        let status = send(&mut s, Method::GET, "/1.0", None).await?;
        drop(s);
        fresh.push(t.elapsed());
        if status != 200 {
            bail!("GET /1.0 returned {status}");
        }
    }

    let mut keep = Vec::with_capacity(requests);
    let mut s = connect(socket).await?;
    for _ in 0..requests {
        let t = Instant::now();
        let status = send(&mut s, Method::GET, "/1.0", None).await?;
        keep.push(t.elapsed());
        if status != 200 {
            bail!("GET /1.0 returned {status}");
        }
    }
    Ok(json!({ "fresh_connection": stats(fresh), "keep_alive": stats(keep) }))
}

/// `clients` tasks, each on its own keep-alive connection, take indices from a shared counter
/// until `total` requests were sent. Returns (wall time, per-request latencies, non-2xx count).
async fn concurrent<F>(
    socket: &Path,
    total: usize,
    clients: usize,
    make: F,
) -> Result<(Duration, Vec<Duration>, usize)>
where
    F: Fn(usize) -> (Method, String, Option<Value>) + Send + Sync + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let make = Arc::new(make);
    let mut senders = Vec::with_capacity(clients);
    for _ in 0..clients {
        senders.push(connect(socket).await?);
    }
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for mut s in senders {
        let next = next.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let (method, path, body) = make(i);
                let t = Instant::now();
                let status = send(&mut s, method, &path, body.as_ref()).await?;
                lat.push(t.elapsed());
                if !(200..300).contains(&status) {
                    errors += 1;
                }
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let mut all = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await??;
        all.extend(lat);
        errors += e;
    }
    Ok((start.elapsed(), all, errors))
}

async fn profiles(socket: &Path, total: usize, clients: usize) -> Result<Value> {
    let tag = std::process::id();
    let (wall_c, lat_c, err_c) = concurrent(socket, total, clients, move |i| {
        let body = json!({ "name": format!("bench-{tag}-{i}"), "description": "bench", "config": {}, "devices": {} });
        (Method::POST, "/1.0/profiles".to_string(), Some(body))
    })
    .await?;
    let (wall_d, lat_d, err_d) = concurrent(socket, total, clients, move |i| {
        (
            Method::DELETE,
            format!("/1.0/profiles/bench-{tag}-{i}"),
            None,
        )
    })
    .await?;
    let rate = |wall: Duration| (total as f64 / wall.as_secs_f64() * 10.0).round() / 10.0;
    Ok(json!({
        "profiles": total,
        "clients": clients,
        "create": { "wall_s": wall_c.as_secs_f64(), "per_s": rate(wall_c), "errors": err_c, "latency": stats(lat_c) },
        "delete": { "wall_s": wall_d.as_secs_f64(), "per_s": rate(wall_d), "errors": err_d, "latency": stats(lat_d) },
    }))
}

/// `PUT` a state change and wait for its operation; an error unless it succeeded.
async fn change_state(s: &mut Sender, path: &str, body: Value) -> Result<()> {
    let (status, reply) = request(s, Method::PUT, path, Some(&body)).await?;
    if status != 202 {
        bail!("PUT {path} returned {status}: {reply}");
    }
    let op = reply["operation"].as_str().context("no operation URL")?;
    let (status, done) = request(s, Method::GET, &format!("{op}/wait"), None).await?;
    if status != 200 || done["metadata"]["status_code"] != 200 {
        bail!("{body} on {path} failed: {done}");
    }
    Ok(())
}

/// The daemon-side start of a container, as a minimal client sees it: stop INSTANCE (forced,
/// untimed), then time `PUT .../state {"action": "start"}` until its operation has succeeded,
/// which both daemons report once init runs.
async fn start(socket: &Path, instance: &str, rounds: usize) -> Result<Value> {
    let mut s = connect(socket).await?;
    let path = format!("/1.0/instances/{instance}/state");
    let (_, current) = request(&mut s, Method::GET, &path, None).await?;
    let mut running = current["metadata"]["status"] == "Running";
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        if running {
            let stop = json!({ "action": "stop", "force": true, "timeout": -1 });
            change_state(&mut s, &path, stop).await?;
        }
        let t = Instant::now();
        change_state(&mut s, &path, json!({ "action": "start", "timeout": -1 })).await?;
        samples.push(t.elapsed());
        running = true;
    }
    Ok(json!({ "instance": instance, "start": stats(samples) }))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_socket SOCKET latency [REQUESTS] | SOCKET profiles [PROFILES] [CLIENTS] | SOCKET start INSTANCE [ROUNDS]";
    let socket = PathBuf::from(args.first().context(usage)?);
    let num = |i: usize, default: usize| -> Result<usize> {
        args.get(i)
            .map_or(Ok(default), |s| s.parse().context("not a number"))
    };
    // One client thread: the machine has few cores and the daemon under test needs them.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let out = match args.get(1).map(String::as_str) {
        Some("latency") => rt.block_on(latency(&socket, num(2, 2000)?))?,
        Some("profiles") => rt.block_on(profiles(&socket, num(2, 500)?, num(3, 50)?))?,
        Some("start") => {
            let instance = args.get(2).context(usage)?;
            rt.block_on(start(&socket, instance, num(3, 20)?))?
        }
        _ => bail!(usage),
    };
    println!("{out}");
    Ok(())
}
