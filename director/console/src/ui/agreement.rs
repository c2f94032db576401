//! The agreement screen (« Accord »), after a session coded by two raters: Cohen's kappa as
//! BORIS computes it (overall, without and with modifiers, and per behaviour; our earlier
//! variant by name beside it), and the moments where the two raters disagree, per participant,
//! so they talk them through. Computed on the console's copy of the log with the director's
//! own rules (`boussole_director::irr`), the same as `session agreement` prints.

use super::{ConsoleState, Output, cmd, colour, mmss};
use crate::i18n::{Locale, tr};
use crate::view::SessionView;
use boussole_director::engine::{Command, Millis, Observation, ParticipantId, RaterId};
use boussole_director::irr::{
    self, Agreement, Kappa, KappaMethod, Label, Slicing, raters, strength_fr,
};
use egui::{Color32, RichText, Ui};

/// The slice lengths offered, seconds (BORIS's default interval is 1 s).
pub const SLICES: [f64; 3] = [1.0, 2.0, 5.0];

/// How many moments of disagreement are listed (the earliest first).
const MOMENTS: usize = 40;

/// What the facilitator chose on the screen, and the last computation (recomputed only when
/// the log or a choice changes: a 45-minute session at 1 s is thousands of units).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgreementState {
    /// The two raters compared (`None`: the first two who coded).
    pub raters: Option<[RaterId; 2]>,
    /// Index into [`SLICES`].
    pub slice: usize,
    /// Our earlier variant instead of BORIS's computation.
    pub sets: bool,
    /// The inputs of the cached result and the result.
    cached: Option<(Key, Result<Computed, String>)>,
}

/// Raters, slice, method, observations, retracted, and the session's identity (its scenario
/// and first and last observation times: a session reviewed beside the hosted one has its own).
type Key = (
    [RaterId; 2],
    usize,
    bool,
    usize,
    usize,
    String,
    Option<(Millis, Millis)>,
);

#[derive(Clone, Debug, PartialEq)]
struct Computed {
    agreement: Agreement,
    moments: Vec<Moment>,
}

/// A stretch of consecutive slices where the raters' labels differ for one participant.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    /// The participant.
    pub participant: ParticipantId,
    /// From this sample instant…
    pub from: Millis,
    /// …to this one (included).
    pub to: Millis,
    /// Each rater's label over the stretch (at its first slice).
    pub labels: [Label; 2],
}

/// The stretches where `sl`'s two raters differ, per participant, in time order.
pub fn moments(sl: &Slicing) -> Vec<Moment> {
    let n = sl.subjects.len().max(1);
    let mut out: Vec<Moment> = Vec::new();
    for (s, subject) in sl.subjects.iter().enumerate() {
        let mut open: Option<Moment> = None;
        for k in 0..sl.slices {
            let unit = k * n + s;
            let (Some(a), Some(b)) = (sl.labels[0].get(unit), sl.labels[1].get(unit)) else {
                continue;
            };
            let apart = strip(a) != strip(b);
            match (&mut open, apart) {
                (Some(m), true)
                    if strip(&m.labels[0]) == strip(a) && strip(&m.labels[1]) == strip(b) =>
                {
                    m.to = sl.instant(k);
                }
                (_, true) => {
                    if let Some(m) = open.take() {
                        out.push(m);
                    }
                    open = Some(Moment {
                        participant: subject.clone(),
                        from: sl.instant(k),
                        to: sl.instant(k),
                        labels: [a.clone(), b.clone()],
                    });
                }
                (_, false) => {
                    if let Some(m) = open.take() {
                        out.push(m);
                    }
                }
            }
        }
        if let Some(m) = open {
            out.push(m);
        }
    }
    out.sort_by_key(|m| (m.from, m.participant.clone()));
    out
}

/// A label's behaviours, modifiers and repeats left out (what a facilitator compares).
fn strip(l: &Label) -> Vec<&boussole_content::ids::BehaviourId> {
    let mut v: Vec<_> = l.iter().map(|(b, _)| b).collect();
    v.dedup();
    v
}

