//! `boussole-sim`: simulated devices for a rehearsal or a load test. Connects one device per
//! station of a scenario (room screen, terminals, headset; extra devices as second
//! terminals) to a running `boussole-director serve`, plays until a snapshot says the game
//! ended, and prints a short French summary.
//!
//! ```text
//! boussole-sim --director 127.0.0.1:4433 --code 314159 --content content \
//!     --scenario scape_attitudes --devices 6 --seed 7 --think-ms 150 --wrong-rate 0.3
//! ```

use anyhow::{Context, Result, anyhow, bail};
use boussole_content::ContentSet;
use boussole_protocol::manifest::Catalog;
use boussole_protocol::pairing::PairingCode;
use boussole_protocol::transport::Backoff;
use boussole_protocol::wire::Role;
use boussole_sim::{SimConfig, SimDevice, SimHandle, SimStats, lineup};
use clap::Parser;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Simulated devices that play a scenario against a director.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// The director's address, `host:port`.
    #[arg(long)]
    director: String,
    /// The pairing code the director shows (6 digits); not needed when `--state` holds
    /// every device's pairing.
    #[arg(long)]
    code: Option<String>,
    /// The content folder (its sibling `assets/` is packed with it).
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// The scenario played.
    #[arg(long)]
    scenario: String,
    /// Devices to connect: one per station first, then second terminals.
    #[arg(long, default_value_t = 6)]
    devices: usize,
    /// Seed of every random draw (device `i` uses `seed + i`).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Mean think time before each move on a puzzle, ms.
    #[arg(long, default_value_t = 150)]
    think_ms: u64,
    /// Chance of a wrong answer before the right one, per puzzle.
    #[arg(long, default_value_t = 0.2)]
    wrong_rate: f64,
    /// Chance of a hint request before answering, per puzzle.
    #[arg(long, default_value_t = 0.2)]
    hint_rate: f64,
    /// Prefix of the device ids (`sim-poste_quai`).
    #[arg(long, default_value = "sim-")]
    prefix: String,
    /// Keep pairings (and the headsets' outboxes) under this folder, to reconnect later
    /// without the code.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Give up after this many seconds without an ending.
    #[arg(long, default_value_t = 3600)]
    timeout_s: u64,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("boussole-sim: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool> {
    let cli = Cli::parse();
    let addr: SocketAddr = cli
        .director
        .to_socket_addrs()
        .with_context(|| format!("resolving {}", cli.director))?
        .next()
        .ok_or_else(|| anyhow!("{} has no address", cli.director))?;
    let (set, problems) = ContentSet::load_dir(&cli.content);
    for p in &problems {
        eprintln!("{p}");
    }
    let scenario = set
        .scenarios
        .iter()
        .map(|s| &s.value)
        .find(|s| s.id.as_str() == cli.scenario)
        .cloned()
        .map(Arc::new)
        .ok_or_else(|| {
            anyhow!(
                "no scenario {:?} under {}",
                cli.scenario,
                cli.content.display()
            )
        })?;
    let assets = cli
        .content
        .parent()
        .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"));
    let hashes = Catalog::build(&cli.content, &assets)
        .context("listing the content to compute its manifests' hashes")?
        .hashes();
    let code = cli
        .code
        .as_deref()
        .map(PairingCode::parse)
        .transpose()
        .map_err(|e| anyhow!("pairing code: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(play(&cli, addr, code, hashes, scenario))
}

async fn play(
    cli: &Cli,
    addr: SocketAddr,
    code: Option<PairingCode>,
    hashes: boussole_protocol::manifest::RoleHashes,
    scenario: Arc<boussole_content::scenario::Scenario>,
) -> Result<bool> {
    let seats = lineup::seats(&scenario, cli.devices, &cli.prefix);
    if seats.len() < scenario.stations.len() {
        eprintln!(
            "attention : {} appareils pour {} postes, certaines énigmes ne seront pas jouées",
            seats.len(),
            scenario.stations.len()
        );
    }
    let started = Instant::now();
    let mut devices: Vec<SimHandle> = Vec::new();
    for (i, seat) in seats.into_iter().enumerate() {
        let dir = cli.state.as_ref().map(|s| s.join(&seat.device.0));
        let saved = match &dir {
            Some(d) => boussole_sim::load_pairing(&d.join("pairing"))
                .with_context(|| format!("reading the pairing of {}", seat.device))?,
            None => None,
        };
        let pairing = match (saved, code) {
            (Some(p), _) => p,
            (None, Some(code)) => {
                let p = boussole_sim::pair(addr, code, &seat.device).await?;
                if let Some(d) = &dir {
                    boussole_sim::save_pairing(&d.join("pairing"), &p)
                        .with_context(|| format!("saving the pairing of {}", seat.device))?;
                }
                p
            }
            (None, None) => bail!("{} is not paired: give --code", seat.device),
        };
        let headset = seat.role == Role::Headset;
        let index = u64::try_from(i).unwrap_or(0);
        let mut config = SimConfig::new(seat);
        config.content_hash = hashes.for_role(config.seat.role);
        config.think = Duration::from_millis(cli.think_ms);
        config.wrong_rate = cli.wrong_rate;
        config.hint_rate = cli.hint_rate;
        config.seed = cli.seed.wrapping_add(index);
        // Clocks spread over a few seconds either way, for the clock sync to find.
        config.clock_offset_ms = (i64::try_from(i).unwrap_or(0) - 2) * 1_500;
        config.outbox = dir.filter(|_| headset).map(|d| d.join("outbox"));
        config.backoff = Backoff {
            attempts: 30,
            ..Backoff::default()
        };
        devices.push(SimDevice::start(config, addr, pairing, scenario.clone())?);
    }
    eprintln!(
        "{} appareils lancés vers {addr} ; la partie se joue dès que la régie la démarre.",
        devices.len()
    );
    let limit = Duration::from_secs(cli.timeout_s);
    let mut ended = None;
    for d in &devices {
        match d
            .wait_until("the end of the game", limit, |s| s.ended.is_some())
            .await
        {
            Ok(s) => ended = ended.or(s.ended.clone()),
            Err(e) => eprintln!("{e}"),
        }
    }
    let elapsed = started.elapsed();
    // Events still unacknowledged would be lost with a memory outbox: wait for them a little.
    for d in &devices {
        let _ = d
            .wait_until("the last acknowledgements", Duration::from_secs(5), |s| {
                s.pending == 0
            })
            .await;
    }
    let mut finals: Vec<(String, SimStats)> = Vec::new();
    for d in devices {
        let name = d.device().0.clone();
        let last = d.stats();
        finals.push((name, d.stop().await.unwrap_or(last)));
    }
    print!(
        "{}",
        summary_fr(&scenario, ended.as_ref(), elapsed, &finals)
    );
    Ok(ended.is_some())
}

/// `n` and its noun, singular for 0 and 1 as French has it.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n > 1 { many } else { one })
}

fn summary_fr(
    scenario: &boussole_content::scenario::Scenario,
    ended: Option<&boussole_content::ids::EndingId>,
    elapsed: Duration,
    devices: &[(String, SimStats)],
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let secs = format!("{:.1}", elapsed.as_secs_f64()).replace('.', ",");
    match ended {
        Some(e) => {
            let _ = writeln!(out, "Partie terminée : {e}, en {secs} s.");
        }
        None => {
            let _ = writeln!(out, "Partie non terminée après {secs} s.");
        }
    }
    let solved = devices
        .iter()
        .filter_map(|(_, s)| s.last_snapshot.as_ref())
        .map(|s| s.solved.len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "Énigmes résolues : {solved} sur {}.",
        scenario.puzzles.len()
    );
    for (name, s) in devices {
        let clock = s.clock.map_or_else(
            || "horloge non synchronisée".to_owned(),
            |c| {
                format!(
                    "écart d'horloge avec la régie {:+.0} ms (± {:.0} ms)",
                    c.offset_ms, c.uncertainty_ms
                )
            },
        );
        let _ = writeln!(
            out,
            "  {name} : {}, {} ({} acquittés) ; {} ({} reçus en double) ; {}, {}, {} ; {clock}",
            count(s.events_created, "événement", "événements"),
            count(s.events_sent, "envoi", "envois"),
            s.acked,
            count(s.cues_applied() as u64, "top appliqué", "tops appliqués"),
            s.duplicate_cues,
            count(s.right_answers, "bonne réponse", "bonnes réponses"),
            count(s.wrong_answers, "erreur", "erreurs"),
            count(s.hint_requests, "demande d'indice", "demandes d'indice"),
        );
    }
    out
}
