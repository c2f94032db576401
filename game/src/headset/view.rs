//! Draws the headset in a flat window: the scene from the generic builder (or the calm room;
//! nothing for a 360° film, which `video360` draws),
//! yellow markers on hotspots, the answer panel's big buttons in the world with their labels,
//! the panel's text at the top and the caption at the bottom, a vignette around turns and
//! teleports, and the fade from black after a stop. The keyboard gives snap turns (Q/E or the
//! arrows) and the participant's stop (Échap); the mouse feeds the pointer layer.

use super::pointer::{Pointer, PointerCamera};
use super::scene::{self, Built};
use super::state::{
    ButtonAction, HeadsetAction, HeadsetState, HotspotMarker, Panel, PanelButtonEntity, Phase, Rig,
};
use crate::GameSystems;
use crate::content::GameContent;
use crate::pictogram::Pictograms;
use crate::ui;
use bevy::prelude::*;
use boussole_content::immersion::SceneSpec;
use std::sync::Arc;

/// The scene the world shows (`None`: the calm room), and whether a film replaces it, to
/// rebuild on change.
#[derive(Resource, Default)]
struct BuiltScene(Option<(Option<Arc<SceneSpec>>, bool)>);

/// Materials of markers and buttons.
#[derive(Resource)]
struct Looks {
    marker: Handle<StandardMaterial>,
    marker_seen: Handle<StandardMaterial>,
    marker_mesh: Handle<Mesh>,
    button: Handle<StandardMaterial>,
    button_chosen: Handle<StandardMaterial>,
    button_hovered: Handle<StandardMaterial>,
    /// Buttons that move on (Commencer, Valider, Terminer…), apart from the answers.
    button_primary: Handle<StandardMaterial>,
}

/// A label that follows an entity of the world on screen; for a button, its half width
/// (metres), so the words wrap inside it.
#[derive(Component, Debug)]
struct LabelOf(Entity, Option<f32>);

/// The overlay's root (panel text, caption, help), rebuilt on change.
#[derive(Component, Debug)]
struct Overlay;

/// Dark edges during turns and teleports.
#[derive(Component, Debug)]
struct Vignette;

/// Black over everything, fading out after a stop.
#[derive(Component, Debug)]
struct Fade;

/// What the overlay shows, compared frame to frame.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct OverlayModel {
    /// The panel's title and text.
    pub panel: Option<(String, String)>,
    /// The caption's title and text.
    pub caption: Option<(String, String)>,
    /// A line for the calm room.
    pub calm: Option<String>,
    /// Help with the controls.
    pub help: String,
}

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<BuiltScene>()
        .init_resource::<OverlayModel>()
        .init_resource::<Pictograms>()
        .insert_resource(scene::ambient_light())
        .add_systems(Startup, (setup_looks, spawn_overlay_layers))
        .add_systems(Update, keys.in_set(GameSystems::Input))
        .add_systems(
            Update,
            (
                camera_on_rig,
                preload_pictograms,
                rebuild_scene,
                decorate_markers,
                decorate_buttons,
                spawn_labels,
                model,
                draw_overlay,
                vignette_and_fade,
            )
                .chain()
                .in_set(GameSystems::View),
        )
        .add_systems(PostUpdate, place_labels.after(TransformSystems::Propagate));
}

