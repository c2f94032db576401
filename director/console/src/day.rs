//! The console of the day, without Bevy: what the window does frame by frame when it runs on
//! the facilitator's laptop with no address given. It finds or starts the director of the day
//! ([`Launcher`]), shows the unlock screen until the director is open, joins it with the pairing
//! the director hands over its local socket (no code to copy), then shows the home screen
//! between sessions and the session's screens while one is hosted. The Bevy shell calls
//! [`DayConsole::frame`] in its egui pass; the end-to-end test drives the same function with
//! egui_kittest, by keys, clicks and typed text.

use crate::launch::{Gate, GateAction, Launcher};
use crate::link::{Link, LinkConfig};
use crate::model::ConsoleModel;
use crate::ui::unlock::UnlockDrafts;
use crate::ui::{self, ConsoleAction, ConsoleState, Output, Screen};
use crate::view::LinkState;
use boussole_content::ContentSet;
use boussole_director::desk::DeskRequest;
use boussole_director::engine::RaterId;
use boussole_protocol::DeviceId;
use boussole_protocol::pairing::Pairing;
use boussole_protocol::transport::Backoff;
use boussole_protocol::wire::DeviceToken;
use egui::RichText;
use std::path::PathBuf;

/// What the console of the day needs besides the launcher.
#[derive(Clone, Debug)]
pub struct DayConfig {
    /// This console's device id (its rater id in the session logs).
    pub device: String,
    /// Where its pairing is kept while it runs: beside the director's socket, in the session's
    /// runtime folder (cleared at logout; a new token each time the passphrase is checked).
    pub pairing_file: PathBuf,
    /// The manifest hash of the console's content (every file).
    pub content_hash: [u8; 32],
    /// Reconnection schedule.
    pub backoff: Backoff,
}

/// Where the console of the day finds things on this laptop.
#[derive(Clone, Debug)]
pub struct Laptop {
    /// This console's device id.
    pub name: String,
    /// The director's store.
    pub db: PathBuf,
    /// The content folder (its `assets/` beside it).
    pub content: PathBuf,
    /// The director's binary.
    pub director: PathBuf,
    /// The director's local socket.
    pub socket: PathBuf,
    /// More arguments for the director's `day` (tests: `--bind 127.0.0.1:0`).
    pub director_args: Vec<std::ffi::OsString>,
    /// Start the director through its systemd user unit when installed.
    pub systemd: bool,
}

/// The console of the day.
pub struct DayConsole {
    config: DayConfig,
    launcher: Launcher,
    link: Option<Link>,
    model: ConsoleModel,
    /// The session screens' state, kept across sessions (the language, the thresholds).
    pub state: ConsoleState,
    /// The unlock screen's forms (the screenshot run opens the restoration with it).
    pub drafts: UnlockDrafts,
    /// Why the link could not start, in French.
    problem: Option<String>,
    /// Where the director listens for devices, once this console was provisioned.
    director_addr: Option<std::net::SocketAddr>,
}

impl std::fmt::Debug for DayConsole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DayConsole")
            .field("device", &self.config.device)
            .field("linked", &self.link.is_some())
            .finish_non_exhaustive()
    }
}

impl DayConsole {
    /// A console of the day reading `content`, its director found or started by `launcher`.
    pub fn new(
        config: DayConfig,
        launcher: Launcher,
        content: ContentSet,
        state: ConsoleState,
    ) -> Self {
        let model = ConsoleModel::new(content, RaterId(config.device.clone()), false);
        Self {
            config,
            launcher,
            link: None,
            model,
            state,
            drafts: UnlockDrafts::default(),
            problem: None,
            director_addr: None,
        }
    }

