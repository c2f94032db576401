//! A person is one person (DESIGN principle 8): two groups play S'cape attitudes on one day with
//! the same slot labels and different people, and one person also came to the morning's
//! immersions. Each synthesis, erasure and access export reaches exactly one person, and the
//! figures count people, not labels. Then the register's own rules: enrolment by person, a
//! moved slot, a merge and its undo, and every bad input refused in French with nothing written.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers stop the test with what failed"
)]

use boussole_content::ContentSet;
use boussole_director::engine::{Command, Effect, Input, Millis, ParticipantId, PersonId};
use boussole_director::privacy::{access_export, erase_person};
use boussole_director::record::{SessionRecord, SynthesisOptions, build};
use boussole_director::register::{
    ResolveError, adopt_legacy, appearances, person_sessions, resolve_slot, slot_holders,
};
use boussole_director::retention::live_figures;
use boussole_director::script;
use boussole_director::session::{Session, replay};
use boussole_director::store::{NewPerson, RegisterError, SessionId, Store};
use boussole_synthesis::{ActivityKind, Audience};
use std::path::{Path, PathBuf};

const PASS: &str = "test";
/// 2026-12-01T08:00:00Z: the morning.
const MORNING: i64 = 1_796_112_000_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn content() -> ContentSet {
    let (set, problems) = ContentSet::load_dir(&repo().join("content"));
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn demo_script(name: &str) -> script::Script {
    let text = std::fs::read_to_string(repo().join("director/scripts").join(name)).unwrap();
    script::parse(&text).unwrap()
}

/// Plays `sc` as a new session created at `created`; returns its id.
fn play(db: &Path, set: &ContentSet, sc: &script::Script, created: i64) -> SessionId {
    let store = Store::open(db, PASS).unwrap();
    let mut session = Session::create(store, set, &sc.scenario, &sc.label, created).unwrap();
    script::run(&mut session, sc).unwrap();
    session.id()
}

fn opts() -> SynthesisOptions {
    SynthesisOptions {
        audience: Audience::Counsellor,
        final_version: false,
        shown_name: None,
        pseudonym: None,
        rater: None,
        programme: "La Boussole de l'orientation".into(),
        organisation: "PLIE".into(),
        facilitator: "Animatrice".into(),
        today_unix_ms: MORNING,
        consent_unix_ms: None,
    }
}

/// The person's synthesis from their appearances in the register, as the CLI builds it.
fn synthesis_of(store: &Store, set: &ContentSet, person: &str) -> boussole_synthesis::Synthesis {
    let sessions = person_sessions(store, set, person, &[]).unwrap();
    let records: Vec<SessionRecord<'_>> = sessions.iter().map(|s| s.record()).collect();
    let mut o = opts();
    o.pseudonym = store.person(person).unwrap().map(|p| p.pseudonym);
    build(&records, set, &o).unwrap()
}

struct Day {
    _dir: tempfile::TempDir,
    db: PathBuf,
    set: ContentSet,
    morning: SessionId,
    game_a: SessionId,
    game_b: SessionId,
}

/// The morning: Awa alone does the immersions. Game A: Awa and five others. Game B: five other
/// people, with the labels P1–P5 again. Eleven people in all.
fn day() -> Day {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let set = content();
    let mut morning = demo_script("demo_immersions.ron");
    morning.participants.truncate(1);
    morning.participants[0].person = Some("Awa".into());
    let mut a = demo_script("demo_scape_attitudes.ron");
    a.participants[0].person = Some("Awa".into());
    for (i, p) in a.participants.iter_mut().enumerate().skip(1) {
        p.person = Some(format!("Groupe A {i}"));
    }
    let mut b = demo_script("demo_scape_attitudes.ron");
    b.participants.truncate(5);
    for (i, p) in b.participants.iter_mut().enumerate() {
        p.person = Some(format!("Groupe B {i}"));
        p.name = Some(format!("Personne B{i}"));
    }
    let morning = play(&db, &set, &morning, MORNING);
    let game_a = play(&db, &set, &a, MORNING + 3 * 3_600_000);
    let game_b = play(&db, &set, &b, MORNING + 6 * 3_600_000);
    Day {
        _dir: dir,
        db,
        set,
        morning,
        game_a,
        game_b,
    }
}

fn person_named(store: &Store, pseudonym: &str) -> String {
    let found: Vec<_> = store
        .persons()
        .unwrap()
        .into_iter()
        .filter(|p| p.pseudonym == pseudonym)
        .collect();
    assert_eq!(found.len(), 1, "{pseudonym}: {found:?}");
    found[0].id.clone()
}

#[test]
fn two_groups_with_the_same_labels_are_eleven_people() {
    let day = day();
    let store = Store::open(&day.db, PASS).unwrap();
    let awa = person_named(&store, "Awa");
    let b0 = person_named(&store, "Groupe B 0");
    assert_ne!(awa, b0);

    // P1 is Awa in the morning and in game A, someone else in game B.
    let slots = |sid| {
        let (_, engine) = replay(&store, &day.set, sid).unwrap();
        slot_holders(&store, sid, &engine).unwrap()
    };
    let p1 = ParticipantId::from("P1");
    assert_eq!(slots(day.morning)[&p1].as_str(), awa);
    assert_eq!(slots(day.game_a)[&p1].as_str(), awa);
    assert_eq!(slots(day.game_b)[&p1].as_str(), b0);
    let where_awa: Vec<SessionId> = appearances(&store, &awa)
        .unwrap()
        .iter()
        .map(|a| a.session.id)
        .collect();
    assert_eq!(where_awa, [day.morning, day.game_a]);

    // Each synthesis holds exactly that person's sessions and evidence: the same document as
    // one built from their own slots by hand, and nothing of the other P1.
    let doc_awa = synthesis_of(&store, &day.set, &awa);
    let doc_b0 = synthesis_of(&store, &day.set, &b0);
    let games = |d: &boussole_synthesis::Synthesis| {
        d.activities
            .iter()
            .filter(|a| a.kind == ActivityKind::EscapeGame)
            .count()
    };
    assert_eq!(games(&doc_awa), 1, "{:?}", doc_awa.activities);
    assert_eq!(games(&doc_b0), 1, "{:?}", doc_b0.activities);
    assert!(
        doc_awa
            .activities
            .iter()
            .any(|a| a.kind == ActivityKind::Immersion)
    );
    assert!(
        doc_b0
            .activities
            .iter()
            .all(|a| a.kind != ActivityKind::Immersion)
    );
    let (ia, ea) = replay(&store, &day.set, day.game_a).unwrap();
    let (ib, eb) = replay(&store, &day.set, day.game_b).unwrap();
    let only_b = build(
        &[SessionRecord {
            id: ib.id,
            participant: p1.clone(),
            created_at_unix_ms: ib.created_at_unix_ms,
            engine: &eb,
        }],
        &day.set,
        &opts(),
    )
    .unwrap();
    assert_eq!(doc_b0.competencies, only_b.competencies);
    let mixed = build(
        &[
            SessionRecord {
                id: ia.id,
                participant: p1.clone(),
                created_at_unix_ms: ia.created_at_unix_ms,
                engine: &ea,
            },
            SessionRecord {
                id: ib.id,
                participant: p1.clone(),
                created_at_unix_ms: ib.created_at_unix_ms,
                engine: &eb,
            },
        ],
        &day.set,
        &opts(),
    )
    .unwrap();
    assert_eq!(games(&mixed), 2, "the old slot-label join mixed two people");
    assert_eq!(doc_awa.participant.pseudonym, "Awa");
    assert_eq!(doc_b0.participant.pseudonym, "Groupe B 0");

    // A slot label alone names one person per session; across both games it is ambiguous,
    // and the refusal lists who matches.
    assert_eq!(
        resolve_slot(&store, &[day.game_b], "P1").unwrap().as_str(),
        b0
    );
    assert_eq!(
        resolve_slot(&store, &[day.morning, day.game_a], "P1")
            .unwrap()
            .as_str(),
        awa
    );
    match resolve_slot(&store, &[day.game_a, day.game_b], "P1") {
        Err(ResolveError::Ambiguous { choices, .. }) => {
            assert!(
                choices.contains("Awa") && choices.contains("Groupe B 0"),
                "{choices}"
            );
            assert!(
                choices.contains(&format!("séance {}", day.game_b)),
                "{choices}"
            );
        }
        other => panic!("expected an ambiguity, got {other:?}"),
    }

    // The funders' figures count eleven people, not six labels.
    let (live, _) = live_figures(&store, &day.set).unwrap();
    let people: u64 = live.iter().map(|f| f.participants).sum();
    assert_eq!(people, 11, "{live:?}");
    assert_eq!(live.iter().map(|f| f.sessions).sum::<u64>(), 3);

    // The access export of Awa reaches her two sessions only.
    let export = access_export(&store, &day.set, &awa, MORNING).unwrap();
    assert_eq!(export.register.pseudonym, "Awa");
    let sessions: Vec<i64> = export.sessions.iter().map(|s| s.session).collect();
    assert_eq!(sessions, [day.morning.0, day.game_a.0]);
    drop(store);

    // Erasing game B's P1 leaves Awa's P1 untouched.
    let mut store = Store::open(&day.db, PASS).unwrap();
    let done = erase_person(&mut store, &b0, MORNING).unwrap();
    assert_eq!(done.sessions.len(), 1);
    assert_eq!(done.sessions[0].session, day.game_b);
    assert_eq!(store.participant_name(day.game_b, "P1").unwrap(), None);
    assert_eq!(
        store.participant_name(day.game_a, "P1").unwrap().as_deref(),
        Some("Awa Diallo")
    );
    let (_, ea) = replay(&store, &day.set, day.game_a).unwrap();
    assert_eq!(ea.participants()[&p1].pseudonym, "Renard");
    let (_, eb) = replay(&store, &day.set, day.game_b).unwrap();
    assert_eq!(eb.participants()[&p1].pseudonym, "effacé-P1");
    let erased = store.person(&b0).unwrap().unwrap();
    assert!(erased.erased_at_unix_ms.is_some());
    assert_eq!(store.person_name(&b0).unwrap(), None);
    assert!(store.person_journal(&b0).unwrap().is_empty());
    assert_eq!(store.erasures().unwrap(), [(b0.clone(), MORNING)]);
    // Still eleven people in the figures: the erased one is anonymous, not gone.
    let (live, _) = live_figures(&store, &day.set).unwrap();
    assert_eq!(live.iter().map(|f| f.participants).sum::<u64>(), 11);
}

fn submit(session: &mut Session, c: Command, at: u64) -> Vec<Effect> {
    session.submit(Input::Command(c), Millis(at)).unwrap()
}

fn refusal(effects: &[Effect]) -> Option<&str> {
    effects.iter().find_map(|e| match e {
        Effect::Refused(why) => Some(why.as_str()),
        _ => None,
    })
}

fn add(id: &str, colour: &str) -> Command {
    Command::AddParticipant {
        id: id.into(),
        pseudonym: format!("Pseudo {id}"),
        colour: colour.into(),
    }
}

fn assign(slot: &str, person: &str, reason: &str) -> Command {
    Command::AssignPerson {
        participant: slot.into(),
        person: PersonId(person.into()),
        reason: reason.into(),
    }
}

fn new_person(store: &mut Store, pseudonym: &str) -> String {
    store
        .create_person(
            &NewPerson {
                pseudonym: pseudonym.into(),
                ..Default::default()
            },
            MORNING,
        )
        .unwrap()
}

#[test]
fn enrolment_moves_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let set = content();
    let mut store = Store::open(&db, PASS).unwrap();
    let awa = new_person(&mut store, "Awa");
    let kevin = new_person(&mut store, "Kevin");
    let mut s = Session::create(store, &set, "scape_attitudes", "", MORNING).unwrap();

    // An enrolment that names its person in the same batch takes that person.
    let out = s
        .submit_batch(vec![
            (Input::Command(add("P1", "#e07000")), Millis(0)),
            (Input::Command(assign("P1", &awa, "")), Millis(0)),
        ])
        .unwrap();
    assert!(out.iter().all(|e| refusal(e).is_none()), "{out:?}");
    // One without a person gets a new one of its own.
    assert_eq!(refusal(&submit(&mut s, add("P2", "#0070e0"), 10)), None);
    let p2 = s.engine().participants()[&ParticipantId::from("P2")]
        .person
        .clone()
        .expect("a new person");
    assert_ne!(p2.as_str(), awa);
    assert_eq!(
        s.store().person(p2.as_str()).unwrap().unwrap().pseudonym,
        "Pseudo P2"
    );

    // The same slot twice in one batch: one enrolment, one new person, nothing orphaned.
    let persons = s.store().persons().unwrap().len();
    let out = s
        .submit_batch(vec![
            (Input::Command(add("P5", "#555555")), Millis(15)),
            (Input::Command(add("P5", "#666666")), Millis(15)),
        ])
        .unwrap();
    assert!(
        refusal(&out[0]).is_none() && refusal(&out[1]).is_some(),
        "{out:?}"
    );
    assert_eq!(s.store().persons().unwrap().len(), persons + 1);
    assert!(
        s.store()
            .persons()
            .unwrap()
            .iter()
            .all(|p| !appearances(s.store(), &p.id).unwrap().is_empty()
                || [awa.as_str(), kevin.as_str()].contains(&p.id.as_str())),
        "every new person holds a slot"
    );

    // Bad input, each refused in French.
    let why = refusal(&submit(&mut s, add("P1", "#123456"), 20))
        .unwrap()
        .to_owned();
    assert!(why.contains("P1") && why.contains("déjà prise"), "{why}");
    let why = refusal(&submit(&mut s, add("P3", "#E07000"), 30))
        .unwrap()
        .to_owned();
    assert!(why.contains("couleur") && why.contains("P1"), "{why}");
    assert!(
        !s.engine()
            .participants()
            .contains_key(&ParticipantId::from("P3"))
    );
    let why = refusal(&submit(&mut s, assign("P2", &awa, "erreur"), 40))
        .unwrap()
        .to_owned();
    assert!(why.contains("déjà inscrite") && why.contains("P1"), "{why}");
    let why = refusal(&submit(&mut s, assign("P2", &kevin, ""), 50))
        .unwrap()
        .to_owned();
    assert!(why.contains("raison"), "{why}");
    let why = refusal(&submit(&mut s, assign("P2", "pers-inconnue", "x"), 60))
        .unwrap()
        .to_owned();
    assert!(why.contains("inconnue"), "{why}");
    let records = s.store().log(s.id()).unwrap().len();

    // A slot given to the wrong person moves, with a reason, logged.
    assert_eq!(
        refusal(&submit(
            &mut s,
            assign("P2", &kevin, "erreur de saisie"),
            70
        )),
        None
    );
    assert_eq!(s.store().log(s.id()).unwrap().len(), records + 1);
    assert_eq!(
        s.store().slot_persons(s.id()).unwrap()["P2"],
        kevin,
        "the register mirrors the log"
    );
    assert!(appearances(s.store(), p2.as_str()).unwrap().is_empty());

    // Once the participant agreed to send the final synthesis, the slot stays theirs.
    submit(&mut s, Command::EndSession, 80);
    submit(
        &mut s,
        Command::RecordRestitution {
            participant: "P2".into(),
        },
        90,
    );
    submit(
        &mut s,
        Command::RecordConsent {
            participant: "P2".into(),
            given: true,
        },
        100,
    );
    let why = refusal(&submit(&mut s, assign("P2", p2.as_str(), "retour"), 110))
        .unwrap()
        .to_owned();
    assert!(why.contains("synthèse finale"), "{why}");
    let sid = s.id();
    drop(s);

    // Reopened, the log rebuilds the same holders.
    let store = Store::open(&db, PASS).unwrap();
    let s = Session::open(store, &set, sid).unwrap();
    let holders = slot_holders(s.store(), sid, s.engine()).unwrap();
    assert_eq!(holders[&ParticipantId::from("P1")].as_str(), awa);
    assert_eq!(holders[&ParticipantId::from("P2")].as_str(), kevin);
}

