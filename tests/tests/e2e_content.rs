//! Content by file, end to end. A headset, a room screen and a terminal start with no content
//! and fetch their role's files from a real director through the fault proxy (5 % loss,
//! 5–30 ms both ways); each device's tree holds exactly its role's manifest, every file
//! checked against its hash; the terminal gets no film while the headset gets the 360° one.
//! Then the director is stopped, one scenario file is corrected, the director started again
//! on the same folders: each device reconnects, is told its content differs and fetches only
//! the corrected file.
//!
//! No timing is asserted here: `cargo xtask bench content-sync` measures the speed
//! (BENCHMARKS.md).

use anyhow::{Context, Result, anyhow, ensure};
use boussole_content::ContentSet;
use boussole_content::cue::DeviceRole;
use boussole_director::runtime::unix_ms;
use boussole_director::server::Serving;
use boussole_director::session::Session;
use boussole_director::store::Store;
use boussole_protocol::DeviceId;
use boussole_protocol::manifest::{Catalog, Manifest, hash_file};
use boussole_protocol::wire::Role;
use boussole_sim::lineup::Seat;
use boussole_sim::proxy::{FaultProxy, LinkFaults, ProxyConfig};
use boussole_sim::{SimConfig, SimDevice, SimHandle, SimStats};
use boussole_tests::{
    GAME_GUARD, PASSPHRASE, SCENARIO, code, content_with_a_360_film, demo_script, on_freed_port,
    port_outside_ephemeral_range, repo_root, scenario, serve_config, test_backoff,
};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The faults of `e2e_faults`: 5 % loss, 5 ms plus up to 25 ms, both ways.
const SHAKY: LinkFaults = LinkFaults {
    loss: 0.05,
    delay: Duration::from_millis(5),
    jitter: Duration::from_millis(25),
};

const SEED: u64 = 20_261_207;

/// Starts a director on `bind` serving `content` and `assets`, with a new session.
fn start_director(data: &Path, bind: SocketAddr, content: &Path, assets: &Path) -> Result<Serving> {
    let (set, problems) = ContentSet::load_dir(content);
    ensure!(problems.is_empty(), "content problems: {problems:?}");
    let script = demo_script()?;
    let session = Session::create(
        Store::open(&data.join("director.db"), PASSPHRASE)?,
        &set,
        SCENARIO,
        &script.label,
        unix_ms(),
    )?;
    let mut config = serve_config(data, bind)?;
    config.content_dir = content.to_path_buf();
    config.assets_dir = assets.to_path_buf();
    Ok(Serving::start(&config, session)?)
}

/// Every file of `manifest` is in `dir` and hashes to its entry, and `dir` holds nothing else.
fn check_tree(dir: &Path, manifest: &Manifest) -> Result<()> {
    for f in manifest.files() {
        let (hash, size) = hash_file(&dir.join(&f.path)).with_context(|| f.path.clone())?;
        ensure!(hash == f.hash && size == f.size, "{} differs", f.path);
    }
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                count += 1;
            }
        }
    }
    ensure!(
        count == manifest.files().len(),
        "{} holds {count} files, its manifest {}",
        dir.display(),
        manifest.files().len()
    );
    Ok(())
}

