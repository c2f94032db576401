//! End-to-end tests: a director and simulated devices over loopback QUIC play whole sessions.
//! The tests live in `tests/tests/`; this library holds their shared fixtures: the content,
//! the demo script's facilitator commands and room, simulated devices, and a reading of the
//! session log that checks every device event is in it exactly once.

use anyhow::{Context, Result, anyhow, bail, ensure};
use boussole_content::ContentSet;
use boussole_content::ids::{EndingId, StationId};
use boussole_content::scenario::{EndingKind, Scenario};
use boussole_director::engine::{Command, Engine, Input, Millis, PuzzleStatus};
use boussole_director::runtime::DirectorHandle;
use boussole_director::runtime::unix_ms;
use boussole_director::script::{Act, Script};
use boussole_director::server::{ServeConfig, Serving};
use boussole_director::session::Session;
use boussole_director::store::{SessionId, Store};
use boussole_protocol::pairing::PairingCode;
use boussole_protocol::transport::Backoff;
use boussole_protocol::wire::Role;
use boussole_protocol::{DeviceEvent, DeviceId, ParticipantId};
use boussole_sim::lineup::{self, Seat};
use boussole_sim::{SimConfig, SimDevice, SimHandle, SimStats};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod game;
pub mod process;

/// A director serving a new session of the demo script on a free loopback port, with the
/// script's participants enrolled: what every in-process end-to-end test starts from.
pub struct Room {
    /// The shipped content.
    pub set: ContentSet,
    /// The scenario played ([`SCENARIO`]).
    pub scenario: Arc<Scenario>,
    /// The demo script (participants, facilitator steps, device events).
    pub script: Script,
    /// The director: its session thread and QUIC server.
    pub serving: Serving,
    /// When the session was created, Unix milliseconds (session time counts from it).
    pub created_at: i64,
}

/// Creates a session of the demo in a new database under `dir` (which also holds the
/// director's identity and paired devices), serves it on `127.0.0.1:0` and enrols the script's
/// participants.
///
/// # Errors
/// Content, store, server or submission failures.
pub fn start_room(dir: &Path) -> Result<Room> {
    let set = content()?;
    let scenario = scenario(&set, SCENARIO)?;
    let script = demo_script()?;
    let store = Store::open(&dir.join("director.db"), PASSPHRASE)?;
    let session = Session::create(store, &set, SCENARIO, &script.label, unix_ms())?;
    let created_at = session.created_at_unix_ms();
    let serving = Serving::start(&serve_config(dir, "127.0.0.1:0".parse()?)?, session)?;
    let director = serving.handle();
    for command in enrolment(&script) {
        submit(&director, command)?;
    }
    Ok(Room {
        set,
        scenario,
        script,
        serving,
        created_at,
    })
}

/// The passphrase of every test database.
pub const PASSPHRASE: &str = "phrase de test e2e";

/// The pairing code of every test director.
pub const CODE: &str = "314159";

/// The scenario played.
pub const SCENARIO: &str = "scape_attitudes";

/// The demo script's times are divided by this: its GOs at 15–250 s come within half a
/// second, its last observation within 4 s.
pub const SCRIPT_SPEED_UP: f32 = 500.0;

/// The sixth device: a second tablet at `poste_stock`, for the participant the demo places
/// there second (P6); it answers `p_casque` while the first answers `p_rumeur`.
pub const EXTRA_TERMINAL: &str = "tablette_stock_2";

/// Guard of each wait for a whole game (sims think ~150 ms per move; a game takes a few
/// seconds). Only a hang reaches it.
pub const GAME_GUARD: Duration = Duration::from_secs(45);

/// The repository root (the folder holding `content/` and `assets/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The shipped content folder.
pub fn content_dir() -> PathBuf {
    repo_root().join("content")
}

/// The shipped media folder.
pub fn assets_dir() -> PathBuf {
    repo_root().join("assets")
}

/// The 360° test immersion (`tests/fixtures/visite_360.ron`, id `visite_360`): the port's
/// hotspots, tasks and questionnaire over the film `films/visite_360.webm`.
pub const FILM_IMMERSION: &str = "visite_360";

