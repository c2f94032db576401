//! Video decoding for the game client, with GStreamer and no Bevy: the headset's 360°
//! immersions (an equirectangular video on the inside of a sphere) and the room screen's
//! full-screen video cues.
//!
//! - [`probe`] reads a file's size, length, frame rate and sound before a scene uses it, and
//!   fails fast with a French [`VideoError`] that names the file (missing, corrupt, no
//!   decoder installed and which Debian package brings one, no picture). It never panics and
//!   never waits on GStreamer more than [`BUS_TIMEOUT`].
//! - [`VideoPlayer`] decodes on GStreamer's threads (`filesrc ! decodebin ! videoscale !
//!   videoconvert ! appsink`, RGBA, optionally scaled down) and keeps only the newest
//!   [`Frame`]: the render loop polls [`VideoPlayer::latest_frame`] (or `take_frame`) every
//!   frame without blocking, copies it into a Bevy `Image`, and polls
//!   [`VideoPlayer::poll_events`] for the end, a loop, a finished seek or an error.
//! - Sync across headsets: the director sends a cue's `start_at_ms` on the session clock;
//!   each device turns it into a position (`local_now - start_at`, after its clock offset),
//!   [`VideoPlayer::seek`]s there before [`VideoPlayer::play`] (a headset that joins late
//!   starts where the others are) and calls [`VideoPlayer::resync`] now and then to correct
//!   drift.
//! - [`testvideo`] makes the small test videos with GStreamer itself (VP8 + Vorbis in WebM);
//!   `cargo run -p boussole-video --bin boussole-test-videos` writes them to
//!   `assets/videos/tests/`.
//!
//! Needs GStreamer 1.22 (Debian 12): `libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev`
//! to build, `gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav` to play
//! (`cargo xtask deps` installs them).

mod error;
pub mod import;
mod player;
pub mod testvideo;

pub use error::{VideoError, package_for_codec, package_for_element};
pub use player::{
    Frame, Opening, PlayerOptions, PlayerState, VideoEvent, VideoInfo, VideoPlayer, decode_whole,
    probe,
};

use gstreamer as gst;
use std::time::Duration;

/// The longest any call waits on GStreamer (opening, probing): a damaged file that stalls the
/// demuxer becomes a [`VideoError::Timeout`] rather than a frozen headset.
pub const BUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts GStreamer (idempotent, cheap after the first call).
fn init() -> Result<(), VideoError> {
    gst::init().map_err(|e| VideoError::Init {
        reason: e.to_string(),
    })
}

/// The position in a video that a cue started at `start_at_ms` has reached at `now_ms`, both
/// on the director's session clock (a device adds its clock offset to its own time first):
/// where a headset that opens the video late seeks to. Zero before the start.
pub fn position_at(start_at_ms: u64, now_ms: u64) -> Duration {
    Duration::from_millis(now_ms.saturating_sub(start_at_ms))
}
