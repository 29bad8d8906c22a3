//! The UAC side of a call: INVITE, provisional responses and early dialogs, 2xx and ACK,
//! forked 2xx, CANCEL and the failures.

use std::collections::HashMap;
use std::time::Instant;

use super::{Call, Cancel, Direction, Phase, end, send_bye};
use crate::auth::AuthSession;
use crate::core::Ctx;
use crate::dialog::Dialog;
use crate::error::{Error, Result};
use crate::event::{CallHandle, EndCause, EndedBy, Event};
use crate::message::{Method, SipMessage};
use crate::transaction::{ClientEvent, ClientKey};
use crate::values::NameAddr;

pub(super) fn start(
    now: Instant,
    ctx: &mut Ctx,
    handle: CallHandle,
    target: &str,
    sdp: Option<&str>,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) -> Result<Call> {
    let contact = ctx
        .contact_header()
        .ok_or(Error::NotConnected { what: "an INVITE" })?;
    let local_tag = ctx.random_token(10);
    let call_id = ctx.random_token(22);
    let mut invite = SipMessage::request(Method::Invite, target);
    invite.push_header("Max-Forwards", "70");
    invite.push_header("To", NameAddr::new(target).to_string());
    invite.push_header("From", ctx.local_from(&local_tag));
    invite.push_header("Call-ID", call_id);
    invite.push_header("CSeq", "1 INVITE");
    invite.push_header("Contact", contact);
    invite.push_header("Allow", crate::core::ALLOW);
    match ctx.config.session_expires {
        Some(interval) => {
            invite.push_header("Supported", "100rel, timer, outbound");
            invite.push_header("Session-Expires", interval.as_secs().to_string());
        }
        None => invite.push_header("Supported", "100rel, outbound"),
    }
    invite.push_header("User-Agent", ctx.config.user_agent.clone());
    if let Some(sdp) = sdp {
        invite.set_body("application/sdp", sdp.as_bytes());
    }
    let (key, sent) = ctx.send_request(now, invite)?;
    by_key.insert(key.clone(), handle);
    Ok(Call {
        handle,
        direction: Direction::Outgoing,
        phase: Phase::Calling,
        invite: sent,
        invite_client: Some(key),
        invite_final: false,
        provisional_seen: false,
        invite_server: None,
        local_tag,
        dialog: None,
        early: Vec::new(),
        cancel: Cancel::None,
        no_answer_at: Some(now + ctx.config.no_answer_timeout),
        ok_retransmit: None,
        ack: None,
        bye_after_ack: false,
        auth: AuthSession::default(),
        requests: HashMap::new(),
        ringing_reported: false,
        offer_out: None,
        offer_in: None,
        glare_retry: None,
        local_hold: false,
        remote_hold: false,
        dtmf: Default::default(),
        session_timer: None,
        transfer_pending: false,
        uac_rseq: HashMap::new(),
        uas_rel: Default::default(),
        scheduled: None,
        remote_uri: target.to_owned(),
        display_name: None,
    })
}

/// CANCEL the INVITE now, or as soon as a provisional response arrives (§9.1).
pub(super) fn cancel(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    if call.cancel == Cancel::Sent || call.invite_final {
        return;
    }
    if !call.provisional_seen {
        call.cancel = Cancel::Wanted;
        return;
    }
    let invite = &call.invite;
    let mut cancel = SipMessage::request(Method::Cancel, invite.request_uri().unwrap_or_default());
    if let Some(via) = invite.values("Via").next() {
        cancel.push_header("Via", via);
    }
    cancel.push_header("Max-Forwards", "70");
    for name in ["From", "To", "Call-ID"] {
        if let Some(value) = invite.header(name) {
            cancel.push_header(name, value);
        }
    }
    if let Some(cseq) = invite.cseq() {
        cancel.push_header("CSeq", format!("{} CANCEL", cseq.seq));
    }
    for route in invite.header_values_raw("Route") {
        cancel.push_header("Route", route);
    }
    cancel.push_header("User-Agent", ctx.config.user_agent.clone());
    call.cancel = Cancel::Sent;
    if let Ok(key) = ctx.send_request_keep_via(now, cancel.clone()) {
        call.requests.insert(key.clone(), cancel);
        by_key.insert(key, call.handle);
    }
}

pub(super) fn on_invite_event(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    event: ClientEvent,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    match event {
        ClientEvent::Provisional(response) => on_provisional(now, ctx, call, &response, by_key),
        ClientEvent::Final(response) => match response.status() {
            Some(200..=299) => on_2xx(now, ctx, call, &response, by_key),
            Some(status @ (401 | 407)) if call.phase != Phase::Ended && call.dialog.is_none() => {
                retry_with_auth(now, ctx, call, &response, status, by_key);
            }
            Some(status) => {
                call.invite_final = true;
                if call.phase != Phase::Ended {
                    call.phase = Phase::Ended;
                    call.no_answer_at = None;
                    ctx.events.push_back(Event::Failed {
                        call: call.handle,
                        status: Some(status),
                        reason: response.reason().unwrap_or("").to_owned(),
                    });
                }
            }
            None => {}
        },
        ClientEvent::Timeout | ClientEvent::TransportError => {
            let timeout = matches!(event, ClientEvent::Timeout);
            call.invite_final = true;
            if call.phase == Phase::Calling {
                call.phase = Phase::Ended;
                call.no_answer_at = None;
                ctx.events.push_back(Event::Failed {
                    call: call.handle,
                    status: None,
                    reason: if timeout {
                        "no final response to the INVITE (Timer B)".to_owned()
                    } else {
                        "transport error".to_owned()
                    },
                });
            }
        }
    }
}

