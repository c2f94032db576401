//! Runs a [`DeviceSession`] over QUIC on a Tokio runtime: performs its [`Action`]s (mDNS
//! browse, pairing, pinned connection with backoff), sends what it transmits, feeds it what
//! arrives and its deadlines, and hands its events to the application ([`DeviceApp`]). The
//! game's link and the simulated devices are both this driver with their own application.
//!
//! The session sits behind a [`Mutex`] the application may also lock (to report an event and
//! get its `seq` at once, read the clock or the counters); the driver never holds it across
//! an `await`. After changing the session from outside, send [`Command::Wake`] so what it
//! queued is sent.

use crate::device_session::{Action, DeviceSession, LinkFailure, SessionEvent};
use crate::discovery;
use crate::pairing::{Pairing, PairingCode};
use crate::transport::{self, Backoff, Client, ClientError};
use crate::wire::{PROTOCOL_VERSION, ServerMsg};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the driver needs besides the session.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Schedule of one round of connection attempts.
    pub backoff: Backoff,
    /// How long each mDNS browse lasts.
    pub discovery_timeout: Duration,
    /// Where a new pairing is saved and a forgotten one deleted (`None`: kept in memory).
    pub pairing_file: Option<PathBuf>,
}

impl DriverConfig {
    /// The default backoff, browses of 3 s, nothing on disk.
    pub fn new() -> Self {
        Self {
            backoff: Backoff::default(),
            discovery_timeout: Duration::from_secs(3),
            pairing_file: None,
        }
    }
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What the application asks of a running driver.
#[derive(Clone, Debug)]
pub enum Command {
    /// The session was changed from outside (an event reported): send what it queued.
    Wake,
    /// The code typed on the device.
    Pair(PairingCode),
    /// Drop the connection and connect again, to this address if given.
    Reconnect(Option<SocketAddr>),
    /// Send this head pose on an unreliable datagram, if online (else it is dropped: the next
    /// one replaces it).
    Pose(crate::wire::Pose),
    /// Say goodbye and stop.
    Stop,
}

/// The application on top of a session: the game's app channel, a simulated player.
pub trait DeviceApp {
    /// An event from the session, in order; the application may report events into it.
    fn on_event(&mut self, session: &mut DeviceSession, event: SessionEvent, now: Instant);

    /// The application's next deadline, if it has one.
    fn deadline(&self) -> Option<Instant> {
        None
    }

    /// The application's deadline passed.
    fn on_deadline(&mut self, _session: &mut DeviceSession, _now: Instant) {}

    /// A round of connection attempts failed with `error`: go on trying (`true`), or stop the
    /// driver with that error.
    fn keep_trying(&mut self, _error: &ClientError) -> bool {
        true
    }

    /// After each step, with the session as it now stands (to publish counters).
    fn after_step(&mut self, _session: &DeviceSession) {}
}

/// A lock that survives a panic in another holder (each section is a short update).
pub fn lock(session: &Mutex<DeviceSession>) -> MutexGuard<'_, DeviceSession> {
    session.lock().unwrap_or_else(PoisonError::into_inner)
}

type Pending<T> = Option<Pin<Box<dyn Future<Output = T> + Send>>>;

/// Awaits the future in `slot`, if any (else never resolves).
async fn pending<T>(slot: &mut Pending<T>) -> T {
    match slot {
        Some(future) => future.as_mut().await,
        None => std::future::pending().await,
    }
}

/// The next message, if connected.
async fn received(link: &mut Option<Client>) -> Result<Option<ServerMsg>, ClientError> {
    match link {
        Some(client) => client.recv().await,
        None => std::future::pending().await,
    }
}

