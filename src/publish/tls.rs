//! TLS for the broker connection (rustls with the ring provider): a CA file, an optional client
//! certificate and key for mutual TLS, and an optional server name to verify instead of the host.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// What `[mqtt]` says about TLS.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles<'a> {
    /// CA certificates (PEM) to trust; unset: the system's roots (/etc/ssl/certs).
    pub ca_file: Option<&'a Path>,
    /// Client certificate chain and private key (PEM), for mutual TLS.
    pub client_cert: Option<&'a Path>,
    pub client_key: Option<&'a Path>,
    /// Name to verify in the broker's certificate instead of the URL's host.
    pub server_name: Option<&'a str>,
}

fn config_error(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Config(format!(
        "[mqtt] {what} {}: {e}; give a readable PEM file",
        path.display()
    ))
}

/// Builds the rustls client config; every unreadable or malformed file is a config error naming it.
pub fn client_config(files: &TlsFiles<'_>) -> Result<Arc<ClientConfig>> {
    // Err means a provider is installed already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = RootCertStore::empty();
    match files.ca_file {
        Some(ca) => {
            let certs = CertificateDer::pem_file_iter(ca)
                .map_err(|e| config_error("ca_file", ca, e))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| config_error("ca_file", ca, e))?;
            if certs.is_empty() {
                return Err(config_error("ca_file", ca, "no certificate in it"));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| config_error("ca_file", ca, e))?;
            }
        }
        None => {
            // The platform's trust store, as rustls-native-certs finds it (SSL_CERT_FILE and
            // SSL_CERT_DIR override it, as for OpenSSL). Unreadable entries are skipped.
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!("system CA store: {e}");
            }
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(Error::Config(
                    "[mqtt] TLS without ca_file needs the system CA certificates \
                     (apt-get install ca-certificates, or point SSL_CERT_FILE at a bundle), or set ca_file"
                        .into(),
                ));
            }
        }
    }
    let roots = Arc::new(roots);
    let builder = match files.server_name {
        None => ClientConfig::builder().with_root_certificates(roots),
        Some(name) => {
            let inner = WebPkiServerVerifier::builder(roots)
                .build()
                .map_err(|e| Error::Config(format!("[mqtt] TLS roots: {e}")))?;
            let name = ServerName::try_from(name.to_string()).map_err(|e| {
                Error::Config(format!(
                    "[mqtt] server_name '{name}' is not a host name: {e}"
                ))
            })?;
            ClientConfig::builder()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(FixedName { inner, name }))
        }
    };
    let config =
        match (files.client_cert, files.client_key) {
            (Some(cert), Some(key)) => {
                let chain = CertificateDer::pem_file_iter(cert)
                    .map_err(|e| config_error("client_cert", cert, e))?
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| config_error("client_cert", cert, e))?;
                let key_der = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| config_error("client_key", key, e))?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| config_error("client_cert", cert, e))?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err(Error::Config(
                "[mqtt] client_cert and client_key go together (mutual TLS); set both or neither"
                    .into(),
            )),
        };
    Ok(Arc::new(config))
}

/// Verifies the broker's certificate against a fixed name (the URL's host may be an IP address
/// or an alias that is not in the certificate).
#[derive(Debug)]
struct FixedName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A TLS failure in words, from the I/O error rumqttc wraps it in; None if it is not TLS's.
pub fn describe(e: &std::io::Error) -> Option<String> {
    let inner = e.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match inner {
        rustls::Error::InvalidCertificate(c) => {
            use rustls::CertificateError as C;
            match c {
                C::UnknownIssuer => "the broker's certificate is not signed by a trusted CA; check [mqtt] ca_file".to_string(),
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "the broker's certificate does not name this host; connect by the name in the certificate or set [mqtt] server_name".to_string()
                }
                C::Expired | C::ExpiredContext { .. } => "the broker's certificate has expired".to_string(),
                other => format!("the broker's certificate was rejected ({other:?})"),
            }
        }
        rustls::Error::AlertReceived(alert) => format!(
            "the broker ended the TLS handshake ({alert:?}); it may require a client certificate \
             ([mqtt] client_cert and client_key) or not trust ours"
        ),
        other => format!("TLS failed: {other}"),
    })
}
