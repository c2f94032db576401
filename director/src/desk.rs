//! The director of the day's desk: what the facilitator's console shows on its home screen
//! (the hosted session, today's planned sessions, interrupted sessions to resume, past sessions
//! to review, the activities a session can be created for) and what it asks of the director
//! ([`DeskRequest`]). Both travel postcard-encoded in `ClientMsg::Desk` / `ServerMsg::Desk`, so
//! the protocol crate does not depend on this one. Pure functions of the store and the content:
//! the session thread builds the view ([`view`]), the server sends it.

use crate::engine::Engine;
use crate::runtime::HostRequest;
use crate::store::{SessionId, Store};
use boussole_content::ContentSet;
use boussole_content::catalogue::ActivityKind;
use boussole_content::cue::DeviceRole;
use boussole_protocol::wire::SoundSettings;
use serde::{Deserialize, Serialize};

/// How many past sessions the home screen lists (most recent first); older ones stay in the
/// store, reachable from the CLI and the exports.
pub const PAST_SHOWN: usize = 30;

/// What a read-write console asks the director of the day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DeskRequest {
    /// Host a new session of a catalogue activity run by the director (`activity` its id),
    /// labelled `label`.
    Create {
        /// The catalogue activity.
        activity: String,
        /// The facilitator's label (never a participant's name); empty: the activity's title
        /// and the date.
        label: String,
    },
    /// Host the director session of a planned session, its invited people enrolled but
    /// `absent` (person ids).
    FromPlan {
        /// The planned session.
        planned: i64,
        /// Invited people who did not come.
        absent: Vec<String>,
    },
    /// Host an existing session again (resume an interrupted one, review a past one).
    Open {
        /// The session.
        session: i64,
    },
    /// Host nothing: back to the home screen (the session's log is complete as it is).
    Leave,
    /// Names a paired device (« Tablette 3 »); an empty name forgets it.
    NameDevice {
        /// The device id.
        device: String,
        /// Its name, 1 to 60 characters, or empty.
        name: String,
    },
    /// Unpairs a device (lost, stolen): its token stops working at once and it is
    /// disconnected; it must pair again with a new code.
    Forget {
        /// The device id.
        device: String,
    },
    /// Gives a paired device its role (kept for the next days). A connected device is told
    /// at once ([`boussole_protocol::ServerMsg::Placement`]) and takes it: the game restarts
    /// in its new role and comes back.
    SetRole {
        /// The device id.
        device: String,
        /// Its role.
        role: DeviceRole,
    },
    /// Sets a device's sound (volume, mute, reading aloud), kept for the next days; a
    /// connected device is told at once ([`boussole_protocol::ServerMsg::Sound`]).
    SetSound {
        /// The device id.
        device: String,
        /// Its settings.
        settings: SoundSettings,
    },
    /// Cuts the room's voices (« couper les voix »: no device reads a text aloud on its own;
    /// a participant's « Écouter » still plays) or brings them back.
    CutVoices {
        /// Cut now.
        cut: bool,
    },
    /// Backs the whole store up into `folder` (a USB key, say) as a new file named with the
    /// date and time, encrypted with the recovery key; the backup is reopened with that key
    /// and checked before it is called done (and logged). An earlier backup is never touched.
    Backup {
        /// The folder, on the director's machine (the console of the day runs beside it).
        folder: std::path::PathBuf,
    },
    /// Exports a session's observations into a folder (the hosted session or a past one, read
    /// from the store), logged in the access log.
    Export(ExportJob),
    /// Follows a closed session beside the hosted one, for review: its evaluation, timeline,
    /// agreement and wash-up, while another session runs. The director answers with the
    /// session's whole log ([`DeskAnswer::Review`]), then sends what is appended to it.
    /// `None` stops following. Opening it is logged in the access log.
    Review {
        /// The session, or none.
        session: Option<i64>,
    },
    /// A command for the session this console follows for review (a level decided, a
    /// comment, the restitution, the lead rater, the wash-up), appended to that session's log
    /// as it would be to the hosted one's. Refused unless the session is closed and followed
    /// by this console.
    ReviewCommand {
        /// The session followed.
        session: i64,
        /// The command (the director stamps the rater).
        command: crate::engine::Command,
    },
    /// The access log, newest first ([`DeskAnswer::AccessLog`]).
    AccessLog,
    /// The funders' figures ([`DeskAnswer::Figures`]).
    Figures,
    /// The funders' figures as CSV, written into a folder as a new file.
    FiguresCsv {
        /// The folder, on the director's machine.
        folder: std::path::PathBuf,
    },
    /// What the retention purge would remove now ([`DeskAnswer::PurgePreview`]); nothing is
    /// removed.
    PurgePreview,
    /// Removes what the preview listed: refused when the list is no longer the one shown
    /// (`sessions`, their numbers, as the preview gave them).
    Purge {
        /// The sessions the facilitator saw in the preview.
        sessions: Vec<i64>,
    },
    /// A person's roadmap and results from other tools ([`DeskAnswer::Roadmap`]), logged
    /// `RoadmapOpened`.
    Roadmap {
        /// The person (register id).
        person: String,
    },
    /// Prescribes a catalogue activity to a person (a waiting entry of their roadmap).
    Prescribe {
        /// The person.
        person: String,
        /// The catalogue activity's id.
        activity: String,
        /// Who prescribes it.
        by: String,
        /// When, `AAAA-MM-JJ`.
        on: String,
    },
    /// Marks an entry of a person's roadmap interrupted or cancelled, with a reason (the only
    /// statuses set by hand: done and absent come from the sessions).
    SetEntryStatus {
        /// The person the entry belongs to.
        person: String,
        /// The entry's number.
        entry: i64,
        /// Cancelled (`true`) or interrupted.
        cancel: bool,
        /// Why.
        reason: String,
    },
    /// Records a result from another tool, as the tool gave it.
    RecordResult(ResultJob),
    /// The plan: the coming sessions with who is invited, the waiting lists
    /// ([`DeskAnswer::Plan`]).
    Plan,
    /// Plans a session (or a series, for an activity that recurs); the first people waiting are
    /// invited ([`crate::plan::add`]).
    PlanAdd {
        /// The catalogue activity.
        activity: String,
        /// The (first) start, `AAAA-MM-JJTHH:MM`, Paris time.
        starts: String,
        /// Length in minutes (`None`: the activity's usual length).
        minutes: Option<u32>,
        /// Where.
        place: String,
        /// A series of this many sessions (`None`: one).
        count: Option<u32>,
    },
    /// Cancels a coming planned session, with a reason: the people it invited go back on the
    /// waiting list.
    PlanCancel {
        /// Its number in the plan.
        planned: i64,
        /// Why.
        reason: String,
    },
    /// Writes the coming plan as an iCalendar file (no names) into a folder.
    PlanIcs {
        /// The folder, on the director's machine.
        folder: std::path::PathBuf,
    },
}

