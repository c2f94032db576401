//! The cue runner, in QLab's terms: a playhead (standby), GO, pre-wait before the action,
//! post-wait before an auto-continue, auto-follow when the action ends, and stop-all. Each cue
//! fires once per session, by GO or by its trigger, whichever comes first.

use super::{DeviceId, Effect, Engine, Millis};
use boussole_content::cue::{ContinueMode, CueKind, Target, TimerAction, Trigger};
use boussole_content::ids::CueId;
use boussole_content::scenario::EndingKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Something scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Job {
    /// The pre-wait of cue `0` ended: run its action.
    Action(usize),
    /// The post-wait (or the action) of cue `0` ended: GO on the standby.
    Continue(usize),
}

/// Which of a cue's waits is running (QLab's terms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitKind {
    /// Before the cue's action.
    PreWait,
    /// After the action (or until it ends, for an auto-follow), before the next cue goes.
    PostWait,
}

/// A wait running in the cue list, for the console's progress bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CueWait {
    /// The cue whose wait it is.
    pub cue: CueId,
    /// Pre- or post-wait.
    pub kind: WaitKind,
    /// When it started, session time.
    pub started: Millis,
    /// When it ends, session time.
    pub ends: Millis,
}

/// A cue that was sent to devices.
#[derive(Clone, Debug)]
pub(super) struct Fired {
    pub instance: u64,
    pub cue: usize,
    pub start_at: Millis,
    /// When the GO (or the trigger) fired it, session time.
    pub fired_at: Millis,
    /// The devices that acknowledged it (each targeted device acknowledges for itself).
    pub acked_by: BTreeSet<DeviceId>,
    /// The devices that started it, each with how late after its scheduled start, ms.
    pub started: BTreeMap<DeviceId, u32>,
    /// Whether the cue auto-follows when this firing finishes playing.
    pub follow_on_finish: bool,
}

#[derive(Clone, Debug)]
pub(super) struct CueRunner {
    standby: Option<usize>,
    fired: Vec<bool>,
    /// `(when, order, job, scheduled at)`: order breaks ties in scheduling order.
    pending: BTreeSet<(Millis, u64, Job, Millis)>,
    order: u64,
    next_instance: u64,
    sent: Vec<Fired>,
    /// The lead of scheduled starts, ms ([`super::Command::SetCueLead`]).
    pub lead_ms: u32,
}

/// A firing as the console's delivery view shows it: which targeted devices have it, which
/// started it and how late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The firing's number.
    pub instance: u64,
    /// The cue.
    pub cue: CueId,
    /// When it was fired, session time.
    pub fired_at: Millis,
    /// When it was scheduled to start, session time (`fired_at` plus the lead).
    pub start_at: Millis,
    /// The devices it targets among those registered.
    pub targets: Vec<DeviceId>,
    /// Those that received it (acknowledged, with the start they planned).
    pub received: BTreeSet<DeviceId>,
    /// Those that started it, and how late after the scheduled start, ms (0: on time).
    pub started: BTreeMap<DeviceId, u32>,
}

impl CueRunner {
    pub fn new(cues: usize) -> Self {
        Self {
            standby: (cues > 0).then_some(0),
            fired: vec![false; cues],
            pending: BTreeSet::new(),
            order: 0,
            next_instance: 1,
            sent: Vec::new(),
            lead_ms: 0,
        }
    }

    pub fn standby(&self) -> Option<usize> {
        self.standby
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.pending.first().map(|(t, _, _, _)| *t)
    }

    pub fn pop_due(&mut self, t: Millis) -> Option<Job> {
        let first = *self.pending.first()?;
        if first.0 > t {
            return None;
        }
        self.pending.remove(&first);
        Some(first.2)
    }

    fn schedule(&mut self, now: Millis, at: Millis, job: Job) {
        self.order += 1;
        self.pending.insert((at, self.order, job, now));
    }

    /// Whether cue `i` has fired (by GO or its trigger).
    pub fn fired(&self, i: usize) -> bool {
        self.fired.get(i).copied().unwrap_or(false)
    }

    /// The waits scheduled, soonest first: `(cue index, kind, started, ends)`.
    pub fn waits(&self) -> impl Iterator<Item = (usize, WaitKind, Millis, Millis)> + '_ {
        self.pending
            .iter()
            .map(|(ends, _, job, started)| match job {
                Job::Action(i) => (*i, WaitKind::PreWait, *started, *ends),
                Job::Continue(i) => (*i, WaitKind::PostWait, *started, *ends),
            })
    }

    pub fn mark_triggered(&mut self, cue: usize) {
        if let Some(f) = self.fired.get_mut(cue) {
            *f = true;
        }
    }

    pub fn unacknowledged(&self) -> impl Iterator<Item = &Fired> {
        self.sent.iter().filter(|f| f.acked_by.is_empty())
    }

    /// Moves the standby to the first unfired cue from `from`.
    fn settle_standby(&mut self, from: usize) {
        self.standby = (from..self.fired.len()).find(|i| !self.fired[*i]);
    }
}

