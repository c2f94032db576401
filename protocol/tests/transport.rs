//! The QUIC transport over loopback: pairing, pinned connections, refusals with their reasons,
//! isolation of a misbehaving connection, clock pings. Every wait is on an event or a reply;
//! timeouts only guard against a hang.

use boussole_protocol::DeviceId;
use boussole_protocol::pairing::{
    DeviceRegistry, MAX_WRONG_CODES, MemoryRegistry, OPEN_FOR, PairingCode, PairingState,
    WRONG_CODE_WINDOW,
};
use boussole_protocol::tls::{self, DirectorIdentity, SERVER_NAME};
use boussole_protocol::transport::{
    self, Backoff, Client, ClientError, ConnId, Server, ServerEvent, connect_with_backoff, pair,
};
use boussole_protocol::wire::{
    ClientMsg, DeviceToken, Doing, Hello, MAX_BOARD_CHARS, MAX_FRAME, PROTOCOL_VERSION, PointerRay,
    Pose, Refusal, Role, ServerMsg, Shows, encode_frame, read_frame, write_frame,
};
use boussole_protocol::{DeviceEvent, Health};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::time::timeout;

type Error = Box<dyn std::error::Error + Send + Sync>;
type TestResult = Result<(), Error>;

/// Guards every wait against a hang; nothing here should take more than a fraction of it.
const GUARD: Duration = Duration::from_secs(20);

const CONTENT: [u8; 32] = [0xC0; 32];

async fn guard<T>(what: &str, fut: impl Future<Output = T>) -> Result<T, Error> {
    timeout(GUARD, fut)
        .await
        .map_err(|_| format!("timed out waiting for {what}").into())
}

struct Director {
    server: Server,
    identity: DirectorIdentity,
    registry: Arc<MemoryRegistry>,
    pairing: PairingState,
    now: Arc<Mutex<Instant>>,
    _dir: TempDir,
}

impl Director {
    /// A director on 127.0.0.1 with a manual pairing clock and a session clock started 10 s ago.
    fn start() -> Result<Self, Error> {
        let dir = tempfile::tempdir()?;
        let identity = DirectorIdentity::load_or_create(dir.path(), "localhost")?;
        let registry = Arc::new(MemoryRegistry::new());
        let now = Arc::new(Mutex::new(Instant::now()));
        let clock = now.clone();
        let pairing = PairingState::with_clock(Arc::new(move || {
            *clock.lock().unwrap_or_else(|e| e.into_inner())
        }));
        pairing.open(PairingCode::parse("314159")?);
        let session_start = Instant::now()
            .checked_sub(Duration::from_secs(10))
            .ok_or("clock too young")?;
        let server = Server::bind_with_clock(
            "127.0.0.1:0".parse()?,
            &identity,
            registry.clone(),
            pairing.clone(),
            CONTENT,
            "Régie de test",
            session_start,
        )?;
        Ok(Self {
            server,
            identity,
            registry,
            pairing,
            now,
            _dir: dir,
        })
    }

    fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The code shown now (the window is open from the start).
    fn code(&self) -> Result<PairingCode, Error> {
        Ok(self.pairing.window().ok_or("pairing is closed")?.code)
    }

    fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// A device known to the registry, without going through pairing.
    fn enrol(&self, device: &str) -> Result<DeviceToken, Error> {
        let token = DeviceToken::random();
        self.registry.register(&DeviceId::from(device), &token)?;
        Ok(token)
    }

    /// Waits for the first event `pick` accepts, skipping others.
    async fn wait_for<T>(
        &mut self,
        mut pick: impl FnMut(ServerEvent) -> Option<T>,
    ) -> Result<T, Error> {
        guard("a server event", async {
            while let Some(event) = self.server.next().await {
                if let Some(found) = pick(event) {
                    return Ok(found);
                }
            }
            Err("the server closed".into())
        })
        .await?
    }

