//! The end screen: the state events still open (closed and flagged by the session's end), the
//! facilitator's comment and recommendations per participant, and the way to the evaluation.

use super::{ConsoleState, Output, cmd, colour, mmss, participants};
use crate::i18n::tr;
use crate::view::SessionView;
use boussole_director::engine::{Command, Observation};
use egui::{Color32, RichText, Ui};

/// The state events still open, every rater's, oldest first.
pub fn open_states(view: &SessionView) -> Vec<&Observation> {
    view.engine
        .observations()
        .iter()
        .filter(|o| o.open && o.retracted.is_none())
        .collect()
}

/// The end screen; closing and comments are disabled on an observer console.
pub fn end(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) -> Vec<Output> {
    let l = state.locale;
    let mut out = Vec::new();
    egui::ScrollArea::vertical().id_salt("end").show(ui, |ui| {
        ui.heading(tr!(l, "end-open-states"));
        let open = open_states(view);
        if open.is_empty() {
            ui.label(tr!(l, "end-no-open-state"));
        }
        let grid = view.engine.grid();
        for o in &open {
            let who = o
                .participant
                .as_ref()
                .and_then(|p| view.engine.participants().get(p))
                .map_or_else(String::new, |p| p.pseudonym.clone());
            let what = o
                .behaviour
                .as_ref()
                .and_then(|b| grid.behaviours.iter().find(|x| x.id == *b))
                .map_or_else(String::new, |b| b.label.clone());
            ui.label(tr!(
                l,
                "end-open-state",
                who = who,
                what = what,
                since = mmss(o.at),
                rater = o.rater.as_str()
            ));
        }
        let closed = view.engine.is_closed();
        ui.add_enabled_ui(!view.observer && !closed, |ui| {
            let b = egui::Button::new(RichText::new(tr!(l, "end-close-session")).strong())
                .fill(Color32::from_rgb(150, 30, 30));
            if ui.add(b).clicked() {
                out.push(cmd(Command::EndSession));
            }
        });
        if closed {
            ui.label(RichText::new(tr!(l, "end-closed")).strong());
        }
        ui.separator();
        ui.heading(tr!(l, "end-comments"));
        ui.add_enabled_ui(!view.observer, |ui| {
            for (id, p) in participants(view) {
                let debrief = view.engine.debriefs().get(id);
                let draft = state.drafts.comments.entry(id.clone()).or_insert_with(|| {
                    debrief.map_or_else(Default::default, |d| {
                        (d.comment.clone(), d.recommendations.join("\n"))
                    })
                });
                ui.label(
                    RichText::new(format!(" {} ", p.pseudonym))
                        .background_color(colour(&p.colour))
                        .color(Color32::BLACK)
                        .strong(),
                );
                let label = ui.label(tr!(l, "end-comment", name = p.pseudonym.as_str()));
                ui.add(egui::TextEdit::multiline(&mut draft.0).desired_rows(3))
                    .labelled_by(label.id);
                let label = ui.label(tr!(l, "end-recommendations", name = p.pseudonym.as_str()));
                ui.add(egui::TextEdit::multiline(&mut draft.1).desired_rows(2))
                    .labelled_by(label.id);
                if ui
                    .button(tr!(l, "end-save-comment", name = p.pseudonym.as_str()))
                    .clicked()
                {
                    out.push(cmd(Command::WriteComment {
                        participant: id.clone(),
                        comment: draft.0.trim().to_owned(),
                        recommendations: draft
                            .1
                            .lines()
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    }));
                }
                ui.add_space(8.0);
            }
        });
        ui.separator();
        if ui
            .button(RichText::new(tr!(l, "end-evaluation")).strong())
            .clicked()
        {
            state.screen = super::Screen::Evaluation;
        }
        if let Some(session) = view
            .desk
            .as_ref()
            .and_then(|d| d.live.as_ref())
            .map(|s| s.id)
            && !view.observer
        {
            ui.separator();
            if let Some(job) = export(ui, session, state) {
                out.push(Output::Action(super::ConsoleAction::Desk(
                    boussole_director::desk::DeskRequest::Export(job),
                )));
            }
        }
    });
    out
}

/// « Exporter les observations »: the format (BORIS project, BORIS tabular events, CSV with
/// or without the notes), then a folder chosen in the window; the director writes the file.
fn export(
    ui: &mut Ui,
    session: i64,
    state: &mut ConsoleState,
) -> Option<boussole_director::desk::ExportJob> {
    use boussole_director::desk::{ExportFormat, ExportJob};
    let l = state.locale;
    ui.heading(tr!(l, "export-title"));
    let e = &mut state.drafts.export;
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(
            &mut e.format,
            ExportFormat::BorisProject,
            tr!(l, "export-boris"),
        );
        ui.radio_value(
            &mut e.format,
            ExportFormat::BorisTabular,
            tr!(l, "export-tabular"),
        );
        ui.radio_value(&mut e.format, ExportFormat::Csv, tr!(l, "export-csv"));
    });
    if e.format == ExportFormat::Csv {
        ui.checkbox(&mut e.notes, tr!(l, "export-notes"));
    }
    let places = state.places.clone();
    let e = &mut state.drafts.export;
    super::folders::pick(
        ui,
        &mut e.chooser,
        places.as_deref(),
        &tr!(l, "export-start"),
        l,
    )
    .map(|folder| ExportJob {
        session,
        format: e.format,
        notes: e.notes && e.format == ExportFormat::Csv,
        folder,
    })
}
