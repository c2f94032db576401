//! Pairing a device with the director (principle 4): SPAKE2 on the 6-digit code the director
//! shows and the facilitator types on the device, bound to the TLS connection it runs over, then
//! the director hands over its CA certificate and a fresh device token.
//!
//! The device cannot check the director's certificate yet (it does not have the CA), so its
//! first connection uses a deferred-chain verifier: it still checks the TLS 1.3 handshake
//! signature (the server holds the leaf's key) and defers the chain check until the PAKE has
//! proved both ends know the code. Both ends key their confirmation MACs (HMAC-SHA256) with the
//! SPAKE2 key *and* the TLS exporter of their own connection, so a man in the middle, who runs
//! two TLS sessions with two exporters, cannot complete the exchange even if he relays every
//! message. Once the grant is received the device checks that the leaf it saw chains to the CA it
//! was given; every later connection pins that CA ([`crate::tls::client_config_pinned`]).
//!
//! Message flow, over the control stream of one connection:
//! 1. device → `Start { device, spake }`
//! 2. director → `Reply { spake, confirm }` (or `Refused(PairingLocked | VersionMismatch)`)
//! 3. device → `Confirm { confirm }`
//! 4. director → `Grant { ca_der, token, mac }` (or `Refused(WrongPairingCode)`)
//!
//! The director allows [`MAX_FAILURES`] failed attempts, then locks pairing for
//! [`LOCK_DURATION`]. An attempt counts as failed from the moment it starts until it succeeds, so
//! parallel or abandoned attempts cannot exceed the budget.

use crate::event::DeviceId;
use crate::tls::{self, TlsError};
use crate::wire::{DeviceToken, Refusal, constant_time_eq};
use hmac::{Hmac, Mac};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spake2::{Ed25519Group, Identity, Password, Spake2};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Failed attempts allowed before pairing locks.
pub const MAX_FAILURES: u32 = 5;

/// How long pairing stays locked after [`MAX_FAILURES`] failures.
pub const LOCK_DURATION: Duration = Duration::from_secs(60);

/// TLS exporter label that binds the PAKE to the connection (RFC 5705 labels start with
/// `EXPORTER`).
pub(crate) const EXPORTER_LABEL: &[u8] = b"EXPORTER-boussole-pairing";

/// SPAKE2 identity of the director's side (B); the device's (A) is `boussole-device:` + its id.
const DIRECTOR_IDENTITY: &[u8] = b"boussole-director";

/// The 6-digit code the director shows and the facilitator types on the device. `Display` gives
/// the six digits with leading zeros (`"042137"`); `Debug` hides them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PairingCode(u32);

impl PairingCode {
    /// A uniformly random code from the operating system's generator.
    pub fn random() -> Self {
        Self(rand::random_range(0..1_000_000))
    }

    /// Reads a typed code: six digits, spaces and dashes ignored (`"042 137"`).
    ///
    /// # Errors
    /// [`PairingError::BadCode`] if anything else is typed, or not exactly six digits.
    pub fn parse(typed: &str) -> Result<Self, PairingError> {
        let digits: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PairingError::BadCode);
        }
        digits.parse().map(Self).map_err(|_| PairingError::BadCode)
    }

    fn password(self) -> Password {
        Password::new(self.to_string())
    }
}

impl fmt::Display for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingCode(<redacted>)")
    }
}

/// A pairing step from the device ([`crate::wire::ClientMsg::Pairing`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairingClientStep {
    /// Opens a pairing connection; only as its first frame.
    Start {
        /// The device's [`crate::wire::PROTOCOL_VERSION`].
        protocol_version: u16,
        /// The name the device will be known by.
        device: DeviceId,
        /// SPAKE2 message (side A), 33 bytes.
        spake: Vec<u8>,
    },
    /// The device's key confirmation: HMAC-SHA256 under the confirmed key.
    Confirm {
        /// The MAC.
        confirm: [u8; 32],
    },
}

