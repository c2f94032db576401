//! The devices screen: the room's pairing window, then every device the session knows, with its
//! name, role and station, its link (online or not, since when, round trip), the last cue it
//! acknowledged, and its health. With the director of the day, a device is named, given its
//! station (kept in the room's layout for this scenario, the next days too) and unpaired here.

use super::{ConsoleAction, ConsoleState, Output, mmss};
use crate::i18n::{Locale, tr};
use crate::view::SessionView;
use boussole_director::engine::Device;
use egui::{Color32, RichText, Ui};

const GOOD: Color32 = Color32::from_rgb(40, 160, 70);
const BAD: Color32 = Color32::from_rgb(210, 40, 40);
const WARN: Color32 = Color32::from_rgb(230, 150, 0);

/// The devices screen: the pairing window first (open it, its code, close it:
/// [`super::pairing::window`]), then every device; devices are declared on the preparation
/// screen.
pub fn devices(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) -> Vec<Output> {
    let l = state.locale;
    let mut out: Vec<Output> = super::pairing::window(ui, view, l).into_iter().collect();
    ui.separator();
    ui.heading(tr!(l, "devices"));
    if view.engine.devices().is_empty() {
        ui.label(tr!(l, "devices-none"));
    }
    egui::ScrollArea::vertical()
        .id_salt("devices")
        .show(ui, |ui| {
            super::spectator::panel(ui, view, state);
            egui::Grid::new("devices").striped(true).show(ui, |ui| {
                for h in [
                    tr!(l, "device-id"),
                    tr!(l, "device-role"),
                    tr!(l, "device-link"),
                    tr!(l, "device-rtt"),
                    tr!(l, "device-last-cue"),
                    tr!(l, "device-health"),
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for (id, d) in view.engine.devices() {
                    let name = view
                        .desk
                        .as_ref()
                        .and_then(|desk| desk.device_names.get(id.as_str()));
                    match name {
                        Some(name) => ui.label(format!("{name} ({id})")),
                        None => ui.label(id.to_string()),
                    };
                    let station = d
                        .station
                        .as_ref()
                        .map_or_else(String::new, |s| format!(" · {s}"));
                    ui.label(format!("{}{station}", d.role.label_fr()));
                    if d.online {
                        ui.label(
                            RichText::new(tr!(l, "device-online", since = mmss(d.since)))
                                .color(GOOD),
                        );
                    } else {
                        ui.label(
                            RichText::new(tr!(l, "device-offline", since = mmss(d.since)))
                                .color(BAD),
                        );
                    }
                    let rtt = view.rtt_ms(id).or(d.health.rtt_ms);
                    ui.label(rtt.map_or_else(|| "—".to_owned(), |ms| format!("{ms} ms")));
                    ui.label(match d.last_ack {
                        Some((instance, at)) => {
                            tr!(l, "device-ack", instance = instance, at = mmss(at))
                        }
                        None => "—".to_owned(),
                    });
                    health(ui, d, l);
                    ui.end_row();
                }
            });
            if view.desk.is_some() && !view.observer {
                ui.separator();
                room(ui, view, state, &mut out);
                ui.separator();
                sound(ui, view, state, &mut out);
            }
            problems(ui, view, l);
        });
    out
}

/// The room's set-up, per device: its name, its station in this scenario, and unpairing.
fn room(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    use boussole_director::desk::DeskRequest;
    let l = state.locale;
    ui.heading(tr!(l, "room-title"));
    ui.label(RichText::new(tr!(l, "room-explain")).small());
    for (id, d) in view.engine.devices() {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(id.to_string()).strong());
            let draft = state
                .drafts
                .device_names
                .entry(id.to_string())
                .or_insert_with(|| {
                    view.desk
                        .as_ref()
                        .and_then(|desk| desk.device_names.get(id.as_str()).cloned())
                        .unwrap_or_default()
                });
            let label = ui.label(tr!(l, "room-name"));
            ui.add(egui::TextEdit::singleline(draft).desired_width(160.0))
                .labelled_by(label.id);
            if ui.button(tr!(l, "room-name-save")).clicked() {
                out.push(Output::Action(ConsoleAction::Desk(
                    DeskRequest::NameDevice {
                        device: id.to_string(),
                        name: draft.clone(),
                    },
                )));
            }
            ui.label(tr!(l, "prepare-device-station"));
            let stations: Vec<_> = view
                .engine
                .scenario()
                .stations
                .iter()
                .filter(|s| s.role == d.role)
                .collect();
            if ui
                .selectable_label(d.station.is_none(), tr!(l, "prepare-no-station"))
                .clicked()
                && d.station.is_some()
            {
                out.push(Output::Command(
                    boussole_director::engine::Command::RegisterDevice {
                        device: id.clone(),
                        role: d.role,
                        station: None,
                    },
                ));
            }
            for s in stations {
                if ui
                    .selectable_label(d.station.as_ref() == Some(&s.id), s.id.to_string())
                    .clicked()
                    && d.station.as_ref() != Some(&s.id)
                {
                    out.push(Output::Command(
                        boussole_director::engine::Command::RegisterDevice {
                            device: id.clone(),
                            role: d.role,
                            station: Some(s.id.clone()),
                        },
                    ));
                }
            }
            if state.drafts.forgetting.as_deref() == Some(id.as_str()) {
                if ui
                    .button(RichText::new(tr!(l, "room-forget-confirm")).color(BAD))
                    .clicked()
                {
                    state.drafts.forgetting = None;
                    out.push(Output::Action(ConsoleAction::Desk(DeskRequest::Forget {
                        device: id.to_string(),
                    })));
                }
                if ui.button(tr!(l, "prepare-move-cancel")).clicked() {
                    state.drafts.forgetting = None;
                }
            } else if ui.button(tr!(l, "room-forget")).clicked() {
                state.drafts.forgetting = Some(id.to_string());
            }
        });
    }
}

