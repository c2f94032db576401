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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
            | Self::Export(_) => {
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
