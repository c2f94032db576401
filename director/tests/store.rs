//! The session store: encryption, migrations, log numbering, idempotent device events,
//! persistence, names kept apart from pseudonyms, passphrase change, integrity check.
#![expect(
    clippy::expect_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]

use boussole_director::store::{
    AppendError, Appended, LogRecord, LogSeq, MIGRATIONS, OpenError, Participant, ParticipantError,
    ReadError, Record, RekeyError, SCHEMA_VERSION, SessionId, Store,
};
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const PASS: &str = "correct horse battery staple";

/// A fresh folder and the path of a store inside it (the folder lives as long as the guard).
fn db_path() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("sessions.db");
    (dir, path)
}

fn open(path: &Path) -> Store {
    Store::open(path, PASS).expect("store opens with the right passphrase")
}

/// A plain rusqlite connection to the encrypted file, keyed like the store keys it.
fn raw(path: &Path) -> Connection {
    boussole_director::store::sqlcipher_ready();
    let conn = Connection::open(path).expect("raw connection");
    conn.pragma_update(None, "key", PASS).expect("key");
    conn
}

fn user_version(path: &Path) -> i64 {
    raw(path)
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("user_version")
}

fn record(seq: u64, at_ms: u64, kind: &str, payload: &[u8]) -> LogRecord {
    LogRecord {
        seq: LogSeq(seq),
        at_ms,
        kind: kind.to_owned(),
        payload: payload.to_vec(),
    }
}

/// Every file SQLite may have written for `path` (the database, its WAL and shared memory).
fn files_of(path: &Path) -> Vec<Vec<u8>> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            fs::read(PathBuf::from(name)).ok()
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_file_is_encrypted() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let s = store
        .create_session("scape_attitudes", "Groupe du mardi", 1)
        .unwrap();
    store.set_participant(s, "p1", "Pseudo 1").unwrap();
    store
        .set_participant_name(s, "p1", Some("Marie-Claude Dupont"))
        .unwrap();
    store
        .append(s, 10, "note", b"plain words in a payload")
        .unwrap();
    // Still open: the WAL holds the latest pages.
    let mut files = files_of(&path);
    drop(store);
    files.extend(files_of(&path));

    let db = fs::read(&path).unwrap();
    assert!(!db.starts_with(b"SQLite format 3\0"), "plain SQLite header");
    for bytes in &files {
        for secret in [
            &b"Marie-Claude"[..],
            b"Pseudo 1",
            b"Groupe du mardi",
            b"plain words",
            b"CREATE TABLE",
        ] {
            assert!(!contains(bytes, secret), "{secret:?} readable on disk");
        }
    }
}

#[test]
fn a_wrong_passphrase_is_a_clear_error() {
    let (_dir, path) = db_path();
    drop(open(&path));
    let err = Store::open(&path, "wrong").unwrap_err();
    assert!(
        matches!(&err, OpenError::WrongPassphrase { path: p } if *p == path),
        "{err:?}"
    );
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
}

#[test]
fn an_empty_passphrase_is_refused() {
    let (_dir, path) = db_path();
    assert!(matches!(
        Store::open(&path, ""),
        Err(OpenError::EmptyPassphrase)
    ));
    assert!(
        !path.exists(),
        "nothing is created with an empty passphrase"
    );
}

#[test]
fn a_plain_sqlite_file_is_refused() {
    let (_dir, path) = db_path();
    boussole_director::store::sqlcipher_ready();
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    assert!(matches!(
        Store::open(&path, PASS),
        Err(OpenError::WrongPassphrase { .. })
    ));
}

#[test]
fn a_missing_folder_is_an_error_not_a_panic() {
    let (dir, _) = db_path();
    let path = dir.path().join("no such folder").join("sessions.db");
    assert!(matches!(
        Store::open(&path, PASS),
        Err(OpenError::Sqlite { .. })
    ));
}

