//! The headset's logic headless (`MinimalPlugins` + transforms, a manual clock, no window, no
//! mouse): the XR fallback told to the director, and a whole tutorial played through the
//! pointer layer with synthetic rays (hotspots, the task, the questionnaire), the time limit's
//! break prompt, snap turns, and the instant stop to the calm room.

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use boussole_content::cue::DeviceRole;
use boussole_content::ids::{HotspotId, ImmersionId};
use boussole_game::content::GameContent;
use boussole_game::headset::pointer::PointerInput;
use boussole_game::headset::state::{
    ButtonAction, HeadsetAction, HeadsetState, HotspotMarker, PanelButtonEntity, Phase, SceneEntity,
};
use boussole_game::net::plugin::{ImmersionOrder, Reported};
use boussole_game::third_party::audio::AudioOutput;
use boussole_game::third_party::xr::NO_XR_RUNTIME;
use boussole_game::{LaunchOptions, plugin};
use boussole_protocol::{DeviceEvent, ParticipantId};
use std::path::Path;
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const STEP: Duration = Duration::from_millis(100);

fn app(flat: bool) -> Result<App, Box<dyn std::error::Error>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let content = GameContent::load(&repo.join("content"), &repo.join("assets"))?;
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, TransformPlugin))
        .add_plugins(plugin(
            DeviceRole::Headset,
            LaunchOptions {
                headless: true,
                flat,
                ..default()
            },
        ))
        .insert_resource(content)
        .insert_resource(AudioOutput { available: false })
        .insert_resource(TimeUpdateStrategy::ManualDuration(STEP));
    app.update();
    Ok(app)
}

fn events(app: &App) -> Vec<DeviceEvent> {
    app.world().resource::<Reported>().in_order()
}

/// Aims from the eyes at `target` and clicks (select down, then up).
fn click_at(app: &mut App, target: Vec3) -> TestResult {
    let eye = app.world().resource::<HeadsetState>().eye;
    let ray = Ray3d::new(eye, Dir3::new(target - eye)?);
    for down in [true, false] {
        *app.world_mut().resource_mut::<PointerInput>() = PointerInput {
            ray: Some(ray),
            select_down: down,
        };
        app.update();
    }
    *app.world_mut().resource_mut::<PointerInput>() = PointerInput::default();
    app.update();
    Ok(())
}

fn button_where(app: &mut App, pick: impl Fn(&ButtonAction) -> bool) -> Option<Vec3> {
    let mut q = app
        .world_mut()
        .query::<(&PanelButtonEntity, &GlobalTransform)>();
    q.iter(app.world())
        .find(|(b, _)| pick(&b.0.action))
        .map(|(_, t)| t.translation())
}

fn press(app: &mut App, pick: impl Fn(&ButtonAction) -> bool) -> TestResult {
    let at = button_where(app, pick).ok_or("no such button on the panel")?;
    click_at(app, at)
}

fn hotspot_at(app: &mut App, id: &str) -> Option<Vec3> {
    let mut q = app
        .world_mut()
        .query::<(&HotspotMarker, &GlobalTransform)>();
    q.iter(app.world())
        .find(|(m, _)| m.hotspot.as_str() == id)
        .map(|(_, t)| t.translation())
}

fn phase(app: &App) -> Phase {
    app.world().resource::<HeadsetState>().phase
}

#[test]
fn without_an_xr_runtime_the_headset_goes_flat_and_tells_the_director() -> TestResult {
    let mut app = app(false)?;
    app.update();
    let ev = events(&app);
    assert!(
        ev.iter()
            .any(|e| matches!(e, DeviceEvent::Problem { what } if what == NO_XR_RUNTIME)),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| matches!(e, DeviceEvent::Health(h) if h.xr_flat_fallback)),
        "{ev:?}"
    );
    let problems = ev
        .iter()
        .filter(|e| matches!(e, DeviceEvent::Problem { .. }))
        .count();
    assert_eq!(problems, 1, "said once: {ev:?}");
    // `--flat` is a choice, not a problem.
    let flat = app_events_after_start(true)?;
    assert!(
        !flat
            .iter()
            .any(|e| matches!(e, DeviceEvent::Problem { .. })),
        "{flat:?}"
    );
    assert!(
        flat.iter()
            .any(|e| matches!(e, DeviceEvent::Health(h) if !h.xr_flat_fallback))
    );
    Ok(())
}

fn app_events_after_start(flat: bool) -> Result<Vec<DeviceEvent>, Box<dyn std::error::Error>> {
    let mut app = app(flat)?;
    app.update();
    Ok(events(&app))
}

