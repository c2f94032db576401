//! Content sync: the director's content and media as one [`Bundle`] (every file under
//! `content/{scenarios,immersions,scenes,grids,rubrics}` and `assets/`), its SHA-256 [`hash`]
//! that tells a device whether it is in sync, the postcard bytes sent in [`Chunk`]s, and the
//! device's resumable [`Download`] that checks the hash before anything is unpacked.
//!
//! [`hash`]: Bundle::hash

use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The folders of `content/` that are played, in the order of `boussole_content`'s kinds.
pub const CONTENT_KINDS: [&str; 5] = ["scenarios", "immersions", "scenes", "grids", "rubrics"];

/// Largest encoded bundle, bytes (1 GiB): the director refuses to build a larger one and a
/// device to decode or download one. Media stay small (`assets/` is 8 MiB today).
pub const MAX_BUNDLE_BYTES: u64 = 1 << 30;

/// Version of the encoding ([`Bundle::to_bytes`]): `postcard((version: u32, files: [(path:
/// str, bytes: bytes)]))`.
pub const BUNDLE_FORMAT: u32 = 1;

/// Deepest folder nesting followed under a root (a symbolic link loop ends here).
const MAX_DEPTH: usize = 32;

/// Longest path in a bundle, bytes.
const MAX_PATH_BYTES: usize = 1024;

/// Why a bundle could not be built from folders or decoded from bytes.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading a folder or file failed.
    #[error("bundle: reading {}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// A file name is not UTF-8, so it has no portable path.
    #[error("bundle: {} has a name that is not UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// Folders nest deeper than 32 levels (a symbolic link loop?).
    #[error("bundle: {} is nested too deep (a symbolic link loop?)", path.display())]
    TooDeep {
        /// The folder.
        path: PathBuf,
    },
    /// A path that must not be written: absolute, with `..`, `.` or empty parts, a backslash,
    /// a colon or a control character, or outside `content/<kind>/` and `assets/`.
    #[error("bundle: unsafe path {path:?}: {reason}")]
    UnsafePath {
        /// The path as found in the bundle.
        path: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// Paths are not strictly increasing (a duplicate, or a forged order).
    #[error("bundle: path {path:?} is out of order or repeated")]
    Unsorted {
        /// The first path out of place.
        path: String,
    },
    /// The bundle is larger than the limit.
    #[error("bundle: {size} bytes, more than the limit of {max}")]
    TooLarge {
        /// Its size (or the size reached when collecting stopped), bytes.
        size: u64,
        /// The limit, bytes.
        max: u64,
    },
    /// The bytes are not a bundle encoding.
    #[error("bundle: cannot decode: {0}")]
    Decode(String),
    /// The files could not be encoded.
    #[error("bundle: cannot encode: {0}")]
    Encode(String),
    /// The bytes are a bundle of another format version.
    #[error("bundle: format {found}, this build reads {BUNDLE_FORMAT}")]
    Format {
        /// The version found.
        found: u32,
    },
}

/// Why [`Bundle::unpack_into`] failed; files already written stay (the next sync redoes it).
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// Creating, writing, renaming or removing failed.
    #[error("unpacking the bundle: {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// A path that must not be written (see [`check_path`]); a bundle made by this module
    /// never has one.
    #[error("unpacking the bundle: {0}")]
    UnsafePath(#[from] BundleError),
}

/// Why a [`Download`] refused a chunk or could not finish.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The chunk belongs to another bundle (another hash).
    #[error("content download: chunk of bundle {got}, downloading {expected}")]
    WrongBundle {
        /// Hash being downloaded, hex.
        expected: String,
        /// Hash of the chunk, hex.
        got: String,
    },
    /// The chunk does not start where the download stands (a resend, or one lost before it).
    #[error("content download: chunk at byte {got}, expected byte {expected}")]
    WrongOffset {
        /// [`Download::next_offset`].
        expected: u64,
        /// The chunk's offset.
        got: u64,
    },
    /// The chunk is empty, or runs past the announced length, or announces another length.
    #[error(
        "content download: chunk of {len} bytes at {offset} does not fit a bundle of {total_len}"
    )]
    BadChunk {
        /// The chunk's offset.
        offset: u64,
        /// Its length, bytes.
        len: u64,
        /// The length announced for the download.
        total_len: u64,
    },
    /// The announced length is over [`MAX_BUNDLE_BYTES`].
    #[error("content download: {size} bytes announced, more than the limit of {max}")]
    TooLarge {
        /// Announced size, bytes.
        size: u64,
        /// The limit, bytes.
        max: u64,
    },
    /// [`Download::finish`] before the last byte arrived.
    #[error("content download: {have} of {total_len} bytes received")]
    Incomplete {
        /// Bytes received.
        have: u64,
        /// Bytes announced.
        total_len: u64,
    },
    /// The bytes received do not hash to the announced hash: something was corrupted.
    #[error("content download: hash {got} instead of {expected}; nothing unpacked")]
    HashMismatch {
        /// Announced hash, hex.
        expected: String,
        /// Hash of what arrived, hex.
        got: String,
    },
    /// The bytes received are not a valid bundle (corrupted or forged).
    #[error("content download: {0}")]
    Corrupt(#[from] BundleError),
}

