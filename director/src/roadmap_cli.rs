//! The `roadmap`, `result` and `plan` commands: prescribe activities from the catalogue, follow
//! a person's roadmap, record results from other tools (with their PDF), plan sessions (one, or
//! a series every two weeks), list waiting lists, start a director session from the plan, and
//! export the plan as iCalendar. Every command that reads or writes a person's data leaves an
//! entry in the access log.

use crate::person_cli::Who;
use crate::privacy_cli::log_access;
use anyhow::{Context, Result, bail};
use boussole_content::ContentSet;
use boussole_director::plan;
use boussole_director::roadmap::{self, ResultInput};
use boussole_director::store::{AccessAction, EntryStatus, Store};
use clap::Subcommand;
use std::path::PathBuf;

/// The roadmap commands.
#[derive(Subcommand, Debug)]
pub enum RoadmapCmd {
    /// Prescribe an activity of the catalogue to a person (it goes on its waiting list).
    Prescribe {
        /// Who.
        #[command(flatten)]
        who: Who,
        /// The catalogue activity (`disc`, `scape_attitudes`…).
        #[arg(long)]
        activity: String,
        /// Who prescribes it (the orientation referent).
        #[arg(long)]
        by: String,
        /// When (AAAA-MM-JJ; default: today).
        #[arg(long)]
        on: Option<String>,
    },
    /// A person's roadmap and results from other tools.
    Show {
        /// Who.
        #[command(flatten)]
        who: Who,
    },
    /// Mark an entry interrupted or cancelled, with a reason (done and absent are set by the
    /// sessions, never by hand).
    Status {
        /// The entry's number (from `roadmap show`).
        #[arg(long)]
        entry: i64,
        /// `interrompue` or `annulee`.
        #[arg(long)]
        status: String,
        /// Why (kept in the entry's history).
        #[arg(long)]
        reason: String,
    },
    /// The waiting lists: who waits for each activity (pseudonyms only).
    Waiting {
        /// Only this activity.
        #[arg(long)]
        activity: Option<String>,
    },
}

