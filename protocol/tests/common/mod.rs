//! What the protocol's tests share.

use boussole_protocol::manifest::{FileEntry, Manifest, hash_bytes};

/// The manifest of `files` (path, bytes), as a director builds it from its folder.
///
/// # Panics
/// When the paths do not make a valid manifest (a test's own mistake).
#[expect(
    clippy::expect_used,
    reason = "test helper: bad paths are the test's bug"
)]
pub fn manifest_of<'a>(files: impl IntoIterator<Item = (&'a String, &'a Vec<u8>)>) -> Manifest {
    Manifest::new(
        files
            .into_iter()
            .map(|(path, bytes)| FileEntry {
                path: path.clone(),
                size: bytes.len() as u64,
                hash: hash_bytes(bytes),
            })
            .collect(),
    )
    .expect("a valid manifest")
}
