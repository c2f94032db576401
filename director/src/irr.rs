//! Inter-rater agreement: Cohen's kappa between two raters of one session, on time slices, the
//! way BORIS's "IRR - Cohen's kappa (time-unit)" computes it (BORIS 8.27.4: `boris/irr.py`,
//! `cohen_kappa` and `subj_behav_modif`, on the events `boris/db_functions.py`,
//! `load_aggregated_events_in_db`, loads), so that a facilitator finds our figures in BORIS on
//! the exported project ([`crate::export`]). [`KappaMethod::Boris`] is that computation and the
//! default; [`KappaMethod::Sets`], our earlier variant, stays available by name.
//!
//! # Slicing (both methods)
//! - Each rater's coded events are their standing observations with a behaviour: withdrawn
//!   codes never count and notes are not events. A state event spans `[at, until]`; one still
//!   open spans to the engine's last time ([`Engine::now`]), as the export closes it.
//! - The sample instants are `t_k = first + k·Δ` for `k = 0, 1, …` while `t_k ≤ last`, where
//!   `first` is the earliest start and `last` the latest end of an event of either rater, over
//!   every participant, and `Δ` the slice length (BORIS: "time unit", 1 s by default). Slice
//!   `k` is the window `[t_k − Δ/2, t_k + Δ/2]` centred on `t_k`.
//! - A unit is one (sample, participant); every participant of the session counts, coded or
//!   not (in BORIS, the subjects selected). For each rater, a unit's label holds the behaviours
//!   active then: a state event whose span contains `t_k` (both ends included: SQL `BETWEEN` in
//!   `subj_behav_modif`) and a point event with `|at − t_k| ≤ Δ/2` (inside the slice, both edges
//!   included). With modifiers, each behaviour carries the modifier it was coded with. So a
//!   state is sampled at the instant, not for overlapping the slice: one shorter than Δ that
//!   falls between two instants is in no unit, as in BORIS.
//! - Overall kappa: Cohen's kappa of the two raters' unit categories, each distinct category
//!   one class ([`cohen_kappa`], equal to scikit-learn's `cohen_kappa_score`, unweighted, and to
//!   BORIS's contingency table). Per behaviour: see each method.
//!
//! # [`KappaMethod::Boris`] (default): BORIS 8.27.4 rule for rule
//! - **The subject is in the category.** `subj_behav_modif` returns a list of rows
//!   `[subject, behaviour]` (with modifiers `[subject, behaviour, modifiers]`), so "P1 explores"
//!   and "P2 explores" are two categories; only the empty label (nothing coded) is shared by
//!   every participant. The observed agreement is the same as without the subject; the
//!   agreement expected by chance is not.
//! - **Labels as BORIS builds them: repeats count.** The label is every row the query returns:
//!   the same point coded twice within one slice, or a state stopped and started again at the
//!   sample instant, is there twice, a different category from once. The rows come in the
//!   order `load_aggregated_events_in_db` inserted them (states, then points, by behaviour,
//!   modifier and time), a fixed order, so two labels are equal when they hold the same rows
//!   the same number of times: ours is that multiset, sorted.
//! - **Times as BORIS compares them**: seconds from the export's time origin (the start of the
//!   game) as binary floating point, instants `first + k·Δ` as decimals (`Decimal`), the point
//!   test `abs(start − t) <= Δ/2` in SQLite's floating point, and the loop `t <= last` a
//!   decimal against a float: a last instant falling exactly on the last event is dropped when
//!   that event's time rounds down in binary (20.7 s is 20.6999… s).
//! - **An undefined kappa is 1.** When both raters give one and the same category to every unit
//!   (p_e = 1, kappa 0/0), `cohen_kappa` returns 1; so it does with no unit at all.
//! - **Rounded to 3 decimals**, as `round(K, 3)`; [`Kappa::exact`] keeps the unrounded value.
//! - **Per behaviour**, BORIS run on that behaviour alone, without modifiers: only its events are
//!   loaded, so its instants run from its first event to its last, and its categories are
//!   `[]`, `[[P1, b]]`, `[[P1, b], [P1, b]]`, …; when one rater never coded it, BORIS refuses
//!   ("the observation has no recorded events") and so do we (`None`).
//!
//! # [`KappaMethod::Sets`]: our earlier variant, not BORIS's
//! - Labels are sorted sets of (behaviour, modifier), without the subject: a double key press
//!   is not a disagreement, and "P1 explores" and "P2 explores" are one category.
//! - An undefined kappa is `None` ("non calculable"; scikit-learn returns `nan`), no rounding.
//! - Per behaviour: present/absent in the units of the overall kappa, one common range.
//! - Times are whole milliseconds of session time, so the window tests are exact.

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

