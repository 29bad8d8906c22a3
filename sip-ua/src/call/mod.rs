//! Calls: the INVITE dialog usage both ways (RFC 3261 §13–15), with CANCEL, no-answer
//! timeout, forking and the 2xx/ACK rules, on top of the transaction layer.

mod in_dialog;
mod incoming;
mod outgoing;
mod reliable;
mod renegotiate;
mod session_timer;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::auth::AuthSession;
use crate::core::Ctx;
use crate::dialog::Dialog;
use crate::error::{Error, Result};
use crate::event::{CallHandle, EndCause, EndedBy, Event};
use crate::message::{Method, SipMessage};
use crate::timer_queue::TimerQueue;
use crate::transaction::{ClientEvent, ClientKey, ServerKey};

/// Which side sent the INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// We called.
    Outgoing,
    /// We were called.
    Incoming,
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// INVITE sent or received, no final response yet.
    Calling,
    /// UAS: 2xx sent, waiting for the ACK.
    Answering,
    /// Dialog confirmed.
    Confirmed,
    /// Over for the application; may linger for pending transactions.
    Ended,
}

impl Phase {
    /// A short word for messages.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Calling => "ringing",
            Phase::Answering => "answering",
            Phase::Confirmed => "established",
            Phase::Ended => "ended",
        }
    }
}

/// A snapshot of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallInfo {
    /// Who called.
    pub direction: Direction,
    /// Where it stands.
    pub phase: Phase,
    /// The peer's URI.
    pub remote_uri: String,
    /// The peer's display name.
    pub display_name: Option<String>,
}

/// CANCEL progress of an outgoing call (§9.1: only after a provisional response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancel {
    None,
    /// Wanted, waiting for a provisional response.
    Wanted,
    Sent,
}

/// The UAS retransmitting its 2xx until the ACK comes (§13.3.1.4).
#[derive(Debug, Clone)]
pub(crate) struct OkRetransmit {
    response: SipMessage,
    next_at: Instant,
    interval: Duration,
    give_up_at: Instant,
    /// For a re-INVITE: the ACK ends the retransmission and nothing else.
    renegotiation: bool,
}

/// One call.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) handle: CallHandle,
    pub(crate) direction: Direction,
    pub(crate) phase: Phase,
    /// Our INVITE as last sent (outgoing) or the peer's INVITE (incoming).
    invite: SipMessage,
    invite_client: Option<ClientKey>,
    /// UAC: the INVITE got its final response (or timed out).
    invite_final: bool,
    /// UAC: a provisional arrived, so a CANCEL may be sent.
    provisional_seen: bool,
    invite_server: Option<ServerKey>,
    local_tag: String,
    /// The confirmed dialog (UAC), or our dialog from the first tagged response (UAS).
    dialog: Option<Dialog>,
    /// UAC early dialogs, one per forked branch.
    early: Vec<Dialog>,
    cancel: Cancel,
    no_answer_at: Option<Instant>,
    ok_retransmit: Option<OkRetransmit>,
    /// UAC: the ACK for the 2xx, resent when the 2xx is retransmitted.
    ack: Option<SipMessage>,
    /// UAS: hang up as soon as the ACK arrives (§15: no BYE before it).
    bye_after_ack: bool,
    auth: AuthSession,
    /// In-dialog client transactions (BYE ...), with the request for an auth retry.
    requests: HashMap<ClientKey, SipMessage>,
    ringing_reported: bool,
    /// Our re-INVITE in flight.
    offer_out: Option<renegotiate::OutgoingOffer>,
    /// The peer's re-INVITE or UPDATE waiting for our answer.
    offer_in: Option<renegotiate::IncomingOffer>,
    /// After a 491: when to send which offer again.
    glare_retry: Option<(Instant, String)>,
    local_hold: bool,
    remote_hold: bool,
    /// INFO digits still to send.
    dtmf: in_dialog::DtmfQueue,
    /// The peer asked us to transfer; NOTIFYs owed until a final status.
    transfer_pending: bool,
    /// RFC 4028 session timer, when negotiated.
    session_timer: Option<session_timer::SessionTimer>,
    /// UAC: the last RSeq of each early dialog (by remote tag), RFC 3262 §4.
    uac_rseq: HashMap<String, u32>,
    /// UAS: reliable provisional responses (RFC 3262 §3).
    uas_rel: reliable::UasReliability,
    /// The deadline queued for this call in [`Calls`]' timer queue.
    scheduled: Option<Instant>,
    remote_uri: String,
    display_name: Option<String>,
}

