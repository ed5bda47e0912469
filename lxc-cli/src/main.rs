//! The `lxc` command-line client: parses the command line as lxc 5.0.2's cobra tree does, expands
//! aliases, runs one verb (one `cmd_*.rs` file each) and prints `Error: <message>` on failure.

mod aliases;
mod cli;
mod cli_narrow;
mod cmd_action;
mod cmd_alias;
mod cmd_config;
mod cmd_config_device;
mod cmd_config_metadata;
mod cmd_config_template;
mod cmd_config_trust;
mod cmd_console;
mod cmd_copy;
mod cmd_copy_remote;
mod cmd_delete;
mod cmd_exec;
mod cmd_export;
mod cmd_file;
mod cmd_file_push;
mod cmd_image;
mod cmd_image_alias;
mod cmd_image_copy;
mod cmd_image_list;
mod cmd_image_transfer;
mod cmd_info;
mod cmd_info_resources;
mod cmd_launch;
mod cmd_list;
mod cmd_monitor;
mod cmd_move;
mod cmd_operation;
mod cmd_profile;
mod cmd_profile_assign;
mod cmd_profile_device;
mod cmd_publish;
mod cmd_query;
mod cmd_remote;
mod cmd_remote_add;
mod cmd_snapshot;
mod cmd_storage;
mod cmd_storage_info;
mod cmd_storage_volume;
mod cmd_storage_volume_attach;
mod cmd_storage_volume_backup;
mod cmd_storage_volume_config;
mod cmd_storage_volume_copy;
mod cmd_storage_volume_list;
mod cmd_version;
mod config_file;
mod editor;
mod global;
mod go_yaml;
mod help;
mod help_pages;
mod help_pages_config_files;
mod help_pages_image;
mod help_pages_instance;
mod help_pages_transfer;
mod help_pages_trust;
mod help_pages_volume;
mod image_server;
mod image_source;
mod image_view;
mod info_instance;
mod kv;
mod list_columns;
mod list_filters;
mod mini_regex;
mod output;
mod progress;
mod prompt;
mod remote_address;
mod remote_connect;
mod simplestreams_remote;
mod trust_cert;
mod yaml;
mod yaml_scalar;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let args = match aliases::expand_from_env(&args) {
        Ok(aliases::Expansion::None) => args,
        Ok(aliases::Expansion::Args(new)) => new,
        Ok(aliases::Expansion::External(code)) => return ExitCode::from(code),
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::from(1)
        }
    }
}
