//! The `debrief` and `synthesis` commands: after the game, the facilitator confirms or changes
//! the proposed levels (with a reason), writes a comment and pistes d'orientation, records the
//! debrief meeting and the participant's consent; then writes each participant's synthesis PDF
//! (a draft until the debrief, final only with consent).

use crate::person_cli::Who;
use anyhow::{Context, Result, bail};
use boussole_content::ContentSet;
use boussole_director::engine::{Command, Effect, Input, ParticipantId, PersonId, RaterId};
use boussole_director::register::{appearances, resolve_slot, slot_holders};
use boussole_director::session::{Session, replay};
use boussole_director::store::{SessionId, Store};
use boussole_director::synthesis::{Signature, SynthesisRequest, document, file_name};
use boussole_synthesis::{Audience, Renderer};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// What the facilitator records after the game, for one person, in one of their sessions.
#[derive(Args, Debug)]
pub struct DebriefArgs {
    /// The person (`--person`), or a slot with `--session`; the entry goes to the session given,
    /// else to the person's latest session.
    #[command(flatten)]
    pub who: Who,
    #[command(subcommand)]
    what: DebriefCmd,
}

#[derive(Subcommand, Debug)]
enum DebriefCmd {
    /// Confirm or change a proposed level; a change needs --reason.
    Decide {
        /// The competency id ("autonomie").
        #[arg(long)]
        competency: String,
        /// The level retained, from 1 (the rubric's lowest).
        #[arg(
            long,
            conflicts_with = "not_observed",
            required_unless_present = "not_observed"
        )]
        level: Option<u8>,
        /// Retain "non observé".
        #[arg(long)]
        not_observed: bool,
        /// Why (required when the level differs from the proposal).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Write the comment and pistes d'orientation (replaces the previous ones).
    Comment {
        /// The comment; paragraphs separated by a blank line.
        #[arg(long)]
        text: String,
        /// A piste d'orientation (repeat for several).
        #[arg(long = "recommend")]
        recommendations: Vec<String>,
    },
    /// The debrief meeting (restitution) with the participant took place today.
    Restitution,
    /// The participant's answer on sending the final synthesis to their prescriber.
    Consent {
        /// They agree.
        #[arg(long, conflicts_with = "refused", required_unless_present = "refused")]
        given: bool,
        /// They refuse (or withdraw an earlier agreement).
        #[arg(long)]
        refused: bool,
    },
}

/// Which syntheses to write, and how.
#[derive(Args, Debug)]
pub struct SynthesisArgs {
    /// Sessions to read (repeat); default: every session of the persons asked for.
    #[arg(long = "session")]
    sessions: Vec<i64>,
    /// Persons (repeat), by register id; default: everyone in the sessions given.
    #[arg(long = "person")]
    persons: Vec<String>,
    /// Slot labels (repeat), read in the sessions given (--session required).
    #[arg(long = "participant", requires = "sessions")]
    participants: Vec<String>,
    /// Where to write the PDFs.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// The participant's view for the debrief (simple words, no numbers) instead of the
    /// counsellor's document.
    #[arg(long)]
    participant_view: bool,
    /// The final version (needs the recorded debrief and consent).
    #[arg(long)]
    r#final: bool,
    /// Show the participant's name (from the protected table) instead of the pseudonym.
    #[arg(long)]
    with_name: bool,
    /// Count this rater's observations (default: the one who coded the most in each session).
    #[arg(long)]
    rater: Option<String>,
    /// The programme's name.
    #[arg(long, default_value = "La Boussole de l'orientation")]
    programme: String,
    /// The organisation running it.
    #[arg(long, default_value = "PLIE")]
    organisation: String,
    /// Who signs.
    #[arg(long, default_value = "L'animateur·rice de la séance")]
    facilitator: String,
}

