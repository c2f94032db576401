//! The session engine with explicit times: cue timing (pre-wait, post-wait, auto-continue,
//! auto-follow), triggers, the timer and its endings, puzzles and hints, observations, and
//! replay of a log.

use boussole_content::cue::{DeviceRole, Target};
use boussole_content::grid::ObservationGrid;
use boussole_content::ids::{BehaviourId, CueId, PuzzleId, StationId};
use boussole_content::scenario::Scenario;
use boussole_content::{Answer, ContentSet};
use boussole_director::engine::{
    Command, CueWait, DeviceEvent, DeviceId, Effect, Engine, Input, Millis, ObservationAction,
    ParticipantId, PuzzleStatus, RaterId, WaitKind,
};
use std::path::PathBuf;

fn content() -> ContentSet {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../content");
    let (set, problems) = ContentSet::load_dir(&root);
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn grid(set: &ContentSet) -> ObservationGrid {
    set.grids
        .iter()
        .find(|g| g.value.id.as_str() == "grille_standard")
        .map(|g| g.value.clone())
        .unwrap_or_else(|| unreachable!("the shipped grid exists"))
}

fn example(set: &ContentSet) -> Scenario {
    set.scenarios
        .iter()
        .find(|s| s.value.id.as_str() == "exemple")
        .map(|s| s.value.clone())
        .unwrap_or_else(|| unreachable!("the shipped example exists"))
}

/// The example scenario with its cue list replaced by `cues` (RON).
fn with_cues(set: &ContentSet, cues: &str) -> Scenario {
    let mut s = example(set);
    s.cues = ron::from_str(cues).unwrap_or_else(|e| unreachable!("test cues parse: {e}"));
    s.endings.iter_mut().for_each(|e| e.cue = None);
    s
}

fn cmd(c: Command) -> Input {
    Input::Command(c)
}

fn s(secs: u64) -> Millis {
    Millis(secs * 1000)
}

fn fired(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::FireCue { cue, .. } => Some(cue.to_string()),
            _ => None,
        })
        .collect()
}

const TIMED_CUES: &str = r#"[
    (id: "a", number: "1", name: "A", kind: Text(text: (fr: "A")), targets: [Role(Screen)], pre_wait_s: 2.0, continue_mode: AutoContinue, post_wait_s: 3.0),
    (id: "b", number: "2", name: "B", kind: Wait(duration_s: 4.0), continue_mode: AutoFollow),
    (id: "c", number: "3", name: "C", kind: Sound(file: "sounds/exemple/bip_recul.wav"), targets: [Role(Screen)], continue_mode: AutoFollow),
    (id: "d", number: "4", name: "D", kind: Text(text: (fr: "D")), targets: [Role(Screen)]),
    (id: "e", number: "5", name: "E", kind: Text(text: (fr: "E")), targets: [Role(Screen)]),
]"#;

#[test]
fn pre_wait_post_wait_auto_continue_and_auto_follow() {
    let set = content();
    let mut e = Engine::new(with_cues(&set, TIMED_CUES), grid(&set));
    assert!(e.waits().is_empty());
    let out = e.handle(cmd(Command::Go), s(10));
    assert!(fired(&out).is_empty(), "pre-wait: nothing before 12 s");
    assert_eq!(e.next_deadline(), Some(s(12)));
    assert_eq!(
        e.waits(),
        [CueWait {
            cue: CueId::from("a"),
            kind: WaitKind::PreWait,
            started: s(10),
            ends: s(12),
        }],
        "the console sees a's pre-wait running"
    );
    assert!(e.cue_fired(&CueId::from("a")) && !e.cue_fired(&CueId::from("b")));
    assert_eq!(
        e.standby().map(CueId::to_string).as_deref(),
        Some("b"),
        "the playhead moves on GO"
    );
    // A at 12 s; its post-wait auto-continues to B at 15 s; B waits 4 s then follows to C at 19 s.
    let out = e.advance(s(13));
    assert_eq!(fired(&out), ["a"]);
    assert!(
        out.iter()
            .any(|x| matches!(x, Effect::FireCue { start_at, .. } if *start_at == s(12)))
    );
    assert_eq!(
        e.waits(),
        [CueWait {
            cue: CueId::from("a"),
            kind: WaitKind::PostWait,
            started: s(12),
            ends: s(15),
        }],
        "then its post-wait, before b goes on its own"
    );
    assert!(
        fired(&e.advance(s(18))).is_empty(),
        "b fires nothing to devices"
    );
    let out = e.advance(s(19));
    assert_eq!(fired(&out), ["c"]);
    // C is a sound: auto-follow waits until a device says it finished.
    assert_eq!(e.next_deadline(), None);
    let Some(Effect::FireCue { instance, .. }) =
        out.iter().find(|x| matches!(x, Effect::FireCue { .. }))
    else {
        unreachable!("c was fired")
    };
    let out = e.handle(
        Input::Device {
            device: "ecran".into(),
            seq: 1,
            event: DeviceEvent::CueFinished {
                instance: *instance,
            },
        },
        s(25),
    );
    assert_eq!(fired(&out), ["d"]);
    assert_eq!(
        e.standby().map(CueId::to_string).as_deref(),
        Some("e"),
        "d does not continue"
    );
}

