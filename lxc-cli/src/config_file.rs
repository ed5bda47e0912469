//! The client configuration `config.yml` (in `$LXD_CONF`, else `~/.config/lxc`), loaded and
//! saved exactly as lxc 5.0.2's `lxc/config` package does: static remotes are always present
//! but never written, remotes of the system-wide file (`$LXD_GLOBAL_CONF`, else `/etc/lxd`)
//! are added as global and never written, `LXC_REMOTE` overrides the default remote, and
//! `default-remote`, `remotes` and `aliases` are written in that order. Also where the
//! certificates live: `client.crt`, `client.key`, `client.ca`, `servercerts/NAME.crt`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use anyhow::{anyhow, Result};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::yaml::{go_key_cmp, to_yaml};

/// One remote server.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Remote {
    #[serde(default)]
    pub addr: String,
    #[serde(default)]
    pub auth_type: String,
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub public: bool,
    #[serde(skip)]
    pub global: bool,
    #[serde(skip)]
    pub is_static: bool,
}

impl Remote {
    /// The remote as its YAML tags write it (`omitempty` on all but `addr` and `public`).
    pub fn yaml_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("addr".into(), json!(self.addr));
        for (k, v) in [
            ("auth_type", &self.auth_type),
            ("domain", &self.domain),
            ("project", &self.project),
            ("protocol", &self.protocol),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        }
        m.insert("public".into(), json!(self.public));
        Value::Object(m)
    }

    /// True for `unix://` addresses (the local socket or another socket path).
    pub fn is_unix(&self) -> bool {
        self.addr.starts_with("unix:")
    }

    fn new(addr: &str, is_static: bool, public: bool, protocol: &str) -> Self {
        Self {
            addr: addr.into(),
            is_static,
            public,
            protocol: protocol.into(),
            ..Self::default()
        }
    }
}

/// The configuration [`Config::load`] read last, with its directory: the alias expansion and
/// the command both load it, and one parse of the file serves both. Saving forgets it.
static LOADED: Mutex<Option<(PathBuf, Config)>> = Mutex::new(None);

/// The whole client configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub default_remote: String,
    pub remotes: BTreeMap<String, Remote>,
    pub aliases: BTreeMap<String, String>,
    /// Directory holding config.yml, certificates and servercerts/.
    pub dir: PathBuf,
}

#[derive(Deserialize, Default)]
struct RawConfig {
    #[serde(rename = "default-remote", default)]
    default_remote: String,
    #[serde(default)]
    remotes: Option<BTreeMap<String, Remote>>,
    #[serde(default)]
    aliases: Option<BTreeMap<String, String>>,
}

/// Decodes config.yml text without applying any default.
fn parse_raw(text: &str) -> Result<RawConfig> {
    if text.trim().is_empty() {
        return Ok(RawConfig::default());
    }
    yaml_serde::from_str(text).map_err(|e| anyhow!("Unable to decode the configuration: {e}"))
}

/// Remotes every client has and cannot change.
pub fn static_remotes() -> BTreeMap<String, Remote> {
    BTreeMap::from([
        ("local".into(), Remote::new("unix://", true, false, "")),
        (
            "ubuntu".into(),
            Remote::new(
                "https://cloud-images.ubuntu.com/releases",
                true,
                true,
                "simplestreams",
            ),
        ),
        (
            "ubuntu-daily".into(),
            Remote::new(
                "https://cloud-images.ubuntu.com/daily",
                true,
                true,
                "simplestreams",
            ),
        ),
    ])
}

fn images_remote() -> Remote {
    Remote::new(
        "https://images.linuxcontainers.org",
        false,
        true,
        "simplestreams",
    )
}

/// The directory of the system-wide configuration: `$LXD_GLOBAL_CONF`, else `/etc/lxd`.
pub fn global_config_dir() -> PathBuf {
    match std::env::var_os("LXD_GLOBAL_CONF") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from("/etc/lxd"),
    }
}

/// The directory of the client configuration.
pub fn config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LXD_CONF").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".config").join("lxc")
}

impl Config {
    /// The configuration used when no config.yml exists.
    pub fn with_defaults(dir: PathBuf) -> Self {
        let mut remotes = static_remotes();
        remotes.insert("images".into(), images_remote());
        Self {
            default_remote: "local".into(),
            remotes,
            aliases: BTreeMap::new(),
            dir,
        }
    }

