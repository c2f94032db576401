//! Inter-rater agreement: our Cohen's kappa of label sequences equals scikit-learn's on the
//! committed fixture (`tools/fixtures/kappa_fixture.py` wrote it), which is the kappa of the
//! `sets` variant; the slicing of hand-built two-rater logs follows BORIS's rules (sample
//! instants from the first event, states containing the instant with both ends included, points
//! within half a slice, withdrawn codes and notes ignored), and the `boris` method BORIS's
//! particulars, counted by hand (the subject in the category, repeats, floating-point edges,
//! 1 for an undefined kappa, per behaviour on its own range). `director/tests/boris.rs` checks
//! the `boris` method against BORIS itself.

use boussole_content::ContentSet;
use boussole_director::engine::{Command, Engine, Input, Millis, ObservationAction};
use boussole_director::irr::{
    self, IrrError, KappaError, KappaMethod, agreement, agreement_fr, cohen_kappa, slice,
};
use std::path::PathBuf;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn kappa_equals_scikit_learn_on_the_fixture() {
    let path = manifest().join("tests/fixtures/kappa_sklearn.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(
        cases.len() >= 10,
        "the fixture has its cases: {}",
        cases.len()
    );
    let mut undefined = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let labels = |k: &str| -> Vec<String> {
            case[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect()
        };
        let (a, b) = (labels("a"), labels("b"));
        let ours = cohen_kappa(&a, &b).unwrap_or_else(|e| panic!("{name}: {e}"));
        match (case["kappa"].as_f64(), ours.kappa) {
            (Some(want), Some(got)) => assert!(
                (want - got).abs() <= 1e-9,
                "{name}: scikit-learn {want}, ours {got}"
            ),
            (None, None) => undefined += 1,
            (want, got) => panic!("{name}: scikit-learn {want:?}, ours {got:?}"),
        }
        let agreed = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert_eq!(ours.agreed, agreed, "{name}");
        assert_eq!(ours.units, a.len(), "{name}");
        assert!(
            (ours.observed - agreed as f64 / a.len() as f64).abs() < 1e-12,
            "{name}"
        );
    }
    assert!(undefined >= 1, "the fixture has an undefined case (nan)");
}

#[test]
fn kappa_refuses_sequences_it_cannot_compare() {
    assert_eq!(
        cohen_kappa(&["a", "b"], &["a"]),
        Err(KappaError::LengthMismatch { a: 2, b: 1 })
    );
    assert_eq!(cohen_kappa::<&str>(&[], &[]), Err(KappaError::Empty));
    // Both raters constant on one label: undefined, observed agreement still given.
    let k = cohen_kappa(&["x"; 5], &["x"; 5]).unwrap();
    assert_eq!(k.kappa, None);
    assert_eq!(k.observed, 1.0);
}

fn s(ms: u64) -> Millis {
    Millis(ms)
}

/// The shipped example scenario with the standard grid, two participants, the game started at 0.
fn engine() -> Engine {
    engine_with(&["P1", "P2"])
}

/// The shipped example scenario with the standard grid, `participants`, the game started at 0.
fn engine_with(participants: &[&str]) -> Engine {
    let (set, problems) = ContentSet::load_dir(&manifest().join("../content"));
    assert!(problems.is_empty(), "{problems:?}");
    let scenario = set
        .scenarios
        .iter()
        .map(|d| d.value.clone())
        .find(|s| s.id.as_str() == "exemple")
        .unwrap_or_else(|| unreachable!("the shipped example exists"));
    let grid = set
        .grids
        .iter()
        .map(|d| d.value.clone())
        .find(|g| g.id.as_str() == "grille_standard")
        .unwrap_or_else(|| unreachable!("the shipped grid exists"));
    let mut e = Engine::new(scenario, grid);
    for p in participants {
        e.handle(
            Input::Command(Command::AddParticipant {
                id: (*p).into(),
                pseudonym: format!("Pseudo {p}"),
                colour: format!("#0000{:0>2}", &p[1..]),
            }),
            s(0),
        );
    }
    e.handle(Input::Command(Command::StartGame), s(0));
    e
}

