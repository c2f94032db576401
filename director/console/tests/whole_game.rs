//! A whole game of S'cape attitudes where every facilitator command comes out of the console's
//! panels — key presses by physical position, clicks on buttons, text typed into fields — and
//! the devices are simulated by the script's own device events. Each command the panels give is
//! checked against the demo script's, then logged by a real session; at the end the log equals,
//! record for record, the one `boussole-director run --script` writes for the same script.
//!
//! Two consoles take part, as in the script: the facilitator's (`console`) and the second
//! rater's (`observateur`, read-only: it only codes).
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot drive the panels fails loudly, naming the step"
)]

use boussole_console::ui::keys::{PARTICIPANT_KEYS, to_egui};
use boussole_console::ui::{ConsoleAction, ConsoleState, Output, Screen, console, participants};
use boussole_console::view::SessionView;
use boussole_content::ContentSet;
use boussole_content::grid::PhysicalKey;
use boussole_director::engine::{Command, Input, Millis, PersonId, RaterId};
use boussole_director::script::{self, Script};
use boussole_director::session::Session;
use boussole_director::store::Store;
use egui::{Event, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};

const PASS: &str = "phrase de test de la console";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn content() -> ContentSet {
    let (set, problems) = ContentSet::load_dir(&repo().join("content"));
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn demo() -> Script {
    let path = repo().join("director/scripts/demo_scape_attitudes.ron");
    let text = std::fs::read_to_string(&path).expect("the demo script");
    script::parse(&text).expect("the demo script parses")
}

/// The scripted run: `boussole-director run --script`'s own function, into a fresh store.
fn scripted_log(dir: &Path, set: &ContentSet, s: &Script) -> Vec<(u64, String, Vec<u8>)> {
    let store = Store::open(&dir.join("scripted.db"), PASS).expect("store");
    let mut session = Session::create(store, set, &s.scenario, &s.label, 0).expect("session");
    let refused = script::run(&mut session, s).expect("the script plays");
    assert!(
        refused.is_empty(),
        "the demo fits its scenario: {refused:?}"
    );
    records(&session)
}

/// The log, record by record. A person of the register is random by design, so each
/// `AssignPerson` names its person by the register's pseudonym instead of its id: the console
/// and the script must give each slot the person of the same name.
fn records(session: &Session) -> Vec<(u64, String, Vec<u8>)> {
    session
        .store()
        .log(session.id())
        .expect("the log")
        .into_iter()
        .map(|r| {
            let payload = match postcard::from_bytes::<Input>(&r.payload) {
                Ok(Input::Command(Command::AssignPerson {
                    participant,
                    person,
                    reason,
                })) => {
                    let pseudonym = session
                        .store()
                        .person(person.as_str())
                        .expect("the register")
                        .expect("a person of the register")
                        .pseudonym;
                    postcard::to_allocvec(&Input::Command(Command::AssignPerson {
                        participant,
                        person: PersonId(pseudonym),
                        reason,
                    }))
                    .expect("encodes")
                }
                _ => r.payload,
            };
            (r.at_ms, r.kind, payload)
        })
        .collect()
}

/// One console's panels over the session as it stands at `at`.
struct Panels {
    view: SessionView,
    state: ConsoleState,
    out: Vec<Output>,
}

fn harness(session: &Session, at: Millis, rater: &str, screen: Screen) -> Harness<'static, Panels> {
    let mut engine = session.engine().clone();
    if at > engine.now() {
        let _ = engine.advance(at);
    }
    let mut view = SessionView::of(engine, at, RaterId(rater.into()));
    view.observer = rater != "console";
    let panels = Panels {
        view,
        state: ConsoleState {
            screen,
            ..ConsoleState::default()
        },
        out: Vec::new(),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 8000.0))
        .build_ui_state(
            |ui, p: &mut Panels| {
                let out = console(ui, &p.view, &mut p.state);
                p.out.extend(out);
            },
            panels,
        );
    h.run();
    h
}

fn tap(h: &mut Harness<'_, Panels>, key: PhysicalKey) {
    let k = to_egui(key);
    for pressed in [true, false] {
        h.event(Event::Key {
            key: k,
            physical_key: Some(k),
            pressed,
            repeat: false,
            modifiers: Modifiers::NONE,
        });
    }
    h.step();
}

fn click(h: &mut Harness<'_, Panels>, label: &str) {
    h.get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no {label:?} on screen"))
        .click();
    h.run();
}

