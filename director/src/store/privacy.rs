//! The store's personal-data operations: the access log, the recovery key, encrypted backups
//! and their restore, the purge of old sessions (their anonymous activity figures kept), and the
//! erasure of one participant's free text from a session's log.

use super::{
    BackupError, EraseError, LogRecord, LogSeq, OpenError, ReadError, RecoveryKeyError,
    RestoreError, SCHEMA_VERSION, SessionId, Store, WriteError, get_u64, session_exists,
};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// The recovery key's alphabet: RFC 4648 base32 (no 0, 1, 8, 9, which are easy to misread).
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Characters in a recovery key: 40 base32 characters carry 200 random bits.
pub const RECOVERY_KEY_CHARS: usize = 40;

/// The key that opens backups when the facilitator's passphrase is lost: 200 random bits as
/// 40 base32 characters (RFC 4648 alphabet), written on paper as 8 groups of 5.
///
/// It never appears in `Debug` output: `{:?}` prints `RecoveryKey(…)`.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryKey(String);

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(…)")
    }
}

impl RecoveryKey {
    /// A new key from the thread's CSPRNG (`rand::rng`, ChaCha seeded by the OS): 25 random
    /// bytes, 200 bits.
    pub fn generate() -> Self {
        let bytes: [u8; 25] = rand::random();
        let mut out = String::with_capacity(RECOVERY_KEY_CHARS);
        // 25 bytes = 200 bits = 40 groups of 5 bits, most significant first.
        for chunk in bytes.chunks(5) {
            let mut bits: u64 = 0;
            for b in chunk {
                bits = (bits << 8) | u64::from(*b);
            }
            for i in (0..8).rev() {
                let index = (bits >> (i * 5)) & 31;
                out.push(char::from(BASE32[usize::try_from(index).unwrap_or(0)]));
            }
        }
        Self(out)
    }

    /// Reads a key as typed or copied: case, spaces, dashes and line ends do not matter, and the
    /// look-alikes `0`, `1`, `8` are read as `O`, `I`, `B`.
    ///
    /// # Errors
    ///
    /// [`RecoveryKeyError::Character`] for a character outside the alphabet,
    /// [`RecoveryKeyError::Length`] when there are not 40 characters.
    pub fn parse(text: &str) -> Result<Self, RecoveryKeyError> {
        let mut out = String::with_capacity(RECOVERY_KEY_CHARS);
        for c in text.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let c = match c.to_ascii_uppercase() {
                '0' => 'O',
                '1' => 'I',
                '8' => 'B',
                c => c,
            };
            if !c.is_ascii() || !BASE32.contains(&(c as u8)) {
                return Err(RecoveryKeyError::Character {
                    ch: c,
                    position: out.chars().count() + 1,
                });
            }
            out.push(c);
        }
        if out.len() != RECOVERY_KEY_CHARS {
            return Err(RecoveryKeyError::Length { found: out.len() });
        }
        Ok(Self(out))
    }

    /// The key as 8 groups of 5 characters separated by dashes, for paper:
    /// `ABCDE-FGHIJ-…`.
    pub fn grouped(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars
            .chunks(5)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The 40 characters, without dashes: what SQLCipher's key derivation receives.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an [`AccessEntry`] records: an act that reads, exports or changes personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessAction {
    /// A session's log was replayed and shown (`session show`, `session agreement`).
    SessionOpened,
    /// A session's observations were exported (BORIS, TSV, CSV).
    SessionExported,
    /// A participant's synthesis PDF was written.
    SynthesisWritten,
    /// A debrief entry (level decision, comment, restitution, consent) was recorded.
    DebriefWritten,
    /// A participant's data was exported on request (right of access).
    ParticipantExported,
    /// A participant's name and free text were erased on request.
    ParticipantErased,
    /// Old sessions were purged.
    SessionsPurged,
    /// An encrypted backup was written.
    BackupWritten,
    /// The store was restored from a backup.
    BackupRestored,
    /// The passphrase was changed.
    PassphraseChanged,
    /// A recovery key was created (or replaced).
    RecoveryKeyCreated,
    /// A result from another tool was recorded (with or without its PDF).
    ResultRecorded,
    /// A person's roadmap or results were shown.
    RoadmapOpened,
    /// A result's attached PDF was written out of the store.
    AttachmentExported,
    /// The director of the day was unlocked from the console (the actor: who said they are).
    DirectorUnlocked,
}

