//! The QUIC transport (quinn on tokio): the director's [`Server`], driven through
//! [`Server::next`] and [`Server::send`], and a device's [`Client`], [`pair`] and
//! [`connect_with_backoff`].
//!
//! Each connection carries one bidirectional control stream of frames ([`crate::wire`]). Its
//! first frame is a [`Hello`] (a session) or a pairing `Start` ([`crate::pairing`]). The
//! director refuses, saying why before it closes: another protocol version, an unknown device or
//! a bad token, a malformed or oversized frame; a refusal ends that connection only. The refusal
//! is also in the QUIC close reason (postcard), so the device learns it even if the last frame is
//! lost. A content mismatch is not refused: the device is welcomed and told to sync.

use crate::event::DeviceId;
use crate::manifest::RoleHashes;
use crate::pairing::{
    self, DeviceHandshake, DeviceRegistry, EXPORTER_LABEL, Pairing, PairingClientStep, PairingCode,
    PairingError, PairingServerStep, PairingState,
};
use crate::tls::{self, DirectorIdentity, SERVER_NAME, TlsError};
use crate::wire::{
    ClientMsg, DeviceToken, FrameError, FrameReader, Hello, OutdatedDevice, PROTOCOL_VERSION, Pose,
    Refusal, Role, ServerMsg, announced_version, decode_body, write_frame,
};
use quinn::crypto::rustls::{NoInitialCipherSuite, QuicClientConfig, QuicServerConfig};
use quinn::{Connection, ConnectionError, Endpoint, RecvStream, SendStream, VarInt};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Interval of QUIC keep-alive packets, so NATs and the idle timeout never close a quiet session.
pub const KEEP_ALIVE: Duration = Duration::from_secs(3);

/// A connection that hears nothing for this long is closed (four lost keep-alives).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(12);

/// The longest wait for each handshake step: the first frame, each pairing step, the Welcome.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// After a refusal or a grant, how long the director waits for the device to close before it
/// closes itself (the device closes as soon as it has read the last frame).
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Messages the director may queue for one connection before it is closed as too slow.
pub const SEND_QUEUE: usize = 1024;

/// Events queued for the director before connection tasks wait for it.
const EVENT_QUEUE: usize = 1024;

/// QUIC application close codes.
const CLOSE_NORMAL: u32 = 0;
const CLOSE_REFUSED: u32 = 1;
const CLOSE_TOO_SLOW: u32 = 2;
const CLOSE_SHUTDOWN: u32 = 3;

/// A lock that survives a panic in another holder (each critical section is one map update).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a server or client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The rustls configuration lacks QUIC's initial cipher suite.
    #[error("quic: {0}")]
    Quic(#[from] NoInitialCipherSuite),
    /// The UDP socket could not be bound.
    #[error("binding the udp socket: {0}")]
    Io(#[from] std::io::Error),
    /// Called outside a Tokio runtime.
    #[error("the transport must run inside a tokio runtime")]
    NoRuntime,
}

/// Why a device's connection, pairing or message failed. When the director refused, the
/// variant is [`ClientError::Refused`] with its reason.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The director refused and said why.
    #[error("refused by the director: {0}")]
    Refused(Refusal),
    /// The TLS handshake failed: the director's certificate does not chain to the pinned CA, or
    /// the two ends share no protocol. Retrying will not help; pairing again might.
    #[error("tls handshake failed: {0}")]
    Handshake(String),
    /// The endpoint or its configuration could not be set up.
    #[error(transparent)]
    Setup(#[from] TransportError),
    /// The connection could not be started (bad address).
    #[error("connecting: {0}")]
    Connect(#[from] quinn::ConnectError),
    /// The connection was lost or closed.
    #[error("connection: {0}")]
    Connection(ConnectionError),
    /// A frame could not be written or read.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Pairing failed on this side (wrong confirmation, certificate not from the CA given).
    #[error("pairing: {0}")]
    Pairing(#[from] PairingError),
    /// The director sent something out of place.
    #[error("unexpected message from the director: {0}")]
    Unexpected(String),
    /// A handshake step took longer than [`STEP_TIMEOUT`] (or the backoff's connect timeout).
    #[error("timed out {0}")]
    Timeout(&'static str),
    /// The director ended the control stream.
    #[error("the director closed the connection")]
    Closed,
}

impl ClientError {
    /// The director's refusal, if this is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: network trouble yes; a refusal, a certificate
    /// that does not chain, or a setup error no.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::Refused(_) | Self::Handshake(_) | Self::Setup(_) | Self::Pairing(_)
        )
    }
}

/// Later packets acknowledged before an unacknowledged one counts as lost (RFC 9002 says 3:
/// a link whose delay varies by tens of milliseconds lets dozens overtake).
pub const REORDER_PACKETS: u32 = 64;

/// How many RTTs after a later packet was acknowledged an unacknowledged one counts as lost
/// (RFC 9002 says 9/8).
pub const REORDER_RTTS: f32 = 3.0;

/// The QUIC transport settings both ends use: keep-alive every [`KEEP_ALIVE`], idle timeout
/// [`IDLE_TIMEOUT`]; no unidirectional streams, and one bidirectional stream (the control
/// stream) that the device opens. Loss detection tolerates reordering ([`REORDER_PACKETS`],
/// [`REORDER_RTTS`]): through a link of 5–35 ms each way (uniform, so packets overtake each
/// other) RFC 9002's defaults read reordering as loss and kept a 9 MB content sync at 160 KB/s
/// without any loss; with these, 950 KB/s (BENCHMARKS.md, "Content by file"). The cost: a real
/// loss is repaired up to 3 RTT after a later packet was acknowledged instead of about 1.
pub fn transport_config() -> quinn::TransportConfig {
    let mut config = quinn::TransportConfig::default();
    config
        .packet_threshold(REORDER_PACKETS)
        .time_threshold(REORDER_RTTS)
        .keep_alive_interval(Some(KEEP_ALIVE))
        .max_idle_timeout(Some(quinn::IdleTimeout::from(VarInt::from_u32(
            IDLE_TIMEOUT.as_millis() as u32,
        ))))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .max_concurrent_bidi_streams(VarInt::from_u32(1));
    config
}

/// A quinn client configuration from a rustls one (e.g. [`tls::client_config_pinned`]) with
/// [`transport_config`].
///
/// # Errors
/// [`TransportError::Quic`] if the rustls configuration lacks TLS 1.3's AES-128-GCM suite.
pub fn quic_client_config(
    tls: rustls::ClientConfig,
) -> Result<quinn::ClientConfig, TransportError> {
    let mut config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls)?));
    let mut transport = transport_config();
    // The director sends the content: BBR paces by the measured bandwidth instead of halving
    // its window at every loss, which random loss (Wi-Fi) would otherwise keep doing.
    transport.congestion_controller_factory(Arc::new(quinn::congestion::BbrConfig::default()));
    config.transport_config(Arc::new(transport));
    Ok(config)
}

