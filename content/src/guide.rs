//! The facilitator's guide of a scenario, generated in French Markdown from the content alone,
//! so that it can never disagree with what is played.

use crate::cue::{CueKind, Target, TimerAction, Trigger};
use crate::grid::ObservationGrid;
use crate::load::ContentSet;
use crate::puzzle::{Puzzle, PuzzleKind, SolutionCheck};
use crate::rubric::Rubric;
use crate::scenario::{EndingKind, Scenario};
use std::collections::HashMap;
use std::fmt::Write;

/// The guide for the scenario `id`, or `None` if there is no such scenario. `source` is the
/// file name shown in the header. Sections: story, briefing, set-up, stations, timeline with
/// timing marks, each puzzle (what is shown, solution, hints, what to observe), cue list,
/// endings, reset, debrief, self-assessment, observation keys.
pub fn guide_md(set: &ContentSet, id: &str) -> Option<String> {
    let doc = set.scenarios.iter().find(|s| s.value.id.as_str() == id)?;
    let s = &doc.value;
    let rubric = set
        .rubrics
        .iter()
        .map(|r| &r.value)
        .find(|r| r.id == s.rubric);
    let grid = set
        .grids
        .iter()
        .map(|g| &g.value)
        .find(|g| g.id == s.observation_grid);
    let marks = timing_marks(s);
    let mut o = String::new();
    let _ = writeln!(o, "# Guide de l'animateur·rice — {}\n", s.title.fr);
    let _ = writeln!(
        o,
        "> Généré depuis `{}` par `boussole-lint guide {}`. Ne pas modifier à la main : modifier le contenu, puis régénérer.\n",
        doc.file.file_name().and_then(|f| f.to_str()).unwrap_or("?"),
        s.id
    );
    let _ = writeln!(
        o,
        "**Durée :** {} min · **Équipe :** {} à {} personnes ({} prévues) · **Énigmes :** {} · **Phases :** {}\n",
        s.duration_minutes,
        s.team.min,
        s.team.max,
        s.team.nominal,
        s.puzzles.len(),
        s.phases.len()
    );
    let _ = writeln!(o, "## L'histoire\n\n{}\n", s.summary);
    let _ = writeln!(
        o,
        "## Briefing, à lire tel quel\n\nLire le même texte à chaque séance, sans l'expliquer davantage.\n"
    );
    let briefing: Vec<String> = s.briefing.iter().map(|t| format!("> {}", t.fr)).collect();
    let _ = writeln!(o, "{}", briefing.join("\n>\n"));
    let _ = writeln!(o, "\n## Avant la séance : mise en place\n");
    for item in &s.setup_checklist {
        let _ = writeln!(o, "- [ ] {item}");
    }
    let _ = writeln!(
        o,
        "\n## Les postes\n\n| poste | appareil | emplacement |\n| --- | --- | --- |"
    );
    for st in &s.stations {
        let _ = writeln!(o, "| `{}` | {} | {} |", st.id, st.role.label_fr(), st.label);
    }
    let _ = writeln!(
        o,
        "\n## Déroulé et repères de temps\n\nLe repère est la minute de jeu à laquelle l'énigme est résolue si l'équipe suit le temps prévu sur le chemin le plus long qui y mène. Une équipe en retard de plus de la moitié du temps prévu d'une énigme reçoit l'indice suivant : la même règle pour toutes les équipes.\n"
    );
    let _ = writeln!(
        o,
        "| phase | énigme | débloquée par | temps prévu | repère |\n| --- | --- | --- | --- | --- |"
    );
    for ph in &s.phases {
        for p in s.puzzles.iter().filter(|p| p.phase == ph.id) {
            let after: Vec<String> = p.requires.iter().map(|r| format!("`{r}`")).collect();
            let _ = writeln!(
                o,
                "| {} | {} (`{}`) | {} | {} min | minute {:.0} |",
                ph.title.fr,
                p.title.fr,
                p.id,
                if after.is_empty() {
                    "départ".to_owned()
                } else {
                    after.join(", ")
                },
                p.expected_minutes,
                marks.get(p.id.as_str()).copied().unwrap_or(0.0)
            );
        }
    }
    let _ = writeln!(o, "\n## Les énigmes");
    for (n, p) in s.puzzles.iter().enumerate() {
        puzzle_section(&mut o, n + 1, p, s, rubric, grid, &marks);
    }
    cue_list(&mut o, s);
    let _ = writeln!(o, "\n## Fins\n");
    for e in &s.endings {
        let when = match e.kind {
            EndingKind::Success => "Réussite (toutes les énigmes résolues)",
            EndingKind::TimeOut => "Temps écoulé",
        };
        let cue = e
            .cue
            .as_ref()
            .map(|c| format!(" — top `{c}`"))
            .unwrap_or_default();
        let _ = writeln!(o, "- **{when}**{cue} : « {} »", e.text.fr);
    }
    let _ = writeln!(o, "\n## Après la séance : remise en état\n");
    for item in &s.reset_checklist {
        let _ = writeln!(o, "- [ ] {item}");
    }
    let _ = writeln!(o, "\n## Restitution : questions à poser\n");
    for q in &s.debrief_questions {
        let _ = writeln!(o, "1. {q}");
    }
    let sa = &s.self_assessment;
    let scale: Vec<String> = sa
        .scale
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{} = {}", i + 1, t.fr))
        .collect();
    let _ = writeln!(
        o,
        "\n## Auto-évaluation\n\n{} Échelle : {}.\n",
        sa.intro.fr,
        scale.join(" ; ")
    );
    for q in &sa.questions {
        let _ = writeln!(
            o,
            "- {} *({})*",
            q.text.fr,
            competency_label(rubric, q.competency.as_str())
        );
    }
    if let Some(g) = grid {
        keys_section(&mut o, g);
    }
    Some(o)
}

