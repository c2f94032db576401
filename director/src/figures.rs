//! Figures for funders (FSE+, DOMAIN.md "Funders' figures"): distinct persons, sessions and
//! hours per month and per year, by activity kind (immersion sessions their own kind) and in
//! all, anonymous and aggregated. Distinct counts do not add up across months or kinds, so the
//! purge freezes them per period, over everything the store held for it then
//! ([`freeze_for_purge`]); sessions and hours add up and are summed. A cell of fewer than 3
//! persons is shown as "< 3" so that nobody is recognisable ([`MIN_SHOWN`]).
//!
//! What counts: each director session still held (its kind from the planned session it was
//! created from, else "escape game" when the game started and "immersion session" when only
//! headsets ran; hours from the start of the game to its end, or the immersion runs), and each
//! result recorded from another tool (one session of its activity's kind, of the catalogue's
//! usual length). Persons are the register's persons (merges resolved), never slot labels.

use crate::retention::{Activity, activity, month_of};
use crate::session::replay;
use crate::store::{FrozenPeople, FrozenTotals, RoadmapError, SessionId, Store};
use boussole_content::ContentSet;
use boussole_content::catalogue::ActivityKind;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Cells with fewer persons than this are shown as "< 3" (the programme's rule for anonymous
/// reporting: DOMAIN.md, "hide small counts (under 3 people)").
pub const MIN_SHOWN: u64 = 3;

/// The kind code of the totals over every kind.
pub const ALL_KINDS: &str = "all";

/// One session (or one result) as the figures count it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    /// `YYYY-MM` (UTC for sessions, the date taken for results).
    pub month: String,
    /// The activity kind code.
    pub kind: String,
    /// The persons (register ids, merges resolved).
    pub persons: BTreeSet<String>,
    /// Hours of activity, ms.
    pub hours_ms: u64,
    /// Person-hours, ms.
    pub person_ms: u64,
    /// The session it is, when it is one.
    pub session: Option<SessionId>,
    /// For a result: the date it was taken, `YYYY-MM-DD` (empty for a session).
    pub date: String,
}

/// One row of the figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `YYYY-MM` or `YYYY`.
    pub period: String,
    /// Kind code, or [`ALL_KINDS`].
    pub kind: String,
    /// Sessions.
    pub sessions: u64,
    /// Distinct persons.
    pub persons: u64,
    /// The distinct count was frozen before the period ended: persons of sessions created in
    /// it afterwards are not in it.
    pub partial: bool,
    /// Hours of activity, ms.
    pub hours_ms: u64,
    /// Person-hours, ms.
    pub person_ms: u64,
}

/// Why the figures could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum FiguresError {
    /// The store failed.
    #[error("chiffres : {0}")]
    Store(String),
}

fn store_err(e: impl std::fmt::Display) -> FiguresError {
    FiguresError::Store(e.to_string())
}

/// The kind of a held director session: its planned session's activity, else its scenario
/// (the built-in immersion session's), else what its log shows (the game started: escape
/// game; only headsets: immersion session).
fn session_kind(
    store: &Store,
    content: &ContentSet,
    session: SessionId,
    engine: &crate::engine::Engine,
) -> Result<ActivityKind, RoadmapError> {
    if let Some(activity) = store.planned_activity_of(session)?
        && let Some(a) = content.activity(&activity)
    {
        return Ok(a.kind);
    }
    if engine.scenario().id.as_str() == boussole_content::scenario::IMMERSION_SESSION {
        return Ok(ActivityKind::ImmersionSession);
    }
    Ok(
        if engine.times().started.is_none() && engine.immersion_runs().next().is_some() {
            ActivityKind::ImmersionSession
        } else {
            ActivityKind::EscapeGame
        },
    )
}

