//! OpenXR through `bevy_mod_openxr` 0.6: the headset role's XR plugins, whether XR really
//! started (and why not, in French, for the facilitator), the XR tracking root that follows the
//! logic's rig, and the controllers that feed
//! [`PointerInput`]. Nothing outside this file knows
//! about OpenXR: the rest of the headset reads [`XrMode`] (or the [`in_headset`] condition) and
//! the pointer layer.
//!
//! Start-up: `boussole-game --role headset` (no `--flat`) builds its app with [`xr_plugins`].
//! `bevy_mod_openxr` tries to load `libopenxr_loader.so` (at run time, with `dlopen`), create an
//! instance on the active runtime and find a head-mounted display while its plugins are built;
//! when any step fails it logs "Failed to initialize openxr: …", sets `XrState::Unavailable`
//! and renders to the normal window. [`start_of`] reads that outcome from the world and
//! [`choose_mode`] turns it into [`XrMode`]. A session that the runtime refuses later, or ends
//! for good, turns the mode into the same flat fallback (see [`plugin`]).

use crate::GameSystems;
use crate::headset::pointer::{PointerCamera, PointerInput, PointerSystems};
use crate::headset::state::{HeadsetAction, HeadsetLogic, Rig};
use bevy::app::PluginGroupBuilder;
use bevy::camera::visibility::RenderLayers;
use bevy::math::Isometry3d;
use bevy::prelude::*;
use bevy::window::{PresentMode, PrimaryWindow};
use bevy::winit::{UpdateMode, WinitSettings};
use bevy_mod_openxr::action_binding::{OxrSendActionBindings, OxrSuggestActionBinding};
use bevy_mod_openxr::action_set_attaching::OxrAttachActionSet;
use bevy_mod_openxr::action_set_syncing::{OxrActionSetSyncSet, OxrSyncActionSet};
use bevy_mod_openxr::init::OxrInitPlugin;
use bevy_mod_openxr::reference_space::OxrReferenceSpacePlugin;
use bevy_mod_openxr::resources::OxrInstance;
use bevy_mod_openxr::session::OxrSession;
use bevy_mod_openxr::types::AppInfo;
use bevy_mod_openxr::{openxr_session_available, openxr_session_running};
use bevy_mod_xr::camera::XrCamera;
use bevy_mod_xr::session::{
    XrPreDestroySession, XrSessionCreated, XrSessionCreatedMessage, XrState, XrStateChanged,
    XrTrackingRoot,
};
use bevy_mod_xr::spaces::{XrSpace, XrSpaceLocationFlags};
use std::borrow::Cow;
use std::path::PathBuf;

/// How this headset client shows its scenes.
#[derive(Resource, Debug, Clone, PartialEq, Eq)]
pub enum XrMode {
    /// In the headset, through OpenXR: an instance and a head-mounted system exist and the
    /// session follows the runtime's states. The PC's window keeps a flat mirror view.
    Headset,
    /// In a flat window with mouse and keyboard.
    Flat {
        /// Whether this is a fallback (XR was wanted and is unavailable) rather than `--flat`.
        fallback: bool,
        /// Why, in French, for the facilitator (`None` with `--flat`).
        reason: Option<String>,
    },
}

impl XrMode {
    /// Whether the director should hear `xr_flat_fallback: true`.
    pub fn is_fallback(&self) -> bool {
        matches!(self, Self::Flat { fallback: true, .. })
    }
}

/// The problem told to the director when XR falls back to a flat window.
pub const NO_XR_RUNTIME: &str = "pas de casque VR (OpenXR) : affichage à plat";

/// The problem told when OpenXR started but its session failed or was closed by the runtime.
pub const XR_SESSION_LOST: &str =
    "le casque VR s'est arrêté (session OpenXR refusée ou fermée) : affichage à plat";

/// What `bevy_mod_openxr` made of its start-up, read by [`start_of`] once its plugins are built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XrStart {
    /// Its plugins were not added (`--flat`, `--headless`, tests).
    NotTried,
    /// They were, and no loader, runtime or headset answered (`XrState::Unavailable`).
    Failed {
        /// The active runtime manifest the loader would have used, if any (for the message).
        runtime: Option<PathBuf>,
    },
    /// An OpenXR instance and a head-mounted system exist.
    Started,
}

