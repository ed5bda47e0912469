//! Decoding YAML the way lxc 5.0.2 does with `yaml.v2`, so that `edit` from stdin accepts and
//! refuses the same documents with the same error text: any scalar goes into a string field
//! as written, null leaves the zero value, unknown keys are ignored, only the first document
//! counts, and errors read `yaml: line N: <problem>` (syntax) or `yaml: unmarshal errors:\n
//! line N: cannot unmarshal !!int `5` into map[string]string` (types). The result is JSON
//! shaped like the Go struct, ready to send. Nothing here does I/O.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The Go type a YAML node is decoded into.
#[derive(Debug, Clone, Copy)]
pub enum Schema {
    /// `string`
    Str,
    /// `interface {}`
    Any,
    /// `map[string]<elem>`
    Map(&'static Schema),
    /// A struct: Go type name and `(yaml key, field type)` pairs.
    Struct(&'static str, &'static [(&'static str, Schema)]),
}

const MAP_STR: Schema = Schema::Map(&Schema::Str);

/// `api.ProfilePut`.
pub const PROFILE_PUT: Schema = Schema::Struct(
    "api.ProfilePut",
    &[
        ("config", MAP_STR),
        ("description", Schema::Str),
        ("devices", Schema::Map(&MAP_STR)),
    ],
);

/// `api.StoragePoolPut`.
pub const STORAGE_POOL_PUT: Schema = Schema::Struct(
    "api.StoragePoolPut",
    &[("config", MAP_STR), ("description", Schema::Str)],
);

/// `api.ServerPut`.
pub const SERVER_PUT: Schema =
    Schema::Struct("api.ServerPut", &[("config", Schema::Map(&Schema::Any))]);

impl Schema {
    fn go_name(&self) -> String {
        match self {
            Schema::Str => "string".into(),
            Schema::Any => "interface {}".into(),
            Schema::Map(e) => format!("map[string]{}", e.go_name()),
            Schema::Struct(name, _) => (*name).into(),
        }
    }
}

/// Marker in the `expecting` text of string fields, to recognise yaml_serde's own refusal of a
/// sequence or mapping there.
const STR_MARKER: &str = "GO-YAML-STRING";

/// Decoding state shared by the nodes of one pass. Nodes are numbered in document order, so a
/// node refused in one pass is skipped in the next, as go-yaml collects every type error.
#[derive(Default)]
struct State {
    /// The refusal of the node being decoded, in go-yaml's words.
    err: RefCell<Option<String>>,
    next: Cell<usize>,
    current: Cell<usize>,
    /// Refused nodes so far: number → `line N: cannot unmarshal ...`.
    bad: RefCell<BTreeMap<usize, String>>,
    /// A mapping met inside `interface {}`: encoding/json cannot send that.
    nested_map: Cell<bool>,
}

type Slot<'a> = &'a State;

struct Seed<'a> {
    schema: Schema,
    err: Slot<'a>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let n = self.err.next.get();
        self.err.next.set(n + 1);
        self.err.current.set(n);
        if self.err.bad.borrow().contains_key(&n) {
            d.deserialize_ignored_any(IgnoredAny)?;
            return Ok(Value::Null);
        }
        match self.schema {
            Schema::Str => d.deserialize_str(StrVisitor),
            Schema::Any => d.deserialize_any(AnyVisitor { st: self.err }),
            _ => d.deserialize_any(NodeVisitor {
                schema: self.schema,
                err: self.err,
            }),
        }
    }
}

struct StrVisitor;

impl Visitor<'_> for StrVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(STR_MARKER)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        // A plain null scalar leaves the zero value.
        let null = matches!(v, "" | "~" | "null" | "Null" | "NULL");
        Ok(Value::String(if null { String::new() } else { v.into() }))
    }
}

struct NodeVisitor<'a> {
    schema: Schema,
    err: Slot<'a>,
}

impl NodeVisitor<'_> {
    fn refuse<E: serde::de::Error>(&self, tag: &str, value: Option<String>) -> E {
        let value = match value {
            Some(v) if v.chars().count() > 10 => {
                format!(" `{}...`", v.chars().take(7).collect::<String>())
            }
            Some(v) => format!(" `{v}`"),
            None => String::new(),
        };
        let msg = format!(
            "cannot unmarshal !!{tag}{value} into {}",
            self.schema.go_name()
        );
        *self.err.err.borrow_mut() = Some(msg.clone());
        E::custom(msg)
    }
}

