//! A UDP fault proxy for tests and benchmarks (this kernel has no `netem`): devices talk to
//! [`FaultProxy::local_addr`] instead of the director, and every datagram, each way, may be
//! lost, delayed by a fixed time plus a uniform jitter (which reorders datagrams whose draws
//! cross), or dropped while the link is cut. Settings are per direction and may change at
//! runtime; counters say what passed and what was dropped.
//!
//! The decisions are a pure function of the seed and of the order in which datagrams reach
//! the proxy in each direction ([`Shaper`]), so a run's faults are replayed by its seed as far
//! as the peers send the same datagrams in the same order (QUIC's own timers may not).
//!
//! ```no_run
//! # async fn demo(director: std::net::SocketAddr) -> std::io::Result<()> {
//! use boussole_sim::proxy::{Direction, FaultProxy, LinkFaults, ProxyConfig};
//! use std::time::Duration;
//! let shaky = LinkFaults { loss: 0.05, delay: Duration::from_millis(10), jitter: Duration::from_millis(30) };
//! let proxy = FaultProxy::start(director, ProxyConfig::symmetric(42, shaky)).await?;
//! // …devices connect to proxy.local_addr()…
//! proxy.set_cut(true); // nothing passes, either way
//! proxy.set_faults(Direction::ToDevice, LinkFaults::default());
//! println!("{}", proxy.stats());
//! # Ok(()) }
//! ```

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, sleep_until};

/// Largest datagram the proxy carries, bytes (UDP's own limit).
const MAX_DATAGRAM: usize = 65_535;

/// Datagrams read from the director's side and not yet shaped before readers wait.
const QUEUE: usize = 4_096;

/// Mixed into the seed for the [`Direction::ToDevice`] stream, so both directions draw
/// independently from one printed seed.
const DOWNSTREAM_SALT: u64 = 0x9E37_79B9_7F4A_7C15;

/// Which way a datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a device to the director.
    ToDirector,
    /// From the director to a device.
    ToDevice,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Self::ToDirector => 0,
            Self::ToDevice => 1,
        }
    }
}

/// The faults of one direction. The default passes everything at once.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LinkFaults {
    /// Probability that a datagram is lost, 0 to 1 (clamped).
    pub loss: f64,
    /// Fixed one-way delay added to every datagram.
    pub delay: Duration,
    /// Extra delay drawn uniformly in `[0, jitter]` per datagram; two datagrams closer in time
    /// than their draws differ arrive swapped (reordering).
    pub jitter: Duration,
}

/// A proxy's settings: the seed of its draws and the faults of each direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProxyConfig {
    /// Seed of the draws; print it so a run can be replayed.
    pub seed: u64,
    /// Device → director.
    pub to_director: LinkFaults,
    /// Director → device.
    pub to_device: LinkFaults,
}

impl ProxyConfig {
    /// The same faults both ways.
    pub fn symmetric(seed: u64, faults: LinkFaults) -> Self {
        Self {
            seed,
            to_director: faults,
            to_device: faults,
        }
    }

    /// A clean link both ways (faults can be set later).
    pub fn clean(seed: u64) -> Self {
        Self::symmetric(seed, LinkFaults::default())
    }
}

/// What happens to one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Lost.
    Drop,
    /// Delivered this long after it reached the proxy.
    Deliver(Duration),
}

/// The sans-IO heart of the proxy: the verdict for each datagram of one direction, in order,
/// from a seeded generator. Two shapers with the same seed and faults give the same verdicts.
#[derive(Clone, Debug)]
pub struct Shaper {
    rng: StdRng,
    faults: LinkFaults,
}

