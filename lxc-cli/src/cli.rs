//! The clap command tree of `lxc`, cobra-compatible error texts (`unknown command "x" for
//! "lxc"`, `unknown flag: --x`), argument-count checks that print help, and dispatch.

use anyhow::{anyhow, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::global::{Ctx, GlobalFlags};

/// Command line client for LXD
#[derive(Debug, Parser)]
#[command(
    name = "lxc",
    disable_version_flag = true,
    disable_help_subcommand = true,
    help_template = "Description:\n  {about}\n\nUsage:\n  {usage}\n\n{all-args}"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    /// Print version number
    #[arg(long, global = true)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The verbs this client implements.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage command aliases
    Alias(crate::cmd_alias::AliasCmd),
    /// Manage instance and server configuration options
    Config(crate::cmd_config::ConfigCmd),
    /// Attach to instance consoles
    Console(crate::cmd_console::ConsoleCmd),
    /// Copy instances within or in between LXD servers
    #[command(visible_alias = "cp")]
    Copy(crate::cmd_copy::CopyCmd),
    /// Delete instances and snapshots
    #[command(visible_alias = "rm")]
    Delete(crate::cmd_delete::DeleteCmd),
    /// Execute commands in instances
    Exec(crate::cmd_exec::ExecCmd),
    /// Export instance backups
    Export(crate::cmd_export::ExportCmd),
    /// Manage files in instances
    File(crate::cmd_file::FileCmd),
    /// Manage images
    Image(crate::cmd_image::ImageCmd),
    /// Show instance or server information
    Info(crate::cmd_info::InfoCmd),
    /// Import instance backups
    Import(crate::cmd_export::ImportCmd),
    /// Create instances from images
    Init(crate::cmd_launch::InitCmd),
    /// Create and start instances from images
    Launch(crate::cmd_launch::LaunchCmd),
    /// List instances
    #[command(visible_alias = "ls")]
    List(crate::cmd_list::ListCmd),
    /// Monitor a local or remote LXD server
    Monitor(crate::cmd_monitor::MonitorCmd),
    /// Move instances within or in between LXD servers
    #[command(visible_alias = "mv")]
    Move(crate::cmd_move::MoveCmd),
    /// List, show and delete background operations
    Operation(crate::cmd_operation::OperationCmd),
    /// Pause instances
    Pause(crate::cmd_action::PauseCmd),
    /// Manage profiles
    Profile(crate::cmd_profile::ProfileCmd),
    /// Publish instances as images
    Publish(crate::cmd_publish::PublishCmd),
    /// Send a raw query to LXD
    Query(crate::cmd_query::QueryCmd),
    /// Manage the list of remote servers
    Remote(crate::cmd_remote::RemoteCmd),
    /// Rename instances and snapshots
    Rename(crate::cmd_delete::RenameCmd),
    /// Restart instances
    Restart(crate::cmd_action::RestartCmd),
    /// Restore instances from snapshots
    Restore(crate::cmd_snapshot::RestoreCmd),
    /// Create instance snapshots
    Snapshot(crate::cmd_snapshot::SnapshotCmd),
    /// Start instances
    Start(crate::cmd_action::StartCmd),
    /// Stop instances
    Stop(crate::cmd_action::StopCmd),
    /// Manage storage pools and volumes
    Storage(crate::cmd_storage::StorageCmd),
    /// Show local and remote versions
    Version(crate::cmd_version::VersionCmd),
}

/// Maps a clap parse error to cobra's text.
fn cobra_error(err: &clap::Error, args: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let ctx = |k| match err.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(" "),
        _ => String::new(),
    };
    match err.kind() {
        ErrorKind::InvalidSubcommand => {
            let bad = ctx(ContextKind::InvalidSubcommand);
            let mut path = vec!["lxc".to_string()];
            for a in args.iter().skip(1) {
                if a == &bad {
                    break;
                }
                if !a.starts_with('-') {
                    path.push(a.clone());
                }
            }
            format!("unknown command \"{bad}\" for \"{}\"", path.join(" "))
        }
        ErrorKind::UnknownArgument => {
            let arg = ctx(ContextKind::InvalidArg);
            let arg = arg.split('=').next().unwrap_or_default().to_string();
            if let Some(short) = arg.strip_prefix('-').filter(|s| !s.starts_with('-')) {
                let c = short.chars().next().unwrap_or('-');
                format!("unknown shorthand flag: '{c}' in {arg}")
            } else {
                format!("unknown flag: {arg}")
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            format!(
                "invalid argument \"{}\" for \"{}\" flag",
                ctx(ContextKind::InvalidValue),
                ctx(ContextKind::InvalidArg)
            )
        }
        _ => {
            let text = err.to_string();
            let line = text.lines().next().unwrap_or_default();
            line.trim_start_matches("error: ").to_string()
        }
    }
}

