//! Roadmaps, the plan, results from other tools and the funders' figures (issue 18): a person's
//! roadmap through planned → done by a real session, an absent person back on the waiting list;
//! a recorded DISC result in a synthesis (pdftotext shows it under « Autres évaluations » with its
//! tool and date); figures across a purge with small cells hidden; the plan as an .ics read back
//! by Python's icalendar; and every bad input refused in French with nothing written.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers stop the test with what failed"
)]

use boussole_content::ContentSet;
use boussole_director::engine::{Command, Input, Millis};
use boussole_director::figures::{self, ALL_KINDS, figures_csv, persons_cell};
use boussole_director::plan::{self, PlanError, PlanRequest};
use boussole_director::record::{SessionRecord, SynthesisOptions, build, other_evaluations};
use boussole_director::register::person_sessions;
use boussole_director::roadmap::{self, ResultInput, RoadmapRefusal};
use boussole_director::session::Session;
use boussole_director::store::{EntryStatus, NewPerson, RoadmapError, Store};
use boussole_synthesis::{Audience, Renderer};
use std::path::{Path, PathBuf};

const PASS: &str = "test";
/// 2026-12-01T08:00:00Z, a Tuesday.
const MORNING: i64 = 1_796_112_000_000;
const DAY: i64 = 86_400_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn content() -> ContentSet {
    let (set, problems) = ContentSet::load_dir(&repo().join("content"));
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn person(store: &mut Store, pseudonym: &str) -> String {
    store
        .create_person(
            &NewPerson {
                pseudonym: pseudonym.into(),
                name: Some(format!("Nom civil de {pseudonym}")),
                ..NewPerson::default()
            },
            MORNING,
        )
        .unwrap()
}

fn status_of(store: &Store, person: &str, activity: &str) -> Vec<EntryStatus> {
    store
        .roadmap(person)
        .unwrap()
        .into_iter()
        .filter(|e| e.activity == activity)
        .map(|e| e.status)
        .collect()
}

#[test]
fn a_roadmap_goes_planned_then_done_by_a_real_session_and_an_absent_person_waits_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("director.db");
    let set = content();
    let mut store = Store::open(&db, PASS).unwrap();
    let a = person(&mut store, "Renard");
    let b = person(&mut store, "Mouette");
    let c = person(&mut store, "Goéland");
    for p in [&a, &b, &c] {
        roadmap::prescribe(
            &mut store,
            &set,
            p,
            "scape_attitudes",
            "Référente orientation",
            "2026-11-30",
            MORNING,
        )
        .unwrap();
    }
    assert_eq!(store.waiting_list("scape_attitudes").unwrap().len(), 3);

    // A series every two weeks from Tuesday 8 December, 14:00 in Paris: the three are invited
    // to the first session, the next ones wait for new prescriptions.
    let ids = plan::add(
        &mut store,
        &set,
        &PlanRequest {
            activity: "scape_attitudes",
            starts: "2026-12-08T14:00",
            minutes: None,
            place: "Salle 2",
            count: Some(3),
        },
        MORNING,
    )
    .unwrap();
    assert_eq!(ids.len(), 3);
    let first = store.planned_session(ids[0]).unwrap();
    let second = store.planned_session(ids[1]).unwrap();
    assert_eq!(first.invited.len(), 3);
    assert!(second.invited.is_empty());
    assert_eq!(second.starts_at_unix_ms - first.starts_at_unix_ms, 14 * DAY);
    // 14:00 in Paris in December is 13:00 UTC.
    assert_eq!(first.starts_at_unix_ms, MORNING + 7 * DAY + 5 * 3_600_000);
    assert_eq!(
        plan::local_fr(first.starts_at_unix_ms),
        "mardi 8 décembre 2026 à 14 h 00"
    );
    assert!(store.waiting_list("scape_attitudes").unwrap().is_empty());
    for p in [&a, &b, &c] {
        assert_eq!(
            status_of(&store, p, "scape_attitudes"),
            [EntryStatus::Planned]
        );
    }
    // Done is set by sessions, never by hand.
    let entry_a = store.roadmap(&a).unwrap()[0].id;
    let err = store
        .set_entry_status(entry_a, EntryStatus::Done, "fait", MORNING)
        .unwrap_err();
    assert!(matches!(err, RoadmapError::NotByHand(EntryStatus::Done)));
    assert!(err.to_string().contains("posé par la séance"), "{err}");

    // The day comes: Mouette did not come; the session from the plan enrols the two others.
    let mut session = plan::start(
        store,
        &set,
        ids[0],
        std::slice::from_ref(&b),
        MORNING + 7 * DAY,
    )
    .unwrap();
    let sid = session.id();
    assert_eq!(session.engine().participants().len(), 2);
    let seated: Vec<String> = session
        .engine()
        .participants()
        .values()
        .filter_map(|p| p.person.as_ref().map(|q| q.0.clone()))
        .collect();
    assert!(seated.contains(&a) && seated.contains(&c) && !seated.contains(&b));
    // Still planned until the session closes.
    assert_eq!(
        status_of(session.store(), &a, "scape_attitudes"),
        [EntryStatus::Planned]
    );
    session
        .submit(Input::Command(Command::EndSession), Millis(3_600_000))
        .unwrap();
    let store = session.store();
    for p in [&a, &c] {
        let e = &store.roadmap(p).unwrap()[0];
        assert_eq!(e.status, EntryStatus::Done, "{p}");
        assert_eq!(e.session, Some(sid));
    }
    assert_eq!(
        status_of(store, &b, "scape_attitudes"),
        [EntryStatus::Absent]
    );
    let waiting: Vec<String> = store
        .waiting_list("scape_attitudes")
        .unwrap()
        .into_iter()
        .map(|e| e.person)
        .collect();
    assert_eq!(waiting, std::slice::from_ref(&b));
    let history_a = store.roadmap_history(entry_a).unwrap();
    assert_eq!(
        history_a.iter().map(|h| h.status).collect::<Vec<_>>(),
        [
            EntryStatus::Waiting,
            EntryStatus::Planned,
            EntryStatus::Done
        ]
    );

    // Reopening the closed session (a restart) settles nothing twice.
    drop(session);
    let store = Store::open(&db, PASS).unwrap();
    let session = Session::open(store, &set, sid).unwrap();
    assert_eq!(session.store().roadmap_history(entry_a).unwrap(), history_a);
    let mut store = Store::open(&db, PASS).unwrap();
    drop(session);

    // Mouette is invited to the next session of the series when it is filled again: a new
    // single session takes her from the waiting list.
    let again = plan::add(
        &mut store,
        &set,
        &PlanRequest {
            activity: "scape_attitudes",
            starts: "2026-12-10T09:30",
            minutes: Some(90),
            place: "Salle 1",
            count: None,
        },
        MORNING + 8 * DAY,
    )
    .unwrap();
    let invited: Vec<String> = store
        .planned_session(again[0])
        .unwrap()
        .invited
        .into_iter()
        .map(|e| e.person)
        .collect();
    assert_eq!(invited, [b]);
}

