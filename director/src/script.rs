//! Facilitator scripts: a whole session as timed commands and device events in RON, so that a
//! session can be played and replayed without a console (`boussole-director run --script`), and
//! the French account of what happened.
//!
//! ```ron
//! (
//!     scenario: "exemple",
//!     label: "Démo",
//!     participants: [(id: "P1", pseudonym: "Renard", colour: "#e07000", station: Some("poste_a"))],
//!     steps: [
//!         (at_s: 0, act: Command(StartGame)),
//!         (at_s: 90, act: Device(device: "tablette_a", event: Answer(puzzle: "p_cadenas",
//!             station: "poste_a", participant: None, answer: Text("0471")))),
//!     ],
//! )
//! ```

use crate::engine::{
    Command, DeviceEvent, DeviceId, Effect, Engine, GameEventKind, Input, Millis, ParticipantId,
    PersonId, PuzzleStatus,
};
use crate::session::{Session, SessionError};
use boussole_content::ids::StationId;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A facilitator script.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The scenario played.
    pub scenario: String,
    /// The session's label.
    pub label: String,
    /// Participants, enrolled at time 0.
    pub participants: Vec<ScriptParticipant>,
    /// What happens, at what time (seconds since the session was created).
    pub steps: Vec<Step>,
}

/// A participant of a script.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptParticipant {
    /// Pseudonymous id (`"P1"`).
    pub id: ParticipantId,
    /// Pseudonym shown in the console.
    pub pseudonym: String,
    /// Console colour.
    pub colour: String,
    /// Station.
    #[serde(default)]
    pub station: Option<StationId>,
    /// Real name, stored in the protected table only.
    #[serde(default)]
    pub name: Option<String>,
    /// The person of the register, by pseudonym: the one active person with this pseudonym,
    /// created when there is none (so two scripts played one after the other share their
    /// people). Without it, the participant is a new person of the register.
    #[serde(default)]
    pub person: Option<String>,
}

/// One timed step.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds since the session was created.
    pub at_s: f32,
    /// What happens.
    pub act: Act,
}

/// A step's action.
#[derive(Clone, Debug, Deserialize)]
pub enum Act {
    /// A facilitator command.
    Command(Command),
    /// A device event; the runner numbers each device's events from 1.
    Device {
        /// The device.
        device: DeviceId,
        /// The event.
        event: DeviceEvent,
    },
}

/// Parses a script.
///
/// # Errors
/// RON errors with line and column.
pub fn parse(text: &str) -> Result<Script, ron::error::SpannedError> {
    ron::from_str(text)
}

/// The inputs `script` makes, with their session times, in the order they are logged: each
/// participant's `AddParticipant` (and `AssignStation` when placed) at 0, then the steps in
/// time order (stable; a step earlier than the one before it is played at the same time), each
/// device's events numbered from 1. The closing `EndSession` [`run`] adds is not among them.
pub fn timeline(script: &Script) -> Vec<(Millis, Input)> {
    let mut out = Vec::new();
    for p in &script.participants {
        out.push((
            Millis(0),
            Input::Command(Command::AddParticipant {
                id: p.id.clone(),
                pseudonym: p.pseudonym.clone(),
                colour: p.colour.clone(),
            }),
        ));
        if p.station.is_some() {
            out.push((
                Millis(0),
                Input::Command(Command::AssignStation {
                    participant: p.id.clone(),
                    station: p.station.clone(),
                }),
            ));
        }
    }
    let mut steps: Vec<&Step> = script.steps.iter().collect();
    steps.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    let mut seqs: BTreeMap<DeviceId, u64> = BTreeMap::new();
    let mut last = Millis(0);
    for step in steps {
        let at = Millis(0).plus_secs(step.at_s).max(last);
        last = at;
        let input = match &step.act {
            Act::Command(c) => Input::Command(c.clone()),
            Act::Device { device, event } => {
                let seq = seqs.entry(device.clone()).or_insert(0);
                *seq += 1;
                Input::Device {
                    device: device.clone(),
                    seq: *seq,
                    event: event.clone(),
                }
            }
        };
        out.push((at, input));
    }
    out
}

