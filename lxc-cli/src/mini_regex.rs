//! A small regular-expression matcher for `lxc image list key=value` filters, which lxc
//! matches as a Go regexp (`^value$` unless the value has an anchor). Supported: literals,
//! `.`, classes `[a-z]`/`[^x]`, escapes (`\d`, `\w`, `\s`, `\.`), the quantifiers `*`, `+`,
//! `?` and the anchors `^`/`$`. Groups, alternation and counted repetition are not compiled:
//! the caller then falls back to plain equality, as lxc does for an invalid regexp.

#[derive(Debug, Clone)]
enum Atom {
    Any,
    Char(char),
    Class(Vec<(char, char)>, bool),
}

#[derive(Debug, Clone)]
struct Piece {
    atom: Atom,
    min: usize,
    max: Option<usize>,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    pieces: Vec<Piece>,
    anchored_start: bool,
    anchored_end: bool,
}

fn class_of(c: char) -> Option<Atom> {
    let ranges = match c {
        'd' => vec![('0', '9')],
        'w' => vec![('0', '9'), ('a', 'z'), ('A', 'Z'), ('_', '_')],
        's' => vec![
            (' ', ' '),
            ('\t', '\t'),
            ('\n', '\n'),
            ('\r', '\r'),
            ('\x0c', '\x0c'),
        ],
        _ => return None,
    };
    Some(Atom::Class(ranges, false))
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Any => c != '\n',
            Atom::Char(x) => *x == c,
            Atom::Class(ranges, negated) => {
                ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *negated
            }
        }
    }
}

impl Regex {
    /// Compiles `pattern`, or `None` when it uses syntax this matcher lacks or is invalid.
    pub fn new(pattern: &str) -> Option<Self> {
        let mut chars: Vec<char> = pattern.chars().collect();
        let anchored_start = chars.first() == Some(&'^');
        if anchored_start {
            chars.remove(0);
        }
        let anchored_end = chars.last() == Some(&'$') && {
            let n = chars.len();
            n < 2 || chars[n - 2] != '\\'
        };
        if anchored_end {
            chars.pop();
        }
        let mut pieces: Vec<Piece> = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            let atom = match c {
                '.' => Atom::Any,
                '\\' => {
                    let e = *chars.get(i)?;
                    i += 1;
                    match class_of(e) {
                        Some(a) => a,
                        None if e.is_ascii_alphanumeric() => return None,
                        None => Atom::Char(e),
                    }
                }
                '[' => {
                    let negated = chars.get(i) == Some(&'^');
                    if negated {
                        i += 1;
                    }
                    let mut ranges = Vec::new();
                    let mut first = true;
                    loop {
                        let c = *chars.get(i)?;
                        i += 1;
                        if c == ']' && !first {
                            break;
                        }
                        first = false;
                        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|n| *n != ']')
                        {
                            ranges.push((c, chars[i + 1]));
                            i += 2;
                        } else {
                            ranges.push((c, c));
                        }
                    }
                    Atom::Class(ranges, negated)
                }
                '*' | '+' | '?' => {
                    let last = pieces.last_mut()?;
                    if last.min != 1 || last.max != Some(1) {
                        return None;
                    }
                    (last.min, last.max) = match c {
                        '*' => (0, None),
                        '+' => (1, None),
                        _ => (0, Some(1)),
                    };
                    continue;
                }
                '(' | ')' | '|' | '{' | '}' | '^' | '$' => return None,
                c => Atom::Char(c),
            };
            pieces.push(Piece {
                atom,
                min: 1,
                max: Some(1),
            });
        }
        Some(Self {
            pieces,
            anchored_start,
            anchored_end,
        })
    }

    /// True when the pattern matches somewhere in `text` (respecting anchors).
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let starts: Vec<usize> = if self.anchored_start {
            vec![0]
        } else {
            (0..=chars.len()).collect()
        };
        starts.into_iter().any(|s| self.match_at(&chars, s, 0))
    }

    fn match_at(&self, text: &[char], pos: usize, piece: usize) -> bool {
        let Some(p) = self.pieces.get(piece) else {
            return !self.anchored_end || pos == text.len();
        };
        let mut n = 0;
        while p.max.is_none_or(|m| n < m) && text.get(pos + n).is_some_and(|c| p.atom.matches(*c)) {
            n += 1;
        }
        (p.min..=n)
            .rev()
            .any(|k| self.match_at(text, pos + k, piece + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_anchored_literal_matches_whole_value_only() {
        let r = Regex::new("^BusyBox$").unwrap();
        assert!(r.is_match("BusyBox"));
        assert!(!r.is_match("BusyBox2"));
    }

    #[test]
    fn regex_quantifiers_and_classes_match() {
        assert!(Regex::new("^Bus.*$").unwrap().is_match("BusyBox"));
        assert!(Regex::new("^[0-9]+\\.[0-9]?$").unwrap().is_match("22.0"));
        assert!(!Regex::new("^[^a-z]+$").unwrap().is_match("abc"));
    }

    #[test]
    fn regex_groups_are_not_compiled() {
        assert!(Regex::new("^(a|b)$").is_none());
    }
}
