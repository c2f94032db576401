//! Finding the director on the LAN: it announces `_boussole._udp.local.` over mDNS (mdns-sd)
//! with its port and a TXT record (protocol version, director name, the fingerprint of its
//! certificate authority); devices browse for it, or are given `host:port` by hand when
//! multicast does not cross the network. A paired device takes only the director whose
//! fingerprint is its pinned CA's ([`pick`]), so two rooms' laptops on one network never mix,
//! and a laptop whose address changes mid-day is found again at its new one.
//!
//! Blocking calls with bounded timeouts; mdns-sd runs its own thread per daemon.

use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The mDNS service type the director announces (UDP: QUIC).
pub const SERVICE_TYPE: &str = "_boussole._udp.local.";

/// TXT key of the protocol version (decimal).
pub const TXT_VERSION: &str = "proto";

/// TXT key of the director's display name (UTF-8).
pub const TXT_NAME: &str = "name";

/// TXT key of the fingerprint of the director's certificate authority: [`ca_fingerprint`] of
/// its DER.
pub const TXT_CA: &str = "ca";

/// Longest director name, bytes: a TXT entry holds 255 bytes, key and `=` included.
pub const MAX_NAME_BYTES: usize = 200;

/// Longest mDNS instance name, bytes (one DNS label); longer names are cut there and the TXT
/// record keeps the whole name.
const MAX_INSTANCE_BYTES: usize = 63;

/// Why the director could not announce itself.
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    /// The name is empty, longer than [`MAX_NAME_BYTES`] or has control characters.
    #[error("discovery: director name {name:?}: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// Port 0 cannot be announced.
    #[error("discovery: port 0 cannot be announced")]
    NoPort,
    /// The mDNS daemon could not start or register the service.
    #[error("discovery: mDNS: {0}")]
    Mdns(#[from] mdns_sd::Error),
}

/// Why a browse could not run.
#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    /// The mDNS daemon could not start or browse.
    #[error("discovery: mDNS: {0}")]
    Mdns(#[from] mdns_sd::Error),
}

/// Why an address typed by hand was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    /// No `:port` at the end.
    #[error("director address {0:?}: expected host:port (IPv6 as [addr]:port)")]
    MissingPort(String),
    /// The port is not a number from 1 to 65535.
    #[error("director address {0:?}: the port must be a number from 1 to 65535")]
    BadPort(String),
    /// The host is empty, or neither an IP address nor a host name.
    #[error("director address {0:?}: the host must be an IP address or a host name")]
    BadHost(String),
}

/// What the director announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectorInfo {
    /// Display name shown on devices ("Salle 2 — Boussole"), 1 to [`MAX_NAME_BYTES`] bytes.
    pub name: String,
    /// The UDP port its QUIC endpoint listens on.
    pub port: u16,
    /// The protocol version it speaks.
    pub version: u32,
    /// [`ca_fingerprint`] of its certificate authority, so that paired devices tell it from
    /// another room's director; `None` announces none.
    pub ca: Option<String>,
}

/// A director found by [`browse`] or [`find`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Its display name (TXT `name`, else the mDNS instance name).
    pub name: String,
    /// Its addresses, IPv4 first, sorted.
    pub addrs: Vec<IpAddr>,
    /// Its QUIC port.
    pub port: u16,
    /// The protocol version it speaks (TXT `proto`).
    pub version: u32,
    /// Its certificate authority's fingerprint (TXT `ca`), when it announces one.
    pub ca: Option<String>,
}

impl Found {
    /// Every `address:port` to try, IPv4 first.
    pub fn socket_addrs(&self) -> Vec<SocketAddr> {
        self.addrs
            .iter()
            .map(|ip| SocketAddr::new(*ip, self.port))
            .collect()
    }
}

/// The director's announcement; it stays on the network until dropped (then mDNS "goodbye"
/// packets withdraw it).
pub struct Announcement {
    daemon: ServiceDaemon,
    fullname: String,
}

impl std::fmt::Debug for Announcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcement")
            .field("fullname", &self.fullname)
            .finish_non_exhaustive()
    }
}

