//! TLS client settings for `wss:` and `sips:`/TLS, on rustls with the ring provider.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::{Error, Result};

/// Which built-in trust anchors to start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TrustRoots {
    /// Mozilla's root programme, compiled in (`webpki-roots`): works the same everywhere.
    #[default]
    Webpki,
    /// The operating system's certificate store (`rustls-native-certs`).
    System,
    /// No built-in roots: only the extra CA files are trusted.
    None,
}

/// TLS options for `wss://` servers and TLS (`sips:`) connections.
///
/// Certificates are verified by default. [`TlsOptions::danger_accept_invalid_certificates`]
/// turns verification off; it exists for lab PBXs with self-signed certificates and logs a
/// warning on every connection.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// The built-in trust anchors.
    pub roots: TrustRoots,
    /// Extra CA certificates (PEM files) to trust besides the roots.
    pub extra_ca_files: Vec<PathBuf>,
    /// Accept any server certificate, even expired, self-signed or for another name.
    /// Never the default; anyone on the path can then read and change the traffic.
    pub danger_accept_invalid_certificates: bool,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("roots", &self.roots)
            .field("extra_ca_files", &self.extra_ca_files)
            .field(
                "danger_accept_invalid_certificates",
                &self.danger_accept_invalid_certificates,
            )
            .finish()
    }
}

impl TlsOptions {
    /// Trust the given CA file in addition to the current roots.
    pub fn with_extra_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_ca_files.push(path.into());
        self
    }

    /// Use these built-in roots.
    pub fn with_roots(mut self, roots: TrustRoots) -> Self {
        self.roots = roots;
        self
    }

    /// Builds the rustls client configuration (reads the CA files).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        let provider = Arc::new(ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::TlsConfig {
                reason: e.to_string(),
            })?;
        let config = if self.danger_accept_invalid_certificates {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
                .with_no_client_auth()
        } else {
            builder
                .with_root_certificates(self.root_store()?)
                .with_no_client_auth()
        };
        Ok(Arc::new(config))
    }

    fn root_store(&self) -> Result<RootCertStore> {
        let mut store = RootCertStore::empty();
        match self.roots {
            TrustRoots::Webpki => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            TrustRoots::System => {
                let found = rustls_native_certs::load_native_certs();
                for error in &found.errors {
                    tracing::warn!(%error, "skipping an unreadable system CA certificate");
                }
                let (added, ignored) = store.add_parsable_certificates(found.certs);
                tracing::debug!(added, ignored, "loaded system CA certificates");
            }
            TrustRoots::None => {}
        }
        for path in &self.extra_ca_files {
            let ca_error = |reason: String| Error::CaFile {
                path: path.clone(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| ca_error(e.to_string()))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| ca_error(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_error("no PEM certificate in it".into()));
            }
            for cert in certs {
                store.add(cert).map_err(|e| ca_error(e.to_string()))?;
            }
        }
        Ok(store)
    }
}

/// Runs the TLS client handshake on `tcp`, bounded by `timeout`.
pub(crate) async fn handshake(
    config: Arc<ClientConfig>,
    host: &str,
    peer: SocketAddr,
    tcp: TcpStream,
    timeout: Duration,
    accepting_invalid: bool,
) -> Result<TlsStream<TcpStream>> {
    if accepting_invalid {
        tracing::warn!(
            %peer,
            "TLS certificate verification is OFF (danger_accept_invalid_certificates)"
        );
    }
    let name = ServerName::try_from(host.to_owned()).map_err(|e| Error::InvalidTarget {
        target: host.to_owned(),
        reason: format!("not a TLS server name: {e}"),
    })?;
    let connect = TlsConnector::from(config).connect(name, tcp);
    match tokio::time::timeout(timeout, connect).await {
        Err(_) => Err(Error::timeout("TLS handshake", peer, timeout)),
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(classify(peer, e)),
    }
}

/// Turns a handshake failure into [`Error::Certificate`] when rustls rejected the certificate.
fn classify(peer: SocketAddr, error: std::io::Error) -> Error {
    let peer = peer.to_string();
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(reason)) => {
            let reason = match reason {
                rustls::CertificateError::UnknownIssuer => {
                    "unknown issuer: not signed by a trusted CA (add the server's CA with \
                     TlsOptions::extra_ca_files)"
                        .to_owned()
                }
                other => format!("{other:?}"),
            };
            Error::Certificate { peer, reason }
        }
        Some(other) => Error::Tls {
            peer,
            reason: other.to_string(),
        },
        None => Error::Tls {
            peer,
            reason: error.to_string(),
        },
    }
}

/// The verifier behind `danger_accept_invalid_certificates`: checks the handshake signatures
/// (so the connection still works) but not who signed the certificate.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_verifies_with_webpki_roots() {
        let options = TlsOptions::default();
        assert!(!options.danger_accept_invalid_certificates);
        assert!(options.client_config().is_ok());
    }

    #[test]
    fn missing_ca_file_names_the_path() {
        let options = TlsOptions::default().with_extra_ca_file("/nonexistent/ca.pem");
        let error = options.client_config().unwrap_err().to_string();
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn ca_file_without_certificates_is_an_error() {
        let path =
            std::env::temp_dir().join(format!("sipline-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap();
        let error = TlsOptions::default()
            .with_extra_ca_file(&path)
            .client_config()
            .unwrap_err();
        std::fs::remove_file(&path).ok();
        assert!(matches!(error, Error::CaFile { .. }), "{error}");
    }
}
