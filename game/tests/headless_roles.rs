//! The room screen's and the terminal's logic, headless (`MinimalPlugins`, a manual clock, no
//! link): cues, hints and sounds on the screen, a corrupt sound reported without a panic, and
//! a participant's touches turned into answers, verdicts and questionnaire ratings.

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use boussole_content::Answer;
use boussole_content::cue::DeviceRole;
use boussole_content::ids::{CueId, ItemId, PuzzleId, StationId};
use boussole_game::content::GameContent;
use boussole_game::net::Verdict;
use boussole_game::net::plugin::{Connection, CueFired, Reported, Room};
use boussole_game::screen::state::ScreenState;
use boussole_game::terminal::state::{Page, Terminal, TerminalAction, TerminalState, page};
use boussole_game::third_party::audio::AudioOutput;
use boussole_game::{LaunchOptions, plugin};
use boussole_protocol::wire::Snapshot;
use boussole_protocol::{DeviceEvent, ParticipantId};
use std::path::{Path, PathBuf};
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const STEP: Duration = Duration::from_millis(100);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn content() -> Result<GameContent, Box<dyn std::error::Error>> {
    Ok(GameContent::load(
        &repo().join("content"),
        &repo().join("assets"),
    )?)
}

fn app(role: DeviceRole, content: GameContent, station: Option<&str>) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(plugin(
            role,
            LaunchOptions {
                headless: true,
                station: station.map(StationId::from),
                ..default()
            },
        ))
        .insert_resource(content)
        .insert_resource(AudioOutput { available: false })
        .insert_resource(TimeUpdateStrategy::ManualDuration(STEP));
    app.update();
    app
}

fn snapshot(open: &[&str], ended: Option<&str>) -> Snapshot {
    Snapshot {
        scenario: "scape_attitudes".into(),
        phase: None,
        timer_running: true,
        remaining_ms: 3_000_000,
        at_ms: 1_000,
        open: open.iter().map(|p| PuzzleId::from(*p)).collect(),
        solved: Vec::new(),
        ended: ended.map(Into::into),
    }
}

fn set_snapshot(app: &mut App, s: Snapshot) {
    let content = app.world().resource::<GameContent>().clone();
    app.world_mut()
        .resource_mut::<Room>()
        .apply_snapshot(s, &content);
}

fn fire(app: &mut App, instance: u64, cue: &str) {
    app.world_mut().write_message(CueFired {
        instance,
        cue: CueId::from(cue),
        start_local_ms: None,
    });
}

fn reported(app: &App) -> Vec<DeviceEvent> {
    app.world().resource::<Reported>().in_order()
}

fn shown_page(app: &App) -> Page {
    let world = app.world();
    page(
        world.resource::<Room>(),
        world.resource::<Terminal>(),
        world.resource::<TerminalState>(),
    )
}

#[test]
fn the_screen_shows_texts_and_hints_and_finishes_its_sounds() -> TestResult {
    let mut app = app(DeviceRole::Screen, content()?, None);
    set_snapshot(&mut app, snapshot(&["p_sortie_secours"], None));
    fire(&mut app, 1, "c_rumeur");
    fire(&mut app, 2, "c_indice_sortie");
    fire(&mut app, 3, "c_klaxon");
    app.update();
    let state = app.world().resource::<ScreenState>().clone();
    let (text, until) = state.text.clone().ok_or("no text shown")?;
    assert!(text.contains("camion de 17 heures est annulé"), "{text}");
    assert!(until.is_some(), "the rumour stays 30 s");
    let hint = state.hint.clone().ok_or("no hint shown")?;
    assert_eq!((hint.puzzle.as_str(), hint.level), ("p_sortie_secours", 1));
    assert_eq!(state.applied, vec![1, 2, 3]);
    assert_eq!(state.playing.len(), 1, "the horn plays");
    assert!(
        !reported(&app)
            .iter()
            .any(|e| matches!(e, DeviceEvent::CueFinished { .. })),
        "not finished at once"
    );
    // 40 s of frames: the horn finishes, once, and the 30 s rumour leaves the screen.
    for _ in 0..400 {
        app.update();
    }
    let finished: Vec<_> = reported(&app)
        .into_iter()
        .filter(|e| matches!(e, DeviceEvent::CueFinished { .. }))
        .collect();
    assert_eq!(finished, vec![DeviceEvent::CueFinished { instance: 3 }]);
    assert!(app.world().resource::<ScreenState>().text.is_none());
    Ok(())
}

