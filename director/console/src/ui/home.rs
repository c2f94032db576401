//! The home screen of the director of the day ([`home`]): who is at the console, the session
//! hosted now, today's planned sessions, a new session of a catalogue activity, interrupted
//! sessions to resume and past sessions to review. Every button is a [`DeskRequest`] for the
//! director, which hosts one session after another without a restart; devices stay connected.

use super::{ConsoleAction, ConsoleState, Output};
use crate::i18n::{Locale, tr};
use boussole_content::catalogue::ActivityKind;
use boussole_director::desk::{DeskRequest, DeskView, SessionLine};
use boussole_protocol::wire::{Role, RoomStatus};
use egui::{Color32, RichText, Ui};

const LIVE: Color32 = Color32::from_rgb(40, 160, 70);
use super::MUTED;

/// What the home screen keeps between frames.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HomeDrafts {
    /// The activity chosen for a new session.
    pub activity: Option<String>,
    /// The new session's label.
    pub label: String,
    /// Invited people who did not come, per planned session: (planned, person id).
    pub absent: std::collections::BTreeSet<(i64, String)>,
}

/// The home screen from `desk`; `None` (training, or a director of one session) says so.
/// Returns the facilitator's requests: [`ConsoleAction::Desk`] and [`ConsoleAction::Lock`].
pub fn home(
    ui: &mut Ui,
    desk: Option<&DeskView>,
    room: Option<&RoomStatus>,
    state: &mut ConsoleState,
) -> Vec<Output> {
    let l = state.locale;
    let mut out = Vec::new();
    let Some(desk) = desk else {
        ui.heading(tr!(l, "home-title"));
        ui.label(tr!(l, "home-none"));
        return out;
    };
    let mut asked: Vec<DeskRequest> = Vec::new();
    ui.horizontal(|ui| {
        ui.heading(tr!(l, "home-hello", name = desk.facilitator.as_str()));
        ui.add_space(24.0);
        if ui.button(tr!(l, "home-lock")).clicked() {
            out.push(Output::Action(ConsoleAction::Lock));
        }
        if ui.button(tr!(l, "home-register")).clicked() {
            state.screen = super::Screen::People;
        }
        if ui.button(tr!(l, "home-syntheses")).clicked() {
            state.screen = super::Screen::Synthesis;
        }
        if ui.button(tr!(l, "home-plan")).clicked() {
            state.screen = super::Screen::Plan;
            if state.plan.date.is_empty() {
                state.plan.date = super::roadmap::today();
                state.plan.time = "14:00".into();
            }
            out.push(Output::Action(ConsoleAction::Desk(DeskRequest::Plan)));
        }
        if ui.button(tr!(l, "home-admin")).clicked() {
            state.screen = super::Screen::Admin;
            // Its first section, as the director has it now.
            out.push(Output::Action(ConsoleAction::Desk(
                state.admin.tab.request(),
            )));
        }
    });
    if let Some(r) = backup(ui, desk, state) {
        out.push(Output::Action(ConsoleAction::Desk(r)));
    }
    if let Some(change) = passphrase(ui, state) {
        out.push(Output::Action(change));
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        // The session hosted now.
        ui.separator();
        match &desk.live {
            Some(live) => {
                ui.horizontal_wrapped(|ui| {
                    let status = if live.closed {
                        tr!(l, "home-live-closed")
                    } else {
                        tr!(l, "home-live")
                    };
                    ui.label(RichText::new(status).color(LIVE).strong());
                    ui.label(RichText::new(&live.label).strong());
                    ui.label(
                        RichText::new(tr!(l, "home-session-number", id = live.id)).color(MUTED),
                    );
                    if ui
                        .button(RichText::new(tr!(l, "home-go-session")).strong())
                        .clicked()
                    {
                        state.screen = if live.closed {
                            super::Screen::End
                        } else {
                            super::Screen::Prepare
                        };
                    }
                    if ui.button(tr!(l, "home-leave")).clicked() {
                        asked.push(DeskRequest::Leave);
                    }
                });
                if !live.closed {
                    ui.label(RichText::new(tr!(l, "home-live-running-hint")).color(MUTED));
                }
            }
            None => {
                ui.label(tr!(l, "home-no-live"));
            }
        }

        // The room: devices connected now, and the pairing window for new ones.
        if let Some(room) = room {
            ui.separator();
            let devices = room
                .links
                .iter()
                .filter(|d| !matches!(d.role, Role::Console { .. }))
                .count();
            ui.label(RichText::new(tr!(l, "home-devices", count = devices)).strong());
            if let Some(o) = super::pairing::room_window(ui, room, false, l) {
                out.push(o);
            }
            if let Some(r) = super::devices::roles(ui, room, desk, l) {
                asked.push(r);
            }
        }

        // Today's plan.
        ui.separator();
        ui.heading(tr!(l, "home-today"));
        if desk.today.is_empty() {
            ui.label(RichText::new(tr!(l, "home-today-none")).color(MUTED));
        }
        for p in &desk.today {
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new(hour(p.starts_at_unix_ms))
                        .monospace()
                        .strong(),
                );
                ui.label(RichText::new(&p.title).strong());
                if !p.place.is_empty() {
                    ui.label(&p.place);
                }
                ui.label(tr!(l, "home-invited", count = p.invited));
                match (p.session, p.director) {
                    (Some(session), _) => {
                        if ui.button(tr!(l, "home-resume")).clicked() {
                            asked.push(DeskRequest::Open { session });
                        }
                    }
                    (None, true) => {
                        if ui
                            .button(RichText::new(tr!(l, "home-start-planned")).strong())
                            .clicked()
                        {
                            let absent = state
                                .drafts
                                .home
                                .absent
                                .iter()
                                .filter(|(planned, _)| *planned == p.planned)
                                .map(|(_, person)| person.clone())
                                .collect();
                            asked.push(DeskRequest::FromPlan {
                                planned: p.planned,
                                absent,
                            });
                        }
                    }
                    (None, false) => {
                        ui.label(RichText::new(tr!(l, "home-not-director")).color(MUTED));
                    }
                }
            });
            // Who came: everyone invited is ticked; unticked, a person is absent (back on the
            // waiting list when the session closes), not enrolled.
            if p.session.is_none() && p.director && !p.people.is_empty() {
                ui.horizontal_wrapped(|ui| {
                    ui.add_space(24.0);
                    ui.label(RichText::new(tr!(l, "home-who-came")).color(MUTED));
                    for (person, pseudonym) in &p.people {
                        let key = (p.planned, person.clone());
                        let mut came = !state.drafts.home.absent.contains(&key);
                        if ui.checkbox(&mut came, pseudonym).changed() {
                            if came {
                                state.drafts.home.absent.remove(&key);
                            } else {
                                state.drafts.home.absent.insert(key);
                            }
                        }
                    }
                });
            }
        }

        // A new session.
        ui.separator();
        ui.heading(tr!(l, "home-new"));
        ui.horizontal_wrapped(|ui| {
            for a in &desk.activities {
                let chosen = state.drafts.home.activity.as_deref() == Some(a.id.as_str());
                let text = format!("{} — {}", a.title, kind_fr(a.kind, l));
                if ui.selectable_label(chosen, text).clicked() {
                    state.drafts.home.activity = Some(a.id.clone());
                }
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label(tr!(l, "home-label"));
            ui.add(
                egui::TextEdit::singleline(&mut state.drafts.home.label)
                    .hint_text(tr!(l, "home-label-hint"))
                    .desired_width(420.0),
            )
            .labelled_by(label.id);
            let ready = state.drafts.home.activity.is_some();
            if ui
                .add_enabled(
                    ready,
                    egui::Button::new(RichText::new(tr!(l, "home-create")).strong()),
                )
                .clicked()
                && let Some(activity) = state.drafts.home.activity.take()
            {
                asked.push(DeskRequest::Create {
                    activity,
                    label: std::mem::take(&mut state.drafts.home.label),
                });
            }
        });
        if desk.live.as_ref().is_some_and(|s| !s.closed) {
            ui.label(RichText::new(tr!(l, "home-create-leaves")).color(MUTED));
        }

        // Interrupted, then past sessions.
        ui.separator();
        ui.heading(tr!(l, "home-interrupted"));
        if desk.interrupted.is_empty() {
            ui.label(RichText::new(tr!(l, "home-interrupted-none")).color(MUTED));
        }
        for s in &desk.interrupted {
            session_row(ui, s, l, &tr!(l, "home-resume"), false, &mut asked);
        }
        ui.separator();
        ui.heading(tr!(l, "home-past"));
        if desk.past.is_empty() {
            ui.label(RichText::new(tr!(l, "home-past-none")).color(MUTED));
        }
        if desk.live.is_some() && !desk.past.is_empty() {
            ui.label(RichText::new(tr!(l, "home-review-beside")).color(MUTED));
        }
        for s in &desk.past {
            session_row(ui, s, l, &tr!(l, "home-review"), true, &mut asked);
        }
    });
    out.extend(
        asked
            .into_iter()
            .map(|r| Output::Action(ConsoleAction::Desk(r))),
    );
    out
}

