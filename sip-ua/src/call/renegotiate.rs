//! Re-INVITE and UPDATE inside a confirmed dialog (RFC 3261 §14, RFC 3311): hold and resume,
//! remote renegotiation, and glare (491 with the §14.1 retry timers).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;

use super::{Call, CallHandle, Direction, OkRetransmit, Phase, end};
use crate::core::Ctx;
use crate::error::{Error, Result};
use crate::event::{EndCause, EndedBy, Event, HoldSide};
use crate::message::{Method, SipMessage};
use crate::transaction::{ClientEvent, ClientKey, ServerKey};

/// Our offer in flight.
#[derive(Debug, Clone)]
pub(crate) struct OutgoingOffer {
    pub(crate) key: ClientKey,
    pub(crate) sdp: String,
}

/// The peer's offer waiting for our answer.
#[derive(Debug, Clone)]
pub(crate) struct IncomingOffer {
    pub(crate) key: ServerKey,
    pub(crate) method: Method,
}

/// Whether an SDP puts the stream on hold from its sender's side (`sendonly` or `inactive`).
pub(crate) fn is_hold(sdp: &str) -> bool {
    sdp.lines()
        .map(str::trim)
        .any(|l| l == "a=sendonly" || l == "a=inactive")
}

fn refuse(call: &Call, action: &'static str) -> Error {
    Error::InvalidCallState {
        call: call.handle,
        action,
        state: call.phase.name(),
    }
}

/// `reinvite(call, sdp)`: send our new offer (hold, resume, media change).
pub(crate) fn start(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    sdp: &str,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) -> Result<()> {
    if call.phase != Phase::Confirmed {
        return Err(refuse(call, "re-INVITE"));
    }
    if call.offer_out.is_some() || call.offer_in.is_some() || call.glare_retry.is_some() {
        return Err(Error::InvalidCallState {
            call: call.handle,
            action: "re-INVITE",
            state: "renegotiating",
        });
    }
    send(now, ctx, call, sdp.to_owned(), by_key)
}

fn send(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    sdp: String,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) -> Result<()> {
    let contact = ctx.contact_header().ok_or(Error::NotConnected {
        what: "a re-INVITE",
    })?;
    let dialog = call.dialog.as_mut().ok_or(Error::InvalidCallState {
        call: call.handle,
        action: "re-INVITE",
        state: "without dialog",
    })?;
    let mut request = dialog.request(Method::Invite, None);
    request.push_header("Contact", contact);
    request.push_header("Allow", crate::core::ALLOW);
    request.set_body("application/sdp", sdp.as_bytes());
    let (key, sent) = ctx.send_request(now, request)?;
    call.requests.insert(key.clone(), sent);
    by_key.insert(key.clone(), call.handle);
    call.offer_out = Some(OutgoingOffer { key, sdp });
    Ok(())
}

/// The response to our re-INVITE.
pub(crate) fn on_response(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    request: &SipMessage,
    event: ClientEvent,
) {
    let Some(offer) = call.offer_out.clone() else {
        return;
    };
    if ClientKey::of_request(request).as_ref() != Some(&offer.key) {
        // The response of an earlier, superseded re-INVITE.
        return;
    }
    let response = match event {
        ClientEvent::Provisional(_) => return,
        ClientEvent::Final(response) => response,
        ClientEvent::Timeout | ClientEvent::TransportError => {
            call.offer_out = None;
            // §14.1: a timeout on a re-INVITE ends the dialog.
            super::send_bye_untracked(now, ctx, call);
            end(ctx, call, EndedBy::System, EndCause::Timeout);
            return;
        }
    };
    call.offer_out = None;
    let status = response.status().unwrap_or(500);
    match status {
        200..=299 => {
            super::session_timer::on_refresh(now, call);
            if let Some(dialog) = call.dialog.as_mut() {
                dialog.target_refresh(&response);
                let seq = request.cseq().map(|c| c.seq).unwrap_or(dialog.local_seq);
                let ack = dialog.request(Method::Ack, Some(seq));
                ctx.send_stateless(ack);
            }
            if let Some(sdp) = response.body_text() {
                ctx.events.push_back(Event::RemoteAnswer {
                    call: call.handle,
                    sdp: sdp.to_owned(),
                });
            }
            let held = is_hold(&offer.sdp);
            if held != call.local_hold {
                call.local_hold = held;
                ctx.events.push_back(Event::HoldChanged {
                    call: call.handle,
                    side: HoldSide::Local,
                    held,
                });
            }
        }
        491 => {
            // §14.1: the Call-ID owner waits 2.1–4 s, the other side 0–2 s, in 10 ms steps.
            let steps = if call.direction == Direction::Outgoing {
                ctx.rng.random_range(210..=400)
            } else {
                ctx.rng.random_range(0..=200)
            };
            call.glare_retry = Some((now + Duration::from_millis(steps * 10), offer.sdp));
        }
        408 | 481 => {
            // §12.2.1.2: the dialog is gone.
            super::send_bye_untracked(now, ctx, call);
            end(ctx, call, EndedBy::System, EndCause::Timeout);
        }
        _ => ctx.events.push_back(Event::RenegotiationFailed {
            call: call.handle,
            status: Some(status),
        }),
    }
}

