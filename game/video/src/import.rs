//! Bringing a 360° film in: probe it ([`probe_film`], GStreamer's discoverer), say whether it is
//! equirectangular mono (2:1) or top-bottom stereo (1:1) ([`Layout::of`]), check it against
//! the [`TargetProfile`] ([`TargetProfile::check`]), transcode it when it is outside
//! ([`transcode`]), and write its poster frame ([`poster`]).
//!
//! **The target profile** is what a headset PC decodes smoothly at 30 frames a second in
//! software through GStreamer, the way the headset plays films (`decodebin`, no hardware
//! decoder assumed): VP8 and VP9 (libvpx, `gstreamer1.0-plugins-good`) and H.264 (FFmpeg,
//! `gstreamer1.0-libav`) decode a 3840×1920 picture at 30 fps on the 4-core CPUs of
//! VR-ready PCs; H.265 and AV1 at that size need a hardware decoder we cannot count on. So: one
//! of those three codecs, at most 30 fps, at most [`TargetProfile::MAX_PIXELS`] a picture (a
//! mono 3840×1920, or a stereo 2880×2880), sound in Vorbis, Opus, AAC or MP3 (or none). A
//! film outside is transcoded to WebM VP8 + Vorbis at that size and rate (VP8: the encoder fast
//! enough on a laptop, and decoded everywhere).

use crate::error::VideoError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_pbutils as pbutils;
use gstreamer_pbutils::prelude::*;
use std::path::Path;
use std::time::Duration;

/// What a film file holds, as GStreamer's discoverer reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct FilmProbe {
    /// Picture width, pixels.
    pub width: u32,
    /// Picture height, pixels.
    pub height: u32,
    /// Length, when the container says.
    pub duration: Option<Duration>,
    /// Frames per second; `None` for a variable rate.
    pub frame_rate: Option<f64>,
    /// The video stream's caps name (`video/x-vp8`, `video/x-h264`…).
    pub video_codec: String,
    /// The sound stream's caps name (`audio/x-vorbis`…), if any.
    pub audio_codec: Option<String>,
    /// The file's size, bytes.
    pub bytes: u64,
}

/// How a 360° film lays out its picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One equirectangular picture, 2:1.
    Mono,
    /// Left eye above right eye, each 2:1: the whole is 1:1.
    StereoTopBottom,
}

/// How far from 2:1 or 1:1 a 360° film may be: 2 %.
pub const ASPECT_TOLERANCE: f64 = 0.02;

impl Layout {
    /// The layout of a `width`×`height` picture.
    ///
    /// # Errors
    /// A French sentence when it is neither 2:1 nor 1:1: not a 360° film.
    pub fn of(width: u32, height: u32) -> Result<Self, String> {
        let aspect = f64::from(width) / f64::from(height.max(1));
        if (aspect / 2.0 - 1.0).abs() <= ASPECT_TOLERANCE {
            Ok(Self::Mono)
        } else if (aspect - 1.0).abs() <= ASPECT_TOLERANCE {
            Ok(Self::StereoTopBottom)
        } else {
            Err(format!(
                "l'image fait {width}×{height} (rapport {}) : un film 360° est équirectangulaire, \
                 2:1 (mono) ou 1:1 (stéréo haut-bas). Ce film n'est pas un film 360°, ou il a été \
                 recadré à l'export : exportez-le en équirectangulaire depuis le logiciel de la \
                 caméra",
                format!("{aspect:.2}").replace('.', ",")
            ))
        }
    }
}

/// The profile a film must fit to be played as it is (see the module's documentation).
#[derive(Clone, Copy, Debug)]
pub struct TargetProfile;

