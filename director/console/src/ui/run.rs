//! The run screen: the cue list with GO on Space and stop-all on Escape (QLab's conventions),
//! standby highlighted with its notes, the wait in progress, the timer, each puzzle with its
//! manual override, and the hint ladder of the current puzzle.

use super::keys::{self, Keys, Shortcut};
use super::{ConsoleState, Output, cmd, mmss, mmss_signed};
use crate::i18n::{Locale, tr};
use crate::view::SessionView;
use boussole_content::cue::{ContinueMode, Cue, Target};
use boussole_content::grid::PhysicalKey;
use boussole_content::ids::PuzzleId;
use boussole_content::puzzle::PuzzleKind;
use boussole_director::engine::{Command, GameEventKind, PuzzleStatus, WaitKind};
use egui::{Color32, RichText, Ui};

/// The run screen; disabled (read-only) on an observer console.
pub fn run(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) -> Vec<Output> {
    let keys = keys::read(ui);
    let (mut out, used) = run_keys(view, state, &keys);
    keys::consume(ui, &used);
    let l = state.locale;
    ui.add_enabled_ui(!view.observer, |ui| {
        controls(ui, view, l, &mut out);
        ui.separator();
        egui::ScrollArea::vertical().id_salt("run").show(ui, |ui| {
            // What the last GOs did first: right after a GO is when it is looked for.
            deliveries(ui, view, l);
            ui.separator();
            cue_list(ui, view, l, &mut out);
            ui.separator();
            puzzles(ui, view, state, &mut out);
            ui.separator();
            hints(ui, view, state, &mut out);
        });
    });
    out
}

/// The run keys (GO, stop-all, start, timer, next hint), also live on the coding screen; none
/// on an observer console. Returns the commands and the keys used.
pub(crate) fn run_keys(
    view: &SessionView,
    state: &ConsoleState,
    keys: &Keys,
) -> (Vec<Output>, Vec<PhysicalKey>) {
    let mut out = Vec::new();
    let mut used = Vec::new();
    if view.observer {
        return (out, used);
    }
    for press in &keys.presses {
        let c = match Shortcut::of(press) {
            Some(Shortcut::Go) => Command::Go,
            Some(Shortcut::StopAll) => Command::StopAll,
            Some(Shortcut::StartGame) => Command::StartGame,
            Some(Shortcut::PauseResume) => pause_or_resume(view),
            Some(Shortcut::MinusMinute) => Command::AdjustTimer(-60),
            Some(Shortcut::PlusMinute) => Command::AdjustTimer(60),
            Some(Shortcut::NextHint) => match current_puzzle(view, state) {
                Some(puzzle) => next_hint(puzzle, state),
                None => continue,
            },
            _ => continue,
        };
        out.push(cmd(c));
        used.push(press.key);
    }
    (out, used)
}

fn pause_or_resume(view: &SessionView) -> Command {
    if view.engine.timer_running() {
        Command::PauseTimer
    } else {
        Command::ResumeTimer
    }
}

fn next_hint(puzzle: PuzzleId, state: &ConsoleState) -> Command {
    Command::SendHint {
        puzzle,
        level: None,
        station: state.drafts.hint_station.clone(),
        participant: state.drafts.hint_participant.clone(),
    }
}

/// The puzzle whose hints are shown: the one chosen, else the first open one.
pub fn current_puzzle(view: &SessionView, state: &ConsoleState) -> Option<PuzzleId> {
    state.drafts.hint_puzzle.clone().or_else(|| {
        view.engine
            .scenario()
            .puzzles
            .iter()
            .find(|p| {
                matches!(
                    view.engine.puzzles().get(&p.id),
                    Some(PuzzleStatus::Open(_))
                )
            })
            .map(|p| p.id.clone())
    })
}

