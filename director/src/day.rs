//! The director of the day (`boussole-director day`): one per laptop (a lock file beside the
//! store), started by the console (a systemd user unit, or a background process), alive until
//! the facilitator logs out. It starts **locked**: the store stays closed until the console
//! sends the passphrase over the local socket ([`crate::local`]); then it opens the store and
//! goes on the network ([`Serving::start_day`]), hosting one session after another as the
//! console asks. It locks itself again (store closed, off the network; devices wait and
//! reconnect) when idle for a set time, after the laptop slept, and at the end of the day.
//!
//! Three wrong passphrases in a row make the next try wait 30 s, doubling with each further
//! wrong one up to 15 min; a right one resets the count.

use crate::local::{self, LocalReply, LocalRequest, LockState, Secret};
use crate::runtime::unix_ms;
use crate::server::{ServeConfig, Serving};
use crate::store::{AccessAction, AccessEntry, OpenError, RecoveryKey, Store};
use boussole_content::ContentSet;
use boussole_protocol::DeviceId;
use std::fs::File;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// Wrong passphrases allowed in a row before a wait.
pub const FREE_TRIES: u32 = 3;

/// The first wait after [`FREE_TRIES`] wrong passphrases; it doubles with each further one.
pub const FIRST_WAIT: Duration = Duration::from_secs(30);

/// The longest wait between two tries.
pub const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);

/// At most this many facilitators are remembered (most recent first).
pub const MAX_FACILITATORS: usize = 20;

/// How often the director checks whether to lock itself.
const WATCH_EVERY: Duration = Duration::from_secs(5);

/// Wall time running ahead of monotonic time by this much between two checks means the laptop
/// slept (monotonic time stops during suspend on Linux; wall time does not).
const SLEPT: Duration = Duration::from_secs(30);

/// Everything the director of the day needs.
#[derive(Clone, Debug)]
pub struct DayConfig {
    /// The encrypted store (created on the first run).
    pub db: PathBuf,
    /// The network side ([`ServeConfig`]; its `data_dir` holds the lock, the identity, the
    /// paired devices and the facilitators' names).
    pub serve: ServeConfig,
    /// The local socket ([`local::default_socket`]).
    pub socket: PathBuf,
    /// Lock after this long without a console request while no game runs.
    pub idle_lock: Duration,
    /// Lock when the local time (Paris) passes this hour, once a day, unless a game runs.
    pub day_ends: Option<chrono::NaiveTime>,
    /// Scripts and tests: unlock at start with this passphrase (`--passphrase-file`).
    pub passphrase: Option<Secret>,
    /// Who unlocks at start with [`DayConfig::passphrase`].
    pub facilitator: String,
    /// Announce the director on the local network (mDNS) while unlocked.
    pub announce: bool,
}

