//! The device session in virtual time against an in-memory director, as quinn-proto tests its
//! `Connection` with a `Pair`: messages travel through two queues with a one-way delay, the
//! link is cut at random, the device restarts from its on-disk outbox, the director from its
//! log. Checked: every event the device created is in the director's log exactly once, every
//! acknowledged one is there, every cue firing is applied once, the clock estimate converges,
//! content arrives whole across cuts, and pairing asks again for a code when the director has
//! forgotten the device.
#![expect(
    clippy::expect_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]

mod common;

use boussole_content::ids::CueId;
use boussole_protocol::content_sync::{ContentSync, SyncConfig};
use boussole_protocol::device_session::{
    Action, DeviceClock, DeviceSession, LinkFailure, LinkState, SessionConfig, SessionEvent,
};
use boussole_protocol::manifest::{Manifest, hash_bytes};
use boussole_protocol::outbox::Outbox;
use boussole_protocol::pairing::{Pairing, PairingCode};
use boussole_protocol::wire::{ClientMsg, DeviceToken, Hello, Refusal, Role, ServerMsg, Snapshot};
use boussole_protocol::{DeviceEvent, DeviceId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const CODE: u32 = 314_159;

fn addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4433))
}

fn code() -> PairingCode {
    PairingCode::parse(&CODE.to_string()).expect("a valid code")
}

/// The director, in memory: a durable log deduplicated by `(device, seq)`, the firings not
/// yet acknowledged, a content bundle served in chunks, a session clock.
struct Director {
    epoch: Instant,
    /// Director clock minus the machine's, ms.
    offset_ms: u64,
    token: DeviceToken,
    knows_device: bool,
    log: Vec<(u64, DeviceEvent)>,
    committed: BTreeSet<u64>,
    next_instance: u64,
    /// Firings sent until their `CueApplied` is committed.
    pending: BTreeMap<u64, CueId>,
    /// The content served by file: path → bytes.
    files: BTreeMap<String, Vec<u8>>,
    /// Answers nothing (a director stuck behind a live connection).
    silent: bool,
}

