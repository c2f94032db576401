//! A participant's rights and retention, on the demo session: erasure rewrites their free text
//! and keeps the log replayable, the right-of-access export holds what is known of them, the
//! retention cutoff counts calendar months, and a purge leaves only anonymous figures.
#![expect(
    clippy::expect_used,
    reason = "test helpers stop the test with what failed"
)]

use boussole_content::ContentSet;
use boussole_director::engine::{
    Command, DeviceEvent, DeviceId, Effect, Engine, Input, Millis, ParticipantId,
};
use boussole_director::evaluation::{Proposed, evaluate};
use boussole_director::privacy::{
    PrivacyError, REDACTED, access_export, erase_person, erased_pseudonym, erasure_fr,
};
use boussole_director::register::{ResolveError, resolve_slot, slot_holders};
use boussole_director::retention::{activity, cutoff_unix_ms, month_of, plan_purge, purge_fr};
use boussole_director::script::{self, Act, Script, Step};
use boussole_director::session::{Session, replay};
use boussole_director::store::{ERASED_PSEUDONYM, SessionId, Store};
use std::path::{Path, PathBuf};

const PASS: &str = "phrase de passe de test";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn content() -> ContentSet {
    let (set, problems) = ContentSet::load_dir(&root().join("../content"));
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn command(at_s: f32, c: Command) -> Step {
    Step {
        at_s,
        act: Act::Command(c),
    }
}

fn rating(participant: &str, comment: &str) -> Step {
    Step {
        at_s: 1720.0,
        act: Act::Device {
            device: DeviceId::from("tablette_quai"),
            event: DeviceEvent::Rating {
                question: "qa_autonomie".into(),
                participant: participant.into(),
                value: 3,
                comment: Some(comment.into()),
            },
        },
    }
}

/// The demo session of S'cape attitudes, created at `created_unix_ms`, with notes and comments
/// that name P1 (« Awa Diallo », pseudonym « Renard ») and a debrief for P1 and P3. The script
/// finds its people in the register by pseudonym: demos played into one store share them.
fn demo(path: &Path, content: &ContentSet, created_unix_ms: i64) -> Session {
    demo_with(path, content, created_unix_ms, |_| {})
}

/// [`demo`], with the script changed by `edit` first.
fn demo_with(
    path: &Path,
    content: &ContentSet,
    created_unix_ms: i64,
    edit: impl FnOnce(&mut Script),
) -> Session {
    let text = std::fs::read_to_string(root().join("scripts/demo_scape_attitudes.ron"))
        .expect("demo script");
    let mut sc = script::parse(&text).expect("demo script parses");
    edit(&mut sc);
    sc.steps.extend([
        command(
            500.0,
            Command::Note {
                rater: "console".into(),
                participant: Some("P1".into()),
                text: "Awa Diallo semble fatiguée".into(),
            },
        ),
        command(
            501.0,
            Command::Note {
                rater: "console".into(),
                participant: None,
                text: "Renard et Goéland se disputent".into(),
            },
        ),
        rating("P1", "Je m'appelle Awa"),
        rating("P3", "Renard m'a aidé"),
    ]);
    let store = Store::open(path, PASS).expect("store");
    let mut session =
        Session::create(store, content, &sc.scenario, &sc.label, created_unix_ms).expect("session");
    let refusals = script::run(&mut session, &sc).expect("demo runs");
    assert!(refusals.is_empty(), "{refusals:?}");
    let at = Millis(3_000_000);
    for c in [
        Command::DecideLevel {
            participant: "P1".into(),
            competency: "autonomie".into(),
            level: Some(1),
            reason: "Awa était malade ce jour-là".into(),
        },
        Command::WriteComment {
            participant: "P1".into(),
            comment: "Awa Diallo progresse.".into(),
            recommendations: vec!["PMSMP cariste".into()],
        },
        Command::WriteComment {
            participant: "P3".into(),
            comment: "Travaille bien avec Renard.".into(),
            recommendations: vec![],
        },
    ] {
        let effects = session.submit(Input::Command(c), at).expect("debrief");
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::Refused(_))),
            "{effects:?}"
        );
    }
    session
}

fn notes(engine: &Engine) -> Vec<(Option<String>, String)> {
    engine
        .observations()
        .iter()
        .filter_map(|o| {
            o.note
                .clone()
                .map(|n| (o.participant.as_ref().map(|p| p.0.clone()), n))
        })
        .collect()
}

