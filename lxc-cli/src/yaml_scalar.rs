//! How gopkg.in/yaml.v2 decides to write a string scalar: plain, single-quoted, double-quoted
//! or literal block. Mirrors `resolve()` (does the plain text read back as something other than
//! a string?) and the emitter's `analyze_scalar` (which styles are allowed for these characters).

/// The style yaml.v2 picks for a string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// True when a plain scalar `s` would resolve to a non-string (null, bool, int, float,
/// timestamp or merge key) under yaml.v2's YAML 1.1 rules.
pub fn resolves_to_non_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    match first {
        '0'..='9' | '+' | '-' => {
            if first.is_ascii_digit() && is_timestamp(s) {
                return true;
            }
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            go_parse_int(&plain) || yaml_style_float(&plain)
        }
        '.' => go_parse_float(s),
        _ => false,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`/`ParseUint` acceptance, ignoring range (an out-of-range
/// all-digit string still resolves as a float).
fn go_parse_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (digits, radix) = if let Some(r) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (r, 2)
    } else if let Some(r) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (r, 8)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// yaml.v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` for strings starting with '.'.
fn go_parse_float(s: &str) -> bool {
    yaml_style_float(s)
}

/// yaml.v2's `parseTimestamp`: four digits and '-', then one of its accepted layouts.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let date_ok = parts.len() == 3
        && parts[0].len() == 4
        && parts[1..]
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()));
    if !date_ok {
        return false;
    }
    match rest {
        None => true,
        Some(t) => {
            let t = t.trim_end_matches('Z');
            let t = match t.find(['+', '-']) {
                Some(i) => &t[..i],
                None => t,
            };
            let (hms, frac) = t.split_once('.').unwrap_or((t, "0"));
            let fields: Vec<&str> = hms.split(':').collect();
            fields.len() == 3
                && fields
                    .iter()
                    .all(|f| (1..=2).contains(&f.len()) && f.chars().all(|c| c.is_ascii_digit()))
                && frac.chars().all(|c| c.is_ascii_digit())
        }
    }
}

fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank_or_end(c: Option<char>) -> bool {
    matches!(c, None | Some(' ') | Some('\t')) || c.is_some_and(is_break)
}

/// What the emitter's scalar analysis allows.
struct Analysis {
    plain: bool,
    single: bool,
    block: bool,
}

fn analyze(s: &str) -> Analysis {
    if s.starts_with("---") || s.starts_with("...") {
        return Analysis {
            plain: false,
            single: true,
            block: true,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut block_ind, mut special, mut line_breaks) = (false, false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_ind = true,
                '?' | ':' | '-' if is_blank_or_end(next) => block_ind = true,
                _ => {}
            }
        } else {
            match c {
                ':' if is_blank_or_end(next) => block_ind = true,
                '#' if prev_space || prev_break => block_ind = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        let last = i + 1 == chars.len();
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            if i == 0 {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_break = true;
            prev_space = false;
        } else {
            prev_space = false;
            prev_break = false;
        }
    }
    let mut a = Analysis {
        plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.plain = false;
        a.single = false;
    }
    if space_break || special {
        a = Analysis {
            plain: false,
            single: false,
            block: false,
        };
    }
    if line_breaks || block_ind {
        a.plain = false;
    }
    a
}

/// The style yaml.v2 uses for a string value (`simple_key` for mapping keys).
pub fn choose_style(s: &str, simple_key: bool) -> Style {
    let requested = if s.contains('\n') && !simple_key {
        Style::Literal
    } else if resolves_to_non_string(s) {
        Style::Double
    } else {
        Style::Plain
    };
    let a = analyze(s);
    let mut style = requested;
    if style == Style::Plain && (!a.plain || s.is_empty()) {
        style = Style::Single;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    if style == Style::Single && !a.single {
        style = Style::Double;
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choose_style_number_like_is_double_quoted() {
        assert_eq!(choose_style("0", false), Style::Double);
        assert_eq!(choose_style("-1", false), Style::Double);
        assert_eq!(choose_style("10", false), Style::Double);
        assert_eq!(choose_style("1.5", false), Style::Double);
        assert_eq!(choose_style("yes", false), Style::Double);
        assert_eq!(choose_style("", false), Style::Double);
    }

    #[test]
    fn choose_style_flow_indicator_start_is_single_quoted() {
        assert_eq!(choose_style("[{\"a\":1}]", false), Style::Single);
        assert_eq!(choose_style("@", false), Style::Single);
    }

    #[test]
    fn choose_style_ordinary_text_is_plain() {
        assert_eq!(choose_style("256MB", false), Style::Plain);
        assert_eq!(choose_style("/1.0/instances/c1", false), Style::Plain);
        assert_eq!(choose_style("Default LXD profile", false), Style::Plain);
        assert_eq!(choose_style("127.0.0.1:18443", false), Style::Plain);
    }

    #[test]
    fn choose_style_multiline_is_literal() {
        assert_eq!(choose_style("a\nb", false), Style::Literal);
    }

    #[test]
    fn choose_style_timestamp_string_is_double_quoted() {
        assert_eq!(
            choose_style("2026-11-28T00:28:37.226296308Z", false),
            Style::Double
        );
    }
}