/// Runs `session` until [`Command::Stop`] (or the command channel closes), or until
/// `app.keep_trying` refuses a failed round of connection attempts.
///
/// # Errors
/// The connection error the application chose to stop on.
pub async fn drive<A: DeviceApp>(
    session: Arc<Mutex<DeviceSession>>,
    config: DriverConfig,
    mut commands: mpsc::UnboundedReceiver<Command>,
    app: &mut A,
) -> Result<(), ClientError> {
    let mut driver = Driver {
        session,
        config,
        link: None,
        discovering: None,
        pairing: None,
        connecting: None,
    };
    lock(&driver.session).start(Instant::now());
    loop {
        if driver.step(app).await {
            return Ok(());
        }
        let deadline = {
            let session = lock(&driver.session);
            [session.poll_timeout(), app.deadline()]
                .into_iter()
                .flatten()
                .min()
        };
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            found = pending(&mut driver.discovering) => {
                driver.discovering = None;
                lock(&driver.session).on_discovered(found, Instant::now());
            }
            paired = pending(&mut driver.pairing) => {
                driver.pairing = None;
                let paired = paired.map_err(|e| LinkFailure::from(&e));
                lock(&driver.session).on_paired(paired, Instant::now());
            }
            attempt = pending(&mut driver.connecting) => {
                driver.connecting = None;
                match attempt {
                    Ok(client) => {
                        let welcome = client.welcome().clone();
                        let datagrams = client.datagrams_received();
                        driver.link = Some(client);
                        lock(&driver.session).on_connected(
                            welcome.director_name,
                            welcome.content_in_sync,
                            datagrams,
                            Instant::now(),
                        );
                    }
                    Err(e) => {
                        if !app.keep_trying(&e) {
                            return Err(e);
                        }
                        lock(&driver.session).on_connect_failed(&LinkFailure::from(&e), Instant::now());
                    }
                }
            }
            msg = received(&mut driver.link) => {
                let now = Instant::now();
                match msg {
                    Ok(Some(msg)) => lock(&driver.session).on_message(msg, now),
                    Ok(None) => {
                        driver.link = None;
                        lock(&driver.session).on_connection_lost("la régie a fermé la connexion", now);
                    }
                    Err(e) => {
                        driver.link = None;
                        let why = LinkFailure::from(&e).french();
                        lock(&driver.session).on_connection_lost(&why, now);
                    }
                }
            }
            command = commands.recv() => {
                let now = Instant::now();
                match command {
                    Some(Command::Wake) => {}
                    Some(Command::Pair(code)) => lock(&driver.session).pair_with(code, now),
                    Some(Command::Reconnect(addr)) => lock(&driver.session).reconnect(addr, now),
                    Some(Command::Pose(pose)) => {
                        if let Some(client) = &driver.link
                            && lock(&driver.session).is_online()
                            && let Err(e) = client.send_pose(&pose)
                        {
                            tracing::debug!("pose non envoyée : {e}");
                        }
                    }
                    Some(Command::Stop) | None => {
                        lock(&driver.session).stop();
                        driver.step(app).await;
                        return Ok(());
                    }
                }
            }
            () = sleep => {
                let now = Instant::now();
                let mut session = lock(&driver.session);
                if let Some(client) = &driver.link {
                    session.on_datagrams(client.datagrams_received(), now);
                }
                session.handle_timeout(now);
                if app.deadline().is_some_and(|at| at <= now) {
                    app.on_deadline(&mut session, now);
                }
            }
        }
    }
}

struct Driver {
    session: Arc<Mutex<DeviceSession>>,
    config: DriverConfig,
    link: Option<Client>,
    discovering: Pending<Result<Option<SocketAddr>, String>>,
    pairing: Pending<Result<Pairing, ClientError>>,
    connecting: Pending<Result<Client, ClientError>>,
}

impl Driver {
    /// Hands the session's events to the application, sends what it queued, performs its
    /// actions, until it is quiet. `true` once the session has stopped and said goodbye.
    async fn step<A: DeviceApp>(&mut self, app: &mut A) -> bool {
        loop {
            let (transmits, actions) = {
                let mut session = lock(&self.session);
                let now = Instant::now();
                while let Some(event) = session.poll_event() {
                    app.on_event(&mut session, event, now);
                }
                let transmits: Vec<_> = std::iter::from_fn(|| session.poll_transmit()).collect();
                let actions: Vec<_> = std::iter::from_fn(|| session.poll_action()).collect();
                app.after_step(&session);
                (transmits, actions)
            };
            if transmits.is_empty() && actions.is_empty() {
                return lock(&self.session).is_stopped();
            }
            for msg in transmits {
                let Some(client) = &mut self.link else { break };
                if let Err(e) = client.send(msg).await {
                    self.link = None;
                    let why = LinkFailure::from(&e).french();
                    lock(&self.session).on_connection_lost(&why, Instant::now());
                    break;
                }
            }
            for action in actions {
                self.perform(action).await;
            }
        }
    }

    async fn perform(&mut self, action: Action) {
        match action {
            Action::Discover => {
                let timeout = self.config.discovery_timeout;
                let pinned = lock(&self.session).pinned_ca().map(<[u8]>::to_vec);
                self.discovering = Some(Box::pin(async move {
                    let found = tokio::task::spawn_blocking(move || discovery::browse(timeout))
                        .await
                        .map_err(|e| e.to_string())?;
                    match found {
                        Ok(list) => Ok(discovery::pick(
                            &list,
                            u32::from(PROTOCOL_VERSION),
                            pinned.as_deref(),
                        )),
                        Err(e) => {
                            // Wait as long as a browse would have, so a broken network does
                            // not spin.
                            tokio::time::sleep(timeout).await;
                            Err(e.to_string())
                        }
                    }
                }));
            }
            Action::Pair { addr, code } => {
                let device = lock(&self.session).device().clone();
                self.pairing = Some(Box::pin(async move {
                    transport::pair(addr, code, &device).await
                }));
            }
            Action::Connect {
                addr,
                hello,
                ca_der,
            } => {
                let backoff = self.config.backoff.clone();
                self.connecting = Some(Box::pin(async move {
                    transport::connect_with_backoff(addr, &ca_der, &hello, &backoff).await
                }));
            }
            Action::Disconnect => {
                // A lost connection is dropped (the director is not answering anyway); a
                // stopping device says goodbye.
                if let Some(client) = self.link.take()
                    && lock(&self.session).is_stopped()
                {
                    client.close().await;
                }
            }
            Action::SavePairing(pairing) => {
                if let Some(path) = &self.config.pairing_file
                    && let Err(e) = pairing.save(path)
                {
                    tracing::warn!(
                        "appairage réussi mais non enregistré dans {} : {e}",
                        path.display()
                    );
                }
            }
            Action::ForgetPairing => {
                if let Some(path) = &self.config.pairing_file {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
    }
}