fn rating_comments(engine: &Engine) -> Vec<(String, String)> {
    engine
        .game_events()
        .iter()
        .filter_map(|g| match &g.kind {
            boussole_director::engine::GameEventKind::Rating {
                comment: Some(c), ..
            } => g.participant.as_ref().map(|p| (p.0.clone(), c.clone())),
            _ => None,
        })
        .collect()
}

fn proposals(engine: &Engine, content: &ContentSet) -> Vec<(String, String, Option<u8>)> {
    let rubric = &content.rubrics[0].value;
    evaluate(engine, rubric, None)
        .participants
        .into_iter()
        .flat_map(|p| {
            p.competencies.into_iter().map(move |c| {
                let level = match c.proposed {
                    Proposed::Level { level, .. } => Some(level),
                    Proposed::NotObserved { .. } => None,
                };
                (p.participant.0.clone(), c.competency.to_string(), level)
            })
        })
        .collect()
}

/// The person of the register holding `slot` in `session`.
fn holder(store: &Store, session: SessionId, slot: &str) -> String {
    store
        .slot_persons(session)
        .expect("the register")
        .get(slot)
        .cloned()
        .expect("the slot has a person")
}

/// How many log records of `path`'s store hold `needle` in their payload, read through SQL.
fn records_holding(path: &Path, needle: &str) -> i64 {
    boussole_director::store::sqlcipher_ready();
    let conn = rusqlite::Connection::open(path).expect("raw connection");
    conn.pragma_update(None, "key", PASS).expect("key");
    conn.query_row(
        "SELECT count(*) FROM log WHERE instr(payload, CAST(?1 AS BLOB)) > 0",
        [needle],
        |r| r.get(0),
    )
    .expect("count")
}

