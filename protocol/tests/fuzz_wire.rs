//! Fuzzing of the wire decoder with proptest: arbitrary bytes and mutated valid frames go
//! through [`decode_body`] for every message type and through [`FrameReader`] and
//! [`read_frame_limited`] fed in arbitrary chunks. Nothing panics, errors are errors, and
//! valid messages round-trip, also when their frames arrive split anywhere.
//!
//! The budget is proptest's: 256 cases per property unless `PROPTEST_CASES` says otherwise
//! (RELIABILITY.md gives the longer run).
#![expect(
    clippy::panic,
    reason = "helpers fail the property with what they found, as an assertion would"
)]

use boussole_protocol::wire::{
    ClientMsg, DeviceToken, FrameError, FrameReader, Hello, Pose, Refusal, Role, ServerMsg,
    Snapshot, decode_body, encode_frame, read_frame_limited,
};
use boussole_protocol::{DeviceEvent, DeviceId, Health};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// A reader that hands out `data` in chunks of the given sizes (then the rest at once).
struct Chunked {
    data: Vec<u8>,
    sizes: Vec<usize>,
    pos: usize,
    turn: usize,
}

impl AsyncRead for Chunked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let left = this.data.len() - this.pos;
        let size = this
            .sizes
            .get(this.turn)
            .copied()
            .unwrap_or(left)
            .clamp(1, left.max(1))
            .min(left)
            .min(buf.remaining());
        this.turn += 1;
        if let Some(bytes) = this.data.get(this.pos..this.pos + size) {
            buf.put_slice(bytes);
        }
        this.pos += size;
        Poll::Ready(Ok(()))
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt.block_on(f),
        Err(e) => panic!("no runtime: {e}"),
    }
}

/// Reads frames of type `T` until the end or an error; returns what was read and the error.
fn read_all<T: serde::de::DeserializeOwned>(
    data: Vec<u8>,
    sizes: Vec<usize>,
    max: usize,
) -> (Vec<T>, Option<FrameError>) {
    block_on(async move {
        let mut reader = Chunked {
            data,
            sizes,
            pos: 0,
            turn: 0,
        };
        let mut frames = FrameReader::new(max);
        let mut out = Vec::new();
        loop {
            match frames.read::<_, T>(&mut reader).await {
                Ok(Some(msg)) => out.push(msg),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    })
}

fn id() -> impl Strategy<Value = String> {
    "[a-z_0-9]{0,12}"
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        (
            any::<u16>(),
            id(),
            any::<[u8; 32]>(),
            proptest::option::of(any::<[u8; 32]>()),
            0u8..5
        )
            .prop_map(|(v, d, hash, token, role)| {
                ClientMsg::Hello(Hello {
                    protocol_version: v,
                    device: DeviceId::from(d.as_str()),
                    role: match role {
                        0 => Role::Headset,
                        1 => Role::Screen,
                        2 => Role::Terminal,
                        3 => Role::Console { observer: true },
                        _ => Role::Console { observer: false },
                    },
                    content_hash: hash,
                    token: token.map(DeviceToken::from_bytes),
                })
            }),
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(seq, instance, device_ms)| {
            ClientMsg::Event {
                seq,
                event: DeviceEvent::CueApplied {
                    instance,
                    device_ms,
                },
            }
        }),
        (
            any::<u64>(),
            proptest::option::of(any::<u8>()),
            any::<bool>(),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(seq, battery, audio, rtt)| ClientMsg::Event {
                seq,
                event: DeviceEvent::Health(Health {
                    battery_percent: battery,
                    audio_ok: audio,
                    xr_flat_fallback: !audio,
                    rtt_ms: rtt,
                    content_in_sync: audio,
                }),
            }),
        any::<u64>().prop_map(|t0_ms| ClientMsg::ClockPing { t0_ms }),
        (any::<[u8; 32]>(), any::<u64>())
            .prop_map(|(hash, offset)| ClientMsg::ContentRequest { hash, offset }),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(ClientMsg::Command),
        Just(ClientMsg::Bye),
    ]
}

fn server_msg() -> impl Strategy<Value = ServerMsg> {
    prop_oneof![
        (id(), proptest::option::of(id()), any::<u64>()).prop_map(|(name, session, clock)| {
            ServerMsg::Welcome {
                director_name: name,
                session,
                clock_ms: clock,
            }
        }),
        any::<u64>().prop_map(|seq| ServerMsg::Ack { seq }),
        proptest::collection::vec(any::<u64>(), 0..300).prop_map(|seqs| ServerMsg::Acks { seqs }),
        (any::<u16>(), any::<u16>()).prop_map(|(ours, theirs)| ServerMsg::Refused(
            Refusal::VersionMismatch { ours, theirs }
        )),
        id().prop_map(|why| ServerMsg::Refused(Refusal::Malformed(why))),
        (any::<u64>(), id(), any::<u64>()).prop_map(|(instance, cue, start_at_ms)| {
            ServerMsg::Cue {
                instance,
                cue: cue.as_str().into(),
                start_at_ms,
            }
        }),
        (id(), any::<bool>(), any::<i64>(), any::<u64>()).prop_map(|(s, running, rem, at)| {
            ServerMsg::Snapshot(Snapshot {
                scenario: s,
                phase: None,
                timer_running: running,
                remaining_ms: rem,
                at_ms: at,
                open: Vec::new(),
                solved: Vec::new(),
                ended: None,
            })
        }),
        (
            any::<[u8; 32]>(),
            any::<u64>(),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..128)
        )
            .prop_map(|(hash, offset, total, bytes)| ServerMsg::ContentChunk {
                hash,
                offset,
                total,
                bytes
            }),
        id().prop_map(ServerMsg::Notice),
        Just(ServerMsg::StopAll),
    ]
}

