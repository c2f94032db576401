//! The synthesis document model: everything the PDF says, already in words. The director fills it
//! from the evaluation; this crate only lays it out. Every text is French and plain (no markup:
//! typst shows strings as they are, so a `#` or `*` in a comment prints as itself).

use serde::{Deserialize, Serialize};

/// Who the document is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// The job counsellor (prescriber): levels, evidence with times, facilitator's reasons.
    Counsellor,
    /// The participant, at the debrief (restitution): the same findings in simple words,
    /// without raw numbers, times or scores.
    Participant,
}

/// Where the document stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Until the debrief meeting with the participant: every page says "brouillon".
    Draft,
    /// After the debrief, with the participant's recorded consent to send it to the prescriber.
    Final {
        /// When the debrief took place, in words ("3 décembre 2026").
        restitution: String,
        /// When consent was recorded, in words.
        consent: String,
    },
}

/// One participant's synthesis ("feuille de route évaluations"): one or more sessions
/// (immersions, one escape game) in one document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Synthesis {
    /// Who reads it.
    pub audience: Audience,
    /// Draft or final.
    pub status: Status,
    /// The programme ("La Boussole de l'orientation").
    pub programme: String,
    /// The organisation running it ("PLIE …").
    pub organisation: String,
    /// The document's date, in words ("30 novembre 2026").
    pub date: String,
    /// The participant.
    pub participant: Person,
    /// What the participant did, oldest first.
    pub activities: Vec<Activity>,
    /// The rubric's level names, lowest first ("À développer" … "Point fort").
    pub levels: Vec<String>,
    /// Where the rubric comes from ("France Travail, liste des 14 savoir-être professionnels").
    pub rubric_source: String,
    /// One row per competency of the rubric, observed or not, in rubric order.
    pub competencies: Vec<Competency>,
    /// Competencies at the rubric's upper levels, in words.
    pub strengths: Vec<String>,
    /// Competencies at its lower levels, in words.
    pub to_develop: Vec<String>,
    /// What the immersions showed of the participant's interest, per trade.
    pub appetences: Vec<Appetence>,
    /// The stress stimuli the participant rated high.
    pub stress_sources: Vec<StressSource>,
    /// Evaluations run with other tools ("Autres évaluations"), oldest first: printed as the
    /// tool gave them, beside our findings and never mixed into the savoir-être levels.
    #[serde(default)]
    pub other_evaluations: Vec<OtherEvaluation>,
    /// The facilitator's comment (several paragraphs separated by blank lines).
    pub comment: String,
    /// Pistes d'orientation: one line each.
    pub recommendations: Vec<String>,
    /// Who signs: the facilitator's name or role.
    pub facilitator: String,
    /// The version of its content (the person's consent is given to one version): 8
    /// hexadecimal characters, or empty when not computed.
    #[serde(default)]
    pub version: String,
    /// A corrected final says which final it replaces, in words ("la version finale A1B2C3D4
    /// du 3 décembre 2026").
    #[serde(default)]
    pub replaces: Option<String>,
}

/// The participant as the document names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The name shown: the pseudonym, or the name when the facilitator chose to show it.
    pub shown: String,
    /// The pseudonym (shown beside a name, for the programme's files).
    pub pseudonym: String,
}

/// The kind of an activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityKind {
    /// A group escape game that reveals attitudes.
    EscapeGame,
    /// A job immersion in a headset.
    Immersion,
}

/// One activity (an escape game or an immersion).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Escape game or immersion.
    pub kind: ActivityKind,
    /// Its title ("S'cape attitudes").
    pub title: String,
    /// When, in words.
    pub date: String,
    /// How long it lasted, minutes (rounded).
    pub minutes: u32,
    /// What it was, in one or two sentences.
    pub description: String,
    /// What it can show.
    pub shows: String,
    /// What it cannot show.
    pub limits: String,
}

/// Whether a piece of evidence counted for or against a level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sign {
    /// It raised the score.
    Positive,
    /// It lowered the score.
    Negative,
}

/// One piece of evidence, in plain language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLine {
    /// When, as game time ("12 min").
    pub when: String,
    /// Where in the game ("phase « Le quai », énigme « Le cadenas »"); may be empty.
    pub context: String,
    /// What was observed ("propose une solution au groupe").
    pub what: String,
    /// Which way it counted.
    pub sign: Sign,
}

/// One competency's row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Competency {
    /// Its name ("Autonomie").
    pub label: String,
    /// What it means, in one sentence.
    pub definition: String,
    /// The level retained, from 1 (`levels[0]`); `None` is "non observé".
    pub level: Option<u8>,
    /// The anchor of that level in the rubric: the behaviour it describes.
    pub anchor: Option<String>,
    /// When the facilitator changed the proposed level: the proposal in words and the reason.
    pub changed: Option<String>,
    /// The most telling evidence, at most a handful.
    pub evidence: Vec<EvidenceLine>,
    /// How many pieces of evidence there were in all.
    pub evidence_total: u32,
    /// The participant's own rating, from 1, on the same scale; `None` when not answered.
    pub self_level: Option<u8>,
}

/// One immersion's appetence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appetence {
    /// The immersion ("Cariste au port").
    pub title: String,
    /// Its sector.
    pub sector: String,
    /// ROME codes of the trades shown.
    pub rome_codes: Vec<String>,
    /// The appeal rating, 1 to 5; `None` when not answered.
    pub appeal: Option<u8>,
    /// The appeal in words ("Ce métier lui plaît beaucoup").
    pub appeal_words: String,
    /// Points of interest looked at, of how many.
    pub hotspots: (u32, u32),
    /// Tasks done right, of how many.
    pub tasks: (u32, u32),
    /// The participant's own comment, if any.
    pub comment: Option<String>,
}

/// A stress stimulus rated high.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressSource {
    /// The stimulus, in words ("le bruit des engins").
    pub stimulus: String,
    /// The immersion it was played in.
    pub immersion: String,
    /// The rating, 1 to 5.
    pub rating: u8,
}

/// An evaluation run with another tool, as recorded (the product never administers it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherEvaluation {
    /// The catalogue's title ("Profil comportemental DISC").
    pub title: String,
    /// The tool's name, as its publisher writes it ("DISC").
    pub tool: String,
    /// When it was taken, in words ("20 novembre 2026").
    pub date: String,
    /// Who administered it.
    pub administered_by: String,
    /// `(label, value)` as the tool gave them ("Dominance", "72 / 100").
    pub results: Vec<(String, String)>,
    /// Whether the tool's own PDF report is kept with the record (never merged into this one).
    pub report_kept: bool,
}
