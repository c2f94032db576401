//! Typed model of everything Boussole plays, and its validator.
//!
//! Content lives in RON files under a content root, one folder per kind of document
//! (`scenarios/`, `immersions/`, `scenes/`, `grids/`, `rubrics/`, `catalogue/`), and refers to media under
//! `assets/`. Loading is two passes: a typed parse ([`ContentSet::load_dir`]) that locates
//! syntax errors, then [`validate`], which returns every semantic problem at once.
//!
//! ```no_run
//! let (_set, report) = boussole_content::check(
//!     std::path::Path::new("content"),
//!     std::path::Path::new("assets"),
//! );
//! for p in &report.problems {
//!     eprintln!("{p}");
//! }
//! ```

pub mod catalogue;
pub mod cue;
pub mod grid;
mod guide;
pub mod ids;
pub mod immersion;
mod load;
mod locate;
mod problem;
pub mod puzzle;
pub mod rubric;
pub mod scenario;
mod solution;
mod summary;
pub mod text;
mod validate;

pub use guide::guide_md;
pub use load::{ContentSet, DocumentKind, Loaded};
pub use locate::{Pos, UnvoicedText, document_id, unvoiced_texts};
pub use problem::{
    Code, MediaExpect, MediaUse, MissingAudio, PLACEHOLDER, Problem, Report, Severity, code_name,
};
pub use solution::{Answer, normalise};
pub use summary::summary_fr;
pub use validate::validate;

use std::path::Path;

/// Loads `root` and validates it against the media under `assets`: every problem at once.
///
/// A file that does not parse gives its syntax problem and is left out of the set; the other
/// files are still validated. Where a rubric, grid or scene failed to parse, references to
/// missing ids are not reported: they would mostly be echoes of the broken file.
pub fn check(root: &Path, assets: &Path) -> (ContentSet, Report) {
    let (set, parse_problems) = ContentSet::load_dir(root);
    let mut report = validate(&set, assets);
    let referenced_kind_failed = set.failed.iter().any(|kind| {
        matches!(
            kind,
            DocumentKind::Rubric | DocumentKind::Grid | DocumentKind::Scene
        )
    });
    if referenced_kind_failed {
        report.problems.retain(|p| {
            !matches!(
                p.code,
                Code::UnknownReference | Code::UnknownCompetency | Code::RubricMismatch
            )
        });
    }
    report.files += parse_problems.len();
    report.problems.extend(parse_problems);
    report
        .problems
        .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    (set, report)
}
