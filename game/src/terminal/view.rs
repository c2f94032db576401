//! Draws the terminal: big touch targets for every puzzle kind (an on-screen keypad for codes,
//! selectable lines for document comparison, a choice per row for matching, tap-in-order for
//! ordering), the part a station holds in a multi-station puzzle, the answer's fate ("réponse
//! envoyée", then right or wrong as the director decides) and the self-assessment
//! questionnaire. Every text that has a voice has « Écouter » beside it (the speaker
//! pictogram and the word), and answers show their pictograms, for participants who read
//! French poorly. Rebuilt only when what it shows changes.

use super::state::{
    Draft, Page, Terminal, TerminalAction, TerminalState, digits_only, open_here, page, ready,
};
use crate::GameSystems;
use crate::content::GameContent;
use crate::net::Verdict;
use crate::net::plugin::{Connection, Room};
use crate::pictogram::Pictograms;
use crate::ui::{self, ViewRoot};
use bevy::input::keyboard::Key;
use bevy::prelude::*;
use boussole_content::ids::PuzzleId;
use boussole_content::puzzle::{Puzzle, PuzzleKind};
use boussole_content::scenario::Scenario;
use boussole_content::text::{AssetPath, Text};
use boussole_protocol::ParticipantId;
use std::collections::BTreeMap;

/// A button that sends an action when pressed.
#[derive(Component, Debug, Clone)]
pub struct Press(pub TerminalAction);

/// What the terminal shows, compared frame to frame.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct TerminalModel {
    /// The page.
    pub page: Option<Page>,
    /// The answer being composed.
    pub draft: Draft,
    /// The verdict on the last answer sent.
    pub verdict: Option<Verdict>,
    /// A hint was asked for this puzzle.
    pub hint_requested: bool,
    /// Puzzles open at this station (tabs when more than one).
    pub open: Vec<PuzzleId>,
    /// Questionnaire answers given so far.
    pub answered: usize,
    /// A line about the link, when it is not online.
    pub offline: bool,
    /// A text or hint cue shown at the top.
    pub banner: Option<crate::media::Shown>,
}

/// The speaker pictogram of « Écouter », drawn once.
#[derive(Resource, Debug, Default)]
struct SpeakerIcon(Option<Handle<Image>>);

fn draw_speaker(mut commands: Commands, mut images: ResMut<Assets<Image>>) {
    commands.insert_resource(SpeakerIcon(crate::pictogram::speaker(&mut images)));
}

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<TerminalModel>()
        .init_resource::<SpeakerIcon>()
        .init_resource::<Pictograms>()
        .add_systems(Startup, (ui::camera, draw_speaker))
        .add_systems(Update, (press, physical_keys).in_set(GameSystems::Input))
        .add_systems(Update, (model, draw).chain().in_set(GameSystems::View));
}

fn press(
    buttons: Query<(&Interaction, &Press), Changed<Interaction>>,
    mut actions: MessageWriter<TerminalAction>,
) {
    for (interaction, Press(action)) in &buttons {
        if *interaction == Interaction::Pressed {
            actions.write(action.clone());
        }
    }
}

/// What a key of a physical keyboard (a USB one at the station) does to a typed answer, as the
/// on-screen keys would: a character goes in, upper-cased like the on-screen AZERTY keys (the
/// director's `NormalisedText` check ignores case anyway), only digits for a numeric code, and
/// only what the on-screen keyboard has otherwise (letters, digits, space, comma, hyphen);
/// Backspace erases, Delete clears, Enter sends (when the answer is ready, as the on-screen
/// button). `None`: the key does nothing here.
pub fn typed_action(key: &Key, text: Option<&str>, digits: bool) -> Option<TerminalAction> {
    match key {
        Key::Backspace => return Some(TerminalAction::Backspace),
        Key::Delete => return Some(TerminalAction::Clear),
        Key::Enter => return Some(TerminalAction::Submit),
        Key::Space if !digits => return Some(TerminalAction::Key(' ')),
        _ => {}
    }
    let mut chars = text?.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    let allowed = if digits {
        c.is_ascii_digit()
    } else {
        c.is_alphanumeric() || matches!(c, ' ' | ',' | '-')
    };
    allowed.then(|| TerminalAction::Key(c.to_uppercase().next().unwrap_or(c)))
}

