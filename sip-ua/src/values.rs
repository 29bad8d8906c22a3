//! Typed views of the header values the core reads and edits: Via, name-addr (From/To/Contact),
//! CSeq, parameters and URI parts, as owned values the core can rewrite (sip-proto's views
//! borrow the parsed message).
//!
//! Each parser is lenient about white space and strict about structure, and returns `None`
//! rather than guessing: the core answers a request it cannot read with 400 and drops a
//! response it cannot read.

use std::fmt;

use crate::message::Method;

/// Splits a list header value at top-level commas (never inside quotes or `<>`), trimmed.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    split_top_level(value, ',')
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Splits at `sep` outside double quotes and angle brackets.
pub(crate) fn split_top_level(value: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut angle = 0u32;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle += 1,
            '>' if !quoted => angle = angle.saturating_sub(1),
            c if c == sep && !quoted && angle == 0 => {
                parts.push(&value[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// Looks up parameter `name` (case-insensitive) in a `;a=b;c` list. `Some(None)` for a
/// parameter without a value; quotes around a value are removed.
pub fn param<'a>(params: &'a str, name: &str) -> Option<Option<&'a str>> {
    split_top_level(params, ';').into_iter().find_map(|p| {
        let p = p.trim();
        let (key, value) = match p.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim()))),
            None => (p, None),
        };
        key.eq_ignore_ascii_case(name).then_some(value)
    })
}

/// Removes surrounding double quotes (without unescaping: the values the core reads never
/// need it).
pub fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// One Via value: `SIP/2.0/WS host:port;branch=z9hG4bK...;rport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// The transport token (`UDP`, `WS` ...).
    pub transport: String,
    /// `host[:port]` as written.
    pub sent_by: String,
    /// The parameters after the sent-by, starting with `;` (or empty).
    pub params: String,
}

impl Via {
    /// Parses one Via value.
    pub fn parse(value: &str) -> Option<Via> {
        let value = value.trim();
        let (protocol, rest) = value.split_once(|c: char| c.is_ascii_whitespace())?;
        let mut parts = protocol.split('/').map(str::trim);
        let (name, version, transport) = (parts.next()?, parts.next()?, parts.next()?);
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" || transport.is_empty() {
            return None;
        }
        let rest = rest.trim_start();
        let (sent_by, params) = match rest.find(';') {
            Some(i) => (rest[..i].trim(), &rest[i..]),
            None => (rest.trim(), ""),
        };
        if sent_by.is_empty() {
            return None;
        }
        Some(Via {
            transport: transport.to_ascii_uppercase(),
            sent_by: sent_by.to_owned(),
            params: params.to_owned(),
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        param(&self.params, "branch").flatten()
    }

    /// Whether the branch has the RFC 3261 magic cookie (else RFC 2543 matching applies).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&str> {
        param(&self.params, "received").flatten()
    }

    /// The `rport` parameter's value, when the server filled it in.
    pub fn rport(&self) -> Option<u16> {
        param(&self.params, "rport")
            .flatten()
            .and_then(|p| p.parse().ok())
    }
}

/// A name-addr or addr-spec with parameters: From, To, Contact, Route, Refer-To.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name without quotes, if any.
    pub display: Option<String>,
    /// The URI.
    pub uri: String,
    /// Header parameters after the URI, starting with `;` (or empty).
    pub params: String,
}

impl NameAddr {
    /// A bare URI without display name or parameters.
    pub fn new(uri: impl Into<String>) -> NameAddr {
        NameAddr {
            display: None,
            uri: uri.into(),
            params: String::new(),
        }
    }

    /// Parses `"Name" <uri>;params`, `Name <uri>;params` or `uri;params`.
    pub fn parse(value: &str) -> Option<NameAddr> {
        let value = value.trim();
        if let Some(open) = find_unquoted(value, '<') {
            let close = open + value[open..].find('>')?;
            let display = value[..open].trim();
            let display = unquote(display).trim();
            let uri = value[open + 1..close].trim();
            if uri.is_empty() {
                return None;
            }
            Some(NameAddr {
                display: (!display.is_empty()).then(|| display.replace("\\\"", "\"")),
                uri: uri.to_owned(),
                params: value[close + 1..].trim().to_owned(),
            })
        } else {
            // addr-spec form: parameters after the URI belong to the header (§20.10).
            let (uri, params) = match value.find(';') {
                Some(i) => (&value[..i], &value[i..]),
                None => (value, ""),
            };
            (!uri.is_empty() && uri.contains(':')).then(|| NameAddr {
                display: None,
                uri: uri.trim().to_owned(),
                params: params.to_owned(),
            })
        }
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    /// A header parameter.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        param(&self.params, name)
    }

