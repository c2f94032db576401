//! The evaluation: a pure function of the session (itself a fold of the log). For each
//! participant and competency, the rubric's scoring rule (data, not code) turns the observations
//! (valence × weight from the grid; state events per minute of their span) and the game events
//! (valence × weight from the rubric, capped so that they never decide a level alone) into a
//! score per observed minute and a **proposed** level, with every piece of evidence behind it.
//! Below the rubric's minimum evidence the result is "non observé", never a guess. The
//! facilitator's decision, when there is one, stands beside the proposal.

use crate::engine::{Engine, GameEventKind, LevelDecision, Millis, ParticipantId, RaterId};
use boussole_content::grid::EventKind;
use boussole_content::ids::{CompetencyId, ImmersionId, PhaseId, PuzzleId, StimulusId};
use boussole_content::immersion::Immersion;
use boussole_content::rubric::{GameEventKind as RubricEvent, Rubric};

/// The evaluation of one session by one rater (or all raters).
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Whose observations count; `None` for every rater.
    pub rater: Option<RaterId>,
    /// Minutes of play observed: from the start of the game to its end (or the close).
    pub minutes_observed: f32,
    /// One per participant, in id order.
    pub participants: Vec<ParticipantEvaluation>,
}

/// One participant's results.
#[derive(Clone, Debug, PartialEq)]
pub struct ParticipantEvaluation {
    /// The participant.
    pub participant: ParticipantId,
    /// Their pseudonym.
    pub pseudonym: String,
    /// One per competency of the rubric, in rubric order.
    pub competencies: Vec<CompetencyResult>,
}

/// One competency's result.
#[derive(Clone, Debug, PartialEq)]
pub struct CompetencyResult {
    /// The competency.
    pub competency: CompetencyId,
    /// Its French label.
    pub label: String,
    /// What the rule proposes.
    pub proposed: Proposed,
    /// The facilitator's decision, if any, and whether it needs a reason it lacks.
    pub decision: Option<Decision>,
    /// The evidence, in time order, each with its contribution to the score.
    pub evidence: Vec<Evidence>,
    /// The participant's own rating at the debrief (the scenario's self-assessment), on the
    /// rubric's scale from 1 (a questionnaire with another number of steps is rescaled, rounded);
    /// `None` when not answered. Shown beside the observation, never mixed into it.
    pub self_rating: Option<u8>,
}

/// A proposal.
#[derive(Clone, Debug, PartialEq)]
pub enum Proposed {
    /// A level, from 1.
    Level {
        /// The level, from 1.
        level: u8,
        /// Its name in the rubric.
        label: String,
        /// The score per observed minute that gave it.
        score_per_minute: f32,
    },
    /// Not enough evidence: "non observé".
    NotObserved {
        /// Observations that count for this competency.
        observations: u32,
        /// The rubric's minimum.
        needed: u32,
    },
}

/// The facilitator's decision on a proposal.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// What was decided.
    pub decided: LevelDecision,
    /// Whether it differs from the proposal.
    pub changed: bool,
    /// A change without a written reason: to be justified before the synthesis.
    pub needs_reason: bool,
}

/// One piece of evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// When it happened (or started).
    pub at: Millis,
    /// When a state event stopped.
    pub until: Option<Millis>,
    /// What, in French (the behaviour's label, or the game event).
    pub what: String,
    /// An observation, or a game event.
    pub source: Source,
    /// Its contribution to the score (after the game-event cap).
    pub contribution: f32,
    /// The phase at the time.
    pub phase: Option<PhaseId>,
    /// The puzzles open at the time.
    pub puzzles: Vec<PuzzleId>,
}

/// Where a piece of evidence comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A coded observation.
    Observation,
    /// Something the game recorded.
    GameEvent,
}

fn minutes(from: Millis, to: Millis) -> f32 {
    to.0.saturating_sub(from.0) as f32 / 60_000.0
}