    async fn connected(&mut self, device: &str) -> Result<ConnId, Error> {
        let device = DeviceId::from(device);
        self.wait_for(|event| match event {
            ServerEvent::Connected { conn, hello, .. } if hello.device == device => {
                assert!(
                    hello.token.is_none(),
                    "the token is not handed to the director"
                );
                Some(conn)
            }
            _ => None,
        })
        .await
    }

    async fn refused(&mut self) -> Result<(Option<DeviceId>, Refusal), Error> {
        self.wait_for(|event| match event {
            ServerEvent::Refused {
                device, refusal, ..
            } => Some((device, refusal)),
            _ => None,
        })
        .await
    }
}

fn hello(device: &str, token: Option<DeviceToken>) -> Hello {
    Hello {
        protocol_version: PROTOCOL_VERSION,
        device: DeviceId::from(device),
        role: Role::Terminal,
        content_hash: CONTENT,
        token,
    }
}

fn health_event(seq: u64) -> ClientMsg {
    ClientMsg::Event {
        seq,
        event: DeviceEvent::Health(Health {
            audio_ok: true,
            ..Health::default()
        }),
    }
}

fn refusal(result: Result<impl std::fmt::Debug, ClientError>) -> Option<Refusal> {
    match result {
        Err(ClientError::Refused(refusal)) => Some(refusal),
        other => {
            eprintln!("expected a refusal, got {other:?}");
            None
        }
    }
}

#[tokio::test]
async fn pairing_gives_ca_and_token_then_a_pinned_session_works() -> TestResult {
    let mut director = Director::start()?;
    let device = DeviceId::from("terminal-1");
    let code = director.code()?;
    let pairing = guard("pairing", pair(director.addr(), code, &device)).await??;
    assert_eq!(pairing.ca_der, director.identity.ca_der());
    let paired = director
        .wait_for(|event| match event {
            ServerEvent::Paired { device } => Some(device),
            _ => None,
        })
        .await?;
    assert_eq!(paired, device);
    assert!(director.registry.check(&device, &pairing.token));

    let mut client = guard(
        "connecting",
        Client::connect(
            director.addr(),
            &pairing.ca_der,
            hello("terminal-1", Some(pairing.token.clone())),
        ),
    )
    .await??;
    assert_eq!(client.welcome().director_name, "Régie de test");
    assert!(client.welcome().content_in_sync);
    let conn = director.connected("terminal-1").await?;

    // Device → director, director → device, then a clean goodbye.
    guard("sending", client.send(health_event(1))).await??;
    let msg = director
        .wait_for(|event| match event {
            ServerEvent::Message { conn: c, msg } if c == conn => Some(msg),
            _ => None,
        })
        .await?;
    assert_eq!(msg, health_event(1));
    director.server.send(conn, ServerMsg::Ack { seq: 1 })?;
    assert_eq!(
        guard("the ack", client.recv()).await??,
        Some(ServerMsg::Ack { seq: 1 })
    );
    guard("closing", client.close()).await?;
    let reason = director
        .wait_for(|event| match event {
            ServerEvent::Disconnected { conn: c, reason } if c == conn => Some(reason),
            _ => None,
        })
        .await?;
    assert_eq!(reason, "bye");
    assert!(director.server.send(conn, ServerMsg::StopAll).is_err());
    Ok(())
}

#[tokio::test]
async fn a_wrong_code_fails_on_both_sides() -> TestResult {
    let mut director = Director::start()?;
    let device = DeviceId::from("casque-1");
    let wrong = PairingCode::parse("271828")?;
    let result = guard("pairing", pair(director.addr(), wrong, &device)).await?;
    assert_eq!(refusal(result), Some(Refusal::WrongPairingCode));
    assert_eq!(
        director.refused().await?,
        (Some(device.clone()), Refusal::WrongPairingCode)
    );
    assert!(!director.registry.knows(&device));
    Ok(())
}

