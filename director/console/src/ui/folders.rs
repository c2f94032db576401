//! An in-window folder chooser (no system dialog: the console is one window, and tests drive it
//! with clicks): removable drives first (`/media/<user>/…`, `/run/media/<user>/…`), then the
//! Documents folder and the home folder; a folder's subfolders are buttons, « Dossier parent »
//! goes up (never above the place chosen first). Files are written beside their final name and
//! renamed, so a pulled key or a full disk never leaves half a file under that name.

use crate::i18n::{Locale, tr};
use egui::{RichText, Ui};
use std::path::{Path, PathBuf};

/// A place to start from: its label in the window and its folder.
pub type Place = (String, PathBuf);

/// The places to save to, removable drives first. `home` and `user` come from the
/// environment (`HOME`, `USER`); a place that does not exist is left out.
pub fn places(home: Option<&Path>, user: Option<&str>, l: Locale) -> Vec<Place> {
    let mut out = Vec::new();
    let mut mounts: Vec<PathBuf> = Vec::new();
    if let Some(user) = user {
        mounts.push(Path::new("/media").join(user));
        mounts.push(Path::new("/run/media").join(user));
    }
    mounts.push(PathBuf::from("/media"));
    for base in mounts {
        for dir in subfolders(&base) {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // /media/<user> itself is not a drive.
            if user.is_some_and(|u| u == name) || out.iter().any(|(_, p)| *p == dir) {
                continue;
            }
            out.push((tr!(l, "folders-removable", name = name), dir));
        }
    }
    if let Some(home) = home {
        let documents = home.join("Documents");
        if documents.is_dir() {
            out.push((tr!(l, "folders-documents"), documents));
        }
        if home.is_dir() {
            out.push((tr!(l, "folders-home"), home.to_path_buf()));
        }
    }
    out
}

/// The places of this machine ([`places`] with `HOME` and `USER`).
pub fn system_places(l: Locale) -> Vec<Place> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let user = std::env::var("USER").ok();
    places(home.as_deref(), user.as_deref(), l)
}

/// The visible subfolders of `dir`, by name (none when it cannot be read).
pub fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Where the chooser stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chooser {
    /// The place chosen first (never gone above) and the folder shown now.
    pub at: Option<(PathBuf, PathBuf)>,
}

/// What the facilitator did in the chooser this frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// Save in this folder.
    Here(PathBuf),
    /// Closed without saving.
    Cancel,
}

/// Draws the chooser over `places`; returns what was decided, if anything.
pub fn chooser(ui: &mut Ui, c: &mut Chooser, places: &[Place], l: Locale) -> Option<Chosen> {
    browse(ui, c, places, None, l)
}

/// The visible files of `dir` whose extension is `extension` (case ignored), by name.
pub fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|x| x.to_string_lossy().eq_ignore_ascii_case(extension))
        })
        .collect();
    out.sort();
    out
}

/// The chooser: a folder to save in (`open_files` `None`), or a file of that extension to
/// open (its files are buttons; no « Enregistrer ici »).
fn browse(
    ui: &mut Ui,
    c: &mut Chooser,
    places: &[Place],
    open_files: Option<&str>,
    l: Locale,
) -> Option<Chosen> {
    let mut chosen = None;
    ui.group(|ui| {
        match c.at.clone() {
            None => {
                let question = if open_files.is_some() {
                    tr!(l, "folders-where-open")
                } else {
                    tr!(l, "folders-where")
                };
                ui.label(RichText::new(question).strong());
                if places.is_empty() {
                    ui.label(tr!(l, "folders-none"));
                }
                for (label, path) in places {
                    if ui.button(label.as_str()).clicked() {
                        c.at = Some((path.clone(), path.clone()));
                    }
                }
            }
            Some((root, here)) => {
                ui.label(tr!(l, "folders-here", path = here.display().to_string()));
                ui.horizontal_wrapped(|ui| {
                    if open_files.is_none() && ui.button(tr!(l, "folders-save-here")).clicked() {
                        chosen = Some(Chosen::Here(here.clone()));
                    }
                    if here != root && ui.button(tr!(l, "folders-up")).clicked() {
                        c.at = Some((root.clone(), here.parent().unwrap_or(&root).to_path_buf()));
                    }
                    if ui.button(tr!(l, "folders-other-place")).clicked() {
                        c.at = None;
                    }
                });
                let inside = subfolders(&here);
                if !inside.is_empty() {
                    ui.label(tr!(l, "folders-inside"));
                }
                ui.horizontal_wrapped(|ui| {
                    for dir in inside {
                        let name = dir
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        if ui.button(format!("📁 {name}")).clicked() {
                            c.at = Some((root.clone(), dir.clone()));
                        }
                    }
                });
                if let Some(extension) = open_files {
                    let found = files(&here, extension);
                    if found.is_empty() {
                        ui.label(tr!(l, "folders-no-file", extension = extension));
                    }
                    ui.horizontal_wrapped(|ui| {
                        for file in found {
                            let name = file
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            if ui.button(format!("📄 {name}")).clicked() {
                                chosen = Some(Chosen::Here(file.clone()));
                            }
                        }
                    });
                }
            }
        }
        if ui.button(tr!(l, "folders-cancel")).clicked() {
            chosen = Some(Chosen::Cancel);
        }
    });
    chosen
}

