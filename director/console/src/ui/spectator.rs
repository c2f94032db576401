//! « Ce que regardent les casques »: for each headset that streams its head pose, what its
//! wearer is doing (the immersion, started, paused, finished; what the headset shows: a
//! hotspot, a task, the questionnaire, with the board's words) and looking at (the hotspot in
//! front, else the heading), over a picture: the scene drawn from the wearer's head, or the
//! 360° film's poster frame in its direction (`spectator_view`), with the hotspots and the
//! pointer's ray over it. Before a picture is drawn (and where there is no renderer), the 360°
//! film's panorama with its hotspots and the field of view, or the scene's plan seen from above
//! with its hotspots, the head and its view cone. A click on a picture enlarges it, with the
//! plan beside it (again: back). On the devices screen.

use super::{ConsoleState, MUTED, NOTICE};
use crate::i18n::{Locale, tr};
use crate::spectator::{Gaze, Place, Sight, project, spot_point};
use crate::spectator_view::Wanted;
use crate::view::SessionView;
use boussole_protocol::wire::{Doing, Pose};
use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Ui, Vec2, pos2, vec2};

/// A pose older than this is said to be old, ms.
const STALE_MS: u64 = 3_000;
/// The horizontal field of view drawn on a panorama, degrees.
const FOV_DEG: f32 = 90.0;
/// The vertical field of view drawn on a panorama, degrees.
const FOV_V_DEG: f32 = 60.0;
const SPOT: Color32 = Color32::from_rgb(240, 200, 60);
const ON: Color32 = Color32::from_rgb(60, 200, 90);
const HEAD: Color32 = Color32::from_rgb(90, 160, 255);
const RAY: Color32 = Color32::from_rgb(255, 140, 40);
/// How far the pointer's ray is drawn, metres.
const RAY_M: f32 = 8.0;

/// The panel; nothing when no headset streams its pose.
pub fn panel(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) {
    let l = state.locale;
    state.spectator_wanted.clear();
    if view.poses.poses.is_empty() {
        return;
    }
    ui.heading(tr!(l, "spectator-title"));
    if let Some(count) = state.spectator_pictures.slowed {
        ui.label(RichText::new(tr!(l, "spectator-slowed", count = count)).color(MUTED));
    }
    // The enlarged view on a row of its own, the others after it.
    let large_one = view
        .poses
        .poses
        .iter()
        .find(|hp| state.spectator_large.as_deref() == Some(hp.device.as_str()));
    if let Some(hp) = large_one {
        card(ui, view, state, hp);
    }
    ui.horizontal_wrapped(|ui| {
        for hp in &view.poses.poses {
            if state.spectator_large.as_deref() != Some(hp.device.as_str()) {
                card(ui, view, state, hp);
            }
        }
    });
    if view.poses.ignored > 0 {
        ui.label(
            RichText::new(tr!(l, "spectator-ignored", count = view.poses.ignored))
                .small()
                .color(MUTED),
        );
    }
}

/// One headset's card: who, what they do and read, what they look at, and the picture.
fn card(
    ui: &mut Ui,
    view: &SessionView,
    state: &mut ConsoleState,
    hp: &boussole_protocol::wire::HeadsetPose,
) {
    let l = state.locale;
    let device = hp.device.as_str();
    let large = state.spectator_large.as_deref() == Some(device);
    let run = view.engine.immersions().get(&hp.device);
    // What the headset shows: the tutorial before the assigned immersion, for a first
    // comer.
    let shown =
        run.map(|r| super::prepare::running_first(view, r).unwrap_or_else(|| r.immersion.clone()));
    let sight = shown.as_ref().and_then(|i| view.sights.0.get(i));
    let gaze = view.sights.gaze(shown.as_ref(), &hp.pose);
    ui.group(|ui| {
        ui.vertical(|ui| {
            let name = view
                .desk
                .as_ref()
                .and_then(|d| d.device_names.get(device))
                .map_or_else(|| device.to_owned(), |n| format!("{n} ({device})"));
            ui.label(RichText::new(name).strong());
            let doing = match run {
                None => tr!(l, "spectator-no-immersion"),
                Some(r) => {
                    let title = sight.map_or_else(
                        || shown.as_ref().map(ToString::to_string).unwrap_or_default(),
                        |s| s.title.clone(),
                    );
                    let who = view
                        .engine
                        .participants()
                        .get(&r.participant)
                        .map_or_else(|| r.participant.to_string(), |p| p.pseudonym.clone());
                    let status = if r.stopped.is_some() {
                        tr!(l, "spectator-finished")
                    } else if r.started.is_none() {
                        tr!(l, "spectator-waiting")
                    } else if view.engine.paused_headsets().contains_key(&hp.device) {
                        tr!(l, "spectator-paused")
                    } else {
                        tr!(l, "spectator-running")
                    };
                    format!("{who} — {title} — {status}")
                }
            };
            let pixels = if large {
                crate::spectator_view::LARGE
            } else {
                crate::spectator_view::SMALL
            };
            let size = vec2(pixels.x as f32, pixels.y as f32);
            ui.set_max_width(if large { size.x + 268.0 } else { size.x });
            ui.label(doing);
            if let Some(shows) = &hp.pose.shows {
                ui.label(doing_label(shows.doing, l));
                if !shows.board.is_empty() {
                    ui.add(
                        egui::Label::new(
                            RichText::new(tr!(l, "spectator-board", text = shows.board.clone()))
                                .italics()
                                .small(),
                        )
                        .wrap(),
                    );
                }
            }
            ui.label(looking(&gaze, l));
            let age = view.now.0.saturating_sub(hp.received_ms);
            if age > STALE_MS {
                let seconds = age / 1000;
                ui.label(RichText::new(tr!(l, "spectator-stale", seconds = seconds)).color(NOTICE));
            }
            if let Some(sight) = sight {
                state.spectator_wanted.push(Wanted {
                    device: device.to_owned(),
                    backdrop: sight.backdrop.clone(),
                    pose: hp.pose.clone(),
                    large,
                });
            }
            let drawn = state.spectator_pictures.textures.get(device).copied();
            let response = ui
                .horizontal(|ui| {
                    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
                    match (sight, drawn) {
                        (Some(sight), Some(texture)) => {
                            rendered(ui, rect, texture, sight, &gaze, &hp.pose, large);
                        }
                        _ => picture(ui, rect, sight, &gaze, hp.pose.position_m, large),
                    }
                    // Enlarged, the plan (or the panorama) beside the view.
                    if large && drawn.is_some() {
                        let (plan, _) = ui.allocate_exact_size(vec2(260.0, 130.0), Sense::hover());
                        picture(ui, plan, sight, &gaze, hp.pose.position_m, false);
                    }
                    response
                })
                .inner;
            let label = tr!(l, "spectator-picture", device = device.to_owned());
            response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::Button, true, label.clone())
            });
            if response
                .on_hover_text(tr!(l, "spectator-enlarge"))
                .clicked()
            {
                state.spectator_large = if large { None } else { Some(device.to_owned()) };
            }
        });
    });
}