impl Announcement {
    /// The mDNS instance's full name (`<name>._boussole._udp.local.`).
    pub fn fullname(&self) -> &str {
        &self.fullname
    }
}

impl Drop for Announcement {
    fn drop(&mut self) {
        // Both only queue a command for the daemon's thread; nothing here can block.
        if let Err(e) = self.daemon.unregister(&self.fullname) {
            tracing::debug!(error = %e, "discovery: unregister failed");
        }
        if let Err(e) = self.daemon.shutdown() {
            tracing::debug!(error = %e, "discovery: daemon shutdown failed");
        }
    }
}

/// Announces the director on every interface (loopback included) with its current and future
/// addresses.
///
/// # Errors
/// [`AnnounceError::BadName`], [`AnnounceError::NoPort`], [`AnnounceError::Mdns`] when the
/// daemon cannot start or register.
pub fn announce(director: &DirectorInfo) -> Result<Announcement, AnnounceError> {
    let name = director.name.as_str();
    let bad = |reason| AnnounceError::BadName {
        name: name.to_owned(),
        reason,
    };
    if name.trim().is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(bad("longer than 200 bytes"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("contains a control character"));
    }
    if director.port == 0 {
        return Err(AnnounceError::NoPort);
    }
    let instance = cut_at_char(name, MAX_INSTANCE_BYTES);
    let host = format!("boussole-{}.local.", slug(name));
    let mut txt = vec![
        (TXT_VERSION, director.version.to_string()),
        (TXT_NAME, name.to_owned()),
    ];
    if let Some(ca) = &director.ca {
        txt.push((TXT_CA, ca.clone()));
    }
    let info = ServiceInfo::new(SERVICE_TYPE, instance, &host, "", director.port, &txt[..])?
        .enable_addr_auto();
    let fullname = info.get_fullname().to_owned();
    let daemon = ServiceDaemon::new()?;
    daemon.register(info)?;
    Ok(Announcement { daemon, fullname })
}

/// Every director that answers within `timeout`, sorted by name (then port).
///
/// # Errors
/// [`BrowseError::Mdns`] when the daemon cannot start or browse.
pub fn browse(timeout: Duration) -> Result<Vec<Found>, BrowseError> {
    browse_until(timeout, |_| false)
}

/// The director named `name` (its TXT name), as soon as it answers, or `None` after
/// `timeout`.
///
/// # Errors
/// [`BrowseError::Mdns`] when the daemon cannot start or browse.
pub fn find(name: &str, timeout: Duration) -> Result<Option<Found>, BrowseError> {
    let found = browse_until(timeout, |f| f.name == name)?;
    Ok(found.into_iter().find(|f| f.name == name))
}

/// Browses until `timeout`, or until `done` says yes to a director just resolved.
fn browse_until(
    timeout: Duration,
    mut done: impl FnMut(&Found) -> bool,
) -> Result<Vec<Found>, BrowseError> {
    let deadline = Instant::now() + timeout;
    let daemon = ServiceDaemon::new()?;
    let events = match daemon.browse(SERVICE_TYPE) {
        Ok(events) => events,
        Err(e) => {
            let _ = daemon.shutdown();
            return Err(e.into());
        }
    };
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    while let Ok(event) = events.recv_deadline(deadline) {
        match event {
            ServiceEvent::ServiceResolved(service) => {
                let Some(version) = service
                    .get_property_val_str(TXT_VERSION)
                    .and_then(|v| v.parse().ok())
                else {
                    tracing::debug!(fullname = %service.get_fullname(), "discovery: no protocol version; not a director");
                    continue;
                };
                let instance = service
                    .get_fullname()
                    .strip_suffix(SERVICE_TYPE)
                    .and_then(|s| s.strip_suffix('.'))
                    .unwrap_or(service.get_fullname());
                let name = service
                    .get_property_val_str(TXT_NAME)
                    .unwrap_or(instance)
                    .to_owned();
                let mut addrs: Vec<IpAddr> = service
                    .get_addresses()
                    .iter()
                    .map(|a| a.to_ip_addr())
                    .collect();
                addrs.sort_by_key(|ip| (ip.is_ipv6(), *ip));
                addrs.dedup();
                let entry = Found {
                    name,
                    addrs,
                    port: service.get_port(),
                    version,
                    ca: service.get_property_val_str(TXT_CA).map(str::to_owned),
                };
                let stop = done(&entry);
                found.insert(service.get_fullname().to_owned(), entry);
                if stop {
                    break;
                }
            }
            ServiceEvent::ServiceRemoved(_, fullname) => {
                found.remove(&fullname);
            }
            _ => {}
        }
    }
    let _ = daemon.stop_browse(SERVICE_TYPE);
    let _ = daemon.shutdown();
    let mut list: Vec<Found> = found.into_values().collect();
    list.sort_by(|a, b| (&a.name, a.port).cmp(&(&b.name, b.port)));
    Ok(list)
}