#[test]
fn stop_all_cancels_every_pending_wait() {
    let set = content();
    let mut e = Engine::new(with_cues(&set, TIMED_CUES), grid(&set));
    e.handle(cmd(Command::Go), s(0));
    let out = e.handle(cmd(Command::StopAll), s(1));
    assert!(out.contains(&Effect::StopAll));
    assert_eq!(e.next_deadline(), None);
    assert!(fired(&e.advance(s(60))).is_empty());
}

#[test]
fn go_with_nothing_in_standby_is_refused() {
    let set = content();
    let mut e = Engine::new(with_cues(&set, "[]"), grid(&set));
    let out = e.handle(cmd(Command::Go), s(0));
    assert!(matches!(out.as_slice(), [Effect::Refused(_)]));
}

fn answer(
    e: &mut Engine,
    seq: u64,
    puzzle: &str,
    station: &str,
    a: Answer,
    at: Millis,
) -> Vec<Effect> {
    e.handle(
        Input::Device {
            device: DeviceId(format!("tablette_{station}")),
            seq,
            event: DeviceEvent::Answer {
                puzzle: puzzle.into(),
                station: station.into(),
                participant: None,
                answer: a,
            },
        },
        at,
    )
}

fn text(t: &str) -> Answer {
    Answer::Text(t.into())
}

fn items(v: &[&str]) -> Answer {
    Answer::Items(v.iter().map(|s| (*s).to_owned()).collect())
}

/// Plays the example to its success ending, logging every input with its time.
fn play_example(e: &mut Engine, log: &mut Vec<(Millis, Input)>) {
    let mut send = |e: &mut Engine, input: Input, at: Millis| {
        log.push((at, input.clone()));
        e.handle(input, at)
    };
    send(
        e,
        cmd(Command::AddParticipant {
            id: "P1".into(),
            pseudonym: "Renard".into(),
            colour: "#e07000".into(),
        }),
        s(0),
    );
    send(
        e,
        cmd(Command::AddParticipant {
            id: "P2".into(),
            pseudonym: "Mouette".into(),
            colour: "#0070e0".into(),
        }),
        s(0),
    );
    send(
        e,
        cmd(Command::AssignStation {
            participant: "P1".into(),
            station: Some("poste_a".into()),
        }),
        s(0),
    );
    send(e, cmd(Command::StartGame), s(1));
    send(e, cmd(Command::Go), s(2)); // memo
    send(e, cmd(Command::Go), s(3)); // intro text: auto-continues to the ambience at 8 s
    send(e, cmd(Command::Go), s(10)); // the timer starts
    let mut seq = 0;
    let mut ans = |e: &mut Engine, puzzle: &str, station: &str, a: Answer, at: Millis| {
        seq += 1;
        let input = Input::Device {
            device: DeviceId(format!("tablette_{station}")),
            seq,
            event: DeviceEvent::Answer {
                puzzle: puzzle.into(),
                station: station.into(),
                participant: None,
                answer: a,
            },
        };
        log.push((at, input.clone()));
        e.handle(input, at)
    };
    ans(e, "p_cadenas", "poste_a", text("1234"), s(100));
    ans(e, "p_cadenas", "poste_a", text("0471"), s(200));
    ans(
        e,
        "p_documents",
        "poste_b",
        items(&["bl_dest", "bl_qte"]),
        s(500),
    );
    ans(
        e,
        "p_association",
        "poste_a",
        items(&["cariste=range", "preparateur=prepare"]),
        s(600),
    );
    ans(e, "p_cooperation", "poste_b", Answer::Number(8.0), s(900));
    ans(e, "p_casque", "poste_a", text("  Rack BLEU !"), s(1100));
    ans(
        e,
        "p_ordre",
        "poste_b",
        items(&["controler", "etiqueter", "charger"]),
        s(1300),
    );
}

#[test]
fn the_example_plays_to_its_success_ending() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    let mut log = Vec::new();
    play_example(&mut e, &mut log);
    assert_eq!(
        e.ending().map(ToString::to_string).as_deref(),
        Some("fin_reussite"),
        "{:?}",
        e.puzzles()
    );
    assert!(
        e.puzzles()
            .values()
            .all(|p| matches!(p, PuzzleStatus::Solved { .. }))
    );
    match e.puzzles().get(&PuzzleId::from("p_cadenas")) {
        Some(PuzzleStatus::Solved { by, at, .. }) => {
            assert_eq!(
                by.as_ref().map(ToString::to_string).as_deref(),
                Some("P1"),
                "answers at poste_a are P1's"
            );
            assert_eq!(*at, s(200));
        }
        other => unreachable!("p_cadenas solved, got {other:?}"),
    }
    assert!(!e.timer_running(), "the timer stops at the ending");
    // 30 min game, timer started at 10 s, ended at 1300 s.
    assert_eq!(e.remaining_ms(s(5000)), 30 * 60_000 - 1_290_000);
    let wrong = e
        .game_events()
        .iter()
        .filter(|g| {
            matches!(
                g.kind,
                boussole_director::engine::GameEventKind::WrongAnswer(_)
            )
        })
        .count();
    assert_eq!(wrong, 1);
}

