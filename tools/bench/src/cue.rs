//! Cue latency, GO → applied, on loopback: the director (session thread, encrypted log with
//! `synchronous=FULL`, QUIC server) and 1, 6, 20 and 50 simulated room screens in this process,
//! beside two baselines run in the same process right after: MQTT QoS 1 through a local
//! mosquitto (publish → each subscriber's receipt) and a raw UDP fan-out with echo (the floor).
//! Every time is read from the one monotonic clock of this process.
//!
//! Target (issue "Benchmarks"): p99 ≤ 2 ms at 20 clients, and no slower than mosquitto QoS 1.

use crate::common::{BenchDirector, Summary, ms, stop_all};
use crate::mosquitto::Mosquitto;
use anyhow::{Context, Result, anyhow, bail};
use boussole_director::engine::{Command, Effect, Input};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Client counts measured.
const CLIENTS: [usize; 4] = [1, 6, 20, 50];

/// GOs measured per client count (fewer at 50: each GO then costs 50 durable acknowledgements).
fn rounds(clients: usize) -> usize {
    if clients >= 50 { 100 } else { 200 }
}

/// GOs fired first and not counted (connections, caches and the WAL warm up).
const WARM_UP: usize = 5;

/// Guard of each wait; only a hang reaches it.
const GUARD: Duration = Duration::from_secs(20);

/// The MQTT topic of the baseline.
const TOPIC: &str = "boussole/banc/cue";

/// Runs the benchmark and prints one block per client count.
///
/// # Errors
/// A director, device, broker or socket failed.
pub fn run() -> Result<()> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let broker = Mosquitto::start().await?;
        println!(
            "cue latency, GO → applied, loopback (mosquitto {} started in {:.0} ms)",
            broker.version,
            broker.ready_ms
        );
        for n in CLIENTS {
            let rounds = rounds(n);
            let (mut director, mut committed) = director(n, rounds).await?;
            let mut mqtt = mqtt(broker.port, n, rounds).await?;
            let mut udp = udp(n, rounds).await?;
            let (d, c, m, u) = (
                Summary::of(&mut director),
                Summary::of(&mut committed),
                Summary::of(&mut mqtt),
                Summary::of(&mut udp),
            );
            println!("  {n} clients, {rounds} GOs, one sample per client and GO:");
            println!("    boussole (QUIC, GO logged first)     {d}");
            println!("      of which GO committed (fsync)      {c}");
            println!("    MQTT QoS 1 via mosquitto             {m}");
            println!("    raw UDP fan-out + echo (floor)       {u}");
            let verdict = if n == 20 {
                // The commit's baseline, same run: a raw rusqlite commit with the same
                // pragmas, one row per transaction, in a file on the same disk.
                let dir = tempfile::tempdir()?;
                let (_, mut raw) =
                    crate::ingest::raw(&dir.path().join("raw.db"), &[0u8; 64], 400, 1)?;
                let r = Summary::of(&mut raw);
                println!("    raw rusqlite commit (baseline)       {r}");
                // Where a GO's commit time goes: the session alone on this thread (store and
                // engine, no hop), then through the session thread (one hop), nothing else
                // running; beside the figure above (the server, 20 screens).
                let (mut alone, mut hop) = commit_paths()?;
                let (a, h) = (Summary::of(&mut alone), Summary::of(&mut hop));
                println!("    GO on the session alone (no thread)  {a}");
                println!("    GO through the session thread, idle  {h}");
                format!(
                    "; target p99 ≤ 2 ms: {}; no slower than mosquitto: {}; GO committed p99 ≤ 1.5 × raw commit p99: {} ({:.2} ×)",
                    if d.p99 <= 2.0 { "met" } else { "SHORT" },
                    if d.p99 <= m.p99 { "met" } else { "SHORT" },
                    if c.p99 <= 1.5 * r.p99 { "met" } else { "SHORT" },
                    c.p99 / r.p99
                )
            } else {
                String::new()
            };
            println!(
                "    ratios: p99 boussole/mosquitto {:.2}, boussole/UDP {:.1}; p50 boussole/mosquitto {:.2}{verdict}",
                d.p99 / m.p99,
                d.p99 / u.p99,
                d.p50 / m.p50
            );
        }
        anyhow::Ok(())
    })
}

