//! The facilitator's console attached to a real director over loopback QUIC while six
//! simulated devices play S'cape attitudes: the console pairs, follows the session log live,
//! codes and writes a note under its own rater id, and its copy of the session equals the
//! director's at the end. A console closed and reopened (a crash) shows exactly the same
//! session, and a second console attached as observer may code but not run the room.
//! Every wait polls a condition; the guard only catches a hang.

use anyhow::{Context, Result, anyhow, ensure};
use boussole_console::link::{Link, LinkConfig};
use boussole_console::model::ConsoleModel;
use boussole_console::view::LinkState;
use boussole_content::ids::BehaviourId;
use boussole_director::engine::{Command, Engine, ObservationAction, RaterId};
use boussole_protocol::DeviceId;
use boussole_tests::{
    GAME_GUARD, Play, Room, code, facilitator_steps, play_facilitator, room, start_devices,
    start_room, stop_all, submit, test_backoff, wait_settled,
};
use std::path::Path;
use std::time::{Duration, Instant};

/// A console's link and model, polled together.
struct Console {
    link: Link,
    model: ConsoleModel,
}

impl Console {
    fn start(room: &Room, dir: &Path, name: &str, observer: bool, pair: bool) -> Result<Self> {
        let link = Link::start(LinkConfig {
            director: room.serving.local_addr(),
            device: DeviceId::from(name),
            observer,
            pairing_file: dir.join(format!("{name}.pairing")),
            pairing_code: if pair { Some(code()?) } else { None },
            content_hash: room.serving.content_hashes().console,
            backoff: test_backoff(),
        })?;
        let model = ConsoleModel::new(boussole_tests::content()?, RaterId(name.into()), observer);
        Ok(Self { link, model })
    }

    fn poll(&mut self) {
        for event in self.link.poll() {
            self.model.apply(event);
        }
    }

