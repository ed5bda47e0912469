//! Expressions inside `{{ }}` and `{% %}`: a tokenizer and a recursive-descent parser.
//!
//! Precedence, loosest first: `or`/`||`, `and`/`&&`, `not`/`!`, comparisons, filters
//! (`x|default:"y"`), then primaries (literals, variables, `.attr`, `[index]`, calls).

use super::parse::Expr;
use super::TemplateError;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    Sym(&'static str),
}

const SYMBOLS: [&str; 16] = [
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "(", ")", "[", "]", ".", ",", "|", ":",
];

fn tokenize(source: &str) -> Result<Vec<Token>, TemplateError> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                let Some(&ch) = chars.get(i) else {
                    return Err(TemplateError::Parse(format!(
                        "unterminated string in {source:?}"
                    )));
                };
                i += 1;
                match ch {
                    '\\' => {
                        let escaped = chars.get(i).copied().unwrap_or('\\');
                        i += 1;
                        text.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    ch if ch == c => break,
                    ch => text.push(ch),
                }
            }
            tokens.push(Token::Str(text));
        } else if c.is_ascii_digit() {
            let start = i;
            while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let value = text
                .parse()
                .map_err(|_| TemplateError::Parse(format!("bad number {text:?}")))?;
            tokens.push(Token::Int(value));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c == '!' && chars.get(i + 1) != Some(&'=') {
            tokens.push(Token::Ident("not".into()));
            i += 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let symbol = SYMBOLS
                .iter()
                .find(|s| rest.starts_with(**s))
                .ok_or_else(|| TemplateError::Parse(format!("unexpected {c:?} in {source:?}")))?;
            tokens.push(Token::Sym(symbol));
            i += symbol.len();
        }
    }
    Ok(tokens)
}

/// Parse one expression.
pub fn parse_expr(source: &str) -> Result<Expr, TemplateError> {
    let tokens = tokenize(source)?;
    let mut parser = ExprParser {
        tokens,
        pos: 0,
        source,
    };
    let expr = parser.or()?;
    if parser.pos != parser.tokens.len() {
        return Err(parser.error());
    }
    Ok(expr)
}

struct ExprParser<'s> {
    tokens: Vec<Token>,
    pos: usize,
    source: &'s str,
}

impl ExprParser<'_> {
    fn error(&self) -> TemplateError {
        TemplateError::Parse(format!("bad expression {:?}", self.source))
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn eat_sym(&mut self, symbol: &str) -> bool {
        if matches!(self.peek(), Some(Token::Sym(s)) if *s == symbol) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(w)) if w == word) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn or(&mut self) -> Result<Expr, TemplateError> {
        let mut left = self.and()?;
        while self.eat_word("or") || self.eat_sym("||") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, TemplateError> {
        let mut left = self.not()?;
        while self.eat_word("and") || self.eat_sym("&&") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, TemplateError> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, TemplateError> {
        let left = self.filtered()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat_sym(op) {
                let right = self.filtered()?;
                return Ok(Expr::Compare(
                    Box::new(left),
                    op.to_string(),
                    Box::new(right),
                ));
            }
        }
        if self.eat_word("in") {
            let right = self.filtered()?;
            return Ok(Expr::Compare(Box::new(left), "in".into(), Box::new(right)));
        }
        Ok(left)
    }

    fn filtered(&mut self) -> Result<Expr, TemplateError> {
        let mut expr = self.postfix()?;
        while self.eat_sym("|") {
            let Some(Token::Ident(name)) = self.peek().cloned() else {
                return Err(self.error());
            };
            self.pos += 1;
            let argument = if self.eat_sym(":") {
                Some(Box::new(self.postfix()?))
            } else {
                None
            };
            expr = Expr::Filter(Box::new(expr), name, argument);
        }
        Ok(expr)
    }

    fn postfix(&mut self) -> Result<Expr, TemplateError> {
        let mut expr = self.primary()?;
        loop {
            if self.eat_sym(".") {
                match self.peek().cloned() {
                    Some(Token::Ident(name)) => expr = Expr::Attr(Box::new(expr), name),
                    Some(Token::Int(n)) => {
                        expr = Expr::Index(Box::new(expr), Box::new(Expr::Int(n)))
                    }
                    _ => return Err(self.error()),
                }
                self.pos += 1;
            } else if self.eat_sym("[") {
                let index = self.or()?;
                if !self.eat_sym("]") {
                    return Err(self.error());
                }
                expr = Expr::Index(Box::new(expr), Box::new(index));
            } else {
                return Ok(expr);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, TemplateError> {
        let token = self.peek().cloned().ok_or_else(|| self.error())?;
        self.pos += 1;
        Ok(match token {
            Token::Str(s) => Expr::Str(s),
            Token::Int(n) => Expr::Int(n),
            Token::Sym("(") => {
                let inner = self.or()?;
                if !self.eat_sym(")") {
                    return Err(self.error());
                }
                inner
            }
            Token::Ident(word) => match word.as_str() {
                "true" | "True" => Expr::Bool(true),
                "false" | "False" => Expr::Bool(false),
                "nil" | "None" => Expr::Nil,
                _ if self.eat_sym("(") => {
                    let mut args = Vec::new();
                    if !self.eat_sym(")") {
                        loop {
                            args.push(self.or()?);
                            if self.eat_sym(")") {
                                break;
                            }
                            if !self.eat_sym(",") {
                                return Err(self.error());
                            }
                        }
                    }
                    Expr::Call(word, args)
                }
                _ => Expr::Var(word),
            },
            Token::Sym(_) => return Err(self.error()),
        })
    }
}
