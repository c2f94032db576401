//! The console's connection to the director, on its own thread with its own Tokio runtime, so
//! the window never waits on the network: it pairs once (the pairing is kept on disk), connects
//! with the `console` role, reconnects by itself with backoff, keeps a clock sync, sends the
//! facilitator's commands and hands everything the director says to the window as
//! [`LinkEvent`]s.
//!
//! A console holds nothing the director does not: on every (re)connection the director sends the
//! whole session log again, and the window folds it anew ([`crate::view::Replica`]).

use crate::view::LinkState;
use boussole_director::engine::Command;
use boussole_protocol::DeviceId;
use boussole_protocol::clock::{ClockSync, SAMPLE_INTERVAL_MS, Sample};
use boussole_protocol::pairing::{Pairing, PairingCode};
use boussole_protocol::transport::{self, Backoff, Client, ClientError};
use boussole_protocol::wire::{
    ClientMsg, Hello, LogEntry, PROTOCOL_VERSION, PersonalName, Refusal, Role, RoomStatus,
    ServerMsg, Snapshot,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How a console joins the director.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// The director's address (the `serve` command prints it).
    pub director: SocketAddr,
    /// This console's name, its rater id in the log (`console`, `observateur`…).
    pub device: DeviceId,
    /// A second rater's console: it may only code.
    pub observer: bool,
    /// Where the pairing is kept (created on first pairing, mode 0600).
    pub pairing_file: PathBuf,
    /// The code the director shows, to pair when there is no pairing file yet.
    pub pairing_code: Option<PairingCode>,
    /// SHA-256 of the content bundle this console reads (all zeros: unknown); the director says
    /// when it holds other content.
    pub content_hash: [u8; 32],
    /// Reconnection schedule.
    pub backoff: Backoff,
}

/// What the link tells the window, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    /// The connection's state changed.
    State(LinkState),
    /// A (new) connection was welcomed: the log follows from record 1, so the window starts its
    /// copy of the session afresh.
    Welcome {
        /// The director's display name.
        director_name: String,
        /// Whether the director holds the same content as this console.
        content_in_sync: bool,
    },
    /// Records of the session log, in order.
    Log(Vec<LogEntry>),
    /// The room beyond the log.
    Room(RoomStatus),
    /// The session's state (its scenario id above all).
    Snapshot(Snapshot),
    /// A message from the director for the facilitator (a refused command…).
    Notice(String),
    /// The person register (read-write consoles only).
    Register(boussole_director::register::RegisterView),
    /// The director of the day's desk: which session it hosts, today's plan, the sessions to
    /// resume or review (read-write consoles of a director of the day only). It comes before
    /// the snapshot and log of a session newly hosted.
    Desk(boussole_director::desk::DeskView),
    /// The answer to this console's request for a person's synthesis.
    Synthesis(Box<boussole_director::synthesis::SynthesisReply>),
    /// What the director of the day answered a desk request with: a past session followed
    /// for review (and what is appended to its log), the access log, the figures, a purge's
    /// preview.
    DeskAnswer(Box<boussole_director::desk::DeskAnswer>),
    /// The headsets' latest poses (the spectator panel).
    Poses(boussole_protocol::wire::HeadsetPoses),
}

/// Why a command could not be handed to the link.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The command does not encode (never expected).
    #[error("commande impossible à encoder : {0}")]
    Encode(#[from] postcard::Error),
    /// The link's thread has stopped.
    #[error("la liaison avec le directeur est arrêtée")]
    Stopped,
}

/// The running link; dropping it stops the thread.
#[derive(Debug)]
pub struct Link {
    events: std_mpsc::Receiver<LinkEvent>,
    commands: mpsc::UnboundedSender<ClientMsg>,
    clock: std::sync::Arc<std::sync::Mutex<Clock>>,
}

/// The director's clock as this console estimates it.
#[derive(Debug)]
struct Clock {
    epoch: Instant,
    sync: ClockSync,
}

