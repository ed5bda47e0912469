//! A remote of config.yml turned into a client, as lxc 5.0.2's `GetInstanceServer`,
//! `GetImageServer` and `getConnectionArgs` do: the local socket for `unix://` addresses,
//! else HTTPS presenting `client.crt`/`client.key` and trusting `servercerts/NAME.crt` (or the
//! system CA store). Connecting checks the server with `GET /1.0`, as the Go client does.
//! Simplestreams remotes become an [`ImageServer`] read by the client.

use anyhow::{anyhow, bail, Result};
use lxd_client::tls::{client_config, TlsSettings};
use lxd_client::transport::unix_socket_from_addr;
use lxd_client::{Client, Connector, HttpsEndpoint};

use crate::config_file::{Config, Remote};
use crate::global::Ctx;
use crate::image_server::ImageServer;
use crate::simplestreams_remote::SimplestreamsRemote;

/// Reads a PEM file if it exists.
fn read_if_present(path: &std::path::Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!("Unable to read {}: {e}", path.display())),
    }
}

/// The TLS material of remote `name` (lxc's `getConnectionArgs`): the pinned server
/// certificate, and unless the remote is simplestreams or candid, the client certificate, key
/// and PKI CA.
pub fn tls_settings(conf: &Config, name: &str, remote: &Remote) -> Result<TlsSettings> {
    let mut settings = TlsSettings {
        server_cert_pem: read_if_present(&conf.server_cert_path(name))?,
        ..TlsSettings::default()
    };
    if remote.protocol == "simplestreams" || remote.auth_type == "candid" {
        return Ok(settings);
    }
    settings.client_cert_pem = read_if_present(&conf.config_path("client.crt"))?;
    settings.ca_pem = read_if_present(&conf.config_path("client.ca"))?;
    settings.client_key_pem = read_if_present(&conf.config_path("client.key"))?;
    if let Some(key) = &settings.client_key_pem {
        if key.contains("Proc-Type: 4,ENCRYPTED") {
            bail!("Private key is password protected and no helper was configured");
        }
    }
    Ok(settings)
}

/// A client for `remote` without contacting it.
pub fn client_for(conf: &Config, name: &str, remote: &Remote) -> Result<Client> {
    if remote.is_unix() {
        return Ok(Client::new(Connector::Unix(unix_socket_from_addr(
            &remote.addr,
        ))));
    }
    https_client(remote, &tls_settings(conf, name, remote)?)
}

fn https_client(remote: &Remote, settings: &TlsSettings) -> Result<Client> {
    let config = client_config(settings)?;
    let endpoint = HttpsEndpoint::new(remote.addr.trim_end_matches('/'), config)?;
    Ok(Client::new(Connector::Https(endpoint)))
}

impl Ctx {
    fn remote(&self, name: &str) -> Result<&Remote> {
        self.conf
            .remotes
            .get(name)
            .ok_or_else(|| anyhow!("The remote \"{name}\" doesn't exist"))
    }

    /// The remote's project, then `--project`, applied to a client.
    fn with_projects(&self, mut client: Client, remote: &Remote) -> Client {
        if !remote.project.is_empty() && remote.project != "default" {
            client = client.with_project(&remote.project);
        }
        if let Some(p) = self.flags.project.as_deref().filter(|p| !p.is_empty()) {
            client = client.with_project(p);
        }
        client
    }

    /// A client of `remote` as an instance server, without `GET /1.0` (lxc's
    /// `GetInstanceServer` before its connection check).
    pub fn instance_client(&self, name: &str) -> Result<Client> {
        let remote = self.remote(name)?;
        if remote.public || remote.protocol == "simplestreams" {
            bail!("The remote isn't a private LXD server");
        }
        if !remote.is_unix() {
            let settings = tls_settings(&self.conf, name, remote)?;
            if remote.auth_type != "candid"
                && (settings.client_cert_pem.is_none() || settings.client_key_pem.is_none())
            {
                bail!("Missing TLS client certificate and key");
            }
            let client = https_client(remote, &settings)?;
            return Ok(self.with_projects(client, remote));
        }
        let client = client_for(&self.conf, name, remote)?;
        Ok(self.with_projects(client, remote))
    }

    /// Connects to `remote` as an instance server (lxc's `GetInstanceServer`).
    pub async fn connect(&self, name: &str) -> Result<Client> {
        let client = self.instance_client(name)?;
        // The Go client checks the connection with GET /1.0 as it connects.
        client.get_server_raw().await?;
        Ok(client)
    }

    /// Connects to `remote` as an image server (lxc's `GetImageServer`): any LXD server,
    /// public ones included. Simplestreams servers are not spoken by this client yet.
    pub async fn connect_image_server(&self, name: &str) -> Result<Client> {
        let remote = self.remote(name)?;
        if remote.protocol == "simplestreams" && !remote.is_unix() {
            bail!(
                "Remote {name:?} uses the simplestreams protocol, which this client does not speak yet"
            );
        }
        let mut client = client_for(&self.conf, name, remote)?;
        if remote.is_unix() || !remote.public {
            client = self.with_projects(client, remote);
        }
        client.get_server_raw().await?;
        Ok(client)
    }

    /// Connects to `remote` as an image server of either protocol (lxc's `GetImageServer`):
    /// simplestreams remotes are not contacted until a question needs their catalog.
    pub async fn image_server(&self, name: &str) -> Result<ImageServer> {
        let remote = self.remote(name)?;
        if remote.protocol == "simplestreams" && !remote.is_unix() {
            let settings = tls_settings(&self.conf, name, remote)?;
            let certificate = settings.server_cert_pem.clone().unwrap_or_default();
            let client = https_client(remote, &settings)?;
            return Ok(ImageServer::Simplestreams(Box::new(
                SimplestreamsRemote::new(&remote.addr, certificate, client),
            )));
        }
        Ok(ImageServer::Lxd(self.connect_image_server(name).await?))
    }
}
