//! Running the daemon: set up state, serve the socket, and shut down cleanly on SIGTERM,
//! SIGINT or `lxd shutdown`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};

use crate::events::EventBus;
use crate::facts::HostFacts;
use crate::paths::Paths;
use crate::state::Daemon;

/// Daemon flags.
pub struct Options {
    pub group: Option<String>,
    pub logfile: Option<PathBuf>,
    pub debug: bool,
    pub verbose: bool,
}

/// Start the daemon and block until it stops.
pub fn run(opts: Options) -> anyhow::Result<()> {
    crate::logging::init(opts.logfile.as_deref(), opts.debug, opts.verbose)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("lxd-worker")
        .enable_all()
        .build()?;
    runtime.block_on(serve(opts))
}

async fn serve(opts: Options) -> anyhow::Result<()> {
    let paths = Paths::from_env();
    paths
        .create()
        .with_context(|| format!("Failed to create {}", paths.var.display()))?;
    let db = lxd_db::Database::open(&paths.database())?;
    let facts = HostFacts::gather(&paths.var);
    let events = EventBus::default();
    crate::logging::attach_events(events.clone());
    let state = Daemon::new(paths.clone(), db, facts, events);
    crate::startup_warnings::record(&state).await;
    crate::storage_backend::mount_all(&state).await;
    crate::tasks::image_expiry::prune_leftover_files(&state).await;
    crate::tasks::image_expiry::run(&state).await;

    // As LXD, the server certificate exists from the first start on.
    state.server_cert()?;
    // Before the socket answers: a SIGTERM sent once a client got an answer must find the
    // handler (the default action would kill the daemon uncleanly).
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let api = crate::server::listener::open(&paths.socket(), opts.group.as_deref())?;
    let app = crate::api::router::app(state.clone());
    let stop = state.shutdown.subscribe();
    let serving = tokio::spawn(crate::server::unix::serve(api.listener, app, stop));
    let https_address = state
        .db
        .read(lxd_db::server_config::get_all)?
        .remove("core.https_address")
        .unwrap_or_default();
    if let Err(e) = state.https.update(&state, &https_address).await {
        tracing::error!(error = %e, "Failed to start the HTTPS listener");
    }
    state.ready.send_replace(true);
    crate::handlers::instances::own_stop::reconcile(&state).await;
    crate::handlers::instances::state::autostart(&state).await;
    crate::tasks::start(&state);
    tracing::info!(dir = %paths.var.display(), "LXD is ready");
    // Code that only start-up ran (schema, certificate, host probes, reattaching) need not stay
    // resident; what requests use is mapped back from the page cache when they run.
    tokio::task::spawn_blocking(lxd_sys::memory::drop_clean_file_pages);

    let mut requested = state.shutdown.subscribe();
    tokio::select! {
        _ = term.recv() => tracing::info!("Received SIGTERM, shutting down"),
        _ = int.recv() => tracing::info!("Received SIGINT, shutting down"),
        _ = requested.wait_for(|s| *s) => tracing::info!("Shutdown requested"),
    }
    state.shutdown.send_replace(true);
    state.operations.cancel_all();
    let _ = tokio::time::timeout(Duration::from_secs(5), serving).await;
    if !api.activated {
        let _ = std::fs::remove_file(paths.socket());
    }
    state.db.close();
    tracing::info!("LXD stopped");
    Ok(())
}