fn quic_server_config(identity: &DirectorIdentity) -> Result<quinn::ServerConfig, TransportError> {
    let tls = identity.server_config()?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(QuicServerConfig::try_from(tls)?));
    config.transport_config(Arc::new(transport_config()));
    Ok(config)
}

/// A client endpoint on an ephemeral port of the same address family as `server`.
fn client_endpoint(server: SocketAddr) -> Result<Endpoint, TransportError> {
    let local: SocketAddr = if server.is_ipv6() {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    };
    tokio::runtime::Handle::try_current().map_err(|_| TransportError::NoRuntime)?;
    Ok(Endpoint::client(local)?)
}

/// Milliseconds since `base`, saturating.
fn millis_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The close reason carrying a refusal: its postcard encoding, or a generic one if too long for
/// a close frame.
fn close_reason(refusal: &Refusal) -> Vec<u8> {
    match postcard::to_stdvec(refusal) {
        Ok(bytes) if bytes.len() <= 512 => bytes,
        _ => postcard::to_stdvec(&Refusal::Malformed("…".into())).unwrap_or_default(),
    }
}

/// The refusal in a connection's close reason, if the director closed it with one.
fn refusal_in(error: &ConnectionError) -> Option<Refusal> {
    match error {
        ConnectionError::ApplicationClosed(close)
            if close.error_code == VarInt::from_u32(CLOSE_REFUSED) =>
        {
            postcard::from_bytes(&close.reason).ok()
        }
        _ => None,
    }
}

/// Whether a QUIC error code is a TLS alert (RFC 9001 §4.8: 0x100 + alert).
fn is_tls_alert(code: quinn::TransportErrorCode) -> bool {
    (0x100..0x200).contains(&u64::from(code))
}

/// A device-side error for a connection that closed: the director's refusal when it sent one,
/// a handshake error for TLS alerts, else the QUIC error.
fn client_connection_error(error: ConnectionError) -> ClientError {
    if let Some(refusal) = refusal_in(&error) {
        return ClientError::Refused(refusal);
    }
    match &error {
        ConnectionError::TransportError(e) if is_tls_alert(e.code) => {
            ClientError::Handshake(e.to_string())
        }
        ConnectionError::ConnectionClosed(close) if is_tls_alert(close.error_code) => {
            ClientError::Handshake(close.to_string())
        }
        _ => ClientError::Connection(error),
    }
}

/// A device-side error for a failed frame read or write: if the connection is closed, why.
fn client_frame_error(conn: &Connection, error: FrameError) -> ClientError {
    match (&error, conn.close_reason()) {
        (FrameError::Io(_) | FrameError::Truncated { .. }, Some(closed)) => {
            client_connection_error(closed)
        }
        _ => ClientError::Frame(error),
    }
}

/// A connection of the server, numbered from 1 in order of arrival; `Display` gives `#n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What the server reports to the director.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    /// A paired device was welcomed. Its `hello.token` is removed (the transport checked it).
    /// The director compares `hello.content_hash` with its own to start a sync.
    Connected {
        /// The connection, for [`Server::send`].
        conn: ConnId,
        /// What the device said.
        hello: Hello,
        /// Its address.
        addr: SocketAddr,
    },
    /// A message from a welcomed device (never `Hello`, `ClockPing`, `Bye` or pairing: the
    /// transport handles those).
    Message {
        /// The connection.
        conn: ConnId,
        /// The message.
        msg: ClientMsg,
    },
    /// A welcomed device's connection ended.
    Disconnected {
        /// The connection.
        conn: ConnId,
        /// Why: `"bye"`, the refusal sent, or the network error.
        reason: String,
    },
    /// A device completed pairing; its token is in the [`DeviceRegistry`].
    Paired {
        /// The device.
        device: DeviceId,
    },
    /// A headset's pose arrived (unreliable datagram; the latest wins).
    Pose {
        /// The connection.
        conn: ConnId,
        /// The pose.
        pose: Pose,
    },
    /// A connection was refused before it was welcomed (pairing failures included); the device
    /// was told the same reason.
    Refused {
        /// Where it came from.
        addr: SocketAddr,
        /// The device, if it said who it was.
        device: Option<DeviceId>,
        /// Why.
        refusal: Refusal,
    },
}

/// Why [`Server::send`] could not queue a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No such connection (it ended, or was never welcomed).
    #[error("connection {0} is closed")]
    Closed(ConnId),
    /// The device has not read the last [`SEND_QUEUE`] messages: the connection is closed so it
    /// reconnects and resyncs from a snapshot.
    #[error("connection {0} is too slow to read; closing it")]
    TooSlow(ConnId),
}

/// What the writer task of a connection sends.
enum Outbound {
    Msg(ServerMsg),
    /// A pong, whose `t2_ms` is read when it is written.
    Pong {
        t0_ms: u64,
        t1_ms: u64,
    },
    /// Send the refusal, then close.
    Refuse(Refusal),
    /// Finish the stream and close normally.
    Close,
}

/// What the director's side of a welcomed connection holds.
struct ConnHandle {
    tx: mpsc::Sender<Outbound>,
    conn: Connection,
    /// Why the connection is ending, set once by whoever ends it.
    reason: Arc<OnceLock<String>>,
}

struct Shared {
    registry: Arc<dyn DeviceRegistry>,
    pairing: PairingState,
    ca_der: Vec<u8>,
    director_name: String,
    content_hash: Mutex<RoleHashes>,
    session: Mutex<Option<String>>,
    clock_base: Mutex<Instant>,
    conns: Mutex<HashMap<ConnId, ConnHandle>>,
    next_conn: AtomicU64,
    /// Devices refused for their protocol version, until they come back with ours.
    outdated: Mutex<BTreeMap<DeviceId, OutdatedDevice>>,
}

