//! The plan ("planning"): sessions to come, one at a time or as a recurring series (every two
//! weeks on the same weekday: RFC 5545 `FREQ=WEEKLY;INTERVAL=2`, expanded by the `rrule` crate
//! in Europe/Paris time), filled from each activity's waiting list (the roadmaps), activities
//! that open once enough people wait (6 in the catalogue: DOMAIN.md, "other activities start
//! once 6 participants are enrolled"), a director session created from the plan with its people
//! enrolled, and the plan as an iCalendar file (RFC 5545, the `icalendar` crate) that carries
//! **no name nor pseudonym** — calendars sync to cloud services: the activity, the place, the
//! times and how many are invited.

use crate::engine::{Command, Effect, Input, ParticipantId, PersonId};
use crate::roadmap::title_of;
use crate::session::{Session, SessionError};
use crate::store::{NewPlanned, NewSeries, PlannedSession, RoadmapError, SessionId, Store};
use boussole_content::ContentSet;
use boussole_content::catalogue::{Activity, Opening};
use chrono::{NaiveDateTime, TimeZone as _};
use std::fmt::Write as _;

/// The programme's time zone: every time typed or shown is local time there.
pub const TIME_ZONE: &str = "Europe/Paris";

/// The most sessions one series may plan at once (a year of sessions every two weeks).
pub const MAX_SERIES_COUNT: u32 = 26;

/// The colours given to the slots of a session created from the plan, in order (distinct,
/// readable on the console's dark and light themes).
pub const SLOT_COLOURS: [&str; 12] = [
    "#e07000", "#0070e0", "#20a040", "#a04080", "#e0c000", "#606060", "#00a0a0", "#c03030",
    "#7050d0", "#80a000", "#d06090", "#3060a0",
];

fn paris() -> rrule::Tz {
    rrule::Tz::Europe__Paris
}

/// Why a plan request was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The activity is not in the catalogue.
    #[error("activité inconnue du catalogue : « {0} »")]
    UnknownActivity(String),
    /// A time that is not `AAAA-MM-JJTHH:MM`, or that does not exist in Paris (the spring
    /// change of time).
    #[error("heure invalide : « {0} » (attendu AAAA-MM-JJTHH:MM, heure de Paris)")]
    BadTime(String),
    /// A session in the past.
    #[error("la séance du {when} est dans le passé : on ne planifie que l'avenir")]
    PastSession {
        /// When, in words.
        when: String,
    },
    /// A series for an activity that does not recur.
    #[error("« {0} » ne se répète pas dans le catalogue : planifiez ses séances une à une")]
    NotRecurring(String),
    /// A series of zero or too many sessions.
    #[error("une série compte de 1 à {MAX_SERIES_COUNT} séances ({0} demandées)")]
    BadCount(u32),
    /// An activity that opens only once enough people wait.
    #[error(
        "« {title} » n'ouvre qu'à {needed} personnes en attente : {waiting} en attente pour l'instant"
    )]
    NotEnoughWaiting {
        /// The activity.
        title: String,
        /// How many must wait.
        needed: u8,
        /// How many wait.
        waiting: usize,
    },
    /// A length of zero.
    #[error("une séance dure au moins une minute")]
    NoLength,
    /// A blank place.
    #[error("dites où a lieu la séance")]
    NoPlace,
    /// Nothing to export.
    #[error("rien de planifié à partir du {0} : pas de calendrier à exporter")]
    NothingPlanned(String),
    /// A planned session of an activity the director does not run.
    #[error("« {0} » ne se joue pas avec le directeur : pas de séance à créer")]
    NotDirector(String),
    /// A planned session already held or cancelled, or already started.
    #[error("la séance n° {0} du planning n'est plus à venir (déjà tenue, commencée ou annulée)")]
    NotPlanned(i64),
    /// The recurrence rule could not be built or expanded.
    #[error("règle de récurrence refusée : {0}")]
    Rule(String),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] RoadmapError),
    /// Creating the director session failed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// An enrolment was refused by the session.
    #[error("inscription refusée : {0}")]
    Refused(String),
}

