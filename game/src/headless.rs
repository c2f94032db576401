//! Headless runs (tests, CI): the participant's input comes on standard input, one command a
//! line, and the device says what it sees on standard output, one `@`-line per change, so a
//! test drives a real client as a participant would, without a window:
//!
//! - `answer PUZZLE ANSWER` — ANSWER in RON: `Text("1217")`, `Items(["a", "b"])`
//! - `hint PUZZLE`, `rate QUESTION VALUE PARTICIPANT`, `code 314159`, `quit` (or end of input)
//! - headsets: `look YAW PITCH` (turn the head, degrees: what the pose stream sends),
//!   `hotspot HOTSPOT` (select its marker), `press begin|validate|finish|end|next|
//!   keep|break|rate:N|pick:ITEM` (select that button of the panel), `stop` (the participant's
//!   stop). They select through the same `Select` messages the pointer layer sends; the ray's
//!   hit test itself is tested in `tests/headset.rs`.
//!
//! Output: `@state …`, `@snapshot open=… solved=… ended=…`, `@stats events=… acked=…
//! pending=… applied=…`; headsets add `@headset phase=… immersion=… panel=…` on change and,
//! while a 360° film plays, `@film position_ms=… director_ms=…` twice a second (the director's
//! clock as this headset estimates it, so a test sees whether headsets play in step). On quit
//! the link says goodbye and its counters are written to the `--stats` file (RON
//! [`LinkStats`](crate::net::LinkStats)).

use crate::GameSystems;
use crate::headset::pointer::Select;
use crate::headset::state::{
    ButtonAction, HeadsetAction, HeadsetState, HotspotMarker, PanelButtonEntity,
};
use crate::headset::video360::Film;
use crate::net::plugin::{Connection, NetLink, Report, Room};
use crate::terminal::state::{Terminal, TerminalAction};
use bevy::prelude::*;
use boussole_content::Answer;
use boussole_content::ids::{PuzzleId, QuestionId};
use boussole_protocol::pairing::PairingCode;
use boussole_protocol::{DeviceEvent, ParticipantId};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc;

/// Lines read from standard input by a thread; `None` once it ended.
#[derive(Resource)]
struct Stdin(Mutex<mpsc::Receiver<Option<String>>>);

/// Where to write the link's counters on quit.
#[derive(Resource, Debug, Clone, Default)]
pub struct StatsFile(pub Option<PathBuf>);

/// What was last printed, so each line is printed once.
#[derive(Resource, Default)]
struct Printed {
    state: String,
    snapshot: String,
    stats: String,
}

/// A command from standard input.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send an answer.
    Answer(PuzzleId, Answer),
    /// Ask for a hint.
    Hint(PuzzleId),
    /// Answer a questionnaire question.
    Rate(QuestionId, u8, ParticipantId),
    /// Pair with this code.
    Code(PairingCode),
    /// Headsets: select this hotspot's marker.
    Hotspot(String),
    /// Headsets: select the panel's button that does this.
    Press(ButtonAction),
    /// Headsets: the participant stops.
    Stop,
    /// Headsets: the head turns to this yaw and pitch, degrees (yaw clockwise from the
    /// scene's front, pitch up): what the pose stream sends.
    Look(f32, f32),
    /// Stop.
    Quit,
}

/// Parses one line of standard input.
///
/// # Errors
/// What is wrong with it, in English (it is for test authors).
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    match word {
        "quit" => Ok(Command::Quit),
        "stop" => Ok(Command::Stop),
        "look" => {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let [yaw, pitch] = parts.as_slice() else {
                return Err("look YAW PITCH (degrees)".into());
            };
            let yaw: f32 = yaw.parse().map_err(|e| format!("look: yaw: {e}"))?;
            let pitch: f32 = pitch.parse().map_err(|e| format!("look: pitch: {e}"))?;
            if !(-180.0..=180.0).contains(&yaw) || !(-90.0..=90.0).contains(&pitch) {
                return Err("look: yaw from -180 to 180, pitch from -90 to 90".into());
            }
            Ok(Command::Look(yaw, pitch))
        }
        "hotspot" if !rest.is_empty() => Ok(Command::Hotspot(rest.to_owned())),
        "press" => {
            let action = match rest.split_once(':') {
                Some(("rate", v)) => ButtonAction::Rate(v.parse().map_err(|e| format!("{e}"))?),
                Some(("pick", item)) => ButtonAction::Pick(item.into()),
                _ => match rest {
                    "begin" => ButtonAction::Begin,
                    "validate" => ButtonAction::Validate,
                    "finish" => ButtonAction::FinishVisit,
                    "end" => ButtonAction::EndQuestionnaire,
                    "next" => ButtonAction::Next,
                    "keep" => ButtonAction::KeepGoing,
                    "break" => ButtonAction::TakeBreak,
                    _ => return Err(format!("press: unknown button {rest:?}")),
                },
            };
            Ok(Command::Press(action))
        }
        "hint" if !rest.is_empty() => Ok(Command::Hint(PuzzleId::from(rest))),
        "code" => PairingCode::parse(rest)
            .map(Command::Code)
            .map_err(|e| e.to_string()),
        "answer" => {
            let (puzzle, answer) = rest
                .split_once(' ')
                .ok_or("answer PUZZLE ANSWER".to_owned())?;
            let answer: Answer = ron::from_str(answer.trim()).map_err(|e| e.to_string())?;
            Ok(Command::Answer(PuzzleId::from(puzzle), answer))
        }
        "rate" => {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let [q, v, p] = parts.as_slice() else {
                return Err("rate QUESTION VALUE PARTICIPANT".into());
            };
            let v = v.parse().map_err(|e| format!("{e}"))?;
            Ok(Command::Rate(
                QuestionId::from(*q),
                v,
                ParticipantId::from(*p),
            ))
        }
        _ => Err(format!("unknown command {line:?}")),
    }
}

