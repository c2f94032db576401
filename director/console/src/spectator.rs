//! What each headset's wearer is looking at, from the head poses the director forwards
//! (`ServerMsg::Poses`) and the console's own content: the gaze's heading and pitch, and the
//! hotspot it points at ([`Sights::gaze`]). The devices screen draws it (`ui::spectator`): the
//! scene rendered from the wearer's head (`spectator_view`, with the same builder as the
//! headset), or the 360° film's poster frame in the head's direction, with the hotspots and
//! the pointer's ray drawn over it ([`project`]); without a renderer (tests), a plan of the
//! scene seen from above, or the film's panorama.
//!
//! Conventions are the content's: a 360° anchor's yaw is clockwise from the film's centre
//! (towards -Z) seen from above, its pitch above the horizon; scenes are metres, Y up.

use boussole_content::ContentSet;
use boussole_content::ids::{HotspotId, ImmersionId, SceneId};
use boussole_content::immersion::ImmersionSource;
use boussole_protocol::wire::{Doing, HeadsetPose, HeadsetPoses, PointerRay, Pose, Shows};
use std::collections::BTreeMap;

/// How close to a hotspot's direction a gaze must be to be "on" it, degrees.
pub const ON_HOTSPOT_DEG: f32 = 20.0;
/// The spectator view's vertical field of view, degrees: with its 2:1 picture, about the
/// 100° a headset shows across.
pub const VIEW_FOV_V_DEG: f32 = 60.0;
/// The spectator picture's width over its height.
pub const VIEW_ASPECT: f32 = 2.0;
/// How far from the viewer a 360° film's hotspot is drawn, metres (the headset's film sphere is
/// 10 m around the head).
pub const FILM_RADIUS_M: f32 = 10.0;

/// What a spectator view draws behind the hotspots: a scene of the content, or a 360° film's
/// poster frame on a sphere around the head.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backdrop {
    /// A `SceneSpec`, by id.
    Scene(SceneId),
    /// A film's poster frame, under the assets folder (`films/quai.png` beside
    /// `films/quai.webm`: what `boussole-lint import-360` writes); a sphere of plain colour
    /// where there is none.
    Film {
        /// The poster's path under the assets folder.
        poster: String,
    },
}

/// Where an immersion's hotspots are, as the spectator draws them.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// A 360° film: each hotspot at (yaw, pitch) degrees.
    Film,
    /// A 3D scene: its floor from `min` to `max` (x, z metres), each hotspot at a point.
    Scene {
        /// The floor's corner of smallest x and z.
        min: (f32, f32),
        /// The opposite corner.
        max: (f32, f32),
    },
}

/// One hotspot of an immersion, where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Spot {
    /// Its id.
    pub id: HotspotId,
    /// Its French title.
    pub title: String,
    /// A film's: (yaw, pitch) degrees. A scene's: its anchor (x, y, z) metres.
    pub at: [f32; 3],
}

/// What the spectator knows of an immersion.
#[derive(Clone, Debug, PartialEq)]
pub struct Sight {
    /// Its French title.
    pub title: String,
    /// Film or scene.
    pub place: Place,
    /// What its spectator view draws.
    pub backdrop: Backdrop,
    /// Its hotspots.
    pub spots: Vec<Spot>,
}

/// Every immersion of the console's content, by id: built once, shared by every frame's view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sights(pub BTreeMap<ImmersionId, Sight>);

/// What a head pose looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaze {
    /// Heading, degrees clockwise from -Z seen from above, -180 to 180.
    pub yaw_deg: f32,
    /// Pitch, degrees above the horizon.
    pub pitch_deg: f32,
    /// The hotspot within [`ON_HOTSPOT_DEG`] of the gaze, the nearest if several.
    pub on: Option<Spot>,
}

