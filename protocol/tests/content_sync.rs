//! `ContentSync` against an in-memory director, in virtual time: a clean sync, loss,
//! duplicates and reordering with connection cuts, a crash and a resume on the same folder, a
//! corrupt chunk, a file that never matches, a full disk, an update that fetches only what
//! changed, a manifest with an unsafe path, a file the director no longer holds.

mod common;

use boussole_protocol::content_sync::{
    ContentSync, Disk, MAX_ATTEMPTS, RealDisk, SyncConfig, SyncError, SyncEvent,
};
use boussole_protocol::manifest::{FileEntry, Manifest, hash_bytes};
use boussole_protocol::wire::{ClientMsg, ServerMsg};
use common::manifest_of;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Files of a small content set: a few RON files, voices, a film larger than many chunks, an
/// empty file and two paths with the same bytes.
fn files(version: u8) -> Vec<(String, Vec<u8>)> {
    let mut film = vec![0u8; 700_000];
    for (i, b) in film.iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    vec![
        (
            "content/scenarios/a.ron".into(),
            format!("(id: \"a\", v: {version})").into_bytes(),
        ),
        ("content/grids/g.ron".into(), b"(id: \"g\")".to_vec()),
        ("assets/audio/x/1.wav".into(), vec![1; 90_000]),
        ("assets/audio/x/2.wav".into(), vec![2; 70_000]),
        ("assets/audio/y/same.wav".into(), vec![2; 70_000]),
        ("assets/pictograms/p.svg".into(), b"<svg/>".to_vec()),
        ("assets/empty.txt".into(), Vec::new()),
        ("assets/videos/film.webm".into(), film),
    ]
}

/// Seeded xorshift: the faults are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// How the in-memory link misbehaves.
#[derive(Clone, Copy, Default)]
struct Faults {
    loss: f64,
    duplicate: f64,
    /// Delay each way, drawn up to this (reorders).
    max_delay_ms: u64,
    /// A cut every this many ms (the connection drops and comes back 200 ms later).
    cut_every_ms: Option<u64>,
}

/// The director's side: the files by hash, the manifest, and a corruption to play.
struct Director {
    manifest: Manifest,
    by_hash: BTreeMap<[u8; 32], Vec<u8>>,
    /// Flip a byte in the next `n` answers for this file.
    corrupt: Option<([u8; 32], u32)>,
    /// Files asked for, by hash, and bytes sent.
    asked: BTreeMap<[u8; 32], u64>,
    /// Sent for the first manifest request instead of `manifest` (content changed since).
    stale: Option<Manifest>,
}

impl Director {
    fn new(files: &[(String, Vec<u8>)]) -> Self {
        Self {
            manifest: manifest_of(files.iter().map(|(p, b)| (p, b))),
            by_hash: files
                .iter()
                .map(|(_, b)| (hash_bytes(b), b.clone()))
                .collect(),
            corrupt: None,
            asked: BTreeMap::new(),
            stale: None,
        }
    }