/// Reads the start-up outcome from `world`, after [`xr_plugins`] (or plain `DefaultPlugins`)
/// were added: `bevy_mod_openxr` inserts `XrState` while its plugins are built, and
/// `OxrInstance` only when the instance was created.
pub fn start_of(world: &World) -> XrStart {
    match world.get_resource::<XrState>() {
        None => XrStart::NotTried,
        Some(state)
            if *state != XrState::Unavailable && world.contains_resource::<OxrInstance>() =>
        {
            XrStart::Started
        }
        Some(_) => XrStart::Failed {
            runtime: find_runtime(|k| std::env::var(k).ok()),
        },
    }
}

/// The active runtime manifest the OpenXR loader would use, if any (`env` reads a variable):
/// `XR_RUNTIME_JSON`, then `openxr/1/active_runtime.json` under `XDG_CONFIG_HOME` (or
/// `~/.config`) and `XDG_CONFIG_DIRS` (or `/etc/xdg`). Only used to say why XR failed.
pub fn find_runtime(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = env("XR_RUNTIME_JSON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let mut dirs = Vec::new();
    match env("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        Some(d) => dirs.push(PathBuf::from(d)),
        None => {
            if let Some(home) = env("HOME") {
                dirs.push(PathBuf::from(home).join(".config"));
            }
        }
    }
    let system = env("XDG_CONFIG_DIRS")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/etc/xdg".into());
    dirs.extend(system.split(':').map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("openxr/1/active_runtime.json"))
        .find(|p| p.is_file())
}

/// Decides how to show scenes: `flat` (`--flat`) skips XR; otherwise the real outcome of
/// [`start`](XrStart) decides, and a failure is a flat fallback with its French reason (logged
/// here in English).
pub fn choose_mode(flat: bool, start: XrStart) -> XrMode {
    if flat {
        return XrMode::Flat {
            fallback: false,
            reason: None,
        };
    }
    let reason = match start {
        XrStart::Started => {
            info!("OpenXR started: rendering in the headset");
            return XrMode::Headset;
        }
        XrStart::NotTried => {
            warn!("no XR plugins in this app (headless): flat instead");
            NO_XR_RUNTIME.to_owned()
        }
        XrStart::Failed { runtime: None } => {
            warn!("OpenXR did not start and no active runtime is set: flat window instead");
            NO_XR_RUNTIME.to_owned()
        }
        XrStart::Failed {
            runtime: Some(path),
        } => {
            warn!(
                "OpenXR did not start although runtime {} is active (headset off or unplugged, \
                 runtime not running, or no libopenxr_loader.so): flat window instead",
                path.display()
            );
            format!(
                "{NO_XR_RUNTIME} (runtime {} présent mais OpenXR n'a pas démarré : casque \
                 branché et allumé ? SteamVR ou Monado lancé ?)",
                path.display()
            )
        }
    };
    XrMode::Flat {
        fallback: true,
        reason: Some(reason),
    }
}

/// `plugins` (Bevy's `DefaultPlugins`, set up as the caller wants) with `bevy_mod_openxr`'s
/// XR plugins: its own render set-up replaces `RenderPlugin` (the normal one when OpenXR does
/// not start), the primary reference space is `LOCAL` (origin at the eyes when the session
/// starts, so the logic's seated eye height holds whatever the participant's height), and the
/// runtime sees the application as "Boussole".
pub fn xr_plugins(plugins: impl PluginGroup) -> PluginGroupBuilder {
    bevy_mod_openxr::add_xr_plugins(plugins)
        .set(OxrInitPlugin {
            app_info: AppInfo {
                name: Cow::Borrowed("Boussole"),
                ..AppInfo::default()
            },
            ..OxrInitPlugin::default()
        })
        .set(OxrReferenceSpacePlugin {
            default_primary_ref_space: openxr::ReferenceSpaceType::LOCAL,
        })
}

/// The render layer of what only the headset's eyes see (the board, the names, the comfort
/// shade): the PC's mirror window has its screen overlay instead. Bevy's layer 0 is the rest.
pub const HEADSET_ONLY: usize = 1;

/// Run condition: scenes show in the headset now.
pub fn in_headset(mode: Option<Res<XrMode>>) -> bool {
    mode.is_some_and(|m| *m == XrMode::Headset)
}

/// The headset role's XR systems (needs [`XrMode`] inserted first). Always: the tracking root
/// follows the [`Rig`], and a session the runtime refuses or ends for good turns the mode into
/// a flat fallback. When OpenXR started: the controllers' actions, the pointer feed, snap
/// turns on the thumbstick, a window that never slows the headset down, and Bevy's fallback
/// error handler set to `warn` (a refused session must not stop the app).
pub fn plugin(app: &mut App) {
    app.init_resource::<HeadPose>()
        .init_resource::<XrSessionLive>()
        .add_message::<XrSessionCreatedMessage>()
        .add_message::<XrStateChanged>()
        .add_systems(
            Update,
            follow_rig
                .after(HeadsetLogic)
                .in_set(GameSystems::Logic)
                .run_if(in_headset),
        )
        .add_systems(
            PreUpdate,
            (watch_session, watch_liveness).run_if(in_headset),
        );
    if app.world().get_resource::<XrMode>() != Some(&XrMode::Headset) {
        return;
    }
    // When the runtime refuses the session, bevy_mod_openxr still runs its session-created
    // systems, and those that need the session would stop the app (Bevy's default handler
    // panics on a missing resource): warn instead, and `watch_session` falls back to flat.
    app.set_error_handler(bevy::ecs::error::warn);
    app.init_resource::<Pointing>()
        .add_systems(
            Startup,
            (
                create_actions.run_if(openxr_session_available),
                never_throttle,
            ),
        )
        .add_systems(OxrSendActionBindings, suggest_bindings)
        .add_systems(XrSessionCreated, (attach_actions, spawn_aim_spaces))
        .add_systems(
            PostUpdate,
            (
                eyes_see_headset_layer,
                track_head.after(TransformSystems::Propagate),
                mirror_follows_head
                    .after(bevy_mod_openxr::render::update_views)
                    .before(TransformSystems::Propagate),
            ),
        )
        .add_systems(Update, spawn_mirror.run_if(in_headset))
        .add_systems(Update, drop_mirror.run_if(not(in_headset)))
        .add_systems(XrPreDestroySession, despawn_aim_spaces)
        .add_systems(
            PreUpdate,
            sync_actions
                .before(OxrActionSetSyncSet)
                .run_if(openxr_session_running),
        )
        .add_systems(
            Update,
            feed_from_controllers
                .in_set(PointerSystems::Feed)
                .run_if(openxr_session_running.and_then(in_headset)),
        );
}

/// Where the wearer's head is in the world, from the eyes' cameras: between them, turned as
/// the first; `None` outside a headset (the flat camera is the rig).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct HeadPose(pub Option<Transform>);

/// The head between the eyes: at their centre, turned as the first eye; `None` without eyes.
/// `eyes` are the eyes' poses in one space (world, or the tracking root's).
pub fn between_eyes(eyes: &[Transform]) -> Option<Transform> {
    let first = eyes.first()?;
    let centre = eyes.iter().map(|t| t.translation).sum::<Vec3>() / eyes.len() as f32;
    Some(Transform::from_translation(centre).with_rotation(first.rotation))
}

/// Updates [`HeadPose`] from the eyes' cameras once the transforms are propagated.
fn track_head(eyes: Query<&GlobalTransform, With<XrCamera>>, mut head: ResMut<HeadPose>) {
    let poses: Vec<Transform> = eyes.iter().map(|g| g.compute_transform()).collect();
    let next = between_eyes(&poses);
    if head.0 != next {
        head.0 = next;
    }
}

/// The camera of the PC's mirror window in the headset: a child of the XR tracking root that
/// follows the wearer's head, so whoever stands at the PC sees what the wearer looks at (the
/// rig's camera, which the flat mode uses, would show a fixed view). It sees what the eyes see,
/// the board, the names and the comfort shade ([`HEADSET_ONLY`]) included; the window's screen
/// cards and labels are off in the headset (`headset::view`), so nothing is shown twice.
#[derive(Component, Debug, Default, Clone, Copy)]
pub struct MirrorCamera;

/// Spawns the mirror camera under the tracking root, once, and takes the pointer camera's part
/// over from the rig (labels of the window's overlay are placed from it).
fn spawn_mirror(
    roots: Query<Entity, With<XrTrackingRoot>>,
    mirrors: Query<(), With<MirrorCamera>>,
    rig_cameras: Query<Entity, (With<Rig>, With<Camera>)>,
    mut commands: Commands,
) {
    if !mirrors.is_empty() {
        return;
    }
    let Ok(root) = roots.single() else { return };
    for rig in &rig_cameras {
        commands
            .entity(rig)
            .remove::<(Camera3d, Camera, PointerCamera)>();
    }
    commands.spawn((
        Name::new("miroir du casque"),
        MirrorCamera,
        Camera3d::default(),
        PointerCamera,
        RenderLayers::from_layers(&[0, HEADSET_ONLY]),
        Transform::default(),
        ChildOf(root),
    ));
}

/// Back to a flat window (the session lost for good): the rig's camera returns (the view adds
/// it again) and the mirror goes.
fn drop_mirror(mirrors: Query<Entity, With<MirrorCamera>>, mut commands: Commands) {
    for m in &mirrors {
        commands.entity(m).despawn();
    }
}

/// Places the mirror camera between the eyes, in the tracking root's space, as soon as
/// bevy_mod_openxr has placed the eyes for this frame.
fn mirror_follows_head(
    eyes: Query<&Transform, (With<XrCamera>, Without<MirrorCamera>)>,
    mut mirrors: Query<&mut Transform, With<MirrorCamera>>,
) {
    let poses: Vec<Transform> = eyes.iter().copied().collect();
    let Some(head) = between_eyes(&poses) else {
        return;
    };
    for mut m in &mut mirrors {
        if *m != head {
            *m = head;
        }
    }
}

/// The eyes' cameras (spawned by bevy_mod_openxr with its session) see the scene and
/// [`HEADSET_ONLY`].
fn eyes_see_headset_layer(eyes: Query<Entity, Added<XrCamera>>, mut commands: Commands) {
    for e in &eyes {
        commands
            .entity(e)
            .insert(RenderLayers::from_layers(&[0, HEADSET_ONLY]));
    }
}

/// Places the XR tracking root where the logic puts the participant: the rig's position
/// (`state.eye`, metres) and yaw (snap turns, teleports). With the `LOCAL` reference space the
/// root is where the eyes were when the session began.
fn follow_rig(
    rigs: Query<&Transform, (With<Rig>, Without<XrTrackingRoot>)>,
    mut roots: Query<&mut Transform, With<XrTrackingRoot>>,
) {
    let Ok(rig) = rigs.single() else { return };
    for mut root in &mut roots {
        if *root != *rig {
            *root = *rig;
        }
    }
}

/// Whether the headset's OpenXR session is running (rendering to the wearer's eyes). It goes
/// `false` when the runtime stops it mid-run — the headset taken off or asleep
/// (`LOSS_PENDING`, `STOPPING`), the runtime restarting it — and `true` again when it runs;
/// the headset's logic holds the immersion meanwhile (`headset::state`). Always `true`
/// outside a headset.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct XrSessionLive(pub bool);

impl Default for XrSessionLive {
    fn default() -> Self {
        Self(true)
    }
}

/// What a session state means for [`XrSessionLive`]: running, stopped (or leaving), or no
/// news (the states before the first run: creating, ready).
pub fn liveness(state: &XrState, was_running: bool) -> Option<bool> {
    match state {
        XrState::Running => Some(true),
        XrState::Stopping | XrState::Exiting { .. } => Some(false),
        XrState::Idle if was_running => Some(false),
        _ => None,
    }
}

/// Follows the session's state into [`XrSessionLive`].
fn watch_liveness(
    mut changed: MessageReader<XrStateChanged>,
    mut live: ResMut<XrSessionLive>,
    mut ran: Local<bool>,
) {
    for XrStateChanged(state) in changed.read() {
        if let Some(now) = liveness(state, *ran) {
            *ran |= now;
            if live.0 != now {
                live.0 = now;
                if now {
                    info!("session OpenXR de nouveau active");
                } else {
                    warn!("session OpenXR arrêtée par le runtime ({state:?})");
                }
            }
        }
    }
}

/// A session that could not be created, or that the runtime closed without a restart, leaves
/// the headset dark: fall back to the flat window and say so. The session this app closes
/// itself when it quits is no problem.
fn watch_session(
    mut created: MessageReader<XrSessionCreatedMessage>,
    mut changed: MessageReader<XrStateChanged>,
    mut exits: MessageReader<AppExit>,
    mut quitting: Local<bool>,
    session: Option<Res<OxrSession>>,
    mut mode: ResMut<XrMode>,
) {
    *quitting |= exits.read().count() > 0;
    let failed = created.read().count() > 0 && session.is_none();
    let closed = !*quitting
        && changed.read().any(|s| {
            matches!(
                s.0,
                XrState::Exiting {
                    should_restart: false
                }
            )
        });
    if failed || closed {
        error!("the OpenXR session failed or was closed by the runtime: flat window instead");
        *mode = XrMode::Flat {
            fallback: true,
            reason: Some(XR_SESSION_LOST.to_owned()),
        };
    }
}

/// The window keeps drawing a mirror view; it must not hold the headset's frames back: no
/// vsync, and full speed when the PC's window is not focused (the participant wears the
/// headset, nobody clicks the window).
fn never_throttle(mut commands: Commands, mut windows: Query<&mut Window, With<PrimaryWindow>>) {
    commands.insert_resource(WinitSettings {
        focused_mode: UpdateMode::Continuous,
        unfocused_mode: UpdateMode::Continuous,
    });
    for mut w in &mut windows {
        w.present_mode = PresentMode::AutoNoVsync;
    }
}

/// Left or right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hand {
    /// The left hand.
    Left,
    /// The right hand (points first).
    #[default]
    Right,
}