/// Parses `AAAA-MM-JJTHH:MM` as Paris local time; returns it with its Unix ms.
///
/// # Errors
/// [`PlanError::BadTime`] for another shape, or a local time that does not exist (or exists
/// twice: the autumn change of time) in Paris.
pub fn parse_local(text: &str) -> Result<(NaiveDateTime, i64), PlanError> {
    let bad = || PlanError::BadTime(text.to_owned());
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").map_err(|_| bad())?;
    let local = paris()
        .from_local_datetime(&naive)
        .single()
        .ok_or_else(bad)?;
    Ok((naive, local.timestamp_millis()))
}

fn local(unix_ms: i64) -> Option<chrono::DateTime<rrule::Tz>> {
    chrono::DateTime::from_timestamp_millis(unix_ms).map(|t| t.with_timezone(&paris()))
}

/// `AAAA-MM-JJ` of a Unix time in ms, in Paris.
pub fn local_date(unix_ms: i64) -> String {
    local(unix_ms).map_or_else(|| "0000-00-00".into(), |t| t.format("%Y-%m-%d").to_string())
}

/// A Unix time in ms in words, Paris time: "mardi 12 janvier 2027 à 14 h 00".
pub fn local_fr(unix_ms: i64) -> String {
    use chrono::{Datelike as _, Timelike as _};
    const DAYS: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let Some(t) = local(unix_ms) else {
        return "date impossible".into();
    };
    let day = DAYS[t.weekday().num_days_from_monday() as usize];
    let month = MONTHS[(t.month0() as usize).min(11)];
    format!(
        "{day} {} {month} {} à {} h {:02}",
        t.day(),
        t.year(),
        t.hour(),
        t.minute()
    )
}

fn activity<'c>(content: &'c ContentSet, id: &str) -> Result<&'c Activity, PlanError> {
    content
        .activity(id)
        .ok_or_else(|| PlanError::UnknownActivity(id.to_owned()))
}

/// What the facilitator asks to plan.
#[derive(Clone, Debug)]
pub struct PlanRequest<'a> {
    /// The catalogue activity.
    pub activity: &'a str,
    /// The (first) start, `AAAA-MM-JJTHH:MM` in Paris.
    pub starts: &'a str,
    /// Length in minutes; `None`: the activity's usual length.
    pub minutes: Option<u32>,
    /// Where.
    pub place: &'a str,
    /// For a series: how many sessions (the rhythm comes from the catalogue).
    pub count: Option<u32>,
}

/// Plans one session, or with `count` a series every `weeks` weeks (the catalogue's
/// `Recurring`), invites the first people of the activity's waiting list (up to the group's
/// size, session by session), and stores it all in one transaction. Returns the planned
/// sessions' numbers.
///
/// Refused: an unknown activity, a time in the past (before `now_unix_ms`) or not a Paris
/// local time, a series of an activity that does not recur or of more than
/// [`MAX_SERIES_COUNT`] sessions, a single session of an activity that opens once `people`
/// wait while fewer wait.
///
/// # Errors
/// [`PlanError`]; nothing is written.
pub fn add(
    store: &mut Store,
    content: &ContentSet,
    req: &PlanRequest<'_>,
    now_unix_ms: i64,
) -> Result<Vec<i64>, PlanError> {
    let a = activity(content, req.activity)?;
    let minutes = req.minutes.unwrap_or(a.usual_minutes);
    if minutes == 0 {
        return Err(PlanError::NoLength);
    }
    if req.place.trim().is_empty() {
        return Err(PlanError::NoPlace);
    }
    let (naive, first) = parse_local(req.starts)?;
    if first <= now_unix_ms {
        return Err(PlanError::PastSession {
            when: local_fr(first),
        });
    }
    let waiting = store.waiting_list(req.activity)?;
    let capacity = usize::from(a.format.capacity());
    let (series, starts) = match req.count {
        None => {
            if let Opening::WhenWaiting { people } = a.opening
                && waiting.len() < usize::from(people)
            {
                return Err(PlanError::NotEnoughWaiting {
                    title: a.title.clone(),
                    needed: people,
                    waiting: waiting.len(),
                });
            }
            (None, vec![first])
        }
        Some(count) => {
            let Opening::Recurring { weeks } = a.opening else {
                return Err(PlanError::NotRecurring(a.title.clone()));
            };
            if count == 0 || count > MAX_SERIES_COUNT {
                return Err(PlanError::BadCount(count));
            }
            let rule = format!("FREQ=WEEKLY;INTERVAL={weeks};COUNT={count}");
            let starts = occurrences(&naive, &rule)?;
            let first_local = naive.format("%Y-%m-%dT%H:%M").to_string();
            (
                Some(NewSeries {
                    activity: req.activity.to_owned(),
                    rrule: rule,
                    first_local,
                    minutes,
                    place: req.place.trim().to_owned(),
                }),
                starts,
            )
        }
    };
    let mut queue = waiting.into_iter().map(|e| e.id);
    let sessions: Vec<NewPlanned> = starts
        .into_iter()
        .map(|at| NewPlanned {
            activity: req.activity.to_owned(),
            starts_at_unix_ms: at,
            minutes,
            place: req.place.trim().to_owned(),
            invite: queue.by_ref().take(capacity).collect(),
        })
        .collect();
    Ok(store.add_plan(series.as_ref(), &sessions, now_unix_ms)?)
}

