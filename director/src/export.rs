//! Exports of a session's observations: a BORIS project (`.boris`, JSON), BORIS's "tabular
//! events" table (TSV) and a plain CSV for spreadsheets. Pure functions of the engine (so of the
//! log) and the session's row.
//!
//! Personal data stays out: participants appear by pseudonym only (the BORIS subjects are the
//! pseudonyms), never by the names kept in the store's protected table; free notes, which may
//! name people, go only into the CSV and only when asked. Withdrawn codes never appear.
//!
//! Times are seconds since the start of the game (`StartGame`; since the session was created
//! when the game never started), negative before it, with millisecond precision.
//!
//! The BORIS structures follow BORIS 8.27.4's own code: `config.py` (`EMPTY_PROJECT`, the keys),
//! `project.py` (ethogram rows, subjects, behavioural categories), `add_modifier.py` (modifier
//! sets), `observation_operations.py` (`new_observation`: the keys of a "LIVE" observation, i.e.
//! without media) and `export_observation.py` (`export_tabular_events`: the columns).

use crate::engine::{Engine, Millis, ParticipantId, RaterId};
use crate::irr::{Coded, coded};
use crate::store::SessionInfo;
use boussole_content::grid::{EventKind, ObservationGrid, PhysicalKey};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write;

/// BORIS's project file format version (`cfg.project_format_version` in BORIS 8.27).
pub const BORIS_PROJECT_FORMAT: &str = "7.0";

/// Characters BORIS refuses in modifier values (`cfg.CHAR_FORBIDDEN_IN_MODIFIERS`).
pub const BORIS_FORBIDDEN_IN_MODIFIERS: &str = "(|),`~";

/// Why a session cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Two participants share a pseudonym: BORIS's subjects are named by it, so their codes
    /// would merge.
    #[error("two participants share the pseudonym {pseudonym:?}")]
    DuplicatePseudonym {
        /// The pseudonym.
        pseudonym: String,
    },
    /// A participant's pseudonym is empty (BORIS refuses an empty subject name).
    #[error("participant {participant} has an empty pseudonym")]
    EmptyPseudonym {
        /// The participant.
        participant: ParticipantId,
    },
    /// A name has a character BORIS reserves (`|` separates modifiers and subjects;
    /// `(|),`~` are forbidden in modifiers).
    #[error("{what} {value:?} contains {ch:?}, which BORIS does not allow there")]
    ForbiddenCharacter {
        /// What it names ("pseudonym", "behaviour code", "modifier").
        what: &'static str,
        /// The name.
        value: String,
        /// The character.
        ch: char,
    },
    /// An observation is about a participant the session does not know.
    #[error("observation {id} is about {participant}, who is not a participant of the session")]
    UnknownParticipant {
        /// The observation's number.
        id: u64,
        /// The participant.
        participant: ParticipantId,
    },
    /// JSON serialisation failed.
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The time origin of the exports: the start of the game, else the session's creation.
pub(crate) fn origin(engine: &Engine) -> Millis {
    engine.times().started.unwrap_or_default()
}

/// Signed milliseconds from `origin` to `t`.
fn rel_ms(t: Millis, origin: Millis) -> i64 {
    let t = i64::try_from(t.0).unwrap_or(i64::MAX);
    let o = i64::try_from(origin.0).unwrap_or(i64::MAX);
    t.saturating_sub(o)
}

/// Milliseconds as seconds with three decimals: `-1500` → `"-1.500"` (BORIS's `f"{t:.3f}"`).
fn secs3(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let a = ms.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

/// Unix milliseconds as a UTC date `yyyy-MM-ddTHH:mm:ss.zzz` (Qt's format, which BORIS writes).
/// Days to civil date: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms".
fn utc_iso(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(86_400_000);
    let ms = unix_ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The JSON text with every non-ASCII character escaped (`\u00e9`), as Python's `json.dumps`
/// writes BORIS projects: BORIS opens a project without naming an encoding (the system's), so
/// an ASCII file opens the same on every system. Outside strings JSON is ASCII, so escaping
/// every non-ASCII character only touches strings.
fn ascii_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        }
    }
    out
}

