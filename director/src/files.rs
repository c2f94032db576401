//! Files the director writes into a folder the facilitator chose in the console (a USB key,
//! say): the folder checked first, each file written beside its name, synced, then renamed, so
//! a pulled key or a full disk never leaves half a file under that name and an earlier file
//! stays whole; errors in the facilitator's words.

use std::path::{Path, PathBuf};

/// The folder exists.
///
/// # Errors
/// A French message naming it (a key pulled, a folder moved).
pub fn folder_ready(folder: &Path) -> Result<(), String> {
    if folder.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "le dossier {} n'existe pas (clé retirée ?) : choisissez-en un autre",
            folder.display()
        ))
    }
}

/// `folder/stem.ext`, or `stem-2.ext`, `stem-3.ext`… when taken: a new file never replaces an
/// earlier one.
pub fn unique(folder: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut path = folder.join(format!("{stem}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = folder.join(format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    path
}

/// Writes `bytes` as `path`: first to a hidden part file beside it, synced to the disk, then
/// renamed over the name. Returns `path`.
///
/// # Errors
/// A French message naming the file and the folder: not writable, full, gone (the part file
/// is removed).
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<PathBuf, String> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let part = dir.join(format!(".{name}.part"));
    let written = (|| {
        let mut f = std::fs::File::create(&part)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&part, path)
    })();
    match written {
        Ok(()) => Ok(path.to_path_buf()),
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(format!(
                "« {name} » n'a pas pu être écrit dans {} : {}",
                dir.display(),
                io_fr(&e)
            ))
        }
    }
}

/// An I/O error in the facilitator's words.
pub fn io_fr(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "ce dossier n'accepte pas l'écriture (protégé, ou clé verrouillée)".into()
        }
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => "le support est plein".into(),
        ErrorKind::NotFound => "le dossier n'existe plus (clé retirée ?)".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_earlier_file_whole_and_leaves_no_part() {
        let dir = tempfile::tempdir().expect("temp");
        let first = write_whole(&dir.path().join("a.pdf"), b"%PDF-1 first").expect("written");
        assert_eq!(std::fs::read(&first).expect("read"), b"%PDF-1 first");
        let e = write_whole(&dir.path().join("gone").join("a.pdf"), b"x").expect_err("no folder");
        assert!(e.contains("n'existe plus"), "{e}");
        // A folder holds the name: the rename fails, the part file goes.
        std::fs::create_dir(dir.path().join("b.pdf")).expect("dir");
        let e = write_whole(&dir.path().join("b.pdf"), b"x").expect_err("in the way");
        assert!(e.contains("b.pdf"), "{e}");
        assert!(!dir.path().join(".b.pdf.part").exists());
        assert_eq!(std::fs::read(&first).expect("read"), b"%PDF-1 first");
        assert_eq!(unique(dir.path(), "a", "pdf"), dir.path().join("a-2.pdf"));
        assert!(folder_ready(&dir.path().join("gone")).is_err());
    }
}