#[tokio::test]
async fn six_wrong_codes_in_a_minute_lock_and_a_success_between_does_not_reset() -> TestResult {
    let mut director = Director::start()?;
    let device = DeviceId::from("casque-2");
    let wrong = PairingCode::parse("000000")?;
    let right = director.code()?;
    for attempt in 0..MAX_WRONG_CODES {
        if attempt == 2 {
            // A success in between changes nothing to the count of wrong codes.
            let ok = guard("pairing", pair(director.addr(), right, &device)).await??;
            assert!(director.registry.check(&device, &ok.token));
        }
        let result = guard("pairing", pair(director.addr(), wrong, &device)).await?;
        assert_eq!(
            refusal(result),
            Some(Refusal::WrongPairingCode),
            "attempt {attempt}"
        );
        assert_eq!(director.refused().await?.1, Refusal::WrongPairingCode);
        director.advance(Duration::from_secs(1));
    }
    // Five wrong codes at 0..4 s: locked now, even for the right code, until the first is a
    // minute old.
    let result = guard("pairing", pair(director.addr(), right, &device)).await?;
    assert_eq!(
        refusal(result),
        Some(Refusal::PairingLocked { retry_after_s: 55 })
    );
    assert_eq!(
        director.refused().await?.1,
        Refusal::PairingLocked { retry_after_s: 55 }
    );
    director.advance(WRONG_CODE_WINDOW - Duration::from_secs(6));
    let result = guard("pairing", pair(director.addr(), right, &device)).await?;
    assert_eq!(
        refusal(result),
        Some(Refusal::PairingLocked { retry_after_s: 1 })
    );

    // When the first wrong code is a minute old (on the injected clock), one more try.
    director.advance(Duration::from_secs(1));
    let pairing = guard("pairing", pair(director.addr(), right, &device)).await??;
    assert!(director.registry.check(&device, &pairing.token));
    Ok(())
}

#[tokio::test]
async fn closed_pairing_is_refused_and_opening_draws_the_code_given() -> TestResult {
    let mut director = Director::start()?;
    let device = DeviceId::from("tablette-1");
    let code = director.code()?;
    director.pairing.close();
    let result = guard("pairing", pair(director.addr(), code, &device)).await?;
    let refused = refusal(result);
    assert_eq!(refused, Some(Refusal::PairingClosed));
    assert!(
        refused
            .map(|r| r.to_string())
            .is_some_and(|r| r.starts_with("l'appairage est fermé : demandez")),
        "said in French first"
    );
    assert_eq!(director.refused().await?.1, Refusal::PairingClosed);

    // Opened again with another code: the old one is wrong now, the new one pairs.
    let fresh = PairingCode::parse("271828")?;
    director.pairing.open(fresh);
    let old = guard("pairing", pair(director.addr(), code, &device)).await?;
    assert_eq!(refusal(old), Some(Refusal::WrongPairingCode));
    guard("pairing", pair(director.addr(), fresh, &device)).await??;

    // Ten minutes later (injected clock) it has closed by itself.
    director.advance(OPEN_FOR);
    assert_eq!(director.pairing.window(), None);
    let late = guard("pairing", pair(director.addr(), fresh, &device)).await?;
    assert_eq!(refusal(late), Some(Refusal::PairingClosed));
    Ok(())
}

#[tokio::test]
async fn twenty_devices_typing_the_code_at_once_all_pair() -> TestResult {
    let director = Director::start()?;
    let code = director.code()?;
    let addr = director.addr();
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let device = DeviceId::from(format!("ecran-{i:02}").as_str());
            tokio::spawn(async move {
                let result = pair(addr, code, &device).await;
                (device, result)
            })
        })
        .collect();
    for attempt in attempts {
        let (device, result) = guard("a pairing", attempt).await??;
        let pairing = result.map_err(|e| format!("{device}: {e}"))?;
        assert!(director.registry.check(&device, &pairing.token), "{device}");
    }
    assert_eq!(
        director.pairing.locked_for(),
        None,
        "no attempt counted as wrong"
    );
    Ok(())
}

