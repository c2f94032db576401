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
use std::path::{Path, PathBuf};

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
    /// No person of the register has this id.
    #[error("personne inconnue : {0}")]
    UnknownPerson(String),
    /// The register failed.
    #[error(transparent)]
    Register(#[from] crate::store::RegisterError),
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
    /// The person's slot there.
    pub slot: ParticipantId,
    /// What changed there.
    pub erased: Erased,
}

/// Erases one person (DESIGN principle 8: exactly one person, whatever their slot labels):
/// in every session they took part in (merged duplicates included), their name row, their
/// pseudonym, their free text and mentions of them (see the [module documentation](self)),
/// each session in one transaction; then their register entry becomes a tombstone (name,
/// journal, prescriber and date gone) and the erasure is recorded, so that a backup restored
/// later is erased again ([`reapply_erasures`]). Other people's slots, even with the same
/// label in another session, are left alone.
///
/// # Errors
///
/// [`PrivacyError::UnknownPerson`] (nothing changed), [`PrivacyError::Read`],
/// [`PrivacyError::Erase`] (a record that does not decode: that session is unchanged, earlier
/// ones are erased; erasing again finishes the job), [`PrivacyError::Register`].
pub fn erase_person(
    store: &mut Store,
    person: &str,
    now_unix_ms: i64,
) -> Result<PersonErasure, PrivacyError> {
    let Some(info) = store.person(person)? else {
        return Err(PrivacyError::UnknownPerson(person.to_owned()));
    };
    let targets: Vec<(SessionId, ParticipantId)> = store
        .appearances(person)?
        .into_iter()
        .map(|(s, slot)| (s, ParticipantId(slot)))
        .collect();
    // Every name and pseudonym of theirs, before anything goes.
    let mut mentions: BTreeSet<String> = BTreeSet::new();
    let root = store.canonical_person(person)?;
    for p in store.persons()? {
        if store.canonical_person(&p.id)? == root {
            if p.erased_at_unix_ms.is_none() {
                mentions.insert(p.pseudonym.clone());
            }
            if let Some(name) = store.person_name(&p.id)? {
                mentions.insert(name);
            }
        }
    }
    for (s, who) in &targets {
        let records = store.log(*s)?;
        for p in store.participants(*s)? {
            if p.id == who.0 {
                mentions.insert(p.pseudonym);
            }
        }
        mentions.extend(pseudonyms_in(&records, who));
        if let Some(name) = store.participant_name(*s, &who.0)? {
            mentions.insert(name);
        }
    }
    mentions.remove(crate::store::ERASED_PSEUDONYM);
    // Longest first, so a name is replaced whole before a part of it that is a pseudonym.
    let mut mentions: Vec<String> = mentions.into_iter().collect();
    mentions.sort_by_key(|m| std::cmp::Reverse(m.chars().count()));
    let mut sessions = Vec::new();
    for (s, who) in targets {
        let pseudonym = erased_pseudonym(&who);
        let erased = store.erase_participant(s, &who.0, &pseudonym, |r| {
            let mut input: Input = postcard::from_bytes(&r.payload)?;
            if redact_input(&mut input, &who, &mentions) {
                postcard::to_allocvec(&input).map(Some)
            } else {
                Ok(None)
            }
        })?;
        sessions.push(SessionErasure {
            session: s,
            slot: who,
            erased,
        });
    }
    let persons = store.erase_person(person, now_unix_ms)?;
    Ok(PersonErasure {
        person: info.id,
        persons,
        sessions,
    })
}

/// Erases again, in a store restored from a backup, the persons that `erasures` (the
/// `(person, Unix ms)` list of the store the backup replaces, [`Store::erasures`]) says were
/// erased after the backup was made. Persons the restored store does not know, or already
/// erased there, are skipped. Returns the persons erased.
///
/// # Errors
///
/// As [`erase_person`].
pub fn reapply_erasures(
    store: &mut Store,
    erasures: &[(String, i64)],
) -> Result<Vec<String>, PrivacyError> {
    let mut done = Vec::new();
    for (person, at) in erasures {
        match store.person(person)? {
            Some(p) if p.erased_at_unix_ms.is_none() => {
                erase_person(store, person, *at)?;
                done.push(person.clone());
            }
            _ => {}
        }
    }
    Ok(done)
}

/// What [`erase_person`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonErasure {
    /// The person asked for.
    pub person: String,
    /// Every register entry erased (the person and those merged with them).
    pub persons: Vec<String>,
    /// Each session they were in, with their slot.
    pub sessions: Vec<SessionErasure>,
}

