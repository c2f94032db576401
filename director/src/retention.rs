//! Retention: which sessions are older than the retention period, the anonymous activity
//! figures they leave behind (FSE+ asks for participants, sessions and hours), and the French
//! accounts of a purge and of the figures.
//!
//! The default period is 12 months (the programme's rule, written in
//! `docs/privacy/notice_participants.md` and `docs/privacy/aipd.md`). Months are calendar
//! months in UTC: a session created on 15 March 2024 at 10:00 UTC is older than 12 months from
//! 15 March 2025 at 10:00 UTC on.

use crate::engine::{Engine, Millis, ParticipantId, PersonId};
use crate::session::replay;
use crate::store::{ActivityFigures, PurgedSession, ReadError, SessionId, SessionInfo, Store};
use boussole_content::ContentSet;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The default retention period, months.
pub const DEFAULT_RETENTION_MONTHS: u32 = 12;

/// Why a retention operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// The period is zero or too long for the calendar.
    #[error("retention period of {months} months refused (from 1 to 1200)")]
    Period {
        /// The period asked for.
        months: u32,
    },
    /// The current time is out of the calendar's range.
    #[error("the clock gives an impossible date ({0} ms since 1970)")]
    Clock(i64),
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] ReadError),
    /// Reading the person register failed.
    #[error("register: {0}")]
    Register(String),
}

/// `unix_ms` minus `months` calendar months, in UTC (the day is clamped to the month's last:
/// 31 March minus one month is 29 February in a leap year).
///
/// # Errors
///
/// [`RetentionError::Period`] for 0 or more than 1200 months, [`RetentionError::Clock`] for a
/// time out of the calendar's range.
pub fn cutoff_unix_ms(now_unix_ms: i64, months: u32) -> Result<i64, RetentionError> {
    if months == 0 || months > 1200 {
        return Err(RetentionError::Period { months });
    }
    let clock = || RetentionError::Clock(now_unix_ms);
    let now = time::OffsetDateTime::from_unix_timestamp(now_unix_ms.div_euclid(1000))
        .map_err(|_| clock())?;
    let index = now.year() * 12 + i32::from(u8::from(now.month())) - 1 - months as i32;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let month = time::Month::try_from(u8::try_from(month0 + 1).map_err(|_| clock())?)
        .map_err(|_| clock())?;
    // The same day, or the month's last when it is shorter.
    let date = (1..=now.day())
        .rev()
        .find_map(|d| time::Date::from_calendar_date(year, month, d).ok())
        .ok_or_else(clock)?;
    let then = now.replace_date(date);
    Ok(then.unix_timestamp() * 1000 + now_unix_ms.rem_euclid(1000))
}

/// `YYYY-MM` of a Unix time in ms (UTC); `"0000-00"` when out of range.
pub fn month_of(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)).map_or_else(
        |_| "0000-00".into(),
        |t| format!("{:04}-{:02}", t.year(), u8::from(t.month())),
    )
}

/// What one session counts for in the figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Its participants' ids.
    pub participants: BTreeSet<String>,
    /// Time played, ms: from the start of the game to its ending (or the close, or the last
    /// input); for immersions only, from the first start to the last stop.
    pub play_ms: u64,
    /// Time played summed over participants, ms: the game's time for each participant, or each
    /// participant's own immersion runs.
    pub participant_ms: u64,
}

