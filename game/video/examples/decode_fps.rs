//! Decoding speed, not a test: `cargo run -p boussole-video --release --example decode_fps`.
//! Decodes the shipped 512×256 360° video and a 1920×960 one made on the spot, as fast as
//! possible (no clock), RGBA into the appsink, and prints frames per second (best of 3).

use anyhow::{Context, Result, bail};
use boussole_video::testvideo::{self, SPHERE_360, SPHERE_360_LARGE};
use boussole_video::{PlayerOptions, VideoEvent, VideoPlayer};
use std::path::Path;
use std::time::{Duration, Instant};

fn fps(path: &Path, max_size: Option<(u32, u32)>) -> Result<f64> {
    let options = PlayerOptions {
        realtime: false,
        max_size,
        ..PlayerOptions::default()
    };
    let mut best = 0.0_f64;
    for _ in 0..3 {
        let mut player = VideoPlayer::open(path, &options)?;
        let started = Instant::now();
        player.play()?;
        let deadline = started + Duration::from_secs(60);
        'run: loop {
            for event in player.poll_events() {
                match event {
                    VideoEvent::Ended => break 'run,
                    VideoEvent::Error(e) => bail!(e),
                    _ => {}
                }
            }
            if Instant::now() > deadline {
                bail!("{} did not end within 60 s", path.display());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        #[expect(clippy::cast_precision_loss, reason = "a few hundred frames")]
        let rate = player.frames_decoded() as f64 / started.elapsed().as_secs_f64();
        best = best.max(rate);
    }
    Ok(best)
}

fn main() -> Result<()> {
    let small = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/videos/tests")
        .join(SPHERE_360.name);
    let dir = tempfile::tempdir().context("temp dir")?;
    let large = dir.path().join(SPHERE_360_LARGE.name);
    testvideo::generate(&SPHERE_360_LARGE, &large)?;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "{profile}, {} CPU cores",
        std::thread::available_parallelism()?
    );
    println!("512x256:            {:6.0} fps", fps(&small, None)?);
    println!("1920x960:           {:6.0} fps", fps(&large, None)?);
    println!(
        "1920x960 -> 1024x512: {:4.0} fps",
        fps(&large, Some((1024, 1024)))?
    );
    Ok(())
}
