//! The messages devices and the director exchange, their postcard encoding, and the framing that
//! carries them over a byte stream: a `u32` big-endian length, then that many bytes of postcard.
//!
//! Postcard encodes an enum variant by its index, so variants and fields are append-only: a new
//! variant goes at the end and an incompatible change bumps [`PROTOCOL_VERSION`].

use crate::event::{DeviceEvent, DeviceId, ParticipantId};
use crate::pairing::{PairingClientStep, PairingServerStep};
use boussole_content::ids::{CueId, EndingId, ImmersionId, PhaseId, PuzzleId, StationId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version a [`Hello`] or a pairing request announces; the director refuses any
/// other with [`Refusal::VersionMismatch`] and lists the device on its consoles
/// ([`RoomStatus::outdated`]), so the facilitator knows which device to update.
///
/// One step per round of work: version 3 is the round of the one device session (per-file
/// content, the pairing window, the room's outdated devices); version 4 the director of the
/// day (sessions hosted one after another: [`ClientMsg::Desk`], [`ServerMsg::Desk`]); version
/// 5 every station of the games (a headset-guided puzzle's view seen, each device's sound
/// settings: [`ServerMsg::Sound`], and headsets paused: [`ServerMsg::Pause`]); version 6 the
/// spectator (a [`Pose`] datagram carries the pointer's ray and what the headset shows);
/// version 7 the room in step (a cue's start reported, `DeviceEvent::CueStarted`; the lead of
/// scheduled starts logged; acknowledgements in batches, [`ServerMsg::Acks`]).
/// Whatever else changes in a later message, a `Hello` and a pairing `Start` keep their first two fields (version, then
/// device), so [`announced_version`] can always name an outdated device.
pub const PROTOCOL_VERSION: u16 = 7;

/// The TLS application protocol (ALPN) both ends offer.
pub const ALPN: &[u8] = b"boussole/1";

/// The largest frame body, in bytes (1 MiB). A longer length prefix is refused before anything is
/// allocated ([`FrameError::TooLarge`]); content is sent in [`ServerMsg::ContentChunk`]s below it.
pub const MAX_FRAME: usize = 1024 * 1024;

/// Largest [`ClientMsg::FileRequest`] the director answers whole, bytes (256 KiB); a longer
/// one is answered with this many.
pub const MAX_FILE_CHUNK: u32 = 256 * 1024;

/// Size of the length prefix in front of every frame body, in bytes.
const PREFIX: usize = 4;

/// What a device is, as it says in its [`Hello`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// A VR headset (a participant's immersion or an escape-game seat).
    Headset,
    /// A room screen: timer, hints, video.
    Screen,
    /// A puzzle station (tablet, keypad).
    Terminal,
    /// A facilitator's console.
    Console {
        /// `true` for a read-only console (a second facilitator watching); its commands are
        /// refused by the director.
        observer: bool,
    },
    /// A paired device that waits for the facilitator to give it a role from the console
    /// (a device started with nothing but the pairing code). It holds no content, plays
    /// nothing, and takes its role from [`ServerMsg::Placement`]. Appended in protocol
    /// version 4.
    Unassigned,
}

/// The secret a device received at pairing and presents in every [`Hello`]; 32 random bytes.
///
/// `Debug` never prints it and equality is checked in constant time. The director stores only a
/// SHA-256 of it ([`crate::pairing::MemoryRegistry`]).
#[derive(Clone, Serialize, Deserialize)]
pub struct DeviceToken([u8; 32]);

impl DeviceToken {
    /// A fresh token from the operating system's random generator.
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// A token read back from the device's storage.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes, to store on the device (keep them private: they let a device join).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceToken(<redacted>)")
    }
}

impl PartialEq for DeviceToken {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for DeviceToken {}

/// Compares two equal-length byte strings without an early exit, so the time taken does not
/// tell how many leading bytes matched.
pub(crate) fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The first frame of every session connection, from the device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the device's build.
    pub protocol_version: u16,
    /// The device, as it was named at pairing.
    pub device: DeviceId,
    /// What the device is.
    pub role: Role,
    /// The manifest hash of the content the device holds for its role
    /// ([`crate::manifest::Manifest::hash`]; all zeros when it has none). A mismatch is not
    /// refused: the director welcomes the device and tells it to sync.
    pub content_hash: [u8; 32],
    /// The token received at pairing; `None` is refused with [`Refusal::BadToken`].
    pub token: Option<DeviceToken>,
}

