//! What the room screen shows, from the director's cues and snapshots: the text and hint on
//! display, a video card, the sounds playing. Cues start at their scheduled time on the
//! device clock; sound and video cues report `CueFinished` when played out (a sound's length
//! comes from decoding its file), so the director's auto-follow goes on.

use crate::GameSystems;
use crate::content::GameContent;
use crate::net::plugin::{Connection, CueFired, HintShown, Report, Room, StopAllCues};
use crate::third_party::audio::{AudioOutput, PlaySound};
use crate::voice::Speak;
use bevy::prelude::*;
use boussole_content::cue::CueKind;
use boussole_content::ids::PuzzleId;
use boussole_content::scenario::Scenario;
use boussole_protocol::{DeviceEvent, Health};
use std::time::Duration;

/// What the room screen shows now.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct ScreenState {
    /// A text cue on display, with the device time it leaves (ms; `None`: until the next).
    pub text: Option<(String, Option<u64>)>,
    /// The hint on display: puzzle title, level, text.
    pub hint: Option<ShownHint>,
    /// The video cue playing (or whose card shows where no renderer runs): its name.
    pub video: Option<String>,
    /// Cue firings waiting for their start, in order of arrival.
    pub pending: Vec<CueFired>,
    /// Sound and video firings playing, with the device time they end (ms; `None`: looped,
    /// until a stop-all).
    pub playing: Vec<(u64, Option<u64>)>,
    /// Cue firings applied, by instance, in order (tests).
    pub applied: Vec<u64>,
    /// What the device last told the director of its health.
    pub health: Option<Health>,
    /// Whether the director was told there is no audio output (said once).
    pub told_no_audio: bool,
}

/// A hint on the room screen.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownHint {
    /// The puzzle.
    pub puzzle: PuzzleId,
    /// Its title.
    pub title: String,
    /// The rung, from 1.
    pub level: u8,
    /// The hint.
    pub text: String,
    /// Its voice, under `assets/`.
    pub voice: Option<boussole_content::text::AssetPath>,
}

/// Adds the room screen's logic.
pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<ScreenState>().add_systems(
        Update,
        (
            take_cues,
            preload_pending,
            apply_due,
            finish_media,
            report_health,
        )
            .chain()
            .in_set(GameSystems::Logic),
    );
}

/// The hint `level` of `puzzle` in `scenario`.
pub fn hint_of(scenario: &Scenario, puzzle: &PuzzleId, level: u8) -> Option<ShownHint> {
    let p = scenario.puzzles.iter().find(|p| p.id == *puzzle)?;
    let h = p.hints.get(usize::from(level.max(1)) - 1)?;
    Some(ShownHint {
        puzzle: puzzle.clone(),
        title: p.title.fr.clone(),
        level,
        text: h.text.fr.clone(),
        voice: h.text.audio.clone(),
    })
}

/// A text or hint that appears on the room screen is read aloud, where the facilitator lets
/// this screen read (on by default; « couper les voix » in the console turns it off).
fn read_aloud(speak: &mut MessageWriter<Speak>, voice: Option<boussole_content::text::AssetPath>) {
    if let Some(voice) = voice {
        speak.write(Speak {
            voice,
            asked: false,
        });
    }
}

fn take_cues(
    mut cues: MessageReader<CueFired>,
    mut hints: MessageReader<HintShown>,
    mut stops: MessageReader<StopAllCues>,
    mut state: ResMut<ScreenState>,
    room: Res<Room>,
    mut speak: MessageWriter<Speak>,
) {
    if stops.read().count() > 0 {
        state.pending.clear();
        state.playing.clear();
        state.text = None;
        state.video = None;
    }
    state.pending.extend(cues.read().cloned());
    for h in hints.read() {
        if let Some(scenario) = &room.scenario {
            state.hint = hint_of(scenario, &h.puzzle, h.level);
            read_aloud(
                &mut speak,
                state.hint.as_ref().and_then(|h| h.voice.clone()),
            );
        }
    }
    if let Some((_, Some(until))) = state.text
        && until <= room.local_now_ms
    {
        state.text = None;
    }
}

