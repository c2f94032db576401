//! Inter-rater agreement: Cohen's kappa between two raters of one session, on time slices, the
//! way BORIS's "IRR - Cohen's kappa (time-unit)" computes it (`boris/irr.py`, `cohen_kappa` and
//! `subj_behav_modif`, BORIS 8.27.4), so that a facilitator can check our figures in BORIS on
//! the exported project ([`crate::export`]).
//!
//! # Slicing (as BORIS)
//! - Each rater's coded events are their standing observations with a behaviour: withdrawn
//!   codes never count and notes are not events. A state event spans `[at, until]`; one still
//!   open spans to the engine's last time ([`Engine::now`]), as the export closes it.
//! - The sample instants are `t_k = first + k·Δ` for `k = 0, 1, …` while `t_k ≤ last`, where
//!   `first` is the earliest start and `last` the latest end of an event of either rater, over
//!   every participant, and `Δ` the slice length (BORIS: "time unit", 1 s by default). Slice
//!   `k` is the window `[t_k − Δ/2, t_k + Δ/2]` centred on `t_k`.
//! - A unit is one (sample, participant); every participant of the session counts, coded or
//!   not (in BORIS, the subjects selected). For each rater, a unit's label is the set of
//!   behaviours active then: a state event whose span contains `t_k` (both ends included: SQL
//!   `BETWEEN` in BORIS) and a point event with `|at − t_k| ≤ Δ/2` (inside the slice, both edges
//!   included). With modifiers, each behaviour carries the modifier it was coded with. So a
//!   state is sampled at the instant, not for overlapping the slice: one shorter than Δ that
//!   falls between two instants is in no unit, as in BORIS (an overlap rule would count it but
//!   give figures BORIS cannot reproduce).
//! - Overall kappa: Cohen's kappa of the two raters' unit labels, each distinct label one
//!   category ([`cohen_kappa`], equal to scikit-learn's `cohen_kappa_score`, unweighted).
//!   Per behaviour: the same units labelled present/absent.
//!
//! # Where we differ from BORIS, deliberately
//! - **Labels are sorted sets.** BORIS's label is the list of rows its query returns (states,
//!   then points, in the order they were loaded), so the same point coded twice within one
//!   slice makes a different label from coding it once. Ours is the sorted set of
//!   (behaviour, modifier): a double key press is not a disagreement. For events coded at most
//!   once per slice the two partitions of the units are the same, so the kappas are equal.
//! - **An undefined kappa is `None`** ("non calculable"): when both raters give one and the same
//!   label to every unit, the expected agreement is 1 and kappa is 0/0. BORIS reports 1 there;
//!   scikit-learn returns `nan` (its `replace_undefined_by` default) with an
//!   `UndefinedMetricWarning`. The observed agreement is still given.
//! - **No rounding.** BORIS rounds kappa to 3 decimals.
//! - **Per behaviour**, the units are those of the overall kappa. BORIS, asked for one
//!   behaviour, loads only that behaviour's events, so its range runs from that behaviour's first
//!   event to its last; a common range keeps the per-behaviour figures comparable.
//! - Times are whole milliseconds of session time, so the window test is exact; BORIS compares
//!   floats (equal here except exactly on a window edge).

use crate::engine::{Engine, Millis, Observation, ParticipantId, RaterId};
use boussole_content::grid::EventKind;
use boussole_content::ids::{BehaviourId, ModifierId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// BORIS's default time unit, in seconds.
pub const DEFAULT_SLICE_S: f64 = 1.0;

/// The most sample instants one computation takes (each one a unit per participant); past it,
/// [`IrrError::TooManySlices`] asks for a longer slice. 100 000 slices of 1 s are 27 hours.
pub const MAX_SLICES: u64 = 100_000;

/// Why two label sequences cannot be compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KappaError {
    /// The raters labelled different numbers of units.
    #[error("the two label sequences differ in length ({a} and {b})")]
    LengthMismatch {
        /// Units of the first sequence.
        a: usize,
        /// Units of the second.
        b: usize,
    },
    /// Nothing to compare.
    #[error("no labels to compare")]
    Empty,
}