/// The starts (Unix ms) of `rule` from `first`, Paris local time (a session at 14:00 stays at
/// 14:00 across the changes of time).
///
/// # Errors
/// [`PlanError::Rule`] when rrule refuses the rule.
pub fn occurrences(first: &NaiveDateTime, rule: &str) -> Result<Vec<i64>, PlanError> {
    let text = format!(
        "DTSTART;TZID={TIME_ZONE}:{}\nRRULE:{rule}",
        first.format("%Y%m%dT%H%M%S")
    );
    let set: rrule::RRuleSet = text
        .parse()
        .map_err(|e: rrule::RRuleError| PlanError::Rule(e.to_string()))?;
    let all = set.all(u16::try_from(MAX_SERIES_COUNT).unwrap_or(u16::MAX));
    Ok(all
        .dates
        .iter()
        .map(chrono::DateTime::timestamp_millis)
        .collect())
}

/// The French plan from `from_unix_ms`: each session with its activity, time, place and who is
/// invited (pseudonyms and person ids), then the waiting lists and the activities ready to open.
///
/// # Errors
/// The store's.
pub fn plan_fr(
    store: &Store,
    content: &ContentSet,
    from_unix_ms: i64,
) -> Result<String, RoadmapError> {
    let mut o = String::new();
    let planned = store.planned_sessions(from_unix_ms)?;
    if planned.is_empty() {
        let _ = writeln!(o, "Rien de planifié.");
    }
    for p in &planned {
        let _ = writeln!(
            o,
            "n° {} — {} — {} ({} min), {}{}{} : {} personne(s) invitée(s)",
            p.id,
            title_of(content, &p.activity),
            local_fr(p.starts_at_unix_ms),
            p.minutes,
            p.place,
            p.series
                .map_or_else(String::new, |s| format!(", série n° {s}")),
            p.session
                .map_or_else(String::new, |s| format!(", séance {s}")),
            p.invited.len()
        );
        for e in &p.invited {
            let pseudonym = store
                .person(&e.person)?
                .map_or_else(|| e.person.clone(), |q| q.pseudonym);
            let _ = writeln!(
                o,
                "    {pseudonym} ({}) — {}",
                e.person,
                e.status.label_fr()
            );
        }
    }
    let ids: Vec<String> = content
        .activities
        .iter()
        .map(|a| a.value.id.to_string())
        .collect();
    o.push_str(&waiting_fr(store, content, &ids)?);
    Ok(o)
}