/// Every played content file and media file, with their hash and encoding.
///
/// Paths are relative, with `/`, `content/<kind>/…` or `assets/…`, strictly sorted by bytes.
/// The bundle keeps only its encoding (one copy of the data) and an index into it.
#[derive(Clone, PartialEq, Eq)]
pub struct Bundle {
    encoded: Vec<u8>,
    files: Vec<(String, Range<usize>)>,
    hash: [u8; 32],
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bundle")
            .field("hash", &hex(&self.hash))
            .field("files", &self.files.len())
            .field("bytes", &self.encoded.len())
            .finish()
    }
}

/// A piece of an encoded bundle, as the director sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// The bundle's [`hash`](Bundle::hash).
    pub hash: [u8; 32],
    /// Where the bytes start in the encoding, bytes.
    pub offset: u64,
    /// Length of the whole encoding, bytes.
    pub total_len: u64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Bundle {
    /// Collects every file under `content/{scenarios,immersions,scenes,grids,rubrics}` (other
    /// folders of `content`, such as `src/`, are not content) and under `assets`, recursively,
    /// following symbolic links. A missing folder counts as empty (a device with no content
    /// yet). Entries that are neither files nor folders (sockets, pipes) are skipped.
    ///
    /// # Errors
    /// [`BundleError::Io`], [`BundleError::NotUtf8`] and [`BundleError::TooDeep`] while
    /// walking; [`BundleError::UnsafePath`] for a name the rules refuse (a backslash or colon);
    /// [`BundleError::TooLarge`] past [`MAX_BUNDLE_BYTES`].
    pub fn from_dirs(content: &Path, assets: &Path) -> Result<Bundle, BundleError> {
        let mut files = Vec::new();
        let mut total = 0u64;
        for kind in CONTENT_KINDS {
            let root = content.join(kind);
            walk(&root, &format!("content/{kind}"), 0, &mut files, &mut total)?;
        }
        walk(assets, "assets", 0, &mut files, &mut total)?;
        Self::from_files(files)
    }

    /// A bundle of the given `(path, bytes)` files, in any order.
    ///
    /// # Errors
    /// [`BundleError::UnsafePath`], [`BundleError::Unsorted`] (a path given twice),
    /// [`BundleError::TooLarge`].
    pub fn from_files(mut files: Vec<(String, Vec<u8>)>) -> Result<Bundle, BundleError> {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let encoded = postcard::to_stdvec(&(
            BUNDLE_FORMAT,
            files
                .iter()
                .map(|(path, bytes)| (path.as_str(), AsBytes(bytes)))
                .collect::<Vec<_>>(),
        ))
        .map_err(|e| BundleError::Encode(e.to_string()))?;
        Self::from_bytes(encoded)
    }

    /// Decodes an encoding ([`to_bytes`](Self::to_bytes)) of at most [`MAX_BUNDLE_BYTES`],
    /// checking every path and the order.
    ///
    /// # Errors
    /// [`BundleError::TooLarge`], [`BundleError::Decode`], [`BundleError::Format`],
    /// [`BundleError::UnsafePath`], [`BundleError::Unsorted`].
    pub fn from_bytes(encoded: Vec<u8>) -> Result<Bundle, BundleError> {
        Self::from_bytes_with_limit(encoded, MAX_BUNDLE_BYTES)
    }

    /// [`from_bytes`](Self::from_bytes) with another size limit, bytes.
    ///
    /// # Errors
    /// As [`from_bytes`](Self::from_bytes).
    pub fn from_bytes_with_limit(encoded: Vec<u8>, max: u64) -> Result<Bundle, BundleError> {
        let size = encoded.len() as u64;
        if size > max {
            return Err(BundleError::TooLarge { size, max });
        }
        let (format, raw): (u32, Vec<(&str, &[u8])>) =
            postcard::from_bytes(&encoded).map_err(|e| BundleError::Decode(e.to_string()))?;
        if format != BUNDLE_FORMAT {
            return Err(BundleError::Format { found: format });
        }
        let base = encoded.as_ptr() as usize;
        let mut hasher = Sha256::new();
        let mut files = Vec::with_capacity(raw.len());
        let mut previous: Option<&str> = None;
        for (path, bytes) in raw {
            check_path(path)?;
            if previous.is_some_and(|p| p >= path) {
                return Err(BundleError::Unsorted {
                    path: path.to_owned(),
                });
            }
            previous = Some(path);
            hash_file(&mut hasher, path, bytes);
            // postcard lends the bytes from `encoded`: their place in it is the index.
            let start = (bytes.as_ptr() as usize).wrapping_sub(base);
            let range = start..start + bytes.len();
            if encoded.get(range.clone()).map(<[u8]>::as_ptr) != Some(bytes.as_ptr()) {
                return Err(BundleError::Decode(
                    "file bytes outside the encoding".into(),
                ));
            }
            files.push((path.to_owned(), range));
        }
        Ok(Bundle {
            hash: hasher.finalize().into(),
            encoded,
            files,
        })
    }

    /// SHA-256 over every file in path order, each as `path length (u64 LE) | path (UTF-8) |
    /// content length (u64 LE) | content`. Independent of the encoding: a device computes it
    /// from its folders with [`from_dirs`](Self::from_dirs).
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The hash in lower-case hex (64 characters), for logs and the console.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }

    /// The encoding: postcard of `(BUNDLE_FORMAT, [(path, bytes)])`.
    pub fn to_bytes(&self) -> &[u8] {
        &self.encoded
    }

    /// Length of the encoding, bytes.
    pub fn encoded_len(&self) -> u64 {
        self.encoded.len() as u64
    }

    /// Up to `max_len` bytes of the encoding from `offset`; `None` when `offset` is at or
    /// past the end or `max_len` is 0.
    pub fn chunk(&self, offset: u64, max_len: usize) -> Option<Chunk> {
        let start = usize::try_from(offset).ok()?;
        if start >= self.encoded.len() || max_len == 0 {
            return None;
        }
        let end = start.saturating_add(max_len).min(self.encoded.len());
        Some(Chunk {
            hash: self.hash,
            offset,
            total_len: self.encoded_len(),
            bytes: self.encoded.get(start..end)?.to_vec(),
        })
    }

    /// The files, `(path, bytes)`, in path order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(path, range)| {
            let bytes = self.encoded.get(range.clone()).unwrap_or_default();
            (path.as_str(), bytes)
        })
    }

    /// Number of files.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Writes every file under `dir` (`dir/content/…`, `dir/assets/…`), each through a
    /// temporary file renamed into place, skipping files already identical; then removes the
    /// files under `dir/content/<kind>/` and `dir/assets/` that are not in the bundle, so that
    /// [`from_dirs`](Self::from_dirs)`(dir/content, dir/assets)` gives this bundle's hash.
    /// Paths were checked when the bundle was made and are checked again here. Not fsynced:
    /// after a crash the hash no longer matches and the device downloads again.
    ///
    /// # Errors
    /// [`UnpackError::Io`] on the first failure; [`UnpackError::UnsafePath`].
    pub fn unpack_into(&self, dir: &Path) -> Result<(), UnpackError> {
        let io_err = |p: &Path| {
            let p = p.to_path_buf();
            move |source| UnpackError::Io { path: p, source }
        };
        // Bundle paths start with `content/` or `assets/`, so this name cannot clash.
        let staging = dir.join(".bundle-staging");
        remove_dir_if_any(&staging).map_err(io_err(&staging))?;
        fs::create_dir_all(&staging).map_err(io_err(&staging))?;
        let mut wanted = BTreeSet::new();
        for (i, (path, bytes)) in self.files().enumerate() {
            let target = safe_join(dir, path)?;
            wanted.insert(target.clone());
            if fs::read(&target).is_ok_and(|old| old == bytes) {
                continue;
            }
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let tmp = staging.join(i.to_string());
            fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
            fs::rename(&tmp, &target).map_err(io_err(&target))?;
        }
        fs::remove_dir(&staging).map_err(io_err(&staging))?;
        let roots = CONTENT_KINDS
            .iter()
            .map(|kind| dir.join("content").join(kind))
            .chain([dir.join("assets")]);
        for root in roots {
            remove_unwanted(&root, &wanted, 0)
                .map_err(|(path, source)| UnpackError::Io { path, source })?;
        }
        Ok(())
    }
}

