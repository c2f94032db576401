//! Puzzles (énigmes) of an escape game: what is shown where, how an answer is checked, what
//! unlocks what, the hint ladder, and what the facilitator watches for.

use crate::ids::{BehaviourId, CompetencyId, ItemId, PhaseId, PuzzleId, SceneId, StationId};
use crate::text::Text;
use serde::{Deserialize, Serialize};

/// One puzzle of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Puzzle {
    /// Unique within the scenario.
    pub id: PuzzleId,
    /// Title shown on stations and in the console.
    pub title: Text,
    /// The phase this puzzle belongs to; it opens when its phase starts and its
    /// requirements are solved.
    pub phase: PhaseId,
    /// What the players do, and what each station shows.
    pub kind: PuzzleKind,
    /// Stations that show this puzzle (at least one).
    pub stations: Vec<StationId>,
    /// How an answer is checked. The director decides; stations only send answers.
    pub solution: SolutionCheck,
    /// Puzzles that must be solved first (edges of the unlock DAG; no cycles).
    #[serde(default)]
    pub requires: Vec<PuzzleId>,
    /// Minutes a nominal team of six needs; the longest unlock path must fit the scenario's
    /// duration.
    pub expected_minutes: f32,
    /// The hint ladder, from a nudge to the answer (three levels for authored games).
    pub hints: Vec<Hint>,
    /// Competencies (savoir-être) of the scenario's rubric this puzzle gives evidence for.
    pub competencies: Vec<CompetencyId>,
    /// What the facilitator should watch for while the puzzle runs.
    pub observe: ObservationGuide,
}

impl Puzzle {
    /// The station where answers are entered: `answer_station` for multi-station and
    /// headset-guided puzzles, else the puzzle's first station (`None` only for a puzzle without
    /// stations, which validation refuses).
    pub fn answer_station(&self) -> Option<&StationId> {
        match &self.kind {
            PuzzleKind::MultiStation { answer_station, .. }
            | PuzzleKind::HeadsetGuided { answer_station, .. } => Some(answer_station),
            _ => self.stations.first(),
        }
    }
}

/// What kind of puzzle it is, with what each kind shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PuzzleKind {
    /// Enter a code (digits or letters) found elsewhere in the room.
    CodeEntry {
        /// The question on the terminal.
        prompt: Text,
    },
    /// Compare documents and point at the inconsistencies (delivery note vs order vs safety
    /// sheet). The solution is a `Set` of item ids.
    DocumentComparison {
        /// The question on the terminal.
        prompt: Text,
        /// The documents side by side.
        documents: Vec<Document>,
    },
    /// Pair items of the left column with items of the right column. The solution is a `Set`
    /// of `"left=right"` pairs.
    Matching {
        /// The question on the terminal.
        prompt: Text,
        /// Left column.
        left: Vec<Item>,
        /// Right column.
        right: Vec<Item>,
    },
    /// Put items in the right order. The solution is an `Order` of all item ids.
    Ordering {
        /// The question on the terminal.
        prompt: Text,
        /// The items, in the order they are shown (shuffled by the author).
        items: Vec<Item>,
    },
    /// Each station holds part of the information; players must talk to solve it.
    MultiStation {
        /// The question, shown on the station that takes the answer.
        prompt: Text,
        /// What each station shows (one part per station, at least two).
        parts: Vec<StationPart>,
        /// The station where the answer is entered.
        answer_station: StationId,
    },
    /// One player in a headset sees what the others cannot and guides them.
    HeadsetGuided {
        /// The question, shown on the station that takes the answer.
        prompt: Text,
        /// The headset station.
        headset_station: StationId,
        /// What the headset player sees and must describe: shown on the headset's panel in
        /// the scene and read aloud there.
        headset_view: Text,
        /// The station where the answer is entered.
        answer_station: StationId,
        /// The scene the headset player stands in while the puzzle is open (a `SceneSpec`
        /// under `content/scenes/`, as an immersion's). Optional in the format so that older
        /// content loads; the validator refuses a headset-guided puzzle without one.
        #[serde(default)]
        scene: Option<SceneId>,
    },
}

/// A document of a comparison puzzle: a title and its lines, each an item that can be pointed at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Title ("Bon de livraison").
    pub title: Text,
    /// Lines, each selectable.
    pub lines: Vec<Item>,
}

