//! Pairing, from the console: the room's pairing window ([`window`]: open it for ten minutes
//! with a fresh code, the code in large digits with the time left, close it), and a console's
//! own first connection ([`code_entry`]: the facilitator types, in the window, the six-digit code
//! the director shows; a refused code says why and asks again).

use super::{ConsoleAction, Output};
use crate::i18n::{Locale, tr};
use crate::view::SessionView;
use boussole_protocol::pairing::PairingCode;
use egui::{Color32, RichText, Ui};

const OPEN: Color32 = Color32::from_rgb(40, 160, 70);
const LOCKED: Color32 = Color32::from_rgb(200, 40, 40);

/// The code's font size, points: read from across the room, on a device's screen.
const CODE_SIZE: f32 = 64.0;

/// The room's pairing window as the director last reported it ([`SessionView::room`]): closed,
/// a button « Ouvrir l'appairage (10 min) »; open, the code in large digits (`482 913`: two
/// groups of three, as devices accept it), the time left (whole minutes, rounded up, then
/// seconds in the last minute), a lock after too many wrong codes, and « Fermer l'appairage ».
/// Returns [`ConsoleAction::PairingWindow`] when a button is clicked; the director draws the
/// code and times the window (ten minutes, issue 14), the console only shows it. The buttons are
/// greyed on an observer console (the director refuses an observer's request anyway).
pub fn window(ui: &mut Ui, view: &SessionView, l: Locale) -> Option<Output> {
    room_window(ui, &view.room, view.observer, l)
}

/// [`window`] from the room status alone: the home screen shows it before any session.
pub fn room_window(
    ui: &mut Ui,
    room: &boussole_protocol::wire::RoomStatus,
    observer: bool,
    l: Locale,
) -> Option<Output> {
    let mut asked = None;
    ui.heading(tr!(l, "prepare-pairing"));
    match (&room.pairing_code, room.pairing_open_s) {
        (Some(code), left) => {
            // One row, centred on the large code: what to type, the code, the time left, the
            // button that closes it.
            ui.horizontal(|ui| {
                // The row's height first, so the words before the code are centred on it too.
                ui.set_min_height(CODE_SIZE * 1.2);
                ui.label(tr!(l, "pairing-window-type"));
                ui.label(
                    RichText::new(spaced(code))
                        .size(CODE_SIZE)
                        .strong()
                        .monospace()
                        .color(OPEN),
                );
                ui.add_space(16.0);
                if let Some(left) = left {
                    let text = if left >= 60 {
                        tr!(l, "pairing-window-left-min", minutes = left.div_ceil(60))
                    } else {
                        tr!(l, "pairing-window-left-s", seconds = left)
                    };
                    ui.label(RichText::new(text).strong());
                }
                ui.add_space(16.0);
                if ui
                    .add_enabled(
                        !observer,
                        egui::Button::new(tr!(l, "pairing-window-close-button")),
                    )
                    .clicked()
                {
                    asked = Some(false);
                }
            });
            if let Some(locked) = room.pairing_locked_s {
                ui.label(
                    RichText::new(tr!(l, "pairing-window-locked", seconds = locked))
                        .color(LOCKED)
                        .strong(),
                );
            }
        }
        (None, _) => {
            ui.label(tr!(l, "pairing-window-closed"));
            if ui
                .add_enabled(
                    !observer,
                    egui::Button::new(RichText::new(tr!(l, "pairing-window-open-button")).strong()),
                )
                .clicked()
            {
                asked = Some(true);
            }
        }
    }
    asked.map(|open| Output::Action(ConsoleAction::PairingWindow { open }))
}

/// `482913` as `482 913`; anything else as it is.
fn spaced(code: &str) -> String {
    if code.len() == 6 && code.is_ascii() {
        format!("{} {}", &code[..3], &code[3..])
    } else {
        code.to_owned()
    }
}

/// The code form. `draft` is the text typed so far (kept across frames), `refused` why the last
/// code was refused. Returns the code when the facilitator sends a well-formed one (button or
/// Enter); a malformed one is refused here, in French, and nothing is sent.
pub fn code_entry(
    ui: &mut Ui,
    draft: &mut String,
    refused: Option<&str>,
    l: Locale,
) -> Option<PairingCode> {
    let mut sent = None;
    super::readable(ui);
    ui.vertical_centered(|ui| {
        ui.add_space(120.0);
        ui.heading(tr!(l, "pairing-title"));
        ui.label(tr!(l, "pairing-explain"));
        if let Some(why) = refused {
            ui.label(RichText::new(why).color(Color32::from_rgb(200, 40, 40)));
        }
        ui.add_space(12.0);
        let label = ui.label(tr!(l, "pairing-code"));
        let field = ui
            .add(
                egui::TextEdit::singleline(draft)
                    .desired_width(160.0)
                    .font(egui::TextStyle::Heading),
            )
            .labelled_by(label.id);
        let parsed = PairingCode::parse(draft);
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let clicked = ui.button(tr!(l, "pairing-submit")).clicked();
        if enter || clicked {
            match parsed {
                Ok(code) => sent = Some(code),
                Err(_) => {
                    ui.label(
                        RichText::new(tr!(l, "pairing-invalid"))
                            .color(Color32::from_rgb(200, 120, 0)),
                    );
                }
            }
        } else if !draft.trim().is_empty() && parsed.is_err() {
            ui.label(RichText::new(tr!(l, "pairing-invalid")).small());
        }
    });
    sent
}