/// The last backup, a reminder when it is over [`BACKUP_DUE_DAYS`] old (or none was made),
/// and « Sauvegarder le journal… » with its folder chooser (USB keys first).
fn backup(ui: &mut Ui, desk: &DeskView, state: &mut ConsoleState) -> Option<DeskRequest> {
    use boussole_director::desk::BACKUP_DUE_DAYS;
    let l = state.locale;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let days = desk
        .last_backup_unix_ms
        .map(|at| (now - at).max(0) / (24 * 3600 * 1000));
    let mut asked = None;
    ui.horizontal_wrapped(|ui| {
        let (text, due) = match days {
            None => (tr!(l, "backup-never"), true),
            Some(0) => (tr!(l, "backup-today"), false),
            Some(d) => (
                tr!(l, "backup-days", days = d.to_string()),
                d >= BACKUP_DUE_DAYS,
            ),
        };
        let colour = if due { super::NOTICE } else { MUTED };
        ui.label(RichText::new(text).color(colour));
        if due {
            ui.label(
                RichText::new(tr!(l, "backup-due"))
                    .color(super::NOTICE)
                    .strong(),
            );
        }
    });
    let places = state.places.clone();
    if let Some(folder) = super::folders::pick(
        ui,
        &mut state.backup_chooser,
        places.as_deref(),
        &tr!(l, "backup-start"),
        l,
    ) {
        asked = Some(DeskRequest::Backup { folder });
    }
    asked
}

