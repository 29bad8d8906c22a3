//! The UAS side of a call: ringing, answer with the 2xx retransmitted until the ACK,
//! rejection, and the end of an unanswered call.

use std::collections::HashMap;
use std::time::Instant;

use super::{Call, Cancel, Direction, OkRetransmit, Phase, end, reliable, send_bye};
use crate::auth::AuthSession;
use crate::core::Ctx;
use crate::dialog::Dialog;
use crate::error::{Error, Result};
use crate::event::{CallHandle, EndCause, EndedBy, Event};
use crate::message::SipMessage;
use crate::transaction::{ClientKey, ServerKey};

pub(super) fn start(
    now: Instant,
    ctx: &mut Ctx,
    handle: CallHandle,
    key: ServerKey,
    request: &SipMessage,
) -> Option<Call> {
    let local_tag = ctx.random_token(10);
    let reply = |ctx: &mut Ctx, status: u16| {
        if let Some(response) = ctx.response_for(&key, status, Some(&local_tag)) {
            ctx.respond(now, &key, response);
        }
    };
    let Some(dialog) = Dialog::from_request(request, &local_tag, false) else {
        // No Contact, From or Call-ID: §8.2 bad request.
        reply(ctx, 400);
        return None;
    };
    let content_type = request
        .header("Content-Type")
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
    let remote_sdp = match (request.body_text(), content_type.as_deref()) {
        (None, _) => None,
        (Some(sdp), Some("application/sdp")) => Some(sdp.to_owned()),
        (Some(_), _) => {
            if let Some(mut response) = ctx.response_for(&key, 415, Some(&local_tag)) {
                response.push_header("Accept", "application/sdp");
                ctx.respond(now, &key, response);
            }
            return None;
        }
    };
    let from = request.from_header()?;
    let mut ringing = ctx.response_for(&key, 180, Some(&local_tag))?;
    if let Some(contact) = ctx.contact_header() {
        ringing.push_header("Contact", contact);
    }
    let prefer = ctx.config.prefer_100rel;
    let uas_rel = reliable::UasReliability::for_invite(ctx, request, prefer);
    let mut call = Call {
        handle,
        direction: Direction::Incoming,
        phase: Phase::Calling,
        invite: request.clone(),
        invite_client: None,
        invite_final: false,
        provisional_seen: false,
        invite_server: Some(key),
        local_tag,
        dialog: Some(dialog),
        early: Vec::new(),
        cancel: Cancel::None,
        no_answer_at: Some(now + ctx.config.no_answer_timeout),
        ok_retransmit: None,
        ack: None,
        bye_after_ack: false,
        auth: AuthSession::default(),
        requests: HashMap::new(),
        ringing_reported: true,
        offer_out: None,
        offer_in: None,
        glare_retry: None,
        local_hold: false,
        remote_hold: false,
        dtmf: Default::default(),
        session_timer: None,
        transfer_pending: false,
        uac_rseq: HashMap::new(),
        uas_rel,
        scheduled: None,
        remote_uri: from.uri.clone(),
        display_name: from.display.clone(),
    };
    reliable::send_provisional(now, ctx, &mut call, ringing);
    ctx.events.push_back(Event::IncomingCall {
        call: handle,
        remote_uri: from.uri,
        display_name: from.display,
        remote_sdp,
    });
    Some(call)
}

/// Early media: 183 Session Progress with our SDP (reliable when the call uses `100rel`).
pub(super) fn early_media(now: Instant, ctx: &mut Ctx, call: &mut Call, sdp: &str) -> Result<()> {
    if call.direction != Direction::Incoming || call.phase != Phase::Calling {
        return Err(Error::InvalidCallState {
            call: call.handle,
            action: "send early media",
            state: call.phase.name(),
        });
    }
    let key = call.invite_server.clone().ok_or(Error::InvalidCallState {
        call: call.handle,
        action: "send early media",
        state: "without INVITE",
    })?;
    let mut progress =
        ctx.response_for(&key, 183, Some(&call.local_tag))
            .ok_or(Error::InvalidCallState {
                call: call.handle,
                action: "send early media",
                state: "cancelled",
            })?;
    if let Some(contact) = ctx.contact_header() {
        progress.push_header("Contact", contact);
    }
    progress.set_body("application/sdp", sdp.as_bytes());
    reliable::send_provisional(now, ctx, call, progress);
    Ok(())
}

