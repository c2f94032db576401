//! 360° video immersions: an equirectangular film on the inside of a sphere around the
//! viewer, decoded by `boussole-video` (GStreamer, on its own threads).
//!
//! The film runs on the director's clock: it stands at `director now - started_at_ms`
//! ([`film_position`]), so headsets the facilitator starts together (`StartImmersions`, one
//! start time) show the same frame, one that joins late or reconnects seeks to where the others
//! are, and each checks its drift every [`RESYNC_EVERY_S`] and seeks back when it strays by more
//! than [`RESYNC_TOLERANCE`]. At its end the last frame stays; the visit goes on until the
//! participant ends it. A missing or corrupt file is a `DeviceEvent::Problem` in French naming
//! the file, never a panic: the hotspots and the questionnaire still work over a black sphere.
//!
//! Its logic runs headless (tests open real films without a window: [`Film`] tells where the
//! film stands); its view puts the frames on the sphere ([`inside_sphere`], from `boussole-scene`).

use super::state::{HeadsetLogic, HeadsetState, VideoRun};
use crate::GameSystems;
use crate::content::GameContent;
use crate::net::plugin::{Report, Room};
use crate::third_party::audio::AudioOutput;
use crate::ui::{black_image, put_frame};
use bevy::math::Affine2;
use bevy::prelude::*;
use bevy::render::render_resource::Extent3d;
use boussole_protocol::DeviceEvent;
use boussole_video::{Opening, PlayerOptions, VideoEvent, VideoPlayer};
use std::time::Duration;

/// Radius of the film's sphere, metres: beyond the hotspot markers
/// ([`super::state::VIDEO_MARKER_DISTANCE_M`]) and the answer panel, well inside the camera's
/// far plane.
pub const SPHERE_RADIUS_M: f32 = 10.0;
/// The largest frame decoded, pixels: 4096×2048 is the usual 4K equirectangular master; bigger
/// films are scaled down by the decoder.
pub const MAX_SIZE: (u32, u32) = (4096, 2048);
/// How often a headset compares its film with the director's clock, seconds.
pub const RESYNC_EVERY_S: f64 = 2.0;
/// How far a film may stray from the director's clock before it seeks back: a quarter of a
/// second, under what a group comparing what they see notices, and above a seek's own cost so
/// that a resync does not cause the next one.
pub const RESYNC_TOLERANCE: Duration = Duration::from_millis(250);
/// A film this late at its start seeks rather than playing from the beginning, as the room
/// screen's video cues do.
const SEEK_FROM: Duration = Duration::from_millis(200);

/// Where `film` should stand now: on the director's session clock when both its start and the
/// clock are known (`director_now_ms`), else since it started on this headset (`now_s`, the
/// local clock in seconds). Never negative.
pub fn film_position(film: &VideoRun, director_now_ms: Option<u64>, now_s: f64) -> Duration {
    match (film.started_at_ms, director_now_ms) {
        (Some(start), Some(now)) => Duration::from_millis(now.saturating_sub(start)),
        _ => Duration::from_secs_f64((now_s - film.started_s).max(0.0)),
    }
}

/// The film this headset plays, if any.
#[derive(Resource, Default)]
pub struct Film {
    current: Option<Playing>,
    /// The film being opened on its own thread (GStreamer's preroll can take a few hundred
    /// milliseconds: a frozen frame in a headset is what makes people sick).
    opening: Option<(VideoRun, Opening)>,
    /// The film that failed to open (not tried again until another run).
    failed: Option<VideoRun>,
}

struct Playing {
    run: VideoRun,
    player: VideoPlayer,
    ended: bool,
    next_check_s: f64,
    /// Held by the facilitator's pause.
    paused: bool,
}

/// Whether `a` and `b` are the same film of the same run (its start on the director's clock
/// may have moved on after a pause: the film seeks, it does not open again).
fn same_film(a: &VideoRun, b: &VideoRun) -> bool {
    a.immersion == b.immersion && a.file == b.file && a.stereo == b.stereo
}

impl Film {
    /// The run whose film is open.
    pub fn playing(&self) -> Option<&VideoRun> {
        self.current.as_ref().map(|p| &p.run)
    }

    /// Where the open film stands, once the decoder knows.
    pub fn position(&self) -> Option<Duration> {
        self.current.as_ref().and_then(|p| p.player.position())
    }

    /// Whether the open film reached its end (its last frame stays).
    pub fn ended(&self) -> bool {
        self.current.as_ref().is_some_and(|p| p.ended)
    }

    /// How many frames the open film decoded.
    pub fn frames_decoded(&self) -> u64 {
        self.current
            .as_ref()
            .map_or(0, |p| p.player.frames_decoded())
    }
}

/// The film's logic: open, follow the director's clock, tell problems (headless too).
pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<Film>()
        .add_systems(Update, pump.after(HeadsetLogic).in_set(GameSystems::Logic));
}

