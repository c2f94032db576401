//! `boussole-lint`: checks a content folder and prints every problem with file, line and column;
//! also writes a scenario's facilitator guide and generates missing voices.
//!
//! ```text
//! boussole-lint content/                          # human-readable, exit 1 on any error
//! boussole-lint content/ --json                   # one JSON object for machines
//! boussole-lint content/ --summary                # and a French summary of the content
//! boussole-lint guide scape_attitudes -o g.md     # the facilitator's guide, from the RON alone
//! boussole-lint voices content/                   # give every text a voice (espeak-ng, oggenc)
//! boussole-lint import-360 quai.mp4 --id quai      # a 360° film in, an immersion to fill
//! boussole-lint voice-script -o script.txt        # the numbered lines a speaker records
//! boussole-lint voice-import --script script.txt --from enregistrements/ --speaker "Nadia B."
//! ```

mod import;
mod media;
mod voices;

use anyhow::{Context, Result, bail};
use boussole_content::{check, guide_md, summary_fr};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Checks Boussole content: RON syntax and types, references, unlock graphs, keys, scenes,
/// competencies, media and cue targets.
#[derive(Parser, Debug)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a content folder (the default).
    Check(CheckArgs),
    /// Write the facilitator's guide of a scenario, in French Markdown.
    Guide {
        /// The scenario id (`scape_attitudes`).
        scenario: String,
        #[command(flatten)]
        folders: Folders,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Give a voice to every participant text: add `audio:` to texts that have none, and
    /// synthesise every missing voice file with espeak-ng (French) and oggenc.
    Voices {
        #[command(flatten)]
        folders: Folders,
        /// Only say what would be done.
        #[arg(long)]
        dry_run: bool,
    },
    /// Bring a 360° film in: probe it, transcode it when the headset would not play it
    /// smoothly, write its poster frame and an immersion to fill.
    #[command(name = "import-360")]
    Import360 {
        /// The film, as the camera's software exported it.
        film: PathBuf,
        /// The immersion's id (default: from the file name).
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        folders: Folders,
    },
    /// Write the recording script: the numbered lines a speaker records, one file per number.
    VoiceScript {
        #[command(flatten)]
        folders: Folders,
        /// The script to write (plain text, UTF-8).
        #[arg(short, long)]
        output: PathBuf,
        /// Every voice, not only those not recorded yet (or recorded for an older text).
        #[arg(long)]
        all: bool,
    },
    /// Add recorded voices: a folder of files named by the script's numbers (0001.wav, 0002.ogg…).
    VoiceImport {
        #[command(flatten)]
        folders: Folders,
        /// The script the speaker read (written by voice-script).
        #[arg(long)]
        script: PathBuf,
        /// The folder of recordings.
        #[arg(long)]
        from: PathBuf,
        /// Who read them.
        #[arg(long)]
        speaker: String,
    },
}

#[derive(Args, Debug)]
struct Folders {
    /// The content folder (holding scenarios/, immersions/, scenes/, grids/, rubrics/).
    #[arg(default_value = "content")]
    content: PathBuf,
    /// The media folder; defaults to `assets/` beside the content folder.
    #[arg(long)]
    assets: Option<PathBuf>,
}

impl Folders {
    fn assets(&self) -> PathBuf {
        self.assets.clone().unwrap_or_else(|| {
            self.content
                .canonicalize()
                .ok()
                .and_then(|c| c.parent().map(|p| p.join("assets")))
                .unwrap_or_else(|| PathBuf::from("assets"))
        })
    }

