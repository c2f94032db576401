//! Every shipped escape game can be played from the start to its success ending within its
//! duration, and its committed facilitator's guide is exactly what the content generates.

use boussole_content::scenario::Scenario;
use boussole_content::{ContentSet, guide_md};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scenarios() -> ContentSet {
    let (set, problems) = ContentSet::load_dir(&root());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(!set.scenarios.is_empty());
    set
}

/// Plays the phases in order, solving every puzzle whose phase has started and whose
/// requirements are solved; returns the puzzles solved, in order.
fn play(s: &Scenario) -> Vec<&str> {
    let mut solved: Vec<&str> = Vec::new();
    let mut done: HashSet<&str> = HashSet::new();
    for (k, _) in s.phases.iter().enumerate() {
        let open_phases: HashSet<&str> = s.phases[..=k].iter().map(|p| p.id.as_str()).collect();
        loop {
            let next = s.puzzles.iter().find(|p| {
                !done.contains(p.id.as_str())
                    && open_phases.contains(p.phase.as_str())
                    && p.requires.iter().all(|r| done.contains(r.as_str()))
            });
            let Some(p) = next else { break };
            done.insert(p.id.as_str());
            solved.push(p.id.as_str());
        }
    }
    solved
}

#[test]
fn every_game_reaches_its_success_ending_from_the_start() {
    let set = scenarios();
    for doc in &set.scenarios {
        let s = &doc.value;
        let solved = play(s);
        let stuck: Vec<&str> = s
            .puzzles
            .iter()
            .map(|p| p.id.as_str())
            .filter(|id| !solved.contains(id))
            .collect();
        assert!(stuck.is_empty(), "{}: puzzles never open: {stuck:?}", s.id);
    }
}

#[test]
fn every_games_longest_path_fits_its_duration() {
    let set = scenarios();
    for doc in &set.scenarios {
        let s = &doc.value;
        // In play order every requirement comes first, so one pass gives the longest path.
        let by_id: HashMap<&str, f32> = s
            .puzzles
            .iter()
            .map(|p| (p.id.as_str(), p.expected_minutes))
            .collect();
        let mut finish: HashMap<&str, f32> = HashMap::new();
        for id in play(s) {
            let p = s
                .puzzles
                .iter()
                .find(|p| p.id.as_str() == id)
                .expect("played puzzle exists");
            let start = p
                .requires
                .iter()
                .map(|r| finish[r.as_str()])
                .fold(0.0, f32::max);
            finish.insert(id, start + by_id[id]);
        }
        let longest = finish.values().copied().fold(0.0, f32::max);
        assert!(
            longest <= s.duration_minutes as f32,
            "{}: longest path {longest} min > {} min",
            s.id,
            s.duration_minutes
        );
    }
}

#[test]
fn committed_guides_match_the_content() {
    let set = scenarios();
    let dir = root().join("../docs/guides");
    for doc in &set.scenarios {
        let id = doc.value.id.as_str();
        let generated = guide_md(&set, id).expect("guide for a known scenario");
        let path = dir.join(format!("{id}.md"));
        let committed = fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is missing or stale: run `cargo run -p boussole-lint -- guide {id} -o docs/guides/{id}.md`",
            path.display()
        );
    }
}

#[test]
fn guide_has_every_section_a_facilitator_prints() {
    let set = scenarios();
    for doc in &set.scenarios {
        let s = &doc.value;
        let guide = guide_md(&set, s.id.as_str()).expect("guide");
        for heading in [
            "## Briefing",
            "## Avant la séance : mise en place",
            "## Déroulé et repères de temps",
            "## Les énigmes",
            "## Conduite",
            "## Fins",
            "## Après la séance : remise en état",
            "## Restitution",
            "## Auto-évaluation",
        ] {
            assert!(guide.contains(heading), "{}: guide lacks {heading}", s.id);
        }
        for p in &s.puzzles {
            assert!(
                guide.contains(&format!("(`{}`)", p.id)),
                "{}: guide lacks puzzle {}",
                s.id,
                p.id
            );
            for h in &p.hints {
                assert!(
                    guide.contains(&h.text.fr),
                    "{}: guide lacks hint {:?}",
                    s.id,
                    h.text.fr
                );
            }
        }
        for c in &s.cues {
            assert!(
                guide.contains(&format!("| {} | {} |", c.number, c.name)),
                "{}: cue {} missing",
                s.id,
                c.id
            );
        }
    }
    assert!(guide_md(&set, "no_such_scenario").is_none());
}
