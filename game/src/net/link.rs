//! The device link: a thread with its own Tokio runtime that pairs once (with a code typed on
//! the device or given with `--code`), finds the director by mDNS when no address is given,
//! connects pinned with backoff, keeps the on-disk outbox and resends what was never
//! acknowledged, acknowledges every cue firing exactly once, keeps the clock sync, downloads
//! the content bundle when told it is out of sync, and hands everything to the app as
//! [`NetEvent`]s. It follows `tools/sim/src/device.rs`, the reference behaviour.
//!
//! When the director is lost the link only reconnects: the app keeps its last state and
//! resyncs from the snapshot the director sends on every welcome (DESIGN principle 3).

use boussole_content::ids::{CueId, EndingId, PuzzleId};
use boussole_protocol::clock::{ClockSync, SAMPLE_INTERVAL_MS, Sample};
use boussole_protocol::content_sync::{ContentSync, SyncConfig, SyncEvent};
use boussole_protocol::cues::{Arrival, CueLedger};
use boussole_protocol::discovery;
use boussole_protocol::outbox::{Outbox, OutboxError};
use boussole_protocol::pairing::{Pairing, PairingCode};
use boussole_protocol::transport::{self, Backoff, Client, ClientError};
use boussole_protocol::wire::{
    ClientMsg, Hello, PROTOCOL_VERSION, Refusal, Role, ServerMsg, Snapshot,
};
use boussole_protocol::{DeviceEvent, DeviceId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How a device joins the director.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// The device's name, as the director registers it (`tablette_quai`).
    pub device: DeviceId,
    /// What it is.
    pub role: Role,
    /// The director's address; `None`: found on the local network by mDNS.
    pub director: Option<SocketAddr>,
    /// Where the pairing, the outbox and the downloaded content live (created if missing).
    pub data_dir: PathBuf,
    /// The pairing code, when there is no saved pairing (`--code`); without it the link waits
    /// for [`DeviceLink::pair_with`] (the keypad).
    pub pairing_code: Option<PairingCode>,
    /// The manifest hash of the content the device holds (all zeros: none).
    pub content_hash: [u8; 32],
    /// Fetch the role's files when told the content differs.
    pub sync_content: bool,
    /// Reconnection schedule of one round of attempts; after a round the link waits
    /// `backoff.max` and starts another (a device never gives up).
    pub backoff: Backoff,
    /// Interval of clock pings, which double as a liveness check.
    pub ping_interval: Duration,
    /// With nothing heard from the director for this long, the connection is dropped and
    /// made again (a killed director is otherwise noticed only at QUIC's 12 s idle timeout).
    pub silence_timeout: Duration,
    /// How long each mDNS browse lasts.
    pub discovery_timeout: Duration,
}

impl LinkConfig {
    /// Defaults for `device` playing `role` with its files under `data_dir`: mDNS discovery,
    /// no code, no content hash, content sync on, the default backoff, a ping every 500 ms,
    /// 3 s of silence tolerated, browses of 3 s.
    pub fn new(device: DeviceId, role: Role, data_dir: PathBuf) -> Self {
        Self {
            device,
            role,
            director: None,
            data_dir,
            pairing_code: None,
            content_hash: [0; 32],
            sync_content: true,
            backoff: Backoff::default(),
            ping_interval: Duration::from_millis(SAMPLE_INTERVAL_MS / 4),
            silence_timeout: Duration::from_secs(3),
            discovery_timeout: Duration::from_secs(3),
        }
    }

    /// `data_dir/pairing.bin`: the director's CA and this device's token ([`Pairing::save`]).
    pub fn pairing_file(&self) -> PathBuf {
        self.data_dir.join("pairing.bin")
    }

    /// `data_dir/outbox.bin`: events not yet acknowledged (protocol `outbox`).
    pub fn outbox_file(&self) -> PathBuf {
        self.data_dir.join("outbox.bin")
    }

    /// `data_dir/content`: the director's content, fetched by file
    /// (`boussole_protocol::content_sync`: `files/`, `trees/<manifest>/{content,assets}`,
    /// `current`).
    pub fn content_dir(&self) -> PathBuf {
        self.data_dir.join("content")
    }
}