#[test]
fn erasure_redacts_their_free_text_and_the_log_still_replays() {
    let content = content();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("director.db");
    let session = demo(&path, &content, 1_700_000_000_000);
    let id = session.id();
    let before = session.engine().clone();
    let log_before = session.store().log(id).unwrap();
    drop(session);
    assert!(records_holding(&path, "Renard") > 0);
    assert!(records_holding(&path, "Awa") > 0);

    let mut store = Store::open(&path, PASS).unwrap();
    let nobody = erase_person(&mut store, "pers-inconnue", 1_700_000_500_000).unwrap_err();
    assert!(
        matches!(nobody, PrivacyError::UnknownPerson(ref p) if p == "pers-inconnue"),
        "{nobody:?}"
    );
    let p1 = ParticipantId::from("P1");
    let person = holder(&store, id, "P1");
    let p3_person = holder(&store, id, "P3");
    assert_eq!(
        store.person_name(&person).unwrap().as_deref(),
        Some("Awa Diallo")
    );
    let done = erase_person(&mut store, &person, 1_700_000_500_000).unwrap();
    assert_eq!(done.person, person);
    assert_eq!(done.persons, std::slice::from_ref(&person));
    assert_eq!(done.sessions.len(), 1);
    assert_eq!(done.sessions[0].session, id);
    assert_eq!(done.sessions[0].slot, p1);
    assert!(done.sessions[0].erased.name && done.sessions[0].erased.pseudonym);
    let said = erasure_fr(&done);
    assert!(
        said.contains(&format!("Effacement de la personne {person}")),
        "{said}"
    );
    assert!(
        said.contains("séance 1, place P1 : nom supprimé, pseudonyme remplacé par « effacé-P1 »"),
        "{said}"
    );
    assert!(!said.contains("Awa") && !said.contains("Renard"), "{said}");
    let changed: Vec<String> = store
        .log(id)
        .unwrap()
        .iter()
        .zip(&log_before)
        .filter(|(a, b)| a.payload != b.payload)
        .map(|(a, _)| format!("{:?}", postcard::from_bytes::<Input>(&a.payload).unwrap()))
        .collect();
    // AddParticipant, two notes, two ratings, the decision, the demo's comment for P1 and the
    // two comments added here.
    assert_eq!(done.sessions[0].erased.records, 9, "{changed:#?}");
    assert_eq!(store.participant_name(id, "P1").unwrap(), None);
    assert_eq!(
        store.participant_name(id, "P3").unwrap().as_deref(),
        Some("Kevin Martin"),
        "other participants keep their names"
    );
    // The register keeps a tombstone under the same id (the log's slot still resolves to it),
    // and the erasure is recorded to be applied again to an older backup.
    let tomb = store.person(&person).unwrap().expect("a tombstone");
    assert_eq!(tomb.pseudonym, ERASED_PSEUDONYM);
    assert!(tomb.erased_at_unix_ms.is_some());
    assert_eq!(
        (tomb.prescriber_name.as_str(), tomb.entered_on.as_deref()),
        ("", None)
    );
    assert_eq!(store.person_name(&person).unwrap(), None);
    assert!(store.person_journal(&person).unwrap().is_empty());
    assert_eq!(
        store.erasures().unwrap(),
        [(person.clone(), 1_700_000_500_000)]
    );
    assert_eq!(
        store.person_name(&p3_person).unwrap().as_deref(),
        Some("Kevin Martin"),
        "other persons keep their names"
    );

    // Same positions, times and kinds; only payloads changed.
    let log_after = store.log(id).unwrap();
    assert_eq!(log_after.len(), log_before.len());
    for (a, b) in log_before.iter().zip(&log_after) {
        assert_eq!((a.seq, a.at_ms, &a.kind), (b.seq, b.at_ms, &b.kind));
    }
    assert_eq!(records_holding(&path, "Renard"), 0);
    assert_eq!(records_holding(&path, "Awa"), 0);

    let session = Session::open(store, &content, id).expect("the log still replays");
    let after = session.engine();
    assert_eq!(after.participants()[&p1].pseudonym, erased_pseudonym(&p1));
    assert_eq!(
        session.store().participants(id).unwrap()[0].pseudonym,
        "effacé-P1"
    );
    assert_eq!(
        notes(after),
        [
            (Some("P1".to_owned()), REDACTED.to_owned()),
            (None, format!("{REDACTED} et Goéland se disputent")),
            // The demo's own notes, about others, are untouched.
            (
                Some("P2".to_owned()),
                "Dit que l'erreur vient « des autres », puis aide à refaire le bon.".to_owned()
            ),
            (
                None,
                "Le groupe se répartit seul les trois postes pour le chargement.".to_owned()
            ),
        ]
    );
    assert_eq!(
        rating_comments(after),
        [
            ("P1".to_owned(), REDACTED.to_owned()),
            ("P3".to_owned(), format!("{REDACTED} m'a aidé")),
        ]
    );
    let d = &after.debriefs()[&p1];
    assert_eq!(d.comment, REDACTED);
    assert_eq!(d.recommendations, [REDACTED]);
    assert_eq!(
        after.debriefs()[&ParticipantId::from("P3")].comment,
        format!("Travaille bien avec {REDACTED}.")
    );
    let decision = &after.decisions()[&(p1.clone(), "autonomie".into())];
    assert_eq!(
        (decision.level, decision.reason.as_str()),
        (Some(1), REDACTED)
    );
    // Nothing else moved: the codes, the game, the proposed levels.
    assert_eq!(after.observations().len(), before.observations().len());
    assert_eq!(after.game_events().len(), before.game_events().len());
    assert_eq!(after.ending(), before.ending());
    assert_eq!(proposals(after, &content), proposals(&before, &content));
}

