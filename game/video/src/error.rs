//! Why a video cannot be probed or played: one error type, French messages for the
//! facilitator that name the file, and the Debian package to install when a plugin is missing.

use gst::glib;
use gstreamer as gst;

/// Why a video cannot be probed, opened or played on.
///
/// Messages are in French and name the file: the game forwards them to the director as they
/// are (`DeviceEvent::Problem`), so the facilitator reads e.g. « vidéo assets/x.webm corrompue ».
/// `Clone` so that [`crate::VideoEvent::Error`] can be kept and shown more than once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VideoError {
    /// GStreamer itself did not start (its shared libraries are broken or missing).
    #[error("GStreamer ne démarre pas : {reason}")]
    Init {
        /// GStreamer's reason.
        reason: String,
    },
    /// The file does not exist or cannot be read.
    #[error("vidéo {path} introuvable ou illisible : {reason}")]
    Missing {
        /// The file.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// The file is not a video GStreamer recognises, or its data is damaged (truncated,
    /// garbage bytes, a broken stream).
    #[error("vidéo {path} corrompue ou dans un format inconnu : {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// GStreamer's reason (in English: it comes from the plugin).
        reason: String,
    },
    /// The container is known but no installed plugin decodes one of its streams.
    #[error(
        "vidéo {path} : aucun décodeur installé pour « {codec} » \
         (paquet Debian à installer : {package})"
    )]
    NoDecoder {
        /// The file.
        path: String,
        /// The stream's format as GStreamer names it (e.g. `video/x-h265`).
        codec: String,
        /// The Debian package that brings a decoder for it.
        package: &'static str,
    },
    /// The file decodes but has no picture (a sound file, say).
    #[error("fichier {path} sans image vidéo (du son seul ?) : il ne peut pas servir de vidéo")]
    NoVideoStream {
        /// The file.
        path: String,
    },
    /// A GStreamer element the player needs is not installed.
    #[error("élément GStreamer « {element} » absent (paquet Debian à installer : {package})")]
    MissingElement {
        /// The element's factory name (e.g. `videoconvert`).
        element: String,
        /// The Debian package that brings it.
        package: &'static str,
    },
    /// GStreamer did not answer within the bound (5 s for opening, see
    /// [`crate::BUS_TIMEOUT`]): the file is probably damaged in a way that stalls the demuxer.
    #[error("vidéo {path} : GStreamer ne répond pas après {seconds} s ({waiting_for})")]
    Timeout {
        /// The file.
        path: String,
        /// How long we waited, whole seconds.
        seconds: u64,
        /// What we were waiting for, in French.
        waiting_for: &'static str,
    },
    /// The file ends well before the length its header announces (cut short while copying,
    /// or damaged in the middle: GStreamer stops at the damage without an error). Reported
    /// at the end, before [`crate::VideoEvent::Ended`].
    #[error(
        "vidéo {path} tronquée ou abîmée : elle s'arrête à {} s sur {} s annoncées",
        secs_fr(*.ended_at_ms),
        secs_fr(*.duration_ms)
    )]
    Truncated {
        /// The file.
        path: String,
        /// Where the last frame was, ms.
        ended_at_ms: u64,
        /// The length the container announces, ms.
        duration_ms: u64,
    },
    /// Any other failure while playing (a state change or a seek refused).
    #[error("vidéo {path} : lecture interrompue : {reason}")]
    Playback {
        /// The file.
        path: String,
        /// GStreamer's reason.
        reason: String,
    },
}

/// Milliseconds as French seconds with one decimal: `1377` → `1,4`.
fn secs_fr(ms: u64) -> String {
    let tenths = (ms + 50) / 100;
    format!("{},{}", tenths / 10, tenths % 10)
}

/// A decoder GStreamer looked for and did not find (from its `missing-plugin` bus message).
#[derive(Clone, Debug)]
pub(crate) struct MissingPlugin {
    /// The caps name of the stream (e.g. `video/x-vp9`), or the plugin's description.
    pub(crate) codec: String,
}