/// The results from other tools.
#[derive(Subcommand, Debug)]
pub enum ResultCmd {
    /// Record a result as the tool gave it (the product never administers these tests).
    Add {
        /// Who.
        #[command(flatten)]
        who: Who,
        /// The catalogue activity (`disc`, `diagnoform`…).
        #[arg(long)]
        activity: String,
        /// When the person took it (AAAA-MM-JJ).
        #[arg(long)]
        date: String,
        /// Who administered it.
        #[arg(long)]
        by: String,
        /// A result, `champ=valeur` (repeat), with the catalogue's field ids.
        #[arg(long = "field")]
        fields: Vec<String>,
        /// The tool's PDF report to keep (encrypted in the store; 10 Mio at most).
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
    /// A person's results.
    List {
        /// Who.
        #[command(flatten)]
        who: Who,
    },
    /// Write a result's attached PDF out of the store (logged in the access log).
    Pdf {
        /// The result's number.
        #[arg(long)]
        result: i64,
        /// The file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

/// `YYYY-MM-DD` of a Unix time in ms, in Europe/Paris.
fn today(now_unix_ms: i64) -> String {
    plan::local_date(now_unix_ms)
}

/// Runs a `roadmap` command.
///
/// # Errors
/// Refusals in French; store failures.
pub fn roadmap_cmd(
    mut store: Store,
    content: &ContentSet,
    cmd: RoadmapCmd,
    actor: &str,
    now: i64,
) -> Result<()> {
    match cmd {
        RoadmapCmd::Prescribe {
            who,
            activity,
            by,
            on,
        } => {
            let person = who.resolve(&store)?;
            let on = on.unwrap_or_else(|| today(now));
            let id = roadmap::prescribe(
                &mut store,
                content,
                person.as_str(),
                &activity,
                &by,
                &on,
                now,
            )?;
            println!(
                "n° {id} : « {} » prescrite à {person}, en attente",
                roadmap::title_of(content, &activity)
            );
        }
        RoadmapCmd::Show { who } => {
            let person = who.resolve(&store)?;
            log_access(
                &mut store,
                actor,
                now,
                AccessAction::RoadmapOpened,
                None,
                Some(person.as_str()),
                "roadmap show",
            )?;
            print!("{}", roadmap::roadmap_fr(&store, content, person.as_str())?);
            print!("{}", roadmap::results_fr(&store.results(person.as_str())?));
        }
        RoadmapCmd::Status {
            entry,
            status,
            reason,
        } => {
            let status = match status.as_str() {
                "interrompue" | "interrupted" => EntryStatus::Interrupted,
                "annulee" | "annulée" | "cancelled" => EntryStatus::Cancelled,
                "realisee" | "réalisée" | "done" => EntryStatus::Done,
                "absente" | "absent" => EntryStatus::Absent,
                "planifiee" | "planifiée" | "planned" => EntryStatus::Planned,
                "en-attente" | "waiting" => EntryStatus::Waiting,
                other => bail!("statut inconnu « {other} » : interrompue ou annulee"),
            };
            store.set_entry_status(entry, status, &reason, now)?;
            println!("n° {entry} : {}", status.label_fr());
        }
        RoadmapCmd::Waiting { activity } => {
            let activities: Vec<String> = match activity {
                Some(a) => {
                    if content.activity(&a).is_none() {
                        bail!("activité inconnue du catalogue : « {a} »");
                    }
                    vec![a]
                }
                None => content
                    .activities
                    .iter()
                    .map(|a| a.value.id.to_string())
                    .collect(),
            };
            print!("{}", plan::waiting_fr(&store, content, &activities)?);
        }
    }
    Ok(())
}

/// Runs a `result` command.
///
/// # Errors
/// Refusals in French; store failures.
pub fn result_cmd(
    mut store: Store,
    content: &ContentSet,
    cmd: ResultCmd,
    actor: &str,
    now: i64,
) -> Result<()> {
    match cmd {
        ResultCmd::Add {
            who,
            activity,
            date,
            by,
            fields,
            pdf,
        } => {
            let person = who.resolve(&store)?;
            let id = roadmap::record_result(
                &mut store,
                content,
                &ResultInput {
                    person: person.as_str(),
                    activity: &activity,
                    taken_on: &date,
                    administered_by: &by,
                    fields: &fields,
                    attachment: pdf.as_deref(),
                },
                now,
            )?;
            log_access(
                &mut store,
                actor,
                now,
                AccessAction::ResultRecorded,
                None,
                Some(person.as_str()),
                format!(
                    "résultat n° {id} ({activity}){}",
                    if pdf.is_some() { ", avec PDF" } else { "" }
                ),
            )?;
            println!("résultat n° {id} enregistré pour {person}");
        }
        ResultCmd::List { who } => {
            let person = who.resolve(&store)?;
            log_access(
                &mut store,
                actor,
                now,
                AccessAction::RoadmapOpened,
                None,
                Some(person.as_str()),
                "result list",
            )?;
            print!("{}", roadmap::results_fr(&store.results(person.as_str())?));
        }
        ResultCmd::Pdf { result, out } => {
            let r = store.result(result)?;
            let Some((name, _, bytes)) = store.result_attachment(result)? else {
                bail!("le résultat n° {result} n'a pas de PDF joint");
            };
            log_access(
                &mut store,
                actor,
                now,
                AccessAction::AttachmentExported,
                None,
                Some(r.person.as_str()),
                format!("résultat n° {result} ({name}) vers {}", out.display()),
            )?;
            {
                use std::io::Write as _;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&out)
                    .with_context(|| format!("écriture de {}", out.display()))?;
                f.write_all(&bytes)
                    .with_context(|| format!("écriture de {}", out.display()))?;
            }
            println!(
                "PDF du résultat n° {result} écrit dans {} : il contient des données personnelles, ne le gardez pas.",
                out.display()
            );
        }
    }
    Ok(())
}

/// The plan's commands.
#[derive(Subcommand, Debug)]
pub enum PlanCmd {
    /// Plan a session (or, with --count, a series at the catalogue's rhythm: every two weeks on
    /// the same weekday); the first people waiting are invited.
    Add {
        /// The catalogue activity.
        #[arg(long)]
        activity: String,
        /// The (first) start, AAAA-MM-JJTHH:MM, Paris time.
        #[arg(long)]
        at: String,
        /// Where.
        #[arg(long)]
        place: String,
        /// Length in minutes (default: the activity's usual length).
        #[arg(long)]
        minutes: Option<u32>,
        /// A series of this many sessions.
        #[arg(long)]
        count: Option<u32>,
    },
    /// The coming sessions with who is invited, the waiting lists, what can open.
    Show,
    /// Create the director session of a planned session, its invited people enrolled.
    Start {
        /// The planned session's number.
        planned: i64,
        /// An invited person who did not come (repeat): not enrolled; absent when the session
        /// closes, back on the waiting list.
        #[arg(long)]
        absent: Vec<String>,
    },
    /// Write the plan as an iCalendar file (no names, no pseudonyms: activity, place, times,
    /// number invited).
    Ics {
        /// The .ics file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a `plan` command.
///
/// # Errors
/// Refusals in French; store failures.
pub fn plan_cmd(
    mut store: Store,
    content: &ContentSet,
    cmd: PlanCmd,
    actor: &str,
    now: i64,
) -> Result<()> {
    match cmd {
        PlanCmd::Add {
            activity,
            at,
            place,
            minutes,
            count,
        } => {
            let ids = plan::add(
                &mut store,
                content,
                &plan::PlanRequest {
                    activity: &activity,
                    starts: &at,
                    minutes,
                    place: &place,
                    count,
                },
                now,
            )?;
            println!(
                "{} séance(s) planifiée(s) : n° {}",
                ids.len(),
                ids.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            print!("{}", plan::plan_fr(&store, content, now)?);
        }
        PlanCmd::Show => {
            log_access(
                &mut store,
                actor,
                now,
                AccessAction::RoadmapOpened,
                None,
                None,
                "plan show",
            )?;
            print!("{}", plan::plan_fr(&store, content, now)?);
        }
        PlanCmd::Start { planned, absent } => {
            let session = plan::start(store, content, planned, &absent, now)?;
            println!(
                "séance {} créée depuis la séance n° {planned} du planning, {} personne(s) inscrite(s)",
                session.id(),
                session.engine().participants().len()
            );
        }
        PlanCmd::Ics { out } => {
            let text = plan::ics(&store, content, now, now)?;
            std::fs::write(&out, text).with_context(|| format!("écriture de {}", out.display()))?;
            println!(
                "planning écrit dans {} (sans nom ni pseudonyme)",
                out.display()
            );
        }
    }
    Ok(())
}