/// A result from another tool to record ([`DeskRequest::RecordResult`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultJob {
    /// The person.
    pub person: String,
    /// The catalogue activity administered with the tool (`disc`).
    pub activity: String,
    /// When the person took it, `AAAA-MM-JJ`.
    pub taken_on: String,
    /// Who administered it.
    pub by: String,
    /// The values typed, by the catalogue's field id (empty ones are left out).
    pub fields: Vec<(String, String)>,
    /// The tool's PDF report to keep (encrypted in the store), on the director's machine.
    pub pdf: Option<std::path::PathBuf>,
}

/// What the director of the day answers a console's [`DeskRequest`] with, beyond a French line
/// (`ServerMsg::Notice`): postcard-encoded in `ServerMsg::DeskAnswer`, to that console only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DeskAnswer {
    /// The session followed for review, or what was appended to its log.
    Review(ReviewFeed),
    /// The access log, newest first (at most [`ACCESS_SHOWN`] lines).
    AccessLog(Vec<AccessLine>),
    /// The funders' figures: one row per period and kind.
    Figures(Vec<FiguresLine>),
    /// What the purge would remove now.
    PurgePreview(PurgePreview),
    /// A person's roadmap and results, with the catalogue to prescribe from.
    Roadmap(PersonRoadmap),
    /// The plan.
    Plan(PlanView),
}

/// The plan as the console shows it ([`DeskAnswer::Plan`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    /// The coming planned sessions, in time order.
    pub coming: Vec<PlanLine>,
    /// Who waits for each activity (only activities someone waits for).
    pub waiting: Vec<WaitingLine>,
    /// The catalogue's activities that can be planned, in catalogue order.
    pub activities: Vec<PlanActivity>,
}

/// A coming planned session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLine {
    /// Its number in the plan.
    pub id: i64,
    /// The activity's title.
    pub title: String,
    /// When, in French words (Paris).
    pub when: String,
    /// Length, minutes.
    pub minutes: u32,
    /// Where.
    pub place: String,
    /// The series it belongs to, if any.
    pub series: Option<i64>,
    /// Who is invited: pseudonym and their entry's status in French.
    pub invited: Vec<(String, String)>,
}

/// Who waits for an activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingLine {
    /// The activity's title.
    pub title: String,
    /// The pseudonyms, oldest prescription first.
    pub people: Vec<String>,
    /// For an activity that opens once enough people wait: how many it needs.
    pub opens_at: Option<u32>,
}

/// An activity the facilitator can plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanActivity {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its usual length, minutes.
    pub minutes: u32,
    /// For a recurring activity: every so many weeks (a series can be planned).
    pub every_weeks: Option<u32>,
}

/// A person's roadmap as the console shows it ([`DeskAnswer::Roadmap`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRoadmap {
    /// The person (register id).
    pub person: String,
    /// Their roadmap's entries, in prescription order.
    pub entries: Vec<RoadmapLine>,
    /// Their results from other tools, oldest first.
    pub results: Vec<ResultLine>,
    /// The catalogue's activities, in catalogue order (to prescribe; those of another tool
    /// with their fields, to record a result).
    pub catalogue: Vec<CatalogueChoice>,
}

/// An entry of a person's roadmap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoadmapLine {
    /// Its number.
    pub id: i64,
    /// The activity's title.
    pub title: String,
    /// Its status, in French.
    pub status: String,
    /// Whether the facilitator may still interrupt or cancel it (not done, not cancelled).
    pub open: bool,
    /// Who prescribed it and when, in French.
    pub prescribed: String,
    /// What set its status, in French (a session, a result), or empty.
    pub detail: String,
}

/// A result from another tool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultLine {
    /// Its number.
    pub id: i64,
    /// The tool.
    pub tool: String,
    /// When it was taken, in French.
    pub taken_on: String,
    /// Who administered it.
    pub by: String,
    /// Each field's label and value, as recorded.
    pub fields: Vec<(String, String)>,
    /// The attached PDF's file name, if any.
    pub pdf: Option<String>,
}

/// An activity of the catalogue, for the roadmap's forms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueChoice {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The other tool it is administered with, if it is (then a result can be recorded).
    pub tool: Option<String>,
    /// That tool's fields: id, label, and what it takes in French (« 0 à 100 / 100 », « texte »).
    pub fields: Vec<(String, String, String)>,
}

/// The session a console follows for review ([`DeskRequest::Review`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReviewFeed {
    /// The session is followed from now on: its identity and its whole log.
    Opened {
        /// Its number.
        session: i64,
        /// Its scenario's content id.
        scenario: String,
        /// Its label.
        label: String,
        /// When it was created, Unix ms.
        created_at_unix_ms: i64,
        /// Its whole log, in order.
        entries: Vec<boussole_protocol::wire::LogEntry>,
    },
    /// Records appended to the followed session's log, in order.
    Appended {
        /// The session.
        session: i64,
        /// The records.
        entries: Vec<boussole_protocol::wire::LogEntry>,
    },
    /// Nothing is followed any more.
    Closed,
}

