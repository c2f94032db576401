//! A whole game of S'cape attitudes over loopback QUIC: the director wired as `serve` wires
//! it, the facilitator's commands of the demo script, and six simulated devices (the room
//! screen, three terminals, the headset and a second tablet) that pair, play every puzzle
//! (with wrong answers and hint requests) and acknowledge their cues. Every wait is on a
//! device's counters; the guards only catch a hang.

use anyhow::{Result, anyhow, ensure};
use boussole_content::ids::{HotspotId, ImmersionId, QuestionId};
use boussole_director::engine::Command;
use boussole_protocol::DeviceEvent;
use boussole_tests::{
    GAME_GUARD, Play, Room, check_clocks, check_exactly_once, check_success, device_events,
    facilitator_steps, play_facilitator, room, start_devices, start_room, stop_all, submit,
    wait_settled, wait_solved,
};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_devices_play_scape_attitudes_to_its_success_ending() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let Room {
        scenario,
        script,
        serving,
        created_at,
        ..
    } = start_room(dir.path())?;
    let director = serving.handle();
    let facilitator = play_facilitator(director.clone(), facilitator_steps(&script));

    let seats = room(&script, &scenario);
    ensure!(seats.len() == 6, "six devices, got {seats:?}");
    let play = Play {
        content: serving.content_hashes(),
        think: Duration::from_millis(120),
        wrong_rate: 0.5,
        hint_rate: 0.5,
        seed: 11,
        outbox_dir: Some(dir.path().join("outboxes")),
    };
    let devices = start_devices(serving.local_addr(), seats, &scenario, &play).await?;

    // The headset's participant rates and explores while the others play.
    let headset = devices
        .iter()
        .find(|d| d.device().0 == "casque_1")
        .ok_or_else(|| anyhow!("no headset"))?;
    wait_solved(&devices, 1, GAME_GUARD).await?;
    headset.hotspot_seen(ImmersionId::from("tutoriel"), HotspotId::from("h_quai"))?;
    headset.rating(QuestionId::from("qa_stress"), 3, Some("ça allait".into()))?;

    let ended = wait_settled(&devices).await?;
    ensure!(
        ended
            .iter()
            .all(|s| s.content_in_sync == Some(true) && s.connections == 1),
        "every device in sync, connected once"
    );
    ensure!(
        ended.iter().map(|s| s.wrong_answers).sum::<u64>() > 0
            && ended.iter().map(|s| s.hint_requests).sum::<u64>() > 0,
        "the seed gives some wrong answers and hint requests"
    );
    // Before the ten-minute alerts, the game's text and sound cues all target the screen.
    for (d, s) in devices.iter().zip(&ended) {
        ensure!(s.snapshots > 0, "{}: no snapshot", d.device());
        if d.device().0 == "ecran" {
            ensure!(
                s.cues_applied() >= 3 && s.cues_finished > 0,
                "the screen played the title, the ambience, the rumour…: {s:?}"
            );
        }
    }
    check_clocks(created_at, &devices, 100.0)?;
    let _ = facilitator.join();
    submit(&director, Command::EndSession)?;

    let stats = stop_all(devices).await?;
    let session = serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    check_success(session.engine())?;
    ensure!(
        session.engine().is_closed(),
        "EndSession closed the session"
    );
    let log = device_events(session.store(), session.id())?;
    check_exactly_once(&log, &stats)?;
    let headset_events: Vec<&DeviceEvent> = log
        .iter()
        .filter(|((d, _), _)| d.0 == "casque_1")
        .flat_map(|(_, copies)| copies.iter().map(|c| &c.event))
        .collect();
    ensure!(
        headset_events
            .iter()
            .any(|e| matches!(e, DeviceEvent::Rating { value: 3, .. }))
            && headset_events
                .iter()
                .any(|e| matches!(e, DeviceEvent::HotspotSeen { .. })),
        "the headset's rating and hotspot are logged"
    );
    ensure!(session.store().quick_check()?, "the store is sound");
    Ok(())
}
