//! `edit` sub-commands: YAML from stdin when it is not a terminal, otherwise lxc's text-editor
//! loop (`$VISUAL`, `$EDITOR`, then editor/vi/emacs/nano; re-open on error with the user's text).

use std::future::Future;
use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{anyhow, bail, Result};

/// True when stdin is a terminal (interactive edit).
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Reads all of stdin.
pub fn read_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s)
}

fn find_editor() -> Result<String> {
    for var in ["VISUAL", "EDITOR"] {
        if let Ok(e) = std::env::var(var) {
            if !e.is_empty() {
                return Ok(e);
            }
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    for name in ["editor", "vi", "emacs", "nano"] {
        if path.split(':').any(|d| Path::new(d).join(name).is_file()) {
            return Ok(name.to_string());
        }
    }
    bail!("No text editor found, please set the EDITOR environment variable")
}

/// Opens the editor on `content` in a temporary `lxd_editor_*.yaml` file; returns the result.
pub fn text_editor(content: &str) -> Result<String> {
    let editor = find_editor()?;
    let path = std::env::temp_dir().join(format!("lxd_editor_{}.yaml", std::process::id()));
    std::fs::write(&path, content)?;
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(&path)
        .status();
    let result = match status {
        Ok(s) if s.success() => std::fs::read_to_string(&path).map_err(Into::into),
        Ok(s) => Err(anyhow!("exit status {}", s.code().unwrap_or(1))),
        Err(e) => Err(e.into()),
    };
    let _ = std::fs::remove_file(&path);
    result
}

/// Opens the editor on an existing file in place (Go's `TextEditor(path, nil)`).
pub fn edit_file(path: &str) -> Result<()> {
    let editor = find_editor()?;
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(path)
        .status()?;
    if !status.success() {
        return Err(anyhow!("exit status {}", status.code().unwrap_or(1)));
    }
    Ok(())
}

/// The interactive loop: edit `header + "\n\n" + yaml`, apply, re-open on error.
pub async fn edit_loop<F, Fut>(header: &str, yaml: &str, mut apply: F) -> Result<()>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut content = text_editor(&format!("{header}\n\n{yaml}"))?;
    loop {
        match apply(content.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                eprintln!("Config parsing error: {e}");
                println!("Press enter to open the editor again or ctrl+c to abort change");
                let mut buf = [0u8; 1];
                std::io::stdin().read_exact(&mut buf)?;
                content = text_editor(&content)?;
            }
        }
    }
}

/// Decodes YAML text as lxc's `yaml.Unmarshal` into the Go type `schema` would, then into `T`.
pub fn decode_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    schema: crate::go_yaml::Schema,
) -> Result<T> {
    let v = crate::go_yaml::decode(text, schema).map_err(|e| anyhow!(e))?;
    serde_json::from_value(v).map_err(|e| anyhow!("{e}"))
}

/// Parses YAML text into `T` (lines starting with `#` are comments in YAML already).
pub fn parse_yaml<T: serde::de::DeserializeOwned + Default>(text: &str) -> Result<T> {
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    yaml_serde::from_str(text).map_err(|e| anyhow!("{e}"))
}
