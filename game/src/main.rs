//! `boussole-game [--role headset|screen|terminal] [--flat] [--headless] [--director HOST:PORT]
//! [--station ID] [--code CODE] [--preview SCENARIO --screenshots DIR]`.
//!
//! Without `--role` the device plays the role the facilitator gave it from the console, kept
//! in its data folder; a device given none yet pairs, then waits for one. Given a new role,
//! the process starts itself again in it.

use anyhow::{Context, Result, anyhow, bail};
use bevy::app::ScheduleRunnerPlugin;
use bevy::prelude::*;
use bevy::window::WindowResolution;
use boussole_content::cue::DeviceRole;
use boussole_content::ids::StationId;
use boussole_game::autostart::Autostart;
use boussole_game::content::GameContent;
use boussole_game::headless::StatsFile;
use boussole_game::kiosk::{KioskLaunch, KioskUnit};
use boussole_game::net::plugin::NetLink;
use boussole_game::net::{DeviceLink, LinkConfig};
use boussole_game::placement::{RoleFile, read_role, waiting_plugin};
use boussole_game::third_party::audio::{AudioOutput, probe_output};
use boussole_game::third_party::xr::xr_plugins;
use boussole_game::{LaunchOptions, plugin, window_title};
use boussole_protocol::content_sync::current_tree;
use boussole_protocol::discovery::parse_director_addr;
use boussole_protocol::manifest::{Catalog, wire_role};
use boussole_protocol::pairing::PairingCode;
use boussole_protocol::wire::Role as WireRole;
use boussole_protocol::{DeviceId, ParticipantId};
use clap::{Parser, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RoleArg {
    Headset,
    Screen,
    Terminal,
}

/// The Boussole game client.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// What this device is in the room, fixed (scripts, tests); else the console gives it.
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
    /// Skip OpenXR (headset role): a flat window with mouse and keyboard.
    #[arg(long)]
    flat: bool,
    /// No window (tests, CI): commands on standard input, status lines on standard output.
    #[arg(long)]
    headless: bool,
    /// The director, `HOST:PORT`; found on the local network when left out.
    #[arg(long)]
    director: Option<String>,
    /// Content folder used until the director's content is downloaded.
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// This device's name, as registered at the director (default: ROLE-HOSTNAME with
    /// `--role`, else poste-HOSTNAME).
    #[arg(long)]
    device: Option<String>,
    /// The station this device stands at (terminals).
    #[arg(long)]
    station: Option<String>,
    /// The participant at this device, when fixed (`P3`).
    #[arg(long)]
    participant: Option<String>,
    /// The pairing code shown by the director (kiosk set-up; else the keypad asks).
    #[arg(long)]
    code: Option<String>,
    /// Where the pairing, the outbox and downloaded content live.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// With --headless: write the link's counters here (RON) on quit.
    #[arg(long)]
    stats: Option<PathBuf>,
    /// With --headless: run this many frames, then stop (else until `quit` or end of input).
    #[arg(long)]
    frames: Option<u32>,
    /// Headsets: run this immersion at start, without a director (the tutorial first).
    #[arg(long)]
    immersion: Option<String>,
    /// Show the role's screens for this scenario without a director.
    #[arg(long)]
    preview: Option<String>,
    /// With --preview: capture every screen into this folder, then quit.
    #[arg(long)]
    screenshots: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let fixed = args.role.map(|r| match r {
        RoleArg::Headset => DeviceRole::Headset,
        RoleArg::Screen => DeviceRole::Screen,
        RoleArg::Terminal => DeviceRole::Terminal,
    });
    let device = DeviceId::from(
        args.device
            .clone()
            .unwrap_or_else(|| match args.role {
                Some(role) => format!("{role:?}-{}", hostname()).to_lowercase(),
                None => format!("poste-{}", hostname()),
            })
            .as_str(),
    );
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| boussole_game::net::link::default_data_dir(&device));
    let role_file = data_dir.join("role");
    let role = fixed.or_else(|| read_role(&role_file));
    let played = play(&args, role, &device, data_dir, &role_file);
    // Given another role from the console: start again in it (a role fixed at start stays).
    if played.is_ok() && fixed.is_none() {
        let kept = read_role(&role_file);
        if kept.is_some() && kept != role {
            let exe = std::env::current_exe().context("finding this program's path")?;
            let err = std::os::unix::process::CommandExt::exec(
                std::process::Command::new(exe).args(std::env::args_os().skip(1)),
            );
            return Err(anyhow!("restarting in the role the console gave: {err}"));
        }
    }
    played
}

