//! The terminal's logic: which page it shows (from the last snapshot and its station), the
//! answer being composed for each puzzle, and the participant's actions ([`TerminalAction`],
//! from touches or, headless, from standard input) turned into events for the director.

use crate::GameSystems;
use crate::net::Verdict;
use crate::net::plugin::{Report, Room};
use bevy::prelude::*;
use boussole_content::Answer;
use boussole_content::ids::{ItemId, PuzzleId, QuestionId, StationId};
use boussole_content::puzzle::{Puzzle, PuzzleKind, SolutionCheck};
use boussole_content::scenario::Scenario;
use boussole_protocol::{DeviceEvent, ParticipantId};
use std::collections::{BTreeMap, BTreeSet};

/// Where the terminal stands and who uses it.
#[derive(Resource, Debug, Clone)]
pub struct Terminal {
    /// Its station in the scenario.
    pub station: StationId,
    /// The participant placed there, when the device was told (`--participant`); else the
    /// director credits the participant assigned to the station, and the questionnaire asks.
    pub participant: Option<ParticipantId>,
}

/// The answer being composed for a puzzle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// Typed text or code.
    pub text: String,
    /// Selected items (document comparison).
    pub selected: BTreeSet<ItemId>,
    /// Pairs `left → right` (matching).
    pub pairs: BTreeMap<ItemId, ItemId>,
    /// Items in the order tapped (ordering).
    pub order: Vec<ItemId>,
}

/// The terminal's working state.
#[derive(Resource, Debug, Default, Clone)]
pub struct TerminalState {
    /// The puzzle chosen among those open here (the first, unless the participant picks).
    pub chosen: Option<PuzzleId>,
    /// Drafts by puzzle.
    pub drafts: BTreeMap<PuzzleId, Draft>,
    /// Who answers the questionnaire (from [`Terminal::participant`] or picked).
    pub respondent: Option<ParticipantId>,
    /// Questionnaire answers given, by question.
    pub ratings: BTreeMap<QuestionId, u8>,
    /// Hint requests sent, by puzzle (the button says "indice demandé").
    pub hints_requested: BTreeSet<PuzzleId>,
    /// A text or hint cue shown at the top of the page, with the device time it leaves (ms;
    /// `None`: until the next).
    pub banner: Option<(crate::media::Shown, Option<u64>)>,
}

/// What the terminal shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    /// Not connected yet, or no scenario.
    Waiting(&'static str),
    /// A puzzle answered here.
    Answer(PuzzleId),
    /// The part of a multi-station puzzle this station holds (answered elsewhere).
    Part {
        /// The puzzle.
        puzzle: PuzzleId,
        /// Where the answer goes.
        answer_station: StationId,
        /// What this station shows.
        text: String,
    },
    /// The questionnaire: who answers.
    WhoAnswers,
    /// The questionnaire: question `index`.
    Question(usize),
    /// The questionnaire is done.
    Thanks,
}

/// Something the participant did.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum TerminalAction {
    /// Pick one of the puzzles open here.
    Choose(PuzzleId),
    /// A key of the on-screen keyboard.
    Key(char),
    /// Erase the last character.
    Backspace,
    /// Start the answer over.
    Clear,
    /// Select or unselect an item (document comparison).
    Toggle(ItemId),
    /// Pair a left item with a right one (matching).
    Pair(ItemId, ItemId),
    /// Append an item to the order (ordering); tapping it again takes it out.
    Tap(ItemId),
    /// Send the answer.
    Submit,
    /// Ask for a hint.
    Hint,
    /// Who answers the questionnaire.
    Respondent(ParticipantId),
    /// Answer the current question.
    Rate(u8),
    /// Send this exact answer to `puzzle` (standard input in headless mode).
    Direct(PuzzleId, Answer),
    /// Read this text's voice (« Écouter »), under `assets/`.
    Listen(boussole_content::text::AssetPath),
}