/// The fingerprint a director announces for its certificate authority: the first 16 bytes of
/// the SHA-256 of its DER, as 32 lower-case hex digits (a TXT entry stays short; a collision
/// would only let a device try a director whose TLS it then refuses).
pub fn ca_fingerprint(ca_der: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(ca_der);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The address to connect to among the directors `found` by a browse: the first that speaks
/// `version` and, for a device paired to a director (`pinned_ca`, its CA's DER), whose
/// announced fingerprint is that CA's. A director that announces no fingerprint (an older
/// build) stays a candidate after those that match. `None`: none of them is this device's.
pub fn pick(found: &[Found], version: u32, pinned_ca: Option<&[u8]>) -> Option<SocketAddr> {
    let mine = pinned_ca.map(ca_fingerprint);
    let speaks = found.iter().filter(|f| f.version == version);
    let rank = |f: &Found| match (&mine, &f.ca) {
        (None, _) => Some(0),
        (Some(m), Some(ca)) if m == ca => Some(0),
        (Some(_), None) => Some(1),
        (Some(_), Some(_)) => None,
    };
    speaks
        .filter_map(|f| Some((rank(f)?, f)))
        .min_by_key(|(r, _)| *r)
        .and_then(|(_, f)| f.socket_addrs().into_iter().next())
}

/// A director address typed by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectorAddr {
    /// An IP address (IPv6 without brackets) or a host name.
    pub host: String,
    /// The port, 1 to 65535.
    pub port: u16,
}

impl DirectorAddr {
    /// The host as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The socket addresses to try: the IP itself, or what the system resolver gives for the
    /// host name (blocking; run it off the async executor).
    ///
    /// # Errors
    /// What the resolver says when the name does not resolve.
    pub fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        if let Some(ip) = self.ip() {
            return Ok(vec![SocketAddr::new(ip, self.port)]);
        }
        Ok((self.host.as_str(), self.port).to_socket_addrs()?.collect())
    }
}

/// Parses `host:port` typed on a device: `192.168.1.20:4433`, `[fe80::1]:4433`,
/// `regie.local:4433`. Surrounding spaces are ignored.
///
/// # Errors
/// [`AddrError::MissingPort`], [`AddrError::BadPort`], [`AddrError::BadHost`].
pub fn parse_director_addr(s: &str) -> Result<DirectorAddr, AddrError> {
    let text = s.trim();
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| AddrError::BadHost(s.to_owned()))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| AddrError::MissingPort(s.to_owned()))?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(AddrError::BadHost(s.to_owned()));
        }
        (host, port)
    } else {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| AddrError::MissingPort(s.to_owned()))?;
        // A bare IPv6 address has colons of its own: it needs brackets.
        if host.contains(':') || !is_host(host) {
            return Err(AddrError::BadHost(s.to_owned()));
        }
        (host, port)
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| AddrError::BadPort(s.to_owned()))?;
    Ok(DirectorAddr {
        host: host.to_owned(),
        port,
    })
}

/// An IPv4 address or a DNS host name (letters, digits, `-`, dot-separated labels of 1 to 63).
fn is_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// `name` cut to at most `max` bytes on a character boundary.
fn cut_at_char(name: &str, max: usize) -> &str {
    let mut end = name.len().min(max);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or(name)
}

/// A host-name label from a display name: lower-case ASCII letters and digits, other runs as
/// `-`, at most 40 bytes; `director` when nothing is left.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(40).collect();
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "director".to_owned()
    } else {
        out
    }
}
