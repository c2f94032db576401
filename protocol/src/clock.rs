//! Clock sync between a device and the director: NTP-style four-timestamp samples, each giving
//! a band the true offset must lie in; the drift is the middle of the slopes that cross every
//! band, the offset the middle of the bands' intersection. A device maps a cue's scheduled
//! start on the director's clock to its own clock with it.
//!
//! Sans-IO: the caller takes the timestamps (a monotonic millisecond clock on each side, not
//! wall time, which NTP may step) and feeds [`Sample`]s; nothing here reads a clock.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How often a client should sample, ms. Each exchange is two small messages; more samples
/// tighten the bands (the error shrinks with the smallest delays seen), and 2 s keeps a
/// [`DEFAULT_WINDOW`] of about four minutes.
pub const SAMPLE_INTERVAL_MS: u64 = 2_000;

/// Samples kept by [`ClockSync::new`]: 128, about four minutes at [`SAMPLE_INTERVAL_MS`].
///
/// A window of 8 with a least-squares drift was tried first: its offsets' noise (±3 ms with
/// 1–20 ms delays) over the half minute eight samples span gave slopes of ±100 ppm on a clock
/// with no drift, and mapped starts 10 ms off.
pub const DEFAULT_WINDOW: usize = 128;

/// Shortest time, milliseconds of client clock, that the window must span before a drift is
/// estimated; until then a drift of up to [`MAX_DRIFT_PPM`] either way is assumed.
///
/// It was 60 s: until then every sample was widened by ±500 ppm of its age, so only the last
/// few seconds of samples counted and a cue in a session's first minute was mapped up to
/// ±11 ms off on a Wi-Fi-like link (`cargo xtask bench skew`). The drift's range comes from the
/// bands themselves (the slopes that cross them all), so it is a bound from the first seconds
/// on and only tightens; with the [`FAST_SAMPLES`] taken at connection, 10 s of samples
/// already bound it well. The bounds of `tests/clock.rs` hold with it.
pub const DEFAULT_MIN_DRIFT_SPAN_MS: u64 = 10_000;

/// The share of the drift's range by which the bands are widened for the estimate (the bound
/// takes all of it). Chosen on `tests/clock.rs`'s clients: 0 maps a start 3 ms off on a link
/// with a constant 20 ms delay each way (the middle of a drift range cut by
/// ±[`MAX_DRIFT_PPM`] is off), the whole range 3.6 ms at p99 on a Wi-Fi-like link in its first
/// minute; a tenth gives 2.2 ms there and passes every other test.
const ESTIMATE_WIDENING: f64 = 0.1;

/// Samples taken quickly after each connection, one every [`FAST_SAMPLE_INTERVAL_MS`]: the
/// band edges tighten with the number of samples (the smallest delay of each direction sets
/// one), so a room is in step within seconds of connecting, not minutes.
pub const FAST_SAMPLES: usize = 40;

/// The interval of the [`FAST_SAMPLES`], ms (40 in 4 s; ten small messages a second per
/// device).
pub const FAST_SAMPLE_INTERVAL_MS: u64 = 100;

/// The largest drift considered, parts per million: quartz oscillators stay within ±100 ppm
/// (±50 ppm typical), so this leaves a wide margin.
pub const MAX_DRIFT_PPM: f64 = 500.0;

/// A sample whose offset differs from the estimate by more than half its round trip plus this,
/// ms, cannot come from the same pair of clocks: one of them was stepped or restarted, and the
/// sync starts over from that sample.
pub const STEP_MS: f64 = 1_000.0;

/// Whole-millisecond clocks put each timestamp up to 1 ms early, so a sample's offset and half
/// round trip can each be up to 1 ms off: every band is widened by this, ms.
const TICK_SLACK_MS: f64 = 2.0;

/// One exchange, milliseconds: `t0` client send and `t3` client receive (client clock), `t1`
/// server receive and `t2` server send (server clock). `t1` must be taken after the request
/// arrived and `t2` before the reply left (true of any timestamp taken in the handler).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Client clock when the request left, ms.
    pub t0: u64,
    /// Server clock when the request arrived, ms.
    pub t1: u64,
    /// Server clock when the reply left, ms.
    pub t2: u64,
    /// Client clock when the reply arrived, ms.
    pub t3: u64,
}

impl Sample {
    /// Server clock minus client clock, ms: `((t1 − t0) + (t2 − t3)) / 2`. Exact when both
    /// directions take the same time; otherwise off by half the difference, so never by more
    /// than half the [`rtt_ms`](Self::rtt_ms).
    pub fn offset_ms(&self) -> f64 {
        ((ms(self.t1) - ms(self.t0)) + (ms(self.t2) - ms(self.t3))) / 2.0
    }

