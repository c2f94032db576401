//! The media check: every media file the content names is decoded to its end before any
//! session, so a truncated, damaged or silent file is an error naming the file and the line
//! that names it, not a surprise mid-game.
//!
//! - Sounds and voices (Ogg Vorbis with `ogg` and `lewton`, WAV with `hound`): the whole stream
//!   decodes, an Ogg stream ends with its end-of-stream page (a file cut short does not),
//!   1 or 2 channels at 8–192 kHz, not silent (peak below [`SILENCE_PEAK`]); a voice lasts at
//!   least its text read at [`FASTEST_SPEECH`] characters a second, and warns past
//!   [`SLOWEST_SPEECH`] plus [`VOICE_PADDING`] (another text's voice?).
//! - Pictograms (SVG, `usvg`, as the game draws them): parse, with a non-empty size.
//! - Films (`boussole_video::decode_whole`, GStreamer): decode to the end; a 360° film is
//!   2:1 (mono) or 1:1 (top-bottom stereo), as the import judges it
//!   (`boussole_video::import::Layout::of`).
//!
//! Each file is decoded once per expectation, so a voice named by several texts costs once.

use boussole_content::{Code, MediaExpect, MediaUse, Problem, Severity};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

/// Peak amplitude (full scale 1.0) under which a sound counts as silent: −60 dBFS, below the
/// noise floor of any recording meant to be heard.
pub const SILENCE_PEAK: f32 = 0.001;

/// Characters a second no French speech exceeds: about twice a fast speaker's rate (French
/// read aloud runs at 12–15 characters a second, espeak-ng's default about 14). A voice
/// shorter than its text at this rate is cut short, or belongs to a shorter text.
pub const FASTEST_SPEECH: f64 = 30.0;

/// Characters a second no French reading falls under (a slow, careful reading runs at about
/// 8): with [`VOICE_PADDING`], a voice longer than this is probably another text's.
pub const SLOWEST_SPEECH: f64 = 4.0;

/// Silence allowed around a voice, seconds.
pub const VOICE_PADDING: f64 = 5.0;

/// What a sound file holds once decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AudioInfo {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Channels.
    pub channels: u16,
    /// Length.
    pub duration: Duration,
    /// The loudest sample, full scale 1.0.
    pub peak: f32,
}

/// Decodes a whole sound file: Ogg Vorbis (`.ogg`, `.oga`) or WAV (`.wav`).
///
/// # Errors
/// Why it cannot be played to its end, in English, without the path (the caller names it).
pub fn decode_audio(path: &Path) -> Result<AudioInfo, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("ogg" | "oga") => decode_ogg(path),
        Some("wav") => decode_wav(path),
        _ => Err("not a sound format the devices play (Ogg Vorbis .ogg, or .wav)".into()),
    }
}

fn open(path: &Path) -> Result<BufReader<File>, String> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| format!("cannot be read: {e}"))
}

fn decode_ogg(path: &Path) -> Result<AudioInfo, String> {
    // The container first: a stream cut short has no end-of-stream page.
    let mut packets = ogg::PacketReader::new(open(path)?);
    const CUT: &str = "the Ogg stream stops before its end (file cut short?)";
    let mut ended = false;
    loop {
        match packets.read_packet() {
            Ok(Some(packet)) => ended = packet.last_in_stream(),
            Ok(None) => break,
            Err(ogg::OggReadError::ReadError(e))
                if e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                return Err(CUT.into());
            }
            Err(e) => return Err(format!("damaged Ogg stream: {e}")),
        }
    }
    if !ended {
        return Err(CUT.into());
    }
    let mut reader = lewton::inside_ogg::OggStreamReader::new(open(path)?)
        .map_err(|e| format!("not Ogg Vorbis: {e}"))?;
    let rate = reader.ident_hdr.audio_sample_rate;
    let channels = u16::from(reader.ident_hdr.audio_channels);
    let mut samples: u64 = 0;
    let mut peak = 0.0_f32;
    loop {
        match reader.read_dec_packet_itl() {
            Ok(Some(packet)) => {
                samples += packet.len() as u64;
                for s in packet {
                    peak = peak.max(f32::from(s).abs() / 32768.0);
                }
            }
            Ok(None) => break,
            Err(e) => return Err(format!("Vorbis decoding failed: {e}")),
        }
    }
    Ok(AudioInfo {
        rate,
        channels,
        duration: length(samples, rate, channels),
        peak,
    })
}