/// A frame from a device to the director.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// Opens a session connection; only as the first frame.
    Hello(Hello),
    /// A numbered device event. `seq` increases by one per event of this device, across
    /// reconnections; the director answers [`ServerMsg::Ack`] once it is committed, and a resend
    /// with the same `(device, seq)` is idempotent.
    Event {
        /// The event's number for this device.
        seq: u64,
        /// The event.
        event: DeviceEvent,
    },
    /// Clock synchronisation request; the transport answers [`ServerMsg::ClockPong`] itself.
    ClockPing {
        /// The device's clock when it sent the ping, milliseconds.
        t0_ms: u64,
    },
    /// Retired in protocol version 3 (content comes by file: [`ClientMsg::FileRequest`]); kept
    /// so that the variants after it keep their indices. The director answers it with a
    /// notice. It asked for a whole content archive from byte `offset` on.
    ContentRequest {
        /// SHA-256 of the archive.
        hash: [u8; 32],
        /// First byte wanted (resumes an interrupted download).
        offset: u64,
    },
    /// A facilitator command from a console, postcard-encoded; the director decodes it (the
    /// protocol crate does not know the director's command type).
    Command(Vec<u8>),
    /// The device leaves on purpose; the director reports it as a disconnection with reason
    /// `"bye"`.
    Bye,
    /// A pairing step ([`crate::pairing`]); the first one only as the first frame of a pairing
    /// connection.
    Pairing(PairingClientStep),
    /// A read-write console: keep a participant's civil name in the director's protected table
    /// (never in the session log), or erase it with `None`. Observers' are refused.
    ParticipantName {
        /// The participant's pseudonymous id (`"P3"`).
        participant: String,
        /// The name as typed, or `None` to erase it.
        name: Option<PersonalName>,
    },
    /// A read-write console: several facilitator commands, each postcard-encoded like
    /// [`ClientMsg::Command`], committed together in one transaction and handled in order (an
    /// enrolment and the person who takes the slot). Observers' are refused.
    Commands(Vec<Vec<u8>>),
    /// A read-write console: a request on the person register (create, change, merge...),
    /// postcard-encoded by the director's crate. The director answers with a
    /// [`ServerMsg::Notice`] and a fresh [`ServerMsg::Register`]. Observers' are refused.
    Register(Vec<u8>),
    /// A read-write console: opens pairing for ten minutes with a fresh random code
    /// (`open: true`, [`crate::pairing::PairingState::open`]) or closes it now. The director
    /// answers with a [`ServerMsg::Room`] that shows the window. Observers' are refused.
    /// Appended after protocol version 2.
    PairingWindow {
        /// Open (`true`) or close (`false`).
        open: bool,
    },
    /// Content by file: asks for the manifest of the device's role; the director answers
    /// [`ServerMsg::Manifest`] (appended last: older frames keep their encoding).
    ManifestRequest,
    /// Content by file: asks for `len` bytes (at most [`MAX_FILE_CHUNK`]) of the file whose
    /// SHA-256 is `hash`, from byte `offset`; the director answers [`ServerMsg::FileChunk`],
    /// or [`ServerMsg::FileUnavailable`] when it holds no such file.
    FileRequest {
        /// SHA-256 of the file's bytes (a manifest's `FileEntry::hash`).
        hash: [u8; 32],
        /// First byte wanted.
        offset: u64,
        /// Bytes wanted.
        len: u32,
    },
    /// A read-write console: a request to the director of the day (host a session, name a
    /// device, give it a station…), postcard-encoded by the director's crate
    /// (`boussole_director::desk::DeskRequest`). The director answers with a
    /// [`ServerMsg::Notice`] when it refuses, and a fresh [`ServerMsg::Desk`]. Observers' are
    /// refused. Appended in protocol version 4.
    Desk(Vec<u8>),
    /// A read-write console: asks for a person's synthesis (its document model) or records
    /// the person's answer on a version, postcard-encoded by the director's crate
    /// (`boussole_director::synthesis::SynthesisAsk`). The director answers this console only
    /// with a [`ServerMsg::Synthesis`] (or a [`ServerMsg::Notice`]), and logs the access.
    /// Observers' are refused.
    /// Appended after protocol version 5 (consoles only: devices never send it).
    Synthesis(Vec<u8>),
}

/// A participant's civil name on its way to the protected table. `Debug` never prints it, so a
/// message logged by mistake leaks no name (DESIGN principle 6).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalName(pub String);

impl fmt::Debug for PersonalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalName(<masqué>)")
    }
}

