//! The `debrief` and `synthesis` commands: after the game, the facilitator confirms or changes
//! the proposed levels (with a reason), writes a comment and pistes d'orientation, records the
//! debrief meeting and the participant's consent; then writes each participant's synthesis PDF
//! (a draft until the debrief, final only with consent).

use anyhow::{Context, Result, bail};
use boussole_content::ContentSet;
use boussole_director::engine::{Command, Effect, Engine, Input, ParticipantId, RaterId};
use boussole_director::record::{SessionRecord, SynthesisOptions, build};
use boussole_director::session::{Session, replay};
use boussole_director::store::{SessionId, SessionInfo, Store};
use boussole_synthesis::{Audience, Renderer};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// What the facilitator records after the game, for one participant of one session.
#[derive(Args, Debug)]
pub struct DebriefArgs {
    /// The session.
    #[arg(long)]
    pub session: i64,
    /// The participant's id (as enrolled: "P3").
    #[arg(long)]
    pub participant: String,
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
    /// Sessions to read (repeat); default: every session of the participants asked for.
    #[arg(long = "session")]
    sessions: Vec<i64>,
    /// Participants (repeat); default: everyone in the sessions given.
    #[arg(long = "participant")]
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

/// Records one debrief entry in the session's log.
pub fn debrief(
    store: Store,
    content: &ContentSet,
    args: DebriefArgs,
    now_unix_ms: i64,
) -> Result<()> {
    let mut session = Session::open(store, content, SessionId(args.session))?;
    let participant = ParticipantId::from(args.participant.as_str());
    if !session.engine().participants().contains_key(&participant) {
        bail!(
            "séance {} : pas de participant·e {participant}",
            args.session
        );
    }
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
    let at = session.time_at(now_unix_ms);
    let effects = session.submit(Input::Command(command), at)?;
    for e in &effects {
        if let Effect::Refused(why) = e {
            bail!("refusé : {why}");
        }
    }
    println!("enregistré dans le journal de la séance {}", args.session);
    Ok(())
}

/// An ASCII file-name part: accents dropped (NFD, combining marks removed), other signs as `-`.
fn slug(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in s.nfd().filter(|c| c.is_ascii()) {
        if c.is_ascii_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Writes the syntheses asked for and prints their paths; returns them, with their participants.
pub fn synthesis(
    store: &Store,
    content: &ContentSet,
    args: &SynthesisArgs,
    now_unix_ms: i64,
) -> Result<Vec<(ParticipantId, PathBuf)>> {
    let ids: Vec<SessionId> = if args.sessions.is_empty() {
        if args.participants.is_empty() {
            bail!("give --session or --participant");
        }
        store.sessions()?.into_iter().map(|s| s.id).collect()
    } else {
        args.sessions.iter().copied().map(SessionId).collect()
    };
    let mut sessions: Vec<(SessionInfo, Engine)> = Vec::new();
    for id in ids {
        let (info, engine) =
            replay(store, content, id).with_context(|| format!("reading session {}", id.0))?;
        sessions.push((info, engine));
    }
    let participants: Vec<ParticipantId> = if args.participants.is_empty() {
        let mut all: Vec<ParticipantId> = sessions
            .iter()
            .flat_map(|(_, e)| e.participants().keys().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    } else {
        args.participants
            .iter()
            .map(|p| ParticipantId::from(p.as_str()))
            .collect()
    };
    let records: Vec<SessionRecord<'_>> = sessions
        .iter()
        .map(|(info, engine)| SessionRecord {
            id: info.id,
            created_at_unix_ms: info.created_at_unix_ms,
            engine,
        })
        .collect();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let renderer = Renderer::new();
    let audience = if args.participant_view {
        Audience::Participant
    } else {
        Audience::Counsellor
    };
    let mut written = Vec::new();
    for p in &participants {
        let shown_name = if args.with_name {
            name_of(store, &sessions, p)?
        } else {
            None
        };
        let opts = SynthesisOptions {
            audience,
            final_version: args.r#final,
            shown_name,
            rater: args.rater.as_deref().map(RaterId::from),
            programme: args.programme.clone(),
            organisation: args.organisation.clone(),
            facilitator: args.facilitator.clone(),
            today_unix_ms: now_unix_ms,
        };
        let doc = build(p, &records, content, &opts)?;
        let pdf = renderer.pdf(&doc)?;
        // File names carry the pseudonym only: a name is personal data, a path is not protected.
        let file = args.out.join(format!(
            "synthese_{}_{}{}.pdf",
            slug(&doc.participant.pseudonym),
            if args.r#final { "finale" } else { "brouillon" },
            if args.participant_view {
                "_restitution"
            } else {
                ""
            }
        ));
        write_atomically(&file, &pdf)?;
        println!("{}", file.display());
        written.push((p.clone(), file));
    }
    Ok(written)
}

/// The participant's name from the protected table, newest session first.
fn name_of(
    store: &Store,
    sessions: &[(SessionInfo, Engine)],
    p: &ParticipantId,
) -> Result<Option<String>> {
    let mut ordered: Vec<&SessionInfo> = sessions.iter().map(|(i, _)| i).collect();
    ordered.sort_by_key(|i| std::cmp::Reverse(i.created_at_unix_ms));
    for info in ordered {
        if let Some(name) = store.participant_name(info.id, p.as_str())? {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it: a reader never sees half
/// a PDF, and an earlier version stays whole if writing fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("pdf.part");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}