    /// Round trip on the network, ms: `(t3 − t0) − (t2 − t1)` (the server's hold time removed).
    pub fn rtt_ms(&self) -> f64 {
        (ms(self.t3) - ms(self.t0)) - (ms(self.t2) - ms(self.t1))
    }

    /// Client time the offset refers to, ms: the middle of the exchange, `(t0 + t3) / 2`.
    pub fn local_mid_ms(&self) -> f64 {
        (ms(self.t0) + ms(self.t3)) / 2.0
    }

    fn check(&self) -> Result<(), SampleError> {
        let Sample { t0, t1, t2, t3 } = *self;
        if t3 < t0 {
            return Err(SampleError::ClientOrder { t0, t3 });
        }
        if t2 < t1 {
            return Err(SampleError::ServerOrder { t1, t2 });
        }
        if t2 - t1 > t3 - t0 {
            return Err(SampleError::HeldLongerThanRoundTrip {
                held_ms: t2 - t1,
                round_trip_ms: t3 - t0,
            });
        }
        Ok(())
    }
}

/// Why [`ClockSync::add`] refused a sample (the window is left as it was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// The reply came back before the request left, on the client clock.
    #[error("clock sample: client receive {t3} ms is before client send {t0} ms")]
    ClientOrder {
        /// Client send, ms.
        t0: u64,
        /// Client receive, ms.
        t3: u64,
    },
    /// The server replied before it received the request, on the server clock.
    #[error("clock sample: server send {t2} ms is before server receive {t1} ms")]
    ServerOrder {
        /// Server receive, ms.
        t1: u64,
        /// Server send, ms.
        t2: u64,
    },
    /// The server held the request longer than the whole exchange took: one of the clocks
    /// jumped or the timestamps belong to different exchanges.
    #[error(
        "clock sample: server held the request {held_ms} ms, longer than the round trip {round_trip_ms} ms"
    )]
    HeldLongerThanRoundTrip {
        /// `t2 − t1`, ms.
        held_ms: u64,
        /// `t3 − t0`, ms.
        round_trip_ms: u64,
    },
}

/// The current model of the server clock seen from the client: at client time `t`,
/// `server − client = offset_ms + drift_ppm·10⁻⁶·(t − at_local_ms)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Server clock minus client clock at `at_local_ms`, ms.
    pub offset_ms: f64,
    /// The client time the offset refers to, ms: the middle of the latest sample.
    pub at_local_ms: f64,
    /// How much faster the server clock runs than the client's, parts per million; `None`
    /// until the window spans [`DEFAULT_MIN_DRIFT_SPAN_MS`] (or the configured span).
    pub drift_ppm: Option<f64>,
    /// Half the range of drifts the samples allow, ppm ([`MAX_DRIFT_PPM`] before a drift).
    pub drift_spread_ppm: f64,
    /// Half the width of the offsets every sample allows at `at_local_ms`, ms: the true offset
    /// is within `offset_ms ± uncertainty_ms` as long as no delay was negative and the drift
    /// is within its spread. 0 when the samples disagree (a clock misbehaved).
    pub uncertainty_ms: f64,
    /// Smallest round trip in the window, ms. Half of it bounds the error that a steady
    /// difference between the two directions causes, which no sample can reveal.
    pub min_rtt_ms: f64,
    /// Samples in the window.
    pub samples: usize,
}

impl Estimate {
    /// Server minus client, ms, at client time `local_ms`, drift included.
    pub fn offset_at(&self, local_ms: f64) -> f64 {
        self.offset_ms + self.drift() * (local_ms - self.at_local_ms)
    }

    fn drift(&self) -> f64 {
        self.drift_ppm.unwrap_or(0.0) * 1e-6
    }
}

