//! Small test videos made with GStreamer itself (`videotestsrc` + `audiotestsrc`, VP8 + Vorbis
//! in WebM): nothing downloaded, nothing to license. `cargo run -p boussole-video --bin
//! boussole-test-videos [DIR]` writes [`SHIPPED`] to `assets/videos/tests/` (each well under
//! 300 KB); tests also make their own in a temporary folder. The files are not byte-for-byte
//! reproducible (the muxer writes a date and a random id): tests check what they hold, not
//! their bytes, so regenerate them only when a [`TestVideo`] changes.

use crate::{error::package_for_element, init};
use gst::prelude::*;
use gstreamer as gst;
use std::path::Path;
use std::time::Duration;

/// What the picture shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Picture {
    /// Colour bars scrolling sideways: on the sphere it looks like turning on the spot, and
    /// the seam at the left/right edge shows.
    ScrollingBars,
    /// A ball moving over black: motion for the room screen.
    Ball,
    /// One second each of moving fine rings (`zone-plate`, hard to encode), black (nearly
    /// free) and the ball: the encoder's bitrate swings with it (issue 8's variable-bitrate
    /// case). Noise (`snow`) swings more but made the file 770 KB.
    RingsBlackBall,
}

/// A test video to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestVideo {
    /// The file name (`.webm`).
    pub name: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Length in seconds.
    pub seconds: u32,
    /// Frames per second.
    pub fps: u32,
    /// What it shows.
    pub picture: Picture,
    /// The VP8 encoder's target, kbit/s.
    pub kbps: u32,
    /// Variable bitrate (`end-usage=vbr`) rather than constant.
    pub vbr: bool,
    /// A 440 Hz tone as Vorbis sound.
    pub audio: bool,
}

/// The 360° immersion test: 2:1 equirectangular, 512×256, 3 s with sound.
pub const SPHERE_360: TestVideo = TestVideo {
    name: "sphere_360_512x256.webm",
    width: 512,
    height: 256,
    seconds: 3,
    fps: 25,
    picture: Picture::ScrollingBars,
    kbps: 300,
    vbr: false,
    audio: true,
};

/// The room screen's full-screen cue test: 16:9, 640×360, 3 s with sound.
pub const ROOM_16_9: TestVideo = TestVideo {
    name: "room_16x9_640x360.webm",
    width: 640,
    height: 360,
    seconds: 3,
    fps: 25,
    picture: Picture::Ball,
    kbps: 300,
    vbr: false,
    audio: true,
};

/// The variable-bitrate test (issue 8): rings, black, ball; 640×360, 3 s, no sound.
pub const VARIABLE_BITRATE: TestVideo = TestVideo {
    name: "vbr_640x360.webm",
    width: 640,
    height: 360,
    seconds: 3,
    fps: 25,
    picture: Picture::RingsBlackBall,
    kbps: 400,
    vbr: true,
    audio: false,
};

/// The 1920×960 360° video of the decoding benchmark (too big to ship: made on demand).
pub const SPHERE_360_LARGE: TestVideo = TestVideo {
    name: "sphere_360_1920x960.webm",
    width: 1920,
    height: 960,
    seconds: 3,
    fps: 25,
    picture: Picture::ScrollingBars,
    kbps: 4000,
    vbr: false,
    audio: true,
};

/// The videos committed under `assets/videos/tests/`.
pub const SHIPPED: [TestVideo; 3] = [SPHERE_360, ROOM_16_9, VARIABLE_BITRATE];

/// Why a test video could not be made.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// GStreamer or one of the elements is missing.
    #[error("GStreamer cannot make {path}: {reason}")]
    Setup {
        /// The file to make.
        path: String,
        /// Why (with the Debian package when an element is missing).
        reason: String,
    },
    /// The encoding pipeline stopped on an error.
    #[error("encoding {path} failed: {reason}")]
    Encode {
        /// The file.
        path: String,
        /// GStreamer's reason.
        reason: String,
    },
    /// The encoding did not finish in time.
    #[error("encoding {path} did not finish within {seconds} s")]
    Timeout {
        /// The file.
        path: String,
        /// The bound.
        seconds: u64,
    },
}

/// How long one encoding may take (the 1920×960 one takes a few seconds here).
const ENCODE_TIMEOUT: Duration = Duration::from_secs(120);