fn setup_looks(
    mut commands: Commands,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let glow = |c: Color, e: LinearRgba| StandardMaterial {
        base_color: c,
        emissive: e,
        perceptual_roughness: 0.6,
        ..default()
    };
    commands.insert_resource(Looks {
        marker: materials.add(glow(
            Color::srgb(1.0, 0.82, 0.1),
            LinearRgba::rgb(1.2, 0.9, 0.1),
        )),
        marker_seen: materials.add(glow(
            Color::srgb(0.3, 0.75, 0.4),
            LinearRgba::rgb(0.2, 0.6, 0.25),
        )),
        marker_mesh: meshes.add(Sphere::new(0.12).mesh().uv(24, 14)),
        button: materials.add(glow(
            Color::srgb(0.12, 0.22, 0.42),
            LinearRgba::rgb(0.05, 0.1, 0.25),
        )),
        button_chosen: materials.add(glow(
            Color::srgb(0.9, 0.6, 0.1),
            LinearRgba::rgb(0.6, 0.35, 0.05),
        )),
        button_primary: materials.add(glow(
            Color::srgb(0.12, 0.45, 0.25),
            LinearRgba::rgb(0.05, 0.25, 0.1),
        )),
        button_hovered: materials.add(glow(
            Color::srgb(0.2, 0.5, 0.95),
            LinearRgba::rgb(0.15, 0.35, 0.8),
        )),
    });
}

fn spawn_overlay_layers(mut commands: Commands) {
    commands.spawn((
        Vignette,
        Node {
            position_type: PositionType::Absolute,
            width: percent(100.0),
            height: percent(100.0),
            border: UiRect::axes(percent(14.0), percent(12.0)),
            ..default()
        },
        BorderColor::all(Color::BLACK.with_alpha(0.0)),
        GlobalZIndex(5),
    ));
    commands.spawn((
        Fade,
        Node {
            position_type: PositionType::Absolute,
            width: percent(100.0),
            height: percent(100.0),
            ..default()
        },
        BackgroundColor(Color::BLACK.with_alpha(0.0)),
        GlobalZIndex(10),
    ));
}

fn keys(keys: Res<ButtonInput<KeyCode>>, mut actions: MessageWriter<HeadsetAction>) {
    if keys.any_just_pressed([KeyCode::KeyQ, KeyCode::ArrowLeft]) {
        actions.write(HeadsetAction::Turn(-1));
    }
    if keys.any_just_pressed([KeyCode::KeyE, KeyCode::ArrowRight]) {
        actions.write(HeadsetAction::Turn(1));
    }
    if keys.just_pressed(KeyCode::Escape) {
        actions.write(HeadsetAction::Stop);
    }
    if keys.just_pressed(KeyCode::KeyR) {
        actions.write(HeadsetAction::Replay);
    }
}

/// The flat window's camera is the rig itself. In the headset the window's camera is the
/// mirror that follows the head (`third_party::xr`), so the rig gets none.
fn camera_on_rig(
    mut commands: Commands,
    rigs: Query<Entity, (With<Rig>, Without<Camera>)>,
    mode: Option<Res<crate::third_party::xr::XrMode>>,
) {
    if mode.is_some_and(|m| *m == crate::third_party::xr::XrMode::Headset) {
        return;
    }
    for rig in &rigs {
        commands
            .entity(rig)
            .insert((Camera3d::default(), PointerCamera));
    }
}

/// Draws every pictogram of the immersion that starts, before its panels need them (drawing
/// an SVG mid-visit would drop frames in a headset).
fn preload_pictograms(
    state: Res<HeadsetState>,
    content: Res<GameContent>,
    mut pictograms: ResMut<Pictograms>,
    mut images: ResMut<Assets<Image>>,
    mut done: Local<Option<boussole_content::ids::ImmersionId>>,
) {
    let Some(run) = &state.run else { return };
    if done.as_ref() == Some(&run.immersion.id) {
        return;
    }
    *done = Some(run.immersion.id.clone());
    for path in run
        .immersion
        .texts()
        .iter()
        .filter_map(|t| t.pictogram.as_ref())
    {
        pictograms.get(&content.assets, path, &mut images);
    }
}