impl MissingPlugin {
    /// Reads a `missing-plugin` element message; `None` for any other message.
    pub(crate) fn from_message(msg: &gst::MessageRef) -> Option<Self> {
        let gst::MessageView::Element(e) = msg.view() else {
            return None;
        };
        let s = e.structure()?;
        if s.name() != "missing-plugin" {
            return None;
        }
        // `detail` is the caps of the stream for decoders; `name` a human description.
        let codec = s
            .get::<gst::Caps>("detail")
            .ok()
            .and_then(|caps| caps.structure(0).map(|c| c.name().to_string()))
            .or_else(|| s.get::<String>("name").ok())
            .unwrap_or_else(|| "format inconnu".to_owned());
        Some(Self { codec })
    }
}

/// The Debian 12 package that decodes streams of `codec` (a caps name such as
/// `video/x-vp8`). Source: the Debian package lists of GStreamer 1.22.
pub fn package_for_codec(codec: &str) -> &'static str {
    match codec {
        "video/x-vp8" | "video/x-vp9" | "video/x-matroska" | "video/webm" | "audio/webm"
        | "video/quicktime" | "image/jpeg" | "image/png" | "audio/x-flac" | "audio/mpeg"
        | "video/x-msvideo" => "gstreamer1.0-plugins-good",
        "video/x-theora" | "audio/x-vorbis" | "audio/x-opus" | "application/ogg" | "audio/ogg"
        | "video/ogg" => "gstreamer1.0-plugins-base",
        "video/x-h264" | "video/x-h265" | "video/mpeg" | "video/x-av1" | "audio/x-ac3"
        | "audio/mpeg4" | "video/x-divx" => "gstreamer1.0-libav",
        _ => "gstreamer1.0-libav ou gstreamer1.0-plugins-bad",
    }
}

/// The Debian 12 package that brings the element `factory` (those this crate builds).
pub fn package_for_element(factory: &str) -> &'static str {
    match factory {
        "filesrc" | "filesink" | "queue" | "fakesink" | "concat" => "libgstreamer1.0-0",
        "vp8enc" | "vp8dec" | "webmmux" | "matroskademux" | "autoaudiosink" => {
            "gstreamer1.0-plugins-good"
        }
        // decodebin, videoconvert, videoscale, audioconvert, audioresample, appsink,
        // videotestsrc, audiotestsrc, vorbisenc, theoraenc, oggmux.
        _ => "gstreamer1.0-plugins-base",
    }
}

/// Turns an error GStreamer posted while reading `path` into a [`VideoError`].
/// `missing` lists the decoders GStreamer said it looked for: they explain a failure better
/// than the generic error that follows them.
pub(crate) fn classify(path: &str, err: &glib::Error, missing: &[MissingPlugin]) -> VideoError {
    if let Some(m) = missing.first() {
        return VideoError::NoDecoder {
            path: path.to_owned(),
            codec: m.codec.clone(),
            package: package_for_codec(&m.codec),
        };
    }
    let reason = err.message().to_owned();
    if err.matches(gst::ResourceError::NotFound) || err.matches(gst::ResourceError::OpenRead) {
        VideoError::Missing {
            path: path.to_owned(),
            reason,
        }
    } else if err.matches(gst::CoreError::MissingPlugin)
        || err.matches(gst::StreamError::CodecNotFound)
    {
        VideoError::NoDecoder {
            path: path.to_owned(),
            codec: "format inconnu".to_owned(),
            package: package_for_codec(""),
        }
    } else if err.kind::<gst::StreamError>().is_some() || err.matches(gst::ResourceError::Read) {
        VideoError::Corrupt {
            path: path.to_owned(),
            reason,
        }
    } else {
        VideoError::Playback {
            path: path.to_owned(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{VideoError, secs_fr};

    #[test]
    fn seconds_are_written_the_french_way() {
        assert_eq!(secs_fr(1377), "1,4");
        assert_eq!(secs_fr(3000), "3,0");
        let e = VideoError::Truncated {
            path: "a.webm".to_owned(),
            ended_at_ms: 880,
            duration_ms: 3000,
        };
        assert_eq!(
            e.to_string(),
            "vidéo a.webm tronquée ou abîmée : elle s'arrête à 0,9 s sur 3,0 s annoncées"
        );
    }
}
