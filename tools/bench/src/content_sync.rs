//! Content by file: how long a headset that holds nothing takes to fetch its role's content
//! (`ContentSync`, 8 requests of 64 KiB in flight) from a real director, on loopback, through
//! a Wi-Fi-like link (20 ± 15 ms each way, 1 % loss) and through the fault tests' link (5 %
//! loss, 5–30 ms each way), both through `boussole-sim`'s seeded [`FaultProxy`]; beside a raw
//! TCP copy of the same number of bytes on loopback, the floor of this machine.
//!
//! The content is the shipped one plus the 360° test immersion with a 6 MB film
//! (pseudo-random bytes: the director does not decode media), so the headset's manifest is
//! about 9 MB, the size of everything that used to go to every device.
//!
//! Targets (issue 14): under 120 s at 5 % loss, under 15 s on the Wi-Fi-like link.

use crate::common::{PASSPHRASE, SCENARIO, bench_content, code};
use anyhow::{Context, Result, anyhow};
use boussole_content::cue::DeviceRole;
use boussole_director::runtime::unix_ms;
use boussole_director::server::{ServeConfig, Serving};
use boussole_director::session::Session;
use boussole_director::store::Store;
use boussole_protocol::manifest::Catalog;
use boussole_protocol::wire::Role;
use boussole_sim::lineup::Seat;
use boussole_sim::proxy::{FaultProxy, LinkFaults, ProxyConfig};
use boussole_sim::{SimConfig, SimDevice};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The Wi-Fi-like link of the `skew` benchmark: 20 ms ± 15 ms each way, 1 % loss.
const WIFI: LinkFaults = LinkFaults {
    loss: 0.01,
    delay: Duration::from_millis(5),
    jitter: Duration::from_millis(30),
};

/// The link of `e2e_faults`: 5 % loss, 5 ms plus up to 25 ms each way.
const SHAKY: LinkFaults = LinkFaults {
    loss: 0.05,
    delay: Duration::from_millis(5),
    jitter: Duration::from_millis(25),
};

/// Size of the test film added to the content, bytes.
const FILM_BYTES: usize = 6_000_000;

/// Seed of the proxy's draws.
const SEED: u64 = 20_261_207;

/// Longest wait for one sync; only a stall reaches it.
const GUARD: Duration = Duration::from_secs(400);

/// Runs the four measures and prints them.
///
/// # Errors
/// A director, device, folder or socket failed.
pub fn run() -> Result<()> {
    let dir = tempfile::tempdir().context("a temporary folder")?;
    let (content, assets) = content_with_film(dir.path())?;
    let catalog = Catalog::build(&content, &assets)?;
    let manifest = catalog.manifest(DeviceRole::Headset);
    let bytes = manifest.total_bytes();
    println!(
        "content sync, headset manifest: {} files, {:.1} MB (all roles together {:.1} MB); window 8 × 64 KiB:",
        manifest.files().len(),
        bytes as f64 / 1e6,
        catalog.all().total_bytes() as f64 / 1e6
    );
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let raw = raw_tcp(bytes).await?;
        println!(
            "  raw TCP copy on loopback (baseline)          {:>8.2} s",
            raw.as_secs_f64()
        );
        for (name, faults, target) in [
            ("loopback", None, None),
            ("Wi-Fi-like (20 ± 15 ms, 1 % loss)", Some(WIFI), Some(15.0)),
            ("fault link (5–30 ms, 5 % loss)", Some(SHAKY), Some(120.0)),
        ] {
            let (took, received, chunks) = sync_once(dir.path(), &content, &assets, faults).await?;
            let s = took.as_secs_f64();
            let verdict = target.map_or(String::new(), |t: f64| {
                format!(
                    "; target < {t:.0} s: {}",
                    if s < t { "met" } else { "SHORT" }
                )
            });
            println!(
                "  {name:<44} {s:>8.2} s ({:.0} KB/s, {chunks} chunks, {:.1} MB received, ×{:.0} the raw copy){verdict}",
                bytes as f64 / 1e3 / s.max(1e-9),
                received as f64 / 1e6,
                s / raw.as_secs_f64().max(1e-9),
            );
        }
        anyhow::Ok(())
    })
}

/// One headset with an empty folder syncs from a new director, directly or through a proxy
/// with `faults`: the time from its first out-of-sync welcome to its tree, bytes and chunks
/// received.
async fn sync_once(
    root: &Path,
    content: &Path,
    assets: &Path,
    faults: Option<LinkFaults>,
) -> Result<(Duration, u64, u32)> {
    let run = tempfile::tempdir_in(root)?;
    let (set, scenario) = bench_content(1)?;
    let store = Store::open(&run.path().join("director.db"), PASSPHRASE)?;
    let session = Session::create(store, &set, SCENARIO, "banc contenu", unix_ms())?;
    let serving = Serving::start(
        &ServeConfig {
            bind: "127.0.0.1:0".parse()?,
            content_dir: content.to_path_buf(),
            assets_dir: assets.to_path_buf(),
            data_dir: run.path().to_path_buf(),
            name: "Banc contenu".into(),
            pairing_code: Some(code()?),
        },
        session,
    )?;
    let upstream = serving.local_addr();
    let proxy = match faults {
        Some(f) => Some(FaultProxy::start(upstream, ProxyConfig::symmetric(SEED, f)).await?),
        None => None,
    };
    let device = boussole_protocol::DeviceId::from("casque_banc");
    let pairing = boussole_sim::pair(upstream, code()?, &device).await?;
    let mut config = SimConfig::new(Seat {
        device,
        role: Role::Headset,
        station: None,
        participant: None,
        puzzles: None,
    });
    config.sync_content = true;
    config.content_dir = Some(run.path().join("casque"));
    let connect_to = proxy.as_ref().map_or(upstream, FaultProxy::local_addr);
    let handle = SimDevice::start(config, connect_to, pairing, scenario)?;
    let stats = handle
        .wait_until("the headset's content", GUARD, |s| s.content.is_some())
        .await?;
    let report = stats.content.ok_or_else(|| anyhow!("no content"))?;
    let _ = handle.stop().await;
    let _ = serving.stop().await;
    drop(proxy);
    Ok((report.took, report.bytes_received, report.chunks))
}

/// `bytes` copied through a TCP connection on loopback, 64 KiB writes.
async fn raw_tcp(bytes: u64) -> Result<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let reader = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0u64;
        while got < bytes {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            got += n as u64;
        }
        anyhow::Ok(got)
    });
    let t0 = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let chunk = vec![7u8; 64 * 1024];
    let mut sent = 0u64;
    while sent < bytes {
        let n = usize::try_from((bytes - sent).min(chunk.len() as u64)).unwrap_or(0);
        s.write_all(chunk.get(..n).unwrap_or_default()).await?;
        sent += n as u64;
    }
    s.shutdown().await?;
    let got = reader.await??;
    let took = t0.elapsed();
    anyhow::ensure!(got == bytes, "raw copy: {got} of {bytes} bytes");
    Ok(took)
}

/// The shipped content and media copied under `dir` with the 360° test immersion, whose film
/// is [`FILM_BYTES`] of pseudo-random bytes ([`boussole_tests::content_with_a_360_film`]).
fn content_with_film(dir: &Path) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let film: Vec<u8> = (0..FILM_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect();
    let film_file = dir.join("visite_360.webm");
    std::fs::write(&film_file, film).context("the film")?;
    boussole_tests::content_with_a_360_film(&dir.join("room"), &film_file)
}
