//! The console's panels as plain functions over a [`SessionView`]: each draws with egui and
//! returns what the facilitator asked for ([`Output`]): engine [`Command`]s, which the shell
//! sends to the director (the engine holds every rule), or local [`ConsoleAction`]s.
//!
//! [`console`] draws the top bar and the current screen; each screen is public on its own
//! ([`prepare()`], [`run()`], [`devices()`], [`coding()`], [`end()`]), with the help overlay
//! ([`help()`]). Only UI-local state lives in [`ConsoleState`].

pub mod admin;
pub mod agreement;
pub mod coding;
pub mod devices;
pub mod end;
pub mod evaluation;
pub mod folders;
pub mod help;
pub mod home;
pub mod keys;
pub mod pairing;
pub mod people;
pub mod plan;
pub mod prepare;
pub mod review;
pub mod roadmap;
pub mod run;
pub mod spectator;
pub mod synthesis;
pub mod timeline;
pub mod unlock;

pub use coding::{Coverage, CoverageLevel, CoverageThresholds, coding, coverage};
pub use devices::devices;
pub use end::end;
pub use evaluation::evaluation;
pub use help::help;
pub use home::home;
pub use people::people;
pub use prepare::prepare;
pub use run::run;

use crate::i18n::{Locale, tr};
use crate::view::{LinkState, SessionView};
use boussole_content::grid::PhysicalKey;
use boussole_content::ids::{BehaviourId, ModifierId, PuzzleId};
use boussole_director::engine::{Command, Millis, ObservationAction, ParticipantId};
use egui::{Color32, RichText, TextStyle, Ui};
use std::collections::BTreeMap;

/// What a panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// A command for the director's engine.
    Command(Command),
    /// Commands committed together, in order, in one transaction (an enrolment and the person
    /// who takes the slot).
    Commands(Vec<Command>),
    /// Something the console shell does itself.
    Action(ConsoleAction),
}

/// What the console shell does without the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum ConsoleAction {
    /// Keep a participant's civil name in the protected table (never in the session log).
    SetName {
        /// The participant.
        participant: ParticipantId,
        /// Their name, as typed.
        name: String,
    },
    /// A request on the person register (kept by the director, never in the session log).
    Register(boussole_director::register::RegisterRequest),
    /// Open pairing for ten minutes with a fresh code (`true`), or close it (`false`).
    PairingWindow {
        /// Open or close.
        open: bool,
    },
    /// A request to the director of the day: host a session, leave it.
    Desk(boussole_director::desk::DeskRequest),
    /// Ask the director for a person's synthesis (the window lays it out), or record the
    /// person's answer on a version.
    Synthesis(boussole_director::synthesis::SynthesisAsk),
    /// Lock the director of the day (the store closes; the unlock screen comes back).
    Lock,
    /// Change the store's passphrase (over the local socket only, never the network).
    ChangePassphrase {
        /// The passphrase now.
        current: boussole_director::local::Secret,
        /// The new one.
        new: boussole_director::local::Secret,
    },
    /// Close the console window (the session goes on in the director).
    Quit,
}

/// The console's screens, each with its function key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Screen {
    /// The director of the day's home: today's sessions, a new one, those to resume or review
    /// (no function key: the tab, or the button of the preparation screen).
    Home,
    /// Scenario, participants, consent, stations, devices and pairing (F2).
    #[default]
    Prepare,
    /// Cue list, timer, puzzles and hints (F3).
    Run,
    /// The pairing window, then every device's link and health (F4).
    Devices,
    /// Observation coding with the grid's keys (F5).
    Coding,
    /// Open states, comments, evaluation (F6).
    End,
    /// The person register: who the people are across sessions (F11).
    People,
    /// After the game: proposed levels, their evidence, the levels retained, the debrief and
    /// the consent (from the end screen; no function key left).
    Evaluation,
    /// The session drawn over time: phases, puzzles, each person's codes per rater and what
    /// the game recorded (no function key left).
    Timeline,
    /// Agreement between two raters: kappa as BORIS computes it, and the moments they
    /// disagree (no function key left).
    Agreement,
    /// A person's synthesis across their sessions, its pages shown in the window, saved as a
    /// PDF where the facilitator chooses (from the evaluation and home screens).
    Synthesis,
    /// The access log, the funders' figures and the retention purge (from the home screen).
    Admin,
    /// A person's roadmap and results from other tools (from the register's person page).
    Roadmap,
    /// The plan: coming sessions, waiting lists, a session planned (from the home screen).
    Plan,
}