/// Why the agreement of two raters cannot be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum IrrError {
    /// The slice length is not a number of seconds of at least 1 ms (BORIS's smallest unit).
    #[error("slice length must be at least 0.001 s, got {seconds} s")]
    BadSlice {
        /// What was given, in seconds.
        seconds: f64,
    },
    /// Both raters are the same.
    #[error("the two raters are the same ({0})")]
    SameRater(RaterId),
    /// A rater has no standing coded event in the session (BORIS: "the observation has no
    /// recorded events").
    #[error("rater {rater} coded no behaviour in this session")]
    NoEvents {
        /// The rater.
        rater: RaterId,
    },
    /// The session has no participant, so there is no unit to compare.
    #[error("the session has no participant")]
    NoParticipants,
    /// The slices are too many for the session's span; a longer slice is needed.
    #[error("{slices} slices of {slice_ms} ms are more than {max}; choose a longer slice")]
    TooManySlices {
        /// Slices the span would need.
        slices: u64,
        /// The slice length, ms.
        slice_ms: u64,
        /// [`MAX_SLICES`].
        max: u64,
    },
    /// The label sequences could not be compared (an internal inconsistency).
    #[error(transparent)]
    Kappa(#[from] KappaError),
}

/// Cohen's kappa of two label sequences, with what it is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kappa {
    /// κ = (p_o − p_e) / (1 − p_e); `None` when p_e = 1 (both raters give one and the same
    /// label to every unit: scikit-learn returns `nan`, BORIS 1).
    pub kappa: Option<f64>,
    /// Observed agreement p_o: the share of units given the same label, in [0, 1].
    pub observed: f64,
    /// Agreement expected by chance p_e = Σ_c (a_c / n)(b_c / n) over categories c, in [0, 1].
    pub expected: f64,
    /// Units compared (n).
    pub units: usize,
    /// Units given the same label by both raters (n · p_o).
    pub agreed: usize,
    /// Distinct labels used by either rater.
    pub categories: usize,
}

/// Cohen's kappa (unweighted) of two raters' labels for the same units, `a[i]` and `b[i]` being
/// the labels of unit `i`. Categories are the distinct labels of either sequence, so labels one
/// rater never used count as zero for them.
///
/// Source: Cohen (1960), "A coefficient of agreement for nominal scales"; equal to
/// scikit-learn's `cohen_kappa_score(a, b)` (`weights=None`), which computes
/// `1 − Σ_{i≠j} C_ij / Σ_{i≠j} E_ij` with `E = outer(col sums, row sums) / n`; the same number,
/// computed here from integer counts as `(n·d − Σ a_c b_c) / (n² − Σ a_c b_c)` with `d` the
/// units agreed on.
///
/// # Errors
/// [`KappaError::LengthMismatch`] when the sequences differ in length, [`KappaError::Empty`]
/// when they are empty.
pub fn cohen_kappa<T: Ord>(a: &[T], b: &[T]) -> Result<Kappa, KappaError> {
    if a.len() != b.len() {
        return Err(KappaError::LengthMismatch {
            a: a.len(),
            b: b.len(),
        });
    }
    if a.is_empty() {
        return Err(KappaError::Empty);
    }
    // Per category: (units rater a gave it, units rater b gave it).
    let mut margins: BTreeMap<&T, (u128, u128)> = BTreeMap::new();
    let mut agreed: u128 = 0;
    for (x, y) in a.iter().zip(b) {
        margins.entry(x).or_default().0 += 1;
        margins.entry(y).or_default().1 += 1;
        if x == y {
            agreed += 1;
        }
    }
    let n = a.len() as u128;
    let chance: u128 = margins.values().map(|(x, y)| x * y).sum();
    let nn = n * n;
    let kappa = (nn != chance).then(|| {
        // Signed: below-chance agreement gives a negative numerator.
        let num = (n * agreed) as f64 - chance as f64;
        num / (nn - chance) as f64
    });
    Ok(Kappa {
        kappa,
        observed: agreed as f64 / n as f64,
        expected: chance as f64 / nn as f64,
        units: a.len(),
        agreed: usize::try_from(agreed).unwrap_or(usize::MAX),
        categories: margins.len(),
    })
}

/// A unit's label: the behaviours active, each with its modifier (`None` without one, or when
/// modifiers are left out), sorted and without repeats.
pub type Label = Vec<(BehaviourId, Option<ModifierId>)>;

/// One coded event as the agreement and the exports see it: a standing observation with a
/// behaviour and a participant.
#[derive(Clone, Debug)]
pub(crate) struct Coded<'a> {
    pub obs: &'a Observation,
    pub participant: &'a ParticipantId,
    pub behaviour: &'a BehaviourId,
    pub kind: EventKind,
    /// Start (or the moment of a point event), session time.
    pub start: Millis,
    /// End: `until`, the engine's last time for a state still open, `start` for a point.
    pub end: Millis,
}

