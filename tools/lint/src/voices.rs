//! `boussole-lint voices`: gives every participant text a voice. Texts written without `audio`
//! get `audio: Some("audio/<document>/<slug>-<hash>.ogg")` inserted right after their `fr`
//! string (the rest of the file is left byte for byte); then every voice file that is named but
//! missing is synthesised with espeak-ng's French voice and encoded to Ogg Vorbis by oggenc.
//!
//! **The voices manifest** (`assets/audio/voices.ron`, [`VoiceManifest`]) says, for each voice
//! file, the text it reads (a hash), the file's own hash, and whether it is synthetic (and from
//! which engine) or recorded (by whom, when). The pass never overwrites a recorded voice: a
//! synthetic voice whose text changed is made again, a recorded one is reported (record it
//! again). A voice file replaced by hand since the manifest saw it is kept as recorded.
//! `voice-script` writes the numbered lines a speaker records ([`write_script`]);
//! `voice-import` adds the recordings of a folder of files named by those numbers
//! ([`import`]). The check reports a voice whose text changed since it was made
//! ([`stale_voices`]).

use crate::media;
use anyhow::{Context, Result, bail};
use boussole_content::{
    Code, DocumentKind, MediaExpect, MediaUse, Problem, Severity, check, document_id, normalise,
    unvoiced_texts,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs the whole pass; returns whether every text ended up with a voice file.
pub fn run(content: &Path, assets: &Path, dry_run: bool) -> Result<bool> {
    if !dry_run {
        for tool in ["espeak-ng", "oggenc"] {
            let found = Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok();
            if !found {
                bail!(
                    "{tool} is not installed (Debian: espeak-ng, vorbis-tools; `cargo xtask voices` installs them)"
                );
            }
        }
    }
    let mut inserted = 0;
    for kind in [DocumentKind::Scenario, DocumentKind::Immersion] {
        for file in ron_files(&content.join(kind.folder())) {
            let src =
                fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let doc = document_id(&src)
                .or_else(|| file.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
                .unwrap_or_else(|| "texte".to_owned());
            let texts = unvoiced_texts(&src);
            if texts.is_empty() {
                continue;
            }
            let mut out = src.clone();
            for t in texts.iter().rev() {
                let path = voice_path(&doc, &t.fr);
                out.insert_str(t.insert_at, &format!(", audio: Some(\"{path}\")"));
            }
            println!("{}: {} texts get a voice", file.display(), texts.len());
            inserted += texts.len();
            if !dry_run {
                fs::write(&file, out).with_context(|| format!("writing {}", file.display()))?;
            }
        }
    }
    let mut manifest = VoiceManifest::load(assets)?;
    let mut made = 0;
    let mut adopted = 0;
    let mut kept_by_hand = 0;
    let mut stale_recorded = Vec::new();
    for (path, fr) in voiced_texts(content, assets) {
        let file = assets.join(&path);
        let text = text_hash(&fr);
        let entry = manifest.voices.get(&path).cloned();
        let exists = file.is_file();
        let synthesise_here = match (&entry, exists) {
            (_, false) => true,
            (None, true) => {
                // Made before the manifest existed: the pass made it (hand recordings came
                // with voice-import since).
                adopted += 1;
                manifest.voices.insert(
                    path.clone(),
                    VoiceEntry {
                        text: text.clone(),
                        file: file_hash(&file)?,
                        origin: Origin::Synthetic {
                            engine: ENGINE.into(),
                        },
                    },
                );
                false
            }
            (Some(e), true) => {
                let now = file_hash(&file)?;
                if now != e.file && matches!(e.origin, Origin::Synthetic { .. }) {
                    // Overwritten by hand: a recording. It reads the text as it is now.
                    kept_by_hand += 1;
                    println!("voice {path}: replaced by hand since it was made; kept as recorded");
                    manifest.voices.insert(
                        path.clone(),
                        VoiceEntry {
                            text: text.clone(),
                            file: now,
                            origin: Origin::Recorded {
                                speaker: "inconnu".into(),
                                date: today(),
                            },
                        },
                    );
                    false
                } else if e.text != text {
                    match &e.origin {
                        Origin::Synthetic { .. } => true,
                        Origin::Recorded { speaker, date } => {
                            stale_recorded.push(format!(
                                "voice {path}: recorded by {speaker} on {date} for another text;                                  record {fr:?} again (voice-script, voice-import)"
                            ));
                            false
                        }
                    }
                } else {
                    false
                }
            }
        };
        if synthesise_here {
            println!("voice {path}: {fr:?}");
            made += 1;
            if !dry_run {
                synthesise(&fr, &file).with_context(|| format!("synthesising {path}"))?;
                manifest.voices.insert(
                    path.clone(),
                    VoiceEntry {
                        text,
                        file: file_hash(&file)?,
                        origin: Origin::Synthetic {
                            engine: ENGINE.into(),
                        },
                    },
                );
            }
        }
    }
    if !dry_run {
        manifest.save(assets)?;
    }
    for line in &stale_recorded {
        println!("{line}");
    }
    println!(
        "{inserted} audio fields added, {made} voice files {}, {adopted} existing voices added \
         to the manifest, {kept_by_hand} kept as recorded, {} recorded voices to record again",
        if dry_run {
            "to synthesise"
        } else {
            "synthesised"
        },
        stale_recorded.len()
    );
    Ok(stale_recorded.is_empty())
}

/// What the voices manifest calls espeak-ng as [`synthesise`] runs it.
const ENGINE: &str = "espeak-ng fr, 150 mots/min, Ogg Vorbis q0 16 kHz";

/// The voices manifest's path under the media folder.
pub const MANIFEST: &str = "audio/voices.ron";

/// The voices manifest (`assets/audio/voices.ron`): each voice file (path under the media
/// folder) and how it was made.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VoiceManifest {
    /// By path under the media folder.
    pub voices: BTreeMap<String, VoiceEntry>,
}

/// One voice file in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoiceEntry {
    /// [`text_hash`] of the French text it reads.
    pub text: String,
    /// SHA-256 of the file, hex: a file replaced by hand shows.
    pub file: String,
    /// Synthetic or recorded.
    pub origin: Origin,
}

