//! The console's panels driven like a facilitator drives them (egui_kittest, no Bevy, no
//! renderer): clicks and key presses by physical position, on views folded by the director's
//! own engine from the shipped S'cape attitudes scenario.

use boussole_console::i18n::{self, Locale};
use boussole_console::ui::keys::{self, Shortcut};
use boussole_console::ui::{
    ConsoleAction, ConsoleState, CoverageLevel, CoverageThresholds, Output, Screen, console,
    coverage,
};
use boussole_console::view::SessionView;
use boussole_content::ContentSet;
use boussole_content::grid::{EventKind, PhysicalKey};
use boussole_content::ids::{BehaviourId, ModifierId, PuzzleId};
use boussole_director::engine::{
    Command, DeviceId, Engine, Health, Input, Millis, ObservationAction, ParticipantId, PersonId,
    RaterId,
};
use boussole_director::register::{RegisterEntry, RegisterRequest};
use boussole_director::store::PersonChange;
use boussole_protocol::wire::{LinkStatus, OutdatedDevice, PROTOCOL_VERSION, Role};
use egui::{Event, Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use std::path::PathBuf;

const ME: &str = "console-a";

fn engine() -> Engine {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let (set, problems) = ContentSet::load_dir(&root);
    assert!(problems.is_empty(), "{problems:?}");
    let scenario = set
        .scenarios
        .iter()
        .find(|s| s.value.id.as_str() == "scape_attitudes")
        .map(|s| s.value.clone())
        .unwrap_or_else(|| unreachable!("the shipped scenario exists"));
    let grid = set
        .grids
        .iter()
        .find(|g| g.value.id == scenario.observation_grid)
        .map(|g| g.value.clone())
        .unwrap_or_else(|| unreachable!("the shipped grid exists"));
    Engine::new(scenario, grid)
}

fn p(n: u32) -> ParticipantId {
    ParticipantId(format!("P{n}"))
}

/// Three participants enrolled, the game started at 1 s; the view at 2 s.
fn session() -> SessionView {
    let mut e = engine();
    for n in 1..=3 {
        let _ = e.handle(
            Input::Command(Command::AddParticipant {
                id: p(n),
                pseudonym: format!("Pseudo {n}"),
                colour: format!("#0000{n:02}"),
            }),
            Millis(500),
        );
    }
    let _ = e.handle(Input::Command(Command::StartGame), Millis(1000));
    SessionView::of(e, Millis(2000), RaterId::from(ME))
}

/// What the harness drives: the view, the console's state, everything it output. With `fold`,
/// commands go through the engine at once, as the director would echo them.
struct App {
    view: SessionView,
    console: ConsoleState,
    out: Vec<Output>,
    fold: bool,
}

fn harness(view: SessionView, screen: Screen) -> Harness<'static, App> {
    let state = ConsoleState {
        screen,
        ..ConsoleState::default()
    };
    let app = App {
        view,
        console: state,
        out: Vec::new(),
        fold: true,
    };
    Harness::builder()
        .with_size(egui::vec2(1600.0, 6000.0))
        .build_ui_state(
            |ui, app: &mut App| {
                let out = console(ui, &app.view, &mut app.console);
                if app.fold {
                    for o in &out {
                        let batch = match o {
                            Output::Command(c) => vec![c.clone()],
                            Output::Commands(cs) => cs.clone(),
                            Output::Action(_) => Vec::new(),
                        };
                        for c in batch {
                            let now = app.view.now;
                            let _ = app.view.engine.handle(Input::Command(c), now);
                        }
                    }
                }
                app.out.extend(out);
            },
            app,
        )
}

fn commands(h: &Harness<'_, App>) -> Vec<Command> {
    h.state()
        .out
        .iter()
        .flat_map(|o| match o {
            Output::Command(c) => vec![c.clone()],
            Output::Commands(cs) => cs.clone(),
            Output::Action(_) => Vec::new(),
        })
        .collect()
}

/// The register requests the panels gave.
fn register_requests(h: &Harness<'_, App>) -> Vec<RegisterRequest> {
    h.state()
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Action(ConsoleAction::Register(r)) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn entry(id: &str, pseudonym: &str, sessions: usize) -> RegisterEntry {
    RegisterEntry {
        id: id.into(),
        pseudonym: pseudonym.into(),
        entered_on: Some("2026-11-02".into()),
        prescriber_name: "Mme Durand".into(),
        prescriber_structure: "PLIE".into(),
        archived: false,
        merged_into: None,
        has_name: false,
        notice_given_on: None,
        sessions: (0..sessions)
            .map(|i| {
                (
                    i as i64 + 1,
                    "1 décembre 2026".into(),
                    "scape_attitudes".into(),
                    "P1".into(),
                )
            })
            .collect(),
    }
}

/// The three enrolled participants held by persons of a register that also has Awa and Kevin.
fn session_with_register() -> SessionView {
    let mut view = session();
    for n in 1..=3 {
        let _ = view.engine.handle(
            Input::Command(Command::AssignPerson {
                participant: p(n),
                person: PersonId(format!("pers-{n}")),
                reason: String::new(),
            }),
            Millis(600),
        );
    }
    view.register.persons = (1..=3)
        .map(|n| entry(&format!("pers-{n}"), &format!("Pseudo {n}"), 1))
        .chain([entry("pers-awa", "Awa", 2), entry("pers-kevin", "Kevin", 0)])
        .collect();
    view
}

fn type_into(h: &mut Harness<'_, App>, label: &str, text: &str) {
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, label);
    field.focus();
    field.type_text(text);
    h.run();
}

/// A key event at physical position `physical`, typing `logical` on the user's layout.
fn key(h: &Harness<'_, App>, physical: Key, logical: Key, pressed: bool) {
    h.event(Event::Key {
        key: logical,
        physical_key: Some(physical),
        pressed,
        repeat: false,
        modifiers: Modifiers::NONE,
    });
}

fn tap(h: &mut Harness<'_, App>, physical: Key, logical: Key) {
    key(h, physical, logical, true);
    key(h, physical, logical, false);
    // One frame per event; `run` would wait out the repaint a pending modifier asks for.
    h.step();
}

fn observe(
    participant: u32,
    behaviour: &str,
    action: ObservationAction,
    modifier: Option<&str>,
) -> Command {
    Command::Observe {
        rater: RaterId::from(ME),
        participant: p(participant),
        behaviour: BehaviourId::from(behaviour),
        action,
        modifier: modifier.map(ModifierId::from),
    }
}

/// The grid's first state behaviour without modifiers: its id and egui key.
fn state_behaviour(view: &SessionView) -> (String, Key) {
    let b = view
        .engine
        .grid()
        .behaviours
        .iter()
        .find(|b| b.kind == EventKind::State && b.modifiers.is_none())
        .unwrap_or_else(|| unreachable!("the standard grid has a state behaviour"));
    (b.id.to_string(), keys::to_egui(b.key))
}

#[test]
fn clicking_go_sends_go() {
    let mut h = harness(session(), Screen::Run);
    h.run();
    h.get_by_label("GO (Espace)").click();
    h.run();
    assert_eq!(commands(&h), vec![Command::Go]);
}

#[test]
fn space_is_go_and_escape_stops_all() {
    let mut h = harness(session(), Screen::Run);
    h.run();
    tap(&mut h, Key::Space, Key::Space);
    tap(&mut h, Key::Escape, Key::Escape);
    assert_eq!(commands(&h), vec![Command::Go, Command::StopAll]);
}

#[test]
fn timer_keys_pause_and_adjust() {
    let mut h = harness(session(), Screen::Run);
    h.run();
    tap(&mut h, Key::F7, Key::F7);
    tap(&mut h, Key::F9, Key::F9);
    tap(&mut h, Key::F8, Key::F8);
    let c = commands(&h);
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(matches!(c[0], Command::PauseTimer | Command::ResumeTimer));
    assert_eq!(
        &c[1..],
        &[Command::AdjustTimer(60), Command::AdjustTimer(-60)]
    );
}

#[test]
fn behaviour_keys_bind_by_physical_position() {
    let mut h = harness(session(), Screen::Coding);
    h.run();
    // On AZERTY the digit row types symbols and the key at QWERTY's A types Q: the physical
    // position decides.
    tap(&mut h, Key::Num1, Key::Num1);
    assert_eq!(h.state().console.selected, Some(p(1)));
    tap(&mut h, Key::A, Key::Q);
    assert_eq!(
        commands(&h),
        vec![observe(1, "ana_verifie", ObservationAction::Point, None)]
    );
}

#[test]
fn clicking_a_colour_selects_the_participant() {
    let mut h = harness(session(), Screen::Coding);
    h.run();
    h.get_by_label("2 Pseudo 2").click();
    h.run();
    assert_eq!(h.state().console.selected, Some(p(2)));
}

#[test]
fn a_modifier_key_right_after_the_behaviour_qualifies_it() {
    let mut h = harness(session(), Screen::Coding);
    h.run();
    tap(&mut h, Key::Num2, Key::Num2);
    // KeyQ codes "shares information" (the key labelled A on AZERTY); KeyJ: towards a teammate.
    tap(&mut h, Key::Q, Key::A);
    assert!(commands(&h).is_empty(), "waits for a modifier");
    tap(&mut h, Key::J, Key::J);
    // Another behaviour then another key: the first goes without a modifier.
    tap(&mut h, Key::Q, Key::A);
    tap(&mut h, Key::E, Key::E);
    // Past the wait, a behaviour goes without a modifier by itself.
    tap(&mut h, Key::Q, Key::A);
    h.run_steps(9);
    assert_eq!(
        commands(&h),
        vec![
            observe(
                2,
                "com_partage",
                ObservationAction::Point,
                Some("coequipier")
            ),
            observe(2, "com_partage", ObservationAction::Point, None),
            observe(2, "com_coupe", ObservationAction::Point, None),
            observe(2, "com_partage", ObservationAction::Point, None),
        ]
    );
    assert!(h.state().console.pending.is_none());
}

#[test]
fn a_state_behaviour_starts_then_stops_on_taps() {
    let view = session();
    let (behaviour, k) = state_behaviour(&view);
    let mut h = harness(view, Screen::Coding);
    h.run();
    tap(&mut h, Key::Num1, Key::Num1);
    tap(&mut h, k, k);
    tap(&mut h, k, k);
    assert_eq!(
        commands(&h),
        vec![
            observe(1, &behaviour, ObservationAction::Start, None),
            observe(1, &behaviour, ObservationAction::Stop, None),
        ]
    );
}

#[test]
fn holding_a_state_key_codes_the_span() {
    let view = session();
    let (behaviour, k) = state_behaviour(&view);
    let mut h = harness(view, Screen::Coding);
    h.run();
    tap(&mut h, Key::Num3, Key::Num3);
    key(&h, k, k, true);
    h.step();
    h.run_steps(3); // 0.75 s of frames: a hold.
    key(&h, k, k, false);
    h.step();
    assert_eq!(
        commands(&h),
        vec![
            observe(3, &behaviour, ObservationAction::Start, None),
            observe(3, &behaviour, ObservationAction::Stop, None),
        ]
    );
    assert!(h.state().console.held.is_empty());
}

#[test]
fn backspace_undoes_and_enter_writes_a_note() {
    let mut h = harness(session(), Screen::Coding);
    h.run();
    tap(&mut h, Key::Num1, Key::Num1);
    tap(&mut h, Key::Backspace, Key::Backspace);
    tap(&mut h, Key::Enter, Key::Enter);
    assert!(
        h.state().console.drafts.note.is_some(),
        "the note field opens"
    );
    h.event(Event::Text(
        "aide Pseudo 2 sans qu'on le lui demande".into(),
    ));
    h.run();
    // Typing in the field codes nothing, even letters bound to behaviours.
    key(&h, Key::E, Key::E, true);
    key(&h, Key::E, Key::E, false);
    h.run();
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(
        commands(&h),
        vec![
            Command::Undo {
                rater: RaterId::from(ME)
            },
            Command::Note {
                rater: RaterId::from(ME),
                participant: Some(p(1)),
                text: "aide Pseudo 2 sans qu'on le lui demande".into(),
            },
        ]
    );
    assert!(h.state().console.drafts.note.is_none());
}

