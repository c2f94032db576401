//! The facilitator's day from the console alone. The console of the day (the same code the
//! window runs, driven by egui_kittest: clicks, keys, typed text) starts the real director
//! binary, which starts locked; the facilitator creates the passphrase, notes the recovery key,
//! locks, types a wrong then the right passphrase, opens pairing, and twenty simulated devices
//! that were given nothing but the code pair and stay connected all day. An immersion session
//! of the catalogue is created, six people are added to the register and enrolled, three
//! headsets get their immersions and start together, and the session is closed; then an
//! S'cape attitudes session is created with the same people and devices, the room's stations
//! are given from the console, and the room's clients play it to its success ending. Last, the
//! console is opened again while the director runs: the passphrase is asked again.
//!
//! The only paths the test gives are its database, content folder and socket. Every wait
//! polls a condition; the guards only catch a hang.

#![expect(
    clippy::expect_used,
    reason = "a test: a missing widget is the failure being reported"
)]

use anyhow::{Context, Result, anyhow, ensure};
use boussole_console::day::{DayConsole, Laptop};
use boussole_console::launch::Gate;
use boussole_console::ui::{ConsoleState, Screen};
use boussole_director::engine::Engine;
use boussole_director::local::{self, LocalReply, LocalRequest};
use boussole_director::store::{AccessAction, SessionId, Store};
use boussole_protocol::DeviceId;
use boussole_protocol::pairing::PairingCode;
use boussole_protocol::wire::Role;
use boussole_sim::SimHandle;
use boussole_sim::lineup::Seat;
use boussole_tests::game::{GameProcess, GameSpec, game_binary};
use boussole_tests::{
    GAME_GUARD, Play, check_exactly_once, check_success, content, content_dir, demo_script,
    device_events, room, scenario, start_devices_with, stop_all,
};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::Path;
use std::time::{Duration, Instant};

/// Guard of each wait on the console (a debug director opening its store and going online).
const GUARD: Duration = Duration::from_secs(60);

/// The passphrase chosen at the first start (strong enough by the rule).
const PASSPHRASE: &str = "Boussole du port 2026 !";

/// Who is at the console.
const FACILITATOR: &str = "Camille";

/// The six people of the day.
const PEOPLE: [&str; 6] = ["Ardoise", "Balise", "Cabestan", "Dériveur", "Escale", "Foc"];

/// How many devices pair with the code.
const DEVICES: usize = 20;

/// The second rater's console.
const OBSERVER: &str = "observatrice";

/// The real game client's device name.
const REAL: &str = "poste_reel";

/// Time for a debug game client to start, pair and connect (Bevy's start-up included).
const GAME_START: Duration = Duration::from_secs(60);

type Console = Harness<'static, DayConsole>;

