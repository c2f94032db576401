//! The keyboard: content's physical keys ↔ egui keys, the console's own shortcuts, and the key
//! presses of a frame read by physical position (so an AZERTY laptop codes like a QWERTY one).

use super::Screen;
use crate::i18n::{Locale, tr};
use boussole_content::grid::PhysicalKey;
use egui::{Event, Key, Modifiers, Ui};

/// The egui key at physical position `key` (egui names keys by their US QWERTY label).
pub fn to_egui(key: PhysicalKey) -> Key {
    use PhysicalKey as P;
    match key {
        P::KeyA => Key::A,
        P::KeyB => Key::B,
        P::KeyC => Key::C,
        P::KeyD => Key::D,
        P::KeyE => Key::E,
        P::KeyF => Key::F,
        P::KeyG => Key::G,
        P::KeyH => Key::H,
        P::KeyI => Key::I,
        P::KeyJ => Key::J,
        P::KeyK => Key::K,
        P::KeyL => Key::L,
        P::KeyM => Key::M,
        P::KeyN => Key::N,
        P::KeyO => Key::O,
        P::KeyP => Key::P,
        P::KeyQ => Key::Q,
        P::KeyR => Key::R,
        P::KeyS => Key::S,
        P::KeyT => Key::T,
        P::KeyU => Key::U,
        P::KeyV => Key::V,
        P::KeyW => Key::W,
        P::KeyX => Key::X,
        P::KeyY => Key::Y,
        P::KeyZ => Key::Z,
        P::Digit0 => Key::Num0,
        P::Digit1 => Key::Num1,
        P::Digit2 => Key::Num2,
        P::Digit3 => Key::Num3,
        P::Digit4 => Key::Num4,
        P::Digit5 => Key::Num5,
        P::Digit6 => Key::Num6,
        P::Digit7 => Key::Num7,
        P::Digit8 => Key::Num8,
        P::Digit9 => Key::Num9,
        P::Space => Key::Space,
        P::Escape => Key::Escape,
        P::Enter => Key::Enter,
        P::Backspace => Key::Backspace,
        P::Tab => Key::Tab,
        P::Minus => Key::Minus,
        P::Equal => Key::Equals,
        P::BracketLeft => Key::OpenBracket,
        P::BracketRight => Key::CloseBracket,
        P::Backslash => Key::Backslash,
        P::Semicolon => Key::Semicolon,
        P::Quote => Key::Quote,
        P::Backquote => Key::Backtick,
        P::Comma => Key::Comma,
        P::Period => Key::Period,
        P::Slash => Key::Slash,
        P::IntlBackslash => Key::IntlBackslash,
        P::F1 => Key::F1,
        P::F2 => Key::F2,
        P::F3 => Key::F3,
        P::F4 => Key::F4,
        P::F5 => Key::F5,
        P::F6 => Key::F6,
        P::F7 => Key::F7,
        P::F8 => Key::F8,
        P::F9 => Key::F9,
        P::F10 => Key::F10,
        P::F11 => Key::F11,
        P::F12 => Key::F12,
    }
}

/// Every physical key the content knows, in the order of [`PhysicalKey`].
pub const ALL_KEYS: &[PhysicalKey] = {
    use PhysicalKey as P;
    &[
        P::KeyA,
        P::KeyB,
        P::KeyC,
        P::KeyD,
        P::KeyE,
        P::KeyF,
        P::KeyG,
        P::KeyH,
        P::KeyI,
        P::KeyJ,
        P::KeyK,
        P::KeyL,
        P::KeyM,
        P::KeyN,
        P::KeyO,
        P::KeyP,
        P::KeyQ,
        P::KeyR,
        P::KeyS,
        P::KeyT,
        P::KeyU,
        P::KeyV,
        P::KeyW,
        P::KeyX,
        P::KeyY,
        P::KeyZ,
        P::Digit0,
        P::Digit1,
        P::Digit2,
        P::Digit3,
        P::Digit4,
        P::Digit5,
        P::Digit6,
        P::Digit7,
        P::Digit8,
        P::Digit9,
        P::Space,
        P::Escape,
        P::Enter,
        P::Backspace,
        P::Tab,
        P::Minus,
        P::Equal,
        P::BracketLeft,
        P::BracketRight,
        P::Backslash,
        P::Semicolon,
        P::Quote,
        P::Backquote,
        P::Comma,
        P::Period,
        P::Slash,
        P::IntlBackslash,
        P::F1,
        P::F2,
        P::F3,
        P::F4,
        P::F5,
        P::F6,
        P::F7,
        P::F8,
        P::F9,
        P::F10,
        P::F11,
        P::F12,
    ]
};

