//! « Parcours »: a person's roadmap of activities over the weeks and their results from other
//! tools, from the register's person page. The facilitator prescribes an activity of the
//! catalogue, marks an entry interrupted or cancelled (with a reason: done and absent come
//! from the sessions), and records a result as the other tool gave it, with its PDF report
//! picked on a USB key. Each is a `DeskRequest` carried out and logged by the director, which
//! answers with the roadmap as it stands (`DeskAnswer::Roadmap`); the synthesis reads the
//! results from there.

use super::{ConsoleAction, ConsoleState, MUTED, Output};
use crate::i18n::tr;
use boussole_director::desk::{DeskRequest, PersonRoadmap, ResultJob};
use boussole_director::register::RegisterView;
use egui::{RichText, Ui};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A text field's height: a grid cell would shrink a field to its text.
const FIELD_HEIGHT: f32 = 28.0;

/// The screen's forms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoadmapState {
    /// The person shown (register id).
    pub person: Option<String>,
    /// The entry whose status is being changed, and the reason typed.
    pub changing: Option<(i64, String)>,
    /// Prescription: the activity chosen, who prescribes, when (`AAAA-MM-JJ`).
    pub prescribe: (Option<String>, String, String),
    /// Result: the activity chosen, when taken, by whom.
    pub result: (Option<String>, String, String),
    /// Result: the value typed per field id.
    pub fields: BTreeMap<String, String>,
    /// Result: the PDF report chosen.
    pub pdf: Option<PathBuf>,
    /// Result: the file chooser, while open.
    pub pdf_chooser: Option<super::folders::Chooser>,
}

impl RoadmapState {
    /// Opens the screen on `person`: the forms start afresh, dated today, prescribed by
    /// `prescriber` (the register's prescriber of the person).
    pub fn open_on(&mut self, person: &str, prescriber: &str, today: &str) {
        *self = Self {
            person: Some(person.to_owned()),
            prescribe: (None, prescriber.to_owned(), today.to_owned()),
            result: (None, today.to_owned(), String::new()),
            ..Self::default()
        };
    }
}

fn ask(r: DeskRequest) -> Output {
    Output::Action(ConsoleAction::Desk(r))
}

/// Today, `AAAA-MM-JJ` (Paris).
pub fn today() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    boussole_director::plan::local_date(now)
}

/// The « Parcours » screen over the director's last answer for the person chosen.
pub fn roadmap(
    ui: &mut Ui,
    register: &RegisterView,
    answer: Option<&PersonRoadmap>,
    state: &mut ConsoleState,
) -> Vec<Output> {
    let l = state.locale;
    let mut out = Vec::new();
    let Some(person) = state.roadmap.person.clone() else {
        ui.heading(tr!(l, "roadmap-title-none"));
        ui.label(tr!(l, "roadmap-pick"));
        return out;
    };
    let pseudonym = register
        .persons
        .iter()
        .find(|p| p.id == person)
        .map_or_else(|| person.clone(), |p| p.pseudonym.clone());
    ui.horizontal(|ui| {
        ui.heading(tr!(l, "roadmap-title", pseudonym = pseudonym.as_str()));
        if ui.button(tr!(l, "admin-refresh")).clicked() {
            out.push(ask(DeskRequest::Roadmap {
                person: person.clone(),
            }));
        }
    });
    let Some(answer) = answer.filter(|a| a.person == person) else {
        ui.label(RichText::new(tr!(l, "roadmap-waiting")).color(MUTED));
        return out;
    };
    let places = state.places.clone();
    ui.columns(2, |cols| {
        egui::ScrollArea::vertical()
            .id_salt("roadmap-entries")
            .show(&mut cols[0], |ui| {
                entries(ui, answer, state, &person, &mut out);
                ui.separator();
                prescribe(ui, answer, state, &person, &mut out);
            });
        egui::ScrollArea::vertical()
            .id_salt("roadmap-results")
            .show(&mut cols[1], |ui| {
                results(ui, answer, state);
                ui.separator();
                record(ui, answer, state, places.as_deref(), &person, &mut out);
            });
    });
    out
}

