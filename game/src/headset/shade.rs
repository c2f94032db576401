//! Comfort in the headset: the flat window darkens its edges around a snap turn or a teleport
//! and fades from black after a stop with screen overlays, which a headset does not show. Here
//! a black sphere around the eyes ([`SHADE_RADIUS_M`]) darkens the whole view instead: briefly
//! around a turn or a teleport (a "blink", as comfortable as a vignette) and from black after a
//! stop. Only in the headset, and only its eyes see it (render layer [`HEADSET_ONLY`]): the PC's
//! mirror window keeps its own vignette and fade.

use super::state::{HeadsetState, fade_level, vignette_level};
use crate::GameSystems;
use crate::third_party::xr::{HEADSET_ONLY, in_headset};
use bevy::camera::visibility::RenderLayers;
use bevy::light::NotShadowCaster;
use bevy::prelude::*;

/// The shade's radius around the eyes, metres: beyond a seated head's reach, inside the
/// panel's distance (1.5 m).
pub const SHADE_RADIUS_M: f32 = 1.0;

/// The sphere.
#[derive(Component, Debug)]
struct Shade;

/// Adds the shade (its systems run only while scenes show in the headset).
pub(crate) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        (spawn_shade, darken)
            .chain()
            .in_set(GameSystems::View)
            .run_if(in_headset),
    );
}

/// How dark the view is now, 0 (clear) to 1 (black): the larger of the stop's fade (1 at the
/// stop, 0 after [`FADE_S`](super::state::FADE_S)) and the turn's blink (0.85 at the turn, 0
/// after [`VIGNETTE_S`](super::state::VIGNETTE_S),
/// unless the immersion turns its vignette off).
pub fn darkness(state: &HeadsetState) -> f32 {
    vignette_level(state).max(fade_level(state))
}

fn spawn_shade(
    mut commands: Commands,
    shades: Query<(), With<Shade>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if !shades.is_empty() {
        return;
    }
    commands.spawn((
        Shade,
        Mesh3d(meshes.add(Sphere::new(SHADE_RADIUS_M).mesh().uv(32, 16))),
        MeshMaterial3d(materials.add(StandardMaterial {
            base_color: Color::BLACK.with_alpha(0.0),
            unlit: true,
            alpha_mode: AlphaMode::Blend,
            // Seen from inside.
            cull_mode: None,
            ..default()
        })),
        NotShadowCaster,
        RenderLayers::layer(HEADSET_ONLY),
        Transform::default(),
        Visibility::Hidden,
        Name::new("ombre de confort"),
    ));
}

fn darken(
    state: Res<HeadsetState>,
    mut shades: Query<
        (
            &mut Transform,
            &mut Visibility,
            &MeshMaterial3d<StandardMaterial>,
        ),
        With<Shade>,
    >,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let dark = darkness(&state);
    for (mut t, mut v, material) in &mut shades {
        let at = Transform::from_translation(state.eye);
        if *t != at {
            *t = at;
        }
        let want = if dark > 0.0 {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        if *v != want {
            *v = want;
        }
        if dark > 0.0
            && let Some(mut m) = materials.get_mut(&material.0)
        {
            m.base_color = Color::BLACK.with_alpha(dark);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headset::state::{FADE_S, VIGNETTE_S};

    #[test]
    fn a_stop_starts_black_and_clears_a_turn_blinks() {
        let mut state = HeadsetState {
            now_s: 10.0,
            ..default()
        };
        assert_eq!(darkness(&state), 0.0);
        state.stopped_at = Some(10.0);
        assert_eq!(darkness(&state), 1.0);
        state.now_s = 10.0 + FADE_S;
        assert_eq!(darkness(&state), 0.0);
        state.stopped_at = None;
        state.vignette_until = state.now_s + VIGNETTE_S;
        assert!((darkness(&state) - 0.85).abs() < 1e-6);
        state.now_s += VIGNETTE_S;
        assert_eq!(darkness(&state), 0.0);
    }
}
