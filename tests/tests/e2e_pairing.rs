//! Pairing a whole room (issue 14), against a real director over loopback: the first console
//! pairs with the code the director opened at start (no console was paired yet); pairing then
//! opens and closes from the console only, with a fresh code each time; twenty simulated
//! devices started together with nothing but that code all pair and are welcomed; a closed
//! window refuses; six wrong codes within a minute lock it and a success in between does not
//! reset the count; a device the director forgot says so in French and asks for the code; a
//! restart with a console paired keeps pairing closed.

use anyhow::{Context, Result, anyhow, ensure};
use boussole_console::link::{Link, LinkConfig};
use boussole_console::model::ConsoleModel;
use boussole_director::engine::RaterId;
use boussole_director::server::{FileRegistry, ServeConfig, Serving};
use boussole_director::session::Session;
use boussole_director::store::Store;
use boussole_protocol::DeviceId;
use boussole_protocol::pairing::{MAX_WRONG_CODES, OPEN_FOR, PairingCode};
use boussole_protocol::wire::{Refusal, Role, RoomStatus};
use boussole_sim::lineup::Seat;
use boussole_sim::{SimConfig, SimDevice, SimError, SimHandle};
use boussole_tests::{
    GAME_GUARD, PASSPHRASE, SCENARIO, assets_dir, code, content, content_dir, scenario, start_room,
    stop_all, test_backoff,
};
use std::path::Path;
use std::time::{Duration, Instant};

/// A console's link and model, polled together.
struct Console {
    link: Link,
    model: ConsoleModel,
}

impl Console {
    fn start(
        serving: &Serving,
        dir: &Path,
        name: &str,
        observer: bool,
        code: PairingCode,
    ) -> Result<Self> {
        let link = Link::start(LinkConfig {
            director: serving.local_addr(),
            device: DeviceId::from(name),
            observer,
            pairing_file: dir.join(format!("{name}.pairing")),
            pairing_code: Some(code),
            content_hash: serving.content_hashes().console,
            backoff: test_backoff(),
        })?;
        let model = ConsoleModel::new(content()?, RaterId(name.into()), observer);
        Ok(Self { link, model })
    }

    /// Polls the link until the room status satisfies `done`; returns it.
    async fn room_until(
        &mut self,
        what: &str,
        done: impl Fn(&RoomStatus) -> bool,
    ) -> Result<RoomStatus> {
        self.until(what, |m| m.view(None).is_some_and(|v| done(&v.room)))
            .await?;
        self.model
            .view(None)
            .map(|v| v.room)
            .context("a view once the room came")
    }