fn controls(ui: &mut Ui, view: &SessionView, l: Locale, out: &mut Vec<Output>) {
    ui.horizontal_wrapped(|ui| {
        let go = egui::Button::new(
            RichText::new(format!("GO ({})", Shortcut::Go.key_label(l)))
                .size(32.0)
                .strong(),
        )
        .fill(Color32::from_rgb(30, 120, 50));
        if ui.add(go).clicked() {
            out.push(cmd(Command::Go));
        }
        let stop = egui::Button::new(
            RichText::new(tr!(l, "stop-all", key = Shortcut::StopAll.key_label(l)))
                .size(24.0)
                .strong(),
        )
        .fill(Color32::from_rgb(150, 30, 30));
        if ui.add(stop).clicked() {
            out.push(cmd(Command::StopAll));
        }
        if view.engine.times().started.is_none()
            && ui.button(tr!(l, "start-game", key = "F10")).clicked()
        {
            out.push(cmd(Command::StartGame));
        }
        let pause = if view.engine.timer_running() {
            tr!(l, "timer-pause", key = "F7")
        } else {
            tr!(l, "timer-resume", key = "F7")
        };
        if ui.button(pause).clicked() {
            out.push(cmd(pause_or_resume(view)));
        }
        if ui.button(tr!(l, "timer-minus", key = "F8")).clicked() {
            out.push(cmd(Command::AdjustTimer(-60)));
        }
        if ui.button(tr!(l, "timer-plus", key = "F9")).clicked() {
            out.push(cmd(Command::AdjustTimer(60)));
        }
    });
    super::prepare::pause_all(ui, view, l, out);
    for w in view
        .engine
        .waits()
        .into_iter()
        .filter(|w| w.ends > view.now)
    {
        let name = view
            .engine
            .scenario()
            .cues
            .iter()
            .find(|c| c.id == w.cue)
            .map_or_else(|| w.cue.to_string(), |c| c.name.clone());
        let left = w.ends.0 - view.now.0;
        let span = w.ends.0.saturating_sub(w.started.0).max(1);
        // Rounded up: "00:00" while the wait still runs would read as stuck.
        let left = mmss_signed(i64::try_from(left.div_ceil(1000) * 1000).unwrap_or(i64::MAX));
        let text = match w.kind {
            WaitKind::PreWait => tr!(l, "wait-pre", name = name.as_str(), left = left.as_str()),
            WaitKind::PostWait => tr!(l, "wait-post", name = name.as_str(), left = left.as_str()),
        };
        let done = 1.0 - (w.ends.0 - view.now.0) as f32 / span as f32;
        ui.add(egui::ProgressBar::new(done).text(text));
    }
}

fn cue_list(ui: &mut Ui, view: &SessionView, l: Locale, out: &mut Vec<Output>) {
    let standby = view.engine.standby();
    // The next cue and its notes first: the list is long, and they are what GO fires.
    if let Some(cue) =
        standby.and_then(|id| view.engine.scenario().cues.iter().find(|c| c.id == *id))
    {
        ui.label(
            RichText::new(tr!(l, "cue-next", name = cue.name.as_str()))
                .strong()
                .size(20.0),
        );
        if !cue.notes.is_empty() {
            ui.label(RichText::new(tr!(l, "cue-notes", notes = cue.notes.as_str())).italics());
        }
    } else {
        ui.label(tr!(l, "cue-none"));
    }
    ui.heading(tr!(l, "cue-list"));
    egui::Grid::new("cues").striped(true).show(ui, |ui| {
        ui.label(tr!(l, "cue-number"));
        ui.label(tr!(l, "cue-name"));
        ui.label(tr!(l, "cue-kind"));
        ui.label(tr!(l, "cue-where"));
        ui.label(tr!(l, "cue-waits"));
        ui.label("");
        ui.end_row();
        for cue in &view.engine.scenario().cues {
            let on = standby == Some(&cue.id);
            let mark = |t: String| {
                if on {
                    RichText::new(t)
                        .strong()
                        .background_color(Color32::from_rgb(250, 210, 60))
                        .color(Color32::BLACK)
                } else {
                    RichText::new(t)
                }
            };
            let fired = view.engine.cue_fired(&cue.id);
            ui.label(mark(format!(
                "{} {}",
                if on {
                    "▶"
                } else if fired {
                    "✔"
                } else {
                    " "
                },
                cue.number
            )));
            if fired && !on {
                ui.label(RichText::new(cue.name.clone()).weak());
            } else {
                ui.label(mark(cue.name.clone()));
            }
            ui.label(cue.kind.label_fr());
            let (on_devices, missing) = targets(cue, view, l);
            ui.label(if missing {
                RichText::new(on_devices).color(super::NOTICE)
            } else {
                RichText::new(on_devices)
            });
            ui.label(waits(cue, l));
            if !on && ui.small_button(tr!(l, "cue-standby")).clicked() {
                out.push(cmd(Command::Standby(cue.id.clone())));
            } else if on {
                ui.label(tr!(l, "cue-in-standby"));
            }
            ui.end_row();
        }
    });
}

