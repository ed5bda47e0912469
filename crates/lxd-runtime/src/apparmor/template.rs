//! The small line-oriented template language of the profiles in `profiles/` (its notation is
//! described at the top of `profiles/container.profile`): conditional sections on flags, blocks
//! repeated over "everything except" globs, generated deny lists, `{{var}}` substitution and
//! the raw lines the user appends. Pure: text in, text out.

use std::collections::{BTreeMap, BTreeSet};

use super::globs::{everything_under_except, paths_except};

/// Why a template could not be rendered (a bug in a profile template, never user input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("Line {line}: unknown directive {directive:?}")]
    UnknownDirective { line: usize, directive: String },
    #[error("Line {line}: unknown variable {name:?}")]
    UnknownVariable { line: usize, name: String },
    #[error("Line {line}: {what}")]
    Structure { line: usize, what: &'static str },
    #[error("Line {line}: {source}")]
    Globs {
        line: usize,
        #[source]
        source: super::globs::NotBelowRoot,
    },
}

/// What a template is rendered with.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Flags that are set (`%if FLAG`).
    pub flags: BTreeSet<&'static str>,
    /// `{{name}}` values.
    pub vars: BTreeMap<&'static str, String>,
    /// The lines `%raw` inserts, each indented by two spaces.
    pub raw: Vec<String>,
}

enum Frame {
    /// An `%if`: whether its current branch is taken.
    If { taken: bool, seen_else: bool },
    /// A `%paths-except` block being collected.
    Paths {
        globs: Vec<String>,
        lines: Vec<(usize, String)>,
    },
}

struct Renderer<'a> {
    ctx: &'a Context,
    stack: Vec<Frame>,
    out: Vec<String>,
}

impl Renderer<'_> {
    fn active(&self) -> bool {
        self.stack.iter().all(|f| match f {
            Frame::If { taken, .. } => *taken,
            Frame::Paths { .. } => true,
        })
    }

    fn substitute(&self, line_no: usize, text: &str) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = &after[..end];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                let value =
                    self.ctx
                        .vars
                        .get(name)
                        .ok_or_else(|| TemplateError::UnknownVariable {
                            line: line_no,
                            name: name.to_string(),
                        })?;
                out.push_str(value);
            } else {
                out.push_str(&rest[start..start + 2 + end + 2]);
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn directive(&mut self, line_no: usize, text: &str) -> Result<(), TemplateError> {
        if text.starts_with("%#") {
            return Ok(());
        }
        let mut words = text.split_whitespace();
        let keyword = words.next().unwrap_or("");
        let structure = |what| TemplateError::Structure {
            line: line_no,
            what,
        };
        if matches!(self.stack.last(), Some(Frame::Paths { .. })) && keyword != "%end" {
            return Err(structure("only lines and %end may appear in %paths-except"));
        }
        match keyword {
            "%if" => {
                let flag = words.next().ok_or(structure("%if without a flag"))?;
                let taken = match flag.strip_prefix('!') {
                    Some(f) => !self.ctx.flags.contains(f),
                    None => self.ctx.flags.contains(flag),
                };
                self.stack.push(Frame::If {
                    taken,
                    seen_else: false,
                });
            }
            "%else" => match self.stack.last_mut() {
                Some(Frame::If { taken, seen_else }) if !*seen_else => {
                    *taken = !*taken;
                    *seen_else = true;
                }
                _ => return Err(structure("%else without %if")),
            },
            "%end" => match self.stack.pop() {
                Some(Frame::If { .. }) => {}
                Some(Frame::Paths { globs, lines }) => {
                    if self.active() {
                        for (no, line) in &lines {
                            for glob in &globs {
                                let line = self.substitute(*no, &line.replace("{{path}}", glob))?;
                                self.out.push(line);
                            }
                        }
                    }
                }
                None => return Err(structure("%end without an open section")),
            },
            "%paths-except" => {
                let excluded: Vec<&str> = words.collect();
                self.stack.push(Frame::Paths {
                    globs: paths_except(&excluded),
                    lines: Vec::new(),
                });
            }
            "%deny-writes-under" => {
                let root = words
                    .next()
                    .ok_or(structure("%deny-writes-under needs a root"))?;
                if words.next() != Some("except") {
                    return Err(structure("%deny-writes-under ROOT except ..."));
                }
                let kept: Vec<&str> = words.collect();
                let globs = everything_under_except(root, &kept).map_err(|source| {
                    TemplateError::Globs {
                        line: line_no,
                        source,
                    }
                })?;
                if self.active() {
                    self.out
                        .extend(globs.into_iter().map(|g| format!("  deny {g} wklx,")));
                }
            }
            "%raw" => {
                if self.active() {
                    self.out
                        .extend(self.ctx.raw.iter().map(|line| format!("  {line}")));
                }
            }
            other => {
                return Err(TemplateError::UnknownDirective {
                    line: line_no,
                    directive: other.to_string(),
                })
            }
        }
        Ok(())
    }
}

