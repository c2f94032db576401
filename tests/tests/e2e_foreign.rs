//! Foreign peers knock while the room plays: a client pinned to another director's CA, clients
//! offering another ALPN (HTTP/3's, an older Boussole one), a paired device without its token
//! and with a wrong one, one announcing an older protocol version, and a QUIC client that is
//! not ours at all (Python's aioquic: HTTP/3, system CAs, then an HTTP request on a stream).
//! Each is refused as it should be, and the six devices play to the success ending without a
//! single reconnection, every event in the log exactly once.
//!
//! The aioquic part needs the Python that `cargo xtask test` prepares and names in
//! `BOUSSOLE_AIOQUIC_PYTHON`; without the variable it says SKIPPED on stderr.

use anyhow::{Context, Result, anyhow, bail, ensure};
use boussole_director::engine::Command;
use boussole_protocol::DeviceId;
use boussole_protocol::pairing::Pairing;
use boussole_protocol::tls::{self, DirectorIdentity, SERVER_NAME};
use boussole_protocol::transport::{self, Client, ClientError};
use boussole_protocol::wire::{
    DeviceToken, Hello, MAX_FRAME, PROTOCOL_VERSION, Refusal, Role, ServerMsg, decode_body,
};
use boussole_tests::{
    GAME_GUARD, Play, Room, check_exactly_once, check_success, code, device_events,
    facilitator_steps, play_facilitator, repo_root, room, start_devices, start_room, stop_all,
    submit, wait_all, wait_settled,
};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::timeout;

/// TLS alert `no_application_protocol` (RFC 8446 §6.2) as a QUIC error code (RFC 9001 §4.8).
const NO_APPLICATION_PROTOCOL: u64 = 0x100 + 120;

/// TLS alert `bad_certificate`, as a QUIC error code.
const BAD_CERTIFICATE: u64 = 0x100 + 42;

/// The QUIC application close code of a refusal (`transport::CLOSE_REFUSED`).
const CLOSE_REFUSED: u64 = 1;

/// Guard of one foreign attempt.
const STEP: Duration = Duration::from_secs(15);

fn hello(device: &str, token: Option<DeviceToken>, version: u16) -> Hello {
    Hello {
        protocol_version: version,
        device: DeviceId::from(device),
        role: Role::Terminal,
        content_hash: [0; 32],
        token,
    }
}

/// Connects with `hello`, pinned to `ca`, and returns the refusal met.
async fn refusal(addr: SocketAddr, ca: &[u8], hello: Hello) -> Result<Refusal> {
    let who = hello.device.clone();
    match timeout(STEP, Client::connect(addr, ca, hello)).await? {
        Err(ClientError::Refused(r)) => Ok(r),
        Ok(_) => bail!("{who} was welcomed"),
        Err(e) => bail!("{who}: expected a refusal, got {e}"),
    }
}

/// A QUIC connection, pinned to `ca`, offering only `alpn`: the QUIC error code it failed with.
async fn alpn_refusal(addr: SocketAddr, ca: &[u8], alpn: &[u8]) -> Result<u64> {
    let mut tls = tls::client_config_pinned(ca)?;
    tls.alpn_protocols = vec![alpn.to_vec()];
    let config = transport::quic_client_config(tls)?;
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let connecting = endpoint.connect_with(config, addr, SERVER_NAME)?;
    let outcome = timeout(STEP, connecting).await?;
    endpoint.close(0u32.into(), b"");
    match outcome {
        Ok(_) => bail!("a connection offering ALPN {alpn:?} was accepted"),
        Err(quinn::ConnectionError::ConnectionClosed(close)) => Ok(u64::from(close.error_code)),
        Err(quinn::ConnectionError::TransportError(e)) => Ok(u64::from(e.code)),
        Err(e) => bail!("ALPN {alpn:?}: unexpected {e}"),
    }
}