    #[expect(clippy::panic, reason = "test helper: its failure is the test's")]
    fn answer(&mut self, msg: ClientMsg) -> Option<ServerMsg> {
        match msg {
            ClientMsg::ManifestRequest => Some(ServerMsg::Manifest(
                self.stale.take().unwrap_or_else(|| self.manifest.clone()),
            )),
            ClientMsg::FileRequest { hash, offset, len } => {
                let Some(file) = self.by_hash.get(&hash) else {
                    return Some(ServerMsg::FileUnavailable { hash });
                };
                let start = usize::try_from(offset).ok()?.min(file.len());
                let end = (start + len as usize).min(file.len());
                let mut bytes = file.get(start..end)?.to_vec();
                *self.asked.entry(hash).or_default() += bytes.len() as u64;
                if let Some((h, n)) = self.corrupt.as_mut()
                    && *h == hash
                    && *n > 0
                    && let Some(b) = bytes.first_mut()
                {
                    *b ^= 0xff;
                    *n -= 1;
                }
                Some(ServerMsg::FileChunk {
                    hash,
                    offset,
                    bytes,
                })
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// What a run saw.
#[derive(Debug, Default)]
struct Seen {
    completes: Vec<(PathBuf, [u8; 32])>,
    errors: Vec<String>,
    mismatches: usize,
    gave_up: bool,
    disk_full: bool,
    unavailable: usize,
    progress: usize,
    elapsed: Duration,
}

/// Plays `sync` against `director` through `faults` until a `Complete`, an error that stops
/// the sync, or `stop_after_bytes` bytes answered (a "crash"), within 10 minutes of virtual
/// time.
#[expect(clippy::expect_used, reason = "test helper: its failure is the test's")]
fn run<D: Disk>(
    sync: &mut ContentSync<D>,
    director: &mut Director,
    faults: Faults,
    seed: u64,
    stop_after_bytes: Option<u64>,
) -> Seen {
    let t0 = Instant::now();
    let mut now = t0;
    let mut rng = Rng(seed | 1);
    let mut seen = Seen::default();
    // (deliver at, order, message, to the director?, connection number)
    let mut wire: BinaryHeap<Reverse<(Instant, u64, usize)>> = BinaryHeap::new();
    let mut store: BTreeMap<usize, (bool, u32, Msg)> = BTreeMap::new();
    let mut order = 0u64;
    let mut conn = 1u32;
    let mut online = true;
    let mut next_cut = faults.cut_every_ms.map(|ms| t0 + Duration::from_millis(ms));
    let mut back_at: Option<Instant> = None;
    let mut answered = 0u64;
    sync.on_connected(false, now);
    let limit = t0 + Duration::from_secs(600);
    let mut send = |wire: &mut BinaryHeap<_>,
                    store: &mut BTreeMap<usize, _>,
                    rng: &mut Rng,
                    now: Instant,
                    to_director: bool,
                    conn: u32,
                    msg: Msg| {
        if rng.chance(faults.loss) {
            return;
        }
        let copies = if rng.chance(faults.duplicate) { 2 } else { 1 };
        for _ in 0..copies {
            order += 1;
            let at = now + Duration::from_millis(1 + rng.below(faults.max_delay_ms + 1));
            let key = order as usize;
            store.insert(key, (to_director, conn, msg.clone()));
            wire.push(Reverse((at, order, key)));
        }
    };
    loop {
        if online {
            while let Some(msg) = sync.poll_transmit(now) {
                send(
                    &mut wire,
                    &mut store,
                    &mut rng,
                    now,
                    true,
                    conn,
                    Msg::C(msg),
                );
            }
        }
        while let Some(ev) = sync.poll_event() {
            match ev {
                SyncEvent::Complete { dir, manifest } => seen.completes.push((dir, manifest)),
                SyncEvent::Progress { .. } => seen.progress += 1,
                SyncEvent::Error(e) => {
                    match &e {
                        SyncError::HashMismatch { .. } => seen.mismatches += 1,
                        SyncError::GaveUp { .. } => seen.gave_up = true,
                        SyncError::Unavailable { .. } => seen.unavailable += 1,
                        _ => {}
                    }
                    seen.disk_full |= e.is_disk_full();
                    seen.errors.push(e.to_string());
                }
            }
        }
        if !seen.completes.is_empty() || seen.gave_up || seen.disk_full {
            seen.elapsed = now - t0;
            return seen;
        }
        if stop_after_bytes.is_some_and(|b| answered >= b) {
            seen.elapsed = now - t0;
            return seen;
        }
        assert!(now < limit, "no end in 10 min of virtual time: {seen:?}");
        // The next thing to happen.
        let next = [
            wire.peek().map(|Reverse((at, _, _))| *at),
            sync.poll_timeout(),
            next_cut,
            back_at,
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("something to wait for");
        now = now.max(next);
        if next_cut.is_some_and(|c| c <= now) {
            online = false;
            conn += 1;
            sync.on_disconnected();
            back_at = Some(now + Duration::from_millis(200));
            next_cut = faults
                .cut_every_ms
                .map(|ms| now + Duration::from_millis(ms));
        }
        if back_at.is_some_and(|b| b <= now) {
            back_at = None;
            online = true;
            sync.on_connected(false, now);
        }
        sync.handle_timeout(now);
        while let Some(Reverse((at, _, key))) = wire.peek().copied() {
            if at > now {
                break;
            }
            wire.pop();
            let Some((to_director, c, msg)) = store.remove(&key) else {
                continue;
            };
            // What was in flight on a dropped connection never arrives.
            if c != conn || !online {
                continue;
            }
            match msg {
                Msg::C(m) if to_director => {
                    if let Some(reply) = director.answer(m) {
                        if let ServerMsg::FileChunk { bytes, .. } = &reply {
                            answered += bytes.len() as u64;
                        }
                        send(
                            &mut wire,
                            &mut store,
                            &mut rng,
                            now,
                            false,
                            conn,
                            Msg::S(reply),
                        );
                    }
                }
                Msg::S(ServerMsg::Manifest(m)) => sync.on_manifest(m, now),
                Msg::S(ServerMsg::FileChunk {
                    hash,
                    offset,
                    bytes,
                }) => sync.on_chunk(hash, offset, bytes, now),
                Msg::S(ServerMsg::FileUnavailable { hash }) => sync.on_unavailable(hash),
                _ => {}
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Msg {
    C(ClientMsg),
    S(ServerMsg),
}

/// Every file of `files` is in `dir` with its bytes, and nothing else.
#[expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test helper: its failure is the test's"
)]
fn assert_tree(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (path, bytes) in files {
        let got = std::fs::read(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(got == *bytes, "{path} differs");
    }
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("a folder") {
            let p = e.expect("an entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                count += 1;
            }
        }
    }
    assert_eq!(
        count,
        files.len(),
        "only the manifest's files in {}",
        dir.display()
    );
}

#[expect(clippy::expect_used, reason = "test helper: its failure is the test's")]
fn open(dir: &Path) -> ContentSync {
    ContentSync::open(dir, SyncConfig::default()).expect("opens")
}

#[test]
fn a_clean_sync_builds_the_tree_and_survives_a_reopen() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let mut director = Director::new(&v1);
    let mut sync = open(tmp.path());
    assert!(sync.current().is_none());
    let seen = run(&mut sync, &mut director, Faults::default(), 1, None);
    let (dir, hash) = seen.completes.first().cloned().expect("complete");
    assert_eq!(hash, director.manifest.hash());
    assert_tree(&dir, &v1);
    assert!(seen.errors.is_empty(), "{seen:?}");
    // The two identical voices are fetched once; every byte once.
    let unique: u64 = director.by_hash.values().map(|b| b.len() as u64).sum();
    assert_eq!(director.asked.values().sum::<u64>(), unique);
    assert_eq!(sync.current(), Some((dir.clone(), hash)));
    drop(sync);
    let again = open(tmp.path());
    assert_eq!(again.current(), Some((dir, hash)), "kept across a restart");
}

#[test]
fn loss_duplicates_reordering_and_cuts_still_give_the_verified_tree() {
    let v1 = files(1);
    for seed in [3, 17, 2026] {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut director = Director::new(&v1);
        let mut sync = open(tmp.path());
        let faults = Faults {
            loss: 0.1,
            duplicate: 0.1,
            max_delay_ms: 40,
            cut_every_ms: Some(700),
        };
        let seen = run(&mut sync, &mut director, faults, seed, None);
        let (dir, hash) = seen.completes.first().cloned().expect("complete");
        assert_eq!(hash, director.manifest.hash(), "seed {seed}");
        assert_tree(&dir, &v1);
        assert_eq!(seen.mismatches, 0, "seed {seed}: {seen:?}");
        assert!(
            sync.duplicates() > 0,
            "seed {seed}: duplicates were seen and ignored"
        );
    }
}

#[test]
fn a_crash_mid_download_resumes_from_the_parts_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let mut director = Director::new(&v1);
    let total: u64 = director.by_hash.values().map(|b| b.len() as u64).sum();
    let mut sync = open(tmp.path());
    let first = run(
        &mut sync,
        &mut director,
        Faults::default(),
        5,
        Some(total / 2),
    );
    assert!(first.completes.is_empty());
    drop(sync); // the crash: nothing but the folder is kept
    let before: u64 = director.asked.values().sum();
    let mut sync = open(tmp.path());
    assert!(sync.current().is_none(), "no tree from an unfinished sync");
    let seen = run(&mut sync, &mut director, Faults::default(), 6, None);
    let (dir, _) = seen.completes.first().cloned().expect("complete");
    assert_tree(&dir, &v1);
    let after: u64 = director.asked.values().sum::<u64>() - before;
    // What arrived before the crash but was still in flight (at most a window) is fetched
    // again; nothing written is.
    assert!(
        after < total - total / 2 + 8 * 64 * 1024,
        "resumed: {after} bytes fetched after the crash, of {total}"
    );
}

#[test]
fn a_part_with_wrong_bytes_left_by_a_crash_is_never_used() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let mut director = Director::new(&v1);
    let film = director
        .manifest
        .get("assets/videos/film.webm")
        .cloned()
        .expect("film");
    std::fs::create_dir_all(tmp.path().join("files")).expect("mkdir");
    std::fs::write(
        tmp.path().join("files").join(format!(
            "{}.part",
            boussole_protocol::manifest::hex(&film.hash)
        )),
        vec![9u8; 100_000],
    )
    .expect("write");
    let mut sync = open(tmp.path());
    let seen = run(&mut sync, &mut director, Faults::default(), 7, None);
    let (dir, _) = seen.completes.first().cloned().expect("complete");
    assert_eq!(seen.mismatches, 1, "the bad part is found out: {seen:?}");
    assert_tree(&dir, &v1);
}

#[test]
fn a_corrupt_chunk_is_reported_and_the_file_fetched_again() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let mut director = Director::new(&v1);
    let film = director
        .manifest
        .get("assets/videos/film.webm")
        .cloned()
        .expect("film");
    director.corrupt = Some((film.hash, 1));
    let mut sync = open(tmp.path());
    let seen = run(&mut sync, &mut director, Faults::default(), 8, None);
    assert_eq!(seen.mismatches, 1, "{seen:?}");
    assert!(
        seen.errors
            .iter()
            .any(|e| e.contains("assets/videos/film.webm")),
        "{seen:?}"
    );
    let (dir, _) = seen.completes.first().cloned().expect("complete");
    assert_tree(&dir, &v1);
    assert_eq!(director.asked.get(&film.hash), Some(&(2 * film.size)));
}

#[test]
fn a_file_that_never_matches_stops_the_sync_after_the_last_attempt() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let mut director = Director::new(&v1);
    let film = director
        .manifest
        .get("assets/videos/film.webm")
        .cloned()
        .expect("film");
    director.corrupt = Some((film.hash, u32::MAX));
    let mut sync = open(tmp.path());
    let seen = run(&mut sync, &mut director, Faults::default(), 9, None);
    assert!(seen.gave_up, "{seen:?}");
    assert_eq!(seen.mismatches, MAX_ATTEMPTS as usize);
    assert!(seen.completes.is_empty() && sync.current().is_none());
}

/// A disk that is full after `room` bytes.
struct FullDisk {
    room: u64,
}

impl Disk for FullDisk {
    fn append(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        if bytes.len() as u64 > self.room {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device",
            ));
        }
        self.room -= bytes.len() as u64;
        RealDisk.append(path, bytes)
    }