fn code(
    e: &mut Engine,
    at: u64,
    rater: &str,
    p: &str,
    b: &str,
    action: ObservationAction,
    modifier: Option<&str>,
) {
    let out = e.handle(
        Input::Command(Command::Observe {
            rater: rater.into(),
            participant: p.into(),
            behaviour: b.into(),
            action,
            modifier: modifier.map(Into::into),
        }),
        s(at),
    );
    assert!(out.is_empty(), "{out:?}");
}

use ObservationAction::{Point, Start, Stop};

/// Two raters, Δ = 1 s: samples at 10…20 s (from the first event to the last end, 20.7 s).
///
/// console:      P1 explore 10–14 s, P2 com_partage (groupe) 12 s, P1 com_coupe 20 s, P2 propose 20.7 s
/// observateur:  P1 explore 11–14 s, P2 com_partage (coequipier) 12.4 s, P1 com_coupe 20.5 s,
///               P2 propose 20.7 s, P2 com_ecoute 15 s withdrawn, a note.
fn two_raters() -> Engine {
    let mut e = engine();
    code(&mut e, 10_000, "console", "P1", "explore", Start, None);
    code(&mut e, 11_000, "observateur", "P1", "explore", Start, None);
    code(
        &mut e,
        12_000,
        "console",
        "P2",
        "com_partage",
        Point,
        Some("groupe"),
    );
    code(
        &mut e,
        12_400,
        "observateur",
        "P2",
        "com_partage",
        Point,
        Some("coequipier"),
    );
    code(&mut e, 14_000, "console", "P1", "explore", Stop, None);
    code(&mut e, 14_000, "observateur", "P1", "explore", Stop, None);
    code(
        &mut e,
        15_000,
        "observateur",
        "P2",
        "com_ecoute",
        Point,
        None,
    );
    let out = e.handle(
        Input::Command(Command::Undo {
            rater: "observateur".into(),
        }),
        s(15_500),
    );
    assert!(out.is_empty(), "{out:?}");
    let out = e.handle(
        Input::Command(Command::Note {
            rater: "observateur".into(),
            participant: Some("P2".into()),
            text: "une note n'est pas un événement".into(),
        }),
        s(16_000),
    );
    assert!(out.is_empty(), "{out:?}");
    code(&mut e, 20_000, "console", "P1", "com_coupe", Point, None);
    code(
        &mut e,
        20_500,
        "observateur",
        "P1",
        "com_coupe",
        Point,
        None,
    );
    code(&mut e, 20_700, "console", "P2", "propose", Point, None);
    code(&mut e, 20_700, "observateur", "P2", "propose", Point, None);
    e
}

fn label(items: &[(&str, Option<&str>)]) -> irr::Label {
    items
        .iter()
        .map(|(b, m)| ((*b).into(), m.map(Into::into)))
        .collect()
}

