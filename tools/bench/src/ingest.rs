//! Durable ingest of device events: how many a second reach the encrypted session log
//! (SQLCipher, WAL, `synchronous=FULL`), and how long one waits for its acknowledgement,
//! beside raw rusqlite inserts into the same kind of file with the same pragmas and batch size.
//!
//! - **director**: `DirectorHandle::submit(Input::Device …)` one after another, as the
//!   server's routing task does (it acknowledges an event when `submit` returns): channel to
//!   the session thread, duplicate check and append in one `BEGIN IMMEDIATE` transaction
//!   (`Store::append_device_event`), then the engine's fold.
//! - **director, several devices at once**: [`WRITERS`] threads submitting together; the
//!   session thread commits what queued up in one transaction (group commit), as the server's
//!   routing does with the device events that arrive together.
//! - **store alone**: `Store::append_device_event` in a loop.
//! - **raw rusqlite**: `INSERT` of the same payload into a one-table file with the same key,
//!   WAL, `synchronous=FULL`, `secure_delete` and foreign keys, one transaction per event (the
//!   store's batch size: it has no group commit yet), then one per 64 events (what group commit
//!   could reach).
//!
//! Target (issue "Benchmarks"): ≥ 20 000 durable events/s and ≥ 0.8 × raw rusqlite.

use crate::common::{PASSPHRASE, SCENARIO, Summary, bench_content, ms};
use anyhow::{Context, Result, anyhow};
use boussole_content::ids::{HotspotId, ImmersionId};
use boussole_director::engine::Input;
use boussole_director::runtime::{Director, unix_ms};
use boussole_director::session::Session;
use boussole_director::store::Store;
use boussole_protocol::{DeviceEvent, DeviceId};
use rusqlite::{Connection, TransactionBehavior, params};
use std::path::Path;
use std::time::Instant;

/// Events per measurement at one event per transaction (each waits for an fsync).
const EVENTS: usize = 1_500;

/// Events, and events per transaction, of the group-commit ceiling.
const BATCHED: (usize, usize) = (32_000, 64);

/// Runs the benchmark and prints its figures.
///
/// # Errors
/// A database could not be opened or written.
pub fn run() -> Result<()> {
    let dir = tempfile::tempdir().context("a temporary folder for the databases")?;
    let event = DeviceEvent::HotspotSeen {
        immersion: ImmersionId::from("tutoriel"),
        hotspot: HotspotId::from("h_quai"),
    };
    let device = DeviceId::from("casque_banc");
    let payload = postcard::to_allocvec(&Input::Device {
        device: device.clone(),
        seq: 1,
        event: event.clone(),
    })?;

    let (director_rate, mut director_ack) = through_director(&dir.path().join("d.db"), &event)?;
    let (group_rate, mut group_ack) =
        through_director_concurrent(&dir.path().join("g.db"), &event)?;
    let (store_rate, mut store_ack) = store_alone(&dir.path().join("s.db"), &payload)?;
    let (raw_rate, mut raw_ack) = raw(&dir.path().join("r.db"), &payload, EVENTS, 1)?;
    let (batched_rate, mut batched_ack) =
        raw(&dir.path().join("b.db"), &payload, BATCHED.0, BATCHED.1)?;
    let (pipelined_rate, mut pipelined_ack) = through_server_pipelined()?;
    let pl = Summary::of(&mut pipelined_ack);
    let g = Summary::of(&mut group_ack);
    let (d, s, r, b) = (
        Summary::of(&mut director_ack),
        Summary::of(&mut store_ack),
        Summary::of(&mut raw_ack),
        Summary::of(&mut batched_ack),
    );
    println!(
        "durable ingest, SQLCipher WAL synchronous=FULL, {}-byte events, one writer:",
        payload.len()
    );
    println!("  director (session thread), 1 event/commit  {director_rate:>8.0} events/s; ack {d}");
    println!(
        "  director, {WRITERS} devices at once (group commit) {group_rate:>8.0} events/s; ack {g}"
    );
    println!("  Store::append_device_event, 1 event/commit {store_rate:>8.0} events/s; ack {s}");
    println!("  raw rusqlite INSERT, 1 event/commit        {raw_rate:>8.0} events/s; commit {r}");
    println!(
        "  raw rusqlite INSERT, {} events/commit      {batched_rate:>8.0} events/s; commit {b}",
        BATCHED.1
    );
    println!(
        "  ratios: director/raw {:.2} (target ≥ 0.8: {}), store/raw {:.2}, director with {WRITERS} devices/raw {:.2}; director {:.0}/s vs target 20 000/s: {} ({:.1}% of it); raw at {} events/commit reaches {:.0}/s",
        director_rate / raw_rate,
        if director_rate / raw_rate >= 0.8 {
            "met"
        } else {
            "SHORT"
        },
        store_rate / raw_rate,
        group_rate / raw_rate,
        director_rate,
        if director_rate >= 20_000.0 {
            "met"
        } else {
            "SHORT"
        },
        director_rate / 200.0,
        BATCHED.1,
        batched_rate
    );
    println!(
        "  real server over QUIC, {WRITERS} devices, {PIPELINED_PER_DEVICE} events each all in flight (pipelined, acknowledged in batches): {pipelined_rate:.0} events/s, {:.2} × raw batched; each device's last ack {pl}; target ≥ 20 000/s and ≥ 0.25 × raw batched: {}",
        pipelined_rate / batched_rate,
        if pipelined_rate >= 20_000.0 && pipelined_rate / batched_rate >= 0.25 {
            "met".to_owned()
        } else {
            format!(
                "SHORT ({:.0} % of 20 000/s, {:.2} × raw batched)",
                pipelined_rate / 200.0,
                pipelined_rate / batched_rate
            )
        }
    );
    Ok(())
}