    /// Parses config.yml text; `dir` is where it lives.
    pub fn parse(text: &str, dir: PathBuf) -> Result<Self> {
        let raw = parse_raw(text)?;
        let mut remotes = raw.remotes.unwrap_or_default();
        for r in remotes.values_mut() {
            if !r.public && r.auth_type.is_empty() {
                r.auth_type = "tls".into();
            }
        }
        let mut conf = Self {
            default_remote: raw.default_remote,
            remotes,
            aliases: raw.aliases.unwrap_or_default(),
            dir,
        };
        conf.apply_static_remotes();
        if conf.default_remote.is_empty() {
            conf.default_remote = "local".into();
        }
        Ok(conf)
    }

    fn apply_static_remotes(&mut self) {
        for (name, mut r) in static_remotes() {
            if let Some(old) = self.remotes.get(&name) {
                r.project = old.project.clone();
            }
            self.remotes.insert(name, r);
        }
    }

    /// Adds the remotes of the system-wide config.yml that the user's file does not name,
    /// marked global.
    pub fn merge_global(&mut self, global_text: &str) -> Result<()> {
        let global = parse_raw(global_text)?;
        let statics = static_remotes();
        for (name, mut r) in global.remotes.unwrap_or_default() {
            if statics.contains_key(&name) || self.remotes.contains_key(&name) {
                continue;
            }
            r.global = true;
            self.remotes.insert(name, r);
        }
        Ok(())
    }

