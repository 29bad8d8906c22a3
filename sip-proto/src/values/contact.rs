//! The Contact header value (RFC 3261 §20.10, RFC 5626 `+sip.instance`/`reg-id`).

use std::fmt;

use super::NameAddr;
use crate::error::Result;
use crate::grammar::{Scanner, is_letters_ignore_case, offset_in, parse_u32, syntax};

/// One Contact value: `*` or an address with parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `Contact: *` (only valid in a REGISTER with `Expires: 0`).
    Wildcard,
    /// An address with `expires`, `q` and other parameters.
    Address(NameAddr<'a>),
}

/// A `q` value (preference, 0 to 1) held in thousandths so it compares exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QValue(u16);

impl QValue {
    /// The highest preference, `q=1`.
    pub const MAX: QValue = QValue(1000);

    /// Parses `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
    pub fn parse(s: &str) -> Option<QValue> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut thousandths = 0u16;
        for (i, b) in frac.bytes().enumerate() {
            thousandths += u16::from(b - b'0') * [100, 10, 1][i];
        }
        match int {
            "0" => Some(QValue(thousandths)),
            "1" if thousandths == 0 => Some(QValue(1000)),
            _ => None,
        }
    }

    /// The value in thousandths (0..=1000).
    pub fn thousandths(self) -> u16 {
        self.0
    }

    /// The value as a float, for display.
    pub fn as_f32(self) -> f32 {
        f32::from(self.0) / 1000.0
    }
}

impl fmt::Display for QValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1000 => f.write_str("1"),
            t if t % 100 == 0 => write!(f, "0.{}", t / 100),
            t if t % 10 == 0 => write!(f, "0.{:02}", t / 10),
            t => write!(f, "0.{t:03}"),
        }
    }
}

impl<'a> Contact<'a> {
    /// Parses one Contact value (already split at top-level commas).
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        if sc.eat(b'*') {
            sc.end("end of value after *")?;
            return Ok(Contact::Wildcard);
        }
        let src = sc.src();
        let addr = NameAddr::scan_with(&mut sc, |p| check_param(src, p))?;
        sc.end("; contact parameter or end of value")?;
        Ok(Contact::Address(addr))
    }

    /// The address, `None` for `*`.
    pub fn address(&self) -> Option<&NameAddr<'a>> {
        match self {
            Contact::Wildcard => None,
            Contact::Address(a) => Some(a),
        }
    }

    /// The `expires` parameter; `None` when absent or beyond 2^32-1.
    pub fn expires(&self) -> Option<u32> {
        self.address()?.expires_param().and_then(parse_u32)
    }

    /// The `q` parameter.
    pub fn q(&self) -> Option<QValue> {
        self.address()?.params.value("q").and_then(QValue::parse)
    }

    /// The `+sip.instance` parameter (RFC 5626), quotes and angle brackets removed
    /// (e.g. `urn:uuid:...`).
    pub fn instance(&self) -> Option<&'a str> {
        let v = self.address()?.params.value("+sip.instance")?;
        Some(
            v.strip_prefix('<')
                .and_then(|v| v.strip_suffix('>'))
                .unwrap_or(v),
        )
    }

    /// The `reg-id` parameter (RFC 5626).
    pub fn reg_id(&self) -> Option<u32> {
        self.address()?.params.value("reg-id").and_then(parse_u32)
    }
}

/// Checks the `q` and `expires` parameters' syntax.
#[inline]
fn check_param(src: &str, p: crate::grammar::Param<'_>) -> Result<()> {
    let at = || offset_in(src, p.value.unwrap_or(p.name));
    if is_letters_ignore_case(p.name, "q") && p.value.and_then(QValue::parse).is_none() {
        return Err(syntax(at(), "q value between 0 and 1"));
    }
    // Syntax only: values beyond 2^32-1 parse and read as `None` (RFC 3261 says to treat
    // malformed expiry as the default).
    if is_letters_ignore_case(p.name, "expires")
        && !p
            .value
            .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(syntax(at(), "expires delta-seconds"));
    }
    Ok(())
}

impl fmt::Display for Contact<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contact::Wildcard => f.write_str("*"),
            Contact::Address(a) => a.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jssip_contact() {
        let c = Contact::parse(
            "<sip:uq0llj03@llqujp2dpm9r.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance=\"<urn:uuid:59e46466-7295-4e45-837a-4d143582d116>\";expires=300",
        )
        .unwrap();
        assert_eq!(c.expires(), Some(300));
        assert_eq!(c.reg_id(), Some(1));
        assert_eq!(
            c.instance(),
            Some("urn:uuid:59e46466-7295-4e45-837a-4d143582d116")
        );
        assert!(c.address().unwrap().params.has("+sip.ice"));
        assert_eq!(
            c.address().unwrap().uri.as_sip().unwrap().transport(),
            Some("ws")
        );
        assert_eq!(c.q(), None);
    }

    #[test]
    fn wildcard_and_q() {
        assert_eq!(Contact::parse(" * ").unwrap(), Contact::Wildcard);
        let c = Contact::parse("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33").unwrap();
        assert_eq!(c.q().unwrap().thousandths(), 330);
        assert_eq!(c.q().unwrap().to_string(), "0.33");
        assert_eq!(QValue::parse("1.000"), Some(QValue::MAX));
        assert_eq!(QValue::parse("1.001"), None);
        assert_eq!(QValue::parse("0.0001"), None);
        assert_eq!(QValue::parse("0.005").unwrap().to_string(), "0.005");
    }

    #[test]
    fn expires_beyond_u32_reads_as_none() {
        // RFC 4475 scalar02.
        let c =
            Contact::parse("<sip:user@host129.example.com>\r\n  ;expires=280297596632815").unwrap();
        assert_eq!(c.expires(), None);
    }

    #[test]
    fn refused() {
        assert!(Contact::parse("*;expires=0").is_err());
        assert!(Contact::parse("<sip:a@b>;q=2").is_err());
        assert!(Contact::parse("<sip:a@b>;expires=soon").is_err());
        assert!(Contact::parse("<sip:a@b>;expires").is_err());
    }
}
