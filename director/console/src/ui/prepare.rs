//! The preparation screen: the session's scenario, participants (pseudonym, colour, a name for
//! the protected table), stations, devices and their pairing, headsets' immersions. (The
//! consent to send a synthesis on is asked after the debrief, on the synthesis screen.)

use super::{ConsoleAction, ConsoleState, Output, cmd, colour, participants};
use crate::i18n::{Locale, tr};
use crate::view::SessionView;
use boussole_content::cue::DeviceRole;
use boussole_content::ids::ImmersionId;
use boussole_director::engine::{
    Command, DeviceId, GameEventKind, ImmersionRun, ParticipantId, PersonId,
};
use boussole_director::register::RegisterEntry;
use boussole_protocol::wire::PROTOCOL_VERSION;
use egui::{RichText, Ui};

/// Colours offered to new participants, in order (distinct for colour-blind viewers first).
pub const PALETTE: [&str; 10] = [
    "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#999999",
    "#a6761d", "#66a61e",
];

/// The preparation screen; disabled on an observer console.
pub fn prepare(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) -> Vec<Output> {
    let mut out = Vec::new();
    ui.add_enabled_ui(!view.observer, |ui| {
        egui::ScrollArea::vertical()
            .id_salt("prepare")
            .show(ui, |ui| {
                scenario(ui, view, state.locale);
                ui.separator();
                people(ui, view, state, &mut out);
                ui.separator();
                pairing(ui, view, state, &mut out);
                outdated(ui, view, state.locale);
                ui.separator();
                register(ui, view, state, &mut out);
                ui.separator();
                headsets(ui, view, state, &mut out);
            });
    });
    out
}

/// The participants' information notice: each person enrolled who was never given it (their
/// first session) is named, with the notice in simple words to read with them, and a button
/// per person that records it in the register (who gave it, when).
fn notice(ui: &mut Ui, view: &SessionView, state: &ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    let missing: Vec<(String, String)> = view
        .engine
        .participants()
        .values()
        .filter_map(|p| {
            let person = p.person.as_ref()?;
            let entry = view.register.persons.iter().find(|e| e.id == person.0)?;
            entry
                .notice_given_on
                .is_none()
                .then(|| (entry.id.clone(), entry.pseudonym.clone()))
        })
        .collect();
    if missing.is_empty() {
        if !view.engine.participants().is_empty() && !view.register.persons.is_empty() {
            ui.label(RichText::new(tr!(l, "notice-all-given")).small());
        }
        return;
    }
    let names: Vec<&str> = missing.iter().map(|(_, p)| p.as_str()).collect();
    ui.label(
        RichText::new(tr!(l, "notice-to-give", names = names.join(", ")))
            .color(super::NOTICE)
            .strong(),
    );
    egui::CollapsingHeader::new(tr!(l, "notice-title"))
        .id_salt("notice")
        .default_open(true)
        .show(ui, |ui| {
            for line in [
                tr!(l, "notice-1"),
                tr!(l, "notice-2"),
                tr!(l, "notice-3"),
                tr!(l, "notice-4"),
                tr!(l, "notice-5"),
                tr!(l, "notice-6"),
            ] {
                ui.label(format!("• {line}"));
            }
            ui.label(RichText::new(tr!(l, "notice-paper")).small());
        });
    let by = view
        .desk
        .as_ref()
        .map(|d| d.facilitator.clone())
        .unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        for (person, pseudonym) in &missing {
            if ui
                .button(tr!(l, "notice-given", name = pseudonym.as_str()))
                .clicked()
            {
                out.push(Output::Action(ConsoleAction::Register(
                    boussole_director::register::RegisterRequest::NoticeGiven {
                        person: person.clone(),
                        by: by.clone(),
                    },
                )));
            }
        }
    });
}

fn scenario(ui: &mut Ui, view: &SessionView, l: Locale) {
    let s = view.engine.scenario();
    ui.heading(tr!(l, "prepare-scenario", title = s.title.fr.as_str()));
    ui.label(&s.summary);
    if super::is_immersion_session(view) {
        ui.label(tr!(l, "prepare-immersion-facts"));
    } else {
        ui.label(tr!(
            l,
            "prepare-scenario-facts",
            minutes = s.duration_minutes,
            min = s.team.min,
            max = s.team.max
        ));
    }
    egui::CollapsingHeader::new(tr!(l, "prepare-checklist"))
        .id_salt("checklist")
        .show(ui, |ui| {
            for item in &s.setup_checklist {
                ui.label(format!("☐ {item}"));
            }
        });
}