/// A selectable element: a line, a card, a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Unique within the puzzle or task.
    pub id: ItemId,
    /// What is shown.
    pub text: Text,
}

/// The part of the information a station holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationPart {
    /// The station.
    pub station: StationId,
    /// What it shows.
    pub text: Text,
}

/// How the director checks an answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SolutionCheck {
    /// The answer must equal `answer` exactly (codes: `"4712"`).
    Exact {
        /// The expected answer.
        answer: String,
    },
    /// The answer matches one of `answers` after normalisation: case, accents, punctuation and
    /// repeated spaces are ignored (`"Égalité"` = `"egalite"`).
    NormalisedText {
        /// Accepted answers.
        answers: Vec<String>,
    },
    /// The answer is a set of item ids (or `"left=right"` pairs), order ignored.
    Set {
        /// The expected set.
        items: Vec<String>,
    },
    /// The answer is every item id in this order.
    Order {
        /// The expected order.
        items: Vec<String>,
    },
    /// A number within `tolerance` of `value` (same unit as the question).
    Numeric {
        /// The expected value.
        value: f64,
        /// Accepted absolute difference (≥ 0).
        tolerance: f64,
    },
}

/// One rung of a hint ladder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hint {
    /// What the room screen or the station shows (and reads aloud).
    pub text: Text,
    /// Seconds taken off the remaining time when given (0 for none).
    #[serde(default)]
    pub cost_s: u32,
}

/// What the facilitator watches for during a puzzle: observable behaviours, never traits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationGuide {
    /// Behaviours that show the competency ("reformule l'information avant d'agir").
    pub positive: Vec<String>,
    /// Behaviours that show its absence ("garde l'information pour soi").
    pub negative: Vec<String>,
    /// Behaviours of the scenario's observation grid most likely to be coded here.
    #[serde(default)]
    pub behaviours: Vec<BehaviourId>,
}

impl PuzzleKind {
    /// The French name of the kind, for guides and summaries.
    pub fn label_fr(&self) -> &'static str {
        match self {
            Self::CodeEntry { .. } => "code à trouver",
            Self::DocumentComparison { .. } => "comparaison de documents",
            Self::Matching { .. } => "association",
            Self::Ordering { .. } => "remise en ordre",
            Self::MultiStation { .. } => "informations réparties entre postes",
            Self::HeadsetGuided { .. } => "guidage par la personne au casque",
        }
    }

    /// Every item id a solution may name (document lines, cards, steps); empty for kinds
    /// whose answers are free text or codes.
    pub fn item_ids(&self) -> Vec<&ItemId> {
        match self {
            Self::DocumentComparison { documents, .. } => documents
                .iter()
                .flat_map(|d| d.lines.iter().map(|i| &i.id))
                .collect(),
            Self::Matching { left, right, .. } => left.iter().chain(right).map(|i| &i.id).collect(),
            Self::Ordering { items, .. } => items.iter().map(|i| &i.id).collect(),
            Self::CodeEntry { .. } | Self::MultiStation { .. } | Self::HeadsetGuided { .. } => {
                Vec::new()
            }
        }
    }

    /// Every participant-facing text of the kind, for audio coverage.
    pub fn texts(&self) -> Vec<&Text> {
        match self {
            Self::CodeEntry { prompt } => vec![prompt],
            Self::DocumentComparison { prompt, documents } => {
                std::iter::once(prompt)
                    .chain(documents.iter().flat_map(|d| {
                        std::iter::once(&d.title).chain(d.lines.iter().map(|l| &l.text))
                    }))
                    .collect()
            }
            Self::Matching {
                prompt,
                left,
                right,
            } => std::iter::once(prompt)
                .chain(left.iter().chain(right).map(|i| &i.text))
                .collect(),
            Self::Ordering { prompt, items } => std::iter::once(prompt)
                .chain(items.iter().map(|i| &i.text))
                .collect(),
            Self::MultiStation { prompt, parts, .. } => std::iter::once(prompt)
                .chain(parts.iter().map(|p| &p.text))
                .collect(),
            Self::HeadsetGuided {
                prompt,
                headset_view,
                ..
            } => vec![prompt, headset_view],
        }
    }
}