impl Screen {
    /// Every screen, in tab order.
    pub const ALL: [Screen; 14] = [
        Self::Home,
        Self::Prepare,
        Self::Run,
        Self::Devices,
        Self::Coding,
        Self::End,
        Self::Evaluation,
        Self::Timeline,
        Self::Agreement,
        Self::Synthesis,
        Self::People,
        Self::Roadmap,
        Self::Plan,
        Self::Admin,
    ];

    /// Its function key, if it has one.
    pub fn key(self) -> Option<PhysicalKey> {
        match self {
            Self::Prepare => Some(PhysicalKey::F2),
            Self::Run => Some(PhysicalKey::F3),
            Self::Devices => Some(PhysicalKey::F4),
            Self::Coding => Some(PhysicalKey::F5),
            Self::End => Some(PhysicalKey::F6),
            Self::People => Some(PhysicalKey::F11),
            Self::Evaluation
            | Self::Timeline
            | Self::Agreement
            | Self::Synthesis
            | Self::Home
            | Self::Admin
            | Self::Roadmap
            | Self::Plan => None,
        }
    }

    /// Its tab title in `locale`.
    pub fn title(self, locale: Locale) -> String {
        match self {
            Self::Prepare => tr!(locale, "screen-prepare"),
            Self::Run => tr!(locale, "screen-run"),
            Self::Devices => tr!(locale, "screen-devices"),
            Self::Coding => tr!(locale, "screen-coding"),
            Self::End => tr!(locale, "screen-end"),
            Self::People => tr!(locale, "screen-people"),
            Self::Evaluation => tr!(locale, "screen-evaluation"),
            Self::Synthesis => tr!(locale, "screen-synthesis"),
            Self::Agreement => tr!(locale, "screen-agreement"),
            Self::Timeline => tr!(locale, "screen-timeline"),
            Self::Home => tr!(locale, "screen-home"),
            Self::Admin => tr!(locale, "screen-admin"),
            Self::Roadmap => tr!(locale, "screen-roadmap"),
            Self::Plan => tr!(locale, "screen-plan"),
        }
    }
}

/// A behaviour key pressed, waiting for one of its modifier keys (the next key decides).
#[derive(Clone, Debug, PartialEq)]
pub struct PendingCode {
    /// Who.
    pub participant: ParticipantId,
    /// The behaviour.
    pub behaviour: BehaviourId,
    /// Point or start.
    pub action: ObservationAction,
    /// When the key went down (egui time, seconds): past [`MODIFIER_WAIT_S`] it is sent bare.
    pub since: f64,
}

/// How long a behaviour waits for its modifier key before it is sent without one, seconds.
pub const MODIFIER_WAIT_S: f64 = 2.0;

/// A behaviour key held down, for hold-to-code.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldKey {
    /// When it went down (egui time, seconds).
    pub since: f64,
    /// The state it started on the way down, to stop on a long release: participant and
    /// behaviour.
    pub started: Option<(ParticipantId, BehaviourId)>,
}

/// A hold longer than this, seconds, stops on release the state its press started; a shorter
/// tap leaves it running (a tap toggles).
pub const HOLD_S: f64 = 0.4;

/// The export being chosen on the end screen.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportDraft {
    /// The format.
    pub format: boussole_director::desk::ExportFormat,
    /// The CSV carries the notes.
    pub notes: bool,
    /// The folder chooser, while open.
    pub chooser: Option<folders::Chooser>,
}

