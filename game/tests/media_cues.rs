//! Sound, text and video cues aimed at a headset or a terminal, headless (`MinimalPlugins`,
//! a manual clock for sounds, real time for video decoding): a sound cue plays there (the
//! sink gets its bytes) and finishes at its real end, a late one starts where it should be or
//! is reported as missed, a text cue becomes the headset's caption and is read, a video plays
//! on the headset's screen to its end, and a device that cannot play says why once and
//! finishes the cue.

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use boussole_content::cue::{Cue, DeviceRole};
use boussole_content::ids::{CueId, StationId};
use boussole_game::content::GameContent;
use boussole_game::headset::cue_video::CueVideo;
use boussole_game::headset::state::HeadsetState;
use boussole_game::net::plugin::{CueFired, Reported, Room};
use boussole_game::third_party::audio::{AudioOutput, PlaySound, VOICE, check_sound};
use boussole_game::{LaunchOptions, plugin};
use boussole_protocol::DeviceEvent;
use boussole_protocol::wire::Snapshot;
use std::path::{Path, PathBuf};
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const STEP: Duration = Duration::from_millis(100);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shipped content with test cues added to every scenario: a sound, a text and a video.
fn content() -> Result<GameContent, Box<dyn std::error::Error>> {
    let mut content = GameContent::load(&repo().join("content"), &repo().join("assets"))?;
    let cues: Vec<Cue> = [
        r#"(id: "c_son", number: "91", name: "Klaxon", kind: Sound(file: "sounds/attitudes/klaxon.wav", volume_db: -3.0), targets: [Role(Headset), Role(Terminal)])"#,
        r#"(id: "c_texte", number: "92", name: "Consigne", kind: Text(text: (fr: "Regardez à gauche.", audio: Some("audio/scape_attitudes/la-sortie-de-secours-ff7f353d.ogg")), duration_s: Some(5.0)), targets: [Role(Headset), Role(Terminal)])"#,
        r#"(id: "c_video", number: "93", name: "Film d'accueil", kind: Video(file: "videos/tests/room_16x9_640x360.webm"), targets: [Role(Headset)])"#,
    ]
    .iter()
    .map(|c| ron::from_str(c))
    .collect::<Result<_, _>>()?;
    for s in &mut content.scenarios {
        std::sync::Arc::make_mut(s)
            .cues
            .extend(cues.iter().cloned());
    }
    Ok(content)
}

fn device(role: DeviceRole, audio: bool) -> Result<App, Box<dyn std::error::Error>> {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, TransformPlugin))
        .add_plugins(plugin(
            role,
            LaunchOptions {
                headless: true,
                flat: true,
                station: (role == DeviceRole::Terminal).then(|| StationId::from("poste_quai")),
                ..default()
            },
        ))
        .insert_resource(content()?)
        .insert_resource(AudioOutput { available: audio })
        .add_message::<PlaySound>()
        .insert_resource(TimeUpdateStrategy::ManualDuration(STEP));
    app.update();
    let content = app.world().resource::<GameContent>().clone();
    app.world_mut().resource_mut::<Room>().apply_snapshot(
        Snapshot {
            scenario: "scape_attitudes".into(),
            phase: None,
            timer_running: true,
            remaining_ms: 3_000_000,
            at_ms: 1_000,
            open: Vec::new(),
            solved: Vec::new(),
            ended: None,
        },
        &content,
    );
    Ok(app)
}

fn fire(app: &mut App, instance: u64, cue: &str, start_local_ms: Option<u64>) {
    app.world_mut().write_message(CueFired {
        instance,
        cue: CueId::from(cue),
        start_local_ms,
    });
}

fn reported(app: &App) -> Vec<DeviceEvent> {
    app.world().resource::<Reported>().in_order()
}

fn finished(app: &App, instance: u64) -> bool {
    reported(app).contains(&DeviceEvent::CueFinished { instance })
}

fn played(app: &mut App) -> Vec<PlaySound> {
    app.world_mut()
        .resource_mut::<Messages<PlaySound>>()
        .drain()
        .collect()
}

fn problems(app: &App) -> Vec<String> {
    reported(app)
        .into_iter()
        .filter_map(|e| match e {
            DeviceEvent::Problem { what } => Some(what),
            _ => None,
        })
        .collect()
}

fn klaxon() -> Result<Duration, Box<dyn std::error::Error>> {
    check_sound(&repo().join("assets/sounds/attitudes/klaxon.wav"))?
        .duration
        .ok_or_else(|| "no length".into())
}