/// The film on the sphere (needs a renderer).
pub(crate) fn view_plugin(app: &mut App) {
    app.add_systems(Update, show_film.in_set(GameSystems::View));
}

fn problem(reports: &mut MessageWriter<Report>, run: &VideoRun, what: &str) {
    let what = format!(
        "immersion {} : vidéo 360° « {} » : {what}",
        run.immersion, run.file
    );
    error!("{what}");
    reports.write(Report(DeviceEvent::Problem { what }));
}

fn pump(
    mut film: ResMut<Film>,
    state: Res<HeadsetState>,
    content: Res<GameContent>,
    room: Option<Res<Room>>,
    audio: Option<Res<AudioOutput>>,
    mut reports: MessageWriter<Report>,
) {
    let want = state.shown_video.as_ref();
    let now_s = state.now_s;
    let same = |run: Option<&VideoRun>| match (run, want) {
        (Some(a), Some(b)) => same_film(a, b),
        (None, None) => true,
        _ => false,
    };
    if !same(film.current.as_ref().map(|p| &p.run)) {
        // Another run, or a stop: the old film stops at once.
        film.current = None;
    }
    if let (Some(playing), Some(want)) = (film.current.as_mut(), want)
        && playing.run != *want
    {
        // Its start moved on (a resume): it seeks to where the director's clock says.
        playing.run = want.clone();
        playing.next_check_s = now_s;
    }
    if !same(film.opening.as_ref().map(|(r, _)| r)) {
        film.opening = None;
    }
    if !same(film.failed.as_ref()) {
        film.failed = None;
    }
    let director_now = room.as_ref().and_then(|r| r.director_now_ms);
    if film.current.is_none()
        && film.opening.is_none()
        && film.failed.is_none()
        && let Some(run) = want
    {
        let options = PlayerOptions {
            max_size: Some(MAX_SIZE),
            audio: audio.as_ref().is_some_and(|a| a.available),
            looped: false,
            realtime: true,
        };
        let path = content.assets.join(run.file.as_str());
        film.opening = Some((run.clone(), Opening::start(path, options)));
    }
    // Opened: it starts where the director's clock says now.
    let opened = film.opening.as_ref().and_then(|(_, o)| o.poll());
    if let Some(result) = opened
        && let Some((run, _)) = film.opening.take()
    {
        let at = film_position(&run, director_now, now_s);
        let started = result.and_then(|mut player| {
            if at > SEEK_FROM {
                player.seek(at).map_err(|e| e.to_string())?;
            }
            player.play().map_err(|e| e.to_string())?;
            Ok(player)
        });
        match started {
            Ok(player) => {
                info!(
                    "film {} ouvert à {:.1} s ({}×{})",
                    run.file,
                    at.as_secs_f64(),
                    player.info().width,
                    player.info().height
                );
                film.current = Some(Playing {
                    run,
                    player,
                    ended: false,
                    next_check_s: now_s + RESYNC_EVERY_S,
                    paused: false,
                });
            }
            Err(e) => {
                problem(&mut reports, &run, &e);
                film.failed = Some(run);
            }
        }
    }
    let Some(playing) = film.current.as_mut() else {
        return;
    };
    // The facilitator's pause holds the film; the resume plays it and seeks at once.
    let paused = state.paused_at.is_some();
    if paused != playing.paused {
        playing.paused = paused;
        if !paused {
            playing.next_check_s = now_s;
        }
        if let Err(e) = playing.player.set_paused(paused) {
            problem(&mut reports, &playing.run, &e.to_string());
        }
    }
    if paused {
        return;
    }
    for event in playing.player.poll_events() {
        match event {
            VideoEvent::Ended => playing.ended = true,
            VideoEvent::Error(e) => problem(&mut reports, &playing.run, &e.to_string()),
            VideoEvent::Looped | VideoEvent::Seeked { .. } => {}
        }
    }
    if !playing.ended && now_s >= playing.next_check_s {
        playing.next_check_s = now_s + RESYNC_EVERY_S;
        let expected = film_position(&playing.run, director_now, now_s);
        let length = playing.player.info().duration;
        // Past the end on the director's clock: nothing to catch up with.
        if length.is_none_or(|d| expected < d) {
            match playing.player.resync(expected, RESYNC_TOLERANCE) {
                Ok(true) => info!(
                    "film {} recalé sur l'horloge du directeur à {:.2} s",
                    playing.run.file,
                    expected.as_secs_f64()
                ),
                Ok(false) => {}
                Err(e) => problem(&mut reports, &playing.run, &e.to_string()),
            }
        }
    }
}

pub use boussole_scene::inside_sphere;

/// The sphere the film is drawn on, and the image it shows.
#[derive(Component)]
struct FilmSphere {
    run: VideoRun,
    image: Handle<Image>,
}