/// Adds standard input, the status lines and the stats file.
pub fn plugin(app: &mut App) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    app.insert_resource(Stdin(Mutex::new(rx)))
        .init_resource::<Printed>()
        .init_resource::<StatsFile>()
        .add_message::<HeadsetCommand>()
        .add_systems(
            Update,
            (commands, headset_commands)
                .chain()
                .in_set(GameSystems::Input),
        )
        .add_systems(
            Update,
            (print, print_headset, quit).after(GameSystems::View),
        );
}

/// A headset command read from standard input, for [`headset_commands`].
#[derive(Message, Debug, Clone)]
struct HeadsetCommand(Command);

/// Turns headset commands into selects and actions (nothing on other roles).
fn headset_commands(
    mut read: MessageReader<HeadsetCommand>,
    buttons: Query<(Entity, &PanelButtonEntity, &GlobalTransform)>,
    markers: Query<(Entity, &HotspotMarker, &GlobalTransform)>,
    mut selects: Option<MessageWriter<Select>>,
    mut actions: Option<MessageWriter<HeadsetAction>>,
    mut look: Option<ResMut<crate::headset::pose::LookOverride>>,
) {
    for HeadsetCommand(command) in read.read() {
        let (Some(selects), Some(actions)) = (selects.as_mut(), actions.as_mut()) else {
            eprintln!("{command:?}: this role is no headset");
            continue;
        };
        let target = match command {
            Command::Stop => {
                actions.write(HeadsetAction::Stop);
                continue;
            }
            Command::Look(yaw, pitch) => {
                if let Some(look) = look.as_mut() {
                    look.0 = Some((*yaw, *pitch));
                }
                continue;
            }
            Command::Hotspot(id) => markers
                .iter()
                .find(|(_, m, _)| m.hotspot.as_str() == id)
                .map(|(e, _, t)| (e, t.translation())),
            Command::Press(action) => buttons
                .iter()
                .find(|(_, b, _)| b.0.action == *action)
                .map(|(e, _, t)| (e, t.translation())),
            _ => continue,
        };
        match target {
            Some((entity, point)) => {
                selects.write(Select { entity, point });
            }
            None => eprintln!("{command:?}: nothing to select"),
        }
    }
}