#[test]
fn slices_follow_borises_rules() {
    for method in KappaMethod::ALL {
        let e = two_raters();
        assert_eq!(
            irr::raters(&e),
            vec!["console".into(), "observateur".into()]
        );
        let sl = slice(&e, &"console".into(), &"observateur".into(), 1.0, method).unwrap();
        assert_eq!(sl.method, method);
        assert_eq!(sl.slice_ms, 1000);
        assert_eq!(sl.first, s(10_000), "the first sample is the first event");
        assert_eq!(sl.last, s(20_700), "the last end of either rater");
        assert_eq!(
            sl.slices, 11,
            "samples at 10, 11, … 20 s (21 s is past the last event)"
        );
        assert_eq!(sl.subjects, vec!["P1".into(), "P2".into()]);
        assert_eq!(sl.labels[0].len(), 22);
        let at = |rater: usize, k: usize, subject: usize| sl.labels[rater][k * 2 + subject].clone();
        let explore = label(&[("explore", None)]);
        // A state contains its start and its stop.
        assert_eq!(at(0, 0, 0), explore);
        assert_eq!(at(1, 0, 0), label(&[]), "observateur starts at 11 s");
        assert_eq!(at(0, 4, 0), explore, "stop at 14 s included");
        assert_eq!(at(1, 4, 0), explore);
        assert_eq!(at(0, 5, 0), label(&[]));
        // A point counts within half a slice of the instant, edge included.
        assert_eq!(at(0, 2, 1), label(&[("com_partage", Some("groupe"))]));
        assert_eq!(at(1, 2, 1), label(&[("com_partage", Some("coequipier"))]));
        assert_eq!(at(0, 10, 0), label(&[("com_coupe", None)]));
        assert_eq!(
            at(1, 10, 0),
            label(&[("com_coupe", None)]),
            "20.5 s is 0.5 s from 20 s"
        );
        // 20.7 s is more than half a slice from the last sample: in no unit.
        assert!(
            sl.labels
                .iter()
                .flatten()
                .all(|l| !l.iter().any(|(b, _)| b.as_str() == "propose"))
        );
        // The withdrawn code and the note are nowhere.
        assert!(
            sl.labels[1]
                .iter()
                .all(|l| !l.iter().any(|(b, _)| b.as_str() == "com_ecoute"))
        );
        // Without modifiers, the two com_partage agree.
        assert_eq!(
            sl.without_modifiers(0)[2 * 2 + 1],
            sl.without_modifiers(1)[2 * 2 + 1]
        );

        // Two-second slices: samples at 10, 12, … 20 s.
        let sl2 = slice(&e, &"console".into(), &"observateur".into(), 2.0, method).unwrap();
        assert_eq!(sl2.slices, 6);
        assert_eq!(sl2.instant(5), s(20_000));
    }
}

#[test]
fn agreement_counts_by_hand_sets() {
    let e = two_raters();
    let a = agreement(
        &e,
        &"console".into(),
        &"observateur".into(),
        1.0,
        KappaMethod::Sets,
    )
    .unwrap();
    assert_eq!(a.slices, 11);
    assert_eq!(a.participants, 2);
    assert_eq!(a.span, (s(10_000), s(20_000)));
    assert_eq!(a.coded, [4, 4], "the withdrawn code does not count");
    // Without modifiers: 22 units, 21 agreed (P1 at 10 s differs). Rater margins:
    // nothing 15 / 16, explore 5 / 4, com_coupe 1 / 1, com_partage 1 / 1 → Σ = 262.
    let k = a.without_modifiers;
    assert_eq!((k.units, k.agreed, k.categories), (22, 21, 4));
    let want = (22.0 * 21.0 - 262.0) / (484.0 - 262.0);
    assert!((k.kappa.unwrap() - want).abs() < 1e-12, "{k:?}");
    // With modifiers, the com_partage unit differs too: 20 agreed; Σ = 240 + 20 + 1 = 261.
    let k = a.with_modifiers;
    assert_eq!((k.agreed, k.categories), (20, 5));
    let want = (22.0 * 20.0 - 261.0) / (484.0 - 261.0);
    assert!((k.kappa.unwrap() - want).abs() < 1e-12, "{k:?}");

    let by: Vec<(&str, Option<f64>)> = a
        .behaviours
        .iter()
        .map(|b| (b.behaviour.as_str(), b.kappa.unwrap().kappa))
        .collect();
    let names: Vec<&str> = by.iter().map(|(b, _)| *b).collect();
    assert_eq!(
        names,
        ["com_partage", "com_coupe", "propose", "explore"],
        "grid order, only behaviours coded (the withdrawn com_ecoute is not)"
    );
    assert_eq!(by[0].1, Some(1.0));
    assert_eq!(by[1].1, Some(1.0));
    assert_eq!(
        by[2].1, None,
        "propose falls in no unit: both raters absent everywhere"
    );
    // explore: present 5 / 4, absent 17 / 18, agreed 21 → (462 − 326) / (484 − 326).
    let want = (462.0 - 326.0) / (484.0 - 326.0);
    assert!((by[3].1.unwrap() - want).abs() < 1e-12);

    let fr = agreement_fr(&a);
    assert!(fr.contains("console et observateur"), "{fr}");
    assert!(fr.contains("sans modificateurs : κ = 0,901"), "{fr}");
    assert!(fr.contains("avec modificateurs : κ = 0,803"), "{fr}");
    assert!(fr.contains("Propose une piste : non calculable"), "{fr}");
    assert!(
        fr.contains("11 tranche(s) × 2 participant·e(s) = 22 unités"),
        "{fr}"
    );
    assert!(fr.contains("Méthode « sets »"), "{fr}");
    assert!(fr.contains("pas le calcul de BORIS"), "{fr}");
    assert!(!fr.contains("Même calcul que BORIS"), "{fr}");
}