/// How many lines of the access log the console shows (newest first); the CLI prints all.
pub const ACCESS_SHOWN: usize = 500;

/// A line of the access log as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLine {
    /// When, Unix ms.
    pub at_unix_ms: i64,
    /// Who (the facilitator who unlocked the director, or the CLI's actor).
    pub actor: String,
    /// What, in French.
    pub action: String,
    /// Which session, if one.
    pub session: Option<i64>,
    /// Whom: a participant slot or a register person id (never a name), if one.
    pub participant: Option<String>,
    /// More, in French (a file written, counts).
    pub detail: String,
}

/// A row of the funders' figures as the console shows it ([`crate::figures::Row`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiguresLine {
    /// `AAAA-MM` or `AAAA`.
    pub period: String,
    /// The activity kind, in French, or « toutes ».
    pub kind: String,
    /// Sessions.
    pub sessions: u64,
    /// Distinct persons, as shown (« < 3 » under [`crate::figures::MIN_SHOWN`]).
    pub persons: String,
    /// The distinct count was frozen by a purge before the period ended.
    pub partial: bool,
    /// Hours of activity, French (« 1,5 h »).
    pub hours: String,
    /// Person-hours, French.
    pub person_hours: String,
}

/// What the retention purge would remove now ([`DeskRequest::PurgePreview`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgePreview {
    /// The retention period, months ([`crate::retention::DEFAULT_RETENTION_MONTHS`]).
    pub months: u32,
    /// Sessions created before this, Unix ms, go (and register persons with no session left
    /// and inactive since).
    pub cutoff_unix_ms: i64,
    /// Those sessions, oldest first.
    pub sessions: Vec<PurgeLine>,
    /// Results from other tools taken before the cutoff, which go too.
    pub results: u32,
}

/// A session the purge would remove.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeLine {
    /// Its number.
    pub id: i64,
    /// Its label.
    pub label: String,
    /// When it was created, Unix ms.
    pub created_at_unix_ms: i64,
    /// People in it.
    pub people: u32,
    /// Log records it holds.
    pub records: u32,
}

/// A session's export ([`DeskRequest::Export`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    /// The session.
    pub session: i64,
    /// The file's format.
    pub format: ExportFormat,
    /// The CSV also carries the facilitator's free-text notes (they may name people).
    pub notes: bool,
    /// The folder, on the director's machine (the console of the day runs beside it).
    pub folder: std::path::PathBuf,
}

/// The formats a session exports to ([`DeskRequest::Export`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportFormat {
    /// A BORIS project (`.boris`): ethogram, subjects, one observation per rater.
    BorisProject,
    /// BORIS's "tabular events" export, tab-separated.
    BorisTabular,
    /// One row per observation, with phase and puzzles, for spreadsheets.
    Csv,
}

impl ExportFormat {
    /// The file's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::BorisProject => "boris",
            Self::BorisTabular => "tsv",
            Self::Csv => "csv",
        }
    }
}

/// Exports `job.session` of `store` as `job.format` into `job.folder` (a new file named with
/// the session's number and label; an existing one is never overwritten), and logs it under
/// `actor`. Returns the confirmation for the facilitator.
///
/// # Errors
/// A French message: an unknown session, a folder missing or not writable, a full disk.
pub fn export_into(
    store: &mut Store,
    content: &ContentSet,
    job: &ExportJob,
    actor: &str,
    now_unix_ms: i64,
) -> Result<String, String> {
    use crate::export;
    let ExportJob {
        session,
        format,
        notes,
        ref folder,
    } = *job;
    crate::files::folder_ready(folder)?;
    let (info, engine) = crate::session::replay(store, content, SessionId(session))
        .map_err(|e| format!("séance {session} illisible : {e}"))?;
    let text = match format {
        ExportFormat::BorisProject => export::boris_project_json(&engine, &info),
        ExportFormat::BorisTabular => export::tabular_events_tsv(&engine, &info),
        ExportFormat::Csv => {
            let persons = crate::register::slot_holders(store, info.id, &engine)
                .map_err(|e| format!("registre : {e}"))?;
            export::observations_csv(&engine, &info, notes, &persons)
        }
    }
    .map_err(|e| format!("export impossible : {e}"))?;
    let stem = format!("seance-{session}-{}", crate::synthesis::slug(&info.label));
    let path = crate::files::write_whole(
        &crate::files::unique(folder, &stem, format.extension()),
        text.as_bytes(),
    )?;
    let _ = store.log_access(&crate::store::AccessEntry {
        at_unix_ms: now_unix_ms,
        actor: actor.to_owned(),
        action: crate::store::AccessAction::SessionExported,
        session: Some(info.id),
        participant: None,
        detail: format!(
            "{format:?}{}, {}",
            if notes { " avec notes" } else { "" },
            path.display()
        ),
    });
    Ok(format!("Exporté : {}", path.display()))
}