#[test]
fn bad_input_is_refused_in_french_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let set = content();
    let mut store = Store::open(&dir.path().join("d.db"), PASS).unwrap();
    let p = person(&mut store, "Sterne");

    // A roadmap entry for an activity the catalogue does not have.
    let err = roadmap::prescribe(
        &mut store,
        &set,
        &p,
        "plongee",
        "Réf.",
        "2026-11-30",
        MORNING,
    )
    .unwrap_err();
    assert!(matches!(err, RoadmapRefusal::UnknownActivity { .. }));
    let msg = err.to_string();
    assert!(msg.contains("activité inconnue du catalogue : « plongee »") && msg.contains("disc"));
    assert!(store.roadmap(&p).unwrap().is_empty());
    // A date that is not one.
    let err = roadmap::prescribe(&mut store, &set, &p, "disc", "Réf.", "30/11/2026", MORNING)
        .unwrap_err();
    assert!(err.to_string().contains("date invalide"), "{err}");
    assert!(store.roadmap(&p).unwrap().is_empty());

    // A plan with a session in the past.
    let past = PlanRequest {
        activity: "scape_attitudes",
        starts: "2026-11-24T14:00",
        minutes: None,
        place: "Salle 2",
        count: Some(2),
    };
    let err = plan::add(&mut store, &set, &past, MORNING).unwrap_err();
    assert!(matches!(err, PlanError::PastSession { .. }));
    assert!(err.to_string().contains("dans le passé"), "{err}");
    assert!(store.planned_sessions(0).unwrap().is_empty());
    // A time that does not exist in Paris (the spring change of time).
    let err = plan::parse_local("2027-03-28T02:30").unwrap_err();
    assert!(err.to_string().contains("heure invalide"), "{err}");

    // An activity that opens at 6 waiting, with 5 waiting: refused; with 6: opened, 6 invited.
    let mut people = Vec::new();
    for i in 0..6 {
        let q = person(&mut store, &format!("Personne {i}"));
        if i < 5 {
            roadmap::prescribe(
                &mut store,
                &set,
                &q,
                "videotheque",
                "Réf.",
                "2026-11-30",
                MORNING,
            )
            .unwrap();
        }
        people.push(q);
    }
    let open = PlanRequest {
        activity: "videotheque",
        starts: "2026-12-03T09:00",
        minutes: None,
        place: "Salle casques",
        count: None,
    };
    let err = plan::add(&mut store, &set, &open, MORNING).unwrap_err();
    assert!(
        err.to_string()
            .contains("n'ouvre qu'à 6 personnes en attente : 5 en attente"),
        "{err}"
    );
    assert!(store.planned_sessions(0).unwrap().is_empty());
    let waiting = plan::waiting_fr(&store, &set, &["videotheque".into()]).unwrap();
    assert!(waiting.contains("(ouvre à 6)"), "{waiting}");
    roadmap::prescribe(
        &mut store,
        &set,
        &people[5],
        "videotheque",
        "Réf.",
        "2026-11-30",
        MORNING,
    )
    .unwrap();
    let waiting = plan::waiting_fr(&store, &set, &["videotheque".into()]).unwrap();
    assert!(waiting.contains("à ouvrir"), "{waiting}");
    let ids = plan::add(&mut store, &set, &open, MORNING).unwrap();
    assert_eq!(store.planned_session(ids[0]).unwrap().invited.len(), 6);
    // A series of an activity that does not recur.
    let err = plan::add(
        &mut store,
        &set,
        &PlanRequest {
            count: Some(3),
            ..open.clone()
        },
        MORNING,
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::NotRecurring(_)), "{err}");

    // An export with nothing planned (after the last planned session).
    let err = plan::ics(&store, &set, MORNING + 30 * DAY, MORNING).unwrap_err();
    assert!(matches!(err, PlanError::NothingPlanned(_)));
    assert!(err.to_string().contains("rien de planifié"), "{err}");

    // Results: an unknown tool, a field the tool does not give, a score out of range, an
    // attachment that is not a PDF, one over the size limit. Nothing is written.
    roadmap::prescribe(&mut store, &set, &p, "disc", "Réf.", "2026-11-30", MORNING).unwrap();
    let fields = ["d=72".to_owned()];
    let record = |store: &mut Store, activity: &str, fields: &[String], pdf: Option<&Path>| {
        roadmap::record_result(
            store,
            &set,
            &ResultInput {
                person: &p,
                activity,
                taken_on: "2026-11-20",
                administered_by: "Psychologue du travail",
                fields,
                attachment: pdf,
            },
            MORNING,
        )
    };
    let err = record(&mut store, "mbti_maison", &fields, None).unwrap_err();
    assert!(matches!(err, RoadmapRefusal::UnknownTool { .. }));
    assert!(err.to_string().contains("« mbti_maison »"), "{err}");
    let err = record(&mut store, "scape_attitudes", &fields, None).unwrap_err();
    assert!(matches!(err, RoadmapRefusal::UnknownTool { .. }), "{err}");
    let err = record(&mut store, "disc", &["x=3".to_owned()], None).unwrap_err();
    assert!(
        err.to_string().contains("champ de résultat inconnu « x »"),
        "{err}"
    );
    let err = record(&mut store, "disc", &["d=140".to_owned()], None).unwrap_err();
    assert!(err.to_string().contains("de 0 à 100"), "{err}");
    let not_pdf = dir.path().join("rapport.pdf");
    std::fs::write(&not_pdf, b"PK\x03\x04 a zip pretending").unwrap();
    let err = record(&mut store, "disc", &fields, Some(&not_pdf)).unwrap_err();
    assert!(matches!(err, RoadmapRefusal::NotPdf { .. }));
    assert!(err.to_string().contains("ce n'est pas un PDF"), "{err}");
    let big = dir.path().join("gros.pdf");
    {
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(roadmap::MAX_ATTACHMENT_BYTES + 1).unwrap();
    }
    let err = record(&mut store, "disc", &fields, Some(&big)).unwrap_err();
    assert!(matches!(err, RoadmapRefusal::TooLarge { .. }));
    assert!(err.to_string().contains("10 Mio"), "{err}");
    assert!(store.results(&p).unwrap().is_empty());
    assert_eq!(status_of(&store, &p, "disc"), [EntryStatus::Waiting]);

    // A good one, with a real PDF: stored whole, the waiting entry done by it.
    let pdf = dir.path().join("disc.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n% rapport DISC\n%%EOF\n").unwrap();
    let id = record(&mut store, "disc", &fields, Some(&pdf)).unwrap();
    assert_eq!(status_of(&store, &p, "disc"), [EntryStatus::Done]);
    let (name, sha, bytes) = store.result_attachment(id).unwrap().unwrap();
    assert_eq!(
        (name.as_str(), bytes.as_slice()),
        ("disc.pdf", &std::fs::read(&pdf).unwrap()[..])
    );
    assert_eq!(sha.len(), 64);
}