#[test]
fn agreement_counts_by_hand_boris() {
    let e = two_raters();
    let a = agreement(
        &e,
        &"console".into(),
        &"observateur".into(),
        1.0,
        KappaMethod::default(),
    )
    .unwrap();
    assert_eq!(a.method, KappaMethod::Boris, "BORIS's is the default");
    // Each behaviour is coded for one participant only, so the subject changes no partition:
    // the same counts as the sets variant, rounded to 3 decimals.
    let k = a.without_modifiers;
    assert_eq!((k.units, k.agreed, k.categories), (22, 21, 4));
    let want = (22.0 * 21.0 - 262.0) / (484.0 - 262.0);
    assert!((k.exact.unwrap() - want).abs() < 1e-12, "{k:?}");
    assert_eq!(k.kappa, Some(0.901));
    assert_eq!(a.with_modifiers.kappa, Some(0.803));

    let by: Vec<(&str, Option<irr::Kappa>)> = a
        .behaviours
        .iter()
        .map(|b| (b.behaviour.as_str(), b.kappa))
        .collect();
    // com_partage alone: 12 to 12.4 s, one instant (12 s), two units, both agree.
    let partage = by[0].1.unwrap();
    assert_eq!(
        (by[0].0, partage.units, partage.kappa),
        ("com_partage", 2, Some(1.0))
    );
    // propose alone: both at 20.7 s, and 20.7 as a decimal is above the float 20.6999…:
    // BORIS's loop takes no instant at all, and says 1.
    let propose = by[2].1.unwrap();
    assert_eq!(
        (by[2].0, propose.units, propose.kappa),
        ("propose", 0, Some(1.0))
    );
    assert_eq!(propose.exact, None);
    // explore alone: 10 to 14 s, five instants × two participants; P1 differs at 10 s.
    // Margins: [] 5 / 6, [P1 explore] 5 / 4 → Σ = 50; (10·9 − 50) / (100 − 50) = 0.8.
    let explore = by[3].1.unwrap();
    assert_eq!((by[3].0, explore.units, explore.agreed), ("explore", 10, 9));
    assert_eq!(explore.kappa, Some(0.8));

    let fr = agreement_fr(&a);
    assert!(fr.contains("Méthode « boris » (par défaut)"), "{fr}");
    assert!(fr.contains("sans modificateurs : κ = 0,901"), "{fr}");
    assert!(
        fr.contains("Propose une piste : κ = 1,000 (valeur de BORIS"),
        "{fr}"
    );
    assert!(fr.contains("Même calcul que BORIS 8.27.4"), "{fr}");
}

/// Δ = 1 s, the game started at 0. Both raters code explore for two participants and
/// com_coupe for P1; the console presses com_coupe twice within one slice.
///
/// console:      P1 explore 0–3 s, P2 explore 2–5 s, P1 com_coupe 1 s and 1.2 s
/// observateur:  P1 explore 0–3 s, P2 explore 3–5 s, P1 com_coupe 1 s, P2 propose 4 s
fn subjects_and_repeats() -> Engine {
    let mut e = engine();
    code(&mut e, 0, "console", "P1", "explore", Start, None);
    code(&mut e, 0, "observateur", "P1", "explore", Start, None);
    code(&mut e, 1_000, "console", "P1", "com_coupe", Point, None);
    code(&mut e, 1_000, "observateur", "P1", "com_coupe", Point, None);
    code(&mut e, 1_200, "console", "P1", "com_coupe", Point, None);
    code(&mut e, 2_000, "console", "P2", "explore", Start, None);
    code(&mut e, 3_000, "console", "P1", "explore", Stop, None);
    code(&mut e, 3_000, "observateur", "P1", "explore", Stop, None);
    code(&mut e, 3_000, "observateur", "P2", "explore", Start, None);
    code(&mut e, 4_000, "observateur", "P2", "propose", Point, None);
    code(&mut e, 5_000, "console", "P2", "explore", Stop, None);
    code(&mut e, 5_000, "observateur", "P2", "explore", Stop, None);
    e
}