#[test]
fn migrates_an_empty_database_to_the_latest_version() {
    let (_dir, path) = db_path();
    let store = open(&path);
    assert!(store.sessions().unwrap().is_empty());
    drop(store);
    assert_eq!(user_version(&path), i64::try_from(SCHEMA_VERSION).unwrap());
    let mode: String = raw(&path)
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn migrates_from_every_earlier_version() {
    for k in 0..SCHEMA_VERSION {
        let (_dir, path) = db_path();
        {
            // The database an older director, knowing the first k migrations, left behind.
            let mut conn = raw(&path);
            if k > 0 {
                Migrations::new(MIGRATIONS[..k].iter().copied().map(M::up).collect())
                    .to_latest(&mut conn)
                    .unwrap();
            }
        }
        assert_eq!(user_version(&path), i64::try_from(k).unwrap());

        let mut store = open(&path);
        let s = store.create_session("scenario", "label", 0).unwrap();
        assert_eq!(store.append(s, 0, "kind", b"x").unwrap(), LogSeq(1));
        assert!(store.quick_check().unwrap(), "from version {k}");
        drop(store);
        assert_eq!(
            user_version(&path),
            i64::try_from(SCHEMA_VERSION).unwrap(),
            "from version {k}"
        );
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let (_dir, path) = db_path();
    drop(open(&path));
    let newer = i64::try_from(SCHEMA_VERSION + 1).unwrap();
    raw(&path)
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let err = Store::open(&path, PASS).unwrap_err();
    assert!(
        matches!(err, OpenError::TooNew { found, known, .. } if found == newer && known == SCHEMA_VERSION),
        "{err:?}"
    );
}

#[test]
fn sessions_are_listed_and_found_by_id() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let a = store
        .create_session("scape_attitudes", "mardi", 1_700_000_000_000)
        .unwrap();
    let b = store
        .create_session("immersion_boulangerie", "jeudi", 1_700_000_100_000)
        .unwrap();
    assert_ne!(a, b);
    let all = store.sessions().unwrap();
    assert_eq!(all.iter().map(|s| s.id).collect::<Vec<_>>(), [a, b]);
    let info = store.session(b).unwrap().unwrap();
    assert_eq!(info.scenario, "immersion_boulangerie");
    assert_eq!(info.label, "jeudi");
    assert_eq!(info.created_at_unix_ms, 1_700_000_100_000);
    assert_eq!(store.session(SessionId(999)).unwrap(), None);
}

#[test]
fn the_log_is_numbered_from_one_per_session_in_order() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let a = store.create_session("s", "a", 0).unwrap();
    let b = store.create_session("s", "b", 0).unwrap();
    assert_eq!(store.append(a, 0, "start", b"a1").unwrap(), LogSeq(1));
    assert_eq!(store.append(a, 500, "go", b"a2").unwrap(), LogSeq(2));
    assert_eq!(store.append(b, 10, "start", b"b1").unwrap(), LogSeq(1));
    // Session time may repeat: order is the seq, not the time.
    assert_eq!(store.append(a, 500, "note", b"").unwrap(), LogSeq(3));

    assert_eq!(
        store.log(a).unwrap(),
        [
            record(1, 0, "start", b"a1"),
            record(2, 500, "go", b"a2"),
            record(3, 500, "note", b""),
        ]
    );
    assert_eq!(store.log(b).unwrap(), [record(1, 10, "start", b"b1")]);
    assert_eq!(
        store.log_since(a, LogSeq(1)).unwrap(),
        [record(2, 500, "go", b"a2"), record(3, 500, "note", b"")]
    );
    assert!(store.log_since(a, LogSeq(3)).unwrap().is_empty());
    assert!(store.log_since(a, LogSeq(u64::MAX)).unwrap().is_empty());
}