/// What the director sends a device whose session was restored, so it can resync (principle 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The scenario or immersion being played (its content id).
    pub scenario: String,
    /// The current phase, if the scenario has phases and one is running.
    pub phase: Option<PhaseId>,
    /// Whether the countdown is running.
    pub timer_running: bool,
    /// Time left on the countdown when the snapshot was taken, milliseconds; negative once it has
    /// run out.
    pub remaining_ms: i64,
    /// The director's session clock when the snapshot was taken, milliseconds (the same clock as
    /// [`ServerMsg::ClockPong`] and [`ServerMsg::Cue::start_at_ms`]).
    pub at_ms: u64,
    /// Puzzles open now.
    pub open: Vec<PuzzleId>,
    /// Puzzles solved so far.
    pub solved: Vec<PuzzleId>,
    /// The ending reached, once the scenario is over.
    pub ended: Option<EndingId>,
}

/// A frame from the director to a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// The answer to an accepted [`Hello`].
    Welcome {
        /// The director's display name.
        director_name: String,
        /// The session running, if any.
        session: Option<String>,
        /// The director's session clock when it welcomed the device, milliseconds.
        clock_ms: u64,
    },
    /// The director refuses or ends the connection and says why; every refusal but
    /// [`Refusal::ContentMismatch`] is followed by the connection closing.
    Refused(Refusal),
    /// The event `seq` of this device is committed to the log; the device may drop it from its
    /// outbox.
    Ack {
        /// The acknowledged event number.
        seq: u64,
    },
    /// Fire a cue.
    Cue {
        /// This firing of the cue; the device acknowledges it with `DeviceEvent::CueApplied`.
        instance: u64,
        /// The cue in the scenario's cue list.
        cue: CueId,
        /// When to start it, on the director's session clock, milliseconds (the device converts
        /// with its clock offset).
        start_at_ms: u64,
    },
    /// Stop every running cue at once (panic button).
    StopAll,
    /// Show a hint.
    Hint {
        /// The puzzle.
        puzzle: PuzzleId,
        /// Hint level, 1 for the first (gentlest) hint.
        level: u8,
    },
    /// The session state to resync from.
    Snapshot(Snapshot),
    /// The answer to [`ClientMsg::ClockPing`] (NTP-style: offset = ((t1 - t0) + (t2 - t3)) / 2).
    ClockPong {
        /// The ping's `t0_ms`, echoed.
        t0_ms: u64,
        /// The director's session clock when the ping arrived, milliseconds.
        t1_ms: u64,
        /// The director's session clock when the pong was written, milliseconds.
        t2_ms: u64,
    },
    /// Retired in protocol version 3 (content comes by file: [`ServerMsg::FileChunk`]); kept
    /// so that the variants after it keep their indices, never sent. It carried a piece of a
    /// whole content archive.
    ContentChunk {
        /// SHA-256 of the whole archive.
        hash: [u8; 32],
        /// Position of `bytes` in the archive.
        offset: u64,
        /// Size of the whole archive, bytes.
        total: u64,
        /// The bytes (keep each chunk well below [`MAX_FRAME`]).
        bytes: Vec<u8>,
    },
    /// A line for the device's operator (logged, possibly shown).
    Notice(String),
    /// A pairing step ([`crate::pairing`]).
    Pairing(PairingServerStep),
    /// Consoles only: records of the session log, in order. On each connection a console gets
    /// the whole log from record 1 (in several messages when long), then every new record as it
    /// is committed, so it folds the same state as the director.
    Log(Vec<LogEntry>),
    /// Consoles only, about once a second: what the room looks like beyond the log.
    Room(RoomStatus),
    /// Headsets only: the immersion this headset runs, sent when the facilitator starts or
    /// stops it and again on each connection while it runs (appended last: older frames keep
    /// their encoding).
    Immersion {
        /// The immersion (its content id); `None`: stopped, show the calm room.
        immersion: Option<ImmersionId>,
        /// Who wears the headset (for the questionnaire's ratings), when started.
        participant: Option<ParticipantId>,
        /// When the director started it, session ms (`None` when stopped): a 360° video plays
        /// at `now - started_at_ms` on the director's clock, so headsets started together
        /// (`Command::StartImmersions`) show the same frame, and one that reconnects or joins
        /// late seeks to where the others are. Added in protocol version 2.
        started_at_ms: Option<u64>,
        /// Whether the wearer already finished a tutorial in this session (on any headset:
        /// the director saw their answers to its questionnaire), so this headset does not run
        /// it again. Added in protocol version 2.
        tutorial_done: bool,
    },
    /// Read-write consoles only: the person register as the console shows it (pseudonyms,
    /// never civil names), postcard-encoded by the director's crate; sent on connection and
    /// after every change.
    Register(Vec<u8>),
    /// Content by file: the manifest of the device's role, in answer to
    /// [`ClientMsg::ManifestRequest`]; its hash is the one the device then presents.
    Manifest(crate::manifest::Manifest),
    /// Content by file: bytes of one file, in answer to [`ClientMsg::FileRequest`].
    FileChunk {
        /// SHA-256 of the whole file.
        hash: [u8; 32],
        /// Position of `bytes` in the file.
        offset: u64,
        /// The bytes (as many as asked, fewer only at the end of the file).
        bytes: Vec<u8>,
    },
    /// Content by file: the director holds no file with this hash (its content changed since
    /// the device got its manifest): ask for the manifest again.
    FileUnavailable {
        /// The hash asked for.
        hash: [u8; 32],
    },
    /// Consoles: the director of the day's desk (the hosted session, today's planned sessions,
    /// interrupted and past sessions, the activities it can host, the devices' names and
    /// stations), postcard-encoded by the director's crate (`boussole_director::desk::DeskView`);
    /// sent on connection and after every change, **before** the snapshot and log of a session
    /// newly hosted (the console starts a fresh copy of the log when the session changes).
    /// Appended in protocol version 4.
    Desk(Vec<u8>),
    /// Devices only: the role and the station the facilitator gave this device (kept by the
    /// director from one day to the next), sent after every welcome and whenever the console
    /// changes either. A device whose `Hello` said another role takes this one (the game
    /// restarts in it); a terminal shows the puzzles of `station`. Appended in protocol
    /// version 4.
    Placement {
        /// The role to play.
        role: Role,
        /// The station in the hosted session's room, if any.
        station: Option<StationId>,
    },
    /// Devices only: how this device plays sound, as the facilitator set it in the console
    /// (kept by the director from one day to the next), sent after every welcome and whenever
    /// it changes. Appended in protocol version 5.
    Sound(SoundSettings),
    /// Headsets only: the facilitator paused (`true`) or resumed (`false`) this headset. A
    /// paused headset fades to a resting view and holds its immersion where it is: its own
    /// clock, its stimuli, its film. On resume the director sends [`ServerMsg::Immersion`]
    /// again with `started_at_ms` moved on by the pause, so that a 360° film resumes where it
    /// paused and headsets resumed together stay in step. Sent again on each connection while
    /// paused. Appended in protocol version 5.
    Pause {
        /// Paused now.
        paused: bool,
    },
    /// Read-write consoles only: the answer to this console's [`ClientMsg::Synthesis`] (the
    /// document model or why there is none), postcard-encoded by the director's crate
    /// (`boussole_director::synthesis::SynthesisReply`); the console lays it out itself.
    /// Appended after protocol version 5.
    Synthesis(Vec<u8>),
    /// Read-write consoles only: what the director of the day answers this console's
    /// [`ClientMsg::Desk`] with beyond a notice (a past session followed for review and what
    /// is appended to its log, the access log, the funders' figures, a purge's preview),
    /// postcard-encoded by the director's crate (`boussole_director::desk::DeskAnswer`).
    /// Appended after protocol version 5.
    DeskAnswer(Vec<u8>),
    /// Read-write consoles only: the latest head pose of each headset that sent one (at most
    /// twenty times a second, only when one moved), for the spectator panel; never logged.
    /// Appended after protocol version 5.
    Poses(HeadsetPoses),
    /// Several events of this device committed to the log together (a group commit): as one
    /// [`ServerMsg::Ack`] each, in one message. At most [`MAX_ACKS`] numbers. Appended after
    /// protocol version 6.
    Acks {
        /// The acknowledged event numbers, in commit order.
        seqs: Vec<u64>,
    },
}

