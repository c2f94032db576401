//! The session store: an encrypted SQLite database (SQLCipher) that holds the sessions, the
//! log of every input of each session, which device events were already logged, and the
//! participants with their pseudonyms and, apart, their names.
//!
//! The log is the truth (DESIGN principle 1): the engine appends each input here, and waits
//! for [`Store::append`] to return (committed, on disk) before the input takes effect; a
//! restart replays [`Store::log`]. Payloads are opaque bytes (the engine's inputs, serialised
//! with postcard), so the store knows nothing of the engine's types.
//!
//! # Threads
//!
//! Every method blocks on the disk (each write transaction waits for an fsync, as
//! `synchronous=FULL` asks). Never call the store on the async runtime that keeps the QUIC
//! connections alive (DESIGN, house style "Storage"): give it a dedicated thread, or wrap each
//! call in `tokio::task::spawn_blocking`. [`Store`] is `Send` but not `Sync`: one thread at a
//! time owns it.

mod error;
mod privacy;
mod register;
mod roadmap;
mod room;
mod schema;

pub use error::{
    AppendError, BackupError, CreateSessionError, EraseError, OpenError, ParticipantError,
    ReadError, RecoveryKeyError, RekeyError, RestoreError, WriteError,
};
pub use privacy::{
    AccessAction, AccessEntry, ActivityFigures, BackupInfo, Erased, PurgeCounts, PurgedSession,
    RECOVERY_KEY_CHARS, RecoveryKey, SynthesisEntry, SynthesisEvent,
};
pub use register::{
    ERASED_PSEUDONYM, JournalEntry, NewPerson, NewSlotPerson, PERSON_ID_CHARS, PersonChange,
    PersonInfo, RegisterError, new_person_id,
};
pub use roadmap::{
    EntryStatus, ExternalResult, FrozenPeople, FrozenTotals, HistoryLine, NewPlanned, NewResult,
    NewSeries, PlannedSession, PlannedState, RoadmapEntry, RoadmapError, SeriesInfo, Settled,
};
pub use schema::{MIGRATIONS, SCHEMA_VERSION};

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior, params,
};
use rusqlite_migration::{M, Migrations};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Completes SQLCipher's one-time, process-wide set-up before the caller opens a connection.
///
/// SQLite marks itself initialised *before* it runs SQLCipher's own set-up
/// (`SQLITE_EXTRA_INIT`, `sqlcipher_extra_init` in the amalgamation bundled by
/// libsqlite3-sys 0.38.2), so a second thread whose first connection arrives meanwhile finds
/// SQLCipher "not initialised": its `PRAGMA key` fails with `SQLITE_ERROR` and nothing is
/// logged. CI hit this once with tests opening stores in parallel. The first caller opens one
/// in-memory connection, which runs the whole set-up in its own thread; every other caller
/// waits for it. Cheap after the first call (one atomic load).
///
/// [`Store::open`] and the backup and restore paths call it; code that opens its own
/// `rusqlite::Connection` to a SQLCipher file (tests, tools) must call it first too.
pub fn sqlcipher_ready() {
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| {
        // A failure here shows again, with its cause, on the caller's own open.
        let _ = Connection::open_in_memory();
    });
}

/// How long a statement waits for a lock held by another connection before it fails with
/// "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A session, as numbered by the store (SQLite's rowid of `sessions`, from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The position of a record in its session's log: consecutive from 1 in each session.
/// `LogSeq(0)` comes before every record (so `log_since(s, LogSeq(0))` is the whole log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogSeq(pub u64);

impl fmt::Display for LogSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A session's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// Its id.
    pub id: SessionId,
    /// The scenario (or immersion) played, as its content id.
    pub scenario: String,
    /// When it was created: Unix time in ms, as the caller gave it.
    pub created_at_unix_ms: i64,
    /// The facilitator's label (e.g. "Groupe du mardi"); free text, never a participant's name.
    pub label: String,
}

/// One record of a session's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Its position, from 1.
    pub seq: LogSeq,
    /// Session time of the input, in ms.
    pub at_ms: u64,
    /// What kind of input the payload holds (the engine's name for it).
    pub kind: String,
    /// The input, serialised by the engine (postcard).
    pub payload: Vec<u8>,
}

/// One record to append with [`Store::append_batch`].
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Session time of the input, ms.
    pub at_ms: u64,
    /// What the input is (`command`, `link`, `device`).
    pub kind: &'a str,
    /// The engine's serialisation of the input.
    pub payload: &'a [u8],
    /// For a device event, the device and its own sequence number: stored once.
    pub device: Option<(&'a str, u64)>,
}

