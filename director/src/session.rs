//! A live session: the engine fed from, and written to, the store. The log is the truth: every
//! input is appended (with its session time) before the engine sees it, and opening a session
//! replays its log. A device event already in the log (same `(device, seq)`) is acknowledged
//! again but never handled twice.
//!
//! Blocking: every call writes to SQLite. Run a `Session` on its own thread, never on the async
//! runtime that keeps QUIC connections alive.

use crate::engine::{Command, Effect, Engine, Input, Millis, PersonId};
use crate::store::{Appended, LogRecord, NewSlotPerson, Record, SessionId, SessionInfo, Store};
use boussole_content::ContentSet;
use boussole_content::grid::ObservationGrid;
use boussole_content::scenario::Scenario;
use thiserror::Error;

/// Log record kinds.
const KIND_COMMAND: &str = "command";
const KIND_DEVICE: &str = "device";
const KIND_LINK: &str = "link";

/// Errors of session operations.
#[derive(Debug, Error)]
pub enum SessionError {
    /// The scenario is not in the content.
    #[error("unknown scenario {0:?}")]
    UnknownScenario(String),
    /// The scenario's observation grid is not in the content.
    #[error("scenario {scenario}: unknown observation grid {grid:?}")]
    UnknownGrid {
        /// The scenario.
        scenario: String,
        /// The grid it names.
        grid: String,
    },
    /// The session is not in the store.
    #[error("unknown session {0}")]
    UnknownSession(SessionId),
    /// No participant of that id is enrolled in the session's log.
    #[error("unknown participant {0:?}")]
    UnknownParticipant(String),
    /// A log record could not be decoded (written by an incompatible version?).
    #[error("session {session}: log record {seq} ({kind}) cannot be decoded: {source}")]
    BadRecord {
        /// The session.
        session: SessionId,
        /// The record's number.
        seq: u64,
        /// Its kind.
        kind: String,
        /// Why.
        source: postcard::Error,
    },
    /// Encoding an input failed.
    #[error("cannot encode an input: {0}")]
    Encode(#[from] postcard::Error),
    /// The store failed.
    #[error("session store: {0}")]
    Store(String),
}

fn store_err(e: impl std::fmt::Display) -> SessionError {
    SessionError::Store(e.to_string())
}

/// A failure that gives the store back (boxed: a store and an error are large), so that the
/// director of the day keeps its store open when a session cannot be hosted.
pub type Kept<E> = Box<(Store, E)>;

/// An open session: its id, its engine, and the store it writes to.
pub struct Session {
    store: Store,
    id: SessionId,
    engine: Engine,
    created_at_unix_ms: i64,
}

/// A [`Session`] without its store ([`Session::detach`]).
pub struct Detached {
    id: SessionId,
    engine: Engine,
    created_at_unix_ms: i64,
}

impl Detached {
    /// The session again, with `store` (the one it was detached from).
    pub fn attach(self, store: Store) -> Session {
        Session {
            store,
            id: self.id,
            engine: self.engine,
            created_at_unix_ms: self.created_at_unix_ms,
        }
    }
}

fn scenario_and_grid(
    content: &ContentSet,
    scenario: &str,
) -> Result<(Scenario, ObservationGrid), SessionError> {
    let s = content
        .scenario(scenario)
        .ok_or_else(|| SessionError::UnknownScenario(scenario.to_owned()))?;
    let grid = content
        .grids
        .iter()
        .map(|g| &g.value)
        .find(|g| g.id == s.observation_grid)
        .ok_or_else(|| SessionError::UnknownGrid {
            scenario: scenario.to_owned(),
            grid: s.observation_grid.to_string(),
        })?;
    Ok((s, grid.clone()))
}

/// Rebuilds session `id`'s state from its log without opening it for writing (to read several
/// sessions at once: evaluations, syntheses across a participant's sessions).
///
/// # Errors
/// An unknown session, scenario or grid, an undecodable record, or a store failure.
pub fn replay(
    store: &Store,
    content: &ContentSet,
    id: SessionId,
) -> Result<(SessionInfo, Engine), SessionError> {
    let info = store
        .session(id)
        .map_err(store_err)?
        .ok_or(SessionError::UnknownSession(id))?;
    let (s, grid) = scenario_and_grid(content, &info.scenario)?;
    let records = store.log(id).map_err(store_err)?;
    let inputs = records
        .iter()
        .map(|r| decode(id, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((info, Engine::replay(s, grid, inputs)))
}

impl Session {
    /// Creates a session of `scenario` in `store`, created now (`now_unix_ms`).
    ///
    /// # Errors
    /// An unknown scenario or grid, or a store failure.
    pub fn create(
        store: Store,
        content: &ContentSet,
        scenario: &str,
        label: &str,
        now_unix_ms: i64,
    ) -> Result<Self, SessionError> {
        Self::try_create(store, content, scenario, label, now_unix_ms).map_err(|kept| kept.1)
    }

    /// [`Session::create`] that gives the store back when it fails, so that a director that
    /// hosts one session after another keeps its store open.
    ///
    /// # Errors
    /// As [`Session::create`], with the store.
    pub fn try_create(
        mut store: Store,
        content: &ContentSet,
        scenario: &str,
        label: &str,
        now_unix_ms: i64,
    ) -> Result<Self, Kept<SessionError>> {
        let (s, grid) = match scenario_and_grid(content, scenario) {
            Ok(found) => found,
            Err(e) => return Err(Box::new((store, e))),
        };
        let id = match store.create_session(scenario, label, now_unix_ms) {
            Ok(id) => id,
            Err(e) => return Err(Box::new((store, store_err(e)))),
        };
        Ok(Self {
            store,
            id,
            engine: Engine::new(s, grid),
            created_at_unix_ms: now_unix_ms,
        })
    }

    /// Closes the session for writing and gives its store back (the director then hosts
    /// another session in it).
    pub fn into_store(self) -> Store {
        self.store
    }

    /// Takes the store out of the session, leaving what it needs to take it back
    /// ([`Detached::attach`]): the director of the day lends its store to a closed session
    /// reviewed beside the hosted one, on the same thread, between two inputs.
    pub fn detach(self) -> (Store, Detached) {
        (
            self.store,
            Detached {
                id: self.id,
                engine: self.engine,
                created_at_unix_ms: self.created_at_unix_ms,
            },
        )
    }

    /// Opens session `id` and rebuilds its state by replaying its log.
    ///
    /// # Errors
    /// An unknown session, scenario or grid, an undecodable record, or a store failure.
    pub fn open(store: Store, content: &ContentSet, id: SessionId) -> Result<Self, SessionError> {
        Self::try_open(store, content, id).map_err(|kept| kept.1)
    }

    /// [`Session::open`] that gives the store back when it fails.
    ///
    /// # Errors
    /// As [`Session::open`], with the store.
    pub fn try_open(
        store: Store,
        content: &ContentSet,
        id: SessionId,
    ) -> Result<Self, Kept<SessionError>> {
        let (info, engine) = match replay(&store, content, id) {
            Ok(replayed) => replayed,
            Err(e) => return Err(Box::new((store, e))),
        };
        tracing::debug!(
            session = %id,
            now = engine.now().0,
            unacknowledged = ?engine.unacknowledged_cues(),
            next_deadline = ?engine.next_deadline(),
            "replayed"
        );
        let mut session = Self {
            store,
            id,
            engine,
            created_at_unix_ms: info.created_at_unix_ms,
        };
        if let Err(e) = session.mirror_slots() {
            return Err(Box::new((session.store, e)));
        }
        if session.engine.is_closed() {
            // A crash between the close's commit and its roadmaps: settled again (idempotent).
            if let Err(e) = session.settle_roadmaps() {
                return Err(Box::new((session.store, e)));
            }
        }
        Ok(session)
    }

    /// Appends `input` at session time `at`, then handles it. A device event already logged is
    /// acknowledged without being handled again.
    ///
    /// # Errors
    /// Encoding or store failures; then nothing was handled.
    pub fn submit(&mut self, input: Input, at: Millis) -> Result<Vec<Effect>, SessionError> {
        let mut out = self.submit_batch(vec![(input, at)])?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Appends every input of `batch` (with its session time) to the log in **one
    /// transaction** (group commit), then handles them in order; returns each input's effects,
    /// in order. A device event already logged (before, or earlier in the batch) is only
    /// acknowledged. This is what the session thread does with the inputs that queued up while
    /// it was busy: one fsync for all of them instead of one each.
    ///
    /// # Errors
    /// Encoding or store failures; then nothing of the batch was logged nor handled.
    pub fn submit_batch(
        &mut self,
        batch: Vec<(Input, Millis)>,
    ) -> Result<Vec<Vec<Effect>>, SessionError> {
        // Register checks first: an assignment to a person the register does not have (or
        // who is already in the session under another id merged with theirs) is refused
        // without being logged; an enrolment that names no person gets a new one.
        let n = batch.len();
        let mut refused: Vec<Option<String>> = Vec::with_capacity(n);
        let mut kept: Vec<(Input, Millis)> = Vec::with_capacity(n);
        // For each kept input: its index in `batch`.
        let mut origin: Vec<usize> = Vec::with_capacity(n);
        let later_assigns: Vec<Option<String>> = batch
            .iter()
            .map(|(i, _)| match i {
                Input::Command(Command::AssignPerson { participant, .. }) => {
                    Some(participant.0.clone())
                }
                _ => None,
            })
            .collect();
        // Slots enrolled earlier in this batch: the engine has not seen them yet.
        let mut enrolled: Vec<String> = Vec::new();
        let mut new_persons: Vec<NewSlotPerson> = Vec::new();
        for (index, (input, at)) in batch.into_iter().enumerate() {
            if let Input::Command(Command::AssignPerson {
                participant,
                person,
                ..
            }) = &input
                && let Some(why) = self.person_refusal(participant, person)?
            {
                refused.push(Some(why));
                continue;
            }
            refused.push(None);
            let auto = match &input {
                Input::Command(Command::AddParticipant {
                    id,
                    pseudonym,
                    colour,
                }) if self.engine.enrol_refusal(id, colour).is_none()
                    && !enrolled.contains(&id.0)
                    && !later_assigns[index + 1..]
                        .iter()
                        .any(|s| s.as_deref() == Some(id.as_str())) =>
                {
                    enrolled.push(id.0.clone());
                    // A blank pseudonym (the engine accepts it) names the person by the slot.
                    let pseudonym = if pseudonym.trim().is_empty() {
                        id.0.clone()
                    } else {
                        pseudonym.clone()
                    };
                    // Drawn now, created with the log record that seats them (one transaction).
                    let person = loop {
                        let id = crate::store::new_person_id();
                        let taken = self.store.person(&id).map_err(store_err)?.is_some()
                            || new_persons.iter().any(|p: &NewSlotPerson| p.id == id);
                        if !taken {
                            break id;
                        }
                    };
                    new_persons.push(NewSlotPerson {
                        id: person.clone(),
                        pseudonym,
                        at_unix_ms: self.wall(at),
                    });
                    Some((
                        Input::Command(Command::AssignPerson {
                            participant: id.clone(),
                            person: PersonId(person),
                            reason: String::new(),
                        }),
                        at,
                    ))
                }
                _ => None,
            };
            kept.push((input, at));
            origin.push(index);
            if let Some(a) = auto {
                kept.push(a);
                origin.push(index);
            }
        }
        let handled = self.log_and_handle(kept, &new_persons)?;
        let mut out: Vec<Vec<Effect>> = refused
            .into_iter()
            .map(|r| r.map(|why| vec![Effect::Refused(why)]).unwrap_or_default())
            .collect();
        for (index, effects) in origin.into_iter().zip(handled) {
            if let Some(o) = out.get_mut(index) {
                o.extend(effects);
            }
        }
        Ok(out)
    }

    /// Session time `at` as Unix ms.
    fn wall(&self, at: Millis) -> i64 {
        crate::record::wall(self.created_at_unix_ms, at)
    }

    /// Why the register refuses giving `slot` to `person`, if it does: an unknown or erased
    /// person, or one already in this session (under their id or one merged with it).
    fn person_refusal(
        &self,
        slot: &crate::engine::ParticipantId,
        person: &PersonId,
    ) -> Result<Option<String>, SessionError> {
        let Some(info) = self.store.person(person.as_str()).map_err(store_err)? else {
            return Ok(Some(format!("personne inconnue du registre : {person}")));
        };
        if info.erased_at_unix_ms.is_some() {
            return Ok(Some(format!("{person} a été effacée à sa demande")));
        }
        let root = self
            .store
            .canonical_person(person.as_str())
            .map_err(store_err)?;
        for (other, p) in self.engine.participants() {
            if other == slot {
                continue;
            }
            if let Some(held) = &p.person
                && self
                    .store
                    .canonical_person(held.as_str())
                    .map_err(store_err)?
                    == root
            {
                return Ok(Some(format!(
                    "« {} » est déjà inscrite à la place {other} de cette séance : une personne n'a qu'une place",
                    info.pseudonym
                )));
            }
        }
        Ok(None)
    }

    /// Appends `batch` in one transaction, handles each input, and mirrors the slots given to
    /// persons into the register.
    fn log_and_handle(
        &mut self,
        batch: Vec<(Input, Millis)>,
        new_persons: &[NewSlotPerson],
    ) -> Result<Vec<Vec<Effect>>, SessionError> {
        let payloads = batch
            .iter()
            .map(|(input, _)| postcard::to_allocvec(input))
            .collect::<Result<Vec<_>, _>>()?;
        let records: Vec<Record<'_>> = batch
            .iter()
            .zip(&payloads)
            .map(|((input, at), payload)| Record {
                at_ms: at.0,
                kind: match input {
                    Input::Device { .. } => KIND_DEVICE,
                    Input::Link { .. } => KIND_LINK,
                    Input::Command(_) => KIND_COMMAND,
                },
                payload,
                device: match input {
                    Input::Device { device, seq, .. } => Some((device.0.as_str(), *seq)),
                    Input::Command(_) | Input::Link { .. } => None,
                },
            })
            .collect();
        let appended = self
            .store
            .append_batch_enrolling(self.id, &records, new_persons)
            .map_err(store_err)?;
        drop(records);
        let was_closed = self.engine.is_closed();
        let mut out = Vec::with_capacity(batch.len());
        for ((input, at), appended) in batch.into_iter().zip(appended) {
            match (appended, &input) {
                (Appended::Duplicate(_), Input::Device { device, seq, .. }) => {
                    out.push(vec![Effect::Ack {
                        device: device.clone(),
                        seq: *seq,
                    }]);
                }
                _ => {
                    let assigned = match &input {
                        Input::Command(Command::AssignPerson {
                            participant,
                            person,
                            ..
                        }) => Some((participant.clone(), person.clone())),
                        _ => None,
                    };
                    let effects = self.engine.handle(input, at);
                    if let Some((slot, person)) = assigned
                        && !effects.iter().any(|e| matches!(e, Effect::Refused(_)))
                    {
                        self.store
                            .set_slot_person(self.id, slot.as_str(), person.as_str(), self.wall(at))
                            .map_err(store_err)?;
                    }
                    out.push(effects);
                }
            }
        }
        if !was_closed && self.engine.is_closed() {
            self.settle_roadmaps()?;
        }
        Ok(out)
    }

    /// After the session closed: the roadmap entries of the people invited to it from the plan
    /// are done when they hold a slot, absent (back on the waiting list) when they do not
    /// ([`Store::settle_session`]). Set by the session, never by hand; a session not created
    /// from the plan changes nothing.
    fn settle_roadmaps(&mut self) -> Result<(), SessionError> {
        let holders: std::collections::BTreeSet<String> =
            crate::register::slot_holders(&self.store, self.id, &self.engine)
                .map_err(store_err)?
                .into_values()
                .map(|p| p.0)
                .collect();
        let now = self.wall(self.engine.now());
        self.store
            .settle_session(self.id, &holders, now)
            .map_err(store_err)?;
        Ok(())
    }

    /// Brings the register's record of who holds each slot in line with the log (after a
    /// crash between a commit and its mirror).
    fn mirror_slots(&mut self) -> Result<(), SessionError> {
        let recorded = self.store.slot_persons(self.id).map_err(store_err)?;
        let now = self.wall(self.engine.now());
        let held: Vec<(String, String)> = self
            .engine
            .participants()
            .iter()
            .filter_map(|(slot, p)| p.person.as_ref().map(|q| (slot.0.clone(), q.0.clone())))
            .filter(|(slot, person)| recorded.get(slot) != Some(person))
            .collect();
        for (slot, person) in held {
            self.store
                .set_slot_person(self.id, &slot, &person, now)
                .map_err(store_err)?;
        }
        Ok(())
    }

    /// Fires deadlines up to `at` (nothing is logged: deadlines are derived from logged times).
    pub fn advance(&mut self, at: Millis) -> Vec<Effect> {
        self.engine.advance(at)
    }

    /// The engine, read-only.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Session time at `now_unix_ms`: milliseconds since the session was created.
    pub fn time_at(&self, now_unix_ms: i64) -> Millis {
        Millis(u64::try_from(now_unix_ms - self.created_at_unix_ms).unwrap_or(0))
    }

    /// When the session was created, milliseconds since the Unix epoch (session time 0).
    pub fn created_at_unix_ms(&self) -> i64 {
        self.created_at_unix_ms
    }

    /// The store, to read the log or participants.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, writable, beside the engine, read-only (what is not an engine input: the
    /// room layout, the devices' names).
    pub fn store_and_engine(&mut self) -> (&mut Store, &Engine) {
        (&mut self.store, &self.engine)
    }

    /// The store, to write participants' names.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Keeps `participant`'s civil name in the protected table (`None` erases it): the
    /// participant must be enrolled in the log (`AddParticipant`); their pseudonym row is written
    /// first if a console enrolled them (a script writes it itself). The name never enters the
    /// log.
    ///
    /// # Errors
    /// [`SessionError::UnknownParticipant`] when the log has no such participant; store failures.
    pub fn set_participant_name(
        &mut self,
        participant: &str,
        name: Option<&str>,
    ) -> Result<(), SessionError> {
        let pseudonym = self
            .engine
            .participants()
            .iter()
            .find(|(id, _)| id.as_str() == participant)
            .map(|(_, p)| p.pseudonym.clone())
            .ok_or_else(|| SessionError::UnknownParticipant(participant.to_owned()))?;
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        self.store
            .set_participant(self.id, participant, &pseudonym)
            .map_err(|e| SessionError::Store(e.to_string()))?;
        self.store
            .set_participant_name(self.id, participant, name)
            .map_err(|e| SessionError::Store(e.to_string()))?;
        // The person holding the slot keeps the name in the register's protected table too.
        let person = self
            .engine
            .participants()
            .iter()
            .find(|(id, _)| id.as_str() == participant)
            .and_then(|(_, p)| p.person.clone());
        if let Some(person) = person {
            let now = self.wall(self.engine.now());
            self.store
                .change_person(
                    person.as_str(),
                    &crate::store::PersonChange::Name(name.map(str::to_owned)),
                    now,
                )
                .map_err(store_err)?;
        }
        Ok(())
    }
}

fn decode(session: SessionId, r: &LogRecord) -> Result<(Millis, Input), SessionError> {
    postcard::from_bytes(&r.payload)
        .map(|input| (Millis(r.at_ms), input))
        .map_err(|source| SessionError::BadRecord {
            session,
            seq: r.seq.0,
            kind: r.kind.clone(),
            source,
        })
}