fn people(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    ui.heading(tr!(l, "prepare-participants"));
    // Fewer than the game is made for: said, never refused (a group may be short one day).
    let team = view.engine.scenario().team;
    let enrolled = view.engine.participants().len();
    if enrolled > 0 && enrolled < usize::from(team.min) && view.engine.times().started.is_none() {
        ui.label(
            RichText::new(tr!(l, "prepare-few", count = enrolled, min = team.min))
                .color(egui::Color32::from_rgb(200, 120, 0))
                .strong(),
        );
    }
    // First comers: the information notice comes before the game.
    notice(ui, view, state, out);
    let stations = &view.engine.scenario().stations;
    for (i, (id, p)) in participants(view).into_iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            let digit = super::keys::PARTICIPANT_KEYS
                .get(i)
                .map_or("", |k| k.qwerty_label());
            ui.label(
                RichText::new(format!(" {digit} {} ", p.pseudonym))
                    .background_color(colour(&p.colour))
                    .color(egui::Color32::BLACK)
                    .strong(),
            );
            // An immersion session has no stations: its people are in headsets.
            if !stations.is_empty() {
                egui::ComboBox::from_id_salt(("station", id.as_str()))
                    .selected_text(
                        p.station
                            .as_ref()
                            .map_or_else(|| tr!(l, "prepare-no-station"), ToString::to_string),
                    )
                    .show_ui(ui, |ui| {
                        if ui
                            .selectable_label(p.station.is_none(), tr!(l, "prepare-no-station"))
                            .clicked()
                        {
                            out.push(cmd(Command::AssignStation {
                                participant: id.clone(),
                                station: None,
                            }));
                        }
                        for s in stations {
                            let on = p.station.as_ref() == Some(&s.id);
                            if ui
                                .selectable_label(on, format!("{} ({})", s.id, s.label))
                                .clicked()
                            {
                                out.push(cmd(Command::AssignStation {
                                    participant: id.clone(),
                                    station: Some(s.id.clone()),
                                }));
                            }
                        }
                    });
            }
            let moving = state
                .drafts
                .moving
                .as_ref()
                .is_some_and(|(m, _, _)| m == id);
            if !moving && ui.button(tr!(l, "prepare-move")).clicked() {
                state.drafts.moving = Some((id.clone(), None, String::new()));
            }
        });
        if state
            .drafts
            .moving
            .as_ref()
            .is_some_and(|(m, _, _)| m == id)
        {
            move_slot(ui, view, state, id, p.person.as_ref(), out);
        }
    }
    let d = &mut state.drafts;
    // Empty, or taken meanwhile (the slot enrolled a moment ago, echoed by the director after
    // this draft was filled): the next free colour.
    let taken = view
        .engine
        .participants()
        .values()
        .any(|p| p.colour.eq_ignore_ascii_case(&d.colour));
    if d.colour.is_empty() || taken {
        d.colour = free_colour(view).to_owned();
    }
    let free = free_persons(view);
    ui.label(RichText::new(tr!(l, "prepare-enrol")).strong());
    // Search by pseudonym here, by civil name at the director (names never reach a console):
    // each change of the text asks it; until it answers, the pseudonyms found here show.
    ui.horizontal(|ui| {
        let label = ui.label(tr!(l, "prepare-search"));
        let field = ui
            .add(egui::TextEdit::singleline(&mut d.enrol_search).desired_width(280.0))
            .labelled_by(label.id);
        if field.changed() {
            out.push(Output::Action(ConsoleAction::Register(
                boussole_director::register::RegisterRequest::Search {
                    text: d.enrol_search.clone(),
                },
            )));
        }
    });
    let query = d.enrol_search.trim();
    let candidates: Vec<&RegisterEntry> = match &view.register.found {
        Some((asked, ids)) if asked.trim() == query && !query.is_empty() => free
            .iter()
            .copied()
            .filter(|p| ids.contains(&p.id))
            .collect(),
        _ if query.is_empty() => free.clone(),
        _ => {
            let q = boussole_content::normalise(query);
            free.iter()
                .copied()
                .filter(|p| boussole_content::normalise(&p.pseudonym).contains(&q))
                .collect()
        }
    };
    ui.horizontal_wrapped(|ui| {
        if ui
            .selectable_label(d.enrol_person.is_none(), tr!(l, "prepare-new-person"))
            .clicked()
        {
            d.enrol_person = None;
        }
        for p in candidates.iter().take(ENROL_SHOWN) {
            let on = d.enrol_person.as_deref() == Some(p.id.as_str());
            if ui.selectable_label(on, candidate_label(p, l)).clicked() {
                d.enrol_person = Some(p.id.clone());
                d.pseudonym = p.pseudonym.clone();
            }
        }
        if candidates.len() > ENROL_SHOWN {
            let more = candidates.len() - ENROL_SHOWN;
            ui.label(tr!(l, "prepare-search-more", count = more));
        }
        if !query.is_empty() && candidates.is_empty() {
            ui.label(tr!(l, "prepare-search-none"));
        }
    });
    egui::Grid::new("new-participant").show(ui, |ui| {
        let label = ui.label(tr!(l, "prepare-pseudonym"));
        ui.text_edit_singleline(&mut d.pseudonym)
            .labelled_by(label.id);
        ui.end_row();
        let label = ui.label(tr!(l, "prepare-colour"));
        ui.horizontal(|ui| {
            for c in PALETTE {
                let on = d.colour == c;
                let b = egui::Button::new(if on { "✔" } else { "  " }).fill(colour(c));
                if ui.add(b).clicked() {
                    d.colour = c.to_owned();
                }
            }
            ui.text_edit_singleline(&mut d.colour).labelled_by(label.id);
        });
        ui.end_row();
        if d.enrol_person.is_none() {
            let label = ui.label(tr!(l, "prepare-name"));
            ui.text_edit_singleline(&mut d.name).labelled_by(label.id);
            ui.end_row();
        }
    });
    if d.enrol_person.is_none() {
        ui.label(RichText::new(tr!(l, "prepare-name-note")).small());
    }
    let ready = !d.pseudonym.trim().is_empty();
    if ui
        .add_enabled(ready, egui::Button::new(tr!(l, "prepare-add")))
        .clicked()
    {
        let id = new_participant_id(view);
        let add = Command::AddParticipant {
            id: id.clone(),
            pseudonym: d.pseudonym.trim().to_owned(),
            colour: d.colour.trim().to_owned(),
        };
        match d.enrol_person.take() {
            // The slot and its person in one transaction.
            Some(person) => out.push(Output::Commands(vec![
                add,
                Command::AssignPerson {
                    participant: id,
                    person: PersonId(person),
                    reason: String::new(),
                },
            ])),
            // A new person of the register, named by the director after the pseudonym.
            None => {
                out.push(cmd(add));
                let name = d.name.trim();
                if !name.is_empty() {
                    out.push(Output::Action(ConsoleAction::SetName {
                        participant: id,
                        name: name.to_owned(),
                    }));
                }
            }
        }
        d.pseudonym.clear();
        d.name.clear();
        d.colour.clear();
        d.enrol_search.clear();
    }
}

