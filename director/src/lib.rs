//! The director: the sans-IO session engine (`handle(input, at) -> effects`), the cue runner,
//! the observation log in an encrypted SQLite store, the QUIC server, the evaluation (a pure
//! function of the log) and the CLI. No Bevy. It reads content through `boussole_content`.

pub mod backup;
pub mod day;
pub mod desk;
pub mod engine;
pub mod evaluation;
pub mod export;
pub mod figures;
pub mod files;
pub mod irr;
pub mod local;
pub mod network;
pub mod plan;
pub mod privacy;
pub mod record;
pub mod register;
pub mod retention;
pub mod roadmap;
pub mod runtime;
pub mod script;
pub mod server;
pub mod session;
pub mod store;
pub mod synthesis;
