//! A participant's record across sessions turned into a synthesis: levels with their evidence,
//! the self-assessment beside them, appetences and stress sources from the immersions, the
//! facilitator's changes kept with their reasons, and the draft/final rules (debrief, consent).

#![expect(
    clippy::expect_used,
    reason = "test helpers stop the test with what failed"
)]

use boussole_content::ContentSet;
use boussole_director::engine::{
    Command, DeviceEvent, Effect, Engine, Input, Millis, ObservationAction, PersonId,
};
use boussole_director::evaluation::immersion_results;
use boussole_director::record::{SessionRecord, SynthesisError, SynthesisOptions, build};
use boussole_director::register::appearances;
use boussole_director::session::{Session, replay};
use boussole_director::store::{SessionId, Store};
use boussole_synthesis::{Audience, Renderer, Sign, Status};
use std::path::PathBuf;

fn s(secs: u64) -> Millis {
    Millis(secs * 1000)
}

fn content() -> ContentSet {
    let (set, problems) =
        ContentSet::load_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../content"));
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn engine(set: &ContentSet) -> Engine {
    let scenario = set
        .scenarios
        .iter()
        .map(|d| d.value.clone())
        .find(|s| s.id.as_str() == "scape_attitudes")
        .expect("shipped scenario");
    let grid = set
        .grids
        .iter()
        .map(|d| d.value.clone())
        .find(|g| g.id == scenario.observation_grid)
        .expect("its grid");
    let mut e = Engine::new(scenario, grid);
    // Each slot its own colour: the engine refuses a colour already taken.
    for (p, colour) in [("P1", "#e07000"), ("P2", "#0070e0")] {
        ok(
            &mut e,
            Command::AddParticipant {
                id: p.into(),
                pseudonym: format!("Pseudo {p}"),
                colour: colour.into(),
            },
            0,
        );
    }
    e
}

fn cmd(e: &mut Engine, c: Command, at: u64) -> Vec<Effect> {
    e.handle(Input::Command(c), s(at))
}

fn ok(e: &mut Engine, c: Command, at: u64) {
    let out = cmd(e, c, at);
    assert!(
        !out.iter().any(|x| matches!(x, Effect::Refused(_))),
        "{out:?}"
    );
}

fn device(e: &mut Engine, dev: &str, seq: u64, event: DeviceEvent, at: u64) {
    e.handle(
        Input::Device {
            device: dev.into(),
            seq,
            event,
        },
        s(at),
    );
}

fn code(e: &mut Engine, p: &str, b: &str, at: u64) {
    ok(
        e,
        Command::Observe {
            rater: "console".into(),
            participant: p.into(),
            behaviour: b.into(),
            action: ObservationAction::Point,
            modifier: None,
        },
        at,
    );
}

/// A 20-minute game: P1 shares and rephrases often (communication), rates themself 2 of 4 on
/// communication; P2 is coded once.
fn game(set: &ContentSet) -> Engine {
    let mut e = engine(set);
    ok(
        &mut e,
        Command::RegisterDevice {
            device: "tablette".into(),
            role: boussole_content::cue::DeviceRole::Terminal,
            station: None,
        },
        0,
    );
    ok(&mut e, Command::StartGame, 0);
    for t in [60, 120, 180, 240] {
        code(&mut e, "P1", "com_partage", t);
    }
    code(&mut e, "P1", "com_reformule", 300);
    code(&mut e, "P2", "com_partage", 90);
    device(
        &mut e,
        "tablette",
        1,
        DeviceEvent::Rating {
            question: "qa_communication".into(),
            participant: "P1".into(),
            value: 2,
            comment: None,
        },
        1150,
    );
    ok(&mut e, Command::EndSession, 1200);
    e
}

/// P1 visits the port in a headset: 3 hotspots, one task right, appeal 5, noise 4, cold 2.
fn immersions(set: &ContentSet) -> Engine {
    let mut e = engine(set);
    ok(
        &mut e,
        Command::RegisterDevice {
            device: "casque".into(),
            role: boussole_content::cue::DeviceRole::Headset,
            station: None,
        },
        0,
    );
    ok(
        &mut e,
        Command::AssignImmersion {
            device: "casque".into(),
            immersion: "cariste_port".into(),
            participant: "P1".into(),
        },
        10,
    );
    ok(
        &mut e,
        Command::StartImmersion {
            device: "casque".into(),
        },
        20,
    );
    let mut seq = 0;
    let mut send = |e: &mut Engine, event: DeviceEvent, at: u64| {
        seq += 1;
        device(e, "casque", seq, event, at);
    };
    for (i, h) in ["h_chariot", "h_charge", "h_chariot", "h_navire"]
        .iter()
        .enumerate()
    {
        let event = DeviceEvent::HotspotSeen {
            immersion: "cariste_port".into(),
            hotspot: (*h).into(),
        };
        send(&mut e, event, 30 + i as u64 * 10);
    }
    for (task, correct) in [("t_epi", true), ("t_danger", false)] {
        let event = DeviceEvent::TaskDone {
            immersion: "cariste_port".into(),
            task: task.into(),
            correct,
        };
        send(&mut e, event, 300);
    }
    for (q, v, c) in [
        ("appeal", 5, Some("J'aime être dehors")),
        ("q_bruit", 4, None),
        ("q_froid", 2, None),
    ] {
        let event = DeviceEvent::Rating {
            question: q.into(),
            participant: "P1".into(),
            value: v,
            comment: c.map(Into::into),
        };
        send(&mut e, event, 620);
    }
    ok(
        &mut e,
        Command::StopImmersion {
            device: "casque".into(),
        },
        740,
    );
    e
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
        // 2026-12-03 10:00 UTC.
        today_unix_ms: 1_796_292_000_000,
        consent_unix_ms: None,
    }
}