fn commands(
    stdin: Res<Stdin>,
    mut reports: MessageWriter<Report>,
    mut actions: Option<MessageWriter<TerminalAction>>,
    terminal: Option<Res<Terminal>>,
    link: Option<Res<NetLink>>,
    mut headset: MessageWriter<HeadsetCommand>,
    mut commands: Commands,
) {
    let lines: Vec<Option<String>> = match stdin.0.lock() {
        Ok(rx) => rx.try_iter().collect(),
        Err(_) => return,
    };
    let mut quit = false;
    for line in lines {
        let Some(line) = line else {
            quit = true;
            break;
        };
        match parse(&line) {
            Ok(Command::Quit) => quit = true,
            Ok(Command::Answer(puzzle, answer)) => match actions.as_mut() {
                Some(a) => {
                    a.write(TerminalAction::Direct(puzzle, answer));
                }
                None => eprintln!("answer: this role has no stations"),
            },
            Ok(Command::Hint(puzzle)) => {
                if let Some(t) = &terminal {
                    reports.write(Report(DeviceEvent::HintRequest {
                        puzzle,
                        station: t.station.clone(),
                        participant: t.participant.clone(),
                    }));
                }
            }
            Ok(Command::Rate(question, value, participant)) => {
                reports.write(Report(DeviceEvent::Rating {
                    question,
                    participant,
                    value,
                    comment: None,
                }));
            }
            Ok(Command::Code(code)) => {
                if let Some(link) = &link
                    && let Err(e) = link.0.pair_with(code)
                {
                    eprintln!("{e}");
                }
            }
            Ok(
                c @ (Command::Hotspot(_) | Command::Press(_) | Command::Stop | Command::Look(..)),
            ) => {
                headset.write(HeadsetCommand(c));
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    if quit {
        commands.insert_resource(Quitting(std::time::Instant::now()));
    }
}

/// `quit` was read at this instant: the app stops once its outbox is empty (every event it
/// made is in the director's log) or after [`FLUSH_LIMIT`].
#[derive(Resource, Debug, Clone, Copy)]
struct Quitting(std::time::Instant);

/// The longest wait for the outbox to empty on quit.
const FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

fn quit(
    quitting: Option<Res<Quitting>>,
    link: Option<Res<NetLink>>,
    stats_file: Res<StatsFile>,
    mut exit: MessageWriter<AppExit>,
    mut commands: Commands,
) {
    let Some(quitting) = quitting else { return };
    let stats = link.as_ref().map(|l| l.0.stats());
    let flushed = stats.as_ref().is_none_or(|s| s.pending == 0);
    if !flushed && quitting.0.elapsed() < FLUSH_LIMIT {
        return;
    }
    commands.remove_resource::<Quitting>();
    {
        if link.is_some() {
            commands.remove_resource::<NetLink>();
        }
        if let Some(path) = &stats_file.0
            && let Some(stats) = &stats
        {
            match ron::to_string(stats) {
                Ok(text) => {
                    if let Err(e) = std::fs::write(path, text) {
                        eprintln!("{}: {e}", path.display());
                    }
                }
                Err(e) => eprintln!("stats: {e}"),
            }
        }
        exit.write(AppExit::Success);
    }
}

fn print(
    connection: Res<Connection>,
    room: Res<Room>,
    link: Option<Res<NetLink>>,
    mut printed: ResMut<Printed>,
) {
    let mut out = std::io::stdout().lock();
    let state = format!("@state {:?}", connection.state);
    if state != printed.state {
        let _ = writeln!(out, "{state}");
        printed.state = state;
    }
    if let Some(s) = &room.snapshot {
        let join = |v: &[PuzzleId]| v.iter().map(PuzzleId::as_str).collect::<Vec<_>>().join(",");
        let line = format!(
            "@snapshot open={} solved={} ended={}",
            join(&s.open),
            join(&s.solved),
            s.ended.as_ref().map_or("", |e| e.as_str())
        );
        if line != printed.snapshot {
            let _ = writeln!(out, "{line}");
            printed.snapshot = line;
        }
    }
    if let Some(link) = link {
        let s = link.0.stats();
        let line = format!(
            "@stats events={} acked={} pending={} applied={} online={} bundle={}",
            s.events.len(),
            s.acked_seqs.len(),
            s.pending,
            s.applied.len(),
            s.online,
            if s.synced_content.is_some() {
                "yes"
            } else {
                "no"
            }
        );
        if line != printed.stats {
            let _ = writeln!(out, "{line}");
            printed.stats = line;
        }
    }
    let _ = out.flush();
}

/// What the headset printed last, and when the film was last printed (local clock, s).
#[derive(Default)]
struct HeadsetPrinted {
    line: String,
    film_at: f64,
}

fn print_headset(
    state: Option<Res<HeadsetState>>,
    film: Option<Res<Film>>,
    room: Res<Room>,
    mut printed: Local<HeadsetPrinted>,
) {
    let Some(state) = state else { return };
    let mut out = std::io::stdout().lock();
    let line = format!(
        "@headset phase={:?} immersion={} panel={}",
        state.phase,
        state.run.as_ref().map_or("", |r| r.immersion.id.as_str()),
        state.panel.as_ref().map_or("", |p| p.title.as_str())
    );
    if line != printed.line {
        let _ = writeln!(out, "{line}");
        printed.line = line;
    }
    if let Some(position) = film
        .as_ref()
        .filter(|f| !f.ended())
        .and_then(|f| f.position())
        && state.now_s - printed.film_at >= 0.5
    {
        printed.film_at = state.now_s;
        let director = room
            .director_now_ms
            .map_or_else(|| "?".to_owned(), |d| d.to_string());
        let _ = writeln!(
            out,
            "@film position_ms={} director_ms={director}",
            position.as_millis()
        );
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse("answer p_code Text(\"1217\")"),
            Ok(Command::Answer(
                PuzzleId::from("p_code"),
                Answer::Text("1217".into())
            ))
        );
        assert_eq!(
            parse("answer p_set Items([\"a\", \"b\"])"),
            Ok(Command::Answer(
                PuzzleId::from("p_set"),
                Answer::Items(vec!["a".into(), "b".into()])
            ))
        );
        assert_eq!(parse(" quit "), Ok(Command::Quit));
        assert_eq!(
            parse("rate qa_stress 3 P1"),
            Ok(Command::Rate(
                QuestionId::from("qa_stress"),
                3,
                ParticipantId::from("P1")
            ))
        );
        assert_eq!(
            parse("press rate:4"),
            Ok(Command::Press(ButtonAction::Rate(4)))
        );
        assert_eq!(
            parse("press pick:gilet"),
            Ok(Command::Press(ButtonAction::Pick("gilet".into())))
        );
        assert_eq!(
            parse("hotspot h_chariot"),
            Ok(Command::Hotspot("h_chariot".into()))
        );
        assert!(parse("press dance").is_err());
        assert!(parse("code 12").is_err());
        assert!(parse("dance").is_err());
    }
}
