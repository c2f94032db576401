//! What the benchmarks share: percentiles, the repository and binary folders, free ports, peak
//! memory read from `/proc`, and a director with simulated devices on loopback.

use anyhow::{Context, Result, anyhow, ensure};
use boussole_content::ContentSet;
use boussole_content::cue::{ContinueMode, Cue, CueKind, DeviceRole, Target, Trigger};
use boussole_content::ids::CueId;
use boussole_content::scenario::Scenario;
use boussole_director::runtime::unix_ms;
use boussole_director::server::{ServeConfig, Serving};
use boussole_director::session::Session;
use boussole_director::store::Store;
use boussole_protocol::pairing::PairingCode;
use boussole_protocol::transport::Backoff;
use boussole_protocol::wire::Role;
use boussole_sim::lineup::Seat;
use boussole_sim::{SimConfig, SimDevice, SimHandle};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The scenario whose stations and texts the benchmarks borrow.
pub const SCENARIO: &str = "scape_attitudes";

/// The pairing code of every benchmark director.
pub const CODE: &str = "271828";

/// The passphrase of every benchmark database.
pub const PASSPHRASE: &str = "banc d'essai seulement";

/// p50, p99 and max of a set of samples, ms.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Samples.
    pub n: usize,
    /// Median, ms.
    pub p50: f64,
    /// 99th percentile (nearest rank), ms.
    pub p99: f64,
    /// Largest, ms.
    pub max: f64,
}

impl Summary {
    /// Sorts `ms` and summarises it (NaN for an empty set).
    pub fn of(ms: &mut [f64]) -> Self {
        ms.sort_by(f64::total_cmp);
        Self {
            n: ms.len(),
            p50: percentile(ms, 0.5),
            p99: percentile(ms, 0.99),
            max: ms.last().copied().unwrap_or(f64::NAN),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (n={})",
            self.p50, self.p99, self.max, self.n
        )
    }
}

/// The value at rank `p` (0 to 1, nearest rank) of `sorted`; NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(rank).copied().unwrap_or(f64::NAN)
}

/// Milliseconds of a duration, as f64.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The repository root (the folder holding `content/` and `assets/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The folder of this binary, where cargo also put `boussole-director` and `boussole-sim`
/// (`cargo xtask bench` builds all three in release).
///
/// # Errors
/// The binary's path is unknown.
pub fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the benchmark binary")?;
    exe.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("{} has no folder", exe.display()))
}

/// A free TCP port on loopback (bound, then released).
///
/// # Errors
/// No port could be bound.
pub fn free_tcp_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("binding a free TCP port")?;
    Ok(l.local_addr()?.port())
}

/// Peak resident set of process `pid`, KiB: `VmHWM` of `/proc/<pid>/status`.
///
/// # Errors
/// The file cannot be read (the process is gone) or has no `VmHWM`.
pub fn vm_hwm_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmHWM in {path}"))
}

/// The shipped content with the scenario's cue list replaced by `cues` text cues that target
/// every room screen and wait for GO, and its endings without a cue: GO `k` fires cue `k`,
/// as instance `k + 1`.
///
/// # Errors
/// The content does not load, or the scenario has no text cue to copy.
pub fn bench_content(cues: usize) -> Result<(ContentSet, Arc<Scenario>)> {
    let (mut set, problems) = ContentSet::load_dir(&repo_root().join("content"));
    ensure!(problems.is_empty(), "the shipped content has problems");
    let scenario = set
        .scenarios
        .iter_mut()
        .map(|s| &mut s.value)
        .find(|s| s.id.as_str() == SCENARIO)
        .ok_or_else(|| anyhow!("no scenario {SCENARIO}"))?;
    let text = scenario
        .cues
        .iter()
        .find_map(|c| match &c.kind {
            CueKind::Text { text, .. } => Some(text.clone()),
            _ => None,
        })
        .ok_or_else(|| anyhow!("{SCENARIO} has no text cue"))?;
    scenario.cues = (0..cues)
        .map(|i| Cue {
            id: CueId::from(format!("banc_{i}").as_str()),
            number: (i + 1).to_string(),
            name: format!("banc {i}"),
            kind: CueKind::Text {
                text: text.clone(),
                duration_s: None,
            },
            targets: vec![Target::Role(DeviceRole::Screen)],
            trigger: Trigger::Go,
            pre_wait_s: 0.0,
            post_wait_s: 0.0,
            continue_mode: ContinueMode::DoNotContinue,
            fade_in_s: 0.0,
            fade_out_s: 0.0,
            notes: String::new(),
        })
        .collect();
    for ending in &mut scenario.endings {
        ending.cue = None;
    }
    let scenario = Arc::new(scenario.clone());
    Ok((set, scenario))
}

