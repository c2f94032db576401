//! One simulated device: pairs (or reuses a saved pairing), connects pinned with backoff,
//! keeps an outbox of its events and resends what was never acknowledged after a reconnect,
//! acknowledges every cue once (a resent cue is acknowledged again and counted as a
//! duplicate), reports sound and video cues finished, keeps a clock sync, plays the puzzles
//! of its station from the snapshots it gets, and downloads the director's content when it
//! is out of sync. Counters for tests are published on a [`watch`] channel.

use crate::answer::{answer_station, right_answer, wrong_answer};
use crate::lineup::Seat;
use boussole_content::cue::CueKind;
use boussole_content::ids::{CueId, EndingId, HotspotId, ImmersionId, PuzzleId, QuestionId};
use boussole_content::puzzle::Puzzle;
use boussole_content::scenario::Scenario;
use boussole_protocol::bundle::{Chunk, Download};
use boussole_protocol::clock::{ClockSync, Sample};
use boussole_protocol::cues::{Arrival, CueLedger};
use boussole_protocol::outbox::{Outbox, OutboxError};
use boussole_protocol::pairing::{Pairing, PairingCode};
use boussole_protocol::transport::{self, Backoff, Client, ClientError};
use boussole_protocol::wire::{ClientMsg, Hello, PROTOCOL_VERSION, Refusal, ServerMsg, Snapshot};
use boussole_protocol::{DeviceEvent, DeviceId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::time::{MissedTickBehavior, sleep_until, timeout};

/// The local clock starts here, ms, so that a negative [`SimConfig::clock_offset_ms`] of up
/// to 100 s still gives a positive clock.
const LOCAL_CLOCK_BASE_MS: i64 = 100_000;

/// How a simulated device behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Where it sits: device id, role, station, participant, puzzles it answers.
    pub seat: Seat,
    /// SHA-256 of the content bundle it says it holds (all zeros: none).
    pub content_hash: [u8; 32],
    /// Mean time between two moves on a puzzle (a hint request, a wrong answer, the right
    /// answer); each wait is drawn in `[think/2, 3·think/2]`.
    pub think: Duration,
    /// Chance, per puzzle, of a wrong answer before the right one (0 to 1).
    pub wrong_rate: f64,
    /// Chance, per puzzle, of a hint request before answering (0 to 1).
    pub hint_rate: f64,
    /// Seed of the rng behind the draws, so a run can be replayed.
    pub seed: u64,
    /// Added to the device's local clock, ms, so clock sync has an offset to find.
    pub clock_offset_ms: i64,
    /// How much faster the device's clock runs than the machine's, parts per million
    /// (quartz oscillators stay within ±100 ppm), so clock sync has a drift to follow.
    pub clock_drift_ppm: f64,
    /// How long a sound or video cue "plays" before `CueFinished` is sent.
    pub cue_duration: Duration,
    /// The outbox file (headsets keep theirs on disk); `None` keeps it in memory.
    pub outbox: Option<PathBuf>,
    /// Reconnection schedule.
    pub backoff: Backoff,
    /// Interval of clock pings, which double as a liveness check.
    pub ping_interval: Duration,
    /// With nothing heard from the director for this long, the connection is dropped and
    /// made again (a director killed without closing is otherwise noticed only at QUIC's
    /// 12 s idle timeout).
    pub silence_timeout: Duration,
    /// Download and verify the director's bundle when told the content differs.
    pub sync_content: bool,
}

impl SimConfig {
    /// Defaults for `seat`: no content hash, 150 ms think time, no wrong answers or hint
    /// requests, seed 0, no clock offset, cues of 200 ms, outbox in memory, the default
    /// backoff, a ping every 500 ms, 3 s of silence tolerated, no content sync, no drift.
    pub fn new(seat: Seat) -> Self {
        Self {
            seat,
            content_hash: [0; 32],
            think: Duration::from_millis(150),
            wrong_rate: 0.0,
            hint_rate: 0.0,
            seed: 0,
            clock_offset_ms: 0,
            clock_drift_ppm: 0.0,
            cue_duration: Duration::from_millis(200),
            outbox: None,
            backoff: Backoff::default(),
            ping_interval: Duration::from_millis(500),
            silence_timeout: Duration::from_secs(3),
            sync_content: false,
        }
    }
}

/// The clock sync's view, for reports.
#[derive(Clone, Copy, Debug, PartialEq)]
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