#[test]
fn coverage_turns_amber_then_red_and_a_code_resets_it() {
    let mut view = session();
    let t = CoverageThresholds::default();
    let at = |v: &mut SessionView, ms: u64| v.now = Millis(ms);
    at(&mut view, 1000 + 4 * 60_000);
    assert_eq!(coverage(&view, &p(1), &t).level, CoverageLevel::Fresh);
    at(&mut view, 1000 + 6 * 60_000);
    assert_eq!(coverage(&view, &p(1), &t).level, CoverageLevel::Amber);
    at(&mut view, 1000 + 11 * 60_000);
    let c = coverage(&view, &p(1), &t);
    assert_eq!(
        (c.level, c.unobserved_ms),
        (CoverageLevel::Red, 11 * 60_000)
    );
    let now = view.now;
    let _ = view.engine.handle(
        Input::Command(observe(1, "com_coupe", ObservationAction::Point, None)),
        now,
    );
    assert_eq!(coverage(&view, &p(1), &t).level, CoverageLevel::Fresh);
    assert_eq!(coverage(&view, &p(2), &t).level, CoverageLevel::Red);
    // Another rater's codes do not count for this one.
    let other = SessionView::of(view.engine.clone(), view.now, RaterId::from("console-b"));
    assert_eq!(coverage(&other, &p(1), &t).level, CoverageLevel::Red);
    // An undone code no longer counts.
    let _ = view.engine.handle(
        Input::Command(Command::Undo {
            rater: RaterId::from(ME),
        }),
        now,
    );
    assert_eq!(coverage(&view, &p(1), &t).level, CoverageLevel::Red);
    // Thresholds are configurable.
    let tight = CoverageThresholds {
        amber_ms: 60_000,
        red_ms: 120_000,
    };
    at(&mut view, 1000 + 90_000);
    assert_eq!(coverage(&view, &p(3), &tight).level, CoverageLevel::Amber);
}

#[test]
fn coverage_shows_in_the_coding_screen() {
    let mut view = session();
    view.now = Millis(1000 + 6 * 60_000);
    let mut h = harness(view, Screen::Coding);
    h.run();
    assert!(
        h.query_by_label("Pseudo 1 : pas observé·e depuis 6 min")
            .is_some()
    );
}

#[test]
fn force_solve_needs_a_reason() {
    let view = session();
    let puzzle = PuzzleId::from("p_sortie_secours");
    let mut h = harness(view, Screen::Run);
    h.run();
    let button = "Forcer la résolution de « La sortie de secours »";
    h.get_by_label(button).click();
    h.run();
    assert!(commands(&h).is_empty());
    assert!(
        h.query_by_label("Indiquez une raison avant de forcer la résolution.")
            .is_some()
    );
    h.state_mut()
        .console
        .drafts
        .force_reason
        .insert(puzzle.clone(), "  le lecteur de badge est en panne ".into());
    h.run();
    h.get_by_label(button).click();
    h.run();
    assert_eq!(
        commands(&h),
        vec![Command::ForceSolve {
            puzzle,
            reason: "le lecteur de badge est en panne".into()
        }]
    );
}

#[test]
fn an_observer_console_only_codes() {
    let mut view = session();
    view.observer = true;
    let mut h = harness(view, Screen::Run);
    h.run();
    tap(&mut h, Key::Space, Key::Space);
    tap(&mut h, Key::Escape, Key::Escape);
    h.get_by_label("GO (Espace)").click();
    h.run();
    assert!(commands(&h).is_empty(), "{:?}", commands(&h));
    tap(&mut h, Key::F5, Key::F5);
    tap(&mut h, Key::Num1, Key::Num1);
    tap(&mut h, Key::E, Key::E);
    tap(&mut h, Key::Space, Key::Space);
    assert_eq!(
        commands(&h),
        vec![observe(1, "com_coupe", ObservationAction::Point, None)]
    );
}

#[test]
fn the_end_screen_lists_open_states_closes_and_comments() {
    let mut view = session();
    let (behaviour, _) = state_behaviour(&view);
    let _ = view.engine.handle(
        Input::Command(observe(2, &behaviour, ObservationAction::Start, None)),
        Millis(1500),
    );
    let label = view
        .engine
        .grid()
        .behaviours
        .iter()
        .find(|b| b.id.as_str() == behaviour)
        .map(|b| b.label.clone())
        .unwrap_or_default();
    let mut h = harness(view, Screen::End);
    h.run();
    assert!(
        h.query_by_label(&format!("Pseudo 2 : {label} depuis 00:01 (codeur {ME})"))
            .is_some()
    );
    h.state_mut().console.drafts.comments.insert(
        p(1),
        (
            "A guidé l'équipe.".into(),
            "Cariste\n\n préparation de commandes ".into(),
        ),
    );
    h.run();
    h.get_by_label("Enregistrer le commentaire de Pseudo 1")
        .click();
    h.run();
    h.get_by_label("Clôturer la séance (ferme les événements en cours)")
        .click();
    h.run();
    assert!(h.query_by_label("Aucun événement en cours.").is_some());
    h.get_by_label("Aller à l'évaluation").click();
    h.run();
    assert_eq!(
        commands(&h),
        vec![
            Command::WriteComment {
                participant: p(1),
                comment: "A guidé l'équipe.".into(),
                recommendations: vec!["Cariste".into(), "préparation de commandes".into()],
            },
            Command::EndSession,
        ]
    );
    assert_eq!(
        h.state().console.screen,
        Screen::Evaluation,
        "the evaluation opens"
    );
}

/// The session of [`session`] with the shipped rubric, some codes for Pseudo 1, closed.
fn closed_with_codes() -> SessionView {
    let mut view = session();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let (set, _) = ContentSet::load_dir(&root);
    view.rubric = set
        .rubrics
        .iter()
        .map(|r| r.value.clone())
        .find(|r| r.id == view.engine.scenario().rubric);
    let point = view
        .engine
        .grid()
        .behaviours
        .iter()
        .find(|b| b.kind == EventKind::Point)
        .map(|b| b.id.clone())
        .unwrap_or_else(|| unreachable!("the shipped grid has point events"));
    for t in 0..6u64 {
        let _ = view.engine.handle(
            Input::Command(observe(1, point.as_str(), ObservationAction::Point, None)),
            Millis(60_000 + t * 30_000),
        );
    }
    let _ = view
        .engine
        .handle(Input::Command(Command::EndSession), Millis(600_000));
    view.now = Millis(600_000);
    view
}

#[test]
fn the_evaluation_screen_retains_levels_with_reasons_and_records_the_debrief() {
    let view = closed_with_codes();
    let rubric = view
        .rubric
        .clone()
        .unwrap_or_else(|| unreachable!("shipped"));
    let first = rubric.competencies[0].clone();
    let mut h = harness(view, Screen::Evaluation);
    h.run();
    assert!(
        h.query_by_label_contains("Évaluation : niveaux proposés")
            .is_some()
    );
    assert!(h.query_all_by_label_contains("Proposé :").count() >= 14);
    // A level other than the proposal: refused without a reason, retained with one.
    h.get_all_by_role_and_label(egui::accesskit::Role::ComboBox, "Niveau retenu")
        .next()
        .unwrap_or_else(|| unreachable!("one per competency"))
        .click();
    h.run();
    let top = format!("4 — {}", rubric.levels[3]);
    h.get_by_label(&top).click();
    h.run();
    let confirm = format!("Retenir pour « {} »", first.label);
    h.get_by_label(&confirm).click();
    h.run();
    assert!(commands(&h).is_empty(), "no reason, nothing sent");
    assert!(
        h.query_by_label("Un niveau différent de la proposition demande une raison.")
            .is_some()
    );
    let reason = h
        .get_all_by_role_and_label(egui::accesskit::Role::TextInput, "Raison")
        .next()
        .unwrap_or_else(|| unreachable!("one per competency"));
    reason.focus();
    reason.type_text("mène le groupe sans qu'on le lui demande");
    h.run();
    h.get_by_label(&confirm).click();
    h.run();
    // The debrief; the consent is asked on the synthesis, version by version.
    h.get_by_label("La restitution avec la personne a eu lieu")
        .click();
    h.run();
    assert!(
        h.query_by_label_contains("se recueille sur la synthèse elle-même")
            .is_some()
    );
    assert_eq!(
        commands(&h),
        vec![
            Command::DecideLevel {
                participant: p(1),
                competency: first.id.clone(),
                level: Some(4),
                reason: "mène le groupe sans qu'on le lui demande".into(),
            },
            Command::RecordRestitution { participant: p(1) },
        ]
    );
    assert_eq!(h.query_all_by_label_contains("Retenu : 4").count(), 1);
}

#[test]
fn the_help_overlay_lists_every_shortcut() {
    let mut h = harness(session(), Screen::Run);
    h.run();
    tap(&mut h, Key::F1, Key::F1);
    assert!(h.state().console.help_open);
    for s in Shortcut::ALL {
        assert!(
            h.query_by_label(&s.describe(Locale::Fr)).is_some(),
            "{s:?} is in the help"
        );
    }
    // The grid's keys, on both layouts.
    assert!(h.query_by_label("Q / A").is_some());
    assert!(h.query_by_label("J").is_some());
    h.event(Event::Text("?".into()));
    h.run();
    assert!(!h.state().console.help_open, "? closes it again");
}

#[test]
fn function_keys_switch_screens_and_locale() {
    let mut h = harness(session(), Screen::Prepare);
    h.run();
    for (k, s) in [
        (Key::F3, Screen::Run),
        (Key::F4, Screen::Devices),
        (Key::F5, Screen::Coding),
        (Key::F6, Screen::End),
        (Key::F2, Screen::Prepare),
    ] {
        tap(&mut h, k, k);
        assert_eq!(h.state().console.screen, s);
    }
    tap(&mut h, Key::F12, Key::F12);
    assert_eq!(h.state().console.locale, Locale::En);
    assert!(h.query_by_label("Run (F3)").is_some());
    tap(&mut h, Key::F3, Key::F3);
    h.run();
    assert!(h.query_by_label("GO (Space)").is_some());
    assert!(h.query_by_label("Stop all (Esc)").is_some());
}

#[test]
fn preparing_adds_participants_names_apart_and_devices() {
    let mut view = session();
    view.room.pairing_code = Some("482913".into());
    view.room.pairing_open_s = Some(600);
    view.room.links.push(LinkStatus {
        device: DeviceId::from("casque-1"),
        role: Role::Headset,
        rtt_ms: Some(12),
        addr: "192.168.1.20".into(),
    });
    let mut h = harness(view, Screen::Prepare);
    h.run();
    assert!(h.query_by_label("482 913").is_some());
    {
        let d = &mut h.state_mut().console.drafts;
        d.pseudonym = "Pseudo 4".into();
        d.name = "Camille Martin".into();
    }
    h.run();
    h.get_by_label("Ajouter le ou la participant·e").click();
    h.run();
    h.get_by_label("Déclarer").click();
    h.run();
    h.get_by_label("Déclarer l'appareil").click();
    h.run();
    let out = &h.state().out;
    assert!(matches!(
        &out[0],
        Output::Command(Command::AddParticipant { id, pseudonym, .. })
            if *id == p(4) && pseudonym == "Pseudo 4"
    ));
    assert_eq!(
        out[1],
        Output::Action(ConsoleAction::SetName {
            participant: p(4),
            name: "Camille Martin".into()
        })
    );
    assert!(matches!(
        &out[2],
        Output::Command(Command::RegisterDevice { device, .. }) if device.as_str() == "casque-1"
    ));
    // The name never goes into a command.
    assert!(!format!("{:?}", commands(&h)).contains("Camille"));
}

/// The pairing requests the panels gave, in order (`true`: open).
fn pairing_requests(h: &Harness<'_, App>) -> Vec<bool> {
    h.state()
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Action(ConsoleAction::PairingWindow { open }) => Some(*open),
            _ => None,
        })
        .collect()
}

#[test]
fn the_facilitator_opens_pairing_sees_the_code_large_with_its_time_and_closes_it() {
    let mut h = harness(session(), Screen::Devices);
    h.run();
    assert!(
        h.query_by_label("Appairage fermé : aucun appareil ne peut s'appairer.")
            .is_some()
    );
    assert!(h.query_by_label("Fermer l'appairage").is_none());
    h.get_by_label("Ouvrir l'appairage (10 min)").click();
    h.run();
    assert_eq!(pairing_requests(&h), [true], "asks the director to open it");

    // The director's next room status: open, its code, ten minutes left.
    {
        let room = &mut h.state_mut().view.room;
        room.pairing_code = Some("042137".into());
        room.pairing_open_s = Some(600);
    }
    h.run();
    assert!(h.query_by_label("Code à saisir sur l'appareil :").is_some());
    let code = h.get_by_label("042 137");
    assert!(
        code.rect().height() >= 60.0,
        "the code is large: {:?}",
        code.rect()
    );
    assert!(h.query_by_label("Ouvert encore 10 min").is_some());
    assert!(h.query_by_label("Ouvrir l'appairage (10 min)").is_none());
    // Rounded up to the minute, then seconds in the last minute.
    h.state_mut().view.room.pairing_open_s = Some(61);
    h.run();
    assert!(h.query_by_label("Ouvert encore 2 min").is_some());
    h.state_mut().view.room.pairing_open_s = Some(59);
    h.run();
    assert!(h.query_by_label("Ouvert encore 59 s").is_some());
    // Too many wrong codes: said, in red, with the wait.
    h.state_mut().view.room.pairing_locked_s = Some(42);
    h.run();
    assert!(
        h.query_by_label("Trop de codes erronés : appairage bloqué encore 42 s")
            .is_some()
    );
    h.get_by_label("Fermer l'appairage").click();
    h.run();
    assert_eq!(pairing_requests(&h), [true, false]);
    assert!(commands(&h).is_empty(), "nothing for the session log");

    // The same block on the preparation screen, in English too.
    h.state_mut().console.screen = Screen::Prepare;
    h.state_mut().console.locale = Locale::En;
    h.run();
    assert!(h.query_by_label("Open for 59 more s").is_some());
    h.get_by_label("Close pairing").click();
    h.run();
    assert_eq!(pairing_requests(&h), [true, false, false]);
}