#[tokio::test]
async fn a_client_pinned_to_another_ca_cannot_connect() -> TestResult {
    let director = Director::start()?;
    let token = director.enrol("ecran-1")?;
    let other_dir = tempfile::tempdir()?;
    let other = DirectorIdentity::load_or_create(other_dir.path(), "localhost")?;
    let result = guard(
        "connecting",
        Client::connect(
            director.addr(),
            other.ca_der(),
            hello("ecran-1", Some(token)),
        ),
    )
    .await?;
    match result {
        Err(ClientError::Handshake(reason)) => {
            assert!(reason.contains("certificate"), "{reason}");
        }
        other => return Err(format!("expected a certificate error, got {other:?}").into()),
    }
    Ok(())
}

#[tokio::test]
async fn missing_or_bad_tokens_and_unknown_devices_are_refused() -> TestResult {
    let mut director = Director::start()?;
    let token = director.enrol("terminal-2")?;
    let ca = director.identity.ca_der().to_vec();
    let cases = [
        (hello("terminal-2", None), Refusal::BadToken),
        (
            hello("terminal-2", Some(DeviceToken::random())),
            Refusal::BadToken,
        ),
        (hello("intrus", Some(token.clone())), Refusal::UnknownDevice),
        (hello("intrus", None), Refusal::UnknownDevice),
    ];
    for (hello, expected) in cases {
        let device = hello.device.clone();
        let result = guard("connecting", Client::connect(director.addr(), &ca, hello)).await?;
        assert_eq!(refusal(result), Some(expected.clone()));
        assert_eq!(director.refused().await?, (Some(device), expected));
    }
    // The right token still works afterwards.
    let client = guard(
        "connecting",
        Client::connect(director.addr(), &ca, hello("terminal-2", Some(token))),
    )
    .await??;
    director.connected("terminal-2").await?;
    guard("closing", client.close()).await?;
    Ok(())
}

#[tokio::test]
async fn another_protocol_version_is_refused_with_both_versions() -> TestResult {
    let mut director = Director::start()?;
    let token = director.enrol("casque-3")?;
    let hello = Hello {
        protocol_version: 99,
        ..hello("casque-3", Some(token))
    };
    let result = guard(
        "connecting",
        Client::connect(director.addr(), director.identity.ca_der(), hello),
    )
    .await?;
    let expected = Refusal::VersionMismatch {
        ours: PROTOCOL_VERSION,
        theirs: 99,
    };
    assert_eq!(refusal(result), Some(expected.clone()));
    assert_eq!(director.refused().await?.1, expected);
    Ok(())
}

/// A device of a build whose `Hello` this director cannot decode any more (an older layout:
/// version 2, its name, then fields that changed) is still refused by name with both
/// versions, and the room status lists it until it comes back with this version.
#[tokio::test]
async fn an_outdated_device_is_named_even_when_its_hello_does_not_decode() -> TestResult {
    let mut director = Director::start()?;
    let token = director.enrol("casque-4")?;
    let config =
        transport::quic_client_config(tls::client_config_pinned(director.identity.ca_der())?)?;
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let conn = guard(
        "connecting",
        endpoint.connect_with(config, director.addr(), SERVER_NAME)?,
    )
    .await??;
    let (mut send, mut recv) = conn.open_bi().await?;
    // Variant 0 (Hello), version 2, "casque-4", then a tail no build of ours ever sent.
    let mut body = postcard::to_stdvec(&(0u32, 2u16, "casque-4"))?;
    body.extend_from_slice(&[0xFF; 7]);
    let mut frame = u32::try_from(body.len())?.to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    send.write_all(&frame).await?;
    let answer = guard("the refusal", read_frame::<_, ServerMsg>(&mut recv)).await??;
    let expected = Refusal::VersionMismatch {
        ours: PROTOCOL_VERSION,
        theirs: 2,
    };
    assert_eq!(answer, Some(ServerMsg::Refused(expected.clone())));
    let (device, refusal) = director.refused().await?;
    assert_eq!(device, Some(DeviceId::from("casque-4")));
    assert_eq!(refusal, expected);
    let outdated = director.server.outdated_devices();
    assert_eq!(outdated.len(), 1);
    assert_eq!(
        (outdated[0].device.as_str(), outdated[0].version),
        ("casque-4", 2)
    );
    // Updated, it connects and leaves the list.
    let client = guard(
        "connecting",
        Client::connect(
            director.addr(),
            director.identity.ca_der(),
            hello("casque-4", Some(token)),
        ),
    )
    .await??;
    director.connected("casque-4").await?;
    assert!(director.server.outdated_devices().is_empty());
    guard("closing", client.close()).await?;
    Ok(())
}

