//! Event and Subscription-State (RFC 6665 §8.2).

use std::fmt;

use crate::error::Result;
use crate::grammar::{Params, Scanner, is_token_char, parse_u32};

/// `Event: presence;id=1` (event package, optional template, parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// Event type: package with optional `.template` parts (`presence.winfo`).
    pub event_type: &'a str,
    /// Parameters, including `id`.
    pub params: Params<'a>,
}

impl<'a> Event<'a> {
    /// Parses an Event value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let event_type = sc.take_while1(is_token_char, "event type")?;
        let params = sc.header_params()?;
        sc.end("; parameter or end of value")?;
        Ok(Event { event_type, params })
    }

    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        self.params.value("id")
    }

    /// The package name (before the first `.`).
    pub fn package(&self) -> &'a str {
        self.event_type.split('.').next().unwrap_or(self.event_type)
    }
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.event_type, self.params)
    }
}

/// `Subscription-State: active;expires=600`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    /// `active`, `pending`, `terminated` or an extension.
    pub state: &'a str,
    /// Parameters (`expires`, `reason`, `retry-after`).
    pub params: Params<'a>,
}

impl<'a> SubscriptionState<'a> {
    /// Parses a Subscription-State value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let state = sc.token("subscription state")?;
        let params = sc.header_params()?;
        sc.end("; parameter or end of value")?;
        Ok(SubscriptionState { state, params })
    }

    /// Whether the state is `s` (case-insensitive).
    pub fn is(&self, s: &str) -> bool {
        self.state.eq_ignore_ascii_case(s)
    }

    /// The `expires` parameter.
    pub fn expires(&self) -> Option<u32> {
        self.params.value("expires").and_then(parse_u32)
    }

    /// The `reason` parameter (`deactivated`, `timeout`, `noresource`, ...).
    pub fn reason(&self) -> Option<&'a str> {
        self.params.value("reason")
    }

    /// The `retry-after` parameter.
    pub fn retry_after(&self) -> Option<u32> {
        self.params.value("retry-after").and_then(parse_u32)
    }
}

impl fmt::Display for SubscriptionState<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.state, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let e = Event::parse("presence.winfo;id=7").unwrap();
        assert_eq!((e.package(), e.id()), ("presence", Some("7")));
        assert_eq!(e.to_string(), "presence.winfo;id=7");
        assert!(Event::parse("").is_err());
        let s = SubscriptionState::parse("terminated;reason=timeout;retry-after=30").unwrap();
        assert!(s.is("Terminated"));
        assert_eq!(
            (s.reason(), s.retry_after(), s.expires()),
            (Some("timeout"), Some(30), None)
        );
        assert_eq!(
            SubscriptionState::parse("active;expires=600")
                .unwrap()
                .expires(),
            Some(600)
        );
        assert!(SubscriptionState::parse("active expires").is_err());
    }
}
