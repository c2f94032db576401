//! Content problems: what is wrong, where (file, line, column) and which id is at fault.

use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The content cannot be played as written; the linter exits 1.
    Error,
    /// Playable, but probably not what the author meant.
    Warning,
}

/// What kind of problem, as a stable code for machines (`--json`) and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The file could not be read, or is not UTF-8.
    Io,
    /// RON syntax error, or a value of the wrong type.
    Syntax,
    /// A field the model does not have (typo?).
    UnknownField,
    /// A required field is missing.
    MissingField,
    /// An enum variant the model does not have.
    UnknownVariant,
    /// Two things of the same kind share an id (or a cue number).
    DuplicateId,
    /// A reference to an id that does not exist.
    UnknownReference,
    /// Puzzles that require each other in a circle.
    DependencyCycle,
    /// A puzzle that can never open (it requires a puzzle of a cycle).
    UnreachablePuzzle,
    /// A puzzle that requires a puzzle of a later phase.
    RequiresLaterPhase,
    /// The longest chain of puzzles needs more time than the scenario lasts.
    CriticalPathTooLong,
    /// Two behaviours or modifiers share a key.
    KeyClash,
    /// A key the console keeps for itself (GO, stop, participant digits, undo, note, help).
    ReservedKey,
    /// A hotspot anchor, primitive, light or spawn point outside the scene's bounds.
    OutsideScene,
    /// A competency that the rubric does not define.
    UnknownCompetency,
    /// A media file that is not under `assets/`.
    MissingMedia,
    /// A media path that may not name a file under `assets/` (absolute, `..`).
    BadMediaPath,
    /// A cue that acts on devices but targets none, or a role no station has.
    CueWithoutTarget,
    /// A solution that does not fit its puzzle (unknown item, incomplete order...).
    InvalidSolution,
    /// A value outside its allowed range.
    OutOfRange,
    /// A list that must not be empty is empty, or has the wrong length.
    WrongCount,
    /// The scenario's grid is built for another rubric.
    RubricMismatch,
    /// A ROME code that is not a letter followed by four digits.
    BadRomeCode,
    /// A media file that does not decode to its end: damaged, truncated, or not the format its
    /// name says (found by `boussole-lint`'s media check, not by [`crate::validate`]).
    CorruptMedia,
    /// A sound or voice file that decodes to silence.
    SilentMedia,
    /// A media file that decodes but is not what the content expects of it: a 360° film that
    /// is not equirectangular, a voice too short for its text.
    MediaMismatch,
    /// A voice made (synthesised or recorded) for another text than the one that names it now
    /// (the voices manifest says so).
    StaleVoice,
    /// A placeholder left to fill (« À compléter… », as `boussole-lint import-360` writes a
    /// new immersion's skeleton).
    Unfinished,
    /// A catalogue activity whose parts do not fit together (an evaluation run by the
    /// director, an escape game recorded from another tool, a recurring individual activity).
    ActivityMismatch,
}

/// One problem found in the content.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// What kind.
    pub code: Code,
    /// The file, as found under the content folder.
    pub file: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
    /// The id at fault, where there is one.
    pub id: Option<String>,
    /// What is wrong, in English, naming the ids involved.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let code = code_name(self.code);
        write!(
            f,
            "{}:{}:{}: {severity}[{code}]: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// The snake_case name of a code (`unknown_reference`), as `--json` writes it.
pub fn code_name(code: Code) -> String {
    let debug = format!("{code:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A participant-facing text that has neither a recorded nor a generated voice yet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MissingAudio {
    /// The file.
    pub file: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// The French text.
    pub fr: String,
}

/// How a placeholder left to fill begins (the skeletons `boussole-lint import-360` writes):
/// a text or a sector that begins so is reported as [`Code::Unfinished`].
pub const PLACEHOLDER: &str = "À compléter";

/// What the content expects of a media file it names, for the media check that decodes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaExpect {
    /// A participant text's voice: speech that says `text` (French).
    Voice {
        /// The text it reads.
        text: String,
    },
    /// A sound: a sound cue, a scene's ambience, a stimulus.
    Sound,
    /// A pictogram (SVG).
    Pictogram,
    /// A 360° film: equirectangular, mono (2:1) or top-bottom stereo (1:1).
    Film360 {
        /// Top-bottom stereo.
        stereo: bool,
    },
    /// A video cue's film (any aspect).
    Video,
}

/// A media file the content names, where it first names it, and what it expects of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MediaUse {
    /// The file, under the media folder (`audio/tutoriel/bienvenue.ogg`).
    pub path: String,
    /// What the content expects of it.
    pub expect: MediaExpect,
    /// The content file that names it first.
    pub file: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

/// Everything the validator found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Problems, sorted by file, line and column.
    pub problems: Vec<Problem>,
    /// Texts still without audio (not an error: espeak-ng can generate them).
    pub missing_audio: Vec<MissingAudio>,
    /// Files read.
    pub files: usize,
    /// Every media file named that exists under the media folder, once per file and
    /// expectation, in the order found: what `boussole-lint` decodes.
    pub media: Vec<MediaUse>,
}

impl Report {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.problems.len() - self.errors()
    }
}
