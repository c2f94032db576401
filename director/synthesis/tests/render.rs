//! Renders hand-built syntheses and reads them back with `pdftotext` (poppler-utils, installed
//! by `cargo xtask test`): French accents intact, the sections each audience must see, the draft
//! mark, no raw numbers in the participant's view, and inconsistent models refused.

#![expect(
    clippy::expect_used,
    reason = "test helpers stop the test with what failed"
)]

use boussole_synthesis::{
    Activity, ActivityKind, Appetence, Audience, Competency, EvidenceLine, Person, RenderError,
    Renderer, Sign, Status, StressSource, Synthesis,
};
use std::process::Command;

fn sample() -> Synthesis {
    let levels: Vec<String> = ["À développer", "En progression", "Acquis", "Point fort"]
        .map(String::from)
        .to_vec();
    let ev = |when: &str, what: &str, sign| EvidenceLine {
        when: when.into(),
        context: "phase « Le quai », énigme « Le cadenas »".into(),
        what: what.into(),
        sign,
    };
    Synthesis {
        audience: Audience::Counsellor,
        status: Status::Draft,
        programme: "La Boussole de l'orientation".into(),
        organisation: "PLIE du territoire".into(),
        date: "30 novembre 2026".into(),
        participant: Person {
            shown: "Renard".into(),
            pseudonym: "Renard".into(),
        },
        activities: vec![
            Activity {
                kind: ActivityKind::EscapeGame,
                title: "S'cape attitudes".into(),
                date: "30 novembre 2026".into(),
                minutes: 48,
                description: "Six personnes cherchent ensemble à expédier une commande à temps."
                    .into(),
                shows: "la façon d'agir en groupe sous contrainte de temps".into(),
                limits: "les compétences techniques d'un métier".into(),
            },
            Activity {
                kind: ActivityKind::Immersion,
                title: "Cariste au port".into(),
                date: "30 novembre 2026".into(),
                minutes: 12,
                description: "Une journée de cariste sur un quai, en réalité virtuelle.".into(),
                shows: "l'attrait pour le métier et ce qui a semblé difficile".into(),
                limits: "la capacité à conduire un chariot".into(),
            },
        ],
        levels,
        rubric_source: "France Travail, liste des 14 savoir-être professionnels".into(),
        competencies: vec![
            Competency {
                label: "Autonomie".into(),
                definition: "Agir sans attendre qu'on le demande.".into(),
                level: Some(3),
                anchor: Some("Prend une tâche en main et va au bout sans aide.".into()),
                changed: None,
                evidence: vec![
                    ev("12 min", "explore la pièce seul·e", Sign::Positive),
                    ev("20 min", "attend une consigne", Sign::Negative),
                ],
                evidence_total: 5,
                self_level: Some(4),
            },
            Competency {
                label: "Sens de la communication".into(),
                definition: "Écouter et se faire comprendre.".into(),
                level: Some(4),
                anchor: Some("Reformule et fait circuler l'information.".into()),
                changed: Some(
                    "proposé « Acquis » ; a guidé tout le groupe en fin de partie".into(),
                ),
                evidence: vec![ev(
                    "31 min",
                    "partage une information #1 *importante*",
                    Sign::Positive,
                )],
                evidence_total: 1,
                self_level: None,
            },
            Competency {
                label: "Gestion du stress".into(),
                definition: "Rester efficace sous la pression.".into(),
                level: Some(1),
                anchor: Some("Se bloque quand le temps presse.".into()),
                changed: None,
                evidence: vec![ev("40 min", "s'agace contre le cadenas", Sign::Negative)],
                evidence_total: 1,
                self_level: Some(2),
            },
            Competency {
                label: "Persévérance".into(),
                definition: "Aller au bout malgré les difficultés.".into(),
                level: None,
                anchor: None,
                changed: None,
                evidence: vec![],
                evidence_total: 1,
                self_level: None,
            },
        ],
        strengths: vec!["Sens de la communication : point fort".into()],
        to_develop: vec!["Gestion du stress : à développer".into()],
        appetences: vec![Appetence {
            title: "Cariste au port".into(),
            sector: "Logistique portuaire".into(),
            rome_codes: vec!["N1101".into(), "N1103".into()],
            appeal: Some(5),
            appeal_words: "Ce métier lui plaît beaucoup".into(),
            hotspots: (8, 10),
            tasks: (2, 2),
            comment: Some("J'aime bouger, être dehors.".into()),
        }],
        stress_sources: vec![StressSource {
            stimulus: "le bruit des engins".into(),
            immersion: "Cariste au port".into(),
            rating: 4,
        }],
        comment: "Renard s'est beaucoup investi.\n\nÀ revoir : la gestion du temps.".into(),
        other_evaluations: vec![],
        recommendations: vec!["Stage d'observation (PMSMP) en entrepôt".into()],
        facilitator: "Animatrice du PLIE".into(),
        version: "A1B2C3D4".into(),
        replaces: None,
    }
}