#[test]
fn a_resent_device_event_is_stored_once() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let s = store.create_session("s", "l", 0).unwrap();
    assert_eq!(store.append(s, 0, "start", b"").unwrap(), LogSeq(1));
    let first = store
        .append_device_event(s, "terminal-1", 1, 100, "answer", b"original")
        .unwrap();
    assert_eq!(first, Appended::New(LogSeq(2)));
    let resent = store
        .append_device_event(s, "terminal-1", 1, 900, "answer", b"resent")
        .unwrap();
    assert_eq!(resent, Appended::Duplicate(LogSeq(2)));
    assert_eq!(resent.seq(), LogSeq(2));
    // Another device may use the same number; the same device goes on with the next one.
    assert_eq!(
        store
            .append_device_event(s, "terminal-2", 1, 200, "answer", b"t2")
            .unwrap(),
        Appended::New(LogSeq(3))
    );
    assert_eq!(
        store
            .append_device_event(s, "terminal-1", 2, 300, "answer", b"t1b")
            .unwrap(),
        Appended::New(LogSeq(4))
    );
    // The same device and number in another session is another event.
    let other = store.create_session("s", "other", 0).unwrap();
    assert_eq!(
        store
            .append_device_event(other, "terminal-1", 1, 5, "answer", b"o")
            .unwrap(),
        Appended::New(LogSeq(1))
    );

    let log = store.log(s).unwrap();
    assert_eq!(log.len(), 4);
    assert_eq!(log[1], record(2, 100, "answer", b"original"));
}

#[test]
fn bad_input_is_an_error_and_stores_nothing() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let s = store.create_session("s", "l", 0).unwrap();
    let nobody = SessionId(999);

    assert!(matches!(
        store.append(nobody, 0, "k", b""),
        Err(AppendError::UnknownSession { session }) if session == nobody
    ));
    assert!(matches!(
        store.append_device_event(nobody, "d", 1, 0, "k", b""),
        Err(AppendError::UnknownSession { .. })
    ));
    assert!(matches!(
        store.append(s, u64::MAX, "k", b""),
        Err(AppendError::OutOfRange {
            what: "at_ms",
            value: u64::MAX
        })
    ));
    assert!(matches!(
        store.append_device_event(s, "d", u64::MAX, 0, "k", b""),
        Err(AppendError::OutOfRange {
            what: "device_seq",
            ..
        })
    ));
    assert!(matches!(
        store.log(nobody),
        Err(ReadError::UnknownSession { .. })
    ));
    assert!(matches!(
        store.participants(nobody),
        Err(ReadError::UnknownSession { .. })
    ));
    assert!(matches!(
        store.participant_name(nobody, "p1"),
        Err(ReadError::UnknownSession { .. })
    ));
    assert!(matches!(
        store.set_participant(nobody, "p1", "Pseudo"),
        Err(ParticipantError::UnknownSession { .. })
    ));
    assert!(matches!(
        store.set_participant_name(s, "ghost", Some("Jean")),
        Err(ParticipantError::UnknownParticipant { participant, .. }) if participant == "ghost"
    ));
    assert!(store.log(s).unwrap().is_empty());
    // Still numbered from 1 after the refusals.
    assert_eq!(
        store.append(s, i64::MAX.unsigned_abs(), "k", b"").unwrap(),
        LogSeq(1)
    );
}

#[test]
fn everything_survives_close_and_reopen() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let s = store
        .create_session("scape_pandemie", "vendredi", 42)
        .unwrap();
    store.append(s, 0, "start", b"\x00\x01\xff").unwrap();
    store
        .append_device_event(s, "screen", 7, 50, "ack", b"a")
        .unwrap();
    store.set_participant(s, "p1", "Pseudo 1").unwrap();
    store.set_participant_name(s, "p1", Some("Amina")).unwrap();
    drop(store);

    let mut store = open(&path);
    assert_eq!(store.session(s).unwrap().unwrap().label, "vendredi");
    assert_eq!(
        store.log(s).unwrap(),
        [
            record(1, 0, "start", b"\x00\x01\xff"),
            record(2, 50, "ack", b"a")
        ]
    );
    assert_eq!(
        store
            .append_device_event(s, "screen", 7, 60, "ack", b"a")
            .unwrap(),
        Appended::Duplicate(LogSeq(2))
    );
    assert_eq!(store.append(s, 70, "go", b"").unwrap(), LogSeq(3));
    assert_eq!(
        store.participant_name(s, "p1").unwrap().as_deref(),
        Some("Amina")
    );
}