#[tokio::test]
async fn a_content_mismatch_is_welcomed_and_told_to_sync() -> TestResult {
    let mut director = Director::start()?;
    let token = director.enrol("ecran-2")?;
    let hello = Hello {
        content_hash: [0; 32],
        ..hello("ecran-2", Some(token))
    };
    let client = guard(
        "connecting",
        Client::connect(director.addr(), director.identity.ca_der(), hello),
    )
    .await??;
    assert!(!client.welcome().content_in_sync);
    director.connected("ecran-2").await?;
    guard("closing", client.close()).await?;
    Ok(())
}

/// A connection made by hand, to send what a well-behaved client never would.
async fn raw_session(
    director: &Director,
    device: &str,
    token: DeviceToken,
) -> Result<
    (
        quinn::Endpoint,
        quinn::Connection,
        quinn::SendStream,
        quinn::RecvStream,
    ),
    Error,
> {
    let config =
        transport::quic_client_config(tls::client_config_pinned(director.identity.ca_der())?)?;
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let conn = endpoint
        .connect_with(config, director.addr(), SERVER_NAME)?
        .await?;
    let (mut send, mut recv) = conn.open_bi().await?;
    write_frame(&mut send, &ClientMsg::Hello(hello(device, Some(token)))).await?;
    let welcome = read_frame::<_, ServerMsg>(&mut recv).await?;
    assert!(
        matches!(welcome, Some(ServerMsg::Welcome { .. })),
        "{welcome:?}"
    );
    Ok((endpoint, conn, send, recv))
}

#[tokio::test]
async fn an_oversized_frame_closes_only_that_connection() -> TestResult {
    let mut director = Director::start()?;
    let bad_token = director.enrol("terminal-bad")?;
    let good_token = director.enrol("terminal-good")?;

    let mut good = guard(
        "connecting",
        Client::connect(
            director.addr(),
            director.identity.ca_der(),
            hello("terminal-good", Some(good_token)),
        ),
    )
    .await??;
    let good_conn = director.connected("terminal-good").await?;

    let (_endpoint, conn, mut send, mut recv) = guard(
        "raw session",
        raw_session(&director, "terminal-bad", bad_token),
    )
    .await??;
    let bad_conn = director.connected("terminal-bad").await?;

    // A length prefix of 4 GiB, and no body.
    send.write_all(&u32::MAX.to_be_bytes()).await?;
    let answer = guard("the refusal", read_frame::<_, ServerMsg>(&mut recv)).await??;
    assert_eq!(
        answer,
        Some(ServerMsg::Refused(Refusal::FrameTooLarge {
            size: u64::from(u32::MAX),
            max: MAX_FRAME as u64,
        }))
    );
    conn.close(0u32.into(), b"");
    let reason = director
        .wait_for(|event| match event {
            ServerEvent::Disconnected { conn, reason } if conn == bad_conn => Some(reason),
            _ => None,
        })
        .await?;
    assert!(reason.contains("frame too large"), "{reason}");

    // The other device is unaffected.
    guard("sending", good.send(health_event(7))).await??;
    let msg = director
        .wait_for(|event| match event {
            ServerEvent::Message { conn, msg } if conn == good_conn => Some(msg),
            _ => None,
        })
        .await?;
    assert_eq!(msg, health_event(7));
    director.server.send(good_conn, ServerMsg::Ack { seq: 7 })?;
    assert_eq!(
        guard("the ack", good.recv()).await??,
        Some(ServerMsg::Ack { seq: 7 })
    );
    assert_eq!(director.server.connections(), vec![good_conn]);
    Ok(())
}

