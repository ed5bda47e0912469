//! A container's AppArmor profile: `profiles/container.profile` rendered with the host's
//! features and the instance's `security.nesting`, `security.privileged` and `raw.apparmor`.

use std::collections::BTreeMap;

use lxd_shared::config::values::parse_bool;

use super::host::AppArmorHost;
use super::names::InstanceNames;
use super::template::{render, Context, TemplateError};

/// The container profile template, kept at the top of the repository.
const CONTAINER_TEMPLATE: &str = include_str!("../../../../profiles/container.profile");

/// Host features the profile depends on (LXD's `feature_*` template values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileFeatures {
    /// The parser understands `unix` rules.
    pub unix: bool,
    /// The kernel has cgroup namespaces.
    pub cgroup_namespace: bool,
    /// The host has a cgroup v2 hierarchy (pure v2 or hybrid).
    pub cgroup2: bool,
    /// Each container gets an AppArmor namespace stacked on its profile.
    pub stacking: bool,
    /// We run in a user namespace: every container gets the unprivileged rules.
    pub in_user_ns: bool,
}

impl ProfileFeatures {
    /// The features of `host`; the cgroup facts come from the cgroup module.
    pub fn of(host: &AppArmorHost, cgroup_namespace: bool, cgroup2: bool) -> Self {
        Self {
            unix: host.parser_supports_unix(),
            cgroup_namespace,
            cgroup2,
            stacking: host.stacking && !host.stacked,
            in_user_ns: host.in_user_ns,
        }
    }
}

fn is_true(config: &BTreeMap<String, String>, key: &str) -> bool {
    config.get(key).and_then(|v| parse_bool(v)) == Some(true)
}

/// The profile text for a container with `config` (its expanded config).
pub fn container_profile(
    names: &InstanceNames,
    config: &BTreeMap<String, String>,
    features: &ProfileFeatures,
) -> Result<String, TemplateError> {
    let mut ctx = Context::default();
    let flags = [
        ("unix", features.unix),
        ("cgns", features.cgroup_namespace),
        ("cgroup2", features.cgroup2),
        ("stacking", features.stacking),
        ("nesting", is_true(config, "security.nesting")),
        (
            "unprivileged",
            !is_true(config, "security.privileged") || features.in_user_ns,
        ),
    ];
    ctx.flags
        .extend(flags.iter().filter(|(_, on)| *on).map(|(flag, _)| *flag));
    // As LXD: a present raw.apparmor (even empty) adds its section, one indented line each.
    if let Some(raw) = config.get("raw.apparmor") {
        ctx.flags.insert("raw");
        ctx.raw = raw
            .trim_matches('\n')
            .split('\n')
            .map(String::from)
            .collect();
    }
    ctx.vars.insert("name", names.profile.clone());
    ctx.vars.insert("namespace", names.namespace.clone());
    render(CONTAINER_TEMPLATE, &ctx)
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