/// A content bundle downloaded and verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleReport {
    /// Its SHA-256, checked by [`Download::finish`].
    pub hash: [u8; 32],
    /// Size of its encoding, bytes.
    pub bytes: u64,
    /// Files in it.
    pub files: usize,
    /// Chunks it came in.
    pub chunks: u32,
}

/// When and how a device applied a cue firing, for benchmarks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CueTiming {
    /// When the cue message was handled and the cue applied (the machine's monotonic clock,
    /// which the director in the same process shares).
    pub applied_at: Instant,
    /// The cue's scheduled start (`start_at_ms`, director clock) mapped to the device's
    /// clock by its clock sync, ms; `None` before the first clock sample.
    pub start_local_ms: Option<u64>,
    /// The device time reported in `CueApplied`, ms: the mapped start, or now if that is past.
    pub device_ms: u64,
}

/// What a simulated device has done so far.
#[derive(Clone, Debug, Default)]
pub struct SimStats {
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
    /// When and how each firing was first applied, by instance.
    pub cue_timings: BTreeMap<u64, CueTiming>,
    /// Resent cues already applied (acknowledged again, not applied).
    pub duplicate_cues: u64,
    /// Of those, cues resent after the director had acknowledged this device's `CueApplied`
    /// for them: the director promised never to (DESIGN principle 1).
    pub acked_cues_resent: u64,
    /// `CueFinished` events sent.
    pub cues_finished: u64,
    /// Hints shown.
    pub hints_shown: u64,
    /// Stop-alls received.
    pub stop_alls: u64,
    /// Snapshots received.
    pub snapshots: u64,
    /// The last snapshot.
    pub last_snapshot: Option<Snapshot>,
    /// The ending, once a snapshot reports it.
    pub ended: Option<EndingId>,
    /// Right answers sent.
    pub right_answers: u64,
    /// Wrong answers sent.
    pub wrong_answers: u64,
    /// Hint requests sent.
    pub hint_requests: u64,
    /// The clock sync's estimate.
    pub clock: Option<ClockReport>,
    /// Notices from the director.
    pub notices: Vec<String>,
    /// The bundle downloaded, once verified.
    pub bundle: Option<BundleReport>,
    /// The last error met (a lost connection, a refused download…).
    pub last_error: Option<String>,
    /// Events are held in the outbox, not sent, until the next connection
    /// ([`SimHandle::mute`]).
    pub muted: bool,
    /// The device has stopped.
    pub stopped: bool,
}

impl SimStats {
    /// Cue firings applied.
    pub fn cues_applied(&self) -> usize {
        self.applied.len()
    }
}

/// Why a simulated device failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Pairing or connecting failed (a refusal, a certificate that does not chain, the
    /// backoff exhausted).
    #[error("{device}: {source}")]
    Client {
        /// The device.
        device: DeviceId,
        /// Why.
        source: ClientError,
    },
    /// The outbox could not be opened or written.
    #[error("{device}: {source}")]
    Outbox {
        /// The device.
        device: DeviceId,
        /// Why.
        source: OutboxError,
    },
    /// A rating was asked of a seat without a participant.
    #[error("{0}: no participant sits at this device to answer")]
    NoParticipant(DeviceId),
    /// Started outside a Tokio runtime.
    #[error("{0}: a simulated device runs inside a tokio runtime")]
    NoRuntime(DeviceId),
    /// A wait ran past its guard.
    #[error("{device}: timed out after {after:?} waiting for {what}")]
    Timeout {
        /// The device.
        device: DeviceId,
        /// What was awaited.
        what: String,
        /// The guard.
        after: Duration,
    },
    /// The device's task ended (stopped, or failed: the reason).
    #[error("{device}: stopped ({why})")]
    Stopped {
        /// The device.
        device: DeviceId,
        /// Why.
        why: String,
    },
}

impl SimError {
    /// The director's refusal, if this is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Client { source, .. } => source.refusal(),
            _ => None,
        }
    }
}

/// Pairs `device` with the director at `addr` using the code it shows.
///
/// # Errors
/// [`SimError::Client`]; a wrong code is [`Refusal::WrongPairingCode`].
pub async fn pair(
    addr: SocketAddr,
    code: PairingCode,
    device: &DeviceId,
) -> Result<Pairing, SimError> {
    transport::pair(addr, code, device)
        .await
        .map_err(|source| SimError::Client {
            device: device.clone(),
            source,
        })
}

