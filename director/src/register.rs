//! Persons across sessions (DESIGN principle 8: a person is one person). The store keeps the
//! register ([`crate::store::PersonInfo`]) and which person holds each slot; this module joins
//! the two with the sessions' logs: who holds each slot of a session (merges resolved), where a
//! person appears, which person a slot label names (refusing an ambiguous one), and the
//! adoption of sessions logged before the register existed.
//!
//! Nothing here joins sessions by slot label: a slot (`P1`) means something only inside its
//! session.

use crate::engine::{Command, Engine, Input, ParticipantId, PersonId};
use crate::record::date_fr;
use crate::store::{LogRecord, PersonInfo, RegisterError, SessionId, SessionInfo, Store};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Why a person or a slot could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No person has this id.
    #[error("personne inconnue : {0}")]
    UnknownPerson(String),
    /// The slot label is in none of the sessions given.
    #[error("aucune place {slot} dans {}", sessions_fr(.sessions))]
    UnknownSlot {
        /// The label.
        slot: String,
        /// The sessions looked at.
        sessions: Vec<SessionId>,
    },
    /// The slot label names different people in the sessions given.
    #[error(
        "la place {slot} désigne plusieurs personnes ; précisez la personne ou une seule séance :\n{choices}"
    )]
    Ambiguous {
        /// The label.
        slot: String,
        /// One line per matching person: pseudonym, id, session, date.
        choices: String,
    },
    /// The slot has no person (a slot enrolled and then refused its person, in a damaged log).
    #[error("la place {slot} de la séance {session} n'est attribuée à aucune personne")]
    NoPerson {
        /// The label.
        slot: String,
        /// The session.
        session: SessionId,
    },
    /// The register failed.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// The store failed.
    #[error("{0}")]
    Store(String),
}

fn sessions_fr(s: &[SessionId]) -> String {
    match s {
        [] => "aucune séance".into(),
        [one] => format!("la séance {one}"),
        many => format!(
            "les séances {}",
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Who holds each slot of a session: the log's `AssignPerson` (the engine's state) where there
/// is one, else the register's record (sessions logged before the register), each resolved
/// through merges to the person it counts as. Slots without a person are left out.
///
/// # Errors
/// [`ResolveError::Register`] when the store fails.
pub fn slot_holders(
    store: &Store,
    session: SessionId,
    engine: &Engine,
) -> Result<BTreeMap<ParticipantId, PersonId>, ResolveError> {
    let recorded = store.slot_persons(session)?;
    let mut out = BTreeMap::new();
    for (slot, p) in engine.participants() {
        let person = p
            .person
            .as_ref()
            .map(|q| q.0.clone())
            .or_else(|| recorded.get(slot.as_str()).cloned());
        if let Some(person) = person {
            out.insert(slot.clone(), PersonId(store.canonical_person(&person)?));
        }
    }
    Ok(out)
}

/// One of a person's sessions, replayed: its row, its engine and the person's slot in it.
#[derive(Clone, Debug)]
pub struct PersonSession {
    /// The session's row.
    pub info: SessionInfo,
    /// The session replayed from its log.
    pub engine: Engine,
    /// The person's slot in it.
    pub slot: ParticipantId,
}

impl PersonSession {
    /// The session as a synthesis reads it.
    pub fn record(&self) -> crate::record::SessionRecord<'_> {
        crate::record::SessionRecord {
            id: self.info.id,
            participant: self.slot.clone(),
            created_at_unix_ms: self.info.created_at_unix_ms,
            engine: &self.engine,
        }
    }
}

/// Replays every session `person` took part in (merges included), oldest first; with `only`
/// not empty, only those sessions.
///
/// # Errors
/// [`ResolveError::UnknownPerson`], [`ResolveError::Register`], and [`ResolveError::Store`] when
/// a session cannot be replayed (naming it).
pub fn person_sessions(
    store: &Store,
    content: &boussole_content::ContentSet,
    person: &str,
    only: &[SessionId],
) -> Result<Vec<PersonSession>, ResolveError> {
    let mut out = Vec::new();
    for a in appearances(store, person)? {
        if !only.is_empty() && !only.contains(&a.session.id) {
            continue;
        }
        let (info, engine) = crate::session::replay(store, content, a.session.id)
            .map_err(|e| ResolveError::Store(format!("séance {} : {e}", a.session.id)))?;
        out.push(PersonSession {
            info,
            engine,
            slot: a.slot,
        });
    }
    Ok(out)
}

/// One session a person took part in, and their slot there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appearance {
    /// The session's row.
    pub session: SessionInfo,
    /// Their slot in it.
    pub slot: ParticipantId,
}