impl Hand {
    fn index(self) -> usize {
        match self {
            Hand::Left => 0,
            Hand::Right => 1,
        }
    }
}

/// The controllers' OpenXR actions.
#[derive(Resource)]
struct Controllers {
    set: openxr::ActionSet,
    /// Aim poses (the pointing ray: origin, -Z forward), left then right.
    aim: [openxr::Action<openxr::Posef>; 2],
    /// Trigger (or select) held, left then right.
    select: [openxr::Action<bool>; 2],
    /// Thumbstick (or trackpad) x, either hand, -1 left to 1 right.
    turn: openxr::Action<f32>,
}

/// Which hand points, and what the previous frame held.
#[derive(Resource, Debug, Default)]
struct Pointing {
    hand: Hand,
    was_down: [bool; 2],
    turn_armed: bool,
}

/// An aim pose's space, for one hand.
#[derive(Component, Debug, Clone, Copy)]
struct AimOf(Hand);

fn create_actions(instance: Res<OxrInstance>, mut commands: Commands) {
    let made = (|| -> openxr::Result<Controllers> {
        let set = instance.create_action_set("boussole", "Boussole", 0)?;
        Ok(Controllers {
            aim: [
                set.create_action("aim_left", "Viser (main gauche)", &[])?,
                set.create_action("aim_right", "Viser (main droite)", &[])?,
            ],
            select: [
                set.create_action("select_left", "Choisir (main gauche)", &[])?,
                set.create_action("select_right", "Choisir (main droite)", &[])?,
            ],
            turn: set.create_action("turn", "Tourner", &[])?,
            set,
        })
    })();
    match made {
        Ok(c) => commands.insert_resource(c),
        // No controllers then: the participant can still look around; the facilitator reads
        // the problem in the log.
        Err(e) => error!("OpenXR actions could not be created: {e}"),
    }
}

