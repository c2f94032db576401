//! The session engine, sans-IO: `handle(input, at) -> Vec<Effect>`. Time comes with every input
//! (session milliseconds, logged with it) and is never read from a clock here, so the state of
//! a session is a fold of its log: replaying the same inputs at the same times rebuilds it, with
//! every deadline (pre-wait, post-wait, timer) re-derived from the logged times.
//!
//! Before an input at time `t` is handled, every deadline up to `t` fires in time order
//! ([`Engine::advance`]); the shell calls `advance` on its own at [`Engine::next_deadline`].

mod cues;
mod observe;
mod play;

pub use cues::{CueWait, Delivery, WaitKind};
pub use observe::{Observation, ObservationAction, ObservationId};

use boussole_content::cue::{DeviceRole, Target};
use boussole_content::grid::ObservationGrid;
use boussole_content::ids::{
    BehaviourId, CompetencyId, CueId, EndingId, HotspotId, ImmersionId, ModifierId, PhaseId,
    PuzzleId, QuestionId, StationId, TaskId,
};
use boussole_content::scenario::Scenario;
pub use boussole_protocol::{DeviceEvent, DeviceId, Health, ParticipantId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Milliseconds of session time since the session was created, on the director's clock.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub u64);

impl Millis {
    /// `self + s` seconds (negative and non-finite seconds count as zero).
    pub fn plus_secs(self, s: f32) -> Self {
        let ms = if s.is_finite() && s > 0.0 {
            (f64::from(s) * 1000.0).round() as u64
        } else {
            0
        };
        Self(self.0.saturating_add(ms))
    }

    /// `self + ms` milliseconds.
    pub fn plus_ms(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0 / 1000;
        write!(f, "{:02}:{:02}.{:03}", s / 60, s % 60, self.0 % 1000)
    }
}

boussole_content::id_type!(
    /// Who codes observations: a console, so two raters code independently.
    RaterId,
);

boussole_content::id_type!(
    #[doc = "A person of the register (DESIGN principle 8): stable across sessions, random and pseudonymous (`pers-` then 10 base32 characters, never derived from a name). A session's slot ([`ParticipantId`], `P1`) is only the label the facilitator codes with; which person holds it is logged by [`Command::AssignPerson`]."]
    PersonId,
);

/// Everything the engine accepts. Each is appended to the log, with its time, before it is
/// handled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Input {
    /// From the facilitator's console or a script.
    Command(Command),
    /// A device connected or disconnected (seen by the server, logged like the rest).
    Link {
        /// The device.
        device: DeviceId,
        /// Connected now.
        online: bool,
    },
    /// From a device, numbered by the device so that a resent event is handled once.
    Device {
        /// Who sent it.
        device: DeviceId,
        /// The device's own sequence number, from 1.
        seq: u64,
        /// What happened.
        event: DeviceEvent,
    },
}

