//! The store's personal-data operations: recovery key, encrypted backup and restore, purge with
//! anonymous figures, erasure of a participant's log records.
#![expect(
    clippy::expect_used,
    reason = "the test helper fails loudly, naming what it could not do"
)]

use boussole_director::store::{
    AccessAction, AccessEntry, ActivityFigures, BackupError, EraseError, LogSeq, OpenError,
    PurgedSession, RecoveryKey, RecoveryKeyError, RestoreError, SessionId, Store, WriteError,
};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const PASS: &str = "correct horse battery staple";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A store with one session, a participant with a name, and two log records.
fn filled(dir: &Path) -> (PathBuf, Store, SessionId) {
    let path = dir.join("sessions.db");
    let mut store = Store::open(&path, PASS).expect("store opens");
    let s = store
        .create_session("scape_attitudes", "mardi", 1)
        .expect("session created");
    store
        .set_participant(s, "P1", "Renard")
        .expect("participant added");
    store
        .set_participant_name(s, "P1", Some("Awa Diallo"))
        .expect("name recorded");
    store.append(s, 0, "command", b"start").expect("appended");
    store
        .append(s, 10, "command", b"note Renard")
        .expect("appended");
    (path, store, s)
}

#[test]
fn a_recovery_key_is_40_base32_characters_in_8_groups() {
    let a = RecoveryKey::generate();
    let b = RecoveryKey::generate();
    assert_ne!(a, b);
    assert_eq!(a.as_str().len(), 40);
    assert!(
        a.as_str()
            .bytes()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c))
    );
    let grouped = a.grouped();
    assert_eq!(grouped.split('-').count(), 8);
    assert!(grouped.split('-').all(|g| g.len() == 5));
    // Typed back by hand: lower case, spaces, a line break, look-alike digits.
    let typed = grouped.to_lowercase().replace('-', " ").replace('o', "0");
    assert_eq!(RecoveryKey::parse(&format!("{typed}\n")).unwrap(), a);
    assert_eq!(format!("{a:?}"), "RecoveryKey(…)");
    assert_eq!(
        RecoveryKey::parse("ABCDE-FGHIJ"),
        Err(RecoveryKeyError::Length { found: 10 })
    );
    assert_eq!(
        RecoveryKey::parse("ABCDE-FGHI9"),
        Err(RecoveryKeyError::Character {
            ch: '9',
            position: 10
        })
    );
}

#[test]
fn a_recovery_key_is_stored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut store, _) = filled(dir.path());
    assert!(store.recovery_key().unwrap().is_none());
    let first = RecoveryKey::generate();
    assert!(!store.set_recovery_key(&first, 5).unwrap());
    let second = RecoveryKey::generate();
    assert!(store.set_recovery_key(&second, 6).unwrap());
    drop(store);
    let store = Store::open(&path, PASS).unwrap();
    assert_eq!(store.recovery_key().unwrap(), Some((second, 6)));
}

#[test]
fn a_backup_needs_a_recovery_key_and_restores_with_it_under_a_new_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut store, s) = filled(dir.path());
    let out = dir.path().join("sauvegarde.boussole");
    assert!(matches!(
        store.backup(&out),
        Err(BackupError::NoRecoveryKey)
    ));
    assert!(!out.exists());

    let key = RecoveryKey::generate();
    store.set_recovery_key(&key, 1).unwrap();
    let entry = AccessEntry {
        at_unix_ms: 2,
        actor: "animatrice".into(),
        action: AccessAction::BackupWritten,
        session: None,
        participant: None,
        detail: String::new(),
    };
    store.log_access(&entry).unwrap();
    let info = store.backup(&out).unwrap();
    assert_eq!(info.sessions, 1);
    assert_eq!(info.bytes, fs::metadata(&out).unwrap().len());
    // Written after the backup: not in it.
    store.append(s, 20, "command", b"later").unwrap();

    let bytes = fs::read(&out).unwrap();
    assert!(!bytes.starts_with(b"SQLite format 3\0"));
    for secret in [&b"Awa Diallo"[..], b"Renard", b"CREATE TABLE"] {
        assert!(
            !contains(&bytes, secret),
            "{secret:?} readable in the backup"
        );
    }
    // Neither the passphrase nor anything but the recovery key opens it.
    assert!(matches!(
        Store::open(&out, PASS),
        Err(OpenError::WrongPassphrase { .. })
    ));

    let to = dir.path().join("restored.db");
    let wrong = RecoveryKey::generate();
    let err = Store::restore(&out, &wrong, &to, "nouvelle phrase").unwrap_err();
    assert!(
        matches!(&err, RestoreError::WrongRecoveryKey { path } if *path == out),
        "{err:?}"
    );
    assert!(err.to_string().contains("wrong recovery key"), "{err}");
    assert!(!to.exists(), "nothing written with a wrong key");
    assert_eq!(fs::read(&out).unwrap(), bytes, "the backup is only read");

    let restored = Store::restore(&out, &key, &to, "nouvelle phrase").unwrap();
    assert_eq!(restored.log(s).unwrap().len(), 2);
    assert_eq!(
        restored.participant_name(s, "P1").unwrap().as_deref(),
        Some("Awa Diallo")
    );
    assert_eq!(restored.access_log().unwrap(), [entry]);
    assert_eq!(
        restored.recovery_key().unwrap().map(|(k, _)| k),
        Some(key.clone())
    );
    assert!(restored.quick_check().unwrap());
    drop(restored);
    assert!(matches!(
        Store::open(&to, PASS),
        Err(OpenError::WrongPassphrase { .. })
    ));
    assert!(Store::open(&to, "nouvelle phrase").is_ok());
    // The copy keeps the access log's append-only triggers.
    boussole_director::store::sqlcipher_ready();
    let raw = rusqlite::Connection::open(&to).unwrap();
    raw.pragma_update(None, "key", "nouvelle phrase").unwrap();
    assert!(raw.execute("DELETE FROM access_log", []).is_err());
    drop(raw);

    // A second restore onto the same path is refused and changes nothing.
    let before = fs::read(&to).unwrap();
    assert!(matches!(
        Store::restore(&out, &key, &to, "autre"),
        Err(RestoreError::TargetExists { .. })
    ));
    assert_eq!(fs::read(&to).unwrap(), before);
    assert!(matches!(
        Store::restore(
            &dir.path().join("absente"),
            &key,
            &dir.path().join("x.db"),
            "p"
        ),
        Err(RestoreError::Io { .. })
    ));
    assert!(!dir.path().join("absente").exists());
}

