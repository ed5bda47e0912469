//! The seccomp policy text format liblxc reads (version 2), which LXD writes to
//! `$LXD_DIR/security/seccomp/<instance>` and which `raw.seccomp` holds verbatim:
//!
//! ```text
//! 2
//! denylist [default action]      (or blacklist; allowlist / whitelist)
//! [all]                          (architecture sections: [x86_64], [x86], [x32], [arm64] ...)
//! syscall [action] [[index,value,op(,mask)] ...]   # comments
//! ```
//!
//! Parsing only: nothing here talks to libseccomp or the kernel. Where liblxc silently drops
//! nonsense (`mkdir,rmdir` as one name, words after the action), this parser refuses it with
//! the line number, so a bad policy is caught when the config is set rather than at start.
//! Indented rules, which liblxc skips without a word, are read.

use thiserror::Error;

use super::conditions::parse_conditions;
pub use super::conditions::{ArgCompare, CompareOp};

/// What happens to a matching syscall (liblxc's action words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `kill`: the calling thread dies with SIGSYS (libseccomp's `SCMP_ACT_KILL`).
    Kill,
    /// `errno N`: the call fails with errno `N`.
    Errno(u16),
    /// `allow`: the call runs.
    Allow,
    /// `trap`: SIGSYS is delivered to the caller.
    Trap,
    /// `notify`: the call is handed to a user-space supervisor (syscall interception).
    Notify,
}

/// One rule line, with the architecture section it sits in (lower case, `all` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub line: usize,
    pub section: String,
    pub syscall: String,
    pub action: Action,
    pub args: Vec<ArgCompare>,
}

/// A parsed policy: list style, the action for unlisted syscalls, and the rules in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPolicy {
    pub allowlist: bool,
    pub default_action: Action,
    pub rules: Vec<Rule>,
}

/// A refused policy text, with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Invalid seccomp policy on line {line}: {reason}")]
pub struct PolicyParseError {
    pub line: usize,
    pub reason: String,
}

/// Section names liblxc knows; each may be written all lower or all upper case.
const SECTIONS: &[&str] = &[
    "all",
    "x86",
    "x32",
    "x86_64",
    "arm",
    "arm64",
    "ppc64le",
    "ppc64",
    "ppc",
    "mips64",
    "mips64n32",
    "mips",
    "mipsel64",
    "mipsel64n32",
    "mipsel",
    "s390x",
    "s390",
];

fn fail<T>(line: usize, reason: impl Into<String>) -> Result<T, PolicyParseError> {
    Err(PolicyParseError {
        line,
        reason: reason.into(),
    })
}

/// Parses a whole policy text (version line, list-style line, then rules).
pub fn parse_policy(text: &str) -> Result<ParsedPolicy, PolicyParseError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (n, version) = lines.next().unwrap_or((1, ""));
    match version.trim() {
        "2" => {}
        "1" => {
            return fail(
                n,
                "version 1 policies (syscall numbers) aren't supported, use 2",
            )
        }
        other => return fail(n, format!("invalid version {other:?}, expected 2")),
    }
    let Some((n, style)) = lines.next() else {
        return fail(2, "missing the denylist or allowlist line");
    };
    let (allowlist, default_action) = parse_style(n, style)?;
    // liblxc's rule default: denylisted calls kill, allowlisted calls run.
    let rule_default = if allowlist {
        Action::Allow
    } else {
        Action::Kill
    };

    let mut section = "all".to_string();
    let mut rules = Vec::new();
    for (n, raw) in lines {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let lower = name.to_ascii_lowercase();
            let cased = name == lower || name == name.to_ascii_uppercase();
            if !cased || !SECTIONS.contains(&lower.as_str()) {
                return fail(n, format!("unsupported architecture section {line:?}"));
            }
            section = lower;
            continue;
        }
        rules.push(parse_rule(n, line, &section, rule_default)?);
    }
    Ok(ParsedPolicy {
        allowlist,
        default_action,
        rules,
    })
}

fn strip_comment(line: &str) -> &str {
    line.split_once('#').map_or(line, |(before, _)| before)
}

fn parse_style(n: usize, line: &str) -> Result<(bool, Action), PolicyParseError> {
    let line = strip_comment(line);
    let mut words = line.split_whitespace();
    let allowlist = match words.next() {
        Some("denylist" | "blacklist") => false,
        Some("allowlist" | "whitelist") => true,
        Some("debug") => return fail(n, "debug policies aren't supported"),
        _ => {
            return fail(
                n,
                format!(
                    "bad policy style {:?}, expected denylist or allowlist",
                    line.trim()
                ),
            )
        }
    };
    let rest: Vec<&str> = words.collect();
    let default = match parse_action(n, &rest)? {
        (Some(action), []) => action,
        (None, _) if allowlist => Action::Kill,
        (None, _) => Action::Allow,
        (Some(_), extra) => return fail(n, format!("unexpected {:?}", extra.join(" "))),
    };
    Ok((allowlist, default))
}

/// Reads an optional action at the start of `words`; returns it and the words left over.
fn parse_action<'a, 'w>(
    n: usize,
    words: &'a [&'w str],
) -> Result<(Option<Action>, &'a [&'w str]), PolicyParseError> {
    let Some(first) = words.first() else {
        return Ok((None, words));
    };
    let action = match *first {
        "kill" => Action::Kill,
        "allow" => Action::Allow,
        "trap" => Action::Trap,
        "notify" => Action::Notify,
        "errno" => {
            let Some(value) = words.get(1) else {
                return fail(n, "errno needs a number");
            };
            match value.parse::<u16>() {
                Ok(errno) if errno <= 4095 => return Ok((Some(Action::Errno(errno)), &words[2..])),
                _ => return fail(n, format!("invalid errno {value:?}")),
            }
        }
        other => return fail(n, format!("unrecognized seccomp action {other:?}")),
    };
    Ok((Some(action), &words[1..]))
}

fn parse_rule(
    n: usize,
    line: &str,
    section: &str,
    rule_default: Action,
) -> Result<Rule, PolicyParseError> {
    // Conditions are bracketed groups after the action; split them off first.
    let (head, conditions) = line
        .split_once('[')
        .map_or((line, ""), |(h, _)| (h, &line[h.len()..]));
    let words: Vec<&str> = head.split_whitespace().collect();
    let Some(name) = words.first() else {
        return fail(
            n,
            "a condition needs a syscall name and an action before it",
        );
    };
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return fail(
            n,
            format!("invalid syscall name {name:?} (one syscall per line)"),
        );
    }
    let action = match parse_action(n, &words[1..])? {
        (Some(action), []) => action,
        (None, _) => rule_default,
        (Some(_), extra) => return fail(n, format!("unexpected {:?}", extra.join(" "))),
    };
    if !conditions.is_empty() && words.len() < 2 {
        // liblxc reads the first word after the name as the action and refuses a bracket.
        return fail(n, "conditions need an action before them");
    }
    Ok(Rule {
        line: n,
        section: section.to_string(),
        syscall: (*name).to_string(),
        action,
        args: parse_conditions(conditions).or_else(|reason| fail(n, reason))?,
    })
}