impl DeskRequest {
    /// The runtime's request for this one, the activity resolved against `content`.
    ///
    /// # Errors
    /// An unknown activity, one this director does not run, or a request that hosts nothing
    /// (French, for the console).
    pub fn to_host(&self, content: &ContentSet, now_unix_ms: i64) -> Result<HostRequest, String> {
        Ok(match self {
            Self::Create { activity, label } => {
                let a = content
                    .activities
                    .iter()
                    .map(|a| &a.value)
                    .find(|a| a.id.as_str() == activity)
                    .ok_or_else(|| format!("activité inconnue du catalogue : {activity}"))?;
                let Some(scenario) = a.run_by.director_scenario() else {
                    return Err(format!(
                        "« {} » ne se déroule pas avec le directeur : notez-la dans le plan",
                        a.title
                    ));
                };
                let label = if label.trim().is_empty() {
                    format!("{} — {}", a.title, crate::plan::local_fr(now_unix_ms))
                } else {
                    label.trim().to_owned()
                };
                HostRequest::Create {
                    scenario: scenario.to_string(),
                    label,
                }
            }
            Self::FromPlan { planned, absent } => HostRequest::FromPlan {
                planned: *planned,
                absent: absent.clone(),
            },
            Self::Open { session } => HostRequest::Open(SessionId(*session)),
            Self::Leave => HostRequest::Leave,
            Self::NameDevice { .. }
            | Self::Forget { .. }
            | Self::SetRole { .. }
            | Self::SetSound { .. }
            | Self::CutVoices { .. }
            | Self::Backup { .. }
            | Self::Export(_)
            | Self::Review { .. }
            | Self::ReviewCommand { .. }
            | Self::AccessLog
            | Self::Figures
            | Self::FiguresCsv { .. }
            | Self::PurgePreview
            | Self::Purge { .. }
            | Self::Roadmap { .. }
            | Self::Prescribe { .. }
            | Self::SetEntryStatus { .. }
            | Self::RecordResult(_)
            | Self::Plan
            | Self::PlanAdd { .. }
            | Self::PlanCancel { .. }
            | Self::PlanIcs { .. } => {
                return Err("cette demande ne change pas de séance".into());
            }
        })
    }
}

/// The session the director hosts now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSession {
    /// Its number.
    pub id: i64,
    /// Its scenario's content id.
    pub scenario: String,
    /// Its label.
    pub label: String,
    /// When it was created, Unix ms.
    pub created_at_unix_ms: i64,
    /// Whether it is closed (a past session opened for review, or the session just ended).
    pub closed: bool,
}

/// A session of the store, as the home screen lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLine {
    /// Its number.
    pub id: i64,
    /// Its scenario's content id.
    pub scenario: String,
    /// Its label.
    pub label: String,
    /// When it was created, Unix ms.
    pub created_at_unix_ms: i64,
    /// People enrolled.
    pub people: u32,
    /// Whether the game was started (an interrupted session that never started is only a
    /// preparation).
    pub started: bool,
}

/// A session of the plan for today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedLine {
    /// Its number in the plan.
    pub planned: i64,
    /// The catalogue activity's id.
    pub activity: String,
    /// The activity's title.
    pub title: String,
    /// When it starts, Unix ms.
    pub starts_at_unix_ms: i64,
    /// How long, minutes.
    pub minutes: u32,
    /// Where.
    pub place: String,
    /// People invited.
    pub invited: u32,
    /// Who is invited: person id and pseudonym, in the plan's order (the home screen asks who
    /// came before the session opens).
    pub people: Vec<(String, String)>,
    /// The director session already created from it.
    pub session: Option<i64>,
    /// Whether the director runs it (else the facilitator records it elsewhere).
    pub director: bool,
}

/// An activity of the catalogue a session can be created for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityLine {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: ActivityKind,
    /// The scenario the director plays.
    pub scenario: String,
    /// Smallest group (1 for an individual activity).
    pub min_people: u32,
}

/// Everything the home screen shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskView {
    /// The session hosted now.
    pub live: Option<LiveSession>,
    /// Today's planned sessions (Paris time), in order.
    pub today: Vec<PlannedLine>,
    /// Sessions not closed (but the live one), most recent first.
    pub interrupted: Vec<SessionLine>,
    /// Closed sessions, most recent first, at most [`PAST_SHOWN`].
    pub past: Vec<SessionLine>,
    /// Activities the director runs, in catalogue order.
    pub activities: Vec<ActivityLine>,
    /// Who unlocked the director (the access log's actor).
    pub facilitator: String,
    /// The names given to paired devices: device id → name.
    pub device_names: std::collections::BTreeMap<String, String>,
    /// The roles of paired devices: device id → role (a device absent here waits for one).
    pub device_roles: std::collections::BTreeMap<String, DeviceRole>,
    /// The sound the facilitator set for devices: device id → settings (a device absent here
    /// plays with its role's defaults).
    pub device_sound: std::collections::BTreeMap<String, SoundSettings>,
    /// The room's voices are cut.
    pub voices_cut: bool,
    /// When the store was last backed up, Unix ms (`None`: never): the home screen reminds
    /// the facilitator past [`BACKUP_DUE_DAYS`].
    pub last_backup_unix_ms: Option<i64>,
}

/// Days after which the home screen asks for a backup (a week: a laptop lost or broken loses
/// at most a week of evaluations).
pub const BACKUP_DUE_DAYS: i64 = 7;

/// The activities of `content` that the director runs (escape games, immersion sessions).
pub fn activities(content: &ContentSet) -> Vec<ActivityLine> {
    // (the catalogue's order: the file order of `content/catalogue/`)
    content
        .activities
        .iter()
        .map(|a| &a.value)
        .filter_map(|a| {
            a.run_by.director_scenario().map(|scenario| ActivityLine {
                id: a.id.to_string(),
                title: a.title.clone(),
                kind: a.kind,
                scenario: scenario.to_string(),
                min_people: match a.format {
                    boussole_content::catalogue::Format::Collective { min_people, .. } => {
                        u32::from(min_people)
                    }
                    boussole_content::catalogue::Format::Individual => 1,
                },
            })
        })
        .collect()
}

/// What a session that is not hosted shows on the home screen, found by replaying its log:
/// closed, people enrolled, game started. It cannot change while another session is hosted, so
/// [`view`] keeps it in a [`Replayed`] until the director hosts another session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Closed (or its scenario left the content: listed as past).
    pub closed: bool,
    /// People enrolled.
    pub people: u32,
    /// The game was started.
    pub started: bool,
}

/// The summaries of sessions replayed for the home screen, by session; emptied whenever the
/// director hosts another session (only the hosted one changes).
pub type Replayed = std::collections::BTreeMap<SessionId, Summary>;

