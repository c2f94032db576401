//! The game itself: the timer, phases, puzzles and the unlock graph, answers, hints, endings,
//! devices, participants and immersion runs.

use super::{
    Command, Device, DeviceEvent, DeviceId, Effect, Engine, GameEvent, GameEventKind, ImmersionRun,
    Millis, Participant, ParticipantId, PersonId, PuzzleStatus,
};
use boussole_content::cue::{DeviceRole, Target, Trigger};
use boussole_content::ids::{PuzzleId, StationId};
use boussole_content::scenario::EndingKind;

/// The countdown: `remaining_ms` at `since`, running or not.
#[derive(Clone, Debug)]
pub(super) struct Timer {
    duration_ms: i64,
    remaining_ms: i64,
    since: Millis,
    running: bool,
    started: bool,
}

impl Timer {
    pub fn new(duration_minutes: u32) -> Self {
        let duration_ms = i64::from(duration_minutes) * 60_000;
        Self {
            duration_ms,
            remaining_ms: duration_ms,
            since: Millis(0),
            running: false,
            started: false,
        }
    }

    pub fn started(&self) -> bool {
        self.started
    }

    pub fn running(&self) -> bool {
        self.running
    }

    /// Milliseconds left at `at` (never below zero).
    pub fn remaining(&self, at: Millis) -> i64 {
        let elapsed = if self.running {
            at.0.saturating_sub(self.since.0)
        } else {
            0
        };
        (self.remaining_ms - i64::try_from(elapsed).unwrap_or(i64::MAX)).max(0)
    }

    pub fn start(&mut self, at: Millis) {
        if !self.started {
            self.started = true;
            self.remaining_ms = self.duration_ms;
        }
        self.resume(at);
    }

    pub fn pause(&mut self, at: Millis) {
        self.remaining_ms = self.remaining(at);
        self.since = at;
        self.running = false;
    }

    pub fn resume(&mut self, at: Millis) {
        if self.started && !self.running {
            self.since = at;
            self.running = true;
        }
    }

    pub fn adjust(&mut self, delta_ms: i64) {
        self.remaining_ms = (self.remaining_ms + delta_ms).max(0);
    }

    /// When the countdown reaches zero, if it runs.
    pub fn zero_at(&self) -> Option<Millis> {
        self.reaches(0, self.since)
    }

    /// When `remaining_ms` will be at most `left` (now, if it already is), given the
    /// current time `now`; `None` if the timer is stopped above it.
    pub fn reaches(&self, left: i64, now: Millis) -> Option<Millis> {
        if !self.started {
            return None;
        }
        if self.remaining(now) <= left {
            return Some(now);
        }
        self.running
            .then(|| Millis(self.since.0 + u64::try_from(self.remaining_ms - left).unwrap_or(0)))
    }
}

