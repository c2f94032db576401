//! `boussole-lint voices`: gives every participant text a voice. Texts written without `audio`
//! get `audio: Some("audio/<document>/<slug>-<hash>.ogg")` inserted right after their `fr`
//! string (the rest of the file is left byte for byte); then every voice file that is named but
//! missing is synthesised with espeak-ng's French voice and encoded to Ogg Vorbis by oggenc.
//! A recorded voice replaces a generated one by overwriting its file.

use anyhow::{Context, Result, bail};
use boussole_content::{DocumentKind, check, document_id, normalise, unvoiced_texts};
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
    let (set, _) = check(content, assets);
    let mut wanted: Vec<(String, String)> = Vec::new();
    let texts = set
        .scenarios
        .iter()
        .flat_map(|s| s.value.texts())
        .chain(set.immersions.iter().flat_map(|i| i.value.texts()));
    for t in texts {
        if let Some(a) = &t.audio
            && a.shape_problem().is_none()
            && !assets.join(a.as_str()).is_file()
            && !wanted.iter().any(|(p, _)| p == a.as_str())
        {
            wanted.push((a.as_str().to_owned(), t.fr.clone()));
        }
    }
    for (path, fr) in &wanted {
        println!("voice {path}: {fr:?}");
        if !dry_run {
            synthesise(fr, &assets.join(path)).with_context(|| format!("synthesising {path}"))?;
        }
    }
    println!(
        "{inserted} audio fields added, {} voice files {}",
        wanted.len(),
        if dry_run {
            "to synthesise"
        } else {
            "synthesised"
        }
    );
    Ok(true)
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