/// Every session `person` (or a person merged with them) took part in, oldest first.
///
/// # Errors
/// [`ResolveError::UnknownPerson`], [`ResolveError::Register`], [`ResolveError::Store`].
pub fn appearances(store: &Store, person: &str) -> Result<Vec<Appearance>, ResolveError> {
    if store.person(person)?.is_none() {
        return Err(ResolveError::UnknownPerson(person.to_owned()));
    }
    let mut out = Vec::new();
    for (session, slot) in store.appearances(person)? {
        let info = store
            .session(session)
            .map_err(|e| ResolveError::Store(e.to_string()))?;
        if let Some(info) = info {
            out.push(Appearance {
                session: info,
                slot: ParticipantId(slot),
            });
        }
    }
    out.sort_by_key(|a| (a.session.created_at_unix_ms, a.session.id));
    Ok(out)
}

/// The person that slot label `slot` names in `sessions` (the person it counts as, merges
/// resolved). One person in several of the sessions is fine; different people are refused
/// with a French list of who matches (pseudonym, id, session, date), so the facilitator picks.
///
/// # Errors
/// [`ResolveError::UnknownSlot`], [`ResolveError::Ambiguous`], [`ResolveError::NoPerson`],
/// [`ResolveError::Register`], [`ResolveError::Store`].
pub fn resolve_slot(
    store: &Store,
    sessions: &[SessionId],
    slot: &str,
) -> Result<PersonId, ResolveError> {
    let mut found: Vec<(SessionInfo, String)> = Vec::new();
    for s in sessions {
        let Some(info) = store
            .session(*s)
            .map_err(|e| ResolveError::Store(e.to_string()))?
        else {
            continue;
        };
        let holders = store.slot_persons(*s)?;
        match holders.get(slot) {
            Some(p) => found.push((info, store.canonical_person(p)?)),
            None => {
                let enrolled = store
                    .log(*s)
                    .map_err(|e| ResolveError::Store(e.to_string()))?
                    .iter()
                    .any(|r| enrolled_slots(r).iter().any(|(id, _)| id == slot));
                if enrolled {
                    return Err(ResolveError::NoPerson {
                        slot: slot.to_owned(),
                        session: *s,
                    });
                }
            }
        }
    }
    let Some((_, first)) = found.first() else {
        return Err(ResolveError::UnknownSlot {
            slot: slot.to_owned(),
            sessions: sessions.to_vec(),
        });
    };
    if found.iter().all(|(_, p)| p == first) {
        return Ok(PersonId(first.clone()));
    }
    let mut choices = String::new();
    for (info, p) in &found {
        let pseudonym = store
            .person(p)?
            .map_or_else(|| p.clone(), |i: PersonInfo| i.pseudonym);
        let _ = writeln!(
            choices,
            "- {pseudonym} ({p}) : séance {} du {}{}",
            info.id,
            date_fr(info.created_at_unix_ms),
            if info.label.is_empty() {
                String::new()
            } else {
                format!(", « {} »", info.label)
            }
        );
    }
    Err(ResolveError::Ambiguous {
        slot: slot.to_owned(),
        choices: choices.trim_end().to_owned(),
    })
}

/// The slots a log record enrols (`AddParticipant`), with their pseudonyms; empty for any
/// other record or one that does not decode.
fn enrolled_slots(r: &LogRecord) -> Vec<(String, String)> {
    match postcard::from_bytes::<Input>(&r.payload) {
        Ok(Input::Command(Command::AddParticipant { id, pseudonym, .. })) => {
            vec![(id.0, pseudonym)]
        }
        _ => Vec::new(),
    }
}