#[test]
fn names_live_apart_from_pseudonyms_and_can_be_erased() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let s = store.create_session("s", "l", 0).unwrap();
    store.set_participant(s, "p2", "Pseudo 2").unwrap();
    store.set_participant(s, "p1", "Pseudo 1").unwrap();
    store.set_participant(s, "p1", "Pseudo Un").unwrap();
    store
        .set_participant_name(s, "p1", Some("Jean Martin"))
        .unwrap();
    store
        .set_participant_name(s, "p1", Some("Jean-Pierre Martin"))
        .unwrap();

    let pseudonymous = [
        Participant {
            id: "p1".into(),
            pseudonym: "Pseudo Un".into(),
        },
        Participant {
            id: "p2".into(),
            pseudonym: "Pseudo 2".into(),
        },
    ];
    assert_eq!(store.participants(s).unwrap(), pseudonymous);
    assert_eq!(
        store.participant_name(s, "p1").unwrap().as_deref(),
        Some("Jean-Pierre Martin")
    );
    assert_eq!(store.participant_name(s, "p2").unwrap(), None);
    drop(store);

    // The name is in `participant_names` and nowhere else.
    let conn = raw(&path);
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM participant_names WHERE name LIKE '%Martin%'"),
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM participants WHERE pseudonym LIKE '%Martin%'"),
        0
    );
    drop(conn);

    let mut store = open(&path);
    store.set_participant_name(s, "p1", None).unwrap();
    assert_eq!(store.participant_name(s, "p1").unwrap(), None);
    // No older copy of the page waits in the write-ahead log.
    let wal = path.with_file_name("sessions.db-wal");
    assert_eq!(fs::metadata(&wal).map_or(0, |m| m.len()), 0);
    assert_eq!(store.participants(s).unwrap(), pseudonymous);
    // Erasing again is not an error.
    store.set_participant_name(s, "p1", None).unwrap();
    drop(store);
    assert_eq!(open(&path).participant_name(s, "p1").unwrap(), None);
}

#[test]
fn a_changed_passphrase_opens_the_store_and_the_old_one_no_longer_does() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let s = store.create_session("s", "l", 0).unwrap();
    store.append(s, 1, "k", b"kept").unwrap();
    assert!(matches!(
        store.change_passphrase(""),
        Err(RekeyError::EmptyPassphrase)
    ));
    store.change_passphrase("a new passphrase").unwrap();
    // The open connection goes on working under the new key.
    assert_eq!(store.append(s, 2, "k", b"after").unwrap(), LogSeq(2));
    drop(store);

    assert!(matches!(
        Store::open(&path, PASS),
        Err(OpenError::WrongPassphrase { .. })
    ));
    let store = Store::open(&path, "a new passphrase").unwrap();
    assert_eq!(
        store.log(s).unwrap(),
        [record(1, 1, "k", b"kept"), record(2, 2, "k", b"after")]
    );
    assert!(store.quick_check().unwrap());
}

#[test]
fn quick_check_is_ok_on_a_sound_store() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    assert!(store.quick_check().unwrap());
    let s = store.create_session("s", "l", 0).unwrap();
    for i in 0..200 {
        store.append(s, i, "k", &[0xab; 300]).unwrap();
    }
    assert!(store.quick_check().unwrap());
}

#[test]
fn data_of_version_1_survives_the_personal_data_migration() {
    let (_dir, path) = db_path();
    {
        let mut conn = raw(&path);
        Migrations::new(MIGRATIONS[..1].iter().copied().map(M::up).collect())
            .to_latest(&mut conn)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO sessions VALUES (1, 'scape_attitudes', 5, 'mardi');
             INSERT INTO log VALUES (1, 1, 0, 'command', x'0102');
             INSERT INTO participants VALUES (1, 'P1', 'Renard');
             INSERT INTO participant_names VALUES (1, 'P1', 'Awa Diallo');",
        )
        .unwrap();
    }
    let mut store = open(&path);
    let s = SessionId(1);
    assert_eq!(
        store.log(s).unwrap(),
        [record(1, 0, "command", b"\x01\x02")]
    );
    assert_eq!(
        store.participant_name(s, "P1").unwrap().as_deref(),
        Some("Awa Diallo")
    );
    // The version 2 tables exist and start empty.
    assert!(store.access_log().unwrap().is_empty());
    assert!(store.activity_figures().unwrap().is_empty());
    assert!(store.recovery_key().unwrap().is_none());
    assert_eq!(store.append(s, 9, "command", b"x").unwrap(), LogSeq(2));
}

