//! Renders a participant's synthesis (its own document model, [`Synthesis`]: participant,
//! activities, competencies with levels and evidence in words, appetences, comment) to an A4 PDF
//! in French with typst, and a person's data for the right of access ([`DataDocument`]). It
//! knows nothing of the director, which fills the models.
//!
//! The layout lives in `synthesis.typ`; the model reaches it as JSON in `sys.inputs`, so no
//! text is ever read as typst markup. Fonts are typst's embedded ones only (Libertinus Serif),
//! never the system's, so a document looks the same on every machine.

mod data;
mod model;

pub use data::{DataDocument, DataError, DataRenderer, DataSection};

pub use model::{
    Activity, ActivityKind, Appetence, Audience, Competency, EvidenceLine, OtherEvaluation, Person,
    Sign, Status, StressSource, Synthesis,
};

use typst::foundations::{Dict, IntoValue};
use typst_as_lib::typst_kit_options::TypstKitFontOptions;
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
use typst_layout::PagedDocument;

const TEMPLATE: &str = include_str!("synthesis.typ");

/// Why a synthesis could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The model is inconsistent (a level outside the rubric's scale, a rating outside 1–5…).
    #[error("synthesis of {participant}: {problem}")]
    Invalid {
        /// The participant's pseudonym.
        participant: String,
        /// What is wrong.
        problem: String,
    },
    /// The model could not be encoded for the template.
    #[error("synthesis of {participant}: encoding the document model: {source}")]
    Encode {
        /// The participant's pseudonym.
        participant: String,
        /// The encoder's error.
        source: serde_json::Error,
    },
    /// typst refused the document (a defect of the template, reported with its diagnostics).
    #[error("synthesis of {participant}: typst: {message}")]
    Typst {
        /// The participant's pseudonym.
        participant: String,
        /// typst's diagnostics.
        message: String,
    },
}

/// Renders syntheses. Building one loads the embedded fonts (tens of milliseconds); reuse it for
/// every participant of a session.
pub struct Renderer {
    engine: TypstEngine<TypstTemplateMainFile>,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    /// A renderer with typst's embedded fonts and none of the system's.
    pub fn new() -> Self {
        Self {
            engine: engine(TEMPLATE),
        }
    }

    /// The synthesis as PDF bytes (A4, French, tagged).
    ///
    /// # Errors
    /// [`RenderError::Invalid`] when the model is inconsistent (see [`check`]), the others when
    /// typst fails (a template defect).
    pub fn pdf(&self, doc: &Synthesis) -> Result<Vec<u8>, RenderError> {
        let page = self.layout(doc)?;
        Self::to_pdf(doc, &page)
    }

    /// The synthesis laid out once, as the PDF and as one image per page (the console shows
    /// the pages in its window: it has no PDF viewer). `pixels_per_point` is the images'
    /// scale: an A4 page is 595 × 842 points, so 1.5 gives 893 × 1263 pixels.
    ///
    /// # Errors
    /// As [`Renderer::pdf`].
    pub fn render(&self, doc: &Synthesis, pixels_per_point: f64) -> Result<Rendered, RenderError> {
        let page = self.layout(doc)?;
        let pdf = Self::to_pdf(doc, &page)?;
        let options = typst_render::RenderOptions {
            pixel_per_pt: typst::utils::Scalar::new(pixels_per_point.clamp(0.25, 8.0)),
            render_bleed: false,
        };
        let pages = page
            .pages()
            .iter()
            .map(|p| {
                let pixmap = typst_render::render(p, &options);
                // tiny-skia keeps premultiplied RGBA; pages are opaque (white), so the bytes
                // are plain RGBA already, but demultiply anyway for any transparent pixel.
                let rgba = pixmap
                    .pixels()
                    .iter()
                    .flat_map(|px| {
                        let c = px.demultiply();
                        [c.red(), c.green(), c.blue(), c.alpha()]
                    })
                    .collect();
                PageImage {
                    width: pixmap.width(),
                    height: pixmap.height(),
                    rgba,
                }
            })
            .collect();
        Ok(Rendered { pdf, pages })
    }

