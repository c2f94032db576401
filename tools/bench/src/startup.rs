//! Start-up times.
//!
//! - **Director start to ready**: the real `boussole-director serve` binary (release), from
//!   spawning the process to its line "écoute sur ADDR" (store opened with the key derivation,
//!   content loaded and packed, identity loaded or made, session created, QUIC bound). The
//!   first start has a fresh log and identity; the later ones reopen them. Beside it, the same
//!   span for a mosquitto broker (spawn to its port accepting a connection).
//! - **Client start to first frame**: the Bevy client is still a skeleton, so the client is a
//!   simulated device of `boussole-sim`, and "first frame" is its first snapshot applied:
//!   from `SimDevice::start` (already paired) to that snapshot, over loopback QUIC (handshake
//!   with the pinned CA, hello, welcome, snapshot). Pairing (SPAKE2), done once per device, is
//!   timed apart. Beside it, an MQTT client's connect and subscribe to its SUBACK on mosquitto.

use crate::common::{BenchDirector, PASSPHRASE, SCENARIO, Summary, bin_dir, code, ms, repo_root};
use crate::mosquitto::Mosquitto;
use anyhow::{Context, Result, anyhow, bail};
use boussole_protocol::wire::Role;
use boussole_sim::lineup::Seat;
use boussole_sim::{SimConfig, SimDevice};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Director starts measured (the first one fresh).
const DIRECTOR_RUNS: usize = 8;

/// Device starts measured.
const DEVICE_RUNS: usize = 30;

/// Runs the benchmark and prints its figures.
///
/// # Errors
/// A binary is missing or failed to start, or a device never got a snapshot.
pub fn run() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut starts = Vec::new();
    for _ in 0..DIRECTOR_RUNS {
        starts.push(director_ready_ms(&dir.path().join("director.db"))?);
    }
    let first = starts.first().copied().unwrap_or(f64::NAN);
    let mut later: Vec<f64> = starts.iter().skip(1).copied().collect();
    let later = Summary::of(&mut later);
    let runtime = crate::runtime()?;
    let (broker_ms, pair, device, mqtt) = runtime.block_on(async {
        let mut broker_ms = Vec::new();
        for _ in 0..DIRECTOR_RUNS {
            broker_ms.push(Mosquitto::start().await?.ready_ms);
        }
        let (mut pair, mut device) = device_first_snapshot().await?;
        let broker = Mosquitto::start().await?;
        let mut mqtt = Vec::new();
        for i in 0..DEVICE_RUNS {
            mqtt.push(mqtt_subscribed_ms(broker.port, i).await?);
        }
        anyhow::Ok((
            Summary::of(&mut broker_ms),
            Summary::of(&mut pair),
            Summary::of(&mut device),
            Summary::of(&mut mqtt),
        ))
    })?;
    println!("start-up:");
    println!(
        "  director `serve` start → ready: first (new log, new identity) {first:.1} ms; later starts {later}"
    );
    println!("  mosquitto start → accepting (baseline)  {broker_ms}");
    println!(
        "  ratio director/mosquitto (p50, later starts) {:.1}",
        later.p50 / broker_ms.p50
    );
    println!("  simulated device start → first snapshot applied {device}");
    println!("    (pairing beforehand, once per device: {pair})");
    println!("  MQTT connect + subscribe → SUBACK (baseline) {mqtt}");
    println!("  ratio device/MQTT (p50) {:.1}", device.p50 / mqtt.p50);
    Ok(())
}

/// Spawns `boussole-director serve` on `db` and returns ms until it prints its address; then
/// stops it.
fn director_ready_ms(db: &std::path::Path) -> Result<f64> {
    let bin = bin_dir()?.join("boussole-director");
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .arg("--db")
        .arg(db)
        .args(["serve", "--scenario", SCENARIO, "--bind", "127.0.0.1:0"])
        .args(["--pairing-code", crate::common::CODE])
        .env("BOUSSOLE_PASSPHRASE", PASSPHRASE)
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let ready = child.stdout.take().and_then(|out| {
        std::io::BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("écoute sur"))
            .map(|_| ms(started.elapsed()))
    });
    let _ = child.kill();
    let _ = child.wait();
    ready.ok_or_else(|| anyhow!("{} never said it was listening", bin.display()))
}

/// For each of [`DEVICE_RUNS`] new screens: ms to pair, and ms from start to first snapshot.
async fn device_first_snapshot() -> Result<(Vec<f64>, Vec<f64>)> {
    let bench = BenchDirector::start(1)?;
    let addr = bench.serving.local_addr();
    let (mut pair, mut first) = (Vec::new(), Vec::new());
    for i in 0..DEVICE_RUNS {
        let device = boussole_protocol::DeviceId::from(format!("ecran_depart_{i:02}").as_str());
        let t0 = Instant::now();
        let pairing = boussole_sim::pair(addr, code()?, &device).await?;
        pair.push(ms(t0.elapsed()));
        let mut config = SimConfig::new(Seat {
            device,
            role: Role::Screen,
            station: None,
            participant: None,
            puzzles: None,
        });
        config.content_hash = bench.serving.content_hashes().screen;
        let t0 = Instant::now();
        let handle = SimDevice::start(config, addr, pairing, bench.scenario.clone())?;
        let mut rx = handle.watch();
        let at = tokio::time::timeout(Duration::from_secs(10), async {
            rx.wait_for(|s| s.snapshots > 0)
                .await
                .map(|_| Instant::now())
        })
        .await
        .map_err(|_| anyhow!("no snapshot within 10 s"))?
        .map_err(|_| anyhow!("the device stopped"))?;
        first.push(ms(at - t0));
        let _ = handle.stop().await;
    }
    let _ = bench.serving.stop().await;
    Ok((pair, first))
}

/// ms from creating an MQTT client to its SUBACK.
async fn mqtt_subscribed_ms(port: u16, i: usize) -> Result<f64> {
    let t0 = Instant::now();
    let mut opts = MqttOptions::new(format!("banc-depart-{i}"), "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(opts, 16);
    client
        .subscribe("boussole/banc/depart", QoS::AtLeastOnce)
        .await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), eventloop.poll()).await {
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => break,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => bail!("MQTT client {i}: {e}"),
            Err(_) => bail!("MQTT client {i}: no SUBACK"),
        }
    }
    let elapsed = ms(t0.elapsed());
    let _ = client.disconnect().await;
    Ok(elapsed)
}
