//! `?filter=` on instance lists (LXD's `api_filtering`): `field eq value`, `ne`, `not`,
//! joined with `and`/`or` (left to right, `and` binding tighter), over the instance's JSON
//! fields; `config.KEY` and `expanded_config.KEY` reach into config, and values may be quoted.

use serde_json::Value;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        field: String,
        value: String,
        equal: bool,
    },
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

fn tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some(q) if q == c => break,
                    Some(ch) => s.push(ch),
                    None => return Err("Unterminated quote in filter".into()),
                }
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// Parse a filter expression; an empty one matches everything (`None`).
pub fn parse(text: &str) -> Result<Option<Filter>, String> {
    let toks = tokens(text)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut pos = 0;
    let f = parse_or(&toks, &mut pos)?;
    if pos != toks.len() {
        return Err(format!("Invalid filter near {:?}", toks[pos]));
    }
    Ok(Some(f))
}

fn parse_or(t: &[String], pos: &mut usize) -> Result<Filter, String> {
    let mut left = parse_and(t, pos)?;
    while t.get(*pos).map(String::as_str) == Some("or") {
        *pos += 1;
        left = Filter::Or(Box::new(left), Box::new(parse_and(t, pos)?));
    }
    Ok(left)
}

fn parse_and(t: &[String], pos: &mut usize) -> Result<Filter, String> {
    let mut left = parse_term(t, pos)?;
    while t.get(*pos).map(String::as_str) == Some("and") {
        *pos += 1;
        left = Filter::And(Box::new(left), Box::new(parse_term(t, pos)?));
    }
    Ok(left)
}

fn parse_term(t: &[String], pos: &mut usize) -> Result<Filter, String> {
    if t.get(*pos).map(String::as_str) == Some("not") {
        *pos += 1;
        return Ok(Filter::Not(Box::new(parse_term(t, pos)?)));
    }
    let (Some(field), Some(op), Some(value)) = (t.get(*pos), t.get(*pos + 1), t.get(*pos + 2))
    else {
        return Err("Incomplete filter expression".into());
    };
    let equal = match op.as_str() {
        "eq" => true,
        "ne" => false,
        other => return Err(format!("Unsupported filter operator {other:?}")),
    };
    *pos += 3;
    Ok(Filter::Compare {
        field: field.clone(),
        value: value.clone(),
        equal,
    })
}

fn field_value(object: &Value, field: &str) -> Option<String> {
    for prefix in ["expanded_config.", "config."] {
        if let Some(key) = field.strip_prefix(prefix) {
            let map = object.get(prefix.trim_end_matches('.'))?;
            return map.get(key).and_then(|v| v.as_str()).map(str::to_string);
        }
    }
    match object.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether `object` (an instance as JSON) passes `filter`. Status values compare without case.
pub fn matches(filter: &Filter, object: &Value) -> bool {
    match filter {
        Filter::Compare {
            field,
            value,
            equal,
        } => {
            let actual = field_value(object, field);
            let same = actual.is_some_and(|a| {
                if field == "status" {
                    a.eq_ignore_ascii_case(value)
                } else {
                    a == *value
                }
            });
            same == *equal
        }
        Filter::Not(f) => !matches(f, object),
        Filter::And(a, b) => matches(a, object) && matches(b, object),
        Filter::Or(a, b) => matches(a, object) || matches(b, object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_eq_and_or_not_over_fields_and_config() {
        let c1 = json!({"name": "c1", "status": "Running", "config": {"image.os": "BusyBox"}});
        let f = parse("name eq c1 and config.image.os eq BusyBox")
            .unwrap()
            .unwrap();
        assert!(matches(&f, &c1));
        let f = parse("status eq stopped or name eq 'c1'").unwrap().unwrap();
        assert!(matches(&f, &c1));
        let f = parse("not name eq c1").unwrap().unwrap();
        assert!(!matches(&f, &c1));
        assert!(parse("").unwrap().is_none());
        assert!(parse("name gt c1").is_err());
        assert!(parse("name eq").is_err());
    }
}