impl Default for ExportDraft {
    fn default() -> Self {
        Self {
            format: boussole_director::desk::ExportFormat::BorisProject,
            notes: false,
            chooser: None,
        }
    }
}

/// Text being typed, kept across frames.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drafts {
    /// New participant: pseudonym.
    pub pseudonym: String,
    /// New participant: colour, `#rrggbb`.
    pub colour: String,
    /// New participant: civil name (protected table, optional).
    pub name: String,
    /// New participant: the register person who takes the slot (`None`: a new person).
    pub enrol_person: Option<String>,
    /// New participant: the search typed (pseudonym or civil name).
    pub enrol_search: String,
    /// A slot being moved to another person: slot, the person chosen, the reason typed.
    pub moving: Option<(ParticipantId, Option<String>, String)>,
    /// The register screen's forms.
    pub register: RegisterDrafts,
    /// The end screen's export: format, notes, folder chooser.
    pub export: ExportDraft,
    /// The pairing code being typed, at a console's first connection.
    pub pairing_code: String,
    /// The evaluation screen: the participant shown.
    pub eval_participant: Option<ParticipantId>,
    /// The evaluation screen: the level chosen and the reason typed, per participant and
    /// competency.
    pub levels: evaluation::LevelDrafts,
    /// New device: its id.
    pub device: String,
    /// New device: role.
    pub device_role: Option<boussole_content::cue::DeviceRole>,
    /// New device: station.
    pub device_station: Option<boussole_content::ids::StationId>,
    /// Immersion assignment per headset: immersion id and participant.
    pub immersion: BTreeMap<boussole_director::engine::DeviceId, (String, Option<ParticipantId>)>,
    /// Force-solve reason per puzzle.
    pub force_reason: BTreeMap<PuzzleId, String>,
    /// A force solve refused for want of a reason (shown until a reason is typed).
    pub force_refused: Option<PuzzleId>,
    /// The free note being written; `Some` while its field is open.
    pub note: Option<String>,
    /// Comment and recommendations (one per line) per participant, at the end.
    pub comments: BTreeMap<ParticipantId, (String, String)>,
    /// The puzzle whose hints the run screen shows.
    pub hint_puzzle: Option<PuzzleId>,
    /// The home screen's new session.
    pub home: home::HomeDrafts,
    /// The devices screen: the name being typed per device.
    pub device_names: BTreeMap<String, String>,
    /// The devices screen: the device about to be unpaired (asks for a confirmation).
    pub forgetting: Option<String>,
    /// The devices screen: each device's volume slider, with the volume kept when it was
    /// last drawn (the slider starts again from the director's when that changes).
    pub volumes: BTreeMap<String, (u8, u8)>,
    /// Where the next hint goes: a station, or the room screens when `None`.
    pub hint_station: Option<boussole_content::ids::StationId>,
    /// Who the next hint is for (the participant who asked), or the group when `None`.
    pub hint_participant: Option<ParticipantId>,
}

/// The register screen's texts being typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegisterDrafts {
    /// The person shown on the right (their id).
    pub selected: Option<String>,
    /// Only persons whose pseudonym or prescriber contains this (case and accents ignored).
    pub filter: String,
    /// Show archived and merged persons too.
    pub show_all: bool,
    /// New person: pseudonym.
    pub pseudonym: String,
    /// New person: civil name (protected table).
    pub name: String,
    /// New person: entry into the orientation phase (`AAAA-MM-JJ`).
    pub entered_on: String,
    /// New person: prescriber.
    pub prescriber_name: String,
    /// New person: prescriber's structure.
    pub prescriber_structure: String,
    /// The selected person's form: pseudonym, entry date, prescriber, structure, as loaded.
    pub edit: Option<(String, String, String, String, String)>,
    /// Merge: the duplicate chosen to merge into the selected person, and the reason.
    pub merge_from: Option<String>,
    /// Merge or undo: the reason typed.
    pub reason: String,
    /// Erasure: the pseudonym typed again to confirm.
    pub erase_confirm: String,
    /// The person's data: the folder chooser, while open.
    pub data_chooser: Option<folders::Chooser>,
}

