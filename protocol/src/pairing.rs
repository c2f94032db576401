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
//! 2. director → `Reply { spake, confirm }` (or `Refused(PairingClosed | PairingLocked |
//!    PairingBusy | VersionMismatch)`)
//! 3. device → `Confirm { confirm }`
//! 4. director → `Grant { ca_der, token, mac }` (or `Refused(WrongPairingCode)`)
//!
//! **The window.** Pairing is open only while the facilitator has opened it
//! ([`PairingState::open`]): for [`OPEN_FOR`] with a code chosen for that opening; closed, a
//! `Start` is refused with [`Refusal::PairingClosed`].
//!
//! **Guesses.** The director's `Reply` carries its key confirmation, so a device that receives
//! it can check its guess of the code offline: every `Reply` sent is one guess spent. The rule
//! is therefore on replies, not on connections (the limiter, [`Limiter`], is sans I/O and
//! tested on its own):
//! - at most [`MAX_WRONG_CODES`] wrong codes in any [`WRONG_CODE_WINDOW`] (a sliding window:
//!   successes in between change nothing); with that many, a `Start` is refused with
//!   [`Refusal::PairingLocked`] until the oldest wrong code falls out of the window;
//! - a code is wrong when the device's confirmation does not check out, or when the device
//!   received the director's `Reply` and never confirmed (it could have tested its guess and
//!   left); an attempt that ends before the `Reply` (the device vanished, a malformed message)
//!   is no guess and counts for nothing;
//! - replies unresolved count against the budget while they wait for their confirmation (one
//!   round trip for an honest device): a `Start` beyond the budget waits for a reply slot
//!   instead of being refused, so twenty devices typing the code within the same second all
//!   pair, one round trip after another, and no more than [`MAX_WRONG_CODES`] guesses are
//!   ever checked per window;
//! - at most [`MAX_IN_FLIGHT`] attempts at once (waiting ones included); beyond, and for a
//!   wait longer than [`crate::transport::STEP_TIMEOUT`], [`Refusal::PairingBusy`]. Every
//!   attempt holds its slot through a guard ([`PairingAttempt`]) that gives it back however
//!   the attempt ends.

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
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Wrong codes allowed in any [`WRONG_CODE_WINDOW`]; the next `Start` is refused with
/// [`Refusal::PairingLocked`] until the oldest of them is older than the window. Five a minute
/// gives a guesser of a six-digit code one chance in 200 000 per minute (issue 14).
pub const MAX_WRONG_CODES: usize = 5;

/// The sliding window wrong codes are counted over (the last 60 s).
pub const WRONG_CODE_WINDOW: Duration = Duration::from_secs(60);

/// Pairing attempts the director runs at once, those waiting for a reply slot included; one
/// more is refused with [`Refusal::PairingBusy`]. A room has a few dozen devices at most.
pub const MAX_IN_FLIGHT: usize = 64;

/// How long pairing stays open once the facilitator opens it (10 minutes, issue 14).
pub const OPEN_FOR: Duration = Duration::from_secs(10 * 60);

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

/// The monotonic clock pairing's window and wrong codes are measured with; injectable so tests
/// need no sleep.
pub type PairingClock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The director's pairing state, shared between the transport and the director (cheap to
/// clone): the window (open or closed, its code), the wrong codes of the last minute and the
/// attempts in flight. See the module's documentation for the rules.
#[derive(Clone)]
pub struct PairingState {
    limiter: Arc<Mutex<Limiter>>,
    clock: PairingClock,
    /// Woken whenever an attempt ends, so attempts waiting for a reply slot look again.
    ended: Arc<tokio::sync::Notify>,
}

impl fmt::Debug for PairingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairingState")
            .field("limiter", &*lock(&self.limiter))
            .finish_non_exhaustive()
    }
}

impl Default for PairingState {
    fn default() -> Self {
        Self::new()
    }
}

/// The pairing window while it is open: what the facilitator's console shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenWindow {
    /// The code devices type now.
    pub code: PairingCode,
    /// How long it stays open (at most [`OPEN_FOR`]).
    pub left: Duration,
}

