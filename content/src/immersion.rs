//! Job immersions: a sector and its ROME codes, a 3D scene or a 360° video, hotspots with
//! narration, small tasks, stress stimuli and the end questionnaire.

use crate::ids::{
    AnchorId, HotspotId, ImmersionId, ItemId, QuestionId, SceneId, StimulusId, TaskId,
};
use crate::puzzle::Item;
use crate::text::{AssetPath, Text};
use serde::{Deserialize, Serialize};

/// One job immersion (one file under `content/immersions/`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Immersion {
    /// Unique across the content folder.
    pub id: ImmersionId,
    /// Title ("Cariste au port").
    pub title: Text,
    /// Sector, in French ("Logistique portuaire").
    pub sector: String,
    /// ROME codes of the trades shown (`"N1101"`: a letter and four digits), from France
    /// Travail's ROME classification; at least one, except for the tutorial.
    pub rome_codes: Vec<String>,
    /// What the participant sees.
    pub source: ImmersionSource,
    /// Said before the immersion starts.
    pub introduction: Text,
    /// Points of interest with narration.
    pub hotspots: Vec<Hotspot>,
    /// Small tasks.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// The workplace's real constraints, played as stress stimuli.
    #[serde(default)]
    pub stimuli: Vec<Stimulus>,
    /// Asked at the end, in the headset.
    pub questionnaire: EndQuestionnaire,
    /// Comfort settings.
    pub comfort: Comfort,
    /// Whether this is the tutorial for first-time VR users (runs before the others).
    #[serde(default)]
    pub tutorial: bool,
}

/// A 3D scene built by the game's generic builder, or a 360° video.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ImmersionSource {
    /// A procedural scene (a `SceneSpec` under `content/scenes/`).
    Scene {
        /// The scene.
        scene: SceneId,
    },
    /// An equirectangular 360° video played on the inside of a sphere.
    Video360 {
        /// The video, under `assets/`.
        file: AssetPath,
        /// Top-bottom stereo (one eye above the other) rather than mono.
        #[serde(default)]
        stereo: bool,
        /// Hotspot anchors, as directions from the viewer.
        anchors: Vec<VideoAnchor>,
    },
}

/// A hotspot anchor in a 360° video: a direction, in degrees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoAnchor {
    /// Unique within the immersion.
    pub id: AnchorId,
    /// Degrees, clockwise from the video's centre, in [-180, 180].
    pub yaw_deg: f32,
    /// Degrees above the horizon, in [-90, 90].
    pub pitch_deg: f32,
}

/// A point of interest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hotspot {
    /// Unique within the immersion.
    pub id: HotspotId,
    /// Where it is: an anchor of the scene or of the video.
    pub anchor: AnchorId,
    /// Its label.
    pub title: Text,
    /// Narration read when the participant selects it.
    pub narration: Text,
}

/// A small task of an immersion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Unique within the immersion.
    pub id: TaskId,
    /// What to do ("Choisis les équipements de sécurité.").
    pub instruction: Text,
    /// How it works.
    pub kind: TaskKind,
    /// Said when it is done.
    pub feedback: Text,
}

/// How a task works.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum TaskKind {
    /// Pick the right options (safety equipment...).
    Choose {
        /// The options shown.
        options: Vec<Item>,
        /// The options that are right (at least one).
        correct: Vec<ItemId>,
    },
    /// Find the hazards among hotspots.
    SpotHazards {
        /// The hotspots that are hazards.
        hazards: Vec<HotspotId>,
    },
    /// Put steps in order (plan a home visit).
    Order {
        /// The steps, as shown.
        steps: Vec<Item>,
        /// The right order, every step once.
        order: Vec<ItemId>,
    },
}

/// A workplace constraint played to the participant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stimulus {
    /// Unique within the immersion.
    pub id: StimulusId,
    /// What kind of constraint.
    pub kind: StimulusKind,
    /// Said to the participant ("Ici, il fait froid : 4 °C.").
    pub description: Text,
    /// A sound that plays it (alarm, engines), under `assets/`.
    #[serde(default)]
    pub sound: Option<AssetPath>,
    /// Seconds from the start of the immersion.
    pub at_s: f32,
    /// Seconds it lasts.
    pub duration_s: f32,
    /// Intensity from 0 (none) to 1 (strongest the immersion plays).
    pub intensity: f32,
}

