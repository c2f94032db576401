//! Finding or starting the director of the day on this laptop, and talking to it over its local
//! socket ([`boussole_director::local`]), without ever blocking the window: a thread of its own
//! watches the director's state ([`Gate`]) and carries out what the facilitator asks (create the
//! passphrase, unlock, lock). The director checks the passphrase each time a console opens,
//! even when it is already unlocked, and answers with this console's pairing ([`Provision`]),
//! so that the console joins without a code.
//!
//! Starting: a systemd user unit `boussole-director.service` when one is installed (it stops at
//! logout; closing the console never stops it), else the director binary as a background
//! process in its own process group, its messages in `director.log` beside the store.

use boussole_director::local::{self, LocalReply, LocalRequest, LockState, Secret};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the console waits for a director it started to open its socket.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the console asks the director where it stands.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// The systemd user unit the laptop's package installs.
pub const UNIT: &str = "boussole-director.service";

/// How to start the director when none answers.
#[derive(Clone, Debug)]
pub struct StartCommand {
    /// The director's binary.
    pub program: PathBuf,
    /// Its arguments (`--db …  --content … day`).
    pub args: Vec<OsString>,
    /// Where its messages go.
    pub log: PathBuf,
    /// Use the systemd user unit when it is installed (the packaged laptop); tests say no.
    pub systemd: bool,
}

/// Where the director stands, as the window shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Looking for the director, or starting it.
    Starting,
    /// It could not be started: why, in French.
    Failed(String),
    /// No store yet: create the passphrase.
    FirstRun {
        /// Facilitators known (none yet, usually).
        facilitators: Vec<String>,
    },
    /// The store is closed.
    Locked {
        /// Facilitators who unlocked before, most recent first.
        facilitators: Vec<String>,
        /// Seconds before the next try is allowed.
        wait_s: u64,
        /// Why it locked itself, if it did.
        because: Option<String>,
    },
    /// The recovery key, shown once after the store was created, until the facilitator says it
    /// is written down.
    RecoveryKey(String),
    /// Unlocked. Until this console has its pairing (after its passphrase is checked: asked
    /// each time a console opens), the window asks for the passphrase.
    Unlocked {
        /// Who unlocked it.
        facilitator: Option<String>,
    },
}

/// This console's pairing with the director of the day, handed over the local socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provision {
    /// The director's QUIC address.
    pub addr: SocketAddr,
    /// The director's CA, DER.
    pub ca_der: Vec<u8>,
    /// The token.
    pub token: [u8; 32],
}

/// What the facilitator asks of the director.
#[derive(Debug)]
pub enum GateAction {
    /// First run: create the store.
    Create {
        /// The passphrase (wiped when dropped).
        passphrase: Secret,
        /// Who.
        facilitator: String,
    },
    /// Unlock.
    Unlock {
        /// The passphrase (wiped when dropped).
        passphrase: Secret,
        /// Who.
        facilitator: String,
    },
    /// The recovery key is written down (or printed): it is not shown again.
    RecoveryNoted,
    /// Lock the director now.
    Lock,
    /// Try to start the director again after a failure.
    Retry,
    /// Change the store's passphrase (both wiped when dropped).
    ChangePassphrase {
        /// The passphrase now.
        current: Secret,
        /// The new one.
        new: Secret,
    },
    /// Locked or first run: replace the store by a backup, opened with the recovery key and
    /// encrypted with a new passphrase (both wiped when dropped), then unlock.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The recovery key, as printed.
        recovery_key: Secret,
        /// The restored store's passphrase.
        passphrase: Secret,
        /// Who.
        facilitator: String,
    },
}

#[derive(Debug)]
struct Shared {
    gate: Gate,
    /// The answer to the facilitator's last request, in French (a wrong passphrase…).
    message: Option<String>,
    provision: Option<Provision>,
    /// A request is being carried out.
    busy: bool,
    /// The recovery key was shown and not yet acknowledged.
    recovery: Option<String>,
}

