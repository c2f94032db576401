//! The evaluation screen, after the game: per participant and competency, the level the
//! rubric proposes from the lead rater's coding, every piece of evidence behind it, the
//! participant's self-assessment beside it, and the level retained (a change needs a reason);
//! then the debrief meeting (restitution) and the participant's consent to send the synthesis
//! on. Everything here is an engine command, logged by the director; the proposal itself is
//! computed on the console's copy of the log with the director's own rules
//! (`boussole_director::evaluation::evaluate`).

use super::{ConsoleState, Output, cmd, colour, mmss, participants};
use crate::i18n::{Locale, tr};
use crate::view::SessionView;
use boussole_content::ids::CompetencyId;
use boussole_content::rubric::Rubric;
use boussole_director::engine::{Command, ParticipantId, RaterId};
use boussole_director::evaluation::{CompetencyResult, Proposed, Source, evaluate};
use boussole_director::record::lead_rater;
use egui::{Color32, RichText, Ui};

/// What the facilitator is choosing for one competency: the level (`None`: "non observé") and
/// the reason typed.
pub type LevelDraft = (Option<u8>, String);

/// The level a proposal stands for (`None`: "non observé").
pub fn proposed_level(p: &Proposed) -> Option<u8> {
    match p {
        Proposed::Level { level, .. } => Some(*level),
        Proposed::NotObserved { .. } => None,
    }
}

/// A level's name in `rubric` ("non observé" for `None`).
fn level_name(rubric: &Rubric, level: Option<u8>, l: Locale) -> String {
    level.map_or_else(
        || tr!(l, "eval-not-observed"),
        |n| {
            rubric
                .levels
                .get(usize::from(n).saturating_sub(1))
                .map_or_else(|| n.to_string(), |name| format!("{n} — {name}"))
        },
    )
}

/// The evaluation screen; read-only on an observer console.
pub fn evaluation(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) -> Vec<Output> {
    let l = state.locale;
    let mut out = Vec::new();
    let Some(rubric) = view.rubric.as_ref() else {
        ui.label(tr!(l, "eval-no-rubric"));
        return out;
    };
    ui.heading(tr!(l, "eval-title"));
    if !view.engine.is_closed() {
        ui.label(RichText::new(tr!(l, "eval-not-closed")).color(Color32::from_rgb(200, 120, 0)));
    }
    let people = participants(view);
    let Some(first) = people.first().map(|(id, _)| (*id).clone()) else {
        ui.label(tr!(l, "eval-nobody"));
        return out;
    };
    let chosen = state
        .drafts
        .eval_participant
        .clone()
        .filter(|p| view.engine.participants().contains_key(p))
        .unwrap_or(first);
    ui.horizontal_wrapped(|ui| {
        for (id, p) in &people {
            let on = **id == chosen;
            let text = RichText::new(format!(" {} ", p.pseudonym))
                .background_color(colour(&p.colour))
                .color(Color32::BLACK)
                .strong();
            if ui.selectable_label(on, text).clicked() {
                state.drafts.eval_participant = Some((*id).clone());
            }
        }
    });
    let rater = lead_rater(&view.engine);
    if let Some(o) = raters(ui, view, state, rater.as_ref()) {
        out.push(o);
    }
    let result = evaluate(&view.engine, rubric, rater.as_ref());
    let Some(person) = result.participants.iter().find(|p| p.participant == chosen) else {
        return out;
    };
    ui.label(tr!(
        l,
        "eval-minutes",
        minutes = format!("{:.0}", result.minutes_observed)
    ));
    ui.separator();
    ui.add_enabled_ui(!view.observer, |ui| {
        egui::ScrollArea::vertical()
            .id_salt("evaluation")
            .max_height(ui.available_height() - 140.0)
            .show(ui, |ui| {
                for c in &person.competencies {
                    competency(ui, view, rubric, state, &chosen, c, &mut out);
                    ui.separator();
                }
            });
        debrief(ui, view, state, &chosen, &mut out);
    });
    out
}

