//! The shipped content: every `.ron` file parses, the whole set validates without errors, and
#![expect(
    clippy::expect_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]
//! every content type round-trips through RON.

use boussole_content::{ContentSet, DocumentKind, Severity, validate};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ron_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("readable folder") {
        let path = e.expect("readable entry").path();
        if path.is_dir() {
            ron_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "ron") {
            out.push(path);
        }
    }
}

fn shipped_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in DocumentKind::ALL {
        let dir = root().join(kind.folder());
        if dir.is_dir() {
            ron_files(&dir, &mut files);
        }
    }
    files.sort();
    files
}

#[test]
fn every_shipped_file_parses_naming_the_file_on_failure() {
    let files = shipped_files();
    assert!(
        files.len() >= 5,
        "expected at least one file of each kind, found {files:?}"
    );
    let (set, problems) = ContentSet::load_dir(&root());
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        problems.is_empty(),
        "shipped files that do not parse:\n{}",
        shown.join("\n")
    );
    assert_eq!(set.len(), files.len());
    for kind in DocumentKind::ALL {
        let n = match kind {
            DocumentKind::Scenario => set.scenarios.len(),
            DocumentKind::Immersion => set.immersions.len(),
            DocumentKind::Scene => set.scenes.len(),
            DocumentKind::Grid => set.grids.len(),
            DocumentKind::Rubric => set.rubrics.len(),
            DocumentKind::Activity => set.activities.len(),
        };
        assert!(n >= 1, "no shipped example of {kind:?}");
    }
}

#[test]
fn shipped_content_validates_without_errors_or_warnings() {
    let (set, _) = ContentSet::load_dir(&root());
    let report = validate(&set, &root().join("../assets"));
    let shown: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(
        report.problems.is_empty(),
        "problems in shipped content:\n{}",
        shown.join("\n")
    );
    assert_eq!(report.errors(), 0);
}

#[test]
fn no_ron_file_sits_outside_the_kind_folders() {
    // A file in a misspelt folder would silently never be loaded.
    let mut all = Vec::new();
    for e in fs::read_dir(root()).expect("content root") {
        let path = e.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() && !matches!(name, "src" | "tests" | "target") {
            ron_files(&path, &mut all);
        }
    }
    all.sort();
    assert_eq!(
        all,
        shipped_files(),
        "RON files outside scenarios/, immersions/, scenes/, grids/, rubrics/"
    );
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(file: &Path, value: &T) {
    let text = ron::ser::to_string_pretty(value, ron::ser::PrettyConfig::default());
    assert!(
        text.is_ok(),
        "{}: cannot serialise: {text:?}",
        file.display()
    );
    let text = text.unwrap_or_default();
    let back: Result<T, _> = ron::from_str(&text);
    assert!(
        back.is_ok(),
        "{}: serialised form does not parse: {back:?}\n{text}",
        file.display()
    );
    assert_eq!(
        back.ok().as_ref(),
        Some(value),
        "{} changes through a RON round trip",
        file.display()
    );
}

#[test]
fn every_content_type_round_trips_through_ron() {
    let (set, _) = ContentSet::load_dir(&root());
    for d in &set.scenarios {
        round_trip(&d.file, &d.value);
    }
    for d in &set.immersions {
        round_trip(&d.file, &d.value);
    }
    for d in &set.scenes {
        round_trip(&d.file, &d.value);
    }
    for d in &set.grids {
        round_trip(&d.file, &d.value);
    }
    for d in &set.rubrics {
        round_trip(&d.file, &d.value);
    }
}

#[test]
fn texts_keep_other_languages_through_a_round_trip() {
    let text: boussole_content::text::Text =
        ron::from_str(r#"(fr: "Bonjour", other: {"en": "Hello", "ar": "مرحبا"})"#).expect("parses");
    assert_eq!(text.other.get("ar").map(String::as_str), Some("مرحبا"));
    round_trip(Path::new("inline"), &text);
}

#[test]
fn summary_is_french_and_names_what_is_shipped() {
    let (set, _) = ContentSet::load_dir(&root());
    let report = validate(&set, &root().join("../assets"));
    let summary = boussole_content::summary_fr(&set, &report);
    for scenario in &set.scenarios {
        assert!(
            summary.contains(&scenario.value.title.fr),
            "summary lacks {}",
            scenario.value.title.fr
        );
        for p in &scenario.value.puzzles {
            assert!(
                summary.contains(&p.title.fr),
                "summary lacks puzzle {}",
                p.title.fr
            );
        }
    }
    assert!(summary.contains("Compétences couvertes"));
    assert!(summary.contains("0 erreur"));
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.severity != Severity::Error)
    );
}
