//! `boussole-lint import-360`: brings a film shot with a 360° camera into the content. It
//! probes the film (`boussole_video::import`), refuses what is not a 360° film, too large,
//! damaged or cut short (it decodes the whole film first), copies it under
//! `assets/films/<id>.<ext>` when it fits the headset's target profile or transcodes it to
//! `assets/films/<id>.webm` when not, writes its poster frame (`assets/films/<id>.png`) and an
//! immersion skeleton (`content/immersions/<id>.ron`) whose placeholders the linter reports
//! (`unfinished`, no ROME code, no hotspot) until they are filled.

use anyhow::{Context, Result, bail};
use boussole_content::PLACEHOLDER;
use boussole_video::import::{Layout, TargetProfile, poster, probe_film, transcode};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The poster frame's largest size, pixels.
pub const POSTER_MAX: (u32, u32) = (2048, 1024);

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// The immersion's id.
    pub id: String,
    /// The film as the headset plays it, under the media folder.
    pub film: String,
    /// Why it was transcoded (French), empty when copied as it was.
    pub transcoded: Vec<String>,
    /// The poster frame, under the media folder.
    pub poster: String,
    /// The skeleton written, or `None` when an immersion of that id exists already (left
    /// untouched).
    pub skeleton: Option<PathBuf>,
    /// Mono or stereo.
    pub layout: Layout,
}

/// A valid immersion id from a file name: lower-case ASCII letters, digits and `_`.
pub fn id_from(name: &str) -> String {
    let mut id = String::new();
    for c in boussole_content::normalise(name).chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('_') && !id.is_empty() {
            id.push('_');
        }
    }
    let id = id.trim_end_matches('_').to_owned();
    if id.is_empty() { "film_360".into() } else { id }
}

