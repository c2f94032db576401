//! The headset's logic, headless: which immersion runs (the tutorial first for a new
//! participant), its phases (introduction, visit, questionnaire, thanks), hotspots and their
//! narration, tasks, stress stimuli at their times, comfort (seated eye height, snap turn,
//! teleport, a time limit with a break prompt, an instant stop to a calm room) and what the
//! director hears (`HotspotSeen`, `TaskDone`, `Rating`, health, problems).
//!
//! The interactive things are entities with a [`Transform`] and an
//! [`super::pointer::Interactable`] spawned here, so the pointer layer works
//! without a window; the view only gives them meshes and labels.

use super::pointer::{Interactable, Select};
use crate::content::GameContent;
use crate::net::plugin::{Connection, ImmersionOrder, PauseOrder, Report, StopAllCues};
use crate::third_party::audio::{AudioOutput, CheckedSound, PlaySound, check_sound};
use crate::third_party::xr::{XrMode, XrSessionLive};
use crate::{GameSystems, LaunchOptions};
use bevy::prelude::*;
use boussole_content::ids::{
    HotspotId, ImmersionId, ItemId, PuzzleId, QuestionId, StimulusId, TaskId,
};
use boussole_content::immersion::{Immersion, Locomotion, Posture, SceneSpec, TaskKind};
use boussole_content::text::{AssetPath, Text};
use boussole_protocol::{DeviceEvent, Health, ParticipantId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Eye height in seated mode, metres (DESIGN: first-time users sit; the content's
/// `Spawn` doc gives about 1.2 m seated).
pub const SEATED_EYE_M: f32 = 1.2;
/// Eye height standing in a 360° film, metres (a scene gives its own in its `Spawn`).
pub const STANDING_EYE_M: f32 = 1.65;
/// One snap turn, degrees (no smooth rotation: it makes people sick).
pub const SNAP_TURN_DEG: f32 = 30.0;
/// How long the vignette darkens the view around a turn or a teleport, seconds.
pub const VIGNETTE_S: f64 = 0.35;
/// How long the view fades in from black to the calm room after a stop, seconds.
pub const FADE_S: f64 = 1.5;
/// How dark a paused headset's view gets, 0 to 1: dim enough to rest, light enough to see the
/// panel that says it is a pause.
pub const PAUSE_DIM: f32 = 0.8;
/// The shortest time a stimulus's description stays on screen, seconds (time to read it).
pub const STIMULUS_READ_S: f64 = 8.0;
/// The question id of an immersion's appeal question (see `DeviceEvent::ImmersionRating`).
pub const APPEAL: &str = "appeal";
/// Distance from the eyes to the answer panel, metres (within arm's reach of a ray, and
/// readable in a headset).
pub const PANEL_DISTANCE_M: f32 = 1.5;

/// What the participant or the facilitator asks of the headset.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum HeadsetAction {
    /// Run `immersion` for `participant` (the tutorial first if they have not done it).
    Start {
        /// The immersion.
        immersion: ImmersionId,
        /// Who wears the headset, when known.
        participant: Option<ParticipantId>,
        /// When the director started it, on its session clock (ms); `None` without a director.
        started_at_ms: Option<u64>,
    },
    /// Stop now and fade to the calm room (facilitator or participant).
    Stop,
    /// Snap turn: -1 left, +1 right.
    Turn(i8),
    /// Read the panel's question or the puzzle's view aloud again (R, or « Réécouter »).
    Replay,
}

/// Where the headset is in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// No immersion: the calm room, waiting for the facilitator.
    #[default]
    Waiting,
    /// The introduction is shown; "Commencer" starts the visit.
    Intro,
    /// Hotspots, tasks and stimuli.
    Exploring,
    /// The end questionnaire, at this question (0: appeal, then one per stress question,
    /// then the comment invitation).
    Questionnaire(usize),
    /// Done: thanks, in the calm room.
    Thanks,
    /// Stopped at once: the calm room.
    Stopped,
    /// A headset-guided puzzle's scene and view ([`super::guided`]), between immersions.
    Guided,
}

/// What a button on the answer panel does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonAction {
    /// Start the visit after the introduction.
    Begin,
    /// Pick (or unpick) an option or a step of the current task.
    Pick(ItemId),
    /// Check the current task's answer.
    Validate,
    /// End the visit and go to the questionnaire.
    FinishVisit,
    /// Answer the current question 1 to 5.
    Rate(u8),
    /// After the comment invitation.
    EndQuestionnaire,
    /// Go on after a break prompt.
    KeepGoing,
    /// Stop at the break prompt.
    TakeBreak,
    /// Go to the next queued immersion.
    Next,
    /// Read the headset-guided puzzle's view aloud again.
    Replay,
    /// Back from the calm room to the headset-guided puzzle still open.
    BackToPuzzle,
}

/// One button on the answer panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelButton {
    /// What it does.
    pub action: ButtonAction,
    /// Its label, in French.
    pub label: String,
    /// Shown as chosen (a picked option, a step already placed).
    pub chosen: bool,
    /// Its words read aloud when the ray rests on it, under `assets/`.
    pub voice: Option<AssetPath>,
    /// A pictogram beside its words, under `assets/`.
    pub pictogram: Option<AssetPath>,
}

/// The panel in front of the participant: a title, a text, and big buttons.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Panel {
    /// Small line above ("Question 1 sur 3").
    pub title: String,
    /// The question or instruction.
    pub text: String,
    /// The buttons, in order.
    pub buttons: Vec<PanelButton>,
    /// The question or instruction read aloud when the panel comes, under `assets/`.
    pub voice: Option<AssetPath>,
    /// A pictogram beside the question, under `assets/`.
    pub pictogram: Option<AssetPath>,
}

/// A caption at the bottom of the view: a hotspot's narration, a stimulus, a task's feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caption {
    /// Its heading.
    pub title: String,
    /// The text.
    pub text: String,
}

/// The film of a 360° video immersion, as this headset plays it ([`super::video360`]).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoRun {
    /// The immersion, for messages.
    pub immersion: ImmersionId,
    /// The equirectangular video, under `assets/`.
    pub file: AssetPath,
    /// Top-bottom stereo: this client shows the top (left-eye) half to both eyes.
    pub stereo: bool,
    /// When the director started the run, session ms: the film stands at
    /// `director now - started_at_ms`. `None` without a director (the local start counts).
    pub started_at_ms: Option<u64>,
    /// Local clock when the run started here, seconds.
    pub started_s: f64,
}

/// Distance from the eyes to a 360° video's hotspot markers, metres: inside the video sphere
/// ([`super::video360::SPHERE_RADIUS_M`]), so they show in front of the film.
pub const VIDEO_MARKER_DISTANCE_M: f32 = 3.0;