#[test]
fn puzzles_open_with_their_phase_and_requirements() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    let out = answer(&mut e, 1, "p_cadenas", "poste_a", text("0471"), s(1));
    assert!(
        out.iter().any(|x| matches!(x, Effect::Refused(_))),
        "nothing is open before the game starts"
    );
    let out = e.handle(cmd(Command::StartGame), s(2));
    assert!(out.contains(&Effect::PuzzleOpened("p_cadenas".into())));
    assert!(
        !out.contains(&Effect::PuzzleOpened("p_documents".into())),
        "phase 2 has not started"
    );
    let out = answer(&mut e, 2, "p_cadenas", "poste_a", text("0471"), s(3));
    // Solving p_cadenas fires the phase-change cue c_enquete (trigger PuzzleSolved), which opens phase 2.
    assert!(
        out.contains(&Effect::PhaseStarted("ph_enquete".into())),
        "{out:?}"
    );
    assert!(out.contains(&Effect::PuzzleOpened("p_documents".into())));
    assert!(out.contains(&Effect::PuzzleOpened("p_association".into())));
    assert!(
        !out.contains(&Effect::PuzzleOpened("p_cooperation".into())),
        "requires p_documents"
    );
}

#[test]
fn the_timer_runs_out_into_the_time_out_ending_with_countdown_cues_on_time() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    e.handle(cmd(Command::StartGame), s(0));
    e.handle(cmd(Command::Standby("c_top_depart".into())), s(0));
    e.handle(cmd(Command::Go), s(10)); // timer starts: 30 min
    // c_alarme fires with 10 minutes left: at 10 s + 20 min.
    let out = e.advance(s(10 + 20 * 60 - 1));
    assert!(fired(&out).is_empty());
    let out = e.advance(s(10 + 20 * 60));
    assert_eq!(fired(&out), ["c_alarme"]);
    e.handle(cmd(Command::PauseTimer), s(1300));
    assert_eq!(
        e.advance(s(9999))
            .iter()
            .filter(|x| matches!(x, Effect::Ended(_)))
            .count(),
        0,
        "paused: no time-out"
    );
    e.handle(cmd(Command::ResumeTimer), s(10_000));
    let left = e.remaining_ms(s(10_000));
    assert_eq!(left, 30 * 60_000 - 1_290_000);
    let out = e.advance(Millis(10_000_000 + u64::try_from(left).unwrap_or(0)));
    assert!(out.contains(&Effect::Ended("fin_temps".into())), "{out:?}");
}

#[test]
fn hints_climb_the_ladder_cost_time_and_are_attributed() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    e.handle(
        cmd(Command::AddParticipant {
            id: "P1".into(),
            pseudonym: "Renard".into(),
            colour: "#e07000".into(),
        }),
        s(0),
    );
    e.handle(cmd(Command::StartGame), s(0));
    answer(&mut e, 1, "p_cadenas", "poste_a", text("0471"), s(5));
    e.handle(cmd(Command::Standby("c_top_depart".into())), s(5));
    e.handle(cmd(Command::Go), s(5));
    let hint = |p: Option<&str>| Command::SendHint {
        puzzle: "p_documents".into(),
        level: None,
        station: None,
        participant: p.map(ParticipantId::from),
    };
    let out = e.handle(cmd(hint(Some("P1"))), s(60));
    assert!(out.iter().any(|x| matches!(x, Effect::ShowHint { level: 1, targets, .. } if targets.contains(&Target::Role(DeviceRole::Screen)) && targets.contains(&Target::Station(StationId::from("poste_b"))))));
    e.handle(cmd(hint(None)), s(61));
    let before = e.remaining_ms(s(62));
    let out = e.handle(cmd(hint(None)), s(62));
    assert!(
        out.iter()
            .any(|x| matches!(x, Effect::ShowHint { level: 3, .. }))
    );
    assert_eq!(
        e.remaining_ms(s(62)),
        before - 60_000,
        "the third rung costs 60 s"
    );
    let out = e.handle(cmd(hint(None)), s(63));
    assert!(
        matches!(out.as_slice(), [Effect::Refused(_)]),
        "there is no fourth rung"
    );
    let received: Vec<_> = e
        .game_events()
        .iter()
        .filter(|g| {
            matches!(
                g.kind,
                boussole_director::engine::GameEventKind::HintReceived(..)
            )
        })
        .collect();
    assert_eq!(received.len(), 3);
    assert_eq!(
        received[0]
            .participant
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("P1")
    );
}