/// Gives each slot of every session logged before the register existed its own new person
/// (never one person across sessions: a facilitator merges by hand the persons who came twice).
/// Idempotent and cheap once done: the store lists the sessions still to adopt. Returns how
/// many persons were created. Run after opening the store.
///
/// # Errors
/// [`ResolveError::Register`] and [`ResolveError::Store`]; sessions adopted before the error
/// stay adopted.
pub fn adopt_legacy(store: &mut Store, now_unix_ms: i64) -> Result<usize, ResolveError> {
    let mut created = 0;
    for session in store.legacy_sessions()? {
        let records = store
            .log(session)
            .map_err(|e| ResolveError::Store(e.to_string()))?;
        let mut slots: Vec<(String, String)> = Vec::new();
        for r in &records {
            for (id, pseudonym) in enrolled_slots(r) {
                if !slots.iter().any(|(s, _)| *s == id) {
                    slots.push((id, pseudonym));
                }
            }
        }
        // Slots known only from the participants table (a name typed before the log).
        for p in store
            .participants(session)
            .map_err(|e| ResolveError::Store(e.to_string()))?
        {
            if !slots.iter().any(|(s, _)| *s == p.id) {
                slots.push((p.id, p.pseudonym));
            }
        }
        created += store.adopt_legacy_session(session, &slots, now_unix_ms)?;
    }
    Ok(created)
}

/// The French list of the register: one line per person (pseudonym, id, entry date,
/// prescriber, sessions), archived and merged ones only with `all`. Never a civil name.
///
/// # Errors
/// [`ResolveError::Register`].
pub fn persons_fr(store: &Store, all: bool) -> Result<String, ResolveError> {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "pseudonyme\tidentifiant\tentrée en orientation\tprescripteur\tséances\tétat"
    );
    for p in store.persons()? {
        if p.erased_at_unix_ms.is_some() && !all {
            continue;
        }
        if !all && (p.archived || p.merged_into.is_some()) {
            continue;
        }
        let n = store.appearances(&p.id)?.len();
        let state = match (&p.merged_into, p.archived, p.erased_at_unix_ms) {
            (_, _, Some(_)) => "effacée".to_owned(),
            (Some(into), _, _) => format!("fusionnée avec {into}"),
            (None, true, _) => "archivée".into(),
            (None, false, _) => "active".into(),
        };
        let prescriber = match (p.prescriber_name.as_str(), p.prescriber_structure.as_str()) {
            ("", "") => "—".to_owned(),
            (n, "") => n.to_owned(),
            ("", s) => s.to_owned(),
            (n, s) => format!("{n} ({s})"),
        };
        let _ = writeln!(
            o,
            "{}\t{}\t{}\t{prescriber}\t{n}\t{state}",
            p.pseudonym,
            p.id,
            p.entered_on.as_deref().unwrap_or("—"),
        );
    }
    Ok(o)
}

/// A request on the register from a console ([`boussole_protocol::wire::ClientMsg::Register`],
/// postcard-encoded). Each is applied by [`apply`] in one transaction, or refused whole.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RegisterRequest {
    /// Add a person.
    Create {
        /// Pseudonym (not blank).
        pseudonym: String,
        /// Civil name for the protected table; empty for none.
        name: String,
        /// Entry into the orientation phase, `YYYY-MM-DD`; empty for unknown.
        entered_on: String,
        /// Prescriber's name.
        prescriber_name: String,
        /// Prescriber's structure or antenne.
        prescriber_structure: String,
    },
    /// Change one thing about a person.
    Change {
        /// The person.
        person: String,
        /// The change.
        change: crate::store::PersonChange,
    },
    /// Merge a duplicate into a person, with a reason.
    Merge {
        /// The duplicate.
        from: String,
        /// The person it is.
        into: String,
        /// Why (required).
        reason: String,
    },
    /// Undo a merge, with a reason.
    Unmerge {
        /// The person merged earlier.
        person: String,
        /// Why (required).
        reason: String,
    },
    /// Record that a person was given the participants' information notice (read with them,
    /// on a device or on paper), by the facilitator `by`. The first date is kept.
    NoticeGiven {
        /// The person.
        person: String,
        /// The facilitator who gave it.
        by: String,
    },
    /// Find people by pseudonym or civil name (the director searches: names never reach a
    /// console); the asking console gets a [`RegisterView`] whose [`RegisterView::found`]
    /// answers. Writes nothing.
    Search {
        /// What was typed (case, accents and punctuation ignored).
        text: String,
    },
    /// Erase a person on their request (GDPR article 17,
    /// [`crate::privacy::erase_on_request`]): `confirm` repeats their pseudonym as the
    /// console shows it, so a slip of the mouse erases no one. Refused while the person is in
    /// the session the director hosts.
    Erase {
        /// The person.
        person: String,
        /// Their pseudonym, typed again.
        confirm: String,
    },
    /// Write everything held about a person into `folder` (GDPR article 15, the right of
    /// access: [`crate::privacy::export_on_request`]).
    ExportData {
        /// The person.
        person: String,
        /// The folder, on the director's machine (the console of the day runs beside it).
        folder: std::path::PathBuf,
    },
}