impl Engine {
    pub(super) fn command(&mut self, c: Command, out: &mut Vec<Effect>) {
        let at = self.now;
        if self.closed
            && !matches!(
                c,
                Command::Note { .. }
                    | Command::Retract { .. }
                    | Command::Undo { .. }
                    | Command::DecideLevel { .. }
                    | Command::WriteComment { .. }
                    | Command::RecordRestitution { .. }
                    | Command::RecordConsent { .. }
                    | Command::AssignPerson { .. }
                    | Command::AdoptCode { .. }
                    | Command::ChooseLeadRater { .. }
                    | Command::SetCueLead { .. }
            )
        {
            out.push(Effect::Refused("séance close".into()));
            return;
        }
        match c {
            Command::AddParticipant {
                id,
                pseudonym,
                colour,
            } => match self.enrol_refusal(&id, &colour) {
                Some(why) => out.push(Effect::Refused(why)),
                None => {
                    self.participants.insert(
                        id,
                        Participant {
                            pseudonym,
                            colour,
                            station: None,
                            person: None,
                        },
                    );
                }
            },
            Command::AssignPerson {
                participant,
                person,
                reason,
            } => match self.assign_refusal(&participant, &person, &reason) {
                Some(why) => out.push(Effect::Refused(why)),
                None => {
                    if let Some(p) = self.participants.get_mut(&participant) {
                        p.person = Some(person);
                    }
                }
            },
            Command::AssignStation {
                participant,
                station,
            } => match self.participants.get_mut(&participant) {
                Some(p) => p.station = station,
                None => out.push(Effect::Refused(format!(
                    "participant·e inconnu·e : {participant}"
                ))),
            },
            Command::RegisterDevice {
                device,
                role,
                station,
            } => {
                let d = self.devices.entry(device).or_insert_with(|| Device {
                    role,
                    station: None,
                    last_ack: None,
                    health: super::Health::default(),
                    last_seq: 0,
                    online: false,
                    since: at,
                    problems: Vec::new(),
                });
                d.role = role;
                d.station = station;
            }
            Command::StartGame => {
                if self.scenario.phases.is_empty() {
                    out.push(Effect::Refused(
                        "une séance d'immersion n'a pas de jeu à démarrer : \
                         lancez les casques depuis Préparer"
                            .into(),
                    ));
                } else if self.started {
                    out.push(Effect::Refused("le jeu a déjà commencé".into()));
                } else {
                    self.started = true;
                    self.times.started = Some(at);
                    self.start_phase(0, at, out);
                }
            }
            Command::Go => self.go(at, out),
            Command::Standby(cue) => match self.scenario.cues.iter().position(|c| c.id == cue) {
                Some(i) => self.set_standby(i),
                None => out.push(Effect::Refused(format!("top inconnu : {cue}"))),
            },
            Command::StopAll => self.stop_all(out),
            Command::PauseTimer => {
                self.timer_action(&boussole_content::cue::TimerAction::Pause, at, out)
            }
            Command::ResumeTimer => {
                self.timer_action(&boussole_content::cue::TimerAction::Resume, at, out)
            }
            Command::AdjustTimer(seconds) => {
                self.timer_action(
                    &boussole_content::cue::TimerAction::Adjust { seconds },
                    at,
                    out,
                );
            }
            Command::SendHint {
                puzzle,
                level,
                station,
                participant,
            } => {
                let targets = match station {
                    Some(s) => vec![Target::Station(s)],
                    None => self.hint_targets(&puzzle),
                };
                self.give_hint(&puzzle, level, targets, participant, at, out);
            }
            Command::ForceSolve { puzzle, reason } => match self.puzzles.get(&puzzle) {
                None => out.push(Effect::Refused(format!("énigme inconnue : {puzzle}"))),
                Some(PuzzleStatus::Solved { .. }) => {
                    out.push(Effect::Refused(format!("énigme déjà résolue : {puzzle}")))
                }
                Some(_) => self.solve(&puzzle, None, Some(reason), at, out),
            },
            Command::Observe {
                rater,
                participant,
                behaviour,
                action,
                modifier,
            } => {
                if !self.participants.contains_key(&participant) {
                    out.push(Effect::Refused(format!(
                        "participant·e inconnu·e : {participant}"
                    )));
                    return;
                }
                let phase = self.phase().cloned();
                let puzzles = self.context_puzzles(&participant);
                if let Err(why) = self.observations.observe(
                    &self.grid,
                    at,
                    rater,
                    participant,
                    behaviour,
                    action,
                    modifier,
                    phase,
                    puzzles,
                ) {
                    out.push(Effect::Refused(why));
                }
            }
            Command::Note {
                rater,
                participant,
                text,
            } => {
                let phase = self.phase().cloned();
                let puzzles = participant
                    .as_ref()
                    .map(|p| self.context_puzzles(p))
                    .unwrap_or_default();
                self.observations
                    .note(at, rater, participant, text, phase, puzzles);
            }
            Command::Retract { rater, id } => {
                if let Err(why) = self.observations.retract(at, &rater, id, self.closed) {
                    out.push(Effect::Refused(why));
                }
            }
            Command::ChooseLeadRater { rater } => self.lead_rater = Some(rater),
            Command::SetCueLead { ms } => self.cues.lead_ms = ms.min(super::MAX_CUE_LEAD_MS),
            Command::AdoptCode { rater, id } => {
                if !self.closed {
                    out.push(Effect::Refused(
                        "la mise en commun des codes se fait après la clôture".into(),
                    ));
                } else if let Err(why) = self.observations.adopt(&rater, id) {
                    out.push(Effect::Refused(why));
                }
            }
            Command::DecideLevel {
                participant,
                competency,
                level,
                reason,
            } => {
                if self.participants.contains_key(&participant) {
                    self.decisions.insert(
                        (participant, competency),
                        super::LevelDecision { level, reason, at },
                    );
                } else {
                    out.push(Effect::Refused(format!(
                        "participant·e inconnu·e : {participant}"
                    )));
                }
            }
            Command::Undo { rater } => {
                if let Err(why) = self.observations.undo(at, &rater, self.closed) {
                    out.push(Effect::Refused(why));
                }
            }
            Command::AssignImmersion {
                device,
                immersion,
                participant,
            } => match self.devices.get(&device) {
                Some(d) if d.role == DeviceRole::Headset => {
                    let known = self.participants.contains_key(&participant);
                    if known {
                        let run = ImmersionRun {
                            immersion,
                            participant,
                            started: None,
                            stopped: None,
                            paused_ms: 0,
                        };
                        if let Some(old) = self.immersions.insert(device, run) {
                            self.past_immersions.push(old);
                        }
                    } else {
                        out.push(Effect::Refused(format!(
                            "participant·e inconnu·e : {participant}"
                        )));
                    }
                }
                _ => out.push(Effect::Refused(format!(
                    "{device} n'est pas un casque connu"
                ))),
            },
            Command::StartImmersion { device } => match self.immersions.get_mut(&device) {
                Some(run) if run.started.is_none() => {
                    run.started = Some(at);
                    out.push(Effect::StartImmersion {
                        device,
                        immersion: run.immersion.clone(),
                    });
                }
                Some(_) => out.push(Effect::Refused(format!(
                    "l'immersion de {device} a déjà commencé"
                ))),
                None => out.push(Effect::Refused(format!("aucune immersion pour {device}"))),
            },
            Command::StartImmersions { devices } => {
                let mut seen = std::collections::BTreeSet::new();
                let problem = if devices.is_empty() {
                    Some("aucun casque à démarrer".to_owned())
                } else {
                    devices.iter().find_map(|d| {
                        if !seen.insert(d) {
                            return Some(format!("{d} est nommé deux fois"));
                        }
                        match self.immersions.get(d) {
                            None => Some(format!("aucune immersion pour {d}")),
                            Some(run) if run.started.is_some() => {
                                Some(format!("l'immersion de {d} a déjà commencé"))
                            }
                            Some(_) => None,
                        }
                    })
                };
                if let Some(why) = problem {
                    out.push(Effect::Refused(format!("démarrage groupé refusé : {why}")));
                    return;
                }
                for device in devices {
                    if let Some(run) = self.immersions.get_mut(&device) {
                        run.started = Some(at);
                        out.push(Effect::StartImmersion {
                            device,
                            immersion: run.immersion.clone(),
                        });
                    }
                }
            }
            Command::PauseHeadsets { devices, paused } => {
                self.pause_headsets(devices, paused, at, out);
            }
            Command::StopImmersion { device } => match self.immersions.get_mut(&device) {
                Some(run) if run.started.is_some() && run.stopped.is_none() => {
                    run.stopped = Some(at);
                    out.push(Effect::StopImmersion { device });
                }
                _ => out.push(Effect::Refused(format!(
                    "aucune immersion en cours sur {device}"
                ))),
            },
            Command::WriteComment {
                participant,
                comment,
                recommendations,
            } => {
                if let Some(d) = self.debrief_mut(&participant, out) {
                    d.comment = comment;
                    d.recommendations = recommendations;
                }
            }
            Command::RecordRestitution { participant } => {
                if let Some(d) = self.debrief_mut(&participant, out) {
                    d.restitution = Some(at);
                }
            }
            Command::RecordConsent { participant, given } => {
                if let Some(d) = self.debrief_mut(&participant, out) {
                    if given && d.restitution.is_none() {
                        out.push(Effect::Refused(format!(
                            "{participant} : l'accord se recueille à la restitution, qui n'est pas enregistrée"
                        )));
                    } else {
                        d.consent = Some((given, at));
                    }
                }
            }
            Command::EndSession => {
                if self.ended.is_none() && self.started {
                    self.timer.pause(at);
                }
                self.observations.close_open_states(at);
                self.cues_stop_pending();
                self.closed = true;
                self.times.closed = Some(at);
            }
        }
    }

