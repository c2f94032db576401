//! The rubric (grille d'évaluation): competencies with behaviourally anchored levels (BARS) and
//! the scoring rule, as data, that turns observations and game events into a proposed level.

use crate::grid::Valence;
use crate::ids::{CompetencyId, RubricId};
use serde::{Deserialize, Serialize};

/// A rubric (one file under `content/rubrics/`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Unique across the content folder.
    pub id: RubricId,
    /// Title, French.
    pub title: String,
    /// Where the competencies come from ("France Travail, savoir-être professionnels").
    pub source: String,
    /// The level names, lowest first (four for authored rubrics).
    pub levels: Vec<String>,
    /// Competencies.
    pub competencies: Vec<Competency>,
    /// How evidence becomes a proposed level.
    pub scoring: ScoringRule,
}

/// A competency (savoir-être) with one behavioural anchor per level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competency {
    /// Unique within the rubric (`"sens_communication"`).
    pub id: CompetencyId,
    /// French name as France Travail writes it ("Sens de la communication").
    pub label: String,
    /// What it means, in plain French.
    pub definition: String,
    /// One anchor per level, lowest first: what a person at that level is seen doing.
    pub anchors: Vec<String>,
}

/// The scoring rule.
///
/// For a participant and a competency: `score = (Σ obs + Σ game) / minutes_observed`, where each
/// observation adds `valence × weight` (state events: per minute of the span) from the grid, and
/// each game event adds `valence × weight` from `game_events`, with game events capped at
/// `max_game_event_share` of the total absolute evidence so that they never decide a level alone
/// (hints and solved puzzles partly measure reading ability). The proposed level is 1 plus the
/// number of `thresholds` the score reaches. Below `minimum_evidence` the result is
/// "non observé".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringRule {
    /// Game events that count, and for which competency.
    pub game_events: Vec<GameEventWeight>,
    /// Score boundaries between consecutive levels, per observed minute, strictly increasing;
    /// one fewer than the levels.
    pub thresholds: Vec<f32>,
    /// Largest share, in [0, 1), of the absolute evidence that game events may carry.
    pub max_game_event_share: f32,
    /// Below this the competency is "non observé".
    pub minimum_evidence: MinimumEvidence,
}

/// How a game event counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameEventWeight {
    /// The event.
    pub event: GameEventKind,
    /// The competency it gives evidence for.
    pub competency: CompetencyId,
    /// For or against.
    pub valence: Valence,
    /// Weight, > 0.
    pub weight: f32,
}

/// Game events the director records per participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GameEventKind {
    /// Entered the answer that solved a puzzle.
    PuzzleSolved,
    /// Entered a wrong answer.
    WrongAnswer,
    /// Asked for a hint.
    HintRequested,
    /// Shared a resource or an item with another station.
    ResourceShared,
    /// A minute of activity at a station.
    StationActiveMinute,
    /// Visited a hotspot of an immersion.
    HotspotVisited,
    /// Completed a task of an immersion.
    TaskCompleted,
}

/// The least evidence for a level.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimumEvidence {
    /// Observations (coded behaviours) that map to the competency, at least.
    pub observations: u32,
    /// Minutes the participant was observed, at least.
    pub minutes_observed: f32,
}
