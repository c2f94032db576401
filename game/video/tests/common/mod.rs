//! Helpers shared by the test files: where the shipped test videos are, and waiting on a
//! player with a deadline that names what did not happen.

use boussole_video::{PlayerOptions, VideoEvent, VideoPlayer};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A shipped test video under `assets/videos/tests/`.
pub fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/videos/tests")
        .join(name)
}

/// Decoding as fast as possible, no sound: tests do not wait for wall-clock time.
pub fn fast() -> PlayerOptions {
    PlayerOptions {
        realtime: false,
        ..PlayerOptions::default()
    }
}

/// Polls the player's events (and lets `check` look at it) until `check` returns something,
/// or fails after `within` naming `what` and the events seen.
pub fn poll_until<T>(
    player: &mut VideoPlayer,
    within: Duration,
    what: &str,
    mut check: impl FnMut(&mut VideoPlayer, &[VideoEvent]) -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let events = player.poll_events();
        if let Some(t) = check(player, &events) {
            return t;
        }
        seen.extend(events);
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?} (events seen: {seen:?}, state {:?})",
            player.state()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Plays to the end and returns every frame taken on the way (their pts, size, first bytes).
#[expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a test helper: failing the test with a message is its job"
)]
pub fn play_to_end(player: &mut VideoPlayer, within: Duration) -> Vec<(Duration, u32, u32)> {
    let mut frames = Vec::new();
    player.play().expect("play");
    poll_until(player, within, "the video ends", |p, events| {
        if let Some(f) = p.take_frame() {
            assert_eq!(f.rgba.len(), (f.width * f.height * 4) as usize, "RGBA size");
            frames.push((f.pts, f.width, f.height));
        }
        for e in events {
            match e {
                VideoEvent::Ended => return Some(()),
                VideoEvent::Error(err) => panic!("error while playing: {err}"),
                _ => {}
            }
        }
        None
    });
    frames
}
