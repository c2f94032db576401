//! The facilitator's console window: attaches to the director with the `console` role. The
//! console issue fills in its panels (prepare, run, devices, coding, end).

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass, egui};

fn main() -> AppExit {
    App::new()
        .add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title: "Boussole — console de l'animateur·rice".into(),
                ..default()
            }),
            ..default()
        }))
        .add_plugins(EguiPlugin::default())
        .add_systems(Startup, camera)
        .add_systems(EguiPrimaryContextPass, waiting_panel)
        .run()
}

fn camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}

fn waiting_panel(mut contexts: EguiContexts) -> Result {
    egui::Window::new("Boussole — console")
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .collapsible(false)
        .resizable(false)
        .show(contexts.ctx_mut()?, |ui| {
            ui.label("En attente du directeur : lancez `boussole-director serve`.");
        });
    Ok(())
}
