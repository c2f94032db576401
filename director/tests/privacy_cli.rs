//! The director binary end to end on the demo scripts: no plain personal data (the fictitious
//! names of the demo's protected table) leaks into the database files, the exports, what the
//! commands print, `tracing` output or the output of a failure; the recovery key, backup,
//! restore, passphrase change, erasure, purge and figures commands; the access log they leave.
#![expect(
    clippy::expect_used,
    reason = "test helpers stop the test with what failed"
)]

use boussole_director::script;
use boussole_director::session::Session;
use boussole_director::store::{SessionId, Store};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The names in the demo scripts' protected table.
const NAMES: [&str; 2] = ["Awa Diallo", "Kevin Martin"];
const PASS: &str = "phrase de passe de la démo";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the director on `db` with `passphrase` and returns its output.
fn director(db: &Path, passphrase: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boussole-director"))
        .arg("--db")
        .arg(db)
        .arg("--content")
        .arg(root().join("../content"))
        .args(args)
        .env("BOUSSOLE_PASSPHRASE", passphrase)
        .env_remove("BOUSSOLE_NEW_PASSPHRASE")
        .env("USER", "animatrice")
        .env("RUST_LOG", "trace")
        .output()
        .expect("the director runs")
}

/// Everything a run printed, and the run itself, for the checks.
struct Printed(Vec<(String, Vec<u8>)>);

impl Printed {
    /// Runs the director and keeps its output; panics unless it exits as `ok` says.
    fn run(&mut self, db: &Path, passphrase: &str, args: &[&str], ok: bool) -> String {
        let out = director(db, passphrase, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.success(),
            ok,
            "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        self.0.push((format!("stdout of {args:?}"), out.stdout));
        self.0.push((format!("stderr of {args:?}"), out.stderr));
        if ok { stdout } else { stderr }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `text` as UTF-16 big-endian, the way PDF strings may hold it.
fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Fails naming the place where a name is readable.
fn assert_no_name(what: &str, bytes: &[u8]) {
    for name in NAMES {
        assert!(
            !contains(bytes, name.as_bytes()) && !contains(bytes, &utf16be(name)),
            "{name:?} readable in {what}"
        );
    }
}

/// The person of the register holding `slot` in `session`, read from the store.
fn holder(db: &Path, passphrase: &str, session: i64, slot: &str) -> String {
    let store = Store::open(db, passphrase).expect("the store opens");
    store
        .slot_persons(SessionId(session))
        .expect("the register")
        .get(slot)
        .cloned()
        .expect("the slot has a person")
}

/// The database and the files SQLite keeps beside it.
fn db_files(db: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let path = PathBuf::from(name);
            fs::read(&path)
                .ok()
                .map(|b| (path.display().to_string(), b))
        })
        .collect()
}

/// The names in the sessions' protected table.
fn names_in_store(db: &Path, passphrase: &str) -> Vec<String> {
    names_in(db, passphrase, "participant_names")
}

/// The names in a protected table: `participant_names` (per session) or `person_names` (the
/// register).
fn names_in(db: &Path, passphrase: &str, table: &str) -> Vec<String> {
    boussole_director::store::sqlcipher_ready();
    let conn = rusqlite::Connection::open(db).expect("raw connection");
    conn.pragma_update(None, "key", passphrase).expect("key");
    let mut stmt = conn
        .prepare(&format!("SELECT name FROM {table} ORDER BY name"))
        .expect("query");
    stmt.query_map([], |r| r.get(0))
        .expect("names")
        .collect::<Result<_, _>>()
        .expect("names")
}

#[test]
fn no_plain_personal_data_leaks_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let mut printed = Printed(Vec::new());
    for script in ["demo_scape_attitudes.ron", "demo_immersions.ron"] {
        let path = root().join("scripts").join(script);
        printed.run(
            &db,
            PASS,
            &["run", "--script", path.to_str().unwrap()],
            true,
        );
    }
    // The names are in the store (so the checks below could find them)...
    assert_eq!(
        names_in_store(&db, PASS),
        ["Awa Diallo", "Awa Diallo", "Kevin Martin", "Kevin Martin"]
    );
    // ...and in the register, once per person: the second script finds its people there.
    assert_eq!(
        names_in(&db, PASS, "person_names"),
        ["Awa Diallo", "Kevin Martin"]
    );
    let (renard, goeland) = (holder(&db, PASS, 1, "P1"), holder(&db, PASS, 1, "P3"));
    assert_eq!(holder(&db, PASS, 2, "P1"), renard);
    // ...while the files on disk hold them, even with the store closed mid-way.
    let mut files = db_files(&db);