#[test]
fn a_new_participant_plays_the_tutorial_with_the_pointer_then_the_immersion() -> TestResult {
    let mut app = app(true)?;
    let p1 = ParticipantId::from("P1");
    app.world_mut().write_message(HeadsetAction::Start {
        immersion: ImmersionId::from("cariste_port"),
        participant: Some(p1.clone()),
        started_at_ms: None,
    });
    app.update();
    app.update();
    {
        let state = app.world().resource::<HeadsetState>();
        let run = state.run.as_ref().ok_or("no run")?;
        assert_eq!(
            run.immersion.id.as_str(),
            "tutoriel",
            "the tutorial comes first"
        );
        assert_eq!(state.phase, Phase::Intro);
        assert!((state.eye.y - 1.2).abs() < 1e-6, "seated eye height");
        assert!(
            !state.sounds.is_empty(),
            "narration decoded before the scene starts"
        );
    }
    // Aiming at nothing selects nothing.
    click_at(&mut app, Vec3::new(0.0, 10.0, 50.0))?;
    assert_eq!(phase(&app), Phase::Intro);
    press(&mut app, |a| *a == ButtonAction::Begin)?;
    assert_eq!(phase(&app), Phase::Exploring);

    // A hotspot: its narration shows and the director hears it once.
    let blue = hotspot_at(&mut app, "h_viser").ok_or("no marker")?;
    click_at(&mut app, blue)?;
    click_at(&mut app, blue)?;
    let seen: Vec<_> = events(&app)
        .into_iter()
        .filter(|e| matches!(e, DeviceEvent::HotspotSeen { .. }))
        .collect();
    assert_eq!(
        seen,
        vec![DeviceEvent::HotspotSeen {
            immersion: ImmersionId::from("tutoriel"),
            hotspot: HotspotId::from("h_viser"),
        }]
    );
    {
        let state = app.world().resource::<HeadsetState>();
        let (caption, _) = state.caption.as_ref().ok_or("no narration")?;
        assert!(caption.text.contains("rayon"), "{caption:?}");
    }

    // The task: pick the right answer, validate.
    press(
        &mut app,
        |a| matches!(a, ButtonAction::Pick(i) if i.as_str() == "stop"),
    )?;
    press(&mut app, |a| *a == ButtonAction::Validate)?;
    assert!(events(&app).contains(&DeviceEvent::TaskDone {
        immersion: ImmersionId::from("tutoriel"),
        task: "t_arreter".into(),
        correct: true,
    }));

    // The questionnaire: appeal, one stress question, the comment invitation.
    press(&mut app, |a| *a == ButtonAction::FinishVisit)?;
    assert_eq!(phase(&app), Phase::Questionnaire(0));
    press(&mut app, |a| *a == ButtonAction::Rate(4))?;
    press(&mut app, |a| *a == ButtonAction::Rate(2))?;
    press(&mut app, |a| *a == ButtonAction::EndQuestionnaire)?;
    assert_eq!(phase(&app), Phase::Thanks);
    let ratings: Vec<_> = events(&app)
        .into_iter()
        .filter_map(|e| match e {
            DeviceEvent::ImmersionRating {
                immersion,
                question,
                value,
                participant,
            } => Some((
                immersion.to_string(),
                question.to_string(),
                value,
                participant,
            )),
            _ => None,
        })
        .collect();
    // Each answer names the tutorial: it is not about the immersion that comes next.
    assert_eq!(
        ratings,
        vec![
            ("tutoriel".into(), "appeal".into(), 4, p1.clone()),
            ("tutoriel".into(), "q_son".into(), 2, p1.clone())
        ]
    );

    // Then the immersion that was asked for.
    press(&mut app, |a| *a == ButtonAction::Next)?;
    app.update();
    let state = app.world().resource::<HeadsetState>();
    let run = state.run.as_ref().ok_or("no run")?;
    assert_eq!(run.immersion.id.as_str(), "cariste_port");
    assert_eq!(state.phase, Phase::Intro);
    Ok(())
}

#[test]
fn stimuli_come_at_their_time_and_the_time_limit_asks_for_a_break() -> TestResult {
    let mut app = app(true)?;
    app.world_mut()
        .resource_mut::<HeadsetState>()
        .tutorial_done
        .insert(String::new());
    app.world_mut().write_message(HeadsetAction::Start {
        immersion: ImmersionId::from("tutoriel"),
        participant: None,
        started_at_ms: None,
    });
    app.update();
    app.update();
    press(&mut app, |a| *a == ButtonAction::Begin)?;
    // The tutorial's chime comes 90 s into the visit; its limit is 3 minutes.
    let mut guard = 0;
    while app
        .world()
        .resource::<HeadsetState>()
        .run
        .as_ref()
        .is_some_and(|r| r.stimuli_played.is_empty())
    {
        app.update();
        guard += 1;
        assert!(guard < 2_000, "the stimulus never came");
    }
    let state = app.world().resource::<HeadsetState>();
    let (caption, _) = state.caption.as_ref().ok_or("no caption")?;
    assert!(caption.title.contains("bruit"), "{caption:?}");
    let visit = state
        .run
        .as_ref()
        .and_then(|r| r.visit_started_s)
        .ok_or("visit")?;
    assert!(state.now_s - visit >= 90.0 && state.now_s - visit < 91.0);
    while !app.world().resource::<HeadsetState>().break_prompt {
        app.update();
        guard += 1;
        assert!(guard < 4_000, "no break prompt");
    }
    assert!(app.world().resource::<HeadsetState>().now_s >= 180.0);
    press(&mut app, |a| *a == ButtonAction::KeepGoing)?;
    assert!(!app.world().resource::<HeadsetState>().break_prompt);
    Ok(())
}

