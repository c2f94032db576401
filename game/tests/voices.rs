//! Voices on the room screen and the terminals, headless (`MinimalPlugins`, a manual clock,
//! no link): what reaches the audio sink (the decoded bytes of each `PlaySound`) when a text
//! cue or a hint appears on the screen, when a participant presses « Écouter » on a terminal,
//! and when a page comes to a terminal set to read aloud; the facilitator's settings
//! (`DeviceSound`) decide, and a voice that cannot play is told to the director once.

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use boussole_content::cue::{CueKind, DeviceRole};
use boussole_content::ids::{PuzzleId, StationId};
use boussole_content::text::AssetPath;
use boussole_game::content::GameContent;
use boussole_game::net::plugin::{CueFired, DeviceSound, HintShown, Reported, Room};
use boussole_game::terminal::state::TerminalAction;
use boussole_game::third_party::audio::{AudioOutput, PlaySound, VOICE, check_sound};
use boussole_game::{LaunchOptions, plugin};
use boussole_protocol::DeviceEvent;
use boussole_protocol::wire::{Snapshot, SoundSettings};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A headless app of `role` at `station`, with a sound output whose requests the test reads.
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
        .insert_resource(AudioOutput { available: true })
        .add_message::<PlaySound>()
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
            100,
        )));
    app.update();
    app
}

fn content() -> Result<GameContent, Box<dyn std::error::Error>> {
    Ok(GameContent::load(
        &repo().join("content"),
        &repo().join("assets"),
    )?)
}

/// The voices the sink was asked to play since the last call: their bytes.
fn voices(app: &mut App) -> Vec<Arc<[u8]>> {
    app.world_mut()
        .resource_mut::<Messages<PlaySound>>()
        .drain()
        .filter(|p| p.instance == VOICE)
        .map(|p| p.sound.bytes)
        .collect()
}

/// The decoded bytes of `voice`, as the content ships it.
fn bytes_of(voice: &AssetPath) -> Result<Arc<[u8]>, Box<dyn std::error::Error>> {
    Ok(check_sound(&repo().join("assets").join(voice.as_str()))?.bytes)
}

fn open(app: &mut App, puzzles: &[&str]) {
    let content = app.world().resource::<GameContent>().clone();
    let snapshot = Snapshot {
        scenario: "scape_attitudes".into(),
        phase: None,
        timer_running: true,
        remaining_ms: 3_000_000,
        at_ms: 1_000,
        open: puzzles.iter().map(|p| PuzzleId::from(*p)).collect(),
        solved: Vec::new(),
        ended: None,
    };
    app.world_mut()
        .resource_mut::<Room>()
        .apply_snapshot(snapshot, &content);
}

fn problems(app: &App) -> Vec<String> {
    app.world()
        .resource::<Reported>()
        .in_order()
        .into_iter()
        .filter_map(|e| match e {
            DeviceEvent::Problem { what } => Some(what),
            _ => None,
        })
        .collect()
}

#[test]
fn the_screen_reads_text_cues_and_hints_aloud_unless_the_facilitator_cut_its_voices() -> TestResult
{
    let mut app = app(DeviceRole::Screen, content()?, None);
    open(&mut app, &[]);
    let scenario = app
        .world()
        .resource::<GameContent>()
        .scenario("scape_attitudes")
        .ok_or("no scenario")?;
    let (cue, voice) = scenario
        .cues
        .iter()
        .find_map(|c| match &c.kind {
            CueKind::Text { text, .. } => text.audio.clone().map(|a| (c.id.clone(), a)),
            _ => None,
        })
        .ok_or("no text cue with a voice")?;
    app.world_mut().write_message(CueFired {
        instance: 1,
        cue: cue.clone(),
        start_local_ms: None,
    });
    app.update();
    assert_eq!(
        voices(&mut app),
        vec![bytes_of(&voice)?],
        "the text cue was not read"
    );
    // A hint the director shows is read too.
    let puzzle = &scenario.puzzles[0];
    let hint = puzzle.hints[0].text.audio.clone().ok_or("no hint voice")?;
    app.world_mut().write_message(HintShown {
        puzzle: puzzle.id.clone(),
        level: 1,
    });
    app.update();
    assert_eq!(
        voices(&mut app),
        vec![bytes_of(&hint)?],
        "the hint was not read"
    );
    // The facilitator cut the room's voices: the text shows, silent.
    app.world_mut().resource_mut::<DeviceSound>().0.read_aloud = false;
    app.world_mut().write_message(CueFired {
        instance: 2,
        cue,
        start_local_ms: None,
    });
    app.update();
    assert!(voices(&mut app).is_empty(), "read while the voices are cut");
    assert!(
        app.world()
            .resource::<boussole_game::screen::state::ScreenState>()
            .text
            .is_some()
    );
    Ok(())
}

