//! Getting a container's policy into and out of the kernel, as LXD does: the profile file under
//! `LXD_DIR/security/apparmor/profiles/` (rewritten only when its text changed, so the parser's
//! binary cache stays valid), `apparmor_parser -rWL <cache> <file>` to load, `-RWL` to unload,
//! `-QWL` to check, the AppArmor namespace as a directory in securityfs, and the cache entry
//! removed with the file when the instance goes. Tools run through a [`CommandRunner`].

use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use lxd_sys::command::CommandRunner;
use serde::{Deserialize, Serialize};

use super::host::AppArmorHost;
use super::AppArmorError;

/// The first parser version with per-feature-set cache directories.
const CACHE_SUBDIRS_VERSION: (u32, u32, u32) = (2, 13, 0);

/// One container's policy, as the daemon hands it to the container's monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerPolicy {
    /// `LXD_DIR/security/apparmor`.
    pub dir: PathBuf,
    /// The profile file's name (`lxd-c1`).
    pub file: String,
    /// The profile's name (`lxd-c1_</var/lib/lxd>`).
    pub profile: String,
    /// Load the profile before init starts and unload it once init has ended.
    pub load: bool,
    /// The AppArmor namespace to create before start and remove after, when stacking.
    #[serde(default)]
    pub namespace: Option<String>,
    /// The label init is exec'd under; `None` runs it unconfined.
    pub exec_label: Option<String>,
    /// AppArmor's securityfs directory.
    pub securityfs: PathBuf,
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> AppArmorError {
    let path = path.to_path_buf();
    move |source| AppArmorError::Io {
        action,
        path,
        source,
    }
}

/// `dir/profiles/file`.
pub fn profile_path(dir: &Path, file: &str) -> PathBuf {
    dir.join("profiles").join(file)
}

/// Write the profile text unless the file already holds it (mode 0600, directories 0700).
/// Returns whether the file was written.
pub fn write_profile(dir: &Path, file: &str, text: &str) -> Result<bool, AppArmorError> {
    let path = profile_path(dir, file);
    if std::fs::read(&path).ok().as_deref() == Some(text.as_bytes()) {
        return Ok(false);
    }
    for sub in ["profiles", "cache"] {
        let d = dir.join(sub);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .map_err(io_error("create", &d))?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_error("write", &tmp))?;
        f.write_all(text.as_bytes())
            .map_err(io_error("write", &tmp))?;
    }
    std::fs::rename(&tmp, &path).map_err(io_error("write", &path))?;
    Ok(true)
}

fn parser(
    runner: &dyn CommandRunner,
    flag: &str,
    dir: &Path,
    file: &str,
    action: &'static str,
) -> Result<(), AppArmorError> {
    let cache = dir.join("cache");
    let profile = profile_path(dir, file);
    let (cache, profile) = (cache.to_string_lossy(), profile.to_string_lossy());
    runner
        .run("apparmor_parser", &[flag, &cache, &profile])
        .map(|_| ())
        .map_err(|source| AppArmorError::Parser {
            action,
            file: file.to_string(),
            source,
        })
}

/// Load (or replace) the profile in the kernel, caching the compiled policy.
pub fn load(runner: &dyn CommandRunner, dir: &Path, file: &str) -> Result<(), AppArmorError> {
    parser(runner, "-rWL", dir, file, "load")
}

/// Check that the profile parses, without loading it.
pub fn validate(runner: &dyn CommandRunner, dir: &Path, file: &str) -> Result<(), AppArmorError> {
    parser(runner, "-QWL", dir, file, "parse")
}

/// Whether the kernel has `profile` loaded (securityfs lists `<mangled name>.<n>` entries).
pub fn is_loaded(securityfs: &Path, profile: &str) -> bool {
    let mangled: String = profile
        .chars()
        .filter(|c| *c != '<' && *c != '>')
        .map(|c| if c == '/' { '.' } else { c })
        .collect();
    let Ok(entries) = std::fs::read_dir(securityfs.join("policy/profiles")) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.rsplit_once('.')
            .is_some_and(|(base, _)| base == mangled)
    })
}

/// Remove the profile from the kernel if it is loaded there.
pub fn unload(
    runner: &dyn CommandRunner,
    securityfs: &Path,
    dir: &Path,
    file: &str,
    profile: &str,
) -> Result<(), AppArmorError> {
    if !is_loaded(securityfs, profile) {
        return Ok(());
    }
    parser(runner, "-RWL", dir, file, "unload")
}

/// Create the container's AppArmor namespace (it may exist already).
pub fn create_namespace(securityfs: &Path, namespace: &str) -> Result<(), AppArmorError> {
    let path = securityfs.join("policy/namespaces").join(namespace);
    match std::fs::DirBuilder::new().mode(0o755).create(&path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(AppArmorError::Io {
            action: "create",
            path,
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Remove the container's AppArmor namespace (and the policy loaded into it).
pub fn delete_namespace(securityfs: &Path, namespace: &str) -> Result<(), AppArmorError> {
    let path = securityfs.join("policy/namespaces").join(namespace);
    match std::fs::remove_dir(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(AppArmorError::Io {
            action: "remove",
            path,
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Before init starts: the namespace, then the profile.
pub fn prepare(runner: &dyn CommandRunner, policy: &ContainerPolicy) -> Result<(), AppArmorError> {
    if let Some(ns) = &policy.namespace {
        create_namespace(&policy.securityfs, ns)?;
    }
    if policy.load {
        load(runner, &policy.dir, &policy.file)?;
    }
    Ok(())
}

/// After init has ended: unload the profile and remove the namespace. Both are tried; the
/// first failure is returned.
pub fn release(runner: &dyn CommandRunner, policy: &ContainerPolicy) -> Result<(), AppArmorError> {
    let namespace = match &policy.namespace {
        Some(ns) => delete_namespace(&policy.securityfs, ns),
        None => Ok(()),
    };
    let profile = match policy.load {
        true => unload(
            runner,
            &policy.securityfs,
            &policy.dir,
            &policy.file,
            &policy.profile,
        ),
        false => Ok(()),
    };
    namespace.and(profile)
}

/// The directory the parser keeps this feature set's compiled policy in.
fn cache_dir(runner: &dyn CommandRunner, host: &AppArmorHost, dir: &Path) -> PathBuf {
    let base = dir.join("cache");
    if !host.available
        || host
            .parser_version
            .is_none_or(|v| v < CACHE_SUBDIRS_VERSION)
    {
        return base;
    }
    let base_text = base.to_string_lossy();
    match runner.run("apparmor_parser", &["-L", &base_text, "--print-cache-dir"]) {
        Ok(out) if !out.trim().is_empty() => PathBuf::from(out.trim()),
        _ => base,
    }
}

/// The instance is gone: unload its profile, and remove the file and its cache entry.
pub fn delete(
    runner: &dyn CommandRunner,
    host: &AppArmorHost,
    dir: &Path,
    file: &str,
    profile: &str,
) -> Result<(), AppArmorError> {
    if host.available {
        unload(runner, &host.securityfs, dir, file, profile)?;
    }
    for path in [
        cache_dir(runner, host, dir).join(file),
        profile_path(dir, file),
    ] {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(AppArmorError::Io {
                    action: "remove",
                    path,
                    source: e,
                })
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
