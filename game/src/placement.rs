//! The role and station the facilitator gives this device from the console
//! ([`boussole_protocol::ServerMsg::Placement`]). A device started without a role waits for
//! one on a screen of its own ([`waiting_plugin`]); given one, it keeps it in its data folder
//! ([`RoleFile`]) and the process ends so that `main` starts it again in that role. A device
//! whose role was fixed at start (scripts, tests) keeps it and tells the console why.

use crate::GameSystems;
use crate::net::plugin::Connection;
use crate::ui;
use bevy::prelude::*;
use boussole_content::cue::DeviceRole;
use boussole_content::ids::StationId;
use boussole_protocol::wire::Role as WireRole;
use std::path::{Path, PathBuf};

/// The director told this device its role and station.
#[derive(Message, Clone, Debug, PartialEq, Eq)]
pub struct PlacementOrder {
    /// The role to play.
    pub role: WireRole,
    /// The station, if any.
    pub station: Option<StationId>,
}

/// Where the role given from the console is kept (`<data dir>/role`); `None` when the role
/// was fixed at start and the console cannot change it.
#[derive(Resource, Clone, Debug, Default)]
pub struct RoleFile(pub Option<PathBuf>);

/// The role kept in `path` (`headset`, `screen` or `terminal`); `None` when there is none
/// or it cannot be read (the device then waits for the console again).
pub fn read_role(path: &Path) -> Option<DeviceRole> {
    match std::fs::read_to_string(path).ok()?.trim() {
        "headset" => Some(DeviceRole::Headset),
        "screen" => Some(DeviceRole::Screen),
        "terminal" => Some(DeviceRole::Terminal),
        _ => None,
    }
}

/// Keeps `role` in `path` (its folder created), through a temporary file renamed over it so
/// that a crash never leaves half a name.
///
/// # Errors
/// The folder or the file could not be written.
pub fn write_role(path: &Path, role: DeviceRole) -> std::io::Result<()> {
    let name = match role {
        DeviceRole::Headset => "headset",
        DeviceRole::Screen => "screen",
        DeviceRole::Terminal => "terminal",
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, name)?;
    std::fs::rename(&tmp, path)
}

/// What to do with an order, given the role this process plays (`None`: none yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Take {
    /// Nothing: it is the role played.
    Keep,
    /// Keep the new role and start again in it.
    Restart(DeviceRole),
    /// The role was fixed at start: say so.
    Fixed(DeviceRole),
    /// The director sent no playable role: nothing to do.
    Ignore,
}

/// The decision for `order` on a device playing `running` whose role can change
/// (`changeable`: it was not fixed at start).
pub fn decide(order: &PlacementOrder, running: Option<DeviceRole>, changeable: bool) -> Take {
    let Some(role) = boussole_protocol::manifest::device_role(order.role) else {
        return Take::Ignore;
    };
    if running == Some(role) {
        Take::Keep
    } else if changeable {
        Take::Restart(role)
    } else {
        Take::Fixed(role)
    }
}

/// Takes the orders: every role's app has it.
pub(crate) fn plugin(app: &mut App) {
    app.add_message::<PlacementOrder>()
        .init_resource::<RoleFile>()
        .add_systems(Update, take.in_set(GameSystems::Logic));
}

fn take(
    mut orders: MessageReader<PlacementOrder>,
    role: Option<Res<crate::Role>>,
    file: Res<RoleFile>,
    mut connection: ResMut<Connection>,
    mut exit: MessageWriter<AppExit>,
) {
    for order in orders.read() {
        match decide(order, role.as_deref().map(|r| r.0), file.0.is_some()) {
            Take::Keep | Take::Ignore => {}
            Take::Restart(new) => {
                let Some(path) = &file.0 else { continue };
                match write_role(path, new) {
                    Ok(()) => {
                        info!("la régie donne le rôle {new:?} : le poste redémarre dans ce rôle");
                        exit.write(AppExit::Success);
                    }
                    Err(e) => {
                        error!("rôle {new:?} non gardé dans {}: {e}", path.display());
                        connection.notices.push(format!(
                            "le rôle « {} » n'a pas pu être gardé sur ce poste : {e}",
                            new.label_fr()
                        ));
                    }
                }
            }
            Take::Fixed(new) => {
                let running = role.as_deref().map_or("aucun", |r| r.0.label_fr());
                connection.notices.push(format!(
                    "la régie demande le rôle « {} », mais ce poste a été lancé comme « {running} »",
                    new.label_fr()
                ));
            }
        }
    }
}

/// The marker of the waiting screen's root.
#[derive(Component)]
struct WaitingRoot;

/// A device without a role: the link (pairing with the code typed on the keypad), then a
/// screen that says it waits for the console, with its name so the facilitator finds it.
/// Headless: the same without drawing.
pub fn waiting_plugin(options: crate::LaunchOptions, device: String) -> impl Fn(&mut App) {
    move |app: &mut App| {
        crate::base(app, &options);
        if !options.headless {
            let device = device.clone();
            app.add_plugins((
                ui::font_plugin,
                crate::pairing::plugin,
                crate::autostart::plugin,
            ))
            .add_systems(Startup, ui::camera)
            .add_systems(Startup, move |commands: Commands| {
                draw(commands, &device);
            });
        }
    }
}

fn draw(mut commands: Commands, device: &str) {
    commands
        .spawn((ui::root(), WaitingRoot))
        .with_children(|root| {
            root.spawn(ui::card()).with_children(|card| {
                card.spawn(ui::text("Poste en attente de son rôle", 40.0, ui::INK));
                card.spawn(ui::text(
                    "La régie choisit sur son écran d'accueil ce que devient ce poste : \
                     casque, écran de salle ou terminal. Il redémarre alors tout seul.",
                    26.0,
                    ui::INK,
                ));
                card.spawn(ui::text(
                    format!("Nom de ce poste : {device}"),
                    26.0,
                    ui::MUTED,
                ));
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(role: WireRole) -> PlacementOrder {
        PlacementOrder {
            role,
            station: None,
        }
    }

    #[test]
    fn a_new_role_restarts_a_changeable_device_and_is_refused_by_a_fixed_one() {
        let screen = order(WireRole::Screen);
        assert_eq!(
            decide(&screen, None, true),
            Take::Restart(DeviceRole::Screen)
        );
        assert_eq!(
            decide(&screen, Some(DeviceRole::Terminal), true),
            Take::Restart(DeviceRole::Screen)
        );
        assert_eq!(decide(&screen, Some(DeviceRole::Screen), true), Take::Keep);
        assert_eq!(
            decide(&screen, Some(DeviceRole::Terminal), false),
            Take::Fixed(DeviceRole::Screen)
        );
        assert_eq!(
            decide(&order(WireRole::Unassigned), None, true),
            Take::Ignore
        );
    }

    #[test]
    fn the_role_file_round_trips_and_unknown_text_is_no_role() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("poste/role");
        assert_eq!(read_role(&path), None);
        write_role(&path, DeviceRole::Terminal)?;
        assert_eq!(read_role(&path), Some(DeviceRole::Terminal));
        write_role(&path, DeviceRole::Headset)?;
        assert_eq!(read_role(&path), Some(DeviceRole::Headset));
        std::fs::write(&path, "projecteur")?;
        assert_eq!(read_role(&path), None);
        Ok(())
    }
}