fn video_branch(v: &TestVideo) -> String {
    let caps = format!(
        "video/x-raw,format=I420,width={},height={},framerate={}/1",
        v.width, v.height, v.fps
    );
    let frames = v.seconds * v.fps;
    match v.picture {
        Picture::ScrollingBars => format!(
            "videotestsrc num-buffers={frames} pattern=smpte horizontal-speed=4 ! {caps} ! enc."
        ),
        Picture::Ball => format!("videotestsrc num-buffers={frames} pattern=ball ! {caps} ! enc."),
        Picture::RingsBlackBall => {
            // `concat` plays its inputs one after the other with continuous running time.
            let third = frames / 3;
            let last = frames - 2 * third;
            format!(
                "concat name=cat ! enc. \
                 videotestsrc num-buffers={third} pattern=zone-plate kx2=20 ky2=20 kt=1 ! {caps} ! cat. \
                 videotestsrc num-buffers={third} pattern=black ! {caps} ! cat. \
                 videotestsrc num-buffers={last} pattern=ball ! {caps} ! cat."
            )
        }
    }
}

/// Makes `video` at `out` (overwritten), waiting at most two minutes.
///
/// # Errors
/// [`GenerateError`] when an element is missing, the encoding fails or takes too long.
pub fn generate(video: &TestVideo, out: &Path) -> Result<(), GenerateError> {
    let end_usage = if video.vbr { "vbr" } else { "cbr" };
    let mut description = format!(
        "vp8enc name=enc deadline=1 end-usage={end_usage} target-bitrate={bps} \
         keyframe-max-dist={kf} ! queue ! webmmux name=mux ! filesink name=out {branch}",
        bps = video.kbps * 1000,
        kf = video.fps,
        branch = video_branch(video),
    );
    if video.audio {
        // 48 kHz in buffers of 480 samples: 100 buffers a second.
        description.push_str(&format!(
            " audiotestsrc num-buffers={} samplesperbuffer=480 freq=440 volume=0.2 ! \
             audio/x-raw,rate=48000,channels=2 ! audioconvert ! vorbisenc quality=0.1 ! \
             queue ! mux.",
            video.seconds * 100
        ));
    }
    run(&description, out)
}

/// Makes a sound-only file (Vorbis in Ogg, `seconds` long) at `out`: a file that is no video.
///
/// # Errors
/// As [`generate`].
pub fn generate_audio_only(seconds: u32, out: &Path) -> Result<(), GenerateError> {
    let description = format!(
        "audiotestsrc num-buffers={} samplesperbuffer=480 freq=440 ! \
         audio/x-raw,rate=48000,channels=1 ! audioconvert ! vorbisenc ! oggmux ! \
         filesink name=out",
        seconds * 100
    );
    run(&description, out)
}

fn run(description: &str, out: &Path) -> Result<(), GenerateError> {
    let path = out.display().to_string();
    let setup = |reason: String| GenerateError::Setup {
        path: path.clone(),
        reason,
    };
    init().map_err(|e| setup(e.to_string()))?;
    for factory in description
        .split('!')
        .filter_map(|part| part.split_whitespace().next())
        .filter(|w| !w.contains('=') && !w.contains('/') && !w.ends_with('.'))
    {
        if gst::ElementFactory::find(factory).is_none() {
            return Err(setup(format!(
                "element {factory} missing (install {})",
                package_for_element(factory)
            )));
        }
    }
    let pipeline = gst::parse::launch(description)
        .map_err(|e| setup(e.to_string()))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| setup("not a pipeline".to_owned()))?;
    let sink = pipeline
        .by_name("out")
        .ok_or_else(|| setup("no filesink".to_owned()))?;
    let location = out
        .to_str()
        .ok_or_else(|| setup("path is not UTF-8".to_owned()))?;
    sink.set_property("location", location);
    let bus = pipeline.bus().ok_or_else(|| setup("no bus".to_owned()))?;
    let result = (|| {
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| setup(e.to_string()))?;
        let msg = bus.timed_pop_filtered(
            gst::ClockTime::from_nseconds(
                u64::try_from(ENCODE_TIMEOUT.as_nanos()).unwrap_or(u64::MAX),
            ),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        match msg.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::Eos(_)) => Ok(()),
            Some(gst::MessageView::Error(e)) => Err(GenerateError::Encode {
                path: path.clone(),
                reason: format!("{} ({:?})", e.error(), e.debug()),
            }),
            _ => Err(GenerateError::Timeout {
                path: path.clone(),
                seconds: ENCODE_TIMEOUT.as_secs(),
            }),
        }
    })();
    let _ = pipeline.set_state(gst::State::Null);
    result
}
