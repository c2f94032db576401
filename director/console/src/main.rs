//! `boussole-console`: the facilitator's console window. Started with no address (the desktop
//! entry), it finds or starts this laptop's director of the day, unlocks it with the passphrase
//! typed in the window, and joins it without a code ([`boussole_console::day`]). With
//! `--director HOST:PORT` (`--code` the first time) it attaches to a director elsewhere; an
//! observer console finds one on the local network; `--script` plays a session offline for
//! training and screenshots. Closing or crashing it never stops a session.

use anyhow::{Context, Result, bail};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use bevy::render::{Render, RenderApp, render_resource::PipelineCache};
use bevy::window::{PrimaryWindow, WindowResolution};
use bevy::winit::{UpdateMode, WinitSettings};
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass, egui};
use boussole_console::i18n::Locale;
use boussole_console::link::{Link, LinkConfig};
use boussole_console::model::ConsoleModel;
use boussole_console::spectator_view::{
    self, SpectatorContent, SpectatorPictures, SpectatorWanted,
};
use boussole_console::ui::{self, ConsoleAction, ConsoleState, Output, Screen};
use boussole_console::view::{LinkState, SessionView};
use boussole_content::ContentSet;
use boussole_director::engine::{Command, Engine, Input, Millis, RaterId};
use boussole_protocol::DeviceId;
use boussole_protocol::pairing::PairingCode;
use boussole_protocol::transport::Backoff;
use clap::Parser;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The Boussole facilitator's console.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The director, `HOST:PORT` (printed by `boussole-director serve`); found on the local
    /// network (mDNS) when left out.
    #[arg(long, conflicts_with = "script")]
    director: Option<String>,
    /// The pairing code the director shows: needed the first time only.
    #[arg(long)]
    code: Option<String>,
    /// This console's name, its rater id in the session log.
    #[arg(long, default_value = "console")]
    name: String,
    /// A second rater's console: it codes behaviours, and runs nothing.
    #[arg(long)]
    observer: bool,
    /// Where the console keeps its pairing (default: the user's data folder).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The content folder (the console reads the scenario and grid the director plays).
    /// Default: `content/` here (a checkout), else the installed `/usr/share/boussole/content`.
    #[arg(long)]
    content: Option<PathBuf>,
    /// The director of the day's store, given to the director this console starts (default:
    /// `$XDG_DATA_HOME/boussole/director.db`).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Offline: a session played from this facilitator script, for training (commands are
    /// handled by a local engine; nothing reaches a director).
    #[arg(long)]
    script: Option<PathBuf>,
    /// Offline: how far into the script to start, seconds.
    #[arg(long, default_value_t = 0.0)]
    at: f32,
    /// Take a screenshot of every screen into this folder once the session is shown, then quit.
    #[arg(long)]
    screenshots: Option<PathBuf>,
    /// Labels' language: `fr` or `en`.
    #[arg(long, default_value = "fr")]
    lang: String,
    /// Coverage: a participant's badge turns amber after this many minutes unobserved.
    #[arg(long, default_value_t = 5)]
    amber_min: u32,
    /// Coverage: and red after this many.
    #[arg(long, default_value_t = 10)]
    red_min: u32,
}

/// Where the installed packages put the content (`cargo xtask package`).
const INSTALLED_CONTENT: &str = "/usr/share/boussole/content";