pub use boussole_scene::video_direction;

/// One immersion being run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The immersion.
    pub immersion: Arc<Immersion>,
    /// Its scene (`None` for a 360° video).
    pub scene: Option<Arc<SceneSpec>>,
    /// Its film, for a 360° video immersion.
    pub video: Option<VideoRun>,
    /// Who wears the headset.
    pub participant: Option<ParticipantId>,
    /// Clock when it started, seconds.
    pub started_s: f64,
    /// Clock when the visit started, seconds.
    pub visit_started_s: Option<f64>,
    /// Hotspots selected.
    pub seen: BTreeSet<HotspotId>,
    /// Tasks done, with whether the answer was right, in order.
    pub tasks_done: Vec<(TaskId, bool)>,
    /// Options picked (or steps placed, in order) for the current task.
    pub picks: Vec<ItemId>,
    /// Stimuli played.
    pub stimuli_played: BTreeSet<StimulusId>,
    /// Ratings given, in order.
    pub ratings: Vec<(QuestionId, u8)>,
    /// Whether the break prompt was shown.
    pub break_prompted: bool,
}

impl Run {
    /// The first task not done yet.
    pub fn current_task(&self) -> Option<&boussole_content::immersion::Task> {
        self.immersion.tasks.get(self.tasks_done.len())
    }
}

/// The headset's state.
#[derive(Resource, Debug, Default)]
pub struct HeadsetState {
    /// Where the run is.
    pub phase: Phase,
    /// The immersion running (kept in `Thanks` and `Stopped` until the next starts).
    pub run: Option<Run>,
    /// Immersions to run next (after the tutorial), with the director's start time.
    pub queue: Vec<(ImmersionId, Option<ParticipantId>, Option<u64>)>,
    /// Participants who did the tutorial (`""` for an unknown participant).
    pub tutorial_done: BTreeSet<String>,
    /// The caption shown, with the clock it leaves at (seconds; `None`: until replaced).
    pub caption: Option<(Caption, Option<f64>)>,
    /// The break prompt is shown.
    pub break_prompt: bool,
    /// Sounds decoded before the run started, by asset path.
    pub sounds: BTreeMap<AssetPath, CheckedSound>,
    /// The eyes' position (metres) and facing (degrees about Y; 0 looks towards -Z).
    pub eye: Vec3,
    /// Facing, degrees about Y.
    pub yaw_deg: f32,
    /// The vignette is on until this clock, seconds.
    pub vignette_until: f64,
    /// A stop happened at this clock, seconds (the fade to the calm room).
    pub stopped_at: Option<f64>,
    /// The clock now, seconds (from `Time`).
    pub now_s: f64,
    /// What the director was last told of the headset's health.
    pub health: Option<Health>,
    /// Whether the XR fallback was told to the director.
    pub told_xr: bool,
    /// The scene the world shows now (`None`: the calm room, or the film); the view rebuilds
    /// on change.
    pub shown_scene: Option<Arc<SceneSpec>>,
    /// The 360° film the world shows now, instead of a scene.
    pub shown_video: Option<VideoRun>,
    /// The panel shown now.
    pub panel: Option<Panel>,
    /// The headset-guided puzzle shown now (in [`Phase::Guided`]).
    pub guided: Option<super::guided::GuidedPuzzle>,
    /// The headset-guided puzzle open for this headset's station now, shown or not.
    pub guided_open: Option<super::guided::GuidedPuzzle>,
    /// Headset-guided puzzles whose view the director was told was shown.
    pub guided_seen: BTreeSet<PuzzleId>,
    /// Headset-guided puzzles the facilitator was told wait for an immersion to end.
    pub guided_told: BTreeSet<PuzzleId>,
    /// The facilitator paused this headset at this clock, seconds: the view rests, the
    /// immersion holds (its clock, stimuli and film).
    pub paused_at: Option<f64>,
    /// The last resume, at this clock, seconds (the view fades back in).
    pub resumed_at: Option<f64>,
    /// The run is held because the OpenXR session stopped (headset taken off, asleep, runtime
    /// restarting): it resumes when the session runs again, unless the facilitator paused it.
    pub held_by_loss: bool,
    /// The facilitator's pause is on (apart from a hold by loss).
    pub facilitator_paused: bool,
    /// The facilitator stopped the immersion while a headset-guided puzzle waited for it:
    /// the puzzle's scene comes at once, without the wearer's « Revenir à l'énigme ».
    pub stopped_for_puzzle: bool,
}

impl HeadsetState {
    /// Whether a tutorial for `participant` is still to do.
    fn needs_tutorial(&self, participant: Option<&ParticipantId>) -> bool {
        !self
            .tutorial_done
            .contains(participant.map_or("", |p| p.as_str()))
    }
}

/// An entity of the running scene (hotspot markers, the floor): despawned when it ends.
#[derive(Component, Debug)]
pub struct SceneEntity;

/// A hotspot's marker.
#[derive(Component, Debug, Clone)]
pub struct HotspotMarker {
    /// The hotspot.
    pub hotspot: HotspotId,
    /// Its label.
    pub title: String,
}

/// The floor (teleport target).
#[derive(Component, Debug)]
pub struct Floor;

/// A button of the answer panel in the world.
#[derive(Component, Debug, Clone)]
pub struct PanelButtonEntity(pub PanelButton);

/// The participant's rig: where the eyes are and where they face. The flat camera sits on it.
#[derive(Component, Debug, Default)]
pub struct Rig;

/// The headset's logic systems (the preview adjusts the state after them).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeadsetLogic;

/// Adds the headset's logic.
pub(crate) fn plugin(app: &mut App) {
    // Seated eyes from the first frame, the calm room before any run too (in a headset the XR
    // tracking root follows the rig); `init_resource` below keeps it.
    app.insert_resource(HeadsetState {
        eye: Vec3::new(0.0, SEATED_EYE_M, 0.0),
        ..default()
    });
    app.init_resource::<HeadsetState>()
        .add_message::<HeadsetAction>()
        .add_plugins(super::guided::plugin)
        .add_systems(Startup, spawn_rig)
        .add_systems(
            Update,
            (
                tick,
                take_pauses,
                hold_while_lost,
                take_orders,
                take_actions,
                super::guided::placed,
                super::guided::follow,
                take_selects,
                play_stimuli,
                keep_panel,
                read_aloud,
                place_rig,
                report_health,
            )
                .chain()
                .in_set(HeadsetLogic)
                .in_set(GameSystems::Logic),
        );
}

fn spawn_rig(mut commands: Commands) {
    commands.spawn((
        Rig,
        Transform::from_xyz(0.0, SEATED_EYE_M, 0.0),
        Name::new("rig"),
    ));
}

