//! The spectator's pictures: each headset's scene drawn from its wearer's head, on the console.
//! A scene is built once, by the headset's own builder (`boussole-scene`), on a render layer of
//! its own, so that several scenes share the console's world without lighting each other; a
//! 360° film is its poster frame on the inside of a sphere around the head (no film is decoded
//! on the laptop). Each headset has a camera that renders its picture into an image the
//! console's egui panel shows (`ui::spectator`), with the hotspots and the pointer drawn over
//! it there.
//!
//! The panel asks for pictures each frame it is drawn ([`SpectatorWanted`]); this plugin answers
//! in [`SpectatorPictures`] the next frame. A picture is drawn again only when its pose moved,
//! and at most [`budget`] pictures per frame (fewer as frames grow slow), the longest waiting
//! first
//! ([`crate::spectator::due`]): a console following more headsets keeps its frame rate, each
//! picture comes less often, and the panel says so. A view no longer asked for stops drawing,
//! and is dropped after [`FORGET_AFTER_FRAMES`] frames.

use crate::spectator::{Backdrop, VIEW_ASPECT, VIEW_FOV_V_DEG, due};
use bevy::camera::visibility::RenderLayers;
use bevy::camera::{ImageRenderTarget, RenderTarget};
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy_egui::{EguiTextureHandle, EguiUserTextures, egui};
use boussole_content::ContentSet;
use boussole_content::ids::SceneId;
use boussole_content::immersion::SceneSpec;
use boussole_protocol::wire::Pose;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Pictures drawn per frame at most, on a quick frame ([`budget`]).
pub const RENDERS_PER_FRAME: usize = 3;

/// How many pictures the next frame may draw after a frame of `last_frame_ms`: three under
/// 25 ms, two under 50 ms, else one. A view costs a GPU well under a millisecond, but about
/// 30 ms to lavapipe, the software Vulkan of a laptop without a GPU driver (BENCHMARKS.md,
/// "The spectator"): there the console keeps its frame rate by drawing one view a frame,
/// each headset's picture coming less often.
pub fn budget(last_frame_ms: f64) -> usize {
    if last_frame_ms > 50.0 {
        1
    } else if last_frame_ms > 25.0 {
        2
    } else {
        RENDERS_PER_FRAME
    }
}
/// A view not asked for this many frames in a row is dropped (a minute at the console's ten
/// frames a second).
pub const FORGET_AFTER_FRAMES: u32 = 600;
/// The small picture's size, pixels: its size on the card (`ui::spectator`, 2:1), so that no
/// pixel is drawn that the window does not show.
pub const SMALL: UVec2 = UVec2::new(260, 130);
/// The enlarged picture's size, pixels (its size on screen).
pub const LARGE: UVec2 = UVec2::new(560, 280);
/// The radius of a film's sphere, metres (the headset's).
const FILM_SPHERE_M: f32 = 10.0;
/// The first render layer given to a backdrop (layer 0 is the console's own window).
const FIRST_LAYER: usize = 1;

/// A picture the panel wants this frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted {
    /// The headset.
    pub device: String,
    /// What is behind the head.
    pub backdrop: Backdrop,
    /// The head.
    pub pose: Pose,
    /// Enlarged.
    pub large: bool,
}

/// What the panel asked for in its last frame (it fills this; the plugin takes it).
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct SpectatorWanted(pub Vec<Wanted>);

/// The pictures ready, for the panel.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct SpectatorPictures {
    /// Each headset's picture, once drawn at least once.
    pub textures: BTreeMap<String, egui::TextureId>,
    /// More pictures were asked for than are drawn per frame: how many.
    pub slowed: Option<usize>,
    /// Pictures drawn since the console started.
    pub drawn: u64,
    /// The headsets whose picture is drawn this frame, with the pose's `device_ms` (the
    /// benchmark's pose-to-picture latency).
    pub drawn_now: Vec<(String, u64)>,
    /// Pictures asked for in the last frame and never drawn yet (the screenshot run waits for
    /// none).
    pub waiting: usize,
}

/// What the plugin builds from: the scenes of the console's content, and its assets folder
/// (the films' poster frames).
#[derive(Resource, Debug, Clone)]
pub struct SpectatorContent {
    scenes: BTreeMap<SceneId, SceneSpec>,
    assets: PathBuf,
}

impl SpectatorContent {
    /// The scenes of `content`; posters are read under `assets`.
    pub fn new(content: &ContentSet, assets: &Path) -> Self {
        Self {
            scenes: content
                .scenes
                .iter()
                .map(|s| (s.value.id.clone(), s.value.clone()))
                .collect(),
            assets: assets.to_path_buf(),
        }
    }
}

/// A backdrop's entities, marked with its layer.
#[derive(Component, Debug, Clone, Copy)]
struct BackdropPart;

/// A headset's camera.
#[derive(Component, Debug)]
struct SpectatorCamera;

