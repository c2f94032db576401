//! Texts read aloud on the device that shows them, for participants who read French poorly:
//! every participant text has a voice (`Text::audio`). A [`Speak`] asks for one: a
//! participant's « Écouter » plays it whatever the device's settings say about reading
//! aloud (its volume and mute still apply); a text that appears is read only where the
//! facilitator lets this device read aloud ([`DeviceSound`]: on for a room screen, off for a
//! terminal by default). A voice replaces the one playing: two never talk over each other on
//! one device. A voice file missing or corrupt is told to the director once (the text still
//! shows), and so is a device with no audio output.

use crate::GameSystems;
use crate::content::GameContent;
use crate::net::plugin::{Connection, DeviceSound, Report};
use crate::third_party::audio::{AudioOutput, CheckedSound, PlaySound, VOICE, check_sound};
use bevy::prelude::*;
use boussole_content::text::AssetPath;
use boussole_protocol::DeviceEvent;
use std::collections::{BTreeMap, BTreeSet};

/// Read a text's voice.
#[derive(Message, Clone, Debug, PartialEq, Eq)]
pub struct Speak {
    /// The voice, under `assets/`.
    pub voice: AssetPath,
    /// A participant asked for it (« Écouter »): it plays even where reading aloud is off.
    pub asked: bool,
}

/// The voices decoded so far, and what the director was told.
#[derive(Resource, Debug, Default)]
pub struct Voices {
    decoded: BTreeMap<AssetPath, CheckedSound>,
    told: BTreeSet<AssetPath>,
    told_no_output: bool,
}

/// Adds [`Speak`] and the system that plays it.
pub(crate) fn plugin(app: &mut App) {
    app.add_message::<Speak>()
        .init_resource::<Voices>()
        .add_systems(
            Update,
            speak.after(GameSystems::Logic).before(GameSystems::View),
        );
}

/// Decides whether `ask` is heard on a device with `sound` settings: asked for, or read
/// aloud where this device may.
pub fn heard(ask: &Speak, sound: &DeviceSound) -> bool {
    ask.asked || sound.0.read_aloud
}

#[expect(
    clippy::too_many_arguments,
    reason = "a voice needs the content, the settings, the output, the cache and the reports"
)]
fn speak(
    mut asks: MessageReader<Speak>,
    content: Res<GameContent>,
    sound: Res<DeviceSound>,
    audio: Option<Res<AudioOutput>>,
    mut voices: ResMut<Voices>,
    mut plays: Option<MessageWriter<PlaySound>>,
    mut reports: MessageWriter<Report>,
    mut connection: ResMut<Connection>,
) {
    // Of several asked in one frame, the last is the one heard.
    let Some(ask) = asks.read().filter(|a| heard(a, &sound)).last().cloned() else {
        return;
    };
    if !audio.as_ref().is_some_and(|a| a.available) {
        if ask.asked && !voices.told_no_output {
            voices.told_no_output = true;
            let what = "aucune sortie audio sur ce poste : « Écouter » ne peut rien faire \
                        entendre ; branchez un haut-parleur ou un casque audio"
                .to_owned();
            connection.notices.push(what.clone());
            reports.write(Report(DeviceEvent::Problem { what }));
        }
        return;
    }
    let decoded = match voices.decoded.get(&ask.voice) {
        Some(s) => s.clone(),
        None => match check_sound(&content.assets.join(ask.voice.as_str())) {
            Ok(s) => {
                voices.decoded.insert(ask.voice.clone(), s.clone());
                s
            }
            Err(e) => {
                if voices.told.insert(ask.voice.clone()) {
                    let what = format!("voix illisible, le texte reste affiché : {e}");
                    error!("{what}");
                    connection.notices.push(what.clone());
                    reports.write(Report(DeviceEvent::Problem { what }));
                }
                return;
            }
        },
    };
    if let Some(plays) = plays.as_mut() {
        plays.write(PlaySound {
            instance: VOICE,
            sound: decoded,
            volume_db: 0.0,
            looped: false,
            from: std::time::Duration::ZERO,
        });
    }
}