/// Every fact the store holds: its director sessions and its results from other tools.
///
/// # Errors
/// [`FiguresError::Store`].
pub fn facts(store: &Store, content: &ContentSet) -> Result<Vec<Fact>, FiguresError> {
    let mut out = Vec::new();
    for info in store.sessions().map_err(store_err)? {
        let (act, kind) = match replay(store, content, info.id) {
            Ok((_, engine)) => {
                let holders =
                    crate::register::slot_holders(store, info.id, &engine).map_err(store_err)?;
                (
                    activity(info.id, &engine, &holders),
                    session_kind(store, content, info.id, &engine).map_err(store_err)?,
                )
            }
            // A log that no longer replays still counts its people, without hours.
            Err(_) => {
                let mut people = BTreeSet::new();
                for (_, p) in store.slot_persons(info.id).map_err(store_err)? {
                    people.insert(store.canonical_person(&p).map_err(store_err)?);
                }
                (
                    Activity {
                        participants: people,
                        ..Activity::default()
                    },
                    ActivityKind::EscapeGame,
                )
            }
        };
        out.push(Fact {
            month: month_of(info.created_at_unix_ms),
            kind: kind.code().to_owned(),
            persons: act.participants,
            hours_ms: act.play_ms,
            person_ms: act.participant_ms,
            session: Some(info.id),
            date: String::new(),
        });
    }
    for r in store.all_results().map_err(store_err)? {
        let a = content.activity(&r.activity);
        let minutes = u64::from(a.map_or(0, |a| a.usual_minutes));
        out.push(Fact {
            month: r.taken_on.get(..7).unwrap_or("0000-00").to_owned(),
            kind: a
                .map_or(ActivityKind::Evaluation, |a| a.kind)
                .code()
                .to_owned(),
            persons: BTreeSet::from([store.canonical_person(&r.person).map_err(store_err)?]),
            hours_ms: minutes * 60_000,
            person_ms: minutes * 60_000,
            session: None,
            date: r.taken_on.clone(),
        });
    }
    Ok(out)
}

/// The periods a fact counts in: its month and its year.
fn periods(month: &str) -> [String; 2] {
    [
        month.to_owned(),
        month.get(..4).unwrap_or("0000").to_owned(),
    ]
}

/// What a purge must freeze: the totals (sessions, hours) of the facts that go, per month and
/// kind; and, for each period (month and year) and kind (and [`ALL_KINDS`]) that a fact going
/// touches, the distinct persons over **every** fact held for it (those that go and those that
/// stay), marked complete when the period had ended by `now_month` (`YYYY-MM`). The store keeps
/// a period's first frozen count only.
pub fn freeze_for_purge(
    facts: &[Fact],
    going: &dyn Fn(&Fact) -> bool,
    now_month: &str,
) -> (Vec<FrozenTotals>, Vec<FrozenPeople>) {
    let mut totals: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
    for f in facts.iter().filter(|f| going(f)) {
        let t = totals.entry((f.month.clone(), f.kind.clone())).or_default();
        t.0 += 1;
        t.1 = t.1.saturating_add(f.hours_ms);
        t.2 = t.2.saturating_add(f.person_ms);
        for p in periods(&f.month) {
            touched.insert((p.clone(), f.kind.clone()));
            touched.insert((p, ALL_KINDS.to_owned()));
        }
    }
    let people = touched
        .into_iter()
        .map(|(period, kind)| {
            let persons: BTreeSet<&String> = facts
                .iter()
                .filter(|f| f.month.starts_with(&period) && (kind == ALL_KINDS || f.kind == kind))
                .flat_map(|f| &f.persons)
                .collect();
            // A month has ended when the current month is later; a year when the current
            // month is in a later year.
            let complete = if period.len() == 4 {
                now_month.get(..4).is_some_and(|y| y > period.as_str())
            } else {
                now_month > period.as_str()
            };
            FrozenPeople {
                period,
                kind,
                persons: persons.len() as u64,
                complete,
            }
        })
        .collect();
    let totals = totals
        .into_iter()
        .map(
            |((month, kind), (sessions, hours_ms, person_ms))| FrozenTotals {
                month,
                kind,
                sessions,
                hours_ms,
                person_ms,
            },
        )
        .collect();
    (totals, people)
}

