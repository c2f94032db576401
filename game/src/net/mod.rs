//! The device's side of the protocol, without Bevy: the [`link`] to the director on its own
//! thread, and the pure rules the screens apply to what it hands over (the countdown, the
//! verdict on an answer). [`plugin`] polls the link each frame into Bevy resources and
//! messages.

pub mod link;
pub mod plugin;

use boussole_content::ids::PuzzleId;
use boussole_protocol::wire::Snapshot;
use std::collections::BTreeMap;

pub use link::{DeviceLink, LinkConfig, LinkError, LinkState, LinkStats, NetEvent};

/// Time left on the countdown at `director_now_ms` (director session clock), ms; negative once
/// it ran out. A paused timer shows what the snapshot says; a running one counts down from
/// the snapshot's time, so it keeps going while the director is away.
pub fn remaining_ms(snapshot: &Snapshot, director_now_ms: u64) -> i64 {
    if !snapshot.timer_running {
        return snapshot.remaining_ms;
    }
    let elapsed = i64::try_from(director_now_ms.saturating_sub(snapshot.at_ms)).unwrap_or(i64::MAX);
    snapshot.remaining_ms.saturating_sub(elapsed)
}

/// `mm:ss` for the room screen, rounded up (a countdown shows 00:01 until it reaches zero);
/// `00:00` once it ran out, minutes past 99 kept (`125:00`).
pub fn format_countdown(remaining_ms: i64) -> String {
    let secs = (remaining_ms.max(0) + 999) / 1000;
    format!("{:02}:{:02}", secs / 60, secs % 60)
}

/// Where an answer sent from a station stands. The director decides: a station only learns
/// it from the snapshot that follows the answer's acknowledgement (the director sends an
/// input's effects, the acknowledgement among them, before that input's snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Sent (or waiting in the outbox), not yet committed: "réponse envoyée".
    Sent {
        /// The answer event's `seq`.
        seq: u64,
    },
    /// Committed; the next snapshot tells.
    Committed,
    /// The snapshot after it shows the puzzle solved.
    Right,
    /// The snapshot after it shows the puzzle still open.
    Wrong,
}

/// The verdict on each puzzle's last answer from this device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdicts {
    by_puzzle: BTreeMap<PuzzleId, Verdict>,
}

impl Verdicts {
    /// An answer to `puzzle` went out as event `seq` (replaces any earlier verdict).
    pub fn sent(&mut self, puzzle: PuzzleId, seq: u64) {
        self.by_puzzle.insert(puzzle, Verdict::Sent { seq });
    }

    /// The director committed event `seq`.
    pub fn acked(&mut self, seq: u64) {
        for v in self.by_puzzle.values_mut() {
            if *v == (Verdict::Sent { seq }) {
                *v = Verdict::Committed;
            }
        }
    }

    /// A snapshot arrived: committed answers get their verdict, and a puzzle solved
    /// (by anyone) is right whatever its state.
    pub fn snapshot(&mut self, snapshot: &Snapshot) {
        for (puzzle, v) in &mut self.by_puzzle {
            if snapshot.solved.contains(puzzle) {
                *v = Verdict::Right;
            } else if *v == Verdict::Committed {
                *v = Verdict::Wrong;
            }
        }
    }

    /// The verdict on `puzzle`'s last answer, if one was sent.
    pub fn get(&self, puzzle: &PuzzleId) -> Option<Verdict> {
        self.by_puzzle.get(puzzle).copied()
    }

    /// Forgets `puzzle`'s verdict (the participant starts a new answer after a wrong one).
    pub fn clear(&mut self, puzzle: &PuzzleId) {
        self.by_puzzle.remove(puzzle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(running: bool, remaining_ms: i64, at_ms: u64) -> Snapshot {
        Snapshot {
            scenario: "s".into(),
            phase: None,
            timer_running: running,
            remaining_ms,
            at_ms,
            open: vec![PuzzleId::from("p1")],
            solved: vec![],
            ended: None,
        }
    }

    #[test]
    fn countdown_runs_from_the_snapshot_and_stops_when_paused() {
        let s = snap(true, 60_000, 10_000);
        assert_eq!(remaining_ms(&s, 10_000), 60_000);
        assert_eq!(remaining_ms(&s, 25_500), 44_500);
        assert_eq!(
            remaining_ms(&s, 5_000),
            60_000,
            "a clock behind the snapshot"
        );
        assert_eq!(remaining_ms(&s, 80_000), -10_000);
        assert_eq!(remaining_ms(&snap(false, 60_000, 10_000), 99_000), 60_000);
    }

    #[test]
    fn countdown_is_shown_rounded_up() {
        assert_eq!(format_countdown(3_600_000), "60:00");
        assert_eq!(format_countdown(44_500), "00:45");
        assert_eq!(format_countdown(1), "00:01");
        assert_eq!(format_countdown(0), "00:00");
        assert_eq!(format_countdown(-5_000), "00:00");
        assert_eq!(format_countdown(7_500_000), "125:00");
    }

    #[test]
    fn verdict_waits_for_the_snapshot_after_the_ack() {
        let p = PuzzleId::from("p1");
        let mut v = Verdicts::default();
        v.sent(p.clone(), 7);
        let open = snap(true, 1, 1);
        v.snapshot(&open);
        assert_eq!(
            v.get(&p),
            Some(Verdict::Sent { seq: 7 }),
            "not committed yet"
        );
        v.acked(6);
        assert_eq!(v.get(&p), Some(Verdict::Sent { seq: 7 }));
        v.acked(7);
        assert_eq!(v.get(&p), Some(Verdict::Committed));
        v.snapshot(&open);
        assert_eq!(v.get(&p), Some(Verdict::Wrong));
        v.sent(p.clone(), 9);
        v.acked(9);
        let mut solved = open.clone();
        solved.open.clear();
        solved.solved.push(p.clone());
        v.snapshot(&solved);
        assert_eq!(v.get(&p), Some(Verdict::Right));
        v.clear(&p);
        assert_eq!(v.get(&p), None);
    }
}
