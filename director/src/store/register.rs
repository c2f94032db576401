//! The person register (DESIGN principle 8: a person is one person): who the people are across
//! sessions, under a stable random id, with their pseudonym, the date they entered the
//! orientation phase, their prescriber and, apart, their name; which person holds each slot of
//! each session; merges of duplicates (reversible); and the journal of every change.
//!
//! Errors that come from the facilitator's input ([`RegisterError`]) read in French: they reach
//! the console and the CLI as they are.

use super::{SessionId, Store, session_exists};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::{BTreeMap, BTreeSet};

/// Characters of a person id after `pers-`: 10 base32 characters, 50 random bits (a clash is
/// checked for and redrawn anyway).
pub const PERSON_ID_CHARS: usize = 10;

/// Crockford's base32 alphabet (no I, L, O, U): ids read aloud or copied by hand stay unambiguous.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// The pseudonym an erased person's tombstone row keeps.
pub const ERASED_PSEUDONYM: &str = "effacé";

/// A fresh random person id: `pers-` and [`PERSON_ID_CHARS`] base32 characters. Never derived
/// from a name, a date or a slot.
pub fn new_person_id() -> String {
    let bits: u64 = rand::random();
    let mut out = String::from("pers-");
    for i in 0..PERSON_ID_CHARS {
        let index = (bits >> (5 * i)) & 31;
        out.push(char::from(ALPHABET[usize::try_from(index).unwrap_or(0)]));
    }
    out
}

/// A person of the register, as stored (never their name: see [`Store::person_name`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonInfo {
    /// The stable id (`pers-…`).
    pub id: String,
    /// The name shown in the console, the logs' enrolments and the documents.
    pub pseudonym: String,
    /// When they entered the orientation phase, `YYYY-MM-DD`, if known.
    pub entered_on: Option<String>,
    /// The prescriber (job counsellor, "CIP") who follows them; may be empty.
    pub prescriber_name: String,
    /// The prescriber's structure or antenne; may be empty.
    pub prescriber_structure: String,
    /// Archived: no longer offered for enrolment; their sessions stay.
    pub archived: bool,
    /// The person this one was merged into (a duplicate), if merged.
    pub merged_into: Option<String>,
    /// When they were erased on request (Unix ms); the row is then a tombstone.
    pub erased_at_unix_ms: Option<i64>,
    /// When the row was created (Unix ms).
    pub created_at_unix_ms: i64,
    /// Their latest activity (creation, change, a slot in a session), Unix ms: the retention
    /// period counts from here.
    pub last_active_unix_ms: i64,
}

/// What the register holds for a new person.
#[derive(Clone, Debug, Default)]
pub struct NewPerson {
    /// Their pseudonym (required, not blank).
    pub pseudonym: String,
    /// Their civil name, kept in the protected table; `None` or blank for none.
    pub name: Option<String>,
    /// When they entered the orientation phase, `YYYY-MM-DD`.
    pub entered_on: Option<String>,
    /// Their prescriber's name.
    pub prescriber_name: String,
    /// Their prescriber's structure or antenne.
    pub prescriber_structure: String,
}

/// A person created with an enrolment's log record ([`Store::append_batch_enrolling`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSlotPerson {
    /// The id, drawn by [`new_person_id`].
    pub id: String,
    /// Pseudonym (the slot's).
    pub pseudonym: String,
    /// When (Unix ms).
    pub at_unix_ms: i64,
}

/// Inserts `p` and its `created` journal entry; run inside a write transaction. An id already
/// taken is an error.
pub(super) fn insert_new_person(conn: &Connection, p: &NewSlotPerson) -> rusqlite::Result<()> {
    if !insert_row(conn, &p.id, &p.pseudonym, None, ("", ""), p.at_unix_ms)? {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY),
            Some(format!("person id {} already taken", p.id)),
        ));
    }
    journal(
        conn,
        p.at_unix_ms,
        &p.id,
        "created",
        &format!(
            "créée à l'inscription sous le pseudonyme « {} »",
            p.pseudonym
        ),
    )
}