impl Engine {
    /// GO: fires the cue in standby and moves the playhead to the next unfired cue.
    pub(super) fn go(&mut self, at: Millis, out: &mut Vec<Effect>) {
        let Some(i) = self.cues.standby else {
            out.push(Effect::Refused("aucun top en attente".into()));
            return;
        };
        self.go_cue(i, at, out);
    }

    /// Fires cue `i` (pre-wait first); moves the standby past it if it stood there.
    pub(super) fn go_cue(&mut self, i: usize, at: Millis, out: &mut Vec<Effect>) {
        let Some(cue) = self.scenario.cues.get(i) else {
            return;
        };
        self.cues.fired[i] = true;
        if self.cues.standby == Some(i) {
            self.cues.settle_standby(i + 1);
        }
        if cue.pre_wait_s > 0.0 {
            self.cues
                .schedule(at, at.plus_secs(cue.pre_wait_s), Job::Action(i));
        } else {
            self.action(i, at, out);
        }
    }

    pub(super) fn run_job(&mut self, job: Job, at: Millis, out: &mut Vec<Effect>) {
        match job {
            Job::Action(i) => self.action(i, at, out),
            Job::Continue(_) => {
                if let Some(i) = self.cues.standby {
                    self.go_cue(i, at, out);
                }
            }
        }
    }

    /// The cue's action, then its continue mode.
    fn action(&mut self, i: usize, at: Millis, out: &mut Vec<Effect>) {
        let cue = self.scenario.cues[i].clone();
        // When the action is over, for auto-follow: now, later, or when a device says so.
        let mut ends_at = Some(at);
        match &cue.kind {
            CueKind::Video { .. } | CueKind::Sound { .. } | CueKind::Text { .. } => {
                let instance = self.cues.next_instance;
                self.cues.next_instance += 1;
                let follow_on_finish =
                    matches!(cue.kind, CueKind::Video { .. } | CueKind::Sound { .. });
                if follow_on_finish {
                    ends_at = None;
                }
                // Scheduled ahead by the lead, so that every device has it before it starts.
                let start_at = at.plus_ms(u64::from(self.cues.lead_ms));
                if let CueKind::Text {
                    duration_s: Some(d),
                    ..
                } = cue.kind
                {
                    ends_at = Some(start_at.plus_secs(d));
                }
                let fired = Fired {
                    instance,
                    cue: i,
                    start_at,
                    fired_at: at,
                    acked_by: BTreeSet::new(),
                    started: BTreeMap::new(),
                    follow_on_finish: follow_on_finish
                        && cue.continue_mode == ContinueMode::AutoFollow,
                };
                out.push(self.fire_effect(&fired));
                self.cues.sent.push(fired);
            }
            CueKind::Timer { action } => self.timer_action(action, at, out),
            CueKind::SceneChange { phase } => {
                if let Some(p) = self.scenario.phases.iter().position(|ph| ph.id == *phase) {
                    self.start_phase(p, at, out);
                }
            }
            CueKind::HintDisplay { puzzle, level } => {
                self.give_hint(puzzle, Some(*level), cue.targets.clone(), None, at, out);
            }
            CueKind::Wait { duration_s } => ends_at = Some(at.plus_secs(*duration_s)),
            CueKind::Group { cues } => {
                for member in cues {
                    if let Some(j) = self.scenario.cues.iter().position(|c| c.id == *member)
                        && !self.cues.fired[j]
                    {
                        self.go_cue(j, at, out);
                    }
                }
            }
            CueKind::Memo => {}
        }
        match cue.continue_mode {
            ContinueMode::DoNotContinue => {}
            ContinueMode::AutoContinue => {
                self.cues
                    .schedule(at, at.plus_secs(cue.post_wait_s), Job::Continue(i))
            }
            ContinueMode::AutoFollow => {
                if let Some(end) = ends_at {
                    self.cues.schedule(at, end, Job::Continue(i));
                }
            }
        }
    }

    /// A device says cue `instance` finished playing: auto-follow continues.
    pub(super) fn cue_finished(&mut self, instance: u64, at: Millis) {
        if let Some(f) = self
            .cues
            .sent
            .iter_mut()
            .find(|f| f.instance == instance && f.follow_on_finish)
        {
            f.follow_on_finish = false;
            let cue = f.cue;
            self.cues.schedule(at, at, Job::Continue(cue));
        }
    }

    /// The message that sends firing `f` to its targets (first time, or again after a restart).
    pub(super) fn fire_effect(&self, f: &Fired) -> Effect {
        let cue = &self.scenario.cues[f.cue];
        Effect::FireCue {
            instance: f.instance,
            cue: cue.id.clone(),
            targets: cue.targets.clone(),
            start_at: f.start_at,
        }
    }

