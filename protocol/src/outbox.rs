//! The client's outbox: every [`DeviceEvent`] it reports, numbered `seq` from 1, kept until the
//! director acknowledges it after commit (design principle 2), in memory or in an append-only
//! file that survives a crash.
//!
//! File layout: the 8 bytes [`MAGIC`], then records, each `len: u32 LE | postcard payload |
//! check` where `check` is the first 8 bytes of SHA-256 over `len` and the payload. A payload
//! is a postcard enum: `Base { next_seq }` (first after a compaction), `Push { seq, event }`,
//! `Ack { seq }`. Reading stops at the first record that is cut short or fails its check (a
//! write torn by a crash); what follows is cut off.

use crate::event::DeviceEvent;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// First bytes of an outbox file (format version 1).
pub const MAGIC: &[u8; 8] = b"BSLOBX01";

/// Largest record payload, bytes. Events are a few hundred bytes at most (a free comment); a
/// length beyond this is a torn or corrupt length field, not a record.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Bytes of SHA-256 kept as a record's check.
const CHECK_BYTES: usize = 8;
/// Bytes of the length prefix.
const LEN_BYTES: usize = 4;

/// Why an outbox could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// Reading, writing, syncing or renaming the file failed; the outbox in memory is as it
    /// was before the call.
    #[error("outbox {}: {source}", path.display())]
    Io {
        /// The outbox file (or its temporary or lock file).
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The file exists but does not start with [`MAGIC`]: not an outbox, left untouched.
    #[error("outbox {}: not an outbox file (it does not start with {:?})", path.display(), String::from_utf8_lossy(MAGIC))]
    NotAnOutbox {
        /// The file.
        path: PathBuf,
    },
    /// Another process holds the outbox (its `.lock` file is locked).
    #[error("outbox {}: already open in another process", path.display())]
    Locked {
        /// The outbox file.
        path: PathBuf,
    },
    /// An event did not encode, or encodes larger than [`MAX_RECORD_BYTES`].
    #[error("outbox: event {seq} cannot be stored: {reason}")]
    Encode {
        /// The sequence number it would have had.
        seq: u64,
        /// Why.
        reason: String,
    },
}

/// One record of the file, as written.
#[derive(Serialize)]
enum RecordOut<'a> {
    Base { next_seq: u64 },
    Push { seq: u64, event: &'a DeviceEvent },
    Ack { seq: u64 },
}

/// One record of the file, as read (same variants in the same order as [`RecordOut`]).
#[derive(Deserialize)]
enum Record {
    Base { next_seq: u64 },
    Push { seq: u64, event: DeviceEvent },
    Ack { seq: u64 },
}

/// The outbox of one device: unacknowledged events by `seq`, and the next `seq` to give.
///
/// On disk, [`push`](Self::push) returns only once the event is fsynced; an ack is appended
/// without fsync (losing one to a crash only means a resend, which `(device_id, seq)` makes
/// idempotent). When every event is acknowledged, and when opening a file with acks in it, the
/// file is rewritten (temporary file, fsync, rename, fsync of the folder) to hold only the
/// next `seq` and the pending events. One process at a time: a `<file>.lock` beside it is
/// locked while the outbox is open.
#[derive(Debug)]
pub struct Outbox {
    pending: BTreeMap<u64, DeviceEvent>,
    next_seq: u64,
    disk: Option<Disk>,
}

#[derive(Debug)]
struct Disk {
    path: PathBuf,
    file: File,
    len: u64,
    /// Held for the outbox's life: its lock keeps a second process out.
    _lock: File,
}