/// What the facilitator can do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Enrol a participant (pseudonym and colour only; the name goes to the store).
    AddParticipant {
        /// Pseudonymous id.
        id: ParticipantId,
        /// Shown in the console ("Pseudo 3").
        pseudonym: String,
        /// Console colour, `#rrggbb`.
        colour: String,
    },
    /// Place a participant at a station (answers from it are attributed to them by default).
    AssignStation {
        /// The participant.
        participant: ParticipantId,
        /// The station, or none.
        station: Option<StationId>,
    },
    /// Declare a device and the station it serves.
    RegisterDevice {
        /// The device.
        device: DeviceId,
        /// Its role.
        role: DeviceRole,
        /// Its station in the scenario, if any.
        station: Option<StationId>,
    },
    /// Start the game: the first phase opens. The timer starts with its cue.
    StartGame,
    /// Fire the cue in standby.
    Go,
    /// Move the standby to a cue without firing anything.
    Standby(CueId),
    /// Panic: cancel every pending wait and stop media on every device.
    StopAll,
    /// Pause the timer.
    PauseTimer,
    /// Resume the timer.
    ResumeTimer,
    /// Add (or, negative, remove) seconds.
    AdjustTimer(i32),
    /// Give the next hint of a puzzle (or a given rung).
    SendHint {
        /// The puzzle.
        puzzle: PuzzleId,
        /// The rung, from 1; `None` for the next one.
        level: Option<u8>,
        /// Where to show it; `None` for the room screens and the puzzle's stations.
        station: Option<StationId>,
        /// Who receives it, if one person does.
        participant: Option<ParticipantId>,
    },
    /// Mark a puzzle solved by hand (a prop failed...); the reason is logged.
    ForceSolve {
        /// The puzzle.
        puzzle: PuzzleId,
        /// Why.
        reason: String,
    },
    /// Code a behaviour.
    Observe {
        /// Who codes.
        rater: RaterId,
        /// Who is observed.
        participant: ParticipantId,
        /// The behaviour of the grid.
        behaviour: BehaviourId,
        /// Point event, or start or stop of a state event.
        action: ObservationAction,
        /// A modifier of the behaviour's set.
        modifier: Option<ModifierId>,
    },
    /// A free note, about one participant or the group.
    Note {
        /// Who writes.
        rater: RaterId,
        /// About whom; `None` for the group.
        participant: Option<ParticipantId>,
        /// The note.
        text: String,
    },
    /// Withdraw an observation or note (undo); kept in the log as an audit entry.
    Retract {
        /// Who withdraws it.
        rater: RaterId,
        /// The observation.
        id: ObservationId,
    },
    /// Undo: withdraw the rater's most recent observation or note still standing.
    Undo {
        /// Who undoes.
        rater: RaterId,
    },
    /// Start the immersion assigned to a headset.
    StartImmersion {
        /// The headset.
        device: DeviceId,
    },
    /// Stop a headset's immersion at once (it fades to a calm neutral room).
    StopImmersion {
        /// The headset.
        device: DeviceId,
    },
    /// Give a headset an immersion to run.
    AssignImmersion {
        /// The headset.
        device: DeviceId,
        /// The immersion.
        immersion: ImmersionId,
        /// Who wears the headset.
        participant: ParticipantId,
    },
    /// Confirm or change the level proposed for a participant and a competency; a change needs a
    /// reason (the evaluation shows a change without one as to be justified).
    DecideLevel {
        /// The participant.
        participant: ParticipantId,
        /// The competency.
        competency: CompetencyId,
        /// The level retained, from 1; `None` for "non observé".
        level: Option<u8>,
        /// Why.
        reason: String,
    },
    /// Close the session: open state events are closed and flagged, nothing more is played.
    EndSession,
    /// The facilitator's comment and pistes d'orientation for a participant's synthesis; each
    /// replaces the previous one (the log keeps every version).
    WriteComment {
        /// The participant.
        participant: ParticipantId,
        /// Free text; paragraphs separated by a blank line.
        comment: String,
        /// Pistes d'orientation, one per item.
        recommendations: Vec<String>,
    },
    /// The debrief meeting (restitution) with the participant took place: until then their
    /// synthesis is a draft.
    RecordRestitution {
        /// The participant.
        participant: ParticipantId,
    },
    /// The participant's answer, at or after the debrief, on sending the final synthesis to
    /// their prescriber; a refusal or a later withdrawal is recorded the same way.
    RecordConsent {
        /// The participant.
        participant: ParticipantId,
        /// Whether they agree.
        given: bool,
    },
    /// Start the immersions assigned to several headsets at the same instant (one log record,
    /// one start time), so that a 360° video plays in step on every one of them. All or
    /// nothing: refused, naming the headset, when one has no immersion or has already started.
    StartImmersions {
        /// The headsets, each once.
        devices: Vec<DeviceId>,
    },
    /// Say which person of the register holds a slot (appended last, so every older log still
    /// decodes). The first assignment of a slot is its enrolment; a later one moves the slot to
    /// another person (a slot given to the wrong person) and needs a reason. Refused: an unknown
    /// slot, a person already holding another slot of the session, a move without a reason, and
    /// a move once the participant agreed to send their final synthesis on (it may already be
    /// with the prescriber).
    AssignPerson {
        /// The slot (`P1`).
        participant: ParticipantId,
        /// The person of the register.
        person: PersonId,
        /// Why the slot moves; may be empty for the first assignment.
        reason: String,
    },
    /// Pause (`paused`) or resume headsets, one or all (appended last, so every older log
    /// still decodes). A paused headset fades to a resting view and holds its immersion where
    /// it is (its clock, its stimuli, its film). On resume, a running immersion's film moves
    /// on by the pause; headsets whose immersions started together and are resumed together
    /// move on by the same amount, the longest of their pauses, so that they show the same
    /// frame again (« tout reprendre »). A headset already in the state asked is left as it
    /// is; a device that is not a known headset is refused, naming it.
    PauseHeadsets {
        /// The headsets.
        devices: Vec<DeviceId>,
        /// Pause (`true`) or resume.
        paused: bool,
    },
    /// The wash-up, after the close: the lead rater `rater` takes another rater's observation
    /// `id` as their own (a [`Observation::consensus`] copy). It changes the consensus the
    /// evaluation reads, never the agreement (`irr` compares the codings as they stood at the
    /// close; a code withdrawn after it with [`Command::Retract`] still counts there).
    /// Refused before the close.
    AdoptCode {
        /// The lead rater.
        rater: RaterId,
        /// The other rater's observation.
        id: ObservationId,
    },
    /// The facilitator names the lead rater, whose coding the evaluation and the synthesis
    /// read (a second rater's is for the agreement). Until then, the rater who coded most.
    /// Accepted after the close; logged like every command.
    ChooseLeadRater {
        /// The lead rater.
        rater: RaterId,
    },
    /// The lead of scheduled starts: a video, sound or text cue fired at `t` is sent to start
    /// at `t + ms` on the director's clock, so every device has it before it starts and all
    /// start together on their synchronised clocks. Set by the director's server from the
    /// links' measured round trips ([`cue_lead_ms`]); logged like every command, so a replay
    /// schedules the same starts. Capped at [`MAX_CUE_LEAD_MS`]. Appended last: older logs
    /// keep their encoding.
    SetCueLead {
        /// The lead, milliseconds.
        ms: u32,
    },
}