/// The coded events of `rater` (every rater when `None`), in log order: standing (not
/// withdrawn), with a behaviour and a participant. The kind comes from the grid (a behaviour
/// the grid lacks counts as a point event: the engine never accepts one).
pub(crate) fn coded<'a>(engine: &'a Engine, rater: Option<&RaterId>) -> Vec<Coded<'a>> {
    let grid = engine.grid();
    engine
        .observations()
        .iter()
        .filter(|o| o.retracted.is_none() && rater.is_none_or(|r| o.rater == *r))
        .filter_map(|o| {
            let (Some(participant), Some(behaviour)) = (&o.participant, &o.behaviour) else {
                return None;
            };
            let kind = grid
                .behaviours
                .iter()
                .find(|b| b.id == *behaviour)
                .map_or(EventKind::Point, |b| b.kind);
            let end = match kind {
                EventKind::Point => o.at,
                EventKind::State => o.until.unwrap_or(engine.now()).max(o.at),
            };
            Some(Coded {
                obs: o,
                participant,
                behaviour,
                kind,
                start: o.at,
                end,
            })
        })
        .collect()
}

/// The raters who coded at least one standing behaviour, in the order they first coded.
pub fn raters(engine: &Engine) -> Vec<RaterId> {
    let mut out: Vec<RaterId> = Vec::new();
    for c in coded(engine, None) {
        if !out.contains(&c.obs.rater) {
            out.push(c.obs.rater.clone());
        }
    }
    out
}

/// Both raters' labels for every unit of a session.
#[derive(Clone, Debug, PartialEq)]
pub struct Slicing {
    /// The two raters, in the order given.
    pub raters: [RaterId; 2],
    /// The slice length Δ, ms.
    pub slice_ms: u64,
    /// The first sample instant `t_0` (the earliest event of either rater), session time.
    pub first: Millis,
    /// The latest end of an event of either rater, session time; the last sample is at or
    /// before it.
    pub last: Millis,
    /// Number of sample instants.
    pub slices: usize,
    /// The participants, in id order: unit `k · subjects.len() + s` is slice `k`, participant `s`.
    pub subjects: Vec<ParticipantId>,
    /// Each rater's label for every unit, with modifiers.
    pub labels: [Vec<Label>; 2],
}

impl Slicing {
    /// The labels of rater `i` (0 or 1) without modifiers.
    pub fn without_modifiers(&self, i: usize) -> Vec<Label> {
        self.labels.get(i).map_or_else(Vec::new, |labels| {
            labels
                .iter()
                .map(|l| {
                    let mut out: Label = l.iter().map(|(b, _)| (b.clone(), None)).collect();
                    out.dedup();
                    out
                })
                .collect()
        })
    }

    /// The sample instant of slice `k`, session time.
    pub fn instant(&self, k: usize) -> Millis {
        Millis(self.first.0 + k as u64 * self.slice_ms)
    }
}

/// The slice length in whole milliseconds.
///
/// # Errors
/// [`IrrError::BadSlice`] unless `seconds` is finite and rounds to at least 1 ms.
pub fn slice_ms(seconds: f64) -> Result<u64, IrrError> {
    let ms = (seconds * 1000.0).round();
    if !ms.is_finite() || ms < 1.0 || ms > u64::MAX as f64 {
        return Err(IrrError::BadSlice { seconds });
    }
    Ok(ms as u64)
}