impl PairingState {
    /// Pairing closed, timed by the system's monotonic clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(Instant::now))
    }

    /// Pairing closed, timed by `clock`.
    pub fn with_clock(clock: PairingClock) -> Self {
        Self {
            limiter: Arc::new(Mutex::new(Limiter::default())),
            clock,
            ended: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Opens pairing for [`OPEN_FOR`] from now with `code` (the director draws a fresh
    /// [`PairingCode::random`] at each opening; scripts and tests may give theirs). Opening
    /// again replaces the code and restarts the ten minutes; attempts in flight keep the code
    /// they started with. Wrong codes of the last minute still count.
    pub fn open(&self, code: PairingCode) -> OpenWindow {
        let now = (self.clock)();
        lock(&self.limiter).open(code, now + OPEN_FOR);
        OpenWindow {
            code,
            left: OPEN_FOR,
        }
    }

    /// Closes pairing now: later `Start`s are refused with [`Refusal::PairingClosed`]
    /// (attempts in flight finish with their code).
    pub fn close(&self) {
        lock(&self.limiter).window = None;
    }

    /// The window, while it is open.
    pub fn window(&self) -> Option<OpenWindow> {
        let now = (self.clock)();
        lock(&self.limiter)
            .window(now)
            .map(|(code, left)| OpenWindow { code, left })
    }

    /// How long pairing stays locked after too many wrong codes, if it is.
    pub fn locked_for(&self) -> Option<Duration> {
        lock(&self.limiter).locked_for((self.clock)())
    }

    /// Starts an attempt: refused while closed, locked or busy.
    pub(crate) fn begin(&self) -> Result<PairingAttempt, Refusal> {
        let code = lock(&self.limiter).begin((self.clock)())?;
        Ok(PairingAttempt {
            state: self.clone(),
            code,
            replied: false,
            done: false,
        })
    }
}

/// One attempt in flight; it holds an in-flight slot (and a reply slot once
/// [`PairingAttempt::reply_slot`] gave one) until it ends. Dropped without
/// [`PairingAttempt::succeed`] or [`PairingAttempt::wrong_code`], it counts as a wrong code if
/// the director had sent its reply, and for nothing otherwise.
pub(crate) struct PairingAttempt {
    state: PairingState,
    code: PairingCode,
    replied: bool,
    done: bool,
}

impl PairingAttempt {
    /// The code this attempt checks against.
    pub(crate) fn code(&self) -> PairingCode {
        self.code
    }

    /// Waits until the director may send its reply (a guess is spent from then on): at once
    /// while fewer than [`MAX_WRONG_CODES`] wrong codes and unresolved replies are counted,
    /// otherwise when an attempt ends, for at most `wait`.
    ///
    /// # Errors
    /// [`Refusal::PairingLocked`] when the wrong codes reach the limit meanwhile,
    /// [`Refusal::PairingBusy`] after `wait`.
    pub(crate) async fn reply_slot(&mut self, wait: Duration) -> Result<(), Refusal> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so an attempt that ends in between still wakes us.
            let ended = self.state.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            let now = (self.state.clock)();
            if lock(&self.state.limiter).reply(now)? {
                self.replied = true;
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return Err(Refusal::PairingBusy);
            }
        }
    }

    /// The device proved it knows the code.
    pub(crate) fn succeed(mut self) {
        self.finish(Outcome::Right);
    }

    /// The device's confirmation did not check out: a wrong code.
    pub(crate) fn wrong_code(mut self) {
        self.finish(Outcome::Wrong);
    }

    fn finish(&mut self, outcome: Outcome) {
        if self.done {
            return;
        }
        self.done = true;
        let now = (self.state.clock)();
        lock(&self.state.limiter).finish(now, self.replied, outcome);
        self.state.ended.notify_waiters();
    }
}

impl Drop for PairingAttempt {
    fn drop(&mut self) {
        self.finish(Outcome::Abandoned);
    }
}

/// How a pairing attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// The device's confirmation checked out.
    Right,
    /// The device's confirmation did not check out.
    Wrong,
    /// It ended otherwise (the device left, a malformed or late message, the director failed).
    Abandoned,
}