/// The content key at egui's physical key `key`, if the content names it.
pub fn from_egui(key: Key) -> Option<PhysicalKey> {
    ALL_KEYS.iter().copied().find(|k| to_egui(*k) == key)
}

/// The digit keys in participant order: 1 selects the first participant, ..., 0 the tenth.
pub const PARTICIPANT_KEYS: [PhysicalKey; 10] = [
    PhysicalKey::Digit1,
    PhysicalKey::Digit2,
    PhysicalKey::Digit3,
    PhysicalKey::Digit4,
    PhysicalKey::Digit5,
    PhysicalKey::Digit6,
    PhysicalKey::Digit7,
    PhysicalKey::Digit8,
    PhysicalKey::Digit9,
    PhysicalKey::Digit0,
];

/// A key label on both layouts: `"Q"` when they agree, `"Q / A"` (QWERTY / AZERTY) otherwise.
pub fn both_labels(key: PhysicalKey) -> String {
    let (us, fr) = (key.qwerty_label(), key.azerty_label());
    if us == fr {
        us.to_owned()
    } else {
        format!("{us} / {fr}")
    }
}

/// One key going down or up in a frame, by physical position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyPress {
    /// The key's physical position (egui's `physical_key`, or its logical key when the
    /// platform does not report one).
    pub key: PhysicalKey,
    /// Down (`true`) or up.
    pub pressed: bool,
    /// Ctrl, Alt, Shift... held with it.
    pub modifiers: Modifiers,
}

impl KeyPress {
    /// A bare key (no Ctrl, Alt, Shift or Command): what behaviour and participant keys need.
    pub fn bare(&self) -> bool {
        self.modifiers.is_none()
    }

    /// The key with Ctrl (or Command on a Mac) and nothing else but Shift.
    pub fn ctrl(&self) -> bool {
        self.modifiers.command && !self.modifiers.alt
    }
}

/// What a frame's keyboard says, read once per frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Keys {
    /// Key downs and ups, key repeats left out, in order.
    pub presses: Vec<KeyPress>,
    /// `?` was typed (the help overlay's second key, on any layout).
    pub question_mark: bool,
    /// egui's time of the frame, seconds (for hold-to-code).
    pub time: f64,
}

/// The frame's key presses; none while a text field has focus (the text goes to the field).
pub fn read(ui: &Ui) -> Keys {
    let time = ui.input(|i| i.time);
    if ui.ctx().text_edit_focused() {
        return Keys {
            time,
            ..Keys::default()
        };
    }
    ui.input(|i| {
        let mut keys = Keys {
            time,
            ..Keys::default()
        };
        for e in &i.events {
            match e {
                Event::Key {
                    key,
                    physical_key,
                    pressed,
                    repeat: false,
                    modifiers,
                } => {
                    if let Some(k) = from_egui(physical_key.unwrap_or(*key)) {
                        keys.presses.push(KeyPress {
                            key: k,
                            pressed: *pressed,
                            modifiers: *modifiers,
                        });
                    }
                }
                Event::Text(t) if t == "?" => keys.question_mark = true,
                _ => {}
            }
        }
        keys
    })
}

/// Removes the key events of `used` from the frame's input, so that a focused button does not
/// also take the Space or Enter the console used.
pub fn consume(ui: &Ui, used: &[PhysicalKey]) {
    if used.is_empty() {
        return;
    }
    ui.ctx().input_mut(|i| {
        i.events.retain(|e| match e {
            Event::Key {
                key, physical_key, ..
            } => !from_egui(physical_key.unwrap_or(*key)).is_some_and(|k| used.contains(&k)),
            _ => true,
        });
    });
}

/// The console's own shortcuts (the grid's behaviour and modifier keys come on top).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    /// Show or hide the help overlay (F1 or `?`).
    Help,
    /// Go to a screen (F2–F6, F11 for the register).
    Screen(Screen),
    /// GO: fire the cue in standby (Space, as in QLab).
    Go,
    /// Stop everything (Escape, as in QLab).
    StopAll,
    /// Start the game (F10).
    StartGame,
    /// Pause or resume the timer (F7).
    PauseResume,
    /// One minute less on the timer (F8).
    MinusMinute,
    /// One minute more on the timer (F9).
    PlusMinute,
    /// Send the next hint of the current puzzle (Ctrl+H).
    NextHint,
    /// Select a participant (digits 1–9, 0 for the tenth).
    SelectParticipant,
    /// Select the whole group, for a group note (the key left of 1: `` ` `` on QWERTY, `²` on
    /// AZERTY).
    SelectGroup,
    /// Undo this rater's last code (Backspace).
    Undo,
    /// Write a free note (Enter opens the field, Enter sends).
    Note,
    /// Switch the labels between French and English (F12).
    Locale,
}