fn decode_wav(path: &Path) -> Result<AudioInfo, String> {
    let mut reader =
        hound::WavReader::new(open(path)?).map_err(|e| format!("not a WAV file: {e}"))?;
    let spec = reader.spec();
    let mut samples: u64 = 0;
    let mut peak = 0.0_f32;
    let cut = |e: hound::Error| format!("WAV data stops before its announced length: {e}");
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for s in reader.samples::<f32>() {
                peak = peak.max(s.map_err(cut)?.abs());
                samples += 1;
            }
        }
        hound::SampleFormat::Int => {
            #[expect(
                clippy::cast_precision_loss,
                reason = "a peak to compare with -60 dBFS: 24 bits of precision are plenty"
            )]
            let full = (1_i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            for s in reader.samples::<i32>() {
                #[expect(
                    clippy::cast_precision_loss,
                    reason = "as above: an amplitude, not an exact value"
                )]
                let v = s.map_err(cut)? as f32;
                peak = peak.max(v.abs() / full);
                samples += 1;
            }
        }
    }
    Ok(AudioInfo {
        rate: spec.sample_rate,
        channels: spec.channels,
        duration: length(samples, spec.sample_rate, spec.channels),
        peak,
    })
}

/// Interleaved samples to a length.
fn length(samples: u64, rate: u32, channels: u16) -> Duration {
    let frames = samples / u64::from(channels.max(1));
    if rate == 0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(frames as f64 / f64::from(rate))
}

/// What is wrong with a decoded sound for `expect`: (code, severity, message), or `None`.
pub fn judge_audio(info: &AudioInfo, expect: &MediaExpect) -> Option<(Code, Severity, String)> {
    if !(1..=2).contains(&info.channels) || !(8_000..=192_000).contains(&info.rate) {
        return Some((
            Code::MediaMismatch,
            Severity::Error,
            format!(
                "{} channel(s) at {} Hz: the devices play 1 or 2 channels at 8 to 192 kHz",
                info.channels, info.rate
            ),
        ));
    }
    if info.duration.is_zero() {
        return Some((
            Code::CorruptMedia,
            Severity::Error,
            "no sound at all (0 s)".into(),
        ));
    }
    if info.peak < SILENCE_PEAK {
        return Some((
            Code::SilentMedia,
            Severity::Error,
            format!(
                "silent: {:.1} s whose loudest sample is below -60 dBFS",
                info.duration.as_secs_f64()
            ),
        ));
    }
    if let MediaExpect::Voice { text } = expect {
        let chars = text.chars().filter(|c| !c.is_whitespace()).count() as f64;
        let secs = info.duration.as_secs_f64();
        let shortest = chars / FASTEST_SPEECH;
        let longest = chars / SLOWEST_SPEECH + VOICE_PADDING;
        if secs < shortest {
            return Some((
                Code::MediaMismatch,
                Severity::Error,
                format!(
                    "lasts {secs:.1} s, too short to read its text of {chars} characters \
                     (at least {shortest:.1} s): cut short, or the voice of another text"
                ),
            ));
        }
        if secs > longest {
            return Some((
                Code::MediaMismatch,
                Severity::Warning,
                format!(
                    "lasts {secs:.1} s for a text of {chars} characters (at most {longest:.1} s \
                     expected): the voice of another text?"
                ),
            ));
        }
    }
    None
}

