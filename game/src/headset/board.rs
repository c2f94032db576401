//! The panel's words in the world, in the headset only: a headset shows no screen overlay, so
//! the panel's title and text (or the calm room's words), the caption and the labels of the
//! panel's buttons are laid out by bevy_ui into an image (a UI camera renders into it) shown on
//! a transparent quad at the panel's frame, just in front of the 3D buttons. The quad covers
//! exactly what the flat camera sees at the panel's distance, so the words sit where the flat
//! overlay puts them. Only the headset's eyes see it (render layer [`HEADSET_ONLY`]): the PC's
//! mirror window keeps its screen overlay. In flat mode nothing here runs and the window's overlay is unchanged.

use super::state::{HeadsetState, PANEL_DISTANCE_M, Panel, button_layout, panel_frame};
use super::view::{OverlayModel, overlay_cards, overlay_of, overlay_page};
use crate::GameSystems;
use crate::content::GameContent;
use crate::pictogram::Pictograms;
use crate::third_party::xr::{HEADSET_ONLY, in_headset};
use crate::ui;
use bevy::camera::visibility::RenderLayers;
use bevy::camera::{ImageRenderTarget, RenderTarget};
use bevy::light::NotShadowCaster;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;

/// The board's layout size, logical px: the flat window's (the overlay is laid out for it).
pub const BOARD_PX: Vec2 = Vec2::new(1280.0, 800.0);
/// Image pixels per logical px: sharper text in the headset than the window's.
const PIXELS_PER_PX: f32 = 1.5;
/// How far in front of the buttons' centre plane the board floats, metres (the buttons are
/// 2 cm deep: their front face is at 1 cm).
const IN_FRONT_M: f32 = 0.025;

/// The board's size in the world, metres: what the flat camera (Bevy's default 45° vertical
/// field of view, 1280×800) sees at [`PANEL_DISTANCE_M`], about 1.99 m × 1.24 m.
pub fn board_size_m() -> Vec2 {
    let fov = PerspectiveProjection::default().fov;
    let height = 2.0 * PANEL_DISTANCE_M * (fov / 2.0).tan();
    Vec2::new(height * BOARD_PX.x / BOARD_PX.y, height)
}

/// Where a point of the panel's plane (metres, x right, y up, the eyes' height at 0) falls on
/// the board, in logical px from its top-left corner.
pub fn to_board_px(at_m: Vec2) -> Vec2 {
    let size = board_size_m();
    Vec2::new(
        (at_m.x / size.x + 0.5) * BOARD_PX.x,
        (0.5 - at_m.y / size.y) * BOARD_PX.y,
    )
}

/// The quad that shows the board.
#[derive(Component, Debug)]
struct Board;

/// The UI camera that draws into the board's image.
#[derive(Component, Debug)]
struct BoardCamera;

/// The root of the board's UI, rebuilt when what it shows changes.
#[derive(Component, Debug)]
struct BoardRoot;

/// What the board shows, compared frame to frame.
#[derive(Debug, Clone, PartialEq, Default)]
struct BoardModel {
    overlay: OverlayModel,
    panel: Option<Panel>,
}

/// Adds the board (its systems run only while scenes show in the headset).
pub(crate) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        (spawn_board, draw_board, place_board)
            .chain()
            .in_set(GameSystems::View)
            .run_if(in_headset),
    )
    .add_systems(Update, hide_board.run_if(not(in_headset)));
}

fn spawn_board(
    mut commands: Commands,
    boards: Query<(), With<Board>>,
    mut images: ResMut<Assets<Image>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if !boards.is_empty() {
        return;
    }
    let pixels = (BOARD_PX * PIXELS_PER_PX).as_uvec2();
    let image = images.add(Image::new_target_texture(
        pixels.x,
        pixels.y,
        TextureFormat::Bgra8UnormSrgb,
        None,
    ));
    commands.spawn((
        BoardCamera,
        offscreen_ui_camera(image.clone(), PIXELS_PER_PX),
        Name::new("caméra du panneau"),
    ));
    let size = board_size_m();
    commands.spawn((
        Board,
        Mesh3d(meshes.add(Rectangle::new(size.x, size.y))),
        MeshMaterial3d(materials.add(StandardMaterial {
            base_color_texture: Some(image),
            // The cameras' tone mapping dims an unlit white to grey: lift it back so that the
            // words stay as white as the flat overlay's.
            base_color: LinearRgba::rgb(1.6, 1.6, 1.6).into(),
            unlit: true,
            alpha_mode: AlphaMode::Blend,
            ..default()
        })),
        NotShadowCaster,
        RenderLayers::layer(HEADSET_ONLY),
        Transform::default(),
        Visibility::Hidden,
        Name::new("panneau"),
    ));
}

#[expect(
    clippy::too_many_arguments,
    reason = "the board shows the state's words and the content's pictograms"
)]
fn draw_board(
    mut commands: Commands,
    state: Res<HeadsetState>,
    cameras: Query<Entity, With<BoardCamera>>,
    roots: Query<Entity, With<BoardRoot>>,
    mut shown: Local<Option<BoardModel>>,
    content: Res<GameContent>,
    mut pictograms: ResMut<Pictograms>,
    mut images: ResMut<Assets<Image>>,
) {
    let mut overlay = overlay_of(&state);
    // The flat window's keys mean nothing in the headset.
    overlay.help = if overlay.help.is_empty() {
        String::new()
    } else {
        "Gâchette : choisir   ·   Joystick : tourner".into()
    };
    let next = BoardModel {
        overlay,
        panel: state.panel.clone(),
    };
    if shown.as_ref() == Some(&next) {
        return;
    }
    let Ok(camera) = cameras.single() else {
        return;
    };
    for e in &roots {
        commands.entity(e).despawn();
    }
    let icons = next.panel.as_ref().map_or_else(Vec::new, |p| {
        p.buttons
            .iter()
            .map(|b| {
                b.pictogram
                    .as_ref()
                    .and_then(|path| pictograms.get(&content.assets, path, &mut images))
            })
            .collect()
    });
    spawn_board_ui(&mut commands, camera, &next, &icons);
    *shown = Some(next);
}

