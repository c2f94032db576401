//! Content bundles: a stable hash of the tree, chunked and resumable downloads that check the
//! hash before unpacking, and forged bundles refused before anything is written.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]

use boussole_protocol::bundle::{
    BUNDLE_FORMAT, Bundle, BundleError, Chunk, Download, DownloadError, MAX_BUNDLE_BYTES,
    UnpackError, check_path,
};
use std::fs;
use std::path::{Path, PathBuf};

/// Writes `files` (`path relative to root`, contents) under `root`, in the given order.
fn tree(root: &Path, files: &[(&str, &[u8])]) {
    for (path, bytes) in files {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
}

const FILES: &[(&str, &[u8])] = &[
    ("content/scenarios/exemple.ron", b"(id: \"exemple\")"),
    ("content/scenes/entrepot.ron", b"(id: \"entrepot\")"),
    ("content/grids/attitudes.ron", b"(behaviours: [])"),
    ("content/rubrics/savoir_etre.ron", b"(levels: 4)"),
    ("content/immersions/cariste.ron", b"(rome: \"N1101\")"),
    ("assets/audio/exemple/bonjour.ogg", b"OggS\x00\x02fake"),
    ("assets/pictograms/casque.svg", b"<svg/>"),
    // Not played content: left out of the bundle.
    ("content/src/lib.rs", b"//! code"),
    ("content/README.md", b"# content"),
];

fn bundle_of(root: &Path) -> Bundle {
    Bundle::from_dirs(&root.join("content"), &root.join("assets")).unwrap()
}

#[test]
fn the_same_tree_gives_the_same_hash_and_only_played_folders_count() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    tree(a.path(), FILES);
    let mut reversed = FILES.to_vec();
    reversed.reverse();
    tree(b.path(), &reversed);
    let (ba, bb) = (bundle_of(a.path()), bundle_of(b.path()));
    assert_eq!(ba.hash(), bb.hash());
    assert_eq!(ba.to_bytes(), bb.to_bytes());
    assert_eq!(ba.hash_hex().len(), 64);
    let paths: Vec<&str> = ba.files().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "assets/audio/exemple/bonjour.ogg",
            "assets/pictograms/casque.svg",
            "content/grids/attitudes.ron",
            "content/immersions/cariste.ron",
            "content/rubrics/savoir_etre.ron",
            "content/scenarios/exemple.ron",
            "content/scenes/entrepot.ron",
        ]
    );
    assert_eq!(ba.file_count(), 7);
    let (_, bytes) = ba.files().nth(1).unwrap();
    assert_eq!(bytes, b"<svg/>");
}

#[test]
fn the_hash_is_sha256_over_path_length_path_length_bytes() {
    use sha2::{Digest, Sha256};
    let bundle = Bundle::from_files(vec![
        ("content/scenes/b.ron".into(), b"BB".to_vec()),
        ("assets/a.ogg".into(), b"A".to_vec()),
    ])
    .unwrap();
    let mut h = Sha256::new();
    for (path, bytes) in [("assets/a.ogg", &b"A"[..]), ("content/scenes/b.ron", b"BB")] {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    let expected: [u8; 32] = h.finalize().into();
    assert_eq!(bundle.hash(), expected);
}

#[test]
fn any_byte_change_rename_or_new_file_changes_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), FILES);
    let base = bundle_of(dir.path()).hash();
    let target = dir.path().join("content/scenarios/exemple.ron");
    let original = fs::read(&target).unwrap();
    for i in 0..original.len() {
        let mut changed = original.clone();
        changed[i] ^= 1;
        fs::write(&target, &changed).unwrap();
        assert_ne!(bundle_of(dir.path()).hash(), base, "byte {i}");
    }
    fs::write(&target, &original).unwrap();
    assert_eq!(bundle_of(dir.path()).hash(), base);

    let renamed = dir.path().join("content/scenarios/exemple2.ron");
    fs::rename(&target, &renamed).unwrap();
    assert_ne!(bundle_of(dir.path()).hash(), base);
    fs::rename(&renamed, &target).unwrap();

    // The same bytes split differently between two files.
    let files = |a: &[u8], b: &[u8]| {
        Bundle::from_files(vec![
            ("assets/a".into(), a.to_vec()),
            ("assets/b".into(), b.to_vec()),
        ])
        .unwrap()
        .hash()
    };
    assert_ne!(files(b"ab", b"c"), files(b"a", b"bc"));

    fs::write(dir.path().join("assets/empty.txt"), b"").unwrap();
    assert_ne!(bundle_of(dir.path()).hash(), base);
}

