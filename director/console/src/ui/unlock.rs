//! Before the day: the director found or started ([`Gate::Starting`], [`Gate::Failed`]), the
//! first run (create the passphrase, twice, with the strength rule; then the recovery key shown
//! once, to print or write down), and the unlock (who you are, the passphrase). The passphrase
//! is typed in a password field; once sent it leaves the window's memory (moved into a
//! [`Secret`], wiped when dropped).

use crate::i18n::{Locale, tr};
use crate::launch::{Gate, GateAction};
use boussole_director::local::{Secret, passphrase_weakness};
use egui::{Color32, RichText, Ui};

const WARN: Color32 = Color32::from_rgb(200, 40, 40);
use super::MUTED;

/// What the unlock screen keeps between frames.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UnlockDrafts {
    /// The passphrase being typed.
    pub passphrase: String,
    /// First run: the passphrase again.
    pub confirm: String,
    /// Who is at the console.
    pub facilitator: String,
    /// A problem found before sending (the two passphrases differ…), in French.
    pub problem: Option<String>,
    /// The restoration of a backup is open (instead of the unlock or the first run).
    pub restoring: bool,
    /// Restoration: the backup file chosen.
    pub backup: Option<std::path::PathBuf>,
    /// Restoration: the file chooser, while open.
    pub backup_chooser: Option<super::folders::Chooser>,
    /// Restoration: the recovery key being typed.
    pub recovery_key: String,
}

impl std::fmt::Debug for UnlockDrafts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnlockDrafts")
            .field("facilitator", &self.facilitator)
            .finish_non_exhaustive()
    }
}

impl Drop for UnlockDrafts {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.passphrase.zeroize();
        self.confirm.zeroize();
        self.recovery_key.zeroize();
    }
}

/// The screen for `gate`; `message` is the director's answer to the last request, `busy`
/// while one is carried out. Returns what the facilitator asked.
/// `places` are where a backup is looked for (`None`: this machine's USB keys and folders).
pub fn unlock(
    ui: &mut Ui,
    gate: &Gate,
    message: Option<&str>,
    busy: bool,
    drafts: &mut UnlockDrafts,
    places: Option<&[super::folders::Place]>,
    l: Locale,
) -> Option<GateAction> {
    super::readable(ui);
    let mut asked = None;
    ui.vertical_centered(|ui| {
        ui.add_space(60.0);
        ui.heading(RichText::new(tr!(l, "unlock-app")).size(34.0).strong());
        ui.add_space(20.0);
        match gate {
            Gate::Starting => {
                ui.heading(tr!(l, "unlock-starting"));
                ui.spinner();
            }
            Gate::Failed(why) => {
                ui.label(RichText::new(why).color(WARN).strong());
                if ui.button(tr!(l, "unlock-retry")).clicked() {
                    asked = Some(GateAction::Retry);
                }
            }
            // Open, but this console is not in yet: its passphrase is asked all the same.
            Gate::Unlocked { facilitator } => {
                ui.heading(tr!(l, "unlock-open-title"));
                if let Some(who) = facilitator {
                    ui.label(
                        RichText::new(tr!(l, "unlock-open-by", who = who.as_str())).color(MUTED),
                    );
                }
                ui.add_space(12.0);
                asked = centred(ui, FORM_WIDTH, |ui| {
                    locked(ui, &[], 0, busy, false, drafts, l)
                });
            }
            Gate::RecoveryKey(key) => asked = recovery(ui, key, l),
            Gate::FirstRun { facilitators } | Gate::Locked { facilitators, .. }
                if drafts.restoring =>
            {
                ui.heading(tr!(l, "restore-title"));
                ui.label(tr!(l, "restore-explain"));
                ui.add_space(12.0);
                asked = centred(ui, FORM_WIDTH, |ui| {
                    restore(ui, facilitators, busy, drafts, places, l)
                });
            }
            Gate::FirstRun { facilitators } => {
                ui.heading(tr!(l, "unlock-first-title"));
                ui.label(tr!(l, "unlock-first-explain"));
                ui.add_space(12.0);
                asked = centred(ui, FORM_WIDTH, |ui| {
                    first_run(ui, facilitators, busy, drafts, l)
                });
            }
            Gate::Locked {
                facilitators,
                wait_s,
                because,
            } => {
                ui.heading(tr!(l, "unlock-title"));
                if let Some(because) = because {
                    ui.label(
                        RichText::new(tr!(l, "unlock-because", why = because.as_str()))
                            .color(MUTED),
                    );
                }
                ui.add_space(12.0);
                asked = centred(ui, FORM_WIDTH, |ui| {
                    locked(ui, facilitators, *wait_s, busy, true, drafts, l)
                });
            }
        }
        if busy {
            ui.label(RichText::new(tr!(l, "unlock-busy")).color(MUTED));
        }
        if let Some(problem) = &drafts.problem {
            ui.label(RichText::new(problem).color(WARN).strong());
        }
        if let Some(message) = message {
            ui.label(RichText::new(message).color(WARN).strong());
        }
    });
    asked
}