/// A person is one person (DESIGN principle 8): erasing them reaches every session they took
/// part in, and only theirs; someone else who held the same slot label elsewhere, even under
/// the same pseudonym and name, is left alone.
#[test]
fn erasure_follows_the_person_not_the_slot_label() {
    let content = content();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("director.db");
    // Sessions 1 and 2: the script finds « Renard » in the register, the same person twice.
    drop(demo(&path, &content, 1_700_000_000_000));
    drop(demo(&path, &content, 1_700_000_100_000));
    // Session 3: P1 is a new person of the register (another human, same pseudonym and name).
    drop(demo_with(&path, &content, 1_700_000_200_000, |sc| {
        sc.participants[0].person = None;
    }));
    let mut store = Store::open(&path, PASS).unwrap();
    let renard = holder(&store, SessionId(1), "P1");
    assert_eq!(holder(&store, SessionId(2), "P1"), renard);
    let other = holder(&store, SessionId(3), "P1");
    assert_ne!(other, renard);

    // A slot label names a person only with its sessions, and is refused when it names two.
    let (s1, s2, s3) = (SessionId(1), SessionId(2), SessionId(3));
    assert_eq!(resolve_slot(&store, &[s1, s2], "P1").unwrap().0, renard);
    assert_eq!(resolve_slot(&store, &[s3], "P1").unwrap().0, other);
    let ambiguous = resolve_slot(&store, &[s1, s2, s3], "P1").unwrap_err();
    assert!(
        matches!(ambiguous, ResolveError::Ambiguous { .. }),
        "{ambiguous:?}"
    );
    assert!(ambiguous.to_string().contains(&renard), "{ambiguous}");
    assert!(ambiguous.to_string().contains(&other), "{ambiguous}");
    assert!(matches!(
        resolve_slot(&store, &[SessionId(7)], "P1"),
        Err(ResolveError::UnknownSlot { .. })
    ));

    let done = erase_person(&mut store, &renard, 1_700_000_500_000).unwrap();
    let erased: Vec<(SessionId, &str)> = done
        .sessions
        .iter()
        .map(|d| (d.session, d.slot.as_str()))
        .collect();
    assert_eq!(erased, [(s1, "P1"), (s2, "P1")]);
    for s in [s1, s2] {
        assert_eq!(store.participant_name(s, "P1").unwrap(), None);
        let (_, engine) = replay(&store, &content, s).unwrap();
        assert_eq!(engine.participants()[&"P1".into()].pseudonym, "effacé-P1");
    }
    assert_eq!(
        store.participant_name(s3, "P1").unwrap().as_deref(),
        Some("Awa Diallo")
    );
    let (_, engine) = replay(&store, &content, s3).unwrap();
    assert_eq!(engine.participants()[&"P1".into()].pseudonym, "Renard");
    let d = &engine.debriefs()[&"P1".into()];
    assert_eq!(d.comment, "Awa Diallo progresse.");
    let kept = store.person(&other).unwrap().expect("the other person");
    assert_eq!(kept.pseudonym, "Renard");
    assert_eq!(kept.erased_at_unix_ms, None);
    assert_eq!(
        store.person_name(&other).unwrap().as_deref(),
        Some("Awa Diallo")
    );
    assert_eq!(
        store.erasures().unwrap(),
        [(renard.clone(), 1_700_000_500_000)]
    );
}

/// A duplicate merged into a person is the same person: erasing either erases both, in
/// every session of each.
#[test]
fn erasure_reaches_the_duplicates_merged_with_them() {
    let content = content();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("director.db");
    drop(demo(&path, &content, 1_700_000_000_000));
    drop(demo_with(&path, &content, 1_700_000_100_000, |sc| {
        sc.participants[0].person = None;
    }));
    let mut store = Store::open(&path, PASS).unwrap();
    let (first, second) = (
        holder(&store, SessionId(1), "P1"),
        holder(&store, SessionId(2), "P1"),
    );
    assert_ne!(first, second);
    store
        .merge_persons(
            &second,
            &first,
            "la même personne, inscrite deux fois",
            1_700_000_300_000,
        )
        .unwrap();
    assert_eq!(
        resolve_slot(&store, &[SessionId(1), SessionId(2)], "P1")
            .unwrap()
            .0,
        first
    );
    let done = erase_person(&mut store, &second, 1_700_000_500_000).unwrap();
    let mut persons = done.persons.clone();
    persons.sort();
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(persons, expected);
    assert_eq!(done.sessions.len(), 2);
    for (s, p) in [(SessionId(1), &first), (SessionId(2), &second)] {
        assert_eq!(store.participant_name(s, "P1").unwrap(), None);
        assert_eq!(store.person_name(p).unwrap(), None);
        let info = store.person(p).unwrap().expect("a tombstone");
        assert_eq!(info.pseudonym, ERASED_PSEUDONYM);
    }
    assert_eq!(
        store
            .participant_name(SessionId(2), "P3")
            .unwrap()
            .as_deref(),
        Some("Kevin Martin")
    );
}

