//! Semantic validation: every problem of a parsed content set at once, each with file, line,
//! column and the id at fault. The typed parse (see `load`) has already checked shapes.

use crate::catalogue::{Activity, ActivityKind, FieldValue, Format, Opening, RunBy};
use crate::cue::{CueKind, Target, Trigger};
use crate::grid::{ObservationGrid, PhysicalKey, reserved_use};
use crate::immersion::{Immersion, ImmersionSource, Light, SceneSpec, Shape, TaskKind};
use crate::load::{ContentSet, Loaded};
use crate::locate::At;
use crate::problem::{
    Code, MediaExpect, MediaUse, MissingAudio, PLACEHOLDER, Problem, Report, Severity,
};
use crate::puzzle::{PuzzleKind, SolutionCheck};
use crate::rubric::Rubric;
use crate::scenario::{EndingKind, Scenario};
use crate::text::{AssetPath, Text};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::RangeInclusive;
use std::path::Path;

/// Checks everything that the types alone cannot: references between ids (within a file and
/// across files), duplicate ids and keys, the unlock graph (cycles, unreachable puzzles, the
/// longest path against the duration), key clashes with each other and with the console's
/// reserved keys, positions inside scene bounds, competencies against the rubric, media under
/// `assets`, cue targets, and value ranges. Also lists texts without audio.
///
/// Never panics, whatever the content. Problems come sorted by file, line and column.
pub fn validate(set: &ContentSet, assets: &Path) -> Report {
    let mut v = Validator {
        set,
        assets,
        problems: Vec::new(),
        missing_audio: Vec::new(),
        media: Vec::new(),
    };
    v.top_level_ids();
    for r in &set.rubrics {
        v.rubric(r);
    }
    for g in &set.grids {
        v.grid(g);
    }
    for s in &set.scenes {
        v.scene(s);
    }
    for i in &set.immersions {
        v.immersion(i);
    }
    for s in &set.scenarios {
        v.scenario(s);
    }
    for a in &set.activities {
        v.activity(a);
    }
    let mut problems = v.problems;
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    problems.dedup();
    let mut missing_audio = v.missing_audio;
    missing_audio.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Report {
        problems,
        missing_audio,
        files: set.len(),
        media: v.media,
    }
}

struct Validator<'a> {
    set: &'a ContentSet,
    assets: &'a Path,
    problems: Vec<Problem>,
    missing_audio: Vec<MissingAudio>,
    media: Vec<MediaUse>,
}

impl<'a> Validator<'a> {
    fn err(&mut self, code: Code, file: &Path, at: At<'_>, id: &str, message: String) {
        let p = self
            .set
            .problem(Severity::Error, code, file, at, Some(id), message);
        self.problems.push(p);
    }

    fn warn(&mut self, code: Code, file: &Path, at: At<'_>, id: &str, message: String) {
        let p = self
            .set
            .problem(Severity::Warning, code, file, at, Some(id), message);
        self.problems.push(p);
    }

