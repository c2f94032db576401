//! `boussole-director`: the facilitator's director, headless. `run --script` plays a whole
//! session from a facilitator script; `session` lists and shows sessions from the encrypted log.
//!
//! The database passphrase comes from `BOUSSOLE_PASSPHRASE` or `--passphrase-file`. Log lines
//! (warnings and errors by default, `RUST_LOG` for more) go to stderr.

use anyhow::{Context, Result, bail};
use boussole_content::ContentSet;
use boussole_director::script;

mod debrief;
mod person_cli;
mod privacy_cli;
mod roadmap_cli;
mod serve;
use boussole_director::session::Session;
use boussole_director::store::{AccessAction, SessionId, Store};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The Boussole director.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// The session database (encrypted). Default: `$XDG_DATA_HOME/boussole/director.db`.
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// A file holding the database passphrase (else `BOUSSOLE_PASSPHRASE`).
    #[arg(long, global = true)]
    passphrase_file: Option<PathBuf>,
    /// The content folder.
    #[arg(long, global = true, default_value = "content")]
    content: PathBuf,
    /// Who acts, for the access log (default: the system user, `$USER`).
    #[arg(long, global = true)]
    actor: Option<String>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Sessions in the database.
    #[command(subcommand)]
    Session(SessionCmd),
    /// Paired devices: list them, or unpair one (a lost tablet, a stolen headset).
    #[command(subcommand)]
    Pair(PairCmd),
    /// Run the director on the network: devices pair and join, consoles attach.
    Serve {
        /// Address to listen on (UDP, QUIC).
        #[arg(long, default_value = "0.0.0.0:4433")]
        bind: std::net::SocketAddr,
        /// Resume this session (its log is replayed).
        #[arg(long, conflicts_with = "scenario")]
        session: Option<i64>,
        /// Start a new session of this scenario.
        #[arg(long, required_unless_present = "session")]
        scenario: Option<String>,
        /// Label of a new session.
        #[arg(long, default_value = "")]
        label: String,
        /// Facilitator commands to play at their times (seconds after start).
        #[arg(long)]
        script: Option<PathBuf>,
        /// Open pairing at start for ten minutes with this code (6 digits), for scripts and
        /// tests. Left out, pairing opens at start with a random code only while no console is
        /// paired; the facilitator opens it from the console (fresh code, ten minutes).
        #[arg(long)]
        pairing_code: Option<String>,
        /// The director's name, as devices show it.
        #[arg(long, default_value = "Boussole")]
        name: String,
    },
    /// The director of the day, as the console starts it: locked until the console unlocks it
    /// over the local socket; then on the network, hosting one session after another as the
    /// console asks. One per laptop.
    Day {
        /// Address to listen on (UDP, QUIC).
        #[arg(long, default_value = "0.0.0.0:4433")]
        bind: std::net::SocketAddr,
        /// The director's name, as devices show it.
        #[arg(long, default_value = "Boussole")]
        name: String,
        /// The local socket (default: `$XDG_RUNTIME_DIR/boussole/director.sock`).
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Lock after this many minutes without the console while no game runs.
        #[arg(long, default_value_t = 30)]
        idle_lock_min: u64,
        /// Lock when Paris time passes this hour (`HH:MM`), unless a game runs; `none` never.
        #[arg(long, default_value = "20:00")]
        day_ends: String,
        /// Open pairing at start for ten minutes with this code (scripts and tests).
        #[arg(long)]
        pairing_code: Option<String>,
        /// Who unlocks at start with `--passphrase-file` (scripts and tests).
        #[arg(long, default_value = "script")]
        facilitator: String,
    },
    /// After the game: confirm or change a level, write the comment and pistes d'orientation,
    /// record the debrief meeting and the participant's consent.
    Debrief(debrief::DebriefArgs),
    /// Write participants' syntheses as PDF (drafts until the debrief; final only with consent).
    Synthesis(debrief::SynthesisArgs),
    /// The database's security and retention: passphrase, recovery key, backup and restore,
    /// purge, activity figures, access log.
    #[command(subcommand)]
    Db(privacy_cli::DbCmd),
    /// A participant's rights: erase their data, or export it (right of access).
    #[command(subcommand)]
    Participant(privacy_cli::ParticipantCmd),
    /// The person register: the people across sessions, their prescriber, merges, and which
    /// person holds a session's slot.
    #[command(subcommand)]
    Person(person_cli::PersonCmd),
    /// Roadmaps ("feuille de route évaluations"): prescribe activities of the catalogue, see a
    /// person's roadmap, mark an entry interrupted or cancelled, the waiting lists.
    #[command(subcommand)]
    Roadmap(roadmap_cli::RoadmapCmd),
    /// Results of evaluations run with other tools (DISC, Diagnoform…), with their PDF.
    #[command(subcommand)]
    Result(roadmap_cli::ResultCmd),
    /// The plan: sessions to come (one, or a series every two weeks), who is invited, a
    /// director session from the plan, the iCalendar export.
    #[command(subcommand)]
    Plan(roadmap_cli::PlanCmd),
    /// Play a facilitator script as a new session and print what happened.
    Run {
        /// The script (RON).
        #[arg(long)]
        script: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum PairCmd {
    /// List the paired devices.
    List,
    /// Unpair a device: its token stops working; it must pair again with a new code.
    Forget {
        /// The device id.
        device: String,
    },
}

#[derive(Subcommand, Debug)]
enum SessionCmd {
    /// Create a session of a scenario.
    New {
        /// The scenario id.
        #[arg(long)]
        scenario: String,
        /// A label ("Groupe du 3 décembre").
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List sessions.
    List,
    /// Replay a session's log and print what happened.
    Show {
        /// The session number.
        id: i64,
    },
    /// Export a session's observations: a BORIS project, BORIS's tabular events (TSV) or a CSV
    /// for spreadsheets. Participants appear by pseudonym only.
    Export {
        /// The session number.
        id: i64,
        /// What to write.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The file to write (else standard output).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Also write the free notes (CSV only): they may name people.
        #[arg(long)]
        notes: bool,
    },
    /// Agreement between two raters (Cohen's kappa on time slices, as BORIS computes it).
    Agreement {
        /// The session number.
        id: i64,
        /// Slice length, seconds (BORIS's "time unit").
        #[arg(long, default_value_t = boussole_director::irr::DEFAULT_SLICE_S)]
        slice: f64,
        /// How units are labelled and kappa reported.
        #[arg(long, value_enum, default_value_t = Method::Boris)]
        method: Method,
        /// The two raters, `A,B`; needed when the session has more or fewer than two.
        #[arg(long, value_delimiter = ',')]
        raters: Option<Vec<String>>,
    },
}

/// Export formats of `session export`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ExportFormat {
    /// A BORIS project (`.boris`): ethogram, subjects, one live observation per rater.
    Boris,
    /// BORIS's "tabular events" export, tab-separated.
    Tsv,
    /// One row per observation, with phase and puzzles, for spreadsheets.
    Csv,
}

/// `session agreement --method`: the names of [`boussole_director::irr::KappaMethod`].
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Method {
    /// BORIS 8.27.4's own computation, rule for rule (the default).
    Boris,
    /// Our earlier variant: sets of behaviours without the subject, no rounding; not BORIS's.
    Sets,
}

impl From<Method> for boussole_director::irr::KappaMethod {
    fn from(m: Method) -> Self {
        match m {
            Method::Boris => Self::Boris,
            Method::Sets => Self::Sets,
        }
    }
}

fn main() -> std::process::ExitCode {
    // Warnings and errors (a device refused, the session thread failing) go to stderr; more
    // with `RUST_LOG=info` or `RUST_LOG=boussole_director=debug`. Ids only, never names.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("boussole-director: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn passphrase(file: Option<&Path>) -> Result<String> {
    let phrase = match file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("reading the passphrase from {}", f.display()))?,
        None => std::env::var("BOUSSOLE_PASSPHRASE")
            .context("no passphrase: set BOUSSOLE_PASSPHRASE or give --passphrase-file")?,
    };
    let phrase = phrase.trim_end_matches(['\n', '\r']).to_owned();
    if phrase.is_empty() {
        bail!("the passphrase is empty");
    }
    Ok(phrase)
}