#[test]
fn snap_turns_and_the_instant_stop_leave_a_calm_room() -> TestResult {
    let mut app = app(true)?;
    app.world_mut().write_message(HeadsetAction::Start {
        immersion: ImmersionId::from("tutoriel"),
        participant: None,
        started_at_ms: None,
    });
    app.update();
    let yaw = app.world().resource::<HeadsetState>().yaw_deg;
    app.world_mut().write_message(HeadsetAction::Turn(1));
    app.update();
    let state = app.world().resource::<HeadsetState>();
    assert!(
        (state.yaw_deg - (yaw - 30.0)).abs() < 1e-4,
        "{}",
        state.yaw_deg
    );
    assert!(state.vignette_until > state.now_s, "vignette on a turn");
    let mut scene = app.world_mut().query_filtered::<(), With<SceneEntity>>();
    assert!(scene.iter(app.world()).count() > 0);
    app.world_mut().write_message(HeadsetAction::Stop);
    app.update();
    app.update();
    let state = app.world().resource::<HeadsetState>();
    assert_eq!(state.phase, Phase::Stopped);
    assert!(state.shown_scene.is_none(), "the calm room");
    assert!(state.stopped_at.is_some(), "the fade");
    assert_eq!(scene.iter(app.world()).count(), 0);
    let mut buttons = app
        .world_mut()
        .query_filtered::<(), With<PanelButtonEntity>>();
    assert_eq!(buttons.iter(app.world()).count(), 0, "nothing to do");
    Ok(())
}

#[test]
fn the_directors_orders_start_once_and_stop_the_immersion() -> TestResult {
    let mut app = app(true)?;
    let order = ImmersionOrder {
        immersion: Some(ImmersionId::from("tutoriel")),
        participant: Some(ParticipantId::from("P2")),
        started_at_ms: None,
        tutorial_done: false,
    };
    app.world_mut().write_message(order.clone());
    app.update();
    press(&mut app, |a| *a == ButtonAction::Begin)?;
    assert_eq!(phase(&app), Phase::Exploring);
    // Sent again on reconnection: the run goes on where it was.
    app.world_mut().write_message(order);
    app.update();
    app.update();
    assert_eq!(phase(&app), Phase::Exploring);
    app.world_mut().write_message(ImmersionOrder {
        immersion: None,
        participant: None,
        started_at_ms: None,
        tutorial_done: false,
    });
    app.update();
    assert_eq!(phase(&app), Phase::Stopped);
    Ok(())
}

#[test]
fn missing_and_corrupt_sounds_are_one_problem_and_the_text_still_shows() -> TestResult {
    let mut app = app(true)?;
    let assets = tempfile::tempdir()?;
    // One narration corrupt, every other sound missing.
    let corrupt = assets.path().join("audio/tutoriel/viser-2a7e5862.ogg");
    std::fs::create_dir_all(corrupt.parent().ok_or("parent")?)?;
    std::fs::write(&corrupt, b"OggS pas un son")?;
    app.world_mut().resource_mut::<GameContent>().assets = assets.path().to_path_buf();
    app.world_mut().write_message(HeadsetAction::Start {
        immersion: ImmersionId::from("tutoriel"),
        participant: None,
        started_at_ms: None,
    });
    app.update();
    let problems: Vec<String> = events(&app)
        .into_iter()
        .filter_map(|e| match e {
            DeviceEvent::Problem { what } => Some(what),
            _ => None,
        })
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("corrompu"), "{}", problems[0]);
    assert!(problems[0].contains("introuvable"), "{}", problems[0]);
    press(&mut app, |a| *a == ButtonAction::Begin)?;
    let blue = hotspot_at(&mut app, "h_viser").ok_or("no marker")?;
    click_at(&mut app, blue)?;
    let state = app.world().resource::<HeadsetState>();
    assert!(
        state.caption.is_some(),
        "the narration's text shows without its voice"
    );
    Ok(())
}

/// The content with one more immersion: `cariste_port`'s hotspots and questionnaire over a 360°
/// film (`file`, under `assets`), each hotspot at its own yaw.
fn with_a_360_film(app: &mut App, file: &str) -> TestResult {
    use boussole_content::ids::AnchorId;
    use boussole_content::immersion::{ImmersionSource, VideoAnchor};
    use boussole_content::text::AssetPath;
    let mut content = app.world_mut().resource_mut::<GameContent>();
    let base = content.immersion("cariste_port").ok_or("cariste_port")?;
    let mut film = (*base).clone();
    film.id = ImmersionId::from("visite_360");
    let mut anchors = Vec::new();
    for (n, hotspot) in film.hotspots.iter_mut().enumerate() {
        let id = AnchorId::from(format!("direction_{n}").as_str());
        anchors.push(VideoAnchor {
            id: id.clone(),
            yaw_deg: -90.0 + 60.0 * n as f32,
            pitch_deg: -10.0,
        });
        hotspot.anchor = id;
    }
    film.source = ImmersionSource::Video360 {
        file: AssetPath(file.into()),
        stereo: false,
        anchors,
    };
    content.immersions.push(std::sync::Arc::new(film));
    Ok(())
}

/// Runs frames until `done` holds, for at most `limit` of wall-clock time (the decoder runs on
/// its own threads, in real time); the condition's last value.
fn until(app: &mut App, limit: Duration, done: impl Fn(&App) -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        app.update();
        if done(app) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done(app)
}