/// The longest lead of a scheduled start, ms: past half a second a GO would feel late.
pub const MAX_CUE_LEAD_MS: u32 = 500;

/// The shortest lead, ms, even on loopback: a device's frame (16–33 ms) and the preparation
/// of a video's first frame fit in it.
pub const MIN_CUE_LEAD_MS: u32 = 60;

/// The lead a room's links call for, ms, from each device's smoothed QUIC round trip
/// (`rtts_ms`): three times the slowest round trip plus 60 ms, rounded up to 10 ms, within
/// [`MIN_CUE_LEAD_MS`]..=[`MAX_CUE_LEAD_MS`]; no device: the minimum. A cue must arrive even
/// when its datagram is lost once: QUIC resends it after its probe timeout (RFC 9002 §6.2:
/// the round trip, four times its variation and the peer's 25 ms acknowledgement delay),
/// then it takes one more way. With Wi-Fi-like links (20 ± 15 ms each way, 1 % loss) twice
/// the round trip plus 30 ms let 5 of 800 starts come late (`cargo xtask bench skew`).
pub fn cue_lead_ms(rtts_ms: impl IntoIterator<Item = u32>) -> u32 {
    let slowest = rtts_ms.into_iter().max().unwrap_or(0);
    let raw = slowest.saturating_mul(3).saturating_add(60);
    raw.div_ceil(10)
        .saturating_mul(10)
        .clamp(MIN_CUE_LEAD_MS, MAX_CUE_LEAD_MS)
}