#[test]
fn a_resent_device_event_is_acknowledged_but_handled_once() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    e.handle(cmd(Command::StartGame), s(0));
    for at in [s(1), s(2)] {
        let out = answer(&mut e, 7, "p_cadenas", "poste_a", text("9999"), at);
        assert!(out.contains(&Effect::Ack {
            device: "tablette_poste_a".into(),
            seq: 7
        }));
    }
    assert_eq!(e.game_events().len(), 1);
}

#[test]
fn observations_follow_boris_point_and_state_rules() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    for p in ["P1", "P2"] {
        e.handle(
            cmd(Command::AddParticipant {
                id: p.into(),
                pseudonym: p.into(),
                colour: format!("#0000{:0>2}", &p[1..]),
            }),
            s(0),
        );
    }
    e.handle(cmd(Command::StartGame), s(0));
    let observe = |p: &str, b: &str, action, modifier: Option<&str>| Command::Observe {
        rater: RaterId::from("console"),
        participant: p.into(),
        behaviour: BehaviourId::from(b),
        action,
        modifier: modifier.map(Into::into),
    };
    // Two participants hold the same state at once.
    assert!(
        e.handle(
            cmd(observe("P1", "explore", ObservationAction::Start, None)),
            s(10)
        )
        .is_empty()
    );
    assert!(
        e.handle(
            cmd(observe("P2", "explore", ObservationAction::Start, None)),
            s(11)
        )
        .is_empty()
    );
    assert!(
        e.handle(
            cmd(observe("P1", "explore", ObservationAction::Stop, None)),
            s(40)
        )
        .is_empty()
    );
    assert!(
        e.handle(
            cmd(observe(
                "P1",
                "com_partage",
                ObservationAction::Point,
                Some("groupe")
            )),
            s(41)
        )
        .is_empty()
    );
    // Refusals: a modifier outside the behaviour's set, a point on a state, a stop of nothing.
    for bad in [
        observe("P1", "com_coupe", ObservationAction::Point, Some("groupe")),
        observe("P1", "explore", ObservationAction::Point, None),
        observe("P1", "equipe_isole", ObservationAction::Stop, None),
        observe("P9", "com_partage", ObservationAction::Point, None),
    ] {
        assert!(matches!(
            e.handle(cmd(bad), s(42)).as_slice(),
            [Effect::Refused(_)]
        ));
    }
    e.handle(
        cmd(Command::Note {
            rater: "console".into(),
            participant: None,
            text: "Pause café".into(),
        }),
        s(42),
    );
    let out = e.handle(
        cmd(Command::Retract {
            rater: "console".into(),
            id: boussole_director::engine::ObservationId(4),
        }),
        s(43),
    );
    assert!(out.is_empty(), "{out:?}");
    e.handle(cmd(Command::EndSession), s(100));
    let obs = e.observations();
    assert_eq!(obs.len(), 4);
    assert_eq!(
        (obs[0].at, obs[0].until, obs[0].closed_at_end),
        (s(10), Some(s(40)), false)
    );
    assert_eq!(
        (obs[1].until, obs[1].closed_at_end),
        (Some(s(100)), true),
        "open at the end: closed and flagged"
    );
    assert_eq!(
        obs[2].phase.as_ref().map(ToString::to_string).as_deref(),
        Some("ph_accueil")
    );
    assert_eq!(obs[2].puzzles, [PuzzleId::from("p_cadenas")]);
    assert!(obs[3].retracted.is_some() && obs[2].retracted.is_none());
}

#[test]
fn replaying_the_log_rebuilds_the_same_state_and_never_resends_an_acknowledged_cue() {
    let set = content();
    let mut live = Engine::new(example(&set), grid(&set));
    let mut log = Vec::new();
    play_example(&mut live, &mut log);
    // Ack the intro text cue (instance 1) from the screen.
    let ack = Input::Device {
        device: "ecran".into(),
        seq: 1,
        event: DeviceEvent::CueApplied {
            instance: 1,
            device_ms: 0,
        },
    };
    live.handle(ack.clone(), s(1400));
    log.push((s(1400), ack));
    let replayed = Engine::replay(example(&set), grid(&set), log.iter().cloned());
    assert_eq!(replayed.puzzles(), live.puzzles());
    assert_eq!(replayed.ending(), live.ending());
    assert_eq!(replayed.standby(), live.standby());
    assert_eq!(replayed.game_events(), live.game_events());
    assert_eq!(replayed.remaining_ms(s(9999)), live.remaining_ms(s(9999)));
    let resend = replayed.unacknowledged_cues();
    assert_eq!(resend, live.unacknowledged_cues());
    assert!(
        !resend
            .iter()
            .any(|x| matches!(x, Effect::FireCue { instance: 1, .. })),
        "acknowledged: never resent"
    );
    assert!(!resend.is_empty(), "the ambience was never acknowledged");
}

