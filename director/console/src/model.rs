//! The console's state between frames, without Bevy or egui: what the link said, folded into a
//! [`SessionView`] for the panels. The Bevy shell feeds it [`LinkEvent`]s and asks it for a view
//! each frame; tests feed it directly.

use crate::link::LinkEvent;
use crate::view::{LinkState, Replica, ReplicaError, SessionView};
use boussole_content::ContentSet;
use boussole_director::engine::{Millis, RaterId};
use boussole_protocol::wire::RoomStatus;

/// At most this many director messages are kept for the facilitator (oldest dropped).
const NOTICES_KEPT: usize = 50;

/// Why the console cannot show the session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The director plays a scenario this console's content does not have.
    #[error("scénario « {0} » inconnu de cette console : mettez son contenu à jour")]
    UnknownScenario(String),
    /// The scenario's observation grid is missing from this console's content.
    #[error("grille d'observation « {grid} » du scénario « {scenario} » introuvable")]
    UnknownGrid {
        /// The scenario.
        scenario: String,
        /// The grid it names.
        grid: String,
    },
    /// The log could not be folded.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

/// The immersions of `content`, `(id, French title)`, in file order.
pub fn immersions(content: &ContentSet) -> Vec<(boussole_content::ids::ImmersionId, String)> {
    content
        .immersions
        .iter()
        .map(|i| (i.value.id.clone(), i.value.title.fr.clone()))
        .collect()
}

/// The rubric `id` of `content`, if there.
pub fn rubric_of(
    content: &ContentSet,
    id: &boussole_content::ids::RubricId,
) -> Option<boussole_content::rubric::Rubric> {
    content
        .rubrics
        .iter()
        .map(|r| &r.value)
        .find(|r| r.id == *id)
        .cloned()
}

/// Everything the console knows, folded from the link's events.
#[derive(Debug)]
pub struct ConsoleModel {
    content: ContentSet,
    me: RaterId,
    observer: bool,
    replica: Option<Replica>,
    /// Log entries that arrived before the scenario was known (the snapshot comes first, so
    /// this stays empty unless a director sends them in another order).
    pending: Vec<boussole_protocol::wire::LogEntry>,
    room: RoomStatus,
    poses: boussole_protocol::wire::HeadsetPoses,
    sights: std::sync::Arc<crate::spectator::Sights>,
    link: LinkState,
    notices: Vec<String>,
    register: boussole_director::register::RegisterView,
    /// The director's last answer to this console's request for a synthesis.
    synthesis: Option<boussole_director::synthesis::SynthesisReply>,
    content_in_sync: bool,
    error: Option<ModelError>,
    desk: Option<boussole_director::desk::DeskView>,
    /// The closed session followed for review beside the hosted one.
    review: Option<Reviewed>,
    /// The session that was followed when the connection was lost: asked again on the next.
    review_again: Option<i64>,
    /// The director's answers to the administration screen's requests.
    answers: DeskAnswers,
}

/// A closed session followed for review: who it is and its copy of the log.
#[derive(Clone, Debug)]
struct Reviewed {
    session: i64,
    label: String,
    created_at_unix_ms: i64,
    replica: Replica,
}

/// The director's last answers to this console's requests (`None`: not asked yet): the
/// administration screen's sections and the roadmap shown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeskAnswers {
    /// The access log, newest first.
    pub access: Option<Vec<boussole_director::desk::AccessLine>>,
    /// The funders' figures.
    pub figures: Option<Vec<boussole_director::desk::FiguresLine>>,
    /// What the purge would remove now.
    pub purge: Option<boussole_director::desk::PurgePreview>,
    /// The person's roadmap shown on the « Parcours » screen.
    pub roadmap: Option<boussole_director::desk::PersonRoadmap>,
    /// The plan shown on the « Planning » screen.
    pub plan: Option<boussole_director::desk::PlanView>,
}

impl ConsoleModel {
    /// A console of rater `me` reading `content`.
    pub fn new(content: ContentSet, me: RaterId, observer: bool) -> Self {
        Self {
            sights: std::sync::Arc::new(crate::spectator::Sights::of(&content)),
            content,
            me,
            observer,
            replica: None,
            pending: Vec::new(),
            room: RoomStatus::default(),
            poses: boussole_protocol::wire::HeadsetPoses::default(),
            link: LinkState::Connecting,
            notices: Vec::new(),
            register: Default::default(),
            synthesis: None,
            content_in_sync: true,
            error: None,
            desk: None,
            review: None,
            review_again: None,
            answers: DeskAnswers::default(),
        }
    }

