//! The director's TLS identity: a private certificate authority made with rcgen on first run and
//! kept on disk, a leaf certificate for the director signed by it, and the rustls configurations
//! of both ends. Devices pin that CA (received at pairing) and trust nothing else.
//!
//! Only the *ring* provider is used, passed explicitly to every builder, and only TLS 1.3 (QUIC
//! requires it).

use crate::wire::ALPN;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name devices check the director's certificate against. Devices reach the director by an
/// address found on the LAN, which the certificate cannot list in advance; what they trust is
/// the pinned CA, so every leaf carries this name and devices always ask for it.
pub const SERVER_NAME: &str = "boussole-director";

/// The CA's subject. Fixed, so that the issuer can be rebuilt from its key alone when the leaf is
/// reissued (rcgen 0.14 cannot parse a certificate back without its `x509-parser` feature).
const CA_COMMON_NAME: &str = "Boussole immersive - autorité de la régie";

const CA_CERT_FILE: &str = "ca.der";
const CA_KEY_FILE: &str = "ca.key";
const LEAF_CERT_FILE: &str = "director.der";
const LEAF_KEY_FILE: &str = "director.key";
const LEAF_NAME_FILE: &str = "director.name";

/// Why the identity could not be loaded, created or turned into a configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file of the identity could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The CA certificate exists but its key is gone. The CA is never recreated silently: that
    /// would unpair every device.
    #[error(
        "{}: the CA certificate is there but its key is missing; restore ca.key or delete the \
         folder (every device must then be paired again)",
        dir.display()
    )]
    IncompleteCa {
        /// The identity folder.
        dir: PathBuf,
    },
    /// rcgen could not generate or read a key or certificate.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls refused a certificate, key or configuration.
    #[error("tls configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The verifier could not be built from the pinned CA.
    #[error("certificate verifier: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// The *ring* crypto provider, the only one this crate uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The director's private CA and its leaf certificate and key, as kept in one folder:
/// `ca.der` and `ca.key` (the CA, key mode 0600), `director.der` and `director.key` (the leaf,
/// key mode 0600), `director.name` (the host name the leaf was issued for).
pub struct DirectorIdentity {
    ca_der: CertificateDer<'static>,
    leaf_der: CertificateDer<'static>,
    leaf_key: PrivatePkcs8KeyDer<'static>,
}

impl fmt::Debug for DirectorIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectorIdentity")
            .field("ca_der_len", &self.ca_der.len())
            .field("leaf_der_len", &self.leaf_der.len())
            .finish_non_exhaustive()
    }
}

impl DirectorIdentity {
    /// Loads the identity kept in `dir`, creating what is missing: the folder (mode 0700), the CA
    /// on first run, and the leaf when it is absent, was issued for another `host_name`, or no
    /// longer chains to the CA.
    ///
    /// The leaf's subject alternative names are `localhost`, `127.0.0.1`, `::1`,
    /// [`SERVER_NAME`], and `host_name` when it is a valid DNS name (e.g. `salle-2.local`); a
    /// display name with spaces or accents only goes into the common name.
    ///
    /// # Errors
    /// [`TlsError::Io`] naming the file, [`TlsError::IncompleteCa`] if the CA certificate is
    /// there without its key (a lost certificate is rebuilt from the key: same trust anchor),
    /// [`TlsError::Rcgen`] or [`TlsError::Rustls`] for unreadable keys or certificates.
    pub fn load_or_create(dir: &Path, host_name: &str) -> Result<Self, TlsError> {
        create_private_dir(dir)?;
        let ca_cert_path = dir.join(CA_CERT_FILE);
        let ca_key_path = dir.join(CA_KEY_FILE);
        let (ca_key, ca_der) = match (ca_cert_path.exists(), ca_key_path.exists()) {
            (true, true) => (read_key(&ca_key_path)?, read(&ca_cert_path)?),
            (false, false) => {
                let key = KeyPair::generate()?;
                let cert = ca_params().self_signed(&key)?;
                write_private(&ca_key_path, key.serialized_der())?;
                write_public(&ca_cert_path, cert.der())?;
                tracing::info!(dir = %dir.display(), "created the director's certificate authority");
                (key, cert.der().to_vec())
            }
            (false, true) => {
                // Same key and subject give the same trust anchor, so devices that pinned the
                // lost certificate still accept the director.
                let key = read_key(&ca_key_path)?;
                let cert = ca_params().self_signed(&key)?;
                write_public(&ca_cert_path, cert.der())?;
                tracing::warn!(dir = %dir.display(), "CA certificate was missing; rebuilt it from its key");
                (key, cert.der().to_vec())
            }
            (true, false) => {
                return Err(TlsError::IncompleteCa {
                    dir: dir.to_owned(),
                });
            }
        };
        let ca_der = CertificateDer::from(ca_der);

        let leaf_cert_path = dir.join(LEAF_CERT_FILE);
        let leaf_key_path = dir.join(LEAF_KEY_FILE);
        let leaf_name_path = dir.join(LEAF_NAME_FILE);
        if let Some(identity) = Self::load_leaf(
            &ca_der,
            &leaf_cert_path,
            &leaf_key_path,
            &leaf_name_path,
            host_name,
        )? {
            return Ok(identity);
        }

        let issuer = Issuer::new(ca_params(), ca_key);
        let leaf_key = KeyPair::generate()?;
        let leaf = leaf_params(host_name)?.signed_by(&leaf_key, &issuer)?;
        write_private(&leaf_key_path, leaf_key.serialized_der())?;
        write_public(&leaf_cert_path, leaf.der())?;
        write_public(&leaf_name_path, host_name.as_bytes())?;
        tracing::info!(host_name, "issued the director's certificate");
        Ok(Self {
            ca_der,
            leaf_der: leaf.der().clone(),
            leaf_key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        })
    }

