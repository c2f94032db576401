//! The director's session thread: the only owner of the [`Session`] (engine + store). Other
//! threads and the async network tasks talk to it through a channel, so blocking SQLite work
//! never runs on the runtime that keeps QUIC connections alive. It fires deadlines on time
//! (pre-waits, post-waits, countdown cues, the time-out) by waiting on its channel no longer
//! than the next deadline. Inputs that queue up while it is busy go into one transaction (group
//! commit: one fsync for all of them, [`Session::submit_batch`]), each still acknowledged only
//! once committed.

use crate::engine::{Effect, Input, Millis};
use crate::session::Session;
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

enum Request {
    Submit(Input, Sender<Result<Output, String>>),
    Together(Vec<Input>, Sender<Result<Vec<Output>, String>>),
    With(Box<dyn FnOnce(&Session) + Send>),
    WithMut(Box<dyn FnOnce(&mut Session) + Send>),
    Stop,
}

/// A handle to the session thread; clone it freely.
#[derive(Clone)]
pub struct DirectorHandle {
    tx: Sender<Request>,
}

/// The running session thread.
pub struct Director {
    handle: DirectorHandle,
    thread: Option<JoinHandle<Session>>,
}

impl Director {
    /// Starts the thread that owns `session`. Every output (effects of inputs and of deadlines)
    /// is also sent to `outputs`, for the network to route to devices.
    pub fn start(mut session: Session, outputs: Sender<Output>) -> Self {
        let (tx, rx) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("boussole-session".into())
            .spawn(move || {
                run(&mut session, &rx, &outputs);
                session
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

    /// Stops the thread and gives the session back (for a clean shutdown or tests).
    pub fn stop(mut self) -> Option<Session> {
        let _ = self.handle.tx.send(Request::Stop);
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl DirectorHandle {
    /// Logs and handles `input` now; returns its effects once committed.
    ///
    /// # Errors
    /// The session thread is gone, or the store failed (the message says why).
    pub fn submit(&self, input: Input) -> Result<Output, String> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Request::Submit(input, tx))
            .map_err(|_| "le directeur est arrêté".to_owned())?;
        rx.recv()
            .map_err(|_| "le directeur est arrêté".to_owned())?
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
                .send(Request::Submit(input, tx))
                .map_err(|_| "le directeur est arrêté".to_owned())?;
            replies.push(rx);
        }
        replies
            .into_iter()
            .map(|rx| rx.recv().map_err(|_| "le directeur est arrêté".to_owned()))
            .collect()
    }

    /// Logs and handles `inputs` as **one** batch (one transaction, nothing else between them,
    /// in order): what must go together, such as an enrolment and the person who takes the
    /// slot. Returns each input's output.
    ///
    /// # Errors
    /// The session thread is gone, or the store failed (nothing of the batch was logged).
    pub fn submit_together(&self, inputs: Vec<Input>) -> Result<Vec<Output>, String> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Request::Together(inputs, tx))
            .map_err(|_| "le directeur est arrêté".to_owned())?;
        rx.recv()
            .map_err(|_| "le directeur est arrêté".to_owned())?
    }

    /// Runs `f` on the session thread with read access to the session, and returns its result.
    ///
    /// # Errors
    /// The session thread is gone.
    pub fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Session) -> R + Send + 'static,
    ) -> Result<R, String> {
        let (tx, rx) = mpsc::channel();
        let job = move |s: &Session| {
            let _ = tx.send(f(s));
        };
        self.tx
            .send(Request::With(Box::new(job)))
            .map_err(|_| "le directeur est arrêté".to_owned())?;
        rx.recv().map_err(|_| "le directeur est arrêté".to_owned())
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
        let (tx, rx) = mpsc::channel();
        let job = move |s: &mut Session| {
            let _ = tx.send(f(s));
        };
        self.tx
            .send(Request::WithMut(Box::new(job)))
            .map_err(|_| "le directeur est arrêté".to_owned())?;
        rx.recv().map_err(|_| "le directeur est arrêté".to_owned())
    }
}

/// The most inputs one group commit takes: they queued up while the thread was busy; past this
/// the rest wait for the next transaction (a bound on one commit's latency).
pub const MAX_BATCH: usize = 256;

fn run(session: &mut Session, rx: &Receiver<Request>, outputs: &Sender<Output>) {
    // A request taken from the channel while gathering a batch, handled next.
    let mut next: Option<Request> = None;
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
        let request = match next.take() {
            Some(r) => r,
            None => {
                let wait = session
                    .engine()
                    .next_deadline()
                    .map(|t| Duration::from_millis(t.0.saturating_sub(now.0)))
                    .unwrap_or(Duration::from_secs(3600));
                match rx.recv_timeout(wait) {
                    Ok(r) => r,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        };
        match request {
            Request::Submit(input, reply) => {
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
            Request::With(f) => f(session),
            Request::WithMut(f) => f(session),
            Request::Stop => return,
        }
    }
}