#[test]
fn an_observer_console_sees_pairing_but_cannot_open_it() {
    let mut view = session();
    view.observer = true;
    let mut h = harness(view, Screen::Devices);
    h.run();
    h.get_by_label("Ouvrir l'appairage (10 min)").click();
    h.run();
    assert!(pairing_requests(&h).is_empty());
    {
        let room = &mut h.state_mut().view.room;
        room.pairing_code = Some("042137".into());
        room.pairing_open_s = Some(300);
    }
    h.run();
    assert!(h.query_by_label("042 137").is_some());
    h.get_by_label("Fermer l'appairage").click();
    h.run();
    assert!(pairing_requests(&h).is_empty());
}

#[test]
fn a_device_refused_for_its_version_is_named_with_what_to_update() {
    let mut view = session();
    view.room.outdated.push(OutdatedDevice {
        device: DeviceId::from("casque-2"),
        version: PROTOCOL_VERSION - 1,
        addr: "192.168.1.31:40211".into(),
    });
    view.room.outdated.push(OutdatedDevice {
        device: DeviceId::from("ecran-9"),
        version: PROTOCOL_VERSION + 1,
        addr: "192.168.1.32:40212".into(),
    });
    let mut h = harness(view, Screen::Prepare);
    h.run();
    assert!(
        h.query_by_label(
            "L'appareil « casque-2 » a un logiciel trop ancien et a été refusé : mettez-le à \
             jour, puis redémarrez-le."
        )
        .is_some()
    );
    assert!(
        h.query_by_label(
            "L'appareil « ecran-9 » a un logiciel plus récent que la régie et a été refusé : \
             mettez à jour la régie de cet ordinateur."
        )
        .is_some()
    );
}

#[test]
fn devices_show_link_latency_and_health() {
    let mut view = session();
    let dev = DeviceId::from("tablette-quai");
    let now = view.now;
    let _ = view.engine.handle(
        Input::Command(Command::RegisterDevice {
            device: dev.clone(),
            role: boussole_content::cue::DeviceRole::Terminal,
            station: None,
        }),
        now,
    );
    let _ = view.engine.handle(
        Input::Link {
            device: dev.clone(),
            online: true,
        },
        now,
    );
    let _ = view.engine.handle(
        Input::Device {
            device: dev.clone(),
            seq: 1,
            event: boussole_director::engine::DeviceEvent::Health(Health {
                battery_percent: Some(15),
                audio_ok: false,
                xr_flat_fallback: false,
                rtt_ms: None,
                content_in_sync: true,
            }),
        },
        now,
    );
    let _ = view.engine.handle(
        Input::Device {
            device: dev.clone(),
            seq: 2,
            event: boussole_director::engine::DeviceEvent::Problem {
                what: "son klaxon.wav corrompu".into(),
            },
        },
        now,
    );
    view.room.links.push(LinkStatus {
        device: dev,
        role: Role::Terminal,
        rtt_ms: Some(42),
        addr: "192.168.1.21".into(),
    });
    let mut h = harness(view, Screen::Devices);
    h.run();
    for label in [
        "42 ms",
        "batterie 15 %",
        "pas de son",
        "contenu à jour",
        "en ligne depuis 00:02",
        "1 problème",
        "00:02 · tablette-quai : son klaxon.wav corrompu",
    ] {
        assert!(h.query_by_label(label).is_some(), "{label}");
    }
}

