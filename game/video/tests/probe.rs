//! `probe` and opening: the shipped test videos read back with their size, length, rate and
//! sound; every kind of bad file refused at once with the right French error, naming the file,
//! without a panic; the generator makes what it is asked; the variable-bitrate video's
//! bitrate really varies.

pub mod common;

use boussole_video::testvideo::{self, Picture, SHIPPED, TestVideo, VARIABLE_BITRATE};
use boussole_video::{VideoError, VideoPlayer, probe};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// Opening a bad file must fail well before `BUS_TIMEOUT`: these files are recognised as bad
/// by what GStreamer says, not by waiting.
const FAST_FAILURE: Duration = Duration::from_secs(2);

#[expect(
    clippy::expect_used,
    reason = "a test helper: failing the test with a message is its job"
)]
fn probe_fails_fast(path: &Path) -> VideoError {
    let started = Instant::now();
    let err = probe(path).expect_err("a bad file must be refused");
    assert!(
        started.elapsed() < FAST_FAILURE,
        "{} refused only after {:?}: {err}",
        path.display(),
        started.elapsed()
    );
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message names the file: {message}"
    );
    err
}

#[test]
fn shipped_videos_are_small_and_read_back_as_made() {
    for video in SHIPPED {
        let path = common::shipped(video.name);
        let bytes = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{} missing ({e}): run boussole-test-videos", video.name))
            .len();
        assert!(bytes < 300 * 1024, "{} is {bytes} bytes", video.name);
        let info = probe(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (info.width, info.height),
            (video.width, video.height),
            "{}",
            video.name
        );
        let duration = info.duration.expect("WebM says its duration");
        let expected = Duration::from_secs(u64::from(video.seconds));
        assert!(
            duration.abs_diff(expected) < Duration::from_millis(100),
            "{}: {duration:?}",
            video.name
        );
        assert_eq!(
            info.frame_rate,
            Some(f64::from(video.fps)),
            "{}",
            video.name
        );
        assert_eq!(info.has_audio, video.audio, "{}", video.name);
    }
}

#[test]
fn the_360_test_video_is_equirectangular() {
    let info = probe(&common::shipped(testvideo::SPHERE_360.name)).expect("probe");
    assert_eq!(info.width, 2 * info.height, "2:1 for a full sphere");
}

#[test]
fn a_missing_file_is_named_in_french() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("absente.webm");
    let err = probe_fails_fast(&path);
    assert!(matches!(err, VideoError::Missing { .. }), "{err:?}");
    assert!(err.to_string().contains("introuvable"), "{err}");
    // A folder is no video file either.
    let err = probe_fails_fast(dir.path());
    assert!(matches!(err, VideoError::Missing { .. }), "{err:?}");
}

#[test]
fn garbage_bytes_are_a_corrupt_video() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("corrompue.webm");
    // Deterministic noise (Knuth's multiplicative hash), no container signature in it.
    let bytes: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
        .collect();
    std::fs::write(&path, bytes).expect("write");
    let err = probe_fails_fast(&path);
    assert!(matches!(err, VideoError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("corrompue"), "{err}");
}

#[test]
fn a_file_cut_in_its_header_or_empty_is_corrupt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = std::fs::read(common::shipped(testvideo::SPHERE_360.name)).expect("read");
    for (name, bytes) in [
        ("coupee_200.webm", &good[..200]),
        ("coupee_4k.webm", &good[..4096]),
        ("vide.webm", &good[..0]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let err = probe_fails_fast(&path);
        assert!(matches!(err, VideoError::Corrupt { .. }), "{name}: {err:?}");
    }
}

#[test]
fn a_sound_file_is_refused_as_a_video() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("son_seul.ogg");
    testvideo::generate_audio_only(1, &path).expect("generate");
    let err = probe_fails_fast(&path);
    assert!(matches!(err, VideoError::NoVideoStream { .. }), "{err:?}");
    assert!(err.to_string().contains("sans image vidéo"), "{err}");
}

#[test]
fn the_generator_makes_what_it_is_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let video = TestVideo {
        name: "petite.webm",
        width: 160,
        height: 80,
        seconds: 1,
        fps: 10,
        picture: Picture::Ball,
        kbps: 100,
        vbr: false,
        audio: false,
    };
    let path = dir.path().join(video.name);
    testvideo::generate(&video, &path).expect("generate");
    let info = probe(&path).expect("probe");
    assert_eq!((info.width, info.height), (160, 80));
    assert_eq!(info.frame_rate, Some(10.0));
    assert!(!info.has_audio);
    let player = VideoPlayer::open(&path, &common::fast()).expect("open");
    let first = player
        .latest_frame()
        .expect("the first frame is ready after open");
    assert_eq!(
        (first.width, first.height, first.pts),
        (160, 80, Duration::ZERO)
    );
}

/// Encoded bytes per second of the video stream, read with the demuxer alone.
#[expect(
    clippy::expect_used,
    reason = "a test helper: failing the test with a message is its job"
)]
fn encoded_bytes_per_second(path: &Path) -> Vec<usize> {
    gst::init().expect("gst");
    let pipeline = gst::parse::launch(&format!(
        "filesrc location=\"{}\" ! matroskademux ! video/x-vp8 ! appsink name=s sync=false",
        path.display()
    ))
    .expect("pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    let sink = pipeline
        .by_name("s")
        .expect("sink")
        .downcast::<gstreamer_app::AppSink>()
        .expect("an appsink");
    pipeline.set_state(gst::State::Playing).expect("play");
    let mut seconds = Vec::new();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(5)) {
        let buffer = sample.buffer().expect("buffer");
        let second = usize::try_from(buffer.pts().expect("pts").seconds()).expect("small");
        if seconds.len() <= second {
            seconds.resize(second + 1, 0);
        }
        seconds[second] += buffer.size();
    }
    assert!(sink.is_eos(), "the demuxer stopped before the end");
    pipeline.set_state(gst::State::Null).expect("stop");
    seconds
}

#[test]
fn the_variable_bitrate_video_varies() {
    let per_second = encoded_bytes_per_second(&common::shipped(VARIABLE_BITRATE.name));
    eprintln!("encoded VP8 bytes per second: {per_second:?}");
    assert_eq!(per_second.len(), 3, "{per_second:?}");
    let (rings, black) = (per_second[0], per_second[1]);
    assert!(
        rings > 4 * black,
        "rings ({rings} B) should cost far more than black ({black} B): {per_second:?}"
    );
}
