//! The administration screen (from home): the access log, the funders' figures with their CSV,
//! and the retention purge with its preview. Each section asks the director
//! (`DeskRequest::AccessLog`, `Figures`, `FiguresCsv`, `PurgePreview`, `Purge`) and draws its
//! last answer ([`DeskAnswers`]); the director stays the only one that reads and writes the
//! store, and logs what is done under the facilitator's name.

use super::{ConsoleAction, ConsoleState, MUTED, NOTICE, Output};
use crate::i18n::{Locale, tr};
use crate::model::DeskAnswers;
use boussole_director::desk::DeskRequest;
use egui::{RichText, Ui};

/// The section shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdminTab {
    /// Who read, exported, erased or backed up what.
    #[default]
    Access,
    /// The funders' figures.
    Figures,
    /// The retention purge.
    Purge,
}

impl AdminTab {
    /// What the director is asked for when the section opens.
    pub fn request(self) -> DeskRequest {
        match self {
            Self::Access => DeskRequest::AccessLog,
            Self::Figures => DeskRequest::Figures,
            Self::Purge => DeskRequest::PurgePreview,
        }
    }
}

/// The screen's own state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdminState {
    /// The section shown.
    pub tab: AdminTab,
    /// The figures' CSV: the folder chooser, while open.
    pub csv_chooser: Option<super::folders::Chooser>,
    /// The facilitator ticked « J'ai relu la liste » under the purge's preview.
    pub purge_checked: bool,
}

fn ask(r: DeskRequest) -> Output {
    Output::Action(ConsoleAction::Desk(r))
}

/// The administration screen over the director's last answers.
/// The register (`register`) names the persons of the access log by their pseudonyms.
pub fn admin(
    ui: &mut Ui,
    answers: &DeskAnswers,
    register: &boussole_director::register::RegisterView,
    state: &mut ConsoleState,
) -> Vec<Output> {
    let l = state.locale;
    let mut out = Vec::new();
    ui.heading(tr!(l, "admin-title"));
    ui.horizontal(|ui| {
        for (tab, title) in [
            (AdminTab::Access, tr!(l, "admin-access")),
            (AdminTab::Figures, tr!(l, "admin-figures")),
            (AdminTab::Purge, tr!(l, "admin-purge")),
        ] {
            if ui.selectable_label(state.admin.tab == tab, title).clicked() {
                state.admin.tab = tab;
                state.admin.purge_checked = false;
                // Each section shows the director's figures as they are now.
                out.push(ask(tab.request()));
            }
        }
    });
    ui.separator();
    match state.admin.tab {
        AdminTab::Access => access(ui, answers, register, l, &mut out),
        AdminTab::Figures => figures(ui, answers, state, &mut out),
        AdminTab::Purge => purge(ui, answers, state, &mut out),
    }
    out
}

fn refresh(ui: &mut Ui, l: Locale, request: DeskRequest, out: &mut Vec<Output>) {
    if ui.button(tr!(l, "admin-refresh")).clicked() {
        out.push(ask(request));
    }
}

fn access(
    ui: &mut Ui,
    answers: &DeskAnswers,
    register: &boussole_director::register::RegisterView,
    l: Locale,
    out: &mut Vec<Output>,
) {
    ui.label(RichText::new(tr!(l, "admin-access-hint")).color(MUTED));
    refresh(ui, l, DeskRequest::AccessLog, out);
    let Some(lines) = &answers.access else {
        return;
    };
    if lines.is_empty() {
        ui.label(tr!(l, "admin-access-empty"));
        return;
    }
    // One entry per line, what it is about below it: the details (a file's path) are long.
    egui::ScrollArea::vertical()
        .id_salt("admin-access")
        .show(ui, |ui| {
            for a in lines {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(boussole_director::plan::local_fr(a.at_unix_ms)).monospace(),
                    );
                    ui.label(RichText::new(&a.actor).strong());
                    ui.label(&a.action);
                });
                let mut about = Vec::new();
                if let Some(s) = a.session {
                    about.push(tr!(l, "home-session-number", id = s));
                }
                if let Some(p) = &a.participant {
                    // A person of the register by their pseudonym (never a name).
                    about.push(
                        register
                            .persons
                            .iter()
                            .find(|e| e.id == *p)
                            .map_or_else(|| p.clone(), |e| format!("{} ({p})", e.pseudonym)),
                    );
                }
                if !a.detail.is_empty() {
                    about.push(a.detail.clone());
                }
                if !about.is_empty() {
                    ui.indent(("about", a.at_unix_ms, &a.action), |ui| {
                        ui.add(
                            egui::Label::new(RichText::new(about.join(" — ")).color(MUTED)).wrap(),
                        );
                    });
                }
                ui.separator();
            }
        });
}

