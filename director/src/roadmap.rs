//! Roadmaps ("feuille de route évaluations") and results from other tools, against the
//! catalogue: prescribing an activity the catalogue has, recording a result of an activity
//! administered with another tool (its fields as the catalogue declares them, an optional PDF
//! checked for its type and size), and the French accounts the CLI prints.
//!
//! Statuses: an entry waits; the plan invites it (planned); the close of the director session it
//! was invited to makes it done, or absent (back on the waiting list) — see
//! [`crate::store::Store::settle_session`]; a result recorded from another tool makes it done;
//! only interrupted and cancelled are set by hand, with a reason.

use crate::record::date_fr;
use crate::store::{EntryStatus, ExternalResult, NewResult, RoadmapError, Store};
use boussole_content::ContentSet;
use boussole_content::catalogue::{FieldValue, RunBy};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The largest PDF a result may carry: 10 MiB. A tool's report is a few pages; a larger file
/// is probably a scan that would swell the encrypted store and its backups.
pub const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;

/// Why a roadmap or result request was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RoadmapRefusal {
    /// The activity is not in the catalogue.
    #[error("activité inconnue du catalogue : « {activity} » (le catalogue a : {known})")]
    UnknownActivity {
        /// The id given.
        activity: String,
        /// The catalogue's ids.
        known: String,
    },
    /// A result for an activity that is not administered with another tool.
    #[error(
        "« {activity} » n'est pas une évaluation faite avec un autre outil : on n'y enregistre pas de résultat (outils connus : {known})"
    )]
    UnknownTool {
        /// The id given.
        activity: String,
        /// The activities recorded from other tools.
        known: String,
    },
    /// A field the tool's result does not have.
    #[error("{tool} : champ de résultat inconnu « {field} » (champs : {known})")]
    UnknownField {
        /// The tool.
        tool: String,
        /// The field given.
        field: String,
        /// The fields it has.
        known: String,
    },
    /// A field given as something other than `id=valeur`.
    #[error("résultat : « {0} » n'est pas de la forme champ=valeur")]
    BadFieldSyntax(String),
    /// A score that is not a whole number within the tool's range.
    #[error("{tool} : « {label} » vaut « {value} », attendu un nombre entier de {min} à {max}")]
    BadScore {
        /// The tool.
        tool: String,
        /// The field's label.
        label: String,
        /// The value given.
        value: String,
        /// Lowest.
        min: i32,
        /// Highest.
        max: i32,
    },
    /// A field given twice, or none at all.
    #[error("{0}")]
    Fields(String),
    /// Who administered it is missing.
    #[error("dites qui a fait passer l'évaluation")]
    NoAdministrator,
    /// The attachment could not be read.
    #[error("pièce jointe {file} illisible : {why}")]
    Unreadable {
        /// The file.
        file: String,
        /// Why.
        why: String,
    },
    /// The attachment is not a PDF.
    #[error("pièce jointe {file} refusée : ce n'est pas un PDF (il doit commencer par %PDF-)")]
    NotPdf {
        /// The file.
        file: String,
    },
    /// The attachment is too large.
    #[error(
        "pièce jointe {file} refusée : {bytes} octets, au-delà de la limite de {} octets (10 Mio)",
        MAX_ATTACHMENT_BYTES
    )]
    TooLarge {
        /// The file.
        file: String,
        /// Its size.
        bytes: u64,
    },
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] RoadmapError),
}