/// « Changer la phrase de passe… »: the current one, the new one twice (the strength rule
/// said before sending), sent over the local socket only; the director's answer below.
fn passphrase(ui: &mut Ui, state: &mut ConsoleState) -> Option<ConsoleAction> {
    use boussole_director::local::{Secret, passphrase_weakness};
    let l = state.locale;
    if let Some(m) = &state.director_message {
        ui.label(RichText::new(m).color(super::NOTICE));
    }
    let d = &mut state.passphrase;
    if !d.open {
        if ui.button(tr!(l, "pass-change")).clicked() {
            d.open = true;
        }
        return None;
    }
    let mut asked = None;
    ui.group(|ui| {
        egui::Grid::new("pass-change").show(ui, |ui| {
            for (key, text, field) in [
                ("current", tr!(l, "pass-current"), &mut d.current),
                ("new", tr!(l, "pass-new"), &mut d.new),
                ("confirm", tr!(l, "pass-confirm"), &mut d.confirm),
            ] {
                let label = ui.label(text);
                ui.add(
                    egui::TextEdit::singleline(field)
                        .password(true)
                        .id_salt(("pass", key))
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
                ui.end_row();
            }
        });
        let weak = (!d.new.is_empty())
            .then(|| passphrase_weakness(&d.new))
            .flatten();
        let differ = !d.confirm.is_empty() && d.new != d.confirm;
        if let Some(why) = &weak {
            ui.label(RichText::new(tr!(l, "pass-weak", why = why.as_str())).color(super::NOTICE));
        } else if differ {
            ui.label(RichText::new(tr!(l, "pass-differ")).color(super::NOTICE));
        }
        let ready =
            !d.current.is_empty() && !d.new.is_empty() && weak.is_none() && d.new == d.confirm;
        ui.horizontal(|ui| {
            if ui
                .add_enabled(ready, egui::Button::new(tr!(l, "pass-send")))
                .clicked()
            {
                asked = Some(ConsoleAction::ChangePassphrase {
                    current: Secret::new(std::mem::take(&mut d.current)),
                    new: Secret::new(std::mem::take(&mut d.new)),
                });
                use zeroize::Zeroize as _;
                d.confirm.zeroize();
                d.open = false;
            }
            if ui.button(tr!(l, "folders-cancel")).clicked() {
                use zeroize::Zeroize as _;
                d.current.zeroize();
                d.new.zeroize();
                d.confirm.zeroize();
                d.open = false;
            }
        });
    });
    asked
}

/// A session of the store: « Reprendre » hosts an interrupted one; « Revoir » follows a past
/// one beside the hosted session (`DeskRequest::Review`), which goes on.
fn session_row(
    ui: &mut Ui,
    s: &SessionLine,
    l: Locale,
    action: &str,
    past: bool,
    asked: &mut Vec<DeskRequest>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(date(s.created_at_unix_ms)).monospace());
        ui.label(RichText::new(&s.label).strong());
        ui.label(tr!(l, "home-people", count = s.people));
        if !s.started {
            ui.label(RichText::new(tr!(l, "home-not-started")).color(MUTED));
        }
        if ui.button(action).clicked() {
            asked.push(if past {
                DeskRequest::Review {
                    session: Some(s.id),
                }
            } else {
                DeskRequest::Open { session: s.id }
            });
        }
    });
}

fn kind_fr(kind: ActivityKind, l: Locale) -> String {
    match kind {
        ActivityKind::EscapeGame => tr!(l, "home-kind-escape"),
        ActivityKind::ImmersionSession => tr!(l, "home-kind-immersion"),
        ActivityKind::Workshop => tr!(l, "home-kind-workshop"),
        ActivityKind::Evaluation => tr!(l, "home-kind-evaluation"),
    }
}

/// `14 h 00`, Paris time.
fn hour(unix_ms: i64) -> String {
    let text = boussole_director::plan::local_fr(unix_ms);
    text.rsplit(" à ").next().unwrap_or(&text).to_owned()
}

/// `2026-12-07`, Paris time.
fn date(unix_ms: i64) -> String {
    boussole_director::plan::local_date(unix_ms)
}