/// Writes `pairing` to `path` ([`Pairing::save`]: postcard, mode 0600, folder created).
///
/// # Errors
/// The file cannot be written.
pub fn save_pairing(path: &Path, pairing: &Pairing) -> std::io::Result<()> {
    pairing.save(path)
}

/// Reads a pairing written by [`save_pairing`]; `None` if there is no file.
///
/// # Errors
/// The file cannot be read or is not a saved pairing.
pub fn load_pairing(path: &Path) -> std::io::Result<Option<Pairing>> {
    Pairing::load(path)
}

/// What a test or the binary asks of a running device.
enum Control {
    Event(DeviceEvent),
    Mute,
    Reconnect(Option<SocketAddr>),
    Stop,
}

/// A running simulated device (a Tokio task); see [`SimDevice::start`].
#[derive(Debug)]
pub struct SimHandle {
    device: DeviceId,
    participant: Option<boussole_protocol::ParticipantId>,
    epoch: Instant,
    clock_offset_ms: i64,
    clock_drift_ppm: f64,
    stats: watch::Receiver<SimStats>,
    control: mpsc::UnboundedSender<Control>,
    task: tokio::task::JoinHandle<Result<SimStats, SimError>>,
}

/// Starts simulated devices.
#[derive(Debug)]
pub struct SimDevice;

impl SimDevice {
    /// Starts the device on the current Tokio runtime: it connects to `addr` with `pairing`
    /// (pinned, with backoff) and plays `scenario` from then on.
    ///
    /// # Errors
    /// [`SimError::Outbox`] if the outbox file cannot be opened; [`SimError::NoRuntime`].
    pub fn start(
        config: SimConfig,
        addr: SocketAddr,
        pairing: Pairing,
        scenario: Arc<Scenario>,
    ) -> Result<SimHandle, SimError> {
        let device = config.seat.device.clone();
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SimError::NoRuntime(device));
        }
        let outbox = Outbox::open(config.outbox.as_deref()).map_err(|source| SimError::Outbox {
            device: device.clone(),
            source,
        })?;
        let (stats_tx, stats) = watch::channel(SimStats::default());
        let (control, control_rx) = mpsc::unbounded_channel();
        let epoch = Instant::now();
        let handle_participant = config.seat.participant.clone();
        let clock_offset_ms = config.clock_offset_ms;
        let clock_drift_ppm = config.clock_drift_ppm;
        let sim = Sim {
            rng: StdRng::seed_from_u64(config.seed),
            config,
            scenario,
            addr,
            pairing,
            outbox,
            clock: ClockSync::new(),
            epoch,
            stats: SimStats::default(),
            stats_tx,
            cues: CueLedger::default(),
            acked: BTreeSet::new(),
            planned: BTreeSet::new(),
            timers: BTreeMap::new(),
            next_timer: 0,
            last_heard: Instant::now(),
            download: None,
            chunks: 0,
        };
        let task = tokio::spawn(sim.run(control_rx));
        Ok(SimHandle {
            device,
            participant: handle_participant,
            epoch,
            clock_offset_ms,
            clock_drift_ppm,
            stats,
            control,
            task,
        })
    }
}

impl SimHandle {
    /// The device.
    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    /// A copy of the counters now.
    pub fn stats(&self) -> SimStats {
        self.stats.borrow().clone()
    }

    /// A receiver of the counters, to wait on from elsewhere.
    pub fn watch(&self) -> watch::Receiver<SimStats> {
        self.stats.clone()
    }

    /// The device's local clock now, ms: time since it started, plus a base, plus its
    /// configured offset, running fast or slow by its drift (the clock its `ClockPing`s and
    /// `CueApplied`s use).
    pub fn local_clock_ms(&self) -> u64 {
        local_ms(self.epoch, self.clock_offset_ms, self.clock_drift_ppm)
    }

    /// The machine instant at which the device's clock shows `local_ms` (the inverse of
    /// [`local_clock_ms`](Self::local_clock_ms), without its rounding): where a start the
    /// device scheduled on its own clock falls in true time.
    pub fn instant_of_local(&self, local_ms: f64) -> Instant {
        let base = LOCAL_CLOCK_BASE_MS as f64 + self.clock_offset_ms as f64;
        let since_epoch_ms = (local_ms - base) / (1.0 + self.clock_drift_ppm * 1e-6);
        let d = Duration::from_secs_f64(since_epoch_ms.abs() / 1000.0);
        if since_epoch_ms >= 0.0 {
            self.epoch + d
        } else {
            self.epoch.checked_sub(d).unwrap_or(self.epoch)
        }
    }

