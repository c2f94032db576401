//! The store's schema: the append-only list of migrations, tracked by `PRAGMA user_version`.

/// Every migration, oldest first. Migration `i` takes the schema from version `i` to `i + 1`;
/// version 0 is an empty database and [`SCHEMA_VERSION`] is the newest.
///
/// Append-only: a shipped migration is never edited nor removed (house style, after cargo's
/// `util/sqlite.rs`), because a facilitator's laptop may hold a database at any earlier version.
/// A migration that rebuilds a table must check foreign keys before it commits.
///
/// Version 1 (every table `STRICT`, so a value of the wrong type is refused, not coerced):
/// - `sessions (id, scenario, created_at_unix_ms, label)`: one row per session.
/// - `log (session → sessions, seq, at_ms, kind, payload)`, key `(session, seq)`: every input
///   of a session in order, `seq` from 1, `at_ms` session time in ms, `payload` opaque bytes.
/// - `device_events (session, device, device_seq, log_seq)`, key `(session, device,
///   device_seq)`, `(session, log_seq) → log`: which log record holds each device event, so a
///   resent event is stored once (DESIGN principle 2).
/// - `participants (session → sessions, id, pseudonym)`, key `(session, id)`.
/// - `participant_names (session, id, name)`, key and reference `(session, id) → participants`:
///   the only place a personal name lives (DESIGN principle 6).
///
/// Version 2 (security and personal data):
/// - `access_log (id, at_unix_ms, actor, action, session, participant, detail)`: who read,
///   exported, erased, purged, backed up... what, and when. Append-only: triggers refuse every
///   `UPDATE` and `DELETE`. `session` is a plain number, not a reference, so an entry outlives a
///   purged session.
/// - `recovery_key (id = 1, key, created_at_unix_ms)`: at most one row, the recovery key that
///   encrypts backups (40 base32 characters), kept inside the encrypted store.
/// - `activity_figures (month, scenario, sessions, participants, play_ms, participant_ms)`, key
///   `(month, scenario)`: the anonymous activity figures (FSE+) of purged sessions; `month` is
///   `YYYY-MM` (UTC), times in ms.
pub const MIGRATIONS: &[&str] = &[
    // Version 1.
    "CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        scenario TEXT NOT NULL,
        created_at_unix_ms INTEGER NOT NULL,
        label TEXT NOT NULL
    ) STRICT;
    CREATE TABLE log (
        session INTEGER NOT NULL REFERENCES sessions(id),
        seq INTEGER NOT NULL CHECK (seq >= 1),
        at_ms INTEGER NOT NULL CHECK (at_ms >= 0),
        kind TEXT NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY (session, seq)
    ) STRICT;
    CREATE TABLE device_events (
        session INTEGER NOT NULL,
        device TEXT NOT NULL,
        device_seq INTEGER NOT NULL CHECK (device_seq >= 0),
        log_seq INTEGER NOT NULL,
        PRIMARY KEY (session, device, device_seq),
        UNIQUE (session, log_seq),
        FOREIGN KEY (session, log_seq) REFERENCES log(session, seq)
    ) STRICT;
    CREATE TABLE participants (
        session INTEGER NOT NULL REFERENCES sessions(id),
        id TEXT NOT NULL,
        pseudonym TEXT NOT NULL,
        PRIMARY KEY (session, id)
    ) STRICT;
    CREATE TABLE participant_names (
        session INTEGER NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (session, id),
        FOREIGN KEY (session, id) REFERENCES participants(session, id)
    ) STRICT;",
    // Version 2.
    "CREATE TABLE access_log (
        id INTEGER PRIMARY KEY,
        at_unix_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        session INTEGER,
        participant TEXT,
        detail TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
    BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
    CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
    BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
    CREATE TABLE recovery_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key TEXT NOT NULL,
        created_at_unix_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE activity_figures (
        month TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
        scenario TEXT NOT NULL,
        sessions INTEGER NOT NULL CHECK (sessions >= 0),
        participants INTEGER NOT NULL CHECK (participants >= 0),
        play_ms INTEGER NOT NULL CHECK (play_ms >= 0),
        participant_ms INTEGER NOT NULL CHECK (participant_ms >= 0),
        PRIMARY KEY (month, scenario)
    ) STRICT;",
];

/// The schema version this build writes: the number of [`MIGRATIONS`].
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();