/// Sends a final non-2xx response to the INVITE.
pub(super) fn final_response(now: Instant, ctx: &mut Ctx, call: &mut Call, status: u16) {
    let Some(key) = call.invite_server.clone() else {
        return;
    };
    call.uas_rel.stop();
    if let Some(response) = ctx.response_for(&key, status, Some(&call.local_tag)) {
        ctx.respond(now, &key, response);
    }
}

pub(super) fn answer(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    sdp: Option<&str>,
) -> Result<()> {
    if call.direction != Direction::Incoming || call.phase != Phase::Calling {
        return Err(Error::InvalidCallState {
            call: call.handle,
            action: "answer",
            state: call.phase.name(),
        });
    }
    let key = call.invite_server.clone().ok_or(Error::InvalidCallState {
        call: call.handle,
        action: "answer",
        state: "without INVITE",
    })?;
    let contact = ctx
        .contact_header()
        .ok_or(Error::NotConnected { what: "a 200 OK" })?;
    let mut ok =
        ctx.response_for(&key, 200, Some(&call.local_tag))
            .ok_or(Error::InvalidCallState {
                call: call.handle,
                action: "answer",
                state: "cancelled",
            })?;
    ok.push_header("Contact", contact);
    ok.push_header("Allow", crate::core::ALLOW);
    ok.push_header("Supported", "100rel, timer, outbound");
    let invite = call.invite.clone();
    super::session_timer::on_uas_answer(now, call, &invite, &mut ok, ctx.config.session_expires);
    if let Some(sdp) = sdp {
        ok.set_body("application/sdp", sdp.as_bytes());
    }
    call.phase = Phase::Answering;
    call.no_answer_at = None;
    if call.uas_rel.blocks_2xx() {
        // RFC 3262 §3: no 2xx before the PRACK of a reliable 18x that carried SDP.
        call.uas_rel.held_ok = Some(ok);
    } else {
        send_ok(now, ctx, call, &key, ok);
    }
    ctx.events.push_back(Event::Accepted { call: call.handle });
    Ok(())
}

/// Sends our 2xx to the INVITE and retransmits it until the ACK (§13.3.1.4).
pub(super) fn send_ok(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    key: &ServerKey,
    ok: SipMessage,
) {
    call.uas_rel.stop();
    ctx.respond(now, key, ok.clone());
    if let Some(dialog) = call.dialog.as_mut() {
        dialog.state = crate::dialog::DialogState::Confirmed;
    }
    let t1 = ctx.config.timers.t1;
    call.ok_retransmit = Some(OkRetransmit {
        response: ok,
        next_at: now + t1,
        interval: t1,
        give_up_at: now + ctx.config.timers.timeout(),
        renegotiation: false,
    });
}

pub(super) fn on_ack(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    ack: &SipMessage,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    if call.ok_retransmit.is_none() || !call.dialog.as_ref().is_some_and(|d| d.matches_request(ack))
    {
        return;
    }
    let renegotiation = call.ok_retransmit.take().is_some_and(|ok| ok.renegotiation);
    if renegotiation {
        if let Some(sdp) = ack.body_text() {
            ctx.events.push_back(Event::RemoteAnswer {
                call: call.handle,
                sdp: sdp.to_owned(),
            });
        }
        return;
    }
    if call.bye_after_ack {
        call.phase = Phase::Confirmed;
        send_bye(now, ctx, call, by_key);
        call.phase = Phase::Ended;
        return;
    }
    call.phase = Phase::Confirmed;
    if let Some(sdp) = ack.body_text() {
        ctx.events.push_back(Event::RemoteAnswer {
            call: call.handle,
            sdp: sdp.to_owned(),
        });
    }
    ctx.events.push_back(Event::Confirmed { call: call.handle });
}

/// Retransmits the 2xx (T1 doubling to T2) until the ACK, and gives up after 64·T1.
pub(super) fn on_ok_timer(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let Some(ok) = call.ok_retransmit.as_mut() else {
        return;
    };
    if ok.give_up_at <= now {
        // §13.3.1.4: the dialog is confirmed but the session should end.
        call.ok_retransmit = None;
        tracing::warn!(call = %call.handle, "no ACK for our 2xx: hanging up");
        send_bye(now, ctx, call, by_key);
        end(ctx, call, EndedBy::System, EndCause::Timeout);
        return;
    }
    if ok.next_at <= now {
        ctx.resend(&ok.response);
        ok.interval = (ok.interval * 2).min(ctx.config.timers.t2);
        ok.next_at += ok.interval;
    }
}