#[test]
fn the_access_export_holds_what_is_known_of_them() {
    let content = content();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("director.db");
    drop(demo(&path, &content, 1_700_000_000_000));
    let store = Store::open(&path, PASS).unwrap();
    let person = holder(&store, SessionId(1), "P1");
    let export = access_export(&store, &content, &person, 1_700_000_000_000).unwrap();
    assert_eq!(export.person, person);
    assert_eq!(export.register.pseudonym, "Renard");
    assert_eq!(export.register.name.as_deref(), Some("Awa Diallo"));
    assert!(export.register.merged.is_empty());
    assert!(
        export
            .register
            .journal
            .iter()
            .any(|(_, change, _)| change == "created"),
        "{:?}",
        export.register.journal
    );
    assert_eq!(export.sessions.len(), 1);
    let s = &export.sessions[0];
    assert_eq!((s.session, s.slot.as_str()), (1, "P1"));
    assert_eq!(s.name.as_deref(), Some("Awa Diallo"));
    assert_eq!(s.pseudonym, "Renard");
    assert_eq!(s.comment, "Awa Diallo progresse.");
    assert_eq!(s.recommendations, ["PMSMP cariste"]);
    assert!(
        s.observations
            .iter()
            .all(|o| o.observation.participant == Some("P1".into()))
    );
    // Behaviours carry their French label, not the code.
    let explore = s
        .observations
        .iter()
        .find(|o| o.observation.behaviour == Some("explore".into()))
        .expect("P1 explored");
    assert_ne!(explore.what, "explore");
    assert!(s.observations.iter().any(|o| o.what == "note"));
    assert!(!s.game_events.is_empty());
    let autonomie = s
        .levels
        .iter()
        .find(|l| l.competency == "autonomie")
        .expect("a level for autonomie");
    assert_eq!(autonomie.decided, Some(Some(1)));
    assert_eq!(
        autonomie.reason.as_deref(),
        Some("Awa était malade ce jour-là")
    );
    let json = serde_json::to_string_pretty(&export).unwrap();
    assert!(json.contains("\"name\": \"Awa Diallo\""));
    assert!(!json.contains("Kevin Martin"), "nobody else's name");
    assert!(matches!(
        access_export(&store, &content, "pers-inconnue", 0),
        Err(PrivacyError::UnknownPerson(_))
    ));
    drop(store);

    // The export is the person's, across their sessions: the next demo finds « Renard » in the
    // register; a third one seats someone else at P1, who is not in it.
    drop(demo(&path, &content, 1_700_000_100_000));
    drop(demo_with(&path, &content, 1_700_000_200_000, |sc| {
        sc.participants[0].person = None;
    }));
    let store = Store::open(&path, PASS).unwrap();
    let export = access_export(&store, &content, &person, 1_700_000_300_000).unwrap();
    let sessions: Vec<(i64, &str)> = export
        .sessions
        .iter()
        .map(|s| (s.session, s.slot.as_str()))
        .collect();
    assert_eq!(sessions, [(1, "P1"), (2, "P1")]);
    let someone_else = holder(&store, SessionId(3), "P1");
    let export = access_export(&store, &content, &someone_else, 1_700_000_300_000).unwrap();
    let sessions: Vec<(i64, &str)> = export
        .sessions
        .iter()
        .map(|s| (s.session, s.slot.as_str()))
        .collect();
    assert_eq!(sessions, [(3, "P1")]);
}

/// Unix ms of a UTC date and time.
fn utc(y: i32, m: u8, d: u8, h: u8) -> i64 {
    let month = time::Month::try_from(m).expect("a month from 1 to 12");
    let date = time::Date::from_calendar_date(y, month, d).expect("a real date");
    date.with_hms(h, 0, 0)
        .expect("a real hour")
        .assume_utc()
        .unix_timestamp()
        * 1000
}

#[test]
fn the_cutoff_counts_calendar_months() {
    assert_eq!(
        cutoff_unix_ms(utc(2025, 1, 15, 10), 12).unwrap(),
        utc(2024, 1, 15, 10)
    );
    assert_eq!(
        cutoff_unix_ms(utc(2025, 3, 31, 8), 1).unwrap(),
        utc(2025, 2, 28, 8)
    );
    assert_eq!(
        cutoff_unix_ms(utc(2024, 3, 31, 8), 1).unwrap(),
        utc(2024, 2, 29, 8)
    );
    assert_eq!(
        cutoff_unix_ms(utc(2025, 2, 10, 0), 14).unwrap(),
        utc(2023, 12, 10, 0)
    );
    assert!(cutoff_unix_ms(utc(2025, 2, 10, 0), 0).is_err());
    assert_eq!(month_of(utc(2024, 3, 1, 0)), "2024-03");
}