    /// Forgets everything the link said (the console left the director: it locked): the
    /// model is as new, with the same content and rater.
    pub fn reset(&mut self) {
        let content = std::mem::take(&mut self.content);
        *self = Self::new(content, self.me.clone(), self.observer);
    }

    /// Folds one event from the link.
    pub fn apply(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::State(state) => self.link = state,
            LinkEvent::Welcome {
                content_in_sync, ..
            } => {
                // The director sends the whole log again on every connection; a review
                // belonged to the connection before: it is asked again.
                self.replica = None;
                if let Some(r) = self.review.take() {
                    self.review_again = Some(r.session);
                }
                self.pending.clear();
                self.error = None;
                self.content_in_sync = content_in_sync;
            }
            LinkEvent::Snapshot(snapshot) => {
                if self.replica.is_none() {
                    match self.start(&snapshot.scenario) {
                        Ok(replica) => {
                            self.replica = Some(replica);
                            let pending = std::mem::take(&mut self.pending);
                            self.fold(&pending);
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
            }
            LinkEvent::Log(entries) => match self.replica {
                Some(_) => self.fold(&entries),
                None => self.pending.extend(entries),
            },
            LinkEvent::Room(room) => self.room = room,
            LinkEvent::Poses(poses) => self.poses = poses,
            LinkEvent::Synthesis(reply) => self.synthesis = Some(*reply),
            LinkEvent::Register(mut view) => {
                // A view sent to every console does not answer this one's search: keep it.
                if view.found.is_none() {
                    view.found = self.register.found.take();
                }
                self.register = view;
            }
            LinkEvent::Desk(desk) => {
                let before = self
                    .desk
                    .as_ref()
                    .and_then(|d| d.live.as_ref())
                    .map(|l| l.id);
                let now = desk.live.as_ref().map(|l| l.id);
                if before != now {
                    // Another session (or none): its snapshot and whole log follow.
                    self.replica = None;
                    self.pending.clear();
                    self.error = None;
                }
                self.desk = Some(desk);
            }
            LinkEvent::DeskAnswer(answer) => self.answer(*answer),
            LinkEvent::Notice(text) => {
                self.notices.push(text);
                let extra = self.notices.len().saturating_sub(NOTICES_KEPT);
                self.notices.drain(..extra);
            }
        }
    }

    fn answer(&mut self, answer: boussole_director::desk::DeskAnswer) {
        use boussole_director::desk::{DeskAnswer, ReviewFeed};
        match answer {
            DeskAnswer::Review(ReviewFeed::Opened {
                session,
                scenario,
                label,
                created_at_unix_ms,
                entries,
            }) => match self.start(&scenario) {
                Ok(mut replica) => {
                    if let Err(e) = replica.apply(&entries) {
                        self.note(format!("séance {session} : {e}"));
                    }
                    self.review = Some(Reviewed {
                        session,
                        label,
                        created_at_unix_ms,
                        replica,
                    });
                }
                Err(e) => {
                    self.review = None;
                    self.note(format!("séance {session} : {e}"));
                }
            },
            DeskAnswer::Review(ReviewFeed::Appended { session, entries }) => {
                if let Some(r) = self.review.as_mut().filter(|r| r.session == session)
                    && let Err(e) = r.replica.apply(&entries)
                {
                    let line = format!("séance {session} : {e}");
                    self.note(line);
                }
            }
            DeskAnswer::Review(ReviewFeed::Closed) => {
                self.review = None;
                self.review_again = None;
            }
            DeskAnswer::AccessLog(lines) => self.answers.access = Some(lines),
            DeskAnswer::Figures(lines) => self.answers.figures = Some(lines),
            DeskAnswer::PurgePreview(preview) => self.answers.purge = Some(preview),
            DeskAnswer::Roadmap(roadmap) => self.answers.roadmap = Some(roadmap),
            DeskAnswer::Plan(plan) => self.answers.plan = Some(plan),
        }
    }

    fn note(&mut self, text: String) {
        self.notices.push(text);
        let extra = self.notices.len().saturating_sub(NOTICES_KEPT);
        self.notices.drain(..extra);
    }

    /// The closed session followed for review, as its after-game screens draw it: its engine
    /// as its log leaves it, with this console's rater, register and desk (`None` when none is
    /// followed).
    pub fn review(&self) -> Option<crate::view::ReviewView> {
        let r = self.review.as_ref()?;
        let engine = r.replica.engine().clone();
        let now = engine.now();
        let rubric = rubric_of(&self.content, &engine.scenario().rubric);
        let mut view = SessionView::of(engine, now, self.me.clone());
        view.observer = self.observer;
        view.room = self.room.clone();
        view.link = self.link.clone();
        view.notices = self.notices.clone();
        view.register = self.register.clone();
        view.synthesis = self.synthesis.clone();
        view.rubric = rubric;
        view.desk = self.desk.clone();
        view.answers = self.answers.clone();
        Some(crate::view::ReviewView {
            session: r.session,
            label: r.label.clone(),
            created_at_unix_ms: r.created_at_unix_ms,
            view: Box::new(view),
        })
    }

    /// The session followed for review before the connection was renewed, once: the console
    /// asks the director to follow it again.
    pub fn review_to_ask_again(&mut self) -> Option<i64> {
        self.review_again.take()
    }

    /// The director's answers to this console's requests.
    pub fn answers(&self) -> &DeskAnswers {
        &self.answers
    }

    fn start(&self, scenario: &str) -> Result<Replica, ModelError> {
        let s = self
            .content
            .scenario(scenario)
            .ok_or_else(|| ModelError::UnknownScenario(scenario.to_owned()))?;
        let grid = self
            .content
            .grids
            .iter()
            .map(|g| &g.value)
            .find(|g| g.id == s.observation_grid)
            .ok_or_else(|| ModelError::UnknownGrid {
                scenario: scenario.to_owned(),
                grid: s.observation_grid.to_string(),
            })?;
        Ok(Replica::new(s, grid.clone()))
    }

    fn fold(&mut self, entries: &[boussole_protocol::wire::LogEntry]) {
        if let Some(replica) = &mut self.replica
            && let Err(e) = replica.apply(entries)
        {
            self.error = Some(e.into());
        }
    }

    /// The view at `now` on the director's clock (`None` before the scenario is known).
    pub fn view(&self, now: Option<u64>) -> Option<SessionView> {
        let replica = self.replica.as_ref()?;
        let now = now.map_or(replica.engine().now(), Millis);
        let mut notices = self.notices.clone();
        if !self.content_in_sync {
            notices.push(
                "le contenu de cette console diffère de celui du directeur : mettez-le à jour"
                    .into(),
            );
        }
        if let Some(e) = &self.error {
            notices.push(e.to_string());
        }
        Some(SessionView {
            engine: replica.at(now),
            now: now.max(replica.engine().now()),
            me: self.me.clone(),
            observer: self.observer,
            room: self.room.clone(),
            poses: self.poses.clone(),
            sights: self.sights.clone(),
            link: self.link.clone(),
            notices,
            immersions: immersions(&self.content),
            register: self.register.clone(),
            synthesis: self.synthesis.clone(),
            rubric: rubric_of(&self.content, &replica.engine().scenario().rubric),
            desk: self.desk.clone(),
            review: self.review().map(Box::new),
            answers: self.answers.clone(),
        })
    }

    /// The room as the director last reported it (pairing window, links).
    pub fn room(&self) -> &RoomStatus {
        &self.room
    }

    /// The person register, as the director last sent it.
    pub fn register(&self) -> &boussole_director::register::RegisterView {
        &self.register
    }

    /// The director's last answer to this console's request for a synthesis.
    pub fn synthesis(&self) -> Option<&boussole_director::synthesis::SynthesisReply> {
        self.synthesis.as_ref()
    }

    /// The director of the day's desk, once it sent one.
    pub fn desk(&self) -> Option<&boussole_director::desk::DeskView> {
        self.desk.as_ref()
    }

    /// The director's messages for the facilitator, oldest first.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// The connection's state.
    pub fn link(&self) -> &LinkState {
        &self.link
    }

    /// Why the session cannot be shown, if it cannot.
    pub fn error(&self) -> Option<&ModelError> {
        self.error.as_ref()
    }

    /// The log entries folded so far.
    pub fn log_len(&self) -> u64 {
        self.replica.as_ref().map_or(0, |r| r.next_seq() - 1)
    }

    /// The engine as the log leaves it, once the scenario is known.
    pub fn replica(&self) -> Option<&Replica> {
        self.replica.as_ref()
    }
}