/// Kinds of workplace constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StimulusKind {
    /// Noise.
    Noise,
    /// Working at height.
    Height,
    /// Fast pace.
    Pace,
    /// Heat.
    Heat,
    /// Cold.
    Cold,
    /// Shift and night work.
    ShiftWork,
    /// Confined spaces.
    Confinement,
    /// Alarms and emergencies.
    Alarm,
    /// People and emotions (care work).
    Relational,
}

impl StimulusKind {
    /// The French name.
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Noise => "bruit",
            Self::Height => "hauteur",
            Self::Pace => "cadence",
            Self::Heat => "chaleur",
            Self::Cold => "froid",
            Self::ShiftWork => "travail posté",
            Self::Confinement => "espace confiné",
            Self::Alarm => "alarme",
            Self::Relational => "relation à l'autre",
        }
    }
}

/// The end questionnaire: appeal 1–5, stress 1–5 per stimulus, free comment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndQuestionnaire {
    /// "Ce métier te plaît ?" — answered 1 to 5.
    pub appeal: Text,
    /// The five answers, 1 to 5, each with a pictogram.
    pub scale: Vec<Text>,
    /// One stress question per stimulus, answered 1 to 5 on the same scale.
    pub stress: Vec<StressQuestion>,
    /// Invitation to a free comment (spoken or typed with the facilitator).
    pub comment: Text,
}

/// A stress question about one stimulus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StressQuestion {
    /// Unique within the questionnaire.
    pub id: QuestionId,
    /// The stimulus asked about.
    pub stimulus: StimulusId,
    /// The question.
    pub text: Text,
}

/// Comfort settings for the headset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comfort {
    /// Seated (default) or standing.
    pub posture: Posture,
    /// How the participant moves.
    pub locomotion: Locomotion,
    /// Darken the edges of the view while moving.
    pub vignette: bool,
    /// Longest time in the headset, minutes; a break prompt comes after.
    pub max_minutes: f32,
}

/// Seated or standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Posture {
    /// Seated (the default for first-time users).
    Seated,
    /// Standing, in a cleared area.
    Standing,
}

/// Locomotion modes (no smooth rotation: it makes people sick).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Locomotion {
    /// The participant stays where they are and looks around.
    Stationary,
    /// Snap turn only.
    SnapTurn,
    /// Snap turn and teleport.
    Teleport,
}

/// A 3D scene for the game's generic builder (one file under `content/scenes/`).
/// Metres, right-handed, Y up; angles in degrees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneSpec {
    /// Unique across the content folder.
    pub id: SceneId,
    /// The playable volume: every primitive's centre, anchor and the spawn point lie inside.
    pub bounds: Bounds,
    /// Materials.
    pub materials: Vec<Material>,
    /// Geometry.
    pub primitives: Vec<Primitive>,
    /// Lights (at least one).
    pub lights: Vec<Light>,
    /// Where the participant's head starts.
    pub spawn: Spawn,
    /// Hotspot anchors.
    pub anchors: Vec<Anchor>,
    /// Ambient sound loop, under `assets/`.
    #[serde(default)]
    pub ambience: Option<AssetPath>,
    /// Words printed in the scene (an aisle's number, a box's label, a line of a board),
    /// drawn facing the viewer at their place; at most [`SceneSpec::MAX_LABELS`].
    #[serde(default)]
    pub labels: Vec<SceneLabel>,
}

impl SceneSpec {
    /// The most labels a scene may print: the headset draws every label's words into one
    /// atlas of this many rows beside the hotspots' names (`game/src/headset/tags.rs`).
    pub const MAX_LABELS: usize = 16;
    /// The longest label, characters: one row of that atlas at the labels' type size.
    pub const MAX_LABEL_CHARS: usize = 40;
}