#[test]
fn a_360_film_starts_where_the_directors_clock_is_with_its_hotspots_on_their_anchors() -> TestResult
{
    use boussole_game::headset::state::{VIDEO_MARKER_DISTANCE_M, video_direction};
    use boussole_game::headset::video360::Film;
    use boussole_game::net::plugin::Room;
    use boussole_protocol::wire::Snapshot;
    let mut app = app(true)?;
    with_a_360_film(&mut app, "videos/tests/sphere_360_512x256.webm")?;
    // The director's clock: 100 s into the session now.
    let local = app.world().resource::<Room>().local_now_ms;
    let mut room = app.world_mut().resource_mut::<Room>();
    room.snapshot = Some(Snapshot {
        scenario: "exemple".into(),
        phase: None,
        timer_running: false,
        remaining_ms: 0,
        at_ms: 100_000,
        open: Vec::new(),
        solved: Vec::new(),
        ended: None,
    });
    room.snapshot_local_ms = local;
    // Started 1.5 s ago on the director's clock (the other headsets are there already).
    app.world_mut()
        .resource_mut::<HeadsetState>()
        .tutorial_done
        .insert("P4".into());
    app.world_mut().write_message(ImmersionOrder {
        immersion: Some(ImmersionId::from("visite_360")),
        participant: Some(ParticipantId::from("P4")),
        started_at_ms: Some(98_500),
        tutorial_done: false,
    });
    app.update();
    {
        let state = app.world().resource::<HeadsetState>();
        assert_eq!(
            state.phase,
            Phase::Exploring,
            "a film plays on the director's clock: no panel holds it back"
        );
        let (caption, _) = state.caption.as_ref().ok_or("the introduction is read")?;
        let run = state.run.as_ref().ok_or("no run")?;
        assert_eq!(caption.text, run.immersion.introduction.fr);
        assert!(state.shown_scene.is_none());
        let video = state.shown_video.as_ref().ok_or("no film")?;
        assert_eq!(video.started_at_ms, Some(98_500));
    }
    let opened = until(&mut app, Duration::from_secs(20), |app| {
        app.world()
            .resource::<Film>()
            .position()
            .is_some_and(|p| p >= Duration::from_millis(1_400))
    });
    let position = app.world().resource::<Film>().position();
    assert!(opened, "the film did not seek to 1.5 s: {position:?}");
    assert!(
        !events(&app)
            .iter()
            .any(|e| matches!(e, DeviceEvent::Problem { what } if what.contains("vidéo"))),
        "{:?}",
        events(&app)
    );
    // Each hotspot lies along its anchor's direction, in front of the film.
    let eye = app.world().resource::<HeadsetState>().eye;
    let run = app
        .world()
        .resource::<HeadsetState>()
        .run
        .clone()
        .ok_or("no run")?;
    for (n, hotspot) in run.immersion.hotspots.iter().enumerate() {
        let at = hotspot_at(&mut app, hotspot.id.as_str()).ok_or("no marker")?;
        let want = eye + video_direction(-90.0 + 60.0 * n as f32, -10.0) * VIDEO_MARKER_DISTANCE_M;
        assert!(
            at.distance(want) < 1e-4,
            "{} at {at}, not {want}",
            hotspot.id
        );
    }
    // Aimed at and selected through the pointer layer, as in a scene.
    let first = run.immersion.hotspots.first().ok_or("no hotspot")?;
    let at = hotspot_at(&mut app, first.id.as_str()).ok_or("no marker")?;
    click_at(&mut app, at)?;
    assert!(
        events(&app).iter().any(|e| matches!(
            e,
            DeviceEvent::HotspotSeen { immersion, hotspot }
                if immersion.as_str() == "visite_360" && hotspot == &first.id
        )),
        "{:?}",
        events(&app)
    );
    // The facilitator's stop closes the film at once.
    app.world_mut().write_message(HeadsetAction::Stop);
    app.update();
    app.update();
    assert!(app.world().resource::<Film>().playing().is_none());
    assert_eq!(phase(&app), Phase::Stopped);
    Ok(())
}

#[test]
fn a_missing_or_corrupt_360_film_is_one_problem_naming_it_and_the_visit_goes_on() -> TestResult {
    use boussole_game::headset::video360::Film;
    for (file, bytes) in [
        ("videos/absente.webm", None),
        (
            "videos/casse.webm",
            Some(&b"\x1aE\xdf\xa3 pas une video"[..]),
        ),
    ] {
        let mut app = app(true)?;
        let assets = tempfile::tempdir()?;
        if let Some(bytes) = bytes {
            let path = assets.path().join(file);
            std::fs::create_dir_all(path.parent().ok_or("parent")?)?;
            std::fs::write(&path, bytes)?;
        }
        app.world_mut().resource_mut::<GameContent>().assets = assets.path().to_path_buf();
        with_a_360_film(&mut app, file)?;
        app.world_mut()
            .resource_mut::<HeadsetState>()
            .tutorial_done
            .insert(String::new());
        app.world_mut().write_message(HeadsetAction::Start {
            immersion: ImmersionId::from("visite_360"),
            participant: None,
            started_at_ms: None,
        });
        // The film opens on its own thread: wait for its verdict, then a few frames more (a
        // second report would show there).
        let told = until(&mut app, Duration::from_secs(20), |app| {
            events(app)
                .iter()
                .any(|e| matches!(e, DeviceEvent::Problem { what } if what.contains("vidéo 360°")))
        });
        assert!(told, "{file}: no problem told");
        for _ in 0..5 {
            app.update();
        }
        let name = file.rsplit('/').next().unwrap_or(file);
        let film_problems: Vec<String> = events(&app)
            .into_iter()
            .filter_map(|e| match e {
                DeviceEvent::Problem { what } if what.contains("vidéo 360°") => Some(what),
                _ => None,
            })
            .collect();
        assert_eq!(film_problems.len(), 1, "told once: {film_problems:?}");
        assert!(film_problems[0].contains(name), "{film_problems:?}");
        assert!(app.world().resource::<Film>().playing().is_none());
        // The visit goes on over a black sphere: hotspots are there, and the first task.
        assert_eq!(phase(&app), Phase::Exploring);
        let first = app
            .world()
            .resource::<GameContent>()
            .immersion("visite_360")
            .and_then(|i| i.hotspots.first().map(|h| h.id.clone()))
            .ok_or("no hotspot")?;
        assert!(hotspot_at(&mut app, first.as_str()).is_some());
        assert!(button_where(&mut app, |a| *a == ButtonAction::Validate).is_some());
    }
    Ok(())
}