/// What is wrong with a 360° film of `width`×`height`, or `None`.
pub fn judge_film360(width: u32, height: u32, stereo: bool) -> Option<String> {
    use boussole_video::import::Layout;
    let fits = matches!(
        (Layout::of(width, height), stereo),
        (Ok(Layout::Mono), false) | (Ok(Layout::StereoTopBottom), true)
    );
    let aspect = f64::from(width) / f64::from(height.max(1));
    (!fits).then(|| {
        format!(
            "{width}x{height} (aspect {aspect:.2}), but a 360° film is equirectangular: {}",
            if stereo {
                "1:1 for top-bottom stereo (or mark it mono: `stereo: false`, 2:1)"
            } else {
                "2:1 in mono (or mark it `stereo: true` for top-bottom stereo, 1:1)"
            }
        )
    })
}

/// Decodes every file of `uses` under `assets`, on every core, and returns the problems, each
/// at the content line that first names the file, in the order of `uses`.
pub fn check(assets: &Path, uses: &[MediaUse]) -> Vec<Problem> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = uses.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = uses
            .chunks(chunk)
            .map(|part| scope.spawn(move || check_serially(assets, part)))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    })
}

fn check_serially(assets: &Path, uses: &[MediaUse]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for u in uses {
        let path = assets.join(&u.path);
        let found = match &u.expect {
            MediaExpect::Voice { .. } | MediaExpect::Sound => match decode_audio(&path) {
                Ok(info) => judge_audio(&info, &u.expect),
                Err(why) => Some((Code::CorruptMedia, Severity::Error, why)),
            },
            MediaExpect::Pictogram => pictogram(&path)
                .err()
                .map(|why| (Code::CorruptMedia, Severity::Error, why)),
            MediaExpect::Film360 { .. } | MediaExpect::Video => {
                match boussole_video::decode_whole(&path) {
                    Ok(info) => match u.expect {
                        MediaExpect::Film360 { stereo } => {
                            judge_film360(info.width, info.height, stereo)
                                .map(|why| (Code::MediaMismatch, Severity::Error, why))
                        }
                        _ => None,
                    },
                    Err(e) => Some((Code::CorruptMedia, Severity::Error, e.to_string())),
                }
            }
        };
        if let Some((code, severity, why)) = found {
            let what = match u.expect {
                MediaExpect::Voice { .. } => "voice",
                MediaExpect::Sound => "sound",
                MediaExpect::Pictogram => "pictogram",
                MediaExpect::Film360 { .. } => "360° film",
                MediaExpect::Video => "video",
            };
            problems.push(Problem {
                severity,
                code,
                file: u.file.clone(),
                line: u.line,
                column: u.column,
                id: Some(u.path.clone()),
                message: format!("{what} {:?}: {why}", u.path),
            });
        }
    }
    problems
}

