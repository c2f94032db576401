//! The `person` commands (the register: create, list, show, change, archive, merge and undo a
//! merge, enrol a person in a session's slot or move a slot to another person), and how every
//! other command names one person: `--person ID`, or a slot label with `--session`.

use anyhow::{Context, Result, bail};
use boussole_content::ContentSet;
use boussole_director::engine::{Command, Effect, Input, ParticipantId, PersonId};
use boussole_director::record::date_fr;
use boussole_director::register::{appearances, persons_fr, resolve_slot};
use boussole_director::session::Session;
use boussole_director::store::{NewPerson, PersonChange, SessionId, Store};
use clap::{Args, Subcommand};

/// Who a command is about: one person of the register.
#[derive(Args, Debug, Clone)]
pub struct Who {
    /// The person's id in the register (`pers-…`, from `person list`).
    #[arg(long, conflicts_with = "participant")]
    pub person: Option<String>,
    /// A slot label (`P3`): only with --session, since a label means something only inside its
    /// session.
    #[arg(long = "participant", alias = "id", requires = "session")]
    pub participant: Option<String>,
    /// The session(s) the slot label is read in (repeat); with --person, limits the sessions.
    #[arg(long = "session")]
    pub session: Vec<i64>,
}

impl Who {
    /// The sessions given.
    pub fn sessions(&self) -> Vec<SessionId> {
        self.session.iter().copied().map(SessionId).collect()
    }

    /// The person meant: `--person` (checked against the register, resolved through merges), or
    /// the slot label in the sessions given (refused when it names several people).
    ///
    /// # Errors
    /// Neither given, an unknown person, an unknown or ambiguous slot label.
    pub fn resolve(&self, store: &Store) -> Result<PersonId> {
        match (&self.person, &self.participant) {
            (Some(p), _) => {
                if store.person(p)?.is_none() {
                    bail!("personne inconnue : {p} (voir « person list »)");
                }
                Ok(PersonId(store.canonical_person(p)?))
            }
            (None, Some(slot)) => Ok(resolve_slot(store, &self.sessions(), slot)?),
            (None, None) => {
                bail!("dites de qui il s'agit : --person, ou --participant avec --session")
            }
        }
    }
}

/// The register's commands.
#[derive(Subcommand, Debug)]
pub enum PersonCmd {
    /// Add a person to the register; prints their id.
    New {
        /// Their pseudonym (what the console and the documents show).
        #[arg(long)]
        pseudonym: String,
        /// Their civil name (kept in the protected table only).
        #[arg(long)]
        name: Option<String>,
        /// When they entered the orientation phase (AAAA-MM-JJ).
        #[arg(long)]
        entered: Option<String>,
        /// Their prescriber (job counsellor).
        #[arg(long, default_value = "")]
        prescriber: String,
        /// The prescriber's structure or antenne.
        #[arg(long, default_value = "")]
        structure: String,
    },
    /// List the register (active persons; --all for archived, merged and erased ones too).
    List {
        /// Everyone.
        #[arg(long)]
        all: bool,
    },
    /// One person: their entry, their sessions and the journal of changes.
    Show {
        /// The person's id.
        person: String,
    },
    /// Change a person's entry (each change is journaled).
    Edit {
        /// The person's id.
        person: String,
        /// A new pseudonym.
        #[arg(long)]
        pseudonym: Option<String>,
        /// A new civil name ("" removes it).
        #[arg(long)]
        name: Option<String>,
        /// A new entry date (AAAA-MM-JJ, "" removes it).
        #[arg(long)]
        entered: Option<String>,
        /// A new prescriber (with --structure).
        #[arg(long)]
        prescriber: Option<String>,
        /// The prescriber's structure or antenne.
        #[arg(long)]
        structure: Option<String>,
    },
    /// Archive a person (no longer offered for enrolment; their sessions stay).
    Archive {
        /// The person's id.
        person: String,
        /// Bring them back instead.
        #[arg(long)]
        undo: bool,
    },
    /// Merge a duplicate into a person (the same human enrolled twice before the register, or
    /// by mistake); undone by `person unmerge`.
    Merge {
        /// The duplicate.
        #[arg(long)]
        from: String,
        /// The person it is the same human as.
        #[arg(long)]
        into: String,
        /// Why (journaled).
        #[arg(long)]
        reason: String,
    },
    /// Undo a merge.
    Unmerge {
        /// The person merged earlier.
        person: String,
        /// Why (journaled).
        #[arg(long)]
        reason: String,
    },
    /// Give a session's slot to a person: its enrolment, or a move to another person (a slot
    /// given to the wrong person) with --reason.
    Seat {
        /// The session.
        #[arg(long)]
        session: i64,
        /// The slot (`P3`).
        #[arg(long)]
        slot: String,
        /// The person's id.
        #[arg(long)]
        person: String,
        /// Why the slot moves (required for a move).
        #[arg(long, default_value = "")]
        reason: String,
    },
}