#[test]
fn the_access_log_is_append_only() {
    use boussole_director::store::{AccessAction, AccessEntry};
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let entry = AccessEntry {
        at_unix_ms: 1_700_000_000_000,
        actor: "animatrice".into(),
        action: AccessAction::SessionExported,
        session: Some(SessionId(3)),
        participant: None,
        detail: "csv".into(),
    };
    store.log_access(&entry).unwrap();
    assert_eq!(store.access_log().unwrap(), std::slice::from_ref(&entry));
    drop(store);
    let conn = raw(&path);
    for sql in [
        "UPDATE access_log SET actor = 'quelqu''un d''autre'",
        "DELETE FROM access_log",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(conn);
    assert_eq!(open(&path).access_log().unwrap(), [entry]);
}

#[test]
fn a_batch_is_one_transaction_and_finds_resends_within_itself() {
    let (_dir, path) = db_path();
    let mut store = open(&path);
    let s = store.create_session("exemple", "", 0).expect("session");
    let rec = |at_ms, device: Option<(&'static str, u64)>| Record {
        at_ms,
        kind: if device.is_some() {
            "device"
        } else {
            "command"
        },
        payload: b"x",
        device,
    };
    let got = store
        .append_batch(
            s,
            &[
                rec(10, None),
                rec(11, Some(("tablette", 1))),
                rec(12, Some(("tablette", 1))),
                rec(13, Some(("tablette", 2))),
            ],
        )
        .expect("batch");
    assert_eq!(
        got,
        [
            Appended::New(LogSeq(1)),
            Appended::New(LogSeq(2)),
            Appended::Duplicate(LogSeq(2)),
            Appended::New(LogSeq(3)),
        ]
    );
    // A resend of an earlier batch's event, and a record out of range: nothing of this batch
    // is stored, not even the records before the bad one.
    let err = store
        .append_batch(s, &[rec(20, Some(("tablette", 3))), rec(u64::MAX, None)])
        .expect_err("at_ms beyond i64");
    assert!(err.to_string().contains("at_ms"), "{err}");
    assert_eq!(store.log(s).expect("log").len(), 3);
    let again = store
        .append_device_event(s, "tablette", 2, 30, "device", b"y")
        .expect("resend");
    assert_eq!(again, Appended::Duplicate(LogSeq(3)));
}

#[test]
fn an_unpaired_device_leaves_nothing_of_itself_in_the_room() {
    use boussole_content::cue::DeviceRole;
    use boussole_protocol::wire::SoundSettings;
    let (_dir, path) = db_path();
    let mut store = open(&path);
    for device in ["tablette-1", "tablette-2"] {
        store
            .set_room_station("scape_attitudes", device, Some("poste_quai"), 1)
            .expect("station");
        store
            .set_device_name(device, Some("Tablette"), 1)
            .expect("name");
        store
            .set_device_role(device, Some(DeviceRole::Terminal), 1)
            .expect("role");
        store
            .set_device_sound(
                device,
                SoundSettings {
                    volume_percent: 50,
                    muted: true,
                    read_aloud: true,
                },
                1,
            )
            .expect("sound");
    }
    store.forget_device("tablette-1").expect("forgotten");
    let layout = store.room_layout("scape_attitudes").expect("layout");
    assert_eq!(layout.keys().collect::<Vec<_>>(), ["tablette-2"]);
    for kept in [
        store
            .device_names()
            .expect("names")
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        store
            .device_roles()
            .expect("roles")
            .keys()
            .cloned()
            .collect(),
        store
            .device_sound()
            .expect("sound")
            .keys()
            .cloned()
            .collect(),
    ] {
        assert_eq!(kept, ["tablette-2"]);
    }
    // Kept over a close and reopen.
    drop(store);
    let store = open(&path);
    assert!(
        !store
            .device_sound()
            .expect("sound")
            .contains_key("tablette-1")
    );
}