/// The activity of a session, from its engine and who holds each of its slots
/// ([`crate::register::slot_holders`]): participants are counted as persons, so one person in
/// two sessions counts once and two people with the same slot label in two sessions count
/// twice. A slot without a person counts as its own person, keyed `session/slot` (a label no
/// person id can take).
pub fn activity(
    session: SessionId,
    engine: &Engine,
    holders: &BTreeMap<ParticipantId, PersonId>,
) -> Activity {
    let participants: BTreeSet<String> = engine
        .participants()
        .keys()
        .map(|slot| {
            holders
                .get(slot)
                .map_or_else(|| format!("{session}/{slot}"), |p| p.0.clone())
        })
        .collect();
    let times = engine.times();
    let last = times.closed.unwrap_or_else(|| engine.now());
    if let Some(start) = times.started {
        let end = times.ended.or(times.closed).unwrap_or(last);
        let play_ms = end.0.saturating_sub(start.0);
        let n = participants.len() as u64;
        return Activity {
            participants,
            play_ms,
            participant_ms: play_ms.saturating_mul(n),
        };
    }
    let mut first: Option<Millis> = None;
    let mut end = Millis(0);
    let mut participant_ms = 0u64;
    for run in engine.immersion_runs() {
        if let Some(started) = run.started {
            let stopped = run.stopped.unwrap_or(last).max(started);
            first = Some(first.map_or(started, |f| f.min(started)));
            end = end.max(stopped);
            participant_ms = participant_ms.saturating_add(stopped.0 - started.0);
        }
    }
    Activity {
        participants,
        play_ms: first.map_or(0, |f| end.0.saturating_sub(f.0)),
        participant_ms,
    }
}

/// A session a purge removes, with what the facilitator is told about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurgeItem {
    /// The session's row.
    pub info: SessionInfo,
    /// What goes to the figures.
    pub purged: PurgedSession,
    /// Log records it holds.
    pub records: usize,
    /// Names it holds in the protected table.
    pub names: usize,
    /// Why its activity could not be measured from its log (then its participants come from
    /// the store and its time counts as zero).
    pub unmeasured: Option<String>,
}

/// The sessions created before `cutoff_unix_ms`, oldest first, each with its activity.
///
/// # Errors
///
/// [`RetentionError::Store`] when the store cannot be read; a session whose log cannot be
/// replayed (unknown scenario, undecodable record) is still listed, flagged `unmeasured`.
pub fn plan_purge(
    store: &Store,
    content: &ContentSet,
    cutoff_unix_ms: i64,
) -> Result<Vec<PurgeItem>, RetentionError> {
    let mut items = Vec::new();
    for info in store.sessions()? {
        if info.created_at_unix_ms >= cutoff_unix_ms {
            continue;
        }
        let (act, unmeasured) = match replay(store, content, info.id) {
            Ok((_, engine)) => {
                let holders = crate::register::slot_holders(store, info.id, &engine)
                    .map_err(|e| RetentionError::Register(e.to_string()))?;
                (activity(info.id, &engine, &holders), None)
            }
            Err(e) => (
                Activity {
                    participants: {
                        let recorded = store
                            .slot_persons(info.id)
                            .map_err(|e| RetentionError::Register(e.to_string()))?;
                        let mut people = BTreeSet::new();
                        for p in store.participants(info.id)? {
                            people.insert(match recorded.get(&p.id) {
                                Some(person) => store
                                    .canonical_person(person)
                                    .map_err(|e| RetentionError::Register(e.to_string()))?,
                                None => format!("{}/{}", info.id, p.id),
                            });
                        }
                        people
                    },
                    ..Activity::default()
                },
                Some(e.to_string()),
            ),
        };
        let mut names = 0;
        for p in store.participants(info.id)? {
            if store.participant_name(info.id, &p.id)?.is_some() {
                names += 1;
            }
        }
        items.push(PurgeItem {
            records: store.log(info.id)?.len(),
            names,
            unmeasured,
            purged: PurgedSession {
                id: info.id,
                month: month_of(info.created_at_unix_ms),
                scenario: info.scenario.clone(),
                participants: act.participants,
                play_ms: act.play_ms,
                participant_ms: act.participant_ms,
            },
            info,
        });
    }
    items.sort_by_key(|i| (i.info.created_at_unix_ms, i.info.id));
    Ok(items)
}