/// The width of the unlock forms, points.
const FORM_WIDTH: f32 = 640.0;

/// Draws `add` in a column `width` wide, centred in `ui`.
fn centred<R>(ui: &mut Ui, width: f32, add: impl FnOnce(&mut Ui) -> R) -> R {
    ui.horizontal(|ui| {
        ui.add_space(((ui.available_width() - width) / 2.0).max(0.0));
        ui.vertical(|ui| {
            ui.set_width(width);
            add(ui)
        })
        .inner
    })
    .inner
}

/// The first run's form: who, the passphrase twice with the rule, create.
fn first_run(
    ui: &mut Ui,
    facilitators: &[String],
    busy: bool,
    drafts: &mut UnlockDrafts,
    l: Locale,
) -> Option<GateAction> {
    let mut asked = None;
    who(ui, facilitators, drafts, l);
    let field = passphrase_field(ui, &mut drafts.passphrase, &tr!(l, "unlock-new"));
    let again = passphrase_field(ui, &mut drafts.confirm, &tr!(l, "unlock-again"));
    let weak = (!drafts.passphrase.is_empty())
        .then(|| passphrase_weakness(&drafts.passphrase))
        .flatten();
    match &weak {
        Some(why) => ui.label(RichText::new(tr!(l, "unlock-weak", why = why.as_str()))),
        None if !drafts.passphrase.is_empty() => {
            ui.label(RichText::new(tr!(l, "unlock-strong")).color(Color32::from_rgb(40, 160, 70)))
        }
        None => ui.label(RichText::new(tr!(l, "unlock-rule")).color(MUTED)),
    };
    let enter =
        (field.lost_focus() || again.lost_focus()) && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let clicked = ui
        .add_enabled(
            !busy,
            egui::Button::new(RichText::new(tr!(l, "unlock-create")).strong()),
        )
        .clicked();
    if (enter || clicked) && !busy {
        drafts.problem = None;
        if drafts.passphrase != drafts.confirm {
            drafts.problem = Some(tr!(l, "unlock-differ"));
        } else if let Some(why) = weak {
            drafts.problem = Some(tr!(l, "unlock-weak", why = why.as_str()));
        } else if drafts.facilitator.trim().is_empty() {
            drafts.problem = Some(tr!(l, "unlock-who-missing"));
        } else {
            drafts.confirm.clear();
            asked = Some(GateAction::Create {
                passphrase: Secret::new(std::mem::take(&mut drafts.passphrase)),
                facilitator: drafts.facilitator.trim().to_owned(),
            });
        }
    }
    ui.add_space(24.0);
    ui.label(RichText::new(tr!(l, "restore-first-run")).color(MUTED));
    restore_button(ui, drafts, l);
    asked
}

/// « Restaurer une sauvegarde… »: opens the restoration's form.
fn restore_button(ui: &mut Ui, drafts: &mut UnlockDrafts, l: Locale) {
    if ui.button(tr!(l, "restore-open")).clicked() {
        drafts.restoring = true;
        drafts.problem = None;
        use zeroize::Zeroize as _;
        drafts.passphrase.zeroize();
        drafts.confirm.zeroize();
    }
}

