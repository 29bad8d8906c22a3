//! The Via header value (RFC 3261 §20.42, §18.2.1, RFC 3581 `rport`).

use std::fmt;
use std::net::IpAddr;

use crate::error::Result;
use crate::grammar::{Param, Params, Scanner, is_letters_ignore_case, offset_in, syntax};
use crate::uri::Host;
use crate::uri::host_port;

/// The magic cookie that starts every RFC 3261 branch.
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

/// One Via value: `SIP/2.0/UDP host:port;branch=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// Protocol name, normally `SIP`.
    pub protocol: &'a str,
    /// Protocol version, normally `2.0`.
    pub version: &'a str,
    /// Transport as written (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, `SCTP`, ...).
    pub transport: &'a str,
    /// The `sent-by` host.
    pub host: Host<'a>,
    /// The `sent-by` port, if given.
    pub port: Option<u16>,
    /// All parameters (`branch`, `received`, `rport`, `maddr`, `ttl`, others).
    pub params: Params<'a>,
    /// The well-known parameters, captured and checked while parsing so that reading them
    /// costs nothing.
    known: KnownParams<'a>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct KnownParams<'a> {
    branch: Option<&'a str>,
    received: Option<IpAddr>,
    rport: Option<Rport>,
    maddr: Option<Host<'a>>,
    ttl: Option<u8>,
}

/// The `rport` parameter (RFC 3581).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rport {
    /// `rport` without value: the client asks to be told its source port.
    Requested,
    /// `rport=PORT` filled in by the server.
    Port(u16),
}

impl<'a> Via<'a> {
    /// Parses one Via value (already split at top-level commas; may contain folded LWS).
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let at = sc.pos();
        let (protocol, version) = if value.as_bytes()[at..].starts_with(b"SIP/2.0/") {
            // Nearly every Via: the general path below would find the same two tokens.
            sc.advance(8);
            sc.skip_lws();
            (&value[at..at + 3], &value[at + 4..at + 7])
        } else {
            let protocol = sc.token("protocol name")?;
            sc.separator(b'/', "/ after protocol name")?;
            let version = sc.token("protocol version")?;
            sc.separator(b'/', "/ after protocol version")?;
            (protocol, version)
        };
        let transport = sc.token("transport")?;
        if !sc.skip_lws() {
            return Err(sc.error("white space before sent-by"));
        }
        let host = Host::scan(&mut sc)?;
        let port = host_port(&mut sc, true)?;
        let mut known = KnownParams::default();
        let src = sc.src();
        let params = sc.header_params_visit(|p| check_param(src, p, &mut known))?;
        sc.end("; Via parameter or end of value")?;
        Ok(Via {
            protocol,
            version,
            transport,
            host,
            port,
            params,
            known,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.known.branch
    }

    /// Whether the branch starts with the RFC 3261 magic cookie `z9hG4bK`.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.starts_with(BRANCH_MAGIC_COOKIE))
    }

    /// The `received` parameter as an address.
    pub fn received(&self) -> Option<IpAddr> {
        self.known.received
    }

    /// The `rport` parameter.
    pub fn rport(&self) -> Option<Rport> {
        self.known.rport
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<Host<'a>> {
        self.known.maddr
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.known.ttl
    }

    /// Whether the transport is `t` (case-insensitive).
    pub fn transport_is(&self, t: &str) -> bool {
        self.transport.eq_ignore_ascii_case(t)
    }
}

/// Checks one parameter whose value has a grammar and records the well-known ones
/// (the first occurrence wins, as for `Params::get`).
#[inline]
fn check_param<'a>(src: &str, p: Param<'a>, known: &mut KnownParams<'a>) -> Result<()> {
    let fail = |expected| Err(syntax(offset_in(src, p.value.unwrap_or(p.name)), expected));
    let name = p.name;
    // Dispatch on length first: most parameters are then settled by one comparison.
    let is = |known: &str| is_letters_ignore_case(name, known);
    if is("branch") {
        match p.value {
            Some(v) if known.branch.is_none() => {
                // A quoted branch is taken without its quotes.
                known.branch = Some(if v.starts_with('"') {
                    v.trim_matches('"')
                } else {
                    v
                });
            }
            Some(_) => {}
            None => return fail("branch value"),
        }
    } else if is("received") {
        match p.value.and_then(parse_ip) {
            Some(ip) => {
                known.received.get_or_insert(ip);
            }
            None => return fail("IP address in received"),
        }
    } else if is("rport") {
        let rport = match p.value {
            None => Rport::Requested,
            Some(v) => match v.parse::<u16>() {
                Ok(port) => Rport::Port(port),
                Err(_) => return fail("rport port number"),
            },
        };
        known.rport.get_or_insert(rport);
    } else if is("maddr") {
        match p.value.map(Host::parse) {
            Some(Ok(h)) => {
                known.maddr.get_or_insert(h);
            }
            _ => return fail("host in maddr"),
        }
    } else if is("ttl") {
        match p.value.and_then(|v| v.parse::<u8>().ok()) {
            Some(t) => {
                known.ttl.get_or_insert(t);
            }
            None => return fail("ttl of 0..=255"),
        }
    }
    Ok(())
}

