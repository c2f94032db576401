//! The one generic scene builder, shared by the headset (`boussole-game`) and the console's
//! spectator views (`boussole-console`): a content `SceneSpec` becomes Bevy entities
//! (cuboids, spheres, cylinders and planes from Bevy's primitives, PBR materials, directional
//! and point lights). No model files, so no copyrighted assets and nothing to load. The calm
//! room the headset fades to after a stop is itself a `SceneSpec`, built the same way. A 360°
//! film is drawn on the inside of a sphere ([`inside_sphere`]) whose texture coordinates follow
//! the anchors' convention ([`video_direction`]).
//!
//! Conventions are the content's: metres, right-handed, Y up; a 360° direction's yaw is
//! clockwise from -Z seen from above, its pitch above the horizon.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use boussole_content::ids::{MaterialId, SceneId};
use boussole_content::immersion::{Bounds, Light, Material, Primitive, SceneSpec, Shape, Spawn};
use std::collections::BTreeMap;

/// An entity made by [`build`] (despawned when the scene changes).
#[derive(Component, Debug)]
pub struct Built;

/// Words printed in the scene at this entity's place (a `SceneLabel`); the views draw them
/// facing the viewer.
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub struct WorldLabel(pub String);

/// The background of a scene's printed words: a sign's dark green.
pub const SIGN_BACKGROUND: Color = Color::srgba(0.05, 0.22, 0.14, 0.85);

/// What a primitive becomes: its mesh shape and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The mesh.
    pub mesh: PieceMesh,
    /// Where, metres, turned about Y.
    pub transform: Transform,
    /// The material's index in the scene's materials (`None`: unknown id, drawn grey).
    pub material: Option<usize>,
}

/// A mesh from Bevy's primitives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PieceMesh {
    /// A box.
    Cuboid(Cuboid),
    /// A ball.
    Sphere(Sphere),
    /// An upright cylinder.
    Cylinder(Cylinder),
    /// A horizontal plane, facing up.
    Plane(Plane3d),
}

impl PieceMesh {
    fn mesh(self) -> Mesh {
        match self {
            Self::Cuboid(c) => c.into(),
            Self::Sphere(s) => s.mesh().uv(32, 18),
            Self::Cylinder(c) => c.into(),
            Self::Plane(p) => p.into(),
        }
    }
}

/// The pieces of `spec`, in order (pure: tested without a renderer).
pub fn pieces(spec: &SceneSpec) -> Vec<Piece> {
    let index: BTreeMap<&MaterialId, usize> = spec
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| (&m.id, i))
        .collect();
    spec.primitives
        .iter()
        .map(|p| Piece {
            mesh: match p.shape {
                Shape::Cuboid { size } => PieceMesh::Cuboid(Cuboid::new(size.0, size.1, size.2)),
                Shape::Sphere { radius } => PieceMesh::Sphere(Sphere::new(radius)),
                Shape::Cylinder { radius, height } => {
                    PieceMesh::Cylinder(Cylinder::new(radius, height))
                }
                Shape::Plane { size } => {
                    PieceMesh::Plane(Plane3d::new(Vec3::Y, Vec2::new(size.0, size.1) / 2.0))
                }
            },
            transform: Transform::from_xyz(p.position.0, p.position.1, p.position.2)
                .with_rotation(Quat::from_rotation_y(p.yaw_deg.to_radians())),
            material: index.get(&p.material).copied(),
        })
        .collect()
}

/// The ambient light every scene is seen in (white, 300 cd/m²), in the headset and in the
/// console's spectator alike, so that both show a scene as bright.
pub fn ambient_light() -> GlobalAmbientLight {
    GlobalAmbientLight {
        color: Color::WHITE,
        brightness: 300.0,
        affects_lightmapped_meshes: true,
    }
}

/// The PBR material of `m` (linear colours, as the content gives them).
pub fn standard_material(m: &Material) -> StandardMaterial {
    let (r, g, b, a) = m.base_color;
    StandardMaterial {
        base_color: Color::linear_rgba(r, g, b, a),
        perceptual_roughness: m.roughness,
        metallic: m.metallic,
        emissive: LinearRgba::rgb(m.emissive.0, m.emissive.1, m.emissive.2),
        alpha_mode: if a < 1.0 {
            AlphaMode::Blend
        } else {
            AlphaMode::Opaque
        },
        ..default()
    }
}