impl Call {
    /// The earliest of the call's timers.
    fn next_timeout(&self) -> Option<Instant> {
        [
            self.no_answer_at,
            self.ok_retransmit
                .as_ref()
                .map(|o| o.next_at.min(o.give_up_at)),
            self.glare_retry.as_ref().map(|(at, _)| *at),
            self.dtmf.next_at,
            self.session_timer.as_ref().map(|t| t.next_at),
            self.uas_rel.next_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Every call of the user agent.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    calls: HashMap<CallHandle, Call>,
    next: u64,
    by_key: HashMap<ClientKey, CallHandle>,
    by_call_id: HashMap<String, CallHandle>,
    /// Each call's next deadline, so a tick touches only the calls that are due.
    timers: TimerQueue<CallHandle>,
}

impl Calls {
    fn allocate(&mut self) -> CallHandle {
        self.next += 1;
        CallHandle(self.next)
    }

    fn insert(&mut self, call: Call) {
        let handle = call.handle;
        if let Some(call_id) = call.invite.call_id() {
            self.by_call_id.insert(call_id.to_owned(), handle);
        }
        self.calls.insert(handle, call);
        self.settle(handle);
    }

    fn get_mut(&mut self, handle: CallHandle) -> Result<&mut Call> {
        call_mut(&mut self.calls, handle)
    }

    /// Number of calls not yet ended.
    pub(crate) fn active(&self) -> usize {
        self.calls
            .values()
            .filter(|c| c.phase != Phase::Ended)
            .count()
    }

    /// What the application may know about a call.
    pub(crate) fn info(&self, handle: CallHandle) -> Option<CallInfo> {
        self.calls.get(&handle).map(|c| CallInfo {
            direction: c.direction,
            phase: c.phase,
            remote_uri: c.remote_uri.clone(),
            display_name: c.display_name.clone(),
        })
    }

    pub(crate) fn owns(&self, key: &ClientKey) -> bool {
        self.by_key.contains_key(key)
    }

    /// After anything touched call `handle`: queue its next deadline when it changed, and
    /// drop the call once it has ended with no pending transaction.
    /// Runs a command on one call, then settles it (a command may end the call).
    fn in_call(
        &mut self,
        handle: CallHandle,
        command: impl FnOnce(&mut Call, &mut HashMap<ClientKey, CallHandle>) -> Result<()>,
    ) -> Result<()> {
        let call = call_mut(&mut self.calls, handle)?;
        let result = command(call, &mut self.by_key);
        self.settle(handle);
        result
    }

    fn settle(&mut self, handle: CallHandle) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let done = call.phase == Phase::Ended
            && call.requests.is_empty()
            && call.ok_retransmit.is_none()
            && (call.direction == Direction::Incoming || call.invite_final);
        if done {
            if let Some(call) = self.calls.remove(&handle) {
                if let Some(call_id) = call.invite.call_id() {
                    self.by_call_id.remove(call_id);
                }
                self.by_key.retain(|_, h| *h != handle);
            }
        } else {
            let next = call.next_timeout();
            if next != call.scheduled {
                call.scheduled = next;
                if let Some(at) = next {
                    self.timers.schedule(at, handle);
                }
            }
        }
        let calls = &self.calls;
        self.timers.prune(calls.len(), |handle, at| {
            calls.get(handle).is_some_and(|c| c.scheduled == Some(at))
        });
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.timers.peek()
    }

    pub(crate) fn on_timeout(&mut self, now: Instant, ctx: &mut Ctx) {
        // Each due call runs its timers once per tick (one still due is queued again).
        for (at, handle) in self.timers.pop_due(now) {
            let Some(call) = self
                .calls
                .get_mut(&handle)
                .filter(|c| c.scheduled == Some(at))
            else {
                continue;
            };
            call.scheduled = None;
            if call.no_answer_at.is_some_and(|t| t <= now) {
                call.no_answer_at = None;
                match call.direction {
                    Direction::Outgoing => outgoing::no_answer(now, ctx, call, &mut self.by_key),
                    Direction::Incoming => {
                        incoming::final_response(now, ctx, call, 408);
                        end(ctx, call, EndedBy::System, EndCause::NoAnswer);
                    }
                }
            }
            incoming::on_ok_timer(now, ctx, call, &mut self.by_key);
            renegotiate::on_timer(now, ctx, call, &mut self.by_key);
            if call.dtmf.next_at.is_some_and(|t| t <= now) {
                in_dialog::send_next(now, ctx, call, &mut self.by_key);
            }
            session_timer::on_timer(now, ctx, call, &mut self.by_key);
            reliable::on_timer(now, ctx, call);
            self.settle(handle);
        }
    }

    /// An event of a client transaction we own.
    pub(crate) fn on_client_event(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        key: ClientKey,
        event: ClientEvent,
    ) {
        let Some(handle) = self.by_key.get(&key).copied() else {
            return;
        };
        let finished = !matches!(event, ClientEvent::Provisional(_));
        if let Some(call) = self.calls.get_mut(&handle) {
            if call.invite_client.as_ref() == Some(&key) {
                outgoing::on_invite_event(now, ctx, call, event, &mut self.by_key);
            } else if let Some(request) = call.requests.get(&key).cloned() {
                if finished {
                    call.requests.remove(&key);
                }
                if key.method == Method::Invite {
                    renegotiate::on_response(now, ctx, call, &request, event);
                } else if key.method == Method::Prack {
                    reliable::on_prack_response(now, ctx, call, &request, event, &mut self.by_key);
                } else {
                    on_request_event(now, ctx, call, &request, event, &mut self.by_key);
                }
            }
        }
        if finished && key.method != Method::Invite {
            self.by_key.remove(&key);
        }
        self.settle(handle);
    }

    /// Starts an outgoing call.
    pub(crate) fn invite(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        target: &str,
        sdp: Option<&str>,
    ) -> Result<CallHandle> {
        let handle = self.allocate();
        let call = outgoing::start(now, ctx, handle, target, sdp, &mut self.by_key)?;
        ctx.events.push_back(Event::OutgoingCall {
            call: handle,
            remote_uri: target.to_owned(),
        });
        self.insert(call);
        Ok(handle)
    }

    /// A new INVITE outside any dialog.
    pub(crate) fn on_incoming_invite(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        key: ServerKey,
        request: &SipMessage,
    ) {
        if let Some(status) = ctx.config.second_call.refusal(self.active()) {
            tracing::info!(status, "incoming call refused: another call is in progress");
            let tag = ctx.random_token(10);
            if let Some(response) = ctx.response_for(&key, status, Some(&tag)) {
                ctx.respond(now, &key, response);
            }
            return;
        }
        let handle = self.allocate();
        if let Some(call) = incoming::start(now, ctx, handle, key, request) {
            self.insert(call);
        }
    }

    /// A CANCEL for the pending INVITE server transaction `invite`.
    pub(crate) fn on_cancel(&mut self, now: Instant, ctx: &mut Ctx, invite: &ServerKey) -> bool {
        let Some(call) = self
            .calls
            .values_mut()
            .find(|c| c.invite_server.as_ref() == Some(invite))
        else {
            return false;
        };
        // A 2xx held back for a PRACK has not been sent: the CANCEL still ends the INVITE.
        let held = call.phase == Phase::Answering && call.uas_rel.held_ok.is_some();
        if call.phase == Phase::Calling || held {
            incoming::final_response(now, ctx, call, 487);
            end(ctx, call, EndedBy::Remote, EndCause::RemoteCancel);
        }
        let handle = call.handle;
        self.settle(handle);
        true
    }

    /// A request carrying a To tag: find its dialog and handle it. `false` when no dialog
    /// matches (the caller answers 481).
    pub(crate) fn on_in_dialog_request(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        key: &ServerKey,
        request: &SipMessage,
    ) -> bool {
        let Some(handle) = request
            .call_id()
            .and_then(|id| self.by_call_id.get(id))
            .copied()
        else {
            return false;
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return false;
        };
        let Some(dialog) = call.dialog.as_mut().filter(|d| d.matches_request(request)) else {
            return false;
        };
        if dialog.check_remote_cseq(request).is_err() {
            if let Some(response) = ctx.response_for(key, 500, None) {
                ctx.respond(now, key, response);
            }
            return true;
        }
        match request.method() {
            Some(Method::Bye) => {
                if let Some(response) = ctx.response_for(key, 200, None) {
                    ctx.respond(now, key, response);
                }
                call.ok_retransmit = None;
                end(ctx, call, EndedBy::Remote, EndCause::RemoteBye);
            }
            Some(Method::Invite | Method::Update) => {
                renegotiate::on_request(now, ctx, call, key, request);
            }
            Some(Method::Info) => in_dialog::on_info(now, ctx, call, key, request),
            Some(Method::Refer) if call.phase == Phase::Confirmed => {
                in_dialog::on_refer(now, ctx, call, key, request, &mut self.by_key);
            }
            Some(Method::Notify) => in_dialog::on_notify(now, ctx, call, key, request),
            Some(Method::Prack) => reliable::on_prack(now, ctx, call, key, request),
            // §11: an OPTIONS inside a dialog (a keep-alive some PBXes send) is answered like
            // one outside it; 501 would make such a peer end the call.
            Some(Method::Options) => {
                if let Some(response) = ctx.capabilities_response(key, None) {
                    ctx.respond(now, key, response);
                }
            }
            _ => {
                if let Some(mut response) = ctx.response_for(key, 501, None) {
                    response.push_header("Allow", crate::core::ALLOW);
                    ctx.respond(now, key, response);
                }
            }
        }
        self.settle(handle);
        true
    }

    /// An ACK for a 2xx (RFC 6026: passed up by the transaction layer).
    pub(crate) fn on_ack(&mut self, now: Instant, ctx: &mut Ctx, ack: &SipMessage) {
        let Some(handle) = ack
            .call_id()
            .and_then(|id| self.by_call_id.get(id))
            .copied()
        else {
            return;
        };
        if let Some(call) = self.calls.get_mut(&handle) {
            incoming::on_ack(now, ctx, call, ack, &mut self.by_key);
        }
        self.settle(handle);
    }

    /// `answer(call, sdp)`.
    pub(crate) fn answer(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        sdp: Option<&str>,
    ) -> Result<()> {
        let call = self.get_mut(handle)?;
        let result = incoming::answer(now, ctx, call, sdp);
        self.settle(handle);
        result
    }

    /// `early_media(call, sdp)`: 183 Session Progress with our SDP.
    pub(crate) fn early_media(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        sdp: &str,
    ) -> Result<()> {
        let call = self.get_mut(handle)?;
        let result = incoming::early_media(now, ctx, call, sdp);
        self.settle(handle);
        result
    }

    /// `reject(call, status)`.
    pub(crate) fn reject(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        status: u16,
    ) -> Result<()> {
        if !(300..700).contains(&status) {
            return Err(Error::InvalidStatus {
                status,
                action: "reject",
                allowed: "300-699",
            });
        }
        let call = self.get_mut(handle)?;
        if call.direction != Direction::Incoming || call.phase != Phase::Calling {
            return Err(Error::InvalidCallState {
                call: handle,
                action: "reject",
                state: call.phase.name(),
            });
        }
        incoming::final_response(now, ctx, call, status);
        end(ctx, call, EndedBy::Local, EndCause::Rejected);
        self.settle(handle);
        Ok(())
    }

    /// `reinvite(call, sdp)`: a new offer in the confirmed dialog.
    pub(crate) fn reinvite(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        sdp: &str,
    ) -> Result<()> {
        self.in_call(handle, |call, by_key| {
            renegotiate::start(now, ctx, call, sdp, by_key)
        })
    }

    /// Queues DTMF digits to send by SIP INFO.
    pub(crate) fn send_info_dtmf(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        digits: &str,
        duration: Duration,
    ) -> Result<()> {
        self.in_call(handle, |call, by_key| {
            in_dialog::queue_dtmf(now, ctx, call, digits, duration, by_key)
        })
    }

    /// Sends a REFER (blind transfer).
    pub(crate) fn refer(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        target: &str,
    ) -> Result<()> {
        self.in_call(handle, |call, by_key| {
            in_dialog::refer(now, ctx, call, target, by_key)
        })
    }

    /// Reports the transfer call's progress to the referrer.
    pub(crate) fn notify_transfer(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        status: u16,
    ) -> Result<()> {
        let call = call_mut(&mut self.calls, handle)?;
        if !call.transfer_pending {
            return Err(Error::InvalidCallState {
                call: handle,
                action: "report a transfer",
                state: "without a pending REFER",
            });
        }
        in_dialog::notify_transfer(now, ctx, call, status, &mut self.by_key);
        self.settle(handle);
        Ok(())
    }

    /// Answers the peer's pending re-offer.
    pub(crate) fn answer_reoffer(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        sdp: &str,
    ) -> Result<()> {
        let call = self.get_mut(handle)?;
        let result = renegotiate::answer(now, ctx, call, sdp);
        self.settle(handle);
        result
    }

    /// Refuses the peer's pending re-offer.
    pub(crate) fn reject_reoffer(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        status: u16,
    ) -> Result<()> {
        let call = self.get_mut(handle)?;
        let result = renegotiate::reject(now, ctx, call, status);
        self.settle(handle);
        result
    }

    /// `hangup(call)`: CANCEL, reject or BYE depending on the state.
    pub(crate) fn hangup(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        handle: CallHandle,
        why: Option<(EndedBy, EndCause)>,
    ) -> Result<()> {
        let call = call_mut(&mut self.calls, handle)?;
        match (call.direction, call.phase) {
            (_, Phase::Ended) => {
                return Err(Error::InvalidCallState {
                    call: handle,
                    action: "hang up",
                    state: "ended",
                });
            }
            (Direction::Outgoing, Phase::Calling) => {
                outgoing::cancel(now, ctx, call, &mut self.by_key);
                let (by, cause) = why.unwrap_or((EndedBy::Local, EndCause::LocalCancel));
                end(ctx, call, by, cause);
            }
            (Direction::Incoming, Phase::Calling) => {
                // JsSIP's default for terminating an unanswered incoming call.
                incoming::final_response(now, ctx, call, 480);
                let (by, cause) = why.unwrap_or((EndedBy::Local, EndCause::Rejected));
                end(ctx, call, by, cause);
            }
            (Direction::Incoming, Phase::Answering) if call.uas_rel.held_ok.is_some() => {
                // Our 2xx still waits for a PRACK: nothing was accepted yet on the wire.
                incoming::final_response(now, ctx, call, 480);
                let (by, cause) = why.unwrap_or((EndedBy::Local, EndCause::Rejected));
                end(ctx, call, by, cause);
            }
            (_, Phase::Answering) => {
                call.bye_after_ack = true;
                let (by, cause) = why.unwrap_or((EndedBy::Local, EndCause::LocalBye));
                end(ctx, call, by, cause);
            }
            (_, Phase::Confirmed) => {
                send_bye(now, ctx, call, &mut self.by_key);
                let (by, cause) = why.unwrap_or((EndedBy::Local, EndCause::LocalBye));
                end(ctx, call, by, cause);
            }
        }
        self.settle(handle);
        Ok(())
    }
}

/// Reports the end of a call once.
pub(crate) fn end(ctx: &mut Ctx, call: &mut Call, by: EndedBy, cause: EndCause) {
    if call.phase == Phase::Ended {
        return;
    }
    call.phase = Phase::Ended;
    call.no_answer_at = None;
    ctx.events.push_back(Event::Ended {
        call: call.handle,
        by,
        cause,
    });
}

/// Sends a request in the call's dialog and tracks its transaction.
pub(crate) fn send_in_dialog(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    method: Method,
    body: Option<(&str, &[u8])>,
    headers: &[(&str, &str)],
    by_key: &mut HashMap<ClientKey, CallHandle>,
) -> Option<ClientKey> {
    let dialog = call.dialog.as_mut()?;
    let mut request = dialog.request(method, None);
    for (name, value) in headers {
        request.push_header(name, *value);
    }
    if let Some((content_type, body)) = body {
        request.set_body(content_type, body);
    }
    let (key, sent) = ctx.send_request(now, request).ok()?;
    call.requests.insert(key.clone(), sent);
    by_key.insert(key.clone(), call.handle);
    Some(key)
}

pub(crate) fn send_bye(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    if send_in_dialog(now, ctx, call, Method::Bye, None, &[], by_key).is_none() {
        tracing::warn!(call = %call.handle, "BYE could not be sent (no flow)");
    }
}

/// A BYE whose outcome nobody waits for (the dialog is being torn down after a failure).
pub(crate) fn send_bye_untracked(now: Instant, ctx: &mut Ctx, call: &mut Call) {
    if let Some(dialog) = call.dialog.as_mut() {
        let bye = dialog.request(Method::Bye, None);
        let _ = ctx.send_request(now, bye);
    }
}

/// The outcome of an in-dialog request (BYE ...): challenges are answered once.
fn on_request_event(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    request: &SipMessage,
    event: ClientEvent,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let ClientEvent::Final(response) = event else {
        if request.method() == Some(&Method::Update)
            && matches!(event, ClientEvent::Timeout | ClientEvent::TransportError)
        {
            session_timer::on_refresh_response(now, ctx, call, 408);
        }
        return;
    };
    if request.method() == Some(&Method::Update)
        && let Some(status) = response.status()
        && !matches!(status, 401 | 407)
    {
        session_timer::on_refresh_response(now, ctx, call, status);
    }
    if matches!(response.status(), Some(401 | 407)) {
        let mut retry = request.clone();
        if let Some(dialog) = call.dialog.as_mut() {
            dialog.local_seq += 1;
            let method = request.method().cloned().unwrap_or(Method::Bye);
            retry.set_header("CSeq", format!("{} {method}", dialog.local_seq));
        }
        let cnonce = ctx.random_token(16);
        if call
            .auth
            .answer(&mut retry, &response, &ctx.config.credentials, &cnonce)
            .is_ok()
            && let Ok((key, sent)) = ctx.send_request(now, retry)
        {
            call.requests.insert(key.clone(), sent);
            by_key.insert(key, call.handle);
        }
    }
}

/// The call behind `handle`, or the error that names it. A free function rather than a method
/// so callers can borrow other fields of [`Calls`] beside the call.
fn call_mut(calls: &mut HashMap<CallHandle, Call>, handle: CallHandle) -> Result<&mut Call> {
    calls
        .get_mut(&handle)
        .ok_or(Error::UnknownCall { call: handle })
}