    fn content(&self) -> Result<&Path> {
        if !self.content.is_dir() {
            bail!("{} is not a folder", self.content.display());
        }
        Ok(&self.content)
    }
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    folders: Folders,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also print a French summary of the content.
    #[arg(long)]
    summary: bool,
    /// List every text that has no audio yet (otherwise only counted).
    #[arg(long)]
    missing_audio: bool,
    /// Do not decode the media files (faster while editing; that they exist is still checked).
    #[arg(long)]
    no_media: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run_check(&cli.check),
        Some(Command::Check(args)) => run_check(&args),
        Some(Command::Guide {
            scenario,
            folders,
            output,
        }) => run_guide(&scenario, &folders, output.as_deref()),
        Some(Command::Voices { folders, dry_run }) => folders
            .content()
            .and_then(|c| voices::run(c, &folders.assets(), dry_run)),
        Some(Command::Import360 { film, id, folders }) => folders.content().and_then(|c| {
            let done = import::import(&film, id.as_deref(), c, &folders.assets())?;
            println!(
                "film {} ({}) : {}",
                done.film,
                match done.layout {
                    boussole_video::import::Layout::Mono => "mono",
                    boussole_video::import::Layout::StereoTopBottom => "stéréo haut-bas",
                },
                if done.transcoded.is_empty() {
                    "copié tel quel (il convient au casque)".to_owned()
                } else {
                    format!("converti, car {}", done.transcoded.join(" ; "))
                }
            );
            println!("affiche : {}", done.poster);
            match &done.skeleton {
                Some(path) => println!(
                    "immersion à compléter : {} (le vérificateur dit ce qui manque)",
                    path.display()
                ),
                None => println!(
                    "une immersion « {} » existe déjà : elle n'a pas été modifiée",
                    done.id
                ),
            }
            Ok(true)
        }),
        Some(Command::VoiceScript {
            folders,
            output,
            all,
        }) => folders.content().and_then(|c| {
            let n = voices::write_script(c, &folders.assets(), &output, all)?;
            println!("{n} lines to record in {}", output.display());
            Ok(true)
        }),
        Some(Command::VoiceImport {
            folders,
            script,
            from,
            speaker,
        }) => folders.content().and_then(|c| {
            let (done, refused) = voices::import(c, &folders.assets(), &script, &from, &speaker)?;
            for why in &refused {
                println!("refused: {why}");
            }
            println!("{done} recorded voices added, {} refused", refused.len());
            Ok(refused.is_empty())
        }),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("boussole-lint: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Returns whether the content has no error.
fn run_check(args: &CheckArgs) -> Result<bool> {
    let content = args.folders.content()?;
    let started = Instant::now();
    let assets = args.folders.assets();
    let (set, mut report) = check(content, &assets);
    report
        .problems
        .extend(voices::stale_voices(&assets, &report.media));
    if !args.no_media {
        report.problems.extend(media::check(&assets, &report.media));
        report.problems.sort_by(|a, b| {
            (&a.file, a.line, a.column, a.severity).cmp(&(&b.file, b.line, b.column, b.severity))
        });
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if args.json {
        let out = serde_json::json!({
            "files": report.files,
            "errors": report.errors(),
            "warnings": report.warnings(),
            "elapsed_ms": (elapsed_ms * 10.0).round() / 10.0,
            "problems": report.problems,
            "missing_audio": report.missing_audio,
            "media_decoded": if args.no_media { 0 } else { report.media.len() },
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(report.errors() == 0);
    }
    for p in &report.problems {
        println!("{p}");
    }
    if args.missing_audio {
        for m in &report.missing_audio {
            println!(
                "{}:{}:{}: no audio: {:?}",
                m.file.display(),
                m.line,
                m.column,
                m.fr
            );
        }
    }
    if report.files == 0 {
        println!("warning: no content file under {}", content.display());
    }
    let hint = if report.missing_audio.is_empty() || args.missing_audio {
        ""
    } else {
        " (--missing-audio lists them)"
    };
    let media = if args.no_media {
        String::new()
    } else {
        format!(" and {} media files decoded", report.media.len())
    };
    println!(
        "{} files checked{media} in {elapsed_ms:.1} ms: {} errors, {} warnings, {} texts without audio{hint}",
        report.files,
        report.errors(),
        report.warnings(),
        report.missing_audio.len(),
    );
    if args.summary {
        println!("\n{}", summary_fr(&set, &report));
    }
    Ok(report.errors() == 0)
}

fn run_guide(scenario: &str, folders: &Folders, output: Option<&Path>) -> Result<bool> {
    let (set, report) = check(folders.content()?, &folders.assets());
    if report.errors() > 0 {
        for p in &report.problems {
            eprintln!("{p}");
        }
        bail!(
            "the content has {} errors: fix them before writing a guide",
            report.errors()
        );
    }
    let Some(guide) = guide_md(&set, scenario) else {
        let known: Vec<&str> = set.scenarios.iter().map(|s| s.value.id.as_str()).collect();
        bail!("no scenario {scenario:?} (known: {})", known.join(", "));
    };
    match output {
        Some(path) => {
            std::fs::write(path, guide).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{guide}"),
    }
    Ok(true)
}