/// Each device's sound (volume, mute, reading texts aloud when they appear), kept by the
/// director for the next days, and the room's voices cut or back.
fn sound(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    use boussole_director::desk::DeskRequest;
    use boussole_protocol::wire::SoundSettings;
    let Some(desk) = &view.desk else { return };
    let l = state.locale;
    let ask = |r: DeskRequest| Output::Action(ConsoleAction::Desk(r));
    ui.heading(tr!(l, "sound-title"));
    ui.horizontal_wrapped(|ui| {
        let (label, cut) = if desk.voices_cut {
            (tr!(l, "sound-voices-back"), false)
        } else {
            (tr!(l, "sound-voices-cut"), true)
        };
        if ui.button(label).clicked() {
            out.push(ask(DeskRequest::CutVoices { cut }));
        }
        if desk.voices_cut {
            ui.label(RichText::new(tr!(l, "sound-voices-are-cut")).color(WARN));
        } else {
            ui.label(RichText::new(tr!(l, "sound-explain")).small());
        }
    });
    egui::Grid::new("sound").striped(true).show(ui, |ui| {
        for (id, d) in view.engine.devices() {
            let device = id.to_string();
            ui.label(desk.device_names.get(&device).unwrap_or(&device).as_str());
            let kept = desk.device_sound.get(&device).copied().unwrap_or_else(|| {
                SoundSettings::default_for(boussole_protocol::manifest::wire_role(d.role))
            });
            let (was, value) = state
                .drafts
                .volumes
                .entry(device.clone())
                .or_insert((kept.volume_percent, kept.volume_percent));
            if *was != kept.volume_percent {
                (*was, *value) = (kept.volume_percent, kept.volume_percent);
            }
            let slider = ui.add(
                egui::Slider::new(value, 0..=100)
                    .step_by(10.0)
                    .suffix(" %")
                    .text(tr!(l, "sound-volume")),
            );
            // Told once the hand lets go (or a key moved it), not at every step of a drag.
            let settled = slider.drag_stopped() || (slider.changed() && !slider.dragged());
            if settled && *value != kept.volume_percent {
                out.push(ask(DeskRequest::SetSound {
                    device: device.clone(),
                    settings: SoundSettings {
                        volume_percent: *value,
                        ..kept
                    },
                }));
            }
            let mut muted = kept.muted;
            if ui.checkbox(&mut muted, tr!(l, "sound-muted")).changed() {
                out.push(ask(DeskRequest::SetSound {
                    device: device.clone(),
                    settings: SoundSettings { muted, ..kept },
                }));
            }
            // A headset always reads its own panels: no choice to make there.
            if d.role == boussole_content::cue::DeviceRole::Headset {
                ui.label("");
            } else {
                let mut read_aloud = kept.read_aloud;
                if ui
                    .checkbox(&mut read_aloud, tr!(l, "sound-read-aloud"))
                    .changed()
                {
                    out.push(ask(DeskRequest::SetSound {
                        device,
                        settings: SoundSettings { read_aloud, ..kept },
                    }));
                }
            }
            ui.end_row();
        }
    });
}