/// Evaluates `engine`'s session with `rubric`, counting the observations of `rater` (or of every
/// rater when `None`; withdrawn ones never count).
pub fn evaluate(engine: &Engine, rubric: &Rubric, rater: Option<&RaterId>) -> Evaluation {
    let times = engine.times();
    let end = times.ended.or(times.closed).unwrap_or_else(|| engine.now());
    let observed = times.started.map_or(0.0, |s| minutes(s, end));
    let rule = &rubric.scoring;
    let grid = engine.grid();
    let mut participants = Vec::new();
    for (pid, p) in engine.participants() {
        let mut competencies = Vec::new();
        for c in &rubric.competencies {
            let mut obs_evidence = Vec::new();
            let mut count = 0u32;
            for o in engine.observations() {
                if o.participant.as_ref() != Some(pid)
                    || o.retracted.is_some()
                    || rater.is_some_and(|r| *r != o.rater)
                {
                    continue;
                }
                let Some(b) = o
                    .behaviour
                    .as_ref()
                    .and_then(|b| grid.behaviours.iter().find(|x| x.id == *b))
                else {
                    continue;
                };
                for link in b.competencies.iter().filter(|l| l.competency == c.id) {
                    let amount = match b.kind {
                        EventKind::Point => 1.0,
                        EventKind::State => minutes(o.at, o.until.unwrap_or(end)),
                    };
                    count += 1;
                    obs_evidence.push(Evidence {
                        at: o.at,
                        until: o.until,
                        what: b.label.clone(),
                        source: Source::Observation,
                        contribution: link.valence.sign() * link.weight * amount,
                        phase: o.phase.clone(),
                        puzzles: o.puzzles.clone(),
                    });
                }
            }
            let mut game_evidence = Vec::new();
            for g in engine
                .game_events()
                .iter()
                .filter(|g| g.participant.as_ref() == Some(pid))
            {
                let (kind, what) = match &g.kind {
                    GameEventKind::Solved(p) => (
                        RubricEvent::PuzzleSolved,
                        format!("a résolu « {} »", puzzle_title(engine, p)),
                    ),
                    GameEventKind::WrongAnswer(p) => (
                        RubricEvent::WrongAnswer,
                        format!("mauvaise réponse à « {} »", puzzle_title(engine, p)),
                    ),
                    GameEventKind::HintRequested(p) => (
                        RubricEvent::HintRequested,
                        format!("a demandé un indice pour « {} »", puzzle_title(engine, p)),
                    ),
                    GameEventKind::HotspotSeen(_, h) => (
                        RubricEvent::HotspotVisited,
                        format!("a regardé le point d'intérêt {h}"),
                    ),
                    GameEventKind::TaskDone(_, t, true) => {
                        (RubricEvent::TaskCompleted, format!("a réussi la tâche {t}"))
                    }
                    // Being shown the headset's view is where guiding starts, not an
                    // attitude: the observers code how the wearer guides.
                    GameEventKind::TaskDone(..)
                    | GameEventKind::HintReceived(..)
                    | GameEventKind::HeadsetViewSeen(_)
                    | GameEventKind::Rating { .. } => continue,
                };
                for w in rule
                    .game_events
                    .iter()
                    .filter(|w| w.event == kind && w.competency == c.id)
                {
                    game_evidence.push(Evidence {
                        at: g.at,
                        until: None,
                        what: what.clone(),
                        source: Source::GameEvent,
                        contribution: w.valence.sign() * w.weight,
                        phase: None,
                        puzzles: Vec::new(),
                    });
                }
            }
            // Game events partly measure reading ability: cap their share of the evidence.
            let obs_abs: f32 = obs_evidence.iter().map(|e| e.contribution.abs()).sum();
            let game_abs: f32 = game_evidence.iter().map(|e| e.contribution.abs()).sum();
            let share = rule.max_game_event_share.clamp(0.0, 0.99);
            if game_abs > 0.0 && game_abs > share * (obs_abs + game_abs) {
                let k = share * obs_abs / ((1.0 - share) * game_abs);
                for e in &mut game_evidence {
                    e.contribution *= k;
                }
            }
            let enough = count >= rule.minimum_evidence.observations
                && observed >= rule.minimum_evidence.minutes_observed;
            let mut evidence: Vec<Evidence> =
                obs_evidence.into_iter().chain(game_evidence).collect();
            evidence.sort_by_key(|e| e.at);
            let proposed = if enough && observed > 0.0 {
                let score = evidence.iter().map(|e| e.contribution).sum::<f32>() / observed;
                let level = 1 + rule.thresholds.iter().filter(|t| score >= **t).count();
                let level = u8::try_from(level).unwrap_or(u8::MAX);
                let label = rubric
                    .levels
                    .get(usize::from(level) - 1)
                    .cloned()
                    .unwrap_or_default();
                Proposed::Level {
                    level,
                    label,
                    score_per_minute: score,
                }
            } else {
                Proposed::NotObserved {
                    observations: count,
                    needed: rule.minimum_evidence.observations,
                }
            };
            let decision = engine
                .decisions()
                .get(&(pid.clone(), c.id.clone()))
                .map(|d| {
                    let proposed_level = match &proposed {
                        Proposed::Level { level, .. } => Some(*level),
                        Proposed::NotObserved { .. } => None,
                    };
                    let changed = d.level != proposed_level;
                    Decision {
                        decided: d.clone(),
                        changed,
                        needs_reason: changed && d.reason.trim().is_empty(),
                    }
                });
            competencies.push(CompetencyResult {
                competency: c.id.clone(),
                label: c.label.clone(),
                proposed,
                decision,
                evidence,
                self_rating: self_rating(engine, pid, &c.id, rubric.levels.len()),
            });
        }
        participants.push(ParticipantEvaluation {
            participant: pid.clone(),
            pseudonym: p.pseudonym.clone(),
            competencies,
        });
    }
    Evaluation {
        rater: rater.cloned(),
        minutes_observed: observed,
        participants,
    }
}

