//! Which simulated device sits where: one device per station of a scenario (room screen,
//! terminals, headset), extra devices as second terminals, and which puzzles each device
//! answers when two share a station.

use crate::answer::answer_station;
use boussole_content::cue::DeviceRole;
use boussole_content::ids::{PuzzleId, StationId};
use boussole_content::scenario::Scenario;
use boussole_protocol::wire::Role;
use boussole_protocol::{DeviceId, ParticipantId};
use std::collections::{BTreeMap, BTreeSet};

/// A device's place in the room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seat {
    /// The device id, as paired and registered.
    pub device: DeviceId,
    /// What it is.
    pub role: Role,
    /// Its station, if any.
    pub station: Option<StationId>,
    /// Who plays at it: answers and hint requests are attributed to them.
    pub participant: Option<ParticipantId>,
    /// The puzzles it answers: `None` for every puzzle answered at its station (see
    /// [`deal`]).
    pub puzzles: Option<BTreeSet<PuzzleId>>,
}

pub use boussole_protocol::manifest::wire_role;

/// `devices` seats for `scenario`: the first ones one per station, in the scenario's order,
/// named `<prefix><station>`; the next ones second (third…) terminals at the terminal
/// stations in turn, named `<prefix><station>-2`… Fewer devices than stations leave the last
/// stations empty (their puzzles are then never answered). No participants; puzzles dealt
/// with [`deal`].
pub fn seats(scenario: &Scenario, devices: usize, prefix: &str) -> Vec<Seat> {
    let mut out: Vec<Seat> = scenario
        .stations
        .iter()
        .take(devices)
        .map(|s| Seat {
            device: DeviceId(format!("{prefix}{}", s.id)),
            role: wire_role(s.role),
            station: Some(s.id.clone()),
            participant: None,
            puzzles: None,
        })
        .collect();
    let terminals: Vec<&StationId> = scenario
        .stations
        .iter()
        .filter(|s| s.role == DeviceRole::Terminal)
        .map(|s| &s.id)
        .collect();
    let mut copies: BTreeMap<&StationId, usize> = BTreeMap::new();
    for i in 0..devices.saturating_sub(out.len()) {
        let Some(station) = terminals.get(i % terminals.len().max(1)) else {
            break;
        };
        let n = copies.entry(station).or_insert(1);
        *n += 1;
        out.push(Seat {
            device: DeviceId(format!("{prefix}{station}-{n}")),
            role: Role::Terminal,
            station: Some((*station).clone()),
            participant: None,
            puzzles: None,
        });
    }
    deal(scenario, &mut out);
    out
}

/// Where several devices share a station, deals the puzzles answered there among them in
/// turn, in the scenario's order (two tablets at `poste_stock`: the first answers
/// `p_rumeur`, the second `p_casque`), so that no answer is typed twice. A seat whose
/// `puzzles` is already set keeps it and is not dealt to.
pub fn deal(scenario: &Scenario, seats: &mut [Seat]) {
    let mut at: BTreeMap<StationId, Vec<usize>> = BTreeMap::new();
    for (i, seat) in seats.iter().enumerate() {
        if let (Some(station), None) = (&seat.station, &seat.puzzles) {
            at.entry(station.clone()).or_default().push(i);
        }
    }
    for (station, idx) in at {
        if idx.len() < 2 {
            continue;
        }
        for &i in &idx {
            if let Some(seat) = seats.get_mut(i) {
                seat.puzzles = Some(BTreeSet::new());
            }
        }
        let answered = scenario
            .puzzles
            .iter()
            .filter(|p| answer_station(p) == Some(&station));
        for (n, puzzle) in answered.enumerate() {
            let Some(&i) = idx.get(n % idx.len()) else {
                continue;
            };
            if let Some(set) = seats.get_mut(i).and_then(|s| s.puzzles.as_mut()) {
                set.insert(puzzle.id.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boussole_content::ContentSet;
    use std::path::PathBuf;

    fn scape_attitudes() -> Scenario {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
        let (set, problems) = ContentSet::load_dir(&root);
        assert!(problems.is_empty(), "{problems:?}");
        set.scenarios
            .into_iter()
            .map(|s| s.value)
            .find(|s| s.id.as_str() == "scape_attitudes")
            .expect("the shipped scenario")
    }

    #[test]
    fn six_devices_fill_every_station_then_share_a_terminal() {
        let scenario = scape_attitudes();
        let seats = seats(&scenario, 6, "sim-");
        let names: Vec<&str> = seats.iter().map(|s| s.device.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "sim-ecran",
                "sim-poste_quai",
                "sim-poste_stock",
                "sim-poste_bureau",
                "sim-casque",
                "sim-poste_quai-2"
            ]
        );
        assert_eq!(seats[4].role, Role::Headset);
        // Three puzzles are answered at poste_quai: dealt in turn, none twice.
        let first = seats[1].puzzles.clone().expect("dealt");
        let second = seats[5].puzzles.clone().expect("dealt");
        assert_eq!(first.len() + second.len(), 3);
        assert!(first.is_disjoint(&second));
        assert_eq!(
            seats[2].puzzles, None,
            "alone at its station: every puzzle there"
        );
    }

    #[test]
    fn every_puzzle_is_answered_by_exactly_one_seat() {
        let scenario = scape_attitudes();
        let seats = seats(&scenario, 7, "sim-");
        for puzzle in &scenario.puzzles {
            let takers = seats
                .iter()
                .filter(|s| {
                    s.station.as_ref() == answer_station(puzzle)
                        && s.puzzles.as_ref().is_none_or(|p| p.contains(&puzzle.id))
                })
                .count();
            assert_eq!(takers, 1, "{}", puzzle.id);
        }
    }
}
