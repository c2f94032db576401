//! The observation grid (ethogram): the behaviours a facilitator codes by keyboard, in BORIS's
//! terms (point and state events, modifiers), each tied to competencies with a valence and weight.

use crate::ids::{BehaviourId, CompetencyId, GridId, ModifierId, ModifierSetId, RubricId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An observation grid (one file under `content/grids/`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationGrid {
    /// Unique across the content folder.
    pub id: GridId,
    /// Title, French.
    pub title: String,
    /// The rubric whose competencies the behaviours map to.
    pub rubric: RubricId,
    /// Behaviours, in the order the console lists them.
    pub behaviours: Vec<Behaviour>,
    /// Modifier sets behaviours may use.
    #[serde(default)]
    pub modifier_sets: Vec<ModifierSet>,
}

/// A behaviour to code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// The code (BORIS "behavior code"), unique within the grid: `"com_reformule"`.
    pub id: BehaviourId,
    /// French label shown in the console ("Reformule une consigne").
    pub label: String,
    /// Category, French ("Communication").
    pub category: String,
    /// What counts as this behaviour, so two raters code alike.
    pub definition: String,
    /// A moment (point event) or a span (state event, started and stopped).
    pub kind: EventKind,
    /// The key that codes it, by physical position.
    pub key: PhysicalKey,
    /// Modifiers asked after the key (one extra key), if any.
    #[serde(default)]
    pub modifiers: Option<ModifierSetId>,
    /// Competencies it gives evidence for.
    pub competencies: Vec<CompetencyLink>,
}

/// BORIS's two kinds of events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A moment: coded with one key press.
    Point,
    /// A span: one press starts it, the next stops it (or hold the key).
    State,
}

/// How a behaviour counts for a competency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompetencyLink {
    /// The competency, from the grid's rubric.
    pub competency: CompetencyId,
    /// Whether it shows the competency or its absence.
    pub valence: Valence,
    /// Weight, > 0 (1 = ordinary evidence). For a state event, per minute of the span.
    pub weight: f32,
}

/// Evidence for or against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Valence {
    /// Shows the competency.
    Positive,
    /// Shows its absence.
    Negative,
}

impl Valence {
    /// +1 or −1.
    pub fn sign(self) -> f32 {
        match self {
            Self::Positive => 1.0,
            Self::Negative => -1.0,
        }
    }
}

/// A set of modifiers (BORIS "modifier set"): one extra key after a behaviour key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifierSet {
    /// Unique within the grid.
    pub id: ModifierSetId,
    /// French label ("Envers qui").
    pub label: String,
    /// The values.
    pub modifiers: Vec<Modifier>,
}

/// One modifier value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modifier {
    /// Unique within its set.
    pub id: ModifierId,
    /// French label ("Un·e coéquipier·e").
    pub label: String,
    /// Its key, by physical position. Modifier keys share one namespace with behaviour keys.
    pub key: PhysicalKey,
}

macro_rules! physical_keys {
    ($($name:ident => $us:literal),+ $(,)?) => {
        /// A key by its physical position, named as in the W3C UI Events `code` values
        /// (<https://www.w3.org/TR/uievents-code/>), so that `KeyQ` is the key left of `KeyW`
        /// on a QWERTY board and the key labelled A on an AZERTY board: both laptops behave
        /// the same.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum PhysicalKey {
            $(
                #[doc = concat!("The key labelled `", $us, "` on a US QWERTY board.")]
                $name,
            )+
        }

        impl PhysicalKey {
            /// The label of the key on a US QWERTY board.
            pub fn qwerty_label(self) -> &'static str {
                match self { $(Self::$name => $us,)+ }
            }
        }
    };
}

physical_keys!(
    KeyA => "A", KeyB => "B", KeyC => "C", KeyD => "D", KeyE => "E", KeyF => "F", KeyG => "G",
    KeyH => "H", KeyI => "I", KeyJ => "J", KeyK => "K", KeyL => "L", KeyM => "M", KeyN => "N",
    KeyO => "O", KeyP => "P", KeyQ => "Q", KeyR => "R", KeyS => "S", KeyT => "T", KeyU => "U",
    KeyV => "V", KeyW => "W", KeyX => "X", KeyY => "Y", KeyZ => "Z",
    Digit0 => "0", Digit1 => "1", Digit2 => "2", Digit3 => "3", Digit4 => "4",
    Digit5 => "5", Digit6 => "6", Digit7 => "7", Digit8 => "8", Digit9 => "9",
    Space => "Space", Escape => "Esc", Enter => "Enter", Backspace => "Backspace", Tab => "Tab",
    Minus => "-", Equal => "=", BracketLeft => "[", BracketRight => "]", Backslash => "\\",
    Semicolon => ";", Quote => "'", Backquote => "`", Comma => ",", Period => ".", Slash => "/",
    IntlBackslash => "< (ISO)",
    F1 => "F1", F2 => "F2", F3 => "F3", F4 => "F4", F5 => "F5", F6 => "F6",
    F7 => "F7", F8 => "F8", F9 => "F9", F10 => "F10", F11 => "F11", F12 => "F12",
);

impl PhysicalKey {
    /// The label of the key on a French AZERTY board (letters and the few keys that move;
    /// digits are shown as digits, as the console reads them without Shift).
    pub fn azerty_label(self) -> &'static str {
        match self {
            Self::KeyQ => "A",
            Self::KeyW => "Z",
            Self::KeyA => "Q",
            Self::KeyZ => "W",
            Self::Semicolon => "M",
            Self::KeyM => ",",
            Self::Comma => ";",
            Self::Period => ":",
            Self::Slash => "!",
            other => other.qwerty_label(),
        }
    }
}

impl fmt::Display for PhysicalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// Keys the director console keeps for itself; a grid may not bind them.
///
/// `Space` is GO and `Escape` stop-all (QLab conventions); the digits select a participant;
/// `Backspace` undoes the last code; `Enter` opens a free note; `F1` shows the shortcuts.
pub const RESERVED_KEYS: &[(PhysicalKey, &str)] = &[
    (PhysicalKey::Space, "GO"),
    (PhysicalKey::Escape, "tout arrêter"),
    (PhysicalKey::Digit0, "participant·e 10"),
    (PhysicalKey::Digit1, "participant·e 1"),
    (PhysicalKey::Digit2, "participant·e 2"),
    (PhysicalKey::Digit3, "participant·e 3"),
    (PhysicalKey::Digit4, "participant·e 4"),
    (PhysicalKey::Digit5, "participant·e 5"),
    (PhysicalKey::Digit6, "participant·e 6"),
    (PhysicalKey::Digit7, "participant·e 7"),
    (PhysicalKey::Digit8, "participant·e 8"),
    (PhysicalKey::Digit9, "participant·e 9"),
    (PhysicalKey::Backquote, "le groupe (note de groupe)"),
    (PhysicalKey::Backspace, "annuler le dernier codage"),
    (PhysicalKey::Enter, "note libre"),
    (PhysicalKey::F1, "aide"),
];

/// What the console does with `key`, if it keeps it for itself.
pub fn reserved_use(key: PhysicalKey) -> Option<&'static str> {
    RESERVED_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, what)| *what)
}
