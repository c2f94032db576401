//! The timeline screen (« Frise »): the session drawn rather than listed. Time runs left to
//! right (a line every minute, a label every five); the phases are bands across the top, each
//! puzzle a bar from its opening to its solving; then each person has a row per rater, points
//! as ticks and states as bars, and a row of what the game recorded for them (hints as
//! triangles, answers as marks). A piece of evidence clicked on the evaluation screen opens
//! here, a red line at its time, scrolled into view. Every mark names itself on hover (and to
//! screen readers).

use super::{ConsoleState, colour, mmss};
use crate::i18n::tr;
use crate::view::SessionView;
use boussole_content::grid::EventKind;
use boussole_director::engine::{GameEventKind, Millis, ParticipantId, PuzzleStatus, RaterId};
use egui::{Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, Ui, Vec2};

/// Width of the names' column, points.
const NAMES: f32 = 170.0;
/// Height of a row, points.
const ROW: f32 = 20.0;
/// Zoom bounds, points per minute.
const ZOOM: std::ops::RangeInclusive<f32> = 8.0..=240.0;

/// The screen's state.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineState {
    /// Points per minute of session.
    pub zoom: f32,
    /// A moment to show (from the evaluation screen), and whether it was scrolled to yet.
    pub focus: Option<(Millis, bool)>,
}

impl Default for TimelineState {
    fn default() -> Self {
        Self {
            zoom: 24.0,
            focus: None,
        }
    }
}

impl TimelineState {
    /// Opens the timeline on `at` (a red line there, scrolled into view).
    pub fn show(&mut self, at: Millis) {
        self.focus = Some((at, false));
    }
}

/// A behaviour's colour: a fixed palette, by its place in the grid.
fn behaviour_colour(index: usize) -> Color32 {
    const PALETTE: [Color32; 10] = [
        Color32::from_rgb(86, 156, 214),
        Color32::from_rgb(230, 145, 56),
        Color32::from_rgb(106, 190, 110),
        Color32::from_rgb(206, 92, 92),
        Color32::from_rgb(170, 120, 210),
        Color32::from_rgb(80, 190, 190),
        Color32::from_rgb(220, 200, 80),
        Color32::from_rgb(200, 110, 170),
        Color32::from_rgb(150, 150, 150),
        Color32::from_rgb(120, 170, 60),
    ];
    PALETTE[index % PALETTE.len()]
}