/// A button `open` that opens the chooser in place (`chooser` holds it while open); returns
/// the folder chosen, once. `places`: `None` for this machine's ([`system_places`]).
pub fn pick(
    ui: &mut Ui,
    chooser: &mut Option<Chooser>,
    places: Option<&[Place]>,
    open: &str,
    l: Locale,
) -> Option<PathBuf> {
    pick_in(ui, chooser, places, open, None, l)
}

/// A button `open` that opens the chooser in place to pick a file of `extension` (`chooser`
/// holds it while open); returns the file chosen, once.
pub fn pick_file(
    ui: &mut Ui,
    chooser: &mut Option<Chooser>,
    places: Option<&[Place]>,
    open: &str,
    extension: &str,
    l: Locale,
) -> Option<PathBuf> {
    pick_in(ui, chooser, places, open, Some(extension), l)
}

/// [`pick`] (`files` `None`) and [`pick_file`]: the button while closed, the chooser while
/// open; what was chosen, once (the chooser closes then, or on « Annuler »).
fn pick_in(
    ui: &mut Ui,
    chooser: &mut Option<Chooser>,
    places: Option<&[Place]>,
    open: &str,
    files: Option<&str>,
    l: Locale,
) -> Option<PathBuf> {
    let Some(c) = chooser else {
        if ui.button(open).clicked() {
            *chooser = Some(Chooser::default());
        }
        return None;
    };
    let places = places.map_or_else(|| system_places(l), <[Place]>::to_vec);
    match browse(ui, c, &places, files, l) {
        Some(Chosen::Here(path)) => {
            *chooser = None;
            Some(path)
        }
        Some(Chosen::Cancel) => {
            *chooser = None;
            None
        }
        None => None,
    }
}

/// Writes `bytes` as a new file `dir/name`, whole or not at all
/// ([`boussole_director::files::write_whole`]); a file already there under that name is never
/// replaced: the new one takes `-2`, `-3`… before its extension
/// ([`boussole_director::files::unique`]). Returns the path written.
///
/// # Errors
/// A French message naming the folder: not writable, full, gone (a key pulled).
pub fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let path = Path::new(name);
    let stem = path
        .file_stem()
        .map_or_else(|| name.into(), |s| s.to_string_lossy());
    let ext = path
        .extension()
        .map_or_else(String::new, |e| e.to_string_lossy().into_owned());
    boussole_director::files::write_whole(
        &boussole_director::files::unique(dir, &stem, &ext),
        bytes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drives_come_first_and_missing_places_are_left_out() {
        let home = tempfile::tempdir().expect("temp");
        let l = Locale::Fr;
        let none = places(Some(&home.path().join("absent")), None, l);
        assert!(none.iter().all(|(_, p)| !p.starts_with(home.path())));
        std::fs::create_dir(home.path().join("Documents")).expect("dir");
        let found = places(Some(home.path()), Some("personne-de-test"), l);
        let mine: Vec<_> = found
            .iter()
            .filter(|(_, p)| p.starts_with(home.path()))
            .collect();
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].1, home.path().join("Documents"));
        assert_eq!(mine[1].1, home.path());
    }
}