/// One change to a person, for [`Store::change_person`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PersonChange {
    /// A new pseudonym (not blank).
    Pseudonym(String),
    /// A new civil name, or `None` to remove it.
    Name(Option<String>),
    /// The prescriber and their structure.
    Prescriber {
        /// Name.
        name: String,
        /// Structure or antenne.
        structure: String,
    },
    /// The date they entered the orientation phase (`YYYY-MM-DD`), or `None`.
    EnteredOn(Option<String>),
    /// Archive (`true`) or bring back (`false`).
    Archived(bool),
}

/// One entry of the register's journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// When (Unix ms).
    pub at_unix_ms: i64,
    /// The person changed.
    pub person: String,
    /// What changed: `created`, `renamed`, `name`, `prescriber`, `entered`, `archived`,
    /// `restored`, `merged`, `unmerged`, `slot`, `adopted`.
    pub change: String,
    /// The change in French (never the civil name).
    pub detail: String,
}

/// Why a register operation was refused or failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// A request that only the director of the day carries out (erasure, a person's data).
    #[error("cette demande passe par la régie du jour")]
    NotHere,
    /// No person has this id.
    #[error("personne inconnue : {0}")]
    UnknownPerson(String),
    /// A blank pseudonym.
    #[error("le pseudonyme ne peut pas être vide")]
    BlankPseudonym,
    /// A date that is not `YYYY-MM-DD`.
    #[error("date d'entrée en phase d'orientation invalide : « {0} » (attendu AAAA-MM-JJ)")]
    BadDate(String),
    /// A merge of a person into itself.
    #[error("fusion impossible : {0} ne peut pas être fusionnée avec elle-même")]
    MergeIntoSelf(String),
    /// The person is already merged into another.
    #[error("{person} est déjà fusionnée avec {into} : annulez d'abord cette fusion")]
    AlreadyMerged {
        /// The person.
        person: String,
        /// Where it went.
        into: String,
    },
    /// Both persons hold a slot of the same session: they are two people.
    #[error(
        "fusion impossible : {a} et {b} ont chacune une place dans la séance {session} ; ce sont deux personnes"
    )]
    SameSession {
        /// One person.
        a: String,
        /// The other.
        b: String,
        /// The session they share.
        session: SessionId,
    },
    /// A merge or its undo without a reason.
    #[error("une fusion, ou son annulation, demande une raison")]
    NoReason,
    /// An undo of a merge that was never made.
    #[error("{0} n'est fusionnée avec personne")]
    NotMerged(String),
    /// The person was erased.
    #[error("{0} a été effacée à sa demande")]
    Erased(String),
    /// The session does not exist.
    #[error("séance inconnue : {0}")]
    UnknownSession(SessionId),
    /// SQLite failed.
    #[error("register: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

const PERSON_COLUMNS: &str = "id, pseudonym, entered_on, prescriber_name, prescriber_structure, \
     archived, merged_into, erased_at_unix_ms, created_at_unix_ms, last_active_unix_ms";

fn person_info(row: &Row<'_>) -> rusqlite::Result<PersonInfo> {
    Ok(PersonInfo {
        id: row.get(0)?,
        pseudonym: row.get(1)?,
        entered_on: row.get(2)?,
        prescriber_name: row.get(3)?,
        prescriber_structure: row.get(4)?,
        archived: row.get::<_, i64>(5)? != 0,
        merged_into: row.get(6)?,
        erased_at_unix_ms: row.get(7)?,
        created_at_unix_ms: row.get(8)?,
        last_active_unix_ms: row.get(9)?,
    })
}

