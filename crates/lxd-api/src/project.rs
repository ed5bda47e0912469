//! Projects (`shared/api/project.go`).

use serde::{Deserialize, Serialize};

use crate::ConfigMap;

/// A project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Project {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    pub name: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub used_by: Vec<String>,
}

/// Body of `POST /1.0/projects`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectsPost {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
}

/// Body of `POST /1.0/projects/<name>` (rename).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectPost {
    pub name: String,
}

/// The writable part of a project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectPut {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
}
