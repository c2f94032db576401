//! The catalogue: what the programme offers (`content/catalogue/*.ron`, one activity per file).
//! Escape games and immersion sessions are played with this product's director; the sector
//! workshop is run by the facilitator; the aptitude, personality and skills evaluations are
//! administered with other tools, and this product only records their results (DOMAIN.md,
//! "Evaluations run with other tools": never reimplement or reproduce such a test).
//!
//! The director reads the catalogue for the roadmaps (an entry names an activity), the plan
//! (how an activity opens: every two weeks, or once 6 people wait) and the figures (per
//! [`ActivityKind`]).

use crate::ids::{ActivityId, ResultFieldId, ScenarioId};
use serde::{Deserialize, Serialize};

/// One activity of the catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// Unique across the catalogue (`"scape_attitudes"`, `"disc"`).
    pub id: ActivityId,
    /// Its French name, as the plan, the roadmap and the synthesis show it.
    pub title: String,
    /// What it is, for the figures (FSE+ asks per kind of activity).
    pub kind: ActivityKind,
    /// Who runs it: this product's director, the facilitator, or another tool.
    pub run_by: RunBy,
    /// Collective (with its group size) or individual.
    pub format: Format,
    /// Its usual length, minutes (5 to 480): the plan's default and the figures' hours when no
    /// session measures it.
    pub usual_minutes: u32,
    /// How sessions of it are opened in the plan.
    pub opening: Opening,
}

/// The kinds of activity the funders' figures are reported by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ActivityKind {
    /// An escape game that assesses attitudes (S'cape attitudes, S'cape pandémie).
    EscapeGame,
    /// An immersion session in headsets (vidéothèque virtuelle): each person's trade.
    ImmersionSession,
    /// A collective workshop (sector awareness, local economy).
    Workshop,
    /// An evaluation administered with another tool (aptitudes, personality, skills).
    Evaluation,
}

impl ActivityKind {
    /// Every kind, in report order.
    pub const ALL: [Self; 4] = [
        Self::EscapeGame,
        Self::ImmersionSession,
        Self::Workshop,
        Self::Evaluation,
    ];

    /// A stable code (`escape_game`…), as stored and written in CSV files.
    pub fn code(self) -> &'static str {
        match self {
            Self::EscapeGame => "escape_game",
            Self::ImmersionSession => "immersion_session",
            Self::Workshop => "workshop",
            Self::Evaluation => "evaluation",
        }
    }

    /// The kind whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Its French label.
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::EscapeGame => "escape game",
            Self::ImmersionSession => "séance d'immersion (vidéothèque)",
            Self::Workshop => "atelier collectif",
            Self::Evaluation => "évaluation avec un autre outil",
        }
    }
}

/// Who runs an activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RunBy {
    /// Played with this product's director: a session of `scenario`. Closing that session
    /// marks the roadmap entries of the people enrolled done, and those invited but absent
    /// back on the waiting list.
    Director {
        /// The scenario the director session plays.
        scenario: ScenarioId,
    },
    /// An immersion session hosted by the director: headsets only, each person in an
    /// immersion of their own; no puzzles, no timer. Its sessions play the built-in
    /// [`crate::scenario::IMMERSION_SESSION`]; closing one marks the roadmap entries as for
    /// [`RunBy::Director`].
    Immersions,
    /// Run by the facilitator without this product's devices; attendance is recorded when
    /// the planned session is held.
    Facilitator,
    /// Administered with another tool; this product records what the tool gives, never
    /// computes it, and never turns it into savoir-être levels.
    OtherTool {
        /// The tool's name, as its publisher writes it (a trademark stays the tool's).
        tool: String,
        /// What a result holds, as the tool gives it (at least one field).
        fields: Vec<ResultField>,
    },
}

/// One field of a result recorded from another tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultField {
    /// Unique within the activity (`"d"`, `"endurance"`); what `--field ID=VALUE` names.
    pub id: ResultFieldId,
    /// Its French label, as the synthesis prints it ("Dominance").
    pub label: String,
    /// What values it takes.
    pub value: FieldValue,
}

/// The values a result field takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FieldValue {
    /// A whole-number score from `min` to `max`, both included, in the tool's own unit.
    Score {
        /// Lowest.
        min: i32,
        /// Highest.
        max: i32,
        /// The unit or scale shown after the value (`"/ 100"`, `"percentile"`); may be empty.
        unit: String,
    },
    /// Words, as the tool gives them (a profile name, a type, a level).
    Text,
}

/// Collective (a group) or individual.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Format {
    /// A group of `min_people` to `max_people` (2 to 20).
    Collective {
        /// Fewest people for a session to be held.
        min_people: u8,
        /// Most people invited to one session.
        max_people: u8,
    },
    /// One person at a time.
    Individual,
}

impl Format {
    /// The most people one session takes (1 for an individual activity).
    pub fn capacity(&self) -> u8 {
        match self {
            Self::Collective { max_people, .. } => *max_people,
            Self::Individual => 1,
        }
    }
}

/// How sessions of an activity are opened in the plan (DOMAIN.md: collective activities run
/// every 15 days; others start once 6 participants are enrolled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Opening {
    /// A recurring series on the same weekday every `weeks` weeks (1 to 8; the programme's
    /// rhythm is 2: RRULE `FREQ=WEEKLY;INTERVAL=2`).
    Recurring {
        /// Weeks between two sessions.
        weeks: u8,
    },
    /// A session is opened once `people` (2 to 20) wait for it.
    WhenWaiting {
        /// How many people must be waiting.
        people: u8,
    },
    /// Planned one by one, when someone needs it (individual evaluations).
    OnDemand,
}

impl RunBy {
    /// The scenario a director session of this activity plays: the named one, or the built-in
    /// one of immersion sessions; `None` when the director does not run it.
    pub fn director_scenario(&self) -> Option<&str> {
        match self {
            Self::Director { scenario } => Some(scenario.as_str()),
            Self::Immersions => Some(crate::scenario::IMMERSION_SESSION),
            Self::Facilitator | Self::OtherTool { .. } => None,
        }
    }
}
