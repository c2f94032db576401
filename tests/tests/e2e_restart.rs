//! The director falls mid-game and comes back from its log (DESIGN principles 1 to 3):
//! stopped and reopened in-process, then a real `boussole-director serve` killed with
//! SIGKILL and restarted with `--session`. The devices keep playing alone, reconnect with
//! backoff and resend their outboxes; the game still ends in success, no event is lost or
//! doubled, and no acknowledged cue is sent again.

use anyhow::{Result, anyhow, ensure};
use boussole_content::ids::CueId;
use boussole_director::engine::Command;
use boussole_director::runtime::unix_ms;
use boussole_director::server::Serving;
use boussole_director::session::Session;
use boussole_director::store::{SessionId, Store};
use boussole_protocol::manifest::Catalog;
use boussole_tests::process::{DirectorProcess, director_binary, sped_up_script};
use boussole_tests::{
    GAME_GUARD, PASSPHRASE, Play, SCENARIO, assets_dir, check_exactly_once, check_success, content,
    content_dir, demo_script, device_events, enrolment, facilitator_steps, on_freed_port,
    play_facilitator, port_outside_ephemeral_range, room, scenario, serve_config, start_devices,
    stop_all, submit, wait_all, wait_settled, wait_solved,
};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Puzzles solved before the director falls (of seven): phase 2 has started.
const SOLVED_BEFORE_FALL: usize = 2;