/// Spawns `spec`'s geometry, materials and lights, each marked [`Built`].
pub fn build(
    commands: &mut Commands,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
    spec: &SceneSpec,
) {
    build_with(commands, meshes, materials, spec, ());
}

/// [`build`], with `extra` added to every entity spawned (the console's spectator puts each
/// scene on its own render layer so that several scenes share one world).
pub fn build_with(
    commands: &mut Commands,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
    spec: &SceneSpec,
    extra: impl Bundle + Clone,
) {
    let handles: Vec<Handle<StandardMaterial>> = spec
        .materials
        .iter()
        .map(|m| materials.add(standard_material(m)))
        .collect();
    let grey = materials.add(StandardMaterial::from_color(Color::srgb(0.5, 0.5, 0.5)));
    for piece in pieces(spec) {
        let material = piece
            .material
            .and_then(|i| handles.get(i).cloned())
            .unwrap_or_else(|| grey.clone());
        commands.spawn((
            Built,
            Mesh3d(meshes.add(piece.mesh.mesh())),
            MeshMaterial3d(material),
            piece.transform,
            extra.clone(),
        ));
    }
    for label in &spec.labels {
        let (x, y, z) = label.position;
        commands.spawn((
            Built,
            WorldLabel(label.text.clone()),
            Transform::from_xyz(x, y, z),
            extra.clone(),
        ));
    }
    for light in &spec.lights {
        match *light {
            Light::Directional {
                direction,
                illuminance_lux,
            } => {
                let dir = Vec3::new(direction.0, direction.1, direction.2);
                let dir = if dir.length_squared() > 0.0 {
                    dir
                } else {
                    Vec3::NEG_Y
                };
                commands.spawn((
                    Built,
                    DirectionalLight {
                        illuminance: illuminance_lux,
                        shadow_maps_enabled: false,
                        ..default()
                    },
                    Transform::default().looking_to(
                        dir,
                        if dir.cross(Vec3::Y).length_squared() > 1e-6 {
                            Vec3::Y
                        } else {
                            Vec3::Z
                        },
                    ),
                    extra.clone(),
                ));
            }
            Light::Point {
                position,
                intensity_lm,
                range_m,
            } => {
                commands.spawn((
                    Built,
                    PointLight {
                        intensity: intensity_lm,
                        range: range_m,
                        shadow_maps_enabled: false,
                        ..default()
                    },
                    Transform::from_xyz(position.0, position.1, position.2),
                    extra.clone(),
                ));
            }
        }
    }
}

/// The calm, neutral room shown after a stop and while waiting: soft light, warm beige
/// walls, nothing moving, nothing to do.
pub fn calm_room() -> SceneSpec {
    let material = |id: &str, rgb: (f32, f32, f32), emissive: (f32, f32, f32)| Material {
        id: MaterialId::from(id),
        base_color: (rgb.0, rgb.1, rgb.2, 1.0),
        roughness: 0.9,
        metallic: 0.0,
        emissive,
    };
    let prim = |shape, position, mat: &str| Primitive {
        shape,
        position,
        yaw_deg: 0.0,
        material: MaterialId::from(mat),
    };
    SceneSpec {
        id: SceneId::from("salle_calme"),
        bounds: Bounds {
            min: (-5.0, 0.0, -5.0),
            max: (5.0, 3.5, 5.0),
        },
        materials: vec![
            material("sol", (0.55, 0.50, 0.44), (0.0, 0.0, 0.0)),
            material("mur", (0.62, 0.66, 0.64), (0.0, 0.0, 0.0)),
            material("lumiere", (0.9, 0.9, 0.85), (0.35, 0.35, 0.3)),
        ],
        primitives: vec![
            prim(Shape::Plane { size: (10.0, 10.0) }, (0.0, 0.0, 0.0), "sol"),
            prim(
                Shape::Cuboid {
                    size: (10.0, 3.5, 0.1),
                },
                (0.0, 1.75, -4.95),
                "mur",
            ),
            prim(
                Shape::Cuboid {
                    size: (10.0, 3.5, 0.1),
                },
                (0.0, 1.75, 4.95),
                "mur",
            ),
            prim(
                Shape::Cuboid {
                    size: (0.1, 3.5, 10.0),
                },
                (-4.95, 1.75, 0.0),
                "mur",
            ),
            prim(
                Shape::Cuboid {
                    size: (0.1, 3.5, 10.0),
                },
                (4.95, 1.75, 0.0),
                "mur",
            ),
            prim(
                Shape::Cuboid {
                    size: (3.0, 0.05, 3.0),
                },
                (0.0, 3.45, -1.0),
                "lumiere",
            ),
        ],
        lights: vec![
            Light::Directional {
                direction: (0.2, -1.0, -0.3),
                illuminance_lux: 900.0,
            },
            Light::Point {
                position: (0.0, 3.0, -1.0),
                intensity_lm: 3000.0,
                range_m: 12.0,
            },
        ],
        spawn: Spawn {
            position: (0.0, 1.2, 1.0),
            yaw_deg: 0.0,
        },
        anchors: Vec::new(),
        ambience: None,
        labels: Vec::new(),
    }
}