#[test]
fn a_corrupt_sound_is_reported_and_the_cue_list_goes_on() -> TestResult {
    let assets = tempfile::tempdir()?;
    let klaxon = assets.path().join("sounds/attitudes/klaxon.wav");
    std::fs::create_dir_all(klaxon.parent().ok_or("no parent")?)?;
    std::fs::write(&klaxon, b"RIFF????WAVEfmt ce fichier est abime")?;
    let mut content = content()?;
    content.assets = assets.path().to_path_buf();
    let mut app = app(DeviceRole::Screen, content, None);
    app.world_mut().resource_mut::<Connection>().content_in_sync = Some(true);
    set_snapshot(&mut app, snapshot(&[], None));
    fire(&mut app, 7, "c_klaxon");
    app.update();
    app.update();
    let notices = app.world().resource::<Connection>().notices.clone();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("klaxon.wav") && n.contains("corrompu")),
        "{notices:?}"
    );
    let events = reported(&app);
    assert!(events.contains(&DeviceEvent::CueFinished { instance: 7 }));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DeviceEvent::Health(h) if !h.audio_ok && h.content_in_sync)),
        "{events:?}"
    );
    // No audio output here: said once, in words.
    assert_eq!(
        events
            .iter()
            .filter(
                |e| matches!(e, DeviceEvent::Problem { what } if what.contains("aucune sortie son"))
            )
            .count(),
        1,
        "{events:?}"
    );
    // The facilitator reads what failed, in French, with the file's name.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DeviceEvent::Problem { what }
            if what.contains("klaxon.wav") && what.contains("corrompu"))),
        "{events:?}"
    );
    Ok(())
}

#[test]
fn a_code_typed_on_the_keypad_goes_to_the_director_which_decides() -> TestResult {
    let mut app = app(DeviceRole::Terminal, content()?, Some("poste_bureau"));
    set_snapshot(&mut app, snapshot(&["p_sortie_secours", "p_chariot"], None));
    for c in "1712".chars() {
        app.world_mut().write_message(TerminalAction::Key(c));
    }
    app.world_mut().write_message(TerminalAction::Submit);
    app.update();
    let answer = DeviceEvent::Answer {
        puzzle: PuzzleId::from("p_sortie_secours"),
        station: StationId::from("poste_bureau"),
        participant: None,
        answer: Answer::Text("1712".into()),
    };
    assert_eq!(reported(&app), vec![answer]);
    let p = PuzzleId::from("p_sortie_secours");
    assert_eq!(
        app.world().resource::<Room>().verdicts.get(&p),
        Some(Verdict::Sent { seq: 1 })
    );
    // A second Valider while it is on its way sends nothing.
    app.world_mut().write_message(TerminalAction::Submit);
    app.update();
    assert_eq!(reported(&app).len(), 1);
    app.world_mut().resource_mut::<Room>().verdicts.acked(1);
    set_snapshot(&mut app, snapshot(&["p_sortie_secours", "p_chariot"], None));
    assert_eq!(
        app.world().resource::<Room>().verdicts.get(&p),
        Some(Verdict::Wrong)
    );
    // The multi-station puzzle is answered at the quay, not here: only the code is offered.
    assert_eq!(shown_page(&app), Page::Answer(p.clone()));
    Ok(())
}