/// The restoration: who, the backup file (USB keys first), the recovery key, the new
/// passphrase twice with the rule; « Restaurer » replaces the store (the one there is kept
/// aside) and unlocks.
fn restore(
    ui: &mut Ui,
    facilitators: &[String],
    busy: bool,
    drafts: &mut UnlockDrafts,
    places: Option<&[super::folders::Place]>,
    l: Locale,
) -> Option<GateAction> {
    let mut asked = None;
    who(ui, facilitators, drafts, l);
    match drafts.backup.clone() {
        Some(file) => {
            ui.horizontal_wrapped(|ui| {
                ui.label(tr!(l, "restore-file", file = file.display().to_string()));
                if ui.button(tr!(l, "restore-other-file")).clicked() {
                    drafts.backup = None;
                }
            });
        }
        None => {
            if let Some(file) = super::folders::pick_file(
                ui,
                &mut drafts.backup_chooser,
                places,
                &tr!(l, "restore-choose"),
                "db",
                l,
            ) {
                drafts.backup = Some(file);
            }
        }
    }
    passphrase_field(ui, &mut drafts.recovery_key, &tr!(l, "restore-key"));
    passphrase_field(ui, &mut drafts.passphrase, &tr!(l, "unlock-new"));
    passphrase_field(ui, &mut drafts.confirm, &tr!(l, "unlock-again"));
    let weak = (!drafts.passphrase.is_empty())
        .then(|| passphrase_weakness(&drafts.passphrase))
        .flatten();
    match &weak {
        Some(why) => ui.label(RichText::new(tr!(l, "unlock-weak", why = why.as_str()))),
        None => ui.label(RichText::new(tr!(l, "unlock-rule")).color(MUTED)),
    };
    ui.horizontal(|ui| {
        let go = ui.add_enabled(
            !busy,
            egui::Button::new(RichText::new(tr!(l, "restore-go")).strong()),
        );
        if go.clicked() {
            drafts.problem = None;
            if drafts.facilitator.trim().is_empty() {
                drafts.problem = Some(tr!(l, "unlock-who-missing"));
            } else if drafts.backup.is_none() {
                drafts.problem = Some(tr!(l, "restore-no-file"));
            } else if drafts.recovery_key.trim().is_empty() {
                drafts.problem = Some(tr!(l, "restore-no-key"));
            } else if drafts.passphrase != drafts.confirm {
                drafts.problem = Some(tr!(l, "unlock-differ"));
            } else if let Some(why) = &weak {
                drafts.problem = Some(tr!(l, "unlock-weak", why = why.as_str()));
            } else if let Some(file) = drafts.backup.take() {
                use zeroize::Zeroize as _;
                drafts.confirm.zeroize();
                asked = Some(GateAction::Restore {
                    file,
                    recovery_key: Secret::new(std::mem::take(&mut drafts.recovery_key)),
                    passphrase: Secret::new(std::mem::take(&mut drafts.passphrase)),
                    facilitator: drafts.facilitator.trim().to_owned(),
                });
                drafts.restoring = false;
            }
        }
        if ui.button(tr!(l, "folders-cancel")).clicked() {
            use zeroize::Zeroize as _;
            drafts.recovery_key.zeroize();
            drafts.passphrase.zeroize();
            drafts.confirm.zeroize();
            drafts.backup = None;
            drafts.backup_chooser = None;
            drafts.problem = None;
            drafts.restoring = false;
        }
    });
    asked
}

