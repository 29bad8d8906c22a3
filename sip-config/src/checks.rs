//! Semantic rules shared by both formats: URLs, DTMF digits, phonebook and auto-answer lists.

use url::Url;

use crate::issue::{Issue, JsonPath};
use crate::phone::{CallerPattern, IceServer, PhonebookEntry};

/// Parses a signalling URL and checks its scheme: `ws`/`wss` (RFC 7118), or `sip`/`sips` URIs for
/// UDP/TCP/TLS.
pub(crate) fn transport_url(raw: &str, path: &JsonPath, out: &mut Vec<Issue>) -> Option<String> {
    const EXPECTED: &str = "a ws:// or wss:// URL (or a sip:/sips: URI for UDP/TCP/TLS)";
    let url = match Url::parse(raw) {
        Ok(u) => u,
        Err(e) => {
            out.push(Issue::error(
                path,
                format!("{raw:?}, which is not a URL ({e})"),
                EXPECTED,
            ));
            return None;
        }
    };
    match url.scheme() {
        "ws" | "wss" if url.host_str().is_some_and(|h| !h.is_empty()) => Some(url.to_string()),
        "sip" | "sips" if raw.contains('@') || !url.path().is_empty() => Some(raw.to_owned()),
        "http" | "https" => {
            let fixed = raw.replacen("http", "ws", 1);
            out.push(
                Issue::error(
                    path,
                    format!("{raw:?} ({}:// is not a WebSocket scheme)", url.scheme()),
                    EXPECTED,
                )
                .suggest(Some(fixed)),
            );
            None
        }
        other => {
            out.push(Issue::error(
                path,
                format!("{raw:?} (scheme `{other}`)"),
                EXPECTED,
            ));
            None
        }
    }
}

/// The host of a URL without its port (the SIP domain default); IPv6 keeps its brackets, as a
/// SIP URI needs them.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    if let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) {
        return Some(host.to_owned());
    }
    // `sip:`/`sips:` URIs are opaque to the URL parser: take `[user@]host[:port][;params]`.
    let rest = url.split_once(':')?.1;
    let hostport = rest.split([';', '?']).next()?;
    let hostport = hostport.rsplit_once('@').map_or(hostport, |(_, h)| h);
    let host = match hostport.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => hostport.split(':').next()?.to_owned(),
    };
    (!host.is_empty() && host != "[]").then_some(host)
}

/// Checks the URLs and credentials of one ICE server.
pub(crate) fn ice_server(server: &IceServer, path: &JsonPath, out: &mut Vec<Issue>) {
    for (i, u) in server.urls.iter().enumerate() {
        let scheme = u.split(':').next().unwrap_or_default();
        let p = if server.urls.len() == 1 {
            path.key("urls")
        } else {
            path.key("urls").index(i)
        };
        if !matches!(scheme, "stun" | "stuns" | "turn" | "turns") || u.len() <= scheme.len() + 1 {
            out.push(Issue::error(
                &p,
                format!("{u:?}"),
                "a stun:, stuns:, turn: or turns: URL such as `stun:stun.l.google.com:19302`",
            ));
        }
    }
    if server.is_turn() {
        if server.username.as_deref().is_none_or(str::is_empty) {
            out.push(Issue::error(
                &path.key("username"),
                "nothing",
                "a TURN user name (browsers reject TURN servers without one)",
            ));
        }
        if server.credential.as_ref().is_none_or(|c| c.is_empty()) {
            out.push(Issue::error(
                &path.key("credential"),
                "nothing",
                "a TURN credential",
            ));
        }
    }
}

/// Checks DTMF digits: `0-9`, `A-D`, `#`, `*` and `,` (a pause).
pub(crate) fn dtmf_digits(raw: &str, path: &JsonPath, out: &mut Vec<Issue>) -> bool {
    let valid = |c: char| c.is_ascii_digit() || matches!(c, 'A'..='D' | '#' | '*' | ',');
    if !raw.is_empty() && raw.chars().all(valid) {
        return true;
    }
    let upper = raw.to_ascii_uppercase();
    let suggestion = (!raw.is_empty() && upper.chars().all(valid)).then_some(upper);
    let found = if raw.is_empty() {
        "an empty string".to_owned()
    } else {
        format!("{raw:?}")
    };
    out.push(
        Issue::error(
            path,
            found,
            "DTMF digits from 0-9, A-D, #, * and `,` (a pause)",
        )
        .suggest(suggestion),
    );
    false
}