/// How many of the last firings the delivery view shows.
const DELIVERIES_SHOWN: usize = 2;

/// A start later than this, ms, is shown in amber: people notice audio and picture out of
/// step from about 45 ms (ITU-R BT.1359's detectability threshold for sound ahead).
const LATE_MS: u32 = 45;

/// The delivery view: the lead of scheduled starts, then each of the last firings with which
/// targeted devices started it and how late, which only received it, and which have not
/// even received it (in amber, as every problem).
fn deliveries(ui: &mut Ui, view: &SessionView, l: Locale) {
    let all = view.engine.deliveries();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(tr!(l, "delivery-title")).strong());
        ui.label(RichText::new(tr!(l, "delivery-lead", ms = view.engine.cue_lead_ms())).weak());
    });
    if all.is_empty() {
        ui.label(tr!(l, "delivery-none"));
        return;
    }
    let name = |id: &boussole_director::engine::DeviceId| device_name(view, id);
    let cue_name = |id: &boussole_content::ids::CueId| {
        view.engine
            .scenario()
            .cues
            .iter()
            .find(|c| c.id == *id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    for d in all.iter().take(DELIVERIES_SHOWN) {
        let started = d
            .targets
            .iter()
            .filter(|t| d.started.contains_key(*t))
            .count();
        let head = tr!(
            l,
            "delivery-cue",
            name = cue_name(&d.cue),
            at = mmss(d.start_at),
            started = started,
            total = d.targets.len()
        );
        let complete = started == d.targets.len();
        ui.horizontal_wrapped(|ui| {
            ui.label(if complete {
                RichText::new(head)
            } else {
                RichText::new(head).color(super::NOTICE)
            });
            for t in &d.targets {
                let who = name(t);
                let (text, late) = match (d.started.get(t), d.received.contains(t)) {
                    (Some(ms), _) => {
                        let late: u32 = *ms;
                        (
                            tr!(l, "delivery-started", who = who, ms = late),
                            late > LATE_MS,
                        )
                    }
                    (None, true) => (
                        tr!(l, "delivery-received", who = who),
                        view.now > d.start_at.plus_ms(2_000),
                    ),
                    (None, false) => (tr!(l, "delivery-missing", who = who), true),
                };
                ui.label(if late {
                    RichText::new(text).color(super::NOTICE)
                } else {
                    RichText::new(text)
                });
            }
            if d.targets.is_empty() {
                ui.label(tr!(l, "delivery-no-target"));
            }
        });
    }
}

/// A device by the name the facilitator gave it, else its id.
fn device_name(view: &SessionView, id: &boussole_director::engine::DeviceId) -> String {
    view.desk
        .as_ref()
        .and_then(|d| d.device_names.get(id.as_str()))
        .cloned()
        .unwrap_or_else(|| id.to_string())
}

/// Where `cue` plays: the devices of its targets, by the names the facilitator gave them (else
/// their ids); a target no device of the session serves is said, and flagged (`true`).
fn targets(cue: &Cue, view: &SessionView, l: Locale) -> (String, bool) {
    let name = |id: &boussole_director::engine::DeviceId| device_name(view, id);
    let mut missing = false;
    let parts: Vec<String> = cue
        .targets
        .iter()
        .map(|t| {
            let (names, what): (Vec<String>, String) = match t {
                Target::Role(role) => (
                    view.engine
                        .devices()
                        .iter()
                        .filter(|(_, d)| d.role == *role)
                        .map(|(id, _)| name(id))
                        .collect(),
                    role.label_fr().to_owned(),
                ),
                Target::Station(station) => (
                    view.engine
                        .devices()
                        .iter()
                        .filter(|(_, d)| d.station.as_ref() == Some(station))
                        .map(|(id, _)| name(id))
                        .collect(),
                    station.to_string(),
                ),
            };
            if names.is_empty() {
                missing = true;
                tr!(l, "cue-no-device", what = what)
            } else {
                names.join(", ")
            }
        })
        .collect();
    (parts.join(" ; "), missing)
}

fn waits(cue: &Cue, l: Locale) -> String {
    // Words, not arrows: egui's fonts have no glyph for ↦.
    let cont = match cue.continue_mode {
        ContinueMode::DoNotContinue => String::new(),
        ContinueMode::AutoContinue => format!(", {}", tr!(l, "cue-auto-continue")),
        ContinueMode::AutoFollow => format!(", {}", tr!(l, "cue-auto-follow")),
    };
    tr!(
        l,
        "cue-wait-values",
        pre = format!("{:.1}", cue.pre_wait_s),
        post = format!("{:.1}", cue.post_wait_s)
    ) + &cont
}

fn puzzles(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    ui.heading(tr!(l, "puzzles"));
    for p in &view.engine.scenario().puzzles {
        let status = view.engine.puzzles().get(&p.id);
        let who = |by: &Option<boussole_director::engine::ParticipantId>| {
            by.as_ref()
                .and_then(|id| view.engine.participants().get(id))
                .map_or_else(String::new, |x| x.pseudonym.clone())
        };
        let text = match status {
            Some(PuzzleStatus::Open(at)) => tr!(l, "puzzle-open", since = mmss(*at)),
            Some(PuzzleStatus::Solved {
                at,
                by,
                forced: Some(reason),
            }) => tr!(
                l,
                "puzzle-forced",
                at = mmss(*at),
                reason = reason.as_str(),
                by = who(by)
            ),
            Some(PuzzleStatus::Solved { at, by, .. }) => {
                tr!(l, "puzzle-solved", at = mmss(*at), by = who(by))
            }
            _ => tr!(l, "puzzle-locked"),
        };
        let given = view.engine.hints_given().get(&p.id).copied().unwrap_or(0);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(&p.title.fr).strong());
            ui.label(text);
            ui.label(tr!(l, "puzzle-hints", given = given, total = p.hints.len()));
            // A headset-guided puzzle: whether the headset has shown its view yet.
            if matches!(p.kind, PuzzleKind::HeadsetGuided { .. })
                && matches!(status, Some(PuzzleStatus::Open(_)))
            {
                let shown = view.engine.game_events().iter().find_map(|e| {
                    (e.kind == GameEventKind::HeadsetViewSeen(p.id.clone())).then_some(e.at)
                });
                match shown {
                    Some(at) => ui.label(tr!(l, "puzzle-headset-shown", at = mmss(at))),
                    None => ui.label(
                        RichText::new(tr!(l, "puzzle-headset-not-shown"))
                            .color(Color32::from_rgb(230, 150, 0)),
                    ),
                };
                // The headset of its seat runs an immersion: which comes first? Left alone,
                // the puzzle shows when the immersion ends.
                if shown.is_none()
                    && let PuzzleKind::HeadsetGuided {
                        headset_station, ..
                    } = &p.kind
                {
                    let busy = view.engine.devices().iter().find(|(id, d)| {
                        d.station.as_ref() == Some(headset_station)
                            && view
                                .engine
                                .immersions()
                                .get(*id)
                                .is_some_and(|r| r.started.is_some() && r.stopped.is_none())
                    });
                    if let Some((device, _)) = busy {
                        ui.label(tr!(l, "puzzle-headset-busy"));
                        if ui.button(tr!(l, "puzzle-headset-stop-immersion")).clicked() {
                            out.push(cmd(Command::StopImmersion {
                                device: device.clone(),
                            }));
                        }
                    }
                }
            }
        });
        if matches!(status, Some(PuzzleStatus::Solved { .. })) {
            continue;
        }
        ui.horizontal_wrapped(|ui| {
            let reason = state.drafts.force_reason.entry(p.id.clone()).or_default();
            ui.add(
                egui::TextEdit::singleline(reason)
                    .hint_text(tr!(l, "force-reason-hint"))
                    .desired_width(320.0),
            )
            .labelled_by(ui.label(tr!(l, "force-reason")).id);
            if ui
                .button(tr!(l, "force-solve", puzzle = p.title.fr.as_str()))
                .clicked()
            {
                let reason = reason.trim().to_owned();
                if reason.is_empty() {
                    state.drafts.force_refused = Some(p.id.clone());
                } else {
                    state.drafts.force_reason.remove(&p.id);
                    state.drafts.force_refused = None;
                    out.push(cmd(Command::ForceSolve {
                        puzzle: p.id.clone(),
                        reason,
                    }));
                }
            }
        });
        if state.drafts.force_refused.as_ref() == Some(&p.id) {
            ui.label(
                RichText::new(tr!(l, "force-needs-reason")).color(Color32::from_rgb(200, 40, 40)),
            );
        }
    }
}