impl Shared {
    fn clock_ms(&self) -> u64 {
        millis_since(*lock(&self.clock_base))
    }

    fn note_outdated(&self, device: &DeviceId, version: u16, addr: SocketAddr) {
        lock(&self.outdated).insert(
            device.clone(),
            OutdatedDevice {
                device: device.clone(),
                version,
                addr: addr.to_string(),
            },
        );
    }
}

/// The director's QUIC server. Dropping it closes every connection.
pub struct Server {
    endpoint: Endpoint,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    events: mpsc::Receiver<ServerEvent>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Listens on `addr` (`0.0.0.0:0` picks a port: see [`Server::local_addr`]). The session
    /// clock of `Welcome` and `ClockPong` counts from now.
    ///
    /// `content_hash` is the manifest hash consoles are told of (devices' per role come with
    /// [`Server::set_content_hashes`]); `director_name` is shown on
    /// devices.
    ///
    /// # Errors
    /// [`TransportError`] if the TLS identity is unusable, the port is taken, or there is no
    /// Tokio runtime.
    pub fn bind(
        addr: SocketAddr,
        identity: &DirectorIdentity,
        registry: Arc<dyn DeviceRegistry>,
        pairing: PairingState,
        content_hash: [u8; 32],
        director_name: impl Into<String>,
    ) -> Result<Self, TransportError> {
        Self::bind_with_clock(
            addr,
            identity,
            registry,
            pairing,
            content_hash,
            director_name,
            Instant::now(),
        )
    }

    /// [`Server::bind`] with the session clock counting from `clock_base` (the director's
    /// session start, so devices and the log share one clock).
    ///
    /// # Errors
    /// As [`Server::bind`].
    pub fn bind_with_clock(
        addr: SocketAddr,
        identity: &DirectorIdentity,
        registry: Arc<dyn DeviceRegistry>,
        pairing: PairingState,
        content_hash: [u8; 32],
        director_name: impl Into<String>,
        clock_base: Instant,
    ) -> Result<Self, TransportError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| TransportError::NoRuntime)?;
        let endpoint = Endpoint::server(quic_server_config(identity)?, addr)?;
        let local_addr = endpoint.local_addr()?;
        let shared = Arc::new(Shared {
            registry,
            pairing,
            ca_der: identity.ca_der().to_vec(),
            director_name: director_name.into(),
            content_hash: Mutex::new(RoleHashes::uniform(content_hash)),
            session: Mutex::new(None),
            clock_base: Mutex::new(clock_base),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            outdated: Mutex::new(BTreeMap::new()),
        });
        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        runtime.spawn(accept_loop(endpoint.clone(), shared.clone(), events_tx));
        Ok(Self {
            endpoint,
            local_addr,
            shared,
            events,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next event. `None` once the server is closed and every connection has ended.
    /// Cancel-safe.
    pub async fn next(&mut self) -> Option<ServerEvent> {
        self.events.recv().await
    }

    /// The next event if one is already waiting, without waiting: to take several at once
    /// (the director commits consecutive device events in one transaction).
    pub fn try_next(&mut self) -> Option<ServerEvent> {
        self.events.try_recv().ok()
    }

    /// Queues `msg` for `conn` without waiting.
    ///
    /// # Errors
    /// [`SendError::Closed`] if the connection is gone; [`SendError::TooSlow`] if its queue is
    /// full, in which case the connection is closed (the device will reconnect and resync).
    pub fn send(&self, conn: ConnId, msg: ServerMsg) -> Result<(), SendError> {
        let conns = lock(&self.shared.conns);
        let handle = conns.get(&conn).ok_or(SendError::Closed(conn))?;
        match handle.tx.try_send(Outbound::Msg(msg)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SendError::Closed(conn)),
            Err(mpsc::error::TrySendError::Full(_)) => {
                let why = SendError::TooSlow(conn).to_string();
                let _ = handle.reason.set(why.clone());
                handle
                    .conn
                    .close(VarInt::from_u32(CLOSE_TOO_SLOW), why.as_bytes());
                Err(SendError::TooSlow(conn))
            }
        }
    }

    /// Sends `refusal` to `conn` after what is already queued, then closes it (e.g. a device
    /// that was unpaired).
    ///
    /// # Errors
    /// As [`Server::send`].
    pub fn refuse(&self, conn: ConnId, refusal: Refusal) -> Result<(), SendError> {
        let conns = lock(&self.shared.conns);
        let handle = conns.get(&conn).ok_or(SendError::Closed(conn))?;
        handle
            .tx
            .try_send(Outbound::Refuse(refusal))
            .map_err(|_| SendError::Closed(conn))
    }

    /// Welcomed connections now.
    pub fn connections(&self) -> Vec<ConnId> {
        let mut ids: Vec<_> = lock(&self.shared.conns).keys().copied().collect();
        ids.sort();
        ids
    }

    /// QUIC's smoothed round-trip estimate for `conn`, or `None` when it is gone.
    pub fn rtt(&self, conn: ConnId) -> Option<Duration> {
        lock(&self.shared.conns).get(&conn).map(|h| h.conn.rtt())
    }

    /// The director's pairing state: open or close the window, read its code and how long it
    /// stays open or locked.
    pub fn pairing(&self) -> &PairingState {
        &self.shared.pairing
    }

    /// Devices refused since the start for speaking another protocol version, that have not
    /// come back with this one (for the consoles' room status), by device name.
    pub fn outdated_devices(&self) -> Vec<OutdatedDevice> {
        lock(&self.shared.outdated).values().cloned().collect()
    }

    /// The session clock, milliseconds since the clock base.
    pub fn clock_ms(&self) -> u64 {
        self.shared.clock_ms()
    }

    /// Moves session time 0 to `clock_base` (the director of the day hosts another session):
    /// later clock pongs count from it; devices see a jump and resynchronise.
    pub fn set_clock_base(&self, clock_base: Instant) {
        *lock(&self.shared.clock_base) = clock_base;
    }

    /// The session a `Welcome` names (the director of the day changes it with each session).
    pub fn set_session(&self, session: Option<String>) {
        *lock(&self.shared.session) = session;
    }

    /// The content hash later `Hello`s are compared with, the same for every role.
    pub fn set_content_hash(&self, hash: [u8; 32]) {
        *lock(&self.shared.content_hash) = RoleHashes::uniform(hash);
    }

    /// The manifest hash later `Hello`s are compared with, per role
    /// ([`crate::manifest::Catalog::hashes`]).
    pub fn set_content_hashes(&self, hashes: RoleHashes) {
        *lock(&self.shared.content_hash) = hashes;
    }

    /// Messages queued for `conn` and not yet written to its stream (at most [`SEND_QUEUE`];
    /// `None` once it is closed). The director bounds what it reads from disk for one
    /// connection with it.
    pub fn queued(&self, conn: ConnId) -> Option<usize> {
        let conns = lock(&self.shared.conns);
        let handle = conns.get(&conn)?;
        Some(handle.tx.max_capacity() - handle.tx.capacity())
    }

    /// Closes every connection and stops listening; [`Server::next`] then drains and ends.
    pub fn close(&self) {
        self.endpoint
            .close(VarInt::from_u32(CLOSE_SHUTDOWN), b"director stopping");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close();
    }
}

