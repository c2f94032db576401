//! Offline preview: the role's screens built from content without a director, one after the
//! other, for authors and for the screenshot test (`--preview SCENARIO --screenshots DIR`).
//! Each screenshot is taken once the render world's pipeline cache has nothing pending and a
//! few frames more have been drawn, never after a fixed number of frames (pipelines compile
//! asynchronously on software Vulkan).

use crate::headset::state::{Caption, FADE_S, HeadsetAction, HeadsetState, Phase};
use crate::net::LinkState;
use crate::net::plugin::{Connection, Room};
use crate::screen::state::{ScreenState, hint_of};
use crate::terminal::state::{Draft, Terminal, TerminalState};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use bevy::render::{Render, RenderApp, render_resource::PipelineCache};
use bevy::window::PrimaryWindow;
use boussole_content::cue::{CueKind, DeviceRole};
use boussole_content::ids::{ImmersionId, ItemId, PuzzleId};
use boussole_content::puzzle::PuzzleKind;
use boussole_content::scenario::Scenario;
use boussole_protocol::ParticipantId;
use boussole_protocol::wire::Snapshot;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One state of the preview.
#[derive(Clone, Debug)]
pub struct Step {
    /// Its file name, without `.png`.
    pub name: String,
    /// What it sets up.
    pub setup: Setup,
}

/// What a step sets up.
#[derive(Clone, Debug)]
pub enum Setup {
    /// The room screen mid-game: phase, countdown, a hint and a text cue.
    ScreenMidGame,
    /// The room screen with a video card and an alert.
    ScreenVideo,
    /// The room screen at the success ending.
    ScreenEnding,
    /// A terminal at `station` with `puzzle` open and a draft.
    Terminal {
        /// The station.
        station: boussole_content::ids::StationId,
        /// The puzzle.
        puzzle: PuzzleId,
        /// The answer being composed.
        draft: Draft,
    },
    /// A terminal holding a part of a multi-station puzzle.
    Part {
        /// The station.
        station: boussole_content::ids::StationId,
        /// The puzzle.
        puzzle: PuzzleId,
    },
    /// The self-assessment at its first question.
    Question,
    /// The pairing keypad with two digits typed.
    Pairing,
    /// The headset in an immersion, on its visit, with its first hotspot's narration shown.
    HeadsetVisit(ImmersionId),
    /// The headset at the first question of the tutorial's questionnaire.
    HeadsetQuestionnaire,
    /// The headset's calm room after a stop.
    HeadsetCalm,
    /// The headset at a headset-guided puzzle of `scenario`, open in the room.
    HeadsetGuided {
        /// The scenario (any of the content's: the wearer's view of each is previewed).
        scenario: Arc<Scenario>,
        /// The puzzle.
        puzzle: PuzzleId,
    },
    /// A device started without a role, paired, waiting for the console to give it one.
    Waiting,
}

/// What a headset step changes once its immersion runs (the run starts in the frame after
/// the step is applied).
#[derive(Resource, Debug, Clone)]
struct HeadsetTweak(Setup);