/// The key BORIS binds: the character the key types on a French AZERTY board, lower case for a
/// letter; `F1`…`F12` as BORIS names them; none for keys BORIS cannot bind by one character.
fn boris_key(key: PhysicalKey) -> String {
    let label = key.azerty_label();
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => c.to_lowercase().collect(),
        _ if label
            .strip_prefix('F')
            .is_some_and(|n| n.parse::<u8>().is_ok()) =>
        {
            label.to_owned()
        }
        _ => String::new(),
    }
}

fn check_chars(what: &'static str, value: &str, forbidden: &str) -> Result<(), ExportError> {
    match value.chars().find(|c| forbidden.contains(*c)) {
        Some(ch) => Err(ExportError::ForbiddenCharacter {
            what,
            value: value.to_owned(),
            ch,
        }),
        None => Ok(()),
    }
}

/// Participants' pseudonyms, checked: non-empty, unique, without `|`.
fn subjects(engine: &Engine) -> Result<Vec<(&ParticipantId, &str)>, ExportError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (id, p) in engine.participants() {
        let name = p.pseudonym.as_str();
        if name.trim().is_empty() {
            return Err(ExportError::EmptyPseudonym {
                participant: id.clone(),
            });
        }
        check_chars("pseudonym", name, "|")?;
        if !seen.insert(name) {
            return Err(ExportError::DuplicatePseudonym {
                pseudonym: name.to_owned(),
            });
        }
        out.push((id, name));
    }
    Ok(out)
}

fn check_grid(grid: &ObservationGrid) -> Result<(), ExportError> {
    for b in &grid.behaviours {
        check_chars("behaviour code", b.id.as_str(), "|")?;
    }
    for set in &grid.modifier_sets {
        for m in &set.modifiers {
            check_chars("modifier", m.id.as_str(), BORIS_FORBIDDEN_IN_MODIFIERS)?;
        }
    }
    Ok(())
}

/// What BORIS calls an event's status in its tabular export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Point,
    Start,
    Stop,
}

impl Status {
    fn boris(self) -> &'static str {
        match self {
            Self::Point => "POINT",
            Self::Start => "START",
            Self::Stop => "STOP",
        }
    }
}

/// One BORIS event: a point event, or the start or the stop of a state event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct BorisEvent {
    /// Milliseconds since the origin.
    time_ms: i64,
    subject: String,
    code: String,
    modifier: String,
    comment: String,
    status: Status,
}