/// UI-local state: nothing here is a rule of the session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsoleState {
    /// The screen shown.
    pub screen: Screen,
    /// The participant the coding keys apply to.
    pub selected: Option<ParticipantId>,
    /// A behaviour waiting for its modifier key.
    pub pending: Option<PendingCode>,
    /// Behaviour keys held down.
    pub held: BTreeMap<PhysicalKey, HeldKey>,
    /// Texts being typed.
    pub drafts: Drafts,
    /// Whether the help overlay is open.
    pub help_open: bool,
    /// When coverage turns amber and red.
    pub thresholds: CoverageThresholds,
    /// The labels' language.
    pub locale: Locale,
    /// The modifier chosen for the last code sent (shown in the coding panel).
    pub last_modifier: Option<ModifierId>,
    /// The synthesis screen: the person, the options, the pages shown, the folder chooser.
    pub synthesis: synthesis::SynthesisState,
    /// The agreement screen: the raters, the slice, the method, the last computation.
    pub agreement: agreement::AgreementState,
    /// The timeline: zoom and the moment shown.
    pub timeline: timeline::TimelineState,
    /// Where files are saved (`None`: this machine's USB keys and folders,
    /// [`folders::system_places`]); tests give their own.
    pub places: Option<Vec<folders::Place>>,
    /// The home screen's folder chooser for a backup, while open.
    pub backup_chooser: Option<folders::Chooser>,
    /// The home screen's passphrase change, being typed.
    pub passphrase: PassphraseDraft,
    /// The director of the day's answer to the last request over the local socket (a
    /// passphrase changed or refused), shown on the home screen.
    pub director_message: Option<String>,
    /// The after-game screens show the closed session followed for review rather than the
    /// hosted one.
    pub reviewing: bool,
    /// The administration screen's section and forms.
    pub admin: admin::AdminState,
    /// The « Parcours » screen: the person and its forms.
    pub roadmap: roadmap::RoadmapState,
    /// The « Planning » screen's form.
    pub plan: plan::PlanState,
    /// The headset whose spectator picture is enlarged.
    pub spectator_large: Option<String>,
    /// The spectator's pictures ready (the window's renderer fills it; empty in tests).
    pub spectator_pictures: crate::spectator_view::SpectatorPictures,
    /// The pictures the spectator panel asked for in its last frame (the window's renderer
    /// takes them).
    pub spectator_wanted: Vec<crate::spectator_view::Wanted>,
}

/// A passphrase change being typed: never printed, wiped when dropped or sent.
#[derive(Clone, Default, PartialEq)]
pub struct PassphraseDraft {
    /// The form is open.
    pub open: bool,
    /// The passphrase now.
    pub current: String,
    /// The new one.
    pub new: String,
    /// The new one again.
    pub confirm: String,
}

impl std::fmt::Debug for PassphraseDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassphraseDraft")
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Drop for PassphraseDraft {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.current.zeroize();
        self.new.zeroize();
        self.confirm.zeroize();
    }
}

