//! Roadmaps, the plan and results from other tools, as stored (schema v4): the activities
//! prescribed to each person and their status, the planned sessions and recurring series, who
//! is invited, the results recorded from other tools with their optional PDF, and the funders'
//! figures kept after a purge. The catalogue rules (an activity exists, a tool's fields) are
//! checked by `crate::roadmap` before anything reaches here; this module keeps each write in
//! one transaction and every status change in `roadmap_history`.
//!
//! Errors that come from the facilitator's input read in French.

use super::{SessionId, Store, register};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::BTreeSet;

/// Where a roadmap entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryStatus {
    /// Prescribed, waiting for a session (on the activity's waiting list).
    Waiting,
    /// Invited to a planned session.
    Planned,
    /// Done: set by the close of the session the person was enrolled in, or by a result.
    Done,
    /// Invited but not enrolled when the session closed: back on the waiting list.
    Absent,
    /// Started and not finished (set by the facilitator, with a reason).
    Interrupted,
    /// No longer prescribed (set by the facilitator, with a reason).
    Cancelled,
}

impl EntryStatus {
    /// Every status.
    pub const ALL: [Self; 6] = [
        Self::Waiting,
        Self::Planned,
        Self::Done,
        Self::Absent,
        Self::Interrupted,
        Self::Cancelled,
    ];

    /// The stable code stored in `roadmap_entries.status`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Planned => "planned",
            Self::Done => "done",
            Self::Absent => "absent",
            Self::Interrupted => "interrupted",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// In French, for the CLI and the console.
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Waiting => "en attente",
            Self::Planned => "planifiée",
            Self::Done => "réalisée",
            Self::Absent => "absent·e (de nouveau en attente)",
            Self::Interrupted => "interrompue",
            Self::Cancelled => "annulée",
        }
    }

    /// Whether the entry is on its activity's waiting list.
    pub fn is_waiting(self) -> bool {
        matches!(self, Self::Waiting | Self::Absent)
    }
}

/// One activity prescribed to one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoadmapEntry {
    /// Its number.
    pub id: i64,
    /// The person (as stored: resolve merges with [`Store::canonical_person`]).
    pub person: String,
    /// The catalogue activity.
    pub activity: String,
    /// Who prescribed it (the orientation referent, a role; free text, never a participant).
    pub prescribed_by: String,
    /// When, `YYYY-MM-DD`.
    pub prescribed_on: String,
    /// Where it stands.
    pub status: EntryStatus,
    /// The planned session it is (or was last) invited to.
    pub planned: Option<i64>,
    /// The director session that marked it done.
    pub session: Option<SessionId>,
    /// The result from another tool that marked it done.
    pub result: Option<i64>,
    /// Its last change, Unix ms.
    pub changed_at_unix_ms: i64,
}

/// One status change of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryLine {
    /// When, Unix ms.
    pub at_unix_ms: i64,
    /// The new status.
    pub status: EntryStatus,
    /// Why, in French.
    pub detail: String,
}

/// A planned session's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlannedState {
    /// To come (or come and not yet closed).
    Planned,
    /// Its director session closed (or its attendance was recorded).
    Held,
    /// Cancelled.
    Cancelled,
}

impl PlannedState {
    fn code(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Held => "held",
            Self::Cancelled => "cancelled",
        }
    }

    fn from_code(code: &str) -> Self {
        match code {
            "held" => Self::Held,
            "cancelled" => Self::Cancelled,
            _ => Self::Planned,
        }
    }
}

/// A session of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedSession {
    /// Its number.
    pub id: i64,
    /// The catalogue activity.
    pub activity: String,
    /// When it starts, Unix ms (UTC).
    pub starts_at_unix_ms: i64,
    /// How long, minutes.
    pub minutes: u32,
    /// Where (a room, a site; never a person).
    pub place: String,
    /// The recurring series it belongs to.
    pub series: Option<i64>,
    /// The director session created from it.
    pub session: Option<SessionId>,
    /// Its state.
    pub state: PlannedState,
    /// The entries invited to it (status planned, or done / absent once held).
    pub invited: Vec<RoadmapEntry>,
}

/// A recurring series of sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesInfo {
    /// Its number.
    pub id: i64,
    /// The catalogue activity.
    pub activity: String,
    /// Its RFC 5545 rule, e.g. `FREQ=WEEKLY;INTERVAL=2;COUNT=6`.
    pub rrule: String,
    /// Its first start, Europe/Paris local time, `YYYY-MM-DDTHH:MM`.
    pub first_local: String,
    /// How long each session lasts, minutes.
    pub minutes: u32,
    /// Where.
    pub place: String,
}