    /// Why enrolling slot `id` with `colour` is refused, if it is: the slot is taken, or
    /// another slot has the colour (colours tell slots apart on the console).
    pub fn enrol_refusal(&self, id: &ParticipantId, colour: &str) -> Option<String> {
        if let Some(p) = self.participants.get(id) {
            return Some(format!(
                "la place {id} est déjà prise (« {} ») : choisissez une autre place",
                p.pseudonym
            ));
        }
        let colour = colour.trim();
        self.participants
            .iter()
            .find(|(_, p)| p.colour.trim().eq_ignore_ascii_case(colour))
            .map(|(other, _)| {
                format!("la couleur {colour} est déjà celle de la place {other} : choisissez-en une autre")
            })
    }

    /// Why giving slot `slot` to `person` is refused, if it is (see [`Command::AssignPerson`]).
    pub fn assign_refusal(
        &self,
        slot: &ParticipantId,
        person: &PersonId,
        reason: &str,
    ) -> Option<String> {
        let Some(p) = self.participants.get(slot) else {
            return Some(format!("place inconnue : {slot}"));
        };
        if let Some((other, _)) = self
            .participants
            .iter()
            .find(|(id, q)| *id != slot && q.person.as_ref() == Some(person))
        {
            return Some(format!(
                "cette personne est déjà inscrite à la place {other} de la séance : une personne n'a qu'une place"
            ));
        }
        match &p.person {
            None => None,
            Some(current) if current == person => {
                Some(format!("la place {slot} est déjà à cette personne"))
            }
            Some(_) if reason.trim().is_empty() => Some(format!(
                "changer la personne de la place {slot} demande une raison"
            )),
            Some(_)
                if self
                    .debriefs
                    .get(slot)
                    .and_then(|d| d.consent)
                    .is_some_and(|(given, _)| given) =>
            {
                Some(format!(
                    "la place {slot} ne peut plus changer de personne : son accord pour la synthèse finale est enregistré"
                ))
            }
            Some(_) => None,
        }
    }