    /// The stored leaf, if it is complete, for `host_name`, and chains to the CA.
    fn load_leaf(
        ca_der: &CertificateDer<'static>,
        cert_path: &Path,
        key_path: &Path,
        name_path: &Path,
        host_name: &str,
    ) -> Result<Option<Self>, TlsError> {
        if !(cert_path.exists() && key_path.exists() && name_path.exists()) {
            return Ok(None);
        }
        if read(name_path)? != host_name.as_bytes() {
            return Ok(None);
        }
        let leaf_der = CertificateDer::from(read(cert_path)?);
        if verify_leaf(ca_der.as_ref(), &leaf_der, &[]).is_err() {
            tracing::warn!(path = %cert_path.display(), "stored certificate does not chain to the CA; reissuing");
            return Ok(None);
        }
        tighten(key_path)?;
        let leaf_key = PrivatePkcs8KeyDer::from(read(key_path)?);
        Ok(Some(Self {
            ca_der: ca_der.clone(),
            leaf_der,
            leaf_key,
        }))
    }

    /// The CA certificate, DER: what pairing hands to devices and they pin.
    pub fn ca_der(&self) -> &[u8] {
        self.ca_der.as_ref()
    }

    /// The director's leaf certificate, DER.
    pub fn leaf_der(&self) -> &[u8] {
        self.leaf_der.as_ref()
    }

    /// The rustls server configuration: TLS 1.3, *ring*, the leaf then the CA as chain, ALPN
    /// [`ALPN`], no client certificates (devices authenticate with their token).
    ///
    /// # Errors
    /// [`TlsError::Rustls`] if the key does not match the certificate.
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.leaf_der.clone(), self.ca_der.clone()],
                PrivateKeyDer::Pkcs8(self.leaf_key.clone_key()),
            )?;
        config.alpn_protocols = vec![ALPN.to_vec()];
        Ok(config)
    }
}

/// A device's rustls configuration for every connection after pairing: TLS 1.3, *ring*, ALPN
/// [`ALPN`], and a `RootCertStore` holding only `ca_der` (no public roots). Connect with server
/// name [`SERVER_NAME`].
///
/// # Errors
/// [`TlsError::Rustls`] if `ca_der` is not a usable CA certificate.
pub fn client_config_pinned(ca_der: &[u8]) -> Result<rustls::ClientConfig, TlsError> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(pinned_roots(ca_der)?)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(config)
}

fn pinned_roots(ca_der: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der.to_vec()))?;
    Ok(roots)
}

/// Checks, as a pinned client would, that `leaf` (with `intermediates`) chains to `ca_der` and
/// is valid now for [`SERVER_NAME`].
///
/// # Errors
/// [`TlsError::Rustls`] with the certificate error (unknown issuer, bad signature, expired…).
pub fn verify_leaf(
    ca_der: &[u8],
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Result<(), TlsError> {
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::new(pinned_roots(ca_der)?), provider())
            .build()?;
    let name = server_name()?;
    rustls::client::danger::ServerCertVerifier::verify_server_cert(
        verifier.as_ref(),
        leaf,
        intermediates,
        &name,
        &[],
        UnixTime::now(),
    )?;
    Ok(())
}

