//! Reading content files: which folder holds which kind of document, and the typed parse that
//! turns RON into the model with every syntax error located.

use crate::catalogue::Activity;
use crate::grid::ObservationGrid;
use crate::immersion::{Immersion, SceneSpec};
use crate::locate::{At, Pos, SourceIndex};
use crate::problem::{Code, Problem, Severity};
use crate::rubric::Rubric;
use crate::scenario::Scenario;
use std::fs;
use std::path::{Path, PathBuf};

/// The kinds of content documents, one per folder of the content root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocumentKind {
    /// `scenarios/*.ron`: escape games.
    Scenario,
    /// `immersions/*.ron`: job immersions.
    Immersion,
    /// `scenes/*.ron`: 3D scenes of immersions.
    Scene,
    /// `grids/*.ron`: observation grids.
    Grid,
    /// `rubrics/*.ron`: rubrics.
    Rubric,
    /// `catalogue/*.ron`: the activities the programme offers.
    Activity,
}

impl DocumentKind {
    /// Every kind, in load order.
    pub const ALL: [Self; 6] = [
        Self::Rubric,
        Self::Grid,
        Self::Scene,
        Self::Immersion,
        Self::Scenario,
        Self::Activity,
    ];

    /// The folder under the content root that holds this kind.
    pub fn folder(self) -> &'static str {
        match self {
            Self::Scenario => "scenarios",
            Self::Immersion => "immersions",
            Self::Scene => "scenes",
            Self::Grid => "grids",
            Self::Rubric => "rubrics",
            Self::Activity => "catalogue",
        }
    }
}

/// A parsed document with the file it came from.
#[derive(Clone, Debug)]
pub struct Loaded<T> {
    /// The file, as given to the loader.
    pub file: PathBuf,
    /// The document.
    pub value: T,
}

/// A content folder, parsed: every document of every kind, and the sources for locating
/// problems.
#[derive(Debug, Default)]
pub struct ContentSet {
    /// Escape games.
    pub scenarios: Vec<Loaded<Scenario>>,
    /// Job immersions.
    pub immersions: Vec<Loaded<Immersion>>,
    /// 3D scenes.
    pub scenes: Vec<Loaded<SceneSpec>>,
    /// Observation grids.
    pub grids: Vec<Loaded<ObservationGrid>>,
    /// Rubrics.
    pub rubrics: Vec<Loaded<Rubric>>,
    /// The catalogue's activities.
    pub activities: Vec<Loaded<Activity>>,
    /// The kind of each file that could not be read or parsed (left out of the set).
    pub failed: Vec<DocumentKind>,
    pub(crate) sources: Vec<(PathBuf, SourceIndex)>,
}

impl ContentSet {
    /// The scenario `id`: a content file's, or, for [`crate::scenario::IMMERSION_SESSION`],
    /// the built-in one of immersion sessions coded with the first grid. `None` when there is
    /// neither.
    pub fn scenario(&self, id: &str) -> Option<Scenario> {
        if id == crate::scenario::IMMERSION_SESSION {
            return self
                .grids
                .first()
                .map(|g| crate::scenario::immersion_session(&g.value));
        }
        self.scenarios
            .iter()
            .map(|s| &s.value)
            .find(|s| s.id.as_str() == id)
            .cloned()
    }

    /// Reads every `.ron` file under the kind folders of `root` (recursively, in name order).
    /// Returns what parsed and a problem for each file that could not be read or parsed; a
    /// broken file never stops the others from loading. Files outside the kind folders are
    /// not read.
    pub fn load_dir(root: &Path) -> (Self, Vec<Problem>) {
        let mut set = Self::default();
        let mut problems = Vec::new();
        for kind in DocumentKind::ALL {
            let mut files = Vec::new();
            collect_ron(&root.join(kind.folder()), &mut files);
            files.sort();
            for file in files {
                match fs::read(&file).map(String::from_utf8) {
                    Ok(Ok(text)) => {
                        if let Err(p) = set.add_source(kind, file, &text) {
                            problems.push(p);
                            set.failed.push(kind);
                        }
                    }
                    Ok(Err(_)) => {
                        problems.push(io_problem(&file, "file is not UTF-8 text"));
                        set.failed.push(kind);
                    }
                    Err(e) => {
                        problems.push(io_problem(&file, &format!("cannot read file: {e}")));
                        set.failed.push(kind);
                    }
                }
            }
        }
        (set, problems)
    }

