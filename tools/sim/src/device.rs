//! One simulated device: pairs (or reuses a saved pairing), connects pinned with backoff,
//! keeps an outbox of its events and resends what was never acknowledged after a reconnect,
//! acknowledges every cue once (a resent cue is acknowledged again and counted as a
//! duplicate), reports sound and video cues finished, keeps a clock sync, plays the puzzles
//! of its station from the snapshots it gets, and downloads the director's content when it
//! is out of sync. Counters for tests are published on a [`watch`] channel.

use crate::answer::{answer_station, right_answer, wrong_answer};
use crate::lineup::Seat;
use boussole_content::cue::CueKind;
use boussole_content::ids::{HotspotId, ImmersionId, PuzzleId, QuestionId};
use boussole_content::puzzle::Puzzle;
use boussole_content::scenario::Scenario;
use boussole_protocol::content_sync::{ContentSync, SyncConfig, SyncError};
use boussole_protocol::device_driver::{self, Command, DeviceApp, DriverConfig, lock};
use boussole_protocol::device_session::{
    DeviceClock, DeviceSession, SessionConfig, SessionEvent, SessionStats,
};
use boussole_protocol::manifest::RoleHashes;
use boussole_protocol::outbox::{Outbox, OutboxError};
use boussole_protocol::pairing::{Pairing, PairingCode};
use boussole_protocol::transport::{self, Backoff, ClientError};
use boussole_protocol::wire::{Refusal, Snapshot};
use boussole_protocol::{DeviceEvent, DeviceId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;

pub use boussole_protocol::device_session::ClockReport;

/// The local clock starts here, ms, so that a negative [`SimConfig::clock_offset_ms`] of up
/// to 100 s still gives a positive clock.
const LOCAL_CLOCK_BASE_MS: i64 = 100_000;

/// How a simulated device behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Where it sits: device id, role, station, participant, puzzles it answers.
    pub seat: Seat,
    /// The manifest hash it says it holds (all zeros: none); after a sync, the new one.
    pub content_hash: [u8; 32],
    /// The manifest hash it holds for each role, for a device that takes the role the
    /// director gives it ([`boussole_protocol::ServerMsg::Placement`]); `None`: it holds
    /// nothing for another role (all zeros).
    pub hashes: Option<RoleHashes>,
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
    /// Fetch the role's files (`ContentSync`) when told the content differs.
    pub sync_content: bool,
    /// Where the synced content lives (`files/`, `trees/`, `current`); `None`: a folder of
    /// its own under the system's temporary folder.
    pub content_dir: Option<PathBuf>,
    /// How the sync asks for chunks.
    pub sync: SyncConfig,
}

impl SimConfig {
    /// Defaults for `seat`: no content hash, 150 ms think time, no wrong answers or hint
    /// requests, seed 0, no clock offset, cues of 200 ms, outbox in memory, the default
    /// backoff, a ping every 500 ms, 3 s of silence tolerated, no content sync, no drift.
    pub fn new(seat: Seat) -> Self {
        Self {
            seat,
            content_hash: [0; 32],
            hashes: None,
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
            content_dir: None,
            sync: SyncConfig::default(),
        }
    }
}

/// The role's content fetched by file, every file verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentReport {
    /// Its manifest's hash (what the next `Hello` presents).
    pub manifest: [u8; 32],
    /// The tree (`content/`, `assets/`).
    pub dir: PathBuf,
    /// Files in it.
    pub files: usize,
    /// Bytes of file chunks received for it (duplicates and refetches included).
    pub bytes_received: u64,
    /// Chunks received.
    pub chunks: u32,
    /// From the first welcome that found the content out of sync to the tree ready.
    pub took: Duration,
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

