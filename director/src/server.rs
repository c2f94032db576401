//! `serve`: the director on the network. QUIC connections (via `boussole_protocol::transport`)
//! become engine inputs on the session thread; engine effects become messages to the devices
//! they target. After every batch of effects each device gets a fresh snapshot, so a device
//! that missed something converges; on (re)connection it also gets the cue firings it never
//! acknowledged (never one it did).
//!
//! [`Serving`] wires the whole director together (content catalog, identity, paired devices,
//! the session thread, the QUIC server and the routing task) on the caller's Tokio runtime: the
//! `serve` command and the end-to-end tests start it the same way.

use crate::engine::{
    Command, Effect, Engine, GameEventKind, ImmersionRun, Input, ParticipantId, RaterId,
};
use crate::runtime::{Director, DirectorHandle, Output, unix_ms};
use crate::session::Session;
use crate::store::{LogSeq, SessionId};
use boussole_content::ContentSet;
use boussole_content::cue::{DeviceRole, Target};
use boussole_content::ids::{ImmersionId, StationId};
use boussole_protocol::DeviceId;
use boussole_protocol::manifest::{self, Catalog, ManifestError, RoleHashes};
use boussole_protocol::pairing::{
    DeviceRegistry, PairingCode, PairingState, RegistryError, token_hash,
};
use boussole_protocol::tls::{DirectorIdentity, TlsError};
use boussole_protocol::transport::{ConnId, Server, ServerEvent, TransportError};
use boussole_protocol::wire::{
    ClientMsg, DeviceToken, HeadsetPose, HeadsetPoses, LinkStatus, LogEntry, MAX_FILE_CHUNK, Pose,
    Refusal, Role, RoomStatus, ServerMsg, Snapshot, SoundSettings,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// File chunks are read from disk for a connection only while fewer messages than this wait
/// in its send queue (at most 16 × 256 KiB = 4 MiB held per connection); a request beyond is
/// dropped and the device asks again (`ContentSync`'s retry delay). A device keeps 8 requests
/// in flight, so it never meets the bound unless other messages pile up in front.
const MAX_QUEUED_FOR_FILES: usize = 16;

/// Largest batch of log records sent to a console at once, bytes of input (well under the
/// frame limit, which a single record never approaches).
const LOG_BATCH: usize = 256 * 1024;

/// How often consoles get the room status (pairing window, each device's round trip).
const ROOM_EVERY: Duration = Duration::from_secs(1);

/// Paired devices, kept in a file next to the session log: one line per device,
/// `device<TAB>sha256(token)`, then `<TAB>console` once it has connected as a read-write
/// console (the director opens pairing by itself at start while no console is paired:
/// [`FileRegistry::has_console`]). Only hashes are stored; the file is rewritten atomically
/// on each change.
///
/// Every read and write of the file happens under the one lock: a device connecting (which
/// re-reads the file, so that `pair forget` run beside a live `serve` takes effect) while
/// another pairs can never put back an older file and lose a pairing.
#[derive(Debug)]
pub struct FileRegistry {
    path: PathBuf,
    entries: Mutex<BTreeMap<String, Entry>>,
}

/// One paired device in [`FileRegistry`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// SHA-256 of its token, hex.
    hash: String,
    /// It connected as a read-write console.
    console: bool,
}