fn main() -> Result<()> {
    let mut args = Args::parse();
    // Started from the desktop entry, the console runs in the home folder: the installed
    // content then.
    let content_dir = args.content.clone().unwrap_or_else(|| {
        let here = PathBuf::from("content");
        if here.is_dir() {
            here
        } else {
            PathBuf::from(INSTALLED_CONTENT)
        }
    });
    args.content = Some(content_dir.clone());
    let locale = match args.lang.as_str() {
        "fr" => Locale::Fr,
        "en" => Locale::En,
        other => bail!("--lang {other}: fr or en"),
    };
    let assets = content_dir
        .parent()
        .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"));
    let (content, report) = boussole_content::check(&content_dir, &assets);
    if report.errors() > 0 {
        for p in &report.problems {
            eprintln!("{p}");
        }
        bail!(
            "le contenu sous {} a {} erreur(s) (détail ci-dessus) : la console ne peut pas \
             s'ouvrir ; corrigez-le, ou réinstallez Boussole si c'est le contenu installé",
            content_dir.display(),
            report.errors()
        );
    }
    let spectator = SpectatorContent::new(&content, &assets);
    let me = RaterId(args.name.clone());
    let source = match (&args.director, &args.script) {
        (_, Some(script)) => {
            Source::Offline(Box::new(Offline::from_script(&content, script, args.at)?))
        }
        (None, None) if !args.observer => {
            Source::Day(Box::new(day_console(&args, content, locale)))
        }
        (director, None) => {
            let addr = match director {
                Some(director) => boussole_protocol::discovery::parse_director_addr(director)
                    .map_err(|e| anyhow::anyhow!("--director {director}: {e}"))?
                    .resolve()
                    .with_context(|| format!("resolving {director}"))?
                    .into_iter()
                    .next()
                    .with_context(|| format!("{director} resolves to no address"))?,
                None => discover()?,
            };
            let pairing_code = args
                .code
                .as_deref()
                .map(PairingCode::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--code: {e}"))?;
            let data = args.data.clone().unwrap_or_else(default_data_dir);
            // Consoles read the content folder itself: every file counts.
            let bundle = boussole_protocol::manifest::Manifest::scan(&content_dir, &assets)
                .map(|m| m.hash())
                .unwrap_or([0; 32]);
            let config = LinkConfig {
                director: addr,
                device: DeviceId::from(args.name.as_str()),
                observer: args.observer,
                pairing_file: data.join(format!("{}.pairing", args.name)),
                pairing_code,
                content_hash: bundle,
                backoff: Backoff::default(),
            };
            let link = Link::start(config.clone()).context("starting the link to the director")?;
            Source::Live {
                link,
                config: Box::new(config),
                model: Box::new(ConsoleModel::new(content, me.clone(), args.observer)),
            }
        }
    };
    if args.amber_min == 0 || args.red_min <= args.amber_min {
        bail!(
            "--amber-min {} --red-min {}: amber must be at least 1 minute, and red later",
            args.amber_min,
            args.red_min
        );
    }
    let state = ConsoleState {
        locale,
        thresholds: ui::CoverageThresholds {
            amber_ms: u64::from(args.amber_min) * 60_000,
            red_ms: u64::from(args.red_min) * 60_000,
        },
        screen: if args.observer {
            Screen::Coding
        } else {
            Screen::Prepare
        },
        ..ConsoleState::default()
    };
    let shots = args.screenshots.clone().map(Shots::new);
    let pending = Arc::new(AtomicUsize::new(usize::MAX));

    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: "Boussole — console de l'animateur·rice".into(),
            // A common facilitator laptop.
            resolution: WindowResolution::from((1366, 768)).with_scale_factor_override(1.0),
            ..default()
        }),
        ..default()
    }))
    .add_plugins(EguiPlugin::default())
    .add_plugins(spectator_view::plugin)
    .insert_resource(spectator)
    .insert_non_send(Shell {
        source,
        state,
        notices_seen: 0,
    })
    .insert_resource(PipelinesPending(pending.clone()))
    .add_systems(Startup, camera)
    .add_systems(EguiPrimaryContextPass, draw);
    if let Some(shots) = shots {
        app.insert_resource(shots)
            .add_systems(Update, (take_screenshots, take_day_screenshots));
    } else {
        // A facilitator's laptop runs all day on battery: redraw on input, and ten times a
        // second for the countdown and the waits (twice a second when the window is behind).
        app.insert_resource(WinitSettings {
            focused_mode: UpdateMode::reactive(IDLE_WAKE),
            unfocused_mode: UpdateMode::reactive_low_power(Duration::from_millis(500)),
        });
    }
    if let Some(render) = app.get_sub_app_mut(RenderApp) {
        render.add_systems(Render, count_pending(pending));
    }
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => bail!("the console stopped with code {code}"),
    }
}

/// The console of the day: the director of this laptop, found or started.
fn day_console(
    args: &Args,
    content: ContentSet,
    locale: Locale,
) -> boussole_console::day::DayConsole {
    use boussole_console::day::{DayConsole, Laptop};
    let data = args.data.clone().unwrap_or_else(default_data_dir);
    let db = args.db.clone().unwrap_or_else(|| {
        data.parent()
            .map_or_else(|| PathBuf::from("director.db"), |d| d.join("director.db"))
    });
    // The director installed beside this console, else the one on the PATH.
    let director = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("boussole-director")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("boussole-director"));
    let laptop = Laptop {
        name: args.name.clone(),
        // Given a store of its own (a trial store, tests), the console starts its own director
        // rather than the installed service.
        systemd: args.db.is_none(),
        db,
        content: args
            .content
            .clone()
            .unwrap_or_else(|| PathBuf::from(INSTALLED_CONTENT)),
        director,
        socket: boussole_director::local::default_socket(),
        director_args: Vec::new(),
    };
    let state = ConsoleState {
        locale,
        screen: Screen::Home,
        thresholds: ui::CoverageThresholds {
            amber_ms: u64::from(args.amber_min) * 60_000,
            red_ms: u64::from(args.red_min) * 60_000,
        },
        ..ConsoleState::default()
    };
    DayConsole::open(&laptop, content, state)
}