/// The agreement screen; once the session is closed, the wash-up on a read-write console whose
/// rater is one of the two: take the other's code, or withdraw one's own, per moment.
pub fn agreement(ui: &mut Ui, view: &SessionView, state: &mut ConsoleState) -> Vec<Output> {
    let mut out = Vec::new();
    let l = state.locale;
    let s = &mut state.agreement;
    ui.heading(tr!(l, "irr-title"));
    let coded = raters(&view.engine);
    if coded.len() < 2 {
        ui.label(tr!(l, "irr-one-rater", count = coded.len()));
        return out;
    }
    let pair = s
        .raters
        .clone()
        .filter(|[a, b]| a != b && coded.contains(a) && coded.contains(b))
        .unwrap_or_else(|| [coded[0].clone(), coded[1].clone()]);
    ui.horizontal_wrapped(|ui| {
        for (i, who) in pair.iter().enumerate() {
            let label = ui.label(tr!(l, "irr-rater", n = (i + 1).to_string()));
            egui::ComboBox::from_id_salt(("irr-rater", i))
                .selected_text(who.as_str())
                .show_ui(ui, |ui| {
                    for r in &coded {
                        if ui.selectable_label(r == who, r.as_str()).clicked() {
                            let mut next = pair.clone();
                            next[i] = r.clone();
                            s.raters = Some(next);
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!(l, "irr-slice"));
        for (i, secs) in SLICES.iter().enumerate() {
            ui.radio_value(&mut s.slice, i, format!("{secs} s"));
        }
        ui.separator();
        ui.radio_value(&mut s.sets, false, tr!(l, "irr-method-boris"));
        ui.radio_value(&mut s.sets, true, tr!(l, "irr-method-sets"));
    });
    let observations = view.engine.observations();
    let key: Key = (
        pair.clone(),
        s.slice,
        s.sets,
        observations.len(),
        observations
            .iter()
            .filter(|o| o.retracted.is_some())
            .count(),
        view.engine.scenario().id.to_string(),
        observations
            .first()
            .zip(observations.last())
            .map(|(a, b)| (a.at, b.at)),
    );
    if s.cached.as_ref().is_none_or(|(k, _)| *k != key) {
        let method = if s.sets {
            KappaMethod::Sets
        } else {
            KappaMethod::Boris
        };
        let secs = SLICES.get(s.slice).copied().unwrap_or(1.0);
        let computed = irr::agreement(&view.engine, &pair[0], &pair[1], secs, method)
            .and_then(|agreement| {
                let sl = irr::slice(&view.engine, &pair[0], &pair[1], secs, method)?;
                Ok(Computed {
                    agreement,
                    moments: moments(&sl),
                })
            })
            .map_err(|e| e.to_string());
        s.cached = Some((key, computed));
    }
    let Some((_, result)) = &s.cached else {
        return out;
    };
    let c = match result {
        Ok(c) => c,
        Err(why) => {
            ui.label(RichText::new(why).color(Color32::from_rgb(200, 40, 40)));
            return out;
        }
    };
    let a = &c.agreement;
    ui.separator();
    ui.label(RichText::new(tr!(l, "irr-overall")).strong());
    ui.label(tr!(
        l,
        "irr-kappa-plain",
        value = kappa_words(&a.without_modifiers, l)
    ));
    ui.label(tr!(
        l,
        "irr-kappa-modifiers",
        value = kappa_words(&a.with_modifiers, l)
    ));
    ui.label(
        RichText::new(tr!(
            l,
            "irr-units",
            slices = a.slices.to_string(),
            participants = a.participants.to_string(),
            a = a.coded[0].to_string(),
            b = a.coded[1].to_string()
        ))
        .small(),
    );
    ui.columns(2, |cols| {
        behaviours(&mut cols[0], a, l);
        disagreements(
            &mut cols[1],
            view,
            &pair,
            &c.moments,
            a.slice_ms,
            &mut out,
            l,
        );
    });
    out
}

/// The standing observations of `rater` behind moment `m` (its participant, a behaviour of
/// its label, within half a slice of the stretch).
fn behind<'a>(
    view: &'a SessionView,
    rater: &RaterId,
    m: &Moment,
    label: &Label,
    slice_ms: u64,
) -> Vec<&'a Observation> {
    let half = slice_ms / 2;
    let (from, to) = (m.from.0.saturating_sub(half), m.to.0 + half);
    let wanted = strip(label);
    view.engine
        .observations()
        .iter()
        .filter(|o| {
            o.rater == *rater
                && o.participant.as_ref() == Some(&m.participant)
                && o.behaviour.as_ref().is_some_and(|b| wanted.contains(&b))
                && o.at.0 <= to
                && o.until.unwrap_or(o.at).0 >= from
        })
        .collect()
}

fn behaviours(ui: &mut Ui, a: &Agreement, l: Locale) {
    ui.label(RichText::new(tr!(l, "irr-per-behaviour")).strong());
    egui::ScrollArea::vertical()
        .id_salt("irr-behaviours")
        .show(ui, |ui| {
            egui::Grid::new("irr-behaviours-grid")
                .striped(true)
                .show(ui, |ui| {
                    ui.label(RichText::new(tr!(l, "irr-behaviour")).small());
                    ui.label(RichText::new(tr!(l, "irr-codes")).small());
                    ui.label(RichText::new("κ").small());
                    ui.end_row();
                    for b in &a.behaviours {
                        ui.label(&b.label);
                        ui.label(format!("{} / {}", b.coded[0], b.coded[1]));
                        match &b.kappa {
                            Some(k) => ui.label(kappa_short(k, l)),
                            None => ui.label(
                                RichText::new(tr!(l, "irr-one-sided"))
                                    .color(Color32::from_rgb(200, 120, 0)),
                            ),
                        };
                        ui.end_row();
                    }
                });
        });
}

fn disagreements(
    ui: &mut Ui,
    view: &SessionView,
    pair: &[RaterId; 2],
    moments: &[Moment],
    slice_ms: u64,
    out: &mut Vec<Output>,
    l: Locale,
) {
    // The wash-up: after the close, on the lead rater's own console.
    let me = pair
        .iter()
        .position(|r| *r == view.me)
        .filter(|_| view.engine.is_closed() && !view.observer);
    ui.label(RichText::new(tr!(l, "irr-moments", count = moments.len())).strong());
    if moments.is_empty() {
        ui.label(tr!(l, "irr-no-moment"));
        return;
    }
    ui.label(RichText::new(tr!(l, "irr-moments-help")).small());
    if me.is_some() {
        ui.label(RichText::new(tr!(l, "irr-wash-up")).small());
    }
    let grid = view.engine.grid();
    let words = |label: &Label| -> String {
        let names: Vec<String> = strip(label)
            .into_iter()
            .map(|b| {
                grid.behaviours
                    .iter()
                    .find(|x| x.id == *b)
                    .map_or_else(|| b.0.clone(), |x| x.label.clone())
            })
            .collect();
        if names.is_empty() {
            "—".into()
        } else {
            names.join(", ")
        }
    };
    egui::ScrollArea::vertical()
        .id_salt("irr-moments")
        .show(ui, |ui| {
            for m in moments.iter().take(MOMENTS) {
                let who = view.engine.participants().get(&m.participant);
                ui.horizontal_wrapped(|ui| {
                    let when = if m.from == m.to {
                        mmss(m.from)
                    } else {
                        format!("{}–{}", mmss(m.from), mmss(m.to))
                    };
                    ui.label(RichText::new(when).monospace());
                    if let Some(p) = who {
                        ui.label(
                            RichText::new(format!(" {} ", p.pseudonym))
                                .background_color(colour(&p.colour))
                                .color(Color32::BLACK)
                                .strong(),
                        );
                    }
                    ui.label(format!(
                        "{} : {} · {} : {}",
                        pair[0].as_str(),
                        words(&m.labels[0]),
                        pair[1].as_str(),
                        words(&m.labels[1])
                    ));
                });
                if let Some(i) = me {
                    wash_up(ui, view, pair, m, i, slice_ms, out, l);
                }
            }
            if moments.len() > MOMENTS {
                ui.label(tr!(
                    l,
                    "irr-more",
                    count = (moments.len() - MOMENTS).to_string()
                ));
            }
        });
}

/// One moment's wash-up for the lead rater `pair[i]`: take the other's code(s) behind it, or
/// withdraw one's own; once done, says so.
#[expect(
    clippy::too_many_arguments,
    reason = "one moment, its raters, and where the commands go"
)]
fn wash_up(
    ui: &mut Ui,
    view: &SessionView,
    pair: &[RaterId; 2],
    m: &Moment,
    i: usize,
    slice_ms: u64,
    out: &mut Vec<Output>,
    l: Locale,
) {
    let other = 1 - i;
    let theirs = behind(view, &pair[other], m, &m.labels[other], slice_ms);
    let mine = behind(view, &pair[i], m, &m.labels[i], slice_ms);
    let taken = view.engine.observations().iter().any(|o| {
        o.consensus
            && o.rater == pair[i]
            && theirs.iter().any(|t| {
                t.at == o.at && t.behaviour == o.behaviour && t.participant == o.participant
            })
    });
    let withdrawn = !mine.is_empty() && mine.iter().all(|o| o.withdrawn_after_close);
    ui.horizontal_wrapped(|ui| {
        ui.add_space(24.0);
        if taken {
            ui.label(RichText::new(tr!(l, "irr-taken")).color(Color32::from_rgb(40, 160, 70)));
        } else if withdrawn {
            ui.label(RichText::new(tr!(l, "irr-withdrawn")).color(Color32::from_rgb(40, 160, 70)));
        } else {
            if !theirs.is_empty()
                && ui
                    .small_button(tr!(l, "irr-take", rater = pair[other].as_str()))
                    .clicked()
            {
                for o in &theirs {
                    out.push(cmd(Command::AdoptCode {
                        rater: pair[i].clone(),
                        id: o.id,
                    }));
                }
            }
            let standing: Vec<_> = mine.iter().filter(|o| o.retracted.is_none()).collect();
            if !standing.is_empty() && ui.small_button(tr!(l, "irr-withdraw")).clicked() {
                for o in standing {
                    out.push(cmd(Command::Retract {
                        rater: pair[i].clone(),
                        id: o.id,
                    }));
                }
            }
        }
    });
}

