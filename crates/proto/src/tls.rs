//! TLS for both planes. When an application is given a certificate, its key and the CA that
//! signed it (`ember.tls.cert`, `ember.tls.key`, `ember.tls.ca`), every endpoint — the driver's
//! executor endpoint and each executor's block server — serves TLS with that certificate and
//! demands a client certificate from the same CA, and every client verifies the server against
//! the CA and presents the certificate. Strangers then need both a certificate from the CA and
//! the application secret.

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} {path}: {message}")]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("the TLS {what} {path} holds no PEM block; expected a PEM file")]
    NotPem { what: &'static str, path: PathBuf },
}

/// Paths of the PEM files an application's endpoints use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

/// TLS material loaded from [`TlsFiles`], ready for servers and clients.
#[derive(Debug, Clone)]
pub struct Tls {
    files: TlsFiles,
    identity: Identity,
    ca: Certificate,
}

fn read_pem(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| TlsError::Unreadable {
        what,
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(TlsError::NotPem {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

impl Tls {
    pub fn load(files: &TlsFiles) -> Result<Tls, TlsError> {
        let cert = read_pem("certificate", &files.cert)?;
        let key = read_pem("key", &files.key)?;
        let ca = read_pem("CA certificate", &files.ca)?;
        Ok(Tls {
            files: files.clone(),
            identity: Identity::from_pem(cert, key),
            ca: Certificate::from_pem(ca),
        })
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    pub fn server(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(self.identity.clone())
            .client_ca_root(self.ca.clone())
    }

    pub fn client(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(self.ca.clone())
            .identity(self.identity.clone())
    }
}

/// The URL scheme for an endpoint: `https` when TLS is on.
pub fn scheme(tls: Option<&Tls>) -> &'static str {
    if tls.is_some() { "https" } else { "http" }
}