/// Builds the desk from the store: `live` is the hosted session's id and engine, if any;
/// `replayed` keeps what earlier calls found by replaying the other sessions.
///
/// # Errors
/// A store failure (French).
pub fn view(
    store: &Store,
    content: &ContentSet,
    live: Option<(SessionId, &Engine)>,
    facilitator: &str,
    now_unix_ms: i64,
    replayed: &mut Replayed,
) -> Result<DeskView, String> {
    let sessions = store.sessions().map_err(|e| format!("séances : {e}"))?;
    let mut interrupted = Vec::new();
    let mut past = Vec::new();
    let mut live_line = None;
    for info in sessions.iter().rev() {
        if let Some((id, engine)) = live
            && id == info.id
        {
            live_line = Some(LiveSession {
                id: info.id.0,
                scenario: info.scenario.clone(),
                label: info.label.clone(),
                created_at_unix_ms: info.created_at_unix_ms,
                closed: engine.is_closed(),
            });
            continue;
        }
        if past.len() >= PAST_SHOWN && interrupted.len() >= PAST_SHOWN {
            break;
        }
        // A session whose scenario left the content cannot be replayed: it is listed as past.
        let Summary {
            closed,
            people,
            started,
        } = *replayed.entry(info.id).or_insert_with(|| {
            crate::session::replay(store, content, info.id).ok().map_or(
                Summary {
                    closed: true,
                    people: 0,
                    started: false,
                },
                |(_, e)| Summary {
                    closed: e.is_closed(),
                    people: u32::try_from(e.participants().len()).unwrap_or(u32::MAX),
                    started: e.game_started(),
                },
            )
        });
        let line = SessionLine {
            id: info.id.0,
            scenario: info.scenario.clone(),
            label: info.label.clone(),
            created_at_unix_ms: info.created_at_unix_ms,
            people,
            started,
        };
        if closed {
            if past.len() < PAST_SHOWN {
                past.push(line);
            }
        } else if interrupted.len() < PAST_SHOWN {
            interrupted.push(line);
        }
    }
    let today_date = crate::plan::local_date(now_unix_ms);
    let today = store
        .planned_sessions(now_unix_ms - 24 * 3600 * 1000)
        .map_err(|e| format!("plan : {e}"))?
        .into_iter()
        .filter(|p| {
            crate::plan::local_date(p.starts_at_unix_ms) == today_date
                && p.state == crate::store::PlannedState::Planned
        })
        .map(|p| {
            let activity = content
                .activities
                .iter()
                .map(|a| &a.value)
                .find(|a| a.id.as_str() == p.activity);
            PlannedLine {
                planned: p.id,
                title: activity.map_or_else(|| p.activity.clone(), |a| a.title.clone()),
                director: activity.is_some_and(|a| a.run_by.director_scenario().is_some()),
                activity: p.activity,
                starts_at_unix_ms: p.starts_at_unix_ms,
                minutes: p.minutes,
                place: p.place,
                invited: u32::try_from(p.invited.len()).unwrap_or(u32::MAX),
                people: p
                    .invited
                    .iter()
                    .map(|e| {
                        let pseudonym = store
                            .person(&e.person)
                            .ok()
                            .flatten()
                            .map_or_else(|| e.person.clone(), |q| q.pseudonym);
                        (e.person.clone(), pseudonym)
                    })
                    .collect(),
                session: p.session.map(|s| s.0),
            }
        })
        .collect();
    Ok(DeskView {
        live: live_line,
        today,
        interrupted,
        past,
        activities: activities(content),
        facilitator: facilitator.to_owned(),
        device_names: store
            .device_names()
            .map_err(|e| format!("noms des appareils : {e}"))?,
        device_roles: store
            .device_roles()
            .map_err(|e| format!("rôles des appareils : {e}"))?,
        device_sound: store
            .device_sound()
            .map_err(|e| format!("son des appareils : {e}"))?,
        voices_cut: store
            .voices_cut()
            .map_err(|e| format!("voix de la salle : {e}"))?,
        last_backup_unix_ms: store
            .last_access(crate::store::AccessAction::BackupWritten)
            .map_err(|e| format!("dernière sauvegarde : {e}"))?,
    })
}

/// The records of `session`'s log after `after` (0: the whole log), as consoles get them.
///
/// # Errors
/// A store failure (French).
pub fn log_entries(
    store: &Store,
    session: SessionId,
    after: u64,
) -> Result<Vec<boussole_protocol::wire::LogEntry>, String> {
    Ok(store
        .log_since(session, crate::store::LogSeq(after))
        .map_err(|e| format!("journal de la séance {session} : {e}"))?
        .into_iter()
        .map(|r| boussole_protocol::wire::LogEntry {
            seq: r.seq.0,
            at_ms: r.at_ms,
            input: r.payload,
        })
        .collect())
}

/// Opens closed session `session` for review beside the hosted one (`hosted`): its identity
/// and whole log ([`ReviewFeed::Opened`]), the access logged under `actor`.
///
/// # Errors
/// French: the hosted session (its screens already show it), an unknown or unreadable
/// session, one not closed (resume it instead), a store failure.
pub fn review_opened(
    store: &mut Store,
    content: &ContentSet,
    session: i64,
    hosted: Option<SessionId>,
    actor: &str,
    now_unix_ms: i64,
) -> Result<ReviewFeed, String> {
    let id = SessionId(session);
    if hosted == Some(id) {
        return Err(format!(
            "la séance {session} est celle ouverte : ses écrans d'après-jeu la montrent déjà"
        ));
    }
    let (info, engine) = crate::session::replay(store, content, id)
        .map_err(|e| format!("séance {session} illisible : {e}"))?;
    if !engine.is_closed() {
        return Err(format!(
            "la séance {session} n'est pas close : reprenez-la depuis l'accueil"
        ));
    }
    let entries = log_entries(store, id, 0)?;
    store
        .log_access(&crate::store::AccessEntry {
            at_unix_ms: now_unix_ms,
            actor: actor.to_owned(),
            action: crate::store::AccessAction::SessionOpened,
            session: Some(id),
            participant: None,
            detail: "revue depuis la console".into(),
        })
        .map_err(|e| format!("journal des accès : {e}"))?;
    Ok(ReviewFeed::Opened {
        session,
        scenario: info.scenario,
        label: info.label,
        created_at_unix_ms: info.created_at_unix_ms,
        entries,
    })
}

