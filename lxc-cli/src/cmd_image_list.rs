//! `lxc image list`: column letters (`lfpdatsu` by default), filters (alias or fingerprint
//! substrings, `key=value` on properties with lxc's dotted-prefix keys and anchored regexps),
//! and the table/csv/json/yaml/compact formats. JSON and YAML print the filtered images.

use anyhow::{bail, Result};
use lxd_api::image::Image;
use serde_json::Value;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::image_view::{size_mb, upload_date};
use crate::mini_regex::Regex;
use crate::output::{render_table, sort_string_list};
use crate::yaml::{sort_maps_at, to_yaml_with_times};

type Column = (&'static str, fn(&Image) -> String);

fn column(c: char) -> Option<Column> {
    let col: Column = match c {
        'l' => ("ALIAS", alias_cell),
        'L' => ("ALIASES", |i| {
            let mut names: Vec<&str> = i.aliases.iter().map(|a| a.name.as_str()).collect();
            names.sort_unstable();
            names.join("\n")
        }),
        'f' => ("FINGERPRINT", |i| i.fingerprint.chars().take(12).collect()),
        'F' => ("FINGERPRINT", |i| i.fingerprint.clone()),
        'p' => ("PUBLIC", |i| {
            if i.public { "yes" } else { "no" }.to_string()
        }),
        'd' => ("DESCRIPTION", |i| {
            i.properties.get("description").cloned().unwrap_or_default()
        }),
        'a' => ("ARCHITECTURE", |i| i.architecture.clone()),
        's' => ("SIZE", |i| size_mb(i.size)),
        'u' => ("UPLOAD DATE", |i| upload_date(&i.uploaded_at)),
        't' => ("TYPE", |i| {
            if i.kind.is_empty() {
                "CONTAINER".to_string()
            } else {
                i.kind.to_uppercase()
            }
        }),
        _ => return None,
    };
    Some(col)
}

/// The ALIAS cell: the shortest alias, plus ` (N more)`.
fn alias_cell(image: &Image) -> String {
    let mut shortest = "";
    for a in &image.aliases {
        if shortest.is_empty() || (!a.name.is_empty() && a.name.len() < shortest.len()) {
            shortest = &a.name;
        }
    }
    if image.aliases.len() > 1 {
        format!("{shortest} ({} more)", image.aliases.len() - 1)
    } else {
        shortest.to_string()
    }
}

fn parse_columns(spec: &str) -> Result<Vec<Column>> {
    let mut out = Vec::new();
    for entry in spec.split(',') {
        if entry.is_empty() {
            bail!("Empty column entry (redundant, leading or trailing command) in '{spec}'");
        }
        for c in entry.chars() {
            match column(c) {
                Some(col) => out.push(col),
                None => bail!("Unknown column shorthand char '{c}' in '{entry}'"),
            }
        }
    }
    Ok(out)
}

/// lxc's `dotPrefixMatch`: each dotted member of `short` prefixes the same member of `full`.
fn dot_prefix_match(short: &str, full: &str) -> bool {
    let s: Vec<&str> = short.split('.').collect();
    let f: Vec<&str> = full.split('.').collect();
    s.len() == f.len() && s.iter().zip(&f).all(|(a, b)| b.starts_with(a))
}

fn value_matches(pattern: &str, value: &str) -> bool {
    let anchored = if pattern.contains('^') || pattern.contains('$') {
        pattern.to_string()
    } else {
        format!("^{pattern}$")
    };
    match Regex::new(&anchored) {
        Some(r) => r.is_match(value),
        None => pattern == value,
    }
}

/// lxc's `imageShouldShow`: every filter must match.
pub fn image_should_show(filters: &[String], image: &Image) -> bool {
    filters.iter().all(|filter| match filter.split_once('=') {
        Some((key, value)) => image
            .properties
            .iter()
            .any(|(k, v)| dot_prefix_match(key, k) && value_matches(value, v)),
        None => {
            image
                .aliases
                .iter()
                .any(|a| a.name.contains(filter.as_str()))
                || image.fingerprint.contains(filter.as_str())
        }
    })
}

/// Runs `lxc image list [<remote>:] [<filter>...]`.
pub async fn run(ctx: &Ctx, args: &[String], columns: &str, format: &str) -> Result<()> {
    if check_args(&["image", "list"], args, 0, None)? {
        return Ok(());
    }
    let first = args.first().map(String::as_str).unwrap_or("");
    let (remote, name) = ctx.conf.parse_remote(first)?;
    let server = ctx.image_server(&remote).await?;
    let mut filters = Vec::new();
    if !name.is_empty() {
        filters.push(name);
    }
    filters.extend(args.iter().skip(1).cloned());
    let columns = parse_columns(columns)?;
    let images: Vec<Image> = server
        .images()
        .await?
        .into_iter()
        .filter(|i| image_should_show(&filters, i))
        .collect();
    let mut rows: Vec<Vec<String>> = images
        .iter()
        .map(|i| columns.iter().map(|(_, f)| f(i)).collect())
        .collect();
    sort_string_list(&mut rows);
    let header: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let mut raw = serde_json::to_value(&images)?;
    if format == "yaml" {
        sort_maps_at(&mut raw, &["properties"]);
        print!("{}", to_yaml_with_times(&raw, crate::cmd_image::TIME_KEYS));
        return Ok(());
    }
    sort_json_maps(&mut raw);
    render_table(format, &header, &rows, &raw)
}

/// Sorts each image's `properties` bytewise, as Go's `encoding/json` writes maps.
fn sort_json_maps(raw: &mut Value) {
    if let Value::Array(items) = raw {
        for item in items {
            if let Some(Value::Object(props)) = item.get_mut("properties") {
                let mut entries: Vec<_> = std::mem::take(props).into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                props.extend(entries);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(aliases: &[&str], props: &[(&str, &str)]) -> Image {
        Image {
            fingerprint: "d66491bd6b41a579".into(),
            aliases: aliases
                .iter()
                .map(|a| lxd_api::image::ImageAlias {
                    name: a.to_string(),
                    description: String::new(),
                })
                .collect(),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn alias_cell_several_aliases_counts_the_rest() {
        assert_eq!(
            alias_cell(&image(&["cmp-bb", "bb", "cmp-c"], &[])),
            "bb (2 more)"
        );
    }

    #[test]
    fn image_should_show_property_filter_uses_dotted_prefixes() {
        let i = image(&["x"], &[("user.name", "BusyBox")]);
        assert!(image_should_show(&["u.na=Busy.*".into()], &i));
        assert!(!image_should_show(&["user.name=Busy".into()], &i));
        assert!(image_should_show(&["d6649".into()], &i));
    }

    #[test]
    fn parse_columns_unknown_letter_errors_like_lxc() {
        let e = parse_columns("lx").err().unwrap();
        assert_eq!(e.to_string(), "Unknown column shorthand char 'x' in 'lx'");
    }
}