impl Director {
    fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            offset_ms: 7_000,
            token: DeviceToken::from_bytes([9; 32]),
            knows_device: true,
            log: Vec::new(),
            committed: BTreeSet::new(),
            next_instance: 0,
            pending: BTreeMap::new(),
            files: BTreeMap::new(),
            silent: false,
        }
    }

    fn clock_ms(&self, now: Instant) -> u64 {
        u64::try_from(now.duration_since(self.epoch).as_millis()).unwrap_or(0) + self.offset_ms
    }

    fn pairing(&self) -> Pairing {
        Pairing {
            ca_der: vec![1, 2, 3],
            token: self.token.clone(),
        }
    }

    fn manifest(&self) -> Manifest {
        common::manifest_of(&self.files)
    }

    fn content_hash(&self) -> [u8; 32] {
        if self.files.is_empty() {
            [0; 32]
        } else {
            self.manifest().hash()
        }
    }

    /// A connection presenting `hello`: refused, or welcomed with what follows a welcome.
    fn welcome(&self, hello: &Hello, now: Instant) -> Result<(bool, Vec<ServerMsg>), Refusal> {
        if !self.knows_device {
            return Err(Refusal::UnknownDevice);
        }
        if hello.token.as_ref() != Some(&self.token) {
            return Err(Refusal::BadToken);
        }
        let mut out: Vec<ServerMsg> = self
            .pending
            .iter()
            .map(|(instance, cue)| ServerMsg::Cue {
                instance: *instance,
                cue: cue.clone(),
                start_at_ms: self.clock_ms(now),
            })
            .collect();
        out.push(ServerMsg::Snapshot(self.snapshot(now)));
        Ok((hello.content_hash == self.content_hash(), out))
    }

    fn snapshot(&self, now: Instant) -> Snapshot {
        Snapshot {
            scenario: "essai".into(),
            phase: None,
            timer_running: false,
            remaining_ms: 0,
            at_ms: self.clock_ms(now),
            open: Vec::new(),
            solved: Vec::new(),
            ended: None,
        }
    }

    fn fire(&mut self, now: Instant) -> ServerMsg {
        self.fire_ahead(now, 50)
    }

    /// A firing scheduled `lead_ms` after now on the director's clock.
    fn fire_ahead(&mut self, now: Instant, lead_ms: u64) -> ServerMsg {
        self.next_instance += 1;
        let cue = CueId(format!("c_{}", self.next_instance));
        self.pending.insert(self.next_instance, cue.clone());
        ServerMsg::Cue {
            instance: self.next_instance,
            cue,
            start_at_ms: self.clock_ms(now) + lead_ms,
        }
    }

    fn handle(&mut self, msg: ClientMsg, now: Instant) -> Vec<ServerMsg> {
        if self.silent {
            return Vec::new();
        }
        match msg {
            ClientMsg::Event { seq, event } => {
                if self.committed.insert(seq) {
                    if let DeviceEvent::CueApplied { instance, .. } = &event {
                        self.pending.remove(instance);
                    }
                    self.log.push((seq, event));
                }
                vec![ServerMsg::Ack { seq }]
            }
            ClientMsg::ClockPing { t0_ms } => {
                let t = self.clock_ms(now);
                vec![ServerMsg::ClockPong {
                    t0_ms,
                    t1_ms: t,
                    t2_ms: t,
                }]
            }
            ClientMsg::ManifestRequest => vec![ServerMsg::Manifest(self.manifest())],
            ClientMsg::FileRequest { hash, offset, len } => {
                let found = self.files.values().find(|b| hash_bytes(b) == hash);
                match found {
                    Some(bytes) => {
                        let start = usize::try_from(offset)
                            .unwrap_or(usize::MAX)
                            .min(bytes.len());
                        let end = start.saturating_add(len as usize).min(bytes.len());
                        vec![ServerMsg::FileChunk {
                            hash,
                            offset,
                            bytes: bytes[start..end].to_vec(),
                        }]
                    }
                    None => vec![ServerMsg::FileUnavailable { hash }],
                }
            }
            _ => Vec::new(),
        }
    }
}

/// A device session, its director and the link between them, in virtual time.
struct Pair {
    now: Instant,
    delay: Duration,
    director: Director,
    device: DeviceSession,
    outbox_path: PathBuf,
    config: SessionConfig,
    clock: DeviceClock,
    saved_pairing: Option<Pairing>,
    /// In flight, with their arrival time.
    to_director: VecDeque<(Instant, ClientMsg)>,
    to_device: VecDeque<(Instant, ServerMsg)>,
    connected: bool,
    /// The link refuses connections (the director is down or unreachable).
    down: bool,
    /// Every firing the application was handed, by instance (across restarts).
    applied: BTreeMap<u64, u32>,
    /// The start the session planned for each firing: its scheduled start on the device's
    /// clock (if synchronised) and the start it hands the application, ms of device clock.
    starts: BTreeMap<u64, (Option<u64>, u64)>,
    /// Every event created, across restarts.
    created: BTreeMap<u64, DeviceEvent>,
    states: Vec<LinkState>,
    synced: Option<(PathBuf, [u8; 32])>,
    forgot_pairing: bool,
    /// Where the director answers now: a browse finds it there, a connection elsewhere fails.
    director_at: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Pair {
    fn new(config: SessionConfig, clock: DeviceClock, pairing: Option<Pairing>) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let outbox_path = dir.path().join("outbox.bin");
        let now = Instant::now();
        let outbox = Outbox::open(Some(&outbox_path)).expect("an outbox");
        let device = DeviceSession::new(config.clone(), clock, outbox, pairing.clone());
        Self {
            now,
            delay: Duration::from_millis(20),
            director: Director::new(now),
            device,
            outbox_path,
            config,
            clock,
            saved_pairing: pairing,
            to_director: VecDeque::new(),
            to_device: VecDeque::new(),
            connected: false,
            down: false,
            applied: BTreeMap::new(),
            starts: BTreeMap::new(),
            created: BTreeMap::new(),
            states: Vec::new(),
            synced: None,
            forgot_pairing: false,
            director_at: addr(),
            _dir: dir,
        }
    }