/// The glare timer fired: send the same offer again.
pub(crate) fn on_timer(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let Some((at, sdp)) = call.glare_retry.clone() else {
        return;
    };
    if at > now {
        return;
    }
    call.glare_retry = None;
    if call.phase != Phase::Confirmed {
        return;
    }
    if send(now, ctx, call, sdp, by_key).is_err() {
        ctx.events.push_back(Event::RenegotiationFailed {
            call: call.handle,
            status: None,
        });
    }
}

/// A re-INVITE or UPDATE from the peer.
pub(crate) fn on_request(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    key: &ServerKey,
    request: &SipMessage,
) {
    let reply = |ctx: &mut Ctx, status: u16| {
        if let Some(response) = ctx.response_for(key, status, None) {
            ctx.respond(now, key, response);
        }
    };
    if call.offer_out.is_some() {
        // Glare: both sides offered at once.
        return reply(ctx, 491);
    }
    if call.offer_in.is_some() || call.phase != Phase::Confirmed {
        // §14.2: an offer is still being answered; the peer may retry later.
        if let Some(mut response) = ctx.response_for(key, 500, None) {
            let seconds = ctx.rng.random_range(0..=10);
            response.push_header("Retry-After", seconds.to_string());
            ctx.respond(now, key, response);
        }
        return;
    }
    if let Some(dialog) = call.dialog.as_mut() {
        dialog.target_refresh(request);
    }
    // Any re-INVITE or UPDATE from the peer refreshes the session (RFC 4028 §10).
    super::session_timer::on_refresh(now, call);
    let method = request.method().cloned().unwrap_or(Method::Invite);
    let sdp = request.body_text().map(str::to_owned);
    if method == Method::Update && sdp.is_none() {
        // A session refresh without an offer (RFC 4028): nothing to negotiate.
        let contact = ctx.contact_header();
        if let Some(mut response) = ctx.response_for(key, 200, None) {
            if let Some(contact) = contact {
                response.push_header("Contact", contact);
            }
            ctx.respond(now, key, response);
        }
        return;
    }
    if let Some(sdp) = &sdp {
        let held = is_hold(sdp);
        if held != call.remote_hold {
            call.remote_hold = held;
            ctx.events.push_back(Event::HoldChanged {
                call: call.handle,
                side: HoldSide::Remote,
                held,
            });
        }
    }
    call.offer_in = Some(IncomingOffer {
        key: key.clone(),
        method,
    });
    ctx.events.push_back(Event::RemoteOffer {
        call: call.handle,
        sdp,
    });
}

/// Our answer to the peer's re-INVITE or UPDATE (an offer when its re-INVITE had none).
pub(crate) fn answer(now: Instant, ctx: &mut Ctx, call: &mut Call, sdp: &str) -> Result<()> {
    let offer = call.offer_in.take().ok_or(Error::InvalidCallState {
        call: call.handle,
        action: "answer a re-offer",
        state: "without a pending offer",
    })?;
    let contact = ctx.contact_header();
    let mut ok = ctx
        .response_for(&offer.key, 200, None)
        .ok_or(Error::InvalidCallState {
            call: call.handle,
            action: "answer a re-offer",
            state: "its transaction is gone",
        })?;
    if let Some(contact) = contact {
        ok.push_header("Contact", contact);
    }
    ok.set_body("application/sdp", sdp.as_bytes());
    ctx.respond(now, &offer.key, ok.clone());
    if offer.method == Method::Invite {
        let t1 = ctx.config.timers.t1;
        call.ok_retransmit = Some(OkRetransmit {
            response: ok,
            next_at: now + t1,
            interval: t1,
            give_up_at: now + ctx.config.timers.timeout(),
            renegotiation: true,
        });
    }
    Ok(())
}

/// Refuses the peer's re-offer (488 for SDP we cannot use).
pub(crate) fn reject(now: Instant, ctx: &mut Ctx, call: &mut Call, status: u16) -> Result<()> {
    let offer = call.offer_in.take().ok_or(Error::InvalidCallState {
        call: call.handle,
        action: "reject a re-offer",
        state: "without a pending offer",
    })?;
    if let Some(response) = ctx.response_for(&offer.key, status, None) {
        ctx.respond(now, &offer.key, response);
    }
    Ok(())
}
