//! Hidden sub-commands the daemon runs as separate, single-threaded processes for container
//! work (LXD's `forkstart`, `forkexec`, `forkproxy` ...): `lxd forkmonitor SPEC` starts a
//! container and stays as its monitor; `lxd forkexec SPEC` runs one command inside a running
//! container; `lxd forkproxy SPEC` relays a proxy device; `lxd forkmount JOB` adds or removes
//! a mount in a running container. None starts an async runtime, so all may fork and join
//! namespaces.

use std::path::Path;

use anyhow::Context;
use lxd_runtime::container::exec::ExecSpec;
use lxd_runtime::container::ContainerSpec;

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let bytes =
        std::fs::read(path).with_context(|| format!("Failed to read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("Bad spec in {}", path.display()))
}

/// `lxd forkmonitor SPEC`: start the container and watch it until init ends.
pub fn monitor(spec_path: &Path) -> anyhow::Result<()> {
    let spec: ContainerSpec = read_json(spec_path)?;
    let root = spec.idmap.as_ref().and_then(|m| {
        use lxd_runtime::container::IdMaps;
        Some((IdMaps::host_root(&m.uid)?, IdMaps::host_root(&m.gid)?))
    });
    let runtime_name = spec.runtime_name();
    crate::cgroups::ensure_free(runtime_name).map_err(anyhow::Error::msg)?;
    let mut prepare_cgroups = crate::cgroups::prepare_closure(runtime_name, &spec.config, root);
    // The NICs join the container's network namespace before init runs (as liblxc moves
    // them in during start), with `lo` brought up. A restore has CRIU recreate the veth pairs;
    // their host ends are configured once it is done.
    let mut attach = |pid: nix::unistd::Pid| match spec.restore_from {
        Some(_) => crate::instances::devices::nic::configure_restored(&spec.nics),
        None => crate::instances::devices::nic::attach_at_start(pid.as_raw(), &spec.nics),
    };
    let report =
        &mut |started: Result<nix::unistd::Pid, &lxd_runtime::container::start::StartError>| {
            if let Err(e) = started {
                // With its causes: the daemon reports this line (e.g. the AppArmor parser's error).
                let e = crate::apparmor::chain(e);
                eprintln!("Failed to start container {:?}: {e}", spec.name);
            }
        };
    // Whether init ran or never started, nothing of it may stay behind; this runs before the
    // end is recorded, so a start that follows at once does not race with it.
    let cleanup = &mut || {
        crate::cgroups::remove(runtime_name);
        let devices =
            crate::instances::devices::devices_dir(&crate::paths::Paths::from_env(), runtime_name);
        crate::instances::devices::cleanup(
            &devices,
            spec.nics.iter().map(|n| n.host_name.as_str()),
        );
    };
    let result = lxd_runtime::container::monitor::run(
        &spec,
        &mut prepare_cgroups,
        &mut attach,
        report,
        cleanup,
    );
    let status = result?;
    tracing::info!(instance = %spec.name, status, "Container init exited");
    let requested = spec
        .state_dir
        .join(crate::runtime::lifecycle::STOP_REQUESTED)
        .exists();
    if !requested {
        report_exit(&spec, status);
    }
    Ok(())
}

/// Tell the daemon that init ended on its own (a shutdown or reboot from inside, or a crash),
/// so it can restart the container, record it stopped or delete an ephemeral one. A daemon
/// that is not running finds out at its next start instead.
fn report_exit(spec: &ContainerSpec, status: i32) {
    let runtime_name = spec.runtime_name();
    let target = crate::runtime::exit_target(status);
    let path = format!(
        "/internal/containers/{runtime_name}/onstop?target={target}&monitor={}",
        std::process::id()
    );
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let socket = crate::paths::Paths::from_env().socket();
    let call = crate::cmd::local::request(&socket, "POST", &path, None);
    if let Err(e) =
        rt.block_on(async { tokio::time::timeout(std::time::Duration::from_secs(30), call).await })
    {
        tracing::warn!(instance = %spec.name, error = %e, "Failed to report the end of init");
    }
}

/// `lxd forkexec SPEC`: run the command of the spec file; exits with its status.
pub fn exec(spec_path: &Path) -> anyhow::Result<i32> {
    let spec: ExecSpec = read_json(spec_path)?;
    let filter = lxd_runtime::container::seccomp_program(&spec.config);
    exec_gated(&spec, &filter, &mut || true, &mut |_| {})
}

/// Run `spec`'s command under `filter` once `go` allows it (see
/// [`lxd_runtime::container::exec::run_gated`]); `started` is told its pid.
pub fn exec_gated(
    spec: &ExecSpec,
    filter: &lxd_runtime::container::SeccompProgram,
    go: &mut dyn FnMut() -> bool,
    started: &mut dyn FnMut(nix::unistd::Pid),
) -> anyhow::Result<i32> {
    let mut join = crate::cgroups::join_closure(&spec.name);
    Ok(lxd_runtime::container::exec::run_gated(
        spec, filter, &mut join, go, started,
    )?)
}

/// `lxd forkfile JOB`: one file operation in a container; stdin and stdout carry the content,
/// and the result is written as JSON to `JOB.result`.
pub fn file(job_path: &Path) -> anyhow::Result<()> {
    use std::os::fd::AsFd;
    let job: lxd_runtime::container::files::FileJob = read_json(job_path)?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let result = lxd_runtime::container::files::run(&job, stdin.as_fd(), stdout.as_fd());
    let out = job_path.with_extension("result");
    std::fs::write(&out, serde_json::to_vec(&result)?)
        .with_context(|| format!("Failed to write {}", out.display()))?;
    Ok(())
}

/// `lxd forkproxy SPEC`: relay a proxy device until killed; prints `Status: Started` once it
/// relays (the daemon waits for that line or an `Error:` one).
pub fn proxy(spec_path: &Path) -> anyhow::Result<()> {
    let spec: lxd_runtime::devices::proxy::ProxySpec = read_json(spec_path)?;
    lxd_runtime::devices::proxy::run(&spec)?;
    Ok(())
}

/// `lxd forkmount JOB`: add or remove one mount in a running container.
pub fn mount(job_path: &Path) -> anyhow::Result<()> {
    let job: lxd_runtime::devices::mount::MountJob = read_json(job_path)?;
    lxd_runtime::devices::mount::run(&job)?;
    Ok(())
}
