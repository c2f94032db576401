//! The director of the day's local socket: how the console on the same laptop unlocks it,
//! creates the store on the first run, locks it, and gets its own pairing — never over the
//! network. A Unix socket in `$XDG_RUNTIME_DIR/boussole/` (folder mode 0700), each connection's
//! peer uid checked against ours (`SO_PEERCRED`); one JSON request and one JSON reply per
//! connection, each on one line.
//!
//! A passphrase travels as a [`Secret`]: its `Debug` prints nothing and its memory is wiped
//! when dropped (`zeroize`). The director never logs one.

use serde::{Deserialize, Serialize};
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroize as _;

/// The longest request line the director reads, bytes (a passphrase, a name: far below).
pub const MAX_REQUEST: u64 = 16 * 1024;

/// How long a client waits for the director's reply (opening a large store takes a while).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// A passphrase in memory: never printed, wiped when dropped.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Takes `text` (the caller's copy is moved, not copied).
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The text, to open the store with.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// What the console asks over the local socket.
#[derive(Debug, Serialize, Deserialize)]
pub enum LocalRequest {
    /// Where the director stands ([`LocalReply::Status`]).
    Status,
    /// First run only: create the store with this passphrase (checked by
    /// [`passphrase_weakness`]); the reply carries the recovery key, shown once, and the
    /// console's pairing.
    Create {
        /// The new passphrase.
        passphrase: Secret,
        /// Who creates it (the access log's actor).
        facilitator: String,
        /// The console's device id, paired in the reply.
        device: String,
    },
    /// Open the store and go on the network; or, already open, check the passphrase of a
    /// console that opens (the passphrase is asked each time a console opens, whoever opened
    /// the director). The reply carries the console's pairing.
    Unlock {
        /// The passphrase.
        passphrase: Secret,
        /// Who unlocks (the access log's actor; added to the list of facilitators).
        facilitator: String,
        /// The console's device id, paired in the reply.
        device: String,
    },
    /// Close the store and leave the network (devices wait and reconnect after the unlock).
    Lock,
    /// Change the store's passphrase (the director is unlocked): `current` is checked like an
    /// unlock (wrong tries counted), `new` by [`passphrase_weakness`]; the store is re-keyed
    /// in place and the change logged under the facilitator who unlocked.
    ChangePassphrase {
        /// The passphrase now.
        current: Secret,
        /// The new one.
        new: Secret,
    },
    /// Locked or first run only: replace the store by a backup, opened with the recovery key
    /// and encrypted from now on with `passphrase` (checked by [`passphrase_weakness`]); the
    /// store it replaces is kept aside, whole. Then unlocked as by [`LocalRequest::Unlock`].
    Restore {
        /// The backup file (on a USB key, say).
        file: PathBuf,
        /// The recovery key, as printed (groups, dashes and case ignored).
        recovery_key: Secret,
        /// The passphrase of the restored store.
        passphrase: Secret,
        /// Who restores (the access log's actor).
        facilitator: String,
        /// The console's device id, paired in the reply.
        device: String,
    },
}

/// A console's pairing with the director, handed over the local socket once the passphrase is
/// checked: no code to copy from one window to another.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsolePairing {
    /// The director's QUIC address, on this laptop.
    pub addr: SocketAddr,
    /// The director's CA certificate, DER.
    pub ca_der: Vec<u8>,
    /// The console's token (a new one each time: the previous one stops working).
    pub token: [u8; 32],
}

/// Where the director stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockState {
    /// No store yet: the facilitator creates the passphrase.
    FirstRun,
    /// The store is closed.
    Locked,
    /// The store is open and the director on the network.
    Unlocked,
}

/// The director's answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum LocalReply {
    /// Where it stands.
    Status {
        /// Locked, unlocked or first run.
        state: LockState,
        /// The facilitators who unlocked it before, most recent first.
        facilitators: Vec<String>,
        /// Seconds to wait before the next try (after three wrong passphrases).
        wait_s: u64,
        /// Who unlocked it, while unlocked.
        facilitator: Option<String>,
        /// Why it locked itself last (idle, suspend, end of the day), in French.
        locked_because: Option<String>,
        /// Where devices reach it (QUIC), while unlocked.
        addr: Option<SocketAddr>,
    },
    /// The store was created: the recovery key, to print or write down now (it is kept nowhere
    /// else but inside the store, for backups), and the console's pairing.
    Created {
        /// 40 base32 characters in 8 groups.
        recovery_key: String,
        /// The console's pairing.
        pairing: ConsolePairing,
    },
    /// Unlocked (or was already, and the passphrase is right): the console's pairing.
    Unlocked {
        /// The console's pairing.
        pairing: ConsolePairing,
    },
    /// A wrong passphrase.
    Wrong {
        /// Tries left before a wait.
        tries_left: u32,
        /// Seconds to wait now (0 while tries are left).
        wait_s: u64,
    },
    /// Locked.
    Locked,
    /// Refused, in French, saying what to do.
    Refused(String),
    /// Done, in French (a passphrase changed…).
    Done(String),
    /// A backup restored ([`LocalRequest::Restore`]) and the director unlocked on it: what was
    /// done, in French, and the console's pairing.
    Restored {
        /// What was restored, and where the replaced store was kept.
        summary: String,
        /// The console's pairing.
        pairing: ConsolePairing,
    },
}