/// Runs this device as `role` (`None`: waiting for the console to give it one) until the app
/// ends.
fn play(
    args: &Args,
    role: Option<DeviceRole>,
    device: &DeviceId,
    data_dir: PathBuf,
    role_file: &Path,
) -> Result<()> {
    let role_file = RoleFile(args.role.is_none().then(|| role_file.to_path_buf()));
    let Some(role) = role else {
        return wait_for_role(args, device, data_dir, role_file);
    };
    // The content fetched from the director last, else the folder given (or the default).
    let synced = current_tree(&data_dir.join("content"));
    let (content_dir, assets_dir) = if let Some((tree, _)) = &synced {
        (tree.join("content"), tree.join("assets"))
    } else {
        (args.content.clone(), assets_of(&args.content))
    };
    // A device without content (or with content that does not load) still starts: the
    // director's is downloaded once connected.
    let content = match GameContent::load(&content_dir, &assets_dir) {
        Ok(c) => c,
        Err(e) if args.preview.is_none() => {
            warn!("{e}; the director's content will be downloaded");
            GameContent::default()
        }
        Err(e) => return Err(e.into()),
    };
    let options = LaunchOptions {
        flat: args.flat,
        headless: args.headless,
        director: args.director.clone(),
        station: args.station.as_deref().map(StationId::from),
        participant: args.participant.as_deref().map(ParticipantId::from),
        immersion: args.immersion.clone(),
    };
    if let Some(scenario) = &args.preview {
        let scenario = content
            .scenario(scenario)
            .ok_or_else(|| anyhow!("no scenario {scenario} under {}", content_dir.display()))?;
        // Headsets preview every immersion, the tutorial first.
        let mut immersions: Vec<_> = content.immersions.clone();
        immersions.sort_by_key(|i| (!i.tutorial, i.id.to_string()));
        let immersions = immersions.iter().map(|i| i.id.to_string()).collect();
        let mut app = windowed(role, options, content);
        app.add_plugins(boussole_game::preview::plugin(
            Some(role),
            scenario,
            immersions,
            args.screenshots.clone(),
        ));
        return run(app);
    }
    let mut config = link_config(args, device, wire_role(role), data_dir)?;
    config.content_hash = match synced {
        Some((_, hash)) => hash,
        None => content_hash(&content_dir, &assets_dir, role),
    };
    let link = DeviceLink::start(config).context("starting the link to the director")?;
    if args.headless {
        let mut app = App::new();
        app.add_plugins(
            MinimalPlugins.set(ScheduleRunnerPlugin::run_loop(Duration::from_millis(16))),
        )
        .add_plugins(plugin(role, options))
        .add_plugins(boussole_game::headless::plugin)
        .insert_resource(content)
        .insert_resource(AudioOutput { available: false })
        .insert_resource(StatsFile(args.stats.clone()))
        .insert_resource(role_file)
        .insert_resource(NetLink(link));
        if let Some(frames) = args.frames {
            for _ in 0..frames {
                app.update();
            }
            println!("{}: {frames} frames run headless", window_title(role));
            return Ok(());
        }
        return run(app);
    }
    let mut app = windowed(role, options, content);
    app.insert_resource(NetLink(link))
        .insert_resource(role_file);
    match autostart(args) {
        Ok(autostart) => {
            app.insert_resource(autostart);
        }
        Err(e) => warn!("{e}"),
    }
    run(app)
}

/// The automatic start of this device as it runs now: this executable with the options that
/// make it this device (never `--code`: the pairing is kept on disk).
fn autostart(args: &Args) -> Result<Autostart> {
    let launch = KioskLaunch {
        role: args.role.map(|r| format!("{r:?}").to_lowercase()),
        flat: args.flat,
        director: args.director.clone(),
        content: Some(args.content.clone()),
        device: args.device.clone(),
        station: args.station.clone(),
        participant: args.participant.clone(),
        data_dir: args.data_dir.clone(),
    };
    let exe = std::env::current_exe().context("finding this program's path")?;
    let cwd = std::env::current_dir().context("finding the current folder")?;
    Ok(Autostart {
        unit: KioskUnit::for_user(launch.command_line(&exe, &cwd))?,
        message: None,
    })
}

