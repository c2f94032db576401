//! The device side of content by file, without I/O but file writes: [`ContentSync`] is fed the
//! role's [`Manifest`] and the file chunks that arrive, says which requests to send (several
//! chunks in flight), streams each file to `files/<hash>.part`, checks its SHA-256 before
//! moving it into the content-addressed store `files/<hash>`, and once every file is there
//! builds the role's tree (`trees/<manifest hash>/content/…`, `…/assets/…`, hard links into the
//! store) and switches `current` to it in one rename.
//!
//! ```text
//! driver ── on_connected / on_manifest / on_chunk / on_unavailable / handle_timeout(now) ──► ContentSync
//!        ◄── poll_transmit(now) → ClientMsg (ManifestRequest, FileRequest)
//!        ◄── poll_event() → Progress | Complete { dir, manifest } | Error
//! ```
//!
//! Nothing unverified is ever used: a `.part` kept from before a crash is resumed and the whole
//! file checked; a file whose hash does not match is reported and fetched again (up to
//! [`MAX_ATTEMPTS`] times). A write that fails (a full disk) is reported and stops the sync,
//! keeping the content in use; the next connection resumes it. Time comes in with each call
//! (`now`), so tests run in virtual time.

use crate::content_path::check_path;
use crate::manifest::{FileEntry, Manifest, hex};
use crate::wire::{ClientMsg, MAX_FILE_CHUNK};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How many times a file whose bytes never match its hash is fetched before giving up.
pub const MAX_ATTEMPTS: u32 = 3;

/// How a [`ContentSync`] asks for chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// Chunk requests in flight at once (8).
    pub window: usize,
    /// Bytes per request (64 KiB; at most [`MAX_FILE_CHUNK`]).
    pub chunk_len: u32,
    /// A request unanswered this long is sent again (10 s): on a live QUIC connection nothing
    /// is lost, so this only catches a request the director dropped (it bounds what it queues
    /// per connection).
    pub retry_after: Duration,
    /// A manifest request unanswered this long is sent again (5 s).
    pub manifest_retry: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            window: 8,
            chunk_len: 64 * 1024,
            retry_after: Duration::from_secs(10),
            manifest_retry: Duration::from_secs(5),
        }
    }
}

/// Where the bytes go; the real one is [`RealDisk`], tests inject failures (a full disk).
pub trait Disk {
    /// Appends `bytes` to the file at `path`, creating it if needed.
    ///
    /// # Errors
    /// What the system said (`StorageFull` for a full disk).
    fn append(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()>;

    /// Makes `to` hold the bytes of the verified store file `from` (a hard link, else a copy).
    ///
    /// # Errors
    /// What the system said.
    fn place(&mut self, from: &Path, to: &Path) -> io::Result<()>;
}

/// The file system: `append` opens the file in append mode, `place` hard-links and copies
/// where the file system has no hard links.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealDisk;

impl Disk for RealDisk {
    fn append(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?
            .write_all(bytes)
    }

