//! Image templates (`metadata.yaml` `templates:`): LXD's pongo2 context, the trigger rules and
//! rendering into an instance's rootfs.
//!
//! On create, copy and rename LXD only records `volatile.apply_template` (the first pending
//! trigger wins); at the next start it applies that trigger and then `start`, which fires on
//! every start ([`start_triggers`]). A `create_only` template never overwrites an existing
//! file. Outputs are written without following any symlink in the rootfs. This module does not
//! decide when an instance starts, and it never touches instance config itself.

mod apply;
mod eval;
mod expr;
mod parse;

use std::collections::BTreeMap;
use std::io;

pub use apply::{apply_templates, TemplateTarget};
pub use eval::Value;

use crate::metadata::{ImageMetadata, ImageMetadataTemplate};

/// Why a template could not be parsed, rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("Template syntax error: {0}")]
    Parse(String),
    #[error("Template error: {0}")]
    Render(String),
    #[error("Unknown template trigger {0:?}")]
    UnknownTrigger(String),
    #[error(
        "Refusing template {0:?}: it must be a plain file name inside the templates directory"
    )]
    BadTemplateName(String),
    #[error(
        "Refusing to write template output {path:?}: {component:?} is a symlink or not a directory"
    )]
    ThroughSymlink { path: String, component: String },
    #[error("Failed to read template {path}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("Failed to write template output {path}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("Failed to apply template {template} to {path}")]
    Apply {
        template: String,
        path: String,
        #[source]
        source: Box<TemplateError>,
    },
}

/// When a template fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Create,
    Copy,
    Start,
    Rename,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Copy => "copy",
            Self::Start => "start",
            Self::Rename => "rename",
        }
    }

    pub fn parse(name: &str) -> Result<Self, TemplateError> {
        Ok(match name {
            "create" => Self::Create,
            "copy" => Self::Copy,
            "start" => Self::Start,
            "rename" => Self::Rename,
            other => return Err(TemplateError::UnknownTrigger(other.to_string())),
        })
    }
}

/// The new value of `volatile.apply_template` after `trigger` (create, copy, rename): a
/// trigger already pending is kept.
pub fn pending_trigger(current: Option<&str>, trigger: Trigger) -> String {
    match current {
        Some(pending) if !pending.is_empty() => pending.to_string(),
        _ => trigger.as_str().to_string(),
    }
}

/// The triggers to apply at a start, in order: the pending one (if any), then `start`.
pub fn start_triggers(apply_template: Option<&str>) -> Result<Vec<Trigger>, TemplateError> {
    let mut triggers = Vec::new();
    if let Some(pending) = apply_template.filter(|p| !p.is_empty()) {
        triggers.push(Trigger::parse(pending)?);
    }
    triggers.push(Trigger::Start);
    Ok(triggers)
}

/// The templates of `metadata` that fire on `trigger`, by output path.
pub fn templates_for(
    metadata: &ImageMetadata,
    trigger: Trigger,
) -> Vec<(&String, &ImageMetadataTemplate)> {
    metadata
        .templates
        .iter()
        .filter(|(_, t)| t.when.iter().any(|w| w == trigger.as_str()))
        .collect()
}

/// Whether a template should write its output, given whether the file exists.
pub fn should_write(template: &ImageMetadataTemplate, output_exists: bool) -> bool {
    !(output_exists && template.create_only)
}

/// What templates see of the instance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceInfo {
    pub name: String,
    pub architecture: String,
    pub privileged: bool,
    pub ephemeral: bool,
    /// The expanded config.
    pub config: BTreeMap<String, String>,
    /// The expanded devices.
    pub devices: BTreeMap<String, BTreeMap<String, String>>,
}

/// Render a template source with LXD's context for `path` and `trigger`.
pub fn render(
    source: &str,
    instance: &InstanceInfo,
    trigger: Trigger,
    path: &str,
    properties: &BTreeMap<String, String>,
) -> Result<String, TemplateError> {
    let nodes = parse::parse(source)?;
    let bool_text = |b: bool| Value::Str(if b { "true" } else { "false" }.into());
    let meta = Value::Map(BTreeMap::from([
        ("name".into(), Value::Str(instance.name.clone())),
        ("type".into(), Value::Str("container".into())),
        (
            "architecture".into(),
            Value::Str(instance.architecture.clone()),
        ),
        ("privileged".into(), bool_text(instance.privileged)),
        ("ephemeral".into(), bool_text(instance.ephemeral)),
    ]));
    let devices = instance
        .devices
        .iter()
        .map(|(name, device)| (name.clone(), Value::string_map(device)))
        .collect();
    let variables = BTreeMap::from([
        ("trigger".into(), Value::Str(trigger.as_str().into())),
        ("path".into(), Value::Str(path.into())),
        ("container".into(), meta.clone()),
        ("instance".into(), meta),
        ("config".into(), Value::string_map(&instance.config)),
        ("devices".into(), Value::Map(devices)),
        ("properties".into(), Value::string_map(properties)),
    ]);
    let config_get = |args: &[Value]| -> Value {
        let key = args.first().map(Value::render).unwrap_or_default();
        match instance.config.get(&key) {
            Some(value) => Value::Str(value.trim_end_matches(['\r', '\n']).to_string()),
            None => args.get(1).cloned().unwrap_or(Value::Nil),
        }
    };
    let mut scope = eval::Scope {
        variables,
        functions: BTreeMap::from([("config_get", &config_get as eval::Function<'_>)]),
    };
    let mut out = String::new();
    eval::render_nodes(&nodes, &mut scope, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