#[test]
fn borises_subject_and_repeats_by_hand() {
    let e = subjects_and_repeats();
    let (c, o) = ("console".into(), "observateur".into());
    let boris = agreement(&e, &c, &o, 1.0, KappaMethod::Boris).unwrap();
    let sets = agreement(&e, &c, &o, 1.0, KappaMethod::Sets).unwrap();
    // Instants 0…5 s × two participants = 12 units. They differ at 1 s for P1 (com_coupe twice
    // against once: BORIS only), at 2 s for P2 (explore), at 4 s for P2 (propose).
    let sl = slice(&e, &c, &o, 1.0, KappaMethod::Boris).unwrap();
    assert_eq!(
        sl.labels[0][2],
        label(&[("com_coupe", None), ("com_coupe", None), ("explore", None)]),
        "the double press is there twice"
    );
    let k = boris.without_modifiers;
    assert_eq!((k.units, k.agreed), (12, 9));
    // BORIS's categories carry the subject. Console / observateur margins: [] 4 / 5,
    // [P1 explore] 3 / 3, [P1 com_coupe com_coupe explore] 1 / 0, [P1 com_coupe explore]
    // 0 / 1, [P2 explore] 4 / 2, [P2 explore propose] 0 / 1 → Σ = 20 + 9 + 8 = 37.
    assert_eq!(k.categories, 6);
    let want = (12.0 * 9.0 - 37.0) / (144.0 - 37.0);
    assert!((k.exact.unwrap() - want).abs() < 1e-12, "{k:?}");
    assert_eq!(k.kappa, Some(0.664));
    // The sets variant: the double press is no disagreement, and explore is one category for
    // both participants: [] 4 / 5, [explore] 7 / 5, [com_coupe explore] 1 / 1,
    // [explore propose] 0 / 1 → Σ = 20 + 35 + 1 = 56, 10 agreed: 64 / 88.
    let k = sets.without_modifiers;
    assert_eq!((k.units, k.agreed, k.categories), (12, 10, 4));
    let want = (12.0 * 10.0 - 56.0) / (144.0 - 56.0);
    assert!((k.kappa.unwrap() - want).abs() < 1e-12, "{k:?}");

    let per = |a: &irr::Agreement, b: &str| {
        a.behaviours
            .iter()
            .find(|x| x.behaviour.as_str() == b)
            .unwrap()
            .kappa
    };
    // explore alone (0–5 s, 12 units): P2 differs at 2 s. [] 4 / 5, [P1 explore] 4 / 4,
    // [P2 explore] 4 / 3 → Σ = 48; (12·11 − 48) / (144 − 48) = 0.875.
    let explore = per(&boris, "explore").unwrap();
    assert_eq!(
        (explore.units, explore.agreed, explore.kappa),
        (12, 11, Some(0.875))
    );
    // com_coupe alone: 1 to 1.2 s, one instant, two units: [P1 cc cc] against [P1 cc].
    // [] 1 / 1 → Σ = 1; (2·1 − 1) / (4 − 1) = 1/3.
    let coupe = per(&boris, "com_coupe").unwrap();
    assert_eq!(
        (coupe.units, coupe.agreed, coupe.kappa),
        (2, 1, Some(0.333))
    );
    // The sets variant: present at 1 s for both, so full agreement over the 12 units.
    assert_eq!(per(&sets, "com_coupe").unwrap().kappa, Some(1.0));
    // propose, coded by one rater only: BORIS refuses; the sets variant gives a kappa.
    assert_eq!(per(&boris, "propose"), None);
    assert!(per(&sets, "propose").is_some());
    let fr = agreement_fr(&boris);
    assert!(
        fr.contains("Propose une piste : non calculé : un·e seul·e l'a codé"),
        "{fr}"
    );
}