/// One rater's events, as BORIS lists them: sorted as Python sorts the event lists
/// `[time, subject, code, modifier, comment]` (BORIS keeps them sorted); the stop of a state
/// event carries its modifier, as BORIS pairs a start and a stop by subject, code and modifier.
fn boris_events(
    engine: &Engine,
    rater: &RaterId,
    names: &[(&ParticipantId, &str)],
) -> Result<Vec<BorisEvent>, ExportError> {
    let origin = origin(engine);
    let mut out = Vec::new();
    for c in coded(engine, Some(rater)) {
        let subject = name_of(names, &c)?;
        let event = |time: Millis, status: Status, comment: &str| BorisEvent {
            time_ms: rel_ms(time, origin),
            subject: subject.to_owned(),
            code: c.behaviour.0.clone(),
            modifier: c
                .obs
                .modifier
                .as_ref()
                .map_or_else(String::new, |m| m.0.clone()),
            comment: comment.to_owned(),
            status,
        };
        match c.kind {
            EventKind::Point => out.push(event(c.start, Status::Point, "")),
            EventKind::State => {
                out.push(event(c.start, Status::Start, ""));
                let comment = if c.obs.closed_at_end {
                    "encore en cours à la clôture : fermé par la clôture"
                } else if c.obs.until.is_none() {
                    "encore en cours : fermé à l'export"
                } else {
                    ""
                };
                out.push(event(c.end, Status::Stop, comment));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn name_of<'a>(names: &[(&ParticipantId, &'a str)], c: &Coded<'_>) -> Result<&'a str, ExportError> {
    names
        .iter()
        .find(|(id, _)| *id == c.participant)
        .map(|(_, n)| *n)
        .ok_or_else(|| ExportError::UnknownParticipant {
            id: c.obs.id.0,
            participant: c.participant.clone(),
        })
}

/// Raters with at least one standing code, in the order they first coded.
fn raters(engine: &Engine) -> Vec<RaterId> {
    crate::irr::raters(engine)
}

/// The BORIS observation id of a rater's coding: `séance 3 — console`.
pub fn observation_id(session: &SessionInfo, rater: &RaterId) -> String {
    format!("séance {} — {rater}", session.id)
}

/// The description of a rater's BORIS observation (French, one line).
fn observation_description(engine: &Engine, session: &SessionInfo, rater: &RaterId) -> String {
    format!(
        "Codage de {rater}, séance {} « {} » ({}). Temps en secondes depuis le début du jeu.",
        session.id,
        session.label,
        engine.scenario().title.fr
    )
    .replace(['\r', '\n'], " ")
}

/// A JSON object whose entries keep their order (BORIS's numbered dictionaries, `"0"`, `"1"`,
/// …, and its observations by id): Python keeps a file's order, so BORIS lists them as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Ordered<T> {
    /// Entries keyed `"0"`, `"1"`, … in order, as BORIS numbers its configuration rows.
    pub fn numbered(items: impl IntoIterator<Item = T>) -> Self {
        Self(
            items
                .into_iter()
                .enumerate()
                .map(|(i, x)| (i.to_string(), x))
                .collect(),
        )
    }
}

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// An always-empty JSON object (`{}`), for the project parts we do not use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EmptyObject {}

/// A BORIS project (`.boris`), keys in the order of BORIS's `cfg.EMPTY_PROJECT` (8.27).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BorisProject {
    /// `"s"`: times shown in seconds.
    pub time_format: String,
    /// When the session was created, `yyyy-MM-ddTHH:mm:ss`, UTC.
    pub project_date: String,
    /// "Boussole — scenario title — séance N".
    pub project_name: String,
    /// French: the session, scenario and grid.
    pub project_description: String,
    /// [`BORIS_PROJECT_FORMAT`].
    pub project_format_version: String,
    /// The participants, by pseudonym.
    pub subjects_conf: Ordered<BorisSubject>,
    /// The ethogram: the grid's behaviours, in grid order.
    pub behaviors_conf: Ordered<BorisBehaviour>,
    /// One live observation per rater, by [`observation_id`].
    pub observations: Ordered<BorisObservation>,
    /// The grid's categories, sorted (BORIS sorts them).
    pub behavioral_categories: Vec<String>,
    /// The same categories, numbered, without colours.
    pub behavioral_categories_config: Ordered<BorisCategory>,
    /// None: `{}`.
    pub independent_variables: EmptyObject,
    /// None: `{}`.
    pub coding_map: EmptyObject,
    /// None: `[]`.
    pub behaviors_coding_map: Vec<EmptyObject>,
    /// None: `{}`.
    pub converters: EmptyObject,
}

/// A BORIS subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BorisSubject {
    /// The key that selects them: the console's participant key (`1`…`9`, `0`), else empty.
    pub key: String,
    /// The pseudonym (never a name).
    pub name: String,
    /// Empty.
    pub description: String,
}

/// A BORIS behaviour (a row of the ethogram).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BorisBehaviour {
    /// `"Point event"` or `"State event"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The key BORIS binds: what the grid's key types on an AZERTY board, lower case.
    pub key: String,
    /// The behaviour's id.
    pub code: String,
    /// French: "label — definition".
    pub description: String,
    /// Empty.
    pub color: String,
    /// The grid's category.
    pub category: String,
    /// At most one set, `"0"`, when the behaviour has modifiers.
    pub modifiers: Ordered<BorisModifierSet>,
    /// Empty.
    pub excluded: String,
    /// Empty.
    #[serde(rename = "coding map")]
    pub coding_map: String,
}

