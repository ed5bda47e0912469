//! seccomp: LXD's default deny list and the `security.syscalls.*` / `raw.seccomp` keys,
//! compiled with libseccomp into a filter the container's init loads just before exec.
//!
//! - [`config`]: expanded config → LXD's policy text, and LXD's config-time checks;
//! - [`text`] (with `conditions`): the liblxc v2 policy text format (parse only);
//! - `compile`: parsed policy → libseccomp filter (native plus compat ABIs).
//!
//! Nothing here forks or writes files; the runtime decides where the filter is loaded.
//! Syscall interception (`security.syscalls.intercept.*`, notify rules) is not handled.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use libseccomp::ScmpFilterContext;
use nix::sys::memfd::{memfd_create, MFdFlags};
use thiserror::Error;

mod compile;
mod conditions;
pub mod config;
#[cfg(test)]
mod tests;
pub mod text;
#[cfg(test)]
mod text_tests;

pub use config::{
    needs_policy, policy_inputs, policy_text, validate_config, validate_deny_compat,
    SeccompConfigError,
};
pub use text::{parse_policy, Action, ParsedPolicy, PolicyParseError, Rule};

/// A failure to build, load or export a seccomp filter.
#[derive(Debug, Error)]
pub enum SeccompError {
    #[error("Invalid seccomp configuration")]
    Config(#[from] SeccompConfigError),
    #[error("Invalid seccomp policy")]
    Parse(#[from] PolicyParseError),
    #[error("Seccomp notify rules (line {0}) need syscall interception, which isn't supported")]
    Notify(usize),
    #[error("Failed to create a seccomp filter context")]
    Context(#[source] libseccomp::error::SeccompError),
    #[error("Failed to add the seccomp rule for {syscall} (line {line})")]
    Rule {
        syscall: String,
        line: usize,
        #[source]
        source: libseccomp::error::SeccompError,
    },
    #[error("Failed to merge the seccomp filter for the {arch} ABI")]
    Merge {
        arch: String,
        #[source]
        source: libseccomp::error::SeccompError,
    },
    #[error("No seccomp filter context was built")]
    NoContext,
    #[error("Failed to load the seccomp filter (no_new_privs or CAP_SYS_ADMIN is needed)")]
    Load(#[source] libseccomp::error::SeccompError),
    #[error("Failed to export the seccomp filter")]
    Export(#[source] libseccomp::error::SeccompError),
    #[error("Failed to read back the exported seccomp filter")]
    ExportIo(#[source] std::io::Error),
}

/// An instance's seccomp policy: the text LXD would write for it and its parsed rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeccompPolicy {
    text: String,
    parsed: ParsedPolicy,
}

impl SeccompPolicy {
    /// The policy for an expanded instance config, or `None` when LXD applies no filter
    /// (`security.syscalls.deny_default=false` and no other seccomp key).
    pub fn from_config(config: &BTreeMap<String, String>) -> Result<Option<Self>, SeccompError> {
        validate_config(config)?;
        policy_text(config)
            .map(|text| Self::from_text(&text))
            .transpose()
    }

    /// A policy from liblxc v2 text (what `raw.seccomp` holds).
    pub fn from_text(text: &str) -> Result<Self, SeccompError> {
        let parsed = parse_policy(text)?;
        if let Some(rule) = parsed.rules.iter().find(|r| r.action == Action::Notify) {
            return Err(SeccompError::Notify(rule.line));
        }
        Ok(Self {
            text: text.to_string(),
            parsed,
        })
    }

    /// The policy text, as LXD writes it to `$LXD_DIR/security/seccomp/<instance>`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed rules.
    pub fn parsed(&self) -> &ParsedPolicy {
        &self.parsed
    }

    /// Builds the libseccomp filter for this host (do it before fork if you like).
    pub fn compile(&self) -> Result<CompiledFilter, SeccompError> {
        compile::compile(&self.parsed).map(|ctx| CompiledFilter { ctx })
    }

    /// Compiles and loads the filter into the calling thread. Call it in the container's init
    /// right before exec, after `PR_SET_NO_NEW_PRIVS` (or while holding CAP_SYS_ADMIN).
    pub fn load(&self) -> Result<(), SeccompError> {
        self.compile()?.load()
    }

    /// Compiles the filter and returns its classic BPF program (`struct sock_filter` array).
    pub fn export_bpf(&self) -> Result<Vec<u8>, SeccompError> {
        self.compile()?.export_bpf()
    }

    /// The filter as a program that loads without libseccomp (or any allocation), the same
    /// one [`CompiledFilter::load`] would load.
    pub fn program(&self) -> Result<lxd_sys::seccomp::FilterProgram, SeccompError> {
        lxd_sys::seccomp::FilterProgram::from_bytes(&self.export_bpf()?)
            .map_err(SeccompError::ExportIo)
    }
}

/// A filter built by libseccomp, ready to load or export.
pub struct CompiledFilter {
    ctx: ScmpFilterContext,
}

impl std::fmt::Debug for CompiledFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledFilter").finish_non_exhaustive()
    }
}

impl CompiledFilter {
    /// Loads the filter into the calling thread (and everything it later execs or forks).
    pub fn load(&self) -> Result<(), SeccompError> {
        self.ctx.load().map_err(SeccompError::Load)
    }

    /// The filter's classic BPF program, e.g. to hand to a child through a pipe.
    pub fn export_bpf(&self) -> Result<Vec<u8>, SeccompError> {
        export_through_memfd(|file| self.ctx.export_bpf(file))
    }

    /// The filter in libseccomp's human-readable pseudo filter code, for logs and tests.
    pub fn export_pfc(&self) -> Result<String, SeccompError> {
        let bytes = export_through_memfd(|file| self.ctx.export_pfc(file))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// libseccomp 2.5 exports only to a file descriptor; an anonymous memfd holds the output.
fn export_through_memfd(
    export: impl FnOnce(&File) -> Result<(), libseccomp::error::SeccompError>,
) -> Result<Vec<u8>, SeccompError> {
    let fd = memfd_create("lxd-seccomp-export", MFdFlags::MFD_CLOEXEC)
        .map_err(|e| SeccompError::ExportIo(e.into()))?;
    let mut file = File::from(fd);
    export(&file).map_err(SeccompError::Export)?;
    let mut out = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut out))
        .map_err(SeccompError::ExportIo)?;
    Ok(out)
}
