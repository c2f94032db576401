//! The `db` and `participant` commands: passphrase change, recovery key, encrypted backup and
//! restore, purge of old sessions and activity figures, the access log; erasure and export of
//! one participant's data. Every command that reads or changes personal data leaves an entry in
//! the access log.

use anyhow::{Context, Result, bail};
use boussole_content::ContentSet;
use boussole_director::figures;
use boussole_director::privacy::{
    access_export, erase_person, erasure_fr, erasures_file, read_erasures, reapply_erasures,
    record_erasure,
};
use boussole_director::record::date_fr;
use boussole_director::retention::{
    DEFAULT_RETENTION_MONTHS, cutoff_unix_ms, plan_purge, purge_fr,
};
use boussole_director::store::{AccessAction, AccessEntry, RecoveryKey, SessionId, Store};
use clap::Subcommand;
use std::path::{Path, PathBuf};

/// The database's security and retention.
#[derive(Subcommand, Debug)]
pub enum DbCmd {
    /// Change the passphrase (the new one from --new-passphrase-file or
    /// BOUSSOLE_NEW_PASSPHRASE).
    Passphrase {
        /// A file holding the new passphrase.
        #[arg(long)]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Create the recovery key that opens backups (printed once: write it on paper). Running it
    /// again replaces it: older backups keep needing the older key.
    RecoveryKey,
    /// Write an encrypted copy of the whole database, opened by the recovery key.
    Backup {
        /// The backup file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a new database, with the recovery key, under a new passphrase
    /// (--new-passphrase-file or BOUSSOLE_NEW_PASSPHRASE). Never overwrites a file.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// A file holding the recovery key (as printed: groups, dashes and case do not matter).
        #[arg(long)]
        recovery_key_file: PathBuf,
        /// The new database (must not exist).
        #[arg(long)]
        to: PathBuf,
        /// A file holding the new passphrase.
        #[arg(long)]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Delete the sessions older than the retention period, keeping only anonymous activity
    /// figures.
    Purge {
        /// The retention period, months.
        #[arg(long, default_value_t = DEFAULT_RETENTION_MONTHS)]
        older_than_months: u32,
        /// Say what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The activity figures for FSE+ reporting: distinct persons, sessions and hours per month
    /// and year and per activity kind, kept after purges; small counts shown as "< 3".
    Figures {
        /// Write them as CSV to this file instead.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Who opened, exported, erased... what, and when.
    AccessLog,
}

/// A participant's rights: erasure and access.
#[derive(Subcommand, Debug)]
pub enum ParticipantCmd {
    /// Erase a person: their register entry, and their name, pseudonym and free text in every
    /// session they took part in.
    Erase {
        /// Who: --person, or --id (a slot) with --session.
        #[command(flatten)]
        who: crate::person_cli::Who,
    },
    /// Export everything held about a person, as JSON (right of access).
    Export {
        /// Who: --person, or --id (a slot) with --session.
        #[command(flatten)]
        who: crate::person_cli::Who,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Who acts, for the access log: `--actor`, else `$USER`, else `$LOGNAME`, else "inconnu".
pub fn actor(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "inconnu".into())
}

/// Appends an access log entry.
pub fn log_access(
    store: &mut Store,
    actor: &str,
    now_unix_ms: i64,
    action: AccessAction,
    session: Option<SessionId>,
    participant: Option<&str>,
    detail: impl Into<String>,
) -> Result<()> {
    store
        .log_access(&AccessEntry {
            at_unix_ms: now_unix_ms,
            actor: actor.to_owned(),
            action,
            session,
            participant: participant.map(str::to_owned),
            detail: detail.into(),
        })
        .context("writing the access log")
}

/// A new passphrase from `file`, else `BOUSSOLE_NEW_PASSPHRASE`.
pub fn new_passphrase(file: Option<&Path>) -> Result<String> {
    let phrase = match file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("lecture de la nouvelle phrase de passe dans {}", f.display()))?,
        None => std::env::var("BOUSSOLE_NEW_PASSPHRASE").context(
            "pas de nouvelle phrase de passe : donnez --new-passphrase-file ou BOUSSOLE_NEW_PASSPHRASE",
        )?,
    };
    let phrase = phrase.trim_end_matches(['\n', '\r']).to_owned();
    if phrase.is_empty() {
        bail!("la nouvelle phrase de passe est vide");
    }
    Ok(phrase)
}

/// `db restore`: runs before any store is opened (the passphrase may be lost).
pub fn restore(
    db: &Path,
    file: &Path,
    recovery_key_file: &Path,
    to: &Path,
    new_passphrase_file: Option<&Path>,
    actor: &str,
    now_unix_ms: i64,
) -> Result<()> {
    let text = std::fs::read_to_string(recovery_key_file).with_context(|| {
        format!(
            "lecture de la clé de secours dans {}",
            recovery_key_file.display()
        )
    })?;
    let key = RecoveryKey::parse(&text)
        .with_context(|| format!("clé de secours de {}", recovery_key_file.display()))?;
    let passphrase = new_passphrase(new_passphrase_file)?;
    let mut store = Store::restore(file, &key, to, &passphrase)
        .with_context(|| format!("restauration de {}", file.display()))?;
    // Erasures made after the backup: from the file beside the database being replaced, and
    // beside the restored one.
    let mut erasures = read_erasures(&erasures_file(db))?;
    erasures.extend(read_erasures(&erasures_file(to))?);
    let again = reapply_erasures(&mut store, &erasures).context("effacements à réappliquer")?;
    if !again.is_empty() {
        println!(
            "{} personne(s) effacée(s) depuis cette sauvegarde l'ont été à nouveau.",
            again.len()
        );
    }
    let sessions = store.sessions()?.len();
    log_access(
        &mut store,
        actor,
        now_unix_ms,
        AccessAction::BackupRestored,
        None,
        None,
        format!("depuis {}", file.display()),
    )?;
    println!(
        "Sauvegarde {} restaurée dans {} ({sessions} séance(s)), chiffrée avec la nouvelle phrase de passe.",
        file.display(),
        to.display()
    );
    println!(
        "Utilisez désormais --db {} avec cette phrase de passe. La clé de secours reste la même ; si elle a pu être vue, créez-en une nouvelle : db recovery-key.",
        to.display()
    );
    Ok(())
}

/// The `db` commands other than `restore`, on the open store.
pub fn db(
    mut store: Store,
    db: &Path,
    content: impl FnOnce() -> Result<ContentSet>,
    cmd: DbCmd,
    actor: &str,
    now_unix_ms: i64,
) -> Result<()> {
    match cmd {
        DbCmd::Passphrase {
            new_passphrase_file,
        } => {
            let new = new_passphrase(new_passphrase_file.as_deref())?;
            store
                .change_passphrase(&new)
                .context("changement de la phrase de passe")?;
            log_access(
                &mut store,
                actor,
                now_unix_ms,
                AccessAction::PassphraseChanged,
                None,
                None,
                "",
            )?;
            println!(
                "Phrase de passe changée pour {} : l'ancienne n'ouvre plus la base.",
                db.display()
            );
        }
        DbCmd::RecoveryKey => {
            let key = RecoveryKey::generate();
            let replaced = store
                .set_recovery_key(&key, now_unix_ms)
                .context("enregistrement de la clé de secours")?;
            log_access(
                &mut store,
                actor,
                now_unix_ms,
                AccessAction::RecoveryKeyCreated,
                None,
                None,
                if replaced {
                    "remplace la précédente"
                } else {
                    ""
                },
            )?;
            if replaced {
                println!(
                    "Attention : cette clé REMPLACE la précédente. Les sauvegardes déjà faites ne s'ouvrent qu'avec l'ancienne clé ; faites une nouvelle sauvegarde."
                );
            }
            println!("Clé de secours (affichée une seule fois) :\n");
            println!("    {}\n", key.grouped());
            println!(
                "Recopiez-la sur papier et rangez-la sous clé, loin de l'ordinateur et des sauvegardes."
            );
            println!(
                "Elle ouvre les sauvegardes (db backup) si la phrase de passe est perdue : voir docs/privacy/sauvegarde.md."
            );
        }
        DbCmd::Backup { out } => {
            if store.recovery_key()?.is_none() {
                bail!(
                    "pas encore de clé de secours : créez-la d'abord avec « db recovery-key » (les sauvegardes sont chiffrées avec elle)"
                );
            }
            log_access(
                &mut store,
                actor,
                now_unix_ms,
                AccessAction::BackupWritten,
                None,
                None,
                out.display().to_string(),
            )?;
            let info = store
                .backup(&out)
                .with_context(|| format!("sauvegarde dans {}", out.display()))?;
            println!(
                "Sauvegarde chiffrée écrite : {} ({} séance(s), {} octets). Elle s'ouvre avec la clé de secours.",
                info.path.display(),
                info.sessions,
                info.bytes
            );
        }
        DbCmd::Restore { .. } => bail!("db restore ne s'applique pas à une base ouverte"),
        DbCmd::Purge {
            older_than_months,
            dry_run,
        } => {
            let content = content()?;
            let cutoff = cutoff_unix_ms(now_unix_ms, older_than_months)?;
            let items = plan_purge(&store, &content, cutoff)?;
            if dry_run {
                print!("{}", purge_fr(&items, older_than_months, cutoff, true));
            } else {
                let done = boussole_director::retention::purge(
                    &mut store,
                    &content,
                    &items,
                    older_than_months,
                    cutoff,
                    actor,
                    now_unix_ms,
                )
                .map_err(anyhow::Error::msg)?;
                if done.results > 0 {
                    println!(
                        "{} résultat(s) d'autres outils daté(s) d'avant le {} supprimé(s), avec leur PDF.",
                        done.results,
                        boussole_director::roadmap::day_fr(&boussole_director::plan::local_date(
                            cutoff
                        ))
                    );
                }
                print!("{}", purge_fr(&items, older_than_months, cutoff, false));
                println!(
                    "Registre : {} personne(s) sans séance et inactive(s) depuis plus de {older_than_months} mois supprimée(s), avec leur historique.",
                    done.persons
                );
            }
        }
        DbCmd::Figures { csv } => {
            let content = content()?;
            let rows = figures::table(&store.frozen_figures()?, &figures::facts(&store, &content)?);
            match csv {
                Some(path) => {
                    std::fs::write(&path, figures::figures_csv(&rows))
                        .with_context(|| format!("écriture de {}", path.display()))?;
                    println!(
                        "chiffres écrits dans {} (sans donnée personnelle)",
                        path.display()
                    );
                }
                None => print!("{}", figures::figures_fr(&rows)),
            }
        }
        DbCmd::AccessLog => {
            let entries = store.access_log()?;
            if entries.is_empty() {
                println!("journal des accès vide ({})", db.display());
            }
            for e in entries {
                let mut line = format!(
                    "{} {}\t{}\t{}",
                    date_fr(e.at_unix_ms),
                    time_of_day(e.at_unix_ms),
                    e.actor,
                    e.action.label_fr()
                );
                if let Some(s) = e.session {
                    line.push_str(&format!("\tséance {s}"));
                }
                if let Some(p) = &e.participant {
                    line.push_str(&format!("\t{p}"));
                }
                if !e.detail.is_empty() {
                    line.push_str(&format!("\t{}", e.detail));
                }
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// `HH:MM:SS UTC` of a Unix time in ms.
fn time_of_day(unix_ms: i64) -> String {
    let s = unix_ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

/// The `participant` commands. `db` is the database's path, for the erasures file.
pub fn participant(
    db: Option<&Path>,
    mut store: Store,
    content: impl FnOnce() -> Result<ContentSet>,
    cmd: ParticipantCmd,
    actor: &str,
    now_unix_ms: i64,
) -> Result<()> {
    match cmd {
        ParticipantCmd::Erase { who } => {
            let person = who.resolve(&store)?;
            let id = person.as_str();
            log_access(
                &mut store,
                actor,
                now_unix_ms,
                AccessAction::ParticipantErased,
                None,
                Some(id),
                "demande d'effacement",
            )?;
            let done = erase_person(&mut store, id, now_unix_ms)
                .with_context(|| format!("effacement de {id}"))?;
            if let Some(db) = db {
                record_erasure(db, &done.persons, now_unix_ms)?;
            }
            print!("{}", erasure_fr(&done));
        }
        ParticipantCmd::Export { who, out } => {
            let content = content()?;
            let person = who.resolve(&store)?;
            let id = person.as_str();
            log_access(
                &mut store,
                actor,
                now_unix_ms,
                AccessAction::ParticipantExported,
                None,
                Some(id),
                out.display().to_string(),
            )?;
            let export = access_export(&store, &content, id, now_unix_ms)
                .with_context(|| format!("export des données de {id}"))?;
            let json = serde_json::to_string_pretty(&export)?;
            std::fs::write(&out, json).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "Données de {} ({id}, {} séance(s)) écrites dans {} : ce fichier contient des données personnelles, remettez-le à la personne et ne le gardez pas.",
                export.register.pseudonym,
                export.sessions.len(),
                out.display()
            );
        }
    }
    Ok(())
}