    /// The console of the day on `laptop`: starts the launcher (which finds or starts the
    /// director) and reads `content`.
    pub fn open(laptop: &Laptop, content: ContentSet, state: ConsoleState) -> Self {
        let content_dir =
            std::path::absolute(&laptop.content).unwrap_or_else(|_| laptop.content.clone());
        let assets = content_dir
            .parent()
            .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"));
        let mut args: Vec<std::ffi::OsString> = vec![
            "--db".into(),
            laptop.db.clone().into_os_string(),
            "--content".into(),
            content_dir.clone().into_os_string(),
            "day".into(),
            "--socket".into(),
            laptop.socket.clone().into_os_string(),
        ];
        args.extend(laptop.director_args.iter().cloned());
        let start = crate::launch::StartCommand {
            program: laptop.director.clone(),
            args,
            log: laptop.db.with_file_name("director.log"),
            systemd: laptop.systemd,
        };
        let launcher = Launcher::start(laptop.socket.clone(), start, laptop.name.clone());
        // Consoles read the content folder itself: every file counts.
        let content_hash = boussole_protocol::manifest::Manifest::scan(&content_dir, &assets)
            .map(|m| m.hash())
            .unwrap_or([0; 32]);
        let config = DayConfig {
            device: laptop.name.clone(),
            pairing_file: laptop
                .socket
                .with_file_name(format!("{}.pairing", laptop.name)),
            content_hash,
            backoff: Backoff::default(),
        };
        Self::new(config, launcher, content, state)
    }

    /// The model (tests read the session and the desk from it).
    pub fn model(&self) -> &ConsoleModel {
        &self.model
    }

    /// Where the director listens for devices (`None` until it was unlocked from here).
    pub fn director_addr(&self) -> Option<std::net::SocketAddr> {
        self.director_addr
    }

    /// Where the director stands.
    pub fn gate(&self) -> Gate {
        self.launcher.gate()
    }

    /// The pairing file of this console.
    fn pairing_file(&self) -> PathBuf {
        self.config.pairing_file.clone()
    }

    /// Polls the launcher and the link; joins the director once it is unlocked, leaves it when
    /// it locks.
    fn poll(&mut self) {
        // (the recovery key is shown only once the store exists: unlocked.)
        let unlocked = matches!(
            self.launcher.gate(),
            Gate::Unlocked { .. } | Gate::RecoveryKey(_)
        );
        if !unlocked && self.link.is_some() {
            // Locked (by the facilitator, idle, a sleep): the session screens close.
            self.link = None;
            self.model.reset();
        }
        if let Some(p) = self.launcher.take_provision() {
            self.director_addr = Some(p.addr);
            let pairing = Pairing {
                ca_der: p.ca_der,
                token: DeviceToken::from_bytes(p.token),
            };
            let started = pairing
                .save(&self.pairing_file())
                .map_err(|e| format!("appairage non enregistré : {e}"))
                .and_then(|()| {
                    Link::start(LinkConfig {
                        director: p.addr,
                        device: DeviceId::from(self.config.device.as_str()),
                        observer: false,
                        pairing_file: self.pairing_file(),
                        pairing_code: None,
                        content_hash: self.config.content_hash,
                        backoff: self.config.backoff.clone(),
                    })
                    .map_err(|e| format!("liaison avec la régie impossible : {e}"))
                });
            match started {
                Ok(link) => {
                    self.link = Some(link);
                    self.problem = None;
                    self.state.screen = Screen::Home;
                }
                Err(why) => self.problem = Some(why),
            }
        }
        if let Some(link) = &self.link {
            for event in link.poll() {
                self.model.apply(event);
            }
            // A review belonged to the connection before: asked again on the new one.
            if let Some(session) = self.model.review_to_ask_again() {
                let request = DeskRequest::Review {
                    session: Some(session),
                };
                if let Err(e) = link.send_desk(&request) {
                    tracing::warn!("revue non redemandée : {e}");
                }
            }
        }
    }