async fn accept_loop(endpoint: Endpoint, shared: Arc<Shared>, events: mpsc::Sender<ServerEvent>) {
    while let Some(incoming) = endpoint.accept().await {
        let shared = shared.clone();
        let events = events.clone();
        tokio::spawn(async move {
            let addr = incoming.remote_address();
            match incoming.await {
                Ok(conn) => serve_connection(conn, addr, shared, events).await,
                Err(e) => tracing::debug!(%addr, "handshake failed: {e}"),
            }
        });
    }
}

/// Sends `refusal` as the last frame, waits (bounded) for the device to close, then closes with
/// the refusal in the close reason.
async fn refuse_and_close(conn: &Connection, send: &mut SendStream, refusal: &Refusal) {
    let _ = timeout(
        CLOSE_GRACE,
        write_frame(send, &ServerMsg::Refused(refusal.clone())),
    )
    .await;
    let _ = send.finish();
    let _ = timeout(CLOSE_GRACE, conn.closed()).await;
    conn.close(VarInt::from_u32(CLOSE_REFUSED), &close_reason(refusal));
}

/// Handles a connection from its first frame to its end.
async fn serve_connection(
    conn: Connection,
    addr: SocketAddr,
    shared: Arc<Shared>,
    events: mpsc::Sender<ServerEvent>,
) {
    let Ok(Ok((mut send, mut recv))) = timeout(STEP_TIMEOUT, conn.accept_bi()).await else {
        conn.close(VarInt::from_u32(CLOSE_NORMAL), b"no control stream");
        return;
    };
    let mut reader = FrameReader::default();
    let first = match timeout(STEP_TIMEOUT, reader.read_body(&mut recv)).await {
        Err(_) => Err(Refusal::Malformed(format!(
            "no first frame within {} s",
            STEP_TIMEOUT.as_secs()
        ))),
        Ok(Ok(None)) => return,
        Ok(Err(e)) => match e.refusal() {
            Some(refusal) => Err(refusal),
            None => return,
        },
        Ok(Ok(Some(body))) => match decode_body::<ClientMsg>(&body) {
            Ok(msg) => Ok(msg),
            // A device of another version whose first frame this build cannot decode: refused
            // by name, so the console can say which device to update.
            Err(e) => match announced_version(&body) {
                Some((theirs, device)) if theirs != PROTOCOL_VERSION => {
                    let link = Link {
                        conn,
                        send,
                        recv,
                        reader,
                        addr,
                    };
                    shared.note_outdated(&device, theirs, addr);
                    let refusal = Refusal::VersionMismatch {
                        ours: PROTOCOL_VERSION,
                        theirs,
                    };
                    return link.refuse(Some(device), refusal, &events).await;
                }
                _ => Err(e
                    .refusal()
                    .unwrap_or_else(|| Refusal::Malformed(e.to_string()))),
            },
        },
    };
    let refusal = match first {
        Err(refusal) => refusal,
        Ok(ClientMsg::Hello(hello)) => {
            let link = Link {
                conn,
                send,
                recv,
                reader,
                addr,
            };
            return serve_session(link, hello, shared, events).await;
        }
        Ok(ClientMsg::Pairing(PairingClientStep::Start {
            protocol_version,
            device,
            spake,
        })) => {
            let link = Link {
                conn,
                send,
                recv,
                reader,
                addr,
            };
            return serve_pairing(link, protocol_version, device, spake, shared, events).await;
        }
        Ok(msg) => Refusal::Malformed(format!(
            "the first frame must be a Hello or a pairing request, not {}",
            msg_kind(&msg)
        )),
    };
    refuse_and_close(&conn, &mut send, &refusal).await;
    let _ = events
        .send(ServerEvent::Refused {
            addr,
            device: None,
            refusal,
        })
        .await;
}

/// A connection with its control stream, before it is welcomed.
struct Link {
    conn: Connection,
    send: SendStream,
    recv: RecvStream,
    reader: FrameReader,
    addr: SocketAddr,
}

impl Link {
    /// Refuses, closes, and reports the refusal to the director.
    async fn refuse(
        mut self,
        device: Option<DeviceId>,
        refusal: Refusal,
        events: &mpsc::Sender<ServerEvent>,
    ) {
        refuse_and_close(&self.conn, &mut self.send, &refusal).await;
        let _ = events
            .send(ServerEvent::Refused {
                addr: self.addr,
                device,
                refusal,
            })
            .await;
    }
}

/// Runs `f` on the blocking pool (registries may be databases).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

