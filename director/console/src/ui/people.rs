//! The register screen (F11): the people across sessions, as the director keeps them. The
//! facilitator finds a person, adds one (pseudonym, name for the protected table, date of entry
//! into the orientation phase, prescriber), changes or archives an entry, and merges a
//! duplicate into the person it really is (with a reason; undone the same way). Civil names are
//! typed here and sent to the director, never shown back.

use super::{ConsoleAction, ConsoleState, Output};
use crate::i18n::{Locale, tr};
use boussole_director::register::{RegisterEntry, RegisterRequest, RegisterView};
use boussole_director::store::PersonChange;
use egui::{Color32, RichText, Ui};

/// Whether `entry` matches the filter text (case ignored) on its pseudonym, id or prescriber.
pub fn matches(entry: &RegisterEntry, filter: &str) -> bool {
    let f = filter.trim().to_lowercase();
    f.is_empty()
        || entry.pseudonym.to_lowercase().contains(&f)
        || entry.id.to_lowercase().contains(&f)
        || entry.prescriber_name.to_lowercase().contains(&f)
        || entry.prescriber_structure.to_lowercase().contains(&f)
}

/// A person's one-line label: pseudonym, entry date and sessions.
pub fn label(entry: &RegisterEntry, l: Locale) -> String {
    let entered = entry
        .entered_on
        .as_deref()
        .map_or_else(String::new, |d| format!(" · {d}"));
    format!(
        "{}{entered} · {}",
        entry.pseudonym,
        tr!(l, "people-sessions", count = entry.sessions.len())
    )
}

/// Width of the register's text fields, points: a pseudonym, a date or a structure's name fits.
const FIELD_WIDTH: f32 = 260.0;

/// Height of the register's text fields, points (one line of the console's 20-point text).
const FIELD_HEIGHT: f32 = 28.0;

fn ask(request: RegisterRequest) -> Output {
    Output::Action(ConsoleAction::Register(request))
}

/// The register screen; read-only on an observer console (which gets no register).
pub fn people(
    ui: &mut Ui,
    register: &RegisterView,
    observer: bool,
    state: &mut ConsoleState,
) -> Vec<Output> {
    let mut out = Vec::new();
    let l = state.locale;
    ui.heading(tr!(l, "people-title"));
    ui.label(RichText::new(tr!(l, "people-intro")).small());
    if observer {
        ui.label(tr!(l, "people-observer"));
        return out;
    }
    ui.add_enabled_ui(!observer, |ui| {
        ui.columns(2, |cols| {
            list(&mut cols[0], register, state);
            cols[0].separator();
            new_person(&mut cols[0], state, &mut out);
            egui::ScrollArea::vertical()
                .id_salt("people-person")
                .show(&mut cols[1], |ui| person(ui, register, state, &mut out));
        });
    });
    out
}

fn list(ui: &mut Ui, register: &RegisterView, state: &mut ConsoleState) {
    let l = state.locale;
    let d = &mut state.drafts.register;
    ui.horizontal(|ui| {
        let label = ui.label(tr!(l, "people-filter"));
        ui.add(egui::TextEdit::singleline(&mut d.filter).desired_width(FIELD_WIDTH))
            .labelled_by(label.id);
    });
    ui.checkbox(&mut d.show_all, tr!(l, "people-show-all"));
    let shown: Vec<&RegisterEntry> = register
        .persons
        .iter()
        .filter(|p| d.show_all || (!p.archived && p.merged_into.is_none()))
        .filter(|p| matches(p, &d.filter))
        .collect();
    if register.persons.is_empty() {
        ui.label(tr!(l, "people-empty"));
    } else if shown.is_empty() {
        ui.label(tr!(l, "people-none-match"));
    }
    egui::ScrollArea::vertical()
        .id_salt("people-list")
        .max_height(300.0)
        .show(ui, |ui| {
            for p in shown {
                let mut text = label(p, l);
                if p.archived {
                    text.push_str(&format!(" · {}", tr!(l, "people-archived")));
                }
                if p.merged_into.is_some() {
                    text.push_str(&format!(" · {}", tr!(l, "people-merged")));
                }
                let on = d.selected.as_deref() == Some(p.id.as_str());
                if ui.selectable_label(on, text).clicked() {
                    d.selected = Some(p.id.clone());
                    d.edit = None;
                    d.merge_from = None;
                    d.reason.clear();
                }
            }
        });
}