/// Copies the shipped content and media under `dir` (`dir/content`, `dir/assets`), adds the 360°
/// test immersion ([`FILM_IMMERSION`]) and `film` as its video; returns both folders.
///
/// # Errors
/// A file cannot be read or written.
pub fn content_with_a_360_film(dir: &Path, film: &Path) -> Result<(PathBuf, PathBuf)> {
    fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                copy(&entry.path(), &target)?;
            } else {
                std::fs::copy(entry.path(), target)?;
            }
        }
        Ok(())
    }
    let (content, assets) = (dir.join("content"), dir.join("assets"));
    copy(&content_dir(), &content).context("copying content/")?;
    copy(&assets_dir(), &assets).context("copying assets/")?;
    std::fs::copy(
        repo_root().join("tests/fixtures/visite_360.ron"),
        content.join("immersions/visite_360.ron"),
    )
    .context("the 360° fixture")?;
    std::fs::create_dir_all(assets.join("films"))?;
    std::fs::copy(film, assets.join("films/visite_360.webm")).context("the film")?;
    Ok((content, assets))
}

/// Runs `start` (a director starting on a given port) until it no longer fails because the
/// port is still held by the director just stopped on it, whose endpoint drains its
/// connections; for at most 10 s, trying every 50 ms.
///
/// # Errors
/// `start`'s error: at once when it is anything but "address in use", else after 10 s.
pub async fn on_freed_port<T>(mut start: impl FnMut() -> Result<T>) -> Result<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match start() {
            Err(e)
                if Instant::now() < deadline
                    && e.chain().any(|c| {
                        c.downcast_ref::<std::io::Error>()
                            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
                    }) =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

/// The shipped content, which must load without a problem.
///
/// # Errors
/// Any problem loading it.
pub fn content() -> Result<ContentSet> {
    let (set, problems) = ContentSet::load_dir(&content_dir());
    ensure!(
        problems.is_empty(),
        "the shipped content has problems: {problems:?}"
    );
    Ok(set)
}

/// Scenario `id` of `set`.
///
/// # Errors
/// It is not there.
pub fn scenario(set: &ContentSet, id: &str) -> Result<Arc<Scenario>> {
    set.scenarios
        .iter()
        .map(|s| &s.value)
        .find(|s| s.id.as_str() == id)
        .cloned()
        .map(Arc::new)
        .ok_or_else(|| anyhow!("no scenario {id}"))
}

/// The id of `scenario`'s success ending.
///
/// # Errors
/// It has none (validation forbids that).
pub fn success_ending(scenario: &Scenario) -> Result<EndingId> {
    scenario
        .endings
        .iter()
        .find(|e| e.kind == EndingKind::Success)
        .map(|e| e.id.clone())
        .ok_or_else(|| anyhow!("{} has no success ending", scenario.id))
}

/// The facilitator's script of the demo (`director/scripts/demo_scape_attitudes.ron`).
///
/// # Errors
/// It cannot be read or parsed.
pub fn demo_script() -> Result<Script> {
    let path = repo_root().join("director/scripts/demo_scape_attitudes.ron");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    boussole_director::script::parse(&text).map_err(|e| anyhow!("{}:{e}", path.display()))
}

/// The script's facilitator commands, in time order, with their times (seconds, sped up
/// [`SCRIPT_SPEED_UP`] times): the script's own, then the extra terminal's registration at
/// 0 s. Device steps are left out (the simulated devices play), and so is `EndSession`,
/// which the tests send once the game is over.
pub fn facilitator_steps(script: &Script) -> Vec<(f32, Command)> {
    let mut steps: Vec<(f32, Command)> = script
        .steps
        .iter()
        .filter_map(|s| match &s.act {
            Act::Command(Command::EndSession) | Act::Device { .. } => None,
            Act::Command(c) => Some((s.at_s / SCRIPT_SPEED_UP, c.clone())),
        })
        .collect();
    steps.push((
        0.0,
        Command::RegisterDevice {
            device: DeviceId::from(EXTRA_TERMINAL),
            role: boussole_content::cue::DeviceRole::Terminal,
            station: Some(StationId::from("poste_stock")),
        },
    ));
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    steps
}

/// The participants' enrolment: `AddParticipant` and `AssignStation` for each.
pub fn enrolment(script: &Script) -> Vec<Command> {
    let mut out = Vec::new();
    for p in &script.participants {
        out.push(Command::AddParticipant {
            id: p.id.clone(),
            pseudonym: p.pseudonym.clone(),
            colour: p.colour.clone(),
        });
        if p.station.is_some() {
            out.push(Command::AssignStation {
                participant: p.id.clone(),
                station: p.station.clone(),
            });
        }
    }
    out
}

/// The room of the demo: the devices its script registers, plus [`EXTRA_TERMINAL`], each
/// with the first participant placed at its station not already seated, and the puzzles
/// dealt between the two tablets of `poste_stock`.
pub fn room(script: &Script, scenario: &Scenario) -> Vec<Seat> {
    let mut seats = Vec::new();
    let mut taken: BTreeSet<ParticipantId> = BTreeSet::new();
    for (_, command) in facilitator_steps(script) {
        let Command::RegisterDevice {
            device,
            role,
            station,
        } = command
        else {
            continue;
        };
        let participant = script
            .participants
            .iter()
            .find(|p| p.station.is_some() && p.station == station && !taken.contains(&p.id))
            .map(|p| p.id.clone());
        if let Some(p) = &participant {
            taken.insert(p.clone());
        }
        seats.push(Seat {
            device,
            role: lineup::wire_role(role),
            station,
            participant,
            puzzles: None,
        });
    }
    lineup::deal(scenario, &mut seats);
    seats
}

/// Submits `command` on the session thread.
///
/// # Errors
/// The director is stopped or the store failed.
pub fn submit(director: &DirectorHandle, command: Command) -> Result<()> {
    director
        .submit(Input::Command(command))
        .map(|_| ())
        .map_err(|e| anyhow!("submitting a command: {e}"))
}

/// Plays `steps` on a thread, each at its time after now; returns when all are submitted
/// (or the director stopped: the rest is left out, as a facilitator whose director fell
/// would).
pub fn play_facilitator(
    director: DirectorHandle,
    steps: Vec<(f32, Command)>,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut done = 0;
        for (at_s, command) in steps {
            let due = start + Duration::from_secs_f32(at_s.max(0.0));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if director.submit(Input::Command(command)).is_err() {
                break;
            }
            done += 1;
        }
        done
    })
}