    /// `device` applied firing `instance`; false for an instance never fired.
    pub(super) fn cue_acked(&mut self, instance: u64, device: &DeviceId) -> bool {
        match self.cues.sent.iter_mut().find(|f| f.instance == instance) {
            Some(f) => {
                f.acked_by.insert(device.clone());
                true
            }
            None => false,
        }
    }

    /// `device` started firing `instance`, `late_ms` after its scheduled start.
    pub(super) fn cue_started(&mut self, instance: u64, device: &DeviceId, late_ms: u32) {
        if let Some(f) = self.cues.sent.iter_mut().find(|f| f.instance == instance) {
            f.started.entry(device.clone()).or_insert(late_ms);
        }
    }

    /// The lead of scheduled starts now, ms.
    pub fn cue_lead_ms(&self) -> u32 {
        self.cues.lead_ms
    }

    /// Every firing sent to devices, newest first, with what each targeted device did with it.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.cues
            .sent
            .iter()
            .rev()
            .map(|f| {
                let cue = &self.scenario.cues[f.cue];
                let targets = self
                    .devices
                    .iter()
                    .filter(|(_, d)| aims_at(&cue.targets, d))
                    .map(|(id, _)| id.clone())
                    .collect();
                Delivery {
                    instance: f.instance,
                    cue: cue.id.clone(),
                    fired_at: f.fired_at,
                    start_at: f.start_at,
                    targets,
                    received: f.acked_by.clone(),
                    started: f.started.clone(),
                }
            })
            .collect()
    }

    /// The firings that target `device` (by its role or station) and that it has not
    /// acknowledged, oldest first.
    pub(super) fn unacknowledged_by(&self, device: &DeviceId) -> Vec<&Fired> {
        let Some(d) = self.devices.get(device) else {
            return Vec::new();
        };
        self.cues
            .sent
            .iter()
            .filter(|f| !f.acked_by.contains(device))
            .filter(|f| aims_at(&self.scenario.cues[f.cue].targets, d))
            .collect()
    }

    /// Esc: every pending wait is cancelled and media stop; the playhead stays.
    pub(super) fn stop_all(&mut self, out: &mut Vec<Effect>) {
        self.cues.pending.clear();
        for f in &mut self.cues.sent {
            f.follow_on_finish = false;
        }
        out.push(Effect::StopAll);
    }

    pub(super) fn set_standby(&mut self, i: usize) {
        self.cues.standby = Some(i);
    }

    /// Fires the cues whose trigger is `event`, each once.
    pub(super) fn trigger(&mut self, event: &Trigger, at: Millis, out: &mut Vec<Effect>) {
        let due: Vec<usize> = (0..self.scenario.cues.len())
            .filter(|i| !self.cues.fired[*i] && self.scenario.cues[*i].trigger == *event)
            .collect();
        for i in due {
            self.go_cue(i, at, out);
        }
    }

    /// The earliest countdown trigger (`TimeRemaining`) not yet fired: when, and which cue.
    pub(super) fn next_countdown_trigger(&self) -> Option<(Millis, usize)> {
        if !self.timer.started() {
            return None;
        }
        self.scenario
            .cues
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.cues.fired[*i])
            .filter_map(|(i, c)| match c.trigger {
                Trigger::TimeRemaining(s) => self
                    .timer
                    .reaches(i64::from(s) * 1000, self.now)
                    .map(|t| (t, i)),
                _ => None,
            })
            .min()
    }

    pub(super) fn timer_action(&mut self, action: &TimerAction, at: Millis, out: &mut Vec<Effect>) {
        match action {
            TimerAction::Start => self.timer.start(at),
            TimerAction::Pause => self.timer.pause(at),
            TimerAction::Resume => self.timer.resume(at),
            TimerAction::Adjust { seconds } => self.timer.adjust(i64::from(*seconds) * 1000),
        }
        out.push(Effect::Timer {
            running: self.timer.running(),
            remaining_ms: self.timer.remaining(at),
            at,
        });
    }

    /// Fires the ending's cue, if it has one.
    pub(super) fn ending_cue(&mut self, kind: EndingKind, at: Millis, out: &mut Vec<Effect>) {
        let cue = self
            .scenario
            .endings
            .iter()
            .find(|e| e.kind == kind)
            .and_then(|e| e.cue.clone());
        if let Some(c) = cue
            && let Some(i) = self.scenario.cues.iter().position(|x| x.id == c)
            && !self.cues.fired[i]
        {
            self.go_cue(i, at, out);
        }
    }
}

/// Whether `targets` (a cue's) aim at device `d`: by its role, or by its station.
fn aims_at(targets: &[Target], d: &super::Device) -> bool {
    targets.iter().any(|t| match t {
        Target::Role(r) => *r == d.role,
        Target::Station(s) => d.station.as_ref() == Some(s),
    })
}