impl std::fmt::Debug for RegisterRequest {
    /// Never prints a civil name: requests may be logged by mistake (DESIGN principle 6).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Create { pseudonym, .. } => write!(f, "Create({pseudonym:?}, <nom masqué>)"),
            Self::Change {
                person,
                change: crate::store::PersonChange::Name(_),
            } => write!(f, "Change({person}, Name(<masqué>))"),
            Self::Change { person, change } => write!(f, "Change({person}, {change:?})"),
            Self::Merge { from, into, .. } => write!(f, "Merge({from} → {into})"),
            Self::Unmerge { person, .. } => write!(f, "Unmerge({person})"),
            Self::NoticeGiven { person, .. } => write!(f, "NoticeGiven({person})"),
            Self::Search { .. } => write!(f, "Search(<masqué>)"),
            Self::Erase { person, .. } => write!(f, "Erase({person})"),
            Self::ExportData { person, .. } => write!(f, "ExportData({person})"),
        }
    }
}

/// One person as a console shows them: never the civil name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegisterEntry {
    /// The person's id.
    pub id: String,
    /// Pseudonym.
    pub pseudonym: String,
    /// Entry into the orientation phase, `YYYY-MM-DD`.
    pub entered_on: Option<String>,
    /// Prescriber's name.
    pub prescriber_name: String,
    /// Prescriber's structure or antenne.
    pub prescriber_structure: String,
    /// Archived.
    pub archived: bool,
    /// Merged into this person, if merged.
    pub merged_into: Option<String>,
    /// Whether a civil name is recorded (the name itself stays in the director).
    pub has_name: bool,
    /// Their sessions, oldest first: session number, date in French, scenario, slot.
    pub sessions: Vec<(i64, String, String, String)>,
    /// When they were given the participants' information notice, in French (`None`: not
    /// yet: give it at their first session).
    pub notice_given_on: Option<String>,
}

/// The register as consoles get it ([`boussole_protocol::wire::ServerMsg::Register`]): every
/// person not erased, by pseudonym.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegisterView {
    /// The persons.
    pub persons: Vec<RegisterEntry>,
    /// The answer to this console's last [`RegisterRequest::Search`]: what was typed and the
    /// ids of the persons (not merged, not erased) whose pseudonym or civil name contains it.
    pub found: Option<(String, Vec<String>)>,
}

/// The register's view for consoles.
///
/// # Errors
/// [`ResolveError`] when the store fails.
pub fn view(store: &Store) -> Result<RegisterView, ResolveError> {
    let mut persons = Vec::new();
    let notices = store.notices_given().map_err(RegisterError::from)?;
    for p in store.persons()? {
        if p.erased_at_unix_ms.is_some() {
            continue;
        }
        let sessions = if p.merged_into.is_some() {
            Vec::new()
        } else {
            appearances(store, &p.id)?
                .into_iter()
                .map(|a| {
                    (
                        a.session.id.0,
                        date_fr(a.session.created_at_unix_ms),
                        a.session.scenario,
                        a.slot.0,
                    )
                })
                .collect()
        };
        persons.push(RegisterEntry {
            notice_given_on: notices.get(&p.id).map(|(at, _)| date_fr(*at)),
            has_name: store.person_name(&p.id)?.is_some(),
            id: p.id,
            pseudonym: p.pseudonym,
            entered_on: p.entered_on,
            prescriber_name: p.prescriber_name,
            prescriber_structure: p.prescriber_structure,
            archived: p.archived,
            merged_into: p.merged_into,
            sessions,
        });
    }
    Ok(RegisterView {
        persons,
        found: None,
    })
}