impl Clock {
    fn local_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl Link {
    /// Starts the link's thread; events arrive through [`Link::poll`].
    ///
    /// # Errors
    /// The thread or its runtime could not start.
    pub fn start(config: LinkConfig) -> std::io::Result<Self> {
        let (events_tx, events) = std_mpsc::channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let clock = std::sync::Arc::new(std::sync::Mutex::new(Clock {
            epoch: Instant::now(),
            sync: ClockSync::new(),
        }));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let shared = clock.clone();
        std::thread::Builder::new()
            .name("liaison-directeur".into())
            .spawn(move || runtime.block_on(run(config, events_tx, commands_rx, shared)))?;
        Ok(Self {
            events,
            commands,
            clock,
        })
    }

    /// Every event since the last call, in order.
    pub fn poll(&self) -> Vec<LinkEvent> {
        self.events.try_iter().collect()
    }

    /// Sends `command` to the director. Commands typed while the link is down are dropped,
    /// not queued: a GO sent minutes late would not be what the facilitator meant (the window
    /// greys its controls while offline).
    ///
    /// # Errors
    /// [`SendError`]: it does not encode, or the link's thread has stopped.
    pub fn send(&self, command: &Command) -> Result<(), SendError> {
        let bytes = postcard::to_stdvec(command)?;
        self.commands
            .send(ClientMsg::Command(bytes))
            .map_err(|_| SendError::Stopped)
    }

    /// Asks the director to keep `participant`'s civil name in its protected table (`None`
    /// erases it); the director answers with a notice. Like commands, dropped while offline.
    ///
    /// # Errors
    /// [`SendError::Stopped`].
    pub fn send_name(&self, participant: &str, name: Option<String>) -> Result<(), SendError> {
        self.commands
            .send(ClientMsg::ParticipantName {
                participant: participant.to_owned(),
                name: name.map(PersonalName),
            })
            .map_err(|_| SendError::Stopped)
    }

    /// Sends `commands` to be committed together, in order, in one transaction (an enrolment
    /// and the person who takes the slot).
    ///
    /// # Errors
    /// [`SendError`]: one does not encode, or the link's thread has stopped.
    pub fn send_together(&self, commands: &[Command]) -> Result<(), SendError> {
        let list = commands
            .iter()
            .map(postcard::to_stdvec)
            .collect::<Result<Vec<_>, _>>()?;
        self.commands
            .send(ClientMsg::Commands(list))
            .map_err(|_| SendError::Stopped)
    }

    /// Sends a request on the person register; the director answers with a notice and the
    /// register as it now stands.
    ///
    /// # Errors
    /// [`SendError`]: it does not encode, or the link's thread has stopped.
    pub fn send_register(
        &self,
        request: &boussole_director::register::RegisterRequest,
    ) -> Result<(), SendError> {
        let bytes = postcard::to_stdvec(request)?;
        self.commands
            .send(ClientMsg::Register(bytes))
            .map_err(|_| SendError::Stopped)
    }

    /// Asks the director for a person's synthesis (its document model); it answers this
    /// console only.
    ///
    /// # Errors
    /// As [`Link::send`].
    pub fn send_synthesis(
        &self,
        request: &boussole_director::synthesis::SynthesisAsk,
    ) -> Result<(), SendError> {
        let bytes = postcard::to_stdvec(request)?;
        self.commands
            .send(ClientMsg::Synthesis(bytes))
            .map_err(|_| SendError::Stopped)
    }

    /// A request to the director of the day (host a session, leave it…).
    ///
    /// # Errors
    /// As [`Link::send`].
    pub fn send_desk(
        &self,
        request: &boussole_director::desk::DeskRequest,
    ) -> Result<(), SendError> {
        let bytes = postcard::to_stdvec(request)?;
        self.commands
            .send(ClientMsg::Desk(bytes))
            .map_err(|_| SendError::Stopped)
    }

    /// Asks the director to open pairing for ten minutes with a fresh code (`true`) or to close
    /// it; the next room status shows the window. Like commands, dropped while offline.
    ///
    /// # Errors
    /// [`SendError::Stopped`].
    pub fn send_pairing_window(&self, open: bool) -> Result<(), SendError> {
        self.commands
            .send(ClientMsg::PairingWindow { open })
            .map_err(|_| SendError::Stopped)
    }

    /// The director's session clock now, ms, once a clock sample arrived.
    pub fn director_ms(&self) -> Option<u64> {
        let clock = self.clock.lock().ok()?;
        clock.sync.to_server(clock.local_ms())
    }
}

async fn run(
    config: LinkConfig,
    events: std_mpsc::Sender<LinkEvent>,
    mut commands: mpsc::UnboundedReceiver<ClientMsg>,
    clock: std::sync::Arc<std::sync::Mutex<Clock>>,
) {
    let emit = |e: LinkEvent| events.send(e).is_ok();
    let pairing = match pairing(&config).await {
        Ok(p) => p,
        Err(state) => {
            let _ = emit(LinkEvent::State(state));
            return;
        }
    };
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        device: config.device.clone(),
        role: Role::Console {
            observer: config.observer,
        },
        content_hash: config.content_hash,
        token: Some(pairing.token.clone()),
    };
    loop {
        if !emit(LinkEvent::State(LinkState::Connecting)) {
            return;
        }
        let client = transport::connect_with_backoff(
            config.director,
            &pairing.ca_der,
            &hello,
            &config.backoff,
        )
        .await;
        let reason = match client {
            Ok(client) => match session(client, &emit, &mut commands, &clock).await {
                Ended::WindowGone => return,
                Ended::Lost(reason) => reason,
            },
            Err(e) => {
                if matches!(
                    e.refusal(),
                    Some(Refusal::UnknownDevice | Refusal::BadToken)
                ) {
                    // The director forgot this console: its pairing is worth nothing now, and
                    // the window asks for the code again.
                    let _ = std::fs::remove_file(&config.pairing_file);
                    let _ = emit(LinkEvent::State(LinkState::NeedsCode {
                        refused: Some(lost_reason(&e)),
                    }));
                    return;
                }
                lost_reason(&e)
            }
        };
        if !emit(LinkEvent::State(LinkState::Offline { reason })) {
            return;
        }
        // Commands typed while offline are dropped (see `Link::send`).
        while commands.try_recv().is_ok() {}
        tokio::time::sleep(config.backoff.first).await;
    }
}