/// Where the socket lives: `$XDG_RUNTIME_DIR/boussole/director.sock`, else
/// `/tmp/boussole-<uid>/director.sock`.
pub fn default_socket() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .map_or_else(
            || {
                PathBuf::from(format!(
                    "/tmp/boussole-{}",
                    rustix::process::getuid().as_raw()
                ))
            },
            |p| p.join("boussole"),
        );
    base.join("director.sock")
}

/// Creates the socket's folder with mode 0700 (or checks an existing one is ours and 0700).
///
/// # Errors
/// The folder cannot be created, belongs to someone else, or is open to others.
pub fn prepare_socket_dir(socket: &Path) -> std::io::Result<()> {
    let Some(dir) = socket.parent() else {
        return Ok(());
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let meta = std::fs::metadata(dir)?;
    use std::os::unix::fs::MetadataExt as _;
    if meta.uid() != rustix::process::getuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "{} appartient à un autre utilisateur",
            dir.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Whether the peer of `stream` runs as our own user.
pub fn peer_is_us(stream: &UnixStream) -> bool {
    rustix::net::sockopt::socket_peercred(stream)
        .is_ok_and(|cred| cred.uid == rustix::process::getuid())
}

/// Sends `request` to the director at `socket` and waits for its reply.
///
/// # Errors
/// No director listens there, or it answered something unreadable.
pub fn ask(socket: &Path, request: &LocalRequest) -> std::io::Result<LocalReply> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    line.zeroize();
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    serde_json::from_str(&reply).map_err(std::io::Error::other)
}

/// Reads one request from a connection (at most [`MAX_REQUEST`] bytes).
///
/// # Errors
/// Unreadable or too long.
pub fn read_request(stream: &UnixStream) -> std::io::Result<LocalRequest> {
    use std::io::Read as _;
    let mut line = String::new();
    BufReader::new(stream.take(MAX_REQUEST)).read_line(&mut line)?;
    let request = serde_json::from_str(&line).map_err(std::io::Error::other);
    line.zeroize();
    request
}

/// Writes one reply.
///
/// # Errors
/// The console went away.
pub fn write_reply(mut stream: &UnixStream, reply: &LocalReply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

/// Why a new passphrase is too weak, in French, or `None` when it is strong enough.
///
/// The rule follows ANSSI's guidance on passwords (« Recommandations relatives à
/// l'authentification multifacteur et aux mots de passe », 2021: length first, several kinds of
/// characters): at least 12 characters with at least three of lower case, upper case, digits
/// and other signs; or a phrase of at least four words and 20 characters. A single character
/// repeated, or a run like `123456789012`, is refused whatever its length.
pub fn passphrase_weakness(passphrase: &str) -> Option<String> {
    let chars: Vec<char> = passphrase.chars().collect();
    let n = chars.len();
    let distinct: std::collections::BTreeSet<char> = chars.iter().copied().collect();
    if distinct.len() <= 3 {
        return Some("trop peu de caractères différents".into());
    }
    let run = chars
        .windows(2)
        .all(|w| (w[1] as i64 - w[0] as i64).abs() <= 1);
    if run {
        return Some("une suite de caractères qui se suivent se devine tout de suite".into());
    }
    let words = passphrase
        .split_whitespace()
        .filter(|w| w.chars().count() >= 2)
        .count();
    if words >= 4 && n >= 20 {
        return None;
    }
    if n < 12 {
        return Some(format!(
            "au moins 12 caractères (ici {n}), ou une phrase d'au moins quatre mots"
        ));
    }
    let classes = [
        chars.iter().any(|c| c.is_lowercase()),
        chars.iter().any(|c| c.is_uppercase()),
        chars.iter().any(char::is_ascii_digit),
        chars.iter().any(|c| !c.is_alphanumeric()),
    ]
    .into_iter()
    .filter(|x| *x)
    .count();
    if classes < 3 {
        return Some(
            "mélangez au moins trois sortes de caractères (minuscules, majuscules, chiffres, \
             signes), ou écrivez une phrase d'au moins quatre mots"
                .into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rule() {
        assert!(passphrase_weakness("court").is_some());
        assert!(passphrase_weakness("aaaaaaaaaaaaaaaaaaaaaaaa").is_some());
        assert!(passphrase_weakness("123456789012").is_some());
        assert!(passphrase_weakness("abcdefghijkl").is_some());
        assert!(passphrase_weakness("toutenminuscule").is_some());
        assert!(passphrase_weakness("Boussole-2026!").is_none());
        assert!(passphrase_weakness("le port de dunkerque au matin").is_none());
        assert!(passphrase_weakness("le port de").is_some());
    }

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("Boussole-2026!".into());
        assert_eq!(format!("{s:?}"), "Secret(…)");
        let request = LocalRequest::Unlock {
            passphrase: s,
            facilitator: "Camille".into(),
            device: "console".into(),
        };
        assert!(!format!("{request:?}").contains("Boussole"));
    }
}