impl Shaper {
    /// A shaper drawing from `seed`.
    pub fn new(seed: u64, faults: LinkFaults) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            faults,
        }
    }

    /// The shaper of `direction` for a proxy seeded with `seed` (what [`FaultProxy`] uses).
    pub fn for_direction(seed: u64, direction: Direction, faults: LinkFaults) -> Self {
        match direction {
            Direction::ToDirector => Self::new(seed, faults),
            Direction::ToDevice => Self::new(seed ^ DOWNSTREAM_SALT, faults),
        }
    }

    /// Changes the faults; the draws go on from where they are.
    pub fn set_faults(&mut self, faults: LinkFaults) {
        self.faults = faults;
    }

    /// The verdict for the next datagram. Every call draws twice (loss, then jitter), whatever
    /// the outcome, so one datagram's fate does not shift the draws of the next ones.
    pub fn verdict(&mut self) -> Verdict {
        let lost = self.rng.random::<f64>() < self.faults.loss.clamp(0.0, 1.0);
        let jitter = self.faults.jitter.mul_f64(self.rng.random::<f64>());
        if lost {
            Verdict::Drop
        } else {
            Verdict::Deliver(self.faults.delay + jitter)
        }
    }
}

/// Counters of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters {
    /// Datagrams that reached the proxy.
    pub received: u64,
    /// Delivered to the other side.
    pub passed: u64,
    /// Dropped by the loss draw.
    pub lost: u64,
    /// Dropped because the link was cut (on arrival or when due).
    pub cut: u64,
    /// Delivered after a datagram that reached the proxy later (overtaken by the jitter).
    pub reordered: u64,
    /// Datagrams whose sending failed (counted as dropped).
    pub send_errors: u64,
}

impl LinkCounters {
    /// Every datagram that did not get through: lost, cut, or failed to send.
    pub fn dropped(&self) -> u64 {
        self.lost + self.cut + self.send_errors
    }
}

/// What a proxy has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// The seed of its draws.
    pub seed: u64,
    /// Device → director.
    pub to_director: LinkCounters,
    /// Director → device.
    pub to_device: LinkCounters,
    /// Device addresses seen (each connection attempt of a QUIC client is a new one).
    pub peers: usize,
    /// Datagrams waiting for their delay now.
    pub in_flight: usize,
}

impl fmt::Display for ProxyStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = |c: &LinkCounters| {
            format!(
                "{} received, {} passed, {} lost, {} cut, {} reordered",
                c.received, c.passed, c.lost, c.cut, c.reordered
            )
        };
        write!(
            f,
            "seed {}: to director {}; to devices {}; {} device addresses",
            self.seed,
            line(&self.to_director),
            line(&self.to_device),
            self.peers
        )
    }
}

/// What the proxy's task and its handle share.
#[derive(Debug)]
struct State {
    faults: [LinkFaults; 2],
    cut: [bool; 2],
    counters: [LinkCounters; 2],
    peers: usize,
    in_flight: usize,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // Each critical section is a few counter updates: a panic elsewhere leaves them usable.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running proxy (a Tokio task); dropping it stops the task and closes its sockets.
#[derive(Debug)]
pub struct FaultProxy {
    local_addr: SocketAddr,
    target: SocketAddr,
    seed: u64,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy to `target` (the director) on a free port of the loopback address of
    /// the same family.
    ///
    /// # Errors
    /// The socket cannot be bound, or there is no Tokio runtime.
    pub async fn start(target: SocketAddr, config: ProxyConfig) -> std::io::Result<Self> {
        let bind: SocketAddr = if target.is_ipv6() {
            (Ipv6Addr::LOCALHOST, 0).into()
        } else {
            (Ipv4Addr::LOCALHOST, 0).into()
        };
        Self::start_on(bind, target, config).await
    }