/// What a simulated device has done so far: its session's counters (read through `Deref`:
/// `stats.acked_seqs`, `stats.ended`…) and what its player did.
#[derive(Clone, Debug, Default)]
pub struct SimStats {
    /// The session's counters (connections, events, acknowledgements, cues, clock…).
    pub link: SessionStats,
    /// When and how each firing was first applied, by instance.
    pub cue_timings: BTreeMap<u64, CueTiming>,
    /// `CueFinished` events sent.
    pub cues_finished: u64,
    /// Hints shown.
    pub hints_shown: u64,
    /// Stop-alls received.
    pub stop_alls: u64,
    /// Right answers sent.
    pub right_answers: u64,
    /// Wrong answers sent.
    pub wrong_answers: u64,
    /// Hint requests sent.
    pub hint_requests: u64,
    /// The content fetched, once complete (the latest sync).
    pub content: Option<ContentReport>,
    /// The device has stopped.
    pub stopped: bool,
    /// The sound settings the director last sent ([`boussole_protocol::ServerMsg::Sound`]).
    pub sound: Option<boussole_protocol::wire::SoundSettings>,
    /// Whether the facilitator holds this headset paused now, and how many pauses came.
    pub paused: bool,
    /// Pauses received (a pause sent again on reconnection counts again).
    pub pauses: u64,
}

impl std::ops::Deref for SimStats {
    type Target = SessionStats;

    fn deref(&self) -> &SessionStats {
        &self.link
    }
}

