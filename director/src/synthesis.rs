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
use crate::store::{SessionId, Store, SynthesisEntry, SynthesisEvent};
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

/// What a console asks about a person's synthesis (`ClientMsg::Synthesis`, postcard).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SynthesisAsk {
    /// Its document model ([`SynthesisReply`] to this console only).
    Show(SynthesisRequest),
    /// Record the person's answer on a version, or its hand-over ([`record_event`]); the
    /// director answers with a notice.
    Record {
        /// The person.
        person: String,
        /// The version the facilitator showed (it must still be the current one).
        version: String,
        /// A consent event or [`SynthesisEvent::HandedOver`].
        event: SynthesisEvent,
    },
}

/// The director's answer to a [`SynthesisRequest`], to the asking console only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthesisReply {
    /// The request answered.
    pub request: SynthesisRequest,
    /// The document model, or why there is none (French, for the window).
    pub outcome: Result<Synthesis, String>,
    /// The PDF's file name (pseudonym and person id only: a name is personal data, a path is
    /// not protected), e.g. `synthese_renard_pers-3_brouillon.pdf`, or `synthese_renard_pers-3_finale_1a2b3c4d.pdf` for the final of version `1a2b3c4d` (a corrected final never takes an earlier one's name).
    pub file_name: String,
    /// The version of the person's synthesis now ([`version_of`]; empty when there is none).
    pub version: String,
    /// The person's synthesis ledger: consents, finals, hand-overs, oldest first.
    pub ledger: Vec<SynthesisEntry>,
    /// Their prescriber, as a hand-over names them (« Mme Durand, PLIE »).
    pub prescriber: String,
}

/// The version of a synthesis: the first 8 hexadecimal characters of the SHA-256 of its
/// content in the counsellor's words, without what does not change what it says (date,
/// status, audience, the name or pseudonym shown, who signs, the version fields). The person's
/// consent is given to one version: a level, a comment or a session changed afterwards makes
/// another version.
pub fn version_of(doc: &Synthesis) -> String {
    use sha2::{Digest as _, Sha256};
    let mut d = doc.clone();
    d.date = String::new();
    d.status = boussole_synthesis::Status::Draft;
    d.audience = Audience::Counsellor;
    d.participant.shown = d.participant.pseudonym.clone();
    d.facilitator = String::new();
    d.version = String::new();
    d.replaces = None;
    let json = serde_json::to_vec(&d).unwrap_or_default();
    Sha256::digest(&json)
        .iter()
        .take(4)
        .map(|b| format!("{b:02X}"))
        .collect()
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
    let ledger = store
        .synthesis_events(person.as_str())
        .map_err(|e| DocumentError::Store(e.to_string()))?;
    let options = |audience, final_version, shown_name, consent_unix_ms| SynthesisOptions {
        audience,
        final_version,
        shown_name,
        pseudonym: Some(register.pseudonym.clone()),
        rater: rater.cloned(),
        programme: signature.programme.clone(),
        organisation: signature.organisation.clone(),
        facilitator: signature.facilitator.clone(),
        today_unix_ms: now_unix_ms,
        consent_unix_ms,
    };
    // The version: the counsellor's draft under the pseudonym, whatever is asked.
    let reference = build(
        &records,
        content,
        &options(Audience::Counsellor, false, None, None),
    )
    .map_err(|e| DocumentError::NotReady(french(&e, &register.pseudonym)))?;
    let version = version_of(&reference);
    let consent_unix_ms = if request.final_version {
        consent_for(&ledger, &version, &register.pseudonym)?
    } else {
        None
    };
    let shown_name = if request.with_name {
        name_of(store, &person, &mine).map_err(|e| DocumentError::Store(e.to_string()))?
    } else {
        None
    };
    let opts = options(
        request.audience,
        request.final_version,
        shown_name,
        consent_unix_ms,
    );
    let mut doc = build(&records, content, &opts)
        .map_err(|e| DocumentError::NotReady(french(&e, &register.pseudonym)))?;
    doc.other_evaluations = crate::record::other_evaluations(
        &store
            .results(person.as_str())
            .map_err(|e| DocumentError::Store(e.to_string()))?,
        content,
    );
    doc.version = version.clone();
    if request.final_version {
        // A corrected final names the last final of another version it replaces.
        doc.replaces = ledger
            .iter()
            .rev()
            .find(|e| e.event == SynthesisEvent::FinalWritten && e.version != version)
            .map(|e| {
                format!(
                    "la version finale {} du {}",
                    e.version,
                    crate::record::date_fr(e.at_unix_ms)
                )
            });
    }
    Ok(doc)
}