    printed.run(&db, PASS, &["session", "list"], true);
    let shown = printed.run(&db, PASS, &["session", "show", "1"], true);
    assert!(shown.contains("Renard"), "pseudonyms are shown: {shown}");
    for format in ["boris", "tsv", "csv"] {
        printed.run(
            &db,
            PASS,
            &["session", "export", "1", "--format", format],
            true,
        );
        let out = dir.path().join(format!("export.{format}"));
        printed.run(
            &db,
            PASS,
            &[
                "session",
                "export",
                "1",
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
            ],
            true,
        );
        files.push((out.display().to_string(), fs::read(&out).unwrap()));
    }
    let pdfs = dir.path().join("syntheses");
    printed.run(
        &db,
        PASS,
        &[
            "synthesis",
            "--session",
            "1",
            "--participant",
            "P1",
            "--participant",
            "P3",
            "--out",
            pdfs.to_str().unwrap(),
        ],
        true,
    );
    // One file per person, named by pseudonym and person id, never by name.
    let mut written: Vec<String> = Vec::new();
    for entry in fs::read_dir(&pdfs).unwrap() {
        let path = entry.unwrap().path();
        assert!(!path.to_string_lossy().contains("Awa"));
        written.push(path.file_name().unwrap().to_string_lossy().into_owned());
        files.push((path.display().to_string(), fs::read(&path).unwrap()));
    }
    written.sort();
    let mut expected = vec![
        format!("synthese_renard_{renard}_brouillon.pdf"),
        format!("synthese_goeland_{goeland}_brouillon.pdf"),
    ];
    expected.sort();
    assert_eq!(written, expected);
    // A slot label alone names nobody: it needs its session.
    let refused = printed.run(
        &db,
        PASS,
        &[
            "synthesis",
            "--participant",
            "P1",
            "--out",
            pdfs.to_str().unwrap(),
        ],
        false,
    );
    assert!(refused.contains("--session"), "{refused}");
    // By person: one synthesis from both of their sessions (the game and the immersions).
    let by_person = dir.path().join("par_personne");
    let said = printed.run(
        &db,
        PASS,
        &[
            "synthesis",
            "--person",
            &renard,
            "--participant-view",
            "--out",
            by_person.to_str().unwrap(),
        ],
        true,
    );
    let file = by_person.join(format!(
        "synthese_renard_{renard}_brouillon_restitution.pdf"
    ));
    assert!(said.contains(&file.display().to_string()), "{said}");
    assert_eq!(fs::read_dir(&by_person).unwrap().count(), 1);
    files.push((file.display().to_string(), fs::read(&file).unwrap()));
    printed.run(&db, PASS, &["db", "figures"], true);
    printed.run(&db, PASS, &["db", "purge", "--dry-run"], true);
    let log = printed.run(&db, PASS, &["db", "access-log"], true);
    for line in [
        "animatrice\ta consulté une séance\tséance 1".to_owned(),
        "animatrice\ta exporté une séance\tséance 1".to_owned(),
        format!("animatrice\ta rédigé une synthèse\t{renard}"),
        format!("animatrice\ta rédigé une synthèse\t{goeland}"),
    ] {
        assert!(log.contains(&line), "{line:?} missing from\n{log}");
    }

    // Failures: a wrong passphrase, a corrupt log record.
    let wrong = printed.run(&db, "pas la bonne", &["session", "show", "1"], false);
    assert!(wrong.contains("wrong passphrase"), "{wrong}");
    {
        boussole_director::store::sqlcipher_ready();
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "key", PASS).unwrap();
        // The first record of session 1 enrols P1, « Renard ».
        conn.execute(
            "UPDATE log SET payload = x'ffffffffff' WHERE session = 1 AND seq = 1",
            [],
        )
        .unwrap();
    }
    let corrupt = printed.run(&db, PASS, &["session", "show", "1"], false);
    assert!(corrupt.contains("cannot be decoded"), "{corrupt}");
    let corrupt = printed.run(
        &db,
        PASS,
        &["participant", "erase", "--id", "P1", "--session", "1"],
        false,
    );
    assert!(corrupt.contains("cannot be rewritten"), "{corrupt}");

    files.extend(db_files(&db));
    for (what, bytes) in files.iter().chain(&printed.0) {
        assert_no_name(what, bytes);
    }
}