impl Outbox {
    /// Opens the outbox: in memory for `None` (screens, terminals, tests), else the file at
    /// `path` (created if missing, with its folder). A torn last record is dropped with a
    /// warning and cut off the file; everything before it is kept.
    ///
    /// # Errors
    /// [`OutboxError::Io`] when the file cannot be read, created or repaired;
    /// [`OutboxError::NotAnOutbox`] when it holds something else; [`OutboxError::Locked`] when
    /// another process has it open.
    pub fn open(path: Option<&Path>) -> Result<Self, OutboxError> {
        let Some(path) = path else {
            return Ok(Self {
                pending: BTreeMap::new(),
                next_seq: 1,
                disk: None,
            });
        };
        let io_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| OutboxError::Io { path: p, source }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let lock_path = sibling(path, ".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(OutboxError::Locked {
                    path: path.to_path_buf(),
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(OutboxError::Io {
                    path: lock_path,
                    source,
                });
            }
        }

        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(io_err(path)(source)),
        };
        let mut outbox = Self {
            pending: BTreeMap::new(),
            next_seq: 1,
            disk: None,
        };
        if bytes.len() < MAGIC.len() {
            // Missing, empty, or cut inside the magic: nothing was ever stored in it.
            if !MAGIC.starts_with(&bytes) {
                return Err(OutboxError::NotAnOutbox {
                    path: path.to_path_buf(),
                });
            }
            let (file, len) = rewrite(path, outbox.next_seq, &outbox.pending)?;
            outbox.disk = Some(Disk {
                path: path.to_path_buf(),
                file,
                len,
                _lock: lock,
            });
            return Ok(outbox);
        }
        if !bytes.starts_with(MAGIC) {
            return Err(OutboxError::NotAnOutbox {
                path: path.to_path_buf(),
            });
        }

        let mut at = MAGIC.len();
        let mut acks = 0usize;
        while let Some((record, next)) = read_record(&bytes, at) {
            match record {
                Record::Base { next_seq } => outbox.next_seq = outbox.next_seq.max(next_seq),
                Record::Push { seq, event } => {
                    outbox.next_seq = outbox.next_seq.max(seq.saturating_add(1));
                    outbox.pending.insert(seq, event);
                }
                Record::Ack { seq } => {
                    acks += 1;
                    outbox.pending.remove(&seq);
                }
            }
            at = next;
        }
        if at < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                dropped_bytes = bytes.len() - at,
                "outbox: dropping a torn record at the end of the file"
            );
        }
        if acks > 0 {
            match rewrite(path, outbox.next_seq, &outbox.pending) {
                Ok((file, len)) => {
                    outbox.disk = Some(Disk {
                        path: path.to_path_buf(),
                        file,
                        len,
                        _lock: lock,
                    });
                    return Ok(outbox);
                }
                Err(e) => tracing::warn!(error = %e, "outbox: compaction failed; appending"),
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err(path))?;
        if at < bytes.len() {
            file.set_len(at as u64).map_err(io_err(path))?;
            file.sync_all().map_err(io_err(path))?;
        }
        outbox.disk = Some(Disk {
            path: path.to_path_buf(),
            file,
            len: at as u64,
            _lock: lock,
        });
        Ok(outbox)
    }

    /// Stores `event` and returns its `seq` (1, 2, …, continuing after a reopen). On disk,
    /// returns once the record is fsynced: send the event only after.
    ///
    /// # Errors
    /// [`OutboxError::Io`] when the write or sync fails (the partial record is cut off again
    /// and the event is not stored); [`OutboxError::Encode`] for an event that cannot be
    /// stored.
    pub fn push(&mut self, event: DeviceEvent) -> Result<u64, OutboxError> {
        let seq = self.next_seq;
        if let Some(disk) = &mut self.disk {
            let frame = frame(&RecordOut::Push { seq, event: &event })
                .map_err(|reason| OutboxError::Encode { seq, reason })?;
            disk.append(&frame, true)?;
        }
        self.pending.insert(seq, event);
        self.next_seq += 1;
        Ok(seq)
    }

    /// Marks `seq` acknowledged: it leaves [`pending`](Self::pending). Acknowledging it again,
    /// or a `seq` never given, does nothing. When nothing is left pending, the file is
    /// compacted.
    ///
    /// # Errors
    /// [`OutboxError::Io`] when the ack cannot be written or the compaction fails; after a
    /// failed write the event stays pending (it will be resent, harmlessly).
    pub fn ack(&mut self, seq: u64) -> Result<(), OutboxError> {
        if !self.pending.contains_key(&seq) {
            return Ok(());
        }
        if let Some(disk) = &mut self.disk {
            let frame = frame(&RecordOut::Ack { seq })
                .map_err(|reason| OutboxError::Encode { seq, reason })?;
            disk.append(&frame, false)?;
        }
        self.pending.remove(&seq);
        if self.pending.is_empty()
            && let Some(disk) = &mut self.disk
        {
            // Only an optimisation: on failure the file keeps its acks and is compacted later.
            match rewrite(&disk.path, self.next_seq, &self.pending) {
                Ok((file, len)) => {
                    disk.file = file;
                    disk.len = len;
                }
                Err(e) => tracing::warn!(error = %e, "outbox: compaction failed"),
            }
        }
        Ok(())
    }

    /// The unacknowledged events in `seq` order: what to resend after a reconnect.
    pub fn pending(&self) -> Vec<(u64, DeviceEvent)> {
        self.pending
            .iter()
            .map(|(seq, event)| (*seq, event.clone()))
            .collect()
    }

    /// Number of unacknowledged events.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether every event was acknowledged.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The `seq` the next [`push`](Self::push) will return.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The file, when on disk.
    pub fn path(&self) -> Option<&Path> {
        self.disk.as_ref().map(|d| d.path.as_path())
    }
}

