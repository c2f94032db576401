//! The director of the day, in process: its local socket (first start, the strength rule, the
//! recovery key, unlock, wrong passphrases and the wait, lock, the console's pairing), one per
//! laptop, and the session thread hosting one session after another in one store (a device
//! event between sessions acknowledged, never logged; a failed host keeps the store).

#![expect(clippy::expect_used, reason = "test set-up")]

use boussole_content::ContentSet;
use boussole_director::day::{DayConfig, DayError, FIRST_WAIT, run};
use boussole_director::engine::{Command, Effect, Input};
use boussole_director::local::{self, LocalReply, LocalRequest, LockState, Secret};
use boussole_director::runtime::{Director, HostRequest, NO_SESSION};
use boussole_director::server::ServeConfig;
use boussole_director::store::{SessionId, Store};
use boussole_protocol::{DeviceEvent, DeviceId};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STRONG: &str = "Une phrase de passe du port";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn content() -> ContentSet {
    let (set, problems) = ContentSet::load_dir(&repo().join("content"));
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn config(dir: &Path) -> DayConfig {
    DayConfig {
        db: dir.join("regie/director.db"),
        serve: ServeConfig {
            bind: "127.0.0.1:0".parse().expect("an address"),
            content_dir: repo().join("content"),
            assets_dir: repo().join("assets"),
            data_dir: dir.join("regie"),
            name: "Test".into(),
            pairing_code: None,
        },
        socket: dir.join("run/director.sock"),
        idle_lock: Duration::from_secs(3600),
        day_ends: None,
        passphrase: None,
        facilitator: "script".into(),
        announce: false,
    }
}

/// Starts a director of the day on a thread; returns the sender that stops it and the thread.
fn start(
    config: DayConfig,
) -> (
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<Result<(), DayError>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let socket = config.socket.clone();
    let thread = std::thread::spawn(move || {
        run(config, async {
            let _ = stopped.await;
        })
    });
    let since = Instant::now();
    while local::ask(&socket, &LocalRequest::Status).is_err() {
        assert!(since.elapsed() < Duration::from_secs(30), "no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    (stop, thread)
}

fn ask(socket: &Path, request: LocalRequest) -> LocalReply {
    local::ask(socket, &request).expect("a reply")
}

fn state(socket: &Path) -> (LockState, u64) {
    match ask(socket, LocalRequest::Status) {
        LocalReply::Status { state, wait_s, .. } => (state, wait_s),
        other => unreachable!("status: {other:?}"),
    }
}

fn unlock(socket: &Path, passphrase: &str) -> LocalReply {
    ask(
        socket,
        LocalRequest::Unlock {
            passphrase: Secret::new(passphrase.into()),
            facilitator: "Camille".into(),
            device: "console".into(),
        },
    )
}

#[test]
fn first_start_unlock_wrong_passphrases_and_one_per_laptop() {
    let dir = tempfile::tempdir().expect("a folder");
    let config = config(dir.path());
    let socket = config.socket.clone();
    let (stop, thread) = start(config.clone());

    // First start: nothing on disk; a weak passphrase creates nothing.
    assert_eq!(state(&socket).0, LockState::FirstRun);
    let weak = ask(
        &socket,
        LocalRequest::Create {
            passphrase: Secret::new("motdepasse".into()),
            facilitator: "Camille".into(),
            device: "console".into(),
        },
    );
    assert!(
        matches!(weak, LocalReply::Refused(ref why) if why.contains("trop faible")),
        "{weak:?}"
    );
    assert!(!config.db.exists());
    // Nobody said who they are: refused too.
    let anonymous = ask(
        &socket,
        LocalRequest::Create {
            passphrase: Secret::new(STRONG.into()),
            facilitator: "  ".into(),
            device: "console".into(),
        },
    );
    assert!(matches!(anonymous, LocalReply::Refused(_)), "{anonymous:?}");
    let LocalReply::Created {
        recovery_key,
        pairing,
    } = ask(
        &socket,
        LocalRequest::Create {
            passphrase: Secret::new(STRONG.into()),
            facilitator: "Camille".into(),
            device: "console".into(),
        },
    )
    else {
        unreachable!("not created");
    };
    assert_eq!(
        recovery_key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .count(),
        40
    );
    assert_eq!(state(&socket).0, LockState::Unlocked);
    // The console's pairing: an address on this machine, the CA and a token.
    assert!(pairing.addr.ip().is_loopback() && !pairing.ca_der.is_empty());
    // A console that opens while the director is open: its passphrase is checked all the same,
    // and it gets a pairing of its own.
    assert!(matches!(
        unlock(&socket, "faux"),
        LocalReply::Wrong { tries_left: 2, .. }
    ));
    let LocalReply::Unlocked { pairing: again } = unlock(&socket, STRONG) else {
        unreachable!("the right passphrase refused");
    };
    assert_ne!(again.token, pairing.token, "a new token each time");
    let devices = std::fs::read_to_string(dir.path().join("regie/devices.tsv")).expect("devices");
    assert!(
        devices
            .lines()
            .any(|l| l.starts_with("console\t") && l.ends_with("\tconsole"))
    );

    // A second director on the same laptop says so and does not start.
    let mut second = config.clone();
    second.socket = dir.path().join("run/second.sock");
    let refused = run(second, async {});
    assert!(
        matches!(refused, Err(DayError::AlreadyRunning(_))),
        "{refused:?}"
    );

    // Lock.
    assert!(matches!(
        ask(&socket, LocalRequest::Lock),
        LocalReply::Locked
    ));
    assert_eq!(state(&socket).0, LockState::Locked);
    // Two wrong passphrases say how many tries are left; the third makes the next wait.
    assert!(matches!(
        unlock(&socket, "faux"),
        LocalReply::Wrong {
            tries_left: 2,
            wait_s: 0
        }
    ));
    assert!(matches!(
        unlock(&socket, "faux"),
        LocalReply::Wrong {
            tries_left: 1,
            wait_s: 0
        }
    ));
    let third = unlock(&socket, "faux");
    assert!(
        matches!(third, LocalReply::Wrong { tries_left: 0, wait_s } if wait_s == FIRST_WAIT.as_secs()),
        "{third:?}"
    );
    // Even the right one waits, and the status shows the wait.
    assert!(
        matches!(unlock(&socket, STRONG), LocalReply::Wrong { tries_left: 0, wait_s } if wait_s > 0)
    );
    let (locked, wait) = state(&socket);
    assert_eq!(locked, LockState::Locked);
    assert!(wait > 0 && wait <= FIRST_WAIT.as_secs());

    let _ = stop.send(());
    thread.join().expect("the thread").expect("a clean stop");
    assert!(!socket.exists(), "the socket is removed at the end");
    // The access log names the facilitator who created the store.
    let store = Store::open(&config.db, STRONG).expect("the store");
    let log = store.access_log().expect("the access log");
    assert!(log.iter().all(|e| e.actor == "Camille"), "{log:?}");
    assert!(
        log.iter()
            .any(|e| e.detail == "console rouverte, régie déjà ouverte"),
        "the console that reopened is in the access log: {log:?}"
    );
    let names = std::fs::read_to_string(dir.path().join("regie/facilitators.txt")).expect("names");
    assert_eq!(names.trim(), "Camille");
}

#[test]
fn a_right_passphrase_after_the_wait_unlocks() {
    let dir = tempfile::tempdir().expect("a folder");
    let mut config = config(dir.path());
    // The store exists (made by a script); the director starts locked.
    std::fs::create_dir_all(dir.path().join("regie")).expect("folder");
    drop(Store::open(&config.db, STRONG).expect("a store"));
    config.passphrase = None;
    let socket = config.socket.clone();
    let (stop, thread) = start(config);
    assert_eq!(state(&socket).0, LockState::Locked);
    assert!(matches!(
        unlock(&socket, "faux"),
        LocalReply::Wrong { tries_left: 2, .. }
    ));
    assert!(matches!(
        unlock(&socket, STRONG),
        LocalReply::Unlocked { .. }
    ));
    // A right one resets the count.
    assert!(matches!(
        ask(&socket, LocalRequest::Lock),
        LocalReply::Locked
    ));
    assert!(matches!(
        unlock(&socket, "faux"),
        LocalReply::Wrong { tries_left: 2, .. }
    ));
    let _ = stop.send(());
    thread.join().expect("the thread").expect("a clean stop");
}

#[test]
fn one_session_after_another_in_one_store() {
    let dir = tempfile::tempdir().expect("a folder");
    let db = dir.path().join("director.db");
    let store = Store::open(&db, STRONG).expect("a store");
    let (tx, rx) = std::sync::mpsc::channel();
    let director = Director::start_day(store, Arc::new(content()), tx);
    let h = director.handle();

    // Idle: a command is refused, a device event acknowledged without a session.
    assert_eq!(
        h.submit(Input::Command(Command::StartGame))
            .expect_err("no session"),
        NO_SESSION
    );
    let device = DeviceId::from("casque_1");
    let out = h
        .submit(Input::Device {
            device: device.clone(),
            seq: 1,
            event: DeviceEvent::Problem {
                what: "batterie faible".into(),
            },
        })
        .expect("acknowledged");
    assert_eq!(
        out.effects,
        vec![Effect::Ack {
            device: device.clone(),
            seq: 1
        }]
    );
    assert!(
        rx.try_iter().any(|o| o.effects == out.effects),
        "the network hears of it"
    );
    // An unknown scenario hosts nothing and keeps the store.
    assert!(
        h.host(HostRequest::Create {
            scenario: "inconnu".into(),
            label: String::new()
        })
        .is_err()
    );
    let first = h
        .host(HostRequest::Create {
            scenario: "scape_attitudes".into(),
            label: "matin".into(),
        })
        .expect("hosted")
        .expect("a session");
    h.submit(Input::Command(Command::AddParticipant {
        id: "P1".into(),
        pseudonym: "Renard".into(),
        colour: "#e69f00".into(),
    }))
    .expect("enrolled");
    // The next session: the first one's log is complete, the second starts empty.
    let second = h
        .host(HostRequest::Create {
            scenario: "scape_pandemie".into(),
            label: "après-midi".into(),
        })
        .expect("hosted")
        .expect("a session");
    assert_ne!(first.id, second.id);
    assert_eq!(
        h.with(|s| s.engine().participants().len())
            .expect("a session"),
        0
    );
    // Resume the first: replayed from its log.
    let again = h
        .host(HostRequest::Open(first.id))
        .expect("hosted")
        .expect("a session");
    assert_eq!(again.id, first.id);
    assert_eq!(
        h.with(|s| s.engine().participants().len())
            .expect("a session"),
        1
    );
    // An unknown session: nothing hosted, the store still there.
    assert!(h.host(HostRequest::Open(SessionId(99))).is_err());
    assert!(h.with(|_| ()).is_err());
    let sessions = h
        .with_store(|s| s.sessions().expect("sessions").len())
        .expect("the store");
    assert_eq!(sessions, 2);
    assert_eq!(h.host(HostRequest::Leave).expect("left"), None);
    assert!(director.stop().is_none());
}

#[test]
fn an_idle_director_locks_itself_though_a_console_keeps_asking_where_it_stands() {
    let dir = tempfile::tempdir().expect("a folder");
    let mut config = config(dir.path());
    config.idle_lock = Duration::from_secs(1);
    let socket = config.socket.clone();
    let (stop, thread) = start(config);
    assert!(matches!(
        ask(
            &socket,
            LocalRequest::Create {
                passphrase: Secret::new(STRONG.into()),
                facilitator: "Camille".into(),
                device: "console".into(),
            },
        ),
        LocalReply::Created { .. }
    ));
    // The console's launcher asks for the status twice a second: that is not activity.
    let since = Instant::now();
    let because = loop {
        if let LocalReply::Status {
            state: LockState::Locked,
            locked_because,
            ..
        } = ask(&socket, LocalRequest::Status)
        {
            break locked_because;
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "never locked while idle"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        because
            .as_deref()
            .is_some_and(|b| b.starts_with("aucune activité")),
        "{because:?}"
    );
    let _ = stop.send(());
    thread.join().expect("the thread").expect("a clean stop");
}

/// A closed session takes its debrief while another session runs: the command goes to the
/// closed session's log, the hosted one is untouched and keeps its deadlines; a session not
/// closed, a device's event and an unknown session are refused with nothing logged.
#[test]
fn a_closed_session_takes_its_debrief_while_another_runs() {
    let dir = tempfile::tempdir().expect("a folder");
    let store = Store::open(&dir.path().join("director.db"), STRONG).expect("a store");
    let (tx, _rx) = std::sync::mpsc::channel();
    let director = Director::start_day(store, Arc::new(content()), tx);
    let h = director.handle();
    let enrol = |h: &boussole_director::runtime::DirectorHandle| {
        h.submit(Input::Command(Command::AddParticipant {
            id: "P1".into(),
            pseudonym: "Renard".into(),
            colour: "#e69f00".into(),
        }))
        .expect("enrolled");
    };
    let morning = h
        .host(HostRequest::Create {
            scenario: "scape_attitudes".into(),
            label: "matin".into(),
        })
        .expect("hosted")
        .expect("a session");
    enrol(&h);
    h.submit(Input::Command(Command::EndSession))
        .expect("closed");
    // An interrupted session, then the afternoon's, which runs.
    let interrupted = h
        .host(HostRequest::Create {
            scenario: "scape_attitudes".into(),
            label: "interrompue".into(),
        })
        .expect("hosted")
        .expect("a session");
    let afternoon = h
        .host(HostRequest::Create {
            scenario: "scape_pandemie".into(),
            label: "après-midi".into(),
        })
        .expect("hosted")
        .expect("a session");
    enrol(&h);
    h.submit(Input::Command(Command::StartGame))
        .expect("started");
    let log_len = |h: &boussole_director::runtime::DirectorHandle, id: SessionId| {
        h.with_store(move |s| s.log(id).expect("a log").len())
            .expect("the store")
    };
    let afternoon_before = log_len(&h, afternoon.id);
    let morning_before = log_len(&h, morning.id);

    let comment = Command::WriteComment {
        participant: "P1".into(),
        comment: "Écoute les autres avant de proposer.".into(),
        recommendations: vec!["logistique portuaire".into()],
    };
    let out = h
        .submit_to(morning.id, Input::Command(comment))
        .expect("logged in the morning's log");
    assert!(
        !out.effects.iter().any(|e| matches!(e, Effect::Refused(_))),
        "{out:?}"
    );
    assert_eq!(log_len(&h, morning.id), morning_before + 1);
    assert_eq!(log_len(&h, afternoon.id), afternoon_before);
    // The hosted session is still the afternoon's, running, with its own person only.
    let (id, running, comments) = h
        .with(|s| {
            (
                s.id(),
                s.engine().game_started(),
                s.engine().debriefs().len(),
            )
        })
        .expect("hosted");
    assert_eq!(id, afternoon.id);
    assert!(running);
    assert_eq!(comments, 0);
    // The morning's replay has the comment.
    let content = content();
    let replayed = h
        .with_store(move |s| {
            boussole_director::session::replay(s, &content, morning.id)
                .expect("replayed")
                .1
                .debriefs()
                .get(&"P1".into())
                .map(|d| d.comment.clone())
        })
        .expect("the store");
    assert_eq!(
        replayed.as_deref(),
        Some("Écoute les autres avant de proposer.")
    );
    // Refused, nothing logged: a session not closed, a device's event, an unknown session.
    let why = h
        .submit_to(
            interrupted.id,
            Input::Command(Command::RecordRestitution {
                participant: "P1".into(),
            }),
        )
        .expect_err("not closed");
    assert!(why.contains("n'est pas close"), "{why}");
    assert_eq!(log_len(&h, interrupted.id), 0);
    let why = h
        .submit_to(
            morning.id,
            Input::Device {
                device: DeviceId::from("tablette_1"),
                seq: 1,
                event: DeviceEvent::Problem {
                    what: "écran".into(),
                },
            },
        )
        .expect_err("a device event");
    assert!(why.contains("commandes"), "{why}");
    assert!(
        h.submit_to(SessionId(99), Input::Command(Command::EndSession))
            .is_err()
    );
    assert_eq!(log_len(&h, morning.id), morning_before + 1);
    // The hosted session by its id takes it as any command.
    let out = h
        .submit_to(afternoon.id, Input::Command(Command::PauseTimer))
        .expect("the hosted session");
    assert!(!out.effects.iter().any(|e| matches!(e, Effect::Refused(_))));
    assert_eq!(log_len(&h, afternoon.id), afternoon_before + 1);
    // Idle, the store is lent the same way.
    assert_eq!(h.host(HostRequest::Leave).expect("left"), None);
    h.submit_to(
        morning.id,
        Input::Command(Command::RecordRestitution {
            participant: "P1".into(),
        }),
    )
    .expect("logged while idle");
    assert_eq!(log_len(&h, morning.id), morning_before + 2);
    assert!(director.stop().is_none());
}

/// A backup restored from the locked console: refused while unlocked, with a wrong recovery
/// key or a weak passphrase (the store untouched); then the store replaced (the one there kept
/// aside, whole), the director unlocked on it with the new passphrase, and the restoration
/// logged under the facilitator.
#[test]
fn a_backup_is_restored_from_the_locked_console_and_the_store_it_replaces_is_kept() {
    use boussole_director::store::{AccessAction, NewPerson, RecoveryKey};
    const RESTORED: &str = "Une autre phrase du port 2027";
    let dir = tempfile::tempdir().expect("a folder");
    let config = config(dir.path());
    let (socket, db) = (config.socket.clone(), config.db.clone());
    let (stop, thread) = start(config);
    let LocalReply::Created { recovery_key, .. } = ask(
        &socket,
        LocalRequest::Create {
            passphrase: Secret::new(STRONG.into()),
            facilitator: "Camille".into(),
            device: "console".into(),
        },
    ) else {
        unreachable!("created");
    };
    let restore = |file: &Path, key: &str, passphrase: &str| LocalRequest::Restore {
        file: file.to_owned(),
        recovery_key: Secret::new(key.into()),
        passphrase: Secret::new(passphrase.into()),
        facilitator: "Camille".into(),
        device: "console".into(),
    };
    let backup = dir.path().join("cle/sauvegarde.db");
    std::fs::create_dir(dir.path().join("cle")).expect("a folder");
    // Unlocked: refused.
    let why = ask(&socket, restore(&backup, &recovery_key, RESTORED));
    assert!(
        matches!(&why, LocalReply::Refused(w) if w.contains("verrouillez d'abord")),
        "{why:?}"
    );
    assert!(matches!(
        ask(&socket, LocalRequest::Lock),
        LocalReply::Locked
    ));
    // The store, closed: one person, backed up; then another person after the backup.
    {
        let mut store = Store::open(&db, STRONG).expect("the store");
        store
            .create_person(
                &NewPerson {
                    pseudonym: "Renard".into(),
                    ..NewPerson::default()
                },
                1,
            )
            .expect("a person");
        store.backup(&backup).expect("a backup");
        store
            .create_person(
                &NewPerson {
                    pseudonym: "Mouette".into(),
                    ..NewPerson::default()
                },
                2,
            )
            .expect("a person");
    }
    let other = RecoveryKey::generate().grouped();
    for (key, passphrase, expected) in [
        (other.as_str(), RESTORED, "sauvegarde non restaurée"),
        ("pas une clé", RESTORED, "clé de secours illisible"),
        (recovery_key.as_str(), "faible", "trop faible"),
    ] {
        let why = ask(&socket, restore(&backup, key, passphrase));
        assert!(
            matches!(&why, LocalReply::Refused(w) if w.contains(expected)),
            "{expected}: {why:?}"
        );
    }
    let pseudonyms = |db: &Path, passphrase: &str| -> Vec<String> {
        let store = Store::open(db, passphrase).expect("the store");
        let mut p: Vec<String> = store
            .persons()
            .expect("persons")
            .into_iter()
            .map(|p| p.pseudonym)
            .collect();
        p.sort();
        p
    };
    assert_eq!(pseudonyms(&db, STRONG), ["Mouette", "Renard"], "untouched");

    let LocalReply::Restored { summary, .. } =
        ask(&socket, restore(&backup, &recovery_key, RESTORED))
    else {
        unreachable!("restored");
    };
    assert!(summary.starts_with("Sauvegarde restaurée"), "{summary}");
    assert_eq!(state(&socket).0, LockState::Unlocked);
    assert!(matches!(
        ask(&socket, LocalRequest::Lock),
        LocalReply::Locked
    ));
    assert_eq!(
        pseudonyms(&db, RESTORED),
        ["Renard"],
        "the backup's register"
    );
    let store = Store::open(&db, RESTORED).expect("the restored store");
    assert!(
        store
            .access_log()
            .expect("the log")
            .iter()
            .any(|a| { a.action == AccessAction::BackupRestored && a.actor == "Camille" })
    );
    drop(store);
    // The store it replaced, kept aside whole, with its own passphrase.
    let aside = std::fs::read_dir(db.parent().expect("a folder"))
        .expect("the folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("avant-restauration-"))
                && p.extension().is_some_and(|x| x == "db")
        })
        .expect("the replaced store kept aside");
    assert!(summary.contains(&aside.display().to_string()), "{summary}");
    assert_eq!(pseudonyms(&aside, STRONG), ["Mouette", "Renard"]);
    let _ = stop.send(());
    thread.join().expect("the thread").expect("a clean stop");
}