/// The most event numbers one [`ServerMsg::Acks`] carries (the director's largest group
/// commit, 256, in one message of about 2.5 kB at worst).
pub const MAX_ACKS: usize = 256;

/// The headsets' latest poses, as the director forwards them to the facilitator's consoles.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeadsetPoses {
    /// One per headset that sent a pose on its current connection, by device id.
    pub poses: Vec<HeadsetPose>,
    /// Pose datagrams ignored since the director started: from a connection that is not a
    /// paired headset, older than the last one kept (out of order), or not a plausible pose.
    pub ignored: u64,
}

/// One headset's latest pose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadsetPose {
    /// The headset.
    pub device: DeviceId,
    /// Its pose.
    pub pose: Pose,
    /// When the director received it, on its session clock, ms.
    pub received_ms: u64,
}

/// How a device plays sound: the facilitator's settings for it, from the console's devices
/// screen ([`ServerMsg::Sound`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoundSettings {
    /// The volume of everything the device plays, percent of the authored level (0 to 100;
    /// more is read as 100).
    pub volume_percent: u8,
    /// Nothing plays: the facilitator's mute for this device.
    pub muted: bool,
    /// Texts are read aloud when they appear: a room screen's text and hint cues, a
    /// terminal's prompts and questions. A participant's « Écouter » reads a text whatever
    /// this says. The director sends `false` to every device while the room's voices are cut
    /// in the console.
    pub read_aloud: bool,
}