/// The saved pairing, or a new one made with the configured code (then saved). Without a
/// saved pairing nor a code, or when the code is refused, the window asks for a code
/// ([`LinkState::NeedsCode`]).
async fn pairing(config: &LinkConfig) -> Result<Pairing, LinkState> {
    match Pairing::load(&config.pairing_file) {
        Ok(Some(p)) => return Ok(p),
        Ok(None) => {}
        Err(e) => {
            return Err(LinkState::Offline {
                reason: format!("appairage illisible : {e}"),
            });
        }
    }
    let Some(code) = config.pairing_code else {
        return Err(LinkState::NeedsCode { refused: None });
    };
    let p = transport::pair(config.director, code, &config.device)
        .await
        .map_err(|e| LinkState::NeedsCode {
            refused: Some(format!("appairage refusé : {e}")),
        })?;
    p.save(&config.pairing_file)
        .map_err(|e| LinkState::Offline {
            reason: format!(
                "appairage réussi mais impossible à enregistrer dans {} : {e}",
                config.pairing_file.display()
            ),
        })?;
    Ok(p)
}

enum Ended {
    WindowGone,
    Lost(String),
}

fn lost_reason(e: &ClientError) -> String {
    match e.refusal() {
        Some(r) => format!("refusé par le directeur : {r}"),
        None => format!("directeur injoignable : {e}"),
    }
}