/// Minute of play at which each puzzle is solved on schedule: the longest path of
/// `expected_minutes` leading to it (itself included).
fn timing_marks(s: &Scenario) -> HashMap<&str, f32> {
    let mut marks: HashMap<&str, f32> = HashMap::new();
    // The graph is small; relax until stable (bounded by the puzzle count, so cycles end too).
    for _ in 0..=s.puzzles.len() {
        for p in &s.puzzles {
            let before = p
                .requires
                .iter()
                .filter_map(|r| marks.get(r.as_str()))
                .fold(0.0_f32, |a, b| a.max(*b));
            marks.insert(p.id.as_str(), before + p.expected_minutes);
        }
    }
    marks
}

fn competency_label(rubric: Option<&Rubric>, id: &str) -> String {
    rubric
        .and_then(|r| r.competencies.iter().find(|c| c.id.as_str() == id))
        .map_or_else(|| id.to_owned(), |c| c.label.clone())
}

fn item_text(p: &Puzzle, id: &str) -> String {
    let items: Vec<(&str, &str)> = match &p.kind {
        PuzzleKind::DocumentComparison { documents, .. } => documents
            .iter()
            .flat_map(|d| d.lines.iter().map(|l| (l.id.as_str(), l.text.fr.as_str())))
            .collect(),
        PuzzleKind::Matching { left, right, .. } => left
            .iter()
            .chain(right)
            .map(|i| (i.id.as_str(), i.text.fr.as_str()))
            .collect(),
        PuzzleKind::Ordering { items, .. } => items
            .iter()
            .map(|i| (i.id.as_str(), i.text.fr.as_str()))
            .collect(),
        _ => Vec::new(),
    };
    items
        .iter()
        .find(|(i, _)| *i == id)
        .map_or_else(|| id.to_owned(), |(_, t)| (*t).to_owned())
}

fn solution_fr(p: &Puzzle) -> String {
    match &p.solution {
        SolutionCheck::Exact { answer } => format!("`{answer}` (exactement)"),
        SolutionCheck::NormalisedText { answers } => {
            let a: Vec<String> = answers.iter().map(|a| format!("« {a} »")).collect();
            format!(
                "{} (majuscules, accents et ponctuation ignorés)",
                a.join(" ou ")
            )
        }
        SolutionCheck::Set { items } => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match i.split_once('=') {
                    Some((l, r)) => format!("{} → {}", item_text(p, l), item_text(p, r)),
                    None => item_text(p, i),
                })
                .collect();
            format!("dans n'importe quel ordre : {}", parts.join(" ; "))
        }
        SolutionCheck::Order { items } => {
            let parts: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(n, i)| format!("{}. {}", n + 1, item_text(p, i)))
                .collect();
            format!("dans cet ordre : {}", parts.join(" — "))
        }
        SolutionCheck::Numeric { value, tolerance } if *tolerance == 0.0 => format!("{value}"),
        SolutionCheck::Numeric { value, tolerance } => format!("{value} (à {tolerance} près)"),
    }
}

