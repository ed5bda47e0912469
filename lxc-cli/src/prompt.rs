//! Questions asked on the terminal as lxc 5.0.2 asks them: a line read from stdin
//! (`shared.ReadStdin`), a password read without echo when stdin is a terminal
//! (`term.ReadPassword`, falling back to a plain line), and a choice among names
//! (`cli.AskChoice`). Questions go to stdout, complaints to stderr.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Result};

/// Prints `text` on stdout without a newline and flushes it.
pub fn print_flush(text: &str) {
    print!("{text}");
    let _ = std::io::stdout().flush();
}

/// One line of stdin without its line ending; `EOF` when stdin is closed before any byte.
pub fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    let n = std::io::stdin().lock().read_line(&mut line)?;
    if n == 0 {
        bail!("EOF");
    }
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string())
}

/// Runs `stty` on the terminal behind stdin; true when it succeeded.
fn stty(args: &[&str]) -> bool {
    std::process::Command::new("stty")
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Asks for a password: `question` on stdout, the answer read without echo from a terminal
/// (or as a plain line from a pipe), then a newline, as `lxc remote add` does.
pub fn ask_password(question: &str) -> Result<String> {
    print_flush(question);
    let hidden = std::io::stdin().is_terminal() && stty(&["-echo"]);
    let answer = read_stdin_line();
    if hidden {
        stty(&["echo"]);
    }
    println!();
    answer
}

/// Asks until the answer is one of `choices` (empty = `default`), complaining on stderr.
pub fn ask_choice(question: &str, choices: &[String], default: &str) -> Result<String> {
    loop {
        print_flush(question);
        let mut line = String::new();
        let n = std::io::stdin().lock().read_line(&mut line)?;
        let mut answer = line.trim().to_string();
        if answer.is_empty() {
            answer = default.to_string();
        }
        if choices.contains(&answer) {
            return Ok(answer);
        }
        if n == 0 {
            bail!("EOF");
        }
        eprint!("Invalid input, try again.\n\n");
    }
}
