//! Running external tools (`nft`, `btrfs`, `apparmor_parser` ...) behind a trait.
//!
//! Logic takes a `&dyn CommandRunner`: [`RealCommandRunner`] spawns processes in the C locale,
//! [`RecordingCommandRunner`] answers from a script and records every call, so callers are unit
//! tested without the tools installed. This module never interprets a tool's output.

use std::collections::VecDeque;
use std::process::Command;
use std::sync::Mutex;

/// Why a command could not be run or failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("Failed to start {program:?}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Command {program:?} exited with status {status}: {stderr}")]
    Failed {
        program: String,
        status: i32,
        stderr: String,
    },
}

/// Runs a program to completion and returns its standard output.
pub trait CommandRunner: Send + Sync {
    /// Run `program` with `args`; `Ok(stdout)` only when it exits with status 0.
    fn run(&self, program: &str, args: &[&str]) -> Result<String, CommandError>;
}

/// Spawns real processes (`LC_ALL=C`, stdin closed).
#[derive(Debug, Default, Clone, Copy)]
pub struct RealCommandRunner;

impl CommandRunner for RealCommandRunner {
    fn run(&self, program: &str, args: &[&str]) -> Result<String, CommandError> {
        let output = Command::new(program)
            .args(args)
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|source| CommandError::Spawn {
                program: program.to_string(),
                source,
            })?;
        if !output.status.success() {
            return Err(CommandError::Failed {
                program: program.to_string(),
                status: output.status.code().unwrap_or(-1),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// One scripted answer of the fake: `Ok(stdout)` or `Err((status, stderr))`.
pub type ScriptedAnswer = Result<String, (i32, String)>;

/// A fake that records calls and replays scripted answers in order.
///
/// When the script is exhausted every further call fails as if the program were missing.
#[derive(Debug, Default)]
pub struct RecordingCommandRunner {
    answers: Mutex<VecDeque<ScriptedAnswer>>,
    calls: Mutex<Vec<Vec<String>>>,
}

impl RecordingCommandRunner {
    /// A fake that answers the next calls with `answers`, in order.
    pub fn new(answers: Vec<ScriptedAnswer>) -> Self {
        Self {
            answers: Mutex::new(answers.into()),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Every call so far, each as `[program, args...]`.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl CommandRunner for RecordingCommandRunner {
    fn run(&self, program: &str, args: &[&str]) -> Result<String, CommandError> {
        if let Ok(mut calls) = self.calls.lock() {
            let mut call = vec![program.to_string()];
            call.extend(args.iter().map(|a| a.to_string()));
            calls.push(call);
        }
        let answer = self.answers.lock().ok().and_then(|mut a| a.pop_front());
        match answer {
            Some(Ok(stdout)) => Ok(stdout),
            Some(Err((status, stderr))) => Err(CommandError::Failed {
                program: program.to_string(),
                status,
                stderr,
            }),
            None => Err(CommandError::Spawn {
                program: program.to_string(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_runner_scripted_answers_replayed_and_recorded() {
        let fake = RecordingCommandRunner::new(vec![Ok("v1\n".into()), Err((1, "no".into()))]);
        assert_eq!(fake.run("nft", &["--version"]).unwrap(), "v1\n");
        assert!(matches!(
            fake.run("nft", &["list"]),
            Err(CommandError::Failed { status: 1, .. })
        ));
        assert!(matches!(
            fake.run("x", &[]),
            Err(CommandError::Spawn { .. })
        ));
        assert_eq!(fake.calls()[0], vec!["nft", "--version"]);
        assert_eq!(fake.calls().len(), 3);
    }

    #[test]
    fn real_runner_missing_program_spawn_error() {
        let err = RealCommandRunner
            .run("/nonexistent/lxd-sys-test-program", &[])
            .unwrap_err();
        assert!(matches!(err, CommandError::Spawn { .. }));
        assert!(err.to_string().starts_with("Failed to start"));
    }
}