/// The one director announced on the local network (mDNS), when `--director` is not given.
fn discover() -> Result<std::net::SocketAddr> {
    let found = boussole_protocol::discovery::browse(Duration::from_secs(3))
        .context("looking for the director on the local network (mDNS)")?;
    match found.as_slice() {
        [one] => one
            .socket_addrs()
            .into_iter()
            .next()
            .with_context(|| format!("director {} announced no address", one.name)),
        [] => bail!(
            "aucune régie trouvée sur le réseau local : ouvrez la régie sur l'ordinateur de \
             l'animateur·rice, branché sur le même réseau que cette console"
        ),
        several => bail!(
            "plusieurs régies sur le réseau local ({}) : la console ne sait pas laquelle \
             rejoindre ; n'en laissez qu'une ouverte",
            several
                .iter()
                .map(|f| format!("{} (port {})", f.name, f.port))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `$XDG_DATA_HOME/boussole/console`, else `~/.local/share/boussole/console`, else
/// `./boussole-console`.
fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map_or_else(
            || PathBuf::from("boussole-console"),
            |d| d.join("boussole/console"),
        )
}

/// Where the session comes from.
enum Source {
    /// A director over the network.
    Live {
        link: Link,
        /// How the link was started, to start it again with a typed pairing code.
        config: Box<LinkConfig>,
        model: Box<ConsoleModel>,
    },
    /// A local engine fed from a script: training and screenshots.
    Offline(Box<Offline>),
    /// The director of the day on this laptop, started and unlocked from the window.
    Day(Box<boussole_console::day::DayConsole>),
}

/// A session played locally: the script's inputs up to the start time, then the commands the
/// facilitator gives, handled at the time they are given.
struct Offline {
    engine: Engine,
    /// The scenario's rubric, for the evaluation screen.
    rubric: Option<boussole_content::rubric::Rubric>,
    /// A register for training: the script's people, each in this one session.
    register: boussole_director::register::RegisterView,
    immersions: Vec<(boussole_content::ids::ImmersionId, String)>,
    /// Where the immersions' hotspots are: in training, the headsets of the script look at
    /// them in turn on the spectator panel.
    sights: Arc<boussole_console::spectator::Sights>,
    started: Instant,
    start: Millis,
    /// Training: the pairing window the facilitator opened, as a director would show it
    /// (a random code no device can use here, and when it closes).
    pairing: Option<(PairingCode, Instant)>,
}

impl Offline {
    fn from_script(content: &ContentSet, path: &Path, at_s: f32) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let script = boussole_director::script::parse(&text)
            .map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))?;
        let scenario = content
            .scenarios
            .iter()
            .map(|d| &d.value)
            .find(|s| s.id.as_str() == script.scenario)
            .with_context(|| format!("{}: unknown scenario {}", path.display(), script.scenario))?;
        let grid = content
            .grids
            .iter()
            .map(|g| &g.value)
            .find(|g| g.id == scenario.observation_grid)
            .with_context(|| format!("scenario {}: grid missing", scenario.id))?;
        let start = Millis(0).plus_secs(at_s);
        let inputs = boussole_director::script::timeline(&script)
            .into_iter()
            .filter(|(at, _)| *at <= start);
        let mut engine = Engine::replay(scenario.clone(), grid.clone(), inputs);
        let _ = engine.advance(start);
        let register = boussole_director::register::RegisterView {
            persons: script
                .participants
                .iter()
                .map(|p| boussole_director::register::RegisterEntry {
                    id: format!("entrainement-{}", p.id),
                    pseudonym: p.person.clone().unwrap_or_else(|| p.pseudonym.clone()),
                    entered_on: None,
                    prescriber_name: String::new(),
                    prescriber_structure: String::new(),
                    archived: false,
                    merged_into: None,
                    has_name: p.name.is_some(),
                    // Training: the notice counts as given, its reminder would only distract.
                    notice_given_on: Some("entraînement".into()),
                    sessions: vec![(
                        0,
                        "entraînement".into(),
                        script.scenario.clone(),
                        p.id.to_string(),
                    )],
                })
                .collect(),
            found: None,
        };
        Ok(Self {
            rubric: boussole_console::model::rubric_of(content, &engine.scenario().rubric),
            engine,
            register,
            immersions: boussole_console::model::immersions(content),
            sights: Arc::new(boussole_console::spectator::Sights::of(content)),
            started: Instant::now(),
            start,
            pairing: None,
        })
    }

    fn now(&self) -> Millis {
        Millis(self.start.0 + u64::try_from(self.started.elapsed().as_millis()).unwrap_or(0))
    }
}

/// The console's state, on the main thread (the link's receiver is not `Sync`).
struct Shell {
    source: Source,
    state: ConsoleState,
    notices_seen: usize,
}

impl Shell {
    /// The session screens' state, the console of the day's own or this shell's.
    fn console_state(&mut self) -> &mut ConsoleState {
        match &mut self.source {
            Source::Day(day) => &mut day.state,
            Source::Live { .. } | Source::Offline(_) => &mut self.state,
        }
    }

    /// The view to draw now, after folding what the link brought.
    fn view(&mut self, me: &RaterId) -> Option<SessionView> {
        match &mut self.source {
            Source::Day(_) => None,
            Source::Live { link, model, .. } => {
                for event in link.poll() {
                    model.apply(event);
                }
                model.view(link.director_ms())
            }
            Source::Offline(offline) => {
                let now = offline.now();
                let _ = offline.engine.advance(now);
                let mut view = SessionView::of(offline.engine.clone(), now, me.clone());
                view.link = LinkState::Training;
                view.immersions = offline.immersions.clone();
                view.register = offline.register.clone();
                view.rubric = offline.rubric.clone();
                view.sights = offline.sights.clone();
                view.poses = boussole_console::spectator::training_poses(&view);
                if let Some((code, until)) = offline.pairing {
                    let left = until.saturating_duration_since(Instant::now());
                    if !left.is_zero() {
                        view.room.pairing_code = Some(code.to_string());
                        view.room.pairing_open_s =
                            Some(left.as_secs() + u64::from(left.subsec_nanos() > 0));
                    }
                }
                Some(view)
            }
        }
    }

    fn send(&mut self, command: Command) {
        match &mut self.source {
            Source::Day(_) => {}
            Source::Live { link, .. } => {
                if let Err(e) = link.send(&command) {
                    warn!("commande non envoyée : {e}");
                }
            }
            Source::Offline(offline) => {
                let now = offline.now();
                for effect in offline.engine.handle(Input::Command(command), now) {
                    if let boussole_director::engine::Effect::Refused(why) = effect {
                        warn!("refusé : {why}");
                    }
                }
            }
        }
    }

