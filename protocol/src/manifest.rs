//! Content by file: a [`Manifest`] lists the files one device role plays (path, size, SHA-256
//! of the bytes), and the director's [`Catalog`] holds one manifest per role, built from the
//! content folder and the media folder, with where each file lies on disk so that chunks are
//! read from the file, never from one archive held in memory.
//!
//! Which media a role gets follows the content model ([`role_media`]): a terminal never gets a
//! film, a room screen never gets an immersion's voices. Every role gets every played RON file
//! (`content/<kind>/…`, a few KiB each): the game loads and validates the whole set.

use crate::content_path::{CONTENT_KINDS, check_path};
use boussole_content::ContentSet;
use boussole_content::cue::{CueKind, DeviceRole, Target};
use boussole_content::immersion::ImmersionSource;
use boussole_content::puzzle::PuzzleKind;
use boussole_content::scenario::Scenario;
use boussole_content::text::{AssetPath, Text};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Most files in one manifest: its encoding (about 100 bytes a file) stays well under the
/// frame limit ([`crate::wire::MAX_FRAME`], 1 MiB).
pub const MAX_FILES: usize = 8_000;

/// Largest file, bytes (1 GiB), and largest manifest total (4 GiB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Largest sum of a manifest's file sizes, bytes (4 GiB).
pub const MAX_TOTAL_BYTES: u64 = 4 << 30;

/// Deepest folder nesting followed when scanning (a symbolic link loop ends here).
const MAX_DEPTH: usize = 32;

/// Domain tag hashed first into [`Manifest::hash`], so a manifest hash never equals an old
/// bundle hash or a file hash.
const HASH_TAG: &[u8] = b"boussole-manifest-1";

/// One file of a manifest.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative, `/`-separated, under `content/<kind>/` or `assets/` ([`check_path`]).
    pub path: String,
    /// Length, bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub hash: [u8; 32],
}

impl fmt::Debug for FileEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} B, {})",
            self.path,
            self.size,
            &hex(&self.hash)[..12]
        )
    }
}

/// The files a device of one role holds, strictly sorted by path. Its [`hash`](Self::hash) is
/// what a device presents in its `Hello` and what the director compares it with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    files: Vec<FileEntry>,
}

/// Why a manifest could not be built, decoded or accepted.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Reading a folder or file failed.
    #[error("manifest: reading {}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// A file name is not UTF-8, so it has no portable path.
    #[error("manifest: {} has a name that is not UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// Folders nest deeper than 32 levels (a symbolic link loop?).
    #[error("manifest: {} is nested too deep (a symbolic link loop?)", path.display())]
    TooDeep {
        /// The folder.
        path: PathBuf,
    },
    /// A path the content path rules refuse ([`check_path`]).
    #[error("manifest: unsafe path {path:?}: {reason}")]
    UnsafePath {
        /// The path.
        path: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Paths are not strictly increasing (a duplicate, or a forged order).
    #[error("manifest: path {path:?} is out of order or repeated")]
    Unsorted {
        /// The first path out of place.
        path: String,
    },
    /// More files than [`MAX_FILES`], a file over [`MAX_FILE_BYTES`] or a total over
    /// [`MAX_TOTAL_BYTES`].
    #[error("manifest: {what}")]
    TooLarge {
        /// Which limit, in words with the figures.
        what: String,
    },
}

