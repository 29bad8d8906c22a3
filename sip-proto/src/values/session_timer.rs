//! Session timer headers (RFC 4028): Session-Expires and Min-SE.

use std::fmt;

use crate::error::Result;
use crate::grammar::{Params, Scanner, syntax};

/// Which side refreshes the session (`refresher` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refresher {
    /// `refresher=uac`.
    Uac,
    /// `refresher=uas`.
    Uas,
}

impl fmt::Display for Refresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        })
    }
}

fn delta_and_params<'a>(value: &'a str, what: &'static str) -> Result<(u32, Params<'a>)> {
    let mut sc = Scanner::new(value);
    sc.skip_lws();
    let delta = sc.number_u32(what)?;
    let params = sc.header_params()?;
    sc.end("; parameter or end of value")?;
    Ok((delta, params))
}

/// `Session-Expires: 1800;refresher=uac`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionExpires<'a> {
    /// Session interval in seconds.
    pub delta: u32,
    /// Parameters, including `refresher`.
    pub params: Params<'a>,
}

impl<'a> SessionExpires<'a> {
    /// Parses a Session-Expires value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let (delta, params) = delta_and_params(value, "session interval")?;
        if let Some(r) = params.get("refresher") {
            let ok = r
                .value
                .is_some_and(|v| v.eq_ignore_ascii_case("uac") || v.eq_ignore_ascii_case("uas"));
            if !ok {
                let at = crate::grammar::offset_in(value, r.value.unwrap_or(r.name));
                return Err(syntax(at, "refresher=uac or refresher=uas"));
            }
        }
        Ok(SessionExpires { delta, params })
    }

    /// The `refresher` parameter.
    pub fn refresher(&self) -> Option<Refresher> {
        match self.params.value("refresher")? {
            v if v.eq_ignore_ascii_case("uac") => Some(Refresher::Uac),
            v if v.eq_ignore_ascii_case("uas") => Some(Refresher::Uas),
            _ => None,
        }
    }
}

impl fmt::Display for SessionExpires<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.delta, self.params)
    }
}

/// `Min-SE: 90`, the smallest session interval a node accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinSe<'a> {
    /// Minimum session interval in seconds.
    pub delta: u32,
    /// Extension parameters.
    pub params: Params<'a>,
}

impl<'a> MinSe<'a> {
    /// Parses a Min-SE value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let (delta, params) = delta_and_params(value, "minimum session interval")?;
        Ok(MinSe { delta, params })
    }
}

impl fmt::Display for MinSe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.delta, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let s = SessionExpires::parse("1800 ; refresher=UAS").unwrap();
        assert_eq!(s.delta, 1800);
        assert_eq!(s.refresher(), Some(Refresher::Uas));
        assert_eq!(s.to_string(), "1800;refresher=UAS");
        assert_eq!(SessionExpires::parse("90").unwrap().refresher(), None);
        assert!(SessionExpires::parse("90;refresher=both").is_err());
        assert!(SessionExpires::parse("ninety").is_err());
        assert_eq!(MinSe::parse("90").unwrap().delta, 90);
        assert!(MinSe::parse("90 x").is_err());
    }
}