    fn send_together(&mut self, commands: Vec<Command>) {
        match &mut self.source {
            Source::Day(_) => {}
            Source::Live { link, .. } => {
                if let Err(e) = link.send_together(&commands) {
                    warn!("commandes non envoyées : {e}");
                }
            }
            Source::Offline(_) => {
                for c in commands {
                    self.send(c);
                }
            }
        }
    }

    fn send_register(&mut self, request: &boussole_director::register::RegisterRequest) {
        match &self.source {
            Source::Day(_) => {}
            Source::Live { link, .. } => {
                if let Err(e) = link.send_register(request) {
                    warn!("registre : demande non envoyée : {e}");
                }
            }
            Source::Offline(_) => {
                warn!("entraînement : le registre des personnes n'est pas ouvert")
            }
        }
    }

    /// Opens (`true`) or closes the room's pairing window: the director does it and draws the
    /// code; in training the console plays it locally so the facilitator can practise.
    fn pairing_window(&mut self, open: bool) {
        match &mut self.source {
            Source::Day(_) => {}
            Source::Live { link, .. } => {
                if let Err(e) = link.send_pairing_window(open) {
                    warn!("appairage : demande non envoyée : {e}");
                }
            }
            Source::Offline(offline) => {
                offline.pairing = open.then(|| {
                    (
                        PairingCode::random(),
                        Instant::now() + boussole_protocol::pairing::OPEN_FOR,
                    )
                });
            }
        }
    }

    /// Whether there is a session to show (live: once the director sent its scenario and log).
    fn ready(&self) -> bool {
        match &self.source {
            Source::Day(_) => true,
            Source::Live { model, .. } => model.view(None).is_some(),
            Source::Offline(_) => true,
        }
    }

    /// Sends a participant's name to the director's protected table (never into the log).
    fn send_name(&mut self, participant: &str, name: String) {
        match &self.source {
            Source::Day(_) => {}
            Source::Live { link, .. } => {
                if let Err(e) = link.send_name(participant, Some(name)) {
                    warn!("nom non envoyé : {e}");
                }
            }
            Source::Offline(_) => info!("entraînement : le nom de {participant} n'est pas gardé"),
        }
    }

    /// Starts the link again with the code the facilitator typed (the pairing is saved once
    /// the director accepts it).
    fn pair_with(&mut self, code: PairingCode) {
        if let Source::Live { link, config, .. } = &mut self.source {
            let config = LinkConfig {
                pairing_code: Some(code),
                ..(**config).clone()
            };
            match Link::start(config) {
                Ok(new) => *link = new,
                Err(e) => warn!("liaison avec le directeur non relancée : {e}"),
            }
            self.state.drafts.pairing_code.clear();
        }
    }

    fn link_state(&self) -> LinkState {
        match &self.source {
            Source::Day(_) => LinkState::Online,
            Source::Live { model, .. } => model.link().clone(),
            Source::Offline(_) => LinkState::Training,
        }
    }
}

fn camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}

/// Hands the spectator's pictures to the console's state, and its panel's requests to the
/// renderer (`spectator_view`), around the frame's drawing.
fn draw(
    contexts: EguiContexts,
    mut shell: NonSendMut<Shell>,
    exit: MessageWriter<AppExit>,
    mut wanted: ResMut<SpectatorWanted>,
    pictures: Res<SpectatorPictures>,
    winit: Option<ResMut<WinitSettings>>,
) -> bevy::prelude::Result {
    shell
        .console_state()
        .spectator_pictures
        .clone_from(&pictures);
    let drawn = draw_console(contexts, &mut shell, exit);
    wanted.0 = std::mem::take(&mut shell.console_state().spectator_wanted);
    // While the spectator's pictures are on screen the window wakes as often as the headsets
    // send their poses (20 a second), else ten times a second (battery).
    if let Some(mut winit) = winit {
        let wake = if wanted.0.is_empty() {
            IDLE_WAKE
        } else {
            SPECTATOR_WAKE
        };
        let focused = UpdateMode::reactive(wake);
        if winit.focused_mode != focused {
            winit.focused_mode = focused;
        }
    }
    drawn
}

/// How often the focused window redraws with nothing happening: the countdown and the waits.
const IDLE_WAKE: Duration = Duration::from_millis(100);
/// How often it redraws while it shows the spectator's pictures: the headsets' pose rate.
const SPECTATOR_WAKE: Duration = Duration::from_millis(50);

