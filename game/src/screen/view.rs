//! Draws the room screen: the countdown in very large type (readable from the back of a room),
//! the phase, the text cue and the hint on cards, a card for a video cue, the ending, and a
//! discreet line when the director is away. Rebuilt only when what it shows changes.

use super::state::{ScreenState, ShownHint};
use crate::GameSystems;
use crate::net::plugin::{Connection, Room};
use crate::net::{LinkState, format_countdown};
use crate::ui::{self, ViewRoot};
use bevy::prelude::*;

/// What the room screen shows, compared frame to frame.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct ScreenModel {
    /// The scenario's title.
    pub title: String,
    /// `mm:ss`, or `None` before the first snapshot.
    pub timer: Option<String>,
    /// Under five minutes left.
    pub urgent: bool,
    /// The countdown is paused.
    pub paused: bool,
    /// The phase's title.
    pub phase: Option<String>,
    /// The text cue.
    pub text: Option<String>,
    /// The hint.
    pub hint: Option<ShownHint>,
    /// The video card.
    pub video: Option<String>,
    /// The ending's text, once the game is over.
    pub ending: Option<String>,
    /// A line about the link, when it is not online.
    pub status: Option<String>,
}

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<ScreenModel>()
        .add_systems(Startup, ui::camera)
        .add_systems(Update, (model, draw).chain().in_set(GameSystems::View));
}

/// The model of the screen now.
pub fn model_of(room: &Room, state: &ScreenState, connection: &Connection) -> ScreenModel {
    let scenario = room.scenario.as_deref();
    let snapshot = room.snapshot.as_ref();
    let remaining = room.remaining_ms();
    ScreenModel {
        title: scenario.map(|s| s.title.fr.clone()).unwrap_or_default(),
        timer: remaining.map(format_countdown),
        urgent: remaining.is_some_and(|r| r < 5 * 60_000),
        paused: snapshot.is_some_and(|s| !s.timer_running && s.ended.is_none()),
        phase: snapshot
            .and_then(|s| s.phase.as_ref())
            .and_then(|p| scenario?.phases.iter().find(|x| x.id == *p))
            .map(|p| p.title.fr.clone()),
        text: state.text.as_ref().map(|(t, _)| t.clone()),
        hint: state.hint.clone(),
        video: state.video.clone(),
        ending: snapshot
            .and_then(|s| s.ended.as_ref())
            .and_then(|e| scenario?.endings.iter().find(|x| x.id == *e))
            .map(|e| e.text.fr.clone()),
        status: match &connection.state {
            None | Some(LinkState::Online { .. }) => None,
            Some(LinkState::Offline { .. }) if snapshot.is_some() => {
                Some("Liaison avec la régie interrompue : le jeu continue.".into())
            }
            Some(LinkState::Discovering) => Some("Recherche de la régie…".into()),
            Some(LinkState::NeedsCode { .. }) => Some("Écran à appairer avec la régie.".into()),
            Some(_) => Some("Connexion à la régie…".into()),
        },
    }
}

fn model(
    room: Res<Room>,
    state: Res<ScreenState>,
    connection: Res<Connection>,
    mut current: ResMut<ScreenModel>,
) {
    let next = model_of(&room, &state, &connection);
    if *current != next {
        *current = next;
    }
}

fn draw(mut commands: Commands, model: Res<ScreenModel>, roots: Query<Entity, With<ViewRoot>>) {
    if !model.is_changed() {
        return;
    }
    for e in &roots {
        commands.entity(e).despawn();
    }
    let m = model.clone();
    commands.spawn(ui::root()).with_children(|page| {
        // The phase, centred: what the team is working on.
        page.spawn(Node {
            justify_content: JustifyContent::Center,
            min_height: px(56.0),
            ..default()
        })
        .with_children(|bar| {
            if let Some(phase) = &m.phase {
                bar.spawn(ui::text(phase.clone(), 46.0, ui::INK));
            }
        });
        if let Some(ending) = &m.ending {
            page.spawn(Node {
                flex_grow: 1.0,
                flex_direction: FlexDirection::Column,
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                row_gap: px(30.0),
                ..default()
            })
            .with_children(|c| {
                c.spawn(ui::text("Fin du jeu", 56.0, ui::MUTED));
                c.spawn(ui::text(ending.clone(), 64.0, ui::INK));
                if let Some(timer) = &m.timer {
                    c.spawn(ui::text(
                        format!("Temps restant : {timer}"),
                        44.0,
                        ui::MUTED,
                    ));
                }
            });
        } else {
            // The countdown, as large as the room needs.
            page.spawn(Node {
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::Center,
                ..default()
            })
            .with_children(|c| {
                let color = if m.urgent { ui::BAD } else { ui::INK };
                c.spawn(ui::text(
                    m.timer.clone().unwrap_or_else(|| "--:--".into()),
                    190.0,
                    color,
                ));
                let under = if m.paused {
                    "Temps restant (en pause)"
                } else {
                    "Temps restant"
                };
                c.spawn(ui::text(under, 34.0, ui::MUTED));
            });
            page.spawn(Node {
                flex_grow: 1.0,
                flex_direction: FlexDirection::Row,
                column_gap: px(24.0),
                align_items: AlignItems::Stretch,
                overflow: Overflow::clip(),
                ..default()
            })
            .with_children(|cards| {
                if let Some(video) = &m.video {
                    cards.spawn(card(None)).with_children(|c| {
                        c.spawn(ui::text("▶ Vidéo", 32.0, ui::MUTED));
                        c.spawn(ui::text(video.clone(), 44.0, ui::INK));
                        // Shown until the first frame covers the window.
                        c.spawn(ui::text("Lecture en plein écran…", 26.0, ui::MUTED));
                    });
                }
                if let Some(text) = &m.text {
                    cards.spawn(card(None)).with_children(|c| {
                        c.spawn(ui::text("Annonce", 30.0, ui::MUTED));
                        c.spawn(ui::text(text.clone(), 36.0, ui::INK));
                    });
                }
                if let Some(hint) = &m.hint {
                    cards.spawn(card(Some(ui::SELECTED))).with_children(|c| {
                        c.spawn(ui::text(
                            format!("Indice {} : {}", hint.level, hint.title),
                            30.0,
                            ui::SELECTED,
                        ));
                        c.spawn(ui::text(hint.text.clone(), 36.0, ui::INK));
                    });
                }
            });
        }
        // The game's name, and the link when it is not online, in small type at the bottom.
        let footer = match &m.status {
            Some(status) => format!("{} — {status}", m.title),
            None => m.title.clone(),
        };
        page.spawn(ui::text(footer, 22.0, ui::MUTED));
    });
}

/// A card of the room screen (video, announcement, hint), side by side with the others; a
/// hint's card is outlined in `border`.
fn card(border: Option<Color>) -> impl Bundle {
    (
        Node {
            flex_grow: 1.0,
            flex_basis: px(0.0),
            flex_direction: FlexDirection::Column,
            padding: UiRect::all(px(24.0)),
            row_gap: px(12.0),
            border: UiRect::all(px(if border.is_some() { 4.0 } else { 0.0 })),
            border_radius: BorderRadius::all(px(14.0)),
            ..default()
        },
        BackgroundColor(ui::CARD),
        BorderColor::all(border.unwrap_or(Color::NONE)),
    )
}