/// Where the link stands, for the status line and the pairing screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Looking for a director on the local network.
    Discovering,
    /// No saved pairing and no code: the keypad must ask for one. `error` says why the last
    /// code failed.
    NeedsCode {
        /// Why the last attempt failed, in French.
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
    /// Lost; reconnecting. The app keeps its state.
    Offline {
        /// Why, in French.
        reason: String,
    },
}

/// What the link hands to the app, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum NetEvent {
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
        /// Its scheduled start on this device's clock ([`DeviceLink::local_ms`]); `None`
        /// before the first clock sample (start now).
        start_local_ms: Option<u64>,
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
        immersion: Option<boussole_content::ids::ImmersionId>,
        /// Who wears the headset.
        participant: Option<boussole_protocol::ParticipantId>,
        /// When the director started it, session ms.
        started_at_ms: Option<u64>,
        /// The wearer already finished a tutorial in this session.
        tutorial_done: bool,
    },
    /// The role's content was fetched, every file verified, and its tree is `dir`.
    ContentSynced {
        /// Holds `content/` and `assets/`.
        dir: PathBuf,
        /// Its manifest's hash.
        hash: [u8; 32],
    },
}

/// What the link has done so far, for tests and the `--stats` file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkStats {
    /// Successful connections.
    pub connections: u32,
    /// Connected now.
    pub online: bool,
    /// What the last welcome said of the content.
    pub content_in_sync: Option<bool>,
    /// Every event created, with its `seq`, in order.
    pub events: Vec<(u64, DeviceEvent)>,
    /// Event frames sent, resends included.
    pub events_sent: u64,
    /// The `seq`s acknowledged.
    pub acked_seqs: BTreeSet<u64>,
    /// Events waiting for an acknowledgement.
    pub pending: usize,
    /// Cue messages received, resends included.
    pub cues_received: u64,
    /// Cue firings applied, by instance (each once).
    pub applied: BTreeMap<u64, CueId>,
    /// Resent cues already applied (acknowledged again, not applied).
    pub duplicate_cues: u64,
    /// Of those, cues resent after the director had acknowledged their `CueApplied`.
    pub acked_cues_resent: u64,
    /// Snapshots received.
    pub snapshots: u64,
    /// The ending, once a snapshot reports it.
    pub ended: Option<EndingId>,
    /// Director clock minus device clock, ms, once estimated.
    pub clock_offset_ms: Option<f64>,
    /// The manifest hash of the content fetched, once every file is verified.
    pub bundle: Option<[u8; 32]>,
    /// The last error met.
    pub last_error: Option<String>,
}

/// Why the link refused something.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The outbox could not be opened or written: the event was not stored, so not sent.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The link's thread or runtime could not start.
    #[error("starting the device link: {0}")]
    Start(#[from] std::io::Error),
    /// The link's thread has stopped.
    #[error("the device link has stopped")]
    Stopped,
}

enum Control {
    Send(u64, DeviceEvent),
    Code(PairingCode),
    Stop,
}

/// What the thread and the app share.
struct Shared {
    outbox: Outbox,
    clock: ClockSync,
    stats: LinkStats,
    epoch: Instant,
}

impl Shared {
    fn local_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Stores `event` in the outbox; its `seq`.
    fn push(&mut self, event: DeviceEvent) -> Result<u64, OutboxError> {
        let seq = self.outbox.push(event.clone())?;
        self.stats.events.push((seq, event));
        self.stats.pending = self.outbox.len();
        Ok(seq)
    }
}

/// A lock that survives a panic in another holder (each section is a short update).
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running link; dropping it stops the thread (after a goodbye to the director).
pub struct DeviceLink {
    events: Mutex<std_mpsc::Receiver<NetEvent>>,
    control: mpsc::UnboundedSender<Control>,
    shared: Arc<Mutex<Shared>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for DeviceLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceLink").finish_non_exhaustive()
    }
}

