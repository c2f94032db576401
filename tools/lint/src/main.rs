//! `boussole-lint`: checks a content folder and prints every problem with file, line and column.
//!
//! ```text
//! boussole-lint content/                 # human-readable, exit 1 on any error
//! boussole-lint content/ --json          # one JSON object for machines
//! boussole-lint content/ --summary       # and a French summary of the content
//! ```

use anyhow::Result;
use boussole_content::{ContentSet, Report, summary_fr, validate};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Checks Boussole content: RON syntax and types, references, unlock graphs, keys, scenes,
/// competencies, media and cue targets.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The content folder (holding scenarios/, immersions/, scenes/, grids/, rubrics/).
    #[arg(default_value = "content")]
    content: PathBuf,
    /// The media folder; defaults to `assets/` beside the content folder.
    #[arg(long)]
    assets: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also print a French summary of the content.
    #[arg(long)]
    summary: bool,
    /// List every text that has no audio yet (otherwise only counted).
    #[arg(long)]
    missing_audio: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("boussole-lint: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Returns whether the content has no error.
fn run() -> Result<bool> {
    let args = Args::parse();
    if !args.content.is_dir() {
        anyhow::bail!("{} is not a folder", args.content.display());
    }
    let assets = args.assets.clone().unwrap_or_else(|| {
        args.content
            .canonicalize()
            .ok()
            .and_then(|c| c.parent().map(|p| p.join("assets")))
            .unwrap_or_else(|| PathBuf::from("assets"))
    });
    let started = Instant::now();
    let (set, parse_problems) = ContentSet::load_dir(&args.content);
    let report = if parse_problems.is_empty() {
        validate(&set, &assets)
    } else {
        Report {
            files: set.len() + parse_problems.len(),
            problems: parse_problems,
            missing_audio: Vec::new(),
        }
    };
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if args.json {
        let out = serde_json::json!({
            "files": report.files,
            "errors": report.errors(),
            "warnings": report.warnings(),
            "elapsed_ms": elapsed_ms,
            "problems": report.problems,
            "missing_audio": report.missing_audio,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
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
            println!("warning: no content file under {}", args.content.display());
        }
        println!(
            "{} files checked in {elapsed_ms:.1} ms: {} errors, {} warnings, {} texts without audio{}",
            report.files,
            report.errors(),
            report.warnings(),
            report.missing_audio.len(),
            if report.missing_audio.is_empty() || args.missing_audio {
                ""
            } else {
                " (--missing-audio lists them)"
            },
        );
        if args.summary && parse_problems_free(&report) {
            println!("\n{}", summary_fr(&set, &report));
        }
    }
    Ok(report.errors() == 0)
}

fn parse_problems_free(report: &Report) -> bool {
    !report.problems.iter().any(|p| {
        matches!(
            p.code,
            boussole_content::Code::Syntax
                | boussole_content::Code::Io
                | boussole_content::Code::UnknownField
                | boussole_content::Code::MissingField
                | boussole_content::Code::UnknownVariant
        )
    })
}