/// A BORIS modifier set (`add_modifier.py`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BorisModifierSet {
    /// The set's French label.
    pub name: String,
    /// Empty.
    pub description: String,
    /// 0: single item selection.
    #[serde(rename = "type")]
    pub kind: u8,
    /// False.
    #[serde(rename = "ask at stop")]
    pub ask_at_stop: bool,
    /// The modifier ids, each followed by its key as BORIS writes it: `"groupe (k)"`.
    pub values: Vec<String>,
}

/// A BORIS behavioural category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BorisCategory {
    /// The category.
    pub name: String,
    /// Empty.
    pub color: String,
}

/// One BORIS event of a live observation: `[time (s), subject, code, modifier, comment]`.
pub type BorisEventRow = (f64, String, String, String, String);

/// A BORIS observation without media ("LIVE"), keys as BORIS 8.27's `new_observation` writes
/// them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BorisObservation {
    /// `{}`: no media.
    pub file: EmptyObject,
    /// `"LIVE"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The date of time zero (the start of the game), `yyyy-MM-ddTHH:mm:ss.zzz`, UTC.
    pub date: String,
    /// French, one line.
    pub description: String,
    /// 0.0 s.
    #[serde(rename = "time offset")]
    pub time_offset: f64,
    /// The events, sorted by time (then subject, code, modifier, comment).
    pub events: Vec<BorisEventRow>,
    /// `[0, 0]`: the whole observation.
    #[serde(rename = "observation time interval")]
    pub observation_time_interval: [u8; 2],
    /// None: `{}`.
    pub independent_variables: EmptyObject,
    /// False.
    pub visualize_spectrogram: bool,
    /// False.
    pub visualize_waveform: bool,
    /// False.
    pub media_creation_date_as_offset: bool,
    /// 0.
    pub media_scan_sampling_duration: u32,
    /// 1.
    pub image_display_duration: u32,
    /// False.
    pub close_behaviors_between_videos: bool,
    /// 0: no scan sampling.
    pub scan_sampling_time: u32,
    /// False.
    pub start_from_current_time: bool,
    /// False.
    pub start_from_current_epoch_time: bool,
}

