//! The coding screen: the observation grid as keys bound by physical position, participant
//! selection, point and state events (tap to toggle, hold to code a span), modifiers as one
//! extra key, undo, a free note, each participant's timeline and their coverage.

use super::keys::{self, Keys, PARTICIPANT_KEYS, Shortcut, both_labels};
use super::{
    ConsoleState, HOLD_S, HeldKey, MODIFIER_WAIT_S, Output, PendingCode, cmd, colour, mmss,
    participants,
};
use crate::i18n::{Locale, tr};
use crate::view::SessionView;
use boussole_content::grid::{Behaviour, EventKind, PhysicalKey};
use boussole_content::ids::{BehaviourId, ModifierId};
use boussole_director::engine::{Command, Millis, ObservationAction, ParticipantId};
use egui::{Color32, RichText, Ui};

/// When a participant's coverage turns amber and red: time since this rater last coded them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoverageThresholds {
    /// Amber after this long unobserved, ms (default 5 min).
    pub amber_ms: u64,
    /// Red after this long unobserved, ms (default 10 min).
    pub red_ms: u64,
}

impl Default for CoverageThresholds {
    fn default() -> Self {
        Self {
            amber_ms: 5 * 60_000,
            red_ms: 10 * 60_000,
        }
    }
}

/// How recently a participant was observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CoverageLevel {
    /// Observed recently enough (or the game has not started).
    Fresh,
    /// Not observed for the amber threshold.
    Amber,
    /// Not observed for the red threshold.
    Red,
}

/// A participant's coverage by this rater.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// The level.
    pub level: CoverageLevel,
    /// Time since they were last observed (or since the game started, if never), ms.
    pub unobserved_ms: u64,
    /// When this rater last observed them (a state still open counts as now).
    pub last: Option<Millis>,
}

/// How long `participant` has gone unobserved by this rater (`view.me`) at `view.now`, and the
/// level it gives against `thresholds`.
///
/// Observations and notes about the participant count, withdrawn ones do not; a state event
/// still open counts as observing them now; a stopped one counts at its stop. Before the game
/// starts nobody is due; after the session closes the clock stops at the close.
pub fn coverage(
    view: &SessionView,
    participant: &ParticipantId,
    thresholds: &CoverageThresholds,
) -> Coverage {
    let times = view.engine.times();
    let now = times.closed.map_or(view.now, |c| c.min(view.now));
    let last = view
        .engine
        .observations()
        .iter()
        .filter(|o| {
            o.rater == view.me
                && o.retracted.is_none()
                && o.participant.as_ref() == Some(participant)
        })
        .map(|o| if o.open { now } else { o.until.unwrap_or(o.at) })
        .max();
    let Some(started) = times.started else {
        return Coverage {
            level: CoverageLevel::Fresh,
            unobserved_ms: 0,
            last,
        };
    };
    let since = last.map_or(started, |l| l.max(started));
    let unobserved_ms = now.0.saturating_sub(since.0);
    let level = if unobserved_ms >= thresholds.red_ms {
        CoverageLevel::Red
    } else if unobserved_ms >= thresholds.amber_ms {
        CoverageLevel::Amber
    } else {
        CoverageLevel::Fresh
    };
    Coverage {
        level,
        unobserved_ms,
        last,
    }
}

/// The colour of a coverage level.
pub fn coverage_colour(level: CoverageLevel) -> Color32 {
    match level {
        CoverageLevel::Fresh => Color32::from_rgb(40, 160, 70),
        CoverageLevel::Amber => Color32::from_rgb(230, 150, 0),
        CoverageLevel::Red => Color32::from_rgb(210, 40, 40),
    }
}

/// Whether `rater` has a state event of `behaviour` open for `participant`.
pub fn state_open(
    view: &SessionView,
    participant: &ParticipantId,
    behaviour: &BehaviourId,
) -> bool {
    view.engine.observations().iter().any(|o| {
        o.open
            && o.retracted.is_none()
            && o.rater == view.me
            && o.participant.as_ref() == Some(participant)
            && o.behaviour.as_ref() == Some(behaviour)
    })
}

