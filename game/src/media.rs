//! Sound, text and video cues on the devices other than the room screen (which has its own,
//! `screen::state`): a sound cue aimed at a headset or a terminal plays there and finishes
//! (`CueFinished`) at its real end, as on the screen; a text or hint cue (and a hint the
//! facilitator sends to a station) is a headset's caption, read aloud, or a terminal's banner
//! with « Écouter », read where the terminal is set to; a video cue on a headset plays on a
//! panel in front of the wearer
//! ([`crate::headset::cue_video`]). A device that cannot play a cue says why to the
//! director, once per cue, and finishes it so the cue list goes on: no audio output, a file
//! missing or corrupt, a video on a terminal. A cue that arrives late (the device was
//! offline when it fired) starts where it should be now, or, once its sound is over, is
//! reported as missed.

use crate::GameSystems;
use crate::content::GameContent;
use crate::net::plugin::{Connection, CueFired, HintShown, Report, Room, StopAllCues};
use crate::third_party::audio::{AudioOutput, PlaySound, SoundError, check_sound};
use bevy::prelude::*;
use boussole_content::cue::{CueKind, DeviceRole};
use boussole_content::text::AssetPath;
use boussole_protocol::DeviceEvent;
use std::path::Path;
use std::time::Duration;

/// The report that firing `instance` starts now (`now_ms`, the device's clock), late by how
/// far `now_ms` is past its scheduled start (`start_local_ms`, mapped by the clock sync; 0
/// without one, as a cue started on arrival before the clock was synchronised): what the
/// console's delivery view shows for this device.
pub fn started(instance: u64, start_local_ms: Option<u64>, now_ms: u64) -> Report {
    let late = start_local_ms.map_or(0, |s| now_ms.saturating_sub(s));
    Report(DeviceEvent::CueStarted {
        instance,
        late_ms: u32::try_from(late).unwrap_or(u32::MAX),
    })
}

/// How a sound cue's start went.
#[derive(Debug)]
pub enum SoundStart {
    /// It plays (or would, with an output); it ends at this device time, ms (`None`: looped).
    Playing(Option<u64>),
    /// It came after its end: nothing to play.
    Missed,
}

/// Starts sound cue `instance` (`file` under `assets`, at `volume_db`, `looped`), `late`
/// after its start time (`now_ms` is the device clock): it plays from where it should be
/// now; nothing is heard without an output (`audio`), but it still ends on time.
///
/// # Errors
/// The file is missing or does not decode ([`SoundError`], French, naming it).
#[expect(
    clippy::too_many_arguments,
    reason = "a cue's sound, where it is, how loud and late, and where it plays"
)]
pub fn start_sound_cue(
    assets: &Path,
    file: &AssetPath,
    volume_db: f32,
    looped: bool,
    instance: u64,
    now_ms: u64,
    late: Duration,
    audio: Option<&AudioOutput>,
    sounds: &mut Option<MessageWriter<PlaySound>>,
) -> Result<SoundStart, SoundError> {
    let sound = check_sound(&assets.join(file.as_str()))?;
    let length = sound.duration.unwrap_or(Duration::ZERO);
    if !looped && sound.duration.is_some() && late >= length {
        return Ok(SoundStart::Missed);
    }
    let from = if looped || late < Duration::from_millis(200) {
        Duration::ZERO
    } else {
        late
    };
    let ends = (!looped).then(|| {
        now_ms + u64::try_from(length.saturating_sub(from).as_millis()).unwrap_or(u64::MAX)
    });
    if audio.is_some_and(|a| a.available)
        && let Some(sounds) = sounds.as_mut()
    {
        sounds.write(PlaySound {
            instance,
            sound,
            volume_db,
            looped,
            from,
        });
    }
    Ok(SoundStart::Playing(ends))
}

/// The cues this device plays: waiting for their start, and playing until their end.
#[derive(Resource, Debug, Default)]
pub struct MediaCues {
    /// Firings waiting for their start time.
    pub pending: Vec<CueFired>,
    /// Sound firings playing, with the device time they end (ms; `None`: looped).
    pub playing: Vec<(u64, Option<u64>)>,
    /// Firings applied, in order (tests).
    pub applied: Vec<u64>,
    /// The director was told this device has no audio output.
    told_no_audio: bool,
    /// Video firings whose preload was asked for (each once).
    preloads_asked: Vec<u64>,
}

/// Open a headset's video cue ahead of its start, paused on its first frame (standby preload):
/// the firing and its file.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct PreloadCueVideo {
    /// The firing.
    pub instance: u64,
    /// The file, under `assets/`.
    pub file: AssetPath,
    /// Loop until stopped.
    pub looped: bool,
}