fn draw_console(
    mut contexts: EguiContexts,
    shell: &mut Shell,
    mut exit: MessageWriter<AppExit>,
) -> bevy::prelude::Result {
    let ctx = contexts.ctx_mut()?.clone();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "console".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    if let Source::Day(day) = &mut shell.source {
        let quit = egui::Frame::central_panel(&ctx.global_style())
            .show(&mut root, |ui| {
                ui.set_min_size(ui.available_size());
                day.frame(ui)
            })
            .inner;
        if quit {
            exit.write(AppExit::Success);
        }
        return Ok(());
    }
    let me = match &shell.source {
        Source::Live { model, .. } => model_rater(model),
        Source::Offline(_) | Source::Day(_) => RaterId("console".into()),
    };
    let view = shell.view(&me);
    // Asked at the first connection, and again when the director forgot this console (then a
    // session is already shown, but nothing reaches the director until the code is typed).
    if let LinkState::NeedsCode { refused } = shell.link_state() {
        let locale = shell.state.locale;
        let code = ui::pairing::code_entry(
            &mut root,
            &mut shell.state.drafts.pairing_code,
            refused.as_deref(),
            locale,
        );
        if let Some(code) = code {
            shell.pair_with(code);
        }
        return Ok(());
    }
    let Some(view) = view else {
        waiting(&mut root, &shell.link_state(), shell.state.locale);
        return Ok(());
    };
    for notice in view.notices.iter().skip(shell.notices_seen) {
        warn!("directeur : {notice}");
    }
    shell.notices_seen = view.notices.len();
    let outputs = egui::Frame::central_panel(&ctx.global_style())
        .show(&mut root, |ui| {
            ui.set_min_size(ui.available_size());
            ui::console(ui, &view, &mut shell.state)
        })
        .inner;
    for output in outputs {
        match output {
            Output::Command(command) => shell.send(command),
            Output::Commands(commands) => shell.send_together(commands),
            Output::Action(ConsoleAction::Register(request)) => shell.send_register(&request),
            Output::Action(ConsoleAction::PairingWindow { open }) => shell.pairing_window(open),
            Output::Action(ConsoleAction::Quit) => {
                exit.write(AppExit::Success);
            }
            // Only the console of the day has a desk and a director to lock.
            Output::Action(
                ConsoleAction::Desk(_)
                | ConsoleAction::Lock
                | ConsoleAction::Synthesis(_)
                | ConsoleAction::ChangePassphrase { .. },
            ) => {}
            Output::Action(ConsoleAction::SetName { participant, name }) => {
                shell.send_name(participant.as_str(), name);
            }
        }
    }
    Ok(())
}

fn model_rater(model: &ConsoleModel) -> RaterId {
    model
        .view(None)
        .map_or_else(|| RaterId("console".into()), |v| v.me)
}

/// What the window shows before the session is known.
fn waiting(ui: &mut egui::Ui, link: &LinkState, locale: Locale) {
    let text = match (link, locale) {
        (LinkState::Training, Locale::Fr) => "Entraînement : chargement…".to_owned(),
        (LinkState::Training, Locale::En) => "Training: loading…".to_owned(),
        (LinkState::Connecting, Locale::Fr) => "Connexion au directeur…".to_owned(),
        (LinkState::Connecting, Locale::En) => "Connecting to the director…".to_owned(),
        (LinkState::Online, Locale::Fr) => "Connecté : chargement de la séance…".to_owned(),
        (LinkState::Online, Locale::En) => "Connected: loading the session…".to_owned(),
        (LinkState::Offline { reason }, Locale::Fr) => format!("Directeur injoignable : {reason}"),
        (LinkState::Offline { reason }, Locale::En) => {
            format!("Director unreachable: {reason}")
        }
        // Drawn by the code form instead.
        (LinkState::NeedsCode { .. }, _) => String::new(),
    };
    ui.centered_and_justified(|ui| ui.heading(text));
}

/// Pipelines the render world still compiles (`usize::MAX` until it first reports).
#[derive(Resource)]
struct PipelinesPending(Arc<AtomicUsize>);

fn count_pending(pending: Arc<AtomicUsize>) -> impl FnMut(Res<PipelineCache>) {
    move |cache: Res<PipelineCache>| {
        pending.store(cache.waiting_pipelines().count(), Ordering::Relaxed);
    }
}

/// The screenshot run: each screen in turn, then the devices screen with pairing open
/// ([`shot`]), captured once the pipeline cache is idle and egui has laid it out.
#[derive(Resource)]
struct Shots {
    dir: PathBuf,
    /// The picture to take next ([`shot`]).
    next: usize,
    /// The picture whose screen is set up (shown, pairing opened).
    prepared: Option<usize>,
    /// Frames drawn on the current screen with nothing pending.
    settled: u32,
    /// Captures requested and written.
    requested: usize,
    written: Arc<AtomicUsize>,
    /// Whether the devices waiting for a role were started ([`waiting_devices`]).
    devices_started: bool,
    /// The day's run: the session closed and then reviewed beside the next one.
    reviewed: Option<i64>,
}

/// The devices the day's screenshot run pairs with the code alone: they wait for their role.
const WAITING_DEVICES: [&str; 2] = ["tablette-accueil", "casque-2"];

/// Pairs [`WAITING_DEVICES`] with `code` at `addr` and keeps them connected without a role,
/// on a thread of their own, until the process ends (a failure is only logged: the picture
/// then waits, and the run's guard reports it).
fn waiting_devices(addr: std::net::SocketAddr, code: &str) {
    use boussole_protocol::transport::{Client, pair};
    use boussole_protocol::wire::{Hello, PROTOCOL_VERSION, Role};
    let Ok(code) = PairingCode::parse(code) else {
        return;
    };
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            let mut clients = Vec::new();
            for name in WAITING_DEVICES {
                let device = DeviceId::from(name);
                let connected = async {
                    let pairing = pair(addr, code, &device).await?;
                    Client::connect(
                        addr,
                        &pairing.ca_der,
                        Hello {
                            protocol_version: PROTOCOL_VERSION,
                            device: device.clone(),
                            role: Role::Unassigned,
                            content_hash: [0; 32],
                            token: Some(pairing.token),
                        },
                    )
                    .await
                };
                match connected.await {
                    Ok(client) => clients.push(client),
                    Err(e) => error!("{name} : {e}"),
                }
            }
            // Held open until the process ends.
            std::future::pending::<()>().await;
            drop(clients);
        });
    });
}

/// Frames with an idle pipeline cache before a capture: egui lays out over two frames, and
/// fonts upload on the first.
const SETTLE_FRAMES: u32 = 3;