    fn place(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        match fs::hard_link(from, to) {
            Ok(()) => Ok(()),
            Err(_) => fs::copy(from, to).map(|_| ()),
        }
    }
}

/// What a [`ContentSync`] has to tell its driver.
#[derive(Debug)]
pub enum SyncEvent {
    /// A file was verified and stored. Counts are of distinct files (by hash) still to fetch
    /// when the manifest came, bytes of those files.
    Progress {
        /// Files stored so far.
        files_done: usize,
        /// Files to fetch.
        files: usize,
        /// Bytes written so far (resumed `.part` bytes included).
        bytes_done: u64,
        /// Bytes to fetch.
        bytes: u64,
    },
    /// Every file of the manifest is verified and the role's tree is at `dir` (`dir/content`,
    /// `dir/assets`); it stays there until a newer tree replaces it and the one after that
    /// comes.
    Complete {
        /// The tree.
        dir: PathBuf,
        /// [`Manifest::hash`] of what it holds: present it in the next `Hello`.
        manifest: [u8; 32],
    },
    /// Something went wrong; see [`SyncError`] for what the sync does next.
    Error(SyncError),
}

/// What went wrong during a sync.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The manifest breaks a rule (unsafe path, order, limits): it is ignored.
    #[error("content sync: manifest refused: {0}")]
    BadManifest(#[from] crate::manifest::ManifestError),
    /// A file's bytes did not hash to what the manifest says: it is fetched again.
    #[error("content sync: {path}: hash {got} instead of {expected}; fetching it again")]
    HashMismatch {
        /// The file (its first path in the manifest).
        path: String,
        /// What the manifest says, hex.
        expected: String,
        /// What arrived, hex.
        got: String,
    },
    /// A file never matched its hash in [`MAX_ATTEMPTS`] downloads: the sync stops, the
    /// content in use stays; the next connection tries again.
    #[error("content sync: {path}: {attempts} downloads never matched its hash; sync stopped")]
    GaveUp {
        /// The file.
        path: String,
        /// Downloads tried.
        attempts: u32,
    },
    /// Writing failed (a full disk: [`SyncError::is_disk_full`]): the sync stops, the content
    /// in use and the verified files stay; the next connection resumes it.
    #[error("content sync: writing {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The director holds no file with this hash any more (its content changed): the manifest
    /// is asked for again.
    #[error("content sync: the director no longer holds {path}; asking for its manifest again")]
    Unavailable {
        /// The file.
        path: String,
    },
}

impl SyncError {
    /// Whether this is a write that failed for lack of space.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Self::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull)
    }
}

/// One file being fetched.
#[derive(Debug)]
struct Fetch {
    /// Its first path in the manifest, for messages.
    path: String,
    size: u64,
    /// Bytes in the `.part` file, in order from 0.
    written: u64,
    /// Next offset never asked for.
    next: u64,
    /// Over the `written` bytes.
    hasher: Sha256,
    /// Chunks received beyond `written`, by offset.
    early: BTreeMap<u64, Vec<u8>>,
    /// Offsets to ask for again (timed out, or asked on a lost connection).
    again: BTreeSet<u64>,
    attempts: u32,
}

#[derive(Debug)]
struct Target {
    manifest: Manifest,
    hash: [u8; 32],
    /// Files not started yet, in manifest order.
    todo: VecDeque<[u8; 32]>,
    /// Files started.
    fetches: BTreeMap<[u8; 32], Fetch>,
    /// Requests sent and not answered: `(file, offset)` → when sent.
    inflight: BTreeMap<([u8; 32], u64), Instant>,
    files: usize,
    files_done: usize,
    bytes: u64,
    bytes_done: u64,
}

/// The device's content, by file. See the module's documentation.
#[derive(Debug)]
pub struct ContentSync<D: Disk = RealDisk> {
    root: PathBuf,
    disk: D,
    config: SyncConfig,
    connected: bool,
    current: Option<Manifest>,
    target: Option<Target>,
    /// A manifest request is due (sent when connected).
    want_manifest: bool,
    manifest_asked: Option<Instant>,
    out: VecDeque<ClientMsg>,
    events: VecDeque<SyncEvent>,
    duplicates: u64,
}

impl ContentSync<RealDisk> {
    /// Opens the device's content under `root` (created if missing): the tree `current` points
    /// at, if any; `.part` files are kept to resume.
    ///
    /// # Errors
    /// [`SyncError::Io`] when `root` cannot be created or read.
    pub fn open(root: &Path, config: SyncConfig) -> Result<Self, SyncError> {
        Self::open_with(root, config, RealDisk)
    }
}

impl<D: Disk> ContentSync<D> {
    /// [`ContentSync::open`] writing through `disk`.
    ///
    /// # Errors
    /// [`SyncError::Io`] when `root` cannot be created or read.
    pub fn open_with(root: &Path, mut config: SyncConfig, disk: D) -> Result<Self, SyncError> {
        config.window = config.window.max(1);
        config.chunk_len = config.chunk_len.clamp(1, MAX_FILE_CHUNK);
        for dir in [root.join("files"), root.join("trees")] {
            fs::create_dir_all(&dir).map_err(|source| SyncError::Io { path: dir, source })?;
        }
        let current = read_current(root);
        Ok(Self {
            root: root.to_path_buf(),
            disk,
            config,
            connected: false,
            current,
            target: None,
            want_manifest: false,
            manifest_asked: None,
            out: VecDeque::new(),
            events: VecDeque::new(),
            duplicates: 0,
        })
    }