#[test]
fn merge_and_its_undo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let set = content();
    // Before the register, Awa was enrolled twice: once in the morning, once in the game.
    let mut morning = demo_script("demo_immersions.ron");
    morning.participants.truncate(1);
    morning.participants[0].person = None;
    let mut game = demo_script("demo_scape_attitudes.ron");
    game.participants.truncate(2);
    for p in &mut game.participants {
        p.person = None;
    }
    let s1 = play(&db, &set, &morning, MORNING);
    let s2 = play(&db, &set, &game, MORNING + 3_600_000);
    let mut store = Store::open(&db, PASS).unwrap();
    let first = store.slot_persons(s1).unwrap()["P1"].clone();
    let second = store.slot_persons(s2).unwrap()["P1"].clone();
    let other = store.slot_persons(s2).unwrap()["P2"].clone();
    assert_ne!(first, second, "two enrolments, two persons until merged");

    // Bad merges, refused in French, nothing written.
    let journal = store.person_journal(&first).unwrap().len();
    assert!(matches!(
        store.merge_persons(&first, &first, "x", MORNING),
        Err(RegisterError::MergeIntoSelf(_))
    ));
    let e = store
        .merge_persons(&second, &other, "x", MORNING)
        .unwrap_err();
    assert!(matches!(e, RegisterError::SameSession { .. }), "{e}");
    assert!(e.to_string().contains("deux personnes"), "{e}");
    assert!(matches!(
        store.unmerge_person(&first, "x", MORNING),
        Err(RegisterError::NotMerged(_))
    ));
    assert_eq!(store.person_journal(&first).unwrap().len(), journal);

    // The merge joins the morning and the game; its undo splits them again.
    store
        .merge_persons(
            &second,
            &first,
            "même personne, inscrite deux fois",
            MORNING,
        )
        .unwrap();
    let both: Vec<SessionId> = appearances(&store, &first)
        .unwrap()
        .iter()
        .map(|a| a.session.id)
        .collect();
    assert_eq!(both, [s1, s2]);
    assert_eq!(appearances(&store, &second).unwrap().len(), 2);
    assert_eq!(
        resolve_slot(&store, &[s1, s2], "P1").unwrap().as_str(),
        first
    );
    let doc = synthesis_of(&store, &set, &first);
    assert!(
        doc.activities
            .iter()
            .any(|a| a.kind == ActivityKind::EscapeGame)
    );
    assert!(
        doc.activities
            .iter()
            .any(|a| a.kind == ActivityKind::Immersion)
    );
    let (live, _) = live_figures(&store, &set).unwrap();
    assert_eq!(live.iter().map(|f| f.participants).sum::<u64>(), 2);
    assert!(matches!(
        store.merge_persons(&second, &other, "x", MORNING),
        Err(RegisterError::AlreadyMerged { .. })
    ));
    assert!(
        store
            .person_journal(&second)
            .unwrap()
            .iter()
            .any(|j| j.change == "merged" && j.detail.contains("inscrite deux fois"))
    );

    store
        .unmerge_person(&second, "finalement deux personnes", MORNING)
        .unwrap();
    assert_eq!(appearances(&store, &first).unwrap().len(), 1);
    assert_eq!(appearances(&store, &second).unwrap().len(), 1);
    assert!(matches!(
        resolve_slot(&store, &[s1, s2], "P1"),
        Err(ResolveError::Ambiguous { .. })
    ));
    let (live, _) = live_figures(&store, &set).unwrap();
    assert_eq!(live.iter().map(|f| f.participants).sum::<u64>(), 3);
    // Legacy adoption has nothing left to do on a store made by this version.
    assert_eq!(adopt_legacy(&mut store, MORNING).unwrap(), 0);
}

