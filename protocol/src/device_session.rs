//! One device's session with the director, without I/O: the state machine every device runs
//! (the game's link and the simulated devices alike), in the shape of quinn-proto's
//! `Connection`. What happens goes in — messages received, the outcome of a discovery, a
//! pairing or a connection attempt, a lost connection, the time — and what to do comes out:
//! [`Action`]s for the driver's I/O (browse, pair, connect, drop the connection, save or forget
//! the pairing), [`ClientMsg`]s to send on the current connection, [`SessionEvent`]s for the
//! application, and the next deadline.
//!
//! It owns, once for every device: the pairing state (a code typed, a pairing forgotten by the
//! director), the on-disk outbox and its resend after each reconnection (DESIGN principle 2),
//! the cue ledger (each firing applied once, acknowledged every time), the clock sync and its
//! pings (which double as the liveness check), the content download, and the snapshot the
//! director sends on every welcome (principle 3). [`crate::device_driver`] runs it over QUIC.
//!
//! Time comes in as a monotonic [`Instant`]; the device's own millisecond clock (the clock of
//! `ClockPing` and `CueApplied`) is derived from it by [`DeviceClock`], so a test can run a
//! session in virtual time, with a skewed and drifting clock.

use crate::clock::{ClockSync, Sample};
use crate::content_sync::{ContentSync, SyncError, SyncEvent};
use crate::cues::{Arrival, CueLedger};
use crate::event::{DeviceEvent, DeviceId, ParticipantId};
use crate::outbox::{Outbox, OutboxError};
use crate::pairing::{Pairing, PairingCode};
use crate::wire::{ClientMsg, Hello, PROTOCOL_VERSION, Refusal, Role, ServerMsg, Snapshot};
use boussole_content::ids::{CueId, EndingId, ImmersionId, PuzzleId, StationId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How a device behaves on its link.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// The device's name, as the director registers it (`tablette_quai`).
    pub device: DeviceId,
    /// What it is.
    pub role: Role,
    /// The director's address; `None`: found on the local network ([`Action::Discover`]).
    pub director: Option<SocketAddr>,
    /// A pairing code to use when the session has no pairing (given at start); without it
    /// the session waits for [`DeviceSession::pair_with`].
    pub pairing_code: Option<PairingCode>,
    /// SHA-256 of the content the device holds (all zeros: none), presented in each `Hello`
    /// until a download replaces it.
    pub content_hash: [u8; 32],
    /// Download the director's content when told it differs.
    pub sync_content: bool,
    /// Interval of clock pings, which double as a liveness check (the first
    /// [`crate::clock::FAST_SAMPLES`] come faster, every
    /// [`crate::clock::FAST_SAMPLE_INTERVAL_MS`]).
    pub ping_interval: Duration,
    /// With nothing heard from the director for this long, the connection is dropped and
    /// made again (a killed director is otherwise noticed only at QUIC's 12 s idle timeout).
    pub silence_timeout: Duration,
    /// Pause after a failed round of connection attempts (or a lost connection) before the
    /// next round: a device never gives up.
    pub retry_pause: Duration,
    /// Pause after a discovery that failed (no network), so a broken network does not spin.
    pub discovery_retry: Duration,
}

impl SessionConfig {
    /// Defaults for `device` playing `role`: discovery, no code, no content hash, content
    /// sync on, a ping every 500 ms, 3 s of silence tolerated, 250 ms between connection
    /// rounds, 3 s after a failed discovery.
    pub fn new(device: DeviceId, role: Role) -> Self {
        Self {
            device,
            role,
            director: None,
            pairing_code: None,
            content_hash: [0; 32],
            sync_content: true,
            ping_interval: Duration::from_millis(500),
            silence_timeout: Duration::from_secs(3),
            retry_pause: Duration::from_millis(250),
            discovery_retry: Duration::from_secs(3),
        }
    }
}

/// The device's millisecond clock, derived from the monotonic clock: `base_ms + offset_ms` at
/// `epoch`, running `drift_ppm` parts per million fast (quartz stays within ±100 ppm). Real
/// devices use no offset and no drift; simulated ones set both so clock sync has something to
/// find.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeviceClock {
    epoch: Instant,
    base_ms: i64,
    drift_ppm: f64,
}

impl DeviceClock {
    /// A clock reading 0 ms at `epoch`, at the machine's rate.
    pub fn new(epoch: Instant) -> Self {
        Self::skewed(epoch, 0, 0.0)
    }