    fn cues_stop_pending(&mut self) {
        let mut ignored = Vec::new();
        self.stop_all(&mut ignored);
    }

    pub(super) fn device_event(
        &mut self,
        device: &DeviceId,
        event: DeviceEvent,
        out: &mut Vec<Effect>,
    ) {
        let at = self.now;
        match event {
            DeviceEvent::Answer {
                puzzle,
                station,
                participant,
                answer,
            } => {
                let by = participant.or_else(|| self.participant_at(&station));
                if self.closed || self.ended.is_some() {
                    out.push(Effect::Refused("le jeu est terminé".into()));
                    return;
                }
                let Some(p) = self.scenario.puzzles.iter().find(|p| p.id == puzzle) else {
                    out.push(Effect::Refused(format!("énigme inconnue : {puzzle}")));
                    return;
                };
                if !matches!(self.puzzles.get(&puzzle), Some(PuzzleStatus::Open(_))) {
                    out.push(Effect::Refused(format!("énigme pas ouverte : {puzzle}")));
                    return;
                }
                if p.solution.accepts(&answer) {
                    self.solve(&puzzle, by, None, at, out);
                } else {
                    self.events.push(GameEvent {
                        at,
                        participant: by,
                        kind: GameEventKind::WrongAnswer(puzzle.clone()),
                    });
                    out.push(Effect::WrongAnswer { puzzle, station });
                }
            }
            DeviceEvent::HintRequest {
                puzzle,
                station,
                participant,
            } => {
                let by = participant.or_else(|| self.participant_at(&station));
                self.events.push(GameEvent {
                    at,
                    participant: by,
                    kind: GameEventKind::HintRequested(puzzle),
                });
            }
            DeviceEvent::CueApplied { instance, .. } => {
                if self.cue_acked(instance, device)
                    && let Some(d) = self.devices.get_mut(device)
                {
                    d.last_ack = Some((instance, at));
                }
            }
            DeviceEvent::CueFinished { instance } => self.cue_finished(instance, at),
            DeviceEvent::CueStarted { instance, late_ms } => {
                self.cue_started(instance, device, late_ms);
            }
            DeviceEvent::Health(h) => {
                if let Some(d) = self.devices.get_mut(device) {
                    d.health = h;
                }
            }
            DeviceEvent::Problem { what } => {
                if let Some(d) = self.devices.get_mut(device) {
                    d.problems.push((at, what));
                    let extra = d.problems.len().saturating_sub(super::PROBLEMS_KEPT);
                    d.problems.drain(..extra);
                }
            }
            DeviceEvent::HotspotSeen { immersion, hotspot } => {
                let who = self.immersions.get(device).map(|r| r.participant.clone());
                self.events.push(GameEvent {
                    at,
                    participant: who,
                    kind: GameEventKind::HotspotSeen(immersion, hotspot),
                });
            }
            DeviceEvent::TaskDone {
                immersion,
                task,
                correct,
            } => {
                let who = self.immersions.get(device).map(|r| r.participant.clone());
                self.events.push(GameEvent {
                    at,
                    participant: who,
                    kind: GameEventKind::TaskDone(immersion, task, correct),
                });
            }
            DeviceEvent::ImmersionRating {
                immersion,
                question,
                participant,
                value,
            } => {
                self.events.push(GameEvent {
                    at,
                    participant: Some(participant),
                    kind: GameEventKind::Rating {
                        question,
                        value,
                        comment: None,
                        immersion: Some(immersion),
                    },
                });
            }
            DeviceEvent::HeadsetViewSeen { puzzle, station } => {
                if !self.scenario.puzzles.iter().any(|p| p.id == puzzle) {
                    out.push(Effect::Refused(format!("énigme inconnue : {puzzle}")));
                    return;
                }
                let who = self.participant_at(&station);
                self.events.push(GameEvent {
                    at,
                    participant: who,
                    kind: GameEventKind::HeadsetViewSeen(puzzle),
                });
            }
            DeviceEvent::Rating {
                question,
                participant,
                value,
                comment,
            } => {
                let immersion = self.immersions.get(device).map(|r| r.immersion.clone());
                self.events.push(GameEvent {
                    at,
                    participant: Some(participant),
                    kind: GameEventKind::Rating {
                        question,
                        value,
                        comment,
                        immersion,
                    },
                });
            }
        }
    }