/// The coding screen (an observer console codes too). GO and stop-all keep working here.
pub fn coding(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) -> Vec<Output> {
    let keys = keys::read(ui);
    let (mut out, mut used) = super::run::run_keys(view, state, &keys);
    let opened_note = coding_keys(view, state, &keys, &mut out, &mut used);
    keys::consume(ui, &used);
    if state.pending.is_some() {
        ui.ctx().request_repaint_after_secs(0.25);
    }
    draw(ui, view, state, opened_note, &mut out);
    out
}

fn send(
    view: &SessionView,
    state: &mut ConsoleState,
    p: PendingCode,
    modifier: Option<ModifierId>,
    out: &mut Vec<Output>,
) {
    state.last_modifier.clone_from(&modifier);
    out.push(cmd(Command::Observe {
        rater: view.me.clone(),
        participant: p.participant,
        behaviour: p.behaviour,
        action: p.action,
        modifier,
    }));
}

/// The modifier of `behaviour`'s set at `key`, if any.
fn modifier_at(
    view: &SessionView,
    behaviour: &BehaviourId,
    key: PhysicalKey,
) -> Option<ModifierId> {
    let grid = view.engine.grid();
    let set = grid
        .behaviours
        .iter()
        .find(|b| b.id == *behaviour)?
        .modifiers
        .as_ref()?;
    grid.modifier_sets
        .iter()
        .find(|s| s.id == *set)?
        .modifiers
        .iter()
        .find(|m| m.key == key)
        .map(|m| m.id.clone())
}

/// Handles the coding keys; returns whether the note field was opened this frame.
fn coding_keys(
    view: &SessionView,
    state: &mut ConsoleState,
    keys: &Keys,
    out: &mut Vec<Output>,
    used: &mut Vec<PhysicalKey>,
) -> bool {
    let mut opened_note = false;
    if let Some(p) = state
        .pending
        .take_if(|p| keys.time - p.since > MODIFIER_WAIT_S)
    {
        send(view, state, p, None, out);
    }
    for press in &keys.presses {
        if used.contains(&press.key) && press.pressed {
            continue;
        }
        if !press.pressed {
            if let Some(held) = state.held.remove(&press.key)
                && let Some((participant, behaviour)) = held.started
                && keys.time - held.since > HOLD_S
            {
                if let Some(p) = state.pending.take() {
                    send(view, state, p, None, out);
                }
                out.push(cmd(Command::Observe {
                    rater: view.me.clone(),
                    participant,
                    behaviour,
                    action: ObservationAction::Stop,
                    modifier: None,
                }));
                used.push(press.key);
            }
            continue;
        }
        if let Some(p) = state.pending.take() {
            if press.bare()
                && let Some(m) = modifier_at(view, &p.behaviour, press.key)
            {
                send(view, state, p, Some(m), out);
                used.push(press.key);
                continue;
            }
            send(view, state, p, None, out);
        }
        match Shortcut::of(press) {
            Some(Shortcut::SelectParticipant) => {
                let i = PARTICIPANT_KEYS.iter().position(|k| *k == press.key);
                if let Some((id, _)) = i.and_then(|i| participants(view).get(i).copied()) {
                    state.selected = Some(id.clone());
                }
                used.push(press.key);
            }
            Some(Shortcut::SelectGroup) => {
                state.selected = None;
                used.push(press.key);
            }
            Some(Shortcut::Undo) => {
                out.push(cmd(Command::Undo {
                    rater: view.me.clone(),
                }));
                used.push(press.key);
            }
            Some(Shortcut::Note) => {
                if state.drafts.note.is_none() {
                    state.drafts.note = Some(String::new());
                    opened_note = true;
                }
                used.push(press.key);
            }
            Some(_) => {}
            None if press.bare() => {
                let Some(b) = view
                    .engine
                    .grid()
                    .behaviours
                    .iter()
                    .find(|b| b.key == press.key)
                else {
                    continue;
                };
                used.push(press.key);
                code(view, state, b, keys.time, Some(press.key), out);
            }
            None => {}
        }
    }
    opened_note
}

