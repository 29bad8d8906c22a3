//! Session timers (RFC 4028): the refresher re-sends an UPDATE at half the interval; the
//! other side ends the call when no refresh comes before the interval runs out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Call, CallHandle, Phase, end, send_bye_untracked, send_in_dialog};
use crate::core::Ctx;
use crate::event::{EndCause, EndedBy};
use crate::message::{Method, SipMessage};
use crate::transaction::ClientKey;
use crate::values::{param, split_top_level};

/// A running session timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionTimer {
    interval: Duration,
    /// Whether we send the refreshes.
    we_refresh: bool,
    /// Our role token in `refresher=` (`uac` when we sent the INVITE).
    our_role: &'static str,
    pub(crate) next_at: Instant,
}

/// Parses `Session-Expires: 1800;refresher=uac` into seconds and the refresher.
pub(crate) fn parse(message: &SipMessage) -> Option<(u32, Option<String>)> {
    let value = message.header("Session-Expires")?;
    let parts = split_top_level(value, ';');
    let seconds = parts.first()?.trim().parse().ok()?;
    let refresher = param(value, "refresher")
        .flatten()
        .map(|r| r.to_ascii_lowercase());
    Some((seconds, refresher))
}

impl SessionTimer {
    fn new(now: Instant, seconds: u32, we_refresh: bool, our_role: &'static str) -> SessionTimer {
        let mut timer = SessionTimer {
            interval: Duration::from_secs(u64::from(seconds.max(90))),
            we_refresh,
            our_role,
            next_at: now,
        };
        timer.restart(now);
        timer
    }

    /// After a refresh (ours answered, or the peer's received).
    pub(crate) fn restart(&mut self, now: Instant) {
        self.next_at = if self.we_refresh {
            now + self.interval / 2
        } else {
            // §10: the side that does not refresh waits the interval minus the smaller of
            // 32 s and a third of it.
            now + self.interval - (self.interval / 3).min(Duration::from_secs(32))
        };
    }

    fn header(&self) -> String {
        let role = if self.we_refresh {
            self.our_role
        } else if self.our_role == "uac" {
            "uas"
        } else {
            "uac"
        };
        format!("{};refresher={role}", self.interval.as_secs())
    }
}

/// UAC: the 2xx decides (no Session-Expires there: the peer does not do timers).
pub(crate) fn on_uac_answer(now: Instant, call: &mut Call, response: &SipMessage) {
    call.session_timer = parse(response).map(|(seconds, refresher)| {
        let we_refresh = refresher.as_deref() != Some("uas");
        SessionTimer::new(now, seconds, we_refresh, "uac")
    });
}

/// UAS: adds the Session-Expires of our 2xx when the caller asked for timers, and starts it.
pub(crate) fn on_uas_answer(
    now: Instant,
    call: &mut Call,
    request: &SipMessage,
    ok: &mut SipMessage,
    default: Option<Duration>,
) {
    let supported = request
        .values("Supported")
        .any(|t| t.eq_ignore_ascii_case("timer"));
    let asked = parse(request);
    let (seconds, refresher) = match (asked, default) {
        (Some((seconds, refresher)), _) => (seconds, refresher),
        (None, Some(default)) if supported => {
            (u32::try_from(default.as_secs()).unwrap_or(u32::MAX), None)
        }
        _ => return,
    };
    // Keep the caller's choice; else the caller refreshes when it can, we do otherwise.
    let refresher = refresher.unwrap_or_else(|| if supported { "uac" } else { "uas" }.to_owned());
    let timer = SessionTimer::new(now, seconds, refresher == "uas", "uas");
    ok.push_header(
        "Session-Expires",
        format!("{};refresher={refresher}", timer.interval.as_secs()),
    );
    if supported {
        ok.push_header("Require", "timer");
    }
    call.session_timer = Some(timer);
}

/// A refresh from the peer (re-INVITE or UPDATE) restarts the clock.
pub(crate) fn on_refresh(now: Instant, call: &mut Call) {
    if let Some(timer) = call.session_timer.as_mut() {
        timer.restart(now);
    }
}

/// The response to our refresh UPDATE.
pub(crate) fn on_refresh_response(now: Instant, ctx: &mut Ctx, call: &mut Call, status: u16) {
    match status {
        200..=299 => on_refresh(now, call),
        408 | 481 => {
            send_bye_untracked(now, ctx, call);
            end(ctx, call, EndedBy::System, EndCause::Timeout);
        }
        _ => tracing::warn!(call = %call.handle, status, "session refresh refused"),
    }
}

pub(crate) fn on_timer(
    now: Instant,
    ctx: &mut Ctx,
    call: &mut Call,
    by_key: &mut HashMap<ClientKey, CallHandle>,
) {
    let Some(timer) = call.session_timer.clone() else {
        return;
    };
    if timer.next_at > now || call.phase != Phase::Confirmed {
        return;
    }
    if timer.we_refresh {
        let header = timer.header();
        let headers = [("Session-Expires", header.as_str()), ("Supported", "timer")];
        if send_in_dialog(now, ctx, call, Method::Update, None, &headers, by_key).is_none() {
            tracing::warn!(call = %call.handle, "session refresh could not be sent");
        }
        // Wait for the answer; without one the call ends at the full interval.
        if let Some(t) = call.session_timer.as_mut() {
            t.we_refresh = false;
            t.restart(now);
            t.we_refresh = true;
        }
    } else {
        tracing::warn!(call = %call.handle, "session expired without refresh");
        call.session_timer = None;
        send_bye_untracked(now, ctx, call);
        end(ctx, call, EndedBy::System, EndCause::SessionExpired);
    }
}