fn rebuild_scene(
    state: Res<HeadsetState>,
    mut built: ResMut<BuiltScene>,
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    old: Query<Entity, With<Built>>,
) {
    let want = state.shown_scene.clone();
    let film = state.shown_video.is_some();
    let same = match (&built.0, &want) {
        (Some((Some(a), f)), Some(b)) => Arc::ptr_eq(a, b) && *f == film,
        (Some((None, f)), None) => *f == film,
        _ => false,
    };
    if same {
        return;
    }
    for e in &old {
        commands.entity(e).despawn();
    }
    // A 360° film is the whole world (`video360` draws it): no room around it.
    if !film {
        let spec = want.clone().unwrap_or_else(|| Arc::new(scene::calm_room()));
        scene::build(&mut commands, &mut meshes, &mut materials, &spec);
    }
    built.0 = Some((want, film));
}

fn decorate_markers(
    mut commands: Commands,
    looks: Res<Looks>,
    state: Res<HeadsetState>,
    added: Query<Entity, Added<HotspotMarker>>,
    mut markers: Query<(
        &HotspotMarker,
        &mut MeshMaterial3d<StandardMaterial>,
        &mut Visibility,
    )>,
) {
    for e in &added {
        commands.entity(e).insert((
            Mesh3d(looks.marker_mesh.clone()),
            MeshMaterial3d(looks.marker.clone()),
        ));
    }
    let Some(run) = &state.run else { return };
    // Markers show during the visit only: a questionnaire or a break prompt asks for the
    // participant's whole attention.
    let shown = if state.phase == Phase::Exploring && !state.break_prompt {
        Visibility::Inherited
    } else {
        Visibility::Hidden
    };
    for (m, mut material, mut visibility) in &mut markers {
        if *visibility != shown {
            *visibility = shown;
        }
        let want = if run.seen.contains(&m.hotspot) {
            &looks.marker_seen
        } else {
            &looks.marker
        };
        if material.0 != *want {
            material.0 = want.clone();
        }
    }
}