/// A free UDP port below Linux's ephemeral range (32768 up), so that no device endpoint
/// (each connection attempt binds a new one on port 0) can take it while a director that
/// must come back on it is down.
///
/// # Errors
/// Every port of the range is taken.
pub fn port_outside_ephemeral_range() -> Result<u16> {
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 12_000;
    // Tests of one binary run in parallel: each call starts elsewhere.
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let start = (std::process::id() % SPAN + call * 997) % SPAN;
    for i in 0..SPAN {
        let port = u16::try_from(FIRST + (start + i) % SPAN)?;
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free UDP port from {FIRST} to {}", FIRST + SPAN)
}

/// A director's configuration for tests: content and media of the repository, identity
/// and paired devices in `data_dir`, pairing open at start for ten minutes with [`CODE`].
///
/// # Errors
/// Never in practice ([`CODE`] is valid).
pub fn serve_config(data_dir: &Path, bind: SocketAddr) -> Result<ServeConfig> {
    Ok(ServeConfig {
        bind,
        content_dir: content_dir(),
        assets_dir: assets_dir(),
        data_dir: data_dir.to_path_buf(),
        name: "Régie de test".into(),
        pairing_code: Some(code()?),
    })
}

/// [`CODE`], parsed.
///
/// # Errors
/// Never in practice.
pub fn code() -> Result<PairingCode> {
    PairingCode::parse(CODE).map_err(|e| anyhow!("{e}"))
}

/// The reconnection schedule of test devices: quick, and long enough to outlast a director
/// restart (about a minute).
pub fn test_backoff() -> Backoff {
    Backoff {
        first: Duration::from_millis(100),
        max: Duration::from_millis(800),
        attempts: 80,
        connect_timeout: Duration::from_secs(2),
    }
}

/// How the simulated devices of a test play.
#[derive(Clone, Debug)]
pub struct Play {
    /// The manifest hashes they present (each its role's).
    pub content: boussole_protocol::manifest::RoleHashes,
    /// Mean think time.
    pub think: Duration,
    /// Chance of a wrong answer first.
    pub wrong_rate: f64,
    /// Chance of a hint request first.
    pub hint_rate: f64,
    /// Seed (device `i` uses `seed + i`).
    pub seed: u64,
    /// Where headsets keep their outbox.
    pub outbox_dir: Option<PathBuf>,
}

/// Pairs each seat with the director at `addr` with [`CODE`] (pairing is open from the start:
/// [`serve_config`]), then starts it. Clock offsets are spread from
/// −3 s to +4.5 s so clock sync has something to find.
///
/// # Errors
/// A pairing or a start failed.
pub async fn start_devices(
    addr: SocketAddr,
    seats: Vec<Seat>,
    scenario: &Arc<Scenario>,
    play: &Play,
) -> Result<Vec<SimHandle>> {
    start_devices_via(addr, addr, seats, scenario, play).await
}

/// [`start_devices`], pairing with the director at `addr` directly but playing through
/// `via` (a [`boussole_sim::proxy::FaultProxy`] in front of it).
///
/// # Errors
/// A pairing or a start failed.
pub async fn start_devices_via(
    addr: SocketAddr,
    via: SocketAddr,
    seats: Vec<Seat>,
    scenario: &Arc<Scenario>,
    play: &Play,
) -> Result<Vec<SimHandle>> {
    start_devices_with(addr, via, code()?, seats, scenario, play).await
}

/// [`start_devices_via`] pairing with `code` (the one a console opened the window with).
///
/// # Errors
/// A pairing or a start failed.
pub async fn start_devices_with(
    addr: SocketAddr,
    via: SocketAddr,
    code: PairingCode,
    seats: Vec<Seat>,
    scenario: &Arc<Scenario>,
    play: &Play,
) -> Result<Vec<SimHandle>> {
    let mut out = Vec::new();
    for (i, seat) in seats.into_iter().enumerate() {
        let pairing = boussole_sim::pair(addr, code, &seat.device).await?;
        let index = i64::try_from(i).unwrap_or(0);
        let headset = seat.role == Role::Headset;
        let device = seat.device.clone();
        let mut config = SimConfig::new(seat);
        config.content_hash = play.content.for_role(config.seat.role);
        config.hashes = Some(play.content);
        config.think = play.think;
        config.wrong_rate = play.wrong_rate;
        config.hint_rate = play.hint_rate;
        config.seed = play.seed.wrapping_add(index.unsigned_abs());
        config.clock_offset_ms = (index - 2) * 1_500;
        config.backoff = test_backoff();
        config.outbox = play
            .outbox_dir
            .as_ref()
            .filter(|_| headset)
            .map(|d| d.join(format!("{device}.outbox")));
        out.push(SimDevice::start(config, via, pairing, scenario.clone())?);
    }
    Ok(out)
}

/// Waits until every device satisfies `done`, each within `limit`.
///
/// # Errors
/// The first device that did not, with what it was waiting for.
pub async fn wait_all(
    devices: &[SimHandle],
    what: &str,
    limit: Duration,
    done: impl Fn(&SimStats) -> bool + Copy,
) -> Result<Vec<SimStats>> {
    let mut out = Vec::new();
    for d in devices {
        out.push(d.wait_until(what, limit, done).await?);
    }
    Ok(out)
}

/// Waits until any device's last snapshot has at least `n` puzzles solved.
///
/// # Errors
/// None did within `limit`.
pub async fn wait_solved(devices: &[SimHandle], n: usize, limit: Duration) -> Result<()> {
    let first = devices.first().ok_or_else(|| anyhow!("no device"))?;
    first
        .wait_until(&format!("{n} puzzles solved"), limit, |s| {
            s.last_snapshot
                .as_ref()
                .is_some_and(|s| s.solved.len() >= n)
        })
        .await?;
    Ok(())
}

/// Waits, at most [`GAME_GUARD`], until every device saw the ending and every event it made was
/// acknowledged ([`settled`]); returns their stats then.
///
/// # Errors
/// The guard ran out (a hang), naming what was awaited.
pub async fn wait_settled(devices: &[SimHandle]) -> Result<Vec<SimStats>> {
    wait_all(
        devices,
        "the end of the game, all acknowledged",
        GAME_GUARD,
        settled,
    )
    .await
}

/// Devices done: every event acknowledged, nothing pending, the ending seen.
pub fn settled(s: &SimStats) -> bool {
    s.ended.is_some() && s.pending == 0 && s.acked == s.events_created
}

/// What the director still owes the devices by its log, replayed and advanced to now: each
/// cue firing no device has acknowledged (those due since the last record included) and each
/// cue wait still running (it may fire another). Empty once nothing more will reach a device.
///
/// Devices alone cannot tell: a device that saw the ending and has nothing pending looks
/// [`settled`] while a firing for it is still on its way (sent after its reconnection is
/// logged) or not fired yet (a post-wait running past the ending). RELIABILITY.md, "Crash
/// loop".
///
/// # Errors
/// The log cannot be read or replayed.
pub fn director_owes(store: &Store, set: &ContentSet, session: SessionId) -> Result<Vec<String>> {
    let (info, mut engine) = boussole_director::session::replay(store, set, session)?;
    let now = u64::try_from(unix_ms() - info.created_at_unix_ms).unwrap_or(0);
    let _ = engine.advance(Millis(now));
    let mut owed: Vec<String> = engine
        .unacknowledged_cues()
        .iter()
        .map(|e| format!("unacknowledged {e:?}"))
        .collect();
    owed.extend(
        engine
            .waits()
            .iter()
            .map(|w| format!("{:?} of {} until {}", w.kind, w.cue, w.ends)),
    );
    Ok(owed)
}

/// How often [`wait_done`] reads the director's log again while it still owes something.
const OWED_POLL: Duration = Duration::from_millis(50);

/// Waits, at most [`GAME_GUARD`], until the devices are [`settled`] **and** the director's log
/// (in `db`, read beside the running director) says it owes them nothing
/// ([`director_owes`]); returns the devices' stats then. Only then may the devices be stopped
/// and the log checked.
///
/// # Errors
/// A device did not settle, the log cannot be read, or the director still owed something
/// after the guard (named).
pub async fn wait_done(
    devices: &[SimHandle],
    db: &Path,
    set: &ContentSet,
    session: SessionId,
) -> Result<Vec<SimStats>> {
    let store = Store::open(db, PASSPHRASE)?;
    let give_up = Instant::now() + GAME_GUARD;
    loop {
        let stats = wait_settled(devices).await?;
        let owed = director_owes(&store, set, session)?;
        if owed.is_empty() {
            return Ok(stats);
        }
        ensure!(
            Instant::now() < give_up,
            "after {GAME_GUARD:?} the director still owes the devices: {owed:?}"
        );
        tokio::time::sleep(OWED_POLL).await;
    }
}

/// One device event as the log holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    /// Session time, ms.
    pub at_ms: u64,
    /// The event.
    pub event: DeviceEvent,
}

