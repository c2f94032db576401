//! Wire protocol between the director and its devices: serde messages encoded with postcard in
//! length-prefixed frames, the versioned handshake, PAKE pairing bound to the TLS connection,
//! discovery, content sync and clock sync, over QUIC (quinn + rustls). No Bevy.

pub mod clock;
pub mod content_path;
pub mod content_sync;
pub mod cues;
pub mod device_driver;
pub mod device_session;
pub mod discovery;
pub mod event;
pub mod manifest;
pub mod outbox;
pub mod pairing;
pub mod tls;
pub mod transport;
pub mod wire;

pub use event::{DeviceEvent, DeviceId, Health, ParticipantId};
