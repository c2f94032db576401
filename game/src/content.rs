//! The content the device plays: the scenarios of a content folder and the media folder next
//! to it, either shipped with the device (`--content`) or downloaded from the director.

use bevy::prelude::*;
use boussole_content::ContentSet;
use boussole_content::immersion::{Immersion, SceneSpec};
use boussole_content::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The scenarios the device can play and where their media are.
#[derive(Resource, Debug, Default, Clone)]
pub struct GameContent {
    /// Every scenario that loaded.
    pub scenarios: Vec<Arc<Scenario>>,
    /// Every job immersion that loaded (headsets).
    pub immersions: Vec<Arc<Immersion>>,
    /// Every 3D scene that loaded (headsets).
    pub scenes: Vec<Arc<SceneSpec>>,
    /// The media folder (`assets/`).
    pub assets: PathBuf,
}

/// Why content could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Files of the folder do not parse.
    #[error("contenu {dir} illisible : {problems}")]
    Unreadable {
        /// The content folder.
        dir: PathBuf,
        /// The problems, one a line.
        problems: String,
    },
}

impl GameContent {
    /// Loads the scenarios under `content`, media under `assets`.
    ///
    /// # Errors
    /// [`ContentError::Unreadable`] when a file does not parse (validation problems, which the
    /// director reports, are not checked again here).
    pub fn load(content: &Path, assets: &Path) -> Result<Self, ContentError> {
        let (set, problems) = ContentSet::load_dir(content);
        if !problems.is_empty() {
            return Err(ContentError::Unreadable {
                dir: content.to_path_buf(),
                problems: problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }
        Ok(Self {
            scenarios: set
                .scenarios
                .into_iter()
                .map(|s| Arc::new(s.value))
                .collect(),
            immersions: set
                .immersions
                .into_iter()
                .map(|i| Arc::new(i.value))
                .collect(),
            scenes: set.scenes.into_iter().map(|s| Arc::new(s.value)).collect(),
            assets: assets.to_path_buf(),
        })
    }

    /// Immersion `id`.
    pub fn immersion(&self, id: &str) -> Option<Arc<Immersion>> {
        self.immersions
            .iter()
            .find(|i| i.id.as_str() == id)
            .cloned()
    }

    /// The tutorial immersion (the first marked `tutorial`), run first for a new user.
    pub fn tutorial(&self) -> Option<Arc<Immersion>> {
        self.immersions.iter().find(|i| i.tutorial).cloned()
    }

    /// Scene `id`.
    pub fn scene(&self, id: &str) -> Option<Arc<SceneSpec>> {
        self.scenes.iter().find(|s| s.id.as_str() == id).cloned()
    }

    /// Scenario `id`.
    pub fn scenario(&self, id: &str) -> Option<Arc<Scenario>> {
        self.scenarios.iter().find(|s| s.id.as_str() == id).cloned()
    }
}