/// A new planned session, for [`Store::add_plan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPlanned {
    /// The catalogue activity.
    pub activity: String,
    /// Start, Unix ms.
    pub starts_at_unix_ms: i64,
    /// Length, minutes.
    pub minutes: u32,
    /// Where.
    pub place: String,
    /// The roadmap entries invited (taken off the waiting list).
    pub invite: Vec<i64>,
}

/// A new series with its occurrences, for [`Store::add_plan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSeries {
    /// The catalogue activity.
    pub activity: String,
    /// The rule (`FREQ=WEEKLY;INTERVAL=2;COUNT=6`).
    pub rrule: String,
    /// First start, Europe/Paris local, `YYYY-MM-DDTHH:MM`.
    pub first_local: String,
    /// Length, minutes.
    pub minutes: u32,
    /// Where.
    pub place: String,
}

/// A result recorded from another tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalResult {
    /// Its number.
    pub id: i64,
    /// The person.
    pub person: String,
    /// The catalogue activity (`disc`).
    pub activity: String,
    /// The tool's name, as the catalogue gives it.
    pub tool: String,
    /// When the person took it, `YYYY-MM-DD`.
    pub taken_on: String,
    /// Who administered it (a role or a professional's name; never the participant's).
    pub administered_by: String,
    /// `(field id, label, value)` as the tool gave them, in catalogue order.
    pub fields: Vec<(String, String, String)>,
    /// The attached PDF's file name and size in bytes, if one is attached.
    pub attachment: Option<(String, u64)>,
    /// When it was recorded, Unix ms.
    pub recorded_at_unix_ms: i64,
}

/// What [`Store::record_result`] stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewResult {
    /// The person (must be in the register, not erased).
    pub person: String,
    /// The catalogue activity.
    pub activity: String,
    /// The tool's name.
    pub tool: String,
    /// `YYYY-MM-DD`.
    pub taken_on: String,
    /// Who administered it.
    pub administered_by: String,
    /// `(field id, label, value)`.
    pub fields: Vec<(String, String, String)>,
    /// The PDF: file name, SHA-256 (hex) and bytes, already checked by the caller.
    pub attachment: Option<(String, String, Vec<u8>)>,
}

/// Sessions and hours of purged activity in one month and kind (these add up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrozenTotals {
    /// `YYYY-MM`.
    pub month: String,
    /// Activity kind code (`escape_game`…, or `unclassified` from before version 4).
    pub kind: String,
    /// Sessions.
    pub sessions: u64,
    /// Hours of activity, ms.
    pub hours_ms: u64,
    /// Person-hours, ms.
    pub person_ms: u64,
}

/// Distinct persons of a period and kind, frozen at a purge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrozenPeople {
    /// `YYYY-MM` or `YYYY`.
    pub period: String,
    /// Activity kind code, or `all`.
    pub kind: String,
    /// Distinct persons.
    pub persons: u64,
    /// Whether the period had ended when the count was frozen.
    pub complete: bool,
}

/// What [`Store::settle_session`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    /// The planned session linked to the director session, if any.
    pub planned: Option<i64>,
    /// Entries marked done.
    pub done: Vec<i64>,
    /// Entries marked absent (back on the waiting list).
    pub absent: Vec<i64>,
}