    /// A clock reading `base_ms` at `epoch` and running `drift_ppm` fast (negative: slow).
    /// Readings below zero read as zero.
    pub fn skewed(epoch: Instant, base_ms: i64, drift_ppm: f64) -> Self {
        Self {
            epoch,
            base_ms,
            drift_ppm,
        }
    }

    /// The clock at `now`, whole milliseconds, truncated as a device's millisecond clock reads.
    pub fn local_ms(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.epoch).as_secs_f64()
            * 1000.0
            * (1.0 + self.drift_ppm * 1e-6);
        u64::try_from(self.base_ms.saturating_add(elapsed as i64)).unwrap_or(0)
    }

    /// The instant at which the clock reads `local_ms` (the inverse of
    /// [`local_ms`](Self::local_ms), without its rounding).
    pub fn instant_of(&self, local_ms: f64) -> Instant {
        let since_epoch_ms = (local_ms - self.base_ms as f64) / (1.0 + self.drift_ppm * 1e-6);
        let d = Duration::from_secs_f64(since_epoch_ms.abs() / 1000.0);
        if since_epoch_ms >= 0.0 {
            self.epoch + d
        } else {
            self.epoch.checked_sub(d).unwrap_or(self.epoch)
        }
    }
}

/// Where the link stands, for the status line and the pairing screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    /// Looking for a director on the local network.
    Discovering,
    /// No pairing and no code: the device must ask for one. `error` says why the last code
    /// failed, or why the pairing was lost, in French.
    NeedsCode {
        /// Why, in French.
        error: Option<String>,
    },
    /// Pairing with a code.
    Pairing,
    /// Connecting (with backoff).
    Connecting,
    /// Welcomed by the director.
    Online {
        /// Its display name.
        director_name: String,
    },
    /// Lost; reconnecting. The application keeps its state.
    Offline {
        /// Why, in French.
        reason: String,
    },
}

/// I/O the driver performs for the session, then reports the outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Browse the local network once; report with [`DeviceSession::on_discovered`].
    Discover,
    /// Pair with `code` at `addr`; report with [`DeviceSession::on_paired`].
    Pair {
        /// The director.
        addr: SocketAddr,
        /// The code typed.
        code: PairingCode,
    },
    /// Connect (a round of attempts with backoff) and present `hello`, pinned to `ca_der`;
    /// report with [`DeviceSession::on_connected`] or [`DeviceSession::on_connect_failed`].
    Connect {
        /// The director.
        addr: SocketAddr,
        /// The first frame.
        hello: Hello,
        /// The director's CA, DER.
        ca_der: Vec<u8>,
    },
    /// Close the current connection (the session already counts it as lost).
    Disconnect,
    /// Keep this pairing (on disk, for the next start).
    SavePairing(Pairing),
    /// The director forgot this device: delete the saved pairing.
    ForgetPairing,
}

/// Why a pairing or a connection attempt failed, as the driver saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkFailure {
    /// The director's refusal, if it refused.
    pub refusal: Option<Refusal>,
    /// What happened, for the log and the status line.
    pub message: String,
}

impl From<&crate::transport::ClientError> for LinkFailure {
    fn from(e: &crate::transport::ClientError) -> Self {
        Self {
            refusal: e.refusal().cloned(),
            message: e.to_string(),
        }
    }
}

impl LinkFailure {
    /// The failure in French, for the device's screen.
    pub fn french(&self) -> String {
        match &self.refusal {
            Some(Refusal::WrongPairingCode) => {
                "code erroné, vérifiez le code affiché par la régie".to_owned()
            }
            Some(Refusal::PairingLocked { retry_after_s }) => {
                format!("trop d'essais : attendez {retry_after_s} s avant de réessayer")
            }
            Some(Refusal::UnknownDevice | Refusal::BadToken) => {
                "la régie ne reconnaît plus cet appareil : tapez le code d'appairage affiché par la régie"
                    .to_owned()
            }
            Some(r) => format!("refusé par la régie : {r}"),
            None => format!("régie injoignable : {}", self.message),
        }
    }
}