/// What the shell must do after an input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// Send a cue to its targets, to start at `start_at` on the director's clock.
    FireCue {
        /// This firing's number (acks name it; a resend after a restart has the same one).
        instance: u64,
        /// The cue.
        cue: CueId,
        /// Where.
        targets: Vec<Target>,
        /// When, session time.
        start_at: Millis,
    },
    /// Stop media everywhere.
    StopAll,
    /// Show a hint.
    ShowHint {
        /// The puzzle.
        puzzle: PuzzleId,
        /// The rung, from 1.
        level: u8,
        /// Where.
        targets: Vec<Target>,
    },
    /// A phase started.
    PhaseStarted(PhaseId),
    /// A puzzle became playable.
    PuzzleOpened(PuzzleId),
    /// A puzzle was solved.
    PuzzleSolved {
        /// The puzzle.
        puzzle: PuzzleId,
        /// Who entered the answer, when known.
        by: Option<ParticipantId>,
    },
    /// A wrong answer: the station shows it.
    WrongAnswer {
        /// The puzzle.
        puzzle: PuzzleId,
        /// The station.
        station: StationId,
    },
    /// The timer changed (start, pause, resume, adjust).
    Timer {
        /// Whether it runs.
        running: bool,
        /// Milliseconds left at `at`.
        remaining_ms: i64,
        /// When.
        at: Millis,
    },
    /// The game reached an ending.
    Ended(EndingId),
    /// Acknowledge a device event once it is committed.
    Ack {
        /// The device.
        device: DeviceId,
        /// Its sequence number.
        seq: u64,
    },
    /// Start an immersion on a headset.
    StartImmersion {
        /// The headset.
        device: DeviceId,
        /// The immersion.
        immersion: ImmersionId,
    },
    /// Stop a headset's immersion.
    StopImmersion {
        /// The headset.
        device: DeviceId,
    },
    /// The input was refused; the log keeps it, with this reason for the facilitator.
    Refused(String),
    /// Pause or resume a headset (appended last).
    Pause {
        /// The headset.
        device: DeviceId,
        /// Paused now.
        paused: bool,
    },
}

/// A participant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// Pseudonym.
    pub pseudonym: String,
    /// Console colour.
    pub colour: String,
    /// Station, if placed.
    pub station: Option<StationId>,
    /// The person of the register holding this slot, once assigned ([`Command::AssignPerson`]).
    pub person: Option<PersonId>,
}

/// A device as the engine knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Role.
    pub role: DeviceRole,
    /// Station.
    pub station: Option<StationId>,
    /// Last cue instance it acknowledged, and when (session time).
    pub last_ack: Option<(u64, Millis)>,
    /// Last health report.
    pub health: Health,
    /// Highest event sequence number handled.
    pub last_seq: u64,
    /// Whether it is connected now.
    pub online: bool,
    /// When it last connected or disconnected.
    pub since: Millis,
    /// The problems it reported (`DeviceEvent::Problem`), oldest first, the latest
    /// [`PROBLEMS_KEPT`] only.
    pub problems: Vec<(Millis, String)>,
}

/// How many reported problems a device keeps (the log keeps them all).
pub const PROBLEMS_KEPT: usize = 10;

/// Where a puzzle stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PuzzleStatus {
    /// Its phase has not started or a requirement is unsolved.
    Locked,
    /// Playable since then.
    Open(Millis),
    /// Solved.
    Solved {
        /// When.
        at: Millis,
        /// By whom, when known.
        by: Option<ParticipantId>,
        /// Forced by the facilitator, with the reason.
        forced: Option<String>,
    },
}

/// When the game started and ended, and the session closed (session time).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimes {
    /// `StartGame`.
    pub started: Option<Millis>,
    /// The ending (success or time-out).
    pub ended: Option<Millis>,
    /// `EndSession`.
    pub closed: Option<Millis>,
}

/// The facilitator's decision on a proposed level: kept beside the proposal, with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelDecision {
    /// The level retained, from 1; `None` for "non observé".
    pub level: Option<u8>,
    /// Why, in the facilitator's words (required when it differs from the proposal).
    pub reason: String,
    /// When.
    pub at: Millis,
}

/// An immersion given to a headset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImmersionRun {
    /// The immersion.
    pub immersion: ImmersionId,
    /// Who wears the headset.
    pub participant: ParticipantId,
    /// When it started, if it did.
    pub started: Option<Millis>,
    /// When it stopped, if it did.
    pub stopped: Option<Millis>,
    /// How far its film was held back by pauses, ms ([`Command::PauseHeadsets`]).
    #[serde(default)]
    pub paused_ms: u64,
}

impl ImmersionRun {
    /// Where its film starts on the session clock, ms: its start moved on by its pauses (a
    /// 360° film stands at `now - film_start_ms`); `None` before it started.
    pub fn film_start_ms(&self) -> Option<u64> {
        self.started.map(|t| t.0 + self.paused_ms)
    }
}

