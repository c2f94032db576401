//! The first connection of a console: the facilitator types, in the window, the six-digit code
//! the director shows; a refused code says why and asks again.

use crate::i18n::{Locale, tr};
use boussole_protocol::pairing::PairingCode;
use egui::{Color32, RichText, Ui};

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
