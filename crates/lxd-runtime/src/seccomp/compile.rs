//! Turns a parsed policy into a libseccomp filter the way liblxc does: one context per ABI
//! the host can run (x86_64 also runs i386 and x32 code), each rule added to every ABI where
//! the syscall exists, then the contexts merged. Names unknown to the host are skipped with a
//! warning, as liblxc does. The filter never sets no_new_privs itself: the caller sets it (or
//! holds CAP_SYS_ADMIN) before loading.

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use tracing::{debug, warn};

use super::text::{Action, ArgCompare, CompareOp, ParsedPolicy, Rule};
use super::SeccompError;

/// `MNT_FORCE` from `<sys/mount.h>`: the flag `reject_force_umount` refuses.
const MNT_FORCE: u64 = 1;
/// The errno liblxc returns for a refused forced unmount.
const EACCES: i32 = 13;

/// Which ABIs a rule targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Every ABI of the filter (native and compat).
    Every,
    /// The 32-bit compat ABIs only (`compat_sys_*` names).
    Compat,
    /// The x32 ABI only (`stub_x32_*` names).
    X32,
}

fn to_action(action: Action) -> ScmpAction {
    match action {
        // liblxc's SCMP_ACT_KILL is the thread-killing action.
        Action::Kill => ScmpAction::KillThread,
        Action::Errno(errno) => ScmpAction::Errno(i32::from(errno)),
        Action::Allow => ScmpAction::Allow,
        Action::Trap => ScmpAction::Trap,
        Action::Notify => ScmpAction::Notify,
    }
}

fn to_compare(arg: &ArgCompare) -> ScmpArgCompare {
    let op = match arg.op {
        CompareOp::Ne => ScmpCompareOp::NotEqual,
        CompareOp::Lt => ScmpCompareOp::Less,
        CompareOp::Le => ScmpCompareOp::LessOrEqual,
        CompareOp::Eq => ScmpCompareOp::Equal,
        CompareOp::Ge => ScmpCompareOp::GreaterEqual,
        CompareOp::Gt => ScmpCompareOp::Greater,
        CompareOp::MaskedEq => ScmpCompareOp::MaskedEqual(arg.mask),
    };
    ScmpArgCompare::new(u32::from(arg.index), op, arg.value)
}