fn decorate_buttons(
    mut commands: Commands,
    looks: Res<Looks>,
    pointer: Res<Pointer>,
    mut meshes: ResMut<Assets<Mesh>>,
    added: Query<(Entity, &super::pointer::Interactable), Added<PanelButtonEntity>>,
    mut buttons: Query<(
        Entity,
        &PanelButtonEntity,
        &mut MeshMaterial3d<StandardMaterial>,
    )>,
) {
    for (e, shape) in &added {
        let half = match shape {
            super::pointer::Interactable::Box { half_extents } => *half_extents,
            super::pointer::Interactable::Sphere { radius } => Vec3::splat(*radius),
        };
        let size = half * 2.0;
        commands.entity(e).insert((
            Mesh3d(meshes.add(Cuboid::new(size.x, size.y, 0.02))),
            MeshMaterial3d(looks.button.clone()),
        ));
    }
    let hovered = pointer.hovered.map(|(e, _)| e);
    for (e, b, mut material) in &mut buttons {
        let want = if b.0.chosen {
            &looks.button_chosen
        } else if hovered == Some(e) {
            &looks.button_hovered
        } else if matches!(b.0.action, ButtonAction::Pick(_) | ButtonAction::Rate(_)) {
            &looks.button
        } else {
            &looks.button_primary
        };
        if material.0 != *want {
            material.0 = want.clone();
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "labels follow buttons and markers, and draw pictograms from the content's media"
)]
fn spawn_labels(
    mut commands: Commands,
    buttons: Query<
        (Entity, &PanelButtonEntity, &super::pointer::Interactable),
        Added<PanelButtonEntity>,
    >,
    markers: Query<(Entity, &HotspotMarker), Added<HotspotMarker>>,
    words: Query<(Entity, &scene::WorldLabel), Added<scene::WorldLabel>>,
    labels: Query<(Entity, &LabelOf)>,
    alive: Query<()>,
    content: Res<GameContent>,
    mut pictograms: ResMut<Pictograms>,
    mut images: ResMut<Assets<Image>>,
) {
    for (label, of) in &labels {
        if alive.get(of.0).is_err() {
            commands.entity(label).despawn();
        }
    }
    for (e, b, shape) in &buttons {
        let half_width = match shape {
            super::pointer::Interactable::Box { half_extents } => half_extents.x,
            super::pointer::Interactable::Sphere { radius } => *radius,
        };
        let words = (
            ui::text(b.0.label.clone(), 22.0, ui::INK),
            TextLayout {
                justify: Justify::Center,
                ..default()
            },
        );
        let pictogram =
            b.0.pictogram
                .as_ref()
                .and_then(|p| pictograms.get(&content.assets, p, &mut images));
        let Some(pictogram) = pictogram else {
            commands.spawn((
                LabelOf(e, Some(half_width)),
                Node {
                    position_type: PositionType::Absolute,
                    ..default()
                },
                Visibility::Hidden,
                // Above the overlay's cards: a button's words must never hide behind a caption.
                GlobalZIndex(4),
                words,
            ));
            continue;
        };
        // The pictogram on the left, the words beside it.
        commands
            .spawn((
                LabelOf(e, Some(half_width)),
                Node {
                    position_type: PositionType::Absolute,
                    flex_direction: FlexDirection::Row,
                    align_items: AlignItems::Center,
                    justify_content: JustifyContent::Center,
                    column_gap: px(12.0),
                    ..default()
                },
                Visibility::Hidden,
                GlobalZIndex(4),
            ))
            .with_children(|label| {
                label.spawn((
                    ImageNode::new(pictogram),
                    Node {
                        width: px(44.0),
                        height: px(44.0),
                        flex_shrink: 0.0,
                        ..default()
                    },
                ));
                label.spawn(words);
            });
    }
    for (e, m) in &markers {
        commands.spawn((
            LabelOf(e, None),
            Node {
                position_type: PositionType::Absolute,
                padding: UiRect::axes(px(8.0), px(2.0)),
                border_radius: BorderRadius::all(px(6.0)),
                ..default()
            },
            BackgroundColor(Color::BLACK.with_alpha(0.6)),
            Visibility::Hidden,
            GlobalZIndex(1),
            ui::text(m.title.clone(), 20.0, Color::srgb(1.0, 0.88, 0.35)),
        ));
    }
    // Words printed in the scene: white on a sign's dark green, below the markers' names.
    for (e, w) in &words {
        commands.spawn((
            LabelOf(e, None),
            Node {
                position_type: PositionType::Absolute,
                padding: UiRect::axes(px(6.0), px(1.0)),
                border_radius: BorderRadius::all(px(3.0)),
                ..default()
            },
            BackgroundColor(scene::SIGN_BACKGROUND),
            Visibility::Hidden,
            GlobalZIndex(0),
            ui::text(w.0.clone(), 18.0, Color::WHITE),
        ));
    }
}

/// What a label needs of the entity it follows: where it is, whether it is a marker, and
/// whether it is shown.
type LabelTarget = (
    &'static GlobalTransform,
    Has<HotspotMarker>,
    Has<scene::WorldLabel>,
    Option<&'static Visibility>,
);

/// Keeps each label centred on its entity (above a marker), hidden when behind the camera or,
/// for a marker, behind a button of the panel (UI text would otherwise cover the button).
fn place_labels(
    cameras: Query<(&Camera, &GlobalTransform), With<PointerCamera>>,
    panel: Query<(&super::pointer::Interactable, &GlobalTransform), With<PanelButtonEntity>>,
    targets: Query<LabelTarget, Without<LabelOf>>,
    mut labels: Query<(&LabelOf, &mut Node, &mut Visibility, &ComputedNode)>,
    mode: Option<Res<crate::third_party::xr::XrMode>>,
) {
    // In the headset the words are in the world (board, tags), which the mirror shows too.
    if mode.is_some_and(|m| *m == crate::third_party::xr::XrMode::Headset) {
        for (_, _, mut visibility, _) in &mut labels {
            if *visibility != Visibility::Hidden {
                *visibility = Visibility::Hidden;
            }
        }
        return;
    }
    let Ok((camera, at)) = cameras.single() else {
        return;
    };
    for (of, mut node, mut visibility, computed) in &mut labels {
        let Ok((target, is_marker, is_words, target_visibility)) = targets.get(of.0) else {
            continue;
        };
        let point = target.translation()
            + if is_marker {
                Vec3::Y * 0.22
            } else {
                Vec3::ZERO
            };
        let mut in_front = (point - at.translation()).dot(*at.forward()) > 0.1;
        if (is_marker || is_words)
            && let Ok(dir) = Dir3::new(point - at.translation())
        {
            let ray = Ray3d::new(at.translation(), dir);
            let distance = point.distance(at.translation());
            let hidden = panel.iter().any(|(shape, t)| {
                super::pointer::hit_distance(ray, *shape, t).is_some_and(|d| d < distance)
            });
            in_front &= !hidden;
        }
        if let Some(half) = of.1 {
            let right = target.right() * half;
            if let (Ok(a), Ok(b)) = (
                camera.world_to_viewport(at, point - right),
                camera.world_to_viewport(at, point + right),
            ) {
                let width = px((a.x - b.x).abs() - 16.0);
                if node.width != width {
                    node.width = width;
                }
            }
        }
        let Ok(screen) = camera.world_to_viewport(at, point).map_err(|_| ()) else {
            *visibility = Visibility::Hidden;
            continue;
        };
        let size = computed.size() * computed.inverse_scale_factor();
        let left = px(screen.x - size.x / 2.0);
        let top = px(screen.y - size.y / 2.0 - if is_marker { 12.0 } else { 0.0 });
        if node.left != left {
            node.left = left;
        }
        if node.top != top {
            node.top = top;
        }
        let target_shown = target_visibility != Some(&Visibility::Hidden);
        let want = if in_front && target_shown && size.x > 0.0 {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        if *visibility != want {
            *visibility = want;
        }
    }
}

/// The overlay's model now.
pub fn overlay_of(state: &HeadsetState) -> OverlayModel {
    let panel: Option<Panel> = state.panel.clone();
    OverlayModel {
        // A headset-guided puzzle's view is the caption; a panel of buttons only has no card.
        panel: panel
            .filter(|p| state.phase != Phase::Guided && !(p.title.is_empty() && p.text.is_empty()))
            .map(|p| (p.title, p.text)),
        caption: state
            .caption
            .as_ref()
            .map(|(c, _)| (c.title.clone(), c.text.clone())),
        calm: match state.phase {
            Phase::Waiting => Some("Bienvenue. Installe-toi confortablement. L'animateur va lancer la découverte.".into()),
            Phase::Stopped => Some(
                "C'est arrêté. Respire tranquillement. L'animateur arrive pour t'aider à enlever le casque."
                    .into(),
            ),
            _ => None,
        },
        help: match state.phase {
            Phase::Waiting | Phase::Stopped => String::new(),
            Phase::Guided => {
                "R ou « Réécouter » : écouter encore   ·   Q / E : tourner   ·   Échap : arrêter"
                    .into()
            }
            _ => "Clic : choisir   ·   Q / E : tourner   ·   Échap : arrêter".into(),
        },
    }
}

fn model(
    state: Res<HeadsetState>,
    mode: Option<Res<crate::third_party::xr::XrMode>>,
    mut current: ResMut<OverlayModel>,
) {
    // In the headset the window is the PC's mirror: it shows what the eyes see, the board and
    // the names in the world included (`xr::MirrorCamera`), so the screen's cards would only
    // hide them (and the mouse-and-keyboard hint would mislead).
    let next = if mode.is_some_and(|m| *m == crate::third_party::xr::XrMode::Headset) {
        OverlayModel::default()
    } else {
        overlay_of(&state)
    };
    if *current != next {
        *current = next;
    }
}

fn draw_overlay(
    mut commands: Commands,
    model: Res<OverlayModel>,
    roots: Query<Entity, With<Overlay>>,
) {
    if !model.is_changed() {
        return;
    }
    for e in &roots {
        commands.entity(e).despawn();
    }
    let m = model.clone();
    commands
        .spawn((Overlay, overlay_page(), GlobalZIndex(3)))
        .with_children(|page| overlay_cards(page, &m, 0.9));
}

/// The page the overlay's cards sit on: the whole view, top and bottom apart.
pub(super) fn overlay_page() -> Node {
    Node {
        width: percent(100.0),
        height: percent(100.0),
        flex_direction: FlexDirection::Column,
        justify_content: JustifyContent::SpaceBetween,
        align_items: AlignItems::Center,
        padding: UiRect::all(px(20.0)),
        ..default()
    }
}

/// The overlay's cards on `page`: at the top the panel's question or instruction (or the calm
/// room's words), at the bottom the caption and the help line. `card_alpha`: the cards'
/// opacity (0.9 over the flat view; 1 on the headset's board, where nothing shows through).
pub(super) fn overlay_cards(page: &mut ChildSpawnerCommands, m: &OverlayModel, card_alpha: f32) {
    let card = |c: &mut ChildSpawnerCommands, title: &str, text: &str, accent: Color| {
        c.spawn((
            Node {
                max_width: px(1040.0),
                flex_direction: FlexDirection::Column,
                padding: UiRect::axes(px(26.0), px(16.0)),
                row_gap: px(8.0),
                border: UiRect::left(px(8.0)),
                border_radius: BorderRadius::all(px(14.0)),
                ..default()
            },
            BackgroundColor(ui::BACKGROUND.with_alpha(card_alpha)),
            BorderColor::all(accent),
        ))
        .with_children(|c| {
            if !title.is_empty() {
                c.spawn(ui::text(title.to_owned(), 24.0, accent));
            }
            c.spawn(ui::text(text.to_owned(), 30.0, ui::INK));
        });
    };
    // Top: the panel's question or instruction, or the calm room's words.
    page.spawn(Node {
        flex_direction: FlexDirection::Column,
        align_items: AlignItems::Center,
        ..default()
    })
    .with_children(|top| {
        if let Some(calm) = &m.calm {
            card(top, "", calm, ui::GOOD);
        } else if let Some((title, text)) = &m.panel {
            card(top, title, text, ui::ACCENT);
        }
    });
    page.spawn(Node {
        flex_direction: FlexDirection::Column,
        align_items: AlignItems::Center,
        row_gap: px(10.0),
        ..default()
    })
    .with_children(|bottom| {
        if let Some((title, text)) = &m.caption {
            card(bottom, title, text, ui::SELECTED);
        }
        if !m.help.is_empty() {
            bottom
                .spawn((
                    Node {
                        padding: UiRect::axes(px(14.0), px(4.0)),
                        border_radius: BorderRadius::all(px(8.0)),
                        ..default()
                    },
                    BackgroundColor(Color::BLACK.with_alpha(0.55)),
                ))
                .with_children(|h| {
                    h.spawn(ui::text(m.help.clone(), 20.0, ui::INK));
                });
        }
    });
}

fn vignette_and_fade(
    state: Res<HeadsetState>,
    mut vignettes: Query<&mut BorderColor, With<Vignette>>,
    mut fades: Query<&mut BackgroundColor, With<Fade>>,
    mode: Option<Res<crate::third_party::xr::XrMode>>,
) {
    // In the headset the comfort shade darkens the world itself (`shade.rs`), mirror included.
    let headset = mode.is_some_and(|m| *m == crate::third_party::xr::XrMode::Headset);
    let v = if headset {
        0.0
    } else {
        super::state::vignette_level(&state)
    };
    for mut b in &mut vignettes {
        let want = BorderColor::all(Color::BLACK.with_alpha(v));
        if *b != want {
            *b = want;
        }
    }
    let f = if headset {
        0.0
    } else {
        super::state::fade_level(&state)
    };
    for mut bg in &mut fades {
        let want = BackgroundColor(Color::BLACK.with_alpha(f));
        if *bg != want {
            *bg = want;
        }
    }
}