    /// [`Command::PauseHeadsets`].
    fn pause_headsets(
        &mut self,
        devices: Vec<DeviceId>,
        paused: bool,
        at: Millis,
        out: &mut Vec<Effect>,
    ) {
        if let Some(d) = devices.iter().find(|d| {
            self.devices
                .get(*d)
                .is_none_or(|x| x.role != DeviceRole::Headset)
        }) {
            out.push(Effect::Refused(format!("{d} n'est pas un casque connu")));
            return;
        }
        if paused {
            for device in devices {
                if let std::collections::btree_map::Entry::Vacant(e) =
                    self.paused.entry(device.clone())
                {
                    e.insert(at);
                    out.push(Effect::Pause {
                        device,
                        paused: true,
                    });
                }
            }
            return;
        }
        let resumed: Vec<(DeviceId, Millis)> = devices
            .into_iter()
            .filter_map(|d| self.paused.remove(&d).map(|since| (d, since)))
            .collect();
        // Immersions that started together and resume together are held back by the same
        // amount (each one's pauses so far plus this one, the most of them), so their films
        // show the same frame again.
        let mut held: std::collections::BTreeMap<Millis, u64> = Default::default();
        for (device, since) in &resumed {
            if let Some(run) = self.immersions.get(device)
                && let Some(started) = run.started
                && run.stopped.is_none()
            {
                let total = run.paused_ms + at.0.saturating_sub(since.0);
                let most = held.entry(started).or_default();
                *most = (*most).max(total);
            }
        }
        for (device, _) in resumed {
            if let Some(run) = self.immersions.get_mut(&device)
                && let Some(started) = run.started
                && run.stopped.is_none()
            {
                run.paused_ms = held.get(&started).copied().unwrap_or(run.paused_ms);
                // Its film's new start first, then the resume.
                out.push(Effect::StartImmersion {
                    device: device.clone(),
                    immersion: run.immersion.clone(),
                });
            }
            out.push(Effect::Pause {
                device,
                paused: false,
            });
        }
    }

