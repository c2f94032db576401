//! Headset-guided puzzles in the headset. While such a puzzle is open for this headset's
//! station, the wearer sits in the puzzle's scene (its `SceneSpec`, with the labels they must
//! read out), sees the puzzle's view at the bottom of the view and hears it read aloud, again
//! with « Réécouter » (the pointer's select on it, or R); the director hears once that the
//! view was shown ([`DeviceEvent::HeadsetViewSeen`]). When the puzzle is solved or the game
//! ends, the scene closes to the calm room.
//!
//! An immersion running on the headset goes first: the facilitator is told once that the
//! puzzle waits (the console's run screen asks which comes first), and it shows when the
//! immersion ends, or at once when the facilitator stops the immersion. A wearer who stops
//! (Échap) rests in the calm room and comes back with « Revenir à l'énigme ».

use super::state::{
    Caption, HeadsetState, Phase, SEATED_EYE_M, SceneEntity, clear_scene, preload, start_ambience,
};
use crate::LaunchOptions;
use crate::content::GameContent;
use crate::net::plugin::{Report, Room, StopAllCues};
use crate::placement::PlacementOrder;
use crate::third_party::audio::{AudioOutput, PlaySound};
use bevy::prelude::*;
use boussole_content::cue::DeviceRole;
use boussole_content::ids::{PuzzleId, SceneId, StationId};
use boussole_content::puzzle::PuzzleKind;
use boussole_content::scenario::Scenario;
use boussole_content::text::Text;
use boussole_protocol::DeviceEvent;
use boussole_protocol::wire::Role;

/// A headset-guided puzzle as the headset shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidedPuzzle {
    /// The puzzle.
    pub puzzle: PuzzleId,
    /// Its title.
    pub title: Text,
    /// What the wearer sees and describes (`headset_view`).
    pub view: Text,
    /// The scene the wearer sits in.
    pub scene: Option<SceneId>,
    /// The headset's station.
    pub station: StationId,
}

/// This headset's station: the one it was started at, else the one the console gave it;
/// `None` until either (the scenario's only headset seat is then taken).
#[derive(Resource, Debug, Default, Clone)]
pub struct HeadsetStation(pub Option<StationId>);

/// The headset-guided puzzle open now for the headset at `station` (or, with no station
/// known, at the scenario's only headset seat), first in the scenario's order.
pub fn open_for(
    scenario: &Scenario,
    room: &Room,
    station: Option<&StationId>,
) -> Option<GuidedPuzzle> {
    let only_seat = || {
        let mut seats = scenario
            .stations
            .iter()
            .filter(|s| s.role == DeviceRole::Headset);
        match (seats.next(), seats.next()) {
            (Some(seat), None) => Some(&seat.id),
            _ => None,
        }
    };
    let station = station.or_else(only_seat)?;
    scenario.puzzles.iter().find_map(|p| match &p.kind {
        PuzzleKind::HeadsetGuided {
            headset_station,
            headset_view,
            scene,
            ..
        } if headset_station == station && room.is_open(&p.id) => Some(GuidedPuzzle {
            puzzle: p.id.clone(),
            title: p.title.clone(),
            view: headset_view.clone(),
            scene: scene.clone(),
            station: station.clone(),
        }),
        _ => None,
    })
}

/// Adds the guided puzzles' logic (runs after the headset's actions, before its panel).
pub(crate) fn plugin(app: &mut App) {
    let station = app
        .world()
        .get_resource::<LaunchOptions>()
        .and_then(|o| o.station.clone());
    app.insert_resource(HeadsetStation(station));
}

