//! The headset: job immersions built from the content's `SceneSpec`s, in XR or, without an
//! OpenXR runtime or with `--flat`, in a flat window with mouse and keyboard. [`pointer`](mod@pointer) is
//! the one ray/select layer every interaction goes through; [`state`] is the logic (runs
//! headless); [`scene`] the generic builder; [`video360`] the films of 360° immersions;
//! [`guided`] shows a headset-guided puzzle's scene and view during an escape game;
//! [`cue_video`] plays video cues on a screen in front of the wearer; [`view`] draws it all
//! in a window; in a headset, [`board`] puts the panel's words in the
//! world, [`tags`] the hotspot balls' names, [`beam`] shows the controller's ray and
//! [`shade`] darkens the view around turns and after a stop.

pub mod beam;
pub mod board;
pub mod cue_video;
pub mod guided;
pub mod pointer;
pub mod pose;
/// The generic scene builder, shared with the console's spectator views.
pub use boussole_scene as scene;
pub mod shade;
pub mod state;
pub mod tags;
pub mod video360;
pub mod view;

use bevy::prelude::*;

/// The headset's logic and pointer layer (headless too).
pub fn plugin(app: &mut App) {
    app.add_plugins((
        pointer::plugin,
        pose::plugin,
        state::plugin,
        video360::plugin,
        cue_video::plugin,
    ));
}

/// The headset's drawing, the mouse and keyboard of flat mode and, in the headset, the panel's
/// words and the balls' names in the world, the visible ray and the comfort shade (needs a
/// window).
pub fn view_plugin(app: &mut App) {
    app.add_plugins((
        view::plugin,
        video360::view_plugin,
        cue_video::view_plugin,
        pointer::mouse_feeder,
        board::plugin,
        beam::plugin,
        shade::plugin,
        tags::plugin,
    ));
}