impl Sights {
    /// The immersions of `content` (scenes looked up by id; an immersion whose scene is
    /// missing is left out).
    pub fn of(content: &ContentSet) -> Self {
        let mut out = BTreeMap::new();
        for doc in &content.immersions {
            let im = &doc.value;
            let (place, backdrop, anchors): (Place, Backdrop, BTreeMap<String, [f32; 3]>) =
                match &im.source {
                    ImmersionSource::Video360 { anchors, file, .. } => (
                        Place::Film,
                        Backdrop::Film {
                            poster: poster_of(file.as_str()),
                        },
                        anchors
                            .iter()
                            .map(|a| (a.id.to_string(), [a.yaw_deg, a.pitch_deg, 0.0]))
                            .collect(),
                    ),
                    ImmersionSource::Scene { scene } => {
                        let Some(spec) = content
                            .scenes
                            .iter()
                            .map(|s| &s.value)
                            .find(|s| s.id == *scene)
                        else {
                            continue;
                        };
                        (
                            Place::Scene {
                                min: (spec.bounds.min.0, spec.bounds.min.2),
                                max: (spec.bounds.max.0, spec.bounds.max.2),
                            },
                            Backdrop::Scene(scene.clone()),
                            spec.anchors
                                .iter()
                                .map(|a| {
                                    (a.id.to_string(), [a.position.0, a.position.1, a.position.2])
                                })
                                .collect(),
                        )
                    }
                };
            let spots = im
                .hotspots
                .iter()
                .filter_map(|h| {
                    Some(Spot {
                        id: h.id.clone(),
                        title: h.title.fr.clone(),
                        at: *anchors.get(h.anchor.as_str())?,
                    })
                })
                .collect();
            out.insert(
                im.id.clone(),
                Sight {
                    title: im.title.fr.clone(),
                    place,
                    backdrop,
                    spots,
                },
            );
        }
        Self(out)
    }

    /// What `pose` looks at in immersion `id` (no hotspot when the immersion is unknown).
    pub fn gaze(&self, id: Option<&ImmersionId>, pose: &Pose) -> Gaze {
        let forward = forward(pose.orientation);
        let (yaw_deg, pitch_deg) = angles(forward);
        let sight = id.and_then(|id| self.0.get(id));
        let on = sight.and_then(|sight| {
            sight
                .spots
                .iter()
                .filter_map(|spot| {
                    let dir = match sight.place {
                        Place::Film => direction(spot.at[0], spot.at[1]),
                        Place::Scene { .. } => normalise([
                            spot.at[0] - pose.position_m[0],
                            spot.at[1] - pose.position_m[1],
                            spot.at[2] - pose.position_m[2],
                        ])?,
                    };
                    let cos = dot(forward, dir).clamp(-1.0, 1.0);
                    let off = cos.acos().to_degrees();
                    (off <= ON_HOTSPOT_DEG).then_some((off, spot))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, spot)| spot.clone())
        });
        Gaze {
            yaw_deg,
            pitch_deg,
            on,
        }
    }
}

/// A film's poster frame: the film's path with `.png` for its extension.
pub fn poster_of(film: &str) -> String {
    std::path::Path::new(film)
        .with_extension("png")
        .to_string_lossy()
        .into_owned()
}

/// Where `point` (metres, the scene's space) falls in the spectator picture of a head at
/// `head` turned by `orientation` (unit quaternion x, y, z, w): (x, y) from the picture's top
/// left, each 0 to 1 across it, for a picture [`VIEW_ASPECT`] wide with [`VIEW_FOV_V_DEG`]
/// of vertical field; `None` when it is behind the head or less than 5 cm in front.
pub fn project(head: [f32; 3], orientation: [f32; 4], point: [f32; 3]) -> Option<[f32; 2]> {
    use bevy::math::{Quat, Vec3};
    let q = Quat::from_array(orientation).normalize();
    let local = q.inverse() * (Vec3::from_array(point) - Vec3::from_array(head));
    if local.z > -0.05 {
        return None;
    }
    let f = 1.0 / (VIEW_FOV_V_DEG.to_radians() / 2.0).tan();
    let (x, y) = (local.x / -local.z * f / VIEW_ASPECT, local.y / -local.z * f);
    Some([(x + 1.0) / 2.0, (1.0 - y) / 2.0])
}

/// Where a hotspot of `sight` stands in the scene's space, seen from `head`: a scene's anchor,
/// or a film's direction at [`FILM_RADIUS_M`] from the head.
pub fn spot_point(sight: &Sight, spot: &Spot, head: [f32; 3]) -> [f32; 3] {
    match sight.place {
        Place::Film => {
            let d = direction(spot.at[0], spot.at[1]);
            [
                head[0] + d[0] * FILM_RADIUS_M,
                head[1] + d[1] * FILM_RADIUS_M,
                head[2] + d[2] * FILM_RADIUS_M,
            ]
        }
        Place::Scene { .. } => spot.at,
    }
}

