//! Benchmark of the spectator's drawing (run by `cargo xtask bench spectator`, release, under
//! Xvfb with the software Vulkan driver; never in CI): the console's renderer with six headsets'
//! views, each headset's pose arriving at 20 Hz (staggered), in a 1366×768 window whose egui
//! pass shows the six pictures, as on the devices screen.
//!
//! Prints, each beside the same run's baseline:
//! - the frame time with the six views, beside the same window with none (p50, p95);
//! - the picture latency: from a pose's arrival to the end of the frame whose render shows it
//!   or a newer pose of the same headset (p50, p95). The pose's path before it (headset →
//!   director → console) is the `spectator` benchmark of `boussole-bench`.
//!
//! `--poster PNG` shows the last headset in a 360° film with that poster frame (an absolute
//! path), and `--shot FILE` saves the window at the end: what a by-hand look at the film
//! backdrop needs, as no shipped immersion has a poster yet.

use bevy::diagnostic::FrameCount;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::window::{PresentMode, WindowResolution};
use bevy::winit::WinitSettings;
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass, egui};
use boussole_console::spectator::{Sights, orientation};
use boussole_console::spectator_view::{
    self, SpectatorContent, SpectatorPictures, SpectatorViewSystems, SpectatorWanted, Wanted,
};
use boussole_protocol::wire::Pose;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Headsets followed.
const HEADSETS: usize = 6;
/// Frames of each phase.
const FRAMES: usize = 400;
/// Frames let go before measuring (shaders compiled, scenes built).
const WARM_UP: usize = 150;
/// A pose every 50 ms per headset (20 Hz).
const POSE_EVERY: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    WarmUp,
    Baseline,
    Views,
    Done,
}

#[derive(Resource)]
struct Bench {
    phase: Phase,
    frames: usize,
    backdrops: Vec<boussole_console::spectator::Backdrop>,
    /// Per headset: the pose's sequence number, when the next comes.
    seq: Vec<u64>,
    next: Vec<Instant>,
    /// Arrivals (headset, seq, when) of the measured phase.
    arrivals: Vec<(usize, u64, Instant)>,
    /// Draws (main frame, headset, seq) of the measured phase.
    draws: Vec<(u32, usize, u64)>,
    last_frame: Option<Instant>,
    /// Where to save the window at the end.
    shot: Option<std::path::PathBuf>,
    baseline_ms: Vec<f64>,
    views_ms: Vec<f64>,
}

/// Render-world frame ends: (frame count as extracted, when).
#[derive(Resource, Clone, Default)]
struct Rendered(Arc<Mutex<Vec<(u32, Instant)>>>);

fn main() -> AppExit {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (content, report) = boussole_content::check(&root.join("content"), &root.join("assets"));
    if report.errors() > 0 {
        eprintln!("the content has errors");
        return AppExit::error();
    }
    let sights = Sights::of(&content);
    let mut backdrops: Vec<_> = sights.0.values().map(|s| s.backdrop.clone()).collect();
    backdrops.dedup();
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    backdrops.truncate(HEADSETS);
    if let Some(poster) = arg("--poster") {
        let film = boussole_console::spectator::Backdrop::Film { poster };
        if backdrops.len() < HEADSETS {
            backdrops.push(film);
        } else {
            backdrops[HEADSETS - 1] = film;
        }
    }
    let now = Instant::now();
    let rendered = Rendered::default();
    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: "Boussole — banc du spectateur".into(),
            resolution: WindowResolution::from((1366, 768)).with_scale_factor_override(1.0),
            present_mode: PresentMode::AutoNoVsync,
            ..default()
        }),
        ..default()
    }))
    .add_plugins(EguiPlugin::default())
    .add_plugins(spectator_view::plugin)
    .insert_resource(WinitSettings::game())
    .insert_resource(SpectatorContent::new(&content, &root.join("assets")))
    .insert_resource(Bench {
        phase: Phase::WarmUp,
        frames: 0,
        backdrops,
        seq: vec![0; HEADSETS],
        #[expect(clippy::cast_possible_truncation, reason = "six headsets")]
        next: (0..HEADSETS)
            .map(|i| now + POSE_EVERY * i as u32 / HEADSETS as u32)
            .collect(),
        arrivals: Vec::new(),
        draws: Vec::new(),
        last_frame: None,
        shot: arg("--shot").map(std::path::PathBuf::from),
        baseline_ms: Vec::new(),
        views_ms: Vec::new(),
    })
    .insert_resource(rendered.clone())
    .add_systems(Startup, |mut commands: Commands| {
        commands.spawn(Camera2d);
    })
    .add_systems(First, frame_time)
    .add_systems(Update, feed.before(SpectatorViewSystems))
    .add_systems(Update, record.after(SpectatorViewSystems))
    .add_systems(EguiPrimaryContextPass, draw);
    if let Some(render) = app.get_sub_app_mut(RenderApp) {
        render.insert_resource(rendered);
        render.add_systems(
            Render,
            (|frame: Res<FrameCount>, rendered: Res<Rendered>| {
                if let Ok(mut r) = rendered.0.lock() {
                    r.push((frame.0, Instant::now()));
                }
            })
            .in_set(RenderSystems::Cleanup),
        );
    }
    app.run()
}