/// Which rater's coding counts: the lead rater the facilitator named (a logged command, so the
/// synthesis reads the same), else who coded most; returns the command naming another one.
fn raters(
    ui: &mut Ui,
    view: &SessionView,
    state: &ConsoleState,
    rater: Option<&RaterId>,
) -> Option<Output> {
    let l = state.locale;
    let mut asked = None;
    let mut all: Vec<RaterId> = view
        .engine
        .observations()
        .iter()
        .map(|o| o.rater.clone())
        .collect();
    all.sort();
    all.dedup();
    ui.horizontal(|ui| {
        let label = ui.label(tr!(l, "eval-rater"));
        egui::ComboBox::from_id_salt("eval-rater")
            .selected_text(rater.map_or_else(|| tr!(l, "eval-no-rater"), |r| r.0.clone()))
            .show_ui(ui, |ui| {
                for r in &all {
                    if ui.selectable_label(Some(r) == rater, r.as_str()).clicked()
                        && Some(r) != rater
                        && !view.observer
                    {
                        asked = Some(cmd(Command::ChooseLeadRater { rater: r.clone() }));
                    }
                }
            })
            .response
            .labelled_by(label.id);
        if view.engine.chosen_lead_rater().is_none() && rater.is_some() {
            ui.label(RichText::new(tr!(l, "eval-rater-default")).small());
        }
    });
    asked
}