/// The French account of an erasure.
pub fn erasure_fr(done: &PersonErasure) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(o, "Effacement de la personne {} :", done.person);
    if done.sessions.is_empty() {
        let _ = writeln!(o, "- elle n'avait participé à aucune séance");
    }
    for d in &done.sessions {
        let _ = writeln!(
            o,
            "- séance {}, place {} : {}, {}, {} entrée(s) du journal réécrite(s) (texte libre remplacé par « {REDACTED} »)",
            d.session,
            d.slot,
            if d.erased.name {
                "nom supprimé"
            } else {
                "aucun nom enregistré"
            },
            if d.erased.pseudonym {
                format!("pseudonyme remplacé par « {} »", erased_pseudonym(&d.slot))
            } else {
                "pseudonyme remplacé dans le journal".to_owned()
            },
            d.erased.records
        );
    }
    let _ = writeln!(
        o,
        "Registre : nom, prescripteur, date d'entrée et historique supprimés ({} fiche(s)) ; l'effacement est noté pour être réappliqué si une sauvegarde plus ancienne est restaurée.",
        done.persons.len()
    );
    let _ = writeln!(
        o,
        "Restent, sous un identifiant qui ne mène plus à personne : les observations codées et les événements du jeu. Pour tout supprimer, purgez les séances."
    );
    o
}

/// Everything held about one participant, for the right of access: what `participant export`
/// writes as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct AccessExport {
    /// The person's id in the register.
    pub person: String,
    /// What the register holds about them.
    pub register: RegisterData,
    /// When the export was made, in French words.
    pub exported_on: String,
    /// A French sentence on what this file is.
    pub about: String,
    /// Each session they are in, oldest first.
    pub sessions: Vec<SessionData>,
}

/// What the register holds about a person.
#[derive(Clone, Debug, Serialize)]
pub struct RegisterData {
    /// Their pseudonym.
    pub pseudonym: String,
    /// Their civil name, if recorded.
    pub name: Option<String>,
    /// When they entered the orientation phase (`YYYY-MM-DD`).
    pub entered_on: Option<String>,
    /// Their prescriber.
    pub prescriber_name: String,
    /// The prescriber's structure or antenne.
    pub prescriber_structure: String,
    /// Archived.
    pub archived: bool,
    /// Duplicates merged with them (ids).
    pub merged: Vec<String>,
    /// Every change to their entry: date in French, what, detail.
    pub journal: Vec<(String, String, String)>,
}