    fn place(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        RealDisk.place(from, to)
    }
}

#[test]
fn a_full_disk_is_reported_the_old_content_kept_and_the_sync_resumed_later() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let mut director = Director::new(&v1);
    let mut sync = open(tmp.path());
    let (old_dir, old_hash) = run(&mut sync, &mut director, Faults::default(), 10, None)
        .completes
        .first()
        .cloned()
        .expect("v1");
    drop(sync);
    // Version 2 changes the film: it does not fit.
    let mut v2 = files(2);
    if let Some((_, film)) = v2.iter_mut().find(|(p, _)| p.ends_with("film.webm")) {
        film.iter_mut().for_each(|b| *b = b.wrapping_add(1));
    }
    let mut director = Director::new(&v2);
    let mut sync = ContentSync::open_with(
        tmp.path(),
        SyncConfig::default(),
        FullDisk { room: 300_000 },
    )
    .expect("opens");
    let seen = run(&mut sync, &mut director, Faults::default(), 11, None);
    assert!(seen.disk_full, "{seen:?}");
    assert!(
        seen.errors.iter().any(|e| e.contains("no space left")),
        "{seen:?}"
    );
    assert_eq!(
        sync.current(),
        Some((old_dir.clone(), old_hash)),
        "v1 still in use"
    );
    assert_tree(&old_dir, &v1);
    drop(sync);
    // Space was made: the sync resumes and finishes.
    let mut sync = open(tmp.path());
    let seen = run(&mut sync, &mut director, Faults::default(), 12, None);
    let (dir, hash) = seen.completes.first().cloned().expect("v2");
    assert_eq!(hash, director.manifest.hash());
    assert_tree(&dir, &v2);
}