impl SoundSettings {
    /// A device's settings until the facilitator changes them: full volume, not muted; a
    /// room screen reads its texts aloud, a terminal does not (six terminals must not talk
    /// over each other, DESIGN: voices), a headset always reads its own panels.
    pub fn default_for(role: Role) -> Self {
        Self {
            volume_percent: 100,
            muted: false,
            read_aloud: matches!(role, Role::Screen | Role::Headset),
        }
    }

    /// The gain these settings add to a sound, dB: `None` when nothing must be heard (muted,
    /// or no volume).
    pub fn gain_db(&self) -> Option<f32> {
        let percent = self.volume_percent.min(100);
        if self.muted || percent == 0 {
            return None;
        }
        Some(20.0 * (f32::from(percent) / 100.0).log10())
    }
}

/// One record of the session log, as the director committed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its position in the session log, from 1.
    pub seq: u64,
    /// Session time of the input, ms.
    pub at_ms: u64,
    /// The engine input, postcard-encoded (the protocol crate does not know the director's
    /// input type).
    pub input: Vec<u8>,
}

/// What a console needs to know about the room that is not in the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomStatus {
    /// The pairing code new devices type in, while pairing is open (six digits).
    pub pairing_code: Option<String>,
    /// Each connected device's link.
    pub links: Vec<LinkStatus>,
    /// While pairing is open, how long it stays open, seconds (at most 600, rounded up).
    /// Appended after protocol version 2.
    pub pairing_open_s: Option<u64>,
    /// While pairing is locked after too many wrong codes, how long it stays locked, seconds
    /// (rounded up). Appended after protocol version 2.
    pub pairing_locked_s: Option<u64>,
    /// Devices refused since the director started because they speak another protocol
    /// version, until they connect with the right one.
    pub outdated: Vec<OutdatedDevice>,
}

/// A device the director refused for its protocol version: a build to update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutdatedDevice {
    /// The device, as it named itself.
    pub device: DeviceId,
    /// The version it announced ([`PROTOCOL_VERSION`] is the director's).
    pub version: u16,
    /// Where it connected from.
    pub addr: String,
}

/// The version and the device a first frame announces — a [`ClientMsg::Hello`] or a pairing
/// `Start` — read from its first fields only, so that it works on a frame of any protocol
/// version, even one whose later fields this build cannot decode. `None` for anything else.
pub fn announced_version(body: &[u8]) -> Option<(u16, DeviceId)> {
    /// The leading fields both first frames share, after their variant indices.
    #[derive(Deserialize)]
    struct Lead {
        version: u16,
        device: DeviceId,
    }
    let (variant, rest) = postcard::take_from_bytes::<u32>(body).ok()?;
    let rest = match variant {
        // ClientMsg::Hello(Hello { protocol_version, device, .. })
        0 => rest,
        // ClientMsg::Pairing(PairingClientStep::Start { protocol_version, device, .. })
        6 => {
            let (step, rest) = postcard::take_from_bytes::<u32>(rest).ok()?;
            (step == 0).then_some(rest)?
        }
        _ => return None,
    };
    let (lead, _) = postcard::take_from_bytes::<Lead>(rest).ok()?;
    Some((lead.version, lead.device))
}

/// One connected device's link, as the director measures it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStatus {
    /// The device.
    pub device: DeviceId,
    /// What it said it is.
    pub role: Role,
    /// QUIC's smoothed round-trip estimate, ms.
    pub rtt_ms: Option<u32>,
    /// Where it connects from.
    pub addr: String,
}

