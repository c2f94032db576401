//! `boussole-bench`: prints figures for the targets the issues set, each beside a baseline
//! measured in the same run, so the ratio holds on a noisy machine. Run with
//! `cargo xtask bench [NAME…]` (release builds; never in CI); with no name, every benchmark.
//! The figures and the commands are in `BENCHMARKS.md`.
//!
//! | name | what | module |
//! | --- | --- | --- |
//! | `content` | content check, p50/p99/max | [`synthesis`] |
//! | `content-sync` | a headset's ~9 MB content by file: loopback, Wi-Fi-like, 5 % loss, beside a raw TCP copy | [`content_sync`] |
//! | `synthesis` | six syntheses (evaluation + PDF) | [`synthesis`] |
//! | `cue` | cue latency GO → applied, 1/6/20/50 clients, beside MQTT QoS 1 and raw UDP | [`cue`] |
//! | `skew` | start skew across 20 clients, loopback and shaped link | [`skew`] |
//! | `ingest` | durable events/s and ack p99, beside raw rusqlite | [`ingest`] |
//! | `startup` | director start → ready, device start → first snapshot | [`startup`] |
//! | `memory` | peak RSS of the director and of a client | [`memory`] |
//! | `spectator` | six headsets' poses → the console through the director, beside raw UDP | [`spectator`] |

mod common;
mod content_sync;
mod cue;
mod ingest;
mod memory;
mod mosquitto;
mod skew;
mod spectator;
mod startup;
mod synthesis;

use anyhow::{Context, Result, bail};

/// Every benchmark, by name, in the order `cargo xtask bench` runs them.
const NAMES: [&str; 9] = [
    "content",
    "content-sync",
    "synthesis",
    "cue",
    "skew",
    "ingest",
    "startup",
    "memory",
    "spectator",
];

/// A multi-threaded Tokio runtime with the machine's cores as workers (2 here): the director,
/// the devices and the baselines share them, as on a facilitator's laptop.
///
/// # Errors
/// The runtime cannot start.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the Tokio runtime")
}

fn main() -> Result<()> {
    let mut chosen: Vec<String> = std::env::args().skip(1).collect();
    if chosen.is_empty() {
        chosen = NAMES.iter().map(|n| (*n).to_owned()).collect();
    }
    for name in &chosen {
        if !NAMES.contains(&name.as_str()) {
            bail!("unknown benchmark {name:?}; known: {}", NAMES.join(", "));
        }
    }
    for name in &chosen {
        match name.as_str() {
            "content" => synthesis::content(),
            "content-sync" => content_sync::run()?,
            "synthesis" => synthesis::run()?,
            "cue" => cue::run()?,
            "skew" => skew::run()?,
            "ingest" => ingest::run()?,
            "startup" => startup::run()?,
            "memory" => memory::run()?,
            "spectator" => spectator::run()?,
            _ => {}
        }
    }
    Ok(())
}