#[test]
fn borises_undefined_kappa_is_one() {
    // One participant, one instant: both raters give the one unit the same label, p_e = 1.
    let mut e = engine_with(&["P1"]);
    code(&mut e, 1_000, "console", "P1", "com_coupe", Point, None);
    code(&mut e, 1_000, "observateur", "P1", "com_coupe", Point, None);
    let (c, o) = ("console".into(), "observateur".into());
    let boris = agreement(&e, &c, &o, 1.0, KappaMethod::Boris).unwrap();
    let sets = agreement(&e, &c, &o, 1.0, KappaMethod::Sets).unwrap();
    let k = boris.without_modifiers;
    assert_eq!(
        (k.units, k.expected, k.exact, k.kappa),
        (1, 1.0, None, Some(1.0))
    );
    assert_eq!(sets.without_modifiers.kappa, None, "sets: non calculable");
    let fr = agreement_fr(&boris);
    assert!(
        fr.contains("κ = 1,000 (valeur de BORIS quand les deux donnent partout"),
        "{fr}"
    );
}

#[test]
fn borises_floating_point_edges() {
    let mut e = engine();
    // Δ = 0.2 s from 0.1 s: instants 0.1, 0.3, 0.5 s. The point at 0.4 s is exactly Δ/2 from
    // 0.3 s and from 0.5 s; in floats 0.4 − 0.3 = 0.10000000000000003 > 0.1 and
    // 0.5 − 0.4 = 0.09999999999999998: BORIS takes it at 0.5 s only.
    code(&mut e, 100, "console", "P1", "com_coupe", Point, None);
    code(&mut e, 100, "observateur", "P1", "com_coupe", Point, None);
    code(&mut e, 400, "console", "P1", "propose", Point, None);
    code(&mut e, 500, "observateur", "P1", "propose", Point, None);
    let (c, o) = ("console".into(), "observateur".into());
    let boris = slice(&e, &c, &o, 0.2, KappaMethod::Boris).unwrap();
    let sets = slice(&e, &c, &o, 0.2, KappaMethod::Sets).unwrap();
    assert_eq!((boris.slices, sets.slices), (3, 3));
    let propose = label(&[("propose", None)]);
    let p1 = |sl: &irr::Slicing, k: usize| sl.labels[0][k * 2].clone();
    assert_eq!(
        p1(&sets, 1),
        propose,
        "exactly: 0.4 s is in the slice of 0.3 s"
    );
    assert_eq!(p1(&boris, 1), label(&[]), "BORIS: not in floats");
    assert_eq!(p1(&boris, 2), propose);
    assert_eq!(p1(&sets, 2), propose);
}

#[test]
fn an_open_state_runs_to_the_engines_last_time() {
    let mut e = engine();
    code(&mut e, 1_000, "console", "P1", "explore", Start, None);
    code(&mut e, 1_000, "observateur", "P1", "explore", Start, None);
    code(&mut e, 4_000, "observateur", "P1", "explore", Stop, None);
    let sl = slice(
        &e,
        &"console".into(),
        &"observateur".into(),
        1.0,
        KappaMethod::Boris,
    )
    .unwrap();
    assert_eq!(
        sl.last,
        s(4_000),
        "the console's open state ends at the engine's now"
    );
    for method in KappaMethod::ALL {
        let a = agreement(&e, &"console".into(), &"observateur".into(), 1.0, method).unwrap();
        assert_eq!(a.with_modifiers.agreed, a.with_modifiers.units);
    }
}

#[test]
fn bad_requests_are_errors() {
    let e = two_raters();
    let (c, o) = ("console".into(), "observateur".into());
    for bad in [0.0, -1.0, 0.0001, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                slice(&e, &c, &o, bad, KappaMethod::Boris),
                Err(IrrError::BadSlice { .. })
            ),
            "{bad}"
        );
    }
    assert_eq!(
        slice(&e, &c, &c, 1.0, KappaMethod::Boris).map(|_| ()),
        Err(IrrError::SameRater(c.clone()))
    );
    assert_eq!(
        agreement(&e, &c, &"personne".into(), 1.0, KappaMethod::Boris).map(|_| ()),
        Err(IrrError::NoEvents {
            rater: "personne".into()
        })
    );
    let mut long = engine();
    code(&mut long, 0, "console", "P1", "com_coupe", Point, None);
    code(
        &mut long,
        200_000,
        "observateur",
        "P1",
        "com_coupe",
        Point,
        None,
    );
    assert!(matches!(
        slice(&long, &c, &o, 0.001, KappaMethod::Sets),
        Err(IrrError::TooManySlices {
            slices: 200_001,
            ..
        })
    ));
}