async fn synced(device: &SimHandle, manifest: [u8; 32]) -> Result<SimStats> {
    Ok(device
        .wait_until("its role's content", GAME_GUARD * 4, |s| {
            s.content.as_ref().is_some_and(|c| c.manifest == manifest)
        })
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_fetch_their_roles_files_through_a_faulty_link_then_only_what_changed() -> Result<()>
{
    let dir = tempfile::tempdir()?;
    let film = repo_root().join("assets/videos/tests/sphere_360_512x256.webm");
    let (content, assets) = content_with_a_360_film(&dir.path().join("room"), &film)?;
    let bind = SocketAddr::from(([127, 0, 0, 1], port_outside_ephemeral_range()?));
    let serving = start_director(dir.path(), bind, &content, &assets)?;
    let proxy = FaultProxy::start(bind, ProxyConfig::symmetric(SEED, SHAKY)).await?;
    let set = boussole_tests::content()?;
    let scenario = scenario(&set, SCENARIO)?;
    let catalog = Catalog::build(&content, &assets)?;
    ensure!(
        serving.content_hashes() == catalog.hashes(),
        "the director presents the catalog's hashes"
    );

    let roles = [
        ("casque_contenu", Role::Headset, DeviceRole::Headset),
        ("ecran_contenu", Role::Screen, DeviceRole::Screen),
        ("borne_contenu", Role::Terminal, DeviceRole::Terminal),
    ];
    let mut devices = Vec::new();
    for (name, role, _) in roles {
        let device = DeviceId::from(name);
        let pairing = boussole_sim::pair(bind, code()?, &device).await?;
        let mut config = SimConfig::new(Seat {
            device,
            role,
            station: None,
            participant: None,
            puzzles: None,
        });
        config.sync_content = true;
        config.content_dir = Some(dir.path().join(name));
        config.backoff = test_backoff();
        devices.push(SimDevice::start(
            config,
            proxy.local_addr(),
            pairing,
            scenario.clone(),
        )?);
    }

    let mut first = Vec::new();
    for ((name, _, role), device) in roles.iter().zip(&devices) {
        let manifest = catalog.manifest(*role);
        let stats = synced(device, manifest.hash()).await?;
        let report = stats.content.clone().ok_or_else(|| anyhow!("no content"))?;
        ensure!(
            stats.content_in_sync == Some(false),
            "{name} was told to sync"
        );
        check_tree(&report.dir, manifest)?;
        eprintln!(
            "e2e_content: {name}: {} files, {} B in {} chunks ({} B received) in {:?}; errors {:?}",
            report.files,
            manifest.total_bytes(),
            report.chunks,
            report.bytes_received,
            report.took,
            stats.content_errors
        );
        first.push(report);
    }
    let films = |m: &Manifest| {
        m.files()
            .iter()
            .filter(|f| f.path.ends_with(".webm"))
            .count()
    };
    ensure!(
        films(catalog.manifest(DeviceRole::Terminal)) == 0
            && films(catalog.manifest(DeviceRole::Screen)) == 0,
        "no film for a terminal or a screen that plays none"
    );
    ensure!(
        catalog
            .manifest(DeviceRole::Headset)
            .get("assets/films/visite_360.webm")
            .is_some(),
        "the headset gets its immersion's film"
    );
    let stats = proxy.stats();
    eprintln!("e2e_content: {stats}");
    ensure!(
        stats.to_device.lost > 0 && stats.to_director.lost > 0,
        "the proxy lost datagrams both ways: {stats}"
    );

    // A one-line fix on the director, which is started again on the same folders.
    serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    let fixed = content.join("scenarios/scape_attitudes.ron");
    let mut text = std::fs::read_to_string(&fixed)?;
    text.push_str("\n// Correction : une coquille de moins.\n");
    std::fs::write(&fixed, text)?;
    let serving = on_freed_port(|| start_director(dir.path(), bind, &content, &assets)).await?;
    let updated = Catalog::build(&content, &assets)?;
    let changed = updated
        .all()
        .get("content/scenarios/scape_attitudes.ron")
        .ok_or_else(|| anyhow!("the scenario"))?
        .size;
    for (((name, _, role), device), before) in roles.iter().zip(&devices).zip(&first) {
        let manifest = updated.manifest(*role);
        let stats = synced(device, manifest.hash()).await?;
        let report = stats.content.clone().ok_or_else(|| anyhow!("no content"))?;
        check_tree(&report.dir, manifest)?;
        let fetched = report.bytes_received - before.bytes_received;
        eprintln!("e2e_content: {name}: update fetched {fetched} B (the fixed file: {changed} B)");
        ensure!(
            fetched == changed,
            "{name} fetched {fetched} B for a fix of one {changed} B file"
        );
        ensure!(
            before.dir.is_dir() && report.dir != before.dir,
            "{name}: the new tree beside the one in use until now"
        );
    }
    for device in devices {
        device.stop().await?;
    }
    let _ = serving.stop().await;
    Ok(())
}