/// Applies a console's request; returns the French line that confirms it.
///
/// # Errors
/// [`RegisterError`] (in French): a blank pseudonym, a bad date, an unknown person, a merge
/// refused, a merge or undo without a reason ([`RegisterError::NoReason`]). Nothing is written
/// on error.
pub fn apply(
    store: &mut Store,
    request: RegisterRequest,
    now_unix_ms: i64,
) -> Result<String, RegisterError> {
    match request {
        RegisterRequest::Create {
            pseudonym,
            name,
            entered_on,
            prescriber_name,
            prescriber_structure,
        } => {
            let id = store.create_person(
                &crate::store::NewPerson {
                    pseudonym: pseudonym.clone(),
                    name: Some(name).filter(|n| !n.trim().is_empty()),
                    entered_on: Some(entered_on).filter(|d| !d.trim().is_empty()),
                    prescriber_name,
                    prescriber_structure,
                },
                now_unix_ms,
            )?;
            Ok(format!(
                "« {} » ajoutée au registre ({id})",
                pseudonym.trim()
            ))
        }
        RegisterRequest::Change { person, change } => {
            store.change_person(&person, &change, now_unix_ms)?;
            Ok(format!("{person} : modification enregistrée"))
        }
        RegisterRequest::Merge { from, into, reason } => {
            if reason.trim().is_empty() {
                return Err(RegisterError::NoReason);
            }
            store.merge_persons(&from, &into, &reason, now_unix_ms)?;
            Ok(format!("{from} fusionnée avec {into}"))
        }
        RegisterRequest::Unmerge { person, reason } => {
            if reason.trim().is_empty() {
                return Err(RegisterError::NoReason);
            }
            store.unmerge_person(&person, &reason, now_unix_ms)?;
            Ok(format!("fusion de {person} annulée"))
        }
        RegisterRequest::NoticeGiven { person, by } => {
            let person = store.canonical_person(&person)?;
            let pseudonym = store
                .person(&person)?
                .ok_or_else(|| RegisterError::UnknownPerson(person.clone()))?
                .pseudonym;
            store
                .record_notice(&person, by.trim(), now_unix_ms)
                .map_err(RegisterError::from)?;
            Ok(format!("notice d'information donnée à « {pseudonym} »"))
        }
        // Nothing to write: the server answers a search with the register view (`found`).
        RegisterRequest::Search { .. } => Ok(String::new()),
        // They need the hosted session, the content and the store's file: the server runs
        // them (crate::privacy::erase_on_request, export_on_request), never this.
        RegisterRequest::Erase { .. } | RegisterRequest::ExportData { .. } => {
            Err(RegisterError::NotHere)
        }
    }
}

/// The persons (not merged, not erased) whose pseudonym or civil name contains `text`, case,
/// accents and punctuation ignored ([`boussole_content::normalise`]); their ids, in
/// register order. An empty `text` finds nobody.
///
/// # Errors
/// [`ResolveError`] when the store fails.
pub fn search(store: &Store, text: &str) -> Result<Vec<String>, ResolveError> {
    let wanted = boussole_content::normalise(text);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for p in store.persons()? {
        if p.erased_at_unix_ms.is_some() || p.merged_into.is_some() {
            continue;
        }
        let name = store.person_name(&p.id)?.unwrap_or_default();
        let hit = boussole_content::normalise(&p.pseudonym).contains(&wanted)
            || boussole_content::normalise(&name).contains(&wanted);
        if hit {
            found.push(p.id);
        }
    }
    Ok(found)
}
