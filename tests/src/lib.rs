//! End-to-end tests: a director and simulated devices over loopback QUIC play whole sessions.
//! The tests live in `tests/tests/`; this library holds their shared fixtures.

use std::path::PathBuf;

/// The repository root (the folder holding `content/` and `assets/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf)
}