    /// This value with `tag` set (replacing an existing one).
    pub fn with_tag(mut self, tag: &str) -> NameAddr {
        let kept: Vec<&str> = split_top_level(&self.params, ';')
            .into_iter()
            .map(str::trim)
            .filter(|p| {
                !p.is_empty()
                    && !p
                        .split('=')
                        .next()
                        .is_some_and(|k| k.trim().eq_ignore_ascii_case("tag"))
            })
            .collect();
        let mut params = String::new();
        for p in kept {
            params.push(';');
            params.push_str(p);
        }
        params.push_str(";tag=");
        params.push_str(tag);
        self.params = params;
        self
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(display) = &self.display {
            write!(f, "\"{}\" ", display.replace('"', "\\\""))?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

fn find_unquoted(value: &str, needle: char) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quoted {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == needle && !quoted {
            return Some(i);
        }
    }
    None
}

/// A CSeq value: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number (below 2^31 by RFC 3261 §8.1.1.5).
    pub seq: u32,
    /// The method.
    pub method: Method,
}

impl CSeq {
    /// Parses `123 INVITE`.
    pub fn parse(value: &str) -> Option<CSeq> {
        let mut parts = value.split_ascii_whitespace();
        let seq = parts.next()?.parse().ok()?;
        let method = Method::parse(parts.next()?);
        parts.next().is_none().then_some(CSeq { seq, method })
    }
}

/// The user and host of a SIP URI (`sip:101@example.com;transport=ws` → `101`, `example.com`).
pub fn uri_user_host(uri: &str) -> Option<(Option<&str>, &str)> {
    let rest = uri
        .strip_prefix("sips:")
        .or_else(|| uri.strip_prefix("sip:"))
        .or_else(|| uri.strip_prefix("SIP:"))
        .or_else(|| uri.strip_prefix("SIPS:"))?;
    let rest = rest.split([';', '?']).next().unwrap_or(rest);
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((userinfo, hostport)) => (
            Some(userinfo.split(':').next().unwrap_or(userinfo)),
            hostport,
        ),
        None => (None, rest),
    };
    let host = if hostport.starts_with('[') {
        hostport.split_inclusive(']').next().unwrap_or(hostport)
    } else {
        hostport.split(':').next().unwrap_or(hostport)
    };
    (!host.is_empty()).then_some((user, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_params() {
        let v = Via::parse(
            "SIP/2.0/ws  df7jal23ls0d.invalid;rport=5060;branch=z9hG4bK776;received=1.2.3.4",
        )
        .unwrap();
        assert_eq!(v.transport, "WS");
        assert_eq!(v.sent_by, "df7jal23ls0d.invalid");
        assert_eq!(v.branch(), Some("z9hG4bK776"));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.rport(), Some(5060));
        assert_eq!(v.received(), Some("1.2.3.4"));
        assert!(Via::parse("SIP/3.0/UDP h").is_none());
        assert!(Via::parse("garbage").is_none());
    }

    #[test]
    fn name_addr_forms() {
        let n =
            NameAddr::parse("\"Front, \\\"Door\\\"\" <sip:door@h;transport=ws>;tag=abc;x").unwrap();
        assert_eq!(n.display.as_deref(), Some("Front, \"Door\""));
        assert_eq!(n.uri, "sip:door@h;transport=ws");
        assert_eq!(n.tag(), Some("abc"));
        assert_eq!(n.param("x"), Some(None));
        let n = NameAddr::parse("sip:bob@biloxi.com;tag=9").unwrap();
        assert_eq!((n.uri.as_str(), n.tag()), ("sip:bob@biloxi.com", Some("9")));
        let n = NameAddr::new("sip:a@b").with_tag("t1").with_tag("t2");
        assert_eq!(n.to_string(), "<sip:a@b>;tag=t2");
        assert!(NameAddr::parse("<>").is_none());
    }

    #[test]
    fn list_split_respects_quotes_and_brackets() {
        let parts: Vec<_> = split_list("<sip:a@b;x=\"1,2\">, \"c, d\" <sip:c@d>,sip:e@f").collect();
        assert_eq!(
            parts,
            ["<sip:a@b;x=\"1,2\">", "\"c, d\" <sip:c@d>", "sip:e@f"]
        );
    }

    #[test]
    fn cseq_and_uri_parts() {
        assert_eq!(
            CSeq::parse("  42 INVITE "),
            Some(CSeq {
                seq: 42,
                method: Method::Invite
            })
        );
        assert!(CSeq::parse("x INVITE").is_none());
        assert!(CSeq::parse("1 INVITE extra").is_none());
        assert_eq!(
            uri_user_host("sip:101@example.com:5060;transport=ws"),
            Some((Some("101"), "example.com"))
        );
        assert_eq!(uri_user_host("sips:[::1]:5061"), Some((None, "[::1]")));
        assert_eq!(uri_user_host("tel:+1"), None);
    }
}
