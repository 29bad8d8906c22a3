//! The host part of SIP URIs and Via headers: a domain name, an IPv4 address or a bracketed
//! IPv6 reference (RFC 3261 §25.1, RFC 5118).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::Result;
use crate::grammar::{Scanner, class, in_class, span_class, syntax};

/// A host: domain name (kept as written), IPv4 address or IPv6 reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A domain name, as written (compare with [`Host::rfc_eq`]: case-insensitive).
    Domain(&'a str),
    /// A dotted-quad IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address, written between `[` and `]`.
    Ipv6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Parses a whole string as a host.
    pub fn parse(s: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(s);
        let host = Self::scan(&mut sc)?;
        if !sc.is_empty() {
            return Err(sc.error("end of host"));
        }
        Ok(host)
    }

    /// Parses a host at the scanner's position and leaves the scanner after it.
    #[inline]
    pub fn scan(sc: &mut Scanner<'a>) -> Result<Self> {
        let start = sc.pos();
        if sc.eat(b'[') {
            let inner = sc.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            if !sc.eat(b']') {
                return Err(sc.error("closing ] of IPv6 reference"));
            }
            return parse_ipv6(inner)
                .map(Host::Ipv6)
                .ok_or(syntax(start + 1, "IPv6 address"));
        }
        let bytes = sc.src().as_bytes();
        // Fast path: a dotted quad that no other host character follows.
        if let Some((ip, end)) = scan_ipv4(bytes, start) {
            if !bytes.get(end).is_some_and(|&b| in_class(b, class::HOST)) {
                sc.advance(end - start);
                return Ok(Host::Ipv4(ip));
            }
        }
        let len = span_class(bytes, start, class::HOST) - start;
        let text = &sc.src()[start..start + len];
        sc.advance(len);
        let bytes = text.as_bytes();
        let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
            return Err(syntax(start, "host"));
        };
        if first.is_ascii_digit() && bytes.iter().all(|&b| b.is_ascii_digit() || b == b'.') {
            // Only digits and dots: an IPv4 address or nothing (the fast path took the
            // well-formed ones).
            return parse_ipv4(bytes)
                .map(Host::Ipv4)
                .ok_or(syntax(start, "IPv4 address"));
        }
        if first == b'.' || first == b'-' || last == b'-' || has_double_dot(bytes) {
            return Err(syntax(start, "domain name"));
        }
        Ok(Host::Domain(text))
    }

    /// The IP address when the host is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        }
    }

    /// Host equality per RFC 3261 §19.1.4: domain names case-insensitive, addresses by value,
    /// and a name never equals an address.
    pub fn rfc_eq(&self, other: &Host<'_>) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a
                .trim_end_matches('.')
                .eq_ignore_ascii_case(b.trim_end_matches('.')),
            (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
            (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

impl From<IpAddr> for Host<'_> {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Host::Ipv4(a),
            IpAddr::V6(a) => Host::Ipv6(a),
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// The text of an IPv6 reference. Also takes the `hexpart ":::" IPv4address` form that the
/// RFC 3261 grammar wrongly allowed (RFC 5118 §4.10 asks implementations to tolerate it),
/// read as `hexpart "::" IPv4address`.
fn parse_ipv6(text: &str) -> Option<Ipv6Addr> {
    if let Ok(a) = text.parse() {
        return Some(a);
    }
    let at = text.find(":::")?;
    let tail = &text[at + 3..];
    if tail.contains(':') || parse_ipv4(tail.as_bytes()).is_none() {
        return None;
    }
    // Drop one colon without allocating: an IPv6 text is at most 45 bytes.
    let mut buf = [0u8; 64];
    let len = text.len() - 1;
    if len > buf.len() {
        return None;
    }
    buf[..at].copy_from_slice(&text.as_bytes()[..at]);
    buf[at..len].copy_from_slice(&text.as_bytes()[at + 1..]);
    std::str::from_utf8(&buf[..len]).ok()?.parse().ok()
}

/// Whether `host` (host characters only) has two dots in a row, eight bytes per step.
#[inline]
fn has_double_dot(host: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const DOTS: u64 = 0x2e2e_2e2e_2e2e_2e2e;
    let mut chunks = host.chunks_exact(8);
    let mut prev_dot = false;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ DOTS;
        // High bit of each byte that is a dot. The zero-byte trick can also flag a byte
        // above a dot that equals `/` (0x2f), which no host character is.
        let dots = x.wrapping_sub(ONES) & !x & HIGHS;
        if dots & (dots >> 8) != 0 || (prev_dot && dots & 0x80 != 0) {
            return true;
        }
        prev_dot = dots >> 63 != 0;
    }
    let rest = chunks.remainder();
    (prev_dot && rest.first() == Some(&b'.')) || rest.windows(2).any(|w| w == b"..")
}

/// A dotted quad starting at `start` of `bytes`: the address and the index just past it.
/// Stops after the fourth number; what follows is the caller's business.
#[inline(always)]
pub(crate) fn scan_ipv4(bytes: &[u8], start: usize) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let mut i = start;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if bytes.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let first = i;
        let mut value = 0u16;
        while i - first < 3 {
            match bytes.get(i) {
                Some(&b) if b.is_ascii_digit() => {
                    value = value * 10 + u16::from(b - b'0');
                    i += 1;
                }
                _ => break,
            }
        }
        if i == first {
            return None;
        }
        *octet = u8::try_from(value).ok()?;
    }
    Some((Ipv4Addr::from(octets), i))
}