#[test]
fn a_purge_deletes_whole_sessions_and_keeps_anonymous_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut store, s) = filled(dir.path());
    store
        .append_device_event(s, "tablette", 1, 30, "device", b"answer")
        .unwrap();
    let kept = store.create_session("scape_attitudes", "jeudi", 2).unwrap();
    store.set_participant(kept, "P1", "Mouette").unwrap();
    let other = store
        .create_session("scape_attitudes", "vendredi", 3)
        .unwrap();
    store.set_participant(other, "P1", "Renard").unwrap();
    store.set_participant(other, "P2", "Goéland").unwrap();

    let people = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    let purged = [
        PurgedSession {
            id: s,
            month: "2024-03".into(),
            scenario: "scape_attitudes".into(),
            participants: people(&["P1"]),
            play_ms: 3_600_000,
            participant_ms: 3_600_000,
        },
        PurgedSession {
            id: other,
            month: "2024-03".into(),
            scenario: "scape_attitudes".into(),
            participants: people(&["P1", "P2"]),
            play_ms: 1_800_000,
            participant_ms: 3_600_000,
        },
    ];
    // An unknown session refuses the whole purge.
    let mut with_ghost = purged.to_vec();
    with_ghost.push(PurgedSession {
        id: SessionId(99),
        ..purged[0].clone()
    });
    assert!(matches!(
        store.purge(&with_ghost),
        Err(WriteError::UnknownSession {
            session: SessionId(99)
        })
    ));
    assert_eq!(store.sessions().unwrap().len(), 3);
    assert!(store.activity_figures().unwrap().is_empty());

    let counts = store.purge(&purged).unwrap();
    assert_eq!(counts.sessions, 2);
    assert_eq!(counts.log_records, 3);
    assert_eq!(counts.device_events, 1);
    assert_eq!(counts.participants, 3);
    assert_eq!(counts.names, 1);
    assert_eq!(
        store
            .sessions()
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>(),
        [kept]
    );
    let march = ActivityFigures {
        month: "2024-03".into(),
        scenario: "scape_attitudes".into(),
        sessions: 2,
        participants: 2,
        play_ms: 5_400_000,
        participant_ms: 7_200_000,
    };
    assert_eq!(store.activity_figures().unwrap(), [march]);
    // A later purge of the same month adds to it.
    store
        .purge(&[PurgedSession {
            id: kept,
            month: "2024-03".into(),
            scenario: "scape_attitudes".into(),
            participants: people(&["P1"]),
            play_ms: 1,
            participant_ms: 1,
        }])
        .unwrap();
    let figures = store.activity_figures().unwrap();
    assert_eq!(figures[0].sessions, 3);
    assert_eq!(figures[0].participants, 3);
    assert_eq!(figures[0].play_ms, 5_400_001);
    drop(store);
    let wal = path.with_file_name("sessions.db-wal");
    for file in [path.clone(), wal] {
        if let Ok(bytes) = fs::read(&file) {
            assert!(!contains(&bytes, b"Awa Diallo"));
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("refused")]
struct Refused;

#[test]
fn erasure_rewrites_the_chosen_records_and_deletes_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut store, s) = filled(dir.path());
    // A failing rewrite changes nothing.
    let err = store
        .erase_participant(s, "P1", "effacé P1", |r| {
            if r.seq == LogSeq(2) {
                Err(Refused)
            } else {
                Ok(None)
            }
        })
        .unwrap_err();
    assert!(matches!(err, EraseError::Rewrite { seq: 2, .. }), "{err:?}");
    assert_eq!(
        store.participant_name(s, "P1").unwrap().as_deref(),
        Some("Awa Diallo")
    );

    let erased = store
        .erase_participant(s, "P1", "effacé P1", |r| {
            Ok::<_, Refused>(
                (r.payload == b"note Renard").then(|| b"note [effac\xc3\xa9]".to_vec()),
            )
        })
        .unwrap();
    assert_eq!(erased.records, 1);
    assert!(erased.name && erased.pseudonym);
    let log = store.log(s).unwrap();
    assert_eq!(log[0].payload, b"start");
    assert_eq!((log[1].seq, log[1].at_ms), (LogSeq(2), 10));
    assert_eq!(log[1].payload, "note [effacé]".as_bytes());
    assert_eq!(store.participant_name(s, "P1").unwrap(), None);
    assert_eq!(store.participants(s).unwrap()[0].pseudonym, "effacé P1");
    assert!(matches!(
        store.erase_participant(SessionId(9), "P1", "x", |_| Ok::<_, Refused>(None)),
        Err(EraseError::UnknownSession { .. })
    ));
    drop(store);
    for suffix in ["", "-wal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(bytes) = fs::read(PathBuf::from(name)) {
            assert!(!contains(&bytes, b"Awa Diallo"));
        }
    }
}

