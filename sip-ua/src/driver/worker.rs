//! Media work off the driver loop. Making an offer or answer waits for ICE gathering (up to
//! seconds), so each call's media operations run in a task of their own, in the order the loop
//! queued them, and their results come back to the loop as [`Finished`] messages. Signalling
//! (other calls, registration refreshes, OPTIONS) never waits for media.

use std::sync::Arc;

use sip_media::{AnswerKind, Direction, MediaError, MediaEvent, MediaSession};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{MediaContext, MediaFactory};
use crate::error::{Error, Result};
use crate::event::CallHandle;
use crate::flow::Transport;

/// Where an API caller waits for the outcome.
pub(super) type Reply<T> = Option<oneshot::Sender<Result<T>>>;

/// One media operation of a call, run in order by the call's worker.
pub(super) enum MediaJob {
    /// Make the session (when the call has none) and our answer to the caller's offer, or an
    /// offer when the INVITE had none.
    Answer {
        offer: Option<String>,
        muted: bool,
        /// The signalling transport, for a factory choosing the kind of media.
        transport: Option<Transport>,
        /// For a 183 (early media) rather than the 200.
        early: bool,
        reply: Reply<()>,
    },
    /// Change our direction and make a re-offer (hold, resume).
    Reoffer {
        direction: Direction,
        reply: Reply<()>,
    },
    /// Put the direction back after a hold or resume the core or the peer refused.
    Restore { direction: Direction },
    /// Answer the peer's re-offer (or make an offer for its offerless re-INVITE).
    AnswerReoffer { offer: Option<String> },
    /// Apply the peer's answer to our offer.
    Apply { sdp: String, kind: AnswerKind },
}

/// A result of media work, for the driver loop.
pub(super) enum Finished {
    /// The session and offer of an outgoing call (the call does not exist yet).
    Outgoing {
        target: String,
        result: sip_media::Result<(Arc<dyn MediaSession>, String)>,
        reply: Reply<CallHandle>,
    },
    /// The call's session now exists.
    Session {
        call: CallHandle,
        session: Arc<dyn MediaSession>,
    },
    /// Our answer (or offer) for an incoming call.
    Answer {
        call: CallHandle,
        result: sip_media::Result<String>,
        early: bool,
        reply: Reply<()>,
    },
    /// Our re-offer.
    Reoffer {
        call: CallHandle,
        result: sip_media::Result<String>,
        /// The direction before the re-offer, restored when the re-INVITE is refused.
        previous: Direction,
        reply: Reply<()>,
    },
    /// Our answer to the peer's re-offer.
    ReofferAnswer {
        call: CallHandle,
        result: sip_media::Result<String>,
    },
    /// The peer's answer could not be applied.
    ApplyFailed { call: CallHandle, error: MediaError },
    /// An event of a call's session.
    Event { call: CallHandle, event: MediaEvent },
}

impl MediaJob {
    /// Takes the API caller waiting for this job, if any.
    fn take_reply(&mut self) -> Reply<()> {
        match self {
            MediaJob::Answer { reply, .. } | MediaJob::Reoffer { reply, .. } => reply.take(),
            MediaJob::AnswerReoffer { .. } | MediaJob::Restore { .. } | MediaJob::Apply { .. } => {
                None
            }
        }
    }
}

impl Finished {
    /// Hands the API caller back to the result of its job.
    fn with_reply(mut self, caller: Reply<()>) -> Finished {
        if let Finished::Answer { reply, .. } | Finished::Reoffer { reply, .. } = &mut self {
            *reply = caller;
        }
        self
    }
}

/// Tells a caller whose job will not run that the call is gone.
fn refuse(call: CallHandle, reply: Reply<()>) {
    if let Some(reply) = reply {
        let _ = reply.send(Err(Error::UnknownCall { call }));
    }
}

/// The loop's side of one call's worker.
pub(super) struct Worker {
    jobs: mpsc::UnboundedSender<MediaJob>,
    /// Dropped or fired to stop the work in progress.
    cancel: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Starts the worker of `call`, with the session it already has (outgoing calls) or none.
    pub(super) fn start(
        call: CallHandle,
        session: Option<Arc<dyn MediaSession>>,
        factory: Arc<dyn MediaFactory>,
        done: mpsc::UnboundedSender<Finished>,
    ) -> Worker {
        let (jobs, rx) = mpsc::unbounded_channel();
        let (cancel, cancelled) = oneshot::channel();
        if let Some(session) = &session {
            forward_events(call, session, done.clone());
        }
        let state = WorkerState {
            call,
            session,
            factory,
            done,
        };
        Worker {
            jobs,
            cancel,
            task: tokio::spawn(state.run(rx, cancelled)),
        }
    }

    /// Queues `job` after the call's earlier media work.
    pub(super) fn queue(&self, job: MediaJob) {
        // The worker only stops once `close` dropped this sender.
        let _ = self.jobs.send(job);
    }

    /// The call ended: the work in progress stops (a session gathering candidates for an
    /// answer nobody needs), waiting callers learn the call is gone, and the session closes;
    /// the task ends after. Dropping the worker does the same.
    pub(super) fn close(self) -> JoinHandle<()> {
        let _ = self.cancel.send(());
        self.task
    }
}

struct WorkerState {
    call: CallHandle,
    session: Option<Arc<dyn MediaSession>>,
    factory: Arc<dyn MediaFactory>,
    done: mpsc::UnboundedSender<Finished>,
}