/// Which of the views waiting for a new picture are drawn this frame when at most `budget`
/// may be: the ones waiting longest first (`waiting`: each view's key and the frame since
/// which its picture is out of date), ties by key. A console following more headsets than it
/// can draw each frame keeps its frame rate: each view is drawn in turn, less often.
pub fn due<K: Clone + Ord>(waiting: &[(K, u64)], budget: usize) -> Vec<K> {
    let mut order: Vec<&(K, u64)> = waiting.iter().collect();
    order.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    order
        .into_iter()
        .take(budget)
        .map(|(k, _)| k.clone())
        .collect()
}

/// The orientation (unit quaternion x, y, z, w) of a head looking at (yaw, pitch) degrees, as
/// the headset builds it: yaw about Y (clockwise seen from above), then pitch about X.
pub fn orientation(yaw_deg: f32, pitch_deg: f32) -> [f32; 4] {
    let (hy, hp) = ((-yaw_deg).to_radians() / 2.0, pitch_deg.to_radians() / 2.0);
    let ([ax, ay, az, aw], [bx, by, bz, bw]) = (
        [0.0, hy.sin(), 0.0, hy.cos()],
        [hp.sin(), 0.0, 0.0, hp.cos()],
    );
    [
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ]
}

/// Training (a scripted session, no headset): each headset of the script with a running
/// immersion looks at its hotspots in turn, four seconds each, standing at the middle of the
/// scene, so the facilitator in training sees the spectator panel as it will be.
pub fn training_poses(view: &crate::view::SessionView) -> HeadsetPoses {
    let mut poses = Vec::new();
    for (device, run) in view.engine.immersions() {
        if run.started.is_none() || run.stopped.is_some() {
            continue;
        }
        let Some(sight) = view.sights.0.get(&run.immersion) else {
            continue;
        };
        if sight.spots.is_empty() {
            continue;
        }
        let turn = usize::try_from(view.now.0 / 4_000).unwrap_or(0)
            + device.as_str().bytes().map(usize::from).sum::<usize>();
        let spot = &sight.spots[turn % sight.spots.len()];
        let (head, yaw, pitch) = match sight.place {
            Place::Film => ([0.0, 1.6, 0.0], spot.at[0], spot.at[1]),
            Place::Scene { min, max } => {
                let head = [(min.0 + max.0) / 2.0, 1.6, (min.1 + max.1) / 2.0];
                let to = normalise([
                    spot.at[0] - head[0],
                    spot.at[1] - head[1],
                    spot.at[2] - head[2],
                ])
                .unwrap_or([0.0, 0.0, -1.0]);
                let (yaw, pitch) = angles(to);
                (head, yaw, pitch)
            }
        };
        poses.push(HeadsetPose {
            device: device.clone(),
            pose: Pose {
                device_ms: view.now.0,
                position_m: head,
                orientation: orientation(yaw, pitch),
                // The controller at the right hip, pointing at the hotspot looked at.
                pointer: {
                    let hand = [head[0] + 0.2, head[1] - 0.5, head[2]];
                    let at = spot_point(sight, spot, head);
                    normalise([at[0] - hand[0], at[1] - hand[1], at[2] - hand[2]]).map(
                        |direction| PointerRay {
                            origin_m: hand,
                            direction,
                        },
                    )
                },
                shows: Some(Shows {
                    doing: Doing::Hotspot,
                    board: spot.title.clone(),
                }),
            },
            received_ms: view.now.0,
        });
    }
    HeadsetPoses { poses, ignored: 0 }
}

/// The head's forward direction (-Z turned by the unit quaternion `q` = x, y, z, w).
pub fn forward(q: [f32; 4]) -> [f32; 3] {
    let [x, y, z, w] = q;
    // -Z rotated: the third column of the rotation matrix, negated.
    normalise([
        -(2.0 * (x * z + w * y)),
        -(2.0 * (y * z - w * x)),
        -(1.0 - 2.0 * (x * x + y * y)),
    ])
    .unwrap_or([0.0, 0.0, -1.0])
}

/// A direction's heading (clockwise from -Z) and pitch, degrees.
pub fn angles(d: [f32; 3]) -> (f32, f32) {
    let yaw = d[0].atan2(-d[2]).to_degrees();
    let pitch = d[1].clamp(-1.0, 1.0).asin().to_degrees();
    (yaw, pitch)
}

