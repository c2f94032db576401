//! The one pointer-ray/select layer of the headset: a ray (origin, direction) and a select
//! button, fed by the mouse in flat mode (the cursor's ray from the camera) or by a
//! controller or a hand in XR (`third_party/xr.rs`), or by a test. Everything interactive
//! (hotspots, task answers, questionnaire buttons, the floor for teleport) is an
//! [`Interactable`] and listens to [`Select`] only, never to a mouse or a controller.

use crate::GameSystems;
use bevy::prelude::*;

/// What the feeders write each frame: the ray and whether select is held down.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct PointerInput {
    /// The pointing ray in world space (metres); `None` when nothing points (cursor outside
    /// the window, controller lost).
    pub ray: Option<Ray3d>,
    /// Whether the select button (mouse left, trigger, pinch) is down.
    pub select_down: bool,
}

/// A shape the ray can hit, in the entity's local space (its [`GlobalTransform`] places,
/// turns and scales it).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub enum Interactable {
    /// A ball of this radius, metres, around the entity's origin.
    Sphere {
        /// Radius, metres.
        radius: f32,
    },
    /// A box of these half sizes (x, y, z), metres, centred on the entity's origin.
    Box {
        /// Half sizes, metres.
        half_extents: Vec3,
    },
}

/// What the ray points at now.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct Pointer {
    /// The nearest interactable hit and the hit point (world, metres).
    pub hovered: Option<(Entity, Vec3)>,
    /// The entity under the ray when select went down (a select counts on release over it).
    pub pressed: Option<Entity>,
    /// Select was down last frame.
    was_down: bool,
}

/// Select went down then up over `entity`: the participant chose it.
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct Select {
    /// What was chosen.
    pub entity: Entity,
    /// Where the ray met it on release (world, metres): the teleport target on a floor.
    pub point: Vec3,
}

/// The pointer's systems: feeders run in [`PointerSystems::Feed`], the hit test after.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointerSystems {
    /// Mouse, controllers, tests write [`PointerInput`].
    Feed,
    /// Hits and selects.
    Resolve,
}

/// Adds the layer (headless too: feeders are added by the views or by tests).
pub fn plugin(app: &mut App) {
    app.init_resource::<PointerInput>()
        .init_resource::<Pointer>()
        .add_message::<Select>()
        .configure_sets(
            Update,
            (PointerSystems::Feed, PointerSystems::Resolve)
                .chain()
                .in_set(GameSystems::Input),
        )
        .add_systems(Update, resolve.in_set(PointerSystems::Resolve));
}

/// Distance along `ray` to where it first meets `shape` placed by `at`, if it does (a ray
/// starting inside a shape meets it at distance 0).
pub fn hit_distance(ray: Ray3d, shape: Interactable, at: &GlobalTransform) -> Option<f32> {
    let to_local = at.affine().inverse();
    let origin = to_local.transform_point3(ray.origin);
    let dir = to_local.transform_vector3(*ray.direction);
    let local_t = match shape {
        Interactable::Sphere { radius } => {
            // |o + t d|² = r², smallest t ≥ 0.
            let a = dir.length_squared();
            let b = origin.dot(dir);
            let c = origin.length_squared() - radius * radius;
            let disc = b * b - a * c;
            if disc < 0.0 || a <= f32::EPSILON {
                return None;
            }
            let sq = disc.sqrt();
            let (t0, t1) = ((-b - sq) / a, (-b + sq) / a);
            if t1 < 0.0 {
                return None;
            }
            t0.max(0.0)
        }
        Interactable::Box { half_extents } => {
            let mut near = f32::NEG_INFINITY;
            let mut far = f32::INFINITY;
            for axis in 0..3 {
                let (o, d, h) = (origin[axis], dir[axis], half_extents[axis]);
                if d.abs() <= f32::EPSILON {
                    if o.abs() > h {
                        return None;
                    }
                    continue;
                }
                let (a, b) = ((-h - o) / d, (h - o) / d);
                near = near.max(a.min(b));
                far = far.min(a.max(b));
            }
            if near > far || far < 0.0 {
                return None;
            }
            near.max(0.0)
        }
    };
    // `dir` is the world direction mapped to local space, so `local_t` is a world distance
    // along the unit world direction.
    Some(local_t)
}