/// How the units are labelled and the kappa reported (rules in the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KappaMethod {
    /// BORIS 8.27.4's "IRR - Cohen's kappa (time-unit)" rule for rule (`boris/irr.py`,
    /// `cohen_kappa`, `subj_behav_modif`): the subject in every non-empty category, repeats
    /// counted, BORIS's floating-point times, 1 for an undefined kappa, rounded to 3 decimals,
    /// per behaviour BORIS run on that behaviour alone.
    #[default]
    Boris,
    /// Our earlier variant: sorted sets of (behaviour, modifier) without the subject, exact
    /// millisecond windows, `None` for an undefined kappa, no rounding, per behaviour
    /// present/absent on the common units. Not BORIS's figures.
    Sets,
}

impl KappaMethod {
    /// Every method, the default first.
    pub const ALL: [KappaMethod; 2] = [KappaMethod::Boris, KappaMethod::Sets];

    /// Its name on the command line (`session agreement --method NAME`).
    pub fn name(self) -> &'static str {
        match self {
            KappaMethod::Boris => "boris",
            KappaMethod::Sets => "sets",
        }
    }

    /// What it computes, in French, for the facilitator's account.
    pub fn describe_fr(self) -> &'static str {
        match self {
            KappaMethod::Boris => {
                "« boris » (par défaut) : le calcul de BORIS 8.27.4 (IRR - Cohen's kappa \
                 (time-unit)), règle pour règle"
            }
            KappaMethod::Sets => {
                "« sets » : notre ancienne variante (ensembles de comportements sans le sujet, \
                 sans arrondi), qui n'est pas celle de BORIS"
            }
        }
    }
}

/// Cohen's kappa of two label sequences, with what it is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kappa {
    /// κ as the method reports it. [`KappaMethod::Sets`]: [`Kappa::exact`].
    /// [`KappaMethod::Boris`]: [`Kappa::exact`] rounded to 3 decimals (half to even, as
    /// Python's `round(K, 3)`), and 1 where it is undefined (`boris/irr.py`, `cohen_kappa`).
    pub kappa: Option<f64>,
    /// κ = (p_o − p_e) / (1 − p_e), unrounded; `None` when p_e = 1 (both raters give one and
    /// the same category to every unit, or there is no unit: scikit-learn returns `nan`).
    pub exact: Option<f64>,
    /// Observed agreement p_o: the share of units given the same label, in [0, 1] (1 when
    /// there is no unit).
    pub observed: f64,
    /// Agreement expected by chance p_e = Σ_c (a_c / n)(b_c / n) over categories c, in [0, 1]
    /// (1 when there is no unit).
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
/// rater never used count as zero for them. [`Kappa::kappa`] is [`Kappa::exact`].
///
/// Source: Cohen (1960), "A coefficient of agreement for nominal scales"; equal to
/// scikit-learn's `cohen_kappa_score(a, b)` (`weights=None`), which computes
/// `1 − Σ_{i≠j} C_ij / Σ_{i≠j} E_ij` with `E = outer(col sums, row sums) / n`, and to BORIS's
/// `(agreements − Σ E_ii) / (n − Σ E_ii)` (`boris/irr.py`, `cohen_kappa`); the same number,
/// computed here from integer counts as `(n·d − Σ a_c b_c) / (n² − Σ a_c b_c)` with `d` the
/// units agreed on.
///
/// # Errors
/// [`KappaError::LengthMismatch`] when the sequences differ in length, [`KappaError::Empty`]
/// when they are empty.
pub fn cohen_kappa<T: Ord>(a: &[T], b: &[T]) -> Result<Kappa, KappaError> {
    counts(a, b).map(|(k, _)| k)
}

