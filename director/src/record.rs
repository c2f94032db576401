//! A participant's record across sessions (immersions, one escape game) turned into one
//! synthesis document ([`boussole_synthesis::Synthesis`], the "feuille de route évaluations"):
//! what each exercise was and can show, each competency's level with its evidence in words,
//! the self-assessment beside it, appetences and stress sources from the immersions, the
//! facilitator's comment and pistes d'orientation. It only reads engines (folds of the logs).
//!
//! Rules, all documented on [`build`]: a competency's level comes from the most recent session
//! that placed it; a level changed by the facilitator needs its written reason before any
//! synthesis; the final version needs the recorded debrief and the participant's consent.

use crate::engine::{Engine, Millis, ParticipantId, RaterId};
use crate::evaluation::{
    CompetencyResult, Evidence, ImmersionResult, Proposed, evaluate, immersion_results,
};
use crate::store::SessionId;
use boussole_content::ContentSet;
use boussole_content::ids::{CompetencyId, RubricId};
use boussole_content::rubric::Rubric;
use boussole_synthesis::{
    Activity, ActivityKind, Appetence, Audience, Competency, EvidenceLine, Person, Sign, Status,
    StressSource, Synthesis,
};

/// The most telling pieces of evidence printed per competency (the count says how many more).
pub const EVIDENCE_SHOWN: usize = 4;

/// A stress answer at or above this (on 1–5) makes the stimulus a "source de stress": the upper
/// two steps of the five-step scale the immersion questionnaire uses.
pub const STRESS_THRESHOLD: u8 = 4;

/// One session of a person's record: its number, when it was created, its engine, and the
/// person's slot in it (a slot label means something only inside its session).
#[derive(Clone, Debug)]
pub struct SessionRecord<'a> {
    /// The session.
    pub id: SessionId,
    /// The person's slot in this session (`P3`).
    pub participant: ParticipantId,
    /// When it was created (Unix milliseconds): session time counts from here.
    pub created_at_unix_ms: i64,
    /// The session replayed.
    pub engine: &'a Engine,
}

/// How to write the synthesis.
#[derive(Clone, Debug)]
pub struct SynthesisOptions {
    /// The counsellor's document, or the participant's view for the debrief.
    pub audience: Audience,
    /// The final version (needs the debrief and the consent), or a draft.
    pub final_version: bool,
    /// The name to show instead of the pseudonym, when the facilitator chooses to (read from the
    /// protected names table by the caller).
    pub shown_name: Option<String>,
    /// The person's pseudonym in the register; `None`: the one of their latest session.
    pub pseudonym: Option<String>,
    /// Whose observations count; `None`: in each session, the rater who coded the most (the lead
    /// facilitator; a second rater's coding is for agreement, not added on top).
    pub rater: Option<RaterId>,
    /// The programme ("La Boussole de l'orientation").
    pub programme: String,
    /// The organisation ("PLIE …").
    pub organisation: String,
    /// Who signs.
    pub facilitator: String,
    /// The document's date (Unix milliseconds).
    pub today_unix_ms: i64,
    /// The consent to this version, from the synthesis ledger (Unix ms): a final then needs
    /// no consent in the session logs. `None`: the logs' latest consent (`RecordConsent`).
    pub consent_unix_ms: Option<i64>,
}

/// Why a synthesis cannot be written (yet).
#[derive(Debug, thiserror::Error)]
pub enum SynthesisError {
    /// None of the sessions given holds the person's slot.
    #[error("the person is in none of the sessions given")]
    NoSession,
    /// A session's rubric is not in the content.
    #[error("session {session}: rubric {rubric} is not in the content")]
    UnknownRubric {
        /// The session.
        session: SessionId,
        /// The rubric it names.
        rubric: RubricId,
    },
    /// The facilitator changed a proposed level without a reason.
    #[error(
        "session {session}: {participant}: the level of {competency} was changed without a reason; record one (DecideLevel with a reason) before the synthesis"
    )]
    UnjustifiedChange {
        /// The session.
        session: SessionId,
        /// The participant.
        participant: ParticipantId,
        /// The competency.
        competency: CompetencyId,
    },
    /// A final version was asked before the debrief was recorded.
    #[error(
        "{0}: the debrief (restitution) is not recorded; the synthesis stays a draft until then"
    )]
    NoRestitution(ParticipantId),
    /// A final version was asked without the participant's consent (or after a withdrawal).
    #[error(
        "{0}: no recorded consent to send the synthesis to the prescriber; only a draft can be written"
    )]
    NoConsent(ParticipantId),
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A date in French words ("3 décembre 2026"), in UTC; an out-of-range time gives "date inconnue".
pub fn date_fr(unix_ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)) {
        Ok(t) => format!(
            "{} {} {}",
            t.day(),
            MONTHS[usize::from(u8::from(t.month())) - 1],
            t.year()
        ),
        Err(_) => "date inconnue".into(),
    }
}