/// The participant's latest self-assessment answer about `competency`, rescaled from the
/// questionnaire's scale to the rubric's `levels` steps.
fn self_rating(
    engine: &Engine,
    participant: &ParticipantId,
    competency: &CompetencyId,
    levels: usize,
) -> Option<u8> {
    let sa = &engine.scenario().self_assessment;
    let steps = sa.scale.len();
    let value = engine
        .game_events()
        .iter()
        .rev()
        .filter(|g| g.participant.as_ref() == Some(participant))
        .find_map(|g| match &g.kind {
            GameEventKind::Rating {
                question,
                value,
                immersion: None,
                ..
            } if sa
                .questions
                .iter()
                .any(|q| q.id == *question && q.competency == *competency) =>
            {
                Some(*value)
            }
            _ => None,
        })?;
    rescale(value, steps, levels)
}

/// `value` on a 1..=`from` scale, on a 1..=`to` scale (rounded); `None` outside the scale.
fn rescale(value: u8, from: usize, to: usize) -> Option<u8> {
    let v = usize::from(value);
    if v == 0 || v > from || to == 0 {
        return None;
    }
    if from == to || from == 1 {
        return u8::try_from(v.min(to)).ok();
    }
    let scaled = ((v - 1) * (to - 1) * 2 + (from - 1)) / ((from - 1) * 2) + 1;
    u8::try_from(scaled).ok()
}

/// What one immersion run gave: appeal, stress per stimulus, hotspots seen, tasks done.
#[derive(Clone, Debug, PartialEq)]
pub struct ImmersionResult {
    /// Who wore the headset.
    pub participant: ParticipantId,
    /// The immersion.
    pub immersion: ImmersionId,
    /// Its title.
    pub title: String,
    /// Its sector.
    pub sector: String,
    /// ROME codes of the trades shown.
    pub rome_codes: Vec<String>,
    /// Whether it is the tutorial (not a trade: no appetence drawn from it).
    pub tutorial: bool,
    /// When it started and stopped, session time (`None` if it did not).
    pub started: Option<Millis>,
    /// When it stopped.
    pub stopped: Option<Millis>,
    /// The appeal answer, 1 to 5 (question id `appeal`), latest one.
    pub appeal: Option<u8>,
    /// The free comment given with any answer of the questionnaire, latest one.
    pub comment: Option<String>,
    /// Stress answers, 1 to 5, per stimulus in the immersion's order (only those answered).
    pub stress: Vec<StressRating>,
    /// Distinct hotspots looked at.
    pub hotspots_seen: usize,
    /// Hotspots in the immersion.
    pub hotspots_total: usize,
    /// Distinct tasks done right.
    pub tasks_done: usize,
    /// Tasks in the immersion.
    pub tasks_total: usize,
}

/// A stress answer about one stimulus.
#[derive(Clone, Debug, PartialEq)]
pub struct StressRating {
    /// The stimulus.
    pub stimulus: StimulusId,
    /// What it is, in French ("bruit").
    pub kind: String,
    /// What the participant was told about it.
    pub description: String,
    /// 1 (not stressful) to 5.
    pub rating: u8,
}