/// A game event attributed to a participant, for the evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GameEvent {
    /// When.
    pub at: Millis,
    /// Who.
    pub participant: Option<ParticipantId>,
    /// What.
    pub kind: GameEventKind,
}

/// Game events the engine records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GameEventKind {
    /// Solved a puzzle.
    Solved(PuzzleId),
    /// Entered a wrong answer.
    WrongAnswer(PuzzleId),
    /// Asked for a hint.
    HintRequested(PuzzleId),
    /// Received a hint (rung).
    HintReceived(PuzzleId, u8),
    /// Selected a hotspot.
    HotspotSeen(ImmersionId, HotspotId),
    /// Did a task.
    TaskDone(ImmersionId, TaskId, bool),
    /// Answered a questionnaire: an immersion's end questionnaire (with the immersion the
    /// device was running) or the self-assessment.
    Rating {
        /// The question.
        question: QuestionId,
        /// The answer, from 1.
        value: u8,
        /// A free comment.
        comment: Option<String>,
        /// The immersion running on the device that sent it, if any.
        immersion: Option<ImmersionId>,
    },
    /// Was shown a headset-guided puzzle's view in the headset (the wearer at its station).
    HeadsetViewSeen(PuzzleId),
}

/// What the debrief of one participant left in the log: the facilitator's comment and
/// recommendations, the restitution and the consent to send the synthesis on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Debrief {
    /// The facilitator's comment (latest version).
    pub comment: String,
    /// Pistes d'orientation (latest version).
    pub recommendations: Vec<String>,
    /// When the debrief meeting was recorded, session time.
    pub restitution: Option<Millis>,
    /// The latest answer on sending the synthesis on, and when.
    pub consent: Option<(bool, Millis)>,
}

/// One escape-game session.
#[derive(Clone, Debug)]
pub struct Engine {
    scenario: Scenario,
    grid: ObservationGrid,
    now: Millis,
    phase: Option<usize>,
    started: bool,
    ended: Option<EndingId>,
    closed: bool,
    /// When the game started, ended and the session closed.
    times: SessionTimes,
    decisions: BTreeMap<(ParticipantId, CompetencyId), LevelDecision>,
    debriefs: BTreeMap<ParticipantId, Debrief>,
    /// Immersion runs replaced on their headset by a later assignment, oldest first.
    past_immersions: Vec<ImmersionRun>,
    puzzles: BTreeMap<PuzzleId, PuzzleStatus>,
    /// Each phase started, and when, in order (the timeline's bands).
    phase_starts: Vec<(PhaseId, Millis)>,
    /// When each puzzle opened (kept once solved, unlike [`PuzzleStatus::Open`]).
    puzzles_opened: BTreeMap<PuzzleId, Millis>,
    hints_given: BTreeMap<PuzzleId, u8>,
    timer: play::Timer,
    cues: cues::CueRunner,
    participants: BTreeMap<ParticipantId, Participant>,
    devices: BTreeMap<DeviceId, Device>,
    immersions: BTreeMap<DeviceId, ImmersionRun>,
    /// Headsets paused now, and since when.
    paused: BTreeMap<DeviceId, Millis>,
    /// The lead rater the facilitator named ([`Command::ChooseLeadRater`]).
    lead_rater: Option<RaterId>,
    observations: observe::Observations,
    events: Vec<GameEvent>,
    seen: BTreeSet<(DeviceId, u64)>,
}

impl Engine {
    /// A new session of `scenario`, coded with `grid`, at session time 0.
    pub fn new(scenario: Scenario, grid: ObservationGrid) -> Self {
        let puzzles = scenario
            .puzzles
            .iter()
            .map(|p| (p.id.clone(), PuzzleStatus::Locked))
            .collect();
        let timer = play::Timer::new(scenario.duration_minutes);
        let cues = cues::CueRunner::new(scenario.cues.len());
        Self {
            scenario,
            grid,
            now: Millis(0),
            phase: None,
            started: false,
            ended: None,
            closed: false,
            times: SessionTimes::default(),
            decisions: BTreeMap::new(),
            debriefs: BTreeMap::new(),
            past_immersions: Vec::new(),
            puzzles,
            phase_starts: Vec::new(),
            puzzles_opened: BTreeMap::new(),
            hints_given: BTreeMap::new(),
            timer,
            cues,
            participants: BTreeMap::new(),
            devices: BTreeMap::new(),
            immersions: BTreeMap::new(),
            paused: BTreeMap::new(),
            lead_rater: None,
            observations: observe::Observations::default(),
            events: Vec::new(),
            seen: BTreeSet::new(),
        }
    }

