//! The role manifests of the shipped content: each role gets the RON files and only the media
//! it plays; the catalog reads file chunks from disk; the manifest hash depends on the files,
//! not on the order found.

use boussole_content::cue::DeviceRole;
use boussole_protocol::manifest::{Catalog, FileEntry, Manifest, hash_bytes};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[expect(clippy::expect_used, reason = "test helper: its failure is the test's")]
fn catalog() -> Catalog {
    Catalog::build(&root().join("content"), &root().join("assets")).expect("the shipped content")
}

fn paths(m: &Manifest) -> Vec<&str> {
    m.files().iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn each_role_gets_the_content_files_and_only_the_media_it_plays() {
    let c = catalog();
    let all = c.all();
    let headset = c.manifest(DeviceRole::Headset);
    let screen = c.manifest(DeviceRole::Screen);
    let terminal = c.manifest(DeviceRole::Terminal);
    let ron: Vec<&str> = paths(all)
        .into_iter()
        .filter(|p| p.starts_with("content/"))
        .collect();
    assert!(ron.len() >= 10, "{ron:?}");
    for (name, m) in [
        ("headset", headset),
        ("screen", screen),
        ("terminal", terminal),
    ] {
        for p in &ron {
            assert!(m.get(p).is_some(), "{name} lacks {p}");
        }
        assert!(
            m.total_bytes() < all.total_bytes(),
            "{name} gets less than everything"
        );
        assert!(
            !paths(m)
                .iter()
                .any(|p| p.starts_with("assets/videos/tests/")),
            "{name}: test videos are named by no content"
        );
    }
    // Terminals never get a film, a 360° video, an immersion's voices or sounds.
    for p in paths(terminal) {
        assert!(
            !p.ends_with(".webm") && !p.ends_with(".mp4") && !p.starts_with("assets/videos/"),
            "terminal gets {p}"
        );
        for immersion in [
            "cariste_port",
            "aide_domicile",
            "maintenance_industrielle",
            "tutoriel",
        ] {
            assert!(
                !p.starts_with(&format!("assets/audio/{immersion}/")),
                "terminal gets {p}"
            );
        }
        assert!(
            !p.starts_with("assets/sounds/immersions/"),
            "terminal gets {p}"
        );
    }
    // Headsets get the immersions: their voices and their sounds.
    assert!(
        paths(headset)
            .iter()
            .any(|p| p.starts_with("assets/audio/cariste_port/"))
    );
    assert!(
        paths(headset)
            .iter()
            .any(|p| p.starts_with("assets/sounds/immersions/"))
    );
    // The room screen gets the cue sounds aimed at it and the briefing's voices, not the
    // immersions'.
    assert!(
        screen
            .get("assets/sounds/attitudes/ambiance_quai.wav")
            .is_some()
    );
    assert!(
        paths(screen)
            .iter()
            .any(|p| p.starts_with("assets/audio/scape_attitudes/"))
    );
    assert!(
        !paths(screen)
            .iter()
            .any(|p| p.starts_with("assets/sounds/immersions/"))
    );
    assert!(
        !paths(screen)
            .iter()
            .any(|p| p.starts_with("assets/audio/cariste_port/"))
    );
    // Terminals get their puzzles' voices and pictograms.
    assert!(
        paths(terminal)
            .iter()
            .any(|p| p.starts_with("assets/audio/scape_attitudes/"))
    );
    assert!(
        paths(terminal)
            .iter()
            .any(|p| p.starts_with("assets/pictograms/"))
    );
    let hashes = c.hashes();
    assert!(
        hashes.headset != hashes.screen && hashes.screen != hashes.terminal,
        "one manifest per role"
    );
    eprintln!(
        "manifests: all {} files {} B; headset {} files {} B; screen {} files {} B; terminal {} files {} B",
        all.files().len(),
        all.total_bytes(),
        headset.files().len(),
        headset.total_bytes(),
        screen.files().len(),
        screen.total_bytes(),
        terminal.files().len(),
        terminal.total_bytes()
    );
}

#[test]
fn the_catalog_reads_chunks_from_the_files() {
    let c = catalog();
    let entry = c
        .all()
        .get("assets/sounds/attitudes/klaxon.wav")
        .cloned()
        .expect("a shipped sound");
    let bytes = std::fs::read(root().join("assets/sounds/attitudes/klaxon.wav")).expect("read");
    assert_eq!(hash_bytes(&bytes), entry.hash);
    let chunk = c
        .read(&entry.hash, 10, 100)
        .expect("read")
        .expect("a chunk");
    assert_eq!(chunk, bytes.get(10..110).expect("long enough"));
    let tail = c
        .read(&entry.hash, entry.size - 5, 100)
        .expect("read")
        .expect("the tail");
    assert_eq!(tail.len(), 5);
    assert!(
        c.read(&entry.hash, entry.size, 100)
            .expect("read")
            .is_none()
    );
    assert!(c.read(&[0; 32], 0, 100).expect("read").is_none());
}

#[test]
fn the_manifest_hash_follows_the_files_not_their_order() {
    let a = FileEntry {
        path: "assets/a.wav".into(),
        size: 1,
        hash: hash_bytes(b"a"),
    };
    let b = FileEntry {
        path: "content/grids/b.ron".into(),
        size: 1,
        hash: hash_bytes(b"b"),
    };
    let one = Manifest::new(vec![a.clone(), b.clone()]).expect("valid");
    let two = Manifest::new(vec![b.clone(), a.clone()]).expect("valid");
    assert_eq!(one.hash(), two.hash());
    let changed = Manifest::new(vec![
        a.clone(),
        FileEntry {
            hash: hash_bytes(b"c"),
            ..b.clone()
        },
    ])
    .expect("valid");
    assert_ne!(one.hash(), changed.hash());
    assert!(Manifest::new(vec![a.clone(), a]).is_err(), "a path twice");
    assert!(
        Manifest::new(vec![FileEntry {
            path: "content/../x".into(),
            ..b
        }])
        .is_err()
    );
    // Scanning a folder gives the manifest of its files.
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join("content/grids")).expect("mkdir");
    std::fs::create_dir_all(tmp.path().join("assets")).expect("mkdir");
    std::fs::write(tmp.path().join("content/grids/b.ron"), b"b").expect("write");
    std::fs::write(tmp.path().join("assets/a.wav"), b"a").expect("write");
    let scanned =
        Manifest::scan(&tmp.path().join("content"), &tmp.path().join("assets")).expect("scan");
    assert_eq!(scanned.hash(), one.hash());
}