    fn paired(epoch: Instant) -> Self {
        Self::paired_at(epoch, Some(addr()))
    }

    /// A paired device given the director's address, or finding it on the network (`None`).
    fn paired_at(epoch: Instant, given: Option<SocketAddr>) -> Self {
        let director = Director::new(epoch);
        let config = SessionConfig {
            director: given,
            ..SessionConfig::new(DeviceId::from("tablette"), Role::Terminal)
        };
        let mut pair = Self::new(
            config,
            DeviceClock::skewed(epoch, 100_000, 0.0),
            Some(director.pairing()),
        );
        pair.director = director;
        pair.device.start(pair.now);
        pair.pump();
        pair
    }

    /// Drains the session's outputs: actions performed at once, transmits queued.
    fn pump(&mut self) {
        loop {
            let mut busy = false;
            while let Some(event) = self.device.poll_event() {
                busy = true;
                match event {
                    SessionEvent::Cue {
                        instance,
                        start_local_ms,
                        device_ms,
                        ..
                    } => {
                        *self.applied.entry(instance).or_insert(0) += 1;
                        self.starts.insert(instance, (start_local_ms, device_ms));
                    }
                    SessionEvent::State(state) => self.states.push(state),
                    SessionEvent::ContentSynced { dir, hash } => self.synced = Some((dir, hash)),
                    _ => {}
                }
            }
            while let Some(msg) = self.device.poll_transmit() {
                busy = true;
                if self.connected {
                    self.to_director.push_back((self.now + self.delay, msg));
                }
            }
            while let Some(action) = self.device.poll_action() {
                busy = true;
                self.perform(action);
            }
            if !busy {
                return;
            }
        }
    }

    fn perform(&mut self, action: Action) {
        let now = self.now;
        match action {
            Action::Discover => self.device.on_discovered(Ok(Some(self.director_at)), now),
            Action::Pair { code, .. } => {
                let result = if code == self::code() {
                    self.director.knows_device = true;
                    Ok(self.director.pairing())
                } else {
                    Err(LinkFailure {
                        refusal: Some(Refusal::WrongPairingCode),
                        message: "wrong code".into(),
                    })
                };
                self.device.on_paired(result, now);
            }
            Action::Connect { hello, addr, .. } => {
                if self.down || addr != self.director_at {
                    self.device.on_connect_failed(
                        &LinkFailure {
                            refusal: None,
                            message: "timed out".into(),
                        },
                        now,
                    );
                    return;
                }
                match self.director.welcome(&hello, now) {
                    Ok((in_sync, msgs)) => {
                        self.connected = true;
                        self.device.on_connected("Régie".into(), in_sync, 0, now);
                        for msg in msgs {
                            self.to_device.push_back((now + self.delay, msg));
                        }
                    }
                    Err(refusal) => self.device.on_connect_failed(
                        &LinkFailure {
                            refusal: Some(refusal),
                            message: "refused".into(),
                        },
                        now,
                    ),
                }
            }
            Action::Disconnect => self.cut_link(),
            Action::SavePairing(p) => self.saved_pairing = Some(p),
            Action::ForgetPairing => {
                self.saved_pairing = None;
                self.forgot_pairing = true;
            }
        }
    }

    fn cut_link(&mut self) {
        self.connected = false;
        self.to_director.clear();
        self.to_device.clear();
    }

    /// The laptop's network changes: the director answers at `to` from now on, and what was in
    /// flight to or from its old address vanishes without either side being told.
    fn move_director(&mut self, to: SocketAddr) {
        self.director_at = to;
        self.cut_link();
    }