fn read_registry(path: &Path) -> std::io::Result<BTreeMap<String, Entry>> {
    let mut entries = BTreeMap::new();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            for line in text.lines() {
                let mut fields = line.split('\t');
                if let (Some(device), Some(hash)) = (fields.next(), fields.next()) {
                    let console = fields.any(|f| f == "console");
                    entries.insert(
                        device.to_owned(),
                        Entry {
                            hash: hash.to_owned(),
                            console,
                        },
                    );
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(entries)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FileRegistry {
    /// Opens (or starts) the registry at `path`.
    ///
    /// # Errors
    /// The file exists but cannot be read.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let entries = read_registry(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            entries: Mutex::new(entries),
        })
    }

    /// The entries, re-read from the file under the lock (so that `pair forget` run beside a
    /// live `serve` takes effect at the device's next connection); what it had if the file
    /// cannot be read.
    fn fresh(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        let mut entries = self.lock();
        if let Ok(fresh) = read_registry(&self.path) {
            *entries = fresh;
        }
        entries
    }

    /// The paired devices, by id.
    pub fn devices(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// Whether a device paired here has connected as a read-write console.
    pub fn has_console(&self) -> bool {
        self.fresh().values().any(|e| e.console)
    }

    /// Notes that `device` connected as a read-write console (kept across restarts); returns
    /// whether it was new. Nothing happens for a device that is not paired.
    ///
    /// # Errors
    /// The file cannot be written; then nothing changed.
    pub fn mark_console(&self, device: &str) -> std::io::Result<bool> {
        let mut entries = self.fresh();
        let mut next = entries.clone();
        match next.get_mut(device) {
            Some(entry) if !entry.console => entry.console = true,
            _ => return Ok(false),
        }
        self.save(&next)?;
        *entries = next;
        Ok(true)
    }

    /// Unpairs `device`: its token no longer opens a session (it must pair again).
    ///
    /// # Errors
    /// The file cannot be written; then nothing changed.
    pub fn forget(&self, device: &str) -> std::io::Result<bool> {
        let mut entries = self.fresh();
        let mut next = entries.clone();
        let known = next.remove(device).is_some();
        if known {
            self.save(&next)?;
            *entries = next;
        }
        Ok(known)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `entries` to a temporary file beside the registry, then renames it over it.
    /// Called with the lock held.
    fn save(&self, entries: &BTreeMap<String, Entry>) -> std::io::Result<()> {
        let tmp = self.path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        for (d, e) in entries {
            if e.console {
                writeln!(f, "{d}\t{}\tconsole", e.hash)?;
            } else {
                writeln!(f, "{d}\t{}", e.hash)?;
            }
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }
}

impl DeviceRegistry for FileRegistry {
    fn register(&self, device: &DeviceId, token: &DeviceToken) -> Result<(), RegistryError> {
        let mut entries = self.fresh();
        let mut next = entries.clone();
        let console = next.get(&device.0).is_some_and(|e| e.console);
        next.insert(
            device.0.clone(),
            Entry {
                hash: hex(&token_hash(token)),
                console,
            },
        );
        self.save(&next)
            .map_err(|e| RegistryError(format!("saving {}: {e}", self.path.display())))?;
        *entries = next;
        Ok(())
    }

    fn check(&self, device: &DeviceId, token: &DeviceToken) -> bool {
        let want = hex(&token_hash(token));
        self.fresh().get(&device.0).is_some_and(|e| {
            e.hash.len() == want.len()
                && e.hash
                    .bytes()
                    .zip(want.bytes())
                    .fold(0, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
    }

    fn knows(&self, device: &DeviceId) -> bool {
        self.fresh().contains_key(&device.0)
    }
}

/// Registers a console paired over the local socket ([`Serving::provision_console`]).
struct Provisioner {
    registry: Arc<FileRegistry>,
    ca_der: Vec<u8>,
}

impl Provisioner {
    fn console(&self, device: &DeviceId) -> Result<(Vec<u8>, DeviceToken), String> {
        let token = DeviceToken::random();
        self.registry
            .register(device, &token)
            .map_err(|e| e.to_string())?;
        self.registry
            .mark_console(&device.0)
            .map_err(|e| e.to_string())?;
        Ok((self.ca_der.clone(), token))
    }
}

/// A connected device.
#[derive(Clone, Debug)]
struct Peer {
    device: DeviceId,
    role: Role,
    /// Where it connects from.
    addr: SocketAddr,
    /// The latest head pose (headsets), for the console's room view.
    /// Its latest head pose and when it came (session ms): headsets only.
    pose: Option<(Pose, u64)>,
    /// Consoles: the last log record sent (0: none yet).
    log_sent: u64,
    /// Read-write consoles: the closed session followed for review beside the hosted one,
    /// and the last record of its log sent.
    review: Option<(SessionId, u64)>,
}

/// The snapshot devices get.
pub fn snapshot(engine: &Engine) -> Snapshot {
    let now = engine.now();
    let (mut open, mut solved) = (Vec::new(), Vec::new());
    for (id, status) in engine.puzzles() {
        match status {
            crate::engine::PuzzleStatus::Open(_) => open.push(id.clone()),
            crate::engine::PuzzleStatus::Solved { .. } => solved.push(id.clone()),
            crate::engine::PuzzleStatus::Locked => {}
        }
    }
    Snapshot {
        scenario: engine.scenario().id.to_string(),
        phase: engine.phase().cloned(),
        timer_running: engine.timer_running(),
        remaining_ms: engine.remaining_ms(now),
        at_ms: now.0,
        open,
        solved,
        ended: engine.ending().cloned(),
    }
}

/// Who receives what a target names: role and station of every registered device.
type Routes = BTreeMap<DeviceId, (DeviceRole, Option<StationId>)>;

fn routes(engine: &Engine) -> Routes {
    engine
        .devices()
        .iter()
        .map(|(id, d)| (id.clone(), (d.role, d.station.clone())))
        .collect()
}

fn targeted(routes: &Routes, device: &DeviceId, targets: &[Target]) -> bool {
    routes.get(device).is_some_and(|(role, station)| {
        targets.iter().any(|t| match t {
            Target::Role(r) => r == role,
            Target::Station(s) => station.as_ref() == Some(s),
        })
    })
}

/// Runs the director's network loop until the server closes. `outputs` carries the session
/// thread's effects (of inputs and of deadlines).
///
/// # Errors
/// Never for a device's fault: bad messages are refused on that connection only.
pub async fn serve(
    mut server: Server,
    director: DirectorHandle,
    mut outputs: tokio::sync::mpsc::UnboundedReceiver<Output>,
    catalog: Option<Arc<Catalog>>,
    tutorials: Arc<BTreeSet<ImmersionId>>,
    registry: Arc<FileRegistry>,
    day: Option<Arc<Day>>,
) {
    let mut peers: HashMap<ConnId, Peer> = HashMap::new();
    let mut room_tick = tokio::time::interval(ROOM_EVERY);
    room_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The laptop's addresses matter only when devices reach it over the network.
    let on_network = !server.local_addr().ip().is_loopback();
    let mut network = crate::network::NetworkWatch::default();
    let mut net_tick = tokio::time::interval(crate::network::NETWORK_EVERY);
    net_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Headsets' poses: kept as they come, forwarded to the facilitator's consoles at most
    // every POSES_EVERY when one moved; never logged.
    let mut poses = PoseRelay::default();
    let mut pose_tick = tokio::time::interval(POSES_EVERY);
    pose_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = server.next() => {
                let Some(mut event) = event else { return };
                // Device events already waiting behind this one go to the session thread
                // together, in arrival order, and are committed in one transaction; the first
                // other event is handled right after them.
                let mut batch = Vec::new();
                while let Some(input) = device_input(&peers, &event) {
                    batch.push(input);
                    match server.try_next() {
                        Some(next) => event = next,
                        None => break,
                    }
                }
                let rest = (batch.is_empty() || device_input(&peers, &event).is_none())
                    .then_some(event);
                submit_many(&director, batch).await;
                let rest = match rest {
                    Some(ServerEvent::Pose { conn, pose }) => {
                        poses.take(&mut peers, conn, pose, server.clock_ms());
                        None
                    }
                    other => other,
                };
                if let Some(event) = rest {
                    let context = Context {
                        server: &server,
                        director: &director,
                        catalog: catalog.as_deref(),
                        tutorials: &tutorials,
                        registry: &registry,
                        day: day.as_deref(),
                    };
                    on_event(&context, &mut peers, event).await;
                }
            }
            out = outputs.recv() => {
                let Some(out) = out else { return };
                // What the session thread produced meanwhile (a group commit's outputs) goes
                // out together: one look at the session, acknowledgements in batches, one
                // snapshot.
                let mut outs = vec![out];
                while outs.len() < MAX_OUTPUTS_TOGETHER
                    && let Ok(more) = outputs.try_recv()
                {
                    outs.push(more);
                }
                deliver(&server, &director, &peers, &tutorials, outs).await;
                forward_log(&server, &director, &mut peers).await;
            }
            _ = room_tick.tick() => {
                send_room(&server, &peers);
                keep_cue_lead(&server, &director, &peers).await;
                // A headset gone since: the consoles drop its pose.
                if poses.sent != peers.values().filter(|p| p.pose.is_some()).count() {
                    poses.forward(&server, &peers);
                }
            }
            _ = pose_tick.tick(), if poses.moved => poses.forward(&server, &peers),
            _ = net_tick.tick(), if on_network => {
                let now = tokio::task::spawn_blocking(crate::network::current)
                    .await
                    .unwrap_or_default();
                if let Some(text) = network.observe(now) {
                    tracing::warn!("réseau : {text}");
                    for (conn, _) in peers
                        .iter()
                        .filter(|(_, p)| matches!(p.role, Role::Console { .. }))
                    {
                        let _ = server.send(*conn, ServerMsg::Notice(text.clone()));
                    }
                }
            }
        }
    }
}

/// Keeps the session's lead of scheduled starts fitted to the devices' links
/// ([`crate::engine::cue_lead_ms`] of their QUIC round trips): raised at once when a link
/// slows down, lowered only by 20 ms or more (a lead that changes every second would be noise
/// in the log). Nothing while no session runs or once it is closed.
async fn keep_cue_lead(server: &Server, director: &DirectorHandle, peers: &HashMap<ConnId, Peer>) {
    let wanted = crate::engine::cue_lead_ms(
        peers
            .iter()
            .filter(|(_, p)| manifest::device_role(p.role).is_some())
            .filter_map(|(conn, _)| server.rtt(*conn))
            .map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
    );
    let d = director.clone();
    let Some(Ok((now, closed))) =
        blocking(move || d.with(|s| (s.engine().cue_lead_ms(), s.engine().is_closed()))).await
    else {
        return;
    };
    if closed || !lead_should_change(now, wanted) {
        return;
    }
    tracing::info!(
        from = now,
        to = wanted,
        "avance des départs programmés (ms)"
    );
    submit(director, Input::Command(Command::SetCueLead { ms: wanted })).await;
}

/// Whether the lead in force (`now`, ms) should become `wanted`: any rise, a fall of 20 ms or
/// more, and always from 0 (a session that never had one).
fn lead_should_change(now: u32, wanted: u32) -> bool {
    now == 0 || wanted > now || now - wanted >= 20
}

/// The most session outputs delivered together (a group commit is at most 256 inputs).
const MAX_OUTPUTS_TOGETHER: usize = 512;

/// How often, at most, the headsets' poses go to the consoles: 20 a second.
const POSES_EVERY: Duration = Duration::from_millis(50);

/// The headsets' poses between their datagrams and the facilitator's consoles.
#[derive(Debug, Default)]
struct PoseRelay {
    /// A pose was kept since the last forward.
    moved: bool,
    /// Datagrams ignored: not from a paired headset, older than the one kept, implausible.
    ignored: u64,
    /// How many headsets the last forward carried.
    sent: usize,
}

impl PoseRelay {
    /// Keeps `pose` as `conn`'s latest when it comes from a headset and is newer than the one
    /// kept (datagrams may arrive out of order); counts it ignored otherwise.
    fn take(&mut self, peers: &mut HashMap<ConnId, Peer>, conn: ConnId, pose: Pose, now_ms: u64) {
        let Some(peer) = peers
            .get_mut(&conn)
            .filter(|p| matches!(p.role, Role::Headset))
        else {
            self.ignored += 1;
            return;
        };
        if !pose.is_plausible()
            || peer
                .pose
                .as_ref()
                .is_some_and(|(kept, _)| kept.device_ms >= pose.device_ms)
        {
            self.ignored += 1;
            return;
        }
        peer.pose = Some((pose, now_ms));
        self.moved = true;
    }

    /// Sends every headset's latest pose to the read-write consoles (observer consoles never
    /// get them).
    fn forward(&mut self, server: &Server, peers: &HashMap<ConnId, Peer>) {
        self.moved = false;
        let mut list: Vec<HeadsetPose> = peers
            .values()
            .filter_map(|p| {
                p.pose.as_ref().map(|(pose, received_ms)| HeadsetPose {
                    device: p.device.clone(),
                    pose: pose.clone(),
                    received_ms: *received_ms,
                })
            })
            .collect();
        list.sort_by(|a, b| a.device.0.cmp(&b.device.0));
        self.sent = list.len();
        let msg = HeadsetPoses {
            poses: list,
            ignored: self.ignored,
        };
        for (conn, _) in peers
            .iter()
            .filter(|(_, p)| matches!(p.role, Role::Console { observer: false }))
        {
            let _ = server.send(*conn, ServerMsg::Poses(msg.clone()));
        }
    }
}

/// Answers a device's [`ClientMsg::FileRequest`] from the file on disk: a
/// [`ServerMsg::FileChunk`] of at most [`MAX_FILE_CHUNK`] bytes, or
/// [`ServerMsg::FileUnavailable`] when the catalog has no such file (or it cannot be read any
/// more). Nothing is read while the connection's queue holds [`MAX_QUEUED_FOR_FILES`]
/// messages: the request is dropped and the device asks again.
fn send_file_chunk(
    server: &Server,
    conn: ConnId,
    catalog: Option<&Catalog>,
    hash: [u8; 32],
    offset: u64,
    len: u32,
) {
    if server
        .queued(conn)
        .is_none_or(|q| q >= MAX_QUEUED_FOR_FILES)
    {
        tracing::debug!(
            ?conn,
            "file request dropped: the connection's queue is full"
        );
        return;
    }
    let read = catalog.map(|c| c.read(&hash, offset, len.min(MAX_FILE_CHUNK)));
    let msg = match read {
        Some(Ok(Some(bytes))) => ServerMsg::FileChunk {
            hash,
            offset,
            bytes,
        },
        Some(Err(e)) => {
            tracing::warn!(
                "contenu : lecture de {} impossible : {e}",
                manifest::hex(&hash)
            );
            ServerMsg::FileUnavailable { hash }
        }
        Some(Ok(None)) | None => ServerMsg::FileUnavailable { hash },
    };
    let _ = server.send(conn, msg);
}

/// Participants who finished a tutorial in this session, on any headset: the director has their
/// answers to a tutorial's end questionnaire (`DeviceEvent::ImmersionRating` naming one of
/// `tutorials`), so a headset they put on next does not run it again.
fn tutored(engine: &Engine, tutorials: &BTreeSet<ImmersionId>) -> BTreeSet<ParticipantId> {
    engine
        .game_events()
        .iter()
        .filter_map(|g| match &g.kind {
            GameEventKind::Rating {
                immersion: Some(i), ..
            } if tutorials.contains(i) => g.participant.clone(),
            _ => None,
        })
        .collect()
}

/// Runs a blocking call to the session thread off the async runtime.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// A request that only the director of the day carries out, made to a director of one session.
const NOT_THE_DAY: &str = "cette demande passe par la régie du jour";

/// Runs `f` on the store (off the async runtime) for a console's request whose answer is one
/// French line, done or refused; `what` prefixes a failure to reach the store. `None` when the
/// blocking task itself was lost.
async fn store_line(
    director: &DirectorHandle,
    what: &'static str,
    f: impl FnOnce(&mut crate::store::Store) -> Result<String, String> + Send + 'static,
) -> Option<String> {
    let d = director.clone();
    match blocking(move || d.with_store(f)).await? {
        Ok(Ok(line) | Err(line)) => Some(line),
        Err(e) => Some(format!("{what} : {e}")),
    }
}

async fn submit(director: &DirectorHandle, input: Input) -> Option<Output> {
    // Awaited on a one-shot channel: no blocking thread between this task and the session
    // thread (one wake-up fewer on a GO's path).
    match director.submit_async(input).await {
        Ok(out) => Some(out),
        Err(e) if e == crate::runtime::NO_SESSION => None,
        Err(e) => {
            tracing::error!("session: {e}");
            None
        }
    }
}

/// The input a device's event message makes, if `event` is one from a known connection.
fn device_input(peers: &HashMap<ConnId, Peer>, event: &ServerEvent) -> Option<Input> {
    let ServerEvent::Message {
        conn,
        msg: ClientMsg::Event { seq, event },
    } = event
    else {
        return None;
    };
    let peer = peers.get(conn)?;
    Some(Input::Device {
        device: peer.device.clone(),
        seq: *seq,
        event: event.clone(),
    })
}

/// Submits device events in one go (one group commit); their effects, acknowledgements
/// included, reach the devices through the session thread's outputs.
async fn submit_many(director: &DirectorHandle, inputs: Vec<Input>) {
    if inputs.is_empty() {
        return;
    }
    match director.submit_many_async(inputs).await {
        Ok(results) => {
            for e in results.into_iter().filter_map(Result::err) {
                tracing::error!("session: {e}");
            }
        }
        Err(e) => tracing::error!("session: {e}"),
    }
}

/// What [`on_event`] works with besides the peers.
struct Context<'a> {
    server: &'a Server,
    director: &'a DirectorHandle,
    catalog: Option<&'a Catalog>,
    tutorials: &'a Arc<BTreeSet<ImmersionId>>,
    registry: &'a Arc<FileRegistry>,
    day: Option<&'a Day>,
}

/// What the director of the day holds besides the session thread: the content sessions are
/// created from, and who unlocked it.
#[derive(Debug)]
pub struct Day {
    /// The content (scenarios, the catalogue).
    pub content: Arc<ContentSet>,
    /// The facilitator who unlocked the director (the access log's actor).
    pub facilitator: String,
    /// When a read-write console last asked something, Unix ms (the idle lock).
    pub last_console: std::sync::atomic::AtomicI64,
    /// The sessions not hosted, as replaying them found them for the home screen (emptied
    /// when another session is hosted).
    pub replayed: Arc<Mutex<crate::desk::Replayed>>,
}

/// Sends the desk ([`crate::desk::DeskView`]) to the read-write consoles (or only to `only`).
async fn send_desk(
    server: &Server,
    director: &DirectorHandle,
    peers: &HashMap<ConnId, Peer>,
    day: &Day,
    only: Option<ConnId>,
) {
    let content = day.content.clone();
    let facilitator = day.facilitator.clone();
    let replayed = day.replayed.clone();
    let d = director.clone();
    let view = blocking(move || {
        d.with_view(move |store, live| {
            let mut replayed = replayed.lock().unwrap_or_else(PoisonError::into_inner);
            crate::desk::view(
                store,
                &content,
                live.map(|s| (s.id(), s.engine())),
                &facilitator,
                unix_ms(),
                &mut replayed,
            )
            .and_then(|v| postcard::to_allocvec(&v).map_err(|e| e.to_string()))
        })
    })
    .await;
    to_consoles(server, peers, only, "accueil", view, ServerMsg::Desk);
}

/// A view the session thread encoded (or why it could not), sent to the read-write consoles
/// (or only to `only`) as `msg`; a failure is logged under `what`.
fn to_consoles(
    server: &Server,
    peers: &HashMap<ConnId, Peer>,
    only: Option<ConnId>,
    what: &str,
    view: Option<Result<Result<Vec<u8>, String>, String>>,
    msg: fn(Vec<u8>) -> ServerMsg,
) {
    let bytes = match view {
        Some(Ok(Ok(bytes))) => bytes,
        Some(Ok(Err(e)) | Err(e)) => {
            tracing::error!("{what} pour les consoles : {e}");
            return;
        }
        None => return,
    };
    for (conn, _) in peers.iter().filter(|(c, p)| {
        matches!(p.role, Role::Console { observer: false }) && only.is_none_or(|o| o == **c)
    }) {
        let _ = server.send(*conn, msg(bytes.clone()));
    }
}

/// Sends `answer` to the console `conn`.
fn send_answer(server: &Server, conn: ConnId, answer: &crate::desk::DeskAnswer) {
    match postcard::to_allocvec(answer) {
        Ok(bytes) => {
            let _ = server.send(conn, ServerMsg::DeskAnswer(bytes));
        }
        Err(e) => tracing::error!("réponse à la console non encodée : {e}"),
    }
}

/// What the session thread found for a console's request: sent as `wrap` of it, or the
/// French reason as a notice (a failure of the thread is logged under `what`).
fn answer<T>(
    server: &Server,
    conn: ConnId,
    what: &str,
    found: Option<Result<Result<T, String>, String>>,
    wrap: fn(T) -> crate::desk::DeskAnswer,
) {
    match found {
        Some(Ok(Ok(value))) => send_answer(server, conn, &wrap(value)),
        Some(Ok(Err(why))) => {
            let _ = server.send(conn, ServerMsg::Notice(why));
        }
        Some(Err(e)) => {
            tracing::error!("{what} : {e}");
            let _ = server.send(conn, ServerMsg::Notice(format!("{what} : {e}")));
        }
        None => {}
    }
}

/// [`crate::desk::DeskRequest::Review`]: the console follows a closed session (its whole log
/// now, what is appended later), or none.
async fn on_review(
    cx: &Context<'_>,
    day: &Day,
    peers: &mut HashMap<ConnId, Peer>,
    conn: ConnId,
    session: Option<i64>,
) {
    let Some(session) = session else {
        if let Some(p) = peers.get_mut(&conn) {
            p.review = None;
        }
        send_answer(
            cx.server,
            conn,
            &crate::desk::DeskAnswer::Review(crate::desk::ReviewFeed::Closed),
        );
        return;
    };
    let (d, content, actor) = (
        cx.director.clone(),
        day.content.clone(),
        day.facilitator.clone(),
    );
    let opened = blocking(move || {
        d.with_store_hosted(move |store, hosted| {
            crate::desk::review_opened(store, &content, session, hosted, &actor, unix_ms())
        })
    })
    .await;
    match opened {
        Some(Ok(Ok(feed))) => {
            let last = match &feed {
                crate::desk::ReviewFeed::Opened { entries, .. } => {
                    entries.last().map_or(0, |e| e.seq)
                }
                _ => 0,
            };
            if let Some(p) = peers.get_mut(&conn) {
                p.review = Some((SessionId(session), last));
            }
            tracing::info!("séance {session} suivie pour revue");
            send_answer(cx.server, conn, &crate::desk::DeskAnswer::Review(feed));
        }
        Some(Ok(Err(why))) => {
            let _ = cx.server.send(conn, ServerMsg::Notice(why));
        }
        Some(Err(e)) => {
            let _ = cx
                .server
                .send(conn, ServerMsg::Notice(format!("revue impossible : {e}")));
        }
        None => {}
    }
}

/// [`crate::desk::DeskRequest::ReviewCommand`]: the command goes to the reviewed session's
/// log (the director stamps the rater); a refusal comes back as a notice, and every console
/// following that session gets what was appended.
async fn on_review_command(
    cx: &Context<'_>,
    peers: &mut HashMap<ConnId, Peer>,
    conn: ConnId,
    session: SessionId,
    command: Command,
) {
    let Some(peer) = peers.get(&conn) else {
        return;
    };
    if peer.review.map(|(id, _)| id) != Some(session) {
        let _ = cx.server.send(
            conn,
            ServerMsg::Notice(format!(
                "la séance {session} n'est plus suivie : rouvrez-la depuis l'accueil"
            )),
        );
        return;
    }
    let touches_register = changes_register(&command);
    let input = Input::Command(stamp_rater(command, &peer.device));
    let d = cx.director.clone();
    match blocking(move || d.submit_to(session, input)).await {
        Some(Ok(out)) => {
            for e in &out.effects {
                if let Effect::Refused(why) = e {
                    let _ = cx.server.send(conn, ServerMsg::Notice(why.clone()));
                }
            }
        }
        Some(Err(why)) => {
            let _ = cx.server.send(conn, ServerMsg::Notice(why));
        }
        None => return,
    }
    forward_review(cx.server, cx.director, peers, session).await;
    if touches_register {
        send_register(cx.server, cx.director, peers, None).await;
    }
}

/// Sends every console following `session` for review the records appended since it last got
/// one.
async fn forward_review(
    server: &Server,
    director: &DirectorHandle,
    peers: &mut HashMap<ConnId, Peer>,
    session: SessionId,
) {
    let Some(from) = peers
        .values()
        .filter_map(|p| {
            p.review
                .filter(|(id, _)| *id == session)
                .map(|(_, sent)| sent)
        })
        .min()
    else {
        return;
    };
    let d = director.clone();
    let entries = match blocking(move || {
        d.with_store(move |store| crate::desk::log_entries(store, session, from))
    })
    .await
    {
        Some(Ok(Ok(entries))) => entries,
        Some(Ok(Err(e)) | Err(e)) => {
            tracing::error!("journal de la séance revue : {e}");
            return;
        }
        None => return,
    };
    for (conn, peer) in peers.iter_mut() {
        let Some((id, sent)) = peer.review else {
            continue;
        };
        if id != session {
            continue;
        }
        let new: Vec<_> = entries.iter().filter(|e| e.seq > sent).cloned().collect();
        if let Some(last) = new.last() {
            peer.review = Some((id, last.seq));
            send_answer(
                server,
                *conn,
                &crate::desk::DeskAnswer::Review(crate::desk::ReviewFeed::Appended {
                    session: id.0,
                    entries: new,
                }),
            );
        }
    }
}

/// A console's [`crate::desk::DeskRequest`]: hosts what it asks, then tells everyone. Devices
/// stay connected: each is registered in the new session (its role; its station from the
/// room), marked online, told to stop what played, and sent the new state; consoles get the
/// desk, then the new session's snapshot and whole log.
async fn on_desk(
    cx: &Context<'_>,
    peers: &mut HashMap<ConnId, Peer>,
    conn: ConnId,
    request: crate::desk::DeskRequest,
) {
    let Some(day) = cx.day else {
        let _ = cx.server.send(
            conn,
            ServerMsg::Notice("ce directeur ne sert qu'une séance".into()),
        );
        return;
    };
    match &request {
        crate::desk::DeskRequest::NameDevice { device, name } => {
            let name = name.trim().to_owned();
            if name.chars().count() > 60 || name.chars().any(char::is_control) {
                let _ = cx.server.send(
                    conn,
                    ServerMsg::Notice("un nom d'appareil a au plus 60 caractères".into()),
                );
                return;
            }
            let device = device.clone();
            let d = cx.director.clone();
            let saved = blocking(move || {
                d.with_store(move |store| {
                    store.set_device_name(
                        &device,
                        (!name.is_empty()).then_some(name.as_str()),
                        unix_ms(),
                    )
                })
            })
            .await;
            if let Some(Ok(Err(e))) = saved {
                let _ = cx
                    .server
                    .send(conn, ServerMsg::Notice(format!("nom non enregistré : {e}")));
            }
            send_desk(cx.server, cx.director, peers, day, None).await;
            return;
        }
        crate::desk::DeskRequest::SetRole { device, role } => {
            let role = *role;
            let id = device.clone();
            let d = cx.director.clone();
            let saved = blocking(move || {
                d.with_store(move |store| store.set_device_role(&id, Some(role), unix_ms()))
            })
            .await;
            match saved.map(|r| r.and_then(|r| r.map_err(|e| e.to_string()))) {
                Some(Ok(())) => {
                    tracing::info!("{device} : rôle {role:?} donné depuis la console");
                    let device = DeviceId::from(device.as_str());
                    let station = room_layout(cx.director)
                        .await
                        .get(&device.0)
                        .map(|s| StationId::from(s.as_str()));
                    place(cx.server, peers, &device, role, station);
                }
                Some(Err(e)) => {
                    let _ = cx.server.send(
                        conn,
                        ServerMsg::Notice(format!("rôle non enregistré : {e}")),
                    );
                }
                None => return,
            }
            send_desk(cx.server, cx.director, peers, day, None).await;
            return;
        }
        crate::desk::DeskRequest::SetSound { device, settings } => {
            let settings = *settings;
            let id = device.clone();
            let d = cx.director.clone();
            let saved = blocking(move || {
                d.with_store(move |store| store.set_device_sound(&id, settings, unix_ms()))
            })
            .await;
            match saved.map(|r| r.and_then(|r| r.map_err(|e| e.to_string()))) {
                Some(Ok(())) => {
                    tracing::info!("{device} : son {settings:?} réglé depuis la console");
                    send_sound(cx.server, cx.director, peers, Some(device)).await;
                }
                Some(Err(e)) => {
                    let _ = cx
                        .server
                        .send(conn, ServerMsg::Notice(format!("son non enregistré : {e}")));
                }
                None => return,
            }
            send_desk(cx.server, cx.director, peers, day, None).await;
            return;
        }
        crate::desk::DeskRequest::Export(job) => {
            let (job, actor, content) = (job.clone(), day.facilitator.clone(), day.content.clone());
            let notice = store_line(cx.director, "export impossible", move |store| {
                crate::desk::export_into(store, &content, &job, &actor, unix_ms())
            })
            .await;
            if let Some(notice) = notice {
                let _ = cx.server.send(conn, ServerMsg::Notice(notice));
            }
            return;
        }
        crate::desk::DeskRequest::Backup { folder } => {
            let folder = folder.clone();
            let actor = day.facilitator.clone();
            let d = cx.director.clone();
            let done = blocking(move || {
                d.with_store(move |store| {
                    crate::backup::backup_into(store, &folder, &actor, unix_ms())
                })
            })
            .await;
            let notice = match done {
                Some(Ok(Ok(done))) => {
                    tracing::info!(
                        "sauvegarde vérifiée : {} séances, {} octets",
                        done.sessions,
                        done.bytes
                    );
                    done.french()
                }
                Some(Ok(Err(why))) => {
                    tracing::warn!("sauvegarde refusée : {why}");
                    why
                }
                Some(Err(e)) => format!("sauvegarde impossible : {e}"),
                None => return,
            };
            let _ = cx.server.send(conn, ServerMsg::Notice(notice));
            send_desk(cx.server, cx.director, peers, day, None).await;
            return;
        }
        crate::desk::DeskRequest::Review { session } => {
            on_review(cx, day, peers, conn, *session).await;
            return;
        }
        crate::desk::DeskRequest::ReviewCommand { session, command } => {
            on_review_command(cx, peers, conn, SessionId(*session), command.clone()).await;
            return;
        }
        crate::desk::DeskRequest::AccessLog => {
            let d = cx.director.clone();
            let lines =
                blocking(move || d.with_store(|store| crate::desk::access_lines(store))).await;
            answer(
                cx.server,
                conn,
                "journal des accès",
                lines,
                crate::desk::DeskAnswer::AccessLog,
            );
            return;
        }
        crate::desk::DeskRequest::Figures => {
            let (d, content) = (cx.director.clone(), day.content.clone());
            let lines = blocking(move || {
                d.with_store(move |store| crate::desk::figures_lines(store, &content))
            })
            .await;
            answer(
                cx.server,
                conn,
                "chiffres",
                lines,
                crate::desk::DeskAnswer::Figures,
            );
            return;
        }
        crate::desk::DeskRequest::PurgePreview => {
            let (d, content) = (cx.director.clone(), day.content.clone());
            let preview = blocking(move || {
                d.with_store(move |store| crate::desk::purge_preview(store, &content, unix_ms()))
            })
            .await;
            answer(
                cx.server,
                conn,
                "purge",
                preview,
                crate::desk::DeskAnswer::PurgePreview,
            );
            return;
        }
        crate::desk::DeskRequest::FiguresCsv { folder } => {
            let (folder, actor, content) =
                (folder.clone(), day.facilitator.clone(), day.content.clone());
            let notice = store_line(cx.director, "chiffres", move |store| {
                crate::desk::figures_csv_into(store, &content, &folder, &actor, unix_ms())
            })
            .await;
            if let Some(notice) = notice {
                let _ = cx.server.send(conn, ServerMsg::Notice(notice));
            }
            return;
        }
        crate::desk::DeskRequest::Purge { sessions } => {
            let (seen, actor, content) = (
                sessions.clone(),
                day.facilitator.clone(),
                day.content.clone(),
            );
            let d = cx.director.clone();
            let done = blocking(move || {
                d.with_store_hosted(move |store, hosted| {
                    crate::desk::purge_confirmed(store, &content, &seen, hosted, &actor, unix_ms())
                })
            })
            .await;
            let notice = match done {
                Some(Ok(Ok(line))) => {
                    tracing::info!("purge faite depuis la console");
                    // A session followed for review may be gone.
                    for (c, p) in peers.iter_mut() {
                        if p.review.is_some_and(|(id, _)| sessions.contains(&id.0)) {
                            p.review = None;
                            send_answer(
                                cx.server,
                                *c,
                                &crate::desk::DeskAnswer::Review(crate::desk::ReviewFeed::Closed),
                            );
                        }
                    }
                    day.replayed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clear();
                    line
                }
                Some(Ok(Err(why))) => why,
                Some(Err(e)) => format!("purge impossible : {e}"),
                None => return,
            };
            let _ = cx.server.send(conn, ServerMsg::Notice(notice));
            send_desk(cx.server, cx.director, peers, day, None).await;
            send_register(cx.server, cx.director, peers, None).await;
            return;
        }
        crate::desk::DeskRequest::Roadmap { person } => {
            let (d, content, actor, person) = (
                cx.director.clone(),
                day.content.clone(),
                day.facilitator.clone(),
                person.clone(),
            );
            let found = blocking(move || {
                d.with_store(move |store| {
                    crate::desk::person_roadmap(store, &content, &person, &actor, unix_ms(), true)
                })
            })
            .await;
            answer(
                cx.server,
                conn,
                "feuille de route",
                found,
                crate::desk::DeskAnswer::Roadmap,
            );
            return;
        }
        crate::desk::DeskRequest::Prescribe { person, .. }
        | crate::desk::DeskRequest::SetEntryStatus { person, .. }
        | crate::desk::DeskRequest::RecordResult(crate::desk::ResultJob { person, .. }) => {
            let (d, content, actor, asked, person) = (
                cx.director.clone(),
                day.content.clone(),
                day.facilitator.clone(),
                request.clone(),
                person.clone(),
            );
            let done = blocking(move || {
                d.with_store(move |store| {
                    let line =
                        crate::desk::change_roadmap(store, &content, &asked, &actor, unix_ms());
                    let view = crate::desk::person_roadmap(
                        store,
                        &content,
                        &person,
                        &actor,
                        unix_ms(),
                        false,
                    );
                    (line, view)
                })
            })
            .await;
            match done {
                Some(Ok((line, view))) => {
                    let (Ok(line) | Err(line)) = line;
                    let _ = cx.server.send(conn, ServerMsg::Notice(line));
                    answer(
                        cx.server,
                        conn,
                        "feuille de route",
                        Some(Ok(view)),
                        crate::desk::DeskAnswer::Roadmap,
                    );
                }
                Some(Err(e)) => {
                    let _ = cx
                        .server
                        .send(conn, ServerMsg::Notice(format!("feuille de route : {e}")));
                }
                None => {}
            }
            return;
        }
        crate::desk::DeskRequest::Plan => {
            let (d, content) = (cx.director.clone(), day.content.clone());
            let plan = blocking(move || {
                d.with_store(move |store| crate::desk::plan_view(store, &content, unix_ms()))
            })
            .await;
            answer(
                cx.server,
                conn,
                "planning",
                plan,
                crate::desk::DeskAnswer::Plan,
            );
            return;
        }
        crate::desk::DeskRequest::PlanAdd { .. } | crate::desk::DeskRequest::PlanCancel { .. } => {
            let (d, content, asked) = (cx.director.clone(), day.content.clone(), request.clone());
            let done = blocking(move || {
                d.with_store(move |store| {
                    let line = match &asked {
                        crate::desk::DeskRequest::PlanCancel { planned, reason } => {
                            crate::desk::plan_cancel(store, *planned, reason, unix_ms())
                        }
                        _ => crate::desk::plan_add(store, &content, &asked, unix_ms()),
                    };
                    (line, crate::desk::plan_view(store, &content, unix_ms()))
                })
            })
            .await;
            if let Some(Ok((line, view))) = done {
                let (Ok(line) | Err(line)) = line;
                let _ = cx.server.send(conn, ServerMsg::Notice(line));
                answer(
                    cx.server,
                    conn,
                    "planning",
                    Some(Ok(view)),
                    crate::desk::DeskAnswer::Plan,
                );
            }
            // Today's planned sessions are on the home screen.
            send_desk(cx.server, cx.director, peers, day, None).await;
            return;
        }
        crate::desk::DeskRequest::PlanIcs { folder } => {
            let (folder, content) = (folder.clone(), day.content.clone());
            let notice = store_line(cx.director, "planning", move |store| {
                crate::desk::plan_ics_into(store, &content, &folder, unix_ms())
            })
            .await;
            if let Some(notice) = notice {
                let _ = cx.server.send(conn, ServerMsg::Notice(notice));
            }
            return;
        }
        crate::desk::DeskRequest::CutVoices { cut } => {
            let cut = *cut;
            let d = cx.director.clone();
            let saved =
                blocking(move || d.with_store(move |store| store.set_voices_cut(cut, unix_ms())))
                    .await;
            match saved.map(|r| r.and_then(|r| r.map_err(|e| e.to_string()))) {
                Some(Ok(())) => {
                    tracing::info!(
                        "voix de la salle {}",
                        if cut { "coupées" } else { "rendues" }
                    );
                    send_sound(cx.server, cx.director, peers, None).await;
                }
                Some(Err(e)) => {
                    let _ = cx.server.send(
                        conn,
                        ServerMsg::Notice(format!("voix de la salle non enregistrées : {e}")),
                    );
                }
                None => return,
            }
            send_desk(cx.server, cx.director, peers, day, None).await;
            return;
        }
        crate::desk::DeskRequest::Forget { device } => {
            let registry = cx.registry.clone();
            let id = device.clone();
            let forgotten = blocking(move || registry.forget(&id)).await;
            let reply = match forgotten {
                Some(Ok(true)) => {
                    // Its connections end now: it must pair again with a new code.
                    for (c, p) in peers.iter() {
                        if p.device.0 == *device {
                            let _ = cx.server.refuse(*c, Refusal::UnknownDevice);
                        }
                    }
                    tracing::info!("{device} désappairé depuis la console");
                    // Its name, role, stations and sound go with it.
                    let id = device.clone();
                    let d = cx.director.clone();
                    let forgot = blocking(move || d.with_store(move |s| s.forget_device(&id)))
                        .await
                        .and_then(Result::ok);
                    if let Some(Err(e)) = forgot {
                        tracing::warn!("{device} : réglages de la salle non oubliés : {e}");
                    }
                    format!("« {device} » n'est plus appairé : il devra saisir un nouveau code")
                }
                Some(Ok(false)) => format!("« {device} » n'était pas appairé"),
                Some(Err(e)) => format!("« {device} » non désappairé : {e}"),
                None => return,
            };
            let _ = cx.server.send(conn, ServerMsg::Notice(reply));
            send_desk(cx.server, cx.director, peers, day, None).await;
            return;
        }
        _ => {}
    }
    let host = match request.to_host(&day.content, unix_ms()) {
        Ok(h) => h,
        Err(why) => {
            let _ = cx.server.send(conn, ServerMsg::Notice(why));
            return;
        }
    };
    tracing::info!("accueil : {request:?}");
    // The session left and the one hosted next change: replay them again when listed.
    day.replayed
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    let d = cx.director.clone();
    let hosted = match blocking(move || d.host(host)).await {
        Some(Ok(hosted)) => hosted,
        Some(Err(why)) => {
            let _ = cx.server.send(
                conn,
                ServerMsg::Notice(format!("séance non ouverte : {why}")),
            );
            // The director hosts nothing now: everyone is told.
            None
        }
        None => return,
    };
    switch_session(cx, peers, hosted.as_ref()).await;
    // A session now hosted is no longer reviewed beside: its screens are the session's own.
    if let Some(h) = &hosted {
        for (c, p) in peers.iter_mut() {
            if p.review.is_some_and(|(id, _)| id == h.id) {
                p.review = None;
                send_answer(
                    cx.server,
                    *c,
                    &crate::desk::DeskAnswer::Review(crate::desk::ReviewFeed::Closed),
                );
            }
        }
    }
    send_desk(cx.server, cx.director, peers, day, None).await;
    send_register(cx.server, cx.director, peers, None).await;
    if hosted.is_some() {
        let d = cx.director.clone();
        if let Some(Ok(snap)) = blocking(move || d.with(|s| snapshot(s.engine()))).await {
            for (c, _) in peers.iter() {
                let _ = cx.server.send(*c, ServerMsg::Snapshot(snap.clone()));
            }
        }
        forward_log(cx.server, cx.director, peers).await;
    }
}

/// Tells `device`'s connections the role and station the facilitator gave it
/// ([`ServerMsg::Placement`]): a device of another role restarts in this one, a terminal
/// shows the station's puzzles.
fn place(
    server: &Server,
    peers: &HashMap<ConnId, Peer>,
    device: &DeviceId,
    role: DeviceRole,
    station: Option<StationId>,
) {
    for (c, p) in peers {
        if p.device == *device && !matches!(p.role, Role::Console { .. }) {
            let _ = server.send(
                *c,
                ServerMsg::Placement {
                    role: manifest::wire_role(role),
                    station: station.clone(),
                },
            );
        }
    }
}

/// What a device of `role` plays with: the settings kept for it (`kept`), else its role's
/// defaults; never reading aloud on its own while the room's voices are cut.
pub fn sound_settings(kept: Option<SoundSettings>, role: Role, voices_cut: bool) -> SoundSettings {
    let mut settings = kept.unwrap_or_else(|| SoundSettings::default_for(role));
    settings.read_aloud &= !voices_cut;
    settings
}

/// Tells each connected device (`only` that one) how to play sound ([`ServerMsg::Sound`]),
/// from the settings the store keeps.
async fn send_sound(
    server: &Server,
    director: &DirectorHandle,
    peers: &HashMap<ConnId, Peer>,
    only: Option<&str>,
) {
    let d = director.clone();
    let Some((kept, cut)) = blocking(move || {
        d.with_store(|store| {
            (
                store
                    .device_sound()
                    .inspect_err(|e| tracing::warn!("son des appareils illisible : {e}"))
                    .unwrap_or_default(),
                store.voices_cut().unwrap_or(false),
            )
        })
        .ok()
    })
    .await
    .flatten() else {
        return;
    };
    for (c, p) in peers {
        let device = p.device.0.as_str();
        if matches!(p.role, Role::Console { .. } | Role::Unassigned)
            || only.is_some_and(|o| o != device)
        {
            continue;
        }
        let settings = sound_settings(kept.get(device).copied(), p.role, cut);
        let _ = server.send(*c, ServerMsg::Sound(settings));
    }
}

/// What the director knows of a device as it connects, read (and its announced role kept) in
/// one visit to the session thread.
struct Arrival {
    /// Its role: the one it announces (started with it, or restarted in the one the console
    /// gave), kept as its role from now on; or, for a device that announces none, the one kept
    /// for it. `None`: it waits for the console to give it one (and for a console).
    role: Option<DeviceRole>,
    /// Whether the kept role changed (the consoles' desk shows roles).
    role_changed: bool,
    /// How the hosted session has it registered: its role there.
    registered: Option<DeviceRole>,
    /// Its station: the one the hosted session registered, else the room layout's for the
    /// hosted scenario (kept from one day to the next).
    station: Option<StationId>,
}

async fn arrival(
    director: &DirectorHandle,
    device: &DeviceId,
    announced: Option<DeviceRole>,
    console: bool,
) -> Arrival {
    let d = director.clone();
    let dev = device.clone();
    blocking(move || {
        d.with_store_and_engine(move |store, engine| {
            let (mut role, mut role_changed) = (None, false);
            if !console {
                let kept = store
                    .device_roles()
                    .inspect_err(|e| tracing::warn!("rôles des appareils illisibles : {e}"))
                    .ok()
                    .and_then(|r| r.get(&dev.0).copied());
                if let Some(new) = announced
                    && kept != announced
                {
                    match store.set_device_role(&dev.0, Some(new), unix_ms()) {
                        Ok(()) => role_changed = true,
                        Err(e) => tracing::warn!("rôle de {dev} non enregistré : {e}"),
                    }
                }
                role = announced.or(kept);
            }
            let registered =
                engine.and_then(|e| e.devices().get(&dev).map(|x| (x.role, x.station.clone())));
            let station = match &registered {
                Some((_, station)) => station.clone(),
                None => engine.and_then(|e| {
                    store
                        .room_layout(e.scenario().id.as_str())
                        .inspect_err(|e| tracing::warn!("plan de salle illisible : {e}"))
                        .ok()?
                        .get(&dev.0)
                        .map(|s| StationId::from(s.as_str()))
                }),
            };
            Arrival {
                role,
                role_changed,
                registered: registered.map(|(r, _)| r),
                station,
            }
        })
        .ok()
    })
    .await
    .flatten()
    .unwrap_or(Arrival {
        role: if console { None } else { announced },
        role_changed: false,
        registered: None,
        station: None,
    })
}

/// The hosted session's room: each device's station in its scenario, as the facilitator set
/// it up before (kept from one day to the next). Empty when no session is hosted.
async fn room_layout(director: &DirectorHandle) -> BTreeMap<String, String> {
    let d = director.clone();
    blocking(move || {
        d.with_view(|store, session| {
            session
                .and_then(|s| {
                    store
                        .room_layout(s.engine().scenario().id.as_str())
                        .inspect_err(|e| tracing::warn!("plan de salle illisible : {e}"))
                        .ok()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default()
    })
    .await
    .unwrap_or_default()
}

/// A console gave `device` a station: the room keeps it for this scenario (the next sessions
/// and days register the device there). Another device of the same role at the same station is
/// allowed (two tablets share a station's puzzles) but the facilitator is told.
async fn remember_station(
    server: &Server,
    director: &DirectorHandle,
    peers: &HashMap<ConnId, Peer>,
    conn: ConnId,
    device: &DeviceId,
    role: DeviceRole,
    station: Option<&StationId>,
) {
    let d = director.clone();
    let dev = device.0.clone();
    let st = station.map(ToString::to_string);
    let others = blocking(move || {
        d.with_store_and_engine(move |store, engine| {
            if let Err(e) = store.set_device_role(&dev, Some(role), unix_ms()) {
                tracing::warn!("rôle de l'appareil non enregistré : {e}");
            }
            let Some(engine) = engine else {
                return Vec::new();
            };
            let scenario = engine.scenario().id.to_string();
            if let Err(e) = store.set_room_station(&scenario, &dev, st.as_deref(), unix_ms()) {
                tracing::warn!("plan de salle non enregistré : {e}");
            }
            engine
                .devices()
                .iter()
                .filter(|(id, d)| {
                    id.0 != dev
                        && d.role == role
                        && d.station.as_ref().map(|s| s.to_string()) == st
                        && st.is_some()
                })
                .map(|(id, _)| id.to_string())
                .collect()
        })
        .unwrap_or_default()
    })
    .await
    .unwrap_or_default();
    place(server, peers, device, role, station.cloned());
    if let (Some(station), false) = (station, others.is_empty()) {
        let _ = server.send(
            conn,
            ServerMsg::Notice(format!(
                "le poste {station} a déjà {} : ils montreront les mêmes énigmes ; \
                 changez le poste de l'un s'ils devaient être séparés",
                others.join(", ")
            )),
        );
    }
}

/// After the session thread changed what it hosts: the transport's clock counts from the new
/// session's creation, devices stop what they played and join the new session (registered
/// with their role, marked online), consoles will get its log from the start.
async fn switch_session(
    cx: &Context<'_>,
    peers: &mut HashMap<ConnId, Peer>,
    hosted: Option<&crate::runtime::Hosted>,
) {
    match hosted {
        Some(h) => {
            let age =
                Duration::from_millis(u64::try_from(unix_ms() - h.created_at_unix_ms).unwrap_or(0));
            cx.server
                .set_clock_base(Instant::now().checked_sub(age).unwrap_or_else(Instant::now));
            cx.server.set_session(Some(h.id.to_string()));
        }
        None => cx.server.set_session(None),
    }
    for (conn, peer) in peers.iter_mut() {
        if matches!(peer.role, Role::Console { .. }) {
            peer.log_sent = 0;
        } else {
            let _ = cx.server.send(*conn, ServerMsg::StopAll);
        }
    }
    if hosted.is_none() {
        return;
    }
    let devices: BTreeMap<DeviceId, DeviceRole> = peers
        .values()
        .filter_map(|p| manifest::device_role(p.role).map(|r| (p.device.clone(), r)))
        .collect();
    let d = cx.director.clone();
    let known = blocking(move || {
        d.with(|s| {
            s.engine()
                .devices()
                .keys()
                .cloned()
                .collect::<BTreeSet<_>>()
        })
        .unwrap_or_default()
    })
    .await
    .unwrap_or_default();
    let layout = room_layout(cx.director).await;
    let mut inputs = Vec::new();
    for (device, role) in devices {
        // The station it holds in this session's room (a terminal shows its puzzles).
        place(
            cx.server,
            peers,
            &device,
            role,
            layout.get(&device.0).map(|s| StationId::from(s.as_str())),
        );
        if !known.contains(&device) {
            inputs.push(Input::Command(Command::RegisterDevice {
                station: layout.get(&device.0).map(|s| StationId::from(s.as_str())),
                device: device.clone(),
                role,
            }));
        }
        inputs.push(Input::Link {
            device,
            online: true,
        });
    }
    if !inputs.is_empty() {
        let d = cx.director.clone();
        if let Some(Err(e)) = blocking(move || d.submit_together(inputs)).await {
            tracing::error!("appareils dans la nouvelle séance : {e}");
        }
    }
}

async fn on_event(cx: &Context<'_>, peers: &mut HashMap<ConnId, Peer>, event: ServerEvent) {
    let Context {
        server,
        director,
        catalog,
        tutorials,
        registry,
        day: _,
    } = *cx;
    match event {
        ServerEvent::Connected { conn, hello, addr } => {
            tracing::info!("{} ({:?}) connecté depuis {addr}", hello.device, hello.role);
            let device = hello.device.clone();
            if matches!(hello.role, Role::Console { observer: false }) {
                // Remembered, so that the next start does not open pairing by itself.
                let registry = registry.clone();
                let name = device.0.clone();
                if let Some(Err(e)) = blocking(move || registry.mark_console(&name)).await {
                    tracing::warn!("console {device} non notée comme appairée : {e}");
                }
            }
            peers.insert(
                conn,
                Peer {
                    device: device.clone(),
                    role: hello.role,
                    addr,
                    pose: None,
                    log_sent: 0,
                    review: None,
                },
            );
            if matches!(hello.role, Role::Console { .. }) {
                // The desk (which session is hosted), the scenario (in the snapshot), the
                // whole log, then the room: the console folds what the director holds.
                if let Some(day) = cx.day
                    && matches!(hello.role, Role::Console { observer: false })
                {
                    send_desk(server, director, peers, day, Some(conn)).await;
                }
                let d = director.clone();
                if let Some(Ok(snap)) = blocking(move || d.with(|s| snapshot(s.engine()))).await {
                    let _ = server.send(conn, ServerMsg::Snapshot(snap));
                }
                forward_log(server, director, peers).await;
                send_room(server, peers);
                if matches!(hello.role, Role::Console { observer: false }) {
                    send_register(server, director, peers, Some(conn)).await;
                }
            }
            let announced = manifest::device_role(hello.role);
            let Arrival {
                role: kept,
                role_changed,
                registered,
                station,
            } = arrival(
                director,
                &device,
                announced,
                matches!(hello.role, Role::Console { .. }),
            )
            .await;
            if let Some(day) = cx.day
                && role_changed
            {
                // A role first announced is now the device's: the consoles show it.
                send_desk(server, director, peers, day, None).await;
            }
            if let Some(role) = kept {
                // Its role and station; a device that announced none takes this role and comes
                // back in it.
                place(server, peers, &device, role, station.clone());
            }
            // How it plays sound (a device waiting for its role learns it in its role).
            send_sound(server, director, peers, Some(device.0.as_str())).await;
            if let Some(role) = announced {
                if registered != Some(role) {
                    submit(
                        director,
                        Input::Command(Command::RegisterDevice {
                            device: device.clone(),
                            role,
                            station,
                        }),
                    )
                    .await;
                }
                submit(
                    director,
                    Input::Link {
                        device: device.clone(),
                        online: true,
                    },
                )
                .await;
                // What it missed: cues never acknowledged that target it, then the state.
                let d = director.clone();
                let dev2 = device.clone();
                let tutorials = tutorials.clone();
                let pending = blocking(move || {
                    d.with(move |s| {
                        (
                            s.engine().unacknowledged_cues_for(&dev2),
                            routes(s.engine()),
                            snapshot(s.engine()),
                            s.engine()
                                .immersions()
                                .get(&dev2)
                                .filter(|r| r.started.is_some() && r.stopped.is_none())
                                .cloned(),
                            tutored(s.engine(), &tutorials),
                            s.engine().paused_headsets().contains_key(&dev2),
                        )
                    })
                    .ok()
                })
                .await
                .flatten();
                if let Some((cues, routes, snap, running, tutored, paused)) = pending {
                    // A headset that reconnects mid-immersion carries on with it (paused, if
                    // the facilitator paused it).
                    if let Some(run) = running {
                        let _ = server.send(
                            conn,
                            ServerMsg::Immersion {
                                tutorial_done: tutored.contains(&run.participant),
                                started_at_ms: run.film_start_ms(),
                                immersion: Some(run.immersion),
                                participant: Some(run.participant),
                            },
                        );
                    }
                    if paused {
                        let _ = server.send(conn, ServerMsg::Pause { paused: true });
                    }
                    let instances: Vec<u64> = cues
                        .iter()
                        .filter_map(|c| match c {
                            Effect::FireCue { instance, .. } => Some(*instance),
                            _ => None,
                        })
                        .collect();
                    tracing::debug!(%device, ?instances, "connected: firings it never acknowledged");
                    for cue in cues {
                        if let Effect::FireCue {
                            instance,
                            cue,
                            targets,
                            start_at,
                        } = cue
                            && targeted(&routes, &device, &targets)
                        {
                            let _ = server.send(
                                conn,
                                ServerMsg::Cue {
                                    instance,
                                    cue,
                                    start_at_ms: start_at.0,
                                },
                            );
                        }
                    }
                    let _ = server.send(conn, ServerMsg::Snapshot(snap));
                }
            }
        }
        ServerEvent::Message { conn, msg } => {
            let Some(peer) = peers.get(&conn).cloned() else {
                return;
            };
            if let Some(day) = cx.day
                && matches!(peer.role, Role::Console { observer: false })
                && !matches!(msg, ClientMsg::ClockPing { .. })
            {
                day.last_console
                    .store(unix_ms(), std::sync::atomic::Ordering::Relaxed);
            }
            match msg {
                ClientMsg::Event { seq, event } => {
                    submit(
                        director,
                        Input::Device {
                            device: peer.device,
                            seq,
                            event,
                        },
                    )
                    .await;
                }
                ClientMsg::Command(bytes) => {
                    match (peer.role, postcard::from_bytes::<Command>(&bytes)) {
                        (Role::Console { observer }, Ok(command)) => {
                            let allowed = !observer
                                || matches!(
                                    command,
                                    Command::Observe { .. }
                                        | Command::Note { .. }
                                        | Command::Undo { .. }
                                        | Command::Retract { .. }
                                );
                            if allowed {
                                let touches_register = changes_register(&command);
                                let closes = matches!(command, Command::EndSession);
                                if let Command::RegisterDevice {
                                    device,
                                    role,
                                    station,
                                } = &command
                                    && cx.day.is_some()
                                {
                                    remember_station(
                                        server,
                                        director,
                                        peers,
                                        conn,
                                        device,
                                        *role,
                                        station.as_ref(),
                                    )
                                    .await;
                                } else if let Command::RegisterDevice {
                                    device,
                                    role,
                                    station,
                                } = &command
                                {
                                    // One session only: the device learns its station all the
                                    // same (a terminal shows that station's puzzles).
                                    place(server, peers, device, *role, station.clone());
                                }
                                let out = submit(
                                    director,
                                    Input::Command(stamp_rater(command, &peer.device)),
                                )
                                .await;
                                if out.is_none() {
                                    let _ = server.send(
                                        conn,
                                        ServerMsg::Notice(crate::runtime::NO_SESSION.into()),
                                    );
                                }
                                if touches_register {
                                    send_register(server, director, peers, None).await;
                                }
                                if closes && let Some(day) = cx.day {
                                    send_desk(server, director, peers, day, None).await;
                                }
                            } else {
                                let _ = server.send(
                                    conn,
                                    ServerMsg::Notice("un poste observateur code seulement".into()),
                                );
                            }
                        }
                        (Role::Console { .. }, Err(e)) => {
                            let _ = server
                                .send(conn, ServerMsg::Notice(format!("commande illisible : {e}")));
                        }
                        _ => {
                            let _ = server.send(
                                conn,
                                ServerMsg::Notice("seule une console envoie des commandes".into()),
                            );
                        }
                    }
                }
                ClientMsg::ContentRequest { .. } => {
                    // The whole-bundle download is gone: content comes by file.
                    let _ = server.send(
                        conn,
                        ServerMsg::Notice(
                            "cet appareil demande le contenu à l'ancienne : mettez-le à jour"
                                .into(),
                        ),
                    );
                }
                ClientMsg::ManifestRequest => {
                    let msg = match (catalog, manifest::device_role(peer.role)) {
                        (Some(c), Some(role)) => ServerMsg::Manifest(c.manifest(role).clone()),
                        (None, Some(_)) => ServerMsg::Manifest(manifest::Manifest::default()),
                        (_, None) => ServerMsg::Notice(
                            "une console lit le contenu sur place, sans le télécharger".into(),
                        ),
                    };
                    let _ = server.send(conn, msg);
                }
                ClientMsg::FileRequest { hash, offset, len } => {
                    send_file_chunk(server, conn, catalog, hash, offset, len);
                }
                ClientMsg::ParticipantName { participant, name } => {
                    let reply = if matches!(peer.role, Role::Console { observer: false }) {
                        let d = director.clone();
                        let who = participant.clone();
                        let saved = blocking(move || {
                            d.with_mut(move |s| {
                                s.set_participant_name(&who, name.as_ref().map(|n| n.0.as_str()))
                            })
                        })
                        .await;
                        match saved {
                            Some(Ok(Ok(()))) => {
                                tracing::info!("nom de {participant} enregistré (table protégée)");
                                format!("nom de {participant} enregistré dans la table protégée")
                            }
                            Some(Ok(Err(e))) => {
                                format!("nom de {participant} non enregistré : {e}")
                            }
                            Some(Err(e)) => format!("nom de {participant} non enregistré : {e}"),
                            None => format!("nom de {participant} non enregistré"),
                        }
                    } else {
                        "seule la console principale enregistre des noms".to_owned()
                    };
                    let _ = server.send(conn, ServerMsg::Notice(reply));
                }
                ClientMsg::Commands(list) => {
                    if !matches!(peer.role, Role::Console { observer: false }) {
                        let _ = server.send(
                            conn,
                            ServerMsg::Notice("seule la console principale inscrit".into()),
                        );
                        return;
                    }
                    let decoded: Result<Vec<Command>, _> = list
                        .iter()
                        .map(|b| postcard::from_bytes::<Command>(b))
                        .collect();
                    match decoded {
                        Ok(commands) => {
                            let touches_register = commands.iter().any(changes_register);
                            let inputs = commands
                                .into_iter()
                                .map(|c| Input::Command(stamp_rater(c, &peer.device)))
                                .collect();
                            let d = director.clone();
                            match blocking(move || d.submit_together(inputs)).await {
                                Some(Ok(_)) => {}
                                Some(Err(e)) => tracing::error!("session: {e}"),
                                None => {}
                            }
                            if touches_register {
                                send_register(server, director, peers, None).await;
                            }
                        }
                        Err(e) => {
                            let _ = server.send(
                                conn,
                                ServerMsg::Notice(format!("commandes illisibles : {e}")),
                            );
                        }
                    }
                }
                ClientMsg::Register(bytes) => {
                    if !matches!(peer.role, Role::Console { observer: false }) {
                        let _ = server.send(
                            conn,
                            ServerMsg::Notice(
                                "seule la console principale tient le registre".into(),
                            ),
                        );
                        return;
                    }
                    let reply =
                        match postcard::from_bytes::<crate::register::RegisterRequest>(&bytes) {
                            Ok(crate::register::RegisterRequest::Search { text }) => {
                                // Answered to the asking console only, with the register.
                                let d = director.clone();
                                let view = blocking(move || {
                                    d.with_store(move |store| {
                                        let found = crate::register::search(store, &text)
                                            .map_err(|e| e.to_string())?;
                                        let mut v = crate::register::view(store)
                                            .map_err(|e| e.to_string())?;
                                        v.found = Some((text, found));
                                        postcard::to_allocvec(&v).map_err(|e| e.to_string())
                                    })
                                })
                                .await;
                                to_consoles(
                                    server,
                                    peers,
                                    Some(conn),
                                    "recherche",
                                    view,
                                    ServerMsg::Register,
                                );
                                return;
                            }
                            Ok(crate::register::RegisterRequest::Erase { person, confirm }) => {
                                tracing::info!("registre : Erase({person})");
                                let Some(day) = cx.day else {
                                    let _ =
                                        server.send(conn, ServerMsg::Notice(NOT_THE_DAY.into()));
                                    return;
                                };
                                let actor = day.facilitator.clone();
                                let d = director.clone();
                                // Refused while the person holds a slot of the hosted session.
                                let done = blocking(move || {
                                    d.with_store_and_engine(move |store, engine| {
                                        crate::privacy::erase_on_request(
                                            store,
                                            engine,
                                            &person,
                                            &confirm,
                                            &actor,
                                            unix_ms(),
                                        )
                                    })
                                })
                                .await;
                                match done {
                                    Some(Ok(Ok(line) | Err(line))) => line,
                                    Some(Err(e)) => format!("registre : {e}"),
                                    None => "registre : le directeur ne répond pas".into(),
                                }
                            }
                            Ok(crate::register::RegisterRequest::ExportData { person, folder }) => {
                                tracing::info!("registre : ExportData({person})");
                                let Some(day) = cx.day else {
                                    let _ =
                                        server.send(conn, ServerMsg::Notice(NOT_THE_DAY.into()));
                                    return;
                                };
                                let (actor, content) =
                                    (day.facilitator.clone(), day.content.clone());
                                store_line(director, "registre", move |store| {
                                    crate::privacy::export_on_request(
                                        store,
                                        &content,
                                        &person,
                                        &folder,
                                        &actor,
                                        unix_ms(),
                                    )
                                })
                                .await
                                .unwrap_or_else(|| "registre : le directeur ne répond pas".into())
                            }
                            Ok(request) => {
                                tracing::info!("registre : {request:?}");
                                let d = director.clone();
                                let done = blocking(move || {
                                    d.with_store(move |store| {
                                        crate::register::apply(store, request, unix_ms())
                                    })
                                })
                                .await;
                                match done {
                                    Some(Ok(Ok(line))) => line,
                                    Some(Ok(Err(e))) => format!("registre : {e}"),
                                    Some(Err(e)) => format!("registre : {e}"),
                                    None => "registre : le directeur ne répond pas".into(),
                                }
                            }
                            Err(e) => format!("demande au registre illisible : {e}"),
                        };
                    let _ = server.send(conn, ServerMsg::Notice(reply));
                    send_register(server, director, peers, None).await;
                }
                ClientMsg::PairingWindow { open } => {
                    if !matches!(peer.role, Role::Console { observer: false }) {
                        let _ = server.send(
                            conn,
                            ServerMsg::Notice(
                                "seule la console principale ouvre l'appairage".into(),
                            ),
                        );
                        return;
                    }
                    if open {
                        server.pairing().open(PairingCode::random());
                        tracing::info!("appairage ouvert par {} (10 min)", peer.device);
                    } else {
                        server.pairing().close();
                        tracing::info!("appairage fermé par {}", peer.device);
                    }
                    send_room(server, peers);
                }
                ClientMsg::Desk(bytes) => {
                    if !matches!(peer.role, Role::Console { observer: false }) {
                        let _ = server.send(
                            conn,
                            ServerMsg::Notice(
                                "seule la console principale ouvre les séances".into(),
                            ),
                        );
                        return;
                    }
                    match postcard::from_bytes::<crate::desk::DeskRequest>(&bytes) {
                        Ok(request) => on_desk(cx, peers, conn, request).await,
                        Err(e) => {
                            let _ = server
                                .send(conn, ServerMsg::Notice(format!("demande illisible : {e}")));
                        }
                    }
                }
                ClientMsg::Synthesis(bytes) => {
                    let refuse = |why: &str| {
                        let _ = server.send(conn, ServerMsg::Notice(why.into()));
                    };
                    if !matches!(peer.role, Role::Console { observer: false }) {
                        return refuse("seule la console principale montre les synthèses");
                    }
                    let Some(day) = cx.day else {
                        return refuse(NOT_THE_DAY);
                    };
                    let request =
                        match postcard::from_bytes::<crate::synthesis::SynthesisAsk>(&bytes) {
                            Ok(crate::synthesis::SynthesisAsk::Show(r)) => r,
                            Ok(crate::synthesis::SynthesisAsk::Record {
                                person,
                                version,
                                event,
                            }) => {
                                let (content, by) = (day.content.clone(), day.facilitator.clone());
                                let line = store_line(director, "synthèse", move |store| {
                                    crate::synthesis::record_event(
                                        store,
                                        &content,
                                        &person,
                                        &version,
                                        event,
                                        &by,
                                        unix_ms(),
                                    )
                                })
                                .await
                                .unwrap_or_else(|| "synthèse : le directeur ne répond pas".into());
                                let _ = server.send(conn, ServerMsg::Notice(line));
                                return;
                            }
                            Err(e) => {
                                return refuse(&format!("demande de synthèse illisible : {e}"));
                            }
                        };
                    let (d, content, facilitator) = (
                        director.clone(),
                        day.content.clone(),
                        day.facilitator.clone(),
                    );
                    let reply = blocking(move || {
                        d.with_store(move |store| {
                            let now = unix_ms();
                            let signature = crate::synthesis::Signature {
                                facilitator,
                                ..Default::default()
                            };
                            let reply =
                                crate::synthesis::answer(store, &content, request, &signature, now);
                            postcard::to_allocvec(&reply).map_err(|e| e.to_string())
                        })
                    })
                    .await;
                    match reply {
                        Some(Ok(Ok(bytes))) => {
                            let _ = server.send(conn, ServerMsg::Synthesis(bytes));
                        }
                        Some(Ok(Err(e)) | Err(e)) => refuse(&format!("synthèse : {e}")),
                        None => refuse("synthèse : le directeur ne répond pas"),
                    }
                }
                ClientMsg::Hello(_)
                | ClientMsg::ClockPing { .. }
                | ClientMsg::Bye
                | ClientMsg::Pairing(_) => {}
            }
        }
        ServerEvent::Disconnected { conn, reason } => {
            if let Some(peer) = peers.remove(&conn) {
                tracing::info!("{} déconnecté : {reason}", peer.device);
                // Another connection of the same device may already be there (a reconnection).
                let still = peers.values().any(|p| p.device == peer.device);
                if manifest::device_role(peer.role).is_some() && !still {
                    submit(
                        director,
                        Input::Link {
                            device: peer.device,
                            online: false,
                        },
                    )
                    .await;
                }
            }
        }
        // Taken by the network loop (`PoseRelay`) before it gets here.
        ServerEvent::Pose { .. } => {}
        ServerEvent::Paired { device } => tracing::info!("{device} appairé"),
        ServerEvent::Refused {
            addr,
            device,
            refusal,
        } => {
            tracing::warn!("refusé {addr} ({device:?}) : {refusal}");
        }
    }
}

/// Sends each console the log records it has not had yet, in order, in batches of at most
/// [`LOG_BATCH`] bytes of input.
async fn forward_log(
    server: &Server,
    director: &DirectorHandle,
    peers: &mut HashMap<ConnId, Peer>,
) {
    let Some(from) = peers
        .values()
        .filter(|p| matches!(p.role, Role::Console { .. }))
        .map(|p| p.log_sent)
        .min()
    else {
        return;
    };
    let d = director.clone();
    let records = blocking(move || {
        d.with(move |s| s.store().log_since(s.id(), LogSeq(from)))
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
    })
    .await;
    let records = match records {
        Some(Ok(records)) => records,
        Some(Err(e)) if e == crate::runtime::NO_SESSION => return,
        Some(Err(e)) => {
            tracing::error!("journal pour les consoles : {e}");
            return;
        }
        None => return,
    };
    for (conn, peer) in peers
        .iter_mut()
        .filter(|(_, p)| matches!(p.role, Role::Console { .. }))
    {
        let mut batch = Vec::new();
        let mut bytes = 0;
        let sent = peer.log_sent;
        for r in records.iter().filter(|r| r.seq.0 > sent) {
            if bytes + r.payload.len() > LOG_BATCH && !batch.is_empty() {
                let _ = server.send(*conn, ServerMsg::Log(std::mem::take(&mut batch)));
                bytes = 0;
            }
            bytes += r.payload.len();
            batch.push(LogEntry {
                seq: r.seq.0,
                at_ms: r.at_ms,
                input: r.payload.clone(),
            });
            peer.log_sent = r.seq.0;
        }
        if !batch.is_empty() {
            let _ = server.send(*conn, ServerMsg::Log(batch));
        }
    }
}

/// Whether `command` may change what the register view shows (a new person, a slot moved).
fn changes_register(command: &Command) -> bool {
    matches!(
        command,
        Command::AddParticipant { .. } | Command::AssignPerson { .. }
    )
}

/// Sends the person register to the read-write consoles (or only to `only`): pseudonyms and
/// sessions, never civil names.
async fn send_register(
    server: &Server,
    director: &DirectorHandle,
    peers: &HashMap<ConnId, Peer>,
    only: Option<ConnId>,
) {
    let d = director.clone();
    let view = blocking(move || {
        d.with_store(|store| {
            crate::register::view(store)
                .map_err(|e| e.to_string())
                .and_then(|v| postcard::to_allocvec(&v).map_err(|e| e.to_string()))
        })
    })
    .await;
    to_consoles(server, peers, only, "registre", view, ServerMsg::Register);
}

/// Sends every console the room as it is now: the pairing window (code, time left, lock) and
/// each connection's link.
fn send_room(server: &Server, peers: &HashMap<ConnId, Peer>) {
    let mut links: Vec<LinkStatus> = peers
        .iter()
        .map(|(conn, p)| LinkStatus {
            device: p.device.clone(),
            role: p.role,
            rtt_ms: server
                .rtt(*conn)
                .map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
            addr: p.addr.to_string(),
        })
        .collect();
    links.sort_by(|a, b| a.device.0.cmp(&b.device.0));
    let window = server.pairing().window();
    let room = RoomStatus {
        pairing_code: window.map(|w| w.code.to_string()),
        links,
        pairing_open_s: window.map(|w| whole_seconds(w.left)),
        pairing_locked_s: server.pairing().locked_for().map(whole_seconds),
        outdated: server.outdated_devices(),
    };
    for (conn, _) in peers
        .iter()
        .filter(|(_, p)| matches!(p.role, Role::Console { .. }))
    {
        let _ = server.send(*conn, ServerMsg::Room(room.clone()));
    }
}

/// Seconds, rounded up (a window with 0.2 s left is still open: "1 s").
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// A console's observations are coded under its own device id, so two raters stay apart.
fn stamp_rater(command: Command, device: &DeviceId) -> Command {
    let rater = RaterId(device.0.clone());
    match command {
        Command::Observe {
            participant,
            behaviour,
            action,
            modifier,
            ..
        } => Command::Observe {
            rater,
            participant,
            behaviour,
            action,
            modifier,
        },
        Command::Note {
            participant, text, ..
        } => Command::Note {
            rater,
            participant,
            text,
        },
        Command::Undo { .. } => Command::Undo { rater },
        Command::Retract { id, .. } => Command::Retract { rater, id },
        other => other,
    }
}

async fn deliver(
    server: &Server,
    director: &DirectorHandle,
    peers: &HashMap<ConnId, Peer>,
    tutorials: &Arc<BTreeSet<ImmersionId>>,
    outs: Vec<Output>,
) {
    let d = director.clone();
    let tutorials = tutorials.clone();
    // No session hosted: only acknowledgements go out (of device events between sessions).
    let (routes, snap, runs, tutored) = blocking(move || {
        d.with(move |s| {
            (
                routes(s.engine()),
                Some(snapshot(s.engine())),
                s.engine().immersions().clone(),
                tutored(s.engine(), &tutorials),
            )
        })
        .ok()
    })
    .await
    .flatten()
    .unwrap_or_default();
    // Acknowledgements per connection, sent after the cues in one message each.
    let mut acks: HashMap<ConnId, Vec<u64>> = HashMap::new();
    for effect in outs.iter().flat_map(|o| &o.effects) {
        if let Effect::Ack { device, seq } = effect {
            for (conn, _) in peers.iter().filter(|(_, p)| p.device == *device) {
                acks.entry(*conn).or_default().push(*seq);
            }
            continue;
        }
        for (conn, peer) in peers {
            let msg = match effect {
                Effect::FireCue {
                    instance,
                    cue,
                    targets,
                    start_at,
                } if targeted(&routes, &peer.device, targets) => Some(ServerMsg::Cue {
                    instance: *instance,
                    cue: cue.clone(),
                    start_at_ms: start_at.0,
                }),
                Effect::ShowHint {
                    puzzle,
                    level,
                    targets,
                } if targeted(&routes, &peer.device, targets) => Some(ServerMsg::Hint {
                    puzzle: puzzle.clone(),
                    level: *level,
                }),
                Effect::StopAll => Some(ServerMsg::StopAll),
                Effect::StartImmersion { device, immersion } if *device == peer.device => {
                    Some(ServerMsg::Immersion {
                        immersion: Some(immersion.clone()),
                        participant: runs.get(device).map(|r| r.participant.clone()),
                        started_at_ms: runs.get(device).and_then(ImmersionRun::film_start_ms),
                        tutorial_done: runs
                            .get(device)
                            .is_some_and(|r| tutored.contains(&r.participant)),
                    })
                }
                Effect::StopImmersion { device } if *device == peer.device => {
                    Some(ServerMsg::Immersion {
                        immersion: None,
                        participant: None,
                        started_at_ms: None,
                        tutorial_done: false,
                    })
                }
                Effect::Pause { device, paused } if *device == peer.device => {
                    Some(ServerMsg::Pause { paused: *paused })
                }
                Effect::Refused(why) if matches!(peer.role, Role::Console { .. }) => {
                    Some(ServerMsg::Notice(why.clone()))
                }
                _ => None,
            };
            if let Some(msg) = msg {
                if let ServerMsg::Cue { instance, cue, .. } = &msg {
                    tracing::debug!(device = %peer.device, instance, %cue, "cue sent");
                }
                let _ = server.send(*conn, msg);
            }
        }
    }
    for (conn, seqs) in acks {
        for chunk in seqs.chunks(boussole_protocol::wire::MAX_ACKS) {
            let msg = match chunk {
                [seq] => ServerMsg::Ack { seq: *seq },
                _ => ServerMsg::Acks {
                    seqs: chunk.to_vec(),
                },
            };
            let _ = server.send(conn, msg);
        }
    }
    if let Some(snap) = snap {
        for conn in peers.keys() {
            let _ = server.send(*conn, ServerMsg::Snapshot(snap.clone()));
        }
    }
}

/// Everything [`Serving::start`] needs besides the session.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on (UDP, QUIC); port 0 picks a free one ([`Serving::local_addr`]).
    pub bind: SocketAddr,
    /// The content folder packed for devices (`content/`).
    pub content_dir: PathBuf,
    /// The media folder packed with it (`assets/`).
    pub assets_dir: PathBuf,
    /// Where the director keeps its identity (`identity/`) and its paired devices
    /// (`devices.tsv`): the folder of the session database, so a restart keeps both.
    pub data_dir: PathBuf,
    /// The director's name, as devices show it.
    pub name: String,
    /// `Some`: pairing opens at start with this code, for ten minutes (scripts and tests).
    /// `None`: pairing opens at start with a fresh random code only while no read-write console
    /// is paired (so the very first console can pair); otherwise it stays closed until the
    /// facilitator opens it from the console ([`ClientMsg::PairingWindow`]).
    pub pairing_code: Option<PairingCode>,
}

/// Why [`Serving::start`] failed; the session was not started.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The content or media could not be listed and hashed for devices.
    #[error("listing the content for devices: {0}")]
    Content(#[from] ManifestError),
    /// The director's certificate could not be loaded or created.
    #[error("loading the director's certificate: {0}")]
    Identity(#[from] TlsError),
    /// The paired devices' file could not be read.
    #[error("reading the paired devices {}: {source}", path.display())]
    Registry {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The QUIC endpoint could not be opened (port taken, no Tokio runtime).
    #[error("opening the QUIC endpoint: {0}")]
    Transport(#[from] TransportError),
}

/// A director on the network: the session thread, the QUIC server and the task that routes
/// between them. Dropping it without [`Serving::stop`] aborts the routing task (devices see the
/// connection close) and leaves the session thread to end with its last handle.
pub struct Serving {
    addr: SocketAddr,
    pairing: PairingState,
    session: Option<SessionId>,
    provision: Provisioner,
    day: Option<Arc<Day>>,
    content_hashes: RoleHashes,
    director: Option<Director>,
    handle: DirectorHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Serving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serving")
            .field("addr", &self.addr)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

impl Serving {
    /// Lists and hashes the content (one manifest per role), loads (or creates) the identity, opens the paired devices' file, binds
    /// the QUIC server, starts the session thread and the routing task on the current Tokio
    /// runtime. The transport's clock counts session milliseconds (from the session's
    /// creation), so cue times, snapshots and clock pongs share the log's clock, across
    /// restarts too.
    ///
    /// # Errors
    /// [`ServeError`]; nothing is left running.
    pub fn start(config: &ServeConfig, session: Session) -> Result<Self, ServeError> {
        let session_id = session.id();
        let created = session.created_at_unix_ms();
        Self::launch(config, Some(session_id), Some(created), None, |tx| {
            Director::start(session, tx)
        })
    }

    /// The director of the day: [`Serving::start`] with the store and no session hosted yet.
    /// Consoles create, resume and leave sessions ([`ClientMsg::Desk`]); devices stay connected
    /// from one session to the next. `facilitator` is who unlocked it.
    ///
    /// # Errors
    /// As [`Serving::start`].
    pub fn start_day(
        config: &ServeConfig,
        store: crate::store::Store,
        content: Arc<ContentSet>,
        facilitator: &str,
    ) -> Result<Self, ServeError> {
        let day = Arc::new(Day {
            content: content.clone(),
            facilitator: facilitator.to_owned(),
            last_console: std::sync::atomic::AtomicI64::new(unix_ms()),
            replayed: Arc::default(),
        });
        Self::launch(config, None, None, Some(day.clone()), move |tx| {
            Director::start_day(store, content, tx)
        })
    }

    fn launch(
        config: &ServeConfig,
        session_id: Option<SessionId>,
        created_at_unix_ms: Option<i64>,
        day: Option<Arc<Day>>,
        director: impl FnOnce(std::sync::mpsc::Sender<Output>) -> Director,
    ) -> Result<Self, ServeError> {
        let catalog = Arc::new(Catalog::build(&config.content_dir, &config.assets_dir)?);
        let content_hashes = catalog.hashes();
        // Which immersions are tutorials (a headset runs one first for a new participant).
        let tutorials: Arc<BTreeSet<ImmersionId>> = Arc::new(
            ContentSet::load_dir(&config.content_dir)
                .0
                .immersions
                .into_iter()
                .filter(|i| i.value.tutorial)
                .map(|i| i.value.id)
                .collect(),
        );
        let identity =
            DirectorIdentity::load_or_create(&config.data_dir.join("identity"), &host_name())?;
        let registry_path = config.data_dir.join("devices.tsv");
        let registry = Arc::new(FileRegistry::open(&registry_path).map_err(|source| {
            ServeError::Registry {
                path: registry_path,
                source,
            }
        })?);
        // Session time 0, measured now (not before the content was hashed: that takes a while).
        let age = created_at_unix_ms.map_or(Duration::ZERO, |created| {
            Duration::from_millis(u64::try_from(unix_ms() - created).unwrap_or(0))
        });
        let clock_base = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
        let pairing = PairingState::new();
        let at_start = match config.pairing_code {
            Some(code) => Some(code),
            // The director of the day gives its console a pairing over the local socket.
            None if day.is_some() => None,
            None => (!registry.has_console()).then(PairingCode::random),
        };
        if let Some(code) = at_start {
            pairing.open(code);
        }
        let server = Server::bind_with_clock(
            config.bind,
            &identity,
            registry.clone(),
            pairing,
            content_hashes.console,
            config.name.clone(),
            clock_base,
        )?;
        server.set_content_hashes(content_hashes);
        let pairing = server.pairing().clone();
        server.set_session(session_id.map(|s| s.to_string()));
        let addr = server.local_addr();
        let (tx, rx) = std::sync::mpsc::channel::<Output>();
        let director = director(tx);
        let handle = director.handle();
        // The session thread's effects, into the async world; ends with the session thread.
        let (out_tx, out_rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            while let Ok(o) = rx.recv() {
                if out_tx.send(o).is_err() {
                    break;
                }
            }
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let routing = handle.clone();
        let provision = Provisioner {
            registry: registry.clone(),
            ca_der: identity.ca_der().to_vec(),
        };
        let watched = day.clone();
        let task = tokio::spawn(async move {
            tokio::select! {
                () = serve(server, routing, out_rx, Some(catalog), tutorials, registry, day) => {}
                _ = stopped => {}
            }
        });
        Ok(Self {
            addr,
            pairing,
            session: session_id,
            content_hashes,
            director: Some(director),
            handle,
            stop: Some(stop),
            task,
            provision,
            day: watched,
        })
    }

    /// The address devices connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fingerprint of the director's certificate authority, as its mDNS announcement
    /// carries it ([`boussole_protocol::discovery::ca_fingerprint`]): paired devices take
    /// only this director when several answer.
    pub fn ca_fingerprint(&self) -> String {
        boussole_protocol::discovery::ca_fingerprint(&self.provision.ca_der)
    }

    /// The pairing window: the facilitator opens and closes it from the console; scripts and
    /// tests may too ([`PairingState::open`], [`PairingState::close`]).
    pub fn pairing(&self) -> &PairingState {
        &self.pairing
    }

    /// The session served at start (`None` for the director of the day, which hosts sessions
    /// as the consoles ask).
    pub fn session_id(&self) -> Option<SessionId> {
        self.session
    }

    /// How long since a read-write console last asked anything (a clock ping is not asking);
    /// `None` when this is not a director of the day.
    pub fn idle_for(&self) -> Option<Duration> {
        let last = self
            .day
            .as_ref()?
            .last_console
            .load(std::sync::atomic::Ordering::Relaxed);
        Some(Duration::from_millis(
            u64::try_from(unix_ms() - last).unwrap_or(0),
        ))
    }

    /// Pairs this laptop's own console without a code: the director of the day hands it a
    /// token over its local socket (the peer's uid checked there), so the facilitator never
    /// copies a code from one window to another. Returns the director's CA (DER) and the
    /// token for `device`, registered as a read-write console.
    ///
    /// # Errors
    /// The paired devices' file cannot be written.
    pub fn provision_console(&self, device: &DeviceId) -> Result<(Vec<u8>, DeviceToken), String> {
        self.provision.console(device)
    }

    /// The manifest hash each role must present to be in sync ([`Catalog::hashes`]).
    pub fn content_hashes(&self) -> RoleHashes {
        self.content_hashes
    }

    /// A handle to the session thread, for facilitator commands and reads.
    pub fn handle(&self) -> DirectorHandle {
        self.handle.clone()
    }

    /// Resolves if the routing task ends on its own (the server closed).
    pub async fn stopped(&mut self) {
        let _ = (&mut self.task).await;
    }

    /// Closes the server (every device sees its connection close and will reconnect), waits
    /// for the routing task, stops the session thread and gives the session back. A device
    /// event being committed at that moment is committed, but may never be acknowledged: the
    /// device resends it and the log takes it once.
    pub async fn stop(mut self) -> Option<Session> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        let director = self.director.take()?;
        tokio::task::spawn_blocking(move || director.stop())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.task.abort();
    }
}