fn tick(
    time: Res<Time>,
    mut state: ResMut<HeadsetState>,
    options: Res<LaunchOptions>,
    content: Res<GameContent>,
    mut actions: MessageWriter<HeadsetAction>,
    mut started: Local<bool>,
) {
    state.now_s = time.elapsed_secs_f64();
    let now = state.now_s;
    if let Some((_, Some(until))) = &state.caption
        && *until <= now
    {
        state.caption = None;
    }
    // `--immersion` starts one as soon as the content is there.
    if !*started
        && let Some(id) = &options.immersion
        && !content.immersions.is_empty()
    {
        *started = true;
        actions.write(HeadsetAction::Start {
            immersion: ImmersionId::from(id.as_str()),
            participant: options.participant.clone(),
            started_at_ms: None,
        });
    }
    let limit = state.run.as_ref().and_then(|r| {
        (!r.break_prompted
            && state.paused_at.is_none()
            && matches!(state.phase, Phase::Intro | Phase::Exploring))
        .then(|| r.started_s + f64::from(r.immersion.comfort.max_minutes.max(0.0)) * 60.0)
    });
    if let Some(limit) = limit
        && now >= limit
    {
        state.break_prompt = true;
        if let Some(run) = &mut state.run {
            run.break_prompted = true;
        }
    }
}

/// The facilitator's pause and resume. A pause cuts the sounds and holds the run; a resume
/// moves the run's clocks on by the pause (its stimuli and time limit carry on where they
/// were; a film without a director's clock too) and starts the ambience again. While the run
/// is held because the headset's session stopped, a resume only lifts the facilitator's part.
fn take_pauses(
    mut orders: MessageReader<PauseOrder>,
    mut state: ResMut<HeadsetState>,
    mut stops: MessageWriter<StopAllCues>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
) {
    for PauseOrder(paused) in orders.read().copied() {
        let now = state.now_s;
        state.facilitator_paused = paused;
        match (paused, state.paused_at) {
            (true, None) => {
                info!("pause demandée par l'animateur");
                state.paused_at = Some(now);
                stops.write(StopAllCues);
            }
            (false, Some(_)) if !state.held_by_loss => {
                info!("reprise demandée par l'animateur");
                resume(&mut state, audio.as_deref(), &mut sounds);
            }
            _ => {}
        }
    }
}

/// Lifts a pause: the run's clocks move on by the time held, the ambience starts again.
fn resume(
    state: &mut HeadsetState,
    audio: Option<&AudioOutput>,
    sounds: &mut Option<MessageWriter<PlaySound>>,
) {
    let Some(since) = state.paused_at else { return };
    let now = state.now_s;
    let held = now - since;
    state.paused_at = None;
    state.resumed_at = Some(now);
    if let Some(run) = state.run.as_mut() {
        run.started_s += held;
        if let Some(v) = run.visit_started_s.as_mut() {
            *v += held;
        }
        if let Some(video) = run.video.as_mut() {
            video.started_s += held;
        }
    }
    if let Some(video) = state.shown_video.as_mut() {
        video.started_s += held;
    }
    if let Some((_, Some(until))) = state.caption.as_mut() {
        *until += held;
    }
    start_ambience(state, audio, sounds);
}

/// What the facilitator reads when a headset's session stops mid-run.
pub const SESSION_LOST: &str = "la session du casque s'est arrêtée (casque retiré, en veille, ou     le runtime OpenXR redémarre) : l'immersion est en pause jusqu'à son retour";

/// What the facilitator reads when it comes back.
pub const SESSION_BACK: &str = "la session du casque est revenue : l'immersion reprend";

/// A headset lost mid-run: while its OpenXR session is stopped the immersion holds like a
/// facilitator's pause, the director is told at once (the link stays up: it is the app's, not
/// the session's), and it resumes when the session runs again — unless the facilitator paused
/// it meanwhile.
fn hold_while_lost(
    live: Option<Res<XrSessionLive>>,
    mut state: ResMut<HeadsetState>,
    mut stops: MessageWriter<StopAllCues>,
    mut reports: MessageWriter<Report>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
) {
    let live = live.is_none_or(|l| l.0);
    let running = state.run.is_some() && !matches!(state.phase, Phase::Stopped | Phase::Thanks);
    if !live && running && !state.held_by_loss {
        warn!("{SESSION_LOST}");
        state.held_by_loss = true;
        if state.paused_at.is_none() {
            state.paused_at = Some(state.now_s);
            stops.write(StopAllCues);
        }
        reports.write(Report(DeviceEvent::Problem {
            what: SESSION_LOST.to_owned(),
        }));
    } else if live && state.held_by_loss {
        info!("{SESSION_BACK}");
        state.held_by_loss = false;
        reports.write(Report(DeviceEvent::Problem {
            what: SESSION_BACK.to_owned(),
        }));
        if !state.facilitator_paused {
            resume(&mut state, audio.as_deref(), &mut sounds);
        }
    }
}