    /// The link breaks: both sides notice.
    fn cut(&mut self) {
        if self.connected {
            self.cut_link();
            self.device.on_connection_lost("coupure", self.now);
            self.pump();
        }
    }

    /// The device restarts from its disk: outbox and saved pairing.
    fn restart_device(&mut self) {
        self.restart_device_with(None);
    }

    /// The device restarts from its disk, fetching content with `content` if given.
    fn restart_device_with(&mut self, content: Option<ContentSync>) {
        self.cut_link();
        // The old session lets go of its outbox first, as a process that ended would.
        let memory = Outbox::open(None).expect("an outbox in memory");
        self.device = DeviceSession::new(self.config.clone(), self.clock, memory, None);
        let outbox = Outbox::open(Some(&self.outbox_path)).expect("the outbox reopens");
        let mut device = DeviceSession::new(
            self.config.clone(),
            self.clock,
            outbox,
            self.saved_pairing.clone(),
        );
        if let Some(sync) = content {
            device = device.with_content(sync);
        }
        self.device = device;
        self.device.start(self.now);
        self.pump();
    }

    fn push(&mut self, event: DeviceEvent) {
        let seq = self.device.push_event(event.clone()).expect("stored");
        self.created.insert(seq, event);
        self.pump();
    }

    fn fire(&mut self) {
        let msg = self.director.fire(self.now);
        if self.connected {
            self.to_device.push_back((self.now + self.delay, msg));
        }
    }

    /// Runs the pair until `until`, delivering messages and deadlines in time order.
    fn run_until(&mut self, until: Instant) {
        loop {
            let next = [
                self.to_director.front().map(|(t, _)| *t),
                self.to_device.front().map(|(t, _)| *t),
                self.device.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(at) = next.filter(|at| *at <= until) else {
                self.now = until;
                return;
            };
            self.now = self.now.max(at);
            let now = self.now;
            if self.to_director.front().is_some_and(|(t, _)| *t <= now) {
                if let Some((_, msg)) = self.to_director.pop_front() {
                    for answer in self.director.handle(msg, now) {
                        self.to_device.push_back((now + self.delay, answer));
                    }
                }
            } else if self.to_device.front().is_some_and(|(t, _)| *t <= now) {
                if let Some((_, msg)) = self.to_device.pop_front() {
                    self.device.on_message(msg, now);
                }
            } else {
                self.device.handle_timeout(now);
            }
            self.pump();
        }
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }
}

fn event(n: u32) -> DeviceEvent {
    DeviceEvent::CueFinished {
        instance: u64::from(n) + 1_000_000,
    }
}

/// Many seeded runs of events, firings, cuts, silences and device restarts: nothing lost,
/// nothing logged twice, nothing applied twice.
#[test]
fn events_and_firings_survive_cuts_and_restarts_exactly_once() {
    for seed in 0..60 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut pair = Pair::paired(Instant::now());
        pair.delay = Duration::from_millis(rng.random_range(1..40));
        let mut made = 0;
        for _ in 0..60 {
            match rng.random_range(0..10) {
                0..=3 => {
                    made += 1;
                    pair.push(event(made));
                }
                4 | 5 => pair.fire(),
                6 => pair.cut(),
                7 => pair.restart_device(),
                8 => pair.down = rng.random_bool(0.5),
                _ => {}
            }
            let wait = rng.random_range(0..120);
            pair.run_for(Duration::from_millis(wait));
        }
        // Heal and let it settle.
        pair.down = false;
        pair.run_for(Duration::from_secs(10));
        assert!(pair.device.is_online(), "seed {seed}: online again");
        let logged: Vec<u64> = pair.director.log.iter().map(|(s, _)| *s).collect();
        let distinct: BTreeSet<u64> = logged.iter().copied().collect();
        assert_eq!(
            logged.len(),
            distinct.len(),
            "seed {seed}: an event logged twice"
        );
        for (seq, event) in &pair.created {
            let found = pair.director.log.iter().find(|(s, _)| s == seq);
            assert_eq!(
                found.map(|(_, e)| e),
                Some(event),
                "seed {seed}: event {seq} lost"
            );
        }
        for seq in &pair.device.stats().acked_seqs {
            assert!(
                distinct.contains(seq),
                "seed {seed}: acked {seq} not logged"
            );
        }
        assert!(
            pair.director.pending.is_empty(),
            "seed {seed}: firings never acknowledged: {:?}",
            pair.director.pending
        );
        for instance in 1..=pair.director.next_instance {
            assert_eq!(
                pair.applied.get(&instance),
                Some(&1),
                "seed {seed}: firing {instance} applied {:?} times",
                pair.applied.get(&instance)
            );
        }
        assert_eq!(
            pair.device.stats().pending,
            0,
            "seed {seed}: outbox drained"
        );
    }
}

