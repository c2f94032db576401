//! A minimal UDP link shaper for the skew benchmark: each direction of each client's flow is
//! delayed by `delay ± jitter` (uniform, so datagrams reorder as on a busy Wi-Fi link) and loses
//! a share of its datagrams, from a seeded rng.
//!
//! A stand-in: the fault proxy of `boussole-sim` (`tools/sim/src/proxy.rs`, branch `faults`) was
//! not there when this benchmark was written; once it lands, the skew benchmark should use it
//! with the same figures ([`Shaping::WIFI`]).

use anyhow::{Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// What each direction of a link does to datagrams.
#[derive(Clone, Copy, Debug)]
pub struct Shaping {
    /// Mean one-way delay.
    pub delay: Duration,
    /// Half-width of the uniform jitter around it.
    pub jitter: Duration,
    /// Share of datagrams dropped, 0 to 1.
    pub loss: f64,
    /// Seed of the rng behind delays and losses.
    pub seed: u64,
}

impl Shaping {
    /// A Wi-Fi-like link (issue "Benchmarks"): 20 ms ± 15 ms each way, 1 % loss.
    pub const WIFI: Self = Self {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(15),
        loss: 0.01,
        seed: 20_251_001,
    };
}

/// A running shaper: clients send to [`Shaper::addr`], it forwards to the upstream address from
/// one socket per client, and back.
pub struct Shaper {
    /// Where clients connect.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
    flows: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

type Rng64 = Arc<Mutex<StdRng>>;

/// Sends `bytes` from `socket` to `to` after the shaped delay, unless the rng drops it.
fn shaped_send(socket: &Arc<UdpSocket>, to: SocketAddr, bytes: Vec<u8>, s: Shaping, rng: &Rng64) {
    let (lost, delay) = {
        let mut r = rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let lost = r.random_bool(s.loss.clamp(0.0, 1.0));
        let j = s.jitter.as_secs_f64();
        let d = (s.delay.as_secs_f64() + r.random_range(-j..=j)).max(0.0);
        (lost, Duration::from_secs_f64(d))
    };
    if lost {
        return;
    }
    let socket = socket.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let _ = socket.send_to(&bytes, to).await;
    });
}

impl Shaper {
    /// Starts shaping between clients and `upstream`, on 127.0.0.1.
    ///
    /// # Errors
    /// A socket cannot be bound.
    pub async fn start(upstream: SocketAddr, shaping: Shaping) -> Result<Self> {
        let front = Arc::new(
            UdpSocket::bind("127.0.0.1:0")
                .await
                .context("binding the shaper")?,
        );
        let addr = front.local_addr()?;
        let rng: Rng64 = Arc::new(Mutex::new(StdRng::seed_from_u64(shaping.seed)));
        let flows: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let flows2 = flows.clone();
        let task = tokio::spawn(async move {
            let mut back: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
            let mut buf = vec![0u8; 65_536];
            while let Ok((len, client)) = front.recv_from(&mut buf).await {
                let up = match back.get(&client) {
                    Some(s) => s.clone(),
                    None => {
                        let Ok(s) = UdpSocket::bind("127.0.0.1:0").await else {
                            continue;
                        };
                        let s = Arc::new(s);
                        back.insert(client, s.clone());
                        let (s2, front2, rng2) = (s.clone(), front.clone(), rng.clone());
                        let flow = tokio::spawn(async move {
                            let mut buf = vec![0u8; 65_536];
                            while let Ok((len, _)) = s2.recv_from(&mut buf).await {
                                let bytes = buf.get(..len).unwrap_or_default().to_vec();
                                shaped_send(&front2, client, bytes, shaping, &rng2);
                            }
                        });
                        flows2
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(flow);
                        s
                    }
                };
                let bytes = buf.get(..len).unwrap_or_default().to_vec();
                shaped_send(&up, upstream, bytes, shaping, &rng);
            }
        });
        Ok(Self { addr, task, flows })
    }
}

impl Drop for Shaper {
    fn drop(&mut self) {
        self.task.abort();
        for f in self
            .flows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..)
        {
            f.abort();
        }
    }
}