async fn serve_session(
    link: Link,
    mut hello: Hello,
    shared: Arc<Shared>,
    events: mpsc::Sender<ServerEvent>,
) {
    let device = hello.device.clone();
    if hello.protocol_version != PROTOCOL_VERSION {
        shared.note_outdated(&device, hello.protocol_version, link.addr);
        let refusal = Refusal::VersionMismatch {
            ours: PROTOCOL_VERSION,
            theirs: hello.protocol_version,
        };
        return link.refuse(Some(device), refusal, &events).await;
    }
    lock(&shared.outdated).remove(&device);
    let verdict = {
        let registry = shared.registry.clone();
        let device = device.clone();
        let token = hello.token.take();
        blocking(move || match token {
            Some(token) if registry.check(&device, &token) => None,
            _ if registry.knows(&device) => Some(Refusal::BadToken),
            _ => Some(Refusal::UnknownDevice),
        })
        .await
        .unwrap_or(Some(Refusal::BadToken))
    };
    if let Some(refusal) = verdict {
        return link.refuse(Some(device), refusal, &events).await;
    }

    let Link {
        conn,
        send,
        mut recv,
        mut reader,
        addr,
    } = link;
    let id = ConnId(shared.next_conn.fetch_add(1, Ordering::Relaxed));
    let (tx, rx) = mpsc::channel(SEND_QUEUE);
    let reason = Arc::new(OnceLock::new());
    // The queue is empty: these two cannot fail.
    // A device without a role holds no content: nothing to compare until it has one.
    if hello.role != Role::Unassigned
        && hello.content_hash != lock(&shared.content_hash).for_role(hello.role)
    {
        let _ = tx.try_send(Outbound::Msg(ServerMsg::Refused(Refusal::ContentMismatch)));
    }
    let _ = tx.try_send(Outbound::Msg(ServerMsg::Welcome {
        director_name: shared.director_name.clone(),
        session: lock(&shared.session).clone(),
        clock_ms: shared.clock_ms(),
    }));
    lock(&shared.conns).insert(
        id,
        ConnHandle {
            tx: tx.clone(),
            conn: conn.clone(),
            reason: reason.clone(),
        },
    );
    // Poses come on unreliable datagrams; when the director is busy they are dropped, not queued.
    let datagrams = {
        let conn = conn.clone();
        let events = events.clone();
        tokio::spawn(async move {
            while let Ok(bytes) = conn.read_datagram().await {
                if let Some(pose) = Pose::from_datagram(&bytes) {
                    let _ = events.try_send(ServerEvent::Pose { conn: id, pose });
                }
            }
        })
    };
    let writer = tokio::spawn(write_loop(
        conn.clone(),
        send,
        rx,
        shared.clone(),
        reason.clone(),
    ));
    let _ = events
        .send(ServerEvent::Connected {
            conn: id,
            hello,
            addr,
        })
        .await;

    let last = loop {
        match reader.read::<_, ClientMsg>(&mut recv).await {
            Ok(Some(ClientMsg::ClockPing { t0_ms })) => {
                let t1_ms = shared.clock_ms();
                if tx.send(Outbound::Pong { t0_ms, t1_ms }).await.is_err() {
                    break Outbound::Close;
                }
            }
            Ok(Some(ClientMsg::Bye)) => {
                let _ = reason.set("bye".into());
                break Outbound::Close;
            }
            Ok(Some(ClientMsg::Hello(_) | ClientMsg::Pairing(_))) => {
                break Outbound::Refuse(Refusal::Malformed(
                    "Hello or pairing inside a session".into(),
                ));
            }
            Ok(Some(msg)) => {
                let _ = events.send(ServerEvent::Message { conn: id, msg }).await;
            }
            Ok(None) => {
                let _ = reason.set("the device closed its stream".into());
                break Outbound::Close;
            }
            Err(e) => match e.refusal() {
                Some(refusal) => break Outbound::Refuse(refusal),
                None => {
                    let why = conn
                        .close_reason()
                        .map_or_else(|| e.to_string(), |c| c.to_string());
                    let _ = reason.set(why);
                    break Outbound::Close;
                }
            },
        }
    };
    lock(&shared.conns).remove(&id);
    if let Outbound::Refuse(refusal) = &last {
        let _ = reason.set(refusal.to_string());
    }
    let _ = tx.send(last).await;
    drop(tx);
    let _ = writer.await;
    datagrams.abort();
    let reason = reason.get().cloned().unwrap_or_else(|| "closed".to_owned());
    let _ = events
        .send(ServerEvent::Disconnected { conn: id, reason })
        .await;
}

/// Writes what the director queued for one connection, in order.
async fn write_loop(
    conn: Connection,
    mut send: SendStream,
    mut rx: mpsc::Receiver<Outbound>,
    shared: Arc<Shared>,
    reason: Arc<OnceLock<String>>,
) {
    while let Some(out) = rx.recv().await {
        let msg = match out {
            Outbound::Msg(msg) => msg,
            Outbound::Pong { t0_ms, t1_ms } => ServerMsg::ClockPong {
                t0_ms,
                t1_ms,
                t2_ms: shared.clock_ms(),
            },
            Outbound::Refuse(refusal) => {
                let _ = reason.set(refusal.to_string());
                refuse_and_close(&conn, &mut send, &refusal).await;
                return;
            }
            Outbound::Close => break,
        };
        match write_frame(&mut send, &msg).await {
            Ok(()) => {}
            Err(FrameError::Io(e)) => {
                let _ = reason.set(format!("writing: {e}"));
                conn.close(VarInt::from_u32(CLOSE_NORMAL), b"write failed");
                return;
            }
            // The director's message cannot be encoded (too large): drop it, keep the session.
            Err(e) => tracing::error!("message to a device dropped: {e}"),
        }
    }
    let _ = send.finish();
    let _ = timeout(CLOSE_GRACE, conn.closed()).await;
    conn.close(VarInt::from_u32(CLOSE_NORMAL), b"bye");
}

/// A message's variant name, for refusals (never its content: it may hold a token).
fn msg_kind(msg: &ClientMsg) -> &'static str {
    match msg {
        ClientMsg::Hello(_) => "Hello",
        ClientMsg::Event { .. } => "Event",
        ClientMsg::ClockPing { .. } => "ClockPing",
        ClientMsg::ContentRequest { .. } => "ContentRequest",
        ClientMsg::Command(_) => "Command",
        ClientMsg::Bye => "Bye",
        ClientMsg::ParticipantName { .. } => "ParticipantName",
        ClientMsg::Commands(_) => "Commands",
        ClientMsg::Register(_) => "Register",
        ClientMsg::PairingWindow { .. } => "PairingWindow",
        ClientMsg::ManifestRequest => "ManifestRequest",
        ClientMsg::FileRequest { .. } => "FileRequest",
        ClientMsg::Desk(_) => "Desk",
        ClientMsg::Synthesis(_) => "Synthesis",
        ClientMsg::Pairing(PairingClientStep::Start { .. }) => "pairing Start",
        ClientMsg::Pairing(PairingClientStep::Confirm { .. }) => "pairing Confirm",
    }
}