    /// Starts a proxy listening on `bind` and forwarding to `target`.
    ///
    /// # Errors
    /// As [`FaultProxy::start`].
    pub async fn start_on(
        bind: SocketAddr,
        target: SocketAddr,
        config: ProxyConfig,
    ) -> std::io::Result<Self> {
        tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
        let front = Arc::new(UdpSocket::bind(bind).await?);
        let local_addr = front.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            faults: [config.to_director, config.to_device],
            cut: [false; 2],
            counters: [LinkCounters::default(); 2],
            peers: 0,
            in_flight: 0,
        }));
        tracing::info!(%local_addr, %target, seed = config.seed, "fault proxy started");
        let task = tokio::spawn(run(front, target, config.seed, state.clone()));
        Ok(Self {
            local_addr,
            target,
            seed: config.seed,
            state,
            task,
        })
    }

    /// Where devices should connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The director it forwards to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The seed of its draws.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Sets the faults of `direction` from the next datagram on.
    pub fn set_faults(&self, direction: Direction, faults: LinkFaults) {
        lock(&self.state).faults[direction.index()] = faults;
    }

    /// Cuts both directions (`true`) or restores them (`false`). While cut, every datagram is
    /// dropped, those already waiting for their delay included.
    pub fn set_cut(&self, cut: bool) {
        lock(&self.state).cut = [cut; 2];
    }

    /// Cuts or restores one direction only.
    pub fn set_cut_one(&self, direction: Direction, cut: bool) {
        lock(&self.state).cut[direction.index()] = cut;
    }

    /// The counters now.
    pub fn stats(&self) -> ProxyStats {
        let state = lock(&self.state);
        ProxyStats {
            seed: self.seed,
            to_director: state.counters[0],
            to_device: state.counters[1],
            peers: state.peers,
            in_flight: state.in_flight,
        }
    }
}

/// A datagram waiting for its delay.
struct Pending {
    direction: Direction,
    peer: SocketAddr,
    bytes: Vec<u8>,
    /// Its rank of arrival in its direction (to count reordering).
    rank: u64,
}

/// The proxy's task: reads devices on the front socket and the director on one socket per
/// device address (so the director sees each device as a distinct peer), shapes every
/// datagram, and delivers it when due.
async fn run(front: Arc<UdpSocket>, target: SocketAddr, seed: u64, state: Arc<Mutex<State>>) {
    let faults = lock(&state).faults;
    let mut shapers = [
        Shaper::for_direction(seed, Direction::ToDirector, faults[0]),
        Shaper::for_direction(seed, Direction::ToDevice, faults[1]),
    ];
    let mut ranks = [0u64; 2];
    let mut highest_delivered: [Option<u64>; 2] = [None; 2];
    let mut peers: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut readers = JoinSet::new();
    let (from_director_tx, mut from_director) = mpsc::channel::<(SocketAddr, Vec<u8>)>(QUEUE);
    let mut queue: BTreeMap<(Instant, u64), Pending> = BTreeMap::new();
    let mut order = 0u64;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let due = queue.first_key_value().map(|((at, _), _)| *at);
        let arrived = tokio::select! {
            received = front.recv_from(&mut buf) => match received {
                Ok((n, peer)) => {
                    if let Entry::Vacant(slot) = peers.entry(peer) {
                        match open_peer(target, peer, &from_director_tx, &mut readers).await {
                            Ok(socket) => {
                                slot.insert(socket);
                                lock(&state).peers = peers.len();
                            }
                            Err(e) => {
                                tracing::warn!(%peer, "fault proxy: no socket for a device: {e}");
                                continue;
                            }
                        }
                    }
                    Some((Direction::ToDirector, peer, buf.get(..n).unwrap_or_default().to_vec()))
                }
                // ICMP errors of an earlier send surface here on some systems: not fatal.
                Err(e) => {
                    tracing::debug!("fault proxy: front socket: {e}");
                    None
                }
            },
            Some((peer, bytes)) = from_director.recv() => Some((Direction::ToDevice, peer, bytes)),
            () = sleep_until_due(due) => None,
        };
        let now = Instant::now();
        if let Some((direction, peer, bytes)) = arrived {
            let i = direction.index();
            let mut st = lock(&state);
            st.counters[i].received += 1;
            if st.cut[i] {
                st.counters[i].cut += 1;
                continue;
            }
            shapers[i].set_faults(st.faults[i]);
            match shapers[i].verdict() {
                Verdict::Drop => st.counters[i].lost += 1,
                Verdict::Deliver(after) => {
                    order += 1;
                    queue.insert(
                        (now + after, order),
                        Pending {
                            direction,
                            peer,
                            bytes,
                            rank: ranks[i],
                        },
                    );
                    ranks[i] += 1;
                }
            }
            st.in_flight = queue.len();
        }
        // Deliver whatever is due (the datagram just queued too, when it has no delay).
        while let Some(entry) = queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let pending = entry.remove();
            let i = pending.direction.index();
            if lock(&state).cut[i] {
                lock(&state).counters[i].cut += 1;
                continue;
            }
            let sent = match pending.direction {
                Direction::ToDirector => match peers.get(&pending.peer) {
                    Some(socket) => socket.send_to(&pending.bytes, target).await,
                    None => Err(std::io::Error::other("device socket gone")),
                },
                Direction::ToDevice => front.send_to(&pending.bytes, pending.peer).await,
            };
            let mut st = lock(&state);
            match sent {
                Ok(_) => {
                    st.counters[i].passed += 1;
                    match highest_delivered[i] {
                        Some(high) if pending.rank < high => st.counters[i].reordered += 1,
                        _ => highest_delivered[i] = Some(pending.rank),
                    }
                }
                Err(e) => {
                    tracing::debug!("fault proxy: sending: {e}");
                    st.counters[i].send_errors += 1;
                }
            }
        }
        lock(&state).in_flight = queue.len();
    }
}

