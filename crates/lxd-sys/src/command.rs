//! Running external tools (`nft`, `btrfs`, `apparmor_parser` ...) behind a trait.
//!
//! Logic takes a `&dyn CommandRunner`: [`RealCommandRunner`] spawns processes in the C locale,
//! [`RecordingCommandRunner`] answers from a script and records every call, so callers are unit
//! tested without the tools installed. This module never interprets a tool's output.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
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

    /// Run `program` with `args`, feeding `input` to its standard input and copying its standard
    /// output into `output` as it comes (nothing is held in memory beyond a small buffer); an
    /// absent `input` closes stdin, an absent `output` discards stdout. `Ok` only on status 0.
    fn run_streaming(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&mut (dyn Read + Send)>,
        output: Option<&mut dyn Write>,
    ) -> Result<(), CommandError>;
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

    fn run_streaming(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&mut (dyn Read + Send)>,
        output: Option<&mut dyn Write>,
    ) -> Result<(), CommandError> {
        let spawn_error = |source| CommandError::Spawn {
            program: program.to_string(),
            source,
        };
        let mut child = Command::new(program)
            .args(args)
            .env("LC_ALL", "C")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(if output.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let (copied, stderr_text) = std::thread::scope(|scope| {
            let feeder = input.zip(stdin).map(|(input, mut stdin)| {
                scope.spawn(move || {
                    // A child that stops reading early ends the copy with EPIPE; its exit status
                    // tells what went wrong.
                    let _ = std::io::copy(input, &mut stdin);
                })
            });
            let errors = scope.spawn(move || {
                let mut text = String::new();
                if let Some(stderr) = stderr.as_mut() {
                    let _ = stderr.read_to_string(&mut text);
                }
                text
            });
            let copied = match (output, stdout) {
                (Some(out), Some(mut stdout)) => std::io::copy(&mut stdout, out).map(|_| ()),
                _ => Ok(()),
            };
            if copied.is_err() {
                // Nobody reads the child's output any more: stop it so the feeder ends too.
                let _ = child.kill();
            }
            if let Some(feeder) = feeder {
                let _ = feeder.join();
            }
            (copied, errors.join().unwrap_or_default())
        });
        let status = child.wait().map_err(spawn_error)?;
        if !status.success() {
            return Err(CommandError::Failed {
                program: program.to_string(),
                status: status.code().unwrap_or(-1),
                stderr: stderr_text.trim().to_string(),
            });
        }
        copied.map_err(spawn_error)
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
    inputs: Mutex<Vec<Vec<u8>>>,
}

impl RecordingCommandRunner {
    /// A fake that answers the next calls with `answers`, in order.
    pub fn new(answers: Vec<ScriptedAnswer>) -> Self {
        Self {
            answers: Mutex::new(answers.into()),
            calls: Mutex::new(Vec::new()),
            inputs: Mutex::new(Vec::new()),
        }
    }

    /// Bytes each streaming call read from its input, in call order.
    pub fn streamed_input(&self) -> Vec<Vec<u8>> {
        self.inputs.lock().map(|c| c.clone()).unwrap_or_default()
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

    /// Records the call and the whole input, then writes the scripted stdout into `output`.
    fn run_streaming(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&mut (dyn Read + Send)>,
        output: Option<&mut dyn Write>,
    ) -> Result<(), CommandError> {
        let mut data = Vec::new();
        if let Some(input) = input {
            let _ = input.read_to_end(&mut data);
        }
        if let Ok(mut inputs) = self.inputs.lock() {
            inputs.push(data);
        }
        let stdout = self.run(program, args)?;
        if let Some(out) = output {
            out.write_all(stdout.as_bytes())
                .map_err(|source| CommandError::Spawn {
                    program: program.to_string(),
                    source,
                })?;
        }
        Ok(())
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
    fn real_runner_streaming_pipes_input_to_output() {
        let mut input: &[u8] = b"line one\nline two\n";
        let mut out = Vec::new();
        RealCommandRunner
            .run_streaming("cat", &[], Some(&mut input), Some(&mut out))
            .unwrap();
        assert_eq!(out, b"line one\nline two\n");
        let err = RealCommandRunner
            .run_streaming("sh", &["-c", "echo bad >&2; exit 3"], None, None)
            .unwrap_err();
        assert!(
            matches!(err, CommandError::Failed { status: 3, ref stderr, .. } if stderr == "bad")
        );
    }

    #[test]
    fn recording_runner_streaming_records_input_and_writes_stdout() {
        let fake = RecordingCommandRunner::new(vec![Ok("stream".into())]);
        let mut input: &[u8] = b"abc";
        let mut out = Vec::new();
        fake.run_streaming("btrfs", &["receive"], Some(&mut input), Some(&mut out))
            .unwrap();
        assert_eq!(out, b"stream");
        assert_eq!(fake.streamed_input(), vec![b"abc".to_vec()]);
        assert_eq!(fake.calls()[0], vec!["btrfs", "receive"]);
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