/// The access log as the console shows it: newest first, at most [`ACCESS_SHOWN`] lines.
///
/// # Errors
/// A store failure (French).
pub fn access_lines(store: &Store) -> Result<Vec<AccessLine>, String> {
    let entries = store
        .access_log()
        .map_err(|e| format!("journal des accès : {e}"))?;
    Ok(entries
        .into_iter()
        .rev()
        .take(ACCESS_SHOWN)
        .map(|e| AccessLine {
            at_unix_ms: e.at_unix_ms,
            actor: e.actor,
            action: e.action.label_fr().to_owned(),
            session: e.session.map(|s| s.0),
            participant: e.participant,
            detail: e.detail,
        })
        .collect())
}

/// The funders' figures ([`crate::figures::table`]) as the console shows them.
///
/// # Errors
/// A store failure (French).
pub fn figures_lines(store: &Store, content: &ContentSet) -> Result<Vec<FiguresLine>, String> {
    Ok(figures_rows(store, content)?
        .into_iter()
        .map(|r| FiguresLine {
            kind: crate::figures::kind_fr(&r.kind),
            persons: crate::figures::persons_cell(r.persons),
            partial: r.partial,
            hours: format!("{} h", crate::figures::hours(r.hours_ms)),
            person_hours: format!("{} h", crate::figures::hours(r.person_ms)),
            period: r.period,
            sessions: r.sessions,
        })
        .collect())
}

fn figures_rows(store: &Store, content: &ContentSet) -> Result<Vec<crate::figures::Row>, String> {
    let frozen = store
        .frozen_figures()
        .map_err(|e| format!("chiffres figés : {e}"))?;
    let facts = crate::figures::facts(store, content).map_err(|e| e.to_string())?;
    Ok(crate::figures::table(&frozen, &facts))
}

/// Writes the funders' figures as CSV ([`crate::figures::figures_csv`]: no personal data)
/// into `folder` as a new file named with the day, and logs it under `actor`. Returns the
/// confirmation for the facilitator.
///
/// # Errors
/// French: a folder missing, not writable or full, a store failure.
pub fn figures_csv_into(
    store: &mut Store,
    content: &ContentSet,
    folder: &std::path::Path,
    actor: &str,
    now_unix_ms: i64,
) -> Result<String, String> {
    crate::files::folder_ready(folder)?;
    let csv = crate::figures::figures_csv(&figures_rows(store, content)?);
    let stem = format!(
        "chiffres-financeurs-{}",
        crate::plan::local_date(now_unix_ms)
    );
    let path =
        crate::files::write_whole(&crate::files::unique(folder, &stem, "csv"), csv.as_bytes())?;
    let _ = store.log_access(&crate::store::AccessEntry {
        at_unix_ms: now_unix_ms,
        actor: actor.to_owned(),
        action: crate::store::AccessAction::SessionExported,
        session: None,
        participant: None,
        detail: format!("chiffres des financeurs, {}", path.display()),
    });
    Ok(format!(
        "Chiffres écrits (sans donnée personnelle) : {}",
        path.display()
    ))
}

/// What the purge would remove now, with the default retention period
/// ([`crate::retention::DEFAULT_RETENTION_MONTHS`]); nothing is removed.
///
/// # Errors
/// French: a store failure.
pub fn purge_preview(
    store: &Store,
    content: &ContentSet,
    now_unix_ms: i64,
) -> Result<PurgePreview, String> {
    let months = crate::retention::DEFAULT_RETENTION_MONTHS;
    let cutoff =
        crate::retention::cutoff_unix_ms(now_unix_ms, months).map_err(|e| e.to_string())?;
    let items =
        crate::retention::plan_purge(store, content, cutoff).map_err(|e| format!("purge : {e}"))?;
    let before = crate::plan::local_date(cutoff);
    let results = crate::figures::facts(store, content)
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|f| f.session.is_none() && f.date < before)
        .count();
    Ok(PurgePreview {
        months,
        cutoff_unix_ms: cutoff,
        sessions: items
            .iter()
            .map(|i| PurgeLine {
                id: i.info.id.0,
                label: i.info.label.clone(),
                created_at_unix_ms: i.info.created_at_unix_ms,
                people: u32::try_from(i.purged.participants.len()).unwrap_or(u32::MAX),
                records: u32::try_from(i.records).unwrap_or(u32::MAX),
            })
            .collect(),
        results: u32::try_from(results).unwrap_or(u32::MAX),
    })
}

/// The purge the facilitator confirmed after its preview: `seen` are the sessions the preview
/// listed. Refused when the list changed since, or when it holds the hosted session. Returns
/// the confirmation for the facilitator.
///
/// # Errors
/// French: as said, or a store failure.
pub fn purge_confirmed(
    store: &mut Store,
    content: &ContentSet,
    seen: &[i64],
    hosted: Option<SessionId>,
    actor: &str,
    now_unix_ms: i64,
) -> Result<String, String> {
    let months = crate::retention::DEFAULT_RETENTION_MONTHS;
    let cutoff =
        crate::retention::cutoff_unix_ms(now_unix_ms, months).map_err(|e| e.to_string())?;
    let items =
        crate::retention::plan_purge(store, content, cutoff).map_err(|e| format!("purge : {e}"))?;
    let now: Vec<i64> = items.iter().map(|i| i.info.id.0).collect();
    if now != seen {
        return Err(
            "la liste des séances à purger a changé depuis l'aperçu : regardez-la de nouveau"
                .into(),
        );
    }
    if let Some(h) = hosted
        && now.contains(&h.0)
    {
        return Err(format!(
            "la séance {h} est ouverte : revenez à l'accueil avant de la purger"
        ));
    }
    let done = crate::retention::purge(store, content, &items, months, cutoff, actor, now_unix_ms)?;
    Ok(format!(
        "Purge faite : {} séance(s) de plus de {months} mois ({} entrées du journal, {} nom(s)), {} résultat(s) d'autres outils, {} personne(s) inactive(s) du registre. Les chiffres des financeurs les gardent, sans donnée personnelle.",
        done.sessions.len(),
        done.log_records,
        done.names,
        done.results,
        done.persons
    ))
}