async fn sleep_until_due(due: Option<Instant>) {
    match due {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The socket that speaks to the director for device address `peer`, and its reader task.
async fn open_peer(
    target: SocketAddr,
    peer: SocketAddr,
    to_proxy: &mpsc::Sender<(SocketAddr, Vec<u8>)>,
    readers: &mut JoinSet<()>,
) -> std::io::Result<Arc<UdpSocket>> {
    let bind: SocketAddr = if target.is_ipv6() {
        (Ipv6Addr::LOCALHOST, 0).into()
    } else {
        (Ipv4Addr::LOCALHOST, 0).into()
    };
    let socket = Arc::new(UdpSocket::bind(bind).await?);
    let reader = socket.clone();
    let to_proxy = to_proxy.clone();
    readers.spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            match reader.recv_from(&mut buf).await {
                // Only the director's datagrams: the socket is not connected, so that ICMP
                // errors from a director that went away never end this loop.
                Ok((n, from)) if from == target => {
                    let bytes = buf.get(..n).unwrap_or_default().to_vec();
                    if to_proxy.send((peer, bytes)).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(%peer, "fault proxy: director socket: {e}"),
            }
        }
    });
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shaper_is_a_function_of_its_seed() {
        let faults = LinkFaults {
            loss: 0.3,
            delay: Duration::from_millis(5),
            jitter: Duration::from_millis(50),
        };
        let draw = |seed| {
            let mut s = Shaper::new(seed, faults);
            (0..200).map(|_| s.verdict()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let verdicts = draw(7);
        let lost = verdicts.iter().filter(|v| **v == Verdict::Drop).count();
        assert!((30..=90).contains(&lost), "about 30 % of 200 lost: {lost}");
        for v in verdicts {
            if let Verdict::Deliver(d) = v {
                assert!(
                    d >= faults.delay && d <= faults.delay + faults.jitter,
                    "{d:?}"
                );
            }
        }
    }

    #[test]
    fn no_loss_no_jitter_delivers_everything_at_the_fixed_delay() {
        let delay = Duration::from_millis(12);
        let mut s = Shaper::new(
            1,
            LinkFaults {
                delay,
                ..LinkFaults::default()
            },
        );
        assert!((0..100).all(|_| s.verdict() == Verdict::Deliver(delay)));
        s.set_faults(LinkFaults {
            loss: 1.0,
            ..LinkFaults::default()
        });
        assert!((0..100).all(|_| s.verdict() == Verdict::Drop));
    }

    #[test]
    fn directions_draw_independently() {
        let faults = LinkFaults {
            jitter: Duration::from_millis(100),
            ..LinkFaults::default()
        };
        let mut up = Shaper::for_direction(3, Direction::ToDirector, faults);
        let mut down = Shaper::for_direction(3, Direction::ToDevice, faults);
        let ups: Vec<_> = (0..20).map(|_| up.verdict()).collect();
        let downs: Vec<_> = (0..20).map(|_| down.verdict()).collect();
        assert_ne!(ups, downs);
    }
}