/// A physical keyboard types into the answer being composed (the typed kinds only: code entry,
/// a multi-station part, a headset-guided answer).
fn physical_keys(
    mut keys: MessageReader<bevy::input::keyboard::KeyboardInput>,
    model: Res<TerminalModel>,
    room: Res<Room>,
    mut actions: MessageWriter<TerminalAction>,
) {
    let typing = match (&model.page, &room.scenario) {
        (Some(Page::Answer(id)), Some(scenario)) => puzzle_of(scenario, id)
            .filter(|p| {
                matches!(
                    p.kind,
                    PuzzleKind::CodeEntry { .. }
                        | PuzzleKind::MultiStation { .. }
                        | PuzzleKind::HeadsetGuided { .. }
                )
            })
            .map(digits_only),
        _ => None,
    };
    for key in keys.read() {
        if key.state != bevy::input::ButtonState::Pressed {
            continue;
        }
        if let Some(digits) = typing
            && let Some(action) = typed_action(&key.logical_key, key.text.as_deref(), digits)
        {
            actions.write(action);
        }
    }
}

fn model(
    room: Res<Room>,
    terminal: Res<Terminal>,
    state: Res<TerminalState>,
    connection: Res<Connection>,
    mut current: ResMut<TerminalModel>,
) {
    let page = page(&room, &terminal, &state);
    let puzzle = match &page {
        Page::Answer(p) => Some(p.clone()),
        _ => None,
    };
    let next = TerminalModel {
        draft: puzzle
            .as_ref()
            .and_then(|p| state.drafts.get(p).cloned())
            .unwrap_or_default(),
        verdict: puzzle.as_ref().and_then(|p| room.verdicts.get(p)),
        hint_requested: puzzle
            .as_ref()
            .is_some_and(|p| state.hints_requested.contains(p)),
        open: room
            .scenario
            .as_ref()
            .map(|s| open_here(&room, s, &terminal.station))
            .unwrap_or_default(),
        answered: state.ratings.len(),
        banner: state.banner.as_ref().map(|(b, _)| b.clone()),
        offline: matches!(
            connection.state,
            Some(crate::net::LinkState::Offline { .. })
        ),
        page: Some(page),
    };
    if *current != next {
        *current = next;
    }
}

fn button(
    parent: &mut ChildSpawnerCommands,
    label: impl Into<String>,
    action: TerminalAction,
    color: Color,
    border: Color,
    min_w: f32,
    size: f32,
) {
    sized_button(parent, label, action, (color, border), (min_w, 64.0), size);
}

/// A button with its colours (fill, border) and minimum size (width, height); dark text on
/// the bright selection colour, light text elsewhere.
fn sized_button(
    parent: &mut ChildSpawnerCommands,
    label: impl Into<String>,
    action: TerminalAction,
    (color, border): (Color, Color),
    (min_w, min_h): (f32, f32),
    size: f32,
) {
    let ink = if color == ui::SELECTED {
        ui::BACKGROUND
    } else {
        ui::INK
    };
    parent
        .spawn((
            Button,
            Press(action),
            ui::button_node_sized(min_w, min_h),
            BackgroundColor(color),
            BorderColor::all(border),
        ))
        .with_children(|b| {
            b.spawn(ui::text(label, size, ink));
        });
}

/// What drawing a page needs beyond the model: the speaker and the answers' pictograms.
struct Looks {
    speaker: Option<Handle<Image>>,
    pictograms: BTreeMap<AssetPath, Handle<Image>>,
}

