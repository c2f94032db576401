//! The room screen: a big, legible French display of the countdown, the phase, the hint
//! shown, text cues, full-screen video cues ([`video`], GStreamer) and sound cues. [`state`] is
//! the logic (runs headless); [`view`] draws it with bevy_ui.

pub mod state;
pub mod video;
pub mod view;

use bevy::prelude::*;

/// The room screen's logic (headless too).
pub fn plugin(app: &mut App) {
    app.add_plugins((state::plugin, video::plugin));
}

/// The room screen's drawing (needs a window).
pub fn view_plugin(app: &mut App) {
    app.add_plugins(view::plugin);
}