#[test]
fn a_disc_result_shows_in_the_synthesis_under_its_heading_with_tool_and_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let set = content();
    let text =
        std::fs::read_to_string(repo().join("director/scripts/demo_scape_attitudes.ron")).unwrap();
    let sc = boussole_director::script::parse(&text).unwrap();
    let store = Store::open(&db, PASS).unwrap();
    let mut session = Session::create(store, &set, &sc.scenario, &sc.label, MORNING).unwrap();
    boussole_director::script::run(&mut session, &sc).unwrap();
    let holders =
        boussole_director::register::slot_holders(session.store(), session.id(), session.engine())
            .unwrap();
    let who = holders.values().next().unwrap().0.clone();
    drop(session);
    let mut store = Store::open(&db, PASS).unwrap();
    roadmap::record_result(
        &mut store,
        &set,
        &ResultInput {
            person: &who,
            activity: "disc",
            taken_on: "2026-11-20",
            administered_by: "Psychologue du travail",
            fields: &[
                "d=72".into(),
                "i=41".into(),
                "profil=Dominant-Consciencieux".into(),
            ],
            attachment: None,
        },
        MORNING,
    )
    .unwrap();

    let sessions = person_sessions(&store, &set, &who, &[]).unwrap();
    let records: Vec<SessionRecord<'_>> = sessions.iter().map(|s| s.record()).collect();
    let opts = SynthesisOptions {
        audience: Audience::Counsellor,
        final_version: false,
        shown_name: None,
        pseudonym: None,
        rater: None,
        programme: "La Boussole de l'orientation".into(),
        organisation: "PLIE".into(),
        facilitator: "Animatrice".into(),
        today_unix_ms: MORNING,
        consent_unix_ms: None,
    };
    let without = build(&records, &set, &opts).unwrap();
    let mut doc = without.clone();
    doc.other_evaluations = other_evaluations(&store.results(&who).unwrap(), &set);
    // Never mixed into the savoir-être levels.
    assert_eq!(doc.competencies, without.competencies);
    assert_eq!(doc.other_evaluations.len(), 1);

    let pdf = Renderer::new().pdf(&doc).unwrap();
    let path = dir.path().join("s.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils; `cargo xtask test` installs it)");
    let text = String::from_utf8(out.stdout).unwrap();
    let heading = text
        .find("Autres évaluations")
        .expect("the heading is in the PDF");
    let after = &text[heading..];
    for expected in [
        "Profil comportemental DISC",
        "Outil : DISC",
        "20 novembre 2026",
        "Dominance : 72 / 100",
        "Influence : 41 / 100",
        "Profil : Dominant-Consciencieux",
    ] {
        assert!(
            after.contains(expected),
            "{expected:?} not under the heading:\n{after}"
        );
    }
    // Before it, the levels; the heading comes once.
    assert_eq!(text.matches("Autres évaluations").count(), 1);
    // Without results, no such section.
    let pdf = Renderer::new().pdf(&without).unwrap();
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Autres évaluations"));
}

