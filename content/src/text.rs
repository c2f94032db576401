//! Participant-facing text: French first, with an optional recorded or generated voice and an
//! optional pictogram, so that every line can be read aloud to people who read French poorly.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A path to a media file, relative to the `assets/` folder (`"audio/attitudes/briefing.wav"`).
///
/// Validation rejects absolute paths, `..` components and backslashes, and checks that the file
/// exists under `assets/`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssetPath(pub String);

impl AssetPath {
    /// The path as written, relative to `assets/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Why this path may not name a file under `assets/`, if it may not.
    pub fn shape_problem(&self) -> Option<&'static str> {
        let p = self.0.as_str();
        if p.is_empty() {
            Some("empty path")
        } else if p.starts_with('/') {
            Some("absolute path (write it relative to assets/)")
        } else if p.contains('\\') {
            Some("backslash in path (use /)")
        } else if p
            .split('/')
            .any(|part| part == ".." || part == "." || part.is_empty())
        {
            Some("`.`, `..` or empty component in path")
        } else {
            None
        }
    }
}

impl fmt::Display for AssetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A text shown to participants.
///
/// In RON: `(fr: "Ouvrez le casier.", audio: Some("audio/x.wav"), pictogram: None)`;
/// `audio` and `pictogram` may be left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// The French text. Short sentences, FALC style (facile à lire et à comprendre).
    pub fr: String,
    /// The voice reading `fr`, under `assets/` (a WAV generated with espeak-ng, replaceable by a
    /// recorded one). `None` until one is generated; the validator lists such texts.
    #[serde(default)]
    pub audio: Option<AssetPath>,
    /// A pictogram shown beside the text, under `assets/` (SVG or PNG).
    #[serde(default)]
    pub pictogram: Option<AssetPath>,
    /// Other languages, keyed by BCP 47 tag (`"en"`, `"ar"`); French stays the reference.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, String>,
}

impl Text {
    /// A French text without voice or pictogram.
    pub fn fr(s: &str) -> Self {
        Self {
            fr: s.to_owned(),
            audio: None,
            pictogram: None,
            other: BTreeMap::new(),
        }
    }
}