/// The counting behind [`PairingState`], sans clock and sans I/O: each method takes `now`.
#[derive(Debug, Default)]
struct Limiter {
    /// The code and the end of the window, while open.
    window: Option<(PairingCode, Instant)>,
    /// When each wrong code of the last [`WRONG_CODE_WINDOW`] happened, oldest first (at most
    /// [`MAX_WRONG_CODES`]: a wrong code needs a reply slot, which needs room under the limit).
    wrong: VecDeque<Instant>,
    /// Attempts started and not ended.
    in_flight: usize,
    /// Attempts the director replied to, not ended yet (each is a guess in the balance).
    replying: usize,
}

impl Limiter {
    fn open(&mut self, code: PairingCode, until: Instant) {
        self.window = Some((code, until));
    }

    fn window(&self, now: Instant) -> Option<(PairingCode, Duration)> {
        let (code, until) = self.window?;
        let left = until.checked_duration_since(now).filter(|d| !d.is_zero())?;
        Some((code, left))
    }

    /// Forgets wrong codes older than the window.
    fn prune(&mut self, now: Instant) {
        while let Some(&oldest) = self.wrong.front() {
            if now.saturating_duration_since(oldest) >= WRONG_CODE_WINDOW {
                self.wrong.pop_front();
            } else {
                break;
            }
        }
    }

    fn locked_for(&mut self, now: Instant) -> Option<Duration> {
        self.prune(now);
        if self.wrong.len() < MAX_WRONG_CODES {
            return None;
        }
        let oldest = *self.wrong.front()?;
        (oldest + WRONG_CODE_WINDOW)
            .checked_duration_since(now)
            .filter(|d| !d.is_zero())
    }

    fn locked(&mut self, now: Instant) -> Result<(), Refusal> {
        match self.locked_for(now) {
            Some(left) => Err(Refusal::PairingLocked {
                retry_after_s: left.as_secs() + u64::from(left.subsec_nanos() > 0),
            }),
            None => Ok(()),
        }
    }

    fn begin(&mut self, now: Instant) -> Result<PairingCode, Refusal> {
        let Some((code, _)) = self.window(now) else {
            return Err(Refusal::PairingClosed);
        };
        self.locked(now)?;
        if self.in_flight >= MAX_IN_FLIGHT {
            return Err(Refusal::PairingBusy);
        }
        self.in_flight += 1;
        Ok(code)
    }

    /// Takes a reply slot (`Ok(true)`), or says to wait for one (`Ok(false)`).
    fn reply(&mut self, now: Instant) -> Result<bool, Refusal> {
        self.locked(now)?;
        if self.wrong.len() + self.replying >= MAX_WRONG_CODES {
            return Ok(false);
        }
        self.replying += 1;
        Ok(true)
    }

