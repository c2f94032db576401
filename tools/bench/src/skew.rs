//! Start skew of a synchronised cue across 20 simulated room screens, on loopback and through
//! a shaped Wi-Fi-like link (20 ms ± 15 ms each way, 1 % loss, through `boussole-sim`'s
//! seeded [`FaultProxy`]; [`WIFI`]), each screen
//! with its own clock offset (−5 s to +4.5 s) and drift (−95 to +95 ppm), so the clock sync
//! has real work to do.
//!
//! The director schedules each firing its lead after the GO (`Command::SetCueLead`, set by the
//! server from the links' round trips); each screen starts it at that start mapped to its own
//! clock, or on arrival when it comes too late. Three spreads per cue (max − min over the 20
//! screens of a true instant, this process's monotonic clock):
//! - **start**: when each screen starts the cue (`device_ms`, the mapped start or the arrival,
//!   brought back to true time through the screen's known offset and drift): what the room
//!   sees;
//! - **scheduled start**: the cue's `start_at_ms` mapped by each screen's clock sync, whether or
//!   not it arrived in time: the clock sync's own work;
//! - **on arrival**: when each screen received it: what starting on arrival would give, the
//!   baseline a synchronised start has to beat.
//!
//! Targets (issue "In step and fast"): start spread p99 ≤ 2 ms on loopback and ≤ 5 ms on the
//! Wi-Fi-like link.

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
            let run = skew(shaped).await?;
            let (mut started, mut scheduled, mut arrival) = (run.started, run.scheduled, run.arrival);
            let (st, s, a) = (
                Summary::of(&mut started),
                Summary::of(&mut scheduled),
                Summary::of(&mut arrival),
            );
            let (link, target) = if shaped {
                ("shaped link (20 ± 15 ms each way, 1 % loss)", 5.0)
            } else {
                ("loopback", 2.0)
            };
            println!("  {link}, lead {} ms:", run.lead_ms);
            println!("    start (what the room sees)       {st}");
            println!("    scheduled start (clock sync)     {s}");
            println!("    on arrival (baseline, no lead)   {a}");
            println!(
                "    ratio p99 start/arrival {:.2}; starts after their schedule (arrived late): {} of {}; clock-sync uncertainty at the last cue: median ±{:.1} ms; target start spread p99 ≤ {target} ms: {}",
                st.p99 / a.p99,
                run.late,
                CUES * CLIENTS,
                run.uncertainty,
                if st.p99 <= target {
                    "met".to_owned()
                } else {
                    format!("SHORT by {:.2} ms", st.p99 - target)
                },
            );
        }
        anyhow::Ok(())
    })
}

/// One link's run.
struct Run {
    /// Per cue, the spread of the real starts, ms.
    started: Vec<f64>,
    /// Per cue, the spread of the scheduled starts as each clock sync mapped them, ms.
    scheduled: Vec<f64>,
    /// Per cue, the spread of the arrivals, ms.
    arrival: Vec<f64>,
    /// Starts that came after their schedule (the cue arrived late).
    late: usize,
    /// The lead the director used, ms.
    lead_ms: u32,
    /// The median clock uncertainty the screens report at the end, ms.
    uncertainty: f64,
}

/// Fires [`CUES`] cues at [`CLIENTS`] screens on one link and measures each spread.
async fn skew(shaped: bool) -> Result<Run> {
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
    let h = handle.clone();
    let lead_ms = tokio::task::spawn_blocking(move || h.with(|s| s.engine().cue_lead_ms()))
        .await?
        .map_err(|e| anyhow!("the lead: {e}"))?;
    let (mut started, mut scheduled, mut arrival, mut late) =
        (Vec::new(), Vec::new(), Vec::new(), 0);
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
        let (mut real, mut starts, mut arrivals) = (Vec::new(), Vec::new(), Vec::new());
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
            real.push(d.instant_of_local(t.device_ms as f64));
            if t.device_ms > start {
                late += 1;
            }
            arrivals.push(t.applied_at);
        }
        started.push(spread_ms(&real));
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
    Ok(Run {
        started,
        scheduled,
        arrival,
        late,
        lead_ms,
        uncertainty,
    })
}

/// Latest minus earliest of `instants`, ms (0 for fewer than two).
fn spread_ms(instants: &[Instant]) -> f64 {
    match (instants.iter().min(), instants.iter().max()) {
        (Some(lo), Some(hi)) => ms(hi.saturating_duration_since(*lo)),
        _ => 0.0,
    }
}