#[test]
fn an_update_fetches_only_the_files_that_changed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let mut director = Director::new(&v1);
    let mut sync = open(tmp.path());
    let (dir1, _) = run(&mut sync, &mut director, Faults::default(), 13, None)
        .completes
        .first()
        .cloned()
        .expect("v1");
    // A one-word fix in the scenario.
    let v2 = files(2);
    let mut director = Director::new(&v2);
    let seen = run(&mut sync, &mut director, Faults::default(), 14, None);
    let (dir2, hash2) = seen.completes.first().cloned().expect("v2");
    assert_eq!(hash2, director.manifest.hash());
    assert_tree(&dir2, &v2);
    let changed = director
        .manifest
        .get("content/scenarios/a.ron")
        .map(|f| f.hash)
        .expect("the scenario");
    assert_eq!(
        director.asked.keys().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([changed]),
        "only the scenario was fetched again"
    );
    assert!(
        dir1.is_dir(),
        "the tree in use until now stays until the next update"
    );
    assert_tree(&dir1, &v1);
    // A third version removes the first tree.
    let v3 = files(3);
    let mut director = Director::new(&v3);
    run(&mut sync, &mut director, Faults::default(), 15, None);
    assert!(
        !dir1.exists(),
        "the tree before the previous one is removed"
    );
}

