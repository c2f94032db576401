//! `cargo xtask`: the project's set-up and task runner. It installs the Debian packages a job
//! needs when they are missing (idempotent; through sudo where not root), then runs the job,
//! printing how long each step took.
//!
//! ```text
//! cargo xtask demo [--gui]   the main job, headless (a windowed console with --gui)
//! cargo xtask test           fmt check, clippy -D warnings, every test (debug builds)
//! cargo xtask bench [NAME…]  benchmarks, release builds (never in CI); NAME: content, content-sync,
//!                            synthesis, cue, skew, ingest, startup, memory, spectator (all when
//!                            left out; spectator also times the console's drawing under Xvfb)
//! cargo xtask voices         give every participant text a voice (espeak-ng, oggenc)
//! cargo xtask package        the two Debian packages (release builds, cargo-deb) into
//!                            <target>/debian/: boussole-regie (laptop), boussole-poste (devices)
//! cargo xtask deps           only install the system packages
//! ```

mod package;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// Debian packages, each with the reason it is needed.
const BUILD_PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "finds the C libraries below"),
    ("libasound2-dev", "Bevy audio (ALSA, through rodio/cpal)"),
    ("libudev-dev", "Bevy gamepad input (gilrs)"),
    ("libwayland-dev", "Bevy windows on Wayland"),
    ("libxkbcommon-dev", "Bevy keyboard layouts"),
    ("libssl-dev", "SQLCipher, which encrypts the session log"),
    (
        "poppler-utils",
        "pdftotext and pdftoppm: read back and look at the synthesis PDFs",
    ),
    (
        "libgstreamer1.0-dev",
        "GStreamer headers for boussole-video (360° and room-screen videos)",
    ),
    (
        "libgstreamer-plugins-base1.0-dev",
        "GStreamer app/video libraries (appsink) for boussole-video",
    ),
    (
        "gstreamer1.0-plugins-base",
        "decodebin, videoconvert, appsink, Vorbis/Theora/Ogg, test sources",
    ),
    (
        "gstreamer1.0-plugins-good",
        "VP8 and WebM/Matroska: the test videos are encoded and decoded with them",
    ),
    (
        "gstreamer1.0-libav",
        "H.264/H.265 decoders for videos made with ordinary cameras and editors",
    ),
    (
        "libopenxr-loader1",
        "the OpenXR loader (libopenxr_loader.so.1) the headset opens at run time, not at link time",
    ),
    (
        "libopenxr-dev",
        "the unversioned libopenxr_loader.so name that the openxr crate dlopens (Entry::load)",
    ),
];

/// Packages the benchmarks need besides the build's.
const BENCH_PACKAGES: &[(&str, &str)] = &[(
    "mosquitto",
    "the MQTT broker of the cue-latency baseline (QoS 1), started by the benchmark",
)];

/// Packages that windowed runs need on a machine without a GPU or a display.
const GUI_PACKAGES: &[(&str, &str)] = &[
    (
        "mesa-vulkan-drivers",
        "software Vulkan (lavapipe) where there is no GPU",
    ),
    (
        "xvfb",
        "a virtual display for screenshots and headless windows",
    ),
];