    /// The tree in use and its manifest's hash, if a sync ever completed.
    pub fn current(&self) -> Option<(PathBuf, [u8; 32])> {
        self.current.as_ref().map(|m| {
            let hash = m.hash();
            (self.tree_dir(&hash), hash)
        })
    }

    /// The manifest of the tree in use.
    pub fn current_manifest(&self) -> Option<&Manifest> {
        self.current.as_ref()
    }

    /// Whether files are being fetched (a manifest came and its files are not all stored).
    pub fn is_syncing(&self) -> bool {
        self.target.is_some() || self.want_manifest || self.manifest_asked.is_some()
    }

    /// Chunks that arrived for nothing asked (duplicates, late answers), so far.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// A connection was welcomed; `in_sync` is what the welcome said of the content. Out of
    /// sync, the manifest is asked for (again: the director's content may have changed), and
    /// the requests of a lost connection are sent again.
    pub fn on_connected(&mut self, in_sync: bool, _now: Instant) {
        self.connected = true;
        self.requeue_inflight();
        if in_sync {
            self.target = None;
            self.want_manifest = false;
            self.manifest_asked = None;
        } else {
            self.want_manifest = true;
        }
    }

    /// The connection is lost: nothing is sent until the next [`on_connected`](Self::on_connected).
    pub fn on_disconnected(&mut self) {
        self.connected = false;
        self.out.clear();
        self.requeue_inflight();
        if self.manifest_asked.take().is_some() {
            self.want_manifest = true;
        }
    }

    /// The role's manifest from the director: files already stored are kept, the others
    /// fetched (a fetch under way for a file still listed goes on); when none is missing the
    /// tree is built at once.
    pub fn on_manifest(&mut self, manifest: Manifest, now: Instant) {
        self.want_manifest = false;
        self.manifest_asked = None;
        if let Err(e) = manifest.check() {
            self.events.push_back(SyncEvent::Error(e.into()));
            return;
        }
        let hash = manifest.hash();
        if self.target.as_ref().is_some_and(|t| t.hash == hash) {
            return;
        }
        let mut old = self.target.take();
        let mut todo = VecDeque::new();
        let mut fetches = BTreeMap::new();
        let mut inflight = BTreeMap::new();
        let mut seen = BTreeSet::new();
        let mut bytes = 0;
        let mut bytes_done = 0;
        for f in manifest.files() {
            if !seen.insert(f.hash) || self.stored(&f.hash) {
                continue;
            }
            bytes += f.size;
            let kept = old.as_mut().and_then(|o| o.fetches.remove(&f.hash));
            if let Some(fetch) = kept {
                bytes_done += fetch.written;
                if let Some(o) = old.as_mut() {
                    let mine: Vec<_> = o
                        .inflight
                        .range((f.hash, 0)..=(f.hash, u64::MAX))
                        .map(|(k, v)| (*k, *v))
                        .collect();
                    inflight.extend(mine);
                }
                fetches.insert(f.hash, fetch);
            } else {
                todo.push_back(f.hash);
            }
        }
        let files = todo.len() + fetches.len();
        self.target = Some(Target {
            manifest,
            hash,
            todo,
            fetches,
            inflight,
            files,
            files_done: 0,
            bytes,
            bytes_done,
        });
        self.advance(now);
    }