#[test]
fn every_french_label_has_an_english_one() {
    i18n::check().unwrap_or_else(|e| unreachable!("the Fluent files load: {e}"));
    let ids = |l: Locale| -> Vec<String> {
        let src = i18n::source(l).unwrap_or_default();
        let mut ids: Vec<String> = src
            .lines()
            .filter(|line| !line.starts_with(['#', ' ']) && line.contains(" = "))
            .filter_map(|line| line.split(" = ").next().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    };
    let (fr, en) = (ids(Locale::Fr), ids(Locale::En));
    assert!(fr.len() > 100, "{}", fr.len());
    let missing: Vec<&String> = fr.iter().filter(|id| !en.contains(id)).collect();
    assert!(missing.is_empty(), "missing in en: {missing:?}");
    let extra: Vec<&String> = en.iter().filter(|id| !fr.contains(id)).collect();
    assert!(extra.is_empty(), "only in en: {extra:?}");
    assert_eq!(Screen::Run.title(Locale::En), "Run");
    assert_eq!(Screen::Run.title(Locale::Fr), "Jouer");
}

#[test]
fn keys_round_trip_and_grid_keys_never_shadow_shortcuts() {
    for k in keys::ALL_KEYS {
        assert_eq!(keys::from_egui(keys::to_egui(*k)), Some(*k));
    }
    let view = session();
    let grid = view.engine.grid();
    let bound = grid.behaviours.iter().map(|b| b.key).chain(
        grid.modifier_sets
            .iter()
            .flat_map(|s| s.modifiers.iter().map(|m| m.key)),
    );
    for k in bound {
        let press = keys::KeyPress {
            key: k,
            pressed: true,
            modifiers: Modifiers::NONE,
        };
        assert_eq!(Shortcut::of(&press), None, "{k:?}");
    }
    assert_eq!(keys::both_labels(PhysicalKey::KeyQ), "Q / A");
}

#[test]
fn a_running_post_wait_shows_its_cue_and_what_is_left() {
    let mut view = session();
    let titre = view
        .engine
        .scenario()
        .cues
        .iter()
        .find(|c| c.post_wait_s > 0.0 && c.pre_wait_s == 0.0)
        .map(|c| (c.id.clone(), c.name.clone(), c.post_wait_s))
        .unwrap_or_else(|| unreachable!("the scenario has a cue with a post-wait"));
    let _ = view.engine.handle(
        Input::Command(Command::Standby(titre.0.clone())),
        Millis(2000),
    );
    let _ = view
        .engine
        .handle(Input::Command(Command::Go), Millis(2000));
    view.now = Millis(2000);
    let h = harness(view, Screen::Run);
    let left = (titre.2 * 1000.0) as u64 / 1000;
    let label = format!(
        "{} : post-attente, top suivant dans {}",
        titre.1,
        boussole_console::ui::mmss_signed(i64::try_from(left * 1000).unwrap_or(0))
    );
    assert!(h.query_by_label(&label).is_some(), "no {label:?}");
    // The fired cue is ticked, the standby moved past it.
    assert!(h.query_by_label_contains("✔").is_some());
}

#[test]
fn the_tenth_participant_comes_after_the_ninth() {
    let mut view = session();
    for n in 4..=10 {
        let _ = view.engine.handle(
            Input::Command(Command::AddParticipant {
                id: p(n),
                pseudonym: format!("Pseudo {n}"),
                colour: format!("#0000{n:02}"),
            }),
            Millis(1500),
        );
    }
    let order: Vec<String> = boussole_console::ui::participants(&view)
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(
        order,
        ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10"]
    );
    // Key 0 selects the tenth, key 2 the second.
    let mut h = harness(view, Screen::Coding);
    tap(&mut h, Key::Num0, Key::Num0);
    assert_eq!(h.state().console.selected, Some(p(10)));
    tap(&mut h, Key::Num2, Key::Num2);
    assert_eq!(h.state().console.selected, Some(p(2)));
}

#[test]
fn a_headset_gets_an_immersion_from_the_list_then_starts_and_stops() {
    let mut view = session();
    let headset = DeviceId::from("casque-1");
    let now = view.now;
    let _ = view.engine.handle(
        Input::Command(Command::RegisterDevice {
            device: headset.clone(),
            role: boussole_content::cue::DeviceRole::Headset,
            station: None,
        }),
        now,
    );
    view.immersions = vec![
        ("cariste_port".into(), "Cariste au port".into()),
        ("aide_domicile".into(), "Aide à domicile".into()),
    ];
    let mut h = harness(view, Screen::Prepare);
    h.run();
    h.get_by_label("Aide à domicile").click();
    h.run();
    // The headset row lists the participants after the immersions.
    h.get_all_by_label("Pseudo 2")
        .last()
        .unwrap_or_else(|| unreachable!())
        .click();
    h.run();
    h.get_by_label("Attribuer").click();
    h.run();
    h.get_by_label("Démarrer l'immersion").click();
    h.run();
    h.get_by_label("Arrêter l'immersion (fondu vers la salle calme)")
        .click();
    h.run();
    assert_eq!(
        commands(&h),
        vec![
            Command::AssignImmersion {
                device: headset.clone(),
                immersion: "aide_domicile".into(),
                participant: p(2),
            },
            Command::StartImmersion {
                device: headset.clone()
            },
            Command::StopImmersion { device: headset },
        ]
    );
}

#[test]
fn headsets_ready_together_start_with_one_command() {
    let mut view = session();
    let now = view.now;
    let headsets = [DeviceId::from("casque-1"), DeviceId::from("casque-2")];
    for (n, headset) in headsets.iter().enumerate() {
        let _ = view.engine.handle(
            Input::Command(Command::RegisterDevice {
                device: headset.clone(),
                role: boussole_content::cue::DeviceRole::Headset,
                station: None,
            }),
            now,
        );
        let _ = view.engine.handle(
            Input::Command(Command::AssignImmersion {
                device: headset.clone(),
                immersion: "cariste_port".into(),
                participant: p(u32::try_from(n).unwrap_or(0) + 1),
            }),
            now,
        );
    }
    let mut h = harness(view, Screen::Prepare);
    h.run();
    h.get_by_label("Démarrer ensemble les 2 casques prêts")
        .click();
    h.run();
    assert_eq!(
        commands(&h),
        vec![Command::StartImmersions {
            devices: headsets.to_vec()
        }]
    );
}

#[test]
fn a_headset_is_paused_alone_and_every_paused_one_resumes_together() {
    let mut view = session();
    let now = view.now;
    let headsets = [DeviceId::from("casque-1"), DeviceId::from("casque-2")];
    for headset in &headsets {
        let _ = view.engine.handle(
            Input::Command(Command::RegisterDevice {
                device: headset.clone(),
                role: boussole_content::cue::DeviceRole::Headset,
                station: None,
            }),
            now,
        );
    }
    // casque-2 was paused already.
    let _ = view.engine.handle(
        Input::Command(Command::PauseHeadsets {
            devices: vec![headsets[1].clone()],
            paused: true,
        }),
        now,
    );
    let mut h = harness(view, Screen::Prepare);
    h.run();
    assert!(h.query_by_label("1 casque en pause").is_some());
    // « Pause » on casque-1 (casque-2 shows « Reprendre » instead).
    assert!(h.query_by_label("Reprendre").is_some());
    h.get_by_label("Pause").click();
    h.run();
    assert!(h.query_by_label("2 casques en pause").is_some());
    // Every paused one resumes with one command, then every one pauses with one.
    h.get_by_label("Tout reprendre (ensemble)").click();
    h.run();
    h.get_by_label("Mettre tous les casques en pause").click();
    h.run();
    assert_eq!(
        commands(&h),
        vec![
            Command::PauseHeadsets {
                devices: vec![headsets[0].clone()],
                paused: true,
            },
            Command::PauseHeadsets {
                devices: headsets.to_vec(),
                paused: false,
            },
            Command::PauseHeadsets {
                devices: headsets.to_vec(),
                paused: true,
            },
        ]
    );
}

#[test]
fn a_headset_in_its_tutorial_says_so_beside_the_assigned_immersion() {
    let mut view = session();
    let headset = DeviceId::from("casque-1");
    let now = view.now;
    for c in [
        Command::RegisterDevice {
            device: headset.clone(),
            role: boussole_content::cue::DeviceRole::Headset,
            station: None,
        },
        Command::AssignImmersion {
            device: headset.clone(),
            immersion: "cariste_port".into(),
            participant: p(2),
        },
        Command::StartImmersion {
            device: headset.clone(),
        },
    ] {
        let _ = view.engine.handle(Input::Command(c), now);
    }
    view.immersions = vec![
        ("cariste_port".into(), "Cariste au port".into()),
        ("tutoriel".into(), "Découvrir le casque".into()),
    ];
    let seen = |immersion: &str, seq| Input::Device {
        device: headset.clone(),
        seq,
        event: boussole_protocol::DeviceEvent::HotspotSeen {
            immersion: immersion.into(),
            hotspot: "h_viser".into(),
        },
    };
    // Started, nothing heard yet: nothing to say.
    let h = harness(view.clone(), Screen::Prepare);
    assert!(h.query_by_label("d'abord : Découvrir le casque").is_none());
    let _ = view
        .engine
        .handle(seen("tutoriel", 1), Millis(now.0 + 1_000));
    let h = harness(view.clone(), Screen::Prepare);
    assert!(h.query_by_label("d'abord : Découvrir le casque").is_some());
    // On to the port: the note goes.
    let _ = view
        .engine
        .handle(seen("cariste_port", 2), Millis(now.0 + 90_000));
    let h = harness(view, Screen::Prepare);
    assert!(h.query_by_label("d'abord : Découvrir le casque").is_none());
}

#[test]
fn enrolling_takes_a_person_from_the_register_with_the_slot() {
    let mut h = harness(session_with_register(), Screen::Prepare);
    h.run();
    // Before any search, the people not in the session yet are offered; never those in it.
    assert!(h.query_by_label_contains("Pseudo 2 · ").is_none());
    assert!(h.query_by_label_contains("Kevin").is_some());
    // Typing asks the director (names are searched there, never sent to a console) and, until
    // it answers, narrows the list by pseudonym here.
    type_into(&mut h, "Chercher (nom ou pseudonyme) :", "awa");
    assert!(
        register_requests(&h)
            .iter()
            .any(|r| matches!(r, RegisterRequest::Search { text } if text == "awa")),
        "the search goes to the director"
    );
    assert!(h.query_by_label_contains("Kevin").is_none());
    h.get_by_label_contains("Awa · entrée le 2026-11-02")
        .click();
    h.run();
    assert_eq!(
        h.state().console.drafts.pseudonym,
        "Awa",
        "the pseudonym follows"
    );
    h.get_by_label("Ajouter le ou la participant·e").click();
    h.run();
    let out: Vec<&Output> = h
        .state()
        .out
        .iter()
        .filter(|o| !matches!(o, Output::Action(_)))
        .collect();
    assert_eq!(
        out.as_slice(),
        [&Output::Commands(vec![
            Command::AddParticipant {
                id: p(4),
                pseudonym: "Awa".into(),
                colour: "#e69f00".into(),
            },
            Command::AssignPerson {
                participant: p(4),
                person: PersonId("pers-awa".into()),
                reason: String::new(),
            },
        ])],
        "the slot and its person go together; the first free colour of the palette"
    );
}

#[test]
fn the_information_notice_is_shown_for_first_comers_and_its_giving_recorded() {
    let mut view = session_with_register();
    // Pseudo 1 had it at an earlier session; Pseudo 2 and 3 come for the first time.
    view.register.persons[0].notice_given_on = Some("1 décembre 2026".into());
    let mut h = harness(view, Screen::Prepare);
    h.run();
    h.get_by_label("Notice d'information à donner (première venue) : Pseudo 2, Pseudo 3");
    h.get_by_label_contains("vous avez un pseudonyme");
    assert!(h.query_by_label("Notice donnée à Pseudo 1").is_none());
    h.get_by_label("Notice donnée à Pseudo 3").click();
    h.run();
    assert_eq!(
        register_requests(&h),
        [RegisterRequest::NoticeGiven {
            person: "pers-3".into(),
            by: String::new(),
        }],
        "the register records it, for that person only"
    );
    // Once everyone had it, a line says so and no button is left.
    let mut view = session_with_register();
    for e in &mut view.register.persons {
        e.notice_given_on = Some("7 décembre 2026".into());
    }
    let mut h = harness(view, Screen::Prepare);
    h.run();
    h.get_by_label("Notice d'information : donnée à chaque personne inscrite.");
    assert!(h.query_by_label_contains("Notice donnée à").is_none());
}

#[test]
fn a_slot_moves_to_another_person_only_with_a_reason() {
    let mut h = harness(session_with_register(), Screen::Prepare);
    h.run();
    h.get_all_by_label("Changer de personne")
        .next()
        .expect("a button per participant")
        .click();
    h.run();
    assert!(h.query_by_label_contains("Place P1 : Pseudo 1").is_some());
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Donner la place à")
        .click();
    h.run();
    // The list that opened (drawn last, over the enrolment's list below).
    h.get_all_by_label_contains("Kevin · ")
        .last()
        .expect("Kevin in the list")
        .click();
    h.run();
    // No reason yet: the confirmation does nothing.
    h.get_by_label("Changer la personne de cette place").click();
    h.run();
    assert!(commands(&h).is_empty());
    type_into(&mut h, "Raison", "erreur de saisie à l'accueil");
    h.get_by_label("Changer la personne de cette place").click();
    h.run();
    assert_eq!(
        commands(&h),
        vec![Command::AssignPerson {
            participant: p(1),
            person: PersonId("pers-kevin".into()),
            reason: "erreur de saisie à l'accueil".into(),
        }]
    );
    assert!(h.state().console.drafts.moving.is_none(), "the form closes");
}

#[test]
fn the_register_screen_adds_changes_and_merges_people() {
    let mut view = session_with_register();
    // Awa's structure is not known yet.
    if let Some(awa) = view
        .register
        .persons
        .iter_mut()
        .find(|p| p.id == "pers-awa")
    {
        awa.prescriber_structure.clear();
    }
    let mut h = harness(view, Screen::Run);
    h.run();
    tap(&mut h, Key::F11, Key::F11);
    h.run();
    assert_eq!(h.state().console.screen, Screen::People);
    assert!(h.query_by_label("Registre des personnes").is_some());
    // A new person, typed into the form.
    type_into(&mut h, "Pseudonyme", "Lila");
    type_into(&mut h, "Nom (facultatif)", "Lila Benali");
    type_into(&mut h, "Entrée en orientation (AAAA-MM-JJ)", "2026-12-01");
    type_into(&mut h, "Prescripteur (CIP)", "M. Petit");
    h.get_by_label("Ajouter au registre").click();
    h.run();
    // Find Awa, change her prescriber.
    type_into(&mut h, "Rechercher", "awa");
    assert!(
        h.query_by_label_contains("Kevin · ").is_none(),
        "filtered out"
    );
    h.get_by_label_contains("Awa · 2026-11-02").click();
    h.run();
    assert!(
        h.query_by_label("séance 2, 1 décembre 2026 (scape_attitudes) : place P1")
            .is_some()
    );
    // The second "Structure ou antenne" is the selected person's (the first is the new one's).
    let structure = h
        .get_all_by_role_and_label(egui::accesskit::Role::TextInput, "Structure ou antenne")
        .nth(1)
        .expect("the selected person's form");
    structure.focus();
    structure.type_text("PLIE, antenne de Gravelines");
    h.run();
    h.get_by_label("Enregistrer les modifications").click();
    h.run();
    // Merge Kevin into Awa: refused without a reason, sent with one.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Même personne que")
        .click();
    h.run();
    h.get_by_label_contains("Kevin · ").click();
    h.run();
    h.get_by_label("Fusionner avec cette personne").click();
    h.run();
    assert!(h.query_by_label("Une raison est demandée.").is_some());
    type_into(&mut h, "Raison", "inscrite deux fois");
    h.get_by_label("Fusionner avec cette personne").click();
    h.run();
    assert_eq!(
        register_requests(&h),
        vec![
            RegisterRequest::Create {
                pseudonym: "Lila".into(),
                name: "Lila Benali".into(),
                entered_on: "2026-12-01".into(),
                prescriber_name: "M. Petit".into(),
                prescriber_structure: String::new(),
            },
            RegisterRequest::Change {
                person: "pers-awa".into(),
                change: PersonChange::Prescriber {
                    name: "Mme Durand".into(),
                    structure: "PLIE, antenne de Gravelines".into(),
                },
            },
            RegisterRequest::Merge {
                from: "pers-kevin".into(),
                into: "pers-awa".into(),
                reason: "inscrite deux fois".into(),
            },
        ]
    );
    // Nothing of this is a session command.
    assert!(commands(&h).is_empty());
}

#[test]
fn a_first_connection_asks_for_the_pairing_code_in_the_window() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1366.0, 768.0))
        .build_ui_state(
            |ui, state: &mut (String, Vec<String>)| {
                if let Some(code) = boussole_console::ui::pairing::code_entry(
                    ui,
                    &mut state.0,
                    Some("appairage refusé : code erroné"),
                    Locale::Fr,
                ) {
                    state.1.push(code.to_string());
                }
            },
            (String::new(), Vec::new()),
        );
    h.run();
    assert!(
        h.query_by_label("Première connexion de cette console")
            .is_some()
    );
    assert!(h.query_by_label("appairage refusé : code erroné").is_some());
    // No flag, no command named: the code is typed here.
    assert!(h.query_by_label_contains("--").is_none());
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Code d'appairage");
    field.focus();
    field.type_text("31415");
    h.run();
    h.get_by_label("Appairer cette console").click();
    h.run();
    assert!(h.state().1.is_empty(), "five digits are not sent");
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Code d'appairage");
    field.focus();
    field.type_text("9");
    h.run();
    h.get_by_label("Appairer cette console").click();
    h.run();
    assert_eq!(h.state().1, ["314159"]);
}