impl Shortcut {
    /// Every shortcut, in the help overlay's order.
    pub const ALL: &[Shortcut] = &[
        Self::Help,
        Self::Screen(Screen::Prepare),
        Self::Screen(Screen::Run),
        Self::Screen(Screen::Devices),
        Self::Screen(Screen::Coding),
        Self::Screen(Screen::End),
        Self::Screen(Screen::People),
        Self::Go,
        Self::StopAll,
        Self::StartGame,
        Self::PauseResume,
        Self::MinusMinute,
        Self::PlusMinute,
        Self::NextHint,
        Self::SelectParticipant,
        Self::SelectGroup,
        Self::Undo,
        Self::Note,
        Self::Locale,
    ];

    /// The key, and whether Ctrl goes with it (none for participant selection: ten digits).
    pub fn key(self) -> Option<(PhysicalKey, bool)> {
        use PhysicalKey as P;
        Some(match self {
            Self::Help => (P::F1, false),
            Self::Screen(s) => (s.key()?, false),
            Self::Go => (P::Space, false),
            Self::StopAll => (P::Escape, false),
            Self::StartGame => (P::F10, false),
            Self::PauseResume => (P::F7, false),
            Self::MinusMinute => (P::F8, false),
            Self::PlusMinute => (P::F9, false),
            Self::NextHint => (P::KeyH, true),
            Self::SelectParticipant => return None,
            Self::SelectGroup => (P::Backquote, false),
            Self::Undo => (P::Backspace, false),
            Self::Note => (P::Enter, false),
            Self::Locale => (P::F12, false),
        })
    }

    /// Whether `press` (a key down) triggers this shortcut.
    pub fn matches(self, press: &KeyPress) -> bool {
        if !press.pressed {
            return false;
        }
        match self.key() {
            Some((k, true)) => press.key == k && press.ctrl(),
            Some((k, false)) => press.key == k && press.bare(),
            None => press.bare() && PARTICIPANT_KEYS.contains(&press.key),
        }
    }

    /// The shortcut a key down triggers, if any.
    pub fn of(press: &KeyPress) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.matches(press))
    }

    /// The keys as the help overlay and buttons show them (`"Espace"`, `"Ctrl+H"`).
    pub fn key_label(self, locale: Locale) -> String {
        match self {
            Self::Help => tr!(locale, "key-help"),
            Self::Go => tr!(locale, "key-space"),
            Self::StopAll => tr!(locale, "key-escape"),
            Self::SelectParticipant => "1…9, 0".to_owned(),
            Self::SelectGroup => both_labels(PhysicalKey::Backquote),
            Self::Undo => tr!(locale, "key-backspace"),
            Self::Note => tr!(locale, "key-enter"),
            Self::NextHint => "Ctrl+H".to_owned(),
            other => other
                .key()
                .map(|(k, _)| k.qwerty_label().to_owned())
                .unwrap_or_default(),
        }
    }

    /// What it does, in `locale`.
    pub fn describe(self, locale: Locale) -> String {
        match self {
            Self::Help => tr!(locale, "shortcut-help"),
            Self::Screen(s) => tr!(locale, "shortcut-screen", screen = s.title(locale)),
            Self::Go => tr!(locale, "shortcut-go"),
            Self::StopAll => tr!(locale, "shortcut-stop-all"),
            Self::StartGame => tr!(locale, "shortcut-start-game"),
            Self::PauseResume => tr!(locale, "shortcut-pause-resume"),
            Self::MinusMinute => tr!(locale, "shortcut-minus-minute"),
            Self::PlusMinute => tr!(locale, "shortcut-plus-minute"),
            Self::NextHint => tr!(locale, "shortcut-next-hint"),
            Self::SelectParticipant => tr!(locale, "shortcut-select"),
            Self::SelectGroup => tr!(locale, "shortcut-select-group"),
            Self::Undo => tr!(locale, "shortcut-undo"),
            Self::Note => tr!(locale, "shortcut-note"),
            Self::Locale => tr!(locale, "shortcut-locale"),
        }
    }
}
