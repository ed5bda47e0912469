//! `key=value` argument parsing shared by the `set` sub-commands (lxc's `getConfig`).

use std::collections::BTreeMap;

use anyhow::{bail, Result};

/// `key value` (two args, the first without `=`) or any number of `key=value`.
pub fn parse_key_values(args: &[String]) -> Result<BTreeMap<String, String>> {
    let read = |v: &str| -> Result<String> {
        if v == "-" && !crate::editor::stdin_is_terminal() {
            return crate::editor::read_stdin();
        }
        Ok(v.to_string())
    };
    if args.len() == 2 && !args[0].contains('=') {
        return Ok(BTreeMap::from([(args[0].clone(), read(&args[1])?)]));
    }
    let mut out = BTreeMap::new();
    for arg in args {
        let Some((k, v)) = arg.split_once('=') else {
            bail!("Invalid key=value configuration: {arg}");
        };
        out.insert(k.to_string(), read(v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_key_values_pair_form_is_accepted() {
        let m = parse_key_values(&["a.b".into(), "1".into()]).unwrap();
        assert_eq!(m["a.b"], "1");
    }

    #[test]
    fn parse_key_values_missing_equals_errors() {
        let e = parse_key_values(&["a".into()]).unwrap_err();
        assert_eq!(e.to_string(), "Invalid key=value configuration: a");
    }
}