#[test]
fn tracing_output_holds_no_name() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("capture starts");
        let (content, _) = boussole_content::ContentSet::load_dir(&root().join("../content"));
        let text = fs::read_to_string(root().join("scripts/demo_scape_attitudes.ron")).unwrap();
        let sc = script::parse(&text).unwrap();
        let store = Store::open(&db, PASS).unwrap();
        let mut session =
            Session::create(store, &content, &sc.scenario, &sc.label, 1_700_000_000_000).unwrap();
        script::run(&mut session, &sc).unwrap();
        let id = session.id();
        drop(session);
        let store = Store::open(&db, PASS).unwrap();
        let session = Session::open(store, &content, id).unwrap();
        drop(session);
        let person = holder(&db, PASS, id.0, "P1");
        let mut store = Store::open(&db, PASS).unwrap();
        boussole_director::privacy::access_export(&store, &content, &person, 0).unwrap();
        boussole_director::privacy::erase_person(&mut store, &person, 0).unwrap();
    });
    let captured = sink.0.lock().unwrap().clone();
    assert!(contains(&captured, b"capture starts"), "the capture works");
    assert_no_name("tracing output", &captured);
}

/// The recovery key printed by `db recovery-key`: the line of 8 groups.
fn printed_key(stdout: &str) -> String {
    stdout
        .lines()
        .map(str::trim)
        .find(|l| l.split('-').count() == 8 && l.len() == 47)
        .expect("a key of 8 groups of 5")
        .to_owned()
}

#[test]
fn a_lost_passphrase_loses_nothing_with_the_recovery_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let mut printed = Printed(Vec::new());
    let demo = root().join("scripts/demo_scape_attitudes.ron");
    printed.run(
        &db,
        PASS,
        &["run", "--script", demo.to_str().unwrap()],
        true,
    );

    let backup = dir.path().join("sauvegarde.bak");
    let refused = printed.run(
        &db,
        PASS,
        &["db", "backup", "--out", backup.to_str().unwrap()],
        false,
    );
    assert!(refused.contains("db recovery-key"), "{refused}");
    let first = printed_key(&printed.run(&db, PASS, &["db", "recovery-key"], true));
    let again = printed.run(&db, PASS, &["db", "recovery-key"], true);
    assert!(again.contains("REMPLACE"), "{again}");
    let key = printed_key(&again);
    assert_ne!(first, key);
    printed.run(
        &db,
        PASS,
        &["db", "backup", "--out", backup.to_str().unwrap()],
        true,
    );

    // The passphrase changes: the old one no longer opens the store.
    let new_pass = dir.path().join("nouvelle");
    fs::write(&new_pass, "une toute nouvelle phrase\n").unwrap();
    printed.run(
        &db,
        PASS,
        &[
            "db",
            "passphrase",
            "--new-passphrase-file",
            new_pass.to_str().unwrap(),
        ],
        true,
    );
    printed.run(&db, PASS, &["session", "list"], false);
    printed.run(&db, "une toute nouvelle phrase", &["session", "list"], true);

    // Lost: restore the backup with the key, under another passphrase.
    let restored = dir.path().join("restauree.db");
    let wrong_key = dir.path().join("mauvaise_cle");
    fs::write(&wrong_key, &first).unwrap();
    let good_key = dir.path().join("cle");
    fs::write(&good_key, key.to_lowercase().replace('-', " ")).unwrap();
    let err = printed.run(
        &restored,
        "inutile",
        &[
            "db",
            "restore",
            backup.to_str().unwrap(),
            "--recovery-key-file",
            wrong_key.to_str().unwrap(),
            "--to",
            restored.to_str().unwrap(),
            "--new-passphrase-file",
            new_pass.to_str().unwrap(),
        ],
        false,
    );
    assert!(err.contains("wrong recovery key"), "{err}");
    assert!(!restored.exists());
    printed.run(
        &restored,
        "inutile",
        &[
            "db",
            "restore",
            backup.to_str().unwrap(),
            "--recovery-key-file",
            good_key.to_str().unwrap(),
            "--to",
            restored.to_str().unwrap(),
            "--new-passphrase-file",
            new_pass.to_str().unwrap(),
        ],
        true,
    );
    let shown = printed.run(
        &restored,
        "une toute nouvelle phrase",
        &["session", "show", "1"],
        true,
    );
    assert!(shown.contains("Renard"));
    // Restoring again never overwrites.
    let before = fs::read(&restored).unwrap();
    let err = printed.run(
        &restored,
        "inutile",
        &[
            "db",
            "restore",
            backup.to_str().unwrap(),
            "--recovery-key-file",
            good_key.to_str().unwrap(),
            "--to",
            restored.to_str().unwrap(),
            "--new-passphrase-file",
            new_pass.to_str().unwrap(),
        ],
        false,
    );
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(fs::read(&restored).unwrap(), before);

    // The restored store's access log has every step, the restore last.
    let log = printed.run(
        &restored,
        "une toute nouvelle phrase",
        &["db", "access-log"],
        true,
    );
    let actions: Vec<&str> = log.lines().filter_map(|l| l.split('\t').nth(2)).collect();
    assert_eq!(
        actions,
        [
            "a créé une clé de secours",
            "a créé une clé de secours",
            "a fait une sauvegarde chiffrée",
            "a restauré une sauvegarde",
            "a consulté une séance",
        ],
        "{log}"
    );
    for (what, bytes) in &printed.0 {
        assert_no_name(what, bytes);
    }
}