/// The steps of `role`'s preview of `scenario` (headsets: of `immersions`, the tutorial
/// first, then the wearer's view of each of `guided`, headset-guided puzzles of any
/// scenario; no role: a device waiting for one, then its pairing keypad).
pub fn steps(
    role: Option<DeviceRole>,
    scenario: &Scenario,
    immersions: &[String],
    guided: &[(Arc<Scenario>, PuzzleId)],
) -> Vec<Step> {
    let step = |name: &str, setup| Step {
        name: name.to_owned(),
        setup,
    };
    let Some(role) = role else {
        return vec![
            step("poste_en_attente", Setup::Waiting),
            step("poste_appairage", Setup::Pairing),
        ];
    };
    match role {
        DeviceRole::Headset => {
            let mut out: Vec<Step> = immersions
                .iter()
                .map(|id| {
                    step(
                        &format!("casque_{id}"),
                        Setup::HeadsetVisit(ImmersionId::from(id.as_str())),
                    )
                })
                .collect();
            out.push(step("casque_questionnaire", Setup::HeadsetQuestionnaire));
            out.push(step("casque_salle_calme", Setup::HeadsetCalm));
            for (scenario, puzzle) in guided {
                out.push(step(
                    &format!("casque_enigme_{}_{puzzle}", scenario.id),
                    Setup::HeadsetGuided {
                        scenario: scenario.clone(),
                        puzzle: puzzle.clone(),
                    },
                ));
            }
            out
        }
        DeviceRole::Screen => vec![
            step("ecran_en_jeu", Setup::ScreenMidGame),
            step("ecran_video", Setup::ScreenVideo),
            step("ecran_fin", Setup::ScreenEnding),
            step("appairage", Setup::Pairing),
        ],
        DeviceRole::Terminal => {
            let mut out = Vec::new();
            let mut seen = Vec::new();
            for p in &scenario.puzzles {
                let kind = p.kind.label_fr();
                if seen.contains(&kind) {
                    continue;
                }
                seen.push(kind);
                let Some(station) = p.answer_station().cloned() else {
                    continue;
                };
                let name = match &p.kind {
                    PuzzleKind::CodeEntry { .. } => "terminal_code",
                    PuzzleKind::DocumentComparison { .. } => "terminal_documents",
                    PuzzleKind::Matching { .. } => "terminal_association",
                    PuzzleKind::Ordering { .. } => "terminal_ordre",
                    PuzzleKind::MultiStation { .. } => "terminal_multi_postes",
                    PuzzleKind::HeadsetGuided { .. } => "terminal_guidage_casque",
                };
                out.push(step(
                    name,
                    Setup::Terminal {
                        station,
                        puzzle: p.id.clone(),
                        draft: sample_draft(&p.kind),
                    },
                ));
                if let PuzzleKind::MultiStation {
                    parts,
                    answer_station,
                    ..
                } = &p.kind
                    && let Some(part) = parts.iter().find(|x| x.station != *answer_station)
                {
                    out.push(step(
                        "terminal_multi_postes_partie",
                        Setup::Part {
                            station: part.station.clone(),
                            puzzle: p.id.clone(),
                        },
                    ));
                }
            }
            out.push(step("terminal_autoevaluation", Setup::Question));
            out
        }
    }
}

/// A draft half done, so the screenshots show what a selection looks like.
fn sample_draft(kind: &PuzzleKind) -> Draft {
    let mut d = Draft::default();
    match kind {
        PuzzleKind::CodeEntry { .. } => d.text = "12".into(),
        PuzzleKind::MultiStation { .. } | PuzzleKind::HeadsetGuided { .. } => {}
        PuzzleKind::DocumentComparison { documents, .. } => {
            if let Some(line) = documents.get(1).and_then(|doc| doc.lines.get(1)) {
                d.selected.insert(line.id.clone());
            }
        }
        PuzzleKind::Matching { left, right, .. } => {
            if let (Some(l), Some(r)) = (left.first(), right.first()) {
                d.pairs.insert(l.id.clone(), r.id.clone());
            }
        }
        PuzzleKind::Ordering { items, .. } => {
            let ids: Vec<ItemId> = items.iter().rev().take(2).map(|i| i.id.clone()).collect();
            d.order = ids;
        }
    }
    d
}

/// The preview's progress.
#[derive(Resource, Debug)]
pub struct Preview {
    scenario: Arc<Scenario>,
    steps: Vec<Step>,
    next: usize,
    applied: bool,
    /// Where screenshots go; `None`: show the first step and stay.
    shots: Option<PathBuf>,
    settled: u32,
    requested: usize,
    written: Arc<AtomicUsize>,
}

/// Pipelines the render world still compiles (`usize::MAX` until it first reports).
#[derive(Resource, Clone)]
struct PipelinesPending(Arc<AtomicUsize>);

/// Frames with an idle pipeline cache before a capture: text is laid out and glyphs are
/// uploaded over the frames after a rebuild.
const SETTLE_FRAMES: u32 = 4;