/// The first palette colour no slot has yet (the engine refuses two slots with one colour).
fn free_colour(view: &SessionView) -> &'static str {
    let taken = |c: &str| {
        view.engine
            .participants()
            .values()
            .any(|p| p.colour.eq_ignore_ascii_case(c))
    };
    PALETTE
        .iter()
        .copied()
        .find(|c| !taken(c))
        .unwrap_or(PALETTE[view.engine.participants().len() % PALETTE.len()])
}

/// The register's persons who may take a slot here: active, not merged, not in this session.
/// At most this many people of the register are offered at once (type more of the name).
const ENROL_SHOWN: usize = 12;

/// A person as the enrolment offers them: pseudonym, entry date, prescriber.
fn candidate_label(p: &RegisterEntry, l: Locale) -> String {
    let mut parts = vec![p.pseudonym.clone()];
    if let Some(d) = &p.entered_on {
        parts.push(tr!(l, "prepare-entered", date = d.as_str()));
    }
    let prescriber = [p.prescriber_name.trim(), p.prescriber_structure.trim()]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    if !prescriber.is_empty() {
        parts.push(prescriber);
    }
    parts.join(" · ")
}

fn free_persons(view: &SessionView) -> Vec<&RegisterEntry> {
    view.register
        .persons
        .iter()
        .filter(|p| !p.archived && p.merged_into.is_none())
        .filter(|p| {
            !view
                .engine
                .participants()
                .values()
                .any(|q| q.person.as_ref().is_some_and(|h| h.as_str() == p.id))
        })
        .collect()
}

