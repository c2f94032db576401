//! Discovery: an announced director is found by browsing (skipped, with the reason printed,
//! where this machine cannot loop multicast back to itself), and addresses typed by hand are
//! parsed or refused clearly.

use boussole_protocol::discovery::{
    AddrError, AnnounceError, DirectorAddr, DirectorInfo, announce, browse, find,
    parse_director_addr,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Whether a UDP multicast datagram sent by this process comes back to it within a second:
/// without that, no mDNS test can pass here.
fn multicast_loops_back() -> Result<(), String> {
    let group = Ipv4Addr::new(239, 255, 77, 77);
    let rx = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| format!("bind: {e}"))?;
    let port = rx.local_addr().map_err(|e| e.to_string())?.port();
    rx.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)
        .map_err(|e| format!("joining a multicast group: {e}"))?;
    rx.set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    let tx = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| format!("bind: {e}"))?;
    tx.set_multicast_loop_v4(true).map_err(|e| e.to_string())?;
    tx.set_multicast_ttl_v4(1).map_err(|e| e.to_string())?;
    tx.send_to(b"boussole?", (group, port))
        .map_err(|e| format!("sending to a multicast group: {e}"))?;
    let mut buf = [0u8; 16];
    match rx.recv_from(&mut buf) {
        Ok((n, _)) if &buf[..n] == b"boussole?" => Ok(()),
        Ok(_) => Err("an unexpected datagram came back".into()),
        Err(e) => Err(format!("nothing came back within 1 s: {e}")),
    }
}