/// [`cohen_kappa`] and its fraction `(n·d − Σ a_c b_c, n² − Σ a_c b_c)`, `None` when undefined.
fn counts<T: Ord>(a: &[T], b: &[T]) -> Result<(Kappa, Option<(i128, i128)>), KappaError> {
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
    let mut margins: BTreeMap<&T, (i128, i128)> = BTreeMap::new();
    let mut agreed: i128 = 0;
    for (x, y) in a.iter().zip(b) {
        margins.entry(x).or_default().0 += 1;
        margins.entry(y).or_default().1 += 1;
        if x == y {
            agreed += 1;
        }
    }
    // Units are at most MAX_SLICES × participants: far inside i128.
    let n = a.len() as i128;
    let chance: i128 = margins.values().map(|(x, y)| x * y).sum();
    let nn = n * n;
    // Signed: below-chance agreement gives a negative numerator.
    let fraction = (nn != chance).then_some((n * agreed - chance, nn - chance));
    let exact = fraction.map(|(num, den)| num as f64 / den as f64);
    let kappa = Kappa {
        kappa: exact,
        exact,
        observed: agreed as f64 / n as f64,
        expected: chance as f64 / nn as f64,
        units: a.len(),
        agreed: usize::try_from(agreed).unwrap_or(usize::MAX),
        categories: margins.len(),
    };
    Ok((kappa, fraction))
}

/// `num / den` (`den > 0`) rounded to 3 decimals half to even, exactly: what Python's
/// `round(K, 3)` does to BORIS's K, on the exact fraction instead of its float.
fn round3(num: i128, den: i128) -> f64 {
    let scaled = 1000 * num;
    let q = scaled.div_euclid(den);
    let r = scaled.rem_euclid(den);
    let q = match (2 * r).cmp(&den) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal if q % 2 != 0 => q + 1,
        _ => q,
    };
    q as f64 / 1000.0
}

/// Cohen's kappa of two category sequences as `method` reports it ([`Kappa::kappa`]).
fn method_kappa<T: Ord>(method: KappaMethod, a: &[T], b: &[T]) -> Result<Kappa, KappaError> {
    match method {
        KappaMethod::Sets => cohen_kappa(a, b),
        // BORIS's contingency table is all zeros: `not (overall_total - sum_ef)` gives K = 1.
        KappaMethod::Boris if a.is_empty() && b.is_empty() => Ok(Kappa {
            kappa: Some(1.0),
            exact: None,
            observed: 1.0,
            expected: 1.0,
            units: 0,
            agreed: 0,
            categories: 0,
        }),
        KappaMethod::Boris => {
            let (k, fraction) = counts(a, b)?;
            Ok(Kappa {
                kappa: Some(fraction.map_or(1.0, |(num, den)| round3(num, den))),
                ..k
            })
        }
    }
}

/// A unit's label: the behaviours active, each with its modifier (`None` without one, or when
/// modifiers are left out), sorted. [`KappaMethod::Sets`] keeps each once;
/// [`KappaMethod::Boris`] keeps repeats (a point coded twice within the slice is there twice).
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
        .filter(|o| at_close(o) && rater.is_none_or(|r| o.rater == *r))
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