impl SimStats {
    /// Cue firings applied.
    pub fn cues_applied(&self) -> usize {
        self.link.applied.len()
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
    /// The director no longer knows this device or its token ([`Refusal::UnknownDevice`],
    /// [`Refusal::BadToken`]: it was unpaired, or the director's data was reset): it must pair
    /// again with the code the director shows. Said in French, for the facilitator.
    #[error(
        "{device} : appairage perdu, la régie ne reconnaît plus cet appareil ({refusal}) ; \
         saisissez le code d'appairage affiché sur la régie pour l'appairer de nouveau"
    )]
    PairingLost {
        /// The device.
        device: DeviceId,
        /// The director's refusal.
        refusal: Refusal,
    },
    /// The outbox could not be opened or written.
    #[error("{device}: {source}")]
    Outbox {
        /// The device.
        device: DeviceId,
        /// Why.
        source: OutboxError,
    },
    /// The content folder could not be opened.
    #[error("{device}: {source}")]
    Content {
        /// The device.
        device: DeviceId,
        /// Why.
        source: SyncError,
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
            Self::PairingLost { refusal, .. } => Some(refusal),
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

/// A running simulated device (a Tokio task driving a [`DeviceSession`]); see
/// [`SimDevice::start`].
#[derive(Debug)]
pub struct SimHandle {
    device: DeviceId,
    participant: Option<boussole_protocol::ParticipantId>,
    clock: DeviceClock,
    session: Arc<Mutex<DeviceSession>>,
    stats: watch::Receiver<SimStats>,
    control: mpsc::UnboundedSender<Command>,
    task: tokio::task::JoinHandle<Result<SimStats, SimError>>,
}

/// Starts simulated devices.
#[derive(Debug)]
pub struct SimDevice;

impl SimDevice {
    /// Starts the device on the current Tokio runtime: it connects to `addr` with `pairing`
    /// (pinned, with backoff) and plays `scenario` from then on. A round of connection
    /// attempts that fails stops it (with [`SimError::Client`]).
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
        let clock = DeviceClock::skewed(
            Instant::now(),
            LOCAL_CLOCK_BASE_MS.saturating_add(config.clock_offset_ms),
            config.clock_drift_ppm,
        );
        let session_config = SessionConfig {
            director: Some(addr),
            content_hash: config.content_hash,
            sync_content: config.sync_content,
            ping_interval: config.ping_interval,
            silence_timeout: config.silence_timeout,
            retry_pause: config.backoff.first,
            ..SessionConfig::new(device.clone(), config.seat.role)
        };
        let mut session = DeviceSession::new(session_config, clock, outbox, Some(pairing));
        if config.sync_content {
            let dir = config.content_dir.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("boussole-sim-{}-{}", std::process::id(), device))
            });
            let sync =
                ContentSync::open(&dir, config.sync).map_err(|source| SimError::Content {
                    device: device.clone(),
                    source,
                })?;
            session = session.with_content(sync);
        }
        let session = Arc::new(Mutex::new(session));
        let driver = DriverConfig {
            backoff: config.backoff.clone(),
            ..DriverConfig::new()
        };
        let (stats_tx, stats) = watch::channel(SimStats::default());
        let (control, commands) = mpsc::unbounded_channel();
        let participant = config.seat.participant.clone();
        let mut player = Player {
            rng: StdRng::seed_from_u64(config.seed),
            config,
            scenario,
            planned: BTreeSet::new(),
            timers: BTreeMap::new(),
            next_timer: 0,
            sync_started: None,
            stats: SimStats::default(),
            stats_tx,
            published: None,
            publish_due: false,
        };
        let task_session = session.clone();
        let task_device = device.clone();
        let task = tokio::spawn(async move {
            let result =
                device_driver::drive(task_session.clone(), driver, commands, &mut player).await;
            let mut stats = player.stats.clone();
            stats.link = lock(&task_session).stats().clone();
            stats.link.online = false;
            stats.stopped = true;
            let result = match result {
                Ok(()) => Ok(()),
                Err(source) => {
                    let error = match source.refusal() {
                        Some(r @ (Refusal::UnknownDevice | Refusal::BadToken)) => {
                            let refusal = r.clone();
                            tracing::warn!(device = %task_device, "appairage perdu : {refusal}");
                            SimError::PairingLost {
                                device: task_device,
                                refusal,
                            }
                        }
                        _ => SimError::Client {
                            device: task_device,
                            source,
                        },
                    };
                    stats.link.last_error = Some(error.to_string());
                    Err(error)
                }
            };
            player.stats_tx.send_replace(stats.clone());
            result.map(|()| stats)
        });
        Ok(SimHandle {
            device,
            participant,
            clock,
            session,
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
        self.clock.local_ms(Instant::now())
    }

    /// The machine instant at which the device's clock shows `local_ms` (the inverse of
    /// [`local_clock_ms`](Self::local_clock_ms), without its rounding): where a start the
    /// device scheduled on its own clock falls in true time.
    pub fn instant_of_local(&self, local_ms: f64) -> Instant {
        self.clock.instant_of(local_ms)
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
                why: s
                    .link
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "stopped".into()),
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
    /// [`SimError::Outbox`] if it could not be stored; [`SimError::Stopped`] if the device
    /// has stopped.
    pub fn send_event(&self, event: DeviceEvent) -> Result<(), SimError> {
        if self.task.is_finished() {
            return Err(self.stopped());
        }
        lock(&self.session)
            .push_event(event)
            .map_err(|source| SimError::Outbox {
                device: self.device.clone(),
                source,
            })?;
        self.control.send(Command::Wake).map_err(|_| self.stopped())
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
    /// [`SessionStats::muted`] before relying on it.
    ///
    /// # Errors
    /// [`SimError::Stopped`] if the device has stopped.
    pub fn mute(&self) -> Result<(), SimError> {
        if self.task.is_finished() {
            return Err(self.stopped());
        }
        lock(&self.session).mute();
        self.control.send(Command::Wake).map_err(|_| self.stopped())
    }

    /// Drops the connection and connects again with backoff (to `addr` if given: a director
    /// restarted elsewhere).
    ///
    /// # Errors
    /// [`SimError::Stopped`] if the device has stopped.
    pub fn reconnect(&self, addr: Option<SocketAddr>) -> Result<(), SimError> {
        self.control
            .send(Command::Reconnect(addr))
            .map_err(|_| self.stopped())
    }

    /// Says goodbye, stops, and returns the final counters.
    ///
    /// # Errors
    /// What made the device stop earlier, if it failed.
    pub async fn stop(self) -> Result<SimStats, SimError> {
        let _ = self.control.send(Command::Stop);
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
                .link
                .last_error
                .clone()
                .unwrap_or_else(|| "stopped".into()),
        }
    }
}

