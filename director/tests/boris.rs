//! The exports of the scripted demo session (`director/scripts/demo_scape_attitudes.ron`, two
//! raters): their shape and what they leave out (names, withdrawn codes, notes unless asked),
//! and BORIS itself opening our project: BORIS 8.27.4 (`boris-behav-obs`, run through
//! `tools/fixtures/boris_check.py`) loads it, finds every state event paired and as many events
//! per observation as we wrote, writes the same tabular events as ours, and computes the same
//! kappa on our two raters, to its 3-decimal rounding.
//!
//! The BORIS test needs the Python that `cargo xtask test` prepares and names in
//! `BOUSSOLE_BORIS_PYTHON`; without the variable (a plain `cargo test`) it says so and skips.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly, naming what they could not do"
)]

use boussole_content::ContentSet;
use boussole_director::engine::Engine;
use boussole_director::export::{
    self, CSV_COLUMNS, boris_event_counts, boris_project_json, observations_csv, tabular_events_tsv,
};
use boussole_director::irr;
use boussole_director::script;
use boussole_director::session::Session;
use boussole_director::store::{SessionInfo, Store};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// 2026-01-01T00:00:00Z, so dates in the exports are known.
const CREATED: i64 = 1_767_225_600_000;

/// The demo script played into a fresh store under `dir`.
fn demo(dir: &Path) -> (Session, SessionInfo, script::Script) {
    let (content, problems) = ContentSet::load_dir(&repo().join("content"));
    assert!(problems.is_empty(), "{problems:?}");
    let text =
        std::fs::read_to_string(repo().join("director/scripts/demo_scape_attitudes.ron")).unwrap();
    let sc = script::parse(&text).unwrap();
    let store = Store::open(&dir.join("d.db"), "phrase de test").unwrap();
    let mut session = Session::create(store, &content, &sc.scenario, &sc.label, CREATED).unwrap();
    let refusals = script::run(&mut session, &sc).unwrap();
    assert!(refusals.is_empty(), "{refusals:?}");
    let info = session.store().session(session.id()).unwrap().unwrap();
    (session, info, sc)
}

fn names(sc: &script::Script) -> Vec<String> {
    let names: Vec<String> = sc
        .participants
        .iter()
        .filter_map(|p| p.name.clone())
        .collect();
    assert!(!names.is_empty(), "the demo has real names to keep out");
    names
}

fn coded(engine: &Engine, rater: &str) -> usize {
    engine
        .observations()
        .iter()
        .filter(|o| o.rater.as_str() == rater && o.retracted.is_none() && o.behaviour.is_some())
        .count()
}