#[test]
fn missing_folders_are_an_empty_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let empty = bundle_of(dir.path());
    assert_eq!(empty.file_count(), 0);
    assert_eq!(empty, Bundle::from_files(Vec::new()).unwrap());
}

#[test]
fn the_shipped_content_and_assets_bundle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let a = Bundle::from_dirs(&root.join("content"), &root.join("assets")).unwrap();
    let b = Bundle::from_dirs(&root.join("content"), &root.join("assets")).unwrap();
    assert_eq!(a.hash(), b.hash());
    assert!(a.files().any(|(p, _)| p == "content/scenarios/exemple.ron"));
    assert!(a.files().any(|(p, _)| p.starts_with("assets/audio/")));
    assert!(a.files().all(|(p, _)| !p.starts_with("content/src/")));
}

/// Downloads `bundle` in chunks of `size`, stopping after `stop_after` chunks (`None`: to
/// the end).
fn download(bundle: &Bundle, d: &mut Download, size: usize, stop_after: Option<usize>) {
    let mut n = 0;
    while !d.is_complete() && stop_after.is_none_or(|s| n < s) {
        let chunk = bundle.chunk(d.next_offset(), size).unwrap();
        d.accept(&chunk).unwrap();
        n += 1;
    }
}

#[test]
fn a_chunked_download_resumed_from_the_middle_reassembles_and_unpacks() {
    let src = tempfile::tempdir().unwrap();
    tree(src.path(), FILES);
    let bundle = bundle_of(src.path());
    let total = bundle.encoded_len();

    let mut first = Download::new(bundle.hash(), total).unwrap();
    download(&bundle, &mut first, 17, Some(4));
    assert_eq!(first.next_offset(), 68);
    assert!(!first.is_complete());
    // The connection drops; the device keeps what it had and resumes on a new one.
    let kept = first.received().to_vec();
    let mut second = Download::resume(bundle.hash(), total, kept).unwrap();
    assert_eq!(second.next_offset(), 68);
    // A resend of a chunk it already has is refused and changes nothing.
    let old = bundle.chunk(51, 17).unwrap();
    assert!(matches!(
        second.accept(&old),
        Err(DownloadError::WrongOffset {
            expected: 68,
            got: 51
        })
    ));
    download(&bundle, &mut second, 100, None);
    assert!(second.is_complete());
    let received = second.finish().unwrap();
    assert_eq!(received, bundle);

    let dest = tempfile::tempdir().unwrap();
    received.unpack_into(dest.path()).unwrap();
    assert_eq!(bundle_of(dest.path()).hash(), bundle.hash());
    assert_eq!(
        fs::read(dest.path().join("assets/pictograms/casque.svg")).unwrap(),
        b"<svg/>"
    );
    assert!(!dest.path().join(".bundle-staging").exists());
}

