//! `boussole-test-videos [DIR] [--large]`: writes the shipped test videos (VP8 + Vorbis in
//! WebM, made with GStreamer) to DIR (default `assets/videos/tests/` at the repository root)
//! and prints each one's size and what `probe` reads back. `--large` adds the 1920×960 one of
//! the decoding benchmark (not shipped: over the 300 KB bound).

use anyhow::{Context, Result};
use boussole_video::testvideo::{self, SHIPPED, SPHERE_360_LARGE};
use std::path::PathBuf;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let large = args.iter().any(|a| a == "--large");
    let dir = args.iter().find(|a| !a.starts_with("--")).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/videos/tests"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut videos = SHIPPED.to_vec();
    if large {
        videos.push(SPHERE_360_LARGE);
    }
    for video in &videos {
        let path = dir.join(video.name);
        testvideo::generate(video, &path).with_context(|| format!("making {}", video.name))?;
        let bytes = std::fs::metadata(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        let info = boussole_video::probe(&path)?;
        println!(
            "{}: {} KB, {}x{}, {:?}, {:?} fps, audio {}",
            path.display(),
            bytes.div_ceil(1024),
            info.width,
            info.height,
            info.duration,
            info.frame_rate,
            info.has_audio
        );
    }
    Ok(())
}