/// A pairing step from the director ([`crate::wire::ServerMsg::Pairing`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairingServerStep {
    /// The director's SPAKE2 message and key confirmation.
    Reply {
        /// SPAKE2 message (side B), 33 bytes.
        spake: Vec<u8>,
        /// HMAC-SHA256 under the confirmed key.
        confirm: [u8; 32],
    },
    /// What the device keeps, sent only after the device's confirmation checked out.
    Grant {
        /// The director's CA certificate, DER.
        ca_der: Vec<u8>,
        /// The device's new token.
        token: DeviceToken,
        /// HMAC-SHA256 of `ca_der` and `token` under the confirmed key.
        mac: [u8; 32],
    },
}

/// What a device keeps after pairing: the CA to pin and its token. Store both; the token is a
/// secret (its `Debug` is redacted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pairing {
    /// The director's CA certificate, DER; pass it to [`crate::tls::client_config_pinned`].
    pub ca_der: Vec<u8>,
    /// The token to present in every [`crate::wire::Hello`].
    pub token: DeviceToken,
}

/// A pairing as kept on a device's disk: the CA and the token, postcard-encoded.
#[derive(Serialize, Deserialize)]
struct SavedPairing {
    ca_der: Vec<u8>,
    token: [u8; 32],
}

impl Pairing {
    /// Writes the pairing to `path` (postcard; its folder is created). The token lets a device
    /// join: on Unix the file is written with mode 0600, then renamed into place, so it is
    /// never readable by other users nor left half-written.
    ///
    /// # Errors
    /// The folder or the file cannot be written.
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        let saved = SavedPairing {
            ca_der: self.ca_der.clone(),
            token: *self.token.as_bytes(),
        };
        let bytes = postcard::to_stdvec(&saved).map_err(std::io::Error::other)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        let part = std::path::PathBuf::from(part);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        {
            use std::io::Write as _;
            let mut file = options.open(&part)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&part, path)
    }

    /// Reads a pairing written by [`Pairing::save`]; `None` when there is no file.
    ///
    /// # Errors
    /// The file cannot be read or is not a saved pairing.
    pub fn load(path: &std::path::Path) -> std::io::Result<Option<Self>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let saved: SavedPairing = postcard::from_bytes(&bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a saved pairing: {e}", path.display()),
            )
        })?;
        Ok(Some(Self {
            ca_der: saved.ca_der,
            token: DeviceToken::from_bytes(saved.token),
        }))
    }
}

/// Why pairing failed locally (a refusal by the director arrives as a
/// [`Refusal`] in the transport's error instead).
#[derive(Debug, thiserror::Error)]
pub enum PairingError {
    /// The typed code is not six digits.
    #[error("a pairing code is six digits")]
    BadCode,
    /// The peer's SPAKE2 message is malformed.
    #[error("malformed SPAKE2 message: {0}")]
    Spake(spake2::Error),
    /// The peer's key confirmation or grant MAC is wrong: wrong code, or the two ends are not on
    /// the same TLS connection.
    #[error("key confirmation failed (wrong code or tampered connection)")]
    Confirmation,
    /// The director's certificate does not chain to the CA it handed over.
    #[error("the director's certificate does not chain to the CA it sent: {0}")]
    Certificate(#[source] TlsError),
    /// The TLS exporter was unavailable.
    #[error("tls exporter unavailable")]
    Exporter,
}

/// Where the director keeps paired devices. Called off the async executor
/// (`spawn_blocking`), so an implementation may block on a database.
pub trait DeviceRegistry: Send + Sync + 'static {
    /// Records `token` for `device`, replacing any earlier one (a re-paired device gets a new
    /// token and the old one stops working). Store a hash, never the token.
    ///
    /// # Errors
    /// The store failed; the device is then refused its grant.
    fn register(&self, device: &DeviceId, token: &DeviceToken) -> Result<(), RegistryError>;