/// The director of the day's desk requests the panels gave.
fn desk_requests(h: &Harness<'_, App>) -> Vec<boussole_director::desk::DeskRequest> {
    h.state()
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Action(ConsoleAction::Desk(r)) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_devices_screen_names_places_and_unpairs_a_device() {
    use boussole_content::cue::DeviceRole;
    use boussole_content::ids::StationId;
    use boussole_director::desk::{DeskRequest, DeskView};
    let mut view = session();
    for (device, role) in [
        ("tablette-3", DeviceRole::Terminal),
        ("tablette-4", DeviceRole::Terminal),
    ] {
        let now = view.now;
        let _ = view.engine.handle(
            Input::Command(Command::RegisterDevice {
                device: DeviceId::from(device),
                role,
                station: None,
            }),
            now,
        );
    }
    view.desk = Some(DeskView {
        device_names: [("tablette-4".to_owned(), "Tablette du fond".to_owned())].into(),
        ..DeskView::default()
    });
    let mut h = harness(view, Screen::Devices);
    h.run();
    // A name given earlier shows beside the id.
    assert!(h.query_by_label("Tablette du fond (tablette-4)").is_some());
    // Name the first tablet: typed, then « Nommer ».
    let field = h
        .get_all_by_role_and_label(egui::accesskit::Role::TextInput, "Nom :")
        .next()
        .expect("a name field per device");
    field.focus();
    field.type_text("Tablette du quai");
    h.run();
    h.get_all_by_label("Nommer")
        .next()
        .expect("a button")
        .click();
    h.run();
    assert_eq!(
        desk_requests(&h),
        [DeskRequest::NameDevice {
            device: "tablette-3".into(),
            name: "Tablette du quai".into(),
        }]
    );
    // Its station: the terminal stations of the scenario only, one click each.
    assert!(
        h.query_by_label("ecran").is_none(),
        "not a terminal's station"
    );
    h.get_all_by_label("poste_quai")
        .next()
        .expect("a station button per device")
        .click();
    h.run();
    assert!(commands(&h).contains(&Command::RegisterDevice {
        device: DeviceId::from("tablette-3"),
        role: DeviceRole::Terminal,
        station: Some(StationId::from("poste_quai")),
    }));
    // Unpairing asks for a confirmation first; cancelling sends nothing.
    h.get_all_by_label("Désappairer")
        .next()
        .expect("a button")
        .click();
    h.run();
    h.get_by_label("Annuler").click();
    h.run();
    assert_eq!(desk_requests(&h).len(), 1, "cancelled: nothing more");
    h.get_all_by_label("Désappairer")
        .nth(1)
        .expect("the second device")
        .click();
    h.run();
    h.get_by_label("Confirmer : il devra saisir un nouveau code")
        .click();
    h.run();
    assert_eq!(
        desk_requests(&h).last(),
        Some(&DeskRequest::Forget {
            device: "tablette-4".into()
        })
    );
}

#[test]
fn the_devices_screen_sets_each_devices_sound_and_cuts_the_rooms_voices() {
    use boussole_content::cue::DeviceRole;
    use boussole_director::desk::{DeskRequest, DeskView};
    use boussole_protocol::wire::{Role, SoundSettings};
    let mut view = session();
    for (device, role) in [
        ("ecran-1", DeviceRole::Screen),
        ("tablette-3", DeviceRole::Terminal),
    ] {
        let now = view.now;
        let _ = view.engine.handle(
            Input::Command(Command::RegisterDevice {
                device: DeviceId::from(device),
                role,
                station: None,
            }),
            now,
        );
    }
    view.desk = Some(DeskView::default());
    let mut h = harness(view, Screen::Devices);
    h.run();
    // The screen reads aloud by default, the tablet does not: tick it.
    let boxes: Vec<_> = h
        .get_all_by_label("Lit les textes à voix haute quand ils arrivent")
        .collect();
    assert_eq!(boxes.len(), 2, "one per screen and terminal");
    boxes[1].click();
    h.run();
    let terminal = SoundSettings::default_for(Role::Terminal);
    assert_eq!(
        desk_requests(&h),
        [DeskRequest::SetSound {
            device: "tablette-3".into(),
            settings: SoundSettings {
                read_aloud: true,
                ..terminal
            },
        }]
    );
    // Mute the room screen.
    h.get_all_by_label("Muet").next().expect("a box").click();
    h.run();
    assert_eq!(
        desk_requests(&h).last(),
        Some(&DeskRequest::SetSound {
            device: "ecran-1".into(),
            settings: SoundSettings {
                muted: true,
                ..SoundSettings::default_for(Role::Screen)
            },
        })
    );
    // « Couper les voix de la salle ».
    h.get_by_label("Couper les voix de la salle").click();
    h.run();
    assert_eq!(
        desk_requests(&h).last(),
        Some(&DeskRequest::CutVoices { cut: true })
    );
}

#[test]
fn the_run_screen_asks_whether_a_headset_guided_puzzle_comes_before_the_running_immersion() {
    use boussole_director::engine::PuzzleStatus;
    let mut view = session();
    let casque = DeviceId::from("casque_1");
    let at = |view: &SessionView| view.now;
    // Every puzzle before « Les cartons manquants » solved (forced), until it opens.
    for _ in 0..40 {
        let open = |view: &SessionView, id: &str| {
            matches!(
                view.engine.puzzles().get(&PuzzleId::from(id)),
                Some(PuzzleStatus::Open(_))
            )
        };
        if open(&view, "p_casque") {
            break;
        }
        let now = at(&view);
        let _ = view.engine.handle(Input::Command(Command::Go), now);
        let ready: Vec<_> = view
            .engine
            .puzzles()
            .iter()
            .filter(|(_, s)| matches!(s, PuzzleStatus::Open(_)))
            .map(|(id, _)| id.clone())
            .collect();
        for puzzle in ready {
            let _ = view.engine.handle(
                Input::Command(Command::ForceSolve {
                    puzzle,
                    reason: "test".into(),
                }),
                now,
            );
        }
    }
    // The headset of its seat runs an immersion.
    let now = at(&view);
    for c in [
        Command::RegisterDevice {
            device: casque.clone(),
            role: boussole_content::cue::DeviceRole::Headset,
            station: Some("casque".into()),
        },
        Command::AssignImmersion {
            device: casque.clone(),
            immersion: "cariste_port".into(),
            participant: p(1),
        },
        Command::StartImmersion {
            device: casque.clone(),
        },
    ] {
        let _ = view.engine.handle(Input::Command(c), now);
    }
    let mut h = harness(view, Screen::Run);
    h.run();
    assert!(
        h.query_by_label("casque : vue pas encore montrée")
            .is_some()
    );
    h.get_by_label("le casque joue une immersion : l'énigme s'affichera à sa fin.");
    h.get_by_label("Arrêter l'immersion et montrer l'énigme")
        .click();
    h.run();
    assert_eq!(
        commands(&h),
        vec![Command::StopImmersion { device: casque }]
    );
    // Stopped: the question is gone.
    assert!(
        h.query_by_label("Arrêter l'immersion et montrer l'énigme")
            .is_none()
    );
}

/// A two-page synthesis of « Pseudo 2 », as the director sends it.
fn synthesis_of(
    request: boussole_director::synthesis::SynthesisRequest,
) -> boussole_director::synthesis::SynthesisReply {
    use boussole_synthesis::{Person, Status, Synthesis};
    let doc = Synthesis {
        audience: request.audience,
        status: Status::Draft,
        programme: "La Boussole de l'orientation".into(),
        organisation: "PLIE".into(),
        date: "7 décembre 2026".into(),
        participant: Person {
            shown: "Pseudo 2".into(),
            pseudonym: "Pseudo 2".into(),
        },
        activities: Vec::new(),
        levels: ["À développer", "En progression", "Acquis", "Point fort"]
            .map(String::from)
            .to_vec(),
        rubric_source: "France Travail, savoir-être professionnels".into(),
        competencies: Vec::new(),
        strengths: Vec::new(),
        to_develop: Vec::new(),
        appetences: Vec::new(),
        stress_sources: Vec::new(),
        other_evaluations: Vec::new(),
        comment: (0..40)
            .map(|i| {
                format!("Paragraphe {i} du commentaire, assez long pour une seconde page.\n\n")
            })
            .collect(),
        recommendations: vec!["Stage d'observation en entrepôt".into()],
        facilitator: "Camille".into(),
        version: "0A1B2C3D".into(),
        replaces: None,
    };
    boussole_director::synthesis::SynthesisReply {
        file_name: boussole_director::synthesis::file_name(&request, "Pseudo 2", &doc.version),
        request,
        version: doc.version.clone(),
        outcome: Ok(doc),
        ledger: Vec::new(),
        prescriber: "Mme Durand, PLIE".into(),
    }
}

fn synthesis_requests(h: &Harness<'_, App>) -> Vec<boussole_director::synthesis::SynthesisRequest> {
    h.state()
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Action(ConsoleAction::Synthesis(
                boussole_director::synthesis::SynthesisAsk::Show(r),
            )) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_persons_synthesis_is_shown_page_by_page_and_saved_on_a_usb_key() {
    let key = tempfile::tempdir().expect("temp");
    std::fs::create_dir(key.path().join("Synthèses")).expect("folder");
    let mut view = session_with_register();
    view.rubric = closed_with_codes().rubric;
    let mut h = harness(view, Screen::Evaluation);
    h.state_mut().console.places = Some(vec![(
        "Clé USB « KINGSTON »".into(),
        key.path().to_path_buf(),
    )]);
    h.run();
    // From the evaluation of P1, then another person found by typing.
    h.get_by_label("Voir la synthèse de Pseudo 1").click();
    h.run();
    assert_eq!(h.state().console.screen, Screen::Synthesis);
    assert!(h.query_by_label("Pseudo 1 — 1 séance").is_some());
    type_into(&mut h, "Chercher une personne :", "pseudo 2");
    h.run();
    assert!(
        h.query_by_label("Pseudo 1 (1 séance)").is_none(),
        "filtered out"
    );
    h.get_by_label("Pseudo 2 (1 séance)").click();
    h.run();
    h.get_by_label("Version pour la personne (restitution, mots simples)")
        .click();
    h.run();
    h.get_by_label("Afficher la synthèse").click();
    // The spinner repaints until the answer comes.
    h.run_steps(2);
    let asked = synthesis_requests(&h);
    assert_eq!(
        asked,
        vec![boussole_director::synthesis::SynthesisRequest {
            person: "pers-2".into(),
            audience: boussole_synthesis::Audience::Participant,
            final_version: false,
            with_name: false,
            ticket: 1,
        }]
    );
    assert!(
        h.query_by_label("Le directeur prépare la synthèse…")
            .is_some()
    );
    // The director's answer: the window lays it out, pages one at a time.
    h.state_mut().view.synthesis = Some(synthesis_of(asked[0].clone()));
    h.run();
    let count = h
        .state()
        .console
        .synthesis
        .preview
        .as_ref()
        .map_or(0, |p| p.pages.len());
    assert!(
        h.query_by_label(&format!("Page 1 sur {count} de la synthèse"))
            .is_some(),
        "the first page's image"
    );
    assert!(h.query_by_label(&format!("Page 1 sur {count}")).is_some());
    assert!(count >= 2, "two pages or more");
    h.get_by_label("Page suivante ▶").click();
    h.run();
    assert!(h.query_by_label(&format!("Page 2 sur {count}")).is_some());
    // Saved on the key, in a folder chosen in the window.
    h.get_by_label("Enregistrer le PDF…").click();
    h.run();
    h.get_by_label("Clé USB « KINGSTON »").click();
    h.run();
    h.get_by_label("📁 Synthèses").click();
    h.run();
    h.get_by_label("Enregistrer ici").click();
    h.run();
    let file = key
        .path()
        .join("Synthèses")
        .join("synthese_pseudo-2_pers-2_brouillon_restitution.pdf");
    let pdf = std::fs::read(&file).expect("the PDF on the key");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        h.query_by_label_contains("Enregistré :").is_some(),
        "the window says where"
    );
    // A changed choice says the pages shown are not what is now asked.
    h.get_by_label("Version finale (après la restitution et l'accord de la personne)")
        .click();
    h.run();
    assert!(h.query_by_label_contains("Les choix ont changé").is_some());
    // A refusal from the director is shown in the window, in its words.
    h.get_by_label("Afficher la synthèse").click();
    // The spinner repaints until the answer comes.
    h.run_steps(2);
    let again = synthesis_requests(&h).pop().expect("asked again");
    assert_eq!(again.ticket, 2);
    assert!(again.final_version);
    h.state_mut().view.synthesis = Some(boussole_director::synthesis::SynthesisReply {
        request: again,
        outcome: Err("Pseudo 2 : pas d'accord enregistré pour transmettre la synthèse ; seul un brouillon peut être écrit".into()),
        file_name: String::new(),
        version: String::new(),
        ledger: Vec::new(),
        prescriber: String::new(),
    });
    h.run();
    assert!(
        h.query_by_label_contains("pas d'accord enregistré")
            .is_some()
    );
}

#[test]
fn the_home_screen_reminds_of_a_backup_and_makes_one_on_a_usb_key() {
    use boussole_director::desk::{DeskRequest, DeskView};
    let key = tempfile::tempdir().expect("temp");
    let mut view = session();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    view.desk = Some(DeskView {
        facilitator: "Camille".into(),
        last_backup_unix_ms: Some(now - 10 * 24 * 3600 * 1000),
        ..DeskView::default()
    });
    let mut h = harness(view, Screen::Home);
    h.state_mut().console.places = Some(vec![("Clé USB « CLE »".into(), key.path().to_path_buf())]);
    h.run();
    assert!(
        h.query_by_label("Dernière sauvegarde du journal il y a 10 jour(s).")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("Sauvegardez-le sur une clé USB")
            .is_some()
    );
    h.get_by_label("Sauvegarder le journal…").click();
    h.run();
    h.get_by_label("Clé USB « CLE »").click();
    h.run();
    h.get_by_label("Enregistrer ici").click();
    h.run();
    let asked: Vec<DeskRequest> = h
        .state()
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Action(ConsoleAction::Desk(r)) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        asked,
        vec![DeskRequest::Backup {
            folder: key.path().to_path_buf()
        }]
    );
    assert!(
        h.state().console.backup_chooser.is_none(),
        "the chooser closes"
    );
    // Backed up today: no reminder.
    if let Some(desk) = h.state_mut().view.desk.as_mut() {
        desk.last_backup_unix_ms = Some(now);
    }
    h.run();
    assert!(
        h.query_by_label("Journal sauvegardé aujourd'hui.")
            .is_some()
    );
    assert!(h.query_by_label_contains("Sauvegardez-le").is_none());
}

#[test]
fn a_person_is_erased_only_once_their_pseudonym_is_typed_and_gets_their_data_on_a_key() {
    let key = tempfile::tempdir().expect("temp");
    let mut h = harness(session_with_register(), Screen::People);
    h.state_mut().console.places = Some(vec![("Clé USB « CLE »".into(), key.path().to_path_buf())]);
    h.run();
    h.get_by_label_contains("Awa · ").click();
    h.run();
    // Not typed, or typed wrong: the button stays off.
    h.get_by_label("Effacer « Awa »").click();
    h.run();
    type_into(&mut h, "Pour confirmer, tapez « Awa » :", "Awq");
    h.run();
    h.get_by_label("Effacer « Awa »").click();
    h.run();
    assert!(register_requests(&h).is_empty(), "nothing asked");
    h.get_by_role_and_label(
        egui::accesskit::Role::TextInput,
        "Pour confirmer, tapez « Awa » :",
    )
    .focus();
    h.key_press(Key::Backspace);
    h.run();
    type_into(&mut h, "Pour confirmer, tapez « Awa » :", "a");
    h.run();
    h.get_by_label("Effacer « Awa »").click();
    h.run();
    // Their data, in a folder chosen in the window.
    h.get_by_label("Remettre ses données à la personne (document PDF et fichier)…")
        .click();
    h.run();
    h.get_by_label("Clé USB « CLE »").click();
    h.run();
    h.get_by_label("Enregistrer ici").click();
    h.run();
    assert_eq!(
        register_requests(&h),
        vec![
            RegisterRequest::Erase {
                person: "pers-awa".into(),
                confirm: "Awa".into(),
            },
            RegisterRequest::ExportData {
                person: "pers-awa".into(),
                folder: key.path().to_path_buf(),
            },
        ]
    );
}