/// Events each device of the pipelined run sends at once.
const PIPELINED_PER_DEVICE: u64 = 2_000;

/// Events/s through the real server (QUIC, TLS, the routing task, group commit, batched
/// acknowledgements) with [`WRITERS`] simulated devices that each send
/// [`PIPELINED_PER_DEVICE`] events without waiting (their outbox in memory, as the simulated
/// devices keep it), until every one is acknowledged; and each device's time to its last
/// acknowledgement, ms.
fn through_server_pipelined() -> Result<(f64, Vec<f64>)> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let bench = crate::common::BenchDirector::start(1)?;
        let addr = bench.serving.local_addr();
        let devices = bench.screens(WRITERS, addr, |_, _| {}).await?;
        let before: Vec<u64> = devices.iter().map(|d| d.stats().acked).collect();
        let started = Instant::now();
        for d in &devices {
            for _ in 0..PIPELINED_PER_DEVICE {
                d.hotspot_seen(ImmersionId::from("tutoriel"), HotspotId::from("h_quai"))
                    .map_err(|e| anyhow!("{e}"))?;
            }
        }
        let mut last = Vec::new();
        for (d, before) in devices.iter().zip(before) {
            d.wait_until(
                "every event acknowledged",
                std::time::Duration::from_secs(300),
                |s| s.acked >= before + PIPELINED_PER_DEVICE && s.link.pending == 0,
            )
            .await?;
            last.push(ms(started.elapsed()));
        }
        let rate = (PIPELINED_PER_DEVICE * WRITERS as u64) as f64 / started.elapsed().as_secs_f64();
        crate::common::stop_all(devices).await;
        let _ = bench.serving.stop().await;
        Ok((rate, last))
    })
}

/// Writers of the concurrent run: devices whose events reach the session thread at once, as
/// when several devices of a room send together.
const WRITERS: usize = 8;

