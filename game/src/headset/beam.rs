//! The pointing ray made visible, in the headset only: a thin beam from the controller along
//! [`PointerInput`]'s ray to what it meets (or [`BEAM_MAX_M`]), with a dot where it meets it.
//! A flat window has its mouse cursor instead, so nothing here runs in flat mode.

use super::pointer::{Pointer, PointerInput};
use crate::GameSystems;
use crate::third_party::xr::in_headset;
use bevy::light::NotShadowCaster;
use bevy::prelude::*;

/// How far the beam reaches when it meets nothing, metres.
pub const BEAM_MAX_M: f32 = 3.0;

/// The beam.
#[derive(Component, Debug)]
struct Beam;

/// The dot where the beam meets something.
#[derive(Component, Debug)]
struct BeamDot;

/// Adds the beam (its systems run only while scenes show in the headset).
pub(crate) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        (spawn_beam, place_beam)
            .chain()
            .in_set(GameSystems::View)
            .run_if(in_headset),
    );
}

fn spawn_beam(
    mut commands: Commands,
    beams: Query<(), With<Beam>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if !beams.is_empty() {
        return;
    }
    let look = materials.add(StandardMaterial {
        base_color: Color::srgb(0.55, 0.8, 1.0),
        unlit: true,
        ..default()
    });
    commands.spawn((
        Beam,
        // 1 m long along Y, stretched to the hit each frame.
        Mesh3d(meshes.add(Cylinder::new(0.003, 1.0))),
        MeshMaterial3d(look.clone()),
        NotShadowCaster,
        Transform::default(),
        Visibility::Hidden,
        Name::new("rayon"),
    ));
    commands.spawn((
        BeamDot,
        Mesh3d(meshes.add(Sphere::new(0.012))),
        MeshMaterial3d(look),
        NotShadowCaster,
        Transform::default(),
        Visibility::Hidden,
        Name::new("point visé"),
    ));
}

/// The beam's transform for `ray` reaching `length` metres: the unit cylinder (along Y,
/// centred) moved to the middle of the segment, turned onto the ray and stretched.
pub fn beam_transform(ray: Ray3d, length: f32) -> Transform {
    Transform::from_translation(ray.get_point(length / 2.0))
        .with_rotation(Quat::from_rotation_arc(Vec3::Y, *ray.direction))
        .with_scale(Vec3::new(1.0, length, 1.0))
}

type BeamParts<'w, 's> = Query<
    'w,
    's,
    (
        &'static mut Transform,
        &'static mut Visibility,
        Has<BeamDot>,
    ),
    Or<(With<Beam>, With<BeamDot>)>,
>;

fn place_beam(input: Res<PointerInput>, pointer: Res<Pointer>, mut parts: BeamParts) {
    let hit = pointer.hovered.map(|(_, at)| at);
    for (mut t, mut v, is_dot) in &mut parts {
        let (want_t, shown) = match (input.ray, is_dot) {
            (None, _) => (*t, false),
            (Some(ray), false) => {
                let length = hit.map_or(BEAM_MAX_M, |at| at.distance(ray.origin).max(0.01));
                (beam_transform(ray, length), true)
            }
            (Some(_), true) => match hit {
                Some(at) => (Transform::from_translation(at), true),
                None => (*t, false),
            },
        };
        if *t != want_t {
            *t = want_t;
        }
        let want_v = if shown {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        if *v != want_v {
            *v = want_v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_beam_spans_the_ray_to_its_hit() -> Result<(), Box<dyn std::error::Error>> {
        let ray = Ray3d::new(
            Vec3::new(1.0, 1.0, 0.0),
            Dir3::new(Vec3::new(0.0, 0.0, -1.0))?,
        );
        let t = beam_transform(ray, 2.0);
        // The cylinder's ends (y = ±0.5 before the transform) land on the ray's origin and hit.
        let a = t.transform_point(Vec3::new(0.0, -0.5, 0.0));
        let b = t.transform_point(Vec3::new(0.0, 0.5, 0.0));
        assert!(a.abs_diff_eq(Vec3::new(1.0, 1.0, 0.0), 1e-5), "{a}");
        assert!(b.abs_diff_eq(Vec3::new(1.0, 1.0, -2.0), 1e-5), "{b}");
        Ok(())
    }
}