    /// Waits until `done` holds for the counters, at most `limit`.
    ///
    /// # Errors
    /// [`SimError::Timeout`] naming `what`; [`SimError::Stopped`] if the device stopped first
    /// (with its last error).
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&SimStats) -> bool,
    ) -> Result<SimStats, SimError> {
        let mut rx = self.stats.clone();
        let waited = timeout(limit, async {
            match rx.wait_for(|s| done(s) || s.stopped).await {
                Ok(s) => Ok(s.clone()),
                Err(_) => Err(self.stats()),
            }
        })
        .await;
        match waited {
            Ok(Ok(s)) if !s.stopped || done(&s) => Ok(s),
            Ok(Ok(s) | Err(s)) => Err(SimError::Stopped {
                device: self.device.clone(),
                why: s.last_error.unwrap_or_else(|| "stopped".into()),
            }),
            Err(_) => Err(SimError::Timeout {
                device: self.device.clone(),
                what: what.to_owned(),
                after: limit,
            }),
        }
    }

    /// Reports `event` (through the outbox, like every event).
    ///
    /// # Errors
    /// [`SimError::Stopped`] if the device has stopped.
    pub fn send_event(&self, event: DeviceEvent) -> Result<(), SimError> {
        self.control
            .send(Control::Event(event))
            .map_err(|_| self.stopped())
    }

    /// A headset reports that the wearer selected `hotspot` of `immersion`.
    ///
    /// # Errors
    /// As [`SimHandle::send_event`].
    pub fn hotspot_seen(&self, immersion: ImmersionId, hotspot: HotspotId) -> Result<(), SimError> {
        self.send_event(DeviceEvent::HotspotSeen { immersion, hotspot })
    }

    /// The device's participant answers a rating `question` with `value`.
    ///
    /// # Errors
    /// As [`SimHandle::send_event`]; [`SimError::NoParticipant`] when the seat has none.
    pub fn rating(
        &self,
        question: QuestionId,
        value: u8,
        comment: Option<String>,
    ) -> Result<(), SimError> {
        let participant = self
            .participant
            .clone()
            .ok_or_else(|| SimError::NoParticipant(self.device.clone()))?;
        self.send_event(DeviceEvent::Rating {
            question,
            participant,
            value,
            comment,
        })
    }

    /// Simulates a one-way loss: from now until the next connection, events are kept in the
    /// outbox but not sent (the director hears nothing of this device: no answers, no cue
    /// acknowledgements), while the device still receives. Wait for
    /// [`SimStats::muted`] before relying on it.
    ///
    /// # Errors
    /// [`SimError::Stopped`] if the device has stopped.
    pub fn mute(&self) -> Result<(), SimError> {
        self.control.send(Control::Mute).map_err(|_| self.stopped())
    }

    /// Drops the connection and connects again with backoff (to `addr` if given: a director
    /// restarted elsewhere).
    ///
    /// # Errors
    /// [`SimError::Stopped`] if the device has stopped.
    pub fn reconnect(&self, addr: Option<SocketAddr>) -> Result<(), SimError> {
        self.control
            .send(Control::Reconnect(addr))
            .map_err(|_| self.stopped())
    }

    /// Says goodbye, stops, and returns the final counters.
    ///
    /// # Errors
    /// What made the device stop earlier, if it failed.
    pub async fn stop(self) -> Result<SimStats, SimError> {
        let _ = self.control.send(Control::Stop);
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(SimError::Stopped {
                device: self.device,
                why: e.to_string(),
            }),
        }
    }

    fn stopped(&self) -> SimError {
        SimError::Stopped {
            device: self.device.clone(),
            why: self
                .stats
                .borrow()
                .last_error
                .clone()
                .unwrap_or_else(|| "stopped".into()),
        }
    }
}

fn local_ms(epoch: Instant, offset_ms: i64, drift_ppm: f64) -> u64 {
    let elapsed = epoch.elapsed().as_secs_f64() * 1000.0 * (1.0 + drift_ppm * 1e-6);
    // Whole milliseconds, truncated, as a device's millisecond clock reads.
    let elapsed = elapsed as i64;
    u64::try_from(
        LOCAL_CLOCK_BASE_MS
            .saturating_add(elapsed)
            .saturating_add(offset_ms),
    )
    .unwrap_or(0)
}