/// The waiting lists of `activities`, and which of those that open once enough people wait
/// can open now.
///
/// # Errors
/// The store's.
pub fn waiting_fr(
    store: &Store,
    content: &ContentSet,
    activities: &[String],
) -> Result<String, RoadmapError> {
    let mut o = String::new();
    for id in activities {
        let list = store.waiting_list(id)?;
        let a = content.activity(id);
        let ready = match a.map(|a| &a.opening) {
            Some(Opening::WhenWaiting { people }) if list.len() >= usize::from(*people) => {
                format!(" — à ouvrir : {people} personnes attendent au moins")
            }
            Some(Opening::WhenWaiting { people }) => format!(" (ouvre à {people})"),
            _ => String::new(),
        };
        if list.is_empty() && ready.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "En attente pour « {} » : {}{ready}",
            title_of(content, id),
            list.len()
        );
        for e in &list {
            let pseudonym = store
                .person(&e.person)?
                .map_or_else(|| e.person.clone(), |q| q.pseudonym);
            let _ = writeln!(
                o,
                "    {pseudonym} ({}) — prescrite le {}{}",
                e.person,
                crate::roadmap::day_fr(&e.prescribed_on),
                if e.status == crate::store::EntryStatus::Absent {
                    " (absente à une séance)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(o)
}

fn paris_time(unix_ms: i64) -> icalendar::CalendarDateTime {
    let naive = local(unix_ms).map_or_else(NaiveDateTime::default, |t| t.naive_local());
    icalendar::CalendarDateTime::WithTimezone {
        date_time: naive,
        tzid: TIME_ZONE.to_owned(),
    }
}

fn invited_fr(n: usize) -> String {
    match n {
        0 => "personne d'invité pour l'instant".into(),
        1 => "1 personne invitée".into(),
        n => format!("{n} personnes invitées"),
    }
}

/// The plan from `from_unix_ms` as an iCalendar file (RFC 5545): one `VEVENT` per planned
/// session (start and end with `TZID=Europe/Paris`, the activity as `SUMMARY`, the place as
/// `LOCATION`, how many are invited in `DESCRIPTION`); a series is one `VEVENT` with its
/// `RRULE` and one override per session (`RECURRENCE-ID`) that gives its own count. No name,
/// pseudonym or person id is written. `now_unix_ms` stamps `DTSTAMP`.
///
/// # Errors
/// [`PlanError::NothingPlanned`] when nothing is planned from then on; [`PlanError::Rule`]
/// when a stored rule no longer builds; the store's.
pub fn ics(
    store: &Store,
    content: &ContentSet,
    from_unix_ms: i64,
    now_unix_ms: i64,
) -> Result<String, PlanError> {
    use icalendar::{Calendar, Component as _, Event, EventLike as _};
    let planned: Vec<PlannedSession> = store
        .planned_sessions(from_unix_ms)?
        .into_iter()
        .filter(|p| p.state != crate::store::PlannedState::Cancelled)
        .collect();
    if planned.is_empty() {
        return Err(PlanError::NothingPlanned(local_fr(from_unix_ms)));
    }
    let stamp = chrono::DateTime::from_timestamp_millis(now_unix_ms).unwrap_or_default();
    let mut cal = Calendar::new();
    cal.name("Boussole — planning des séances");
    cal.timezone(TIME_ZONE);
    let end = |p: &PlannedSession| p.starts_at_unix_ms + i64::from(p.minutes) * 60_000;
    let mut series_done: Vec<i64> = Vec::new();
    for p in &planned {
        let title = title_of(content, &p.activity);
        if let Some(sid) = p.series
            && !series_done.contains(&sid)
            && let Some(series) = store.series(sid)?
        {
            series_done.push(sid);
            let (naive, first) = parse_local(&series.first_local)?;
            let _ = naive;
            let rule: rrule::RRule<rrule::Unvalidated> = series
                .rrule
                .parse()
                .map_err(|e: rrule::RRuleError| PlanError::Rule(e.to_string()))?;
            let mut master = Event::new();
            master
                .uid(&format!("serie-{sid}@boussole"))
                .timestamp(stamp)
                .summary(&title)
                .location(&series.place)
                .description("Séance récurrente du programme La Boussole de l'orientation.")
                .starts(paris_time(first))
                .ends(paris_time(first + i64::from(series.minutes) * 60_000));
            master
                .recurrence(rule)
                .map_err(|e| PlanError::Rule(e.to_string()))?;
            cal.push(master.done());
        }
        let mut e = Event::new();
        match p.series {
            Some(sid) => {
                e.uid(&format!("serie-{sid}@boussole"))
                    .recurrence_id(paris_time(p.starts_at_unix_ms));
            }
            None => {
                e.uid(&format!("seance-{}@boussole", p.id));
            }
        }
        e.timestamp(stamp)
            .summary(&title)
            .location(&p.place)
            .description(&invited_fr(p.invited.len()))
            .starts(paris_time(p.starts_at_unix_ms))
            .ends(paris_time(end(p)));
        cal.push(e.done());
    }
    Ok(cal.done().to_string())
}

/// Creates the director session of planned session `planned` and enrols its invited people
/// (except those in `absent`, person ids: the facilitator starts the session when people have
/// arrived) in one log transaction (slots `P1`, `P2`… with their register pseudonyms, each slot given to
/// its person), then links the two: when this session closes, their roadmap entries are done,
/// or absent for those who did not come ([`Store::settle_session`]).
///
/// # Errors
/// [`PlanError::NotPlanned`], [`PlanError::NotDirector`], [`PlanError::Refused`], the store's
/// and the session's.
pub fn start(
    store: Store,
    content: &ContentSet,
    planned: i64,
    absent: &[String],
    now_unix_ms: i64,
) -> Result<Session, PlanError> {
    try_start(store, content, planned, absent, now_unix_ms).map_err(|kept| kept.1)
}

/// [`start`] that gives the store back when it fails (the director of the day keeps its store
/// open between sessions).
///
/// # Errors
/// As [`start`], with the store.
pub fn try_start(
    store: Store,
    content: &ContentSet,
    planned: i64,
    absent: &[String],
    now_unix_ms: i64,
) -> Result<Session, crate::session::Kept<PlanError>> {
    let prepared = match prepare_start(&store, content, planned, absent) {
        Ok(prepared) => prepared,
        Err(e) => return Err(Box::new((store, e))),
    };
    let mut session = Session::try_create(
        store,
        content,
        &prepared.scenario,
        &prepared.label,
        now_unix_ms,
    )
    .map_err(|kept| {
        let (store, e) = *kept;
        Box::new((store, PlanError::from(e)))
    })?;
    match enrol_invited(&mut session, prepared.people, planned) {
        Ok(()) => Ok(session),
        Err(e) => Err(Box::new((session.into_store(), e))),
    }
}

/// What a planned session's director session starts with.
struct Prepared {
    scenario: String,
    label: String,
    /// (person id, pseudonym), in invitation order.
    people: Vec<(String, String)>,
}

/// The scenario, the label and the people (person id, pseudonym) of planned session
/// `planned`'s director session, checked before anything is written.
fn prepare_start(
    store: &Store,
    content: &ContentSet,
    planned: i64,
    absent: &[String],
) -> Result<Prepared, PlanError> {
    let p = store.planned_session(planned)?;
    if p.state != crate::store::PlannedState::Planned || p.session.is_some() {
        return Err(PlanError::NotPlanned(planned));
    }
    let a = activity(content, &p.activity)?;
    let Some(scenario) = a.run_by.director_scenario() else {
        return Err(PlanError::NotDirector(a.title.clone()));
    };
    let mut people = Vec::new();
    let mut missing = Vec::new();
    for a in absent {
        missing.push(store.canonical_person(a).map_err(RoadmapError::from)?);
    }
    for e in &p.invited {
        let person = store
            .canonical_person(&e.person)
            .map_err(RoadmapError::from)?;
        if missing.contains(&person) {
            continue;
        }
        let pseudonym = store
            .person(&person)
            .map_err(RoadmapError::from)?
            .map_or_else(|| person.clone(), |q| q.pseudonym);
        people.push((person, pseudonym));
    }
    let label = format!("{} — {}", a.title, local_fr(p.starts_at_unix_ms));
    Ok(Prepared {
        scenario: scenario.to_string(),
        label,
        people,
    })
}

/// Enrols `people` in one log batch (slots `P1`, `P2`…, each given to its person) and links
/// the session to planned session `planned`.
fn enrol_invited(
    session: &mut Session,
    people: Vec<(String, String)>,
    planned: i64,
) -> Result<(), PlanError> {
    let mut batch = Vec::new();
    for (i, (person, pseudonym)) in people.into_iter().enumerate() {
        let slot = ParticipantId(format!("P{}", i + 1));
        batch.push((
            Input::Command(Command::AddParticipant {
                id: slot.clone(),
                pseudonym,
                colour: SLOT_COLOURS[i % SLOT_COLOURS.len()].to_owned(),
            }),
            crate::engine::Millis(0),
        ));
        batch.push((
            Input::Command(Command::AssignPerson {
                participant: slot,
                person: PersonId(person),
                reason: String::new(),
            }),
            crate::engine::Millis(0),
        ));
    }
    if !batch.is_empty() {
        for effects in session.submit_batch(batch)? {
            if let Some(Effect::Refused(why)) =
                effects.iter().find(|e| matches!(e, Effect::Refused(_)))
            {
                return Err(PlanError::Refused(why.clone()));
            }
        }
    }
    let id: SessionId = session.id();
    session.store_mut().link_planned(planned, id)?;
    Ok(())
}
