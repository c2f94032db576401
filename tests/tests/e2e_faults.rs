//! The demo room plays through a faulty network: every device reaches the director through a
//! [`FaultProxy`] that loses, delays and reorders datagrams both ways, and cuts the link twice
//! during play, once briefly (QUIC retransmits across it) and once long enough for every
//! device to give up on the connection and reconnect. The game still ends in success, every
//! device event is in the log exactly once, no acknowledged cue is sent again, and every
//! device resynced from a fresh snapshot after the long cut.
//!
//! The faults come from a printed seed (`BOUSSOLE_FAULT_SEED`, default fixed); CI plays one
//! round, `BOUSSOLE_FAULT_ROUNDS=N` plays N with seeds `seed..seed+N` (RELIABILITY.md).

use anyhow::{Result, anyhow, ensure};
use boussole_director::engine::Command;
use boussole_sim::SimHandle;
use boussole_sim::proxy::{FaultProxy, LinkFaults, ProxyConfig};
use boussole_tests::{
    GAME_GUARD, Play, Room, check_exactly_once, check_success, device_events, facilitator_steps,
    fault_rounds, fault_seed, play_facilitator, room, start_devices_via, start_room, stop_all,
    submit, wait_all, wait_settled, wait_solved,
};
use std::time::{Duration, Instant};

/// The default seed (CI's); any other is printed and replayed the same way.
const SEED: u64 = 20_260_601;

/// The faults of both directions during the whole game: 5 % loss, 5 ms plus up to 25 ms.
const SHAKY: LinkFaults = LinkFaults {
    loss: 0.05,
    delay: Duration::from_millis(5),
    jitter: Duration::from_millis(25),
};

/// Shorter than the devices' silence timeout (3 s): QUIC carries the connection across it.
const SHORT_CUT: Duration = Duration::from_millis(1_500);

/// Held until every device has noticed the silence and dropped its connection, and at least
/// this long.
const LONG_CUT: Duration = Duration::from_secs(4);

/// What one round found.
#[derive(Debug)]
struct Round {
    seed: u64,
    events: usize,
    cues: usize,
    reconnections: u32,
    game_on_at_long_cut: bool,
    elapsed: Duration,
}

fn connections(devices: &[SimHandle]) -> Vec<u32> {
    devices.iter().map(|d| d.stats().connections).collect()
}