/// A store written by the director before the register (schema version 2: the commit before
/// this change played `demo_immersions.ron` then `demo_scape_attitudes.ron` into it, with the
/// passphrase "fixture"): it opens, each (session, slot) becomes its own person, never one
/// across sessions, and a merge rejoins the morning and the afternoon.
#[test]
fn a_store_from_before_the_register_gets_one_person_per_slot() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    std::fs::copy(repo().join("director/tests/fixtures/v2_director.db"), &db).unwrap();
    let set = content();
    let mut store = Store::open(&db, "fixture").unwrap();
    let sessions: Vec<SessionId> = store.sessions().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(sessions, [SessionId(1), SessionId(2)]);
    assert_eq!(store.legacy_sessions().unwrap(), sessions);
    assert_eq!(adopt_legacy(&mut store, MORNING).unwrap(), 12);
    assert!(store.legacy_sessions().unwrap().is_empty());
    assert_eq!(adopt_legacy(&mut store, MORNING).unwrap(), 0, "once only");

    let morning = store.slot_persons(SessionId(1)).unwrap();
    let game = store.slot_persons(SessionId(2)).unwrap();
    assert_eq!(morning.len(), 6);
    assert_eq!(game.len(), 6);
    for (slot, person) in &morning {
        assert_ne!(&game[slot], person, "{slot}: never joined by label");
    }
    let renard_am = morning["P1"].clone();
    let renard_pm = game["P1"].clone();
    assert_eq!(
        store.person(&renard_am).unwrap().unwrap().pseudonym,
        "Renard"
    );
    assert_eq!(
        store.person_name(&renard_pm).unwrap().as_deref(),
        Some("Awa Diallo"),
        "the protected name follows the slot into the register"
    );
    // The old logs still replay, and each slot resolves to its own person.
    for sid in &sessions {
        let (_, engine) = replay(&store, &set, *sid).unwrap();
        let holders = slot_holders(&store, *sid, &engine).unwrap();
        assert_eq!(holders.len(), 6);
    }
    let (live, _) = live_figures(&store, &set).unwrap();
    assert_eq!(live.iter().map(|f| f.participants).sum::<u64>(), 12);
    let doc = synthesis_of(&store, &set, &renard_pm);
    assert!(
        doc.activities
            .iter()
            .all(|a| a.kind == ActivityKind::EscapeGame)
    );

    // The facilitator rejoins Awa's morning and afternoon; undone, they split again.
    store
        .merge_persons(&renard_am, &renard_pm, "Awa, matin et après-midi", MORNING)
        .unwrap();
    let doc = synthesis_of(&store, &set, &renard_pm);
    assert!(
        doc.activities
            .iter()
            .any(|a| a.kind == ActivityKind::Immersion)
    );
    assert!(
        doc.activities
            .iter()
            .any(|a| a.kind == ActivityKind::EscapeGame)
    );
    let (live, _) = live_figures(&store, &set).unwrap();
    assert_eq!(live.iter().map(|f| f.participants).sum::<u64>(), 11);
    store.unmerge_person(&renard_am, "erreur", MORNING).unwrap();
    assert_eq!(appearances(&store, &renard_pm).unwrap().len(), 1);

    // A new session on the old store enrols by person as usual.
    let mut s = Session::create(store, &set, "scape_attitudes", "", MORNING).unwrap();
    let out = s
        .submit_batch(vec![
            (Input::Command(add("P1", "#e07000")), Millis(0)),
            (Input::Command(assign("P1", &renard_pm, "")), Millis(0)),
        ])
        .unwrap();
    assert!(out.iter().all(|e| refusal(e).is_none()), "{out:?}");
    assert_eq!(appearances(s.store(), &renard_pm).unwrap().len(), 2);
}