fn figures(ui: &mut Ui, answers: &DeskAnswers, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    ui.label(RichText::new(tr!(l, "admin-figures-hint")).color(MUTED));
    ui.horizontal(|ui| refresh(ui, l, DeskRequest::Figures, out));
    let places = state.places.clone();
    if let Some(folder) = super::folders::pick(
        ui,
        &mut state.admin.csv_chooser,
        places.as_deref(),
        &tr!(l, "admin-figures-csv"),
        l,
    ) {
        out.push(ask(DeskRequest::FiguresCsv { folder }));
    }
    let Some(rows) = &answers.figures else {
        return;
    };
    if rows.is_empty() {
        ui.label(tr!(l, "admin-figures-empty"));
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt("admin-figures")
        .show(ui, |ui| {
            egui::Grid::new("admin-figures-grid")
                .striped(true)
                .spacing([24.0, 4.0])
                .show(ui, |ui| {
                    for h in [
                        tr!(l, "admin-col-period"),
                        tr!(l, "admin-col-kind"),
                        tr!(l, "admin-col-sessions"),
                        tr!(l, "admin-col-persons"),
                        tr!(l, "admin-col-hours"),
                        tr!(l, "admin-col-person-hours"),
                    ] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for r in rows {
                        // A year's row stands out from its months.
                        let period = RichText::new(&r.period).monospace();
                        ui.label(if r.period.len() == 4 {
                            period.strong()
                        } else {
                            period
                        });
                        ui.label(&r.kind);
                        ui.label(r.sessions.to_string());
                        if r.partial {
                            ui.label(tr!(l, "admin-partial", persons = r.persons.as_str()));
                        } else {
                            ui.label(&r.persons);
                        }
                        ui.label(&r.hours);
                        ui.label(&r.person_hours);
                        ui.end_row();
                    }
                });
        });
}

fn purge(ui: &mut Ui, answers: &DeskAnswers, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    refresh(ui, l, DeskRequest::PurgePreview, out);
    let Some(p) = &answers.purge else {
        return;
    };
    ui.label(tr!(
        l,
        "admin-purge-rule",
        months = p.months,
        date = boussole_director::roadmap::day_fr(&boussole_director::plan::local_date(
            p.cutoff_unix_ms
        ))
    ));
    if p.sessions.is_empty() && p.results == 0 {
        ui.label(RichText::new(tr!(l, "admin-purge-nothing")).strong());
        ui.label(RichText::new(tr!(l, "admin-purge-persons")).color(MUTED));
        if ui.button(tr!(l, "admin-purge-persons-go")).clicked() {
            out.push(ask(DeskRequest::Purge {
                sessions: Vec::new(),
            }));
        }
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt("admin-purge")
        .max_height(ui.available_height() - 160.0)
        .show(ui, |ui| {
            for s in &p.sessions {
                ui.label(tr!(
                    l,
                    "admin-purge-session",
                    id = s.id,
                    label = s.label.as_str(),
                    date = boussole_director::roadmap::day_fr(
                        &boussole_director::plan::local_date(s.created_at_unix_ms)
                    ),
                    people = s.people,
                    records = s.records
                ));
            }
        });
    if p.results > 0 {
        ui.label(tr!(l, "admin-purge-results", count = p.results));
    }
    ui.label(RichText::new(tr!(l, "admin-purge-persons")).color(MUTED));
    ui.label(
        RichText::new(tr!(l, "admin-purge-warning"))
            .color(NOTICE)
            .strong(),
    );
    ui.checkbox(&mut state.admin.purge_checked, tr!(l, "admin-purge-check"));
    let go = ui.add_enabled(
        state.admin.purge_checked,
        egui::Button::new(
            RichText::new(tr!(l, "admin-purge-go", count = p.sessions.len())).strong(),
        ),
    );
    if go.clicked() {
        state.admin.purge_checked = false;
        out.push(ask(DeskRequest::Purge {
            sessions: p.sessions.iter().map(|s| s.id).collect(),
        }));
        out.push(ask(DeskRequest::PurgePreview));
    }
}