/// Session time `at` of a session created at `created` (Unix ms), as Unix ms.
pub(crate) fn wall(created: i64, at: Millis) -> i64 {
    created.saturating_add(i64::try_from(at.0).unwrap_or(i64::MAX))
}

/// The lead rater: the one the facilitator named ([`crate::engine::Command::ChooseLeadRater`]),
/// else the rater who coded the most (not withdrawn) observations in `engine`, ties going to
/// the first in id order. `None` when nobody coded and nobody was named.
pub fn lead_rater(engine: &Engine) -> Option<RaterId> {
    if let Some(chosen) = engine.chosen_lead_rater() {
        return Some(chosen.clone());
    }
    let mut counts: std::collections::BTreeMap<&RaterId, usize> = Default::default();
    for o in engine.observations() {
        if o.retracted.is_none() && o.behaviour.is_some() {
            *counts.entry(&o.rater).or_default() += 1;
        }
    }
    let best = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(r, _)| r.clone())
}

/// Lower-cases the first letter of a label used inside a sentence ("Partage une information" →
/// "partage une information"), unless it starts an acronym.
fn in_sentence(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            a.to_lowercase().chain(s.chars().skip(1)).collect()
        }
        _ => s.to_owned(),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// One evidence line in words: game time, phase and puzzles, what.
fn evidence_line(engine: &Engine, e: &Evidence) -> EvidenceLine {
    let start = engine.times().started.unwrap_or_default();
    let when = format!("{} min", e.at.0.saturating_sub(start.0) / 60_000);
    let mut context = Vec::new();
    if let Some(ph) = &e.phase
        && let Some(p) = engine.scenario().phases.iter().find(|p| p.id == *ph)
    {
        context.push(format!("phase « {} »", p.title.fr));
    }
    let titles: Vec<String> = e
        .puzzles
        .iter()
        .take(2)
        .filter_map(|id| engine.scenario().puzzles.iter().find(|p| p.id == *id))
        .map(|p| format!("« {} »", p.title.fr))
        .collect();
    if !titles.is_empty() {
        let word = if titles.len() > 1 {
            "énigmes"
        } else {
            "énigme"
        };
        context.push(format!("{word} {}", titles.join(", ")));
    }
    EvidenceLine {
        when,
        context: context.join(", "),
        what: in_sentence(&e.what),
        sign: if e.contribution < 0.0 {
            Sign::Negative
        } else {
            Sign::Positive
        },
    }
}

/// The level a competency ends with in one session: the facilitator's decision, else the
/// proposal; `None` when neither places it.
fn retained(c: &CompetencyResult) -> Option<u8> {
    match (&c.decision, &c.proposed) {
        (Some(d), _) => d.decided.level,
        (None, Proposed::Level { level, .. }) => Some(*level),
        (None, Proposed::NotObserved { .. }) => None,
    }
}

fn appeal_words(appeal: Option<u8>, audience: Audience) -> String {
    let (them, you) = match appeal {
        Some(5) => ("Ce métier lui plaît beaucoup", "Vous avez beaucoup aimé"),
        Some(4) => ("Ce métier lui plaît", "Vous avez aimé"),
        Some(3) => ("Avis partagé sur ce métier", "Vous avez un avis partagé"),
        Some(2) => ("Ce métier lui plaît peu", "Vous avez peu aimé"),
        Some(_) => ("Ce métier ne lui plaît pas", "Vous n'avez pas aimé"),
        None => ("Pas de réponse", "Vous n'avez pas répondu"),
    };
    match audience {
        Audience::Counsellor => them.into(),
        Audience::Participant => you.into(),
    }
}

