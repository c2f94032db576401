//! The cue list (conduite) of a scenario, in QLab's terms: each cue waits in standby until GO
//! (or a trigger), runs after its pre-wait, and may continue to the next one.

use crate::ids::{CueId, PhaseId, PuzzleId, StationId};
use crate::text::{AssetPath, Text};
use serde::{Deserialize, Serialize};

/// A cue: an action fired on devices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cue {
    /// Unique within the scenario.
    pub id: CueId,
    /// The cue number shown in the console ("1", "2.5"), as in QLab.
    pub number: String,
    /// Short name shown in the cue list ("Vidéo d'intro").
    pub name: String,
    /// What the cue does.
    pub kind: CueKind,
    /// Devices the cue runs on. Required for every kind that acts on a device (video, sound,
    /// text, timer, scene change, hint display); empty for wait, group and memo.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// What fires the cue besides GO.
    #[serde(default)]
    pub trigger: Trigger,
    /// Seconds between GO and the action.
    #[serde(default)]
    pub pre_wait_s: f32,
    /// Seconds after the action before an auto-continue fires the next cue.
    #[serde(default)]
    pub post_wait_s: f32,
    /// What happens to the next cue.
    #[serde(default)]
    pub continue_mode: ContinueMode,
    /// Fade in, seconds (video, sound, text).
    #[serde(default)]
    pub fade_in_s: f32,
    /// Fade out, seconds (video, sound, text).
    #[serde(default)]
    pub fade_out_s: f32,
    /// Notes for the facilitator, shown with the cue in standby.
    #[serde(default)]
    pub notes: String,
}

/// What a cue does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum CueKind {
    /// Play a video: full screen on a room screen, on a screen in the world in a headset.
    Video {
        /// The file, under `assets/`.
        file: AssetPath,
        /// Loop until stopped.
        #[serde(default)]
        looped: bool,
        /// Where it plays in a headset (in front of the wearer unless an anchor is named).
        #[serde(default)]
        headset: HeadsetScreen,
    },
    /// Play a sound.
    Sound {
        /// The file, under `assets/`.
        file: AssetPath,
        /// Gain in dB (0 = as recorded; negative is quieter).
        #[serde(default)]
        volume_db: f32,
        /// Loop until stopped (ambiences).
        #[serde(default)]
        looped: bool,
    },
    /// Show (and read aloud) a text.
    Text {
        /// The text.
        text: Text,
        /// Seconds on screen; `None` until the next text cue.
        #[serde(default)]
        duration_s: Option<f32>,
    },
    /// Act on the game timer.
    Timer {
        /// What to do.
        action: TimerAction,
    },
    /// Move the scenario to a phase (the stations change what they show).
    SceneChange {
        /// The phase that starts.
        phase: PhaseId,
    },
    /// Show a hint of a puzzle's ladder.
    HintDisplay {
        /// The puzzle.
        puzzle: PuzzleId,
        /// The rung, from 1 (nudge).
        level: u8,
    },
    /// Wait, doing nothing (between auto-continued cues).
    Wait {
        /// Seconds.
        duration_s: f32,
    },
    /// Fire several cues at once.
    Group {
        /// The cues of the group, fired together.
        cues: Vec<CueId>,
    },
    /// A note in the cue list for the facilitator ("Vérifier que la porte est fermée").
    Memo,
}

/// Where a video cue plays in a headset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum HeadsetScreen {
    /// On a screen 2.2 m in front of the wearer, where the seat faces (it follows the seat's
    /// turns).
    #[default]
    InFront,
    /// On a screen at this anchor of the scene the headset shows (a wall, a machine's panel),
    /// turned towards the wearer: one of the scenes of the scenario's headset-guided puzzles.
    Anchor(crate::ids::AnchorId),
}

/// What a timer cue does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum TimerAction {
    /// Start the countdown at the scenario's duration.
    Start,
    /// Pause it.
    Pause,
    /// Resume it.
    Resume,
    /// Add (or, negative, remove) seconds.
    Adjust {
        /// Seconds to add.
        seconds: i32,
    },
}

/// Where a cue runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Target {
    /// Every device of a role.
    Role(DeviceRole),
    /// One station of the scenario.
    Station(StationId),
}

/// The role a device plays in the room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DeviceRole {
    /// A VR headset.
    Headset,
    /// A room display (timer, hints, videos).
    Screen,
    /// A puzzle station (touch tablet or PC).
    Terminal,
}

impl DeviceRole {
    /// The French name shown to facilitators.
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Headset => "casque",
            Self::Screen => "écran de salle",
            Self::Terminal => "terminal",
        }
    }
}

/// What fires a cue besides GO.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Trigger {
    /// Only GO (or the previous cue's continue mode).
    #[default]
    Go,
    /// When the phase starts.
    PhaseStart(PhaseId),
    /// When the puzzle is solved.
    PuzzleSolved(PuzzleId),
    /// When every puzzle of the phase is solved (phases whose puzzles run in parallel).
    PhaseComplete(PhaseId),
    /// When this many seconds remain on the timer (countdown warnings).
    TimeRemaining(u32),
}

/// QLab's continue modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContinueMode {
    /// The next cue waits in standby for GO.
    #[default]
    DoNotContinue,
    /// The next cue fires after this cue's post-wait.
    AutoContinue,
    /// The next cue fires when this cue's action ends (video or sound played out).
    AutoFollow,
}

impl CueKind {
    /// Whether this kind acts on devices and so needs at least one target.
    pub fn needs_target(&self) -> bool {
        !matches!(self, Self::Wait { .. } | Self::Group { .. } | Self::Memo)
    }

    /// Whether a device of `role` plays this kind of cue: a terminal plays no video (a text,
    /// a hint and a sound it shows or plays, as the room screen and a headset do); a cue that
    /// acts on the game itself, or on nothing, is "played" everywhere.
    pub fn played_by(&self, role: DeviceRole) -> bool {
        !matches!(self, Self::Video { .. }) || role != DeviceRole::Terminal
    }

    /// The devices that play this kind of cue, for the validator's messages.
    pub fn players(&self) -> &'static str {
        match self {
            Self::Video { .. } => "the room screen or a headset",
            _ => "any device",
        }
    }

    /// The French name of the kind, for the console and summaries.
    pub fn label_fr(&self) -> &'static str {
        match self {
            Self::Video { .. } => "vidéo",
            Self::Sound { .. } => "son",
            Self::Text { .. } => "texte",
            Self::Timer { .. } => "minuteur",
            Self::SceneChange { .. } => "changement de phase",
            Self::HintDisplay { .. } => "indice",
            Self::Wait { .. } => "attente",
            Self::Group { .. } => "groupe",
            Self::Memo => "mémo",
        }
    }
}