/// Adds the terminal's logic.
pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<TerminalState>()
        .add_message::<TerminalAction>()
        .add_systems(
            Update,
            (act, placed, read_new_page, banner_expires).in_set(GameSystems::Logic),
        );
}

/// A text cue's banner leaves at its time.
fn banner_expires(room: Res<Room>, mut state: ResMut<TerminalState>) {
    if let Some((_, Some(until))) = &state.banner
        && *until <= room.local_now_ms
    {
        state.banner = None;
    }
}

/// The voice of what `page` asks or tells: a puzzle's prompt, a multi-station part, a
/// question of the self-assessment.
pub fn page_voice(
    page: &Page,
    scenario: &Scenario,
    station: &StationId,
) -> Option<boussole_content::text::AssetPath> {
    let puzzle = |id: &PuzzleId| scenario.puzzles.iter().find(|p| p.id == *id);
    match page {
        Page::Answer(id) => puzzle(id).and_then(|p| prompt_of(p).audio.clone()),
        Page::Part { puzzle: id, .. } => puzzle(id).and_then(|p| match &p.kind {
            PuzzleKind::MultiStation { parts, .. } => parts
                .iter()
                .find(|part| part.station == *station)
                .and_then(|part| part.text.audio.clone()),
            _ => None,
        }),
        Page::Question(i) => scenario
            .self_assessment
            .questions
            .get(*i)
            .and_then(|q| q.text.audio.clone()),
        Page::Waiting(_) | Page::WhoAnswers | Page::Thanks => None,
    }
}

/// A puzzle's question, whatever its kind.
pub fn prompt_of(p: &Puzzle) -> &boussole_content::text::Text {
    match &p.kind {
        PuzzleKind::CodeEntry { prompt }
        | PuzzleKind::DocumentComparison { prompt, .. }
        | PuzzleKind::Matching { prompt, .. }
        | PuzzleKind::Ordering { prompt, .. }
        | PuzzleKind::MultiStation { prompt, .. }
        | PuzzleKind::HeadsetGuided { prompt, .. } => prompt,
    }
}

/// A page that comes is read aloud where the facilitator lets this terminal read (off by
/// default: [`crate::voice`]).
fn read_new_page(
    room: Res<Room>,
    terminal: Res<Terminal>,
    state: Res<TerminalState>,
    mut speak: MessageWriter<crate::voice::Speak>,
    mut last: Local<Option<Page>>,
) {
    let Some(scenario) = room.scenario.clone() else {
        return;
    };
    let now = page(&room, &terminal, &state);
    if last.as_ref() == Some(&now) {
        return;
    }
    if let Some(voice) = page_voice(&now, &scenario, &terminal.station) {
        speak.write(crate::voice::Speak {
            voice,
            asked: false,
        });
    }
    *last = Some(now);
}

/// The station the console gave this terminal (in the hosted session's room) replaces the one
/// it started with; a terminal left without one keeps its own.
fn placed(
    mut orders: MessageReader<crate::placement::PlacementOrder>,
    mut terminal: ResMut<Terminal>,
) {
    for order in orders.read() {
        if order.role == boussole_protocol::wire::Role::Terminal
            && let Some(station) = &order.station
            && terminal.station != *station
        {
            info!("la régie place ce terminal au poste {station}");
            terminal.station = station.clone();
        }
    }
}

/// Whether `station` takes the answers of `puzzle`.
pub fn answers_here(puzzle: &Puzzle, station: &StationId) -> bool {
    puzzle.answer_station() == Some(station)
}

/// Whether a code entry takes digits only (the keypad has no letters then).
pub fn digits_only(puzzle: &Puzzle) -> bool {
    match &puzzle.solution {
        SolutionCheck::Exact { answer } => answer.chars().all(|c| c.is_ascii_digit()),
        SolutionCheck::Numeric { .. } => true,
        SolutionCheck::NormalisedText { .. }
        | SolutionCheck::Set { .. }
        | SolutionCheck::Order { .. } => false,
    }
}

