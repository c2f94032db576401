//! Observations as BORIS defines them: point events and state events (start, stop) per
//! participant and behaviour, with a modifier; two participants may hold the same state at
//! once; notes; withdrawals are new entries (audit), never overwrites. Every observation is
//! stamped with the phase and the puzzles open for that participant.

use super::{Millis, ParticipantId, RaterId};
use boussole_content::grid::{EventKind, ObservationGrid};
use boussole_content::ids::{BehaviourId, ModifierId, PhaseId, PuzzleId};
use serde::{Deserialize, Serialize};

/// An observation's number in its session, from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObservationId(pub u64);

/// What a behaviour key press means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObservationAction {
    /// A point event.
    Point,
    /// The start of a state event.
    Start,
    /// The stop of a state event.
    Stop,
}

/// One coded observation or note.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Its number.
    pub id: ObservationId,
    /// Who coded it.
    pub rater: RaterId,
    /// About whom; `None` for a note about the group.
    pub participant: Option<ParticipantId>,
    /// The behaviour; `None` for a free note.
    pub behaviour: Option<BehaviourId>,
    /// The modifier chosen.
    pub modifier: Option<ModifierId>,
    /// When it happened (point) or started (state).
    pub at: Millis,
    /// When a state event stopped; `None` for point events and states still open.
    pub until: Option<Millis>,
    /// Whether the state was still open when the session closed (closed then, flagged).
    pub closed_at_end: bool,
    /// The free note.
    pub note: Option<String>,
    /// The phase at the time.
    pub phase: Option<PhaseId>,
    /// The puzzles open for the participant at the time.
    pub puzzles: Vec<PuzzleId>,
    /// When and by whom it was withdrawn (undo); it stays in the log.
    pub retracted: Option<(Millis, RaterId)>,
    /// Whether this is a state event still running.
    pub open: bool,
    /// Taken by the lead rater from the other rater's coding in the wash-up after the close
    /// ([`super::Command::AdoptCode`]): it counts for the evaluation, never for the agreement,
    /// which compares the independent codings as they stood at the close.
    #[serde(default)]
    pub consensus: bool,
    /// Withdrawn in the wash-up, after the close: gone for the evaluation, still counted by
    /// the agreement (the codings as they stood at the close).
    #[serde(default)]
    pub withdrawn_after_close: bool,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Observations {
    list: Vec<Observation>,
}

impl Observations {
    pub fn all(&self) -> &[Observation] {
        &self.list
    }