#[test]
fn the_agreement_screen_shows_borises_kappa_and_where_the_raters_disagree() {
    use boussole_director::irr::{self, KappaMethod};
    // Two raters code the same points for Pseudo 1, but the second one a minute late once and
    // once for Pseudo 2.
    let mut view = session();
    let point = view
        .engine
        .grid()
        .behaviours
        .iter()
        .find(|b| b.kind == EventKind::Point)
        .map(|b| b.id.clone())
        .unwrap_or_else(|| unreachable!("the shipped grid has point events"));
    for t in 0..6u64 {
        let (late, who) = match t {
            1 => (30_000, 1),
            3 => (0, 2),
            _ => (0, 1),
        };
        let at = 60_000 + t * 30_000;
        let _ = view.engine.handle(
            Input::Command(observe(1, point.as_str(), ObservationAction::Point, None)),
            Millis(at),
        );
        let _ = view.engine.handle(
            Input::Command(Command::Observe {
                rater: RaterId::from("console-b"),
                participant: p(who),
                behaviour: point.clone(),
                action: ObservationAction::Point,
                modifier: None,
            }),
            Millis(at + late),
        );
    }
    let _ = view
        .engine
        .handle(Input::Command(Command::EndSession), Millis(600_000));
    view.now = Millis(600_000);
    let expected = irr::agreement(
        &view.engine,
        &RaterId::from(ME),
        &RaterId::from("console-b"),
        1.0,
        KappaMethod::Boris,
    )
    .expect("two raters");
    let mut h = harness(view, Screen::Agreement);
    h.run();
    assert!(
        h.query_by_label("Accord entre les deux observateurs")
            .is_some()
    );
    let kappa = expected
        .without_modifiers
        .kappa
        .map(|k| format!("{k:.3}").replace('.', ","))
        .expect("defined");
    assert!(
        h.query_by_label_contains(&format!("Sans les modificateurs : κ = {kappa}"))
            .is_some(),
        "BORIS's kappa, {kappa}"
    );
    // The disagreements: where rater 2 coded late, and coded Pseudo 2.
    assert!(h.query_by_label_contains("moments de désaccord").is_some());
    assert_eq!(
        h.query_all_by_label_contains("console-b : —").count(),
        2,
        "the late code and the code for Pseudo 2 leave rater 2 silent on Pseudo 1 twice"
    );
    assert_eq!(
        h.query_all_by_label_contains("console-a : —").count(),
        1,
        "and rater 1 silent on Pseudo 2 once"
    );
    // Another slice length recomputes.
    h.get_by_label("5 s").click();
    h.run();
    let at_five = irr::agreement(
        &h.state().view.engine,
        &RaterId::from(ME),
        &RaterId::from("console-b"),
        5.0,
        KappaMethod::Boris,
    )
    .expect("two raters");
    let kappa5 = at_five
        .without_modifiers
        .kappa
        .map(|k| format!("{k:.3}").replace('.', ","))
        .expect("defined");
    assert!(
        h.query_by_label_contains(&format!("Sans les modificateurs : κ = {kappa5}"))
            .is_some()
    );
    // The wash-up (this console's rater is the first; the session is closed): take rater 2's
    // code for Pseudo 2, withdraw one of ours; the agreement stays that of the close.
    h.get_by_label("Reprendre le code de console-b").click();
    h.run();
    let withdraw = h.query_all_by_label("Retirer mon code").count();
    assert_eq!(withdraw, 2);
    h.get_all_by_label("Retirer mon code")
        .next()
        .expect("a withdraw button")
        .click();
    h.run();
    let washed: Vec<Command> = commands(&h)
        .into_iter()
        .filter(|c| matches!(c, Command::AdoptCode { .. } | Command::Retract { .. }))
        .collect();
    assert_eq!(washed.len(), 2, "{washed:?}");
    assert!(matches!(&washed[0], Command::AdoptCode { rater, .. } if rater.as_str() == ME));
    let engine = &h.state().view.engine;
    let taken: Vec<_> = engine
        .observations()
        .iter()
        .filter(|o| o.consensus)
        .collect();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].rater.as_str(), ME);
    assert_eq!(taken[0].participant, Some(p(2)));
    assert_eq!(
        irr::agreement(
            engine,
            &RaterId::from(ME),
            &RaterId::from("console-b"),
            5.0,
            KappaMethod::Boris
        )
        .expect("two raters"),
        at_five,
        "the agreement is the independent codings' at the close"
    );
    assert!(h.query_by_label("mis en commun : code repris").is_some());
    assert!(h.query_by_label("mis en commun : code retiré").is_some());
}

#[test]
fn a_piece_of_evidence_opens_the_timeline_at_its_moment() {
    let view = closed_with_codes();
    let mut h = harness(view, Screen::Evaluation);
    h.run();
    // Open every competency's evidence (from the bottom: the ones above do not move), then
    // click an observation.
    let headers = h.query_all_by_label_contains(" preuve").count();
    assert!(headers > 0);
    for i in (0..headers).rev() {
        h.get_all_by_label_contains(" preuve")
            .nth(i)
            .expect("a header")
            .click();
        h.run();
    }
    let line = h
        .get_all_by_label_contains("(observation)")
        .next()
        .expect("an observation as evidence");
    line.click();
    h.run();
    assert_eq!(h.state().console.screen, Screen::Timeline);
    let focus = h.state().console.timeline.focus.map(|(t, _)| t);
    assert_eq!(focus, Some(Millis(60_000)), "the first code, at 01:00");
    assert!(
        h.query_by_label("Moment choisi dans l'évaluation : 01:00")
            .is_some()
    );
    // The codes are drawn, each naming itself: six points for Pseudo 1 by this console.
    let marks = h
        .query_all_by_label_contains("— Pseudo 1, ")
        .filter(|n| format!("{n:?}").contains(&format!("({ME})")))
        .count();
    assert_eq!(marks, 6);
    // The phases and puzzles are bands across the top.
    assert!(h.query_all_by_label_contains("ouverte à").next().is_some());
}

#[test]
fn the_lead_rater_is_named_on_the_evaluation_screen_and_logged() {
    use boussole_director::record::lead_rater;
    // A second rater who coded more than this console.
    let mut open = session();
    open.rubric = closed_with_codes().rubric;
    let point = open
        .engine
        .grid()
        .behaviours
        .iter()
        .find(|b| b.kind == EventKind::Point)
        .map(|b| b.id.clone())
        .unwrap_or_else(|| unreachable!("the shipped grid has point events"));
    for (t, rater) in [(60_000, "console-b"), (90_000, "console-b"), (120_000, ME)] {
        let _ = open.engine.handle(
            Input::Command(Command::Observe {
                rater: RaterId::from(rater),
                participant: p(1),
                behaviour: point.clone(),
                action: ObservationAction::Point,
                modifier: None,
            }),
            Millis(t),
        );
    }
    let _ = open
        .engine
        .handle(Input::Command(Command::EndSession), Millis(600_000));
    open.now = Millis(600_000);
    assert_eq!(lead_rater(&open.engine), Some(RaterId::from("console-b")));
    let mut h = harness(open, Screen::Evaluation);
    h.run();
    assert!(h.query_by_label_contains("par défaut").is_some());
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Codage retenu")
        .click();
    h.run();
    h.get_by_label(ME).click();
    h.run();
    assert_eq!(
        commands(&h),
        vec![Command::ChooseLeadRater {
            rater: RaterId::from(ME)
        }]
    );
    assert_eq!(lead_rater(&h.state().view.engine), Some(RaterId::from(ME)));
    assert!(
        h.query_by_label_contains("par défaut").is_none(),
        "named now"
    );
}

/// A closed session reviewed beside the running one: its evaluation is drawn, its commands go
/// to its own log (`ReviewCommand`), never to the hosted session; the facilitator goes back to
/// the running session, comes back to the review, and closes it.
#[test]
fn a_past_session_is_reviewed_beside_the_running_one_and_its_commands_go_to_its_log() {
    use boussole_console::view::ReviewView;
    use boussole_director::desk::DeskRequest;
    let mut view = session();
    view.rubric = closed_with_codes().rubric;
    view.review = Some(Box::new(ReviewView {
        session: 4,
        label: "Groupe du lundi".into(),
        created_at_unix_ms: 1_764_000_000_000,
        view: Box::new(closed_with_codes()),
    }));
    let mut h = harness(view, Screen::Evaluation);
    h.state_mut().console.reviewing = true;
    h.run();
    assert!(
        h.query_by_label_contains("Revue de la séance n° 4 : Groupe du lundi")
            .is_some()
    );
    // The reviewed session is closed: no warning that it is not.
    assert!(h.query_by_label_contains("pas encore close").is_none());
    h.get_by_label("La restitution avec la personne a eu lieu")
        .click();
    h.run();
    assert!(commands(&h).is_empty(), "nothing for the hosted session");
    assert_eq!(
        desk_requests(&h),
        vec![DeskRequest::ReviewCommand {
            session: 4,
            command: Command::RecordRestitution { participant: p(1) },
        }]
    );
    // The timeline and the agreement of the reviewed session, from its banner.
    h.get_by_label("Frise").click();
    h.run();
    assert_eq!(h.state().console.screen, Screen::Timeline);
    assert!(
        h.query_by_label_contains("Revue de la séance n° 4")
            .is_some()
    );
    // Back to the running session: its own evaluation, and a line to come back.
    h.get_by_label("Évaluation").click();
    h.run();
    h.get_by_label("Revenir à la séance en cours").click();
    h.run();
    assert!(!h.state().console.reviewing);
    assert!(h.query_by_label_contains("Revue de la séance").is_none());
    assert!(
        h.query_by_label("Séance n° 4 ouverte en revue : Groupe du lundi")
            .is_some()
    );
    h.get_by_label("Voir la séance revue").click();
    h.run();
    assert!(h.state().console.reviewing);
    h.get_by_label("Fermer la revue").click();
    h.run();
    assert_eq!(
        desk_requests(&h).last(),
        Some(&DeskRequest::Review { session: None })
    );
    assert!(!h.state().console.reviewing);
}

/// « Revoir » on the home screen follows a past session; « Reprendre » hosts an interrupted
/// one.
#[test]
fn review_follows_a_past_session_and_resume_hosts_an_interrupted_one() {
    use boussole_director::desk::{DeskRequest, DeskView, SessionLine};
    let line = |id: i64, label: &str| SessionLine {
        id,
        scenario: "scape_attitudes".into(),
        label: label.into(),
        created_at_unix_ms: 1_764_000_000_000,
        people: 6,
        started: true,
    };
    let mut view = session();
    view.desk = Some(DeskView {
        facilitator: "Camille".into(),
        interrupted: vec![line(2, "Coupée")],
        past: vec![line(1, "Lundi")],
        ..DeskView::default()
    });
    let mut h = harness(view, Screen::Home);
    h.run();
    h.get_by_label("Revoir").click();
    h.run();
    h.get_by_label("Reprendre").click();
    h.run();
    assert_eq!(
        desk_requests(&h),
        vec![
            DeskRequest::Review { session: Some(1) },
            DeskRequest::Open { session: 2 },
        ]
    );
}

