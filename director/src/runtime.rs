//! The director's session thread: the only owner of the [`Session`] (engine + store). Other
//! threads and the async network tasks talk to it through a channel, so blocking SQLite work
//! never runs on the runtime that keeps QUIC connections alive. It fires deadlines on time
//! (pre-waits, post-waits, countdown cues, the time-out) by waiting on its channel no longer
//! than the next deadline. Inputs that queue up while it is busy go into one transaction (group
//! commit: one fsync for all of them, [`Session::submit_batch`]), each still acknowledged only
//! once committed.
//!
//! The thread is the director of a whole day: it owns the store, and hosts one session after
//! another in it ([`DirectorHandle::host`]: create one, one from the plan, reopen an interrupted
//! or past one, leave it), without a restart. Between sessions it is idle: a device event is
//! acknowledged without being logged (no session to belong to), a command is refused with
//! [`NO_SESSION`], and [`DirectorHandle::with_store`] still reaches the store (the register,
//! the plan, the sessions' list).

use crate::engine::{Effect, Input, Millis};
use crate::session::Session;
use crate::store::{SessionId, Store};
use boussole_content::ContentSet;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the clock session times are measured from.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What the session thread reports: effects, with the session time they happened at.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// When, session time.
    pub at: Millis,
    /// What.
    pub effects: Vec<Effect>,
}

/// Why a request that needs a session was refused while the director hosts none (in French:
/// consoles show it).
pub const NO_SESSION: &str =
    "aucune séance ouverte : créez ou reprenez une séance depuis l'accueil";

/// What the director is asked to host next ([`DirectorHandle::host`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostRequest {
    /// A new session of `scenario`, labelled `label`.
    Create {
        /// The scenario's content id.
        scenario: String,
        /// The facilitator's label (never a participant's name).
        label: String,
    },
    /// The director session of planned session `planned`, its invited people enrolled but
    /// `absent` (person ids) ([`crate::plan::start`]).
    FromPlan {
        /// The planned session.
        planned: i64,
        /// Invited people who did not come.
        absent: Vec<String>,
    },
    /// An existing session, replayed from its log (an interrupted session to resume, a past one
    /// to review).
    Open(SessionId),
    /// None: the live session is left as it is (its log is complete) and the director waits.
    Leave,
}

/// The session the director hosts after a [`HostRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hosted {
    /// Its id.
    pub id: SessionId,
    /// Its scenario's content id.
    pub scenario: String,
    /// When it was created, Unix ms: session time 0, the devices' clock.
    pub created_at_unix_ms: i64,
}

/// What the session thread holds: the store alone, or the store inside the hosted session.
enum Live {
    Idle(Store),
    Hosting(Box<Session>),
    /// Only inside [`host`], while the store moves from one session to the next.
    Moving,
}

type HostReply = Sender<Result<Option<Hosted>, String>>;

type ReadJob = Box<dyn FnOnce(Option<&Session>) + Send>;
type WriteJob = Box<dyn FnOnce(Option<&mut Session>) + Send>;
type StoreJob = Box<dyn FnOnce(&mut Store) + Send>;
type ViewJob = Box<dyn FnOnce(&Store, Option<&Session>) + Send>;
type BothJob = Box<dyn FnOnce(&mut Store, Option<&crate::engine::Engine>) + Send>;
type HostedJob = Box<dyn FnOnce(&mut Store, Option<SessionId>) + Send>;

enum Request {
    Submit(Input, Reply<Result<Output, String>>),
    Together(Vec<Input>, Sender<Result<Vec<Output>, String>>),
    With(ReadJob),
    WithMut(WriteJob),
    WithStore(StoreJob),
    WithView(ViewJob),
    WithBoth(BothJob),
    WithHosted(HostedJob),
    Host(HostRequest, HostReply),
    SubmitTo(SessionId, Input, Sender<Result<Output, String>>),
    Stop,
}