    fn layout(&self, doc: &Synthesis) -> Result<PagedDocument, RenderError> {
        check(doc)?;
        let who = || doc.participant.pseudonym.clone();
        let json = serde_json::to_string(doc).map_err(|source| RenderError::Encode {
            participant: who(),
            source,
        })?;
        let mut inputs = Dict::new();
        inputs.insert("data".into(), json.into_value());
        self.engine
            .compile_with_input(inputs)
            .output
            .map_err(|e| RenderError::Typst {
                participant: who(),
                message: e.to_string(),
            })
    }

    fn to_pdf(doc: &Synthesis, page: &PagedDocument) -> Result<Vec<u8>, RenderError> {
        pdf_of(page).map_err(|message| RenderError::Typst {
            participant: doc.participant.pseudonym.clone(),
            message,
        })
    }
}

/// A typst engine for `template` with typst's embedded fonts and none of the system's (a
/// document looks the same on every machine).
fn engine(template: &'static str) -> TypstEngine<TypstTemplateMainFile> {
    TypstEngine::builder()
        .main_file(template)
        .search_fonts_with(
            TypstKitFontOptions::default()
                .include_system_fonts(false)
                .include_embedded_fonts(true),
        )
        .build()
}

/// A laid-out document as PDF bytes, or typst's diagnostics joined.
fn pdf_of(page: &PagedDocument) -> Result<Vec<u8>, String> {
    typst_pdf::pdf(page, &typst_pdf::PdfOptions::default()).map_err(|diags| {
        diags
            .iter()
            .map(|d| d.message.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// A synthesis laid out: the PDF and its pages as images.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The PDF's bytes.
    pub pdf: Vec<u8>,
    /// Each page, in order.
    pub pages: Vec<PageImage>,
}

/// One page as an image: `width × height` pixels, 4 bytes each (RGBA, not premultiplied), row
/// after row from the top left.
#[derive(Clone, Debug)]
pub struct PageImage {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

/// Checks the model before layout: levels within the rubric's scale (1 to `levels.len()`),
/// appeal and stress ratings within 1–5, seen counts not above their totals, a final status only
/// with both dates.
///
/// # Errors
/// [`RenderError::Invalid`] naming the first problem.
pub fn check(doc: &Synthesis) -> Result<(), RenderError> {
    let bad = |problem: String| RenderError::Invalid {
        participant: doc.participant.pseudonym.clone(),
        problem,
    };
    let n = doc.levels.len();
    if n < 2 {
        return Err(bad(format!(
            "the rubric has {n} level(s); at least 2 needed"
        )));
    }
    for c in &doc.competencies {
        for (what, l) in [("level", c.level), ("self-assessment", c.self_level)] {
            if let Some(l) = l
                && (l == 0 || usize::from(l) > n)
            {
                return Err(bad(format!(
                    "competency {}: {what} {l} outside 1..={n}",
                    c.label
                )));
            }
        }
    }
    for a in &doc.appetences {
        if a.appeal.is_some_and(|v| !(1..=5).contains(&v)) {
            return Err(bad(format!("immersion {}: appeal outside 1..=5", a.title)));
        }
        if a.hotspots.0 > a.hotspots.1 || a.tasks.0 > a.tasks.1 {
            return Err(bad(format!(
                "immersion {}: more seen or done than there are",
                a.title
            )));
        }
    }
    if let Some(s) = doc
        .stress_sources
        .iter()
        .find(|s| !(1..=5).contains(&s.rating))
    {
        return Err(bad(format!("stress {}: rating outside 1..=5", s.stimulus)));
    }
    if let Status::Final {
        restitution,
        consent,
    } = &doc.status
        && (restitution.trim().is_empty() || consent.trim().is_empty())
    {
        return Err(bad(
            "a final synthesis needs the debrief's and the consent's dates".into(),
        ));
    }
    Ok(())
}