/// Packages that generate the synthetic voices (`cargo xtask voices`).
const VOICE_PACKAGES: &[(&str, &str)] = &[
    (
        "espeak-ng",
        "French synthetic voice for every participant text",
    ),
    (
        "vorbis-tools",
        "oggenc: voices stored as small Ogg Vorbis files",
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(args.iter().any(|a| a == "--gui")),
        Some("test") => test(),
        Some("bench") => bench(args.get(1..).unwrap_or_default()),
        Some("voices") => voices(),
        Some("package") => package::package(),
        Some("deps") => ensure_packages(
            BUILD_PACKAGES
                .iter()
                .chain(GUI_PACKAGES)
                .chain(VOICE_PACKAGES)
                .chain(BENCH_PACKAGES)
                .chain(package::PACKAGE_PACKAGES)
                .chain(package::DESKTOP_CHECK_PACKAGES),
        ),
        other => {
            if let Some(task) = other {
                eprintln!("unknown task {task:?}");
            }
            eprintln!(
                "usage: cargo xtask <demo [--gui] | test | bench [NAME…] | voices | package | deps>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root: the folder above `tools/xtask`.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs `f` as a named step and prints how long it took.
fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    eprintln!("==> {name}");
    let started = Instant::now();
    let result = f();
    let secs = started.elapsed().as_secs_f64();
    match &result {
        Ok(()) => eprintln!("<== {name}: ok in {secs:.1} s"),
        Err(_) => {
            eprintln!("<== {name}: FAILED after {secs:.1} s");
            report_disk();
        }
    }
    result.with_context(|| format!("step `{name}`"))
}

/// Prints the free space of the build folder's disk (`df -h`), so that a linker killed by a
/// full disk (a "Bus error" from `ld`) is named as such in the log of a failed step.
fn report_disk() {
    let target = target_dir();
    let _ = std::fs::create_dir_all(&target);
    match Command::new("df").arg("-h").arg(&target).output() {
        Ok(out) => eprintln!(
            "    disk of {}:\n{}",
            target.display(),
            String::from_utf8_lossy(&out.stdout).trim_end()
        ),
        Err(e) => eprintln!("    disk of {}: df failed: {e}", target.display()),
    }
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    run_with_env(program, args, &[])
}

fn run_with_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .with_context(|| format!("starting {program}"))?;
    if !status.success() {
        bail!("`{program} {}` exited with {status}", args.join(" "));
    }
    Ok(())
}

fn cargo(args: &[&str]) -> Result<()> {
    cargo_with_env(args, &[])
}

fn cargo_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run_with_env(&cargo, args, env)
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Installs whichever of `packages` are missing, with one apt-get call.
fn ensure_packages<'a>(packages: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> Result<()> {
    step("system packages", || {
        if Command::new("dpkg-query")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!(
                "    not a Debian system: install by hand what DEPENDENCIES in README.md lists"
            );
            return Ok(());
        }
        let missing: Vec<&str> = packages
            .into_iter()
            .filter(|(p, _)| !installed(p))
            .map(|(p, why)| {
                eprintln!("    missing {p} ({why})");
                *p
            })
            .collect();
        if missing.is_empty() {
            eprintln!("    all present");
            return Ok(());
        }
        let root_user = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let (program, mut prefix): (&str, Vec<&str>) = if root_user {
            ("env", vec![])
        } else {
            ("sudo", vec!["env"])
        };
        prefix.push("DEBIAN_FRONTEND=noninteractive");
        let mut update = prefix.clone();
        update.extend(["apt-get", "update", "-qq"]);
        run(program, &update)?;
        let mut install = prefix;
        install.extend(["apt-get", "install", "-y", "-qq", "--no-install-recommends"]);
        install.extend(&missing);
        run(program, &install)
    })
}

fn demo(gui: bool) -> Result<()> {
    if gui {
        ensure_packages(BUILD_PACKAGES.iter().chain(GUI_PACKAGES))?;
    } else {
        ensure_packages(BUILD_PACKAGES)?;
    }
    step("content check and summary (boussole-lint)", || {
        cargo(&[
            "run",
            "--quiet",
            "--package",
            "boussole-lint",
            "--",
            "content",
            "--summary",
        ])
    })?;
    step(
        "immersions and a whole S'cape attitudes game, headless (boussole-director run)",
        || {
            let dir = root().join("target/demo");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            // A fresh log each time, so the demo always shows one session.
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.join(format!("director.db{suffix}")));
            }
            // The group is enrolled in the register first (a person is one person across
            // sessions); the scripts name them by pseudonym.
            for (pseudonym, name, entered) in [
                ("Renard", "Awa Diallo", "2026-11-02"),
                ("Mouette", "", "2026-11-02"),
                ("Goéland", "Kevin Martin", "2026-11-09"),
                ("Phoque", "", "2026-11-09"),
                ("Dauphin", "", "2026-11-16"),
                ("Sterne", "", "2026-11-16"),
            ] {
                let mut args = vec![
                    "person",
                    "new",
                    "--pseudonym",
                    pseudonym,
                    "--entered",
                    entered,
                    "--prescriber",
                    "Mme Durand",
                    "--structure",
                    "PLIE — antenne de Grande-Synthe",
                ];
                if !name.is_empty() {
                    args.extend(["--name", name]);
                }
                director(&args)?;
            }
            // The morning's immersions (session 1), then the game (session 2), with the same
            // people.
            for script in ["demo_immersions.ron", "demo_scape_attitudes.ron"] {
                director(&["run", "--script", &format!("director/scripts/{script}")])?;
            }
            director(&["person", "list"])
        },
    )?;
    step(
        "draft syntheses, one PDF per participant (boussole-director synthesis)",
        || {
            let out = root().join("target/demo/syntheses");
            let out = out.to_string_lossy();
            director(&[
                "synthesis",
                "--session",
                "1",
                "--session",
                "2",
                "--out",
                &out,
            ])
        },
    )?;
    step(
        "the same game over QUIC: serve + six simulated devices",
        networked_demo,
    )?;
    if gui {
        step(
            "the facilitator's day from the console alone (close the window to finish)",
            gui_demo,
        )?;
    }
    Ok(())
}

