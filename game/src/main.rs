//! `boussole-game --role headset|screen|terminal [--flat] [--headless] [--director HOST:PORT]`.

use anyhow::{Context, Result, bail};
use bevy::prelude::*;
use boussole_content::cue::DeviceRole;
use boussole_game::{LaunchOptions, plugin, window_title};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;

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
    /// What this device is in the room.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// Skip OpenXR (headset role): a flat window with mouse and keyboard.
    #[arg(long)]
    flat: bool,
    /// No window (tests, CI).
    #[arg(long)]
    headless: bool,
    /// The director, `HOST:PORT`; found on the local network when left out.
    #[arg(long)]
    director: Option<String>,
    /// Content folder (until content comes from the director).
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// Frames to run before exiting, with --headless.
    #[arg(long, default_value_t = 10)]
    frames: u32,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let role = match args.role {
        RoleArg::Headset => DeviceRole::Headset,
        RoleArg::Screen => DeviceRole::Screen,
        RoleArg::Terminal => DeviceRole::Terminal,
    };
    let assets = args
        .content
        .parent()
        .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"));
    let (_, report) = boussole_content::check(&args.content, &assets);
    if report.errors() > 0 {
        for p in &report.problems {
            eprintln!("{p}");
        }
        bail!(
            "the content under {} has {} errors",
            args.content.display(),
            report.errors()
        );
    }
    let options = LaunchOptions {
        flat: args.flat,
        headless: args.headless,
        director: args.director.clone(),
    };
    let mut app = App::new();
    if args.headless {
        app.add_plugins(MinimalPlugins)
            .add_plugins(plugin(role, options));
        for _ in 0..args.frames {
            app.update();
        }
        println!(
            "{}: {} frames run headless",
            window_title(role),
            args.frames
        );
        return Ok(());
    }
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: window_title(role),
            ..default()
        }),
        ..default()
    }))
    .add_plugins(plugin(role, options));
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => {
            Err(anyhow::anyhow!("exit code {code}")).context("running the game client")
        }
    }
}