/// Turns the director's orders into actions: a start of the immersion already running (sent
/// again on reconnection) changes nothing but where its film starts (moved on after a pause).
fn take_orders(
    mut orders: MessageReader<ImmersionOrder>,
    mut state: ResMut<HeadsetState>,
    mut actions: MessageWriter<HeadsetAction>,
) {
    for order in orders.read() {
        match &order.immersion {
            Some(immersion) => {
                // The director saw this participant finish a tutorial (maybe on another
                // headset): not again.
                if order.tutorial_done {
                    let who = order.participant.as_ref().map_or("", |p| p.as_str());
                    state.tutorial_done.insert(who.to_owned());
                }
                let running = state.run.as_ref().is_some_and(|r| {
                    r.immersion.id == *immersion
                        && !matches!(state.phase, Phase::Stopped | Phase::Thanks)
                });
                if running && let Some(start) = order.started_at_ms {
                    if let Some(video) = state.run.as_mut().and_then(|r| r.video.as_mut()) {
                        video.started_at_ms = Some(start);
                    }
                    if let Some(video) = state.shown_video.as_mut() {
                        video.started_at_ms = Some(start);
                    }
                }
                let queued = state.queue.iter().any(|(i, _, _)| i == immersion);
                if !running && !queued {
                    actions.write(HeadsetAction::Start {
                        immersion: immersion.clone(),
                        participant: order.participant.clone(),
                        started_at_ms: order.started_at_ms,
                    });
                }
            }
            None => {
                // The facilitator chose the puzzle that waited over the immersion.
                if state.guided_open.is_some()
                    && matches!(
                        state.phase,
                        Phase::Intro | Phase::Exploring | Phase::Questionnaire(_)
                    )
                {
                    state.stopped_for_puzzle = true;
                }
                actions.write(HeadsetAction::Stop);
            }
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "starting a run touches the content, the scene entities, the sounds and the reports"
)]
fn take_actions(
    mut actions: MessageReader<HeadsetAction>,
    mut state: ResMut<HeadsetState>,
    content: Res<GameContent>,
    mode: Option<Res<XrMode>>,
    mut commands: Commands,
    scene_entities: Query<Entity, With<SceneEntity>>,
    mut reports: MessageWriter<Report>,
    mut connection: ResMut<Connection>,
    mut stops: MessageWriter<StopAllCues>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
) {
    let flat = mode.is_none_or(|m| !matches!(*m, XrMode::Headset));
    for action in actions.read().cloned().collect::<Vec<_>>() {
        match action {
            HeadsetAction::Start {
                immersion,
                participant,
                started_at_ms,
            } => {
                let Some(wanted) = content.immersion(immersion.as_str()) else {
                    let what = format!("immersion {immersion} absente du contenu de ce casque");
                    connection.notices.push(what.clone());
                    reports.write(Report(DeviceEvent::Problem { what }));
                    continue;
                };
                let wanted_id = wanted.id.clone();
                let first = match content.tutorial() {
                    Some(t) if !wanted.tutorial && state.needs_tutorial(participant.as_ref()) => {
                        state
                            .queue
                            .push((immersion, participant.clone(), started_at_ms));
                        t
                    }
                    _ => wanted,
                };
                // The director's start time is the wanted immersion's, not the tutorial's.
                let started_at_ms = if first.id == wanted_id {
                    started_at_ms
                } else {
                    None
                };
                start_run(
                    &mut state,
                    &content,
                    first,
                    participant,
                    started_at_ms,
                    &mut commands,
                    &scene_entities,
                    &mut reports,
                );
                // The workplace's ambient sound, looped, when it decoded.
                stops.write(StopAllCues);
                start_ambience(&state, audio.as_deref(), &mut sounds);
                // A film has no introduction panel (it plays on the director's clock, in step
                // with the other headsets): the introduction is read over it.
                if state.phase == Phase::Exploring
                    && let Some(run) = &state.run
                {
                    let intro = run.immersion.introduction.audio.clone();
                    play(&state, intro.as_ref(), audio.as_deref(), &mut sounds);
                }
            }
            HeadsetAction::Stop => {
                if matches!(state.phase, Phase::Stopped | Phase::Waiting) {
                    continue;
                }
                info!("arrêt : salle calme");
                state.phase = Phase::Stopped;
                state.guided = None;
                state.stopped_at = Some(state.now_s);
                state.caption = None;
                state.break_prompt = false;
                state.queue.clear();
                clear_scene(&mut state, &mut commands, &scene_entities);
                // Silence at once: narration, stimuli and ambience.
                stops.write(StopAllCues);
            }
            HeadsetAction::Replay => {
                if state.phase == Phase::Guided {
                    super::guided::show_view(&mut state);
                }
                let voice = state.panel.as_ref().and_then(|p| p.voice.clone());
                play(&state, voice.as_ref(), audio.as_deref(), &mut sounds);
            }
            HeadsetAction::Turn(direction) => {
                let allowed = flat
                    || state
                        .run
                        .as_ref()
                        .is_some_and(|r| r.immersion.comfort.locomotion != Locomotion::Stationary);
                if allowed && direction != 0 {
                    state.yaw_deg =
                        (state.yaw_deg - f32::from(direction.signum()) * SNAP_TURN_DEG) % 360.0;
                    state.vignette_until = state.now_s + VIGNETTE_S;
                }
            }
        }
    }
}

/// Despawns the running scene's entities and puts the eyes back at the calm room's seat.
pub(super) fn clear_scene(
    state: &mut HeadsetState,
    commands: &mut Commands,
    scene_entities: &Query<Entity, With<SceneEntity>>,
) {
    for e in scene_entities {
        commands.entity(e).despawn();
    }
    state.shown_scene = None;
    state.shown_video = None;
    state.eye = Vec3::new(0.0, SEATED_EYE_M, 0.0);
    state.yaw_deg = 0.0;
}

/// Every sound an immersion may play: narration of each text, stimuli, the ambience.
pub fn sounds_of(immersion: &Immersion, scene: Option<&SceneSpec>) -> BTreeSet<AssetPath> {
    let mut out: BTreeSet<AssetPath> = immersion
        .texts()
        .into_iter()
        .filter_map(|t: &Text| t.audio.clone())
        .collect();
    out.extend(immersion.stimuli.iter().filter_map(|s| s.sound.clone()));
    out.extend(scene.and_then(|s| s.ambience.clone()));
    out
}

#[expect(
    clippy::too_many_arguments,
    reason = "a run's start needs the content, who and when, the scene entities and the reports"
)]
fn start_run(
    state: &mut HeadsetState,
    content: &GameContent,
    immersion: Arc<Immersion>,
    participant: Option<ParticipantId>,
    started_at_ms: Option<u64>,
    commands: &mut Commands,
    scene_entities: &Query<Entity, With<SceneEntity>>,
    reports: &mut MessageWriter<Report>,
) {
    clear_scene(state, commands, scene_entities);
    let mut video = None;
    let scene = match &immersion.source {
        boussole_content::immersion::ImmersionSource::Scene { scene } => {
            let found = content.scene(scene.as_str());
            if found.is_none() {
                reports.write(Report(DeviceEvent::Problem {
                    what: format!(
                        "immersion {} : scène {scene} absente du contenu de ce casque",
                        immersion.id
                    ),
                }));
            }
            found
        }
        boussole_content::immersion::ImmersionSource::Video360 {
            file,
            stereo,
            anchors,
        } => {
            video = Some(VideoRun {
                immersion: immersion.id.clone(),
                file: file.clone(),
                stereo: *stereo,
                started_at_ms,
                started_s: state.now_s,
            });
            // The viewer stays at the centre of the film: the eyes' height only.
            let eye_y = match immersion.comfort.posture {
                Posture::Seated => SEATED_EYE_M,
                Posture::Standing => STANDING_EYE_M,
            };
            state.eye = Vec3::new(0.0, eye_y, 0.0);
            state.yaw_deg = 0.0;
            for hotspot in &immersion.hotspots {
                let Some(anchor) = anchors.iter().find(|a| a.id == hotspot.anchor) else {
                    continue;
                };
                let at = state.eye
                    + video_direction(anchor.yaw_deg, anchor.pitch_deg) * VIDEO_MARKER_DISTANCE_M;
                commands.spawn((
                    SceneEntity,
                    HotspotMarker {
                        hotspot: hotspot.id.clone(),
                        title: hotspot.title.fr.clone(),
                    },
                    Transform::from_translation(at),
                    Interactable::Sphere { radius: 0.22 },
                    Name::new(format!("hotspot {}", hotspot.id)),
                ));
            }
            None
        }
    };
    // Preload: every sound is read and decoded before the scene shows (a hitch in a headset
    // makes people sick); the ones that fail are told to the director once, together.
    let failed = preload(state, content, sounds_of(&immersion, scene.as_deref()));
    if !failed.is_empty() {
        error!("{}", failed.join("\n"));
        reports.write(Report(DeviceEvent::Problem {
            what: format!(
                "immersion {} : {} son(s) illisible(s), texte affiché sans voix — {}",
                immersion.id,
                failed.len(),
                failed.join(" ; ")
            ),
        }));
    }
    if let Some(spec) = &scene {
        let eye_y = match immersion.comfort.posture {
            Posture::Seated => SEATED_EYE_M,
            Posture::Standing => spec.spawn.position.1,
        };
        state.eye = Vec3::new(spec.spawn.position.0, eye_y, spec.spawn.position.2);
        state.yaw_deg = spec.spawn.yaw_deg;
        for hotspot in &immersion.hotspots {
            let Some(anchor) = spec.anchors.iter().find(|a| a.id == hotspot.anchor) else {
                continue;
            };
            let (x, y, z) = anchor.position;
            commands.spawn((
                SceneEntity,
                HotspotMarker {
                    hotspot: hotspot.id.clone(),
                    title: hotspot.title.fr.clone(),
                },
                Transform::from_xyz(x, y, z),
                Interactable::Sphere { radius: 0.22 },
                Name::new(format!("hotspot {}", hotspot.id)),
            ));
        }
        if immersion.comfort.locomotion == Locomotion::Teleport {
            let (min, max) = (spec.bounds.min, spec.bounds.max);
            commands.spawn((
                SceneEntity,
                Floor,
                Transform::from_xyz((min.0 + max.0) / 2.0, min.1, (min.2 + max.2) / 2.0),
                Interactable::Box {
                    half_extents: Vec3::new((max.0 - min.0) / 2.0, 0.01, (max.2 - min.2) / 2.0),
                },
                Name::new("sol"),
            ));
        }
    }
    state.shown_scene = scene;
    state.shown_video = video.clone();
    state.caption = None;
    state.break_prompt = false;
    state.stopped_at = None;
    // A film plays on the director's clock: its visit starts at once, the introduction read
    // over it rather than on a panel that would hold the participant back.
    let visit_started_s = if video.is_some() {
        state.phase = Phase::Exploring;
        state.caption = Some((
            Caption {
                title: immersion.title.fr.clone(),
                text: immersion.introduction.fr.clone(),
            },
            Some(state.now_s + STIMULUS_READ_S * 2.0),
        ));
        Some(state.now_s)
    } else {
        state.phase = Phase::Intro;
        None
    };
    state.run = Some(Run {
        immersion,
        scene: state.shown_scene.clone(),
        video,
        participant,
        started_s: state.now_s,
        visit_started_s,
        seen: BTreeSet::new(),
        tasks_done: Vec::new(),
        picks: Vec::new(),
        stimuli_played: BTreeSet::new(),
        ratings: Vec::new(),
        break_prompted: false,
    });
}

