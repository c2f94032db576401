//! Clock sync against simulated clients: fixed offsets, random and steady asymmetric delays,
//! delay spikes and ±200 ppm drift; a cue's start mapped to the client clock must land within
//! a stated bound of the true instant.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]

use boussole_protocol::clock::{ClockSync, Estimate, SAMPLE_INTERVAL_MS, Sample, SampleError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The director's clock is true time, ms. A client's clock reads
/// `true − offset + drift·(true − START)`, so `server − client = offset` at `START`.
struct Client {
    offset_ms: f64,
    drift: f64,
    rng: StdRng,
    up_ms: (f64, f64),
    down_ms: (f64, f64),
    /// Every `spike_every`th exchange (0: never) waits this long more in one direction.
    spike_every: u32,
    spike_ms: f64,
    exchanges: u32,
}

const START: f64 = 1_000_000.0;
/// A cue is scheduled this long after the exchange that precedes it, ms.
const LEAD_MS: f64 = 500.0;

impl Client {
    fn new(offset_ms: f64, drift_ppm: f64, seed: u64) -> Self {
        Self {
            offset_ms,
            drift: drift_ppm * 1e-6,
            rng: StdRng::seed_from_u64(seed),
            up_ms: (1.0, 20.0),
            down_ms: (1.0, 20.0),
            spike_every: 0,
            spike_ms: 0.0,
            exchanges: 0,
        }
    }

    fn local(&self, true_ms: f64) -> f64 {
        true_ms - self.offset_ms + self.drift * (true_ms - START)
    }

    /// One exchange starting at true time `at`; returns the sample and the true time it ends.
    fn exchange(&mut self, at: f64) -> (Sample, f64) {
        self.exchanges += 1;
        let mut up = self.rng.random_range(self.up_ms.0..=self.up_ms.1);
        let hold = self.rng.random_range(0.0..=1.0);
        let mut down = self.rng.random_range(self.down_ms.0..=self.down_ms.1);
        if self.spike_every > 0 && self.exchanges.is_multiple_of(self.spike_every) {
            if self.exchanges.is_multiple_of(2 * self.spike_every) {
                up += self.spike_ms;
            } else {
                down += self.spike_ms;
            }
        }
        let end = at + up + hold + down;
        // Clocks tick in whole milliseconds.
        let sample = Sample {
            t0: self.local(at).floor() as u64,
            t1: (at + up).floor() as u64,
            t2: (at + up + hold).floor() as u64,
            t3: self.local(end).floor() as u64,
        };
        (sample, end)
    }
}

/// One mapped start: which exchange preceded it, how far off it was (mapped − true, on the
/// client clock, ms) and the estimate then.
struct Mapped {
    index: usize,
    error_ms: f64,
    estimate: Estimate,
    sample: Sample,
}

/// Runs 10 minutes of exchanges, one every [`SAMPLE_INTERVAL_MS`], and after each maps the
/// start of a cue scheduled `LEAD_MS` later.
fn run(client: &mut Client) -> Vec<Mapped> {
    let mut sync = ClockSync::new();
    let mut at = START;
    let mut mapped = Vec::new();
    while at < START + 600_000.0 {
        let (sample, end) = client.exchange(at);
        let estimate = *sync.add(sample).unwrap();
        let cue_at = end + LEAD_MS;
        let local = sync.to_local(cue_at.round() as u64, sample.t3).unwrap() as f64;
        mapped.push(Mapped {
            index: mapped.len(),
            error_ms: local - client.local(cue_at),
            estimate,
            sample,
        });
        at += SAMPLE_INTERVAL_MS as f64;
    }
    mapped
}

/// Checks the bounds stated on [`ClockSync`]: within half the round trip after the first
/// sample, within the estimate's own uncertainty always (+1 ms for rounding the start to whole
/// milliseconds), within 8 ms from the eighth sample and within 5 ms from the hundredth (3 min
/// 20 s at one every 2 s).
fn check(label: &str, mapped: &[Mapped]) {
    assert_eq!(mapped.len(), 300);
    let mut settled = 0.0_f64;
    for m in mapped {
        let e = m.error_ms.abs();
        let i = m.index;
        assert!(e <= m.estimate.uncertainty_ms + 1.0, "{label} #{i}: {e} ms");
        if i == 0 {
            assert!(e <= m.sample.rtt_ms() / 2.0 + 2.0, "{label} #{i}: {e} ms");
        }
        if i >= 7 {
            assert!(e <= 8.0, "{label} #{i}: {e} ms");
        }
        if i >= 99 {
            settled = settled.max(e);
        }
    }
    assert!(settled <= 5.0, "{label}: {settled} ms once settled");
}

#[test]
fn fixed_offsets_with_random_delays_map_within_5_ms() {
    for (seed, offset) in [(1, -5_000.0), (2, 5_000.0), (3, 0.0), (4, 1_234.5)] {
        let mut client = Client::new(offset, 0.0, seed);
        let mapped = run(&mut client);
        check(&format!("offset {offset} ms, seed {seed}"), &mapped);
        // A clock without drift is not given one.
        let ppm = mapped.last().unwrap().estimate.drift_ppm.unwrap();
        assert!(ppm.abs() < 10.0, "{ppm} ppm");
    }
}

#[test]
fn drift_of_200_ppm_over_10_minutes_maps_within_5_ms() {
    for seed in 0..3 {
        for (offset, ppm) in [(5_000.0, 200.0), (-5_000.0, -200.0), (5_000.0, -200.0)] {
            let mut client = Client::new(offset, ppm, seed);
            let mapped = run(&mut client);
            check(&format!("{ppm} ppm, seed {seed}"), &mapped);
            // The client runs fast by `ppm`: server − client falls by as much.
            let estimated = mapped.last().unwrap().estimate.drift_ppm.unwrap();
            assert!((estimated + ppm).abs() < 20.0, "{estimated} ppm for {ppm}");
        }
    }
}

#[test]
fn drift_is_estimated_once_the_window_spans_ten_seconds() {
    let mut client = Client::new(-5_000.0, 200.0, 7);
    let mapped = run(&mut client);
    for m in &mapped {
        let span = m.sample.local_mid_ms() - mapped[0].sample.local_mid_ms();
        assert_eq!(
            m.estimate.drift_ppm.is_some(),
            span >= 10_000.0,
            "#{}",
            m.index
        );
    }
}

#[test]
fn a_cue_long_after_the_director_was_lost_still_lands_within_5_ms() {
    let mut client = Client::new(5_000.0, 200.0, 11);
    let mut sync = ClockSync::new();
    let mut at = START;
    let mut last = None;
    for _ in 0..150 {
        let (sample, end) = client.exchange(at);
        sync.add(sample).unwrap();
        last = Some((sample, end));
        at += SAMPLE_INTERVAL_MS as f64;
    }
    let (sample, end) = last.unwrap();
    // No exchange for 2 minutes; then a start planned before the director was lost.
    let cue_at = end + 120_000.0;
    let now = client.local(end + 119_000.0) as u64;
    let local = sync.to_local(cue_at.round() as u64, now).unwrap() as f64;
    let error = local - client.local(cue_at);
    assert!(error.abs() <= 5.0, "{error} ms");
    assert!(sample.t3 < now);
}

#[test]
fn delay_spikes_in_one_direction_do_not_move_the_estimate() {
    for seed in 0..3 {
        let mut client = Client::new(-5_000.0, 100.0, seed);
        client.spike_every = 3;
        client.spike_ms = 300.0;
        check(&format!("spikes, seed {seed}"), &run(&mut client));
    }
}

#[test]
fn a_steady_asymmetry_costs_at_most_half_the_round_trip() {
    // Uplink 15–16 ms, downlink 1–2 ms: every sample reads the offset ~7 ms off, and no
    // exchange can tell; the error stays within half the smallest round trip.
    let mut client = Client::new(5_000.0, 0.0, 5);
    client.up_ms = (15.0, 16.0);
    client.down_ms = (1.0, 2.0);
    let mut sync = ClockSync::new();
    let mut at = START;
    for _ in 0..20 {
        let (sample, end) = client.exchange(at);
        let estimate = *sync.add(sample).unwrap();
        let cue_at = end + LEAD_MS;
        let mapped = sync.to_local(cue_at.round() as u64, sample.t3).unwrap() as f64;
        let error = (mapped - client.local(cue_at)).abs();
        assert!(error > 5.0, "the asymmetry shows: {error} ms");
        assert!(error <= estimate.min_rtt_ms / 2.0 + 2.0, "{error} ms");
        at += SAMPLE_INTERVAL_MS as f64;
    }
}

#[test]
fn the_first_sample_alone_is_within_half_its_round_trip() {
    for seed in 0..20 {
        let mut client = Client::new(-5_000.0, 0.0, seed);
        let mut sync = ClockSync::new();
        let (sample, end) = client.exchange(START);
        sync.add(sample).unwrap();
        let cue_at = end + LEAD_MS;
        let mapped = sync.to_local(cue_at.round() as u64, sample.t3).unwrap() as f64;
        let error = (mapped - client.local(cue_at)).abs();
        assert!(
            error <= sample.rtt_ms() / 2.0 + 2.0,
            "seed {seed}: {error} ms"
        );
    }
}

#[test]
fn sample_offset_and_round_trip_follow_the_ntp_formulas() {
    // Client 1000 → server 6010 (+5000 offset, 10 ms up), held 2 ms, back at client 1016.
    let s = Sample {
        t0: 1_000,
        t1: 6_010,
        t2: 6_012,
        t3: 1_016,
    };
    assert_eq!(
        s.offset_ms(),
        ((6_010.0 - 1_000.0) + (6_012.0 - 1_016.0)) / 2.0
    );
    assert_eq!(s.rtt_ms(), 14.0);
    assert_eq!(s.local_mid_ms(), 1_008.0);
    let mut sync = ClockSync::new();
    sync.add(s).unwrap();
    assert_eq!(sync.to_server(1_008), Some(6_011));
    assert_eq!(sync.to_local(6_011, 1_016), Some(1_008));
}

#[test]
fn nothing_is_mapped_before_the_first_sample_or_after_a_reset() {
    let mut sync = ClockSync::new();
    assert!(sync.is_empty());
    assert_eq!(sync.to_local(10, 10), None);
    assert_eq!(sync.to_server(10), None);
    sync.add(Sample {
        t0: 10,
        t1: 20,
        t2: 20,
        t3: 12,
    })
    .unwrap();
    assert_eq!(sync.len(), 1);
    assert!(sync.to_local(100, 12).is_some());
    sync.reset();
    assert!(sync.is_empty());
    assert_eq!(sync.estimate(), None);
    assert_eq!(sync.to_local(100, 12), None);
}

#[test]
fn out_of_order_timestamps_are_refused_and_leave_the_window_alone() {
    let mut sync = ClockSync::new();
    let bad = [
        (
            Sample {
                t0: 100,
                t1: 5,
                t2: 6,
                t3: 90,
            },
            SampleError::ClientOrder { t0: 100, t3: 90 },
        ),
        (
            Sample {
                t0: 100,
                t1: 6,
                t2: 5,
                t3: 110,
            },
            SampleError::ServerOrder { t1: 6, t2: 5 },
        ),
        (
            Sample {
                t0: 100,
                t1: 0,
                t2: 50,
                t3: 110,
            },
            SampleError::HeldLongerThanRoundTrip {
                held_ms: 50,
                round_trip_ms: 10,
            },
        ),
    ];
    for (sample, error) in bad {
        assert_eq!(sync.add(sample).unwrap_err(), error);
        assert!(!error.to_string().is_empty());
    }
    assert!(sync.is_empty());
}

#[test]
fn a_mapped_time_before_the_client_clock_zero_is_clamped() {
    let mut sync = ClockSync::new();
    // Server is 5 s ahead of a client that just started.
    sync.add(Sample {
        t0: 0,
        t1: 5_001,
        t2: 5_001,
        t3: 2,
    })
    .unwrap();
    assert_eq!(sync.to_local(1_000, 2), Some(0));
}

#[test]
fn a_director_restart_steps_its_clock_and_the_sync_starts_over() {
    let mut client = Client::new(5_000.0, 0.0, 3);
    let mut sync = ClockSync::new();
    let mut at = START;
    for _ in 0..40 {
        sync.add(client.exchange(at).0).unwrap();
        at += SAMPLE_INTERVAL_MS as f64;
    }
    assert_eq!(sync.len(), 40);
    // The director restarts: its session clock now reads 60 s less.
    let (mut sample, end) = client.exchange(at);
    sample.t1 -= 60_000;
    sample.t2 -= 60_000;
    let estimate = *sync.add(sample).unwrap();
    assert_eq!(estimate.samples, 1);
    assert_eq!(estimate.drift_ppm, None);
    let cue_at = end + LEAD_MS - 60_000.0;
    let local = sync.to_local(cue_at.round() as u64, sample.t3).unwrap() as f64;
    let error = local - client.local(end + LEAD_MS);
    assert!(error.abs() <= sample.rtt_ms() / 2.0 + 2.0, "{error} ms");
}

/// The room's first minute on a Wi-Fi-like link (5 ms plus 0–30 ms each way, as the skew
/// benchmark's fault proxy), drifts up to ±95 ppm: with the fast samples at connection
/// ([`boussole_protocol::clock::FAST_SAMPLES`] every
/// [`boussole_protocol::clock::FAST_SAMPLE_INTERVAL_MS`], then one every 500 ms as devices
/// ping), a cue scheduled 200 ms ahead, any time from 5 s to 45 s after connecting, is mapped
/// within 2.5 ms of its true instant for 99 % of starts (so two devices start it about 5 ms
/// apart at worst), 3.5 ms at worst (60 clients, 4 800 starts; measured 2.2 and 3.0 ms).
/// While the estimate widened old bands by the drift's whole range it was 3.6 ms at p99 and
/// 5.3 ms at worst.
#[test]
fn a_wifi_like_link_maps_starts_within_2_5_ms_from_the_fifth_second() {
    use boussole_protocol::clock::{FAST_SAMPLE_INTERVAL_MS, FAST_SAMPLES};
    let mut worst = 0.0_f64;
    let mut errors = Vec::new();
    for seed in 0..60 {
        let drift = (seed as f64 - 30.0) * 3.2;
        let mut client = Client::new((seed as f64 - 30.0) * 170.0, drift, 1_000 + seed);
        client.up_ms = (5.0, 35.0);
        client.down_ms = (5.0, 35.0);
        let mut sync = ClockSync::new();
        let mut at = START;
        let mut n = 0;
        while at < START + 45_000.0 {
            let (sample, end) = client.exchange(at);
            sync.add(sample).unwrap();
            n += 1;
            if at >= START + 5_000.0 {
                let cue_at = end + 200.0;
                let local = sync.to_local(cue_at.round() as u64, sample.t3).unwrap() as f64;
                let e = (local - client.local(cue_at)).abs();
                errors.push(e);
                worst = worst.max(e);
            }
            at += if n < FAST_SAMPLES {
                FAST_SAMPLE_INTERVAL_MS as f64
            } else {
                500.0
            };
        }
    }
    errors.sort_by(f64::total_cmp);
    let p99 = errors[errors.len() * 99 / 100];
    println!(
        "wifi-like: p99 {p99:.2} ms, worst {worst:.2} ms over {} starts",
        errors.len()
    );
    assert!(
        p99 <= 2.5 && worst <= 3.5,
        "p99 {p99:.2} ms, worst {worst:.2} ms"
    );
}