    /// Polls until `done` holds of the model, or fails after `guard`.
    async fn until(
        &mut self,
        what: &str,
        guard: Duration,
        done: impl Fn(&ConsoleModel) -> bool,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            self.poll();
            if done(&self.model) {
                return Ok(());
            }
            ensure!(
                start.elapsed() < guard,
                "console: {what} not reached in {guard:?} (link {:?}, {} records, error {:?})",
                self.model.link(),
                self.model.log_len(),
                self.model.error()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Console {
    /// The console's copy of the session and the director's engine, compared at one and the
    /// same log: the director's engine is taken together with its log's length (devices still
    /// connected may add a record, an acknowledgement or a disconnection, at any moment), and
    /// the pair is returned only when the console holds exactly that log.
    async fn settled_copy(
        &mut self,
        director: &boussole_director::runtime::DirectorHandle,
        what: &str,
    ) -> Result<(Engine, Engine)> {
        let start = Instant::now();
        loop {
            let (len, engine) = director
                .with(|s| {
                    s.store()
                        .log(s.id())
                        .map(|l| (l.len() as u64, s.engine().clone()))
                })
                .map_err(|e| anyhow!(e))??;
            self.until(what, GAME_GUARD, |m| m.log_len() >= len).await?;
            if self.model.log_len() == len {
                let copy = self
                    .model
                    .replica()
                    .context("a copy of the session")?
                    .engine()
                    .clone();
                return Ok((copy, engine));
            }
            ensure!(
                start.elapsed() < GAME_GUARD,
                "{what}: the log kept growing for {GAME_GUARD:?}"
            );
        }
    }
}

/// The parts of two engines a facilitator sees: puzzles, ending, timer, participants, devices,
/// observations, game events, hints.
fn same_session(console: &Engine, director: &Engine) -> Result<()> {
    ensure!(console.puzzles() == director.puzzles(), "puzzles differ");
    ensure!(console.ending() == director.ending(), "endings differ");
    ensure!(console.phase() == director.phase(), "phases differ");
    ensure!(console.times() == director.times(), "session times differ");
    ensure!(
        console.participants() == director.participants(),
        "participants differ"
    );
    ensure!(console.devices() == director.devices(), "devices differ");
    ensure!(
        console.observations() == director.observations(),
        "observations differ"
    );
    ensure!(
        console.game_events() == director.game_events(),
        "game events differ"
    );
    ensure!(
        console.hints_given() == director.hints_given(),
        "hints differ"
    );
    ensure!(
        console.standby() == director.standby(),
        "standby cues differ"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_follows_a_whole_game_codes_and_reopens_on_the_same_session() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let room_ = start_room(dir.path())?;
    let director = room_.serving.handle();

    // Attached before the game: it sees the enrolment at once.
    let mut console = Console::start(&room_, dir.path(), "console_test", false, true)?;
    let enrolled = room_.script.participants.len();
    console
        .until("the enrolment", GAME_GUARD, |m| {
            m.view(None)
                .is_some_and(|v| v.engine.participants().len() == enrolled)
        })
        .await?;
    let view = console.model.view(None).context("a view once enrolled")?;
    ensure!(view.link == LinkState::Online, "online: {:?}", view.link);

    let facilitator = play_facilitator(director.clone(), facilitator_steps(&room_.script));
    let seats = room(&room_.script, &room_.scenario);
    let play = Play {
        content: room_.serving.content_hashes(),
        think: Duration::from_millis(120),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed: 5,
        outbox_dir: None,
    };
    let devices = start_devices(room_.serving.local_addr(), seats, &room_.scenario, &play).await?;

    // The console codes while the room plays: a point event and a note, under its own id.
    let grid = room_
        .set
        .grids
        .first()
        .map(|g| g.value.clone())
        .ok_or_else(|| anyhow!("no grid"))?;
    let point = grid
        .behaviours
        .iter()
        .find(|b| b.kind == boussole_content::grid::EventKind::Point && b.modifiers.is_none())
        .map(|b| b.id.clone())
        .ok_or_else(|| anyhow!("no point behaviour without modifiers"))?;
    let participant = room_.script.participants[0].id.clone();
    console.link.send(&Command::Observe {
        rater: RaterId("console_test".into()),
        participant: participant.clone(),
        behaviour: point.clone(),
        action: ObservationAction::Point,
        modifier: None,
    })?;
    console.link.send(&Command::Note {
        rater: RaterId("console_test".into()),
        participant: Some(participant.clone()),
        text: "aide spontanément son voisin".into(),
    })?;

    // Names go to the protected table, never to the log; only the main console may set them.
    console.link.send_name("P1", Some("Awa Testeuse".into()))?;
    console.link.send_name("P99", Some("Personne".into()))?;
    console
        .until("the director's answers on names", GAME_GUARD, |m| {
            m.view(None).is_some_and(|v| {
                v.notices.iter().any(|n| n.contains("nom de P1 enregistré"))
                    && v.notices
                        .iter()
                        .any(|n| n.contains("nom de P99 non enregistré"))
            })
        })
        .await?;

    // An observer console codes too, and may not fire cues.
    let mut observer = Console::start(&room_, dir.path(), "observateur_test", true, true)?;
    observer
        .until("its copy", GAME_GUARD, |m| m.view(None).is_some())
        .await?;
    observer.link.send(&Command::Observe {
        rater: RaterId("observateur_test".into()),
        participant: participant.clone(),
        behaviour: point.clone(),
        action: ObservationAction::Point,
        modifier: None,
    })?;
    observer.link.send(&Command::Go)?;
    observer.link.send_name("P2", Some("Refusé".into()))?;
    observer
        .until("the refusal of its GO and of a name", GAME_GUARD, |m| {
            m.view(None).is_some_and(|v| {
                v.notices
                    .iter()
                    .any(|n| n.contains("observateur code seulement"))
                    && v.notices
                        .iter()
                        .any(|n| n.contains("seule la console principale"))
            })
        })
        .await?;

    let _ = wait_settled(&devices).await?;
    let _ = facilitator.join();
    submit(&director, Command::EndSession)?;
    let (copy, director_engine) = console.settled_copy(&director, "the whole log").await?;
    same_session(&copy, &director_engine)?;
    ensure!(
        copy.is_closed() && copy.ending().is_some(),
        "the game ended and closed"
    );
    let by = |rater: &str| {
        copy.observations()
            .iter()
            .filter(|o| o.rater.0 == rater)
            .count()
    };
    ensure!(
        by("console_test") == 2 && by("observateur_test") == 1,
        "the console's point and note, the observer's point, each under its own id: {:?}",
        copy.observations()
            .iter()
            .map(|o| (&o.rater.0, &o.behaviour, &o.note))
            .collect::<Vec<_>>()
    );
    ensure!(
        copy.observations().iter().any(|o| o.behaviour.as_ref()
            == Some(&BehaviourId::from(point.as_str()))
            && o.phase.is_some()),
        "the code is stamped with the phase"
    );

    // A crash: the console goes away and comes back with its saved pairing (no code).
    drop(console);
    let mut reopened = Console::start(&room_, dir.path(), "console_test", false, false)?;
    let (again, director_engine) = reopened
        .settled_copy(&director, "the whole log again")
        .await?;
    same_session(&again, &director_engine)?;

    drop(observer);
    drop(reopened);
    stop_all(devices).await?;
    let session = room_
        .serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    ensure!(session.store().quick_check()?, "the store is sound");
    let sid = session.id();
    ensure!(
        session.store().participant_name(sid, "P1")?.as_deref() == Some("Awa Testeuse")
            && session.store().participant_name(sid, "P2")?.is_none(),
        "P1's name is in the protected table, the observer's was refused"
    );
    ensure!(
        !session
            .store()
            .log(sid)?
            .iter()
            .any(|r| r.payload.windows(5).any(|w| w == b"Awa T")),
        "no name in the log"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_without_pairing_says_what_to_do_and_a_wrong_code_is_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let room_ = start_room(dir.path())?;
    let mut unpaired = Console::start(&room_, dir.path(), "console_neuve", false, false)?;
    unpaired
        .until("the window asking for the code", GAME_GUARD, |m| {
            matches!(m.link(), LinkState::NeedsCode { refused: None })
        })
        .await?;
    let wrong = Link::start(LinkConfig {
        director: room_.serving.local_addr(),
        device: DeviceId::from("console_intruse"),
        observer: false,
        pairing_file: dir.path().join("intruse.pairing"),
        pairing_code: Some(boussole_protocol::pairing::PairingCode::parse("000000")?),
        content_hash: room_.serving.content_hashes().console,
        backoff: test_backoff(),
    })?;
    let mut model = ConsoleModel::new(
        boussole_tests::content()?,
        RaterId("console_intruse".into()),
        false,
    );
    let start = Instant::now();
    loop {
        for e in wrong.poll() {
            model.apply(e);
        }
        if let LinkState::NeedsCode { refused } = model.link() {
            ensure!(
                refused
                    .as_deref()
                    .is_some_and(|r| r.contains("appairage refusé")),
                "{refused:?}"
            );
            break;
        }
        ensure!(start.elapsed() < GAME_GUARD, "no refusal");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(
        !dir.path().join("intruse.pairing").exists(),
        "nothing saved after a refused pairing"
    );
    let _ = room_.serving.stop().await;
    Ok(())
}

/// The person register through a real director: the console gets it on connection, adds a
/// person, enrols them with their slot in one transaction, and a refused merge comes back as
/// a French notice; an observer console never gets the register.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_keeps_the_register_and_enrols_by_person() -> Result<()> {
    use boussole_director::engine::PersonId;
    use boussole_director::register::RegisterRequest;
    let dir = tempfile::tempdir()?;
    let room_ = start_room(dir.path())?;
    let enrolled = room_.script.participants.len();
    let mut console = Console::start(&room_, dir.path(), "console_registre", false, true)?;
    console
        .until("the register with the enrolled people", GAME_GUARD, |m| {
            m.view(None)
                .is_some_and(|v| v.register.persons.len() == enrolled)
        })
        .await?;
    console.link.send_register(&RegisterRequest::Create {
        pseudonym: "Lila".into(),
        name: "Lila Benali".into(),
        entered_on: "2026-12-01".into(),
        prescriber_name: "M. Petit".into(),
        prescriber_structure: "PLIE".into(),
    })?;
    console
        .until("Lila in the register", GAME_GUARD, |m| {
            m.view(None)
                .is_some_and(|v| v.register.persons.iter().any(|p| p.pseudonym == "Lila"))
        })
        .await?;
    let view = console.model.view(None).context("a view")?;
    let lila = view
        .register
        .persons
        .iter()
        .find(|p| p.pseudonym == "Lila")
        .context("Lila")?
        .clone();
    ensure!(lila.has_name && lila.sessions.is_empty(), "{lila:?}");
    let slot = boussole_director::engine::ParticipantId::from("P9");
    console.link.send_together(&[
        Command::AddParticipant {
            id: slot.clone(),
            pseudonym: "Lila".into(),
            colour: "#123456".into(),
        },
        Command::AssignPerson {
            participant: slot.clone(),
            person: PersonId(lila.id.clone()),
            reason: String::new(),
        },
    ])?;
    console
        .until(
            "Lila in the session, in the register too",
            GAME_GUARD,
            |m| {
                m.view(None).is_some_and(|v| {
                    v.engine
                        .participants()
                        .get(&slot)
                        .is_some_and(|p| p.person.as_ref().is_some_and(|q| q.0 == lila.id))
                        && v.register
                            .persons
                            .iter()
                            .any(|p| p.id == lila.id && p.sessions.len() == 1)
                })
            },
        )
        .await?;
    // Two people of one session are never merged: refused, in French.
    let p1 = console
        .model
        .view(None)
        .and_then(|v| {
            v.engine
                .participants()
                .get(&boussole_director::engine::ParticipantId::from("P1"))
                .and_then(|p| p.person.clone())
        })
        .context("P1's person")?;
    console.link.send_register(&RegisterRequest::Merge {
        from: p1.0.clone(),
        into: lila.id.clone(),
        reason: "essai".into(),
    })?;
    console
        .until("the refusal", GAME_GUARD, |m| {
            m.view(None).is_some_and(|v| {
                v.notices
                    .iter()
                    .any(|n| n.contains("fusion impossible") && n.contains("deux personnes"))
            })
        })
        .await?;
    // An observer follows the session but gets no register.
    let mut observer = Console::start(&room_, dir.path(), "observateur_registre", true, true)?;
    observer
        .until("the session", GAME_GUARD, |m| {
            m.view(None)
                .is_some_and(|v| v.engine.participants().len() == enrolled + 1)
        })
        .await?;
    ensure!(
        observer
            .model
            .view(None)
            .is_some_and(|v| v.register.persons.is_empty()),
        "an observer gets no register"
    );
    drop(observer);
    drop(console);
    let session = room_
        .serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    ensure!(
        session.store().person_name(&lila.id)?.as_deref() == Some("Lila Benali"),
        "the name went to the protected table"
    );
    ensure!(
        !session
            .store()
            .log(session.id())?
            .iter()
            .any(|r| r.payload.windows(6).any(|w| w == b"Benali")),
        "no name in the log"
    );
    Ok(())
}

/// A headset of the room, connected straight through the transport (pairing with the room's
/// code), to stream poses as the game's pose system does.
async fn raw_device(
    room_: &Room,
    name: &str,
    role: boussole_protocol::wire::Role,
) -> Result<boussole_protocol::transport::Client> {
    let addr = room_.serving.local_addr();
    let device = DeviceId::from(name);
    let pairing = boussole_sim::pair(addr, code()?, &device).await?;
    let hello = boussole_protocol::wire::Hello {
        protocol_version: boussole_protocol::wire::PROTOCOL_VERSION,
        device,
        role,
        content_hash: [0; 32],
        token: Some(pairing.token),
    };
    Ok(boussole_protocol::transport::Client::connect(addr, &pairing.ca_der, hello).await?)
}

/// A head looking at `yaw_deg` (clockwise from the front) on the horizon, at `device_ms`.
fn looking(yaw_deg: f32, device_ms: u64) -> boussole_protocol::wire::Pose {
    let h = (-yaw_deg).to_radians() / 2.0;
    boussole_protocol::wire::Pose {
        device_ms,
        position_m: [0.0, 1.6, 0.0],
        orientation: [0.0, h.sin(), 0.0, h.cos()],
        // The controller held at the right hip, pointing where the head looks.
        pointer: Some(boussole_protocol::wire::PointerRay {
            origin_m: [0.2, 1.1, -0.2],
            direction: [yaw_deg.to_radians().sin(), 0.0, -yaw_deg.to_radians().cos()],
        }),
        shows: Some(boussole_protocol::wire::Shows {
            doing: boussole_protocol::wire::Doing::Task,
            board: format!("Tâche {device_ms} : quel geste en premier ?"),
        }),
    }
}

/// Two headsets stream their head poses through a real director to the facilitator's console:
/// the console's copy of each follows the last pose each sent (datagrams may be lost: each
/// side sends until the console holds it, asserted on state); an older pose, a tablet's pose
/// and a pose with NaN are ignored and counted; an observer console gets no pose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_follows_each_headsets_head() -> Result<()> {
    use boussole_protocol::wire::Role as WireRole;
    let dir = tempfile::tempdir()?;
    let room_ = start_room(dir.path())?;
    let mut console = Console::start(&room_, dir.path(), "console_regard", false, true)?;
    let mut observer = Console::start(&room_, dir.path(), "console_second", true, true)?;
    console
        .until("the session", GAME_GUARD, |m| m.view(None).is_some())
        .await?;
    let one = raw_device(&room_, "casque-regard-1", WireRole::Headset).await?;
    let two = raw_device(&room_, "casque-regard-2", WireRole::Headset).await?;
    let tablet = raw_device(&room_, "tablette-regard", WireRole::Terminal).await?;
    let pose_of = |m: &ConsoleModel, device: &str| {
        m.view(None).and_then(|v| {
            v.poses
                .poses
                .iter()
                .find(|p| p.device.as_str() == device)
                .map(|p| p.pose.clone())
        })
    };
    // Each headset turns in steps; the console follows both.
    for step in 1..=4_u64 {
        #[expect(clippy::cast_precision_loss, reason = "a few steps")]
        let (a, b) = (
            looking(30.0 * step as f32, step * 100),
            looking(-20.0 * step as f32, step * 100),
        );
        let start = Instant::now();
        loop {
            one.send_pose(&a)?;
            two.send_pose(&b)?;
            console.poll();
            if pose_of(&console.model, "casque-regard-1").as_ref() == Some(&a)
                && pose_of(&console.model, "casque-regard-2").as_ref() == Some(&b)
            {
                break;
            }
            ensure!(
                start.elapsed() < GAME_GUARD,
                "step {step}: the console never held both poses"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
    // Step 4's pose of casque 1: the newest it sent.
    let last = looking(120.0, 400);
    // Ignored and counted: an older pose of casque 1 (out of order), a tablet's, a NaN.
    let older = looking(-90.0, 50);
    let nan = boussole_protocol::wire::Pose {
        position_m: [f32::NAN, 1.6, 0.0],
        ..looking(0.0, 10_000)
    };
    let start = Instant::now();
    loop {
        one.send_pose(&older)?;
        one.send_pose(&nan)?;
        tablet.send_pose(&looking(10.0, 1))?;
        // A fresh pose of casque 2 makes the director forward (and carry the count).
        #[expect(clippy::cast_possible_truncation, reason = "milliseconds of a test")]
        let now = 500 + start.elapsed().as_millis() as u64;
        two.send_pose(&looking(-80.0, now))?;
        console.poll();
        let ignored = console.model.view(None).map_or(0, |v| v.poses.ignored);
        if ignored >= 3 {
            break;
        }
        ensure!(
            start.elapsed() < GAME_GUARD,
            "ignored poses never counted ({ignored})"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    ensure!(
        pose_of(&console.model, "casque-regard-1").as_ref() == Some(&last),
        "casque 1 kept its newest pose (step 4's), not an older or implausible one: {:?}",
        pose_of(&console.model, "casque-regard-1")
    );
    ensure!(
        pose_of(&console.model, "tablette-regard").is_none(),
        "a tablet has no head"
    );
    observer.poll();
    ensure!(
        observer
            .model
            .view(None)
            .is_none_or(|v| v.poses.poses.is_empty()),
        "an observer console gets no pose"
    );
    drop((one, two, tablet, observer, console));
    room_.serving.stop().await;
    Ok(())
}

/// Two headless headsets (the game's real binary, `--headless`) stream their head poses
/// through a real director to the facilitator's console: each turns its head with its `look`
/// command, and the console's copy of each pose says the same heading and pitch, with what the
/// headset shows (no immersion yet: waiting in the calm room). Asserted on the console's state
/// (each wait bounded by a guard, the poses kept coming by the headsets themselves).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_headless_headsets_stream_their_heads_to_the_console() -> Result<()> {
    use boussole_console::spectator::{angles, forward};
    use boussole_tests::game::{GameProcess, GameSpec, game_binary};
    let dir = tempfile::tempdir()?;
    let room_ = start_room(dir.path())?;
    let mut console = Console::start(&room_, dir.path(), "console_tetes", false, true)?;
    console
        .until("the session", GAME_GUARD, |m| m.view(None).is_some())
        .await?;
    let binary = game_binary()?;
    let addr = room_.serving.local_addr();
    let spec = |device: &str| GameSpec {
        role: Some("headset"),
        code: None,
        device: device.into(),
        station: None,
        participant: None,
        content: None,
    };
    let online = |lines: &[String]| lines.iter().any(|l| l.starts_with("@state Some(Online"));
    let mut one = GameProcess::start(&binary, &spec("casque-tete-1"), addr, dir.path())?;
    let mut two = GameProcess::start(&binary, &spec("casque-tete-2"), addr, dir.path())?;
    one.wait_for("online", GAME_GUARD, online)?;
    two.wait_for("online", GAME_GUARD, online)?;
    // Where the console sees a headset look: (yaw, pitch) degrees, and what it shows.
    let seen = |m: &ConsoleModel, device: &str| {
        m.view(None).and_then(|v| {
            v.poses
                .poses
                .iter()
                .find(|p| p.device.as_str() == device)
                .map(|p| (angles(forward(p.pose.orientation)), p.pose.shows.clone()))
        })
    };
    for (a, b) in [((40.0, -5.0), (-120.0, 10.0)), ((-15.0, 20.0), (90.0, 0.0))] {
        one.send(&format!("look {} {}", a.0, a.1))?;
        two.send(&format!("look {} {}", b.0, b.1))?;
        let near = |got: Option<((f32, f32), Option<boussole_protocol::wire::Shows>)>,
                    want: (f32, f32)| {
            got.is_some_and(|((yaw, pitch), shows)| {
                (yaw - want.0).abs() < 0.5
                    && (pitch - want.1).abs() < 0.5
                    && shows.is_some_and(|s| {
                        s.doing == boussole_protocol::wire::Doing::Waiting && s.board.is_empty()
                    })
            })
        };
        console
            .until(
                &format!("both heads turned to {a:?} and {b:?}"),
                GAME_GUARD,
                |m| near(seen(m, "casque-tete-1"), a) && near(seen(m, "casque-tete-2"), b),
            )
            .await?;
    }
    one.quit(GAME_GUARD)?;
    two.quit(GAME_GUARD)?;
    drop(console);
    room_.serving.stop().await;
    Ok(())
}
