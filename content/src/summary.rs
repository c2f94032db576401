//! A French summary of a content set, for the facilitator and for `cargo xtask demo`.

use crate::cue::CueKind;
use crate::grid::EventKind;
use crate::immersion::ImmersionSource;
use crate::load::ContentSet;
use crate::problem::Report;
use crate::rubric::Rubric;
use crate::solution::normalise;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n > 1 { many } else { one })
}

/// Summarises `set` in French: per scenario its phases, puzzles, cue list and the competencies
/// covered; per immersion its sector, ROME codes, hotspots, tasks and stress stimuli; the grids
/// and rubrics; and how many texts have a voice. `report` is the validation of `set`.
pub fn summary_fr(set: &ContentSet, report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Contenu : {}, {}, {}, {}, {}.",
        plural(set.scenarios.len(), "scénario", "scénarios"),
        plural(set.immersions.len(), "immersion", "immersions"),
        plural(set.scenes.len(), "scène 3D", "scènes 3D"),
        plural(
            set.grids.len(),
            "grille d'observation",
            "grilles d'observation"
        ),
        plural(
            set.rubrics.len(),
            "grille d'évaluation",
            "grilles d'évaluation"
        ),
    );
    let rubric_of = |id: &str| -> Option<&Rubric> {
        set.rubrics
            .iter()
            .map(|r| &r.value)
            .find(|r| r.id.as_str() == id)
    };
    let label = |r: Option<&Rubric>, id: &str| -> String {
        r.and_then(|r| r.competencies.iter().find(|c| c.id.as_str() == id))
            .map_or_else(|| id.to_owned(), |c| c.label.clone())
    };
    for doc in &set.scenarios {
        let s = &doc.value;
        let rubric = rubric_of(s.rubric.as_str());
        let _ = writeln!(
            out,
            "\nScénario « {} » — {} min, {} à {} joueurs ({} prévus)",
            s.title.fr, s.duration_minutes, s.team.min, s.team.max, s.team.nominal
        );
        let phases: Vec<&str> = s.phases.iter().map(|p| p.title.fr.as_str()).collect();
        let _ = writeln!(
            out,
            "  {} : {}",
            plural(phases.len(), "phase", "phases"),
            phases.join(", ")
        );
        let _ = writeln!(out, "  {} :", plural(s.puzzles.len(), "énigme", "énigmes"));
        for (n, p) in s.puzzles.iter().enumerate() {
            let comps: Vec<String> = p
                .competencies
                .iter()
                .map(|c| label(rubric, c.as_str()))
                .collect();
            let _ = writeln!(
                out,
                "    {}. {} — {}, ~{} min, {} ; {}",
                n + 1,
                p.title.fr,
                p.kind.label_fr(),
                p.expected_minutes,
                plural(p.hints.len(), "indice", "indices"),
                comps.join(", ")
            );
        }
        let mut kinds: BTreeMap<String, (&str, usize)> = BTreeMap::new();
        for c in &s.cues {
            kinds
                .entry(normalise(c.kind.label_fr()))
                .or_insert((c.kind.label_fr(), 0))
                .1 += 1;
        }
        let kinds: Vec<String> = kinds.values().map(|(k, n)| format!("{k} ×{n}")).collect();
        let _ = writeln!(
            out,
            "  Conduite : {} ({})",
            plural(s.cues.len(), "top", "tops"),
            kinds.join(", ")
        );
        let covered: BTreeSet<&str> = s
            .puzzles
            .iter()
            .flat_map(|p| p.competencies.iter().map(|c| c.as_str()))
            .collect();
        let mut names: Vec<String> = covered.iter().map(|c| label(rubric, c)).collect();
        names.sort_by_key(|n| normalise(n));
        let total = rubric.map_or(covered.len(), |r| r.competencies.len());
        let _ = writeln!(
            out,
            "  Compétences couvertes ({} sur {total}) : {}",
            covered.len(),
            names.join(", ")
        );
        let videos = s
            .cues
            .iter()
            .filter(|c| matches!(c.kind, CueKind::Video { .. }))
            .count();
        let _ = writeln!(
            out,
            "  Mise en place : {} ; remise en état : {} ; {} ; {}",
            plural(s.setup_checklist.len(), "point", "points"),
            plural(s.reset_checklist.len(), "point", "points"),
            plural(
                s.debrief_questions.len(),
                "question de restitution",
                "questions de restitution"
            ),
            plural(videos, "vidéo", "vidéos"),
        );
    }
    for doc in &set.immersions {
        let im = &doc.value;
        let source = match &im.source {
            ImmersionSource::Scene { .. } => "scène 3D".to_owned(),
            ImmersionSource::Video360 { .. } => "vidéo 360°".to_owned(),
        };
        let stimuli: Vec<&str> = im.stimuli.iter().map(|s| s.kind.label_fr()).collect();
        let _ = writeln!(
            out,
            "\nImmersion « {} »{} — {}{}, {}",
            im.title.fr,
            if im.tutorial { " (tutoriel)" } else { "" },
            im.sector,
            if im.rome_codes.is_empty() {
                String::new()
            } else {
                format!(" ({})", im.rome_codes.join(", "))
            },
            source
        );
        let _ = writeln!(
            out,
            "  {}, {}, contraintes : {} ; {} min au plus dans le casque",
            plural(im.hotspots.len(), "point d'intérêt", "points d'intérêt"),
            plural(im.tasks.len(), "tâche", "tâches"),
            if stimuli.is_empty() {
                "aucune".to_owned()
            } else {
                stimuli.join(", ")
            },
            im.comfort.max_minutes
        );
    }
    for doc in &set.grids {
        let g = &doc.value;
        let points = g
            .behaviours
            .iter()
            .filter(|b| b.kind == EventKind::Point)
            .count();
        let _ = writeln!(
            out,
            "\nGrille d'observation « {} » : {} ({} ponctuels, {} avec une durée : début et fin), modificateurs : {}",
            g.title,
            plural(g.behaviours.len(), "comportement", "comportements"),
            points,
            g.behaviours.len() - points,
            if g.modifier_sets.is_empty() {
                "aucun".to_owned()
            } else {
                let labels: Vec<&str> = g.modifier_sets.iter().map(|m| m.label.as_str()).collect();
                labels.join(", ")
            },
        );
    }
    for doc in &set.rubrics {
        let r = &doc.value;
        let _ = writeln!(
            out,
            "\nGrille d'évaluation « {} » : {}, {} ({})",
            r.title,
            plural(r.competencies.len(), "compétence", "compétences"),
            plural(r.levels.len(), "niveau", "niveaux"),
            r.levels.join(" / ")
        );
    }
    let texts: usize = set
        .scenarios
        .iter()
        .map(|s| s.value.texts().len())
        .sum::<usize>()
        + set
            .immersions
            .iter()
            .map(|i| i.value.texts().len())
            .sum::<usize>();
    let _ = writeln!(
        out,
        "\nVoix : {} sur {texts} textes ont un fichier audio.",
        texts.saturating_sub(report.missing_audio.len())
    );
    let _ = writeln!(
        out,
        "Vérification : {}, {}.",
        plural(report.errors(), "erreur", "erreurs"),
        plural(report.warnings(), "avertissement", "avertissements")
    );
    out
}