impl AccessAction {
    /// Every action, in declaration order.
    pub const ALL: [Self; 15] = [
        Self::SessionOpened,
        Self::SessionExported,
        Self::SynthesisWritten,
        Self::DebriefWritten,
        Self::ParticipantExported,
        Self::ParticipantErased,
        Self::SessionsPurged,
        Self::BackupWritten,
        Self::BackupRestored,
        Self::PassphraseChanged,
        Self::RecoveryKeyCreated,
        Self::ResultRecorded,
        Self::RoadmapOpened,
        Self::AttachmentExported,
        Self::DirectorUnlocked,
    ];

    /// The stable code stored in `access_log.action` (`"session_opened"`...).
    pub fn code(self) -> &'static str {
        match self {
            Self::SessionOpened => "session_opened",
            Self::SessionExported => "session_exported",
            Self::SynthesisWritten => "synthesis_written",
            Self::DebriefWritten => "debrief_written",
            Self::ParticipantExported => "participant_exported",
            Self::ParticipantErased => "participant_erased",
            Self::SessionsPurged => "sessions_purged",
            Self::BackupWritten => "backup_written",
            Self::BackupRestored => "backup_restored",
            Self::PassphraseChanged => "passphrase_changed",
            Self::RecoveryKeyCreated => "recovery_key_created",
            Self::ResultRecorded => "result_recorded",
            Self::RoadmapOpened => "roadmap_opened",
            Self::AttachmentExported => "attachment_exported",
            Self::DirectorUnlocked => "director_unlocked",
        }
    }

    /// The action whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// What it means, in French, for `db access-log`.
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::SessionOpened => "a consulté une séance",
            Self::SessionExported => "a exporté une séance",
            Self::SynthesisWritten => "a rédigé une synthèse",
            Self::DebriefWritten => "a enregistré un élément de restitution",
            Self::ParticipantExported => "a exporté les données d'un·e participant·e",
            Self::ParticipantErased => "a effacé un·e participant·e",
            Self::SessionsPurged => "a purgé des séances anciennes",
            Self::BackupWritten => "a fait une sauvegarde chiffrée",
            Self::BackupRestored => "a restauré une sauvegarde",
            Self::PassphraseChanged => "a changé la phrase de passe",
            Self::RecoveryKeyCreated => "a créé une clé de secours",
            Self::ResultRecorded => "a enregistré un résultat d'un autre outil",
            Self::RoadmapOpened => "a consulté une feuille de route ou des résultats",
            Self::AttachmentExported => "a exporté le PDF joint à un résultat",
            Self::DirectorUnlocked => "a déverrouillé le directeur",
        }
    }
}

/// One entry of the access log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessEntry {
    /// When, Unix time in ms.
    pub at_unix_ms: i64,
    /// Who: the OS user, or the name given with `--actor`.
    pub actor: String,
    /// What.
    pub action: AccessAction,
    /// Which session, if one.
    pub session: Option<SessionId>,
    /// Which participant (their id, never a name), if one.
    pub participant: Option<String>,
    /// More, in French (a file written, counts); never a name.
    pub detail: String,
}

/// The anonymous activity figures of a month and scenario (what FSE+ reporting asks: how many
/// sessions, participants and hours).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityFigures {
    /// `YYYY-MM`, the month the sessions were created in (UTC).
    pub month: String,
    /// The scenario or immersion played (content id).
    pub scenario: String,
    /// Sessions.
    pub sessions: u64,
    /// Participants, each counted once per month and scenario within one purge (a participant
    /// whose sessions of one month went in two purges counts twice).
    pub participants: u64,
    /// Time played, summed over sessions, ms.
    pub play_ms: u64,
    /// Time played, summed over participants (participant-hours in ms).
    pub participant_ms: u64,
}