/// How a voice was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Origin {
    /// By a speech synthesiser; made again when its text changes.
    Synthetic {
        /// Which, with its settings.
        engine: String,
    },
    /// Recorded by a person; never overwritten.
    Recorded {
        /// Who read it (as given at the import).
        speaker: String,
        /// When it was imported, `YYYY-MM-DD`.
        date: String,
    },
}

impl VoiceManifest {
    /// Reads `<assets>/audio/voices.ron`; none yet is an empty manifest.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed (it is never overwritten then: it may hold
    /// who recorded what).
    pub fn load(assets: &Path) -> Result<Self> {
        let path = assets.join(MANIFEST);
        match fs::read_to_string(&path) {
            Ok(text) => ron::from_str(&text)
                .with_context(|| format!("{}: not a voices manifest", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes it back, pretty, in a temporary file renamed over the old one.
    ///
    /// # Errors
    /// The folder cannot be written.
    pub fn save(&self, assets: &Path) -> Result<()> {
        let path = assets.join(MANIFEST);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .context("encoding the voices manifest")?;
        let tmp = path.with_extension("ron.tmp");
        fs::write(&tmp, format!("// Voices: what each file reads and how it was made. Written by boussole-lint voices / voice-import.\n{text}\n"))
            .with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }
}

/// The hash of a French text as the manifest keeps it: the first 16 hex digits of its SHA-256.
pub fn text_hash(fr: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(fr.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_hash(path: &Path) -> Result<String> {
    use sha2::Digest as _;
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Today, `YYYY-MM-DD` (UTC).
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    time::Date::from_julian_day(2_440_588 + i32::try_from(days).unwrap_or(0))
        .map_or_else(|_| "?".into(), |d| d.to_string())
}

/// Every voice a text names (path, French text), once per path, in the content's order.
fn voiced_texts(content: &Path, assets: &Path) -> Vec<(String, String)> {
    let (set, _) = check(content, assets);
    let mut out: Vec<(String, String)> = Vec::new();
    let texts = set
        .scenarios
        .iter()
        .flat_map(|s| s.value.texts())
        .chain(set.immersions.iter().flat_map(|i| i.value.texts()));
    for t in texts {
        if let Some(a) = &t.audio
            && a.shape_problem().is_none()
            && !out.iter().any(|(p, _)| p == a.as_str())
        {
            out.push((a.as_str().to_owned(), t.fr.clone()));
        }
    }
    out
}

/// The check's part: every voice the content names whose manifest entry was made for another
/// text (an error: participants would hear something else than what they read).
pub fn stale_voices(assets: &Path, uses: &[MediaUse]) -> Vec<Problem> {
    let manifest = match VoiceManifest::load(assets) {
        Ok(m) => m,
        Err(e) => {
            return vec![Problem {
                severity: Severity::Error,
                code: Code::StaleVoice,
                file: assets.join(MANIFEST),
                line: 1,
                column: 1,
                id: Some(MANIFEST.into()),
                message: format!("{e:#}"),
            }];
        }
    };
    let mut out = Vec::new();
    for u in uses {
        let MediaExpect::Voice { text } = &u.expect else {
            continue;
        };
        let Some(entry) = manifest.voices.get(&u.path) else {
            continue;
        };
        if entry.text == text_hash(text) {
            continue;
        }
        let (how, fix) = match &entry.origin {
            Origin::Synthetic { .. } => {
                ("synthesised", "run `boussole-lint voices` to make it again")
            }
            Origin::Recorded { .. } => (
                "recorded",
                "record it again (`boussole-lint voice-script`, then `voice-import`)",
            ),
        };
        let who = match &entry.origin {
            Origin::Recorded { speaker, date } => format!(" by {speaker} on {date}"),
            Origin::Synthetic { .. } => String::new(),
        };
        out.push(Problem {
            severity: Severity::Error,
            code: Code::StaleVoice,
            file: u.file.clone(),
            line: u.line,
            column: u.column,
            id: Some(u.path.clone()),
            message: format!(
                "voice {:?} was {how}{who} for another text: the text changed since; {fix}",
                u.path
            ),
        });
    }
    out
}

/// Writes the recording script: every voice that still needs a human voice (not recorded yet,
/// or recorded for a text since changed; with `all`, every voice), numbered from 0001 in the
/// content's order, each text on its line and its file below in brackets. Returns how many.
///
/// # Errors
/// The manifest is unreadable, or the script cannot be written.
pub fn write_script(content: &Path, assets: &Path, out: &Path, all: bool) -> Result<usize> {
    let manifest = VoiceManifest::load(assets)?;
    let lines: Vec<(String, String)> = voiced_texts(content, assets)
        .into_iter()
        .filter(|(path, fr)| {
            all || !manifest.voices.get(path).is_some_and(|e| {
                matches!(e.origin, Origin::Recorded { .. }) && e.text == text_hash(fr)
            })
        })
        .collect();
    let mut text = format!(
        "Script d'enregistrement des voix — Boussole — {}\n\
         Lisez chaque ligne calmement, à voix claire. Enregistrez-la dans un fichier nommé par \
         son numéro : 0001.wav (ou .ogg), 0002.wav…\n\
         Le chemin entre crochets sert à l'import ; ne le lisez pas.\n\n",
        today()
    );
    for (n, (path, fr)) in lines.iter().enumerate() {
        text.push_str(&format!("{:04}  {fr}\n      [{path}]\n\n", n + 1));
    }
    fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    Ok(lines.len())
}

/// One line of a recording script: its number, text and voice file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptLine {
    /// From 1.
    pub number: u32,
    /// The French text read.
    pub fr: String,
    /// The voice file, under the media folder.
    pub path: String,
}

/// Reads a script written by [`write_script`].
///
/// # Errors
/// A numbered line without its file line below.
pub fn read_script(text: &str) -> Result<Vec<ScriptLine>> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() != 4 || !line[4..].starts_with("  ") {
            continue;
        }
        let number: u32 = digits.parse().context("a line number")?;
        let fr = line[6..].to_owned();
        let path = lines
            .next()
            .map(|(_, l)| l.trim())
            .and_then(|l| l.strip_prefix('[')?.strip_suffix(']'))
            .with_context(|| {
                format!(
                    "script line {}: {number:04} has no [file] line below",
                    i + 1
                )
            })?;
        out.push(ScriptLine {
            number,
            fr,
            path: path.to_owned(),
        });
    }
    Ok(out)
}

/// Adds the recordings in `from` (files named by the script's numbers: `0007.wav`, `7.ogg`)
/// as the voices of `script`'s lines, recorded by `speaker`: each is checked as a voice
/// (decodes, not silent, long enough for its text), WAV is encoded to Ogg Vorbis, and the
/// manifest marks it recorded. A recording whose line's text changed since the script, that
/// fails the check, or whose number is not in the script is refused with its reason and
/// nothing written for it. Returns (imported, refused reasons).
///
/// # Errors
/// The script or the folder cannot be read, the manifest cannot be read or written.
pub fn import(
    content: &Path,
    assets: &Path,
    script: &Path,
    from: &Path,
    speaker: &str,
) -> Result<(usize, Vec<String>)> {
    if speaker.trim().is_empty() {
        bail!("say who recorded the voices (the speaker's name)");
    }
    let text =
        fs::read_to_string(script).with_context(|| format!("reading {}", script.display()))?;
    let lines = read_script(&text)?;
    let current: BTreeMap<String, String> = voiced_texts(content, assets).into_iter().collect();
    let mut manifest = VoiceManifest::load(assets)?;
    let mut files: Vec<PathBuf> = fs::read_dir(from)
        .with_context(|| format!("reading {}", from.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let (mut imported, mut refused) = (0, Vec::new());
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(number) = file
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u32>().ok())
        else {
            refused.push(format!("{name}: not named by a script number (0001.wav…)"));
            continue;
        };
        let Some(line) = lines.iter().find(|l| l.number == number) else {
            refused.push(format!("{name}: the script has no line {number:04}"));
            continue;
        };
        if current.get(&line.path) != Some(&line.fr) {
            refused.push(format!(
                "{name}: the text of line {number:04} changed since the script was written \
                 (or no text names {}): write the script again",
                line.path
            ));
            continue;
        }
        let info = match media::decode_audio(&file) {
            Ok(info) => info,
            Err(why) => {
                refused.push(format!("{name}: {why}"));
                continue;
            }
        };
        let expect = MediaExpect::Voice {
            text: line.fr.clone(),
        };
        if let Some((_, Severity::Error, why)) = media::judge_audio(&info, &expect) {
            refused.push(format!("{name}: {why}"));
            continue;
        }
        let dest = assets.join(&line.path);
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let is_wav = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
        let written = if is_wav {
            encode_ogg(&file, &dest)
        } else {
            fs::copy(&file, &dest)
                .map(|_| ())
                .with_context(|| format!("copying to {}", dest.display()))
        };
        if let Err(e) = written {
            refused.push(format!("{name}: {e:#}"));
            continue;
        }
        manifest.voices.insert(
            line.path.clone(),
            VoiceEntry {
                text: text_hash(&line.fr),
                file: file_hash(&dest)?,
                origin: Origin::Recorded {
                    speaker: speaker.trim().to_owned(),
                    date: today(),
                },
            },
        );
        imported += 1;
    }
    manifest.save(assets)?;
    Ok((imported, refused))
}

/// A recording in WAV to Ogg Vorbis at quality 4 (its own rate and channels kept).
fn encode_ogg(wav: &Path, out: &Path) -> Result<()> {
    let status = Command::new("oggenc")
        .args(["-Q", "-q", "4", "-o"])
        .arg(out)
        .arg(wav)
        .status()
        .context("starting oggenc (Debian: vorbis-tools)")?;
    if !status.success() {
        bail!("oggenc failed on {}", wav.display());
    }
    Ok(())
}

/// `audio/<document>/<first words>-<hash>.ogg`: readable, stable for a given text, and
/// different for different texts.
fn voice_path(doc: &str, fr: &str) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut slug = String::new();
    for word in normalise(fr).split(' ') {
        let word: String = word.chars().filter(char::is_ascii_alphanumeric).collect();
        if word.is_empty() {
            continue;
        }
        if slug.len() + word.len() > 32 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    if slug.is_empty() {
        slug.push_str("texte");
    }
    // FNV-1a, 64 bits: stable across runs and platforms, unlike std's hasher.
    let hash = fr.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("audio/{}/{slug}-{:08x}.ogg", safe(doc), hash as u32)
}

fn synthesise(fr: &str, out: &Path) -> Result<()> {
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir)?;
    }
    let wav = std::env::temp_dir().join(format!("boussole-voice-{}.wav", std::process::id()));
    let mut espeak = Command::new("espeak-ng")
        .args(["-v", "fr", "-s", "150", "-w"])
        .arg(&wav)
        .stdin(Stdio::piped())
        .spawn()
        .context("starting espeak-ng")?;
    espeak
        .stdin
        .take()
        .context("espeak-ng stdin")?
        .write_all(fr.as_bytes())?;
    if !espeak.wait()?.success() {
        bail!("espeak-ng failed");
    }
    let status = Command::new("oggenc")
        .args(["-Q", "-q", "0", "--resample", "16000", "-o"])
        .arg(out)
        .arg(&wav)
        .status()
        .context("starting oggenc")?;
    let _ = fs::remove_file(&wav);
    if !status.success() {
        bail!("oggenc failed");
    }
    Ok(())
}

fn ron_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ron") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_paths_are_readable_stable_and_distinct() {
        let a = voice_path(
            "scape_attitudes",
            "Choisis ce que tu portes pour travailler ici.",
        );
        assert_eq!(
            a,
            voice_path(
                "scape_attitudes",
                "Choisis ce que tu portes pour travailler ici."
            )
        );
        assert!(
            a.starts_with("audio/scape_attitudes/choisis-ce-que-tu-portes-pour-"),
            "{a}"
        );
        assert!(a.ends_with(".ogg"));
        assert_ne!(
            a,
            voice_path(
                "scape_attitudes",
                "Choisis ce que tu portes pour travailler là."
            )
        );
        let odd = voice_path("x y/..", "!!!");
        assert!(odd.starts_with("audio/x_y___/texte-"), "{odd}");
        let asset = boussole_content::text::AssetPath(odd);
        assert_eq!(asset.shape_problem(), None);
    }
}