/// Suggested bindings per interaction profile. Every path must exist in its profile: the
/// runtime rejects a profile's whole suggestion for one wrong path.
pub const BINDINGS: &[(&str, &str, &str, Option<&str>)] = &[
    // (profile, aim pose, select, turn axis), under /user/hand/{left,right}/.
    (
        "/interaction_profiles/khr/simple_controller",
        "input/aim/pose",
        "input/select/click",
        None,
    ),
    (
        "/interaction_profiles/oculus/touch_controller",
        "input/aim/pose",
        "input/trigger/value",
        Some("input/thumbstick/x"),
    ),
    (
        "/interaction_profiles/valve/index_controller",
        "input/aim/pose",
        "input/trigger/click",
        Some("input/thumbstick/x"),
    ),
    (
        "/interaction_profiles/htc/vive_controller",
        "input/aim/pose",
        "input/trigger/click",
        Some("input/trackpad/x"),
    ),
    (
        "/interaction_profiles/microsoft/motion_controller",
        "input/aim/pose",
        "input/trigger/value",
        Some("input/thumbstick/x"),
    ),
];

fn suggest_bindings(
    controllers: Option<Res<Controllers>>,
    mut bindings: MessageWriter<OxrSuggestActionBinding>,
) {
    let Some(c) = controllers else { return };
    for (profile, aim, select, turn) in BINDINGS {
        for (i, hand) in ["left", "right"].into_iter().enumerate() {
            let path = |input: &str| Cow::Owned(format!("/user/hand/{hand}/{input}"));
            let suggest = |action, input: &str| OxrSuggestActionBinding {
                action,
                interaction_profile: Cow::Borrowed(*profile),
                bindings: vec![path(input)],
            };
            bindings.write(suggest(c.aim[i].as_raw(), aim));
            bindings.write(suggest(c.select[i].as_raw(), select));
            if let Some(turn) = turn {
                bindings.write(suggest(c.turn.as_raw(), turn));
            }
        }
    }
}

