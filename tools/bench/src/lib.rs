//! Benchmarks run by `cargo xtask bench` in release builds, never in CI; each prints figures
//! (percentiles, ratios), and the command that reproduces them goes into `BENCHMARKS.md`.