#[test]
fn replay_rederives_deadlines_from_logged_times() {
    let set = content();
    let log = vec![(s(0), cmd(Command::Go)), (s(1), cmd(Command::Go))];
    let mut e = Engine::replay(with_cues(&set, TIMED_CUES), grid(&set), log);
    // Cue a was GOne at 0 s with a 2 s pre-wait; at 1 s the second GO fired b (a Wait).
    assert_eq!(e.next_deadline(), Some(s(2)));
    assert_eq!(fired(&e.advance(s(2))), ["a"]);
}

#[test]
fn undo_withdraws_the_raters_last_code_only() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    e.handle(
        cmd(Command::AddParticipant {
            id: "P1".into(),
            pseudonym: "P1".into(),
            colour: "#000000".into(),
        }),
        s(0),
    );
    for (rater, b) in [
        ("console", "com_partage"),
        ("observateur", "com_coupe"),
        ("console", "propose"),
    ] {
        e.handle(
            cmd(Command::Observe {
                rater: rater.into(),
                participant: "P1".into(),
                behaviour: b.into(),
                action: ObservationAction::Point,
                modifier: None,
            }),
            s(1),
        );
    }
    assert!(
        e.handle(
            cmd(Command::Undo {
                rater: "console".into()
            }),
            s(2)
        )
        .is_empty()
    );
    assert!(
        e.handle(
            cmd(Command::Undo {
                rater: "console".into()
            }),
            s(3)
        )
        .is_empty()
    );
    let out = e.handle(
        cmd(Command::Undo {
            rater: "console".into(),
        }),
        s(4),
    );
    assert!(
        matches!(out.as_slice(), [Effect::Refused(_)]),
        "nothing left to undo for this rater"
    );
    let standing: Vec<_> = e
        .observations()
        .iter()
        .filter(|o| o.retracted.is_none())
        .map(|o| o.rater.to_string())
        .collect();
    assert_eq!(standing, ["observateur"], "the other rater's code stays");
}

#[test]
fn immersion_runs_start_stop_and_collect_events_and_links_track_devices() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    e.handle(
        cmd(Command::AddParticipant {
            id: "P1".into(),
            pseudonym: "P1".into(),
            colour: "#000000".into(),
        }),
        s(0),
    );
    e.handle(
        cmd(Command::RegisterDevice {
            device: "casque_1".into(),
            role: DeviceRole::Headset,
            station: None,
        }),
        s(0),
    );
    e.handle(
        cmd(Command::RegisterDevice {
            device: "ecran".into(),
            role: DeviceRole::Screen,
            station: None,
        }),
        s(0),
    );
    let refused = e.handle(
        cmd(Command::AssignImmersion {
            device: "ecran".into(),
            immersion: "cariste_port".into(),
            participant: "P1".into(),
        }),
        s(1),
    );
    assert!(
        matches!(refused.as_slice(), [Effect::Refused(_)]),
        "a screen cannot run an immersion"
    );
    e.handle(
        cmd(Command::AssignImmersion {
            device: "casque_1".into(),
            immersion: "cariste_port".into(),
            participant: "P1".into(),
        }),
        s(1),
    );
    let out = e.handle(
        cmd(Command::StartImmersion {
            device: "casque_1".into(),
        }),
        s(2),
    );
    assert_eq!(
        out,
        [Effect::StartImmersion {
            device: "casque_1".into(),
            immersion: "cariste_port".into()
        }]
    );
    let seen = Input::Device {
        device: "casque_1".into(),
        seq: 1,
        event: DeviceEvent::HotspotSeen {
            immersion: "cariste_port".into(),
            hotspot: "h_chariot".into(),
        },
    };
    e.handle(seen, s(30));
    assert_eq!(
        e.handle(
            cmd(Command::StopImmersion {
                device: "casque_1".into()
            }),
            s(300)
        ),
        [Effect::StopImmersion {
            device: "casque_1".into()
        }]
    );
    assert!(matches!(
        e.handle(
            cmd(Command::StopImmersion {
                device: "casque_1".into()
            }),
            s(301)
        )
        .as_slice(),
        [Effect::Refused(_)]
    ));
    let ev = &e.game_events()[0];
    assert_eq!(
        ev.participant.as_ref().map(ToString::to_string).as_deref(),
        Some("P1"),
        "attributed to the wearer"
    );
    let run = &e.immersions()[&DeviceId::from("casque_1")];
    assert_eq!((run.started, run.stopped), (Some(s(2)), Some(s(300))));
    e.handle(
        Input::Link {
            device: "ecran".into(),
            online: true,
        },
        s(5),
    );
    assert!(e.devices()[&DeviceId::from("ecran")].online);
    e.handle(
        Input::Link {
            device: "ecran".into(),
            online: false,
        },
        s(6),
    );
    assert!(!e.devices()[&DeviceId::from("ecran")].online);
}