/// The launcher: its thread and what it last learnt.
#[derive(Debug)]
pub struct Launcher {
    shared: Arc<Mutex<Shared>>,
    actions: Sender<GateAction>,
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Launcher {
    /// Starts the launcher's thread: it finds the director at `socket` or starts it with
    /// `start`, then follows its state; `device` is this console's id for its pairing.
    pub fn start(socket: PathBuf, start: StartCommand, device: String) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            gate: Gate::Starting,
            message: None,
            provision: None,
            busy: false,
            recovery: None,
        }));
        let (tx, rx) = mpsc::channel();
        let worker = shared.clone();
        let _ = std::thread::Builder::new()
            .name("boussole-launcher".into())
            .spawn(move || run(&socket, &start, &device, &worker, &rx));
        Self {
            shared,
            actions: tx,
        }
    }

    /// Where the director stands.
    pub fn gate(&self) -> Gate {
        let s = lock(&self.shared);
        match &s.recovery {
            Some(key) => Gate::RecoveryKey(key.clone()),
            None => s.gate.clone(),
        }
    }

    /// The answer to the last request, if any.
    pub fn message(&self) -> Option<String> {
        lock(&self.shared).message.clone()
    }

    /// Whether a request is being carried out.
    pub fn busy(&self) -> bool {
        lock(&self.shared).busy
    }

    /// This console's pairing, once the director is unlocked (taken once).
    pub fn take_provision(&self) -> Option<Provision> {
        lock(&self.shared).provision.take()
    }

    /// Asks the director for something (carried out on the launcher's thread).
    pub fn ask(&self, action: GateAction) {
        {
            let mut s = lock(&self.shared);
            match action {
                GateAction::RecoveryNoted => {
                    s.recovery = None;
                    return;
                }
                GateAction::Lock | GateAction::Retry => {}
                GateAction::Create { .. }
                | GateAction::Unlock { .. }
                | GateAction::ChangePassphrase { .. }
                | GateAction::Restore { .. } => s.busy = true,
            }
            s.message = None;
        }
        let _ = self.actions.send(action);
    }
}

