//! Each call's media as the loop sees it: the session once made, the worker that makes
//! offers and answers off the loop, the mute state; and what the loop does when that work
//! comes back.

use std::sync::Arc;

use sip_media::{MediaEvent, MediaSession};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Driver, media_error, now, respond};
use crate::driver::worker::{self, Finished, MediaJob, Reply, Worker};
use crate::driver::{MediaHandle, MuteState};
use crate::error::{Error, Result};
use crate::event::{CallHandle, DtmfMethod, Event};

/// Media of one call: its session once made, its worker, its mute state.
pub(super) struct CallMedia {
    pub(super) session: Option<Arc<dyn MediaSession>>,
    /// The offer of the caller's INVITE (`None` when it had no SDP).
    pub(super) remote_offer: Option<String>,
    /// An answer is being made (the session may not exist yet).
    pub(super) answering: bool,
    /// The answer sent in a 183 (early media), which the 200 repeats.
    pub(super) early_answer: Option<String>,
    /// The direction before our hold or resume re-INVITE still awaiting its answer, put
    /// back if the peer refuses it.
    pub(super) direction_before: Option<sip_media::Direction>,
    pub(super) mute: MuteState,
    /// `Call::wait_media` callers, answered when the session exists.
    pub(super) waiters: Vec<oneshot::Sender<Result<Option<MediaHandle>>>>,
    pub(super) worker: Worker,
}

impl CallMedia {
    pub(super) fn new(worker: Worker) -> CallMedia {
        CallMedia {
            session: None,
            remote_offer: None,
            answering: false,
            early_answer: None,
            direction_before: None,
            mute: MuteState::default(),
            waiters: Vec::new(),
            worker,
        }
    }

    /// Takes the call's new session: applies the mute state and answers the waiters.
    pub(super) fn set_session(&mut self, call: CallHandle, session: Arc<dyn MediaSession>) {
        session.set_muted(self.mute.microphone);
        session.set_camera_muted(self.mute.camera);
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Ok(Some(MediaHandle::new(call, session.clone()))));
        }
        self.session = Some(session);
    }

    /// The call ended: waiters learn it is gone, and the media closes (at once, so a session
    /// still gathering candidates stops; the worker closes it again after its queue, which is
    /// harmless as closing is idempotent).
    pub(super) fn end(mut self, call: CallHandle) -> Vec<JoinHandle<()>> {
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Err(Error::UnknownCall { call }));
        }
        let mut tasks = vec![self.worker.close()];
        if let Some(session) = self.session {
            tasks.push(tokio::spawn(async move {
                let _ = session.close().await;
            }));
        }
        tasks
    }
}

impl Driver {
    /// Starts an outgoing call: the session and offer are made off the loop, the INVITE goes
    /// out when they are ready ([`Finished::Outgoing`]).
    pub(super) fn call(&mut self, target: String, reply: Reply<CallHandle>) {
        let transport = self.transport_kind();
        worker::prepare_outgoing(
            target,
            transport,
            self.factory.clone(),
            self.finished_sender(),
            reply,
        );
    }

    /// Answers an incoming call: the session and answer are made off the loop, the 2xx (or
    /// with `early` the 183) goes out when they are ready ([`Finished::Answer`]). After early
    /// media the 2xx repeats the 183's answer at once.
    pub(super) fn answer(&mut self, call: CallHandle, early: bool, reply: Reply<()>) {
        let transport = self.transport_kind();
        let Some(media) = self.media.get_mut(&call) else {
            return respond(reply, Err(Error::UnknownCall { call }), "answer");
        };
        if let Some(sdp) = &media.early_answer
            && !early
            && !media.answering
        {
            let result = self.core.answer(now(), call, Some(sdp));
            return respond(reply, result, "answer");
        }
        if early && media.remote_offer.is_none() {
            let refused = Err(Error::InvalidCallState {
                call,
                action: "send early media",
                state: "without an offer from the caller",
            });
            return respond(reply, refused, "early media");
        }
        if media.answering || media.session.is_some() {
            let state = if media.answering {
                "answering"
            } else {
                "answered"
            };
            let refused = Err(Error::InvalidCallState {
                call,
                action: "answer",
                state,
            });
            return respond(reply, refused, "answer");
        }
        media.answering = true;
        // Cloned, not taken: an answer that fails without ending the call may be retried.
        media.worker.queue(MediaJob::Answer {
            offer: media.remote_offer.clone(),
            muted: media.mute.microphone,
            transport,
            early,
            reply,
        });
    }