#[test]
fn a_purge_removes_old_sessions_and_keeps_their_figures() {
    let content = content();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("director.db");
    let old = demo(&path, &content, utc(2024, 3, 5, 9));
    let holders = slot_holders(old.store(), old.id(), old.engine()).unwrap();
    assert_eq!(holders.len(), 6, "every slot has its person");
    let act = activity(old.id(), old.engine(), &holders);
    let times = old.engine().times();
    let started = times.started.unwrap();
    let ended = times.ended.unwrap();
    assert_eq!(act.participants.len(), 6);
    assert_eq!(act.play_ms, ended.0 - started.0);
    assert_eq!(act.participant_ms, 6 * act.play_ms);
    drop(old);
    drop(demo(&path, &content, utc(2025, 2, 1, 9)));

    let mut store = Store::open(&path, PASS).unwrap();
    let cutoff = cutoff_unix_ms(utc(2025, 3, 10, 12), 12).unwrap();
    let plan = plan_purge(&store, &content, cutoff).unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].info.id, SessionId(1));
    assert_eq!(plan[0].names, 2);
    assert_eq!(plan[0].purged.month, "2024-03");
    let text = purge_fr(&plan, 12, cutoff, false);
    assert!(
        text.contains("séance 1 (scape_attitudes, 5 mars 2024) : 6 participant·es, 2 nom(s)"),
        "{text}"
    );
    assert!(!text.contains("Awa") && !text.contains("Renard"), "{text}");

    let purged: Vec<_> = plan.iter().map(|i| i.purged.clone()).collect();
    store.purge(&purged).unwrap();
    assert_eq!(
        store
            .sessions()
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        [SessionId(2)]
    );
    let figures = store.activity_figures().unwrap();
    assert_eq!(figures.len(), 1);
    assert_eq!(
        (
            figures[0].month.as_str(),
            figures[0].sessions,
            figures[0].participants
        ),
        ("2024-03", 1, 6)
    );
    assert_eq!(figures[0].play_ms, act.play_ms);
    // Nothing left to purge at the same date.
    assert!(plan_purge(&store, &content, cutoff).unwrap().is_empty());
}

/// The console's administration: the purge's preview, a confirmation for another list or
/// holding the hosted session refused, then the purge itself (the same as the CLI's); the
/// funders' figures keep the purged session, their CSV is written into a folder, and the
/// access log shows the purge first.
#[test]
fn the_consoles_purge_follows_its_preview_and_the_figures_stay() {
    use boussole_director::desk::{
        access_lines, figures_csv_into, figures_lines, purge_confirmed, purge_preview,
    };
    let content = content();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("director.db");
    drop(demo(&path, &content, utc(2024, 3, 5, 9)));
    drop(demo(&path, &content, utc(2025, 2, 1, 9)));
    let mut store = Store::open(&path, PASS).unwrap();
    let now = utc(2025, 3, 10, 12);

    let preview = purge_preview(&store, &content, now).unwrap();
    assert_eq!(preview.months, 12);
    assert_eq!(preview.sessions.len(), 1);
    let line = &preview.sessions[0];
    assert_eq!((line.id, line.people), (1, 6));
    assert!(line.records > 0);
    assert_eq!(
        store.sessions().unwrap().len(),
        2,
        "a preview removes nothing"
    );

    // A list that is not the preview's, or one holding the hosted session: refused.
    let why = purge_confirmed(&mut store, &content, &[1, 2], None, "Camille", now).unwrap_err();
    assert!(why.contains("a changé depuis l'aperçu"), "{why}");
    let why = purge_confirmed(
        &mut store,
        &content,
        &[1],
        Some(SessionId(1)),
        "Camille",
        now,
    )
    .unwrap_err();
    assert!(why.contains("est ouverte"), "{why}");
    assert_eq!(store.sessions().unwrap().len(), 2);

    let done = purge_confirmed(
        &mut store,
        &content,
        &[1],
        Some(SessionId(2)),
        "Camille",
        now,
    )
    .unwrap();
    assert!(done.starts_with("Purge faite : 1 séance(s)"), "{done}");
    assert_eq!(
        store
            .sessions()
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        [SessionId(2)]
    );
    assert!(
        purge_preview(&store, &content, now)
            .unwrap()
            .sessions
            .is_empty()
    );

    // The figures still count the purged session's month, anonymously.
    let figures = figures_lines(&store, &content).unwrap();
    let march = figures
        .iter()
        .find(|r| r.period == "2024-03" && r.kind == "toutes activités")
        .unwrap_or_else(|| panic!("{figures:?}"));
    assert_eq!((march.sessions, march.persons.as_str()), (1, "6"));
    let keys = dir.path().join("cle");
    std::fs::create_dir(&keys).unwrap();
    let written = figures_csv_into(&mut store, &content, &keys, "Camille", now).unwrap();
    assert!(
        written.contains("chiffres-financeurs-2025-03-10.csv"),
        "{written}"
    );
    let csv = std::fs::read_to_string(keys.join("chiffres-financeurs-2025-03-10.csv")).unwrap();
    assert!(
        csv.starts_with("periode,activite,seances,personnes"),
        "{csv}"
    );
    assert!(csv.contains("2024-03,all,1,6,"), "{csv}");
    assert!(!csv.contains("Renard") && !csv.contains("Awa"), "{csv}");
    // A folder that is not there: a French refusal, nothing written.
    let why = figures_csv_into(
        &mut store,
        &content,
        &dir.path().join("absent"),
        "Camille",
        now,
    )
    .unwrap_err();
    assert!(!why.is_empty());

    // The access log, newest first: the CSV, then the purge, under the facilitator's name.
    let access = access_lines(&store).unwrap();
    assert!(
        access[0].detail.contains("chiffres des financeurs"),
        "{access:?}"
    );
    let purge = access
        .iter()
        .find(|a| a.detail.starts_with("plus de 12 mois : séances 1 ;"))
        .unwrap_or_else(|| panic!("{access:?}"));
    assert_eq!(purge.actor, "Camille");
    assert!(
        access
            .windows(2)
            .all(|w| w[0].at_unix_ms >= w[1].at_unix_ms)
    );
}