/// A behaviour key down (or its button clicked, `key` then `None`): point, start or stop.
fn code(
    view: &SessionView,
    state: &mut ConsoleState,
    b: &Behaviour,
    time: f64,
    key: Option<PhysicalKey>,
    out: &mut Vec<Output>,
) {
    let Some(participant) = state.selected.clone() else {
        return;
    };
    let action = match b.kind {
        EventKind::Point => ObservationAction::Point,
        EventKind::State if state_open(view, &participant, &b.id) => ObservationAction::Stop,
        EventKind::State => ObservationAction::Start,
    };
    if let Some(k) = key {
        let started =
            (action == ObservationAction::Start).then(|| (participant.clone(), b.id.clone()));
        state.held.insert(
            k,
            HeldKey {
                since: time,
                started,
            },
        );
    }
    let pending = PendingCode {
        participant,
        behaviour: b.id.clone(),
        action,
        since: time,
    };
    if action != ObservationAction::Stop && b.modifiers.is_some() && key.is_some() {
        state.pending = Some(pending);
    } else {
        send(view, state, pending, None, out);
    }
}

fn draw(
    ui: &mut Ui,
    view: &SessionView,
    state: &mut ConsoleState,
    opened_note: bool,
    out: &mut Vec<Output>,
) {
    let l = state.locale;
    participant_row(ui, view, state);
    ui.separator();
    let selected_name = state
        .selected
        .as_ref()
        .and_then(|p| view.engine.participants().get(p))
        .map(|p| p.pseudonym.clone());
    match &selected_name {
        Some(name) => {
            ui.label(RichText::new(tr!(l, "coding-selected", name = name.as_str())).strong())
        }
        None => ui.label(
            RichText::new(tr!(l, "coding-select-first")).color(Color32::from_rgb(200, 40, 40)),
        ),
    };
    if let Some(p) = &state.pending {
        let keys: Vec<String> = view
            .engine
            .grid()
            .behaviours
            .iter()
            .find(|b| b.id == p.behaviour)
            .and_then(|b| b.modifiers.as_ref())
            .and_then(|s| view.engine.grid().modifier_sets.iter().find(|x| x.id == *s))
            .map(|s| {
                s.modifiers
                    .iter()
                    .map(|m| format!("{} {}", both_labels(m.key), m.label))
                    .collect()
            })
            .unwrap_or_default();
        ui.label(RichText::new(tr!(l, "coding-pending", keys = keys.join(", "))).italics());
    }
    ui.horizontal_wrapped(|ui| {
        if ui
            .button(tr!(l, "coding-undo", key = Shortcut::Undo.key_label(l)))
            .clicked()
        {
            out.push(cmd(Command::Undo {
                rater: view.me.clone(),
            }));
        }
        if state.drafts.note.is_none()
            && ui
                .button(tr!(l, "coding-note", key = Shortcut::Note.key_label(l)))
                .clicked()
        {
            state.drafts.note = Some(String::new());
        }
    });
    note_field(ui, view, state, opened_note, out);
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("coding")
        .show(ui, |ui| {
            behaviours(ui, view, state, out);
            ui.separator();
            timeline(ui, view, l, state.selected.as_ref());
        });
}

fn participant_row(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) {
    let l = state.locale;
    ui.horizontal_wrapped(|ui| {
        for (i, (id, p)) in participants(view).into_iter().enumerate() {
            let digit = PARTICIPANT_KEYS.get(i).map_or("", |k| k.qwerty_label());
            let cov = coverage(view, id, &state.thresholds);
            let on = state.selected.as_ref() == Some(id);
            let text = RichText::new(format!("{digit} {}", p.pseudonym))
                .strong()
                .color(Color32::BLACK);
            let button = egui::Button::new(text)
                .fill(colour(&p.colour))
                .stroke(if on {
                    egui::Stroke::new(4.0, Color32::WHITE)
                } else {
                    egui::Stroke::NONE
                });
            if ui.add(button).clicked() {
                state.selected = Some(id.clone());
            }
            let minutes = cov.unobserved_ms / 60_000;
            let label = match cov.level {
                CoverageLevel::Fresh => tr!(
                    l,
                    "coverage-fresh",
                    name = p.pseudonym.as_str(),
                    minutes = minutes
                ),
                CoverageLevel::Amber => tr!(
                    l,
                    "coverage-amber",
                    name = p.pseudonym.as_str(),
                    minutes = minutes
                ),
                CoverageLevel::Red => tr!(
                    l,
                    "coverage-red",
                    name = p.pseudonym.as_str(),
                    minutes = minutes
                ),
            };
            ui.label(
                RichText::new(label)
                    .color(coverage_colour(cov.level))
                    .strong(),
            );
            ui.add_space(12.0);
        }
    });
}

