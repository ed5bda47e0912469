//! A YAML emitter for `serde_json::Value` that writes what Go's gopkg.in/yaml.v2 writes, so our
//! `show`, `list --format yaml` and `monitor` output is byte-identical to lxc 5.0.2.
//!
//! Objects are emitted in the order they hold (Go structs: declaration order). Go maps are sorted
//! by yaml.v2's key order: callers mark them with [`sort_maps_at`] or [`sort_all_maps`].
//! Strings whose key is in `time_keys` and which look like RFC 3339 times are written plain, as
//! yaml.v2 writes `time.Time` fields.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::yaml_scalar::{choose_style, is_timestamp, Style};

const BEST_WIDTH: usize = 80;

/// Keys that are Go slices in LXD's API structs: a JSON `null` there is a nil slice, which
/// yaml.v2 writes as `[]`.
const NULL_AS_EMPTY_LIST: &[&str] = &[
    "used_by",
    "locations",
    "addresses",
    "architectures",
    "auth_methods",
    "api_extensions",
    "profiles",
    "backups",
    "snapshots",
];

/// Renders `value` as yaml.v2 would.
pub fn to_yaml(value: &Value) -> String {
    to_yaml_with_times(value, &[])
}

/// Renders `value`, writing RFC 3339 strings under any of `time_keys` as plain times.
pub fn to_yaml_with_times(value: &Value, time_keys: &[&str]) -> String {
    let mut e = Emitter {
        out: String::new(),
        time_keys,
    };
    match value {
        Value::Object(m) if !m.is_empty() => e.map(m, 0, false),
        Value::Array(a) if !a.is_empty() => e.seq(a, 0, false),
        other => {
            e.scalar(other, 0, false);
            e.out.push('\n');
        }
    }
    e.out
}

struct Emitter<'a> {
    out: String,
    time_keys: &'a [&'a str],
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

impl Emitter<'_> {
    fn pad(&mut self, indent: usize) {
        self.out.extend(std::iter::repeat_n(' ', indent));
    }

    fn map(&mut self, m: &Map<String, Value>, indent: usize, inline_first: bool) {
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 || !inline_first {
                self.pad(indent);
            }
            self.key(k);
            match v {
                Value::Object(inner) if !inner.is_empty() => {
                    self.out.push_str(":\n");
                    self.map(inner, indent + 2, false);
                }
                Value::Array(items) if !items.is_empty() => {
                    self.out.push_str(":\n");
                    self.seq(items, indent, false);
                }
                Value::Null if NULL_AS_EMPTY_LIST.contains(&k.as_str()) => {
                    self.out.push_str(": []\n");
                }
                Value::String(s) if self.time_keys.contains(&k.as_str()) && is_time(s) => {
                    self.out.push_str(": ");
                    self.out.push_str(s);
                    self.out.push('\n');
                }
                _ => {
                    self.out.push_str(": ");
                    self.scalar(v, indent, false);
                    self.out.push('\n');
                }
            }
        }
    }

    fn seq(&mut self, items: &[Value], indent: usize, inline_first: bool) {
        for (i, v) in items.iter().enumerate() {
            if i > 0 || !inline_first {
                self.pad(indent);
            }
            self.out.push_str("- ");
            match v {
                Value::Object(m) if is_block(v) => self.map(m, indent + 2, true),
                Value::Array(a) if is_block(v) => self.seq(a, indent + 2, true),
                _ => {
                    self.scalar(v, indent, true);
                    self.out.push('\n');
                }
            }
        }
    }

    fn key(&mut self, k: &str) {
        match choose_style(k, true) {
            Style::Plain => self.out.push_str(k),
            Style::Single => self.single(k, 0, false),
            _ => self.double(k),
        }
    }

    /// Writes a non-block value; `indent` is the indentation of the owning key or dash.
    fn scalar(&mut self, v: &Value, indent: usize, _in_seq: bool) {
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.out.push_str(&format_number(n)),
            Value::Object(_) => self.out.push_str("{}"),
            Value::Array(_) => self.out.push_str("[]"),
            Value::String(s) => match choose_style(s, false) {
                Style::Plain => self.plain(s, indent + 2),
                Style::Single => self.single(s, indent + 2, true),
                Style::Double => self.double(s),
                Style::Literal => self.literal(s, indent + 2),
            },
        }
    }

    fn column(&self) -> usize {
        let line = self.out.rsplit('\n').next().unwrap_or_default();
        line.chars().count()
    }

    /// Writes `s` breaking at single spaces past the 80th column, as yaml.v2 folds.
    fn folded(&mut self, s: &str, indent: usize) {
        let chars: Vec<char> = s.chars().collect();
        let mut col = self.column();
        let mut prev_space = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if !prev_space && col > BEST_WIDTH && !next_space && i + 1 < chars.len() {
                    self.out.push('\n');
                    self.pad(indent);
                    col = indent;
                } else {
                    self.out.push(c);
                    col += 1;
                }
                prev_space = true;
            } else {
                self.out.push(c);
                col += 1;
                prev_space = false;
            }
        }
    }

    fn plain(&mut self, s: &str, indent: usize) {
        self.folded(s, indent);
    }

    fn single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.out.push('\'');
        let escaped = s.replace('\'', "''");
        if allow_breaks {
            self.folded(&escaped, indent);
        } else {
            self.out.push_str(&escaped);
        }
        self.out.push('\'');
    }

    fn double(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\0' => self.out.push_str("\\0"),
                '\u{7}' => self.out.push_str("\\a"),
                '\u{8}' => self.out.push_str("\\b"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\u{b}' => self.out.push_str("\\v"),
                '\u{c}' => self.out.push_str("\\f"),
                '\r' => self.out.push_str("\\r"),
                '\u{1b}' => self.out.push_str("\\e"),
                '\u{85}' => self.out.push_str("\\N"),
                '\u{a0}' => self.out.push_str("\\_"),
                '\u{2028}' => self.out.push_str("\\L"),
                '\u{2029}' => self.out.push_str("\\P"),
                c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{feff}' => {
                    let n = c as u32;
                    if n <= 0xff {
                        self.out.push_str(&format!("\\x{n:02X}"));
                    } else {
                        self.out.push_str(&format!("\\u{n:04X}"));
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with([' ', '\n']) {
            self.out.push('2');
        }
        if !s.ends_with('\n') {
            self.out.push('-');
        } else if s.len() == 1 || s[..s.len() - 1].ends_with('\n') {
            self.out.push('+');
        }
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            self.out.push('\n');
            if !line.is_empty() {
                self.pad(indent);
                self.out.push_str(line);
            }
        }
    }
}