impl WorkerState {
    async fn run(
        mut self,
        mut jobs: mpsc::UnboundedReceiver<MediaJob>,
        mut cancelled: oneshot::Receiver<()>,
    ) {
        loop {
            let mut job = tokio::select! {
                biased;
                _ = &mut cancelled => break,
                job = jobs.recv() => match job {
                    Some(job) => job,
                    None => break,
                },
            };
            let reply = job.take_reply();
            tokio::select! {
                biased;
                _ = &mut cancelled => {
                    refuse(self.call, reply);
                    break;
                }
                finished = self.work(job) => {
                    if let Some(finished) = finished {
                        let _ = self.done.send(finished.with_reply(reply));
                    }
                }
            }
        }
        jobs.close();
        while let Ok(mut job) = jobs.try_recv() {
            refuse(self.call, job.take_reply());
        }
        // The call ended (or the driver stopped): release sockets.
        if let Some(session) = self.session.take()
            && let Err(e) = session.close().await
        {
            tracing::debug!(call = %self.call, error = %e, "closing the media session");
        }
    }

    /// Runs `job` (its caller taken out); what the loop must hear, if anything.
    async fn work(&mut self, job: MediaJob) -> Option<Finished> {
        let call = self.call;
        let finished = match job {
            MediaJob::Answer {
                offer,
                muted,
                transport,
                early,
                reply,
            } => {
                let context = MediaContext::new(transport, offer.as_deref());
                let result = match self.session(muted, context).await {
                    Ok(session) => match &offer {
                        Some(offer) => session.create_answer(offer).await,
                        None => session.create_offer().await,
                    },
                    Err(e) => Err(e),
                };
                Finished::Answer {
                    call,
                    result,
                    early,
                    reply,
                }
            }
            MediaJob::Reoffer { direction, reply } => {
                let Some(session) = &self.session else {
                    return Some(Finished::Reoffer {
                        call,
                        result: Err(no_session("re-offer")),
                        previous: direction,
                        reply,
                    });
                };
                let previous = session.direction();
                let result = match session.set_direction(direction).await {
                    Ok(()) => session.create_offer().await,
                    Err(e) => Err(e),
                };
                if result.is_err() {
                    restore(call, session, previous).await;
                }
                Finished::Reoffer {
                    call,
                    result,
                    previous,
                    reply,
                }
            }
            MediaJob::Restore { direction } => {
                if let Some(session) = &self.session {
                    restore(call, session, direction).await;
                }
                return None;
            }
            MediaJob::AnswerReoffer { offer } => {
                let result = match (&self.session, offer) {
                    (Some(session), Some(offer)) => session.create_answer(&offer).await,
                    (Some(session), None) => session.create_offer().await,
                    (None, _) => Err(no_session("answer a re-offer")),
                };
                Finished::ReofferAnswer { call, result }
            }
            MediaJob::Apply { sdp, kind } => {
                let session = self.session.as_ref()?;
                match session.apply_answer(&sdp, kind).await {
                    Ok(()) => return None,
                    Err(error) => Finished::ApplyFailed { call, error },
                }
            }
        };
        Some(finished)
    }

    /// The call's session, made now when it has none (announced to the loop before any result
    /// that needs it).
    async fn session(
        &mut self,
        muted: bool,
        context: MediaContext<'_>,
    ) -> sip_media::Result<Arc<dyn MediaSession>> {
        if let Some(session) = &self.session {
            return Ok(session.clone());
        }
        let session = self.factory.create_for(context).await?;
        session.set_muted(muted);
        forward_events(self.call, &session, self.done.clone());
        self.session = Some(session.clone());
        let _ = self.done.send(Finished::Session {
            call: self.call,
            session: session.clone(),
        });
        Ok(session)
    }
}

/// Sets `session` back to `direction` (a hold or resume that did not happen).
async fn restore(call: CallHandle, session: &Arc<dyn MediaSession>, direction: Direction) {
    tracing::debug!(%call, ?direction, "media direction restored");
    if let Err(e) = session.set_direction(direction).await {
        tracing::warn!(%call, error = %e, "media direction not restored");
    }
}

fn no_session(operation: &'static str) -> MediaError {
    MediaError::InvalidState {
        operation,
        state: "the call has no media session".to_owned(),
    }
}

/// Makes an outgoing call's session and offer off the loop; the loop sends the INVITE when
/// [`Finished::Outgoing`] arrives. Closes the session itself when the loop has gone.
pub(super) fn prepare_outgoing(
    target: String,
    transport: Option<Transport>,
    factory: Arc<dyn MediaFactory>,
    done: mpsc::UnboundedSender<Finished>,
    reply: Reply<CallHandle>,
) {
    tokio::spawn(async move {
        let prepare = async {
            let session = factory
                .create_for(MediaContext::new(transport, None))
                .await?;
            match session.create_offer().await {
                Ok(offer) => Ok((session, offer)),
                Err(e) => {
                    let _ = session.close().await;
                    Err(e)
                }
            }
        };
        // The driver stopping ends the wait (the caller hears the agent stopped).
        let result = tokio::select! {
            result = prepare => result,
            () = done.closed() => return,
        };
        if let Err(tokio::sync::mpsc::error::SendError(Finished::Outgoing {
            result: Ok((session, _)),
            ..
        })) = done.send(Finished::Outgoing {
            target,
            result,
            reply,
        }) {
            let _ = session.close().await;
        }
    });
}

/// Forwards a session's events into the driver loop until the session closes.
fn forward_events(
    call: CallHandle,
    session: &Arc<dyn MediaSession>,
    done: mpsc::UnboundedSender<Finished>,
) {
    let mut events = session.events();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if done.send(Finished::Event { call, event }).is_err() {
                        break;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