fn check_date(date: Option<&str>) -> Result<Option<String>, RegisterError> {
    let Some(d) = date.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let bad = || RegisterError::BadDate(d.to_owned());
    let parts: Vec<&str> = d.split('-').collect();
    let [y, m, day] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || day.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let day: u8 = day.parse().map_err(|_| bad())?;
    let month = time::Month::try_from(m).map_err(|_| bad())?;
    time::Date::from_calendar_date(y, month, day).map_err(|_| bad())?;
    Ok(Some(d.to_owned()))
}

fn pseudonym_of(p: &str) -> Result<String, RegisterError> {
    let p = p.trim();
    if p.is_empty() {
        return Err(RegisterError::BlankPseudonym);
    }
    Ok(p.to_owned())
}

fn journal(
    conn: &Connection,
    at: i64,
    person: &str,
    change: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO person_journal (at_unix_ms, person, change, detail) VALUES (?1, ?2, ?3, ?4)",
        params![at, person, change, detail],
    )?;
    Ok(())
}

fn load_person(conn: &Connection, id: &str) -> rusqlite::Result<Option<PersonInfo>> {
    conn.query_row(
        &format!("SELECT {PERSON_COLUMNS} FROM persons WHERE id = ?1"),
        [id],
        person_info,
    )
    .optional()
}

fn live_person(conn: &Connection, id: &str) -> Result<PersonInfo, RegisterError> {
    let p = load_person(conn, id)?.ok_or_else(|| RegisterError::UnknownPerson(id.to_owned()))?;
    if p.erased_at_unix_ms.is_some() {
        return Err(RegisterError::Erased(id.to_owned()));
    }
    Ok(p)
}

/// Inserts a person row with a fresh id (redrawn on a clash); returns the id.
fn insert_person(
    conn: &Connection,
    pseudonym: &str,
    entered_on: Option<&str>,
    prescriber: (&str, &str),
    now: i64,
) -> rusqlite::Result<String> {
    loop {
        let id = new_person_id();
        if insert_row(conn, &id, pseudonym, entered_on, prescriber, now)? {
            return Ok(id);
        }
    }
}

/// The one `INSERT` of a person row; `false` when the id is taken (nothing written).
fn insert_row(
    conn: &Connection,
    id: &str,
    pseudonym: &str,
    entered_on: Option<&str>,
    prescriber: (&str, &str),
    now: i64,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "INSERT INTO persons (id, pseudonym, entered_on, prescriber_name, prescriber_structure,
                              created_at_unix_ms, last_active_unix_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (id) DO NOTHING",
        params![id, pseudonym, entered_on, prescriber.0, prescriber.1, now],
    )?;
    Ok(n == 1)
}

