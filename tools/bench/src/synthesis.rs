//! The content check (the shipped content folder parsed and validated; "well under a second",
//! foundation issue) and the syntheses (the six participants of the demo, immersions then the
//! game, evaluated and written as PDF; under 3 s in release, evaluation issue): p50, p99 and
//! max over repeated runs, and the share of the budget the p99 uses.

use crate::common::{percentile, repo_root};
use anyhow::{Context, Result};
use boussole_director::record::{SessionRecord, SynthesisOptions, build};
use boussole_director::register::{PersonSession, person_sessions};
use boussole_director::script;
use boussole_director::session::Session;
use boussole_director::store::Store;
use boussole_synthesis::{Audience, Renderer};
use std::path::Path;
use std::time::Instant;

/// Times the content check.
pub fn content() {
    content_check(&repo_root());
}

/// Times the syntheses.
///
/// # Errors
/// The demo scripts fail to play or a synthesis fails.
pub fn run() -> Result<()> {
    syntheses(&repo_root())
}

fn content_check(root: &Path) {
    let content = root.join("content");
    let assets = root.join("assets");
    let runs = 200;
    let mut ms = Vec::with_capacity(runs);
    let mut files = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let (_, report) = boussole_content::check(&content, &assets);
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        files = report.files;
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "content check ({files} files, {runs} runs): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; budget 1000 ms, p99 uses {:.2}% of it",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN),
        percentile(&ms, 0.99) / 10.0
    );
}

/// Plays the two demo scripts into a fresh store, then times six syntheses per round.
fn syntheses(root: &Path) -> Result<()> {
    let (set, report) = boussole_content::check(&root.join("content"), &root.join("assets"));
    anyhow::ensure!(report.errors() == 0, "the shipped content has errors");
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    for (i, name) in ["demo_immersions.ron", "demo_scape_attitudes.ron"]
        .iter()
        .enumerate()
    {
        let path = root.join("director/scripts").join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let sc = script::parse(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let store = Store::open(&db, "bench")?;
        let created = 1_796_032_800_000 + i as i64 * 3_600_000;
        let mut session = Session::create(store, &set, &sc.scenario, &sc.label, created)?;
        script::run(&mut session, &sc)?;
    }
    // Each person's sessions, through the register (the scripts share their people by
    // pseudonym), replayed once before the timing.
    let store = Store::open(&db, "bench")?;
    let mut people: Vec<Vec<PersonSession>> = Vec::new();
    for person in store.persons()? {
        let mine = person_sessions(&store, &set, &person.id, &[])?;
        if !mine.is_empty() {
            people.push(mine);
        }
    }
    let opts = SynthesisOptions {
        audience: Audience::Counsellor,
        final_version: false,
        shown_name: None,
        pseudonym: None,
        rater: None,
        programme: "La Boussole de l'orientation".into(),
        organisation: "PLIE".into(),
        facilitator: "Animatrice".into(),
        today_unix_ms: 1_796_292_000_000,
        consent_unix_ms: None,
    };
    let started = Instant::now();
    let renderer = Renderer::new();
    let fonts_ms = started.elapsed().as_secs_f64() * 1000.0;
    let rounds = 20;
    let mut ms = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        bytes = 0;
        for mine in &people {
            let records: Vec<SessionRecord<'_>> = mine.iter().map(PersonSession::record).collect();
            let doc = build(&records, &set, &opts)?;
            bytes += renderer.pdf(&doc)?.len();
        }
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    let p99 = percentile(&ms, 0.99);
    println!(
        "syntheses ({} participants, 2 sessions, {} KiB of PDF, {rounds} rounds): fonts loaded once in {fonts_ms:.0} ms; six PDFs p50 {:.0} ms, p99 {p99:.0} ms, max {:.0} ms; budget 3000 ms, p99 uses {:.1}% of it",
        people.len(),
        bytes / 1024,
        percentile(&ms, 0.5),
        ms.last().copied().unwrap_or(f64::NAN),
        p99 / 30.0
    );
    Ok(())
}