fn entries(
    ui: &mut Ui,
    answer: &PersonRoadmap,
    state: &mut ConsoleState,
    person: &str,
    out: &mut Vec<Output>,
) {
    let l = state.locale;
    ui.label(RichText::new(tr!(l, "roadmap-entries")).strong());
    if answer.entries.is_empty() {
        ui.label(tr!(l, "roadmap-empty"));
    }
    for e in &answer.entries {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("n° {} — {}", e.id, e.title)).strong());
            ui.label(&e.status);
        });
        let mut line = e.prescribed.clone();
        if !e.detail.is_empty() {
            line = format!("{line} ; {}", e.detail);
        }
        ui.label(RichText::new(line).color(MUTED));
        if !e.open {
            continue;
        }
        match &mut state.roadmap.changing {
            Some((entry, reason)) if *entry == e.id => {
                super::reason_field(ui, reason, egui::Id::new(("entry-reason", e.id)), l);
                let ready = !reason.trim().is_empty();
                let mut done = None;
                ui.horizontal_wrapped(|ui| {
                    if ui
                        .add_enabled(ready, egui::Button::new(tr!(l, "roadmap-interrupt")))
                        .clicked()
                    {
                        done = Some(Some(false));
                    }
                    if ui
                        .add_enabled(ready, egui::Button::new(tr!(l, "roadmap-cancel")))
                        .clicked()
                    {
                        done = Some(Some(true));
                    }
                    if ui.button(tr!(l, "folders-cancel")).clicked() {
                        done = Some(None);
                    }
                });
                if done == Some(None) {
                    state.roadmap.changing = None;
                } else if let Some(Some(cancel)) = done
                    && let Some((entry, reason)) = state.roadmap.changing.take()
                {
                    out.push(ask(DeskRequest::SetEntryStatus {
                        person: person.to_owned(),
                        entry,
                        cancel,
                        reason: reason.trim().to_owned(),
                    }));
                }
            }
            _ => {
                let change = ui
                    .horizontal(|ui| ui.button(tr!(l, "roadmap-change", id = e.id)))
                    .inner;
                if change.clicked() {
                    state.roadmap.changing = Some((e.id, String::new()));
                }
            }
        }
        ui.add_space(4.0);
    }
}