    /// The debrief of a known participant (created on first use); refuses an unknown one.
    fn debrief_mut(
        &mut self,
        participant: &ParticipantId,
        out: &mut Vec<Effect>,
    ) -> Option<&mut super::Debrief> {
        if self.participants.contains_key(participant) {
            Some(self.debriefs.entry(participant.clone()).or_default())
        } else {
            out.push(Effect::Refused(format!(
                "participant·e inconnu·e : {participant}"
            )));
            None
        }
    }

    fn participant_at(&self, station: &StationId) -> Option<ParticipantId> {
        self.participants
            .iter()
            .find(|(_, p)| p.station.as_ref() == Some(station))
            .map(|(id, _)| id.clone())
    }

    /// The open puzzles a participant is working on: those of their station, else every
    /// open puzzle.
    fn context_puzzles(&self, participant: &ParticipantId) -> Vec<PuzzleId> {
        let open: Vec<&PuzzleId> = self
            .puzzles
            .iter()
            .filter(|(_, s)| matches!(s, PuzzleStatus::Open(_)))
            .map(|(id, _)| id)
            .collect();
        let station = self
            .participants
            .get(participant)
            .and_then(|p| p.station.as_ref());
        let mine: Vec<PuzzleId> = self
            .scenario
            .puzzles
            .iter()
            .filter(|p| open.contains(&&p.id) && station.is_some_and(|s| p.stations.contains(s)))
            .map(|p| p.id.clone())
            .collect();
        if mine.is_empty() {
            open.into_iter().cloned().collect()
        } else {
            mine
        }
    }

    fn hint_targets(&self, puzzle: &PuzzleId) -> Vec<Target> {
        let mut t = vec![Target::Role(DeviceRole::Screen)];
        if let Some(p) = self.scenario.puzzles.iter().find(|p| p.id == *puzzle) {
            t.extend(p.stations.iter().cloned().map(Target::Station));
        }
        t
    }

    pub(super) fn give_hint(
        &mut self,
        puzzle: &PuzzleId,
        level: Option<u8>,
        targets: Vec<Target>,
        participant: Option<ParticipantId>,
        at: Millis,
        out: &mut Vec<Effect>,
    ) {
        let Some(p) = self.scenario.puzzles.iter().find(|p| p.id == *puzzle) else {
            out.push(Effect::Refused(format!("énigme inconnue : {puzzle}")));
            return;
        };
        let given = self.hints_given.get(puzzle).copied().unwrap_or(0);
        let level = level.unwrap_or(given.saturating_add(1));
        let Some(hint) = usize::from(level)
            .checked_sub(1)
            .and_then(|i| p.hints.get(i))
        else {
            out.push(Effect::Refused(format!(
                "{puzzle} n'a pas d'indice {level}"
            )));
            return;
        };
        if hint.cost_s > 0 {
            self.timer.adjust(-i64::from(hint.cost_s) * 1000);
            out.push(Effect::Timer {
                running: self.timer.running(),
                remaining_ms: self.timer.remaining(at),
                at,
            });
        }
        self.hints_given.insert(puzzle.clone(), given.max(level));
        self.events.push(GameEvent {
            at,
            participant,
            kind: GameEventKind::HintReceived(puzzle.clone(), level),
        });
        out.push(Effect::ShowHint {
            puzzle: puzzle.clone(),
            level,
            targets,
        });
    }

