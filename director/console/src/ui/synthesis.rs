//! The synthesis screen: a person of the register (found by typing part of their pseudonym),
//! the document's audience (the counsellor's, or the participant's view for the debrief), draft
//! or final, with the name or the pseudonym; « Afficher la synthèse » asks the director for the
//! document model (it reads the person's sessions across weeks and logs the access), the window
//! lays it out with the PDF's own renderer and shows its pages as images, one at a time; « Enregistrer
//! le PDF… » saves that same PDF in a folder chosen in the window (removable drives first).
//!
//! The window has no PDF viewer and the facilitator no shell: every step is here.

use super::folders::{self, Chooser, Place};
use super::{ConsoleAction, NOTICE, Output};
use crate::i18n::{Locale, tr};
use boussole_director::register::{RegisterEntry, RegisterView};
use boussole_director::store::SynthesisEvent;
use boussole_director::synthesis::{SynthesisAsk, SynthesisReply, SynthesisRequest};
use boussole_synthesis::{Audience, Renderer};
use egui::{Color32, RichText, Ui};
use std::sync::Arc;

/// Pixels per typographic point of the pages shown (an A4 page is 893 × 1263 pixels).
const PIXELS_PER_POINT: f64 = 1.5;

/// The widest a page is drawn, points of the window (the image is 893 pixels wide: at the
/// window's scale of 1 it is drawn nearly pixel for pixel).
const PAGE_WIDTH: f32 = 800.0;

/// How many persons the search lists at once.
const LISTED: usize = 8;

/// A synthesis laid out: the answer it comes from, its PDF and its pages.
#[derive(Clone)]
pub struct Preview {
    /// The director's answer laid out.
    pub reply: Arc<SynthesisReply>,
    /// The PDF's bytes (what « Enregistrer » writes).
    pub pdf: Arc<Vec<u8>>,
    /// Each page, as a texture of the window.
    pub pages: Vec<egui::TextureHandle>,
}

/// The screen's state, kept across frames.
#[derive(Clone, Default)]
pub struct SynthesisState {
    /// The person chosen (register id).
    pub person: Option<String>,
    /// What is typed to find a person.
    pub search: String,
    /// The participant's view (for the debrief) instead of the counsellor's document.
    pub participant_view: bool,
    /// The final version.
    pub final_version: bool,
    /// The name instead of the pseudonym.
    pub with_name: bool,
    /// The request last sent.
    pub asked: Option<SynthesisRequest>,
    /// The laid-out answer to it.
    pub preview: Option<Preview>,
    /// Why the answer could not be laid out (or the director's refusal).
    pub problem: Option<String>,
    /// The page shown, from 0.
    pub page: usize,
    /// The folder chooser, while open.
    pub chooser: Option<Chooser>,
    /// The last file saved, or why saving failed (`Err`).
    pub saved: Option<Result<std::path::PathBuf, String>>,
}

impl std::fmt::Debug for SynthesisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynthesisState")
            .field("person", &self.person)
            .field("asked", &self.asked)
            .field("pages", &self.preview.as_ref().map(|p| p.pages.len()))
            .field("page", &self.page)
            .field("problem", &self.problem)
            .finish_non_exhaustive()
    }
}

impl PartialEq for SynthesisState {
    fn eq(&self, other: &Self) -> bool {
        self.person == other.person
            && self.search == other.search
            && self.participant_view == other.participant_view
            && self.final_version == other.final_version
            && self.with_name == other.with_name
            && self.asked == other.asked
            && self.page == other.page
            && self.problem == other.problem
            && self.chooser == other.chooser
            && self.saved == other.saved
            && self.preview.as_ref().map(|p| p.reply.request.ticket)
                == other.preview.as_ref().map(|p| p.reply.request.ticket)
    }
}

impl SynthesisState {
    /// Opens the screen on `person` (from the evaluation screen), asking for nothing yet.
    pub fn open_on(&mut self, person: &str) {
        if self.person.as_deref() != Some(person) {
            self.person = Some(person.to_owned());
            self.preview = None;
            self.problem = None;
            self.saved = None;
            self.chooser = None;
        }
    }
}

thread_local! {
    /// One renderer for the window (it loads the embedded fonts once).
    static RENDERER: Renderer = Renderer::new();
}

fn active(register: &RegisterView) -> impl Iterator<Item = &RegisterEntry> {
    register
        .persons
        .iter()
        .filter(|p| !p.archived && p.merged_into.is_none())
}