#[test]
fn the_consoles_backup_is_dated_checked_with_the_key_and_logged() {
    use boussole_director::backup::backup_into;
    let dir = tempfile::tempdir().unwrap();
    let (_path, mut store, _s) = filled(dir.path());
    let key_dir = dir.path().join("CLE");
    fs::create_dir(&key_dir).unwrap();
    // No recovery key: refused in words, nothing written, nothing logged.
    let e = backup_into(&mut store, &key_dir, "Camille", 1_796_648_700_000).unwrap_err();
    assert!(e.contains("clé de secours"), "{e}");
    assert_eq!(fs::read_dir(&key_dir).unwrap().count(), 0);
    assert_eq!(
        store.last_access(AccessAction::BackupWritten).unwrap(),
        None
    );

    let key = RecoveryKey::generate();
    store.set_recovery_key(&key, 1).unwrap();
    // A folder that is gone (a key pulled): refused, nothing logged.
    let e = backup_into(&mut store, &dir.path().join("absent"), "Camille", 2).unwrap_err();
    assert!(e.contains("n'existe pas"), "{e}");
    assert_eq!(
        store.last_access(AccessAction::BackupWritten).unwrap(),
        None
    );

    let first = backup_into(&mut store, &key_dir, "Camille", 1_796_648_700_000).unwrap();
    assert_eq!(
        first.path,
        key_dir.join("boussole-sauvegarde-2026-12-07-14h05.db")
    );
    assert_eq!(first.sessions, 1);
    // The same minute again: a second file, the first untouched.
    let before = fs::read(&first.path).unwrap();
    let second = backup_into(&mut store, &key_dir, "Camille", 1_796_648_710_000).unwrap();
    assert_eq!(
        second.path,
        key_dir.join("boussole-sauvegarde-2026-12-07-14h05-2.db")
    );
    assert_eq!(fs::read(&first.path).unwrap(), before);
    // Both reopen with the recovery key, and restore.
    for done in [&first, &second] {
        assert_eq!(Store::verify_backup(&done.path, &key).unwrap(), 1);
    }
    assert!(matches!(
        Store::verify_backup(&first.path, &RecoveryKey::generate()),
        Err(RestoreError::WrongRecoveryKey { .. })
    ));
    let restored =
        Store::restore(&second.path, &key, &dir.path().join("restored.db"), "neuve").unwrap();
    assert_eq!(restored.sessions().unwrap().len(), 1);
    // Logged under the facilitator's name, and the home screen's date is the last one.
    assert_eq!(
        store.last_access(AccessAction::BackupWritten).unwrap(),
        Some(1_796_648_710_000)
    );
    let logged: Vec<_> = store
        .access_log()
        .unwrap()
        .into_iter()
        .filter(|a| a.action == AccessAction::BackupWritten)
        .collect();
    assert_eq!(logged.len(), 2);
    assert!(
        logged
            .iter()
            .all(|a| a.actor == "Camille" && a.detail.contains("vérifiée"))
    );
    // Nothing half-written is left beside them.
    let names: BTreeSet<String> = fs::read_dir(&key_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
