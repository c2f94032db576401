//! Sound through `bevy_audio` (rodio), checked before it plays: bevy_audio panics on a file
//! it cannot decode and says nothing to the director when there is no output device, so the
//! device looks for both itself and reports them (DESIGN principle 5).

use crate::net::plugin::StopAllCues;
use bevy::audio::{AudioPlayer, AudioSource, PlaybackSettings, Volume};
use bevy::prelude::*;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

/// Whether sound can be heard on this device.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioOutput {
    /// An output device opened (false headless, or with no sound card).
    pub available: bool,
}

/// Whether a default audio output device opens (the same call bevy_audio makes).
pub fn probe_output() -> bool {
    match rodio::DeviceSinkBuilder::open_default_sink() {
        Ok(mut sink) => {
            sink.log_on_drop(false);
            true
        }
        Err(e) => {
            warn!("aucune sortie audio : {e}");
            false
        }
    }
}

/// A sound file checked by decoding it: its bytes and its length (`None` when the format
/// does not say).
#[derive(Clone, Debug)]
pub struct CheckedSound {
    /// The file's bytes, handed to bevy_audio as they are.
    pub bytes: Arc<[u8]>,
    /// How long it plays once.
    pub duration: Option<Duration>,
}

/// Why a sound cannot play.
#[derive(Debug, thiserror::Error)]
pub enum SoundError {
    /// The file cannot be read.
    #[error("son {path} introuvable ou illisible : {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a sound the device can decode (corrupt, or another format).
    #[error("son {path} corrompu ou dans un format inconnu : {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// The decoder's reason.
        reason: String,
    },
}

/// Reads and decodes `path` (its header and length) without playing it.
///
/// # Errors
/// [`SoundError`] with the path, in French, for the facilitator.
pub fn check_sound(path: &std::path::Path) -> Result<CheckedSound, SoundError> {
    let shown = path.display().to_string();
    let bytes: Arc<[u8]> = std::fs::read(path)
        .map_err(|source| SoundError::Read {
            path: shown.clone(),
            source,
        })?
        .into();
    let len = bytes.len() as u64;
    let decoder = rodio::Decoder::builder()
        .with_byte_len(len)
        .with_data(Cursor::new(bytes.clone()))
        .build()
        .map_err(|e| SoundError::Corrupt {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    let duration = rodio::Source::total_duration(&decoder);
    Ok(CheckedSound { bytes, duration })
}

/// Play a checked sound (only where an output exists).
#[derive(Message, Clone, Debug)]
pub struct PlaySound {
    /// The cue firing it belongs to.
    pub instance: u64,
    /// The sound.
    pub sound: CheckedSound,
    /// Gain, dB.
    pub volume_db: f32,
    /// Loop until stopped.
    pub looped: bool,
    /// Where to start in the sound (a cue that arrives late starts where it should be now).
    pub from: Duration,
}

/// A sound playing for a cue firing.
#[derive(Component, Debug)]
pub struct SoundOf(pub u64);

/// The [`PlaySound::instance`] of a text's voice ([`crate::voice`]): a voice replaces the
/// voice playing.
pub const VOICE: u64 = u64::MAX;

/// A playing sound's own gain, dB (its cue's), before the device's volume.
#[derive(Component, Debug, Clone, Copy)]
struct OwnGain(f32);

/// The gain a sound of `own_db` plays at on a device set to `sound`: a volume for Bevy's sink
/// (silent when muted or at no volume).
pub fn device_volume(own_db: f32, sound: &crate::net::plugin::DeviceSound) -> Volume {
    match sound.0.gain_db() {
        Some(device_db) => Volume::Decibels(own_db + device_db),
        None => Volume::SILENT,
    }
}

/// Plays [`PlaySound`]s and stops them all on a stop-all. Needs bevy's `AudioPlugin`.
pub fn plugin(app: &mut App) {
    app.add_message::<PlaySound>().add_systems(
        Update,
        (play, stop_all, follow_volume).in_set(crate::GameSystems::View),
    );
}

fn play(
    mut commands: Commands,
    mut requests: MessageReader<PlaySound>,
    mut sources: ResMut<Assets<AudioSource>>,
    sound: Res<crate::net::plugin::DeviceSound>,
    playing: Query<(Entity, &SoundOf)>,
) {
    for r in requests.read() {
        if r.instance == VOICE {
            for (e, of) in &playing {
                if of.0 == VOICE {
                    commands.entity(e).despawn();
                }
            }
        }
        let handle = sources.add(AudioSource {
            bytes: r.sound.bytes.clone(),
        });
        let mut settings = if r.looped {
            PlaybackSettings::LOOP
        } else {
            PlaybackSettings::DESPAWN
        };
        if r.from > Duration::ZERO {
            settings.start_position = Some(r.from);
        }
        commands.spawn((
            AudioPlayer(handle),
            settings.with_volume(device_volume(r.volume_db, &sound)),
            SoundOf(r.instance),
            OwnGain(r.volume_db),
        ));
    }
}

/// The facilitator's volume and mute apply to what plays already.
fn follow_volume(
    sound: Res<crate::net::plugin::DeviceSound>,
    mut sinks: Query<(&mut AudioSink, &OwnGain)>,
) {
    if !sound.is_changed() {
        return;
    }
    for (mut sink, gain) in &mut sinks {
        sink.set_volume(device_volume(gain.0, &sound));
    }
}

fn stop_all(
    mut commands: Commands,
    mut stops: MessageReader<StopAllCues>,
    sounds: Query<Entity, With<SoundOf>>,
) {
    if stops.read().count() == 0 {
        return;
    }
    for e in &sounds {
        commands.entity(e).despawn();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_sound_is_an_error_not_a_panic() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("casse.wav");
        std::fs::write(&path, b"RIFF\x10\0\0\0WAVEpas un son du tout")?;
        let err = check_sound(&path).err().ok_or("a corrupt file decoded")?;
        assert!(err.to_string().contains("corrompu"), "{err}");
        let missing = check_sound(&dir.path().join("absent.wav"));
        assert!(matches!(missing, Err(SoundError::Read { .. })));
        Ok(())
    }

    #[test]
    fn a_shipped_sound_decodes_with_its_length() -> Result<(), Box<dyn std::error::Error>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/sounds/attitudes/klaxon.wav");
        let sound = check_sound(&path)?;
        let d = sound.duration.ok_or("no length")?;
        assert!(
            d > Duration::from_millis(100) && d < Duration::from_secs(30),
            "{d:?}"
        );
        Ok(())
    }
}