    /// One frame: polls, draws in `ui`, and carries out what the facilitator asked. Returns
    /// `true` when they asked to close the console (the director and its session go on).
    pub fn frame(&mut self, ui: &mut egui::Ui) -> bool {
        self.poll();
        let l = self.state.locale;
        let gate = self.launcher.gate();
        // The recovery key stays on screen until the facilitator says it is noted, even once
        // the console has joined the director.
        let link = match &self.link {
            Some(link) if !matches!(gate, Gate::RecoveryKey(_)) => link,
            _ => {
                let message = self.launcher.message().or_else(|| self.problem.clone());
                if let Some(action) = ui::unlock::unlock(
                    ui,
                    &gate,
                    message.as_deref(),
                    self.launcher.busy(),
                    &mut self.drafts,
                    self.state.places.as_deref(),
                    l,
                ) {
                    self.launcher.ask(action);
                }
                return false;
            }
        };
        self.state.director_message = self.launcher.message();
        let outputs = match self.model.view(link.director_ms()) {
            Some(view) => ui::console(ui, &view, &mut self.state),
            None => {
                ui::readable(ui);
                let review = self
                    .model
                    .review()
                    .filter(|_| self.state.reviewing && ui::review::shows(self.state.screen));
                match self.model.desk() {
                    // No session hosted: a past session reviewed, from the home screen.
                    Some(_) if review.is_some() => {
                        if let Some(last) = self.model.notices().last() {
                            ui.label(RichText::new(last).color(ui::NOTICE));
                        }
                        if ui.button(crate::i18n::tr!(l, "home-back")).clicked() {
                            self.state.screen = Screen::Home;
                        }
                        match &review {
                            Some(r) => ui::review::review(ui, r, false, &mut self.state),
                            None => Vec::new(),
                        }
                    }
                    // No session hosted: the home screen, or from it the register, a
                    // person's synthesis or the administration.
                    Some(_) if matches!(self.state.screen, Screen::Roadmap) => {
                        if let Some(last) = self.model.notices().last() {
                            ui.label(RichText::new(last).color(ui::NOTICE));
                        }
                        if ui.button(crate::i18n::tr!(l, "roadmap-back")).clicked() {
                            self.state.screen = Screen::People;
                        }
                        let answer = self.model.answers().roadmap.clone();
                        let register = self.model.register().clone();
                        ui::roadmap::roadmap(ui, &register, answer.as_ref(), &mut self.state)
                    }
                    Some(_) if matches!(self.state.screen, Screen::Plan) => {
                        if let Some(last) = self.model.notices().last() {
                            ui.label(RichText::new(last).color(ui::NOTICE));
                        }
                        if ui.button(crate::i18n::tr!(l, "home-back")).clicked() {
                            self.state.screen = Screen::Home;
                        }
                        let answer = self.model.answers().plan.clone();
                        ui::plan::plan(ui, answer.as_ref(), &mut self.state)
                    }
                    Some(_) if matches!(self.state.screen, Screen::Admin) => {
                        if let Some(last) = self.model.notices().last() {
                            ui.label(RichText::new(last).color(ui::NOTICE));
                        }
                        if ui.button(crate::i18n::tr!(l, "home-back")).clicked() {
                            self.state.screen = Screen::Home;
                        }
                        let answers = self.model.answers().clone();
                        let register = self.model.register().clone();
                        ui::admin::admin(ui, &answers, &register, &mut self.state)
                    }
                    Some(_) if matches!(self.state.screen, Screen::Synthesis | Screen::People) => {
                        if let Some(last) = self.model.notices().last() {
                            ui.label(RichText::new(last).color(ui::NOTICE));
                        }
                        if ui.button(crate::i18n::tr!(l, "home-back")).clicked() {
                            self.state.screen = Screen::Home;
                        }
                        if self.state.screen == Screen::People {
                            ui::people::people(ui, self.model.register(), false, &mut self.state)
                        } else {
                            ui::synthesis::synthesis(
                                ui,
                                self.model.register(),
                                self.model.synthesis(),
                                &mut self.state,
                            )
                        }
                    }
                    Some(desk) => {
                        let desk = desk.clone();
                        if let Some(last) = self.model.notices().last() {
                            ui.label(RichText::new(last).color(ui::NOTICE));
                        }
                        let room = self.model.room().clone();
                        ui::home(ui, Some(&desk), Some(&room), &mut self.state)
                    }
                    None => {
                        let text = match self.model.link() {
                            LinkState::Offline { reason } => {
                                crate::i18n::tr!(l, "link-offline", reason = reason.as_str())
                            }
                            _ => crate::i18n::tr!(l, "link-connecting"),
                        };
                        ui.centered_and_justified(|ui| ui.heading(text));
                        Vec::new()
                    }
                }
            }
        };
        self.act(outputs)
    }