#[test]
fn a_sound_cue_plays_on_a_headset_and_a_terminal_and_finishes_at_its_real_end() -> TestResult {
    let length = klaxon()?;
    for role in [DeviceRole::Headset, DeviceRole::Terminal] {
        let mut app = device(role, true)?;
        fire(&mut app, 7, "c_son", None);
        app.update();
        let sounds: Vec<_> = played(&mut app)
            .into_iter()
            .filter(|p| p.instance == 7)
            .collect();
        assert_eq!(sounds.len(), 1, "{role:?}: the sink got no klaxon");
        assert!((sounds[0].volume_db - -3.0).abs() < 1e-6);
        assert!(!finished(&app, 7), "{role:?}: finished at once");
        // It finishes once its length has passed on the device clock, not before.
        let start = app.world().resource::<Room>().local_now_ms;
        while !finished(&app, 7) {
            app.update();
            let now = app.world().resource::<Room>().local_now_ms;
            assert!(now - start < 60_000, "{role:?}: never finished");
        }
        let took = app.world().resource::<Room>().local_now_ms - start;
        let want = u64::try_from(length.as_millis())?;
        assert!(
            took >= want && took <= want + 250,
            "{role:?}: finished after {took} ms, the sound lasts {want} ms"
        );
        assert!(problems(&app).is_empty(), "{role:?}: {:?}", problems(&app));
    }
    Ok(())
}

#[test]
fn a_late_sound_cue_starts_where_it_should_be_or_is_reported_missed() -> TestResult {
    let length = klaxon()?;
    let mut app = device(DeviceRole::Terminal, true)?;
    for _ in 0..100 {
        app.update();
    }
    let now = app.world().resource::<Room>().local_now_ms;
    // Fired half its length ago (the terminal was offline): it plays from there.
    let half = u64::try_from(length.as_millis())? / 2;
    fire(&mut app, 8, "c_son", Some(now - half));
    app.update();
    let sound = played(&mut app)
        .into_iter()
        .find(|p| p.instance == 8)
        .ok_or("not played")?;
    assert!(
        sound.from.as_millis().abs_diff(u128::from(half)) <= 200,
        "{:?}",
        sound.from
    );
    // Fired longer ago than it lasts: missed, said once, finished.
    let past = now.saturating_sub(u64::try_from(length.as_millis())? + 1_000);
    fire(&mut app, 9, "c_son", Some(past));
    app.update();
    assert!(played(&mut app).iter().all(|p| p.instance != 9));
    assert!(finished(&app, 9));
    let told = problems(&app);
    assert!(
        told.len() == 1 && told[0].contains("manqué") && told[0].contains("Klaxon"),
        "{told:?}"
    );
    Ok(())
}

#[test]
fn a_device_that_cannot_play_says_why_once_and_the_cue_list_goes_on() -> TestResult {
    // No audio output on a headset: said once, the cue still ends on time.
    let mut app = device(DeviceRole::Headset, false)?;
    fire(&mut app, 1, "c_son", None);
    fire(&mut app, 2, "c_son", None);
    app.update();
    let told = problems(&app);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("aucune sortie son sur ce casque"),
        "{}",
        told[0]
    );
    // A video aimed at a terminal: said, finished at once.
    let mut app = device(DeviceRole::Terminal, true)?;
    fire(&mut app, 3, "c_video", None);
    app.update();
    assert!(finished(&app, 3));
    assert!(
        problems(&app)
            .iter()
            .any(|p| p.contains("ne lit pas de vidéo") && p.contains("Film d'accueil")),
        "{:?}",
        problems(&app)
    );
    Ok(())
}

#[test]
fn a_text_cue_is_the_headsets_caption_read_aloud() -> TestResult {
    let mut app = device(DeviceRole::Headset, true)?;
    fire(&mut app, 4, "c_texte", None);
    app.update();
    app.update();
    let state = app.world().resource::<HeadsetState>();
    let (caption, until) = state.caption.clone().ok_or("no caption")?;
    assert_eq!(caption.text, "Regardez à gauche.");
    assert!(until.is_some_and(|u| (u - state.now_s - 5.0).abs() < 0.3));
    let voice = check_sound(
        &repo().join("assets/audio/scape_attitudes/la-sortie-de-secours-ff7f353d.ogg"),
    )?;
    assert!(
        played(&mut app)
            .iter()
            .any(|p| p.instance == VOICE && p.sound.bytes == voice.bytes),
        "the text was not read"
    );
    Ok(())
}

#[test]
fn a_video_cue_plays_on_the_headsets_screen_to_its_end() -> TestResult {
    let mut app = device(DeviceRole::Headset, true)?;
    fire(&mut app, 5, "c_video", None);
    app.update();
    assert_eq!(app.world().resource::<CueVideo>().instance(), Some(5));
    // Three seconds of video decoded in real time; the guard only catches a hang.
    let guard = std::time::Instant::now();
    let mut moved = false;
    while !finished(&app, 5) {
        assert!(
            guard.elapsed() < Duration::from_secs(20),
            "the video never finished: {:?}",
            reported(&app)
        );
        moved |= app
            .world()
            .resource::<CueVideo>()
            .position()
            .is_some_and(|p| p > Duration::from_millis(500));
        std::thread::sleep(Duration::from_millis(20));
        app.update();
    }
    assert!(moved, "the video never played");
    assert!(problems(&app).is_empty(), "{:?}", problems(&app));
    assert_eq!(app.world().resource::<CueVideo>().instance(), None);
    Ok(())
}

