//! The pongo2 subset LXD image templates use, parsed into a small tree.
//!
//! Text, `{{ expr }}`, `{# comment #}`, `{% if %}/{% elif %}/{% else %}/{% endif %}`,
//! `{% for k, v in expr %}/{% empty %}/{% endfor %}`, `{% autoescape %}`, `{% comment %}`,
//! and `-` whitespace trimming. Expressions: literals, dotted and indexed variables, calls,
//! filters with one argument, comparisons and `and`/`or`/`not`. Parsing only; no evaluation.

use super::TemplateError;

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Print(Expr),
    If(Vec<(Expr, Vec<Node>)>, Vec<Node>),
    For {
        key: String,
        value: Option<String>,
        iterable: Expr,
        body: Vec<Node>,
        empty: Vec<Node>,
    },
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Int(i64),
    Bool(bool),
    Nil,
    Var(String),
    Attr(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Filter(Box<Expr>, String, Option<Box<Expr>>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, String, Box<Expr>),
}

/// Parse `source` into nodes.
pub fn parse(source: &str) -> Result<Vec<Node>, TemplateError> {
    let pieces = split(source)?;
    let mut parser = Parser { pieces, pos: 0 };
    let (nodes, end) = parser.block(&[])?;
    match end {
        None => Ok(nodes),
        Some(tag) => Err(TemplateError::Parse(format!("unexpected {{% {tag} %}}"))),
    }
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Print(String),
    Tag(String),
}

/// Cut the source into text, `{{ }}` and `{% %}` pieces, applying `-` trimming.
fn split(source: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = source;
    let mut trim_next = false;
    loop {
        let next = ["{{", "{%", "{#"]
            .iter()
            .filter_map(|open| rest.find(open).map(|i| (i, *open)))
            .min();
        let Some((start, open)) = next else {
            push_text(&mut pieces, rest, trim_next, false);
            return Ok(pieces);
        };
        let close = match open {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        let inner_start = start + 2;
        let Some(len) = rest[inner_start..].find(close) else {
            return Err(TemplateError::Parse(format!("unclosed {open}")));
        };
        let mut inner = &rest[inner_start..inner_start + len];
        let trim_before = inner.starts_with('-');
        let trim_after = inner.ends_with('-') && inner.len() > 1;
        if trim_before {
            inner = &inner[1..];
        }
        if trim_after {
            inner = &inner[..inner.len() - 1];
        }
        push_text(&mut pieces, &rest[..start], trim_next, trim_before);
        match open {
            "{{" => pieces.push(Piece::Print(inner.trim().to_string())),
            "{%" => pieces.push(Piece::Tag(inner.trim().to_string())),
            _ => {}
        }
        trim_next = trim_after;
        rest = &rest[inner_start + len + 2..];
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str, trim_start: bool, trim_end: bool) {
    let mut text = text;
    if trim_start {
        text = text.trim_start();
    }
    if trim_end {
        text = text.trim_end();
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text.to_string()));
    }
}

struct Parser {
    pieces: Vec<Piece>,
    pos: usize,
}

impl Parser {
    /// Parse nodes until one of the `ends` tags (returned) or the end of input (`None`).
    fn block(&mut self, ends: &[&str]) -> Result<(Vec<Node>, Option<String>), TemplateError> {
        let mut nodes = Vec::new();
        while self.pos < self.pieces.len() {
            let piece = std::mem::replace(&mut self.pieces[self.pos], Piece::Text(String::new()));
            self.pos += 1;
            match piece {
                Piece::Text(text) => nodes.push(Node::Text(text)),
                Piece::Print(expr) => nodes.push(Node::Print(parse_expr(&expr)?)),
                Piece::Tag(tag) => {
                    let word = tag
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    if ends.contains(&word.as_str()) {
                        return Ok((nodes, Some(tag)));
                    }
                    match word.as_str() {
                        "if" => nodes.push(self.if_tag(&tag)?),
                        "for" => nodes.push(self.for_tag(&tag)?),
                        "autoescape" => nodes.extend(self.expect_block("endautoescape")?),
                        "comment" => {
                            self.expect_block("endcomment")?;
                        }
                        other => {
                            return Err(TemplateError::Parse(format!("unknown tag {other:?}")))
                        }
                    }
                }
            }
        }
        Ok((nodes, None))
    }

    fn expect_block(&mut self, end: &str) -> Result<Vec<Node>, TemplateError> {
        match self.block(&[end])? {
            (nodes, Some(_)) => Ok(nodes),
            (_, None) => Err(TemplateError::Parse(format!("missing {{% {end} %}}"))),
        }
    }

    fn if_tag(&mut self, tag: &str) -> Result<Node, TemplateError> {
        let mut branches = Vec::new();
        let mut condition = parse_expr(tag["if".len()..].trim())?;
        loop {
            let (body, end) = self.block(&["elif", "else", "endif"])?;
            branches.push((condition, body));
            let end = end.ok_or_else(|| TemplateError::Parse("missing {% endif %}".into()))?;
            if let Some(rest) = end.strip_prefix("elif") {
                condition = parse_expr(rest.trim())?;
                continue;
            }
            if end == "else" {
                let otherwise = self.expect_block("endif")?;
                return Ok(Node::If(branches, otherwise));
            }
            return Ok(Node::If(branches, Vec::new()));
        }
    }

    fn for_tag(&mut self, tag: &str) -> Result<Node, TemplateError> {
        let spec = tag["for".len()..].trim();
        let (vars, iterable) = spec
            .split_once(" in ")
            .ok_or_else(|| TemplateError::Parse(format!("bad for tag {tag:?}")))?;
        let mut names = vars.split(',').map(|v| v.trim().to_string());
        let key = names.next().filter(|k| !k.is_empty());
        let key = key.ok_or_else(|| TemplateError::Parse(format!("bad for tag {tag:?}")))?;
        let value = names.next();
        let iterable = parse_expr(iterable.trim())?;
        let (body, end) = self.block(&["empty", "endfor"])?;
        let empty = match end.as_deref() {
            Some("empty") => self.expect_block("endfor")?,
            Some(_) => Vec::new(),
            None => return Err(TemplateError::Parse("missing {% endfor %}".into())),
        };
        Ok(Node::For {
            key,
            value,
            iterable,
            body,
            empty,
        })
    }
}

pub use super::expr::parse_expr;