/// Clicks into the field labelled `label` and types `text`.
fn type_into(h: &mut Harness<'_, Panels>, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.run();
    h.event(Event::Text(text.into()));
    h.run();
}

fn digit_of(h: &Harness<'_, Panels>, participant: &str) -> PhysicalKey {
    let i = participants(&h.state().view)
        .iter()
        .position(|(id, _)| id.as_str() == participant)
        .unwrap_or_else(|| panic!("{participant} is not enrolled"));
    PARTICIPANT_KEYS[i]
}

/// What the panels gave, commands only (names, evaluation and quitting are the shell's).
fn commands(h: &Harness<'_, Panels>) -> Vec<Command> {
    h.state()
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Command(c) => Some(c.clone()),
            Output::Commands(_) | Output::Action(_) => None,
        })
        .collect()
}

/// Drives the panels to give `wanted`; returns what they gave and the shell actions.
fn drive(
    session: &Session,
    at: Millis,
    wanted: &Command,
    names: &[(String, Option<String>)],
) -> (Vec<Command>, Vec<ConsoleAction>) {
    let grid = session.engine().grid().clone();
    let scenario = session.engine().scenario().clone();
    let mut h = match wanted {
        Command::AddParticipant {
            id,
            pseudonym,
            colour,
        } => {
            let mut h = harness(session, at, "console", Screen::Prepare);
            {
                let d = &mut h.state_mut().state.drafts;
                d.pseudonym = pseudonym.clone();
                d.colour = colour.clone();
                if let Some((_, Some(name))) = names.iter().find(|(p, _)| p == id.as_str()) {
                    d.name = name.clone();
                }
            }
            h.run();
            click(&mut h, "Ajouter le ou la participant·e");
            h
        }
        Command::AssignStation {
            participant,
            station: Some(station),
        } => {
            let mut h = harness(session, at, "console", Screen::Prepare);
            // Each participant's station list, in enrolment order.
            let i = participants(&h.state().view)
                .iter()
                .position(|(id, _)| *id == participant)
                .expect("enrolled");
            h.get_all_by_role(egui::accesskit::Role::ComboBox)
                .nth(i)
                .expect("a station list per participant")
                .click();
            h.run();
            let s = scenario
                .stations
                .iter()
                .find(|s| s.id == *station)
                .expect("a station of the scenario");
            click(&mut h, &format!("{} ({})", s.id, s.label));
            h
        }
        Command::RegisterDevice {
            device,
            role,
            station,
        } => {
            let mut h = harness(session, at, "console", Screen::Prepare);
            type_into(&mut h, "Identifiant", device.as_str());
            click(&mut h, role.label_fr());
            if let Some(s) = station {
                // The station row comes after the role row (a station may share a role's
                // name, as `casque` does).
                h.get_all_by_label(s.as_str())
                    .last()
                    .unwrap_or_else(|| panic!("no station {s} offered"))
                    .click();
                h.run();
            }
            click(&mut h, "Déclarer l'appareil");
            h
        }
        Command::StartGame => {
            let mut h = harness(session, at, "console", Screen::Run);
            tap(&mut h, PhysicalKey::F10);
            h
        }
        Command::Go => {
            let mut h = harness(session, at, "console", Screen::Run);
            tap(&mut h, PhysicalKey::Space);
            h
        }
        Command::SendHint {
            puzzle,
            participant,
            station: None,
            level: None,
        } => {
            let mut h = harness(session, at, "console", Screen::Run);
            let title = scenario
                .puzzles
                .iter()
                .find(|p| p.id == *puzzle)
                .map(|p| p.title.fr.clone())
                .expect("a puzzle of the scenario");
            click(&mut h, &title);
            if let Some(p) = participant {
                let pseudonym = session.engine().participants()[p].pseudonym.clone();
                click(&mut h, &format!("→ {pseudonym}"));
            }
            click(&mut h, "Envoyer l'indice suivant (Ctrl+H)");
            h
        }
        Command::Observe {
            rater,
            participant,
            behaviour,
            modifier,
            ..
        } => {
            let mut h = harness(session, at, &rater.0, Screen::Coding);
            let digit = digit_of(&h, participant.as_str());
            tap(&mut h, digit);
            let b = grid
                .behaviours
                .iter()
                .find(|b| b.id == *behaviour)
                .expect("a behaviour of the grid");
            tap(&mut h, b.key);
            match (modifier, &b.modifiers) {
                (Some(m), Some(set)) => {
                    let key = grid
                        .modifier_sets
                        .iter()
                        .find(|s| s.id == *set)
                        .and_then(|s| s.modifiers.iter().find(|x| x.id == *m))
                        .map(|x| x.key)
                        .expect("a modifier of the behaviour's set");
                    tap(&mut h, key);
                }
                // No modifier given: the console sends it bare once the wait is over.
                (None, Some(_)) => h.run_steps(12),
                _ => {}
            }
            h
        }
        Command::Note {
            rater,
            participant,
            text,
        } => {
            let mut h = harness(session, at, &rater.0, Screen::Coding);
            match participant {
                Some(p) => {
                    let digit = digit_of(&h, p.as_str());
                    tap(&mut h, digit);
                }
                None => tap(&mut h, PhysicalKey::Backquote),
            }
            tap(&mut h, PhysicalKey::Enter);
            h.event(Event::Text(text.clone()));
            h.run();
            tap(&mut h, PhysicalKey::Enter);
            h
        }
        Command::Undo { rater } => {
            let mut h = harness(session, at, &rater.0, Screen::Coding);
            tap(&mut h, PhysicalKey::Backspace);
            h
        }
        Command::WriteComment {
            participant,
            comment,
            recommendations,
        } => {
            let mut h = harness(session, at, "console", Screen::End);
            let pseudonym = session.engine().participants()[participant]
                .pseudonym
                .clone();
            type_into(&mut h, &format!("Commentaire pour {pseudonym}"), comment);
            type_into(
                &mut h,
                &format!("Pistes d'orientation pour {pseudonym} (une par ligne)"),
                &recommendations.join("\n"),
            );
            click(
                &mut h,
                &format!("Enregistrer le commentaire de {pseudonym}"),
            );
            h
        }
        Command::EndSession => {
            let mut h = harness(session, at, "console", Screen::End);
            click(&mut h, "Clôturer la séance (ferme les événements en cours)");
            h
        }
        other => panic!("the demo script has no {other:?}: teach this test to drive it"),
    };
    h.run();
    let actions = h
        .state()
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Action(a) => Some(a.clone()),
            Output::Command(_) | Output::Commands(_) => None,
        })
        .collect();
    (commands(&h), actions)
}

