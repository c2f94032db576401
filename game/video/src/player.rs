//! The player: `filesrc ! decodebin`, then `videoscale ! videoconvert ! appsink` (RGBA) for the
//! picture and `audioconvert ! audioresample ! autoaudiosink` (or a `fakesink`) for the sound.
//! GStreamer decodes on its own threads; the appsink callback keeps only the newest frame,
//! which the render loop picks up without blocking.

use crate::error::{MissingPlugin, VideoError, classify, package_for_element};
use crate::{BUS_TIMEOUT, init};
use gst::prelude::*;
use gstreamer as gst;
use gstreamer_app as gst_app;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How a video is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerOptions {
    /// The largest frame handed out, `(width, height)` in pixels: bigger videos are scaled
    /// down (aspect kept) by `videoscale` on GStreamer's threads, so the game uploads less.
    /// `None`: the video's own size.
    pub max_size: Option<(u32, u32)>,
    /// Play the sound on the default output (`autoaudiosink`); `false` decodes and drops it.
    pub audio: bool,
    /// Start again from the beginning at the end (a looped cue) instead of ending; needs
    /// [`VideoPlayer::poll_events`] to be called (every frame in the game).
    pub looped: bool,
    /// Frames are handed out at their time on the pipeline clock (`true`, to watch); `false`
    /// decodes as fast as possible (tests, benchmarks).
    pub realtime: bool,
}

impl Default for PlayerOptions {
    fn default() -> Self {
        Self {
            max_size: None,
            audio: false,
            looped: false,
            realtime: true,
        }
    }
}

/// What a video file holds, read from its decoded streams.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoInfo {
    /// Picture width in pixels, as encoded (before any `max_size` scaling).
    pub width: u32,
    /// Picture height in pixels, as encoded.
    pub height: u32,
    /// Length, when the container says (`None` for some live or broken files).
    pub duration: Option<Duration>,
    /// Frames per second as declared; `None` when the stream declares a variable rate (0/1).
    pub frame_rate: Option<f64>,
    /// Whether the file has a decodable sound stream.
    pub has_audio: bool,
}

/// One decoded picture, RGBA 8 bits per channel, rows top to bottom, no padding
/// (`rgba.len() == width * height * 4`): what a Bevy `Image` with
/// `TextureFormat::Rgba8UnormSrgb` takes as it is.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Width in pixels (after `max_size` scaling).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Where the frame lies in the video (stream time: 0 is the file's first frame, also
    /// after a seek).
    pub pts: Duration,
    /// The pixels; shared, so handing a frame out copies no pixels.
    pub rgba: Arc<[u8]>,
    /// Counts frames stored since opening (1 for the first): a renderer skips an upload when
    /// it has not changed.
    pub sequence: u64,
}

/// Where the player stands, as the game last saw it (updated by the calls and by
/// [`VideoPlayer::poll_events`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayerState {
    /// Stopped on a frame (after `open`, `pause`, or a seek while paused).
    Paused,
    /// Frames keep coming.
    Playing,
    /// Played to the end (and not looped).
    Ended,
    /// An error stopped it; the error came as a [`VideoEvent::Error`].
    Failed,
}

/// What happened since the last [`VideoPlayer::poll_events`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VideoEvent {
    /// The end was reached (not looped).
    Ended,
    /// The end was reached and the video started again from 0 (looped).
    Looped,
    /// A seek asked with [`VideoPlayer::seek`] is done: frames now come from `position`.
    Seeked {
        /// Where it was asked to go.
        position: Duration,
    },
    /// Decoding stopped on an error (a corrupt stretch of the file, a lost plugin).
    Error(VideoError),
}