/// [`SERVER_NAME`] as rustls wants it.
pub(crate) fn server_name() -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(SERVER_NAME)
        .map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn leaf_params(host_name: &str) -> Result<CertificateParams, TlsError> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        SERVER_NAME.to_owned(),
    ];
    if is_dns_name(host_name) && !names.iter().any(|n| n.eq_ignore_ascii_case(host_name)) {
        names.push(host_name.to_owned());
    }
    let mut params = CertificateParams::new(names)?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        if host_name.is_empty() {
            SERVER_NAME
        } else {
            host_name
        },
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// Whether `name` can be a DNS subject alternative name: dot-separated labels of ASCII letters,
/// digits and inner hyphens, 1 to 63 bytes each, 253 in all.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(io_err(path))
}

fn read_key(path: &Path) -> Result<KeyPair, TlsError> {
    tighten(path)?;
    Ok(KeyPair::try_from(read(path)?.as_slice())?)
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io_err(dir))
}

/// Writes through a temporary file and a rename, so a crash never leaves half a key.
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&tmp).map_err(io_err(&tmp))?;
    file.write_all(bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    if private {
        // A leftover temporary file from an earlier crash keeps its old mode: set it again.
        tighten(&tmp)?;
    }
    fs::rename(&tmp, path).map_err(io_err(path))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    write_atomic(path, bytes, true)
}

fn write_public(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    write_atomic(path, bytes, false)
}

/// Makes a key file readable by its owner only, whatever a copy or an editor left.
fn tighten(path: &Path) -> Result<(), TlsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(io_err(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "key file was readable by others; setting mode 0600");
            fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io_err(path))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(is_dns_name("salle-2.local"));
        assert!(is_dns_name("localhost"));
        assert!(!is_dns_name("Salle 2"));
        assert!(!is_dns_name("régie"));
        assert!(!is_dns_name("-a"));
        assert!(!is_dns_name("a..b"));
        assert!(!is_dns_name(""));
    }

    #[test]
    fn created_once_then_reused_with_private_keys() -> Result<(), TlsError> {
        let dir = tempfile::tempdir().map_err(io_err(Path::new("tmp")))?;
        let first = DirectorIdentity::load_or_create(dir.path(), "salle-2.local")?;
        let again = DirectorIdentity::load_or_create(dir.path(), "salle-2.local")?;
        assert_eq!(first.ca_der(), again.ca_der());
        assert_eq!(first.leaf_der(), again.leaf_der());
        verify_leaf(first.ca_der(), &first.leaf_der, &[])?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in [CA_KEY_FILE, LEAF_KEY_FILE] {
                let path = dir.path().join(key);
                let mode = fs::metadata(&path)
                    .map_err(io_err(&path))?
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{key}");
            }
        }
        // Another host name: same CA, new leaf that still chains to it.
        let renamed = DirectorIdentity::load_or_create(dir.path(), "salle-3.local")?;
        assert_eq!(renamed.ca_der(), first.ca_der());
        assert_ne!(renamed.leaf_der(), first.leaf_der());
        verify_leaf(renamed.ca_der(), &renamed.leaf_der, &[])?;
        renamed.server_config()?;
        client_config_pinned(renamed.ca_der())?;
        Ok(())
    }

    #[test]
    fn another_ca_does_not_verify() -> Result<(), TlsError> {
        let a = tempfile::tempdir().map_err(io_err(Path::new("tmp")))?;
        let b = tempfile::tempdir().map_err(io_err(Path::new("tmp")))?;
        let a = DirectorIdentity::load_or_create(a.path(), "a")?;
        let b = DirectorIdentity::load_or_create(b.path(), "b")?;
        assert!(verify_leaf(b.ca_der(), &a.leaf_der, &[]).is_err());
        Ok(())
    }

    #[test]
    fn a_lost_ca_certificate_is_rebuilt_a_lost_key_is_an_error() -> Result<(), TlsError> {
        let dir = tempfile::tempdir().map_err(io_err(Path::new("tmp")))?;
        let first = DirectorIdentity::load_or_create(dir.path(), "a")?;
        // A lost certificate is rebuilt from the key, and still anchors the old leaf.
        fs::remove_file(dir.path().join(CA_CERT_FILE)).map_err(io_err(dir.path()))?;
        let rebuilt = DirectorIdentity::load_or_create(dir.path(), "a")?;
        verify_leaf(rebuilt.ca_der(), &first.leaf_der, &[])?;
        assert_eq!(rebuilt.leaf_der(), first.leaf_der());
        // A lost key is an error.
        fs::remove_file(dir.path().join(CA_KEY_FILE)).map_err(io_err(dir.path()))?;
        assert!(matches!(
            DirectorIdentity::load_or_create(dir.path(), "a"),
            Err(TlsError::IncompleteCa { .. })
        ));
        Ok(())
    }
}