/// The devices connected now, each with its role as the director keeps it and a button per
/// role: a device started with nothing but the pairing code waits here for one (in amber),
/// and takes the one clicked at once (the game restarts in it). Returns the console's request.
pub fn roles(
    ui: &mut Ui,
    room: &boussole_protocol::wire::RoomStatus,
    desk: &boussole_director::desk::DeskView,
    l: Locale,
) -> Option<boussole_director::desk::DeskRequest> {
    use boussole_content::cue::DeviceRole;
    use boussole_director::desk::DeskRequest;
    use boussole_protocol::wire::Role;
    let mut asked = None;
    let connected: std::collections::BTreeSet<String> = room
        .links
        .iter()
        .filter(|d| !matches!(d.role, Role::Console { .. }))
        .map(|d| d.device.to_string())
        .collect();
    // A device keeps its row while it restarts in the role just given (it leaves the room for
    // a moment): rows that moved under the pointer would give the next click to another
    // device.
    let devices: Vec<String> = connected
        .iter()
        .cloned()
        .chain(desk.device_roles.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let waiting = devices
        .iter()
        .filter(|d| !desk.device_roles.contains_key(d.as_str()))
        .count();
    if devices.is_empty() {
        return None;
    }
    if waiting > 0 {
        ui.label(RichText::new(tr!(l, "roles-waiting", count = waiting)).color(super::NOTICE));
    }
    egui::CollapsingHeader::new(tr!(l, "roles-title", count = devices.len()))
        .id_salt("roles")
        .default_open(waiting > 0)
        .show(ui, |ui| {
            egui::Grid::new("roles").striped(true).show(ui, |ui| {
                for device in &devices {
                    match desk.device_names.get(device) {
                        Some(name) => ui.label(format!("{name} ({device})")),
                        None => ui.label(device.as_str()),
                    };
                    let kept = desk.device_roles.get(device).copied();
                    if kept.is_none() {
                        ui.label(RichText::new(tr!(l, "roles-none")).color(super::NOTICE));
                    } else if !connected.contains(device) {
                        ui.label(RichText::new(tr!(l, "roles-away")).color(super::MUTED));
                    } else {
                        ui.label("");
                    }
                    // The buttons' ids come from the device, not the row: a click is the
                    // device's even if a row came or went in between.
                    ui.push_id(("role", device.as_str()), |ui| {
                        ui.horizontal(|ui| {
                            for (role, label) in [
                                (DeviceRole::Headset, tr!(l, "role-headset")),
                                (DeviceRole::Screen, tr!(l, "role-screen")),
                                (DeviceRole::Terminal, tr!(l, "role-terminal")),
                            ] {
                                // Framed buttons: a device waiting for its role shows three
                                // things to click, not three words.
                                let button =
                                    ui.add(egui::Button::new(label).selected(kept == Some(role)));
                                if button.clicked() && kept != Some(role) {
                                    asked = Some(DeskRequest::SetRole {
                                        device: device.clone(),
                                        role,
                                    });
                                }
                            }
                        })
                    });
                    ui.end_row();
                }
            });
        });
    asked
}

fn health(ui: &mut Ui, d: &Device, l: Locale) {
    // One line: a wrapping layout in the grid's last column squeezed it to a letter a line.
    ui.horizontal(|ui| {
        let h = &d.health;
        if h.audio_ok {
            ui.label(RichText::new(tr!(l, "health-audio-ok")).color(GOOD));
        } else {
            ui.label(RichText::new(tr!(l, "health-audio-bad")).color(BAD));
        }
        if h.xr_flat_fallback {
            ui.label(RichText::new(tr!(l, "health-xr-flat")).color(WARN));
        }
        if let Some(b) = h.battery_percent {
            let c = if b < 20 {
                BAD
            } else if b < 40 {
                WARN
            } else {
                GOOD
            };
            ui.label(RichText::new(tr!(l, "health-battery", percent = b)).color(c));
        }
        if h.content_in_sync {
            ui.label(RichText::new(tr!(l, "health-sync-ok")).color(GOOD));
        } else {
            ui.label(RichText::new(tr!(l, "health-sync-bad")).color(BAD));
        }
        if !d.problems.is_empty() {
            ui.label(RichText::new(tr!(l, "health-problems", count = d.problems.len())).color(BAD));
        }
    });
}

/// Every device's reported problems, newest first, in full (the table has no room for them).
fn problems(ui: &mut Ui, view: &SessionView, l: Locale) {
    let mut all: Vec<_> = view
        .engine
        .devices()
        .iter()
        .flat_map(|(id, d)| d.problems.iter().map(move |(at, what)| (*at, id, what)))
        .collect();
    if all.is_empty() {
        return;
    }
    all.sort_by_key(|p| std::cmp::Reverse(p.0));
    ui.separator();
    ui.heading(tr!(l, "devices-problems"));
    for (at, id, what) in all {
        ui.label(
            RichText::new(tr!(
                l,
                "health-problem",
                at = mmss(at),
                device = id.as_str(),
                what = what.as_str()
            ))
            .color(BAD),
        );
    }
}