    /// Reports ids that appear twice (the second occurrence, with key `key`); returns the set.
    fn unique<'i>(
        &mut self,
        file: &Path,
        key: &str,
        what: &str,
        ids: impl IntoIterator<Item = &'i str>,
    ) -> HashSet<&'i str> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for id in ids {
            let n = seen.entry(id).or_insert(0);
            if *n > 0 {
                let at = At::Str {
                    key,
                    value: id,
                    nth: *n,
                };
                self.err(
                    Code::DuplicateId,
                    file,
                    at,
                    id,
                    format!("duplicate {what} {id:?}"),
                );
            }
            *n += 1;
        }
        seen.into_keys().collect()
    }

    fn media(&mut self, file: &Path, key: &str, path: &AssetPath, expect: MediaExpect) {
        let at = At::str(key, path.as_str());
        if let Some(why) = path.shape_problem() {
            self.err(
                Code::BadMediaPath,
                file,
                at,
                path.as_str(),
                format!("media path {path:?}: {why}"),
            );
        } else if !self.assets.join(path.as_str()).is_file() {
            let msg = format!(
                "media file {path:?} not found under {}",
                self.assets.display()
            );
            self.err(Code::MissingMedia, file, at, path.as_str(), msg);
        } else if !self
            .media
            .iter()
            .any(|m| m.path == path.as_str() && m.expect == expect)
        {
            let pos = self.set.position(file, at);
            self.media.push(MediaUse {
                path: path.as_str().to_owned(),
                expect,
                file: file.to_path_buf(),
                line: pos.line,
                column: pos.column,
            });
        }
    }

    fn texts<'t>(&mut self, file: &Path, texts: impl IntoIterator<Item = &'t Text>) {
        for t in texts {
            match &t.audio {
                Some(a) => self.media(file, "audio", a, MediaExpect::Voice { text: t.fr.clone() }),
                None => {
                    let pos = self.set.position(file, At::str("fr", &t.fr));
                    self.missing_audio.push(MissingAudio {
                        file: file.to_path_buf(),
                        line: pos.line,
                        column: pos.column,
                        fr: t.fr.clone(),
                    });
                }
            }
            if let Some(p) = &t.pictogram {
                self.media(file, "pictogram", p, MediaExpect::Pictogram);
            }
            if t.fr.trim_start().starts_with(PLACEHOLDER) {
                self.err(
                    Code::Unfinished,
                    file,
                    At::str("fr", &t.fr),
                    "fr",
                    format!("text to write: {:?}", t.fr),
                );
            }
            if t.fr.trim().is_empty() {
                self.err(
                    Code::WrongCount,
                    file,
                    At::str("fr", &t.fr),
                    "fr",
                    "empty French text".into(),
                );
            }
        }
    }

    fn range(
        &mut self,
        file: &Path,
        at: At<'_>,
        id: &str,
        what: &str,
        value: f32,
        allowed: RangeInclusive<f32>,
    ) {
        if !(value.is_finite() && allowed.contains(&value)) {
            let (lo, hi) = allowed.into_inner();
            let msg = format!("{id}: {what} is {value}, expected {lo} to {hi}");
            self.err(Code::OutOfRange, file, at, id, msg);
        }
    }

    fn nonempty(&mut self, file: &Path, at: At<'_>, id: &str, what: &str, len: usize) -> bool {
        if len == 0 {
            self.err(
                Code::WrongCount,
                file,
                at,
                id,
                format!("{id}: {what} is empty"),
            );
        }
        len > 0
    }

    fn top_level_ids(&mut self) {
        fn check<T>(
            v: &mut Validator<'_>,
            what: &str,
            docs: &[Loaded<T>],
            id: impl Fn(&T) -> &str,
        ) {
            let mut first: HashMap<&str, &Path> = HashMap::new();
            for d in docs {
                let this = id(&d.value);
                if let Some(other) = first.get(this) {
                    let msg = format!(
                        "duplicate {what} id {this:?} (first in {})",
                        other.display()
                    );
                    v.err(Code::DuplicateId, &d.file, At::str("id", this), this, msg);
                } else {
                    first.insert(this, &d.file);
                }
            }
        }
        let set = self.set;
        check(self, "scenario", &set.scenarios, |s| s.id.as_str());
        check(self, "immersion", &set.immersions, |s| s.id.as_str());
        check(self, "scene", &set.scenes, |s| s.id.as_str());
        check(self, "grid", &set.grids, |s| s.id.as_str());
        check(self, "rubric", &set.rubrics, |s| s.id.as_str());
        check(self, "activity", &set.activities, |s| s.id.as_str());
    }

    /// A catalogue activity: its scenario exists, its length, group size and rhythm are in
    /// range, its result fields are well formed, and who runs it fits what it is.
    fn activity(&mut self, doc: &Loaded<Activity>) {
        let (f, a) = (doc.file.as_path(), &doc.value);
        let aid = a.id.as_str();
        if a.title.trim().is_empty() {
            self.err(
                Code::WrongCount,
                f,
                At::Field("title"),
                aid,
                format!("activity {aid}: the title is empty"),
            );
        }
        if !(5..=480).contains(&a.usual_minutes) {
            let msg = format!(
                "activity {aid}: usual_minutes is {}, expected 5 to 480",
                a.usual_minutes
            );
            self.err(Code::OutOfRange, f, At::Field("usual_minutes"), aid, msg);
        }
        match &a.run_by {
            RunBy::Director { scenario } => {
                if !self.set.scenarios.iter().any(|s| s.value.id == *scenario) {
                    let msg = format!("activity {aid}: unknown scenario {:?}", scenario.as_str());
                    self.err(
                        Code::UnknownReference,
                        f,
                        At::str("scenario", scenario.as_str()),
                        scenario.as_str(),
                        msg,
                    );
                }
            }
            RunBy::Immersions | RunBy::Facilitator => {}
            RunBy::OtherTool { tool, fields } => {
                if tool.trim().is_empty() {
                    self.err(
                        Code::WrongCount,
                        f,
                        At::Field("tool"),
                        aid,
                        format!("activity {aid}: the tool's name is empty"),
                    );
                }
                self.nonempty(f, At::Field("fields"), aid, "result fields", fields.len());
                self.unique(
                    f,
                    "id",
                    "result field",
                    fields.iter().map(|x| x.id.as_str()),
                );
                for field in fields {
                    let fid = field.id.as_str();
                    if field.label.trim().is_empty() {
                        let at = At::FieldAfter {
                            key: "id",
                            value: fid,
                            then: "label",
                        };
                        self.err(
                            Code::WrongCount,
                            f,
                            at,
                            fid,
                            format!("activity {aid}: result field {fid} has an empty label"),
                        );
                    }
                    if let FieldValue::Score { min, max, .. } = field.value
                        && min >= max
                    {
                        let at = At::FieldAfter {
                            key: "id",
                            value: fid,
                            then: "min",
                        };
                        let msg = format!(
                            "activity {aid}: result field {fid} goes from {min} to {max}; min must be below max"
                        );
                        self.err(Code::OutOfRange, f, at, fid, msg);
                    }
                }
            }
        }
        let fits = matches!(
            (a.kind, &a.run_by),
            (ActivityKind::EscapeGame, RunBy::Director { .. })
                | (ActivityKind::ImmersionSession, RunBy::Immersions)
                | (
                    ActivityKind::Workshop,
                    RunBy::Director { .. } | RunBy::Facilitator
                )
                | (
                    ActivityKind::Evaluation,
                    RunBy::OtherTool { .. } | RunBy::Facilitator
                )
        );
        if !fits {
            let msg = format!(
                "activity {aid}: kind {:?} cannot be run by {}",
                a.kind,
                match a.run_by {
                    RunBy::Director { .. } => "the director",
                    RunBy::Immersions => "the director's immersion session",
                    RunBy::Facilitator => "the facilitator alone",
                    RunBy::OtherTool { .. } => "another tool",
                }
            );
            self.err(Code::ActivityMismatch, f, At::Field("run_by"), aid, msg);
        }
        if let Format::Collective {
            min_people,
            max_people,
        } = a.format
            && !(2 <= min_people && min_people <= max_people && max_people <= 20)
        {
            let msg = format!(
                "activity {aid}: a group of {min_people} to {max_people}, expected 2 ≤ min ≤ max ≤ 20"
            );
            self.err(Code::OutOfRange, f, At::Field("min_people"), aid, msg);
        }
        match a.opening {
            Opening::Recurring { weeks } => {
                if !(1..=8).contains(&weeks) {
                    let msg =
                        format!("activity {aid}: recurs every {weeks} weeks, expected 1 to 8");
                    self.err(Code::OutOfRange, f, At::Field("weeks"), aid, msg);
                }
                if a.format == Format::Individual {
                    let msg = format!(
                        "activity {aid}: an individual activity cannot recur as a group session"
                    );
                    self.err(Code::ActivityMismatch, f, At::Field("opening"), aid, msg);
                }
            }
            Opening::WhenWaiting { people } => {
                let most = a.format.capacity();
                if !(2..=20).contains(&people) || people > most {
                    let msg = format!(
                        "activity {aid}: opens when {people} people wait, expected 2 to 20 and at most the group's {most}"
                    );
                    self.err(Code::OutOfRange, f, At::Field("people"), aid, msg);
                }
            }
            Opening::OnDemand => {}
        }
    }

    fn rubric_by_id(&self, id: &str) -> Option<&'a Rubric> {
        self.set
            .rubrics
            .iter()
            .map(|r| &r.value)
            .find(|r| r.id.as_str() == id)
    }

    fn grid_by_id(&self, id: &str) -> Option<&'a ObservationGrid> {
        self.set
            .grids
            .iter()
            .map(|g| &g.value)
            .find(|g| g.id.as_str() == id)
    }

    fn scene_by_id(&self, id: &str) -> Option<&'a SceneSpec> {
        self.set
            .scenes
            .iter()
            .map(|s| &s.value)
            .find(|s| s.id.as_str() == id)
    }

    fn rubric(&mut self, doc: &Loaded<Rubric>) {
        let (f, r) = (doc.file.as_path(), &doc.value);
        let rid = r.id.as_str();
        let levels = r.levels.len();
        self.nonempty(f, At::Field("levels"), rid, "levels", levels);
        self.nonempty(
            f,
            At::Field("competencies"),
            rid,
            "competencies",
            r.competencies.len(),
        );
        let ids = self.unique(
            f,
            "id",
            "competency",
            r.competencies.iter().map(|c| c.id.as_str()),
        );
        for c in &r.competencies {
            if c.anchors.len() != levels {
                let at = At::FieldAfter {
                    key: "id",
                    value: c.id.as_str(),
                    then: "anchors",
                };
                let msg = format!(
                    "competency {}: {} anchors for {levels} levels",
                    c.id,
                    c.anchors.len()
                );
                self.err(Code::WrongCount, f, at, c.id.as_str(), msg);
            }
        }
        let s = &r.scoring;
        if s.thresholds.len() + 1 != levels {
            let msg = format!(
                "rubric {rid}: {} thresholds for {levels} levels (expected {})",
                s.thresholds.len(),
                levels.saturating_sub(1)
            );
            self.err(Code::WrongCount, f, At::Field("thresholds"), rid, msg);
        }
        if s.thresholds.windows(2).any(|w| w[0] >= w[1])
            || s.thresholds.iter().any(|t| !t.is_finite())
        {
            let msg = format!("rubric {rid}: thresholds must be finite and strictly increasing");
            self.err(Code::OutOfRange, f, At::Field("thresholds"), rid, msg);
        }
        if !(0.0..1.0).contains(&s.max_game_event_share) {
            let msg = format!(
                "rubric {rid}: max_game_event_share is {}, expected at least 0 and below 1 (game events never decide alone)",
                s.max_game_event_share
            );
            self.err(
                Code::OutOfRange,
                f,
                At::Field("max_game_event_share"),
                rid,
                msg,
            );
        }
        self.range(
            f,
            At::Field("minutes_observed"),
            rid,
            "minimum minutes observed",
            s.minimum_evidence.minutes_observed,
            0.0..=600.0,
        );
        for g in &s.game_events {
            let cid = g.competency.as_str();
            if !ids.contains(cid) {
                let at = At::Str {
                    key: "competency",
                    value: cid,
                    nth: 0,
                };
                self.err(
                    Code::UnknownCompetency,
                    f,
                    at,
                    cid,
                    format!(
                        "game event {:?} counts for unknown competency {cid:?}",
                        g.event
                    ),
                );
            }
            if !(g.weight.is_finite() && g.weight > 0.0) {
                let at = At::Str {
                    key: "competency",
                    value: cid,
                    nth: 0,
                };
                self.err(
                    Code::OutOfRange,
                    f,
                    at,
                    cid,
                    format!(
                        "game event {:?} for {cid}: weight {} must be > 0",
                        g.event, g.weight
                    ),
                );
            }
        }
    }

    fn grid(&mut self, doc: &Loaded<ObservationGrid>) {
        let (f, g) = (doc.file.as_path(), &doc.value);
        let gid = g.id.as_str();
        let rubric = self.rubric_by_id(g.rubric.as_str());
        if rubric.is_none() {
            let msg = format!("grid {gid}: unknown rubric {:?}", g.rubric.as_str());
            self.err(
                Code::UnknownReference,
                f,
                At::str("rubric", g.rubric.as_str()),
                g.rubric.as_str(),
                msg,
            );
        }
        self.nonempty(
            f,
            At::Field("behaviours"),
            gid,
            "behaviours",
            g.behaviours.len(),
        );
        self.unique(
            f,
            "id",
            "behaviour",
            g.behaviours.iter().map(|b| b.id.as_str()),
        );
        let sets = self.unique(
            f,
            "id",
            "modifier set",
            g.modifier_sets.iter().map(|m| m.id.as_str()),
        );
        // Behaviour keys and modifier keys share one namespace: a modifier is the key pressed
        // right after a behaviour key, so the console could not tell them apart.
        let mut keys: BTreeMap<PhysicalKey, String> = BTreeMap::new();
        let mut bind = |v: &mut Self, key: PhysicalKey, owner: &str| {
            let at = At::FieldAfter {
                key: "id",
                value: owner,
                then: "key",
            };
            if let Some(what) = reserved_use(key) {
                v.err(
                    Code::ReservedKey,
                    f,
                    at,
                    owner,
                    format!("{owner}: key {key} is reserved by the console ({what})"),
                );
            } else if let Some(first) = keys.get(&key) {
                v.err(
                    Code::KeyClash,
                    f,
                    at,
                    owner,
                    format!("{owner}: key {key} is already bound to {first}"),
                );
            } else {
                keys.insert(key, owner.to_owned());
            }
        };
        for b in &g.behaviours {
            bind(self, b.key, b.id.as_str());
        }
        for set in &g.modifier_sets {
            self.unique(
                f,
                "id",
                "modifier",
                set.modifiers.iter().map(|m| m.id.as_str()),
            );
            self.nonempty(
                f,
                At::str("id", set.id.as_str()),
                set.id.as_str(),
                "modifiers",
                set.modifiers.len(),
            );
            for m in &set.modifiers {
                bind(self, m.key, m.id.as_str());
            }
        }
        for b in &g.behaviours {
            let bid = b.id.as_str();
            if let Some(m) = &b.modifiers
                && !sets.contains(m.as_str())
            {
                self.err(
                    Code::UnknownReference,
                    f,
                    At::str("modifiers", m.as_str()),
                    m.as_str(),
                    format!("behaviour {bid}: unknown modifier set {:?}", m.as_str()),
                );
            }
            self.nonempty(
                f,
                At::str("id", bid),
                bid,
                "competencies",
                b.competencies.len(),
            );
            for link in &b.competencies {
                let cid = link.competency.as_str();
                if let Some(r) = rubric
                    && !r.competencies.iter().any(|c| c.id == link.competency)
                {
                    let msg = format!(
                        "behaviour {bid}: competency {cid:?} is not in rubric {}",
                        r.id
                    );
                    self.err(
                        Code::UnknownCompetency,
                        f,
                        At::str("competency", cid),
                        cid,
                        msg,
                    );
                }
                if !(link.weight.is_finite() && link.weight > 0.0) {
                    let at = At::FieldAfter {
                        key: "id",
                        value: bid,
                        then: "weight",
                    };
                    self.err(
                        Code::OutOfRange,
                        f,
                        at,
                        bid,
                        format!("behaviour {bid}: weight {} must be > 0", link.weight),
                    );
                }
            }
        }
    }

    fn scene(&mut self, doc: &Loaded<SceneSpec>) {
        let (f, s) = (doc.file.as_path(), &doc.value);
        let sid = s.id.as_str();
        let b = s.bounds;
        if !(b.min.0 < b.max.0 && b.min.1 < b.max.1 && b.min.2 < b.max.2) {
            self.err(
                Code::OutOfRange,
                f,
                At::Field("bounds"),
                sid,
                format!("scene {sid}: bounds min must be below max on every axis"),
            );
        }
        let materials = self.unique(
            f,
            "id",
            "material",
            s.materials.iter().map(|m| m.id.as_str()),
        );
        self.unique(f, "id", "anchor", s.anchors.iter().map(|a| a.id.as_str()));
        for m in &s.materials {
            let mid = m.id.as_str();
            let at = At::FieldAfter {
                key: "id",
                value: mid,
                then: "base_color",
            };
            let (r, g, bl, a) = m.base_color;
            for c in [r, g, bl, a] {
                self.range(f, at, mid, "base colour component", c, 0.0..=1.0);
            }
            self.range(f, at, mid, "roughness", m.roughness, 0.0..=1.0);
            self.range(f, at, mid, "metallic", m.metallic, 0.0..=1.0);
        }
        for (n, p) in s.primitives.iter().enumerate() {
            let mid = p.material.as_str();
            let at = At::Str {
                key: "material",
                value: mid,
                nth: 0,
            };
            let label = format!("primitive #{}", n + 1);
            if !materials.contains(mid) {
                self.err(
                    Code::UnknownReference,
                    f,
                    at,
                    mid,
                    format!("scene {sid}: {label} uses unknown material {mid:?}"),
                );
            }
            if !b.contains(p.position) {
                self.err(
                    Code::OutsideScene,
                    f,
                    at,
                    mid,
                    format!(
                        "scene {sid}: {label} at {:?} is outside the bounds",
                        p.position
                    ),
                );
            }
            let sizes: Vec<f32> = match p.shape {
                Shape::Cuboid { size } => vec![size.0, size.1, size.2],
                Shape::Sphere { radius } => vec![radius],
                Shape::Cylinder { radius, height } => vec![radius, height],
                Shape::Plane { size } => vec![size.0, size.1],
            };
            if sizes.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                self.err(
                    Code::OutOfRange,
                    f,
                    at,
                    mid,
                    format!("scene {sid}: {label} has a size that is not > 0"),
                );
            }
        }
        self.nonempty(f, At::Field("lights"), sid, "lights", s.lights.len());
        for l in &s.lights {
            if let Light::Point { position, .. } = l
                && !b.contains(*position)
            {
                self.err(
                    Code::OutsideScene,
                    f,
                    At::Field("lights"),
                    sid,
                    format!("scene {sid}: a point light at {position:?} is outside the bounds"),
                );
            }
        }
        if !b.contains(s.spawn.position) {
            self.err(
                Code::OutsideScene,
                f,
                At::Field("spawn"),
                sid,
                format!(
                    "scene {sid}: spawn point {:?} is outside the bounds",
                    s.spawn.position
                ),
            );
        }
        if s.labels.len() > SceneSpec::MAX_LABELS {
            self.err(
                Code::WrongCount,
                f,
                At::Field("labels"),
                sid,
                format!(
                    "scene {sid}: {} labels, at most {} can be drawn",
                    s.labels.len(),
                    SceneSpec::MAX_LABELS
                ),
            );
        }
        for l in &s.labels {
            let at = At::Str {
                key: "text",
                value: &l.text,
                nth: 0,
            };
            let chars = l.text.trim().chars().count();
            if chars == 0 || chars > SceneSpec::MAX_LABEL_CHARS || l.text.contains('\n') {
                self.err(
                    Code::OutOfRange,
                    f,
                    at,
                    sid,
                    format!(
                        "scene {sid}: label {:?} must be one line of 1 to {} characters",
                        l.text,
                        SceneSpec::MAX_LABEL_CHARS
                    ),
                );
            }
            if !b.contains(l.position) {
                self.err(
                    Code::OutsideScene,
                    f,
                    at,
                    sid,
                    format!(
                        "scene {sid}: label {:?} at {:?} is outside the bounds",
                        l.text, l.position
                    ),
                );
            }
        }
        for a in &s.anchors {
            let aid = a.id.as_str();
            if !b.contains(a.position) {
                let at = At::FieldAfter {
                    key: "id",
                    value: aid,
                    then: "position",
                };
                let msg = format!(
                    "scene {sid}: anchor {aid} at {:?} is outside the bounds {:?}..{:?}",
                    a.position, b.min, b.max
                );
                self.err(Code::OutsideScene, f, at, aid, msg);
            }
        }
        if let Some(a) = &s.ambience {
            self.media(f, "ambience", a, MediaExpect::Sound);
        }
    }

    fn immersion(&mut self, doc: &Loaded<Immersion>) {
        let (f, im) = (doc.file.as_path(), &doc.value);
        let iid = im.id.as_str();
        self.texts(f, im.texts());
        if im.sector.trim_start().starts_with(PLACEHOLDER) {
            self.err(
                Code::Unfinished,
                f,
                At::Field("sector"),
                iid,
                format!("immersion {iid}: the sector is still to write"),
            );
        }
        // The tutorial shows no trade, so it alone may have no ROME code.
        if im.tutorial
            || self.nonempty(
                f,
                At::Field("rome_codes"),
                iid,
                "ROME codes",
                im.rome_codes.len(),
            )
        {
            for code in &im.rome_codes {
                let b = code.as_bytes();
                let ok = b.len() == 5
                    && (b'A'..=b'N').contains(&b[0])
                    && b[1..].iter().all(u8::is_ascii_digit);
                if !ok {
                    self.err(Code::BadRomeCode, f, At::str("rome_codes", code), code, format!("immersion {iid}: {code:?} is not a ROME code (a letter A–N and four digits, e.g. N1101)"));
                }
            }
        }
        let anchors: HashSet<&str> = match &im.source {
            ImmersionSource::Scene { scene } => match self.scene_by_id(scene.as_str()) {
                Some(s) => s.anchors.iter().map(|a| a.id.as_str()).collect(),
                None => {
                    self.err(
                        Code::UnknownReference,
                        f,
                        At::str("scene", scene.as_str()),
                        scene.as_str(),
                        format!("immersion {iid}: unknown scene {:?}", scene.as_str()),
                    );
                    HashSet::new()
                }
            },
            ImmersionSource::Video360 {
                file,
                anchors,
                stereo,
            } => {
                self.media(f, "file", file, MediaExpect::Film360 { stereo: *stereo });
                for a in anchors {
                    let at = At::str("id", a.id.as_str());
                    self.range(
                        f,
                        at,
                        a.id.as_str(),
                        "yaw (degrees)",
                        a.yaw_deg,
                        -180.0..=180.0,
                    );
                    self.range(
                        f,
                        at,
                        a.id.as_str(),
                        "pitch (degrees)",
                        a.pitch_deg,
                        -90.0..=90.0,
                    );
                }
                self.unique(f, "id", "anchor", anchors.iter().map(|a| a.id.as_str()))
            }
        };
        let known_scene = !matches!(&im.source, ImmersionSource::Scene { scene } if self.scene_by_id(scene.as_str()).is_none());
        let hotspots = self.unique(
            f,
            "id",
            "hotspot",
            im.hotspots.iter().map(|h| h.id.as_str()),
        );
        self.nonempty(f, At::Field("hotspots"), iid, "hotspots", im.hotspots.len());
        for h in &im.hotspots {
            let aid = h.anchor.as_str();
            if known_scene && !anchors.contains(aid) {
                self.err(
                    Code::UnknownReference,
                    f,
                    At::str("anchor", aid),
                    aid,
                    format!("hotspot {}: unknown anchor {aid:?}", h.id),
                );
            }
        }
        self.unique(f, "id", "task", im.tasks.iter().map(|t| t.id.as_str()));
        for t in &im.tasks {
            let tid = t.id.as_str();
            match &t.kind {
                TaskKind::Choose { options, correct } => {
                    let ids = self.unique(f, "id", "option", options.iter().map(|o| o.id.as_str()));
                    self.nonempty(f, At::str("id", tid), tid, "correct options", correct.len());
                    for c in correct {
                        if !ids.contains(c.as_str()) {
                            self.err(
                                Code::InvalidSolution,
                                f,
                                At::str("correct", c.as_str()),
                                c.as_str(),
                                format!(
                                    "task {tid}: correct option {:?} is not an option",
                                    c.as_str()
                                ),
                            );
                        }
                    }
                }
                TaskKind::SpotHazards { hazards } => {
                    self.nonempty(f, At::str("id", tid), tid, "hazards", hazards.len());
                    for h in hazards {
                        if !hotspots.contains(h.as_str()) {
                            self.err(
                                Code::UnknownReference,
                                f,
                                At::str("hazards", h.as_str()),
                                h.as_str(),
                                format!("task {tid}: unknown hotspot {:?}", h.as_str()),
                            );
                        }
                    }
                }
                TaskKind::Order { steps, order } => {
                    let ids = self.unique(f, "id", "step", steps.iter().map(|o| o.id.as_str()));
                    let given: Vec<&str> = order.iter().map(|o| o.as_str()).collect();
                    self.permutation(f, "order", tid, &ids, &given);
                }
            }
        }
        let stimuli = self.unique(
            f,
            "id",
            "stimulus",
            im.stimuli.iter().map(|s| s.id.as_str()),
        );
        for s in &im.stimuli {
            let sid = s.id.as_str();
            let at = At::str("id", sid);
            self.range(f, at, sid, "intensity", s.intensity, 0.0..=1.0);
            self.range(f, at, sid, "start (s)", s.at_s, 0.0..=3600.0);
            self.range(f, at, sid, "duration (s)", s.duration_s, 0.0..=3600.0);
            if let Some(snd) = &s.sound {
                self.media(f, "sound", snd, MediaExpect::Sound);
            }
        }
        let q = &im.questionnaire;
        if q.scale.len() != 5 {
            self.err(Code::WrongCount, f, At::Field("scale"), iid, format!("immersion {iid}: the answer scale has {} steps, expected 5 (appeal and stress are rated 1 to 5)", q.scale.len()));
        }
        self.unique(f, "id", "question", q.stress.iter().map(|s| s.id.as_str()));
        let mut asked = HashSet::new();
        for sq in &q.stress {
            let sid = sq.stimulus.as_str();
            asked.insert(sid);
            if !stimuli.contains(sid) {
                self.err(
                    Code::UnknownReference,
                    f,
                    At::str("stimulus", sid),
                    sid,
                    format!("stress question {}: unknown stimulus {sid:?}", sq.id),
                );
            }
        }
        for s in &im.stimuli {
            if !asked.contains(s.id.as_str()) {
                self.err(
                    Code::WrongCount,
                    f,
                    At::str("id", s.id.as_str()),
                    s.id.as_str(),
                    format!(
                        "immersion {iid}: no stress question about stimulus {}",
                        s.id
                    ),
                );
            }
        }
        self.range(
            f,
            At::Field("max_minutes"),
            iid,
            "max_minutes",
            im.comfort.max_minutes,
            1.0..=60.0,
        );
    }

    /// Checks that `given` names every id of `ids` exactly once.
    fn permutation(
        &mut self,
        f: &Path,
        key: &str,
        owner: &str,
        ids: &HashSet<&str>,
        given: &[&str],
    ) {
        let mut seen = HashSet::new();
        for g in given {
            if !ids.contains(g) {
                self.err(
                    Code::InvalidSolution,
                    f,
                    At::str(key, g),
                    g,
                    format!("{owner}: {g:?} is not one of its items"),
                );
            } else if !seen.insert(*g) {
                self.err(
                    Code::InvalidSolution,
                    f,
                    At::Str {
                        key,
                        value: g,
                        nth: 1,
                    },
                    g,
                    format!("{owner}: {g:?} appears twice in the order"),
                );
            }
        }
        let mut missing: Vec<&&str> = ids.iter().filter(|i| !seen.contains(**i)).collect();
        missing.sort();
        if !missing.is_empty() {
            let at = given.first().map_or(At::Field(key), |g| At::str(key, g));
            self.err(
                Code::InvalidSolution,
                f,
                at,
                owner,
                format!("{owner}: the order leaves out {missing:?}"),
            );
        }
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one pass over a scenario reads best in one place"
    )]
    fn scenario(&mut self, doc: &Loaded<Scenario>) {
        let (f, s) = (doc.file.as_path(), &doc.value);
        let sid = s.id.as_str();
        if sid == crate::scenario::IMMERSION_SESSION {
            self.err(
                Code::DuplicateId,
                f,
                At::str("id", sid),
                sid,
                format!(
                    "scenario {sid}: this id is the built-in immersion session's; choose another"
                ),
            );
        }
        self.texts(f, s.texts());
        let rubric = self.rubric_by_id(s.rubric.as_str());
        let grid = self.grid_by_id(s.observation_grid.as_str());
        if rubric.is_none() {
            self.err(
                Code::UnknownReference,
                f,
                At::str("rubric", s.rubric.as_str()),
                s.rubric.as_str(),
                format!("scenario {sid}: unknown rubric {:?}", s.rubric.as_str()),
            );
        }
        match grid {
            None => self.err(
                Code::UnknownReference,
                f,
                At::str("observation_grid", s.observation_grid.as_str()),
                s.observation_grid.as_str(),
                format!(
                    "scenario {sid}: unknown observation grid {:?}",
                    s.observation_grid.as_str()
                ),
            ),
            Some(g) if rubric.is_some() && g.rubric != s.rubric => {
                let msg = format!(
                    "scenario {sid}: grid {} is built for rubric {}, the scenario uses {}",
                    g.id, g.rubric, s.rubric
                );
                self.err(
                    Code::RubricMismatch,
                    f,
                    At::str("observation_grid", g.id.as_str()),
                    g.id.as_str(),
                    msg,
                );
            }
            Some(_) => {}
        }
        let t = s.team;
        if !(1 <= t.min && t.min <= t.nominal && t.nominal <= t.max) {
            self.err(
                Code::OutOfRange,
                f,
                At::Field("team"),
                sid,
                format!(
                    "scenario {sid}: team size needs 1 ≤ min ≤ nominal ≤ max (got {}, {}, {})",
                    t.min, t.nominal, t.max
                ),
            );
        }
        if s.duration_minutes == 0 || s.duration_minutes > 240 {
            self.err(
                Code::OutOfRange,
                f,
                At::Field("duration_minutes"),
                sid,
                format!(
                    "scenario {sid}: duration {} min, expected 1 to 240",
                    s.duration_minutes
                ),
            );
        }
        self.nonempty(f, At::Field("briefing"), sid, "briefing", s.briefing.len());
        self.nonempty(f, At::Field("phases"), sid, "phases", s.phases.len());
        self.nonempty(f, At::Field("puzzles"), sid, "puzzles", s.puzzles.len());
        self.nonempty(
            f,
            At::Field("setup_checklist"),
            sid,
            "set-up checklist",
            s.setup_checklist.len(),
        );
        self.nonempty(
            f,
            At::Field("reset_checklist"),
            sid,
            "reset checklist",
            s.reset_checklist.len(),
        );
        self.nonempty(
            f,
            At::Field("debrief_questions"),
            sid,
            "debrief questions",
            s.debrief_questions.len(),
        );

        let phase_index: HashMap<&str, usize> = s
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        self.unique(f, "id", "phase", s.phases.iter().map(|p| p.id.as_str()));
        let stations = self.unique(
            f,
            "id",
            "station",
            s.stations.iter().map(|st| st.id.as_str()),
        );
        let puzzles = self.unique(f, "id", "puzzle", s.puzzles.iter().map(|p| p.id.as_str()));
        let cues = self.unique(f, "id", "cue", s.cues.iter().map(|c| c.id.as_str()));
        self.unique(
            f,
            "number",
            "cue number",
            s.cues.iter().map(|c| c.number.as_str()),
        );
        self.unique(f, "id", "ending", s.endings.iter().map(|e| e.id.as_str()));
        let role_of: HashMap<&str, _> = s
            .stations
            .iter()
            .map(|st| (st.id.as_str(), st.role))
            .collect();
        let competency_known =
            |id: &str| rubric.is_none_or(|r| r.competencies.iter().any(|c| c.id.as_str() == id));

        let station_ref = |v: &mut Self, key: &str, id: &str, owner: &str| {
            if !stations.contains(id) {
                v.err(
                    Code::UnknownReference,
                    f,
                    At::str(key, id),
                    id,
                    format!("{owner}: unknown station {id:?}"),
                );
            }
        };
        for p in &s.puzzles {
            let pid = p.id.as_str();
            let owner = format!("puzzle {pid}");
            if !phase_index.contains_key(p.phase.as_str()) {
                self.err(
                    Code::UnknownReference,
                    f,
                    At::str("phase", p.phase.as_str()),
                    p.phase.as_str(),
                    format!("{owner}: unknown phase {:?}", p.phase.as_str()),
                );
            }
            self.nonempty(f, At::str("id", pid), pid, "stations", p.stations.len());
            for st in &p.stations {
                station_ref(self, "stations", st.as_str(), &owner);
            }
            for r in &p.requires {
                if !puzzles.contains(r.as_str()) {
                    self.err(
                        Code::UnknownReference,
                        f,
                        At::str("requires", r.as_str()),
                        r.as_str(),
                        format!("{owner}: requires unknown puzzle {:?}", r.as_str()),
                    );
                }
            }
            if !(p.expected_minutes.is_finite() && p.expected_minutes > 0.0) {
                let at = At::FieldAfter {
                    key: "id",
                    value: pid,
                    then: "expected_minutes",
                };
                self.err(
                    Code::OutOfRange,
                    f,
                    at,
                    pid,
                    format!("{owner}: expected_minutes must be > 0"),
                );
            }
            if self.nonempty(f, At::str("id", pid), pid, "hint ladder", p.hints.len())
                && p.hints.len() < 3
            {
                let at = At::FieldAfter {
                    key: "id",
                    value: pid,
                    then: "hints",
                };
                self.warn(
                    Code::WrongCount,
                    f,
                    at,
                    pid,
                    format!(
                        "{owner}: {} hints; a ladder has three rungs, from a nudge to the answer",
                        p.hints.len()
                    ),
                );
            }
            self.nonempty(
                f,
                At::str("id", pid),
                pid,
                "competencies",
                p.competencies.len(),
            );
            for c in &p.competencies {
                if !competency_known(c.as_str()) {
                    self.err(
                        Code::UnknownCompetency,
                        f,
                        At::str("competencies", c.as_str()),
                        c.as_str(),
                        format!(
                            "{owner}: competency {:?} is not in rubric {}",
                            c.as_str(),
                            s.rubric
                        ),
                    );
                }
            }
            if p.observe.positive.is_empty() && p.observe.negative.is_empty() {
                self.err(
                    Code::WrongCount,
                    f,
                    At::str("id", pid),
                    pid,
                    format!("{owner}: nothing to observe (give positive and negative behaviours)"),
                );
            }
            if let Some(g) = grid {
                for b in &p.observe.behaviours {
                    if !g.behaviours.iter().any(|gb| gb.id == *b) {
                        self.err(
                            Code::UnknownReference,
                            f,
                            At::str("behaviours", b.as_str()),
                            b.as_str(),
                            format!(
                                "{owner}: behaviour {:?} is not in grid {}",
                                b.as_str(),
                                g.id
                            ),
                        );
                    }
                }
            }
            match &p.kind {
                PuzzleKind::MultiStation {
                    parts,
                    answer_station,
                    ..
                } => {
                    if parts.len() < 2 {
                        self.err(Code::WrongCount, f, At::str("id", pid), pid, format!("{owner}: a multi-station puzzle needs parts on at least two stations"));
                    }
                    for part in parts {
                        station_ref(self, "station", part.station.as_str(), &owner);
                    }
                    station_ref(self, "answer_station", answer_station.as_str(), &owner);
                }
                PuzzleKind::HeadsetGuided {
                    headset_station,
                    answer_station,
                    scene,
                    ..
                } => {
                    station_ref(self, "headset_station", headset_station.as_str(), &owner);
                    station_ref(self, "answer_station", answer_station.as_str(), &owner);
                    match scene {
                        None => self.err(
                            Code::MissingField,
                            f,
                            At::str("id", pid),
                            pid,
                            format!(
                                "{owner}: a headset-guided puzzle needs a scene: the headset \
                                 shows its view in it (scene: \"…\", under content/scenes/)"
                            ),
                        ),
                        Some(scene) if self.scene_by_id(scene.as_str()).is_none() => self.err(
                            Code::UnknownReference,
                            f,
                            At::str("scene", scene.as_str()),
                            scene.as_str(),
                            format!("{owner}: unknown scene {scene}"),
                        ),
                        Some(_) => {}
                    }
                    if let Some(role) = role_of.get(headset_station.as_str())
                        && *role != crate::cue::DeviceRole::Headset
                    {
                        self.err(
                            Code::UnknownReference,
                            f,
                            At::str("headset_station", headset_station.as_str()),
                            headset_station.as_str(),
                            format!(
                                "{owner}: station {headset_station} is a {}, not a headset",
                                role.label_fr()
                            ),
                        );
                    }
                }
                _ => {}
            }
            self.solution(f, &owner, pid, &p.kind, &p.solution);
        }
        self.unlock_graph(f, s, &phase_index);

        for c in &s.cues {
            let cid = c.id.as_str();
            let owner = format!("cue {} ({cid})", c.number);
            if c.kind.needs_target() && c.targets.is_empty() {
                self.err(
                    Code::CueWithoutTarget,
                    f,
                    At::str("id", cid),
                    cid,
                    format!(
                        "{owner}: a {} cue needs at least one target",
                        c.kind.label_fr()
                    ),
                );
            }
            for target in &c.targets {
                // Each target must be a device that plays this kind of cue.
                let role = match target {
                    Target::Role(r) => Some(*r),
                    Target::Station(st) => role_of.get(st.as_str()).copied(),
                };
                if let Some(role) = role
                    && !c.kind.played_by(role)
                {
                    self.err(
                        Code::CueWithoutTarget,
                        f,
                        At::FieldAfter {
                            key: "id",
                            value: cid,
                            then: "targets",
                        },
                        cid,
                        format!(
                            "{owner}: a {} cannot play a {} cue; aim it at {}",
                            role.label_fr(),
                            c.kind.label_fr(),
                            c.kind.players()
                        ),
                    );
                }
                match target {
                    Target::Station(st) => station_ref(self, "targets", st.as_str(), &owner),
                    Target::Role(role) => {
                        if !s.stations.iter().any(|st| st.role == *role) {
                            self.err(
                                Code::CueWithoutTarget,
                                f,
                                At::FieldAfter {
                                    key: "id",
                                    value: cid,
                                    then: "targets",
                                },
                                cid,
                                format!(
                                    "{owner}: targets role {role:?} but no station has that role"
                                ),
                            );
                        }
                    }
                }
            }
            for (what, v) in [
                ("pre_wait_s", c.pre_wait_s),
                ("post_wait_s", c.post_wait_s),
                ("fade_in_s", c.fade_in_s),
                ("fade_out_s", c.fade_out_s),
            ] {
                self.range(
                    f,
                    At::FieldAfter {
                        key: "id",
                        value: cid,
                        then: what,
                    },
                    cid,
                    what,
                    v,
                    0.0..=3600.0,
                );
            }
            // A video placed at an anchor in a headset: one of the scenes a headset of this
            // game shows (its headset-guided puzzles') has it.
            if let CueKind::Video {
                headset: crate::cue::HeadsetScreen::Anchor(anchor),
                ..
            } = &c.kind
            {
                let known = s.puzzles.iter().any(|p| match &p.kind {
                    PuzzleKind::HeadsetGuided {
                        scene: Some(scene), ..
                    } => self
                        .scene_by_id(scene.as_str())
                        .is_some_and(|sc| sc.anchors.iter().any(|a| a.id == *anchor)),
                    _ => false,
                });
                if !known {
                    self.err(
                        Code::UnknownReference,
                        f,
                        At::FieldAfter {
                            key: "id",
                            value: cid,
                            then: "headset",
                        },
                        anchor.as_str(),
                        format!(
                            "{owner}: anchor {anchor} is in no scene of this scenario's \
                             headset-guided puzzles"
                        ),
                    );
                }
            }
            match &c.kind {
                CueKind::Video { file, .. } => self.media(f, "file", file, MediaExpect::Video),
                CueKind::Sound { file, .. } => self.media(f, "file", file, MediaExpect::Sound),
                CueKind::SceneChange { phase } if !phase_index.contains_key(phase.as_str()) => {
                    self.err(
                        Code::UnknownReference,
                        f,
                        At::str("phase", phase.as_str()),
                        phase.as_str(),
                        format!("{owner}: unknown phase {:?}", phase.as_str()),
                    );
                }
                CueKind::HintDisplay { puzzle, level } => {
                    match s.puzzles.iter().find(|p| p.id == *puzzle) {
                        None => self.err(
                            Code::UnknownReference,
                            f,
                            At::str("puzzle", puzzle.as_str()),
                            puzzle.as_str(),
                            format!("{owner}: unknown puzzle {:?}", puzzle.as_str()),
                        ),
                        Some(p) if *level == 0 || usize::from(*level) > p.hints.len() => {
                            self.err(
                                Code::OutOfRange,
                                f,
                                At::str("puzzle", puzzle.as_str()),
                                cid,
                                format!(
                                    "{owner}: hint level {level} but puzzle {puzzle} has {} hints",
                                    p.hints.len()
                                ),
                            );
                        }
                        Some(_) => {}
                    }
                }
                CueKind::Wait { duration_s } => self.range(
                    f,
                    At::str("id", cid),
                    cid,
                    "wait (s)",
                    *duration_s,
                    0.0..=3600.0,
                ),
                CueKind::Group { cues: members } => {
                    for m in members {
                        if !cues.contains(m.as_str()) || m == &c.id {
                            self.err(
                                Code::UnknownReference,
                                f,
                                At::str("cues", m.as_str()),
                                m.as_str(),
                                format!(
                                    "{owner}: group member {:?} is not another cue of the list",
                                    m.as_str()
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
            match &c.trigger {
                Trigger::PhaseStart(p) | Trigger::PhaseComplete(p)
                    if !phase_index.contains_key(p.as_str()) =>
                {
                    self.err(
                        Code::UnknownReference,
                        f,
                        At::str("trigger", p.as_str()),
                        p.as_str(),
                        format!("{owner}: triggered by unknown phase {:?}", p.as_str()),
                    );
                }
                Trigger::PuzzleSolved(p) if !puzzles.contains(p.as_str()) => {
                    self.err(
                        Code::UnknownReference,
                        f,
                        At::str("trigger", p.as_str()),
                        p.as_str(),
                        format!("{owner}: triggered by unknown puzzle {:?}", p.as_str()),
                    );
                }
                Trigger::TimeRemaining(secs) if *secs >= s.duration_minutes * 60 => {
                    self.err(
                        Code::OutOfRange,
                        f,
                        At::FieldAfter {
                            key: "id",
                            value: cid,
                            then: "trigger",
                        },
                        cid,
                        format!(
                            "{owner}: fires at {secs} s remaining, but the game lasts {} min",
                            s.duration_minutes
                        ),
                    );
                }
                _ => {}
            }
        }

        for kind in [EndingKind::Success, EndingKind::TimeOut] {
            let n = s.endings.iter().filter(|e| e.kind == kind).count();
            if n != 1 {
                self.err(
                    Code::WrongCount,
                    f,
                    At::Field("endings"),
                    sid,
                    format!("scenario {sid}: {n} {kind:?} endings, expected exactly one"),
                );
            }
        }
        for e in &s.endings {
            if let Some(c) = &e.cue
                && !cues.contains(c.as_str())
            {
                self.err(
                    Code::UnknownReference,
                    f,
                    At::str("cue", c.as_str()),
                    c.as_str(),
                    format!("ending {}: unknown cue {:?}", e.id, c.as_str()),
                );
            }
        }
        let sa = &s.self_assessment;
        self.nonempty(
            f,
            At::Field("self_assessment"),
            sid,
            "self-assessment scale",
            sa.scale.len(),
        );
        self.nonempty(
            f,
            At::Field("self_assessment"),
            sid,
            "self-assessment questions",
            sa.questions.len(),
        );
        self.unique(
            f,
            "id",
            "question",
            sa.questions.iter().map(|q| q.id.as_str()),
        );
        for q in &sa.questions {
            if !competency_known(q.competency.as_str()) {
                self.err(
                    Code::UnknownCompetency,
                    f,
                    At::str("competency", q.competency.as_str()),
                    q.competency.as_str(),
                    format!(
                        "self-assessment question {}: competency {:?} is not in rubric {}",
                        q.id,
                        q.competency.as_str(),
                        s.rubric
                    ),
                );
            }
        }
    }

    fn solution(
        &mut self,
        f: &Path,
        owner: &str,
        pid: &str,
        kind: &PuzzleKind,
        check: &SolutionCheck,
    ) {
        let items: HashSet<&str> = kind.item_ids().into_iter().map(|i| i.as_str()).collect();
        let item_list: Vec<&str> = kind.item_ids().into_iter().map(|i| i.as_str()).collect();
        self.unique(f, "id", "item", item_list);
        let expects = match kind {
            PuzzleKind::DocumentComparison { .. } | PuzzleKind::Matching { .. } => "Set",
            PuzzleKind::Ordering { .. } => "Order",
            _ => "",
        };
        let got = match check {
            SolutionCheck::Set { .. } => "Set",
            SolutionCheck::Order { .. } => "Order",
            _ => "other",
        };
        if !expects.is_empty() && expects != got {
            self.err(
                Code::InvalidSolution,
                f,
                At::FieldAfter {
                    key: "id",
                    value: pid,
                    then: "solution",
                },
                pid,
                format!("{owner}: this kind of puzzle needs a {expects} solution"),
            );
            return;
        }
        match (kind, check) {
            (PuzzleKind::Matching { left, right, .. }, SolutionCheck::Set { items: pairs }) => {
                for pair in pairs {
                    let ok = pair.split_once('=').is_some_and(|(l, r)| {
                        left.iter().any(|i| i.id.as_str() == l)
                            && right.iter().any(|i| i.id.as_str() == r)
                    });
                    if !ok {
                        self.err(
                            Code::InvalidSolution,
                            f,
                            At::str("items", pair),
                            pair,
                            format!("{owner}: {pair:?} is not a \"left=right\" pair of its items"),
                        );
                    }
                }
            }
            (_, SolutionCheck::Set { items: chosen }) => {
                self.nonempty(
                    f,
                    At::FieldAfter {
                        key: "id",
                        value: pid,
                        then: "solution",
                    },
                    pid,
                    "solution set",
                    chosen.len(),
                );
                for c in chosen {
                    if !items.contains(c.as_str()) {
                        self.err(
                            Code::InvalidSolution,
                            f,
                            At::str("items", c),
                            c,
                            format!("{owner}: solution names {c:?}, which is not one of its items"),
                        );
                    }
                }
            }
            (_, SolutionCheck::Order { items: order }) => {
                let given: Vec<&str> = order.iter().map(String::as_str).collect();
                self.permutation(f, "items", owner, &items, &given);
            }
            (_, SolutionCheck::Numeric { value, tolerance }) => {
                if !(value.is_finite() && tolerance.is_finite() && *tolerance >= 0.0) {
                    self.err(
                        Code::OutOfRange,
                        f,
                        At::FieldAfter {
                            key: "id",
                            value: pid,
                            then: "tolerance",
                        },
                        pid,
                        format!(
                            "{owner}: numeric solution needs a finite value and a tolerance ≥ 0"
                        ),
                    );
                }
            }
            (_, SolutionCheck::NormalisedText { answers }) => {
                if answers.iter().all(|a| crate::normalise(a).is_empty()) {
                    self.err(
                        Code::InvalidSolution,
                        f,
                        At::FieldAfter {
                            key: "id",
                            value: pid,
                            then: "answers",
                        },
                        pid,
                        format!("{owner}: no accepted answer"),
                    );
                }
            }
            (_, SolutionCheck::Exact { answer }) => {
                if answer.is_empty() {
                    self.err(
                        Code::InvalidSolution,
                        f,
                        At::FieldAfter {
                            key: "id",
                            value: pid,
                            then: "answer",
                        },
                        pid,
                        format!("{owner}: empty answer"),
                    );
                }
            }
        }
    }

    /// Cycles, unreachable puzzles, requirements on later phases, and the longest path.
    ///
    /// Skipped while two puzzles share an id (reported as `duplicate_id`): a requirement naming
    /// that id could mean either, so a graph drawn from it would report cycles that are not
    /// there (a copied puzzle that requires its original, id unchanged, read as requiring
    /// itself).
    fn unlock_graph(&mut self, f: &Path, s: &Scenario, phase_index: &HashMap<&str, usize>) {
        let mut ids = HashSet::new();
        if !s.puzzles.iter().all(|p| ids.insert(p.id.as_str())) {
            return;
        }
        let index: HashMap<&str, usize> = s
            .puzzles
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let n = s.puzzles.len();
        let reqs: Vec<Vec<usize>> = s
            .puzzles
            .iter()
            .map(|p| {
                p.requires
                    .iter()
                    .filter_map(|r| index.get(r.as_str()).copied())
                    .collect()
            })
            .collect();
        for (i, p) in s.puzzles.iter().enumerate() {
            let mine = phase_index.get(p.phase.as_str());
            for &r in &reqs[i] {
                let theirs = phase_index.get(s.puzzles[r].phase.as_str());
                if let (Some(a), Some(b)) = (mine, theirs)
                    && b > a
                {
                    let rid = s.puzzles[r].id.as_str();
                    self.err(
                        Code::RequiresLaterPhase,
                        f,
                        At::str("requires", rid),
                        rid,
                        format!(
                            "puzzle {}: requires {rid}, which belongs to a later phase",
                            p.id
                        ),
                    );
                }
            }
        }
        // Kahn's algorithm: what cannot be ordered is on a cycle or behind one.
        let mut remaining: Vec<usize> = reqs.iter().map(Vec::len).collect();
        let mut order = Vec::with_capacity(n);
        let mut ready: Vec<usize> = (0..n).filter(|&i| remaining[i] == 0).collect();
        while let Some(i) = ready.pop() {
            order.push(i);
            for (j, r) in reqs.iter().enumerate() {
                for &x in r {
                    if x == i {
                        remaining[j] -= 1;
                        if remaining[j] == 0 {
                            ready.push(j);
                        }
                    }
                }
            }
        }
        let stuck: BTreeSet<usize> = (0..n).filter(|i| !order.contains(i)).collect();
        let reaches = |from: usize, to: usize| -> bool {
            let mut stack = reqs[from].clone();
            let mut seen = HashSet::new();
            while let Some(x) = stack.pop() {
                if x == to {
                    return true;
                }
                if seen.insert(x) {
                    stack.extend(&reqs[x]);
                }
            }
            false
        };
        let mut reported: HashSet<usize> = HashSet::new();
        for &i in &stuck {
            if reported.contains(&i) {
                continue;
            }
            if reaches(i, i) {
                let members: Vec<usize> = stuck
                    .iter()
                    .copied()
                    .filter(|&j| reaches(i, j) && reaches(j, i))
                    .collect();
                reported.extend(&members);
                let names: Vec<&str> = members.iter().map(|&j| s.puzzles[j].id.as_str()).collect();
                let pid = s.puzzles[i].id.as_str();
                self.err(
                    Code::DependencyCycle,
                    f,
                    At::str("id", pid),
                    pid,
                    format!(
                        "puzzles {} require each other in a cycle",
                        names.join(" → ")
                    ),
                );
            }
        }
        for &i in &stuck {
            if !reported.contains(&i) {
                let pid = s.puzzles[i].id.as_str();
                self.err(
                    Code::UnreachablePuzzle,
                    f,
                    At::str("id", pid),
                    pid,
                    format!("puzzle {pid} can never open: it depends on a cycle"),
                );
            }
        }
        // Longest path through the unlock DAG: a team can work on parallel branches, not on a chain.
        let mut longest = vec![0.0_f32; n];
        let mut via: Vec<Option<usize>> = vec![None; n];
        for &i in &order {
            let best = reqs[i]
                .iter()
                .copied()
                .max_by(|a, b| longest[*a].total_cmp(&longest[*b]));
            longest[i] = s.puzzles[i].expected_minutes.max(0.0) + best.map_or(0.0, |b| longest[b]);
            via[i] = best;
        }
        if let Some(end) = (0..n)
            .filter(|i| order.contains(i))
            .max_by(|a, b| longest[*a].total_cmp(&longest[*b]))
            && longest[end] > s.duration_minutes as f32
        {
            let mut path = vec![s.puzzles[end].id.as_str()];
            let mut cur = end;
            while let Some(prev) = via[cur] {
                path.push(s.puzzles[prev].id.as_str());
                cur = prev;
            }
            path.reverse();
            let msg = format!(
                "scenario {}: the longest unlock path ({}) needs {:.0} min, more than the {} min the game lasts",
                s.id,
                path.join(" → "),
                longest[end],
                s.duration_minutes
            );
            self.err(
                Code::CriticalPathTooLong,
                f,
                At::Field("duration_minutes"),
                s.id.as_str(),
                msg,
            );
        }
    }
}