/// An erasure made after a backup is made again when that backup is restored.
#[test]
fn restoring_an_older_backup_erases_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let set = content();
    let mut sc = demo_script("demo_scape_attitudes.ron");
    sc.participants.truncate(2);
    play(&db, &set, &sc, MORNING);
    let mut store = Store::open(&db, PASS).unwrap();
    let key = boussole_director::store::RecoveryKey::generate();
    store.set_recovery_key(&key, MORNING).unwrap();
    let backup = dir.path().join("avant.bak");
    store.backup(&backup).unwrap();
    let renard = person_named(&store, "Renard");
    erase_person(&mut store, &renard, MORNING + 1).unwrap();
    let erasures = store.erasures().unwrap();
    drop(store);

    let restored = dir.path().join("restored.db");
    let mut old = Store::restore(&backup, &key, &restored, "nouvelle").unwrap();
    assert!(
        old.person(&renard)
            .unwrap()
            .unwrap()
            .erased_at_unix_ms
            .is_none(),
        "the backup predates the erasure"
    );
    let again = boussole_director::privacy::reapply_erasures(&mut old, &erasures).unwrap();
    assert_eq!(again, std::slice::from_ref(&renard));
    assert_eq!(old.person(&renard).unwrap().unwrap().pseudonym, "effacé");
    assert_eq!(old.participant_name(SessionId(1), "P1").unwrap(), None);
    let (_, engine) = replay(&old, &set, SessionId(1)).unwrap();
    assert_eq!(
        engine.participants()[&ParticipantId::from("P1")].pseudonym,
        "effacé-P1"
    );
    assert_eq!(
        engine.participants()[&ParticipantId::from("P2")].pseudonym,
        "Mouette"
    );
}