/// A move planned on a timer.
#[derive(Clone, Debug)]
enum Action {
    HintRequest(PuzzleId),
    WrongAnswer(PuzzleId),
    RightAnswer(PuzzleId),
    CueFinished(u64),
}

type Connecting = Pin<Box<dyn Future<Output = Result<Client, ClientError>> + Send>>;

/// The device's state, owned by its task.
struct Sim {
    config: SimConfig,
    scenario: Arc<Scenario>,
    addr: SocketAddr,
    pairing: Pairing,
    outbox: Outbox,
    clock: ClockSync,
    epoch: Instant,
    rng: StdRng,
    stats: SimStats,
    stats_tx: watch::Sender<SimStats>,
    /// The cue firings applied.
    cues: CueLedger,
    /// Event `seq`s acknowledged.
    acked: BTreeSet<u64>,
    /// Puzzles already planned (each is played once).
    planned: BTreeSet<PuzzleId>,
    timers: BTreeMap<(Instant, u64), Action>,
    next_timer: u64,
    last_heard: Instant,
    download: Option<Download>,
    chunks: u32,
}

/// Polls the connection attempt, if one is under way.
async fn connected(connecting: &mut Option<Connecting>) -> Result<Client, ClientError> {
    match connecting {
        Some(attempt) => attempt.as_mut().await,
        None => std::future::pending().await,
    }
}

/// The next message, if connected.
async fn received(link: &mut Option<Client>) -> Result<Option<ServerMsg>, ClientError> {
    match link {
        Some(client) => client.recv().await,
        None => std::future::pending().await,
    }
}

impl Sim {
    fn local_ms(&self) -> u64 {
        local_ms(
            self.epoch,
            self.config.clock_offset_ms,
            self.config.clock_drift_ppm,
        )
    }

    fn device(&self) -> &DeviceId {
        &self.config.seat.device
    }

    fn publish(&mut self) {
        self.stats.pending = self.outbox.len();
        self.stats_tx.send_replace(self.stats.clone());
    }

    fn connect(&self) -> Connecting {
        let addr = self.addr;
        let ca = self.pairing.ca_der.clone();
        let hello = Hello {
            protocol_version: PROTOCOL_VERSION,
            device: self.config.seat.device.clone(),
            role: self.config.seat.role,
            content_hash: self.config.content_hash,
            token: Some(self.pairing.token.clone()),
        };
        let backoff = self.config.backoff.clone();
        Box::pin(async move { transport::connect_with_backoff(addr, &ca, &hello, &backoff).await })
    }

    async fn run(
        mut self,
        mut control: mpsc::UnboundedReceiver<Control>,
    ) -> Result<SimStats, SimError> {
        let mut link: Option<Client> = None;
        let mut connecting = Some(self.connect());
        let mut ping = tokio::time::interval(self.config.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let result = loop {
            let next_timer = self
                .timers
                .keys()
                .next()
                .map(|(at, _)| *at)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                attempt = connected(&mut connecting) => {
                    connecting = None;
                    match attempt {
                        Ok(client) => {
                            link = Some(client);
                            if let Err(e) = self.on_connected(&mut link).await {
                                self.lose(&mut link, &mut connecting, &e);
                            }
                        }
                        Err(source) => {
                            break Err(SimError::Client { device: self.device().clone(), source });
                        }
                    }
                }
                msg = received(&mut link) => match msg {
                    Ok(Some(msg)) => {
                        self.last_heard = Instant::now();
                        if let Err(e) = self.on_message(msg, &mut link).await {
                            self.lose(&mut link, &mut connecting, &e);
                        }
                    }
                    Ok(None) => self.lose(&mut link, &mut connecting, &ClientError::Closed),
                    Err(e) => {
                        if let Some(refusal) = e.refusal().filter(|r| **r != Refusal::ContentMismatch) {
                            tracing::warn!(device = %self.device(), "refused: {refusal}");
                        }
                        self.lose(&mut link, &mut connecting, &e);
                    }
                },
                () = sleep_until(next_timer.into()) => {
                    let due: Vec<_> = self
                        .timers
                        .range(..=(Instant::now(), u64::MAX))
                        .map(|(k, _)| *k)
                        .collect();
                    for key in due {
                        if let Some(action) = self.timers.remove(&key)
                            && let Err(e) = self.act(action, &mut link).await
                        {
                            self.lose(&mut link, &mut connecting, &e);
                        }
                    }
                }
                _ = ping.tick() => {
                    if link.is_some() {
                        if self.last_heard.elapsed() > self.config.silence_timeout {
                            let why = ClientError::Timeout("hearing from the director");
                            self.lose(&mut link, &mut connecting, &why);
                        } else {
                            let t0_ms = self.local_ms();
                            if let Err(e) = send(&mut link, ClientMsg::ClockPing { t0_ms }).await {
                                self.lose(&mut link, &mut connecting, &e);
                            }
                        }
                    }
                }
                control = control.recv() => match control {
                    Some(Control::Event(event)) => {
                        if let Err(e) = self.emit(event, &mut link).await {
                            self.lose(&mut link, &mut connecting, &e);
                        }
                    }
                    Some(Control::Mute) => self.stats.muted = true,
                    Some(Control::Reconnect(addr)) => {
                        if let Some(addr) = addr {
                            self.addr = addr;
                        }
                        link = None;
                        self.stats.online = false;
                        connecting = Some(self.connect());
                    }
                    Some(Control::Stop) | None => {
                        if let Some(client) = link.take() {
                            client.close().await;
                        }
                        break Ok(());
                    }
                },
            }
            self.publish();
        };
        self.stats.online = false;
        self.stats.stopped = true;
        match result {
            Ok(()) => {
                self.publish();
                Ok(self.stats)
            }
            Err(e) => {
                self.stats.last_error = Some(e.to_string());
                self.publish();
                Err(e)
            }
        }
    }