    /// Handles `input` at session time `at` (deadlines up to `at` fire first). A time earlier
    /// than the last one is taken as the last one: session time never goes back.
    pub fn handle(&mut self, input: Input, at: Millis) -> Vec<Effect> {
        let mut out = self.advance(at);
        match input {
            Input::Command(c) => self.command(c, &mut out),
            Input::Link { device, online } => match self.devices.get_mut(&device) {
                Some(d) => {
                    d.online = online;
                    d.since = at;
                }
                None => out.push(Effect::Refused(format!("appareil inconnu : {device}"))),
            },
            Input::Device { device, seq, event } => {
                if self.seen.insert((device.clone(), seq)) {
                    if let Some(d) = self.devices.get_mut(&device) {
                        d.last_seq = d.last_seq.max(seq);
                    }
                    self.device_event(&device, event, &mut out);
                }
                out.push(Effect::Ack { device, seq });
            }
        }
        // What the input scheduled for now (a zero post-wait, an auto-follow) runs now.
        out.extend(self.advance(at));
        out
    }

    /// Fires every deadline up to `at`, in time order; the shell calls it at
    /// [`Self::next_deadline`].
    pub fn advance(&mut self, at: Millis) -> Vec<Effect> {
        let mut out = Vec::new();
        while let Some(t) = self.next_deadline().filter(|t| *t <= at) {
            self.now = self.now.max(t);
            self.fire_due(t, &mut out);
        }
        self.now = self.now.max(at);
        out
    }

    /// The pre- and post-waits running in the cue list, soonest end first.
    pub fn waits(&self) -> Vec<CueWait> {
        self.cues
            .waits()
            .filter_map(|(i, kind, started, ends)| {
                self.scenario.cues.get(i).map(|c| CueWait {
                    cue: c.id.clone(),
                    kind,
                    started,
                    ends,
                })
            })
            .collect()
    }

    /// Whether the cue `cue` has fired in this session (by GO or by its trigger).
    pub fn cue_fired(&self, cue: &CueId) -> bool {
        self.scenario
            .cues
            .iter()
            .position(|c| c.id == *cue)
            .is_some_and(|i| self.cues.fired(i))
    }