/// The administration screen: the access log, the figures and their CSV saved on a key, and a
/// purge sent only once its list is ticked as read, naming the sessions it showed.
#[test]
fn the_administration_screen_shows_the_access_log_figures_and_a_purge_preview() {
    use boussole_console::model::DeskAnswers;
    use boussole_director::desk::{
        AccessLine, DeskRequest, DeskView, FiguresLine, PurgeLine, PurgePreview,
    };
    let key = tempfile::tempdir().expect("temp");
    let mut view = session();
    view.desk = Some(DeskView {
        facilitator: "Camille".into(),
        ..DeskView::default()
    });
    view.answers = DeskAnswers {
        access: Some(vec![AccessLine {
            at_unix_ms: 1_764_000_000_000,
            actor: "Camille".into(),
            action: "sauvegarde écrite".into(),
            session: Some(3),
            participant: None,
            detail: "/media/cle/boussole.db".into(),
        }]),
        figures: Some(vec![FiguresLine {
            period: "2026-11".into(),
            kind: "toutes activités".into(),
            sessions: 4,
            persons: "< 3".into(),
            partial: false,
            hours: "6,5 h".into(),
            person_hours: "13,0 h".into(),
        }]),
        purge: Some(PurgePreview {
            months: 12,
            cutoff_unix_ms: 1_733_000_000_000,
            sessions: vec![PurgeLine {
                id: 1,
                label: "Groupe de 2024".into(),
                created_at_unix_ms: 1_720_000_000_000,
                people: 6,
                records: 412,
            }],
            results: 0,
        }),
        roadmap: None,
        plan: None,
    };
    let mut h = harness(view, Screen::Home);
    h.state_mut().console.places = Some(vec![("Clé USB « CLE »".into(), key.path().to_path_buf())]);
    h.run();
    h.get_by_label("Journal des accès, chiffres, purge").click();
    h.run();
    assert_eq!(h.state().console.screen, Screen::Admin);
    assert_eq!(desk_requests(&h), vec![DeskRequest::AccessLog]);
    assert!(h.query_by_label("sauvegarde écrite").is_some());
    assert!(
        h.query_by_label("séance n° 3 — /media/cle/boussole.db")
            .is_some()
    );
    h.get_by_label("Chiffres des financeurs").click();
    h.run();
    assert!(h.query_by_label("< 3").is_some());
    assert!(h.query_by_label("13,0 h").is_some());
    h.get_by_label("Enregistrer les chiffres (CSV)…").click();
    h.run();
    h.get_by_label("Clé USB « CLE »").click();
    h.run();
    h.get_by_label("Enregistrer ici").click();
    h.run();
    h.get_by_label("Purge des séances anciennes").click();
    h.run();
    assert!(
        h.query_by_label_contains("Séance n° 1 : Groupe de 2024")
            .is_some()
    );
    // Not ticked: nothing sent.
    h.get_by_label("Purger cette séance").click();
    h.run();
    assert!(
        !desk_requests(&h)
            .iter()
            .any(|r| matches!(r, DeskRequest::Purge { .. }))
    );
    h.get_by_label("J'ai relu la liste").click();
    h.run();
    h.get_by_label("Purger cette séance").click();
    h.run();
    assert_eq!(
        desk_requests(&h),
        vec![
            DeskRequest::AccessLog,
            DeskRequest::Figures,
            DeskRequest::FiguresCsv {
                folder: key.path().to_path_buf()
            },
            DeskRequest::PurgePreview,
            DeskRequest::Purge { sessions: vec![1] },
            DeskRequest::PurgePreview,
        ]
    );
    assert!(!h.state().console.admin.purge_checked, "ticked once only");
}

/// « Parcours »: from a person's page, their roadmap is asked; an entry cancelled with a
/// reason, an activity prescribed by the person's prescriber today, and a DISC result typed
/// with its PDF picked on a key; each request names the person.
#[test]
fn the_roadmap_screen_prescribes_cancels_and_records_a_result_with_its_pdf() {
    use boussole_director::desk::{
        CatalogueChoice, DeskRequest, PersonRoadmap, ResultJob, RoadmapLine,
    };
    let key = tempfile::tempdir().expect("temp");
    std::fs::create_dir(key.path().join("rapports")).expect("a folder");
    let pdf = key.path().join("rapports/disc-awa.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n").expect("a file");
    std::fs::write(key.path().join("rapports/notes.txt"), b"pas un pdf").expect("a file");
    let mut h = harness(session_with_register(), Screen::People);
    h.state_mut().console.places = Some(vec![("Clé USB « CLE »".into(), key.path().to_path_buf())]);
    h.run();
    h.get_by_label_contains("Awa · ").click();
    h.run();
    h.get_by_label("Parcours et résultats de Awa…").click();
    h.run();
    assert_eq!(h.state().console.screen, Screen::Roadmap);
    assert!(
        h.query_by_label("La feuille de route arrive de la régie…")
            .is_some()
    );
    h.state_mut().view.answers.roadmap = Some(PersonRoadmap {
        person: "pers-awa".into(),
        entries: vec![RoadmapLine {
            id: 7,
            title: "Profil comportemental DISC".into(),
            status: "en attente".into(),
            open: true,
            prescribed: "prescrite par Mme Durand le 2 novembre 2026".into(),
            detail: String::new(),
        }],
        results: Vec::new(),
        catalogue: vec![
            CatalogueChoice {
                id: "scape_attitudes".into(),
                title: "S'cape attitudes".into(),
                tool: None,
                fields: Vec::new(),
            },
            CatalogueChoice {
                id: "disc".into(),
                title: "Profil comportemental DISC".into(),
                tool: Some("DISC".into()),
                fields: vec![
                    ("d".into(), "Dominance".into(), "0 à 100 / 100".into()),
                    ("profil".into(), "Profil".into(), "texte".into()),
                ],
            },
        ],
    });
    h.run();
    assert!(h.query_by_label("Parcours de Awa").is_some());
    // The entry cancelled: refused without a reason, sent with one.
    h.get_by_label("Interrompre ou annuler le n° 7…").click();
    h.run();
    h.get_by_label("Annulée").click();
    h.run();
    type_into(&mut h, "Raison", "a trouvé un emploi");
    h.get_by_label("Annulée").click();
    h.run();
    // An activity prescribed (by the person's prescriber, today: already filled in).
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Activité :")
        .click();
    h.run();
    h.get_by_label("S'cape attitudes").click();
    h.run();
    h.get_by_label("Prescrire").click();
    h.run();
    // A DISC result with its PDF.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Évaluation faite avec :")
        .click();
    h.run();
    h.get_all_by_label("Profil comportemental DISC")
        .last()
        .expect("the tool in the list")
        .click();
    h.run();
    type_into(&mut h, "Dominance (0 à 100 / 100)", "62");
    type_into(&mut h, "Profil (texte)", "Meneur");
    type_into(&mut h, "Fait passer par :", "Mme Durand");
    h.get_by_label("Joindre le rapport PDF…").click();
    h.run();
    h.get_by_label("Clé USB « CLE »").click();
    h.run();
    h.get_by_label("📁 rapports").click();
    h.run();
    assert!(h.query_by_label("📄 notes.txt").is_none(), "PDFs only");
    h.get_by_label("📄 disc-awa.pdf").click();
    h.run();
    assert!(h.query_by_label("Rapport joint : disc-awa.pdf").is_some());
    h.get_by_label("Enregistrer le résultat").click();
    h.run();
    let today = boussole_console::ui::roadmap::today();
    assert_eq!(
        desk_requests(&h),
        vec![
            DeskRequest::Roadmap {
                person: "pers-awa".into()
            },
            DeskRequest::SetEntryStatus {
                person: "pers-awa".into(),
                entry: 7,
                cancel: true,
                reason: "a trouvé un emploi".into(),
            },
            DeskRequest::Prescribe {
                person: "pers-awa".into(),
                activity: "scape_attitudes".into(),
                by: "Mme Durand".into(),
                on: today.clone(),
            },
            DeskRequest::RecordResult(ResultJob {
                person: "pers-awa".into(),
                activity: "disc".into(),
                taken_on: today,
                by: "Mme Durand".into(),
                fields: vec![
                    ("d".into(), "62".into()),
                    ("profil".into(), "Meneur".into())
                ],
                pdf: Some(pdf),
            }),
        ]
    );
}

/// « Planning »: from home, the plan is asked; the coming sessions with who is invited and who
/// waits are shown; a series of a recurring activity is planned from the form (its usual
/// length filled in), and the calendar exported on a key.
#[test]
fn the_plan_screen_shows_who_is_invited_and_plans_a_series() {
    use boussole_director::desk::{
        DeskRequest, DeskView, PlanActivity, PlanLine, PlanView, WaitingLine,
    };
    let key = tempfile::tempdir().expect("temp");
    let mut view = session();
    view.desk = Some(DeskView {
        facilitator: "Camille".into(),
        ..DeskView::default()
    });
    let mut h = harness(view, Screen::Home);
    h.state_mut().console.places = Some(vec![("Clé USB « CLE »".into(), key.path().to_path_buf())]);
    h.run();
    h.get_by_label("Planning des séances").click();
    h.run();
    assert_eq!(h.state().console.screen, Screen::Plan);
    h.state_mut().view.answers.plan = Some(PlanView {
        coming: vec![PlanLine {
            id: 4,
            title: "S'cape attitudes".into(),
            when: "mercredi 6 janvier 2027 à 14 h 00".into(),
            minutes: 120,
            place: "Salle 2".into(),
            series: Some(1),
            invited: vec![("Renard".into(), "planifiée".into())],
        }],
        waiting: vec![WaitingLine {
            title: "Vidéothèque des métiers".into(),
            people: vec!["Mouette".into()],
            opens_at: Some(6),
        }],
        activities: vec![
            PlanActivity {
                id: "disc".into(),
                title: "Profil comportemental DISC".into(),
                minutes: 45,
                every_weeks: None,
            },
            PlanActivity {
                id: "scape_attitudes".into(),
                title: "S'cape attitudes".into(),
                minutes: 120,
                every_weeks: Some(2),
            },
        ],
    });
    h.run();
    assert!(h.query_by_label("Invités : Renard (planifiée)").is_some());
    assert!(
        h.query_by_label("Vidéothèque des métiers : 1 personne attend : Mouette")
            .is_some()
    );
    assert!(
        h.query_by_label("S'ouvre quand 6 personnes attendent.")
            .is_some()
    );
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Activité :")
        .click();
    h.run();
    h.get_all_by_label("S'cape attitudes")
        .last()
        .expect("in the list")
        .click();
    h.run();
    type_into(&mut h, "Lieu :", "Salle 2");
    let count = h.get_by_role_and_label(
        egui::accesskit::Role::TextInput,
        "Nombre de séances (toutes les 2 semaines) :",
    );
    count.focus();
    h.key_press(Key::Backspace);
    h.run();
    type_into(&mut h, "Nombre de séances (toutes les 2 semaines) :", "3");
    h.get_by_label("Planifier").click();
    h.run();
    h.get_by_label("Exporter l'agenda (.ics)…").click();
    h.run();
    h.get_by_label("Clé USB « CLE »").click();
    h.run();
    h.get_by_label("Enregistrer ici").click();
    h.run();
    // A coming session cancelled: not without a reason.
    h.get_by_label("Annuler la séance n° 4…").click();
    h.run();
    h.get_by_label("Annuler cette séance").click();
    h.run();
    type_into(&mut h, "Raison", "salle indisponible");
    h.get_by_label("Annuler cette séance").click();
    h.run();
    let today = boussole_console::ui::roadmap::today();
    assert_eq!(
        desk_requests(&h),
        vec![
            DeskRequest::Plan,
            DeskRequest::PlanAdd {
                activity: "scape_attitudes".into(),
                starts: format!("{today}T14:00"),
                minutes: Some(120),
                place: "Salle 2".into(),
                count: Some(3),
            },
            DeskRequest::PlanIcs {
                folder: key.path().to_path_buf()
            },
            DeskRequest::PlanCancel {
                planned: 4,
                reason: "salle indisponible".into(),
            },
        ]
    );
}

/// Today's planned session opened from home with the people who came: everyone invited is
/// ticked; one unticked is sent as absent (not enrolled, back on the waiting list at the close).
#[test]
fn a_planned_session_opens_with_the_people_who_came() {
    use boussole_director::desk::{DeskRequest, DeskView, PlannedLine};
    let mut view = session();
    view.desk = Some(DeskView {
        facilitator: "Camille".into(),
        today: vec![PlannedLine {
            planned: 9,
            activity: "scape_attitudes".into(),
            title: "S'cape attitudes".into(),
            starts_at_unix_ms: 1_796_135_400_000,
            minutes: 120,
            place: "Salle 2".into(),
            invited: 2,
            people: vec![
                ("pers-renard".into(), "Renard".into()),
                ("pers-mouette".into(), "Mouette".into()),
            ],
            session: None,
            director: true,
        }],
        ..DeskView::default()
    });
    let mut h = harness(view, Screen::Home);
    h.run();
    h.get_by_label("Mouette").click();
    h.run();
    h.get_by_label("Ouvrir cette séance").click();
    h.run();
    assert_eq!(
        desk_requests(&h),
        vec![DeskRequest::FromPlan {
            planned: 9,
            absent: vec!["pers-mouette".into()],
        }]
    );
}