impl Manifest {
    /// A manifest of `files`, in any order.
    ///
    /// # Errors
    /// [`ManifestError::UnsafePath`], [`ManifestError::Unsorted`] (a path given twice),
    /// [`ManifestError::TooLarge`].
    pub fn new(mut files: Vec<FileEntry>) -> Result<Self, ManifestError> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let m = Self { files };
        m.check()?;
        Ok(m)
    }

    /// Checks what a decoded manifest (from the network) promises: safe paths, strict order,
    /// the limits. A manifest made by [`Manifest::new`] always passes.
    ///
    /// # Errors
    /// As [`Manifest::new`].
    pub fn check(&self) -> Result<(), ManifestError> {
        if self.files.len() > MAX_FILES {
            return Err(ManifestError::TooLarge {
                what: format!("{} files, more than {MAX_FILES}", self.files.len()),
            });
        }
        let mut total = 0u64;
        let mut previous: Option<&str> = None;
        for f in &self.files {
            check_path(&f.path).map_err(|e| ManifestError::UnsafePath {
                path: f.path.clone(),
                reason: e.to_string(),
            })?;
            if previous.is_some_and(|p| p >= f.path.as_str()) {
                return Err(ManifestError::Unsorted {
                    path: f.path.clone(),
                });
            }
            previous = Some(&f.path);
            if f.size > MAX_FILE_BYTES {
                return Err(ManifestError::TooLarge {
                    what: format!("{}: {} bytes, more than {MAX_FILE_BYTES}", f.path, f.size),
                });
            }
            total += f.size;
        }
        if total > MAX_TOTAL_BYTES {
            return Err(ManifestError::TooLarge {
                what: format!("{total} bytes in all, more than {MAX_TOTAL_BYTES}"),
            });
        }
        Ok(())
    }

    /// Every file under `content/{scenarios,immersions,scenes,grids,rubrics}` and `assets`,
    /// hashed. A missing folder counts as empty.
    ///
    /// # Errors
    /// [`ManifestError`] while walking or reading; the limits.
    pub fn scan(content: &Path, assets: &Path) -> Result<Self, ManifestError> {
        Self::new(
            scan_files(content, assets)?
                .into_values()
                .map(|(e, _)| e)
                .collect(),
        )
    }

    /// The files, sorted by path.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// The entry at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .and_then(|i| self.files.get(i))
    }

    /// Sum of the file sizes, bytes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// SHA-256 of `"boussole-manifest-1"`, then per file in path order `path length (u64 LE) |
    /// path | size (u64 LE) | file hash`. Two folders with the same files (paths and bytes)
    /// give the same hash, whatever their order on disk.
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(HASH_TAG);
        for f in &self.files {
            h.update((f.path.len() as u64).to_le_bytes());
            h.update(f.path.as_bytes());
            h.update(f.size.to_le_bytes());
            h.update(f.hash);
        }
        h.finalize().into()
    }

    /// The manifest restricted to the paths `keep` accepts.
    pub fn filter(&self, keep: impl Fn(&FileEntry) -> bool) -> Self {
        Self {
            files: self.files.iter().filter(|f| keep(f)).cloned().collect(),
        }
    }
}

/// The media (paths relative to `assets/`) a device of `role` plays, read from the content
/// model:
///
/// - **headset**: everything an immersion plays (its 360° film, every text's voice and
///   pictogram, the stimuli's sounds), every scene's ambience, and in a scenario the cues aimed
///   at headsets and the puzzles whose station is a headset seat (a `HeadsetGuided` puzzle's
///   view);
/// - **screen**: a scenario's title, briefing, phase titles, endings, each puzzle's title and
///   hints (the room screen shows them), and the cues aimed at screens;
/// - **terminal**: the puzzles of its stations (titles, prompts, items, hints: voices and
///   pictograms), the self-assessment, and the sounds and texts of cues aimed at terminals;
///   never a video (a terminal plays none).
///
/// A cue aimed at a station goes to the role of that station (`Scenario::stations`). A
/// medium no content names is played by no one and sent to no one.
pub fn role_media(set: &ContentSet, role: DeviceRole) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |path: &AssetPath| {
        out.insert(path.as_str().to_owned());
    };
    if role == DeviceRole::Headset {
        for i in &set.immersions {
            let i = &i.value;
            i.texts().into_iter().for_each(|t| text_media(t, &mut add));
            i.stimuli
                .iter()
                .filter_map(|s| s.sound.as_ref())
                .for_each(&mut add);
            if let ImmersionSource::Video360 { file, .. } = &i.source {
                add(file);
            }
        }
        for s in &set.scenes {
            if let Some(a) = &s.value.ambience {
                add(a);
            }
        }
    }
    for s in &set.scenarios {
        scenario_media(&s.value, role, &mut add);
    }
    out
}

fn text_media(text: &Text, add: &mut impl FnMut(&AssetPath)) {
    if let Some(a) = &text.audio {
        add(a);
    }
    if let Some(p) = &text.pictogram {
        add(p);
    }
}