#[derive(Debug)]
struct View {
    camera: Entity,
    image: Handle<Image>,
    size: UVec2,
    backdrop: Backdrop,
    /// The pose of the picture drawn last, if any.
    drawn: Option<Pose>,
    /// The frame since which the picture is out of date; `None` while it is up to date.
    stale_since: Option<u64>,
    /// Frames in a row it was not asked for.
    unwanted: u32,
}

#[derive(Resource, Debug, Default)]
struct Views {
    views: BTreeMap<String, View>,
    layers: BTreeMap<Backdrop, usize>,
    frame: u64,
}

/// Where the plugin's system runs (in `Update`): a feeder of [`SpectatorWanted`] runs before.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpectatorViewSystems;

/// The spectator's pictures (needs `SpectatorContent` and bevy_egui's plugin).
pub fn plugin(app: &mut App) {
    app.init_resource::<SpectatorWanted>()
        .init_resource::<SpectatorPictures>()
        .init_resource::<Views>()
        .insert_resource(boussole_scene::ambient_light())
        .add_systems(Update, update.in_set(SpectatorViewSystems));
}

#[expect(clippy::too_many_arguments, reason = "a Bevy system's resources")]
fn update(
    mut commands: Commands,
    mut wanted: ResMut<SpectatorWanted>,
    mut pictures: ResMut<SpectatorPictures>,
    mut views: ResMut<Views>,
    content: Option<Res<SpectatorContent>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut images: ResMut<Assets<Image>>,
    mut textures: ResMut<EguiUserTextures>,
    mut cameras: Query<(&mut Camera, &mut Transform), With<SpectatorCamera>>,
    time: Res<Time<Real>>,
) {
    let Some(content) = content else { return };
    let wanted = std::mem::take(&mut wanted.0);
    let views = &mut *views;
    views.frame += 1;
    let frame = views.frame;
    for w in &wanted {
        let layer = match views.layers.get(&w.backdrop) {
            Some(layer) => *layer,
            None => {
                let layer = FIRST_LAYER + views.layers.len();
                build_backdrop(
                    &mut commands,
                    &mut meshes,
                    &mut materials,
                    &mut images,
                    &content,
                    &w.backdrop,
                    layer,
                );
                views.layers.insert(w.backdrop.clone(), layer);
                layer
            }
        };
        let size = if w.large { LARGE } else { SMALL };
        let fresh = views
            .views
            .get(&w.device)
            .is_none_or(|v| v.size != size || v.backdrop != w.backdrop);
        if fresh {
            if let Some(old) = views.views.remove(&w.device) {
                forget(&mut commands, &mut textures, &old);
                pictures.textures.remove(&w.device);
            }
            let image = images.add(Image::new_target_texture(
                size.x,
                size.y,
                TextureFormat::Bgra8UnormSrgb,
                None,
            ));
            let camera = commands
                .spawn((
                    SpectatorCamera,
                    Camera3d::default(),
                    Camera {
                        is_active: false,
                        clear_color: ClearColorConfig::Custom(Color::srgb(0.09, 0.09, 0.1)),
                        order: -1,
                        ..default()
                    },
                    RenderTarget::Image(ImageRenderTarget {
                        handle: image.clone(),
                        scale_factor: 1.0,
                    }),
                    Projection::Perspective(PerspectiveProjection {
                        fov: VIEW_FOV_V_DEG.to_radians(),
                        aspect_ratio: VIEW_ASPECT,
                        ..default()
                    }),
                    RenderLayers::layer(layer),
                    // No multisampling: four samples a pixel cost most of a view's time on a
                    // laptop's software or integrated graphics, for edges at thumbnail size.
                    Msaa::Off,
                    Transform::default(),
                    Name::new(format!("vue du casque {}", w.device)),
                ))
                .id();
            views.views.insert(
                w.device.clone(),
                View {
                    camera,
                    image,
                    size,
                    backdrop: w.backdrop.clone(),
                    drawn: None,
                    stale_since: Some(frame),
                    unwanted: 0,
                },
            );
        }
        if let Some(view) = views.views.get_mut(&w.device) {
            view.unwanted = 0;
            if view.drawn.is_some() && view.drawn.as_ref() == Some(&w.pose) {
                view.stale_since = None;
            } else if view.stale_since.is_none() {
                view.stale_since = Some(frame);
            }
        }
    }
    let waiting: Vec<(String, u64)> = wanted
        .iter()
        .filter_map(|w| {
            let v = views.views.get(&w.device)?;
            v.stale_since.map(|since| (w.device.clone(), since))
        })
        .collect();
    let allowed = budget(time.delta_secs_f64() * 1e3);
    let drawn_now = due(&waiting, allowed);
    pictures.drawn_now.clear();
    pictures.slowed = (waiting.len() > allowed).then_some(wanted.len());
    for (device, view) in &mut views.views {
        let Ok((mut camera, mut transform)) = cameras.get_mut(view.camera) else {
            continue;
        };
        let pose = wanted.iter().find(|w| w.device == *device).map(|w| &w.pose);
        let draw = drawn_now.contains(device);
        camera.is_active = draw;
        if let (true, Some(pose)) = (draw, pose) {
            *transform = head_transform(&view.backdrop, pose);
            view.drawn = Some(pose.clone());
            view.stale_since = None;
            pictures.drawn += 1;
            pictures.drawn_now.push((device.clone(), pose.device_ms));
        }
        if pose.is_none() {
            view.unwanted += 1;
        }
    }
    let forgotten: Vec<String> = views
        .views
        .iter()
        .filter(|(_, v)| v.unwanted >= FORGET_AFTER_FRAMES)
        .map(|(d, _)| d.clone())
        .collect();
    for device in forgotten {
        if let Some(view) = views.views.remove(&device) {
            forget(&mut commands, &mut textures, &view);
        }
    }
    pictures.waiting = wanted
        .iter()
        .filter(|w| views.views.get(&w.device).is_none_or(|v| v.drawn.is_none()))
        .count();
    // Each view drawn at least once has its picture; a replaced one (enlarged, another
    // backdrop) shows again once drawn.
    pictures
        .textures
        .retain(|d, _| views.views.get(d).is_some_and(|v| v.drawn.is_some()));
    for (device, view) in &views.views {
        if view.drawn.is_some() && !pictures.textures.contains_key(device) {
            let id = textures.add_image(EguiTextureHandle::Strong(view.image.clone()));
            pictures.textures.insert(device.clone(), id);
        }
    }
}

