//! The room screen: a big, legible French display of the countdown, the phase, the hint
//! shown, text cues, a card for video cues, and sound cues. [`state`] is the logic (runs
//! headless); [`view`] draws it with bevy_ui.

pub mod state;
pub mod view;

use bevy::prelude::*;

/// The room screen's logic (headless too).
pub fn plugin(app: &mut App) {
    app.add_plugins(state::plugin);
}

/// The room screen's drawing (needs a window).
pub fn view_plugin(app: &mut App) {
    app.add_plugins(view::plugin);
}