/// The purge takes the old sessions, then the persons left without a session and inactive for
/// the whole period (a merged pair only together), with their names and journal; the
/// figures keep counting people, not labels.
#[test]
fn the_information_notice_is_recorded_once_per_person_and_erased_with_them() {
    use boussole_director::register::{self, RegisterRequest};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("director.db"), PASS).unwrap();
    let awa = new_person(&mut store, "Awa");
    let bis = new_person(&mut store, "Awa bis");
    let kevin = new_person(&mut store, "Kevin");
    let given = |store: &Store, id: &str| {
        register::view(store)
            .unwrap()
            .persons
            .into_iter()
            .find(|e| e.id == id)
            .and_then(|e| e.notice_given_on)
    };
    assert_eq!(given(&store, &awa), None, "not given yet");
    // Given under a duplicate merged into her: recorded on the person she is.
    store.merge_persons(&bis, &awa, "la même", MORNING).unwrap();
    let said = register::apply(
        &mut store,
        RegisterRequest::NoticeGiven {
            person: bis.clone(),
            by: "Camille".into(),
        },
        MORNING,
    )
    .unwrap();
    assert_eq!(said, "notice d'information donnée à « Awa »");
    assert!(given(&store, &awa).is_some());
    assert_eq!(given(&store, &kevin), None, "only her");
    // A second time keeps the first date and giver.
    register::apply(
        &mut store,
        RegisterRequest::NoticeGiven {
            person: awa.clone(),
            by: "Dominique".into(),
        },
        MORNING + 86_400_000,
    )
    .unwrap();
    let kept = store.notices_given().unwrap();
    assert_eq!(kept[&awa], (MORNING, "Camille".into()));
    // An unknown person is refused, nothing written.
    assert!(
        register::apply(
            &mut store,
            RegisterRequest::NoticeGiven {
                person: "pers-inconnue".into(),
                by: "Camille".into(),
            },
            MORNING,
        )
        .is_err()
    );
    assert_eq!(store.notices_given().unwrap().len(), 1);
    // Erased on request: the record goes with the rest.
    store.erase_person(&awa, MORNING).unwrap();
    assert!(store.notices_given().unwrap().is_empty());
}