    fn next_id(&self) -> ObservationId {
        ObservationId(self.list.len() as u64 + 1)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one coded observation has this many parts"
    )]
    pub fn observe(
        &mut self,
        grid: &ObservationGrid,
        at: Millis,
        rater: RaterId,
        participant: ParticipantId,
        behaviour: BehaviourId,
        action: ObservationAction,
        modifier: Option<ModifierId>,
        phase: Option<PhaseId>,
        puzzles: Vec<PuzzleId>,
    ) -> Result<(), String> {
        let Some(b) = grid.behaviours.iter().find(|b| b.id == behaviour) else {
            return Err(format!("comportement inconnu : {behaviour}"));
        };
        if let Some(m) = &modifier {
            let allowed = b
                .modifiers
                .as_ref()
                .and_then(|set| grid.modifier_sets.iter().find(|s| s.id == *set))
                .is_some_and(|set| set.modifiers.iter().any(|x| x.id == *m));
            if !allowed {
                return Err(format!("modificateur {m} impossible pour {behaviour}"));
            }
        }
        let open = self.list.iter().position(|o| {
            o.retracted.is_none()
                && o.open
                && o.rater == rater
                && o.participant.as_ref() == Some(&participant)
                && o.behaviour.as_ref() == Some(&behaviour)
        });
        match (b.kind, action) {
            (EventKind::Point, ObservationAction::Point)
            | (EventKind::State, ObservationAction::Start) => {
                if open.is_some() {
                    return Err(format!("{behaviour} est déjà en cours pour {participant}"));
                }
                let state_open = b.kind == EventKind::State;
                let id = self.next_id();
                self.list.push(Observation {
                    id,
                    rater,
                    participant: Some(participant),
                    behaviour: Some(behaviour),
                    modifier,
                    at,
                    until: None,
                    closed_at_end: false,
                    note: None,
                    phase,
                    puzzles,
                    retracted: None,
                    open: state_open,
                    consensus: false,
                    withdrawn_after_close: false,
                });
                Ok(())
            }
            (EventKind::State, ObservationAction::Stop) => match open {
                Some(i) => {
                    self.list[i].until = Some(at);
                    self.list[i].open = false;
                    Ok(())
                }
                None => Err(format!("{behaviour} n'est pas en cours pour {participant}")),
            },
            (EventKind::Point, _) => Err(format!("{behaviour} est un événement ponctuel")),
            (EventKind::State, ObservationAction::Point) => {
                Err(format!("{behaviour} a une durée : début puis fin"))
            }
        }
    }

    pub fn note(
        &mut self,
        at: Millis,
        rater: RaterId,
        participant: Option<ParticipantId>,
        text: String,
        phase: Option<PhaseId>,
        puzzles: Vec<PuzzleId>,
    ) {
        let id = self.next_id();
        self.list.push(Observation {
            id,
            rater,
            participant,
            behaviour: None,
            modifier: None,
            at,
            until: None,
            closed_at_end: false,
            note: Some(text),
            phase,
            puzzles,
            retracted: None,
            open: false,
            consensus: false,
            withdrawn_after_close: false,
        });
    }

    /// Withdraws observation `id` (`after_close`: in the wash-up).
    pub fn retract(
        &mut self,
        at: Millis,
        rater: &RaterId,
        id: ObservationId,
        after_close: bool,
    ) -> Result<(), String> {
        match self.list.iter_mut().find(|o| o.id == id) {
            None => Err(format!("observation inconnue : {}", id.0)),
            Some(o) if o.retracted.is_some() => Err(format!("observation {} déjà retirée", id.0)),
            Some(o) => {
                o.retracted = Some((at, rater.clone()));
                o.withdrawn_after_close = after_close;
                o.open = false;
                Ok(())
            }
        }
    }

    /// The wash-up: `rater` takes observation `id` of another rater as their own (same
    /// participant, behaviour, modifier and times), marked [`Observation::consensus`].
    pub fn adopt(&mut self, rater: &RaterId, id: ObservationId) -> Result<(), String> {
        let Some(o) = self.list.iter().find(|o| o.id == id) else {
            return Err(format!("observation inconnue : {}", id.0));
        };
        if o.retracted.is_some() {
            return Err(format!("observation {} retirée : rien à reprendre", id.0));
        }
        if o.rater == *rater {
            return Err(format!("l'observation {} est déjà la vôtre", id.0));
        }
        if o.behaviour.is_none() || o.open {
            return Err(format!("l'observation {} n'est pas un code terminé", id.0));
        }
        let copy = Observation {
            id: self.next_id(),
            rater: rater.clone(),
            consensus: true,
            withdrawn_after_close: false,
            ..o.clone()
        };
        self.list.push(copy);
        Ok(())
    }

    /// Withdraws `rater`'s most recent standing observation.
    pub fn undo(&mut self, at: Millis, rater: &RaterId, after_close: bool) -> Result<(), String> {
        let last = self
            .list
            .iter()
            .rev()
            .find(|o| o.rater == *rater && o.retracted.is_none())
            .map(|o| o.id);
        match last {
            Some(id) => self.retract(at, rater, id, after_close),
            None => Err(format!("rien à annuler pour {rater}")),
        }
    }

    /// Closes every open state event at `at`, flagged as closed by the end of the session.
    pub fn close_open_states(&mut self, at: Millis) {
        for o in self.list.iter_mut().filter(|o| o.open) {
            o.until = Some(at);
            o.closed_at_end = true;
            o.open = false;
        }
    }
}