#[test]
fn chunks_of_another_bundle_or_that_do_not_fit_are_refused() {
    let bundle = Bundle::from_files(vec![("assets/a".into(), vec![7; 100])]).unwrap();
    let total = bundle.encoded_len();
    let mut d = Download::new(bundle.hash(), total).unwrap();
    let mut other = bundle.chunk(0, 10).unwrap();
    other.hash[0] ^= 1;
    assert!(matches!(
        d.accept(&other),
        Err(DownloadError::WrongBundle { .. })
    ));
    let past_end = Chunk {
        hash: bundle.hash(),
        offset: 0,
        total_len: total,
        bytes: vec![0; total as usize + 1],
    };
    assert!(matches!(
        d.accept(&past_end),
        Err(DownloadError::BadChunk { .. })
    ));
    let empty = Chunk {
        bytes: Vec::new(),
        ..bundle.chunk(0, 1).unwrap()
    };
    assert!(matches!(
        d.accept(&empty),
        Err(DownloadError::BadChunk { .. })
    ));
    let other_len = Chunk {
        total_len: total + 1,
        ..bundle.chunk(0, 1).unwrap()
    };
    assert!(matches!(
        d.accept(&other_len),
        Err(DownloadError::BadChunk { .. })
    ));
    assert_eq!(d.next_offset(), 0);
    d.accept(&bundle.chunk(0, 10).unwrap()).unwrap();
    let err = d.clone().finish().unwrap_err();
    assert!(
        matches!(err, DownloadError::Incomplete { have: 10, .. }),
        "{err}"
    );

    assert_eq!(bundle.chunk(total, 10), None);
    assert_eq!(bundle.chunk(0, 0), None);
    assert_eq!(bundle.chunk(total - 3, 10).unwrap().bytes.len(), 3);
    assert!(matches!(
        Download::new(bundle.hash(), MAX_BUNDLE_BYTES + 1),
        Err(DownloadError::TooLarge { .. })
    ));
}

/// Downloads `bytes` (claimed to be the bundle with `hash`) and finishes.
fn download_bytes(hash: [u8; 32], bytes: &[u8]) -> Result<Bundle, DownloadError> {
    let mut d = Download::new(hash, bytes.len() as u64)?;
    for (i, piece) in bytes.chunks(64).enumerate() {
        d.accept(&Chunk {
            hash,
            offset: (i * 64) as u64,
            total_len: bytes.len() as u64,
            bytes: piece.to_vec(),
        })?;
    }
    d.finish()
}

#[test]
fn a_corrupted_chunk_fails_the_final_hash_check() {
    let src = tempfile::tempdir().unwrap();
    tree(src.path(), FILES);
    let bundle = bundle_of(src.path());
    let bytes = bundle.to_bytes();
    // A flipped byte inside a file's contents: decodes, but the hash differs.
    let at = bytes.windows(6).position(|w| w == b"<svg/>").unwrap();
    let mut corrupted = bytes.to_vec();
    corrupted[at + 2] ^= 0x20;
    let err = download_bytes(bundle.hash(), &corrupted).unwrap_err();
    assert!(matches!(err, DownloadError::HashMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&bundle.hash_hex()), "{err}");
    // Any flipped byte anywhere is caught, one way or the other, without a panic.
    for i in 0..bytes.len() {
        let mut corrupted = bytes.to_vec();
        corrupted[i] ^= 0x01;
        assert!(
            download_bytes(bundle.hash(), &corrupted).is_err(),
            "byte {i}"
        );
    }
}

/// A bundle encoding made by hand, bypassing every check of `Bundle`.
fn forged(files: &[(&str, &[u8])]) -> Vec<u8> {
    let files: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, b)| ((*p).to_owned(), b.to_vec()))
        .collect();
    postcard::to_stdvec(&(BUNDLE_FORMAT, files)).unwrap()
}

