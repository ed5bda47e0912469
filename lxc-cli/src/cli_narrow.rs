//! A faster parse for the verbs users type most: building lxc's whole clap tree (every verb,
//! every flag, their help texts) is a good part of the client's start-up, so a command line
//! whose first argument names one of these verbs is first parsed with a tree holding only that
//! verb. Only a successful parse is used; anything else (help, errors, aliases such as `ls`,
//! global flags before the verb) goes through the full tree, which words it as lxc does.

use clap::{ArgAction, Args, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::global::GlobalFlags;

/// The verb's name, its sub-command tree and how its matches become a [`Command`].
type Verb = (
    &'static str,
    fn(clap::Command) -> clap::Command,
    fn(&clap::ArgMatches) -> Result<Command, clap::Error>,
);

/// The verbs parsed this way, by name.
fn verb(name: &str) -> Option<Verb> {
    macro_rules! verbs {
        ($($name:literal => $variant:ident($ty:ty)),* $(,)?) => {
            match name {
                $($name => Some(($name, <$ty>::augment_args, |m| {
                    <$ty>::from_arg_matches(m).map(Command::$variant)
                })),)*
                _ => None,
            }
        };
    }
    verbs! {
        "exec" => Exec(crate::cmd_exec::ExecCmd),
        "list" => List(crate::cmd_list::ListCmd),
        "launch" => Launch(crate::cmd_launch::LaunchCmd),
        "init" => Init(crate::cmd_launch::InitCmd),
        "start" => Start(crate::cmd_action::StartCmd),
        "stop" => Stop(crate::cmd_action::StopCmd),
        "restart" => Restart(crate::cmd_action::RestartCmd),
        "delete" => Delete(crate::cmd_delete::DeleteCmd),
        "info" => Info(crate::cmd_info::InfoCmd),
        "query" => Query(crate::cmd_query::QueryCmd),
    }
}

/// The root of [`Cli`] without its verbs: the global flags and `--version`.
fn root() -> clap::Command {
    let root = clap::Command::new("lxc")
        .disable_version_flag(true)
        .disable_help_subcommand(true);
    GlobalFlags::augment_args(root).arg(
        clap::Arg::new("version")
            .long("version")
            .global(true)
            .action(ArgAction::SetTrue),
    )
}

/// `args` parsed with a tree of only the verb it starts with, when that is one of the verbs
/// above and the parse succeeds.
pub fn parse(args: &[String]) -> Option<Cli> {
    if let Some(cli) = plain_exec(args) {
        return Some(cli);
    }
    let name = args.get(1)?;
    let (name, augment, build) = verb(name)?;
    let tree = root().subcommand(augment(clap::Command::new(name)));
    let matches = tree.try_get_matches_from(args).ok()?;
    let (_, sub) = matches.subcommand()?;
    Some(Cli {
        global: GlobalFlags::from_arg_matches(&matches).ok()?,
        version: matches.get_flag("version"),
        command: Some(build(sub).ok()?),
    })
}

/// `lxc exec NAME -- COMMAND...` without a flag, the form scripts type most, read without
/// clap at all: what clap makes of it is known (every word after `--` is the command's).
fn plain_exec(args: &[String]) -> Option<Cli> {
    let [_, verb, name, dashes, command @ ..] = args else {
        return None;
    };
    let plain = verb == "exec" && !name.starts_with('-') && dashes == "--" && !command.is_empty();
    if !plain {
        return None;
    }
    let mut words = vec![name.clone()];
    words.extend_from_slice(command);
    Some(Cli {
        global: GlobalFlags::default(),
        version: false,
        command: Some(Command::Exec(crate::cmd_exec::ExecCmd::plain(words))),
    })
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use crate::cli::Cli;

    fn full(line: &str) -> Option<String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        let m = Cli::command().try_get_matches_from(&args).ok()?;
        Cli::from_arg_matches(&m).ok().map(|c| format!("{c:?}"))
    }

    fn narrow(line: &str) -> Option<String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        super::parse(&args).map(|c| format!("{c:?}"))
    }

    #[test]
    fn narrowed_parse_equals_the_full_one() {
        for line in [
            "lxc exec c1 -- sh -c true",
            "lxc exec c1 --env A=b --cwd /tmp -T --project p -- ls -l",
            "lxc exec remote:c1 --user 1000 --group 1000 -t -q -- id",
            "lxc list",
            "lxc list -c ns4 --format csv status=running --fast",
            "lxc launch bb c1 -p default -c limits.memory=1GB --ephemeral -q",
            "lxc init bb c2 --storage default --no-profiles",
            "lxc start c1 c2 --debug",
            "lxc stop c1 -f --timeout 5",
            "lxc restart --all --force",
            "lxc delete -f -i c1",
            "lxc info c1 --show-log --resources",
            "lxc query -X POST -d {} /1.0/instances --wait",
            "lxc list --version",
            "lxc exec",
        ] {
            assert!(full(line).is_some(), "{line}: not a valid command line");
            assert_eq!(narrow(line), full(line), "{line}");
        }
    }

    #[test]
    fn plain_exec_lines_skip_clap_and_equal_the_full_parse() {
        for line in [
            "lxc exec c1 -- true",
            "lxc exec remote:c1 -- sh -c echo",
            "lxc exec c1 -- --help -x --",
        ] {
            let args: Vec<String> = line.split_whitespace().map(String::from).collect();
            let fast = super::plain_exec(&args).map(|c| format!("{c:?}"));
            assert!(fast.is_some(), "{line}: not taken as plain");
            assert_eq!(fast, full(line), "{line}");
        }
        for line in [
            "lxc exec c1 --",
            "lxc exec -T c1 -- true",
            "lxc exec c1 -T -- true",
            "lxc exec c1 true",
            "lxc list c1 -- true",
        ] {
            let args: Vec<String> = line.split_whitespace().map(String::from).collect();
            assert!(super::plain_exec(&args).is_none(), "{line}");
        }
    }

    #[test]
    fn other_lines_fall_back_to_the_full_tree() {
        for line in [
            "lxc ls",
            "lxc --project p exec c1 -- true",
            "lxc exec c1 --nope -- true",
            "lxc list --help",
            "lxc profile list",
        ] {
            assert_eq!(narrow(line), None, "{line}");
        }
    }
}