async fn session(
    mut client: Client,
    emit: &impl Fn(LinkEvent) -> bool,
    commands: &mut mpsc::UnboundedReceiver<ClientMsg>,
    clock: &std::sync::Mutex<Clock>,
) -> Ended {
    let welcome = client.welcome().clone();
    if !emit(LinkEvent::Welcome {
        director_name: welcome.director_name.clone(),
        content_in_sync: welcome.content_in_sync,
    }) || !emit(LinkEvent::State(LinkState::Online))
    {
        client.close().await;
        return Ended::WindowGone;
    }
    if let Ok(mut c) = clock.lock() {
        c.sync.reset();
    }
    // The session the director of the day hosts, as its last desk said.
    let mut hosted: Option<i64> = None;
    let mut ping = tokio::time::interval(Duration::from_millis(SAMPLE_INTERVAL_MS / 4));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = client.recv() => {
                let msg = match msg {
                    Ok(Some(msg)) => msg,
                    Ok(None) => return Ended::Lost("le directeur a fermé la connexion".into()),
                    Err(e) => return Ended::Lost(lost_reason(&e)),
                };
                let event = match msg {
                    ServerMsg::Log(entries) => Some(LinkEvent::Log(entries)),
                    ServerMsg::Room(room) => Some(LinkEvent::Room(room)),
                    ServerMsg::Snapshot(s) => Some(LinkEvent::Snapshot(s)),
                    ServerMsg::Notice(n) => Some(LinkEvent::Notice(n)),
                    ServerMsg::Synthesis(bytes) => match postcard::from_bytes(&bytes) {
                        Ok(reply) => Some(LinkEvent::Synthesis(Box::new(reply))),
                        Err(e) => Some(LinkEvent::Notice(format!("synthèse illisible : {e}"))),
                    },
                    ServerMsg::DeskAnswer(bytes) => match postcard::from_bytes(&bytes) {
                        Ok(answer) => Some(LinkEvent::DeskAnswer(Box::new(answer))),
                        Err(e) => Some(LinkEvent::Notice(format!("réponse de la régie illisible : {e}"))),
                    },
                    ServerMsg::Register(bytes) => match postcard::from_bytes(&bytes) {
                        Ok(view) => Some(LinkEvent::Register(view)),
                        Err(e) => Some(LinkEvent::Notice(format!("registre illisible : {e}"))),
                    },
                    ServerMsg::Desk(bytes) => match postcard::from_bytes::<boussole_director::desk::DeskView>(&bytes) {
                        Ok(view) => {
                            // Another session: the director's clock starts again from it.
                            let live = view.live.as_ref().map(|l| l.id);
                            if live != hosted {
                                hosted = live;
                                if let Ok(mut c) = clock.lock() {
                                    c.sync.reset();
                                }
                            }
                            Some(LinkEvent::Desk(view))
                        }
                        Err(e) => Some(LinkEvent::Notice(format!("accueil illisible : {e}"))),
                    },
                    ServerMsg::Poses(poses) => Some(LinkEvent::Poses(poses)),
                    ServerMsg::Refused(r) => Some(LinkEvent::Notice(r.to_string())),
                    ServerMsg::ClockPong { t0_ms, t1_ms, t2_ms } => {
                        if let Ok(mut c) = clock.lock() {
                            let t3 = c.local_ms();
                            let _ = c.sync.add(Sample { t0: t0_ms, t1: t1_ms, t2: t2_ms, t3 });
                        }
                        None
                    }
                    // Cues, hints and the rest are for the room's devices.
                    _ => None,
                };
                if let Some(event) = event
                    && !emit(event)
                {
                    client.close().await;
                    return Ended::WindowGone;
                }
            }
            command = commands.recv() => {
                let Some(msg) = command else {
                    client.close().await;
                    return Ended::WindowGone;
                };
                if let Err(e) = client.send(msg).await {
                    return Ended::Lost(lost_reason(&e));
                }
            }
            _ = ping.tick() => {
                let t0_ms = clock.lock().map(|c| c.local_ms()).unwrap_or(0);
                if let Err(e) = client.send(ClientMsg::ClockPing { t0_ms }).await {
                    return Ended::Lost(lost_reason(&e));
                }
            }
        }
    }
}