/// Why a roadmap, plan or result operation was refused or failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RoadmapError {
    /// No person has this id.
    #[error("personne inconnue : {0}")]
    UnknownPerson(String),
    /// The person was erased.
    #[error("{0} a été effacée à sa demande")]
    Erased(String),
    /// No roadmap entry has this number.
    #[error("feuille de route : aucune activité prescrite n° {0}")]
    UnknownEntry(i64),
    /// No planned session has this number.
    #[error("planning : aucune séance n° {0}")]
    UnknownPlanned(i64),
    /// A planned session that is opened, held or cancelled already cannot be cancelled.
    #[error(
        "la séance n° {0} du planning ne peut plus être annulée : déjà ouverte, tenue ou annulée"
    )]
    NotCancellable(i64),
    /// No result has this number.
    #[error("aucun résultat n° {0}")]
    UnknownResult(i64),
    /// A date that is not `YYYY-MM-DD`.
    #[error("date invalide : « {0} » (attendu AAAA-MM-JJ)")]
    BadDate(String),
    /// A status only a session (or a result) sets, asked by hand.
    #[error(
        "le statut « {} » est posé par la séance (ou le résultat), pas à la main ; à la main : interrompue ou annulée",
        .0.label_fr()
    )]
    NotByHand(EntryStatus),
    /// A change of status without a reason.
    #[error("ce changement de statut demande une raison")]
    NoReason,
    /// An entry that cannot be invited (not on the waiting list).
    #[error("l'activité prescrite n° {entry} n'est pas en attente ({})", .status.label_fr())]
    NotWaiting {
        /// The entry.
        entry: i64,
        /// Its status.
        status: EntryStatus,
    },
    /// A planned session already linked to a director session.
    #[error("la séance du planning n° {planned} a déjà sa séance du directeur ({session})")]
    AlreadyLinked {
        /// The planned session.
        planned: i64,
        /// Its director session.
        session: SessionId,
    },
    /// The director session does not exist.
    #[error("séance inconnue : {0}")]
    UnknownSession(SessionId),
    /// A register failure.
    #[error(transparent)]
    Register(#[from] register::RegisterError),
    /// SQLite failed.
    #[error("feuille de route : {0}")]
    Sqlite(#[from] rusqlite::Error),
}

const ENTRY_COLUMNS: &str = "id, person, activity, prescribed_by, prescribed_on, status, planned, \
     session, result, changed_at_unix_ms";

fn entry_row(row: &Row<'_>) -> rusqlite::Result<RoadmapEntry> {
    let status: String = row.get(5)?;
    Ok(RoadmapEntry {
        id: row.get(0)?,
        person: row.get(1)?,
        activity: row.get(2)?,
        prescribed_by: row.get(3)?,
        prescribed_on: row.get(4)?,
        status: EntryStatus::from_code(&status).unwrap_or(EntryStatus::Waiting),
        planned: row.get(6)?,
        session: row.get::<_, Option<i64>>(7)?.map(SessionId),
        result: row.get(8)?,
        changed_at_unix_ms: row.get(9)?,
    })
}

fn load_entry(conn: &Connection, id: i64) -> Result<RoadmapEntry, RoadmapError> {
    conn.query_row(
        &format!("SELECT {ENTRY_COLUMNS} FROM roadmap_entries WHERE id = ?1"),
        [id],
        entry_row,
    )
    .optional()?
    .ok_or(RoadmapError::UnknownEntry(id))
}

fn live(conn: &Connection, person: &str) -> Result<String, RoadmapError> {
    let root = register::canonical_of(conn, person)?;
    let Some(p) = register::load_person_of(conn, &root)? else {
        return Err(RoadmapError::UnknownPerson(person.to_owned()));
    };
    if p.erased_at_unix_ms.is_some() {
        return Err(RoadmapError::Erased(person.to_owned()));
    }
    Ok(root)
}

fn date(d: &str) -> Result<String, RoadmapError> {
    register::check_date_of(Some(d))
        .ok()
        .flatten()
        .ok_or_else(|| RoadmapError::BadDate(d.to_owned()))
}

/// Sets an entry's status (and what goes with it) and appends the history line.
fn set_status(
    conn: &Connection,
    entry: i64,
    status: EntryStatus,
    links: (Option<i64>, Option<i64>, Option<i64>),
    now: i64,
    detail: &str,
) -> rusqlite::Result<()> {
    let (planned, session, result) = links;
    conn.execute(
        "UPDATE roadmap_entries SET status = ?1, planned = coalesce(?2, planned),
                session = coalesce(?3, session), result = coalesce(?4, result),
                changed_at_unix_ms = ?5
         WHERE id = ?6",
        params![status.code(), planned, session, result, now, entry],
    )?;
    conn.execute(
        "INSERT INTO roadmap_history (entry, at_unix_ms, status, detail) VALUES (?1, ?2, ?3, ?4)",
        params![entry, now, status.code(), detail],
    )?;
    Ok(())
}

/// Sets planned session `planned` to `state` (held or cancelled) and returns the entries it
/// still invites (status planned), in order: the caller says what becomes of them.
fn end_planned(
    conn: &Connection,
    planned: i64,
    state: PlannedState,
) -> rusqlite::Result<Vec<RoadmapEntry>> {
    conn.execute(
        "UPDATE planned_sessions SET state = ?1 WHERE id = ?2",
        params![state.code(), planned],
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM roadmap_entries WHERE planned = ?1 AND status = 'planned'
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([planned], entry_row)?;
    rows.collect()
}

fn touch(conn: &Connection, person: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE persons SET last_active_unix_ms = max(last_active_unix_ms, ?1) WHERE id = ?2",
        params![now, person],
    )?;
    Ok(())
}

/// Deletes everything the roadmap tables hold about `person` (entries, their history, results
/// and attachments); run inside the erasure's or the purge's transaction.
pub(super) fn delete_person_data(conn: &Connection, person: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM roadmap_history WHERE entry IN
             (SELECT id FROM roadmap_entries WHERE person = ?1)",
        [person],
    )?;
    conn.execute("DELETE FROM roadmap_entries WHERE person = ?1", [person])?;
    conn.execute(
        "DELETE FROM result_attachments WHERE result IN
             (SELECT id FROM external_results WHERE person = ?1)",
        [person],
    )?;
    conn.execute("DELETE FROM external_results WHERE person = ?1", [person])?;
    Ok(())
}

