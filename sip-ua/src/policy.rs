//! User-facing policies: turning what a person types into a SIP URI.

use crate::error::{Error, Result};

/// Normalises a dial target like JsSIP's `normalizeTarget`: a full `sip:`/`sips:` URI is kept;
/// `user@host` gains `sip:`; a bare extension or number gets the account's domain, with the
/// visual separators of phone numbers (`-`, `.`, `(`, `)`, spaces) removed.
///
/// ```
/// use sip_ua::policy::normalize_target;
///
/// assert_eq!(normalize_target("101", "example.com").unwrap(), "sip:101@example.com");
/// assert_eq!(normalize_target("+1 (555) 010-9999", "example.com").unwrap(), "sip:+15550109999@example.com");
/// assert_eq!(normalize_target("bob@example.org", "example.com").unwrap(), "sip:bob@example.org");
/// assert_eq!(normalize_target("sips:bob@example.org", "example.com").unwrap(), "sips:bob@example.org");
/// assert!(normalize_target("  ", "example.com").is_err());
/// ```
pub fn normalize_target(target: &str, domain: &str) -> Result<String> {
    let target = target.trim();
    let invalid = |reason| Error::InvalidTarget {
        target: target.to_owned(),
        reason,
    };
    if target.is_empty() {
        return Err(invalid("empty"));
    }
    let lower = target.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        if target.contains(char::is_whitespace) {
            return Err(invalid("white space inside a URI"));
        }
        return Ok(target.to_owned());
    }
    if lower.contains(':') && !lower.contains('@') {
        return Err(invalid("only sip: and sips: URIs can be called"));
    }
    let (user, host) = match target.rsplit_once('@') {
        Some((user, host)) => (user, host),
        None => (target, domain),
    };
    let phone_like = user
        .chars()
        .all(|c| c.is_ascii_digit() || "+-.() *#".contains(c));
    let user: String = if phone_like {
        user.chars().filter(|c| !"-.() ".contains(*c)).collect()
    } else {
        user.to_owned()
    };
    if user.is_empty() || user.contains(char::is_whitespace) {
        return Err(invalid("the user part is empty or has white space"));
    }
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(invalid("no domain to call in"));
    }
    Ok(format!("sip:{user}@{host}"))
}

/// What happens to an incoming call while another call is in progress.
///
/// ```
/// use sip_ua::policy::SecondCall;
///
/// assert_eq!(SecondCall::default(), SecondCall::Allow);
/// assert_eq!(SecondCall::Allow.refusal(1), None);
/// assert_eq!(SecondCall::RejectBusy.refusal(0), None);
/// assert_eq!(SecondCall::RejectBusy.refusal(1), Some(486));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SecondCall {
    /// It rings like the first (call waiting; JsSIP's behaviour).
    #[default]
    Allow,
    /// It is refused with 486 Busy Here.
    RejectBusy,
}

impl SecondCall {
    /// The status an incoming call gets when `active_calls` calls are not yet ended; `None`
    /// when it may ring.
    pub fn refusal(self, active_calls: usize) -> Option<u16> {
        match self {
            SecondCall::RejectBusy if active_calls > 0 => Some(486),
            _ => None,
        }
    }
}
