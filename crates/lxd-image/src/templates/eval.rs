//! Evaluation of parsed templates against a context, with pongo2's semantics: undefined
//! values print as nothing, non-empty strings are true (so `"false"` is true), booleans print
//! `True`/`False`, maps iterate in key order.

use std::collections::BTreeMap;

use super::parse::{Expr, Node};
use super::TemplateError;

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// pongo2's `IsTrue`.
    pub fn is_true(&self) -> bool {
        match self {
            Self::Nil => false,
            Self::Bool(b) => *b,
            Self::Int(n) => *n != 0,
            Self::Str(s) => !s.is_empty(),
            Self::List(l) => !l.is_empty(),
            Self::Map(m) => !m.is_empty(),
        }
    }

    /// The text printed by `{{ }}`.
    pub fn render(&self) -> String {
        match self {
            Self::Nil => String::new(),
            Self::Bool(true) => "True".into(),
            Self::Bool(false) => "False".into(),
            Self::Int(n) => n.to_string(),
            Self::Str(s) => s.clone(),
            Self::List(items) => {
                let parts: Vec<_> = items.iter().map(Value::render).collect();
                format!("[{}]", parts.join(" "))
            }
            Self::Map(map) => {
                let parts: Vec<_> = map
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", v.render()))
                    .collect();
                format!("map[{}]", parts.join(" "))
            }
        }
    }

    /// A map of strings.
    pub fn string_map(map: &BTreeMap<String, String>) -> Self {
        Self::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), Self::Str(v.clone())))
                .collect(),
        )
    }

    fn get(&self, key: &Value) -> Value {
        match (self, key) {
            (Self::Map(map), Self::Str(k)) => map.get(k).cloned().unwrap_or(Self::Nil),
            (Self::List(list), Self::Int(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| list.get(i).cloned())
                .unwrap_or(Self::Nil),
            _ => Self::Nil,
        }
    }
}

/// A function callable from templates (`config_get`).
pub type Function<'a> = &'a dyn Fn(&[Value]) -> Value;

/// Variables and functions visible to a template.
pub struct Scope<'a> {
    pub variables: BTreeMap<String, Value>,
    pub functions: BTreeMap<&'static str, Function<'a>>,
}

/// Render `nodes` into `out`.
pub fn render_nodes(
    nodes: &[Node],
    scope: &mut Scope<'_>,
    out: &mut String,
) -> Result<(), TemplateError> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Print(expr) => out.push_str(&eval(expr, scope)?.render()),
            Node::If(branches, otherwise) => {
                let mut taken = false;
                for (condition, body) in branches {
                    if eval(condition, scope)?.is_true() {
                        render_nodes(body, scope, out)?;
                        taken = true;
                        break;
                    }
                }
                if !taken {
                    render_nodes(otherwise, scope, out)?;
                }
            }
            Node::For {
                key,
                value,
                iterable,
                body,
                empty,
            } => {
                let pairs: Vec<(Value, Value)> = match eval(iterable, scope)? {
                    Value::Map(map) => map.into_iter().map(|(k, v)| (Value::Str(k), v)).collect(),
                    Value::List(list) => list
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| match value {
                            Some(_) => (Value::Int(i64::try_from(i).unwrap_or(0)), v),
                            None => (v, Value::Nil),
                        })
                        .collect(),
                    Value::Str(s) => s
                        .chars()
                        .map(|c| (Value::Str(c.to_string()), Value::Nil))
                        .collect(),
                    _ => Vec::new(),
                };
                if pairs.is_empty() {
                    render_nodes(empty, scope, out)?;
                    continue;
                }
                let saved: Vec<_> = [Some(key.as_str()), value.as_deref(), Some("forloop")]
                    .into_iter()
                    .flatten()
                    .map(|name| (name.to_string(), scope.variables.get(name).cloned()))
                    .collect();
                let count = pairs.len();
                for (index, (k, v)) in pairs.into_iter().enumerate() {
                    scope.variables.insert(key.clone(), k);
                    if let Some(value) = value {
                        scope.variables.insert(value.clone(), v);
                    }
                    scope
                        .variables
                        .insert("forloop".into(), forloop(index, count));
                    render_nodes(body, scope, out)?;
                }
                for (name, previous) in saved {
                    match previous {
                        Some(previous) => scope.variables.insert(name, previous),
                        None => scope.variables.remove(&name),
                    };
                }
            }
        }
    }
    Ok(())
}

