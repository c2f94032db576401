//! Typed model of everything Boussole plays, and its validator.
//!
//! Content lives in RON files under a content root, one folder per kind of document
//! (`scenarios/`, `immersions/`, `scenes/`, `grids/`, `rubrics/`), and refers to media under
//! `assets/`. Loading is two passes: a typed parse ([`ContentSet::load_dir`]) that locates
//! syntax errors, then [`validate`], which returns every semantic problem at once.
//!
//! ```no_run
//! let report = boussole_content::check(
//!     std::path::Path::new("content"),
//!     std::path::Path::new("assets"),
//! );
//! for p in &report.problems {
//!     eprintln!("{p}");
//! }
//! ```

pub mod cue;
pub mod grid;
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

pub use load::{ContentSet, DocumentKind, Loaded};
pub use locate::Pos;
pub use problem::{Code, MissingAudio, Problem, Report, Severity, code_name};
pub use solution::{Answer, normalise};
pub use summary::summary_fr;
pub use validate::validate;

use std::path::Path;

/// Loads `root` and validates it against the media under `assets`.
///
/// Where a file does not parse, the report holds every parse problem and no semantic ones
/// (they would mostly be echoes of the missing document).
pub fn check(root: &Path, assets: &Path) -> Report {
    let (set, parse_problems) = ContentSet::load_dir(root);
    if parse_problems.is_empty() {
        validate(&set, assets)
    } else {
        Report {
            files: set.len() + parse_problems.len(),
            problems: parse_problems,
            missing_audio: Vec::new(),
        }
    }
}