    /// The connection is gone: connect again with backoff (events wait in the outbox).
    fn lose(
        &mut self,
        link: &mut Option<Client>,
        connecting: &mut Option<Connecting>,
        why: &ClientError,
    ) {
        tracing::debug!(device = %self.device(), "connection lost: {why}");
        self.stats.last_error = Some(why.to_string());
        self.stats.online = false;
        *link = None;
        if connecting.is_none() {
            *connecting = Some(self.connect());
        }
    }

    async fn on_connected(&mut self, link: &mut Option<Client>) -> Result<(), ClientError> {
        let in_sync = link.as_ref().is_some_and(|c| c.welcome().content_in_sync);
        self.stats.connections += 1;
        self.stats.online = true;
        self.stats.muted = false;
        self.stats.content_in_sync = Some(in_sync);
        self.last_heard = Instant::now();
        // What the director never acknowledged, in order, before anything new.
        let again = self.stats.connections > 1;
        for (seq, event) in self.outbox.pending() {
            send(link, ClientMsg::Event { seq, event }).await?;
            self.stats.events_sent += 1;
            if again {
                self.stats.events_resent += 1;
            }
        }
        if !in_sync && self.config.sync_content && self.stats.bundle.is_none() {
            let (hash, offset) = self
                .download
                .as_ref()
                .map_or(([0; 32], 0), |d| (d.hash(), d.next_offset()));
            send(link, ClientMsg::ContentRequest { hash, offset }).await?;
        }
        let t0_ms = self.local_ms();
        send(link, ClientMsg::ClockPing { t0_ms }).await
    }

    /// Stores `event` in the outbox, then sends it if connected.
    async fn emit(
        &mut self,
        event: DeviceEvent,
        link: &mut Option<Client>,
    ) -> Result<u64, ClientError> {
        let seq = match self.outbox.push(event.clone()) {
            Ok(seq) => seq,
            Err(e) => {
                // Not stored, so not sent either: the device would break its promise.
                self.stats.last_error = Some(e.to_string());
                return Ok(0);
            }
        };
        self.stats.events_created += 1;
        self.stats.events.push((seq, event.clone()));
        if link.is_some() && !self.stats.muted {
            send(link, ClientMsg::Event { seq, event }).await?;
            self.stats.events_sent += 1;
        }
        Ok(seq)
    }

    fn schedule(&mut self, at: Instant, action: Action) {
        self.next_timer += 1;
        self.timers.insert((at, self.next_timer), action);
    }

    fn think(&mut self) -> Duration {
        self.config.think.mul_f64(self.rng.random_range(0.5..1.5))
    }