#[test]
fn erasure_from_the_cli_says_what_went_and_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let mut printed = Printed(Vec::new());
    let demo = root().join("scripts/demo_scape_attitudes.ron");
    printed.run(
        &db,
        PASS,
        &["run", "--script", demo.to_str().unwrap()],
        true,
    );
    let json = dir.path().join("p1.json");
    // A slot label alone names nobody: clap asks for its session.
    let refused = printed.run(
        &db,
        PASS,
        &[
            "participant",
            "export",
            "--id",
            "P1",
            "--out",
            json.to_str().unwrap(),
        ],
        false,
    );
    assert!(refused.contains("--session"), "{refused}");
    let refused = printed.run(&db, PASS, &["participant", "erase", "--id", "P1"], false);
    assert!(refused.contains("--session"), "{refused}");
    assert!(!json.exists());

    printed.run(
        &db,
        PASS,
        &[
            "participant",
            "export",
            "--id",
            "P1",
            "--session",
            "1",
            "--out",
            json.to_str().unwrap(),
        ],
        true,
    );
    let export: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let person = export["person"]
        .as_str()
        .expect("the person's id")
        .to_owned();
    assert_eq!(person, holder(&db, PASS, 1, "P1"));
    assert_eq!(export["register"]["pseudonym"], "Renard");
    assert_eq!(export["register"]["name"], "Awa Diallo");
    assert_eq!(export["sessions"][0]["slot"], "P1");
    assert_eq!(export["sessions"][0]["name"], "Awa Diallo");
    assert_eq!(export["sessions"][0]["pseudonym"], "Renard");
    // The same person by their register id.
    let by_id = dir.path().join("par_id.json");
    printed.run(
        &db,
        PASS,
        &[
            "participant",
            "export",
            "--person",
            &person,
            "--out",
            by_id.to_str().unwrap(),
        ],
        true,
    );
    let again: serde_json::Value = serde_json::from_slice(&fs::read(&by_id).unwrap()).unwrap();
    assert_eq!(again["person"], export["person"]);
    assert_eq!(again["sessions"], export["sessions"]);

    let said = printed.run(
        &db,
        PASS,
        &["participant", "erase", "--id", "P1", "--session", "1"],
        true,
    );
    assert!(
        said.contains(&format!("Effacement de la personne {person}")),
        "{said}"
    );
    assert!(
        said.contains("séance 1, place P1 : nom supprimé, pseudonyme remplacé par « effacé-P1 »"),
        "{said}"
    );
    // The erasure is noted beside the database, to be applied again to an older backup.
    let noted = fs::read_to_string(dir.path().join("erasures.tsv")).unwrap();
    assert!(noted.starts_with(&format!("{person}\t")), "{noted}");
    let unknown = printed.run(
        &db,
        PASS,
        &["participant", "erase", "--id", "P42", "--session", "1"],
        false,
    );
    assert!(unknown.contains("P42"), "{unknown}");
    let unknown = printed.run(
        &db,
        PASS,
        &["participant", "erase", "--person", "pers-inconnue"],
        false,
    );
    assert!(unknown.contains("pers-inconnue"), "{unknown}");
    assert_eq!(names_in_store(&db, PASS), ["Kevin Martin"]);
    assert_eq!(names_in(&db, PASS, "person_names"), ["Kevin Martin"]);
    let shown = printed.run(&db, PASS, &["session", "show", "1"], true);
    assert!(
        shown.contains("effacé-P1") && !shown.contains("Renard"),
        "{shown}"
    );
    printed.run(
        &db,
        PASS,
        &[
            "participant",
            "export",
            "--person",
            &person,
            "--out",
            json.to_str().unwrap(),
        ],
        true,
    );
    let export: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    assert_eq!(export["register"]["pseudonym"], "effacé");
    assert_eq!(export["register"]["name"], serde_json::Value::Null);
    assert_eq!(export["sessions"][0]["name"], serde_json::Value::Null);
    assert_eq!(export["sessions"][0]["pseudonym"], "effacé-P1");

    let log = printed.run(&db, PASS, &["db", "access-log"], true);
    assert!(
        log.contains(&format!(
            "animatrice\ta exporté les données d'un·e participant·e\t{person}"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "animatrice\ta effacé un·e participant·e\t{person}"
        )),
        "{log}"
    );
    let purge = printed.run(
        &db,
        PASS,
        &["db", "purge", "--older-than-months", "0"],
        false,
    );
    assert!(purge.contains("retention period of 0 months"), "{purge}");
    for (what, bytes) in &printed.0 {
        assert_no_name(what, bytes);
    }
}

