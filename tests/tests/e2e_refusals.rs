//! Refusals and content sync while a game goes on: a wrong pairing code is refused as such,
//! a device unknown to the director and one with a forged token are refused with their
//! reasons, and a device with other content is welcomed out of sync and downloads the
//! director's bundle in chunks, verified by its hash. Meanwhile the six devices of the room
//! play the game to its success ending.

use anyhow::{Result, anyhow, ensure};
use boussole_director::engine::Command;
use boussole_protocol::DeviceId;
use boussole_protocol::pairing::{Pairing, PairingCode};
use boussole_protocol::wire::{DeviceToken, Refusal, Role};
use boussole_sim::lineup::Seat;
use boussole_sim::{SimConfig, SimDevice, SimError};
use boussole_tests::{
    GAME_GUARD, Play, Room, check_exactly_once, check_success, code, device_events,
    facilitator_steps, play_facilitator, room, settled, start_devices, start_room, stop_all,
    submit, test_backoff, wait_settled,
};
use std::time::Duration;

/// A seat with no station: it plays nothing, it only listens.
fn bystander(device: &str) -> Seat {
    Seat {
        device: DeviceId::from(device),
        role: Role::Terminal,
        station: None,
        participant: None,
        puzzles: None,
    }
}

/// The refusal a device met on connecting with `pairing`.
async fn refused_with(
    addr: std::net::SocketAddr,
    device: &str,
    pairing: Pairing,
    scenario: &std::sync::Arc<boussole_content::scenario::Scenario>,
) -> Result<Option<Refusal>> {
    let mut config = SimConfig::new(bystander(device));
    config.backoff = test_backoff();
    let sim = SimDevice::start(config, addr, pairing, scenario.clone())?;
    sim.wait_until("a refusal", GAME_GUARD, |s| s.stopped)
        .await?;
    match sim.stop().await {
        Ok(stats) => Err(anyhow!("{device} was welcomed: {stats:?}")),
        Err(e) => Ok(e.refusal().cloned()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_a_content_download_leave_the_game_running() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let Room {
        scenario,
        script,
        serving,
        ..
    } = start_room(dir.path())?;
    let addr = serving.local_addr();
    let director = serving.handle();
    let facilitator = play_facilitator(director.clone(), facilitator_steps(&script));
    let play = Play {
        content: serving.content_hashes(),
        // Slower players, so the refusals and the download happen mid-game.
        think: Duration::from_millis(250),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed: 5,
        outbox_dir: None,
    };
    let devices = start_devices(addr, room(&script, &scenario), &scenario, &play).await?;

    // A wrong code: refused, on both sides, as a wrong code.
    let wrong = if code()? == PairingCode::parse("000000").map_err(|e| anyhow!("{e}"))? {
        "111111"
    } else {
        "000000"
    };
    let wrong = PairingCode::parse(wrong).map_err(|e| anyhow!("{e}"))?;
    let attempt = boussole_sim::pair(addr, wrong, &DeviceId::from("intrus")).await;
    ensure!(
        attempt.as_ref().err().and_then(SimError::refusal) == Some(&Refusal::WrongPairingCode),
        "a wrong code is refused as such: {attempt:?}"
    );

    // A device never paired, and a paired one presenting someone else's token.
    let real = boussole_sim::pair(addr, code()?, &DeviceId::from("tablette_perimee")).await?;
    let forged = Pairing {
        ca_der: real.ca_der.clone(),
        token: DeviceToken::random(),
    };
    let unknown = refused_with(addr, "jamais_vu", forged.clone(), &scenario).await?;
    ensure!(unknown == Some(Refusal::UnknownDevice), "{unknown:?}");
    let bad = refused_with(addr, "tablette_perimee", forged, &scenario).await?;
    ensure!(bad == Some(Refusal::BadToken), "{bad:?}");

    // Other content: welcomed, told it is out of sync, fetches its role's files and verifies
    // each.
    let mut config = SimConfig::new(bystander("tablette_perimee"));
    config.content_hash = [7; 32];
    config.sync_content = true;
    config.content_dir = Some(dir.path().join("tablette_perimee"));
    config.backoff = test_backoff();
    let role = config.seat.role;
    let stale = SimDevice::start(config, addr, real, scenario.clone())?;
    let synced = stale
        .wait_until("the content", GAME_GUARD, |s| s.content.is_some())
        .await?;
    ensure!(
        synced.content_in_sync == Some(false),
        "told it is out of sync"
    );
    let content = synced.content.ok_or_else(|| anyhow!("no content"))?;
    ensure!(
        content.manifest == serving.content_hashes().for_role(role)
            && content.chunks > 1
            && content.files > 0
            && content.dir.join("content/scenarios").is_dir(),
        "the director's content for its role, in several chunks: {content:?}"
    );

    let ended = wait_settled(&devices).await?;
    ensure!(
        ended.iter().all(|s| s.connections == 1),
        "no refusal or download disturbed the players"
    );
    stale
        .wait_until("its events acknowledged", GAME_GUARD, settled)
        .await?;
    let _ = facilitator.join();
    submit(&director, Command::EndSession)?;
    let mut stats = stop_all(devices).await?;
    stats.push((DeviceId::from("tablette_perimee"), stale.stop().await?));
    let session = serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    check_success(session.engine())?;
    check_exactly_once(&device_events(session.store(), session.id())?, &stats)?;
    Ok(())
}