#[test]
fn each_targeted_device_acknowledges_for_itself_and_gets_what_it_missed() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    for d in ["ecran_1", "ecran_2"] {
        e.handle(
            cmd(Command::RegisterDevice {
                device: d.into(),
                role: DeviceRole::Screen,
                station: None,
            }),
            s(0),
        );
    }
    e.handle(
        cmd(Command::RegisterDevice {
            device: "tablette".into(),
            role: DeviceRole::Terminal,
            station: None,
        }),
        s(0),
    );
    e.handle(cmd(Command::Standby("c_ambiance".into())), s(1));
    let out = e.handle(cmd(Command::Go), s(1)); // a sound on every screen
    let Some(Effect::FireCue { instance, .. }) =
        out.iter().find(|x| matches!(x, Effect::FireCue { .. }))
    else {
        unreachable!("c_ambiance fired: {out:?}")
    };
    let ack = |d: &str, seq| Input::Device {
        device: d.into(),
        seq,
        event: DeviceEvent::CueApplied {
            instance: *instance,
            device_ms: 0,
        },
    };
    e.handle(ack("ecran_1", 1), s(2));
    assert!(
        e.unacknowledged_cues_for(&"ecran_1".into()).is_empty(),
        "applied: never sent again"
    );
    assert_eq!(
        e.unacknowledged_cues_for(&"ecran_2".into()).len(),
        1,
        "the screen that was away gets it"
    );
    assert!(
        e.unacknowledged_cues_for(&"tablette".into()).is_empty(),
        "not targeted"
    );
    assert!(
        e.unacknowledged_cues().is_empty(),
        "acknowledged by a device"
    );
    e.handle(ack("ecran_2", 1), s(3));
    assert!(e.unacknowledged_cues_for(&"ecran_2".into()).is_empty());
}

#[test]
fn headsets_started_together_share_one_start_time_and_a_bad_group_starts_none() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    for p in ["P1", "P2", "P3"] {
        e.handle(
            cmd(Command::AddParticipant {
                id: p.into(),
                pseudonym: p.into(),
                colour: format!("#0000{:0>2}", &p[1..]),
            }),
            s(0),
        );
    }
    for (device, participant) in [("casque_1", "P1"), ("casque_2", "P2"), ("casque_3", "P3")] {
        e.handle(
            cmd(Command::RegisterDevice {
                device: device.into(),
                role: DeviceRole::Headset,
                station: None,
            }),
            s(0),
        );
        if device != "casque_3" {
            e.handle(
                cmd(Command::AssignImmersion {
                    device: device.into(),
                    immersion: "cariste_port".into(),
                    participant: participant.into(),
                }),
                s(1),
            );
        }
    }
    let together = |devices: &[&str]| {
        cmd(Command::StartImmersions {
            devices: devices.iter().map(|d| DeviceId::from(*d)).collect(),
        })
    };
    // casque_3 has no immersion: nobody starts, and the reason names it.
    let out = e.handle(together(&["casque_1", "casque_2", "casque_3"]), s(5));
    assert!(
        matches!(out.as_slice(), [Effect::Refused(why)] if why.contains("casque_3")),
        "{out:?}"
    );
    assert!(e.immersions().values().all(|r| r.started.is_none()));
    let out = e.handle(together(&["casque_1", "casque_1"]), s(6));
    assert!(
        matches!(out.as_slice(), [Effect::Refused(why)] if why.contains("deux fois")),
        "{out:?}"
    );
    assert!(matches!(
        e.handle(together(&[]), s(6)).as_slice(),
        [Effect::Refused(_)]
    ));
    let out = e.handle(together(&["casque_1", "casque_2"]), s(7));
    assert_eq!(
        out,
        [
            Effect::StartImmersion {
                device: "casque_1".into(),
                immersion: "cariste_port".into()
            },
            Effect::StartImmersion {
                device: "casque_2".into(),
                immersion: "cariste_port".into()
            }
        ]
    );
    let starts: Vec<_> = e.immersions().values().map(|r| r.started).collect();
    assert_eq!(starts, [Some(s(7)), Some(s(7))], "one start time for both");
    // Started already: a second group start is refused and changes nothing.
    assert!(matches!(
        e.handle(together(&["casque_2"]), s(9)).as_slice(),
        [Effect::Refused(why)] if why.contains("déjà commencé")
    ));
    assert_eq!(
        e.immersions()[&DeviceId::from("casque_2")].started,
        Some(s(7))
    );
}