    async fn on_message(
        &mut self,
        msg: ServerMsg,
        link: &mut Option<Client>,
    ) -> Result<(), ClientError> {
        match msg {
            ServerMsg::Ack { seq } => {
                if let Err(e) = self.outbox.ack(seq) {
                    self.stats.last_error = Some(e.to_string());
                }
                self.acked.insert(seq);
                self.stats.acked = self.acked.len() as u64;
                self.stats.acked_seqs.insert(seq);
            }
            ServerMsg::Cue {
                instance,
                cue,
                start_at_ms,
            } => self.on_cue(instance, cue, start_at_ms, link).await?,
            ServerMsg::StopAll => {
                self.stats.stop_alls += 1;
                self.timers
                    .retain(|_, a| !matches!(a, Action::CueFinished(_)));
            }
            ServerMsg::Hint { .. } => self.stats.hints_shown += 1,
            ServerMsg::Snapshot(snapshot) => self.on_snapshot(snapshot),
            ServerMsg::ClockPong {
                t0_ms,
                t1_ms,
                t2_ms,
            } => {
                let sample = Sample {
                    t0: t0_ms,
                    t1: t1_ms,
                    t2: t2_ms,
                    t3: self.local_ms(),
                };
                match self.clock.add(sample) {
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
            ServerMsg::ContentChunk {
                hash,
                offset,
                total,
                bytes,
            } => {
                self.on_chunk(
                    Chunk {
                        hash,
                        offset,
                        total_len: total,
                        bytes,
                    },
                    link,
                )
                .await?;
            }
            ServerMsg::Notice(text) => self.stats.notices.push(text),
            ServerMsg::Welcome { .. }
            | ServerMsg::Refused(_)
            | ServerMsg::Pairing(_)
            | ServerMsg::Log(_)
            | ServerMsg::Room(_)
            | ServerMsg::Register(_)
            | ServerMsg::Immersion { .. } => {}
        }
        Ok(())
    }

    async fn on_cue(
        &mut self,
        instance: u64,
        cue: CueId,
        start_at_ms: u64,
        link: &mut Option<Client>,
    ) -> Result<(), ClientError> {
        self.stats.cues_received += 1;
        let applied_at = Instant::now();
        let now = self.local_ms();
        let received = self
            .cues
            .receive(instance, start_at_ms, &self.clock, now, &self.acked);
        tracing::debug!(
            device = %self.device(),
            instance,
            %cue,
            arrival = ?received.arrival,
            "cue received"
        );
        if let Arrival::Again { after_ack } = received.arrival {
            self.stats.duplicate_cues += 1;
            if after_ack {
                tracing::error!(device = %self.device(), instance, "an acknowledged cue was sent again");
                self.stats.acked_cues_resent += 1;
            }
            self.emit(received.ack(), link).await?;
            return Ok(());
        }
        let seq = self.emit(received.ack(), link).await?;
        self.cues.applied(instance, seq);
        let (start_local_ms, device_ms) = (received.start_local_ms, received.device_ms);
        self.stats.cue_timings.insert(
            instance,
            CueTiming {
                applied_at,
                start_local_ms,
                device_ms,
            },
        );
        let media = self
            .scenario
            .cues
            .iter()
            .find(|c| c.id == cue)
            .is_some_and(|c| matches!(c.kind, CueKind::Sound { .. } | CueKind::Video { .. }));
        self.stats.applied.insert(instance, cue);
        if media {
            let at = Instant::now() + self.config.cue_duration;
            self.schedule(at, Action::CueFinished(instance));
        }
        Ok(())
    }

    fn answers(&self, puzzle: &Puzzle) -> bool {
        let seat = &self.config.seat;
        seat.station.is_some()
            && answer_station(puzzle) == seat.station.as_ref()
            && seat
                .puzzles
                .as_ref()
                .is_none_or(|only| only.contains(&puzzle.id))
    }

    fn on_snapshot(&mut self, snapshot: Snapshot) {
        self.stats.snapshots += 1;
        if snapshot.ended.is_some() {
            self.stats.ended.clone_from(&snapshot.ended);
        }
        let scenario = self.scenario.clone();
        let now = Instant::now();
        for id in &snapshot.open {
            let Some(puzzle) = scenario.puzzles.iter().find(|p| p.id == *id) else {
                continue;
            };
            if snapshot.ended.is_some() || !self.answers(puzzle) || !self.planned.insert(id.clone())
            {
                continue;
            }
            let hint = self.rng.random_bool(self.config.hint_rate.clamp(0.0, 1.0));
            let wrong = self.rng.random_bool(self.config.wrong_rate.clamp(0.0, 1.0))
                && wrong_answer(&puzzle.solution).is_some();
            let mut at = now;
            if hint {
                at += self.think();
                self.schedule(at, Action::HintRequest(id.clone()));
            }
            if wrong {
                at += self.think();
                self.schedule(at, Action::WrongAnswer(id.clone()));
            }
            at += self.think();
            self.schedule(at, Action::RightAnswer(id.clone()));
        }
        self.stats.last_snapshot = Some(snapshot);
    }

    /// Whether `puzzle` is still open by the last snapshot (not solved, the game not over).
    fn still_open(&self, puzzle: &PuzzleId) -> bool {
        self.stats
            .last_snapshot
            .as_ref()
            .is_some_and(|s| s.ended.is_none() && s.open.contains(puzzle))
    }

    async fn act(&mut self, action: Action, link: &mut Option<Client>) -> Result<(), ClientError> {
        let event = match action {
            Action::CueFinished(instance) => {
                self.stats.cues_finished += 1;
                DeviceEvent::CueFinished { instance }
            }
            Action::HintRequest(puzzle)
            | Action::WrongAnswer(puzzle)
            | Action::RightAnswer(puzzle)
                if !self.still_open(&puzzle) =>
            {
                return Ok(());
            }
            play => {
                let Some(station) = self.config.seat.station.clone() else {
                    return Ok(());
                };
                let participant = self.config.seat.participant.clone();
                match play {
                    Action::HintRequest(puzzle) => {
                        self.stats.hint_requests += 1;
                        DeviceEvent::HintRequest {
                            puzzle,
                            station,
                            participant,
                        }
                    }
                    Action::WrongAnswer(puzzle) => {
                        let Some(answer) = self.solution_of(&puzzle).and_then(|c| wrong_answer(&c))
                        else {
                            return Ok(());
                        };
                        self.stats.wrong_answers += 1;
                        DeviceEvent::Answer {
                            puzzle,
                            station,
                            participant,
                            answer,
                        }
                    }
                    Action::RightAnswer(puzzle) => {
                        let Some(answer) = self.solution_of(&puzzle).map(|c| right_answer(&c))
                        else {
                            return Ok(());
                        };
                        self.stats.right_answers += 1;
                        DeviceEvent::Answer {
                            puzzle,
                            station,
                            participant,
                            answer,
                        }
                    }
                    Action::CueFinished(_) => return Ok(()),
                }
            }
        };
        self.emit(event, link).await.map(|_| ())
    }

    fn solution_of(&self, puzzle: &PuzzleId) -> Option<boussole_content::puzzle::SolutionCheck> {
        self.scenario
            .puzzles
            .iter()
            .find(|p| p.id == *puzzle)
            .map(|p| p.solution.clone())
    }

    async fn on_chunk(
        &mut self,
        chunk: Chunk,
        link: &mut Option<Client>,
    ) -> Result<(), ClientError> {
        if self.stats.bundle.is_some() {
            return Ok(());
        }
        let download = match self.download.take() {
            Some(d) => Ok(d),
            None => Download::new(chunk.hash, chunk.total_len),
        };
        let mut download = match download {
            Ok(d) => d,
            Err(e) => {
                self.stats.last_error = Some(e.to_string());
                return Ok(());
            }
        };
        if let Err(e) = download.accept(&chunk) {
            // A resent or early chunk: ask again from where the download stands.
            self.stats.last_error = Some(e.to_string());
        } else {
            self.chunks += 1;
        }
        if download.is_complete() {
            let bytes = download.total_len();
            match download.finish() {
                Ok(bundle) => {
                    self.stats.bundle = Some(BundleReport {
                        hash: bundle.hash(),
                        bytes,
                        files: bundle.file_count(),
                        chunks: self.chunks,
                    });
                }
                Err(e) => self.stats.last_error = Some(e.to_string()),
            }
            return Ok(());
        }
        let (hash, offset) = (download.hash(), download.next_offset());
        self.download = Some(download);
        send(link, ClientMsg::ContentRequest { hash, offset }).await
    }
}

/// Sends on the link if there is one (a message for a lost link is dropped: events are in
/// the outbox).
async fn send(link: &mut Option<Client>, msg: ClientMsg) -> Result<(), ClientError> {
    match link {
        Some(client) => client.send(msg).await,
        None => Ok(()),
    }
}