#[test]
fn the_purge_removes_inactive_persons_with_their_journal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let set = content();
    const YEAR: i64 = 366 * 24 * 3_600_000;
    // An old session of two people; a recent one with a third.
    let mut old = demo_script("demo_scape_attitudes.ron");
    old.participants.truncate(2);
    for p in &mut old.participants {
        p.person = None;
    }
    let old_id = play(&db, &set, &old, MORNING - 2 * YEAR);
    let mut recent = demo_script("demo_scape_attitudes.ron");
    recent.participants.truncate(1);
    recent.participants[0].person = Some("Lila".into());
    play(&db, &set, &recent, MORNING);
    let mut store = Store::open(&db, PASS).unwrap();
    let slots = store.slot_persons(old_id).unwrap();
    let (renard, mouette) = (slots["P1"].clone(), slots["P2"].clone());
    let lila = person_named(&store, "Lila");
    // Mouette came back recently under a duplicate entry, merged into her old one.
    let duplicate = new_person(&mut store, "Mouette bis");
    store
        .merge_persons(&duplicate, &mouette, "la même personne", MORNING)
        .unwrap();

    let cutoff = boussole_director::retention::cutoff_unix_ms(MORNING, 12).unwrap();
    let plan = boussole_director::retention::plan_purge(&store, &set, cutoff).unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].purged.participants.len(), 2, "two people");
    let purged: Vec<_> = plan.iter().map(|i| i.purged.clone()).collect();
    store.purge(&purged).unwrap();
    let gone = store.purge_inactive_persons(cutoff).unwrap();
    assert_eq!(
        gone,
        std::slice::from_ref(&renard),
        "Mouette's group is active through its duplicate"
    );
    assert!(store.person(&renard).unwrap().is_none());
    assert!(store.person_journal(&renard).unwrap().is_empty());
    assert!(store.person(&mouette).unwrap().is_some());
    assert!(store.person(&lila).unwrap().is_some());
    let figures = store.activity_figures().unwrap();
    assert_eq!(figures.iter().map(|f| f.participants).sum::<u64>(), 2);
    // A year later, with no new activity, the rest of the old group goes too; Lila stays while
    // her session is kept.
    let later = boussole_director::retention::cutoff_unix_ms(MORNING + 2 * YEAR, 12).unwrap();
    let gone = store.purge_inactive_persons(later).unwrap();
    assert_eq!(gone.len(), 2, "{gone:?}");
    assert!(store.person(&mouette).unwrap().is_none());
    assert!(store.person(&duplicate).unwrap().is_none());
    assert!(
        store.person(&lila).unwrap().is_some(),
        "she still has a session"
    );
}