/// A person's roadmap, results and the catalogue, as the console shows them; the reading is
/// logged `RoadmapOpened` under `actor` when `log` (not after a change the console asked).
///
/// # Errors
/// French: an unknown or erased person, a store failure.
pub fn person_roadmap(
    store: &mut Store,
    content: &ContentSet,
    person: &str,
    actor: &str,
    now_unix_ms: i64,
    log: bool,
) -> Result<PersonRoadmap, String> {
    use crate::store::EntryStatus;
    let known = store
        .person(person)
        .map_err(|e| format!("registre : {e}"))?
        .filter(|p| p.erased_at_unix_ms.is_none());
    if known.is_none() {
        return Err(format!("personne inconnue du registre : {person}"));
    }
    let entries = store
        .roadmap(person)
        .map_err(|e| format!("feuille de route : {e}"))?
        .into_iter()
        .map(|e| {
            let mut detail = Vec::new();
            if let Some(s) = e.session
                && e.status == EntryStatus::Done
            {
                detail.push(format!("séance n° {s}"));
            }
            if let Some(r) = e.result {
                detail.push(format!("résultat n° {r}"));
            }
            if let Some(p) = e.planned
                && e.status == EntryStatus::Planned
            {
                detail.push(format!("séance n° {p} du planning"));
            }
            RoadmapLine {
                id: e.id,
                title: crate::roadmap::title_of(content, &e.activity),
                status: e.status.label_fr().to_owned(),
                open: !matches!(e.status, EntryStatus::Done | EntryStatus::Cancelled),
                prescribed: format!(
                    "prescrite par {} le {}",
                    e.prescribed_by,
                    crate::roadmap::day_fr(&e.prescribed_on)
                ),
                detail: detail.join(", "),
            }
        })
        .collect();
    let results = store
        .results(person)
        .map_err(|e| format!("résultats : {e}"))?
        .into_iter()
        .map(|r| ResultLine {
            id: r.id,
            tool: r.tool,
            taken_on: crate::roadmap::day_fr(&r.taken_on),
            by: r.administered_by,
            fields: r
                .fields
                .into_iter()
                .map(|(_, label, value)| (label, value))
                .collect(),
            pdf: r.attachment.map(|(name, _)| name),
        })
        .collect();
    let catalogue = content
        .activities
        .iter()
        .map(|a| &a.value)
        .map(|a| {
            let (tool, fields) = match &a.run_by {
                boussole_content::catalogue::RunBy::OtherTool { tool, fields } => (
                    Some(tool.clone()),
                    fields
                        .iter()
                        .map(|f| {
                            let takes = match &f.value {
                                boussole_content::catalogue::FieldValue::Score {
                                    min,
                                    max,
                                    unit,
                                } => format!("{min} à {max} {unit}").trim().to_owned(),
                                boussole_content::catalogue::FieldValue::Text => "texte".into(),
                            };
                            (f.id.to_string(), f.label.clone(), takes)
                        })
                        .collect(),
                ),
                _ => (None, Vec::new()),
            };
            CatalogueChoice {
                id: a.id.to_string(),
                title: a.title.clone(),
                tool,
                fields,
            }
        })
        .collect();
    if log {
        store
            .log_access(&crate::store::AccessEntry {
                at_unix_ms: now_unix_ms,
                actor: actor.to_owned(),
                action: crate::store::AccessAction::RoadmapOpened,
                session: None,
                participant: Some(person.to_owned()),
                detail: "feuille de route montrée dans la console".into(),
            })
            .map_err(|e| format!("journal des accès : {e}"))?;
    }
    Ok(PersonRoadmap {
        person: person.to_owned(),
        entries,
        results,
        catalogue,
    })
}

/// Carries out a change of a person's roadmap the console asked for (a prescription, an
/// entry interrupted or cancelled, a result recorded) and returns the confirmation for the
/// facilitator; a result is logged `ResultRecorded` under `actor`.
///
/// # Errors
/// French, nothing written: the catalogue's and the store's refusals (an unknown activity, a
/// bad date, a score out of its range, a PDF that is not one or too large, an entry of
/// another person, no reason).
pub fn change_roadmap(
    store: &mut Store,
    content: &ContentSet,
    request: &DeskRequest,
    actor: &str,
    now_unix_ms: i64,
) -> Result<String, String> {
    use crate::store::EntryStatus;
    match request {
        DeskRequest::Prescribe {
            person,
            activity,
            by,
            on,
        } => {
            if by.trim().is_empty() {
                return Err("dites qui prescrit l'activité".into());
            }
            let id = crate::roadmap::prescribe(
                store,
                content,
                person,
                activity,
                by.trim(),
                on.trim(),
                now_unix_ms,
            )
            .map_err(|e| e.to_string())?;
            Ok(format!(
                "n° {id} : « {} » prescrite, en attente",
                crate::roadmap::title_of(content, activity)
            ))
        }
        DeskRequest::SetEntryStatus {
            person,
            entry,
            cancel,
            reason,
        } => {
            let theirs = store
                .roadmap(person)
                .map_err(|e| format!("feuille de route : {e}"))?
                .iter()
                .any(|e| e.id == *entry);
            if !theirs {
                return Err(format!(
                    "l'entrée n° {entry} n'est pas dans cette feuille de route"
                ));
            }
            let status = if *cancel {
                EntryStatus::Cancelled
            } else {
                EntryStatus::Interrupted
            };
            store
                .set_entry_status(*entry, status, reason, now_unix_ms)
                .map_err(|e| e.to_string())?;
            Ok(format!("n° {entry} : {}", status.label_fr()))
        }
        DeskRequest::RecordResult(job) => {
            let fields: Vec<String> = job
                .fields
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let id = crate::roadmap::record_result(
                store,
                content,
                &crate::roadmap::ResultInput {
                    person: &job.person,
                    activity: &job.activity,
                    taken_on: &job.taken_on,
                    administered_by: &job.by,
                    fields: &fields,
                    attachment: job.pdf.as_deref(),
                },
                now_unix_ms,
            )
            .map_err(|e| e.to_string())?;
            store
                .log_access(&crate::store::AccessEntry {
                    at_unix_ms: now_unix_ms,
                    actor: actor.to_owned(),
                    action: crate::store::AccessAction::ResultRecorded,
                    session: None,
                    participant: Some(job.person.clone()),
                    detail: format!(
                        "résultat n° {id} ({}){}",
                        job.activity,
                        if job.pdf.is_some() { ", avec PDF" } else { "" }
                    ),
                })
                .map_err(|e| format!("journal des accès : {e}"))?;
            Ok(format!("Résultat n° {id} enregistré"))
        }
        _ => Err("cette demande ne change pas une feuille de route".into()),
    }
}

