//! The laptop's own network, as the devices reach it: the director looks at its addresses every
//! few seconds ([`NETWORK_EVERY`]) and tells the facilitator's consoles, in French, when the
//! laptop leaves the network, comes back, or changes address mid-day (another Wi-Fi, a cable
//! unplugged). Devices that found the director on the network browse again on their own
//! (`boussole_protocol::device_session`), and the announcement follows the new address (mDNS
//! with automatic addresses); nothing a device noted is lost meanwhile, it waits in its outbox.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

/// How often the director reads the laptop's addresses.
pub const NETWORK_EVERY: Duration = Duration::from_secs(3);

/// The addresses devices can reach this laptop at, among `all` (every interface's): loopback,
/// unspecified and IPv6 link-local addresses are left out (a device never uses them to find
/// the director).
pub fn reachable(all: impl IntoIterator<Item = IpAddr>) -> BTreeSet<IpAddr> {
    all.into_iter()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .filter(|ip| match ip {
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
            IpAddr::V4(_) => true,
        })
        .collect()
}

/// This machine's reachable addresses now ([`reachable`] of every interface's); empty when
/// they cannot be read.
pub fn current() -> BTreeSet<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(list) => reachable(list.into_iter().map(|i| i.ip())),
        Err(e) => {
            tracing::warn!("adresses réseau illisibles : {e}");
            BTreeSet::new()
        }
    }
}

/// What the director last saw of the laptop's addresses.
#[derive(Debug, Default)]
pub struct NetworkWatch {
    last: Option<BTreeSet<IpAddr>>,
}

impl NetworkWatch {
    /// Takes the addresses seen now; returns what the facilitator should read when devices are
    /// affected: the laptop left the network, came back, or lost the address devices were
    /// using. The first reading, and an address added beside those that stay (a second
    /// interface), say nothing.
    pub fn observe(&mut self, now: BTreeSet<IpAddr>) -> Option<String> {
        let before = self.last.replace(now.clone())?;
        if before == now {
            return None;
        }
        let lost = before.iter().any(|ip| !now.contains(ip));
        match (before.is_empty(), now.is_empty()) {
            (_, true) => Some(
                "Cet ordinateur n'est plus sur le réseau : les appareils ne joignent plus la \
                 régie. Rebranchez le câble ou reconnectez le Wi-Fi de la salle. Rien n'est \
                 perdu : chaque appareil garde ce qu'il note et l'envoie à son retour."
                    .to_owned(),
            ),
            (true, false) => Some(format!(
                "Cet ordinateur est de nouveau sur le réseau ({}) : les appareils retrouvent la \
                 régie d'eux-mêmes, en moins d'une minute.",
                shown(&now)
            )),
            (false, false) if lost => Some(format!(
                "L'adresse de cet ordinateur sur le réseau a changé ({} → {}) : les appareils \
                 retrouvent la régie d'eux-mêmes, en moins d'une minute, et envoient ensuite \
                 ce qu'ils ont noté entre-temps. Rien n'est perdu.",
                shown(&before),
                shown(&now)
            )),
            (false, false) => None,
        }
    }
}

/// Up to two addresses, IPv4 first, for a message.
fn shown(addrs: &BTreeSet<IpAddr>) -> String {
    let mut list: Vec<&IpAddr> = addrs.iter().collect();
    list.sort_by_key(|ip| ip.is_ipv6());
    let mut text = list
        .iter()
        .take(2)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > 2 {
        text.push_str(", …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(list: &[&str]) -> BTreeSet<IpAddr> {
        list.iter()
            .map(|s| s.parse().expect("an address"))
            .collect()
    }

    #[test]
    fn only_addresses_a_device_can_reach_count() {
        let all = set(&[
            "127.0.0.1",
            "::1",
            "0.0.0.0",
            "fe80::1",
            "192.168.1.12",
            "2001:db8::5",
        ]);
        assert_eq!(reachable(all), set(&["192.168.1.12", "2001:db8::5"]));
    }

    #[test]
    fn the_facilitator_is_told_when_devices_are_affected() {
        let mut watch = NetworkWatch::default();
        assert_eq!(watch.observe(set(&["192.168.1.12"])), None, "first reading");
        assert_eq!(watch.observe(set(&["192.168.1.12"])), None, "unchanged");
        assert_eq!(
            watch.observe(set(&["192.168.1.12", "10.8.0.2"])),
            None,
            "an interface added beside: devices keep the address they use"
        );
        let changed = watch.observe(set(&["10.8.0.2"])).expect("an address lost");
        assert!(
            changed.contains("10.8.0.2, 192.168.1.12 → 10.8.0.2"),
            "{changed}"
        );
        assert!(changed.contains("Rien n'est perdu"), "{changed}");
        let gone = watch.observe(BTreeSet::new()).expect("off the network");
        assert!(gone.contains("n'est plus sur le réseau"), "{gone}");
        assert!(gone.contains("Rebranchez"), "{gone}");
        assert_eq!(watch.observe(BTreeSet::new()), None, "said once");
        let back = watch
            .observe(set(&["2001:db8::5", "192.168.4.20", "10.1.1.1"]))
            .expect("back on the network");
        assert!(
            back.contains("de nouveau sur le réseau (10.1.1.1, 192.168.4.20, …)"),
            "{back}"
        );
        for text in [changed, gone, back] {
            assert!(!text.contains("--"), "no flag named: {text}");
        }
    }
}