/// Labels every unit of the session for raters `a` and `b`, with slices of `slice_s` seconds
/// (rules in the module docs).
///
/// # Errors
/// [`IrrError::BadSlice`], [`IrrError::SameRater`], [`IrrError::NoEvents`] when a rater coded
/// nothing, [`IrrError::NoParticipants`], [`IrrError::TooManySlices`].
pub fn slice(engine: &Engine, a: &RaterId, b: &RaterId, slice_s: f64) -> Result<Slicing, IrrError> {
    let slice_ms = slice_ms(slice_s)?;
    if a == b {
        return Err(IrrError::SameRater(a.clone()));
    }
    let events = [coded(engine, Some(a)), coded(engine, Some(b))];
    for (rater, ev) in [a, b].into_iter().zip(&events) {
        if ev.is_empty() {
            return Err(IrrError::NoEvents {
                rater: rater.clone(),
            });
        }
    }
    let subjects: Vec<ParticipantId> = engine.participants().keys().cloned().collect();
    if subjects.is_empty() {
        return Err(IrrError::NoParticipants);
    }
    let all = events.iter().flatten();
    let first = all.clone().map(|c| c.start).min().unwrap_or_default();
    let last = all.map(|c| c.end).max().unwrap_or_default();
    let slices = (last.0 - first.0) / slice_ms + 1;
    if slices > MAX_SLICES {
        return Err(IrrError::TooManySlices {
            slices,
            slice_ms,
            max: MAX_SLICES,
        });
    }
    let slices = slices as usize;
    let labels = events.map(|ev| {
        // Each participant's events, so a unit looks only at its own.
        let mut by_subject: BTreeMap<&ParticipantId, Vec<&Coded<'_>>> = BTreeMap::new();
        for c in &ev {
            by_subject.entry(c.participant).or_default().push(c);
        }
        let mut out = Vec::with_capacity(slices * subjects.len());
        for k in 0..slices {
            let t = first.0 + k as u64 * slice_ms;
            for s in &subjects {
                let mut label: BTreeSet<(BehaviourId, Option<ModifierId>)> = BTreeSet::new();
                for c in by_subject.get(s).into_iter().flatten() {
                    let active = match c.kind {
                        EventKind::State => c.start.0 <= t && t <= c.end.0,
                        EventKind::Point => 2 * c.start.0.abs_diff(t) <= slice_ms,
                    };
                    if active {
                        label.insert((c.behaviour.clone(), c.obs.modifier.clone()));
                    }
                }
                out.push(label.into_iter().collect::<Label>());
            }
        }
        out
    });
    Ok(Slicing {
        raters: [a.clone(), b.clone()],
        slice_ms,
        first,
        last,
        slices,
        subjects,
        labels,
    })
}

/// The agreement of two raters on one session.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// The two raters, in the order given.
    pub raters: [RaterId; 2],
    /// The slice length Δ, ms.
    pub slice_ms: u64,
    /// The first and last sample instants, session time.
    pub span: (Millis, Millis),
    /// Number of slices (sample instants).
    pub slices: usize,
    /// Number of participants; units = slices × participants.
    pub participants: usize,
    /// Standing coded events of each rater.
    pub coded: [usize; 2],
    /// Overall, labels without modifiers (BORIS: "include modifiers" unchecked).
    pub without_modifiers: Kappa,
    /// Overall, labels with modifiers.
    pub with_modifiers: Kappa,
    /// Per behaviour coded by either rater, in grid order: present or absent per unit.
    pub behaviours: Vec<BehaviourAgreement>,
}

/// The agreement on one behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct BehaviourAgreement {
    /// The behaviour.
    pub behaviour: BehaviourId,
    /// Its French label from the grid.
    pub label: String,
    /// Standing events of it coded by each rater.
    pub coded: [usize; 2],
    /// Kappa of present/absent over the units.
    pub kappa: Kappa,
}

/// Cohen's kappa between raters `a` and `b` of the session, overall (with and without
/// modifiers) and per behaviour, on slices of `slice_s` seconds (rules in the module docs).
///
/// # Errors
/// As [`slice()`].
pub fn agreement(
    engine: &Engine,
    a: &RaterId,
    b: &RaterId,
    slice_s: f64,
) -> Result<Agreement, IrrError> {
    let sl = slice(engine, a, b, slice_s)?;
    let with_modifiers = cohen_kappa(&sl.labels[0], &sl.labels[1])?;
    let plain = [sl.without_modifiers(0), sl.without_modifiers(1)];
    let without_modifiers = cohen_kappa(&plain[0], &plain[1])?;
    let events = [coded(engine, Some(a)), coded(engine, Some(b))];
    let count = |i: usize, b: &BehaviourId| {
        events
            .get(i)
            .map_or(0, |ev| ev.iter().filter(|c| c.behaviour == b).count())
    };
    let mut order: Vec<(BehaviourId, String)> = engine
        .grid()
        .behaviours
        .iter()
        .map(|b| (b.id.clone(), b.label.clone()))
        .collect();
    // A behaviour the grid lacks (none in practice) still gets its line, after the grid's.
    let extra: BTreeSet<&BehaviourId> = events
        .iter()
        .flatten()
        .map(|c| c.behaviour)
        .filter(|b| !order.iter().any(|(id, _)| id == *b))
        .collect();
    order.extend(extra.into_iter().map(|b| (b.clone(), b.0.clone())));
    let mut behaviours = Vec::new();
    for (id, label) in order {
        let coded = [count(0, &id), count(1, &id)];
        if coded == [0, 0] {
            continue;
        }
        let present = |labels: &[Label]| -> Vec<bool> {
            labels
                .iter()
                .map(|l| l.iter().any(|(b, _)| *b == id))
                .collect()
        };
        let kappa = cohen_kappa(&present(&plain[0]), &present(&plain[1]))?;
        behaviours.push(BehaviourAgreement {
            behaviour: id,
            label,
            coded,
            kappa,
        });
    }
    Ok(Agreement {
        raters: sl.raters.clone(),
        slice_ms: sl.slice_ms,
        span: (sl.first, sl.instant(sl.slices.saturating_sub(1))),
        slices: sl.slices,
        participants: sl.subjects.len(),
        coded: [events[0].len(), events[1].len()],
        without_modifiers,
        with_modifiers,
        behaviours,
    })
}