impl ImmersionResult {
    /// Minutes in the headset (0 when it never started; until now when still running).
    pub fn minutes(&self, now: Millis) -> f32 {
        self.started
            .map_or(0.0, |s| minutes(s, self.stopped.unwrap_or(now)))
    }
}

/// Every immersion run of the session with its answers (see [`Engine::immersion_runs`]). `immersions` is the
/// content's immersion list; a run of an immersion missing from it is left out.
pub fn immersion_results(engine: &Engine, immersions: &[Immersion]) -> Vec<ImmersionResult> {
    let mut out = Vec::new();
    for run in engine.immersion_runs() {
        let Some(im) = immersions.iter().find(|i| i.id == run.immersion) else {
            continue;
        };
        let mine = || {
            engine
                .game_events()
                .iter()
                .filter(|g| g.participant.as_ref() == Some(&run.participant))
        };
        let mut appeal = None;
        let mut comment = None;
        let mut stress: Vec<StressRating> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut done = std::collections::BTreeSet::new();
        for g in mine() {
            match &g.kind {
                GameEventKind::HotspotSeen(i, h) if *i == im.id => {
                    seen.insert(h.clone());
                }
                GameEventKind::TaskDone(i, t, true) if *i == im.id => {
                    done.insert(t.clone());
                }
                GameEventKind::Rating {
                    question,
                    value,
                    comment: c,
                    immersion: Some(i),
                } if *i == im.id => {
                    if c.as_deref().is_some_and(|c| !c.trim().is_empty()) {
                        comment.clone_from(c);
                    }
                    if question.as_str() == "appeal" {
                        appeal = Some(*value).filter(|v| (1..=5).contains(v));
                    } else if let Some(q) =
                        im.questionnaire.stress.iter().find(|q| q.id == *question)
                        && let Some(st) = im.stimuli.iter().find(|s| s.id == q.stimulus)
                        && (1..=5).contains(value)
                    {
                        stress.retain(|r| r.stimulus != st.id);
                        stress.push(StressRating {
                            stimulus: st.id.clone(),
                            kind: st.kind.label_fr().to_owned(),
                            description: st.description.fr.clone(),
                            rating: *value,
                        });
                    }
                }
                _ => {}
            }
        }
        stress.sort_by_key(|r| im.stimuli.iter().position(|s| s.id == r.stimulus));
        out.push(ImmersionResult {
            participant: run.participant.clone(),
            immersion: im.id.clone(),
            title: im.title.fr.clone(),
            sector: im.sector.clone(),
            rome_codes: im.rome_codes.clone(),
            tutorial: im.tutorial,
            started: run.started,
            stopped: run.stopped,
            appeal,
            comment,
            stress,
            hotspots_seen: seen.len(),
            hotspots_total: im.hotspots.len(),
            tasks_done: done.len(),
            tasks_total: im.tasks.len(),
        });
    }
    out
}

fn puzzle_title(engine: &Engine, id: &PuzzleId) -> String {
    engine
        .scenario()
        .puzzles
        .iter()
        .find(|p| p.id == *id)
        .map_or_else(|| id.to_string(), |p| p.title.fr.clone())
}

/// The proposed levels in French, one line per participant and observed competency, and the
/// competencies left "non observé".
pub fn evaluation_fr(e: &Evaluation) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Niveaux proposés ({:.0} min de jeu observées ; à confirmer par l'animateur·rice) :",
        e.minutes_observed
    );
    for p in &e.participants {
        let _ = writeln!(o, "  - {} :", p.pseudonym);
        let mut not_observed = Vec::new();
        for c in &p.competencies {
            match &c.proposed {
                Proposed::Level { level, label, .. } => {
                    let n = c.evidence.len();
                    let own = c
                        .self_rating
                        .map(|s| format!(" ; auto-évaluation : {s}"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        o,
                        "      {} : {level} — {label} ({n} élément(s) de preuve{own})",
                        c.label
                    );
                }
                Proposed::NotObserved { .. } => not_observed.push(c.label.as_str()),
            }
        }
        if !not_observed.is_empty() {
            let _ = writeln!(o, "      non observé : {}", not_observed.join(", "));
        }
    }
    o
}
