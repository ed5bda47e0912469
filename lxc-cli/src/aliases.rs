//! Alias expansion as lxc 5.0.2's `main_aliases.go`: user aliases from config.yml first, then
//! the built-in `shell` alias; `@ARGS@` takes the remaining arguments, and a target starting
//! with `/` runs that program instead of lxc.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};

use crate::config_file::{config_dir, Config};

/// What to do after looking for an alias.
pub enum Expansion {
    /// No alias matched.
    None,
    /// Run lxc with these arguments instead.
    Args(Vec<String>),
    /// An external program ran and exited with this code.
    External(u8),
}

fn default_aliases() -> BTreeMap<String, String> {
    BTreeMap::from([("shell".to_string(), "exec @ARGS@ -- su -l".to_string())])
}

fn find_alias(
    aliases: &BTreeMap<String, String>,
    orig: &[String],
) -> Option<(Vec<String>, Vec<String>)> {
    aliases.iter().find_map(|(k, v)| {
        let key: Vec<String> = k.split(' ').map(String::from).collect();
        let matches = key
            .iter()
            .enumerate()
            .all(|(i, part)| orig.get(i + 1).is_some_and(|a| a == part));
        matches.then(|| (key, v.split(' ').map(String::from).collect()))
    })
}

/// Expands `args` (including `argv[0]`) with the given aliases; `None` if none matched.
pub fn expand(
    aliases: &BTreeMap<String, String>,
    args: &[String],
) -> Option<std::result::Result<Vec<String>, String>> {
    let flags: Vec<String> = args[1..]
        .iter()
        .take_while(|a| a.starts_with('-'))
        .cloned()
        .collect();
    let mut orig = vec![args[0].clone()];
    orig.extend(args[flags.len() + 1..].iter().cloned());
    let (key, value) =
        find_alias(aliases, &orig).or_else(|| find_alias(&default_aliases(), &orig))?;
    let mut new = flags;
    if !value[0].starts_with('/') {
        new.insert(0, orig[0].clone());
    }
    let at_args: Vec<String> = orig.get(key.len() + 1..).unwrap_or_default().to_vec();
    let mut omit = vec![false; at_args.len()];
    for part in &value {
        for n in arg_refs(part) {
            if n == 0 || n > at_args.len() {
                return Some(Err(format!(
                    "Found alias {:?} references an argument outside the given number",
                    key.join(" ")
                )));
            }
            omit[n - 1] = true;
        }
    }
    let rest: Vec<String> = at_args
        .iter()
        .zip(&omit)
        .filter(|(_, o)| !**o)
        .map(|(a, _)| a.clone())
        .collect();
    let mut replaced = false;
    for part in &value {
        if part == "@ARGS@" {
            new.extend(rest.iter().cloned());
            replaced = true;
            continue;
        }
        let mut out = part.clone();
        for n in arg_refs(part) {
            out = out.replace(&format!("@ARG{n}@"), &at_args[n - 1]);
        }
        new.push(out);
    }
    if !replaced {
        new.extend(rest);
    }
    Some(Ok(new))
}

/// The numbers n of `@ARGn@` references in an alias word.
fn arg_refs(word: &str) -> Vec<usize> {
    let mut refs = Vec::new();
    let mut rest = word;
    while let Some(i) = rest.find("@ARG") {
        let tail = &rest[i + 4..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && tail[digits.len()..].starts_with('@') {
            refs.push(digits.parse().unwrap_or(0));
        }
        rest = tail;
    }
    refs
}

/// Loads the aliases from the user's config and expands `args` once (`LXC_ALIASES=1` stops
/// recursion, as in lxc).
pub fn expand_from_env(args: &[String]) -> Result<Expansion> {
    if std::env::var("LXC_ALIASES").as_deref() == Ok("1") || args.len() < 2 {
        return Ok(Expansion::None);
    }
    let dir = config_dir();
    let conf = if dir.join("config.yml").exists() {
        match Config::load(&dir) {
            Ok(c) => c,
            Err(_) => return Ok(Expansion::None),
        }
    } else {
        Config::with_defaults(dir)
    };
    let Some(new) = expand(&conf.aliases, args) else {
        return Ok(Expansion::None);
    };
    let new = new.map_err(|e| anyhow!(e))?;
    std::env::set_var("LXC_ALIASES", "1");
    if new[0].starts_with('/') {
        let status = std::process::Command::new(&new[0])
            .args(&new[1..])
            .status()
            .map_err(|e| anyhow!("Processing aliases failed: {e}"))?;
        return Ok(Expansion::External(status.code().unwrap_or(1) as u8));
    }
    Ok(Expansion::Args(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn expand_shell_builtin_becomes_exec_su() {
        let got = expand(&BTreeMap::new(), &s(&["lxc", "shell", "c1"]))
            .unwrap()
            .unwrap();
        assert_eq!(got, s(&["lxc", "exec", "c1", "--", "su", "-l"]));
    }

    #[test]
    fn expand_user_alias_appends_rest_and_keeps_leading_flags() {
        let aliases = BTreeMap::from([("ll".to_string(), "list -c n".to_string())]);
        let got = expand(&aliases, &s(&["lxc", "--debug", "ll", "web"]))
            .unwrap()
            .unwrap();
        assert_eq!(got, s(&["lxc", "--debug", "list", "-c", "n", "web"]));
    }

    #[test]
    fn expand_numbered_args_are_substituted_and_omitted() {
        let aliases = BTreeMap::from([("g".to_string(), "profile get @ARG1@ @ARG2@".to_string())]);
        let got = expand(&aliases, &s(&["lxc", "g", "p", "k"]))
            .unwrap()
            .unwrap();
        assert_eq!(got, s(&["lxc", "profile", "get", "p", "k"]));
    }

    #[test]
    fn expand_unknown_word_is_none() {
        assert!(expand(&BTreeMap::new(), &s(&["lxc", "list"])).is_none());
    }
}