#[test]
fn a_terminal_reads_on_ecouter_and_reads_each_new_page_only_when_set_to() -> TestResult {
    let mut app = app(DeviceRole::Terminal, content()?, Some("poste_bureau"));
    let scenario = app
        .world()
        .resource::<GameContent>()
        .scenario("scape_attitudes")
        .ok_or("no scenario")?;
    let puzzle = scenario
        .puzzles
        .iter()
        .find(|p| p.id.as_str() == "p_sortie_secours")
        .ok_or("no puzzle")?;
    let prompt = boussole_game::terminal::state::prompt_of(puzzle)
        .audio
        .clone()
        .ok_or("no prompt voice")?;
    // By default a terminal keeps quiet when a page comes (six must not talk at once)…
    assert!(!app.world().resource::<DeviceSound>().0.read_aloud);
    open(&mut app, &["p_sortie_secours"]);
    app.update();
    app.update();
    assert!(voices(&mut app).is_empty(), "a terminal read on its own");
    // …and reads when asked: « Écouter » beside the prompt.
    app.world_mut()
        .write_message(TerminalAction::Listen(prompt.clone()));
    app.update();
    assert_eq!(voices(&mut app), vec![bytes_of(&prompt)?]);
    // Set to read aloud by the facilitator: the next page is read when it comes.
    app.world_mut().resource_mut::<DeviceSound>().0 = SoundSettings {
        read_aloud: true,
        ..SoundSettings::default_for(boussole_protocol::wire::Role::Terminal)
    };
    open(&mut app, &[]);
    app.update();
    open(&mut app, &["p_sortie_secours"]);
    app.update();
    app.update();
    assert_eq!(
        voices(&mut app),
        vec![bytes_of(&prompt)?],
        "the page was not read"
    );
    assert!(problems(&app).is_empty(), "{:?}", problems(&app));
    Ok(())
}

#[test]
fn a_voice_that_cannot_play_is_told_once_and_the_text_stays() -> TestResult {
    let mut app = app(DeviceRole::Terminal, content()?, Some("poste_bureau"));
    open(&mut app, &["p_sortie_secours"]);
    app.update();
    let missing = AssetPath("audio/absent/aucune-voix.ogg".to_owned());
    for _ in 0..3 {
        app.world_mut()
            .write_message(TerminalAction::Listen(missing.clone()));
        app.update();
    }
    assert!(voices(&mut app).is_empty());
    let told = problems(&app);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("aucune-voix.ogg"), "{}", told[0]);
    // No audio output at all: said once, when a participant asks.
    app.insert_resource(AudioOutput { available: false });
    let prompt = AssetPath(
        "audio/scape_attitudes/le-dossier-du-camion-est-dans-une-4e4352fd.ogg".to_owned(),
    );
    for _ in 0..2 {
        app.world_mut()
            .write_message(TerminalAction::Listen(prompt.clone()));
        app.update();
    }
    let told = problems(&app);
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(told[1].contains("aucune sortie audio"), "{}", told[1]);
    Ok(())
}

#[test]
fn the_facilitators_volume_and_mute_set_every_sounds_gain() {
    use boussole_game::third_party::audio::device_volume;
    let at = |volume_percent, muted| {
        device_volume(
            -6.0,
            &DeviceSound(SoundSettings {
                volume_percent,
                muted,
                read_aloud: false,
            }),
        )
    };
    let db = |v: bevy::audio::Volume| v.to_decibels();
    assert!((db(at(100, false)) - -6.0).abs() < 1e-4);
    // Half the amplitude is 6 dB less.
    assert!(
        (db(at(50, false)) - -12.0206).abs() < 1e-3,
        "{}",
        db(at(50, false))
    );
    assert_eq!(at(100, true).to_linear(), 0.0);
    assert_eq!(at(0, false).to_linear(), 0.0);
}