fn known_activities(content: &ContentSet) -> String {
    content
        .activities
        .iter()
        .map(|a| a.value.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn known_tools(content: &ContentSet) -> String {
    content
        .activities
        .iter()
        .filter(|a| matches!(a.value.run_by, RunBy::OtherTool { .. }))
        .map(|a| a.value.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The catalogue title of `activity`, or the id itself when the catalogue no longer has it.
pub fn title_of(content: &ContentSet, activity: &str) -> String {
    content
        .activity(activity)
        .map_or_else(|| activity.to_owned(), |a| a.title.clone())
}

/// Prescribes `activity` (a catalogue id) to `person`: a waiting entry. Returns its number.
///
/// # Errors
/// [`RoadmapRefusal::UnknownActivity`]; the store's refusals (unknown or erased person, a bad
/// date `AAAA-MM-JJ`).
pub fn prescribe(
    store: &mut Store,
    content: &ContentSet,
    person: &str,
    activity: &str,
    prescribed_by: &str,
    prescribed_on: &str,
    now_unix_ms: i64,
) -> Result<i64, RoadmapRefusal> {
    if content.activity(activity).is_none() {
        return Err(RoadmapRefusal::UnknownActivity {
            activity: activity.to_owned(),
            known: known_activities(content),
        });
    }
    Ok(store.prescribe(person, activity, prescribed_by, prescribed_on, now_unix_ms)?)
}

/// A result to record, as typed by the facilitator.
#[derive(Clone, Debug)]
pub struct ResultInput<'a> {
    /// The person.
    pub person: &'a str,
    /// The catalogue activity (`disc`).
    pub activity: &'a str,
    /// When it was taken, `AAAA-MM-JJ`.
    pub taken_on: &'a str,
    /// Who administered it.
    pub administered_by: &'a str,
    /// `champ=valeur` pairs, as typed.
    pub fields: &'a [String],
    /// The PDF to attach, if any.
    pub attachment: Option<&'a std::path::Path>,
}

/// Reads and checks a PDF attachment: at most [`MAX_ATTACHMENT_BYTES`], starting with the
/// PDF signature `%PDF-` (ISO 32000-1 §7.5.2). It is never parsed further. Returns the file
/// name, its SHA-256 in hex and its bytes.
///
/// # Errors
/// [`RoadmapRefusal::Unreadable`], [`RoadmapRefusal::TooLarge`], [`RoadmapRefusal::NotPdf`].
pub fn read_attachment(
    path: &std::path::Path,
) -> Result<(String, String, Vec<u8>), RoadmapRefusal> {
    use std::io::Read as _;
    let file = path.display().to_string();
    let unreadable = |e: std::io::Error| RoadmapRefusal::Unreadable {
        file: file.clone(),
        why: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(unreadable)?;
    let len = f.metadata().map_err(unreadable)?.len();
    if len > MAX_ATTACHMENT_BYTES {
        return Err(RoadmapRefusal::TooLarge { file, bytes: len });
    }
    let mut bytes = Vec::new();
    // One byte past the limit: a file that grew since its size was read is still caught.
    f.take(MAX_ATTACHMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_ATTACHMENT_BYTES {
        return Err(RoadmapRefusal::TooLarge {
            file,
            bytes: bytes.len() as u64,
        });
    }
    if !bytes.starts_with(b"%PDF-") {
        return Err(RoadmapRefusal::NotPdf { file });
    }
    let sha = Sha256::digest(&bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
    let name = path.file_name().map_or_else(
        || "resultat.pdf".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok((name, sha, bytes))
}

/// Checks a result against the catalogue (an activity administered with another tool, each
/// field one it declares, scores whole numbers within its range, at least one field), reads and
/// checks its PDF, and records it ([`Store::record_result`]: one transaction, the person's
/// waiting entry for the activity done). Returns the result's number.
///
/// # Errors
/// Every [`RoadmapRefusal`]; nothing is written.
pub fn record_result(
    store: &mut Store,
    content: &ContentSet,
    input: &ResultInput<'_>,
    now_unix_ms: i64,
) -> Result<i64, RoadmapRefusal> {
    let Some(activity) = content.activity(input.activity) else {
        return Err(RoadmapRefusal::UnknownTool {
            activity: input.activity.to_owned(),
            known: known_tools(content),
        });
    };
    let RunBy::OtherTool { tool, fields } = &activity.run_by else {
        return Err(RoadmapRefusal::UnknownTool {
            activity: input.activity.to_owned(),
            known: known_tools(content),
        });
    };
    if input.administered_by.trim().is_empty() {
        return Err(RoadmapRefusal::NoAdministrator);
    }
    let mut given: Vec<(usize, String)> = Vec::new();
    for pair in input.fields {
        let (id, value) = pair
            .split_once('=')
            .ok_or_else(|| RoadmapRefusal::BadFieldSyntax(pair.clone()))?;
        let (id, value) = (id.trim(), value.trim());
        let Some(index) = fields.iter().position(|f| f.id.as_str() == id) else {
            return Err(RoadmapRefusal::UnknownField {
                tool: tool.clone(),
                field: id.to_owned(),
                known: fields
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let field = &fields[index];
        if value.is_empty() {
            return Err(RoadmapRefusal::Fields(format!(
                "{tool} : « {} » est vide",
                field.label
            )));
        }
        if let FieldValue::Score { min, max, .. } = field.value {
            let ok = value
                .parse::<i32>()
                .ok()
                .filter(|v| (min..=max).contains(v));
            if ok.is_none() {
                return Err(RoadmapRefusal::BadScore {
                    tool: tool.clone(),
                    label: field.label.clone(),
                    value: value.to_owned(),
                    min,
                    max,
                });
            }
        }
        if given.iter().any(|(i, _)| *i == index) {
            return Err(RoadmapRefusal::Fields(format!(
                "{tool} : « {} » est donné deux fois",
                field.label
            )));
        }
        given.push((index, value.to_owned()));
    }
    if given.is_empty() {
        return Err(RoadmapRefusal::Fields(format!(
            "{tool} : aucun résultat donné (champs : {})",
            fields
                .iter()
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    given.sort_by_key(|(i, _)| *i);
    let attachment = input.attachment.map(read_attachment).transpose()?;
    let new = NewResult {
        person: input.person.to_owned(),
        activity: input.activity.to_owned(),
        tool: tool.clone(),
        taken_on: input.taken_on.trim().to_owned(),
        administered_by: input.administered_by.trim().to_owned(),
        fields: given
            .into_iter()
            .map(|(i, v)| {
                let f = &fields[i];
                let shown = match &f.value {
                    FieldValue::Score { unit, .. } if !unit.is_empty() => format!("{v} {unit}"),
                    _ => v,
                };
                (f.id.to_string(), f.label.clone(), shown)
            })
            .collect(),
        attachment,
    };
    Ok(store.record_result(&new, now_unix_ms)?)
}

/// `AAAA-MM-JJ` in words ("20 novembre 2026"); the text itself when it is not a date.
pub fn day_fr(date: &str) -> String {
    let parse = || -> Option<i64> {
        let mut it = date.split('-');
        let y: i32 = it.next()?.parse().ok()?;
        let m: u8 = it.next()?.parse().ok()?;
        let d: u8 = it.next()?.parse().ok()?;
        let day = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()?;
        Some(day.midnight().assume_utc().unix_timestamp() * 1000)
    };
    parse().map_or_else(|| date.to_owned(), date_fr)
}

/// The French account of a person's roadmap: each activity, its status, what set it.
///
/// # Errors
/// The store's.
pub fn roadmap_fr(
    store: &Store,
    content: &ContentSet,
    person: &str,
) -> Result<String, RoadmapError> {
    let mut o = String::new();
    let entries = store.roadmap(person)?;
    if entries.is_empty() {
        let _ = writeln!(o, "Feuille de route vide : aucune activité prescrite.");
    }
    for e in entries {
        let mut line = format!(
            "n° {} — {} : {} (prescrite par {} le {})",
            e.id,
            title_of(content, &e.activity),
            e.status.label_fr(),
            e.prescribed_by,
            day_fr(&e.prescribed_on)
        );
        if let Some(s) = e.session
            && e.status == EntryStatus::Done
        {
            let _ = write!(line, ", séance {s}");
        }
        if let Some(r) = e.result {
            let _ = write!(line, ", résultat n° {r}");
        }
        if let Some(p) = e.planned
            && e.status == EntryStatus::Planned
        {
            let _ = write!(line, ", séance n° {p} du planning");
        }
        let _ = writeln!(o, "{line}");
    }
    Ok(o)
}

/// The French account of a person's results from other tools.
pub fn results_fr(results: &[ExternalResult]) -> String {
    let mut o = String::new();
    if results.is_empty() {
        let _ = writeln!(o, "Aucun résultat d'autre outil.");
    }
    for r in results {
        let _ = writeln!(
            o,
            "n° {} — {} le {}, fait passer par {}{}",
            r.id,
            r.tool,
            day_fr(&r.taken_on),
            r.administered_by,
            r.attachment
                .as_ref()
                .map_or_else(String::new, |(n, b)| format!(
                    " ; PDF joint : {n} ({b} octets)"
                ))
        );
        for (_, label, value) in &r.fields {
            let _ = writeln!(o, "    {label} : {value}");
        }
    }
    o
}