/// The facilitator's day from the console alone, on a fresh store of its own: the console
/// starts the director of the day (first start: the passphrase and the recovery key, in the
/// window), and the room screen and a flat headset start beside it as real windows that find
/// the director on the local network and ask for the pairing code the console shows. When the
/// console closes, the devices and the director stop.
fn gui_demo() -> Result<()> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        anyhow::bail!(
            "no display: run `cargo xtask demo --gui` from a desktop session (or under \
             `xvfb-run -a` to check that it starts)"
        );
    }
    cargo(&[
        "build",
        "--quiet",
        "--package",
        "boussole-director",
        "--package",
        "boussole-console",
        "--package",
        "boussole-game",
    ])?;
    let bin = target_dir().join("debug");
    let dir = fresh_demo_dir("gui")?;
    let db = dir.join("regie/director.db");
    // Devices: the room screen, and a headset in a flat window (no VR runtime here). Each finds
    // the director on the local network once it is unlocked, then asks for the code.
    let screen = Command::new(bin.join("boussole-game"))
        .args(["--role", "screen", "--device", "ecran"])
        .arg("--data-dir")
        .arg(dir.join("ecran"))
        .current_dir(root())
        .spawn();
    let headset = Command::new(bin.join("boussole-game"))
        .args(["--role", "headset", "--flat", "--device", "casque_1"])
        .arg("--data-dir")
        .arg(dir.join("casque_1"))
        .current_dir(root())
        .spawn();
    let console = Command::new(bin.join("boussole-console"))
        .arg("--db")
        .arg(&db)
        .arg("--data")
        .arg(dir.join("console"))
        .current_dir(root())
        .status();
    for child in [screen, headset].into_iter().flatten() {
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
    }
    // The director outlives its console (as on a laptop): the demo stops it.
    if let Ok(pid) = std::fs::read_to_string(db.with_file_name("director.lock")) {
        let _ = Command::new("kill").args(["-TERM", pid.trim()]).status();
    }
    let status = console.context("starting boussole-console")?;
    anyhow::ensure!(status.success(), "the console ended with {status}");
    Ok(())
}

/// Runs `boussole-director` on the demo's database, with the demo's own passphrase (real
/// sessions take the facilitator's).
fn director(args: &[&str]) -> Result<()> {
    let db = root().join("target/demo/director.db");
    let db = db.to_string_lossy();
    let mut all = vec![
        "run",
        "--quiet",
        "--package",
        "boussole-director",
        "--",
        "--db",
        &db,
    ];
    all.extend_from_slice(args);
    cargo_with_env(&all, &[("BOUSSOLE_PASSPHRASE", "démonstration seulement")])
}

/// The folder cargo builds into.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// `target/demo/NAME`, emptied: each demo run starts from a fresh database and pairings.
fn fresh_demo_dir(name: &str) -> Result<PathBuf> {
    let dir = root().join("target/demo").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Starts `boussole-director serve` on loopback for the demo's database `db`, with the demo's
/// passphrase and pairing code and the facilitator `script`; returns the child and the address
/// it printed (`None` when it printed none), echoing its first lines.
fn start_serve(
    bin: &Path,
    db: &Path,
    script: &str,
) -> Result<(std::process::Child, Option<String>)> {
    use std::io::BufRead;
    let mut serve = Command::new(bin.join("boussole-director"))
        .arg("--db")
        .arg(db)
        .args([
            "serve",
            "--scenario",
            "scape_attitudes",
            "--bind",
            "127.0.0.1:0",
        ])
        .args(["--pairing-code", "246810", "--script", script])
        .env("BOUSSOLE_PASSPHRASE", "démonstration seulement")
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting boussole-director serve")?;
    let addr = serve.stdout.take().and_then(|out| {
        std::io::BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                eprintln!("    {line}");
                line.split_once("écoute sur ")
                    .map(|(_, a)| a.trim().to_owned())
            })
    });
    Ok((serve, addr))
}