/// A BORIS project holding the session: the grid as the ethogram, the participants as
/// subjects (pseudonyms only; keys 1…9, 0 as the console's participant keys), and one "LIVE"
/// observation (no media) per rater, named by [`observation_id`], its events timed in seconds
/// since the start of the game. Dates are UTC. The shape is [`BorisProject`]'s.
///
/// # Errors
/// [`ExportError`] when a pseudonym is empty, shared or has `|`, a code or modifier has a
/// character BORIS reserves, or an observation names an unknown participant.
pub fn boris_project(engine: &Engine, session: &SessionInfo) -> Result<BorisProject, ExportError> {
    let grid = engine.grid();
    check_grid(grid)?;
    let names = subjects(engine)?;
    let scenario = engine.scenario();

    let subjects_conf = Ordered::numbered(names.iter().enumerate().map(|(i, (_, name))| {
        BorisSubject {
            // The console's participant keys: 1…9, then 0 for the tenth.
            key: match i {
                0..=8 => (i + 1).to_string(),
                9 => "0".to_owned(),
                _ => String::new(),
            },
            name: (*name).to_owned(),
            description: String::new(),
        }
    }));

    let ethogram = Ordered::numbered(grid.behaviours.iter().map(|b| {
        let set = b
            .modifiers
            .as_ref()
            .and_then(|id| grid.modifier_sets.iter().find(|s| s.id == *id));
        let modifiers = Ordered::numbered(set.map(|set| {
            BorisModifierSet {
                name: set.label.clone(),
                description: String::new(),
                kind: 0,
                ask_at_stop: false,
                // "value (k)": BORIS's way of giving a modifier its key.
                values: set
                    .modifiers
                    .iter()
                    .map(|m| match boris_key(m.key) {
                        k if k.chars().count() == 1 => format!("{} ({k})", m.id),
                        _ => m.id.0.clone(),
                    })
                    .collect(),
            }
        }));
        BorisBehaviour {
            kind: match b.kind {
                EventKind::Point => "Point event",
                EventKind::State => "State event",
            }
            .to_owned(),
            key: boris_key(b.key),
            code: b.id.0.clone(),
            description: format!("{} — {}", b.label, b.definition),
            color: String::new(),
            category: b.category.clone(),
            modifiers,
            excluded: String::new(),
            coding_map: String::new(),
        }
    }));

    let categories: BTreeSet<&str> = grid
        .behaviours
        .iter()
        .map(|b| b.category.as_str())
        .filter(|c| !c.is_empty())
        .collect();

    let origin = origin(engine);
    let date = utc_iso(
        session
            .created_at_unix_ms
            .saturating_add(rel_ms(origin, Millis(0))),
    );
    let mut observations = Vec::new();
    for rater in raters(engine) {
        let events = boris_events(engine, &rater, &names)?
            .into_iter()
            .map(|e| {
                (
                    e.time_ms as f64 / 1000.0,
                    e.subject,
                    e.code,
                    e.modifier,
                    e.comment,
                )
            })
            .collect();
        observations.push((
            observation_id(session, &rater),
            BorisObservation {
                file: EmptyObject {},
                kind: "LIVE".to_owned(),
                date: date.clone(),
                description: observation_description(engine, session, &rater),
                time_offset: 0.0,
                events,
                observation_time_interval: [0, 0],
                independent_variables: EmptyObject {},
                visualize_spectrogram: false,
                visualize_waveform: false,
                media_creation_date_as_offset: false,
                media_scan_sampling_duration: 0,
                image_display_duration: 1,
                close_behaviors_between_videos: false,
                scan_sampling_time: 0,
                start_from_current_time: false,
                start_from_current_epoch_time: false,
            },
        ));
    }

    Ok(BorisProject {
        time_format: "s".to_owned(),
        project_date: utc_iso(session.created_at_unix_ms)
            .get(..19)
            .unwrap_or_default()
            .to_owned(),
        project_name: format!("Boussole — {} — séance {}", scenario.title.fr, session.id),
        project_description: format!(
            "Export de la séance {} « {} » ({}, grille {}). Sujets : pseudonymes.",
            session.id, session.label, scenario.id, grid.id
        ),
        project_format_version: BORIS_PROJECT_FORMAT.to_owned(),
        subjects_conf,
        behaviors_conf: ethogram,
        observations: Ordered(observations),
        behavioral_categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        behavioral_categories_config: Ordered::numbered(categories.iter().map(|c| BorisCategory {
            name: (*c).to_owned(),
            color: String::new(),
        })),
        independent_variables: EmptyObject {},
        coding_map: EmptyObject {},
        behaviors_coding_map: Vec::new(),
        converters: EmptyObject {},
    })
}

/// [`boris_project`] as the text of a `.boris` file: indented JSON, ASCII only (non-ASCII
/// characters escaped, as BORIS writes its own files).
///
/// # Errors
/// As [`boris_project`].
pub fn boris_project_json(engine: &Engine, session: &SessionInfo) -> Result<String, ExportError> {
    let project = boris_project(engine, session)?;
    Ok(ascii_json(&serde_json::to_string_pretty(&project)?) + "\n")
}

