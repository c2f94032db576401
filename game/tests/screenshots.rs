//! The room screen, the terminal and the flat headset drawn by Bevy under Xvfb with software Vulkan at 1280×800:
//! one process per role previews its screens from the content (no director) and captures each
//! once the pipeline cache is idle. The images must have the window's size, not be blank, and
//! differ from screen to screen. They are kept under `target/screenshots/game/` to be looked at.

use image::{ImageReader, RgbaImage};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(path: &Path) -> Result<RgbaImage, String> {
    Ok(ImageReader::open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .decode()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .to_rgba8())
}

/// Distinct colours on a coarse grid (a blank frame has one or two).
fn colours(img: &RgbaImage) -> usize {
    let (w, h) = img.dimensions();
    let mut seen = BTreeSet::new();
    for y in (0..h).step_by(5) {
        for x in (0..w).step_by(5) {
            seen.insert(img.get_pixel(x, y).0);
        }
    }
    seen.len()
}

/// Share of pixels that differ by more than a small tolerance (anti-aliasing noise).
fn difference(a: &RgbaImage, b: &RgbaImage) -> f64 {
    let mut differ = 0u64;
    for (p, q) in a.pixels().zip(b.pixels()) {
        let d: u32 =
            p.0.iter()
                .zip(q.0)
                .map(|(x, y)| u32::from(x.abs_diff(y)))
                .sum();
        if d > 24 {
            differ += 1;
        }
    }
    differ as f64 / f64::from(a.width() * a.height()).max(1.0)
}

/// Runs one role's preview with screenshots into `out`; at most `guard`.
fn shoot(role: &str, out: &Path, guard: Duration) -> Result<(), String> {
    shoot_with(role, &[], out, guard)
}

/// [`shoot`] with more arguments (`role` empty: a device started without one); the client's
/// log goes to `out/ROLE.log`.
fn shoot_with(role: &str, extra: &[&str], out: &Path, guard: Duration) -> Result<(), String> {
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let log_name = if role.is_empty() { "poste" } else { role };
    let log =
        std::fs::File::create(out.join(format!("{log_name}.log"))).map_err(|e| e.to_string())?;
    let role_args: &[&str] = if role.is_empty() {
        &[]
    } else {
        &["--role", role]
    };
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_boussole-game"))
        .args(role_args)
        .args(["--preview", "scape_attitudes", "--screenshots"])
        .arg(out)
        .arg("--data-dir")
        .arg(data.path())
        .args(extra)
        .current_dir(repo_root())
        .env("WGPU_BACKEND", "vulkan")
        .stderr(log)
        .spawn()
        .map_err(|e| format!("xvfb-run (package xvfb, installed by `cargo xtask test`): {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("the {role} screenshot run failed: {status}"))
            };
        }
        if start.elapsed() > guard {
            let _ = child.kill();
            return Err(format!("the {role} screenshot run hung for {guard:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn check(out: &Path, names: &[&str]) -> Result<(), String> {
    let mut images = Vec::new();
    for name in names {
        let img = load(&out.join(format!("{name}.png")))?;
        if img.dimensions() != (1280, 800) {
            return Err(format!("{name}: {:?}, not 1280×800", img.dimensions()));
        }
        let n = colours(&img);
        if n < 20 {
            return Err(format!("{name}: only {n} colours, the screen looks blank"));
        }
        images.push((name, img));
    }
    for (i, (a, ia)) in images.iter().enumerate() {
        for (b, ib) in images.iter().skip(i + 1) {
            let d = difference(ia, ib);
            if d < 0.01 {
                return Err(format!(
                    "{a} and {b} differ on {:.2} % of pixels only",
                    d * 100.0
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn the_room_screen_and_every_terminal_screen_are_drawn() -> Result<(), String> {
    let out = repo_root().join("target/screenshots/game");
    let _ = std::fs::remove_dir_all(&out);
    let guard = Duration::from_secs(400);
    shoot("screen", &out, guard)?;
    check(
        &out,
        &["ecran_en_jeu", "ecran_video", "ecran_fin", "appairage"],
    )?;
    shoot("terminal", &out, guard)?;
    check(
        &out,
        &[
            "terminal_code",
            "terminal_multi_postes",
            "terminal_multi_postes_partie",
            "terminal_documents",
            "terminal_association",
            "terminal_ordre",
            "terminal_guidage_casque",
            "terminal_autoevaluation",
        ],
    )
}

#[test]
fn a_device_without_a_role_shows_that_it_waits_and_its_keypad() -> Result<(), String> {
    let out = repo_root().join("target/screenshots/game-poste");
    let _ = std::fs::remove_dir_all(&out);
    shoot("", &out, Duration::from_secs(400))?;
    check(&out, &["poste_en_attente", "poste_appairage"])
}

#[test]
fn the_flat_headset_view_of_every_immersion_and_headset_guided_puzzle_is_drawn()
-> Result<(), String> {
    let out = repo_root().join("target/screenshots/game-headset");
    let _ = std::fs::remove_dir_all(&out);
    let content = content_with_a_360_film()?;
    let dir = content.path().join("content");
    let dir = dir.to_str().ok_or("temporary folder not in UTF-8")?;
    // No `--flat`: the XR plugins are built, OpenXR finds no runtime here (Debian has none)
    // and the same window shows the flat view.
    shoot_with(
        "headset",
        &["--content", dir],
        &out,
        Duration::from_secs(400),
    )?;
    let log = std::fs::read_to_string(out.join("headset.log")).map_err(|e| e.to_string())?;
    for said in ["Failed to initialize openxr", "flat window instead"] {
        if !log.contains(said) {
            return Err(format!(
                "the headset's log does not say {said:?}:
{log}"
            ));
        }
    }
    check(
        &out,
        &[
            "casque_tutoriel",
            "casque_aide_domicile",
            "casque_cariste_port",
            "casque_exemple_entrepot",
            "casque_maintenance_industrielle",
            "casque_visite_360",
            "casque_questionnaire",
            "casque_salle_calme",
            "casque_enigme_exemple_p_casque",
            "casque_enigme_scape_attitudes_p_casque",
            "casque_enigme_scape_pandemie_p_isolement",
        ],
    )
}

/// The shipped content plus the 360° test immersion (`tests/fixtures/visite_360.ron`), its
/// film being the shipped equirectangular test video (colour bars, which no shipped immersion
/// uses); the media are the shipped ones, linked.
fn content_with_a_360_film() -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let repo = repo_root();
    let status = Command::new("cp")
        .arg("-r")
        .arg(repo.join("content"))
        .arg(dir.path().join("content"))
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("copying content/: {status}"));
    }
    std::fs::copy(
        repo.join("tests/fixtures/visite_360.ron"),
        dir.path().join("content/immersions/visite_360.ron"),
    )
    .map_err(|e| e.to_string())?;
    let assets = dir.path().join("assets");
    std::fs::create_dir_all(assets.join("films")).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(repo.join("assets")).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        std::os::unix::fs::symlink(entry.path(), assets.join(entry.file_name()))
            .map_err(|e| e.to_string())?;
    }
    std::os::unix::fs::symlink(
        repo.join("assets/videos/tests/sphere_360_512x256.webm"),
        assets.join("films/visite_360.webm"),
    )
    .map_err(|e| e.to_string())?;
    Ok(dir)
}