#[test]
fn headsets_paused_apart_and_resumed_together_show_the_same_frame_again() {
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    for p in ["P1", "P2"] {
        e.handle(
            cmd(Command::AddParticipant {
                id: p.into(),
                pseudonym: p.into(),
                colour: format!("#0000{:0>2}", &p[1..]),
            }),
            s(0),
        );
    }
    for (device, participant) in [("casque_1", "P1"), ("casque_2", "P2")] {
        e.handle(
            cmd(Command::RegisterDevice {
                device: device.into(),
                role: DeviceRole::Headset,
                station: None,
            }),
            s(0),
        );
        e.handle(
            cmd(Command::AssignImmersion {
                device: device.into(),
                immersion: "cariste_port".into(),
                participant: participant.into(),
            }),
            s(1),
        );
    }
    let ids = |devices: &[&str]| devices.iter().map(|d| DeviceId::from(*d)).collect();
    e.handle(
        cmd(Command::StartImmersions {
            devices: ids(&["casque_1", "casque_2"]),
        }),
        s(10),
    );
    let pause = |devices: &[&str], paused| {
        cmd(Command::PauseHeadsets {
            devices: ids(devices),
            paused,
        })
    };
    // Not a headset: refused, named, nothing paused.
    let out = e.handle(pause(&["ecran_1", "casque_1"], true), s(15));
    assert!(
        matches!(out.as_slice(), [Effect::Refused(why)] if why.contains("ecran_1")),
        "{out:?}"
    );
    assert!(e.paused_headsets().is_empty());
    // casque_1 paused at 20 s, casque_2 at 30 s (its film 10 s further on).
    assert_eq!(
        e.handle(pause(&["casque_1"], true), s(20)),
        [Effect::Pause {
            device: "casque_1".into(),
            paused: true
        }]
    );
    e.handle(pause(&["casque_1", "casque_2"], true), s(30));
    assert_eq!(e.paused_headsets().len(), 2);
    // Paused again: nothing more happens.
    assert!(e.handle(pause(&["casque_2"], true), s(31)).is_empty());
    // « Tout reprendre » at 50 s: each gets its film's new start, then the resume; both films
    // start 30 s later than they did (casque_1's pause, the longest), so both stand at 10 s of
    // film, where casque_1 stopped: nobody misses any of it.
    let out = e.handle(pause(&["casque_1", "casque_2"], false), s(50));
    assert_eq!(
        out,
        [
            Effect::StartImmersion {
                device: "casque_1".into(),
                immersion: "cariste_port".into()
            },
            Effect::Pause {
                device: "casque_1".into(),
                paused: false
            },
            Effect::StartImmersion {
                device: "casque_2".into(),
                immersion: "cariste_port".into()
            },
            Effect::Pause {
                device: "casque_2".into(),
                paused: false
            },
        ]
    );
    let film_starts: Vec<_> = e.immersions().values().map(|r| r.film_start_ms()).collect();
    assert_eq!(film_starts, [Some(40_000), Some(40_000)]);
    assert!(e.paused_headsets().is_empty());
    // One alone paused 5 s and resumed: only its own film moves on, by its own pause.
    e.handle(pause(&["casque_2"], true), s(60));
    e.handle(pause(&["casque_2"], false), s(65));
    assert_eq!(
        e.immersions()[&DeviceId::from("casque_2")].film_start_ms(),
        Some(45_000)
    );
    assert_eq!(
        e.immersions()[&DeviceId::from("casque_1")].film_start_ms(),
        Some(40_000)
    );
    // The start itself is what the session's figures keep.
    assert_eq!(
        e.immersions()[&DeviceId::from("casque_2")].started,
        Some(s(10))
    );
}