/// A video cue for the headset's panel: the firing, the cue's name, its file, whether it
/// loops, how late it starts.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct PlayCueVideo {
    /// The firing.
    pub instance: u64,
    /// The cue's name, for messages.
    pub name: String,
    /// The file, under `assets/`.
    pub file: AssetPath,
    /// Loop until stopped.
    pub looped: bool,
    /// How long after its start it arrived.
    pub late: Duration,
    /// Where it plays in the headset.
    pub placement: boussole_content::cue::HeadsetScreen,
}

/// The media cues' systems (the headset's video screen runs after them).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaSystems;

/// Adds the media cues of a headset or a terminal.
pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<MediaCues>()
        .add_message::<PlayCueVideo>()
        .add_message::<PreloadCueVideo>()
        .add_message::<Shown>()
        .add_systems(
            Update,
            (take_cues, preload_pending, apply_due, show_text, finish)
                .chain()
                .in_set(MediaSystems)
                .in_set(GameSystems::Logic),
        );
}

/// A text shown on a headset or a terminal: a cue's, or a hint.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct Shown {
    /// Its heading (the cue's name, « Indice »…).
    pub title: String,
    /// The text and its voice.
    pub text: boussole_content::text::Text,
    /// How long it stays, seconds (`None`: until the next).
    pub duration_s: Option<f32>,
}

fn take_cues(
    mut cues: MessageReader<CueFired>,
    mut hints: MessageReader<HintShown>,
    mut stops: MessageReader<StopAllCues>,
    mut media: ResMut<MediaCues>,
    room: Res<Room>,
    mut show: MessageWriter<Shown>,
) {
    if stops.read().count() > 0 {
        media.pending.clear();
        media.playing.clear();
    }
    media.pending.extend(cues.read().cloned());
    // The facilitator's hint, sent to this station.
    for h in hints.read() {
        if let Some(scenario) = &room.scenario
            && let Some(shown) = hint(scenario, &h.puzzle, h.level)
        {
            show.write(shown);
        }
    }
}

/// Hint `level` of `puzzle`, as a text to show.
fn hint(
    scenario: &boussole_content::scenario::Scenario,
    puzzle: &boussole_content::ids::PuzzleId,
    level: u8,
) -> Option<Shown> {
    let p = scenario.puzzles.iter().find(|p| p.id == *puzzle)?;
    let h = p.hints.get(usize::from(level.max(1)) - 1)?;
    Some(Shown {
        title: format!("Indice — {}", p.title.fr),
        text: h.text.clone(),
        duration_s: None,
    })
}

/// Shows a text on the headset (its caption, read aloud) or the terminal (its banner, read
/// where the terminal is set to read aloud).
fn show_text(
    mut shown: MessageReader<Shown>,
    room: Res<Room>,
    mut speak: MessageWriter<crate::voice::Speak>,
    mut headset: Option<ResMut<crate::headset::state::HeadsetState>>,
    mut terminal: Option<ResMut<crate::terminal::state::TerminalState>>,
) {
    for s in shown.read() {
        if let Some(state) = headset.as_deref_mut() {
            let until = s.duration_s.map(|d| state.now_s + f64::from(d.max(0.0)));
            state.caption = Some((
                crate::headset::state::Caption {
                    title: s.title.clone(),
                    text: s.text.fr.clone(),
                },
                until,
            ));
        }
        if let Some(state) = terminal.as_deref_mut() {
            let until = s
                .duration_s
                .map(|d| room.local_now_ms + (f64::from(d.max(0.0)) * 1000.0) as u64);
            state.banner = Some((s.clone(), until));
        }
        if let Some(voice) = &s.text.audio {
            speak.write(crate::voice::Speak {
                voice: voice.clone(),
                // A headset reads its own texts; a terminal where it is set to.
                asked: headset.is_some(),
            });
        }
    }
}