/// Runs frames until `done` holds of the console, or fails after `guard`.
async fn until(
    h: &mut Console,
    what: &str,
    guard: Duration,
    done: impl Fn(&DayConsole) -> bool,
) -> Result<()> {
    let start = Instant::now();
    loop {
        h.step();
        if done(h.state()) {
            h.step();
            return Ok(());
        }
        ensure!(
            start.elapsed() < guard,
            "console: {what} not reached in {guard:?} (gate {:?}, link {:?}, notices {:?})",
            h.state().gate(),
            h.state().model().link(),
            h.state().model().notices()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn click(h: &mut Console, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

fn click_containing(h: &mut Console, label: &str) {
    h.get_by_label_contains(label).click();
    h.step();
    h.step();
}

/// Clicks the first (or, `last`, the lowest) widget labelled `label` from the row of the text
/// field labelled `field` down.
fn click_below(h: &mut Console, field: &str, label: &str, last: bool) {
    let top = h
        .get_by_role_and_label(egui::accesskit::Role::TextInput, field)
        .rect()
        .top();
    let below = h.get_all_by_label(label).filter(|n| n.rect().top() >= top);
    let pick = if last {
        below.max_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
    } else {
        below.min_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
    };
    pick.expect("a widget below the field").click();
    h.step();
    h.step();
}

fn type_into(h: &mut Console, label: &str, text: &str) {
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, label);
    field.focus();
    field.type_text(text);
    h.step();
    h.step();
}

/// Types into a password field (its label names it; accesskit gives it the password role).
fn type_secret(h: &mut Console, label: &str, text: &str) {
    let field = h.get_by_role_and_label(egui::accesskit::Role::PasswordInput, label);
    field.focus();
    field.type_text(text);
    h.step();
    h.step();
}

fn engine(d: &DayConsole) -> Option<Engine> {
    d.model().view(None).map(|v| v.engine)
}

fn live(d: &DayConsole) -> Option<i64> {
    d.model()
        .desk()
        .and_then(|desk| desk.live.as_ref())
        .map(|l| l.id)
}

/// Twenty seats: the demo room (the room screen, four terminals, a headset) and more headsets.
fn seats() -> Result<Vec<Seat>> {
    let set = content()?;
    let scenario = scenario(&set, "scape_attitudes")?;
    let mut seats = room(&demo_script()?, &scenario);
    let mut n = 2;
    while seats.len() < DEVICES {
        seats.push(Seat {
            device: DeviceId::from(format!("casque_{n}").as_str()),
            role: Role::Headset,
            station: None,
            participant: None,
            puzzles: None,
        });
        n += 1;
    }
    Ok(seats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_day_from_the_console_alone() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("regie/director.db");
    let socket = dir.path().join("run/director.sock");
    let laptop = Laptop {
        name: "console_camille".into(),
        db: db.clone(),
        content: content_dir(),
        director: boussole_tests::process::director_binary()?,
        socket: socket.clone(),
        // Loopback (no announcement on the test machine's network), any free port, and no end of
        // the day (the test may run at 20:00).
        director_args: vec![
            "--bind".into(),
            "127.0.0.1:0".into(),
            "--day-ends".into(),
            "none".into(),
        ],
        systemd: false,
    };
    // The USB key the syntheses are saved on (the chooser lists it as a plugged-in drive).
    let usb = tempfile::tempdir()?;
    let mut state = ConsoleState {
        screen: Screen::Home,
        ..ConsoleState::default()
    };
    state.places = Some(vec![("Clé USB « CLE »".into(), usb.path().to_path_buf())]);
    let console = DayConsole::open(&laptop, content()?, state);
    let mut h: Console = Harness::builder()
        .with_size(egui::vec2(1600.0, 6000.0))
        .build_ui_state(
            |ui, app: &mut DayConsole| {
                app.frame(ui);
            },
            console,
        );
    // The director was started in its own process group: stopped whatever happens, a panic of
    // the harness included.
    let _stop = StopDirector(db.clone());
    let result = day(&mut h, &laptop, &db, &socket, usb.path()).await;
    result.map_err(|e| {
        let log = std::fs::read_to_string(db.with_file_name("director.log")).unwrap_or_default();
        e.context(format!("the director's messages:\n{log}"))
    })
}

/// Sends SIGTERM, when dropped, to the director whose process id its lock file holds.
struct StopDirector(std::path::PathBuf);

impl Drop for StopDirector {
    fn drop(&mut self) {
        let lock = self.0.with_file_name("director.lock");
        if let Ok(pid) = std::fs::read_to_string(&lock) {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", pid.trim()])
                .status();
        }
    }
}

async fn day(h: &mut Console, laptop: &Laptop, db: &Path, socket: &Path, usb: &Path) -> Result<()> {
    // The real game client is built first (a no-op when fresh): a build must not eat into the
    // guards of the day's timed steps below.
    let client_binary = game_binary()?;
    // The console starts the director, which has no store yet.
    until(h, "the first run screen", GUARD, |d| {
        matches!(d.gate(), Gate::FirstRun { .. })
    })
    .await?;
    h.get_by_label("Première ouverture : choisissez la phrase de passe");
    type_into(h, "Votre nom :", FACILITATOR);
    // A weak passphrase is refused before anything is sent.
    type_secret(h, "Phrase de passe :", "court");
    type_secret(h, "La même, encore :", "court");
    click(h, "Créer et ouvrir la régie");
    ensure!(
        matches!(h.state().gate(), Gate::FirstRun { .. }),
        "a weak passphrase created the store"
    );
    ensure!(
        h.query_all_by_label_contains("Trop faible").count() > 0,
        "the weak passphrase not explained"
    );
    ensure!(!db.exists(), "a weak passphrase created the store");
    // The fields still hold the weak one: clear them (as a facilitator would select and type).
    for label in ["Phrase de passe :", "La même, encore :"] {
        let field = h.get_by_role_and_label(egui::accesskit::Role::PasswordInput, label);
        field.focus();
        for _ in 0.."court".len() {
            h.key_press(egui::Key::Backspace);
        }
    }
    type_secret(h, "Phrase de passe :", PASSPHRASE);
    type_secret(h, "La même, encore :", PASSPHRASE);
    click(h, "Créer et ouvrir la régie");
    until(h, "the recovery key", GUARD, |d| {
        matches!(d.gate(), Gate::RecoveryKey(_))
    })
    .await?;
    let Gate::RecoveryKey(key) = h.state().gate() else {
        return Err(anyhow!("no recovery key"));
    };
    ensure!(
        key.chars().filter(char::is_ascii_alphanumeric).count() == 40,
        "recovery key {key:?}"
    );
    h.get_by_label(&key);
    let recovery = key.clone();
    click(h, "Je l'ai imprimée ou recopiée");
    until(h, "the home screen", GUARD, |d| d.model().desk().is_some()).await?;
    h.get_by_label(&format!("Bonjour {FACILITATOR}"));

    // Lock, then a wrong and the right passphrase.
    click(h, "Verrouiller la régie");
    until(h, "the locked screen", GUARD, |d| {
        matches!(d.gate(), Gate::Locked { .. })
    })
    .await?;
    click(h, FACILITATOR);
    type_secret(h, "Phrase de passe :", "Pas la bonne 2026 !");
    click(h, "Déverrouiller");
    until(h, "the wrong passphrase refused", GUARD, |d| {
        d.model().desk().is_none() && !matches!(d.gate(), Gate::Unlocked { .. })
    })
    .await?;
    until(h, "the refusal shown", GUARD, |_| true).await?;
    let start = Instant::now();
    while h
        .query_by_label_contains("Phrase de passe incorrecte")
        .is_none()
    {
        ensure!(start.elapsed() < GUARD, "no refusal shown");
        h.step();
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    h.get_by_label_contains("Encore 2 essais");
    type_secret(h, "Phrase de passe :", PASSPHRASE);
    click(h, "Déverrouiller");
    until(h, "the home screen again", GUARD, |d| {
        d.model().desk().is_some()
    })
    .await?;

    // Pairing opened from the home screen; twenty devices pair with the code alone.
    click(h, "Ouvrir l'appairage (10 min)");
    until(h, "the pairing code", GUARD, |d| {
        d.model().room().pairing_code.is_some()
    })
    .await?;
    let code = h
        .state()
        .model()
        .room()
        .pairing_code
        .clone()
        .context("a code")?;
    let code = PairingCode::parse(&code).map_err(|e| anyhow!("{e}"))?;
    let addr = match local::ask(socket, &LocalRequest::Status)? {
        LocalReply::Status {
            addr: Some(addr), ..
        } => addr,
        other => return Err(anyhow!("director status {other:?}")),
    };
    let set = content()?;
    let game = scenario(&set, "scape_attitudes")?;
    let hashes =
        boussole_protocol::manifest::Catalog::build(&content_dir(), &boussole_tests::assets_dir())?
            .hashes();
    let play = Play {
        content: hashes,
        think: Duration::from_millis(150),
        wrong_rate: 0.2,
        hint_rate: 0.1,
        seed: 20_261_207,
        outbox_dir: None,
    };
    // Each device starts with nothing but the code: no role, no station.
    let blank: Vec<Seat> = seats()?
        .into_iter()
        .map(|s| Seat {
            role: Role::Unassigned,
            station: None,
            ..s
        })
        .collect();
    let devices = start_devices_with(addr, addr, code, blank, &game, &play).await?;
    // And a real game client, started as a new device is: with the code alone.
    let client_dir = tempfile::tempdir()?;
    let spec = GameSpec {
        role: None,
        code: Some(code.to_string()),
        device: REAL.into(),
        station: None,
        participant: None,
        content: None,
    };
    let mut client = GameProcess::start(&client_binary, &spec, addr, client_dir.path())?;
    until(
        h,
        "twenty-one devices waiting for a role",
        GAME_START,
        |d| {
            d.model()
                .room()
                .links
                .iter()
                .filter(|l| l.role == Role::Unassigned)
                .count()
                == DEVICES + 1
        },
    )
    .await?;
    h.get_by_label(&format!("{} appareils connectés.", DEVICES + 1));
    h.get_by_label(&format!(
        "{} appareils attendent leur rôle : choisissez-le ci-dessous.",
        DEVICES + 1
    ));
    // Their roles, given on the home screen: one row per device, in the order of their ids.
    let mut wanted: Vec<(String, Role)> = seats()?
        .into_iter()
        .map(|s| (s.device.to_string(), s.role))
        .chain([(REAL.to_owned(), Role::Terminal)])
        .collect();
    wanted.sort_by(|a, b| a.0.cmp(&b.0));
    for (row, (device, role)) in wanted.iter().enumerate() {
        let label = match role {
            Role::Headset => "Casque",
            Role::Screen => "Écran de salle",
            _ => "Terminal",
        };
        // The button of the device's row (a device restarting in its new role leaves the
        // list for a moment, so rows are found by their device, not counted).
        let (top, bottom) = {
            let name = h.get_by_label(device);
            (name.rect().top(), name.rect().bottom())
        };
        let button = h
            .get_all_by_label(label)
            .find(|b| b.rect().center().y > top && b.rect().center().y < bottom)
            .with_context(|| format!("the « {label} » button of {device} (row {row})"))?;
        // By the button itself (its id is the device's), not by where it was drawn.
        button.click_accesskit();
        h.step();
        h.step();
        let (device, role) = (device.clone(), *role);
        let what = format!("the role kept for {device} (row {row})");
        until(h, &what, GUARD, move |d| {
            d.model()
                .desk()
                .and_then(|desk| desk.device_roles.get(&device).copied())
                .map(boussole_protocol::manifest::wire_role)
                == Some(role)
        })
        .await?;
    }
    // The real client restarted itself as a terminal and came back; it leaves for the day.
    client.wait_for("back as a terminal", GAME_START, |lines| {
        lines.iter().any(|l| l.contains("waiting for a role"))
            && lines.iter().any(|l| l.starts_with("@state Some(Online"))
    })?;
    until(h, "the real client back as a terminal", GAME_START, |d| {
        d.model()
            .room()
            .links
            .iter()
            .any(|l| l.device.as_str() == REAL && l.role == Role::Terminal)
    })
    .await?;
    ensure!(
        client_dir.path().join(REAL).join("role").is_file(),
        "the role kept on the device"
    );
    let _ = client.quit(GAME_START)?;
    // Each took its role and came back in it.
    until(h, "twenty devices in their roles", GUARD, |d| {
        let links = &d.model().room().links;
        let mut roles: Vec<_> = links
            .iter()
            .filter(|l| !matches!(l.role, Role::Console { .. }))
            .map(|l| (l.device.to_string(), l.role))
            .collect();
        roles.sort_by(|a, b| a.0.cmp(&b.0));
        roles.dedup_by(|a, b| a.0 == b.0);
        roles.len() == DEVICES && roles.iter().all(|(_, r)| *r != Role::Unassigned)
    })
    .await?;
    h.get_by_label(&format!("{DEVICES} appareils connectés."));

    // An immersion session, from the catalogue.
    click_containing(h, "séance d'immersion");
    type_into(h, "Nom de la séance :", "Vidéothèque du matin");
    click(h, "Créer la séance");
    until(h, "the immersion session", GUARD, |d| {
        engine(d).is_some_and(|e| e.devices().len() == DEVICES)
    })
    .await?;
    let first = live(h.state()).context("a session hosted")?;
    // Its own kind: no game screen, no countdown.
    ensure!(
        engine(h.state()).is_some_and(
            |e| e.scenario().id.as_str() == boussole_content::scenario::IMMERSION_SESSION
        ),
        "the immersion session plays the built-in scenario"
    );
    ensure!(
        h.query_by_label("Jouer (F3)").is_none(),
        "no game screen in an immersion session"
    );
    h.get_by_label_contains("Séance d'immersion : pas de jeu ni de minuteur");
    // Six people into the register, then enrolled from it.
    click(h, "Personnes (F11)");
    for p in PEOPLE {
        type_into(h, "Pseudonyme", p);
        click(h, "Ajouter au registre");
        until(h, "the person in the register", GUARD, |d| {
            d.model()
                .view(None)
                .is_some_and(|v| v.register.persons.iter().any(|e| e.pseudonym == p))
        })
        .await?;
    }
    click(h, "Préparer (F2)");
    enrol_all(h).await?;
    // Their first session: the information notice is read with each, and recorded.
    h.get_by_label_contains("Notice d'information à donner (première venue)");
    for p in PEOPLE {
        click(h, &format!("Notice donnée à {p}"));
        until(h, "the notice recorded", GUARD, |d| {
            d.model().view(None).is_some_and(|v| {
                v.register
                    .persons
                    .iter()
                    .any(|e| e.pseudonym == p && e.notice_given_on.is_some())
            })
        })
        .await?;
    }
    h.get_by_label("Notice d'information : donnée à chaque personne inscrite.");
    // Three headsets get an immersion each, and start together.
    let immersions = [
        "Cariste au port",
        "La maintenance à l'usine",
        "Aide à domicile",
    ];
    // One row per headset, in the order of their ids; a pseudonym is also in the list of
    // participants above the rows, so row `i`'s is counted from the end.
    let headsets = seats()?.iter().filter(|s| s.role == Role::Headset).count();
    for (i, title) in immersions.iter().enumerate() {
        h.get_all_by_label(title)
            .nth(i)
            .with_context(|| format!("immersion {title}"))?
            .click();
        h.step();
        let names: Vec<_> = h.get_all_by_label(PEOPLE[i]).collect();
        names
            .get(names.len() - headsets + i)
            .with_context(|| format!("participant {}", PEOPLE[i]))?
            .click();
        h.step();
        h.get_all_by_label("Attribuer")
            .nth(i)
            .context("the assign button")?
            .click();
        h.step();
        h.step();
        until(h, "the immersion assigned", GUARD, |d| {
            engine(d).is_some_and(|e| e.immersions().len() == i + 1)
        })
        .await?;
    }
    click(h, "Démarrer ensemble les 3 casques prêts");
    until(h, "three immersions started", GUARD, |d| {
        engine(d).is_some_and(|e| e.immersions().values().all(|r| r.started.is_some()))
    })
    .await?;
    click(h, "Clôturer (F6)");
    click(h, "Clôturer la séance (ferme les événements en cours)");
    until(h, "the immersion session closed", GUARD, |d| {
        engine(d).is_some_and(|e| e.is_closed())
    })
    .await?;

    // The game, with the same people and devices: from the home screen.
    click(h, "Accueil");
    click(h, "S'cape attitudes — escape game");
    click(h, "Créer la séance");
    until(h, "the game session", GUARD, |d| {
        live(d).is_some_and(|l| l != first)
            && engine(d).is_some_and(|e| e.devices().len() == DEVICES)
    })
    .await?;
    let second = live(h.state()).context("the game hosted")?;
    enrol_all(h).await?;
    // The same people: the notice was given this morning.
    h.get_by_label("Notice d'information : donnée à chaque personne inscrite.");
    // The room's stations, given from the console (kept for the next days).
    let stations: Vec<(String, &'static str, String)> = seats()?
        .iter()
        .filter_map(|s| {
            let role = match s.role {
                Role::Screen => "écran de salle",
                Role::Terminal => "terminal",
                Role::Headset => "casque",
                Role::Console { .. } | Role::Unassigned => return None,
            };
            s.station
                .as_ref()
                .map(|st| (s.device.to_string(), role, st.to_string()))
        })
        .collect();
    for (device, role, station) in &stations {
        type_into(h, "Identifiant", device);
        // The form's buttons, not the participants' station buttons above it of the same name.
        click_below(h, "Identifiant", role, false);
        click_below(h, "Identifiant", station, true);
        click(h, "Déclarer l'appareil");
        let (device, station) = (device.clone(), station.clone());
        until(h, "the station given", GUARD, move |d| {
            engine(d).is_some_and(|e| {
                e.devices()
                    .get(&DeviceId::from(device.as_str()))
                    .and_then(|x| x.station.as_ref())
                    .is_some_and(|s| s.as_str() == station)
            })
        })
        .await?;
    }
    // The room's voices, cut then brought back from the devices screen: every device is
    // told at once, and the room screens read aloud again (terminals stay quiet by default).
    // Cutting them keeps the devices screen up (a device's setting is not a new session).
    click(h, "Appareils (F4)");
    click(h, "Couper les voix de la salle");
    let roles: std::collections::BTreeMap<String, Role> = seats()?
        .into_iter()
        .map(|s| (s.device.to_string(), s.role))
        .collect();
    let told = |devices: &[SimHandle], back: bool| {
        devices.iter().all(|d| {
            // Screens read aloud by default (and headsets their own panels); terminals not.
            let reads = matches!(
                roles.get(d.device().as_str()),
                Some(Role::Screen | Role::Headset)
            );
            d.stats()
                .sound
                .is_some_and(|sound| sound.read_aloud == (back && reads))
        })
    };
    let start = Instant::now();
    while !told(&devices, false) {
        ensure!(
            start.elapsed() < GUARD,
            "the voices' cut never reached every device"
        );
        h.step();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until(h, "the voices shown cut", GUARD, |d| {
        d.model().desk().is_some_and(|desk| desk.voices_cut)
    })
    .await?;
    click(h, "Rendre les voix");
    let start = Instant::now();
    while !told(&devices, true) {
        ensure!(
            start.elapsed() < GUARD,
            "the voices never came back to the room screens"
        );
        h.step();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    click(h, "Jouer (F3)");
    click(h, "Démarrer le jeu (F10)");
    until(h, "the game started", GUARD, |d| {
        engine(d).is_some_and(|e| e.game_started())
    })
    .await?;
    // A second rater codes on an observer console beside the facilitator, twice differently.
    let observer = code_beside_an_observer(h, db.parent().context("the store's folder")?).await?;
    click(h, "Jouer (F3)");
    // GO through the cue list (Space), as the script's facilitator does.
    for _ in 0..6 {
        h.key_press(egui::Key::Space);
        h.step();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    until(h, "the success ending", GAME_GUARD, |d| {
        engine(d).is_some_and(|e| e.ending().is_some())
    })
    .await?;
    click(h, "Clôturer (F6)");
    click(h, "Clôturer la séance (ferme les événements en cours)");
    until(h, "the game closed", GUARD, |d| {
        engine(d).is_some_and(|e| e.is_closed())
    })
    .await?;
    let stats = stop_all(devices).await?;
    // The two disagreements talked through on « Accord »: the facilitator takes the observer's
    // codes (the wash-up); the agreement stays that of the codings at the close.
    wash_up(h, OBSERVER).await?;
    drop(observer);

    // After the game: a person's synthesis across the day's two sessions, in the window, then
    // saved on the key.
    let who = PEOPLE[0];
    // Their DISC result from another tool, recorded on their « Parcours ».
    record_disc(h, who, usb).await?;
    click(h, "Clôturer (F6)");
    click(h, "Aller à l'évaluation");
    click(h, &format!("Voir la synthèse de {who}"));
    click(h, "Afficher la synthèse");
    shown(h, "Page 1 sur").await?;
    let draft = save_pdf(h, usb, "_brouillon").await?;
    let text = pdf_text(&draft)?;
    for needed in [
        who,
        "S'cape attitudes",
        "Brouillon",
        "Autres évaluations",
        "Outil : DISC",
        "Dominance : 62 / 100",
    ] {
        ensure!(
            text.contains(needed),
            "the synthesis names {needed:?}:\n{text}"
        );
    }
    // A final is refused before the restitution and the consent, in words.
    click(
        h,
        "Version finale (après la restitution et l'accord de la personne)",
    );
    click(h, "Afficher la synthèse");
    shown(h, "la restitution n'est pas enregistrée").await?;
    // The restitution (evaluation screen), then the person's consent to the version shown,
    // then the final, saved and handed over to the prescriber.
    click(h, "Évaluation");
    click(h, "La restitution avec la personne a eu lieu");
    click(h, "Synthèse");
    click(
        h,
        "Version finale (après la restitution et l'accord de la personne)",
    );
    click(h, "Afficher la synthèse");
    shown(h, "Pas encore de réponse").await?;
    click(h, "Accord donné pour cette version");
    shown(h, "pour cette version.").await?;
    click(
        h,
        "Version finale (après la restitution et l'accord de la personne)",
    );
    click(h, "Afficher la synthèse");
    shown(h, "écrite le").await?;
    let version = h
        .state()
        .model()
        .synthesis()
        .map(|r| r.version.clone())
        .context("a version")?;
    let final_pdf = save_pdf(h, usb, "_finale_").await?;
    let text = pdf_text(&final_pdf)?;
    for needed in ["Version finale", version.as_str(), "Dominance : 62 / 100"] {
        ensure!(text.contains(needed), "the final says {needed:?}:\n{text}");
    }
    click_containing(h, "Remise au prescripteur");
    until(h, "the hand-over noted", GUARD, |d| {
        d.model()
            .notices()
            .iter()
            .any(|n| n.starts_with("Remise de la synthèse finale"))
    })
    .await?;
    // A level changed afterwards makes another version: the consent no longer holds.
    click(h, "Évaluation");
    let reason = h
        .get_all_by_role_and_label(egui::accesskit::Role::TextInput, "Raison")
        .next()
        .context("a reason field")?;
    reason.focus();
    reason.type_text("revu avec l'observatrice");
    h.step();
    h.step();
    h.get_all_by_role_and_label(egui::accesskit::Role::ComboBox, "Niveau retenu")
        .next()
        .context("a level")?
        .click();
    h.step();
    h.step();
    click_containing(h, "4 — ");
    h.get_all_by_label_contains("Retenir pour « ")
        .next()
        .context("the first competency's button")?
        .click();
    h.step();
    h.step();
    click(h, "Synthèse");
    click(h, "Afficher la synthèse");
    shown(h, "a changé depuis l'accord").await?;
    // The person agrees to the new version, shown as a draft: the corrected final names the
    // one it replaces and prints the level decided.
    click(
        h,
        "Version finale (après la restitution et l'accord de la personne)",
    );
    click(h, "Afficher la synthèse");
    let old = version.clone();
    until(h, "the new version shown", GUARD, move |d| {
        d.model()
            .synthesis()
            .is_some_and(|r| !r.request.final_version && r.version != old && r.outcome.is_ok())
    })
    .await?;
    click(h, "Accord donné pour cette version");
    let old = version.clone();
    until(h, "the consent to the new version", GUARD, move |d| {
        d.model().synthesis().is_some_and(|r| {
            r.version != old
                && r.ledger.iter().any(|e| {
                    e.version == r.version
                        && e.event == boussole_director::store::SynthesisEvent::ConsentGiven
                })
        })
    })
    .await?;
    click(
        h,
        "Version finale (après la restitution et l'accord de la personne)",
    );
    click(h, "Afficher la synthèse");
    let old = version.clone();
    until(h, "the corrected final", GUARD, move |d| {
        d.model()
            .synthesis()
            .is_some_and(|r| r.request.final_version && r.version != old && r.outcome.is_ok())
    })
    .await?;
    let corrected = save_pdf(h, usb, "_finale_").await?;
    let text = pdf_text(&corrected)?;
    let top = {
        let set = content()?;
        let rubric = set
            .rubrics
            .iter()
            .map(|r| &r.value)
            .find(|r| r.id.as_str() == "savoir_etre_ft")
            .context("the game's rubric")?;
        rubric.levels.get(3).cloned().context("a fourth level")?
    };
    for needed in [
        "Version finale",
        "Remplace",
        version.as_str(),
        top.as_str(),
        "Dominance : 62 / 100",
    ] {
        ensure!(
            text.contains(needed),
            "the corrected final says {needed:?}:\n{text}"
        );
    }

    // The log backed up on the key from the home screen, checked by the director.
    click(h, "Accueil");
    click(h, "Sauvegarder le journal…");
    click(h, "Clé USB « CLE »");
    click(h, "Enregistrer ici");
    until(h, "the backup checked", GUARD, |d| {
        d.model()
            .notices()
            .iter()
            .any(|n| n.starts_with("Sauvegarde vérifiée"))
    })
    .await?;
    until(h, "the backup's date on the home screen", GUARD, |d| {
        d.model()
            .desk()
            .is_some_and(|desk| desk.last_backup_unix_ms.is_some())
    })
    .await?;
    h.get_by_label("Journal sauvegardé aujourd'hui.");

    // The game's observations exported from the end screen: a BORIS project, then a CSV.
    click(h, "Clôturer (F6)");
    for (format, done) in [("Projet BORIS", ".boris"), ("Tableur (CSV)", ".csv")] {
        click(h, format);
        click(h, "Exporter…");
        click(h, "Clé USB « CLE »");
        click(h, "Enregistrer ici");
        until(h, "the export written", GUARD, move |d| {
            d.model()
                .notices()
                .iter()
                .any(|n| n.starts_with("Exporté") && n.ends_with(done))
        })
        .await?;
    }

    // The console closed and opened again (the director goes on): the passphrase is asked all
    // the same, and the console finds the day where it was.
    // (the same USB key is plugged in)
    let reopened = DayConsole::open(
        laptop,
        content()?,
        ConsoleState {
            places: Some(vec![("Clé USB « CLE »".into(), usb.to_path_buf())]),
            ..ConsoleState::default()
        },
    );
    let mut h2: Console = Harness::builder()
        .with_size(egui::vec2(1600.0, 6000.0))
        .build_ui_state(
            |ui, app: &mut DayConsole| {
                app.frame(ui);
            },
            reopened,
        );
    until(&mut h2, "the reopened console's passphrase", GUARD, |d| {
        matches!(d.gate(), Gate::Unlocked { .. })
    })
    .await?;
    h2.get_by_label("La régie est ouverte");
    ensure!(
        h2.state().model().desk().is_none(),
        "a reopened console shows the day before its passphrase"
    );
    type_into(&mut h2, "Votre nom :", FACILITATOR);
    type_secret(&mut h2, "Phrase de passe :", PASSPHRASE);
    click(&mut h2, "Déverrouiller");
    until(&mut h2, "the day again", GUARD, move |d| {
        live(d) == Some(second)
    })
    .await?;

    // What the director kept.
    let store = Store::open(db, PASSPHRASE)?;
    let set = content()?;
    let (_, e1) = boussole_director::session::replay(&store, &set, SessionId(first))?;
    let (_, e2) = boussole_director::session::replay(&store, &set, SessionId(second))?;
    ensure!(
        e1.immersions().len() == 3 && e1.immersions().values().all(|r| r.started.is_some()),
        "the immersion session ran three headsets"
    );
    check_success(&e2)?;
    // Every device event is in one of the day's two logs, exactly once.
    let mut log = device_events(&store, SessionId(first))?;
    for (key, mut entries) in device_events(&store, SessionId(second))? {
        log.entry(key).or_default().append(&mut entries);
    }
    check_exactly_once(&log, &stats)?;
    // The same six people held the slots of both sessions.
    let holders = |s: i64| -> Result<Vec<String>> {
        let mut v: Vec<String> = store.slot_persons(SessionId(s))?.into_values().collect();
        v.sort();
        Ok(v)
    };
    ensure!(holders(first)?.len() == 6, "six people in the morning");
    ensure!(holders(first)? == holders(second)?, "the same people");
    // The notice, recorded once for each of them, by the facilitator who unlocked.
    let notices = store.notices_given()?;
    for person in holders(first)? {
        ensure!(
            notices
                .get(&person)
                .is_some_and(|(_, by)| by == FACILITATOR),
            "{person}: notice recorded by {FACILITATOR}: {notices:?}"
        );
    }
    // Every device stayed connected from the first session to the last: one connection
    // without a role, then one in the role the console gave, kept all day.
    for (device, s) in &stats {
        ensure!(
            s.connections == 2,
            "{device} connected {} times",
            s.connections
        );
    }
    // The room layout is kept for the next days.
    let layout = store.room_layout("scape_attitudes")?;
    for (device, _, station) in &stations {
        ensure!(
            layout.get(device) == Some(station),
            "{device} not kept at {station}"
        );
    }
    // The access log names the facilitator, never the system user.
    let unlocked: Vec<_> = store
        .access_log()?
        .into_iter()
        .filter(|a| a.action == AccessAction::DirectorUnlocked)
        .collect();
    ensure!(
        unlocked.len() == 2 && unlocked.iter().all(|a| a.actor == FACILITATOR),
        "access log {unlocked:?}"
    );
    // The backup on the key reopens with the recovery key and holds the day's two sessions.
    let backups: Vec<_> = std::fs::read_dir(usb)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "db"))
        .collect();
    ensure!(backups.len() == 1, "one backup on the key: {backups:?}");
    let (key, _) = store.recovery_key()?.context("a recovery key")?;
    let in_backup = Store::verify_backup(&backups[0], &key)?;
    ensure!(
        in_backup == store.sessions()?.len() as u64,
        "the backup holds every session ({in_backup})"
    );
    // The exports: a BORIS project that parses, a CSV with a row per observation.
    let exported = |ext: &str| -> Result<String> {
        let found: Vec<_> = std::fs::read_dir(usb)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        ensure!(found.len() == 1, "one .{ext} on the key: {found:?}");
        Ok(std::fs::read_to_string(&found[0])?)
    };
    let project: serde_json::Value = serde_json::from_str(&exported("boris")?)?;
    ensure!(
        project
            .get("observations")
            .is_some_and(serde_json::Value::is_object),
        "a BORIS project with observations"
    );
    let csv = exported("csv")?;
    ensure!(
        csv.lines().count() > e2.observations().len(),
        "a header and a row per observation ({} lines for {} observations)",
        csv.lines().count(),
        e2.observations().len()
    );
    let exports = store
        .access_log()?
        .into_iter()
        .filter(|a| a.action == AccessAction::SessionExported)
        .filter(|a| a.actor == FACILITATOR && a.session == Some(SessionId(second)))
        .count();
    ensure!(
        exports == 2,
        "two exports logged by {FACILITATOR}: {exports}"
    );
    // The synthesis shown in the console is in the access log, by whom, for whom.
    let shown: Vec<_> = store
        .access_log()?
        .into_iter()
        .filter(|a| a.action == AccessAction::SynthesisWritten)
        .collect();
    ensure!(
        shown
            .iter()
            .all(|a| a.actor == FACILITATOR && a.participant.is_some())
            && shown
                .iter()
                .any(|a| a.detail.contains("(finale, conseiller)"))
            && shown
                .iter()
                .filter(|a| a.detail.contains("handed_over"))
                .count()
                == 1,
        "access log of the synthesis {shown:?}"
    );
    // The person's synthesis ledger: the consent to one version, its final, its hand-over;
    // then the consent to the version after the level changed, and its corrected final.
    let ledger: Vec<_> = holders(second)?
        .iter()
        .map(|p| store.synthesis_events(p))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .map(|e| e.event)
        .collect();
    {
        use boussole_director::store::SynthesisEvent::{ConsentGiven, FinalWritten, HandedOver};
        ensure!(
            ledger
                == [
                    ConsentGiven,
                    FinalWritten,
                    HandedOver,
                    ConsentGiven,
                    FinalWritten
                ],
            "the synthesis ledger {ledger:?}"
        );
    }
    let second_holders = holders(second)?;
    drop(store);

    // A person asks to be erased: refused while they are in the open session, done from the
    // register once the facilitator is back home, their name typed to confirm.
    let who = PEOPLE[5];
    let person = second_holders
        .into_iter()
        .find(|p| {
            h2.state()
                .model()
                .register()
                .persons
                .iter()
                .any(|e| e.id == *p && e.pseudonym == who)
        })
        .context("the person to erase")?;
    erase(&mut h2, who).await?;
    until(
        &mut h2,
        "the erasure refused in the open session",
        GUARD,
        |d| {
            d.model()
                .notices()
                .last()
                .is_some_and(|n| n.contains("est dans la séance ouverte"))
        },
    )
    .await?;
    click(&mut h2, "Accueil");
    click(&mut h2, "Revenir à l'accueil sans séance");
    until(&mut h2, "home without a session", GUARD, |d| {
        live(d).is_none()
    })
    .await?;
    click(&mut h2, "Registre des personnes");
    erase(&mut h2, who).await?;
    until(&mut h2, "the erasure done", GUARD, |d| {
        d.model()
            .notices()
            .last()
            .is_some_and(|n| n.starts_with("Effacement de la personne"))
    })
    .await?;
    let store = Store::open(db, PASSPHRASE)?;
    let after: Vec<String> = store
        .slot_persons(SessionId(second))?
        .into_values()
        .collect();
    ensure!(
        store.person(&person)?.is_none_or(|p| p.pseudonym != who),
        "{who} is no longer in the register under that pseudonym"
    );
    ensure!(
        after.len() == 6,
        "the session keeps its six slots: {after:?}"
    );
    let erased = std::fs::read_to_string(db.with_file_name("erasures.tsv"))?;
    ensure!(
        erased.lines().any(|l| l.starts_with(&person)),
        "the erasure recorded beside the store: {erased}"
    );
    ensure!(
        store
            .access_log()?
            .iter()
            .any(|a| a.action == AccessAction::ParticipantErased
                && a.actor == FACILITATOR
                && a.participant.as_deref() == Some(person.as_str())),
        "the erasure in the access log"
    );
    drop(store);

    // The passphrase changed from the home screen: a wrong current one refused, then done.
    const NEW_PASSPHRASE: &str = "Le phare de Gravelines 2027 !";
    click(&mut h2, "◀ Retour à l'accueil");
    for current in ["pas la bonne phrase", PASSPHRASE] {
        click(&mut h2, "Changer la phrase de passe…");
        type_secret(&mut h2, "Phrase de passe actuelle :", current);
        type_secret(&mut h2, "Nouvelle phrase de passe :", NEW_PASSPHRASE);
        type_secret(&mut h2, "La nouvelle, encore une fois :", NEW_PASSPHRASE);
        click(&mut h2, "Changer la phrase de passe");
        let wanted = if current == PASSPHRASE {
            "Phrase de passe changée"
        } else {
            "Phrase de passe incorrecte"
        };
        until(
            &mut h2,
            "the director's answer on the passphrase",
            GUARD,
            |d| {
                d.state
                    .director_message
                    .as_deref()
                    .is_some_and(|m| m.starts_with(wanted))
            },
        )
        .await?;
    }
    ensure!(
        matches!(
            Store::open(db, PASSPHRASE),
            Err(boussole_director::store::OpenError::WrongPassphrase { .. })
        ),
        "the old passphrase no longer opens the store"
    );
    let store = Store::open(db, NEW_PASSPHRASE)?;
    ensure!(
        store
            .access_log()?
            .iter()
            .any(|a| a.action == AccessAction::PassphraseChanged && a.actor == FACILITATOR),
        "the change in the access log"
    );
    drop(store);

    // The game reviewed from home, then beside a new session that runs: the restitution of
    // another person goes to the game's log, never to the session hosted.
    review_beside(&mut h2, db, second, NEW_PASSPHRASE).await?;
    // The administration: the access log shows the review, the figures count the day and go
    // to the key as CSV, and the purge has nothing to remove.
    administration(&mut h2, usb).await?;
    // Next week's game planned from home, in the window.
    planning(&mut h2).await?;
    // A laptop that lost its passphrase: the log restored from the key with the recovery key,
    // from the locked screen; the erasure made since the backup is made again.
    restore_from_key(&mut h2, db, &recovery).await?;
    Ok(())
}

/// « Planning des séances » from home: S'cape attitudes planned a week from now, at a place
/// typed; the director's plan lists it.
async fn planning(h: &mut Console) -> Result<()> {
    click(h, "Accueil");
    click(h, "Planning des séances");
    until(h, "the plan", GUARD, |d| d.model().answers().plan.is_some()).await?;
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Activité :")
        .click();
    h.step();
    h.step();
    h.get_all_by_label("S'cape attitudes")
        .last()
        .context("the activity in the list")?
        .click();
    h.step();
    h.step();
    let week = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let next_week =
        boussole_director::plan::local_date(i64::try_from(week)? + 7 * 24 * 3600 * 1000);
    let date = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Le (AAAA-MM-JJ) :");
    date.focus();
    for _ in 0..12 {
        h.key_press(egui::Key::Backspace);
    }
    h.step();
    type_into(h, "Le (AAAA-MM-JJ) :", &next_week);
    type_into(h, "Lieu :", "Salle du port");
    click(h, "Planifier");
    until(h, "the session planned", GUARD, |d| {
        d.model()
            .answers()
            .plan
            .as_ref()
            .is_some_and(|p| p.coming.iter().any(|c| c.place == "Salle du port"))
    })
    .await?;
    Ok(())
}

/// Locks, then restores the backup on the key with `key` under a new passphrase, from the
/// locked screen; checks what the director restored and kept aside.
async fn restore_from_key(h: &mut Console, db: &Path, key: &str) -> Result<()> {
    const RESTORED: &str = "Restauré depuis la clé 2027 !";
    click(h, "Accueil");
    click(h, "Verrouiller la régie");
    until(h, "the locked screen", GUARD, |d| {
        matches!(d.gate(), Gate::Locked { .. })
    })
    .await?;
    click(h, "Phrase de passe oubliée ?");
    click(h, "Restaurer une sauvegarde…");
    click(h, FACILITATOR);
    click(h, "Choisir la sauvegarde…");
    click(h, "Clé USB « CLE »");
    click_containing(h, "📄 boussole-sauvegarde-");
    type_secret(h, "Clé de secours :", key);
    type_secret(h, "Phrase de passe :", RESTORED);
    type_secret(h, "La même, encore :", RESTORED);
    click(h, "Restaurer");
    until(h, "the restored log unlocked", GUARD, |d| {
        d.model().desk().is_some()
            && d.state
                .director_message
                .as_deref()
                .is_some_and(|m| m.starts_with("Sauvegarde restaurée"))
    })
    .await?;
    let said = h.state().state.director_message.clone().unwrap_or_default();
    ensure!(
        said.contains("1 personne(s) effacée(s) depuis cette sauvegarde"),
        "the erasure made again: {said}"
    );
    let store = Store::open(db, RESTORED)?;
    ensure!(
        store.sessions()?.len() == 2,
        "the backup's two sessions (the review's session came after it)"
    );
    ensure!(
        store
            .persons()?
            .iter()
            .all(|p| p.pseudonym != PEOPLE[5] || p.erased_at_unix_ms.is_some()),
        "{} erased again",
        PEOPLE[5]
    );
    ensure!(
        store
            .access_log()?
            .iter()
            .any(|a| a.action == AccessAction::BackupRestored && a.actor == FACILITATOR),
        "the restoration in the access log"
    );
    let aside = std::fs::read_dir(db.parent().context("the store's folder")?)?
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("avant-restauration-")
        });
    ensure!(aside, "the replaced log kept aside");
    Ok(())
}

/// From home without a session: « Revoir » the game (`game`), then a new immersion session
/// created and running while the review goes on; a person's restitution recorded in the
/// review lands in the game's log only.
async fn review_beside(h: &mut Console, db: &Path, game: i64, passphrase: &str) -> Result<()> {
    ensure!(live(h.state()).is_none(), "home without a session");
    h.get_all_by_label("Revoir")
        .next()
        .context("the most recent past session first")?
        .click();
    h.step();
    h.step();
    until(h, "the game followed for review", GUARD, move |d| {
        d.model().review().is_some_and(|r| r.session == game)
    })
    .await?;
    h.get_by_label_contains(&format!("Revue de la séance n° {game}"));
    click(h, "◀ Retour à l'accueil");
    click_containing(h, "séance d'immersion");
    type_into(h, "Nom de la séance :", "Vidéothèque de l'après-midi");
    click(h, "Créer la séance");
    until(h, "a new session hosted", GUARD, move |d| {
        live(d).is_some_and(|id| id != game)
    })
    .await?;
    let third = live(h.state()).context("hosted")?;
    ensure!(
        h.state()
            .model()
            .review()
            .is_some_and(|r| r.session == game),
        "the review goes on beside the new session"
    );
    click(h, "Évaluation");
    h.get_by_label_contains(&format!("Revue de la séance n° {game}"));
    let who = PEOPLE[1];
    click(h, &format!(" {who} "));
    let slot = h
        .state()
        .model()
        .review()
        .and_then(|r| {
            r.view
                .engine
                .participants()
                .iter()
                .find(|(_, p)| p.pseudonym == who)
                .map(|(id, _)| id.clone())
        })
        .context("their slot in the game")?;
    click(h, "La restitution avec la personne a eu lieu");
    let reviewed = slot.clone();
    until(h, "the restitution in the reviewed game", GUARD, move |d| {
        d.model().review().is_some_and(|r| {
            r.view
                .engine
                .debriefs()
                .get(&reviewed)
                .is_some_and(|b| b.restitution.is_some())
        })
    })
    .await?;
    ensure!(
        live(h.state()) == Some(third),
        "the new session still hosted"
    );
    // What the director wrote: in the game's log, not in the new session's.
    let store = Store::open(db, passphrase)?;
    let set = content()?;
    let (_, game_engine) = boussole_director::session::replay(&store, &set, SessionId(game))?;
    ensure!(
        game_engine
            .debriefs()
            .get(&slot)
            .is_some_and(|b| b.restitution.is_some()),
        "the restitution is in the game's log"
    );
    let (_, new_engine) = boussole_director::session::replay(&store, &set, SessionId(third))?;
    ensure!(
        new_engine.debriefs().is_empty() && !new_engine.is_closed(),
        "the new session took nothing of it"
    );
    ensure!(
        store
            .access_log()?
            .iter()
            .any(|a| a.action == AccessAction::SessionOpened
                && a.session == Some(SessionId(game))
                && a.actor == FACILITATOR),
        "the review in the access log"
    );
    Ok(())
}

/// The administration screen from home: the access log, the figures and their CSV on the key,
/// the purge's preview.
async fn administration(h: &mut Console, usb: &Path) -> Result<()> {
    click(h, "Accueil");
    click(h, "Journal des accès, chiffres, purge");
    until(h, "the access log shown", GUARD, |d| {
        d.model()
            .answers()
            .access
            .as_ref()
            .is_some_and(|a| a.iter().any(|l| l.detail == "revue depuis la console"))
    })
    .await?;
    ensure!(
        h.query_by_label_contains("revue depuis la console")
            .is_some(),
        "the review's line in the window"
    );
    click(h, "Chiffres des financeurs");
    until(h, "the figures shown", GUARD, |d| {
        d.model().answers().figures.as_ref().is_some_and(|f| {
            f.iter()
                .any(|r| r.kind == "toutes activités" && r.sessions >= 3)
        })
    })
    .await?;
    click(h, "Enregistrer les chiffres (CSV)…");
    click(h, "Clé USB « CLE »");
    click(h, "Enregistrer ici");
    until(h, "the figures written", GUARD, |d| {
        d.model()
            .notices()
            .iter()
            .any(|n| n.starts_with("Chiffres écrits"))
    })
    .await?;
    let csv = std::fs::read_dir(usb)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("chiffres-financeurs-") && n.ends_with(".csv"))
        })
        .context("the CSV on the key")?;
    let text = std::fs::read_to_string(&csv)?;
    ensure!(
        text.starts_with("periode,activite,seances,personnes"),
        "the CSV's header: {text}"
    );
    for who in PEOPLE {
        ensure!(!text.contains(who), "no pseudonym in the figures: {text}");
    }
    click(h, "Purge des séances anciennes");
    until(h, "the purge's preview", GUARD, |d| {
        d.model().answers().purge.is_some()
    })
    .await?;
    h.get_by_label_contains("Rien à purger");
    Ok(())
}

/// On the register screen: selects `who` in the list, types their pseudonym and asks to
/// erase them.
async fn erase(h: &mut Console, who: &str) -> Result<()> {
    open_person(h, who)?;
    type_into(h, &format!("Pour confirmer, tapez « {who} » :"), who);
    click(h, &format!("Effacer « {who} »"));
    Ok(())
}

/// Opens `who`'s page on the register screen (from the tab or from home), found by typing.
fn open_person(h: &mut Console, who: &str) -> Result<()> {
    let on_register = |h: &Console| {
        h.query_by_role_and_label(egui::accesskit::Role::TextInput, "Rechercher")
            .is_some()
    };
    if !on_register(h) {
        if h.query_by_label("Personnes (F11)").is_some() {
            click(h, "Personnes (F11)");
        } else {
            click(h, "Registre des personnes");
        }
    }
    ensure!(on_register(h), "the register screen is open");
    // The list scrolls: find them by typing, as a facilitator would.
    let filter = h
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Rechercher")
        .value()
        .unwrap_or_default();
    if filter != who {
        type_into(h, "Rechercher", who);
    }
    let text = format!("{who} · ");
    let item = h
        .get_all_by_label_contains(&text)
        .next()
        .context("the person in the register's list")?;
    item.click();
    h.step();
    h.step();
    Ok(())
}

/// An observer console paired with the code the facilitator opened, which codes P1 three times with
/// another behaviour than the facilitator, who codes with the grid's keys on « Coder ».
/// Returns the observer's link (the observer stays in the room until the wash-up).
async fn code_beside_an_observer(
    h: &mut Console,
    dir: &Path,
) -> Result<boussole_console::link::Link> {
    use boussole_console::link::{Link, LinkConfig};
    use boussole_content::grid::EventKind;
    use boussole_director::engine::{Command, ObservationAction, RaterId};
    let code = h
        .state()
        .model()
        .room()
        .pairing_code
        .clone()
        .context("pairing still open")?;
    let addr = h
        .state()
        .director_addr()
        .context("the director's address")?;
    let link = Link::start(LinkConfig {
        director: addr,
        device: DeviceId::from(OBSERVER),
        observer: true,
        pairing_file: dir.join("observatrice.pairing"),
        pairing_code: Some(PairingCode::parse(&code).map_err(|e| anyhow!("{e}"))?),
        content_hash: [0; 32],
        backoff: boussole_tests::test_backoff(),
    })?;
    let game = engine(h.state()).context("the game")?;
    let points: Vec<_> = game
        .grid()
        .behaviours
        .iter()
        .filter(|b| b.kind == EventKind::Point && b.modifiers.is_none())
        .take(2)
        .map(|b| (b.id.clone(), b.key))
        .collect();
    let [(mine, key), (theirs, _)] = points.as_slice() else {
        return Err(anyhow!(
            "the grid has two point behaviours without modifiers"
        ));
    };
    let slot = boussole_console::ui::participants(&h.state().model().view(None).context("a view")?)
        .first()
        .map(|(id, _)| (*id).clone())
        .context("a participant")?;
    click(h, "Coder (F5)");
    let tap = |h: &mut Console, k: egui::Key| {
        for pressed in [true, false] {
            h.event(egui::Event::Key {
                key: k,
                physical_key: Some(k),
                pressed,
                repeat: false,
                modifiers: egui::Modifiers::NONE,
            });
            h.step();
        }
    };
    let me = h
        .state()
        .model()
        .view(None)
        .map(|v| v.me.0)
        .context("the console's rater")?;
    // Three rounds: BORIS's slices stop at the last code, so the last round may fall outside
    // the agreement; the first two are always inside.
    for round in 1..=3 {
        tap(h, egui::Key::Num1);
        tap(h, boussole_console::ui::keys::to_egui(*key));
        link.send(&Command::Observe {
            rater: RaterId(OBSERVER.into()),
            participant: slot.clone(),
            behaviour: theirs.clone(),
            action: ObservationAction::Point,
            modifier: None,
        })?;
        let (mine, theirs, me) = (mine.clone(), theirs.clone(), me.clone());
        until(h, "both codes of the round", GUARD, move |d| {
            engine(d).is_some_and(|e| {
                let of = |r: &str, b: &boussole_content::ids::BehaviourId| {
                    e.observations()
                        .iter()
                        .filter(|o| o.rater.0 == r && o.behaviour.as_ref() == Some(b))
                        .count()
                };
                of(&me, &mine) == round && of(OBSERVER, &theirs) == round
            })
        })
        .await?;
        // Apart in time: a moment each, not one.
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    Ok(link)
}

/// On « Accord », after the close: the facilitator takes the observer's code at two moments;
/// the engine holds two consensus copies, and the agreement of the codings at the close does
/// not move.
async fn wash_up(h: &mut Console, observer: &str) -> Result<()> {
    use boussole_director::irr::{self, KappaMethod};
    click(h, "Accord");
    let before = engine(h.state()).context("the game")?;
    let me = h
        .state()
        .model()
        .view(None)
        .map(|v| v.me)
        .context("the console's rater")?;
    let other = boussole_director::engine::RaterId(observer.into());
    let kappa = |e: &Engine| {
        irr::agreement(e, &me, &other, 1.0, KappaMethod::Boris)
            .map(|a| format!("{a:?}"))
            .map_err(|e| anyhow!("{e}"))
    };
    let at_close = kappa(&before)?;
    let take = format!("Reprendre le code de {observer}");
    for n in 1..=2usize {
        h.query_all_by_label(&take)
            .next()
            .with_context(|| format!("a moment to take ({n})"))?
            .click();
        h.step();
        h.step();
        until(h, "the observer's code taken", GUARD, move |d| {
            engine(d).is_some_and(|e| e.observations().iter().filter(|o| o.consensus).count() >= n)
        })
        .await?;
    }
    let after = engine(h.state()).context("the game")?;
    ensure!(
        kappa(&after)? == at_close,
        "the agreement is that of the codings at the close"
    );
    Ok(())
}

/// On `who`'s « Parcours »: a DISC result typed as the tool gave it, its PDF report picked
/// on the key; the director's answer lists it.
async fn record_disc(h: &mut Console, who: &str, usb: &Path) -> Result<()> {
    std::fs::write(usb.join("disc.pdf"), b"%PDF-1.4\n% rapport DISC\n")?;
    open_person(h, who)?;
    click(h, &format!("Parcours et résultats de {who}…"));
    until(h, "the person's roadmap", GUARD, |d| {
        d.model().answers().roadmap.is_some()
    })
    .await?;
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Évaluation faite avec :")
        .click();
    h.step();
    h.step();
    h.get_all_by_label("Profil comportemental DISC")
        .last()
        .context("DISC in the list")?
        .click();
    h.step();
    h.step();
    type_into(h, "Dominance (0 à 100 / 100)", "62");
    type_into(h, "Profil (texte)", "Meneur");
    type_into(h, "Fait passer par :", "Mme Durand");
    click(h, "Joindre le rapport PDF…");
    click(h, "Clé USB « CLE »");
    click(h, "📄 disc.pdf");
    click(h, "Enregistrer le résultat");
    until(h, "the result recorded", GUARD, |d| {
        d.model().answers().roadmap.as_ref().is_some_and(|r| {
            r.results
                .iter()
                .any(|x| x.pdf.as_deref() == Some("disc.pdf"))
        })
    })
    .await?;
    Ok(())
}

/// Enrols the six people from the register on the preparation screen.
async fn enrol_all(h: &mut Console) -> Result<()> {
    for (i, p) in PEOPLE.iter().enumerate() {
        // Typed as a facilitator would, without the accents: the director finds them.
        let typed = boussole_content::normalise(p);
        type_into(h, "Chercher (nom ou pseudonyme) :", &typed);
        let answered = typed.clone();
        until(h, "the director's answer to the search", GUARD, move |d| {
            d.model()
                .view(None)
                .and_then(|v| v.register.found)
                .is_some_and(|(asked, ids)| asked == answered && ids.len() == 1)
        })
        .await?;
        // (no entry date nor prescriber in this register: the pseudonym alone)
        h.get_by_label(p).click();
        h.step();
        h.step();
        click(h, "Ajouter le ou la participant·e");
        until(h, "the person enrolled", GUARD, |d| {
            engine(d).is_some_and(|e| e.participants().len() == i + 1)
        })
        .await?;
    }
    Ok(())
}

/// The text of a PDF (poppler's `pdftotext`), whitespace runs collapsed.
fn pdf_text(path: &Path) -> Result<String> {
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .context("pdftotext (poppler-utils)")?;
    ensure!(
        out.status.success(),
        "pdftotext failed on {}",
        path.display()
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .replace('\u{2019}', "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" "))
}

/// Steps the console until a label containing `text` shows (a page, a refusal, a status).
async fn shown(h: &mut Console, text: &str) -> Result<()> {
    let start = Instant::now();
    while h.query_all_by_label_contains(text).next().is_none() {
        ensure!(
            start.elapsed() < GUARD,
            "« {text} » not shown (notices {:?})",
            h.state().model().notices()
        );
        h.step();
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    h.step();
    Ok(())
}

/// « Enregistrer le PDF… » on the key; returns the one PDF whose name ends with `ending`.
async fn save_pdf(h: &mut Console, usb: &Path, marker: &str) -> Result<std::path::PathBuf> {
    let on_key = || -> Result<Vec<std::path::PathBuf>> {
        Ok(std::fs::read_dir(usb)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let name = p.to_string_lossy();
                name.contains(marker) && name.ends_with(".pdf")
            })
            .collect())
    };
    let before = on_key()?;
    click(h, "Enregistrer le PDF…");
    click(h, "Clé USB « CLE »");
    click(h, "Enregistrer ici");
    let saved: Vec<_> = on_key()?
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    ensure!(
        saved.len() == 1,
        "one new {marker} PDF on the key: {saved:?}"
    );
    Ok(saved[0].clone())
}
