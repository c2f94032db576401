//! A participant's rights over their data (GDPR articles 15 and 17): erasure of their name and
//! free text on request, and the export of everything held about them (right of access).
//!
//! Erasure rewrites log records in place, the one exception to the append-only log: each
//! record is decoded as an [`Input`], the participant's free text is replaced by
//! [`REDACTED`], and it is re-encoded with the same position, time and kind, so the log still
//! decodes and replays (ids, codes, answers, times are kept). What is erased:
//! - their pseudonym in `AddParticipant` (it becomes [`erased_pseudonym`], unique per id so the
//!   exports still tell participants apart) and in the store's `participants` table;
//! - their name in the protected table;
//! - notes about them, their comments in questionnaire answers (`Rating`), the facilitator's
//!   comment and pistes d'orientation for them (`WriteComment`), the reasons of level decisions
//!   about them (`DecideLevel`; an empty reason stays empty);
//! - in every other free text of the session (notes about the group or others, other comments,
//!   forced-solve reasons), each occurrence of their name or pseudonym.
//!
//! What stays: the coded observations and game events under their id (they no longer lead to a
//! person once the name and pseudonym are gone) and the answers typed at stations (the game's
//! outcome depends on them). Purging the session removes everything.

use crate::engine::{
    Command, DeviceEvent, Engine, GameEvent, ImmersionRun, Input, Millis, Observation,
    ParticipantId,
};
use crate::evaluation::{Proposed, evaluate};
use crate::record::{date_fr, lead_rater};
use crate::session::replay;
use crate::store::{EraseError, Erased, LogRecord, ReadError, SessionId, Store};
use boussole_content::ContentSet;
use serde::Serialize;
use std::collections::BTreeSet;

/// What replaces erased text.
pub const REDACTED: &str = "[effacé]";

/// Mentions shorter than this are not searched in other texts (a two-letter pseudonym would
/// match inside words).
const MIN_MENTION_CHARS: usize = 3;

/// The pseudonym an erased participant is left with: `effacé-<id>` (unique in the session, so
/// BORIS subjects stay distinct).
pub fn erased_pseudonym(participant: &ParticipantId) -> String {
    format!("effacé-{participant}")
}