/// Why the director refuses a connection or a frame. `Display` gives French, then English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    /// The device speaks another protocol version: update the device or the director.
    #[error(
        "version de protocole incompatible (régie {ours}, appareil {theirs}) / protocol version \
         mismatch (director {ours}, device {theirs})"
    )]
    VersionMismatch {
        /// The director's [`PROTOCOL_VERSION`].
        ours: u16,
        /// The device's.
        theirs: u16,
    },
    /// The director has never paired this device (or forgot it): pair it again with the code
    /// the director shows.
    #[error(
        "appareil inconnu de la régie : saisissez le code d'appairage affiché sur la régie / \
         unknown device: type the pairing code the director shows"
    )]
    UnknownDevice,
    /// The device is known but its token is missing or wrong: pair it again with the code the
    /// director shows.
    #[error(
        "jeton d'appareil absent ou invalide : saisissez le code d'appairage affiché sur la \
         régie / missing or invalid device token: type the pairing code the director shows"
    )]
    BadToken,
    /// The pairing code typed on the device was wrong (or someone interfered with the
    /// connection).
    #[error("code d'appairage erroné / wrong pairing code")]
    WrongPairingCode,
    /// Too many wrong codes: pairing is locked for a while.
    #[error(
        "trop d'essais, appairage bloqué {retry_after_s} s / too many attempts, pairing locked \
         for {retry_after_s} s"
    )]
    PairingLocked {
        /// Seconds until pairing opens again.
        retry_after_s: u64,
    },
    /// Informational, the connection stays open: the device's content differs from the
    /// director's and it should sync. Sent just before [`ServerMsg::Welcome`].
    #[error(
        "contenu différent de celui de la régie, synchronisation nécessaire / content differs \
         from the director's, sync needed"
    )]
    ContentMismatch,
    /// A frame could not be decoded or came out of order.
    #[error("message illisible ({0}) / malformed message ({0})")]
    Malformed(String),
    /// A frame's announced length exceeds the limit.
    #[error(
        "message trop long ({size} octets, maximum {max}) / frame too large ({size} bytes, \
         maximum {max})"
    )]
    FrameTooLarge {
        /// The announced length, bytes.
        size: u64,
        /// The limit, bytes ([`MAX_FRAME`]).
        max: u64,
    },
    /// Pairing is closed: the facilitator opens it from the console, for ten minutes
    /// ([`crate::pairing::PairingState::open`]). Appended after protocol version 2.
    #[error(
        "l'appairage est fermé : demandez à l'animateur de l'ouvrir sur la régie / pairing is \
         closed: ask the facilitator to open it at the director"
    )]
    PairingClosed,
    /// Too many pairing attempts at once ([`crate::pairing::MAX_IN_FLIGHT`]), or no reply
    /// slot freed in time: try again in a moment. Appended after protocol version 2.
    #[error(
        "trop d'appairages en cours, réessayez dans un instant / too many pairings under way, \
         try again in a moment"
    )]
    PairingBusy,
}

/// Why a frame could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix (or the encoded message, when writing) exceeds the limit; nothing was
    /// allocated for it.
    #[error("frame of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The length, bytes.
        size: usize,
        /// The limit, bytes.
        max: usize,
    },
    /// The body is not a valid postcard message of the expected type, or has bytes left over.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame ({got} of {expected} bytes)")]
    Truncated {
        /// Bytes of the frame (prefix included) received.
        got: usize,
        /// Bytes the frame should have (prefix included; 4 while the prefix is incomplete).
        expected: usize,
    },
    /// The message could not be encoded.
    #[error("encoding a frame: {0}")]
    Encode(#[source] postcard::Error),
    /// The underlying stream failed.
    #[error("frame i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl FrameError {
    /// The refusal the director sends for this error, when the peer is at fault
    /// ([`FrameError::TooLarge`], [`FrameError::Malformed`]); `None` for i/o and local errors.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Self::TooLarge { size, max } => Some(Refusal::FrameTooLarge {
                size: *size as u64,
                max: *max as u64,
            }),
            Self::Malformed(why) => Some(Refusal::Malformed(why.clone())),
            Self::Truncated { .. } | Self::Encode(_) | Self::Io(_) => None,
        }
    }
}

/// Encodes `msg` as one frame: 4-byte big-endian body length, then the postcard body.
///
/// # Errors
/// [`FrameError::Encode`] if serde fails, [`FrameError::TooLarge`] if the body exceeds
/// [`MAX_FRAME`].
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let mut out = vec![0u8; PREFIX];
    out = postcard::to_extend(msg, out).map_err(FrameError::Encode)?;
    let size = out.len() - PREFIX;
    if size > MAX_FRAME {
        return Err(FrameError::TooLarge {
            size,
            max: MAX_FRAME,
        });
    }
    let len = u32::try_from(size).map_err(|_| FrameError::TooLarge {
        size,
        max: MAX_FRAME,
    })?;
    out[..PREFIX].copy_from_slice(&len.to_be_bytes());
    Ok(out)
}

/// Decodes a frame body (without its prefix). The whole body must be one message: trailing
/// bytes are an error.
///
/// # Errors
/// [`FrameError::Malformed`] with postcard's reason.
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    let (msg, rest) =
        postcard::take_from_bytes::<T>(body).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Malformed(format!(
            "{} bytes after the message",
            rest.len()
        )));
    }
    Ok(msg)
}

/// Writes `msg` as one frame and flushes.
///
/// # Errors
/// As [`encode_frame`], plus [`FrameError::Io`]. Nothing is written when encoding fails.
pub async fn write_frame<W, T>(w: &mut W, msg: &T) -> Result<(), FrameError>
where
    W: AsyncWrite + Unpin,
    T: Serialize,
{
    let frame = encode_frame(msg)?;
    w.write_all(&frame).await?;
    w.flush().await?;
    Ok(())
}

