//! Sessions on the encrypted store: the log is the truth. A scripted game is logged input by
//! input; reopening replays it to the same state; a session interrupted (the director dropped)
//! and reopened ends exactly as one that ran through; a resent device event is stored once.
#![expect(
    clippy::expect_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]

use boussole_content::ContentSet;
use boussole_director::engine::{Command, DeviceEvent, Effect, Input, Millis};
use boussole_director::script::{self, Act, Script};
use boussole_director::session::Session;
use boussole_director::store::{SessionId, Store};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn content() -> ContentSet {
    let (set, problems) = ContentSet::load_dir(&repo().join("content"));
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn demo_script() -> Script {
    let text = std::fs::read_to_string(repo().join("director/scripts/demo_scape_attitudes.ron"))
        .expect("demo script");
    script::parse(&text).expect("the demo script parses")
}

fn store(path: &Path) -> Store {
    Store::open(path, "phrase de test").expect("store opens")
}

#[test]
fn a_scripted_game_is_logged_and_replays_to_the_same_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("d.db");
    let sc = demo_script();
    let mut live =
        Session::create(store(&db), &content(), &sc.scenario, &sc.label, 0).expect("session");
    let refusals = script::run(&mut live, &sc).expect("script runs");
    assert!(
        refusals.is_empty(),
        "the demo script fits its scenario: {refusals:?}"
    );
    assert_eq!(
        live.engine().ending().map(ToString::to_string).as_deref(),
        Some("fin_reussite")
    );
    // Each participant: the enrolment and the register person who takes the slot.
    let expected_records = 2 * sc.participants.len()
        + sc.participants
            .iter()
            .filter(|p| p.station.is_some())
            .count()
        + sc.steps.len();
    let id = live.id();
    assert_eq!(
        live.store().log(id).expect("log").len(),
        expected_records,
        "every input logged once"
    );
    let report = script::report_fr(live.engine());
    drop(live);
    let reopened = Session::open(store(&db), &content(), id).expect("reopen");
    assert_eq!(script::report_fr(reopened.engine()), report);
    assert_eq!(
        reopened.engine().observations(),
        Session::open(store(&db), &content(), id)
            .expect("again")
            .engine()
            .observations()
    );
    assert_eq!(
        reopened
            .store()
            .participant_name(id, "P1")
            .expect("name")
            .as_deref(),
        Some("Awa Diallo")
    );
}

#[test]
fn a_director_dropped_mid_session_resumes_to_the_same_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sc = demo_script();
    // In time order, as `script::run` plays them, so both runs see the same inputs.
    sc.steps.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    // Straight through.
    let straight_db = dir.path().join("straight.db");
    let mut straight = Session::create(store(&straight_db), &content(), &sc.scenario, &sc.label, 0)
        .expect("session");
    script::run(&mut straight, &sc).expect("runs");
    // Interrupted: the first half, the director dropped, reopened, then the second half.
    let db = dir.path().join("cut.db");
    let half = sc.steps.len() / 2;
    let first = Script {
        steps: sc.steps[..half].to_vec(),
        ..sc.clone()
    };
    let mut s1 =
        Session::create(store(&db), &content(), &sc.scenario, &sc.label, 0).expect("session");
    let id = s1.id();
    // Play the first half without closing the session.
    let mut seqs = std::collections::BTreeMap::new();
    for p in &first.participants {
        let add = Command::AddParticipant {
            id: p.id.clone(),
            pseudonym: p.pseudonym.clone(),
            colour: p.colour.clone(),
        };
        s1.submit(Input::Command(add), Millis(0)).expect("submit");
        let assign = Command::AssignStation {
            participant: p.id.clone(),
            station: p.station.clone(),
        };
        s1.submit(Input::Command(assign), Millis(0))
            .expect("submit");
    }
    let to_input = |act: &Act, seqs: &mut std::collections::BTreeMap<String, u64>| match act {
        Act::Command(c) => Input::Command(c.clone()),
        Act::Device { device, event } => {
            let n = seqs.entry(device.0.clone()).or_insert(0);
            *n += 1;
            Input::Device {
                device: device.clone(),
                seq: *n,
                event: event.clone(),
            }
        }
    };
    for step in &first.steps {
        let input = to_input(&step.act, &mut seqs);
        s1.submit(input, Millis(0).plus_secs(step.at_s))
            .expect("submit");
    }
    drop(s1);
    let mut s2 = Session::open(store(&db), &content(), id).expect("reopen");
    for step in &sc.steps[half..] {
        let input = to_input(&step.act, &mut seqs);
        s2.submit(input, Millis(0).plus_secs(step.at_s))
            .expect("submit");
    }
    assert_eq!(s2.engine().puzzles(), straight.engine().puzzles());
    assert_eq!(s2.engine().ending(), straight.engine().ending());
    assert_eq!(s2.engine().observations(), straight.engine().observations());
    assert_eq!(s2.engine().game_events(), straight.engine().game_events());
    assert_eq!(
        s2.engine().unacknowledged_cues(),
        straight.engine().unacknowledged_cues()
    );
}

/// The firings in `effects`, as `(instance, cue, start)`.
fn firings(effects: &[Effect]) -> Vec<(u64, String, Millis)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::FireCue {
                instance,
                cue,
                start_at,
                ..
            } => Some((*instance, cue.to_string(), *start_at)),
            _ => None,
        })
        .collect()
}