/// The form that gives a slot to another person (a slot given to the wrong person): the person
/// and a reason, both required; the director logs it and refuses it once the final synthesis
/// was agreed.
fn move_slot(
    ui: &mut Ui,
    view: &SessionView,
    state: &mut ConsoleState,
    slot: &ParticipantId,
    current: Option<&PersonId>,
    out: &mut Vec<Output>,
) {
    let l = state.locale;
    let free = free_persons(view);
    let Some((_, person, reason)) = state.drafts.moving.as_mut() else {
        return;
    };
    let mut done = false;
    ui.indent(("move", slot.as_str()), |ui| {
        let now = current
            .and_then(|c| view.register.persons.iter().find(|p| p.id == c.as_str()))
            .map_or_else(|| "—".to_owned(), |p| p.pseudonym.clone());
        ui.label(tr!(
            l,
            "prepare-move-now",
            slot = slot.as_str(),
            person = now.as_str()
        ));
        let chosen = person
            .as_deref()
            .and_then(|id| free.iter().find(|p| p.id == id))
            .map_or_else(
                || tr!(l, "people-merge-choose"),
                |p| super::people::label(p, l),
            );
        ui.horizontal(|ui| {
            let label = ui.label(tr!(l, "prepare-move-to"));
            egui::ComboBox::from_id_salt(("move-to", slot.as_str()))
                .selected_text(chosen)
                .show_ui(ui, |ui| {
                    for p in &free {
                        let on = person.as_deref() == Some(p.id.as_str());
                        if ui
                            .selectable_label(on, super::people::label(p, l))
                            .clicked()
                        {
                            *person = Some(p.id.clone());
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        });
        let label = ui.label(tr!(l, "people-reason"));
        ui.add(egui::TextEdit::singleline(reason).id_salt(("move-reason", slot.as_str())))
            .labelled_by(label.id);
        let ready = person.is_some() && !reason.trim().is_empty();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(ready, egui::Button::new(tr!(l, "prepare-move-confirm")))
                .clicked()
                && let Some(p) = person.clone()
            {
                out.push(cmd(Command::AssignPerson {
                    participant: slot.clone(),
                    person: PersonId(p),
                    reason: reason.trim().to_owned(),
                }));
                done = true;
            }
            if ui.button(tr!(l, "prepare-move-cancel")).clicked() {
                done = true;
            }
        });
    });
    if done {
        state.drafts.moving = None;
    }
}

/// `P1`, `P2`…: the first number not taken (the ids the director's scripts and CLI use).
fn new_participant_id(view: &SessionView) -> ParticipantId {
    (1..)
        .map(|n| ParticipantId(format!("P{n}")))
        .find(|id| !view.engine.participants().contains_key(id))
        .unwrap_or_else(|| ParticipantId::from("P"))
}

fn pairing(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    out.extend(super::pairing::window(ui, view, l));
    for link in &view.room.links {
        let Some(role) = boussole_protocol::manifest::device_role(link.role) else {
            continue;
        };
        ui.horizontal_wrapped(|ui| {
            let known = view.engine.devices().contains_key(&link.device);
            ui.label(format!(
                "{} · {} · {}",
                link.device,
                role.label_fr(),
                link.addr
            ));
            if known {
                ui.label(tr!(l, "prepare-device-known"));
            } else if ui.button(tr!(l, "prepare-device-declare")).clicked() {
                state.drafts.device = link.device.to_string();
                state.drafts.device_role = Some(role);
            }
        });
    }
}

/// Devices the director refused for their software version, each with what to update.
fn outdated(ui: &mut Ui, view: &SessionView, l: Locale) {
    for d in &view.room.outdated {
        let device = d.device.as_str();
        let text = if d.version < PROTOCOL_VERSION {
            tr!(l, "prepare-device-outdated-old", device = device)
        } else {
            tr!(l, "prepare-device-outdated-new", device = device)
        };
        ui.colored_label(ui.visuals().warn_fg_color, text);
    }
}

fn register(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    let d = &mut state.drafts;
    ui.heading(tr!(l, "prepare-devices"));
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(tr!(l, "prepare-device-id"));
        ui.text_edit_singleline(&mut d.device).labelled_by(label.id);
        for role in [
            DeviceRole::Headset,
            DeviceRole::Screen,
            DeviceRole::Terminal,
        ] {
            if ui
                .selectable_label(d.device_role == Some(role), role.label_fr())
                .clicked()
            {
                d.device_role = Some(role);
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!(l, "prepare-device-station"));
        if ui
            .selectable_label(d.device_station.is_none(), tr!(l, "prepare-no-station"))
            .clicked()
        {
            d.device_station = None;
        }
        for s in &view.engine.scenario().stations {
            if Some(s.role) == d.device_role
                && ui
                    .selectable_label(d.device_station.as_ref() == Some(&s.id), s.id.to_string())
                    .clicked()
            {
                d.device_station = Some(s.id.clone());
            }
        }
    });
    let ready = !d.device.trim().is_empty() && d.device_role.is_some();
    if ui
        .add_enabled(ready, egui::Button::new(tr!(l, "prepare-device-register")))
        .clicked()
        && let Some(role) = d.device_role
    {
        out.push(cmd(Command::RegisterDevice {
            device: DeviceId::from(d.device.trim()),
            role,
            station: d.device_station.clone(),
        }));
        d.device.clear();
        d.device_station = None;
    }
}

/// The immersion a started run's headset shows before the assigned one (the tutorial, for a
/// new participant): the one its wearer's latest hotspot, task or answer since the start names,
/// when that is not the assigned immersion.
pub fn running_first(view: &SessionView, run: &ImmersionRun) -> Option<ImmersionId> {
    let started = run.started?;
    if run.stopped.is_some() {
        return None;
    }
    view.engine
        .game_events()
        .iter()
        .rev()
        .take_while(|g| g.at >= started)
        .filter(|g| g.participant.as_ref() == Some(&run.participant))
        .find_map(|g| match &g.kind {
            GameEventKind::HotspotSeen(i, _)
            | GameEventKind::TaskDone(i, _, _)
            | GameEventKind::Rating {
                immersion: Some(i), ..
            } => Some(i.clone()),
            _ => None,
        })
        .filter(|i| *i != run.immersion)
}

/// « Tout mettre en pause » or « Tout reprendre » for the session's headsets (the run screen
/// shows it too): pausing the ones running, resuming every paused one together.
pub fn pause_all(ui: &mut Ui, view: &SessionView, l: Locale, out: &mut Vec<Output>) {
    let headsets: Vec<DeviceId> = view
        .engine
        .devices()
        .iter()
        .filter(|(_, d)| d.role == DeviceRole::Headset)
        .map(|(id, _)| id.clone())
        .collect();
    if headsets.is_empty() {
        return;
    }
    let paused: Vec<DeviceId> = view.engine.paused_headsets().keys().cloned().collect();
    ui.horizontal_wrapped(|ui| {
        if !paused.is_empty() {
            ui.label(
                RichText::new(tr!(l, "headsets-paused", count = paused.len()))
                    .color(egui::Color32::from_rgb(230, 150, 0)),
            );
            if ui.button(tr!(l, "headsets-resume-all")).clicked() {
                out.push(cmd(Command::PauseHeadsets {
                    devices: paused.clone(),
                    paused: false,
                }));
            }
        }
        let running: Vec<DeviceId> = headsets
            .into_iter()
            .filter(|h| !paused.contains(h))
            .collect();
        if !running.is_empty() && ui.button(tr!(l, "headsets-pause-all")).clicked() {
            out.push(cmd(Command::PauseHeadsets {
                devices: running,
                paused: true,
            }));
        }
    });
}

fn headsets(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    ui.heading(tr!(l, "prepare-immersions"));
    pause_all(ui, view, l, out);
    // Headsets with an immersion assigned and not started: one GO starts them at the same
    // instant (a 360° video then plays in step on all of them).
    let ready: Vec<DeviceId> = view
        .engine
        .immersions()
        .iter()
        .filter(|(id, run)| {
            run.started.is_none()
                && view
                    .engine
                    .devices()
                    .get(*id)
                    .is_some_and(|d| d.role == DeviceRole::Headset)
        })
        .map(|(id, _)| id.clone())
        .collect();
    if ready.len() >= 2
        && ui
            .button(tr!(
                l,
                "prepare-immersion-start-together",
                count = ready.len()
            ))
            .clicked()
    {
        out.push(cmd(Command::StartImmersions { devices: ready }));
    }
    for (id, dev) in view.engine.devices() {
        if dev.role != DeviceRole::Headset {
            continue;
        }
        let current = view.engine.immersions().get(id);
        let draft = state.drafts.immersion.entry(id.clone()).or_default();
        ui.horizontal_wrapped(|ui| {
            // The name the facilitator gave it on the devices screen, if any.
            match view
                .desk
                .as_ref()
                .and_then(|d| d.device_names.get(id.as_str()))
            {
                Some(name) => ui.label(format!("{name} ({id})")),
                None => ui.label(id.to_string()),
            };
            if let Some(run) = current {
                ui.label(tr!(
                    l,
                    "prepare-immersion-current",
                    immersion = run.immersion.as_str(),
                    participant = run.participant.as_str()
                ));
                // A headset runs the tutorial first for a new participant: its events say so.
                if let Some(first) = running_first(view, run) {
                    let title = view
                        .immersions
                        .iter()
                        .find(|(i, _)| *i == first)
                        .map_or_else(|| first.to_string(), |(_, t)| t.clone());
                    ui.label(
                        RichText::new(tr!(l, "prepare-immersion-first", immersion = title))
                            .italics(),
                    );
                }
            }
            // Pause one headset (a wearer unwell, a question to answer), resume it where it was.
            match view.engine.paused_headsets().get(id) {
                Some(since) => {
                    ui.label(
                        RichText::new(tr!(l, "headset-paused-since", since = super::mmss(*since)))
                            .color(egui::Color32::from_rgb(230, 150, 0)),
                    );
                    if ui.button(tr!(l, "headset-resume")).clicked() {
                        out.push(cmd(Command::PauseHeadsets {
                            devices: vec![id.clone()],
                            paused: false,
                        }));
                    }
                }
                None => {
                    if ui.button(tr!(l, "headset-pause")).clicked() {
                        out.push(cmd(Command::PauseHeadsets {
                            devices: vec![id.clone()],
                            paused: true,
                        }));
                    }
                }
            }
            if let Some(run) = current {
                if run.started.is_none() && ui.button(tr!(l, "prepare-immersion-start")).clicked() {
                    out.push(cmd(Command::StartImmersion { device: id.clone() }));
                }
                if run.started.is_some()
                    && run.stopped.is_none()
                    && ui
                        .add(
                            egui::Button::new(
                                RichText::new(tr!(l, "prepare-immersion-stop"))
                                    .color(egui::Color32::WHITE),
                            )
                            .fill(egui::Color32::from_rgb(170, 30, 30)),
                        )
                        .clicked()
                {
                    out.push(cmd(Command::StopImmersion { device: id.clone() }));
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(tr!(l, "prepare-immersion-id"));
            for (imm, title) in &view.immersions {
                if ui
                    .selectable_label(draft.0 == imm.as_str(), title)
                    .clicked()
                {
                    draft.0 = imm.to_string();
                }
            }
            if view.immersions.is_empty() {
                ui.text_edit_singleline(&mut draft.0).labelled_by(label.id);
            }
            for (pid, p) in view.engine.participants() {
                if ui
                    .selectable_label(draft.1.as_ref() == Some(pid), &p.pseudonym)
                    .clicked()
                {
                    draft.1 = Some(pid.clone());
                }
            }
            let ready = !draft.0.trim().is_empty() && draft.1.is_some();
            if ui
                .add_enabled(ready, egui::Button::new(tr!(l, "prepare-immersion-assign")))
                .clicked()
                && let Some(participant) = draft.1.clone()
            {
                out.push(cmd(Command::AssignImmersion {
                    device: id.clone(),
                    immersion: ImmersionId::from(draft.0.trim()),
                    participant,
                }));
            }
        });
    }
}