/// A 2D camera that draws UI into `image` (transparent where nothing is drawn) before the
/// eyes' cameras sample it; `scale_factor`: image pixels per UI pixel.
pub(super) fn offscreen_ui_camera(image: Handle<Image>, scale_factor: f32) -> impl Bundle {
    (
        Camera2d,
        Camera {
            order: -1,
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
        RenderTarget::Image(ImageRenderTarget {
            handle: image,
            scale_factor,
        }),
    )
}

/// The board's UI: the overlay's cards (top: the panel's words or the calm room's; bottom: the
/// caption and the help line), and each button's label over its button, with its pictogram
/// (`icons`, in the buttons' order) on the left as in the flat view.
fn spawn_board_ui(
    commands: &mut Commands,
    camera: Entity,
    m: &BoardModel,
    icons: &[Option<Handle<Image>>],
) {
    let o = &m.overlay;
    commands
        .spawn((BoardRoot, UiTargetCamera(camera), overlay_page()))
        .with_children(|page| {
            overlay_cards(page, o, 1.0);
            // Over everything: a button's words never hide behind a caption.
            let Some(panel) = &m.panel else { return };
            for (i, (b, (centre, size))) in panel
                .buttons
                .iter()
                .zip(button_layout(&panel.buttons))
                .enumerate()
            {
                let top_left = to_board_px(centre + Vec2::new(-size.x, size.y) / 2.0);
                let bottom_right = to_board_px(centre + Vec2::new(size.x, -size.y) / 2.0);
                let extent = bottom_right - top_left;
                page.spawn((
                    Node {
                        position_type: PositionType::Absolute,
                        left: px(top_left.x + 8.0),
                        top: px(top_left.y),
                        width: px((extent.x - 16.0).max(0.0)),
                        height: px(extent.y),
                        justify_content: JustifyContent::Center,
                        align_items: AlignItems::Center,
                        column_gap: px(12.0),
                        ..default()
                    },
                    GlobalZIndex(4),
                ))
                .with_children(|label| {
                    if let Some(Some(icon)) = icons.get(i) {
                        label.spawn((
                            ImageNode::new(icon.clone()),
                            Node {
                                width: px(44.0),
                                height: px(44.0),
                                flex_shrink: 0.0,
                                ..default()
                            },
                        ));
                    }
                    label.spawn((
                        ui::text(b.label.clone(), 22.0, ui::INK),
                        TextLayout {
                            justify: Justify::Center,
                            ..default()
                        },
                    ));
                });
            }
        });
}

/// The board stands at the panel's frame (which follows turns and teleports), shown when it
/// has something to say.
fn place_board(
    state: Res<HeadsetState>,
    mut boards: Query<(&mut Transform, &mut Visibility), With<Board>>,
) {
    let frame = panel_frame(state.eye, state.yaw_deg);
    let want = frame.mul_transform(Transform::from_xyz(0.0, 0.0, IN_FRONT_M));
    let o = overlay_of(&state);
    let shown = if o.panel.is_some() || o.caption.is_some() || o.calm.is_some() {
        Visibility::Inherited
    } else {
        Visibility::Hidden
    };
    for (mut t, mut v) in &mut boards {
        if *t != want {
            *t = want;
        }
        if *v != shown {
            *v = shown;
        }
    }
}

/// Back to flat (the session ended): the window's overlay says it all.
fn hide_board(
    mut boards: Query<&mut Visibility, With<Board>>,
    mut cameras: Query<&mut Camera, With<BoardCamera>>,
) {
    for mut v in &mut boards {
        if *v != Visibility::Hidden {
            *v = Visibility::Hidden;
        }
    }
    for mut c in &mut cameras {
        if c.is_active {
            c.is_active = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headset::state::{ButtonAction, PanelButton};

    #[test]
    fn the_board_matches_the_flat_view_at_the_panel_distance() {
        let size = board_size_m();
        // 2 × 1.5 m × tan(22.5°) = 1.243 m high, 1280:800 wide.
        assert!((size.y - 1.2426).abs() < 1e-3, "{size}");
        assert!((size.x / size.y - 1.6).abs() < 1e-5, "{size}");
        assert_eq!(to_board_px(Vec2::ZERO), BOARD_PX / 2.0);
        assert!(to_board_px(Vec2::new(-size.x, size.y) / 2.0).abs_diff_eq(Vec2::ZERO, 1e-3));
        // Three short buttons sit just below the eyes, inside the board, left to right.
        let buttons: Vec<_> = (1..=3)
            .map(|i| PanelButton {
                action: ButtonAction::Rate(i),
                label: format!("{i}"),
                chosen: false,
                voice: None,
                pictogram: None,
            })
            .collect();
        let xs: Vec<_> = button_layout(&buttons)
            .into_iter()
            .map(|(c, _)| to_board_px(c))
            .inspect(|p| {
                assert!(
                    p.x > 0.0 && p.x < BOARD_PX.x && p.y > 400.0 && p.y < 500.0,
                    "{p}"
                );
            })
            .map(|p| p.x)
            .collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    }
}