impl DeviceLink {
    /// Opens the outbox and starts the link's thread.
    ///
    /// # Errors
    /// [`LinkError::Outbox`] when the outbox cannot be opened (another process holds it, a
    /// file that is not an outbox); [`LinkError::Start`].
    pub fn start(config: LinkConfig) -> Result<Self, LinkError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let outbox = Outbox::open(Some(&config.outbox_file()))?;
        let shared = Arc::new(Mutex::new(Shared {
            outbox,
            clock: ClockSync::new(),
            stats: LinkStats::default(),
            epoch: Instant::now(),
        }));
        let sync = if config.sync_content {
            Some(
                ContentSync::open(&config.content_dir(), SyncConfig::default())
                    .map_err(|e| LinkError::Start(std::io::Error::other(e.to_string())))?,
            )
        } else {
            None
        };
        let (events_tx, events) = std_mpsc::channel();
        let (control, control_rx) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let task = Task {
            hello_hash: config.content_hash,
            config,
            shared: shared.clone(),
            events: events_tx,
            cues: CueLedger::default(),
            sync,
            last_heard: Instant::now(),
        };
        let thread = std::thread::Builder::new()
            .name("liaison-directeur".into())
            .spawn(move || runtime.block_on(task.run(control_rx)))?;
        Ok(Self {
            events: Mutex::new(events),
            control,
            shared,
            thread: Some(thread),
        })
    }

    /// Every event since the last call, in order.
    pub fn poll(&self) -> Vec<NetEvent> {
        match self.events.lock() {
            Ok(rx) => rx.try_iter().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Reports `event`: stored in the outbox first (so nothing is lost), then sent when
    /// connected; returns its `seq`.
    ///
    /// # Errors
    /// [`LinkError::Outbox`]: not stored, so not sent.
    pub fn send(&self, event: DeviceEvent) -> Result<u64, LinkError> {
        let seq = lock(&self.shared).push(event.clone())?;
        // A stopped thread leaves the event in the outbox, sent on the next start.
        let _ = self.control.send(Control::Send(seq, event));
        Ok(seq)
    }

    /// Pairs with `code` (typed on the keypad) when the link waits for one.
    ///
    /// # Errors
    /// [`LinkError::Stopped`].
    pub fn pair_with(&self, code: PairingCode) -> Result<(), LinkError> {
        self.control
            .send(Control::Code(code))
            .map_err(|_| LinkError::Stopped)
    }

    /// The device's clock, ms since the link started (the clock of `CueApplied` and
    /// [`NetEvent::Cue::start_local_ms`]).
    pub fn local_ms(&self) -> u64 {
        lock(&self.shared).local_ms()
    }

    /// The director's session clock now, ms, once a clock sample arrived (it keeps running
    /// on the last estimate while the director is away).
    pub fn director_ms(&self) -> Option<u64> {
        let shared = lock(&self.shared);
        shared.clock.to_server(shared.local_ms())
    }

    /// A copy of the counters.
    pub fn stats(&self) -> LinkStats {
        let shared = lock(&self.shared);
        let mut stats = shared.stats.clone();
        stats.pending = shared.outbox.len();
        stats
    }

    /// Says goodbye to the director and stops the thread (at most a few seconds).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DeviceLink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How a connection ended.
enum Ended {
    Stop,
    Lost(String),
}

/// The link's state, owned by its thread.
struct Task {
    config: LinkConfig,
    /// The content hash the next Hello presents (updated after a download).
    hello_hash: [u8; 32],
    shared: Arc<Mutex<Shared>>,
    events: std_mpsc::Sender<NetEvent>,
    /// The cue firings applied.
    cues: CueLedger,
    /// The content fetched by file, when `sync_content`.
    sync: Option<ContentSync>,
    last_heard: Instant,
}

fn lost_reason(e: &ClientError) -> String {
    match e.refusal() {
        Some(r) => format!("refusé par la régie : {r}"),
        None => format!("régie injoignable : {e}"),
    }
}

impl Task {
    fn emit(&self, event: NetEvent) {
        let _ = self.events.send(event);
    }

    fn state(&self, state: LinkState) {
        self.emit(NetEvent::State(state));
    }

    fn error(&self, why: String) {
        tracing::warn!(device = %self.config.device, "{why}");
        lock(&self.shared).stats.last_error = Some(why);
    }

    async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        // Cues acknowledged but not yet confirmed before a restart count as applied.
        self.cues = CueLedger::from_pending(&lock(&self.shared).outbox.pending());
        let Some((mut addr, mut pairing)) = self.join(&mut control).await else {
            return;
        };
        loop {
            self.state(LinkState::Connecting);
            let hello = Hello {
                protocol_version: PROTOCOL_VERSION,
                device: self.config.device.clone(),
                role: self.config.role,
                content_hash: self.hello_hash,
                token: Some(pairing.token.clone()),
            };
            let (ca, backoff) = (pairing.ca_der.clone(), self.config.backoff.clone());
            let connect = transport::connect_with_backoff(addr, &ca, &hello, &backoff);
            tokio::pin!(connect);
            let attempt = loop {
                tokio::select! {
                    c = &mut connect => break c,
                    c = control.recv() => match c {
                        Some(Control::Code(code)) => self.config.pairing_code = Some(code),
                        // Already in the outbox: sent once connected.
                        Some(Control::Send(..)) => {}
                        Some(Control::Stop) | None => return,
                    },
                }
            };
            let reason = match attempt {
                Ok(client) => match self.session(client, &mut control).await {
                    Ended::Stop => return,
                    Ended::Lost(reason) => reason,
                },
                Err(e) => {
                    if matches!(
                        e.refusal(),
                        Some(Refusal::UnknownDevice | Refusal::BadToken)
                    ) {
                        // The director forgot this device: pair again.
                        let _ = std::fs::remove_file(self.config.pairing_file());
                        self.config.pairing_code = None;
                        self.state(LinkState::NeedsCode {
                            error: Some(lost_reason(&e)),
                        });
                        let Some(joined) = self.join(&mut control).await else {
                            return;
                        };
                        (addr, pairing) = joined;
                        continue;
                    }
                    lost_reason(&e)
                }
            };
            lock(&self.shared).stats.online = false;
            self.error(reason.clone());
            self.state(LinkState::Offline { reason });
            let pause = tokio::time::sleep(self.config.backoff.first);
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    () = &mut pause => break,
                    c = control.recv() => if matches!(c, Some(Control::Stop) | None) { return; },
                }
            }
            if self.config.director.is_none()
                && let Some(found) = self.discover_once().await
            {
                // A director restarted elsewhere on the network.
                addr = found;
            }
        }
    }

    /// The director's address and a pairing: saved, or made with a code. `None` when told
    /// to stop first.
    async fn join(
        &mut self,
        control: &mut mpsc::UnboundedReceiver<Control>,
    ) -> Option<(SocketAddr, Pairing)> {
        let addr = match self.config.director {
            Some(addr) => addr,
            None => loop {
                self.state(LinkState::Discovering);
                if let Some(addr) = self.discover_once().await {
                    break addr;
                }
                loop {
                    match control.try_recv() {
                        Ok(Control::Code(code)) => self.config.pairing_code = Some(code),
                        Ok(Control::Send(..)) => {}
                        Ok(Control::Stop) | Err(mpsc::error::TryRecvError::Disconnected) => {
                            return None;
                        }
                        Err(mpsc::error::TryRecvError::Empty) => break,
                    }
                }
            },
        };
        match Pairing::load(&self.config.pairing_file()) {
            Ok(Some(p)) => return Some((addr, p)),
            Ok(None) => {}
            Err(e) => self.error(format!("appairage enregistré illisible, à refaire : {e}")),
        }
        let mut error = None;
        loop {
            let code = match self.config.pairing_code.take() {
                Some(code) => code,
                None => {
                    self.state(LinkState::NeedsCode {
                        error: error.take(),
                    });
                    loop {
                        match control.recv().await {
                            Some(Control::Code(code)) => break code,
                            Some(Control::Send(..)) => {}
                            Some(Control::Stop) | None => return None,
                        }
                    }
                }
            };
            self.state(LinkState::Pairing);
            match transport::pair(addr, code, &self.config.device).await {
                Ok(p) => {
                    if let Err(e) = p.save(&self.config.pairing_file()) {
                        self.error(format!(
                            "appairage réussi mais non enregistré dans {} : {e}",
                            self.config.pairing_file().display()
                        ));
                    }
                    return Some((addr, p));
                }
                Err(e) => {
                    let why = match e.refusal() {
                        Some(Refusal::WrongPairingCode) => {
                            "code erroné, vérifiez le code affiché par la régie".to_owned()
                        }
                        Some(Refusal::PairingLocked { retry_after_s }) => {
                            format!("trop d'essais : attendez {retry_after_s} s avant de réessayer")
                        }
                        _ => lost_reason(&e),
                    };
                    self.error(why.clone());
                    error = Some(why);
                }
            }
        }
    }

    /// One mDNS browse; the first director found that speaks this protocol.
    async fn discover_once(&self) -> Option<SocketAddr> {
        let timeout = self.config.discovery_timeout;
        let found = tokio::task::spawn_blocking(move || discovery::browse(timeout))
            .await
            .ok()?;
        match found {
            Ok(list) => list
                .into_iter()
                .filter(|f| f.version == u32::from(PROTOCOL_VERSION))
                .find_map(|f| f.socket_addrs().into_iter().next()),
            Err(e) => {
                self.error(format!("recherche de la régie impossible : {e}"));
                // Wait as long as a browse would have, so a broken network does not spin.
                tokio::time::sleep(timeout).await;
                None
            }
        }
    }

    async fn session(
        &mut self,
        mut client: Client,
        control: &mut mpsc::UnboundedReceiver<Control>,
    ) -> Ended {
        if let Err(e) = self.on_connected(&mut client).await {
            return Ended::Lost(lost_reason(&e));
        }
        let mut ping = tokio::time::interval(self.config.ping_interval);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // While the content downloads, datagrams from the director count as news: on a lossy
        // link a chunk can take longer than the silence timeout to arrive whole, and the pongs
        // wait behind it (otherwise the link would drop and start the chunk over, for ever).
        // Outside a download only whole messages count, so a director whose session is stuck
        // behind a live QUIC connection is still noticed.
        let mut datagrams = client.datagrams_received();
        loop {
            let resend_at = self.sync.as_ref().and_then(ContentSync::poll_timeout);
            tokio::select! {
                () = sleep_until_or_never(resend_at) => {
                    if let Err(e) = self.flush_sync(&mut client).await {
                        return Ended::Lost(lost_reason(&e));
                    }
                }
                msg = client.recv() => match msg {
                    Ok(Some(msg)) => {
                        self.last_heard = Instant::now();
                        if let Err(e) = self.on_message(msg, &mut client).await {
                            return Ended::Lost(lost_reason(&e));
                        }
                    }
                    Ok(None) => return Ended::Lost("la régie a fermé la connexion".into()),
                    Err(e) => return Ended::Lost(lost_reason(&e)),
                },
                c = control.recv() => match c {
                    Some(Control::Send(seq, event)) => {
                        if let Err(e) = self.send_event(&mut client, seq, event).await {
                            return Ended::Lost(lost_reason(&e));
                        }
                    }
                    Some(Control::Code(_)) => {}
                    Some(Control::Stop) | None => {
                        client.close().await;
                        return Ended::Stop;
                    }
                },
                _ = ping.tick() => {
                    let now = client.datagrams_received();
                    let downloading = self.sync.as_ref().is_some_and(ContentSync::is_syncing);
                    if now > datagrams && downloading {
                        self.last_heard = Instant::now();
                    }
                    datagrams = now;
                    if self.last_heard.elapsed() > self.config.silence_timeout {
                        return Ended::Lost("plus de nouvelles de la régie".into());
                    }
                    let t0_ms = lock(&self.shared).local_ms();
                    if let Err(e) = client.send(ClientMsg::ClockPing { t0_ms }).await {
                        return Ended::Lost(lost_reason(&e));
                    }
                }
            }
        }
    }

    async fn send_event(
        &mut self,
        client: &mut Client,
        seq: u64,
        event: DeviceEvent,
    ) -> Result<(), ClientError> {
        client.send(ClientMsg::Event { seq, event }).await?;
        lock(&self.shared).stats.events_sent += 1;
        Ok(())
    }

    async fn on_connected(&mut self, client: &mut Client) -> Result<(), ClientError> {
        let welcome = client.welcome().clone();
        self.last_heard = Instant::now();
        let pending = {
            let mut shared = lock(&self.shared);
            shared.stats.connections += 1;
            shared.stats.online = true;
            shared.stats.content_in_sync = Some(welcome.content_in_sync);
            shared.outbox.pending()
        };
        self.emit(NetEvent::Welcome {
            director_name: welcome.director_name.clone(),
            content_in_sync: welcome.content_in_sync,
        });
        self.state(LinkState::Online {
            director_name: welcome.director_name,
        });
        // What the director never acknowledged, in order, before anything new.
        for (seq, event) in pending {
            self.send_event(client, seq, event).await?;
        }
        if let Some(sync) = self.sync.as_mut() {
            sync.on_connected(welcome.content_in_sync, Instant::now());
        }
        self.flush_sync(client).await?;
        let t0_ms = lock(&self.shared).local_ms();
        client.send(ClientMsg::ClockPing { t0_ms }).await
    }

    async fn on_message(&mut self, msg: ServerMsg, client: &mut Client) -> Result<(), ClientError> {
        match msg {
            ServerMsg::Ack { seq } => {
                {
                    let mut shared = lock(&self.shared);
                    if let Err(e) = shared.outbox.ack(seq) {
                        shared.stats.last_error = Some(e.to_string());
                    }
                    shared.stats.acked_seqs.insert(seq);
                    shared.stats.pending = shared.outbox.len();
                }
                self.emit(NetEvent::Acked { seq });
            }
            ServerMsg::Cue {
                instance,
                cue,
                start_at_ms,
            } => self.on_cue(instance, cue, start_at_ms, client).await?,
            ServerMsg::StopAll => self.emit(NetEvent::StopAll),
            ServerMsg::Hint { puzzle, level } => self.emit(NetEvent::Hint { puzzle, level }),
            ServerMsg::Snapshot(snapshot) => {
                {
                    let mut shared = lock(&self.shared);
                    shared.stats.snapshots += 1;
                    if snapshot.ended.is_some() {
                        shared.stats.ended.clone_from(&snapshot.ended);
                    }
                }
                self.emit(NetEvent::Snapshot(snapshot));
            }
            ServerMsg::ClockPong {
                t0_ms,
                t1_ms,
                t2_ms,
            } => {
                let mut shared = lock(&self.shared);
                let t3 = shared.local_ms();
                let sample = Sample {
                    t0: t0_ms,
                    t1: t1_ms,
                    t2: t2_ms,
                    t3,
                };
                match shared.clock.add(sample) {
                    Ok(e) => {
                        let offset = e.offset_ms;
                        shared.stats.clock_offset_ms = Some(offset);
                    }
                    Err(e) => shared.stats.last_error = Some(e.to_string()),
                }
            }
            ServerMsg::Manifest(manifest) => {
                if let Some(sync) = self.sync.as_mut() {
                    sync.on_manifest(manifest, Instant::now());
                }
                self.flush_sync(client).await?;
            }
            ServerMsg::FileChunk {
                hash,
                offset,
                bytes,
            } => {
                if let Some(sync) = self.sync.as_mut() {
                    sync.on_chunk(hash, offset, bytes, Instant::now());
                }
                self.flush_sync(client).await?;
            }
            ServerMsg::FileUnavailable { hash } => {
                if let Some(sync) = self.sync.as_mut() {
                    sync.on_unavailable(hash);
                }
                self.flush_sync(client).await?;
            }
            ServerMsg::Notice(text) => self.emit(NetEvent::Notice(text)),
            ServerMsg::Refused(refusal) => self.emit(NetEvent::Notice(refusal.to_string())),
            ServerMsg::Immersion {
                immersion,
                participant,
                started_at_ms,
                tutorial_done,
            } => self.emit(NetEvent::Immersion {
                immersion,
                participant,
                started_at_ms,
                tutorial_done,
            }),
            ServerMsg::Welcome { .. }
            | ServerMsg::Pairing(_)
            | ServerMsg::Log(_)
            | ServerMsg::Room(_)
            | ServerMsg::Register(_)
            | ServerMsg::ContentChunk { .. } => {}
        }
        Ok(())
    }

    /// Acknowledges a cue firing with the device time it starts at (its scheduled start
    /// mapped to this clock, or now if that is past) and hands it to the app once; a resent
    /// firing is acknowledged again but not applied again.
    async fn on_cue(
        &mut self,
        instance: u64,
        cue: CueId,
        start_at_ms: u64,
        client: &mut Client,
    ) -> Result<(), ClientError> {
        let (seq, received) = {
            let mut shared = lock(&self.shared);
            shared.stats.cues_received += 1;
            let now = shared.local_ms();
            let received = self.cues.receive(
                instance,
                start_at_ms,
                &shared.clock,
                now,
                &shared.stats.acked_seqs,
            );
            match received.arrival {
                Arrival::Again { after_ack } => {
                    shared.stats.duplicate_cues += 1;
                    if after_ack {
                        tracing::error!(instance, "an acknowledged cue was sent again");
                        shared.stats.acked_cues_resent += 1;
                    }
                }
                Arrival::First => {
                    shared.stats.applied.insert(instance, cue.clone());
                }
            }
            match shared.push(received.ack()) {
                Ok(seq) => (seq, received),
                Err(e) => {
                    // Not stored, so not sent: the director will send the cue again.
                    shared.stats.last_error = Some(e.to_string());
                    return Ok(());
                }
            }
        };
        if received.arrival == Arrival::First {
            self.cues.applied(instance, seq);
            self.emit(NetEvent::Cue {
                instance,
                cue,
                start_local_ms: received.start_local_ms,
            });
        }
        self.send_event(client, seq, received.ack()).await
    }

    /// Sends what the content sync asks for and hands on what it tells: a tree ready is
    /// `NetEvent::ContentSynced` (and the hash of the next `Hello`); a sync that stops (a full
    /// disk, a file that never matches) is a `Problem` for the director, in French.
    async fn flush_sync(&mut self, client: &mut Client) -> Result<(), ClientError> {
        let Some(sync) = self.sync.as_mut() else {
            return Ok(());
        };
        let now = Instant::now();
        sync.handle_timeout(now);
        let mut out = Vec::new();
        while let Some(msg) = sync.poll_transmit(now) {
            out.push(msg);
        }
        let mut events = Vec::new();
        while let Some(event) = sync.poll_event() {
            events.push(event);
        }
        for msg in out {
            client.send(msg).await?;
        }
        for event in events {
            match event {
                SyncEvent::Complete { dir, manifest } => {
                    lock(&self.shared).stats.bundle = Some(manifest);
                    self.hello_hash = manifest;
                    self.emit(NetEvent::ContentSynced {
                        dir,
                        hash: manifest,
                    });
                }
                SyncEvent::Progress { .. } => {}
                SyncEvent::Error(e) => {
                    let stops = e.is_disk_full()
                        || matches!(
                            e,
                            boussole_protocol::content_sync::SyncError::GaveUp { .. }
                                | boussole_protocol::content_sync::SyncError::Io { .. }
                        );
                    let what = if e.is_disk_full() {
                        format!("contenu : disque plein, l'ancien contenu reste en service ({e})")
                    } else {
                        format!("contenu : {e}")
                    };
                    self.error(what.clone());
                    if stops {
                        let problem = DeviceEvent::Problem { what };
                        let seq = lock(&self.shared).push(problem.clone());
                        if let Ok(seq) = seq {
                            self.send_event(client, seq, problem).await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Sleeps until `at`, or for ever when there is nothing to wait for.
async fn sleep_until_or_never(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The default data folder of a device: `$XDG_DATA_HOME/boussole/game/<device>`, else
/// `~/.local/share/boussole/game/<device>`, else `./boussole-game/<device>`.
pub fn default_data_dir(device: &DeviceId) -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map_or_else(
            || PathBuf::from("boussole-game"),
            |d| d.join("boussole/game"),
        )
        .join(device.as_str())
}

/// Whether `dir` holds a saved pairing (the pairing screen is skipped).
pub fn has_pairing(dir: &Path) -> bool {
    dir.join("pairing.bin").is_file()
}
