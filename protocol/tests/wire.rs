//! Wire messages and framing: every message round-trips, the frame limits hold before anything
//! is allocated, and no input, however malformed, makes decoding panic.

use boussole_content::Answer;
use boussole_content::ids::{
    CueId, EndingId, HotspotId, ImmersionId, PhaseId, PuzzleId, QuestionId, StationId, TaskId,
};
use boussole_protocol::pairing::{PairingClientStep, PairingServerStep};
use boussole_protocol::wire::{
    ClientMsg, DeviceToken, FrameError, FrameReader, Hello, LinkStatus, LogEntry, MAX_FRAME,
    OutdatedDevice, PROTOCOL_VERSION, PersonalName, Refusal, Role, RoomStatus, ServerMsg, Snapshot,
    announced_version, decode_body, encode_frame, read_frame, read_frame_limited, write_frame,
};
use boussole_protocol::{DeviceEvent, DeviceId, Health, ParticipantId};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn hello(token: Option<DeviceToken>) -> Hello {
    Hello {
        protocol_version: PROTOCOL_VERSION,
        device: DeviceId::from("casque-1"),
        role: Role::Console { observer: true },
        content_hash: [9; 32],
        token,
    }
}

fn events() -> Vec<DeviceEvent> {
    vec![
        DeviceEvent::Answer {
            puzzle: PuzzleId::from("p_code"),
            station: StationId::from("terminal-1"),
            participant: Some(ParticipantId::from("P3")),
            answer: Answer::Text("Égalité".into()),
        },
        DeviceEvent::Answer {
            puzzle: PuzzleId::from("p_ordre"),
            station: StationId::from("terminal-2"),
            participant: None,
            answer: Answer::Items(vec!["a".into(), "b".into()]),
        },
        DeviceEvent::Answer {
            puzzle: PuzzleId::from("p_nombre"),
            station: StationId::from("terminal-2"),
            participant: None,
            answer: Answer::Number(-12.5),
        },
        DeviceEvent::HintRequest {
            puzzle: PuzzleId::from("p_code"),
            station: StationId::from("terminal-1"),
            participant: None,
        },
        DeviceEvent::CueApplied {
            instance: 7,
            device_ms: u64::MAX,
        },
        DeviceEvent::CueFinished { instance: 7 },
        DeviceEvent::Health(Health {
            battery_percent: Some(81),
            audio_ok: true,
            xr_flat_fallback: true,
            rtt_ms: Some(4),
            content_in_sync: false,
        }),
        DeviceEvent::HotspotSeen {
            immersion: ImmersionId::from("boulangerie"),
            hotspot: HotspotId::from("four"),
        },
        DeviceEvent::TaskDone {
            immersion: ImmersionId::from("boulangerie"),
            task: TaskId::from("peser"),
            correct: false,
        },
        DeviceEvent::Rating {
            question: QuestionId::from("appeal"),
            participant: ParticipantId::from("P1"),
            value: 4,
            comment: Some("trop chaud près du four".into()),
        },
        DeviceEvent::Problem {
            what: "son assets/klaxon.wav corrompu ou dans un format inconnu".into(),
        },
        DeviceEvent::ImmersionRating {
            immersion: ImmersionId::from("tutoriel"),
            question: QuestionId::from("appeal"),
            participant: ParticipantId::from("P2"),
            value: 5,
        },
    ]
}

fn client_msgs() -> Vec<ClientMsg> {
    let mut msgs = vec![
        ClientMsg::Hello(hello(Some(DeviceToken::from_bytes([3; 32])))),
        ClientMsg::Hello(hello(None)),
        ClientMsg::ClockPing { t0_ms: 123_456 },
        ClientMsg::ContentRequest {
            hash: [1; 32],
            offset: 1 << 40,
        },
        ClientMsg::Command(vec![0, 1, 2, 255]),
        ClientMsg::Bye,
        ClientMsg::Pairing(PairingClientStep::Start {
            protocol_version: PROTOCOL_VERSION,
            device: DeviceId::from("écran-salle"),
            spake: vec![0x41; 33],
        }),
        ClientMsg::Pairing(PairingClientStep::Confirm { confirm: [5; 32] }),
        ClientMsg::ParticipantName {
            participant: "P3".into(),
            name: Some(PersonalName("Zoé Lefèvre".into())),
        },
        ClientMsg::ParticipantName {
            participant: "P3".into(),
            name: None,
        },
        ClientMsg::PairingWindow { open: true },
        ClientMsg::PairingWindow { open: false },
    ];
    msgs.extend(
        events()
            .into_iter()
            .enumerate()
            .map(|(i, event)| ClientMsg::Event {
                seq: i as u64,
                event,
            }),
    );
    for role in [
        Role::Headset,
        Role::Screen,
        Role::Terminal,
        Role::Console { observer: false },
    ] {
        msgs.push(ClientMsg::Hello(Hello {
            role,
            ..hello(None)
        }));
    }
    msgs
}