/// The direction from the viewer of a 360° video's anchor: `yaw_deg` clockwise from the
/// film's centre seen from above (0 looks towards -Z, 90 towards +X), `pitch_deg` above the
/// horizon. Unit length.
pub fn video_direction(yaw_deg: f32, pitch_deg: f32) -> Vec3 {
    let (yaw, pitch) = (yaw_deg.to_radians(), pitch_deg.to_radians());
    Vec3::new(
        yaw.sin() * pitch.cos(),
        pitch.sin(),
        -yaw.cos() * pitch.cos(),
    )
}

/// A sphere seen from inside, `sectors` around and `stacks` from top to bottom, with
/// equirectangular texture coordinates: the film's centre column (u = 0.5) straight ahead
/// (-Z), u growing clockwise seen from above (to the viewer's right), its top row (v = 0)
/// overhead. The same convention as [`video_direction`], so a hotspot anchor's
/// yaw and pitch fall on the matching pixel. Triangles face the centre.
pub fn inside_sphere(radius: f32, sectors: u32, stacks: u32) -> Mesh {
    let (sectors, stacks) = (sectors.max(3), stacks.max(2));
    let mut positions = Vec::new();
    let mut normals = Vec::new();
    let mut uvs = Vec::new();
    for i in 0..=stacks {
        let v = i as f32 / stacks as f32;
        let pitch_deg = 90.0 - v * 180.0;
        for j in 0..=sectors {
            let u = j as f32 / sectors as f32;
            let yaw_deg = (u - 0.5) * 360.0;
            let dir = video_direction(yaw_deg, pitch_deg);
            positions.push((dir * radius).to_array());
            normals.push((-dir).to_array());
            uvs.push([u, v]);
        }
    }
    let row = sectors + 1;
    let mut indices = Vec::new();
    for i in 0..stacks {
        for j in 0..sectors {
            let a = i * row + j;
            let (b, c, d) = (a + 1, a + row, a + row + 1);
            // Counter-clockwise seen from the centre: a (top left), c (bottom left), b (top
            // right); then b, c, d.
            indices.extend_from_slice(&[a, c, b, b, c, d]);
        }
    }
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
    .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uvs)
    .with_inserted_indices(Indices::U32(indices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scene_becomes_pieces_with_known_materials()
    -> Result<(), Box<dyn std::error::Error>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        let (set, problems) = boussole_content::ContentSet::load_dir(&root);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(set.scenes.len() >= 5);
        for scene in set.scenes.iter().map(|s| &s.value).chain([&calm_room()]) {
            let p = pieces(scene);
            assert_eq!(p.len(), scene.primitives.len(), "{}", scene.id);
            assert!(
                p.iter().all(|x| x.material.is_some()),
                "{}: a primitive names an unknown material",
                scene.id
            );
            assert!(!scene.lights.is_empty(), "{}", scene.id);
        }
        Ok(())
    }
}