/// Words printed in a scene: what a worker would read there. Not read aloud: a text the
/// participant must hear belongs to the immersion or the puzzle, with its voice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneLabel {
    /// The words, one line (« Allée 5 », « BAT-0412 », « Chambre 4 »).
    pub text: String,
    /// Where their centre stands, metres.
    pub position: (f32, f32, f32),
}

/// An axis-aligned box, metres.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Lowest corner (x, y, z).
    pub min: (f32, f32, f32),
    /// Highest corner (x, y, z).
    pub max: (f32, f32, f32),
}

impl Bounds {
    /// Whether `p` lies inside (borders included).
    pub fn contains(&self, p: (f32, f32, f32)) -> bool {
        (self.min.0..=self.max.0).contains(&p.0)
            && (self.min.1..=self.max.1).contains(&p.1)
            && (self.min.2..=self.max.2).contains(&p.2)
    }
}

/// A PBR material.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Unique within the scene.
    pub id: crate::ids::MaterialId,
    /// Linear RGBA, each in [0, 1].
    pub base_color: (f32, f32, f32, f32),
    /// Perceptual roughness in [0, 1].
    #[serde(default = "half")]
    pub roughness: f32,
    /// Metallic in [0, 1].
    #[serde(default)]
    pub metallic: f32,
    /// Emissive linear RGB (lamps, screens); zero for none.
    #[serde(default)]
    pub emissive: (f32, f32, f32),
}

fn half() -> f32 {
    0.5
}

/// A piece of geometry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Primitive {
    /// The shape.
    pub shape: Shape,
    /// Centre, metres.
    pub position: (f32, f32, f32),
    /// Rotation about Y, degrees.
    #[serde(default)]
    pub yaw_deg: f32,
    /// The material.
    pub material: crate::ids::MaterialId,
}

/// Shapes, metres.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Shape {
    /// A box of this size (x, y, z).
    Cuboid {
        /// Full size along each axis.
        size: (f32, f32, f32),
    },
    /// A sphere.
    Sphere {
        /// Radius.
        radius: f32,
    },
    /// A vertical cylinder.
    Cylinder {
        /// Radius.
        radius: f32,
        /// Height.
        height: f32,
    },
    /// A horizontal plane (floors).
    Plane {
        /// Size along x and z.
        size: (f32, f32),
    },
}

/// A light.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Light {
    /// Sunlight or a big ceiling: parallel rays.
    Directional {
        /// Direction the light travels (x, y, z).
        direction: (f32, f32, f32),
        /// Illuminance, lux.
        illuminance_lux: f32,
    },
    /// A lamp.
    Point {
        /// Position, metres.
        position: (f32, f32, f32),
        /// Luminous power, lumens.
        intensity_lm: f32,
        /// Range, metres.
        range_m: f32,
    },
}

/// Where the participant starts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spawn {
    /// Head position, metres (y = eye height: about 1.2 seated, 1.65 standing).
    pub position: (f32, f32, f32),
    /// Facing, degrees about Y.
    pub yaw_deg: f32,
}

/// A hotspot anchor in a scene.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// Unique within the scene.
    pub id: AnchorId,
    /// Position, metres.
    pub position: (f32, f32, f32),
}

impl Immersion {
    /// Every participant-facing text, for audio coverage.
    pub fn texts(&self) -> Vec<&Text> {
        let mut out = vec![&self.title, &self.introduction];
        for h in &self.hotspots {
            out.push(&h.title);
            out.push(&h.narration);
        }
        for t in &self.tasks {
            out.push(&t.instruction);
            out.push(&t.feedback);
            match &t.kind {
                TaskKind::Choose { options, .. } => out.extend(options.iter().map(|o| &o.text)),
                TaskKind::Order { steps, .. } => out.extend(steps.iter().map(|o| &o.text)),
                TaskKind::SpotHazards { .. } => {}
            }
        }
        out.extend(self.stimuli.iter().map(|s| &s.description));
        let q = &self.questionnaire;
        out.push(&q.appeal);
        out.extend(&q.scale);
        out.extend(q.stress.iter().map(|s| &s.text));
        out.push(&q.comment);
        out
    }
}