/// Where the session thread answers a submitted input: a blocked thread's channel, or an
/// async task's one-shot channel (the network loop awaits it without a blocking thread in
/// between: one thread wake-up fewer on a GO's path).
enum Reply<T> {
    Sync(Sender<T>),
    Async(tokio::sync::oneshot::Sender<T>),
}

impl<T> Reply<T> {
    /// Hands `value` over; `Err` when the asker went away (nothing to do about it).
    fn send(self, value: T) -> Result<(), ()> {
        match self {
            Reply::Sync(tx) => tx.send(value).map_err(|_| ()),
            Reply::Async(tx) => tx.send(value).map_err(|_| ()),
        }
    }
}

/// A handle to the session thread; clone it freely.
#[derive(Clone)]
pub struct DirectorHandle {
    tx: Sender<Request>,
}

/// The running session thread.
pub struct Director {
    handle: DirectorHandle,
    thread: Option<JoinHandle<Option<Session>>>,
}

impl Director {
    /// Starts the thread that owns `session`. Every output (effects of inputs and of deadlines)
    /// is also sent to `outputs`, for the network to route to devices. Without content it
    /// hosts no other session ([`HostRequest`] is refused but [`HostRequest::Leave`]).
    pub fn start(session: Session, outputs: Sender<Output>) -> Self {
        Self::spawn(Live::Hosting(Box::new(session)), None, outputs)
    }

    /// Starts the thread of a director for the day: it owns `store`, hosts no session yet, and
    /// creates or opens sessions of `content` when asked ([`DirectorHandle::host`]).
    pub fn start_day(store: Store, content: Arc<ContentSet>, outputs: Sender<Output>) -> Self {
        Self::spawn(Live::Idle(store), Some(content), outputs)
    }

    fn spawn(live: Live, content: Option<Arc<ContentSet>>, outputs: Sender<Output>) -> Self {
        let (tx, rx) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("boussole-session".into())
            .spawn(move || {
                let mut live = live;
                run(&mut live, content.as_deref(), &rx, &outputs);
                match live {
                    Live::Hosting(session) => Some(*session),
                    Live::Idle(_) | Live::Moving => None,
                }
            })
            .ok();
        Self {
            handle: DirectorHandle { tx },
            thread,
        }
    }

    /// A handle for other threads.
    pub fn handle(&self) -> DirectorHandle {
        self.handle.clone()
    }

    /// Stops the thread and gives the hosted session back (for a clean shutdown or tests);
    /// `None` when it hosted none (the store closes).
    pub fn stop(mut self) -> Option<Session> {
        let _ = self.handle.tx.send(Request::Stop);
        self.thread.take().and_then(|t| t.join().ok()).flatten()
    }
}

/// What a handle says when the session thread is gone.
const STOPPED: &str = "le directeur est arrêté";

impl DirectorHandle {
    /// Sends the request `make` builds around a reply channel, and waits for the reply.
    fn ask<R>(&self, make: impl FnOnce(Sender<R>) -> Request) -> Result<R, String> {
        let (tx, rx) = mpsc::channel();
        self.tx.send(make(tx)).map_err(|_| STOPPED.to_owned())?;
        rx.recv().map_err(|_| STOPPED.to_owned())
    }

    /// Logs and handles `input` now; returns its effects once committed.
    ///
    /// # Errors
    /// The session thread is gone, or the store failed (the message says why).
    pub fn submit(&self, input: Input) -> Result<Output, String> {
        self.ask(|tx| Request::Submit(input, Reply::Sync(tx)))?
    }