#[test]
fn boris_project_has_borises_shape_and_only_pseudonyms() {
    let dir = tempfile::tempdir().unwrap();
    let (session, info, sc) = demo(dir.path());
    let engine = session.engine();
    let text = boris_project_json(engine, &info).unwrap();
    assert!(
        text.is_ascii(),
        "non-ASCII escaped, as BORIS writes projects"
    );
    let pj: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = pj.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "behavioral_categories",
            "behavioral_categories_config",
            "behaviors_coding_map",
            "behaviors_conf",
            "coding_map",
            "converters",
            "independent_variables",
            "observations",
            "project_date",
            "project_description",
            "project_format_version",
            "project_name",
            "subjects_conf",
            "time_format",
        ]
    );
    assert_eq!(pj["project_format_version"], export::BORIS_PROJECT_FORMAT);
    assert_eq!(pj["project_date"], "2026-01-01T00:00:00");

    let unescaped = pj.to_string();
    for name in names(&sc) {
        assert!(!unescaped.contains(&name), "{name} is in the BORIS project");
    }
    let subjects: Vec<&str> = pj["subjects_conf"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let mut pseudonyms: Vec<&str> = sc
        .participants
        .iter()
        .map(|p| p.pseudonym.as_str())
        .collect();
    pseudonyms.sort_unstable();
    let mut got = subjects.clone();
    got.sort_unstable();
    assert_eq!(got, pseudonyms);
    assert_eq!(pj["subjects_conf"]["0"]["key"], "1");

    let ethogram = pj["behaviors_conf"].as_object().unwrap();
    assert_eq!(ethogram.len(), engine.grid().behaviours.len());
    let order: Vec<&str> = (0..ethogram.len())
        .map(|i| ethogram[&i.to_string()]["code"].as_str().unwrap())
        .collect();
    let grid: Vec<&str> = engine
        .grid()
        .behaviours
        .iter()
        .map(|b| b.id.as_str())
        .collect();
    assert_eq!(order, grid, "numbered in grid order");
    let explore = ethogram.values().find(|b| b["code"] == "explore").unwrap();
    assert_eq!(explore["type"], "State event");
    assert_eq!(explore["category"], "Initiative");
    let partage = ethogram
        .values()
        .find(|b| b["code"] == "com_partage")
        .unwrap();
    assert_eq!(partage["type"], "Point event");
    assert_eq!(partage["key"], "a", "KeyQ types A on an AZERTY board");
    assert_eq!(
        partage["modifiers"]["0"]["values"],
        serde_json::json!(["coequipier (j)", "groupe (k)", "animateur (l)"])
    );

    let observations = pj["observations"].as_object().unwrap();
    let ids: Vec<&str> = observations.keys().map(String::as_str).collect();
    assert_eq!(ids, ["séance 1 — console", "séance 1 — observateur"]);
    let counts = boris_event_counts(engine, &info);
    for (id, n) in &counts {
        let obs = &observations[id];
        assert_eq!(obs["type"], "LIVE");
        assert_eq!(obs["file"], serde_json::json!({}));
        let events = obs["events"].as_array().unwrap();
        assert_eq!(events.len(), *n, "{id}");
        let times: Vec<f64> = events.iter().map(|e| e[0].as_f64().unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{id}: sorted by time"
        );
        assert!(events.iter().all(|e| e.as_array().unwrap().len() == 5));
    }
    // The console's first code: P1 (Renard) starts exploring at 100 s; the game started at 10 s.
    assert_eq!(
        observations["séance 1 — console"]["events"][0],
        serde_json::json!([90.0, "Renard", "explore", "", ""])
    );
    // The demo's state left open is closed at the end, with a comment; a point is one event,
    // a state two.
    assert_eq!(
        counts,
        [
            (
                "séance 1 — console".to_owned(),
                coded(engine, "console") + 3
            ),
            (
                "séance 1 — observateur".to_owned(),
                coded(engine, "observateur") + 3
            )
        ],
        "three state events each"
    );
    assert_eq!(
        observations["séance 1 — console"]["date"], "2026-01-01T00:00:10.000",
        "the date of time zero, the start of the game"
    );
}

#[test]
fn tabular_and_csv_exports() {
    let dir = tempfile::tempdir().unwrap();
    let (session, info, sc) = demo(dir.path());
    let engine = session.engine();

    let tsv = tabular_events_tsv(engine, &info).unwrap();
    assert!(tsv.ends_with("\r\n"));
    let lines: Vec<&str> = tsv.trim_end_matches("\r\n").split("\r\n").collect();
    let header: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(
        header,
        [
            "Observation id",
            "Observation date",
            "Description",
            "Observation duration",
            "Observation type",
            "Source",
            "Time offset (s)",
            "Media duration (s)",
            "FPS",
            "Subject",
            "Behavior",
            "Behavioral category",
            "Modifier #1",
            "Behavior type",
            "Time",
            "Media file name",
            "Image index",
            "Image file path",
            "Comment",
        ]
    );
    let total: usize = boris_event_counts(engine, &info)
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(lines.len(), 1 + total);
    assert!(lines.iter().all(|l| l.split('\t').count() == header.len()));
    let closed = lines
        .iter()
        .find(|l| l.contains("\tcom_guide\t") && l.contains("\tSTOP\t") && l.contains("console"))
        .unwrap();
    assert!(closed.contains("fermé par la clôture"), "{closed}");

    let csv = observations_csv(engine, &info, false).unwrap();
    let rows: Vec<&str> = csv.trim_end_matches("\r\n").split("\r\n").collect();
    assert_eq!(rows[0], CSV_COLUMNS.join(","));
    assert_eq!(
        rows.len() - 1,
        coded(engine, "console") + coded(engine, "observateur"),
        "one row per standing code, no notes"
    );
    assert!(
        !rows
            .iter()
            .any(|r| r.contains(",observateur,Renard,com_coupe,") && r.contains(",490.000,")),
        "the withdrawn code is left out"
    );
    let explore = rows
        .iter()
        .find(|r| r.contains(",console,Renard,explore,"))
        .unwrap();
    assert!(
        explore.contains(",état,,90.000,150.000,60.000,ph_"),
        "{explore}"
    );
    let with_notes = observations_csv(engine, &info, true).unwrap();
    let notes = engine
        .observations()
        .iter()
        .filter(|o| o.behaviour.is_none() && o.retracted.is_none())
        .count();
    assert!(notes > 0);
    assert_eq!(with_notes.matches("\r\n").count(), rows.len() + notes);
    assert!(
        with_notes
            .contains("\"Dit que l'erreur vient « des autres », puis aide à refaire le bon.\"")
    );
    for name in names(&sc) {
        assert!(
            !tsv.contains(&name) && !with_notes.contains(&name),
            "{name}"
        );
    }
}