/// Every device event of a session's log, by `(device, seq)`, each with how many times it
/// is there.
///
/// # Errors
/// The log cannot be read or a record decoded.
pub fn device_events(
    store: &Store,
    session: SessionId,
) -> Result<BTreeMap<(DeviceId, u64), Vec<Logged>>> {
    let mut out: BTreeMap<(DeviceId, u64), Vec<Logged>> = BTreeMap::new();
    for record in store.log(session)? {
        let input: Input = postcard::from_bytes(&record.payload)
            .with_context(|| format!("log record {}", record.seq.0))?;
        if let Input::Device { device, seq, event } = input {
            out.entry((device, seq)).or_default().push(Logged {
                at_ms: record.at_ms,
                event,
            });
        }
    }
    Ok(out)
}

/// Checks what DESIGN's principles 1 and 2 promise, between the devices' own accounts and
/// the log: every event a device created is in the log exactly once, equal to what it sent,
/// and the log holds no other event of it; every device applied each cue firing at most once
/// and was never sent a cue again after its acknowledgement was confirmed; each
/// `CueApplied` in the log is one application or one re-acknowledged duplicate.
///
/// # Errors
/// The first broken promise, naming the device and event.
pub fn check_exactly_once(
    log: &BTreeMap<(DeviceId, u64), Vec<Logged>>,
    devices: &[(DeviceId, SimStats)],
) -> Result<()> {
    for (device, stats) in devices {
        ensure!(
            stats.events_created == stats.events.len() as u64,
            "{device}: counters disagree"
        );
        for (seq, event) in &stats.events {
            let copies = log
                .get(&(device.clone(), *seq))
                .ok_or_else(|| anyhow!("{device}: event {seq} ({event:?}) is not in the log"))?;
            ensure!(
                copies.len() == 1,
                "{device}: event {seq} is in the log {} times",
                copies.len()
            );
            ensure!(
                copies.first().map(|c| &c.event) == Some(event),
                "{device}: event {seq} in the log differs from the one sent"
            );
        }
        let sent: BTreeSet<u64> = stats.events.iter().map(|(s, _)| *s).collect();
        let extra: Vec<u64> = log
            .keys()
            .filter(|(d, s)| d == device && !sent.contains(s))
            .map(|(_, s)| *s)
            .collect();
        ensure!(
            extra.is_empty(),
            "{device}: events {extra:?} in the log were never sent"
        );
        ensure!(
            stats.acked_cues_resent == 0,
            "{device}: {} cues sent again after their acknowledgement was committed",
            stats.acked_cues_resent
        );
        let mut applied_in_log: BTreeMap<u64, u64> = BTreeMap::new();
        for ((d, _), copies) in log {
            for c in copies.iter().filter(|_| d == device) {
                if let DeviceEvent::CueApplied { instance, .. } = c.event {
                    *applied_in_log.entry(instance).or_default() += 1;
                }
            }
        }
        let instances: BTreeSet<u64> = applied_in_log.keys().copied().collect();
        let applied: BTreeSet<u64> = stats.applied.keys().copied().collect();
        ensure!(
            instances == applied,
            "{device}: cues acknowledged in the log {instances:?}, applied {applied:?}"
        );
        let acks: u64 = applied_in_log.values().sum();
        ensure!(
            acks == applied.len() as u64 + stats.duplicate_cues,
            "{device}: {acks} acknowledgements for {} cues applied and {} duplicates",
            applied.len(),
            stats.duplicate_cues
        );
    }
    Ok(())
}