/// The device side of a content download: the bytes received so far, in order.
#[derive(Clone, Debug)]
pub struct Download {
    hash: [u8; 32],
    total_len: u64,
    received: Vec<u8>,
}

impl Download {
    /// Starts downloading the bundle with `hash` whose encoding is `total_len` bytes.
    ///
    /// # Errors
    /// [`DownloadError::TooLarge`] past [`MAX_BUNDLE_BYTES`].
    pub fn new(hash: [u8; 32], total_len: u64) -> Result<Download, DownloadError> {
        Self::resume(hash, total_len, Vec::new())
    }

    /// Resumes from bytes kept from an earlier attempt (see [`received`](Self::received)).
    ///
    /// # Errors
    /// [`DownloadError::TooLarge`] past [`MAX_BUNDLE_BYTES`]; [`DownloadError::BadChunk`]
    /// when more bytes than `total_len` are given.
    pub fn resume(
        hash: [u8; 32],
        total_len: u64,
        received: Vec<u8>,
    ) -> Result<Download, DownloadError> {
        if total_len > MAX_BUNDLE_BYTES {
            return Err(DownloadError::TooLarge {
                size: total_len,
                max: MAX_BUNDLE_BYTES,
            });
        }
        if received.len() as u64 > total_len {
            return Err(DownloadError::BadChunk {
                offset: 0,
                len: received.len() as u64,
                total_len,
            });
        }
        Ok(Download {
            hash,
            total_len,
            received,
        })
    }