    /// Hold or resume: the re-offer is made off the loop, the re-INVITE goes out when it is
    /// ready ([`Finished::Reoffer`]).
    pub(super) fn hold(
        &mut self,
        call: CallHandle,
        hold: bool,
        reply: oneshot::Sender<Result<()>>,
    ) {
        let Some(media) = self.media.get(&call) else {
            let _ = reply.send(Err(Error::UnknownCall { call }));
            return;
        };
        if media.session.is_none() && !media.answering {
            let _ = reply.send(Err(Error::InvalidCallState {
                call,
                action: if hold { "hold" } else { "resume" },
                state: "without media (not answered)",
            }));
            return;
        }
        let direction = if hold {
            sip_media::Direction::SendOnly
        } else {
            sip_media::Direction::SendRecv
        };
        media.worker.queue(MediaJob::Reoffer {
            direction,
            reply: Some(reply),
        });
    }

    /// Media work came back: carry on with the signalling it was waited for.
    pub(super) fn on_finished(&mut self, finished: Finished) {
        match finished {
            Finished::Outgoing {
                target,
                result,
                reply,
            } => {
                let result = match result {
                    Ok((session, offer)) => match self.core.invite(now(), &target, Some(&offer)) {
                        Ok(call) => {
                            let worker = Worker::start(
                                call,
                                Some(session.clone()),
                                self.factory.clone(),
                                self.finished_sender(),
                            );
                            let mut media = CallMedia::new(worker);
                            media.set_session(call, session);
                            self.media.insert(call, media);
                            Ok(call)
                        }
                        Err(e) => {
                            self.closing.push(tokio::spawn(async move {
                                let _ = session.close().await;
                            }));
                            Err(e)
                        }
                    },
                    Err(e) => Err(media_error(e)),
                };
                respond(reply, result, "outgoing call");
            }
            Finished::Session { call, session } => {
                if let Some(media) = self.media.get_mut(&call) {
                    media.set_session(call, session);
                }
            }
            Finished::Answer {
                call,
                result,
                early,
                reply,
            } => {
                let Some(media) = self.media.get_mut(&call) else {
                    // Hung up or cancelled while the answer was being made.
                    return respond(reply, Err(Error::UnknownCall { call }), "answer");
                };
                media.answering = false;
                let result = match result {
                    Ok(sdp) if early => {
                        let sent = self.core.early_media(now(), call, &sdp);
                        if sent.is_ok() {
                            media.early_answer = Some(sdp);
                        }
                        sent
                    }
                    Ok(sdp) => self.core.answer(now(), call, Some(&sdp)),
                    Err(e) => {
                        if e.is_not_acceptable() {
                            // RFC 3261 §13.3.1.3: an offer we cannot use gets 488.
                            if let Err(e) = self.core.reject(now(), call, 488) {
                                tracing::warn!(%call, error = %e, "488 not sent");
                            }
                        }
                        Err(media_error(e))
                    }
                };
                respond(reply, result, "answer");
            }
            Finished::Reoffer {
                call,
                result,
                previous,
                reply,
            } => {
                let Some(media) = self.media.get_mut(&call) else {
                    return respond(reply, Err(Error::UnknownCall { call }), "re-offer");
                };
                // (A failed offer was already undone by the worker.)
                let result = result.map_err(media_error).and_then(|sdp| {
                    let sent = self.core.reinvite(now(), call, &sdp);
                    match &sent {
                        // Kept until the answer, in case the peer refuses.
                        Ok(()) => media.direction_before = Some(previous),
                        // Refused before sending (one pending, call not confirmed): the
                        // session goes back to what the peer knows.
                        Err(_) => media.worker.queue(MediaJob::Restore {
                            direction: previous,
                        }),
                    }
                    sent
                });
                respond(reply, result, "re-offer");
            }
            Finished::ReofferAnswer { call, result } => {
                if !self.media.contains_key(&call) {
                    return;
                }
                let sent = match result {
                    Ok(sdp) => self.core.answer_reoffer(now(), call, &sdp),
                    Err(e) => {
                        tracing::warn!(%call, error = %e, "re-offer not usable");
                        self.core.reject_reoffer(now(), call, 488)
                    }
                };
                if let Err(e) = sent {
                    tracing::warn!(%call, error = %e, "re-offer not answered");
                }
            }
            Finished::ApplyFailed { call, error } => {
                if self.media.contains_key(&call) {
                    tracing::warn!(%call, %error, "remote SDP not usable: hanging up");
                    let _ = self.core.end_for_media_failure(now(), call);
                }
            }
            Finished::Event { call, event } => self.on_media(call, event),
        }
    }

    pub(super) fn on_media(&mut self, call: CallHandle, event: MediaEvent) {
        match event {
            MediaEvent::DtmfReceived(digit) => {
                self.emit(Event::DtmfReceived {
                    call,
                    digit,
                    method: DtmfMethod::Rfc4733,
                });
            }
            MediaEvent::Failed(reason) if self.media.contains_key(&call) => {
                tracing::warn!(%call, reason, "media failed: ending the call");
                let _ = self.core.end_for_media_failure(now(), call);
            }
            other => tracing::debug!(%call, ?other, "media event"),
        }
    }
}