/// Why an erasure or an access export failed.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The participant is in none of the sessions looked at.
    #[error("participant {participant} is in no session{}", session.map_or_else(String::new, |s| format!(" (session {s})")))]
    UnknownParticipant {
        /// The participant.
        participant: ParticipantId,
        /// The one session looked at, if one.
        session: Option<SessionId>,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A log record could not be decoded or re-encoded; nothing of that session changed.
    #[error(transparent)]
    Erase(#[from] EraseError<postcard::Error>),
    /// A session could not be replayed.
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
}

/// Replaces every occurrence of each mention in `text`; returns whether it changed.
fn scrub(text: &mut String, mentions: &[String]) -> bool {
    let mut changed = false;
    for m in mentions {
        if text.contains(m.as_str()) {
            *text = text.replace(m.as_str(), REDACTED);
            changed = true;
        }
    }
    changed
}

/// Sets `text` to [`REDACTED`] unless it is empty or already redacted; returns whether it
/// changed.
fn redact(text: &mut String) -> bool {
    if text.is_empty() || text == REDACTED {
        return false;
    }
    REDACTED.clone_into(text);
    true
}

/// Erases `who`'s free text from `input` (see the [module documentation](self)); `mentions`
/// are their names and pseudonyms, replaced wherever else they appear. Returns whether the
/// input changed.
pub fn redact_input(input: &mut Input, who: &ParticipantId, mentions: &[String]) -> bool {
    let mentions: Vec<String> = mentions
        .iter()
        .filter(|m| m.chars().count() >= MIN_MENTION_CHARS && m.as_str() != REDACTED)
        .cloned()
        .collect();
    match input {
        Input::Command(c) => match c {
            Command::AddParticipant { id, pseudonym, .. } if id == who => {
                let erased = erased_pseudonym(who);
                let changed = *pseudonym != erased;
                *pseudonym = erased;
                changed
            }
            Command::Note {
                participant, text, ..
            } => {
                if participant.as_ref() == Some(who) {
                    redact(text)
                } else {
                    scrub(text, &mentions)
                }
            }
            Command::WriteComment {
                participant,
                comment,
                recommendations,
            } => {
                let mine = participant == who;
                let mut changed = if mine {
                    redact(comment)
                } else {
                    scrub(comment, &mentions)
                };
                for r in recommendations {
                    changed |= if mine { redact(r) } else { scrub(r, &mentions) };
                }
                changed
            }
            Command::DecideLevel {
                participant,
                reason,
                ..
            } => {
                if participant == who {
                    redact(reason)
                } else {
                    scrub(reason, &mentions)
                }
            }
            Command::ForceSolve { reason, .. } => scrub(reason, &mentions),
            _ => false,
        },
        Input::Device {
            event:
                DeviceEvent::Rating {
                    participant,
                    comment: Some(comment),
                    ..
                },
            ..
        } => {
            if participant == who {
                redact(comment)
            } else {
                scrub(comment, &mentions)
            }
        }
        Input::Device { .. } | Input::Link { .. } => false,
    }
}

/// `who`'s pseudonyms as enrolled in `records` (decodable ones only).
fn pseudonyms_in(records: &[LogRecord], who: &ParticipantId) -> BTreeSet<String> {
    records
        .iter()
        .filter_map(|r| postcard::from_bytes::<Input>(&r.payload).ok())
        .filter_map(|input| match input {
            Input::Command(Command::AddParticipant { id, pseudonym, .. }) if id == *who => {
                Some(pseudonym)
            }
            _ => None,
        })
        .collect()
}

/// What was erased in one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionErasure {
    /// The session.
    pub session: SessionId,
    /// What changed there.
    pub erased: Erased,
}

/// Erases `who` from `session`, or from every session they are in: name row, pseudonym, their
/// free text and mentions of them (see the [module documentation](self)). Each session is one
/// transaction. Sessions they are not in are left alone.
///
/// # Errors
///
/// [`PrivacyError::UnknownParticipant`] when they are in none of the sessions (nothing
/// changed), [`PrivacyError::Read`], [`PrivacyError::Erase`] (a record that does not decode:
/// that session is unchanged, earlier ones are erased).
pub fn erase_participant(
    store: &mut Store,
    who: &ParticipantId,
    session: Option<SessionId>,
) -> Result<Vec<SessionErasure>, PrivacyError> {
    let sessions: Vec<SessionId> = match session {
        Some(s) => {
            store
                .session(s)?
                .ok_or(ReadError::UnknownSession { session: s })?;
            vec![s]
        }
        None => store.sessions()?.into_iter().map(|i| i.id).collect(),
    };
    // Every name and pseudonym of theirs, from the sessions looked at, before anything goes.
    let mut targets = Vec::new();
    let mut mentions: BTreeSet<String> = BTreeSet::new();
    for s in sessions {
        let records = store.log(s)?;
        let mut known = false;
        for p in store.participants(s)? {
            if p.id == who.0 {
                known = true;
                mentions.insert(p.pseudonym);
            }
        }
        let enrolled = pseudonyms_in(&records, who);
        known |= !enrolled.is_empty();
        mentions.extend(enrolled);
        if let Some(name) = store.participant_name(s, &who.0)? {
            known = true;
            mentions.insert(name);
        }
        if known {
            targets.push(s);
        }
    }
    if targets.is_empty() {
        return Err(PrivacyError::UnknownParticipant {
            participant: who.clone(),
            session,
        });
    }
    // Longest first, so a name is replaced whole before a part of it that is a pseudonym.
    let mut mentions: Vec<String> = mentions.into_iter().collect();
    mentions.sort_by_key(|m| std::cmp::Reverse(m.chars().count()));
    let pseudonym = erased_pseudonym(who);
    let mut out = Vec::new();
    for s in targets {
        let erased = store.erase_participant(s, &who.0, &pseudonym, |r| {
            let mut input: Input = postcard::from_bytes(&r.payload)?;
            if redact_input(&mut input, who, &mentions) {
                postcard::to_allocvec(&input).map(Some)
            } else {
                Ok(None)
            }
        })?;
        out.push(SessionErasure { session: s, erased });
    }
    Ok(out)
}