    /// The earliest pending deadline (a cue wait, a countdown trigger, the time-out), if any.
    pub fn next_deadline(&self) -> Option<Millis> {
        let mut best = self.cues.next_deadline();
        if self.ended.is_none() {
            for t in [
                self.timer.zero_at(),
                self.next_countdown_trigger().map(|(t, _)| t),
            ]
            .into_iter()
            .flatten()
            {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        best.map(|t| t.max(self.now))
    }

    fn fire_due(&mut self, t: Millis, out: &mut Vec<Effect>) {
        if let Some((when, cue)) = self.next_countdown_trigger()
            && when <= t
        {
            self.cues.mark_triggered(cue);
            self.go_cue(cue, t, out);
            return;
        }
        if self.ended.is_none()
            && let Some(zero) = self.timer.zero_at()
            && zero <= t
        {
            self.end_game(boussole_content::scenario::EndingKind::TimeOut, t, out);
            return;
        }
        if let Some(job) = self.cues.pop_due(t) {
            self.run_job(job, t, out);
        }
    }

    /// The scenario played.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The observation grid coded with.
    pub fn grid(&self) -> &ObservationGrid {
        &self.grid
    }

    /// Session time of the last input or deadline.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// The current phase.
    pub fn phase(&self) -> Option<&PhaseId> {
        self.phase
            .and_then(|i| self.scenario.phases.get(i))
            .map(|p| &p.id)
    }

    /// The lead rater the facilitator named, if they did ([`Command::ChooseLeadRater`]).
    pub fn chosen_lead_rater(&self) -> Option<&RaterId> {
        self.lead_rater.as_ref()
    }

    /// Each phase started, and when (session time), in order.
    pub fn phase_starts(&self) -> &[(PhaseId, Millis)] {
        &self.phase_starts
    }

    /// When each puzzle opened, session time (solved ones included).
    pub fn puzzles_opened(&self) -> &BTreeMap<PuzzleId, Millis> {
        &self.puzzles_opened
    }

    /// Every puzzle's status.
    pub fn puzzles(&self) -> &BTreeMap<PuzzleId, PuzzleStatus> {
        &self.puzzles
    }

    /// The ending reached, if any.
    pub fn ending(&self) -> Option<&EndingId> {
        self.ended.as_ref()
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Milliseconds left on the timer at `at` (the full duration before it starts).
    pub fn remaining_ms(&self, at: Millis) -> i64 {
        self.timer.remaining(at)
    }

    /// Whether the game was started (`StartGame`), even if it is paused or over now.
    pub fn game_started(&self) -> bool {
        self.times.started.is_some()
    }

    /// Whether the timer runs.
    pub fn timer_running(&self) -> bool {
        self.timer.running()
    }

    /// The cue in standby.
    pub fn standby(&self) -> Option<&CueId> {
        self.cues
            .standby()
            .and_then(|i| self.scenario.cues.get(i))
            .map(|c| &c.id)
    }

    /// Participants.
    pub fn participants(&self) -> &BTreeMap<ParticipantId, Participant> {
        &self.participants
    }

    /// Devices.
    pub fn devices(&self) -> &BTreeMap<DeviceId, Device> {
        &self.devices
    }

    /// Observations and notes, retracted ones included (flagged).
    pub fn observations(&self) -> &[Observation] {
        self.observations.all()
    }

    /// Game events per participant, in time order.
    pub fn game_events(&self) -> &[GameEvent] {
        &self.events
    }

    /// When the game started and ended, and the session closed.
    pub fn times(&self) -> SessionTimes {
        self.times
    }

    /// The facilitator's level decisions.
    pub fn decisions(&self) -> &BTreeMap<(ParticipantId, CompetencyId), LevelDecision> {
        &self.decisions
    }

    /// Each participant's debrief: comment, recommendations, restitution, consent.
    pub fn debriefs(&self) -> &BTreeMap<ParticipantId, Debrief> {
        &self.debriefs
    }

    /// Every immersion run of the session: those replaced on their headset (oldest first),
    /// then the current one of each headset.
    pub fn immersion_runs(&self) -> impl Iterator<Item = &ImmersionRun> {
        self.past_immersions.iter().chain(self.immersions.values())
    }

    /// The headsets paused now ([`Command::PauseHeadsets`]), and since when.
    pub fn paused_headsets(&self) -> &BTreeMap<DeviceId, Millis> {
        &self.paused
    }

    /// The immersion given to each headset now (started or not), by headset.
    pub fn immersions(&self) -> &BTreeMap<DeviceId, ImmersionRun> {
        &self.immersions
    }

    /// Hints given per puzzle (highest rung).
    pub fn hints_given(&self) -> &BTreeMap<PuzzleId, u8> {
        &self.hints_given
    }

    /// Cues fired and not yet acknowledged by any device, as effects to send again after a
    /// restart. An acknowledged cue is never in it.
    pub fn unacknowledged_cues(&self) -> Vec<Effect> {
        self.cues
            .unacknowledged()
            .map(|f| self.fire_effect(f))
            .collect()
    }

    /// The cue firings that target `device` and that it has not acknowledged, to send it on
    /// (re)connection: a device that was away gets what it missed, and never a cue it applied.
    pub fn unacknowledged_cues_for(&self, device: &DeviceId) -> Vec<Effect> {
        self.unacknowledged_by(device)
            .into_iter()
            .map(|f| self.fire_effect(f))
            .collect()
    }

    /// The fold of a log: a new engine fed every `(at, input)` in order, effects dropped.
    pub fn replay(
        scenario: Scenario,
        grid: ObservationGrid,
        log: impl IntoIterator<Item = (Millis, Input)>,
    ) -> Self {
        let mut engine = Self::new(scenario, grid);
        for (at, input) in log {
            let _ = engine.handle(input, at);
        }
        engine
    }
}