    /// Parses `text` as a document of `kind` and adds it, naming it `file` in problems.
    ///
    /// # Errors
    /// A problem with the line and column of the first syntax or type error.
    pub fn add_source(
        &mut self,
        kind: DocumentKind,
        file: PathBuf,
        text: &str,
    ) -> Result<(), Problem> {
        fn parse<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T, Problem> {
            ron::Options::default()
                .from_str(text)
                .map_err(|e| parse_problem(file, &e))
        }
        match kind {
            DocumentKind::Scenario => {
                let value = parse(&file, text)?;
                self.scenarios.push(Loaded {
                    file: file.clone(),
                    value,
                });
            }
            DocumentKind::Immersion => {
                let value = parse(&file, text)?;
                self.immersions.push(Loaded {
                    file: file.clone(),
                    value,
                });
            }
            DocumentKind::Scene => {
                let value = parse(&file, text)?;
                self.scenes.push(Loaded {
                    file: file.clone(),
                    value,
                });
            }
            DocumentKind::Grid => {
                let value = parse(&file, text)?;
                self.grids.push(Loaded {
                    file: file.clone(),
                    value,
                });
            }
            DocumentKind::Rubric => {
                let value = parse(&file, text)?;
                self.rubrics.push(Loaded {
                    file: file.clone(),
                    value,
                });
            }
            DocumentKind::Activity => {
                let value = parse(&file, text)?;
                self.activities.push(Loaded {
                    file: file.clone(),
                    value,
                });
            }
        }
        self.sources.push((file, SourceIndex::new(text)));
        Ok(())
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.scenarios.len()
            + self.immersions.len()
            + self.scenes.len()
            + self.grids.len()
            + self.rubrics.len()
            + self.activities.len()
    }

    /// The catalogue's activity with this id.
    pub fn activity(&self, id: &str) -> Option<&Activity> {
        self.activities
            .iter()
            .map(|a| &a.value)
            .find(|a| a.id.as_str() == id)
    }

    /// Whether there is no document at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where `at` stands in `file` (line 1, column 1 where it cannot be found).
    pub(crate) fn position(&self, file: &Path, at: At<'_>) -> Pos {
        self.sources
            .iter()
            .find(|(f, _)| f == file)
            .map_or(Pos { line: 1, column: 1 }, |(_, idx)| idx.find(at))
    }

    /// Builds a problem in `file`, at the place `at` names.
    pub(crate) fn problem(
        &self,
        severity: Severity,
        code: Code,
        file: &Path,
        at: At<'_>,
        id: Option<&str>,
        message: String,
    ) -> Problem {
        let pos = self.position(file, at);
        Problem {
            severity,
            code,
            file: file.to_path_buf(),
            line: pos.line.max(1),
            column: pos.column.max(1),
            id: id.map(str::to_owned),
            message,
        }
    }
}

fn collect_ron(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_ron(&path, out);
        } else if path.extension().is_some_and(|e| e == "ron") {
            out.push(path);
        }
    }
}

fn io_problem(file: &Path, message: &str) -> Problem {
    Problem {
        severity: Severity::Error,
        code: Code::Io,
        file: file.to_path_buf(),
        line: 1,
        column: 1,
        id: None,
        message: message.to_owned(),
    }
}

fn parse_problem(file: &Path, e: &ron::error::SpannedError) -> Problem {
    use ron::Error as E;
    let code = match &e.code {
        E::NoSuchStructField { .. } => Code::UnknownField,
        E::MissingStructField { .. } => Code::MissingField,
        E::NoSuchEnumVariant { .. } => Code::UnknownVariant,
        _ => Code::Syntax,
    };
    let id = match &e.code {
        E::NoSuchStructField { found, .. } | E::NoSuchEnumVariant { found, .. } => {
            Some(found.clone())
        }
        E::MissingStructField { field, .. } => Some((*field).to_owned()),
        _ => None,
    };
    Problem {
        severity: Severity::Error,
        code,
        file: file.to_path_buf(),
        line: e.span.start.line.max(1),
        column: e.span.start.col.max(1),
        id,
        message: e.code.to_string(),
    }
}