/// What a headset's wearer is doing, in words.
pub fn doing_label(doing: Doing, l: Locale) -> String {
    match doing {
        Doing::Waiting => tr!(l, "spectator-doing-waiting"),
        Doing::Introduction => tr!(l, "spectator-doing-introduction"),
        Doing::Exploring => tr!(l, "spectator-doing-exploring"),
        Doing::Hotspot => tr!(l, "spectator-doing-hotspot"),
        Doing::Task => tr!(l, "spectator-doing-task"),
        Doing::Questionnaire => tr!(l, "spectator-doing-questionnaire"),
        Doing::Break => tr!(l, "spectator-doing-break"),
        Doing::Paused => tr!(l, "spectator-doing-paused"),
        Doing::Finished => tr!(l, "spectator-doing-finished"),
        Doing::Stopped => tr!(l, "spectator-doing-stopped"),
        Doing::Guided => tr!(l, "spectator-doing-guided"),
    }
}

/// The rendered view (`texture`), with the hotspots in the field (the one looked at green and
/// named; all named when `large`), the pointer's ray and the middle of the view over it.
fn rendered(
    ui: &Ui,
    rect: Rect,
    texture: egui::TextureId,
    sight: &Sight,
    gaze: &Gaze,
    pose: &Pose,
    large: bool,
) {
    let painter = ui.painter_at(rect);
    painter.image(
        texture,
        rect,
        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
        Color32::WHITE,
    );
    let head = pose.position_m;
    let at = |p: [f32; 3]| {
        project(head, pose.orientation, p).map(|[x, y]| rect.min + vec2(x, y) * rect.size())
    };
    let on = gaze.on.as_ref().map(|s| &s.id);
    for spot in &sight.spots {
        let Some(p) = at(spot_point(sight, spot, head)).filter(|p| rect.contains(*p)) else {
            continue;
        };
        let looked = on == Some(&spot.id);
        dot(
            &painter,
            p,
            (large || looked).then_some(spot.title.as_str()),
            looked,
        );
    }
    if let Some(ray) = &pose.pointer {
        // The ray as a polyline of its points in front of the head (a ray may start beside
        // the head and cross the view).
        let points: Vec<Option<Pos2>> = (0..=32_u8)
            .map(|i| {
                let t = RAY_M * f32::from(i) / 32.0;
                at([
                    ray.origin_m[0] + ray.direction[0] * t,
                    ray.origin_m[1] + ray.direction[1] * t,
                    ray.origin_m[2] + ray.direction[2] * t,
                ])
            })
            .collect();
        for pair in points.windows(2) {
            if let [Some(a), Some(b)] = pair {
                painter.line_segment([*a, *b], Stroke::new(2.5, RAY));
            }
        }
    }
    let centre = rect.center();
    painter.circle_stroke(centre, 4.0, Stroke::new(1.5, HEAD));
}

/// « Regarde : … » or the heading.
pub fn looking(gaze: &Gaze, l: Locale) -> String {
    match &gaze.on {
        Some(spot) => tr!(l, "spectator-looking-at", what = spot.title.clone()),
        None => tr!(
            l,
            "spectator-looking-away",
            yaw = format!("{:.0}", gaze.yaw_deg),
            pitch = format!("{:+.0}", gaze.pitch_deg)
        ),
    }
}