fn puzzle_section(
    o: &mut String,
    n: usize,
    p: &Puzzle,
    s: &Scenario,
    rubric: Option<&Rubric>,
    grid: Option<&ObservationGrid>,
    marks: &HashMap<&str, f32>,
) {
    let phase = s
        .phases
        .iter()
        .find(|ph| ph.id == p.phase)
        .map_or(p.phase.as_str(), |ph| ph.title.fr.as_str());
    let _ = writeln!(o, "\n### {n}. {} (`{}`)\n", p.title.fr, p.id);
    let stations: Vec<String> = p.stations.iter().map(|st| format!("`{st}`")).collect();
    let _ = writeln!(
        o,
        "*{}* · phase « {phase} » · postes {} · {} min prévues · repère : minute {:.0}\n",
        p.kind.label_fr(),
        stations.join(", "),
        p.expected_minutes,
        marks.get(p.id.as_str()).copied().unwrap_or(0.0)
    );
    match &p.kind {
        PuzzleKind::CodeEntry { prompt } => {
            let _ = writeln!(o, "Question : « {} »\n", prompt.fr);
        }
        PuzzleKind::DocumentComparison { prompt, documents } => {
            let _ = writeln!(o, "Question : « {} »\n", prompt.fr);
            for d in documents {
                let lines: Vec<&str> = d.lines.iter().map(|l| l.text.fr.as_str()).collect();
                let _ = writeln!(o, "- **{}** : {}", d.title.fr, lines.join(" / "));
            }
            o.push('\n');
        }
        PuzzleKind::Matching {
            prompt,
            left,
            right,
        } => {
            let l: Vec<&str> = left.iter().map(|i| i.text.fr.as_str()).collect();
            let r: Vec<&str> = right.iter().map(|i| i.text.fr.as_str()).collect();
            let _ = writeln!(
                o,
                "Question : « {} »\n\n- À gauche : {}\n- À droite : {}\n",
                prompt.fr,
                l.join(" / "),
                r.join(" / ")
            );
        }
        PuzzleKind::Ordering { prompt, items } => {
            let l: Vec<&str> = items.iter().map(|i| i.text.fr.as_str()).collect();
            let _ = writeln!(
                o,
                "Question : « {} »\n\nÉtapes montrées : {}\n",
                prompt.fr,
                l.join(" / ")
            );
        }
        PuzzleKind::MultiStation {
            prompt,
            parts,
            answer_station,
        } => {
            let _ = writeln!(o, "Question, sur `{answer_station}` : « {} »\n", prompt.fr);
            for part in parts {
                let _ = writeln!(o, "- sur `{}` : « {} »", part.station, part.text.fr);
            }
            o.push('\n');
        }
        PuzzleKind::HeadsetGuided {
            prompt,
            headset_station,
            headset_view,
            answer_station,
            scene,
        } => {
            let _ = writeln!(
                o,
                "Question, sur `{answer_station}` : « {} »\n\nDans le casque (`{headset_station}`{}) : « {} »\n",
                prompt.fr,
                scene
                    .as_ref()
                    .map(|s| format!(", scène `{s}`"))
                    .unwrap_or_default(),
                headset_view.fr
            );
        }
    }
    if !p.requires.is_empty() {
        let r: Vec<String> = p
            .requires
            .iter()
            .map(|r| match s.puzzles.iter().find(|q| q.id == *r) {
                Some(q) => format!("« {} »", q.title.fr),
                None => format!("`{r}`"),
            })
            .collect();
        let sentence = match r.split_last() {
            Some((only, [])) => format!("{only} est résolue"),
            Some((last, rest)) => format!("{} et {last} sont résolues", rest.join(", ")),
            None => String::new(),
        };
        let _ = writeln!(o, "Débloquée quand {sentence}.\n");
    }
    let _ = writeln!(o, "**Solution :** {}\n", solution_fr(p));
    let _ = writeln!(o, "**Indices**, du plus léger à la réponse :\n");
    for (i, h) in p.hints.iter().enumerate() {
        let cost = if h.cost_s > 0 {
            format!(" *(retire {} s)*", h.cost_s)
        } else {
            String::new()
        };
        let _ = writeln!(o, "{}. {}{cost}", i + 1, h.text.fr);
    }
    let comps: Vec<String> = p
        .competencies
        .iter()
        .map(|c| competency_label(rubric, c.as_str()))
        .collect();
    let _ = writeln!(
        o,
        "\n**Ce qu'elle permet d'observer :** {}\n",
        comps.join(", ")
    );
    for b in &p.observe.positive {
        let _ = writeln!(o, "- ➕ {b}");
    }
    for b in &p.observe.negative {
        let _ = writeln!(o, "- ➖ {b}");
    }
    if let Some(g) = grid
        && !p.observe.behaviours.is_empty()
    {
        let keys: Vec<String> = p
            .observe
            .behaviours
            .iter()
            .filter_map(|b| g.behaviours.iter().find(|gb| gb.id == *b))
            .map(|b| format!("{} [{}]", b.label, b.key.azerty_label()))
            .collect();
        let _ = writeln!(o, "\nÀ coder surtout : {}.", keys.join(", "));
    }
}