/// Whether `o` is part of the independent codings as they stood at the session's close: not a
/// wash-up copy ([`Observation::consensus`]), and not withdrawn, or withdrawn only after the
/// close ([`Observation::withdrawn_after_close`]). Before the close, every standing code.
pub fn at_close(o: &Observation) -> bool {
    !o.consensus && (o.retracted.is_none() || o.withdrawn_after_close)
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
    /// The method the labels follow.
    pub method: KappaMethod,
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

/// What Cohen's kappa compares for one unit: its label, with the unit's participant when the
/// method puts the subject in the category ([`KappaMethod::Boris`], label not empty).
pub type Category<'a> = (Option<&'a ParticipantId>, &'a Label);

impl Slicing {
    /// The labels of rater `i` (0 or 1) without modifiers (repeats kept under
    /// [`KappaMethod::Boris`], as BORIS's rows `[subject, behaviour]`).
    pub fn without_modifiers(&self, i: usize) -> Vec<Label> {
        self.labels.get(i).map_or_else(Vec::new, |labels| {
            labels
                .iter()
                .map(|l| strip_modifiers(l, self.method))
                .collect()
        })
    }

    /// The category of each unit of `labels` (one label per unit, in unit order, as
    /// [`Slicing::labels`] or [`Slicing::without_modifiers`] give them).
    pub fn categories<'a>(&'a self, labels: &'a [Label]) -> Vec<Category<'a>> {
        categories(self.method, &self.subjects, labels)
    }

    /// The sample instant of slice `k`, session time.
    pub fn instant(&self, k: usize) -> Millis {
        Millis(self.first.0 + k as u64 * self.slice_ms)
    }
}

fn strip_modifiers(label: &Label, method: KappaMethod) -> Label {
    let mut out: Label = label.iter().map(|(b, _)| (b.clone(), None)).collect();
    if method == KappaMethod::Sets {
        out.dedup();
    }
    out
}

fn categories<'a>(
    method: KappaMethod,
    subjects: &'a [ParticipantId],
    labels: &'a [Label],
) -> Vec<Category<'a>> {
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let subject = match method {
                KappaMethod::Boris if !l.is_empty() => subjects.get(i % subjects.len().max(1)),
                _ => None,
            };
            (subject, l)
        })
        .collect()
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

/// Session time `t` as BORIS holds it: seconds from the export's origin, as the float nearest
/// the decimal the project file gives (`float(Decimal("12.345"))`); exact for whole ms.
fn boris_seconds(t: Millis, origin: Millis) -> f64 {
    (i128::from(t.0) - i128::from(origin.0)) as f64 / 1000.0
}

/// Whether BORIS's loop `while currentTime <= last_event` (`boris/irr.py`, `cohen_kappa`) takes
/// an instant equal to `last`: `currentTime` is the exact decimal, `last_event` the float from
/// SQLite, so only when that float is not below the decimal. The sign of
/// `fl(x / 1000) · 1000 − x` is exact with one rounding (fused multiply-add).
fn boris_takes_last(last: Millis, origin: Millis) -> bool {
    let ms = (i128::from(last.0) - i128::from(origin.0)) as f64;
    (ms / 1000.0).mul_add(1000.0, -ms) >= 0.0
}

/// The instants and labels of one comparison: both raters' `events`, already restricted to
/// what is compared.
struct Sampled {
    first: Millis,
    last: Millis,
    slices: usize,
    labels: [Vec<Label>; 2],
}