    /// [`submit`](Self::submit) from an async task: the session thread answers on a
    /// one-shot channel the task awaits, so no blocking thread waits in between.
    ///
    /// # Errors
    /// As [`submit`](Self::submit).
    pub async fn submit_async(&self, input: Input) -> Result<Output, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Request::Submit(input, Reply::Async(tx)))
            .map_err(|_| STOPPED.to_owned())?;
        rx.await.map_err(|_| STOPPED.to_owned())?
    }

    /// [`submit_many`](Self::submit_many) from an async task (see
    /// [`submit_async`](Self::submit_async)).
    ///
    /// # Errors
    /// The director stopped.
    pub async fn submit_many_async(
        &self,
        inputs: Vec<Input>,
    ) -> Result<Vec<Result<Output, String>>, String> {
        let mut replies = Vec::with_capacity(inputs.len());
        for input in inputs {
            let (tx, rx) = tokio::sync::oneshot::channel();
            self.tx
                .send(Request::Submit(input, Reply::Async(tx)))
                .map_err(|_| STOPPED.to_owned())?;
            replies.push(rx);
        }
        let mut out = Vec::with_capacity(replies.len());
        for rx in replies {
            out.push(rx.await.map_err(|_| STOPPED.to_owned())?);
        }
        Ok(out)
    }

    /// Submits several inputs back to back, so that the session thread commits them in one
    /// transaction (group commit), and returns each one's output, in order (an input that failed
    /// gives its error). Nothing is handled before everything of its transaction is committed.
    ///
    /// # Errors
    /// The director stopped.
    pub fn submit_many(&self, inputs: Vec<Input>) -> Result<Vec<Result<Output, String>>, String> {
        let mut replies = Vec::with_capacity(inputs.len());
        for input in inputs {
            let (tx, rx) = mpsc::channel();
            self.tx
                .send(Request::Submit(input, Reply::Sync(tx)))
                .map_err(|_| STOPPED.to_owned())?;
            replies.push(rx);
        }
        replies
            .into_iter()
            .map(|rx| rx.recv().map_err(|_| STOPPED.to_owned()))
            .collect()
    }

    /// Logs and handles `inputs` as **one** batch (one transaction, nothing else between them,
    /// in order): what must go together, such as an enrolment and the person who takes the
    /// slot. Returns each input's output.
    ///
    /// # Errors
    /// The session thread is gone, or the store failed (nothing of the batch was logged).
    pub fn submit_together(&self, inputs: Vec<Input>) -> Result<Vec<Output>, String> {
        self.ask(|tx| Request::Together(inputs, tx))?
    }

    /// Runs `f` on the session thread with read access to the session, and returns its result.
    ///
    /// # Errors
    /// The session thread is gone.
    pub fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Session) -> R + Send + 'static,
    ) -> Result<R, String> {
        self.ask(|tx| {
            Request::With(Box::new(move |s: Option<&Session>| {
                let _ = tx.send(s.map(f).ok_or_else(|| NO_SESSION.to_owned()));
            }))
        })?
    }

    /// Runs `f` on the session thread with the store, whether a session is hosted or not (the
    /// register, the plan, the list of sessions), and returns its result.
    ///
    /// # Errors
    /// The session thread is gone.
    pub fn with_store<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> R + Send + 'static,
    ) -> Result<R, String> {
        self.ask(|tx| {
            Request::WithStore(Box::new(move |s: &mut Store| {
                let _ = tx.send(f(s));
            }))
        })
    }

    /// Runs `f` on the session thread with the store and the hosted session, if any (what the
    /// desk shows), and returns its result.
    ///
    /// # Errors
    /// The session thread is gone.
    pub fn with_view<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Store, Option<&Session>) -> R + Send + 'static,
    ) -> Result<R, String> {
        self.ask(|tx| {
            Request::WithView(Box::new(move |store: &Store, s: Option<&Session>| {
                let _ = tx.send(f(store, s));
            }))
        })
    }

    /// Runs `f` on the session thread with the store, writable, and the hosted session's engine
    /// (what the log decides stays read-only): the room layout, the devices' names.
    ///
    /// # Errors
    /// The session thread is gone.
    pub fn with_store_and_engine<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store, Option<&crate::engine::Engine>) -> R + Send + 'static,
    ) -> Result<R, String> {
        self.ask(|tx| {
            Request::WithBoth(Box::new(
                move |store: &mut Store, e: Option<&crate::engine::Engine>| {
                    let _ = tx.send(f(store, e));
                },
            ))
        })
    }

    /// Runs `f` on the session thread with the store, writable, and the hosted session's id, if
    /// any (a purge must not remove it, a review must not follow it), and returns its result.
    ///
    /// # Errors
    /// The session thread is gone.
    pub fn with_store_hosted<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store, Option<SessionId>) -> R + Send + 'static,
    ) -> Result<R, String> {
        self.ask(|tx| {
            Request::WithHosted(Box::new(move |store: &mut Store, id: Option<SessionId>| {
                let _ = tx.send(f(store, id));
            }))
        })
    }

    /// Hosts another session (or none): the live one, if any, is left as its log has it; the
    /// next one is created or replayed. Devices stay connected: the caller re-registers them in
    /// the new session. Returns what is hosted now.
    ///
    /// # Errors
    /// An unknown scenario, session or planned session, a store failure, or a director started
    /// without content (French, for the console); the store stays open and nothing is hosted.
    pub fn host(&self, request: HostRequest) -> Result<Option<Hosted>, String> {
        self.ask(|tx| Request::Host(request, tx))?
    }

    /// Logs and handles `input`, a facilitator's command, in session `session`: the hosted one
    /// (as [`DirectorHandle::submit`]) or a **closed** session reviewed beside it, replayed
    /// from its log for the purpose (the debrief, the levels, the wash-up of a past session
    /// while another runs). A reviewed session's effects are returned, never routed to the
    /// devices (they play the hosted session).
    ///
    /// # Errors
    /// French, for the console: not a command, an unknown session, one that is not closed
    /// (resume it from the home screen), a director started without content, or a store
    /// failure (nothing logged then).
    pub fn submit_to(&self, session: SessionId, input: Input) -> Result<Output, String> {
        self.ask(|tx| Request::SubmitTo(session, input, tx))?
    }

    /// Runs `f` on the session thread with write access to the session (what is not an engine
    /// input: the protected table of names), and returns its result. Never use it to change
    /// what the log decides.
    ///
    /// # Errors
    /// The session thread is gone.
    pub fn with_mut<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> R + Send + 'static,
    ) -> Result<R, String> {
        self.ask(|tx| {
            Request::WithMut(Box::new(move |s: Option<&mut Session>| {
                let _ = tx.send(s.map(f).ok_or_else(|| NO_SESSION.to_owned()));
            }))
        })?
    }
}