fn frame_time(
    mut commands: Commands,
    mut bench: ResMut<Bench>,
    mut exit: MessageWriter<AppExit>,
    rendered: Res<Rendered>,
) {
    let now = Instant::now();
    let dt = bench
        .last_frame
        .map(|t| now.duration_since(t).as_secs_f64() * 1e3);
    bench.last_frame = Some(now);
    bench.frames += 1;
    match bench.phase {
        Phase::WarmUp if bench.frames >= WARM_UP => {
            bench.phase = Phase::Baseline;
            bench.frames = 0;
        }
        Phase::Baseline => {
            if let Some(dt) = dt {
                bench.baseline_ms.push(dt);
            }
            if bench.frames >= FRAMES {
                bench.phase = Phase::Views;
                bench.frames = 0;
            }
        }
        Phase::Views => {
            if let Some(dt) = dt {
                bench.views_ms.push(dt);
            }
            if bench.frames >= FRAMES {
                bench.phase = Phase::Done;
                bench.frames = 0;
                report(&mut bench, &rendered);
                match bench.shot.take() {
                    Some(file) => {
                        commands
                            .spawn(Screenshot::primary_window())
                            .observe(save_to_disk(file));
                    }
                    None => {
                        exit.write(AppExit::Success);
                    }
                }
            }
        }
        // A few frames for the screenshot to be written.
        Phase::Done if bench.frames > 30 => {
            exit.write(AppExit::Success);
        }
        _ => {}
    }
}

/// The six headsets' poses: a new one for each every 50 ms, the head turning; asked for in the
/// warm-up (to build everything) and the measured phase, none in the baseline.
fn feed(mut bench: ResMut<Bench>, mut wanted: ResMut<SpectatorWanted>) {
    if matches!(bench.phase, Phase::Baseline | Phase::Done) {
        return;
    }
    let now = Instant::now();
    let measuring = bench.phase == Phase::Views;
    for i in 0..HEADSETS {
        if now >= bench.next[i] {
            bench.seq[i] += 1;
            bench.next[i] += POSE_EVERY;
            if measuring {
                let seq = bench.seq[i];
                bench.arrivals.push((i, seq, now));
            }
        }
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let yaw = (bench.seq[i] as f32 * 3.0 + i as f32 * 60.0) % 360.0 - 180.0;
        let backdrop = bench.backdrops[i % bench.backdrops.len().max(1)].clone();
        wanted.0.push(Wanted {
            device: format!("casque_{i}"),
            backdrop,
            pose: Pose {
                device_ms: bench.seq[i],
                position_m: [0.0, 1.6, 0.0],
                orientation: orientation(yaw, -5.0),
                pointer: None,
                shows: None,
            },
            large: false,
        });
    }
}

fn record(mut bench: ResMut<Bench>, pictures: Res<SpectatorPictures>, frame: Res<FrameCount>) {
    if bench.phase != Phase::Views {
        return;
    }
    for (device, seq) in &pictures.drawn_now {
        if let Some(i) = device
            .strip_prefix("casque_")
            .and_then(|n| n.parse::<usize>().ok())
        {
            bench.draws.push((frame.0, i, *seq));
        }
    }
}

/// The six pictures in a window, as the devices screen shows them.
fn draw(mut contexts: EguiContexts, pictures: Res<SpectatorPictures>) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "banc".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    egui::Frame::central_panel(&ctx.global_style()).show(&mut root, |ui| {
        ui.heading("Ce que regardent les casques");
        let all: Vec<_> = pictures.textures.iter().collect();
        for row in all.chunks(3) {
            ui.horizontal(|ui| {
                for (device, texture) in row {
                    ui.vertical(|ui| {
                        ui.label(device.as_str());
                        ui.image((**texture, egui::vec2(260.0, 130.0)));
                    });
                }
            });
        }
    });
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "a rank"
    )]
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(bench: &mut Bench, rendered: &Rendered) {
    let frames = rendered.0.lock().map(|r| r.clone()).unwrap_or_default();
    // The render world sees the main world's frame count after its increment at the frame's
    // end: main frame N renders as N + 1.
    let done_at = |main: u32| frames.iter().find(|(f, _)| *f == main + 1).map(|(_, t)| *t);
    let mut latency = Vec::new();
    let mut unresolved = 0_usize;
    for (i, seq, at) in &bench.arrivals {
        let shown = bench
            .draws
            .iter()
            .filter(|(_, d, s)| d == i && s >= seq)
            .filter_map(|(f, _, _)| done_at(*f))
            .filter(|t| t >= at)
            .min();
        match shown {
            Some(t) => latency.push(t.duration_since(*at).as_secs_f64() * 1e3),
            None => unresolved += 1,
        }
    }
    for v in [&mut bench.baseline_ms, &mut bench.views_ms, &mut latency] {
        v.sort_by(f64::total_cmp);
    }
    let (b, v) = (&bench.baseline_ms, &bench.views_ms);
    println!(
        "spectator drawing, {HEADSETS} views of {}×{} px (at most {} drawn per frame, fewer when frames are slow), 1366×768 window, poses at 20 Hz each:",
        spectator_view::SMALL.x,
        spectator_view::SMALL.y,
        spectator_view::RENDERS_PER_FRAME
    );
    println!(
        "  frame time with the six views: p50 {:.2} ms, p95 {:.2} ms (n={})",
        percentile(v, 0.5),
        percentile(v, 0.95),
        v.len()
    );
    println!(
        "  frame time with no view (baseline, same window): p50 {:.2} ms, p95 {:.2} ms (n={})",
        percentile(b, 0.5),
        percentile(b, 0.95),
        b.len()
    );
    println!(
        "  ratio (p95) {:.2}",
        percentile(v, 0.95) / percentile(b, 0.95).max(1e-6)
    );
    println!(
        "  pose arrival → its picture rendered: p50 {:.2} ms, p95 {:.2} ms (n={}, {unresolved} poses not shown before the end)",
        percentile(&latency, 0.5),
        percentile(&latency, 0.95),
        latency.len()
    );
}
