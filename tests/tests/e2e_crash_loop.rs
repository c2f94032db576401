//! `kill -9` in a loop: a real `boussole-director serve` plays the demo's scripted session
//! with the six simulated devices, and is killed with SIGKILL at seeded random points, then
//! restarted with `--session`, again and again. After each kill, with the director dead:
//! `PRAGMA quick_check` is ok, every event a device got acknowledged is in the log, and the
//! log committed before the previous kill is still its prefix, record for record. After each
//! restart every device reconnects (the session resumes); after the last one, once the devices
//! are settled and the director's log says it owes them nothing more (`wait_done`), the game
//! ends in success with every cue firing acknowledged and every device event in the log exactly
//! once.
//!
//! CI kills 3 times in one game from a fixed seed (the first two mid-game; on a loaded machine
//! the third often lands after the ending); `BOUSSOLE_CRASH_KILLS=K` kills K times, `BOUSSOLE_FAULT_ROUNDS=N` plays N
//! games from seeds `seed..seed+N`, `BOUSSOLE_FAULT_SEED` picks the seed,
//! `BOUSSOLE_CRASH_KEEP=1` keeps each game's folder (log, the directors' stderr; with
//! `RUST_LOG=boussole_director=debug,boussole_sim=debug` both sides say which firings they
//! sent, re-derived and received) (RELIABILITY.md).

use anyhow::{Context, Result, ensure};
use boussole_director::session::Session;
use boussole_director::store::{LogRecord, SessionId, Store};
use boussole_protocol::manifest::Catalog;
use boussole_sim::SimHandle;
use boussole_tests::process::{DirectorProcess, director_binary, sped_up_script};
use boussole_tests::{
    GAME_GUARD, PASSPHRASE, Play, SCENARIO, assets_dir, check_exactly_once, check_success, content,
    content_dir, demo_script, device_events, fault_rounds, fault_seed,
    port_outside_ephemeral_range, room, scenario, start_devices, stop_all, wait_all, wait_done,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

/// The default seed (CI's).
const SEED: u64 = 90_210;

/// Kills per game in CI.
const KILLS: u32 = 3;

/// Each kill comes this long after the devices (re)connected, drawn uniformly: while they
/// resend their outboxes, answer, acknowledge cues.
const KILL_WINDOW_MS: std::ops::Range<u64> = 0..1_500;

/// The first kill comes no earlier than this after the first start, so the sped-up script's
/// facilitator commands (its last GO at 0.5 s) are all in the log.
const SCRIPT_DONE: Duration = Duration::from_millis(800);

/// Kills per game: `BOUSSOLE_CRASH_KILLS` when set, else [`KILLS`].
fn kills() -> Result<u32> {
    match std::env::var("BOUSSOLE_CRASH_KILLS") {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("BOUSSOLE_CRASH_KILLS={v:?} is not a number")),
        Err(_) => Ok(KILLS),
    }
}

/// What the checks after one kill found.
#[derive(Debug)]
struct AfterKill {
    records: usize,
    acked: usize,
    game_over: bool,
}

/// With the director dead: the log is sound, holds every acknowledged event, and still
/// starts with what it held after the previous kill.
fn check_after_kill(
    db: &Path,
    session: SessionId,
    devices: &[SimHandle],
    previous: &mut Vec<LogRecord>,
) -> Result<AfterKill> {
    // Counters read after the kill: every acknowledgement they hold was sent after its commit.
    let stats: Vec<_> = devices
        .iter()
        .map(|d| (d.device().clone(), d.stats()))
        .collect();
    let store = Store::open(db, PASSPHRASE)?;
    ensure!(store.quick_check()?, "PRAGMA quick_check is not ok");
    let log = device_events(&store, session)?;
    let mut acked = 0;
    for (device, s) in &stats {
        for seq in &s.acked_seqs {
            let copies = log.get(&(device.clone(), *seq)).map_or(0, Vec::len);
            ensure!(
                copies == 1,
                "{device}: acknowledged event {seq} is in the log {copies} times"
            );
            acked += 1;
        }
    }
    let records = store.log(session)?;
    ensure!(
        records.len() >= previous.len() && records.get(..previous.len()) == Some(&previous[..]),
        "the log committed before the previous kill changed ({} records then, {} now)",
        previous.len(),
        records.len()
    );
    let game_over = stats
        .iter()
        .any(|(_, s)| s.last_snapshot.as_ref().is_some_and(|s| s.ended.is_some()));
    let n = records.len();
    *previous = records;
    Ok(AfterKill {
        records: n,
        acked,
        game_over,
    })
}