#[test]
fn a_silent_director_is_dropped_and_joined_again() {
    let mut pair = Pair::paired(Instant::now());
    pair.run_for(Duration::from_secs(1));
    assert!(pair.device.is_online());
    pair.director.silent = true;
    pair.run_for(Duration::from_secs(4));
    assert!(
        pair.states.iter().any(
            |s| matches!(s, LinkState::Offline { reason } if reason.contains("plus de nouvelles"))
        ),
        "{:?}",
        pair.states
    );
    pair.director.silent = false;
    pair.run_for(Duration::from_secs(1));
    assert!(pair.device.is_online(), "{:?}", pair.states);
    assert_eq!(pair.device.stats().connections, 2);
}

/// The laptop's address changes mid-session (another Wi-Fi, a cable unplugged): a device that
/// found the director on the network goes silent, browses again, joins it at its new address,
/// and delivers what it noted meanwhile once. A device given the address by hand keeps trying
/// that address (and says it cannot reach it).
#[test]
fn a_director_whose_address_changes_is_found_again() {
    let mut pair = Pair::paired_at(Instant::now(), None);
    pair.run_for(Duration::from_secs(1));
    assert!(pair.device.is_online(), "{:?}", pair.states);
    pair.push(event(1));
    pair.run_for(Duration::from_millis(200));
    let moved = SocketAddr::from(([10, 0, 0, 7], 4433));
    pair.move_director(moved);
    for n in 2..=4 {
        pair.push(event(n));
        pair.run_for(Duration::from_millis(300));
    }
    pair.run_for(Duration::from_secs(6));
    assert!(pair.device.is_online(), "{:?}", pair.states);
    assert!(
        pair.states.iter().any(
            |s| matches!(s, LinkState::Offline { reason } if reason.contains("plus de nouvelles"))
        ),
        "the device said it lost the director: {:?}",
        pair.states
    );
    assert!(
        pair.states
            .iter()
            .any(|s| matches!(s, LinkState::Discovering)),
        "it browsed again: {:?}",
        pair.states
    );
    assert_eq!(pair.device.stats().connections, 2);
    let logged: Vec<u64> = pair.director.log.iter().map(|(s, _)| *s).collect();
    assert_eq!(logged, vec![1, 2, 3, 4], "each event once, in order");
    assert_eq!(pair.device.stats().pending, 0);

    // Given by hand, the old address stays: no browse, offline until it answers there again.
    let mut pair = Pair::paired(Instant::now());
    pair.run_for(Duration::from_secs(1));
    assert!(pair.device.is_online());
    pair.move_director(SocketAddr::from(([10, 0, 0, 7], 4433)));
    pair.push(event(1));
    pair.run_for(Duration::from_secs(8));
    assert!(!pair.device.is_online());
    assert!(
        !pair
            .states
            .iter()
            .any(|s| matches!(s, LinkState::Discovering))
    );
    assert_eq!(pair.device.stats().pending, 1, "kept in the outbox");
    pair.director_at = addr();
    pair.run_for(Duration::from_secs(2));
    assert!(pair.device.is_online());
    assert_eq!(pair.device.stats().pending, 0);
}