/// A session to purge, with the activity it adds to the figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurgedSession {
    /// The session.
    pub id: SessionId,
    /// `YYYY-MM` of its creation (UTC).
    pub month: String,
    /// Its scenario.
    pub scenario: String,
    /// Its participants' ids (distinct ones are counted per month and scenario).
    pub participants: BTreeSet<String>,
    /// Time played, ms.
    pub play_ms: u64,
    /// Time played summed over participants, ms.
    pub participant_ms: u64,
}

/// What a purge removed, in rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Sessions.
    pub sessions: u64,
    /// Log records.
    pub log_records: u64,
    /// Device event index rows.
    pub device_events: u64,
    /// Participants (pseudonyms).
    pub participants: u64,
    /// Names from the protected table.
    pub names: u64,
}

/// What erasing a participant from one session changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    /// Log records rewritten.
    pub records: u64,
    /// Whether a name was deleted.
    pub name: bool,
    /// Whether the pseudonym in `participants` was replaced.
    pub pseudonym: bool,
}

/// What [`Store::backup`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// The backup file.
    pub path: PathBuf,
    /// Its size, bytes.
    pub bytes: u64,
    /// Sessions it holds.
    pub sessions: u64,
}

fn io_backup(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn io_restore(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |source| RestoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `path` with `.part` appended to its file name.
fn part_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

fn to_i64(what: &'static str, value: u64) -> Result<i64, WriteError> {
    i64::try_from(value).map_err(|_| WriteError::OutOfRange { what, value })
}

/// Copies every table of `main` into the attached database `target` (SQLCipher's
/// `sqlcipher_export`, which encrypts with `target`'s key), with the schema version, in one
/// transaction.
fn export_to(conn: &Connection, target: &str, version: i64) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let copied = conn
        .query_row("SELECT sqlcipher_export(?1)", [target], |_| Ok(()))
        .and_then(|()| conn.pragma_update(Some(target), "user_version", version));
    match copied {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

impl Store {
    /// Appends an entry to the access log (append-only: the schema refuses updates and deletes).
    ///
    /// # Errors
    ///
    /// [`WriteError::Sqlite`].
    pub fn log_access(&mut self, entry: &AccessEntry) -> Result<(), WriteError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO access_log (at_unix_ms, actor, action, session, participant, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                entry.at_unix_ms,
                entry.actor,
                entry.action.code(),
                entry.session.map(|s| s.0),
                entry.participant,
                entry.detail
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The whole access log, oldest first.
    ///
    /// # Errors
    ///
    /// [`ReadError::Sqlite`], also when an action code is unknown.
    pub fn access_log(&self) -> Result<Vec<AccessEntry>, ReadError> {
        let mut stmt = self.conn.prepare(
            "SELECT at_unix_ms, actor, action, session, participant, detail
             FROM access_log ORDER BY id",
        )?;
        let rows = stmt.query_map([], |row| {
            let code: String = row.get(2)?;
            let action = AccessAction::from_code(&code).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    format!("unknown access log action {code:?}").into(),
                )
            })?;
            Ok(AccessEntry {
                at_unix_ms: row.get(0)?,
                actor: row.get(1)?,
                action,
                session: row.get::<_, Option<i64>>(3)?.map(SessionId),
                participant: row.get(4)?,
                detail: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores `key` as the recovery key (replacing any earlier one) and returns whether one was
    /// replaced. Backups written before keep opening with the old key only.
    ///
    /// # Errors
    ///
    /// [`WriteError::Sqlite`]; then the earlier key is kept.
    pub fn set_recovery_key(
        &mut self,
        key: &RecoveryKey,
        now_unix_ms: i64,
    ) -> Result<bool, WriteError> {
        let tx = self.conn.transaction()?;
        let replaced = tx.execute("DELETE FROM recovery_key", [])? > 0;
        tx.execute(
            "INSERT INTO recovery_key (id, key, created_at_unix_ms) VALUES (1, ?1, ?2)",
            params![key.as_str(), now_unix_ms],
        )?;
        tx.commit()?;
        Ok(replaced)
    }

    /// The recovery key and when it was created (Unix ms), or `None` before `db recovery-key`.
    ///
    /// # Errors
    ///
    /// [`ReadError::Sqlite`], also when the stored key is malformed.
    pub fn recovery_key(&self) -> Result<Option<(RecoveryKey, i64)>, ReadError> {
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT key, created_at_unix_ms FROM recovery_key WHERE id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        row.map(|(key, at)| {
            RecoveryKey::parse(&key).map(|k| (k, at)).map_err(|e| {
                ReadError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                ))
            })
        })
        .transpose()
    }

    /// Writes a consistent, encrypted copy of the whole store to `out`, keyed with the recovery
    /// key (SQLCipher's `sqlcipher_export` into an attached database, inside one `BEGIN
    /// IMMEDIATE` transaction so no write lands half-way). The copy goes to `<out>.part`, is
    /// synced, then renamed over `out`: an earlier backup at `out` stays whole until the new one
    /// is complete.
    ///
    /// # Errors
    ///
    /// [`BackupError::NoRecoveryKey`], [`BackupError::Io`], [`BackupError::Sqlite`].
    pub fn backup(&mut self, out: &Path) -> Result<BackupInfo, BackupError> {
        let (key, _) = self
            .recovery_key()
            .map_err(|e| match e {
                ReadError::Sqlite(e) => BackupError::Sqlite(e),
                ReadError::UnknownSession { .. } => BackupError::NoRecoveryKey,
            })?
            .ok_or(BackupError::NoRecoveryKey)?;
        let part = part_path(out);
        if part.exists() {
            std::fs::remove_file(&part).map_err(io_backup(&part))?;
        }
        let part_str = part.to_str().ok_or_else(|| BackupError::Io {
            path: part.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path is not valid UTF-8",
            ),
        })?;
        self.conn.execute(
            "ATTACH DATABASE ?1 AS backup KEY ?2",
            params![part_str, key.as_str()],
        )?;
        let version = i64::try_from(SCHEMA_VERSION).unwrap_or(i64::MAX);
        let copied = export_to(&self.conn, "backup", version);
        let detached = self.conn.execute_batch("DETACH DATABASE backup");
        copied?;
        detached?;
        std::fs::File::open(&part)
            .and_then(|f| f.sync_all())
            .map_err(io_backup(&part))?;
        std::fs::rename(&part, out).map_err(io_backup(out))?;
        let bytes = std::fs::metadata(out).map_err(io_backup(out))?.len();
        let sessions: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))?;
        Ok(BackupInfo {
            path: out.to_owned(),
            bytes,
            sessions: u64::try_from(sessions).unwrap_or(0),
        })
    }

    /// Reopens the backup at `path` with the recovery key `key`, as a restore would, and checks
    /// it (`quick_check`, the session tables, the schema); returns how many sessions it holds.
    /// A backup is only called done once this passes. Nothing is written.
    ///
    /// # Errors
    ///
    /// As [`Store::restore`] reading a backup: [`RestoreError::Io`] (missing file),
    /// [`RestoreError::Unreadable`], [`RestoreError::WrongRecoveryKey`],
    /// [`RestoreError::NotAStore`] (no session tables, a newer schema, a failed check).
    pub fn verify_backup(path: &Path, key: &RecoveryKey) -> Result<u64, RestoreError> {
        let unreadable = |source| RestoreError::Unreadable {
            path: path.to_owned(),
            source,
        };
        let not_a_store = |why: String| RestoreError::NotAStore {
            path: path.to_owned(),
            why,
        };
        let (conn, _) = open_backup(
            path,
            key,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(unreadable)?;
        if check != "ok" {
            return Err(not_a_store(format!("quick_check: {check}")));
        }
        let sessions: i64 = conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .map_err(unreadable)?;
        Ok(u64::try_from(sessions).unwrap_or(0))
    }

    /// When `action` was last logged, Unix ms (`None`: never).
    ///
    /// # Errors
    ///
    /// [`ReadError::Sqlite`].
    pub fn last_access(&self, action: AccessAction) -> Result<Option<i64>, ReadError> {
        Ok(self.conn.query_row(
            "SELECT max(at_unix_ms) FROM access_log WHERE action = ?1",
            params![action.code()],
            |r| r.get(0),
        )?)
    }

    /// Restores the backup `backup` (written by [`Store::backup`]) with its recovery key into a
    /// new store at `to`, encrypted under `passphrase`, and opens it. The backup is only read.
    /// The restored store keeps the same recovery key (create a new one if it was exposed).
    ///
    /// The copy is made in `<to>.part`, checked (`quick_check`), then linked to `to`, which
    /// fails if `to` appeared meanwhile: a restore never overwrites anything.
    ///
    /// # Errors
    ///
    /// [`RestoreError::EmptyPassphrase`], [`RestoreError::TargetExists`],
    /// [`RestoreError::Io`] (missing file), [`RestoreError::Unreadable`],
    /// [`RestoreError::WrongRecoveryKey`],
    /// [`RestoreError::NotAStore`] (no session tables, or a newer schema),
    /// [`RestoreError::Io`], [`RestoreError::Sqlite`], [`RestoreError::Open`].
    pub fn restore(
        backup: &Path,
        key: &RecoveryKey,
        to: &Path,
        passphrase: &str,
    ) -> Result<Self, RestoreError> {
        if passphrase.is_empty() {
            return Err(RestoreError::EmptyPassphrase);
        }
        if to.exists() {
            return Err(RestoreError::TargetExists {
                path: to.to_owned(),
            });
        }
        // CREATE stays among the flags because the attached target is created through this
        // connection; the copy only reads the backup.
        let (conn, version) = open_backup(
            backup,
            key,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let not_a_store = |why: String| RestoreError::NotAStore {
            path: backup.to_owned(),
            why,
        };

        let part = part_path(to);
        if part.exists() {
            std::fs::remove_file(&part).map_err(io_restore(&part))?;
        }
        let part_str = part.to_str().ok_or_else(|| RestoreError::Io {
            path: part.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path is not valid UTF-8",
            ),
        })?;
        conn.execute(
            "ATTACH DATABASE ?1 AS restored KEY ?2",
            params![part_str, passphrase],
        )?;
        let copied = export_to(&conn, "restored", version);
        let detached = conn.execute_batch("DETACH DATABASE restored");
        drop(conn);
        let cleanup = |e: RestoreError| {
            let _ = std::fs::remove_file(&part);
            e
        };
        copied.map_err(|e| cleanup(e.into()))?;
        detached.map_err(|e| cleanup(e.into()))?;
        {
            let check = Connection::open(&part)
                .and_then(|c| {
                    c.pragma_update(None, "key", passphrase)?;
                    c.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0))
                })
                .map_err(|e| cleanup(e.into()))?;
            if check != "ok" {
                return Err(cleanup(not_a_store(format!("quick_check: {check}"))));
            }
        }
        std::fs::File::open(&part)
            .and_then(|f| f.sync_all())
            .map_err(|e| cleanup(io_restore(&part)(e)))?;
        // A hard link fails when `to` exists: never overwrite, even in a race.
        std::fs::hard_link(&part, to).map_err(|e| {
            cleanup(if e.kind() == std::io::ErrorKind::AlreadyExists {
                RestoreError::TargetExists {
                    path: to.to_owned(),
                }
            } else {
                io_restore(to)(e)
            })
        })?;
        std::fs::remove_file(&part).map_err(io_restore(&part))?;
        Self::open(to, passphrase).map_err(|e: OpenError| e.into())
    }

    /// Deletes `sessions` whole (log, device events, participants, names) and adds their
    /// activity to the anonymous figures, per month and scenario, in one transaction; then
    /// checkpoints and truncates the write-ahead log so no deleted page stays on disk
    /// (`secure_delete` zeroes them in the database file).
    ///
    /// # Errors
    ///
    /// [`WriteError::UnknownSession`] (nothing deleted), [`WriteError::OutOfRange`],
    /// [`WriteError::Sqlite`].
    pub fn purge(&mut self, sessions: &[PurgedSession]) -> Result<PurgeCounts, WriteError> {
        let tx = self.conn.transaction()?;
        let counts = purge_in(&tx, sessions)?;
        tx.commit()?;
        self.checkpoint()?;
        Ok(counts)
    }

    /// [`Self::purge`] and, in the **same transaction**, the funders' figures of what goes
    /// (`freeze`: added totals and distinct counts frozen, see
    /// [`Store::freeze_figures`](super::Store::freeze_figures)) and the results from other
    /// tools dated before `results_before` (`YYYY-MM-DD`) with their PDFs: nothing half done.
    ///
    /// # Errors
    ///
    /// As [`Self::purge`].
    pub fn purge_with_figures(
        &mut self,
        sessions: &[PurgedSession],
        freeze: (&[super::FrozenTotals], &[super::FrozenPeople]),
        results_before: &str,
        now_unix_ms: i64,
    ) -> Result<(PurgeCounts, usize), WriteError> {
        let tx = self.conn.transaction()?;
        let counts = purge_in(&tx, sessions)?;
        super::roadmap::freeze_in(&tx, freeze.0, freeze.1, now_unix_ms)?;
        let results = super::roadmap::purge_results_in(&tx, results_before)?;
        tx.commit()?;
        self.checkpoint()?;
        Ok((counts, results))
    }
}