fn forget(commands: &mut Commands, textures: &mut EguiUserTextures, view: &View) {
    textures.remove_image(&view.image);
    if let Ok(mut camera) = commands.get_entity(view.camera) {
        camera.despawn();
    }
}

/// Where a view's camera stands: the head, or the centre of a film's sphere turned as the
/// head.
fn head_transform(backdrop: &Backdrop, pose: &Pose) -> Transform {
    let rotation = Quat::from_array(pose.orientation).normalize();
    let translation = match backdrop {
        Backdrop::Scene(_) => Vec3::from_array(pose.position_m),
        Backdrop::Film { .. } => Vec3::ZERO,
    };
    Transform {
        translation,
        rotation,
        ..default()
    }
}

/// Builds `backdrop` on render `layer`: the scene by the headset's builder, or the film's
/// sphere with its poster frame (a plain sphere when the poster is missing or unreadable; the
/// hotspots are still drawn over it).
fn build_backdrop(
    commands: &mut Commands,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
    images: &mut Assets<Image>,
    content: &SpectatorContent,
    backdrop: &Backdrop,
    layer: usize,
) {
    let marks = (BackdropPart, RenderLayers::layer(layer));
    match backdrop {
        Backdrop::Scene(id) => {
            let spec = content
                .scenes
                .get(id)
                .cloned()
                .unwrap_or_else(boussole_scene::calm_room);
            boussole_scene::build_with(commands, meshes, materials, &spec, marks);
        }
        Backdrop::Film { poster } => {
            let texture = read_poster(&content.assets.join(poster)).map(|i| images.add(i));
            if texture.is_none() {
                warn!("spectateur : pas d'image d'affiche lisible pour {poster}");
            }
            let material = materials.add(StandardMaterial {
                base_color: if texture.is_some() {
                    Color::WHITE
                } else {
                    Color::srgb(0.22, 0.26, 0.3)
                },
                base_color_texture: texture,
                unlit: true,
                ..default()
            });
            commands.spawn((
                Mesh3d(meshes.add(boussole_scene::inside_sphere(FILM_SPHERE_M, 64, 32))),
                MeshMaterial3d(material),
                Transform::default(),
                marks,
            ));
        }
    }
}

/// A poster frame as an image (PNG, RGBA), `None` when missing or unreadable.
fn read_poster(path: &Path) -> Option<Image> {
    let decoded = image::open(path).ok()?.into_rgba8();
    let (width, height) = decoded.dimensions();
    Some(Image::new(
        bevy::render::render_resource::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        bevy::render::render_resource::TextureDimension::D2,
        decoded.into_raw(),
        TextureFormat::Rgba8UnormSrgb,
        bevy::asset::RenderAssetUsages::RENDER_WORLD,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_frames_draw_fewer_views() {
        assert_eq!(budget(8.0), RENDERS_PER_FRAME);
        assert_eq!(budget(25.0), RENDERS_PER_FRAME);
        assert_eq!(budget(30.0), 2);
        assert_eq!(budget(50.0), 2);
        assert_eq!(budget(120.0), 1);
        // Never none: a slow console still moves every picture on, in turn.
        assert_eq!(budget(f64::MAX), 1);
    }
}
