//! Polls the device link each frame into Bevy: the link's state and the session's state as
//! resources ([`Connection`], [`Room`]), cues, hints and stop-alls as messages; and sends the
//! [`Report`]s the role plugins write. Without a link (preview, tests) the same resources and
//! messages are filled by whoever drives the app.

use super::{DeviceLink, LinkState, NetEvent, Verdicts, remaining_ms};
use crate::GameSystems;
use crate::content::GameContent;
use bevy::prelude::*;
use boussole_content::ids::{CueId, PuzzleId};
use boussole_content::scenario::Scenario;
use boussole_protocol::DeviceEvent;
use boussole_protocol::wire::{Snapshot, SoundSettings};
use std::sync::Arc;

/// The link to the director, when there is one.
#[derive(Resource, Debug)]
pub struct NetLink(pub DeviceLink);

/// What the device knows of its connection.
#[derive(Resource, Debug, Default)]
pub struct Connection {
    /// The link's state; `None` before it first reports (or without a link).
    pub state: Option<LinkState>,
    /// Lines from the director and the device's own problems, newest last.
    pub notices: Vec<String>,
    /// Whether the device holds the director's content (from the last welcome).
    pub content_in_sync: Option<bool>,
}

/// The session as this device last heard it, kept when the director is lost.
#[derive(Resource, Debug, Default)]
pub struct Room {
    /// The last snapshot.
    pub snapshot: Option<Snapshot>,
    /// The scenario the snapshot names, from the device's content.
    pub scenario: Option<Arc<Scenario>>,
    /// The device's clock this frame, ms (the link's clock, so cue starts compare with it).
    pub local_now_ms: u64,
    /// The director's session clock this frame, ms: the clock sync's estimate, else the last
    /// snapshot's time plus the local time since it arrived.
    pub director_now_ms: Option<u64>,
    /// Verdicts on this device's answers.
    pub verdicts: Verdicts,
    /// Device clock when the last snapshot arrived, ms.
    pub snapshot_local_ms: u64,
}

impl Room {
    /// Time left on the countdown now, ms, if a snapshot arrived.
    pub fn remaining_ms(&self) -> Option<i64> {
        let snapshot = self.snapshot.as_ref()?;
        Some(remaining_ms(
            snapshot,
            self.director_now_ms.unwrap_or(snapshot.at_ms),
        ))
    }

    /// Takes `snapshot` as the session's state (and resolves its scenario in `content`).
    pub fn apply_snapshot(&mut self, snapshot: Snapshot, content: &GameContent) {
        self.verdicts.snapshot(&snapshot);
        if self
            .scenario
            .as_ref()
            .is_none_or(|s| s.id.as_str() != snapshot.scenario)
        {
            self.scenario = content.scenario(&snapshot.scenario);
        }
        self.snapshot_local_ms = self.local_now_ms;
        self.snapshot = Some(snapshot);
    }

    /// Whether `puzzle` is open now (and the game not over).
    pub fn is_open(&self, puzzle: &PuzzleId) -> bool {
        self.snapshot
            .as_ref()
            .is_some_and(|s| s.ended.is_none() && s.open.contains(puzzle))
    }
}

/// A cue firing to apply on this device (already acknowledged by the link).
#[derive(Message, Clone, Debug, PartialEq)]
pub struct CueFired {
    /// The firing.
    pub instance: u64,
    /// The cue.
    pub cue: CueId,
    /// When to start it on the device clock ([`Room::local_now_ms`]); `None`: now.
    pub start_local_ms: Option<u64>,
}

/// The director shows a hint.
#[derive(Message, Clone, Debug, PartialEq)]
pub struct HintShown {
    /// The puzzle.
    pub puzzle: PuzzleId,
    /// The rung, from 1.
    pub level: u8,
}

/// The facilitator started (`Some`) or stopped (`None`) this headset's immersion; sent again
/// on each connection while it runs.
#[derive(Message, Clone, Debug, PartialEq)]
pub struct ImmersionOrder {
    /// The immersion, `None` to stop.
    pub immersion: Option<boussole_content::ids::ImmersionId>,
    /// Who wears the headset.
    pub participant: Option<boussole_protocol::ParticipantId>,
    /// When the director started it, on its session clock (ms): where a 360° video stands.
    pub started_at_ms: Option<u64>,
    /// The wearer already finished a tutorial in this session: skip it.
    pub tutorial_done: bool,
}

/// How this device plays sound, as the facilitator set it ([`SoundSettings`]); the role's
/// defaults until the director says otherwise.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceSound(pub SoundSettings);

impl Default for DeviceSound {
    fn default() -> Self {
        Self(SoundSettings::default_for(
            boussole_protocol::wire::Role::Terminal,
        ))
    }
}

/// The facilitator paused (`true`) or resumed (`false`) this headset.
#[derive(Message, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PauseOrder(pub bool);

/// Stop every running cue now (the facilitator's panic button).
#[derive(Message, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopAllCues;

/// An event for the director (through the outbox).
#[derive(Message, Clone, Debug, PartialEq)]
pub struct Report(pub DeviceEvent);