/// `received` holds an IPv4 or IPv6 address; tolerate a bracketed IPv6 reference too.
fn parse_ip(v: &str) -> Option<IpAddr> {
    if let Some((v4, end)) = crate::uri::scan_ipv4(v.as_bytes(), 0) {
        if end == v.len() {
            return Some(IpAddr::V4(v4));
        }
    }
    let v = v
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(v);
    v.parse().ok()
}

impl fmt::Display for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol, self.version, self.transport, self.host
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use std::net::Ipv4Addr;

    #[test]
    fn kamailio_via() {
        let v = Via::parse(
            "SIP/2.0/WS llqujp2dpm9r.invalid;branch=z9hG4bK4186651;rport=41634;received=127.0.0.1",
        )
        .unwrap();
        assert_eq!(v.transport, "WS");
        assert_eq!(v.host, Host::Domain("llqujp2dpm9r.invalid"));
        assert_eq!(v.port, None);
        assert_eq!(v.branch(), Some("z9hG4bK4186651"));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.rport(), Some(Rport::Port(41634)));
        assert_eq!(v.received(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }

    #[test]
    fn folded_and_spaced() {
        // RFC 4475 wsinv.
        let v = Via::parse(" SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!((v.protocol, v.version, v.transport), ("SIP", "2.0", "UDP"));
        assert_eq!(v.host, Host::Ipv4(Ipv4Addr::new(192, 0, 2, 2)));
        assert!(!v.has_rfc3261_branch());
        let v = Via::parse("SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239")
            .unwrap();
        assert_eq!(v.branch(), Some("z9hG4bK30239"));
        // White space after the last slash, and a protocol written in lower case.
        let v = Via::parse("SIP/2.0/ TCP h").unwrap();
        assert_eq!((v.protocol, v.version, v.transport), ("SIP", "2.0", "TCP"));
        let v = Via::parse("sip/2.0/tls h:5061").unwrap();
        assert_eq!((v.protocol, v.version, v.transport), ("sip", "2.0", "tls"));
        let v = Via::parse("SIP/2.0/UDP [2001:db8::9:1] : 5070 ;rport;maddr=[2001:db8::1];ttl=1")
            .unwrap();
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.rport(), Some(Rport::Requested));
        assert_eq!(v.maddr().unwrap().to_string(), "[2001:db8::1]");
        assert_eq!(v.ttl(), Some(1));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP [2001:db8::9:1]:5070;rport;maddr=[2001:db8::1];ttl=1"
        );
    }

    #[test]
    fn refused() {
        assert_eq!(
            Via::parse("SIP/2.0 host"),
            Err(Error::Syntax {
                offset: 7,
                expected: "/ after protocol version"
            })
        );
        assert!(Via::parse("SIP/2.0/UDP").is_err());
        assert!(Via::parse("SIP/2.0/UDP host:99999").is_err());
        assert!(Via::parse("SIP/2.0/UDP host;ttl=300").is_err());
        assert!(Via::parse("SIP/2.0/UDP host;received=example.com").is_err());
        assert!(Via::parse("SIP/2.0/UDP host;branch=a b").is_err());
        assert_eq!(
            Via::parse("SIP/2.0/UDP host;rport=x"),
            Err(Error::Syntax {
                offset: 23,
                expected: "rport port number"
            })
        );
    }
}

#[cfg(test)]
mod rfc5118 {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn ipv6_via_with_and_without_brackets_in_received() {
        // RFC 5118 §4.5: `received` with and without the brackets are both understood.
        for value in [
            "SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111",
            "SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3-111",
        ] {
            let v = Via::parse(value).unwrap();
            assert_eq!(
                v.host,
                Host::Ipv6("2001:db8::9:1".parse::<Ipv6Addr>().unwrap())
            );
            assert_eq!(
                v.received(),
                Some(IpAddr::V6("2001:db8::9:255".parse().unwrap()))
            );
            assert_eq!(v.branch(), Some("z9hG4bKas3-111"));
        }
        // RFC 5118 §4.7: an IPv4 and an IPv6 Via in the same message.
        let v = Via::parse("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111").unwrap();
        assert_eq!(v.port, Some(6050));
        assert!(Via::parse("SIP/2.0/UDP 2001:db8::9:1;branch=z9hG4bKas3-111").is_err());
    }
}
