//! Requests inside a call's dialog besides BYE and re-offers: DTMF by SIP INFO
//! (`application/dtmf-relay`, JsSIP's body) both ways.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Call, CallHandle, Phase, send_in_dialog};
use crate::core::Ctx;
use crate::error::{Error, Result};
use crate::event::{DtmfMethod, Event};
use crate::message::{Method, SipMessage};
use crate::transaction::{ClientKey, ServerKey};

/// JsSIP's default pause between two INFO digits.
pub(crate) const INTER_TONE_GAP: Duration = Duration::from_millis(500);

/// Digits waiting to be sent by INFO, one request per digit.
#[derive(Debug, Default, Clone)]
pub(crate) struct DtmfQueue {
    digits: std::collections::VecDeque<char>,
    duration: Duration,
    pub(crate) next_at: Option<Instant>,
}

/// Whether `c` is a DTMF event character (RFC 4733 events 0–15).
fn is_dtmf(c: char) -> bool {
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D' | 'a'..='d')
}

/// The body JsSIP sends and expects: `Signal=5\r\nDuration=100\r\n`.
pub(crate) fn dtmf_body(digit: char, duration: Duration) -> String {
    format!("Signal={digit}\r\nDuration={}\r\n", duration.as_millis())
}

/// The digit of an `application/dtmf-relay` body.
pub(crate) fn parse_dtmf_body(body: &str) -> Option<char> {
    body.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("signal") {
            return None;
        }
        let mut chars = value.trim().chars();
        let digit = chars.next()?;
        (chars.next().is_none() && is_dtmf(digit)).then(|| digit.to_ascii_uppercase())
    })
}

/// `send_info_dtmf(call, digits, duration)`: queue the digits; the first goes now.
pub(crate) fn queue_dtmf(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    digits: &str,
    duration: Duration,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) -> Result<()> {
    if call.phase != Phase::Confirmed {
        return Err(Error::InvalidCallState {
            call: call.handle,
            action: "send DTMF",
            state: call.phase.name(),
        });
    }
    if let Some(bad) = digits.chars().find(|c| !is_dtmf(*c)) {
        return Err(Error::InvalidDtmf { digit: bad });
    }
    call.dtmf.digits.extend(digits.chars());
    call.dtmf.duration = duration;
    if call.dtmf.next_at.is_none() {
        send_next(now, ctx, call, by_key);
    }
    Ok(())
}

/// Sends the next queued digit and schedules the one after it.
pub(crate) fn send_next(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    call.dtmf.next_at = None;
    if call.phase != Phase::Confirmed {
        call.dtmf.digits.clear();
        return;
    }
    let Some(digit) = call.dtmf.digits.pop_front() else {
        return;
    };
    let duration = call.dtmf.duration;
    let body = dtmf_body(digit, duration);
    let body = Some(("application/dtmf-relay", body.as_bytes()));
    if send_in_dialog(now, ctx, call, Method::Info, body, &[], by_key).is_none() {
        tracing::warn!(call = %call.handle, "INFO could not be sent");
    }
    if !call.dtmf.digits.is_empty() {
        call.dtmf.next_at = Some(now + duration + INTER_TONE_GAP);
    }
}

/// An INFO in the dialog: DTMF relay digits become events; an empty INFO is a keep-alive.
pub(crate) fn on_info(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    key: &ServerKey,
    request: &SipMessage,
) {
    let content_type = request
        .header("Content-Type")
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
    let status = match (content_type.as_deref(), request.body_text()) {
        (_, None) => 200,
        (Some("application/dtmf-relay"), Some(body)) => match parse_dtmf_body(body) {
            Some(digit) => {
                ctx.events.push_back(Event::DtmfReceived {
                    call: call.handle,
                    digit,
                    method: DtmfMethod::Info,
                });
                200
            }
            None => 400,
        },
        _ => 415,
    };
    if let Some(mut response) = ctx.response_for(key, status, None) {
        if status == 415 {
            response.push_header("Accept", "application/dtmf-relay");
        }
        ctx.respond(now, key, response);
    }
}