/// The person at the end of `id`'s merges (itself when not merged).
fn canonical(conn: &Connection, id: &str) -> rusqlite::Result<String> {
    let mut current = id.to_owned();
    // A merge chain is at most one step (a merged person cannot receive a merge), but a
    // bound keeps a damaged table from looping.
    for _ in 0..16 {
        let next: Option<String> = conn
            .query_row(
                "SELECT merged_into FROM persons WHERE id = ?1",
                [&current],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    Ok(current)
}

/// Every person whose canonical person is `canonical` (itself included).
fn merge_group(conn: &Connection, canonical_id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT id FROM persons WHERE merged_into = ?1 ORDER BY id")?;
    let mut out = vec![canonical_id.to_owned()];
    out.extend(
        stmt.query_map([canonical_id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?,
    );
    Ok(out)
}

impl Store {
    /// Adds a person to the register and returns their new id; the journal says `created`.
    ///
    /// # Errors
    /// [`RegisterError::BlankPseudonym`], [`RegisterError::BadDate`], [`RegisterError::Sqlite`].
    pub fn create_person(
        &mut self,
        new: &NewPerson,
        now_unix_ms: i64,
    ) -> Result<String, RegisterError> {
        let pseudonym = pseudonym_of(&new.pseudonym)?;
        let entered = check_date(new.entered_on.as_deref())?;
        let tx = self.conn.transaction()?;
        let id = insert_person(
            &tx,
            &pseudonym,
            entered.as_deref(),
            (new.prescriber_name.trim(), new.prescriber_structure.trim()),
            now_unix_ms,
        )?;
        if let Some(name) = new.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            tx.execute(
                "INSERT INTO person_names (person, name) VALUES (?1, ?2)",
                params![id, name],
            )?;
        }
        journal(
            &tx,
            now_unix_ms,
            &id,
            "created",
            &format!("créée sous le pseudonyme « {pseudonym} »"),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// The person with this id (tombstones and merged persons included), or `None`.
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn person(&self, id: &str) -> Result<Option<PersonInfo>, RegisterError> {
        Ok(load_person(&self.conn, id)?)
    }

    /// Every person of the register, by pseudonym then id (archived, merged and erased ones
    /// included: filter on their fields).
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn persons(&self) -> Result<Vec<PersonInfo>, RegisterError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PERSON_COLUMNS} FROM persons ORDER BY pseudonym COLLATE NOCASE, id"
        ))?;
        let rows = stmt.query_map([], person_info)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A person's civil name from the protected table, if recorded.
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn person_name(&self, id: &str) -> Result<Option<String>, RegisterError> {
        Ok(self
            .conn
            .query_row(
                "SELECT name FROM person_names WHERE person = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Changes one thing about a person, with its journal entry, in one transaction.
    ///
    /// # Errors
    /// [`RegisterError::UnknownPerson`], [`RegisterError::Erased`],
    /// [`RegisterError::BlankPseudonym`], [`RegisterError::BadDate`], [`RegisterError::Sqlite`].
    pub fn change_person(
        &mut self,
        id: &str,
        change: &PersonChange,
        now_unix_ms: i64,
    ) -> Result<(), RegisterError> {
        let tx = self.conn.transaction()?;
        let before = live_person(&tx, id)?;
        let (kind, detail) = match change {
            PersonChange::Pseudonym(p) => {
                let p = pseudonym_of(p)?;
                tx.execute(
                    "UPDATE persons SET pseudonym = ?1 WHERE id = ?2",
                    params![p, id],
                )?;
                (
                    "renamed",
                    format!("pseudonyme « {} » → « {p} »", before.pseudonym),
                )
            }
            PersonChange::Name(name) => {
                match name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                    Some(n) => tx.execute(
                        "INSERT INTO person_names (person, name) VALUES (?1, ?2)
                         ON CONFLICT (person) DO UPDATE SET name = excluded.name",
                        params![id, n],
                    )?,
                    None => tx.execute("DELETE FROM person_names WHERE person = ?1", [id])?,
                };
                ("name", "nom civil modifié (table protégée)".to_owned())
            }
            PersonChange::Prescriber { name, structure } => {
                tx.execute(
                    "UPDATE persons SET prescriber_name = ?1, prescriber_structure = ?2 WHERE id = ?3",
                    params![name.trim(), structure.trim(), id],
                )?;
                (
                    "prescriber",
                    format!("prescripteur : {} ({})", name.trim(), structure.trim()),
                )
            }
            PersonChange::EnteredOn(d) => {
                let d = check_date(d.as_deref())?;
                tx.execute(
                    "UPDATE persons SET entered_on = ?1 WHERE id = ?2",
                    params![d, id],
                )?;
                (
                    "entered",
                    format!(
                        "entrée en phase d'orientation : {}",
                        d.as_deref().unwrap_or("—")
                    ),
                )
            }
            PersonChange::Archived(a) => {
                tx.execute(
                    "UPDATE persons SET archived = ?1 WHERE id = ?2",
                    params![i64::from(*a), id],
                )?;
                if *a {
                    ("archived", "archivée".to_owned())
                } else {
                    ("restored", "désarchivée".to_owned())
                }
            }
        };
        tx.execute(
            "UPDATE persons SET last_active_unix_ms = max(last_active_unix_ms, ?1) WHERE id = ?2",
            params![now_unix_ms, id],
        )?;
        journal(&tx, now_unix_ms, id, kind, &detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Merges `from` (a duplicate) into `into`: from now on `from`'s slots count as `into`'s
    /// (syntheses, exports, erasure, figures). Nothing else is rewritten, so
    /// [`Self::unmerge_person`] undoes it exactly. Journaled on both, with the reason.
    ///
    /// # Errors
    /// [`RegisterError::MergeIntoSelf`], [`RegisterError::UnknownPerson`],
    /// [`RegisterError::Erased`], [`RegisterError::AlreadyMerged`] (either side is merged
    /// already), [`RegisterError::SameSession`] (they shared a session: two people),
    /// [`RegisterError::Sqlite`].
    pub fn merge_persons(
        &mut self,
        from: &str,
        into: &str,
        reason: &str,
        now_unix_ms: i64,
    ) -> Result<(), RegisterError> {
        if from == into {
            return Err(RegisterError::MergeIntoSelf(from.to_owned()));
        }
        let tx = self.conn.transaction()?;
        let a = live_person(&tx, from)?;
        let b = live_person(&tx, into)?;
        for p in [&a, &b] {
            if let Some(i) = &p.merged_into {
                return Err(RegisterError::AlreadyMerged {
                    person: p.id.clone(),
                    into: i.clone(),
                });
            }
        }
        let group_a = merge_group(&tx, from)?;
        let group_b = merge_group(&tx, into)?;
        let sessions = |group: &[String]| -> rusqlite::Result<BTreeSet<i64>> {
            let mut stmt = tx.prepare("SELECT session FROM slot_persons WHERE person = ?1")?;
            let mut out = BTreeSet::new();
            for p in group {
                for s in stmt.query_map([p], |r| r.get::<_, i64>(0))? {
                    out.insert(s?);
                }
            }
            Ok(out)
        };
        let (sa, sb) = (sessions(&group_a)?, sessions(&group_b)?);
        if let Some(s) = sa.intersection(&sb).next() {
            return Err(RegisterError::SameSession {
                a: from.to_owned(),
                b: into.to_owned(),
                session: SessionId(*s),
            });
        }
        // Persons merged into `from` earlier now point at `into` directly (one step).
        tx.execute(
            "UPDATE persons SET merged_into = ?1 WHERE merged_into = ?2",
            params![into, from],
        )?;
        tx.execute(
            "UPDATE persons SET merged_into = ?1 WHERE id = ?2",
            params![into, from],
        )?;
        let why = reason.trim();
        journal(
            &tx,
            now_unix_ms,
            from,
            "merged",
            &format!("fusionnée avec {into} (« {} ») : {why}", b.pseudonym),
        )?;
        journal(
            &tx,
            now_unix_ms,
            into,
            "merged",
            &format!("reçoit {from} (« {} ») : {why}", a.pseudonym),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Undoes [`Self::merge_persons`] for `id`: its slots are its own again. Journaled.
    ///
    /// # Errors
    /// [`RegisterError::UnknownPerson`], [`RegisterError::NotMerged`], [`RegisterError::Sqlite`].
    pub fn unmerge_person(
        &mut self,
        id: &str,
        reason: &str,
        now_unix_ms: i64,
    ) -> Result<(), RegisterError> {
        let tx = self.conn.transaction()?;
        let p = load_person(&tx, id)?.ok_or_else(|| RegisterError::UnknownPerson(id.to_owned()))?;
        let Some(into) = p.merged_into else {
            return Err(RegisterError::NotMerged(id.to_owned()));
        };
        tx.execute("UPDATE persons SET merged_into = NULL WHERE id = ?1", [id])?;
        let why = reason.trim();
        journal(
            &tx,
            now_unix_ms,
            id,
            "unmerged",
            &format!("fusion avec {into} annulée : {why}"),
        )?;
        journal(
            &tx,
            now_unix_ms,
            &into,
            "unmerged",
            &format!("{id} n'est plus fusionnée ici : {why}"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The person `id` counts as: itself, or the person it was merged into.
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn canonical_person(&self, id: &str) -> Result<String, RegisterError> {
        Ok(canonical(&self.conn, id)?)
    }

    /// Records that `person` holds `slot` in `session` (the mirror of the log's
    /// `AssignPerson`; replaces an earlier holder) and marks them active now. Journaled.
    ///
    /// # Errors
    /// [`RegisterError::UnknownSession`], [`RegisterError::UnknownPerson`],
    /// [`RegisterError::Sqlite`].
    pub fn set_slot_person(
        &mut self,
        session: SessionId,
        slot: &str,
        person: &str,
        now_unix_ms: i64,
    ) -> Result<(), RegisterError> {
        let tx = self.conn.transaction()?;
        if !session_exists(&tx, session)? {
            return Err(RegisterError::UnknownSession(session));
        }
        load_person(&tx, person)?.ok_or_else(|| RegisterError::UnknownPerson(person.to_owned()))?;
        let before: Option<String> = tx
            .query_row(
                "SELECT person FROM slot_persons WHERE session = ?1 AND slot = ?2",
                params![session.0, slot],
                |r| r.get(0),
            )
            .optional()?;
        if before.as_deref() == Some(person) {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO slot_persons (session, slot, person) VALUES (?1, ?2, ?3)
             ON CONFLICT (session, slot) DO UPDATE SET person = excluded.person",
            params![session.0, slot, person],
        )?;
        tx.execute(
            "UPDATE persons SET last_active_unix_ms = max(last_active_unix_ms, ?1) WHERE id = ?2",
            params![now_unix_ms, person],
        )?;
        journal(
            &tx,
            now_unix_ms,
            person,
            "slot",
            &format!("place {slot} de la séance {session}"),
        )?;
        if let Some(b) = before {
            journal(
                &tx,
                now_unix_ms,
                &b,
                "slot",
                &format!("place {slot} de la séance {session} donnée à {person}"),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Which person holds each slot of `session`, as recorded (not merge-resolved).
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn slot_persons(
        &self,
        session: SessionId,
    ) -> Result<BTreeMap<String, String>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare("SELECT slot, person FROM slot_persons WHERE session = ?1 ORDER BY slot")?;
        let rows = stmt.query_map([session.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every (session, slot) where `person` or a person merged with it appears, oldest session
    /// first.
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn appearances(&self, person: &str) -> Result<Vec<(SessionId, String)>, RegisterError> {
        let root = canonical(&self.conn, person)?;
        let group = merge_group(&self.conn, &root)?;
        let mut stmt = self.conn.prepare(
            "SELECT sp.session, sp.slot FROM slot_persons sp JOIN sessions s ON s.id = sp.session
             WHERE sp.person = ?1",
        )?;
        let mut out = Vec::new();
        for p in &group {
            for row in
                stmt.query_map([p], |r| Ok((SessionId(r.get(0)?), r.get::<_, String>(1)?)))?
            {
                out.push(row?);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The journal of `person` (every change, oldest first).
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn person_journal(&self, person: &str) -> Result<Vec<JournalEntry>, RegisterError> {
        let mut stmt = self.conn.prepare(
            "SELECT at_unix_ms, person, change, detail FROM person_journal
             WHERE person = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([person], |r| {
            Ok(JournalEntry {
                at_unix_ms: r.get(0)?,
                person: r.get(1)?,
                change: r.get(2)?,
                detail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The sessions logged before the register existed whose slots still need their persons.
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn legacy_sessions(&self) -> Result<Vec<SessionId>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare("SELECT session FROM legacy_sessions ORDER BY session")?;
        let rows = stmt.query_map([], |r| Ok(SessionId(r.get(0)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Gives each `(slot, pseudonym)` of legacy session `session` its own new person (never
    /// one across sessions: a person who came twice before the register is merged by hand),
    /// copies the slot's protected name to the person, and marks the session done; one
    /// transaction. Slots that already have a person are left alone.
    ///
    /// # Errors
    /// [`RegisterError::UnknownSession`], [`RegisterError::Sqlite`].
    pub fn adopt_legacy_session(
        &mut self,
        session: SessionId,
        slots: &[(String, String)],
        now_unix_ms: i64,
    ) -> Result<usize, RegisterError> {
        let tx = self.conn.transaction()?;
        let created: i64 = tx
            .query_row(
                "SELECT created_at_unix_ms FROM sessions WHERE id = ?1",
                [session.0],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(RegisterError::UnknownSession(session))?;
        let mut n = 0;
        for (slot, pseudonym) in slots {
            let held: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM slot_persons WHERE session = ?1 AND slot = ?2)",
                params![session.0, slot],
                |r| r.get(0),
            )?;
            if held {
                continue;
            }
            let pseudonym = if pseudonym.trim().is_empty() {
                slot.as_str()
            } else {
                pseudonym.as_str()
            };
            let id = insert_person(&tx, pseudonym, None, ("", ""), created)?;
            tx.execute(
                "INSERT INTO slot_persons (session, slot, person) VALUES (?1, ?2, ?3)",
                params![session.0, slot, id],
            )?;
            tx.execute(
                "INSERT INTO person_names (person, name)
                 SELECT ?1, name FROM participant_names WHERE session = ?2 AND id = ?3",
                params![id, session.0, slot],
            )?;
            journal(
                &tx,
                now_unix_ms,
                &id,
                "adopted",
                &format!(
                    "créée pour la place {slot} de la séance {session}, enregistrée avant le registre"
                ),
            )?;
            n += 1;
        }
        tx.execute(
            "DELETE FROM legacy_sessions WHERE session = ?1",
            [session.0],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Erases a person from the register, in one transaction: their name and journal are
    /// deleted, the row becomes a tombstone (pseudonym [`ERASED_PSEUDONYM`], no prescriber, no
    /// date; the id stays so the logs' slots still resolve to one, now anonymous, person), and
    /// the erasure is recorded in `erasures`. Persons merged with them are erased too (they are
    /// the same person). Returns the ids erased.
    ///
    /// # Errors
    /// [`RegisterError::UnknownPerson`], [`RegisterError::Sqlite`].
    pub fn erase_person(
        &mut self,
        id: &str,
        now_unix_ms: i64,
    ) -> Result<Vec<String>, RegisterError> {
        let tx = self.conn.transaction()?;
        load_person(&tx, id)?.ok_or_else(|| RegisterError::UnknownPerson(id.to_owned()))?;
        let root = canonical(&tx, id)?;
        let group = merge_group(&tx, &root)?;
        for p in &group {
            tx.execute("DELETE FROM person_names WHERE person = ?1", [p])?;
            tx.execute("DELETE FROM person_journal WHERE person = ?1", [p])?;
            tx.execute("DELETE FROM information_notices WHERE person = ?1", [p])?;
            tx.execute("DELETE FROM synthesis_events WHERE person = ?1", [p])?;
            // Their roadmap and results from other tools (attachments included) go too.
            super::roadmap::delete_person_data(&tx, p)?;
            tx.execute(
                "UPDATE persons SET pseudonym = ?1, entered_on = NULL, prescriber_name = '',
                        prescriber_structure = '', archived = 1, erased_at_unix_ms = ?2
                 WHERE id = ?3",
                params![ERASED_PSEUDONYM, now_unix_ms, p],
            )?;
            tx.execute(
                "INSERT INTO erasures (person, at_unix_ms) VALUES (?1, ?2) ON CONFLICT (person) DO NOTHING",
                params![p, now_unix_ms],
            )?;
        }
        tx.commit()?;
        self.checkpoint()?;
        Ok(group)
    }

    /// The persons erased on request, with when (Unix ms).
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn erasures(&self) -> Result<Vec<(String, i64)>, RegisterError> {
        let mut stmt = self
            .conn
            .prepare("SELECT person, at_unix_ms FROM erasures ORDER BY at_unix_ms, person")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes the persons inactive since before `cutoff_unix_ms` who hold no slot in any
    /// session left (a whole merge group at once, only when every member qualifies), with
    /// their names and journal; returns their ids. Run after the sessions' purge.
    ///
    /// # Errors
    /// [`RegisterError::Sqlite`].
    pub fn purge_inactive_persons(
        &mut self,
        cutoff_unix_ms: i64,
    ) -> Result<Vec<String>, RegisterError> {
        let tx = self.conn.transaction()?;
        let mut roots: Vec<String> = {
            let mut stmt =
                tx.prepare("SELECT id FROM persons WHERE merged_into IS NULL ORDER BY id")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        roots.sort();
        let mut gone = Vec::new();
        for root in roots {
            let group = merge_group(&tx, &root)?;
            let mut all_old = true;
            for p in &group {
                let (active, slots): (i64, i64) = tx.query_row(
                    "SELECT last_active_unix_ms,
                            (SELECT count(*) FROM slot_persons WHERE person = ?1)
                     FROM persons WHERE id = ?1",
                    [p],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                all_old &= active < cutoff_unix_ms && slots == 0;
            }
            if !all_old {
                continue;
            }
            // Members first: they point at the root.
            for p in group.iter().rev() {
                tx.execute("DELETE FROM person_names WHERE person = ?1", [p])?;
                tx.execute("DELETE FROM person_journal WHERE person = ?1", [p])?;
                tx.execute("DELETE FROM information_notices WHERE person = ?1", [p])?;
                tx.execute("DELETE FROM synthesis_events WHERE person = ?1", [p])?;
                super::roadmap::delete_person_data(&tx, p)?;
                tx.execute("DELETE FROM persons WHERE id = ?1", [p])?;
                gone.push(p.clone());
            }
        }
        tx.commit()?;
        self.checkpoint()?;
        Ok(gone)
    }
}

/// [`canonical`], for the other store modules.
pub(super) fn canonical_of(conn: &Connection, id: &str) -> rusqlite::Result<String> {
    canonical(conn, id)
}

/// [`merge_group`], for the other store modules.
pub(super) fn merge_group_of(conn: &Connection, root: &str) -> rusqlite::Result<Vec<String>> {
    merge_group(conn, root)
}

/// [`load_person`], for the other store modules.
pub(super) fn load_person_of(conn: &Connection, id: &str) -> rusqlite::Result<Option<PersonInfo>> {
    load_person(conn, id)
}

/// [`check_date`], for the other store modules.
pub(super) fn check_date_of(date: Option<&str>) -> Result<Option<String>, RegisterError> {
    check_date(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids_are_random_and_well_formed() {
        let a = new_person_id();
        let b = new_person_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 5 + PERSON_ID_CHARS);
        assert!(a.starts_with("pers-"));
        assert!(a[5..].bytes().all(|c| ALPHABET.contains(&c)));
    }

    #[test]
    fn dates_must_be_calendar_dates() {
        assert_eq!(
            check_date(Some("2026-12-01")).unwrap(),
            Some("2026-12-01".into())
        );
        assert_eq!(check_date(Some("  ")).unwrap(), None);
        assert!(matches!(
            check_date(Some("2026-02-30")),
            Err(RegisterError::BadDate(_))
        ));
        assert!(matches!(
            check_date(Some("1/12/2026")),
            Err(RegisterError::BadDate(_))
        ));
    }
}