/// A director serving on loopback with a fresh encrypted log in a temporary folder.
pub struct BenchDirector {
    /// The running director.
    pub serving: Serving,
    /// The scenario played (see [`bench_content`]).
    pub scenario: Arc<Scenario>,
    _dir: tempfile::TempDir,
}

impl BenchDirector {
    /// Starts a director whose scenario has `cues` GO-able text cues (see [`bench_content`]),
    /// its log in a temporary folder on the disk (not tmpfs: `/tmp` is ext4 here, so every
    /// commit waits for a real fsync).
    ///
    /// # Errors
    /// The store, the session or the server fails to start.
    pub fn start(cues: usize) -> Result<Self> {
        let dir = tempfile::tempdir().context("a temporary folder for the director")?;
        let (set, scenario) = bench_content(cues)?;
        let store = Store::open(&dir.path().join("director.db"), PASSPHRASE)?;
        let session = Session::create(store, &set, SCENARIO, "banc d'essai", unix_ms())?;
        let config = ServeConfig {
            bind: "127.0.0.1:0".parse()?,
            content_dir: repo_root().join("content"),
            assets_dir: repo_root().join("assets"),
            data_dir: dir.path().to_path_buf(),
            name: "Banc d'essai".into(),
            pairing_code: Some(code()?),
        };
        let serving = Serving::start(&config, session)?;
        Ok(Self {
            serving,
            scenario,
            _dir: dir,
        })
    }

    /// Pairs `n` room screens (no station, so they never play a puzzle) one at a time, then
    /// starts each connecting to `connect_to` (the director, or a proxy in front of it), each
    /// configured by `configure(i, config)`; returns once every one has had a snapshot.
    ///
    /// # Errors
    /// A pairing, a start or the first snapshot failed.
    pub async fn screens(
        &self,
        n: usize,
        connect_to: SocketAddr,
        configure: impl Fn(usize, &mut SimConfig),
    ) -> Result<Vec<SimHandle>> {
        let addr = self.serving.local_addr();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let device = boussole_protocol::DeviceId::from(format!("ecran_banc_{i:02}").as_str());
            let pairing = boussole_sim::pair(addr, code()?, &device).await?;
            let mut config = SimConfig::new(Seat {
                device,
                role: Role::Screen,
                station: None,
                participant: None,
                puzzles: None,
            });
            config.content_hash = self.serving.content_hashes().screen;
            config.backoff = Backoff {
                first: Duration::from_millis(100),
                max: Duration::from_millis(800),
                attempts: 40,
                connect_timeout: Duration::from_secs(3),
            };
            configure(i, &mut config);
            out.push(SimDevice::start(
                config,
                connect_to,
                pairing,
                self.scenario.clone(),
            )?);
        }
        for d in &out {
            d.wait_until("a first snapshot", Duration::from_secs(30), |s| {
                s.snapshots > 0
            })
            .await?;
        }
        Ok(out)
    }
}

/// [`CODE`], parsed.
///
/// # Errors
/// Never in practice.
pub fn code() -> Result<PairingCode> {
    PairingCode::parse(CODE).map_err(|e| anyhow!("{e}"))
}

/// Stops every device, ignoring how each ended (benchmarks look at figures, not at failures
/// on the way out).
pub async fn stop_all(devices: Vec<SimHandle>) {
    for d in devices {
        let _ = d.stop().await;
    }
}