    fn finish(&mut self, now: Instant, replied: bool, outcome: Outcome) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if replied {
            self.replying = self.replying.saturating_sub(1);
            if outcome != Outcome::Right {
                self.prune(now);
                self.wrong.push_back(now);
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

    const CODE: PairingCode = PairingCode(271_828);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// A limiter open from `t0` for [`OPEN_FOR`].
    fn open_at(t0: Instant) -> Limiter {
        let mut limiter = Limiter::default();
        limiter.open(CODE, t0 + OPEN_FOR);
        limiter
    }

    /// One whole attempt at `at`: started, replied to, ended with `outcome`.
    fn attempt(limiter: &mut Limiter, at: Instant, outcome: Outcome) -> Result<(), Refusal> {
        limiter.begin(at)?;
        assert_eq!(limiter.reply(at), Ok(true), "a reply slot is free");
        limiter.finish(at, true, outcome);
        Ok(())
    }

    #[test]
    fn closed_until_opened_then_for_ten_minutes_with_its_code() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let mut limiter = Limiter::default();
        assert_eq!(limiter.begin(t0), Err(Refusal::PairingClosed));
        assert_eq!(limiter.window(t0), None);
        limiter.open(CODE, t0 + OPEN_FOR);
        assert_eq!(
            limiter.window(t0 + secs(60)),
            Some((CODE, OPEN_FOR - secs(60)))
        );
        assert_eq!(limiter.begin(t0 + OPEN_FOR - secs(1))?, CODE);
        limiter.finish(t0 + OPEN_FOR - secs(1), false, Outcome::Abandoned);
        assert_eq!(limiter.begin(t0 + OPEN_FOR), Err(Refusal::PairingClosed));
        assert_eq!(limiter.window(t0 + OPEN_FOR), None);
        // Opened again: a new code, ten minutes more.
        let other = PairingCode(42);
        limiter.open(other, t0 + OPEN_FOR + OPEN_FOR);
        assert_eq!(limiter.begin(t0 + OPEN_FOR)?, other);
        Ok(())
    }

    #[test]
    fn the_sixth_wrong_code_in_a_minute_waits_for_the_oldest_to_leave() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let mut limiter = open_at(t0);
        // Wrong codes at 0, 10, 20, 30, 40 s, a right one between each.
        for k in 0..5 {
            if k > 0 {
                attempt(&mut limiter, t0 + secs(10 * k - 5), Outcome::Right)?;
            }
            attempt(&mut limiter, t0 + secs(10 * k), Outcome::Wrong)?;
        }
        assert_eq!(
            limiter.begin(t0 + secs(45)),
            Err(Refusal::PairingLocked { retry_after_s: 15 })
        );
        // Rounded up: 14.5 s left is "15 s".
        assert_eq!(
            limiter.begin(t0 + Duration::from_millis(45_500)),
            Err(Refusal::PairingLocked { retry_after_s: 15 })
        );
        assert_eq!(
            limiter.locked_for(t0 + secs(59)),
            Some(secs(1)),
            "locked until the wrong code of 0 s is a minute old"
        );
        // At 60 s the oldest leaves: one more guess, and the next waits for the one of 10 s.
        attempt(&mut limiter, t0 + secs(60), Outcome::Wrong)?;
        assert_eq!(
            limiter.begin(t0 + secs(61)),
            Err(Refusal::PairingLocked { retry_after_s: 9 })
        );
        attempt(&mut limiter, t0 + secs(70), Outcome::Right)?;
        Ok(())
    }