/// GOs committed with nothing else running, ms each: on a [`Session`] called on this thread
/// (the store's transaction and fsync, the engine's fold), then through a [`Director`]'s
/// session thread (plus the channel and the thread's wake-up).
fn commit_paths() -> Result<(Vec<f64>, Vec<f64>)> {
    use crate::common::{PASSPHRASE, SCENARIO, bench_content};
    use boussole_director::runtime::{Director, unix_ms};
    use boussole_director::session::Session;
    use boussole_director::store::Store;
    const GOS: usize = 300;
    let (set, _) = bench_content(GOS)?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("alone.db"), PASSPHRASE)?;
    let mut session = Session::create(store, &set, SCENARIO, "banc", unix_ms())?;
    let mut alone = Vec::with_capacity(GOS);
    for _ in 0..GOS {
        let t0 = Instant::now();
        session.submit(Input::Command(Command::Go), session.time_at(unix_ms()))?;
        alone.push(ms(t0.elapsed()));
    }
    let store = Store::open(&dir.path().join("thread.db"), PASSPHRASE)?;
    let session = Session::create(store, &set, SCENARIO, "banc", unix_ms())?;
    let (outputs, rx) = std::sync::mpsc::channel();
    let drain = std::thread::spawn(move || while rx.recv().is_ok() {});
    let director = Director::start(session, outputs);
    let handle = director.handle();
    let mut hop = Vec::with_capacity(GOS);
    for _ in 0..GOS {
        let t0 = Instant::now();
        handle
            .submit(Input::Command(Command::Go))
            .map_err(|e| anyhow!("GO: {e}"))?;
        hop.push(ms(t0.elapsed()));
        // A GO comes seconds apart: the session thread sleeps in between.
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(handle);
    let _ = director.stop();
    let _ = drain.join();
    Ok((alone, hop))
}

/// `rounds` GOs to `n` screens: for each GO and screen, ms from just before the GO was submitted
/// to the screen's application of the cue; and for each GO, ms until it was committed.
async fn director(n: usize, rounds: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let bench = BenchDirector::start(rounds + WARM_UP)?;
    let devices = bench
        .screens(n, bench.serving.local_addr(), |_, _| {})
        .await?;
    let handle = bench.serving.handle();
    let mut latencies = Vec::with_capacity(n * rounds);
    let mut committed = Vec::with_capacity(rounds);
    for k in 0..rounds + WARM_UP {
        // As the network loop submits a console's GO: from an async task, awaited.
        let t0 = Instant::now();
        let out = handle.submit_async(Input::Command(Command::Go)).await;
        let t1 = Instant::now();
        let out = out.map_err(|e| anyhow!("GO {k}: {e}"))?;
        let instance = out
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::FireCue { instance, .. } => Some(*instance),
                _ => None,
            })
            .ok_or_else(|| anyhow!("GO {k} fired no cue: {:?}", out.effects))?;
        for d in &devices {
            let s = d
                .wait_until("the cue", GUARD, |s| s.cue_timings.contains_key(&instance))
                .await?;
            let at = s
                .cue_timings
                .get(&instance)
                .ok_or_else(|| anyhow!("{}: stopped before the cue", d.device()))?
                .applied_at;
            if k >= WARM_UP {
                latencies.push(ms(at.saturating_duration_since(t0)));
            }
        }
        if k >= WARM_UP {
            committed.push(ms(t1 - t0));
        }
        // Quiet before the next GO: every acknowledgement logged and answered.
        for d in &devices {
            d.wait_until("its acknowledgements", GUARD, |s| s.pending == 0)
                .await?;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop_all(devices).await;
    let _ = bench.serving.stop().await;
    Ok((latencies, committed))
}