#[test]
fn figures_survive_a_purge_with_distinct_counts_frozen_and_small_cells_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let set = content();
    let mut store = Store::open(&db, PASS).unwrap();
    // Four people; two take an escape game in January (with one in both), a DISC each in
    // February for three of them.
    let people: Vec<String> = (0..4)
        .map(|i| person(&mut store, &format!("P{i}")))
        .collect();
    // 2026-01-13T13:00Z and 2026-01-27T13:00Z.
    let jan = [1_768_309_200_000_i64, 1_769_518_800_000];
    let mut sessions = Vec::new();
    for (k, at) in jan.iter().enumerate() {
        let mut s = Session::create(store, &set, "scape_attitudes", "", *at).unwrap();
        let group: &[usize] = if k == 0 { &[0, 1] } else { &[1, 2] };
        let mut batch = Vec::new();
        for (slot, i) in group.iter().enumerate() {
            let id = format!("P{}", slot + 1);
            batch.push((
                Input::Command(Command::AddParticipant {
                    id: id.as_str().into(),
                    pseudonym: String::new(),
                    colour: plan::SLOT_COLOURS[slot].into(),
                }),
                Millis(0),
            ));
            batch.push((
                Input::Command(Command::AssignPerson {
                    participant: id.as_str().into(),
                    person: boussole_director::engine::PersonId(people[*i].clone()),
                    reason: String::new(),
                }),
                Millis(0),
            ));
        }
        s.submit_batch(batch).unwrap();
        s.submit(Input::Command(Command::EndSession), Millis(60_000))
            .unwrap();
        sessions.push(s.id());
        drop(s);
        store = Store::open(&db, PASS).unwrap();
    }
    for who in &people[..3] {
        roadmap::record_result(
            &mut store,
            &set,
            &ResultInput {
                person: who,
                activity: "disc",
                taken_on: "2026-02-10",
                administered_by: "Psychologue",
                fields: &["d=50".into()],
                attachment: None,
            },
            MORNING,
        )
        .unwrap();
    }
    let before = figures::table(
        &store.frozen_figures().unwrap(),
        &figures::facts(&store, &set).unwrap(),
    );
    let row = |rows: &[figures::Row], period: &str, kind: &str| {
        rows.iter()
            .find(|r| r.period == period && r.kind == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no row {period} {kind} in {rows:?}"))
    };
    let jan_games = row(&before, "2026-01", "escape_game");
    assert_eq!((jan_games.sessions, jan_games.persons), (2, 3));
    let year = row(&before, "2026", ALL_KINDS);
    // Distinct over the year: P0..P2 in games and DISC; not 3 + 3.
    assert_eq!((year.sessions, year.persons), (5, 3));

    // Purge January's sessions (cutoff 2026-02-01) the way `db purge` does, in one transaction.
    let facts = figures::facts(&store, &set).unwrap();
    let items = boussole_director::retention::plan_purge(&store, &set, 1_769_904_000_000).unwrap();
    assert_eq!(items.len(), 2);
    let purged: Vec<_> = items.iter().map(|i| i.purged.clone()).collect();
    let going: Vec<_> = purged.iter().map(|p| p.id).collect();
    let (totals, frozen_people) = figures::freeze_for_purge(
        &facts,
        &|f| f.session.is_some_and(|s| going.contains(&s)),
        "2027-02",
    );
    store
        .purge_with_figures(&purged, (&totals, &frozen_people), "2026-02-01", MORNING)
        .unwrap();
    assert!(store.sessions().unwrap().is_empty());
    let after = figures::table(
        &store.frozen_figures().unwrap(),
        &figures::facts(&store, &set).unwrap(),
    );
    let jan_games = row(&after, "2026-01", "escape_game");
    assert_eq!(
        (jan_games.sessions, jan_games.persons, jan_games.partial),
        (2, 3, false)
    );
    assert_eq!(
        jan_games.hours_ms,
        row(&before, "2026-01", "escape_game").hours_ms
    );
    let year = row(&after, "2026", ALL_KINDS);
    assert_eq!((year.sessions, year.persons, year.partial), (5, 3, false));
    let feb = row(&after, "2026-02", "evaluation");
    assert_eq!((feb.sessions, feb.persons), (3, 3));

    // A second purge touching the same periods keeps the frozen distinct counts: no sum.
    let facts = figures::facts(&store, &set).unwrap();
    let (totals, frozen_people) =
        figures::freeze_for_purge(&facts, &|f| f.session.is_none(), "2027-03");
    store
        .purge_with_figures(&[], (&totals, &frozen_people), "2026-03-01", MORNING)
        .unwrap();
    assert!(store.all_results().unwrap().is_empty());
    let last = figures::table(
        &store.frozen_figures().unwrap(),
        &figures::facts(&store, &set).unwrap(),
    );
    let year = row(&last, "2026", ALL_KINDS);
    assert_eq!((year.sessions, year.persons), (5, 3));
    assert_eq!(row(&last, "2026-02", "evaluation").persons, 3);

    // Small cells: one person is "< 3" in the table and the CSV, three is shown.
    assert_eq!(persons_cell(1), "< 3");
    assert_eq!(persons_cell(2), "< 3");
    assert_eq!(persons_cell(3), "3");
    assert_eq!(persons_cell(0), "0");
    let small = vec![figures::Row {
        period: "2026-03".into(),
        kind: "workshop".into(),
        sessions: 1,
        persons: 2,
        partial: false,
        hours_ms: 3_600_000,
        person_ms: 7_200_000,
    }];
    let csv = figures_csv(&small);
    assert_eq!(
        csv,
        "periode,activite,seances,personnes,partiel,heures,personnes_heures\n2026-03,workshop,1,< 3,non,1.0,2.0\n"
    );
    let csv = figures_csv(&last);
    assert!(csv.contains("2026,all,5,3,non,"), "{csv}");
    assert!(!csv.contains("pers-"), "{csv}");
    let fr = figures::figures_fr(&last);
    assert!(fr.contains("toutes activités"), "{fr}");
}

