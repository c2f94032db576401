//! S'cape attitudes played to its success ending with REAL game clients: the room screen, the
//! office terminal (`poste_bureau`), the second stock tablet (which takes the answer of the
//! headset-guided « Les cartons manquants ») and the headset are `boussole-game --headless`
//! processes that pair with the code, connect, acknowledge their cues and resync from
//! snapshots. The screen starts without content and downloads the director's; the terminals'
//! participants answer through their standard input (the right answer of each puzzle opened
//! at their station, as a player would type it; the headset-guided one once the headset shows
//! its scene, as the team waits for the wearer's description). The two other devices are
//! simulated. At the end
//! every event of every device, real or simulated, is in the director's log exactly once.
//! The same game is played a second time through a [`FaultProxy`] (loss, delay, reordering
//! both ways) with a cut long enough for the real clients to drop their connection mid-game:
//! they keep their state, reconnect, resync from a snapshot, and nothing is lost or doubled.
//! Every wait polls a condition; the guards only catch a hang.

use anyhow::{Result, anyhow, ensure};
use boussole_content::ids::PuzzleId;
use boussole_director::engine::Command;
use boussole_protocol::DeviceEvent;
use boussole_sim::answer::{answer_station, right_answer};
use boussole_sim::proxy::{FaultProxy, LinkFaults, ProxyConfig};
use boussole_tests::game::{GameProcess, GameSpec, field, game_binary};
use boussole_tests::{
    GAME_GUARD, Play, Room, check_exactly_once, check_success, device_events, facilitator_steps,
    play_facilitator, room, start_devices_via, start_room, stop_all, submit, wait_settled,
};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Time for a debug client to start, pair and connect (Bevy's start-up included).
const START_GUARD: Duration = Duration::from_secs(60);

/// Time for the screen to fetch its content (about 3 MB), through the faulty proxy too; only
/// a stalled sync reaches it (the figures are in BENCHMARKS.md).
const SYNC_GUARD: Duration = Duration::from_secs(240);

/// The faults of the second game, both ways: 5 % loss, 5 ms plus up to 25 ms.
const SHAKY: LinkFaults = LinkFaults {
    loss: 0.05,
    delay: Duration::from_millis(5),
    jitter: Duration::from_millis(25),
};

/// Held until both real clients have noticed the silence (3 s) and dropped their connection,
/// and at least this long.
const LONG_CUT: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_screen_terminals_and_headset_play_to_the_success_ending() -> Result<()> {
    play(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_ride_out_a_faulty_link_and_a_long_cut() -> Result<()> {
    play(Some(20_261_130)).await
}

/// Whether `lines` show the link online now (its last `@state` line).
fn online(lines: &[String]) -> bool {
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("@state"))
        .is_some_and(|l| l.starts_with("@state Some(Online"))
}

/// Plays the game with the two real clients; with `faults` (a seed), everything goes through a
/// shaky proxy, cut once for [`LONG_CUT`] after the terminal's first answer.
async fn play(faults: Option<u64>) -> Result<()> {
    let binary = game_binary()?;
    let dir = tempfile::tempdir()?;
    let Room {
        scenario,
        script,
        serving,
        ..
    } = start_room(dir.path())?;
    let director = serving.handle();
    let proxy = match faults {
        Some(seed) => Some(
            FaultProxy::start(serving.local_addr(), ProxyConfig::symmetric(seed, SHAKY)).await?,
        ),
        None => None,
    };
    let addr = proxy
        .as_ref()
        .map_or_else(|| serving.local_addr(), FaultProxy::local_addr);

    let seats = room(&script, &scenario);
    let real = [
        "ecran",
        "pc_bureau",
        boussole_tests::EXTRA_TERMINAL,
        "casque_1",
    ];
    let mut clients = Vec::new();
    // One at a time: the director counts pairings in flight against its failure budget.
    for seat in seats.iter().filter(|s| real.contains(&s.device.as_str())) {
        let screen = seat.station.as_ref().is_some_and(|s| s.as_str() == "ecran");
        let headset = seat.role == boussole_protocol::wire::Role::Headset;
        // The screen starts with no content and fetches its role's files, in both games:
        // through the faulty proxy too (content by file keeps 8 chunks of 64 KiB in flight;
        // `cargo xtask bench content-sync` measures how long it takes).
        let downloads = screen;
        let spec = GameSpec {
            role: Some(if screen {
                "screen"
            } else if headset {
                "headset"
            } else {
                "terminal"
            }),
            code: None,
            content: downloads.then(|| dir.path().join("aucun_contenu")),
            device: seat.device.to_string(),
            station: seat.station.as_ref().map(ToString::to_string),
            participant: seat.participant.as_ref().map(ToString::to_string),
        };
        let mut client = GameProcess::start(&binary, &spec, addr, dir.path())?;
        client.wait_for("online", START_GUARD, |lines| {
            lines.iter().any(|l| l.starts_with("@state Some(Online"))
        })?;
        if downloads {
            client.wait_for("the director's content", SYNC_GUARD, |lines| {
                lines
                    .iter()
                    .any(|l| l.starts_with("@stats") && l.contains("bundle=yes"))
            })?;
        }
        clients.push((spec, client, seat.puzzles.clone()));
    }
    ensure!(clients.len() == real.len(), "four real clients");

    let facilitator = play_facilitator(director.clone(), facilitator_steps(&script));
    let play = Play {
        content: serving.content_hashes(),
        think: Duration::from_millis(120),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed: 5,
        outbox_dir: Some(dir.path().join("outboxes")),
    };
    let sims: Vec<_> = seats
        .into_iter()
        .filter(|s| !real.contains(&s.device.as_str()))
        .collect();
    let devices = start_devices_via(serving.local_addr(), addr, sims, &scenario, &play).await?;
    let mut cut_done = proxy.is_none();

    // The office terminal's participant answers each puzzle that opens at their station.
    let start = Instant::now();
    let mut answered: BTreeSet<PuzzleId> = BTreeSet::new();
    let mut headset_shows = false;
    loop {
        headset_shows |= clients.iter().any(|(s, c, _)| {
            s.role == Some("headset")
                && c.lines()
                    .iter()
                    .any(|l| l.starts_with("@headset phase=Guided"))
        });
        let mut all_done = true;
        for (spec, client, dealt) in &mut clients {
            let snapshot = client.last("@snapshot").unwrap_or_default();
            let stats = client.last("@stats").unwrap_or_default();
            let ended = !field(&snapshot, "ended").is_empty();
            let settled = field(&stats, "pending") == ["0"]
                && field(&stats, "events") == field(&stats, "acked");
            all_done &= ended && settled;
            if spec.role != Some("terminal") {
                continue;
            }
            for id in field(&snapshot, "open") {
                let puzzle = PuzzleId::from(id.as_str());
                let Some(p) = scenario.puzzles.iter().find(|p| p.id == puzzle) else {
                    continue;
                };
                let guided = matches!(
                    p.kind,
                    boussole_content::puzzle::PuzzleKind::HeadsetGuided { .. }
                );
                if answer_station(p).map(ToString::to_string) == spec.station
                    && dealt.as_ref().is_none_or(|d| d.contains(&puzzle))
                    && (!guided || headset_shows)
                    && answered.insert(puzzle.clone())
                {
                    let answer = ron::to_string(&right_answer(&p.solution))?;
                    client.send(&format!("answer {puzzle} {answer}"))?;
                }
            }
        }
        if all_done {
            break;
        }
        // Mid-game, after the terminal's first answer: a cut long enough for both real
        // clients to drop their connection.
        if !cut_done
            && !answered.is_empty()
            && let Some(proxy) = &proxy
        {
            cut_done = true;
            let cut_at = Instant::now();
            proxy.set_cut(true);
            while clients.iter().any(|(_, c, _)| online(&c.lines())) {
                ensure!(
                    cut_at.elapsed() < GAME_GUARD,
                    "the real clients never noticed the cut"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if let Some(rest) = LONG_CUT.checked_sub(cut_at.elapsed()) {
                tokio::time::sleep(rest).await;
            }
            proxy.set_cut(false);
        }
        ensure!(
            start.elapsed() < GAME_GUARD,
            "the real clients did not see the end of the game, all acknowledged: {:?}",
            clients
                .iter()
                .map(|(s, c, _)| (s.device.clone(), c.last("@snapshot"), c.last("@stats")))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure!(
        answered.len() >= 2,
        "the office terminal answered {answered:?}"
    );
    let _ = wait_settled(&devices).await?;
    let _ = facilitator.join();
    submit(&director, Command::EndSession)?;

    let mut stats = stop_all(devices).await?;
    for (_, client, _) in clients {
        stats.push(client.quit(Duration::from_secs(20))?);
    }
    let session = serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    check_success(session.engine())?;
    let log = device_events(session.store(), session.id())?;
    check_exactly_once(&log, &stats)?;
    let screen = stats
        .iter()
        .find(|(d, _)| d.as_str() == "ecran")
        .map(|(_, s)| s)
        .ok_or_else(|| anyhow!("no screen stats"))?;
    // The screen started without content: the welcome said so (in the faulty game a later
    // welcome, after the cut, finds it in sync), it fetched its role's files, and told the
    // director once it held them. (Its sounds play for real lengths, so
    // the game may end before one finishes: `CueFinished` is covered by the headless tests.)
    // Through the cut, each real client connected again and resynced.
    let reconnected = stats
        .iter()
        .filter(|(d, _)| real.contains(&d.as_str()))
        .all(|(_, s)| s.connections >= if proxy.is_some() { 2 } else { 1 });
    ensure!(reconnected, "{stats:?}");
    ensure!(
        screen.cues_applied() >= 3
            && (screen.connections == 1 || proxy.is_some())
            && (screen.content_in_sync == Some(false) || proxy.is_some())
            && screen
                .events
                .iter()
                .any(|(_, e)| matches!(e, DeviceEvent::Health(h) if h.content_in_sync)),
        "the real screen applied the title, the ambience, the rumour… with the downloaded \
         content: {screen:?}"
    );
    // The headset showed « Les cartons manquants » and said so once.
    let seen = stats
        .iter()
        .filter(|(d, _)| d.as_str() == "casque_1")
        .flat_map(|(_, s)| s.events.iter())
        .filter(|(_, e)| matches!(e, DeviceEvent::HeadsetViewSeen { .. }))
        .count();
    ensure!(
        headset_shows && seen == 1,
        "the headset's view seen {seen} times"
    );
    ensure!(session.store().quick_check()?, "the store is sound");
    Ok(())
}
