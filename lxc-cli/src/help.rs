//! Cobra's help layout for lxc: the full help (`Description:` then the usage sections) for
//! `--help` and argument-count errors, the usage sections alone for a parent command run
//! without a sub-command. Texts come from [`crate::help_pages`]; the command path of a
//! command line is resolved through the clap tree so aliases (`ls`, `rm`) find their page.

use clap::CommandFactory;

use crate::help_pages::{GLOBAL_FLAGS, PAGES};
use crate::help_pages_config_files::CONFIG_FILES_PAGES;
use crate::help_pages_image::IMAGE_PAGES;
use crate::help_pages_instance::INSTANCE_PAGES;
use crate::help_pages_transfer::TRANSFER_PAGES;
use crate::help_pages_trust::TRUST_PAGES;
use crate::help_pages_volume::VOLUME_PAGES;

/// The page of `path`, or of its nearest ancestor that has one.
fn page(path: &[&str]) -> Option<(&'static str, &'static str)> {
    (0..=path.len()).rev().find_map(|n| {
        let key = path[..n].join(" ");
        PAGES
            .iter()
            .chain(IMAGE_PAGES)
            .chain(INSTANCE_PAGES)
            .chain(TRANSFER_PAGES)
            .chain(VOLUME_PAGES)
            .chain(CONFIG_FILES_PAGES)
            .chain(TRUST_PAGES)
            .find(|(p, _, _)| *p == key)
            .map(|(_, long, body)| (*long, *body))
    })
}

/// The full help text of `path` (description and usage sections).
pub fn full(path: &[&str]) -> String {
    match page(path) {
        Some((long, body)) => format!("{long}\n\n{}", body.replace("{global}", GLOBAL_FLAGS)),
        None => String::new(),
    }
}

/// The usage sections of `path` alone (cobra's `Usage()`).
pub fn usage(path: &[&str]) -> String {
    page(path)
        .map(|(_, body)| body.replace("{global}", GLOBAL_FLAGS))
        .unwrap_or_default()
}

/// The canonical command path named by a command line (`["lxc", "storage", "ls", "-h"]` →
/// `["storage", "list"]`), following sub-command names and aliases and skipping flags.
pub fn path_of(args: &[String]) -> Vec<String> {
    let mut cmd = crate::cli::Cli::command();
    cmd.build();
    let mut path = Vec::new();
    for a in args.iter().skip(1).filter(|a| !a.starts_with('-')) {
        let Some(sub) = cmd.find_subcommand(a).cloned() else {
            break;
        };
        path.push(sub.get_name().to_string());
        cmd = sub;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_help_of_profile_create_has_cobra_sections() {
        let text = full(&["profile", "create"]);
        assert!(text.starts_with("Description:\n  Create profiles\n\nUsage:\n"));
        assert!(text.contains("\nGlobal Flags:\n      --debug"));
    }

    #[test]
    fn path_of_alias_names_the_command() {
        let args: Vec<String> = ["lxc", "storage", "ls", "-h"].map(String::from).to_vec();
        assert_eq!(path_of(&args), ["storage", "list"]);
    }
}