/// Checks the end of the game in the engine: the success ending, every puzzle solved, and
/// every cue firing acknowledged by some device.
///
/// # Errors
/// What is not so.
pub fn check_success(engine: &Engine) -> Result<()> {
    let success = success_ending(engine.scenario())?;
    ensure!(
        engine.ending() == Some(&success),
        "ending {:?}, expected {success}",
        engine.ending()
    );
    let unsolved: Vec<_> = engine
        .puzzles()
        .iter()
        .filter(|(_, s)| !matches!(s, PuzzleStatus::Solved { forced: None, .. }))
        .map(|(id, _)| id.to_string())
        .collect();
    ensure!(
        unsolved.is_empty(),
        "not solved by the devices: {unsolved:?}"
    );
    let unacked = engine.unacknowledged_cues();
    ensure!(
        unacked.is_empty(),
        "cue firings never acknowledged: {unacked:?}"
    );
    Ok(())
}

/// Director clock minus the device's clock, ms, as the test sees them now (the director's
/// session clock counts from the session's creation).
pub fn true_offset_ms(created_at_unix_ms: i64, device: &SimHandle) -> f64 {
    let director = unix_ms() - created_at_unix_ms;
    let local = i64::try_from(device.local_clock_ms()).unwrap_or(i64::MAX);
    (director - local) as f64
}

