//! Wire protocol between the director and its devices: serde messages encoded with postcard in
//! length-prefixed frames, the versioned handshake, PAKE pairing bound to the TLS connection,
//! discovery, content sync and clock sync, over QUIC (quinn + rustls). No Bevy.

pub mod event;

pub use event::{DeviceEvent, DeviceId, Health, ParticipantId};
