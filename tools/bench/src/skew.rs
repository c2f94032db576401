//! Start skew of a synchronised cue across 20 simulated room screens, on loopback and through
//! a shaped Wi-Fi-like link (20 ms ± 15 ms each way, 1 % loss, through `boussole-sim`'s
//! seeded [`FaultProxy`]; [`WIFI`]), each screen
//! with its own clock offset (−5 s to +4.5 s) and drift (−95 to +95 ppm), so the clock sync
//! has real work to do.
//!
//! Two skews per cue, each the spread (max − min) over the 20 screens of a true instant (this
//! process's monotonic clock):
//! - **scheduled start**: where each screen's clock sync puts the cue's `start_at_ms` (director
//!   clock) on its own clock, brought back to true time through the screen's known offset and
//!   drift. This is the skew of a cue scheduled ahead of its delivery: the clock sync's work.
//! - **on arrival**: when each screen applied the cue. The director stamps a firing with the
//!   time it fires (no lead), so a screen receives it after its start and starts at once: this
//!   is the delivery spread, the baseline a synchronised start has to beat.
//!
//! Target (issue "Benchmarks"): skew ≤ 5 ms, even on the shaped links.

use crate::common::{BenchDirector, Summary, ms, stop_all};
use anyhow::{Result, anyhow};
use boussole_director::engine::{Command, Effect, Input};
use boussole_sim::proxy::{FaultProxy, LinkFaults, ProxyConfig};
use std::time::{Duration, Instant};

/// A Wi-Fi-like link (issue "Benchmarks"): 20 ms ± 15 ms each way (5 ms fixed plus a uniform
/// draw in 0–30 ms, which reorders), 1 % loss.
const WIFI: LinkFaults = LinkFaults {
    loss: 0.01,
    delay: Duration::from_millis(5),
    jitter: Duration::from_millis(30),
};

/// Seed of the proxy's draws.
const SEED: u64 = 20_251_001;

/// Screens.
const CLIENTS: usize = 20;

/// Cues fired, one a second after the warm-up.
const CUES: usize = 40;

/// Clock pings before the first cue (a ping every 500 ms: ten samples).
const WARM_UP: Duration = Duration::from_secs(5);

/// Guard of each wait; only a hang reaches it.
const GUARD: Duration = Duration::from_secs(30);

/// Runs the benchmark on loopback, then through the fault proxy, and prints both.
///
/// # Errors
/// A director, device or socket failed.
pub fn run() -> Result<()> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        println!(
            "start skew, {CLIENTS} screens, clocks offset −5 s…+4.5 s and drifting −95…+95 ppm, {CUES} cues 1 s apart after {} s of clock pings:",
            WARM_UP.as_secs()
        );
        for shaped in [false, true] {
            let (mut scheduled, mut arrival, uncertainty) = skew(shaped).await?;
            let (s, a) = (Summary::of(&mut scheduled), Summary::of(&mut arrival));
            let link = if shaped {
                "shaped link (20 ± 15 ms each way, 1 % loss)"
            } else {
                "loopback"
            };
            println!("  {link}:");
            println!("    scheduled start (clock sync)   {s}");
            println!("    on arrival (no lead, baseline) {a}");
            println!(
                "    ratio p99 scheduled/arrival {:.2}; clock-sync uncertainty at the last cue: median ±{uncertainty:.1} ms; target skew ≤ 5 ms: scheduled {}, on arrival {}",
                s.p99 / a.p99,
                if s.max <= 5.0 { "met" } else { "SHORT" },
                if a.max <= 5.0 { "met" } else { "SHORT" },
            );
        }
        anyhow::Ok(())
    })
}

/// Per cue: the skew of the scheduled starts and of the arrivals, ms; and the median clock
/// uncertainty the screens report at the end, ms.
async fn skew(shaped: bool) -> Result<(Vec<f64>, Vec<f64>, f64)> {
    let bench = BenchDirector::start(CUES)?;
    let upstream = bench.serving.local_addr();
    let shaper = if shaped {
        Some(FaultProxy::start(upstream, ProxyConfig::symmetric(SEED, WIFI)).await?)
    } else {
        None
    };
    let connect_to = shaper.as_ref().map_or(upstream, FaultProxy::local_addr);
    let devices = bench
        .screens(CLIENTS, connect_to, |i, c| {
            let i = i as i64;
            c.clock_offset_ms = (i - 10) * 500;
            c.clock_drift_ppm = (i as f64 - 9.5) * 10.0;
        })
        .await?;
    tokio::time::sleep(WARM_UP).await;
    let handle = bench.serving.handle();
    let (mut scheduled, mut arrival) = (Vec::new(), Vec::new());
    for k in 0..CUES {
        let next = Instant::now() + Duration::from_secs(1);
        let h = handle.clone();
        let out = tokio::task::spawn_blocking(move || h.submit(Input::Command(Command::Go)))
            .await?
            .map_err(|e| anyhow!("GO {k}: {e}"))?;
        let instance = out
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::FireCue { instance, .. } => Some(*instance),
                _ => None,
            })
            .ok_or_else(|| anyhow!("GO {k} fired no cue"))?;
        let (mut starts, mut arrivals) = (Vec::new(), Vec::new());
        for d in &devices {
            let s = d
                .wait_until("the cue", GUARD, |s| s.cue_timings.contains_key(&instance))
                .await?;
            let t = s
                .cue_timings
                .get(&instance)
                .ok_or_else(|| anyhow!("{}: stopped before the cue", d.device()))?;
            let start = t
                .start_local_ms
                .ok_or_else(|| anyhow!("{}: no clock estimate at the cue", d.device()))?;
            starts.push(d.instant_of_local(start as f64));
            arrivals.push(t.applied_at);
        }
        scheduled.push(spread_ms(&starts));
        arrival.push(spread_ms(&arrivals));
        tokio::time::sleep_until(next.into()).await;
    }
    let mut uncertainties: Vec<f64> = devices
        .iter()
        .filter_map(|d| d.stats().clock.map(|c| c.uncertainty_ms))
        .collect();
    let uncertainty = Summary::of(&mut uncertainties).p50;
    stop_all(devices).await;
    let _ = bench.serving.stop().await;
    drop(shaper);
    Ok((scheduled, arrival, uncertainty))
}

/// Latest minus earliest of `instants`, ms (0 for fewer than two).
fn spread_ms(instants: &[Instant]) -> f64 {
    match (instants.iter().min(), instants.iter().max()) {
        (Some(lo), Some(hi)) => ms(hi.saturating_duration_since(*lo)),
        _ => 0.0,
    }
}