fn run(
    socket: &std::path::Path,
    start: &StartCommand,
    device: &str,
    shared: &Mutex<Shared>,
    actions: &Receiver<GateAction>,
) {
    let mut started = false;
    loop {
        match local::ask(socket, &LocalRequest::Status) {
            Ok(LocalReply::Status {
                state,
                facilitators,
                wait_s,
                facilitator,
                locked_because,
                addr: _,
            }) => {
                let gate = match state {
                    LockState::FirstRun => Gate::FirstRun { facilitators },
                    LockState::Locked => Gate::Locked {
                        facilitators,
                        wait_s,
                        because: locked_because,
                    },
                    LockState::Unlocked => Gate::Unlocked { facilitator },
                };
                lock(shared).gate = gate;
            }
            Ok(other) => {
                lock(shared).gate = Gate::Failed(format!("réponse inattendue : {other:?}"));
            }
            Err(_) if !started => {
                started = true;
                lock(shared).gate = Gate::Starting;
                if let Err(why) = start_director(socket, start) {
                    lock(shared).gate = Gate::Failed(why);
                }
                continue;
            }
            Err(e) => {
                lock(shared).gate = Gate::Failed(format!(
                    "la régie ne répond plus ({e}) : fermez puis rouvrez la console"
                ));
            }
        }
        match actions.recv_timeout(POLL_EVERY) {
            Ok(action) => carry_out(socket, device, action, shared, &mut started),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn carry_out(
    socket: &std::path::Path,
    device: &str,
    action: GateAction,
    shared: &Mutex<Shared>,
    started: &mut bool,
) {
    let request = match action {
        GateAction::Create {
            passphrase,
            facilitator,
        } => LocalRequest::Create {
            passphrase,
            facilitator,
            device: device.to_owned(),
        },
        GateAction::Unlock {
            passphrase,
            facilitator,
        } => LocalRequest::Unlock {
            passphrase,
            facilitator,
            device: device.to_owned(),
        },
        GateAction::Lock => LocalRequest::Lock,
        GateAction::ChangePassphrase { current, new } => {
            LocalRequest::ChangePassphrase { current, new }
        }
        GateAction::Restore {
            file,
            recovery_key,
            passphrase,
            facilitator,
        } => LocalRequest::Restore {
            file,
            recovery_key,
            passphrase,
            facilitator,
            device: device.to_owned(),
        },
        GateAction::Retry => {
            *started = false;
            return;
        }
        GateAction::RecoveryNoted => return,
    };
    let reply = local::ask(socket, &request);
    drop(request);
    let mut s = lock(shared);
    s.busy = false;
    s.message = match reply {
        Ok(LocalReply::Created {
            recovery_key,
            pairing,
        }) => {
            s.recovery = Some(recovery_key);
            s.provision = Some(pairing.into());
            s.gate = Gate::Unlocked { facilitator: None };
            None
        }
        Ok(LocalReply::Unlocked { pairing }) => {
            s.provision = Some(pairing.into());
            s.gate = Gate::Unlocked { facilitator: None };
            None
        }
        Ok(LocalReply::Restored { summary, pairing }) => {
            s.provision = Some(pairing.into());
            s.gate = Gate::Unlocked { facilitator: None };
            Some(summary)
        }
        Ok(LocalReply::Locked) => None,
        Ok(LocalReply::Wrong { tries_left, wait_s }) => Some(if wait_s > 0 {
            format!(
                "Phrase de passe incorrecte. Après trois essais manqués, attendez {wait_s} s \
                 avant de réessayer."
            )
        } else {
            format!(
                "Phrase de passe incorrecte. Encore {tries_left} essai{} avant une attente.",
                if tries_left > 1 { "s" } else { "" }
            )
        }),
        Ok(LocalReply::Refused(why)) => Some(capitalised(&why)),
        Ok(LocalReply::Done(what)) => Some(what),
        Ok(other) => Some(format!("Réponse inattendue de la régie : {other:?}")),
        Err(e) => Some(format!("La régie ne répond pas : {e}")),
    };
}

fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl From<local::ConsolePairing> for Provision {
    fn from(p: local::ConsolePairing) -> Self {
        Self {
            addr: p.addr,
            ca_der: p.ca_der,
            token: p.token,
        }
    }
}

/// Starts the director and waits for its socket.
fn start_director(socket: &std::path::Path, start: &StartCommand) -> Result<(), String> {
    let by_systemd = start.systemd
        && Command::new("systemctl")
            .args(["--user", "cat", UNIT])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if by_systemd {
        let status = Command::new("systemctl")
            .args(["--user", "start", UNIT])
            .status()
            .map_err(|e| format!("la régie n'a pas pu être démarrée : {e}"))?;
        if !status.success() {
            return Err(
                "la régie n'a pas pu être démarrée (service utilisateur en échec) : \
                 redémarrez l'ordinateur, puis rouvrez la console"
                    .into(),
            );
        }
    } else {
        if let Some(dir) = start.log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&start.log)
            .map_err(|e| format!("journal de la régie {} : {e}", start.log.display()))?;
        use std::os::unix::process::CommandExt as _;
        let mut child = Command::new(&start.program)
            .args(&start.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            // Its own process group: closing the console (or Ctrl-C in its terminal) never
            // stops the director.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                format!(
                    "la régie ({}) n'a pas pu être démarrée : {e} — réinstallez Boussole",
                    start.program.display()
                )
            })?;
        // Reaped by a thread of its own, so it never lingers as a zombie while the console runs.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
    }
    let since = Instant::now();
    while since.elapsed() < START_TIMEOUT {
        if local::ask(socket, &LocalRequest::Status).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "la régie ne répond pas après {} s : voyez son journal {}",
        START_TIMEOUT.as_secs(),
        start.log.display()
    ))
}
