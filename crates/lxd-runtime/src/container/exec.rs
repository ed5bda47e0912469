//! Running a command inside a running container (LXD's `forkexec`): from a single-threaded
//! helper, join the container's cgroups and pid namespace through init's `/proc` entries,
//! fork into them, join the other namespaces, take the requested identity, and exec.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{setgroups, setresgid, setresuid, ForkResult, Gid, Pid, Uid};

use super::SeccompProgram;

/// A command to run in a container.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExecSpec {
    /// The container's runtime name (`<project>_<name>` outside the default project); its
    /// cgroups are named after it.
    #[serde(default)]
    pub name: String,
    pub init_pid: i32,
    pub argv: Vec<String>,
    /// `KEY=value` pairs.
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    /// The instance's expanded config (for its seccomp policy).
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// stdin is a terminal the command takes as its controlling terminal, in a new session.
    #[serde(default)]
    pub pty: bool,
}

/// Why the command could not be started (its own failures are its exit status).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("Failed to open the {0} namespace of the container")]
    OpenNamespace(&'static str, #[source] std::io::Error),
    #[error("Failed to join the {0} namespace of the container")]
    Join(&'static str, #[source] nix::Error),
    #[error("Failed to join the namespaces of the container")]
    JoinAll(#[source] nix::Error),
    #[error("Failed to join the container's cgroups: {0}")]
    Cgroup(String),
    #[error(transparent)]
    Spawn(#[from] lxd_sys::spawn::SpawnError),
    #[error("{0}")]
    AppArmor(String),
    #[error("Failed to wait for the command")]
    Wait(#[source] nix::Error),
    #[error("The command was called off before it started")]
    CalledOff,
}

/// Namespaces joined, in order: the user namespace first, so the others are joined with the
/// capabilities it grants.
const NAMESPACES: &[(&str, CloneFlags)] = &[
    ("user", CloneFlags::CLONE_NEWUSER),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("net", CloneFlags::CLONE_NEWNET),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
];

fn same_namespace(pid: i32, name: &str) -> bool {
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{name}"));
    let ours = std::fs::read_link(format!("/proc/self/ns/{name}"));
    matches!((theirs, ours), (Ok(a), Ok(b)) if a == b)
}

/// The container's namespaces, held open by the helper: through a pidfd of init, which joins
/// several at once (Linux 5.8), or as one `/proc/PID/ns` file each.
enum Namespaces {
    /// init's pidfd, and the namespaces the command joins through it (the helper has joined
    /// the pid namespace already).
    Pidfd(OwnedFd, CloneFlags),
    /// The namespaces that differ from ours, opened one by one.
    Files(Vec<(&'static str, File, CloneFlags)>),
}

impl Namespaces {
    /// Open init's namespaces and join its pid namespace, as the host's root (so the command
    /// can still be started in the container's v2 cgroup).
    fn join_pid(init_pid: i32) -> Result<Self, ExecError> {
        if let Some(pidfd) = Self::pidfd(init_pid) {
            // Only the user namespace may not be joined when it is already ours.
            let mut rest = CloneFlags::empty();
            for (name, flag) in NAMESPACES {
                if *flag == CloneFlags::CLONE_NEWPID
                    || (*flag == CloneFlags::CLONE_NEWUSER && same_namespace(init_pid, name))
                {
                    continue;
                }
                rest |= *flag;
            }
            return Ok(Self::Pidfd(pidfd, rest));
        }
        let mut files = Vec::new();
        for (name, flag) in NAMESPACES {
            if same_namespace(init_pid, name) {
                continue;
            }
            let file = File::open(format!("/proc/{init_pid}/ns/{name}"))
                .map_err(|e| ExecError::OpenNamespace(name, e))?;
            files.push((*name, file, *flag));
        }
        if let Some(i) = files.iter().position(|(name, ..)| *name == "pid") {
            let (name, file, flag) = files.remove(i);
            setns(&file, flag).map_err(|e| ExecError::Join(name, e))?;
        }
        Ok(Self::Files(files))
    }

    /// init's pidfd, once it has joined us to init's pid namespace; `None` where pidfds
    /// cannot join namespaces (or init is gone, which the files then report).
    fn pidfd(init_pid: i32) -> Option<OwnedFd> {
        let pidfd = lxd_sys::proc::pidfd_open(Pid::from_raw(init_pid)).ok()?;
        setns(&pidfd, CloneFlags::CLONE_NEWPID).ok()?;
        Some(pidfd)
    }

    /// In the command's process: join the remaining namespaces.
    fn join_rest(&self) -> Result<(), ExecError> {
        match self {
            Self::Pidfd(pidfd, rest) => setns(pidfd, *rest).map_err(ExecError::JoinAll),
            Self::Files(files) => {
                for (name, file, flag) in files {
                    setns(file, *flag).map_err(|e| ExecError::Join(name, e))?;
                }
                Ok(())
            }
        }
    }
}

/// How an exec helper joins the container's cgroups before it enters its namespaces: it
/// moves itself into the v1 hierarchies and returns the v2 directory (if any), where the
/// command is started.
pub type JoinCgroups<'a> = &'a mut dyn FnMut() -> Result<Option<OwnedFd>, String>;

/// Run `spec` in the container and return its exit status (127 when the command does not
/// exist, 126 when it cannot be executed, 128 + N when killed by signal N).
/// `started` is told the command's pid (as the host sees it) once it runs, so the caller can
/// forward signals to it.
pub fn run(
    spec: &ExecSpec,
    join_cgroups: JoinCgroups<'_>,
    started: &mut dyn FnMut(Pid),
) -> Result<i32, ExecError> {
    let filter = super::seccomp_program(&spec.config);
    run_gated(spec, &filter, join_cgroups, &mut || true, started)
}

/// [`run`] under `filter` (from [`super::seccomp_program`]), with the command held back once everything
/// is prepared until `go` says whether to run it: the caller prepares a command while its
/// client is still connecting.
///
/// The helper joins the container's pid namespace as the host's root, so its child (the
/// command) can start straight in the container's v2 cgroup; the child then joins the user
/// namespace and the others.
pub fn run_gated(
    spec: &ExecSpec,
    filter: &SeccompProgram,
    join_cgroups: JoinCgroups<'_>,
    go: &mut dyn FnMut() -> bool,
    started: &mut dyn FnMut(Pid),
) -> Result<i32, ExecError> {
    // Checked here: once inside the container's mount namespace, /proc is the container's.
    let single = lxd_sys::spawn::SingleThreaded::check()?;
    // AppArmor: the command execs under init's label (read and set through the host's /proc,
    // before the container's mount namespace is joined).
    crate::apparmor::follow_init_label(std::path::Path::new("/proc"), spec.init_pid)
        .map_err(|e| ExecError::AppArmor(e.to_string()))?;
    let v2 = join_cgroups().map_err(ExecError::Cgroup)?;
    let namespaces = Namespaces::join_pid(spec.init_pid)?;
    let command = Command::prepare(spec);
    if !go() {
        return Err(ExecError::CalledOff);
    }
    let forked = match &v2 {
        Some(dir) => lxd_sys::spawn::fork_into_cgroup(&single, dir.as_fd())?,
        None => lxd_sys::spawn::fork_checked(&single)?,
    };
    match forked {
        ForkResult::Child => {
            if let Err(e) = namespaces.join_rest() {
                eprintln!("Error: {e}");
                std::process::exit(1);
            }
            drop(namespaces);
            std::process::exit(exec_child(spec, &command, filter))
        }
        ForkResult::Parent { child } => {
            drop(namespaces);
            started(child);
            // Only the command holds its stdio now, so whoever reads its output sees the end
            // as soon as the command's own copies are gone, not once this helper has exited.
            release_stdio();
            loop {
                match waitpid(child, None) {
                    Ok(status) => {
                        if let Some(code) = super::monitor::exit_code(status) {
                            return Ok(code);
                        }
                    }
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(ExecError::Wait(e)),
                }
            }
        }
    }
}

/// Point stdin, stdout and stderr at `/dev/null`.
fn release_stdio() {
    let Ok(null) = File::options().read(true).write(true).open("/dev/null") else {
        return;
    };
    let _ = nix::unistd::dup2_stdin(&null)
        .and_then(|()| nix::unistd::dup2_stdout(&null))
        .and_then(|()| nix::unistd::dup2_stderr(&null));
}

/// The command's argv and environment as C strings, made before the fork so the command's
/// process allocates nothing before it execs.
struct Command {
    argv: Vec<CString>,
    env: Vec<CString>,
}

impl Command {
    /// Also points this process's `PATH` at the command's own: execvpe searches the caller's.
    fn prepare(spec: &ExecSpec) -> Result<Self, String> {
        let to_c = |v: &[String]| {
            v.iter()
                .map(|a| CString::new(a.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
        };
        let (Ok(argv), Ok(env)) = (to_c(&spec.argv), to_c(&spec.env)) else {
            return Err("Arguments contain a NUL byte".into());
        };
        if argv.is_empty() {
            return Err("No command given".into());
        }
        if let Some(path) = spec.env.iter().find_map(|e| e.strip_prefix("PATH=")) {
            std::env::set_var("PATH", path);
        }
        Ok(Self { argv, env })
    }
}

fn exec_child(spec: &ExecSpec, command: &Result<Command, String>, filter: &SeccompProgram) -> i32 {
    let fail = |msg: String, code: i32| {
        eprintln!("{msg}");
        code
    };
    if setgroups(&[]).is_err()
        || setresgid(
            Gid::from_raw(spec.gid),
            Gid::from_raw(spec.gid),
            Gid::from_raw(spec.gid),
        )
        .is_err()
        || setresuid(
            Uid::from_raw(spec.uid),
            Uid::from_raw(spec.uid),
            Uid::from_raw(spec.uid),
        )
        .is_err()
    {
        return fail(
            format!("Failed to switch to uid {} gid {}", spec.uid, spec.gid),
            1,
        );
    }
    if spec.pty {
        let stdin = std::io::stdin();
        if nix::unistd::setsid().is_err()
            || lxd_sys::tty::set_controlling_terminal(std::os::fd::AsFd::as_fd(&stdin)).is_err()
        {
            return fail("Failed to take the terminal".into(), 1);
        }
    }
    if nix::unistd::chdir(spec.cwd.as_str()).is_err() {
        let _ = nix::unistd::chdir("/");
    }
    if let Err(e) = super::load_seccomp_program(filter) {
        return fail(e, 1);
    }
    let command = match command {
        Ok(command) => command,
        Err(e) => return fail(e.clone(), 1),
    };
    // Never empty: `Command::prepare` refuses an empty argv.
    let program = &command.argv[0];
    // As LXD: a command that cannot be found is status 127 (the client reports it), one that
    // cannot be executed 126; nothing is written to the command's own output.
    match nix::unistd::execvpe(program, &command.argv, &command.env).unwrap_err() {
        Errno::ENOENT | Errno::ENOTDIR => 127,
        _ => 126,
    }
}