fn note_field(
    ui: &mut Ui,
    view: &SessionView,
    state: &mut ConsoleState,
    opened: bool,
    out: &mut Vec<Output>,
) {
    let l = state.locale;
    let Some(text) = state.drafts.note.as_mut() else {
        return;
    };
    let mut close = false;
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(tr!(l, "note-label"));
        let r = ui
            .add(egui::TextEdit::singleline(text).desired_width(500.0))
            .labelled_by(label.id);
        if opened {
            r.request_focus();
        }
        if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            let t = text.trim().to_owned();
            if !t.is_empty() {
                out.push(cmd(Command::Note {
                    rater: view.me.clone(),
                    participant: state.selected.clone(),
                    text: t,
                }));
            }
            close = true;
        }
        if ui.button(tr!(l, "note-cancel")).clicked() {
            close = true;
        }
    });
    if close {
        state.drafts.note = None;
    }
}

fn behaviours(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    let grid = view.engine.grid();
    let mut clicked = None;
    egui::Grid::new("behaviours").striped(true).show(ui, |ui| {
        ui.label(tr!(l, "grid-key"));
        ui.label(tr!(l, "grid-behaviour"));
        ui.label(tr!(l, "grid-kind"));
        ui.end_row();
        for b in &grid.behaviours {
            ui.label(RichText::new(both_labels(b.key)).monospace().strong());
            let running = state
                .selected
                .as_ref()
                .is_some_and(|p| state_open(view, p, &b.id));
            let text = if running {
                RichText::new(format!("● {}", b.label)).color(Color32::from_rgb(210, 40, 40))
            } else {
                RichText::new(&b.label)
            };
            if ui
                .add_enabled(state.selected.is_some(), egui::Button::new(text))
                .on_hover_text(&b.definition)
                .clicked()
            {
                clicked = Some(b.clone());
            }
            ui.label(match b.kind {
                EventKind::Point => tr!(l, "kind-point"),
                EventKind::State => tr!(l, "kind-state"),
            });
            ui.end_row();
        }
    });
    if let Some(b) = clicked {
        code(view, state, &b, 0.0, None, out);
    }
    for set in &grid.modifier_sets {
        let list: Vec<String> = set
            .modifiers
            .iter()
            .map(|m| format!("{} {}", both_labels(m.key), m.label))
            .collect();
        ui.label(format!("{} : {}", set.label, list.join(" · ")));
    }
}

/// This rater's codes about `participant` (or everyone's group notes), newest first, stamped
/// with phase and puzzles.
fn timeline(ui: &mut Ui, view: &SessionView, l: Locale, participant: Option<&ParticipantId>) {
    ui.heading(tr!(l, "timeline"));
    let grid = view.engine.grid();
    for o in view.engine.observations().iter().rev() {
        if o.rater != view.me || o.participant.as_ref() != participant {
            continue;
        }
        let what = match (&o.behaviour, &o.note) {
            (Some(b), _) => grid
                .behaviours
                .iter()
                .find(|x| x.id == *b)
                .map_or_else(|| b.to_string(), |x| x.label.clone()),
            (None, Some(n)) => tr!(l, "timeline-note", text = n.as_str()),
            (None, None) => String::new(),
        };
        let span = match (o.open, o.until) {
            (true, _) => tr!(l, "timeline-running"),
            (false, Some(u)) => format!("→ {}", mmss(u)),
            _ => String::new(),
        };
        let modifier = o
            .modifier
            .as_ref()
            .map_or_else(String::new, |m| format!(" [{m}]"));
        let phase = o
            .phase
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        let puzzles: Vec<String> = o.puzzles.iter().map(ToString::to_string).collect();
        let mut text = RichText::new(format!(
            "{} {what}{modifier} {span} · {phase} · {}",
            mmss(o.at),
            puzzles.join(", ")
        ));
        if o.retracted.is_some() {
            text = text.strikethrough().weak();
        }
        ui.label(text);
    }
}