fn hints(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    ui.heading(tr!(l, "hints"));
    let scenario = view.engine.scenario();
    let current = current_puzzle(view, state);
    ui.horizontal_wrapped(|ui| {
        for p in &scenario.puzzles {
            if matches!(
                view.engine.puzzles().get(&p.id),
                Some(PuzzleStatus::Open(_))
            ) && ui
                .selectable_label(current.as_ref() == Some(&p.id), &p.title.fr)
                .clicked()
            {
                state.drafts.hint_puzzle = Some(p.id.clone());
            }
        }
    });
    let Some(puzzle) = current.and_then(|id| scenario.puzzles.iter().find(|p| p.id == id)) else {
        ui.label(tr!(l, "hints-none"));
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!(l, "hint-target"));
        if ui
            .selectable_label(state.drafts.hint_station.is_none(), tr!(l, "hint-room"))
            .clicked()
        {
            state.drafts.hint_station = None;
        }
        for s in &puzzle.stations {
            let on = state.drafts.hint_station.as_ref() == Some(s);
            if ui.selectable_label(on, s.to_string()).clicked() {
                state.drafts.hint_station = Some(s.clone());
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!(l, "hint-for"));
        if ui
            .selectable_label(
                state.drafts.hint_participant.is_none(),
                tr!(l, "hint-for-group"),
            )
            .clicked()
        {
            state.drafts.hint_participant = None;
        }
        for (id, p) in super::participants(view) {
            let on = state.drafts.hint_participant.as_ref() == Some(id);
            if ui
                .selectable_label(on, tr!(l, "hint-for-one", name = p.pseudonym.as_str()))
                .clicked()
            {
                state.drafts.hint_participant = Some(id.clone());
            }
        }
    });
    let given = view
        .engine
        .hints_given()
        .get(&puzzle.id)
        .copied()
        .unwrap_or(0);
    for (i, h) in puzzle.hints.iter().enumerate() {
        let level = u8::try_from(i + 1).unwrap_or(u8::MAX);
        ui.horizontal_wrapped(|ui| {
            let mark = if level <= given { "✔" } else { "·" };
            ui.label(format!("{mark} {level}. {}", h.text.fr));
            if h.cost_s > 0 {
                ui.label(tr!(l, "hint-cost", seconds = h.cost_s));
            }
            if ui
                .small_button(tr!(l, "hint-send-level", level = level))
                .clicked()
            {
                out.push(cmd(Command::SendHint {
                    puzzle: puzzle.id.clone(),
                    level: Some(level),
                    station: state.drafts.hint_station.clone(),
                    participant: state.drafts.hint_participant.clone(),
                }));
            }
        });
    }
    if ui
        .button(tr!(l, "hint-send-next", key = "Ctrl+H"))
        .clicked()
    {
        out.push(cmd(next_hint(puzzle.id.clone(), state)));
    }
    for e in view.engine.game_events() {
        if e.kind == GameEventKind::HintRequested(puzzle.id.clone()) {
            let who = e
                .participant
                .as_ref()
                .and_then(|p| view.engine.participants().get(p))
                .map_or_else(|| tr!(l, "someone"), |p| p.pseudonym.clone());
            ui.label(tr!(l, "hint-asked", who = who, at = mmss(e.at)));
        }
    }
}