    /// Bytes of the file `hash` from `offset`, as the director sent them. Anything not asked
    /// for (a duplicate, a late answer, the wrong length) is ignored.
    pub fn on_chunk(&mut self, hash: [u8; 32], offset: u64, bytes: Vec<u8>, now: Instant) {
        let chunk_len = u64::from(self.config.chunk_len);
        let Some(target) = self.target.as_mut() else {
            self.duplicates += 1;
            return;
        };
        let Some(fetch) = target.fetches.get_mut(&hash) else {
            self.duplicates += 1;
            return;
        };
        let expected = fetch.size.saturating_sub(offset).min(chunk_len);
        let wanted = offset >= fetch.written
            && offset < fetch.next
            && !fetch.early.contains_key(&offset)
            && bytes.len() as u64 == expected
            && expected > 0;
        if !wanted {
            self.duplicates += 1;
            return;
        }
        target.inflight.remove(&(hash, offset));
        fetch.again.remove(&offset);
        fetch.early.insert(offset, bytes);
        let part = part_path(&self.root, &hash);
        // Write what is contiguous from `written`.
        while let Some(bytes) = fetch.early.remove(&fetch.written) {
            if let Err(source) = self.disk.append(&part, &bytes) {
                fetch.early.insert(fetch.written, bytes);
                self.fail(SyncError::Io { path: part, source });
                return;
            }
            fetch.hasher.update(&bytes);
            fetch.written += bytes.len() as u64;
            target.bytes_done += bytes.len() as u64;
        }
        if fetch.written == fetch.size {
            self.finish_file(hash);
        }
        self.advance(now);
    }

    /// The director holds no file with `hash`: its content changed. The manifest is asked for
    /// again.
    pub fn on_unavailable(&mut self, hash: [u8; 32]) {
        let Some(target) = self.target.as_mut() else {
            return;
        };
        let Some(path) = target
            .manifest
            .files()
            .iter()
            .find(|f| f.hash == hash)
            .map(|f| f.path.clone())
        else {
            return;
        };
        target.inflight.retain(|(h, _), _| *h != hash);
        self.events
            .push_back(SyncEvent::Error(SyncError::Unavailable { path }));
        self.want_manifest = true;
    }

    /// Sends again what waited too long for an answer. Call it at
    /// [`poll_timeout`](Self::poll_timeout) (or any time).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(asked) = self.manifest_asked
            && now.saturating_duration_since(asked) >= self.config.manifest_retry
        {
            self.manifest_asked = None;
            self.want_manifest = true;
        }
        let retry = self.config.retry_after;
        if let Some(t) = self.target.as_mut() {
            let late: Vec<_> = t
                .inflight
                .iter()
                .filter(|(_, sent)| now.saturating_duration_since(**sent) >= retry)
                .map(|(k, _)| *k)
                .collect();
            for (hash, offset) in late {
                t.inflight.remove(&(hash, offset));
                if let Some(f) = t.fetches.get_mut(&hash) {
                    f.again.insert(offset);
                }
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) has something to do next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let manifest = self.manifest_asked.map(|t| t + self.config.manifest_retry);
        let chunk = self.target.as_ref().and_then(|t| {
            t.inflight
                .values()
                .min()
                .map(|t| *t + self.config.retry_after)
        });
        manifest.into_iter().chain(chunk).min()
    }

