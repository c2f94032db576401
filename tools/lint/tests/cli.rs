//! The linter as a user runs it: exit codes, text and JSON output.
#![expect(
    clippy::expect_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lint(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_boussole-lint"))
        .args(args)
        .output()
        .expect("boussole-lint runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let path = e.expect("entry").path();
        let dest = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            fs::copy(&path, &dest).expect("copy");
        }
    }
}

#[test]
fn shipped_content_passes_with_a_french_summary() {
    let content = repo().join("content");
    let (code, out) = lint(&[content.to_str().expect("utf-8 path"), "--summary"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 errors"), "{out}");
    assert!(
        out.contains("Scénario « Exemple : le colis perdu »"),
        "{out}"
    );
}

#[test]
fn a_broken_folder_exits_1_and_json_names_file_line_column() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let content = tmp.path().join("content");
    for kind in ["rubrics", "grids", "scenes", "immersions", "scenarios"] {
        copy_dir(&repo().join("content").join(kind), &content.join(kind));
    }
    let broken = repo().join("content/tests/broken/scenes/anchor_outside.ron");
    fs::copy(&broken, content.join("scenes/anchor_outside.ron")).expect("copy broken file");
    let assets = repo().join("assets");
    let args = [
        content.to_str().expect("utf-8"),
        "--assets",
        assets.to_str().expect("utf-8"),
        "--json",
    ];
    let (code, out) = lint(&args);
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(json["errors"], 1, "{out}");
    let p = &json["problems"][0];
    assert_eq!(p["code"], "outside_scene");
    assert_eq!(p["id"], "a_out");
    assert!(
        p["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("scenes/anchor_outside.ron"))
    );
    assert_eq!(
        (p["line"].as_u64(), p["column"].as_u64()),
        (Some(14), Some(23))
    );
}

#[test]
fn a_missing_folder_is_a_usage_error_not_a_panic() {
    let (code, _) = lint(&["/nonexistent/content"]);
    assert_eq!(code, 2);
}

/// A 16-bit mono 8 kHz WAV of `seconds` of silence, written by hand.
fn silent_wav(seconds: u32) -> Vec<u8> {
    let data = 8_000 * 2 * seconds;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16_u32.to_le_bytes());
    out.extend_from_slice(&1_u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1_u16.to_le_bytes()); // mono
    out.extend_from_slice(&8_000_u32.to_le_bytes());
    out.extend_from_slice(&16_000_u32.to_le_bytes());
    out.extend_from_slice(&2_u16.to_le_bytes());
    out.extend_from_slice(&16_u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    out.resize(out.len() + data as usize, 0);
    out
}

/// Media damaged in the ways a day finds them (a voice cut short in a copy, a voice swapped for
/// another text's, a silent recording, a broken pictogram, a 16:9 film given as 360°, a film cut
/// short): each is an error naming the file, at the content line that names it, before any
/// session; the undamaged media pass.
#[test]
fn damaged_media_are_named_at_the_line_that_names_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let content = tmp.path().join("content");
    let assets = tmp.path().join("assets");
    for kind in ["rubrics", "grids", "scenes", "immersions", "scenarios"] {
        copy_dir(&repo().join("content").join(kind), &content.join(kind));
    }
    copy_dir(&repo().join("assets"), &assets);
    let audio = assets.join("audio/scape_attitudes");
    // Cut short: half of an Ogg Vorbis voice.
    let cut = audio.join("a-17-heures-un-camion-part-pour-l-6b310a2d.ogg");
    let bytes = fs::read(&cut).expect("a voice");
    fs::write(&cut, &bytes[..bytes.len() / 2]).expect("cut");
    // Another text's voice: « Le lavage des mains » over a sentence of 70 characters.
    fs::copy(
        assets.join("audio/aide_domicile/le-lavage-des-mains-120765ea.ogg"),
        audio.join("vous-etes-l-equipe-de-l-apres-bb074d97.ogg"),
    )
    .expect("swap");
    // Silent: a recording of nothing, given as a WAV.
    fs::write(audio.join("silence.wav"), silent_wav(3)).expect("silence");
    let scenario = content.join("scenarios/scape_attitudes.ron");
    let text = fs::read_to_string(&scenario).expect("the scenario");
    let text = text.replace(
        "audio/scape_attitudes/parlez-entre-vous-chaque-poste-a-c00335f1.ogg",
        "audio/scape_attitudes/silence.wav",
    );
    fs::write(&scenario, text).expect("scenario edited");
    fs::write(
        assets.join("pictograms/attitudes_rumeur.svg"),
        "<svg xmlns=",
    )
    .expect("svg");
    // Two 360° immersions from the test fixture: a 16:9 film, and a 2:1 film cut short.
    let fixture =
        fs::read_to_string(repo().join("tests/fixtures/visite_360.ron")).expect("fixture");
    fs::write(content.join("immersions/visite_360.ron"), &fixture).expect("fixture copied");
    let cut_film = fixture
        .replace("id: \"visite_360\"", "id: \"visite_360_coupee\"")
        .replace("films/visite_360.webm", "films/coupee.webm");
    fs::write(content.join("immersions/visite_360_coupee.ron"), cut_film).expect("fixture copied");
    fs::create_dir_all(assets.join("films")).expect("films");
    fs::copy(
        assets.join("videos/tests/room_16x9_640x360.webm"),
        assets.join("films/visite_360.webm"),
    )
    .expect("film");
    let sphere = fs::read(assets.join("videos/tests/sphere_360_512x256.webm")).expect("film");
    fs::write(
        assets.join("films/coupee.webm"),
        &sphere[..sphere.len() * 2 / 5],
    )
    .expect("cut");

    let args = [
        content.to_str().expect("utf-8"),
        "--assets",
        assets.to_str().expect("utf-8"),
        "--json",
    ];
    let (code, out) = lint(&args);
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    let problems = json["problems"].as_array().expect("problems");
    let find = |id: &str| {
        problems
            .iter()
            .find(|p| p["id"].as_str().is_some_and(|i| i.ends_with(id)))
            .unwrap_or_else(|| panic!("no problem for {id}: {out}"))
    };
    let at = |p: &serde_json::Value| {
        (
            p["code"].as_str().map(str::to_owned),
            p["file"]
                .as_str()
                .map(|f| f.rsplit('/').next().unwrap_or(f).to_owned()),
            p["line"].as_u64(),
        )
    };
    let expect = |code: &str, file: &str, line: u64| {
        (Some(code.to_owned()), Some(file.to_owned()), Some(line))
    };
    let cut = find("a-17-heures-un-camion-part-pour-l-6b310a2d.ogg");
    assert_eq!(
        at(cut),
        expect("corrupt_media", "scape_attitudes.ron", 39),
        "{cut}"
    );
    assert!(
        cut["message"]
            .as_str()
            .is_some_and(|m| m.contains("stops before its end")),
        "{cut}"
    );
    let swapped = find("vous-etes-l-equipe-de-l-apres-bb074d97.ogg");
    assert_eq!(
        at(swapped),
        expect("media_mismatch", "scape_attitudes.ron", 38),
        "{swapped}"
    );
    assert!(
        swapped["message"]
            .as_str()
            .is_some_and(|m| m.contains("too short")),
        "{swapped}"
    );
    let silent = find("silence.wav");
    assert_eq!(
        at(silent),
        expect("silent_media", "scape_attitudes.ron", 40),
        "{silent}"
    );
    assert_eq!(
        find("attitudes_rumeur.svg")["code"],
        "corrupt_media",
        "{out}"
    );
    let wide = find("films/visite_360.webm");
    assert_eq!(at(wide).0.as_deref(), Some("media_mismatch"), "{wide}");
    assert!(
        wide["message"]
            .as_str()
            .is_some_and(|m| m.contains("640x360")),
        "{wide}"
    );
    assert_eq!(find("films/coupee.webm")["code"], "corrupt_media", "{out}");
    // Nothing else: the other 500 media decode.
    assert_eq!(problems.len(), 6, "{out}");
    assert_eq!(json["errors"], 6, "{out}");
    // Without decoding, the same content passes (the files exist).
    let (code, out) = lint(&[&args[..3], &["--no-media"]].concat());
    assert_eq!(code, 0, "{out}");
}

/// A 16-bit mono 16 kHz WAV of `seconds` of a 220 Hz square wave (a stand-in for a speaker).
fn tone_wav(seconds: u32) -> Vec<u8> {
    let mut out = silent_wav(1);
    // Rewrite as 16 kHz and the length asked.
    let frames = 16_000 * seconds;
    let data = frames * 2;
    out.truncate(44);
    out[4..8].copy_from_slice(&(36 + data).to_le_bytes());
    out[24..28].copy_from_slice(&16_000_u32.to_le_bytes());
    out[28..32].copy_from_slice(&32_000_u32.to_le_bytes());
    out[40..44].copy_from_slice(&data.to_le_bytes());
    for i in 0..frames {
        let v: i16 = if (i / 36) % 2 == 0 { 8_000 } else { -8_000 };
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// The voices manifest through a content author's day: a synthetic voice whose text changed is
/// reported and made again; a script is exported, recordings named by its numbers come in
/// (bad ones refused with their reason, nothing written for them), and a recorded voice is
/// never overwritten: when its text changes it is reported, with who recorded it.
#[test]
fn recorded_voices_are_kept_and_stale_voices_reported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let content = tmp.path().join("content");
    let assets = tmp.path().join("assets");
    for kind in ["rubrics", "grids", "scenes", "immersions", "scenarios"] {
        copy_dir(&repo().join("content").join(kind), &content.join(kind));
    }
    copy_dir(&repo().join("assets"), &assets);
    let folders = [
        content.to_str().expect("utf-8"),
        "--assets",
        assets.to_str().expect("utf-8"),
    ];
    let scenario = content.join("scenarios/scape_attitudes.ron");
    let edit = |from: &str, to: &str| {
        let text = fs::read_to_string(&scenario).expect("the scenario");
        assert!(text.contains(from), "{from}");
        fs::write(&scenario, text.replace(from, to)).expect("edited");
    };
    let voice = "audio/scape_attitudes/parlez-entre-vous-chaque-poste-a-c00335f1.ogg";
    let voice_file = assets.join(voice);

    // A synthetic voice whose text changed: reported at its line, then made again.
    edit(
        "Parlez entre vous. Chaque poste",
        "Parlez ensemble. Chaque poste",
    );
    let (code, out) = lint(&[&folders[..], &["--no-media"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("scape_attitudes.ron:40:")
            && out.contains("error[stale_voice]")
            && out.contains("was synthesised for another text"),
        "{out}"
    );
    let before = fs::read(&voice_file).expect("the voice");
    let (code, out) = lint(&[&["voices"], &folders[..]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("voice {voice}")), "{out}");
    assert_ne!(
        fs::read(&voice_file).expect("the voice"),
        before,
        "made again"
    );
    let (code, out) = lint(&[&folders[..], &["--no-media"]].concat());
    assert_eq!(code, 0, "{out}");

    // The script: numbered lines, the text and its file.
    let script = tmp.path().join("script.txt");
    let (code, out) = lint(
        &[
            &["voice-script"],
            &folders[..],
            &["-o", script.to_str().expect("utf-8")],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}");
    let text = fs::read_to_string(&script).expect("the script");
    let number = text
        .lines()
        .position(|l| l.ends_with(&format!("[{voice}]")))
        .and_then(|i| text.lines().nth(i - 1))
        .map(|l| l[..4].to_owned())
        .expect("the voice's line in the script");
    assert!(
        text.contains(&format!("{number}  Parlez ensemble. Chaque poste")),
        "{text}"
    );

    // The recordings: one good (WAV, encoded to Ogg), one silent, one not in the script, one
    // not named by a number.
    let takes = tmp.path().join("prises");
    fs::create_dir_all(&takes).expect("folder");
    fs::write(takes.join(format!("{number}.wav")), tone_wav(4)).expect("take");
    fs::write(takes.join("0002.wav"), silent_wav(3)).expect("take");
    fs::write(takes.join("9999.wav"), tone_wav(3)).expect("take");
    fs::write(takes.join("notes.txt"), "prise 3 à refaire").expect("notes");
    let import = [
        &["voice-import"],
        &folders[..],
        &[
            "--script",
            script.to_str().expect("utf-8"),
            "--from",
            takes.to_str().expect("utf-8"),
            "--speaker",
            "Nadia B.",
        ],
    ]
    .concat();
    let before_silent = text
        .lines()
        .position(|l| l.starts_with("0002  "))
        .and_then(|i| text.lines().nth(i + 1))
        .map(|l| l.trim().trim_matches(['[', ']']).to_owned())
        .expect("line 0002");
    let silent_before = fs::read(assets.join(&before_silent)).expect("voice 2");
    let (code, out) = lint(&import);
    assert_eq!(code, 1, "refusals make it fail: {out}");
    assert!(out.contains("1 recorded voices added, 3 refused"), "{out}");
    assert!(out.contains("0002.wav: silent"), "{out}");
    assert!(
        out.contains("9999.wav: the script has no line 9999"),
        "{out}"
    );
    assert!(
        out.contains("notes.txt: not named by a script number"),
        "{out}"
    );
    assert_eq!(
        fs::read(assets.join(&before_silent)).expect("voice 2"),
        silent_before,
        "nothing written for a refused take"
    );
    let manifest = fs::read_to_string(assets.join("audio/voices.ron")).expect("manifest");
    assert!(
        manifest.contains("Recorded(") && manifest.contains("speaker: \"Nadia B.\""),
        "{manifest}"
    );
    let recorded = fs::read(&voice_file).expect("the recorded voice");
    assert!(recorded.starts_with(b"OggS"), "encoded to Ogg Vorbis");
    let (code, out) = lint(&folders);
    assert_eq!(code, 0, "the recording passes the media check: {out}");
    // Recorded now: the script leaves it out.
    let (_, _) = lint(
        &[
            &["voice-script"],
            &folders[..],
            &["-o", script.to_str().expect("utf-8")],
        ]
        .concat(),
    );
    assert!(
        !fs::read_to_string(&script)
            .expect("the script")
            .contains(&format!("[{voice}]"))
    );

    // Its text changes again: reported with who recorded it, and never overwritten.
    edit("Parlez ensemble. Chaque poste", "Discutez. Chaque poste");
    let (code, out) = lint(&[&folders[..], &["--no-media"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("was recorded by Nadia B. on"), "{out}");
    let (code, out) = lint(&[&["voices"], &folders[..]].concat());
    assert_eq!(
        code, 1,
        "a recorded voice to record again fails the pass: {out}"
    );
    assert!(out.contains("record \"Discutez."), "{out}");
    assert_eq!(
        fs::read(&voice_file).expect("the voice"),
        recorded,
        "never overwritten"
    );
}