/// The figures: per month and per year, per kind and in all, from the frozen figures of purged
/// activity and the facts still held. Sessions and hours add the two; distinct persons are the
/// frozen count where the period has one (it already counted what was held then), else the
/// distinct persons of the facts held.
pub fn table(frozen: &(Vec<FrozenTotals>, Vec<FrozenPeople>), facts: &[Fact]) -> Vec<Row> {
    type Sums = (u64, u64, u64, BTreeSet<String>);
    let mut by: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for t in &frozen.0 {
        for p in periods(&t.month) {
            for kind in [t.kind.as_str(), ALL_KINDS] {
                let e = by.entry((p.clone(), kind.to_owned())).or_default();
                e.0 += t.sessions;
                e.1 = e.1.saturating_add(t.hours_ms);
                e.2 = e.2.saturating_add(t.person_ms);
            }
        }
    }
    for f in facts {
        for p in periods(&f.month) {
            for kind in [f.kind.as_str(), ALL_KINDS] {
                let e = by.entry((p.clone(), kind.to_owned())).or_default();
                e.0 += 1;
                e.1 = e.1.saturating_add(f.hours_ms);
                e.2 = e.2.saturating_add(f.person_ms);
                e.3.extend(f.persons.iter().cloned());
            }
        }
    }
    for p in &frozen.1 {
        by.entry((p.period.clone(), p.kind.clone())).or_default();
    }
    by.into_iter()
        .map(|((period, kind), (sessions, hours_ms, person_ms, live))| {
            let frozen_people = frozen
                .1
                .iter()
                .find(|p| p.period == period && p.kind == kind);
            let (persons, partial) = match frozen_people {
                Some(p) => (p.persons, !p.complete),
                None => (live.len() as u64, false),
            };
            Row {
                period,
                kind,
                sessions,
                persons,
                partial,
                hours_ms,
                person_ms,
            }
        })
        .collect()
}

/// A count of persons as published: "< 3" for 1 and 2, the number otherwise.
pub fn persons_cell(n: u64) -> String {
    if n > 0 && n < MIN_SHOWN {
        format!("< {MIN_SHOWN}")
    } else {
        n.to_string()
    }
}

pub(crate) fn kind_fr(code: &str) -> String {
    match code {
        ALL_KINDS => "toutes activités".into(),
        "unclassified" => "non classé (avant la version 4)".into(),
        other => ActivityKind::from_code(other)
            .map_or_else(|| other.to_owned(), |k| k.label_fr().to_owned()),
    }
}

/// Hours with one decimal, French style ("1,5").
pub(crate) fn hours(ms: u64) -> String {
    let tenths = (ms + 180_000) / 360_000;
    format!("{},{}", tenths / 10, tenths % 10)
}

/// The French table (tab-separated), by period (a year before its months) then kind.
pub fn figures_fr(rows: &[Row]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Chiffres d'activité (FSE+), sans donnée personnelle : personnes distinctes par période et activité (elles ne s'additionnent pas) ; « < {MIN_SHOWN} » masque les petits effectifs."
    );
    let _ = writeln!(
        o,
        "période\tactivité\tséances\tpersonnes\theures\tpersonnes-heures"
    );
    for r in rows {
        let _ = writeln!(
            o,
            "{}\t{}\t{}\t{}{}\t{}\t{}",
            r.period,
            kind_fr(&r.kind),
            r.sessions,
            persons_cell(r.persons),
            if r.partial { " (partiel)" } else { "" },
            hours(r.hours_ms),
            hours(r.person_ms)
        );
    }
    o
}

/// The figures as CSV (RFC 4180, `;`-free, comma-separated, a header line): `periode, activite,
/// seances, personnes, partiel, heures, personnes_heures`; persons as [`persons_cell`], hours
/// with a decimal point.
pub fn figures_csv(rows: &[Row]) -> String {
    let mut o =
        String::from("periode,activite,seances,personnes,partiel,heures,personnes_heures\n");
    for r in rows {
        let h = |ms: u64| {
            let tenths = (ms + 180_000) / 360_000;
            format!("{}.{}", tenths / 10, tenths % 10)
        };
        let _ = writeln!(
            o,
            "{},{},{},{},{},{},{}",
            r.period,
            r.kind,
            r.sessions,
            persons_cell(r.persons),
            if r.partial { "oui" } else { "non" },
            h(r.hours_ms),
            h(r.person_ms)
        );
    }
    o
}