    /// The hash being downloaded.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// Length of the whole encoding, bytes.
    pub fn total_len(&self) -> u64 {
        self.total_len
    }

    /// The offset of the next chunk to ask for: bytes received so far.
    pub fn next_offset(&self) -> u64 {
        self.received.len() as u64
    }

    /// Whether every byte arrived.
    pub fn is_complete(&self) -> bool {
        self.next_offset() == self.total_len
    }

    /// The bytes received so far (to keep across a restart and [`resume`](Self::resume)).
    pub fn received(&self) -> &[u8] {
        &self.received
    }

    /// Appends a chunk that starts exactly at [`next_offset`](Self::next_offset).
    ///
    /// # Errors
    /// [`DownloadError::WrongBundle`], [`DownloadError::WrongOffset`] (a resent or early
    /// chunk: ignore it and ask again from `next_offset`), [`DownloadError::BadChunk`]; the
    /// download is left as it was.
    pub fn accept(&mut self, chunk: &Chunk) -> Result<(), DownloadError> {
        if chunk.hash != self.hash {
            return Err(DownloadError::WrongBundle {
                expected: hex(&self.hash),
                got: hex(&chunk.hash),
            });
        }
        if chunk.offset != self.next_offset() {
            return Err(DownloadError::WrongOffset {
                expected: self.next_offset(),
                got: chunk.offset,
            });
        }
        let len = chunk.bytes.len() as u64;
        if len == 0 || chunk.total_len != self.total_len || chunk.offset + len > self.total_len {
            return Err(DownloadError::BadChunk {
                offset: chunk.offset,
                len,
                total_len: self.total_len,
            });
        }
        self.received.extend_from_slice(&chunk.bytes);
        Ok(())
    }

    /// Decodes the bytes and checks their hash; only then is the bundle given out, to
    /// [`unpack_into`](Bundle::unpack_into).
    ///
    /// # Errors
    /// [`DownloadError::Incomplete`], [`DownloadError::Corrupt`] (not a valid bundle, or an
    /// unsafe path), [`DownloadError::HashMismatch`].
    pub fn finish(self) -> Result<Bundle, DownloadError> {
        if !self.is_complete() {
            return Err(DownloadError::Incomplete {
                have: self.next_offset(),
                total_len: self.total_len,
            });
        }
        let bundle = Bundle::from_bytes(self.received)?;
        if bundle.hash != self.hash {
            return Err(DownloadError::HashMismatch {
                expected: hex(&self.hash),
                got: bundle.hash_hex(),
            });
        }
        Ok(bundle)
    }
}