#[test]
fn an_announced_director_is_found_by_browsing() {
    if let Err(reason) = multicast_loops_back() {
        println!(
            "SKIPPED an_announced_director_is_found_by_browsing: multicast does not loop back here ({reason})"
        );
        return;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let nonce = std::process::id() ^ nanos;
    let name = format!("Salle test — Boussole {nonce}");
    let port = 40_000 + (nonce % 20_000) as u16;
    let director = DirectorInfo {
        name: name.clone(),
        port,
        version: 7,
        ca: Some(boussole_protocol::discovery::ca_fingerprint(b"ca")),
    };
    let announcement = announce(&director).unwrap();
    assert!(announcement.fullname().ends_with("._boussole._udp.local."));

    let started = Instant::now();
    let found = find(&name, Duration::from_secs(8)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let found = found.unwrap_or_else(|| {
        panic!("multicast loops back here, yet {name:?} was not found within 8 s")
    });
    assert_eq!(found.name, name);
    assert_eq!(found.port, port);
    assert_eq!(found.version, 7);
    assert_eq!(
        found.ca,
        Some(boussole_protocol::discovery::ca_fingerprint(b"ca"))
    );
    assert!(!found.addrs.is_empty());
    assert!(found.socket_addrs().iter().all(|a| a.port() == port));

    // A full browse lists it too, and returns after its timeout.
    let started = Instant::now();
    let all = browse(Duration::from_secs(3)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(all.iter().any(|f| f.name == name), "{all:?}");
    drop(announcement);
}

#[test]
fn a_browse_with_nothing_announced_returns_after_its_timeout() {
    let started = Instant::now();
    let found = find("no such director, surely", Duration::from_millis(500)).unwrap();
    assert_eq!(found, None);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn bad_announcements_are_refused_before_touching_the_network() {
    let bad = |name: &str, port| {
        announce(&DirectorInfo {
            name: name.into(),
            port,
            version: 1,
            ca: None,
        })
        .unwrap_err()
    };
    assert!(matches!(bad("", 4433), AnnounceError::BadName { .. }));
    assert!(matches!(bad("  ", 4433), AnnounceError::BadName { .. }));
    assert!(matches!(bad("a\nb", 4433), AnnounceError::BadName { .. }));
    assert!(matches!(
        bad(&"é".repeat(101), 4433),
        AnnounceError::BadName { .. }
    ));
    assert!(matches!(bad("Régie", 0), AnnounceError::NoPort));
    assert!(bad("", 4433).to_string().contains("empty"));
}

#[test]
fn addresses_typed_by_hand_are_parsed() {
    let ok = |s: &str, host: &str, port| {
        assert_eq!(
            parse_director_addr(s).unwrap(),
            DirectorAddr {
                host: host.into(),
                port
            },
            "{s}"
        );
    };
    ok("192.168.1.20:4433", "192.168.1.20", 4433);
    ok("  10.0.0.1:1 ", "10.0.0.1", 1);
    ok("[fe80::1]:4433", "fe80::1", 4433);
    ok("[::1]:65535", "::1", 65535);
    ok("regie.local:4433", "regie.local", 4433);
    ok("regie-2:4433", "regie-2", 4433);

    let addr = parse_director_addr("127.0.0.1:4433").unwrap();
    assert_eq!(addr.ip(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    assert_eq!(
        addr.resolve().unwrap(),
        vec![SocketAddr::from(([127, 0, 0, 1], 4433))]
    );
    assert!(
        parse_director_addr("localhost:4433")
            .unwrap()
            .resolve()
            .unwrap()
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 4433)
    );
}

#[test]
fn bad_addresses_say_what_is_wrong() {
    for (s, expected) in [
        (
            "192.168.1.20",
            AddrError::MissingPort("192.168.1.20".into()),
        ),
        ("regie.local", AddrError::MissingPort("regie.local".into())),
        ("[::1]", AddrError::MissingPort("[::1]".into())),
        (
            "192.168.1.20:0",
            AddrError::BadPort("192.168.1.20:0".into()),
        ),
        (
            "192.168.1.20:65536",
            AddrError::BadPort("192.168.1.20:65536".into()),
        ),
        (
            "192.168.1.20:http",
            AddrError::BadPort("192.168.1.20:http".into()),
        ),
        ("192.168.1.20:", AddrError::BadPort("192.168.1.20:".into())),
        (":4433", AddrError::BadHost(":4433".into())),
        ("fe80::1:4433", AddrError::BadHost("fe80::1:4433".into())),
        (
            "[not-ipv6]:4433",
            AddrError::BadHost("[not-ipv6]:4433".into()),
        ),
        ("[::1:4433", AddrError::BadHost("[::1:4433".into())),
        ("régie:4433", AddrError::BadHost("régie:4433".into())),
        ("a b:4433", AddrError::BadHost("a b:4433".into())),
        ("-regie:4433", AddrError::BadHost("-regie:4433".into())),
        ("", AddrError::MissingPort(String::new())),
    ] {
        let err = parse_director_addr(s).unwrap_err();
        assert_eq!(err, expected, "{s:?}");
        assert!(err.to_string().contains("director address"), "{err}");
    }
}

/// Two rooms' laptops on one network: a paired device takes its own director whatever the
/// names' order, an older director without a fingerprint only when its own is absent, another
/// room's never; a device not paired yet takes the first that speaks its protocol.
#[test]
fn a_paired_device_picks_its_own_director_among_several() {
    use boussole_protocol::discovery::{Found, ca_fingerprint, pick};
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    let found = |name: &str, last: u8, version: u32, ca: Option<&[u8]>| Found {
        name: name.into(),
        addrs: vec![IpAddr::V4(Ipv4Addr::new(192, 168, 1, last))],
        port: 4433,
        version,
        ca: ca.map(ca_fingerprint),
    };
    let at = |last: u8| Some(SocketAddr::from(([192, 168, 1, last], 4433)));
    let mine: &[u8] = b"room 2's CA";
    let other: &[u8] = b"room 1's CA";
    let list = vec![
        found("Salle 1", 1, 5, Some(other)),
        found("Salle 2", 2, 5, Some(mine)),
        found("Salle 3", 3, 4, Some(mine)),
    ];
    assert_eq!(pick(&list, 5, Some(mine)), at(2));
    assert_eq!(
        pick(&list, 5, None),
        at(1),
        "not paired: the first that speaks 5"
    );
    assert_eq!(pick(&list, 5, Some(b"a third CA")), None);
    assert_eq!(pick(&list[..1], 5, Some(mine)), None, "another room's only");
    let older = vec![
        found("Ancienne", 4, 5, None),
        found("Salle 1", 1, 5, Some(other)),
    ];
    assert_eq!(
        pick(&older, 5, Some(mine)),
        at(4),
        "no fingerprint: still tried"
    );
    let both = vec![
        found("Ancienne", 4, 5, None),
        found("Salle 2", 2, 5, Some(mine)),
    ];
    assert_eq!(
        pick(&both, 5, Some(mine)),
        at(2),
        "its own before an unknown one"
    );
    assert_eq!(pick(&[], 5, Some(mine)), None);
    // The fingerprint: 32 hex digits, the same for the same CA, another for another.
    assert_eq!(ca_fingerprint(mine).len(), 32);
    assert_eq!(ca_fingerprint(mine), ca_fingerprint(b"room 2's CA"));
    assert_ne!(ca_fingerprint(mine), ca_fingerprint(other));
}