/// Parses a pictogram as the game does.
fn pictogram(path: &Path) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let tree = resvg::usvg::Tree::from_data(&data, &resvg::usvg::Options::default())
        .map_err(|e| format!("not a valid SVG: {e}"))?;
    let size = tree.size();
    if size.width() <= 0.0 || size.height() <= 0.0 {
        return Err("an empty picture (width or height 0)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV of `seconds` at 8 kHz mono, samples from `f(i)`.
    fn wav(dir: &Path, name: &str, seconds: f64, f: impl Fn(usize) -> i16) -> std::path::PathBuf {
        let path = dir.join(name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).expect("a WAV writer");
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a few seconds of samples"
        )]
        let n = (seconds * 8_000.0) as usize;
        for i in 0..n {
            w.write_sample(f(i)).expect("a sample written");
        }
        w.finalize().expect("the WAV closed");
        path
    }

    fn voice(text: &str) -> MediaExpect {
        MediaExpect::Voice { text: text.into() }
    }

    #[test]
    fn a_wav_decodes_to_its_length_and_peak() {
        let dir = tempfile::tempdir().expect("a folder");
        let tone = wav(dir.path(), "tone.wav", 2.0, |i| {
            if i % 2 == 0 { 16_384 } else { -16_384 }
        });
        let info = decode_audio(&tone).expect("decodes");
        assert_eq!((info.rate, info.channels), (8_000, 1));
        assert!((info.duration.as_secs_f64() - 2.0).abs() < 1e-9);
        assert!((info.peak - 0.5).abs() < 1e-3, "{}", info.peak);
        assert_eq!(judge_audio(&info, &MediaExpect::Sound), None);
    }

    #[test]
    fn silence_truncation_and_other_formats_are_named() {
        let dir = tempfile::tempdir().expect("a folder");
        let silent = wav(dir.path(), "silent.wav", 2.0, |_| 0);
        let info = decode_audio(&silent).expect("decodes");
        let (code, severity, why) = judge_audio(&info, &MediaExpect::Sound).expect("silent");
        assert_eq!((code, severity), (Code::SilentMedia, Severity::Error));
        assert!(why.contains("silent: 2.0 s"), "{why}");
        // Cut short: the header announces more samples than the file holds.
        let tone = wav(dir.path(), "cut.wav", 2.0, |i| (i % 200) as i16 * 100);
        let bytes = std::fs::read(&tone).expect("read");
        std::fs::write(&tone, &bytes[..bytes.len() / 2 + 1]).expect("cut");
        let why = decode_audio(&tone).expect_err("cut short");
        assert!(why.contains("stops before its announced length"), "{why}");
        // An Ogg file that is not one, and a format the devices do not play.
        let fake = dir.path().join("fake.ogg");
        std::fs::write(&fake, b"OggS but not really").expect("write");
        assert!(decode_audio(&fake).is_err());
        let mp3 = dir.path().join("voice.mp3");
        std::fs::write(&mp3, b"ID3").expect("write");
        assert!(
            decode_audio(&mp3)
                .expect_err("mp3")
                .contains("Ogg Vorbis .ogg, or .wav")
        );
    }

    #[test]
    fn a_voice_must_fit_its_text() {
        let info = |secs: f64| AudioInfo {
            rate: 22_050,
            channels: 1,
            duration: Duration::from_secs_f64(secs),
            peak: 0.5,
        };
        // 52 characters without spaces: 1.7 s at the fastest, 13 s (and 5 s of silence) at
        // the slowest.
        let text = "Chaque poste a des informations que les autres n'ont pas ici.";
        assert_eq!(judge_audio(&info(4.0), &voice(text)), None);
        let (code, severity, why) = judge_audio(&info(1.0), &voice(text)).expect("too short");
        assert_eq!((code, severity), (Code::MediaMismatch, Severity::Error));
        assert!(why.contains("too short"), "{why}");
        let (_, severity, why) = judge_audio(&info(30.0), &voice(text)).expect("too long");
        assert_eq!(severity, Severity::Warning);
        assert!(why.contains("another text"), "{why}");
        // A sound has no text to fit.
        assert_eq!(judge_audio(&info(30.0), &MediaExpect::Sound), None);
        let mut six = info(3.0);
        six.channels = 6;
        assert_eq!(
            judge_audio(&six, &MediaExpect::Sound).map(|p| p.0),
            Some(Code::MediaMismatch)
        );
    }

    #[test]
    fn a_360_film_is_equirectangular() {
        assert_eq!(judge_film360(3840, 1920, false), None);
        assert_eq!(judge_film360(512, 256, false), None);
        assert_eq!(judge_film360(3840, 3840, true), None);
        let why = judge_film360(1920, 1080, false).expect("16:9");
        assert!(why.contains("1920x1080 (aspect 1.78)"), "{why}");
        assert!(why.contains("2:1"), "{why}");
        assert!(
            judge_film360(3840, 1920, true).is_some(),
            "2:1 marked stereo"
        );
        assert!(judge_film360(3840, 1920, false).is_none());
        assert!(
            judge_film360(100, 0, false).is_some(),
            "no height, no panic"
        );
    }
}