/// Clock sync state of one client: a window of recent samples and the estimate made from them.
///
/// Delays are never negative, so a sample says the offset at its middle time lies within
/// `offset ± rtt/2` (a *band*, widened by 2 ms for whole-millisecond clocks).
///
/// - **Drift**: once the window spans [`DEFAULT_MIN_DRIFT_SPAN_MS`], the middle of the slopes
///   (within ±[`MAX_DRIFT_PPM`]) of the lines that cross every band; when none does, the middle
///   of those that miss by least.
/// - **Offset**: the middle of the intersection of the bands brought to the latest sample along
///   that slope, each widened by the drift's spread times its age, so that old samples count
///   less until the drift is known. Queueing only adds delay, so the smallest delays in each
///   direction set the edges: delay spikes do not move the estimate.
/// - **Steps**: a sample that contradicts the estimate by more than its own band plus
///   [`STEP_MS`] restarts the sync from it (the director restarted, or a clock was stepped).
///
/// Measured with the simulated clients of `tests/clock.rs` (1–20 ms random delays each way,
/// offsets ±5 s, drift 0 and ±200 ppm, a sample every 2 s for 10 min; 200 seeds × 3 clients),
/// when the drift waited for 60 s of samples (the test's bounds still hold at 10 s):
/// a cue's mapped start is off by 0.5 ms (median); at worst 8.1 ms after samples 2–8, 6.7 ms
/// after samples 9–31, 5.5 ms after samples 32–100 (drift estimated, still loose), 3.5 ms
/// from the 101st sample (3 min 20 s) on; within half the round trip after the first.
#[derive(Clone, Debug)]
pub struct ClockSync {
    window: VecDeque<Sample>,
    capacity: usize,
    min_drift_span_ms: f64,
    estimate: Option<Estimate>,
}

impl Default for ClockSync {
    fn default() -> Self {
        Self::new()
    }
}

impl ClockSync {
    /// A window of [`DEFAULT_WINDOW`] samples, drift after [`DEFAULT_MIN_DRIFT_SPAN_MS`].
    pub fn new() -> Self {
        Self::with_window(DEFAULT_WINDOW, DEFAULT_MIN_DRIFT_SPAN_MS)
    }

    /// A window of `capacity` samples (at least 1; 3 or more for a drift), drift once the
    /// window spans `min_drift_span_ms` of client time.
    pub fn with_window(capacity: usize, min_drift_span_ms: u64) -> Self {
        let capacity = capacity.max(1);
        Self {
            window: VecDeque::with_capacity(capacity),
            capacity,
            min_drift_span_ms: ms(min_drift_span_ms),
            estimate: None,
        }
    }

    /// Adds a completed exchange (the oldest one leaves a full window) and updates the
    /// estimate, which it returns.
    ///
    /// # Errors
    /// A [`SampleError`] when the timestamps are not in causal order; the sample is dropped.
    pub fn add(&mut self, sample: Sample) -> Result<&Estimate, SampleError> {
        sample.check()?;
        if let Some(e) = &self.estimate {
            let gap = (sample.offset_ms() - e.offset_at(sample.local_mid_ms())).abs();
            if gap > sample.rtt_ms() / 2.0 + e.uncertainty_ms + STEP_MS {
                tracing::warn!(gap_ms = gap, "clock sync: a clock jumped; starting over");
                self.reset();
            }
        }
        if self.window.len() == self.capacity {
            self.window.pop_front();
        }
        self.window.push_back(sample);
        Ok(self.refresh())
    }

    /// Forgets every sample and the drift (after the director restarted: its clock is new).
    pub fn reset(&mut self) {
        self.window.clear();
        self.estimate = None;
    }

    /// The current estimate; `None` before the first sample.
    pub fn estimate(&self) -> Option<&Estimate> {
        self.estimate.as_ref()
    }

    /// Samples in the window.
    pub fn len(&self) -> usize {
        self.window.len()
    }

    /// Whether no sample was added since creation or [`reset`](Self::reset).
    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    /// Maps a server time (a cue's scheduled start, ms of director clock) to the client clock,
    /// ms, rounded; `None` before the first sample. The offset is taken at `now_local_ms`
    /// (the client clock when mapping) and the drift is applied from now to the start too,
    /// so a start minutes ahead, or long after the director was lost, still lands on time.
    /// A result before the client clock's zero is clamped to 0 (the start is long past).
    pub fn to_local(&self, server_ms: u64, now_local_ms: u64) -> Option<u64> {
        let e = self.estimate.as_ref()?;
        let now = ms(now_local_ms);
        let d = e.drift();
        // Solves `local + offset(now) + d·(local − now) = server` for `local`.
        let local = (ms(server_ms) - e.offset_at(now) + d * now) / (1.0 + d);
        Some(to_ms(local))
    }

    /// Maps a client time, ms, to the server clock, ms, rounded and clamped to 0; `None`
    /// before the first sample.
    pub fn to_server(&self, local_ms: u64) -> Option<u64> {
        let e = self.estimate.as_ref()?;
        let local = ms(local_ms);
        Some(to_ms(local + e.offset_at(local)))
    }

