//! The spectator's pose path (issue "See what each headset sees"): six headsets stream their
//! head pose as datagrams at 20 Hz to a real director on loopback, which forwards the latest of
//! each to the facilitator's console (`ServerMsg::Poses`, at most 20 times a second); the
//! figure is each pose's time from its headset's send to the console's read, per pose the
//! console saw (a pose replaced before the next forward is not seen, by design: latest wins).
//!
//! Baseline, same run: the same datagrams sent straight from a UDP socket to another on
//! loopback (one hop, no TLS, no forward). The console's own drawing of the picture is timed by
//! the console's `spectator` example (`cargo xtask bench spectator` runs both).

use crate::common::{BenchDirector, Summary, code, ms};
use anyhow::{Context, Result, anyhow};
use boussole_protocol::DeviceId;
use boussole_protocol::transport::Client;
use boussole_protocol::wire::{Hello, PROTOCOL_VERSION, Pose, Role, ServerMsg};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Headsets streaming.
const HEADSETS: usize = 6;
/// Poses per second each.
const RATE_HZ: u64 = 20;
/// How long they stream.
const RUN: Duration = Duration::from_secs(10);

/// Sent poses' instants, by (headset, device_ms).
type Sent = Arc<Mutex<HashMap<(String, u64), Instant>>>;

/// Runs the pose path and its baseline, and prints both.
///
/// # Errors
/// The director, a device or a socket failed.
pub fn run() -> Result<()> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let (mut through, sent, seen) = through_director().await?;
        let mut raw = raw_udp().await?;
        let (t, r) = (Summary::of(&mut through), Summary::of(&mut raw));
        let p95 = |v: &[f64]| crate::common::percentile(v, 0.95);
        println!(
            "spectator poses, {HEADSETS} headsets at {RATE_HZ} Hz for {} s, loopback:",
            RUN.as_secs()
        );
        println!(
            "  headset send → console read, through the director: {t}; p95 {:.3} ms ({seen} of {sent} poses seen: the others were replaced before the next forward)",
            p95(&through)
        );
        println!(
            "  raw UDP datagram, one hop (baseline): {r}; p95 {:.3} ms",
            p95(&raw)
        );
        println!(
            "  ratio director/raw (p95) {:.1}; target (issue): pose-to-picture p95 printed with the console's drawing (example `spectator`)",
            p95(&through) / p95(&raw).max(1e-6)
        );
        anyhow::Ok(())
    })
}

/// A head pose at `device_ms`, turning with time.
fn pose(device_ms: u64) -> Pose {
    #[expect(clippy::cast_precision_loss, reason = "a few seconds of ms")]
    let h = (device_ms as f32 / 1000.0).sin() / 2.0;
    Pose {
        device_ms,
        position_m: [0.0, 1.6, 0.0],
        orientation: [0.0, h.sin(), 0.0, h.cos()],
        pointer: None,
        shows: None,
    }
}

async fn connect(bench: &BenchDirector, name: &str, role: Role) -> Result<Client> {
    let addr = bench.serving.local_addr();
    let device = DeviceId::from(name);
    let pairing = boussole_sim::pair(addr, code()?, &device).await?;
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        device,
        role,
        content_hash: [0; 32],
        token: Some(pairing.token),
    };
    Client::connect(addr, &pairing.ca_der, hello)
        .await
        .with_context(|| format!("connecting {name}"))
}

/// The latencies through a real director, with how many poses were sent and seen.
async fn through_director() -> Result<(Vec<f64>, usize, usize)> {
    let bench = BenchDirector::start(1)?;
    let mut console = connect(&bench, "console_banc", Role::Console { observer: false }).await?;
    let mut headsets = Vec::new();
    for i in 0..HEADSETS {
        headsets.push(connect(&bench, &format!("casque_banc_{i}"), Role::Headset).await?);
    }
    let sent: Sent = Arc::default();
    let start = Instant::now();
    let senders: Vec<_> = headsets
        .into_iter()
        .enumerate()
        .map(|(i, headset)| {
            let sent = sent.clone();
            tokio::spawn(async move {
                let name = format!("casque_banc_{i}");
                let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE_HZ));
                while start.elapsed() < RUN {
                    tick.tick().await;
                    #[expect(clippy::cast_possible_truncation, reason = "ms of a run")]
                    let device_ms = start.elapsed().as_millis() as u64;
                    if let Ok(mut s) = sent.lock() {
                        s.insert((name.clone(), device_ms), Instant::now());
                    }
                    headset.send_pose(&pose(device_ms))?;
                }
                anyhow::Ok(headset)
            })
        })
        .collect();
    let mut latest: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    let deadline = RUN + Duration::from_secs(2);
    while start.elapsed() < deadline {
        let Ok(msg) = tokio::time::timeout(Duration::from_millis(200), console.recv()).await else {
            continue;
        };
        let Some(msg) = msg? else {
            return Err(anyhow!("the director closed the console's connection"));
        };
        let ServerMsg::Poses(poses) = msg else {
            continue;
        };
        let now = Instant::now();
        for hp in poses.poses {
            let device = hp.device.to_string();
            if latest.get(&device).is_some_and(|l| *l >= hp.pose.device_ms) {
                continue;
            }
            latest.insert(device.clone(), hp.pose.device_ms);
            let at = sent
                .lock()
                .ok()
                .and_then(|s| s.get(&(device, hp.pose.device_ms)).copied());
            if let Some(at) = at {
                out.push(ms(now.duration_since(at)));
            }
        }
    }
    for s in senders {
        drop(s.await??);
    }
    let total = sent.lock().map(|s| s.len()).unwrap_or(0);
    let seen = out.len();
    bench.serving.stop().await;
    Ok((out, total, seen))
}

/// The same stream, each datagram straight from one UDP socket to another.
async fn raw_udp() -> Result<Vec<f64>> {
    let rx = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let to = rx.local_addr()?;
    let start = Instant::now();
    let senders: Vec<_> = (0..HEADSETS)
        .map(|_| {
            tokio::spawn(async move {
                let tx = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
                let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE_HZ));
                while start.elapsed() < RUN {
                    tick.tick().await;
                    let nanos = start.elapsed().as_nanos().to_le_bytes();
                    let mut datagram = pose(0).to_datagram();
                    datagram.extend_from_slice(&nanos);
                    tx.send_to(&datagram, to).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    let mut out = Vec::new();
    let mut buf = [0_u8; 2048];
    while start.elapsed() < RUN + Duration::from_millis(500) {
        let Ok(got) = tokio::time::timeout(Duration::from_millis(200), rx.recv(&mut buf)).await
        else {
            continue;
        };
        let n = got?;
        let Some(stamp) = buf
            .get(n.saturating_sub(16)..n)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
        else {
            continue;
        };
        let sent_ns = u128::from_le_bytes(stamp);
        let now_ns = start.elapsed().as_nanos();
        #[expect(clippy::cast_precision_loss, reason = "nanoseconds of a run")]
        out.push(now_ns.saturating_sub(sent_ns) as f64 / 1e6);
    }
    for s in senders {
        s.await??;
    }
    Ok(out)
}