impl Shots {
    fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            next: 0,
            prepared: None,
            settled: 0,
            requested: 0,
            written: Arc::new(AtomicUsize::new(0)),
            devices_started: false,
            reviewed: None,
        }
    }
}

fn take_screenshots(
    mut commands: Commands,
    mut shots: ResMut<Shots>,
    mut shell: NonSendMut<Shell>,
    pending: Res<PipelinesPending>,
    pictures: Res<SpectatorPictures>,
    window: Query<(), With<PrimaryWindow>>,
    mut exit: MessageWriter<AppExit>,
) {
    if window.is_empty() || !shell.ready() || matches!(shell.source, Source::Day(_)) {
        return;
    }
    // Wait for the previous capture to be written before changing the screen.
    if shots.written.load(Ordering::Relaxed) < shots.requested {
        return;
    }
    let Some((screen, file)) = shot(shots.next) else {
        exit.write(AppExit::Success);
        return;
    };
    if shots.prepared != Some(shots.next) {
        shots.prepared = Some(shots.next);
        shell.state.screen = screen;
        // The last picture: the devices screen once the facilitator opened pairing.
        if file == PAIRING_SHOT {
            shell.pairing_window(true);
        }
        // Then the first headset's view enlarged, when headsets stream their poses.
        if file == SPECTATOR_SHOT {
            let first = shell
                .view(&RaterId("console".into()))
                .and_then(|v| v.poses.poses.first().map(|p| p.device.to_string()));
            if first.is_none() {
                exit.write(AppExit::Success);
                return;
            }
            shell.state.spectator_large = first;
        }
        // The register's screen is shown with its first person open, so the picture has the
        // person's sessions, form and merge section too.
        if screen == Screen::People
            && let Some(first) = shell
                .view(&RaterId("console".into()))
                .and_then(|v| v.register.persons.first().map(|p| p.id.clone()))
        {
            shell.state.drafts.register.selected = Some(first);
        }
        shots.settled = 0;
        return;
    }
    // The spectator's pictures are drawn a frame after the panel asks for them.
    if pending.0.load(Ordering::Relaxed) != 0 || pictures.waiting > 0 {
        shots.settled = 0;
        return;
    }
    shots.settled += 1;
    if shots.settled < SETTLE_FRAMES {
        return;
    }
    if screen == Screen::Devices && file != PAIRING_SHOT {
        // What was drawn, for the test to read: one line per headset whose view is shown.
        let drawn: String = pictures
            .textures
            .keys()
            .map(|device| format!("{device}\n"))
            .collect();
        if let Err(e) = std::fs::create_dir_all(&shots.dir)
            .and_then(|()| std::fs::write(shots.dir.join(format!("{file}.vues.txt")), drawn))
        {
            error!("{}: {e}", shots.dir.display());
        }
    }
    shots.capture(&mut commands, file, &mut exit);
}

impl Shots {
    /// Captures the window into `file.png` and moves on to the next picture (a folder that
    /// cannot be made ends the run with an error).
    fn capture(&mut self, commands: &mut Commands, file: &str, exit: &mut MessageWriter<AppExit>) {
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            error!("{}: {e}", self.dir.display());
            exit.write(AppExit::error());
            return;
        }
        let path = self.dir.join(format!("{file}.png"));
        let written = self.written.clone();
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(path))
            .observe(move |_: On<ScreenshotCaptured>| {
                written.fetch_add(1, Ordering::Relaxed);
            });
        self.requested += 1;
        self.next += 1;
    }
}

/// The picture of the devices screen with pairing open.
const PAIRING_SHOT: &str = "appairage";
/// The picture of the devices screen with the first headset's view enlarged (taken only when
/// headsets stream their poses).
const SPECTATOR_SHOT: &str = "appareils-casque";

/// The `n`th picture taken: each screen in tab order, then the devices screen with pairing
/// open, then with the first headset's view enlarged; its screen and file name.
fn shot(n: usize) -> Option<(Screen, &'static str)> {
    match Screen::ALL.get(n) {
        Some(&screen) => Some((screen, screen_file(screen))),
        None if n == Screen::ALL.len() => Some((Screen::Devices, PAIRING_SHOT)),
        None => (n == Screen::ALL.len() + 1).then_some((Screen::Devices, SPECTATOR_SHOT)),
    }
}

/// The file name of a screen's screenshot.
fn screen_file(screen: Screen) -> &'static str {
    match screen {
        Screen::Prepare => "preparer",
        Screen::Run => "jouer",
        Screen::Devices => "appareils",
        Screen::Coding => "coder",
        Screen::End => "cloturer",
        Screen::People => "personnes",
        Screen::Evaluation => "evaluation",
        Screen::Synthesis => "synthese",
        Screen::Agreement => "accord",
        Screen::Timeline => "frise",
        Screen::Home => "accueil",
        Screen::Admin => "administration",
        Screen::Roadmap => "parcours",
        Screen::Plan => "planning",
    }
}

/// The people the screenshot run of the day enrols (the register's pseudonyms).
const DAY_PEOPLE: [&str; 3] = ["Ardoise", "Balise", "Cabestan"];

