//! AppArmor for containers, as LXD 5.0.2 does it: what the host offers ([`AppArmorHost`]),
//! LXD's names for an instance's profile and namespace ([`instance_names`]), the profile
//! rendered from `profiles/container.profile` ([`container_profile`]), loading and unloading it
//! with `apparmor_parser` ([`prepare`], [`release`], [`delete`]) and the label init and exec'd
//! commands run under ([`set_exec_label`], [`follow_init_label`]).
//!
//! Where the kernel has no AppArmor, profiles are still written (LXD does too) but nothing is
//! loaded and containers run unconfined; the daemon records LXD's warning.

mod globs;
mod host;
mod label;
mod names;
mod policy;
mod profile;
mod template;

pub use host::{label_from_attr, parse_parser_version, AppArmorHost};
pub use label::{follow_init_label, process_label, set_exec_label};
pub use names::{instance_names, project_instance, InstanceNames};
pub use policy::{
    create_namespace, delete, delete_namespace, is_loaded, load, prepare, profile_path, release,
    unload, validate, write_profile, ContainerPolicy,
};
pub use profile::{container_profile, ProfileFeatures};
pub use template::TemplateError;

use std::path::PathBuf;

use lxd_sys::command::CommandError;

/// An AppArmor step that failed.
#[derive(Debug, thiserror::Error)]
pub enum AppArmorError {
    #[error("Failed to {action} {path:?}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Failed to {action} AppArmor profile {file:?}")]
    Parser {
        action: &'static str,
        file: String,
        #[source]
        source: CommandError,
    },
    #[error("Failed to set AppArmor label {label:?} for exec")]
    Label {
        label: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Failed to render the AppArmor profile")]
    Template(#[from] TemplateError),
}
