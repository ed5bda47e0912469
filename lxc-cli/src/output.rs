//! Output formats shared by the list commands: tablewriter-style tables (as lxc 5.0.2 draws them
//! with olekukonko/tablewriter), compact tables, CSV without header, JSON and YAML.

use anyhow::{bail, Result};
use serde_json::Value;

use crate::yaml::to_yaml;

/// Renders rows in `format`; `raw` is what JSON and YAML print.
pub fn render_table(
    format: &str,
    header: &[&str],
    rows: &[Vec<String>],
    raw: &Value,
) -> Result<()> {
    let text = match format {
        "table" => table(header, rows, true),
        "compact" => table(header, rows, false),
        "csv" => csv(rows),
        "json" => format!("{}\n", go_json(raw)),
        "yaml" => to_yaml(raw),
        other => bail!("Invalid format {other:?}"),
    };
    print!("{text}");
    Ok(())
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad_right(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn pad_center(s: &str, w: usize) -> String {
    let gap = w.saturating_sub(width(s));
    let left = gap / 2;
    format!("{}{s}{}", " ".repeat(left), " ".repeat(gap - left))
}

/// tablewriter's `Title`: `_` and (outside numbers) `.` become spaces, then upper case.
fn title(name: &str) -> String {
    let rs: Vec<char> = name.chars().collect();
    let num_or_space = |c: char| c.is_ascii_digit() || c == ' ';
    let mapped: String = rs
        .iter()
        .enumerate()
        .map(|(i, &r)| match r {
            '_' => ' ',
            '.' if (i != 0 && !num_or_space(rs[i - 1]))
                || (i != rs.len() - 1 && !num_or_space(rs[i + 1])) =>
            {
                ' '
            }
            c => c,
        })
        .collect();
    let trimmed = mapped.trim();
    if trimmed.is_empty() && !name.is_empty() {
        return " ".into();
    }
    trimmed.to_uppercase()
}

/// Draws a table. `bordered` is lxc's `table` format (grid with row lines); otherwise the
/// `compact` format (no borders or separators).
pub fn table(header: &[&str], rows: &[Vec<String>], bordered: bool) -> String {
    let cols = header.len();
    let titles: Vec<String> = header.iter().map(|h| title(h)).collect();
    let mut widths: Vec<usize> = titles.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            for line in cell.split('\n') {
                widths[i] = widths[i].max(width(line));
            }
        }
    }
    let mut out = String::new();
    let sep_line: String = if bordered {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(w + 2));
            s.push('+');
        }
        s.push('\n');
        s
    } else {
        String::new()
    };
    let line = |cells: Vec<String>, out: &mut String| {
        if bordered {
            out.push('|');
            for c in cells {
                out.push_str(&format!(" {c} |"));
            }
        } else {
            out.push(' ');
            let n = cells.len();
            for (i, c) in cells.into_iter().enumerate() {
                out.push_str(&format!(" {c} "));
                if i + 1 == n {
                    out.push(' ');
                }
            }
        }
        out.push('\n');
    };
    out.push_str(&sep_line);
    let head = titles
        .iter()
        .zip(&widths)
        .map(|(h, w)| pad_center(h, *w))
        .collect();
    line(head, &mut out);
    out.push_str(&sep_line);
    for row in rows {
        let lines: Vec<Vec<&str>> = (0..cols)
            .map(|i| {
                row.get(i)
                    .map(|c| c.split('\n').collect())
                    .unwrap_or_default()
            })
            .collect();
        let height = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for l in 0..height {
            let cells = (0..cols)
                .map(|i| pad_right(lines[i].get(l).copied().unwrap_or(""), widths[i]))
                .collect();
            line(cells, &mut out);
        }
        out.push_str(&sep_line);
    }
    out
}

/// CSV as Go's encoding/csv writes it (no header row).
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(f: &str) -> String {
    let needs = !f.is_empty()
        && (f == "\\."
            || f.contains([',', '"', '\r', '\n'])
            || f.starts_with(|c: char| c.is_whitespace()));
    if needs {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

/// JSON as Go's encoding/json writes it: compact, with `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub fn go_json(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Sorts rows by their first column, as lxc's `byName` does.
pub fn sort_by_name(rows: &mut [Vec<String>]) {
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
}

/// lxc's `stringList` order: rows compared at their first differing column, where an empty
/// cell sorts after any text.
pub fn sort_string_list(rows: &mut [Vec<String>]) {
    rows.sort_by(|a, b| {
        let x = (0..a.len().min(b.len()))
            .find(|&x| a[x] != b[x])
            .unwrap_or(a.len().min(b.len()).saturating_sub(1));
        let (l, r) = (
            a.get(x).map(String::as_str).unwrap_or(""),
            b.get(x).map(String::as_str).unwrap_or(""),
        );
        match (l.is_empty(), r.is_empty()) {
            _ if l == r => std::cmp::Ordering::Equal,
            (true, _) => std::cmp::Ordering::Greater,
            (_, true) => std::cmp::Ordering::Less,
            _ => l.cmp(r),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_profile_list_matches_capture() {
        let rows = vec![
            vec!["default".into(), "Default LXD profile".into(), "1".into()],
            vec!["p1".into(), String::new(), "0".into()],
        ];
        let want = "+---------+---------------------+---------+\n|  NAME   |     DESCRIPTION     | USED BY |\n+---------+---------------------+---------+\n| default | Default LXD profile | 1       |\n+---------+---------------------+---------+\n| p1      |                     | 0       |\n+---------+---------------------+---------+\n";
        assert_eq!(
            table(&["NAME", "DESCRIPTION", "USED BY"], &rows, true),
            want
        );
    }

    #[test]
    fn table_compact_matches_capture() {
        let rows = vec![vec![
            "default".into(),
            "Default LXD profile".into(),
            "0".into(),
        ]];
        let want = "   NAME        DESCRIPTION      USED BY  \n  default  Default LXD profile  0        \n";
        assert_eq!(
            table(&["NAME", "DESCRIPTION", "USED BY"], &rows, false),
            want
        );
    }

    #[test]
    fn title_dotted_key_becomes_spaced_upper_case() {
        assert_eq!(title("root.size"), "ROOT SIZE");
        assert_eq!(title("v1.5"), "V1.5");
        assert_eq!(title("1.5"), "1.5");
    }

    #[test]
    fn table_empty_alias_list_has_header_only() {
        let want = "+-------+--------+\n| ALIAS | TARGET |\n+-------+--------+\n";
        assert_eq!(table(&["ALIAS", "TARGET"], &[], true), want);
    }

    #[test]
    fn sort_string_list_empty_cells_sort_last() {
        let mut rows = vec![
            vec![String::new(), "b".into()],
            vec!["a".into(), "c".into()],
        ];
        sort_string_list(&mut rows);
        assert_eq!(rows[0][0], "a");
    }

    #[test]
    fn csv_field_with_comma_is_quoted() {
        assert_eq!(csv(&[vec!["a,b".into(), "c".into()]]), "\"a,b\",c\n");
    }

    #[test]
    fn go_json_html_chars_are_escaped() {
        assert_eq!(
            go_json(&serde_json::json!({"a": "<&>"})),
            r#"{"a":"\u003c\u0026\u003e"}"#
        );
    }
}