/// The wash-up after the close changes what the evaluation reads, never the agreement: a code
/// taken from the other rater (`AdoptCode`, refused before the close) and a code withdrawn
/// after the close leave the kappa of the codings as they stood at the close.
#[test]
fn the_wash_up_leaves_the_agreement_of_the_close() {
    use boussole_director::engine::Effect;
    let mut e = two_raters();
    let observers = |e: &Engine| -> Vec<boussole_director::engine::ObservationId> {
        e.observations()
            .iter()
            .filter(|o| o.rater.as_str() == "observateur" && o.retracted.is_none())
            .filter(|o| o.behaviour.is_some())
            .map(|o| o.id)
            .collect()
    };
    let theirs = observers(&e)[1];
    let adopt = Command::AdoptCode {
        rater: "console".into(),
        id: theirs,
    };
    let out = e.handle(Input::Command(adopt.clone()), s(21_000));
    assert!(
        matches!(out.as_slice(), [Effect::Refused(why)] if why.contains("après la clôture")),
        "{out:?}"
    );
    e.handle(Input::Command(Command::EndSession), s(30_000));
    let before = agreement(
        &e,
        &"console".into(),
        &"observateur".into(),
        1.0,
        KappaMethod::Boris,
    )
    .expect("two raters");
    let out = e.handle(Input::Command(adopt), s(31_000));
    assert!(out.is_empty(), "{out:?}");
    let mine = e
        .observations()
        .iter()
        .find(|o| o.rater.as_str() == "console" && o.retracted.is_none() && o.behaviour.is_some())
        .map(|o| o.id)
        .expect("a code of the console");
    let out = e.handle(
        Input::Command(Command::Retract {
            rater: "console".into(),
            id: mine,
        }),
        s(31_000),
    );
    assert!(out.is_empty(), "{out:?}");
    // Taking one's own code, or a withdrawn one, is refused in words.
    let out = e.handle(
        Input::Command(Command::AdoptCode {
            rater: "console".into(),
            id: mine,
        }),
        s(32_000),
    );
    assert!(matches!(out.as_slice(), [Effect::Refused(_)]), "{out:?}");
    let after = agreement(
        &e,
        &"console".into(),
        &"observateur".into(),
        1.0,
        KappaMethod::Boris,
    )
    .expect("two raters");
    assert_eq!(after, before, "the agreement is the close's");
    // What the evaluation reads changed: one code taken, one withdrawn.
    let standing = |e: &Engine| {
        e.observations()
            .iter()
            .filter(|o| {
                o.rater.as_str() == "console" && o.retracted.is_none() && o.behaviour.is_some()
            })
            .count()
    };
    let taken = e.observations().iter().filter(|o| o.consensus).count();
    assert_eq!(taken, 1);
    assert_eq!(
        standing(&e),
        4,
        "four codes before, one taken, one withdrawn"
    );
}

/// The lead rater the facilitator names is the one the evaluation and the synthesis read,
/// after the close too; until then, whoever coded most.
#[test]
fn the_named_lead_rater_wins_over_who_coded_most() {
    use boussole_director::record::lead_rater;
    let mut e = two_raters();
    let most = lead_rater(&e).expect("someone coded");
    let other: boussole_director::engine::RaterId = if most.as_str() == "console" {
        "observateur"
    } else {
        "console"
    }
    .into();
    e.handle(Input::Command(Command::EndSession), s(30_000));
    let out = e.handle(
        Input::Command(Command::ChooseLeadRater {
            rater: other.clone(),
        }),
        s(31_000),
    );
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(lead_rater(&e), Some(other));
}