/// Hours with one decimal, French style ("1,5 h").
fn hours(ms: u64) -> String {
    let tenths = (ms + 180_000) / 360_000;
    format!("{},{} h", tenths / 10, tenths % 10)
}

/// The French account of a purge (or, with `dry_run`, of what it would remove).
pub fn purge_fr(items: &[PurgeItem], months: u32, cutoff_unix_ms: i64, dry_run: bool) -> String {
    let mut o = String::new();
    let verb = if dry_run {
        "seraient supprimées"
    } else {
        "supprimées"
    };
    if items.is_empty() {
        let _ = writeln!(
            o,
            "Aucune séance de plus de {months} mois (créée avant le {}) : rien à supprimer.",
            crate::record::date_fr(cutoff_unix_ms)
        );
        return o;
    }
    let _ = writeln!(
        o,
        "Séances de plus de {months} mois (créées avant le {}) {verb} :",
        crate::record::date_fr(cutoff_unix_ms)
    );
    for i in items {
        let _ = writeln!(
            o,
            "- séance {} ({}, {}) : {} participant·es, {} nom(s), {} entrées du journal{}",
            i.info.id,
            i.info.scenario,
            crate::record::date_fr(i.info.created_at_unix_ms),
            i.purged.participants.len(),
            i.names,
            i.records,
            i.unmeasured
                .as_ref()
                .map_or_else(String::new, |why| format!(" (durée non mesurée : {why})"))
        );
    }
    let _ = writeln!(
        o,
        "Conservés pour les bilans FSE+ (sans aucune donnée personnelle) : {} séance(s), {} de jeu, {} participant·es-heures.",
        items.len(),
        hours(items.iter().map(|i| i.purged.play_ms).sum()),
        hours(items.iter().map(|i| i.purged.participant_ms).sum())
    );
    if dry_run {
        let _ = writeln!(o, "Simulation : rien n'a été supprimé.");
    }
    o
}

/// The figures of the sessions still in the store, per month and scenario (participants
/// distinct within each), plus the sessions that could not be measured.
///
/// # Errors
///
/// [`RetentionError::Store`].
pub fn live_figures(
    store: &Store,
    content: &ContentSet,
) -> Result<(Vec<ActivityFigures>, usize), RetentionError> {
    let items = plan_purge(store, content, i64::MAX)?;
    let unmeasured = items.iter().filter(|i| i.unmeasured.is_some()).count();
    // (month, scenario) → (sessions, participants, play_ms, participant_ms)
    type Sums = (u64, BTreeSet<String>, u64, u64);
    let mut by: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for i in items {
        let e = by
            .entry((i.purged.month.clone(), i.purged.scenario.clone()))
            .or_default();
        e.0 += 1;
        e.1.extend(i.purged.participants);
        e.2 = e.2.saturating_add(i.purged.play_ms);
        e.3 = e.3.saturating_add(i.purged.participant_ms);
    }
    let figures = by
        .into_iter()
        .map(
            |((month, scenario), (sessions, people, play_ms, participant_ms))| ActivityFigures {
                month,
                scenario,
                sessions,
                participants: people.len() as u64,
                play_ms,
                participant_ms,
            },
        )
        .collect();
    Ok((figures, unmeasured))
}

/// The French table of the figures: the archived ones (purged sessions) and those of the
/// sessions still held, per month and scenario, with totals.
pub fn figures_fr(archived: &[ActivityFigures], live: &[ActivityFigures]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Chiffres d'activité (FSE+), sans donnée personnelle ; participant·es distinct·es par mois et scénario."
    );
    let _ = writeln!(
        o,
        "mois\tscénario\tséances\tparticipant·es\theures de jeu\tparticipant·es-heures\tsource"
    );
    let mut total = (0u64, 0u64, 0u64, 0u64);
    for (rows, source) in [
        (archived, "archivé (séances purgées)"),
        (live, "séances conservées"),
    ] {
        for f in rows {
            let _ = writeln!(
                o,
                "{}\t{}\t{}\t{}\t{}\t{}\t{source}",
                f.month,
                f.scenario,
                f.sessions,
                f.participants,
                hours(f.play_ms),
                hours(f.participant_ms)
            );
            total.0 += f.sessions;
            total.1 += f.participants;
            total.2 = total.2.saturating_add(f.play_ms);
            total.3 = total.3.saturating_add(f.participant_ms);
        }
    }
    let _ = writeln!(
        o,
        "total\t\t{}\t{}\t{}\t{}",
        total.0,
        total.1,
        hours(total.2),
        hours(total.3)
    );
    o
}

