//! Content-Type (RFC 3261 §20.15) and Accept media ranges (§20.1).

use std::fmt;

use super::contact::QValue;
use crate::error::Result;
use crate::grammar::{Params, Scanner, syntax};

/// `Content-Type: application/sdp;charset=utf-8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentType<'a> {
    /// Top-level type (`application`).
    pub media_type: &'a str,
    /// Subtype (`sdp`).
    pub subtype: &'a str,
    /// Parameters (`charset`, `boundary`, ...).
    pub params: Params<'a>,
}

impl<'a> ContentType<'a> {
    /// Parses a Content-Type value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let media_type = sc.token("media type")?;
        sc.separator(b'/', "/ between type and subtype")?;
        let subtype = sc.token("media subtype")?;
        let params = sc.header_params()?;
        sc.end("; parameter or end of value")?;
        Ok(ContentType {
            media_type,
            subtype,
            params,
        })
    }

    /// Whether this is `type/subtype` (case-insensitive).
    pub fn is(&self, media_type: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type)
            && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

impl fmt::Display for ContentType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.media_type, self.subtype, self.params)
    }
}

/// One Accept element: a media range (`*/*`, `application/*`, `application/sdp`) with
/// parameters and an optional `q`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaRange<'a> {
    /// Type or `*`.
    pub media_type: &'a str,
    /// Subtype or `*`.
    pub subtype: &'a str,
    /// Parameters including `q`.
    pub params: Params<'a>,
}

impl<'a> MediaRange<'a> {
    /// Parses one Accept element (already split at commas).
    pub fn parse(value: &'a str) -> Result<Self> {
        let ct = ContentType::parse(value)?;
        if ct.media_type == "*" && ct.subtype != "*" {
            return Err(syntax(0, "*/* or type/*"));
        }
        if let Some(q) = ct.params.get("q") {
            if q.value.and_then(QValue::parse).is_none() {
                return Err(syntax(
                    crate::grammar::offset_in(value, q.value.unwrap_or(q.name)),
                    "q value between 0 and 1",
                ));
            }
        }
        Ok(MediaRange {
            media_type: ct.media_type,
            subtype: ct.subtype,
            params: ct.params,
        })
    }

    /// The `q` parameter (1 when absent).
    pub fn q(&self) -> QValue {
        self.params
            .value("q")
            .and_then(QValue::parse)
            .unwrap_or(QValue::MAX)
    }

    /// Whether this range accepts `media_type/subtype`.
    pub fn matches(&self, media_type: &str, subtype: &str) -> bool {
        (self.media_type == "*" || self.media_type.eq_ignore_ascii_case(media_type))
            && (self.subtype == "*" || self.subtype.eq_ignore_ascii_case(subtype))
    }
}

impl fmt::Display for MediaRange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.media_type, self.subtype, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type() {
        let c = ContentType::parse("multipart/mixed;boundary=\"unique-boundary-1\"").unwrap();
        assert!(c.is("Multipart", "MIXED"));
        assert_eq!(c.params.value("boundary"), Some("unique-boundary-1"));
        assert_eq!(
            c.to_string(),
            "multipart/mixed;boundary=\"unique-boundary-1\""
        );
        assert!(ContentType::parse("application").is_err());
        assert!(ContentType::parse("application/sdp x").is_err());
    }

    #[test]
    fn accept() {
        let m = MediaRange::parse("application/* ;q=0.5").unwrap();
        assert!(m.matches("application", "sdp"));
        assert_eq!(m.q().thousandths(), 500);
        assert_eq!(MediaRange::parse("*/*").unwrap().q(), QValue::MAX);
        assert!(MediaRange::parse("*/sdp").is_err());
        assert!(MediaRange::parse("text/plain;q=7").is_err());
    }
}