/// The PDF's text, with whitespace runs collapsed (typst justifies and hyphenates lines).
/// `KEEP_PDF=path` keeps the last PDF, to look at it.
fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("s.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils; `cargo xtask test` installs it)");
    assert!(out.status.success(), "pdftotext failed");
    if let Some(keep) = std::env::var_os("KEEP_PDF") {
        std::fs::copy(&path, keep).expect("keep");
    }
    String::from_utf8(out.stdout)
        .expect("utf-8")
        // typst sets typographic apostrophes; the assertions use the plain one.
        .replace('\u{2019}', "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn counsellor_draft_has_every_section_with_accents() {
    let pdf = Renderer::new().pdf(&sample()).expect("renders");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let t = text_of(&pdf);
    for needed in [
        "Synthèse d'évaluation",
        "Brouillon — à relire avec la personne",
        "Renard",
        "S'cape attitudes",
        "Peut montrer",
        "Ne montre pas",
        "Savoir-être observés",
        "Acquis",
        "Point fort",
        "non observé",
        "Auto-évaluation",
        "Niveau ajusté par l'animateur·rice",
        "partage une information #1 *importante*",
        "Vue d'ensemble",
        "Points forts",
        "Appétences et sources de stress",
        "N1101, N1103",
        "8 sur 10",
        "le bruit des engins",
        "Pistes d'orientation",
        "Stage d'observation (PMSMP) en entrepôt",
        "À revoir : la gestion du temps.",
        "et 3 autre(s) élément(s)",
    ] {
        assert!(t.contains(needed), "missing {needed:?} in:\n{t}");
    }
}

#[test]
fn participant_view_says_the_same_without_numbers() {
    let mut doc = sample();
    doc.audience = Audience::Participant;
    let t = text_of(&Renderer::new().pdf(&doc).expect("renders"));
    for needed in [
        "Ce que nous retenons ensemble",
        "Autonomie",
        "C'est acquis",
        "C'est un vrai point fort",
        "C'est une piste de progrès",
        "Nous n'avons pas eu l'occasion d'observer : Persévérance",
        "Ce métier lui plaît beaucoup",
        "le bruit des engins",
    ] {
        assert!(t.contains(needed), "missing {needed:?} in:\n{t}");
    }
    for absent in [
        "4/4",
        "/5",
        "8 sur 10",
        "31 min",
        "40 min",
        "ROME",
        "Niveau ajusté",
    ] {
        assert!(
            !t.contains(absent),
            "the participant view shows {absent:?}:\n{t}"
        );
    }
}

#[test]
fn final_version_names_the_debrief_and_consent_and_drops_the_draft_mark() {
    let mut doc = sample();
    doc.status = Status::Final {
        restitution: "3 décembre 2026".into(),
        consent: "3 décembre 2026".into(),
    };
    let t = text_of(&Renderer::new().pdf(&doc).expect("renders"));
    assert!(t.contains("Version finale"), "{t}");
    assert!(t.contains("restitution le 3 décembre 2026"), "{t}");
    assert!(!t.contains("Brouillon"), "{t}");
}

#[test]
fn chart_only_with_three_levels_or_more() {
    let mut doc = sample();
    for c in doc.competencies.iter_mut().skip(1) {
        c.level = None;
    }
    let t = text_of(&Renderer::new().pdf(&doc).expect("renders"));
    assert!(
        !t.contains("Vue d'ensemble"),
        "a one-point chart would mislead:\n{t}"
    );
}

