//! Full-screen video cues on the room screen, decoded by `boussole-video` (GStreamer, on its
//! own threads): a cue opens its file, starts where the director's start time says it should
//! be now (a screen that joins late is not behind), and ends with `CueFinished` so the
//! director's auto-follow goes on. A missing or corrupt file, or one that stops short, is a
//! `DeviceEvent::Problem` for the facilitator, in French, naming the file; never a panic. The
//! newest decoded frame is copied into one Bevy `Image` shown over the whole window.

use super::state::ScreenState;
use crate::GameSystems;
use crate::net::plugin::Report;
use bevy::prelude::*;
use bevy::render::render_resource::Extent3d;
use boussole_protocol::DeviceEvent;
use boussole_video::{PlayerOptions, VideoEvent, VideoPlayer};
use std::path::Path;
use std::time::Duration;

/// The largest frame the screen asks for: a room screen is at most full HD.
const MAX_SIZE: (u32, u32) = (1920, 1080);

/// The video cue playing, if any.
#[derive(Resource, Default)]
pub struct ScreenVideo {
    current: Option<Playing>,
    /// Video cues received before their scheduled start, opened and paused on their first
    /// frame (show control's "standby preload"): at the start, playing is instant.
    preloaded: Vec<Playing>,
    /// Firings whose preload was tried (once each: a file that fails is told at its start).
    tried: Vec<u64>,
}

struct Playing {
    instance: u64,
    name: String,
    player: VideoPlayer,
}

impl ScreenVideo {
    /// The firing whose video plays now.
    pub fn instance(&self) -> Option<u64> {
        self.current.as_ref().map(|p| p.instance)
    }

    /// Stops the video playing, if any (stop-all, or another video cue).
    pub fn stop(&mut self) {
        self.current = None;
    }

    /// Stops everything, the preloaded videos too (stop-all).
    pub fn stop_all(&mut self) {
        self.current = None;
        self.preloaded.clear();
    }

    /// Whether firing `instance` is preloaded.
    pub fn is_preloaded(&self, instance: u64) -> bool {
        self.preloaded.iter().any(|p| p.instance == instance)
    }

    /// Drops the preloaded videos whose firing `wanted` no longer waits for (stop-all, or
    /// started by [`start`]).
    pub fn keep_preloaded(&mut self, wanted: impl Fn(u64) -> bool) {
        self.preloaded.retain(|p| wanted(p.instance));
        self.tried.retain(|i| wanted(*i));
    }
}

/// The most videos kept preloaded at once: each holds a decoder and a frame.
const MAX_PRELOADED: usize = 2;

fn options(looped: bool, audio: bool) -> PlayerOptions {
    PlayerOptions {
        max_size: Some(MAX_SIZE),
        audio,
        looped,
        realtime: true,
    }
}

/// Opens `path` for firing `instance` of the cue `name` ahead of its start, decoded up to its
/// first frame and paused, so that [`start`] only has to play it. At most [`MAX_PRELOADED`]
/// are kept (the oldest goes). On failure returns why; [`start`] will try again and tell the
/// director.
pub fn preload(
    video: &mut ScreenVideo,
    instance: u64,
    name: &str,
    path: &Path,
    looped: bool,
    audio: bool,
) -> Result<(), String> {
    if video.is_preloaded(instance) || video.tried.contains(&instance) {
        return Ok(());
    }
    video.tried.push(instance);
    let player = VideoPlayer::open(path, &options(looped, audio))
        .map_err(|e| format!("vidéo « {name} » : {e}"))?;
    if video.preloaded.len() >= MAX_PRELOADED {
        video.preloaded.remove(0);
    }
    video.preloaded.push(Playing {
        instance,
        name: name.to_owned(),
        player,
    });
    Ok(())
}

/// Opens `path` for firing `instance` of the cue `name`, `late` after its start: plays it from
/// there. On failure returns the problem to tell the director (the caller finishes the cue).
pub fn start(
    video: &mut ScreenVideo,
    instance: u64,
    name: &str,
    path: &Path,
    looped: bool,
    audio: bool,
    late: Duration,
) -> Result<(), String> {
    let preloaded = video
        .preloaded
        .iter()
        .position(|p| p.instance == instance)
        .map(|i| video.preloaded.remove(i).player);
    let mut player = match preloaded {
        Some(player) => player,
        None => VideoPlayer::open(path, &options(looped, audio))
            .map_err(|e| format!("vidéo « {name} » : {e}"))?,
    };
    if late > Duration::from_millis(200) {
        player
            .seek(late)
            .map_err(|e| format!("vidéo « {name} » : {e}"))?;
    }
    player
        .play()
        .map_err(|e| format!("vidéo « {name} » : {e}"))?;
    video.current = Some(Playing {
        instance,
        name: name.to_owned(),
        player,
    });
    Ok(())
}

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<ScreenVideo>()
        .add_systems(Update, pump.in_set(GameSystems::Logic))
        .add_systems(Startup, spawn_surface)
        .add_systems(Update, show_frame.in_set(GameSystems::View));
}

/// Turns the player's events into reports: the end finishes the cue, an error is a problem.
fn pump(
    mut video: ResMut<ScreenVideo>,
    mut state: ResMut<ScreenState>,
    mut reports: MessageWriter<Report>,
) {
    let Some(playing) = video.current.as_mut() else {
        return;
    };
    // A stop-all cleared the screen: the video stops with it, unfinished.
    if state.video.is_none() {
        video.current = None;
        return;
    }
    let mut ended = false;
    for event in playing.player.poll_events() {
        match event {
            VideoEvent::Ended => ended = true,
            VideoEvent::Error(e) => {
                error!("{e}");
                reports.write(Report(DeviceEvent::Problem {
                    what: format!("vidéo « {} » : {e}", playing.name),
                }));
            }
            VideoEvent::Looped | VideoEvent::Seeked { .. } => {}
        }
    }
    if ended {
        reports.write(Report(DeviceEvent::CueFinished {
            instance: playing.instance,
        }));
        state.video = None;
        video.current = None;
    }
}

/// The full-screen surface the frames are drawn on, hidden while no video plays.
#[derive(Component)]
struct VideoSurface(Handle<Image>);

fn spawn_surface(mut commands: Commands, images: Option<ResMut<Assets<Image>>>) {
    // Headless (tests): no renderer, no surface; the logic above still runs.
    let Some(mut images) = images else {
        return;
    };
    let handle = images.add(crate::ui::black_image(Extent3d {
        width: 2,
        height: 2,
        depth_or_array_layers: 1,
    }));
    commands.spawn((
        VideoSurface(handle.clone()),
        ImageNode::new(handle),
        Node {
            position_type: PositionType::Absolute,
            width: percent(100),
            height: percent(100),
            ..default()
        },
        BackgroundColor(Color::BLACK),
        GlobalZIndex(100),
        Visibility::Hidden,
    ));
}

fn show_frame(
    video: Res<ScreenVideo>,
    images: Option<ResMut<Assets<Image>>>,
    mut surface: Query<(&VideoSurface, &mut Visibility)>,
) {
    let Some(mut images) = images else {
        return;
    };
    let Ok((surface, mut visibility)) = surface.single_mut() else {
        return;
    };
    let Some(playing) = &video.current else {
        *visibility = Visibility::Hidden;
        return;
    };
    let Some(frame) = playing.player.take_frame() else {
        return;
    };
    if let Some(mut image) = images.get_mut(&surface.0) {
        crate::ui::put_frame(&mut image, &frame);
    }
    *visibility = Visibility::Visible;
}
