//! The Bevy game client: one binary whose role (headset, room screen, puzzle terminal) decides
//! what it shows. Each role is a plugin of its own; the director's state drives them all
//! (the engine-and-network and game-client issues fill them in).

use bevy::prelude::*;
use boussole_content::cue::DeviceRole;

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
}

/// Adds the client's plugins for `role`.
pub fn plugin(role: DeviceRole, options: LaunchOptions) -> impl Fn(&mut App) {
    move |app: &mut App| {
        app.insert_resource(Role(role))
            .insert_resource(options.clone());
    }
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
