//! The help overlay (F1 or `?`): every shortcut of the console, then the grid's behaviour and
//! modifier keys on both layouts.

use super::ConsoleState;
use super::keys::{Shortcut, both_labels};
use crate::i18n::tr;
use crate::view::SessionView;
use egui::{RichText, Ui};

/// The help overlay, a window over the current screen; closes with F1, `?` or its button.
pub fn help(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) {
    let l = state.locale;
    let mut open = true;
    egui::Window::new(tr!(l, "help-title"))
        .collapsible(false)
        .default_width(700.0)
        .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 40.0))
        .show(ui.ctx(), |ui| {
            egui::ScrollArea::vertical().id_salt("help").show(ui, |ui| {
                egui::Grid::new("help-shortcuts")
                    .striped(true)
                    .show(ui, |ui| {
                        for s in Shortcut::ALL {
                            ui.label(RichText::new(s.key_label(l)).monospace().strong());
                            ui.label(s.describe(l));
                            ui.end_row();
                        }
                    });
                ui.separator();
                ui.label(RichText::new(tr!(l, "help-grid")).strong());
                let grid = view.engine.grid();
                egui::Grid::new("help-grid").striped(true).show(ui, |ui| {
                    for b in &grid.behaviours {
                        ui.label(RichText::new(both_labels(b.key)).monospace().strong());
                        ui.label(&b.label);
                        ui.end_row();
                    }
                    for set in &grid.modifier_sets {
                        for m in &set.modifiers {
                            ui.label(RichText::new(both_labels(m.key)).monospace().strong());
                            ui.label(format!("{} : {}", set.label, m.label));
                            ui.end_row();
                        }
                    }
                });
                ui.label(tr!(l, "help-layouts"));
                if ui.button(tr!(l, "help-close")).clicked() {
                    open = false;
                }
            });
        });
    if !open {
        state.help_open = false;
    }
}