/// The whole console: the top bar (link, phase, timer, screen tabs) and the current screen,
/// with the help overlay over it when open.
pub fn console(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) -> Vec<Output> {
    readable(ui);
    let keys = keys::read(ui);
    let mut used = Vec::new();
    let mut out = Vec::new();
    if keys.question_mark {
        state.help_open = !state.help_open;
    }
    for press in &keys.presses {
        match keys::Shortcut::of(press) {
            Some(keys::Shortcut::Help) => {
                state.help_open = !state.help_open;
                used.push(press.key);
            }
            Some(keys::Shortcut::Screen(s)) => {
                state.screen = s;
                used.push(press.key);
            }
            Some(keys::Shortcut::Locale) => {
                state.locale = state.locale.other();
                used.push(press.key);
            }
            _ => {}
        }
    }
    keys::consume(ui, &used);
    // An immersion session has no game to run: its headsets are on the preparation screen.
    if is_immersion_session(view) && state.screen == Screen::Run {
        state.screen = Screen::Prepare;
    }
    top_bar(ui, view, state, &mut out);
    ui.separator();
    if state.help_open {
        help(ui, view, state);
    }
    if let Some(rv) = view.review.as_deref()
        && review::shows(state.screen)
    {
        if state.reviewing {
            out.extend(review::review(ui, rv, true, state));
            return out;
        }
        review::offer(ui, rv, state);
    }
    let screen = match state.screen {
        Screen::Prepare => prepare(ui, view, state),
        Screen::Run => run(ui, view, state),
        Screen::Devices => devices(ui, view, state),
        Screen::Coding => coding(ui, view, state),
        Screen::End => end(ui, view, state),
        Screen::People => people(ui, &view.register, view.observer, state),
        Screen::Evaluation => evaluation(ui, view, state),
        Screen::Timeline => {
            timeline::timeline(ui, view, state);
            Vec::new()
        }
        Screen::Agreement => agreement::agreement(ui, view, state),
        Screen::Synthesis => {
            synthesis::synthesis(ui, &view.register, view.synthesis.as_ref(), state)
        }
        Screen::Home => home(ui, view.desk.as_ref(), Some(&view.room), state),
        Screen::Admin => admin::admin(ui, &view.answers, &view.register, state),
        Screen::Roadmap => {
            roadmap::roadmap(ui, &view.register, view.answers.roadmap.as_ref(), state)
        }
        Screen::Plan => plan::plan(ui, view.answers.plan.as_ref(), state),
    };
    out.extend(screen);
    out
}

/// The colour of the director's messages (refusals and confirmations alike).
pub(crate) const NOTICE: Color32 = Color32::from_rgb(230, 160, 40);

/// The colour of secondary lines (hints, a device away for a moment).
pub(crate) const MUTED: Color32 = Color32::from_rgb(110, 110, 110);

/// Big, readable text: the console is read from a standing position, under stress.
pub(crate) fn readable(ui: &mut Ui) {
    let style = ui.style_mut();
    for (text_style, size) in [
        (TextStyle::Heading, 28.0),
        (TextStyle::Body, 20.0),
        (TextStyle::Button, 20.0),
        (TextStyle::Monospace, 18.0),
        (TextStyle::Small, 15.0),
    ] {
        if let Some(font) = style.text_styles.get_mut(&text_style) {
            font.size = size;
        }
    }
}