fn scenario_media(s: &Scenario, role: DeviceRole, add: &mut impl FnMut(&AssetPath)) {
    let station_role = |id: &boussole_content::ids::StationId| {
        s.stations.iter().find(|st| st.id == *id).map(|st| st.role)
    };
    let aimed = |targets: &[Target]| {
        targets.iter().any(|t| match t {
            Target::Role(r) => *r == role,
            Target::Station(id) => station_role(id) == Some(role),
        })
    };
    if role == DeviceRole::Screen {
        text_media(&s.title, add);
        s.briefing.iter().for_each(|t| text_media(t, add));
        s.phases.iter().for_each(|p| text_media(&p.title, add));
        s.endings.iter().for_each(|e| text_media(&e.text, add));
    }
    if role == DeviceRole::Terminal {
        let q = &s.self_assessment;
        text_media(&q.intro, add);
        q.scale.iter().for_each(|t| text_media(t, add));
        q.questions.iter().for_each(|x| text_media(&x.text, add));
    }
    for p in &s.puzzles {
        let at_station = p.stations.iter().any(|id| station_role(id) == Some(role))
            || p.answer_station()
                .is_some_and(|id| station_role(id) == Some(role));
        let plays = at_station || role == DeviceRole::Screen;
        if plays {
            text_media(&p.title, add);
            p.hints.iter().for_each(|h| text_media(&h.text, add));
        }
        match &p.kind {
            PuzzleKind::HeadsetGuided {
                prompt,
                headset_view,
                ..
            } => {
                if role == DeviceRole::Headset {
                    text_media(headset_view, add);
                }
                if at_station {
                    text_media(prompt, add);
                }
            }
            PuzzleKind::MultiStation { prompt, parts, .. } => {
                if at_station {
                    text_media(prompt, add);
                }
                parts
                    .iter()
                    .filter(|part| station_role(&part.station) == Some(role))
                    .for_each(|part| text_media(&part.text, add));
            }
            kind if at_station => kind.texts().into_iter().for_each(|t| text_media(t, add)),
            _ => {}
        }
    }
    for c in &s.cues {
        if !aimed(&c.targets) {
            continue;
        }
        match &c.kind {
            CueKind::Video { file, .. } if role != DeviceRole::Terminal => add(file),
            CueKind::Sound { file, .. } => add(file),
            CueKind::Text { text, .. } => text_media(text, add),
            _ => {}
        }
    }
}

/// The director's content, by file: one manifest per device role and where each file's bytes
/// lie on disk.
#[derive(Clone, Debug)]
pub struct Catalog {
    headset: Manifest,
    screen: Manifest,
    terminal: Manifest,
    all: Manifest,
    sources: BTreeMap<[u8; 32], (PathBuf, u64)>,
}

impl Catalog {
    /// Hashes every file under `content/<kind>/` and `assets/` (as [`Manifest::scan`]) and
    /// keeps, per role, the RON files and the media [`role_media`] names. Reads the content
    /// model from `content` (files that do not parse count as naming no media; the validator
    /// reports them).
    ///
    /// # Errors
    /// [`ManifestError`] while walking or reading; the limits.
    pub fn build(content: &Path, assets: &Path) -> Result<Self, ManifestError> {
        let scanned = scan_files(content, assets)?;
        let all = Manifest::new(scanned.values().map(|(e, _)| e.clone()).collect())?;
        let sources = scanned
            .into_values()
            .map(|(e, path)| (e.hash, (path, e.size)))
            .collect();
        let (set, _problems) = ContentSet::load_dir(content);
        let for_role = |role| {
            let media = role_media(&set, role);
            all.filter(|f| {
                f.path.starts_with("content/")
                    || f.path
                        .strip_prefix("assets/")
                        .is_some_and(|p| media.contains(p))
            })
        };
        Ok(Self {
            headset: for_role(DeviceRole::Headset),
            screen: for_role(DeviceRole::Screen),
            terminal: for_role(DeviceRole::Terminal),
            all,
            sources,
        })
    }

    /// The manifest of `role`.
    pub fn manifest(&self, role: DeviceRole) -> &Manifest {
        match role {
            DeviceRole::Headset => &self.headset,
            DeviceRole::Screen => &self.screen,
            DeviceRole::Terminal => &self.terminal,
        }
    }

    /// Every file (what a console, which reads the content folder itself, compares).
    pub fn all(&self) -> &Manifest {
        &self.all
    }

    /// The hashes of the role manifests, as the transport compares `Hello`s with them.
    pub fn hashes(&self) -> RoleHashes {
        RoleHashes {
            headset: self.headset.hash(),
            screen: self.screen.hash(),
            terminal: self.terminal.hash(),
            console: self.all.hash(),
        }
    }

    /// Up to `max_len` bytes of the file whose hash is `hash`, from `offset`, read from disk.
    /// `Ok(None)` when no file of the catalog has that hash or `offset` is at or past its end.
    ///
    /// # Errors
    /// The file could not be opened or read (removed since the catalog was built?).
    pub fn read(&self, hash: &[u8; 32], offset: u64, max_len: u32) -> io::Result<Option<Vec<u8>>> {
        let Some((path, size)) = self.sources.get(hash) else {
            return Ok(None);
        };
        if offset >= *size || max_len == 0 {
            return Ok(None);
        }
        let len = (size - offset).min(u64::from(max_len));
        let mut file = fs::File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
        file.read_exact(&mut bytes)?;
        Ok(Some(bytes))
    }
}