/// A mutation of a byte string: flip, set, insert or delete at a position (taken modulo the
/// length), or truncate.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % len };
        match *m {
            Mutation::Flip(i, b) if len > 0 => bytes[at(i)] ^= b,
            Mutation::Set(i, b) if len > 0 => bytes[at(i)] = b,
            Mutation::Insert(i, b) => bytes.insert(if len == 0 { 0 } else { i % (len + 1) }, b),
            Mutation::Delete(i) if len > 0 => {
                bytes.remove(at(i));
            }
            Mutation::Truncate(i) => bytes.truncate(if len == 0 { 0 } else { i % len }),
            _ => {}
        }
    }
}

/// Decodes `body` as `T`; when it decodes, re-encoding gives a body that decodes to the same.
fn decodes_consistently<T>(body: &[u8])
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    if let Ok(msg) = decode_body::<T>(body) {
        let again = encode_frame(&msg).map(|f| decode_body::<T>(f.get(4..).unwrap_or_default()));
        match again {
            Ok(Ok(back)) => assert_eq!(back, msg),
            other => panic!("{msg:?} decoded but does not re-encode: {other:?}"),
        }
    }
}

/// The seed of CI's cases.
const SEED: u64 = 0x0B05_5011;

/// Proptest's configuration (cases from `PROPTEST_CASES`, 256 by default) divided by
/// `divisor` for the costlier properties, with a fixed seed unless `PROPTEST_RNG_SEED` gives
/// one, so CI tries the same cases every run.
fn config(divisor: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    config.cases = (config.cases / divisor).max(1);
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    config
}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        decodes_consistently::<ClientMsg>(&body);
        decodes_consistently::<ServerMsg>(&body);
        decodes_consistently::<Hello>(&body);
        decodes_consistently::<Refusal>(&body);
        let _ = Pose::from_datagram(&body);
    }

    #[test]
    fn arbitrary_streams_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..512),
        sizes in proptest::collection::vec(1usize..64, 0..16),
        max in 0usize..300,
    ) {
        let (_, err) = read_all::<ClientMsg>(data.clone(), sizes.clone(), max);
        if let Some(FrameError::TooLarge { size, max: limit }) = err {
            prop_assert!(size > limit);
        }
        let _ = read_all::<ServerMsg>(data.clone(), sizes, max);
        let _ = block_on(async {
            let mut r = data.as_slice();
            read_frame_limited::<_, ClientMsg>(&mut r, max).await
        });
    }

    #[test]
    fn valid_client_messages_round_trip_in_any_chunking(
        msgs in proptest::collection::vec(client_msg(), 1..8),
        sizes in proptest::collection::vec(1usize..40, 0..64),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend(encode_frame(m).map_err(|e| TestCaseError::fail(e.to_string()))?);
        }
        let (read, err) = read_all::<ClientMsg>(stream, sizes, 1 << 20);
        prop_assert!(err.is_none(), "{err:?}");
        prop_assert_eq!(read, msgs);
    }

    #[test]
    fn valid_server_messages_round_trip_in_any_chunking(
        msgs in proptest::collection::vec(server_msg(), 1..8),
        sizes in proptest::collection::vec(1usize..40, 0..64),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend(encode_frame(m).map_err(|e| TestCaseError::fail(e.to_string()))?);
        }
        let (read, err) = read_all::<ServerMsg>(stream, sizes, 1 << 20);
        prop_assert!(err.is_none(), "{err:?}");
        prop_assert_eq!(read, msgs);
    }

    #[test]
    fn mutated_frames_are_errors_or_messages_never_panics(
        msgs in proptest::collection::vec(client_msg(), 1..4),
        replies in proptest::collection::vec(server_msg(), 1..4),
        mutations in proptest::collection::vec(mutation(), 1..6),
        sizes in proptest::collection::vec(1usize..40, 0..16),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend(encode_frame(m).map_err(|e| TestCaseError::fail(e.to_string()))?);
        }
        mutate(&mut stream, &mutations);
        let (_, _) = read_all::<ClientMsg>(stream.clone(), sizes.clone(), 1 << 16);
        decodes_consistently::<ClientMsg>(stream.get(4..).unwrap_or_default());

        let mut stream = Vec::new();
        for m in &replies {
            stream.extend(encode_frame(m).map_err(|e| TestCaseError::fail(e.to_string()))?);
        }
        mutate(&mut stream, &mutations);
        let (_, _) = read_all::<ServerMsg>(stream.clone(), sizes, 1 << 16);
        decodes_consistently::<ServerMsg>(stream.get(4..).unwrap_or_default());
    }
}