    pub(super) fn start_phase(&mut self, index: usize, at: Millis, out: &mut Vec<Effect>) {
        let Some(phase) = self.scenario.phases.get(index).map(|p| p.id.clone()) else {
            return;
        };
        if self.phase.is_some_and(|p| p >= index) {
            return;
        }
        self.phase = Some(index);
        self.phase_starts.push((phase.clone(), at));
        out.push(Effect::PhaseStarted(phase.clone()));
        self.open_puzzles(at, out);
        self.trigger(&Trigger::PhaseStart(phase), at, out);
    }

    /// Opens every locked puzzle whose phase has started and whose requirements are solved.
    fn open_puzzles(&mut self, at: Millis, out: &mut Vec<Effect>) {
        let Some(current) = self.phase else { return };
        let started: Vec<_> = self.scenario.phases[..=current]
            .iter()
            .map(|p| p.id.clone())
            .collect();
        let solved =
            |id: &PuzzleId, states: &std::collections::BTreeMap<PuzzleId, PuzzleStatus>| {
                matches!(states.get(id), Some(PuzzleStatus::Solved { .. }))
            };
        let ready: Vec<PuzzleId> = self
            .scenario
            .puzzles
            .iter()
            .filter(|p| matches!(self.puzzles.get(&p.id), Some(PuzzleStatus::Locked)))
            .filter(|p| {
                started.contains(&p.phase) && p.requires.iter().all(|r| solved(r, &self.puzzles))
            })
            .map(|p| p.id.clone())
            .collect();
        for id in ready {
            self.puzzles.insert(id.clone(), PuzzleStatus::Open(at));
            self.puzzles_opened.insert(id.clone(), at);
            out.push(Effect::PuzzleOpened(id));
        }
    }

    fn solve(
        &mut self,
        puzzle: &PuzzleId,
        by: Option<ParticipantId>,
        forced: Option<String>,
        at: Millis,
        out: &mut Vec<Effect>,
    ) {
        self.puzzles.insert(
            puzzle.clone(),
            PuzzleStatus::Solved {
                at,
                by: by.clone(),
                forced: forced.clone(),
            },
        );
        if forced.is_none() {
            self.events.push(GameEvent {
                at,
                participant: by.clone(),
                kind: GameEventKind::Solved(puzzle.clone()),
            });
        }
        out.push(Effect::PuzzleSolved {
            puzzle: puzzle.clone(),
            by,
        });
        self.open_puzzles(at, out);
        self.trigger(&Trigger::PuzzleSolved(puzzle.clone()), at, out);
        let phase = self
            .scenario
            .puzzles
            .iter()
            .find(|p| p.id == *puzzle)
            .map(|p| p.phase.clone());
        if let Some(phase) = phase {
            let complete = self
                .scenario
                .puzzles
                .iter()
                .filter(|p| p.phase == phase)
                .all(|p| matches!(self.puzzles.get(&p.id), Some(PuzzleStatus::Solved { .. })));
            if complete {
                self.trigger(&Trigger::PhaseComplete(phase), at, out);
            }
        }
        if self
            .puzzles
            .values()
            .all(|s| matches!(s, PuzzleStatus::Solved { .. }))
        {
            self.end_game(EndingKind::Success, at, out);
        }
    }

    pub(super) fn end_game(&mut self, kind: EndingKind, at: Millis, out: &mut Vec<Effect>) {
        if self.ended.is_some() {
            return;
        }
        let Some(ending) = self
            .scenario
            .endings
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.id.clone())
        else {
            return;
        };
        self.ended = Some(ending.clone());
        self.times.ended = Some(at);
        if self.timer.running() {
            self.timer.pause(at);
            out.push(Effect::Timer {
                running: false,
                remaining_ms: self.timer.remaining(at),
                at,
            });
        }
        out.push(Effect::Ended(ending));
        self.ending_cue(kind, at, out);
    }
}