/// `rounds` QoS 1 publishes to `n` subscribers of a mosquitto on `port`: ms from just before
/// each publish to each subscriber's receipt.
pub async fn mqtt(port: u16, n: usize, rounds: usize) -> Result<Vec<f64>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(u32, Instant)>();
    let mut tasks = Vec::new();
    for i in 0..n {
        let mut opts = MqttOptions::new(format!("banc-abonne-{i}"), "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(30));
        let (client, mut eventloop) = AsyncClient::new(opts, 1024);
        client
            .subscribe(TOPIC, QoS::AtLeastOnce)
            .await
            .context("subscribing")?;
        loop {
            match tokio::time::timeout(GUARD, eventloop.poll()).await {
                Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => bail!("subscriber {i}: {e}"),
                Err(_) => bail!("subscriber {i}: no SUBACK"),
            }
        }
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let _client = client;
            while let Ok(event) = eventloop.poll().await {
                if let Event::Incoming(Packet::Publish(p)) = event {
                    let now = Instant::now();
                    if let Some(k) = p.payload.get(..4).and_then(|b| b.try_into().ok()) {
                        let _ = tx.send((u32::from_le_bytes(k), now));
                    }
                }
            }
        }));
    }
    let mut opts = MqttOptions::new("banc-regie", "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (publisher, mut eventloop) = AsyncClient::new(opts, 1024);
    tasks.push(tokio::spawn(async move {
        while eventloop.poll().await.is_ok() {}
    }));
    let mut latencies = Vec::with_capacity(n * rounds);
    for k in 0..(rounds + WARM_UP) as u32 {
        let t0 = Instant::now();
        publisher
            .publish(TOPIC, QoS::AtLeastOnce, false, k.to_le_bytes().to_vec())
            .await
            .context("publishing")?;
        let mut got = 0;
        while got < n {
            let (seen, at) = tokio::time::timeout(GUARD, rx.recv())
                .await
                .map_err(|_| anyhow!("MQTT: publish {k} not received by every subscriber"))?
                .ok_or_else(|| anyhow!("MQTT: subscribers gone"))?;
            if seen == k {
                got += 1;
                if k as usize >= WARM_UP {
                    latencies.push(ms(at.saturating_duration_since(t0)));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = publisher.disconnect().await;
    for t in tasks {
        t.abort();
    }
    Ok(latencies)
}

/// `rounds` datagrams sent to `n` sockets on loopback, each echoed back: ms from just before
/// the first send of a round to each socket's receipt.
async fn udp(n: usize, rounds: usize) -> Result<Vec<f64>> {
    let sender = UdpSocket::bind("127.0.0.1:0").await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<(u32, Instant)>();
    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(n);
    let mut tasks = Vec::new();
    for _ in 0..n {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        addrs.push(socket.local_addr()?);
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut buf = [0u8; 64];
            while let Ok((len, from)) = socket.recv_from(&mut buf).await {
                let now = Instant::now();
                if let Some(k) = buf.get(..4.min(len)).and_then(|b| b.try_into().ok()) {
                    let _ = tx.send((u32::from_le_bytes(k), now));
                }
                let _ = socket
                    .send_to(buf.get(..len).unwrap_or_default(), from)
                    .await;
            }
        }));
    }
    let mut latencies = Vec::with_capacity(n * rounds);
    let mut echo = [0u8; 64];
    for k in 0..(rounds + WARM_UP) as u32 {
        let t0 = Instant::now();
        for a in &addrs {
            sender.send_to(&k.to_le_bytes(), a).await?;
        }
        let mut got = 0;
        while got < n {
            let (seen, at) = tokio::time::timeout(GUARD, rx.recv())
                .await
                .map_err(|_| anyhow!("UDP: datagram {k} lost on loopback"))?
                .ok_or_else(|| anyhow!("UDP: receivers gone"))?;
            if seen == k {
                got += 1;
                if k as usize >= WARM_UP {
                    latencies.push(ms(at.saturating_duration_since(t0)));
                }
            }
        }
        for _ in 0..n {
            tokio::time::timeout(GUARD, sender.recv_from(&mut echo))
                .await
                .map_err(|_| anyhow!("UDP: an echo of {k} was lost"))??;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for t in tasks {
        t.abort();
    }
    Ok(latencies)
}