/// Render `template` with `ctx`.
pub fn render(template: &str, ctx: &Context) -> Result<String, TemplateError> {
    let mut r = Renderer {
        ctx,
        stack: Vec::new(),
        out: Vec::new(),
    };
    for (i, line) in template.lines().enumerate() {
        let line_no = i + 1;
        if line.starts_with('%') {
            r.directive(line_no, line)?;
        } else if let Some(Frame::Paths { lines, .. }) = r.stack.last_mut() {
            lines.push((line_no, line.to_string()));
        } else if r.active() {
            let line = r.substitute(line_no, line)?;
            r.out.push(line);
        }
    }
    if !r.stack.is_empty() {
        return Err(TemplateError::Structure {
            line: template.lines().count(),
            what: "a section is not closed with %end",
        });
    }
    let mut text = r.out.join("\n");
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(flags: &[&'static str]) -> Context {
        Context {
            flags: flags.iter().copied().collect(),
            vars: [("name", "p1".to_string())].into(),
            raw: vec!["ptrace,".into()],
        }
    }

    #[test]
    fn render_if_else_nested_sections() {
        let t = "a {{name}}\n%if x\nx\n%if !y\nnot y\n%end\n%else\nnot x\n%end\n%if y\ny\n%end\n";
        assert_eq!(render(t, &ctx(&["x"])).unwrap(), "a p1\nx\nnot y\n");
        assert_eq!(render(t, &ctx(&["x", "y"])).unwrap(), "a p1\nx\ny\n");
        assert_eq!(render(t, &ctx(&[])).unwrap(), "a p1\nnot x\n");
    }

    #[test]
    fn render_paths_block_repeats_each_line_per_glob() {
        let t = "%paths-except /proc /sys\n  a {{path}},\n  b {{path}},\n%end\n";
        let out = render(t, &ctx(&[])).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2 * 8);
        assert_eq!(lines[0], "  a /[^ps]*{,/**},");
        assert_eq!(lines[7], "  a /sys?*{,/**},");
        assert_eq!(lines[8], "  b /[^ps]*{,/**},");
    }

    #[test]
    fn render_deny_and_raw_and_template_comments() {
        let t = "%# dropped\n%deny-writes-under /x/ except /x/a\n%raw\n";
        assert_eq!(
            render(t, &ctx(&[])).unwrap(),
            "  deny /x/[^a]*{,/**} wklx,\n  deny /x/a?*{,/**} wklx,\n  ptrace,\n"
        );
    }

    #[test]
    fn render_apparmor_braces_left_alone() {
        let t = "deny /a/{,**} rw,\nsignal peer=@{profile_name},\n";
        assert_eq!(render(t, &ctx(&[])).unwrap(), t);
    }

    #[test]
    fn render_broken_templates_refused() {
        assert!(matches!(
            render("%if x\n", &ctx(&[])),
            Err(TemplateError::Structure { .. })
        ));
        assert!(matches!(
            render("%end\n", &ctx(&[])),
            Err(TemplateError::Structure { .. })
        ));
        assert!(matches!(
            render("%bogus\n", &ctx(&[])),
            Err(TemplateError::UnknownDirective { line: 1, .. })
        ));
        assert_eq!(
            render("x {{nope}}\n", &ctx(&[])).unwrap_err().to_string(),
            "Line 1: unknown variable \"nope\""
        );
        assert!(render("%paths-except /a\n%if x\n%end\n", &ctx(&[])).is_err());
    }
}