/// Records one debrief entry in the log of one of the person's sessions (the one given, else
/// their latest); returns the session and the slot it was recorded for. A consent is also
/// noted in the person's synthesis ledger, on the version of their synthesis as it stands
/// now (`synthesis::record_event`, under `actor`), as the console's Synthèse screen notes it:
/// the ledger then decides, so both paths give the same final.
pub fn debrief(
    store: Store,
    content: &ContentSet,
    args: DebriefArgs,
    actor: &str,
    now_unix_ms: i64,
) -> Result<(SessionId, ParticipantId)> {
    let person = args.who.resolve(&store)?;
    let mine = appearances(&store, person.as_str())?;
    let given = args.who.sessions();
    let Some(a) = mine
        .iter()
        .rev()
        .find(|a| given.is_empty() || given.contains(&a.session.id))
    else {
        bail!("{person} n'a participé à aucune des séances données");
    };
    let (sid, participant) = (a.session.id, a.slot.clone());
    let mut session = Session::open(store, content, sid)?;
    let command = match args.what {
        DebriefCmd::Decide {
            competency,
            level,
            not_observed: _,
            reason,
        } => Command::DecideLevel {
            participant: participant.clone(),
            competency: competency.as_str().into(),
            level,
            reason,
        },
        DebriefCmd::Comment {
            text,
            recommendations,
        } => Command::WriteComment {
            participant: participant.clone(),
            comment: text,
            recommendations,
        },
        DebriefCmd::Restitution => Command::RecordRestitution {
            participant: participant.clone(),
        },
        DebriefCmd::Consent { given, refused: _ } => Command::RecordConsent {
            participant: participant.clone(),
            given,
        },
    };
    let consent = match &command {
        Command::RecordConsent { given, .. } => Some(*given),
        _ => None,
    };
    let at = session.time_at(now_unix_ms);
    let effects = session.submit(Input::Command(command), at)?;
    for e in &effects {
        if let Effect::Refused(why) = e {
            bail!("refusé : {why}");
        }
    }
    println!("enregistré dans le journal de la séance {sid} (place {participant})");
    if let Some(given) = consent {
        let mut store = session.into_store();
        let draft = SynthesisRequest {
            person: person.as_str().to_owned(),
            audience: Audience::Counsellor,
            final_version: false,
            with_name: false,
            ticket: 0,
        };
        let version = document(
            &store,
            content,
            &draft,
            &[],
            None,
            &Signature::default(),
            now_unix_ms,
        )
        .map_err(|e| anyhow::anyhow!("synthèse de {person} : {e}"))?
        .version;
        let event = if given {
            boussole_director::store::SynthesisEvent::ConsentGiven
        } else {
            boussole_director::store::SynthesisEvent::ConsentRefused
        };
        let said = boussole_director::synthesis::record_event(
            &mut store,
            content,
            person.as_str(),
            &version,
            event,
            actor,
            now_unix_ms,
        )
        .map_err(anyhow::Error::msg)?;
        println!("{said}");
    }
    Ok((sid, participant))
}

/// Writes the syntheses asked for, one per person, and prints their paths; returns them, with
/// their persons. Each person's synthesis reads exactly that person's sessions (through the
/// register, merges included), never another person's slot with the same label.
pub fn synthesis(
    store: &Store,
    content: &ContentSet,
    args: &SynthesisArgs,
    now_unix_ms: i64,
) -> Result<Vec<(PersonId, PathBuf)>> {
    let given: Vec<SessionId> = args.sessions.iter().copied().map(SessionId).collect();
    let mut persons: Vec<PersonId> = Vec::new();
    for p in &args.persons {
        let who = Who {
            person: Some(p.clone()),
            participant: None,
            session: Vec::new(),
        };
        persons.push(who.resolve(store)?);
    }
    for slot in &args.participants {
        persons.push(resolve_slot(store, &given, slot)?);
    }
    if args.persons.is_empty() && args.participants.is_empty() {
        if given.is_empty() {
            bail!("dites pour qui : --person, ou --session (toutes les personnes de la séance)");
        }
        for sid in &given {
            let (_, engine) = replay(store, content, *sid)
                .with_context(|| format!("lecture de la séance {sid}"))?;
            persons.extend(slot_holders(store, *sid, &engine)?.into_values());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    persons.retain(|p| seen.insert(p.clone()));
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let renderer = Renderer::new();
    let audience = if args.participant_view {
        Audience::Participant
    } else {
        Audience::Counsellor
    };
    let signature = Signature {
        programme: args.programme.clone(),
        organisation: args.organisation.clone(),
        facilitator: args.facilitator.clone(),
    };
    let rater = args.rater.as_deref().map(RaterId::from);
    let mut written = Vec::new();
    for person in &persons {
        let request = SynthesisRequest {
            person: person.to_string(),
            audience,
            final_version: args.r#final,
            with_name: args.with_name,
            ticket: 0,
        };
        let doc = document(
            store,
            content,
            &request,
            &given,
            rater.as_ref(),
            &signature,
            now_unix_ms,
        )
        .with_context(|| format!("synthèse de {person}"))?;
        let pdf = renderer.pdf(&doc)?;
        let pseudonym = store
            .person(person.as_str())?
            .map_or_else(|| doc.participant.pseudonym.clone(), |p| p.pseudonym);
        let file = args.out.join(file_name(&request, &pseudonym, &doc.version));
        write_atomically(&file, &pdf)?;
        println!("{}", file.display());
        written.push((person.clone(), file));
    }
    Ok(written)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it: a reader never sees half
/// a PDF, and an earlier version stays whole if writing fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("pdf.part");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}