    /// The next message to send, if connected: the manifest request, then file requests up to
    /// the window.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<ClientMsg> {
        if !self.connected {
            return None;
        }
        if let Some(msg) = self.out.pop_front() {
            return Some(msg);
        }
        if self.want_manifest {
            self.want_manifest = false;
            self.manifest_asked = Some(now);
            return Some(ClientMsg::ManifestRequest);
        }
        let chunk_len = u64::from(self.config.chunk_len);
        let window = self.config.window;
        let target = self.target.as_mut()?;
        if target.inflight.len() >= window {
            return None;
        }
        let (hash, offset) = loop {
            // Asked again first, then the files started, then a new file.
            let again = target
                .fetches
                .iter_mut()
                .find_map(|(h, f)| f.again.pop_first().map(|o| (*h, o)));
            if let Some(found) = again {
                break found;
            }
            let next = target.fetches.iter_mut().find(|(_, f)| f.next < f.size);
            if let Some((h, f)) = next {
                let o = f.next;
                f.next = (o + chunk_len).min(f.size);
                break (*h, o);
            }
            let hash = target.todo.pop_front()?;
            let Some(entry) = target.manifest.files().iter().find(|f| f.hash == hash) else {
                continue;
            };
            let fetch = start_fetch(&self.root, entry);
            target.bytes_done += fetch.written;
            let whole = fetch.written == fetch.size;
            target.fetches.insert(hash, fetch);
            if whole {
                // Resumed whole (or an empty file): check it now, then ask for the next.
                self.finish_file(hash);
                self.advance(now);
                return self.poll_transmit(now);
            }
        };
        let len = u32::try_from(
            target
                .fetches
                .get(&hash)
                .map_or(0, |f| f.size.saturating_sub(offset).min(chunk_len)),
        )
        .unwrap_or(self.config.chunk_len);
        target.inflight.insert((hash, offset), now);
        Some(ClientMsg::FileRequest { hash, offset, len })
    }

    /// The next thing to tell the driver.
    pub fn poll_event(&mut self) -> Option<SyncEvent> {
        self.events.pop_front()
    }

    fn tree_dir(&self, manifest: &[u8; 32]) -> PathBuf {
        self.root.join("trees").join(hex(manifest))
    }

    fn stored(&self, hash: &[u8; 32]) -> bool {
        store_path(&self.root, hash).is_file()
    }

    fn requeue_inflight(&mut self) {
        if let Some(t) = self.target.as_mut() {
            for (hash, offset) in std::mem::take(&mut t.inflight).into_keys() {
                if let Some(f) = t.fetches.get_mut(&hash) {
                    f.again.insert(offset);
                }
            }
        }
    }

    fn fail(&mut self, error: SyncError) {
        // The verified files and the `.part` files stay: the next manifest resumes them.
        self.target = None;
        self.out.clear();
        self.events.push_back(SyncEvent::Error(error));
    }

    /// Checks a file whose bytes are all in its `.part` and stores it, or starts it again.
    fn finish_file(&mut self, hash: [u8; 32]) {
        let Some(target) = self.target.as_mut() else {
            return;
        };
        let Some(fetch) = target.fetches.remove(&hash) else {
            return;
        };
        let part = part_path(&self.root, &hash);
        let got: [u8; 32] = fetch.hasher.clone().finalize().into();
        if got == hash {
            let stored = store_path(&self.root, &hash);
            let done = fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&part)
                .and_then(|f| f.sync_all())
                .and_then(|()| fs::rename(&part, &stored));
            if let Err(source) = done {
                self.fail(SyncError::Io { path: part, source });
                return;
            }
            target.files_done += 1;
            self.events.push_back(SyncEvent::Progress {
                files_done: target.files_done,
                files: target.files,
                bytes_done: target.bytes_done,
                bytes: target.bytes,
            });
            return;
        }
        let _ = fs::remove_file(&part);
        target.bytes_done = target.bytes_done.saturating_sub(fetch.written);
        target.inflight.retain(|(h, _), _| *h != hash);
        let attempts = fetch.attempts + 1;
        self.events
            .push_back(SyncEvent::Error(SyncError::HashMismatch {
                path: fetch.path.clone(),
                expected: hex(&hash),
                got: hex(&got),
            }));
        if attempts >= MAX_ATTEMPTS {
            let path = fetch.path;
            self.fail(SyncError::GaveUp { path, attempts });
            return;
        }
        target.fetches.insert(
            hash,
            Fetch {
                attempts,
                ..fresh_fetch(fetch.path, fetch.size)
            },
        );
    }

    /// Builds the tree once every file is stored.
    fn advance(&mut self, _now: Instant) {
        let complete = self
            .target
            .as_ref()
            .is_some_and(|t| t.todo.is_empty() && t.fetches.is_empty());
        if !complete {
            return;
        }
        let Some(target) = self.target.take() else {
            return;
        };
        match self.materialise(&target.manifest, &target.hash) {
            Ok(dir) => {
                let before = self.current.replace(target.manifest).map(|m| m.hash());
                self.collect_garbage(&target.hash, before);
                self.events.push_back(SyncEvent::Complete {
                    dir,
                    manifest: target.hash,
                });
            }
            Err(e) => self.fail(e),
        }
    }

    /// `trees/<hash>.tmp` filled from the store, renamed to `trees/<hash>`, then `current`
    /// rewritten (a temporary file renamed over it) to name it.
    fn materialise(&mut self, manifest: &Manifest, hash: &[u8; 32]) -> Result<PathBuf, SyncError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SyncError::Io { path, source }
        };
        let dir = self.tree_dir(hash);
        if self.current.as_ref().is_some_and(|m| m.hash() == *hash) && dir.is_dir() {
            return Ok(dir);
        }
        let tmp = dir.with_extension("tmp");
        remove_dir_if_any(&tmp).map_err(io(&tmp))?;
        for f in manifest.files() {
            check_path(&f.path).map_err(|e| SyncError::Io {
                path: PathBuf::from(&f.path),
                source: io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
            })?;
            let to = f.path.split('/').fold(tmp.clone(), |p, part| p.join(part));
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            let from = store_path(&self.root, &f.hash);
            if let Err(source) = self.disk.place(&from, &to) {
                let _ = fs::remove_dir_all(&tmp);
                return Err(SyncError::Io { path: to, source });
            }
        }
        fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        remove_dir_if_any(&dir).map_err(io(&dir))?;
        fs::rename(&tmp, &dir).map_err(io(&dir))?;
        let bytes = postcard::to_stdvec(manifest).map_err(|e| SyncError::Io {
            path: self.root.join("current"),
            source: io::Error::other(e.to_string()),
        })?;
        let current_tmp = self.root.join("current.tmp");
        fs::write(&current_tmp, bytes)
            .and_then(|()| fs::File::open(&current_tmp).and_then(|f| f.sync_all()))
            .and_then(|()| fs::rename(&current_tmp, self.root.join("current")))
            .map_err(io(&current_tmp))?;
        Ok(dir)
    }

    /// Keeps the new tree and the one before it (the app may still read it until it reloads),
    /// and the store files the new manifest names; `.part` files of files no longer listed go.
    fn collect_garbage(&mut self, keep: &[u8; 32], before: Option<[u8; 32]>) {
        let keep: Vec<String> = std::iter::once(hex(keep))
            .chain(before.map(|b| hex(&b)))
            .collect();
        let wanted: BTreeSet<String> = self
            .current
            .iter()
            .flat_map(|m| m.files().iter().map(|f| hex(&f.hash)))
            .collect();
        if let Ok(entries) = fs::read_dir(self.root.join("trees")) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !keep.contains(&name) {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        if let Ok(entries) = fs::read_dir(self.root.join("files")) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let stem = name.strip_suffix(".part").unwrap_or(&name);
                if !wanted.contains(stem) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }
}