/// The CLI's consent is noted on the version of the synthesis as it stands, in the person's
/// ledger, as the console notes it: the final follows, and a level decided afterwards makes
/// another version, for which the final is refused until the person agrees again.
#[test]
fn the_clis_consent_is_noted_on_the_version_and_a_later_change_asks_again() {
    use boussole_director::store::{Store, SynthesisEvent};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let mut printed = Printed(Vec::new());
    let script = root().join("scripts/demo_scape_attitudes.ron");
    printed.run(
        &db,
        PASS,
        &["run", "--script", script.to_str().unwrap()],
        true,
    );
    let renard = holder(&db, PASS, 1, "P1");
    printed.run(
        &db,
        PASS,
        &["debrief", "--person", &renard, "restitution"],
        true,
    );
    let said = printed.run(
        &db,
        PASS,
        &["debrief", "--person", &renard, "consent", "--given"],
        true,
    );
    assert!(
        said.contains("Accord de Renard noté pour la version"),
        "{said}"
    );
    let ledger = Store::open(&db, PASS)
        .unwrap()
        .synthesis_events(&renard)
        .unwrap();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0].event, SynthesisEvent::ConsentGiven);
    assert_eq!(ledger[0].by, "animatrice");
    let version = ledger[0].version.clone();
    assert!(said.contains(&version), "{said}");
    let out = dir.path().join("finales");
    let final_args = [
        "synthesis",
        "--person",
        renard.as_str(),
        "--final",
        "--out",
        out.to_str().unwrap(),
    ];
    printed.run(&db, PASS, &final_args, true);
    // A level decided afterwards: another version, the final refused until agreed again.
    printed.run(
        &db,
        PASS,
        &[
            "debrief",
            "--person",
            &renard,
            "decide",
            "--competency",
            "autonomie",
            "--level",
            "1",
            "--reason",
            "revu à la restitution",
        ],
        true,
    );
    let refused = printed.run(&db, PASS, &final_args, false);
    assert!(refused.contains("a changé depuis l'accord"), "{refused}");
    printed.run(
        &db,
        PASS,
        &["debrief", "--person", &renard, "consent", "--given"],
        true,
    );
    printed.run(&db, PASS, &final_args, true);
}