#[test]
fn the_clock_finds_the_directors_offset_and_drift() {
    let epoch = Instant::now();
    let mut pair = Pair::paired(epoch);
    pair.clock = DeviceClock::skewed(epoch, 100_000, 80.0);
    pair.restart_device();
    pair.run_for(Duration::from_secs(90));
    let estimate = pair.device.director_ms(pair.now).expect("an estimate");
    let truth = pair.director.clock_ms(pair.now);
    let error = estimate.abs_diff(truth);
    assert!(error <= 2, "estimate {estimate} against {truth}");
    assert!(pair.device.stats().clock.is_some_and(|c| c.samples > 0));
}

/// A cue sent ahead of its start (the director's lead) is handed to the application with the
/// start on the device's own clock: the true instant the director meant, within 2 ms, for a
/// clock 100 s off and drifting 80 ppm, a few seconds after connecting (the fast first
/// samples); a cue arriving after its start starts on arrival.
#[test]
fn a_cue_scheduled_ahead_starts_at_its_time_on_the_devices_clock() {
    let epoch = Instant::now();
    let mut pair = Pair::paired(epoch);
    pair.clock = DeviceClock::skewed(epoch, 100_000, 80.0);
    pair.restart_device();
    pair.run_for(Duration::from_secs(5));
    let samples = pair.device.stats().clock.map_or(0, |c| c.samples);
    assert!(
        samples >= boussole_protocol::clock::FAST_SAMPLES,
        "{samples} clock samples in the first 5 s"
    );
    let fired_at = pair.now;
    let msg = pair.director.fire_ahead(fired_at, 150);
    pair.to_device.push_back((fired_at + pair.delay, msg));
    pair.run_for(Duration::from_millis(100));
    let instance = pair.director.next_instance;
    let (scheduled, start) = pair.starts[&instance];
    assert_eq!(
        scheduled,
        Some(start),
        "received in time: starts when scheduled"
    );
    let true_start = pair.clock.instant_of(start as f64);
    let meant = fired_at + Duration::from_millis(150);
    let off = if true_start > meant {
        true_start - meant
    } else {
        meant - true_start
    };
    assert!(
        off <= Duration::from_millis(2),
        "{off:?} from the director's start"
    );

    // A lead shorter than the delivery: the cue starts on arrival, its late start known.
    let fired_at = pair.now;
    let msg = pair.director.fire_ahead(fired_at, 5);
    pair.to_device.push_back((fired_at + pair.delay, msg));
    pair.run_for(Duration::from_millis(100));
    let (scheduled, start) = pair.starts[&pair.director.next_instance];
    let arrived = pair.clock.local_ms(fired_at + pair.delay);
    assert_eq!(start, arrived, "started on arrival");
    assert!(scheduled.is_some_and(|s| s < start), "and known to be late");
}

#[test]
fn content_arrives_whole_across_cuts_and_is_presented_afterwards() {
    let mut pair = Pair::paired(Instant::now());
    for i in 0..5u8 {
        let bytes: Vec<u8> = (0..150_000u32).map(|n| (n % 251) as u8 ^ i).collect();
        pair.director
            .files
            .insert(format!("content/scenarios/f{i}.ron"), bytes);
    }
    let hash = pair.director.manifest().hash();
    let sync = ContentSync::open(&pair._dir.path().join("content"), SyncConfig::default())
        .expect("a content folder");
    pair.restart_device_with(Some(sync));
    pair.run_for(Duration::from_millis(70));
    pair.cut();
    pair.run_for(Duration::from_millis(120));
    pair.cut();
    pair.run_for(Duration::from_secs(5));
    let (dir, synced) = pair.synced.clone().expect("the content arrived");
    assert_eq!(synced, hash);
    for (path, bytes) in &pair.director.files {
        let got = std::fs::read(dir.join(path)).expect("the file is in the tree");
        assert!(got == *bytes, "{path} differs");
    }
    assert_eq!(pair.device.stats().synced_content, Some(hash));
    assert_eq!(pair.device.hello().map(|h| h.content_hash), Some(hash));
    // The next welcome finds it in sync and nothing is asked again.
    let chunks = pair.device.stats().chunks;
    pair.cut();
    pair.run_for(Duration::from_secs(1));
    assert_eq!(pair.device.stats().content_in_sync, Some(true));
    assert_eq!(pair.device.stats().chunks, chunks);
}