#[test]
fn a_manifest_with_an_unsafe_path_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut sync = open(tmp.path());
    let bad = vec![FileEntry {
        path: "../../etc/passwd".into(),
        size: 4,
        hash: hash_bytes(b"root"),
    }];
    let manifest: Manifest =
        postcard::from_bytes(&postcard::to_stdvec(&bad).expect("encode")).expect("decode");
    let now = Instant::now();
    sync.on_connected(false, now);
    assert!(matches!(
        sync.poll_transmit(now),
        Some(ClientMsg::ManifestRequest)
    ));
    sync.on_manifest(manifest, now);
    assert!(matches!(
        sync.poll_event(),
        Some(SyncEvent::Error(SyncError::BadManifest(_)))
    ));
    assert!(sync.poll_transmit(now).is_none(), "nothing asked for it");
}

#[test]
fn a_file_the_director_no_longer_holds_makes_the_device_ask_for_the_manifest_again() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let v2 = files(2);
    // The director changed its content after sending the v1 manifest: it holds v2's files.
    let mut director = Director::new(&v2);
    director.stale = Some(manifest_of(v1.iter().map(|(p, b)| (p, b))));
    let mut sync = open(tmp.path());
    let seen = run(&mut sync, &mut director, Faults::default(), 16, None);
    assert!(seen.unavailable >= 1, "{seen:?}");
    let (dir, hash) = seen.completes.first().cloned().expect("v2 in the end");
    assert_eq!(hash, director.manifest.hash());
    assert_tree(&dir, &v2);
}

#[test]
fn requests_keep_a_window_of_chunks_in_flight() {
    let tmp = tempfile::tempdir().expect("tmp");
    let v1 = files(1);
    let director = Director::new(&v1);
    let mut sync = open(tmp.path());
    let now = Instant::now();
    sync.on_connected(false, now);
    let _ = sync.poll_transmit(now);
    sync.on_manifest(director.manifest.clone(), now);
    let mut requests = Vec::new();
    while let Some(m) = sync.poll_transmit(now) {
        requests.push(m);
    }
    assert_eq!(requests.len(), SyncConfig::default().window, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|m| matches!(m, ClientMsg::FileRequest { len, .. } if *len <= 64 * 1024))
    );
    // Unanswered, they are asked again after the retry delay, not before.
    sync.handle_timeout(now + Duration::from_secs(9));
    assert!(sync.poll_transmit(now + Duration::from_secs(9)).is_none());
    let later = now + SyncConfig::default().retry_after;
    assert_eq!(sync.poll_timeout(), Some(later));
    sync.handle_timeout(later);
    let mut again = 0;
    while sync.poll_transmit(later).is_some() {
        again += 1;
    }
    assert_eq!(again, SyncConfig::default().window);
}