fn refusals() -> Vec<Refusal> {
    vec![
        Refusal::VersionMismatch {
            ours: 1,
            theirs: 99,
        },
        Refusal::UnknownDevice,
        Refusal::BadToken,
        Refusal::WrongPairingCode,
        Refusal::PairingLocked { retry_after_s: 60 },
        Refusal::ContentMismatch,
        Refusal::Malformed("octets en trop".into()),
        Refusal::FrameTooLarge {
            size: u64::from(u32::MAX),
            max: MAX_FRAME as u64,
        },
        Refusal::PairingClosed,
        Refusal::PairingBusy,
    ]
}

fn server_msgs() -> Vec<ServerMsg> {
    let mut msgs = vec![
        ServerMsg::Welcome {
            director_name: "Régie salle 2".into(),
            session: Some("2025-03-14-matin".into()),
            clock_ms: 42,
        },
        ServerMsg::Welcome {
            director_name: String::new(),
            session: None,
            clock_ms: 0,
        },
        ServerMsg::Ack { seq: u64::MAX },
        ServerMsg::Acks {
            seqs: (1..=boussole_protocol::wire::MAX_ACKS as u64)
                .map(|s| s * 1_000_003)
                .collect(),
        },
        ServerMsg::Cue {
            instance: 3,
            cue: CueId::from("q_alarme"),
            start_at_ms: 90_000,
        },
        ServerMsg::StopAll,
        ServerMsg::Hint {
            puzzle: PuzzleId::from("p_code"),
            level: 2,
        },
        ServerMsg::Snapshot(Snapshot {
            scenario: "scape_attitudes".into(),
            phase: Some(PhaseId::from("acte_2")),
            timer_running: true,
            remaining_ms: -1_500,
            at_ms: 600_000,
            open: vec![PuzzleId::from("p_code")],
            solved: vec![PuzzleId::from("p_ordre"), PuzzleId::from("p_nombre")],
            ended: Some(EndingId::from("fin_heureuse")),
        }),
        ServerMsg::Snapshot(Snapshot {
            scenario: String::new(),
            phase: None,
            timer_running: false,
            remaining_ms: 0,
            at_ms: 0,
            open: vec![],
            solved: vec![],
            ended: None,
        }),
        ServerMsg::ClockPong {
            t0_ms: 1,
            t1_ms: 2,
            t2_ms: 3,
        },
        ServerMsg::ContentChunk {
            hash: [7; 32],
            offset: 0,
            total: 3,
            bytes: vec![1, 2, 3],
        },
        ServerMsg::Notice("La régie redémarre".into()),
        ServerMsg::Pairing(PairingServerStep::Reply {
            spake: vec![0x42; 33],
            confirm: [6; 32],
        }),
        ServerMsg::Pairing(PairingServerStep::Grant {
            ca_der: vec![0x30; 400],
            token: DeviceToken::from_bytes([8; 32]),
            mac: [9; 32],
        }),
        ServerMsg::Log(vec![
            LogEntry {
                seq: 1,
                at_ms: 0,
                input: vec![0, 1, 2],
            },
            LogEntry {
                seq: 2,
                at_ms: 1_500,
                input: Vec::new(),
            },
        ]),
        ServerMsg::Room(RoomStatus {
            pairing_code: Some("042137".into()),
            links: vec![LinkStatus {
                device: DeviceId("console-a".into()),
                role: Role::Console { observer: true },
                rtt_ms: Some(3),
                addr: "192.168.1.20:50123".into(),
            }],
            pairing_open_s: Some(600),
            pairing_locked_s: Some(42),
            outdated: vec![OutdatedDevice {
                device: DeviceId("casque_2".into()),
                version: 2,
                addr: "192.168.1.31:40211".into(),
            }],
        }),
        ServerMsg::Room(RoomStatus::default()),
        ServerMsg::Immersion {
            immersion: Some("cariste_port".into()),
            participant: Some("P3".into()),
            started_at_ms: Some(125_000),
            tutorial_done: true,
        },
        ServerMsg::Immersion {
            immersion: None,
            participant: None,
            started_at_ms: None,
            tutorial_done: false,
        },
    ];
    msgs.extend(refusals().into_iter().map(ServerMsg::Refused));
    msgs
}