fn planned_row(row: &Row<'_>) -> rusqlite::Result<PlannedSession> {
    let state: String = row.get(7)?;
    Ok(PlannedSession {
        id: row.get(0)?,
        activity: row.get(1)?,
        starts_at_unix_ms: row.get(2)?,
        minutes: row.get(3)?,
        place: row.get(4)?,
        series: row.get(5)?,
        session: row.get::<_, Option<i64>>(6)?.map(SessionId),
        state: PlannedState::from_code(&state),
        invited: Vec::new(),
    })
}

const PLANNED_COLUMNS: &str =
    "id, activity, starts_at_unix_ms, minutes, place, series, session, state";

impl Store {
    /// Prescribes `activity` to `person` (stored under the person it counts as, merges
    /// resolved): a `waiting` entry, on the activity's waiting list. The caller checks the
    /// activity against the catalogue. Returns the entry's number.
    ///
    /// # Errors
    /// [`RoadmapError::UnknownPerson`], [`RoadmapError::Erased`], [`RoadmapError::BadDate`],
    /// [`RoadmapError::Sqlite`].
    pub fn prescribe(
        &mut self,
        person: &str,
        activity: &str,
        prescribed_by: &str,
        prescribed_on: &str,
        now_unix_ms: i64,
    ) -> Result<i64, RoadmapError> {
        let on = date(prescribed_on)?;
        let tx = self.conn.transaction()?;
        let root = live(&tx, person)?;
        let id: i64 = tx.query_row(
            "INSERT INTO roadmap_entries (person, activity, prescribed_by, prescribed_on, status,
                                          changed_at_unix_ms)
             VALUES (?1, ?2, ?3, ?4, 'waiting', ?5) RETURNING id",
            params![root, activity, prescribed_by.trim(), on, now_unix_ms],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO roadmap_history (entry, at_unix_ms, status, detail) VALUES (?1, ?2, 'waiting', ?3)",
            params![
                id,
                now_unix_ms,
                format!("prescrite par {} le {on}", prescribed_by.trim())
            ],
        )?;
        touch(&tx, &root, now_unix_ms)?;
        tx.commit()?;
        Ok(id)
    }

    /// One entry.
    ///
    /// # Errors
    /// [`RoadmapError::UnknownEntry`], [`RoadmapError::Sqlite`].
    pub fn roadmap_entry(&self, id: i64) -> Result<RoadmapEntry, RoadmapError> {
        load_entry(&self.conn, id)
    }

    /// A person's roadmap (the persons merged with them included), by prescription date.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn roadmap(&self, person: &str) -> Result<Vec<RoadmapEntry>, RoadmapError> {
        let root = register::canonical_of(&self.conn, person)?;
        let group = register::merge_group_of(&self.conn, &root)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM roadmap_entries WHERE person = ?1"
        ))?;
        let mut out = Vec::new();
        for p in &group {
            for e in stmt.query_map([p], entry_row)? {
                out.push(e?);
            }
        }
        out.sort_by(|a, b| (&a.prescribed_on, a.id).cmp(&(&b.prescribed_on, b.id)));
        Ok(out)
    }

    /// An entry's status changes, oldest first.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn roadmap_history(&self, entry: i64) -> Result<Vec<HistoryLine>, RoadmapError> {
        let mut stmt = self.conn.prepare(
            "SELECT at_unix_ms, status, detail FROM roadmap_history WHERE entry = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([entry], |r| {
            let s: String = r.get(1)?;
            Ok(HistoryLine {
                at_unix_ms: r.get(0)?,
                status: EntryStatus::from_code(&s).unwrap_or(EntryStatus::Waiting),
                detail: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks an entry interrupted or cancelled, with a reason: the only statuses set by hand
    /// (done and absent come from sessions, planned from the plan).
    ///
    /// # Errors
    /// [`RoadmapError::NotByHand`], [`RoadmapError::NoReason`], [`RoadmapError::UnknownEntry`],
    /// [`RoadmapError::Sqlite`].
    pub fn set_entry_status(
        &mut self,
        entry: i64,
        status: EntryStatus,
        reason: &str,
        now_unix_ms: i64,
    ) -> Result<(), RoadmapError> {
        if !matches!(status, EntryStatus::Interrupted | EntryStatus::Cancelled) {
            return Err(RoadmapError::NotByHand(status));
        }
        if reason.trim().is_empty() {
            return Err(RoadmapError::NoReason);
        }
        let tx = self.conn.transaction()?;
        let e = load_entry(&tx, entry)?;
        set_status(
            &tx,
            entry,
            status,
            (None, None, None),
            now_unix_ms,
            reason.trim(),
        )?;
        touch(&tx, &e.person, now_unix_ms)?;
        tx.commit()?;
        Ok(())
    }

    /// Cancels planned session `planned`, with a reason: it is no longer to come, and the
    /// people it invited go back on the waiting list (each entry's history says why); one
    /// transaction. Returns how many went back.
    ///
    /// # Errors
    /// [`RoadmapError::NoReason`], [`RoadmapError::UnknownPlanned`],
    /// [`RoadmapError::NotCancellable`] (opened, held or cancelled already),
    /// [`RoadmapError::Sqlite`]; nothing is written then.
    pub fn cancel_planned(
        &mut self,
        planned: i64,
        reason: &str,
        now_unix_ms: i64,
    ) -> Result<usize, RoadmapError> {
        if reason.trim().is_empty() {
            return Err(RoadmapError::NoReason);
        }
        let tx = self.conn.transaction()?;
        let found: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT state, session FROM planned_sessions WHERE id = ?1",
                [planned],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((state, session)) = found else {
            return Err(RoadmapError::UnknownPlanned(planned));
        };
        if state != PlannedState::Planned.code() || session.is_some() {
            return Err(RoadmapError::NotCancellable(planned));
        }
        let invited = end_planned(&tx, planned, PlannedState::Cancelled)?;
        for e in &invited {
            set_status(
                &tx,
                e.id,
                EntryStatus::Waiting,
                (None, None, None),
                now_unix_ms,
                &format!(
                    "séance n° {planned} du planning annulée ({}) : de nouveau en attente",
                    reason.trim()
                ),
            )?;
        }
        tx.commit()?;
        Ok(invited.len())
    }

    /// The waiting list of `activity`: entries waiting or absent, oldest prescription first
    /// (an absent person keeps their place), of persons neither archived nor erased.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn waiting_list(&self, activity: &str) -> Result<Vec<RoadmapEntry>, RoadmapError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM roadmap_entries e JOIN persons p ON p.id = e.person
             WHERE e.activity = ?1 AND e.status IN ('waiting', 'absent')
               AND p.archived = 0 AND p.erased_at_unix_ms IS NULL
             ORDER BY e.prescribed_on, e.id",
            ENTRY_COLUMNS
                .split(", ")
                .map(|c| format!("e.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let rows = stmt.query_map([activity], entry_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds planned sessions (each inviting its entries, taken off the waiting list: status
    /// planned) and, when `series` is given, the series they belong to; **one transaction**.
    /// Returns the planned sessions' numbers, in order.
    ///
    /// # Errors
    /// [`RoadmapError::UnknownEntry`], [`RoadmapError::NotWaiting`] for an entry not on the
    /// waiting list (or invited twice), [`RoadmapError::Sqlite`]. Nothing is written on error.
    pub fn add_plan(
        &mut self,
        series: Option<&NewSeries>,
        sessions: &[NewPlanned],
        now_unix_ms: i64,
    ) -> Result<Vec<i64>, RoadmapError> {
        let tx = self.conn.transaction()?;
        let series_id: Option<i64> = match series {
            Some(s) => Some(tx.query_row(
                "INSERT INTO session_series (activity, rrule, first_local, minutes, place,
                                             created_at_unix_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![
                    s.activity,
                    s.rrule,
                    s.first_local,
                    s.minutes,
                    s.place,
                    now_unix_ms
                ],
                |r| r.get(0),
            )?),
            None => None,
        };
        let mut ids = Vec::with_capacity(sessions.len());
        for p in sessions {
            let id: i64 = tx.query_row(
                "INSERT INTO planned_sessions (activity, starts_at_unix_ms, minutes, place, series,
                                               created_at_unix_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![
                    p.activity,
                    p.starts_at_unix_ms,
                    p.minutes,
                    p.place,
                    series_id,
                    now_unix_ms
                ],
                |r| r.get(0),
            )?;
            for &entry in &p.invite {
                let e = load_entry(&tx, entry)?;
                if !e.status.is_waiting() {
                    return Err(RoadmapError::NotWaiting {
                        entry,
                        status: e.status,
                    });
                }
                set_status(
                    &tx,
                    entry,
                    EntryStatus::Planned,
                    (Some(id), None, None),
                    now_unix_ms,
                    &format!("invitée à la séance n° {id} du planning"),
                )?;
            }
            ids.push(id);
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The planned sessions starting at or after `from_unix_ms`, by start, with who is invited.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn planned_sessions(&self, from_unix_ms: i64) -> Result<Vec<PlannedSession>, RoadmapError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PLANNED_COLUMNS} FROM planned_sessions WHERE starts_at_unix_ms >= ?1
             ORDER BY starts_at_unix_ms, id"
        ))?;
        let mut out: Vec<PlannedSession> = stmt
            .query_map([from_unix_ms], planned_row)?
            .collect::<Result<_, _>>()?;
        for p in &mut out {
            p.invited = self.invited(p.id)?;
        }
        Ok(out)
    }

    /// One planned session, with who is invited.
    ///
    /// # Errors
    /// [`RoadmapError::UnknownPlanned`], [`RoadmapError::Sqlite`].
    pub fn planned_session(&self, id: i64) -> Result<PlannedSession, RoadmapError> {
        let mut p = self
            .conn
            .query_row(
                &format!("SELECT {PLANNED_COLUMNS} FROM planned_sessions WHERE id = ?1"),
                [id],
                planned_row,
            )
            .optional()?
            .ok_or(RoadmapError::UnknownPlanned(id))?;
        p.invited = self.invited(id)?;
        Ok(p)
    }

    fn invited(&self, planned: i64) -> Result<Vec<RoadmapEntry>, RoadmapError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM roadmap_entries WHERE planned = ?1
               AND status IN ('planned', 'done', 'absent', 'interrupted') ORDER BY id"
        ))?;
        let rows = stmt.query_map([planned], entry_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A recurring series.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`]; `None` when there is no such series.
    pub fn series(&self, id: i64) -> Result<Option<SeriesInfo>, RoadmapError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, activity, rrule, first_local, minutes, place FROM session_series
                 WHERE id = ?1",
                [id],
                |r| {
                    Ok(SeriesInfo {
                        id: r.get(0)?,
                        activity: r.get(1)?,
                        rrule: r.get(2)?,
                        first_local: r.get(3)?,
                        minutes: r.get(4)?,
                        place: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// The catalogue activity of the planned session director session `session` was created
    /// from, if it was.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn planned_activity_of(&self, session: SessionId) -> Result<Option<String>, RoadmapError> {
        Ok(self
            .conn
            .query_row(
                "SELECT activity FROM planned_sessions WHERE session = ?1",
                [session.0],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records that director session `session` was created from planned session `planned`.
    ///
    /// # Errors
    /// [`RoadmapError::UnknownPlanned`], [`RoadmapError::UnknownSession`],
    /// [`RoadmapError::AlreadyLinked`], [`RoadmapError::Sqlite`].
    pub fn link_planned(&mut self, planned: i64, session: SessionId) -> Result<(), RoadmapError> {
        let tx = self.conn.transaction()?;
        if !super::session_exists(&tx, session)? {
            return Err(RoadmapError::UnknownSession(session));
        }
        let linked: Option<Option<i64>> = tx
            .query_row(
                "SELECT session FROM planned_sessions WHERE id = ?1",
                [planned],
                |r| r.get(0),
            )
            .optional()?;
        match linked {
            None => return Err(RoadmapError::UnknownPlanned(planned)),
            Some(Some(s)) => {
                return Err(RoadmapError::AlreadyLinked {
                    planned,
                    session: SessionId(s),
                });
            }
            Some(None) => {}
        }
        tx.execute(
            "UPDATE planned_sessions SET session = ?1 WHERE id = ?2",
            params![session.0, planned],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Settles the roadmaps after director session `session` closed, from the persons who hold
    /// its slots (`holders`, merges resolved): its planned session becomes held; each invited
    /// entry whose person took part is done (linked to the session), each invited entry whose
    /// person did not is absent (back on the waiting list); a participant who was not invited
    /// but waited for the same activity has that entry done too. One transaction, and
    /// idempotent: entries already settled are left as they are, so running it again (after a
    /// crash, on every open) changes nothing. A session not created from the plan settles
    /// nothing.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn settle_session(
        &mut self,
        session: SessionId,
        holders: &BTreeSet<String>,
        now_unix_ms: i64,
    ) -> Result<Settled, RoadmapError> {
        let tx = self.conn.transaction()?;
        let planned: Option<(i64, String, String)> = tx
            .query_row(
                "SELECT id, activity, state FROM planned_sessions WHERE session = ?1",
                [session.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((planned, activity, state)) = planned else {
            return Ok(Settled::default());
        };
        let mut out = Settled {
            planned: Some(planned),
            ..Settled::default()
        };
        if state != PlannedState::Planned.code() {
            return Ok(out);
        }
        let invited = end_planned(&tx, planned, PlannedState::Held)?;
        let mut seen = BTreeSet::new();
        for e in invited {
            let person = register::canonical_of(&tx, &e.person)?;
            if holders.contains(&person) {
                set_status(
                    &tx,
                    e.id,
                    EntryStatus::Done,
                    (None, Some(session.0), None),
                    now_unix_ms,
                    &format!("réalisée : séance {session}"),
                )?;
                out.done.push(e.id);
                seen.insert(person);
            } else {
                set_status(
                    &tx,
                    e.id,
                    EntryStatus::Absent,
                    (None, None, None),
                    now_unix_ms,
                    &format!("absente à la séance {session} : de nouveau en attente"),
                )?;
                out.absent.push(e.id);
            }
        }
        for person in holders.iter().filter(|p| !seen.contains(*p)) {
            let group = register::merge_group_of(&tx, person)?;
            let mut waiting: Option<i64> = None;
            for p in &group {
                let found: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM roadmap_entries WHERE person = ?1 AND activity = ?2
                           AND status IN ('waiting', 'absent')
                         ORDER BY prescribed_on, id LIMIT 1",
                        params![p, activity],
                        |r| r.get(0),
                    )
                    .optional()?;
                waiting = waiting.or(found);
            }
            if let Some(entry) = waiting {
                set_status(
                    &tx,
                    entry,
                    EntryStatus::Done,
                    (Some(planned), Some(session.0), None),
                    now_unix_ms,
                    &format!("réalisée : séance {session} (sans invitation)"),
                )?;
                out.done.push(entry);
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Records a result from another tool and, when the person waits for (or is invited to)
    /// that activity, marks the oldest such entry done with it; **one transaction** (the
    /// attachment included). The caller checks the fields against the catalogue and the
    /// attachment's type and size. Returns the result's number.
    ///
    /// # Errors
    /// [`RoadmapError::UnknownPerson`], [`RoadmapError::Erased`], [`RoadmapError::BadDate`],
    /// [`RoadmapError::Sqlite`].
    pub fn record_result(
        &mut self,
        new: &NewResult,
        now_unix_ms: i64,
    ) -> Result<i64, RoadmapError> {
        let on = date(&new.taken_on)?;
        let fields = serde_json::to_string(&new.fields)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let tx = self.conn.transaction()?;
        let root = live(&tx, &new.person)?;
        let id: i64 = tx.query_row(
            "INSERT INTO external_results (person, activity, tool, taken_on, administered_by,
                                           fields, recorded_at_unix_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![
                root,
                new.activity,
                new.tool,
                on,
                new.administered_by.trim(),
                fields,
                now_unix_ms
            ],
            |r| r.get(0),
        )?;
        if let Some((name, sha, bytes)) = &new.attachment {
            tx.execute(
                "INSERT INTO result_attachments (result, file_name, sha256, bytes)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, name, sha, bytes],
            )?;
        }
        let group = register::merge_group_of(&tx, &root)?;
        let mut open: Option<i64> = None;
        for p in &group {
            let found: Option<i64> = tx
                .query_row(
                    "SELECT id FROM roadmap_entries WHERE person = ?1 AND activity = ?2
                       AND status IN ('waiting', 'planned', 'absent')
                     ORDER BY prescribed_on, id LIMIT 1",
                    params![p, new.activity],
                    |r| r.get(0),
                )
                .optional()?;
            open = open.or(found);
        }
        if let Some(entry) = open {
            set_status(
                &tx,
                entry,
                EntryStatus::Done,
                (None, None, Some(id)),
                now_unix_ms,
                &format!("réalisée : résultat n° {id} du {on}"),
            )?;
        }
        touch(&tx, &root, now_unix_ms)?;
        tx.commit()?;
        Ok(id)
    }

    /// A person's results from other tools (merges included), by date.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn results(&self, person: &str) -> Result<Vec<ExternalResult>, RoadmapError> {
        let root = register::canonical_of(&self.conn, person)?;
        let group = register::merge_group_of(&self.conn, &root)?;
        let mut out = Vec::new();
        for p in &group {
            out.extend(self.results_where("r.person = ?1", p)?);
        }
        out.sort_by(|a, b| (&a.taken_on, a.id).cmp(&(&b.taken_on, b.id)));
        Ok(out)
    }

    /// Every result held (for the figures), by date.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn all_results(&self) -> Result<Vec<ExternalResult>, RoadmapError> {
        self.results_where("?1 = ?1", "")
    }

    /// One result.
    ///
    /// # Errors
    /// [`RoadmapError::UnknownResult`], [`RoadmapError::Sqlite`].
    pub fn result(&self, id: i64) -> Result<ExternalResult, RoadmapError> {
        self.results_where("r.id = ?1", &id.to_string())?
            .pop()
            .ok_or(RoadmapError::UnknownResult(id))
    }

    fn results_where(&self, clause: &str, arg: &str) -> Result<Vec<ExternalResult>, RoadmapError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.id, r.person, r.activity, r.tool, r.taken_on, r.administered_by, r.fields,
                    r.recorded_at_unix_ms, a.file_name, length(a.bytes)
             FROM external_results r LEFT JOIN result_attachments a ON a.result = r.id
             WHERE {clause} ORDER BY r.taken_on, r.id"
        ))?;
        let rows = stmt.query_map([arg], |r| {
            let fields: String = r.get(6)?;
            let name: Option<String> = r.get(8)?;
            let len: Option<i64> = r.get(9)?;
            Ok(ExternalResult {
                id: r.get(0)?,
                person: r.get(1)?,
                activity: r.get(2)?,
                tool: r.get(3)?,
                taken_on: r.get(4)?,
                administered_by: r.get(5)?,
                fields: serde_json::from_str(&fields).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        6,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?,
                attachment: name.map(|n| (n, u64::try_from(len.unwrap_or(0)).unwrap_or(0))),
                recorded_at_unix_ms: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A result's attached PDF: file name, SHA-256 (hex) and bytes; `None` when none is
    /// attached.
    ///
    /// # Errors
    /// [`RoadmapError::UnknownResult`], [`RoadmapError::Sqlite`].
    pub fn result_attachment(
        &self,
        result: i64,
    ) -> Result<Option<(String, String, Vec<u8>)>, RoadmapError> {
        self.result(result)?;
        Ok(self
            .conn
            .query_row(
                "SELECT file_name, sha256, bytes FROM result_attachments WHERE result = ?1",
                [result],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// Deletes the results dated before `before` (`YYYY-MM-DD`) with their attachments (the
    /// retention period applies to them as to sessions); returns how many went. Run inside the
    /// purge, after their figures were frozen.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn purge_results(&mut self, before: &str) -> Result<usize, RoadmapError> {
        let tx = self.conn.transaction()?;
        let n = purge_results_in(&tx, before)?;
        tx.commit()?;
        self.checkpoint()?;
        Ok(n)
    }

    /// Adds purged activity to the figures and freezes distinct counts, in **one transaction**:
    /// `totals` are added to `figures_totals`; each `(period, kind, persons, complete)` of
    /// `people` is stored only if that period and kind has no frozen count yet (the first purge
    /// that touches a period freezes it, over everything the store then held for it).
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn freeze_figures(
        &mut self,
        totals: &[FrozenTotals],
        people: &[FrozenPeople],
        now_unix_ms: i64,
    ) -> Result<(), RoadmapError> {
        let tx = self.conn.transaction()?;
        freeze_in(&tx, totals, people, now_unix_ms)?;
        tx.commit()?;
        Ok(())
    }

    /// The frozen figures: totals per month and kind, and distinct persons per period and kind.
    ///
    /// # Errors
    /// [`RoadmapError::Sqlite`].
    pub fn frozen_figures(&self) -> Result<(Vec<FrozenTotals>, Vec<FrozenPeople>), RoadmapError> {
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        let mut stmt = self.conn.prepare(
            "SELECT month, kind, sessions, hours_ms, person_ms FROM figures_totals
             ORDER BY month, kind",
        )?;
        let totals = stmt
            .query_map([], |r| {
                Ok(FrozenTotals {
                    month: r.get(0)?,
                    kind: r.get(1)?,
                    sessions: u(r.get(2)?),
                    hours_ms: u(r.get(3)?),
                    person_ms: u(r.get(4)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = self.conn.prepare(
            "SELECT period, kind, persons, complete FROM figures_people ORDER BY period, kind",
        )?;
        let people = stmt
            .query_map([], |r| {
                Ok(FrozenPeople {
                    period: r.get(0)?,
                    kind: r.get(1)?,
                    persons: u(r.get(2)?),
                    complete: r.get::<_, i64>(3)? != 0,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok((totals, people))
    }
}

/// [`Store::purge_results`] inside the caller's transaction.
pub(super) fn purge_results_in(conn: &Connection, before: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE roadmap_entries SET result = NULL WHERE result IN
             (SELECT id FROM external_results WHERE taken_on < ?1)",
        [before],
    )?;
    conn.execute(
        "DELETE FROM result_attachments WHERE result IN
             (SELECT id FROM external_results WHERE taken_on < ?1)",
        [before],
    )?;
    conn.execute("DELETE FROM external_results WHERE taken_on < ?1", [before])
}

/// [`Store::freeze_figures`] inside the caller's transaction.
pub(super) fn freeze_in(
    conn: &Connection,
    totals: &[FrozenTotals],
    people: &[FrozenPeople],
    now_unix_ms: i64,
) -> rusqlite::Result<()> {
    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    for t in totals {
        conn.execute(
            "INSERT INTO figures_totals (month, kind, sessions, hours_ms, person_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (month, kind) DO UPDATE SET
               sessions = sessions + excluded.sessions,
               hours_ms = hours_ms + excluded.hours_ms,
               person_ms = person_ms + excluded.person_ms",
            params![
                t.month,
                t.kind,
                int(t.sessions),
                int(t.hours_ms),
                int(t.person_ms)
            ],
        )?;
    }
    for p in people {
        conn.execute(
            "INSERT INTO figures_people (period, kind, persons, complete, frozen_at_unix_ms)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (period, kind) DO NOTHING",
            params![p.period, p.kind, int(p.persons), p.complete, now_unix_ms],
        )?;
    }
    Ok(())
}
