//! Reliable provisional responses (RFC 3262, `100rel`): as UAC, PRACK every reliable 18x once
//! and drop its retransmissions; as UAS, send 18x reliably (RSeq, retransmitted from T1
//! doubling until the PRACK), answer PRACKs, and hold a 2xx back while a reliable 18x that
//! carried SDP is unacknowledged.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use rand::Rng;

use super::{Call, CallHandle, Direction, Phase, end};
use crate::core::Ctx;
use crate::event::{EndCause, EndedBy};
use crate::message::{Method, SipMessage};
use crate::transaction::{ClientEvent, ClientKey, ServerKey};

/// The option tag.
pub(crate) const TAG: &str = "100rel";

/// Whether `message` lists `100rel` in header `name` (Require or Supported).
pub(crate) fn lists_100rel(message: &SipMessage, name: &str) -> bool {
    message
        .values(name)
        .any(|tag| tag.trim().eq_ignore_ascii_case(TAG))
}

/// The RSeq of a reliable provisional response (`Require: 100rel` and an `RSeq`).
fn rseq_of(response: &SipMessage) -> Option<u32> {
    if !lists_100rel(response, "Require") {
        return None;
    }
    response.header("RSeq")?.trim().parse().ok()
}

/// `RAck: <rseq> <cseq> <method>` (RFC 3262 §7.2).
fn parse_rack(request: &SipMessage) -> Option<(u32, u32, Method)> {
    let mut parts = request.header("RAck")?.split_whitespace();
    let rseq = parts.next()?.parse().ok()?;
    let cseq = parts.next()?.parse().ok()?;
    let method = Method::parse(parts.next()?);
    parts.next().is_none().then_some((rseq, cseq, method))
}

/// What the UAC saw of a provisional response.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Provisional {
    /// Not sent reliably: handle as usual.
    Unreliable,
    /// A new reliable response: handle it and PRACK it.
    New(u32),
    /// A retransmission or an out-of-order RSeq: drop it (§4).
    Discard,
}

/// Classifies a provisional response of our INVITE by its RSeq, remembering the last RSeq of
/// each early dialog (keyed by the remote tag).
pub(super) fn classify(call: &mut Call, response: &SipMessage) -> Provisional {
    let Some(rseq) = rseq_of(response) else {
        return Provisional::Unreliable;
    };
    let Some(tag) = response
        .to_header()
        .and_then(|t| t.tag().map(str::to_owned))
    else {
        // §4: a reliable response creates an early dialog, so it needs a To tag.
        return Provisional::Unreliable;
    };
    match call.uac_rseq.get(&tag) {
        Some(last) if last.checked_add(1) != Some(rseq) => Provisional::Discard,
        _ => {
            call.uac_rseq.insert(tag, rseq);
            Provisional::New(rseq)
        }
    }
}

/// Sends the PRACK for reliable provisional `rseq` in the early dialog it created.
pub(super) fn send_prack(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    response: &SipMessage,
    rseq: u32,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let Some(tag) = response
        .to_header()
        .and_then(|t| t.tag().map(str::to_owned))
    else {
        return;
    };
    let invite_seq = call.invite.cseq().map_or(1, |c| c.seq);
    let Some(dialog) = call.early.iter_mut().find(|d| d.remote_tag == tag) else {
        return;
    };
    let mut prack = dialog.request(Method::Prack, None);
    prack.push_header("RAck", format!("{rseq} {invite_seq} INVITE"));
    prack.push_header("User-Agent", ctx.config.user_agent.clone());
    match ctx.send_request(now, prack) {
        Ok((key, sent)) => {
            call.requests.insert(key.clone(), sent);
            by_key.insert(key, call.handle);
        }
        Err(e) => tracing::warn!(call = %call.handle, "PRACK not sent: {e}"),
    }
}

/// The outcome of our PRACK: a challenge is answered once in the same early dialog.
pub(super) fn on_prack_response(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    request: &SipMessage,
    event: ClientEvent,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let response = match event {
        ClientEvent::Provisional(_) => return,
        ClientEvent::Final(response) => response,
        ClientEvent::Timeout | ClientEvent::TransportError => {
            tracing::warn!(call = %call.handle, "PRACK got no response");
            return;
        }
    };
    match response.status() {
        Some(200..=299) => {}
        Some(401 | 407)
            if request.header("Authorization").is_none()
                && request.header("Proxy-Authorization").is_none() =>
        {
            let tag = request.to_header().and_then(|t| t.tag().map(str::to_owned));
            let Some(dialog) = call
                .early
                .iter_mut()
                .chain(call.dialog.as_mut())
                .find(|d| Some(&d.remote_tag) == tag.as_ref())
            else {
                return;
            };
            dialog.local_seq += 1;
            let mut retry = request.clone();
            retry.set_header("CSeq", format!("{} PRACK", dialog.local_seq));
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
        Some(status) => {
            tracing::warn!(call = %call.handle, status, "PRACK refused");
        }
        None => {}
    }
}

/// A reliable provisional response of ours waiting for its PRACK.
#[derive(Debug, Clone)]
struct Unacked {
    response: SipMessage,
    rseq: u32,
    has_sdp: bool,
    next_at: Instant,
    interval: Duration,
    give_up_at: Instant,
}

/// The UAS side of one INVITE: whether provisionals go reliably, the RSeq counter, the one
/// response in flight (§3: no second reliable 18x before the first is PRACKed), what waits
/// behind it, and a 2xx held back until the PRACK.
#[derive(Debug, Clone, Default)]
pub(crate) struct UasReliability {
    /// The peer asked for (or we chose) reliable provisionals.
    enabled: bool,
    next_rseq: u32,
    unacked: Option<Unacked>,
    /// The RSeq of a reliable 18x a final response overtook: its PRACK, still on the way,
    /// gets 200 rather than 481 (it does acknowledge a response we sent).
    overtaken: Option<u32>,
    queued: VecDeque<SipMessage>,
    /// Our 2xx, sent as soon as the PRACK for a reliable 18x with SDP arrives.
    pub(super) held_ok: Option<SipMessage>,
}

impl UasReliability {
    /// The state for an incoming INVITE: reliable when it requires `100rel`, or supports it
    /// and `prefer` is set.
    pub(super) fn for_invite(ctx: &mut Ctx, invite: &SipMessage, prefer: bool) -> Self {
        let enabled =
            lists_100rel(invite, "Require") || (prefer && lists_100rel(invite, "Supported"));
        UasReliability {
            enabled,
            // §3: the first RSeq is chosen at random between 1 and 2**31 - 1.
            next_rseq: ctx.rng.random_range(1..=0x7fff_ffff),
            ..Default::default()
        }
    }

    /// Whether a 2xx must wait (a reliable 18x with SDP is not yet PRACKed).
    pub(super) fn blocks_2xx(&self) -> bool {
        self.unacked.as_ref().is_some_and(|u| u.has_sdp)
            || self.queued.iter().any(|r| !r.body.is_empty())
    }

    /// The next retransmission or give-up time.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.unacked.as_ref().map(|u| u.next_at.min(u.give_up_at))
    }

    /// A final response went out: stop retransmitting and forget what waits (§3).
    pub(super) fn stop(&mut self) {
        if let Some(unacked) = self.unacked.take() {
            self.overtaken = Some(unacked.rseq);
        }
        self.queued.clear();
        self.held_ok = None;
    }
}