    fn refresh(&mut self) -> &Estimate {
        let t_ref = self.window.back().map_or(0.0, Sample::local_mid_ms);
        let bands: Vec<Band> = self.window.iter().map(|s| Band::of(s, t_ref)).collect();
        let span = bands.iter().map(|b| -b.x).fold(0.0, f64::max);
        let max = MAX_DRIFT_PPM * 1e-6;
        let (drift, spread) = if bands.len() >= 3 && span >= self.min_drift_span_ms {
            let (lo, hi) = slope_range(&bands, -max, max);
            (Some((lo + hi) / 2.0), (hi - lo) / 2.0)
        } else {
            (None, max)
        };
        let slope = drift.unwrap_or(0.0);
        let along = |widen_by: f64| {
            bands
                .iter()
                .fold((f64::NEG_INFINITY, f64::INFINITY), |(lo, hi), b| {
                    let widen = widen_by * b.x.abs();
                    (
                        lo.max(b.lo - slope * b.x - widen),
                        hi.min(b.hi - slope * b.x + widen),
                    )
                })
        };
        // The bound: every band widened by what the drift may still be off (every band is at
        // or before `t_ref`, so this is exactly the offsets of the lines, slopes within the
        // drift's range, that cross every band).
        let (lo, hi) = along(spread);
        // The estimate: once a drift is estimated, the bands brought along it widened by
        // only a tenth of its range, so that old samples with the smallest delays still set
        // the edges (widened by the whole range they count for little while it is wide, as it
        // is for a minute on a link with a large fixed delay); when they do not meet, the
        // bound's middle.
        let centre = match drift.map(|_| along(spread * ESTIMATE_WIDENING)) {
            Some((l, h)) if l <= h && l >= lo && h <= hi => (l + h) / 2.0,
            _ => (lo + hi) / 2.0,
        };
        let min_rtt_ms = self
            .window
            .iter()
            .map(Sample::rtt_ms)
            .fold(f64::INFINITY, f64::min);
        self.estimate.insert(Estimate {
            offset_ms: centre,
            at_local_ms: t_ref,
            drift_ppm: drift.map(|d| d * 1e6),
            drift_spread_ppm: spread * 1e6,
            // From the estimate to the bound's farther edge.
            uncertainty_ms: (centre - lo).max(hi - centre).max(0.0),
            min_rtt_ms,
            samples: self.window.len(),
        })
    }
}

/// What one sample says of the offset: within `[lo, hi]` at client time `t_ref + x`, ms.
struct Band {
    x: f64,
    lo: f64,
    hi: f64,
}

impl Band {
    fn of(s: &Sample, t_ref: f64) -> Self {
        let half = s.rtt_ms() / 2.0 + TICK_SLACK_MS;
        Self {
            x: s.local_mid_ms() - t_ref,
            lo: s.offset_ms() - half,
            hi: s.offset_ms() + half,
        }
    }
}

/// The slopes in `[min, max]` (ms per ms) whose lines cross every band, as `(lowest,
/// highest)`; when none does, those that miss by least. The room a slope leaves at `t_ref`,
/// `min(hi − slope·x) − max(lo − slope·x)`, is concave in the slope: its peak is found by
/// ternary search, the ends of its level set by bisection.
fn slope_range(bands: &[Band], min: f64, max: f64) -> (f64, f64) {
    let room = |slope: f64| {
        bands
            .iter()
            .fold((f64::NEG_INFINITY, f64::INFINITY), |(lo, hi), b| {
                (lo.max(b.lo - slope * b.x), hi.min(b.hi - slope * b.x))
            })
    };
    let width = |slope: f64| {
        let (lo, hi) = room(slope);
        hi - lo
    };
    let (mut a, mut b) = (min, max);
    // 60 steps shrink ±500 ppm to 10⁻⁸ ppm; 50 halvings likewise.
    for _ in 0..60 {
        let l = a + (b - a) / 3.0;
        let r = b - (b - a) / 3.0;
        if width(l) < width(r) {
            a = l;
        } else {
            b = r;
        }
    }
    let peak = (a + b) / 2.0;
    // Feasible slopes when some line crosses every band; else the (flat) top of the peak.
    let level = width(peak).min(0.0) - 1e-9;
    let edge = |mut inside: f64, mut outside: f64| {
        if width(outside) >= level {
            return outside;
        }
        for _ in 0..50 {
            let mid = (inside + outside) / 2.0;
            if width(mid) >= level {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        inside
    };
    (edge(peak, min), edge(peak, max))
}

/// Milliseconds as a float; exact below 2⁵³ ms (285 000 years).
fn ms(v: u64) -> f64 {
    v as f64
}

/// Rounds to whole milliseconds, clamped to `0..=u64::MAX` (`as` saturates; NaN gives 0).
fn to_ms(v: f64) -> u64 {
    v.round() as u64
}
