//! A person's data as a readable document (GDPR article 15, the right of access): sections of
//! plain sentences and two-column rows, laid out by `data.typ`. The director writes the words
//! (simple French); this module only checks and lays them out, with the same embedded fonts as
//! the synthesis.

use serde::{Deserialize, Serialize};
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};

const TEMPLATE: &str = include_str!("data.typ");

/// The document: a title, the person, and sections in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataDocument {
    /// « Vos données dans la Boussole de l'orientation ».
    pub title: String,
    /// The person as the document names them (their pseudonym, or their name when they are
    /// the one who receives it).
    pub person: String,
    /// The organisation that holds the data.
    pub organisation: String,
    /// When the document was made, in French words.
    pub made_on: String,
    /// The sections, in order.
    pub sections: Vec<DataSection>,
}

/// One section: a heading, sentences, then rows (a label and its value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSection {
    /// The heading.
    pub heading: String,
    /// Sentences, each a paragraph.
    pub text: Vec<String>,
    /// Rows of a two-column table: what, and its value.
    pub rows: Vec<(String, String)>,
}

/// Why the document could not be laid out.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The document has no title, no person or no section.
    #[error("document of {person:?}: {problem}")]
    Invalid {
        /// The person named.
        person: String,
        /// What is missing.
        problem: String,
    },
    /// The model could not be encoded for the template.
    #[error("document of {person:?}: encoding: {source}")]
    Encode {
        /// The person named.
        person: String,
        /// The encoder's error.
        source: serde_json::Error,
    },
    /// typst refused the document (a template defect, with its diagnostics).
    #[error("document of {person:?}: typst: {message}")]
    Typst {
        /// The person named.
        person: String,
        /// typst's diagnostics.
        message: String,
    },
}

/// Lays out [`DataDocument`]s. Building one loads the embedded fonts (tens of milliseconds).
pub struct DataRenderer {
    engine: TypstEngine<TypstTemplateMainFile>,
}

impl Default for DataRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl DataRenderer {
    /// A renderer with typst's embedded fonts and none of the system's.
    pub fn new() -> Self {
        Self {
            engine: super::engine(TEMPLATE),
        }
    }

    /// The document as PDF bytes (A4, French).
    ///
    /// # Errors
    /// [`DataError::Invalid`] for a document without title, person or section; the others
    /// when typst fails (a template defect).
    pub fn pdf(&self, doc: &DataDocument) -> Result<Vec<u8>, DataError> {
        let person = || doc.person.clone();
        let missing = [
            (doc.title.trim().is_empty(), "no title"),
            (doc.person.trim().is_empty(), "no person"),
            (doc.sections.is_empty(), "no section"),
        ];
        if let Some((_, problem)) = missing.iter().find(|(bad, _)| *bad) {
            return Err(DataError::Invalid {
                person: person(),
                problem: (*problem).to_owned(),
            });
        }
        let json = serde_json::to_string(doc).map_err(|source| DataError::Encode {
            person: person(),
            source,
        })?;
        let mut inputs = Dict::new();
        inputs.insert("data".into(), json.into_value());
        let page: typst_layout::PagedDocument = self
            .engine
            .compile_with_input(inputs)
            .output
            .map_err(|e| DataError::Typst {
                person: person(),
                message: e.to_string(),
            })?;
        super::pdf_of(&page).map_err(|message| DataError::Typst {
            person: person(),
            message,
        })
    }
}