/// The consent a final of `version` rests on, from the ledger: `Some(when)` when the latest
/// answer is an agreement to this very version; `None` when the ledger holds no answer (the
/// session logs' `RecordConsent` then decides, as scripts record it).
///
/// # Errors
/// [`DocumentError::NotReady`] in French: the latest answer is a refusal or a withdrawal, or
/// an agreement to another version (the synthesis changed since).
fn consent_for(
    ledger: &[SynthesisEntry],
    version: &str,
    pseudonym: &str,
) -> Result<Option<i64>, DocumentError> {
    let Some(last) = ledger.iter().rev().find(|e| e.event.is_consent()) else {
        return Ok(None);
    };
    let when = crate::record::date_fr(last.at_unix_ms);
    match last.event {
        SynthesisEvent::ConsentGiven if last.version == version => Ok(Some(last.at_unix_ms)),
        SynthesisEvent::ConsentGiven => Err(DocumentError::NotReady(format!(
            "{pseudonym} : la synthèse a changé depuis l'accord du {when} (version {}, maintenant {version}) ; montrez-lui la nouvelle version et recueillez son accord",
            last.version
        ))),
        SynthesisEvent::ConsentRefused => Err(DocumentError::NotReady(format!(
            "{pseudonym} a refusé le {when} que la synthèse soit transmise : seul un brouillon peut être écrit"
        ))),
        _ => Err(DocumentError::NotReady(format!(
            "{pseudonym} a retiré son accord le {when} : seul un brouillon peut être écrit"
        ))),
    }
}

/// Records `event` on `version` of `person`'s synthesis, by `by`: a consent answer for the
/// version now current, or the hand-over of a final of it to the prescriber (named in the
/// entry and the access log). Returns the French confirmation.
///
/// # Errors
/// A French message: an unknown person, a version that is no longer current (the synthesis
/// changed: show it again), a hand-over without a final of this version or without the
/// consent, an event the console does not record ([`SynthesisEvent::FinalWritten`]).
pub fn record_event(
    store: &mut Store,
    content: &ContentSet,
    person: &str,
    version: &str,
    event: SynthesisEvent,
    by: &str,
    now_unix_ms: i64,
) -> Result<String, String> {
    let Some(info) = store.person(person).map_err(|e| e.to_string())? else {
        return Err(format!("personne inconnue du registre : {person}"));
    };
    let draft = SynthesisRequest {
        person: person.to_owned(),
        audience: Audience::Counsellor,
        final_version: false,
        with_name: false,
        ticket: 0,
    };
    let now = document(
        store,
        content,
        &draft,
        &[],
        None,
        &Signature::default(),
        now_unix_ms,
    )
    .map_err(|e| e.to_string())?;
    if now.version != version {
        return Err(format!(
            "la synthèse de {} a changé (version {version}, maintenant {}) : affichez-la à nouveau avant de noter la réponse",
            info.pseudonym, now.version
        ));
    }
    let ledger = store.synthesis_events(person).map_err(|e| e.to_string())?;
    let prescriber = prescriber_of(&info);
    let (detail, said, action) = match event {
        SynthesisEvent::ConsentGiven => (
            String::new(),
            format!(
                "Accord de {} noté pour la version {version}",
                info.pseudonym
            ),
            crate::store::AccessAction::DebriefWritten,
        ),
        SynthesisEvent::ConsentRefused => (
            String::new(),
            format!("Refus de {} noté pour la version {version}", info.pseudonym),
            crate::store::AccessAction::DebriefWritten,
        ),
        SynthesisEvent::ConsentWithdrawn => (
            String::new(),
            format!("Retrait de l'accord de {} noté", info.pseudonym),
            crate::store::AccessAction::DebriefWritten,
        ),
        SynthesisEvent::HandedOver => {
            let final_written = ledger
                .iter()
                .any(|e| e.event == SynthesisEvent::FinalWritten && e.version == version);
            if !final_written {
                return Err(format!(
                    "pas de version finale {version} pour {} : affichez d'abord la version finale",
                    info.pseudonym
                ));
            }
            consent_for(&ledger, version, &info.pseudonym).map_err(|e| e.to_string())?;
            (
                prescriber.clone(),
                format!(
                    "Remise de la synthèse finale {version} de {} à {prescriber} notée",
                    info.pseudonym
                ),
                crate::store::AccessAction::SynthesisWritten,
            )
        }
        SynthesisEvent::FinalWritten => {
            return Err("une version finale se note en l'affichant".into());
        }
    };
    store
        .record_synthesis_event(
            person,
            &SynthesisEntry {
                version: version.to_owned(),
                event,
                detail: detail.clone(),
                at_unix_ms: now_unix_ms,
                by: by.to_owned(),
            },
        )
        .map_err(|e| e.to_string())?;
    let _ = store.log_access(&crate::store::AccessEntry {
        at_unix_ms: now_unix_ms,
        actor: by.to_owned(),
        action,
        session: None,
        participant: Some(person.to_owned()),
        detail: format!(
            "synthèse {version} : {}{}",
            event.code(),
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            }
        ),
    });
    Ok(said)
}

