//! The OpenAPI document `api-spec/rest-api.yaml` against the router: the same endpoints in both
//! directions, every `$ref` defined, and a structurally valid OpenAPI 3 document.
//!
//! These tests read the spec file only; they start no daemon and touch nothing else.

use std::collections::{BTreeMap, BTreeSet};

use lxd_daemon::api::router::ROUTES;
use yaml_serde::{Mapping, Value};

/// HTTP methods an OpenAPI path item may hold as operations.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../api-spec/rest-api.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("Reading {path}: {e}"));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("Parsing {path}: {e}"))
}

/// A mapping key as text (YAML allows unquoted numbers such as `200`).
fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("Unexpected mapping key {other:?}"),
    }
}

fn mapping<'a>(value: &'a Value, what: &str) -> &'a Mapping {
    value
        .as_mapping()
        .unwrap_or_else(|| panic!("{what} is not a mapping"))
}

/// Every `(method, path)` under `paths`, with its operation object.
fn operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let paths = mapping(
        doc.get("paths").expect("The spec has no `paths`"),
        "`paths`",
    );
    let mut out = BTreeMap::new();
    for (path, item) in paths {
        let path = key_text(path);
        for (method, op) in mapping(item, &format!("Path item {path}")) {
            let method = key_text(method);
            if METHODS.contains(&method.as_str()) {
                out.insert((method, path.clone()), op);
            }
        }
    }
    out
}

/// Follow a local JSON pointer (`#/a/b`) through the document.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix("#/")?;
    pointer.split('/').try_fold(doc, |node, token| {
        let token = token.replace("~1", "/").replace("~0", "~");
        node.as_mapping()?
            .iter()
            .find(|(k, _)| key_text(k) == token)
            .map(|(_, v)| v)
    })
}

/// Every `$ref` value in the document with the place it was found.
fn refs(node: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match node {
        Value::Mapping(map) => {
            for (k, v) in map {
                let k = key_text(k);
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k == "$ref" {
                    let target = v
                        .as_str()
                        .unwrap_or_else(|| panic!("{here} is not a string"));
                    out.push((here, target.to_string()));
                } else {
                    refs(v, &here, out);
                }
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), out);
            }
        }
        Value::Tagged(tagged) => refs(&tagged.value, at, out),
        _ => {}
    }
}

/// A parameter object, following a `$ref` if it is one.
fn parameter<'a>(doc: &'a Value, param: &'a Value) -> &'a Value {
    match param.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, r).unwrap_or_else(|| panic!("Unresolved parameter {r}")),
        None => param,
    }
}

/// Names of the path parameters declared on a path item and its operation.
fn path_params(doc: &Value, item: &Value, op: &Value) -> BTreeSet<String> {
    [item.get("parameters"), op.get("parameters")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_sequence)
        .flatten()
        .map(|p| parameter(doc, p))
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The `{name}` segments of a templated path.
fn template_names(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_string)
        .collect()
}

#[test]
fn spec_paths_match_router_routes() {
    let doc = spec();
    let in_spec: BTreeSet<(String, String)> = operations(&doc).into_keys().collect();
    let in_router: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        in_router.len(),
        ROUTES.len(),
        "ROUTES lists an endpoint twice"
    );

    let show = |set: Vec<&(String, String)>| {
        set.iter()
            .map(|(m, p)| format!("  {} {p}", m.to_uppercase()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let undocumented: Vec<_> = in_router.difference(&in_spec).collect();
    let unserved: Vec<_> = in_spec.difference(&in_router).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "api-spec/rest-api.yaml and ROUTES disagree.\n\
         Served by the router but missing from the spec:\n{}\n\
         In the spec but missing from the router's ROUTES:\n{}",
        show(undocumented),
        show(unserved)
    );
}

#[test]
fn spec_refs_resolve_to_defined_components() {
    let doc = spec();
    let mut found = Vec::new();
    refs(&doc, "#", &mut found);
    assert!(!found.is_empty(), "The spec has no $ref at all");
    let broken: Vec<String> = found
        .iter()
        .filter(|(_, target)| {
            !target.starts_with("#/components/") || resolve(&doc, target).is_none()
        })
        .map(|(at, target)| format!("  {at}: {target}"))
        .collect();
    assert!(
        broken.is_empty(),
        "$ref targets that are not defined components:\n{}",
        broken.join("\n")
    );
}

#[test]
fn spec_structure_is_valid_openapi3() {
    let doc = spec();
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    assert!(
        version.starts_with("3."),
        "`openapi` must be 3.x, found {version:?}"
    );
    let info = doc.get("info").expect("The spec has no `info`");
    for field in ["title", "version"] {
        let text = info.get(field).and_then(Value::as_str).unwrap_or("");
        assert!(
            !text.trim().is_empty(),
            "`info.{field}` is missing or empty"
        );
    }

    let paths = mapping(
        doc.get("paths").expect("The spec has no `paths`"),
        "`paths`",
    );
    let mut problems = Vec::new();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        let path = key_text(path);
        if !path.starts_with('/') {
            problems.push(format!("{path}: a path must start with '/'"));
        }
        for (method, op) in mapping(item, &format!("Path item {path}")) {
            let method = key_text(method);
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let name = format!("{} {path}", method.to_uppercase());
            match op.get("responses").and_then(Value::as_mapping) {
                Some(responses) if !responses.is_empty() => {
                    for (code, response) in responses {
                        let code = key_text(code);
                        let valid_code = code == "default"
                            || (code.len() == 3
                                && (code.chars().all(|c| c.is_ascii_digit())
                                    || code.ends_with("XX")));
                        if !valid_code {
                            problems.push(format!("{name}: bad response code {code:?}"));
                        }
                        if response.get("$ref").is_none() && response.get("description").is_none() {
                            problems.push(format!("{name}: response {code} has no description"));
                        }
                    }
                }
                _ => problems.push(format!("{name}: no `responses` map")),
            }
            match op.get("operationId").and_then(Value::as_str) {
                Some(id) if !operation_ids.insert(id.to_string()) => {
                    problems.push(format!("{name}: operationId {id:?} used twice"));
                }
                _ => {}
            }
            let declared = path_params(&doc, item, op);
            let templated = template_names(&path);
            if declared != templated {
                problems.push(format!(
                    "{name}: path parameters declared {declared:?}, in the path {templated:?}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "The spec is not valid OpenAPI 3:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn spec_internal_routes_tagged_internal_only() {
    let doc = spec();
    let wrong: Vec<String> = operations(&doc)
        .into_iter()
        .filter(|((_, path), op)| {
            let tagged = op
                .get("tags")
                .and_then(Value::as_sequence)
                .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some("internal")));
            tagged != path.starts_with("/internal/")
        })
        .map(|((method, path), _)| format!("  {} {path}", method.to_uppercase()))
        .collect();
    assert!(
        wrong.is_empty(),
        "Operations must carry the tag `internal` exactly when under /internal/:\n{}",
        wrong.join("\n")
    );
}