/// The screenshot run of the console of the day, on a fresh store: each picture is taken once
/// its condition holds, after the run has driven the console there as a facilitator would
/// (the first start, the recovery key, the home screen with pairing open, a session prepared
/// with three people — fewer than the game's minimum, so the warning shows —, the devices
/// screen, the locked screen).
#[expect(
    clippy::too_many_lines,
    reason = "one step per picture, in order, reads best as one match"
)]
fn take_day_screenshots(
    mut commands: Commands,
    mut shots: ResMut<Shots>,
    mut shell: NonSendMut<Shell>,
    pending: Res<PipelinesPending>,
    window: Query<(), With<PrimaryWindow>>,
    mut exit: MessageWriter<AppExit>,
) {
    use boussole_console::launch::{Gate, GateAction};
    use boussole_console::ui::admin::AdminTab;
    use boussole_director::desk::DeskRequest;
    let Source::Day(day) = &mut shell.source else {
        return;
    };
    if window.is_empty() || shots.written.load(Ordering::Relaxed) < shots.requested {
        return;
    }
    let step = shots.next;
    let first = shots.prepared != Some(step);
    if first {
        shots.prepared = Some(step);
        shots.settled = 0;
    }
    let ready = match step {
        0 => matches!(day.gate(), Gate::FirstRun { .. }),
        1 => {
            if first {
                day.ask(GateAction::Create {
                    passphrase: boussole_director::local::Secret::new(
                        "Boussole du port 2026 !".into(),
                    ),
                    facilitator: "Camille".into(),
                });
            }
            matches!(day.gate(), Gate::RecoveryKey(_))
        }
        2 => {
            if matches!(day.gate(), Gate::RecoveryKey(_)) {
                day.ask(GateAction::RecoveryNoted);
            }
            let desk = day.model().desk().is_some();
            if desk && day.model().room().pairing_code.is_none() && shots.settled == 0 {
                let mut outputs = vec![Output::Action(ConsoleAction::PairingWindow { open: true })];
                for p in DAY_PEOPLE {
                    outputs.push(Output::Action(ConsoleAction::Register(
                        boussole_director::register::RegisterRequest::Create {
                            pseudonym: p.into(),
                            name: String::new(),
                            entered_on: "2026-11-16".into(),
                            prescriber_name: "Mme Durand".into(),
                            prescriber_structure: "PLIE — antenne de Grande-Synthe".into(),
                        },
                    )));
                }
                day.act(outputs);
                shots.settled = 1;
            }
            // Two devices that were given the code alone wait for their role on the home
            // screen, as on a morning of installation.
            if let (Some(code), Some(addr), false) = (
                day.model().room().pairing_code.clone(),
                day.director_addr(),
                shots.devices_started,
            ) {
                shots.devices_started = true;
                waiting_devices(addr, &code);
            }
            day.model()
                .room()
                .links
                .iter()
                .filter(|l| l.role == boussole_protocol::wire::Role::Unassigned)
                .count()
                == WAITING_DEVICES.len()
        }
        3 => {
            if first {
                day.act(vec![Output::Action(ConsoleAction::Desk(
                    DeskRequest::Create {
                        activity: "scape_attitudes".into(),
                        label: "Groupe du mardi".into(),
                    },
                ))]);
            }
            let view = day.model().view(None);
            let enrolled = view.as_ref().map_or(0, |v| v.engine.participants().len());
            if let Some(v) = &view
                && enrolled == 0
                && v.register.persons.len() >= DAY_PEOPLE.len()
                && shots.settled == 0
            {
                let mut batch = Vec::new();
                for (i, person) in v.register.persons.iter().take(DAY_PEOPLE.len()).enumerate() {
                    let slot = boussole_director::engine::ParticipantId(format!("P{}", i + 1));
                    batch.push(Output::Commands(vec![
                        Command::AddParticipant {
                            id: slot.clone(),
                            pseudonym: person.pseudonym.clone(),
                            colour: boussole_director::plan::SLOT_COLOURS[i].into(),
                        },
                        Command::AssignPerson {
                            participant: slot,
                            person: boussole_director::engine::PersonId(person.id.clone()),
                            reason: String::new(),
                        },
                    ]));
                }
                day.act(batch);
                day.state.screen = Screen::Prepare;
                shots.settled = 1;
            }
            enrolled == DAY_PEOPLE.len()
        }
        4 => {
            // The two devices declared in the session (as « Déclarer l'appareil » does), so
            // the devices screen shows their names, stations and sound.
            if first {
                day.act(vec![Output::Commands(vec![
                    Command::RegisterDevice {
                        device: DeviceId::from(WAITING_DEVICES[0]),
                        role: boussole_content::cue::DeviceRole::Terminal,
                        station: Some("poste_quai".into()),
                    },
                    Command::RegisterDevice {
                        device: DeviceId::from(WAITING_DEVICES[1]),
                        role: boussole_content::cue::DeviceRole::Headset,
                        station: Some("casque".into()),
                    },
                ])]);
            }
            day.state.screen = Screen::Devices;
            day.model()
                .view(None)
                .is_some_and(|v| v.engine.devices().len() == WAITING_DEVICES.len())
        }
        5 => {
            day.state.screen = Screen::People;
            true
        }
        6 => {
            // The first person's synthesis, asked as « Afficher la synthèse » asks it, shown
            // once the window has laid its pages out.
            if first
                && let Some(person) = day.model().register().persons.first().map(|p| p.id.clone())
            {
                day.state.synthesis.open_on(&person);
                let request = boussole_director::synthesis::SynthesisRequest {
                    person,
                    audience: boussole_synthesis::Audience::Counsellor,
                    final_version: false,
                    with_name: false,
                    ticket: 1,
                };
                day.state.synthesis.asked = Some(request.clone());
                day.act(vec![Output::Action(ConsoleAction::Synthesis(
                    boussole_director::synthesis::SynthesisAsk::Show(request),
                ))]);
            }
            day.state.screen = Screen::Synthesis;
            day.state.synthesis.preview.is_some()
        }
        7..=9 => {
            // The administration, each section as the director answers it.
            let tab = [AdminTab::Access, AdminTab::Figures, AdminTab::Purge][step - 7];
            if first {
                day.state.screen = Screen::Admin;
                day.state.admin.tab = tab;
                day.act(vec![Output::Action(ConsoleAction::Desk(tab.request()))]);
            }
            let answers = day.model().answers();
            match tab {
                AdminTab::Access => answers.access.is_some(),
                AdminTab::Figures => answers.figures.is_some(),
                AdminTab::Purge => answers.purge.is_some(),
            }
        }
        10 => {
            // The Tuesday group's session closed, a new one hosted, and the closed one
            // reviewed beside it on the evaluation screen.
            let closed = day
                .model()
                .desk()
                .and_then(|d| d.live.as_ref())
                .map(|l| l.id);
            if first && let Some(closed) = closed {
                shots.reviewed = Some(closed);
                day.act(vec![
                    Output::Command(Command::EndSession),
                    Output::Action(ConsoleAction::Desk(DeskRequest::Create {
                        activity: "videotheque".into(),
                        label: "Vidéothèque de l'après-midi".into(),
                    })),
                ]);
            }
            let reviewed = shots.reviewed;
            let hosted = day
                .model()
                .desk()
                .and_then(|d| d.live.as_ref())
                .map(|l| l.id);
            if let (Some(r), Some(h)) = (reviewed, hosted)
                && r != h
                && day.model().review().is_none()
                && shots.settled == 0
            {
                day.act(vec![Output::Action(ConsoleAction::Desk(
                    DeskRequest::Review { session: Some(r) },
                ))]);
                shots.settled = 1;
            }
            day.model().review().is_some()
                && day.state.screen == Screen::Evaluation
                && day.state.reviewing
        }
        11 => {
            // The first person's « Parcours », once a DISC result is recorded for them.
            if first && let Some(person) = day.model().register().persons.first().cloned() {
                let today = ui::roadmap::today();
                day.state
                    .roadmap
                    .open_on(&person.id, &person.prescriber_name, &today);
                day.state.screen = Screen::Roadmap;
                day.act(vec![
                    Output::Action(ConsoleAction::Desk(DeskRequest::Prescribe {
                        person: person.id.clone(),
                        activity: "scape_pandemie".into(),
                        by: person.prescriber_name.clone(),
                        on: today.clone(),
                    })),
                    Output::Action(ConsoleAction::Desk(DeskRequest::RecordResult(
                        boussole_director::desk::ResultJob {
                            person: person.id.clone(),
                            activity: "disc".into(),
                            taken_on: today,
                            by: "Mme Durand".into(),
                            fields: vec![
                                ("d".into(), "62".into()),
                                ("i".into(), "48".into()),
                                ("profil".into(), "Meneur".into()),
                            ],
                            pdf: None,
                        },
                    ))),
                ]);
            }
            day.model()
                .answers()
                .roadmap
                .as_ref()
                .is_some_and(|r| !r.results.is_empty() && !r.entries.is_empty())
        }
        12 => {
            // The plan, once a series of the game is planned for next month.
            if first {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                let next_month = boussole_director::plan::local_date(now + 30 * 24 * 3600 * 1000);
                day.state.screen = Screen::Plan;
                day.state.plan.date.clone_from(&next_month);
                day.state.plan.time = "14:00".into();
                day.act(vec![
                    Output::Action(ConsoleAction::Desk(DeskRequest::PlanAdd {
                        activity: "scape_attitudes".into(),
                        starts: format!("{next_month}T14:00"),
                        minutes: None,
                        place: "Salle du port".into(),
                        count: Some(3),
                    })),
                    Output::Action(ConsoleAction::Desk(DeskRequest::Plan)),
                ]);
            }
            day.model()
                .answers()
                .plan
                .as_ref()
                .is_some_and(|p| p.coming.len() >= 3)
        }
        13 => {
            if first {
                day.act(vec![Output::Action(ConsoleAction::Lock)]);
            }
            matches!(day.gate(), Gate::Locked { .. })
        }
        14 => {
            // « Phrase de passe oubliée ? » → « Restaurer une sauvegarde… », its file chooser
            // open.
            day.drafts.restoring = true;
            day.drafts.facilitator = "Camille".into();
            if day.drafts.backup_chooser.is_none() {
                day.drafts.backup_chooser = Some(ui::folders::Chooser::default());
            }
            true
        }
        _ => {
            exit.write(AppExit::Success);
            return;
        }
    };
    if !ready || pending.0.load(Ordering::Relaxed) != 0 {
        if !ready {
            shots.settled = shots.settled.min(1);
        }
        return;
    }
    shots.settled += 1;
    if shots.settled < SETTLE_FRAMES + 1 {
        return;
    }
    let file = [
        "jour-premiere-ouverture",
        "jour-cle-de-secours",
        "jour-accueil",
        "jour-preparer",
        "jour-appareils",
        "jour-personnes",
        "jour-synthese",
        "jour-journal-des-acces",
        "jour-chiffres",
        "jour-purge",
        "jour-revue",
        "jour-parcours",
        "jour-planning",
        "jour-verrouillee",
        "jour-restaurer",
    ][step];
    shots.capture(&mut commands, file, &mut exit);
}
