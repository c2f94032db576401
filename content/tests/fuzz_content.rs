//! Fuzzing of the content parser and validator with proptest: arbitrary text as every kind of
//! document, and the shipped files mutated (bytes cut or inserted, RON tokens dropped in,
//! strings swapped for other ids of the same file, numbers changed) then loaded with the rest
//! of the shipped content and validated, summarised and turned into guides. Nothing panics:
//! a broken document is a located problem, a strange one a validation problem.
//!
//! The budget is proptest's: 256 cases per property unless `PROPTEST_CASES` says otherwise
//! (RELIABILITY.md gives the longer run).

use boussole_content::{
    ContentSet, DocumentKind, document_id, guide_md, summary_fr, unvoiced_texts, validate,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every shipped document: its kind, file and text.
fn shipped() -> &'static [(DocumentKind, PathBuf, String)] {
    static FILES: OnceLock<Vec<(DocumentKind, PathBuf, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut out = Vec::new();
        for kind in DocumentKind::ALL {
            let dir = root().join(kind.folder());
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "ron"))
                .collect();
            files.sort();
            for file in files {
                if let Ok(text) = std::fs::read_to_string(&file) {
                    out.push((kind, file, text));
                }
            }
        }
        out
    })
}

/// RON fragments that often keep a document parseable, or break it in telling places.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "Some(",
    "None",
    "0",
    "-1",
    "1e40",
    "NaN",
    "\"\"",
    "\"x\"",
    "// c\n",
    "/* c */",
    "r#\"raw\"#",
    "true",
    "\u{e9}",
    "\u{1F600}",
    "\\",
    "id: \"dup\",",
    "fr: \"\",",
];

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    SwapString(usize, usize),
    Number(usize, i64),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapString(a, b)),
        (any::<usize>(), any::<i64>()).prop_map(|(a, n)| Edit::Number(a, n)),
        (any::<usize>(), -3i64..5).prop_map(|(a, n)| Edit::Number(a, n)),
    ]
}

/// Byte ranges of the simple string literals of `text` (no escapes), quotes excluded.
fn strings(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c, start) {
            ('"', None) => start = Some(i + 1),
            ('"', Some(s)) => {
                out.push((s, i));
                start = None;
            }
            ('\\' | '\n', Some(_)) => start = None,
            _ => {}
        }
    }
    out
}

/// Byte ranges of the runs of ASCII digits of `text`.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, b) in text.bytes().enumerate() {
        match (b.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The nearest char boundary at or below `at`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &mut String, edit: &Edit) {
    let len = text.len().max(1);
    match *edit {
        Edit::Delete(at, n) => {
            let a = boundary(text, at % len);
            let b = boundary(text, a + n);
            text.replace_range(a..b, "");
        }
        Edit::Insert(at, t) => {
            let a = boundary(text, at % (len + 1));
            text.insert_str(a, TOKENS[t % TOKENS.len()]);
        }
        Edit::SwapString(a, b) => {
            let found = strings(text);
            if found.is_empty() {
                return;
            }
            let (to, from) = (found[a % found.len()], found[b % found.len()]);
            let value = text[from.0..from.1].to_owned();
            text.replace_range(to.0..to.1, &value);
        }
        Edit::Number(a, n) => {
            let found = numbers(text);
            if found.is_empty() {
                return;
            }
            let (s, e) = found[a % found.len()];
            text.replace_range(s..e, &n.to_string());
        }
    }
}

/// Loads the shipped content with document `index` replaced by `text`, then validates,
/// summarises and writes every scenario's guide. Returns whether the mutated file parsed.
fn load_and_check(index: usize, text: &str) -> bool {
    let mut set = ContentSet::default();
    let mut parsed = true;
    for (i, (kind, file, original)) in shipped().iter().enumerate() {
        let source = if i == index { text } else { original };
        if set.add_source(*kind, file.clone(), source).is_err() {
            set.failed.push(*kind);
            parsed &= i != index;
        }
    }
    let report = validate(&set, &root().join("../assets"));
    let _ = summary_fr(&set, &report);
    let ids: Vec<String> = set
        .scenarios
        .iter()
        .map(|s| s.value.id.to_string())
        .collect();
    for id in ids {
        let _ = guide_md(&set, &id);
    }
    let _ = unvoiced_texts(text);
    let _ = document_id(text);
    parsed
}

/// The seed of CI's cases.
const SEED: u64 = 0xC0_17E7;

/// Proptest's configuration (cases from `PROPTEST_CASES`, 256 by default) divided by
/// `divisor` for the costlier properties, with a fixed seed unless `PROPTEST_RNG_SEED` gives
/// one, so CI tries the same cases every run.
fn config(divisor: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    config.cases = (config.cases / divisor).max(1);
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    config
}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn arbitrary_text_is_a_problem_never_a_panic(text in "\\PC{0,300}") {
        for kind in DocumentKind::ALL {
            let mut set = ContentSet::default();
            if let Err(problem) = set.add_source(kind, Path::new("fuzz.ron").to_path_buf(), &text) {
                prop_assert_eq!(problem.file.as_path(), Path::new("fuzz.ron"));
            }
            let _ = validate(&set, Path::new("/nonexistent"));
        }
        let _ = unvoiced_texts(&text);
        let _ = document_id(&text);
    }

}

proptest! {
    // Each case loads and validates the whole shipped content: a quarter of the budget.
    #![proptest_config(config(4))]

    #[test]
    fn mutated_shipped_files_are_problems_never_panics(
        index in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let files = shipped();
        prop_assume!(!files.is_empty());
        let index = index % files.len();
        let mut text = files[index].2.clone();
        for e in &edits {
            apply(&mut text, e);
        }
        let _ = load_and_check(index, &text);
    }

    #[test]
    fn semantic_mutations_keep_parsing_and_validate(
        index in any::<usize>(),
        swaps in proptest::collection::vec((any::<usize>(), any::<usize>()), 1..4),
    ) {
        // Swapping ids and texts inside a file keeps it well-formed: the validator, not the
        // parser, has to deal with it.
        let files = shipped();
        prop_assume!(!files.is_empty());
        let index = index % files.len();
        let mut text = files[index].2.clone();
        for (a, b) in &swaps {
            apply(&mut text, &Edit::SwapString(*a, *b));
        }
        prop_assert!(load_and_check(index, &text), "{} stopped parsing", files[index].1.display());
    }
}