/// Plays `script` into `session`: its [`timeline`] (participants first, then the steps in time
/// order), the participants' pseudonyms and names into the store, then closes the session a
/// second after the last step. Returns the refusals met, with their times, so a script that
/// does not fit its scenario is visible.
///
/// # Errors
/// Store failures; the steps before the failure are kept in the log.
pub fn run(session: &mut Session, script: &Script) -> Result<Vec<(Millis, String)>, SessionError> {
    let mut refusals = Vec::new();
    let mut note = |at: Millis, effects: Vec<Effect>| {
        for e in effects {
            if let Effect::Refused(why) = e {
                refusals.push((at, why));
            }
        }
    };
    let mut persons: BTreeMap<ParticipantId, PersonId> = BTreeMap::new();
    for p in &script.participants {
        let sid = session.id();
        let now = session.created_at_unix_ms();
        let store = session.store_mut();
        store
            .set_participant(sid, &p.id.0, &p.pseudonym)
            .map_err(|e| SessionError::Store(e.to_string()))?;
        if let Some(name) = &p.name {
            store
                .set_participant_name(sid, &p.id.0, Some(name))
                .map_err(|e| SessionError::Store(e.to_string()))?;
        }
        persons.insert(p.id.clone(), register_person(store, p, now)?);
    }
    let mut last = Millis(0);
    for (at, input) in timeline(script) {
        last = at;
        // An enrolment goes with its person, in one batch.
        let person = match &input {
            Input::Command(Command::AddParticipant { id, .. }) => {
                persons.get(id).map(|person| (id.clone(), person.clone()))
            }
            _ => None,
        };
        let mut batch = vec![(input, at)];
        if let Some((participant, person)) = person {
            batch.push((
                Input::Command(Command::AssignPerson {
                    participant,
                    person,
                    reason: String::new(),
                }),
                at,
            ));
        }
        for effects in session.submit_batch(batch)? {
            note(at, effects);
        }
    }
    if !session.engine().is_closed() {
        let end = last.plus_secs(1.0);
        note(
            end,
            session.submit(Input::Command(Command::EndSession), end)?,
        );
    }
    Ok(refusals)
}

/// The register person a script participant is: found by `person` (its pseudonym), else
/// created, with the participant's name.
fn register_person(
    store: &mut crate::store::Store,
    p: &ScriptParticipant,
    now_unix_ms: i64,
) -> Result<PersonId, SessionError> {
    let err = |e: crate::store::RegisterError| SessionError::Store(e.to_string());
    if let Some(pseudonym) = &p.person {
        let found: Vec<_> = store
            .persons()
            .map_err(err)?
            .into_iter()
            .filter(|q| {
                q.pseudonym == *pseudonym
                    && !q.archived
                    && q.merged_into.is_none()
                    && q.erased_at_unix_ms.is_none()
            })
            .collect();
        match found.as_slice() {
            [one] => return Ok(PersonId(one.id.clone())),
            [] => {}
            many => {
                return Err(SessionError::Store(format!(
                    "{} personnes du registre s'appellent « {pseudonym} » : le script ne peut pas choisir",
                    many.len()
                )));
            }
        }
    }
    let id = store
        .create_person(
            &crate::store::NewPerson {
                pseudonym: p.person.clone().unwrap_or_else(|| p.pseudonym.clone()),
                name: p.name.clone(),
                ..Default::default()
            },
            now_unix_ms,
        )
        .map_err(err)?;
    Ok(PersonId(id))
}