/// The crash loop's case (RELIABILITY.md, "Crash loop"): the director is killed after the
/// ending while a post-wait still runs, so the log ends before the firing that wait leads to.
/// Reopened, the director re-derives the wait from the log, fires the same instance at the same
/// time as one never killed, and keeps it for the screen (sent at its reconnection) until the
/// screen acknowledges it; the acknowledgement replays onto it.
#[test]
fn a_firing_due_after_a_kill_past_the_ending_is_kept_for_the_screen_after_the_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("d.db");
    let set = content();
    let screen = boussole_director::engine::DeviceId::from("ecran");
    let mut live = Session::create(store(&db), &set, "scape_attitudes", "", 0).expect("session");
    let id = live.id();
    let mut at = 0;
    let mut seq = 0;
    let mut step = |s: &mut Session, input: Input| {
        at += 1;
        let effects = s.submit(input, Millis(at)).expect("submit");
        // The screen applies every firing it gets at once.
        for (instance, ..) in firings(&effects) {
            seq += 1;
            let ack = Input::Device {
                device: screen.clone(),
                seq,
                event: DeviceEvent::CueApplied {
                    instance,
                    device_ms: 0,
                },
            };
            s.submit(ack, Millis(at)).expect("ack");
        }
    };
    step(
        &mut live,
        Input::Command(Command::RegisterDevice {
            device: screen.clone(),
            role: boussole_content::cue::DeviceRole::Screen,
            station: Some("ecran".into()),
        }),
    );
    step(&mut live, Input::Command(Command::StartGame));
    // The first cue (a memo), then every puzzle solved within milliseconds: the ending's cue
    // auto-continues to the title (a text with a 3 s post-wait), and the phases' post-waits run
    // on past the ending too.
    step(&mut live, Input::Command(Command::Go));
    let puzzles: Vec<_> = live.engine().puzzles().keys().cloned().collect();
    for puzzle in puzzles {
        step(
            &mut live,
            Input::Command(Command::ForceSolve {
                puzzle,
                reason: "test".into(),
            }),
        );
    }
    assert!(live.engine().ending().is_some(), "the game has ended");
    assert!(
        live.engine().unacknowledged_cues_for(&screen).is_empty(),
        "the screen applied every firing so far"
    );
    let waits = live.engine().waits();
    assert!(!waits.is_empty(), "a post-wait runs past the ending");
    let ended_at = live.engine().now();
    let later = Millis(ended_at.0 + 60_000);
    // What a director never killed fires once that wait ends.
    let mut uninterrupted = live.engine().clone();
    let expected = firings(&uninterrupted.advance(later));
    assert!(
        !expected.is_empty(),
        "the waits {waits:?} fire a cue for the screen after the ending"
    );

    // Killed: the log ends at the ending.
    drop(live);
    let mut restarted = Session::open(store(&db), &set, id).expect("reopen");
    assert_eq!(restarted.engine().now(), ended_at);
    assert_eq!(restarted.engine().waits(), waits, "the wait re-derived");
    assert!(
        restarted
            .engine()
            .unacknowledged_cues_for(&screen)
            .is_empty()
    );
    // The restarted director's first deadline pass.
    assert_eq!(firings(&restarted.advance(later)), expected);
    let pending: Vec<_> = firings(&restarted.engine().unacknowledged_cues_for(&screen));
    assert_eq!(pending, expected, "kept for the screen's reconnection");

    // The screen reconnects and applies them.
    for (instance, ..) in &expected {
        seq += 1;
        let ack = Input::Device {
            device: screen.clone(),
            seq,
            event: DeviceEvent::CueApplied {
                instance: *instance,
                device_ms: 0,
            },
        };
        restarted.submit(ack, later).expect("ack");
    }
    assert!(restarted.engine().unacknowledged_cues().is_empty());
    drop(restarted);
    let reopened = Session::open(store(&db), &set, id).expect("reopen again");
    assert!(
        reopened.engine().unacknowledged_cues().is_empty(),
        "the acknowledgements replay onto the firings"
    );
}

#[test]
fn a_resent_device_event_is_stored_once_and_acknowledged_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("d.db");
    let mut s = Session::create(store(&db), &content(), "exemple", "", 0).expect("session");
    let event = Input::Device {
        device: "ecran".into(),
        seq: 1,
        event: DeviceEvent::CueApplied {
            instance: 9,
            device_ms: 0,
        },
    };
    let first = s.submit(event.clone(), Millis(10)).expect("first");
    let again = s.submit(event, Millis(20)).expect("resend");
    let ack = Effect::Ack {
        device: "ecran".into(),
        seq: 1,
    };
    assert!(first.contains(&ack) && again == vec![ack]);
    assert_eq!(s.store().log(s.id()).expect("log").len(), 1);
}

#[test]
fn an_unknown_session_or_scenario_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("d.db");
    let err = Session::open(store(&db), &content(), SessionId(42))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("unknown session 42"), "{err}");
    let err = Session::create(store(&db), &content(), "pas_un_scenario", "", 0)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("pas_un_scenario"), "{err}");
}

#[test]
fn an_immersion_session_has_no_game_to_start_and_replays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("d.db");
    let set = content();
    let scenario = boussole_content::scenario::IMMERSION_SESSION;
    let mut live = Session::create(store(&db), &set, scenario, "Vidéothèque", 0).expect("session");
    let effects = live
        .submit(Input::Command(Command::StartGame), Millis(1_000))
        .expect("logged");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Refused(why) if why.contains("séance d'immersion"))),
        "{effects:?}"
    );
    assert!(!live.engine().game_started());
    let id = live.id();
    drop(live);
    let again = Session::open(store(&db), &set, id).expect("reopened");
    assert_eq!(
        again.engine().scenario().id.as_str(),
        scenario,
        "the built-in scenario is found again on replay"
    );
}