fn exporter(conn: &Connection) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    conn.export_keying_material(&mut out, EXPORTER_LABEL, crate::wire::ALPN)
        .ok()?;
    Some(out)
}

async fn serve_pairing(
    mut link: Link,
    protocol_version: u16,
    device: DeviceId,
    device_spake: Vec<u8>,
    shared: Arc<Shared>,
    events: mpsc::Sender<ServerEvent>,
) {
    if protocol_version != PROTOCOL_VERSION {
        let refusal = Refusal::VersionMismatch {
            ours: PROTOCOL_VERSION,
            theirs: protocol_version,
        };
        return link.refuse(Some(device), refusal, &events).await;
    }
    let mut attempt = match shared.pairing.begin() {
        Ok(attempt) => attempt,
        Err(refusal) => return link.refuse(Some(device), refusal, &events).await,
    };
    let Some(exporter) = exporter(&link.conn) else {
        return link
            .refuse(
                Some(device),
                Refusal::Malformed("no tls exporter".into()),
                &events,
            )
            .await;
    };
    let reply = pairing::director_respond(attempt.code(), &device, &device_spake, &exporter)
        .and_then(|(key, spake)| Ok((key.server_confirm()?, key, spake)));
    let (key, reply) = match reply {
        Ok((confirm, key, spake)) => (key, PairingServerStep::Reply { spake, confirm }),
        Err(e) => {
            drop(attempt);
            return link
                .refuse(Some(device), Refusal::Malformed(e.to_string()), &events)
                .await;
        }
    };
    // The reply lets the device check its guess: it goes out only within the budget of
    // guesses (a short wait while other devices confirm theirs).
    if let Err(refusal) = attempt.reply_slot(STEP_TIMEOUT).await {
        drop(attempt);
        return link.refuse(Some(device), refusal, &events).await;
    }
    if write_frame(&mut link.send, &ServerMsg::Pairing(reply))
        .await
        .is_err()
    {
        return;
    }
    let confirm = match timeout(
        STEP_TIMEOUT,
        link.reader.read::<_, ClientMsg>(&mut link.recv),
    )
    .await
    {
        Ok(Ok(Some(ClientMsg::Pairing(PairingClientStep::Confirm { confirm })))) => confirm,
        // The device left after seeing our confirmation: it may have checked its guess, so the
        // attempt counts as a wrong code (dropped after a reply).
        Ok(Ok(None)) | Ok(Err(FrameError::Io(_) | FrameError::Truncated { .. })) => return,
        other => {
            attempt.wrong_code();
            let refusal = match other {
                Ok(Err(e)) => e.refusal(),
                Ok(Ok(Some(msg))) => Some(Refusal::Malformed(format!(
                    "expected a pairing confirmation, got {}",
                    msg_kind(&msg)
                ))),
                _ => None,
            }
            .unwrap_or(Refusal::WrongPairingCode);
            return link.refuse(Some(device), refusal, &events).await;
        }
    };
    let confirmed = key
        .client_confirm()
        .is_ok_and(|expected| pairing::mac_ok(&expected, &confirm));
    if !confirmed {
        // Record the wrong code before the device hears of it, so its next attempt sees it.
        attempt.wrong_code();
        return link
            .refuse(Some(device), Refusal::WrongPairingCode, &events)
            .await;
    }
    attempt.succeed();

    let token = DeviceToken::random();
    let registered = {
        let registry = shared.registry.clone();
        let device = device.clone();
        let token = token.clone();
        blocking(move || registry.register(&device, &token)).await
    };
    match registered {
        Some(Ok(())) => {}
        Some(Err(e)) => {
            tracing::error!(%device, "pairing: {e}");
            link.conn
                .close(VarInt::from_u32(CLOSE_NORMAL), b"device registry failed");
            return;
        }
        None => {
            link.conn
                .close(VarInt::from_u32(CLOSE_NORMAL), b"device registry failed");
            return;
        }
    }
    let Ok(mac) = key.grant_mac(&shared.ca_der, &token) else {
        return;
    };
    let grant = PairingServerStep::Grant {
        ca_der: shared.ca_der.clone(),
        token,
        mac,
    };
    if write_frame(&mut link.send, &ServerMsg::Pairing(grant))
        .await
        .is_ok()
    {
        let _ = events
            .send(ServerEvent::Paired {
                device: device.clone(),
            })
            .await;
    }
    let _ = link.send.finish();
    let _ = timeout(CLOSE_GRACE, link.conn.closed()).await;
    link.conn.close(VarInt::from_u32(CLOSE_NORMAL), b"paired");
}

/// Closes a device's connection and gives the endpoint a moment to send the close.
async fn shut(endpoint: &Endpoint, conn: &Connection, why: &[u8]) {
    conn.close(VarInt::from_u32(CLOSE_NORMAL), why);
    let _ = timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
}

/// Runs one handshake step of a device, bounded by [`STEP_TIMEOUT`].
async fn step<T>(
    what: &'static str,
    fut: impl Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    timeout(STEP_TIMEOUT, fut)
        .await
        .map_err(|_| ClientError::Timeout(what))?
}

/// Opens a connection and its control stream.
async fn open(
    addr: SocketAddr,
    tls: rustls::ClientConfig,
) -> Result<(Endpoint, Connection, SendStream, RecvStream), ClientError> {
    let endpoint = client_endpoint(addr)?;
    let config = quic_client_config(tls)?;
    let conn = step("connecting", async {
        endpoint
            .connect_with(config, addr, SERVER_NAME)?
            .await
            .map_err(client_connection_error)
    })
    .await?;
    let (send, recv) = conn.open_bi().await.map_err(client_connection_error)?;
    Ok((endpoint, conn, send, recv))
}