/// Starts `serve` on loopback with the demo's facilitator script, lets six simulated devices pair
/// and play, stops the director, then prints the session from its encrypted log.
fn networked_demo() -> Result<()> {
    cargo(&[
        "build",
        "--quiet",
        "--package",
        "boussole-director",
        "--package",
        "boussole-sim",
    ])?;
    let bin = target_dir().join("debug");
    let dir = fresh_demo_dir("network")?;
    let db = dir.join("director.db");
    let db = db.to_string_lossy();
    let passphrase = ("BOUSSOLE_PASSPHRASE", "démonstration seulement");
    let (mut serve, addr) = start_serve(
        &bin,
        &dir.join("director.db"),
        "director/scripts/demo_network.ron",
    )?;
    let played = match addr {
        Some(addr) => run(
            &bin.join("boussole-sim").to_string_lossy(),
            &[
                "--director",
                &addr,
                "--code",
                "246810",
                "--scenario",
                "scape_attitudes",
                "--timeout-s",
                "300",
            ],
        ),
        None => Err(anyhow::anyhow!("serve printed no address")),
    };
    let _ = serve.kill();
    let _ = serve.wait();
    played?;
    run_with_env(
        &bin.join("boussole-director").to_string_lossy(),
        &["--db", &db, "session", "show", "1"],
        &[passphrase],
    )
}

fn test() -> Result<()> {
    // The console's screenshot test draws under Xvfb with software Vulkan; the package
    // metadata test validates the desktop entries with desktop-file-validate; the linter's
    // voice tests synthesise and encode voices.
    ensure_packages(
        BUILD_PACKAGES
            .iter()
            .chain(GUI_PACKAGES)
            .chain(package::DESKTOP_CHECK_PACKAGES)
            .chain(VOICE_PACKAGES),
    )?;
    step("cargo fmt --check", || {
        cargo(&["fmt", "--all", "--", "--check"])
    })?;
    step("cargo clippy -D warnings", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    let python = boris_python()?;
    let python = python.to_string_lossy();
    let aioquic = aioquic_python()?;
    let aioquic = aioquic.to_string_lossy();
    report_disk();
    step("cargo test", || {
        cargo_with_env(
            &["test", "--workspace", "--locked"],
            &[
                ("BOUSSOLE_BORIS_PYTHON", &python),
                ("BOUSSOLE_AIOQUIC_PYTHON", &aioquic),
            ],
        )
    })
}

/// The folder that keeps the test venvs: `$BOUSSOLE_CI_CACHE`, else `~/.cache/boussole`.
fn venv_cache() -> Result<PathBuf> {
    std::env::var_os("BOUSSOLE_CI_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/boussole")))
        .context("neither BOUSSOLE_CI_CACHE nor HOME is set: nowhere to keep the test venvs")
}