/// The gain of a scene's ambience in an immersion, dB: present, under the narration.
pub const AMBIENCE_DB: f32 = -6.0;
/// The gain of a headset-guided puzzle's ambience, dB: lower, the wearer must hear the team.
pub const GUIDED_AMBIENCE_DB: f32 = -12.0;

/// Starts the shown scene's ambient sound, looped, when it decoded and there is an output
/// (quieter in a headset-guided puzzle).
pub(super) fn start_ambience(
    state: &HeadsetState,
    audio: Option<&AudioOutput>,
    sounds: &mut Option<MessageWriter<PlaySound>>,
) {
    let ambience = state.shown_scene.as_ref().and_then(|s| s.ambience.as_ref());
    if let Some(sound) = ambience.and_then(|a| state.sounds.get(a).cloned())
        && audio.is_some_and(|a| a.available)
        && let Some(sounds) = sounds.as_mut()
    {
        sounds.write(PlaySound {
            instance: 0,
            sound,
            volume_db: if state.phase == Phase::Guided {
                GUIDED_AMBIENCE_DB
            } else {
                AMBIENCE_DB
            },
            looped: true,
            from: std::time::Duration::ZERO,
        });
    }
}

/// Reads and decodes `paths` (under `assets/`) into [`HeadsetState::sounds`], in place of
/// what was there; returns why each that failed did (French, naming the file).
pub(super) fn preload(
    state: &mut HeadsetState,
    content: &GameContent,
    paths: impl IntoIterator<Item = AssetPath>,
) -> Vec<String> {
    state.sounds.clear();
    let mut failed = Vec::new();
    for path in paths {
        match check_sound(&content.assets.join(path.as_str())) {
            Ok(sound) => {
                state.sounds.insert(path, sound);
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    failed
}

/// Plays a preloaded sound, when there is an output.
pub(super) fn play(
    state: &HeadsetState,
    text: Option<&AssetPath>,
    audio: Option<&AudioOutput>,
    sounds: &mut Option<MessageWriter<PlaySound>>,
) {
    let Some(sound) = text.and_then(|p| state.sounds.get(p)) else {
        return;
    };
    if audio.is_some_and(|a| a.available)
        && let Some(sounds) = sounds.as_mut()
    {
        sounds.write(PlaySound {
            instance: 0,
            sound: sound.clone(),
            volume_db: 0.0,
            looped: false,
            from: std::time::Duration::ZERO,
        });
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "a select can touch the run, the rig, the reports and the sounds"
)]
fn take_selects(
    mut selects: MessageReader<Select>,
    mut state: ResMut<HeadsetState>,
    hotspots: Query<&HotspotMarker>,
    floors: Query<(), With<Floor>>,
    buttons: Query<&PanelButtonEntity>,
    options: Res<LaunchOptions>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
    mut reports: MessageWriter<Report>,
    mut actions: MessageWriter<HeadsetAction>,
) {
    for select in selects.read() {
        // Paused: nothing to choose until the facilitator resumes.
        if state.paused_at.is_some() {
            continue;
        }
        if let Ok(button) = buttons.get(select.entity) {
            let voice = press(
                &mut state,
                &button.0.action,
                &options,
                &mut reports,
                &mut actions,
            );
            play(&state, voice.as_ref(), audio.as_deref(), &mut sounds);
            continue;
        }
        // The world waits while a panel asks something else first.
        let exploring = state.phase == Phase::Exploring && !state.break_prompt;
        if !exploring {
            continue;
        }
        if let Ok(marker) = hotspots.get(select.entity) {
            let Some(run) = state.run.as_mut() else {
                continue;
            };
            let Some(hotspot) = run
                .immersion
                .hotspots
                .iter()
                .find(|h| h.id == marker.hotspot)
                .cloned()
            else {
                continue;
            };
            if run.seen.insert(hotspot.id.clone()) {
                reports.write(Report(DeviceEvent::HotspotSeen {
                    immersion: run.immersion.id.clone(),
                    hotspot: hotspot.id.clone(),
                }));
            }
            // A hazard hunt counts hotspots found as picks.
            if let Some(TaskKind::SpotHazards { hazards }) =
                run.current_task().map(|t| t.kind.clone())
            {
                let id = ItemId::from(hotspot.id.as_str());
                if hazards.contains(&hotspot.id) && !run.picks.contains(&id) {
                    run.picks.push(id);
                }
            }
            state.caption = Some((
                Caption {
                    title: hotspot.title.fr.clone(),
                    text: hotspot.narration.fr.clone(),
                },
                None,
            ));
            play(
                &state,
                hotspot.narration.audio.as_ref(),
                audio.as_deref(),
                &mut sounds,
            );
        } else if floors.contains(select.entity) {
            let y = state.eye.y;
            state.eye = Vec3::new(select.point.x, y, select.point.z);
            state.vignette_until = state.now_s + VIGNETTE_S;
        }
    }
}

fn participant_of(run: &Run, options: &LaunchOptions) -> ParticipantId {
    run.participant
        .clone()
        .or_else(|| options.participant.clone())
        .unwrap_or_else(|| ParticipantId::from("inconnu"))
}

/// Whether the picks answer `kind` right.
pub fn task_correct(kind: &TaskKind, picks: &[ItemId]) -> bool {
    match kind {
        TaskKind::Choose { correct, .. } => {
            let a: BTreeSet<&ItemId> = picks.iter().collect();
            let b: BTreeSet<&ItemId> = correct.iter().collect();
            a == b
        }
        TaskKind::SpotHazards { hazards } => hazards
            .iter()
            .all(|h| picks.contains(&ItemId::from(h.as_str()))),
        TaskKind::Order { order, .. } => picks == order.as_slice(),
    }
}

/// Does what a panel button says; returns the voice to read, if any (a task's feedback).
fn press(
    state: &mut HeadsetState,
    action: &ButtonAction,
    options: &LaunchOptions,
    reports: &mut MessageWriter<Report>,
    actions: &mut MessageWriter<HeadsetAction>,
) -> Option<AssetPath> {
    let now = state.now_s;
    match action {
        ButtonAction::Replay => {
            super::guided::show_view(state);
            return state.guided.as_ref().and_then(|g| g.view.audio.clone());
        }
        ButtonAction::BackToPuzzle => {
            if state.phase == Phase::Stopped && state.guided_open.is_some() {
                state.phase = Phase::Waiting;
                state.stopped_at = None;
            }
        }
        ButtonAction::KeepGoing => state.break_prompt = false,
        ButtonAction::TakeBreak => {
            actions.write(HeadsetAction::Stop);
        }
        ButtonAction::Begin => {
            if state.phase == Phase::Intro {
                state.phase = Phase::Exploring;
                if let Some(run) = &mut state.run {
                    run.visit_started_s = Some(now);
                }
            }
        }
        ButtonAction::Pick(item) => {
            let run = state.run.as_mut()?;
            if let Some(pos) = run.picks.iter().position(|p| p == item) {
                run.picks.remove(pos);
            } else {
                run.picks.push(item.clone());
            }
        }
        ButtonAction::Validate => {
            let run = state.run.as_mut()?;
            let task = run.current_task().cloned()?;
            let correct = task_correct(&task.kind, &run.picks);
            run.tasks_done.push((task.id.clone(), correct));
            run.picks.clear();
            reports.write(Report(DeviceEvent::TaskDone {
                immersion: run.immersion.id.clone(),
                task: task.id.clone(),
                correct,
            }));
            state.caption = Some((
                Caption {
                    title: if correct {
                        "Bien joué !".into()
                    } else {
                        "Voici la bonne réponse".into()
                    },
                    text: task.feedback.fr.clone(),
                },
                Some(now + STIMULUS_READ_S * 2.0),
            ));
            return task.feedback.audio.clone();
        }
        ButtonAction::FinishVisit => {
            state.phase = Phase::Questionnaire(0);
            state.caption = None;
        }
        ButtonAction::Rate(value) => {
            let Phase::Questionnaire(i) = state.phase else {
                return None;
            };
            let run = state.run.as_mut()?;
            let q = &run.immersion.questionnaire;
            let question = if i == 0 {
                QuestionId::from(APPEAL)
            } else if let Some(s) = q.stress.get(i - 1) {
                s.id.clone()
            } else {
                return None;
            };
            run.ratings.push((question.clone(), *value));
            reports.write(Report(DeviceEvent::ImmersionRating {
                immersion: run.immersion.id.clone(),
                question,
                participant: participant_of(run, options),
                value: *value,
            }));
            state.phase = Phase::Questionnaire(i + 1);
        }
        ButtonAction::EndQuestionnaire => {
            state.phase = Phase::Thanks;
            if let Some(run) = &state.run
                && run.immersion.tutorial
            {
                let key = run
                    .participant
                    .as_ref()
                    .map_or(String::new(), ToString::to_string);
                state.tutorial_done.insert(key);
            }
        }
        ButtonAction::Next => {
            if !state.queue.is_empty() {
                let (immersion, participant, started_at_ms) = state.queue.remove(0);
                // A queued immersion comes after a tutorial: it never leads to another one.
                state.tutorial_done.insert(
                    participant
                        .as_ref()
                        .map_or(String::new(), ToString::to_string),
                );
                actions.write(HeadsetAction::Start {
                    immersion,
                    participant,
                    started_at_ms,
                });
            }
        }
    }
    None
}

fn play_stimuli(
    mut state: ResMut<HeadsetState>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
) {
    if state.phase != Phase::Exploring || state.paused_at.is_some() {
        return;
    }
    let now = state.now_s;
    let Some(run) = state.run.as_mut() else {
        return;
    };
    let Some(start) = run.visit_started_s else {
        return;
    };
    let due: Vec<_> = run
        .immersion
        .stimuli
        .iter()
        .filter(|s| now - start >= f64::from(s.at_s) && !run.stimuli_played.contains(&s.id))
        .cloned()
        .collect();
    for s in due {
        if let Some(run) = state.run.as_mut() {
            run.stimuli_played.insert(s.id.clone());
        }
        let read = f64::from(s.duration_s).max(STIMULUS_READ_S);
        state.caption = Some((
            Caption {
                title: format!("Dans ce métier : {}", s.kind.label_fr()),
                text: s.description.fr.clone(),
            },
            Some(now + read),
        ));
        play(&state, s.sound.as_ref(), audio.as_deref(), &mut sounds);
        play(
            &state,
            s.description.audio.as_ref(),
            audio.as_deref(),
            &mut sounds,
        );
    }
}

/// How dark the edges are now, 0 to 0.85: 0.85 at a turn or a teleport, fading to 0 over
/// [`VIGNETTE_S`]; always 0 when the immersion turns its vignette off.
pub fn vignette_level(state: &HeadsetState) -> f32 {
    let now = state.now_s;
    let on = state.vignette_until > now
        && state
            .run
            .as_ref()
            .is_none_or(|r| r.immersion.comfort.vignette);
    if on {
        (0.85 * ((state.vignette_until - now) / VIGNETTE_S).clamp(0.0, 1.0)) as f32
    } else {
        0.0
    }
}

/// How black the view is: after a stop, 1 at the stop to 0 after [`FADE_S`]; while paused,
/// rising to [`PAUSE_DIM`] over [`FADE_S`], and back to 0 over [`FADE_S`] after the resume;
/// 0 otherwise.
pub fn fade_level(state: &HeadsetState) -> f32 {
    let ramp = |since: f64| ((state.now_s - since) / FADE_S).clamp(0.0, 1.0) as f32;
    let stop = state.stopped_at.map_or(0.0, |at| 1.0 - ramp(at));
    let pause = match (state.paused_at, state.resumed_at) {
        (Some(at), _) => PAUSE_DIM * ramp(at),
        (None, Some(at)) => PAUSE_DIM * (1.0 - ramp(at)),
        (None, None) => 0.0,
    };
    stop.max(pause)
}

/// The panel `state` asks for now.
pub fn panel_of(state: &HeadsetState) -> Option<Panel> {
    let button = |action, label: &str, chosen| PanelButton {
        action,
        label: label.to_owned(),
        chosen,
        voice: None,
        pictogram: None,
    };
    // An answer from the content: its words, voice and pictogram.
    let said = |action, text: &Text, label: String, chosen| PanelButton {
        action,
        label,
        chosen,
        voice: text.audio.clone(),
        pictogram: text.pictogram.clone(),
    };
    let asked = |title: String, text: &Text, buttons| Panel {
        title,
        text: text.fr.clone(),
        buttons,
        voice: text.audio.clone(),
        pictogram: text.pictogram.clone(),
    };
    if state.paused_at.is_some() {
        return Some(Panel {
            title: "Pause".into(),
            text: "On fait une pause. Tu peux te reposer, les yeux fermés si tu veux. \
                   L'animateur reprend quand tout le monde est prêt."
                .into(),
            ..Panel::default()
        });
    }
    if state.break_prompt {
        let minutes = state
            .run
            .as_ref()
            .map_or(0.0, |r| r.immersion.comfort.max_minutes);
        return Some(Panel {
            title: "Pause ?".into(),
            text: format!("Tu es dans le casque depuis {minutes:.0} minutes. On fait une pause ?"),
            buttons: vec![
                button(ButtonAction::TakeBreak, "Faire une pause", false),
                button(ButtonAction::KeepGoing, "Continuer", false),
            ],
            ..Panel::default()
        });
    }
    let run = state.run.as_ref();
    match state.phase {
        // The view is the caption (the scene stays clear); the panel is its voice and the
        // button that reads it again.
        Phase::Guided => {
            let guided = state.guided.as_ref()?;
            Some(Panel {
                title: guided.title.fr.clone(),
                voice: guided.view.audio.clone(),
                buttons: vec![button(ButtonAction::Replay, "Réécouter", false)],
                ..Panel::default()
            })
        }
        // A wearer who stopped during a headset-guided puzzle comes back when ready.
        Phase::Stopped if state.guided_open.is_some() => Some(Panel {
            buttons: vec![button(
                ButtonAction::BackToPuzzle,
                "Revenir à l'énigme",
                false,
            )],
            ..Panel::default()
        }),
        Phase::Waiting | Phase::Stopped => None,
        Phase::Intro => {
            let run = run?;
            Some(asked(
                run.immersion.title.fr.clone(),
                &run.immersion.introduction,
                vec![button(ButtonAction::Begin, "Commencer", false)],
            ))
        }
        Phase::Exploring => {
            let run = run?;
            let total = run.immersion.tasks.len();
            match run.current_task() {
                Some(task) => {
                    let n = run.tasks_done.len() + 1;
                    let mut buttons = Vec::new();
                    match &task.kind {
                        TaskKind::Choose { options, .. } => {
                            for o in options {
                                buttons.push(said(
                                    ButtonAction::Pick(o.id.clone()),
                                    &o.text,
                                    o.text.fr.clone(),
                                    run.picks.contains(&o.id),
                                ));
                            }
                        }
                        TaskKind::Order { steps, .. } => {
                            for s in steps {
                                let place = run.picks.iter().position(|p| *p == s.id);
                                let label = match place {
                                    Some(i) => format!("{}. {}", i + 1, s.text.fr),
                                    None => s.text.fr.clone(),
                                };
                                buttons.push(said(
                                    ButtonAction::Pick(s.id.clone()),
                                    &s.text,
                                    label,
                                    place.is_some(),
                                ));
                            }
                        }
                        TaskKind::SpotHazards { hazards } => {
                            let found = run.picks.len();
                            buttons.push(button(
                                ButtonAction::Validate,
                                &format!("J'ai fini ({found} sur {} trouvés)", hazards.len()),
                                false,
                            ));
                        }
                    }
                    if !matches!(task.kind, TaskKind::SpotHazards { .. }) {
                        buttons.push(button(
                            ButtonAction::Validate,
                            "Valider",
                            !run.picks.is_empty(),
                        ));
                    }
                    Some(asked(
                        format!("Tâche {n} sur {total}"),
                        &task.instruction,
                        buttons,
                    ))
                }
                None => {
                    let seen = run.seen.len();
                    let all = run.immersion.hotspots.len();
                    Some(Panel {
                        title: format!("Points vus : {seen} sur {all}"),
                        text: if seen < all {
                            "Vise les ronds jaunes pour découvrir le métier. Quand tu veux, \
                             termine la visite."
                                .into()
                        } else {
                            "Tu as tout vu. Tu peux terminer la visite.".into()
                        },
                        buttons: vec![button(
                            ButtonAction::FinishVisit,
                            "Terminer la visite",
                            false,
                        )],
                        ..Panel::default()
                    })
                }
            }
        }
        Phase::Questionnaire(i) => {
            let run = run?;
            let q = &run.immersion.questionnaire;
            let count = q.stress.len() + 2;
            let title = format!("Question {} sur {count}", i + 1);
            // Each answer with its pictogram, read aloud when the ray rests on it.
            let rating = |text: &Text| {
                let buttons = q
                    .scale
                    .iter()
                    .enumerate()
                    .map(|(k, t)| {
                        let value = u8::try_from(k + 1).unwrap_or(u8::MAX);
                        said(ButtonAction::Rate(value), t, t.fr.clone(), false)
                    })
                    .collect();
                Some(asked(title.clone(), text, buttons))
            };
            if i == 0 {
                rating(&q.appeal)
            } else if let Some(s) = q.stress.get(i - 1) {
                rating(&s.text)
            } else {
                Some(Panel {
                    text: format!("{} Dis-le à l'animateur.", q.comment.fr),
                    ..asked(
                        title,
                        &q.comment,
                        vec![button(ButtonAction::EndQuestionnaire, "J'ai fini", false)],
                    )
                })
            }
        }
        Phase::Thanks => Some(Panel {
            title: "Merci !".into(),
            text: if state.queue.is_empty() {
                "C'est fini. Tu peux enlever le casque doucement. L'animateur t'aide.".into()
            } else {
                "Bravo ! Tu connais le casque. On passe à la suite ?".into()
            },
            buttons: if state.queue.is_empty() {
                Vec::new()
            } else {
                vec![button(ButtonAction::Next, "Continuer", false)]
            },
            ..Panel::default()
        }),
    }
}

/// Where the panel's buttons go: centres in the panel's plane (metres, x right, y up, the
/// eyes' height at 0) and the size of each. Short labels sit in a row just below the eyes;
/// long ones in one column, or two beyond three buttons, from a little above the eyes, so
/// that the text at the top and the caption at the bottom of a flat view leave them clear.
pub fn button_layout(buttons: &[PanelButton]) -> Vec<(Vec2, Vec2)> {
    let n = buttons.len();
    // « Réécouter » alone stands in the top right corner: the puzzle's scene stays clear.
    if let [only] = buttons
        && only.action == ButtonAction::Replay
    {
        return vec![(Vec2::new(0.68, 0.42), Vec2::new(0.36, 0.12))];
    }
    let long = buttons.iter().any(|b| b.label.chars().count() > 16);
    let gap = 0.03;
    if long {
        let columns = if n > 3 { 2 } else { 1 };
        let size = Vec2::new(if columns == 2 { 0.8 } else { 1.2 }, 0.11);
        let top = 0.3;
        (0..n)
            .map(|i| {
                let (row, col) = (i / columns, i % columns);
                let x = if columns == 2 {
                    (col as f32 - 0.5) * (size.x + gap)
                } else {
                    0.0
                };
                let y = top - row as f32 * (size.y + gap);
                (Vec2::new(x, y), size)
            })
            .collect()
    } else {
        let size = Vec2::new(if n > 3 { 0.3 } else { 0.42 }, 0.18);
        let width = n as f32 * size.x + (n.saturating_sub(1)) as f32 * gap;
        (0..n)
            .map(|i| {
                let x = -width / 2.0 + size.x / 2.0 + i as f32 * (size.x + gap);
                (Vec2::new(x, -0.08), size)
            })
            .collect()
    }
}

/// The panel's frame: in front of the eyes at [`PANEL_DISTANCE_M`], at their height, facing
/// the participant.
pub fn panel_frame(eye: Vec3, yaw_deg: f32) -> Transform {
    let rotation = Quat::from_rotation_y(yaw_deg.to_radians());
    let forward = rotation * Vec3::NEG_Z;
    Transform::from_translation(eye + forward * PANEL_DISTANCE_M).with_rotation(rotation)
}

fn keep_panel(
    mut state: ResMut<HeadsetState>,
    mut commands: Commands,
    buttons: Query<Entity, With<PanelButtonEntity>>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
) {
    let next = panel_of(&state);
    if state.panel == next {
        return;
    }
    // A new question or instruction is read aloud (not a pick that only recolours a button).
    let asks = |p: &Option<Panel>| p.as_ref().map(|p| (p.title.clone(), p.text.clone()));
    if asks(&next) != asks(&state.panel)
        && let Some(voice) = next.as_ref().and_then(|p| p.voice.clone())
    {
        play(&state, Some(&voice), audio.as_deref(), &mut sounds);
    }
    for e in &buttons {
        commands.entity(e).despawn();
    }
    if let Some(panel) = &next {
        let frame = panel_frame(state.eye, state.yaw_deg);
        for (b, (centre, size)) in panel.buttons.iter().zip(button_layout(&panel.buttons)) {
            let at = frame.transform_point(centre.extend(0.0));
            commands.spawn((
                PanelButtonEntity(b.clone()),
                Transform::from_translation(at).with_rotation(frame.rotation),
                Interactable::Box {
                    half_extents: (size / 2.0).extend(0.03),
                },
                Name::new(format!("bouton {}", b.label)),
            ));
        }
    }
    state.panel = next;
}

/// Reads an answer aloud when the ray comes to rest on its button (once per arrival), so that
/// a participant who reads poorly hears each choice before choosing.
fn read_aloud(
    state: Res<HeadsetState>,
    pointer: Res<super::pointer::Pointer>,
    buttons: Query<&PanelButtonEntity>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
    mut last: Local<Option<Entity>>,
) {
    let now = pointer.hovered.map(|(e, _)| e);
    if now == *last {
        return;
    }
    *last = now;
    if let Some(button) = now.and_then(|e| buttons.get(e).ok()) {
        play(
            &state,
            button.0.voice.as_ref(),
            audio.as_deref(),
            &mut sounds,
        );
    }
}

fn place_rig(state: Res<HeadsetState>, mut rigs: Query<&mut Transform, With<Rig>>) {
    let want = Transform::from_translation(state.eye)
        .with_rotation(Quat::from_rotation_y(state.yaw_deg.to_radians()));
    for mut t in &mut rigs {
        if *t != want {
            *t = want;
        }
    }
}

/// Tells the director when the headset's health changes, and once that XR fell back.
fn report_health(
    mut state: ResMut<HeadsetState>,
    mode: Option<Res<XrMode>>,
    audio: Option<Res<AudioOutput>>,
    connection: Res<Connection>,
    mut reports: MessageWriter<Report>,
) {
    let Some(mode) = mode else { return };
    if !state.told_xr
        && let XrMode::Flat {
            fallback: true,
            reason: Some(reason),
        } = &*mode
    {
        state.told_xr = true;
        reports.write(Report(DeviceEvent::Problem {
            what: reason.clone(),
        }));
    }
    let health = Health {
        audio_ok: audio.as_ref().is_some_and(|a| a.available),
        xr_flat_fallback: mode.is_fallback(),
        content_in_sync: connection.content_in_sync.unwrap_or(false),
        ..Health::default()
    };
    if state.health.as_ref() != Some(&health) {
        state.health = Some(health.clone());
        reports.write(Report(DeviceEvent::Health(health)));
    }
}
