//! Simulated devices (headsets, room screens, terminals) that join a director over QUIC, with
//! their own clock offsets, for end-to-end tests, benchmarks and rehearsals.
//!
//! A [`SimDevice`] pairs with the director's code (or reuses a saved pairing), connects pinned
//! with backoff, keeps its events in an outbox until they are acknowledged, acknowledges every
//! cue once, and plays the puzzles answered at its station from the snapshots it gets: after
//! a think time, maybe a hint request and a wrong answer first, then the right answer built
//! from the puzzle's solution check. [`lineup::seats`] places one device per station.
//! [`proxy::FaultProxy`] puts a lossy, jittery, cuttable UDP link between devices and the
//! director.
//!
//! ```no_run
//! # async fn demo(scenario: std::sync::Arc<boussole_content::scenario::Scenario>) -> Result<(), boussole_sim::SimError> {
//! use boussole_sim::{SimConfig, SimDevice, lineup};
//! let addr = "127.0.0.1:4433".parse().unwrap_or_else(|_| unreachable!());
//! let code = boussole_protocol::pairing::PairingCode::parse("314159").unwrap_or_else(|_| unreachable!());
//! for seat in lineup::seats(&scenario, 5, "sim-") {
//!     let pairing = boussole_sim::pair(addr, code, &seat.device).await?;
//!     let device = SimDevice::start(SimConfig::new(seat), addr, pairing, scenario.clone())?;
//!     device.wait_until("the end", std::time::Duration::from_secs(60), |s| s.ended.is_some()).await?;
//! }
//! # Ok(()) }
//! ```

pub mod answer;
mod device;
pub mod lineup;
pub mod proxy;

pub use device::{
    ClockReport, ContentReport, CueTiming, SimConfig, SimDevice, SimError, SimHandle, SimStats,
    load_pairing, pair, save_pairing,
};