#[test]
fn a_code_pairs_a_wrong_one_is_asked_again() {
    let epoch = Instant::now();
    let config = SessionConfig {
        pairing_code: Some(PairingCode::parse("000111").expect("a code")),
        ..SessionConfig::new(DeviceId::from("casque_1"), Role::Headset)
    };
    let mut pair = Pair::new(config, DeviceClock::new(epoch), None);
    pair.device.start(pair.now);
    pair.pump();
    assert!(
        matches!(pair.states.last(), Some(LinkState::NeedsCode { error: Some(e) }) if e.contains("code erroné")),
        "{:?}",
        pair.states
    );
    pair.device.pair_with(code(), pair.now);
    pair.pump();
    pair.run_for(Duration::from_millis(100));
    assert!(pair.device.is_online(), "{:?}", pair.states);
    assert!(pair.saved_pairing.is_some(), "the pairing is saved");
}

#[test]
fn a_forgotten_device_says_so_asks_for_the_code_and_keeps_its_outbox() {
    let mut pair = Pair::paired(Instant::now());
    pair.run_for(Duration::from_millis(100));
    pair.cut();
    pair.director.knows_device = false;
    pair.director.token = DeviceToken::from_bytes([4; 32]);
    // Events made while away, before the re-pairing.
    pair.push(event(1));
    pair.push(event(2));
    pair.run_for(Duration::from_secs(1));
    assert!(pair.forgot_pairing, "the saved pairing is deleted");
    assert!(
        matches!(pair.states.last(), Some(LinkState::NeedsCode { error: Some(e) }) if e.contains("ne reconnaît plus")),
        "{:?}",
        pair.states
    );
    pair.device.pair_with(code(), pair.now);
    pair.pump();
    pair.run_for(Duration::from_secs(1));
    assert!(pair.device.is_online());
    let logged: Vec<&DeviceEvent> = pair.director.log.iter().map(|(_, e)| e).collect();
    assert_eq!(logged, vec![&event(1), &event(2)]);
}

/// The director's clock jumps (a restarted director starts a new session clock): the
/// estimate starts over and follows it, and no cue is acknowledged at a time before the
/// one acknowledged just before.
#[test]
fn a_clock_that_jumps_is_resynchronised() {
    let mut pair = Pair::paired(Instant::now());
    pair.run_for(Duration::from_secs(20));
    pair.fire();
    pair.run_for(Duration::from_secs(1));
    pair.director.offset_ms += 60_000;
    pair.run_for(Duration::from_secs(10));
    pair.fire();
    pair.run_for(Duration::from_secs(1));
    let estimate = pair.device.director_ms(pair.now).expect("an estimate");
    let truth = pair.director.clock_ms(pair.now);
    assert!(
        estimate.abs_diff(truth) <= 2,
        "estimate {estimate} against {truth}"
    );
    let times: Vec<u64> = pair
        .director
        .log
        .iter()
        .filter_map(|(_, e)| match e {
            DeviceEvent::CueApplied { device_ms, .. } => Some(*device_ms),
            _ => None,
        })
        .collect();
    assert_eq!(times.len(), 2);
    assert!(times[0] <= times[1], "{times:?}");
}