#[test]
fn each_question_is_read_aloud_and_each_answer_when_the_ray_rests_on_it() -> TestResult {
    use boussole_game::third_party::audio::PlaySound;
    let mut app = app(true)?;
    app.insert_resource(AudioOutput { available: true })
        .add_message::<PlaySound>();
    let played = move |app: &mut App| -> Vec<std::sync::Arc<[u8]>> {
        app.world_mut()
            .resource_mut::<Messages<PlaySound>>()
            .drain()
            .map(|p| p.sound.bytes)
            .collect()
    };
    let voice = |app: &App, path: &Option<boussole_content::text::AssetPath>| {
        path.as_ref()
            .and_then(|p| app.world().resource::<HeadsetState>().sounds.get(p))
            .map(|s| s.bytes.clone())
    };
    app.world_mut()
        .resource_mut::<HeadsetState>()
        .tutorial_done
        .insert(String::new());
    app.world_mut().write_message(HeadsetAction::Start {
        immersion: ImmersionId::from("cariste_port"),
        participant: None,
        started_at_ms: None,
    });
    app.update();
    app.update();
    let immersion = app
        .world()
        .resource::<HeadsetState>()
        .run
        .as_ref()
        .ok_or("no run")?
        .immersion
        .clone();
    // The introduction panel reads itself.
    let intro = voice(&app, &immersion.introduction.audio).ok_or("no intro voice")?;
    assert!(played(&mut app).contains(&intro), "introduction not read");
    press(&mut app, |a| *a == ButtonAction::Begin)?;
    // Straight to the questionnaire: past the tasks, each task's feedback read aloud.
    while let Some(task) = app
        .world()
        .resource::<HeadsetState>()
        .run
        .as_ref()
        .and_then(|r| r.current_task().cloned())
    {
        played(&mut app);
        press(&mut app, |a| *a == ButtonAction::Validate)?;
        let feedback = voice(&app, &task.feedback.audio).ok_or("no feedback voice")?;
        assert!(
            played(&mut app).contains(&feedback),
            "{}: feedback not read",
            task.id
        );
    }
    played(&mut app);
    press(&mut app, |a| *a == ButtonAction::FinishVisit)?;
    assert_eq!(phase(&app), Phase::Questionnaire(0));
    let appeal = voice(&app, &immersion.questionnaire.appeal.audio).ok_or("no appeal voice")?;
    let heard = played(&mut app);
    assert!(heard.contains(&appeal), "the question was not read");
    // Each answer carries its pictogram.
    let panel = app
        .world()
        .resource::<HeadsetState>()
        .panel
        .clone()
        .ok_or("no panel")?;
    let pictograms: Vec<_> = panel.buttons.iter().map(|b| b.pictogram.clone()).collect();
    let want: Vec<_> = immersion
        .questionnaire
        .scale
        .iter()
        .map(|t| t.pictogram.clone())
        .collect();
    assert_eq!(pictograms, want);
    assert!(want.iter().all(Option::is_some));
    // The ray rests on "3": its words are read, once, and nothing is chosen.
    let three = button_where(&mut app, |a| *a == ButtonAction::Rate(3)).ok_or("no 3")?;
    let eye = app.world().resource::<HeadsetState>().eye;
    let mut heard = Vec::new();
    for _ in 0..3 {
        *app.world_mut().resource_mut::<PointerInput>() = PointerInput {
            ray: Some(Ray3d::new(eye, Dir3::new(three - eye)?)),
            select_down: false,
        };
        app.update();
        heard.extend(played(&mut app));
    }
    let answer = voice(&app, &immersion.questionnaire.scale[2].audio).ok_or("no voice for 3")?;
    assert_eq!(
        heard.iter().filter(|b| **b == answer).count(),
        1,
        "read once while the ray rests on it"
    );
    assert_eq!(
        phase(&app),
        Phase::Questionnaire(0),
        "hovering chooses nothing"
    );
    Ok(())
}