fn forloop(index: usize, count: usize) -> Value {
    let int = |n: usize| Value::Int(i64::try_from(n).unwrap_or(0));
    Value::Map(BTreeMap::from([
        ("Counter".into(), int(index + 1)),
        ("Counter0".into(), int(index)),
        ("Revcounter".into(), int(count - index)),
        ("Revcounter0".into(), int(count - index - 1)),
        ("First".into(), Value::Bool(index == 0)),
        ("Last".into(), Value::Bool(index + 1 == count)),
    ]))
}

fn eval(expr: &Expr, scope: &Scope<'_>) -> Result<Value, TemplateError> {
    Ok(match expr {
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Int(n) => Value::Int(*n),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Nil => Value::Nil,
        Expr::Var(name) => scope.variables.get(name).cloned().unwrap_or(Value::Nil),
        Expr::Attr(base, name) => eval(base, scope)?.get(&Value::Str(name.clone())),
        Expr::Index(base, index) => eval(base, scope)?.get(&eval(index, scope)?),
        Expr::Call(name, args) => {
            let function = scope
                .functions
                .get(name.as_str())
                .ok_or_else(|| TemplateError::Render(format!("unknown function {name:?}")))?;
            let args = args
                .iter()
                .map(|a| eval(a, scope))
                .collect::<Result<Vec<_>, _>>()?;
            function(&args)
        }
        Expr::Filter(base, name, argument) => {
            let value = eval(base, scope)?;
            let argument = match argument {
                Some(a) => eval(a, scope)?,
                None => Value::Nil,
            };
            filter(value, name, argument)?
        }
        Expr::Not(inner) => Value::Bool(!eval(inner, scope)?.is_true()),
        Expr::And(a, b) => Value::Bool(eval(a, scope)?.is_true() && eval(b, scope)?.is_true()),
        Expr::Or(a, b) => Value::Bool(eval(a, scope)?.is_true() || eval(b, scope)?.is_true()),
        Expr::Compare(a, op, b) => compare(&eval(a, scope)?, op, &eval(b, scope)?),
    })
}

fn compare(a: &Value, op: &str, b: &Value) -> Value {
    let ordering = match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        _ => None,
    };
    Value::Bool(match op {
        "==" => a == b,
        "!=" => a != b,
        "<" => ordering.is_some_and(|o| o.is_lt()),
        ">" => ordering.is_some_and(|o| o.is_gt()),
        "<=" => ordering.is_some_and(|o| o.is_le()),
        ">=" => ordering.is_some_and(|o| o.is_ge()),
        _ => match b {
            Value::Map(map) => map.contains_key(&a.render()),
            Value::List(list) => list.contains(a),
            Value::Str(s) => s.contains(&a.render()),
            _ => false,
        },
    })
}

fn filter(value: Value, name: &str, argument: Value) -> Result<Value, TemplateError> {
    Ok(match name {
        "default" => {
            if value.is_true() {
                value
            } else {
                argument
            }
        }
        "default_if_none" => match value {
            Value::Nil => argument,
            other => other,
        },
        "lower" => Value::Str(value.render().to_lowercase()),
        "upper" => Value::Str(value.render().to_uppercase()),
        "capfirst" => {
            let text = value.render();
            let mut chars = text.chars();
            Value::Str(match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            })
        }
        "length" => Value::Int(
            i64::try_from(match &value {
                Value::Str(s) => s.chars().count(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                _ => 0,
            })
            .unwrap_or(0),
        ),
        "join" => match value {
            Value::List(items) => {
                let parts: Vec<_> = items.iter().map(Value::render).collect();
                Value::Str(parts.join(&argument.render()))
            }
            other => other,
        },
        "safe" => value,
        "escape" | "e" => Value::Str(
            value
                .render()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;"),
        ),
        other => return Err(TemplateError::Render(format!("unknown filter {other:?}"))),
    })
}