/// The page for `room` at `terminal`.
pub fn page(room: &Room, terminal: &Terminal, state: &TerminalState) -> Page {
    let (Some(snapshot), Some(scenario)) = (&room.snapshot, &room.scenario) else {
        return Page::Waiting("En attente de la régie…");
    };
    if snapshot.ended.is_some() {
        let questions = &scenario.self_assessment.questions;
        if state.respondent.is_none() {
            return Page::WhoAnswers;
        }
        return match questions
            .iter()
            .position(|q| !state.ratings.contains_key(&q.id))
        {
            Some(i) => Page::Question(i),
            None => Page::Thanks,
        };
    }
    let here = open_here(room, scenario, &terminal.station);
    if let Some(chosen) = state.chosen.as_ref().filter(|c| here.contains(c)) {
        return Page::Answer(chosen.clone());
    }
    if let Some(first) = here.first() {
        return Page::Answer(first.clone());
    }
    for id in &snapshot.open {
        let Some(puzzle) = scenario.puzzles.iter().find(|p| p.id == *id) else {
            continue;
        };
        if let PuzzleKind::MultiStation {
            parts,
            answer_station,
            ..
        } = &puzzle.kind
            && let Some(part) = parts.iter().find(|p| p.station == terminal.station)
        {
            return Page::Part {
                puzzle: id.clone(),
                answer_station: answer_station.clone(),
                text: part.text.fr.clone(),
            };
        }
    }
    Page::Waiting("Pas d'énigme sur ce poste pour le moment.")
}

/// The open puzzles answered at `station`, in the snapshot's order.
pub fn open_here(room: &Room, scenario: &Scenario, station: &StationId) -> Vec<PuzzleId> {
    let Some(snapshot) = &room.snapshot else {
        return Vec::new();
    };
    snapshot
        .open
        .iter()
        .filter(|id| {
            scenario
                .puzzles
                .iter()
                .any(|p| p.id == **id && answers_here(p, station))
        })
        .cloned()
        .collect()
}

/// The answer `draft` makes for `puzzle`.
pub fn answer_of(puzzle: &Puzzle, draft: &Draft) -> Answer {
    match &puzzle.kind {
        PuzzleKind::CodeEntry { .. }
        | PuzzleKind::MultiStation { .. }
        | PuzzleKind::HeadsetGuided { .. } => Answer::Text(draft.text.trim().to_owned()),
        PuzzleKind::DocumentComparison { .. } => Answer::Items(
            draft
                .selected
                .iter()
                .map(|i| i.as_str().to_owned())
                .collect(),
        ),
        PuzzleKind::Matching { .. } => Answer::Items(
            draft
                .pairs
                .iter()
                .map(|(l, r)| format!("{l}={r}"))
                .collect(),
        ),
        PuzzleKind::Ordering { .. } => {
            Answer::Items(draft.order.iter().map(|i| i.as_str().to_owned()).collect())
        }
    }
}

/// Whether `draft` is complete enough to send (every left item paired, every item ordered,
/// something typed or selected).
pub fn ready(puzzle: &Puzzle, draft: &Draft) -> bool {
    match &puzzle.kind {
        PuzzleKind::CodeEntry { .. }
        | PuzzleKind::MultiStation { .. }
        | PuzzleKind::HeadsetGuided { .. } => !draft.text.trim().is_empty(),
        PuzzleKind::DocumentComparison { .. } => !draft.selected.is_empty(),
        PuzzleKind::Matching { left, .. } => left.iter().all(|l| draft.pairs.contains_key(&l.id)),
        PuzzleKind::Ordering { items, .. } => draft.order.len() == items.len(),
    }
}

/// Longest typed answer, characters.
const MAX_TYPED: usize = 40;