#[test]
fn a_terminal_shows_a_text_cue_and_a_hint_as_its_banner() -> TestResult {
    use boussole_game::net::plugin::HintShown;
    use boussole_game::terminal::state::TerminalState;
    let mut app = device(DeviceRole::Terminal, true)?;
    fire(&mut app, 6, "c_texte", None);
    app.update();
    app.update();
    let banner = |app: &App| {
        app.world()
            .resource::<TerminalState>()
            .banner
            .as_ref()
            .map(|(b, _)| (b.title.clone(), b.text.fr.clone()))
    };
    assert_eq!(
        banner(&app),
        Some(("Consigne".to_owned(), "Regardez à gauche.".to_owned()))
    );
    // Terminals keep quiet unless set to read aloud.
    assert!(played(&mut app).iter().all(|p| p.instance != VOICE));
    // It leaves after its 5 seconds.
    for _ in 0..55 {
        app.update();
    }
    assert_eq!(banner(&app), None);
    // The facilitator's hint, sent to this station.
    app.world_mut().write_message(HintShown {
        puzzle: "p_sortie_secours".into(),
        level: 2,
    });
    app.update();
    app.update();
    let (title, text) = banner(&app).ok_or("no hint shown")?;
    assert!(
        title.starts_with("Indice") && title.contains("La sortie de secours"),
        "{title}"
    );
    assert!(text.contains("allée 3"), "{text}");
    assert!(problems(&app).is_empty(), "{:?}", problems(&app));
    Ok(())
}

#[test]
fn a_video_cue_sent_ahead_waits_preloaded_on_the_room_screen_and_starts_at_its_time() -> TestResult
{
    use boussole_game::screen::video::ScreenVideo;
    let mut app = device(DeviceRole::Screen, false)?;
    let start = app.world().resource::<Room>().local_now_ms + 1_000;
    fire(&mut app, 8, "c_video", Some(start));
    app.update();
    let started = |app: &App| {
        reported(app).into_iter().find_map(|e| match e {
            DeviceEvent::CueStarted {
                instance: 8,
                late_ms,
            } => Some(late_ms),
            _ => None,
        })
    };
    {
        let video = app.world().resource::<ScreenVideo>();
        assert!(
            video.is_preloaded(8),
            "opened and paused on its first frame"
        );
        assert_eq!(video.instance(), None, "not playing before its start");
    }
    assert_eq!(started(&app), None);
    // The device clock moves 100 ms an update.
    let mut late = None;
    for _ in 0..20 {
        app.update();
        late = started(&app);
        if late.is_some() {
            break;
        }
        assert!(
            app.world().resource::<Room>().local_now_ms < start + STEP.as_millis() as u64,
            "not started once due"
        );
    }
    let late = late.ok_or("never started")?;
    assert!(
        u64::from(late) < STEP.as_millis() as u64,
        "started within the frame its start fell in, {late} ms late"
    );
    let video = app.world().resource::<ScreenVideo>();
    assert_eq!(video.instance(), Some(8), "playing the preloaded player");
    assert!(!video.is_preloaded(8));
    assert!(problems(&app).is_empty(), "{:?}", problems(&app));
    Ok(())
}

#[test]
fn a_headsets_video_cue_sent_ahead_is_opened_before_its_start_and_plays_from_it() -> TestResult {
    let mut app = device(DeviceRole::Headset, false)?;
    // Five seconds ahead: 50 updates, time enough for the opening thread.
    let start = app.world().resource::<Room>().local_now_ms + 5_000;
    fire(&mut app, 6, "c_video", Some(start));
    app.update();
    {
        let video = app.world().resource::<CueVideo>();
        assert_eq!(video.preloaded(), Some(6), "opening ahead of its start");
        assert_eq!(video.instance(), None, "not playing yet");
    }
    // Until its start (100 ms of device clock an update), it waits opened; then it plays at
    // once, from the player opened ahead (the guard only catches a hang).
    let mut was_ready = false;
    while app.world().resource::<CueVideo>().instance().is_none() {
        was_ready |= app.world().resource::<CueVideo>().preload_ready();
        std::thread::sleep(Duration::from_millis(20));
        app.update();
        assert!(
            app.world().resource::<Room>().local_now_ms < start + 1_000,
            "never started"
        );
    }
    assert!(was_ready, "opened and waiting before its start");
    let now = app.world().resource::<Room>().local_now_ms;
    assert!(now >= start, "started before its time: {now} < {start}");
    let video = app.world().resource::<CueVideo>();
    assert!(
        video.is_playing(),
        "playing in the frame it is due, not opening then"
    );
    assert_eq!(
        video.preloaded(),
        None,
        "the preloaded player is the one playing"
    );
    assert!(
        reported(&app).contains(&DeviceEvent::CueStarted {
            instance: 6,
            late_ms: u32::try_from(now - start)?,
        }),
        "{:?}",
        reported(&app)
    );
    assert!(problems(&app).is_empty(), "{:?}", problems(&app));
    Ok(())
}