/// The script's rater names stand for the two consoles' device ids, which the director stamps
/// on their codes: the panels of console `r` give rater `r` already.
#[test]
fn the_panels_play_a_whole_game_and_log_what_the_script_logs() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let set = content();
    let s = demo();
    let expected = scripted_log(dir.path(), &set, &s);

    let store = Store::open(&dir.path().join("console.db"), PASS).expect("store");
    let mut session = Session::create(store, &set, &s.scenario, &s.label, 0).expect("session");
    let names: Vec<(String, Option<String>)> = s
        .participants
        .iter()
        .map(|p| (p.id.0.clone(), p.name.clone()))
        .collect();
    let mut timeline = script::timeline(&s);
    let last = timeline.last().map_or(Millis(0), |(at, _)| *at);
    if !matches!(
        timeline.last(),
        Some((_, Input::Command(Command::EndSession)))
    ) {
        timeline.push((last.plus_secs(1.0), Input::Command(Command::EndSession)));
    }
    let mut named = Vec::new();
    let mut driven = 0;
    for (at, input) in timeline {
        let input = match input {
            // The director's own command (the lead it fits to the links), not a facilitator's.
            Input::Command(lead @ Command::SetCueLead { .. }) => Input::Command(lead),
            Input::Command(wanted) => {
                let (given, actions) = drive(&session, at, &wanted, &names);
                assert_eq!(given, vec![wanted.clone()], "at {} ms", at.0);
                for a in actions {
                    if let ConsoleAction::SetName { participant, name } = a {
                        named.push((participant.0, name));
                    }
                }
                driven += 1;
                Input::Command(wanted)
            }
            // The simulated devices: the script's own events, as they would arrive.
            device => device,
        };
        let _ = session.submit(input, at).expect("logged");
    }
    assert!(driven > 150, "the panels gave {driven} commands");
    assert_eq!(
        named,
        names
            .iter()
            .filter_map(|(p, n)| n.clone().map(|n| (p.clone(), n)))
            .collect::<Vec<_>>(),
        "the names typed went to the shell, for the protected table"
    );
    let got = records(&session);
    assert_eq!(got.len(), expected.len(), "as many records");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "record {} differs", i + 1);
    }
    assert!(session.engine().is_closed() && session.engine().ending().is_some());
    let observations = session
        .engine()
        .observations()
        .iter()
        .filter(|o| o.behaviour.is_some())
        .count();
    assert!(observations > 100, "{observations} codes");
}