/// The synthesis screen. `reply` is the director's last answer to this console.
pub fn synthesis(
    ui: &mut Ui,
    register: &RegisterView,
    reply: Option<&SynthesisReply>,
    state: &mut super::ConsoleState,
) -> Vec<Output> {
    let l = state.locale;
    let places = state.places.clone();
    let s = &mut state.synthesis;
    let mut out = Vec::new();
    lay_out(ui.ctx(), s, reply);
    // The choices on the left, the page on the right at (nearly) its own size: at 1366×768
    // the page's text is read without zooming.
    ui.horizontal_top(|ui| {
        let controls = (ui.available_width() - PAGE_WIDTH - 24.0).clamp(360.0, 560.0);
        let mut shown = None;
        ui.vertical(|ui| {
            ui.set_width(controls);
            egui::ScrollArea::vertical()
                .id_salt("synthese-choix")
                .show(ui, |ui| {
                    shown = choices(ui, register, s, places.as_deref(), &mut out, l);
                });
        });
        if let Some(preview) = shown {
            ui.vertical(|ui| pages(ui, s, &preview, l));
        }
    });
    out
}

/// The person, the options, « Afficher », what came back and « Enregistrer »; returns the
/// preview to show beside, if it is the chosen person's.
fn choices(
    ui: &mut Ui,
    register: &RegisterView,
    s: &mut SynthesisState,
    places: Option<&[Place]>,
    out: &mut Vec<Output>,
    l: Locale,
) -> Option<Preview> {
    ui.heading(tr!(l, "synth-title"));
    person_picker(ui, register, s, l);
    let person = s.person.clone()?;
    ui.add_space(6.0);
    ui.radio_value(
        &mut s.participant_view,
        false,
        tr!(l, "synth-for-counsellor"),
    );
    ui.radio_value(
        &mut s.participant_view,
        true,
        tr!(l, "synth-for-participant"),
    );
    ui.checkbox(&mut s.final_version, tr!(l, "synth-final"));
    ui.checkbox(&mut s.with_name, tr!(l, "synth-with-name"));
    let wanted = SynthesisRequest {
        person: person.clone(),
        audience: if s.participant_view {
            Audience::Participant
        } else {
            Audience::Counsellor
        },
        final_version: s.final_version,
        with_name: s.with_name,
        ticket: 0,
    };
    let waiting = s
        .asked
        .as_ref()
        .is_some_and(|a| s.preview.as_ref().is_none_or(|p| p.reply.request != *a))
        && s.problem.is_none();
    ui.add_space(6.0);
    ui.horizontal_wrapped(|ui| {
        if ui
            .button(RichText::new(tr!(l, "synth-show")).strong())
            .clicked()
        {
            let ticket = s.asked.as_ref().map_or(1, |a| a.ticket + 1);
            let request = SynthesisRequest {
                ticket,
                ..wanted.clone()
            };
            s.asked = Some(request.clone());
            s.problem = None;
            s.saved = None;
            s.chooser = None;
            out.push(Output::Action(ConsoleAction::Synthesis(
                SynthesisAsk::Show(request),
            )));
        }
        if waiting {
            ui.spinner();
            ui.label(tr!(l, "synth-waiting"));
        }
    });
    if let Some(problem) = &s.problem {
        ui.label(RichText::new(problem).color(Color32::from_rgb(200, 40, 40)));
    }
    let preview = s.preview.clone()?;
    let request = &preview.reply.request;
    if request.person != person {
        return None;
    }
    let stale = SynthesisRequest {
        ticket: 0,
        ..request.clone()
    } != wanted;
    if stale {
        ui.label(RichText::new(tr!(l, "synth-stale")).color(NOTICE));
    }
    ui.add_space(6.0);
    save(ui, s, &preview, places, l);
    ui.separator();
    if let Some(ask) = consent(ui, &preview.reply, l) {
        out.push(Output::Action(ConsoleAction::Synthesis(ask)));
        // Then the synthesis again: the answer shows in the ledger.
        let ticket = s.asked.as_ref().map_or(1, |a| a.ticket + 1);
        let again = SynthesisRequest {
            ticket,
            ..preview.reply.request.clone()
        };
        s.asked = Some(again.clone());
        out.push(Output::Action(ConsoleAction::Synthesis(
            SynthesisAsk::Show(again),
        )));
    }
    Some(preview)
}