/// The run screen says where each cue plays: the devices of its targets by the names given to
/// them, and a target that no device serves, flagged.
#[test]
fn the_cue_list_names_the_devices_each_cue_plays_on() {
    use boussole_director::desk::DeskView;
    let mut view = session();
    let _ = view.engine.handle(
        Input::Command(Command::RegisterDevice {
            device: DeviceId::from("ecran-1"),
            role: boussole_content::cue::DeviceRole::Screen,
            station: None,
        }),
        Millis(1500),
    );
    let mut names = std::collections::BTreeMap::new();
    names.insert("ecran-1".to_owned(), "Écran du quai".to_owned());
    view.desk = Some(DeskView {
        device_names: names,
        ..DeskView::default()
    });
    let mut h = harness(view, Screen::Run);
    h.run();
    assert!(h.query_by_label("Où").is_some());
    assert!(
        h.query_all_by_label("Écran du quai").count() >= 2,
        "screen cues"
    );
    assert!(
        h.query_all_by_label("Écran du quai ; terminal : aucun appareil")
            .count()
            >= 1,
        "a cue for the screens and the terminals, with no terminal"
    );
}

/// A review follows a connection: the model folds the reviewed session's log beside the hosted
/// one's, drops it when the connection is renewed and asks for it again, once; a review closed
/// by the director is not asked again.
#[test]
fn a_review_is_asked_again_after_a_reconnection() {
    use boussole_console::link::LinkEvent;
    use boussole_console::model::ConsoleModel;
    use boussole_director::desk::{DeskAnswer, ReviewFeed};
    use boussole_protocol::wire::LogEntry;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let (set, _) = ContentSet::load_dir(&root);
    let mut model = ConsoleModel::new(set, RaterId::from(ME), false);
    let entry = |seq: u64, c: Command| LogEntry {
        seq,
        at_ms: seq * 1000,
        input: postcard::to_allocvec(&Input::Command(c)).expect("encodes"),
    };
    let opened = |entries| {
        LinkEvent::DeskAnswer(Box::new(DeskAnswer::Review(ReviewFeed::Opened {
            session: 3,
            scenario: "scape_attitudes".into(),
            label: "Lundi".into(),
            created_at_unix_ms: 1_764_000_000_000,
            entries,
        })))
    };
    model.apply(opened(vec![
        entry(
            1,
            Command::AddParticipant {
                id: p(1),
                pseudonym: "Renard".into(),
                colour: "#e69f00".into(),
            },
        ),
        entry(2, Command::EndSession),
    ]));
    let review = model.review().expect("followed");
    assert_eq!(review.session, 3);
    assert!(review.view.engine.is_closed());
    assert_eq!(review.view.engine.participants().len(), 1);
    model.apply(LinkEvent::DeskAnswer(Box::new(DeskAnswer::Review(
        ReviewFeed::Appended {
            session: 3,
            entries: vec![entry(3, Command::RecordRestitution { participant: p(1) })],
        },
    ))));
    assert!(
        model.review().expect("followed").view.engine.debriefs()[&p(1)]
            .restitution
            .is_some()
    );
    model.apply(LinkEvent::Welcome {
        director_name: "Régie".into(),
        content_in_sync: true,
    });
    assert!(
        model.review().is_none(),
        "the old connection's copy is gone"
    );
    assert_eq!(model.review_to_ask_again(), Some(3));
    assert_eq!(model.review_to_ask_again(), None, "once");
    model.apply(opened(Vec::new()));
    model.apply(LinkEvent::DeskAnswer(Box::new(DeskAnswer::Review(
        ReviewFeed::Closed,
    ))));
    model.apply(LinkEvent::Welcome {
        director_name: "Régie".into(),
        content_in_sync: true,
    });
    assert_eq!(model.review_to_ask_again(), None, "closed by the director");
}

/// A head pose looking at (yaw, pitch) degrees, the headset's convention (yaw clockwise from
/// the front, seen from above), built as the headset builds it: yaw about Y, then pitch about X.
fn pose_looking(yaw_deg: f32, pitch_deg: f32, device_ms: u64) -> boussole_protocol::wire::Pose {
    let (hy, hp) = ((-yaw_deg).to_radians() / 2.0, pitch_deg.to_radians() / 2.0);
    let ([ax, ay, az, aw], [bx, by, bz, bw]) = (
        [0.0, hy.sin(), 0.0, hy.cos()],
        [hp.sin(), 0.0, 0.0, hp.cos()],
    );
    boussole_protocol::wire::Pose {
        device_ms,
        position_m: [0.0, 1.6, 0.0],
        orientation: [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        pointer: None,
        shows: None,
    }
}

/// The devices screen shows what each streaming headset's wearer is doing and looking at: the
/// hotspot in front of one, the heading of the other; a click enlarges a picture; ignored
/// poses are counted; a pose several seconds old says so.
#[test]
fn the_spectator_panel_says_what_each_headset_looks_at() {
    use boussole_console::spectator::{Backdrop, Place, Sight, Sights, Spot};
    use boussole_protocol::wire::{HeadsetPose, HeadsetPoses};
    let mut view = session();
    let now = view.now;
    let headsets = [DeviceId::from("casque-1"), DeviceId::from("casque-2")];
    for headset in &headsets {
        let _ = view.engine.handle(
            Input::Command(Command::RegisterDevice {
                device: headset.clone(),
                role: boussole_content::cue::DeviceRole::Headset,
                station: None,
            }),
            now,
        );
    }
    for (headset, started) in [(&headsets[0], true), (&headsets[1], false)] {
        let _ = view.engine.handle(
            Input::Command(Command::AssignImmersion {
                device: headset.clone(),
                immersion: "visite".into(),
                participant: p(1),
            }),
            now,
        );
        if started {
            let _ = view.engine.handle(
                Input::Command(Command::StartImmersion {
                    device: headset.clone(),
                }),
                now,
            );
        }
    }
    let spot = |id: &str, title: &str, yaw: f32| Spot {
        id: id.into(),
        title: title.into(),
        at: [yaw, -8.0, 0.0],
    };
    view.sights = std::sync::Arc::new(Sights(
        [(
            "visite".into(),
            Sight {
                title: "Cariste au port".into(),
                place: Place::Film,
                backdrop: Backdrop::Film {
                    poster: "films/visite.png".into(),
                },
                spots: vec![
                    spot("h_chariot", "Le chariot élévateur", -40.0),
                    spot("h_gyrophare", "Le gyrophare", 0.0),
                    spot("h_navire", "Le navire", 40.0),
                ],
            },
        )]
        .into(),
    ));
    // Later in the session: casque-2's last pose is 5 s old.
    view.now = Millis(view.now.0 + 6_000);
    view.poses = HeadsetPoses {
        poses: vec![
            HeadsetPose {
                device: headsets[0].clone(),
                pose: boussole_protocol::wire::Pose {
                    shows: Some(boussole_protocol::wire::Shows {
                        doing: boussole_protocol::wire::Doing::Hotspot,
                        board: "Le navire — Un porte-conteneurs à quai.".into(),
                    }),
                    ..pose_looking(38.0, -5.0, 10)
                },
                received_ms: view.now.0,
            },
            HeadsetPose {
                device: headsets[1].clone(),
                pose: pose_looking(180.0, 0.0, 10),
                received_ms: view.now.0.saturating_sub(5_000),
            },
        ],
        ignored: 3,
    };
    let mut h = harness(view, Screen::Devices);
    h.run();
    assert!(h.query_by_label("Ce que regardent les casques").is_some());
    assert!(h.query_by_label("Regarde : Le navire").is_some());
    let away = h
        .query_by_label_contains("Regarde ailleurs (cap ")
        .and_then(|n| {
            n.accesskit_node()
                .label()
                .or_else(|| n.accesskit_node().value())
        })
        .unwrap_or_default();
    let all: Vec<String> = h
        .query_all_by_label_contains("Regarde")
        .filter_map(|n| {
            n.accesskit_node()
                .label()
                .or_else(|| n.accesskit_node().value())
        })
        .collect();
    assert!(
        away.contains("180°") && away.contains("0° en hauteur"),
        "{away} {all:?}"
    );
    assert!(
        h.query_by_label("Pseudo 1 — Cariste au port — en cours")
            .is_some()
    );
    assert!(
        h.query_by_label("Pseudo 1 — Cariste au port — pas encore commencée")
            .is_some()
    );
    assert!(
        h.query_by_label("Dernière position reçue il y a 5 s")
            .is_some()
    );
    assert!(h.query_by_label_contains("3 positions ignorées").is_some());
    // What casque-1 shows, as it says in its pose; casque-2 (an older build) says nothing.
    assert!(h.query_by_label("Écoute un point d'intérêt").is_some());
    assert!(
        h.query_by_label("Au tableau : « Le navire — Un porte-conteneurs à quai. »")
            .is_some()
    );
    assert_eq!(h.query_all_by_label_contains("Au tableau").count(), 1);
    // The panel asks the window's renderer for both pictures, small, on the film's poster.
    let wanted = &h.state().console.spectator_wanted;
    assert_eq!(
        wanted.iter().map(|w| w.device.as_str()).collect::<Vec<_>>(),
        ["casque-1", "casque-2"]
    );
    assert!(wanted.iter().all(|w| !w.large
        && w.backdrop
            == Backdrop::Film {
                poster: "films/visite.png".into()
            }));
    assert!(h.query_by_label_contains("à tour de rôle").is_none());
    h.get_by_label("Vue de casque-2").click();
    h.run();
    assert_eq!(
        h.state().console.spectator_large.as_deref(),
        Some("casque-2")
    );
    h.get_by_label("Vue de casque-2").click();
    h.run();
    assert_eq!(h.state().console.spectator_large, None);
    // Once the renderer has drawn casque-1's picture, it is shown instead of the panorama,
    // and enlarged it comes with the panorama beside it; more headsets than the renderer
    // draws per frame is said on screen.
    h.state_mut().console.spectator_pictures.textures =
        [("casque-1".to_owned(), egui::TextureId::User(7))].into();
    h.state_mut().console.spectator_pictures.slowed = Some(6);
    h.run();
    assert!(
        h.query_by_label_contains("6 casques suivis : les vues se redessinent à tour de rôle")
            .is_some()
    );
    h.get_by_label("Vue de casque-1").click();
    h.run();
    let wanted = &h.state().console.spectator_wanted;
    assert!(wanted.iter().any(|w| w.device == "casque-1" && w.large));
}

/// The delivery view: after a GO clicked on the run screen, the fired cue says on which of its
/// devices it started and how late, which only received it, and which never did; the lead of
/// scheduled starts is said above.
#[test]
fn the_run_screen_shows_which_devices_started_a_fired_cue_and_how_late() {
    use boussole_content::cue::{CueKind, DeviceRole, Target};
    use boussole_director::engine::DeviceEvent;
    let mut view = session();
    for d in ["ecran-1", "ecran-2", "ecran-3"] {
        let _ = view.engine.handle(
            Input::Command(Command::RegisterDevice {
                device: DeviceId::from(d),
                role: DeviceRole::Screen,
                station: None,
            }),
            Millis(1500),
        );
    }
    let _ = view.engine.handle(
        Input::Command(Command::SetCueLead { ms: 120 }),
        Millis(1500),
    );
    let cue = view
        .engine
        .scenario()
        .cues
        .iter()
        .find(|c| {
            c.targets == [Target::Role(DeviceRole::Screen)]
                && matches!(c.kind, CueKind::Text { .. } | CueKind::Sound { .. })
        })
        .cloned()
        .expect("a screen cue in the shipped scenario");
    let _ = view.engine.handle(
        Input::Command(Command::Standby(cue.id.clone())),
        Millis(1500),
    );
    let mut h = harness(view, Screen::Run);
    h.run();
    assert!(
        h.query_by_label(
            "Départs programmés 120 ms après le top, pour que chaque appareil démarre en même \
             temps (d'après les liaisons)."
        )
        .is_some()
    );
    assert!(
        h.query_by_label("Aucun top lancé pour l'instant.")
            .is_some()
    );
    h.get_by_label("GO (Espace)").click();
    h.run();
    let instance = {
        let engine = &h.state().view.engine;
        let d = engine.deliveries();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].start_at, Millis(2120), "GO at 2 s, lead 120 ms");
        d[0].instance
    };
    let engine = &mut h.state_mut().view.engine;
    let mut event = |device: &str, seq, event| {
        let _ = engine.handle(
            Input::Device {
                device: DeviceId::from(device),
                seq,
                event,
            },
            Millis(2050),
        );
    };
    for d in ["ecran-1", "ecran-2"] {
        event(
            d,
            1,
            DeviceEvent::CueApplied {
                instance,
                device_ms: 0,
            },
        );
    }
    event(
        "ecran-1",
        2,
        DeviceEvent::CueStarted {
            instance,
            late_ms: 3,
        },
    );
    h.run();
    let head = format!(
        "{} (départ à 00:02) : démarré sur 1 appareil(s) sur 3 —",
        cue.name
    );
    assert!(h.query_by_label(&head).is_some(), "{head}");
    for line in [
        "ecran-1 : démarré (+3 ms)",
        "ecran-2 : reçu, pas encore démarré",
        "ecran-3 : pas reçu",
    ] {
        assert!(h.query_by_label(line).is_some(), "{line}");
    }
}