fn cue_list(o: &mut String, s: &Scenario) {
    let _ = writeln!(
        o,
        "\n## Conduite\n\nGO (Espace) lance le top en attente ; Échap arrête tout.\n\n| n° | top | type | cibles | déclenchement | attente avant / après | enchaînement | notes |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for c in &s.cues {
        let targets: Vec<String> = c
            .targets
            .iter()
            .map(|t| match t {
                Target::Role(r) => format!("tous les {}s", r.label_fr()),
                Target::Station(st) => format!("`{st}`"),
            })
            .collect();
        let trigger = match &c.trigger {
            Trigger::Go => "GO".to_owned(),
            Trigger::PhaseStart(p) => format!("début de `{p}`"),
            Trigger::PhaseComplete(p) => format!("toutes les énigmes de `{p}` résolues"),
            Trigger::PuzzleSolved(p) => format!("`{p}` résolue"),
            Trigger::TimeRemaining(secs) => {
                format!("{} min {:02} s restantes", secs / 60, secs % 60)
            }
        };
        let what = match &c.kind {
            CueKind::Text { text, .. } => format!("texte : « {} »", text.fr),
            CueKind::Timer { action } => match action {
                TimerAction::Start => "minuteur : départ".to_owned(),
                TimerAction::Pause => "minuteur : pause".to_owned(),
                TimerAction::Resume => "minuteur : reprise".to_owned(),
                TimerAction::Adjust { seconds } => format!("minuteur : {seconds:+} s"),
            },
            CueKind::SceneChange { phase } => format!("phase `{phase}`"),
            CueKind::HintDisplay { puzzle, level } => format!("indice {level} de `{puzzle}`"),
            CueKind::Group { cues } => {
                let c: Vec<String> = cues.iter().map(|c| format!("`{c}`")).collect();
                format!("groupe : {}", c.join(", "))
            }
            other => other.label_fr().to_owned(),
        };
        let follow = match c.continue_mode {
            crate::cue::ContinueMode::DoNotContinue => "attend GO",
            crate::cue::ContinueMode::AutoContinue => "enchaîne après l'attente",
            crate::cue::ContinueMode::AutoFollow => "enchaîne à la fin",
        };
        let _ = writeln!(
            o,
            "| {} | {} | {what} | {} | {trigger} | {} s / {} s | {follow} | {} |",
            c.number,
            c.name,
            if targets.is_empty() {
                "—".to_owned()
            } else {
                targets.join(", ")
            },
            c.pre_wait_s,
            c.post_wait_s,
            c.notes
        );
    }
}

fn keys_section(o: &mut String, g: &ObservationGrid) {
    let _ = writeln!(
        o,
        "\n## Codage des comportements : « {} »\n\nChoisir la personne (chiffres 1 à 9), puis la touche du comportement. Touche AZERTY, entre parenthèses la même touche sur un clavier QWERTY.\n\n| touche | comportement | type | catégorie |\n| --- | --- | --- | --- |",
        g.title
    );
    for b in &g.behaviours {
        let kind = match b.kind {
            crate::grid::EventKind::Point => "ponctuel",
            crate::grid::EventKind::State => "durée (début / fin)",
        };
        let _ = writeln!(
            o,
            "| {} ({}) | {} | {kind} | {} |",
            b.key.azerty_label(),
            b.key.qwerty_label(),
            b.label,
            b.category
        );
    }
    for m in &g.modifier_sets {
        let vals: Vec<String> = m
            .modifiers
            .iter()
            .map(|v| format!("{} = {}", v.key.azerty_label(), v.label))
            .collect();
        let _ = writeln!(
            o,
            "\nModificateur « {} », touche après le comportement : {}.",
            m.label,
            vals.join(", ")
        );
    }
}