/// A move planned on a timer.
#[derive(Clone, Debug)]
enum Action {
    HintRequest(PuzzleId),
    WrongAnswer(PuzzleId),
    RightAnswer(PuzzleId),
    CueFinished(u64),
    /// Firing `0` starts now, `1` ms after its scheduled start on this device's clock.
    CueStarted(u64, u32),
}

/// The simulated player on top of the session: plays its station's puzzles from the
/// snapshots, reports sound and video cues finished, counts what it sees.
struct Player {
    config: SimConfig,
    scenario: Arc<Scenario>,
    rng: StdRng,
    /// Puzzles already planned (each is played once).
    planned: BTreeSet<PuzzleId>,
    timers: BTreeMap<(Instant, u64), Action>,
    next_timer: u64,
    /// When the first welcome found the content out of sync.
    sync_started: Option<Instant>,
    /// The player's counters (`link` is filled on publishing).
    stats: SimStats,
    stats_tx: watch::Sender<SimStats>,
    /// When the stats were last published.
    published: Option<Instant>,
    /// A change waits to be published.
    publish_due: bool,
}

impl DeviceApp for Player {
    fn on_event(&mut self, session: &mut DeviceSession, event: SessionEvent, now: Instant) {
        match event {
            SessionEvent::Cue {
                instance,
                cue,
                start_local_ms,
                device_ms,
            } => {
                self.stats.cue_timings.insert(
                    instance,
                    CueTiming {
                        applied_at: now,
                        start_local_ms,
                        device_ms,
                    },
                );
                // The player starts it at the start it planned (`device_ms`, the scheduled
                // start on this clock, or now if that is past), and says how late that was.
                let late = start_local_ms.map_or(0, |s| device_ms.saturating_sub(s));
                let starts = session.clock().instant_of(device_ms as f64).max(now);
                self.schedule(
                    starts,
                    Action::CueStarted(instance, u32::try_from(late).unwrap_or(u32::MAX)),
                );
                let media = self
                    .scenario
                    .cues
                    .iter()
                    .find(|c| c.id == cue)
                    .is_some_and(|c| {
                        matches!(c.kind, CueKind::Sound { .. } | CueKind::Video { .. })
                    });
                if media {
                    self.schedule(
                        now + self.config.cue_duration,
                        Action::CueFinished(instance),
                    );
                }
            }
            SessionEvent::Placement { role, station } => {
                // The facilitator's choice, from the console: the seat follows it (a terminal
                // answers its new station's puzzles), and a new role means a new connection.
                if boussole_protocol::manifest::device_role(role).is_some() {
                    if station.is_some() || role != self.config.seat.role {
                        self.config.seat.station = station;
                    }
                    if role != self.config.seat.role {
                        tracing::info!(device = %self.config.seat.device, ?role, "rôle donné par la régie");
                        self.config.seat.role = role;
                        let hash = self.config.hashes.map_or([0; 32], |h| h.for_role(role));
                        session.adopt_role(role, hash, now);
                    }
                }
            }
            SessionEvent::Sound(settings) => self.stats.sound = Some(settings),
            SessionEvent::Pause { paused } => {
                self.stats.paused = paused;
                if paused {
                    self.stats.pauses += 1;
                }
            }
            SessionEvent::StopAll => {
                self.stats.stop_alls += 1;
                self.timers
                    .retain(|_, a| !matches!(a, Action::CueFinished(_)));
            }
            SessionEvent::Hint { .. } => self.stats.hints_shown += 1,
            SessionEvent::Snapshot(snapshot) => self.on_snapshot(&snapshot, now),
            SessionEvent::Welcome {
                content_in_sync: false,
                ..
            } if self.sync_started.is_none() => self.sync_started = Some(now),
            SessionEvent::ContentSynced { dir, hash } => {
                let files = session
                    .content_sync()
                    .and_then(ContentSync::current_manifest)
                    .map_or(0, |m| m.files().len());
                let stats = session.stats();
                self.stats.content = Some(ContentReport {
                    manifest: hash,
                    dir,
                    files,
                    bytes_received: stats.content_bytes,
                    chunks: stats.chunks,
                    took: self
                        .sync_started
                        .map_or(Duration::ZERO, |t| now.saturating_duration_since(t)),
                });
            }
            SessionEvent::State(_)
            | SessionEvent::Welcome { .. }
            | SessionEvent::Acked { .. }
            | SessionEvent::Notice(_)
            | SessionEvent::Immersion { .. }
            | SessionEvent::ContentProgress { .. } => {}
        }
    }

