//! The fault proxy over loopback sockets: a clean link passes everything both ways in order,
//! loss 1.0 passes nothing, a cut drops everything until it is lifted, and jitter reorders
//! datagrams exactly as the seeded draws say. Waits are on the proxy's counters or on a
//! datagram; timeouts only guard against a hang.

use boussole_sim::proxy::{
    Direction, FaultProxy, LinkFaults, ProxyConfig, ProxyStats, Shaper, Verdict,
};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::timeout;

type Error = Box<dyn std::error::Error + Send + Sync>;
type TestResult = Result<(), Error>;

const GUARD: Duration = Duration::from_secs(10);

async fn guard<T>(what: &str, fut: impl Future<Output = T>) -> Result<T, Error> {
    timeout(GUARD, fut)
        .await
        .map_err(|_| format!("timed out waiting for {what}").into())
}

async fn socket() -> Result<UdpSocket, Error> {
    Ok(UdpSocket::bind("127.0.0.1:0").await?)
}

/// Waits until the proxy's counters satisfy `done`.
async fn counters(
    proxy: &FaultProxy,
    what: &str,
    done: impl Fn(&ProxyStats) -> bool,
) -> Result<ProxyStats, Error> {
    guard(what, async {
        loop {
            let stats = proxy.stats();
            if done(&stats) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// A server that echoes every datagram to where it came from.
async fn echo() -> Result<SocketAddr, Error> {
    let server = socket().await?;
    let addr = server.local_addr()?;
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = server.recv_from(&mut buf).await {
            if server
                .send_to(buf.get(..n).unwrap_or_default(), from)
                .await
                .is_err()
            {
                break;
            }
        }
    });
    Ok(addr)
}

async fn recv_u32(socket: &UdpSocket) -> Result<u32, Error> {
    let mut buf = [0u8; 16];
    let n = guard("a datagram", socket.recv(&mut buf)).await??;
    let bytes: [u8; 4] = buf.get(..n).unwrap_or_default().try_into()?;
    Ok(u32::from_be_bytes(bytes))
}

#[tokio::test]
async fn a_clean_link_passes_everything_both_ways_in_order() -> TestResult {
    let proxy = FaultProxy::start(echo().await?, ProxyConfig::clean(1)).await?;
    let client = socket().await?;
    client.connect(proxy.local_addr()).await?;
    for i in 0..50u32 {
        client.send(&i.to_be_bytes()).await?;
    }
    for i in 0..50u32 {
        assert_eq!(recv_u32(&client).await?, i);
    }
    let stats = proxy.stats();
    eprintln!("{stats}");
    assert_eq!(stats.to_director.passed, 50);
    assert_eq!(stats.to_device.passed, 50);
    assert_eq!(stats.to_director.dropped() + stats.to_device.dropped(), 0);
    assert_eq!(stats.to_director.reordered + stats.to_device.reordered, 0);
    assert_eq!(stats.peers, 1);
    Ok(())
}

#[tokio::test]
async fn with_loss_one_nothing_passes() -> TestResult {
    let sink = socket().await?;
    let lossy = LinkFaults {
        loss: 1.0,
        ..LinkFaults::default()
    };
    let proxy = FaultProxy::start(sink.local_addr()?, ProxyConfig::symmetric(2, lossy)).await?;
    let client = socket().await?;
    client.connect(proxy.local_addr()).await?;
    for i in 0..50u32 {
        client.send(&i.to_be_bytes()).await?;
    }
    let stats = counters(&proxy, "50 datagrams handled", |s| {
        s.to_director.received == 50
    })
    .await?;
    eprintln!("{stats}");
    assert_eq!(stats.to_director.lost, 50);
    assert_eq!(stats.to_director.passed, 0);
    let mut buf = [0u8; 16];
    assert!(
        sink.try_recv_from(&mut buf).is_err(),
        "a datagram got through"
    );
    Ok(())
}

#[tokio::test]
async fn a_cut_drops_everything_until_it_is_lifted() -> TestResult {
    let proxy = FaultProxy::start(echo().await?, ProxyConfig::clean(3)).await?;
    let client = socket().await?;
    client.connect(proxy.local_addr()).await?;
    client.send(&0u32.to_be_bytes()).await?;
    assert_eq!(recv_u32(&client).await?, 0);

    proxy.set_cut(true);
    for i in 1..=10u32 {
        client.send(&i.to_be_bytes()).await?;
    }
    counters(&proxy, "10 datagrams cut", |s| s.to_director.cut == 10).await?;
    proxy.set_cut(false);
    client.send(&11u32.to_be_bytes()).await?;
    assert_eq!(recv_u32(&client).await?, 11, "nothing cut arrives later");

    // One direction only: the request passes, the echo does not.
    proxy.set_cut_one(Direction::ToDevice, true);
    client.send(&12u32.to_be_bytes()).await?;
    let stats = counters(&proxy, "the echo cut", |s| s.to_device.cut == 1).await?;
    eprintln!("{stats}");
    assert_eq!(stats.to_director.passed, 3);
    assert_eq!(stats.to_device.passed, 2);
    Ok(())
}

/// A seed whose first `n` delays, drawn in `[0, jitter]`, are pairwise at least `gap` apart
/// and not in increasing order: its delivery order is then unambiguous and differs from the
/// send order. Searched deterministically from 0, so the same seed every run.
fn clearly_reordering_seed(n: usize, faults: LinkFaults, gap: Duration) -> Option<(u64, Vec<u32>)> {
    (0..10_000u64).find_map(|seed| {
        let mut shaper = Shaper::for_direction(seed, Direction::ToDirector, faults);
        let mut delays: Vec<(Duration, u32)> = (0..n)
            .map(|i| match shaper.verdict() {
                Verdict::Deliver(d) => Some((d, u32::try_from(i).ok()?)),
                Verdict::Drop => None,
            })
            .collect::<Option<_>>()?;
        delays.sort();
        let spread = delays.windows(2).all(|w| match w {
            [a, b] => b.0 - a.0 >= gap,
            _ => true,
        });
        let order: Vec<u32> = delays.iter().map(|(_, i)| *i).collect();
        let shuffled = order.windows(2).any(|w| matches!(w, [a, b] if a > b));
        (spread && shuffled).then_some((seed, order))
    })
}

#[tokio::test]
async fn jitter_reorders_as_the_seed_says() -> TestResult {
    let faults = LinkFaults {
        loss: 0.0,
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(1200),
    };
    // Sends take well under a millisecond; 150 ms between any two due times leaves room for
    // a slow machine.
    let (seed, expected) = clearly_reordering_seed(5, faults, Duration::from_millis(150))
        .ok_or("no seed spreads 5 draws")?;
    let sink = socket().await?;
    let config = ProxyConfig {
        seed,
        to_director: faults,
        to_device: LinkFaults::default(),
    };
    let proxy = FaultProxy::start(sink.local_addr()?, config).await?;
    let client = socket().await?;
    client.connect(proxy.local_addr()).await?;
    for i in 0..5u32 {
        client.send(&i.to_be_bytes()).await?;
    }
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(recv_u32(&sink).await?);
    }
    let stats = proxy.stats();
    eprintln!("seed {seed}: sent 0..5, expected {expected:?}, got {got:?}; {stats}");
    assert_eq!(got, expected);
    assert!(stats.to_director.reordered > 0);
    Ok(())
}