/// Landis and Koch's (1977) bands for kappa, in the French wording usual in the field.
pub fn strength_fr(kappa: f64) -> &'static str {
    match kappa {
        k if k < 0.0 => "désaccord",
        k if k <= 0.20 => "accord très faible",
        k if k <= 0.40 => "accord faible",
        k if k <= 0.60 => "accord modéré",
        k if k <= 0.80 => "accord fort",
        _ => "accord presque parfait",
    }
}

/// `x` with `decimals` decimals and a decimal comma.
fn fr_number(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}").replace('.', ",")
}

fn mmss(t: Millis) -> String {
    let s = t.0 / 1000;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// One kappa in French: its value with `decimals` decimals and its band, the observed
/// agreement and the units disagreed on.
fn kappa_fr(k: &Kappa, decimals: usize) -> String {
    let observed = fr_number(k.observed * 100.0, 1);
    let apart = k.units.saturating_sub(k.agreed);
    let value = match k.kappa {
        Some(x) => format!("κ = {} ({})", fr_number(x, decimals), strength_fr(x)),
        None => "non calculable (les deux donnent partout la même réponse)".to_owned(),
    };
    format!("{value} ; accord observé {observed} %, {apart} unité(s) en désaccord")
}

/// A short French account of an agreement for the facilitator: the slices, the overall kappa
/// with and without modifiers (with Landis and Koch's band), each behaviour's kappa and the
/// counts of codes, and how to read it.
pub fn agreement_fr(a: &Agreement) -> String {
    let mut o = String::new();
    let [ra, rb] = &a.raters;
    let _ = writeln!(o, "Accord entre observateur·rices : {ra} et {rb}");
    let _ = writeln!(
        o,
        "Tranches de {} s, de {} à {} (minutes:secondes depuis l'ouverture de la séance) : {} tranche(s) × {} participant·e(s) = {} unités",
        fr_number(a.slice_ms as f64 / 1000.0, 3)
            .trim_end_matches('0')
            .trim_end_matches(','),
        mmss(a.span.0),
        mmss(a.span.1),
        a.slices,
        a.participants,
        a.without_modifiers.units
    );
    let _ = writeln!(o, "Codages : {ra} {}, {rb} {}", a.coded[0], a.coded[1]);
    let _ = writeln!(
        o,
        "Kappa de Cohen global, sans modificateurs : {}",
        kappa_fr(&a.without_modifiers, 3)
    );
    let _ = writeln!(
        o,
        "Kappa de Cohen global, avec modificateurs : {}",
        kappa_fr(&a.with_modifiers, 3)
    );
    let _ = writeln!(
        o,
        "\nPar comportement (présent ou absent dans chaque unité) :"
    );
    for b in &a.behaviours {
        let _ = writeln!(
            o,
            "  - {} : {} ; codé {}× par {ra}, {}× par {rb}",
            b.label,
            kappa_fr(&b.kappa, 2),
            b.coded[0],
            b.coded[1]
        );
    }
    let _ = writeln!(
        o,
        "\nLecture (Landis et Koch, 1977) : < 0 désaccord ; jusqu'à 0,20 très faible ; 0,40 faible ; \
         0,60 modéré ; 0,80 fort ; au-delà presque parfait. Un comportement rare donne un kappa \
         instable : regardez aussi le nombre de codages. Même calcul que BORIS (Cohen's kappa par \
         unité de temps), sans son arrondi."
    );
    o
}