#[test]
fn the_plan_as_ics_is_read_back_by_python_icalendar_without_names() {
    let python = match std::env::var_os("BOUSSOLE_BORIS_PYTHON") {
        Some(p) => p,
        None if std::env::var_os("CI").is_some() => panic!(
            "BOUSSOLE_BORIS_PYTHON is not set in CI: `cargo xtask test` prepares the Python with icalendar"
        ),
        None => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED the_plan_as_ics_is_read_back_by_python_icalendar_without_names: \
                 BOUSSOLE_BORIS_PYTHON is not set; run `cargo xtask test`, which prepares a \
                 Python with icalendar 6.3.1 and sets it."
            );
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let set = content();
    let mut store = Store::open(&dir.path().join("d.db"), PASS).unwrap();
    let mut names = Vec::new();
    for pseudonym in ["Renard", "Mouette"] {
        let p = person(&mut store, pseudonym);
        roadmap::prescribe(
            &mut store,
            &set,
            &p,
            "scape_attitudes",
            "Réf.",
            "2026-11-30",
            MORNING,
        )
        .unwrap();
        names.push(pseudonym.to_owned());
        names.push(format!("Nom civil de {pseudonym}"));
        names.push(p);
    }
    plan::add(
        &mut store,
        &set,
        &PlanRequest {
            activity: "scape_attitudes",
            starts: "2027-03-16T14:00",
            minutes: Some(120),
            place: "Salle 2, Maison de l'emploi",
            count: Some(3),
        },
        MORNING,
    )
    .unwrap();
    let ics = plan::ics(&store, &set, MORNING, MORNING).unwrap();
    for n in &names {
        assert!(!ics.contains(n.as_str()), "{n} in the .ics:\n{ics}");
    }
    let path = dir.path().join("planning.ics");
    std::fs::write(&path, &ics).unwrap();
    let script = r#"
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
out = []
for ev in cal.walk('VEVENT'):
    start = ev.decoded('DTSTART')
    out.append({
        'summary': str(ev.get('SUMMARY')),
        'location': str(ev.get('LOCATION')),
        'description': str(ev.get('DESCRIPTION')),
        'rrule': ev.get('RRULE').to_ical().decode() if ev.get('RRULE') else None,
        'recurrence_id': ev.decoded('RECURRENCE-ID').isoformat() if ev.get('RECURRENCE-ID') else None,
        'start': start.isoformat(),
        'tz': str(start.tzinfo),
        'utcoffset': start.utcoffset().total_seconds(),
        'end': ev.decoded('DTEND').isoformat(),
    })
print(json.dumps({'version': icalendar.__version__, 'events': out}))
"#;
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("runs the test Python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = report["events"].as_array().unwrap();
    let master: Vec<&serde_json::Value> = events.iter().filter(|e| !e["rrule"].is_null()).collect();
    assert_eq!(master.len(), 1, "{report}");
    let m = master[0];
    let rule = m["rrule"].as_str().unwrap();
    assert!(
        rule.contains("FREQ=WEEKLY") && rule.contains("INTERVAL=2"),
        "{rule}"
    );
    assert_eq!(m["tz"], "Europe/Paris", "{m}");
    assert_eq!(m["start"], "2027-03-16T14:00:00+01:00");
    assert_eq!(m["end"], "2027-03-16T16:00:00+01:00");
    assert_eq!(m["summary"], "S'cape attitudes");
    assert_eq!(m["location"], "Salle 2, Maison de l'emploi");
    // Each session's own count; the third, after the change of time, stays at 14:00 in Paris.
    let overrides: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| !e["recurrence_id"].is_null())
        .collect();
    assert_eq!(overrides.len(), 3, "{report}");
    assert_eq!(overrides[0]["description"], "2 personnes invitées");
    assert_eq!(
        overrides[1]["description"],
        "personne d'invité pour l'instant"
    );
    assert_eq!(overrides[2]["start"], "2027-04-13T14:00:00+02:00");
    assert_eq!(overrides[2]["tz"], "Europe/Paris");
}

