//! The Bevy game client: one binary whose role (headset, room screen, puzzle terminal) decides
//! what it shows. Each role is a plugin of its own; the director's state drives them all
//! through the device link ([`net`]). Logic plugins run headless (tests, `--headless`); view
//! plugins draw with bevy_ui in a window. [`kiosk`] sets up the device's automatic start
//! (a systemd user unit); [`autostart`] is its button.

pub mod autostart;
pub mod content;
pub mod headless;
pub mod headset;
pub mod kiosk;
pub mod media;
pub mod net;
pub mod pairing;
pub mod pictogram;
pub mod placement;
pub mod preview;
pub mod screen;
pub mod terminal;
pub mod third_party;
pub mod ui;
pub mod voice;

use bevy::prelude::*;
use boussole_content::cue::DeviceRole;
use boussole_content::ids::StationId;
use boussole_protocol::ParticipantId;

/// The role this device plays, as a resource every role plugin can read.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Role(pub DeviceRole);

/// How the client was started.
#[derive(Resource, Clone, Debug, Default)]
pub struct LaunchOptions {
    /// Skip OpenXR even when a runtime is present (headset role).
    pub flat: bool,
    /// No window: for tests and CI.
    pub headless: bool,
    /// The director to join, `HOST:PORT`; `None` means discover it on the local network.
    pub director: Option<String>,
    /// The station this device stands at (terminals).
    pub station: Option<StationId>,
    /// The participant at this device, when fixed.
    pub participant: Option<ParticipantId>,
    /// Headsets: run this immersion at start (the tutorial first), without a director.
    pub immersion: Option<String>,
}

/// The frame's phases, in order: the link's news, the participant's input, the role's
/// logic, then drawing.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GameSystems {
    /// Polling the link, sending reports.
    Net,
    /// Touches, keys, standard input.
    Input,
    /// What the role does with it.
    Logic,
    /// Models and views.
    View,
}

/// Adds the client's plugins for `role`: the link's resources, the role's logic and, unless
/// headless, its views, the pairing screen and sound.
pub fn plugin(role: DeviceRole, options: LaunchOptions) -> impl Fn(&mut App) {
    move |app: &mut App| {
        app.insert_resource(Role(role));
        base(app, &options);
        app.insert_resource(net::plugin::DeviceSound(
            boussole_protocol::wire::SoundSettings::default_for(
                boussole_protocol::manifest::wire_role(role),
            ),
        ))
        .add_plugins(voice::plugin);
        match role {
            DeviceRole::Headset => {
                // The XR plugins (if any) are built by now: their real outcome decides.
                let start = third_party::xr::start_of(app.world());
                app.insert_resource(third_party::xr::choose_mode(options.flat, start))
                    .add_plugins((headset::plugin, third_party::xr::plugin, media::plugin));
                if !options.headless {
                    app.add_plugins((headset::view_plugin, third_party::audio::plugin));
                }
            }
            DeviceRole::Screen => {
                app.add_plugins(screen::plugin);
                if !options.headless {
                    app.add_plugins((screen::view_plugin, third_party::audio::plugin));
                }
            }
            DeviceRole::Terminal => {
                app.insert_resource(terminal::state::Terminal {
                    station: options
                        .station
                        .clone()
                        .unwrap_or_else(|| StationId::from("poste")),
                    participant: options.participant.clone(),
                })
                .add_plugins((terminal::plugin, media::plugin));
                if !options.headless {
                    app.add_plugins(terminal::view_plugin);
                }
            }
        }
        if !options.headless {
            app.add_plugins((ui::font_plugin, pairing::plugin, autostart::plugin));
        }
    }
}

/// What every app of the client has, with a role or waiting for one: the options, the
/// content, the frame's phases in order, the link and the console's placements.
pub(crate) fn base(app: &mut App, options: &LaunchOptions) {
    app.insert_resource(options.clone())
        .init_resource::<content::GameContent>()
        .configure_sets(
            Update,
            (
                GameSystems::Net,
                GameSystems::Input,
                GameSystems::Logic,
                GameSystems::View,
            )
                .chain(),
        )
        .add_plugins((net::plugin::plugin, placement::plugin));
}

/// The French window title for `role`.
pub fn window_title(role: DeviceRole) -> String {
    format!("Boussole — {}", role.label_fr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headless_app_knows_its_role() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).add_plugins(plugin(
            DeviceRole::Terminal,
            LaunchOptions {
                headless: true,
                ..default()
            },
        ));
        app.update();
        assert_eq!(app.world().resource::<Role>().0, DeviceRole::Terminal);
        assert!(app.world().resource::<LaunchOptions>().headless);
    }
}