/// The locked screen's form: who, the passphrase, unlock, and what to do when it is lost
/// (`restorable`: the store is closed, so a backup can replace it).
fn locked(
    ui: &mut Ui,
    facilitators: &[String],
    wait_s: u64,
    busy: bool,
    restorable: bool,
    drafts: &mut UnlockDrafts,
    l: Locale,
) -> Option<GateAction> {
    let mut asked = None;
    who(ui, facilitators, drafts, l);
    let field = passphrase_field(ui, &mut drafts.passphrase, &tr!(l, "unlock-passphrase"));
    let waiting = wait_s > 0;
    if waiting {
        ui.label(
            RichText::new(tr!(l, "unlock-wait", seconds = wait_s))
                .color(WARN)
                .strong(),
        );
    }
    let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let clicked = ui
        .add_enabled(
            !busy && !waiting,
            egui::Button::new(RichText::new(tr!(l, "unlock-button")).strong()),
        )
        .clicked();
    if (enter || clicked) && !busy && !waiting {
        drafts.problem = None;
        if drafts.facilitator.trim().is_empty() {
            drafts.problem = Some(tr!(l, "unlock-who-missing"));
        } else if drafts.passphrase.is_empty() {
            drafts.problem = Some(tr!(l, "unlock-empty"));
        } else {
            asked = Some(GateAction::Unlock {
                passphrase: Secret::new(std::mem::take(&mut drafts.passphrase)),
                facilitator: drafts.facilitator.trim().to_owned(),
            });
        }
    }
    ui.add_space(24.0);
    ui.collapsing(tr!(l, "unlock-forgot"), |ui| {
        ui.label(tr!(l, "unlock-forgot-explain"));
        if restorable {
            restore_button(ui, drafts, l);
        }
    });
    asked
}

/// A password field with its label; returns its response.
fn passphrase_field(ui: &mut Ui, text: &mut String, label: &str) -> egui::Response {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.add(
            egui::TextEdit::singleline(text)
                .password(true)
                .desired_width(360.0),
        )
        .labelled_by(label.id)
    })
    .inner
}

/// « Qui êtes-vous ? »: the facilitators who came before as buttons, and a field for a name.
fn who(ui: &mut Ui, facilitators: &[String], drafts: &mut UnlockDrafts, l: Locale) {
    ui.label(RichText::new(tr!(l, "unlock-who")).strong());
    if !facilitators.is_empty() {
        ui.horizontal_wrapped(|ui| {
            for name in facilitators {
                let chosen = drafts.facilitator.trim() == name;
                if ui.add(egui::Button::new(name).selected(chosen)).clicked() {
                    drafts.facilitator.clone_from(name);
                }
            }
        });
    }
    ui.horizontal(|ui| {
        let label = ui.label(tr!(l, "unlock-name"));
        ui.add(egui::TextEdit::singleline(&mut drafts.facilitator).desired_width(240.0))
            .labelled_by(label.id);
    });
    ui.add_space(8.0);
}

/// The recovery key, once: large, in groups; print it, or say it is written down.
fn recovery(ui: &mut Ui, key: &str, l: Locale) -> Option<GateAction> {
    let mut asked = None;
    ui.heading(tr!(l, "recovery-title"));
    ui.label(tr!(l, "recovery-explain"));
    ui.add_space(16.0);
    ui.label(RichText::new(key).monospace().size(30.0).strong());
    ui.add_space(16.0);
    ui.horizontal(|ui| {
        if ui.button(tr!(l, "recovery-print")).clicked() {
            let printed = print(key, l);
            ui.ctx()
                .data_mut(|d| d.insert_temp(egui::Id::new("recovery-printed"), printed));
        }
        if ui
            .button(RichText::new(tr!(l, "recovery-noted")).strong())
            .clicked()
        {
            asked = Some(GateAction::RecoveryNoted);
        }
    });
    if let Some(printed) = ui
        .ctx()
        .data(|d| d.get_temp::<String>(egui::Id::new("recovery-printed")))
    {
        ui.label(printed);
    }
    asked
}

/// Sends the recovery key to the default printer (`lp`, from CUPS); says what happened.
fn print(key: &str, l: Locale) -> String {
    use std::io::Write as _;
    let text = format!(
        "{}\n\n    {key}\n\n{}\n",
        tr!(l, "recovery-sheet-title"),
        tr!(l, "recovery-sheet-keep")
    );
    let child = std::process::Command::new("lp")
        .args(["-t", "Boussole"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match child {
        Ok(mut child) => {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(text.as_bytes());
            }
            match child.wait() {
                Ok(s) if s.success() => tr!(l, "recovery-printed"),
                _ => tr!(l, "recovery-no-printer"),
            }
        }
        Err(_) => tr!(l, "recovery-no-printer"),
    }
}