fn new_person(ui: &mut Ui, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    let d = &mut state.drafts.register;
    ui.label(RichText::new(tr!(l, "people-new")).strong());
    egui::Grid::new("people-new").show(ui, |ui| {
        for (key, text, field) in [
            ("pseudonym", tr!(l, "people-pseudonym"), &mut d.pseudonym),
            ("name", tr!(l, "people-name"), &mut d.name),
            ("entered", tr!(l, "people-entered"), &mut d.entered_on),
            (
                "prescriber",
                tr!(l, "people-prescriber"),
                &mut d.prescriber_name,
            ),
            (
                "structure",
                tr!(l, "people-structure"),
                &mut d.prescriber_structure,
            ),
        ] {
            let label = ui.label(text);
            // Sized, not just a desired width: a grid cell would shrink it to its text.
            ui.add_sized(
                [FIELD_WIDTH, FIELD_HEIGHT],
                egui::TextEdit::singleline(field).id_salt(("new", key)),
            )
            .labelled_by(label.id);
            ui.end_row();
        }
    });
    ui.label(RichText::new(tr!(l, "prepare-name-note")).small());
    let ready = !d.pseudonym.trim().is_empty();
    if ui
        .add_enabled(ready, egui::Button::new(tr!(l, "people-create")))
        .clicked()
    {
        out.push(ask(RegisterRequest::Create {
            pseudonym: d.pseudonym.trim().to_owned(),
            name: d.name.trim().to_owned(),
            entered_on: d.entered_on.trim().to_owned(),
            prescriber_name: d.prescriber_name.trim().to_owned(),
            prescriber_structure: d.prescriber_structure.trim().to_owned(),
        }));
        *d = super::RegisterDrafts {
            selected: d.selected.take(),
            filter: std::mem::take(&mut d.filter),
            show_all: d.show_all,
            ..Default::default()
        };
    }
}

fn person(ui: &mut Ui, register: &RegisterView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    let places = state.places.clone();
    let d = &mut state.drafts.register;
    let Some(p) = d
        .selected
        .as_deref()
        .and_then(|id| register.persons.iter().find(|p| p.id == id))
    else {
        ui.label(tr!(l, "people-pick"));
        return;
    };
    ui.label(RichText::new(&p.pseudonym).heading().strong());
    ui.label(RichText::new(tr!(l, "people-id", id = p.id.as_str())).small());
    if p.has_name {
        ui.label(RichText::new(tr!(l, "people-has-name")).small());
    }
    ui.label(RichText::new(tr!(l, "people-their-sessions")).strong());
    if p.sessions.is_empty() {
        ui.label(tr!(l, "people-no-session"));
    }
    for (session, date, scenario, slot) in &p.sessions {
        ui.label(tr!(
            l,
            "people-session-line",
            session = session.to_string(),
            date = date.as_str(),
            scenario = scenario.as_str(),
            slot = slot.as_str()
        ));
    }
    if p.merged_into.is_none()
        && ui
            .button(tr!(l, "people-roadmap", pseudonym = p.pseudonym.as_str()))
            .clicked()
    {
        state
            .roadmap
            .open_on(&p.id, &p.prescriber_name, &super::roadmap::today());
        state.screen = super::Screen::Roadmap;
        out.push(Output::Action(ConsoleAction::Desk(
            boussole_director::desk::DeskRequest::Roadmap {
                person: p.id.clone(),
            },
        )));
    }
    ui.separator();
    if let Some(into) = &p.merged_into {
        let name = register
            .persons
            .iter()
            .find(|q| q.id == *into)
            .map_or_else(|| into.clone(), |q| q.pseudonym.clone());
        ui.label(tr!(l, "people-merged-into", person = name.as_str()));
        let label = ui.label(tr!(l, "people-reason"));
        ui.add(
            egui::TextEdit::singleline(&mut d.reason)
                .id_salt("unmerge-reason")
                .desired_width(FIELD_WIDTH),
        )
        .labelled_by(label.id);
        let ready = !d.reason.trim().is_empty();
        if ui
            .add_enabled(ready, egui::Button::new(tr!(l, "people-unmerge")))
            .clicked()
        {
            out.push(ask(RegisterRequest::Unmerge {
                person: p.id.clone(),
                reason: d.reason.trim().to_owned(),
            }));
            d.reason.clear();
        }
        return;
    }
    // The entry's form, loaded from the register once per selection.
    let (pseudonym, entered, prescriber, structure, _) = d.edit.get_or_insert_with(|| {
        (
            p.pseudonym.clone(),
            p.entered_on.clone().unwrap_or_default(),
            p.prescriber_name.clone(),
            p.prescriber_structure.clone(),
            p.id.clone(),
        )
    });
    egui::Grid::new("people-edit").show(ui, |ui| {
        for (key, text, field) in [
            ("pseudonym", tr!(l, "people-pseudonym"), &mut *pseudonym),
            ("entered", tr!(l, "people-entered"), &mut *entered),
            ("prescriber", tr!(l, "people-prescriber"), &mut *prescriber),
            ("structure", tr!(l, "people-structure"), &mut *structure),
        ] {
            let label = ui.label(text);
            // Sized, not just a desired width: a grid cell would shrink it to its text.
            ui.add_sized(
                [FIELD_WIDTH, FIELD_HEIGHT],
                egui::TextEdit::singleline(field).id_salt(("edit", key)),
            )
            .labelled_by(label.id);
            ui.end_row();
        }
    });
    let mut changes = Vec::new();
    if pseudonym.trim() != p.pseudonym {
        changes.push(PersonChange::Pseudonym(pseudonym.trim().to_owned()));
    }
    if entered.trim() != p.entered_on.as_deref().unwrap_or_default() {
        changes.push(PersonChange::EnteredOn(
            Some(entered.trim().to_owned()).filter(|e| !e.is_empty()),
        ));
    }
    if prescriber.trim() != p.prescriber_name || structure.trim() != p.prescriber_structure {
        changes.push(PersonChange::Prescriber {
            name: prescriber.trim().to_owned(),
            structure: structure.trim().to_owned(),
        });
    }
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                !changes.is_empty(),
                egui::Button::new(tr!(l, "people-save")),
            )
            .clicked()
        {
            for change in changes {
                out.push(ask(RegisterRequest::Change {
                    person: p.id.clone(),
                    change,
                }));
            }
            d.edit = None;
        }
        let archive = if p.archived {
            tr!(l, "people-unarchive")
        } else {
            tr!(l, "people-archive")
        };
        if ui.button(archive).clicked() {
            out.push(ask(RegisterRequest::Change {
                person: p.id.clone(),
                change: PersonChange::Archived(!p.archived),
            }));
        }
    });
    ui.separator();
    ui.label(RichText::new(tr!(l, "people-merge-title")).strong());
    ui.label(RichText::new(tr!(l, "people-merge-help")).small());
    let candidates: Vec<&RegisterEntry> = register
        .persons
        .iter()
        .filter(|q| q.id != p.id && q.merged_into.is_none())
        .collect();
    let chosen = d
        .merge_from
        .as_deref()
        .and_then(|id| candidates.iter().find(|q| q.id == id))
        .map_or_else(|| tr!(l, "people-merge-choose"), |q| label(q, l));
    ui.horizontal(|ui| {
        let same = ui.label(tr!(l, "people-merge-from"));
        egui::ComboBox::from_id_salt("merge-from")
            .selected_text(chosen)
            .show_ui(ui, |ui| {
                for q in &candidates {
                    let on = d.merge_from.as_deref() == Some(q.id.as_str());
                    if ui.selectable_label(on, label(q, l)).clicked() {
                        d.merge_from = Some(q.id.clone());
                    }
                }
            })
            .response
            .labelled_by(same.id);
    });
    let label = ui.label(tr!(l, "people-reason"));
    ui.add(
        egui::TextEdit::singleline(&mut d.reason)
            .id_salt("merge-reason")
            .desired_width(FIELD_WIDTH),
    )
    .labelled_by(label.id);
    let ready = d.merge_from.is_some() && !d.reason.trim().is_empty();
    if ui
        .add_enabled(ready, egui::Button::new(tr!(l, "people-merge")))
        .clicked()
        && let Some(from) = d.merge_from.take()
    {
        out.push(ask(RegisterRequest::Merge {
            from,
            into: p.id.clone(),
            reason: d.reason.trim().to_owned(),
        }));
        d.reason.clear();
    }
    if d.merge_from.is_some() && d.reason.trim().is_empty() {
        ui.label(
            RichText::new(tr!(l, "people-reason-needed")).color(Color32::from_rgb(200, 120, 0)),
        );
    }
    ui.separator();
    rights(ui, p, places, d, out, l);
}