/// Reads the next frame of a device's control stream; a refusal becomes
/// [`ClientError::Refused`] (except [`Refusal::ContentMismatch`], which is returned as a
/// message) and the connection is closed; the end of the stream is `Ok(None)`.
async fn next_server_msg(
    conn: &Connection,
    reader: &mut FrameReader,
    recv: &mut RecvStream,
) -> Result<Option<ServerMsg>, ClientError> {
    match reader.read::<_, ServerMsg>(recv).await {
        Ok(Some(ServerMsg::Refused(refusal))) if refusal != Refusal::ContentMismatch => {
            conn.close(VarInt::from_u32(CLOSE_NORMAL), b"refused");
            Err(ClientError::Refused(refusal))
        }
        Ok(msg) => Ok(msg),
        Err(e) => Err(client_frame_error(conn, e)),
    }
}

/// Pairs this device with the director at `addr` using the code shown there: returns the CA to
/// pin and the device's token, to store.
///
/// # Errors
/// [`ClientError::Refused`] with [`Refusal::WrongPairingCode`] (on both sides),
/// [`Refusal::PairingClosed`], [`Refusal::PairingLocked`], [`Refusal::PairingBusy`] or
/// [`Refusal::VersionMismatch`]; [`ClientError::Pairing`] if the
/// director's certificate does not chain to the CA it sent; network errors and timeouts.
pub async fn pair(
    addr: SocketAddr,
    code: PairingCode,
    device: &DeviceId,
) -> Result<Pairing, ClientError> {
    let tls = pairing::pairing_client_config().map_err(TransportError::from)?;
    let (endpoint, conn, mut send, mut recv) = open(addr, tls).await?;
    let result = pair_on(&conn, &mut send, &mut recv, code, device).await;
    shut(&endpoint, &conn, b"pairing done").await;
    result
}

async fn pair_on(
    conn: &Connection,
    send: &mut SendStream,
    recv: &mut RecvStream,
    code: PairingCode,
    device: &DeviceId,
) -> Result<Pairing, ClientError> {
    let mut reader = FrameReader::default();
    let (handshake, spake) = DeviceHandshake::start(code, device);
    let start = ClientMsg::Pairing(PairingClientStep::Start {
        protocol_version: PROTOCOL_VERSION,
        device: device.clone(),
        spake,
    });
    write_frame(send, &start)
        .await
        .map_err(|e| client_frame_error(conn, e))?;
    let reply = step("waiting for the director's pairing reply", async {
        next_server_msg(conn, &mut reader, recv).await
    })
    .await?;
    let Some(ServerMsg::Pairing(PairingServerStep::Reply { spake, confirm })) = reply else {
        return Err(ClientError::Unexpected(format!("{reply:?}")));
    };
    let exporter = exporter(conn).ok_or(PairingError::Exporter)?;
    let key = handshake.finish(&spake, &exporter)?;
    let director_knows_code = pairing::mac_ok(&key.server_confirm()?, &confirm);
    // Sent even when the director's confirmation is wrong: the director then refuses with
    // WrongPairingCode and counts the failure, so both sides report the same reason.
    let confirm = ClientMsg::Pairing(PairingClientStep::Confirm {
        confirm: key.client_confirm()?,
    });
    write_frame(send, &confirm)
        .await
        .map_err(|e| client_frame_error(conn, e))?;
    let grant = step("waiting for the director's grant", async {
        next_server_msg(conn, &mut reader, recv).await
    })
    .await;
    if !director_knows_code {
        return Err(ClientError::Refused(Refusal::WrongPairingCode));
    }
    let grant = grant?;
    let Some(ServerMsg::Pairing(PairingServerStep::Grant { ca_der, token, mac })) = grant else {
        return Err(ClientError::Unexpected(format!("{grant:?}")));
    };
    let chain = conn
        .peer_identity()
        .and_then(|id| {
            id.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
                .ok()
        })
        .map(|chain| *chain)
        .unwrap_or_default();
    Ok(pairing::accept_grant(&key, ca_der, token, &mac, &chain)?)
}

/// What the director said when it welcomed a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcome {
    /// The director's display name.
    pub director_name: String,
    /// The session running, if any.
    pub session: Option<String>,
    /// The director's session clock at the welcome, milliseconds.
    pub clock_ms: u64,
    /// `false` when the director said the device's content differs
    /// ([`Refusal::ContentMismatch`]): sync before playing.
    pub content_in_sync: bool,
}

/// A device's session connection to the director, pinned to the director's CA.
pub struct Client {
    endpoint: Endpoint,
    conn: Connection,
    send: SendStream,
    recv: RecvStream,
    reader: FrameReader,
    welcome: Welcome,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("remote", &self.conn.remote_address())
            .field("welcome", &self.welcome)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the director at `addr`, trusting only `ca_der` (from [`pair`]), and says
    /// `hello`; returns once welcomed.
    ///
    /// # Errors
    /// [`ClientError::Refused`] with the director's reason (version, unknown device, bad
    /// token…); [`ClientError::Handshake`] if the director's certificate does not chain to
    /// `ca_der`; network errors; [`ClientError::Timeout`] after [`STEP_TIMEOUT`] per step.
    pub async fn connect(
        addr: SocketAddr,
        ca_der: &[u8],
        hello: Hello,
    ) -> Result<Self, ClientError> {
        let tls = tls::client_config_pinned(ca_der).map_err(TransportError::from)?;
        let (endpoint, conn, mut send, mut recv) = open(addr, tls).await?;
        let mut reader = FrameReader::default();
        let welcomed = step("waiting for the director's welcome", async {
            write_frame(&mut send, &ClientMsg::Hello(hello))
                .await
                .map_err(|e| client_frame_error(&conn, e))?;
            let mut content_in_sync = true;
            loop {
                match next_server_msg(&conn, &mut reader, &mut recv).await? {
                    Some(ServerMsg::Refused(Refusal::ContentMismatch)) => content_in_sync = false,
                    Some(ServerMsg::Welcome {
                        director_name,
                        session,
                        clock_ms,
                    }) => {
                        return Ok(Welcome {
                            director_name,
                            session,
                            clock_ms,
                            content_in_sync,
                        });
                    }
                    Some(other) => return Err(ClientError::Unexpected(format!("{other:?}"))),
                    None => return Err(ClientError::Closed),
                }
            }
        })
        .await;
        match welcomed {
            Ok(welcome) => Ok(Self {
                endpoint,
                conn,
                send,
                recv,
                reader,
                welcome,
            }),
            Err(e) => {
                shut(&endpoint, &conn, b"not welcomed").await;
                Err(e)
            }
        }
    }