/// The nearest interactable along `ray`, with the hit point.
pub fn nearest_hit<'a>(
    ray: Ray3d,
    targets: impl IntoIterator<Item = (Entity, &'a Interactable, &'a GlobalTransform)>,
) -> Option<(Entity, Vec3)> {
    targets
        .into_iter()
        .filter_map(|(e, shape, at)| hit_distance(ray, *shape, at).map(|t| (e, t)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(e, t)| (e, ray.get_point(t)))
}

fn resolve(
    input: Res<PointerInput>,
    mut pointer: ResMut<Pointer>,
    targets: Query<(Entity, &Interactable, &GlobalTransform)>,
    mut selects: MessageWriter<Select>,
) {
    let hovered = input.ray.and_then(|ray| nearest_hit(ray, targets));
    let pressed_now = input.select_down && !pointer.was_down;
    let released_now = !input.select_down && pointer.was_down;
    if pressed_now {
        pointer.pressed = hovered.map(|(e, _)| e);
    }
    if released_now {
        if let (Some(pressed), Some((e, point))) = (pointer.pressed, hovered)
            && pressed == e
        {
            selects.write(Select { entity: e, point });
        }
        pointer.pressed = None;
    }
    pointer.was_down = input.select_down;
    if pointer.hovered != hovered {
        pointer.hovered = hovered;
    }
}

/// The camera whose view the mouse points through (flat mode).
#[derive(Component, Debug, Default, Clone, Copy)]
pub struct PointerCamera;

/// Feeds the layer from the mouse: the cursor's ray through the [`PointerCamera`], and the
/// left button as select (flat mode; needs a window). In the headset the controllers feed it
/// instead (`third_party/xr.rs`), and the mouse on the PC's mirror window does nothing.
pub fn mouse_feeder(app: &mut App) {
    app.add_systems(
        Update,
        feed_from_mouse
            .in_set(PointerSystems::Feed)
            .run_if(not(crate::third_party::xr::in_headset)),
    );
}

fn feed_from_mouse(
    windows: Query<&Window, With<bevy::window::PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<PointerCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    mut input: ResMut<PointerInput>,
) {
    let ray = windows.single().ok().and_then(|w| {
        let cursor = w.cursor_position()?;
        let (camera, at) = cameras.single().ok()?;
        camera.viewport_to_world(at, cursor).ok()
    });
    let next = PointerInput {
        ray,
        select_down: buttons.pressed(MouseButton::Left),
    };
    if *input != next {
        *input = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ray(origin: Vec3, towards: Vec3) -> Option<Ray3d> {
        Some(Ray3d::new(origin, Dir3::new(towards - origin).ok()?))
    }

    #[test]
    fn spheres_and_turned_boxes_are_hit_at_their_surface() -> Result<(), String> {
        let r = ray(Vec3::ZERO, Vec3::new(0.0, 0.0, -5.0)).ok_or("ray")?;
        let ball = GlobalTransform::from(Transform::from_xyz(0.0, 0.0, -5.0));
        let d = hit_distance(r, Interactable::Sphere { radius: 1.0 }, &ball).ok_or("miss")?;
        assert!((d - 4.0).abs() < 1e-4, "{d}");
        let aside = GlobalTransform::from(Transform::from_xyz(3.0, 0.0, -5.0));
        assert_eq!(
            hit_distance(r, Interactable::Sphere { radius: 1.0 }, &aside),
            None
        );
        // A 2 m × 0.2 m board turned 90° about Y: its long side now runs along Z.
        let board = GlobalTransform::from(
            Transform::from_xyz(0.9, 0.0, -5.0)
                .with_rotation(Quat::from_rotation_y(90f32.to_radians())),
        );
        let shape = Interactable::Box {
            half_extents: Vec3::new(1.0, 1.0, 0.1),
        };
        assert_eq!(
            hit_distance(r, shape, &board),
            None,
            "only 0.1 m thick in x"
        );
        let side = ray(Vec3::new(0.9, 0.0, 0.0), Vec3::new(0.9, 0.0, -5.0)).ok_or("ray")?;
        let d = hit_distance(side, shape, &board).ok_or("miss")?;
        assert!((d - 4.0).abs() < 1e-4, "{d}");
        let behind = ray(Vec3::ZERO, Vec3::new(0.0, 0.0, 5.0)).ok_or("ray")?;
        assert_eq!(
            hit_distance(behind, Interactable::Sphere { radius: 1.0 }, &ball),
            None
        );
        Ok(())
    }
}