fn sample(
    events: [Vec<&Coded<'_>>; 2],
    subjects: &[ParticipantId],
    slice_ms: u64,
    method: KappaMethod,
    origin: Millis,
) -> Result<Sampled, IrrError> {
    let all = events.iter().flatten();
    let first = all.clone().map(|c| c.start).min().unwrap_or_default();
    let last = all.map(|c| c.end).max().unwrap_or_default();
    let mut slices = (last.0 - first.0) / slice_ms + 1;
    if slices > MAX_SLICES {
        return Err(IrrError::TooManySlices {
            slices,
            slice_ms,
            max: MAX_SLICES,
        });
    }
    let on_last = first.0 + (slices - 1) * slice_ms == last.0;
    if method == KappaMethod::Boris && on_last && !boris_takes_last(last, origin) {
        slices -= 1;
    }
    let slices = slices as usize;
    // BORIS's point test, `abs(start - ?) <= ?` with `float(interval / 2)`.
    let half = slice_ms as f64 / 2000.0;
    let labels = events.map(|ev| {
        // Each participant's events, so a unit looks only at its own.
        let mut by_subject: BTreeMap<&ParticipantId, Vec<&Coded<'_>>> = BTreeMap::new();
        for c in ev {
            by_subject.entry(c.participant).or_default().push(c);
        }
        let mut out = Vec::with_capacity(slices * subjects.len());
        for k in 0..slices {
            let t = first.0 + k as u64 * slice_ms;
            let tf = boris_seconds(Millis(t), origin);
            for s in subjects {
                let mut label: Label = by_subject
                    .get(s)
                    .into_iter()
                    .flatten()
                    .filter(|c| match (method, c.kind) {
                        (KappaMethod::Sets, EventKind::State) => c.start.0 <= t && t <= c.end.0,
                        (KappaMethod::Sets, EventKind::Point) => {
                            2 * c.start.0.abs_diff(t) <= slice_ms
                        }
                        (KappaMethod::Boris, EventKind::State) => {
                            boris_seconds(c.start, origin) <= tf
                                && tf <= boris_seconds(c.end, origin)
                        }
                        (KappaMethod::Boris, EventKind::Point) => {
                            (boris_seconds(c.start, origin) - tf).abs() <= half
                        }
                    })
                    .map(|c| (c.behaviour.clone(), c.obs.modifier.clone()))
                    .collect();
                label.sort();
                if method == KappaMethod::Sets {
                    label.dedup();
                }
                out.push(label);
            }
        }
        out
    });
    Ok(Sampled {
        first,
        last,
        slices,
        labels,
    })
}

/// Labels every unit of the session for raters `a` and `b`, with slices of `slice_s` seconds,
/// following `method` (rules in the module docs).
///
/// # Errors
/// [`IrrError::BadSlice`], [`IrrError::SameRater`], [`IrrError::NoEvents`] when a rater coded
/// nothing, [`IrrError::NoParticipants`], [`IrrError::TooManySlices`].
pub fn slice(
    engine: &Engine,
    a: &RaterId,
    b: &RaterId,
    slice_s: f64,
    method: KappaMethod,
) -> Result<Slicing, IrrError> {
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
    let Sampled {
        first,
        last,
        slices,
        labels,
    } = sample(
        [events[0].iter().collect(), events[1].iter().collect()],
        &subjects,
        slice_ms,
        method,
        crate::export::origin(engine),
    )?;
    Ok(Slicing {
        method,
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
    /// The method followed.
    pub method: KappaMethod,
    /// The two raters, in the order given.
    pub raters: [RaterId; 2],
    /// The slice length Δ, ms.
    pub slice_ms: u64,
    /// The first and last sample instants, session time (the first when there is none).
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
    /// Per behaviour coded by either rater, in grid order.
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
    /// [`KappaMethod::Sets`]: kappa of present/absent over the units of the overall kappa.
    /// [`KappaMethod::Boris`]: BORIS's kappa on this behaviour's events alone, without
    /// modifiers (its own range of instants); `None` when one rater never coded it, where
    /// BORIS refuses ("the observation has no recorded events", `boris/irr.py`).
    pub kappa: Option<Kappa>,
}

/// Cohen's kappa between raters `a` and `b` of the session, overall (with and without
/// modifiers) and per behaviour, on slices of `slice_s` seconds, following `method` (rules in
/// the module docs).
///
/// # Errors
/// As [`slice()`].
pub fn agreement(
    engine: &Engine,
    a: &RaterId,
    b: &RaterId,
    slice_s: f64,
    method: KappaMethod,
) -> Result<Agreement, IrrError> {
    let sl = slice(engine, a, b, slice_s, method)?;
    let with_modifiers = method_kappa(
        method,
        &sl.categories(&sl.labels[0]),
        &sl.categories(&sl.labels[1]),
    )?;
    let plain = [sl.without_modifiers(0), sl.without_modifiers(1)];
    let without_modifiers =
        method_kappa(method, &sl.categories(&plain[0]), &sl.categories(&plain[1]))?;
    let events = [coded(engine, Some(a)), coded(engine, Some(b))];
    let of = |i: usize, b: &BehaviourId| -> Vec<&Coded<'_>> {
        events.get(i).map_or_else(Vec::new, |ev| {
            ev.iter().filter(|c| c.behaviour == b).collect()
        })
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
    let origin = crate::export::origin(engine);
    let mut behaviours = Vec::new();
    for (id, label) in order {
        let mine = [of(0, &id), of(1, &id)];
        let coded = [mine[0].len(), mine[1].len()];
        if coded == [0, 0] {
            continue;
        }
        let kappa = match method {
            KappaMethod::Sets => {
                let present = |labels: &[Label]| -> Vec<bool> {
                    labels
                        .iter()
                        .map(|l| l.iter().any(|(b, _)| *b == id))
                        .collect()
                };
                Some(cohen_kappa(&present(&plain[0]), &present(&plain[1]))?)
            }
            KappaMethod::Boris if coded.contains(&0) => None,
            KappaMethod::Boris => {
                let alone = sample(mine, &sl.subjects, sl.slice_ms, method, origin)?;
                let plain = alone.labels.map(|ls| {
                    ls.iter()
                        .map(|l| strip_modifiers(l, method))
                        .collect::<Vec<_>>()
                });
                Some(method_kappa(
                    method,
                    &categories(method, &sl.subjects, &plain[0]),
                    &categories(method, &sl.subjects, &plain[1]),
                )?)
            }
        };
        behaviours.push(BehaviourAgreement {
            behaviour: id,
            label,
            coded,
            kappa,
        });
    }
    Ok(Agreement {
        method,
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

/// One kappa in French: its value with `decimals` decimals and its band (BORIS's 1 where it is
/// undefined said so), the observed agreement and the units disagreed on.
fn kappa_fr(k: &Kappa, decimals: usize) -> String {
    let observed = fr_number(k.observed * 100.0, 1);
    let apart = k.units.saturating_sub(k.agreed);
    let value = match (k.kappa, k.exact) {
        (Some(x), Some(_)) => format!("κ = {} ({})", fr_number(x, decimals), strength_fr(x)),
        (Some(x), None) => format!(
            "κ = {} (valeur de BORIS quand les deux donnent partout la même réponse : en toute \
             rigueur non calculable)",
            fr_number(x, decimals)
        ),
        (None, _) => "non calculable (les deux donnent partout la même réponse)".to_owned(),
    };
    format!("{value} ; accord observé {observed} %, {apart} unité(s) en désaccord")
}

/// A short French account of an agreement for the facilitator: the method, the slices, the
/// overall kappa with and without modifiers (with Landis and Koch's band), each behaviour's
/// kappa and the counts of codes, and how to read it.
pub fn agreement_fr(a: &Agreement) -> String {
    let mut o = String::new();
    let [ra, rb] = &a.raters;
    // BORIS shows K with 3 decimals; our earlier variant gave behaviours 2.
    let per_behaviour = match a.method {
        KappaMethod::Boris => 3,
        KappaMethod::Sets => 2,
    };
    let _ = writeln!(o, "Accord entre observateur·rices : {ra} et {rb}");
    let _ = writeln!(o, "Méthode {}", a.method.describe_fr());
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
    let heading = match a.method {
        KappaMethod::Boris => {
            "\nPar comportement (BORIS sur ce seul comportement, sans modificateurs, de son \
             premier à son dernier codage) :"
        }
        KappaMethod::Sets => "\nPar comportement (présent ou absent dans chaque unité) :",
    };
    let _ = writeln!(o, "{heading}");
    for b in &a.behaviours {
        let value = match &b.kappa {
            Some(k) => kappa_fr(k, per_behaviour),
            None => "non calculé : un·e seul·e l'a codé (BORIS refuse une observation sans \
                     événement)"
                .to_owned(),
        };
        let _ = writeln!(
            o,
            "  - {} : {value} ; codé {}× par {ra}, {}× par {rb}",
            b.label, b.coded[0], b.coded[1]
        );
    }
    let method = match a.method {
        KappaMethod::Boris => {
            "Même calcul que BORIS 8.27.4 (IRR - Cohen's kappa (time-unit), « include modifiers » \
             coché ou non), arrondi comme lui à 3 décimales."
        }
        KappaMethod::Sets => {
            "Attention : variante « sets », pas le calcul de BORIS (le sujet n'entre pas dans la \
             catégorie, un double codage compte une fois, pas d'arrondi) ; --method boris donne \
             les chiffres de BORIS."
        }
    };
    let _ = writeln!(
        o,
        "\nLecture (Landis et Koch, 1977) : < 0 désaccord ; jusqu'à 0,20 très faible ; 0,40 faible ; \
         0,60 modéré ; 0,80 fort ; au-delà presque parfait. Un comportement rare donne un kappa \
         instable : regardez aussi le nombre de codages. {method}"
    );
    o
}