#[test]
fn the_demo_raters_agree_closely() {
    let dir = tempfile::tempdir().unwrap();
    let (session, _, _) = demo(dir.path());
    let engine = session.engine();
    assert_eq!(
        irr::raters(engine),
        vec!["console".into(), "observateur".into()]
    );
    let a = irr::agreement(
        engine,
        &"console".into(),
        &"observateur".into(),
        1.0,
        irr::KappaMethod::default(),
    )
    .unwrap();
    let k = a.without_modifiers.kappa.unwrap();
    assert!((0.8..1.0).contains(&k), "{k}");
    assert!(a.with_modifiers.kappa.unwrap() < k, "two modifiers differ");
    assert_eq!(a.participants, 6);
}

/// What `boris_check.py` reports.
fn run_boris(python: &std::ffi::OsStr, project: &Path, out: &Path) -> Value {
    let script = repo().join("tools/fixtures/boris_check.py");
    let output = std::process::Command::new(python)
        .arg(&script)
        .arg(project)
        .arg(out)
        .arg("1")
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("PYTHONUTF8", "1")
        .output()
        .unwrap_or_else(|e| panic!("starting {}: {e}", python.to_string_lossy()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} {} failed ({}):\n{stderr}\n{stdout}",
        python.to_string_lossy(),
        script.display(),
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

#[test]
fn boris_opens_our_export_and_agrees() {
    let Some(python) = std::env::var_os("BOUSSOLE_BORIS_PYTHON") else {
        // Straight to the process's stderr: the harness captures `eprintln!` of passing tests,
        // and a skip must not pass silently.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED boris_opens_our_export_and_agrees: BOUSSOLE_BORIS_PYTHON is not set. \
             This test opens our export with BORIS itself (boris-behav-obs 8.27.4); run \
             `cargo xtask test`, which prepares that Python and sets the variable."
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (session, info, _) = demo(dir.path());
    let engine = session.engine();
    let project = dir.path().join("seance.boris");
    std::fs::write(&project, boris_project_json(engine, &info).unwrap()).unwrap();
    let out = dir.path().join("boris");
    let report = run_boris(&python, &project, &out);
    assert_eq!(report["version"], "8.27.4", "{report}");

    let mut subjects: Vec<&str> = report["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    subjects.sort_unstable();
    let mut pseudonyms: Vec<&str> = engine
        .participants()
        .values()
        .map(|p| p.pseudonym.as_str())
        .collect();
    pseudonyms.sort_unstable();
    assert_eq!(subjects, pseudonyms);

    let ours_tsv = tabular_events_tsv(engine, &info).unwrap();
    let ours: Vec<&str> = ours_tsv.trim_end_matches("\r\n").split("\r\n").collect();
    let observations = report["observations"].as_object().unwrap();
    for (id, n) in boris_event_counts(engine, &info) {
        let seen = &observations[&id];
        assert_eq!(seen["events"].as_u64(), Some(n as u64), "{id}: {seen}");
        assert_eq!(seen["paired"], true, "{id}: {seen}");
        // BORIS writes one file per observation, with its own header.
        let theirs = std::fs::read_to_string(out.join(seen["tabular"].as_str().unwrap())).unwrap();
        let theirs: Vec<&str> = theirs.trim_end_matches("\r\n").split("\r\n").collect();
        let mine: Vec<&str> = std::iter::once(ours[0])
            .chain(
                ours.iter()
                    .copied()
                    .filter(|l| l.starts_with(&format!("{id}\t"))),
            )
            .collect();
        assert_eq!(theirs.len(), mine.len(), "{id}: rows");
        for (t, m) in theirs.iter().zip(&mine) {
            assert_eq!(t, m, "{id}: BORIS's tabular events against ours");
        }
    }

    let a = irr::agreement(
        engine,
        &"console".into(),
        &"observateur".into(),
        1.0,
        irr::KappaMethod::Boris,
    )
    .unwrap();
    for (key, ours) in [
        ("without_modifiers", a.without_modifiers),
        ("with_modifiers", a.with_modifiers),
    ] {
        let boris = report["kappa"][key].as_f64().unwrap();
        // Both rounded to 3 decimals, BORIS's way.
        let ours = ours.kappa.unwrap();
        assert!(
            (boris - ours).abs() < 1e-9,
            "{key}: BORIS {boris}, ours {ours}"
        );
    }
    // The modifiers make a difference BORIS sees too.
    assert!(
        report["kappa"]["with_modifiers"].as_f64() < report["kappa"]["without_modifiers"].as_f64()
    );
}