/// The plan as the console shows it, from `now_unix_ms` on.
///
/// # Errors
/// French: a store failure.
pub fn plan_view(
    store: &Store,
    content: &ContentSet,
    now_unix_ms: i64,
) -> Result<PlanView, String> {
    use boussole_content::catalogue::Opening;
    let store_err = |e: crate::store::RoadmapError| format!("planning : {e}");
    let pseudonym = |person: &str| -> Result<String, String> {
        Ok(store
            .person(person)
            .map_err(|e| format!("registre : {e}"))?
            .map_or_else(|| person.to_owned(), |p| p.pseudonym))
    };
    let mut coming = Vec::new();
    for p in store.planned_sessions(now_unix_ms).map_err(store_err)? {
        if p.state != crate::store::PlannedState::Planned {
            continue;
        }
        let mut invited = Vec::new();
        for e in &p.invited {
            invited.push((pseudonym(&e.person)?, e.status.label_fr().to_owned()));
        }
        coming.push(PlanLine {
            id: p.id,
            title: crate::roadmap::title_of(content, &p.activity),
            when: crate::plan::local_fr(p.starts_at_unix_ms),
            minutes: p.minutes,
            place: p.place,
            series: p.series,
            invited,
        });
    }
    let mut waiting = Vec::new();
    let mut activities = Vec::new();
    for a in content.activities.iter().map(|a| &a.value) {
        let list = store.waiting_list(a.id.as_str()).map_err(store_err)?;
        let opens_at = match a.opening {
            Opening::WhenWaiting { people } => Some(u32::from(people)),
            _ => None,
        };
        if !list.is_empty() {
            let mut people = Vec::new();
            for e in &list {
                people.push(pseudonym(&e.person)?);
            }
            waiting.push(WaitingLine {
                title: a.title.clone(),
                people,
                opens_at,
            });
        }
        activities.push(PlanActivity {
            id: a.id.to_string(),
            title: a.title.clone(),
            minutes: a.usual_minutes,
            every_weeks: match a.opening {
                Opening::Recurring { weeks } => Some(u32::from(weeks)),
                _ => None,
            },
        });
    }
    Ok(PlanView {
        coming,
        waiting,
        activities,
    })
}

/// Plans what the console asked ([`DeskRequest::PlanAdd`]) and returns the confirmation.
///
/// # Errors
/// French, nothing written: [`crate::plan::add`]'s refusals (a time in the past or not
/// `AAAA-MM-JJTHH:MM`, no place, a series of an activity that does not recur…).
pub fn plan_add(
    store: &mut Store,
    content: &ContentSet,
    request: &DeskRequest,
    now_unix_ms: i64,
) -> Result<String, String> {
    let DeskRequest::PlanAdd {
        activity,
        starts,
        minutes,
        place,
        count,
    } = request
    else {
        return Err("cette demande ne planifie rien".into());
    };
    let ids = crate::plan::add(
        store,
        content,
        &crate::plan::PlanRequest {
            activity,
            starts: starts.trim(),
            minutes: *minutes,
            place,
            count: *count,
        },
        now_unix_ms,
    )
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "{} séance(s) de « {} » planifiée(s) : n° {}",
        ids.len(),
        crate::roadmap::title_of(content, activity),
        ids.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Cancels planned session `planned` ([`Store::cancel_planned`]) and returns the confirmation.
///
/// # Errors
/// French: no reason, an unknown planned session, one opened, held or cancelled already.
pub fn plan_cancel(
    store: &mut Store,
    planned: i64,
    reason: &str,
    now_unix_ms: i64,
) -> Result<String, String> {
    let back = store
        .cancel_planned(planned, reason, now_unix_ms)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "Séance n° {planned} du planning annulée ; {back} personne(s) de nouveau en attente"
    ))
}

/// Writes the coming plan as an iCalendar file ([`crate::plan::ics`]: no names) into `folder`
/// as a new file named with the day; returns the confirmation.
///
/// # Errors
/// French: nothing planned, a folder missing, not writable or full.
pub fn plan_ics_into(
    store: &Store,
    content: &ContentSet,
    folder: &std::path::Path,
    now_unix_ms: i64,
) -> Result<String, String> {
    crate::files::folder_ready(folder)?;
    let text =
        crate::plan::ics(store, content, now_unix_ms, now_unix_ms).map_err(|e| e.to_string())?;
    let stem = format!("planning-boussole-{}", crate::plan::local_date(now_unix_ms));
    let path =
        crate::files::write_whole(&crate::files::unique(folder, &stem, "ics"), text.as_bytes())?;
    Ok(format!(
        "Planning écrit (sans nom ni pseudonyme) : {}",
        path.display()
    ))
}
