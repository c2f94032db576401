//! The hotspot balls' names and the scene's printed words in the world, in the headset only
//! (the flat window floats them as screen labels). One UI camera lays every name out, one per
//! row, into an atlas image; each ball gets a transparent quad above it that shows its row (a
//! scene's words, a quad centred on their place), turned towards the participant and scaled
//! with distance so that a name reads as large as the flat label does. Only the
//! headset's eyes see them (render layer [`HEADSET_ONLY`]): the PC's mirror keeps its labels.

use super::board::{BOARD_PX, board_size_m};
use super::scene::{SIGN_BACKGROUND, WorldLabel};
use super::state::{HeadsetState, HotspotMarker, PANEL_DISTANCE_M};
use crate::GameSystems;
use crate::third_party::xr::{HEADSET_ONLY, in_headset};
use crate::ui;
use bevy::camera::visibility::RenderLayers;
use bevy::light::NotShadowCaster;
use bevy::mesh::VertexAttributeValues;
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;

/// One name's cell in the atlas, logical px (the flat label's size with room to spare).
const CELL_PX: Vec2 = Vec2::new(512.0, 56.0);
/// Names the atlas holds: an immersion's hotspots and its scene's words
/// (`SceneSpec::MAX_LABELS`, 16) fit.
pub const MAX_TAGS: usize = 32;
/// Image pixels per logical px.
const PIXELS_PER_PX: f32 = 1.5;
/// Height of a name's bottom above its ball's centre, metres (the ball's radius is 0.12 m).
const ABOVE_M: f32 = 0.16;

/// The atlas's camera.
#[derive(Component, Debug)]
struct TagCamera;

/// The atlas's UI root.
#[derive(Component, Debug)]
struct TagRoot;

/// The quad that shows a ball's name.
#[derive(Component, Debug)]
struct Tag(Entity);

/// The atlas's material, shared by every tag.
#[derive(Resource, Debug)]
struct TagAtlas(Handle<StandardMaterial>);

/// Adds the names (their systems run only while scenes show in the headset).
pub(crate) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        (spawn_atlas, rebuild_tags, place_tags)
            .chain()
            .in_set(GameSystems::View)
            .run_if(in_headset),
    );
}

/// A cell's size in the world at the panel's distance, metres (the board's scale).
pub fn cell_size_m() -> Vec2 {
    CELL_PX * board_size_m().x / BOARD_PX.x
}

/// The UVs of row `row` of the atlas, in the order of Bevy's `Rectangle` mesh's vertices
/// (top right, top left, bottom left, bottom right).
pub fn row_uvs(row: usize) -> [[f32; 2]; 4] {
    let (v0, v1) = (
        row as f32 / MAX_TAGS as f32,
        (row + 1) as f32 / MAX_TAGS as f32,
    );
    [[1.0, v0], [0.0, v0], [0.0, v1], [1.0, v1]]
}

/// Where a ball's name stands seen from `eye`: above `ball` (centred on it for a scene's
/// words, `above: false`), turned about the vertical towards the eye, scaled by distance /
/// [`PANEL_DISTANCE_M`] (a constant apparent size).
pub fn tag_transform(ball: Vec3, eye: Vec3, above: bool) -> Transform {
    let half_height = cell_size_m().y / 2.0;
    let base = if above {
        ball + Vec3::Y * ABOVE_M
    } else {
        ball
    };
    let scale = (base.distance(eye) / PANEL_DISTANCE_M).max(0.2);
    let centre = if above {
        base + Vec3::Y * half_height * scale
    } else {
        base
    };
    let away = Vec3::new(centre.x - eye.x, 0.0, centre.z - eye.z);
    let mut t = Transform::from_translation(centre).with_scale(Vec3::splat(scale));
    if away.length_squared() > 1e-6 {
        // `looking_at` points -Z at its target; the quad's face is +Z, so look away from the eye.
        t.look_at(centre + away, Vec3::Y);
    }
    t
}

fn spawn_atlas(
    mut commands: Commands,
    atlas: Option<Res<TagAtlas>>,
    mut images: ResMut<Assets<Image>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if atlas.is_some() {
        return;
    }
    let size = Vec2::new(CELL_PX.x, CELL_PX.y * MAX_TAGS as f32) * PIXELS_PER_PX;
    let image = images.add(Image::new_target_texture(
        size.x as u32,
        size.y as u32,
        TextureFormat::Bgra8UnormSrgb,
        None,
    ));
    commands.spawn((
        TagCamera,
        super::board::offscreen_ui_camera(image.clone(), PIXELS_PER_PX),
        Name::new("caméra des noms"),
    ));
    commands.insert_resource(TagAtlas(materials.add(StandardMaterial {
        base_color_texture: Some(image),
        // As the board: lift the tone-mapped colours back.
        base_color: LinearRgba::rgb(1.6, 1.6, 1.6).into(),
        unlit: true,
        alpha_mode: AlphaMode::Blend,
        ..default()
    })));
}