/// `refer(call, target)`: ask the peer to call `target` (RFC 3515 blind transfer).
pub(crate) fn refer(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    target: &str,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) -> Result<()> {
    if call.phase != Phase::Confirmed {
        return Err(Error::InvalidCallState {
            call: call.handle,
            action: "transfer",
            state: call.phase.name(),
        });
    }
    let refer_to = format!("<{target}>");
    let referred_by = format!("<{}>", ctx.config.aor);
    let headers = [
        ("Refer-To", refer_to.as_str()),
        ("Referred-By", referred_by.as_str()),
    ];
    send_in_dialog(now, ctx, call, Method::Refer, None, &headers, by_key)
        .map(|_| ())
        .ok_or(Error::NotConnected { what: "a REFER" })
}

/// The status line of a `message/sipfrag` body (`SIP/2.0 180 Ringing` → 180).
pub(crate) fn sipfrag_status(body: &str) -> Option<u16> {
    let line = body.lines().next()?.trim();
    let rest = line.strip_prefix("SIP/2.0 ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// A REFER from the peer: accepted with 202, reported, and a first NOTIFY (100 Trying) sent.
pub(crate) fn on_refer(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    key: &ServerKey,
    request: &SipMessage,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let target = request
        .header("Refer-To")
        .and_then(crate::values::NameAddr::parse)
        .map(|n| n.uri);
    let Some(target) = target else {
        if let Some(response) = ctx.response_for(key, 400, None) {
            ctx.respond(now, key, response);
        }
        return;
    };
    if let Some(response) = ctx.response_for(key, 202, None) {
        ctx.respond(now, key, response);
    }
    call.transfer_pending = true;
    ctx.events.push_back(Event::TransferRequested {
        call: call.handle,
        target,
    });
    notify_transfer(now, ctx, call, 100, by_key);
}

/// Tells the referrer how the transfer call is going (RFC 3515 §2.4.5): NOTIFY with a
/// sipfrag; a final status ends the implicit subscription.
pub(crate) fn notify_transfer(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    status: u16,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let fin = status >= 200;
    let state = if fin {
        "terminated;reason=noresource"
    } else {
        "active;expires=60"
    };
    let body = format!(
        "SIP/2.0 {status} {}\r\n",
        crate::message::reason_phrase(status)
    );
    let headers = [("Event", "refer"), ("Subscription-State", state)];
    let body = Some(("message/sipfrag;version=2.0", body.as_bytes()));
    if send_in_dialog(now, ctx, call, Method::Notify, body, &headers, by_key).is_none() {
        tracing::warn!(call = %call.handle, "NOTIFY could not be sent");
    }
    if fin {
        call.transfer_pending = false;
    }
}

/// A NOTIFY about our REFER: progress of the transfer.
pub(crate) fn on_notify(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    key: &ServerKey,
    request: &SipMessage,
) {
    let is_refer = request.header("Event").is_some_and(|e| {
        e.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("refer")
    });
    let status = if is_refer { 200 } else { 489 };
    if let Some(response) = ctx.response_for(key, status, None) {
        ctx.respond(now, key, response);
    }
    if let Some(progress) = request
        .body_text()
        .and_then(sipfrag_status)
        .filter(|_| is_refer)
    {
        ctx.events.push_back(Event::TransferProgress {
            call: call.handle,
            status: progress,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_bodies() {
        assert_eq!(
            dtmf_body('5', Duration::from_millis(100)),
            "Signal=5\r\nDuration=100\r\n"
        );
        assert_eq!(parse_dtmf_body("Signal=#\r\nDuration=250\r\n"), Some('#'));
        assert_eq!(parse_dtmf_body("signal= a\nDuration=1"), Some('A'));
        assert_eq!(parse_dtmf_body("Signal=55\r\n"), None);
        assert_eq!(parse_dtmf_body("Signal=x\r\n"), None);
        assert_eq!(parse_dtmf_body("Duration=100\r\n"), None);
    }

    #[test]
    fn sipfrag_status_lines() {
        assert_eq!(sipfrag_status("SIP/2.0 180 Ringing\r\n"), Some(180));
        assert_eq!(sipfrag_status("SIP/2.0 603 Decline"), Some(603));
        assert_eq!(sipfrag_status("INVITE sip:a@b SIP/2.0"), None);
        assert_eq!(sipfrag_status(""), None);
    }
}
