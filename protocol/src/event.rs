//! What devices report to the director: the events a client numbers `(device_id, seq)` and
//! keeps in its outbox until the director acknowledges them after commit.

use boussole_content::Answer;
use boussole_content::ids::{HotspotId, ImmersionId, PuzzleId, QuestionId, StationId, TaskId};
use serde::{Deserialize, Serialize};

boussole_content::id_type!(
    /// A device (headset, screen, terminal, console), as it names itself when paired.
    DeviceId,
    /// A participant, pseudonymous everywhere on the wire and in the log (`"P3"`).
    ParticipantId,
);

/// What a device reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DeviceEvent {
    /// An answer typed or chosen at a station.
    Answer {
        /// The puzzle.
        puzzle: PuzzleId,
        /// The station it came from.
        station: StationId,
        /// Who answered, when the station knows; else the participant assigned to the station.
        participant: Option<ParticipantId>,
        /// The answer.
        answer: Answer,
    },
    /// Someone pressed "indice" at a station.
    HintRequest {
        /// The puzzle.
        puzzle: PuzzleId,
        /// The station.
        station: StationId,
        /// Who asked, when known.
        participant: Option<ParticipantId>,
    },
    /// A cue was applied on the device at the device's time `device_ms` (ack).
    CueApplied {
        /// The cue instance (the cue instance the director sent).
        instance: u64,
        /// The device clock when it started, milliseconds.
        device_ms: u64,
    },
    /// A sound or video cue finished playing (drives auto-follow).
    CueFinished {
        /// The cue instance.
        instance: u64,
    },
    /// Device health.
    Health(Health),
    /// An immersion hotspot was selected.
    HotspotSeen {
        /// The immersion.
        immersion: ImmersionId,
        /// The hotspot.
        hotspot: HotspotId,
    },
    /// An immersion task was completed.
    TaskDone {
        /// The immersion.
        immersion: ImmersionId,
        /// The task.
        task: TaskId,
        /// Whether the answer was right.
        correct: bool,
    },
    /// An answer to a questionnaire, 1 to 5 or 1 to 4: the self-assessment at a terminal (a
    /// headset sends [`DeviceEvent::ImmersionRating`]; the director stamps a `Rating` from a
    /// headset with the immersion assigned to it).
    Rating {
        /// The question (`appeal` for an immersion's appeal question).
        question: QuestionId,
        /// Who answered.
        participant: ParticipantId,
        /// The rating.
        value: u8,
        /// A free comment, if any.
        comment: Option<String>,
    },
    /// A problem the device met and could not fix by itself (a sound or a video that does not
    /// decode, no audio output, no XR runtime), in French for the facilitator. It names files
    /// and devices, never a person.
    Problem {
        /// What went wrong, e.g. `son assets/x.ogg corrompu ou dans un format inconnu : …`.
        what: String,
    },
    /// An answer to an immersion's end questionnaire in the headset, naming the immersion it
    /// is about: the tutorial's questionnaire is not the assigned immersion's, though both run
    /// in the same assignment (appended last: older logs keep their encoding).
    ImmersionRating {
        /// The immersion asked about.
        immersion: ImmersionId,
        /// The question (`appeal`, or one of its stress questions).
        question: QuestionId,
        /// Who answered.
        participant: ParticipantId,
        /// The rating, 1 to 5.
        value: u8,
    },
    /// A headset showed its wearer a headset-guided puzzle's view, in the puzzle's scene and
    /// read aloud: from then on the wearer has what they must describe to the others. Sent
    /// once per puzzle and headset, when the view first shows (appended last: older logs keep
    /// their encoding).
    HeadsetViewSeen {
        /// The puzzle.
        puzzle: PuzzleId,
        /// The headset's station (the puzzle's `headset_station`).
        station: StationId,
    },
    /// A video, sound or text cue started showing or sounding on the device, `late_ms` after
    /// its scheduled start mapped to the device's clock (0: on time; also 0 when the device's
    /// clock was not yet synchronised, when it starts on arrival). What the console's
    /// delivery view shows per device. Appended last: older logs keep their encoding.
    CueStarted {
        /// The cue instance.
        instance: u64,
        /// How late, milliseconds.
        late_ms: u32,
    },
}

/// What a device says of itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Battery, percent, where known.
    pub battery_percent: Option<u8>,
    /// Whether an audio output works.
    pub audio_ok: bool,
    /// Whether XR fell back to a flat window (headsets).
    pub xr_flat_fallback: bool,
    /// Round-trip time measured by the protocol, milliseconds.
    pub rtt_ms: Option<u32>,
    /// Whether the device has the director's content.
    pub content_in_sync: bool,
}