/// Opens (or closes, `open` empty) puzzles of `scenario` in the room the headset hears of.
fn room_with(app: &mut App, scenario: &str, open: &[&str]) -> TestResult {
    use boussole_game::net::plugin::Room;
    let scenario = app
        .world()
        .resource::<GameContent>()
        .scenario(scenario)
        .ok_or("no such scenario")?;
    let snapshot = boussole_protocol::wire::Snapshot {
        scenario: scenario.id.to_string(),
        phase: scenario.phases.last().map(|p| p.id.clone()),
        timer_running: true,
        remaining_ms: 20 * 60_000,
        at_ms: 0,
        open: open
            .iter()
            .map(|p| boussole_content::ids::PuzzleId::from(*p))
            .collect(),
        solved: Vec::new(),
        ended: None,
    };
    let mut room = app.world_mut().resource_mut::<Room>();
    room.scenario = Some(scenario);
    room.snapshot = Some(snapshot);
    Ok(())
}

#[test]
fn a_headset_guided_puzzle_shows_its_scene_reads_its_view_and_closes_when_solved() -> TestResult {
    use boussole_game::third_party::audio::PlaySound;
    let mut app = app(true)?;
    app.insert_resource(AudioOutput { available: true })
        .add_message::<PlaySound>();
    let played = move |app: &mut App| -> Vec<std::sync::Arc<[u8]>> {
        app.world_mut()
            .resource_mut::<Messages<PlaySound>>()
            .drain()
            .map(|p| p.sound.bytes)
            .collect()
    };
    let seen = |app: &App| {
        events(app)
            .into_iter()
            .filter(|e| matches!(e, DeviceEvent::HeadsetViewSeen { .. }))
            .collect::<Vec<_>>()
    };
    // Waiting in the calm room: the puzzle opens for the scenario's only headset seat.
    room_with(&mut app, "scape_attitudes", &["p_casque"])?;
    app.update();
    app.update();
    assert_eq!(phase(&app), Phase::Guided);
    let state = app.world().resource::<HeadsetState>();
    let scene = state.shown_scene.as_ref().ok_or("no scene")?;
    assert_eq!(scene.id.as_str(), "entrepot_allees");
    assert!(scene.labels.iter().any(|l| l.text.contains("BAT-0412")));
    let (caption, _) = state.caption.clone().ok_or("the view is not written")?;
    assert_eq!(caption.title, "Les cartons manquants");
    assert!(caption.text.contains("BAT-0421"), "{}", caption.text);
    let guided = state.guided.clone().ok_or("no guided puzzle")?;
    let voice = guided
        .view
        .audio
        .as_ref()
        .and_then(|p| state.sounds.get(p))
        .map(|s| s.bytes.clone())
        .ok_or("the view's voice was not loaded")?;
    assert!(played(&mut app).contains(&voice), "the view was not read");
    assert_eq!(
        seen(&app),
        vec![DeviceEvent::HeadsetViewSeen {
            puzzle: "p_casque".into(),
            station: "casque".into(),
        }]
    );
    // « Réécouter » reads it again, and so does R (the action the key writes).
    press(&mut app, |a| *a == ButtonAction::Replay)?;
    assert!(
        played(&mut app).contains(&voice),
        "« Réécouter » read nothing"
    );
    app.world_mut().write_message(HeadsetAction::Replay);
    app.update();
    assert!(played(&mut app).contains(&voice), "R read nothing");
    // The written view leaves the scene clear once read; R writes it again.
    for _ in 0..400 {
        app.update();
    }
    assert!(app.world().resource::<HeadsetState>().caption.is_none());
    app.world_mut().write_message(HeadsetAction::Replay);
    app.update();
    assert!(app.world().resource::<HeadsetState>().caption.is_some());
    // The wearer stops: the calm room, then back to the puzzle when ready; told once only.
    app.world_mut().write_message(HeadsetAction::Stop);
    app.update();
    assert_eq!(phase(&app), Phase::Stopped);
    assert!(app.world().resource::<HeadsetState>().shown_scene.is_none());
    press(&mut app, |a| *a == ButtonAction::BackToPuzzle)?;
    app.update();
    assert_eq!(phase(&app), Phase::Guided);
    assert_eq!(seen(&app).len(), 1, "the view was told seen twice");
    // Solved: the scene closes to the calm room.
    room_with(&mut app, "scape_attitudes", &[])?;
    app.update();
    assert_eq!(phase(&app), Phase::Waiting);
    let state = app.world().resource::<HeadsetState>();
    assert!(state.shown_scene.is_none() && state.caption.is_none());
    Ok(())
}

