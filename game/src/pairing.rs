//! The pairing screen, over whatever the role shows, while the link waits for a code: a
//! keypad for the six digits the director shows, and why the last code failed. `--code` on
//! the command line does the same for kiosk set-ups.

use crate::GameSystems;
use crate::net::LinkState;
use crate::net::plugin::{Connection, NetLink};
use crate::ui;
use bevy::prelude::*;
use boussole_protocol::pairing::PairingCode;

/// The digits typed so far.
#[derive(Resource, Debug, Default, Clone, PartialEq, Eq)]
pub struct TypedCode(pub String);

/// What the pairing screen shows; `None` hides it.
#[derive(Resource, Debug, Default, Clone, PartialEq, Eq)]
pub struct PairingModel(pub Option<(String, Option<String>, bool)>);

#[derive(Component)]
struct PairingRoot;

/// A key of the pairing keypad.
#[derive(Component, Debug, Clone, Copy)]
enum PadKey {
    Digit(char),
    Back,
    Send,
}

/// Digits in a pairing code.
pub const CODE_LEN: usize = 6;

/// Adds the pairing screen.
pub fn plugin(app: &mut App) {
    app.init_resource::<TypedCode>()
        .init_resource::<PairingModel>()
        .add_systems(Update, keys.in_set(GameSystems::Input))
        .add_systems(Update, (model, draw).chain().in_set(GameSystems::View));
}

/// Applies a key to the typed code; the code to send once six digits are there and the key
/// is "Valider".
fn apply_key(typed: &mut String, key: PadKey) -> Option<PairingCode> {
    match key {
        PadKey::Digit(d) if typed.len() < CODE_LEN => typed.push(d),
        PadKey::Digit(_) => {}
        PadKey::Back => {
            typed.pop();
        }
        PadKey::Send => {
            let code = PairingCode::parse(typed).ok();
            typed.clear();
            return code;
        }
    }
    None
}

fn keys(
    buttons: Query<(&Interaction, &PadKey), Changed<Interaction>>,
    mut typed: ResMut<TypedCode>,
    link: Option<Res<NetLink>>,
) {
    for (interaction, key) in &buttons {
        if *interaction != Interaction::Pressed {
            continue;
        }
        if let Some(code) = apply_key(&mut typed.0, *key)
            && let Some(link) = &link
            && let Err(e) = link.0.pair_with(code)
        {
            error!("{e}");
        }
    }
}

fn model(connection: Res<Connection>, typed: Res<TypedCode>, mut model: ResMut<PairingModel>) {
    let next = match &connection.state {
        Some(LinkState::NeedsCode { error }) => Some((typed.0.clone(), error.clone(), false)),
        Some(LinkState::Pairing) => Some((typed.0.clone(), None, true)),
        _ => None,
    };
    if model.0 != next {
        model.0 = next;
    }
}

fn draw(mut commands: Commands, model: Res<PairingModel>, roots: Query<Entity, With<PairingRoot>>) {
    if !model.is_changed() {
        return;
    }
    for e in &roots {
        commands.entity(e).despawn();
    }
    let Some((typed, error, busy)) = model.0.clone() else {
        return;
    };
    commands
        .spawn((
            PairingRoot,
            GlobalZIndex(10),
            Node {
                position_type: PositionType::Absolute,
                width: percent(100.0),
                height: percent(100.0),
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::Center,
                justify_content: JustifyContent::Center,
                row_gap: px(18.0),
                ..default()
            },
            BackgroundColor(ui::BACKGROUND),
        ))
        .with_children(|page| {
            page.spawn(ui::text("Appairer cet appareil", 52.0, ui::INK));
            page.spawn(ui::text(
                "Tapez le code à 6 chiffres affiché sur la console de la régie.",
                30.0,
                ui::MUTED,
            ));
            let mut shown: String = typed.chars().flat_map(|c| [c, ' ']).collect();
            for _ in typed.len()..CODE_LEN {
                shown.push_str("_ ");
            }
            page.spawn((
                Node {
                    padding: UiRect::axes(px(30.0), px(10.0)),
                    border_radius: BorderRadius::all(px(12.0)),
                    ..default()
                },
                BackgroundColor(ui::CARD),
            ))
            .with_children(|f| {
                f.spawn(ui::text(shown.trim_end().to_owned(), 64.0, ui::INK));
            });
            if busy {
                page.spawn(ui::text("Appairage en cours…", 30.0, ui::ACCENT));
            } else if let Some(error) = error {
                page.spawn(ui::text(error, 28.0, ui::BAD));
            }
            let rows = ["123", "456", "789"];
            for keys in rows {
                page.spawn(ui::row(12.0)).with_children(|r| {
                    for d in keys.chars() {
                        pad_button(r, &d.to_string(), PadKey::Digit(d), ui::BUTTON);
                    }
                });
            }
            page.spawn(ui::row(12.0)).with_children(|r| {
                pad_button(r, "⌫", PadKey::Back, ui::BUTTON);
                pad_button(r, "0", PadKey::Digit('0'), ui::BUTTON);
                let ready = typed.len() == CODE_LEN;
                pad_button(
                    r,
                    "Valider",
                    PadKey::Send,
                    if ready { ui::GOOD } else { ui::BUTTON },
                );
            });
        });
}

fn pad_button(parent: &mut ChildSpawnerCommands, label: &str, key: PadKey, color: Color) {
    parent
        .spawn((Button, key, ui::button_node(120.0), BackgroundColor(color)))
        .with_children(|b| {
            b.spawn(ui::text(label.to_owned(), 40.0, ui::INK));
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_then_valider_gives_the_code() {
        let mut typed = String::new();
        for d in "3141597".chars() {
            assert!(apply_key(&mut typed, PadKey::Digit(d)).is_none());
        }
        assert_eq!(typed, "314159", "a seventh digit is ignored");
        apply_key(&mut typed, PadKey::Back);
        assert!(apply_key(&mut typed, PadKey::Send).is_none(), "five digits");
        assert!(typed.is_empty(), "a refused code is cleared");
        for d in "314159".chars() {
            apply_key(&mut typed, PadKey::Digit(d));
        }
        let code = apply_key(&mut typed, PadKey::Send);
        assert_eq!(code.map(|c| c.to_string()), Some("314159".to_owned()));
    }
}
