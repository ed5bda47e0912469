//! The in-memory copy of the trust store, consulted on every HTTPS request: a map from
//! certificate fingerprint to what the certificate may do. It is rebuilt from the database
//! after every change to `/1.0/certificates`, so the per-request check is one hash lookup.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use lxd_db::certificates::CertificateRow;

/// What a trusted certificate may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEntry {
    /// `client`, `server` or `metrics`.
    pub kind: String,
    pub name: String,
    pub restricted: bool,
    pub projects: Vec<String>,
}

/// The cached trust store.
#[derive(Debug, Default)]
pub struct TrustStore {
    entries: RwLock<Arc<HashMap<String, TrustEntry>>>,
}

impl TrustStore {
    /// Replace the cache with `rows`.
    pub fn replace(&self, rows: &[CertificateRow]) {
        let map = rows
            .iter()
            .map(|r| {
                let entry = TrustEntry {
                    kind: r.kind.clone(),
                    name: r.name.clone(),
                    restricted: r.restricted,
                    projects: r.projects.clone(),
                };
                (r.fingerprint.clone(), entry)
            })
            .collect();
        *self.entries.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(map);
    }

    /// Reload from the database; on failure the previous cache stays.
    pub fn reload(&self, db: &lxd_db::Database) {
        match db.read(lxd_db::certificates::list) {
            Ok(rows) => self.replace(&rows),
            Err(e) => tracing::warn!(error = %e, "Failed reading the trust store"),
        }
    }

    /// The entry of a client (or server) certificate, if trusted for the API. Metrics
    /// certificates only open `/1.0/metrics`, which this daemon does not serve.
    pub fn lookup(&self, fingerprint: &str) -> Option<TrustEntry> {
        let map = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        map.get(fingerprint)
            .filter(|e| e.kind == "client" || e.kind == "server")
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fp: &str, kind: &str) -> CertificateRow {
        CertificateRow {
            fingerprint: fp.into(),
            kind: kind.into(),
            name: fp.into(),
            ..Default::default()
        }
    }

    #[test]
    fn lookup_finds_clients_not_metrics_and_replace_drops_old() {
        let store = TrustStore::default();
        store.replace(&[row("aa", "client"), row("bb", "metrics")]);
        assert_eq!(store.lookup("aa").unwrap().name, "aa");
        assert!(store.lookup("bb").is_none());
        store.replace(&[row("cc", "client")]);
        assert!(store.lookup("aa").is_none());
        assert!(store.lookup("cc").is_some());
    }
}