/// Sends a provisional response to the INVITE, reliably when the call uses `100rel`.
pub(super) fn send_provisional(now: Instant, ctx: &mut Ctx, call: &mut Call, response: SipMessage) {
    let Some(key) = call.invite_server.clone() else {
        return;
    };
    if !call.uas_rel.enabled {
        ctx.respond(now, &key, response);
        return;
    }
    if call.uas_rel.unacked.is_some() {
        call.uas_rel.queued.push_back(response);
        return;
    }
    send_reliable(now, ctx, call, &key, response);
}

fn send_reliable(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    key: &ServerKey,
    mut response: SipMessage,
) {
    let rel = &mut call.uas_rel;
    let rseq = rel.next_rseq;
    rel.next_rseq = rel.next_rseq.wrapping_add(1).max(1);
    response.set_header("Require", TAG);
    response.set_header("RSeq", rseq.to_string());
    let t1 = ctx.config.timers.t1;
    rel.unacked = Some(Unacked {
        has_sdp: !response.body.is_empty(),
        response: response.clone(),
        rseq,
        next_at: now + t1,
        interval: t1,
        give_up_at: now + ctx.config.timers.timeout(),
    });
    ctx.respond(now, key, response);
}

/// Retransmits the unacknowledged reliable 18x (T1 doubling, §3); after 64·T1 without a
/// PRACK the INVITE is rejected with 500 and the call ends.
pub(super) fn on_timer(now: Instant, ctx: &mut Ctx, call: &mut Call) {
    let Some(key) = call.invite_server.clone() else {
        return;
    };
    let Some(unacked) = call.uas_rel.unacked.as_mut() else {
        return;
    };
    if unacked.give_up_at <= now {
        tracing::warn!(call = %call.handle, rseq = unacked.rseq, "no PRACK for our reliable provisional: 500");
        call.uas_rel.stop();
        if let Some(mut response) = ctx.response_for(&key, 500, Some(&call.local_tag)) {
            response.push_header("Reason", "SIP;cause=500;text=\"no PRACK\"");
            ctx.respond(now, &key, response);
        }
        call.ok_retransmit = None;
        end(ctx, call, EndedBy::System, EndCause::Timeout);
        return;
    }
    if unacked.next_at <= now {
        let response = unacked.response.clone();
        unacked.interval *= 2;
        unacked.next_at = now + unacked.interval;
        ctx.respond(now, &key, response);
    }
}

/// A PRACK in the call's dialog: 200 when its RAck names our unacknowledged reliable 18x,
/// 481 otherwise (§3). Acknowledgement releases the next queued 18x or the held 2xx.
pub(super) fn on_prack(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    key: &ServerKey,
    request: &SipMessage,
) {
    let rack = parse_rack(request);
    let names = |rseq: u32| {
        call.direction == Direction::Incoming
            && rack.is_some()
            && rack == call.invite.cseq().map(|c| (rseq, c.seq, Method::Invite))
    };
    let pending = call.uas_rel.unacked.as_ref().is_some_and(|u| names(u.rseq));
    let overtaken = call.uas_rel.overtaken.is_some_and(names);
    let status = if pending || overtaken { 200 } else { 481 };
    if let Some(response) = ctx.response_for(key, status, None) {
        ctx.respond(now, key, response);
    }
    if overtaken {
        call.uas_rel.overtaken = None;
    }
    if !pending {
        return;
    }
    call.uas_rel.unacked = None;
    let Some(invite_key) = call.invite_server.clone() else {
        return;
    };
    if let Some(next) = call.uas_rel.queued.pop_front() {
        send_reliable(now, ctx, call, &invite_key, next);
    } else if let Some(ok) = call.uas_rel.held_ok.take()
        && call.phase == Phase::Answering
    {
        super::incoming::send_ok(now, ctx, call, &invite_key, ok);
    }
}
