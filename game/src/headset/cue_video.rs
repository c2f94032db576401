//! Video cues in the headset: a cue aimed at a headset plays on a screen in front of the
//! wearer, 2.2 m away, head-locked (in a headset it follows the head, `xr::HeadPose`; in a
//! flat window the camera, which the seat's turns move), or, when the cue names an anchor of the scene shown, on a screen standing there
//! and turned towards the wearer (a scene without that anchor: in front, told once), decoded by `boussole-video` (its player opened on a thread of its own: a frozen
//! frame in a headset makes people sick). It starts where it should be now (a headset that
//! joins late is not behind), finishes with `CueFinished` at its real end, is held by the
//! facilitator's pause, and stops with a stop-all. A file that cannot play is a problem for
//! the facilitator, and the cue finishes so the cue list goes on.

use super::state::{HeadsetState, Rig};
use crate::GameSystems;
use crate::content::GameContent;
use crate::media::{PlayCueVideo, PreloadCueVideo};
use crate::net::plugin::{Report, StopAllCues};
use crate::third_party::audio::AudioOutput;
use bevy::prelude::*;
use bevy::render::render_resource::Extent3d;
use boussole_content::cue::HeadsetScreen;
use boussole_content::immersion::SceneSpec;
use boussole_protocol::DeviceEvent;
use boussole_video::{Opening, PlayerOptions, VideoEvent, VideoPlayer};
use std::time::Duration;

/// The largest frame asked for: a screen of 2 m in a headset needs no more than full HD.
const MAX_SIZE: (u32, u32) = (1920, 1080);
/// Distance from the eyes to the cue's screen, metres.
pub const SCREEN_DISTANCE_M: f32 = 2.2;
/// Width of the cue's screen, metres (its height follows the video's shape).
pub const SCREEN_WIDTH_M: f32 = 2.0;

/// The video cue this headset plays, if any.
#[derive(Resource, Default)]
pub struct CueVideo {
    opening: Option<(PlayCueVideo, Opening)>,
    current: Option<Playing>,
    /// A cue received ahead of its start, opening or opened and paused on its first frame.
    preload: Option<Preload>,
}

/// A video opened ahead of its start (standby preload).
struct Preload {
    instance: u64,
    opening: Option<Opening>,
    player: Option<VideoPlayer>,
}

struct Playing {
    cue: PlayCueVideo,
    player: VideoPlayer,
    paused: bool,
}

impl CueVideo {
    /// The firing whose video plays (or opens) now.
    pub fn instance(&self) -> Option<u64> {
        self.current
            .as_ref()
            .map(|p| p.cue.instance)
            .or_else(|| self.opening.as_ref().map(|(c, _)| c.instance))
    }

    /// The firing preloaded (opening, or paused on its first frame), if any.
    pub fn preloaded(&self) -> Option<u64> {
        self.preload.as_ref().map(|p| p.instance)
    }

    /// Whether the preloaded firing is open and waits on its first frame.
    pub fn preload_ready(&self) -> bool {
        self.preload.as_ref().is_some_and(|p| p.player.is_some())
    }

    /// Whether a video plays now (opened; not still opening).
    pub fn is_playing(&self) -> bool {
        self.current.is_some()
    }

    /// Where the playing video stands, once the decoder knows.
    pub fn position(&self) -> Option<Duration> {
        self.current.as_ref().and_then(|p| p.player.position())
    }
}

/// Where the cue's screen stands: at `placement`'s anchor of `scene` (its centre there,
/// turned about the vertical towards the eyes at `eye`), else [`SCREEN_DISTANCE_M`] in front
/// of `eye` in the direction of `facing`. With it, whether the anchor asked for was found
/// (`false`: the scene has no such anchor, the screen stands in front).
pub fn screen_transform(
    placement: &HeadsetScreen,
    scene: Option<&SceneSpec>,
    eye: Vec3,
    facing: Quat,
) -> (Transform, bool) {
    let in_front = || {
        let forward = facing * Vec3::NEG_Z;
        Transform::from_translation(eye + forward * SCREEN_DISTANCE_M).with_rotation(facing)
    };
    let HeadsetScreen::Anchor(id) = placement else {
        return (in_front(), true);
    };
    let Some(anchor) = scene.and_then(|s| s.anchors.iter().find(|a| a.id == *id)) else {
        return (in_front(), false);
    };
    let (x, y, z) = anchor.position;
    let at = Vec3::new(x, y, z);
    let away = Vec3::new(at.x - eye.x, 0.0, at.z - eye.z);
    let mut t = Transform::from_translation(at);
    if away.length_squared() > 1e-6 {
        // `looking_at` points -Z at its target; the quad's face is +Z, so look away from the eyes.
        t.look_at(at + away, Vec3::Y);
    }
    (t, true)
}

