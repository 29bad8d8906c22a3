//! The CSeq header value (RFC 3261 §20.16).

use std::fmt;

use crate::error::Result;
use crate::grammar::Scanner;
use crate::method::Method;

/// `CSeq: 4711 INVITE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number (a 32-bit unsigned integer).
    pub seq: u32,
    /// The method.
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parses a CSeq value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let seq = sc.number_u32("sequence number")?;
        if !sc.skip_lws() {
            return Err(sc.error("white space after sequence number"));
        }
        let method = Method::parse(sc.token("method")?);
        sc.end("end of CSeq")?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn parse() {
        let c = CSeq::parse("0009\r\n  INVITE").unwrap();
        assert_eq!(c.seq, 9);
        assert_eq!(c.method, Method::parse("INVITE"));
        assert_eq!(c.to_string(), "9 INVITE");
        assert_eq!(
            CSeq::parse("1 RE%47IST%45R").unwrap().method.as_str(),
            "RE%47IST%45R"
        );
    }

    #[test]
    fn refused() {
        // RFC 4475 scalar02 / scalarlg: beyond 2^32-1.
        assert_eq!(
            CSeq::parse("36893488147419103232 REGISTER"),
            Err(Error::Syntax {
                offset: 0,
                expected: "number below 2^32"
            })
        );
        assert!(CSeq::parse("1").is_err());
        assert!(CSeq::parse("INVITE").is_err());
        assert!(CSeq::parse("1 INVITE x").is_err());
        assert!(CSeq::parse("1INVITE").is_err());
    }
}