/// Standby preload: each video cue received ahead of its scheduled start is opened now and
/// paused on its first frame, so that it starts on time (opening a file takes tens of
/// milliseconds, more than the frame its start falls in).
fn preload_pending(
    state: Res<ScreenState>,
    room: Res<Room>,
    content: Res<GameContent>,
    audio: Option<Res<AudioOutput>>,
    mut video: ResMut<super::video::ScreenVideo>,
) {
    video.keep_preloaded(|i| state.pending.iter().any(|c| c.instance == i));
    let Some(scenario) = room.scenario.as_ref() else {
        return;
    };
    let now = room.local_now_ms;
    let sound = audio.as_ref().is_some_and(|a| a.available);
    for fired in state
        .pending
        .iter()
        .filter(|c| c.start_local_ms.is_some_and(|s| s > now))
    {
        let Some(cue) = scenario.cues.iter().find(|c| c.id == fired.cue) else {
            continue;
        };
        if let CueKind::Video { file, looped, .. } = &cue.kind
            && let Err(what) = super::video::preload(
                &mut video,
                fired.instance,
                &cue.name,
                &content.assets.join(file.as_str()),
                *looped,
                sound,
            )
        {
            // Told at its start, when it is tried again.
            warn!("préchargement : {what}");
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "a Bevy system's parameters are the resources it reads and writes"
)]
fn apply_due(
    mut state: ResMut<ScreenState>,
    room: Res<Room>,
    content: Res<GameContent>,
    audio: Option<Res<AudioOutput>>,
    mut sounds: Option<MessageWriter<PlaySound>>,
    mut reports: MessageWriter<Report>,
    mut connection: ResMut<Connection>,
    mut video: ResMut<super::video::ScreenVideo>,
    mut speak: MessageWriter<Speak>,
) {
    let now = room.local_now_ms;
    let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut state.pending)
        .into_iter()
        .partition(|c| c.start_local_ms.is_none_or(|s| s <= now));
    state.pending = later;
    let Some(scenario) = room.scenario.clone() else {
        // No scenario yet (content not synced): the cues are acknowledged; nothing to show.
        return;
    };
    for fired in due {
        state.applied.push(fired.instance);
        let Some(cue) = scenario.cues.iter().find(|c| c.id == fired.cue) else {
            connection
                .notices
                .push(format!("top {} inconnu de ce contenu", fired.cue));
            continue;
        };
        match &cue.kind {
            CueKind::Text { text, duration_s } => {
                let until = duration_s.map(|d| now + (f64::from(d.max(0.0)) * 1000.0) as u64);
                state.text = Some((text.fr.clone(), until));
                read_aloud(&mut speak, text.audio.clone());
                reports.write(crate::media::started(
                    fired.instance,
                    fired.start_local_ms,
                    now,
                ));
            }
            CueKind::HintDisplay { puzzle, level } => {
                state.hint = hint_of(&scenario, puzzle, *level);
                read_aloud(
                    &mut speak,
                    state.hint.as_ref().and_then(|h| h.voice.clone()),
                );
            }
            CueKind::Video { file, looped, .. } => {
                // A video cue replaces the one playing; it finishes when played out (see
                // `video::pump`). One that cannot play is a problem for the facilitator, and
                // ends at once so the director's auto-follow is not held up.
                state.video = Some(cue.name.clone());
                let late = Duration::from_millis(
                    fired.start_local_ms.map_or(0, |s| now.saturating_sub(s)),
                );
                let sound = audio.as_ref().is_some_and(|a| a.available);
                if let Err(what) = super::video::start(
                    &mut video,
                    fired.instance,
                    &cue.name,
                    &content.assets.join(file.as_str()),
                    *looped,
                    sound,
                    late,
                ) {
                    error!("{what}");
                    connection.notices.push(what.clone());
                    reports.write(Report(DeviceEvent::Problem { what }));
                    reports.write(Report(DeviceEvent::CueFinished {
                        instance: fired.instance,
                    }));
                    state.video = None;
                } else {
                    reports.write(crate::media::started(
                        fired.instance,
                        fired.start_local_ms,
                        now,
                    ));
                }
            }
            CueKind::Sound {
                file,
                volume_db,
                looped,
            } => {
                let late = Duration::from_millis(
                    fired.start_local_ms.map_or(0, |s| now.saturating_sub(s)),
                );
                match crate::media::start_sound_cue(
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
                    Ok(crate::media::SoundStart::Playing(ends)) => {
                        state.playing.push((fired.instance, ends));
                        reports.write(crate::media::started(
                            fired.instance,
                            fired.start_local_ms,
                            now,
                        ));
                    }
                    Ok(crate::media::SoundStart::Missed) => {
                        let what = format!(
                            "top « {} » manqué sur cet écran : il est arrivé après sa fin \
                             (appareil hors ligne)",
                            cue.name
                        );
                        connection.notices.push(what.clone());
                        reports.write(Report(DeviceEvent::Problem { what }));
                        reports.write(Report(DeviceEvent::CueFinished {
                            instance: fired.instance,
                        }));
                    }
                    Err(e) => {
                        error!("{e}");
                        connection.notices.push(e.to_string());
                        // Told to the facilitator, reported as audio trouble in the health,
                        // and finished, so the cue list goes on.
                        reports.write(Report(DeviceEvent::Problem {
                            what: format!("top {} : {e}", cue.name),
                        }));
                        state.health = None;
                        reports.write(Report(DeviceEvent::CueFinished {
                            instance: fired.instance,
                        }));
                    }
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

fn finish_media(
    mut state: ResMut<ScreenState>,
    room: Res<Room>,
    mut reports: MessageWriter<Report>,
) {
    crate::media::finish_played(&mut state.playing, room.local_now_ms, &mut reports);
}

/// Tells the director when the screen's health changes: whether sound can be heard (no
/// output device, or a sound file that failed, make it `false`) and whether the content is
/// the director's.
fn report_health(
    mut state: ResMut<ScreenState>,
    audio: Option<Res<AudioOutput>>,
    connection: Res<Connection>,
    mut reports: MessageWriter<Report>,
) {
    let sound_failed = connection.notices.iter().any(|n| n.starts_with("son "));
    let health = Health {
        audio_ok: audio.as_ref().is_some_and(|a| a.available) && !sound_failed,
        content_in_sync: connection.content_in_sync.unwrap_or(false),
        ..Health::default()
    };
    if !state.told_no_audio
        && connection.content_in_sync.is_some()
        && audio.as_ref().is_some_and(|a| !a.available)
    {
        state.told_no_audio = true;
        reports.write(Report(DeviceEvent::Problem {
            what: "aucune sortie son sur cet appareil : les tops son ne seront pas entendus".into(),
        }));
    }
    if state.health.as_ref() != Some(&health) && connection.content_in_sync.is_some() {
        state.health = Some(health.clone());
        reports.write(Report(DeviceEvent::Health(health)));
    }
}
