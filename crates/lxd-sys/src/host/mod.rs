//! Host facts for the `environment` of `GET /1.0`: kernel (uname), distribution (os-release),
//! hostname, supported architectures, firewall driver and kernel features.
//!
//! Everything here is read once at daemon start-up and cached by the caller; nothing here
//! changes the host. Paths come from [`HostPaths`], tools run through a [`CommandRunner`].

mod features;
mod firewall;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use features::{probe_kernel_features, KernelFeatures};
pub use firewall::{detect_firewall, Firewall};

use crate::paths::HostPaths;

/// Why a host fact could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("Failed to get the kernel identity (uname)")]
    Uname(#[source] nix::Error),
    #[error("Failed to read {path:?}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Invalid format on line {line} of {path:?}")]
    OsReleaseFormat { path: PathBuf, line: usize },
    #[error("Failed to get the hostname")]
    Hostname(#[source] nix::Error),
}

/// The kernel's identity, as `uname(2)` gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uname {
    /// `Linux`.
    pub sysname: String,
    /// Kernel release, e.g. `6.1.0-13-amd64`.
    pub release: String,
    /// Hardware name, e.g. `x86_64`.
    pub machine: String,
}

/// Read the kernel identity of the running host.
pub fn uname() -> Result<Uname, HostError> {
    let uts = nix::sys::utsname::uname().map_err(HostError::Uname)?;
    Ok(Uname {
        sysname: uts.sysname().to_string_lossy().into_owned(),
        release: uts.release().to_string_lossy().into_owned(),
        machine: uts.machine().to_string_lossy().into_owned(),
    })
}

/// The host facts `GET /1.0` shows (everything but the daemon's own state).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostInfo {
    /// `kernel`: `Linux`.
    pub kernel: String,
    /// `kernel_version`: the release, e.g. `6.1.0-13-amd64`.
    pub kernel_version: String,
    /// `kernel_architecture`: e.g. `x86_64`.
    pub kernel_architecture: String,
    /// `os_name`: os-release `NAME`, e.g. `Debian GNU/Linux`.
    pub os_name: String,
    /// `os_version`: os-release `VERSION_ID`, e.g. `12`.
    pub os_version: String,
    /// `server_name` of a standalone server: the hostname.
    pub hostname: String,
    /// `architectures`: the native one first, then its personalities.
    pub architectures: Vec<String>,
}

/// Gather the host facts: uname, os-release, hostname and architectures.
pub fn host_info(paths: &HostPaths) -> Result<HostInfo, HostError> {
    let uts = uname()?;
    let release = os_release(paths)?;
    Ok(HostInfo {
        architectures: architectures_for(&uts.machine),
        kernel: uts.sysname,
        kernel_version: uts.release,
        kernel_architecture: uts.machine,
        os_name: release.get("NAME").cloned().unwrap_or_default(),
        os_version: release.get("VERSION_ID").cloned().unwrap_or_default(),
        hostname: hostname(paths)?,
    })
}

/// The architectures LXD reports for a machine name: the machine's own, then the 32-bit
/// personalities it can run (`x86_64` → `["x86_64", "i686"]`). Aliases (`amd64`) are
/// normalised; an unknown name is returned alone.
pub fn architectures_for(machine: &str) -> Vec<String> {
    let native = match machine {
        "amd64" | "generic_64" => "x86_64",
        "i386" | "i586" | "386" | "x86" | "generic_32" => "i686",
        "arm64" | "arm64_generic" => "aarch64",
        "armhf" | "armhfp" | "armv7a_hardfp" | "armv7" | "armv7a_vfpv3_hardfp" => "armv7l",
        "armel" | "arm" => "armv6l",
        "powerpc" => "ppc",
        "powerpc64" => "ppc64",
        "ppc64el" => "ppc64le",
        "mipsel" => "mips",
        "mips64el" => "mips64",
        other => other,
    };
    let personalities: &[&str] = match native {
        "x86_64" => &["i686"],
        "armv7l" => &["armv6l"],
        "armv8l" => &["armv6l", "armv7l"],
        "aarch64" => &["armv6l", "armv7l", "armv8l"],
        "ppc64" => &["ppc"],
        "mips64" => &["mips"],
        _ => &[],
    };
    std::iter::once(native)
        .chain(personalities.iter().copied())
        .map(str::to_string)
        .collect()
}

/// The os-release keys: `/etc/os-release`, or `/usr/lib/os-release` when the first is missing.
/// Both missing gives an empty map, as in LXD.
pub fn os_release(paths: &HostPaths) -> Result<BTreeMap<String, String>, HostError> {
    let primary = paths.etc.join("os-release");
    let path = if primary.exists() {
        primary
    } else {
        paths.usr.join("lib/os-release")
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            parse_os_release(&text).map_err(|line| HostError::OsReleaseFormat { path, line })
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(source) => Err(HostError::Read { path, source }),
    }
}