/// A person's data handed to them from the console: a readable PDF in simple French and the
/// same data as JSON, both in the folder chosen; the PDF (read back with poppler's pdftotext)
/// names them, says what was noted of their behaviour, their levels and their rights; a folder
/// that is not there is refused and nothing is written.
#[test]
fn a_persons_data_is_handed_over_as_a_readable_pdf_and_as_json() {
    use boussole_director::privacy::export_on_request;
    let content = content();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("director.db");
    let session = demo(&path, &content, utc(2026, 11, 30, 9));
    let renard = slot_holders(session.store(), session.id(), session.engine())
        .unwrap()
        .get(&ParticipantId::from("P1"))
        .cloned()
        .unwrap();
    drop(session);
    let mut store = Store::open(&path, PASS).unwrap();
    let key = dir.path().join("cle");
    std::fs::create_dir(&key).unwrap();
    let why = export_on_request(
        &mut store,
        &content,
        renard.as_str(),
        &dir.path().join("absente"),
        "Camille",
        utc(2026, 12, 1, 9),
    )
    .unwrap_err();
    assert!(!why.is_empty());
    let said = export_on_request(
        &mut store,
        &content,
        renard.as_str(),
        &key,
        "Camille",
        utc(2026, 12, 1, 9),
    )
    .unwrap();
    assert!(
        said.contains("(à lire)") && said.contains("(pour un ordinateur)"),
        "{said}"
    );
    let mut files: Vec<_> = std::fs::read_dir(&key)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let noted = json["sessions"][0]["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["what"].as_str().unwrap().to_owned())
        .find(|w| w != "note")
        .unwrap();
    if let Some(keep) = std::env::var_os("KEEP_PDF") {
        std::fs::copy(&files[1], keep).unwrap();
    }
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&files[1])
        .arg("-")
        .output()
        .expect("pdftotext (package poppler-utils, installed by `cargo xtask test`)");
    assert!(out.status.success());
    // (pdftotext breaks lines where the page does: compare words, not lines)
    // (typst sets typographic apostrophes; the checks use the plain one)
    let text = String::from_utf8_lossy(&out.stdout)
        .replace('\u{2019}', "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "Vos données dans la Boussole de l'orientation",
        "Awa Diallo",
        "Pseudonyme Renard",
        "Séance du 30 novembre 2026",
        "créée sous le pseudonyme « Renard »",
        "retenu : 1 — ",
        noted.as_str(),
        "Vos droits",
        "12 mois",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}