/// A kappa in words: value, band, observed agreement.
fn kappa_words(k: &Kappa, l: Locale) -> String {
    match (k.kappa, k.exact) {
        (Some(x), Some(_)) => tr!(
            l,
            "irr-kappa-value",
            kappa = format!("{x:.3}").replace('.', ","),
            band = strength_fr(x),
            observed = format!("{:.1}", k.observed * 100.0).replace('.', ",")
        ),
        (Some(x), None) => tr!(
            l,
            "irr-kappa-undefined-boris",
            kappa = format!("{x:.3}").replace('.', ",")
        ),
        (None, _) => tr!(l, "irr-kappa-undefined"),
    }
}

/// A behaviour's kappa in the table: the value alone (the band is in the overall lines),
/// coloured by Landis and Koch's band, so the table fits half the window.
fn kappa_short(k: &Kappa, l: Locale) -> RichText {
    match k.kappa {
        Some(x) => {
            let c = if x > 0.8 {
                Color32::from_rgb(40, 170, 80)
            } else if x > 0.6 {
                Color32::from_rgb(140, 190, 60)
            } else if x > 0.4 {
                Color32::from_rgb(220, 160, 40)
            } else {
                Color32::from_rgb(210, 60, 50)
            };
            RichText::new(format!("{x:.3}").replace('.', ",")).color(c)
        }
        None => RichText::new(tr!(l, "irr-kappa-undefined-short")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boussole_content::ids::BehaviourId;

    fn label(b: &[&str]) -> Label {
        b.iter().map(|b| (BehaviourId::from(*b), None)).collect()
    }

    #[test]
    fn consecutive_slices_that_differ_alike_make_one_moment() {
        let p1 = ParticipantId("P1".into());
        let p2 = ParticipantId("P2".into());
        // Slices of 1 s from 10 s; units alternate P1, P2.
        let a = [
            label(&["parle"]),
            label(&[]),
            label(&["parle"]),
            label(&[]),
            label(&["parle"]),
            label(&["aide"]),
            label(&[]),
            label(&["aide"]),
        ];
        let b = [
            label(&[]),
            label(&[]),
            label(&[]),
            label(&[]),
            label(&["parle"]),
            label(&[]),
            label(&["parle"]),
            label(&["aide"]),
        ];
        let sl = Slicing {
            method: KappaMethod::Boris,
            raters: [RaterId::from("a"), RaterId::from("b")],
            slice_ms: 1000,
            first: Millis(10_000),
            last: Millis(13_000),
            slices: 4,
            subjects: vec![p1.clone(), p2.clone()],
            labels: [a.to_vec(), b.to_vec()],
        };
        let m = moments(&sl);
        let got: Vec<(ParticipantId, u64, u64)> = m
            .iter()
            .map(|m| (m.participant.clone(), m.from.0, m.to.0))
            .collect();
        assert_eq!(
            got,
            vec![
                (p1.clone(), 10_000, 11_000),
                (p2.clone(), 12_000, 12_000),
                (p1, 13_000, 13_000),
            ]
        );
        assert_eq!(strip(&m[0].labels[0]), vec![&BehaviourId::from("parle")]);
        assert!(m[0].labels[1].is_empty());
    }
}