    /// Asks the director of the day for something, as the unlock screen does (the screenshot
    /// run scripts the first start with it).
    pub fn ask(&self, action: GateAction) {
        self.launcher.ask(action);
    }

    /// Carries out what the screens asked for, as after a frame (the screenshot run scripts a
    /// session with it). Returns `true` when the facilitator asked to close the console.
    pub fn act(&mut self, outputs: Vec<Output>) -> bool {
        let Some(link) = &self.link else {
            return false;
        };
        let mut quit = false;
        for output in outputs {
            let sent = match output {
                Output::Command(command) => link.send(&command),
                Output::Commands(commands) => link.send_together(&commands),
                Output::Action(ConsoleAction::Register(request)) => link.send_register(&request),
                Output::Action(ConsoleAction::PairingWindow { open }) => {
                    link.send_pairing_window(open)
                }
                Output::Action(ConsoleAction::SetName { participant, name }) => {
                    link.send_name(participant.as_str(), Some(name))
                }
                Output::Action(ConsoleAction::Desk(request)) => {
                    // A session hosted opens on its preparation, leaving one goes home; a
                    // device's name, role or sound keeps the screen where it was asked.
                    match request {
                        DeskRequest::Leave => {
                            self.state.screen = Screen::Home;
                            self.state.reviewing = false;
                        }
                        DeskRequest::Review { session: Some(_) } => {
                            self.state.screen = Screen::Evaluation;
                            self.state.reviewing = true;
                        }
                        DeskRequest::Review { session: None } => self.state.reviewing = false,
                        DeskRequest::Create { .. }
                        | DeskRequest::FromPlan { .. }
                        | DeskRequest::Open { .. } => self.state.screen = Screen::Prepare,
                        DeskRequest::NameDevice { .. }
                        | DeskRequest::Forget { .. }
                        | DeskRequest::SetRole { .. }
                        | DeskRequest::SetSound { .. }
                        | DeskRequest::CutVoices { .. }
                        | DeskRequest::Backup { .. }
                        | DeskRequest::Export(_)
                        | DeskRequest::ReviewCommand { .. }
                        | DeskRequest::AccessLog
                        | DeskRequest::Figures
                        | DeskRequest::FiguresCsv { .. }
                        | DeskRequest::PurgePreview
                        | DeskRequest::Purge { .. }
                        | DeskRequest::Roadmap { .. }
                        | DeskRequest::Prescribe { .. }
                        | DeskRequest::SetEntryStatus { .. }
                        | DeskRequest::RecordResult(_)
                        | DeskRequest::Plan
                        | DeskRequest::PlanAdd { .. }
                        | DeskRequest::PlanCancel { .. }
                        | DeskRequest::PlanIcs { .. } => {}
                    }
                    link.send_desk(&request)
                }
                Output::Action(ConsoleAction::Synthesis(request)) => link.send_synthesis(&request),
                Output::Action(ConsoleAction::ChangePassphrase { current, new }) => {
                    self.launcher
                        .ask(GateAction::ChangePassphrase { current, new });
                    Ok(())
                }
                Output::Action(ConsoleAction::Lock) => {
                    self.launcher.ask(GateAction::Lock);
                    Ok(())
                }
                Output::Action(ConsoleAction::Quit) => {
                    quit = true;
                    Ok(())
                }
            };
            if let Err(e) = sent {
                self.problem = Some(e.to_string());
                tracing::warn!("console : {e}");
            }
        }
        quit
    }
}
