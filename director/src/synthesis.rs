//! A person's synthesis, built from the store: for the `synthesis` command, which writes PDFs,
//! and for the console's « Synthèse » screen, which asks the director for the document model
//! ([`SynthesisRequest`] in `ClientMsg::Synthesis`, [`SynthesisReply`] in
//! `ServerMsg::Synthesis`, both postcard-encoded) and lays it out itself, pages as images in
//! its window and the PDF saved where the facilitator chooses.
//!
//! Each person's synthesis reads exactly that person's sessions (through the register, merges
//! included), never another person's slot with the same label.

use crate::engine::{PersonId, RaterId};
use crate::record::{SessionRecord, SynthesisError, SynthesisOptions, build};
use crate::register::{PersonSession, person_sessions};
use crate::store::{SessionId, Store};
use boussole_content::ContentSet;
use boussole_synthesis::{Audience, Synthesis};
use serde::{Deserialize, Serialize};

/// What the console asks for: one person's synthesis, for one audience.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthesisRequest {
    /// The person (register id).
    pub person: String,
    /// The counsellor's document, or the participant's view for the debrief.
    pub audience: Audience,
    /// The final version (needs the recorded debrief and consent), or a draft.
    pub final_version: bool,
    /// Show the person's name (from the protected table) instead of the pseudonym.
    pub with_name: bool,
    /// The console's number for this request, echoed in the reply: the same request asked
    /// again (after a consent was recorded, say) is told apart from the earlier answer.
    pub ticket: u64,
}

/// The director's answer to a [`SynthesisRequest`], to the asking console only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthesisReply {
    /// The request answered.
    pub request: SynthesisRequest,
    /// The document model, or why there is none (French, for the window).
    pub outcome: Result<Synthesis, String>,
    /// The PDF's file name (pseudonym and person id only: a name is personal data, a path is
    /// not protected), e.g. `synthese_renard_pers-3_brouillon.pdf`.
    pub file_name: String,
}

/// Who the document comes from (printed in its header and signature).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The programme ("La Boussole de l'orientation").
    pub programme: String,
    /// The organisation running it ("PLIE").
    pub organisation: String,
    /// Who signs.
    pub facilitator: String,
}

impl Default for Signature {
    fn default() -> Self {
        Self {
            programme: "La Boussole de l'orientation".into(),
            organisation: "PLIE".into(),
            facilitator: "L'animateur·rice de la séance".into(),
        }
    }
}

/// Why a person's synthesis cannot be built; its `Display` is French, for the window.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// No such person in the register (or erased).
    #[error("personne inconnue du registre : {0}")]
    UnknownPerson(String),
    /// The person took part in no session (of those given).
    #[error("{0} n'a participé à aucune séance : pas de synthèse à écrire")]
    NoSession(String),
    /// The store could not be read.
    #[error("le journal ne se lit pas : {0}")]
    Store(String),
    /// The synthesis cannot be written yet.
    #[error("{0}")]
    NotReady(String),
}

/// The synthesis of `person` over `sessions` (empty: all of theirs), as `request` asks, dated
/// `now_unix_ms`. Evaluations recorded from other tools are listed under « Autres
/// évaluations », never in the levels.
///
/// # Errors
/// [`DocumentError`]: an unknown person, no session, an unreadable store, or a synthesis not
/// ready (a level changed without a reason; a final without the debrief or the consent).
pub fn document(
    store: &Store,
    content: &ContentSet,
    request: &SynthesisRequest,
    sessions: &[SessionId],
    rater: Option<&RaterId>,
    signature: &Signature,
    now_unix_ms: i64,
) -> Result<Synthesis, DocumentError> {
    let person = PersonId(request.person.clone());
    let register = store
        .person(person.as_str())
        .map_err(|e| DocumentError::Store(e.to_string()))?
        .ok_or_else(|| DocumentError::UnknownPerson(request.person.clone()))?;
    let mine = person_sessions(store, content, person.as_str(), sessions)
        .map_err(|e| DocumentError::Store(e.to_string()))?;
    if mine.is_empty() {
        return Err(DocumentError::NoSession(register.pseudonym));
    }
    let records: Vec<SessionRecord<'_>> = mine.iter().map(PersonSession::record).collect();
    let shown_name = if request.with_name {
        name_of(store, &person, &mine).map_err(|e| DocumentError::Store(e.to_string()))?
    } else {
        None
    };
    let opts = SynthesisOptions {
        audience: request.audience,
        final_version: request.final_version,
        shown_name,
        pseudonym: Some(register.pseudonym.clone()),
        rater: rater.cloned(),
        programme: signature.programme.clone(),
        organisation: signature.organisation.clone(),
        facilitator: signature.facilitator.clone(),
        today_unix_ms: now_unix_ms,
    };
    let mut doc = build(&records, content, &opts)
        .map_err(|e| DocumentError::NotReady(french(&e, &register.pseudonym)))?;
    doc.other_evaluations = crate::record::other_evaluations(
        &store
            .results(person.as_str())
            .map_err(|e| DocumentError::Store(e.to_string()))?,
        content,
    );
    Ok(doc)
}