/// A person's prescriber in words (« Mme Durand, PLIE — antenne de Grande-Synthe »).
fn prescriber_of(info: &crate::store::PersonInfo) -> String {
    match (
        info.prescriber_name.trim(),
        info.prescriber_structure.trim(),
    ) {
        ("", "") => "le prescripteur".into(),
        (name, "") => name.to_owned(),
        ("", structure) => structure.to_owned(),
        (name, structure) => format!("{name}, {structure}"),
    }
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
pub fn file_name(request: &SynthesisRequest, pseudonym: &str, version: &str) -> String {
    format!(
        "synthese_{}_{}_{}{}.pdf",
        slug(pseudonym),
        slug(&request.person),
        if request.final_version {
            format!("finale_{}", slug(version))
        } else {
            "brouillon".to_owned()
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

/// The console's request answered: the model or why not, its file name, its version and the
/// person's ledger. A synthesis shown is logged (`SynthesisWritten`, actor the signer); a final
/// shown is noted `FinalWritten` once per version.
pub fn answer(
    store: &mut Store,
    content: &ContentSet,
    request: SynthesisRequest,
    signature: &Signature,
    now_unix_ms: i64,
) -> SynthesisReply {
    let info = store.person(&request.person).ok().flatten();
    let pseudonym = info
        .as_ref()
        .map_or_else(|| request.person.clone(), |p| p.pseudonym.clone());
    let prescriber = info.as_ref().map(prescriber_of).unwrap_or_default();
    let outcome = document(store, content, &request, &[], None, signature, now_unix_ms)
        .map_err(|e| e.to_string());
    if outcome.is_ok() {
        let _ = store.log_access(&crate::store::AccessEntry {
            at_unix_ms: now_unix_ms,
            actor: signature.facilitator.clone(),
            action: crate::store::AccessAction::SynthesisWritten,
            session: None,
            participant: Some(request.person.clone()),
            detail: format!(
                "montrée dans la console ({}, {}{})",
                if request.final_version {
                    "finale"
                } else {
                    "brouillon"
                },
                match request.audience {
                    Audience::Counsellor => "conseiller",
                    Audience::Participant => "participant",
                },
                if request.with_name {
                    ", avec le nom"
                } else {
                    ""
                }
            ),
        });
    }
    let version = outcome
        .as_ref()
        .map(|d| d.version.clone())
        .unwrap_or_default();
    let mut ledger = store.synthesis_events(&request.person).unwrap_or_default();
    // A final shown is a final written (the console saves that very document); noted once
    // per version.
    if request.final_version
        && !version.is_empty()
        && outcome.is_ok()
        && !ledger
            .iter()
            .any(|e| e.event == SynthesisEvent::FinalWritten && e.version == version)
    {
        let entry = SynthesisEntry {
            version: version.clone(),
            event: SynthesisEvent::FinalWritten,
            detail: String::new(),
            at_unix_ms: now_unix_ms,
            by: signature.facilitator.clone(),
        };
        if store
            .record_synthesis_event(&request.person, &entry)
            .is_ok()
        {
            ledger.push(entry);
        }
    }
    let file_name = file_name(&request, &pseudonym, &version);
    SynthesisReply {
        request,
        outcome,
        file_name,
        version,
        ledger,
        prescriber,
    }
}