    /// What the director said when it welcomed this device.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// The director's address.
    pub fn remote_address(&self) -> SocketAddr {
        self.conn.remote_address()
    }

    /// UDP datagrams received from the director on this connection so far (acknowledgements
    /// and retransmissions included): a count that grows while the director is alive, even
    /// when a large message is still on its way and no whole message has arrived for a while.
    pub fn datagrams_received(&self) -> u64 {
        self.conn.stats().udp_rx.datagrams
    }

    /// The current round-trip time estimate.
    pub fn rtt(&self) -> Duration {
        self.conn.rtt()
    }

    /// Sends a pose on an unreliable datagram (it may be lost; send the next one).
    ///
    /// # Errors
    /// The connection is gone, or the director does not take datagrams.
    pub fn send_pose(&self, pose: &Pose) -> Result<(), ClientError> {
        self.conn
            .send_datagram(pose.to_datagram().into())
            .map_err(|e| ClientError::Unexpected(format!("pose datagram: {e}")))
    }

    /// Sends one message. Not cancel-safe: do not race it in `select!`.
    ///
    /// # Errors
    /// [`ClientError::Frame`] if it is too large; the director's refusal or the network error if
    /// the connection is closed.
    pub async fn send(&mut self, msg: ClientMsg) -> Result<(), ClientError> {
        write_frame(&mut self.send, &msg)
            .await
            .map_err(|e| client_frame_error(&self.conn, e))
    }

    /// The next message from the director; `Ok(None)` when it ended the stream. A
    /// [`Refusal::ContentMismatch`] arrives as a message; any other refusal as
    /// [`ClientError::Refused`], after which the connection is closed. Cancel-safe.
    ///
    /// # Errors
    /// The director's refusal, a malformed frame, or the network error.
    pub async fn recv(&mut self) -> Result<Option<ServerMsg>, ClientError> {
        next_server_msg(&self.conn, &mut self.reader, &mut self.recv).await
    }

    /// Says `Bye` and closes, waiting up to a second for the director to hear it.
    pub async fn close(mut self) {
        let _ = timeout(
            Duration::from_secs(1),
            write_frame(&mut self.send, &ClientMsg::Bye),
        )
        .await;
        let _ = self.send.finish();
        // The director answers Bye by finishing its stream; read up to that end.
        let _ = timeout(Duration::from_secs(1), async {
            while let Ok(Some(_)) = self.reader.read::<_, ServerMsg>(&mut self.recv).await {}
        })
        .await;
        shut(&self.endpoint, &self.conn, b"bye").await;
    }
}

/// Retry schedule of [`connect_with_backoff`]: delays double from `first` up to `max`, each
/// drawn uniformly from its upper half ("equal jitter", so devices restarted together spread
/// out), for at most `attempts` connection attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the second attempt (upper bound; the draw is in `[first/2, first]`).
    pub first: Duration,
    /// Cap of the delay.
    pub max: Duration,
    /// Connection attempts in all, at least 1.
    pub attempts: u32,
    /// Limit of each attempt, handshake and welcome included.
    pub connect_timeout: Duration,
}

impl Default for Backoff {
    /// 250 ms doubling to 10 s, 10 attempts, 5 s each (about a minute in all).
    fn default() -> Self {
        Self {
            first: Duration::from_millis(250),
            max: Duration::from_secs(10),
            attempts: 10,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The delay after failed attempt number `retry` (0 for the first failure), with `jitter`
    /// in `[0, 1]` picking within the upper half of the capped exponential delay.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let ceiling = self
            .first
            .checked_mul(2u32.saturating_pow(retry.min(31)))
            .unwrap_or(self.max)
            .min(self.max);
        ceiling.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// [`Client::connect`], retried on network errors as `backoff` says. A refusal or a
/// certificate error is returned at once: retrying would not change it.
///
/// # Errors
/// The last attempt's error ([`ClientError::Timeout`] if it ran past
/// [`Backoff::connect_timeout`]).
pub async fn connect_with_backoff(
    addr: SocketAddr,
    ca_der: &[u8],
    hello: &Hello,
    backoff: &Backoff,
) -> Result<Client, ClientError> {
    let mut retry = 0;
    loop {
        let attempt = timeout(
            backoff.connect_timeout,
            Client::connect(addr, ca_der, hello.clone()),
        )
        .await
        .unwrap_or(Err(ClientError::Timeout("connecting")));
        match attempt {
            Ok(client) => return Ok(client),
            Err(e) if !e.is_retryable() || retry + 1 >= backoff.attempts.max(1) => return Err(e),
            Err(e) => {
                let delay = backoff.delay(retry, rand::random::<f64>());
                tracing::debug!(%addr, retry, ?delay, "connection failed, retrying: {e}");
                tokio::time::sleep(delay).await;
                retry += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let backoff = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(1),
            attempts: 5,
            connect_timeout: Duration::from_secs(1),
        };
        assert_eq!(backoff.delay(0, 1.0), Duration::from_millis(100));
        assert_eq!(backoff.delay(0, 0.0), Duration::from_millis(50));
        assert_eq!(backoff.delay(2, 1.0), Duration::from_millis(400));
        assert_eq!(backoff.delay(4, 1.0), Duration::from_secs(1));
        assert_eq!(backoff.delay(200, 1.0), Duration::from_secs(1));
        assert_eq!(backoff.delay(200, 0.0), Duration::from_millis(500));
        assert_eq!(backoff.delay(1, 7.0), Duration::from_millis(200));
    }

    #[test]
    fn refusals_travel_in_close_reasons() {
        let refusal = Refusal::FrameTooLarge {
            size: u64::from(u32::MAX),
            max: 1 << 20,
        };
        let error = ConnectionError::ApplicationClosed(quinn::ApplicationClose {
            error_code: VarInt::from_u32(CLOSE_REFUSED),
            reason: close_reason(&refusal).into(),
        });
        assert_eq!(refusal_in(&error), Some(refusal));
        let long = Refusal::Malformed("x".repeat(2000));
        assert!(close_reason(&long).len() < 512);
    }

    #[test]
    fn transport_config_builds() {
        let _ = transport_config();
    }
}