/// The person's rights (GDPR): their data written to a folder chosen in the window (right of
/// access), and erasure, confirmed by typing their pseudonym (right to erasure).
fn rights(
    ui: &mut Ui,
    p: &RegisterEntry,
    places: Option<Vec<super::folders::Place>>,
    d: &mut super::RegisterDrafts,
    out: &mut Vec<Output>,
    l: Locale,
) {
    use super::folders;
    ui.label(RichText::new(tr!(l, "rights-title")).strong());
    if let Some(folder) = folders::pick(
        ui,
        &mut d.data_chooser,
        places.as_deref(),
        &tr!(l, "rights-export"),
        l,
    ) {
        out.push(ask(RegisterRequest::ExportData {
            person: p.id.clone(),
            folder,
        }));
    }
    ui.label(RichText::new(tr!(l, "rights-erase-help")).small());
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(tr!(
            l,
            "rights-erase-confirm",
            pseudonym = p.pseudonym.as_str()
        ));
        ui.add(
            egui::TextEdit::singleline(&mut d.erase_confirm)
                .id_salt("erase-confirm")
                .desired_width(FIELD_WIDTH / 2.0),
        )
        .labelled_by(label.id);
    });
    let typed = d.erase_confirm.trim().to_lowercase() == p.pseudonym.trim().to_lowercase();
    let button = egui::Button::new(
        RichText::new(tr!(l, "rights-erase", pseudonym = p.pseudonym.as_str())).strong(),
    )
    .fill(Color32::from_rgb(150, 30, 30));
    if ui.add_enabled(typed, button).clicked() {
        out.push(ask(RegisterRequest::Erase {
            person: p.id.clone(),
            confirm: d.erase_confirm.trim().to_owned(),
        }));
        d.erase_confirm.clear();
    }
}