/// The logic (headless too).
pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<CueVideo>().add_systems(
        Update,
        pump.after(crate::media::MediaSystems)
            .in_set(GameSystems::Logic),
    );
}

/// The screen in front of the wearer (needs a renderer).
pub(crate) fn view_plugin(app: &mut App) {
    app.add_systems(Update, show.in_set(GameSystems::View));
}

fn problem(reports: &mut MessageWriter<Report>, cue: &PlayCueVideo, what: &str) {
    let what = format!("top « {} » : vidéo {} : {what}", cue.name, cue.file);
    error!("{what}");
    reports.write(Report(DeviceEvent::Problem { what }));
}

fn finished(reports: &mut MessageWriter<Report>, instance: u64) {
    reports.write(Report(DeviceEvent::CueFinished { instance }));
}

fn pump(
    mut video: ResMut<CueVideo>,
    (mut asks, mut preloads): (MessageReader<PlayCueVideo>, MessageReader<PreloadCueVideo>),
    mut stops: MessageReader<StopAllCues>,
    content: Res<GameContent>,
    audio: Option<Res<AudioOutput>>,
    state: Res<HeadsetState>,
    mut reports: MessageWriter<Report>,
) {
    if stops.read().count() > 0 {
        video.opening = None;
        video.current = None;
        video.preload = None;
    }
    let options = |looped: bool| PlayerOptions {
        max_size: Some(MAX_SIZE),
        audio: audio.as_ref().is_some_and(|a| a.available),
        looped,
        realtime: true,
    };
    // A cue ahead of its start: opened now, kept paused on its first frame.
    if let Some(ahead) = preloads.read().last().cloned()
        && video
            .preload
            .as_ref()
            .is_none_or(|p| p.instance != ahead.instance)
    {
        let path = content.assets.join(ahead.file.as_str());
        video.preload = Some(Preload {
            instance: ahead.instance,
            opening: Some(Opening::start(path, options(ahead.looped))),
            player: None,
        });
    }
    if let Some(preload) = video.preload.as_mut()
        && let Some(done) = preload.opening.as_ref().and_then(Opening::poll)
    {
        preload.opening = None;
        match done {
            Ok(player) => preload.player = Some(player),
            // Told when the cue starts and opens it again.
            Err(e) => warn!("préchargement : {e}"),
        }
    }
    // A new video cue replaces the one playing (finished: the cue list goes on).
    let mut ready = None;
    if let Some(cue) = asks.read().last().cloned() {
        if let Some(old) = video.current.take() {
            finished(&mut reports, old.cue.instance);
        }
        if let Some((old, _)) = video.opening.take() {
            finished(&mut reports, old.instance);
        }
        match video.preload.take() {
            Some(Preload {
                instance,
                player: Some(player),
                ..
            }) if instance == cue.instance => ready = Some((cue, Ok(player))),
            Some(Preload {
                instance,
                opening: Some(opening),
                ..
            }) if instance == cue.instance => video.opening = Some((cue, opening)),
            _ => {
                let path = content.assets.join(cue.file.as_str());
                let opening = Opening::start(path, options(cue.looped));
                video.opening = Some((cue, opening));
            }
        }
    }
    let opened = ready.or_else(|| {
        let result = video.opening.as_ref().and_then(|(_, o)| o.poll())?;
        let (cue, _) = video.opening.take()?;
        Some((cue, result))
    });
    if let Some((cue, result)) = opened {
        let started = result.and_then(|mut player| {
            if cue.late > Duration::from_millis(200) {
                player.seek(cue.late).map_err(|e| e.to_string())?;
            }
            player.play().map_err(|e| e.to_string())?;
            Ok(player)
        });
        match started {
            Ok(player) => {
                if !screen_transform(
                    &cue.placement,
                    state.shown_scene.as_deref(),
                    state.eye,
                    Quat::IDENTITY,
                )
                .1
                {
                    problem(
                        &mut reports,
                        &cue,
                        "l'ancre nommée n'est pas dans la scène montrée : vidéo devant la \
                         personne",
                    );
                }
                video.current = Some(Playing {
                    cue,
                    player,
                    paused: false,
                });
            }
            Err(e) => {
                problem(&mut reports, &cue, &e);
                finished(&mut reports, cue.instance);
            }
        }
    }
    let Some(playing) = video.current.as_mut() else {
        return;
    };
    let paused = state.paused_at.is_some();
    if paused != playing.paused {
        playing.paused = paused;
        if let Err(e) = playing.player.set_paused(paused) {
            problem(&mut reports, &playing.cue, &e.to_string());
        }
    }
    let mut ended = false;
    for event in playing.player.poll_events() {
        match event {
            VideoEvent::Ended => ended = true,
            VideoEvent::Error(e) => problem(&mut reports, &playing.cue, &e.to_string()),
            VideoEvent::Looped | VideoEvent::Seeked { .. } => {}
        }
    }
    if ended {
        finished(&mut reports, playing.cue.instance);
        video.current = None;
    }
}