fn some_text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Runs a `person` command.
///
/// # Errors
/// Register refusals (in French) and store failures.
pub fn person(
    mut store: Store,
    content: impl FnOnce() -> Result<ContentSet>,
    cmd: PersonCmd,
    now_unix_ms: i64,
) -> Result<()> {
    match cmd {
        PersonCmd::New {
            pseudonym,
            name,
            entered,
            prescriber,
            structure,
        } => {
            let id = store.create_person(
                &NewPerson {
                    pseudonym,
                    name,
                    entered_on: entered,
                    prescriber_name: prescriber,
                    prescriber_structure: structure,
                },
                now_unix_ms,
            )?;
            println!("{id}");
        }
        PersonCmd::List { all } => print!("{}", persons_fr(&store, all)?),
        PersonCmd::Show { person } => {
            let Some(p) = store.person(&person)? else {
                bail!("personne inconnue : {person}");
            };
            println!("{} ({})", p.pseudonym, p.id);
            println!(
                "entrée en phase d'orientation : {}",
                p.entered_on.as_deref().unwrap_or("—")
            );
            println!(
                "prescripteur : {} {}",
                p.prescriber_name,
                if p.prescriber_structure.is_empty() {
                    String::new()
                } else {
                    format!("({})", p.prescriber_structure)
                }
            );
            if let Some(into) = &p.merged_into {
                println!("fusionnée avec {into}");
            }
            if p.archived {
                println!("archivée");
            }
            println!("séances :");
            for a in appearances(&store, &person)? {
                println!(
                    "- séance {} ({}, {}) : place {}",
                    a.session.id,
                    a.session.scenario,
                    date_fr(a.session.created_at_unix_ms),
                    a.slot
                );
            }
            println!("historique :");
            for j in store.person_journal(&person)? {
                println!("- {} : {}", date_fr(j.at_unix_ms), j.detail);
            }
        }
        PersonCmd::Edit {
            person,
            pseudonym,
            name,
            entered,
            prescriber,
            structure,
        } => {
            let mut changes = Vec::new();
            if let Some(p) = pseudonym {
                changes.push(PersonChange::Pseudonym(p));
            }
            if let Some(n) = name {
                changes.push(PersonChange::Name(some_text(&n)));
            }
            if let Some(d) = entered {
                changes.push(PersonChange::EnteredOn(some_text(&d)));
            }
            if prescriber.is_some() || structure.is_some() {
                let before = store
                    .person(&person)?
                    .with_context(|| format!("personne inconnue : {person}"))?;
                changes.push(PersonChange::Prescriber {
                    name: prescriber.unwrap_or(before.prescriber_name),
                    structure: structure.unwrap_or(before.prescriber_structure),
                });
            }
            if changes.is_empty() {
                bail!("rien à changer");
            }
            for c in &changes {
                store.change_person(&person, c, now_unix_ms)?;
            }
            println!("{person} : {} changement(s) enregistré(s)", changes.len());
        }
        PersonCmd::Archive { person, undo } => {
            store.change_person(&person, &PersonChange::Archived(!undo), now_unix_ms)?;
            println!("{person} {}", if undo { "désarchivée" } else { "archivée" });
        }
        PersonCmd::Merge { from, into, reason } => {
            if reason.trim().is_empty() {
                bail!("une fusion demande une raison (--reason)");
            }
            store.merge_persons(&from, &into, &reason, now_unix_ms)?;
            println!("{from} est fusionnée avec {into} ; « person unmerge {from} » l'annule.");
        }
        PersonCmd::Unmerge { person, reason } => {
            if reason.trim().is_empty() {
                bail!("annuler une fusion demande une raison (--reason)");
            }
            store.unmerge_person(&person, &reason, now_unix_ms)?;
            println!("fusion de {person} annulée");
        }
        PersonCmd::Seat {
            session,
            slot,
            person,
            reason,
        } => {
            let content = content()?;
            let mut s = Session::open(store, &content, SessionId(session))?;
            let at = s.time_at(now_unix_ms);
            let effects = s.submit(
                Input::Command(Command::AssignPerson {
                    participant: ParticipantId(slot.clone()),
                    person: PersonId(person.clone()),
                    reason,
                }),
                at,
            )?;
            for e in &effects {
                if let Effect::Refused(why) = e {
                    bail!("refusé : {why}");
                }
            }
            println!("place {slot} de la séance {session} : {person}");
        }
    }
    Ok(())
}