struct DayArgs<'a> {
    bind: std::net::SocketAddr,
    name: &'a str,
    socket: Option<&'a Path>,
    idle_lock_min: u64,
    day_ends: &'a str,
    pairing_code: Option<&'a str>,
    facilitator: &'a str,
}

/// `day`: the director of the day until SIGTERM (logout) or Ctrl-C.
fn day(cli: &Cli, db: &Path, args: DayArgs<'_>) -> Result<()> {
    use boussole_director::day::{DayConfig, run};
    let data_dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let assets_dir = cli
        .content
        .parent()
        .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"));
    let pairing_code = args
        .pairing_code
        .map(boussole_protocol::pairing::PairingCode::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("pairing code: {e}"))?;
    let day_ends = match args.day_ends {
        "none" => None,
        t => Some(
            chrono::NaiveTime::parse_from_str(t, "%H:%M")
                .with_context(|| format!("--day-ends {t}: HH:MM or none"))?,
        ),
    };
    let passphrase = cli
        .passphrase_file
        .as_deref()
        .map(|f| passphrase(Some(f)).map(boussole_director::local::Secret::new))
        .transpose()?;
    let config = DayConfig {
        db: db.to_path_buf(),
        serve: boussole_director::server::ServeConfig {
            bind: args.bind,
            content_dir: cli.content.clone(),
            assets_dir,
            data_dir,
            name: args.name.to_owned(),
            pairing_code,
        },
        socket: args
            .socket
            .map_or_else(boussole_director::local::default_socket, Path::to_path_buf),
        idle_lock: std::time::Duration::from_secs(args.idle_lock_min.max(1) * 60),
        day_ends,
        passphrase,
        facilitator: args.facilitator.to_owned(),
        announce: true,
    };
    let stop = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!("SIGTERM non écouté : {e}");
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    run(config, stop)?;
    Ok(())
}

