//! The store's errors, one enum per operation. SQLite failures (disk full, I/O error, a lock
//! held past the busy timeout) pass through as the `rusqlite` error, whose message is SQLite's.

use super::SessionId;
use std::path::PathBuf;

/// Why [`Store::open`](super::Store::open) failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The passphrase was empty: SQLCipher would leave the database unencrypted.
    #[error("empty passphrase refused: the session store is always encrypted")]
    EmptyPassphrase,
    /// The file exists but does not decrypt with this passphrase (or is not a SQLCipher
    /// database at all, e.g. a plain SQLite file).
    #[error("{}: wrong passphrase, or not an encrypted session store", path.display())]
    WrongPassphrase {
        /// The database file.
        path: PathBuf,
    },
    /// The database was written by a newer director, whose schema this build does not know.
    #[error("{}: schema version {found} is newer than this director's ({known})", path.display())]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// [`SCHEMA_VERSION`](super::SCHEMA_VERSION).
        known: usize,
    },
    /// SQLite did not switch to write-ahead logging (it answered another journal mode).
    #[error("{}: journal mode is {mode}, not wal", path.display())]
    NotWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite reported.
        mode: String,
    },
    /// Applying the pending migrations failed; none of them was kept.
    #[error("{}: migrating the schema", path.display())]
    Migration {
        /// The database file.
        path: PathBuf,
        /// What the migration runner reported.
        #[source]
        source: rusqlite_migration::Error,
    },
    /// A step of opening (named in `step`) failed in SQLite.
    #[error("{}: {step}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What was being done, e.g. "setting the key".
        step: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}

/// Why [`Store::create_session`](super::Store::create_session) failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateSessionError {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Why [`Store::append`](super::Store::append) or
/// [`Store::append_device_event`](super::Store::append_device_event) failed. Nothing was
/// stored.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// No session has this id.
    #[error("unknown session {session}")]
    UnknownSession {
        /// The id asked for.
        session: SessionId,
    },
    /// A number is above `i64::MAX`, the largest SQLite stores.
    #[error("{what} {value} is out of range (at most {})", i64::MAX)]
    OutOfRange {
        /// Which argument: `"at_ms"` or `"device_seq"`.
        what: &'static str,
        /// The value given.
        value: u64,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Why a read ([`Store::sessions`](super::Store::sessions), [`Store::log`](super::Store::log),
/// [`Store::participants`](super::Store::participants), [`Store::quick_check`](super::Store::quick_check)
/// and the like) failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No session has this id.
    #[error("unknown session {session}")]
    UnknownSession {
        /// The id asked for.
        session: SessionId,
    },
    /// SQLite failed, or a stored value did not fit its Rust type.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Why [`Store::set_participant`](super::Store::set_participant) or
/// [`Store::set_participant_name`](super::Store::set_participant_name) failed. Nothing was
/// changed.
#[derive(Debug, thiserror::Error)]
pub enum ParticipantError {
    /// No session has this id.
    #[error("unknown session {session}")]
    UnknownSession {
        /// The id asked for.
        session: SessionId,
    },
    /// The session has no participant with this id: give them a pseudonym first.
    #[error("session {session}: unknown participant {participant}")]
    UnknownParticipant {
        /// The session.
        session: SessionId,
        /// The participant id asked for.
        participant: String,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Why [`Store::change_passphrase`](super::Store::change_passphrase) failed.
#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    /// The new passphrase was empty; nothing changed.
    #[error("empty passphrase refused: the session store is always encrypted")]
    EmptyPassphrase,
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Why a write of the personal-data commands ([`Store::log_access`](super::Store::log_access),
/// [`Store::set_recovery_key`](super::Store::set_recovery_key),
/// [`Store::purge`](super::Store::purge)) failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// No session has this id.
    #[error("unknown session {session}")]
    UnknownSession {
        /// The id asked for.
        session: SessionId,
    },
    /// A number is above `i64::MAX`, the largest SQLite stores.
    #[error("{what} {value} is out of range (at most {})", i64::MAX)]
    OutOfRange {
        /// What it counts (`"play_ms"`...).
        what: &'static str,
        /// The value given.
        value: u64,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Why a recovery key typed or read from a file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecoveryKeyError {
    /// It does not have 40 characters once spaces and dashes are dropped.
    #[error("a recovery key has 40 characters (8 groups of 5); this one has {found}")]
    Length {
        /// How many characters it has (spaces and dashes dropped).
        found: usize,
    },
    /// A character is not of the key's alphabet (A to Z, 2 to 7).
    #[error("character {ch:?} at position {position} is not in a recovery key (A-Z, 2-7)")]
    Character {
        /// The character.
        ch: char,
        /// Its position, from 1, spaces and dashes dropped.
        position: usize,
    },
}

/// Why [`Store::backup`](super::Store::backup) failed; the target file is untouched (a
/// partial copy is left, at worst, in `<out>.part`).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// No recovery key was created: backups are encrypted with it.
    #[error("no recovery key yet: create one first (db recovery-key)")]
    NoRecoveryKey,
    /// Writing or renaming the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite (SQLCipher's export) failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Why [`Store::restore`](super::Store::restore) failed; nothing was written at the target.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The new passphrase is empty.
    #[error("empty passphrase refused: the session store is always encrypted")]
    EmptyPassphrase,
    /// The target exists: a restore never overwrites.
    #[error("{} already exists: a restore never overwrites a file; choose another path", path.display())]
    TargetExists {
        /// The target.
        path: PathBuf,
    },
    /// The backup does not exist or cannot be read.
    #[error("{}: cannot read the backup: {source}", path.display())]
    Unreadable {
        /// The backup.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The backup does not decrypt with this recovery key (or is not a backup at all).
    #[error("{}: wrong recovery key, or not a backup of the session store", path.display())]
    WrongRecoveryKey {
        /// The backup.
        path: PathBuf,
    },
    /// The backup decrypts but is not a session store this director knows.
    #[error("{}: not a session store backup ({why})", path.display())]
    NotAStore {
        /// The backup.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Writing or renaming the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// Opening the restored store failed.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// SQLite failed while copying.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Why [`Store::erase_participant`](super::Store::erase_participant) failed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum EraseError<E: std::error::Error + 'static> {
    /// No session has this id.
    #[error("unknown session {session}")]
    UnknownSession {
        /// The id asked for.
        session: SessionId,
    },
    /// The caller's rewrite of a log record failed.
    #[error("session {session}: log record {seq} cannot be rewritten: {source}")]
    Rewrite {
        /// The session.
        session: SessionId,
        /// The record's position.
        seq: u64,
        /// The caller's error.
        #[source]
        source: E,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}