/// The Python that `tests/tests/e2e_foreign.rs` runs a QUIC client that is not ours with
/// (`tools/fixtures/foreign_quic.py`): a venv at `<cache>/venv-aioquic` holding aioquic 1.x.
/// Idempotent: pip runs only when the venv cannot import it. `python3-venv` comes with
/// [`boris_python`], called first.
fn aioquic_python() -> Result<PathBuf> {
    let cache = venv_cache()?;
    let venv = cache.join("venv-aioquic");
    let python = venv.join("bin/python");
    step("aioquic venv (a foreign QUIC client)", || {
        let ready = Command::new(&python)
            .args([
                "-c",
                "import importlib.metadata as m; \
                 assert m.version('aioquic').split('.')[0] == '1'",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if ready {
            eprintln!("    present in {}", venv.display());
            return Ok(());
        }
        std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
        run("python3", &["-m", "venv", &venv.to_string_lossy()])?;
        run(
            &python.to_string_lossy(),
            &["-m", "pip", "install", "--quiet", "aioquic>=1,<2"],
        )
    })?;
    Ok(python)
}

/// The Python that `director/tests/boris.rs` opens our BORIS export and computes BORIS's own
/// kappa on random codings with (`tools/fixtures/boris_check.py`, `boris_kappa.py`): a venv at
/// `$BOUSSOLE_CI_CACHE/venv-boris` (else `~/.cache/boussole/venv-boris`) holding
/// boris-behav-obs 8.27.4 (the BORIS the export targets), scikit-learn, icalendar 6.3.1 (that
/// reads back the plan's .ics in `director/tests/roadmap.rs`), and the Debian
/// libraries BORIS loads when its modules are imported. Idempotent: pip runs only when the
/// venv lacks either package at that version.
fn boris_python() -> Result<PathBuf> {
    const PACKAGES: &[(&str, &str)] = &[
        (
            "python3-venv",
            "a virtual environment for BORIS, the export tests' reference",
        ),
        (
            "libmpv2",
            "BORIS's media player, loaded when its modules are imported",
        ),
        (
            "libpulse-mainloop-glib0",
            "PulseAudio for the Qt multimedia BORIS imports",
        ),
    ];
    ensure_packages(PACKAGES)?;
    let cache = venv_cache()?;
    let venv = cache.join("venv-boris");
    let python = venv.join("bin/python");
    step("BORIS venv (BORIS 8.27.4, scikit-learn, icalendar)", || {
        let ready = Command::new(&python)
            .args([
                "-c",
                "import importlib.metadata as m, sklearn, icalendar; \
                 assert m.version('boris-behav-obs') == '8.27.4'; \
                 assert m.version('icalendar') == '6.3.1'",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if ready {
            eprintln!("    present in {}", venv.display());
            return Ok(());
        }
        std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
        run("python3", &["-m", "venv", &venv.to_string_lossy()])?;
        run(
            &python.to_string_lossy(),
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "boris-behav-obs==8.27.4",
                "scikit-learn",
                "icalendar==6.3.1",
            ],
        )
    })?;
    Ok(python)
}

fn voices() -> Result<()> {
    ensure_packages(VOICE_PACKAGES)?;
    step("voices (boussole-lint voices)", || {
        cargo(&[
            "run",
            "--quiet",
            "--package",
            "boussole-lint",
            "--",
            "voices",
            "content",
        ])
    })
}

/// Builds the benchmark and the two binaries it starts as processes (`boussole-director` and
/// `boussole-sim`, for start-up and peak memory) in release, then runs the benchmarks named
/// in `names` (all when empty).
fn bench(names: &[String]) -> Result<()> {
    ensure_packages(BUILD_PACKAGES.iter().chain(BENCH_PACKAGES))?;
    step("release build (bench, director, sim)", || {
        cargo(&[
            "build",
            "--release",
            "--locked",
            "--package",
            "boussole-bench",
            "--package",
            "boussole-director",
            "--package",
            "boussole-sim",
        ])
    })?;
    let mut args = vec![
        "run",
        "--release",
        "--locked",
        "--quiet",
        "--package",
        "boussole-bench",
        "--",
    ];
    args.extend(names.iter().map(String::as_str));
    step("benchmarks (release)", || cargo(&args))?;
    // The spectator's drawing needs a window: the console's example, under Xvfb with the
    // software Vulkan driver where there is no GPU.
    if names.is_empty() || names.iter().any(|n| n == "spectator") {
        ensure_packages(GUI_PACKAGES)?;
        step("release build (the console's spectator example)", || {
            cargo(&[
                "build",
                "--release",
                "--locked",
                "--package",
                "boussole-console",
                "--example",
                "spectator",
            ])
        })?;
        let example = target_dir().join("release/examples/spectator");
        let example = example.to_string_lossy();
        step("spectator drawing (release, under Xvfb)", || {
            run_with_env(
                "xvfb-run",
                &["-a", "-s", "-screen 0 1366x768x24", &example],
                &[("WGPU_BACKEND", "vulkan")],
            )
        })?;
    }
    Ok(())
}