fn attach_actions(
    controllers: Option<Res<Controllers>>,
    mut attach: MessageWriter<OxrAttachActionSet>,
) {
    if let Some(c) = controllers {
        attach.write(OxrAttachActionSet(c.set.clone()));
    }
}

fn sync_actions(controllers: Option<Res<Controllers>>, mut sync: MessageWriter<OxrSyncActionSet>) {
    if let Some(c) = controllers {
        sync.write(OxrSyncActionSet(c.set.clone()));
    }
}

fn spawn_aim_spaces(
    controllers: Option<Res<Controllers>>,
    session: Option<Res<OxrSession>>,
    mut commands: Commands,
) {
    let (Some(c), Some(session)) = (controllers, session) else {
        return;
    };
    for hand in [Hand::Left, Hand::Right] {
        match session.create_action_space(
            &c.aim[hand.index()],
            openxr::Path::NULL,
            Isometry3d::IDENTITY,
        ) {
            // `XrSpace` makes it a child of the tracking root, placed each frame in PreUpdate.
            Ok(space) => {
                commands.spawn((space, AimOf(hand), Name::new(format!("visée {hand:?}"))));
            }
            Err(e) => error!("no aim space for the {hand:?} controller: {e}"),
        }
    }
}

fn despawn_aim_spaces(spaces: Query<Entity, With<AimOf>>, mut commands: Commands) {
    for e in &spaces {
        commands.entity(e).despawn();
    }
}

