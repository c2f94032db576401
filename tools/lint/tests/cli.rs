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