/// The rules every bundle path follows, so that `dir.join(path)` stays inside `dir` on any
/// system: relative, `/`-separated, no empty, `.` or `..` part, no backslash, colon (Windows
/// drives and streams) or control character, under `content/<kind>/` or `assets/`.
///
/// # Errors
/// [`BundleError::UnsafePath`] naming the rule broken.
pub fn check_path(path: &str) -> Result<(), BundleError> {
    let unsafe_path = |reason| {
        Err(BundleError::UnsafePath {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return unsafe_path("empty");
    }
    if path.len() > MAX_PATH_BYTES {
        return unsafe_path("longer than 1024 bytes");
    }
    if path.starts_with('/') {
        return unsafe_path("absolute");
    }
    if path.contains('\\') {
        return unsafe_path("contains a backslash");
    }
    if path.contains(':') {
        return unsafe_path("contains a colon");
    }
    if path.chars().any(char::is_control) {
        return unsafe_path("contains a control character");
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return unsafe_path("has an empty part");
    }
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return unsafe_path("has a `.` or `..` part");
    }
    let placed = match parts.as_slice() {
        ["content", kind, _, ..] => CONTENT_KINDS.contains(kind),
        ["assets", _, ..] => true,
        _ => false,
    };
    if !placed {
        return unsafe_path("not under content/<kind>/ or assets/");
    }
    Ok(())
}

/// `dir` joined with a checked bundle path.
fn safe_join(dir: &Path, path: &str) -> Result<PathBuf, BundleError> {
    check_path(path)?;
    Ok(path
        .split('/')
        .fold(dir.to_path_buf(), |p, part| p.join(part)))
}

fn hash_file(hasher: &mut Sha256, path: &str, bytes: &[u8]) {
    hasher.update((path.len() as u64).to_le_bytes());
    hasher.update(path.as_bytes());
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// Adds every file under `dir` to `files` as `prefix/relative/path`.
fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    files: &mut Vec<(String, Vec<u8>)>,
    total: &mut u64,
) -> Result<(), BundleError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| BundleError::Io { path: p, source }
    };
    if depth > MAX_DEPTH {
        return Err(BundleError::TooDeep {
            path: dir.to_path_buf(),
        });
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if depth == 0 && e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(io_err(dir)(source)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| BundleError::NotUtf8 { path: path.clone() })?;
        let rel = format!("{prefix}/{name}");
        let meta = fs::metadata(&path).map_err(io_err(&path))?;
        if meta.is_dir() {
            walk(&path, &rel, depth + 1, files, total)?;
        } else if meta.is_file() {
            check_path(&rel)?;
            *total += meta.len() + rel.len() as u64;
            if *total > MAX_BUNDLE_BYTES {
                return Err(BundleError::TooLarge {
                    size: *total,
                    max: MAX_BUNDLE_BYTES,
                });
            }
            let bytes = fs::read(&path).map_err(io_err(&path))?;
            files.push((rel, bytes));
        } else {
            tracing::warn!(path = %path.display(), "bundle: skipping what is neither a file nor a folder");
        }
    }
    Ok(())
}

fn remove_dir_if_any(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes the files under `dir` that are not `wanted` (folders are kept: they do not count).
fn remove_unwanted(
    dir: &Path,
    wanted: &BTreeSet<PathBuf>,
    depth: usize,
) -> Result<(), (PathBuf, io::Error)> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err((dir.to_path_buf(), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| (dir.to_path_buf(), e))?;
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(|e| (path.clone(), e))?;
        if meta.is_dir() {
            remove_unwanted(&path, wanted, depth + 1)?;
        } else if meta.is_file() && !wanted.contains(&path) {
            fs::remove_file(&path).map_err(|e| (path.clone(), e))?;
        }
    }
    Ok(())
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serializes bytes as postcard `bytes` (length and raw bytes), the layout `&[u8]` decodes.
struct AsBytes<'a>(&'a [u8]);

impl Serialize for AsBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}
