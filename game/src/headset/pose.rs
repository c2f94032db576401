//! The head pose stream: a headset sends where the wearer's head is, where it looks and where
//! its pointer points (the one ray of [`PointerInput`]), on unreliable datagrams, [`POSES_PER_SECOND`] times a second while it moves (and once a
//! second while still), so the facilitator's console can show what each wearer is looking at.
//! In the headset the head is the runtime's (`xr::HeadPose`); in flat mode and headless, the
//! rig's, turned by the snap turns, or by a headless test's `look` command ([`LookOverride`]).

use crate::headset::pointer::PointerInput;
use crate::headset::state::{HeadsetState, Phase, Rig};
use crate::net::plugin::NetLink;
use crate::third_party::xr::HeadPose;
use bevy::prelude::*;
use boussole_protocol::wire::{Doing, MAX_BOARD_CHARS, PointerRay, Pose, Shows};
use std::time::Duration;

/// Poses sent per second while the head moves (20: smooth enough to follow a gaze, a few
/// hundred bytes a second).
pub const POSES_PER_SECOND: u32 = 20;

/// A pose is sent at least this often while the head is still.
const STILL_EVERY: Duration = Duration::from_secs(1);

/// A headless headset's head direction set by its `look YAW PITCH` command: degrees, yaw
/// clockwise from the scene's -Z as seen from above (the 360° anchors' convention), pitch
/// above the horizon. `None`: the rig's.
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct LookOverride(pub Option<(f32, f32)>);

/// Sends the pose stream.
pub fn plugin(app: &mut App) {
    app.init_resource::<LookOverride>()
        .add_systems(PostUpdate, send_pose.after(TransformSystems::Propagate));
}

/// The orientation that looks `yaw_deg` clockwise from -Z and `pitch_deg` up.
pub fn look_rotation(yaw_deg: f32, pitch_deg: f32) -> Quat {
    Quat::from_euler(
        EulerRot::YXZ,
        -yaw_deg.to_radians(),
        pitch_deg.to_radians(),
        0.0,
    )
}