#[tokio::test]
async fn a_malformed_first_frame_is_refused_with_its_reason() -> TestResult {
    let mut director = Director::start()?;
    let config =
        transport::quic_client_config(tls::client_config_pinned(director.identity.ca_der())?)?;
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let conn = guard(
        "connecting",
        endpoint.connect_with(config, director.addr(), SERVER_NAME)?,
    )
    .await??;
    let (mut send, mut recv) = conn.open_bi().await?;
    // A 5-byte body naming no message variant.
    send.write_all(&[0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        .await?;
    let answer = guard("the refusal", read_frame::<_, ServerMsg>(&mut recv)).await??;
    assert!(
        matches!(answer, Some(ServerMsg::Refused(Refusal::Malformed(_)))),
        "{answer:?}"
    );
    conn.close(0u32.into(), b"");
    let (device, refusal) = director.refused().await?;
    assert_eq!(device, None);
    assert!(matches!(refusal, Refusal::Malformed(_)), "{refusal:?}");

    // A frame that is valid but not a Hello.
    let conn = guard(
        "connecting",
        endpoint.connect_with(
            transport::quic_client_config(tls::client_config_pinned(director.identity.ca_der())?)?,
            director.addr(),
            SERVER_NAME,
        )?,
    )
    .await??;
    let (mut send, mut recv) = conn.open_bi().await?;
    send.write_all(&encode_frame(&ClientMsg::ClockPing { t0_ms: 1 })?)
        .await?;
    let answer = guard("the refusal", read_frame::<_, ServerMsg>(&mut recv)).await??;
    assert!(
        matches!(&answer, Some(ServerMsg::Refused(Refusal::Malformed(why))) if why.contains("ClockPing")),
        "{answer:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_clock_ping_gets_a_pong_on_the_session_clock() -> TestResult {
    let mut director = Director::start()?;
    let token = director.enrol("casque-4")?;
    let mut client = guard(
        "connecting",
        Client::connect(
            director.addr(),
            director.identity.ca_der(),
            hello("casque-4", Some(token)),
        ),
    )
    .await??;
    let conn = director.connected("casque-4").await?;
    guard(
        "sending",
        client.send(ClientMsg::ClockPing { t0_ms: 123_456 }),
    )
    .await??;
    let pong = guard("the pong", client.recv()).await??;
    let Some(ServerMsg::ClockPong {
        t0_ms,
        t1_ms,
        t2_ms,
    }) = pong
    else {
        return Err(format!("expected a pong, got {pong:?}").into());
    };
    assert_eq!(t0_ms, 123_456);
    assert!(t1_ms <= t2_ms, "{t1_ms} > {t2_ms}");
    // The session clock started 10 s before the server did.
    assert!(t1_ms >= 10_000, "{t1_ms}");
    assert!(t2_ms <= director.server.clock_ms());
    // The transport answered on its own: the director saw no message.
    director.server.send(conn, ServerMsg::StopAll)?;
    assert_eq!(
        guard("stop", client.recv()).await??,
        Some(ServerMsg::StopAll)
    );
    Ok(())
}

#[tokio::test]
async fn backoff_returns_a_refusal_at_once_and_gives_up_on_silence() -> TestResult {
    let mut director = Director::start()?;
    let ca = director.identity.ca_der().to_vec();
    let patient = Backoff {
        first: Duration::from_secs(30),
        max: Duration::from_secs(60),
        attempts: 5,
        connect_timeout: Duration::from_secs(5),
    };
    // A refusal is final: with 30 s between attempts, a retry would trip the guard.
    let result = guard(
        "a refusal",
        connect_with_backoff(director.addr(), &ca, &hello("inconnu", None), &patient),
    )
    .await?;
    assert_eq!(refusal(result), Some(Refusal::UnknownDevice));
    director.refused().await?;

    // Nobody answers on this socket: each attempt times out, and the attempts are bounded.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let quick = Backoff {
        first: Duration::from_millis(20),
        max: Duration::from_millis(40),
        attempts: 3,
        connect_timeout: Duration::from_millis(300),
    };
    let result = guard(
        "giving up",
        connect_with_backoff(silent.local_addr()?, &ca, &hello("x", None), &quick),
    )
    .await?;
    assert!(matches!(result, Err(ClientError::Timeout(_))), "{result:?}");

    // And it connects when the director is there.
    let token = director.enrol("casque-5")?;
    let client = guard(
        "connecting",
        connect_with_backoff(
            director.addr(),
            &ca,
            &hello("casque-5", Some(token)),
            &Backoff::default(),
        ),
    )
    .await??;
    director.connected("casque-5").await?;
    guard("closing", client.close()).await?;
    Ok(())
}

#[tokio::test]
async fn poses_travel_on_datagrams_and_bad_ones_are_dropped() -> TestResult {
    let mut director = Director::start()?;
    let device = DeviceId::from("casque-1");
    let pairing = guard("pairing", pair(director.addr(), director.code()?, &device)).await??;
    let client = guard(
        "connecting",
        Client::connect(
            director.addr(),
            &pairing.ca_der,
            hello("casque-1", Some(pairing.token.clone())),
        ),
    )
    .await??;
    let conn = director.connected("casque-1").await?;
    let pose = Pose {
        device_ms: 1234,
        position_m: [0.5, 1.2, -2.0],
        orientation: [0.0, 0.0, 0.0, 1.0],
        pointer: Some(PointerRay {
            origin_m: [0.7, 1.0, -2.1],
            direction: [0.0, -0.6, -0.8],
        }),
        shows: Some(Shows {
            doing: Doing::Task,
            // The longest board, in letters of two UTF-8 bytes each.
            board: "é".repeat(MAX_BOARD_CHARS),
        }),
    };
    // Datagrams may be lost even on loopback: send until one arrives (the guard bounds it).
    let sender = async {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            if let Err(e) = client.send_pose(&pose) {
                break e;
            }
        }
    };
    let received = director.wait_for(|event| match event {
        ServerEvent::Pose { conn: c, pose } if c == conn => Some(pose),
        _ => None,
    });
    let got = tokio::select! {
        r = received => r?,
        e = sender => return Err(format!("sending poses failed: {e}").into()),
    };
    assert_eq!(got, pose);
    assert_eq!(Pose::from_datagram(&[0xff; 500]), None, "oversized");
    let nan = Pose {
        position_m: [f32::NAN, 0.0, 0.0],
        ..pose.clone()
    };
    // A pose that reads but could not be a head's is read, and judged implausible (the
    // director counts it ignored).
    let read = Pose::from_datagram(&nan.to_datagram()).ok_or("a NaN pose still decodes")?;
    assert!(!read.is_plausible(), "not finite");
    assert!(pose.is_plausible());
    let far = Pose {
        position_m: [5_000.0, 0.0, 0.0],
        ..pose.clone()
    };
    assert!(!far.is_plausible(), "5 km away");
    let squashed = Pose {
        orientation: [0.0, 0.0, 0.0, 0.5],
        ..pose.clone()
    };
    assert!(!squashed.is_plausible(), "not a unit quaternion");
    let wild_pointer = Pose {
        pointer: Some(PointerRay {
            origin_m: [0.0, 1.0, 0.0],
            direction: [0.0, f32::INFINITY, 0.0],
        }),
        ..pose.clone()
    };
    assert!(!wild_pointer.is_plausible(), "a pointer going nowhere");
    let no_pointer = Pose {
        pointer: None,
        ..pose.clone()
    };
    assert!(no_pointer.is_plausible(), "nothing pointing is fine");
    let long_board = Pose {
        shows: Some(Shows {
            doing: Doing::Task,
            board: "a".repeat(MAX_BOARD_CHARS + 1),
        }),
        ..pose.clone()
    };
    assert!(!long_board.is_plausible(), "a board over its length");
    assert!(
        pose.to_datagram().len() <= boussole_protocol::wire::MAX_POSE_DATAGRAM,
        "a pose with its pointer fits a datagram"
    );
    Ok(())
}