fn on_provisional(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    response: &SipMessage,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    call.provisional_seen = true;
    if call.cancel == Cancel::Wanted {
        cancel(now, ctx, call, by_key);
    }
    let status = response.status().unwrap_or(100);
    if status == 100 || call.phase != Phase::Calling {
        return;
    }
    let reliable = match super::reliable::classify(call, response) {
        super::reliable::Provisional::Discard => {
            tracing::debug!(call = %call.handle, "retransmitted reliable provisional dropped");
            return;
        }
        super::reliable::Provisional::New(rseq) => Some(rseq),
        super::reliable::Provisional::Unreliable => None,
    };
    if let Some(dialog) = Dialog::from_response(&call.invite, response) {
        match call
            .early
            .iter_mut()
            .find(|d| d.remote_tag == dialog.remote_tag)
        {
            Some(existing) => existing.target_refresh(response),
            None => call.early.push(dialog),
        }
    }
    if (180..=182).contains(&status) && !call.ringing_reported {
        call.ringing_reported = true;
        ctx.events.push_back(Event::Ringing { call: call.handle });
    }
    if let Some(rseq) = reliable {
        super::reliable::send_prack(now, ctx, call, response, rseq, by_key);
    }
    if let Some(sdp) = response.body_text() {
        ctx.events.push_back(Event::EarlyMedia {
            call: call.handle,
            sdp: sdp.to_owned(),
        });
    }
}

fn on_2xx(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    response: &SipMessage,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    call.invite_final = true;
    let Some(mut dialog) = Dialog::from_response(&call.invite, response) else {
        tracing::warn!(call = %call.handle, "2xx without To tag dropped");
        return;
    };
    let seq = call.invite.cseq().map(|c| c.seq).unwrap_or(1);
    if let Some(existing) = &call.dialog {
        if existing.remote_tag == dialog.remote_tag {
            // A retransmitted 2xx: our ACK was lost.
            if let Some(ack) = call.ack.clone() {
                ctx.resend(&ack);
            }
        } else {
            // A second branch answered too (forking): ACK it, then end it (§13.2.2.4).
            tracing::info!(call = %call.handle, "forked 2xx: ACK and BYE");
            let ack = dialog.request(Method::Ack, Some(seq));
            ctx.send_stateless(ack);
            let bye = dialog.request(Method::Bye, None);
            if let Ok((key, sent)) = ctx.send_request(now, bye) {
                call.requests.insert(key.clone(), sent);
                by_key.insert(key, call.handle);
            }
        }
        return;
    }
    if let Some(early) = call
        .early
        .iter()
        .find(|d| d.remote_tag == dialog.remote_tag)
    {
        let mut confirmed = early.clone();
        confirmed.confirm(response);
        dialog = confirmed;
    }
    call.early.clear();
    let ack = dialog.request(Method::Ack, Some(seq));
    call.dialog = Some(dialog);
    call.ack = ctx.send_stateless(ack);
    call.no_answer_at = None;
    if call.phase == Phase::Ended {
        // The 2xx raced our CANCEL (or the no-answer timeout): ACK, then BYE.
        send_bye(now, ctx, call, by_key);
        return;
    }
    call.phase = Phase::Confirmed;
    super::session_timer::on_uac_answer(now, call, response);
    if let Some(sdp) = response.body_text() {
        ctx.events.push_back(Event::RemoteAnswer {
            call: call.handle,
            sdp: sdp.to_owned(),
        });
    }
    ctx.events.push_back(Event::Accepted { call: call.handle });
    ctx.events.push_back(Event::Confirmed { call: call.handle });
}

fn retry_with_auth(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    response: &SipMessage,
    status: u16,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let mut retry = call.invite.clone();
    let seq = call.invite.cseq().map(|c| c.seq).unwrap_or(1) + 1;
    retry.set_header("CSeq", format!("{seq} INVITE"));
    let cnonce = ctx.random_token(16);
    let answered = call
        .auth
        .answer(&mut retry, response, &ctx.config.credentials, &cnonce);
    let sent = answered
        .ok()
        .and_then(|()| ctx.send_request(now, retry).ok());
    match sent {
        Some((key, sent)) => {
            if let Some(old) = call.invite_client.replace(key.clone()) {
                by_key.remove(&old);
            }
            by_key.insert(key, call.handle);
            call.invite = sent;
            call.provisional_seen = false;
        }
        None => {
            call.invite_final = true;
            call.phase = Phase::Ended;
            call.no_answer_at = None;
            ctx.events.push_back(Event::Failed {
                call: call.handle,
                status: Some(status),
                reason: "authentication failed: wrong user name or password".to_owned(),
            });
        }
    }
}

/// The no-answer timer of an outgoing call fired.
pub(super) fn no_answer(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    cancel(now, ctx, call, by_key);
    end(ctx, call, EndedBy::System, EndCause::NoAnswer);
}