impl Disk {
    /// Appends one frame; on failure cuts the file back to its last good length so that no
    /// partial record is left in front of the next one.
    fn append(&mut self, frame: &[u8], sync: bool) -> Result<(), OutboxError> {
        let written = self
            .file
            .write_all(frame)
            .and_then(|()| if sync { self.file.sync_data() } else { Ok(()) });
        if let Err(source) = written {
            if let Err(e) = self.file.set_len(self.len) {
                tracing::error!(path = %self.path.display(), error = %e, "outbox: cannot cut a failed write");
            }
            return Err(OutboxError::Io {
                path: self.path.clone(),
                source,
            });
        }
        self.len += frame.len() as u64;
        Ok(())
    }
}

/// Writes `MAGIC`, `Base { next_seq }` and every pending event to `<path>.tmp`, fsyncs it and
/// renames it over `path`; returns that file, open for appending, and its length. Until the
/// rename `path` is untouched, so a failure leaves the old file in use; after it, only the
/// folder's fsync remains, and if that fails both the old and the new file hold the same
/// pending events.
fn rewrite(
    path: &Path,
    next_seq: u64,
    pending: &BTreeMap<u64, DeviceEvent>,
) -> Result<(File, u64), OutboxError> {
    let mut bytes = MAGIC.to_vec();
    let base = frame(&RecordOut::Base { next_seq }).map_err(|reason| OutboxError::Encode {
        seq: next_seq,
        reason,
    })?;
    bytes.extend_from_slice(&base);
    for (&seq, event) in pending {
        let f = frame(&RecordOut::Push { seq, event })
            .map_err(|reason| OutboxError::Encode { seq, reason })?;
        bytes.extend_from_slice(&f);
    }
    let tmp = sibling(path, ".tmp");
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| OutboxError::Io { path: p, source }
    };
    // Left over by a compaction a crash interrupted: never renamed, so never in use.
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(io_err(&tmp)(source)),
    }
    // Opened for appending before the rename: the same file then sits at `path`.
    let mut file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    file.write_all(&bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Err(e) = sync_dir(path) {
        tracing::warn!(path = %path.display(), error = %e, "outbox: cannot sync the folder after a compaction");
    }
    Ok((file, bytes.len() as u64))
}

/// `len | payload | check` for one record.
fn frame(record: &RecordOut<'_>) -> Result<Vec<u8>, String> {
    let payload = postcard::to_stdvec(record).map_err(|e| e.to_string())?;
    if payload.len() > MAX_RECORD_BYTES {
        return Err(format!(
            "{} bytes, more than {MAX_RECORD_BYTES}",
            payload.len()
        ));
    }
    let len = u32::try_from(payload.len()).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(LEN_BYTES + payload.len() + CHECK_BYTES);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&payload);
    let check = Sha256::digest(&out);
    out.extend_from_slice(&check[..CHECK_BYTES]);
    Ok(out)
}

/// The record at `at` and the offset after it; `None` if it is cut short, fails its check or
/// does not decode.
fn read_record(bytes: &[u8], at: usize) -> Option<(Record, usize)> {
    let len_bytes: [u8; LEN_BYTES] = bytes.get(at..at + LEN_BYTES)?.try_into().ok()?;
    let len = usize::try_from(u32::from_le_bytes(len_bytes)).ok()?;
    if len > MAX_RECORD_BYTES {
        return None;
    }
    let body_end = at + LEN_BYTES + len;
    let end = body_end + CHECK_BYTES;
    let check = bytes.get(body_end..end)?;
    let digest = Sha256::digest(bytes.get(at..body_end)?);
    if digest[..CHECK_BYTES] != *check {
        return None;
    }
    let record = postcard::from_bytes(bytes.get(at + LEN_BYTES..body_end)?).ok()?;
    Some((record, end))
}

/// `path` with `suffix` added to its file name (`outbox.bin` → `outbox.bin.tmp`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes a rename in `path`'s folder durable.
fn sync_dir(path: &Path) -> io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => File::open(dir)?.sync_all(),
        None => File::open(".")?.sync_all(),
    }
}