const DAY1: i64 = 1_796_032_800_000; // 2026-11-30 10:00 UTC

#[test]
fn one_record_from_an_immersion_session_and_a_game() {
    let set = content();
    let (im, g) = (immersions(&set), game(&set));
    let sessions = [
        SessionRecord {
            id: SessionId(2),
            participant: "P1".into(),
            created_at_unix_ms: DAY1 + 3_600_000,
            engine: &g,
        },
        SessionRecord {
            id: SessionId(1),
            participant: "P1".into(),
            created_at_unix_ms: DAY1,
            engine: &im,
        },
    ];
    let doc = build(&sessions, &set, &opts()).expect("synthesis");
    assert_eq!(doc.participant.shown, "Pseudo P1");
    assert_eq!(doc.date, "3 décembre 2026");
    assert_eq!(doc.status, Status::Draft);
    // Oldest first: the immersion, then the game.
    let titles: Vec<&str> = doc.activities.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert_eq!(titles[0], "Cariste au port");
    assert_eq!(doc.activities[0].minutes, 12);
    assert_eq!(doc.activities[1].minutes, 20);
    assert_eq!(doc.activities[0].date, "30 novembre 2026");

    let com = doc
        .competencies
        .iter()
        .find(|c| c.label == "Sens de la communication")
        .expect("in the rubric");
    // 4 × 1 + 1.5 = 5.5 points over 20 minutes = 0.275/min ≥ 0.2: the top level.
    assert_eq!(com.level, Some(4));
    assert_eq!(com.evidence_total, 5);
    assert_eq!(com.evidence.len(), 4, "the most telling four are printed");
    assert!(com.evidence.iter().all(|e| e.sign == Sign::Positive));
    assert!(
        com.evidence[0].what.starts_with("partage"),
        "{:?}",
        com.evidence[0]
    );
    assert_eq!(com.self_level, Some(2));
    assert!(com.anchor.is_some());
    assert!(
        doc.strengths
            .iter()
            .any(|s| s.starts_with("Sens de la communication"))
    );
    // Nothing else was coded: "non observé", never a guess.
    let autonomy = doc.competencies.iter().find(|c| c.label == "Autonomie");
    assert_eq!(autonomy.and_then(|c| c.level), None);

    assert_eq!(doc.appetences.len(), 1);
    let a = &doc.appetences[0];
    assert_eq!((a.appeal, a.hotspots, a.tasks), (Some(5), (3, 9), (1, 2)));
    assert_eq!(a.comment.as_deref(), Some("J'aime être dehors"));
    assert_eq!(a.rome_codes, ["N1101", "N1103"]);
    assert_eq!(doc.stress_sources.len(), 1, "{:?}", doc.stress_sources);
    assert_eq!(doc.stress_sources[0].rating, 4);
    assert!(doc.stress_sources[0].stimulus.starts_with("Bruit"));

    // The document renders.
    let pdf = Renderer::new().pdf(&doc).expect("renders");
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn a_changed_level_needs_its_reason_and_shows_it() {
    let set = content();
    let mut g = game(&set);
    let decide = |reason: &str| Command::DecideLevel {
        participant: "P1".into(),
        competency: "communication".into(),
        level: Some(3),
        reason: reason.into(),
    };
    ok(&mut g, decide(""), 1300);
    let rec = [SessionRecord {
        id: SessionId(1),
        participant: "P1".into(),
        created_at_unix_ms: DAY1,
        engine: &g,
    }];
    let e = build(&rec, &set, &opts()).expect_err("a change without a reason");
    assert!(matches!(e, SynthesisError::UnjustifiedChange { .. }), "{e}");
    assert!(e.to_string().contains("communication"), "{e}");

    ok(
        &mut g,
        decide("a surtout parlé au début, moins ensuite"),
        1310,
    );
    let rec = [SessionRecord {
        id: SessionId(1),
        participant: "P1".into(),
        created_at_unix_ms: DAY1,
        engine: &g,
    }];
    let doc = build(&rec, &set, &opts()).expect("justified");
    let com = doc
        .competencies
        .iter()
        .find(|c| c.label == "Sens de la communication")
        .expect("in the rubric");
    assert_eq!(com.level, Some(3), "the facilitator's decision is retained");
    let changed = com.changed.as_deref().expect("the change is shown");
    assert!(
        changed.contains("Point fort"),
        "the proposal stays visible: {changed}"
    );
    assert!(changed.contains("moins ensuite"), "{changed}");
}

#[test]
fn final_only_after_the_debrief_and_with_consent() {
    let set = content();
    let mut g = game(&set);
    let mut o = opts();
    o.final_version = true;
    let rec = |g: &Engine| {
        build(
            &[SessionRecord {
                id: SessionId(1),
                participant: "P1".into(),
                created_at_unix_ms: DAY1,
                engine: g,
            }],
            &set,
            &o,
        )
    };
    assert!(matches!(rec(&g), Err(SynthesisError::NoRestitution(_))));
    // Consent is asked at the debrief: not before it is recorded.
    let out = cmd(
        &mut g,
        Command::RecordConsent {
            participant: "P1".into(),
            given: true,
        },
        1300,
    );
    assert!(
        out.iter().any(|x| matches!(x, Effect::Refused(_))),
        "{out:?}"
    );
    ok(
        &mut g,
        Command::RecordRestitution {
            participant: "P1".into(),
        },
        86_400 * 3,
    );
    assert!(matches!(rec(&g), Err(SynthesisError::NoConsent(_))));
    let consent = |given| Command::RecordConsent {
        participant: "P1".into(),
        given,
    };
    ok(&mut g, consent(true), 86_400 * 3 + 60);
    let doc = rec(&g).expect("final");
    assert_eq!(
        doc.status,
        Status::Final {
            restitution: "3 décembre 2026".into(),
            consent: "3 décembre 2026".into(),
        }
    );
    // A withdrawal blocks the final version again; a draft can still be written.
    ok(&mut g, consent(false), 86_400 * 4);
    assert!(matches!(rec(&g), Err(SynthesisError::NoConsent(_))));
}

#[test]
fn a_slot_not_in_its_session_is_a_clear_error() {
    let set = content();
    let g = game(&set);
    let rec = [SessionRecord {
        id: SessionId(1),
        participant: "P9".into(),
        created_at_unix_ms: DAY1,
        engine: &g,
    }];
    let e = build(&rec, &set, &opts()).expect_err("not enrolled");
    assert!(matches!(e, SynthesisError::NoSession), "{e}");
    assert_eq!(e.to_string(), "the person is in none of the sessions given");
}

/// A person is one person (DESIGN principle 8): their record is the sessions the caller gives,
/// each under the slot they held there, never a join of slot labels across sessions.
#[test]
fn one_person_under_different_slots_is_read_slot_by_slot() {
    let set = content();
    let (im, g) = (immersions(&set), game(&set));
    // P1 in the immersion session, P2 in the game: the game's P1 is someone else.
    let sessions = [
        SessionRecord {
            id: SessionId(1),
            participant: "P1".into(),
            created_at_unix_ms: DAY1,
            engine: &im,
        },
        SessionRecord {
            id: SessionId(2),
            participant: "P2".into(),
            created_at_unix_ms: DAY1 + 3_600_000,
            engine: &g,
        },
    ];
    let doc = build(&sessions, &set, &opts()).expect("synthesis");
    // Without a register pseudonym: the one of their latest session.
    assert_eq!(doc.participant.pseudonym, "Pseudo P2");
    assert_eq!(doc.activities.len(), 2);
    assert_eq!(doc.appetences.len(), 1, "the immersion done as P1 counts");
    let com = doc
        .competencies
        .iter()
        .find(|c| c.label == "Sens de la communication")
        .expect("in the rubric");
    // P2 was coded once in the game; the game's P1 (five codes, a self-rating) is not theirs.
    assert_eq!(com.evidence_total, 1);
    assert_eq!(com.self_level, None);

    // The register's pseudonym wins over the sessions'; a chosen name over both.
    let mut o = opts();
    o.pseudonym = Some("Renard".into());
    let doc = build(&sessions, &set, &o).expect("synthesis");
    assert_eq!(
        (
            doc.participant.pseudonym.as_str(),
            doc.participant.shown.as_str()
        ),
        ("Renard", "Renard")
    );
    o.shown_name = Some("Awa".into());
    let doc = build(&sessions, &set, &o).expect("synthesis");
    assert_eq!(
        (
            doc.participant.pseudonym.as_str(),
            doc.participant.shown.as_str()
        ),
        ("Renard", "Awa")
    );

    // A record whose slot is not in its session is left out; the others still count.
    let sessions = [
        SessionRecord {
            id: SessionId(1),
            participant: "P1".into(),
            created_at_unix_ms: DAY1,
            engine: &im,
        },
        SessionRecord {
            id: SessionId(2),
            participant: "P9".into(),
            created_at_unix_ms: DAY1 + 3_600_000,
            engine: &g,
        },
    ];
    let doc = build(&sessions, &set, &opts()).expect("synthesis");
    assert_eq!(doc.participant.pseudonym, "Pseudo P1");
    let titles: Vec<&str> = doc.activities.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["Cariste au port"]);
}