/// The French account of an erasure.
pub fn erasure_fr(who: &ParticipantId, done: &[SessionErasure]) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(o, "Effacement de {who} :");
    for d in done {
        let _ = writeln!(
            o,
            "- séance {} : {}, {}, {} entrée(s) du journal réécrite(s) (texte libre remplacé par « {REDACTED} »)",
            d.session,
            if d.erased.name {
                "nom supprimé"
            } else {
                "aucun nom enregistré"
            },
            if d.erased.pseudonym {
                format!("pseudonyme remplacé par « {} »", erased_pseudonym(who))
            } else {
                "pseudonyme remplacé dans le journal".to_owned()
            },
            d.erased.records
        );
    }
    let _ = writeln!(
        o,
        "Restent, sous l'identifiant {who} seul : les observations codées et les événements du jeu. Pour tout supprimer, purgez la séance."
    );
    o
}

/// Everything held about one participant, for the right of access: what `participant export`
/// writes as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct AccessExport {
    /// The participant's id.
    pub participant: ParticipantId,
    /// When the export was made, in French words.
    pub exported_on: String,
    /// A French sentence on what this file is.
    pub about: String,
    /// Each session they are in, oldest first.
    pub sessions: Vec<SessionData>,
}

/// What one session holds about the participant.
#[derive(Clone, Debug, Serialize)]
pub struct SessionData {
    /// The session number.
    pub session: i64,
    /// The scenario's id.
    pub scenario: String,
    /// The scenario's French title.
    pub scenario_title: String,
    /// The date, in French words.
    pub date: String,
    /// The facilitator's label.
    pub label: String,
    /// Their name from the protected table, if recorded.
    pub name: Option<String>,
    /// Their pseudonym.
    pub pseudonym: String,
    /// Behaviours coded about them and notes about them, with labels (withdrawn ones flagged).
    pub observations: Vec<ObservationData>,
    /// What the game recorded for them (puzzles solved, hints, answers to questionnaires...).
    pub game_events: Vec<GameEvent>,
    /// Immersions they did.
    pub immersions: Vec<ImmersionRun>,
    /// Levels proposed from the observations and the facilitator's decisions.
    pub levels: Vec<LevelData>,
    /// The facilitator's comment.
    pub comment: String,
    /// Pistes d'orientation.
    pub recommendations: Vec<String>,
    /// When the debrief meeting was recorded (session time, mm:ss.mmm), if it was.
    pub restitution: Option<String>,
    /// Their latest answer on sending the synthesis on, if given.
    pub consent: Option<bool>,
}

/// One observation or note, with the behaviour's French label.
#[derive(Clone, Debug, Serialize)]
pub struct ObservationData {
    /// Session time, mm:ss.mmm.
    pub at: String,
    /// The behaviour's French label, or "note".
    pub what: String,
    /// The observation as logged.
    pub observation: Observation,
}

/// A competency's proposed level and the decision.
#[derive(Clone, Debug, Serialize)]
pub struct LevelData {
    /// The competency's id.
    pub competency: String,
    /// Its French label.
    pub label: String,
    /// The proposal, in French ("3 — Maîtrise", "non observé").
    pub proposed: String,
    /// The level the facilitator retained (`None` for "non observé"), if decided.
    pub decided: Option<Option<u8>>,
    /// The facilitator's reason.
    pub reason: Option<String>,
}