/// The manifest hash each kind of client must present to be in sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoleHashes {
    /// Headsets' manifest.
    pub headset: [u8; 32],
    /// Room screens'.
    pub screen: [u8; 32],
    /// Terminals'.
    pub terminal: [u8; 32],
    /// Consoles compare every file (they read the content folder, they do not sync).
    pub console: [u8; 32],
}

impl RoleHashes {
    /// The same hash for every role (tests, a transport without content).
    pub fn uniform(hash: [u8; 32]) -> Self {
        Self {
            headset: hash,
            screen: hash,
            terminal: hash,
            console: hash,
        }
    }

    /// The hash a client of `role` must present (all zeros for a device without a role,
    /// which holds no content).
    pub fn for_role(&self, role: crate::wire::Role) -> [u8; 32] {
        use crate::wire::Role;
        match role {
            Role::Headset => self.headset,
            Role::Screen => self.screen,
            Role::Terminal => self.terminal,
            Role::Console { .. } => self.console,
            Role::Unassigned => [0; 32],
        }
    }
}

/// The content role of a wire role (`None` for consoles and devices without a role).
pub fn device_role(role: crate::wire::Role) -> Option<DeviceRole> {
    use crate::wire::Role;
    match role {
        Role::Headset => Some(DeviceRole::Headset),
        Role::Screen => Some(DeviceRole::Screen),
        Role::Terminal => Some(DeviceRole::Terminal),
        Role::Console { .. } | Role::Unassigned => None,
    }
}

/// The wire role of a content role.
pub fn wire_role(role: DeviceRole) -> crate::wire::Role {
    use crate::wire::Role;
    match role {
        DeviceRole::Headset => Role::Headset,
        DeviceRole::Screen => Role::Screen,
        DeviceRole::Terminal => Role::Terminal,
    }
}

/// Every file under the content kinds and `assets`, by path: its entry and where it lies.
fn scan_files(
    content: &Path,
    assets: &Path,
) -> Result<BTreeMap<String, (FileEntry, PathBuf)>, ManifestError> {
    let mut out = BTreeMap::new();
    for kind in CONTENT_KINDS {
        walk(&content.join(kind), &format!("content/{kind}"), 0, &mut out)?;
    }
    walk(assets, "assets", 0, &mut out)?;
    if out.len() > MAX_FILES {
        return Err(ManifestError::TooLarge {
            what: format!("{} files, more than {MAX_FILES}", out.len()),
        });
    }
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    out: &mut BTreeMap<String, (FileEntry, PathBuf)>,
) -> Result<(), ManifestError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ManifestError::Io { path: p, source }
    };
    if depth > MAX_DEPTH {
        return Err(ManifestError::TooDeep {
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
            .map_err(|_| ManifestError::NotUtf8 { path: path.clone() })?;
        let rel = format!("{prefix}/{name}");
        let meta = fs::metadata(&path).map_err(io_err(&path))?;
        if meta.is_dir() {
            walk(&path, &rel, depth + 1, out)?;
        } else if meta.is_file() {
            check_path(&rel).map_err(|e| ManifestError::UnsafePath {
                path: rel.clone(),
                reason: e.to_string(),
            })?;
            if meta.len() > MAX_FILE_BYTES {
                return Err(ManifestError::TooLarge {
                    what: format!("{rel}: {} bytes, more than {MAX_FILE_BYTES}", meta.len()),
                });
            }
            let (hash, size) = hash_file(&path).map_err(io_err(&path))?;
            out.insert(
                rel.clone(),
                (
                    FileEntry {
                        path: rel,
                        size,
                        hash,
                    },
                    path,
                ),
            );
        } else {
            tracing::warn!(path = %path.display(), "manifest: skipping what is neither a file nor a folder");
        }
    }
    Ok(())
}

/// SHA-256 and length of a file, read in 64 KiB pieces.
pub fn hash_file(path: &Path) -> io::Result<([u8; 32], u64)> {
    let mut file = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
        size += n as u64;
    }
    Ok((h.finalize().into(), size))
}

/// SHA-256 of bytes.
pub fn hash_bytes(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lower-case hex (64 characters for a hash), for logs, file names and messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