#[test]
fn a_headset_given_a_second_immersion_keeps_the_first_run() {
    let set = content();
    let mut e = immersions(&set);
    ok(
        &mut e,
        Command::AssignImmersion {
            device: "casque".into(),
            immersion: "aide_domicile".into(),
            participant: "P2".into(),
        },
        800,
    );
    let ims: Vec<_> = set.immersions.iter().map(|d| d.value.clone()).collect();
    let runs = immersion_results(&e, &ims);
    let who: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| (r.participant.as_str(), r.immersion.as_str()))
        .collect();
    assert_eq!(who, [("P1", "cariste_port"), ("P2", "aide_domicile")]);
    assert_eq!(runs[0].appeal, Some(5));
    assert_eq!(runs[1].appeal, None);
}

#[test]
fn debrief_entries_survive_the_log() {
    let set = content();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("d.db");
    let store = Store::open(&db, "secret").expect("store");
    let mut session =
        Session::create(store, &set, "scape_attitudes", "test", DAY1).expect("session");
    let add = Command::AddParticipant {
        id: "P1".into(),
        pseudonym: "Renard".into(),
        colour: "#000000".into(),
    };
    session.submit(Input::Command(add), s(0)).expect("add");
    session
        .submit(Input::Command(Command::EndSession), s(10))
        .expect("end");
    let comment = Command::WriteComment {
        participant: "P1".into(),
        comment: "Très investi·e.".into(),
        recommendations: vec!["PMSMP en entrepôt".into()],
    };
    session
        .submit(Input::Command(comment), s(20))
        .expect("comment");
    let restitution = Command::RecordRestitution {
        participant: "P1".into(),
    };
    session
        .submit(Input::Command(restitution), s(30))
        .expect("debrief");
    let id = session.id();
    drop(session);
    let store = Store::open(&db, "secret").expect("reopen");
    let (_, engine) = replay(&store, &set, id).expect("replay");
    let d = engine.debriefs().get(&"P1".into()).expect("debrief kept");
    assert_eq!(d.comment, "Très investi·e.");
    assert_eq!(d.recommendations, ["PMSMP en entrepôt"]);
    assert_eq!(d.restitution, Some(s(30)));
    assert_eq!(d.consent, None);

    // The enrolment got its own person in the register; their synthesis reads their slot.
    let person = store.slot_persons(id).expect("slots")["P1"].clone();
    assert_eq!(
        engine.participants()[&"P1".into()].person,
        Some(PersonId(person.clone()))
    );
    let info = store.person(&person).expect("register").expect("a person");
    assert_eq!(info.pseudonym, "Renard");
    let mine = appearances(&store, &person).expect("their sessions");
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].session.id, mine[0].slot.as_str()), (id, "P1"));
    let records = [SessionRecord {
        id,
        participant: mine[0].slot.clone(),
        created_at_unix_ms: mine[0].session.created_at_unix_ms,
        engine: &engine,
    }];
    let mut o = opts();
    o.pseudonym = Some(info.pseudonym);
    let doc = build(&records, &set, &o).expect("synthesis");
    assert_eq!(doc.participant.pseudonym, "Renard");
    assert_eq!(doc.comment, "Très investi·e.");
}
