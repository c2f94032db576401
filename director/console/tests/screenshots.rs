//! The console's real window, drawn by Bevy under Xvfb with software Vulkan at 1366×768 (a
//! common facilitator laptop): one process plays the demo script offline to mid-game and
//! captures every screen once the pipeline cache is idle, then the devices screen with pairing
//! opened (`appairage.png`: the code in large digits). The images must have the window's
//! size, not be blank, and differ from screen to screen. They are kept under
//! `target/screenshots/console/` to be looked at.

use image::{GenericImageView, ImageReader};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Distinct colours on a coarse grid of the image (a blank or single-colour frame has one).
fn colours(path: &Path) -> Result<(u32, u32, usize), String> {
    let img = ImageReader::open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .decode()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let (w, h) = img.dimensions();
    let mut seen = BTreeSet::new();
    for y in (0..h).step_by(7) {
        for x in (0..w).step_by(7) {
            seen.insert(img.get_pixel(x, y).0);
        }
    }
    Ok((w, h, seen.len()))
}

#[test]
fn every_console_screen_is_drawn_at_1366_by_768() -> Result<(), String> {
    let out = repo_root().join("target/screenshots/console");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1366x768x24"])
        .arg(env!("CARGO_BIN_EXE_boussole-console"))
        .args([
            "--script",
            "director/scripts/demo_scape_attitudes.ron",
            "--at",
            "600",
            "--screenshots",
        ])
        .arg(&out)
        .current_dir(repo_root())
        .env("WGPU_BACKEND", "vulkan")
        .status()
        .map_err(|e| format!("xvfb-run (package xvfb, installed by `cargo xtask test`): {e}"))?;
    if !status.success() {
        return Err(format!("the console's screenshot run failed: {status}"));
    }
    // Text, coloured badges and panels: a drawn screen has dozens of colours.
    check_shots(
        &out,
        &[
            "preparer",
            "jouer",
            "appareils",
            "coder",
            "cloturer",
            "evaluation",
            "frise",
            "accord",
            "synthese",
            "personnes",
            "appairage",
        ],
        20,
    )
}

/// The immersion session played in training at 2 min 30 s, three headsets in their
/// immersions: the devices screen shows the spectator panel (each headset's scene drawn from
/// its wearer's head, the hotspot looked at, the pointer's ray), then the first headset's view
/// enlarged beside its plan. The run lists the views it had drawn when it took each picture.
/// Kept under `target/screenshots/console-casques/`.
#[test]
fn the_spectator_panel_is_drawn_in_training() -> Result<(), String> {
    let out = repo_root().join("target/screenshots/console-casques");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1366x768x24"])
        .arg(env!("CARGO_BIN_EXE_boussole-console"))
        .args([
            "--script",
            "director/scripts/demo_immersions.ron",
            "--at",
            "150",
            "--screenshots",
        ])
        .arg(&out)
        .current_dir(repo_root())
        .env("WGPU_BACKEND", "vulkan")
        .status()
        .map_err(|e| format!("xvfb-run (package xvfb, installed by `cargo xtask test`): {e}"))?;
    if !status.success() {
        return Err(format!("the console's screenshot run failed: {status}"));
    }
    check_shots(&out, &["appareils", "appareils-casque", "preparer"], 20)?;
    for shot in ["appareils", "appareils-casque"] {
        let path = out.join(format!("{shot}.vues.txt"));
        let drawn =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let drawn: Vec<&str> = drawn.lines().collect();
        if drawn != ["casque_1", "casque_2", "casque_3"] {
            return Err(format!(
                "{shot}: the views drawn were {drawn:?}, not the three headsets'"
            ));
        }
    }
    Ok(())
}

/// Each picture `name.png` under `out` has the window's size and at least `min_colours`
/// colours, and no two pictures are the same file.
fn check_shots(out: &Path, names: &[&str], min_colours: usize) -> Result<(), String> {
    let mut sizes = BTreeSet::new();
    for screen in names {
        let path = out.join(format!("{screen}.png"));
        let (w, h, n) = colours(&path)?;
        if (w, h) != (1366, 768) {
            return Err(format!("{screen}: {w}×{h}, not 1366×768"));
        }
        if n < min_colours {
            return Err(format!(
                "{screen}: only {n} colours, the screen looks blank"
            ));
        }
        sizes.insert(
            std::fs::metadata(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .len(),
        );
    }
    if sizes.len() != names.len() {
        return Err("two screens gave the same image: the screen did not change".into());
    }
    Ok(())
}

/// The console of the day's screenshot run on a fresh store: the console starts the director
/// (built next to the console if it is not there yet), creates the passphrase, shows the
/// recovery key, the home screen with pairing open, a prepared session, the devices, the
/// register, a person's synthesis, the administration's three sections, a closed session
/// reviewed beside the next one, a person's « Parcours », the plan, the locked screen, and the restoration of a backup. Kept under `target/screenshots/console-jour/`.
#[test]
fn the_console_of_the_day_is_drawn_at_1366_by_768() -> Result<(), String> {
    let console = PathBuf::from(env!("CARGO_BIN_EXE_boussole-console"));
    let bin = console
        .parent()
        .ok_or("the console binary has no folder")?
        .to_path_buf();
    if !bin.join("boussole-director").exists() {
        let target = bin.parent().ok_or("no target folder")?;
        let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
            .args([
                "build",
                "-p",
                "boussole-director",
                "--bin",
                "boussole-director",
            ])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(repo_root())
            .status()
            .map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() {
            return Err("building boussole-director failed".into());
        }
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).map_err(|e| e.to_string())?;
    let db = dir.path().join("regie/director.db");
    // Its own folder: the other screenshot test empties its own as it starts.
    let out = repo_root().join("target/screenshots/console-jour");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1366x768x24"])
        .arg(&console)
        .arg("--db")
        .arg(&db)
        .arg("--data")
        .arg(dir.path().join("console"))
        .arg("--screenshots")
        .arg(&out)
        .current_dir(repo_root())
        .env("XDG_RUNTIME_DIR", &run)
        .env("WGPU_BACKEND", "vulkan")
        .status()
        .map_err(|e| format!("xvfb-run (package xvfb, installed by `cargo xtask test`): {e}"));
    // The director the console started outlives it (as on a laptop): stop it.
    if let Ok(pid) = std::fs::read_to_string(db.with_file_name("director.lock")) {
        let _ = Command::new("kill").args(["-TERM", pid.trim()]).status();
    }
    let status = status?;
    if !status.success() {
        return Err(format!(
            "the console of the day's screenshot run failed: {status}"
        ));
    }
    // Text on a dark background: even the sparest screen has a few shades of grey.
    check_shots(
        &out,
        &[
            "jour-premiere-ouverture",
            "jour-cle-de-secours",
            "jour-accueil",
            "jour-preparer",
            "jour-appareils",
            "jour-personnes",
            "jour-synthese",
            "jour-journal-des-acces",
            "jour-chiffres",
            "jour-purge",
            "jour-revue",
            "jour-parcours",
            "jour-planning",
            "jour-verrouillee",
            "jour-restaurer",
        ],
        4,
    )
}
