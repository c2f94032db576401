//! The puzzle terminal (a touch tablet or a PC at a station): one screen per puzzle kind of
//! the content model, the information parts of multi-station puzzles, and the
//! self-assessment questionnaire at the debrief. [`state`] is the logic (runs headless);
//! [`view`] draws it with bevy_ui. Answers go to the director, which decides.

pub mod state;
pub mod view;

use bevy::prelude::*;

/// The terminal's logic (headless too).
pub fn plugin(app: &mut App) {
    app.add_plugins(state::plugin);
}

/// The terminal's drawing (needs a window).
pub fn view_plugin(app: &mut App) {
    app.add_plugins(view::plugin);
}
