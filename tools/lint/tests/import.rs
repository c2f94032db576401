//! `boussole-lint import-360` on small films made here with GStreamer: a mono film that fits
//! the headset is copied, a stereo one is recognised, a 60 fps one is converted to 30 fps, and
//! a 16:9 film, a film cut short, a file over the size limit are refused with nothing left in
//! the media folder; the immersion skeleton lints once its placeholders are filled.
#![expect(
    clippy::expect_used,
    reason = "test helpers fail loudly, naming what they could not do"
)]

use boussole_video::testvideo::{self, Picture, TestVideo};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn lint(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_boussole-lint"))
        .args(args)
        .output()
        .expect("boussole-lint runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn film(dir: &Path, name: &'static str, width: u32, height: u32, fps: u32) -> PathBuf {
    let video = TestVideo {
        name,
        width,
        height,
        seconds: 2,
        fps,
        picture: Picture::ScrollingBars,
        kbps: 200,
        vbr: false,
        audio: true,
    };
    let path = dir.join(name);
    testvideo::generate(&video, &path).expect("a test film");
    path
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn films_come_in_or_are_refused_with_their_reason() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let content = tmp.path().join("content");
    let assets = tmp.path().join("assets");
    fs::create_dir_all(content.join("immersions")).expect("content");
    fs::create_dir_all(assets.join("pictograms")).expect("assets");
    // The answer scale's pictograms, which the skeleton names.
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    for n in 1..=5 {
        let name = format!("pictograms/note_{n}.svg");
        fs::copy(repo.join("assets").join(&name), assets.join(&name)).expect("a pictogram");
    }
    let camera = tmp.path().join("camera");
    fs::create_dir_all(&camera).expect("camera");
    let folders = [
        content.to_str().expect("utf-8"),
        "--assets",
        assets.to_str().expect("utf-8"),
    ];
    let import = |film: &Path, id: &str| {
        lint(
            &[
                &["import-360", film.to_str().expect("utf-8"), "--id", id],
                &folders[..],
            ]
            .concat(),
        )
    };

    // Mono, within the profile: copied as it is, with its poster and a skeleton.
    let mono = film(&camera, "quai.webm", 512, 256, 25);
    let (code, out) = import(&mono, "quai");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(mono) : copié tel quel"), "{out}");
    assert_eq!(
        fs::read(assets.join("films/quai.webm")).expect("copied"),
        fs::read(&mono).expect("source")
    );
    let poster = fs::read(assets.join("films/quai.png")).expect("a poster");
    assert!(poster.starts_with(b"\x89PNG"), "a PNG poster");
    let skeleton = content.join("immersions/quai.ron");
    let text = fs::read_to_string(&skeleton).expect("a skeleton");
    assert!(
        text.contains("file: \"films/quai.webm\"") && text.contains("stereo: false"),
        "{text}"
    );

    // Stereo top-bottom (1:1).
    let (code, out) = import(&film(&camera, "atelier.webm", 256, 256, 25), "atelier");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(stéréo haut-bas)"), "{out}");
    assert!(
        fs::read_to_string(content.join("immersions/atelier.ron"))
            .expect("skeleton")
            .contains("stereo: true")
    );

    // 60 fps: converted to WebM at 30 fps.
    let (code, out) = import(&film(&camera, "rapide.webm", 512, 256, 60), "rapide");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("converti, car 60 images/s"), "{out}");
    let converted = boussole_video::import::probe_film(&assets.join("films/rapide.webm"))
        .expect("the converted film probes");
    assert_eq!((converted.width, converted.height), (512, 256));
    assert_eq!(converted.frame_rate, Some(30.0));
    assert_eq!(converted.video_codec, "video/x-vp8");
    assert!(converted.audio_codec.is_some(), "its sound kept");

    // Refused, nothing written: 16:9, cut short, over the size limit, missing, a bad id.
    let before = files_under(&assets.join("films"));
    let wide = film(&camera, "salle.webm", 640, 360, 25);
    let (code, out) = import(&wide, "salle");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("640×360") && out.contains("n'est pas un film 360°"),
        "{out}"
    );
    let whole = fs::read(&mono).expect("film");
    let cut = camera.join("coupe.webm");
    fs::write(&cut, &whole[..whole.len() / 2]).expect("cut");
    let (code, out) = import(&cut, "coupe");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("coupe.webm"), "names the file: {out}");
    let huge = camera.join("enorme.mp4");
    fs::File::create(&huge)
        .and_then(|f| f.set_len(5 << 30))
        .expect("a sparse file");
    let (code, out) = import(&huge, "enorme");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("au-delà des 4 Go"), "{out}");
    // No VP8 decoder on this machine (ranked out of reach for the linter's process only): the
    // refusal names the package to install.
    let out = Command::new(env!("CARGO_BIN_EXE_boussole-lint"))
        .args(
            [
                &[
                    "import-360",
                    mono.to_str().expect("utf-8"),
                    "--id",
                    "sans_decodeur",
                ],
                &folders[..],
            ]
            .concat(),
        )
        .env("GST_PLUGIN_FEATURE_RANK", "vp8dec:NONE,avdec_vp8:NONE")
        .output()
        .expect("boussole-lint runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("gstreamer1.0-plugins-good"), "{said}");
    let (code, out) = import(&camera.join("absent.mp4"), "absent");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("introuvable"), "{out}");
    let (code, out) = import(&mono, "Quai 2");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("lettres minuscules"), "{out}");
    let (code, out) = import(&mono, "quai");
    assert_eq!(code, 2, "an id taken: {out}");
    assert!(out.contains("existe déjà"), "{out}");
    assert_eq!(
        files_under(&assets.join("films")),
        before,
        "nothing left behind"
    );

    // The skeleton: the linter says what to fill, then it passes (its film decoded too).
    let (code, out) = lint(&folders);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("quai.ron") && out.contains("error[unfinished]"),
        "{out}"
    );
    for id in ["atelier", "rapide"] {
        fs::remove_file(content.join(format!("immersions/{id}.ron"))).expect("removed");
    }
    let filled = text
        .replace("À compléter : le titre de l'immersion", "Le quai")
        .replace("À compléter : le secteur", "Logistique portuaire")
        .replace(
            "À compléter : ce que la personne voit en arrivant",
            "Tu es sur le quai.",
        )
        .replace("rome_codes: []", "rome_codes: [\"N1101\"]")
        .replace(
            "anchors: []",
            "anchors: [(id: \"a_grue\", yaw_deg: 30.0, pitch_deg: 10.0)]",
        )
        .replace(
            "hotspots: []",
            "hotspots: [(id: \"h_grue\", anchor: \"a_grue\", title: (fr: \"La grue\"), \
             narration: (fr: \"Elle décharge les conteneurs.\"))]",
        );
    fs::write(&skeleton, filled).expect("filled");
    let (code, out) = lint(&folders);
    assert_eq!(code, 0, "{out}");
}