fn act(
    mut actions: MessageReader<TerminalAction>,
    mut state: ResMut<TerminalState>,
    mut room: ResMut<Room>,
    terminal: Res<Terminal>,
    mut reports: MessageWriter<Report>,
    mut speak: MessageWriter<crate::voice::Speak>,
) {
    for action in actions.read() {
        let Some(scenario) = room.scenario.clone() else {
            continue;
        };
        let current = page(&room, &terminal, &state);
        let puzzle_id = match &current {
            Page::Answer(p) => Some(p.clone()),
            _ => None,
        };
        let puzzle = puzzle_id
            .as_ref()
            .and_then(|id| scenario.puzzles.iter().find(|p| p.id == *id));
        // A new touch after a wrong answer starts a new attempt.
        if let Some(p) = puzzle
            && room.verdicts.get(&p.id) == Some(Verdict::Wrong)
            && !matches!(
                action,
                TerminalAction::Hint | TerminalAction::Choose(_) | TerminalAction::Listen(_)
            )
        {
            room.verdicts.clear(&p.id);
        }
        let sent = puzzle.is_some_and(|p| {
            matches!(
                room.verdicts.get(&p.id),
                Some(Verdict::Sent { .. } | Verdict::Committed | Verdict::Right)
            )
        });
        match action {
            TerminalAction::Listen(voice) => {
                speak.write(crate::voice::Speak {
                    voice: voice.clone(),
                    asked: true,
                });
            }
            TerminalAction::Choose(id) => state.chosen = Some(id.clone()),
            TerminalAction::Direct(id, answer) => {
                reports.write(Report(DeviceEvent::Answer {
                    puzzle: id.clone(),
                    station: terminal.station.clone(),
                    participant: terminal.participant.clone(),
                    answer: answer.clone(),
                }));
            }
            TerminalAction::Respondent(p) => state.respondent = Some(p.clone()),
            TerminalAction::Rate(value) => {
                let (Page::Question(i), Some(who)) = (&current, state.respondent.clone()) else {
                    continue;
                };
                let Some(q) = scenario.self_assessment.questions.get(*i) else {
                    continue;
                };
                let max = u8::try_from(scenario.self_assessment.scale.len()).unwrap_or(u8::MAX);
                if !(1..=max).contains(value) {
                    continue;
                }
                state.ratings.insert(q.id.clone(), *value);
                reports.write(Report(DeviceEvent::Rating {
                    question: q.id.clone(),
                    participant: who,
                    value: *value,
                    comment: None,
                }));
            }
            TerminalAction::Hint => {
                if let Some(p) = puzzle
                    && state.hints_requested.insert(p.id.clone())
                {
                    reports.write(Report(DeviceEvent::HintRequest {
                        puzzle: p.id.clone(),
                        station: terminal.station.clone(),
                        participant: terminal.participant.clone(),
                    }));
                }
            }
            TerminalAction::Submit => {
                let Some(p) = puzzle else { continue };
                let draft = state.drafts.get(&p.id).cloned().unwrap_or_default();
                if sent || !ready(p, &draft) {
                    continue;
                }
                reports.write(Report(DeviceEvent::Answer {
                    puzzle: p.id.clone(),
                    station: terminal.station.clone(),
                    participant: terminal.participant.clone(),
                    answer: answer_of(p, &draft),
                }));
            }
            edit => {
                let Some(p) = puzzle else { continue };
                if sent {
                    continue;
                }
                let draft = state.drafts.entry(p.id.clone()).or_default();
                match edit {
                    TerminalAction::Key(c) if draft.text.chars().count() < MAX_TYPED => {
                        draft.text.push(*c);
                    }
                    TerminalAction::Backspace => {
                        draft.text.pop();
                    }
                    TerminalAction::Clear => *draft = Draft::default(),
                    TerminalAction::Toggle(item) if !draft.selected.remove(item) => {
                        draft.selected.insert(item.clone());
                    }
                    TerminalAction::Pair(l, r) => {
                        draft.pairs.insert(l.clone(), r.clone());
                    }
                    TerminalAction::Tap(item) => {
                        if let Some(i) = draft.order.iter().position(|x| x == item) {
                            draft.order.truncate(i);
                        } else {
                            draft.order.push(item.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
