//! S'cape pandémie played to its success ending with REAL game clients: the room screen, the
//! reception terminal (`poste_accueil`, where the team writes the rounds' order) and the
//! headset (`casque`, the isolated colleague) are `boussole-game --headless` processes that
//! pair with the code, connect and play; the two other terminals are simulated. The headset
//! shows the headset-guided puzzle « La tournée de l'après-midi » in its scene when it opens
//! (the test waits for it, as the team waits for the colleague's description, before the
//! terminal answers), and tells the director once that its view was shown. At the end every
//! event of every device, real or simulated, the headset's "seen" event included, is in the
//! director's log exactly once. The game is played a second time through a [`FaultProxy`]
//! (loss, delay and reordering both ways). Every wait polls a condition; the guards only
//! catch a hang.

use anyhow::{Context, Result, anyhow, ensure};
use boussole_content::ids::{PuzzleId, StationId};
use boussole_content::puzzle::PuzzleKind;
use boussole_director::engine::{Command, GameEventKind};
use boussole_director::runtime::unix_ms;
use boussole_director::server::Serving;
use boussole_director::session::Session;
use boussole_director::store::Store;
use boussole_protocol::{DeviceEvent, ParticipantId};
use boussole_sim::answer::{answer_station, right_answer};
use boussole_sim::lineup;
use boussole_sim::proxy::{FaultProxy, LinkFaults, ProxyConfig};
use boussole_tests::game::{GameProcess, GameSpec, field, game_binary};
use boussole_tests::{
    GAME_GUARD, PASSPHRASE, Play, check_exactly_once, check_success, content, device_events,
    play_facilitator, scenario, serve_config, start_devices_via, stop_all, submit, wait_settled,
};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Time for a debug client to start, pair and connect (Bevy's start-up included).
const START_GUARD: Duration = Duration::from_secs(60);

/// The faults of the second game, both ways: 5 % loss, 5 ms plus up to 25 ms.
const SHAKY: LinkFaults = LinkFaults {
    loss: 0.05,
    delay: Duration::from_millis(5),
    jitter: Duration::from_millis(25),
};

/// The scenario played.
const SCENARIO: &str = "scape_pandemie";

/// The real clients, by station.
const REAL: [&str; 3] = ["ecran", "poste_accueil", "casque"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_screen_terminal_and_headset_play_pandemie_to_its_success_ending() -> Result<()> {
    play(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pandemie_through_a_faulty_link() -> Result<()> {
    play(Some(20_261_207)).await
}

async fn play(faults: Option<u64>) -> Result<()> {
    let binary = game_binary()?;
    let dir = tempfile::tempdir()?;
    let set = content()?;
    let scenario = scenario(&set, SCENARIO)?;
    let store = Store::open(&dir.path().join("director.db"), PASSPHRASE)?;
    let session = Session::create(store, &set, SCENARIO, "Pandémie — e2e", unix_ms())?;
    let serving = Serving::start(&serve_config(dir.path(), "127.0.0.1:0".parse()?)?, session)?;
    let director = serving.handle();
    // One device per station; six people, one at each terminal and the headset, two more.
    let mut seats = lineup::seats(&scenario, scenario.stations.len(), "");
    let places: Vec<usize> = (0..seats.len())
        .filter(|&i| seats[i].role != boussole_protocol::wire::Role::Screen)
        .collect();
    for n in 1..=6u32 {
        let id = ParticipantId::from(format!("P{n}").as_str());
        submit(
            &director,
            Command::AddParticipant {
                id: id.clone(),
                pseudonym: format!("Personne {n}"),
                colour: format!("#{:02x}60a0", 30 * n),
            },
        )?;
        if let Some(seat) = places
            .get(usize::try_from(n - 1)?)
            .and_then(|&i| seats.get_mut(i))
        {
            seat.participant = Some(id.clone());
            submit(
                &director,
                Command::AssignStation {
                    participant: id,
                    station: seat.station.clone(),
                },
            )?;
        }
    }
    for seat in &seats {
        submit(
            &director,
            Command::RegisterDevice {
                device: seat.device.clone(),
                role: boussole_protocol::manifest::device_role(seat.role)
                    .ok_or_else(|| anyhow!("a role"))?,
                station: seat.station.clone(),
            },
        )?;
    }
    let proxy = match faults {
        Some(seed) => Some(
            FaultProxy::start(serving.local_addr(), ProxyConfig::symmetric(seed, SHAKY)).await?,
        ),
        None => None,
    };
    let addr = proxy
        .as_ref()
        .map_or_else(|| serving.local_addr(), FaultProxy::local_addr);

    // The real clients, one at a time (the director counts pairings in flight).
    let mut clients = Vec::new();
    for seat in seats.iter().filter(|s| {
        s.station
            .as_ref()
            .is_some_and(|st| REAL.contains(&st.as_str()))
    }) {
        let role = match seat.role {
            boussole_protocol::wire::Role::Screen => "screen",
            boussole_protocol::wire::Role::Headset => "headset",
            _ => "terminal",
        };
        let spec = GameSpec {
            role: Some(role),
            code: None,
            content: None,
            device: seat.device.to_string(),
            station: seat.station.as_ref().map(ToString::to_string),
            participant: seat.participant.as_ref().map(ToString::to_string),
        };
        let mut client = GameProcess::start(&binary, &spec, addr, dir.path())?;
        client.wait_for("online", START_GUARD, |lines| {
            lines.iter().any(|l| l.starts_with("@state Some(Online"))
        })?;
        clients.push((spec, client));
    }
    ensure!(clients.len() == 3, "three real clients");

    // The facilitator starts the game and goes through the cue list.
    let mut steps = vec![(0.0, Command::StartGame)];
    for i in 0..scenario.cues.len() {
        steps.push((0.3 + 0.25 * i as f32, Command::Go));
    }
    let facilitator = play_facilitator(director.clone(), steps);
    let play = Play {
        content: serving.content_hashes(),
        think: Duration::from_millis(120),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed: 11,
        outbox_dir: Some(dir.path().join("outboxes")),
    };
    let sims: Vec<_> = seats
        .iter()
        .filter(|s| {
            !s.station
                .as_ref()
                .is_some_and(|st| REAL.contains(&st.as_str()))
        })
        .cloned()
        .collect();
    let devices = start_devices_via(serving.local_addr(), addr, sims, &scenario, &play).await?;

    // The reception terminal's participant answers each puzzle that opens at their station; the
    // headset-guided one once the headset shows its view (the team listens to the colleague).
    let guided: BTreeSet<PuzzleId> = scenario
        .puzzles
        .iter()
        .filter(|p| matches!(p.kind, PuzzleKind::HeadsetGuided { .. }))
        .map(|p| p.id.clone())
        .collect();
    ensure!(
        !guided.is_empty(),
        "the scenario has a headset-guided puzzle"
    );
    let reception = StationId::from("poste_accueil");
    let start = Instant::now();
    let mut answered: BTreeSet<PuzzleId> = BTreeSet::new();
    let mut saw_guided = false;
    loop {
        let headset_shows = clients.iter().any(|(s, c)| {
            s.role == Some("headset")
                && c.lines()
                    .iter()
                    .any(|l| l.starts_with("@headset phase=Guided"))
        });
        saw_guided |= headset_shows;
        let mut all_done = true;
        for (spec, client) in &mut clients {
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
                if answer_station(p) != Some(&reception) || answered.contains(&puzzle) {
                    continue;
                }
                if guided.contains(&puzzle) && !saw_guided {
                    continue;
                }
                answered.insert(puzzle.clone());
                let answer = ron::to_string(&right_answer(&p.solution))?;
                client.send(&format!("answer {puzzle} {answer}"))?;
            }
        }
        if all_done {
            break;
        }
        ensure!(
            start.elapsed() < GAME_GUARD * 2,
            "the real clients did not see the end of the game, all acknowledged: {:?}",
            clients
                .iter()
                .map(|(s, c)| (s.device.clone(), c.last("@snapshot"), c.last("@stats")))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure!(saw_guided, "the headset never showed the guided puzzle");
    ensure!(
        guided.iter().all(|g| answered.contains(g)),
        "the reception terminal answered {answered:?}"
    );
    let _ = wait_settled(&devices).await?;
    let _ = facilitator.join();
    submit(&director, Command::EndSession)?;

    let mut stats = stop_all(devices).await?;
    for (_, client) in clients {
        stats.push(client.quit(Duration::from_secs(20))?);
    }
    let session = serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    check_success(session.engine())?;
    let log = device_events(session.store(), session.id())?;
    check_exactly_once(&log, &stats)?;
    // The headset told once that it showed the view, credited to the person at the headset.
    let headset = stats
        .iter()
        .find(|(d, _)| d.as_str() == "casque")
        .map(|(_, s)| s)
        .context("no headset stats")?;
    let seen: Vec<_> = headset
        .events
        .iter()
        .filter(|(_, e)| matches!(e, DeviceEvent::HeadsetViewSeen { .. }))
        .collect();
    ensure!(seen.len() == 1, "the headset's view seen: {seen:?}");
    let wearer = seats
        .iter()
        .find(|s| s.device.as_str() == "casque")
        .and_then(|s| s.participant.clone());
    ensure!(
        session.engine().game_events().iter().any(|g| matches!(
            &g.kind, GameEventKind::HeadsetViewSeen(p) if guided.contains(p)
        ) && g.participant == wearer),
        "the log has no view seen by {wearer:?}"
    );
    ensure!(session.store().quick_check()?, "the store is sound");
    Ok(())
}