/// Dotted-quad IPv4 (`1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT`, each at most 255),
/// faster than the general-purpose std parser on this hot path.
pub(crate) fn parse_ipv4(bytes: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let (mut index, mut value, mut digits) = (0usize, 0u16, 0u8);
    for &b in bytes {
        if b == b'.' {
            if digits == 0 || index == 3 {
                return None;
            }
            octets[index] = u8::try_from(value).ok()?;
            (index, value, digits) = (index + 1, 0, 0);
        } else if b.is_ascii_digit() && digits < 3 {
            value = value * 10 + u16::from(b - b'0');
            digits += 1;
        } else {
            return None;
        }
    }
    if digits == 0 || index != 3 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// Parses `[ ":" port ]` right after a host; `sep_lws` allows white space around the colon
/// (Via `sent-by` uses `COLON = SWS ":" SWS`, URIs do not).
#[inline]
pub(crate) fn scan_port(sc: &mut Scanner<'_>, sep_lws: bool) -> Result<Option<u16>> {
    let found = if sep_lws {
        sc.eat_separator(b':')
    } else {
        sc.eat(b':')
    };
    if !found {
        return Ok(None);
    }
    let start = sc.pos();
    let digits = sc.take_while1(|b| b.is_ascii_digit(), "port")?;
    crate::grammar::parse_u32(digits)
        .and_then(|p| u16::try_from(p).ok())
        .map(Some)
        .ok_or(syntax(start, "port below 65536"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            Host::parse("Example.COM").unwrap(),
            Host::Domain("Example.COM")
        );
        assert_eq!(
            Host::parse("192.0.2.1").unwrap(),
            Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert_eq!(
            Host::parse("[2001:db8::10]").unwrap().to_string(),
            "[2001:db8::10]"
        );
        assert_eq!(
            Host::parse("[::ffff:192.0.2.1]")
                .unwrap()
                .ip()
                .unwrap()
                .to_string(),
            "::ffff:192.0.2.1"
        );
    }

    #[test]
    fn dotted_quads() {
        assert_eq!(
            parse_ipv4(b"255.0.10.1"),
            Some(Ipv4Addr::new(255, 0, 10, 1))
        );
        for bad in [
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.1000",
            "1.2.3.x",
            "",
        ] {
            assert_eq!(parse_ipv4(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn rfc5118_three_colon_bug_is_tolerated() {
        // RFC 5118 §4.10: the RFC 3261 ABNF admits `[2001:db8:::192.0.2.1]`.
        let good = Host::parse("[2001:db8::192.0.2.1]").unwrap();
        assert_eq!(Host::parse("[2001:db8:::192.0.2.1]").unwrap(), good);
        assert!(Host::parse("[2001:db8:::1]").is_err());
        assert!(Host::parse("[2001:db8::::192.0.2.1]").is_err());
    }

    #[test]
    fn refused() {
        assert!(Host::parse("").is_err());
        assert!(Host::parse("[2001:db8::10").is_err());
        assert!(Host::parse("2001:db8::10").is_err());
        assert!(Host::parse("[2001:db8:::10]").is_err());
        assert!(Host::parse("1.2.3.999").is_err());
        assert!(Host::parse("a..b").is_err());
        // Two dots in a row anywhere, across the eight-byte steps of the check too.
        for i in 1..19 {
            let mut name = "a".repeat(20).into_bytes();
            name[i] = b'.';
            name[i + 1] = b'.';
            let name = String::from_utf8(name).unwrap();
            assert!(Host::parse(&name).is_err(), "{name}");
            assert!(Host::parse(&name.replacen("..", ".b", 1)).is_ok(), "{name}");
        }
        // A dotted quad followed by more host characters is a domain name or an error.
        assert_eq!(Host::parse("1.2.3.4a").unwrap(), Host::Domain("1.2.3.4a"));
        assert!(Host::parse("1.2.3.4.").is_err());
        assert!(Host::parse("1.2.3.45678").is_err());
        // Two dots inside a leading run of digits, then letters.
        assert!(Host::parse("1..2a").is_err());
        assert!(Host::parse("-a.b").is_err());
        assert!(Host::parse("a.b-").is_err());
        assert_eq!(
            Host::parse("10.0.0.1.example.com").unwrap(),
            Host::Domain("10.0.0.1.example.com")
        );
    }

    #[test]
    fn equality() {
        assert!(Host::Domain("AtLanTa.CoM").rfc_eq(&Host::Domain("atlanta.com")));
        assert!(
            !Host::Domain("phone21.boxesbybob.com")
                .rfc_eq(&Host::Ipv4(Ipv4Addr::new(192, 0, 2, 4)))
        );
    }
}