/// Adds the preview of `role` (`None`: a device without one, [`crate::placement`]) for
/// `scenario`, with screenshots into `shots` when given.
pub fn plugin(
    role: Option<DeviceRole>,
    scenario: Arc<Scenario>,
    immersions: Vec<String>,
    shots: Option<PathBuf>,
) -> impl Fn(&mut App) {
    move |app: &mut App| {
        let pending = Arc::new(AtomicUsize::new(usize::MAX));
        // Every headset-guided puzzle of the content, for the headset's steps.
        let guided: Vec<(Arc<Scenario>, PuzzleId)> = app
            .world()
            .get_resource::<crate::content::GameContent>()
            .map(|c| {
                c.scenarios
                    .iter()
                    .flat_map(|s| {
                        s.puzzles
                            .iter()
                            .filter(|p| matches!(p.kind, PuzzleKind::HeadsetGuided { .. }))
                            .map(|p| (s.clone(), p.id.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        app.insert_resource(Preview {
            steps: steps(role, &scenario, &immersions, &guided),
            scenario: scenario.clone(),
            next: 0,
            applied: false,
            shots: shots.clone(),
            settled: 0,
            requested: 0,
            written: Arc::new(AtomicUsize::new(0)),
        })
        .insert_resource(PipelinesPending(pending.clone()))
        .add_systems(Update, drive.before(crate::GameSystems::Logic));
        // Only a headset has a `HeadsetState` to tweak.
        if role == Some(DeviceRole::Headset) {
            app.add_systems(
                Update,
                tweak_headset
                    .after(crate::headset::state::HeadsetLogic)
                    .in_set(crate::GameSystems::Logic),
            );
        }
        if let Some(render) = app.get_sub_app_mut(RenderApp) {
            render.add_systems(Render, count_pending(pending));
        }
    }
}

fn count_pending(pending: Arc<AtomicUsize>) -> impl FnMut(Res<PipelineCache>) {
    move |cache: Res<PipelineCache>| {
        pending.store(cache.waiting_pipelines().count(), Ordering::Relaxed);
    }
}

/// Sets the world up for `step`.
fn apply(world: &mut World, scenario: &Arc<Scenario>, step: &Step) {
    let scenario = match &step.setup {
        Setup::HeadsetGuided { scenario, .. } => scenario,
        _ => scenario,
    };
    let mut snapshot = Snapshot {
        scenario: scenario.id.to_string(),
        phase: scenario.phases.get(1).map(|p| p.id.clone()),
        timer_running: true,
        remaining_ms: 37 * 60_000 + 12_000,
        at_ms: 0,
        open: Vec::new(),
        solved: Vec::new(),
        ended: None,
    };
    let mut screen = ScreenState::default();
    let mut connection_state = Some(LinkState::Online {
        director_name: "Régie".into(),
    });
    let text_cue = |pick: usize| {
        scenario
            .cues
            .iter()
            .filter_map(|c| match &c.kind {
                CueKind::Text { text, .. } => Some(text.fr.clone()),
                _ => None,
            })
            .nth(pick)
    };
    match &step.setup {
        Setup::ScreenMidGame => {
            screen.text = text_cue(1).map(|t| (t, None));
            screen.hint = scenario
                .puzzles
                .first()
                .and_then(|p| hint_of(scenario, &p.id, 1));
        }
        Setup::ScreenVideo => {
            snapshot.remaining_ms = 4 * 60_000 + 30_000;
            snapshot.phase = scenario.phases.last().map(|p| p.id.clone());
            screen.video = Some("Vidéo d'introduction".into());
            screen.text = text_cue(5).map(|t| (t, None));
        }
        Setup::ScreenEnding => {
            snapshot.timer_running = false;
            snapshot.remaining_ms = 6 * 60_000 + 41_000;
            snapshot.ended = scenario
                .endings
                .iter()
                .find(|e| e.kind == boussole_content::scenario::EndingKind::Success)
                .map(|e| e.id.clone());
        }
        Setup::Pairing => {
            connection_state = Some(LinkState::NeedsCode { error: None });
            world.resource_mut::<crate::pairing::TypedCode>().0 = "31".into();
        }
        Setup::Terminal {
            station,
            puzzle,
            draft,
        } => {
            snapshot.open = vec![puzzle.clone()];
            world.resource_mut::<Terminal>().station = station.clone();
            let mut state = TerminalState::default();
            state.drafts.insert(puzzle.clone(), draft.clone());
            world.insert_resource(state);
        }
        Setup::Part { station, puzzle } => {
            snapshot.open = vec![puzzle.clone()];
            world.resource_mut::<Terminal>().station = station.clone();
            world.insert_resource(TerminalState::default());
        }
        Setup::HeadsetVisit(immersion) => {
            let mut state = world.resource_mut::<HeadsetState>();
            state.tutorial_done.insert(String::new());
            world.write_message(HeadsetAction::Start {
                immersion: immersion.clone(),
                participant: None,
                started_at_ms: None,
            });
            world.insert_resource(HeadsetTweak(step.setup.clone()));
        }
        Setup::HeadsetQuestionnaire => {
            world.write_message(HeadsetAction::Start {
                immersion: ImmersionId::from("tutoriel"),
                participant: None,
                started_at_ms: None,
            });
            world.insert_resource(HeadsetTweak(step.setup.clone()));
        }
        Setup::HeadsetCalm => {
            world.write_message(HeadsetAction::Stop);
            world.insert_resource(HeadsetTweak(step.setup.clone()));
        }
        Setup::HeadsetGuided { puzzle, .. } => {
            // Out of the calm room: the open puzzle's scene comes in the next frame.
            snapshot.open = vec![puzzle.clone()];
            let mut state = world.resource_mut::<HeadsetState>();
            state.phase = Phase::Waiting;
            state.stopped_at = None;
        }
        Setup::Waiting => {}
        Setup::Question => {
            snapshot.ended = scenario.endings.first().map(|e| e.id.clone());
            world.insert_resource(TerminalState {
                respondent: Some(ParticipantId::from("P1")),
                ..default()
            });
        }
    }
    if world.contains_resource::<ScreenState>() {
        world.insert_resource(screen);
    }
    world.resource_mut::<Connection>().state = connection_state;
    let mut room = world.resource_mut::<Room>();
    room.scenario = Some(scenario.clone());
    room.snapshot_local_ms = room.local_now_ms;
    room.snapshot = Some(snapshot);
}

/// Puts the headset where its step wants it, once the run has started.
fn tweak_headset(
    tweak: Option<Res<HeadsetTweak>>,
    mut state: ResMut<HeadsetState>,
    mut commands: Commands,
) {
    let Some(tweak) = tweak else { return };
    let now = state.now_s;
    match &tweak.0 {
        Setup::HeadsetVisit(id) => {
            let Some(run) = state.run.as_mut().filter(|r| r.immersion.id == *id) else {
                return;
            };
            run.visit_started_s = Some(now);
            let first = run.immersion.hotspots.first().cloned();
            if let Some(h) = &first {
                run.seen.insert(h.id.clone());
            }
            state.phase = Phase::Exploring;
            state.caption = first.map(|h| {
                (
                    Caption {
                        title: h.title.fr.clone(),
                        text: h.narration.fr.clone(),
                    },
                    None,
                )
            });
        }
        Setup::HeadsetQuestionnaire => {
            if state.run.is_none() {
                return;
            }
            state.phase = Phase::Questionnaire(0);
        }
        Setup::HeadsetCalm => {
            if state.phase != Phase::Stopped {
                return;
            }
            state.stopped_at = Some(now - FADE_S);
        }
        _ => {}
    }
    commands.remove_resource::<HeadsetTweak>();
}

fn drive(world: &mut World) {
    let Some(mut preview) = world.remove_resource::<Preview>() else {
        return;
    };
    step_preview(world, &mut preview);
    world.insert_resource(preview);
}

fn step_preview(world: &mut World, preview: &mut Preview) {
    // The previous capture is written before the screen changes.
    if preview.written.load(Ordering::Relaxed) < preview.requested {
        return;
    }
    if !preview.applied {
        if let Some(step) = preview.steps.get(preview.next).cloned() {
            apply(world, &preview.scenario, &step);
        }
        preview.applied = true;
        preview.settled = 0;
        return;
    }
    let Some(dir) = preview.shots.clone() else {
        return;
    };
    let Some(step) = preview.steps.get(preview.next).cloned() else {
        world.write_message(AppExit::Success);
        return;
    };
    let has_window = world
        .query_filtered::<(), With<PrimaryWindow>>()
        .iter(world)
        .next()
        .is_some();
    let idle = world
        .get_resource::<PipelinesPending>()
        .is_some_and(|p| p.0.load(Ordering::Relaxed) == 0);
    if !has_window || !idle {
        preview.settled = 0;
        return;
    }
    preview.settled += 1;
    if preview.settled < SETTLE_FRAMES {
        return;
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        error!("{}: {e}", dir.display());
        world.write_message(AppExit::error());
        return;
    }
    let path = dir.join(format!("{}.png", step.name));
    let written = preview.written.clone();
    world
        .spawn(Screenshot::primary_window())
        .observe(save_to_disk(path))
        .observe(move |_: On<ScreenshotCaptured>| {
            written.fetch_add(1, Ordering::Relaxed);
        });
    preview.requested += 1;
    preview.next += 1;
    preview.applied = false;
}