/// What one session holds about the participant.
#[derive(Clone, Debug, Serialize)]
pub struct SessionData {
    /// The session number.
    pub session: i64,
    /// Their slot in it (`P3`).
    pub slot: String,
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
    /// That level in words ("1 — À développer", "non observé"), if decided.
    pub decided_label: Option<String>,
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
                    decided_label: c.decision.as_ref().map(|d| match d.decided.level {
                        Some(n) => rubric
                            .levels
                            .get(usize::from(n).saturating_sub(1))
                            .map_or_else(|| n.to_string(), |name| format!("{n} — {name}")),
                        None => "non observé".into(),
                    }),
                    reason: c.decision.map(|d| d.decided.reason),
                })
                .collect()
        })
        .unwrap_or_default();
    let debrief = engine.debriefs().get(who).cloned().unwrap_or_default();
    SessionData {
        session: info.id.0,
        slot: who.0.clone(),
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

/// Everything held about one person: their register entry and journal, and each session they
/// took part in (merged duplicates included), under their slot there.
///
/// # Errors
///
/// [`PrivacyError::UnknownPerson`], [`PrivacyError::Read`], [`PrivacyError::Register`],
/// [`PrivacyError::Session`] when one of their sessions cannot be replayed.
pub fn access_export(
    store: &Store,
    content: &ContentSet,
    person: &str,
    now_unix_ms: i64,
) -> Result<AccessExport, PrivacyError> {
    let Some(info) = store.person(person)? else {
        return Err(PrivacyError::UnknownPerson(person.to_owned()));
    };
    let root = store.canonical_person(person)?;
    let mut merged = Vec::new();
    let mut journal = Vec::new();
    for p in store.persons()? {
        if store.canonical_person(&p.id)? != root {
            continue;
        }
        if p.id != info.id {
            merged.push(p.id.clone());
        }
        for j in store.person_journal(&p.id)? {
            journal.push((j.at_unix_ms, p.id.clone(), j.change, j.detail));
        }
    }
    journal.sort();
    let mut sessions = Vec::new();
    for (sid, slot) in store.appearances(person)? {
        let (sinfo, engine) = replay(store, content, sid)?;
        let who = ParticipantId(slot);
        let name = store.participant_name(sid, &who.0)?;
        sessions.push(session_data(&sinfo, name, &engine, &who, content));
    }
    Ok(AccessExport {
        person: info.id.clone(),
        register: RegisterData {
            pseudonym: info.pseudonym.clone(),
            name: store.person_name(&info.id)?,
            entered_on: info.entered_on.clone(),
            prescriber_name: info.prescriber_name.clone(),
            prescriber_structure: info.prescriber_structure.clone(),
            archived: info.archived,
            merged,
            journal: journal
                .into_iter()
                .map(|(at, _, change, detail)| (date_fr(at), change, detail))
                .collect(),
        },
        exported_on: date_fr(now_unix_ms),
        about: "Toutes les données que la Boussole de l'orientation conserve sur vous : votre fiche du registre et le journal des séances (droit d'accès, RGPD article 15).".into(),
        sessions,
    })
}

/// The file beside the database that lists the persons erased on request (ids and times only:
/// pseudonymous), so that restoring a backup made before an erasure erases them again even when
/// the database itself is lost.
pub fn erasures_file(db: &Path) -> PathBuf {
    db.parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join("erasures.tsv")
}

/// Appends erased persons to [`erasures_file`], synced to the disk.
///
/// # Errors
/// The file cannot be written.
pub fn record_erasure(db: &Path, persons: &[String], now_unix_ms: i64) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write;
    let path = erasures_file(db);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    for p in persons {
        writeln!(f, "{p}\t{now_unix_ms}").with_context(|| format!("writing {}", path.display()))?;
    }
    f.sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The erasures listed in [`erasures_file`] (a missing file is an empty list; a bad line is
/// skipped).
///
/// # Errors
/// The file exists but cannot be read.
pub fn read_erasures(path: &Path) -> anyhow::Result<Vec<(String, i64)>> {
    use anyhow::Context as _;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|l| {
            let (p, at) = l.split_once('\t')?;
            Some((p.to_owned(), at.trim().parse().ok()?))
        })
        .collect())
}

/// Erases `person` on their request from a console ([`crate::register::RegisterRequest::Erase`]):
/// `confirm` must repeat their pseudonym (spaces around it and case ignored); refused while
/// they hold a slot of `hosted` (the session the director runs: its engine holds their free
/// text in memory). Logged under `actor`, recorded in the erasures file beside the store so a
/// restored backup erases them again. Returns the French account.
///
/// # Errors
/// A French message: an unknown person, a confirmation that does not match, the person in the
/// hosted session, a store failure (nothing erased).
pub fn erase_on_request(
    store: &mut Store,
    hosted: Option<&Engine>,
    person: &str,
    confirm: &str,
    actor: &str,
    now_unix_ms: i64,
) -> Result<String, String> {
    let Some(info) = store.person(person).map_err(|e| e.to_string())? else {
        return Err(format!("personne inconnue du registre : {person}"));
    };
    if confirm.trim().to_lowercase() != info.pseudonym.trim().to_lowercase() {
        return Err(format!(
            "effacement non fait : tapez exactement « {} » pour confirmer",
            info.pseudonym
        ));
    }
    if let Some(engine) = hosted {
        let root = store.canonical_person(person).map_err(|e| e.to_string())?;
        let inside = engine.participants().values().any(|p| {
            p.person.as_ref().is_some_and(|id| {
                id.as_str() == person
                    || store.canonical_person(id.as_str()).is_ok_and(|c| c == root)
            })
        });
        if inside {
            return Err(format!(
                "« {} » est dans la séance ouverte : revenez d'abord à l'accueil (« Revenir à l'accueil sans séance »)",
                info.pseudonym
            ));
        }
    }
    let _ = store.log_access(&crate::store::AccessEntry {
        at_unix_ms: now_unix_ms,
        actor: actor.to_owned(),
        action: crate::store::AccessAction::ParticipantErased,
        session: None,
        participant: Some(person.to_owned()),
        detail: "demande d'effacement (console)".into(),
    });
    let done = erase_person(store, person, now_unix_ms)
        .map_err(|e| format!("effacement de « {} » impossible : {e}", info.pseudonym))?;
    if let Some(db) = store.file() {
        record_erasure(&db, &done.persons, now_unix_ms).map_err(|e| {
            format!(
                "« {} » est effacée, mais la liste des effacements n'a pas pu être écrite ({e}) : une sauvegarde restaurée pourrait la faire revenir",
                info.pseudonym
            )
        })?;
    }
    Ok(erasure_fr(&done))
}