fn top_bar(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState, out: &mut Vec<Output>) {
    let l = state.locale;
    ui.horizontal_wrapped(|ui| {
        let (text, colour) = match &view.link {
            LinkState::Online => (tr!(l, "link-online"), Color32::from_rgb(40, 160, 70)),
            LinkState::Training => (tr!(l, "link-training"), Color32::from_rgb(90, 140, 220)),
            LinkState::Connecting => (tr!(l, "link-connecting"), Color32::from_rgb(220, 150, 0)),
            LinkState::Offline { reason } => (
                tr!(l, "link-offline", reason = reason.as_str()),
                Color32::from_rgb(200, 40, 40),
            ),
            LinkState::NeedsCode { .. } => {
                (tr!(l, "pairing-title"), Color32::from_rgb(220, 150, 0))
            }
        };
        ui.label(RichText::new(text).color(colour).strong());
        ui.separator();
        if is_immersion_session(view) {
            // No phases and no countdown: the session's own clock only.
            ui.label(RichText::new(tr!(l, "immersion-session")).strong());
        } else {
            ui.label(phase_title(view, l));
            ui.separator();
            let remaining = mmss_signed(view.engine.remaining_ms(view.now));
            let timer = if view.engine.timer_running() {
                tr!(l, "timer-running", remaining = remaining)
            } else {
                tr!(l, "timer-paused", remaining = remaining)
            };
            ui.label(RichText::new(timer).heading().monospace());
        }
        ui.label(tr!(l, "session-time", time = mmss(view.now)));
        if view.observer {
            ui.label(RichText::new(tr!(l, "observer-badge")).strong());
        }
    });
    ui.horizontal_wrapped(|ui| {
        for s in Screen::ALL {
            if s == Screen::Run && is_immersion_session(view) {
                continue;
            }
            // A person's « Parcours » is reached from their page in the register.
            if s == Screen::Roadmap && state.screen != Screen::Roadmap {
                continue;
            }
            let label = match s.key() {
                Some(k) => format!("{} ({})", s.title(l), k.qwerty_label()),
                None => s.title(l),
            };
            if ui.selectable_label(state.screen == s, label).clicked() {
                state.screen = s;
            }
        }
        ui.separator();
        if ui
            .button(format!(
                "{} ({})",
                tr!(l, "help-button"),
                tr!(l, "key-help")
            ))
            .clicked()
        {
            state.help_open = !state.help_open;
        }
        if ui
            .button(format!("{} (F12)", tr!(l, "locale-button")))
            .clicked()
        {
            state.locale = l.other();
        }
        if ui.button(tr!(l, "quit-button")).clicked() {
            out.push(Output::Action(ConsoleAction::Quit));
        }
    });
    // The director's last word: a refusal or a confirmation, in one colour that reads as
    // "note this", not as an error.
    if let Some(last) = view.notices.last() {
        ui.label(RichText::new(last).color(NOTICE));
    }
}

/// Whether the session is an immersion session (headsets only: no game, no timer).
pub(crate) fn is_immersion_session(view: &SessionView) -> bool {
    view.engine.scenario().id.as_str() == boussole_content::scenario::IMMERSION_SESSION
}

/// The current phase's title, or "not started" / "closed".
fn phase_title(view: &SessionView, l: Locale) -> String {
    if view.engine.is_closed() {
        return tr!(l, "phase-closed");
    }
    let scenario = view.engine.scenario();
    match view.engine.phase() {
        Some(id) => scenario
            .phases
            .iter()
            .find(|p| p.id == *id)
            .map_or_else(|| id.to_string(), |p| p.title.fr.clone()),
        None => tr!(l, "phase-none"),
    }
}

/// « Raison » and its field on one line (a change that needs a reason: an entry interrupted, a
/// planned session cancelled); `salt` tells the fields of a list apart.
pub(crate) fn reason_field(ui: &mut Ui, reason: &mut String, salt: egui::Id, l: Locale) {
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(tr!(l, "people-reason"));
        ui.add(
            egui::TextEdit::singleline(reason)
                .id_salt(salt)
                .desired_width(260.0),
        )
        .labelled_by(label.id);
    });
}

/// `mm:ss` of a session time.
pub fn mmss(t: Millis) -> String {
    let s = t.0 / 1000;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// `mm:ss` of a signed duration, ms (a timer past zero shows `-00:12`).
pub fn mmss_signed(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let s = ms.unsigned_abs() / 1000;
    format!("{sign}{:02}:{:02}", s / 60, s % 60)
}

/// A participant's console colour (grey when the colour does not parse).
pub fn colour(hex: &str) -> Color32 {
    Color32::from_hex(hex).unwrap_or(Color32::GRAY)
}

/// Participants in console order (the digit keys' order): 1 is the first. Ids sort shortest
/// first, so `P2` comes before `P10` as the enrolment numbered them.
pub fn participants(
    view: &SessionView,
) -> Vec<(&ParticipantId, &boussole_director::engine::Participant)> {
    let mut all: Vec<_> = view.engine.participants().iter().collect();
    all.sort_by(|(a, _), (b, _)| {
        (a.as_str().len(), a.as_str()).cmp(&(b.as_str().len(), b.as_str()))
    });
    all
}

/// A command stamped as this console's (the director re-stamps the rater anyway).
fn cmd(c: Command) -> Output {
    Output::Command(c)
}