/// Starts a director on `bind` from session `id` of the store at `db`, retrying while the
/// port is still held by the director just stopped ([`on_freed_port`]).
async fn reopen(
    data: &Path,
    db: &Path,
    set: &boussole_content::ContentSet,
    id: SessionId,
    bind: SocketAddr,
) -> Result<Serving> {
    on_freed_port(|| {
        let session = Session::open(Store::open(db, PASSPHRASE)?, set, id)?;
        Ok(Serving::start(&serve_config(data, bind)?, session)?)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_director_stopped_mid_game_reopens_its_session_and_the_game_ends_well() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("director.db");
    let set = content()?;
    let scenario = scenario(&set, SCENARIO)?;
    let script = demo_script()?;
    let session = Session::create(
        Store::open(&db, PASSPHRASE)?,
        &set,
        SCENARIO,
        &script.label,
        unix_ms(),
    )?;
    let id = session.id();
    let bind = SocketAddr::from(([127, 0, 0, 1], port_outside_ephemeral_range()?));
    let serving = Serving::start(&serve_config(dir.path(), bind)?, session)?;
    let addr = serving.local_addr();
    let director = serving.handle();
    for command in enrolment(&script) {
        submit(&director, command)?;
    }
    let facilitator = play_facilitator(director.clone(), facilitator_steps(&script));
    let play = Play {
        content: serving.content_hashes(),
        think: Duration::from_millis(150),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed: 23,
        outbox_dir: Some(dir.path().join("outboxes")),
    };
    let devices = start_devices(addr, room(&script, &scenario), &scenario, &play).await?;

    wait_all(&devices, "a first connection", GAME_GUARD, |s| {
        s.connections > 0
    })
    .await?;
    wait_solved(&devices, SOLVED_BEFORE_FALL, GAME_GUARD).await?;

    // The screen's acknowledgements stop reaching the director, then a sound cue fires on
    // it: applied, but unacknowledged when the director falls.
    let screen = devices
        .iter()
        .find(|d| d.device().0 == "ecran")
        .ok_or_else(|| anyhow!("no screen"))?;
    screen.mute()?;
    screen.wait_until("muted", GAME_GUARD, |s| s.muted).await?;
    let sound = CueId::from("c_son_reussite");
    let playhead = director
        .with(|s| s.engine().standby().cloned())
        .map_err(|e| anyhow!(e))?;
    submit(&director, Command::Standby(sound.clone()))?;
    submit(&director, Command::Go)?;
    if let Some(cue) = playhead {
        submit(&director, Command::Standby(cue))?;
    }
    let applied = screen
        .wait_until("the sound applied", GAME_GUARD, |s| {
            s.applied.values().any(|c| *c == sound)
        })
        .await?;
    ensure!(applied.pending > 0, "its acknowledgement is held");

    // Whatever is in flight now is cut: committed but unacknowledged, or never committed.
    let fallen = serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    ensure!(fallen.engine().ending().is_none(), "the game was still on");
    drop(fallen);
    let _ = facilitator.join();
    wait_all(&devices, "noticing the director is gone", GAME_GUARD, |s| {
        !s.online
    })
    .await?;

    let serving = reopen(dir.path(), &db, &set, id, addr).await?;
    let ended = wait_settled(&devices).await?;
    ensure!(
        ended.iter().all(|s| s.connections >= 2),
        "every device reconnected: {:?}",
        ended
            .iter()
            .map(|s| (s.connections, s.last_error.clone(), s.ended.clone()))
            .collect::<Vec<_>>()
    );
    submit(&serving.handle(), Command::EndSession)?;
    let stats = stop_all(devices).await?;
    let screen = stats
        .iter()
        .find(|(d, _)| d.0 == "ecran")
        .map(|(_, s)| s)
        .ok_or_else(|| anyhow!("no screen"))?;
    ensure!(
        screen.duplicate_cues >= 1 && screen.events_resent >= 1,
        "the unacknowledged sound was sent again, found applied, acknowledged again: {screen:?}"
    );
    let session = serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    check_success(session.engine())?;
    check_exactly_once(&device_events(session.store(), session.id())?, &stats)?;
    // The same log, replayed once more from the file, gives the same game.
    let id = session.id();
    drop(session);
    let replayed = Session::open(Store::open(&db, PASSPHRASE)?, &set, id)?;
    check_success(replayed.engine())?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_director_killed_with_sigkill_restarts_its_session_and_the_game_ends_well() -> Result<()>
{
    let binary = director_binary()?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("director.db");
    let set = content()?;
    let scenario = scenario(&set, SCENARIO)?;
    let script = demo_script()?;
    let script_file = dir.path().join("commandes.ron");
    std::fs::write(&script_file, sped_up_script(&script)?)?;
    let port = port_outside_ephemeral_range()?;
    let bind = format!("127.0.0.1:{port}");
    let script_arg = script_file.to_string_lossy().into_owned();
    let first = DirectorProcess::start(
        &binary,
        &db,
        &dir.path().join("director-1.log"),
        &[
            "--bind",
            &bind,
            "--scenario",
            SCENARIO,
            "--script",
            &script_arg,
        ],
    )?;
    let addr = first.addr;
    let session = first.session;

    let play = Play {
        content: Catalog::build(&content_dir(), &assets_dir())?.hashes(),
        think: Duration::from_millis(150),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed: 37,
        outbox_dir: Some(dir.path().join("outboxes")),
    };
    let devices = start_devices(addr, room(&script, &scenario), &scenario, &play).await?;
    wait_all(&devices, "a first connection", GAME_GUARD, |s| {
        s.connections > 0
    })
    .await?;
    wait_solved(&devices, SOLVED_BEFORE_FALL, GAME_GUARD).await?;
    first.kill()?;

    let session_arg = session.to_string();
    let second = DirectorProcess::start(
        &binary,
        &db,
        &dir.path().join("director-2.log"),
        &["--bind", &bind, "--session", &session_arg],
    )?;
    ensure!(
        second.addr == addr && second.session == session,
        "same port, same session"
    );
    let ended = wait_settled(&devices).await?;
    ensure!(
        ended.iter().all(|s| s.connections >= 2),
        "every device reconnected: {:?}",
        ended
            .iter()
            .map(|s| (s.connections, s.last_error.clone(), s.ended.clone()))
            .collect::<Vec<_>>()
    );
    let stats = stop_all(devices).await?;
    second.kill()?;

    let store = Store::open(&db, PASSPHRASE)?;
    ensure!(
        store.quick_check()?,
        "PRAGMA quick_check after two SIGKILLs"
    );
    let session = Session::open(store, &set, SessionId(session))?;
    check_success(session.engine())?;
    check_exactly_once(&device_events(session.store(), session.id())?, &stats)?;
    Ok(())
}