#[test]
fn a_headset_guided_puzzle_waits_for_the_running_immersion_unless_the_facilitator_stops_it()
-> TestResult {
    let mut app = app(true)?;
    app.world_mut()
        .resource_mut::<HeadsetState>()
        .tutorial_done
        .insert(String::new());
    app.world_mut().write_message(HeadsetAction::Start {
        immersion: ImmersionId::from("cariste_port"),
        participant: None,
        started_at_ms: None,
    });
    app.update();
    assert_eq!(phase(&app), Phase::Intro);
    room_with(&mut app, "scape_pandemie", &["p_isolement"])?;
    for _ in 0..3 {
        app.update();
    }
    assert_eq!(phase(&app), Phase::Intro, "the immersion goes first");
    let told: Vec<_> = events(&app)
        .into_iter()
        .filter_map(|e| match e {
            DeviceEvent::Problem { what } if what.contains("La tournée de l'après-midi") => {
                Some(what)
            }
            _ => None,
        })
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("arrêtez l'immersion"), "{}", told[0]);
    // The facilitator chose the puzzle: stopping the immersion shows it at once.
    app.world_mut().write_message(ImmersionOrder {
        immersion: None,
        participant: None,
        started_at_ms: None,
        tutorial_done: false,
    });
    app.update();
    app.update();
    assert_eq!(phase(&app), Phase::Guided);
    let scene = app
        .world()
        .resource::<HeadsetState>()
        .shown_scene
        .clone()
        .ok_or("no scene")?;
    assert_eq!(scene.id.as_str(), "infirmerie");
    Ok(())
}

#[test]
fn a_pause_holds_the_immersion_and_the_resume_carries_on_where_it_was() -> TestResult {
    use boussole_game::headset::state::fade_level;
    use boussole_game::net::plugin::PauseOrder;
    let mut app = app(true)?;
    app.world_mut()
        .resource_mut::<HeadsetState>()
        .tutorial_done
        .insert(String::new());
    app.world_mut().write_message(HeadsetAction::Start {
        immersion: ImmersionId::from("tutoriel"),
        participant: None,
        started_at_ms: None,
    });
    app.update();
    app.update();
    press(&mut app, |a| *a == ButtonAction::Begin)?;
    let visit = |app: &App| {
        let s = app.world().resource::<HeadsetState>();
        s.run
            .as_ref()
            .and_then(|r| r.visit_started_s)
            .map(|v| s.now_s - v)
    };
    // 30 s into the visit (the tutorial's chime comes at 90 s), the facilitator pauses.
    while visit(&app).is_some_and(|t| t < 30.0) {
        app.update();
    }
    app.world_mut().write_message(PauseOrder(true));
    app.update();
    let state = app.world().resource::<HeadsetState>();
    assert!(state.paused_at.is_some());
    let panel = state.panel.clone().ok_or("no panel")?;
    assert_eq!(panel.title, "Pause");
    assert!(panel.buttons.is_empty(), "nothing to choose while paused");
    // The view dims over the fade, and nothing comes while paused: two minutes pass, no
    // chime, no break prompt (its limit is 3 minutes).
    for _ in 0..1200 {
        app.update();
    }
    let state = app.world().resource::<HeadsetState>();
    assert!(
        (fade_level(state) - 0.8).abs() < 1e-4,
        "{}",
        fade_level(state)
    );
    assert!(
        state
            .run
            .as_ref()
            .is_some_and(|r| r.stimuli_played.is_empty())
    );
    assert!(!state.break_prompt);
    // A click on the panel's place does nothing while paused.
    let eye = state.eye;
    click_at(&mut app, eye + Vec3::NEG_Z * 1.5)?;
    assert_eq!(phase(&app), Phase::Exploring);
    // Resumed: the visit stands where it was (30 s in), the view fades back in, and the chime
    // comes 60 s later, at 90 s of visit.
    app.world_mut().write_message(PauseOrder(false));
    app.update();
    let at = visit(&app).ok_or("no visit")?;
    assert!((30.0..30.5).contains(&at), "{at}");
    for _ in 0..20 {
        app.update();
    }
    assert!(fade_level(app.world().resource::<HeadsetState>()) == 0.0);
    let mut guard = 0;
    while app
        .world()
        .resource::<HeadsetState>()
        .run
        .as_ref()
        .is_some_and(|r| r.stimuli_played.is_empty())
    {
        app.update();
        guard += 1;
        assert!(guard < 2_000, "the stimulus never came");
    }
    let at = visit(&app).ok_or("no visit")?;
    assert!(
        (90.0..91.0).contains(&at),
        "the chime came at {at} s of visit"
    );
    Ok(())
}

