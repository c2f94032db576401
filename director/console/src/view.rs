//! What the console shows, without Bevy or egui: the director's log folded by the director's own
//! engine ([`Replica`]), and the [`SessionView`] the panels draw from.
//!
//! The console never decides anything: it keeps a copy of the session log (streamed by the
//! director to every console, from the first record on each connection) and folds it with
//! [`Engine::replay`]'s rules, so what it shows is exactly what the director holds, and a
//! console reopened after a crash shows the same thing. Time-driven state (the countdown, cue
//! waits) comes from advancing a copy of that engine to the director's clock.

use boussole_content::grid::ObservationGrid;
use boussole_content::ids::ImmersionId;
use boussole_content::scenario::Scenario;
use boussole_director::engine::{Engine, Input, Millis, RaterId};
use boussole_protocol::DeviceId;
use boussole_protocol::wire::{LogEntry, RoomStatus};

/// Why a batch of log entries could not be folded.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReplicaError {
    /// An entry is missing between what the console holds and what arrived: the console asks
    /// for the log again from the start.
    #[error("journal incomplet : attendu l'entrée {expected}, reçu {got}")]
    Gap {
        /// The next entry the console expected.
        expected: u64,
        /// The entry that arrived.
        got: u64,
    },
    /// An entry does not decode as an engine input (a director of another version).
    #[error("entrée {seq} du journal illisible : {reason}")]
    Undecodable {
        /// The entry.
        seq: u64,
        /// The decoder's message.
        reason: String,
    },
}

/// The console's copy of the session: the director's log, folded by the director's engine.
#[derive(Clone, Debug)]
pub struct Replica {
    engine: Engine,
    next_seq: u64,
}

impl Replica {
    /// An empty copy of a session of `scenario` coded with `grid`.
    pub fn new(scenario: Scenario, grid: ObservationGrid) -> Self {
        Self {
            engine: Engine::new(scenario, grid),
            next_seq: 1,
        }
    }

    /// Folds `entries`, which must continue the log without a gap; entries already held
    /// (a resend) are skipped.
    ///
    /// # Errors
    /// [`ReplicaError::Gap`] when an entry is missing (nothing after it is folded), and
    /// [`ReplicaError::Undecodable`] for an entry that does not decode (the entries before it
    /// stay folded).
    pub fn apply(&mut self, entries: &[LogEntry]) -> Result<(), ReplicaError> {
        for e in entries {
            if e.seq < self.next_seq {
                continue;
            }
            if e.seq != self.next_seq {
                return Err(ReplicaError::Gap {
                    expected: self.next_seq,
                    got: e.seq,
                });
            }
            let input: Input =
                postcard::from_bytes(&e.input).map_err(|err| ReplicaError::Undecodable {
                    seq: e.seq,
                    reason: err.to_string(),
                })?;
            let _ = self.engine.handle(input, Millis(e.at_ms));
            self.next_seq += 1;
        }
        Ok(())
    }

    /// The engine as the log leaves it (not advanced past the last entry).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The number of the next entry expected (1 when empty).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The engine advanced to `now` on the director's clock: the countdown and cue waits as
    /// they stand then. `now` before the last entry leaves it as the log does.
    pub fn at(&self, now: Millis) -> Engine {
        let mut engine = self.engine.clone();
        if now > engine.now() {
            let _ = engine.advance(now);
        }
        engine
    }
}

/// Where the console's connection to the director stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Looking for the director or connecting.
    Connecting,
    /// Connected, the log followed live.
    Online,
    /// Lost; the view is what was there when it was lost, and the console reconnects by itself.
    Offline {
        /// Why, in French, for the facilitator.
        reason: String,
    },
    /// No director: a session played locally from a script, for training (nothing is sent).
    Training,
    /// Not paired with this director yet: the facilitator types the code the director shows
    /// (the link waits; nothing is retried until a code is given).
    NeedsCode {
        /// Why the last code was refused, in French; `None` before any code.
        refused: Option<String>,
    },
}

/// Everything a panel draws from: the session as the director holds it, at `now`.
#[derive(Clone, Debug)]
pub struct SessionView {
    /// The session, folded from the log and advanced to `now`.
    pub engine: Engine,
    /// The director's session clock, ms, as the console estimates it.
    pub now: Millis,
    /// This console's rater id (its device id): its codes, undo and coverage are its own.
    pub me: RaterId,
    /// A read-only console (second rater): it may only code.
    pub observer: bool,
    /// What the director says about the room beyond the log: pairing code, each device's link.
    pub room: RoomStatus,
    /// The headsets' latest head poses (the spectator panel).
    pub poses: boussole_protocol::wire::HeadsetPoses,
    /// Where the console's immersions put their hotspots (the spectator panel).
    pub sights: std::sync::Arc<crate::spectator::Sights>,
    /// The connection to the director.
    pub link: LinkState,
    /// The director's messages for the facilitator (refusals), oldest first.
    pub notices: Vec<String>,
    /// The job immersions the console's content holds, `(id, French title)`, to give a headset.
    pub immersions: Vec<(ImmersionId, String)>,
    /// The person register, as the director last sent it (empty on observer consoles and in
    /// training).
    pub register: boussole_director::register::RegisterView,
    /// The director's last answer to this console's request for a synthesis.
    pub synthesis: Option<boussole_director::synthesis::SynthesisReply>,
    /// The scenario's rubric, from the console's content (`None` when it has none).
    pub rubric: Option<boussole_content::rubric::Rubric>,
    /// The director of the day's desk (`None` from a director of one session, and in
    /// training): the home screen draws it.
    pub desk: Option<boussole_director::desk::DeskView>,
    /// The closed session this console follows for review beside this one, if any.
    pub review: Option<Box<ReviewView>>,
    /// The director's answers to this console's requests (administration, a roadmap).
    pub answers: crate::model::DeskAnswers,
}

/// A closed session followed for review beside the hosted one: the after-game screens
/// (evaluation, timeline, agreement) draw its [`SessionView`], and its commands go to its own
/// log (`DeskRequest::ReviewCommand`).
#[derive(Clone, Debug)]
pub struct ReviewView {
    /// Its number.
    pub session: i64,
    /// Its label.
    pub label: String,
    /// When it was created, Unix ms.
    pub created_at_unix_ms: i64,
    /// The session as its log leaves it.
    pub view: Box<SessionView>,
}

impl SessionView {
    /// A view of `engine` at `now` for rater `me`, online, with no room status or notices (tests
    /// and the offline preparation use this).
    pub fn of(engine: Engine, now: Millis, me: RaterId) -> Self {
        Self {
            engine,
            now,
            me,
            observer: false,
            room: RoomStatus::default(),
            poses: boussole_protocol::wire::HeadsetPoses::default(),
            sights: std::sync::Arc::default(),
            link: LinkState::Online,
            notices: Vec::new(),
            immersions: Vec::new(),
            register: Default::default(),
            synthesis: None,
            rubric: None,
            desk: None,
            review: None,
            answers: Default::default(),
        }
    }

    /// The measured round trip to `device`, ms, when the director reports one.
    pub fn rtt_ms(&self, device: &DeviceId) -> Option<u32> {
        self.room
            .links
            .iter()
            .find(|l| &l.device == device)
            .and_then(|l| l.rtt_ms)
    }
}