/// What the session hands to the application, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// The link's state changed.
    State(LinkState),
    /// A (new) connection was welcomed; a snapshot follows.
    Welcome {
        /// The director's display name.
        director_name: String,
        /// Whether the device's content is the director's.
        content_in_sync: bool,
    },
    /// A cue firing to apply, once per instance (already acknowledged with `device_ms`).
    Cue {
        /// The firing.
        instance: u64,
        /// The cue.
        cue: CueId,
        /// Its scheduled start on this device's clock ([`DeviceClock::local_ms`]); `None`
        /// before the first clock sample (start now).
        start_local_ms: Option<u64>,
        /// The device time acknowledged: the scheduled start, or now if that is past.
        device_ms: u64,
    },
    /// Stop every running cue.
    StopAll,
    /// Show a hint.
    Hint {
        /// The puzzle.
        puzzle: PuzzleId,
        /// The rung, from 1.
        level: u8,
    },
    /// The session's state.
    Snapshot(Snapshot),
    /// The director committed the event `seq` of this device.
    Acked {
        /// The event's number.
        seq: u64,
    },
    /// A line from the director.
    Notice(String),
    /// Headsets: the immersion to run (`None`: stop it).
    Immersion {
        /// The immersion.
        immersion: Option<ImmersionId>,
        /// Who wears the headset.
        participant: Option<ParticipantId>,
        /// When the director started it, session ms.
        started_at_ms: Option<u64>,
        /// The wearer already finished a tutorial in this session.
        tutorial_done: bool,
    },
    /// Content by file is under way: what is stored so far (distinct files by hash, and their
    /// bytes, of what was missing when the manifest came).
    ContentProgress {
        /// Files stored so far.
        files_done: usize,
        /// Files to fetch.
        files: usize,
        /// Bytes written so far.
        bytes_done: u64,
        /// Bytes to fetch.
        bytes: u64,
    },
    /// The role and station the facilitator gave this device ([`ServerMsg::Placement`]). A
    /// role other than the session's is the application's to take: the game restarts in
    /// it, a simulated device calls [`DeviceSession::adopt_role`].
    Placement {
        /// The role to play.
        role: Role,
        /// The station, if any.
        station: Option<StationId>,
    },
    /// How this device plays sound ([`ServerMsg::Sound`]).
    Sound(crate::wire::SoundSettings),
    /// The facilitator paused or resumed this headset ([`ServerMsg::Pause`]).
    Pause {
        /// Paused now.
        paused: bool,
    },
    /// The role's content was fetched, every file verified, and its tree is `dir` (`content/`,
    /// `assets/`); the next `Hello` presents `hash`.
    ContentSynced {
        /// The tree.
        dir: PathBuf,
        /// Its manifest's hash.
        hash: [u8; 32],
    },
}

/// The clock sync's view, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockReport {
    /// Director clock minus device clock, ms (the estimate at its latest sample).
    pub offset_ms: f64,
    /// Half-width of the band the true offset lies in, ms.
    pub uncertainty_ms: f64,
    /// Smallest round trip seen, ms.
    pub min_rtt_ms: f64,
    /// Samples in the window.
    pub samples: usize,
}

/// What the session has done so far, for tests, status lines and the game's `--stats` file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionStats {
    /// Successful connections (the first one and every reconnection).
    pub connections: u32,
    /// Connected now.
    pub online: bool,
    /// What the last welcome said of the content.
    pub content_in_sync: Option<bool>,
    /// Events created (each with its own `seq`).
    pub events_created: u64,
    /// Every event created, with its `seq`, in order: what the director's log must hold
    /// exactly once each.
    pub events: Vec<(u64, DeviceEvent)>,
    /// Event frames sent, resends included.
    pub events_sent: u64,
    /// Of those, sent from the outbox on a reconnection (unacknowledged before, or created
    /// while the director was away).
    pub events_resent: u64,
    /// Events acknowledged (distinct `seq`s).
    pub acked: u64,
    /// The `seq`s acknowledged: each must be in the director's log, whatever happens to the
    /// director afterwards (DESIGN principle 2).
    pub acked_seqs: BTreeSet<u64>,
    /// Events waiting for an acknowledgement.
    pub pending: usize,
    /// Cue messages received, resends included.
    pub cues_received: u64,
    /// Cue firings applied, by instance (each at most once).
    pub applied: BTreeMap<u64, CueId>,
    /// Resent cues already applied (acknowledged again, not applied).
    pub duplicate_cues: u64,
    /// Of those, cues resent after the director had acknowledged this device's `CueApplied`
    /// for them: the director promised never to (DESIGN principle 1).
    pub acked_cues_resent: u64,
    /// Snapshots received.
    pub snapshots: u64,
    /// The last snapshot.
    pub last_snapshot: Option<Snapshot>,
    /// The ending, once a snapshot reports it.
    pub ended: Option<EndingId>,
    /// The clock sync's estimate, once there is one.
    pub clock: Option<ClockReport>,
    /// Notices from the director.
    pub notices: Vec<String>,
    /// Content chunks received (duplicates and refetches included).
    pub chunks: u32,
    /// Bytes of content chunks received.
    pub content_bytes: u64,
    /// Content sync problems (a hash that never matches, a full disk), in French.
    pub content_errors: Vec<String>,
    /// The manifest hash of the content fetched, once every file is verified.
    pub synced_content: Option<[u8; 32]>,
    /// The last error met (a lost connection, a refused download…).
    pub last_error: Option<String>,
    /// Events are held in the outbox, not sent, until the next connection
    /// ([`DeviceSession::mute`]).
    pub muted: bool,
}

