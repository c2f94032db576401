//! The broken-content corpus: every file under `tests/broken/<kind>/` is added to the shipped
#![expect(
    clippy::expect_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]
//! content and must yield exactly the problems its `// expect: code line:column` header lines
//! name, in that file, and nothing may panic.

use boussole_content::{ContentSet, DocumentKind, code_name, validate};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn expectations(text: &str) -> BTreeSet<(String, usize, usize)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("// expect: "))
        .map(|rest| {
            let (code, pos) = rest
                .split_once(' ')
                .expect("expect line: `code line:column`");
            let (line, col) = pos.split_once(':').expect("expect position: `line:column`");
            (
                code.to_owned(),
                line.parse().expect("line"),
                col.parse().expect("column"),
            )
        })
        .collect()
}

fn broken_files() -> Vec<(DocumentKind, PathBuf)> {
    let mut out = Vec::new();
    for kind in DocumentKind::ALL {
        let dir = root().join("tests/broken").join(kind.folder());
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = e.expect("readable corpus folder").path();
            if path.extension().is_some_and(|x| x == "ron") {
                out.push((kind, path));
            }
        }
    }
    out.sort();
    out
}

fn problems_of(kind: DocumentKind, path: &Path, text: &str) -> Vec<boussole_content::Problem> {
    let (mut set, shipped_problems) = ContentSet::load_dir(&root());
    assert!(
        shipped_problems.is_empty(),
        "shipped content must parse: {shipped_problems:?}"
    );
    match set.add_source(kind, path.to_path_buf(), text) {
        Err(parse_problem) => vec![parse_problem],
        Ok(()) => validate(&set, &root().join("../assets")).problems,
    }
}

#[test]
fn corpus_has_at_least_twenty_cases() {
    assert!(
        broken_files().len() >= 20,
        "only {} broken files",
        broken_files().len()
    );
}

#[test]
fn every_broken_file_gets_exactly_its_expected_problems() {
    let mut failures = Vec::new();
    for (kind, path) in broken_files() {
        let text = fs::read_to_string(&path).expect("corpus file is UTF-8");
        let expected = expectations(&text);
        assert!(
            !expected.is_empty(),
            "{} has no `// expect:` line",
            path.display()
        );
        let problems = problems_of(kind, &path, &text);
        let elsewhere: Vec<String> = problems
            .iter()
            .filter(|p| p.file != path)
            .map(ToString::to_string)
            .collect();
        let got: BTreeSet<(String, usize, usize)> = problems
            .iter()
            .filter(|p| p.file == path && p.severity == boussole_content::Severity::Error)
            .map(|p| (code_name(p.code), p.line, p.column))
            .collect();
        if got != expected || !elsewhere.is_empty() {
            let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
            failures.push(format!(
                "{}\n  expected {expected:?}\n  got      {got:?}\n  problems:\n    {}",
                path.display(),
                shown.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_problem_names_the_id_or_field_at_fault() {
    for (kind, path) in broken_files() {
        let text = fs::read_to_string(&path).expect("corpus file is UTF-8");
        for p in problems_of(kind, &path, &text) {
            if p.code != boussole_content::Code::Syntax {
                assert!(
                    p.id.as_deref().is_some_and(|id| !id.is_empty()),
                    "{p} names no id"
                );
            }
        }
    }
}

#[test]
fn truncated_files_never_panic() {
    // Every prefix of every broken and shipped file is a fresh malformed input.
    let mut files = broken_files();
    for kind in DocumentKind::ALL {
        for e in fs::read_dir(root().join(kind.folder())).expect("shipped folder") {
            files.push((kind, e.expect("entry").path()));
        }
    }
    for (kind, path) in files {
        let text = fs::read_to_string(&path).expect("corpus file is UTF-8");
        let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(37).collect();
        for cut in cuts {
            // Alone in a set: whether the cut file parses or not, validation must not panic.
            let mut set = ContentSet::default();
            if set.add_source(kind, path.clone(), &text[..cut]).is_ok() {
                let _ = validate(&set, &root().join("../assets"));
            }
        }
    }
}