/// The unit direction of (yaw, pitch) degrees, as the headset places a 360° anchor.
pub fn direction(yaw_deg: f32, pitch_deg: f32) -> [f32; 3] {
    boussole_scene::video_direction(yaw_deg, pitch_deg).to_array()
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn normalise(v: [f32; 3]) -> Option<[f32; 3]> {
    let n = dot(v, v).sqrt();
    (n > 1e-6).then(|| [v[0] / n, v[1] / n, v[2] / n])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn looking(yaw_deg: f32, pitch_deg: f32) -> [f32; 4] {
        orientation(yaw_deg, pitch_deg)
    }

    fn pose(at: [f32; 3], q: [f32; 4]) -> Pose {
        Pose {
            device_ms: 0,
            position_m: at,
            orientation: q,
            pointer: None,
            shows: None,
        }
    }

    fn spot(id: &str, at: [f32; 3]) -> Spot {
        Spot {
            id: HotspotId::from(id),
            title: id.to_uppercase(),
            at,
        }
    }

    #[test]
    fn a_gaze_reads_back_as_the_yaw_and_pitch_it_was_made_of() {
        for (yaw, pitch) in [
            (0.0, 0.0),
            (90.0, 0.0),
            (-135.0, 20.0),
            (40.0, -8.0),
            (179.0, 60.0),
        ] {
            let (y, p) = angles(forward(looking(yaw, pitch)));
            assert!(
                (y - yaw).abs() < 0.01 && (p - pitch).abs() < 0.01,
                "{yaw} {pitch} → {y} {p}"
            );
            let d = direction(yaw, pitch);
            let f = forward(looking(yaw, pitch));
            assert!(dot(d, f) > 0.9999, "{yaw} {pitch}");
        }
    }

    #[test]
    fn the_hotspot_in_front_is_the_one_looked_at() {
        let film = Sight {
            title: "Quai".into(),
            place: Place::Film,
            backdrop: Backdrop::Film {
                poster: "films/quai.png".into(),
            },
            spots: vec![
                spot("chariot", [-40.0, -8.0, 0.0]),
                spot("navire", [40.0, -8.0, 0.0]),
            ],
        };
        let scene = Sight {
            title: "Atelier".into(),
            place: Place::Scene {
                min: (-5.0, -5.0),
                max: (5.0, 5.0),
            },
            backdrop: Backdrop::Scene(SceneId::from("atelier")),
            spots: vec![
                spot("etabli", [3.0, 1.0, 0.0]),
                spot("porte", [0.0, 1.5, -4.0]),
            ],
        };
        let sights = Sights(BTreeMap::from([
            (ImmersionId::from("quai"), film),
            (ImmersionId::from("atelier"), scene),
        ]));
        let quai = ImmersionId::from("quai");
        let on = |sights: &Sights, id: &ImmersionId, p: Pose| {
            sights.gaze(Some(id), &p).on.map(|s| s.id.to_string())
        };
        let origin = [0.0, 1.6, 0.0];
        assert_eq!(
            on(&sights, &quai, pose(origin, looking(38.0, -5.0))).as_deref(),
            Some("navire")
        );
        assert_eq!(
            on(&sights, &quai, pose(origin, looking(-45.0, 0.0))).as_deref(),
            Some("chariot")
        );
        assert_eq!(
            on(&sights, &quai, pose(origin, looking(180.0, 0.0))),
            None,
            "behind"
        );
        // In a scene, the head's position counts: from the origin the bench is to the right
        // (+X), the door straight ahead.
        let atelier = ImmersionId::from("atelier");
        assert_eq!(
            on(&sights, &atelier, pose(origin, looking(90.0, -10.0))).as_deref(),
            Some("etabli")
        );
        assert_eq!(
            on(&sights, &atelier, pose(origin, looking(0.0, 0.0))).as_deref(),
            Some("porte")
        );
        // Standing past the bench, looking right, it is behind.
        assert_eq!(
            on(
                &sights,
                &atelier,
                pose([4.0, 1.6, 0.0], looking(90.0, -10.0))
            ),
            None
        );
        let gaze = sights.gaze(None, &pose(origin, looking(30.0, 10.0)));
        assert!(gaze.on.is_none() && (gaze.yaw_deg - 30.0).abs() < 0.01);
    }

    #[test]
    fn a_point_falls_where_the_head_sees_it() {
        let origin = [0.0, 1.6, 0.0];
        let near = |got: Option<[f32; 2]>, want: [f32; 2]| {
            got.is_some_and(|g| (g[0] - want[0]).abs() < 1e-3 && (g[1] - want[1]).abs() < 1e-3)
        };
        // Straight ahead: the middle of the picture, at any distance.
        for d in [0.5, 3.0, 40.0] {
            let got = project(origin, looking(0.0, 0.0), [0.0, 1.6, -d]);
            assert!(near(got, [0.5, 0.5]), "{d}: {got:?}");
        }
        // The edges of the field: half the vertical field up is the top edge; the horizontal
        // half field (from the 2:1 picture) right is the right edge.
        let up = (VIEW_FOV_V_DEG / 2.0).to_radians();
        let got = project(origin, looking(0.0, 0.0), [0.0, 1.6 + up.tan(), -1.0]);
        assert!(near(got, [0.5, 0.0]), "{got:?}");
        let across = (up.tan() * VIEW_ASPECT).atan().to_degrees();
        let d = direction(across, 0.0);
        let got = project(origin, looking(0.0, 0.0), [d[0], 1.6 + d[1], d[2]]);
        assert!(near(got, [1.0, 0.5]), "{across}: {got:?}");
        // Turned right by 90°, what was on the right is ahead; what was ahead is behind the
        // picture's left edge (out of the picture but still in front), and behind is nowhere.
        let got = project(origin, looking(90.0, 0.0), [5.0, 1.6, 0.0]);
        assert!(near(got, [0.5, 0.5]), "{got:?}");
        assert_eq!(project(origin, looking(90.0, 0.0), [-5.0, 1.6, 0.0]), None);
        assert_eq!(
            project(origin, looking(0.0, 0.0), [0.0, 1.6, 0.0]),
            None,
            "the eye"
        );
        // Looking down at the floor ahead: a point lower than the gaze is below the middle.
        let got = project(origin, looking(0.0, -30.0), [0.0, 0.0, -2.0])
            .ok_or("the floor ahead is seen")
            .unwrap_or([0.0, 0.0]);
        assert!(got[1] > 0.5 && (got[0] - 0.5).abs() < 1e-3, "{got:?}");
        // A film's hotspot stands on its direction from the head.
        let film = Sight {
            title: "Quai".into(),
            place: Place::Film,
            backdrop: Backdrop::Film {
                poster: poster_of("films/quai.webm"),
            },
            spots: vec![spot("navire", [40.0, -8.0, 0.0])],
        };
        let at = spot_point(&film, &film.spots[0], origin);
        let got = project(origin, looking(40.0, -8.0), at);
        assert!(near(got, [0.5, 0.5]), "{got:?}");
        assert_eq!(
            film.backdrop,
            Backdrop::Film {
                poster: "films/quai.png".into()
            }
        );
    }

    #[test]
    fn views_are_drawn_in_turn_when_over_budget() {
        // Six views out of date since frames 5, 1, 3, 1, 9, 2; three drawn per frame.
        let mut waiting: Vec<(String, u64)> = [5, 1, 3, 1, 9, 2]
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("casque-{i}"), *f))
            .collect();
        assert_eq!(due(&waiting, 3), ["casque-1", "casque-3", "casque-5"]);
        // Within budget, every view is drawn.
        assert_eq!(due(&waiting[..2], 3).len(), 2);
        // Drawn ones wait again from this frame (10): the others come next, none starved.
        let mut drawn_at = BTreeMap::new();
        for frame in 10..16_u64 {
            for k in due(&waiting, 3) {
                drawn_at.entry(k.clone()).or_insert(frame);
                if let Some(w) = waiting.iter_mut().find(|w| w.0 == k) {
                    w.1 = frame;
                }
            }
        }
        assert_eq!(
            drawn_at.len(),
            6,
            "every view drawn within two frames: {drawn_at:?}"
        );
        assert!(drawn_at.values().all(|f| *f <= 11), "{drawn_at:?}");
        assert!(due::<String>(&[], 3).is_empty());
    }

    #[test]
    fn the_shipped_immersions_have_their_hotspots_placed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        let (content, _) = boussole_content::check(&root, &root.join("../assets"));
        let sights = Sights::of(&content);
        assert!(!sights.0.is_empty());
        for (id, sight) in &sights.0 {
            assert!(!sight.spots.is_empty(), "{id}: no hotspot placed");
        }
    }
}
