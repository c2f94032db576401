//! The headset: job immersions built from the content's `SceneSpec`s, in XR or, without an
//! OpenXR runtime or with `--flat`, in a flat window with mouse and keyboard. [`pointer`] is
//! the one ray/select layer every interaction goes through; [`state`] is the logic (runs
//! headless); [`scene`] the generic builder; [`video360`] the films of 360° immersions;
//! [`view`] draws it all in a window.

pub mod pointer;
pub mod scene;
pub mod state;
pub mod video360;
pub mod view;

use bevy::prelude::*;

/// The headset's logic and pointer layer (headless too).
pub fn plugin(app: &mut App) {
    app.add_plugins((pointer::plugin, state::plugin, video360::plugin));
}

/// The headset's drawing and the mouse and keyboard of flat mode (needs a window).
pub fn view_plugin(app: &mut App) {
    app.add_plugins((view::plugin, video360::view_plugin, pointer::mouse_feeder));
}