async fn round(seed: u64) -> Result<Round> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let Room {
        scenario,
        script,
        serving,
        ..
    } = start_room(dir.path())?;
    let director = serving.handle();
    let proxy =
        FaultProxy::start(serving.local_addr(), ProxyConfig::symmetric(seed, SHAKY)).await?;
    eprintln!(
        "e2e_faults: seed {seed}: director {} behind proxy {}; {SHAKY:?} both ways",
        serving.local_addr(),
        proxy.local_addr()
    );
    let facilitator = play_facilitator(director.clone(), facilitator_steps(&script));
    let play = Play {
        content: serving.content_hashes(),
        // Slow enough that both cuts fall in the middle of the game.
        think: Duration::from_millis(300),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed,
        outbox_dir: Some(dir.path().join("outboxes")),
    };
    let devices = start_devices_via(
        serving.local_addr(),
        proxy.local_addr(),
        room(&script, &scenario),
        &scenario,
        &play,
    )
    .await?;
    wait_all(&devices, "a first connection", GAME_GUARD, |s| {
        s.connections > 0
    })
    .await?;

    wait_solved(&devices, 1, GAME_GUARD).await?;
    eprintln!(
        "e2e_faults: seed {seed}: short cut of {SHORT_CUT:?} after 1 puzzle solved; {}",
        proxy.stats()
    );
    proxy.set_cut(true);
    tokio::time::sleep(SHORT_CUT).await;
    proxy.set_cut(false);

    wait_solved(&devices, 3, GAME_GUARD).await?;
    let before = connections(&devices);
    let snapshots_before: Vec<u64> = devices.iter().map(|d| d.stats().snapshots).collect();
    let game_on = devices.iter().all(|d| {
        d.stats()
            .last_snapshot
            .as_ref()
            .is_some_and(|s| s.ended.is_none())
    });
    eprintln!(
        "e2e_faults: seed {seed}: long cut after 3 puzzles solved (game still on: {game_on}); \
         connections before {before:?}"
    );
    let cut_at = Instant::now();
    proxy.set_cut(true);
    wait_all(
        &devices,
        "losing the director in the cut",
        GAME_GUARD,
        |s| !s.online,
    )
    .await?;
    if let Some(rest) = LONG_CUT.checked_sub(cut_at.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    proxy.set_cut(false);
    eprintln!(
        "e2e_faults: seed {seed}: link restored after {:?}",
        cut_at.elapsed()
    );
    for (i, d) in devices.iter().enumerate() {
        let (c, s) = (
            before.get(i).copied().unwrap_or(0),
            snapshots_before.get(i).copied().unwrap_or(0),
        );
        d.wait_until("reconnecting and resyncing", GAME_GUARD, |st| {
            st.online && st.connections > c && st.snapshots > s
        })
        .await?;
    }

    let ended = wait_settled(&devices).await?;
    let _ = facilitator.join();
    submit(&director, Command::EndSession)?;
    let stats = stop_all(devices).await?;
    let proxy_stats = proxy.stats();
    drop(proxy);
    let session = serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    check_success(session.engine())?;
    check_exactly_once(&device_events(session.store(), session.id())?, &stats)?;

    let events: usize = stats.iter().map(|(_, s)| s.events.len()).sum();
    let cues: usize = stats.iter().map(|(_, s)| s.applied.len()).sum();
    let resent: u64 = stats.iter().map(|(_, s)| s.events_resent).sum();
    let duplicates: u64 = stats.iter().map(|(_, s)| s.duplicate_cues).sum();
    let reconnections: u32 = ended.iter().map(|s| s.connections.saturating_sub(1)).sum();
    ensure!(
        proxy_stats.to_director.lost > 0 && proxy_stats.to_device.lost > 0,
        "the link lost datagrams both ways: {proxy_stats}"
    );
    ensure!(
        proxy_stats.to_director.cut > 0 && proxy_stats.to_device.cut > 0,
        "the cuts dropped datagrams: {proxy_stats}"
    );
    let elapsed = started.elapsed();
    eprintln!(
        "e2e_faults: seed {seed}: ok in {elapsed:.1?}: {events} device events each logged \
         once ({resent} resent), {cues} cue firings applied once ({duplicates} resends found \
         applied), {reconnections} reconnections; proxy {proxy_stats}"
    );
    Ok(Round {
        seed,
        events,
        cues,
        reconnections,
        game_on_at_long_cut: game_on,
        elapsed,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_plays_through_loss_jitter_and_cuts_and_nothing_is_lost_or_doubled() -> Result<()>
{
    let seed = fault_seed(SEED)?;
    let rounds = fault_rounds(1)?;
    eprintln!("e2e_faults: {rounds} round(s) from seed {seed}");
    let mut found = Vec::new();
    for i in 0..u64::from(rounds) {
        let seed = seed.wrapping_add(i);
        let result = round(seed).await;
        if let Err(e) = &result {
            eprintln!("e2e_faults: seed {seed}: FAILED: {e:#}");
        }
        found.push(result?);
    }
    let events: usize = found.iter().map(|r| r.events).sum();
    let cues: usize = found.iter().map(|r| r.cues).sum();
    let reconnections: u32 = found.iter().map(|r| r.reconnections).sum();
    let mid_game = found.iter().filter(|r| r.game_on_at_long_cut).count();
    let slowest = found.iter().map(|r| r.elapsed).max().unwrap_or_default();
    eprintln!(
        "e2e_faults: {} round(s) passed (seeds {:?}): {events} events, {cues} cue firings, \
         {reconnections} reconnections, {mid_game} long cuts mid-game; slowest round {slowest:.1?}",
        found.len(),
        found.iter().map(|r| r.seed).collect::<Vec<_>>()
    );
    Ok(())
}