    /// Polls the link until `done` holds of the model, or fails after [`GAME_GUARD`].
    async fn until(&mut self, what: &str, done: impl Fn(&ConsoleModel) -> bool) -> Result<()> {
        let start = Instant::now();
        loop {
            for event in self.link.poll() {
                self.model.apply(event);
            }
            if done(&self.model) {
                return Ok(());
            }
            ensure!(
                start.elapsed() < GAME_GUARD,
                "console: {what} not reached (link {:?})",
                self.model.link()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A director serving a new session under `dir`, pairing left to the director's own rule
/// (open at start only while no console is paired).
fn serve(dir: &Path, session: Option<Session>) -> Result<Serving> {
    let session = match session {
        Some(s) => s,
        None => {
            let store = Store::open(&dir.join("director.db"), PASSPHRASE)?;
            Session::create(
                store,
                &content()?,
                SCENARIO,
                "appairage",
                boussole_director::runtime::unix_ms(),
            )?
        }
    };
    let config = ServeConfig {
        bind: "127.0.0.1:0".parse()?,
        content_dir: content_dir(),
        assets_dir: assets_dir(),
        data_dir: dir.to_path_buf(),
        name: "Régie de test".into(),
        pairing_code: None,
    };
    Ok(Serving::start(&config, session)?)
}

/// A room screen with no station: it plays nothing, it is only welcomed.
fn screen(device: &DeviceId, serving: &Serving) -> SimConfig {
    let mut config = SimConfig::new(Seat {
        device: device.clone(),
        role: Role::Screen,
        station: None,
        participant: None,
        puzzles: None,
    });
    config.content_hash = serving.content_hashes().screen;
    config.backoff = test_backoff();
    config
}

fn parse(code: &str) -> Result<PairingCode> {
    PairingCode::parse(code).map_err(|e| anyhow!("{code}: {e}"))
}

/// A code other than `code`.
fn other_than(code: PairingCode) -> Result<PairingCode> {
    parse(if code.to_string() == "000000" {
        "111111"
    } else {
        "000000"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_room_pairs_once_the_console_opens_pairing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let serving = serve(dir.path(), None)?;
    let scenario = scenario(&content()?, SCENARIO)?;

    // No console paired yet: the director opened pairing at start, so the first one can pair
    // with the code it shows.
    let first = serving
        .pairing()
        .window()
        .context("pairing is open at start while no console is paired")?;
    ensure!(first.left <= OPEN_FOR && first.left > OPEN_FOR - Duration::from_secs(30));
    let mut console = Console::start(&serving, dir.path(), "console", false, first.code)?;
    let shown = console
        .room_until("the code shown", |r| r.pairing_code.is_some())
        .await?;
    ensure!(shown.pairing_code == Some(first.code.to_string()));
    ensure!(
        shown.pairing_open_s.is_some_and(|s| s <= 600 && s > 570),
        "minutes left: {shown:?}"
    );

    // The facilitator closes it: a device with the code is refused, saying why.
    console.link.send_pairing_window(false)?;
    console
        .room_until("pairing closed", |r| {
            r.pairing_code.is_none() && r.pairing_open_s.is_none()
        })
        .await?;
    let refused = boussole_sim::pair(serving.local_addr(), first.code, &DeviceId::from("tard"))
        .await
        .err()
        .context("a closed window refuses")?;
    ensure!(
        refused.refusal() == Some(&Refusal::PairingClosed),
        "{refused}"
    );
    ensure!(
        refused
            .to_string()
            .contains("l'appairage est fermé : demandez à l'animateur de l'ouvrir sur la régie"),
        "{refused}"
    );

    // An observer's console may not open it.
    serving.pairing().open(first.code);
    let mut observer = Console::start(&serving, dir.path(), "observateur", true, first.code)?;
    observer
        .room_until("the observer online", |r| r.pairing_code.is_some())
        .await?;
    serving.pairing().close();
    observer
        .room_until("pairing closed", |r| r.pairing_code.is_none())
        .await?;
    observer.link.send_pairing_window(true)?;
    observer
        .until("the refusal", |m| {
            m.view(None).is_some_and(|v| {
                v.notices
                    .iter()
                    .any(|n| n == "seule la console principale ouvre l'appairage")
            })
        })
        .await?;
    ensure!(serving.pairing().window().is_none(), "still closed");

    // The facilitator opens it: a fresh code, ten minutes.
    console.link.send_pairing_window(true)?;
    let open = console
        .room_until("pairing open", |r| r.pairing_code.is_some())
        .await?;
    let fresh = parse(open.pairing_code.as_deref().unwrap_or_default())?;
    ensure!(fresh != first.code, "a fresh code at each opening");
    ensure!(open.pairing_open_s.is_some_and(|s| s > 590));

    // Twenty devices, started together, with nothing but the code the console shows.
    let addr = serving.local_addr();
    let ids: Vec<DeviceId> = (0..20)
        .map(|i| DeviceId::from(format!("ecran_{i:02}").as_str()))
        .collect();
    let started = Instant::now();
    let pairings: Vec<_> = ids
        .iter()
        .map(|device| {
            let device = device.clone();
            tokio::spawn(async move { boussole_sim::pair(addr, fresh, &device).await })
        })
        .collect();
    let mut devices: Vec<SimHandle> = Vec::new();
    for (device, pairing) in ids.iter().zip(pairings) {
        let pairing = pairing.await??;
        devices.push(SimDevice::start(
            screen(device, &serving),
            addr,
            pairing,
            scenario.clone(),
        )?);
    }
    let paired_in = started.elapsed();
    for d in &devices {
        d.wait_until("a welcome and a snapshot", GAME_GUARD, |s| {
            s.connections == 1 && s.snapshots > 0
        })
        .await?;
    }
    eprintln!("20 appareils appairés ensemble en {paired_in:?}");
    ensure!(
        serving.pairing().locked_for().is_none(),
        "no right code counted as wrong"
    );
    // The console lists them all.
    console
        .room_until("the twenty screens", |r| {
            ids.iter().all(|id| r.links.iter().any(|l| &l.device == id))
        })
        .await?;

    // A screen the director forgot (unpaired beside the running director, as `pair forget`
    // does) reports it in French and asks for the code.
    let forgotten = &ids[0];
    let registry = FileRegistry::open(&dir.path().join("devices.tsv"))?;
    ensure!(registry.forget(&forgotten.0)?);
    let again = boussole_sim::pair(addr, fresh, &DeviceId::from("ecran_00_bis")).await?;
    let lost = SimDevice::start(screen(forgotten, &serving), addr, again, scenario.clone())?;
    lost.wait_until("its refusal", GAME_GUARD, |s| s.stopped)
        .await?;
    let error = lost.stop().await.err().context("refused")?;
    ensure!(
        matches!(error, SimError::PairingLost { .. })
            && error.refusal() == Some(&Refusal::UnknownDevice),
        "{error:?}"
    );
    let said = error.to_string();
    ensure!(
        said.contains("appairage perdu") && said.contains("saisissez le code d'appairage"),
        "{said}"
    );

    let stopped = stop_all(devices).await?;
    ensure!(
        stopped.iter().all(|(_, s)| s.connections == 1),
        "each screen kept its one connection"
    );
    drop(console);
    drop(observer);

    // Restarted with a console paired: pairing stays closed until the console opens it.
    let session = serving.stop().await.context("the session back")?;
    let restarted = serve(dir.path(), Some(session))?;
    ensure!(
        restarted.pairing().window().is_none(),
        "closed at start once a console is paired"
    );
    let _ = restarted.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_wrong_codes_in_a_minute_lock_even_with_a_success_between() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let room = start_room(dir.path())?;
    let addr = room.serving.local_addr();
    let right = code()?;
    let wrong = other_than(right)?;
    let started = Instant::now();
    for k in 0..MAX_WRONG_CODES {
        if k == 3 {
            boussole_sim::pair(addr, right, &DeviceId::from("tablette_honnete")).await?;
        }
        let attempt = boussole_sim::pair(addr, wrong, &DeviceId::from("curieux")).await;
        ensure!(
            attempt.as_ref().err().and_then(SimError::refusal) == Some(&Refusal::WrongPairingCode),
            "wrong code {k}: {attempt:?}"
        );
    }
    // Well within the minute: the next attempt is refused, even with the right code, until
    // the first wrong code is a minute old.
    let locked = boussole_sim::pair(addr, right, &DeviceId::from("tablette_suivante"))
        .await
        .err()
        .context("locked")?;
    let elapsed = started.elapsed();
    ensure!(elapsed < Duration::from_secs(50), "took {elapsed:?}");
    match locked.refusal() {
        Some(Refusal::PairingLocked { retry_after_s }) => ensure!(
            (1..=60).contains(retry_after_s) && *retry_after_s >= 60 - elapsed.as_secs() - 1,
            "{retry_after_s} s after {elapsed:?}"
        ),
        other => return Err(anyhow!("expected a lock, got {other:?}")),
    }
    ensure!(room.serving.pairing().locked_for().is_some());
    let _ = room.serving.stop().await;
    Ok(())
}
