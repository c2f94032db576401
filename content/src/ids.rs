//! Newtype identifiers: one type per kind of thing, so a puzzle id can never be passed where a
//! cue id is expected. Each is a plain string in RON (`"p_livraison"`).

/// Declares string newtype ids: serde-transparent (a plain string in RON and on the wire),
/// with `as_str`, `Display` and `From<&str>`. Used here and by the protocol and the director,
/// so every id of the project behaves the same.
#[macro_export]
macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),+ $(,)?) => {$(
        #[$doc]
        #[derive(
            Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    )+};
}

id_type!(
    /// An escape-game scenario, unique across the content folder.
    ScenarioId,
    /// A phase of a scenario, unique within it.
    PhaseId,
    /// A puzzle (énigme), unique within its scenario.
    PuzzleId,
    /// A station (a room screen, a terminal, a headset seat) of a scenario.
    StationId,
    /// A cue (top) of a scenario's cue list.
    CueId,
    /// An item (a line of a document, a card to match or order), unique within its puzzle or task.
    ItemId,
    /// A job immersion, unique across the content folder.
    ImmersionId,
    /// A 3D scene (`SceneSpec`), unique across the content folder.
    SceneId,
    /// A material of a scene.
    MaterialId,
    /// A hotspot anchor of a scene (a point in metres).
    AnchorId,
    /// A hotspot of an immersion.
    HotspotId,
    /// A small task of an immersion.
    TaskId,
    /// A stress stimulus of an immersion (noise, height, pace...).
    StimulusId,
    /// An observation grid (ethogram), unique across the content folder.
    GridId,
    /// A behaviour of an observation grid (BORIS "behavior code").
    BehaviourId,
    /// A modifier set of an observation grid.
    ModifierSetId,
    /// One value of a modifier set.
    ModifierId,
    /// A rubric (grille d'évaluation), unique across the content folder.
    RubricId,
    /// A competency (savoir-être) of a rubric.
    CompetencyId,
    /// An ending of a scenario.
    EndingId,
    /// A question of a questionnaire.
    QuestionId,
    /// An activity of the catalogue (`content/catalogue/`), unique across the content folder.
    ActivityId,
    /// A result field of an activity recorded from another tool (a DISC dimension, a score).
    ResultFieldId,
);
