//! The small « Démarrer ce poste automatiquement » button (« Ne plus démarrer automatiquement »
//! once set up), in a corner of what a device shows while it waits for the session — never
//! during play. It drives the Bevy-free [`crate::kiosk`]: a click sets up or removes the
//! systemd user unit; its French error, if any, shows under the button.

use crate::GameSystems;
use crate::headset::state::{HeadsetState, Phase};
use crate::kiosk::{HostSystemctl, KioskUnit};
use crate::net::plugin::Room;
use crate::ui;
use bevy::prelude::*;

/// The unit this device would run under; inserted by the binary for real windowed runs only
/// (no button in previews and tests).
#[derive(Resource, Debug, Clone)]
pub struct Autostart {
    /// The unit.
    pub unit: KioskUnit,
    /// The last click's outcome to show (a French error, or what happened).
    pub message: Option<(String, bool)>,
}

/// What the button shows; `None` hides it.
#[derive(Resource, Debug, Default, Clone, PartialEq, Eq)]
pub struct AutostartModel(pub Option<ButtonModel>);

/// The button's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonModel {
    /// The unit is set up: the button removes it.
    pub installed: bool,
    /// A line under the button, and whether it is an error.
    pub message: Option<(String, bool)>,
}

#[derive(Component)]
struct AutostartRoot;

#[derive(Component)]
struct AutostartButton;

/// Adds the button (it stays hidden without an [`Autostart`] resource).
pub fn plugin(app: &mut App) {
    app.init_resource::<AutostartModel>()
        .add_systems(Update, click.in_set(GameSystems::Input))
        .add_systems(Update, (model, draw).chain().in_set(GameSystems::View));
}

/// Whether the device waits for the session: no session state yet, or a session whose game has
/// not started (no phase, countdown stopped, no puzzle open, not ended); a headset, while no
/// immersion runs (the calm room before the first one).
pub fn waiting(room: &Room, headset: Option<&HeadsetState>) -> bool {
    if let Some(headset) = headset {
        return headset.phase == Phase::Waiting;
    }
    room.snapshot.as_ref().is_none_or(|s| {
        s.phase.is_none() && !s.timer_running && s.open.is_empty() && s.ended.is_none()
    })
}

fn model(
    autostart: Option<Res<Autostart>>,
    room: Res<Room>,
    headset: Option<Res<HeadsetState>>,
    mut current: ResMut<AutostartModel>,
) {
    let next = autostart
        .filter(|_| waiting(&room, headset.as_deref()))
        .map(|a| ButtonModel {
            installed: a.unit.is_installed(),
            message: a.message.clone(),
        });
    if current.0 != next {
        current.0 = next;
    }
}

fn click(
    buttons: Query<&Interaction, (Changed<Interaction>, With<AutostartButton>)>,
    autostart: Option<ResMut<Autostart>>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some(mut autostart) = autostart else {
        return;
    };
    if !buttons.iter().any(|i| *i == Interaction::Pressed) {
        return;
    }
    let unit = autostart.unit.clone();
    let mut systemctl = HostSystemctl;
    autostart.message = Some(if unit.is_installed() {
        match unit.disable(&mut systemctl) {
            Ok(()) => ("Ce poste ne démarrera plus tout seul.".to_owned(), false),
            Err(e) => {
                error!("démarrage automatique : {}", e.technical());
                (e.to_string(), true)
            }
        }
    } else {
        match unit.enable(&mut systemctl) {
            // The unit now runs its own copy of the game: this window gives way to it.
            Ok(()) if !KioskUnit::running_under_unit() => {
                info!("démarrage automatique en place : {}", unit.path().display());
                exit.write(AppExit::Success);
                return;
            }
            Ok(()) => (
                "Ce poste démarrera tout seul à chaque ouverture de session.".to_owned(),
                false,
            ),
            Err(e) => {
                error!("démarrage automatique : {}", e.technical());
                (e.to_string(), true)
            }
        }
    });
}

fn draw(
    mut commands: Commands,
    model: Res<AutostartModel>,
    roots: Query<Entity, With<AutostartRoot>>,
) {
    if !model.is_changed() {
        return;
    }
    for e in &roots {
        commands.entity(e).despawn();
    }
    let Some(m) = model.0.clone() else {
        return;
    };
    // Above the pairing screen (z 10): a tablet can be set up before it is paired.
    commands
        .spawn((
            AutostartRoot,
            GlobalZIndex(20),
            Node {
                position_type: PositionType::Absolute,
                right: px(16.0),
                bottom: px(16.0),
                // A definite width: the error's text wraps inside it and is measured whole (with
                // only a max width, its last line fell below the window).
                width: px(520.0),
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::End,
                row_gap: px(6.0),
                ..default()
            },
        ))
        .with_children(|corner| {
            let label = if m.installed {
                "Ne plus démarrer automatiquement"
            } else {
                "Démarrer ce poste automatiquement"
            };
            corner
                .spawn((
                    Button,
                    AutostartButton,
                    ui::button_node_sized(0.0, 48.0),
                    BackgroundColor(ui::BUTTON),
                    BorderColor::all(ui::CARD),
                ))
                .with_children(|b| {
                    b.spawn(ui::text(label, 22.0, ui::INK));
                });
            if let Some((message, is_error)) = m.message {
                let color = if is_error { ui::BAD } else { ui::MUTED };
                corner.spawn((
                    ui::text(message, 20.0, color),
                    TextLayout::justify(Justify::Right),
                ));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use boussole_protocol::wire::Snapshot;

    fn snapshot() -> Snapshot {
        Snapshot {
            scenario: "scape_attitudes".into(),
            phase: None,
            timer_running: false,
            remaining_ms: 45 * 60_000,
            at_ms: 0,
            open: vec![],
            solved: vec![],
            ended: None,
        }
    }

    #[test]
    fn the_button_shows_while_waiting_not_during_play() {
        let mut room = Room::default();
        assert!(waiting(&room, None), "no session yet");
        room.snapshot = Some(snapshot());
        assert!(waiting(&room, None), "a session whose game has not started");
        room.snapshot = Some(Snapshot {
            timer_running: true,
            ..snapshot()
        });
        assert!(!waiting(&room, None), "the countdown runs");
        room.snapshot = Some(Snapshot {
            open: vec!["coffre".into()],
            ..snapshot()
        });
        assert!(!waiting(&room, None), "a puzzle is open (paused game)");
        room.snapshot = Some(Snapshot {
            ended: Some("succes".into()),
            ..snapshot()
        });
        assert!(!waiting(&room, None), "the questionnaire after the end");
        let mut headset = HeadsetState::default();
        assert!(waiting(&room, Some(&headset)), "the calm room before a run");
        headset.phase = Phase::Exploring;
        assert!(!waiting(&Room::default(), Some(&headset)));
    }
}