/// What `state` shows its wearer: what they are doing and the board's words (the caption of a
/// hotspot or a stimulus while one is up, else the panel's title and text), cut at
/// [`MAX_BOARD_CHARS`] with « … ».
pub fn shows_of(state: &HeadsetState) -> Shows {
    let hotspot = state.caption.as_ref().is_some_and(|(caption, _)| {
        state.run.as_ref().is_some_and(|run| {
            run.immersion
                .hotspots
                .iter()
                .any(|h| h.title.fr == caption.title)
        })
    });
    let doing = if state.paused_at.is_some() {
        Doing::Paused
    } else if state.break_prompt {
        Doing::Break
    } else {
        match state.phase {
            Phase::Waiting => Doing::Waiting,
            Phase::Intro => Doing::Introduction,
            Phase::Exploring if hotspot => Doing::Hotspot,
            Phase::Exploring
                if state
                    .run
                    .as_ref()
                    .is_some_and(|run| run.current_task().is_some()) =>
            {
                Doing::Task
            }
            Phase::Exploring => Doing::Exploring,
            Phase::Questionnaire(_) => Doing::Questionnaire,
            Phase::Thanks => Doing::Finished,
            Phase::Stopped => Doing::Stopped,
            Phase::Guided => Doing::Guided,
        }
    };
    let words = match (&state.caption, &state.panel) {
        (Some((caption, _)), _) if hotspot || state.panel.is_none() => {
            format!("{} — {}", caption.title, caption.text)
        }
        (_, Some(panel)) if panel.title.is_empty() => panel.text.clone(),
        (_, Some(panel)) => format!("{} — {}", panel.title, panel.text),
        _ => String::new(),
    };
    let board = if words.chars().count() > MAX_BOARD_CHARS {
        let mut cut: String = words.chars().take(MAX_BOARD_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        words
    };
    Shows { doing, board }
}

/// The pose of a head at `head` with the pointer's `ray` (world space, metres), measured at
/// `device_ms`.
pub fn pose_of(head: &Transform, ray: Option<Ray3d>, device_ms: u64) -> Pose {
    let q = head.rotation.normalize();
    Pose {
        device_ms,
        position_m: head.translation.to_array(),
        orientation: [q.x, q.y, q.z, q.w],
        pointer: ray.map(|r| PointerRay {
            origin_m: r.origin.to_array(),
            direction: r.direction.as_vec3().to_array(),
        }),
        shows: None,
    }
}

/// Where the head is: the runtime's in XR, else a headless `look`, else the rig's.
#[derive(bevy::ecs::system::SystemParam)]
struct HeadSources<'w, 's> {
    xr_head: Option<Res<'w, HeadPose>>,
    look: Res<'w, LookOverride>,
    rigs: Query<'w, 's, &'static GlobalTransform, With<Rig>>,
}

impl HeadSources<'_, '_> {
    fn head(&self) -> Option<Transform> {
        match (
            self.xr_head.as_ref().and_then(|h| h.0),
            self.look.0,
            self.rigs.iter().next(),
        ) {
            (Some(head), _, _) => Some(head),
            (None, Some((yaw, pitch)), rig) => Some(Transform {
                translation: rig.map_or(Vec3::ZERO, GlobalTransform::translation),
                rotation: look_rotation(yaw, pitch),
                ..default()
            }),
            (None, None, Some(rig)) => Some(rig.compute_transform()),
            (None, None, None) => None,
        }
    }
}

/// The last pose sent: when, the head, the pointer's ray and what the headset showed.
type LastSent = (Duration, Transform, Option<Ray3d>, Option<Shows>);

fn send_pose(
    time: Res<Time<Real>>,
    link: Option<Res<NetLink>>,
    heads: HeadSources,
    pointer: Res<PointerInput>,
    state: Option<Res<HeadsetState>>,
    mut last: Local<Option<LastSent>>,
) {
    let Some(link) = link else { return };
    let Some(head) = heads.head() else { return };
    let now = time.elapsed();
    let ray = pointer.ray;
    let shows = state.as_deref().map(shows_of);
    if let Some((at, was, was_ray, was_shows)) = &*last {
        let (at, was, was_ray) = (*at, *was, *was_ray);
        let due = now.saturating_sub(at) >= Duration::from_secs(1) / POSES_PER_SECOND;
        let pointed = match (was_ray, ray) {
            (Some(a), Some(b)) => {
                !a.origin.abs_diff_eq(b.origin, 0.005)
                    || !a
                        .direction
                        .as_vec3()
                        .abs_diff_eq(b.direction.as_vec3(), 0.001)
            }
            (None, None) => false,
            _ => true,
        };
        let moved = !was.translation.abs_diff_eq(head.translation, 0.005)
            || !was.rotation.abs_diff_eq(head.rotation, 0.001)
            || pointed
            || *was_shows != shows;
        if !due || (!moved && now.saturating_sub(at) < STILL_EVERY) {
            return;
        }
    }
    *last = Some((now, head, ray, shows.clone()));
    let mut pose = pose_of(&head, ray, link.0.local_ms());
    pose.shows = shows;
    link.0.send_pose(pose);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a headset says it shows: the phase in words, the pause and the break prompt
    /// first, the board's title and text, a long board cut.
    #[test]
    fn a_pose_says_what_the_headset_shows() {
        use crate::headset::state::{Caption, Panel};
        let mut state = HeadsetState::default();
        assert_eq!(
            shows_of(&state),
            Shows {
                doing: Doing::Waiting,
                board: String::new()
            }
        );
        state.phase = Phase::Questionnaire(1);
        state.panel = Some(Panel {
            title: "Question 2 sur 3".into(),
            text: "Le bruit vous gênerait-il ?".into(),
            ..Panel::default()
        });
        let shows = shows_of(&state);
        assert_eq!(shows.doing, Doing::Questionnaire);
        assert_eq!(
            shows.board,
            "Question 2 sur 3 — Le bruit vous gênerait-il ?"
        );
        state.break_prompt = true;
        assert_eq!(shows_of(&state).doing, Doing::Break);
        state.paused_at = Some(3.0);
        assert_eq!(shows_of(&state).doing, Doing::Paused);
        // A caption that is not a hotspot's (no run here) stays behind the panel.
        state.caption = Some((
            Caption {
                title: "Attention".into(),
                text: "Un chariot recule.".into(),
            },
            None,
        ));
        assert!(shows_of(&state).board.starts_with("Question 2 sur 3"));
        state.panel = None;
        assert_eq!(shows_of(&state).board, "Attention — Un chariot recule.");
        state.panel = Some(Panel {
            text: "é".repeat(MAX_BOARD_CHARS * 2),
            ..Panel::default()
        });
        state.caption = None;
        let board = shows_of(&state).board;
        assert_eq!(board.chars().count(), MAX_BOARD_CHARS);
        assert!(board.ends_with('…'));
        let pose = Pose {
            shows: Some(shows_of(&state)),
            ..pose_of(&Transform::IDENTITY, None, 1)
        };
        assert!(pose.is_plausible());
        assert!(pose.to_datagram().len() <= boussole_protocol::wire::MAX_POSE_DATAGRAM);
    }

    /// The anchors' convention: yaw 90 looks towards +X, -90 towards -X, pitch 30 up.
    #[test]
    fn look_rotation_follows_the_anchors_convention() {
        let forward = |yaw, pitch| look_rotation(yaw, pitch) * Vec3::NEG_Z;
        assert!(forward(0.0, 0.0).abs_diff_eq(Vec3::NEG_Z, 1e-5));
        assert!(forward(90.0, 0.0).abs_diff_eq(Vec3::X, 1e-5));
        assert!(forward(-90.0, 0.0).abs_diff_eq(Vec3::NEG_X, 1e-5));
        let up = forward(0.0, 30.0);
        assert!((up.y - 0.5).abs() < 1e-5, "{up}");
        let same = crate::headset::state::video_direction(40.0, -8.0);
        assert!(forward(40.0, -8.0).abs_diff_eq(same, 1e-5));
        let pose = pose_of(&Transform::from_rotation(look_rotation(90.0, 0.0)), None, 7);
        assert!(pose.is_plausible());
        assert_eq!(pose.device_ms, 7);
        assert_eq!(pose.pointer, None);
        let ray = Ray3d::new(Vec3::new(0.2, 1.0, 0.0), Dir3::NEG_Z);
        let pose = pose_of(&Transform::IDENTITY, Some(ray), 8);
        assert_eq!(
            pose.pointer,
            Some(PointerRay {
                origin_m: [0.2, 1.0, 0.0],
                direction: [0.0, 0.0, -1.0],
            })
        );
        assert!(pose.is_plausible());
    }
}