/// Standby preload in a headset: a video cue received ahead of its start is opened now (on
/// the player's own thread) and waits on its first frame (`headset::cue_video`).
fn preload_pending(
    mut media: ResMut<MediaCues>,
    room: Res<Room>,
    role: Res<crate::Role>,
    mut preloads: MessageWriter<PreloadCueVideo>,
) {
    if role.0 != DeviceRole::Headset {
        return;
    }
    let Some(scenario) = room.scenario.clone() else {
        return;
    };
    let now = room.local_now_ms;
    let pending: Vec<u64> = media.pending.iter().map(|c| c.instance).collect();
    media.preloads_asked.retain(|i| pending.contains(i));
    let ahead: Vec<CueFired> = media
        .pending
        .iter()
        .filter(|c| c.start_local_ms.is_some_and(|s| s > now))
        .filter(|c| !media.preloads_asked.contains(&c.instance))
        .cloned()
        .collect();
    for fired in ahead {
        if let Some(cue) = scenario.cues.iter().find(|c| c.id == fired.cue)
            && let CueKind::Video { file, looped, .. } = &cue.kind
        {
            media.preloads_asked.push(fired.instance);
            preloads.write(PreloadCueVideo {
                instance: fired.instance,
                file: file.clone(),
                looped: *looped,
            });
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "a Bevy system's parameters are the resources it reads and writes"
)]
fn apply_due(
    mut media: ResMut<MediaCues>,
    room: Res<Room>,
    content: Res<GameContent>,
    role: Res<crate::Role>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
    (mut reports, mut connection): (MessageWriter<Report>, ResMut<Connection>),
    (mut videos, mut show): (MessageWriter<PlayCueVideo>, MessageWriter<Shown>),
) {
    let now = room.local_now_ms;
    let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut media.pending)
        .into_iter()
        .partition(|c| c.start_local_ms.is_none_or(|s| s <= now));
    media.pending = later;
    let Some(scenario) = room.scenario.clone() else {
        return;
    };
    let device = match role.0 {
        DeviceRole::Headset => "ce casque",
        DeviceRole::Terminal => "ce terminal",
        DeviceRole::Screen => "cet écran",
    };
    let mut tell = |reports: &mut MessageWriter<Report>, what: String| {
        error!("{what}");
        connection.notices.push(what.clone());
        reports.write(Report(DeviceEvent::Problem { what }));
    };
    for fired in due {
        media.applied.push(fired.instance);
        let Some(cue) = scenario.cues.iter().find(|c| c.id == fired.cue) else {
            continue;
        };
        let late = Duration::from_millis(fired.start_local_ms.map_or(0, |s| now.saturating_sub(s)));
        let finish = |reports: &mut MessageWriter<Report>| {
            reports.write(Report(DeviceEvent::CueFinished {
                instance: fired.instance,
            }));
        };
        match &cue.kind {
            CueKind::Sound {
                file,
                volume_db,
                looped,
            } => {
                if !audio.as_ref().is_some_and(|a| a.available) && !media.told_no_audio {
                    media.told_no_audio = true;
                    tell(
                        &mut reports,
                        format!(
                            "aucune sortie son sur {device} : le top « {} » et les suivants ne \
                             s'y entendent pas",
                            cue.name
                        ),
                    );
                }
                match start_sound_cue(
                    &content.assets,
                    file,
                    *volume_db,
                    *looped,
                    fired.instance,
                    now,
                    late,
                    audio.as_deref(),
                    &mut sounds,
                ) {
                    Ok(SoundStart::Playing(ends)) => {
                        media.playing.push((fired.instance, ends));
                        reports.write(started(fired.instance, fired.start_local_ms, now));
                    }
                    Ok(SoundStart::Missed) => {
                        tell(
                            &mut reports,
                            format!(
                                "top « {} » manqué sur {device} : il est arrivé après sa fin \
                                 (appareil hors ligne)",
                                cue.name
                            ),
                        );
                        finish(&mut reports);
                    }
                    Err(e) => {
                        tell(&mut reports, format!("top « {} » : {e}", cue.name));
                        finish(&mut reports);
                    }
                }
            }
            CueKind::Video {
                file,
                looped,
                headset,
            } => {
                if role.0 == DeviceRole::Headset {
                    videos.write(PlayCueVideo {
                        instance: fired.instance,
                        name: cue.name.clone(),
                        file: file.clone(),
                        looped: *looped,
                        late,
                        placement: headset.clone(),
                    });
                    reports.write(started(fired.instance, fired.start_local_ms, now));
                } else {
                    tell(
                        &mut reports,
                        format!(
                            "top « {} » : {device} ne lit pas de vidéo ; visez l'écran de \
                             salle ou un casque",
                            cue.name
                        ),
                    );
                    finish(&mut reports);
                }
            }
            CueKind::Text { text, duration_s } => {
                show.write(Shown {
                    title: cue.name.clone(),
                    text: text.clone(),
                    duration_s: *duration_s,
                });
                reports.write(started(fired.instance, fired.start_local_ms, now));
            }
            CueKind::HintDisplay { puzzle, level } => {
                if let Some(shown) = hint(&scenario, puzzle, *level) {
                    show.write(shown);
                }
            }
            CueKind::SceneChange { .. }
            | CueKind::Timer { .. }
            | CueKind::Wait { .. }
            | CueKind::Group { .. }
            | CueKind::Memo => {}
        }
    }
}

/// A sound cue played out is finished.
fn finish(mut media: ResMut<MediaCues>, room: Res<Room>, mut reports: MessageWriter<Report>) {
    finish_played(&mut media.playing, room.local_now_ms, &mut reports);
}

/// Reports `CueFinished` for each of `playing` (firing, end on the device clock in ms; `None`:
/// looped) whose end has come by `now_ms`, and drops it.
pub fn finish_played(
    playing: &mut Vec<(u64, Option<u64>)>,
    now_ms: u64,
    reports: &mut MessageWriter<Report>,
) {
    playing.retain(|(instance, ends)| match ends {
        Some(end) if *end <= now_ms => {
            reports.write(Report(DeviceEvent::CueFinished {
                instance: *instance,
            }));
            false
        }
        _ => true,
    });
}