fn default_db() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME").map_or_else(
                || PathBuf::from("."),
                |h| PathBuf::from(h).join(".local/share"),
            )
        });
    base.join("boussole/director.db")
}

fn load_content(dir: &Path) -> Result<ContentSet> {
    let assets = dir
        .parent()
        .map_or_else(|| PathBuf::from("assets"), |p| p.join("assets"));
    let (set, report) = boussole_content::check(dir, &assets);
    if report.errors() > 0 {
        for p in &report.problems {
            eprintln!("{p}");
        }
        bail!(
            "the content under {} has {} errors",
            dir.display(),
            report.errors()
        );
    }
    Ok(set)
}

/// Prints the proposed levels, with the scenario's rubric, from the lead rater's coding.
fn print_evaluation(content: &ContentSet, engine: &boussole_director::engine::Engine) {
    let rubric = content
        .rubrics
        .iter()
        .map(|r| &r.value)
        .find(|r| r.id == engine.scenario().rubric);
    if let Some(rubric) = rubric {
        // One rater's coding: a second rater's is for agreement, not added on top.
        let rater = boussole_director::record::lead_rater(engine);
        let e = boussole_director::evaluation::evaluate(engine, rubric, rater.as_ref());
        print!("\n{}", boussole_director::evaluation::evaluation_fr(&e));
    }
    // Two raters coded: their agreement, right after the session.
    use boussole_director::irr;
    if let [a, b] = irr::raters(engine).as_slice() {
        match irr::agreement(
            engine,
            a,
            b,
            irr::DEFAULT_SLICE_S,
            irr::KappaMethod::default(),
        ) {
            Ok(k) => print!("\n{}", irr::agreement_fr(&k)),
            Err(e) => println!("\naccord entre {a} et {b} non calculé : {e}"),
        }
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let db = cli.db.clone().unwrap_or_else(default_db);
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if let Cmd::Day {
        bind,
        name,
        socket,
        idle_lock_min,
        day_ends,
        pairing_code,
        facilitator,
    } = &cli.command
    {
        return day(
            &cli,
            &db,
            DayArgs {
                bind: *bind,
                name,
                socket: socket.as_deref(),
                idle_lock_min: *idle_lock_min,
                day_ends,
                pairing_code: pairing_code.as_deref(),
                facilitator,
            },
        );
    }
    if let Cmd::Pair(cmd) = &cli.command {
        let path = db
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            .join("devices.tsv");
        let registry = boussole_director::server::FileRegistry::open(&path)
            .with_context(|| format!("reading the paired devices in {}", path.display()))?;
        match cmd {
            PairCmd::List => {
                let devices = registry.devices();
                if devices.is_empty() {
                    println!("aucun appareil appairé ({})", path.display());
                }
                for d in devices {
                    println!("{d}");
                }
            }
            PairCmd::Forget { device } => {
                if registry
                    .forget(device)
                    .with_context(|| format!("writing {}", path.display()))?
                {
                    println!("{device} n'est plus appairé : il devra saisir un nouveau code.");
                } else {
                    bail!("{device} n'est pas appairé");
                }
            }
        }
        return Ok(());
    }
    let actor = privacy_cli::actor(cli.actor.as_deref());
    let now = now_unix_ms();
    if let Cmd::Db(privacy_cli::DbCmd::Restore {
        file,
        recovery_key_file,
        to,
        new_passphrase_file,
    }) = &cli.command
    {
        // Before any store is opened: the passphrase of `--db` may be the one lost.
        return privacy_cli::restore(
            &db,
            file,
            recovery_key_file,
            to,
            new_passphrase_file.as_deref(),
            &actor,
            now,
        );
    }
    let mut store = Store::open(&db, &passphrase(cli.passphrase_file.as_deref())?)
        .with_context(|| format!("opening the session log {}", db.display()))?;
    // Sessions logged before the register: each slot gets its own person, once.
    boussole_director::register::adopt_legacy(&mut store, now)
        .context("giving the sessions logged before the register their persons")?;
    let log_access = |store: &mut Store,
                      action,
                      session: Option<i64>,
                      participant: Option<&str>,
                      detail: &str| {
        privacy_cli::log_access(
            store,
            &actor,
            now,
            action,
            session.map(SessionId),
            participant,
            detail,
        )
    };
    match cli.command {
        Cmd::Db(cmd) => {
            let content_dir = cli.content.clone();
            privacy_cli::db(store, &db, || load_content(&content_dir), cmd, &actor, now)?;
        }
        Cmd::Participant(cmd) => {
            let content_dir = cli.content.clone();
            privacy_cli::participant(
                Some(&db),
                store,
                || load_content(&content_dir),
                cmd,
                &actor,
                now,
            )?;
        }
        Cmd::Session(SessionCmd::New { scenario, label }) => {
            let content = load_content(&cli.content)?;
            let session = Session::create(store, &content, &scenario, &label, now)?;
            println!(
                "séance {} créée ({scenario}) dans {}",
                session.id(),
                db.display()
            );
        }
        Cmd::Pair(_) | Cmd::Day { .. } => {}
        Cmd::Roadmap(cmd) => {
            let content = load_content(&cli.content)?;
            roadmap_cli::roadmap_cmd(store, &content, cmd, &actor, now)?;
        }
        Cmd::Result(cmd) => {
            let content = load_content(&cli.content)?;
            roadmap_cli::result_cmd(store, &content, cmd, &actor, now)?;
        }
        Cmd::Plan(cmd) => {
            let content = load_content(&cli.content)?;
            roadmap_cli::plan_cmd(store, &content, cmd, &actor, now)?;
        }
        Cmd::Person(cmd) => {
            let content_dir = cli.content.clone();
            person_cli::person(store, || load_content(&content_dir), cmd, now)?;
        }
        Cmd::Debrief(args) => {
            let content = load_content(&cli.content)?;
            let person = args.who.resolve(&store)?;
            log_access(
                &mut store,
                AccessAction::DebriefWritten,
                args.who.session.first().copied(),
                Some(person.as_str()),
                "",
            )?;
            debrief::debrief(store, &content, args, &actor, now)?;
        }
        Cmd::Synthesis(args) => {
            let content = load_content(&cli.content)?;
            let written = debrief::synthesis(&store, &content, &args, now)?;
            for (p, file) in written {
                log_access(
                    &mut store,
                    AccessAction::SynthesisWritten,
                    None,
                    Some(p.as_str()),
                    &file.display().to_string(),
                )?;
            }
        }
        Cmd::Session(SessionCmd::List) => {
            let sessions = store.sessions()?;
            if sessions.is_empty() {
                println!("aucune séance dans {}", db.display());
            }
            for s in sessions {
                println!(
                    "{}\t{}\t{}\t{}",
                    s.id, s.scenario, s.created_at_unix_ms, s.label
                );
            }
        }
        Cmd::Session(SessionCmd::Show { id }) => {
            let content = load_content(&cli.content)?;
            log_access(
                &mut store,
                AccessAction::SessionOpened,
                Some(id),
                None,
                "session show",
            )?;
            let session = Session::open(store, &content, SessionId(id))?;
            print!("{}", script::report_fr(session.engine()));
            print_evaluation(&content, session.engine());
        }
        Cmd::Session(SessionCmd::Export {
            id,
            format,
            output,
            notes,
        }) => {
            use boussole_director::export;
            let content = load_content(&cli.content)?;
            let info = store
                .session(SessionId(id))?
                .with_context(|| format!("no session {id} in {}", db.display()))?;
            let what = match (&output, notes) {
                (Some(path), true) => format!("{format:?} avec notes, {}", path.display()),
                (Some(path), false) => format!("{format:?}, {}", path.display()),
                (None, true) => format!("{format:?} avec notes, sortie standard"),
                (None, false) => format!("{format:?}, sortie standard"),
            };
            log_access(
                &mut store,
                AccessAction::SessionExported,
                Some(id),
                None,
                &what,
            )?;
            let session = Session::open(store, &content, SessionId(id))?;
            let engine = session.engine();
            let text = match format {
                ExportFormat::Boris => export::boris_project_json(engine, &info)?,
                ExportFormat::Tsv => export::tabular_events_tsv(engine, &info)?,
                ExportFormat::Csv => {
                    let persons = boussole_director::register::slot_holders(
                        session.store(),
                        session.id(),
                        engine,
                    )?;
                    export::observations_csv(engine, &info, notes, &persons)?
                }
            };
            match output {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("séance {id} exportée dans {}", path.display());
                }
                None => print!("{text}"),
            }
        }
        Cmd::Session(SessionCmd::Agreement {
            id,
            slice,
            method,
            raters,
        }) => {
            use boussole_director::irr;
            let content = load_content(&cli.content)?;
            log_access(
                &mut store,
                AccessAction::SessionOpened,
                Some(id),
                None,
                "session agreement",
            )?;
            let session = Session::open(store, &content, SessionId(id))?;
            let engine = session.engine();
            let (a, b) = match raters.as_deref() {
                Some([a, b]) => (a.as_str().into(), b.as_str().into()),
                Some(other) => bail!("--raters takes two raters, A,B; got {}", other.len()),
                None => match irr::raters(engine).as_slice() {
                    [a, b] => (a.clone(), b.clone()),
                    found => bail!(
                        "session {id} has {} rater(s) ({}); choose two with --raters A,B",
                        found.len(),
                        found
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
            };
            let agreement = irr::agreement(engine, &a, &b, slice, method.into())?;
            print!("{}", irr::agreement_fr(&agreement));
        }
        Cmd::Serve {
            bind,
            session,
            scenario,
            label,
            script,
            pairing_code,
            name,
        } => {
            let content = load_content(&cli.content)?;
            let session = match (session, scenario) {
                (Some(id), _) => Session::open(store, &content, SessionId(id))?,
                (None, Some(scenario)) => {
                    Session::create(store, &content, &scenario, &label, now_unix_ms())?
                }
                (None, None) => bail!("give --session or --scenario"),
            };
            let script = match script {
                Some(p) => {
                    let text = std::fs::read_to_string(&p)
                        .with_context(|| format!("reading {}", p.display()))?;
                    Some(script::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", p.display()))?)
                }
                None => None,
            };
            let data = db
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            serve::run(
                serve::Options {
                    bind,
                    content_dir: cli.content.clone(),
                    data_dir: data,
                    name,
                    pairing_code,
                    script,
                },
                session,
            )?;
        }
        Cmd::Run { script: path } => {
            let content = load_content(&cli.content)?;
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let sc = script::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))?;
            let mut session =
                Session::create(store, &content, &sc.scenario, &sc.label, now_unix_ms())?;
            let refusals = script::run(&mut session, &sc)?;
            print!("{}", script::report_fr(session.engine()));
            print_evaluation(&content, session.engine());
            for (at, why) in &refusals {
                println!("refusé à {at} : {why}");
            }
            let records = session.store().log(session.id())?.len();
            println!(
                "\nJournal chiffré : {} (séance {}, {records} entrées)",
                db.display(),
                session.id()
            );
        }
    }
    Ok(())
}
