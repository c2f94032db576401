//! `boussole-bench`: prints figures for the targets the issues set. Run with `cargo xtask bench`.
//!
//! Content check: the shipped content folder, parsed and validated, must take "well under a
//! second" (foundation issue); this prints p50, p99 and max over repeated runs.

use std::path::PathBuf;
use std::time::Instant;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(rank).copied().unwrap_or(f64::NAN)
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
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
