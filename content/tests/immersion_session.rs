//! The immersion session, an activity of its own kind: its built-in scenario (no phases,
//! stations, puzzles, cues or endings), the catalogue's activity that plays it, and the id no
//! content file may take.

use boussole_content::catalogue::RunBy;
use boussole_content::ids::ScenarioId;
use boussole_content::scenario::IMMERSION_SESSION;
use boussole_content::{ContentSet, Severity, validate};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> ContentSet {
    let (set, problems) = ContentSet::load_dir(&root());
    assert!(problems.is_empty(), "{problems:?}");
    set
}

#[test]
fn the_built_in_scenario_has_no_game_and_codes_with_the_first_grid() {
    let set = shipped();
    let Some(s) = set.scenario(IMMERSION_SESSION) else {
        unreachable!("the built-in immersion session is missing")
    };
    assert_eq!(s.id.as_str(), IMMERSION_SESSION);
    assert!(s.phases.is_empty() && s.puzzles.is_empty() && s.cues.is_empty());
    assert!(s.stations.is_empty() && s.endings.is_empty());
    assert_eq!(s.duration_minutes, 0, "no countdown");
    let grid = &set.grids[0].value;
    assert_eq!(s.observation_grid, grid.id);
    assert_eq!(s.rubric, grid.rubric);
    // A content scenario is found as before; an unknown id is not.
    assert!(set.scenario("scape_attitudes").is_some());
    assert!(set.scenario("inconnu").is_none());
    // Without a grid there is nothing to code with: no immersion session either.
    assert!(ContentSet::default().scenario(IMMERSION_SESSION).is_none());
}

#[test]
fn the_videotheque_is_an_immersion_session_of_the_director() {
    let set = shipped();
    let Some(a) = set
        .activities
        .iter()
        .find(|a| a.value.id.as_str() == "videotheque")
    else {
        unreachable!("the vidéothèque is in the catalogue")
    };
    assert_eq!(a.value.run_by, RunBy::Immersions);
    assert_eq!(a.value.run_by.director_scenario(), Some(IMMERSION_SESSION));
    let game = RunBy::Director {
        scenario: ScenarioId::from("scape_attitudes"),
    };
    assert_eq!(game.director_scenario(), Some("scape_attitudes"));
    assert_eq!(RunBy::Facilitator.director_scenario(), None);
}

#[test]
fn no_content_scenario_may_take_the_built_in_id() {
    let mut set = shipped();
    let mut copy = set.scenarios[0].clone();
    copy.value.id = ScenarioId::from(IMMERSION_SESSION);
    set.scenarios.push(copy);
    let report = validate(&set, &root().join("../assets"));
    let refused: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error && p.message.contains("built-in"))
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", report.problems);
    assert!(refused[0].message.contains(IMMERSION_SESSION));
}