#[expect(
    clippy::too_many_arguments,
    reason = "the names follow the balls, the atlas's camera, its UI and the quads' meshes"
)]
fn rebuild_tags(
    mut commands: Commands,
    markers: Query<(Entity, &HotspotMarker)>,
    words: Query<(Entity, &WorldLabel)>,
    tags: Query<Entity, With<Tag>>,
    roots: Query<Entity, With<TagRoot>>,
    cameras: Query<Entity, With<TagCamera>>,
    atlas: Option<Res<TagAtlas>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut shown: Local<Vec<(Entity, String, bool)>>,
) {
    let mut now: Vec<_> = markers
        .iter()
        .map(|(e, m)| (e, m.title.clone(), false))
        .chain(words.iter().map(|(e, w)| (e, w.0.clone(), true)))
        .collect();
    now.sort();
    now.truncate(MAX_TAGS);
    if *shown == now {
        return;
    }
    let (Some(atlas), Ok(camera)) = (atlas, cameras.single()) else {
        return;
    };
    for e in tags.iter().chain(&roots) {
        commands.entity(e).despawn();
    }
    commands
        .spawn((
            TagRoot,
            UiTargetCamera(camera),
            Node {
                width: percent(100.0),
                height: percent(100.0),
                ..default()
            },
        ))
        .with_children(|page| {
            for (row, (_, title, sign)) in now.iter().enumerate() {
                let (ink, background) = if *sign {
                    (Color::WHITE, SIGN_BACKGROUND)
                } else {
                    (Color::srgb(1.0, 0.88, 0.35), Color::BLACK.with_alpha(0.6))
                };
                page.spawn(Node {
                    position_type: PositionType::Absolute,
                    top: px(row as f32 * CELL_PX.y),
                    left: px(0.0),
                    width: px(CELL_PX.x),
                    height: px(CELL_PX.y),
                    justify_content: JustifyContent::Center,
                    // A ball's name stands on its cell's bottom edge (above the ball); a
                    // scene's words in the cell's middle (on their place).
                    align_items: if *sign {
                        AlignItems::Center
                    } else {
                        AlignItems::End
                    },
                    ..default()
                })
                .with_children(|cell| {
                    cell.spawn((
                        Node {
                            padding: UiRect::axes(px(8.0), px(2.0)),
                            border_radius: BorderRadius::all(px(6.0)),
                            ..default()
                        },
                        BackgroundColor(background),
                    ))
                    .with_children(|tag| {
                        tag.spawn(ui::text(title.clone(), 20.0, ink));
                    });
                });
            }
        });
    let size = cell_size_m();
    for (row, (marker, _, _)) in now.iter().enumerate() {
        let mut mesh = Mesh::from(Rectangle::new(size.x, size.y));
        mesh.insert_attribute(
            Mesh::ATTRIBUTE_UV_0,
            VertexAttributeValues::Float32x2(row_uvs(row).to_vec()),
        );
        commands.spawn((
            Tag(*marker),
            Mesh3d(meshes.add(mesh)),
            MeshMaterial3d(atlas.0.clone()),
            NotShadowCaster,
            RenderLayers::layer(HEADSET_ONLY),
            Transform::default(),
            Visibility::Hidden,
            Name::new("nom d'un point"),
        ));
    }
    *shown = now;
}

/// What a tag follows: where it is, whether it is a ball (else a scene's words), shown or not.
type Tagged = (
    &'static GlobalTransform,
    Has<HotspotMarker>,
    Option<&'static Visibility>,
);

/// A ball or a scene's words, not a tag itself.
type TaggedFilter = (Or<(With<HotspotMarker>, With<WorldLabel>)>, Without<Tag>);

fn place_tags(
    state: Res<HeadsetState>,
    targets: Query<Tagged, TaggedFilter>,
    mut tags: Query<(&Tag, &mut Transform, &mut Visibility)>,
) {
    for (tag, mut t, mut v) in &mut tags {
        let Ok((ball, is_ball, ball_visibility)) = targets.get(tag.0) else {
            continue;
        };
        let want = tag_transform(ball.translation(), state.eye, is_ball);
        if *t != want {
            *t = want;
        }
        let shown = if ball_visibility == Some(&Visibility::Hidden) {
            Visibility::Hidden
        } else {
            Visibility::Inherited
        };
        if *v != shown {
            *v = shown;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_faces_the_eye_above_its_ball_at_a_constant_apparent_size() {
        let eye = Vec3::new(0.0, 1.2, 0.0);
        let near = tag_transform(Vec3::new(0.0, 1.0, -1.5), eye, true);
        let far = tag_transform(Vec3::new(0.0, 1.0, -4.5), eye, true);
        // The face (+Z) looks back at the eye; the far name is three times as large or so.
        assert!((near.rotation * Vec3::Z).abs_diff_eq(Vec3::Z, 1e-4));
        assert!(near.translation.y > 1.0 + ABOVE_M && far.translation.y > near.translation.y);
        let ratio = far.scale.x / near.scale.x;
        assert!((2.7..3.1).contains(&ratio), "{ratio}");
        // A ball to the right: the name turns to face the eye (its +Z points back left).
        let side = tag_transform(Vec3::new(3.0, 1.0, 0.0), eye, true);
        assert!((side.rotation * Vec3::Z).abs_diff_eq(Vec3::NEG_X, 1e-4));
        // A scene's words stand centred on their place.
        let words = tag_transform(Vec3::new(0.0, 1.0, -3.0), eye, false);
        assert!(
            words
                .translation
                .abs_diff_eq(Vec3::new(0.0, 1.0, -3.0), 1e-5)
        );
        // Rows of the atlas do not overlap and cover it from top to bottom.
        assert_eq!(row_uvs(0)[0][1], 0.0);
        assert_eq!(row_uvs(MAX_TAGS - 1)[2][1], 1.0);
        assert_eq!(row_uvs(2)[2][1], row_uvs(3)[0][1]);
    }
}