/// What is held about a person, as a document to hand them, in simple French: who they are
/// for the programme, each session (what was noted of their behaviour, the levels, the
/// comment), their results from other tools, what the game and the headsets recorded (counted),
/// and their rights. `results` are theirs from the store.
pub fn data_document(
    export: &AccessExport,
    results: &[crate::store::ExternalResult],
) -> boussole_synthesis::DataDocument {
    use boussole_synthesis::{DataDocument, DataSection};
    let r = &export.register;
    let shown = r.name.clone().unwrap_or_else(|| r.pseudonym.clone());
    let mut sections = vec![DataSection {
        heading: "Ce document".into(),
        text: vec![
            "Vous avez demandé ce que la Boussole de l'orientation garde sur vous. Le voici, en entier.".into(),
            "Un second fichier, au format JSON, contient les mêmes données pour un ordinateur.".into(),
        ],
        rows: Vec::new(),
    }];
    let mut who = vec![("Pseudonyme".to_owned(), r.pseudonym.clone())];
    if let Some(name) = &r.name {
        who.push(("Nom".into(), name.clone()));
    }
    if let Some(on) = &r.entered_on {
        who.push((
            "Entrée dans la phase d'orientation".into(),
            crate::roadmap::day_fr(on),
        ));
    }
    if !r.prescriber_name.is_empty() {
        who.push(("Prescripteur".into(), r.prescriber_name.clone()));
    }
    if !r.prescriber_structure.is_empty() {
        who.push(("Structure".into(), r.prescriber_structure.clone()));
    }
    who.push(("Numéro dans le registre".into(), export.person.clone()));
    sections.push(DataSection {
        heading: "Qui vous êtes pour le programme".into(),
        text: vec![
            "Dans les séances, vous apparaissez sous votre pseudonyme, jamais sous votre nom."
                .into(),
        ],
        rows: who,
    });
    if !r.journal.is_empty() {
        sections.push(DataSection {
            heading: "Les changements de votre fiche".into(),
            text: Vec::new(),
            rows: r
                .journal
                .iter()
                // (the detail is the French account; the kind is a code)
                .map(|(when, what, detail)| {
                    (
                        when.clone(),
                        if detail.is_empty() {
                            what.clone()
                        } else {
                            detail.clone()
                        },
                    )
                })
                .collect(),
        });
    }
    for sd in &export.sessions {
        let mut text = vec![format!(
            "Vous étiez « {} » (place {}). Ce que l'animateur ou l'animatrice a noté de votre comportement, minute par minute :",
            sd.pseudonym, sd.slot
        )];
        // Two people may observe: each line says who, then.
        let raters: BTreeSet<&str> = sd
            .observations
            .iter()
            .map(|o| o.observation.rater.as_str())
            .collect();
        let rows: Vec<(String, String)> = sd
            .observations
            .iter()
            .map(|o| {
                let at = o.at.split('.').next().unwrap_or(&o.at).to_owned();
                let mut what = match (&o.observation.note, o.observation.retracted.is_some()) {
                    (_, true) => format!("{} (retiré ensuite)", o.what),
                    (Some(note), false) => format!("note : {note}"),
                    (None, false) => o.what.clone(),
                };
                if raters.len() > 1 {
                    what = format!("{what} — noté par {}", o.observation.rater.as_str());
                }
                (at, what)
            })
            .collect();
        if rows.is_empty() {
            text[0] = format!(
                "Vous étiez « {} » (place {}). Rien n'a été noté de votre comportement.",
                sd.pseudonym, sd.slot
            );
        }
        let mut levels: Vec<(String, String)> = sd
            .levels
            .iter()
            .map(|l| {
                let decided = match &l.decided_label {
                    Some(label) => format!("retenu : {label}"),
                    None => format!("proposé : {}", l.proposed),
                };
                (l.label.clone(), decided)
            })
            .collect();
        if !sd.comment.is_empty() {
            levels.push(("Commentaire".into(), sd.comment.clone()));
        }
        for p in &sd.recommendations {
            levels.push(("Piste".into(), p.clone()));
        }
        if !sd.game_events.is_empty() {
            text.push(format!(
                "Le jeu a aussi enregistré {} de vos actions (énigmes, indices, réponses).",
                sd.game_events.len()
            ));
        }
        if !sd.immersions.is_empty() {
            text.push(format!(
                "Vous avez fait {} immersion(s) dans un casque ; vos réponses à leurs questions sont dans le fichier JSON.",
                sd.immersions.len()
            ));
        }
        if sd.restitution.is_some() {
            text.push("La restitution avec vous a eu lieu.".into());
        }
        match sd.consent {
            Some(true) => text.push(
                "Vous avez accepté que la synthèse soit transmise à votre prescripteur.".into(),
            ),
            Some(false) => {
                text.push("Vous n'avez pas accepté que la synthèse soit transmise.".into())
            }
            None => {}
        }
        let heading = format!("Séance du {} : {}", sd.date, sd.scenario_title);
        sections.push(DataSection {
            heading: heading.clone(),
            text,
            rows,
        });
        if !levels.is_empty() {
            sections.push(DataSection {
                heading: format!("{heading} — vos niveaux"),
                text: vec![
                    "Le niveau proposé vient de ce qui a été noté ; l'animateur ou l'animatrice le retient ou le change, avec une raison.".into(),
                ],
                rows: levels,
            });
        }
    }
    if !results.is_empty() {
        sections.push(DataSection {
            heading: "Vos résultats à d'autres tests".into(),
            text: vec!["Nous avons recopié ce que l'outil a donné, sans rien calculer.".into()],
            rows: results
                .iter()
                .flat_map(|x| {
                    std::iter::once((
                        format!("{}, le {}", x.tool, crate::roadmap::day_fr(&x.taken_on)),
                        format!("fait passer par {}", x.administered_by),
                    ))
                    .chain(
                        x.fields
                            .iter()
                            .map(|(_, label, value)| (label.clone(), value.clone())),
                    )
                })
                .collect(),
        });
    }
    sections.push(DataSection {
        heading: "Vos droits".into(),
        text: vec![
            "Vous pouvez demander de corriger ce qui est faux, ou de tout effacer : dites-le à votre conseillère ou à votre conseiller.".into(),
            "Nous gardons ces données 12 mois après chaque séance, puis nous les effaçons. Il ne reste alors que des chiffres, sans votre nom ni votre pseudonyme.".into(),
            "La synthèse n'est transmise à votre prescripteur qu'avec votre accord.".into(),
        ],
        rows: Vec::new(),
    });
    DataDocument {
        title: "Vos données dans la Boussole de l'orientation".into(),
        person: shown,
        organisation: "La Boussole de l'orientation — PLIE".into(),
        made_on: format!("document remis le {}", export.exported_on),
        sections,
    }
}