fn session_data(
    info: &crate::store::SessionInfo,
    name: Option<String>,
    engine: &Engine,
    who: &ParticipantId,
    content: &ContentSet,
) -> SessionData {
    let grid = engine.grid();
    let observations = engine
        .observations()
        .iter()
        .filter(|o| o.participant.as_ref() == Some(who))
        .map(|o| ObservationData {
            at: o.at.to_string(),
            what: o.behaviour.as_ref().map_or_else(
                || "note".to_owned(),
                |b| {
                    grid.behaviours
                        .iter()
                        .find(|x| x.id == *b)
                        .map_or_else(|| b.to_string(), |x| x.label.clone())
                },
            ),
            observation: o.clone(),
        })
        .collect();
    let rubric = content
        .rubrics
        .iter()
        .map(|r| &r.value)
        .find(|r| r.id == engine.scenario().rubric);
    let levels = rubric
        .map(|rubric| {
            let e = evaluate(engine, rubric, lead_rater(engine).as_ref());
            e.participants
                .into_iter()
                .filter(|p| p.participant == *who)
                .flat_map(|p| p.competencies)
                .map(|c| LevelData {
                    competency: c.competency.to_string(),
                    label: c.label,
                    proposed: match c.proposed {
                        Proposed::Level { level, label, .. } => format!("{level} — {label}"),
                        Proposed::NotObserved { .. } => "non observé".into(),
                    },
                    decided: c.decision.as_ref().map(|d| d.decided.level),
                    reason: c.decision.map(|d| d.decided.reason),
                })
                .collect()
        })
        .unwrap_or_default();
    let debrief = engine.debriefs().get(who).cloned().unwrap_or_default();
    SessionData {
        session: info.id.0,
        scenario: info.scenario.clone(),
        scenario_title: engine.scenario().title.fr.clone(),
        date: date_fr(info.created_at_unix_ms),
        label: info.label.clone(),
        name,
        pseudonym: engine
            .participants()
            .get(who)
            .map(|p| p.pseudonym.clone())
            .unwrap_or_default(),
        observations,
        game_events: engine
            .game_events()
            .iter()
            .filter(|g| g.participant.as_ref() == Some(who))
            .cloned()
            .collect(),
        immersions: engine
            .immersion_runs()
            .filter(|r| r.participant == *who)
            .cloned()
            .collect(),
        levels,
        comment: debrief.comment,
        recommendations: debrief.recommendations,
        restitution: debrief.restitution.map(|t: Millis| t.to_string()),
        consent: debrief.consent.map(|(given, _)| given),
    }
}

/// Everything held about `who` across the store's sessions.
///
/// # Errors
///
/// [`PrivacyError::UnknownParticipant`] when they are in no session, [`PrivacyError::Read`],
/// [`PrivacyError::Session`] when a session they may be in cannot be replayed.
pub fn access_export(
    store: &Store,
    content: &ContentSet,
    who: &ParticipantId,
    now_unix_ms: i64,
) -> Result<AccessExport, PrivacyError> {
    let mut sessions = Vec::new();
    for info in store.sessions()? {
        let (info, engine) = replay(store, content, info.id)?;
        if !engine.participants().contains_key(who) {
            continue;
        }
        let name = store.participant_name(info.id, &who.0)?;
        sessions.push(session_data(&info, name, &engine, who, content));
    }
    if sessions.is_empty() {
        return Err(PrivacyError::UnknownParticipant {
            participant: who.clone(),
            session: None,
        });
    }
    Ok(AccessExport {
        participant: who.clone(),
        exported_on: date_fr(now_unix_ms),
        about: "Toutes les données que la Boussole de l'orientation conserve sur vous dans le journal des séances (droit d'accès, RGPD article 15).".into(),
        sessions,
    })
}
