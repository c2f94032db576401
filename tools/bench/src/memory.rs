//! Peak memory (VmHWM of `/proc/<pid>/status`, KiB) of the director and of a client, each its
//! own process: the real `boussole-director serve` (release) playing the networked demo's
//! facilitator script (`director/scripts/demo_network.ron`), one `boussole-sim` process with
//! the six devices that play the game, and one with a single device (the client: the Bevy
//! client is still a skeleton, so a client is a simulated device). Peaks are read every 20 ms
//! until the game ends (VmHWM only grows). Beside them, mosquitto's peak with seven clients
//! after 100 QoS 1 messages fanned out to six of them.

use crate::common::{CODE, PASSPHRASE, SCENARIO, bin_dir, repo_root, vm_hwm_kib};
use crate::mosquitto::Mosquitto;
use anyhow::{Context, Result, anyhow};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Guard of the whole game.
const GAME_GUARD: Duration = Duration::from_secs(120);

/// Runs the benchmark and prints its figures.
///
/// # Errors
/// A binary is missing, or a process died before its peak could be read.
pub fn run() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let bin = bin_dir()?;
    let db = dir.path().join("director.db");
    let mut director = Command::new(bin.join("boussole-director"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--scenario", SCENARIO, "--bind", "127.0.0.1:0"])
        .args(["--pairing-code", CODE])
        .args(["--script", "director/scripts/demo_network.ron"])
        .env("BOUSSOLE_PASSPHRASE", PASSPHRASE)
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting boussole-director serve")?;
    let addr = director
        .stdout
        .take()
        .and_then(|out| {
            std::io::BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .find_map(|l| {
                    l.split_once("écoute sur ")
                        .map(|(_, a)| a.trim().to_owned())
                })
        })
        .ok_or_else(|| anyhow!("serve printed no address"))?;
    let sim = |devices: &str, prefix: &str, think: &str| -> Result<Child> {
        Command::new(bin.join("boussole-sim"))
            .args(["--director", &addr, "--code", CODE, "--scenario", SCENARIO])
            .args([
                "--devices",
                devices,
                "--prefix",
                prefix,
                "--think-ms",
                think,
            ])
            .args(["--timeout-s", "100"])
            .current_dir(repo_root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting boussole-sim")
    };
    let mut six = sim("6", "sim-", "150")?;
    // The single client pairs after the six and never answers (its think time is too long):
    // it receives snapshots and the cues for its role, as a client in the room does.
    std::thread::sleep(Duration::from_millis(300));
    let mut one = sim("1", "solo-", "1000000")?;
    let (mut peak_d, mut peak_six, mut peak_one) = (0, 0, 0);
    let started = Instant::now();
    let mut game_ms = None;
    while started.elapsed() < GAME_GUARD {
        peak_d = vm_hwm_kib(director.id()).unwrap_or(peak_d);
        peak_six = vm_hwm_kib(six.id()).unwrap_or(peak_six);
        peak_one = vm_hwm_kib(one.id()).unwrap_or(peak_one);
        if let Ok(Some(_)) = six.try_wait() {
            game_ms = Some(started.elapsed().as_millis());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The single client ends with the game too; give it a moment, then stop everyone.
    let _ = wait_or_kill(&mut one, Duration::from_secs(5));
    peak_d = vm_hwm_kib(director.id()).unwrap_or(peak_d);
    let _ = director.kill();
    let _ = director.wait();
    let _ = six.kill();
    let _ = six.wait();

    let runtime = crate::runtime()?;
    let broker_kib = runtime.block_on(async {
        let broker = Mosquitto::start().await?;
        crate::cue::mqtt(broker.port, 6, 100).await?;
        vm_hwm_kib(broker.pid())
    })?;

    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "peak memory (VmHWM), a whole networked demo game ({}):",
        game_ms.map_or_else(
            || "NOT FINISHED within the guard".to_owned(),
            |t| format!("{t} ms")
        )
    );
    println!(
        "  director `serve` (6 + 1 devices)        {:>7.1} MiB",
        mib(peak_d)
    );
    println!(
        "  boussole-sim, 1 device (a client)       {:>7.1} MiB",
        mib(peak_one)
    );
    println!(
        "  boussole-sim, 6 devices in one process  {:>7.1} MiB",
        mib(peak_six)
    );
    println!(
        "  mosquitto, 7 clients, 100 QoS 1 fan-outs (baseline) {:>7.1} MiB; ratio director/mosquitto {:.1}",
        mib(broker_kib),
        peak_d as f64 / broker_kib as f64
    );
    Ok(())
}

/// Waits for `child` up to `limit`, then kills it.
fn wait_or_kill(child: &mut Child, limit: Duration) -> std::io::Result<()> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill()?;
    child.wait().map(|_| ())
}