/// The cue's screen in the world and the image it shows.
#[derive(Component)]
struct CueScreen(Handle<Image>);

#[expect(
    clippy::too_many_arguments,
    reason = "the screen follows the seat and draws the frame into its image and material"
)]
fn show(
    video: Res<CueVideo>,
    state: Res<HeadsetState>,
    rigs: Query<&Transform, (With<Rig>, Without<CueScreen>)>,
    head: Option<Res<crate::third_party::xr::HeadPose>>,
    mut screens: Query<(Entity, &CueScreen, &mut Transform)>,
    mut commands: Commands,
    mut images: ResMut<Assets<Image>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let Some(playing) = &video.current else {
        for (e, _, _) in &screens {
            commands.entity(e).despawn();
        }
        return;
    };
    let info = playing.player.info();
    let aspect = if info.width > 0 {
        info.height as f32 / info.width as f32
    } else {
        9.0 / 16.0
    };
    // In a headset the screen follows the head; in a flat window, the camera on the rig.
    let (eye, facing) = match head.and_then(|h| h.0) {
        Some(head) => (head.translation, head.rotation),
        None => (
            state.eye,
            rigs.iter()
                .next()
                .map_or(Quat::IDENTITY, |rig| rig.rotation),
        ),
    };
    let (place, _) = screen_transform(
        &playing.cue.placement,
        state.shown_scene.as_deref(),
        eye,
        facing,
    );
    let image = match screens.iter_mut().next() {
        Some((_, screen, mut t)) => {
            if *t != place {
                *t = place;
            }
            screen.0.clone()
        }
        None => {
            let image = images.add(crate::ui::black_image(Extent3d {
                width: 2,
                height: 2,
                depth_or_array_layers: 1,
            }));
            commands.spawn((
                CueScreen(image.clone()),
                Mesh3d(meshes.add(Rectangle::new(SCREEN_WIDTH_M, SCREEN_WIDTH_M * aspect))),
                MeshMaterial3d(materials.add(StandardMaterial {
                    base_color_texture: Some(image.clone()),
                    unlit: true,
                    ..default()
                })),
                place,
                Name::new("vidéo du top"),
            ));
            image
        }
    };
    if let Some(frame) = playing.player.take_frame()
        && let Some(mut target) = images.get_mut(&image)
    {
        crate::ui::put_frame(&mut target, &frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boussole_content::ids::{AnchorId, SceneId};
    use boussole_content::immersion::{Anchor, Bounds, Spawn};
    use std::sync::Arc;

    #[test]
    fn a_cue_screen_stands_in_front_or_at_its_anchor_facing_the_eyes() {
        let mut state = HeadsetState {
            eye: Vec3::new(0.0, 1.2, 0.0),
            ..HeadsetState::default()
        };
        // In front: 2.2 m along where the seat faces (turned 90° left: towards -X).
        let seat = Quat::from_rotation_y(90f32.to_radians());
        let at = |p: &HeadsetScreen, state: &HeadsetState| {
            screen_transform(p, state.shown_scene.as_deref(), state.eye, seat)
        };
        let (t, found) = at(&HeadsetScreen::InFront, &state);
        assert!(found);
        assert!(
            t.translation
                .abs_diff_eq(Vec3::new(-SCREEN_DISTANCE_M, 1.2, 0.0), 1e-4)
        );
        // At an anchor 3 m to the right: there, its face (+Z) turned back to the eyes.
        state.shown_scene = Some(Arc::new(SceneSpec {
            id: SceneId::from("salle"),
            bounds: Bounds {
                min: (-5.0, 0.0, -5.0),
                max: (5.0, 3.0, 5.0),
            },
            materials: Vec::new(),
            primitives: Vec::new(),
            lights: Vec::new(),
            spawn: Spawn {
                position: (0.0, 1.2, 0.0),
                yaw_deg: 0.0,
            },
            anchors: vec![Anchor {
                id: AnchorId::from("a_mur"),
                position: (3.0, 1.5, 0.0),
            }],
            ambience: None,
            labels: Vec::new(),
        }));
        let wall = HeadsetScreen::Anchor(AnchorId::from("a_mur"));
        let (t, found) = at(&wall, &state);
        assert!(found);
        assert!(t.translation.abs_diff_eq(Vec3::new(3.0, 1.5, 0.0), 1e-4));
        assert!((t.rotation * Vec3::Z).abs_diff_eq(Vec3::NEG_X, 1e-4));
        // An anchor the scene does not have: in front, and said.
        let missing = HeadsetScreen::Anchor(AnchorId::from("a_plafond"));
        let (t, found) = at(&missing, &state);
        assert!(!found);
        assert!(
            t.translation
                .abs_diff_eq(Vec3::new(-SCREEN_DISTANCE_M, 1.2, 0.0), 1e-4)
        );
    }
}