impl<'de> Visitor<'de> for NodeVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.schema.go_name())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        Err(self.refuse("bool", Some(v.to_string())))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        Err(self.refuse("int", Some(v.to_string())))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        Err(self.refuse("int", Some(v.to_string())))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Err(self.refuse("float", Some(v.to_string())))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        Err(self.refuse("str", Some(v.to_string())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Value, A::Error> {
        Err(self.refuse("seq", None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Seed {
            schema: Schema::Str,
            err: self.err,
        })? {
            let key = key.as_str().unwrap_or_default().to_string();
            let field = match self.schema {
                Schema::Map(elem) => Some(*elem),
                Schema::Struct(_, fields) => fields.iter().find(|(k, _)| *k == key).map(|f| f.1),
                _ => None,
            };
            match field {
                Some(schema) => {
                    let v = map.next_value_seed(Seed {
                        schema,
                        err: self.err,
                    })?;
                    // A null struct field keeps its zero value; a null map element is empty.
                    match (v, self.schema) {
                        (Value::Null, Schema::Struct(..)) => {}
                        // A repeated key decodes into the same map again (go-yaml merges).
                        (Value::Object(new), Schema::Struct(..))
                            if out.get(&key).is_some_and(Value::is_object) =>
                        {
                            if let Some(Value::Object(old)) = out.get_mut(&key) {
                                old.extend(new);
                            }
                        }
                        (Value::Null, _) if !matches!(schema, Schema::Any) => {
                            out.insert(key, Value::Object(Map::new()));
                        }
                        (v, _) => {
                            out.insert(key, v);
                        }
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// `interface {}`: scalars resolved as YAML 1.1 does (`yes`/`on` are booleans).
struct AnyVisitor<'a> {
    st: Slot<'a>,
}

impl<'de> Visitor<'de> for AnyVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(match v {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Value::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Value::Bool(false),
            _ => Value::String(v.into()),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Seed {
            schema: Schema::Any,
            err: self.st,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.st.nested_map.set(true);
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }
}

/// Problems libyaml's parser (not its scanner) reports; go-yaml numbers their lines one less.
const PARSER_PROBLEMS: &[&str] = &[
    "did not find expected <document start>",
    "did not find expected node content",
    "did not find expected key",
    "did not find expected '-' indicator",
    "did not find expected ',' or ']'",
    "did not find expected ',' or '}'",
    "found duplicate %YAML directive",
    "found incompatible YAML document",
    "found undefined tag handle",
    "found duplicate %TAG directive",
];

/// The 1-based line in the first ` at line N` after `from` in `msg`.
fn line_after(msg: &str, from: usize) -> Option<usize> {
    let rest = msg.get(from..)?;
    let at = rest.find(" at line ")? + " at line ".len();
    rest[at..].split(' ').next()?.parse().ok()
}

/// go-yaml's text for a syntax error that yaml_serde reported as `msg`.
fn syntax_error(msg: &str) -> String {
    let problem = msg
        .split(" at line ")
        .next()
        .unwrap_or(msg)
        .split(" at position ")
        .next()
        .unwrap_or(msg)
        .split(", while ")
        .next()
        .unwrap_or(msg);
    let problem_line = line_after(msg, 0).unwrap_or(1).saturating_sub(1);
    let line = if PARSER_PROBLEMS.contains(&problem) {
        if problem_line != 0 {
            problem_line
        } else {
            let ctx = msg.find(", while ").map(|i| line_after(msg, i));
            ctx.flatten().unwrap_or(1).saturating_sub(1)
        }
    } else if problem_line != 0 {
        problem_line + 1
    } else {
        0
    };
    match line {
        0 => format!("yaml: {problem}"),
        n => format!("yaml: line {n}: {problem}"),
    }
}

/// Decodes the first YAML document of `text` into JSON shaped like `schema`, or go-yaml's error.
pub fn decode(text: &str, schema: Schema) -> Result<Value, String> {
    // Syntax first: yaml_serde reports a parse error only when the events run out, after
    // a type error met earlier in the document.
    let Some(doc) = yaml_serde::Deserializer::from_str(text).next() else {
        return Ok(Value::Object(Map::new()));
    };
    if let Err(e) = <IgnoredAny as serde::Deserialize>::deserialize(doc) {
        let msg = e.to_string();
        if !msg.contains("EOF while parsing") {
            return Err(syntax_error(&msg));
        }
    }
    let st = State::default();
    loop {
        st.next.set(0);
        *st.err.borrow_mut() = None;
        let Some(doc) = yaml_serde::Deserializer::from_str(text).next() else {
            return Ok(Value::Object(Map::new()));
        };
        let e = match (Seed { schema, err: &st }).deserialize(doc) {
            Ok(v) => return finish(v, &st),
            Err(e) => e,
        };
        let line = e.location().map_or(1, |l| l.line());
        let msg = e.to_string();
        let typed = st.err.borrow().clone().or_else(|| {
            let kind = ["sequence", "map"]
                .into_iter()
                .find(|k| msg.contains(&format!("invalid type: {k}, expected {STR_MARKER}")))?;
            let tag = if kind == "map" { "map" } else { "seq" };
            Some(format!("cannot unmarshal !!{tag} into string"))
        });
        match typed {
            Some(t) => {
                let n = st.current.get();
                if st
                    .bad
                    .borrow_mut()
                    .insert(n, format!("line {line}: {t}"))
                    .is_some()
                {
                    return Err(format!("yaml: {t}"));
                }
            }
            None if msg.contains("EOF while parsing") => return Ok(Value::Object(Map::new())),
            None => return Err(syntax_error(&msg)),
        }
    }
}

/// The decoded value, or every type error go-yaml would list, or encoding/json's refusal.
fn finish(v: Value, st: &State) -> Result<Value, String> {
    let bad = st.bad.borrow();
    if !bad.is_empty() {
        let lines: Vec<String> = bad.values().map(|l| format!("\n  {l}")).collect();
        return Err(format!("yaml: unmarshal errors:{}", lines.concat()));
    }
    if st.nested_map.get() {
        return Err("json: unsupported type: map[interface {}]interface {}".into());
    }
    Ok(match v {
        Value::Null => Value::Object(Map::new()),
        v => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_scalars_into_strings_keep_their_text() {
        let v = decode(
            "config:\n  a: 1.50\n  b: ~\ndescription: true\nx: [1]\n",
            PROFILE_PUT,
        );
        assert_eq!(
            v.unwrap(),
            serde_json::json!({"config": {"a": "1.50", "b": ""}, "description": "true"})
        );
    }

    #[test]
    fn decode_wrong_types_give_go_yaml_errors() {
        let e = decode("config: 5\n", PROFILE_PUT).unwrap_err();
        assert_eq!(
            e,
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `5` into map[string]string"
        );
        let e = decode("config:\n  a: [1]\n", PROFILE_PUT).unwrap_err();
        assert_eq!(
            e,
            "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!seq into string"
        );
        let e = decode("foo\n", STORAGE_POOL_PUT).unwrap_err();
        assert_eq!(
            e,
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `foo` into api.StoragePoolPut"
        );
    }

    #[test]
    fn decode_several_wrong_types_lists_each_line() {
        let e = decode("config:\n  a: {x: 1}\n  b: [2]\n", PROFILE_PUT).unwrap_err();
        assert_eq!(
            e,
            "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!map into string\n  \
             line 3: cannot unmarshal !!seq into string"
        );
    }

    #[test]
    fn decode_repeated_map_key_merges_maps() {
        let v = decode("config: {a: 1}\nconfig: {b: 2}\n", PROFILE_PUT).unwrap();
        assert_eq!(v, serde_json::json!({"config": {"a": "1", "b": "2"}}));
    }

    #[test]
    fn decode_syntax_errors_give_go_yaml_lines() {
        assert_eq!(
            decode("a: b: c\n", SERVER_PUT).unwrap_err(),
            "yaml: mapping values are not allowed in this context"
        );
        assert_eq!(
            decode("config: [\n", SERVER_PUT).unwrap_err(),
            "yaml: line 1: did not find expected node content"
        );
        assert_eq!(
            decode("description: \"x\n", SERVER_PUT).unwrap_err(),
            "yaml: line 2: found unexpected end of stream"
        );
    }
}