/// Why the director of the day could not start.
#[derive(Debug, thiserror::Error)]
pub enum DayError {
    /// Another director of the day runs on this laptop.
    #[error("un directeur est déjà ouvert sur ce portable (verrou {0})")]
    AlreadyRunning(PathBuf),
    /// A file or folder could not be prepared.
    #[error("{what} : {source}")]
    Io {
        /// What.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The content has errors.
    #[error("le contenu sous {0} a des erreurs : corrigez-les avec l'outil de vérification")]
    Content(PathBuf),
    /// The unlock at start failed.
    #[error("déverrouillage au démarrage : {0}")]
    Unlock(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DayError {
    let what = what.into();
    move |source| DayError::Io { what, source }
}

/// The director of the day's state, shared by the socket's connections and the watch.
struct State {
    serving: Option<Serving>,
    facilitator: Option<String>,
    wrong: u32,
    wait_until: Option<Instant>,
    locked_because: Option<String>,
    last_request: Instant,
    /// When it was last unlocked, Paris time (the end of the day locks a director unlocked
    /// before it, or on an earlier day; one unlocked after it is someone working late).
    unlocked_at: Option<chrono::NaiveDateTime>,
    _announcement: Option<boussole_protocol::discovery::Announcement>,
}

struct Day {
    config: DayConfig,
    content: Arc<ContentSet>,
    runtime: tokio::runtime::Handle,
    state: Mutex<State>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs the director of the day until `stop` resolves (a signal, in the binary); locks
/// (closes the store) before returning.
///
/// # Errors
/// [`DayError`]: another director runs, the socket or the data folder cannot be prepared, the
/// content has errors, or the unlock at start failed.
pub fn run(
    config: DayConfig,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DayError> {
    let data = config.serve.data_dir.clone();
    std::fs::create_dir_all(&data).map_err(io(format!("dossier {}", data.display())))?;
    // One per laptop: the lock is the kernel's, released when the process dies.
    let lock_path = data.join("director.lock");
    let lock_file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(format!("verrou {}", lock_path.display())))?;
    if lock_file.try_lock().is_err() {
        return Err(DayError::AlreadyRunning(lock_path));
    }
    // Who holds it, for whoever must stop it (the process id, nothing else).
    {
        use std::io::Write as _;
        let _ = lock_file.set_len(0);
        let _ = (&lock_file).write_all(std::process::id().to_string().as_bytes());
    }
    let assets = config.serve.assets_dir.clone();
    let (content, report) = boussole_content::check(&config.serve.content_dir, &assets);
    if report.errors() > 0 {
        return Err(DayError::Content(config.serve.content_dir.clone()));
    }
    local::prepare_socket_dir(&config.socket).map_err(io("dossier de la prise locale"))?;
    // We hold the lock: a socket file left there is a dead director's.
    let _ = std::fs::remove_file(&config.socket);
    let listener = UnixListener::bind(&config.socket)
        .map_err(io(format!("prise locale {}", config.socket.display())))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io("démarrage du réseau"))?;
    let day = Arc::new(Day {
        content: Arc::new(content),
        runtime: runtime.handle().clone(),
        state: Mutex::new(State {
            serving: None,
            facilitator: None,
            wrong: 0,
            wait_until: None,
            locked_because: None,
            last_request: Instant::now(),
            unlocked_at: None,
            _announcement: None,
        }),
        config,
    });
    if let Some(passphrase) = day.config.passphrase.clone() {
        // (the console pairs itself when it opens: the one made here is for nobody)
        match day.open_store(&passphrase, &day.config.facilitator.clone()) {
            Ok(()) => {}
            Err(LocalReply::Wrong { .. }) => {
                return Err(DayError::Unlock("phrase de passe incorrecte".into()));
            }
            Err(LocalReply::Refused(why)) => return Err(DayError::Unlock(why)),
            Err(other) => return Err(DayError::Unlock(format!("{other:?}"))),
        }
    }
    let accepting = day.clone();
    std::thread::Builder::new()
        .name("boussole-local".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let day = accepting.clone();
                let _ = std::thread::Builder::new()
                    .name("boussole-local-conn".into())
                    .spawn(move || day.answer(&stream));
            }
        })
        .map_err(io("fil de la prise locale"))?;
    let watching = day.clone();
    std::thread::Builder::new()
        .name("boussole-watch".into())
        .spawn(move || watching.watch())
        .map_err(io("fil de surveillance"))?;
    runtime.block_on(stop);
    day.lock_now("arrêt du directeur");
    let _ = std::fs::remove_file(&day.config.socket);
    drop(lock_file);
    Ok(())
}

impl Day {
    fn answer(&self, stream: &std::os::unix::net::UnixStream) {
        if !local::peer_is_us(stream) {
            tracing::warn!("prise locale : un autre utilisateur a été refusé");
            let _ = local::write_reply(
                stream,
                &LocalReply::Refused("seul l'utilisateur du directeur peut s'y connecter".into()),
            );
            return;
        }
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let reply = match local::read_request(stream) {
            Ok(request) => self.handle(request),
            Err(e) => LocalReply::Refused(format!("demande illisible : {e}")),
        };
        let _ = local::write_reply(stream, &reply);
    }

