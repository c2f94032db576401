//! Simulated devices (headsets, room screens, terminals) that join a director over QUIC, with
//! their own clock offsets and drift, for end-to-end tests, benchmarks and rehearsals. Filled in
//! by the engine-and-network issue.
