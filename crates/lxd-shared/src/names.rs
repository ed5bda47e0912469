//! Name rules for API entities, with LXD's error texts.

use thiserror::Error;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("No name provided")]
    Empty,
    #[error("{0} names may not contain slashes")]
    Slash(&'static str),
    #[error("Invalid {0} name {1:?}")]
    Reserved(&'static str, String),
    #[error("Name must be 1-63 characters long")]
    Length,
    #[error("Name can only contain alphanumeric and hyphen characters")]
    Characters,
    #[error("Name must not start with a digit or hyphen")]
    Start,
    #[error("Name must not end with a hyphen")]
    End,
    #[error("{0} names may not contain {1}")]
    Contains(&'static str, &'static str),
    #[error("Reserved project name")]
    ReservedProject,
}

fn common(kind: &'static str, name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.contains('/') {
        return Err(NameError::Slash(kind));
    }
    if name == "." || name == ".." {
        return Err(NameError::Reserved(kind, name.to_string()));
    }
    Ok(())
}

/// A profile name: anything but empty, `.`/`..`, or with a slash.
pub fn validate_profile_name(name: &str) -> Result<(), NameError> {
    common("Profile", name)
}

/// A storage pool name: as profiles.
pub fn validate_pool_name(name: &str) -> Result<(), NameError> {
    common("Storage pool", name)
}

/// A project name: as profiles, and no spaces, underscores (instances of other projects are
/// named `<project>_<name>` on disk) or quotes, and not `*`.
pub fn validate_project_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    for (c, what) in [('/', "slashes"), (' ', "spaces"), ('_', "underscores")] {
        if name.contains(c) {
            return Err(NameError::Contains("Project", what));
        }
    }
    if name.contains(['\'', '"']) {
        return Err(NameError::Contains("Project", "quotes"));
    }
    if name == "*" {
        return Err(NameError::ReservedProject);
    }
    if name == "." || name == ".." {
        return Err(NameError::Reserved("project", name.to_string()));
    }
    Ok(())
}

/// An instance name: a valid hostname label (`shared/validate IsHostname`).
pub fn validate_instance_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() || name.len() > 63 {
        return Err(NameError::Length);
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(NameError::Characters);
    }
    if name.starts_with('-') || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(NameError::Start);
    }
    if name.ends_with('-') {
        return Err(NameError::End);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_project_name_refuses_what_lxd_refuses() {
        let text = |n: &str| validate_project_name(n).unwrap_err().to_string();
        assert_eq!(text("a_b"), "Project names may not contain underscores");
        assert_eq!(text("a b"), "Project names may not contain spaces");
        assert_eq!(text("a/b"), "Project names may not contain slashes");
        assert_eq!(text("a'b"), "Project names may not contain quotes");
        assert_eq!(text("*"), "Reserved project name");
        assert_eq!(text(".."), "Invalid project name \"..\"");
        assert!(validate_project_name("my-project.1").is_ok());
    }

    #[test]
    fn validate_profile_name_slash_refused_with_lxd_text() {
        let err = validate_profile_name("a/b").unwrap_err();
        assert_eq!(err.to_string(), "Profile names may not contain slashes");
        assert_eq!(
            validate_profile_name("").unwrap_err().to_string(),
            "No name provided"
        );
        assert!(validate_profile_name("1bad").is_ok());
    }

    #[test]
    fn validate_instance_name_hostname_rules() {
        assert!(validate_instance_name("c1").is_ok());
        assert_eq!(validate_instance_name("1c"), Err(NameError::Start));
        assert_eq!(validate_instance_name("c-"), Err(NameError::End));
        assert_eq!(validate_instance_name("c_1"), Err(NameError::Characters));
        assert_eq!(
            validate_instance_name(&"a".repeat(64)),
            Err(NameError::Length)
        );
    }
}
