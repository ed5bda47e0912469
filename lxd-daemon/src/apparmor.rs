//! The daemon's use of the runtime's AppArmor module, as LXD's `apparmor.Instance*` calls: at
//! start the profile is rendered and written (even without AppArmor, as LXD does) and the
//! policy handed to the monitor, which loads it and unloads it when init ends; a change of
//! `raw.apparmor` or `security.nesting` is checked with the parser and reloaded into a running
//! container; delete and rename remove the old file and cache entry.

use std::path::{Path, PathBuf};

use lxd_runtime::apparmor::{
    self, container_profile, instance_names, AppArmorHost, ContainerPolicy, ProfileFeatures,
};
use lxd_sys::command::RealCommandRunner;

use crate::paths::Paths;

/// The keys whose change re-renders the profile.
const PROFILE_KEYS: &[&str] = &["raw.apparmor", "security.nesting"];

/// `LXD_DIR/security/apparmor`.
pub fn policy_dir(paths: &Paths) -> PathBuf {
    paths.var.join("security").join("apparmor")
}

fn features(host: &AppArmorHost) -> ProfileFeatures {
    ProfileFeatures::of(
        host,
        Path::new("/proc/self/ns/cgroup").exists(),
        crate::cgroups::host_has_v2(),
    )
}

/// Render and write the profile of instance `name`; returns the policy for the monitor.
fn write(
    paths: &Paths,
    host: &AppArmorHost,
    project: &str,
    name: &str,
    config: &lxd_api::ConfigMap,
) -> Result<ContainerPolicy, apparmor::AppArmorError> {
    let names = instance_names(project, name, &paths.var);
    let text = container_profile(&names, config, &features(host))?;
    let dir = policy_dir(paths);
    apparmor::write_profile(&dir, &names.file, &text)?;
    let own_profiles = host.per_container_profiles();
    let exec_label = match (&host.own_label, own_profiles) {
        (Some(own), _) => Some(own.clone()),
        (None, true) if host.uses_namespaces() => {
            Some(format!("{}//&:{}:", names.profile, names.namespace))
        }
        (None, true) => Some(names.profile.clone()),
        (None, false) => None,
    };
    Ok(ContainerPolicy {
        dir,
        file: names.file,
        profile: names.profile,
        load: host.available && host.admin,
        namespace: host.uses_namespaces().then_some(names.namespace),
        exec_label,
        securityfs: host.securityfs.clone(),
    })
}

/// The policy a starting container runs under: `None` (unconfined) without AppArmor.
pub fn container_policy(
    paths: &Paths,
    host: &AppArmorHost,
    project: &str,
    name: &str,
    config: &lxd_api::ConfigMap,
) -> Result<Option<ContainerPolicy>, String> {
    let policy = write(paths, host, project, name, config).map_err(|e| chain(&e))?;
    Ok(host.available.then_some(policy))
}

/// After a config change: when `raw.apparmor` or `security.nesting` changed, the new profile
/// must parse ("Parse AppArmor profile: ..." otherwise) and replaces the loaded one of a
/// running container. Nothing is written when the new profile is refused.
pub fn config_changed(
    paths: &Paths,
    host: &AppArmorHost,
    project: &str,
    name: &str,
    old: &lxd_api::ConfigMap,
    new: &lxd_api::ConfigMap,
    running: bool,
) -> Result<(), String> {
    if PROFILE_KEYS.iter().all(|k| old.get(*k) == new.get(*k)) {
        return Ok(());
    }
    let names = instance_names(project, name, &paths.var);
    let dir = policy_dir(paths);
    let previous = std::fs::read_to_string(apparmor::profile_path(&dir, &names.file)).ok();
    let policy = write(paths, host, project, name, new).map_err(|e| chain(&e))?;
    let runner = RealCommandRunner;
    if host.available {
        if let Err(e) = apparmor::validate(&runner, &dir, &policy.file) {
            // Put the previous profile back so the file keeps matching what runs.
            match previous {
                Some(text) => {
                    let _ = apparmor::write_profile(&dir, &policy.file, &text);
                }
                None => {
                    let _ = std::fs::remove_file(apparmor::profile_path(&dir, &policy.file));
                }
            }
            return Err(format!("Parse AppArmor profile: {}", chain(&e)));
        }
    }
    if running && policy.load {
        apparmor::load(&runner, &dir, &policy.file).map_err(|e| chain(&e))?;
    }
    Ok(())
}

