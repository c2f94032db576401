//! « Planning »: the coming sessions with who is invited, who waits for each activity, and a
//! form to plan a session (or a series, for an activity of the catalogue that recurs); the
//! first people waiting are invited by the director ([`boussole_director::plan::add`]). The
//! plan is also exported as an iCalendar file, without names, into a folder chosen here.

use super::{ConsoleAction, ConsoleState, MUTED, Output};
use crate::i18n::tr;
use boussole_director::desk::{DeskRequest, PlanView};
use egui::{RichText, Ui};

/// A text field's height: a grid cell would shrink a field to its text.
const FIELD_HEIGHT: f32 = 28.0;

/// The form's texts being typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanState {
    /// The activity chosen.
    pub activity: Option<String>,
    /// The day, `AAAA-MM-JJ`.
    pub date: String,
    /// The time, `HH:MM`.
    pub time: String,
    /// Where.
    pub place: String,
    /// Length in minutes (filled with the activity's usual length when it is chosen).
    pub minutes: String,
    /// For a recurring activity: how many sessions.
    pub count: String,
    /// The calendar's folder chooser, while open.
    pub ics_chooser: Option<super::folders::Chooser>,
    /// The planned session being cancelled, and the reason typed.
    pub cancelling: Option<(i64, String)>,
}

fn ask(r: DeskRequest) -> Output {
    Output::Action(ConsoleAction::Desk(r))
}

/// The « Planning » screen over the director's last answer (`None`: not come yet).
pub fn plan(ui: &mut Ui, answer: Option<&PlanView>, state: &mut ConsoleState) -> Vec<Output> {
    let l = state.locale;
    let mut out = Vec::new();
    ui.horizontal(|ui| {
        ui.heading(tr!(l, "plan-title"));
        if ui.button(tr!(l, "admin-refresh")).clicked() {
            out.push(ask(DeskRequest::Plan));
        }
    });
    let Some(view) = answer else {
        ui.label(RichText::new(tr!(l, "plan-waiting")).color(MUTED));
        return out;
    };
    let places = state.places.clone();
    ui.columns(2, |cols| {
        egui::ScrollArea::vertical()
            .id_salt("plan-coming")
            .show(&mut cols[0], |ui| {
                ui.label(RichText::new(tr!(l, "plan-coming")).strong());
                if view.coming.is_empty() {
                    ui.label(tr!(l, "plan-nothing"));
                }
                for p in &view.coming {
                    ui.label(RichText::new(format!("n° {} — {}", p.id, p.title)).strong());
                    let mut line = tr!(
                        l,
                        "plan-when",
                        when = p.when.as_str(),
                        minutes = p.minutes,
                        place = p.place.as_str()
                    );
                    if let Some(series) = p.series {
                        line.push_str(&tr!(l, "plan-series", series = series));
                    }
                    ui.label(RichText::new(line).color(MUTED));
                    if p.invited.is_empty() {
                        ui.label(tr!(l, "plan-nobody"));
                    } else {
                        let who: Vec<String> = p
                            .invited
                            .iter()
                            .map(|(pseudonym, status)| format!("{pseudonym} ({status})"))
                            .collect();
                        ui.label(tr!(l, "plan-invited", who = who.join(", ")));
                    }
                    cancel(ui, p.id, &mut state.plan.cancelling, l, &mut out);
                    ui.add_space(6.0);
                }
                ui.separator();
                ui.label(RichText::new(tr!(l, "plan-waiting-lists")).strong());
                if view.waiting.is_empty() {
                    ui.label(tr!(l, "plan-nobody-waits"));
                }
                for w in &view.waiting {
                    let mut line = tr!(
                        l,
                        "plan-waits",
                        title = w.title.as_str(),
                        count = w.people.len()
                    );
                    if !w.people.is_empty() {
                        line = format!("{line} : {}", w.people.join(", "));
                    }
                    ui.label(line);
                    if let Some(n) = w.opens_at {
                        let ready = w.people.len() >= usize::try_from(n).unwrap_or(usize::MAX);
                        let text = if ready {
                            tr!(l, "plan-opens-now", count = n)
                        } else {
                            tr!(l, "plan-opens-at", count = n)
                        };
                        ui.label(RichText::new(text).color(if ready {
                            super::NOTICE
                        } else {
                            MUTED
                        }));
                    }
                }
            });
        egui::ScrollArea::vertical()
            .id_salt("plan-form")
            .show(&mut cols[1], |ui| {
                form(ui, view, state, &mut out);
                ui.separator();
                let closed = state.plan.ics_chooser.is_none();
                let mut pick = |ui: &mut Ui| {
                    super::folders::pick(
                        ui,
                        &mut state.plan.ics_chooser,
                        places.as_deref(),
                        &tr!(l, "plan-ics"),
                        l,
                    )
                };
                // Closed, the button keeps its own width.
                let chosen = if closed {
                    ui.horizontal(|ui| pick(ui)).inner
                } else {
                    pick(ui)
                };
                if let Some(folder) = chosen {
                    out.push(ask(DeskRequest::PlanIcs { folder }));
                }
            });
    });
    out
}