    fn deadline(&self) -> Option<Instant> {
        // A publication held back wakes the driver when it may go out (its step publishes).
        let publish = self
            .published
            .filter(|_| self.publish_due)
            .map(|t| t + PUBLISH_EVERY);
        [self.timers.keys().next().map(|(at, _)| *at), publish]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_deadline(&mut self, session: &mut DeviceSession, now: Instant) {
        let due: Vec<_> = self
            .timers
            .range(..=(now, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            if let Some(action) = self.timers.remove(&key) {
                self.act(action, session);
            }
        }
    }

    fn keep_trying(&mut self, error: &ClientError) -> bool {
        if let Some(refusal) = error.refusal().filter(|r| **r != Refusal::ContentMismatch) {
            tracing::warn!(device = %self.config.seat.device, "refused: {refusal}");
        }
        false
    }

    fn after_step(&mut self, session: &DeviceSession) {
        // The stats hold every event the device ever sent: cloning them after each message
        // would cost a pipelining device more than the director's work (quadratic in its
        // events), so they are published at most every PUBLISH_EVERY, the last change always.
        let now = Instant::now();
        if self.published.is_some_and(|t| now < t + PUBLISH_EVERY) {
            self.publish_due = true;
            return;
        }
        self.published = Some(now);
        self.publish_due = false;
        self.stats.link = session.stats().clone();
        self.stats_tx.send_replace(self.stats.clone());
    }
}

/// How often, at most, a simulated device publishes its stats to its handle.
const PUBLISH_EVERY: Duration = Duration::from_millis(5);

impl Player {
    fn schedule(&mut self, at: Instant, action: Action) {
        self.next_timer += 1;
        self.timers.insert((at, self.next_timer), action);
    }

    fn think(&mut self) -> Duration {
        self.config.think.mul_f64(self.rng.random_range(0.5..1.5))
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

    fn on_snapshot(&mut self, snapshot: &Snapshot, now: Instant) {
        let scenario = self.scenario.clone();
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
    }

    /// Whether `puzzle` is still open by the last snapshot (not solved, the game not over).
    fn still_open(session: &DeviceSession, puzzle: &PuzzleId) -> bool {
        session
            .stats()
            .last_snapshot
            .as_ref()
            .is_some_and(|s| s.ended.is_none() && s.open.contains(puzzle))
    }

    fn act(&mut self, action: Action, session: &mut DeviceSession) {
        let event = match action {
            Action::CueFinished(instance) => {
                self.stats.cues_finished += 1;
                DeviceEvent::CueFinished { instance }
            }
            Action::CueStarted(instance, late_ms) => DeviceEvent::CueStarted { instance, late_ms },
            Action::HintRequest(puzzle)
            | Action::WrongAnswer(puzzle)
            | Action::RightAnswer(puzzle)
                if !Self::still_open(session, &puzzle) =>
            {
                return;
            }
            play => {
                let Some(station) = self.config.seat.station.clone() else {
                    return;
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
                            return;
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
                            return;
                        };
                        self.stats.right_answers += 1;
                        DeviceEvent::Answer {
                            puzzle,
                            station,
                            participant,
                            answer,
                        }
                    }
                    Action::CueFinished(_) | Action::CueStarted(..) => return,
                }
            }
        };
        // Not stored: the error is in the session's counters; the device would break its
        // promise by sending it anyway.
        let _ = session.push_event(event);
    }

    fn solution_of(&self, puzzle: &PuzzleId) -> Option<boussole_content::puzzle::SolutionCheck> {
        self.scenario
            .puzzles
            .iter()
            .find(|p| p.id == *puzzle)
            .map(|p| p.solution.clone())
    }
}