/// The most inputs one group commit takes: they queued up while the thread was busy; past this
/// the rest wait for the next transaction (a bound on one commit's latency).
pub const MAX_BATCH: usize = 256;

fn run(
    live: &mut Live,
    content: Option<&ContentSet>,
    rx: &Receiver<Request>,
    outputs: &Sender<Output>,
) {
    // A request taken from the channel while gathering a batch, handled next.
    let mut next: Option<Request> = None;
    loop {
        let request = match live {
            Live::Hosting(session) => match next.take() {
                Some(r) => r,
                None => match wait_hosting(session, rx, outputs) {
                    Some(r) => r,
                    None => return,
                },
            },
            Live::Idle(_) | Live::Moving => match next.take() {
                Some(r) => r,
                None => match rx.recv() {
                    Ok(r) => r,
                    Err(_) => return,
                },
            },
        };
        match request {
            Request::Submit(input, reply) => {
                let Live::Hosting(session) = live else {
                    let _ = reply.send(idle_submit(input, outputs));
                    continue;
                };
                // Group commit: what else is already waiting goes into the same transaction.
                let mut batch = vec![(input, reply)];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(Request::Submit(input, reply)) => batch.push((input, reply)),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let at = session.time_at(unix_ms());
                let (inputs, replies): (Vec<_>, Vec<_>) = batch
                    .into_iter()
                    .map(|(input, reply)| ((input, at), reply))
                    .unzip();
                match session.submit_batch(inputs) {
                    Ok(all) => {
                        for (effects, reply) in all.into_iter().zip(replies) {
                            let out = Output { at, effects };
                            let _ = outputs.send(out.clone());
                            let _ = reply.send(Ok(out));
                        }
                    }
                    Err(e) => {
                        let why = e.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(why.clone()));
                        }
                    }
                }
            }
            Request::Together(inputs, reply) => {
                let Live::Hosting(session) = live else {
                    let _ = reply.send(Err(NO_SESSION.to_owned()));
                    continue;
                };
                let at = session.time_at(unix_ms());
                let batch = inputs.into_iter().map(|i| (i, at)).collect();
                let result = session
                    .submit_batch(batch)
                    .map(|all| {
                        all.into_iter()
                            .map(|effects| {
                                let out = Output { at, effects };
                                let _ = outputs.send(out.clone());
                                out
                            })
                            .collect()
                    })
                    .map_err(|e| e.to_string());
                let _ = reply.send(result);
            }
            Request::With(f) => match live {
                Live::Hosting(session) => f(Some(session)),
                Live::Idle(_) | Live::Moving => f(None),
            },
            Request::WithMut(f) => match live {
                Live::Hosting(session) => f(Some(session)),
                Live::Idle(_) | Live::Moving => f(None),
            },
            Request::WithStore(f) => match live {
                Live::Hosting(session) => f(session.store_mut()),
                Live::Idle(store) => f(store),
                Live::Moving => {}
            },
            Request::WithView(f) => match live {
                Live::Hosting(session) => f(session.store(), Some(session)),
                Live::Idle(store) => f(store, None),
                Live::Moving => {}
            },
            Request::WithBoth(f) => match live {
                Live::Hosting(session) => {
                    let (store, engine) = session.store_and_engine();
                    f(store, Some(engine));
                }
                Live::Idle(store) => f(store, None),
                Live::Moving => {}
            },
            Request::WithHosted(f) => match live {
                Live::Hosting(session) => {
                    let id = session.id();
                    f(session.store_mut(), Some(id));
                }
                Live::Idle(store) => f(store, None),
                Live::Moving => {}
            },
            Request::Host(request, reply) => {
                let _ = reply.send(host(live, content, request));
            }
            Request::SubmitTo(id, input, reply) => {
                let _ = reply.send(submit_to(live, content, id, input, outputs));
            }
            Request::Stop => return,
        }
    }
}