impl TargetProfile {
    /// Most pixels a picture: 3840×1920 (mono) or 2880×2880 (stereo).
    pub const MAX_PIXELS: u64 = 2880 * 2880;
    /// Most frames a second.
    pub const MAX_FPS: f64 = 30.0;
    /// Video codecs played as they are.
    pub const VIDEO: [&'static str; 3] = ["video/x-vp8", "video/x-vp9", "video/x-h264"];
    /// Sound codecs played as they are.
    pub const AUDIO: [&'static str; 4] = [
        "audio/x-vorbis",
        "audio/x-opus",
        "audio/mpeg",
        "audio/x-mp3",
    ];
    /// The largest film imported, bytes (4 GiB: a 20-minute film at 25 Mbit/s).
    pub const MAX_BYTES: u64 = 4 << 30;

    /// The size a film of `layout` is brought to: its own when within [`Self::MAX_PIXELS`],
    /// else 3840×1920 (mono) or 2880×2880 (stereo). Even sizes (the encoders want them).
    pub fn size_for(width: u32, height: u32, layout: Layout) -> (u32, u32) {
        if u64::from(width) * u64::from(height) <= Self::MAX_PIXELS {
            return (width & !1, height & !1);
        }
        match layout {
            Layout::Mono => (3840, 1920),
            Layout::StereoTopBottom => (2880, 2880),
        }
    }

    /// Why `probe` must be transcoded (French, one reason each); empty when it plays as it is.
    pub fn check(probe: &FilmProbe) -> Vec<String> {
        let mut why = Vec::new();
        if !Self::VIDEO.contains(&probe.video_codec.as_str()) {
            why.push(format!(
                "son codec vidéo ({}) n'est pas décodé assez vite par le PC du casque",
                probe.video_codec
            ));
        }
        if u64::from(probe.width) * u64::from(probe.height) > Self::MAX_PIXELS {
            why.push(format!(
                "son image ({}×{}) dépasse ce que le casque décode à 30 images/s",
                probe.width, probe.height
            ));
        }
        match probe.frame_rate {
            Some(fps) if fps > Self::MAX_FPS + 0.01 => {
                why.push(format!("{fps:.0} images/s : le casque en joue 30"))
            }
            None => why.push("sa cadence d'images est variable".into()),
            Some(_) => {}
        }
        if let Some(audio) = &probe.audio_codec
            && !Self::AUDIO.contains(&audio.as_str())
        {
            why.push(format!(
                "son codec audio ({audio}) n'est pas lu par le casque"
            ));
        }
        why
    }
}

/// Probes a film with GStreamer's discoverer.
///
/// # Errors
/// [`VideoError::Missing`] for no file; [`VideoError::Corrupt`] when GStreamer cannot read it
/// (with its reason); [`VideoError::NoVideoStream`] when it has no moving picture.
pub fn probe_film(path: &Path) -> Result<FilmProbe, VideoError> {
    crate::init()?;
    let shown = path.display().to_string();
    let bytes = std::fs::metadata(path)
        .map_err(|e| VideoError::Missing {
            path: shown.clone(),
            reason: e.to_string(),
        })?
        .len();
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let uri = gst::glib::filename_to_uri(&absolute, None).map_err(|e| VideoError::Corrupt {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let discoverer = pbutils::Discoverer::new(gst::ClockTime::from_seconds(10)).map_err(|e| {
        VideoError::Init {
            reason: e.to_string(),
        }
    })?;
    let info = match discoverer.discover_uri(&uri) {
        Ok(info) => info,
        // The discoverer says little (« missing plugins », « stream error »): the player's
        // probe names a missing decoder with its Debian package, a cut file, a corrupt one.
        Err(e) => {
            return Err(crate::probe(path).err().unwrap_or(VideoError::Corrupt {
                path: shown,
                reason: e.to_string(),
            }));
        }
    };
    let Some(video) = info.video_streams().into_iter().find(|v| !v.is_image()) else {
        return Err(VideoError::NoVideoStream { path: shown });
    };
    let name = |caps: Option<gst::Caps>| {
        caps.and_then(|c| c.structure(0).map(|s| s.name().to_string()))
            .unwrap_or_else(|| "inconnu".into())
    };
    let rate = video.framerate();
    let frame_rate = (rate.numer() > 0 && rate.denom() > 0)
        .then(|| f64::from(rate.numer()) / f64::from(rate.denom()));
    Ok(FilmProbe {
        width: video.width(),
        height: video.height(),
        duration: info.duration().map(|d| Duration::from_nanos(d.nseconds())),
        frame_rate,
        video_codec: name(video.caps()),
        audio_codec: info.audio_streams().first().map(|a| name(a.caps())),
        bytes,
    })
}

/// Transcodes `src` into `dst` (WebM, VP8 + Vorbis) at `size` and 30 fps, on every core;
/// blocks until done (about the film's length on a 4-core laptop for 3840×1920).
///
/// # Errors
/// [`VideoError::MissingElement`] (with its Debian package) when an encoder is missing,
/// [`VideoError::Playback`] when GStreamer stops on an error; `dst` is removed then.
pub fn transcode(src: &Path, dst: &Path, size: (u32, u32), audio: bool) -> Result<(), VideoError> {
    crate::init()?;
    let shown = src.display().to_string();
    for factory in ["vp8enc", "webmmux", "vorbisenc"] {
        if gst::ElementFactory::find(factory).is_none() {
            return Err(VideoError::MissingElement {
                element: factory.into(),
                package: crate::package_for_element(factory),
            });
        }
    }
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let bitrate = u64::from(size.0) * u64::from(size.1) * 30 / 10;
    let mut description = format!(
        "filesrc name=src ! decodebin name=d \
         d. ! queue ! videoconvert ! videoscale ! videorate ! \
         video/x-raw,format=I420,width={w},height={h},framerate=30/1,pixel-aspect-ratio=1/1 ! \
         vp8enc deadline=1 cpu-used=8 threads={threads} end-usage=vbr target-bitrate={bitrate} \
         keyframe-max-dist=30 ! queue ! webmmux name=mux ! filesink name=out",
        w = size.0,
        h = size.1,
    );
    if audio {
        description.push_str(
            " d. ! queue ! audioconvert ! audioresample ! audio/x-raw,rate=48000 ! \
             vorbisenc quality=0.4 ! queue ! mux.",
        );
    }
    let result = run_pipeline(&description, src, Some(dst), &shown);
    if result.is_err() {
        let _ = std::fs::remove_file(dst);
    }
    result
}

fn run_pipeline(
    description: &str,
    src: &Path,
    dst: Option<&Path>,
    shown: &str,
) -> Result<(), VideoError> {
    let failed = |reason: String| VideoError::Playback {
        path: shown.to_owned(),
        reason,
    };
    let pipeline = gst::parse::launch(description)
        .map_err(|e| failed(e.to_string()))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| failed("not a pipeline".into()))?;
    let set = |name: &str, path: &Path| {
        pipeline
            .by_name(name)
            .map(|e| e.set_property("location", path.to_string_lossy().to_string()))
    };
    set("src", src);
    if let Some(dst) = dst {
        set("out", dst);
    }
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| failed(e.to_string()))?;
    let bus = pipeline.bus().ok_or_else(|| failed("no bus".into()))?;
    // A long film sends no message between its start and its end: the pipeline is stalled
    // only when its position stops moving for `STALL`, however long the whole run takes.
    const STALL: Duration = Duration::from_secs(30);
    let mut progress: (Option<gst::ClockTime>, std::time::Instant) =
        (None, std::time::Instant::now());
    let outcome = loop {
        if let Some(msg) = bus.timed_pop(gst::ClockTime::from_seconds(1)) {
            match msg.view() {
                gst::MessageView::Eos(_) => break Ok(()),
                gst::MessageView::Error(e) => break Err(failed(e.error().to_string())),
                _ => {}
            }
            continue;
        }
        let position = pipeline.query_position::<gst::ClockTime>();
        if position != progress.0 {
            progress = (position, std::time::Instant::now());
        } else if progress.1.elapsed() > STALL {
            break Err(failed(format!(
                "GStreamer n'avance plus depuis {} s",
                STALL.as_secs()
            )));
        }
    };
    let _ = pipeline.set_state(gst::State::Null);
    outcome
}

/// Writes a film's poster frame as PNG: its picture at `at` (clamped into the film), scaled
/// into `max` pixels, aspect kept.
///
/// # Errors
/// As [`crate::VideoPlayer::open`] and [`crate::VideoPlayer::seek`]; [`VideoError::Playback`]
/// when no frame comes or the PNG cannot be written.
pub fn poster(src: &Path, dst: &Path, at: Duration, max: (u32, u32)) -> Result<(), VideoError> {
    let options = crate::PlayerOptions {
        max_size: Some(max),
        audio: false,
        looped: false,
        realtime: false,
    };
    let mut player = crate::VideoPlayer::open(src, &options)?;
    let failed = |reason: String| VideoError::Playback {
        path: src.display().to_string(),
        reason,
    };
    let end = player.info().duration.unwrap_or_default();
    let at = at.min(end.saturating_sub(Duration::from_millis(200)));
    // Playing, then seeking: frames keep coming after the seek, whereas a paused player's
    // one preroll frame may come before the seek clears the old one, and never again.
    player.play()?;
    if !at.is_zero() {
        player.seek(at)?;
    }
    let since = std::time::Instant::now();
    let frame = loop {
        for event in player.poll_events() {
            if let crate::VideoEvent::Error(e) = event {
                return Err(e);
            }
        }
        if let Some(frame) = player.latest_frame()
            && frame.pts + Duration::from_millis(100) >= at
        {
            break frame;
        }
        if since.elapsed() > crate::BUS_TIMEOUT {
            return Err(failed("aucune image à cet instant".into()));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let image = image::RgbaImage::from_raw(frame.width, frame.height, frame.rgba.to_vec())
        .ok_or_else(|| failed("image de taille inattendue".into()))?;
    image
        .save_with_format(dst, image::ImageFormat::Png)
        .map_err(|e| failed(format!("affiche {} : {e}", dst.display())))
}