fn prescribe(
    ui: &mut Ui,
    answer: &PersonRoadmap,
    state: &mut ConsoleState,
    person: &str,
    out: &mut Vec<Output>,
) {
    let l = state.locale;
    ui.label(RichText::new(tr!(l, "roadmap-prescribe")).strong());
    let (activity, by, on) = &mut state.roadmap.prescribe;
    let title = activity
        .as_ref()
        .and_then(|a| answer.catalogue.iter().find(|c| c.id == *a))
        .map_or_else(|| tr!(l, "roadmap-choose"), |c| c.title.clone());
    ui.horizontal(|ui| {
        let label = ui.label(tr!(l, "roadmap-activity"));
        egui::ComboBox::from_id_salt("roadmap-activity")
            .selected_text(title)
            .width(360.0)
            .show_ui(ui, |ui| {
                for c in &answer.catalogue {
                    if ui
                        .selectable_label(activity.as_deref() == Some(c.id.as_str()), &c.title)
                        .clicked()
                    {
                        *activity = Some(c.id.clone());
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    egui::Grid::new("roadmap-prescribe").show(ui, |ui| {
        let label = ui.label(tr!(l, "roadmap-by"));
        ui.add_sized(
            [260.0, FIELD_HEIGHT],
            egui::TextEdit::singleline(by).id_salt("prescribe-by"),
        )
        .labelled_by(label.id);
        ui.end_row();
        let label = ui.label(tr!(l, "roadmap-on"));
        ui.add_sized(
            [140.0, FIELD_HEIGHT],
            egui::TextEdit::singleline(on).id_salt("prescribe-on"),
        )
        .labelled_by(label.id);
        ui.end_row();
    });
    let ready = activity.is_some() && !by.trim().is_empty() && !on.trim().is_empty();
    let go = ui
        .horizontal(|ui| ui.add_enabled(ready, egui::Button::new(tr!(l, "roadmap-prescribe-go"))))
        .inner;
    if go.clicked()
        && let Some(activity) = activity.take()
    {
        out.push(ask(DeskRequest::Prescribe {
            person: person.to_owned(),
            activity,
            by: by.trim().to_owned(),
            on: on.trim().to_owned(),
        }));
    }
}

fn results(ui: &mut Ui, answer: &PersonRoadmap, state: &ConsoleState) {
    let l = state.locale;
    ui.label(RichText::new(tr!(l, "roadmap-results")).strong());
    if answer.results.is_empty() {
        ui.label(tr!(l, "roadmap-no-result"));
    }
    for r in &answer.results {
        ui.label(
            RichText::new(tr!(
                l,
                "roadmap-result-line",
                id = r.id,
                tool = r.tool.as_str(),
                date = r.taken_on.as_str(),
                by = r.by.as_str()
            ))
            .strong(),
        );
        for (label, value) in &r.fields {
            ui.label(format!("    {label} : {value}"));
        }
        if let Some(pdf) = &r.pdf {
            ui.label(RichText::new(tr!(l, "roadmap-result-pdf", name = pdf.as_str())).color(MUTED));
        }
        ui.add_space(4.0);
    }
}

fn record(
    ui: &mut Ui,
    answer: &PersonRoadmap,
    state: &mut ConsoleState,
    places: Option<&[super::folders::Place]>,
    person: &str,
    out: &mut Vec<Output>,
) {
    let l = state.locale;
    ui.label(RichText::new(tr!(l, "roadmap-record")).strong());
    ui.label(RichText::new(tr!(l, "roadmap-record-hint")).color(MUTED));
    let r = &mut state.roadmap;
    let tools: Vec<_> = answer
        .catalogue
        .iter()
        .filter(|c| c.tool.is_some())
        .collect();
    let chosen = r
        .result
        .0
        .as_ref()
        .and_then(|a| tools.iter().find(|c| c.id == *a).copied());
    ui.horizontal(|ui| {
        let label = ui.label(tr!(l, "roadmap-tool"));
        egui::ComboBox::from_id_salt("roadmap-tool")
            .selected_text(chosen.map_or_else(|| tr!(l, "roadmap-choose"), |c| c.title.clone()))
            .width(360.0)
            .show_ui(ui, |ui| {
                for c in &tools {
                    if ui
                        .selectable_label(chosen.is_some_and(|x| x.id == c.id), &c.title)
                        .clicked()
                    {
                        r.result.0 = Some(c.id.clone());
                        r.fields.clear();
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    let Some(chosen) = chosen else {
        return;
    };
    egui::Grid::new("roadmap-record").show(ui, |ui| {
        let label = ui.label(tr!(l, "roadmap-taken-on"));
        ui.add_sized(
            [140.0, FIELD_HEIGHT],
            egui::TextEdit::singleline(&mut r.result.1).id_salt("result-on"),
        )
        .labelled_by(label.id);
        ui.end_row();
        let label = ui.label(tr!(l, "roadmap-administered-by"));
        ui.add_sized(
            [260.0, FIELD_HEIGHT],
            egui::TextEdit::singleline(&mut r.result.2).id_salt("result-by"),
        )
        .labelled_by(label.id);
        ui.end_row();
        for (id, label_text, takes) in &chosen.fields {
            let label = ui.label(format!("{label_text} ({takes})"));
            let value = r.fields.entry(id.clone()).or_default();
            ui.add_sized(
                [200.0, FIELD_HEIGHT],
                egui::TextEdit::singleline(value).id_salt(("result-field", id.as_str())),
            )
            .labelled_by(label.id);
            ui.end_row();
        }
    });
    match r.pdf.clone() {
        Some(pdf) => {
            ui.horizontal_wrapped(|ui| {
                let name = pdf
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                ui.label(tr!(l, "roadmap-pdf-chosen", name = name));
                if ui.button(tr!(l, "roadmap-pdf-remove")).clicked() {
                    r.pdf = None;
                }
            });
        }
        None => {
            if let Some(file) = ui
                .horizontal(|ui| {
                    super::folders::pick_file(
                        ui,
                        &mut r.pdf_chooser,
                        places,
                        &tr!(l, "roadmap-pdf"),
                        "pdf",
                        l,
                    )
                })
                .inner
            {
                r.pdf = Some(file);
            }
        }
    }
    let typed = r.fields.values().any(|v| !v.trim().is_empty());
    let ready = typed && !r.result.1.trim().is_empty() && !r.result.2.trim().is_empty();
    if !typed {
        ui.label(RichText::new(tr!(l, "roadmap-record-empty")).color(MUTED));
    }
    let go = ui
        .horizontal(|ui| ui.add_enabled(ready, egui::Button::new(tr!(l, "roadmap-record-go"))))
        .inner;
    if go.clicked() {
        out.push(ask(DeskRequest::RecordResult(ResultJob {
            person: person.to_owned(),
            activity: chosen.id.clone(),
            taken_on: r.result.1.trim().to_owned(),
            by: r.result.2.trim().to_owned(),
            fields: chosen
                .fields
                .iter()
                .map(|(id, _, _)| (id.clone(), r.fields.get(id).cloned().unwrap_or_default()))
                .collect(),
            pdf: r.pdf.take(),
        })));
        r.fields.clear();
    }
}