/// Writes everything held about `person` (GDPR article 15) into `folder`: as a readable PDF in
/// simple French ([`data_document`]) and as JSON, `donnees_<pseudonym>_<id>.pdf` and `.json`,
/// logged under `actor`. Returns the French confirmation.
///
/// # Errors
/// A French message: an unknown person, a folder missing or not writable.
pub fn export_on_request(
    store: &mut Store,
    content: &ContentSet,
    person: &str,
    folder: &Path,
    actor: &str,
    now_unix_ms: i64,
) -> Result<String, String> {
    crate::files::folder_ready(folder)?;
    let export = access_export(store, content, person, now_unix_ms).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&export).map_err(|e| e.to_string())?;
    let results = store.results(person).map_err(|e| e.to_string())?;
    let pdf = boussole_synthesis::DataRenderer::new()
        .pdf(&data_document(&export, &results))
        .map_err(|e| format!("document des données : {e}"))?;
    let stem = format!(
        "donnees_{}_{}",
        crate::synthesis::slug(&export.register.pseudonym),
        crate::synthesis::slug(person)
    );
    let json_path =
        crate::files::write_whole(&folder.join(format!("{stem}.json")), json.as_bytes())?;
    let pdf_path = crate::files::write_whole(&folder.join(format!("{stem}.pdf")), &pdf)?;
    let _ = store.log_access(&crate::store::AccessEntry {
        at_unix_ms: now_unix_ms,
        actor: actor.to_owned(),
        action: crate::store::AccessAction::ParticipantExported,
        session: None,
        participant: Some(person.to_owned()),
        detail: format!("{} ; {}", pdf_path.display(), json_path.display()),
    });
    Ok(format!(
        "Données de « {} » ({} séance(s)) écrites dans {} (à lire) et {} (pour un ordinateur) : ces fichiers contiennent des données personnelles, remettez-les à la personne et ne les gardez pas.",
        export.register.pseudonym,
        export.sessions.len(),
        pdf_path.display(),
        json_path.display()
    ))
}