/// Runs the aioquic client against `addr` and checks what it met.
fn aioquic(python: &str, addr: SocketAddr) -> Result<()> {
    let script = repo_root().join("tools/fixtures/foreign_quic.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .output()
        .with_context(|| format!("running {python} {}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "{} failed: {}\n{stdout}{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen = Vec::new();
    for line in stdout.lines() {
        eprintln!("e2e_foreign: aioquic: {line}");
        let v: serde_json::Value = serde_json::from_str(line).with_context(|| line.to_owned())?;
        let case = v["case"].as_str().unwrap_or_default().to_owned();
        let handshake = v["handshake"].as_bool();
        let code = v["close_code"].as_u64();
        match case.as_str() {
            "h3" => ensure!(
                handshake == Some(false) && code == Some(NO_APPLICATION_PROTOCOL),
                "an HTTP/3 client fails the handshake on ALPN: {line}"
            ),
            "system_roots" => ensure!(
                handshake == Some(false) && code == Some(BAD_CERTIFICATE),
                "the private CA chains to no system root: {line}"
            ),
            "garbage" => {
                ensure!(
                    handshake == Some(true)
                        && code == Some(CLOSE_REFUSED)
                        && v["close_kind"] == "application",
                    "an HTTP request on a stream is refused and the connection closed: {line}"
                );
                let bytes = hex(v["received"].as_str().unwrap_or_default())?;
                let body = bytes.get(4..).ok_or_else(|| anyhow!("no frame: {line}"))?;
                let msg: ServerMsg = decode_body(body)?;
                // "GET " read as a length prefix.
                let size = u64::from(u32::from_be_bytes(*b"GET "));
                ensure!(
                    msg == ServerMsg::Refused(Refusal::FrameTooLarge {
                        size,
                        max: MAX_FRAME as u64
                    }),
                    "refused as a frame too large: {msg:?}"
                );
            }
            other => bail!("unknown case {other}"),
        }
        seen.push(case);
    }
    ensure!(seen.len() == 3, "three cases tried: {seen:?}");
    Ok(())
}

fn hex(s: &str) -> Result<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| {
            let pair = s.get(i..i + 2).ok_or_else(|| anyhow!("odd hex"))?;
            u8::from_str_radix(pair, 16).map_err(|e| anyhow!("{e}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_peers_are_refused_and_the_room_plays_on() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let Room {
        scenario,
        script,
        serving,
        ..
    } = start_room(dir.path())?;
    let addr = serving.local_addr();
    let director = serving.handle();
    let facilitator = play_facilitator(director.clone(), facilitator_steps(&script));
    let play = Play {
        content: serving.content_hashes(),
        // Slower players, so every knock happens mid-game.
        think: Duration::from_millis(300),
        wrong_rate: 0.3,
        hint_rate: 0.3,
        seed: 11,
        outbox_dir: None,
    };
    let devices = start_devices(addr, room(&script, &scenario), &scenario, &play).await?;
    wait_all(&devices, "a first connection", GAME_GUARD, |s| {
        s.connections > 0
    })
    .await?;

    let Pairing { ca_der, token } =
        boussole_sim::pair(addr, code()?, &DeviceId::from("tablette_etrangere")).await?;
    let mut tried = Vec::new();

    // Pinned to another director's CA: this director's certificate does not chain to it.
    let other_dir = tempfile::tempdir()?;
    let other = DirectorIdentity::load_or_create(other_dir.path(), "localhost")?;
    let hello_ok = hello("tablette_etrangere", Some(token.clone()), PROTOCOL_VERSION);
    match timeout(
        STEP,
        Client::connect(addr, other.ca_der(), hello_ok.clone()),
    )
    .await?
    {
        Err(ClientError::Handshake(why)) if why.contains("certificate") => {
            tried.push(format!("another CA: handshake failed ({why})"));
        }
        other => bail!("a client pinned to another CA: {other:?}"),
    }

    // Another ALPN: HTTP/3's, and an older Boussole one.
    for alpn in [&b"h3"[..], b"boussole/0"] {
        let code = alpn_refusal(addr, &ca_der, alpn).await?;
        ensure!(
            code == NO_APPLICATION_PROTOCOL,
            "ALPN {:?}: QUIC error {code:#x}",
            String::from_utf8_lossy(alpn)
        );
        tried.push(format!(
            "ALPN {}: TLS alert no_application_protocol",
            String::from_utf8_lossy(alpn)
        ));
    }

    // Paired, but without its token, with a wrong one, and with an older protocol.
    let cases = [
        (
            "no token",
            hello("tablette_etrangere", None, PROTOCOL_VERSION),
            Refusal::BadToken,
        ),
        (
            "a wrong token",
            hello(
                "tablette_etrangere",
                Some(DeviceToken::random()),
                PROTOCOL_VERSION,
            ),
            Refusal::BadToken,
        ),
        (
            "an older protocol",
            hello(
                "tablette_etrangere",
                Some(token.clone()),
                PROTOCOL_VERSION - 1,
            ),
            Refusal::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs: PROTOCOL_VERSION - 1,
            },
        ),
    ];
    for (what, hello, expected) in cases {
        let got = refusal(addr, &ca_der, hello).await?;
        ensure!(got == expected, "{what}: refused with {got:?}");
        tried.push(format!("{what}: {got:?}"));
    }

    // A QUIC client that is not ours.
    match std::env::var("BOUSSOLE_AIOQUIC_PYTHON") {
        Ok(python) => {
            tokio::task::spawn_blocking(move || aioquic(&python, addr)).await??;
            tried.push("aioquic: h3, system roots, an HTTP request: refused".into());
        }
        Err(_) => eprintln!(
            "SKIPPED: the aioquic client (set BOUSSOLE_AIOQUIC_PYTHON to a Python with aioquic; \
             `cargo xtask test` does)"
        ),
    }

    // The pairing's own token still works after all that.
    let client = timeout(STEP, Client::connect(addr, &ca_der, hello_ok)).await??;
    client.close().await;
    let mid_game = devices.iter().all(|d| {
        d.stats()
            .last_snapshot
            .as_ref()
            .is_some_and(|s| s.ended.is_none())
    });

    let ended = wait_settled(&devices).await?;
    ensure!(
        ended.iter().all(|s| s.connections == 1),
        "no foreign peer disturbed the players: {:?}",
        ended.iter().map(|s| s.connections).collect::<Vec<_>>()
    );
    let _ = facilitator.join();
    submit(&director, Command::EndSession)?;
    let stats = stop_all(devices).await?;
    let session = serving
        .stop()
        .await
        .ok_or_else(|| anyhow!("the session thread gave nothing back"))?;
    check_success(session.engine())?;
    check_exactly_once(&device_events(session.store(), session.id())?, &stats)?;
    let events: usize = stats.iter().map(|(_, s)| s.events.len()).sum();
    eprintln!(
        "e2e_foreign: {} foreign attempts refused while the room played ({events} device \
         events logged once; game still on after the last knock: {mid_game}):\n  {}",
        tried.len(),
        tried.join("\n  ")
    );
    Ok(())
}