#[test]
fn a_paused_360_film_holds_its_frame_and_resumes_where_the_director_moved_its_start() -> TestResult
{
    use boussole_game::headset::video360::Film;
    use boussole_game::net::plugin::{PauseOrder, Room};
    let mut app = app(true)?;
    with_a_360_film(&mut app, "videos/tests/sphere_360_512x256.webm")?;
    let local = app.world().resource::<Room>().local_now_ms;
    let mut room = app.world_mut().resource_mut::<Room>();
    room.snapshot = Some(boussole_protocol::wire::Snapshot {
        scenario: "exemple".into(),
        phase: None,
        timer_running: false,
        remaining_ms: 0,
        at_ms: 100_000,
        open: Vec::new(),
        solved: Vec::new(),
        ended: None,
    });
    room.snapshot_local_ms = local;
    app.world_mut()
        .resource_mut::<HeadsetState>()
        .tutorial_done
        .insert("P4".into());
    let order = |started_at_ms| ImmersionOrder {
        immersion: Some(ImmersionId::from("visite_360")),
        participant: Some(ParticipantId::from("P4")),
        started_at_ms: Some(started_at_ms),
        tutorial_done: false,
    };
    app.world_mut().write_message(order(99_000));
    app.update();
    let position = |app: &App| app.world().resource::<Film>().position();
    assert!(
        until(&mut app, Duration::from_secs(20), |app| {
            position(app).is_some_and(|p| p >= Duration::from_millis(1_000))
        }),
        "the film did not play"
    );
    // Paused: its frame holds while time goes on.
    app.world_mut().write_message(PauseOrder(true));
    app.update();
    std::thread::sleep(Duration::from_millis(300));
    app.update();
    let held = position(&app).ok_or("no position")?;
    let frames = app.world().resource::<Film>().frames_decoded();
    until(&mut app, Duration::from_millis(1_500), |_| false);
    let later = position(&app).ok_or("no position")?;
    assert!(
        later.abs_diff(held) < Duration::from_millis(150),
        "a paused film moved from {held:?} to {later:?}"
    );
    // Resumed: the director moved the film's start on by the pause (here so that it stands
    // where it was held); the same film plays on, sought, not opened again.
    let now = app
        .world()
        .resource::<Room>()
        .director_now_ms
        .ok_or("no director clock")?;
    let start = now - u64::try_from(held.as_millis())?;
    app.world_mut().write_message(order(start));
    app.world_mut().write_message(PauseOrder(false));
    app.update();
    assert_eq!(
        app.world()
            .resource::<Film>()
            .playing()
            .and_then(|r| r.started_at_ms),
        Some(start)
    );
    assert!(
        until(&mut app, Duration::from_secs(5), |app| {
            position(app).is_some_and(|p| p > held + Duration::from_millis(300))
        }),
        "the film did not play on after the resume"
    );
    assert!(
        app.world().resource::<Film>().frames_decoded() >= frames,
        "the film was opened again"
    );
    let p = position(&app).ok_or("no position")?;
    assert!(p < held + Duration::from_secs(4), "it jumped to {p:?}");
    Ok(())
}

/// A headset lost mid-run (its OpenXR session stopped: taken off, asleep, the runtime
/// restarting): the immersion holds like a facilitator's pause and the director is told at
/// once; when the session runs again it carries on where it was. A facilitator's pause given
/// meanwhile outlasts the return of the session.
#[test]
fn a_headset_lost_mid_run_holds_and_carries_on_when_it_comes_back() -> TestResult {
    use boussole_game::headset::state::{SESSION_BACK, SESSION_LOST};
    use boussole_game::net::plugin::PauseOrder;
    use boussole_game::third_party::xr::XrSessionLive;
    let mut app = app(true)?;
    app.insert_resource(XrSessionLive(true));
    app.world_mut()
        .resource_mut::<HeadsetState>()
        .tutorial_done
        .insert(String::new());
    app.world_mut().write_message(HeadsetAction::Start {
        immersion: ImmersionId::from("tutoriel"),
        participant: None,
        started_at_ms: None,
    });
    app.update();
    app.update();
    press(&mut app, |a| *a == ButtonAction::Begin)?;
    let visit = |app: &App| {
        let s = app.world().resource::<HeadsetState>();
        s.run
            .as_ref()
            .and_then(|r| r.visit_started_s)
            .map(|v| s.now_s - v)
    };
    let told = |app: &App, what: &str| {
        events(app)
            .iter()
            .filter(|e| matches!(e, DeviceEvent::Problem { what: w } if w == what))
            .count()
    };
    while visit(&app).is_some_and(|t| t < 20.0) {
        app.update();
    }
    // The session stops: held, told once.
    app.insert_resource(XrSessionLive(false));
    for _ in 0..300 {
        app.update();
    }
    let state = app.world().resource::<HeadsetState>();
    assert!(state.paused_at.is_some() && state.held_by_loss);
    assert_eq!(
        state.panel.as_ref().map(|p| p.title.as_str()),
        Some("Pause")
    );
    assert_eq!(told(&app, SESSION_LOST), 1);
    // It comes back: the visit carries on from 20 s, told once.
    app.insert_resource(XrSessionLive(true));
    app.update();
    let state = app.world().resource::<HeadsetState>();
    assert!(state.paused_at.is_none() && !state.held_by_loss);
    let at = visit(&app).ok_or("no visit")?;
    assert!((20.0..20.5).contains(&at), "{at}");
    assert_eq!(told(&app, SESSION_BACK), 1);
    // Lost again; the facilitator pauses meanwhile: the return of the session keeps the
    // facilitator's pause, the facilitator's resume ends it.
    app.insert_resource(XrSessionLive(false));
    app.update();
    app.world_mut().write_message(PauseOrder(true));
    app.update();
    app.insert_resource(XrSessionLive(true));
    app.update();
    assert!(
        app.world().resource::<HeadsetState>().paused_at.is_some(),
        "the facilitator's pause holds"
    );
    app.world_mut().write_message(PauseOrder(false));
    app.update();
    assert!(app.world().resource::<HeadsetState>().paused_at.is_none());
    // And a resume from the facilitator while the session is still away does not lift the
    // hold.
    app.insert_resource(XrSessionLive(false));
    app.update();
    app.world_mut().write_message(PauseOrder(true));
    app.update();
    app.world_mut().write_message(PauseOrder(false));
    app.update();
    assert!(
        app.world().resource::<HeadsetState>().paused_at.is_some(),
        "still lost"
    );
    app.insert_resource(XrSessionLive(true));
    app.update();
    assert!(app.world().resource::<HeadsetState>().paused_at.is_none());
    Ok(())
}