#[test]
fn inconsistent_models_are_refused_with_what_is_wrong() {
    let r = Renderer::new();
    let mut doc = sample();
    doc.competencies[0].level = Some(5);
    let e = r.pdf(&doc).expect_err("level 5 of 4");
    assert!(matches!(e, RenderError::Invalid { .. }), "{e}");
    assert!(
        e.to_string().contains("Autonomie: level 5 outside 1..=4"),
        "{e}"
    );

    let mut doc = sample();
    doc.appetences[0].appeal = Some(0);
    assert!(r.pdf(&doc).is_err());

    let mut doc = sample();
    doc.status = Status::Final {
        restitution: String::new(),
        consent: "3 décembre 2026".into(),
    };
    let e = r.pdf(&doc).expect_err("final without a debrief date");
    assert!(e.to_string().contains("debrief"), "{e}");
}

#[test]
fn pages_as_images_match_the_pdf_page_for_page() {
    let mut doc = sample();
    // Long enough for a second page.
    doc.comment = (0..40)
        .map(|i| format!("Paragraphe {i} du commentaire, assez long pour remplir la page.\n\n"))
        .collect();
    let renderer = Renderer::new();
    let rendered = renderer.render(&doc, 1.5).expect("renders");
    assert_eq!(
        rendered.pdf,
        renderer.pdf(&doc).expect("pdf"),
        "one layout, one PDF"
    );
    // poppler's page count is the reference.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("s.pdf");
    std::fs::write(&path, &rendered.pdf).expect("write pdf");
    let info = Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo runs");
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a page count");
    assert!(pages >= 2, "the comment should need a second page: {info}");
    assert_eq!(rendered.pages.len(), pages);
    for (i, page) in rendered.pages.iter().enumerate() {
        // A4 is 595.28 × 841.89 points.
        assert_eq!((page.width, page.height), (893, 1263), "page {i}");
        assert_eq!(page.rgba.len(), 893 * 1263 * 4);
        let dark = page
            .rgba
            .chunks_exact(4)
            .filter(|px| px[0] < 128 && px[1] < 128 && px[2] < 128)
            .count();
        assert!(dark > 1000, "page {i} looks blank ({dark} dark pixels)");
        assert!(
            page.rgba.chunks_exact(4).all(|px| px[3] == 255),
            "page {i} is opaque"
        );
    }
}

/// A person's data document: every section's words and rows are in the PDF as written, typst
/// markup in them included (it is text, never markup); a document without sections is refused.
#[test]
fn a_persons_data_document_shows_its_words_as_written() {
    use boussole_synthesis::{DataDocument, DataError, DataRenderer, DataSection};
    let doc = DataDocument {
        title: "Vos données dans la Boussole de l'orientation".into(),
        person: "Renard".into(),
        organisation: "PLIE".into(),
        made_on: "document remis le 7 décembre 2026".into(),
        sections: vec![
            DataSection {
                heading: "Qui vous êtes pour le programme".into(),
                text: vec!["Vous apparaissez sous votre pseudonyme.".into()],
                rows: vec![("Pseudonyme".into(), "Renard".into())],
            },
            DataSection {
                heading: "Séance du 30 novembre 2026 : S'cape attitudes".into(),
                text: vec!["Une note : #set page(width: 1cm) *gras* $x$ <étiquette>".into()],
                rows: vec![("12:03".into(), "Propose une idée au groupe".into())],
            },
        ],
    };
    let renderer = DataRenderer::new();
    let text = text_of(&renderer.pdf(&doc).expect("a PDF"));
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Vos données dans la Boussole de l'orientation",
        "Qui vous êtes pour le programme",
        "Pseudonyme Renard",
        "#set page(width: 1cm) *gras* $x$ <étiquette>",
        "12:03 Propose une idée au groupe",
        "document remis le 7 décembre 2026",
    ] {
        assert!(words.contains(expected), "{expected:?} not in:\n{words}");
    }
    let empty = DataDocument {
        sections: Vec::new(),
        ..doc
    };
    assert!(matches!(
        renderer.pdf(&empty),
        Err(DataError::Invalid { .. })
    ));
}