    #[test]
    fn successes_do_not_reset_the_wrong_codes() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let mut limiter = open_at(t0);
        for k in 0..4 {
            attempt(&mut limiter, t0 + secs(k), Outcome::Wrong)?;
        }
        for k in 4..20 {
            attempt(&mut limiter, t0 + secs(k), Outcome::Right)?;
        }
        attempt(&mut limiter, t0 + secs(20), Outcome::Wrong)?;
        assert_eq!(
            limiter.begin(t0 + secs(21)),
            Err(Refusal::PairingLocked { retry_after_s: 39 })
        );
        Ok(())
    }

    #[test]
    fn attempts_in_flight_are_not_wrong_codes_and_are_bounded() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let mut limiter = open_at(t0);
        for _ in 0..MAX_IN_FLIGHT {
            assert_eq!(limiter.begin(t0)?, CODE);
        }
        assert_eq!(limiter.begin(t0), Err(Refusal::PairingBusy));
        // Five replies at once; the others wait for a slot, they are not refused.
        for _ in 0..MAX_WRONG_CODES {
            assert_eq!(limiter.reply(t0), Ok(true));
        }
        assert_eq!(limiter.reply(t0), Ok(false));
        // Each right code frees its slot for the next.
        for _ in 0..MAX_IN_FLIGHT - MAX_WRONG_CODES {
            limiter.finish(t0, true, Outcome::Right);
            assert_eq!(limiter.reply(t0), Ok(true));
        }
        for _ in 0..MAX_WRONG_CODES {
            limiter.finish(t0, true, Outcome::Right);
        }
        assert_eq!((limiter.in_flight, limiter.replying), (0, 0));
        assert_eq!(limiter.locked_for(t0), None);
        assert_eq!(limiter.begin(t0)?, CODE);
        Ok(())
    }

    #[test]
    fn an_attempt_left_before_the_reply_is_no_guess_after_it_is_one() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let mut limiter = open_at(t0);
        for _ in 0..100 {
            limiter.begin(t0)?;
            limiter.finish(t0, false, Outcome::Abandoned);
        }
        assert_eq!(limiter.locked_for(t0), None);
        assert_eq!(limiter.in_flight, 0, "no slot leaks");
        for _ in 0..MAX_WRONG_CODES {
            attempt(&mut limiter, t0, Outcome::Abandoned)?;
        }
        assert_eq!(
            limiter.begin(t0),
            Err(Refusal::PairingLocked { retry_after_s: 60 })
        );
        Ok(())
    }

    #[test]
    fn wrong_codes_meanwhile_lock_an_attempt_waiting_for_its_reply() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let mut limiter = open_at(t0);
        for _ in 0..=MAX_WRONG_CODES {
            limiter.begin(t0)?;
        }
        for _ in 0..MAX_WRONG_CODES {
            assert_eq!(limiter.reply(t0), Ok(true));
        }
        assert_eq!(limiter.reply(t0), Ok(false));
        for _ in 0..MAX_WRONG_CODES {
            limiter.finish(t0 + secs(1), true, Outcome::Wrong);
        }
        assert_eq!(
            limiter.reply(t0 + secs(1)),
            Err(Refusal::PairingLocked { retry_after_s: 60 })
        );
        Ok(())
    }

    /// A step of the interleavings test.
    #[derive(Clone, Debug)]
    enum Step {
        /// A device starts an attempt.
        Begin,
        /// The director asks for a reply slot for the `n`th attempt started and not replied.
        Reply(usize),
        /// The `n`th attempt in flight ends so.
        End(usize, Outcome),
        /// Time passes, ms.
        Wait(u64),
        /// The facilitator opens (`true`) or closes the window.
        Window(bool),
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        let outcome = prop_oneof![
            Just(Outcome::Right),
            Just(Outcome::Wrong),
            Just(Outcome::Abandoned)
        ];
        prop_oneof![
            4 => Just(Step::Begin),
            4 => (0usize..8).prop_map(Step::Reply),
            6 => (0usize..8, outcome).prop_map(|(n, o)| Step::End(n, o)),
            3 => (0u64..30_000).prop_map(Step::Wait),
            1 => any::<bool>().prop_map(Step::Window),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 512,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// Any interleaving of starts, replies, ends, waits and openings, against a plain model
        /// that keeps every wrong code: never more than five wrong codes in 60 s, a refusal
        /// exactly when the model says so and with the model's delay, and no slot leaked.
        #[test]
        fn interleavings_keep_to_five_wrong_codes_a_minute(
            steps in proptest::collection::vec(step(), 1..200)
        ) {
            let t0 = Instant::now();
            let mut now = t0;
            let mut limiter = Limiter::default();
            let mut open_until: Option<Instant> = None;
            let mut all_wrong: Vec<Instant> = Vec::new();
            // Attempts in flight: whether each was replied to.
            let mut flying: Vec<bool> = Vec::new();
            let counted = |wrong: &[Instant], now: Instant| -> Vec<Instant> {
                wrong
                    .iter()
                    .copied()
                    .filter(|w| now.saturating_duration_since(*w) < WRONG_CODE_WINDOW)
                    .collect()
            };
            for step in steps {
                match step {
                    Step::Begin => {
                        let recent = counted(&all_wrong, now);
                        let expected = if open_until.is_none_or(|u| u <= now) {
                            Err(Refusal::PairingClosed)
                        } else if recent.len() >= MAX_WRONG_CODES {
                            let left = recent[0] + WRONG_CODE_WINDOW - now;
                            Err(Refusal::PairingLocked {
                                retry_after_s: left.as_secs()
                                    + u64::from(left.subsec_nanos() > 0),
                            })
                        } else if flying.len() >= MAX_IN_FLIGHT {
                            Err(Refusal::PairingBusy)
                        } else {
                            Ok(CODE)
                        };
                        let got = limiter.begin(now);
                        proptest::prop_assert_eq!(&got, &expected);
                        if got.is_ok() {
                            flying.push(false);
                        }
                    }
                    Step::Reply(n) => {
                        let waiting: Vec<usize> =
                            (0..flying.len()).filter(|i| !flying[*i]).collect();
                        let Some(&i) = waiting.get(n % waiting.len().max(1)) else {
                            continue;
                        };
                        let recent = counted(&all_wrong, now).len();
                        let replying = flying.iter().filter(|r| **r).count();
                        let got = limiter.reply(now);
                        if recent >= MAX_WRONG_CODES {
                            proptest::prop_assert!(
                                matches!(got, Err(Refusal::PairingLocked { .. })),
                                "{:?}", got
                            );
                        } else {
                            proptest::prop_assert_eq!(
                                got,
                                Ok(recent + replying < MAX_WRONG_CODES)
                            );
                            if recent + replying < MAX_WRONG_CODES {
                                flying[i] = true;
                            }
                        }
                    }
                    Step::End(n, outcome) => {
                        if flying.is_empty() {
                            continue;
                        }
                        let replied = flying.remove(n % flying.len());
                        // The director judges a code only after its reply.
                        let outcome = if replied { outcome } else { Outcome::Abandoned };
                        limiter.finish(now, replied, outcome);
                        if replied && outcome != Outcome::Right {
                            all_wrong.push(now);
                        }
                    }
                    Step::Wait(ms) => now += Duration::from_millis(ms),
                    Step::Window(true) => {
                        limiter.open(CODE, now + OPEN_FOR);
                        open_until = Some(now + OPEN_FOR);
                    }
                    Step::Window(false) => {
                        limiter.window = None;
                        open_until = None;
                    }
                }
                proptest::prop_assert!(
                    counted(&all_wrong, now).len() <= MAX_WRONG_CODES,
                    "more than five wrong codes within a minute"
                );
                proptest::prop_assert_eq!(limiter.in_flight, flying.len());
                proptest::prop_assert_eq!(
                    limiter.replying,
                    flying.iter().filter(|r| **r).count()
                );
            }
        }
    }

    #[tokio::test]
    async fn a_waiting_reply_goes_on_when_an_attempt_ends() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let state = PairingState::with_clock(Arc::new(move || t0));
        assert!(matches!(state.begin(), Err(Refusal::PairingClosed)));
        state.open(CODE);
        let mut first = Vec::new();
        for _ in 0..MAX_WRONG_CODES {
            let mut attempt = state.begin()?;
            attempt.reply_slot(Duration::ZERO).await?;
            first.push(attempt);
        }
        let mut sixth = state.begin()?;
        {
            let waiting = sixth.reply_slot(Duration::from_secs(3600));
            tokio::pin!(waiting);
            // Polled once: it has no slot yet and waits.
            assert!(poll_once(waiting.as_mut()).await.is_none());
            if let Some(done) = first.pop() {
                done.succeed();
            }
            // Now it has one (the guard only catches a lost wake-up).
            assert_eq!(
                tokio::time::timeout(Duration::from_secs(20), waiting).await,
                Ok(Ok(()))
            );
        }
        sixth.wrong_code();
        drop(first);
        // Four abandoned after their reply and one wrong: five guesses, locked.
        assert_eq!(state.locked_for(), Some(WRONG_CODE_WINDOW));
        Ok(())
    }

    /// Polls `fut` once: its output if it is ready, `None` if it waits.
    async fn poll_once<F: Future + Unpin>(fut: F) -> Option<F::Output> {
        let mut fut = fut;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut fut).poll(cx) {
                std::task::Poll::Ready(out) => Some(out),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }

    #[tokio::test]
    async fn a_full_budget_refuses_a_waiting_reply_as_busy_after_its_wait() -> Result<(), Refusal> {
        let t0 = Instant::now();
        let state = PairingState::with_clock(Arc::new(move || t0));
        state.open(CODE);
        let mut held = Vec::new();
        for _ in 0..MAX_WRONG_CODES {
            let mut attempt = state.begin()?;
            attempt.reply_slot(Duration::ZERO).await?;
            held.push(attempt);
        }
        let mut late = state.begin()?;
        assert_eq!(
            late.reply_slot(Duration::ZERO).await,
            Err(Refusal::PairingBusy)
        );
        drop(late);
        state.close();
        assert!(matches!(state.begin(), Err(Refusal::PairingClosed)));
        assert_eq!(state.window(), None);
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