/// The timeline screen.
pub fn timeline(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) {
    let l = state.locale;
    let s = &mut state.timeline;
    let e = &view.engine;
    ui.horizontal_wrapped(|ui| {
        ui.heading(tr!(l, "tl-title"));
        ui.add_space(16.0);
        let label = ui.label(tr!(l, "tl-zoom"));
        ui.add(
            egui::Slider::new(&mut s.zoom, ZOOM)
                .logarithmic(true)
                .suffix(" pt/min"),
        )
        .labelled_by(label.id);
    });
    ui.label(RichText::new(tr!(l, "tl-legend")).small());
    let end = e
        .times()
        .closed
        .or(e.times().ended)
        .unwrap_or(view.now)
        .max(view.now)
        .max(Millis(60_000));
    let minutes = end.0 as f32 / 60_000.0;
    let x_of = |origin: f32, t: Millis| origin + NAMES + t.0 as f32 / 60_000.0 * s.zoom;
    let raters: Vec<RaterId> = {
        let mut r: Vec<RaterId> = e.observations().iter().map(|o| o.rater.clone()).collect();
        r.sort();
        r.dedup();
        r
    };
    let people: Vec<(&ParticipantId, &boussole_director::engine::Participant)> =
        e.participants().iter().collect();
    let puzzles = &e.scenario().puzzles;
    let rows = 2 + puzzles.len() + people.len() * (raters.len() + 2);
    let size = Vec2::new(NAMES + minutes * s.zoom + 40.0, rows as f32 * ROW + 24.0);
    let focus = s.focus;
    egui::ScrollArea::both()
        .id_salt("timeline")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let (area, _) = ui.allocate_exact_size(size, Sense::hover());
            let origin = area.left();
            let painter = ui.painter_at(area);
            let mut y = area.top();
            // The time axis: a line a minute, a label every five.
            let faint = Stroke::new(1.0, Color32::from_gray(55));
            for m in 0..=minutes.ceil() as u64 {
                let x = x_of(origin, Millis(m * 60_000));
                painter.line_segment(
                    [Pos2::new(x, area.top() + 16.0), Pos2::new(x, area.bottom())],
                    if m % 5 == 0 {
                        Stroke::new(1.0, Color32::from_gray(85))
                    } else {
                        faint
                    },
                );
                if m % 5 == 0 {
                    painter.text(
                        Pos2::new(x, area.top()),
                        Align2::CENTER_TOP,
                        format!("{m} min"),
                        FontId::proportional(12.0),
                        Color32::from_gray(170),
                    );
                }
            }
            y += 24.0;
            // Phases as bands.
            name(
                &painter,
                area,
                y,
                &tr!(l, "tl-phases"),
                Color32::from_gray(200),
            );
            let starts = e.phase_starts();
            for (i, (phase, at)) in starts.iter().enumerate() {
                let until = starts.get(i + 1).map_or(end, |(_, t)| *t);
                let rect = Rect::from_min_max(
                    Pos2::new(x_of(origin, *at), y + 2.0),
                    Pos2::new(x_of(origin, until), y + ROW - 2.0),
                );
                let shade = if i % 2 == 0 { 70 } else { 95 };
                painter.rect_filled(rect, 3.0, Color32::from_rgb(shade, shade, shade + 30));
                let title = e
                    .scenario()
                    .phases
                    .iter()
                    .find(|p| p.id == *phase)
                    .map_or_else(|| phase.to_string(), |p| p.title.fr.clone());
                painter.with_clip_rect(rect).text(
                    rect.left_center() + Vec2::new(4.0, 0.0),
                    Align2::LEFT_CENTER,
                    &title,
                    FontId::proportional(13.0),
                    Color32::WHITE,
                );
                mark(ui, rect, format!("{title} : {}–{}", mmss(*at), mmss(until)));
            }
            y += ROW;
            // Each puzzle, from its opening to its solving.
            for p in puzzles {
                name(&painter, area, y, &p.title.fr, Color32::from_gray(170));
                if let Some(opened) = e.puzzles_opened().get(&p.id) {
                    let (until, solved) = match e.puzzles().get(&p.id) {
                        Some(PuzzleStatus::Solved { at, .. }) => (*at, true),
                        _ => (end, false),
                    };
                    let rect = Rect::from_min_max(
                        Pos2::new(x_of(origin, *opened), y + 5.0),
                        Pos2::new(
                            x_of(origin, until).max(x_of(origin, *opened) + 2.0),
                            y + ROW - 5.0,
                        ),
                    );
                    let c = if solved {
                        Color32::from_rgb(60, 140, 80)
                    } else {
                        Color32::from_rgb(120, 120, 60)
                    };
                    painter.rect_filled(rect, 2.0, c);
                    let text = if solved {
                        tr!(
                            l,
                            "tl-puzzle-solved",
                            title = p.title.fr.as_str(),
                            from = mmss(*opened),
                            to = mmss(until)
                        )
                    } else {
                        tr!(
                            l,
                            "tl-puzzle-open",
                            title = p.title.fr.as_str(),
                            from = mmss(*opened)
                        )
                    };
                    mark(ui, rect, text);
                }
                y += ROW;
            }
            y += ROW;
            // Each person: a row per rater, then the game's row.
            let grid = e.grid();
            let title_of = |id: &boussole_content::ids::PuzzleId| {
                puzzles
                    .iter()
                    .find(|p| p.id == *id)
                    .map_or_else(|| id.to_string(), |p| p.title.fr.clone())
            };
            for (id, person) in &people {
                let c = colour(&person.colour);
                let band = Rect::from_min_max(
                    Pos2::new(area.left(), y),
                    Pos2::new(area.left() + NAMES - 8.0, y + ROW),
                );
                painter.rect_filled(band, 3.0, c);
                painter.text(
                    band.left_center() + Vec2::new(4.0, 0.0),
                    Align2::LEFT_CENTER,
                    &person.pseudonym,
                    FontId::proportional(14.0),
                    Color32::BLACK,
                );
                mark(ui, band, person.pseudonym.clone());
                y += ROW;
                for rater in &raters {
                    name(
                        &painter,
                        area,
                        y,
                        &format!("  {}", rater.as_str()),
                        Color32::from_gray(160),
                    );
                    for o in e.observations().iter().filter(|o| {
                        o.participant.as_ref() == Some(*id)
                            && o.rater == *rater
                            && o.retracted.is_none()
                    }) {
                        let Some(b) = &o.behaviour else { continue };
                        let index = grid.behaviours.iter().position(|x| x.id == *b).unwrap_or(0);
                        let behaviour = grid.behaviours.get(index);
                        let label = behaviour.map_or_else(|| b.to_string(), |x| x.label.clone());
                        let kind = behaviour.map_or(EventKind::Point, |x| x.kind);
                        let x0 = x_of(origin, o.at);
                        let rect = match kind {
                            EventKind::Point => Rect::from_min_max(
                                Pos2::new(x0 - 1.5, y + 3.0),
                                Pos2::new(x0 + 1.5, y + ROW - 3.0),
                            ),
                            EventKind::State => Rect::from_min_max(
                                Pos2::new(x0, y + 6.0),
                                Pos2::new(
                                    x_of(origin, o.until.unwrap_or(end)).max(x0 + 2.0),
                                    y + ROW - 6.0,
                                ),
                            ),
                        };
                        painter.rect_filled(rect, 1.0, behaviour_colour(index));
                        let text = match (kind, o.until) {
                            (EventKind::State, Some(until)) => format!(
                                "{label} — {}, {}–{} ({})",
                                person.pseudonym,
                                mmss(o.at),
                                mmss(until),
                                rater.as_str()
                            ),
                            _ => format!(
                                "{label} — {}, {} ({})",
                                person.pseudonym,
                                mmss(o.at),
                                rater.as_str()
                            ),
                        };
                        mark(ui, rect.expand(3.0), text);
                    }
                    y += ROW;
                }
                name(
                    &painter,
                    area,
                    y,
                    &format!("  {}", tr!(l, "tl-game")),
                    Color32::from_gray(160),
                );
                for g in e
                    .game_events()
                    .iter()
                    .filter(|g| g.participant.as_ref() == Some(*id))
                {
                    let x = x_of(origin, g.at);
                    let centre = Pos2::new(x, y + ROW / 2.0);
                    // Drawn, not typed: the console's font has no triangle or cross glyph.
                    let text = match &g.kind {
                        GameEventKind::Solved(p) => {
                            let c = Stroke::new(2.0, Color32::from_rgb(80, 200, 100));
                            painter.line_segment(
                                [centre + Vec2::new(-4.0, 0.0), centre + Vec2::new(-1.0, 4.0)],
                                c,
                            );
                            painter.line_segment(
                                [centre + Vec2::new(-1.0, 4.0), centre + Vec2::new(5.0, -5.0)],
                                c,
                            );
                            tr!(l, "tl-solved", puzzle = title_of(p))
                        }
                        GameEventKind::WrongAnswer(p) => {
                            let c = Stroke::new(2.0, Color32::from_rgb(220, 80, 70));
                            painter.line_segment(
                                [centre + Vec2::new(-4.0, -4.0), centre + Vec2::new(4.0, 4.0)],
                                c,
                            );
                            painter.line_segment(
                                [centre + Vec2::new(-4.0, 4.0), centre + Vec2::new(4.0, -4.0)],
                                c,
                            );
                            tr!(l, "tl-wrong", puzzle = title_of(p))
                        }
                        GameEventKind::HintRequested(p) | GameEventKind::HintReceived(p, _) => {
                            painter.add(egui::Shape::convex_polygon(
                                vec![
                                    centre + Vec2::new(0.0, -5.0),
                                    centre + Vec2::new(5.0, 4.0),
                                    centre + Vec2::new(-5.0, 4.0),
                                ],
                                Color32::from_rgb(230, 200, 60),
                                Stroke::NONE,
                            ));
                            tr!(l, "tl-hint", puzzle = title_of(p))
                        }
                        _ => {
                            painter.circle_filled(centre, 3.0, Color32::from_gray(180));
                            tr!(l, "tl-event")
                        }
                    };
                    let rect =
                        Rect::from_center_size(Pos2::new(x, y + ROW / 2.0), Vec2::splat(10.0));
                    mark(
                        ui,
                        rect,
                        format!("{text} — {}, {}", person.pseudonym, mmss(g.at)),
                    );
                }
                y += ROW + 4.0;
            }
            // The moment asked for, from the evaluation screen.
            if let Some((at, scrolled)) = focus {
                let x = x_of(origin, at);
                painter.line_segment(
                    [Pos2::new(x, area.top()), Pos2::new(x, area.bottom())],
                    Stroke::new(2.0, Color32::from_rgb(230, 50, 50)),
                );
                let rect =
                    Rect::from_center_size(Pos2::new(x, area.top() + 40.0), Vec2::new(40.0, 40.0));
                mark(ui, rect, tr!(l, "tl-focus", at = mmss(at)));
                if !scrolled {
                    ui.scroll_to_rect(rect, Some(egui::Align::Center));
                }
            }
        });
    if let Some((at, false)) = s.focus {
        s.focus = Some((at, true));
    }
}

/// A row's name in the names column.
fn name(painter: &egui::Painter, area: Rect, y: f32, text: &str, c: Color32) {
    painter
        .with_clip_rect(Rect::from_min_max(
            Pos2::new(area.left(), y),
            Pos2::new(area.left() + NAMES - 8.0, y + ROW),
        ))
        .text(
            Pos2::new(area.left() + 2.0, y + ROW / 2.0),
            Align2::LEFT_CENTER,
            text,
            FontId::proportional(13.0),
            c,
        );
}

/// Makes `rect` tell what it is: on hover, and to screen readers (and tests).
fn mark(ui: &mut Ui, rect: Rect, text: String) {
    let id = ui
        .id()
        .with(("mark", rect.min.x.to_bits(), rect.min.y.to_bits()));
    let response = ui.interact(rect, id, Sense::hover());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Other, true, &text));
    response.on_hover_text(text);
}