/// Events/s and each submit's time to its acknowledgement, ms, through the session thread, with
/// [`WRITERS`] devices submitting at the same time (what group commit serves).
fn through_director_concurrent(path: &Path, event: &DeviceEvent) -> Result<(f64, Vec<f64>)> {
    let (set, _) = bench_content(1)?;
    let store = Store::open(path, PASSPHRASE)?;
    let session = Session::create(store, &set, SCENARIO, "banc d'ingestion", unix_ms())?;
    let (outputs, rx) = std::sync::mpsc::channel();
    let drain = std::thread::spawn(move || while rx.recv().is_ok() {});
    let director = Director::start(session, outputs);
    let per_writer = (EVENTS * 4 / WRITERS) as u64;
    let started = Instant::now();
    let workers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let handle = director.handle();
            let event = event.clone();
            std::thread::spawn(move || -> Result<Vec<f64>> {
                let device = DeviceId::from(format!("casque_{w}").as_str());
                let mut acks = Vec::new();
                for seq in 1..=per_writer {
                    let t0 = Instant::now();
                    handle
                        .submit(Input::Device {
                            device: device.clone(),
                            seq,
                            event: event.clone(),
                        })
                        .map_err(|e| anyhow!("writer {w}, event {seq}: {e}"))?;
                    acks.push(ms(t0.elapsed()));
                }
                Ok(acks)
            })
        })
        .collect();
    let mut acks = Vec::new();
    for w in workers {
        acks.extend(w.join().map_err(|_| anyhow!("a writer panicked"))??);
    }
    let rate = acks.len() as f64 / started.elapsed().as_secs_f64();
    let _ = director.stop();
    let _ = drain.join();
    Ok((rate, acks))
}

/// Events/s and each submit's time to its acknowledgement, ms, through the session thread.
fn through_director(path: &Path, event: &DeviceEvent) -> Result<(f64, Vec<f64>)> {
    let (set, _) = bench_content(1)?;
    let store = Store::open(path, PASSPHRASE)?;
    let session = Session::create(store, &set, SCENARIO, "banc d'ingestion", unix_ms())?;
    let (outputs, rx) = std::sync::mpsc::channel();
    // Drain what the session thread reports, as the network loop would.
    let drain = std::thread::spawn(move || while rx.recv().is_ok() {});
    let director = Director::start(session, outputs);
    let handle = director.handle();
    let device = DeviceId::from("casque_banc");
    let mut acks = Vec::with_capacity(EVENTS);
    let started = Instant::now();
    for seq in 1..=EVENTS as u64 {
        let t0 = Instant::now();
        handle
            .submit(Input::Device {
                device: device.clone(),
                seq,
                event: event.clone(),
            })
            .map_err(|e| anyhow!("event {seq}: {e}"))?;
        acks.push(ms(t0.elapsed()));
    }
    let rate = EVENTS as f64 / started.elapsed().as_secs_f64();
    drop(handle);
    let _ = director.stop();
    let _ = drain.join();
    Ok((rate, acks))
}

/// Events/s and each append's time, ms, with the store alone.
fn store_alone(path: &Path, payload: &[u8]) -> Result<(f64, Vec<f64>)> {
    let mut store = Store::open(path, PASSPHRASE)?;
    let session = store.create_session(SCENARIO, "banc", unix_ms())?;
    let mut acks = Vec::with_capacity(EVENTS);
    let started = Instant::now();
    for seq in 1..=EVENTS as u64 {
        let t0 = Instant::now();
        store.append_device_event(session, "casque_banc", seq, seq, "device", payload)?;
        acks.push(ms(t0.elapsed()));
    }
    Ok((EVENTS as f64 / started.elapsed().as_secs_f64(), acks))
}

/// Events/s and each commit's time, ms, of `events` raw inserts, `batch` per transaction.
pub(crate) fn raw(
    path: &Path,
    payload: &[u8],
    events: usize,
    batch: usize,
) -> Result<(f64, Vec<f64>)> {
    boussole_director::store::sqlcipher_ready();
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "key", PASSPHRASE)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "journal mode {mode}");
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "secure_delete", true)?;
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    conn.execute_batch(
        "CREATE TABLE log (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
         payload BLOB NOT NULL) STRICT",
    )?;
    let mut commits = Vec::with_capacity(events / batch + 1);
    let started = Instant::now();
    let mut seq: i64 = 0;
    while (seq as usize) < events {
        let t0 = Instant::now();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO log (seq, at_ms, kind, payload) VALUES (?1, ?2, 'device', ?3)",
            )?;
            for _ in 0..batch {
                seq += 1;
                insert.execute(params![seq, seq, payload])?;
            }
        }
        tx.commit()?;
        commits.push(ms(t0.elapsed()));
    }
    Ok((seq as f64 / started.elapsed().as_secs_f64(), commits))
}