/// What [`Store::append_device_event`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// The event was new and is logged at this position.
    New(LogSeq),
    /// The event was logged before, at this position; nothing was stored this time.
    Duplicate(LogSeq),
}

impl Appended {
    /// Where the event is logged, new or not.
    pub fn seq(self) -> LogSeq {
        match self {
            Self::New(seq) | Self::Duplicate(seq) => seq,
        }
    }
}

/// A participant of a session, known by pseudonym.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    /// The participant's id in the session (e.g. `"p3"`).
    pub id: String,
    /// The name shown in the log, the console and the exports.
    pub pseudonym: String,
}

/// The open session store. See the [module documentation](self) for threads.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// The store's file (`None` for an in-memory store).
    pub fn file(&self) -> Option<PathBuf> {
        self.conn
            .path()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    }

    /// Opens the store at `path`, creating the file if it is missing, and brings its schema to
    /// [`SCHEMA_VERSION`] (all pending migrations in one transaction).
    ///
    /// `passphrase` is the facilitator's: SQLCipher derives the key from it (PBKDF2), and
    /// encrypts every page, the file header included. The connection runs in WAL mode with
    /// `synchronous=FULL`, a 5 s busy timeout, foreign keys on, `secure_delete` on (an erased
    /// name is overwritten, not left in a free page), and `BEGIN IMMEDIATE` for every write
    /// transaction.
    ///
    /// # Errors
    ///
    /// [`OpenError::EmptyPassphrase`] for `""`, [`OpenError::WrongPassphrase`] when the file
    /// does not decrypt, [`OpenError::TooNew`] when a newer director wrote it,
    /// [`OpenError::Migration`], [`OpenError::NotWal`], and [`OpenError::Sqlite`] for the rest
    /// (e.g. the folder does not exist).
    pub fn open(path: &Path, passphrase: &str) -> Result<Self, OpenError> {
        if passphrase.is_empty() {
            return Err(OpenError::EmptyPassphrase);
        }
        let sqlite = |step| {
            move |source| OpenError::Sqlite {
                path: path.to_owned(),
                step,
                source,
            }
        };
        // No SQLITE_OPEN_URI: a path is a path, never a `file:` URI with options.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        sqlcipher_ready();
        let mut conn = Connection::open_with_flags(path, flags).map_err(sqlite("opening"))?;
        // The key must be the first statement on the connection.
        conn.pragma_update(None, "key", passphrase)
            .map_err(sqlite("setting the key"))?;
        // SQLCipher only decrypts on the first read: a wrong key shows up here.
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())) {
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
                return Err(OpenError::WrongPassphrase {
                    path: path.to_owned(),
                });
            }
            other => other.map_err(sqlite("reading the schema"))?,
        }
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(sqlite("setting the journal mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::NotWal {
                path: path.to_owned(),
                mode,
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sqlite("setting synchronous"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(sqlite("setting the busy timeout"))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(sqlite("enabling foreign keys"))?;
        conn.pragma_update(None, "secure_delete", true)
            .map_err(sqlite("enabling secure delete"))?;
        // `Connection::transaction` (ours and the migration runner's) now begins IMMEDIATE.
        conn.set_transaction_behavior(TransactionBehavior::Immediate);

        let found: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sqlite("reading the schema version"))?;
        if usize::try_from(found).is_ok_and(|v| v > SCHEMA_VERSION) {
            return Err(OpenError::TooNew {
                path: path.to_owned(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        Migrations::new(MIGRATIONS.iter().copied().map(M::up).collect())
            .to_latest(&mut conn)
            .map_err(|source| OpenError::Migration {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self { conn })
    }

    /// Creates a session and returns its id (ids grow, from 1).
    ///
    /// `scenario` is the content id of what is played, `label` the facilitator's free text,
    /// `created_at_unix_ms` the wall-clock time of creation (Unix ms), given by the caller.
    ///
    /// # Errors
    ///
    /// [`CreateSessionError::Sqlite`] when SQLite fails.
    pub fn create_session(
        &mut self,
        scenario: &str,
        label: &str,
        created_at_unix_ms: i64,
    ) -> Result<SessionId, CreateSessionError> {
        let tx = self.conn.transaction()?;
        let id = tx.query_row(
            "INSERT INTO sessions (scenario, created_at_unix_ms, label) VALUES (?1, ?2, ?3)
             RETURNING id",
            params![scenario, created_at_unix_ms, label],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(SessionId(id))
    }

    /// Every session, by id.
    ///
    /// # Errors
    ///
    /// [`ReadError::Sqlite`] when SQLite fails.
    pub fn sessions(&self) -> Result<Vec<SessionInfo>, ReadError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, scenario, created_at_unix_ms, label FROM sessions ORDER BY id")?;
        let rows = stmt.query_map([], session_info)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The session with this id, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`ReadError::Sqlite`] when SQLite fails.
    pub fn session(&self, id: SessionId) -> Result<Option<SessionInfo>, ReadError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, scenario, created_at_unix_ms, label FROM sessions WHERE id = ?1",
                [id.0],
                session_info,
            )
            .optional()?)
    }

    /// Appends an input to a session's log and returns its position (the session's last + 1).
    /// When this returns, the record is committed and on disk: the input may take effect.
    ///
    /// `at_ms` is the session time of the input in ms; `kind` names the input; `payload` is
    /// the engine's serialisation of it.
    ///
    /// # Errors
    ///
    /// [`AppendError::UnknownSession`], [`AppendError::OutOfRange`] when `at_ms` exceeds
    /// `i64::MAX`, [`AppendError::Sqlite`]. Nothing is stored on error.
    pub fn append(
        &mut self,
        session: SessionId,
        at_ms: u64,
        kind: &str,
        payload: &[u8],
    ) -> Result<LogSeq, AppendError> {
        let record = Record {
            at_ms,
            kind,
            payload,
            device: None,
        };
        let appended = self.append_batch(session, &[record])?;
        Ok(appended.first().map_or(LogSeq(0), |a| a.seq()))
    }

    /// Appends a device's event to a session's log, once: `(device, device_seq)` identifies
    /// the event (DESIGN principle 2), so a resend returns [`Appended::Duplicate`] with the
    /// original position and stores nothing (its payload is not compared). The check and the
    /// append are one transaction. Acknowledge the event to the device after this returns,
    /// new or duplicate.
    ///
    /// # Errors
    ///
    /// [`AppendError::UnknownSession`], [`AppendError::OutOfRange`] when `device_seq` or
    /// `at_ms` exceeds `i64::MAX`, [`AppendError::Sqlite`]. Nothing is stored on error.
    pub fn append_device_event(
        &mut self,
        session: SessionId,
        device: &str,
        device_seq: u64,
        at_ms: u64,
        kind: &str,
        payload: &[u8],
    ) -> Result<Appended, AppendError> {
        let record = Record {
            at_ms,
            kind,
            payload,
            device: Some((device, device_seq)),
        };
        let appended = self.append_batch(session, &[record])?;
        Ok(appended
            .first()
            .copied()
            .unwrap_or(Appended::Duplicate(LogSeq(0))))
    }

    /// Appends several records in **one transaction** (group commit: one WAL fsync for all),
    /// in order; each device event is checked for a resend against the log and against the
    /// batch's earlier records, exactly as [`Self::append_device_event`] does. When this
    /// returns, every record is committed and on disk; on error nothing of the batch is stored.
    /// Returns one [`Appended`] per record, in order (commands and links are always `New`).
    ///
    /// # Errors
    ///
    /// [`AppendError::UnknownSession`], [`AppendError::OutOfRange`] when a `device_seq` or an
    /// `at_ms` exceeds `i64::MAX`, [`AppendError::Sqlite`].
    pub fn append_batch(
        &mut self,
        session: SessionId,
        records: &[Record<'_>],
    ) -> Result<Vec<Appended>, AppendError> {
        self.append_batch_enrolling(session, records, &[])
    }

    /// [`Self::append_batch`], with the register persons the batch's enrolments give their
    /// slots created **in the same transaction** (each with its `created` journal entry): a
    /// person never exists without the log record that seats them, nor the record without the
    /// person.
    ///
    /// # Errors
    ///
    /// As [`Self::append_batch`]; an id already taken is an [`AppendError::Sqlite`] (ids are
    /// drawn at random: check with [`Self::person`] before). Nothing is stored on error.
    pub fn append_batch_enrolling(
        &mut self,
        session: SessionId,
        records: &[Record<'_>],
        persons: &[NewSlotPerson],
    ) -> Result<Vec<Appended>, AppendError> {
        let tx = self.conn.transaction()?;
        if !session_exists(&tx, session)? {
            return Err(AppendError::UnknownSession { session });
        }
        for p in persons {
            register::insert_new_person(&tx, p)?;
        }
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let at_ms = sql_int("at_ms", r.at_ms)?;
            let Some((device, device_seq)) = r.device else {
                let seq = insert_log(&tx, session, at_ms, r.kind, r.payload)?;
                out.push(Appended::New(LogSeq(stored_u64(0, seq)?)));
                continue;
            };
            let device_seq = sql_int("device_seq", device_seq)?;
            let logged = tx
                .query_row(
                    "SELECT log_seq FROM device_events
                     WHERE session = ?1 AND device = ?2 AND device_seq = ?3",
                    params![session.0, device, device_seq],
                    |row| get_u64(row, 0),
                )
                .optional()?;
            if let Some(seq) = logged {
                out.push(Appended::Duplicate(LogSeq(seq)));
                continue;
            }
            let seq = insert_log(&tx, session, at_ms, r.kind, r.payload)?;
            tx.execute(
                "INSERT INTO device_events (session, device, device_seq, log_seq)
                 VALUES (?1, ?2, ?3, ?4)",
                params![session.0, device, device_seq, seq],
            )?;
            out.push(Appended::New(LogSeq(stored_u64(0, seq)?)));
        }
        tx.commit()?;
        Ok(out)
    }

    /// A session's whole log, in order: what a restart replays.
    ///
    /// # Errors
    ///
    /// [`ReadError::UnknownSession`], [`ReadError::Sqlite`].
    pub fn log(&self, session: SessionId) -> Result<Vec<LogRecord>, ReadError> {
        self.log_since(session, LogSeq(0))
    }

    /// The records of a session's log after `after` (excluded), in order.
    ///
    /// # Errors
    ///
    /// [`ReadError::UnknownSession`], [`ReadError::Sqlite`].
    pub fn log_since(
        &self,
        session: SessionId,
        after: LogSeq,
    ) -> Result<Vec<LogRecord>, ReadError> {
        self.require_session(session)?;
        // No record lies past i64::MAX, so a larger `after` has nothing after it.
        let after = i64::try_from(after.0).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare(
            "SELECT seq, at_ms, kind, payload FROM log
             WHERE session = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![session.0, after], |row| {
            Ok(LogRecord {
                seq: LogSeq(get_u64(row, 0)?),
                at_ms: get_u64(row, 1)?,
                kind: row.get(2)?,
                payload: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds a participant to a session, or changes their pseudonym.
    ///
    /// # Errors
    ///
    /// [`ParticipantError::UnknownSession`], [`ParticipantError::Sqlite`].
    pub fn set_participant(
        &mut self,
        session: SessionId,
        id: &str,
        pseudonym: &str,
    ) -> Result<(), ParticipantError> {
        let tx = self.conn.transaction()?;
        if !session_exists(&tx, session)? {
            return Err(ParticipantError::UnknownSession { session });
        }
        tx.execute(
            "INSERT INTO participants (session, id, pseudonym) VALUES (?1, ?2, ?3)
             ON CONFLICT (session, id) DO UPDATE SET pseudonym = excluded.pseudonym",
            params![session.0, id, pseudonym],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a participant's real name, or erases it with `None` (DESIGN principle 6: the
    /// only place names live).
    ///
    /// Erasure zeroes the name's bytes in the database file (`secure_delete`) and then
    /// checkpoints and truncates the write-ahead log, so no older copy of the page stays on
    /// disk either.
    ///
    /// # Errors
    ///
    /// [`ParticipantError::UnknownSession`], [`ParticipantError::UnknownParticipant`] when the
    /// participant was never given a pseudonym, [`ParticipantError::Sqlite`]. An error after
    /// an erasure's commit means the log may still hold a copy: erasing again is harmless.
    pub fn set_participant_name(
        &mut self,
        session: SessionId,
        id: &str,
        name: Option<&str>,
    ) -> Result<(), ParticipantError> {
        let tx = self.conn.transaction()?;
        if !session_exists(&tx, session)? {
            return Err(ParticipantError::UnknownSession { session });
        }
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM participants WHERE session = ?1 AND id = ?2)",
            params![session.0, id],
            |row| row.get(0),
        )?;
        if !known {
            return Err(ParticipantError::UnknownParticipant {
                session,
                participant: id.to_owned(),
            });
        }
        match name {
            Some(name) => tx.execute(
                "INSERT INTO participant_names (session, id, name) VALUES (?1, ?2, ?3)
                 ON CONFLICT (session, id) DO UPDATE SET name = excluded.name",
                params![session.0, id, name],
            )?,
            None => tx.execute(
                "DELETE FROM participant_names WHERE session = ?1 AND id = ?2",
                params![session.0, id],
            )?,
        };
        tx.commit()?;
        if name.is_none() {
            // Returns (busy, log frames, checkpointed frames); busy only if another
            // connection reads, which the director does not do.
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    /// A session's participants, by id, with their pseudonyms (never their names).
    ///
    /// # Errors
    ///
    /// [`ReadError::UnknownSession`], [`ReadError::Sqlite`].
    pub fn participants(&self, session: SessionId) -> Result<Vec<Participant>, ReadError> {
        self.require_session(session)?;
        let mut stmt = self
            .conn
            .prepare("SELECT id, pseudonym FROM participants WHERE session = ?1 ORDER BY id")?;
        let rows = stmt.query_map([session.0], |row| {
            Ok(Participant {
                id: row.get(0)?,
                pseudonym: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A participant's real name, or `None` when none is recorded (or it was erased, or there
    /// is no such participant).
    ///
    /// # Errors
    ///
    /// [`ReadError::UnknownSession`], [`ReadError::Sqlite`].
    pub fn participant_name(
        &self,
        session: SessionId,
        id: &str,
    ) -> Result<Option<String>, ReadError> {
        self.require_session(session)?;
        Ok(self
            .conn
            .query_row(
                "SELECT name FROM participant_names WHERE session = ?1 AND id = ?2",
                params![session.0, id],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Re-encrypts the whole database under a new passphrase (`PRAGMA rekey`); from then on
    /// only `new` opens it. It rewrites every page: seconds on a large store.
    ///
    /// # Errors
    ///
    /// [`RekeyError::EmptyPassphrase`] (nothing changed), [`RekeyError::Sqlite`].
    pub fn change_passphrase(&mut self, new: &str) -> Result<(), RekeyError> {
        if new.is_empty() {
            return Err(RekeyError::EmptyPassphrase);
        }
        self.conn.pragma_update(None, "rekey", new)?;
        Ok(())
    }

    /// Runs SQLite's `PRAGMA quick_check` (structure of every page, without the index
    /// contents): `true` when it reports "ok".
    ///
    /// # Errors
    ///
    /// [`ReadError::Sqlite`] when the check cannot run.
    pub fn quick_check(&self) -> Result<bool, ReadError> {
        let mut report = Vec::new();
        self.conn.pragma_query(None, "quick_check", |row| {
            report.push(row.get::<_, String>(0)?);
            Ok(())
        })?;
        Ok(report == ["ok"])
    }

    fn require_session(&self, session: SessionId) -> Result<(), ReadError> {
        if session_exists(&self.conn, session)? {
            Ok(())
        } else {
            Err(ReadError::UnknownSession { session })
        }
    }
}

/// `value` as SQLite's INTEGER, or [`AppendError::OutOfRange`] naming `what`.
fn sql_int(what: &'static str, value: u64) -> Result<i64, AppendError> {
    i64::try_from(value).map_err(|_| AppendError::OutOfRange { what, value })
}

fn session_exists(conn: &Connection, session: SessionId) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1)",
        [session.0],
        |row| row.get(0),
    )
}

/// Inserts a log record at the session's next position and returns that position; run
/// inside a write transaction.
fn insert_log(
    conn: &Connection,
    session: SessionId,
    at_ms: i64,
    kind: &str,
    payload: &[u8],
) -> rusqlite::Result<i64> {
    conn.query_row(
        "INSERT INTO log (session, seq, at_ms, kind, payload)
         SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM log WHERE session = ?1
         RETURNING seq",
        params![session.0, at_ms, kind, payload],
        |row| row.get(0),
    )
}

/// Column `idx` of `row`, a non-negative INTEGER, as `u64` (rusqlite reads `u64` only with
/// its `fallible_uint` feature).
fn get_u64(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    stored_u64(idx, row.get(idx)?)
}

/// `value`, read from column `idx`, as `u64`; a negative value is an out-of-range error.
fn stored_u64(idx: usize, value: i64) -> rusqlite::Result<u64> {
    u64::try_from(value).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, value))
}

fn session_info(row: &Row<'_>) -> rusqlite::Result<SessionInfo> {
    Ok(SessionInfo {
        id: SessionId(row.get(0)?),
        scenario: row.get(1)?,
        created_at_unix_ms: row.get(2)?,
        label: row.get(3)?,
    })
}