/// Prints the full help of the command at `path` (e.g. `["profile", "create"]`).
pub fn print_help(path: &[&str]) {
    print!("{}", crate::help::full(path));
}

/// Prints the usage sections of `path` to stderr, as a parent command run without a
/// sub-command does (cobra's `Usage()`).
pub fn print_usage(path: &[&str]) {
    eprint!("{}", crate::help::usage(path));
}

/// lxc's `CheckArgs`: wrong count prints help; with no arguments that is not an error.
/// Returns `Ok(true)` when the command should stop (help shown).
pub fn check_args(path: &[&str], args: &[String], min: usize, max: Option<usize>) -> Result<bool> {
    if args.len() < min || max.is_some_and(|m| args.len() > m) {
        print_help(path);
        if args.is_empty() {
            return Ok(true);
        }
        return Err(anyhow!("Invalid number of arguments"));
    }
    Ok(false)
}

/// Parses and runs one command line; returns the exit code.
pub async fn run(args: Vec<String>) -> Result<u8> {
    let cli = match crate::cli_narrow::parse(&args) {
        Some(cli) => cli,
        None => match parse_full(&args)? {
            Some(cli) => cli,
            None => return Ok(0),
        },
    };
    run_parsed(cli, args).await
}

/// [`run`]'s parse with the whole tree: `None` once help was printed; errors are worded as
/// cobra words them.
fn parse_full(args: &[String]) -> Result<Option<Cli>> {
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let path = crate::help::path_of(args);
                print_help(&path.iter().map(String::as_str).collect::<Vec<_>>());
                return Ok(None);
            }
            return Err(anyhow!(cobra_error(&e, args)));
        }
    };
    Cli::from_arg_matches(&matches)
        .map(Some)
        .map_err(|e| anyhow!(cobra_error(&e, args)))
}

async fn run_parsed(cli: Cli, args: Vec<String>) -> Result<u8> {
    if cli.version {
        println!("5.0.2");
        return Ok(0);
    }
    let Some(command) = cli.command else {
        print_help(&[]);
        return Ok(0);
    };
    let leaf = args
        .iter()
        .skip(1)
        .rfind(|a| !a.starts_with('-'))
        .cloned()
        .unwrap_or_default();
    let ctx = Ctx::load(cli.global, &leaf).await?;
    match command {
        Command::Alias(c) => c.run(ctx).await,
        Command::Config(c) => c.run(ctx).await,
        Command::Console(c) => c.run(ctx).await,
        Command::Copy(c) => c.run(ctx).await,
        Command::Delete(c) => c.run(ctx).await,
        Command::Export(c) => c.run(ctx).await,
        Command::File(c) => c.run(ctx).await,
        Command::Import(c) => c.run(ctx).await,
        Command::Move(c) => c.run(ctx).await,
        Command::Publish(c) => c.run(ctx).await,
        Command::Restore(c) => c.run(ctx).await,
        Command::Snapshot(c) => c.run(ctx).await,
        Command::Exec(c) => return c.run(ctx).await,
        Command::Init(c) => c.run(ctx).await,
        Command::Launch(c) => c.run(ctx).await,
        Command::List(c) => c.run(ctx).await,
        Command::Pause(c) => c.run(ctx).await,
        Command::Rename(c) => c.run(ctx).await,
        Command::Restart(c) => c.run(ctx).await,
        Command::Start(c) => c.run(ctx).await,
        Command::Stop(c) => c.run(ctx).await,
        Command::Image(c) => c.run(ctx).await,
        Command::Info(c) => c.run(ctx).await,
        Command::Monitor(c) => c.run(ctx).await,
        Command::Operation(c) => c.run(ctx).await,
        Command::Profile(c) => c.run(ctx).await,
        Command::Query(c) => c.run(ctx).await,
        Command::Remote(c) => c.run(ctx).await,
        Command::Storage(c) => c.run(ctx).await,
        Command::Version(c) => c.run(ctx).await,
    }?;
    Ok(0)
}