/// One field of a delimited file, quoted as Python's `csv` module does by default (and so
/// `tablib`, which BORIS uses): only when it holds the delimiter, a quote or a line break;
/// quotes doubled.
fn field(value: &str, delimiter: char) -> String {
    if value.contains([delimiter, '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn line(out: &mut String, fields: &[String], delimiter: char) {
    let row: Vec<String> = fields.iter().map(|f| field(f, delimiter)).collect();
    out.push_str(&row.join(&delimiter.to_string()));
    out.push_str("\r\n");
}

/// BORIS's "tabular events" export of every rater's observation in one table: tab-separated,
/// CRLF line ends, minimal quoting, UTF-8. The columns are BORIS 8.27's for a live
/// observation: `Observation id, Observation date, Description, Observation duration,
/// Observation type, Source, Time offset (s), Media duration (s), FPS, Subject, Behavior,
/// Behavioral category, Modifier #1, Behavior type, Time, Media file name, Image index, Image
/// file path, Comment`. "Observation duration" is the last event's time minus the first's
/// (BORIS's coding duration); "Behavior type" is POINT, START or STOP; times are seconds with
/// three decimals. BORIS writes one file per observation, with "Modifier #1" only when that
/// observation has a modifier; this one table has the column when any observation has one.
///
/// # Errors
/// As [`boris_project`].
pub fn tabular_events_tsv(engine: &Engine, session: &SessionInfo) -> Result<String, ExportError> {
    check_grid(engine.grid())?;
    let names = subjects(engine)?;
    let origin = origin(engine);
    let date = utc_iso(
        session
            .created_at_unix_ms
            .saturating_add(rel_ms(origin, Millis(0))),
    )
    .replace('T', " ");
    let per_rater: Vec<(RaterId, Vec<BorisEvent>)> = raters(engine)
        .into_iter()
        .map(|r| boris_events(engine, &r, &names).map(|e| (r, e)))
        .collect::<Result<_, _>>()?;
    let modifiers = per_rater
        .iter()
        .flat_map(|(_, e)| e)
        .any(|e| !e.modifier.is_empty());
    let mut header: Vec<&str> = vec![
        "Observation id",
        "Observation date",
        "Description",
        "Observation duration",
        "Observation type",
        "Source",
        "Time offset (s)",
        "Media duration (s)",
        "FPS",
        "Subject",
        "Behavior",
        "Behavioral category",
    ];
    if modifiers {
        header.push("Modifier #1");
    }
    header.extend([
        "Behavior type",
        "Time",
        "Media file name",
        "Image index",
        "Image file path",
        "Comment",
    ]);
    let mut out = String::new();
    let header: Vec<String> = header.into_iter().map(str::to_owned).collect();
    line(&mut out, &header, '\t');
    for (rater, events) in &per_rater {
        let obs_id = observation_id(session, rater);
        let description = observation_description(engine, session, rater);
        let duration = match (events.first(), events.last()) {
            (Some(a), Some(b)) => secs3(b.time_ms - a.time_ms),
            _ => "NA".to_owned(),
        };
        for e in events {
            let category = engine
                .grid()
                .behaviours
                .iter()
                .find(|b| b.id.0 == e.code)
                .map_or("", |b| b.category.as_str());
            let mut row = vec![
                obs_id.clone(),
                date.clone(),
                description.clone(),
                duration.clone(),
                "Live observation".to_owned(),
                "NA".to_owned(),
                "0.0".to_owned(),
                "NA".to_owned(),
                "NA".to_owned(),
                e.subject.clone(),
                e.code.clone(),
                category.to_owned(),
            ];
            if modifiers {
                row.push(e.modifier.clone());
            }
            row.extend([
                e.status.boris().to_owned(),
                secs3(e.time_ms),
                "NA".to_owned(),
                "NA".to_owned(),
                "NA".to_owned(),
                e.comment.replace(['\r', '\n'], " "),
            ]);
            line(&mut out, &row, '\t');
        }
    }
    Ok(out)
}

/// The CSV's columns, French, for the facilitator's spreadsheet.
pub const CSV_COLUMNS: &[&str] = &[
    "séance",
    "n°",
    "codeur",
    "participant",
    "personne",
    "code",
    "comportement",
    "catégorie",
    "type",
    "modificateur",
    "début_s",
    "fin_s",
    "durée_s",
    "phase",
    "énigmes",
    "fermé_à_la_clôture",
    "note",
];

/// One row per standing observation (withdrawn ones left out), in log order, with the columns
/// of [`CSV_COLUMNS`]: session, observation number, rater, participant's pseudonym, the person
/// of the register who held the slot (`persons`, from [`crate::register::slot_holders`]: a
/// spreadsheet joins sessions by this id, never by the slot label), behaviour
/// code and French label, category, type (`ponctuel`, `état`, `note`), modifier (its French
/// label), start, end and duration in seconds since the start of the game (three decimals,
/// decimal point; end and duration empty for a point event), phase, open puzzles (separated by
/// `;`), whether a state was closed by the end of the session (`oui`/`non`), and the note.
/// Comma-separated, CRLF line ends, fields quoted only when needed (RFC 4180), UTF-8 without
/// a byte order mark. Free notes, which may name people, are rows only when `notes` is true.
///
/// # Errors
/// As [`boris_project`] for pseudonyms.
pub fn observations_csv(
    engine: &Engine,
    session: &SessionInfo,
    notes: bool,
    persons: &std::collections::BTreeMap<ParticipantId, crate::engine::PersonId>,
) -> Result<String, ExportError> {
    let names = subjects(engine)?;
    let grid = engine.grid();
    let origin = origin(engine);
    let mut out = String::new();
    let header: Vec<String> = CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    line(&mut out, &header, ',');
    for o in engine
        .observations()
        .iter()
        .filter(|o| o.retracted.is_none())
    {
        let pseudonym = match &o.participant {
            Some(p) => names
                .iter()
                .find(|(id, _)| *id == p)
                .map(|(_, n)| (*n).to_owned())
                .ok_or_else(|| ExportError::UnknownParticipant {
                    id: o.id.0,
                    participant: p.clone(),
                })?,
            None => String::new(),
        };
        let behaviour = o
            .behaviour
            .as_ref()
            .and_then(|id| grid.behaviours.iter().find(|b| b.id == *id));
        let (kind, end) = match (&o.behaviour, behaviour.map(|b| b.kind)) {
            (None, _) if !notes => continue,
            (None, _) => ("note", None),
            (Some(_), Some(EventKind::State)) => {
                ("état", Some(o.until.unwrap_or(engine.now()).max(o.at)))
            }
            (Some(_), _) => ("ponctuel", None),
        };
        let modifier = o.modifier.as_ref().map_or_else(String::new, |m| {
            behaviour
                .and_then(|b| b.modifiers.as_ref())
                .and_then(|set| grid.modifier_sets.iter().find(|s| s.id == *set))
                .and_then(|set| set.modifiers.iter().find(|x| x.id == *m))
                .map_or_else(|| m.0.clone(), |x| x.label.clone())
        });
        let start = rel_ms(o.at, origin);
        let row = vec![
            session.id.to_string(),
            o.id.0.to_string(),
            o.rater.0.clone(),
            pseudonym,
            o.participant
                .as_ref()
                .and_then(|p| persons.get(p))
                .map_or_else(String::new, |p| p.0.clone()),
            o.behaviour
                .as_ref()
                .map_or_else(String::new, |b| b.0.clone()),
            behaviour.map_or_else(String::new, |b| b.label.clone()),
            behaviour.map_or_else(String::new, |b| b.category.clone()),
            kind.to_owned(),
            modifier,
            secs3(start),
            end.map_or_else(String::new, |e| secs3(rel_ms(e, origin))),
            end.map_or_else(String::new, |e| secs3(rel_ms(e, origin) - start)),
            o.phase.as_ref().map_or_else(String::new, |p| p.0.clone()),
            o.puzzles
                .iter()
                .map(|p| p.0.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            if o.closed_at_end { "oui" } else { "non" }.to_owned(),
            o.note.clone().unwrap_or_default(),
        ];
        line(&mut out, &row, ',');
    }
    Ok(out)
}

/// Number of BORIS events per rater's observation (a point event is one, a state event two:
/// its start and its stop), as the project lists them; for checks against BORIS.
pub fn boris_event_counts(engine: &Engine, session: &SessionInfo) -> Vec<(String, usize)> {
    raters(engine)
        .into_iter()
        .map(|r| {
            let n = coded(engine, Some(&r))
                .iter()
                .map(|c| match c.kind {
                    EventKind::Point => 1,
                    EventKind::State => 2,
                })
                .sum();
            (observation_id(session, &r), n)
        })
        .collect()
}
