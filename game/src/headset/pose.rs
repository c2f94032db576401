//! The head pose stream: a headset sends where the wearer's head is and where it looks, on
//! unreliable datagrams, [`POSES_PER_SECOND`] times a second while it moves (and once a
//! second while still), so the facilitator's console can show what each wearer is looking at.
//! In the headset the head is the runtime's (`xr::HeadPose`); in flat mode and headless, the
//! rig's, turned by the snap turns, or by a headless test's `look` command ([`LookOverride`]).

use crate::headset::state::Rig;
use crate::net::plugin::NetLink;
use crate::third_party::xr::HeadPose;
use bevy::prelude::*;
use boussole_protocol::wire::Pose;
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

/// The pose of a head at `head`, measured at `device_ms`.
pub fn pose_of(head: &Transform, device_ms: u64) -> Pose {
    let q = head.rotation.normalize();
    Pose {
        device_ms,
        position_m: head.translation.to_array(),
        orientation: [q.x, q.y, q.z, q.w],
    }
}

fn send_pose(
    time: Res<Time<Real>>,
    link: Option<Res<NetLink>>,
    xr_head: Option<Res<HeadPose>>,
    look: Res<LookOverride>,
    rigs: Query<&GlobalTransform, With<Rig>>,
    mut last: Local<Option<(Duration, Transform)>>,
) {
    let Some(link) = link else { return };
    let head = match (xr_head.and_then(|h| h.0), look.0, rigs.iter().next()) {
        (Some(head), _, _) => head,
        (None, Some((yaw, pitch)), rig) => Transform {
            translation: rig.map_or(Vec3::ZERO, GlobalTransform::translation),
            rotation: look_rotation(yaw, pitch),
            ..default()
        },
        (None, None, Some(rig)) => rig.compute_transform(),
        (None, None, None) => return,
    };
    let now = time.elapsed();
    if let Some((at, was)) = *last {
        let due = now.saturating_sub(at) >= Duration::from_secs(1) / POSES_PER_SECOND;
        let moved = !was.translation.abs_diff_eq(head.translation, 0.005)
            || !was.rotation.abs_diff_eq(head.rotation, 0.001);
        if !due || (!moved && now.saturating_sub(at) < STILL_EVERY) {
            return;
        }
    }
    *last = Some((now, head));
    link.0.send_pose(pose_of(&head, link.0.local_ms()));
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let pose = pose_of(&Transform::from_rotation(look_rotation(90.0, 0.0)), 7);
        assert!(pose.is_plausible());
        assert_eq!(pose.device_ms, 7);
    }
}