fn form(ui: &mut Ui, view: &PlanView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    ui.label(RichText::new(tr!(l, "plan-new")).strong());
    let p = &mut state.plan;
    let chosen = p
        .activity
        .as_ref()
        .and_then(|a| view.activities.iter().find(|x| x.id == *a));
    ui.horizontal(|ui| {
        let label = ui.label(tr!(l, "roadmap-activity"));
        egui::ComboBox::from_id_salt("plan-activity")
            .selected_text(chosen.map_or_else(|| tr!(l, "roadmap-choose"), |a| a.title.clone()))
            .width(360.0)
            .show_ui(ui, |ui| {
                for a in &view.activities {
                    if ui
                        .selectable_label(chosen.is_some_and(|c| c.id == a.id), &a.title)
                        .clicked()
                    {
                        p.activity = Some(a.id.clone());
                        p.minutes = a.minutes.to_string();
                        p.count = "1".into();
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    let chosen = p
        .activity
        .as_ref()
        .and_then(|a| view.activities.iter().find(|x| x.id == *a));
    egui::Grid::new("plan-form").show(ui, |ui| {
        let field = |ui: &mut Ui, label: String, text: &mut String, width: f32, key: &str| {
            let label = ui.label(label);
            ui.add_sized(
                [width, FIELD_HEIGHT],
                egui::TextEdit::singleline(text).id_salt(("plan", key)),
            )
            .labelled_by(label.id);
            ui.end_row();
        };
        field(ui, tr!(l, "plan-date"), &mut p.date, 140.0, "date");
        field(ui, tr!(l, "plan-time"), &mut p.time, 90.0, "time");
        field(ui, tr!(l, "plan-place"), &mut p.place, 260.0, "place");
        field(ui, tr!(l, "plan-minutes"), &mut p.minutes, 90.0, "minutes");
        if let Some(weeks) = chosen.and_then(|a| a.every_weeks) {
            field(
                ui,
                tr!(l, "plan-count", weeks = weeks),
                &mut p.count,
                90.0,
                "count",
            );
        }
    });
    let minutes = p.minutes.trim().parse::<u32>().ok();
    let count = match chosen.and_then(|a| a.every_weeks) {
        Some(_) => p.count.trim().parse::<u32>().ok(),
        None => Some(1),
    };
    let ready = chosen.is_some()
        && !p.date.trim().is_empty()
        && !p.time.trim().is_empty()
        && !p.place.trim().is_empty()
        && minutes.is_some()
        && count.is_some();
    if !ready {
        ui.label(RichText::new(tr!(l, "plan-fill")).color(MUTED));
    }
    let go = ui
        .horizontal(|ui| ui.add_enabled(ready, egui::Button::new(tr!(l, "plan-go"))))
        .inner;
    if go.clicked()
        && let Some(a) = chosen
    {
        out.push(ask(DeskRequest::PlanAdd {
            activity: a.id.clone(),
            starts: format!("{}T{}", p.date.trim(), p.time.trim()),
            minutes,
            place: p.place.trim().to_owned(),
            count: count.filter(|n| *n > 1),
        }));
    }
}

/// « Annuler la séance n° … » under a coming session: a reason, then the cancellation (the
/// people it invited go back on the waiting list).
fn cancel(
    ui: &mut Ui,
    planned: i64,
    cancelling: &mut Option<(i64, String)>,
    l: crate::i18n::Locale,
    out: &mut Vec<Output>,
) {
    match cancelling {
        Some((id, reason)) if *id == planned => {
            super::reason_field(ui, reason, egui::Id::new(("plan-cancel", planned)), l);
            let ready = !reason.trim().is_empty();
            let mut done = None;
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(ready, egui::Button::new(tr!(l, "plan-cancel-go")))
                    .clicked()
                {
                    done = Some(true);
                }
                if ui.button(tr!(l, "folders-cancel")).clicked() {
                    done = Some(false);
                }
            });
            if let Some(go) = done {
                if go {
                    out.push(ask(DeskRequest::PlanCancel {
                        planned,
                        reason: reason.trim().to_owned(),
                    }));
                }
                *cancelling = None;
            }
        }
        _ => {
            let asked = ui
                .horizontal(|ui| ui.small_button(tr!(l, "plan-cancel", id = planned)))
                .inner;
            if asked.clicked() {
                *cancelling = Some((planned, String::new()));
            }
        }
    }
}