    /// Whether `token` is the one registered for `device`. An error in the store counts as
    /// `false`.
    fn check(&self, device: &DeviceId, token: &DeviceToken) -> bool;

    /// Whether `device` was ever paired (tells [`Refusal::UnknownDevice`] from
    /// [`Refusal::BadToken`]).
    fn knows(&self, device: &DeviceId) -> bool;
}

/// A [`DeviceRegistry`] store failure.
#[derive(Debug, thiserror::Error)]
#[error("device registry: {0}")]
pub struct RegistryError(pub String);

/// A [`DeviceRegistry`] in memory, holding SHA-256 of each token (for tests and a director
/// without a store).
#[derive(Debug, Default)]
pub struct MemoryRegistry {
    hashes: Mutex<HashMap<DeviceId, [u8; 32]>>,
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets `device` (unpairs it); returns whether it was known.
    pub fn forget(&self, device: &DeviceId) -> bool {
        lock(&self.hashes).remove(device).is_some()
    }
}

/// SHA-256 of a token, what registries store.
pub fn token_hash(token: &DeviceToken) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl DeviceRegistry for MemoryRegistry {
    fn register(&self, device: &DeviceId, token: &DeviceToken) -> Result<(), RegistryError> {
        lock(&self.hashes).insert(device.clone(), token_hash(token));
        Ok(())
    }

    fn check(&self, device: &DeviceId, token: &DeviceToken) -> bool {
        lock(&self.hashes)
            .get(device)
            .is_some_and(|stored| constant_time_eq(stored, &token_hash(token)))
    }

    fn knows(&self, device: &DeviceId) -> bool {
        lock(&self.hashes).contains_key(device)
    }
}

/// A lock that survives a panic in another holder (the data stays consistent: every critical
/// section here is a single map or counter update).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The monotonic clock pairing's lock is measured with; injectable so tests need no sleep.
pub type PairingClock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The director's pairing state, shared between the transport and the director (cheap to
/// clone): the code shown now and the failure counter with its lock.
#[derive(Clone)]
pub struct PairingState {
    limiter: Arc<Mutex<Limiter>>,
    clock: PairingClock,
}

impl fmt::Debug for PairingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairingState")
            .field("limiter", &*lock(&self.limiter))
            .finish_non_exhaustive()
    }
}

impl PairingState {
    /// Pairing with `code`, timed by the system's monotonic clock.
    pub fn new(code: PairingCode) -> Self {
        Self::with_clock(code, Arc::new(Instant::now))
    }

    /// Pairing with `code`, timed by `clock`.
    pub fn with_clock(code: PairingCode, clock: PairingClock) -> Self {
        Self {
            limiter: Arc::new(Mutex::new(Limiter::new(code))),
            clock,
        }
    }

    /// The code to show.
    pub fn code(&self) -> PairingCode {
        lock(&self.limiter).code
    }

    /// Shows a new code from now on (attempts in flight keep the old one). The failure count
    /// and any lock stay.
    pub fn set_code(&self, code: PairingCode) {
        lock(&self.limiter).code = code;
    }

    /// How long pairing stays locked, if it is.
    pub fn locked_for(&self) -> Option<Duration> {
        lock(&self.limiter).locked_for((self.clock)())
    }

    /// Starts an attempt, charged as a failure until [`PairingAttempt::succeed`].
    pub(crate) fn begin(&self) -> Result<PairingAttempt, Refusal> {
        let code = lock(&self.limiter).begin((self.clock)())?;
        Ok(PairingAttempt {
            state: self.clone(),
            code,
            done: false,
        })
    }
}

/// One attempt in flight. Dropped without [`PairingAttempt::succeed`], it counts as a failure.
pub(crate) struct PairingAttempt {
    state: PairingState,
    code: PairingCode,
    done: bool,
}