/// Takes the console's placement of this headset.
pub(super) fn placed(
    mut orders: MessageReader<PlacementOrder>,
    mut station: ResMut<HeadsetStation>,
) {
    for order in orders.read() {
        if order.role == Role::Headset && order.station.is_some() && station.0 != order.station {
            info!("la régie place ce casque au poste {:?}", order.station);
            station.0.clone_from(&order.station);
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "entering a puzzle's scene touches the room, the content, the scene entities, the \
              sounds and the reports"
)]
/// Opens, changes or closes the puzzle's scene as the room's state says.
pub(super) fn follow(
    room: Res<Room>,
    content: Res<GameContent>,
    station: Res<HeadsetStation>,
    mut state: ResMut<HeadsetState>,
    mut commands: Commands,
    scene_entities: Query<Entity, With<SceneEntity>>,
    mut reports: MessageWriter<Report>,
    mut stops: MessageWriter<StopAllCues>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
) {
    let open = room
        .scenario
        .as_deref()
        .and_then(|s| open_for(s, &room, station.0.as_ref()));
    if state.guided_open != open {
        state.guided_open.clone_from(&open);
    }
    let showing = state.guided.as_ref().map(|g| g.puzzle.clone());
    let leave =
        state.phase == Phase::Guided && open.as_ref().map(|o| &o.puzzle) != showing.as_ref();
    if leave {
        info!("énigme guidée fermée : salle calme");
        clear_scene(&mut state, &mut commands, &scene_entities);
        state.phase = Phase::Waiting;
        state.caption = None;
        state.guided = None;
        stops.write(StopAllCues);
    }
    let Some(open) = open else {
        state.stopped_for_puzzle = false;
        return;
    };
    match state.phase {
        Phase::Waiting => {}
        Phase::Stopped if state.stopped_for_puzzle => state.stopped_for_puzzle = false,
        Phase::Thanks if state.queue.is_empty() => {}
        Phase::Intro | Phase::Exploring | Phase::Questionnaire(_) => {
            if state.guided_told.insert(open.puzzle.clone()) {
                let immersion = state
                    .run
                    .as_ref()
                    .map(|r| r.immersion.title.fr.clone())
                    .unwrap_or_default();
                let what = format!(
                    "énigme « {} » ouverte pour ce casque pendant l'immersion « {immersion} » : \
                     elle s'affichera à la fin de l'immersion, ou tout de suite si vous arrêtez \
                     l'immersion",
                    open.title.fr
                );
                reports.write(Report(DeviceEvent::Problem { what }));
            }
            return;
        }
        _ => return,
    }
    enter(
        &mut state,
        &content,
        open,
        &mut commands,
        &scene_entities,
        &mut reports,
        &mut stops,
        audio.as_deref(),
        &mut sounds,
    );
}

#[expect(
    clippy::too_many_arguments,
    reason = "entering a scene builds it, preloads its sounds, starts its ambience and reports"
)]
fn enter(
    state: &mut HeadsetState,
    content: &GameContent,
    open: GuidedPuzzle,
    commands: &mut Commands,
    scene_entities: &Query<Entity, With<SceneEntity>>,
    reports: &mut MessageWriter<Report>,
    stops: &mut MessageWriter<StopAllCues>,
    audio: Option<&AudioOutput>,
    sounds: &mut Option<MessageWriter<PlaySound>>,
) {
    info!("énigme guidée {} : le casque montre sa scène", open.puzzle);
    clear_scene(state, commands, scene_entities);
    let scene = open.scene.as_ref().and_then(|id| {
        let found = content.scene(id.as_str());
        if found.is_none() {
            reports.write(Report(DeviceEvent::Problem {
                what: format!(
                    "énigme « {} » : scène {id} absente du contenu de ce casque ; la consigne \
                     s'affiche dans la salle calme",
                    open.title.fr
                ),
            }));
        }
        found
    });
    let media: Vec<_> = open
        .view
        .audio
        .iter()
        .chain(scene.as_ref().and_then(|s| s.ambience.as_ref()))
        .cloned()
        .collect();
    let failed = preload(state, content, media);
    if !failed.is_empty() {
        reports.write(Report(DeviceEvent::Problem {
            what: format!(
                "énigme « {} » : {} son(s) illisible(s), consigne affichée sans voix — {}",
                open.title.fr,
                failed.len(),
                failed.join(" ; ")
            ),
        }));
    }
    // The headset seat of an escape game is a chair: seated eyes at the scene's spawn.
    if let Some(spec) = &scene {
        state.eye = Vec3::new(spec.spawn.position.0, SEATED_EYE_M, spec.spawn.position.2);
        state.yaw_deg = spec.spawn.yaw_deg;
    }
    state.shown_scene = scene;
    state.phase = Phase::Guided;
    stops.write(StopAllCues);
    start_ambience(state, audio, sounds);
    state.stopped_at = None;
    state.break_prompt = false;
    if state.guided_seen.insert(open.puzzle.clone()) {
        reports.write(Report(DeviceEvent::HeadsetViewSeen {
            puzzle: open.puzzle.clone(),
            station: open.station.clone(),
        }));
    }
    // The view is read aloud by the panel's voice when the panel comes (`keep_panel`).
    state.guided = Some(open);
    show_view(state);
}

/// The shortest time the view stays written at the bottom of the view, seconds.
pub const VIEW_SHOWN_MIN_S: f64 = 20.0;

/// Writes the puzzle's view at the bottom of the view until its voice has been read, and a
/// few seconds more (at least [`VIEW_SHOWN_MIN_S`]); then the scene is clear to look at.
/// « Réécouter » or R writes and reads it again.
pub(super) fn show_view(state: &mut HeadsetState) {
    let Some(guided) = &state.guided else { return };
    let voice_s = guided
        .view
        .audio
        .as_ref()
        .and_then(|a| state.sounds.get(a))
        .and_then(|s| s.duration)
        .map_or(0.0, |d| d.as_secs_f64());
    let until = state.now_s + (voice_s + 4.0).max(VIEW_SHOWN_MIN_S);
    state.caption = Some((
        Caption {
            title: guided.title.fr.clone(),
            text: guided.view.fr.clone(),
        },
        Some(until),
    ));
}