impl Looks {
    fn pictogram(&self, text: &Text) -> Option<Handle<Image>> {
        text.pictogram
            .as_ref()
            .and_then(|p| self.pictograms.get(p).cloned())
    }
}

/// « Écouter » for a text with a voice: the speaker pictogram and the word; nothing for a
/// text without one.
fn listen(parent: &mut ChildSpawnerCommands, text: &Text, looks: &Looks, size: f32) {
    let Some(voice) = &text.audio else { return };
    parent
        .spawn((
            Button,
            Press(TerminalAction::Listen(voice.clone())),
            Node {
                flex_direction: FlexDirection::Row,
                align_items: AlignItems::Center,
                column_gap: px(8.0),
                padding: UiRect::axes(px(14.0), px(6.0)),
                min_height: px(56.0),
                flex_shrink: 0.0,
                border_radius: BorderRadius::all(px(12.0)),
                ..default()
            },
            BackgroundColor(ui::BUTTON),
        ))
        .with_children(|b| {
            if let Some(icon) = &looks.speaker {
                b.spawn((
                    ImageNode::new(icon.clone()),
                    Node {
                        width: px(size * 1.4),
                        height: px(size * 1.4),
                        ..default()
                    },
                ));
            }
            b.spawn(ui::text("Écouter", size, ui::INK));
        });
}

/// A text with its pictogram before it and « Écouter » after it, on one line that wraps the
/// text.
fn said(parent: &mut ChildSpawnerCommands, text: &Text, size: f32, color: Color, looks: &Looks) {
    parent
        .spawn(Node {
            flex_direction: FlexDirection::Row,
            align_items: AlignItems::Center,
            column_gap: px(16.0),
            ..default()
        })
        .with_children(|row| {
            if let Some(picture) = looks.pictogram(text) {
                row.spawn((
                    ImageNode::new(picture),
                    Node {
                        width: px(size * 1.8),
                        height: px(size * 1.8),
                        flex_shrink: 0.0,
                        ..default()
                    },
                ));
            }
            row.spawn((
                ui::text(text.fr.clone(), size, color),
                Node {
                    flex_shrink: 1.0,
                    ..default()
                },
            ));
            listen(row, text, looks, 22.0);
        });
}

/// Every participant text of `scenario` with a pictogram (prompts, parts and answers of each
/// kind, the self-assessment's questions and scale).
fn pictogram_texts(scenario: &Scenario) -> Vec<&Text> {
    let mut out: Vec<&Text> = scenario.self_assessment.scale.iter().collect();
    out.extend(scenario.self_assessment.questions.iter().map(|q| &q.text));
    for p in &scenario.puzzles {
        out.extend(p.kind.texts());
    }
    out.retain(|t| t.pictogram.is_some());
    out
}

