//! A device's ledger of cue firings, without I/O: the director sends a firing until the device's
//! `CueApplied` is committed, so a device may receive one several times (a reconnection, a
//! retransmission). Each firing is applied once, and acknowledged every time it comes, with
//! the device time it starts at. The game client's link and the simulated devices both keep
//! one.

use crate::clock::ClockSync;
use crate::event::DeviceEvent;
use std::collections::{BTreeMap, BTreeSet};

/// The firings a device applied, each with the `seq` of its first `CueApplied`.
#[derive(Debug, Clone, Default)]
pub struct CueLedger {
    first_seq: BTreeMap<u64, u64>,
}

/// Whether a firing is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// First time: apply it, then record its acknowledgement's `seq` with
    /// [`CueLedger::applied`].
    First,
    /// Applied already: acknowledge it again, do not apply it again.
    Again {
        /// Whether the director had acknowledged the first `CueApplied` (then it should not
        /// have sent the firing again: a director fault worth counting).
        after_ack: bool,
    },
}

/// A firing as the device takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// The firing.
    pub instance: u64,
    /// The device time the cue starts at: its scheduled start on this clock, or now if that
    /// is past (or the clock is not synchronised yet), ms.
    pub device_ms: u64,
    /// The scheduled start on the device clock, ms, once the clock is synchronised.
    pub start_local_ms: Option<u64>,
    /// New or not.
    pub arrival: Arrival,
}

impl Received {
    /// The acknowledgement to put in the outbox and send.
    pub fn ack(&self) -> DeviceEvent {
        DeviceEvent::CueApplied {
            instance: self.instance,
            device_ms: self.device_ms,
        }
    }
}

impl CueLedger {
    /// The ledger after a restart: the `CueApplied`s still in the outbox (not yet committed)
    /// count as applied, so their firings are not applied twice.
    pub fn from_pending(pending: &[(u64, DeviceEvent)]) -> Self {
        let mut ledger = Self::default();
        for (seq, event) in pending {
            if let DeviceEvent::CueApplied { instance, .. } = event {
                ledger.first_seq.entry(*instance).or_insert(*seq);
            }
        }
        ledger
    }

    /// Takes firing `instance`, scheduled at `start_at_ms` on the director's clock, arriving at
    /// `now_ms` on the device's; `acked`: the event `seq`s the director has acknowledged.
    pub fn receive(
        &self,
        instance: u64,
        start_at_ms: u64,
        clock: &ClockSync,
        now_ms: u64,
        acked: &BTreeSet<u64>,
    ) -> Received {
        let start_local_ms = clock.to_local(start_at_ms, now_ms);
        let device_ms = start_local_ms.map_or(now_ms, |start| start.max(now_ms));
        let arrival = match self.first_seq.get(&instance) {
            Some(first) => Arrival::Again {
                after_ack: acked.contains(first),
            },
            None => Arrival::First,
        };
        Received {
            instance,
            device_ms,
            start_local_ms,
            arrival,
        }
    }

    /// Records that firing `instance` was applied, its acknowledgement numbered `seq`.
    pub fn applied(&mut self, instance: u64, seq: u64) {
        self.first_seq.entry(instance).or_insert(seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firing_is_applied_once_and_acknowledged_each_time() {
        let clock = ClockSync::default();
        let mut ledger = CueLedger::default();
        let none = BTreeSet::new();
        let first = ledger.receive(7, 5_000, &clock, 1_200, &none);
        assert_eq!(first.arrival, Arrival::First);
        // No clock sync yet: it starts now.
        assert_eq!(
            first.ack(),
            DeviceEvent::CueApplied {
                instance: 7,
                device_ms: 1_200
            }
        );
        assert_eq!(first.start_local_ms, None);
        ledger.applied(7, 3);
        let again = ledger.receive(7, 5_000, &clock, 1_900, &none);
        assert_eq!(again.arrival, Arrival::Again { after_ack: false });
        let acked = BTreeSet::from([3]);
        let late = ledger.receive(7, 5_000, &clock, 2_500, &acked);
        assert_eq!(late.arrival, Arrival::Again { after_ack: true });
        assert_eq!(
            ledger.receive(8, 5_000, &clock, 2_500, &acked).arrival,
            Arrival::First
        );
    }

    #[test]
    fn acknowledgements_left_in_the_outbox_count_as_applied_after_a_restart() {
        let pending = vec![
            (
                4,
                DeviceEvent::CueApplied {
                    instance: 9,
                    device_ms: 10,
                },
            ),
            (5, DeviceEvent::CueFinished { instance: 9 }),
        ];
        let ledger = CueLedger::from_pending(&pending);
        let clock = ClockSync::default();
        let none = BTreeSet::new();
        assert_eq!(
            ledger.receive(9, 0, &clock, 0, &none).arrival,
            Arrival::Again { after_ack: false }
        );
        assert_eq!(
            ledger.receive(10, 0, &clock, 0, &none).arrival,
            Arrival::First
        );
    }
}
