//! The device link: a thread with its own Tokio runtime driving the device's
//! [`DeviceSession`] (protocol `device_session`, the same session the simulated devices run):
//! it pairs once (with a code typed on the device or given at start), finds the director by
//! mDNS when no address is given, connects pinned with backoff, keeps the on-disk outbox and
//! resends what was never acknowledged, acknowledges every cue firing exactly once, keeps the
//! clock sync, downloads the content when told it is out of sync, and hands everything to the
//! app as [`NetEvent`]s.
//!
//! When the director is lost the link only reconnects: the app keeps its last state and
//! resyncs from the snapshot the director sends on every welcome (DESIGN principle 3).

use boussole_protocol::DeviceEvent;
use boussole_protocol::DeviceId;
use boussole_protocol::clock::SAMPLE_INTERVAL_MS;
use boussole_protocol::content_sync::{ContentSync, SyncConfig};
use boussole_protocol::device_driver::{self, Command, DeviceApp, DriverConfig, lock};
use boussole_protocol::device_session::{DeviceClock, DeviceSession, SessionConfig};
use boussole_protocol::outbox::{Outbox, OutboxError};
use boussole_protocol::pairing::{Pairing, PairingCode};
use boussole_protocol::transport::Backoff;
use boussole_protocol::wire::Role;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub use boussole_protocol::device_session::{
    LinkState, SessionEvent as NetEvent, SessionStats as LinkStats,
};

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

/// The app side of the driver: every session event goes to the app's channel.
struct Forward(std_mpsc::Sender<NetEvent>);

impl DeviceApp for Forward {
    fn on_event(&mut self, _session: &mut DeviceSession, event: NetEvent, _now: Instant) {
        let _ = self.0.send(event);
    }
}

/// The running link; dropping it stops the thread (after a goodbye to the director).
pub struct DeviceLink {
    events: Mutex<std_mpsc::Receiver<NetEvent>>,
    control: mpsc::UnboundedSender<Command>,
    session: Arc<Mutex<DeviceSession>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for DeviceLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceLink").finish_non_exhaustive()
    }
}

impl DeviceLink {
    /// Opens the outbox and the saved pairing and starts the link's thread.
    ///
    /// # Errors
    /// [`LinkError::Outbox`] when the outbox cannot be opened (another process holds it, a
    /// file that is not an outbox); [`LinkError::Start`].
    pub fn start(config: LinkConfig) -> Result<Self, LinkError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let outbox = Outbox::open(Some(&config.outbox_file()))?;
        let pairing = match Pairing::load(&config.pairing_file()) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("appairage enregistré illisible, à refaire : {e}");
                None
            }
        };
        let session_config = SessionConfig {
            director: config.director,
            pairing_code: config.pairing_code,
            content_hash: config.content_hash,
            sync_content: config.sync_content,
            ping_interval: config.ping_interval,
            silence_timeout: config.silence_timeout,
            retry_pause: config.backoff.first,
            ..SessionConfig::new(config.device.clone(), config.role)
        };
        let mut session = DeviceSession::new(
            session_config,
            DeviceClock::new(Instant::now()),
            outbox,
            pairing,
        );
        if config.sync_content {
            let sync = ContentSync::open(&config.content_dir(), SyncConfig::default())
                .map_err(|e| LinkError::Start(std::io::Error::other(e.to_string())))?;
            session = session.with_content(sync);
        }
        let session = Arc::new(Mutex::new(session));
        let driver = DriverConfig {
            backoff: config.backoff.clone(),
            discovery_timeout: config.discovery_timeout,
            pairing_file: Some(config.pairing_file()),
        };
        let (events_tx, events) = std_mpsc::channel();
        let (control, commands) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let task_session = session.clone();
        let thread = std::thread::Builder::new()
            .name("liaison-directeur".into())
            .spawn(move || {
                let mut app = Forward(events_tx);
                // A driver only stops with an error when the app says so; this one never does.
                let _ = runtime.block_on(device_driver::drive(
                    task_session,
                    driver,
                    commands,
                    &mut app,
                ));
            })?;
        Ok(Self {
            events: Mutex::new(events),
            control,
            session,
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
        let seq = lock(&self.session).push_event(event)?;
        // A stopped thread leaves the event in the outbox, sent on the next start.
        let _ = self.control.send(Command::Wake);
        Ok(seq)
    }

    /// Sends a head pose on an unreliable datagram when connected (dropped otherwise: the next
    /// one replaces it). Never blocks.
    pub fn send_pose(&self, pose: boussole_protocol::wire::Pose) {
        let _ = self.control.send(Command::Pose(pose));
    }

    /// Pairs with `code` (typed on the keypad) when the link waits for one.
    ///
    /// # Errors
    /// [`LinkError::Stopped`].
    pub fn pair_with(&self, code: PairingCode) -> Result<(), LinkError> {
        self.control
            .send(Command::Pair(code))
            .map_err(|_| LinkError::Stopped)
    }

    /// The device's clock, ms since the link started (the clock of `CueApplied` and
    /// [`NetEvent::Cue::start_local_ms`]).
    pub fn local_ms(&self) -> u64 {
        lock(&self.session).local_ms(Instant::now())
    }

    /// The director's session clock now, ms, once a clock sample arrived (it keeps running
    /// on the last estimate while the director is away).
    pub fn director_ms(&self) -> Option<u64> {
        lock(&self.session).director_ms(Instant::now())
    }

    /// A copy of the counters.
    pub fn stats(&self) -> LinkStats {
        lock(&self.session).stats().clone()
    }

    /// Says goodbye to the director and stops the thread (at most a few seconds).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.control.send(Command::Stop);
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
