//! Wire protocol between the director and its devices: serde messages encoded with postcard in
//! length-prefixed frames, the versioned handshake, PAKE pairing bound to the TLS connection,
//! discovery, content sync and clock sync, over QUIC (quinn + rustls). No Bevy. Filled in by the
//! engine-and-network issue; the device roles it carries are `boussole_content::cue::DeviceRole`.