#[test]
fn matching_and_the_questionnaire_make_their_events() -> TestResult {
    let mut app = app(DeviceRole::Terminal, content()?, Some("poste_stock"));
    set_snapshot(&mut app, snapshot(&["p_rumeur"], None));
    let pair = |app: &mut App, l: &str, r: &str| {
        app.world_mut()
            .write_message(TerminalAction::Pair(ItemId::from(l), ItemId::from(r)));
    };
    pair(&mut app, "r_annule", "faux");
    pair(&mut app, "r_confirme", "vrai");
    pair(&mut app, "r_planning", "vrai");
    pair(&mut app, "r_quai", "vrai");
    app.world_mut().write_message(TerminalAction::Submit);
    app.update();
    assert!(
        reported(&app).is_empty(),
        "one line left unpaired: not sent"
    );
    pair(&mut app, "r_planning", "faux");
    pair(&mut app, "r_partir", "faux");
    app.world_mut().write_message(TerminalAction::Submit);
    app.update();
    let Some(DeviceEvent::Answer {
        answer: Answer::Items(items),
        ..
    }) = reported(&app).pop()
    else {
        return Err("no matching answer".into());
    };
    assert_eq!(
        items,
        [
            "r_annule=faux",
            "r_confirme=vrai",
            "r_partir=faux",
            "r_planning=faux",
            "r_quai=vrai"
        ]
    );

    // At the debrief: who answers, then a rating per question.
    set_snapshot(&mut app, snapshot(&[], Some("fin_reussite")));
    assert_eq!(shown_page(&app), Page::WhoAnswers);
    app.world_mut().write_message(TerminalAction::Rate(3));
    app.update();
    assert_eq!(reported(&app).len(), 1, "no rating before the respondent");
    app.world_mut()
        .write_message(TerminalAction::Respondent(ParticipantId::from("P2")));
    app.update();
    app.world_mut().write_message(TerminalAction::Rate(9));
    app.update();
    app.world_mut().write_message(TerminalAction::Rate(3));
    app.update();
    let ratings: Vec<_> = reported(&app)
        .into_iter()
        .filter(|e| matches!(e, DeviceEvent::Rating { .. }))
        .collect();
    assert_eq!(ratings.len(), 1, "9 is off the scale: {ratings:?}");
    assert!(matches!(
        &ratings[0],
        DeviceEvent::Rating { question, participant, value: 3, .. }
            if question.as_str() == "qa_autonomie" && participant.as_str() == "P2"
    ));
    assert_eq!(shown_page(&app), Page::Question(1));
    Ok(())
}

/// The shipped content with one more cue on the room screen: a video of `file`.
fn with_video_cue(file: &str) -> Result<GameContent, Box<dyn std::error::Error>> {
    let mut content = content()?;
    let cue: boussole_content::cue::Cue = ron::from_str(&format!(
        r#"(id: "c_video_test", number: "99", name: "Vidéo d'essai",
            kind: Video(file: "{file}"), targets: [Role(Screen)])"#
    ))?;
    for s in &mut content.scenarios {
        std::sync::Arc::make_mut(s).cues.push(cue.clone());
    }
    Ok(content)
}

#[test]
fn a_video_cue_plays_to_its_end_then_finishes() -> TestResult {
    let content = with_video_cue("videos/tests/room_16x9_640x360.webm")?;
    let mut app = app(DeviceRole::Screen, content, None);
    app.world_mut().resource_mut::<Connection>().content_in_sync = Some(true);
    set_snapshot(&mut app, snapshot(&[], None));
    fire(&mut app, 9, "c_video_test");
    app.update();
    assert_eq!(
        app.world()
            .resource::<boussole_game::screen::video::ScreenVideo>()
            .instance(),
        Some(9),
        "the video plays: {:?}",
        reported(&app)
    );
    // Three seconds of video decoded in real time; the guard only catches a hang.
    let guard = std::time::Instant::now();
    while !reported(&app).contains(&DeviceEvent::CueFinished { instance: 9 }) {
        assert!(
            guard.elapsed() < Duration::from_secs(20),
            "the video never finished: {:?}",
            reported(&app)
        );
        std::thread::sleep(Duration::from_millis(20));
        app.update();
    }
    assert!(
        !reported(&app)
            .iter()
            .any(|e| matches!(e, DeviceEvent::Problem { what } if what.contains("vidéo"))),
        "{:?}",
        reported(&app)
    );
    assert_eq!(app.world().resource::<ScreenState>().video, None);
    Ok(())
}

#[test]
fn a_corrupt_video_is_a_problem_for_the_director_and_the_cue_list_goes_on() -> TestResult {
    let assets = tempfile::tempdir()?;
    let bad = assets.path().join("videos/abimee.webm");
    std::fs::create_dir_all(bad.parent().ok_or("no parent")?)?;
    std::fs::write(&bad, b"\x1aE\xdf\xa3 ceci n'est plus une video")?;
    let mut content = with_video_cue("videos/abimee.webm")?;
    content.assets = assets.path().to_path_buf();
    let mut app = app(DeviceRole::Screen, content, None);
    app.world_mut().resource_mut::<Connection>().content_in_sync = Some(true);
    set_snapshot(&mut app, snapshot(&[], None));
    fire(&mut app, 4, "c_video_test");
    app.update();
    app.update();
    let events = reported(&app);
    assert!(events.contains(&DeviceEvent::CueFinished { instance: 4 }));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DeviceEvent::Problem { what }
            if what.contains("Vidéo d'essai") && what.contains("abimee.webm"))),
        "{events:?}"
    );
    Ok(())
}