/// The picture: every hotspot a dot, the one looked at green and named (all named when
/// `large`), and the field of view.
fn picture(ui: &Ui, rect: Rect, sight: Option<&Sight>, gaze: &Gaze, head: [f32; 3], large: bool) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, Color32::from_gray(28));
    let Some(sight) = sight else {
        // No immersion known: the heading on a compass line.
        let x = rect.left() + (gaze.yaw_deg + 180.0) / 360.0 * rect.width();
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            Stroke::new(2.0, HEAD),
        );
        return;
    };
    let on = gaze.on.as_ref().map(|s| &s.id);
    match sight.place {
        Place::Film => {
            let at = |yaw: f32, pitch: f32| {
                pos2(
                    rect.left() + (yaw + 180.0) / 360.0 * rect.width(),
                    rect.top() + (90.0 - pitch) / 180.0 * rect.height(),
                )
            };
            painter.line_segment(
                [at(-180.0, 0.0), at(180.0, 0.0)],
                Stroke::new(1.0, Color32::from_gray(70)),
            );
            // The field of view, drawn twice across the seam when it straddles it.
            for shift in [-360.0, 0.0, 360.0] {
                let yaw = gaze.yaw_deg + shift;
                let view = Rect::from_two_pos(
                    at(yaw - FOV_DEG / 2.0, gaze.pitch_deg + FOV_V_DEG / 2.0),
                    at(yaw + FOV_DEG / 2.0, gaze.pitch_deg - FOV_V_DEG / 2.0),
                );
                painter.rect_stroke(view, 2.0, Stroke::new(2.0, HEAD), egui::StrokeKind::Inside);
            }
            for spot in &sight.spots {
                let looked = on == Some(&spot.id);
                let title = (large || looked).then_some(spot.title.as_str());
                dot(&painter, at(spot.at[0], spot.at[1]), title, looked);
            }
        }
        Place::Scene { min, max } => {
            // The part of the floor that matters: the hotspots and the head, a metre around,
            // within the scene's bounds.
            let (mut lo, mut hi) = ((head[0], head[2]), (head[0], head[2]));
            for spot in &sight.spots {
                lo = (lo.0.min(spot.at[0]), lo.1.min(spot.at[2]));
                hi = (hi.0.max(spot.at[0]), hi.1.max(spot.at[2]));
            }
            let lo = ((lo.0 - 1.0).max(min.0), (lo.1 - 1.0).max(min.1));
            let hi = ((hi.0 + 1.0).min(max.0), (hi.1 + 1.0).min(max.1));
            let (w, h) = ((hi.0 - lo.0).max(0.1), (hi.1 - lo.1).max(0.1));
            let scale = (rect.width() / w).min(rect.height() / h) * 0.9;
            let origin = rect.center() - vec2(w, h) * scale / 2.0;
            let at = |x: f32, z: f32| origin + vec2((x - lo.0) * scale, (z - lo.1) * scale);
            painter.rect_stroke(
                Rect::from_min_size(origin, vec2(w, h) * scale),
                0.0,
                Stroke::new(1.0, Color32::from_gray(90)),
                egui::StrokeKind::Inside,
            );
            for spot in &sight.spots {
                let looked = on == Some(&spot.id);
                dot(
                    &painter,
                    at(spot.at[0], spot.at[2]),
                    (large || looked).then_some(spot.title.as_str()),
                    looked,
                );
            }
            let me = at(head[0], head[2]);
            let ray = |deg: f32| {
                let r = deg.to_radians();
                me + Vec2::new(r.sin(), -r.cos()) * rect.height() * 0.35
            };
            for edge in [-FOV_DEG / 2.0, FOV_DEG / 2.0] {
                painter.line_segment([me, ray(gaze.yaw_deg + edge)], Stroke::new(1.0, HEAD));
            }
            painter.line_segment([me, ray(gaze.yaw_deg)], Stroke::new(2.0, HEAD));
            painter.circle_filled(me, 5.0, HEAD);
        }
    }
}

/// A hotspot: a dot, and its title on a dark label (readable over a light scene).
fn dot(painter: &egui::Painter, at: Pos2, title: Option<&str>, on: bool) {
    let colour = if on { ON } else { SPOT };
    painter.circle_filled(at, if on { 6.0 } else { 4.0 }, colour);
    painter.circle_stroke(
        at,
        if on { 6.0 } else { 4.0 },
        Stroke::new(1.0, Color32::BLACK),
    );
    if let Some(title) = title {
        let galley = painter.layout_no_wrap(
            title.to_owned(),
            egui::FontId::proportional(if on { 13.0 } else { 11.0 }),
            colour,
        );
        let text = Rect::from_min_size(at + vec2(8.0, -galley.size().y - 2.0), galley.size());
        painter.rect_filled(text.expand(2.0), 3.0, Color32::from_black_alpha(190));
        painter.galley(text.min, galley, colour);
    }
}