/// A reader that hands out one byte per read, to exercise partial reads.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
}

impl Trickle {
    fn new(data: Vec<u8>) -> Self {
        Self { data, pos: 0 }
    }
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(&byte) = self.data.get(self.pos)
            && buf.remaining() > 0
        {
            buf.put_slice(&[byte]);
            self.pos += 1;
        }
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn every_message_round_trips() -> TestResult {
    for msg in client_msgs() {
        let mut out = Vec::new();
        write_frame(&mut out, &msg).await?;
        let mut slice = out.as_slice();
        assert_eq!(
            read_frame::<_, ClientMsg>(&mut slice).await?,
            Some(msg.clone())
        );
        assert_eq!(
            read_frame::<_, ClientMsg>(&mut slice).await?,
            None,
            "{msg:?}"
        );
    }
    for msg in server_msgs() {
        let frame = encode_frame(&msg)?;
        let mut slice = frame.as_slice();
        assert_eq!(
            read_frame::<_, ServerMsg>(&mut slice).await?,
            Some(msg.clone())
        );
    }
    Ok(())
}

#[tokio::test]
async fn frames_survive_partial_reads_back_to_back() -> TestResult {
    let msgs = server_msgs();
    let mut stream = Vec::new();
    for msg in &msgs {
        stream.extend(encode_frame(msg)?);
    }

    let mut trickle = Trickle::new(stream.clone());
    for msg in &msgs {
        assert_eq!(
            read_frame::<_, ServerMsg>(&mut trickle).await?.as_ref(),
            Some(msg)
        );
    }
    assert_eq!(read_frame::<_, ServerMsg>(&mut trickle).await?, None);

    // The cancel-safe reader gets whole buffers at once and splits them.
    let mut reader = FrameReader::default();
    let mut slice = stream.as_slice();
    for msg in &msgs {
        assert_eq!(
            reader.read::<_, ServerMsg>(&mut slice).await?.as_ref(),
            Some(msg)
        );
    }
    assert_eq!(reader.read::<_, ServerMsg>(&mut slice).await?, None);

    let mut reader = FrameReader::default();
    let mut trickle = Trickle::new(stream);
    for msg in &msgs {
        assert_eq!(
            reader.read::<_, ServerMsg>(&mut trickle).await?.as_ref(),
            Some(msg)
        );
    }
    assert_eq!(reader.read::<_, ServerMsg>(&mut trickle).await?, None);
    Ok(())
}

#[tokio::test]
async fn oversized_length_is_refused_before_the_body() -> TestResult {
    // Only the prefix exists: a reader that waited for (or allocated) the body would report a
    // truncated stream instead.
    let prefix = u32::MAX.to_be_bytes().to_vec();
    let mut slice = prefix.as_slice();
    let err = read_frame::<_, ClientMsg>(&mut slice).await.err();
    assert!(
        matches!(err, Some(FrameError::TooLarge { size, max }) if size == u32::MAX as usize && max == MAX_FRAME),
        "{err:?}"
    );
    let refusal = err.and_then(|e| e.refusal());
    assert_eq!(
        refusal,
        Some(Refusal::FrameTooLarge {
            size: u64::from(u32::MAX),
            max: MAX_FRAME as u64
        })
    );

    let just_over = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
    let err = FrameReader::default()
        .read::<_, ClientMsg>(&mut just_over.as_slice())
        .await
        .err();
    assert!(matches!(err, Some(FrameError::TooLarge { .. })), "{err:?}");

    let frame = encode_frame(&ClientMsg::Command(vec![0; 100]))?;
    let err = read_frame_limited::<_, ClientMsg>(&mut frame.as_slice(), 50)
        .await
        .err();
    assert!(
        matches!(err, Some(FrameError::TooLarge { size, max: 50 }) if size > 100),
        "{err:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_limit_is_inclusive_and_writing_checks_it() -> TestResult {
    // Find the largest chunk whose frame body is exactly MAX_FRAME.
    let overhead = encode_frame(&ServerMsg::Notice(String::new()))?.len() - 4;
    let mut text = "a".repeat(MAX_FRAME - overhead - 2);
    while encode_frame(&ServerMsg::Notice(text.clone()))?.len() - 4 < MAX_FRAME {
        text.push('a');
    }
    let frame = encode_frame(&ServerMsg::Notice(text.clone()))?;
    assert_eq!(frame.len() - 4, MAX_FRAME);
    let back = read_frame::<_, ServerMsg>(&mut frame.as_slice()).await?;
    assert_eq!(back, Some(ServerMsg::Notice(text.clone())));

    text.push('a');
    let mut out = Vec::new();
    let err = write_frame(&mut out, &ServerMsg::Notice(text)).await.err();
    assert!(matches!(err, Some(FrameError::TooLarge { .. })), "{err:?}");
    assert!(out.is_empty(), "nothing is written when encoding fails");
    Ok(())
}

#[tokio::test]
async fn truncated_streams_and_leftovers_are_errors() -> TestResult {
    let frame = encode_frame(&ClientMsg::ClockPing { t0_ms: 99 })?;
    for cut in 1..frame.len() {
        let mut slice = &frame[..cut];
        let err = read_frame::<_, ClientMsg>(&mut slice).await.err();
        assert!(
            matches!(err, Some(FrameError::Truncated { .. })),
            "cut {cut}: {err:?}"
        );
        let err = FrameReader::default()
            .read::<_, ClientMsg>(&mut &frame[..cut])
            .await
            .err();
        assert!(
            matches!(err, Some(FrameError::Truncated { .. })),
            "cut {cut}: {err:?}"
        );
    }

    // A valid message followed by junk inside the same frame.
    let mut body = postcard::to_stdvec(&ClientMsg::Bye)?;
    body.push(0);
    let mut framed = (body.len() as u32).to_be_bytes().to_vec();
    framed.extend(&body);
    let err = read_frame::<_, ClientMsg>(&mut framed.as_slice())
        .await
        .err();
    assert!(matches!(err, Some(FrameError::Malformed(_))), "{err:?}");
    assert!(matches!(
        err.and_then(|e| e.refusal()),
        Some(Refusal::Malformed(_))
    ));

    // An empty body is not a message.
    let err = read_frame::<_, ClientMsg>(&mut [0u8, 0, 0, 0].as_slice())
        .await
        .err();
    assert!(matches!(err, Some(FrameError::Malformed(_))), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn random_and_mutated_input_never_panics() -> TestResult {
    let mut rng = StdRng::seed_from_u64(0xB0055013);
    let mut decoded = 0;
    for _ in 0..20_000 {
        // Short buffers half of the time, so that some decode (a body must be one whole message).
        let len = if rng.random_bool(0.5) {
            rng.random_range(0..4)
        } else {
            rng.random_range(0..200)
        };
        let mut body = vec![0u8; len];
        rng.fill_bytes(&mut body);
        if let Ok(msg) = decode_body::<ClientMsg>(&body) {
            decoded += 1;
            // Whatever decodes re-encodes to something that decodes to the same encoding (a
            // NaN answer is not equal to itself, so compare bytes).
            let again = encode_frame(&msg)?;
            let back: ClientMsg = decode_body(&again[4..])?;
            assert_eq!(encode_frame(&back)?, again);
        }
        let _ = decode_body::<ServerMsg>(&body);

        // The same bytes as a stream with a random prefix.
        let mut stream = rng
            .random_range(0..(2 * MAX_FRAME as u32))
            .to_be_bytes()
            .to_vec();
        stream.extend(&body);
        let _ = read_frame::<_, ServerMsg>(&mut stream.as_slice()).await;
        let _ = FrameReader::default()
            .read::<_, ClientMsg>(&mut stream.as_slice())
            .await;
    }
    assert!(decoded > 0, "some random buffers should decode");

    // Bit flips and cuts of every valid message.
    let valid: Vec<Vec<u8>> = client_msgs()
        .iter()
        .map(encode_frame)
        .chain(server_msgs().iter().map(encode_frame))
        .collect::<Result<_, _>>()?;
    for frame in &valid {
        for _ in 0..200 {
            let mut body = frame[4..].to_vec();
            let flips = rng.random_range(1..4);
            for _ in 0..flips {
                let i = rng.random_range(0..body.len());
                body[i] ^= 1 << rng.random_range(0..8);
            }
            body.truncate(rng.random_range(0..=body.len()));
            let _ = decode_body::<ClientMsg>(&body);
            let _ = decode_body::<ServerMsg>(&body);
        }
    }
    Ok(())
}

#[test]
fn tokens_never_show_in_debug() {
    let token = DeviceToken::from_bytes([0xAB; 32]);
    let text = format!(
        "{token:?} {:?} {:?}",
        hello(Some(token.clone())),
        ServerMsg::Pairing(PairingServerStep::Grant {
            ca_der: vec![],
            token: token.clone(),
            mac: [0; 32],
        })
    );
    assert!(!text.contains("171"), "{text}"); // 0xAB
    assert!(!text.to_lowercase().contains("ab, ab"), "{text}");
    assert!(text.contains("redacted"));
    assert_eq!(token, DeviceToken::from_bytes([0xAB; 32]));
    assert_ne!(token, DeviceToken::from_bytes([0xAC; 32]));
}

#[test]
fn names_never_show_in_debug() {
    let msg = ClientMsg::ParticipantName {
        participant: "P3".into(),
        name: Some(PersonalName("Zoé Lefèvre".into())),
    };
    let text = format!("{msg:?}");
    assert!(!text.contains("Zoé") && !text.contains("Lefèvre"), "{text}");
    assert!(text.contains("P3") && text.contains("masqué"), "{text}");
}

#[test]
fn refusals_read_in_french_then_english() {
    for refusal in refusals() {
        let text = refusal.to_string();
        assert!(text.contains(" / "), "{text}");
    }
    assert_eq!(
        Refusal::VersionMismatch {
            ours: 1,
            theirs: 99
        }
        .to_string(),
        "version de protocole incompatible (régie 1, appareil 99) / protocol version mismatch \
         (director 1, device 99)"
    );
}

/// The version and device of a first frame are read from its leading fields, whatever
/// follows: a `Hello`, a pairing `Start`, an older layout; nothing else.
#[test]
fn a_first_frame_announces_its_version_and_device() {
    let hello = ClientMsg::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        device: DeviceId("tablette_quai".into()),
        role: Role::Terminal,
        content_hash: [3; 32],
        token: None,
    });
    let body = postcard::to_stdvec(&hello).expect("encodes");
    assert_eq!(
        announced_version(&body),
        Some((PROTOCOL_VERSION, DeviceId("tablette_quai".into())))
    );
    let start = ClientMsg::Pairing(PairingClientStep::Start {
        protocol_version: 2,
        device: DeviceId("casque_1".into()),
        spake: vec![1; 33],
    });
    let body = postcard::to_stdvec(&start).expect("encodes");
    assert_eq!(
        announced_version(&body),
        Some((2, DeviceId("casque_1".into())))
    );
    let mut old = postcard::to_stdvec(&(0u32, 1u16, "ecran")).expect("encodes");
    old.extend_from_slice(&[0xFF; 5]);
    assert_eq!(announced_version(&old), Some((1, DeviceId("ecran".into()))));
    let ping = postcard::to_stdvec(&ClientMsg::ClockPing { t0_ms: 5 }).expect("encodes");
    assert_eq!(announced_version(&ping), None);
    assert_eq!(announced_version(&[]), None);
    assert_eq!(announced_version(&[0, 0xFF]), None);
}