/// The console's « Parcours »: the roadmap with the catalogue, a prescription, an entry of
/// another person refused, an interruption with its reason, a bad score refused with nothing
/// written, then a result with its PDF from a folder; each reading and result in the access
/// log, and no message names a command-line flag.
#[test]
fn the_consoles_roadmap_prescribes_interrupts_and_records_a_result_with_its_pdf() {
    use boussole_director::desk::{DeskRequest, ResultJob, change_roadmap, person_roadmap};
    use boussole_director::store::AccessAction;
    let dir = tempfile::tempdir().unwrap();
    let set = content();
    let mut store = Store::open(&dir.path().join("director.db"), PASS).unwrap();
    let a = person(&mut store, "Renard");
    let b = person(&mut store, "Mouette");

    let view = person_roadmap(&mut store, &set, &a, "Camille", MORNING, true).unwrap();
    assert!(view.entries.is_empty() && view.results.is_empty());
    let disc = view
        .catalogue
        .iter()
        .find(|c| c.id == "disc")
        .unwrap_or_else(|| panic!("{:?}", view.catalogue));
    assert_eq!(disc.tool.as_deref(), Some("DISC"));
    assert!(
        disc.fields
            .contains(&("d".into(), "Dominance".into(), "0 à 100 / 100".into())),
        "{:?}",
        disc.fields
    );
    assert!(
        view.catalogue
            .iter()
            .any(|c| c.id == "scape_attitudes" && c.tool.is_none())
    );

    let said = change_roadmap(
        &mut store,
        &set,
        &DeskRequest::Prescribe {
            person: a.clone(),
            activity: "scape_attitudes".into(),
            by: "Référente orientation".into(),
            on: "2026-11-30".into(),
        },
        "Camille",
        MORNING,
    )
    .unwrap();
    assert!(
        said.contains("« S'cape attitudes » prescrite, en attente"),
        "{said}"
    );
    let entry = store.roadmap(&a).unwrap()[0].id;
    // An entry of someone else's roadmap, or no reason: refused.
    let why = change_roadmap(
        &mut store,
        &set,
        &DeskRequest::SetEntryStatus {
            person: b.clone(),
            entry,
            cancel: true,
            reason: "erreur".into(),
        },
        "Camille",
        MORNING,
    )
    .unwrap_err();
    assert!(
        why.contains("n'est pas dans cette feuille de route"),
        "{why}"
    );
    let stop = |reason: &str| DeskRequest::SetEntryStatus {
        person: a.clone(),
        entry,
        cancel: false,
        reason: reason.into(),
    };
    assert!(change_roadmap(&mut store, &set, &stop(" "), "Camille", MORNING).is_err());
    change_roadmap(&mut store, &set, &stop("malade"), "Camille", MORNING).unwrap();
    let view = person_roadmap(&mut store, &set, &a, "Camille", MORNING, false).unwrap();
    assert_eq!(view.entries[0].status, EntryStatus::Interrupted.label_fr());
    assert!(
        view.entries[0].open,
        "an interrupted entry can still be cancelled"
    );

    // A score out of its range, or no administrator: refused, nothing written, no flag named.
    let pdf = dir.path().join("cle/disc-renard.pdf");
    std::fs::create_dir(dir.path().join("cle")).unwrap();
    std::fs::write(&pdf, b"%PDF-1.4\n% rapport DISC\n").unwrap();
    let job = |d: &str, by: &str| {
        DeskRequest::RecordResult(ResultJob {
            person: a.clone(),
            activity: "disc".into(),
            taken_on: "2026-11-20".into(),
            by: by.into(),
            fields: vec![
                ("d".into(), d.into()),
                ("i".into(), String::new()),
                ("profil".into(), "Meneur".into()),
            ],
            pdf: Some(pdf.clone()),
        })
    };
    for (d, by) in [("140", "Mme Durand"), ("62", " ")] {
        let why = change_roadmap(&mut store, &set, &job(d, by), "Camille", MORNING).unwrap_err();
        assert!(!why.contains("--"), "{why}");
    }
    assert!(store.results(&a).unwrap().is_empty());
    let said = change_roadmap(
        &mut store,
        &set,
        &job("62", "Mme Durand"),
        "Camille",
        MORNING,
    )
    .unwrap();
    assert!(said.starts_with("Résultat n° "), "{said}");
    let view = person_roadmap(&mut store, &set, &a, "Camille", MORNING, false).unwrap();
    let r = &view.results[0];
    assert_eq!(
        (r.tool.as_str(), r.taken_on.as_str(), r.by.as_str()),
        ("DISC", "20 novembre 2026", "Mme Durand")
    );
    assert_eq!(
        r.fields,
        vec![
            ("Dominance".to_owned(), "62 / 100".to_owned()),
            ("Profil".to_owned(), "Meneur".to_owned())
        ],
        "an empty field is left out"
    );
    assert_eq!(r.pdf.as_deref(), Some("disc-renard.pdf"));

    let access = store.access_log().unwrap();
    assert_eq!(
        access
            .iter()
            .filter(|e| e.action == AccessAction::RoadmapOpened)
            .count(),
        1,
        "the reading asked for, not the answers to changes"
    );
    assert!(
        access
            .iter()
            .any(|e| e.action == AccessAction::ResultRecorded
                && e.actor == "Camille"
                && e.participant.as_deref() == Some(a.as_str())
                && e.detail.ends_with("avec PDF"))
    );
    // An unknown person: refused.
    assert!(person_roadmap(&mut store, &set, "pers-inconnue", "Camille", MORNING, true).is_err());
}