fn competency(
    ui: &mut Ui,
    view: &SessionView,
    rubric: &Rubric,
    state: &mut ConsoleState,
    who: &ParticipantId,
    c: &CompetencyResult,
    out: &mut Vec<Output>,
) {
    let l = state.locale;
    let proposed = proposed_level(&c.proposed);
    ui.label(RichText::new(&c.label).strong());
    let proposal = match &c.proposed {
        Proposed::Level {
            score_per_minute, ..
        } => tr!(
            l,
            "eval-proposed",
            level = level_name(rubric, proposed, l),
            score = format!("{score_per_minute:.2}")
        ),
        Proposed::NotObserved {
            observations,
            needed,
        } => tr!(
            l,
            "eval-proposed-none",
            observations = observations.to_string(),
            needed = needed.to_string()
        ),
    };
    ui.label(proposal);
    if let Some(s) = c.self_rating {
        ui.label(tr!(l, "eval-self", level = level_name(rubric, Some(s), l)));
    }
    if let Some(d) = &c.decision {
        let text = if d.decided.reason.trim().is_empty() {
            tr!(
                l,
                "eval-decided",
                level = level_name(rubric, d.decided.level, l)
            )
        } else {
            tr!(
                l,
                "eval-decided-because",
                level = level_name(rubric, d.decided.level, l),
                reason = d.decided.reason.as_str()
            )
        };
        let colour = if d.needs_reason {
            Color32::from_rgb(200, 40, 40)
        } else {
            Color32::from_rgb(40, 160, 70)
        };
        ui.label(RichText::new(text).color(colour));
        if d.needs_reason {
            ui.label(RichText::new(tr!(l, "eval-needs-reason")).color(colour));
        }
    }
    egui::CollapsingHeader::new(tr!(l, "eval-evidence", count = c.evidence.len()))
        .id_salt(("evidence", who.as_str(), c.competency.as_str()))
        .show(ui, |ui| {
            if c.evidence.is_empty() {
                ui.label(tr!(l, "eval-no-evidence"));
            }
            for e in &c.evidence {
                let phase = e
                    .phase
                    .as_ref()
                    .and_then(|p| view.engine.scenario().phases.iter().find(|x| x.id == *p))
                    .map_or_else(String::new, |p| format!(" · {}", p.title.fr));
                let source = match e.source {
                    Source::Observation => tr!(l, "eval-source-observation"),
                    Source::GameEvent => tr!(l, "eval-source-game"),
                };
                let sign = if e.contribution < 0.0 { "−" } else { "+" };
                // Clicked: the timeline at that moment.
                if ui
                    .link(format!(
                        "{} {sign} {}{phase} ({source})",
                        mmss(e.at),
                        e.what
                    ))
                    .on_hover_text(tr!(l, "eval-evidence-timeline"))
                    .clicked()
                {
                    state.timeline.show(e.at);
                    state.screen = super::Screen::Timeline;
                }
            }
        });
    let key = (who.clone(), c.competency.clone());
    let current = c.decision.as_ref().map_or(proposed, |d| d.decided.level);
    let draft = state
        .drafts
        .levels
        .entry(key)
        .or_insert_with(|| (current, String::new()));
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(tr!(l, "eval-retain"));
        egui::ComboBox::from_id_salt(("retain", who.as_str(), c.competency.as_str()))
            .selected_text(level_name(rubric, draft.0, l))
            .show_ui(ui, |ui| {
                let levels = (1..=u8::try_from(rubric.levels.len()).unwrap_or(u8::MAX))
                    .map(Some)
                    .chain([None]);
                for level in levels {
                    if ui
                        .selectable_label(draft.0 == level, level_name(rubric, level, l))
                        .clicked()
                    {
                        draft.0 = level;
                    }
                }
            })
            .response
            .labelled_by(label.id);
        let label = ui.label(tr!(l, "eval-reason"));
        ui.add(
            egui::TextEdit::singleline(&mut draft.1)
                .id_salt(("reason", who.as_str(), c.competency.as_str()))
                .desired_width(320.0),
        )
        .labelled_by(label.id);
        let changed = draft.0 != proposed;
        let ready = !changed || !draft.1.trim().is_empty();
        if ui
            .add_enabled(
                ready,
                egui::Button::new(tr!(l, "eval-confirm", competency = c.label.as_str())),
            )
            .clicked()
        {
            out.push(cmd(Command::DecideLevel {
                participant: who.clone(),
                competency: c.competency.clone(),
                level: draft.0,
                reason: draft.1.trim().to_owned(),
            }));
            draft.1.clear();
        }
        if !ready {
            ui.label(
                RichText::new(tr!(l, "eval-change-needs-reason"))
                    .color(Color32::from_rgb(200, 120, 0)),
            );
        }
    });
}

/// The debrief meeting and the consent, for one participant.
fn debrief(
    ui: &mut Ui,
    view: &SessionView,
    state: &mut ConsoleState,
    who: &ParticipantId,
    out: &mut Vec<Output>,
) {
    let l = state.locale;
    let d = view.engine.debriefs().get(who);
    ui.heading(tr!(l, "eval-debrief"));
    // The synthesis reads the person's sessions across weeks: it needs the register's person.
    if let Some(p) = view.engine.participants().get(who)
        && let Some(person) = &p.person
        && ui
            .button(tr!(l, "eval-synthesis", pseudonym = p.pseudonym.as_str()))
            .clicked()
    {
        state.synthesis.open_on(person.as_str());
        state.screen = super::Screen::Synthesis;
    }
    match d.and_then(|d| d.restitution) {
        Some(at) => {
            ui.label(tr!(l, "eval-restitution-done", at = mmss(at)));
        }
        None => {
            if ui.button(tr!(l, "eval-restitution")).clicked() {
                out.push(cmd(Command::RecordRestitution {
                    participant: who.clone(),
                }));
            }
        }
    }
    // The consent belongs to a version of the synthesis: it is asked there, once the person
    // has seen it.
    ui.label(RichText::new(tr!(l, "eval-consent-on-synthesis")).small());
}

/// Drafts kept per participant and competency.
pub type LevelDrafts = std::collections::BTreeMap<(ParticipantId, CompetencyId), LevelDraft>;