/// The person's answer on the version shown, and the hand-over of its final: the version,
/// the latest answer (for this version or an earlier one), the buttons, the finals and
/// hand-overs so far.
fn consent(ui: &mut Ui, reply: &SynthesisReply, l: Locale) -> Option<SynthesisAsk> {
    if reply.version.is_empty() {
        return None;
    }
    let version = reply.version.as_str();
    ui.label(RichText::new(tr!(l, "synth-consent-title", version = version)).strong());
    let last = reply.ledger.iter().rev().find(|e| e.event.is_consent());
    let date = |at: i64| boussole_director::record::date_fr(at);
    let (text, colour) = match last {
        None => (tr!(l, "synth-consent-none"), NOTICE),
        Some(e) if e.version != version => (
            tr!(
                l,
                "synth-consent-old",
                date = date(e.at_unix_ms),
                version = e.version.as_str()
            ),
            NOTICE,
        ),
        Some(e) => match e.event {
            SynthesisEvent::ConsentGiven => (
                tr!(l, "synth-consent-given", date = date(e.at_unix_ms)),
                Color32::from_rgb(40, 160, 70),
            ),
            SynthesisEvent::ConsentRefused => (
                tr!(l, "synth-consent-refused", date = date(e.at_unix_ms)),
                Color32::from_rgb(200, 40, 40),
            ),
            _ => (
                tr!(l, "synth-consent-withdrawn", date = date(e.at_unix_ms)),
                Color32::from_rgb(200, 40, 40),
            ),
        },
    };
    ui.label(RichText::new(text).color(colour));
    let given_here =
        last.is_some_and(|e| e.event == SynthesisEvent::ConsentGiven && e.version == version);
    let mut asked = None;
    let ask = |event| SynthesisAsk::Record {
        person: reply.request.person.clone(),
        version: version.to_owned(),
        event,
    };
    ui.horizontal_wrapped(|ui| {
        if !given_here && ui.button(tr!(l, "synth-consent-give")).clicked() {
            asked = Some(ask(SynthesisEvent::ConsentGiven));
        }
        if ui.button(tr!(l, "synth-consent-refuse")).clicked() {
            asked = Some(ask(SynthesisEvent::ConsentRefused));
        }
        if given_here && ui.button(tr!(l, "synth-consent-withdraw")).clicked() {
            asked = Some(ask(SynthesisEvent::ConsentWithdrawn));
        }
    });
    let final_here = reply
        .ledger
        .iter()
        .any(|e| e.event == SynthesisEvent::FinalWritten && e.version == version);
    if final_here && given_here {
        let handed = reply
            .ledger
            .iter()
            .filter(|e| e.event == SynthesisEvent::HandedOver && e.version == version)
            .count();
        if ui
            .button(tr!(
                l,
                "synth-hand-over",
                prescriber = reply.prescriber.as_str()
            ))
            .clicked()
        {
            asked = Some(ask(SynthesisEvent::HandedOver));
        }
        if handed > 0 {
            ui.label(RichText::new(tr!(l, "synth-handed", count = handed)).small());
        }
    }
    let history: Vec<String> = reply
        .ledger
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                SynthesisEvent::FinalWritten | SynthesisEvent::HandedOver
            )
        })
        .map(|e| match e.event {
            SynthesisEvent::FinalWritten => tr!(
                l,
                "synth-history-final",
                version = e.version.as_str(),
                date = date(e.at_unix_ms)
            ),
            _ => tr!(
                l,
                "synth-history-handed",
                version = e.version.as_str(),
                date = date(e.at_unix_ms),
                to = e.detail.as_str()
            ),
        })
        .collect();
    for line in history {
        ui.label(RichText::new(line).small());
    }
    asked
}

/// Lays out a fresh answer to the request asked (once per answer).
fn lay_out(ctx: &egui::Context, s: &mut SynthesisState, reply: Option<&SynthesisReply>) {
    let (Some(asked), Some(reply)) = (&s.asked, reply) else {
        return;
    };
    if reply.request != *asked
        || s.preview
            .as_ref()
            .is_some_and(|p| p.reply.request == *asked)
        || s.problem.is_some()
    {
        return;
    }
    let doc = match &reply.outcome {
        Ok(doc) => doc,
        Err(why) => {
            s.problem = Some(why.clone());
            return;
        }
    };
    match RENDERER.with(|r| r.render(doc, PIXELS_PER_POINT)) {
        Ok(rendered) => {
            let pages = rendered
                .pages
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let image = egui::ColorImage::from_rgba_unmultiplied(
                        [p.width as usize, p.height as usize],
                        &p.rgba,
                    );
                    ctx.load_texture(
                        format!("synthese-{}-{i}", asked.ticket),
                        image,
                        egui::TextureOptions::LINEAR,
                    )
                })
                .collect();
            s.preview = Some(Preview {
                reply: Arc::new(reply.clone()),
                pdf: Arc::new(rendered.pdf),
                pages,
            });
            s.page = 0;
        }
        Err(e) => s.problem = Some(format!("la synthèse ne se met pas en page : {e}")),
    }
}

