//! The backup the console asks for (« Sauvegarder le journal… » on the home screen): the whole
//! store, encrypted with the recovery key, written as a new dated file in the folder the
//! facilitator chose (a USB key, say), then reopened with the recovery key and checked before
//! it is called done. The copy is written beside its name and renamed
//! ([`Store::backup`]): a key pulled half-way leaves no file under that name, and earlier
//! backups are never touched (each has its own name).

use crate::store::{AccessAction, AccessEntry, BackupError, RestoreError, Store};
use std::path::{Path, PathBuf};

/// A backup written and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Done {
    /// The file.
    pub path: PathBuf,
    /// Its size, bytes.
    pub bytes: u64,
    /// Sessions it holds (as the reopened copy counts them).
    pub sessions: u64,
}

impl Done {
    /// The confirmation for the facilitator, in French.
    pub fn french(&self) -> String {
        format!(
            "Sauvegarde vérifiée : {} séance(s), {:.1} Mo, dans {}. Rangez la clé sous clé, loin de l'ordinateur.",
            self.sessions,
            self.bytes as f64 / 1_000_000.0,
            self.path.display()
        )
    }
}

/// The file name of a backup made at `now_unix_ms` (Paris time):
/// `boussole-sauvegarde-2026-12-07-14h05.db`.
pub fn file_name(now_unix_ms: i64) -> String {
    format!("boussole-sauvegarde-{}.db", stamp(now_unix_ms))
}

/// `2026-12-07-14h05`: a time in Paris, for file names.
pub fn stamp(now_unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(now_unix_ms)
        .map(|t| t.with_timezone(&rrule::Tz::Europe__Paris))
        .map_or_else(
            || "0000-00-00-00h00".into(),
            |t| t.format("%Y-%m-%d-%Hh%M").to_string(),
        )
}

/// Backs `store` up into `folder`, checks the copy with the recovery key, and logs it under
/// `actor`. A file of the same name (two backups in one minute) gets a `-2`, `-3`… suffix.
///
/// # Errors
/// A French message: no recovery key yet, a folder missing or not writable, a full disk, a
/// copy that does not reopen (then it is deleted: a backup that cannot be restored is none).
pub fn backup_into(
    store: &mut Store,
    folder: &Path,
    actor: &str,
    now_unix_ms: i64,
) -> Result<Done, String> {
    crate::files::folder_ready(folder)?;
    let key = match store.recovery_key() {
        Ok(Some((key, _))) => key,
        Ok(None) => {
            return Err("pas de clé de secours : les sauvegardes sont chiffrées avec elle".into());
        }
        Err(e) => return Err(format!("la clé de secours ne se lit pas : {e}")),
    };
    let name = file_name(now_unix_ms);
    let path = crate::files::unique(folder, name.trim_end_matches(".db"), "db");
    let written = store.backup(&path).map_err(|e| match e {
        BackupError::NoRecoveryKey => {
            "pas de clé de secours : les sauvegardes sont chiffrées avec elle".to_owned()
        }
        BackupError::Io { source, .. } => format!(
            "la sauvegarde n'a pas pu être écrite dans {} : {}",
            folder.display(),
            crate::files::io_fr(&source)
        ),
        BackupError::Sqlite(e) => format!("la sauvegarde a échoué : {e}"),
    });
    let info = match written {
        Ok(info) => info,
        Err(e) => {
            // Whatever was half-written beside the name goes.
            let _ = std::fs::remove_file(path.with_extension("db.part"));
            return Err(e);
        }
    };
    let sessions = match Store::verify_backup(&path, &key) {
        Ok(n) if n == info.sessions => n,
        Ok(n) => {
            let _ = std::fs::remove_file(&path);
            return Err(format!(
                "la sauvegarde relue compte {n} séance(s) au lieu de {} : elle a été supprimée, recommencez",
                info.sessions
            ));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            return Err(format!(
                "la sauvegarde ne se relit pas avec la clé de secours ({}) : elle a été supprimée, recommencez",
                restore_fr(&e)
            ));
        }
    };
    let _ = store.log_access(&AccessEntry {
        at_unix_ms: now_unix_ms,
        actor: actor.to_owned(),
        action: AccessAction::BackupWritten,
        session: None,
        participant: None,
        detail: format!("{} (vérifiée, {sessions} séances)", path.display()),
    });
    Ok(Done {
        path,
        bytes: info.bytes,
        sessions,
    })
}

fn restore_fr(e: &RestoreError) -> String {
    match e {
        RestoreError::WrongRecoveryKey { .. } => "elle ne s'ouvre pas avec la clé".into(),
        RestoreError::NotAStore { why, .. } => format!("contenu incomplet : {why}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_paris_date_and_time() {
        // 2026-12-07 13:05 UTC is 14:05 in Paris (winter time).
        assert_eq!(
            file_name(1_796_648_700_000),
            "boussole-sauvegarde-2026-12-07-14h05.db"
        );
    }
}