/// The body of [`Store::purge`], inside the caller's transaction.
fn purge_in(tx: &Connection, sessions: &[PurgedSession]) -> Result<PurgeCounts, WriteError> {
    {
        type Key = (String, String);
        let mut figures: BTreeMap<Key, (u64, BTreeSet<&str>, u64, u64)> = BTreeMap::new();
        for s in sessions {
            let f = figures
                .entry((s.month.clone(), s.scenario.clone()))
                .or_default();
            f.0 += 1;
            f.1.extend(s.participants.iter().map(String::as_str));
            f.2 = f.2.saturating_add(s.play_ms);
            f.3 = f.3.saturating_add(s.participant_ms);
        }
        for ((month, scenario), (n, people, play, part)) in &figures {
            tx.execute(
                "INSERT INTO activity_figures
                   (month, scenario, sessions, participants, play_ms, participant_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (month, scenario) DO UPDATE SET
                   sessions = sessions + excluded.sessions,
                   participants = participants + excluded.participants,
                   play_ms = play_ms + excluded.play_ms,
                   participant_ms = participant_ms + excluded.participant_ms",
                params![
                    month,
                    scenario,
                    to_i64("sessions", *n)?,
                    to_i64("participants", people.len() as u64)?,
                    to_i64("play_ms", *play)?,
                    to_i64("participant_ms", *part)?
                ],
            )?;
        }
        let mut counts = PurgeCounts::default();
        let count = |n: usize| n as u64;
        for s in sessions {
            if !session_exists(tx, s.id)? {
                return Err(WriteError::UnknownSession { session: s.id });
            }
            counts.device_events +=
                count(tx.execute("DELETE FROM device_events WHERE session = ?1", [s.id.0])?);
            counts.names +=
                count(tx.execute("DELETE FROM participant_names WHERE session = ?1", [s.id.0])?);
            tx.execute("DELETE FROM slot_persons WHERE session = ?1", [s.id.0])?;
            tx.execute("DELETE FROM legacy_sessions WHERE session = ?1", [s.id.0])?;
            counts.participants +=
                count(tx.execute("DELETE FROM participants WHERE session = ?1", [s.id.0])?);
            counts.log_records +=
                count(tx.execute("DELETE FROM log WHERE session = ?1", [s.id.0])?);
            counts.sessions += count(tx.execute("DELETE FROM sessions WHERE id = ?1", [s.id.0])?);
        }
        Ok(counts)
    }
}

impl Store {
    /// The anonymous activity figures of purged sessions, by month then scenario.
    ///
    /// # Errors
    ///
    /// [`ReadError::Sqlite`].
    pub fn activity_figures(&self) -> Result<Vec<ActivityFigures>, ReadError> {
        let mut stmt = self.conn.prepare(
            "SELECT month, scenario, sessions, participants, play_ms, participant_ms
             FROM activity_figures ORDER BY month, scenario",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(ActivityFigures {
                month: row.get(0)?,
                scenario: row.get(1)?,
                sessions: get_u64(row, 2)?,
                participants: get_u64(row, 3)?,
                play_ms: get_u64(row, 4)?,
                participant_ms: get_u64(row, 5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Erases a participant from one session, in one transaction: `rewrite` sees every log
    /// record and returns the new payload of those that carry the participant's free text
    /// (`None` keeps a record as it is; seq, time and kind never change); the pseudonym in
    /// `participants` becomes `pseudonym`; the name row is deleted. Then the write-ahead log is
    /// checkpointed and truncated, and `secure_delete` has zeroed the old bytes, so no copy of
    /// the erased text stays on disk.
    ///
    /// # Errors
    ///
    /// [`EraseError::UnknownSession`], [`EraseError::Rewrite`] (the first record `rewrite`
    /// refused; nothing changed), [`EraseError::Sqlite`].
    pub fn erase_participant<E: std::error::Error + 'static>(
        &mut self,
        session: SessionId,
        participant: &str,
        pseudonym: &str,
        mut rewrite: impl FnMut(&LogRecord) -> Result<Option<Vec<u8>>, E>,
    ) -> Result<Erased, EraseError<E>> {
        let tx = self.conn.transaction()?;
        if !session_exists(&tx, session)? {
            return Err(EraseError::UnknownSession { session });
        }
        let records: Vec<LogRecord> = {
            let mut stmt = tx.prepare(
                "SELECT seq, at_ms, kind, payload FROM log WHERE session = ?1 ORDER BY seq",
            )?;
            stmt.query_map([session.0], |row| {
                Ok(LogRecord {
                    seq: LogSeq(get_u64(row, 0)?),
                    at_ms: get_u64(row, 1)?,
                    kind: row.get(2)?,
                    payload: row.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?
        };
        let mut erased = Erased::default();
        for r in &records {
            let new = rewrite(r).map_err(|source| EraseError::Rewrite {
                session,
                seq: r.seq.0,
                source,
            })?;
            if let Some(payload) = new {
                let seq = i64::try_from(r.seq.0).unwrap_or(i64::MAX);
                tx.execute(
                    "UPDATE log SET payload = ?1 WHERE session = ?2 AND seq = ?3",
                    params![payload, session.0, seq],
                )?;
                erased.records += 1;
            }
        }
        erased.pseudonym = tx.execute(
            "UPDATE participants SET pseudonym = ?1 WHERE session = ?2 AND id = ?3",
            params![pseudonym, session.0, participant],
        )? > 0;
        erased.name = tx.execute(
            "DELETE FROM participant_names WHERE session = ?1 AND id = ?2",
            params![session.0, participant],
        )? > 0;
        tx.commit()?;
        self.checkpoint()?;
        Ok(erased)
    }

    /// Copies the write-ahead log into the database and truncates it to zero bytes, so pages
    /// that held deleted data are only in the database file (where `secure_delete` zeroed them).
    pub(super) fn checkpoint(&self) -> rusqlite::Result<()> {
        // Returns (busy, log frames, checkpointed frames); busy only if another connection
        // reads at the time.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    }
}

/// What happened to a version of a person's synthesis (`synthesis_events`, schema 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SynthesisEvent {
    /// The person agreed that this version go to their prescriber.
    ConsentGiven,
    /// The person refused.
    ConsentRefused,
    /// The person withdrew an earlier agreement.
    ConsentWithdrawn,
    /// A final of this version was written.
    FinalWritten,
    /// The final was handed over to the prescriber (`detail`: to whom).
    HandedOver,
}

impl SynthesisEvent {
    /// Its code in the table.
    pub fn code(self) -> &'static str {
        match self {
            Self::ConsentGiven => "consent_given",
            Self::ConsentRefused => "consent_refused",
            Self::ConsentWithdrawn => "consent_withdrawn",
            Self::FinalWritten => "final_written",
            Self::HandedOver => "handed_over",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        [
            Self::ConsentGiven,
            Self::ConsentRefused,
            Self::ConsentWithdrawn,
            Self::FinalWritten,
            Self::HandedOver,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }

    /// Whether it is an answer on the consent.
    pub fn is_consent(self) -> bool {
        matches!(
            self,
            Self::ConsentGiven | Self::ConsentRefused | Self::ConsentWithdrawn
        )
    }
}

/// One line of a person's synthesis ledger.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SynthesisEntry {
    /// The version (its content's hash, 8 hexadecimal characters).
    pub version: String,
    /// What happened.
    pub event: SynthesisEvent,
    /// To whom (a hand-over), else empty.
    pub detail: String,
    /// When, Unix ms.
    pub at_unix_ms: i64,
    /// The facilitator who recorded it.
    pub by: String,
}

impl Store {
    /// Appends `entry` to `person`'s synthesis ledger.
    ///
    /// # Errors
    ///
    /// [`WriteError::Sqlite`] (a version that is not 1 to 16 characters included).
    pub fn record_synthesis_event(
        &mut self,
        person: &str,
        entry: &SynthesisEntry,
    ) -> Result<(), WriteError> {
        self.conn.execute(
            "INSERT INTO synthesis_events (person, version, event, detail, at_unix_ms, by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                person,
                entry.version,
                entry.event.code(),
                entry.detail,
                entry.at_unix_ms,
                entry.by
            ],
        )?;
        Ok(())
    }

    /// `person`'s synthesis ledger, oldest first.
    ///
    /// # Errors
    ///
    /// [`ReadError::Sqlite`].
    pub fn synthesis_events(&self, person: &str) -> Result<Vec<SynthesisEntry>, ReadError> {
        let mut stmt = self.conn.prepare(
            "SELECT version, event, detail, at_unix_ms, by FROM synthesis_events
             WHERE person = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([person], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (version, event, detail, at_unix_ms, by) = row?;
            if let Some(event) = SynthesisEvent::from_code(&event) {
                out.push(SynthesisEntry {
                    version,
                    event,
                    detail,
                    at_unix_ms,
                    by,
                });
            }
        }
        Ok(out)
    }
}

/// Opens the backup at `path` with the recovery key `key` (`flags` as the caller needs) and
/// checks it is a session store this director knows; returns the connection and its schema
/// version. A missing backup is an error, never a new empty file.
fn open_backup(
    path: &Path,
    key: &RecoveryKey,
    flags: OpenFlags,
) -> Result<(Connection, i64), RestoreError> {
    let unreadable = |source| RestoreError::Unreadable {
        path: path.to_owned(),
        source,
    };
    std::fs::File::open(path).map_err(io_restore(path))?;
    super::sqlcipher_ready();
    let conn = Connection::open_with_flags(path, flags).map_err(unreadable)?;
    conn.pragma_update(None, "key", key.as_str())
        .map_err(unreadable)?;
    let tables: Vec<String> = match conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
    {
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            return Err(RestoreError::WrongRecoveryKey {
                path: path.to_owned(),
            });
        }
        other => other.map_err(unreadable)?,
    };
    let not_a_store = |why: String| RestoreError::NotAStore {
        path: path.to_owned(),
        why,
    };
    for needed in ["sessions", "log", "participants", "participant_names"] {
        if !tables.iter().any(|t| t == needed) {
            return Err(not_a_store(format!("no table {needed}")));
        }
    }
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(unreadable)?;
    if usize::try_from(version).is_ok_and(|v| v > SCHEMA_VERSION) {
        return Err(not_a_store(format!(
            "schema version {version} is newer than this director's ({SCHEMA_VERSION})"
        )));
    }
    Ok((conn, version))
}