/// Imports `film` as immersion `id` (from the file name when `None`).
///
/// # Errors
/// In French, naming the file: missing, over [`TargetProfile::MAX_BYTES`], not a film, not
/// 360° (its aspect), damaged or cut short, no decoder (with the Debian package), or the
/// transcode, the poster or the skeleton could not be written. Nothing is left in the media
/// folder on an error.
pub fn import(film: &Path, id: Option<&str>, content: &Path, assets: &Path) -> Result<Imported> {
    let shown = film.display();
    let bytes = fs::metadata(film)
        .with_context(|| format!("film {shown} : introuvable"))?
        .len();
    if bytes > TargetProfile::MAX_BYTES {
        bail!(
            "film {shown} : {} Go, au-delà des {} Go qu'on importe ; raccourcissez-le ou \
             exportez-le à un débit plus faible",
            bytes >> 30,
            TargetProfile::MAX_BYTES >> 30
        );
    }
    let id = match id {
        Some(id) => {
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                bail!(
                    "identifiant {id:?} : lettres minuscules sans accent, chiffres et _ seulement"
                );
            }
            id.to_owned()
        }
        None => id_from(
            &film
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };
    let probe = probe_film(film).map_err(|e| anyhow::anyhow!("{e}"))?;
    let layout = Layout::of(probe.width, probe.height)
        .map_err(|why| anyhow::anyhow!("film {shown} : {why}"))?;
    // The whole film decodes: a copy cut short or damaged halfway is refused here.
    boussole_video::decode_whole(film).map_err(|e| anyhow::anyhow!("{e}"))?;
    let transcoded = TargetProfile::check(&probe);
    let films = assets.join("films");
    fs::create_dir_all(&films).with_context(|| format!("création de {}", films.display()))?;
    let ext = if transcoded.is_empty() {
        film.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_else(|| "webm".into())
    } else {
        "webm".into()
    };
    let dest = films.join(format!("{id}.{ext}"));
    if dest.exists() {
        bail!(
            "{} existe déjà : choisissez un autre identifiant, ou retirez l'ancien film",
            dest.display()
        );
    }
    if transcoded.is_empty() {
        fs::copy(film, &dest).with_context(|| format!("copie vers {}", dest.display()))?;
    } else {
        let size = TargetProfile::size_for(probe.width, probe.height, layout);
        transcode(film, &dest, size, probe.audio_codec.is_some())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let poster_path = films.join(format!("{id}.png"));
    let at = probe.duration.map_or(Duration::ZERO, |d| d.mul_f64(0.1));
    if let Err(e) = poster(&dest, &poster_path, at, POSTER_MAX) {
        let _ = fs::remove_file(&dest);
        bail!("{e}");
    }
    let skeleton = content.join("immersions").join(format!("{id}.ron"));
    let written = if skeleton.exists() {
        None
    } else {
        if let Some(dir) = skeleton.parent() {
            fs::create_dir_all(dir).with_context(|| format!("création de {}", dir.display()))?;
        }
        let film_rel = format!("films/{id}.{ext}");
        fs::write(
            &skeleton,
            skeleton_ron(&id, &film_rel, layout, &probe_summary(&probe)),
        )
        .with_context(|| format!("écriture de {}", skeleton.display()))?;
        Some(skeleton)
    };
    Ok(Imported {
        id: id.clone(),
        film: format!("films/{id}.{ext}"),
        transcoded,
        poster: format!("films/{id}.png"),
        skeleton: written,
        layout,
    })
}

fn probe_summary(p: &boussole_video::import::FilmProbe) -> String {
    format!(
        "{}×{}, {}, {}, {}",
        p.width,
        p.height,
        p.frame_rate
            .map_or_else(|| "cadence variable".into(), |f| format!("{f:.0} images/s")),
        p.duration.map_or_else(
            || "durée inconnue".into(),
            |d| format!("{:.0} s", d.as_secs_f64())
        ),
        p.audio_codec.as_deref().unwrap_or("sans son"),
    )
}

/// The immersion a new film starts from: every field the format needs, with placeholders the
/// linter reports until they are written, no ROME code and no hotspot (placed by looking, in
/// the headset preview).
pub fn skeleton_ron(id: &str, film: &str, layout: Layout, probe: &str) -> String {
    let stereo = matches!(layout, Layout::StereoTopBottom);
    let todo = PLACEHOLDER;
    format!(
        r#"// Écrit par boussole-lint import-360 ({probe}). À compléter : le titre, le secteur, les
// codes ROME (une lettre et quatre chiffres, ex. N1101), l'introduction, les points d'intérêt
// (chacun à une direction : yaw de -180 à 180°, pitch de -90 à 90°) et leurs textes. Le
// linter dit ce qui manque ; `boussole-lint voices` donne ensuite une voix à chaque texte.
(
    id: "{id}",
    title: (fr: "{todo} : le titre de l'immersion"),
    sector: "{todo} : le secteur",
    rome_codes: [],
    source: Video360(
        file: "{film}",
        stereo: {stereo},
        anchors: [],
    ),
    introduction: (fr: "{todo} : ce que la personne voit en arrivant"),
    hotspots: [],
    tasks: [],
    stimuli: [],
    questionnaire: (
        appeal: (fr: "Ce métier te plaît ?"),
        scale: [
            (fr: "Pas du tout", pictogram: Some("pictograms/note_1.svg")),
            (fr: "Un peu", pictogram: Some("pictograms/note_2.svg")),
            (fr: "Moyen", pictogram: Some("pictograms/note_3.svg")),
            (fr: "Beaucoup", pictogram: Some("pictograms/note_4.svg")),
            (fr: "Énormément", pictogram: Some("pictograms/note_5.svg")),
        ],
        stress: [],
        comment: (fr: "Tu veux dire quelque chose ?"),
    ),
    comfort: (posture: Seated, locomotion: SnapTurn, vignette: true, max_minutes: 8.0),
)
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_file_names() {
        assert_eq!(
            id_from("Quai n°4 — Dunkerque (2026).MP4"),
            "quai_n_4_dunkerque_2026_mp4"
        );
        assert_eq!(id_from("VID_20261207_1012"), "vid_20261207_1012");
        assert_eq!(id_from("Élagueur en forêt"), "elagueur_en_foret");
        assert_eq!(id_from("!!!"), "film_360");
    }

    #[test]
    fn the_skeleton_parses_and_the_linter_says_what_to_fill() {
        let dir = tempfile::tempdir().expect("a folder");
        let immersions = dir.path().join("immersions");
        fs::create_dir_all(&immersions).expect("folder");
        fs::write(
            immersions.join("quai.ron"),
            skeleton_ron("quai", "films/quai.webm", Layout::Mono, "3840×1920"),
        )
        .expect("written");
        let (set, report) = boussole_content::check(dir.path(), dir.path());
        assert_eq!(set.immersions.len(), 1, "{:?}", report.problems);
        let codes: Vec<String> = report
            .problems
            .iter()
            .map(|p| boussole_content::code_name(p.code))
            .collect();
        for wanted in ["unfinished", "wrong_count"] {
            assert!(codes.iter().any(|c| c == wanted), "{codes:?}");
        }
        let unfinished = report
            .problems
            .iter()
            .filter(|p| p.code == boussole_content::Code::Unfinished)
            .count();
        assert_eq!(
            unfinished, 3,
            "title, sector, introduction: {:?}",
            report.problems
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.message.contains("hotspots is empty")),
            "{:?}",
            report.problems
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.message.contains("ROME codes is empty")),
            "{:?}",
            report.problems
        );
    }
}