/// What the GStreamer threads share with the player.
#[derive(Default)]
struct Shared {
    /// The newest frame, and whether it was taken already.
    latest: Mutex<(Option<Frame>, bool)>,
    /// The preroll frame's pts: appsink renders it again on PLAYING, and we keep it once.
    preroll_pts: Mutex<Option<gst::ClockTime>>,
    /// Frames stored since opening.
    stored: AtomicU64,
    /// The latest pts reached, ns (set to the target on a seek): how far the file really
    /// went when it ends.
    reached_ns: AtomicU64,
    /// The decoded video pad linked to the converter (its caps give the size and rate).
    video_pad: Mutex<Option<gst::Pad>>,
    /// A sound stream was found.
    has_audio: AtomicBool,
    /// Why a decoded pad could not be linked, if it could not.
    link_error: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic on a GStreamer thread while holding the lock must not take the game down too.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The name of the application message `decodebin`'s no-more-pads sends when it found no
/// picture: without it, the appsink would wait for a preroll that never comes.
const NO_VIDEO: &str = "boussole-no-video";

/// The application message a demuxer's no-more-pads sends when it found no stream at all (a
/// file cut in its header): decodebin swallows the demuxer's error in that case, and the
/// open would otherwise wait for the timeout.
const NO_STREAMS: &str = "boussole-no-streams";

/// How much shorter than announced a file may end before it is reported as truncated:
/// containers round their duration, and the last frame starts one frame before the end.
const TRUNCATION_MARGIN: Duration = Duration::from_millis(500);

/// A video being decoded. Drop it to stop and free the pipeline.
///
/// `Send + Sync`: the game keeps it in a resource and polls it from its systems.
pub struct VideoPlayer {
    pipeline: gst::Pipeline,
    shared: Arc<Shared>,
    path: String,
    info: VideoInfo,
    looped: bool,
    /// What the game last asked for: paused or playing.
    playing: bool,
    ended: bool,
    failed: bool,
    pending_seek: Option<Duration>,
    missing: Vec<MissingPlugin>,
}

impl std::fmt::Debug for VideoPlayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoPlayer")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Reads a video's size, length, frame rate and whether it has sound, by opening it and
/// decoding its first frame (tens of milliseconds for the test videos).
///
/// # Errors
/// [`VideoError`] (French, names the file): missing file, corrupt or not a video, no decoder
/// installed (with the package), no picture; never waits more than [`BUS_TIMEOUT`].
pub fn probe(path: &Path) -> Result<VideoInfo, VideoError> {
    let options = PlayerOptions {
        realtime: false,
        ..PlayerOptions::default()
    };
    VideoPlayer::open(path, &options).map(|p| p.info().clone())
}

/// Decodes a whole video as fast as the machine can (its pictures scaled down to 64×64 at
/// most, its sound dropped): what a check before the day does, so that a file damaged or cut
/// short halfway fails there rather than mid-session. Returns what [`probe`] returns.
///
/// Takes about the file's length divided by the decoder's speed (a few seconds for a minute of
/// 1080p VP8 on one core).
///
/// # Errors
/// As [`probe`], and [`VideoError::Truncated`] for a file that ends before the length its
/// header announces, [`VideoError::Corrupt`] or [`VideoError::Playback`] for damage met on
/// the way, [`VideoError::Timeout`] when no frame comes for [`BUS_TIMEOUT`].
pub fn decode_whole(path: &Path) -> Result<VideoInfo, VideoError> {
    let options = PlayerOptions {
        max_size: Some((64, 64)),
        audio: false,
        looped: false,
        realtime: false,
    };
    let mut player = VideoPlayer::open(path, &options)?;
    player.play()?;
    let mut progress = (player.frames_decoded(), Instant::now());
    loop {
        for event in player.poll_events() {
            match event {
                VideoEvent::Ended => return Ok(player.info().clone()),
                VideoEvent::Error(e) => return Err(e),
                VideoEvent::Looped | VideoEvent::Seeked { .. } => {}
            }
        }
        let frames = player.frames_decoded();
        if frames != progress.0 {
            progress = (frames, Instant::now());
        } else if progress.1.elapsed() > BUS_TIMEOUT {
            return Err(VideoError::Timeout {
                path: player.path().to_owned(),
                seconds: BUS_TIMEOUT.as_secs(),
                waiting_for: "l'image suivante",
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn make(factory: &str) -> Result<gst::Element, VideoError> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| VideoError::MissingElement {
            element: factory.to_owned(),
            package: package_for_element(factory),
        })
}

/// The size that fits `(w, h)` into `max`, aspect kept, at least 1×1.
fn fit(w: u32, h: u32, max: Option<(u32, u32)>) -> (u32, u32) {
    let Some((mw, mh)) = max else {
        return (w, h);
    };
    if w <= mw && h <= mh || w == 0 || h == 0 {
        return (w, h);
    }
    let scale = (f64::from(mw) / f64::from(w)).min(f64::from(mh) / f64::from(h));
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "scale < 1 and sizes are positive, so the results fit in u32"
    )]
    let scaled = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    (scaled(w), scaled(h))
}

fn rgba_caps(size: Option<(u32, u32)>) -> gst::Caps {
    let mut b = gst::Caps::builder("video/x-raw")
        .field("format", "RGBA")
        .field("pixel-aspect-ratio", gst::Fraction::new(1, 1));
    if let Some((w, h)) = size {
        b = b
            .field("width", i32::try_from(w).unwrap_or(i32::MAX))
            .field("height", i32::try_from(h).unwrap_or(i32::MAX));
    }
    b.build()
}

fn caps_size(caps: &gst::CapsRef) -> Option<(u32, u32)> {
    let s = caps.structure(0)?;
    let w = u32::try_from(s.get::<i32>("width").ok()?).ok()?;
    let h = u32::try_from(s.get::<i32>("height").ok()?).ok()?;
    Some((w, h))
}

/// Copies a sample's picture into a [`Frame`] (sequence filled in by the caller).
fn frame_of(sample: &gst::Sample) -> Option<Frame> {
    let (width, height) = caps_size(sample.caps()?)?;
    let buffer = sample.buffer()?;
    let pts = buffer.pts()?;
    let pts = sample
        .segment()
        .and_then(|s| s.downcast_ref::<gst::ClockTime>())
        .and_then(|s| s.to_stream_time(pts))
        .unwrap_or(pts);
    let map = buffer.map_readable().ok()?;
    let data = map.as_slice();
    let row = usize::try_from(width).ok()? * 4;
    let rows = usize::try_from(height).ok()?;
    let rgba: Arc<[u8]> = if data.len() == row * rows {
        Arc::from(data)
    } else {
        // Rows padded to a stride: RGBA rows are 4-byte aligned already, so this is only
        // for encoders or converters that align further.
        let stride = data.len() / rows.max(1);
        if stride < row {
            return None;
        }
        data.chunks(stride)
            .take(rows)
            .flat_map(|r| &r[..row])
            .copied()
            .collect()
    };
    Some(Frame {
        width,
        height,
        pts: Duration::from_nanos(pts.nseconds()),
        rgba,
        sequence: 0,
    })
}

impl Shared {
    fn store(&self, sample: &gst::Sample, preroll: bool) {
        let pts = sample.buffer().and_then(gst::BufferRef::pts);
        {
            let mut last = lock(&self.preroll_pts);
            if preroll {
                *last = pts;
            } else if last.is_some() && *last == pts {
                // The preroll frame rendered again on PLAYING: already stored.
                *last = None;
                return;
            } else {
                *last = None;
            }
        }
        if let Some(mut frame) = frame_of(sample) {
            let ns = u64::try_from(frame.pts.as_nanos()).unwrap_or(u64::MAX);
            self.reached_ns.fetch_max(ns, Ordering::Relaxed);
            frame.sequence = self.stored.fetch_add(1, Ordering::Relaxed) + 1;
            *lock(&self.latest) = (Some(frame), false);
        }
    }

    fn clear(&self) {
        *lock(&self.latest) = (None, false);
        *lock(&self.preroll_pts) = None;
    }
}

impl VideoPlayer {
    /// Opens `path` and decodes up to its first frame (paused: [`latest_frame`] already has
    /// it). Blocks until then, at most [`BUS_TIMEOUT`]: in the game, call it off the render
    /// thread (Bevy's `AsyncComputeTaskPool`) or while a scene loads.
    ///
    /// [`latest_frame`]: Self::latest_frame
    ///
    /// # Errors
    /// [`VideoError`] as for [`probe`].
    pub fn open(path: &Path, options: &PlayerOptions) -> Result<Self, VideoError> {
        init()?;
        let shown = path.display().to_string();
        // GStreamer's own message for a missing file is "Resource not found.": say it better.
        let meta = std::fs::metadata(path).map_err(|e| VideoError::Missing {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        if !meta.is_file() {
            return Err(VideoError::Missing {
                path: shown,
                reason: "ce n'est pas un fichier".to_owned(),
            });
        }
        let location = path.to_str().ok_or_else(|| VideoError::Missing {
            path: shown.clone(),
            reason: "chemin qui n'est pas de l'UTF-8".to_owned(),
        })?;

        let pipeline = gst::Pipeline::new();
        let src = make("filesrc")?;
        src.set_property("location", location);
        let decode = make("decodebin")?;
        let convert = make("videoconvert")?;
        let scale = make("videoscale")?;
        let sink = gst_app::AppSink::builder()
            .caps(&rgba_caps(None))
            .max_buffers(1)
            .drop(true)
            .sync(options.realtime)
            .enable_last_sample(false)
            .build();
        let sink_el: &gst::Element = sink.upcast_ref();
        let build_err = |e: gst::glib::BoolError| VideoError::Playback {
            path: shown.clone(),
            reason: e.to_string(),
        };
        pipeline
            .add_many([&src, &decode, &convert, &scale, sink_el])
            .map_err(build_err)?;
        src.link(&decode).map_err(build_err)?;
        // Scale first: resizing the decoder's I420 (12 bits a pixel) costs less than RGBA's 32.
        gst::Element::link_many([&scale, &convert, sink_el]).map_err(build_err)?;

        let shared = Arc::new(Shared::default());
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_preroll({
                    let shared = Arc::clone(&shared);
                    move |s| {
                        if let Ok(sample) = s.pull_preroll() {
                            shared.store(&sample, true);
                        }
                        Ok(gst::FlowSuccess::Ok)
                    }
                })
                .new_sample({
                    let shared = Arc::clone(&shared);
                    move |s| {
                        let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        shared.store(&sample, false);
                        Ok(gst::FlowSuccess::Ok)
                    }
                })
                .build(),
        );

        let weak = pipeline.downgrade();
        let scale_sink = scale.static_pad("sink");
        let max_size = options.max_size;
        let (audio, realtime) = (options.audio, options.realtime);
        let sink_weak = sink.downgrade();
        decode.connect_pad_added({
            let shared = Arc::clone(&shared);
            move |_, pad| {
                let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
                let Some(name) = caps.structure(0).map(|s| s.name().to_string()) else {
                    return;
                };
                let result = if name.starts_with("video/") {
                    link_video(
                        pad,
                        &caps,
                        scale_sink.as_ref(),
                        sink_weak.upgrade().as_ref(),
                        max_size,
                        &shared,
                    )
                } else if name.starts_with("audio/") {
                    shared.has_audio.store(true, Ordering::Relaxed);
                    weak.upgrade()
                        .map_or(Ok(()), |p| link_audio(&p, pad, audio, realtime))
                } else {
                    Ok(())
                };
                if let Err(e) = result {
                    *lock(&shared.link_error) = Some(e);
                }
            }
        });
        let weak = pipeline.downgrade();
        decode.connect_no_more_pads({
            let shared = Arc::clone(&shared);
            move |_| {
                if lock(&shared.video_pad).is_none()
                    && let Some(p) = weak.upgrade()
                {
                    let _ = p.post_message(gst::message::Application::new(
                        gst::Structure::new_empty(NO_VIDEO),
                    ));
                }
            }
        });

        let weak = pipeline.downgrade();
        pipeline.connect_deep_element_added(move |_, _, element| {
            if !element
                .factory()
                .is_some_and(|f| f.klass().contains("Demux"))
            {
                return;
            }
            let weak = weak.clone();
            element.connect_no_more_pads(move |demux| {
                if demux.num_src_pads() == 0
                    && let Some(p) = weak.upgrade()
                {
                    let _ = p.post_message(gst::message::Application::new(
                        gst::Structure::new_empty(NO_STREAMS),
                    ));
                }
            });
        });

        let mut player = Self {
            pipeline,
            shared,
            path: shown,
            info: VideoInfo {
                width: 0,
                height: 0,
                duration: None,
                frame_rate: None,
                has_audio: false,
            },
            looped: options.looped,
            playing: false,
            ended: false,
            failed: false,
            pending_seek: None,
            missing: Vec::new(),
        };
        player.preroll()?;
        Ok(player)
    }

    /// Goes to PAUSED and waits (bounded) until the first frame is decoded or it fails.
    fn preroll(&mut self) -> Result<(), VideoError> {
        // A refused state change posts its reason on the bus: read it there.
        let _ = self.pipeline.set_state(gst::State::Paused);
        let bus = self.pipeline.bus().ok_or_else(|| VideoError::Playback {
            path: self.path.clone(),
            reason: "pipeline sans bus".to_owned(),
        })?;
        let deadline = Instant::now() + BUS_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(msg) = bus.timed_pop(gst::ClockTime::from_nseconds(
                u64::try_from(left.as_nanos()).unwrap_or(u64::MAX),
            )) else {
                return Err(self.fail(VideoError::Timeout {
                    path: self.path.clone(),
                    seconds: BUS_TIMEOUT.as_secs(),
                    waiting_for: "première image",
                }));
            };
            if let Some(m) = MissingPlugin::from_message(&msg) {
                self.missing.push(m);
                continue;
            }
            match msg.view() {
                gst::MessageView::Error(e) => {
                    let err = classify(&self.path, &e.error(), &self.missing);
                    return Err(self.fail(err));
                }
                gst::MessageView::Application(a)
                    if a.structure().is_some_and(|s| s.name() == NO_VIDEO) =>
                {
                    let err = self.no_video();
                    return Err(self.fail(err));
                }
                gst::MessageView::Application(a)
                    if a.structure().is_some_and(|s| s.name() == NO_STREAMS) =>
                {
                    let err = VideoError::Corrupt {
                        path: self.path.clone(),
                        reason: "aucun flux lisible (fichier tronqué ou abîmé)".to_owned(),
                    };
                    return Err(self.fail(err));
                }
                gst::MessageView::AsyncDone(_) => break,
                // An empty stream can end before anything prerolls.
                gst::MessageView::Eos(_) => {
                    if lock(&self.shared.video_pad).is_none() {
                        let err = self.no_video();
                        return Err(self.fail(err));
                    }
                    break;
                }
                _ => {}
            }
        }
        let link_error = lock(&self.shared.link_error).take();
        if let Some(reason) = link_error {
            return Err(self.fail(VideoError::Playback {
                path: self.path.clone(),
                reason,
            }));
        }
        let pad = lock(&self.shared.video_pad).clone();
        let Some(pad) = pad else {
            let err = self.no_video();
            return Err(self.fail(err));
        };
        let caps = pad.current_caps();
        let (width, height) = caps.as_deref().and_then(caps_size).unwrap_or((0, 0));
        let frame_rate = caps
            .as_deref()
            .and_then(|c| c.structure(0))
            .and_then(|s| s.get::<gst::Fraction>("framerate").ok())
            .filter(|f| f.numer() > 0 && f.denom() > 0)
            .map(|f| f64::from(f.numer()) / f64::from(f.denom()));
        self.info = VideoInfo {
            width,
            height,
            duration: self
                .pipeline
                .query_duration::<gst::ClockTime>()
                .map(|d| Duration::from_nanos(d.nseconds())),
            frame_rate,
            has_audio: self.shared.has_audio.load(Ordering::Relaxed),
        };
        Ok(())
    }

    /// At the end: whether the file stopped well before its announced length.
    fn truncation(&self) -> Option<VideoError> {
        let duration = self.info.duration?;
        let reached = Duration::from_nanos(self.shared.reached_ns.load(Ordering::Relaxed));
        let frame = self
            .info
            .frame_rate
            .map_or(Duration::ZERO, |fps| Duration::from_secs_f64(1.0 / fps));
        (reached + frame + TRUNCATION_MARGIN < duration).then(|| VideoError::Truncated {
            path: self.path.clone(),
            ended_at_ms: u64::try_from(reached.as_millis()).unwrap_or(u64::MAX),
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        })
    }

    fn no_video(&self) -> VideoError {
        match self.missing.first() {
            Some(m) => VideoError::NoDecoder {
                path: self.path.clone(),
                codec: m.codec.clone(),
                package: crate::error::package_for_codec(&m.codec),
            },
            None => VideoError::NoVideoStream {
                path: self.path.clone(),
            },
        }
    }

    /// Stops the pipeline after an error and hands the error back.
    fn fail(&mut self, err: VideoError) -> VideoError {
        self.failed = true;
        let _ = self.pipeline.set_state(gst::State::Null);
        err
    }

    /// The file's size, length, rate and sound, read when it was opened.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The file as given to [`open`](Self::open), for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Frames come at their time from now on (from where it stands: 0 after `open`, or the
    /// position a [`seek`](Self::seek) asked for).
    ///
    /// # Errors
    /// [`VideoError::Playback`] when GStreamer refuses (its reason also comes as an event).
    pub fn play(&mut self) -> Result<(), VideoError> {
        self.set_state(gst::State::Playing)?;
        self.playing = true;
        Ok(())
    }

    /// Holds the current frame.
    ///
    /// # Errors
    /// [`VideoError::Playback`] when GStreamer refuses.
    pub fn pause(&mut self) -> Result<(), VideoError> {
        self.set_state(gst::State::Paused)?;
        self.playing = false;
        Ok(())
    }

    /// Holds (`true`) or plays on: [`Self::pause`] or [`Self::play`].
    ///
    /// # Errors
    /// As theirs.
    pub fn set_paused(&mut self, paused: bool) -> Result<(), VideoError> {
        if paused { self.pause() } else { self.play() }
    }

    fn set_state(&self, state: gst::State) -> Result<(), VideoError> {
        self.pipeline
            .set_state(state)
            .map(drop)
            .map_err(|e| VideoError::Playback {
                path: self.path.clone(),
                reason: e.to_string(),
            })
    }

    /// Goes to `position` (from the start of the file), to the frame (accurate seek, so that
    /// headsets that start late show the same picture as the others). Works paused or
    /// playing, and after the end; frames from before the seek are dropped. Done when
    /// [`VideoEvent::Seeked`] comes. A position past the end ends the video.
    ///
    /// # Errors
    /// [`VideoError::Playback`] when the file cannot seek.
    pub fn seek(&mut self, position: Duration) -> Result<(), VideoError> {
        let at =
            gst::ClockTime::from_nseconds(u64::try_from(position.as_nanos()).unwrap_or(u64::MAX));
        self.pipeline
            .seek_simple(gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE, at)
            .map_err(|e| VideoError::Playback {
                path: self.path.clone(),
                reason: format!("déplacement à {:.3} s refusé : {e}", position.as_secs_f64()),
            })?;
        self.shared.clear();
        self.shared.reached_ns.store(
            u64::try_from(position.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.ended = false;
        self.pending_seek = Some(position);
        Ok(())
    }

    /// Seeks to `expected` when the position strays from it by more than `tolerance`
    /// (returns whether it did): the game calls it with the position the director's clock
    /// gives, `now - start_at`, so that headsets that drift come back in step.
    ///
    /// # Errors
    /// As [`seek`](Self::seek).
    pub fn resync(&mut self, expected: Duration, tolerance: Duration) -> Result<bool, VideoError> {
        if self.pending_seek.is_some() {
            return Ok(false);
        }
        let Some(now) = self.position() else {
            return Ok(false);
        };
        let drift = now.abs_diff(expected);
        if drift <= tolerance {
            return Ok(false);
        }
        self.seek(expected)?;
        Ok(true)
    }

    /// Where playback stands in the file (`None` before GStreamer knows).
    pub fn position(&self) -> Option<Duration> {
        self.pipeline
            .query_position::<gst::ClockTime>()
            .map(|p| Duration::from_nanos(p.nseconds()))
    }

    /// The newest decoded frame, if any (none right after a seek until the new one is
    /// decoded). Never blocks on decoding: the render loop calls it every frame; the same
    /// frame comes again until a newer one is decoded (compare [`Frame::sequence`]).
    pub fn latest_frame(&self) -> Option<Frame> {
        lock(&self.shared.latest).0.clone()
    }

    /// The newest frame if it was not taken yet: what a renderer uploads, once.
    pub fn take_frame(&self) -> Option<Frame> {
        let mut latest = lock(&self.shared.latest);
        if latest.1 {
            return None;
        }
        latest.1 = true;
        latest.0.clone()
    }

    /// Frames decoded and stored since opening (the appsink keeps only the newest).
    pub fn frames_decoded(&self) -> u64 {
        self.shared.stored.load(Ordering::Relaxed)
    }

    /// Where the player stands.
    pub fn state(&self) -> PlayerState {
        if self.failed {
            PlayerState::Failed
        } else if self.ended {
            PlayerState::Ended
        } else if self.playing {
            PlayerState::Playing
        } else {
            PlayerState::Paused
        }
    }

    /// What happened since the last call (never blocks): the end, a loop, a finished seek,
    /// an error. Call it every frame; a looped video restarts from here.
    pub fn poll_events(&mut self) -> Vec<VideoEvent> {
        let mut events = Vec::new();
        let Some(bus) = self.pipeline.bus() else {
            return events;
        };
        while let Some(msg) = bus.pop() {
            if let Some(m) = MissingPlugin::from_message(&msg) {
                self.missing.push(m);
                continue;
            }
            match msg.view() {
                gst::MessageView::Eos(_) => {
                    if self.looped {
                        match self.seek(Duration::ZERO) {
                            Ok(()) => {
                                // The loop is not a seek the game asked for.
                                self.pending_seek = None;
                                events.push(VideoEvent::Looped);
                            }
                            Err(e) => {
                                self.failed = true;
                                events.push(VideoEvent::Error(e));
                            }
                        }
                    } else {
                        if let Some(err) = self.truncation() {
                            events.push(VideoEvent::Error(err));
                        }
                        self.ended = true;
                        events.push(VideoEvent::Ended);
                    }
                }
                gst::MessageView::Error(e) => {
                    self.failed = true;
                    events.push(VideoEvent::Error(classify(
                        &self.path,
                        &e.error(),
                        &self.missing,
                    )));
                }
                gst::MessageView::Warning(w) => {
                    tracing::warn!(path = %self.path, "GStreamer : {}", w.error());
                }
                gst::MessageView::AsyncDone(_) => {
                    if let Some(position) = self.pending_seek.take() {
                        events.push(VideoEvent::Seeked { position });
                    }
                }
                _ => {}
            }
        }
        events
    }
}

impl Drop for VideoPlayer {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Links a decoded video pad to the scaler, the appsink's caps set to the fitted size.
fn link_video(
    pad: &gst::Pad,
    caps: &gst::Caps,
    scale_sink: Option<&gst::Pad>,
    sink: Option<&gst_app::AppSink>,
    max_size: Option<(u32, u32)>,
    shared: &Shared,
) -> Result<(), String> {
    let mut video_pad = lock(&shared.video_pad);
    if video_pad.is_some() {
        // A second picture stream (an alternate angle): only the first is shown; unlinked,
        // decodebin's multiqueue keeps it from blocking the other.
        return Ok(());
    }
    let (Some(target), Some(sink)) = (scale_sink, sink) else {
        return Err("redimensionneur vidéo absent".to_owned());
    };
    if max_size.is_some()
        && let Some((w, h)) = caps_size(caps)
    {
        sink.set_caps(Some(&rgba_caps(Some(fit(w, h, max_size)))));
    }
    pad.link(target)
        .map_err(|e| format!("flux vidéo non relié : {e:?}"))?;
    *video_pad = Some(pad.clone());
    Ok(())
}

/// Adds a sound branch for a decoded audio pad: to the default output, or decoded and
/// dropped (a `fakesink` on the same clock, so the picture's pace is the same either way).
fn link_audio(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    audio: bool,
    realtime: bool,
) -> Result<(), String> {
    let names: &[&str] = if audio {
        &["audioconvert", "audioresample", "autoaudiosink"]
    } else {
        &["fakesink"]
    };
    let mut elements = Vec::with_capacity(names.len());
    for name in names {
        elements.push(make(name).map_err(|e| e.to_string())?);
    }
    if let Some(last) = elements.last()
        && last.has_property("sync")
    {
        last.set_property("sync", realtime);
    }
    pipeline
        .add_many(&elements)
        .map_err(|e| format!("branche son : {e}"))?;
    gst::Element::link_many(&elements).map_err(|e| format!("branche son : {e}"))?;
    for e in &elements {
        e.sync_state_with_parent()
            .map_err(|e| format!("branche son : {e}"))?;
    }
    let first = elements
        .first()
        .and_then(|e| e.static_pad("sink"))
        .ok_or_else(|| "branche son sans entrée".to_owned())?;
    pad.link(&first)
        .map_err(|e| format!("flux son non relié : {e:?}"))?;
    Ok(())
}

/// A player opening on a thread of its own: GStreamer's preroll can take a few hundred
/// milliseconds, and a frozen frame in a headset is what makes people sick. Poll it each
/// frame.
pub struct Opening(Mutex<std::sync::mpsc::Receiver<Result<VideoPlayer, VideoError>>>);

impl Opening {
    /// Starts opening `path` with `options` ([`VideoPlayer::open`]) on a new thread.
    pub fn start(path: std::path::PathBuf, options: PlayerOptions) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(VideoPlayer::open(&path, &options));
        });
        Self(Mutex::new(rx))
    }

    /// `None` while it opens; then the player, or why it did not open (French, naming the
    /// file), once.
    pub fn poll(&self) -> Option<Result<VideoPlayer, String>> {
        use std::sync::mpsc::TryRecvError;
        let received = self
            .0
            .lock()
            .map_or(Err(TryRecvError::Disconnected), |rx| rx.try_recv());
        match received {
            Ok(result) => Some(result.map_err(|e| e.to_string())),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err("ouverture interrompue".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_keeps_the_aspect_and_never_grows() {
        assert_eq!(fit(1920, 960, Some((1024, 1024))), (1024, 512));
        assert_eq!(fit(512, 256, Some((1024, 1024))), (512, 256));
        assert_eq!(fit(1920, 1080, Some((1280, 720))), (1280, 720));
        assert_eq!(fit(1920, 1080, None), (1920, 1080));
    }
}