/// The compat ABIs merged into a filter for this native ABI, with the section names whose
/// rules apply on this host (liblxc skips sections for other architectures).
fn host_layout(native: ScmpArch) -> (&'static [ScmpArch], &'static [&'static str]) {
    match native {
        ScmpArch::X8664 => (
            &[ScmpArch::X86, ScmpArch::X32],
            &["all", "x86", "x32", "x86_64"],
        ),
        ScmpArch::X86 => (&[], &["all", "x86"]),
        ScmpArch::Aarch64 => (&[ScmpArch::Arm], &["all", "arm", "arm64"]),
        ScmpArch::Arm => (&[], &["all", "arm"]),
        ScmpArch::Ppc64 => (&[ScmpArch::Ppc], &["all", "ppc", "ppc64"]),
        ScmpArch::Ppc64Le => (&[], &["all", "ppc64le"]),
        ScmpArch::S390X => (&[], &["all", "s390x"]),
        _ => (&[], &["all"]),
    }
}

fn new_context(
    default: ScmpAction,
    arch: Option<ScmpArch>,
) -> Result<ScmpFilterContext, SeccompError> {
    let build = || -> Result<ScmpFilterContext, libseccomp::error::SeccompError> {
        let mut ctx = ScmpFilterContext::new(default)?;
        ctx.set_ctl_nnp(false)?;
        if let Some(arch) = arch {
            ctx.add_arch(arch)?;
            ctx.remove_arch(ScmpArch::Native)?;
        }
        Ok(ctx)
    };
    build().map_err(SeccompError::Context)
}

/// Builds the filter for `policy` on the running host.
pub(super) fn compile(policy: &ParsedPolicy) -> Result<ScmpFilterContext, SeccompError> {
    let native = ScmpArch::native();
    let (compat_arches, sections) = host_layout(native);
    let default = to_action(policy.default_action);

    let mut contexts = vec![(native, new_context(default, None)?)];
    for arch in compat_arches {
        contexts.push((*arch, new_context(default, Some(*arch))?));
    }

    for rule in &policy.rules {
        if !sections.contains(&rule.section.as_str()) {
            debug!(line = rule.line, section = %rule.section, "Skipping a seccomp rule for another architecture");
            continue;
        }
        if rule.syscall == "reject_force_umount" {
            let force = ScmpArgCompare::new(1, ScmpCompareOp::MaskedEqual(MNT_FORCE), MNT_FORCE);
            for (arch, ctx) in &mut contexts {
                add_rule(
                    ctx,
                    *arch,
                    rule,
                    "umount2",
                    ScmpAction::Errno(EACCES),
                    &[force],
                    default,
                )?;
            }
            continue;
        }
        let (name, target) = split_target(&rule.syscall);
        let action = to_action(rule.action);
        let compares: Vec<ScmpArgCompare> = rule.args.iter().map(to_compare).collect();
        let mut added = false;
        for (arch, ctx) in &mut contexts {
            let wanted = match target {
                Target::Every => true,
                Target::Compat => *arch == ScmpArch::X86 || *arch == ScmpArch::X32,
                Target::X32 => *arch == ScmpArch::X32,
            };
            if wanted {
                added |= add_rule(ctx, *arch, rule, name, action, &compares, default)?;
            }
        }
        if !added {
            warn!(syscall = %rule.syscall, line = rule.line, "Skipping a seccomp rule: the syscall is unknown to this architecture");
        }
    }

    let mut contexts = contexts.into_iter();
    let (_, mut main) = contexts.next().ok_or(SeccompError::NoContext)?;
    for (arch, ctx) in contexts {
        main.merge(ctx).map_err(|source| SeccompError::Merge {
            arch: format!("{arch:?}"),
            source,
        })?;
    }
    Ok(main)
}

/// `compat_sys_X` → (`X`, compat ABIs), `stub_x32_X` → (`X`, x32), anything else everywhere.
fn split_target(name: &str) -> (&str, Target) {
    if let Some(base) = name.strip_prefix("compat_sys_") {
        (base, Target::Compat)
    } else if let Some(base) = name.strip_prefix("stub_x32_") {
        (base, Target::X32)
    } else {
        (name, Target::Every)
    }
}

/// Adds one rule to the context of `arch`; `Ok(false)` when the syscall doesn't exist there.
fn add_rule(
    ctx: &mut ScmpFilterContext,
    arch: ScmpArch,
    rule: &Rule,
    name: &str,
    action: ScmpAction,
    compares: &[ScmpArgCompare],
    default: ScmpAction,
) -> Result<bool, SeccompError> {
    // libseccomp wants the native number (or pseudo-number) and translates it per ABI.
    let Ok(syscall) = ScmpSyscall::from_name(name) else {
        return Ok(false);
    };
    // A negative number is libseccomp's pseudo-syscall: absent on that ABI, or reached there
    // through a multiplexer (i386 socketcall/ipc), which libseccomp rewrites on its own.
    let on_arch = match ScmpSyscall::from_name_by_arch(name, arch) {
        Ok(nr) => nr.as_raw_syscall(),
        Err(_) => return Ok(false),
    };
    if on_arch < 0 && arch == ScmpArch::native() {
        return Ok(false);
    }
    if action == default {
        // libseccomp refuses a rule that repeats the default action; it changes nothing anyway.
        return Ok(true);
    }
    match ctx.add_rule_conditional(action, syscall, compares) {
        Ok(_) => Ok(true),
        Err(_) if on_arch < 0 => Ok(false),
        Err(source) => Err(SeccompError::Rule {
            syscall: rule.syscall.clone(),
            line: rule.line,
            source,
        }),
    }
}