async fn game(binary: &Path, seed: u64, kills: u32) -> Result<(u32, usize, Duration)> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut dir = tempfile::tempdir()?;
    if std::env::var_os("BOUSSOLE_CRASH_KEEP").is_some() {
        dir.disable_cleanup(true);
        eprintln!(
            "e2e_crash_loop: seed {seed}: files kept in {}",
            dir.path().display()
        );
    }
    let db = dir.path().join("director.db");
    let set = content()?;
    let scenario = scenario(&set, SCENARIO)?;
    let script = demo_script()?;
    let script_file = dir.path().join("commandes.ron");
    std::fs::write(&script_file, sped_up_script(&script)?)?;
    let bind = format!("127.0.0.1:{}", port_outside_ephemeral_range()?);
    let script_arg = script_file.to_string_lossy().into_owned();
    let mut director = DirectorProcess::start(
        binary,
        &db,
        &dir.path().join("director-0.log"),
        &[
            "--bind",
            &bind,
            "--scenario",
            SCENARIO,
            "--script",
            &script_arg,
        ],
    )?;
    let process_started = Instant::now();
    let (addr, session) = (director.addr, director.session);
    let play = Play {
        content: Catalog::build(&content_dir(), &assets_dir())?.hashes(),
        // Slow enough that the kills fall during the game.
        think: Duration::from_millis(400),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed,
        outbox_dir: Some(dir.path().join("outboxes")),
    };
    let devices = start_devices(addr, room(&script, &scenario), &scenario, &play).await?;
    wait_all(&devices, "a first connection", GAME_GUARD, |s| {
        s.connections > 0
    })
    .await?;

    let mut previous = Vec::new();
    let session_arg = session.to_string();
    for kill in 1..=kills {
        let mut wait = Duration::from_millis(rng.random_range(KILL_WINDOW_MS));
        if kill == 1 {
            wait = wait.max(SCRIPT_DONE.saturating_sub(process_started.elapsed()));
        }
        tokio::time::sleep(wait).await;
        let before: Vec<u32> = devices.iter().map(|d| d.stats().connections).collect();
        director.kill()?;
        let found = check_after_kill(&db, SessionId(session), &devices, &mut previous)
            .with_context(|| format!("seed {seed}, after kill {kill}"))?;
        eprintln!(
            "e2e_crash_loop: seed {seed}: kill {kill}/{kills} {wait:?} after the devices \
             connected{}: quick_check ok, {} acknowledged events all logged once, {} log \
             records, earlier log intact",
            if found.game_over {
                " (game over)"
            } else {
                " (mid-game)"
            },
            found.acked,
            found.records
        );
        director = DirectorProcess::start(
            binary,
            &db,
            &dir.path().join(format!("director-{kill}.log")),
            &["--bind", &bind, "--session", &session_arg],
        )?;
        ensure!(
            director.addr == addr && director.session == session,
            "same port, same session"
        );
        for (d, c) in devices.iter().zip(before) {
            d.wait_until("reconnecting to the restarted director", GAME_GUARD, |s| {
                s.online && s.connections > c
            })
            .await
            .with_context(|| format!("seed {seed}, after kill {kill}"))?;
        }
    }

    wait_done(&devices, &db, &set, SessionId(session))
        .await
        .with_context(|| format!("seed {seed}, after the last restart"))?;
    let stats = stop_all(devices).await?;
    director.kill()?;
    let store = Store::open(&db, PASSPHRASE)?;
    ensure!(store.quick_check()?, "PRAGMA quick_check at the end");
    let session = Session::open(store, &set, SessionId(session))?;
    check_success(session.engine())?;
    check_exactly_once(&device_events(session.store(), session.id())?, &stats)?;
    let events: usize = stats.iter().map(|(_, s)| s.events.len()).sum();
    let elapsed = started.elapsed();
    eprintln!(
        "e2e_crash_loop: seed {seed}: ok in {elapsed:.1?}: {kills} kills, success ending, \
         {events} device events each logged once"
    );
    Ok((kills, events, elapsed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_director_killed_again_and_again_loses_nothing_acknowledged() -> Result<()> {
    // The simulated devices' side of a diagnosis (the directors inherit `RUST_LOG` too).
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    // A private copy: the target folder may be shared, and a build from another checkout
    // replacing the binary between two restarts would migrate the log under the test.
    let built = director_binary()?;
    let bin_dir = tempfile::tempdir()?;
    let binary = bin_dir.path().join("boussole-director");
    std::fs::copy(&built, &binary).with_context(|| format!("copying {} aside", built.display()))?;
    let seed = fault_seed(SEED)?;
    let games = fault_rounds(1)?;
    let kills = kills()?;
    eprintln!("e2e_crash_loop: {games} game(s) of {kills} kills from seed {seed}");
    let (mut all_kills, mut all_events) = (0, 0);
    let mut slowest = Duration::ZERO;
    for i in 0..u64::from(games) {
        let seed = seed.wrapping_add(i);
        let (k, e, t) = game(&binary, seed, kills)
            .await
            .inspect_err(|e| eprintln!("e2e_crash_loop: seed {seed}: FAILED: {e:#}"))?;
        all_kills += k;
        all_events += e;
        slowest = slowest.max(t);
    }
    eprintln!(
        "e2e_crash_loop: {games} game(s) passed: {all_kills} kills, {all_events} device events \
         checked; slowest game {slowest:.1?}"
    );
    Ok(())
}