/// The world ray of an aim pose `aim` (relative to the tracking root) under `root`: OpenXR's
/// aim pose points along its -Z, as Bevy's `forward`.
pub fn aim_ray(root: &Transform, aim: &Transform) -> Option<Ray3d> {
    let world = root.mul_transform(*aim);
    let forward = world.forward();
    world
        .translation
        .is_finite()
        .then(|| Ray3d::new(world.translation, forward))
}

/// The hand that points after this frame: the one whose select just went down (the other
/// hand takes over when the participant pulls its trigger), else the same.
pub fn pointing_hand(current: Hand, down: [bool; 2], was_down: [bool; 2]) -> Hand {
    let pressed = |i: usize| down[i] && !was_down[i];
    match (pressed(0), pressed(1)) {
        (true, false) => Hand::Left,
        (false, true) => Hand::Right,
        _ => current,
    }
}

/// A snap turn from a thumbstick's x (-1 left … 1 right), once per push: it fires past 0.7 and
/// re-arms under 0.3 (`armed` keeps that between frames). `Some(-1)` left, `Some(1)` right.
pub fn snap_turn(x: f32, armed: &mut bool) -> Option<i8> {
    if x.abs() < 0.3 {
        *armed = true;
        return None;
    }
    if *armed && x.abs() > 0.7 {
        *armed = false;
        return Some(if x > 0.0 { 1 } else { -1 });
    }
    None
}