const GAME_SHOWS: &str = "des façons d'agir en groupe, sous contrainte de temps, dans une situation de jeu : communiquer, coopérer, s'organiser, réagir à l'imprévu, vérifier une information.";
const GAME_LIMITS: &str = "ni les compétences techniques d'un métier, ni le comportement en entreprise dans la durée ; une séance donne un instantané, à confirmer en situation réelle (PMSMP, stage). Lire les consignes y compte : les énigmes résolues ne mesurent pas seules une compétence.";
const IMMERSION_SHOWS: &str = "l'attrait déclaré pour un métier, ce qui a semblé difficile dans ses conditions de travail (bruit, rythme, froid…) et la curiosité pour le poste.";
const IMMERSION_LIMITS: &str = "ni la capacité à exercer le métier, ni ses conditions réelles sur une journée entière ; l'avis dépend aussi de l'aisance avec la réalité virtuelle.";

/// Builds one person's synthesis from `sessions`, each naming the person's slot in it (any
/// order; they are read oldest first). The caller gives only that person's sessions (see
/// [`crate::register::appearances`]): nothing here joins sessions by slot label.
///
/// - Activities: each escape game the participant played (date, minutes of play) and each of
///   their immersion runs, except the tutorial.
/// - Competencies (the rubric of the most recent escape game, else of the most recent session):
///   the level is the facilitator's decision, else the proposal, from the most recent session
///   that placed the competency; "non observé" otherwise. Up to [`EVIDENCE_SHOWN`] pieces of
///   evidence with the largest contributions are printed, in time order.
/// - Strengths: the rubric's two upper levels; to develop: its two lower levels.
/// - Appetences: one per immersion (appeal 1–5 in words, hotspots seen, tasks done); stress
///   sources: stimuli rated [`STRESS_THRESHOLD`] or more.
/// - Comment and pistes d'orientation: the latest written, newest session first.
///
/// # Errors
/// [`SynthesisError`]: participant in no session, unknown rubric, a changed level without its
/// reason, and for a final version a missing debrief or consent (the latest consent answer
/// counts, so a withdrawal blocks it).
pub fn build(
    sessions: &[SessionRecord<'_>],
    content: &ContentSet,
    opts: &SynthesisOptions,
) -> Result<Synthesis, SynthesisError> {
    let mut mine: Vec<&SessionRecord<'_>> = sessions
        .iter()
        .filter(|s| s.engine.participants().contains_key(&s.participant))
        .collect();
    mine.sort_by_key(|s| (s.created_at_unix_ms, s.id.0));
    let Some(latest) = mine.last() else {
        return Err(SynthesisError::NoSession);
    };
    let rubric_session = mine
        .iter()
        .rev()
        .find(|s| s.engine.times().started.is_some())
        .unwrap_or(latest);
    let rubric_id = &rubric_session.engine.scenario().rubric;
    let rubric: &Rubric = content
        .rubrics
        .iter()
        .map(|d| &d.value)
        .find(|r| r.id == *rubric_id)
        .ok_or_else(|| SynthesisError::UnknownRubric {
            session: rubric_session.id,
            rubric: rubric_id.clone(),
        })?;
    let immersions: Vec<_> = content.immersions.iter().map(|d| d.value.clone()).collect();

    let mut activities = Vec::new();
    // Per session (oldest first): the participant's competency results.
    let mut results: Vec<(&SessionRecord<'_>, Vec<CompetencyResult>)> = Vec::new();
    let mut runs: Vec<ImmersionResult> = Vec::new();
    for s in &mine {
        let engine = s.engine;
        let rater = opts.rater.clone().or_else(|| lead_rater(engine));
        let eval = evaluate(engine, rubric, rater.as_ref());
        if let Some(p) = eval
            .participants
            .into_iter()
            .find(|p| p.participant == s.participant)
        {
            for c in &p.competencies {
                let changed = c.decision.as_ref().is_some_and(|d| d.needs_reason);
                if changed {
                    return Err(SynthesisError::UnjustifiedChange {
                        session: s.id,
                        participant: s.participant.clone(),
                        competency: c.competency.clone(),
                    });
                }
            }
            if let Some(start) = engine.times().started {
                activities.push(Activity {
                    kind: ActivityKind::EscapeGame,
                    title: engine.scenario().title.fr.clone(),
                    date: date_fr(wall(s.created_at_unix_ms, start)),
                    minutes: eval.minutes_observed.round() as u32,
                    description: engine.scenario().summary.clone(),
                    shows: GAME_SHOWS.into(),
                    limits: GAME_LIMITS.into(),
                });
                results.push((s, p.competencies));
            }
        }
        for run in immersion_results(engine, &immersions) {
            if run.participant != s.participant || run.tutorial {
                continue;
            }
            let kinds: Vec<&str> = immersions
                .iter()
                .find(|i| i.id == run.immersion)
                .map(|i| i.stimuli.iter().map(|st| st.kind.label_fr()).collect())
                .unwrap_or_default();
            let constraints = if kinds.is_empty() {
                String::new()
            } else {
                format!(", et les contraintes du poste ({})", kinds.join(", "))
            };
            activities.push(Activity {
                kind: ActivityKind::Immersion,
                title: run.title.clone(),
                date: date_fr(wall(
                    s.created_at_unix_ms,
                    run.started.unwrap_or(engine.now()),
                )),
                minutes: run.minutes(engine.now()).round() as u32,
                description: format!(
                    "Découverte d'un poste en réalité virtuelle — {} : {} points d'intérêt commentés, {} petite(s) tâche(s){constraints}.",
                    run.sector, run.hotspots_total, run.tasks_total
                ),
                shows: IMMERSION_SHOWS.into(),
                limits: IMMERSION_LIMITS.into(),
            });
            runs.push(run);
        }
    }

    let n = rubric.levels.len();
    let level_name = |l: u8| {
        rubric
            .levels
            .get(usize::from(l).saturating_sub(1))
            .cloned()
            .unwrap_or_default()
    };
    let mut competencies = Vec::new();
    let mut strengths = Vec::new();
    let mut to_develop = Vec::new();
    for rc in &rubric.competencies {
        let placed = results.iter().rev().find_map(|(s, cs)| {
            cs.iter()
                .find(|c| c.competency == rc.id && retained(c).is_some())
                .map(|c| (*s, c))
        });
        let self_level = results.iter().rev().find_map(|(_, cs)| {
            cs.iter()
                .find(|c| c.competency == rc.id)
                .and_then(|c| c.self_rating)
        });
        let row = match placed {
            Some((s, c)) => {
                let level = retained(c);
                let mut top: Vec<&Evidence> = c.evidence.iter().collect();
                top.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
                top.truncate(EVIDENCE_SHOWN);
                top.sort_by_key(|e| e.at);
                let changed = c.decision.as_ref().filter(|d| d.changed).map(|d| {
                    let proposed = match &c.proposed {
                        Proposed::Level { label, .. } => label.clone(),
                        Proposed::NotObserved { .. } => "non observé".into(),
                    };
                    format!("proposé « {proposed} » ; {}", d.decided.reason.trim())
                });
                Competency {
                    label: rc.label.clone(),
                    definition: rc.definition.clone(),
                    level,
                    anchor: level.and_then(|l| rc.anchors.get(usize::from(l) - 1).cloned()),
                    changed,
                    evidence: top.iter().map(|e| evidence_line(s.engine, e)).collect(),
                    evidence_total: u32::try_from(c.evidence.len()).unwrap_or(u32::MAX),
                    self_level,
                }
            }
            None => Competency {
                label: rc.label.clone(),
                definition: rc.definition.clone(),
                level: None,
                anchor: None,
                changed: None,
                evidence: Vec::new(),
                evidence_total: results
                    .last()
                    .and_then(|(_, cs)| cs.iter().find(|c| c.competency == rc.id))
                    .map_or(0, |c| u32::try_from(c.evidence.len()).unwrap_or(u32::MAX)),
                self_level,
            },
        };
        if let Some(l) = row.level {
            let line = match opts.audience {
                Audience::Counsellor => format!("{} : {}", rc.label, level_name(l)),
                Audience::Participant => rc.label.clone(),
            };
            if usize::from(l) + 1 >= n {
                strengths.push(line);
            } else if usize::from(l) <= 2 {
                to_develop.push(line);
            }
        }
        competencies.push(row);
    }

    let appetences = runs
        .iter()
        .map(|r| Appetence {
            title: r.title.clone(),
            sector: r.sector.clone(),
            rome_codes: r.rome_codes.clone(),
            appeal: r.appeal,
            appeal_words: appeal_words(r.appeal, opts.audience),
            hotspots: (count(r.hotspots_seen), count(r.hotspots_total)),
            tasks: (count(r.tasks_done), count(r.tasks_total)),
            comment: r.comment.clone(),
        })
        .collect();
    let stress_sources = runs
        .iter()
        .flat_map(|r| {
            r.stress
                .iter()
                .filter(|s| s.rating >= STRESS_THRESHOLD)
                .map(|s| StressSource {
                    stimulus: format!("{} — {}", capitalised(&s.kind), s.description),
                    immersion: r.title.clone(),
                    rating: s.rating,
                })
        })
        .collect();

    // The debrief, newest session first: the latest comment written, restitution and consent.
    let debriefs = || {
        mine.iter()
            .rev()
            .filter_map(|s| s.engine.debriefs().get(&s.participant).map(|d| (*s, d)))
    };
    let (comment, recommendations) = debriefs()
        .find(|(_, d)| !d.comment.trim().is_empty() || !d.recommendations.is_empty())
        .map(|(_, d)| (d.comment.clone(), d.recommendations.clone()))
        .unwrap_or_default();
    let status = if opts.final_version {
        let restitution = debriefs()
            .find_map(|(s, d)| d.restitution.map(|at| wall(s.created_at_unix_ms, at)))
            .ok_or_else(|| SynthesisError::NoRestitution(latest.participant.clone()))?;
        let consent = match opts.consent_unix_ms {
            Some(at) => (true, at),
            None => debriefs()
                .find_map(|(s, d)| d.consent.map(|(g, at)| (g, wall(s.created_at_unix_ms, at))))
                .filter(|(given, _)| *given)
                .ok_or_else(|| SynthesisError::NoConsent(latest.participant.clone()))?,
        };
        Status::Final {
            restitution: date_fr(restitution),
            consent: date_fr(consent.1),
        }
    } else {
        Status::Draft
    };

    let pseudonym = opts.pseudonym.clone().unwrap_or_else(|| {
        latest
            .engine
            .participants()
            .get(&latest.participant)
            .map_or_else(|| latest.participant.to_string(), |p| p.pseudonym.clone())
    });
    Ok(Synthesis {
        audience: opts.audience,
        status,
        programme: opts.programme.clone(),
        organisation: opts.organisation.clone(),
        date: date_fr(opts.today_unix_ms),
        participant: Person {
            shown: opts
                .shown_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| pseudonym.clone()),
            pseudonym,
        },
        activities,
        levels: rubric.levels.clone(),
        rubric_source: rubric.source.clone(),
        competencies,
        strengths,
        to_develop,
        appetences,
        stress_sources,
        other_evaluations: Vec::new(),
        comment,
        recommendations,
        facilitator: opts.facilitator.clone(),
        version: String::new(),
        replaces: None,
    })
}

/// A person's results from other tools as the synthesis prints them under « Autres
/// évaluations » (each with its tool, date and who administered it), oldest first. They are
/// set beside the findings ([`build`] leaves them empty; the caller reads them from the
/// register: `Store::results`) and never enter the savoir-être levels.
pub fn other_evaluations(
    results: &[crate::store::ExternalResult],
    content: &ContentSet,
) -> Vec<boussole_synthesis::OtherEvaluation> {
    results
        .iter()
        .map(|r| boussole_synthesis::OtherEvaluation {
            title: crate::roadmap::title_of(content, &r.activity),
            tool: r.tool.clone(),
            date: crate::roadmap::day_fr(&r.taken_on),
            administered_by: r.administered_by.clone(),
            results: r
                .fields
                .iter()
                .map(|(_, label, value)| (label.clone(), value.clone()))
                .collect(),
            report_kept: r.attachment.is_some(),
        })
        .collect()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