/// While a session is hosted: fires its due deadlines, then waits for the next request no
/// longer than the next deadline. `None`: every handle is gone.
fn wait_hosting(
    session: &mut Session,
    rx: &Receiver<Request>,
    outputs: &Sender<Output>,
) -> Option<Request> {
    loop {
        let now = session.time_at(unix_ms());
        let due = session.advance(now);
        if !due.is_empty() {
            tracing::debug!(now = now.0, effects = ?due, "deadlines fired");
            let _ = outputs.send(Output {
                at: now,
                effects: due,
            });
        }
        let wait = session
            .engine()
            .next_deadline()
            .map(|t| Duration::from_millis(t.0.saturating_sub(now.0)))
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(wait) {
            Ok(r) => return Some(r),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// An input while no session is hosted: a device event is acknowledged (it belongs to no
/// session, and the device must not keep it forever), a lost or found link is nothing to log,
/// a command is refused.
fn idle_submit(input: Input, outputs: &Sender<Output>) -> Result<Output, String> {
    match input {
        Input::Device { device, seq, .. } => {
            tracing::info!(%device, seq, "événement d'appareil hors séance : acquitté sans être noté");
            let out = Output {
                at: Millis(0),
                effects: vec![Effect::Ack { device, seq }],
            };
            let _ = outputs.send(out.clone());
            Ok(out)
        }
        Input::Link { .. } => Ok(Output {
            at: Millis(0),
            effects: Vec::new(),
        }),
        Input::Command(_) => Err(NO_SESSION.to_owned()),
    }
}

/// [`DirectorHandle::submit_to`]: the hosted session takes `input` as any other; a closed
/// session is opened on the store lent by the hosted one (or the idle director), takes it, and
/// gives the store back, all on this thread between two inputs of the hosted session.
fn submit_to(
    live: &mut Live,
    content: Option<&ContentSet>,
    id: SessionId,
    input: Input,
    outputs: &Sender<Output>,
) -> Result<Output, String> {
    if let Live::Hosting(session) = live
        && session.id() == id
    {
        let at = session.time_at(unix_ms());
        let effects = session.submit(input, at).map_err(|e| e.to_string())?;
        let out = Output { at, effects };
        let _ = outputs.send(out.clone());
        return Ok(out);
    }
    if !matches!(input, Input::Command(_)) {
        return Err("seules les commandes de l'animateur vont à une séance revue".into());
    }
    let Some(content) = content else {
        return Err("ce directeur ne sert qu'une séance".into());
    };
    let (store, hosted) = match std::mem::replace(live, Live::Moving) {
        Live::Idle(store) => (store, None),
        Live::Hosting(session) => {
            let (store, detached) = session.detach();
            (store, Some(detached))
        }
        Live::Moving => return Err("le directeur change de séance".to_owned()),
    };
    let (store, result) = match Session::try_open(store, content, id) {
        Ok(mut reviewed) => {
            let result = if reviewed.engine().is_closed() {
                let at = reviewed.time_at(unix_ms());
                reviewed
                    .submit(input, at)
                    .map(|effects| Output { at, effects })
                    .map_err(|e| format!("séance {id} : {e}"))
            } else {
                Err(format!(
                    "la séance {id} n'est pas close : reprenez-la depuis l'accueil pour la continuer"
                ))
            };
            (reviewed.into_store(), result)
        }
        Err(kept) => {
            let (store, e) = *kept;
            (store, Err(format!("séance {id} illisible : {e}")))
        }
    };
    *live = match hosted {
        Some(detached) => Live::Hosting(Box::new(detached.attach(store))),
        None => Live::Idle(store),
    };
    result
}

/// Leaves the hosted session (if any) and hosts what `request` asks; on failure nothing is
/// hosted and the store stays open.
fn host(
    live: &mut Live,
    content: Option<&ContentSet>,
    request: HostRequest,
) -> Result<Option<Hosted>, String> {
    // The store, out of the live session; `live` holds a placeholder only inside this call.
    let store = match std::mem::replace(live, Live::Moving) {
        Live::Idle(store) => store,
        Live::Hosting(session) => {
            tracing::info!(session = %session.id(), "séance quittée");
            session.into_store()
        }
        Live::Moving => return Err("le directeur change de séance".to_owned()),
    };
    let Some(content) = content else {
        let hosted = None;
        *live = Live::Idle(store);
        return match request {
            HostRequest::Leave => Ok(hosted),
            _ => Err("ce directeur ne sert qu'une séance".to_owned()),
        };
    };
    let opened = match request {
        HostRequest::Leave => {
            *live = Live::Idle(store);
            return Ok(None);
        }
        HostRequest::Create { scenario, label } => {
            Session::try_create(store, content, &scenario, &label, unix_ms()).map_err(|kept| {
                let (store, e) = *kept;
                (store, e.to_string())
            })
        }
        HostRequest::FromPlan { planned, absent } => {
            crate::plan::try_start(store, content, planned, &absent, unix_ms()).map_err(|kept| {
                let (store, e) = *kept;
                (store, e.to_string())
            })
        }
        HostRequest::Open(id) => Session::try_open(store, content, id).map_err(|kept| {
            let (store, e) = *kept;
            (store, e.to_string())
        }),
    };
    match opened {
        Ok(session) => {
            let hosted = Hosted {
                id: session.id(),
                scenario: session.engine().scenario().id.to_string(),
                created_at_unix_ms: session.created_at_unix_ms(),
            };
            tracing::info!(session = %hosted.id, scenario = %hosted.scenario, "séance ouverte");
            *live = Live::Hosting(Box::new(session));
            Ok(Some(hosted))
        }
        Err((store, why)) => {
            *live = Live::Idle(store);
            Err(why)
        }
    }
}