/// Parses a phonebook: one address, or `number=name` pairs separated by commas, each trimmed.
pub(crate) fn phonebook(raw: &str, path: &JsonPath, out: &mut Vec<Issue>) -> Vec<PhonebookEntry> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Vec::new();
    }
    if !raw.contains('=') && !raw.contains(',') {
        return vec![PhonebookEntry::new(raw, None)];
    }
    let mut entries = Vec::new();
    for (i, part) in raw.split(',').enumerate() {
        let part = part.trim();
        match part.split_once('=') {
            Some((number, name)) if !number.trim().is_empty() => {
                let name = name.trim();
                entries.push(PhonebookEntry::new(
                    number.trim(),
                    (!name.is_empty()).then(|| name.to_owned()),
                ));
            }
            _ => out.push(Issue::error(
                path,
                format!("entry {} {part:?}", i + 1),
                "`number=name` pairs separated by commas, or one address",
            )),
        }
    }
    entries
}

/// Parses an openHAB `autoAnswer` list: `user` and `user@host` items separated by commas.
pub(crate) fn callers(raw: &str, path: &JsonPath, out: &mut Vec<Issue>) -> Vec<CallerPattern> {
    let mut callers = Vec::new();
    for (i, part) in raw.split(',').enumerate() {
        let part = part.trim();
        let pattern = match part.split_once('@') {
            Some((u, h)) if !u.is_empty() && !h.is_empty() => {
                Some(CallerPattern::new(u, Some(h.to_owned())))
            }
            None if !part.is_empty() => Some(CallerPattern::new(part, None)),
            _ => None,
        };
        match pattern {
            Some(p) => callers.push(p),
            None => out.push(Issue::error(
                path,
                format!("item {} {part:?}", i + 1),
                "`*`, or `user` and `user@host` items separated by commas",
            )),
        }
    }
    callers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_schemes() {
        let p = JsonPath::root().key("u");
        let mut out = Vec::new();
        assert_eq!(
            transport_url("wss://pbx.lan:8089/ws", &p, &mut out).as_deref(),
            Some("wss://pbx.lan:8089/ws")
        );
        assert!(transport_url("sip:pbx.lan;transport=tcp", &p, &mut out).is_some());
        assert!(out.is_empty());
        assert!(transport_url("https://pbx.lan/ws", &p, &mut out).is_none());
        assert_eq!(out[0].suggestion.as_deref(), Some("wss://pbx.lan/ws"));
        assert!(transport_url("ftp://x", &p, &mut out).is_none());
        assert_eq!(url_host("wss://[::1]:8089/ws").as_deref(), Some("[::1]"));
        assert_eq!(
            url_host("sip:pbx.lan:5060;transport=tcp").as_deref(),
            Some("pbx.lan")
        );
        assert_eq!(
            url_host("sips:edge@[fd00::1]:5061").as_deref(),
            Some("[fd00::1]")
        );
        assert_eq!(url_host("sip:;transport=udp"), None);
    }

    #[test]
    fn phonebook_is_trimmed() {
        let mut out = Vec::new();
        let p = JsonPath::root();
        let book = phonebook(" 100 = Door , 200=Kitchen", &p, &mut out);
        assert_eq!(
            book,
            vec![
                PhonebookEntry::new("100", Some("Door".into())),
                PhonebookEntry::new("200", Some("Kitchen".into()))
            ]
        );
        assert_eq!(
            phonebook(" sip:door@pbx ", &p, &mut out),
            vec![PhonebookEntry::new("sip:door@pbx", None)]
        );
        assert!(out.is_empty());
        phonebook("100=A,,200", &p, &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn dtmf_rules() {
        let mut out = Vec::new();
        let p = JsonPath::root();
        assert!(dtmf_digits("12#*,A", &p, &mut out));
        assert!(!dtmf_digits("1a", &p, &mut out));
        assert_eq!(out[0].suggestion.as_deref(), Some("1A"));
        assert!(!dtmf_digits("open", &p, &mut out));
        assert_eq!(out[1].suggestion, None);
    }
}