fn person_picker(ui: &mut Ui, register: &RegisterView, s: &mut SynthesisState, l: Locale) {
    let chosen = s
        .person
        .as_ref()
        .and_then(|id| register.persons.iter().find(|p| p.id == *id));
    match chosen {
        Some(p) => {
            ui.label(
                RichText::new(tr!(
                    l,
                    "synth-person",
                    pseudonym = p.pseudonym.as_str(),
                    sessions = p.sessions.len()
                ))
                .strong(),
            );
        }
        None => {
            ui.label(tr!(l, "synth-choose"));
        }
    }
    ui.horizontal(|ui| {
        let label = ui.label(tr!(l, "synth-search"));
        ui.add(egui::TextEdit::singleline(&mut s.search).desired_width(260.0))
            .labelled_by(label.id);
    });
    let typed = s.search.trim().to_lowercase();
    if typed.is_empty() && chosen.is_some() {
        return;
    }
    let mut found: Vec<&RegisterEntry> = active(register)
        .filter(|p| typed.is_empty() || p.pseudonym.to_lowercase().contains(&typed))
        .collect();
    found.sort_by(|a, b| a.pseudonym.cmp(&b.pseudonym).then(a.id.cmp(&b.id)));
    if found.is_empty() {
        ui.label(tr!(l, "synth-nobody"));
    }
    ui.horizontal_wrapped(|ui| {
        for p in found.iter().take(LISTED) {
            let on = s.person.as_deref() == Some(p.id.as_str());
            let text = tr!(
                l,
                "synth-person-button",
                pseudonym = p.pseudonym.as_str(),
                sessions = p.sessions.len()
            );
            if ui.selectable_label(on, text).clicked() {
                let id = p.id.clone();
                s.open_on(&id);
                s.search.clear();
            }
        }
    });
    if found.len() > LISTED {
        ui.label(tr!(
            l,
            "synth-more",
            count = (found.len() - LISTED).to_string()
        ));
    }
}

fn save(
    ui: &mut Ui,
    s: &mut SynthesisState,
    preview: &Preview,
    places: Option<&[Place]>,
    l: Locale,
) {
    match &s.saved {
        Some(Ok(path)) => {
            ui.label(
                RichText::new(tr!(l, "synth-saved", path = path.display().to_string()))
                    .color(Color32::from_rgb(40, 160, 70)),
            );
        }
        Some(Err(why)) => {
            ui.label(RichText::new(why).color(Color32::from_rgb(200, 40, 40)));
        }
        None => {}
    }
    if let Some(dir) = folders::pick(ui, &mut s.chooser, places, &tr!(l, "synth-save"), l) {
        s.saved = Some(folders::write_whole(
            &dir,
            &preview.reply.file_name,
            &preview.pdf,
        ));
    }
}

fn pages(ui: &mut Ui, s: &mut SynthesisState, preview: &Preview, l: Locale) {
    let count = preview.pages.len();
    if count == 0 {
        return;
    }
    s.page = s.page.min(count - 1);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(s.page > 0, egui::Button::new(tr!(l, "synth-previous")))
            .clicked()
        {
            s.page -= 1;
        }
        ui.label(tr!(
            l,
            "synth-page",
            page = (s.page + 1).to_string(),
            count = count.to_string()
        ));
        if ui
            .add_enabled(s.page + 1 < count, egui::Button::new(tr!(l, "synth-next")))
            .clicked()
        {
            s.page += 1;
        }
    });
    let texture = &preview.pages[s.page];
    let [w, h] = texture.size();
    egui::ScrollArea::vertical()
        .id_salt("synthese-page")
        .show(ui, |ui| {
            let width = PAGE_WIDTH.min(ui.available_width()).max(200.0);
            let size = egui::vec2(width, width * h as f32 / w.max(1) as f32);
            ui.add(
                egui::Image::from_texture(texture)
                    .fit_to_exact_size(size)
                    .alt_text(tr!(
                        l,
                        "synth-page-image",
                        page = (s.page + 1).to_string(),
                        count = count.to_string()
                    )),
            );
        });
}
