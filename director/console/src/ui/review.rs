//! A closed session reviewed beside the hosted one: its evaluation, timeline and agreement
//! (with the wash-up), while another session runs. The screens are the hosted session's own,
//! drawn over the reviewed session's copy of the log ([`ReviewView`]); every engine command
//! they ask for goes to the reviewed session's log (`DeskRequest::ReviewCommand`), never to
//! the hosted one's.

use super::{ConsoleAction, ConsoleState, MUTED, Output, Screen};

use crate::i18n::tr;
use crate::view::ReviewView;
use boussole_director::desk::DeskRequest;
use egui::{RichText, Ui};

/// Whether `screen` is an after-game screen, which shows the reviewed session while
/// [`ConsoleState::reviewing`] is on.
pub fn shows(screen: Screen) -> bool {
    matches!(
        screen,
        Screen::Evaluation | Screen::Timeline | Screen::Agreement
    )
}

/// The banner (which session, back to the hosted one, stop reviewing) and the after-game
/// screen chosen, over `review`. `live` says whether a session is hosted (then « Revenir à la
/// séance en cours » is offered).
pub fn review(
    ui: &mut Ui,
    review: &ReviewView,
    live: bool,
    state: &mut ConsoleState,
) -> Vec<Output> {
    let l = state.locale;
    let mut out = Vec::new();
    // A dark blue band under the tabs: the screens below are another session's.
    egui::Frame::group(ui.style())
        .fill(egui::Color32::from_rgb(24, 48, 84))
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new(tr!(
                        l,
                        "review-banner",
                        id = review.session,
                        label = review.label.as_str(),
                        date = boussole_director::plan::local_fr(review.created_at_unix_ms)
                    ))
                    .strong()
                    .color(egui::Color32::WHITE),
                );
            });
            ui.horizontal_wrapped(|ui| {
                // Without a hosted session there is no tab bar: the banner has the tabs.
                if !live {
                    for s in [Screen::Evaluation, Screen::Timeline, Screen::Agreement] {
                        if ui.selectable_label(state.screen == s, s.title(l)).clicked() {
                            state.screen = s;
                        }
                    }
                    ui.separator();
                }
                if live && ui.button(tr!(l, "review-back-live")).clicked() {
                    state.reviewing = false;
                }
                if ui.button(tr!(l, "review-close")).clicked() {
                    state.reviewing = false;
                    if !live {
                        state.screen = Screen::Home;
                    }
                    out.push(Output::Action(ConsoleAction::Desk(DeskRequest::Review {
                        session: None,
                    })));
                }
            });
            ui.label(RichText::new(tr!(l, "review-hint")).color(egui::Color32::from_gray(190)));
        });
    if !state.reviewing {
        return out;
    }
    let view = &review.view;
    let asked = match state.screen {
        Screen::Timeline => {
            super::timeline::timeline(ui, view, state);
            Vec::new()
        }
        Screen::Agreement => super::agreement::agreement(ui, view, state),
        _ => super::evaluation(ui, view, state),
    };
    out.extend(to_review(review.session, asked));
    out
}

/// The screens' outputs with their engine commands addressed to reviewed session `session`.
pub fn to_review(session: i64, outputs: Vec<Output>) -> Vec<Output> {
    let send = |command| {
        Output::Action(ConsoleAction::Desk(DeskRequest::ReviewCommand {
            session,
            command,
        }))
    };
    let mut out = Vec::with_capacity(outputs.len());
    for o in outputs {
        match o {
            Output::Command(c) => out.push(send(c)),
            Output::Commands(cs) => out.extend(cs.into_iter().map(send)),
            Output::Action(a) => out.push(Output::Action(a)),
        }
    }
    out
}

/// On the hosted session's after-game screens, while a review is open but not shown: a line
/// to show it again.
pub fn offer(ui: &mut Ui, review: &ReviewView, state: &mut ConsoleState) {
    let l = state.locale;
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(tr!(
                l,
                "review-open",
                id = review.session,
                label = review.label.as_str()
            ))
            .color(MUTED),
        );
        if ui.button(tr!(l, "review-show")).clicked() {
            state.reviewing = true;
        }
    });
}