#[test]
fn the_register_is_searched_by_pseudonym_or_civil_name_at_the_director() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("director.db"), PASS).unwrap();
    let renard = store
        .create_person(
            &NewPerson {
                pseudonym: "Renard".into(),
                name: Some("Awa Diallo".into()),
                ..Default::default()
            },
            MORNING,
        )
        .unwrap();
    let goeland = new_person(&mut store, "Goéland");
    let twice = new_person(&mut store, "Goéland bis");
    store
        .merge_persons(&twice, &goeland, "inscrite deux fois", MORNING)
        .unwrap();
    let search = |text: &str| boussole_director::register::search(&store, text).unwrap();
    // By civil name (never sent to a console), case and accents ignored.
    assert_eq!(search("DIALLO"), vec![renard.clone()]);
    assert_eq!(search("renard"), vec![renard]);
    // Accents ignored; a merged duplicate is not offered.
    assert_eq!(search("goeland"), vec![goeland]);
    assert!(search("").is_empty());
    assert!(search("  ").is_empty());
    assert!(search("personne").is_empty());
}

/// The consent belongs to a version of the synthesis: a final rests on an agreement to the
/// version it prints; a change afterwards (a level decided) makes another version, whose final
/// is refused until the person agrees again, and then says which final it replaces; a
/// withdrawal blocks the final; a hand-over needs a final of that version.
#[test]
fn a_consent_holds_for_its_version_and_a_corrected_final_says_what_it_replaces() {
    use boussole_director::store::SynthesisEvent::{
        ConsentGiven, ConsentWithdrawn, FinalWritten, HandedOver,
    };
    use boussole_director::synthesis::{Signature, SynthesisRequest, answer, record_event};
    let d = day();
    let store = Store::open(&d.db, PASS).unwrap();
    let awa = person_named(&store, "Awa");
    let slot = store
        .slot_persons(d.game_a)
        .unwrap()
        .into_iter()
        .find(|(_, p)| *p == awa)
        .map(|(s, _)| ParticipantId(s))
        .expect("Awa's slot in game A");
    // The restitution, recorded in her latest session's log.
    let mut session = Session::open(store, &d.set, d.game_a).unwrap();
    let at = Millis(session.engine().now().0 + 1000);
    let fx = session
        .submit(
            Input::Command(Command::RecordRestitution {
                participant: slot.clone(),
            }),
            at,
        )
        .unwrap();
    assert!(
        fx.iter().all(|e| !matches!(e, Effect::Refused(_))),
        "{fx:?}"
    );
    drop(session);
    let mut store = Store::open(&d.db, PASS).unwrap();
    let sig = Signature::default();
    let ask = |final_version: bool, ticket: u64| SynthesisRequest {
        person: awa.clone(),
        audience: Audience::Counsellor,
        final_version,
        with_name: false,
        ticket,
    };
    let v1 = answer(&mut store, &d.set, ask(false, 1), &sig, MORNING).version;
    assert_eq!(v1.len(), 8);
    // An agreement to another version is refused, naming both.
    let e = record_event(
        &mut store,
        &d.set,
        &awa,
        "DEADBEEF",
        ConsentGiven,
        "Camille",
        MORNING,
    )
    .unwrap_err();
    assert!(e.contains("a changé") && e.contains(&v1), "{e}");
    // A hand-over before any final is refused.
    assert!(
        record_event(
            &mut store, &d.set, &awa, &v1, HandedOver, "Camille", MORNING
        )
        .is_err()
    );
    record_event(
        &mut store,
        &d.set,
        &awa,
        &v1,
        ConsentGiven,
        "Camille",
        MORNING,
    )
    .unwrap();
    let first = answer(&mut store, &d.set, ask(true, 2), &sig, MORNING);
    let doc = first.outcome.expect("the final of the version agreed to");
    assert_eq!(doc.version, v1);
    assert_eq!(doc.replaces, None);
    assert!(matches!(
        doc.status,
        boussole_synthesis::Status::Final { .. }
    ));
    record_event(
        &mut store, &d.set, &awa, &v1, HandedOver, "Camille", MORNING,
    )
    .unwrap();
    // A level decided afterwards: another version, whose final waits for a new agreement.
    drop(store);
    let mut session = Session::open(Store::open(&d.db, PASS).unwrap(), &d.set, d.game_a).unwrap();
    let competency = d
        .set
        .rubrics
        .first()
        .map(|r| r.value.competencies[0].id.clone())
        .expect("a rubric");
    let at = Millis(session.engine().now().0 + 2000);
    let fx = session
        .submit(
            Input::Command(Command::DecideLevel {
                participant: slot,
                competency,
                level: Some(1),
                reason: "revu à la restitution".into(),
            }),
            at,
        )
        .unwrap();
    assert!(
        fx.iter().all(|e| !matches!(e, Effect::Refused(_))),
        "{fx:?}"
    );
    drop(session);
    let mut store = Store::open(&d.db, PASS).unwrap();
    let second = answer(&mut store, &d.set, ask(true, 3), &sig, MORNING);
    let v2 = second.version.clone();
    assert!(v2.is_empty() || v2 != v1);
    let why = second
        .outcome
        .expect_err("the consent was to the earlier version");
    assert!(why.contains("a changé depuis l'accord"), "{why}");
    let v2 = answer(&mut store, &d.set, ask(false, 4), &sig, MORNING).version;
    assert_ne!(v2, v1);
    record_event(
        &mut store,
        &d.set,
        &awa,
        &v2,
        ConsentGiven,
        "Camille",
        MORNING,
    )
    .unwrap();
    let corrected = answer(&mut store, &d.set, ask(true, 5), &sig, MORNING)
        .outcome
        .expect("the new version agreed to");
    assert_eq!(corrected.version, v2);
    let replaces = corrected
        .replaces
        .expect("a corrected final names the one it replaces");
    assert!(replaces.contains(&v1), "{replaces}");
    // Withdrawn: no final any more.
    record_event(
        &mut store,
        &d.set,
        &awa,
        &v2,
        ConsentWithdrawn,
        "Camille",
        MORNING,
    )
    .unwrap();
    let why = answer(&mut store, &d.set, ask(true, 6), &sig, MORNING)
        .outcome
        .expect_err("withdrawn");
    assert!(why.contains("a retiré son accord"), "{why}");
    let events: Vec<_> = store
        .synthesis_events(&awa)
        .unwrap()
        .into_iter()
        .map(|e| (e.event, e.version == v1))
        .collect();
    assert_eq!(
        events,
        vec![
            (ConsentGiven, true),
            (FinalWritten, true),
            (HandedOver, true),
            (ConsentGiven, false),
            (FinalWritten, false),
            (ConsentWithdrawn, false),
        ]
    );
}