#[test]
fn a_headset_rating_is_about_the_immersion_it_names_not_the_one_assigned() {
    use boussole_director::engine::GameEventKind;
    let set = content();
    let mut e = Engine::new(example(&set), grid(&set));
    for c in [
        Command::AddParticipant {
            id: "P1".into(),
            pseudonym: "P1".into(),
            colour: "#000000".into(),
        },
        Command::RegisterDevice {
            device: "casque_1".into(),
            role: DeviceRole::Headset,
            station: None,
        },
        Command::AssignImmersion {
            device: "casque_1".into(),
            immersion: "cariste_port".into(),
            participant: "P1".into(),
        },
        Command::StartImmersion {
            device: "casque_1".into(),
        },
    ] {
        e.handle(cmd(c), s(1));
    }
    // The tutorial runs first on the headset: its appeal answer names the tutorial.
    for (seq, immersion, value) in [(1, "tutoriel", 5), (2, "cariste_port", 2)] {
        e.handle(
            Input::Device {
                device: "casque_1".into(),
                seq,
                event: DeviceEvent::ImmersionRating {
                    immersion: immersion.into(),
                    question: "appeal".into(),
                    participant: "P1".into(),
                    value,
                },
            },
            s(10 + seq),
        );
    }
    let ratings: Vec<(Option<String>, u8)> = e
        .game_events()
        .iter()
        .filter_map(|g| match &g.kind {
            GameEventKind::Rating {
                immersion, value, ..
            } => Some((immersion.as_ref().map(ToString::to_string), *value)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ratings,
        [
            (Some("tutoriel".to_owned()), 5),
            (Some("cariste_port".to_owned()), 2)
        ]
    );
}

#[test]
fn a_cue_is_scheduled_ahead_by_the_lead_and_the_delivery_says_who_started_it() {
    let set = content();
    let mut e = Engine::new(with_cues(&set, TIMED_CUES), grid(&set));
    for d in ["ecran_1", "ecran_2", "ecran_3"] {
        e.handle(
            cmd(Command::RegisterDevice {
                device: d.into(),
                role: DeviceRole::Screen,
                station: None,
            }),
            s(0),
        );
    }
    assert_eq!(
        e.cue_lead_ms(),
        0,
        "no lead before the server measures the links"
    );
    e.handle(cmd(Command::SetCueLead { ms: 9_999 }), s(0));
    assert_eq!(
        e.cue_lead_ms(),
        boussole_director::engine::MAX_CUE_LEAD_MS,
        "capped"
    );
    e.handle(cmd(Command::SetCueLead { ms: 150 }), s(0));
    e.handle(cmd(Command::Standby(CueId::from("d"))), s(1));
    let out = e.handle(cmd(Command::Go), s(10));
    let Some(Effect::FireCue {
        instance, start_at, ..
    }) = out.iter().find(|x| matches!(x, Effect::FireCue { .. }))
    else {
        unreachable!("d fired: {out:?}")
    };
    assert_eq!(
        *start_at,
        Millis(10_150),
        "fired at 10 s, starts 150 ms later"
    );
    let instance = *instance;
    let event = |d: &str, seq, event| Input::Device {
        device: d.into(),
        seq,
        event,
    };
    for d in ["ecran_1", "ecran_2"] {
        e.handle(
            event(
                d,
                1,
                DeviceEvent::CueApplied {
                    instance,
                    device_ms: 0,
                },
            ),
            s(10),
        );
    }
    e.handle(
        event(
            "ecran_1",
            2,
            DeviceEvent::CueStarted {
                instance,
                late_ms: 0,
            },
        ),
        s(10),
    );
    // A resend of the same event (same seq) changes nothing; a second start is ignored.
    e.handle(
        event(
            "ecran_1",
            2,
            DeviceEvent::CueStarted {
                instance,
                late_ms: 0,
            },
        ),
        s(11),
    );
    e.handle(
        event(
            "ecran_1",
            3,
            DeviceEvent::CueStarted {
                instance,
                late_ms: 80,
            },
        ),
        s(11),
    );
    let deliveries = e.deliveries();
    let [d] = deliveries.as_slice() else {
        unreachable!("one firing: {deliveries:?}")
    };
    assert_eq!(d.cue, CueId::from("d"));
    assert_eq!((d.fired_at, d.start_at), (s(10), Millis(10_150)));
    assert_eq!(
        d.targets,
        vec![
            DeviceId::from("ecran_1"),
            DeviceId::from("ecran_2"),
            DeviceId::from("ecran_3")
        ]
    );
    assert_eq!(
        d.started
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        vec![("ecran_1", 0)],
        "the first start counts"
    );
    assert!(d.received.contains(&DeviceId::from("ecran_2")));
    assert!(!d.received.contains(&DeviceId::from("ecran_3")));

    // A text cue with a duration ends its duration after its scheduled start, not its GO.
    let mut e = Engine::new(
        with_cues(
            &set,
            r#"[
    (id: "t", number: "1", name: "T", kind: Text(text: (fr: "T"), duration_s: Some(2.0)), targets: [Role(Screen)], continue_mode: AutoFollow),
    (id: "u", number: "2", name: "U", kind: Text(text: (fr: "U")), targets: [Role(Screen)]),
]"#,
        ),
        grid(&set),
    );
    e.handle(cmd(Command::SetCueLead { ms: 200 }), s(0));
    e.handle(cmd(Command::Go), s(1));
    assert_eq!(e.next_deadline(), Some(Millis(3_200)));
}

#[test]
fn the_lead_follows_the_slowest_link_within_its_bounds() {
    use boussole_director::engine::{MAX_CUE_LEAD_MS, MIN_CUE_LEAD_MS, cue_lead_ms};
    assert_eq!(cue_lead_ms([]), MIN_CUE_LEAD_MS, "no device: the minimum");
    assert_eq!(cue_lead_ms([0]), MIN_CUE_LEAD_MS, "loopback: the minimum");
    assert_eq!(cue_lead_ms([0, 1, 2]), 70, "3 × 2 + 60, rounded up to 10");
    // Wi-Fi-like: 40 ms round trips, one at 71 ms: 3 × 71 + 60 = 273, rounded up to 280.
    assert_eq!(cue_lead_ms([40, 71, 38]), 280);
    assert_eq!(
        cue_lead_ms([3_000]),
        MAX_CUE_LEAD_MS,
        "a lost link does not stall GO"
    );
    assert_eq!(cue_lead_ms([u32::MAX]), MAX_CUE_LEAD_MS, "no overflow");
}