/// Reads one frame of at most [`MAX_FRAME`] body bytes and decodes it.
///
/// Returns `Ok(None)` when the stream ends cleanly before a frame starts. Not cancel-safe (a
/// cancelled read loses the bytes already taken): use a [`FrameReader`] inside `select!`.
///
/// # Errors
/// [`FrameError::TooLarge`] as soon as the prefix announces too much (nothing allocated),
/// [`FrameError::Truncated`] if the stream ends inside a frame, [`FrameError::Malformed`],
/// [`FrameError::Io`].
pub async fn read_frame<R, T>(r: &mut R) -> Result<Option<T>, FrameError>
where
    R: AsyncRead + Unpin,
    T: DeserializeOwned,
{
    read_frame_limited(r, MAX_FRAME).await
}

/// [`read_frame`] with a body limit of `max` bytes.
///
/// # Errors
/// As [`read_frame`].
pub async fn read_frame_limited<R, T>(r: &mut R, max: usize) -> Result<Option<T>, FrameError>
where
    R: AsyncRead + Unpin,
    T: DeserializeOwned,
{
    let mut prefix = [0u8; PREFIX];
    let mut got = 0;
    while got < PREFIX {
        let n = r.read(&mut prefix[got..]).await?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(FrameError::Truncated {
                    got,
                    expected: PREFIX,
                })
            };
        }
        got += n;
    }
    let size = body_len(prefix, max)?;
    let mut body = vec![0u8; size];
    let mut got = 0;
    while got < size {
        let n = r.read(&mut body[got..]).await?;
        if n == 0 {
            return Err(FrameError::Truncated {
                got: PREFIX + got,
                expected: PREFIX + size,
            });
        }
        got += n;
    }
    decode_body(&body).map(Some)
}

fn body_len(prefix: [u8; PREFIX], max: usize) -> Result<usize, FrameError> {
    let size = usize::try_from(u32::from_be_bytes(prefix)).unwrap_or(usize::MAX);
    if size > max {
        return Err(FrameError::TooLarge { size, max });
    }
    Ok(size)
}

/// A cancel-safe frame reader: bytes read so far are kept between calls, so
/// [`FrameReader::read`] can sit in a `tokio::select!` branch.
#[derive(Debug)]
pub struct FrameReader {
    buf: Vec<u8>,
    max: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new(MAX_FRAME)
    }
}

impl FrameReader {
    /// A reader that accepts bodies of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max,
        }
    }

    /// Reads the next frame. `Ok(None)` when the stream ends cleanly between frames.
    ///
    /// # Errors
    /// As [`read_frame`]. After an error the stream is out of step: drop it.
    pub async fn read<R, T>(&mut self, r: &mut R) -> Result<Option<T>, FrameError>
    where
        R: AsyncRead + Unpin,
        T: DeserializeOwned,
    {
        let Some(size) = self.fill(r).await? else {
            return Ok(None);
        };
        let msg = decode_body(&self.buf[PREFIX..PREFIX + size])?;
        self.buf.drain(..PREFIX + size);
        Ok(Some(msg))
    }

    /// Reads the next frame's body, undecoded (to look at a first frame of any version with
    /// [`announced_version`] before decoding it). `Ok(None)` when the stream ends cleanly.
    ///
    /// # Errors
    /// As [`read_frame`], but never [`FrameError::Malformed`].
    pub async fn read_body<R>(&mut self, r: &mut R) -> Result<Option<Vec<u8>>, FrameError>
    where
        R: AsyncRead + Unpin,
    {
        let Some(size) = self.fill(r).await? else {
            return Ok(None);
        };
        let body = self.buf[PREFIX..PREFIX + size].to_vec();
        self.buf.drain(..PREFIX + size);
        Ok(Some(body))
    }

    /// Reads until a whole frame is at the front of the buffer; its body's size, or `None`
    /// when the stream ends cleanly between frames. Bytes read stay in the buffer, so a
    /// cancelled call loses nothing.
    async fn fill<R>(&mut self, r: &mut R) -> Result<Option<usize>, FrameError>
    where
        R: AsyncRead + Unpin,
    {
        loop {
            if let Some(prefix) = self.prefix() {
                let size = body_len(prefix, self.max)?;
                if self.buf.len() >= PREFIX + size {
                    return Ok(Some(size));
                }
            }
            let needed = self.needed()?;
            self.buf.reserve(needed.min(64 * 1024));
            let n = r.read_buf(&mut self.buf).await?;
            if n == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated {
                        got: self.buf.len(),
                        expected: self.buf.len() + needed,
                    })
                };
            }
        }
    }

    /// Bytes still missing for the frame at the front of the buffer.
    fn needed(&self) -> Result<usize, FrameError> {
        match self.prefix() {
            None => Ok(PREFIX - self.buf.len()),
            Some(prefix) => {
                let size = body_len(prefix, self.max)?;
                Ok((PREFIX + size).saturating_sub(self.buf.len()))
            }
        }
    }

    fn prefix(&self) -> Option<[u8; PREFIX]> {
        self.buf.get(..PREFIX)?.try_into().ok()
    }
}

