//! Trust store endpoints: `/1.0/certificates` and `/1.0/certificates/<fingerprint>`, and
//! the join-token operation `POST /1.0/certificates` starts with `token: true`.

use lxd_api::certificate::{Certificate, CertificatePut, CertificatesPost};
use lxd_api::Operation;

use crate::{Client, ClientError, Result};

fn certificate_path(fingerprint: &str) -> String {
    format!(
        "/1.0/certificates/{}",
        crate::websocket::escape_path(fingerprint)
    )
}

impl Client {
    /// `GET /1.0/certificates?recursion=1`.
    pub async fn get_certificates(&self) -> Result<Vec<Certificate>> {
        Ok(self.get_struct("/1.0/certificates?recursion=1").await?.0)
    }

    /// `GET /1.0/certificates/<fingerprint>` with its ETag.
    pub async fn get_certificate(&self, fingerprint: &str) -> Result<(Certificate, String)> {
        self.get_struct(&certificate_path(fingerprint)).await
    }

    /// `POST /1.0/certificates`: add a certificate (or, untrusted, the connection's own with
    /// a password or token).
    pub async fn create_certificate(&self, cert: &CertificatesPost) -> Result<()> {
        self.query_with("POST", "/1.0/certificates", cert, None)
            .await?;
        Ok(())
    }

    /// `POST /1.0/certificates` with `token: true`: the token operation the server started.
    pub async fn create_certificate_token(&self, cert: &CertificatesPost) -> Result<Operation> {
        let (resp, _) = self
            .query_with("POST", "/1.0/certificates", cert, None)
            .await?;
        serde_json::from_value(resp.metadata)
            .map_err(|e| ClientError::Decode(format!("Bad token operation: {e}")))
    }

    /// `PUT /1.0/certificates/<fingerprint>`.
    pub async fn update_certificate(
        &self,
        fingerprint: &str,
        put: &CertificatePut,
        etag: &str,
    ) -> Result<()> {
        self.query_with("PUT", &certificate_path(fingerprint), put, Some(etag))
            .await?;
        Ok(())
    }

    /// `DELETE /1.0/certificates/<fingerprint>`.
    pub async fn delete_certificate(&self, fingerprint: &str) -> Result<()> {
        self.query("DELETE", &certificate_path(fingerprint), None, None)
            .await?;
        Ok(())
    }
}