    fn handle(&self, request: LocalRequest) -> LocalReply {
        // A console asks where the director stands twice a second: that is not activity (the
        // idle lock would never come while a console is open).
        if !matches!(request, LocalRequest::Status) {
            lock(&self.state).last_request = Instant::now();
        }
        match request {
            LocalRequest::Status => self.status(),
            LocalRequest::Create {
                passphrase,
                facilitator,
                device,
            } => self.create(&passphrase, &facilitator, &device),
            LocalRequest::Unlock {
                passphrase,
                facilitator,
                device,
            } => self.unlock(&passphrase, &facilitator, &device),
            LocalRequest::Lock => {
                let who = lock(&self.state).facilitator.clone().unwrap_or_default();
                self.lock_now(&format!("par {who}, depuis la console"));
                LocalReply::Locked
            }
            LocalRequest::ChangePassphrase { current, new } => {
                self.change_passphrase(&current, &new)
            }
            LocalRequest::Restore {
                file,
                recovery_key,
                passphrase,
                facilitator,
                device,
            } => self.restore(&file, &recovery_key, &passphrase, &facilitator, &device),
        }
    }

    /// Replaces the closed store by the backup `file`, opened with `recovery_key` and encrypted
    /// with `passphrase` from now on: restored beside the store first (a wrong key or a bad
    /// file leaves the store as it was), erasures made since the backup applied again, the
    /// restoration logged; then the store there is kept aside under a dated name, whole, the
    /// restored one takes its place, and the director unlocks on it.
    fn restore(
        &self,
        file: &Path,
        recovery_key: &Secret,
        passphrase: &Secret,
        facilitator: &str,
        device: &str,
    ) -> LocalReply {
        let facilitator = match facilitator_name(facilitator) {
            Ok(f) => f,
            Err(why) => return LocalReply::Refused(why),
        };
        if lock(&self.state).serving.is_some() {
            return LocalReply::Refused(
                "verrouillez d'abord la régie : une restauration remplace tout le journal".into(),
            );
        }
        if let Some(why) = local::passphrase_weakness(passphrase.expose()) {
            return LocalReply::Refused(format!("phrase de passe trop faible : {why}"));
        }
        let key = match RecoveryKey::parse(recovery_key.expose()) {
            Ok(k) => k,
            Err(e) => return LocalReply::Refused(format!("clé de secours illisible : {e}")),
        };
        let db = &self.config.db;
        let fresh = db.with_file_name("restauration-en-cours.db");
        remove_store_files(&fresh);
        let mut store = match Store::restore(file, &key, &fresh, passphrase.expose()) {
            Ok(s) => s,
            Err(e) => {
                remove_store_files(&fresh);
                return LocalReply::Refused(format!(
                    "sauvegarde non restaurée ({}) : {e}",
                    file.display()
                ));
            }
        };
        let erasures = crate::privacy::read_erasures(&crate::privacy::erasures_file(db));
        let again = erasures.map_err(|e| e.to_string()).and_then(|e| {
            crate::privacy::reapply_erasures(&mut store, &e).map_err(|e| e.to_string())
        });
        let again = match again {
            Ok(again) => again,
            Err(e) => {
                drop(store);
                remove_store_files(&fresh);
                return LocalReply::Refused(format!(
                    "effacements à réappliquer impossibles, rien n'est restauré : {e}"
                ));
            }
        };
        let sessions = store.sessions().map_or(0, |s| s.len());
        let _ = store.log_access(&AccessEntry {
            at_unix_ms: unix_ms(),
            actor: facilitator.clone(),
            action: AccessAction::BackupRestored,
            session: None,
            participant: None,
            detail: format!("depuis {} (console)", file.display()),
        });
        drop(store);
        let aside = db.with_file_name(format!(
            "avant-restauration-{}.db",
            crate::backup::stamp(unix_ms())
        ));
        if db.exists() {
            for suffix in ["", "-wal", "-shm"] {
                let (from, to) = (with_suffix(db, suffix), with_suffix(&aside, suffix));
                if from.exists()
                    && let Err(e) = std::fs::rename(&from, &to)
                {
                    return LocalReply::Refused(format!(
                        "le journal actuel n'a pas pu être mis de côté ({}) : {e}",
                        from.display()
                    ));
                }
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let (from, to) = (with_suffix(&fresh, suffix), with_suffix(db, suffix));
            if from.exists()
                && let Err(e) = std::fs::rename(&from, &to)
            {
                return LocalReply::Refused(format!(
                    "la sauvegarde restaurée n'a pas pu prendre la place du journal : {e}"
                ));
            }
        }
        tracing::info!("sauvegarde restaurée depuis la console : {sessions} séance(s)");
        let mut summary = format!(
            "Sauvegarde restaurée : {sessions} séance(s). Elle s'ouvre désormais avec la nouvelle phrase de passe ; la clé de secours reste la même."
        );
        if !again.is_empty() {
            summary.push_str(&format!(
                " {} personne(s) effacée(s) depuis cette sauvegarde l'ont été à nouveau.",
                again.len()
            ));
        }
        if aside.exists() {
            summary.push_str(&format!(
                " L'ancien journal est gardé à côté, chiffré : {}.",
                aside.display()
            ));
        }
        match self.unlock(passphrase, &facilitator, device) {
            LocalReply::Unlocked { pairing } => LocalReply::Restored { summary, pairing },
            other => other,
        }
    }

    /// Checks `current` as an unlock would (a wrong one counts), `new` by the strength rule,
    /// then re-keys the open store and logs it. Nothing changes on any refusal.
    fn change_passphrase(&self, current: &Secret, new: &Secret) -> LocalReply {
        let (handle, facilitator) = {
            let state = lock(&self.state);
            let wait_s = wait_left(state.wait_until);
            if wait_s > 0 {
                return LocalReply::Wrong {
                    tries_left: 0,
                    wait_s,
                };
            }
            match state.serving.as_ref() {
                Some(serving) => (
                    serving.handle(),
                    state.facilitator.clone().unwrap_or_default(),
                ),
                None => {
                    return LocalReply::Refused(
                        "déverrouillez d'abord la régie avec la phrase de passe actuelle".into(),
                    );
                }
            }
        };
        if let Some(why) = local::passphrase_weakness(new.expose()) {
            return LocalReply::Refused(format!("nouvelle phrase de passe refusée : {why}"));
        }
        if new.expose() == current.expose() {
            return LocalReply::Refused(
                "la nouvelle phrase de passe est la même que l'actuelle".into(),
            );
        }
        // The current one, checked on a second connection to the store (the director keeps
        // its own open).
        match Store::open(&self.config.db, current.expose()) {
            Ok(store) => drop(store),
            Err(OpenError::WrongPassphrase { .. }) => return self.wrong_passphrase(),
            Err(e) => return LocalReply::Refused(format!("le journal ne s'ouvre pas : {e}")),
        }
        lock(&self.state).wrong = 0;
        let new = new.clone();
        let changed = handle.with_store(move |store| {
            store.change_passphrase(new.expose())?;
            let _ = store.log_access(&AccessEntry {
                at_unix_ms: unix_ms(),
                actor: facilitator,
                action: AccessAction::PassphraseChanged,
                session: None,
                participant: None,
                detail: "depuis la console".into(),
            });
            Ok::<(), crate::store::RekeyError>(())
        });
        match changed {
            Ok(Ok(())) => {
                tracing::info!("phrase de passe changée depuis la console");
                LocalReply::Done(
                    "Phrase de passe changée : elle sera demandée à la prochaine ouverture. La clé de secours reste la même.".into(),
                )
            }
            Ok(Err(e)) => LocalReply::Refused(format!("phrase de passe non changée : {e}")),
            Err(e) => LocalReply::Refused(format!("phrase de passe non changée : {e}")),
        }
    }

    /// A fresh pairing for the console `device` (its previous token stops working).
    fn pair_console(&self, device: &str) -> Result<local::ConsolePairing, String> {
        let state = lock(&self.state);
        let Some(serving) = state.serving.as_ref() else {
            return Err("le directeur est verrouillé".into());
        };
        let (ca_der, token) = serving
            .provision_console(&DeviceId(device.to_owned()))
            .map_err(|e| format!("console non appairée : {e}"))?;
        let mut addr = serving.local_addr();
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        Ok(local::ConsolePairing {
            addr,
            ca_der,
            token: *token.as_bytes(),
        })
    }

    fn status(&self) -> LocalReply {
        let state = lock(&self.state);
        let lock_state = if state.serving.is_some() {
            LockState::Unlocked
        } else if self.config.db.exists() {
            LockState::Locked
        } else {
            LockState::FirstRun
        };
        LocalReply::Status {
            state: lock_state,
            facilitators: self.facilitators(),
            wait_s: wait_left(state.wait_until),
            facilitator: state.serving.as_ref().and(state.facilitator.clone()),
            locked_because: state.locked_because.clone(),
            addr: state.serving.as_ref().map(Serving::local_addr),
        }
    }

    fn facilitators_file(&self) -> PathBuf {
        self.config.serve.data_dir.join("facilitators.txt")
    }

    /// The facilitators who unlocked before, most recent first (a plain file: first names the
    /// console lists before the store is open; no participant data).
    fn facilitators(&self) -> Vec<String> {
        std::fs::read_to_string(self.facilitators_file())
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn remember(&self, facilitator: &str) {
        let mut names = self.facilitators();
        names.retain(|n| n != facilitator);
        names.insert(0, facilitator.to_owned());
        names.truncate(MAX_FACILITATORS);
        let path = self.facilitators_file();
        let tmp = path.with_extension("txt.tmp");
        let written = std::fs::write(&tmp, names.join("\n") + "\n")
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!("liste des animateurs non enregistrée : {e}");
        }
    }

    fn create(&self, passphrase: &Secret, facilitator: &str, device: &str) -> LocalReply {
        let facilitator = match facilitator_name(facilitator) {
            Ok(f) => f,
            Err(why) => return LocalReply::Refused(why),
        };
        if self.config.db.exists() {
            return LocalReply::Refused(
                "le journal existe déjà : déverrouillez-le avec sa phrase de passe".into(),
            );
        }
        if let Some(why) = local::passphrase_weakness(passphrase.expose()) {
            return LocalReply::Refused(format!("phrase de passe trop faible : {why}"));
        }
        let mut store = match Store::open(&self.config.db, passphrase.expose()) {
            Ok(s) => s,
            Err(e) => return LocalReply::Refused(format!("le journal n'a pas pu être créé : {e}")),
        };
        let key = RecoveryKey::generate();
        let now = unix_ms();
        if let Err(e) = store.set_recovery_key(&key, now) {
            return LocalReply::Refused(format!("clé de secours non enregistrée : {e}"));
        }
        let _ = store.log_access(&AccessEntry {
            at_unix_ms: now,
            actor: facilitator.clone(),
            action: AccessAction::RecoveryKeyCreated,
            session: None,
            participant: None,
            detail: "création du journal depuis la console".into(),
        });
        match self
            .go_online(store, &facilitator)
            .and_then(|()| self.pair_console(device))
        {
            Ok(pairing) => LocalReply::Created {
                recovery_key: key.grouped(),
                pairing,
            },
            Err(why) => LocalReply::Refused(why),
        }
    }

    fn unlock(&self, passphrase: &Secret, facilitator: &str, device: &str) -> LocalReply {
        match self.open_store(passphrase, facilitator) {
            Ok(()) => match self.pair_console(device) {
                Ok(pairing) => LocalReply::Unlocked { pairing },
                Err(why) => LocalReply::Refused(why),
            },
            Err(reply) => reply,
        }
    }

    /// Opens the store and goes on the network; already open, checks the passphrase (by
    /// opening the store a second time: that connection records who came, and closes).
    /// `Err`: the reply that says why not.
    fn open_store(&self, passphrase: &Secret, facilitator: &str) -> Result<(), LocalReply> {
        let facilitator = facilitator_name(facilitator).map_err(LocalReply::Refused)?;
        let open = {
            let state = lock(&self.state);
            let wait_s = wait_left(state.wait_until);
            if wait_s > 0 {
                return Err(LocalReply::Wrong {
                    tries_left: 0,
                    wait_s,
                });
            }
            state.serving.is_some()
        };
        if !self.config.db.exists() {
            return Err(LocalReply::Refused(
                "aucun journal encore : créez d'abord la phrase de passe".into(),
            ));
        }
        let mut store = match Store::open(&self.config.db, passphrase.expose()) {
            Ok(s) => s,
            Err(OpenError::WrongPassphrase { .. }) => return Err(self.wrong_passphrase()),
            Err(e) => {
                return Err(LocalReply::Refused(format!(
                    "le journal ne s'ouvre pas : {e}"
                )));
            }
        };
        let now = unix_ms();
        let detail = if open {
            "console rouverte, régie déjà ouverte"
        } else {
            ""
        };
        let _ = store.log_access(&AccessEntry {
            at_unix_ms: now,
            actor: facilitator.clone(),
            action: AccessAction::DirectorUnlocked,
            session: None,
            participant: None,
            detail: detail.into(),
        });
        if open {
            drop(store);
            self.remember(&facilitator);
            let mut state = lock(&self.state);
            state.wrong = 0;
            state.facilitator = Some(facilitator);
            // Someone came back: the day counts from now.
            state.unlocked_at = Some(paris_now());
            return Ok(());
        }
        if let Err(e) = crate::register::adopt_legacy(&mut store, now) {
            return Err(LocalReply::Refused(format!(
                "séances d'avant le registre non reprises : {e}"
            )));
        }
        self.go_online(store, &facilitator)
            .map_err(LocalReply::Refused)
    }

    /// Counts a wrong passphrase; after [`FREE_TRIES`], the next try waits.
    fn wrong_passphrase(&self) -> LocalReply {
        let mut state = lock(&self.state);
        state.wrong += 1;
        tracing::warn!(tries = state.wrong, "phrase de passe incorrecte");
        if state.wrong < FREE_TRIES {
            return LocalReply::Wrong {
                tries_left: FREE_TRIES - state.wrong,
                wait_s: 0,
            };
        }
        let over = state.wrong - FREE_TRIES;
        let wait = FIRST_WAIT
            .saturating_mul(1 << over.min(10))
            .min(LONGEST_WAIT);
        state.wait_until = Some(Instant::now() + wait);
        LocalReply::Wrong {
            tries_left: 0,
            wait_s: wait.as_secs(),
        }
    }

    fn go_online(&self, store: Store, facilitator: &str) -> Result<(), String> {
        let serving = {
            let _guard = self.runtime.enter();
            // The usual port taken (another program): any free one; devices find the director
            // on the local network by its announcement, which carries the port.
            let bind = self.config.serve.bind;
            let taken = std::net::UdpSocket::bind(bind).is_err() && bind.port() != 0;
            let mut config = self.config.serve.clone();
            if taken {
                tracing::warn!("port {} pris : la régie prend un port libre", bind.port());
                config.bind.set_port(0);
            }
            Serving::start_day(&config, store, self.content.clone(), facilitator)
                .map_err(|e| format!("le directeur ne va pas sur le réseau : {e}"))?
        };
        let announcement = if self.config.announce && !self.config.serve.bind.ip().is_loopback() {
            let info = boussole_protocol::discovery::DirectorInfo {
                name: self.config.serve.name.clone(),
                port: serving.local_addr().port(),
                version: u32::from(boussole_protocol::wire::PROTOCOL_VERSION),
                ca: Some(serving.ca_fingerprint()),
            };
            boussole_protocol::discovery::announce(&info)
                .inspect_err(|e| tracing::warn!("annonce mDNS impossible : {e}"))
                .ok()
        } else {
            None
        };
        self.remember(facilitator);
        let mut state = lock(&self.state);
        state.serving = Some(serving);
        state.facilitator = Some(facilitator.to_owned());
        state.wrong = 0;
        state.wait_until = None;
        state.locked_because = None;
        state.last_request = Instant::now();
        state.unlocked_at = Some(paris_now());
        state._announcement = announcement;
        tracing::info!("directeur déverrouillé");
        Ok(())
    }

    /// Closes the store and leaves the network (the hosted session's log is complete).
    fn lock_now(&self, because: &str) {
        let serving = {
            let mut state = lock(&self.state);
            state._announcement = None;
            if state.serving.is_some() {
                state.locked_because = Some(because.to_owned());
                state.facilitator = None;
            }
            state.serving.take()
        };
        if let Some(serving) = serving {
            tracing::info!("directeur verrouillé : {because}");
            drop(self.runtime.block_on(serving.stop()));
        }
    }

    /// Locks on idle, after a sleep and at the end of the day; never while a game runs, but
    /// after a sleep (the laptop may have left the room).
    fn watch(&self) {
        let mut wall = SystemTime::now();
        let mut mono = Instant::now();
        loop {
            std::thread::sleep(WATCH_EVERY);
            let (wall_now, mono_now) = (SystemTime::now(), Instant::now());
            let wall_step = wall_now.duration_since(wall).unwrap_or_default();
            let mono_step = mono_now.duration_since(mono);
            (wall, mono) = (wall_now, mono_now);
            let (unlocked, idle, running) = {
                let state = lock(&self.state);
                let Some(serving) = state.serving.as_ref() else {
                    continue;
                };
                let idle = state
                    .last_request
                    .elapsed()
                    .min(serving.idle_for().unwrap_or(Duration::MAX));
                let running = self.runtime.block_on(async {
                    let h = serving.handle();
                    tokio::task::spawn_blocking(move || {
                        h.with(|s| s.engine().timer_running()).unwrap_or(false)
                    })
                    .await
                    .unwrap_or(false)
                });
                (true, idle, running)
            };
            if !unlocked {
                continue;
            }
            if wall_step > mono_step + SLEPT {
                self.lock_now("le portable s'est mis en veille");
                continue;
            }
            if !running && idle >= self.config.idle_lock {
                self.lock_now(&format!(
                    "aucune activité depuis {} min",
                    self.config.idle_lock.as_secs() / 60
                ));
                continue;
            }
            if let Some(end) = self.config.day_ends {
                let now = paris_now();
                let unlocked_at = lock(&self.state).unlocked_at;
                if !running && unlocked_at.is_some_and(|at| day_over(at, now, end)) {
                    self.lock_now("fin de journée");
                }
            }
        }
    }
}

/// Now, Paris local time.
fn paris_now() -> chrono::NaiveDateTime {
    chrono::Utc::now()
        .with_timezone(&rrule::Tz::Europe__Paris)
        .naive_local()
}

/// Whether the day that the director was unlocked in (`unlocked_at`) is over at `now` (Paris
/// local times), the day ending at `end`: unlocked before the end of that day and now past it,
/// or unlocked on an earlier day (the laptop stayed on overnight). Unlocked after the end of
/// the day, it waits for the next day's end.
pub fn day_over(
    unlocked_at: chrono::NaiveDateTime,
    now: chrono::NaiveDateTime,
    end: chrono::NaiveTime,
) -> bool {
    let first_end = if unlocked_at.time() < end {
        unlocked_at.date().and_time(end)
    } else {
        unlocked_at
            .date()
            .succ_opt()
            .map_or(chrono::NaiveDateTime::MAX, |d| d.and_time(end))
    };
    now >= first_end
}

fn wait_left(until: Option<Instant>) -> u64 {
    until.map_or(0, |t| {
        let left = t.saturating_duration_since(Instant::now());
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    })
}

/// A facilitator's name as the access log records it: trimmed, 1 to 60 characters, no control
/// characters.
fn facilitator_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("dites qui vous êtes : choisissez ou écrivez votre nom".into());
    }
    if name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err("un nom d'au plus 60 caractères, sans retour à la ligne".into());
    }
    Ok(name.to_owned())
}

/// `path` with `suffix` after its name (SQLite's `-wal` and `-shm` beside a store).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a store and its SQLite companions, if there.
fn remove_store_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
}

#[cfg(test)]
mod tests {
    use super::day_over;
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, d)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .unwrap_or_default()
    }

    #[test]
    fn the_day_ends_once_for_a_director_unlocked_before_its_end() {
        let end = NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default();
        // Unlocked in the morning: open until 20:00, locked from then.
        assert!(!day_over(at(7, 8, 30), at(7, 19, 59), end));
        assert!(day_over(at(7, 8, 30), at(7, 20, 0), end));
        // Unlocked at 21:00 (working late): not locked at once, but at the next day's end.
        assert!(!day_over(at(7, 21, 0), at(7, 23, 59), end));
        assert!(!day_over(at(7, 21, 0), at(8, 19, 0), end));
        assert!(day_over(at(7, 21, 0), at(8, 20, 0), end));
        // Left on overnight after a morning unlock: locked.
        assert!(day_over(at(7, 9, 0), at(8, 7, 0), end));
    }
}