/// A headset's head pose, sent about ten times a second on unreliable QUIC datagrams: a lost
/// one is simply replaced by the next, so poses never queue behind events or cues.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// The device clock when measured, milliseconds.
    pub device_ms: u64,
    /// Head position in the scene, metres (x, y, z; Y up).
    pub position_m: [f32; 3],
    /// Head orientation, a unit quaternion (x, y, z, w).
    pub orientation: [f32; 4],
    /// The pointer's ray (a controller's, a hand's, the mouse's in flat mode), in the same
    /// space; `None` while nothing points (controller lost, cursor outside the window).
    pub pointer: Option<PointerRay>,
    /// What the headset shows its wearer (`None`: an older build, or nothing known).
    pub shows: Option<Shows>,
}

/// What a headset shows its wearer, sent with its pose so that the facilitator's console can
/// say what each wearer is doing and reading without a log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shows {
    /// What the wearer is doing.
    pub doing: Doing,
    /// The words on the headset's board (the panel's title and question, or the caption of a
    /// hotspot), at most [`MAX_BOARD_CHARS`] characters; empty when the board is blank.
    pub board: String,
}

/// The longest board text a pose carries, characters: two lines of the console's panel.
pub const MAX_BOARD_CHARS: usize = 160;

/// What a headset's wearer is doing, as the headset knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Doing {
    /// No immersion: the calm room, waiting for the facilitator.
    Waiting,
    /// The introduction of an immersion (the tutorial's included).
    Introduction,
    /// Looking around the scene or the film, no task on the board.
    Exploring,
    /// Listening to a hotspot's narration.
    Hotspot,
    /// A task on the board.
    Task,
    /// The end questionnaire.
    Questionnaire,
    /// The break prompt is shown.
    Break,
    /// Paused, by the facilitator or because the headset's session stopped.
    Paused,
    /// Done: thanks, in the calm room.
    Finished,
    /// Stopped at once: the calm room.
    Stopped,
    /// A headset-guided puzzle of an escape game.
    Guided,
}

/// A pointing ray: where it starts and where it goes, in the scene's space.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointerRay {
    /// Its origin, metres (x, y, z; Y up).
    pub origin_m: [f32; 3],
    /// Its direction, a unit vector.
    pub direction: [f32; 3],
}

/// The largest datagram a pose may take, bytes: a pose, its pointer and a full board of
/// [`MAX_BOARD_CHARS`] characters of up to 2 UTF-8 bytes each, in postcard (under the
/// 1 200 bytes every QUIC path carries).
pub const MAX_POSE_DATAGRAM: usize = 448;

impl Pose {
    /// The datagram for this pose.
    pub fn to_datagram(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Reads a datagram; `None` when it is too large or not a pose (it is then dropped, like a
    /// lost one). The numbers are not judged here: [`Pose::is_plausible`] says whether a head
    /// could be there.
    pub fn from_datagram(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > MAX_POSE_DATAGRAM {
            return None;
        }
        postcard::from_bytes(bytes).ok()
    }

    /// Whether a head could be there: every number finite, the position within
    /// [`MAX_POSE_DISTANCE_M`] of the origin on each axis, the orientation a unit quaternion
    /// (norm within 0.9 to 1.1: what a float sensor sends); the pointer's origin as near and
    /// its direction a unit vector (same tolerance); the board's words within
    /// [`MAX_BOARD_CHARS`].
    pub fn is_plausible(&self) -> bool {
        let near = |p: &[f32; 3]| {
            p.iter()
                .all(|x| x.is_finite() && x.abs() <= MAX_POSE_DISTANCE_M)
        };
        let unit = |v: &[f32]| {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().all(|x| x.is_finite()) && (0.9..=1.1).contains(&norm)
        };
        near(&self.position_m)
            && unit(&self.orientation)
            && self
                .pointer
                .is_none_or(|ray| near(&ray.origin_m) && unit(&ray.direction))
            && self
                .shows
                .as_ref()
                .is_none_or(|s| s.board.chars().count() <= MAX_BOARD_CHARS)
    }
}

/// How far from a scene's origin a head may be, metres on each axis (scenes are rooms of a few
/// tens of metres; a thousand is absurd).
pub const MAX_POSE_DISTANCE_M: f32 = 1000.0;