/// What a synthesis error means for the facilitator, in French, naming the person by
/// `pseudonym`.
pub fn french(e: &SynthesisError, pseudonym: &str) -> String {
    match e {
        SynthesisError::NoSession => {
            format!("{pseudonym} n'a participé à aucune des séances données")
        }
        SynthesisError::UnknownRubric { session, rubric } => {
            format!("séance {session} : la grille {rubric} n'est plus dans le contenu de ce poste")
        }
        SynthesisError::UnjustifiedChange {
            session,
            competency,
            ..
        } => format!(
            "{pseudonym}, séance {session} : le niveau de « {competency} » a été changé sans raison ; donnez-en une dans l'évaluation"
        ),
        SynthesisError::NoRestitution(_) => format!(
            "{pseudonym} : la restitution n'est pas enregistrée ; la synthèse reste un brouillon jusque-là"
        ),
        SynthesisError::NoConsent(_) => format!(
            "{pseudonym} : pas d'accord enregistré pour transmettre la synthèse ; seul un brouillon peut être écrit"
        ),
    }
}

/// The PDF's file name for `doc` of `person` (ASCII, no name: see [`SynthesisReply::file_name`]).
pub fn file_name(request: &SynthesisRequest, pseudonym: &str) -> String {
    format!(
        "synthese_{}_{}_{}{}.pdf",
        slug(pseudonym),
        slug(&request.person),
        if request.final_version {
            "finale"
        } else {
            "brouillon"
        },
        match request.audience {
            Audience::Participant => "_restitution",
            Audience::Counsellor => "",
        }
    )
}

/// An ASCII file-name part: accents dropped (NFD, combining marks removed), other signs as `-`.
pub fn slug(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in s.nfd().filter(char::is_ascii) {
        if c.is_ascii_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The person's name: the register's protected table, else the sessions' (newest first).
///
/// # Errors
/// The store could not be read.
pub fn name_of(
    store: &Store,
    person: &PersonId,
    sessions: &[PersonSession],
) -> anyhow::Result<Option<String>> {
    if let Some(name) = store.person_name(person.as_str())? {
        return Ok(Some(name));
    }
    let mut ordered: Vec<&PersonSession> = sessions.iter().collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.info.created_at_unix_ms));
    for s in ordered {
        if let Some(name) = store.participant_name(s.info.id, s.slot.as_str())? {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// The console's request answered: the model or why not, and its file name.
pub fn answer(
    store: &Store,
    content: &ContentSet,
    request: SynthesisRequest,
    signature: &Signature,
    now_unix_ms: i64,
) -> SynthesisReply {
    let pseudonym = store
        .person(&request.person)
        .ok()
        .flatten()
        .map_or_else(|| request.person.clone(), |p| p.pseudonym);
    let outcome = document(store, content, &request, &[], None, signature, now_unix_ms)
        .map_err(|e| e.to_string());
    let file_name = file_name(&request, &pseudonym);
    SynthesisReply {
        request,
        outcome,
        file_name,
    }
}