fn fresh_fetch(path: String, size: u64) -> Fetch {
    Fetch {
        path,
        size,
        written: 0,
        next: 0,
        hasher: Sha256::new(),
        early: BTreeMap::new(),
        again: BTreeSet::new(),
        attempts: 0,
    }
}

/// A fetch of `entry`, resuming its `.part` if one was kept (hashed again: what it holds is
/// checked with the rest once the file is whole). A `.part` longer than the file is dropped.
fn start_fetch(root: &Path, entry: &FileEntry) -> Fetch {
    let mut fetch = fresh_fetch(entry.path.clone(), entry.size);
    let part = part_path(root, &entry.hash);
    match fs::read(&part) {
        Ok(bytes) if bytes.len() as u64 <= entry.size => {
            fetch.hasher.update(&bytes);
            fetch.written = bytes.len() as u64;
            fetch.next = fetch.written;
        }
        Ok(_) => {
            let _ = fs::remove_file(&part);
        }
        Err(_) => {}
    }
    fetch
}

fn store_path(root: &Path, hash: &[u8; 32]) -> PathBuf {
    root.join("files").join(hex(hash))
}

fn part_path(root: &Path, hash: &[u8; 32]) -> PathBuf {
    root.join("files").join(format!("{}.part", hex(hash)))
}

/// The tree a sync under `root` completed last and its manifest's hash, if any, without
/// opening a [`ContentSync`] (a device's start-up: which content to load, which hash to
/// present).
pub fn current_tree(root: &Path) -> Option<(PathBuf, [u8; 32])> {
    let hash = read_current(root)?.hash();
    Some((root.join("trees").join(hex(&hash)), hash))
}

/// The manifest `current` names, if its tree is there.
fn read_current(root: &Path) -> Option<Manifest> {
    let bytes = fs::read(root.join("current")).ok()?;
    let manifest: Manifest = postcard::from_bytes(&bytes).ok()?;
    manifest.check().ok()?;
    root.join("trees")
        .join(hex(&manifest.hash()))
        .is_dir()
        .then_some(manifest)
}

fn remove_dir_if_any(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