/// Every event this app reported, with the `seq` it got (tests and `--stats`).
#[derive(Resource, Debug, Default)]
pub struct Reported {
    /// `(seq, event)`, in order.
    pub events: Vec<(u64, DeviceEvent)>,
    next_local_seq: u64,
}

impl Reported {
    /// The events alone, in the order they were reported.
    pub fn in_order(&self) -> Vec<DeviceEvent> {
        self.events.iter().map(|(_, e)| e.clone()).collect()
    }
}

/// Adds the resources, the messages and, when a [`NetLink`] is present, its polling.
pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<Connection>()
        .init_resource::<Room>()
        .init_resource::<Reported>()
        .init_resource::<DeviceSound>()
        .add_message::<PauseOrder>()
        .add_message::<CueFired>()
        .add_message::<HintShown>()
        .add_message::<StopAllCues>()
        .add_message::<ImmersionOrder>()
        .add_message::<Report>()
        .add_systems(Update, poll_link.in_set(GameSystems::Net))
        // After the role's logic, so an answer is on its way (and its verdict known) in the
        // frame it was given.
        .add_systems(
            Update,
            send_reports
                .after(GameSystems::Logic)
                .before(GameSystems::View),
        );
}

#[expect(
    clippy::too_many_arguments,
    reason = "one system hands each kind of link event to its own resource or message"
)]
fn poll_link(
    link: Option<Res<NetLink>>,
    mut room: ResMut<Room>,
    mut connection: ResMut<Connection>,
    mut content: ResMut<GameContent>,
    mut cues: MessageWriter<CueFired>,
    mut hints: MessageWriter<HintShown>,
    mut stops: MessageWriter<StopAllCues>,
    mut orders: MessageWriter<ImmersionOrder>,
    mut placements: MessageWriter<crate::placement::PlacementOrder>,
    (mut sound, mut pauses): (ResMut<DeviceSound>, MessageWriter<PauseOrder>),
    time: Res<Time>,
) {
    let Some(link) = link else {
        room.local_now_ms = u64::try_from(time.elapsed().as_millis()).unwrap_or(u64::MAX);
        let since = room.local_now_ms.saturating_sub(room.snapshot_local_ms);
        room.director_now_ms = room.snapshot.as_ref().map(|s| s.at_ms + since);
        return;
    };
    room.local_now_ms = link.0.local_ms();
    for event in link.0.poll() {
        match event {
            NetEvent::State(state) => connection.state = Some(state),
            NetEvent::Welcome {
                content_in_sync, ..
            } => connection.content_in_sync = Some(content_in_sync),
            NetEvent::Cue {
                instance,
                cue,
                start_local_ms,
                ..
            } => {
                cues.write(CueFired {
                    instance,
                    cue,
                    start_local_ms,
                });
            }
            NetEvent::StopAll => {
                stops.write(StopAllCues);
            }
            NetEvent::Hint { puzzle, level } => {
                hints.write(HintShown { puzzle, level });
            }
            NetEvent::Snapshot(snapshot) => room.apply_snapshot(snapshot, &content),
            NetEvent::Acked { seq } => room.verdicts.acked(seq),
            NetEvent::Notice(text) => connection.notices.push(text),
            NetEvent::Immersion {
                immersion,
                participant,
                started_at_ms,
                tutorial_done,
            } => {
                orders.write(ImmersionOrder {
                    immersion,
                    participant,
                    started_at_ms,
                    tutorial_done,
                });
            }
            NetEvent::Placement { role, station } => {
                placements.write(crate::placement::PlacementOrder { role, station });
            }
            NetEvent::Sound(settings) => {
                if sound.0 != settings {
                    sound.0 = settings;
                }
            }
            NetEvent::Pause { paused } => {
                pauses.write(PauseOrder(paused));
            }
            NetEvent::ContentProgress { .. } => {}
            NetEvent::ContentSynced { dir, .. } => {
                match GameContent::load(&dir.join("content"), &dir.join("assets")) {
                    Ok(loaded) => {
                        *content = loaded;
                        connection.content_in_sync = Some(true);
                        if let Some(s) = &room.snapshot {
                            room.scenario = content.scenario(&s.scenario);
                        }
                    }
                    Err(e) => connection.notices.push(e.to_string()),
                }
            }
        }
    }
    let since = room.local_now_ms.saturating_sub(room.snapshot_local_ms);
    room.director_now_ms = link
        .0
        .director_ms()
        .or_else(|| room.snapshot.as_ref().map(|s| s.at_ms + since));
}

fn send_reports(
    link: Option<Res<NetLink>>,
    mut reports: MessageReader<Report>,
    mut room: ResMut<Room>,
    mut reported: ResMut<Reported>,
    mut connection: ResMut<Connection>,
) {
    for Report(event) in reports.read() {
        let seq = match &link {
            Some(link) => match link.0.send(event.clone()) {
                Ok(seq) => seq,
                Err(e) => {
                    error!("{e}");
                    connection
                        .notices
                        .push(format!("événement non enregistré : {e}"));
                    continue;
                }
            },
            None => {
                reported.next_local_seq += 1;
                reported.next_local_seq
            }
        };
        if let DeviceEvent::Answer { puzzle, .. } = event {
            room.verdicts.sent(puzzle.clone(), seq);
        }
        reported.events.push((seq, event.clone()));
    }
}