/// Parse os-release text; `Err(line)` names the first line without `=` (1-based).
/// Values lose surrounding quotes (`"`, `'`), as LXD trims them.
pub fn parse_os_release(text: &str) -> Result<BTreeMap<String, String>, usize> {
    let mut keys = BTreeMap::new();
    for (index, line) in text.split('\n').enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or(index + 1)?;
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        keys.insert(key.to_string(), value.to_string());
    }
    Ok(keys)
}

/// The hostname as Go's `os.Hostname` finds it: `/proc/sys/kernel/hostname`, else uname.
pub fn hostname(paths: &HostPaths) -> Result<String, HostError> {
    if let Ok(name) = std::fs::read_to_string(paths.proc_path("sys/kernel/hostname")) {
        let name = name.trim_end_matches('\n');
        if !name.is_empty() {
            return Ok(name.to_string());
        }
    }
    let name = nix::unistd::gethostname().map_err(HostError::Hostname)?;
    Ok(name.to_string_lossy().into_owned())
}

/// Whether a kernel release (`6.1.0-13-amd64`) is at least `major.minor`.
/// An unparsable release counts as new enough, as LXD only rejects versions it can read.
pub fn kernel_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release.split(['.', '-']);
    let found_major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let found_minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (found_major, found_minor) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        (Some(a), None) => a > major,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_host() -> (tempfile::TempDir, HostPaths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths::under(dir.path());
        (dir, paths)
    }

    fn write(path: &std::path::Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn architectures_for_x86_64_adds_i686() {
        assert_eq!(architectures_for("x86_64"), vec!["x86_64", "i686"]);
        assert_eq!(architectures_for("amd64"), vec!["x86_64", "i686"]);
    }

    #[test]
    fn architectures_for_aarch64_adds_three_arm_personalities() {
        assert_eq!(
            architectures_for("aarch64"),
            vec!["aarch64", "armv6l", "armv7l", "armv8l"]
        );
        assert_eq!(architectures_for("s390x"), vec!["s390x"]);
    }

    #[test]
    fn os_release_debian_name_and_version() {
        let (_dir, paths) = fake_host();
        write(
            &paths.etc.join("os-release"),
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
             VERSION_ID=\"12\"\n# comment\n\nID=debian\n",
        );
        let keys = os_release(&paths).unwrap();
        assert_eq!(keys["NAME"], "Debian GNU/Linux");
        assert_eq!(keys["VERSION_ID"], "12");
        assert_eq!(keys["ID"], "debian");
    }

    #[test]
    fn os_release_etc_missing_falls_back_to_usr_lib() {
        let (_dir, paths) = fake_host();
        write(&paths.usr.join("lib/os-release"), "NAME='Other'\n");
        assert_eq!(os_release(&paths).unwrap()["NAME"], "Other");
    }

    #[test]
    fn os_release_both_missing_empty() {
        let (_dir, paths) = fake_host();
        assert!(os_release(&paths).unwrap().is_empty());
    }

    #[test]
    fn os_release_line_without_equals_error_names_line() {
        let (_dir, paths) = fake_host();
        write(&paths.etc.join("os-release"), "NAME=x\nbroken\n");
        let err = os_release(&paths).unwrap_err();
        assert!(matches!(err, HostError::OsReleaseFormat { line: 2, .. }));
        assert!(err.to_string().starts_with("Invalid format on line 2"));
    }

    #[test]
    fn hostname_proc_file_preferred() {
        let (_dir, paths) = fake_host();
        write(&paths.proc_path("sys/kernel/hostname"), "vm\n");
        assert_eq!(hostname(&paths).unwrap(), "vm");
    }

    #[test]
    fn kernel_at_least_compares_major_minor() {
        assert!(kernel_at_least("6.18.44-fc-v657", 5, 2));
        assert!(kernel_at_least("5.2.0", 5, 2));
        assert!(!kernel_at_least("5.1.21-generic", 5, 2));
        assert!(!kernel_at_least("4.19.0-20-amd64", 5, 2));
    }

    #[test]
    fn host_info_real_host_structurally_sane() {
        let info = host_info(&HostPaths::real()).unwrap();
        assert_eq!(info.kernel, "Linux");
        assert!(!info.kernel_version.is_empty());
        assert_eq!(info.architectures[0], info.kernel_architecture);
        assert!(!info.hostname.is_empty());
    }
}