/// The instance is gone (deleted, or renamed away from `name`): its profile goes too.
pub fn remove(paths: &Paths, host: &AppArmorHost, project: &str, name: &str) {
    let names = instance_names(project, name, &paths.var);
    let result = apparmor::delete(
        &RealCommandRunner,
        host,
        &policy_dir(paths),
        &names.file,
        &names.profile,
    );
    if let Err(e) = result {
        tracing::warn!(instance = name, error = %chain(&e), "Failed to remove the AppArmor profile");
    }
}

/// An error with its causes, `a: b: c`.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(available: bool, stacking: bool) -> AppArmorHost {
        AppArmorHost {
            available,
            admin: available,
            stacking,
            parser_version: available.then_some((3, 0, 8)),
            securityfs: PathBuf::from("/nonexistent/apparmor"),
            ..AppArmorHost::default()
        }
    }

    #[test]
    fn container_policy_without_apparmor_writes_profile_runs_unconfined() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under(tmp.path());
        let policy =
            container_policy(&paths, &host(false, false), "p1", "c1", &Default::default()).unwrap();
        assert_eq!(policy, None);
        let file = tmp.path().join("security/apparmor/profiles/lxd-p1_c1");
        let text = std::fs::read_to_string(file).unwrap();
        let dir = tmp.path().display();
        assert!(text.contains(&format!("profile \"lxd-p1_c1_<{dir}>\"")));
    }

    #[test]
    fn container_policy_stacking_host_label_with_namespace() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under(tmp.path());
        let policy = container_policy(
            &paths,
            &host(true, true),
            "default",
            "c1",
            &Default::default(),
        )
        .unwrap()
        .unwrap();
        let dir = tmp.path().display().to_string();
        let ns = dir.trim_matches('/').replace('/', "-");
        assert_eq!(policy.profile, format!("lxd-c1_<{dir}>"));
        assert_eq!(
            policy.namespace.as_deref(),
            Some(format!("lxd-c1_<{ns}>").as_str())
        );
        assert_eq!(
            policy.exec_label,
            Some(format!("lxd-c1_<{dir}>//&:lxd-c1_<{ns}>:"))
        );
        assert!(policy.load);
        let plain = container_policy(
            &paths,
            &host(true, false),
            "default",
            "c1",
            &Default::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(plain.exec_label, Some(plain.profile.clone()));
        assert_eq!(plain.namespace, None);
    }

    #[test]
    fn container_policy_confined_daemon_uses_own_label() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under(tmp.path());
        let mut confined = host(true, true);
        confined.own_label = Some("lxd-daemon".into());
        let policy = container_policy(&paths, &confined, "default", "c1", &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(policy.exec_label.as_deref(), Some("lxd-daemon"));
    }

    #[test]
    fn config_changed_unrelated_keys_touch_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under(tmp.path());
        let old: lxd_api::ConfigMap = [("limits.memory".to_string(), "1GiB".to_string())].into();
        config_changed(
            &paths,
            &host(false, false),
            "default",
            "c1",
            &old,
            &Default::default(),
            true,
        )
        .unwrap();
        assert!(!tmp
            .path()
            .join("security/apparmor/profiles/lxd-c1")
            .exists());
        let raw: lxd_api::ConfigMap = [("raw.apparmor".to_string(), "ptrace,".to_string())].into();
        config_changed(
            &paths,
            &host(false, false),
            "default",
            "c1",
            &old,
            &raw,
            false,
        )
        .unwrap();
        let text =
            std::fs::read_to_string(tmp.path().join("security/apparmor/profiles/lxd-c1")).unwrap();
        assert!(text.contains("  ptrace,\n}"));
    }

    #[test]
    fn remove_deletes_profile_file() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under(tmp.path());
        container_policy(
            &paths,
            &host(false, false),
            "default",
            "c1",
            &Default::default(),
        )
        .unwrap();
        let file = tmp.path().join("security/apparmor/profiles/lxd-c1");
        assert!(file.exists());
        remove(&paths, &host(false, false), "default", "c1");
        assert!(!file.exists());
    }
}