#[test]
fn path_traversal_in_a_forged_bundle_is_refused_before_anything_is_written() {
    let dest = tempfile::tempdir().unwrap();
    let target = dest.path().join("cache");
    for path in [
        "content/scenarios/../../../evil.ron",
        "assets/../../evil",
        "/etc/evil",
        "assets/a/./b",
        "assets//b",
        "assets\\..\\evil",
        "C:/evil",
        "assets/c:evil",
        "assets/line\nbreak",
        "content/src/lib.rs",
        "evil.txt",
        "assets",
        "",
    ] {
        let bytes = forged(&[("assets/ok.txt", b"ok"), (path, b"pwned")]);
        let err = Bundle::from_bytes(bytes.clone()).unwrap_err();
        assert!(
            matches!(
                err,
                BundleError::UnsafePath { .. } | BundleError::Unsorted { .. }
            ),
            "{path:?}: {err}"
        );
        // Downloaded with any hash, it never becomes a bundle to unpack.
        let err = download_bytes([0; 32], &bytes).unwrap_err();
        assert!(matches!(err, DownloadError::Corrupt(_)), "{path:?}: {err}");
        assert!(check_path(path).is_err(), "{path:?}");
    }
    let err = Bundle::from_bytes(forged(&[("content/scenarios/../../x", b"")])).unwrap_err();
    assert!(
        err.to_string().contains("content/scenarios/../../x"),
        "{err}"
    );
    assert!(err.to_string().contains(".."), "{err}");
    assert!(!target.exists());
    assert_eq!(fs::read_dir(dest.path()).unwrap().count(), 0);
}

#[test]
fn forged_order_duplicates_format_and_size_are_refused() {
    let unsorted = forged(&[("assets/b", b""), ("assets/a", b"")]);
    assert!(matches!(
        Bundle::from_bytes(unsorted),
        Err(BundleError::Unsorted { .. })
    ));
    let twice = forged(&[("assets/a", b"1"), ("assets/a", b"2")]);
    assert!(matches!(
        Bundle::from_bytes(twice),
        Err(BundleError::Unsorted { .. })
    ));
    assert!(matches!(
        Bundle::from_files(vec![
            ("assets/a".into(), vec![]),
            ("assets/a".into(), vec![])
        ]),
        Err(BundleError::Unsorted { .. })
    ));
    let v2 = postcard::to_stdvec(&(2u32, Vec::<(String, Vec<u8>)>::new())).unwrap();
    assert!(matches!(
        Bundle::from_bytes(v2),
        Err(BundleError::Format { found: 2 })
    ));
    assert!(matches!(
        Bundle::from_bytes(vec![1, 200, 200, 200, 200, 15]),
        Err(BundleError::Decode(_))
    ));
    let big = Bundle::from_files(vec![("assets/a".into(), vec![0; 1000])]).unwrap();
    assert!(matches!(
        Bundle::from_bytes_with_limit(big.to_bytes().to_vec(), 999),
        Err(BundleError::TooLarge { max: 999, .. })
    ));
}

#[test]
fn unpacking_replaces_changed_files_and_removes_stale_ones() {
    let dest = tempfile::tempdir().unwrap();
    let stale: PathBuf = dest.path().join("content/scenarios/old.ron");
    tree(
        dest.path(),
        &[
            ("content/scenarios/old.ron", b"removed"),
            ("content/scenarios/exemple.ron", b"outdated"),
            ("content/src/kept.rs", b"not content"),
        ],
    );
    let src = tempfile::tempdir().unwrap();
    tree(src.path(), FILES);
    let bundle = bundle_of(src.path());
    bundle.unpack_into(dest.path()).unwrap();
    assert!(!stale.exists());
    assert!(dest.path().join("content/src/kept.rs").exists());
    assert_eq!(
        fs::read(dest.path().join("content/scenarios/exemple.ron")).unwrap(),
        b"(id: \"exemple\")"
    );
    assert_eq!(bundle_of(dest.path()).hash(), bundle.hash());
    // Unpacking again is a no-op.
    bundle.unpack_into(dest.path()).unwrap();
    assert_eq!(bundle_of(dest.path()).hash(), bundle.hash());
}

#[test]
fn unpacking_where_a_folder_is_a_file_fails_with_the_path() {
    let dest = tempfile::tempdir().unwrap();
    fs::write(dest.path().join("assets"), b"a file, not a folder").unwrap();
    let bundle = Bundle::from_files(vec![("assets/x/y.ogg".into(), b"y".to_vec())]).unwrap();
    let err = bundle.unpack_into(dest.path()).unwrap_err();
    assert!(matches!(err, UnpackError::Io { .. }), "{err}");
    assert!(err.to_string().contains("assets"), "{err}");
}
