//! The Reason header value (RFC 3326): `protocol ;cause=N ;text="..."`.

use std::borrow::Cow;
use std::fmt;

use crate::error::Result;
use crate::grammar::{Params, Scanner, parse_u32, syntax};

/// `Reason: SIP ;cause=200 ;text="Call completed elsewhere"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason<'a> {
    /// `SIP`, `Q.850` or an extension token.
    pub protocol: &'a str,
    /// Parameters, including `cause` and `text`.
    pub params: Params<'a>,
}

impl<'a> Reason<'a> {
    /// Parses one Reason value (already split at commas).
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let protocol = sc.token("protocol")?;
        let params = sc.header_params()?;
        sc.end("; parameter or end of value")?;
        if let Some(c) = params.get("cause") {
            if c.value.and_then(parse_u32).is_none() {
                return Err(syntax(
                    crate::grammar::offset_in(value, c.value.unwrap_or(c.name)),
                    "numeric cause",
                ));
            }
        }
        Ok(Reason { protocol, params })
    }

    /// The `cause` parameter.
    pub fn cause(&self) -> Option<u32> {
        self.params.value("cause").and_then(parse_u32)
    }

    /// The `text` parameter, unquoted.
    pub fn text(&self) -> Option<Cow<'a, str>> {
        self.params.get("text")?.text()
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.protocol, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let r = Reason::parse("SIP ;cause=200 ;text=\"Call completed \\\"elsewhere\\\"\"").unwrap();
        assert_eq!(r.protocol, "SIP");
        assert_eq!(r.cause(), Some(200));
        assert_eq!(r.text().unwrap(), "Call completed \"elsewhere\"");
        assert_eq!(
            Reason::parse("Q.850;cause=16").unwrap().to_string(),
            "Q.850;cause=16"
        );
        assert!(Reason::parse("SIP;cause=abc").is_err());
        assert!(Reason::parse(";cause=1").is_err());
    }
}