/// What a purge removed ([`purge`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurgeDone {
    /// The sessions removed.
    pub sessions: Vec<SessionId>,
    /// Their log records.
    pub log_records: u64,
    /// Their names in the protected table.
    pub names: u64,
    /// Results from other tools taken before the period, removed with their PDFs.
    pub results: usize,
    /// Register persons with no session left and inactive over the period, removed with
    /// their history.
    pub persons: usize,
}

/// Removes the sessions of `items` ([`plan_purge`] at `cutoff_unix_ms`), the results from
/// other tools taken before the cutoff, then the register persons inactive since before it who
/// hold no slot left. The funders' figures of what goes are frozen first, in the same
/// transaction as the sessions' removal ([`crate::figures::freeze_for_purge`]). Each step is
/// logged in the access log under `actor`. The CLI's `db purge` and the console's
/// administration screen both call this.
///
/// # Errors
/// A French message: the figures or the store failed (what was committed before stays, and
/// is logged).
pub fn purge(
    store: &mut Store,
    content: &ContentSet,
    items: &[PurgeItem],
    months: u32,
    cutoff_unix_ms: i64,
    actor: &str,
    now_unix_ms: i64,
) -> Result<PurgeDone, String> {
    use crate::store::{AccessAction, AccessEntry};
    // Results from other tools follow the same period (their date taken).
    let results_before = crate::plan::local_date(cutoff_unix_ms);
    let purged: Vec<_> = items.iter().map(|i| i.purged.clone()).collect();
    let facts = crate::figures::facts(store, content).map_err(|e| e.to_string())?;
    let going: Vec<_> = purged.iter().map(|p| p.id).collect();
    let (totals, people) = crate::figures::freeze_for_purge(
        &facts,
        &|f| match f.session {
            Some(s) => going.contains(&s),
            None => f.date < results_before,
        },
        &month_of(now_unix_ms),
    );
    let (counts, results) = store
        .purge_with_figures(&purged, (&totals, &people), &results_before, now_unix_ms)
        .map_err(|e| format!("purge des séances : {e}"))?;
    let entry = |detail: String| AccessEntry {
        at_unix_ms: now_unix_ms,
        actor: actor.to_owned(),
        action: AccessAction::SessionsPurged,
        session: None,
        participant: None,
        detail,
    };
    if !items.is_empty() || results > 0 {
        store
            .log_access(&entry(format!(
                "plus de {months} mois : séances {} ; {} entrées du journal, {} nom(s), {results} résultat(s) d'autres outils",
                going
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                counts.log_records,
                counts.names
            )))
            .map_err(|e| format!("journal des accès : {e}"))?;
    }
    // Persons with no session left and inactive for the whole period go too.
    let gone = store
        .purge_inactive_persons(cutoff_unix_ms)
        .map_err(|e| format!("purge du registre : {e}"))?;
    if !gone.is_empty() {
        store
            .log_access(&entry(format!(
                "registre : {} personne(s) inactive(s) supprimée(s)",
                gone.len()
            )))
            .map_err(|e| format!("journal des accès : {e}"))?;
    }
    Ok(PurgeDone {
        sessions: going,
        log_records: counts.log_records,
        names: counts.names,
        results,
        persons: gone.len(),
    })
}