fn is_time(s: &str) -> bool {
    is_timestamp(s) && s.contains('T')
}

/// Formats a number as Go does (`strconv.FormatFloat(f, 'g', -1, 64)` for floats).
fn format_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or_default();
    if f == f.trunc() && f.abs() < 1e21 {
        return format!("{f}");
    }
    let exp = f.abs().log10().floor() as i32;
    if !(-4..21).contains(&exp) {
        let s = format!("{f:e}");
        let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or_default();
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", e.abs());
    }
    format!("{f}")
}

/// yaml.v2's map key order (`keyList.Less`): digit runs compare numerically, letters sort after
/// non-letters.
pub fn go_key_cmp(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// Sorts one object's keys in yaml.v2 order.
pub fn sort_map(m: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
    entries.sort_by(|a, b| go_key_cmp(&a.0, &b.0));
    m.extend(entries);
}

/// Sorts every object in `v`, recursively (for values that are Go maps all the way down).
pub fn sort_all_maps(v: &mut Value) {
    match v {
        Value::Object(m) => {
            sort_map(m);
            m.values_mut().for_each(sort_all_maps);
        }
        Value::Array(a) => a.iter_mut().for_each(sort_all_maps),
        _ => {}
    }
}

/// Sorts the objects found at dotted `paths` (`*` matches any key or array element), e.g.
/// `["config", "devices", "devices.*"]`. Paths apply through arrays at the top level too.
pub fn sort_maps_at(v: &mut Value, paths: &[&str]) {
    if let Value::Array(items) = v {
        items.iter_mut().for_each(|i| sort_maps_at(i, paths));
        return;
    }
    for p in paths {
        let parts: Vec<&str> = p.split('.').collect();
        sort_path(v, &parts);
    }
}

fn sort_path(v: &mut Value, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        if let Value::Object(m) = v {
            sort_map(m);
        }
        return;
    };
    match v {
        Value::Object(m) if *first == "*" => m.values_mut().for_each(|c| sort_path(c, rest)),
        Value::Object(m) => {
            if let Some(c) = m.get_mut(*first) {
                sort_path(c, rest);
            }
        }
        Value::Array(a) if *first == "*" => a.iter_mut().for_each(|c| sort_path(c, rest)),
        _ => {}
    }
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