/// Checks each device's clock estimate against the true offset, within `tolerance_ms`.
///
/// # Errors
/// A device without an estimate, or one off by more.
pub fn check_clocks(
    created_at_unix_ms: i64,
    devices: &[SimHandle],
    tolerance_ms: f64,
) -> Result<()> {
    for d in devices {
        let truth = true_offset_ms(created_at_unix_ms, d);
        let Some(clock) = d.stats().clock else {
            bail!("{}: no clock estimate", d.device());
        };
        ensure!(
            (clock.offset_ms - truth).abs() <= tolerance_ms,
            "{}: clock offset estimated {:.1} ms, true {truth:.1} ms",
            d.device(),
            clock.offset_ms
        );
    }
    Ok(())
}

/// Stops every device and returns their final counters.
///
/// # Errors
/// A device that had failed.
pub async fn stop_all(devices: Vec<SimHandle>) -> Result<Vec<(DeviceId, SimStats)>> {
    let mut out = Vec::new();
    for d in devices {
        let id = d.device().clone();
        out.push((id, d.stop().await?));
    }
    Ok(out)
}

/// The seed of a fault test: `BOUSSOLE_FAULT_SEED` when set (a number), else `default`
/// (fixed, so CI replays the same fault points; set the variable to explore others).
///
/// # Errors
/// The variable is set but is not a number.
pub fn fault_seed(default: u64) -> Result<u64> {
    match std::env::var("BOUSSOLE_FAULT_SEED") {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("BOUSSOLE_FAULT_SEED={v:?} is not a number")),
        Err(_) => Ok(default),
    }
}

/// Rounds of a fault test: `BOUSSOLE_FAULT_ROUNDS` when set, else `default` (CI's bounded
/// count). Round `i` uses seed `fault_seed + i`.
///
/// # Errors
/// The variable is set but is not a positive number.
pub fn fault_rounds(default: u32) -> Result<u32> {
    match std::env::var("BOUSSOLE_FAULT_ROUNDS") {
        Ok(v) => {
            let n: u32 = v
                .trim()
                .parse()
                .with_context(|| format!("BOUSSOLE_FAULT_ROUNDS={v:?} is not a number"))?;
            ensure!(n > 0, "BOUSSOLE_FAULT_ROUNDS must be at least 1");
            Ok(n)
        }
        Err(_) => Ok(default),
    }
}