/// The link's settings for `device` announcing `role`: the director given, else discovered;
/// the code given, else typed on the device's keypad.
fn link_config(
    args: &Args,
    device: &DeviceId,
    role: WireRole,
    data_dir: PathBuf,
) -> Result<LinkConfig> {
    let mut config = LinkConfig::new(device.clone(), role, data_dir);
    config.director = match &args.director {
        Some(text) => Some(
            parse_director_addr(text)?
                .resolve()?
                .into_iter()
                .next()
                .ok_or_else(|| anyhow!("{text} does not resolve"))?,
        ),
        None => None,
    };
    config.pairing_code = match &args.code {
        Some(code) => Some(PairingCode::parse(code).map_err(|e| anyhow!("--code: {e}"))?),
        None => None,
    };
    Ok(config)
}

/// A device without a role: pairs (the code typed on its keypad, or given), says so to the
/// director, and waits on a screen of its own until the console gives it one, which ends the
/// app (`main` starts again in that role). It holds no content meanwhile.
fn wait_for_role(
    args: &Args,
    device: &DeviceId,
    data_dir: PathBuf,
    role_file: RoleFile,
) -> Result<()> {
    let options = LaunchOptions {
        flat: true,
        headless: args.headless,
        director: args.director.clone(),
        ..LaunchOptions::default()
    };
    let waiting = waiting_plugin(options, device.to_string());
    let mut app = App::new();
    if args.headless {
        app.add_plugins(
            MinimalPlugins.set(ScheduleRunnerPlugin::run_loop(Duration::from_millis(16))),
        );
        println!("{device}: waiting for a role from the console");
    } else {
        app.add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title: "Boussole — poste".into(),
                resolution: WindowResolution::new(1280, 800).with_scale_factor_override(1.0),
                ..default()
            }),
            ..default()
        }));
        match autostart(args) {
            Ok(autostart) => {
                app.insert_resource(autostart);
            }
            Err(e) => warn!("{e}"),
        }
    }
    app.add_plugins(waiting).insert_resource(role_file);
    if let Some(scenario) = &args.preview {
        // Its screens without a director (the scenario only feeds the pairing step's state).
        let content = GameContent::load(&args.content, &assets_of(&args.content))?;
        let scenario = content
            .scenario(scenario)
            .ok_or_else(|| anyhow!("no scenario {scenario} under {}", args.content.display()))?;
        app.add_plugins(boussole_game::preview::plugin(
            None,
            scenario,
            Vec::new(),
            args.screenshots.clone(),
        ));
        return run(app);
    }
    let config = link_config(args, device, WireRole::Unassigned, data_dir)?;
    let link = DeviceLink::start(config).context("starting the link to the director")?;
    app.insert_resource(NetLink(link));
    run(app)
}

/// The assets folder beside a content folder (`content/` → `assets/`).
fn assets_of(content: &Path) -> PathBuf {
    content
        .parent()
        .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"))
}

/// A windowed app for `role`: 1280×800 (a common tablet and room PC), scale 1. A headset
/// without `--flat` adds OpenXR's plugins, which fall back to this same window when OpenXR
/// does not start (the headset plugin reads the outcome).
fn windowed(role: DeviceRole, options: LaunchOptions, content: GameContent) -> App {
    let mut app = App::new();
    let plugins = DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: window_title(role),
            resolution: WindowResolution::new(1280, 800).with_scale_factor_override(1.0),
            ..default()
        }),
        ..default()
    });
    if role == DeviceRole::Headset && !options.flat {
        app.add_plugins(xr_plugins(plugins));
    } else {
        app.add_plugins(plugins);
    }
    app.add_plugins(plugin(role, options))
        .insert_resource(content)
        .insert_resource(AudioOutput {
            available: probe_output(),
        });
    app
}

fn run(mut app: App) -> Result<()> {
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => bail!("the game client stopped with code {code}"),
    }
}

/// The manifest hash of what these folders hold for `role` (all zeros when they cannot be
/// read: the director's content is then fetched).
fn content_hash(content: &Path, assets: &Path, role: DeviceRole) -> [u8; 32] {
    match Catalog::build(content, assets) {
        Ok(c) => c.manifest(role).hash(),
        Err(e) => {
            warn!("local content unusable, the director's will be fetched: {e}");
            [0; 32]
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "appareil".into())
}
