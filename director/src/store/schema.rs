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
///
/// Version 3 (the person register, DESIGN principle 8: a person is one person):
/// - `persons (id, pseudonym, entered_on, prescriber_name, prescriber_structure, archived,
///   merged_into → persons, erased_at_unix_ms, created_at_unix_ms, last_active_unix_ms)`: one
///   row per person, `id` random (`pers-…`), `entered_on` the date they entered the
///   orientation phase (`YYYY-MM-DD`), the prescriber (job counsellor and structure or
///   antenne), no contact details. `merged_into` points at the person a duplicate was merged
///   into (reversible); an erased person keeps a tombstone row (pseudonym `effacé`, nothing
///   else) so old logs still resolve.
/// - `person_names (person → persons, name)`: the person's civil name, the register's only
///   personal name.
/// - `person_journal (id, at_unix_ms, person, change, detail)`: every change to the register
///   (created, renamed, prescriber, archived, merged...). Rows are never updated (a trigger
///   refuses it); only an erasure or a purge of the person deletes theirs.
/// - `slot_persons (session → sessions, slot, person → persons)`: which person holds each slot
///   of each session. For sessions logged from this version on it mirrors the log's
///   `AssignPerson` records (the log stays the truth); for older sessions it is the only source.
/// - `legacy_sessions (session)`: the sessions that existed when this migration ran; the
///   director gives each of their slots its own new person (never merging across sessions),
///   then empties it. The migration cannot do it in SQL: the slots are in the log's payloads.
/// - `erasures (person, at_unix_ms)`: persons erased on request, so that a backup restored
///   later has them erased again.
///
/// Version 4 (roadmaps, plan, results from other tools, funders' figures; issue 18):
/// - `session_series (id, activity, rrule, first_local, minutes, place, created_at_unix_ms)`: a
///   recurring collective session, its RFC 5545 rule (`FREQ=WEEKLY;INTERVAL=2;COUNT=6`) from its
///   first start in Europe/Paris local time (`YYYY-MM-DDTHH:MM`).
/// - `planned_sessions (id, activity → catalogue, starts_at_unix_ms, minutes, place, series →
///   session_series, session, state)`: the plan; `session` is the director session created from
///   it (a plain number, so a purge leaves it), `state` planned / held / cancelled.
/// - `roadmap_entries (id, person → persons, activity, prescribed_by, prescribed_on, status,
///   planned → planned_sessions, session, result, changed_at_unix_ms)`: one activity prescribed
///   to one person; `status` waiting / planned / done / absent / interrupted / cancelled; done
///   and absent are set by a session's close (or a result), never by hand.
/// - `roadmap_history (id, entry → roadmap_entries, at_unix_ms, status, detail)`: every status
///   change (append-only: a trigger refuses updates); deleted with the person.
/// - `external_results (id, person → persons, activity, tool, taken_on, administered_by, fields,
///   recorded_at_unix_ms)`: a result recorded from another tool; `fields` is JSON
///   `[[field id, label, value], …]` as the tool gave it.
/// - `result_attachments (result → external_results, file_name, sha256, bytes)`: the optional PDF,
///   kept whole inside the encrypted store, never parsed.
/// - `figures_totals (month, kind, sessions, hours_ms, person_ms)`: sessions and hours of purged
///   activity per month and activity kind (they add up).
/// - `figures_people (period, kind, persons, complete, frozen_at_unix_ms)`: distinct persons per
///   month (`YYYY-MM`) or year (`YYYY`) and kind (or `all`), frozen at the first purge that
///   touches the period, over everything the store then held for it (distinct counts do not add
///   up); `complete` = the period had ended when frozen. Version 2's `activity_figures` rows are
///   carried over per month with the kind `unclassified` (their person counts, summed over
///   purges and scenarios, are an upper bound: `complete` 0); that table is no longer written.
///
/// Version 5 (the facilitator's day in one window; issue 15):
/// - `room_layout (scenario, device, station, updated_at_unix_ms)`, key `(scenario, device)`:
///   which station each device holds when that scenario is played, kept from one day to the
///   next; the director registers a device with it in every session of the scenario.
/// - `device_names (device, name, updated_at_unix_ms)`: the name the facilitator gave a paired
///   device (« Tablette 3 »), shown by the consoles.
/// - `information_notices (person, given_at_unix_ms, given_by)`: when the participants'
///   information notice (what is recorded about them, why, for how long, their rights) was
///   given to a person of the register, and by which facilitator; deleted with the person.
/// - `device_roles (device, role, updated_at_unix_ms)`: the role each paired device plays
///   (`headset`, `screen`, `terminal`), given from the console or first announced by the
///   device; a device that connects without one is told it.
///
/// Version 6 (every station of the games; issue 17):
/// - `device_sound (device, volume_percent, muted, read_aloud, updated_at_unix_ms)`: how each
///   device plays sound, as the facilitator set it.
/// - `room_settings (key, value, updated_at_unix_ms)`: the room's settings (`voices_cut`).
///
/// Version 7 (after the game in the console; issue 16):
/// - `synthesis_events (id, person, version, event, detail, at_unix_ms, by)`: a person's
///   synthesis version by version (its content's hash): the consent given, refused or
///   withdrawn for a version, each final written, each hand-over to the prescriber (`detail`:
///   to whom). Append-only (a trigger refuses `UPDATE`); deleted with the person (erasure,
///   purge).
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
    // Version 3.
    "CREATE TABLE persons (
        id TEXT PRIMARY KEY,
        pseudonym TEXT NOT NULL,
        entered_on TEXT CHECK (entered_on IS NULL
            OR entered_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        prescriber_name TEXT NOT NULL DEFAULT '',
        prescriber_structure TEXT NOT NULL DEFAULT '',
        archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
        merged_into TEXT REFERENCES persons(id),
        erased_at_unix_ms INTEGER,
        created_at_unix_ms INTEGER NOT NULL,
        last_active_unix_ms INTEGER NOT NULL,
        CHECK (merged_into IS NULL OR merged_into <> id)
    ) STRICT;
    CREATE TABLE person_names (
        person TEXT PRIMARY KEY REFERENCES persons(id),
        name TEXT NOT NULL
    ) STRICT;
    CREATE TABLE person_journal (
        id INTEGER PRIMARY KEY,
        at_unix_ms INTEGER NOT NULL,
        person TEXT NOT NULL,
        change TEXT NOT NULL,
        detail TEXT NOT NULL
    ) STRICT;
    CREATE INDEX person_journal_person ON person_journal (person);
    CREATE TRIGGER person_journal_no_update BEFORE UPDATE ON person_journal
    BEGIN SELECT RAISE(ABORT, 'person_journal is append-only'); END;
    CREATE TABLE slot_persons (
        session INTEGER NOT NULL REFERENCES sessions(id),
        slot TEXT NOT NULL,
        person TEXT NOT NULL REFERENCES persons(id),
        PRIMARY KEY (session, slot)
    ) STRICT;
    CREATE INDEX slot_persons_person ON slot_persons (person);
    CREATE TABLE legacy_sessions (
        session INTEGER PRIMARY KEY REFERENCES sessions(id)
    ) STRICT;
    INSERT INTO legacy_sessions (session) SELECT id FROM sessions;
    CREATE TABLE erasures (
        person TEXT PRIMARY KEY,
        at_unix_ms INTEGER NOT NULL
    ) STRICT;",
    // Version 4.
    "CREATE TABLE session_series (
        id INTEGER PRIMARY KEY,
        activity TEXT NOT NULL,
        rrule TEXT NOT NULL,
        first_local TEXT NOT NULL
            CHECK (first_local GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]'),
        minutes INTEGER NOT NULL CHECK (minutes > 0),
        place TEXT NOT NULL,
        created_at_unix_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE planned_sessions (
        id INTEGER PRIMARY KEY,
        activity TEXT NOT NULL,
        starts_at_unix_ms INTEGER NOT NULL,
        minutes INTEGER NOT NULL CHECK (minutes > 0),
        place TEXT NOT NULL,
        series INTEGER REFERENCES session_series(id),
        session INTEGER UNIQUE,
        state TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'held', 'cancelled')),
        created_at_unix_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX planned_sessions_start ON planned_sessions (starts_at_unix_ms);
    CREATE TABLE roadmap_entries (
        id INTEGER PRIMARY KEY,
        person TEXT NOT NULL REFERENCES persons(id),
        activity TEXT NOT NULL,
        prescribed_by TEXT NOT NULL,
        prescribed_on TEXT NOT NULL
            CHECK (prescribed_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        status TEXT NOT NULL CHECK (status IN
            ('waiting', 'planned', 'done', 'absent', 'interrupted', 'cancelled')),
        planned INTEGER REFERENCES planned_sessions(id),
        session INTEGER,
        result INTEGER,
        changed_at_unix_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX roadmap_entries_person ON roadmap_entries (person);
    CREATE INDEX roadmap_entries_activity ON roadmap_entries (activity, status);
    CREATE TABLE roadmap_history (
        id INTEGER PRIMARY KEY,
        entry INTEGER NOT NULL REFERENCES roadmap_entries(id),
        at_unix_ms INTEGER NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER roadmap_history_no_update BEFORE UPDATE ON roadmap_history
    BEGIN SELECT RAISE(ABORT, 'roadmap_history is append-only'); END;
    CREATE TABLE external_results (
        id INTEGER PRIMARY KEY,
        person TEXT NOT NULL REFERENCES persons(id),
        activity TEXT NOT NULL,
        tool TEXT NOT NULL,
        taken_on TEXT NOT NULL
            CHECK (taken_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        administered_by TEXT NOT NULL,
        fields TEXT NOT NULL,
        recorded_at_unix_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX external_results_person ON external_results (person);
    CREATE TABLE result_attachments (
        result INTEGER PRIMARY KEY REFERENCES external_results(id),
        file_name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes BLOB NOT NULL
    ) STRICT;
    CREATE TABLE figures_totals (
        month TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
        kind TEXT NOT NULL,
        sessions INTEGER NOT NULL CHECK (sessions >= 0),
        hours_ms INTEGER NOT NULL CHECK (hours_ms >= 0),
        person_ms INTEGER NOT NULL CHECK (person_ms >= 0),
        PRIMARY KEY (month, kind)
    ) STRICT;
    CREATE TABLE figures_people (
        period TEXT NOT NULL CHECK (period GLOB '[0-9][0-9][0-9][0-9]'
            OR period GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
        kind TEXT NOT NULL,
        persons INTEGER NOT NULL CHECK (persons >= 0),
        complete INTEGER NOT NULL CHECK (complete IN (0, 1)),
        frozen_at_unix_ms INTEGER NOT NULL,
        PRIMARY KEY (period, kind)
    ) STRICT;
    INSERT INTO figures_totals (month, kind, sessions, hours_ms, person_ms)
        SELECT month, 'unclassified', sum(sessions), sum(play_ms), sum(participant_ms)
        FROM activity_figures GROUP BY month;
    INSERT INTO figures_people (period, kind, persons, complete, frozen_at_unix_ms)
        SELECT month, 'unclassified', sum(participants), 0, 0 FROM activity_figures GROUP BY month;",
    // 5: the room layout and the devices' names.
    "CREATE TABLE room_layout (
        scenario TEXT NOT NULL,
        device TEXT NOT NULL,
        station TEXT NOT NULL,
        updated_at_unix_ms INTEGER NOT NULL,
        PRIMARY KEY (scenario, device)
    ) STRICT;
    CREATE TABLE device_names (
        device TEXT PRIMARY KEY,
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
        updated_at_unix_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE information_notices (
        person TEXT PRIMARY KEY,
        given_at_unix_ms INTEGER NOT NULL,
        given_by TEXT NOT NULL
    ) STRICT;
    CREATE TABLE device_roles (
        device TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('headset', 'screen', 'terminal')),
        updated_at_unix_ms INTEGER NOT NULL
    ) STRICT;",
    // 6: each device's sound, and the room's settings (its voices cut).
    "CREATE TABLE device_sound (
        device TEXT PRIMARY KEY,
        volume_percent INTEGER NOT NULL CHECK (volume_percent BETWEEN 0 AND 100),
        muted INTEGER NOT NULL CHECK (muted IN (0, 1)),
        read_aloud INTEGER NOT NULL CHECK (read_aloud IN (0, 1)),
        updated_at_unix_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE room_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at_unix_ms INTEGER NOT NULL
    ) STRICT;",
    // 7: a person's synthesis, version by version: consent, finals, hand-overs (append-only).
    "CREATE TABLE synthesis_events (
        id INTEGER PRIMARY KEY,
        person TEXT NOT NULL,
        version TEXT NOT NULL CHECK (length(version) BETWEEN 1 AND 16),
        event TEXT NOT NULL CHECK (event IN
            ('consent_given', 'consent_refused', 'consent_withdrawn', 'final_written', 'handed_over')),
        detail TEXT NOT NULL,
        at_unix_ms INTEGER NOT NULL,
        by TEXT NOT NULL
    ) STRICT;
    CREATE INDEX synthesis_events_person ON synthesis_events (person, id);
    CREATE TRIGGER synthesis_events_no_update BEFORE UPDATE ON synthesis_events
        BEGIN SELECT RAISE(ABORT, 'synthesis_events is append-only'); END;",
];

/// The schema version this build writes: the number of [`MIGRATIONS`].
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();