impl PairingAttempt {
    /// The code this attempt checks against.
    pub(crate) fn code(&self) -> PairingCode {
        self.code
    }

    /// The device proved it knows the code.
    pub(crate) fn succeed(mut self) {
        self.done = true;
        let now = (self.state.clock)();
        lock(&self.state.limiter).finish(now, true);
    }
}

impl Drop for PairingAttempt {
    fn drop(&mut self) {
        if !self.done {
            let now = (self.state.clock)();
            lock(&self.state.limiter).finish(now, false);
        }
    }
}

/// The counting behind [`PairingState`], sans clock: each method takes `now`.
#[derive(Debug)]
struct Limiter {
    code: PairingCode,
    failures: u32,
    in_flight: u32,
    locked_until: Option<Instant>,
}

impl Limiter {
    fn new(code: PairingCode) -> Self {
        Self {
            code,
            failures: 0,
            in_flight: 0,
            locked_until: None,
        }
    }

    fn locked_for(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    fn begin(&mut self, now: Instant) -> Result<PairingCode, Refusal> {
        if let Some(left) = self.locked_for(now) {
            return Err(Refusal::PairingLocked {
                retry_after_s: left.as_secs() + u64::from(left.subsec_nanos() > 0),
            });
        }
        if self.locked_until.take().is_some() {
            self.failures = 0;
        }
        if self.failures + self.in_flight >= MAX_FAILURES {
            // Only reachable with MAX_FAILURES attempts in flight at once.
            return Err(Refusal::PairingLocked {
                retry_after_s: LOCK_DURATION.as_secs(),
            });
        }
        self.in_flight += 1;
        Ok(self.code)
    }

    fn finish(&mut self, now: Instant, ok: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if ok {
            self.failures = 0;
        } else {
            self.failures += 1;
            if self.failures >= MAX_FAILURES {
                self.locked_until = Some(now + LOCK_DURATION);
            }
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 32], PairingError> {
    // HMAC takes keys of any length; the error is unreachable but kept out of a panic path.
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| PairingError::Confirmation)?;
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// The key both ends confirm: the SPAKE2 key bound to this TLS connection's exporter.
pub(crate) struct ConfirmedKey([u8; 32]);

impl ConfirmedKey {
    fn derive(spake_key: &[u8], exporter: &[u8; 32]) -> Result<Self, PairingError> {
        hmac(spake_key, &[b"boussole pairing v1", exporter]).map(Self)
    }

    pub(crate) fn server_confirm(&self) -> Result<[u8; 32], PairingError> {
        hmac(&self.0, &[b"director confirms"])
    }

    pub(crate) fn client_confirm(&self) -> Result<[u8; 32], PairingError> {
        hmac(&self.0, &[b"device confirms"])
    }

    pub(crate) fn grant_mac(
        &self,
        ca_der: &[u8],
        token: &DeviceToken,
    ) -> Result<[u8; 32], PairingError> {
        hmac(&self.0, &[b"grant", ca_der, token.as_bytes()])
    }
}

fn device_identity(device: &DeviceId) -> Identity {
    Identity::new(&[b"boussole-device:".as_slice(), device.0.as_bytes()].concat())
}

/// The device's side, between `Start` and `Reply`.
pub(crate) struct DeviceHandshake {
    spake: Spake2<Ed25519Group>,
}

impl DeviceHandshake {
    /// Starts SPAKE2 as side A; returns the `Start` message's `spake` bytes.
    pub(crate) fn start(code: PairingCode, device: &DeviceId) -> (Self, Vec<u8>) {
        let (spake, msg) = Spake2::<Ed25519Group>::start_a(
            &code.password(),
            &device_identity(device),
            &Identity::new(DIRECTOR_IDENTITY),
        );
        (Self { spake }, msg)
    }

    /// Finishes SPAKE2 with the director's message, binding the key to `exporter`.
    pub(crate) fn finish(
        self,
        director_spake: &[u8],
        exporter: &[u8; 32],
    ) -> Result<ConfirmedKey, PairingError> {
        let key = self
            .spake
            .finish(director_spake)
            .map_err(PairingError::Spake)?;
        ConfirmedKey::derive(&key, exporter)
    }
}

/// The director's side: answers a `Start` with SPAKE2 as side B; returns the key and the
/// `Reply`'s `spake` bytes.
pub(crate) fn director_respond(
    code: PairingCode,
    device: &DeviceId,
    device_spake: &[u8],
    exporter: &[u8; 32],
) -> Result<(ConfirmedKey, Vec<u8>), PairingError> {
    let (spake, msg) = Spake2::<Ed25519Group>::start_b(
        &code.password(),
        &device_identity(device),
        &Identity::new(DIRECTOR_IDENTITY),
    );
    let key = spake.finish(device_spake).map_err(PairingError::Spake)?;
    Ok((ConfirmedKey::derive(&key, exporter)?, msg))
}

/// Checks a received MAC against the expected one in constant time.
pub(crate) fn mac_ok(expected: &[u8; 32], received: &[u8; 32]) -> bool {
    constant_time_eq(expected, received)
}

/// Checks a grant on the device: its MAC under the confirmed key, then that the director's leaf
/// seen during the handshake (`chain`, leaf first) chains to the CA in the grant.
pub(crate) fn accept_grant(
    key: &ConfirmedKey,
    ca_der: Vec<u8>,
    token: DeviceToken,
    mac: &[u8; 32],
    chain: &[CertificateDer<'static>],
) -> Result<Pairing, PairingError> {
    if !mac_ok(&key.grant_mac(&ca_der, &token)?, mac) {
        return Err(PairingError::Confirmation);
    }
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err(PairingError::Certificate(TlsError::Rustls(
            rustls::Error::NoCertificatesPresented,
        )));
    };
    tls::verify_leaf(&ca_der, leaf, intermediates).map_err(PairingError::Certificate)?;
    Ok(Pairing { ca_der, token })
}

/// The device's verifier for its pairing connection only. It checks the TLS 1.3 handshake
/// signature against the presented leaf (so the server holds that leaf's key) and accepts the
/// chain for now: [`accept_grant`] checks it against the CA once the PAKE has succeeded. Never
/// used after pairing.
#[derive(Debug)]
pub(crate) struct DeferredChainVerifier {
    algorithms: WebPkiSupportedAlgorithms,
}

impl DeferredChainVerifier {
    pub(crate) fn new() -> Self {
        Self {
            algorithms: tls::provider().signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for DeferredChainVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Deferred, not skipped: see `accept_grant`.
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls13RequiredForQuic,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The device's rustls configuration for its pairing connection: TLS 1.3, *ring*, ALPN,
/// [`DeferredChainVerifier`], no session resumption (so the handshake always shows the leaf).
pub(crate) fn pairing_client_config() -> Result<rustls::ClientConfig, TlsError> {
    let mut config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(DeferredChainVerifier::new()))
        .with_no_client_auth();
    config.alpn_protocols = vec![crate::wire::ALPN.to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        device_code: PairingCode,
        director_code: PairingCode,
        device_exporter: [u8; 32],
        director_exporter: [u8; 32],
    ) -> Result<(bool, bool), PairingError> {
        let device = DeviceId::from("casque-1");
        let (hs, start) = DeviceHandshake::start(device_code, &device);
        let (director_key, reply) =
            director_respond(director_code, &device, &start, &director_exporter)?;
        let device_key = hs.finish(&reply, &device_exporter)?;
        let device_accepts = mac_ok(
            &director_key.server_confirm()?,
            &device_key.server_confirm()?,
        );
        let director_accepts = mac_ok(
            &device_key.client_confirm()?,
            &director_key.client_confirm()?,
        );
        Ok((device_accepts, director_accepts))
    }

    #[test]
    fn right_code_same_connection_confirms() -> Result<(), PairingError> {
        let code = PairingCode::random();
        assert_eq!(run(code, code, [7; 32], [7; 32])?, (true, true));
        Ok(())
    }

    #[test]
    fn wrong_code_fails_both_sides() -> Result<(), PairingError> {
        let a = PairingCode::parse("123456")?;
        let b = PairingCode::parse("123457")?;
        assert_eq!(run(a, b, [7; 32], [7; 32])?, (false, false));
        Ok(())
    }

    #[test]
    fn relayed_between_two_tls_sessions_fails() -> Result<(), PairingError> {
        // A man in the middle who knows nothing but relays the PAKE messages: each end sees its
        // own TLS session, hence its own exporter.
        let code = PairingCode::random();
        assert_eq!(run(code, code, [1; 32], [2; 32])?, (false, false));
        Ok(())
    }

    #[test]
    fn codes_parse_and_print_with_leading_zeros() -> Result<(), PairingError> {
        let code = PairingCode::parse(" 042-137 ")?;
        assert_eq!(code.to_string(), "042137");
        assert_eq!(format!("{code:?}"), "PairingCode(<redacted>)");
        assert!(PairingCode::parse("12345").is_err());
        assert!(PairingCode::parse("1234567").is_err());
        assert!(PairingCode::parse("12a456").is_err());
        assert!(PairingCode::parse("+12345").is_err());
        for _ in 0..100 {
            assert_eq!(PairingCode::random().to_string().len(), 6);
        }
        Ok(())
    }

    #[test]
    fn five_failures_lock_for_a_minute() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(PairingCode(1));
        for _ in 0..MAX_FAILURES {
            limiter.begin(t0)?;
            limiter.finish(t0, false);
        }
        assert_eq!(
            limiter.begin(t0 + Duration::from_millis(500)),
            Err(Refusal::PairingLocked { retry_after_s: 60 })
        );
        assert_eq!(
            limiter.begin(t0 + Duration::from_secs(59)),
            Err(Refusal::PairingLocked { retry_after_s: 1 })
        );
        // Open again after the lock, with a fresh budget.
        limiter.begin(t0 + LOCK_DURATION)?;
        limiter.finish(t0 + LOCK_DURATION, true);
        assert_eq!(limiter.failures, 0);
        Ok(())
    }

    #[test]
    fn attempts_in_flight_count_against_the_budget() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let mut limiter = Limiter::new(PairingCode(1));
        for _ in 0..MAX_FAILURES {
            limiter.begin(t0)?;
        }
        assert!(matches!(
            limiter.begin(t0),
            Err(Refusal::PairingLocked { .. })
        ));
        limiter.finish(t0, true);
        assert_eq!(limiter.failures, 0);
        limiter.begin(t0)?;
        Ok(())
    }

    #[test]
    fn dropped_attempt_counts_as_failure() -> Result<(), Refusal> {
        let state = PairingState::new(PairingCode(1));
        for _ in 0..MAX_FAILURES {
            drop(state.begin()?);
        }
        assert!(state.locked_for().is_some());
        Ok(())
    }

    #[test]
    fn registry_keeps_hashes_only() {
        let registry = MemoryRegistry::new();
        let device = DeviceId::from("ecran-1");
        let token = DeviceToken::random();
        assert!(!registry.knows(&device));
        assert!(registry.register(&device, &token).is_ok());
        assert!(registry.knows(&device));
        assert!(registry.check(&device, &token));
        assert!(!registry.check(&device, &DeviceToken::random()));
        assert!(!registry.check(&DeviceId::from("autre"), &token));
        let stored = lock(&registry.hashes).get(&device).copied();
        assert_eq!(stored, Some(token_hash(&token)));
        assert_ne!(stored.as_ref(), Some(token.as_bytes()));
        assert!(registry.forget(&device));
        assert!(!registry.check(&device, &token));
    }
}