/// Where the session stands.
#[derive(Debug)]
enum Phase {
    /// Not started.
    Idle,
    /// [`Action::Discover`] issued.
    Discovering,
    /// Waiting for a code.
    NeedsCode,
    /// [`Action::Pair`] issued.
    Pairing,
    /// [`Action::Connect`] issued.
    Connecting,
    /// Welcomed.
    Online {
        last_heard: Instant,
        next_ping: Instant,
        datagrams: u64,
    },
    /// Lost; the next round starts at `until`.
    Waiting { until: Instant },
    /// Stopped for good.
    Stopped,
}

/// One device's session; see the module documentation.
#[derive(Debug)]
pub struct DeviceSession {
    config: SessionConfig,
    clock: DeviceClock,
    outbox: Outbox,
    sync: ClockSync,
    cues: CueLedger,
    pairing: Option<Pairing>,
    addr: Option<SocketAddr>,
    hello_hash: [u8; 32],
    content: Option<ContentSync>,
    phase: Phase,
    stats: SessionStats,
    actions: VecDeque<Action>,
    transmit: VecDeque<ClientMsg>,
    events: VecDeque<SessionEvent>,
}

impl DeviceSession {
    /// A session over `outbox` (opened by the driver, on disk or in memory), with the
    /// `pairing` saved earlier if any. The cue acknowledgements still in the outbox count as
    /// applied, so a restarted device does not apply them twice. Nothing happens before
    /// [`start`](Self::start).
    pub fn new(
        config: SessionConfig,
        clock: DeviceClock,
        outbox: Outbox,
        pairing: Option<Pairing>,
    ) -> Self {
        let pending = outbox.pending();
        let stats = SessionStats {
            pending: pending.len(),
            ..SessionStats::default()
        };
        Self {
            hello_hash: config.content_hash,
            addr: config.director,
            cues: CueLedger::from_pending(&pending),
            config,
            clock,
            outbox,
            sync: ClockSync::new(),
            pairing,
            content: None,
            phase: Phase::Idle,
            stats,
            actions: VecDeque::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Fetches the role's content by file with `sync` when the director says it differs; the
    /// tree `sync` already holds is presented in the `Hello`.
    pub fn with_content(mut self, sync: ContentSync) -> Self {
        if let Some((_, hash)) = sync.current() {
            self.hello_hash = hash;
        }
        self.content = Some(sync);
        self
    }

    /// Starts: discovers the director, or pairs, or connects, as the session's knowledge
    /// allows.
    pub fn start(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Idle) {
            self.next_step(now);
        }
    }

    /// The device's clock.
    pub fn clock(&self) -> &DeviceClock {
        &self.clock
    }

    /// The device's clock at `now`, ms.
    pub fn local_ms(&self, now: Instant) -> u64 {
        self.clock.local_ms(now)
    }

    /// The director's session clock at `now`, ms, once a clock sample arrived (it keeps
    /// running on the last estimate while the director is away).
    pub fn director_ms(&self, now: Instant) -> Option<u64> {
        self.sync.to_server(self.local_ms(now))
    }

    /// The content sync, when the session fetches content.
    pub fn content_sync(&self) -> Option<&ContentSync> {
        self.content.as_ref()
    }

    /// The clock sync.
    pub fn clock_sync(&self) -> &ClockSync {
        &self.sync
    }

    /// The counters.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// The device's name.
    pub fn device(&self) -> &DeviceId {
        &self.config.device
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The DER of the certificate authority this device is paired to (what a browse matches
    /// against the directors' announced fingerprints); `None` before pairing.
    pub fn pinned_ca(&self) -> Option<&[u8]> {
        self.pairing.as_ref().map(|p| p.ca_der.as_slice())
    }

    /// Whether the session is welcomed by a director now.
    pub fn is_online(&self) -> bool {
        matches!(self.phase, Phase::Online { .. })
    }

    /// Whether the session has stopped for good.
    pub fn is_stopped(&self) -> bool {
        matches!(self.phase, Phase::Stopped)
    }

    /// The next I/O for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next message to send on the current connection.
    pub fn poll_transmit(&mut self) -> Option<ClientMsg> {
        self.transmit.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Online { next_ping, .. } => Some(
                self.content
                    .as_ref()
                    .and_then(ContentSync::poll_timeout)
                    .map_or(*next_ping, |at| at.min(*next_ping)),
            ),
            Phase::Waiting { until } => Some(*until),
            _ => None,
        }
    }

    /// Runs what is due at `now`: a clock ping (and the silence check), or the next round of
    /// connection attempts.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_online()
            && let Some(sync) = &mut self.content
        {
            sync.handle_timeout(now);
            self.flush_content(now);
        }
        match &mut self.phase {
            Phase::Online {
                last_heard,
                next_ping,
                ..
            } => {
                if now < *next_ping {
                    return;
                }
                if now.saturating_duration_since(*last_heard) > self.config.silence_timeout {
                    self.lose("plus de nouvelles de la régie".into(), now);
                    return;
                }
                // Quickly at first, so that the clock sync is tight within seconds.
                *next_ping = now
                    + if self.sync.len() < crate::clock::FAST_SAMPLES {
                        self.config
                            .ping_interval
                            .min(Duration::from_millis(crate::clock::FAST_SAMPLE_INTERVAL_MS))
                    } else {
                        self.config.ping_interval
                    };
                let t0_ms = self.clock.local_ms(now);
                self.transmit.push_back(ClientMsg::ClockPing { t0_ms });
            }
            Phase::Waiting { until } if now >= *until => {
                if self.config.director.is_none() {
                    // A director restarted elsewhere on the network.
                    self.addr = None;
                }
                self.next_step(now);
            }
            _ => {}
        }
    }

    /// The code typed on the device. Used at once when the session waits for one, else kept
    /// for when it does.
    pub fn pair_with(&mut self, code: PairingCode, now: Instant) {
        self.config.pairing_code = Some(code);
        if matches!(self.phase, Phase::NeedsCode) {
            self.next_step(now);
        }
    }

    /// A browse ended: the first director found that speaks this protocol, or none, or why
    /// the network could not be browsed.
    pub fn on_discovered(&mut self, found: Result<Option<SocketAddr>, String>, now: Instant) {
        if !matches!(self.phase, Phase::Discovering) {
            return;
        }
        match found {
            Ok(Some(addr)) => {
                self.addr = Some(addr);
                self.next_step(now);
            }
            Ok(None) => self.actions.push_back(Action::Discover),
            Err(e) => {
                self.error(format!("recherche de la régie impossible : {e}"));
                self.phase = Phase::Waiting {
                    until: now + self.config.discovery_retry,
                };
            }
        }
    }

    /// A pairing attempt ended.
    pub fn on_paired(&mut self, result: Result<Pairing, LinkFailure>, now: Instant) {
        if !matches!(self.phase, Phase::Pairing) {
            return;
        }
        match result {
            Ok(pairing) => {
                self.actions.push_back(Action::SavePairing(pairing.clone()));
                self.pairing = Some(pairing);
                self.next_step(now);
            }
            Err(failure) => {
                let why = failure.french();
                self.error(why.clone());
                self.phase = Phase::NeedsCode;
                self.state(LinkState::NeedsCode { error: Some(why) });
            }
        }
    }

    /// A connection was welcomed: resends the outbox, asks for content if needed, pings.
    pub fn on_connected(
        &mut self,
        director_name: String,
        content_in_sync: bool,
        datagrams: u64,
        now: Instant,
    ) {
        if !matches!(self.phase, Phase::Connecting) {
            return;
        }
        self.phase = Phase::Online {
            last_heard: now,
            next_ping: now + self.config.ping_interval,
            datagrams,
        };
        self.transmit.clear();
        let again = self.stats.connections > 0;
        self.stats.connections += 1;
        self.stats.online = true;
        self.stats.muted = false;
        self.stats.content_in_sync = Some(content_in_sync);
        self.events.push_back(SessionEvent::Welcome {
            director_name: director_name.clone(),
            content_in_sync,
        });
        self.state(LinkState::Online { director_name });
        // What the director never acknowledged, in order, before anything new.
        for (seq, event) in self.outbox.pending() {
            self.transmit.push_back(ClientMsg::Event { seq, event });
            self.stats.events_sent += 1;
            if again {
                self.stats.events_resent += 1;
            }
        }
        if self.config.sync_content
            && let Some(sync) = &mut self.content
        {
            sync.on_connected(content_in_sync, now);
            self.flush_content(now);
        }
        let t0_ms = self.clock.local_ms(now);
        self.transmit.push_back(ClientMsg::ClockPing { t0_ms });
    }

    /// A round of connection attempts failed. A director that forgot this device sends it
    /// back to pairing; anything else is retried after [`SessionConfig::retry_pause`].
    pub fn on_connect_failed(&mut self, failure: &LinkFailure, now: Instant) {
        if !matches!(self.phase, Phase::Connecting) {
            return;
        }
        let why = failure.french();
        self.error(why.clone());
        if matches!(
            failure.refusal,
            Some(Refusal::UnknownDevice | Refusal::BadToken)
        ) {
            self.pairing = None;
            self.config.pairing_code = None;
            self.actions.push_back(Action::ForgetPairing);
            self.phase = Phase::NeedsCode;
            self.state(LinkState::NeedsCode { error: Some(why) });
            return;
        }
        self.phase = Phase::Waiting {
            until: now + self.config.retry_pause,
        };
        self.state(LinkState::Offline { reason: why });
    }

    /// The connection broke (an error reading or writing, the director closed it).
    pub fn on_connection_lost(&mut self, reason: &str, now: Instant) {
        if matches!(self.phase, Phase::Online { .. }) {
            self.lose(format!("régie injoignable : {reason}"), now);
        }
    }

    /// The connection's count of datagrams received: while content downloads, datagrams
    /// count as news from the director — on a lossy link a chunk can take longer than the
    /// silence timeout to arrive whole, and the pongs wait behind it.
    pub fn on_datagrams(&mut self, total: u64, now: Instant) {
        let downloading = self.content.as_ref().is_some_and(ContentSync::is_syncing);
        if let Phase::Online {
            last_heard,
            datagrams,
            ..
        } = &mut self.phase
        {
            if total > *datagrams && downloading {
                *last_heard = now;
            }
            *datagrams = total;
        }
    }

    /// Holds new events in the outbox, unsent, until the next connection (tests of resends).
    pub fn mute(&mut self) {
        self.stats.muted = true;
    }

    /// Plays `role` from now on: the next `Hello` says it and presents `content_hash` (the
    /// manifest hash of what the device holds for it; all zeros for none, and the content
    /// sync, if any, fetches it). Reconnects when the role changes; nothing happens when it
    /// is the session's already.
    pub fn adopt_role(&mut self, role: Role, content_hash: [u8; 32], now: Instant) {
        if role == self.config.role {
            return;
        }
        self.config.role = role;
        self.hello_hash = content_hash;
        self.reconnect(None, now);
    }

    /// Drops the current connection (if any) and connects again, to `addr` if given.
    pub fn reconnect(&mut self, addr: Option<SocketAddr>, now: Instant) {
        if let Some(addr) = addr {
            self.addr = Some(addr);
            self.config.director = Some(addr);
        }
        if matches!(self.phase, Phase::Online { .. }) {
            self.actions.push_back(Action::Disconnect);
            if let Some(sync) = &mut self.content {
                sync.on_disconnected();
            }
        }
        self.transmit.clear();
        self.stats.online = false;
        self.next_step(now);
    }

    /// Stops for good (the driver says goodbye and closes the connection).
    pub fn stop(&mut self) {
        if matches!(self.phase, Phase::Online { .. }) {
            self.transmit.push_back(ClientMsg::Bye);
            self.actions.push_back(Action::Disconnect);
        }
        self.stats.online = false;
        self.phase = Phase::Stopped;
    }

    /// Reports `event`: stored in the outbox first (so nothing is lost), then sent when
    /// connected; returns its `seq`.
    ///
    /// # Errors
    /// [`OutboxError`]: not stored, so not sent (the device would break its promise).
    pub fn push_event(&mut self, event: DeviceEvent) -> Result<u64, OutboxError> {
        let seq = self.outbox.push(event.clone())?;
        self.stats.events_created += 1;
        self.stats.events.push((seq, event.clone()));
        self.stats.pending = self.outbox.len();
        if self.is_online() && !self.stats.muted {
            self.transmit.push_back(ClientMsg::Event { seq, event });
            self.stats.events_sent += 1;
        }
        Ok(seq)
    }

    /// A message from the director.
    pub fn on_message(&mut self, msg: ServerMsg, now: Instant) {
        let Phase::Online { last_heard, .. } = &mut self.phase else {
            return;
        };
        *last_heard = now;
        match msg {
            ServerMsg::Ack { seq } => self.acked(seq),
            ServerMsg::Acks { seqs } => {
                for seq in seqs {
                    self.acked(seq);
                }
            }
            ServerMsg::Cue {
                instance,
                cue,
                start_at_ms,
            } => self.on_cue(instance, cue, start_at_ms, now),
            ServerMsg::StopAll => self.events.push_back(SessionEvent::StopAll),
            ServerMsg::Hint { puzzle, level } => {
                self.events.push_back(SessionEvent::Hint { puzzle, level });
            }
            ServerMsg::Snapshot(snapshot) => {
                self.stats.snapshots += 1;
                if snapshot.ended.is_some() {
                    self.stats.ended.clone_from(&snapshot.ended);
                }
                self.stats.last_snapshot = Some(snapshot.clone());
                self.events.push_back(SessionEvent::Snapshot(snapshot));
            }
            ServerMsg::ClockPong {
                t0_ms,
                t1_ms,
                t2_ms,
            } => {
                let sample = Sample {
                    t0: t0_ms,
                    t1: t1_ms,
                    t2: t2_ms,
                    t3: self.clock.local_ms(now),
                };
                match self.sync.add(sample) {
                    Ok(e) => {
                        self.stats.clock = Some(ClockReport {
                            offset_ms: e.offset_ms,
                            uncertainty_ms: e.uncertainty_ms,
                            min_rtt_ms: e.min_rtt_ms,
                            samples: e.samples,
                        });
                    }
                    Err(e) => self.stats.last_error = Some(e.to_string()),
                }
            }
            ServerMsg::Manifest(manifest) => {
                if let Some(sync) = &mut self.content {
                    sync.on_manifest(manifest, now);
                }
                self.flush_content(now);
            }
            ServerMsg::FileChunk {
                hash,
                offset,
                bytes,
            } => {
                self.stats.chunks += 1;
                self.stats.content_bytes += bytes.len() as u64;
                if let Some(sync) = &mut self.content {
                    sync.on_chunk(hash, offset, bytes, now);
                }
                self.flush_content(now);
            }
            ServerMsg::FileUnavailable { hash } => {
                if let Some(sync) = &mut self.content {
                    sync.on_unavailable(hash);
                }
                self.flush_content(now);
            }
            ServerMsg::Notice(text) => {
                self.stats.notices.push(text.clone());
                self.events.push_back(SessionEvent::Notice(text));
            }
            ServerMsg::Refused(refusal) => {
                self.events
                    .push_back(SessionEvent::Notice(refusal.to_string()));
            }
            ServerMsg::Immersion {
                immersion,
                participant,
                started_at_ms,
                tutorial_done,
            } => self.events.push_back(SessionEvent::Immersion {
                immersion,
                participant,
                started_at_ms,
                tutorial_done,
            }),
            ServerMsg::Placement { role, station } => self
                .events
                .push_back(SessionEvent::Placement { role, station }),
            ServerMsg::Sound(settings) => self.events.push_back(SessionEvent::Sound(settings)),
            ServerMsg::Pause { paused } => self.events.push_back(SessionEvent::Pause { paused }),
            // The whole-bundle download of protocol version 2: never sent to this version.
            ServerMsg::ContentChunk { .. }
            | ServerMsg::Welcome { .. }
            | ServerMsg::Pairing(_)
            | ServerMsg::Log(_)
            | ServerMsg::Room(_)
            | ServerMsg::Register(_)
            | ServerMsg::Desk(_)
            | ServerMsg::Synthesis(_)
            | ServerMsg::DeskAnswer(_)
            | ServerMsg::Poses(_) => {}
        }
    }

    /// The `Hello` this session presents.
    pub fn hello(&self) -> Option<Hello> {
        Some(Hello {
            protocol_version: PROTOCOL_VERSION,
            device: self.config.device.clone(),
            role: self.config.role,
            content_hash: self.hello_hash,
            token: Some(self.pairing.as_ref()?.token.clone()),
        })
    }

    /// The director committed event `seq`: it leaves the outbox.
    fn acked(&mut self, seq: u64) {
        if let Err(e) = self.outbox.ack(seq) {
            self.stats.last_error = Some(e.to_string());
        }
        if self.stats.acked_seqs.insert(seq) {
            self.stats.acked += 1;
        }
        self.stats.pending = self.outbox.len();
        self.events.push_back(SessionEvent::Acked { seq });
    }

    /// Acknowledges a cue firing with the device time it starts at (its scheduled start
    /// mapped to this clock, or now if that is past) and hands it to the application once; a
    /// resent firing is acknowledged again but not applied again.
    fn on_cue(&mut self, instance: u64, cue: CueId, start_at_ms: u64, now: Instant) {
        self.stats.cues_received += 1;
        let local = self.clock.local_ms(now);
        let received = self.cues.receive(
            instance,
            start_at_ms,
            &self.sync,
            local,
            &self.stats.acked_seqs,
        );
        tracing::debug!(
            device = %self.config.device,
            instance,
            first = received.arrival == Arrival::First,
            "cue received"
        );
        let first = match received.arrival {
            Arrival::Again { after_ack } => {
                self.stats.duplicate_cues += 1;
                if after_ack {
                    tracing::error!(device = %self.config.device, instance, "an acknowledged cue was sent again");
                    self.stats.acked_cues_resent += 1;
                }
                false
            }
            Arrival::First => true,
        };
        let seq = match self.push_event(received.ack()) {
            Ok(seq) => seq,
            Err(e) => {
                // Not stored, so not sent: the director will send the cue again.
                self.stats.last_error = Some(e.to_string());
                return;
            }
        };
        if first {
            self.cues.applied(instance, seq);
            self.stats.applied.insert(instance, cue.clone());
            self.events.push_back(SessionEvent::Cue {
                instance,
                cue,
                start_local_ms: received.start_local_ms,
                device_ms: received.device_ms,
            });
        }
    }

    /// Sends what the content sync asks for and hands on what it tells: a tree ready is
    /// [`SessionEvent::ContentSynced`] (and the hash of the next `Hello`); a sync that stops
    /// (a full disk: the old content stays; a file that never matches) is a `Problem` for the
    /// director, in French.
    fn flush_content(&mut self, now: Instant) {
        let Some(sync) = &mut self.content else {
            return;
        };
        let online = matches!(self.phase, Phase::Online { .. });
        while let Some(msg) = sync.poll_transmit(now) {
            if online {
                self.transmit.push_back(msg);
            }
        }
        let mut events = Vec::new();
        while let Some(event) = sync.poll_event() {
            events.push(event);
        }
        for event in events {
            match event {
                SyncEvent::Progress {
                    files_done,
                    files,
                    bytes_done,
                    bytes,
                } => self.events.push_back(SessionEvent::ContentProgress {
                    files_done,
                    files,
                    bytes_done,
                    bytes,
                }),
                SyncEvent::Complete { dir, manifest } => {
                    self.stats.synced_content = Some(manifest);
                    self.hello_hash = manifest;
                    self.events.push_back(SessionEvent::ContentSynced {
                        dir,
                        hash: manifest,
                    });
                }
                SyncEvent::Error(e) => {
                    let stops = e.is_disk_full()
                        || matches!(e, SyncError::GaveUp { .. } | SyncError::Io { .. });
                    let what = if e.is_disk_full() {
                        format!("contenu : disque plein, l'ancien contenu reste en service ({e})")
                    } else {
                        format!("contenu : {e}")
                    };
                    self.error(what.clone());
                    self.stats.content_errors.push(what.clone());
                    if stops && let Err(e) = self.push_event(DeviceEvent::Problem { what }) {
                        self.stats.last_error = Some(e.to_string());
                    }
                }
            }
        }
    }

    /// Picks the next step from what the session knows: an address, a pairing, a code.
    fn next_step(&mut self, _now: Instant) {
        if matches!(self.phase, Phase::Stopped) {
            return;
        }
        let Some(addr) = self.addr else {
            self.phase = Phase::Discovering;
            self.state(LinkState::Discovering);
            self.actions.push_back(Action::Discover);
            return;
        };
        match (&self.pairing, self.config.pairing_code.take()) {
            (Some(pairing), _) => {
                let ca_der = pairing.ca_der.clone();
                if let Some(hello) = self.hello() {
                    self.phase = Phase::Connecting;
                    self.state(LinkState::Connecting);
                    self.actions.push_back(Action::Connect {
                        addr,
                        hello,
                        ca_der,
                    });
                }
            }
            (None, Some(code)) => {
                self.phase = Phase::Pairing;
                self.state(LinkState::Pairing);
                self.actions.push_back(Action::Pair { addr, code });
            }
            (None, None) => {
                self.phase = Phase::NeedsCode;
                self.state(LinkState::NeedsCode { error: None });
            }
        }
    }

    fn lose(&mut self, reason: String, now: Instant) {
        if let Some(sync) = &mut self.content {
            sync.on_disconnected();
        }
        self.error(reason.clone());
        self.actions.push_back(Action::Disconnect);
        self.transmit.clear();
        self.stats.online = false;
        self.phase = Phase::Waiting {
            until: now + self.config.retry_pause,
        };
        self.state(LinkState::Offline { reason });
    }

    fn state(&mut self, state: LinkState) {
        self.events.push_back(SessionEvent::State(state));
    }

    fn error(&mut self, why: String) {
        tracing::debug!(device = %self.config.device, "{why}");
        self.stats.last_error = Some(why);
    }
}