fn show_film(
    film: Res<Film>,
    state: Res<HeadsetState>,
    mut commands: Commands,
    mut spheres: Query<(Entity, &FilmSphere)>,
    mut images: ResMut<Assets<Image>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let want = state.shown_video.as_ref();
    let mut current = None;
    for (e, sphere) in &mut spheres {
        if Some(&sphere.run) == want {
            current = Some(sphere.image.clone());
        } else {
            commands.entity(e).despawn();
        }
    }
    let Some(run) = want else { return };
    let image = match current {
        Some(image) => image,
        None => {
            let image = images.add(black_image(Extent3d {
                width: 2,
                height: 2,
                depth_or_array_layers: 1,
            }));
            // Top-bottom stereo: the top half (the left eye's) on the whole sphere.
            let uv_transform = if run.stereo {
                Affine2::from_scale(Vec2::new(1.0, 0.5))
            } else {
                Affine2::IDENTITY
            };
            commands.spawn((
                FilmSphere {
                    run: run.clone(),
                    image: image.clone(),
                },
                Mesh3d(meshes.add(inside_sphere(SPHERE_RADIUS_M, 96, 48))),
                MeshMaterial3d(materials.add(StandardMaterial {
                    base_color_texture: Some(image.clone()),
                    unlit: true,
                    uv_transform,
                    ..default()
                })),
                Transform::from_translation(state.eye),
                Name::new(format!("film {}", run.file)),
            ));
            image
        }
    };
    let Some(playing) = film.current.as_ref().filter(|p| p.run == *run) else {
        return;
    };
    let Some(frame) = playing.player.take_frame() else {
        return;
    };
    if let Some(mut image) = images.get_mut(&image) {
        put_frame(&mut image, &frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::mesh::Indices;
    use boussole_content::text::AssetPath;

    fn run(started_at_ms: Option<u64>) -> VideoRun {
        VideoRun {
            immersion: "visite".into(),
            file: AssetPath("videos/tests/sphere_360_512x256.webm".into()),
            stereo: false,
            started_at_ms,
            started_s: 10.0,
        }
    }

    #[test]
    fn the_film_follows_the_directors_clock_else_the_local_start() {
        let synced = run(Some(60_000));
        assert_eq!(
            film_position(&synced, Some(61_500), 99.0),
            Duration::from_millis(1_500)
        );
        // A clock a little behind the start (clock sync's error): the beginning, not a panic.
        assert_eq!(film_position(&synced, Some(59_990), 99.0), Duration::ZERO);
        // No director clock yet: since the run started here.
        assert_eq!(
            film_position(&synced, None, 12.5),
            Duration::from_millis(2_500)
        );
        assert_eq!(film_position(&run(None), Some(61_500), 9.0), Duration::ZERO);
    }

    #[test]
    fn an_anchor_falls_on_its_pixel_of_the_film() -> Result<(), String> {
        let mesh = inside_sphere(1.0, 8, 4);
        let positions = mesh
            .attribute(Mesh::ATTRIBUTE_POSITION)
            .and_then(|a| a.as_float3())
            .ok_or("positions")?;
        let Some(bevy::mesh::VertexAttributeValues::Float32x2(uvs)) =
            mesh.attribute(Mesh::ATTRIBUTE_UV_0)
        else {
            return Err("uvs".into());
        };
        let uv_towards = |dir: Vec3| {
            positions
                .iter()
                .zip(uvs)
                .filter(|(p, _)| Vec3::from_array(**p).distance(dir) < 1e-4)
                .map(|(_, uv)| *uv)
                .collect::<Vec<_>>()
        };
        let near = |uv: [f32; 2], want: [f32; 2]| {
            (uv[0] - want[0]).abs() < 1e-5 && (uv[1] - want[1]).abs() < 1e-5
        };
        // Straight ahead: the film's centre.
        let ahead = uv_towards(super::super::state::video_direction(0.0, 0.0));
        assert!(ahead.iter().any(|uv| near(*uv, [0.5, 0.5])), "{ahead:?}");
        // 90° to the right (+X): three quarters across.
        let right = uv_towards(Vec3::X);
        assert!(right.iter().any(|uv| near(*uv, [0.75, 0.5])), "{right:?}");
        // Overhead: the top row.
        let up = uv_towards(Vec3::Y);
        assert!(
            !up.is_empty() && up.iter().all(|uv| uv[1].abs() < 1e-5),
            "{up:?}"
        );
        // Every triangle faces the centre (its normal points inwards).
        let Some(Indices::U32(indices)) = mesh.indices() else {
            return Err("indices".into());
        };
        for t in indices.chunks(3) {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| Vec3::from_array(positions[i as usize]));
            let normal = (b - a).cross(c - a);
            let centre = (a + b + c) / 3.0;
            if normal.length() > 1e-6 {
                assert!(normal.dot(centre) < 0.0, "triangle {t:?} faces outwards");
            }
        }
        Ok(())
    }
}