#[expect(
    clippy::too_many_arguments,
    reason = "drawing reads the model, the room, the station, the content's pictograms and the speaker"
)]
fn draw(
    mut commands: Commands,
    model: Res<TerminalModel>,
    room: Res<Room>,
    terminal: Res<Terminal>,
    roots: Query<Entity, With<ViewRoot>>,
    content: Res<GameContent>,
    speaker: Res<SpeakerIcon>,
    (mut pictograms, mut images): (ResMut<Pictograms>, ResMut<Assets<Image>>),
) {
    if !model.is_changed() {
        return;
    }
    let looks = Looks {
        speaker: speaker.0.clone(),
        pictograms: room
            .scenario
            .as_deref()
            .map(|s| {
                pictogram_texts(s)
                    .into_iter()
                    .filter_map(|t| {
                        let path = t.pictogram.clone()?;
                        let handle = pictograms.get(&content.assets, &path, &mut images)?;
                        Some((path, handle))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    for e in &roots {
        commands.entity(e).despawn();
    }
    let m = model.clone();
    let scenario = room.scenario.clone();
    let station = terminal.station.clone();
    commands.spawn(ui::root()).with_children(|page| {
        // A text or hint cue: at the top, above whatever the page shows.
        if let Some(banner) = &m.banner {
            page.spawn((
                Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: px(4.0),
                    padding: UiRect::axes(px(16.0), px(10.0)),
                    border: UiRect::all(px(3.0)),
                    border_radius: BorderRadius::all(px(12.0)),
                    ..default()
                },
                BackgroundColor(ui::CARD),
                BorderColor::all(ui::SELECTED),
            ))
            .with_children(|card| {
                card.spawn(ui::text(banner.title.clone(), 22.0, ui::SELECTED));
                said(card, &banner.text, 30.0, ui::INK, &looks);
            });
        }
        let Some(scenario) = scenario.as_deref() else {
            if let Some(Page::Waiting(why)) = &m.page {
                page.spawn(ui::text(why.to_string(), 40.0, ui::INK));
            }
            return;
        };
        match m.page.clone() {
            None => {}
            Some(Page::Waiting(why)) => {
                page.spawn(ui::text(why.to_string(), 44.0, ui::INK));
                page.spawn(ui::text(
                    "Cherchez dans la salle et parlez avec votre équipe.",
                    30.0,
                    ui::MUTED,
                ));
            }
            Some(Page::Part {
                puzzle,
                answer_station,
                text,
            }) => {
                let title = puzzle_of(scenario, &puzzle)
                    .map(|p| p.title.fr.clone())
                    .unwrap_or_default();
                page.spawn(ui::text(title, 40.0, ui::MUTED));
                let part = puzzle_of(scenario, &puzzle).and_then(|p| match &p.kind {
                    PuzzleKind::MultiStation { parts, .. } => parts
                        .iter()
                        .find(|part| part.station == station)
                        .map(|part| part.text.clone()),
                    _ => None,
                });
                let part = part.unwrap_or_else(|| Text::fr(&text));
                page.spawn(ui::card()).with_children(|c| {
                    c.spawn(ui::text("Votre information", 30.0, ui::SELECTED));
                    said(c, &part, 44.0, ui::INK, &looks);
                });
                let label = scenario
                    .stations
                    .iter()
                    .find(|s| s.id == answer_station)
                    .map_or_else(|| answer_station.to_string(), |s| s.label.clone());
                page.spawn(ui::text(
                    "Dites-la aux autres postes. La réponse se donne ici :",
                    30.0,
                    ui::MUTED,
                ));
                page.spawn(ui::text(label, 30.0, ui::INK));
            }
            Some(Page::Answer(id)) => {
                if let Some(p) = puzzle_of(scenario, &id) {
                    answer_page(page, scenario, p, &m, &looks);
                }
            }
            Some(Page::WhoAnswers) => {
                page.spawn(ui::text("Votre avis sur le jeu", 44.0, ui::INK));
                page.spawn(ui::text(
                    scenario.self_assessment.intro.fr.clone(),
                    30.0,
                    ui::MUTED,
                ));
                page.spawn(ui::text(
                    "Qui répond ? Touchez votre numéro (donné par le référent).",
                    32.0,
                    ui::INK,
                ));
                page.spawn(ui::row(16.0)).with_children(|r| {
                    for n in 1..=scenario.team.max {
                        let id = ParticipantId::from(format!("P{n}").as_str());
                        button(
                            r,
                            format!("P{n}"),
                            TerminalAction::Respondent(id),
                            ui::BUTTON,
                            ui::BUTTON,
                            110.0,
                            36.0,
                        );
                    }
                });
            }
            Some(Page::Question(i)) => {
                let sa = &scenario.self_assessment;
                let total = sa.questions.len();
                page.spawn(ui::text(
                    format!("Question {} sur {total}", i + 1),
                    30.0,
                    ui::MUTED,
                ));
                if let Some(q) = sa.questions.get(i) {
                    page.spawn(ui::card()).with_children(|c| {
                        said(c, &q.text, 48.0, ui::INK, &looks);
                    });
                }
                page.spawn(ui::text("Touchez votre réponse :", 30.0, ui::MUTED));
                page.spawn(Node {
                    flex_direction: FlexDirection::Row,
                    column_gap: px(16.0),
                    ..default()
                })
                .with_children(|r| {
                    for (n, label) in sa.scale.iter().enumerate() {
                        let value = u8::try_from(n + 1).unwrap_or(u8::MAX);
                        // The answer, then « Écouter » under it.
                        r.spawn(Node {
                            flex_grow: 1.0,
                            flex_basis: px(0.0),
                            flex_direction: FlexDirection::Column,
                            align_items: AlignItems::Stretch,
                            row_gap: px(8.0),
                            ..default()
                        })
                        .with_children(|col| {
                            col.spawn((
                                Button,
                                Press(TerminalAction::Rate(value)),
                                Node {
                                    min_height: px(150.0),
                                    flex_direction: FlexDirection::Column,
                                    justify_content: JustifyContent::Center,
                                    align_items: AlignItems::Center,
                                    row_gap: px(8.0),
                                    padding: UiRect::all(px(10.0)),
                                    border_radius: BorderRadius::all(px(14.0)),
                                    ..default()
                                },
                                BackgroundColor(ui::ACCENT),
                            ))
                            .with_children(|b| {
                                match looks.pictogram(label) {
                                    Some(picture) => {
                                        b.spawn((
                                            ImageNode::new(picture),
                                            Node {
                                                width: px(64.0),
                                                height: px(64.0),
                                                ..default()
                                            },
                                        ));
                                    }
                                    None => {
                                        b.spawn(ui::text(value.to_string(), 56.0, ui::INK));
                                    }
                                }
                                b.spawn(ui::text(label.fr.clone(), 26.0, ui::INK));
                            });
                            listen(col, label, &looks, 22.0);
                        });
                    }
                });
            }
            Some(Page::Thanks) => {
                page.spawn(ui::text("Merci !", 72.0, ui::GOOD));
                page.spawn(ui::text(
                    "Vos réponses sont envoyées au référent. Vous en parlerez ensemble.",
                    36.0,
                    ui::INK,
                ));
            }
        }
        if m.offline {
            page.spawn(ui::text(
                "Liaison avec la régie interrompue : vos réponses partiront dès son retour.",
                22.0,
                ui::MUTED,
            ));
        }
    });
}

fn puzzle_of<'a>(scenario: &'a Scenario, id: &PuzzleId) -> Option<&'a Puzzle> {
    scenario.puzzles.iter().find(|p| p.id == *id)
}

fn answer_page(
    page: &mut ChildSpawnerCommands,
    scenario: &Scenario,
    p: &Puzzle,
    m: &TerminalModel,
    looks: &Looks,
) {
    if m.open.len() > 1 {
        page.spawn(ui::row(12.0)).with_children(|tabs| {
            for id in &m.open {
                let title = puzzle_of(scenario, id)
                    .map(|x| x.title.fr.clone())
                    .unwrap_or_default();
                let current = *id == p.id;
                button(
                    tabs,
                    title,
                    TerminalAction::Choose(id.clone()),
                    if current { ui::ACCENT } else { ui::BUTTON },
                    ui::BUTTON,
                    160.0,
                    24.0,
                );
            }
        });
    }
    page.spawn(ui::text(p.title.fr.clone(), 40.0, ui::INK));
    said(page, super::state::prompt_of(p), 28.0, ui::MUTED, looks);
    let locked = matches!(
        m.verdict,
        Some(Verdict::Sent { .. } | Verdict::Committed | Verdict::Right)
    );
    // The puzzle takes the room left; the action bar below always stays on screen.
    page.spawn(Node {
        flex_grow: 1.0,
        flex_shrink: 1.0,
        min_height: px(0.0),
        flex_direction: FlexDirection::Column,
        row_gap: px(12.0),
        overflow: Overflow::clip(),
        ..default()
    })
    .with_children(|body| match &p.kind {
        PuzzleKind::CodeEntry { .. } | PuzzleKind::MultiStation { .. } => {
            typed(body, p, &m.draft, None);
        }
        PuzzleKind::HeadsetGuided { .. } => {
            typed(
                body,
                p,
                &m.draft,
                Some("La personne au casque voit ce qu'il faut trouver : écoutez-la."),
            );
        }
        PuzzleKind::DocumentComparison { documents, .. } => {
            body.spawn(ui::text(
                "Touchez une ligne pour la choisir ; touchez-la encore pour l'enlever.",
                22.0,
                ui::SELECTED,
            ));
            body.spawn(Node {
                flex_direction: FlexDirection::Row,
                column_gap: px(14.0),
                ..default()
            })
            .with_children(|docs| {
                for d in documents {
                    docs.spawn((
                        Node {
                            flex_grow: 1.0,
                            flex_basis: px(0.0),
                            flex_direction: FlexDirection::Column,
                            row_gap: px(6.0),
                            padding: UiRect::all(px(10.0)),
                            border_radius: BorderRadius::all(px(12.0)),
                            ..default()
                        },
                        BackgroundColor(ui::CARD),
                    ))
                    .with_children(|c| {
                        c.spawn(ui::text(d.title.fr.clone(), 23.0, ui::INK));
                        for line in &d.lines {
                            let on = m.draft.selected.contains(&line.id);
                            sized_button(
                                c,
                                line.text.fr.clone(),
                                TerminalAction::Toggle(line.id.clone()),
                                if on {
                                    (ui::SELECTED, ui::INK)
                                } else {
                                    (ui::BUTTON, ui::BUTTON)
                                },
                                (0.0, 48.0),
                                18.0,
                            );
                        }
                    });
                }
            });
        }
        PuzzleKind::Matching { left, right, .. } => {
            for l in left {
                body.spawn((
                    Node {
                        flex_direction: FlexDirection::Row,
                        align_items: AlignItems::Center,
                        column_gap: px(14.0),
                        padding: UiRect::all(px(8.0)),
                        border_radius: BorderRadius::all(px(12.0)),
                        ..default()
                    },
                    BackgroundColor(ui::CARD),
                ))
                .with_children(|row| {
                    row.spawn((
                        ui::text(l.text.fr.clone(), 26.0, ui::INK),
                        Node {
                            flex_grow: 1.0,
                            flex_basis: px(0.0),
                            ..default()
                        },
                    ));
                    listen(row, &l.text, looks, 18.0);
                    for r in right {
                        let on = m.draft.pairs.get(&l.id) == Some(&r.id);
                        button(
                            row,
                            r.text.fr.clone(),
                            TerminalAction::Pair(l.id.clone(), r.id.clone()),
                            if on { ui::SELECTED } else { ui::BUTTON },
                            if on { ui::INK } else { ui::BUTTON },
                            140.0,
                            28.0,
                        );
                    }
                });
            }
        }
        PuzzleKind::Ordering { items, .. } => {
            // Two columns: the steps left to place, and the order built so far.
            body.spawn(Node {
                flex_direction: FlexDirection::Row,
                column_gap: px(20.0),
                ..default()
            })
            .with_children(|cols| {
                let column = || Node {
                    flex_grow: 1.0,
                    flex_basis: px(0.0),
                    flex_direction: FlexDirection::Column,
                    row_gap: px(8.0),
                    padding: UiRect::all(px(12.0)),
                    border_radius: BorderRadius::all(px(12.0)),
                    ..default()
                };
                cols.spawn((column(), BackgroundColor(ui::CARD)))
                    .with_children(|c| {
                        c.spawn(ui::text(
                            "Étapes : touchez la première, puis la suivante…",
                            22.0,
                            ui::MUTED,
                        ));
                        for item in items.iter().filter(|i| !m.draft.order.contains(&i.id)) {
                            c.spawn(Node {
                                flex_direction: FlexDirection::Row,
                                align_items: AlignItems::Center,
                                column_gap: px(8.0),
                                ..default()
                            })
                            .with_children(|row| {
                                row.spawn(Node {
                                    flex_grow: 1.0,
                                    flex_direction: FlexDirection::Column,
                                    ..default()
                                })
                                .with_children(|cell| {
                                    sized_button(
                                        cell,
                                        item.text.fr.clone(),
                                        TerminalAction::Tap(item.id.clone()),
                                        (ui::BUTTON, ui::BUTTON),
                                        (0.0, 56.0),
                                        21.0,
                                    );
                                });
                                listen(row, &item.text, looks, 18.0);
                            });
                        }
                    });
                cols.spawn((column(), BackgroundColor(ui::CARD)))
                    .with_children(|c| {
                        c.spawn(ui::text(
                            "Votre ordre (touchez une étape pour la reprendre)",
                            22.0,
                            ui::MUTED,
                        ));
                        for (n, id) in m.draft.order.iter().enumerate() {
                            let text = items
                                .iter()
                                .find(|i| i.id == *id)
                                .map(|i| i.text.fr.clone())
                                .unwrap_or_default();
                            sized_button(
                                c,
                                format!("{}.  {text}", n + 1),
                                TerminalAction::Tap(id.clone()),
                                (ui::SELECTED, ui::SELECTED),
                                (0.0, 56.0),
                                21.0,
                            );
                        }
                    });
            });
        }
    });
    // The answer's fate, then the actions.
    page.spawn(ui::row(16.0)).with_children(|bar| {
        let (banner, color) = match m.verdict {
            Some(Verdict::Sent { .. } | Verdict::Committed) => {
                ("Réponse envoyée. La régie vérifie…", ui::ACCENT)
            }
            Some(Verdict::Right) => ("Bonne réponse !", ui::GOOD),
            Some(Verdict::Wrong) => (
                "Ce n'est pas la bonne réponse. Changez-la et validez encore.",
                ui::BAD,
            ),
            None => ("", ui::BACKGROUND),
        };
        let hint_label = if m.hint_requested {
            "Indice demandé"
        } else {
            "Demander un indice"
        };
        button(
            bar,
            hint_label,
            TerminalAction::Hint,
            ui::BUTTON,
            ui::BUTTON,
            260.0,
            28.0,
        );
        let can_send = !locked && ready(p, &m.draft);
        button(
            bar,
            "Valider",
            TerminalAction::Submit,
            if can_send { ui::GOOD } else { ui::BUTTON },
            if can_send { ui::GOOD } else { ui::BUTTON },
            260.0,
            32.0,
        );
        if !banner.is_empty() {
            bar.spawn((
                Node {
                    padding: UiRect::axes(px(18.0), px(12.0)),
                    border_radius: BorderRadius::all(px(12.0)),
                    ..default()
                },
                BackgroundColor(color),
            ))
            .with_children(|b| {
                b.spawn(ui::text(banner, 30.0, ui::INK));
            });
        }
    });
}

/// The typed answer and its keypad: digits only for numeric codes, else digits and letters.
fn typed(body: &mut ChildSpawnerCommands, p: &Puzzle, draft: &Draft, note: Option<&str>) {
    if let Some(note) = note {
        body.spawn(ui::text(note, 26.0, ui::SELECTED));
    }
    body.spawn((
        Node {
            min_height: px(80.0),
            min_width: px(420.0),
            padding: UiRect::axes(px(20.0), px(8.0)),
            align_items: AlignItems::Center,
            border: UiRect::all(px(3.0)),
            border_radius: BorderRadius::all(px(12.0)),
            ..default()
        },
        BackgroundColor(ui::CARD),
        BorderColor::all(ui::ACCENT),
    ))
    .with_children(|f| {
        let shown = if draft.text.is_empty() {
            "Votre réponse".to_owned()
        } else {
            draft.text.clone()
        };
        let color = if draft.text.is_empty() {
            ui::MUTED
        } else {
            ui::INK
        };
        f.spawn(ui::text(shown, 52.0, color));
    });
    let rows: Vec<Vec<char>> = if digits_only(p) {
        vec![
            "123".chars().collect(),
            "456".chars().collect(),
            "789".chars().collect(),
            "0".chars().collect(),
        ]
    } else {
        vec![
            "1234567890".chars().collect(),
            "AZERTYUIOP".chars().collect(),
            "QSDFGHJKLM".chars().collect(),
            "WXCVBN,-".chars().collect(),
        ]
    };
    let digits = digits_only(p);
    let size = if digits { 100.0 } else { 74.0 };
    // The editing keys end the rows that have room for them: the keypad stays four rows high,
    // so a long question still leaves it whole above the action bar.
    let extras = |row: usize| -> Vec<(&'static str, TerminalAction, f32)> {
        let space = ("Espace", TerminalAction::Key(' '), 240.0);
        let erase = ("⌫ Effacer", TerminalAction::Backspace, 200.0);
        let clear = ("Tout effacer", TerminalAction::Clear, 200.0);
        match (digits, row) {
            (true, 3) => vec![erase, clear],
            (false, 0) => vec![clear],
            (false, 3) => vec![space, erase],
            _ => Vec::new(),
        }
    };
    body.spawn(ui::column(8.0)).with_children(|pad| {
        for (n, keys) in rows.into_iter().enumerate() {
            pad.spawn(Node {
                flex_direction: FlexDirection::Row,
                column_gap: px(8.0),
                ..default()
            })
            .with_children(|r| {
                for k in keys {
                    button(
                        r,
                        k.to_string(),
                        TerminalAction::Key(k),
                        ui::BUTTON,
                        ui::BUTTON,
                        size,
                        34.0,
                    );
                }
                for (label, action, width) in extras(n) {
                    button(r, label, action, ui::BUTTON, ui::BUTTON, width, 28.0);
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(key: Key, text: Option<&str>, digits: bool) -> Option<TerminalAction> {
        typed_action(&key, text, digits)
    }

    #[test]
    fn a_physical_keyboard_types_what_the_on_screen_keys_would() {
        let ch = |c: &str| Key::Character(c.into());
        // A numeric code: digits only (a letter or a space does nothing).
        assert_eq!(
            typed(ch("7"), Some("7"), true),
            Some(TerminalAction::Key('7'))
        );
        assert_eq!(typed(ch("a"), Some("a"), true), None);
        assert_eq!(typed(Key::Space, Some(" "), true), None);
        // Text: letters upper-cased like the AZERTY keys, accents kept, space, comma, hyphen.
        assert_eq!(
            typed(ch("é"), Some("é"), false),
            Some(TerminalAction::Key('É'))
        );
        assert_eq!(
            typed(Key::Space, Some(" "), false),
            Some(TerminalAction::Key(' '))
        );
        assert_eq!(
            typed(ch("-"), Some("-"), false),
            Some(TerminalAction::Key('-'))
        );
        assert_eq!(typed(ch("$"), Some("$"), false), None);
        // A dead key's leftover plus a letter is two characters: ignored, not half-typed.
        assert_eq!(typed(ch("^a"), Some("^a"), false), None);
        // Editing and sending, whatever the kind.
        assert_eq!(
            typed(Key::Backspace, None, true),
            Some(TerminalAction::Backspace)
        );
        assert_eq!(typed(Key::Delete, None, false), Some(TerminalAction::Clear));
        assert_eq!(typed(Key::Enter, None, true), Some(TerminalAction::Submit));
        assert_eq!(typed(Key::Tab, None, false), None);
    }
}
