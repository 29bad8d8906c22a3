//! The RAck header value (RFC 3262 §7.2): `response-num CSeq-num Method`.

use std::fmt;

use crate::error::Result;
use crate::grammar::Scanner;
use crate::method::Method;

/// `RAck: 776656 1 INVITE`, acknowledging a reliable provisional response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RAck<'a> {
    /// The RSeq of the acknowledged response.
    pub rseq: u32,
    /// The CSeq number of the acknowledged response.
    pub cseq: u32,
    /// The CSeq method of the acknowledged response.
    pub method: Method<'a>,
}

impl<'a> RAck<'a> {
    /// Parses a RAck value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let rseq = sc.number_u32("response number")?;
        if !sc.skip_lws() {
            return Err(sc.error("white space after response number"));
        }
        let cseq = sc.number_u32("CSeq number")?;
        if !sc.skip_lws() {
            return Err(sc.error("white space after CSeq number"));
        }
        let method = Method::parse(sc.token("method")?);
        sc.end("end of RAck")?;
        Ok(RAck { rseq, cseq, method })
    }
}

impl fmt::Display for RAck<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.rseq, self.cseq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let r = RAck::parse("776656 1 INVITE").unwrap();
        assert_eq!((r.rseq, r.cseq, r.method.as_str()), (776656, 1, "INVITE"));
        assert_eq!(r.to_string(), "776656 1 INVITE");
        assert!(RAck::parse("776656 INVITE").is_err());
        assert!(RAck::parse("1 2 INVITE extra").is_err());
    }
}
