//! Every shipped escape game, played by the engine: right answers in play order reach the
//! success ending within the duration; a team that never finishes reaches the time-out ending.

use boussole_content::ContentSet;
use boussole_content::cue::{CueKind, TimerAction};
use boussole_content::scenario::{EndingKind, Scenario};
use boussole_director::engine::{
    Command, DeviceEvent, Effect, Engine, Input, Millis, PuzzleStatus,
};
use std::path::PathBuf;

fn content() -> ContentSet {
    let (set, problems) =
        ContentSet::load_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../content"));
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn engine_for(set: &ContentSet, s: &Scenario) -> Engine {
    let grid = set
        .grids
        .iter()
        .map(|g| g.value.clone())
        .find(|g| g.id == s.observation_grid);
    Engine::new(
        s.clone(),
        grid.unwrap_or_else(|| unreachable!("validated content has its grid")),
    )
}

/// Starts the game and the timer (the cue list's timer-start cue, fired with GO).
fn start(e: &mut Engine, s: &Scenario) {
    e.handle(Input::Command(Command::StartGame), Millis(1000));
    let timer = s.cues.iter().find(|c| {
        matches!(
            c.kind,
            CueKind::Timer {
                action: TimerAction::Start
            }
        )
    });
    let timer = timer.unwrap_or_else(|| unreachable!("{} has a timer-start cue", s.id));
    e.handle(
        Input::Command(Command::Standby(timer.id.clone())),
        Millis(2000),
    );
    let out = e.handle(Input::Command(Command::Go), Millis(2000));
    assert!(
        e.timer_running(),
        "{}: the timer runs after its cue: {out:?}",
        s.id
    );
}

#[test]
fn every_game_played_right_reaches_its_success_ending_in_time() {
    let set = content();
    for doc in &set.scenarios {
        let s = &doc.value;
        let mut e = engine_for(&set, s);
        start(&mut e, s);
        let mut at = Millis(2000);
        let mut seq = 0;
        while e.ending().is_none() {
            let open: Vec<_> = e
                .puzzles()
                .iter()
                .filter(|(_, st)| matches!(st, PuzzleStatus::Open(_)))
                .map(|(id, _)| id.clone())
                .collect();
            assert!(
                !open.is_empty(),
                "{}: stuck with no open puzzle: {:?}",
                s.id,
                e.puzzles()
            );
            // The team works on every open puzzle at once; the round lasts as long as the longest.
            let round = open
                .iter()
                .filter_map(|id| s.puzzles.iter().find(|p| p.id == *id))
                .map(|p| p.expected_minutes)
                .fold(0.0_f32, f32::max);
            at = at.plus_secs(round * 60.0);
            for id in open {
                let p = s
                    .puzzles
                    .iter()
                    .find(|p| p.id == id)
                    .unwrap_or_else(|| unreachable!("known puzzle"));
                seq += 1;
                let event = DeviceEvent::Answer {
                    puzzle: id.clone(),
                    station: p.stations[0].clone(),
                    participant: None,
                    answer: p.solution.right_answer(),
                };
                let out = e.handle(
                    Input::Device {
                        device: "terminal".into(),
                        seq,
                        event,
                    },
                    at,
                );
                assert!(
                    out.iter()
                        .any(|x| matches!(x, Effect::PuzzleSolved { puzzle, .. } if *puzzle == id)),
                    "{}: {id} not solved: {out:?}",
                    s.id
                );
            }
        }
        let success = s
            .endings
            .iter()
            .find(|x| x.kind == EndingKind::Success)
            .map(|x| &x.id);
        assert_eq!(e.ending(), success, "{}", s.id);
        assert!(
            e.remaining_ms(at) > 0,
            "{}: solved one after another, the puzzles still fit the duration",
            s.id
        );
    }
}

#[test]
fn every_game_left_unsolved_reaches_its_time_out_ending() {
    let set = content();
    for doc in &set.scenarios {
        let s = &doc.value;
        let mut e = engine_for(&set, s);
        start(&mut e, s);
        let out = e.advance(Millis(2000 + u64::from(s.duration_minutes) * 60_000));
        let timeout = s
            .endings
            .iter()
            .find(|x| x.kind == EndingKind::TimeOut)
            .map(|x| x.id.clone());
        assert_eq!(e.ending(), timeout.as_ref(), "{}", s.id);
        assert!(
            out.iter()
                .any(|x| matches!(x, Effect::Ended(id) if Some(id) == timeout.as_ref())),
            "{}",
            s.id
        );
    }
}
