//! An escape game as authored: its story, phases, stations, puzzles, cue list, endings,
//! checklists, debrief and self-assessment.

use crate::cue::{Cue, CueKind, DeviceRole};
use crate::ids::{
    CompetencyId, CueId, EndingId, GridId, PhaseId, QuestionId, RubricId, ScenarioId, StationId,
};
use crate::puzzle::Puzzle;
use crate::text::Text;
use serde::{Deserialize, Serialize};

/// One escape game (one file under `content/scenarios/`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique across the content folder.
    pub id: ScenarioId,
    /// Title ("S'cape attitudes").
    pub title: Text,
    /// One-paragraph pitch for facilitators (not shown to participants).
    pub summary: String,
    /// Playing time in minutes (45–60 for authored games). The longest unlock path must fit.
    pub duration_minutes: u32,
    /// How many players.
    pub team: TeamSize,
    /// The observation grid the facilitator codes with.
    pub observation_grid: GridId,
    /// The rubric that turns observations into levels.
    pub rubric: RubricId,
    /// Read to the players before the timer starts, the same way every session.
    pub briefing: Vec<Text>,
    /// Phases, in playing order (at least one).
    pub phases: Vec<Phase>,
    /// Stations of the room (screens, terminals, headset seats).
    pub stations: Vec<Station>,
    /// Puzzles.
    pub puzzles: Vec<Puzzle>,
    /// The cue list, in order.
    pub cues: Vec<Cue>,
    /// How the game can end: exactly one `Success` and one `TimeOut`.
    pub endings: Vec<Ending>,
    /// Room set-up checklist, for the facilitator (before players come in).
    pub setup_checklist: Vec<String>,
    /// Reset checklist, for the facilitator (after the game).
    pub reset_checklist: Vec<String>,
    /// Questions the facilitator asks at the debrief.
    pub debrief_questions: Vec<String>,
    /// The self-assessment questionnaire each participant fills at the debrief.
    pub self_assessment: SelfAssessment,
}

/// Team size bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSize {
    /// Smallest playable team (4 for authored games).
    pub min: u8,
    /// The team the game is designed for (6).
    pub nominal: u8,
    /// Largest playable team.
    pub max: u8,
}

/// A phase of the game: stations change what they show when it starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Unique within the scenario.
    pub id: PhaseId,
    /// Title shown on the room screen.
    pub title: Text,
}

/// A place in the room where a device shows puzzles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// Unique within the scenario.
    pub id: StationId,
    /// The role of the device placed there.
    pub role: DeviceRole,
    /// Where it stands, for the set-up ("table près de la fenêtre").
    pub label: String,
}

/// An ending of the game.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ending {
    /// Unique within the scenario.
    pub id: EndingId,
    /// When it happens.
    pub kind: EndingKind,
    /// Shown and read on the room screen.
    pub text: Text,
    /// A cue fired when the ending starts (video, sound).
    #[serde(default)]
    pub cue: Option<CueId>,
}

/// The id of the scenario every immersion session plays ([`immersion_session`]), built in:
/// no content file may take it.
pub const IMMERSION_SESSION: &str = "seance_immersion";

/// The scenario an immersion session plays ([`crate::catalogue::RunBy::Immersions`]): headsets
/// only, each person in an immersion of their own; no phases, stations, puzzles, cues or
/// endings, so no game to start and no countdown (`duration_minutes` 0). The facilitator still
/// codes with `grid` (its rubric evaluates), and the debrief asks about the trades discovered.
pub fn immersion_session(grid: &crate::grid::ObservationGrid) -> Scenario {
    Scenario {
        id: ScenarioId::from(IMMERSION_SESSION),
        title: Text::fr("Séance d'immersion"),
        summary: "Chaque personne découvre un métier dans un casque ; pas d'énigme, pas de \
                  minuteur. Le tutoriel passe en premier."
            .into(),
        duration_minutes: 0,
        team: TeamSize {
            min: 1,
            nominal: 6,
            max: 12,
        },
        observation_grid: grid.id.clone(),
        rubric: grid.rubric.clone(),
        briefing: Vec::new(),
        phases: Vec::new(),
        stations: Vec::new(),
        puzzles: Vec::new(),
        cues: Vec::new(),
        endings: Vec::new(),
        setup_checklist: vec![
            "Casques chargés, nettoyés, avec leurs lingettes".into(),
            "Chaises pivotantes, espace dégagé autour de chaque casque".into(),
            "Sacs pour vomir et eau à portée de main".into(),
        ],
        reset_checklist: vec![
            "Casques nettoyés et mis en charge".into(),
            "Lingettes et sacs remplacés".into(),
        ],
        debrief_questions: vec![
            "Quel métier avez-vous découvert ?".into(),
            "Qu'est-ce qui vous a plu, ou surpris ?".into(),
            "Qu'est-ce qui vous a moins plu ?".into(),
            "Aimeriez-vous en savoir plus : une visite, un stage, une rencontre ?".into(),
        ],
        self_assessment: SelfAssessment {
            intro: Text::fr("Quelques questions sur ce que vous avez vu."),
            scale: Vec::new(),
            questions: Vec::new(),
        },
    }
}

/// When an ending happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndingKind {
    /// Every puzzle is solved.
    Success,
    /// The timer reached zero.
    TimeOut,
}

/// The participant rates themself on the competencies observed, at the debrief.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfAssessment {
    /// Read before the questions.
    pub intro: Text,
    /// The scale, from 1 (lowest) to its length (4 for authored games), each with a pictogram.
    pub scale: Vec<Text>,
    /// One question per competency.
    pub questions: Vec<SelfQuestion>,
}

/// A self-assessment question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfQuestion {
    /// Unique within the questionnaire.
    pub id: QuestionId,
    /// The competency rated (from the scenario's rubric).
    pub competency: CompetencyId,
    /// The question ("Pendant le jeu, j'ai écouté les autres.").
    pub text: Text,
}

impl Scenario {
    /// Every participant-facing text, for audio coverage: briefing, phases, puzzles, hints,
    /// text cues, endings and the self-assessment.
    pub fn texts(&self) -> Vec<&Text> {
        let mut out: Vec<&Text> = vec![&self.title];
        out.extend(&self.briefing);
        out.extend(self.phases.iter().map(|p| &p.title));
        for p in &self.puzzles {
            out.push(&p.title);
            out.extend(p.kind.texts());
            out.extend(p.hints.iter().map(|h| &h.text));
        }
        for c in &self.cues {
            if let CueKind::Text { text, .. } = &c.kind {
                out.push(text);
            }
        }
        out.extend(self.endings.iter().map(|e| &e.text));
        out.push(&self.self_assessment.intro);
        out.extend(&self.self_assessment.scale);
        out.extend(self.self_assessment.questions.iter().map(|q| &q.text));
        out
    }
}
