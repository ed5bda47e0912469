//! Logging: a formatted log (file or stderr) plus `logging` events for `lxc monitor`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::events::EventBus;

/// Where `logging` events go once the bus exists.
static BUS: OnceLock<EventBus> = OnceLock::new();

/// Route `logging` events to `bus` from now on.
pub fn attach_events(bus: EventBus) {
    let _ = BUS.set(bus);
}

/// Set up logging: `--debug` logs debug, `--verbose` info, else warnings only.
pub fn init(logfile: Option<&Path>, debug: bool, verbose: bool) -> anyhow::Result<()> {
    let level = if debug {
        LevelFilter::DEBUG
    } else if verbose {
        LevelFilter::INFO
    } else {
        LevelFilter::WARN
    };
    let ours = Targets::new()
        .with_target("lxd_daemon", LevelFilter::DEBUG)
        .with_target("lxd_db", LevelFilter::DEBUG)
        .with_target("lxd_storage", LevelFilter::DEBUG);
    let registry = Registry::default().with(EventsLayer.with_filter(ours));
    match logfile {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            let fmt = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .with_filter(level);
            registry.with(fmt).try_init()?;
        }
        None => {
            let fmt = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(level);
            registry.with(fmt).try_init()?;
        }
    }
    Ok(())
}

struct EventsLayer;

#[derive(Default)]
struct Fields {
    message: String,
    context: BTreeMap<String, String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.context
                .insert(field.name().to_string(), format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.context
                .insert(field.name().to_string(), value.to_string());
        }
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        Level::DEBUG | Level::TRACE => "debug",
    }
}

impl<S: Subscriber> Layer<S> for EventsLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(bus) = BUS.get().filter(|b| b.has_listeners()) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let metadata = lxd_api::event::EventLogging {
            message: fields.message,
            level: level_name(event.metadata().level()).to_string(),
            context: fields.context,
        };
        bus.send(
            "logging",
            "",
            serde_json::to_value(metadata).unwrap_or_default(),
        );
    }
}