fn mmss(t: Millis) -> String {
    let s = t.0 / 1000;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// What happened in a session, in French: ending, puzzles (when, by whom, hints, wrong
/// answers), and per participant the behaviours coded, notes and game events.
pub fn report_fr(engine: &Engine) -> String {
    let s = engine.scenario();
    let mut o = String::new();
    let pseudo = |p: &ParticipantId| {
        engine
            .participants()
            .get(p)
            .map_or_else(|| p.0.clone(), |x| x.pseudonym.clone())
    };
    let _ = writeln!(o, "Séance « {} »", s.title.fr);
    match engine.ending() {
        Some(e) => {
            let text = s
                .endings
                .iter()
                .find(|x| x.id == *e)
                .map_or("", |x| x.text.fr.as_str());
            let _ = writeln!(o, "Fin : {e} — « {text} »");
        }
        None => {
            let _ = writeln!(o, "Fin : aucune (séance arrêtée avant la fin du jeu)");
        }
    }
    let _ = writeln!(
        o,
        "Temps restant au minuteur : {}",
        mmss(Millis(
            u64::try_from(engine.remaining_ms(engine.now())).unwrap_or(0)
        ))
    );
    let _ = writeln!(
        o,
        "\nÉnigmes (heures en minutes:secondes depuis l'ouverture de la séance) :"
    );
    for p in &s.puzzles {
        let hints = engine.hints_given().get(&p.id).copied().unwrap_or(0);
        let wrong = engine
            .game_events()
            .iter()
            .filter(|g| matches!(&g.kind, GameEventKind::WrongAnswer(x) if *x == p.id))
            .count();
        let status = match engine.puzzles().get(&p.id) {
            Some(PuzzleStatus::Solved { at, by, forced }) => {
                let who = by
                    .as_ref()
                    .map(|b| format!(" par {}", pseudo(b)))
                    .unwrap_or_default();
                let forced = forced
                    .as_ref()
                    .map(|r| format!(" (forcée : {r})"))
                    .unwrap_or_default();
                format!("résolue à {}{who}{forced}", mmss(*at))
            }
            Some(PuzzleStatus::Open(at)) => format!("ouverte depuis {}, non résolue", mmss(*at)),
            _ => "jamais ouverte".to_owned(),
        };
        let _ = writeln!(
            o,
            "  - {} : {status} ; {hints} indice(s), {wrong} mauvaise(s) réponse(s)",
            p.title.fr
        );
    }
    let _ = writeln!(o, "\nParticipant·es :");
    for (id, part) in engine.participants() {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut notes = Vec::new();
        let mut flagged = 0;
        for ob in engine
            .observations()
            .iter()
            .filter(|x| x.participant.as_ref() == Some(id) && x.retracted.is_none())
        {
            match (&ob.behaviour, &ob.note) {
                (Some(b), _) => {
                    let label = engine_label(engine, b.as_str());
                    *counts.entry(label).or_default() += 1;
                    if ob.closed_at_end {
                        flagged += 1;
                    }
                }
                (None, Some(n)) => notes.push(n.clone()),
                (None, None) => {}
            }
        }
        let solved = engine
            .game_events()
            .iter()
            .filter(|g| {
                g.participant.as_ref() == Some(id) && matches!(g.kind, GameEventKind::Solved(_))
            })
            .count();
        let asked = engine
            .game_events()
            .iter()
            .filter(|g| {
                g.participant.as_ref() == Some(id)
                    && matches!(g.kind, GameEventKind::HintRequested(_))
            })
            .count();
        let total: usize = counts.values().sum();
        let _ = writeln!(
            o,
            "  - {} ({id}) : {total} observation(s), {solved} énigme(s) résolue(s), {asked} demande(s) d'indice",
            part.pseudonym
        );
        for (label, n) in &counts {
            let _ = writeln!(o, "      {label} ×{n}");
        }
        if flagged > 0 {
            let _ = writeln!(
                o,
                "      ({flagged} état(s) encore ouvert(s) à la fin, fermé(s) à la clôture)"
            );
        }
        for n in notes {
            let _ = writeln!(o, "      note : {n}");
        }
    }
    let group_notes: Vec<&str> = engine
        .observations()
        .iter()
        .filter(|x| x.participant.is_none() && x.retracted.is_none())
        .filter_map(|x| x.note.as_deref())
        .collect();
    if !group_notes.is_empty() {
        let _ = writeln!(o, "\nNotes sur le groupe :");
        for n in group_notes {
            let _ = writeln!(o, "  - {n}");
        }
    }
    o
}

fn engine_label(engine: &Engine, behaviour: &str) -> String {
    engine
        .grid()
        .behaviours
        .iter()
        .find(|b| b.id.as_str() == behaviour)
        .map_or_else(|| behaviour.to_owned(), |b| b.label.clone())
}