/// Controllers → pointer layer: the pointing hand's aim ray and its trigger as select; the
/// thumbstick's pushes as snap turns.
fn feed_from_controllers(
    controllers: Option<Res<Controllers>>,
    session: Res<OxrSession>,
    aims: Query<(&AimOf, &Transform, &XrSpaceLocationFlags), With<XrSpace>>,
    roots: Query<&Transform, (With<XrTrackingRoot>, Without<XrSpace>)>,
    mut pointing: ResMut<Pointing>,
    mut input: ResMut<PointerInput>,
    mut actions: MessageWriter<HeadsetAction>,
) {
    let Some(c) = controllers else { return };
    let held = |a: &openxr::Action<bool>| {
        a.state(&**session, openxr::Path::NULL)
            .is_ok_and(|s| s.is_active && s.current_state)
    };
    let down = [held(&c.select[0]), held(&c.select[1])];
    // Each press and release in the log: what a by-hand check on a runtime reads.
    for (i, side) in ["gauche", "droite"].iter().enumerate() {
        if down[i] != pointing.was_down[i] {
            let what = if down[i] { "enfoncée" } else { "relâchée" };
            info!("gâchette de la main {side} : {what}");
        }
    }
    let hand = pointing_hand(pointing.hand, down, pointing.was_down);
    pointing.hand = hand;
    pointing.was_down = down;
    let root = roots.single().copied().unwrap_or_default();
    let ray = aims
        .iter()
        .find(|(a, _, flags)| a.0 == hand && flags.position_tracked && flags.rotation_tracked)
        .and_then(|(_, aim, _)| aim_ray(&root, aim));
    let next = PointerInput {
        ray,
        select_down: down[hand.index()],
    };
    if *input != next {
        *input = next;
    }
    let x = c
        .turn
        .state(&**session, openxr::Path::NULL)
        .map_or(0.0, |s| if s.is_active { s.current_state } else { 0.0 });
    let mut armed = pointing.turn_armed;
    if let Some(direction) = snap_turn(x, &mut armed) {
        actions.write(HeadsetAction::Turn(direction));
    }
    pointing.turn_armed = armed;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_start_up_outcome_decides_the_mode() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let home = dir.path().to_string_lossy().into_owned();
        let none = find_runtime(|k| match k {
            "HOME" => Some(home.clone()),
            "XDG_CONFIG_DIRS" => Some(home.clone()),
            _ => None,
        });
        assert_eq!(none, None);
        let fallback = XrMode::Flat {
            fallback: true,
            reason: Some(NO_XR_RUNTIME.into()),
        };
        assert_eq!(
            choose_mode(false, XrStart::Failed { runtime: none }),
            fallback
        );
        assert_eq!(choose_mode(false, XrStart::NotTried), fallback);
        assert!(fallback.is_fallback());
        let manifest = dir.path().join("openxr/1/active_runtime.json");
        std::fs::create_dir_all(manifest.parent().ok_or("parent")?)?;
        std::fs::write(&manifest, "{}")?;
        let found = find_runtime(|k| (k == "XDG_CONFIG_HOME").then(|| home.clone()));
        assert_eq!(found.as_deref(), Some(manifest.as_path()));
        // A runtime is set but did not start (headset off): the message names it.
        let off = choose_mode(
            false,
            XrStart::Failed {
                runtime: found.clone(),
            },
        );
        let XrMode::Flat {
            fallback: true,
            reason: Some(reason),
        } = &off
        else {
            return Err(format!("{off:?}").into());
        };
        assert!(reason.starts_with(NO_XR_RUNTIME), "{reason}");
        assert!(reason.contains(&manifest.display().to_string()), "{reason}");
        assert_eq!(choose_mode(false, XrStart::Started), XrMode::Headset);
        for start in [XrStart::Started, XrStart::NotTried] {
            assert!(
                !choose_mode(true, start).is_fallback(),
                "--flat is no fallback"
            );
        }
        // Plain DefaultPlugins or MinimalPlugins: nothing tried.
        assert_eq!(start_of(&World::new()), XrStart::NotTried);
        let mut world = World::new();
        world.insert_resource(XrState::Unavailable);
        assert!(matches!(start_of(&world), XrStart::Failed { .. }));
        // A state without an instance is no start either.
        world.insert_resource(XrState::Available);
        assert!(matches!(start_of(&world), XrStart::Failed { .. }));
        Ok(())
    }

    #[test]
    fn an_aim_pose_under_the_rig_gives_a_world_ray() -> Result<(), Box<dyn std::error::Error>> {
        // The rig at (2, 1.2, 3) turned 90° left; the controller 0.3 m right of and 0.2 m
        // below the eyes, pointing straight ahead in the participant's frame.
        let root = Transform::from_xyz(2.0, 1.2, 3.0)
            .with_rotation(Quat::from_rotation_y(90f32.to_radians()));
        let aim = Transform::from_xyz(0.3, -0.2, 0.0);
        let ray = aim_ray(&root, &aim).ok_or("no ray")?;
        // Turned 90° left, "ahead" (-Z) is world -X and "right" (+X) is world -Z.
        assert!(
            ray.origin.abs_diff_eq(Vec3::new(2.0, 1.0, 2.7), 1e-5),
            "{}",
            ray.origin
        );
        assert!(
            ray.direction.abs_diff_eq(Vec3::NEG_X, 1e-5),
            "{}",
            *ray.direction
        );
        Ok(())
    }

    #[test]
    fn the_session_state_says_whether_the_headset_is_live() {
        assert_eq!(liveness(&XrState::Running, false), Some(true));
        assert_eq!(liveness(&XrState::Stopping, true), Some(false));
        assert_eq!(
            liveness(
                &XrState::Exiting {
                    should_restart: true
                },
                true
            ),
            Some(false)
        );
        assert_eq!(
            liveness(&XrState::Idle, false),
            None,
            "before the first run"
        );
        assert_eq!(liveness(&XrState::Idle, true), Some(false), "loss pending");
        assert_eq!(liveness(&XrState::Ready, true), None);
    }

    #[test]
    fn the_mirror_window_follows_the_head_and_goes_when_flat()
    -> Result<(), Box<dyn std::error::Error>> {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, TransformPlugin))
            .insert_resource(XrMode::Headset)
            .add_systems(
                Update,
                (
                    spawn_mirror.run_if(in_headset),
                    drop_mirror.run_if(not(in_headset)),
                ),
            )
            .add_systems(
                PostUpdate,
                mirror_follows_head.before(TransformSystems::Propagate),
            );
        let rig_at = Transform::from_xyz(1.0, 0.0, 2.0).with_rotation(Quat::from_rotation_y(0.5));
        let rig = app
            .world_mut()
            .spawn((Rig, rig_at, Camera3d::default(), PointerCamera))
            .id();
        let root = app.world_mut().spawn((XrTrackingRoot, rig_at)).id();
        let turned = Quat::from_rotation_y(0.6) * Quat::from_rotation_x(-0.2);
        for (i, x) in [(0, -0.032), (1, 0.032)] {
            app.world_mut().spawn((
                XrCamera(i),
                Transform::from_xyz(x, 1.2, -0.1).with_rotation(turned),
                ChildOf(root),
            ));
        }
        app.update();
        app.update();
        let world = app.world_mut();
        let mut mirrors =
            world.query_filtered::<(&Transform, &GlobalTransform, &ChildOf), With<MirrorCamera>>();
        let (local, global, parent) = mirrors.single(world)?;
        assert_eq!(
            parent.parent(),
            root,
            "the mirror hangs under the tracking root"
        );
        assert!(
            local
                .translation
                .abs_diff_eq(Vec3::new(0.0, 1.2, -0.1), 1e-5)
        );
        assert!(
            local.rotation.abs_diff_eq(turned, 1e-5),
            "turned as the head"
        );
        let expected = rig_at * Transform::from_xyz(0.0, 1.2, -0.1).with_rotation(turned);
        assert!(
            global.translation().abs_diff_eq(expected.translation, 1e-4),
            "in the world where the wearer's head is"
        );
        assert!(
            world.get::<Camera>(rig).is_none(),
            "the rig no longer films the window"
        );
        let mut layers = world.query_filtered::<&RenderLayers, With<MirrorCamera>>();
        assert!(
            layers
                .single(world)?
                .intersects(&RenderLayers::layer(HEADSET_ONLY)),
            "the mirror shows the board and the names the eyes see"
        );
        let mut pointers = world.query_filtered::<Entity, With<PointerCamera>>();
        assert_eq!(
            pointers.iter(world).count(),
            1,
            "one pointer camera: the mirror"
        );

        world.insert_resource(XrMode::Flat {
            fallback: true,
            reason: None,
        });
        app.update();
        let world = app.world_mut();
        assert_eq!(mirrors.iter(world).count(), 0, "flat again: no mirror");
        Ok(())
    }

    #[test]
    fn the_trigger_pulled_last_points_and_a_push_turns_once() {
        let none = [false, false];
        assert_eq!(pointing_hand(Hand::Right, [true, false], none), Hand::Left);
        // Held on: no change; the right trigger pulled now takes over.
        assert_eq!(
            pointing_hand(Hand::Left, [true, false], [true, false]),
            Hand::Left
        );
        assert_eq!(
            pointing_hand(Hand::Left, [true, true], [true, false]),
            Hand::Right
        );
        assert_eq!(pointing_hand(Hand::Right, none, none), Hand::Right);
        let mut armed = true;
        let pushes: Vec<_> = [0.0, 0.5, 0.8, 0.9, 0.6, 0.2, -0.75, -1.0, 0.0]
            .into_iter()
            .filter_map(|x| snap_turn(x, &mut armed))
            .collect();
        assert_eq!(pushes, vec![1, -1], "one turn per push, never while held");
    }
}
