//! The `lxd` daemon binary: serves the LXD REST API on a UNIX socket, and offers the
//! sub-commands `waitready`, `shutdown`, `activateifneeded`, `version` and `init` (and the
//! hidden helpers the daemon runs: `forkmonitor`, `forkexec`, `forkexecd`, `forkfile`,
//! `netcat`).

use lxd_daemon::{cmd, daemon, handlers};

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Command line of `lxd`.
#[derive(Parser)]
#[command(name = "lxd", version = handlers::server::SERVER_VERSION, about = "The LXD container manager (daemon)")]
struct Cli {
    /// The group of users that will be allowed to talk to LXD
    #[arg(long, global = true)]
    group: Option<String>,
    /// Path to the log file
    #[arg(long, global = true)]
    logfile: Option<PathBuf>,
    /// Show all debug messages
    #[arg(short, long, global = true)]
    debug: bool,
    /// Show all information messages
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Wait for LXD to be ready to process requests
    Waitready(cmd::waitready::Args),
    /// Tell LXD to shutdown all containers and exit
    Shutdown(cmd::shutdown::Args),
    /// Check if LXD should be started
    Activateifneeded,
    /// Show the server version
    Version,
    /// Configure the LXD daemon
    Init(cmd::init::Args),
    /// Start a container and stay as its monitor (internal)
    #[command(hide = true)]
    Forkmonitor { spec: PathBuf },
    /// Run a command inside a running container (internal)
    #[command(hide = true)]
    Forkexec { spec: PathBuf },
    /// Serve the daemon's exec requests, forking one child per command (internal)
    #[command(hide = true)]
    Forkexecd,
    /// Read or write one file of a container (internal)
    #[command(hide = true)]
    Forkfile { job: PathBuf },
    /// Check whether a path can be idmapped for a container (internal)
    #[command(hide = true)]
    Forkidmapprobe { path: PathBuf, uid: u32, gid: u32 },
    /// Relay stdin and stdout to a migration socket, as rsync's remote shell (internal)
    #[command(hide = true)]
    Netcat { address: String, name: String },
    /// Relay a proxy device between the host and a container (internal)
    #[command(hide = true)]
    Forkproxy { spec: PathBuf },
    /// Add or remove a mount in a running container (internal)
    #[command(hide = true)]
    Forkmount { job: PathBuf },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        None => daemon::run(daemon::Options {
            group: cli.group,
            logfile: cli.logfile,
            debug: cli.debug,
            verbose: cli.verbose,
        }),
        Some(Command::Version) => {
            println!("{}", handlers::server::SERVER_VERSION);
            Ok(())
        }
        Some(Command::Waitready(args)) => cmd::waitready::run(args),
        Some(Command::Shutdown(args)) => cmd::shutdown::run(args),
        Some(Command::Activateifneeded) => cmd::activate::run(),
        Some(Command::Init(args)) => cmd::init::run(args),
        Some(Command::Forkmonitor { spec }) => cmd::fork::monitor(&spec),
        Some(Command::Forkfile { job }) => cmd::fork::file(&job),
        Some(Command::Forkidmapprobe { path, uid, gid }) => {
            match cmd::idmap_probe::run(&path, uid, gid) {
                Ok(yes) => std::process::exit(if yes { 0 } else { 1 }),
                Err(e) => Err(e),
            }
        }
        Some(Command::Netcat { address, name: _ }) => {
            lxd_daemon::migration::rsync::netcat(&address).map_err(anyhow::Error::from)
        }
        Some(Command::Forkproxy { spec }) => cmd::fork::proxy(&spec),
        Some(Command::Forkmount { job }) => cmd::fork::mount(&job),
        Some(Command::Forkexecd) => cmd::exec_server::serve(),
        Some(Command::Forkexec { spec }) => match cmd::fork::exec(&spec) {
            Ok(code) => std::process::exit(code),
            Err(e) => Err(e),
        },
    };
    if let Err(e) = result {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
