//! How LXD names an instance's AppArmor profile, its AppArmor namespace and the profile's file:
//! `lxd-<instance>_<LXD_DIR>`, `lxd-<instance>_<LXD_DIR with dashes>` and `lxd-<instance>`,
//! where `<instance>` carries the project (`<project>_<name>`) outside the default project, and
//! a name AppArmor would find too long (253 bytes) is replaced by its sha256.

use std::path::Path;

use sha2::{Digest, Sha256};

/// The names of one instance's AppArmor policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceNames {
    /// The profile's name, e.g. `lxd-c1_</var/lib/lxd>`.
    pub profile: String,
    /// The AppArmor namespace for the container's own policy, e.g. `lxd-c1_<var-lib-lxd>`.
    pub namespace: String,
    /// The file under `security/apparmor/profiles/` (and the binary cache), e.g. `lxd-c1`.
    pub file: String,
}

/// `lxd-NAME`, or `lxd-<sha256 of NAME>` when the whole would exceed AppArmor's limit.
fn profile_name(name: &str) -> String {
    // LXD's rule: the name, the `lxd` prefix and one separator must stay below 253 bytes.
    if name.len() + 4 >= 253 {
        return format!("lxd-{}", hex::encode(Sha256::digest(name.as_bytes())));
    }
    format!("lxd-{name}")
}

/// The instance name as LXD qualifies it by project.
pub fn project_instance(project: &str, name: &str) -> String {
    if project == "default" || project.is_empty() {
        name.to_string()
    } else {
        format!("{project}_{name}")
    }
}

/// The names for instance `name` of `project` in a daemon whose `LXD_DIR` is `lxd_dir`.
pub fn instance_names(project: &str, name: &str, lxd_dir: &Path) -> InstanceNames {
    let qualified = project_instance(project, name);
    let dir = lxd_dir.to_string_lossy();
    let dir = match dir.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let dashed = dir.trim_matches('/').replace('/', "-");
    InstanceNames {
        profile: profile_name(&format!("{qualified}_<{dir}>")),
        namespace: profile_name(&format!("{qualified}_<{dashed}>")),
        file: profile_name(&qualified),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_default_project_as_lxd() {
        let n = instance_names("default", "c1", Path::new("/var/lib/lxd/"));
        assert_eq!(n.profile, "lxd-c1_</var/lib/lxd>");
        assert_eq!(n.namespace, "lxd-c1_<var-lib-lxd>");
        assert_eq!(n.file, "lxd-c1");
    }

    #[test]
    fn instance_names_other_project_prefixed() {
        let n = instance_names("p1", "c3", Path::new("/tmp/x/d"));
        assert_eq!(n.profile, "lxd-p1_c3_</tmp/x/d>");
        assert_eq!(n.namespace, "lxd-p1_c3_<tmp-x-d>");
        assert_eq!(n.file, "lxd-p1_c3");
    }

    #[test]
    fn instance_names_too_long_hashed() {
        let dir = format!("/{}", "d".repeat(250));
        let n = instance_names("default", "c1", Path::new(&dir));
        let expected = hex::encode(Sha256::digest(format!("c1_<{dir}>").as_bytes()));
        assert_eq!(n.profile, format!("lxd-{expected}"));
        assert_eq!(n.profile.len(), 4 + 64);
        assert_eq!(n.file, "lxd-c1");
    }
}