    /// Loads `dir/config.yml` as lxc's `LoadConfig`: global remotes, the `LXC_REMOTE`
    /// override, and the old `images` remote upgraded to simplestreams (saved back).
    pub fn load(dir: &Path) -> Result<Self> {
        let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, conf)) = loaded.as_ref().filter(|(from, _)| from == dir) {
            return Ok(conf.clone());
        }
        let conf = Self::load_uncached(dir)?;
        *loaded = Some((dir.to_path_buf(), conf.clone()));
        Ok(conf)
    }

    fn load_uncached(dir: &Path) -> Result<Self> {
        let path = dir.join("config.yml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow!("Unable to read the configuration file: {e}"))?;
        let mut conf = Self::parse(&text, dir.to_path_buf())?;
        if let Ok(global) = std::fs::read_to_string(global_config_dir().join("config.yml")) {
            conf.merge_global(&global)?;
        }
        conf.apply_static_remotes();
        if let Some(env) = std::env::var("LXC_REMOTE").ok().filter(|r| !r.is_empty()) {
            conf.default_remote = env;
        }
        let images = images_remote();
        let stale_images = conf
            .remotes
            .get("images")
            .is_some_and(|r| r.protocol != images.protocol && r.addr == images.addr);
        if stale_images {
            conf.remotes.insert("images".into(), images);
            conf.save()?;
        }
        Ok(conf)
    }

    /// `dir/PATH`: where the client's own files live.
    pub fn config_path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `servercerts/NAME.crt`, in the global directory for a global remote.
    pub fn server_cert_path(&self, remote: &str) -> PathBuf {
        let file = format!("{remote}.crt");
        if self.remotes.get(remote).is_some_and(|r| r.global) {
            global_config_dir().join("servercerts").join(file)
        } else {
            self.dir.join("servercerts").join(file)
        }
    }

    /// True when both `client.crt` and `client.key` exist.
    pub fn has_client_certificate(&self) -> bool {
        self.config_path("client.crt").exists() && self.config_path("client.key").exists()
    }

    /// The YAML that lxc writes for this configuration.
    pub fn to_yaml(&self) -> String {
        let mut remotes: Vec<(&String, &Remote)> = self
            .remotes
            .iter()
            .filter(|(name, r)| !r.global && (name.as_str() == "local" || !r.is_static))
            .collect();
        remotes.sort_by(|a, b| go_key_cmp(a.0, b.0));
        let mut rmap = Map::new();
        for (name, r) in remotes {
            rmap.insert(name.clone(), r.yaml_value());
        }
        let mut aliases: Vec<(&String, &String)> = self.aliases.iter().collect();
        aliases.sort_by(|a, b| go_key_cmp(a.0, b.0));
        let amap: Map<String, Value> = aliases
            .into_iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let doc = json!({
            "default-remote": self.default_remote,
            "remotes": rmap,
            "aliases": amap,
        });
        to_yaml(&doc)
    }

    /// Writes `dir/config.yml`.
    pub fn save(&self) -> Result<()> {
        *LOADED.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let path = self.dir.join("config.yml");
        std::fs::write(&path, self.to_yaml())
            .map_err(|e| anyhow!("Unable to create the configuration file: {e}"))
    }

    /// Splits `[<remote>:]<name>` into the remote and the rest.
    pub fn parse_remote(&self, raw: &str) -> Result<(String, String)> {
        match raw.split_once(':') {
            None => Ok((self.default_remote.clone(), raw.to_string())),
            Some((remote, rest)) => {
                if !self.remotes.contains_key(remote) {
                    if raw.contains('/') && remote.contains('/') {
                        return Ok((self.default_remote.clone(), raw.to_string()));
                    }
                    return Err(anyhow!("The remote \"{remote}\" doesn't exist"));
                }
                Ok((remote.to_string(), rest.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT_FILE: &str = "default-remote: local\nremotes:\n  images:\n    addr: https://images.linuxcontainers.org\n    protocol: simplestreams\n    public: true\n  local:\n    addr: unix://\n    public: false\naliases: {}\n";

    #[test]
    fn config_defaults_save_matches_lxc_first_run_file() {
        assert_eq!(
            Config::with_defaults(PathBuf::new()).to_yaml(),
            DEFAULT_FILE
        );
    }

    #[test]
    fn config_round_trip_keeps_text() {
        let c = Config::parse(DEFAULT_FILE, PathBuf::new()).unwrap();
        assert_eq!(c.to_yaml(), DEFAULT_FILE);
        assert_eq!(c.remotes.len(), 4);
    }

    #[test]
    fn config_aliases_round_trip() {
        let text = DEFAULT_FILE.replace("aliases: {}\n", "aliases:\n  ll: list -c n\n");
        let c = Config::parse(&text, PathBuf::new()).unwrap();
        assert_eq!(c.aliases["ll"], "list -c n");
        assert_eq!(c.to_yaml(), text);
    }

    #[test]
    fn config_https_remote_round_trips_as_lxc_writes_it() {
        let text = DEFAULT_FILE.replace(
            "aliases: {}\n",
            "  r2:\n    addr: https://127.0.0.1:44435\n    auth_type: tls\n    project: default\n    protocol: lxd\n    public: false\n  r3:\n    addr: https://127.0.0.1:44435\n    public: true\naliases: {}\n",
        );
        let c = Config::parse(&text, PathBuf::new()).unwrap();
        assert_eq!(c.remotes["r2"].auth_type, "tls");
        assert!(c.remotes["r3"].public);
        assert_eq!(c.to_yaml(), text);
    }

    #[test]
    fn config_remote_without_auth_type_reads_as_tls_but_is_written_with_it() {
        // A token-added remote: lxc writes no auth_type; LoadConfig fills in tls.
        let text = DEFAULT_FILE.replace(
            "aliases: {}\n",
            "  rt:\n    addr: https://127.0.0.1:1\n    project: default\n    protocol: lxd\n    public: false\naliases: {}\n",
        );
        let c = Config::parse(&text, PathBuf::new()).unwrap();
        assert_eq!(c.remotes["rt"].auth_type, "tls");
        assert!(c.to_yaml().contains("    auth_type: tls\n"));
    }

    #[test]
    fn merge_global_adds_unknown_remotes_as_global_and_never_saves_them() {
        let mut c = Config::parse(DEFAULT_FILE, PathBuf::from("/x")).unwrap();
        c.merge_global(
            "remotes:\n  g1:\n    addr: https://10.0.0.1:8443\n  local:\n    addr: unix:///other\n",
        )
        .unwrap();
        assert!(c.remotes["g1"].global);
        assert_eq!(c.remotes["g1"].auth_type, "");
        assert_eq!(c.remotes["local"].addr, "unix://");
        assert_eq!(c.to_yaml(), DEFAULT_FILE);
        assert!(c.server_cert_path("g1").ends_with("servercerts/g1.crt"));
        assert_eq!(
            c.server_cert_path("r1"),
            PathBuf::from("/x/servercerts/r1.crt")
        );
    }

    #[test]
    fn config_empty_default_remote_is_local() {
        let c = Config::parse("remotes: {}\n", PathBuf::new()).unwrap();
        assert_eq!(c.default_remote, "local");
        assert_eq!(c.remotes.len(), 3);
    }

    #[test]
    fn parse_remote_unknown_remote_errors() {
        let c = Config::with_defaults(PathBuf::new());
        let e = c.parse_remote("nope:x").unwrap_err();
        assert_eq!(e.to_string(), "The remote \"nope\" doesn't exist");
        assert_eq!(c.parse_remote("p1").unwrap(), ("local".into(), "p1".into()));
    }
}
