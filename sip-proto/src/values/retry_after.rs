//! The Retry-After header value (RFC 3261 §20.33):
//! `delta-seconds [ comment ] *( SEMI retry-param )`.

use std::fmt;

use super::product::scan_comment;
use crate::error::Result;
use crate::grammar::{Params, Scanner, parse_u32, syntax};

/// `Retry-After: 18000;duration=3600` or `Retry-After: 120 (I'm in a meeting)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter<'a> {
    /// Seconds to wait before retrying.
    pub seconds: u32,
    /// The comment's inner text (without parentheses), as written.
    pub comment: Option<&'a str>,
    /// Parameters, including `duration`.
    pub params: Params<'a>,
}

impl<'a> RetryAfter<'a> {
    /// Parses a Retry-After value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let seconds = sc.number_u32("delta-seconds")?;
        let mut probe = sc.clone();
        probe.skip_lws();
        let comment = if probe.peek() == Some(b'(') {
            sc = probe;
            Some(scan_comment(&mut sc)?)
        } else {
            None
        };
        let params = sc.header_params()?;
        sc.end("; parameter or end of value")?;
        if let Some(d) = params.get("duration") {
            if d.value.and_then(parse_u32).is_none() {
                let at = crate::grammar::offset_in(value, d.value.unwrap_or(d.name));
                return Err(syntax(at, "duration delta-seconds"));
            }
        }
        Ok(RetryAfter {
            seconds,
            comment,
            params,
        })
    }

    /// The `duration` parameter in seconds.
    pub fn duration(&self) -> Option<u32> {
        self.params.value("duration").and_then(parse_u32)
    }
}

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seconds)?;
        if let Some(c) = self.comment {
            write!(f, " ({c})")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let r = RetryAfter::parse("120 (I'm in a (long) meeting) ;duration=3600").unwrap();
        assert_eq!(r.seconds, 120);
        assert_eq!(r.comment, Some("I'm in a (long) meeting"));
        assert_eq!(r.duration(), Some(3600));
        assert_eq!(r.to_string(), "120 (I'm in a (long) meeting);duration=3600");
        assert_eq!(RetryAfter::parse("18000").unwrap().duration(), None);
        // RFC 4475 scalarlg.
        assert!(RetryAfter::parse("949302838503028349304023988").is_err());
        assert!(RetryAfter::parse("5;duration=x").is_err());
        assert!(RetryAfter::parse("5 (unclosed").is_err());
    }
}