/// The console's « Planning »: who waits, a past time, a missing place and a series of an
/// activity that does not recur refused with nothing written (and no flag named); then a
/// series planned, its first session inviting the people who waited; the calendar written
/// into a folder without any pseudonym.
#[test]
fn the_consoles_plan_shows_who_waits_and_plans_a_series_that_invites_them() {
    use boussole_director::desk::{DeskRequest, plan_add, plan_ics_into, plan_view};
    let dir = tempfile::tempdir().unwrap();
    let set = content();
    let mut store = Store::open(&dir.path().join("director.db"), PASS).unwrap();
    let people: Vec<String> = ["Renard", "Mouette", "Goéland"]
        .into_iter()
        .map(|p| person(&mut store, p))
        .collect();
    for p in &people {
        roadmap::prescribe(
            &mut store,
            &set,
            p,
            "scape_attitudes",
            "Référente",
            "2026-12-01",
            MORNING,
        )
        .unwrap();
    }
    let view = plan_view(&store, &set, MORNING).unwrap();
    assert!(view.coming.is_empty());
    let waiting = view
        .waiting
        .iter()
        .find(|w| w.title == "S'cape attitudes")
        .unwrap_or_else(|| panic!("{:?}", view.waiting));
    assert_eq!(waiting.people, ["Renard", "Mouette", "Goéland"]);
    let scape = view
        .activities
        .iter()
        .find(|a| a.id == "scape_attitudes")
        .unwrap();
    assert_eq!(scape.every_weeks, Some(2));
    let ask =
        |activity: &str, starts: &str, place: &str, count: Option<u32>| DeskRequest::PlanAdd {
            activity: activity.into(),
            starts: starts.into(),
            minutes: None,
            place: place.into(),
            count,
        };
    for (request, expected) in [
        (
            ask("scape_attitudes", "2020-01-06T14:00", "Salle 2", None),
            "dans le passé",
        ),
        (
            ask("scape_attitudes", "2027-01-06T14:00", " ", None),
            "où a lieu la séance",
        ),
        (
            ask("disc", "2027-01-06T14:00", "Bureau 1", Some(3)),
            "ne se répète pas",
        ),
        (
            ask("scape_attitudes", "lundi 14 h", "Salle 2", None),
            "AAAA-MM-JJTHH:MM",
        ),
    ] {
        let why = plan_add(&mut store, &set, &request, MORNING).unwrap_err();
        assert!(why.contains(expected), "{expected}: {why}");
        assert!(!why.contains("--"), "{why}");
    }
    assert!(plan_view(&store, &set, MORNING).unwrap().coming.is_empty());

    let said = plan_add(
        &mut store,
        &set,
        &ask("scape_attitudes", "2027-01-06T14:00", "Salle 2", Some(3)),
        MORNING,
    )
    .unwrap();
    assert!(
        said.starts_with("3 séance(s) de « S'cape attitudes » planifiée(s)"),
        "{said}"
    );
    let view = plan_view(&store, &set, MORNING).unwrap();
    assert_eq!(view.coming.len(), 3);
    assert!(
        view.coming
            .iter()
            .all(|p| p.series.is_some() && p.place == "Salle 2")
    );
    assert_eq!(
        view.coming[0]
            .invited
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        ["Renard", "Mouette", "Goéland"]
    );
    assert!(
        view.coming[0].when.contains("6 janvier 2027"),
        "{:?}",
        view.coming[0]
    );
    assert!(
        view.waiting
            .iter()
            .all(|w| w.title != "S'cape attitudes" || w.people.is_empty())
    );

    // The first session cancelled, with a reason: its people wait again; once only.
    let first = view.coming[0].id;
    assert!(boussole_director::desk::plan_cancel(&mut store, first, " ", MORNING).is_err());
    let said =
        boussole_director::desk::plan_cancel(&mut store, first, "salle inondée", MORNING).unwrap();
    assert!(
        said.ends_with("3 personne(s) de nouveau en attente"),
        "{said}"
    );
    let after = plan_view(&store, &set, MORNING).unwrap();
    assert_eq!(after.coming.len(), 2);
    assert!(after.coming.iter().all(|p| p.id != first));
    let waiting = after
        .waiting
        .iter()
        .find(|w| w.title == "S'cape attitudes")
        .unwrap_or_else(|| panic!("{:?}", after.waiting));
    assert_eq!(waiting.people.len(), 3);
    let why =
        boussole_director::desk::plan_cancel(&mut store, first, "encore", MORNING).unwrap_err();
    assert!(why.contains("ne peut plus être annulée"), "{why}");
    let history = store
        .roadmap_history(store.roadmap(&people[0]).unwrap()[0].id)
        .unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.detail.contains("annulée (salle inondée)")),
        "{history:?}"
    );

    let folder = dir.path().join("cle");
    std::fs::create_dir(&folder).unwrap();
    let said = plan_ics_into(&store, &set, &folder, MORNING).unwrap();
    assert!(said.starts_with("Planning écrit"), "{said}");
    let file = std::fs::read_dir(&folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let ics = std::fs::read_to_string(&file).unwrap();
    assert!(
        ics.contains("BEGIN:VCALENDAR") && ics.contains("Salle 2"),
        "{ics}"
    );
    for p in ["Renard", "Mouette", "Goéland"] {
        assert!(!ics.contains(p), "no pseudonym in the calendar: {ics}");
    }
}
